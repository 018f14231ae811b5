/* pop3-auth.h: APOP and SASL computations, without I/O
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* MD5 of timestamp + secret in lower-case hex (RFC 1939, section 7). */
char     *pop3_auth_apop_digest       (const char  *timestamp,
                                       const char  *password);
/* Base64 of "\0user\0password" (RFC 4616). */
char     *pop3_auth_plain_response    (const char  *user,
                                       const char  *password);
/* Base64 of "user HMAC-MD5(password, challenge)" (RFC 2195); NULL with an
 * error when the base64 challenge is malformed. */
char     *pop3_auth_cram_md5_response (const char  *user,
                                       const char  *password,
                                       const char  *challenge_base64,
                                       GError     **error);
/* Base64 of a string, for AUTH LOGIN. */
char     *pop3_auth_base64            (const char  *text);
/* Base64 of "user=USER\x01auth=Bearer TOKEN\x01\x01" (Google's XOAUTH2,
 * as Microsoft takes it too). */
char     *pop3_auth_xoauth2_response  (const char  *user,
                                       const char  *token);
/* Base64 of the RFC 7628 initial response "n,a=USER,\x01host=HOST\x01
 * port=PORT\x01auth=Bearer TOKEN\x01\x01"; with @host NULL, host and port
 * are left out (both are optional). */
char     *pop3_auth_oauthbearer_response (const char *user,
                                          const char *host,
                                          guint16     port,
                                          const char *token);
/* The "status" of the base64 JSON a server sends when it refuses a token
 * (RFC 7628, section 3.2.2; XOAUTH2 sends the same), such as "401" or
 * "invalid_token"; NULL when the challenge is not that, or too long. */
char     *pop3_auth_oauth_challenge_status (const char *challenge_base64);
/* TRUE if a value can go inside an OAuth2 SASL message: not empty, and
 * no control character (they separate its fields). */
gboolean  pop3_auth_is_valid_oauth_value (const char *value);
/* TRUE if a value has no CR, LF or NUL and so cannot inject a command. */
gboolean  pop3_auth_is_safe_argument  (const char  *value);
/* TRUE if a user name can be sent: not empty, no space (USER and APOP
 * take it as one argument) and safe as above. */
gboolean  pop3_auth_is_valid_user_name (const char *user);

G_END_DECLS
