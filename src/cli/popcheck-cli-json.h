/* popcheck-cli-json.h: popcheck-cli's JSON output, built with json-glib
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each answer is a JsonBuilder object written as one line.  These helpers
 * add what json-glib leaves to the caller: strings made valid UTF-8, NULL
 * as null, unsigned numbers, a line in which every control character is
 * escaped as \u00XX (as popcheck-cli has always written them), and long
 * arrays written one element at a time.
 */

#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* A string value; NULL adds null.  Bytes that are not UTF-8 are replaced,
 * as they would make the whole line unparseable. */
void      popcheck_cli_json_add_string    (JsonBuilder *builder,
                                           const char  *value);
void      popcheck_cli_json_add_uint      (JsonBuilder *builder,
                                           guint64      value);

/* A member name from elsewhere (a server's capability), made valid
 * UTF-8 like a string value. */
void      popcheck_cli_json_set_key       (JsonBuilder *builder,
                                           const char  *key);

/* "key": value inside an object. */
void      popcheck_cli_json_set_string    (JsonBuilder *builder,
                                           const char  *key,
                                           const char  *value);
void      popcheck_cli_json_set_uint      (JsonBuilder *builder,
                                           const char  *key,
                                           guint64      value);
void      popcheck_cli_json_set_boolean   (JsonBuilder *builder,
                                           const char  *key,
                                           gboolean     value);

/* Adds element @index of an array to @builder, which is empty. */
typedef void (*PopcheckCliJsonElementFunc) (JsonBuilder *builder,
                                            guint        index,
                                            gpointer     user_data);

/* Writes the object of @builder, built and closed, as one line with one
 * more member last: the array @key (a plain ASCII name) of @n_elements,
 * which @add_element builds one at a time.  Each element is generated
 * and written before the next is built, so that a listing of a million
 * messages never becomes a tree in memory. */
void      popcheck_cli_json_write_line_with_array
                                          (JsonBuilder                *builder,
                                           const char                 *key,
                                           guint                       n_elements,
                                           PopcheckCliJsonElementFunc  add_element,
                                           gpointer                    user_data);

/* The builder's root as one line of JSON, without the newline. */
char     *popcheck_cli_json_to_line       (JsonBuilder *builder);
/* The same, written to standard output with its newline. */
void      popcheck_cli_json_write_line    (JsonBuilder *builder);

G_END_DECLS
