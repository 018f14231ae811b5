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
/* TRUE if a value has no CR, LF or NUL and so cannot inject a command. */
gboolean  pop3_auth_is_safe_argument  (const char  *value);
/* TRUE if a user name can be sent: not empty, no space (USER and APOP
 * take it as one argument) and safe as above. */
gboolean  pop3_auth_is_valid_user_name (const char *user);

G_END_DECLS
