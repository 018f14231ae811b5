/* pop3-auth.c: APOP and SASL computations, without I/O
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "pop3-auth"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "pop3-auth.h"
#include "pop3-error.h"

char *
pop3_auth_apop_digest (const char *timestamp,
                       const char *password)
{
  g_autofree char *joined = NULL;

  g_return_val_if_fail (timestamp != NULL, NULL);
  g_return_val_if_fail (password != NULL, NULL);

  /* GChecksum already prints lower-case hex, as RFC 1939 requires. */
  joined = g_strconcat (timestamp, password, NULL);
  return g_compute_checksum_for_string (G_CHECKSUM_MD5, joined, -1);
}

char *
pop3_auth_plain_response (const char *user,
                          const char *password)
{
  g_autoptr(GByteArray) message = NULL;
  char *encoded;

  g_return_val_if_fail (user != NULL, NULL);
  g_return_val_if_fail (password != NULL, NULL);

  /* An empty authorization identity: act as the user we log in as. */
  message = g_byte_array_new ();
  g_byte_array_append (message, (const guint8 *) "", 1);
  g_byte_array_append (message, (const guint8 *) user, strlen (user) + 1);
  g_byte_array_append (message, (const guint8 *) password, strlen (password));

  encoded = g_base64_encode (message->data, message->len);

  /* The buffer held the password in clear. */
  memset (message->data, 0, message->len);

  return encoded;
}

/* g_base64_decode() skips characters it does not know, so a challenge is
 * checked first: only the base64 alphabet, padding only at the end, and a
 * whole number of quanta. */
static gboolean
is_valid_base64 (const char *text)
{
  gsize len = strlen (text);
  gsize padding = 0;

  if (len == 0 || len % 4 != 0)
    return FALSE;

  for (gsize i = 0; i < len; i++)
    {
      char c = text[i];

      if (c == '=')
        {
          padding++;
          continue;
        }

      if (padding > 0)
        return FALSE;

      if (!g_ascii_isalnum (c) && c != '+' && c != '/')
        return FALSE;
    }

  return padding <= 2;
}

char *
pop3_auth_cram_md5_response (const char  *user,
                             const char  *password,
                             const char  *challenge_base64,
                             GError     **error)
{
  g_autofree guchar *challenge = NULL;
  g_autofree char *digest = NULL;
  g_autofree char *response = NULL;
  gsize challenge_len;

  g_return_val_if_fail (user != NULL, NULL);
  g_return_val_if_fail (password != NULL, NULL);
  g_return_val_if_fail (challenge_base64 != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!is_valid_base64 (challenge_base64))
    {
      g_set_error_literal (error, POP3_ERROR, POP3_ERROR_PROTOCOL,
                           _("The server's CRAM-MD5 challenge is not valid "
                             "base64."));
      return NULL;
    }

  challenge = g_base64_decode (challenge_base64, &challenge_len);

  /* RFC 2195: the key is the password, the text the decoded challenge. */
  digest = g_compute_hmac_for_data (G_CHECKSUM_MD5,
                                    (const guchar *) password,
                                    strlen (password),
                                    challenge, challenge_len);
  response = g_strconcat (user, " ", digest, NULL);

  return g_base64_encode ((const guchar *) response, strlen (response));
}

/* Sized up front, and filled without printf: a GString that grows, or a
 * formatted temporary, leaves copies of the token in the memory it
 * frees. */
static GString *
oauth_message_new (const char *user,
                   const char *host,
                   const char *token)
{
  return g_string_sized_new (3 * strlen (user) +
                             (host != NULL ? strlen (host) : 0) +
                             strlen (token) + 64);
}

static void
oauth_append_bearer (GString    *message,
                     const char *token)
{
  g_string_append (message, "\001auth=Bearer ");
  g_string_append (message, token);
  g_string_append (message, "\001\001");
}

/* Base64 of @message, which holds a token in clear and is wiped. */
static char *
encode_and_wipe (GString *message)
{
  char *encoded = g_base64_encode ((const guchar *) message->str,
                                   message->len);

  memset (message->str, 0, message->len);
  g_string_free (message, TRUE);

  return encoded;
}

