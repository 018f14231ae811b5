/* popcheck-cli-json.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "popcheck-cli"

#include "config.h"

#include <string.h>

#include "popcheck-cli-json.h"

struct _PopcheckJson
{
  GString *text;
  /* One entry per open container: TRUE once it holds a value, so the next
   * value needs a comma before it. */
  GArray  *has_value;
  /* Set between a key and its value, which takes no comma. */
  gboolean after_key;
};

PopcheckJson *
popcheck_json_new (void)
{
  PopcheckJson *json = g_new0 (PopcheckJson, 1);

  json->text = g_string_new (NULL);
  json->has_value = g_array_new (FALSE, FALSE, sizeof (gboolean));

  return json;
}

void
popcheck_json_free (PopcheckJson *json)
{
  if (json == NULL)
    return;

  g_string_free (json->text, TRUE);
  g_array_unref (json->has_value);
  g_free (json);
}

void
popcheck_json_append_escaped (GString    *out,
                              const char *str,
                              gssize      len)
{
  g_autofree char *valid = NULL;
  const char *end;

  if (len < 0)
    len = strlen (str);

  /* Server text reaches us already made valid, but a stray byte here
   * would make the whole line unparseable, so check anyway. */
  if (!g_utf8_validate_len (str, len, NULL))
    {
      valid = g_utf8_make_valid (str, len);
      str = valid;
      len = strlen (valid);
    }

  g_string_append_c (out, '"');
  end = str + len;
  for (const char *p = str; p < end; p++)
    {
      guchar c = (guchar) *p;

      if (c == '"' || c == '\\')
        {
          g_string_append_c (out, '\\');
          g_string_append_c (out, c);
        }
      else if (c < 0x20 || c == 0x7f)
        {
          g_string_append_printf (out, "\\u%04x", c);
        }
      else if (c == 0xc2 && p + 1 < end && (guchar) p[1] >= 0x80 &&
               (guchar) p[1] <= 0x9f)
        {
          /* A C1 control (U+0080 to U+009F, in UTF-8 0xC2 then the code):
           * some terminals obey CSI (U+009B) as they do ESC [. */
          p++;
          g_string_append_printf (out, "\\u%04x", (guchar) *p);
        }
      else
        {
          g_string_append_c (out, c);
        }
    }
  g_string_append_c (out, '"');
}

static void
before_value (PopcheckJson *json)
{
  gboolean *has_value;

  if (json->after_key)
    {
      json->after_key = FALSE;
      return;
    }

  if (json->has_value->len == 0)
    return;

  has_value = &g_array_index (json->has_value, gboolean,
                              json->has_value->len - 1);
  if (*has_value)
    g_string_append_c (json->text, ',');
  *has_value = TRUE;
}

static void
open_container (PopcheckJson *json,
                char          bracket)
{
  gboolean empty = FALSE;

  before_value (json);
  g_string_append_c (json->text, bracket);
  g_array_append_val (json->has_value, empty);
}

static void
close_container (PopcheckJson *json,
                 char          bracket)
{
  g_return_if_fail (json->has_value->len > 0);
  g_return_if_fail (!json->after_key);

  g_array_set_size (json->has_value, json->has_value->len - 1);
  g_string_append_c (json->text, bracket);
}

void
popcheck_json_begin_object (PopcheckJson *json)
{
  open_container (json, '{');
}

void
popcheck_json_end_object (PopcheckJson *json)
{
  close_container (json, '}');
}

void
popcheck_json_begin_array (PopcheckJson *json)
{
  open_container (json, '[');
}

void
popcheck_json_end_array (PopcheckJson *json)
{
  close_container (json, ']');
}

void
popcheck_json_key (PopcheckJson *json,
                   const char   *key)
{
  g_return_if_fail (key != NULL);
  g_return_if_fail (json->has_value->len > 0);
  g_return_if_fail (!json->after_key);

  before_value (json);
  popcheck_json_append_escaped (json->text, key, -1);
  g_string_append_c (json->text, ':');
  json->after_key = TRUE;
}

void
popcheck_json_string_len (PopcheckJson *json,
                          const char   *value,
                          gssize        len)
{
  if (value == NULL)
    {
      popcheck_json_null (json);
      return;
    }

  before_value (json);
  popcheck_json_append_escaped (json->text, value, len);
}

void
popcheck_json_string (PopcheckJson *json,
                      const char   *value)
{
  popcheck_json_string_len (json, value, -1);
}

void
popcheck_json_uint (PopcheckJson *json,
                    guint64       value)
{
  before_value (json);
  g_string_append_printf (json->text, "%" G_GUINT64_FORMAT, value);
}

void
popcheck_json_boolean (PopcheckJson *json,
                       gboolean      value)
{
  before_value (json);
  g_string_append (json->text, value ? "true" : "false");
}

void
popcheck_json_null (PopcheckJson *json)
{
  before_value (json);
  g_string_append (json->text, "null");
}

void
popcheck_json_member_string (PopcheckJson *json,
                             const char   *key,
                             const char   *value)
{
  popcheck_json_key (json, key);
  popcheck_json_string (json, value);
}

void
popcheck_json_member_uint (PopcheckJson *json,
                           const char   *key,
                           guint64       value)
{
  popcheck_json_key (json, key);
  popcheck_json_uint (json, value);
}

void
popcheck_json_member_boolean (PopcheckJson *json,
                              const char   *key,
                              gboolean      value)
{
  popcheck_json_key (json, key);
  popcheck_json_boolean (json, value);
}

const char *
popcheck_json_get_text (PopcheckJson *json)
{
  return json->text->str;
}
