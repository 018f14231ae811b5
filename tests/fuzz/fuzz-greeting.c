/* fuzz-greeting.c: libFuzzer harness for the greeting and payload parsers
 * and the OAuth2 failure challenge
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The input is used whole as a greeting or status text (up to its first
 * NUL, as the client sees a line) and as a multi-line body (NULs and all)
 * for CAPA, LIST and UIDL, and as the JSON of an OAuth2 failure challenge
 * (base64-encoded first, and as it is).  Whatever is accepted must satisfy what the
 * rest of the application assumes of it.
 */

#define G_LOG_DOMAIN "fuzz-greeting"

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "pop3-auth.h"
#include "pop3-error.h"
#include "pop3-parser.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

#define check(condition) do { if (!(condition)) abort (); } while (0)

static gboolean
is_printable_ascii (const char *text)
{
  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p < 0x21 || *p > 0x7e)
        return FALSE;
    }

  return TRUE;
}

static void
exercise_text (const char *text)
{
  g_autofree char *timestamp = pop3_parse_apop_timestamp (text);
  g_autofree char *code = pop3_parse_response_code (text);
  g_autofree char *uid = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(Pop3Reply) reply = NULL;
  guint count;
  guint64 size;

  if (timestamp != NULL)
    {
      gsize len = strlen (timestamp);

      check (len >= 3 && timestamp[0] == '<' && timestamp[len - 1] == '>');
      check (strchr (timestamp, '@') != NULL);
      check (is_printable_ascii (timestamp));
      check (strstr (text, timestamp) != NULL);
    }

  if (code != NULL)
    {
      g_autofree char *upper = g_ascii_strup (code, -1);

      check (code[0] != '\0' && is_printable_ascii (code));
      check (strcmp (upper, code) == 0);
      check (strchr (code, ']') == NULL && strchr (code, '[') == NULL);
    }

  if (pop3_parse_stat (text, &count, &size, &error))
    check (error == NULL && strpbrk (text, "0123456789") != NULL);
  else
    check (g_error_matches (error, POP3_ERROR, POP3_ERROR_PROTOCOL) &&
           g_utf8_validate (error->message, -1, NULL));
  g_clear_error (&error);

  if (pop3_parse_scan_listing (text, &count, &size, &error))
    check (count >= 1);
  else
    check (g_error_matches (error, POP3_ERROR, POP3_ERROR_PROTOCOL));
  g_clear_error (&error);

  if (pop3_parse_uid_listing (text, &count, &uid, &error))
    check (count >= 1 && pop3_uid_is_valid (uid) &&
           strlen (uid) <= POP3_MAX_UID_LENGTH);
  else
    check (uid == NULL &&
           g_error_matches (error, POP3_ERROR, POP3_ERROR_PROTOCOL));

  if (pop3_uid_is_valid (text))
    check (is_printable_ascii (text) && strlen (text) <= POP3_MAX_UID_LENGTH);

  reply = pop3_reply_new (POP3_REPLY_ERR, text);
  check (g_utf8_validate (reply->line, -1, NULL));
  check (reply->text != NULL);
}

static void
exercise_body (GBytes *body)
{
  g_autoptr(GArray) listing = pop3_parse_list_body (body, NULL);
  g_autoptr(Pop3UidListing) uids = pop3_parse_uidl_body (body, NULL);
  g_autoptr(GHashTable) capabilities = pop3_parse_capa_body (body, NULL);

  if (listing != NULL)
    {
      g_autoptr(GHashTable) seen = g_hash_table_new (NULL, NULL);

      for (guint i = 0; i < listing->len; i++)
        {
          guint msg = g_array_index (listing, Pop3ListEntry, i).msg;

          check (msg >= 1 && g_hash_table_add (seen, GUINT_TO_POINTER (msg)));
        }
    }

  if (uids != NULL)
    {
      g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

      for (guint i = 0; i < pop3_uid_listing_get_length (uids); i++)
        {
          const char *uid = pop3_uid_listing_get_uid (uids, i);

          check (pop3_uid_listing_get_msg (uids, i) >= 1 &&
                 pop3_uid_is_valid (uid));
          check (g_hash_table_add (seen, (gpointer) uid));
        }
    }

  if (capabilities != NULL)
    {
      GHashTableIter iter;
      gpointer key;
      gpointer value;

      g_hash_table_iter_init (&iter, capabilities);
      while (g_hash_table_iter_next (&iter, &key, &value))
        {
          g_autofree char *upper = g_ascii_strup (key, -1);
          GStrv params = value;

          check (((char *) key)[0] != '\0' && strcmp (upper, key) == 0);
          check (g_utf8_validate (key, -1, NULL));
          check (params != NULL);
          for (guint i = 0; params[i] != NULL; i++)
            check (params[i][0] != '\0' &&
                   g_utf8_validate (params[i], -1, NULL));
        }
    }
}

/* A status is shown to people: short and printable, or none. */
static void
exercise_oauth_challenge (const char   *text,
                          const guint8 *data,
                          size_t        size)
{
  g_autofree char *encoded = g_base64_encode (data, size);
  g_autofree char *status = pop3_auth_oauth_challenge_status (encoded);
  g_autofree char *raw_status = pop3_auth_oauth_challenge_status (text);

  check (status == NULL ||
         (is_printable_ascii (status) && strlen (status) <= 64));
  check (raw_status == NULL ||
         (is_printable_ascii (raw_status) && strlen (raw_status) <= 64));
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_autoptr(GBytes) body = g_bytes_new (data, size);

  exercise_text (text);
  exercise_body (body);
  exercise_oauth_challenge (text, data, size);

  return 0;
}