char *
pop3_auth_xoauth2_response (const char *user,
                            const char *token)
{
  GString *message;

  g_return_val_if_fail (user != NULL, NULL);
  g_return_val_if_fail (token != NULL, NULL);

  message = oauth_message_new (user, NULL, token);
  g_string_append (message, "user=");
  g_string_append (message, user);
  oauth_append_bearer (message, token);

  return encode_and_wipe (message);
}

char *
pop3_auth_oauthbearer_response (const char *user,
                                const char *host,
                                guint16     port,
                                const char *token)
{
  GString *message;

  g_return_val_if_fail (user != NULL, NULL);
  g_return_val_if_fail (token != NULL, NULL);

  message = oauth_message_new (user, host, token);

  /* The GS2 header (RFC 5801, section 4): in a saslname, "," and "="
   * are escaped as "=2C" and "=3D". */
  g_string_append (message, "n,a=");
  for (const char *c = user; *c != '\0'; c++)
    {
      if (*c == ',')
        g_string_append (message, "=2C");
      else if (*c == '=')
        g_string_append (message, "=3D");
      else
        g_string_append_c (message, *c);
    }
  g_string_append_c (message, ',');

  if (host != NULL)
    {
      char port_text[8];

      g_snprintf (port_text, sizeof port_text, "%u", port);
      g_string_append (message, "\001host=");
      g_string_append (message, host);
      g_string_append (message, "\001port=");
      g_string_append (message, port_text);
    }
  oauth_append_bearer (message, token);

  return encode_and_wipe (message);
}

gboolean
pop3_auth_is_valid_oauth_value (const char *value)
{
  g_return_val_if_fail (value != NULL, FALSE);

  if (*value == '\0')
    return FALSE;

  for (const char *c = value; *c != '\0'; c++)
    if ((guchar) *c < 0x20 || *c == 0x7f)
      return FALSE;

  return TRUE;
}

/* The failure challenge is small JSON; these bounds are far above what a
 * server sends and keep a hostile one from costing anything. */
#define OAUTH_CHALLENGE_MAX 4096
#define OAUTH_JSON_MAX_DEPTH 8
#define OAUTH_STATUS_MAX 64

typedef struct
{
  const char *p;
  const char *end;
} JsonCursor;

static void
json_skip_space (JsonCursor *json)
{
  while (json->p < json->end &&
         (*json->p == ' ' || *json->p == '\t' || *json->p == '\n' ||
          *json->p == '\r'))
    json->p++;
}

static gboolean
json_take (JsonCursor *json,
           char        c)
{
  json_skip_space (json);
  if (json->p >= json->end || *json->p != c)
    return FALSE;
  json->p++;
  return TRUE;
}

/* \uXXXX: a code point outside the surrogates, appended as UTF-8. */
static gboolean
json_unicode_escape (JsonCursor *json,
                     GString    *out)
{
  gunichar c = 0;

  if (json->end - json->p < 4)
    return FALSE;
  for (guint i = 0; i < 4; i++, json->p++)
    {
      int digit = g_ascii_xdigit_value (*json->p);

      if (digit < 0)
        return FALSE;
      c = c * 16 + (gunichar) digit;
    }
  if (c == 0 || (c >= 0xd800 && c <= 0xdfff))
    return FALSE;

  g_string_append_unichar (out, c);
  return TRUE;
}

static gboolean
json_escape (JsonCursor *json,
             GString    *out)
{
  static const char escapes[] = "\"\"\\\\//b\bf\fn\nr\rt\t";
  char c;

  if (json->p >= json->end)
    return FALSE;
  c = *json->p++;
  if (c == 'u')
    return json_unicode_escape (json, out);

  for (guint i = 0; escapes[i] != '\0'; i += 2)
    if (escapes[i] == c)
      {
        g_string_append_c (out, escapes[i + 1]);
        return TRUE;
      }

  return FALSE;
}

