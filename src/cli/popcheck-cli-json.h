/* popcheck-cli-json.h: a small JSON writer for popcheck-cli's output
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * popcheck-cli prints one JSON object per line and must not pull in a JSON
 * library for that, so this writer does just enough: objects, arrays,
 * strings, unsigned integers and booleans, with commas placed for the
 * caller.  Strings are always emitted as valid UTF-8.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _PopcheckJson PopcheckJson;

PopcheckJson *popcheck_json_new           (void);
void          popcheck_json_free          (PopcheckJson *json);

void          popcheck_json_begin_object  (PopcheckJson *json);
void          popcheck_json_end_object    (PopcheckJson *json);
void          popcheck_json_begin_array   (PopcheckJson *json);
void          popcheck_json_end_array     (PopcheckJson *json);
void          popcheck_json_key           (PopcheckJson *json,
                                           const char   *key);
void          popcheck_json_string        (PopcheckJson *json,
                                           const char   *value);
void          popcheck_json_string_len    (PopcheckJson *json,
                                           const char   *value,
                                           gssize        len);
void          popcheck_json_uint          (PopcheckJson *json,
                                           guint64       value);
void          popcheck_json_boolean       (PopcheckJson *json,
                                           gboolean      value);
void          popcheck_json_null          (PopcheckJson *json);

/* Shorthands for "key": value inside an object. */
void          popcheck_json_member_string  (PopcheckJson *json,
                                            const char   *key,
                                            const char   *value);
void          popcheck_json_member_uint    (PopcheckJson *json,
                                            const char   *key,
                                            guint64       value);
void          popcheck_json_member_boolean (PopcheckJson *json,
                                            const char   *key,
                                            gboolean      value);

/* The text written so far; valid JSON once every container is closed. */
const char   *popcheck_json_get_text      (PopcheckJson *json);

/* Appends @str (@len bytes, or up to NUL when -1) to @out as a quoted JSON
 * string. */
void          popcheck_json_append_escaped (GString    *out,
                                            const char *str,
                                            gssize      len);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PopcheckJson, popcheck_json_free)

G_END_DECLS
