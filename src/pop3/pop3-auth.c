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