/* A string (RFC 8259, section 7), its value appended to @out. */
static gboolean
json_string (JsonCursor *json,
             GString    *out)
{
  if (!json_take (json, '"'))
    return FALSE;

  while (json->p < json->end)
    {
      char c = *json->p++;

      if (c == '"')
        return TRUE;
      if ((guchar) c < 0x20)
        return FALSE;
      if (c != '\\')
        g_string_append_c (out, c);
      else if (!json_escape (json, out))
        return FALSE;
    }

  return FALSE;
}

static gboolean json_value (JsonCursor *json,
                            guint       depth,
                            GString    *out);

/* An object or an array; with @status, the first "status" member's
 * value is appended to @status. */
static gboolean
json_container (JsonCursor *json,
                guint       depth,
                gboolean    is_object,
                GString    *status)
{
  char close = is_object ? '}' : ']';
  gboolean found = FALSE;

  if (!json_take (json, is_object ? '{' : '[') ||
      depth >= OAUTH_JSON_MAX_DEPTH)
    return FALSE;
  if (json_take (json, close))
    return TRUE;

  do
    {
      g_autoptr(GString) key = g_string_new (NULL);
      g_autoptr(GString) value = g_string_new (NULL);

      if (is_object && (!json_string (json, key) || !json_take (json, ':')))
        return FALSE;
      if (!json_value (json, depth + 1, value))
        return FALSE;
      if (status != NULL && !found && g_str_equal (key->str, "status"))
        {
          g_string_assign (status, value->str);
          found = TRUE;
        }
    }
  while (json_take (json, ','));

  return json_take (json, close);
}

/* A number or true, false, null: only checked for its characters. */
static gboolean
json_bare_word (JsonCursor *json,
                GString    *out)
{
  const char *start = json->p;

  while (json->p < json->end &&
         (g_ascii_isalnum (*json->p) || strchr ("+-.", *json->p) != NULL))
    json->p++;
  g_string_append_len (out, start, json->p - start);

  return json->p > start;
}

static gboolean
json_value (JsonCursor *json,
            guint       depth,
            GString    *out)
{
  json_skip_space (json);
  if (json->p >= json->end)
    return FALSE;

  switch (*json->p)
    {
    case '"':
      return json_string (json, out);
    case '{':
      return json_container (json, depth, TRUE, NULL);
    case '[':
      return json_container (json, depth, FALSE, NULL);
    default:
      return json_bare_word (json, out);
    }
}

/* What a person may see of a status: short, printable ASCII. */
static gboolean
is_presentable_status (const GString *status)
{
  if (status->len == 0 || status->len > OAUTH_STATUS_MAX)
    return FALSE;

  for (gsize i = 0; i < status->len; i++)
    if (!g_ascii_isgraph (status->str[i]))
      return FALSE;

  return TRUE;
}

char *
pop3_auth_oauth_challenge_status (const char *challenge_base64)
{
  g_autofree guchar *decoded = NULL;
  g_autoptr(GString) status = NULL;
  JsonCursor json;
  gsize len;

  g_return_val_if_fail (challenge_base64 != NULL, NULL);

  if (strlen (challenge_base64) > OAUTH_CHALLENGE_MAX ||
      !is_valid_base64 (challenge_base64))
    return NULL;

  decoded = g_base64_decode (challenge_base64, &len);
  json.p = (const char *) decoded;
  json.end = json.p + len;
  status = g_string_new (NULL);

  if (!json_container (&json, 0, TRUE, status))
    return NULL;
  json_skip_space (&json);
  if (json.p != json.end || !is_presentable_status (status))
    return NULL;

  return g_strdup (status->str);
}

char *
pop3_auth_base64 (const char *text)
{
  g_return_val_if_fail (text != NULL, NULL);

  return g_base64_encode ((const guchar *) text, strlen (text));
}

gboolean
pop3_auth_is_safe_argument (const char *value)
{
  g_return_val_if_fail (value != NULL, FALSE);

  /* A C string cannot hold a NUL, so CR and LF are what could end the
   * command line early and start a command of the server's choosing. */
  return strpbrk (value, "\r\n") == NULL;
}

gboolean
pop3_auth_is_valid_user_name (const char *user)
{
  g_return_val_if_fail (user != NULL, FALSE);

  return *user != '\0' && strchr (user, ' ') == NULL &&
         pop3_auth_is_safe_argument (user);
}
