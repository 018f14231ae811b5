/* popcheck-cli-json.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "popcheck-cli"

#include "config.h"

#include <string.h>

#include "popcheck-cli.h"
#include "popcheck-cli-json.h"

void
popcheck_cli_json_add_string (JsonBuilder *builder,
                              const char  *value)
{
  g_autofree char *valid = NULL;

  if (value == NULL)
    {
      json_builder_add_null_value (builder);
      return;
    }

  /* Server text reaches us already made valid, but json-glib writes
   * strings byte for byte, and a stray byte would make the whole line
   * unparseable, so check anyway. */
  if (!g_utf8_validate (value, -1, NULL))
    value = valid = g_utf8_make_valid (value, -1);

  json_builder_add_string_value (builder, value);
}

void
popcheck_cli_json_add_uint (JsonBuilder *builder,
                            guint64      value)
{
  /* json-glib's numbers are gint64.  Only a server can claim a size above
   * that (8 EiB), and it cannot be true. */
  json_builder_add_int_value (builder, (gint64) MIN (value, G_MAXINT64));
}

void
popcheck_cli_json_set_key (JsonBuilder *builder,
                           const char  *key)
{
  g_autofree char *valid = NULL;

  if (!g_utf8_validate (key, -1, NULL))
    key = valid = g_utf8_make_valid (key, -1);

  json_builder_set_member_name (builder, key);
}

void
popcheck_cli_json_set_string (JsonBuilder *builder,
                              const char  *key,
                              const char  *value)
{
  json_builder_set_member_name (builder, key);
  popcheck_cli_json_add_string (builder, value);
}

void
popcheck_cli_json_set_uint (JsonBuilder *builder,
                            const char  *key,
                            guint64      value)
{
  json_builder_set_member_name (builder, key);
  popcheck_cli_json_add_uint (builder, value);
}

void
popcheck_cli_json_set_boolean (JsonBuilder *builder,
                               const char  *key,
                               gboolean     value)
{
  json_builder_set_member_name (builder, key);
  json_builder_add_boolean_value (builder, value);
}

/* The \uXXXX form of what json-glib writes as \b, \f, \n, \r or \t; 0
 * for the escapes it keeps. */
static guchar
short_escape_code (char c)
{
  switch (c)
    {
    case 'b':
      return '\b';
    case 'f':
      return '\f';
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    default:
      return 0;
    }
}

static gboolean
needs_rewrite (const char *text,
               gsize       len)
{
  for (gsize i = 0; i < len; i++)
    {
      guchar c = (guchar) text[i];

      if (c == '\\' || c < 0x20 || c == 0xc2)
        return TRUE;
    }

  return FALSE;
}

/* json-glib 1.6 leaves U+001F raw (its test is "< 0x1f"), which no JSON
 * parser accepts, and C1 controls (U+0080 to U+009F) raw, which some
 * terminals obey as they do ESC: CSI (U+009B) is ESC [.  Every control
 * is written as \u00XX here, the short escapes too, as popcheck-cli has
 * always written them.  Outside strings the generator writes no control
 * and no backslash, so the whole text can be rewritten. */
static char *
escape_controls (char  *text,
                 gsize  len)
{
  GString *out;
  const char *end = text + len;

  if (!needs_rewrite (text, len))
    return text;

  out = g_string_sized_new (len + 16);
  for (const char *p = text; p < end; p++)
    {
      guchar c = (guchar) *p;

      if (c == '\\' && p + 1 < end)
        {
          guchar code = short_escape_code (p[1]);

          if (code != 0)
            g_string_append_printf (out, "\\u%04x", code);
          else
            g_string_append_len (out, p, 2);
          p++;
        }
      else if (c < 0x20)
        {
          g_string_append_printf (out, "\\u%04x", c);
        }
      else if (c == 0xc2 && p + 1 < end && (guchar) p[1] >= 0x80 &&
               (guchar) p[1] <= 0x9f)
        {
          p++;
          g_string_append_printf (out, "\\u%04x", (guchar) *p);
        }
      else
        {
          g_string_append_c (out, c);
        }
    }

  g_free (text);
  return g_string_free (out, FALSE);
}

static char *
generate (JsonGenerator *generator,
          JsonBuilder   *builder)
{
  g_autoptr(JsonNode) root = json_builder_get_root (builder);
  char *text;
  gsize len;

  g_return_val_if_fail (root != NULL, NULL);

  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, &len);

  return escape_controls (text, len);
}

char *
popcheck_cli_json_to_line (JsonBuilder *builder)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();

  return generate (generator, builder);
}

void
popcheck_cli_json_write_line_with_array (JsonBuilder                *builder,
                                         const char                 *key,
                                         guint                       n_elements,
                                         PopcheckCliJsonElementFunc  add_element,
                                         gpointer                    user_data)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonBuilder) element = json_builder_new ();
  g_autofree char *head = generate (generator, builder);
  g_autofree char *member = NULL;
  gsize len = strlen (head);

  g_return_if_fail (len >= 2 && head[0] == '{' && head[len - 1] == '}');

  /* The object without its closing brace, then the array, member by
   * member as the generator would have written it. */
  popcheck_cli_write (head, len - 1);
  member = g_strdup_printf ("%s\"%s\":[", len > 2 ? "," : "", key);
  popcheck_cli_write (member, strlen (member));

  for (guint i = 0; i < n_elements; i++)
    {
      g_autofree char *text = NULL;

      json_builder_reset (element);
      add_element (element, i, user_data);
      text = generate (generator, element);
      if (i > 0)
        popcheck_cli_write (",", 1);
      popcheck_cli_write (text, strlen (text));
    }

  popcheck_cli_write ("]}\n", 3);
}

void
popcheck_cli_json_write_line (JsonBuilder *builder)
{
  g_autofree char *line = popcheck_cli_json_to_line (builder);

  popcheck_cli_write_line (line);
}
