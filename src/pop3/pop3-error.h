/* pop3-error.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The engine's error domain and its one error policy.  What a caller needs
 * to act on an error rides on the error itself (an extended GError): the
 * RFC 2449 response code, the server's own words, the certificate's flags.
 * pop3_error_get_kind() sorts any error, the engine's or not, into the few
 * kinds the app acts on; nothing needs to read error->message to decide.
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define POP3_ERROR (pop3_error_quark ())

/**
 * Pop3Error:
 * @POP3_ERROR_SERVER: the server answered -ERR; the message is its text
 * @POP3_ERROR_PROTOCOL: the server broke the protocol; the stream is closed
 * @POP3_ERROR_LINE_TOO_LONG: a line exceeded its bound; the stream is closed
 * @POP3_ERROR_RESPONSE_TOO_LONG: a multi-line response exceeded its cap
 * @POP3_ERROR_TLS: the TLS handshake or STLS upgrade failed
 * @POP3_ERROR_CERTIFICATE: the server's certificate was not accepted
 * @POP3_ERROR_AUTH: authentication was refused or is impossible
 * @POP3_ERROR_TIMEOUT: the server did not answer in time
 * @POP3_ERROR_CLOSED: the connection is closed
 * @POP3_ERROR_INVALID_ARGUMENT: an argument would break the command line
 * @POP3_ERROR_NOT_SUPPORTED: the server does not offer what was asked
 * @POP3_ERROR_CONNECT: the connection could not be made
 * @POP3_ERROR_AUTH_TOKEN: the server refused an OAuth2 access token
 *   (XOAUTH2, OAUTHBEARER): it may have expired or been revoked, so a
 *   fresh token is worth one more try before asking the user;
 *   pop3_error_get_oauth_status() gives the status the server named
 */
typedef enum
{
  POP3_ERROR_SERVER,
  POP3_ERROR_PROTOCOL,
  POP3_ERROR_LINE_TOO_LONG,
  POP3_ERROR_RESPONSE_TOO_LONG,
  POP3_ERROR_TLS,
  POP3_ERROR_CERTIFICATE,
  POP3_ERROR_AUTH,
  POP3_ERROR_TIMEOUT,
  POP3_ERROR_CLOSED,
  POP3_ERROR_INVALID_ARGUMENT,
  POP3_ERROR_NOT_SUPPORTED,
  POP3_ERROR_CONNECT,
  POP3_ERROR_AUTH_TOKEN,
} Pop3Error;

/**
 * Pop3ErrorKind:
 * @POP3_ERROR_KIND_NETWORK: the server could not be reached, or the
 *   connection was lost
 * @POP3_ERROR_KIND_TIMEOUT: the server did not answer in time
 * @POP3_ERROR_KIND_PROTOCOL: the server does not speak POP3 as it should,
 *   or lacks what the settings need
 * @POP3_ERROR_KIND_TLS: a secure connection could not be set up
 * @POP3_ERROR_KIND_CERTIFICATE: the server's certificate was not accepted;
 *   only the user can decide to trust it
 * @POP3_ERROR_KIND_AUTH: the user name or password was refused ([AUTH])
 * @POP3_ERROR_KIND_SERVER_BUSY: the mailbox is in use or logins come too
 *   often ([IN-USE], [LOGIN-DELAY]); trying later helps
 * @POP3_ERROR_KIND_SERVER_REFUSED: the server answered -ERR; the response
 *   code says whether its problem is temporary ([SYS/TEMP]) or lasting
 *   ([SYS/PERM])
 * @POP3_ERROR_KIND_CANCELLED: the operation was cancelled
 * @POP3_ERROR_KIND_LOCAL: the problem is on this computer: the keyring,
 *   a file, settings that cannot be sent
 *
 * What the app does about an error.  TLS and certificate problems are two
 * kinds because one is retried and the other waits for the user.
 */
typedef enum
{
  POP3_ERROR_KIND_NETWORK,
  POP3_ERROR_KIND_TIMEOUT,
  POP3_ERROR_KIND_PROTOCOL,
  POP3_ERROR_KIND_TLS,
  POP3_ERROR_KIND_CERTIFICATE,
  POP3_ERROR_KIND_AUTH,
  POP3_ERROR_KIND_SERVER_BUSY,
  POP3_ERROR_KIND_SERVER_REFUSED,
  POP3_ERROR_KIND_CANCELLED,
  POP3_ERROR_KIND_LOCAL,
} Pop3ErrorKind;

GQuark                pop3_error_quark                  (void);

Pop3ErrorKind         pop3_error_get_kind               (const GError         *error);

/* The extended data; NULL or 0 for errors of other domains. */
const char           *pop3_error_get_response_code      (const GError         *error);
const char           *pop3_error_get_server_text        (const GError         *error);
const char           *pop3_error_get_detail             (const GError         *error);
GTlsCertificateFlags  pop3_error_get_certificate_errors (const GError         *error);
/* The "status" of the JSON a server sent when it refused an access token
 * ("401", "invalid_token", ...); NULL when it sent none that made sense. */
const char           *pop3_error_get_oauth_status       (const GError         *error);

char                 *pop3_error_describe               (const GError         *error);

/* Errors worded once, with their data attached. */
GError               *pop3_error_new_for_reply          (const char           *response_code,
                                                         const char           *text);
GError               *pop3_error_new_connect            (const char           *host,
                                                         const GError         *cause);
GError               *pop3_error_new_certificate        (GTlsCertificateFlags  errors,
                                                         const char           *fingerprint);
GError               *pop3_error_new_not_pinned         (GTlsCertificateFlags  errors,
                                                         const char           *fingerprint);
GError               *pop3_error_new_token_refused      (const GError         *cause,
                                                         const char           *oauth_status);
GError               *pop3_error_new_reworded           (const GError         *cause,
                                                         char                 *message);

G_END_DECLS
