/* pop3-client.h: an asynchronous POP3 client over a GIOStream
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The command set is that of Python's poplib (RFC 1939, RFC 2449 CAPA,
 * RFC 2595 STLS, RFC 6856 UTF8) plus RFC 5034 SASL AUTH.  Every command is an
 * _async/_finish pair.  Commands may be issued before earlier ones finish:
 * they are queued, sent in order (several at once when the server offers
 * PIPELINING), and their replies are matched to them strictly in order.
 *
 * Every _finish that succeeds returns the Pop3Reply of its command, with the
 * typed fields for that command filled in.  A -ERR reply is an error in the
 * POP3_ERROR_SERVER code; pop3_error_get_response_code() gives its RFC 2449
 * response code.
 */

#pragma once

#include <gio/gio.h>

#include "pop3-error.h"
#include "pop3-parser.h"
#include "pop3-tls.h"

G_BEGIN_DECLS

typedef enum
{
  POP3_SECURITY_TLS,
  POP3_SECURITY_STARTTLS,
  POP3_SECURITY_NONE,
} Pop3Security;

typedef enum
{
  POP3_AUTH_AUTO,
  POP3_AUTH_USER,
  POP3_AUTH_APOP,
  POP3_AUTH_PLAIN,
  POP3_AUTH_LOGIN,
  POP3_AUTH_CRAM_MD5,
  POP3_AUTH_XOAUTH2,
  POP3_AUTH_OAUTHBEARER,
} Pop3AuthMethod;

#define POP3_DEFAULT_TIMEOUT 30

#define POP3_TYPE_CLIENT (pop3_client_get_type ())

G_DECLARE_FINAL_TYPE (Pop3Client, pop3_client, POP3, CLIENT, GObject)

/* Signals:
 *   "debug" (Pop3Client *client, const char *line, gpointer user_data):
 *     one line of the exchange at the current debug level, "C: " for what
 *     the client sent and "S: " for what it received.  Passwords, APOP
 *     digests, access tokens and AUTH payloads are always redacted before
 *     emission.
 */

Pop3Client   *pop3_client_new                  (void);

/* Settings; change them before connecting. */
void          pop3_client_set_timeout          (Pop3Client      *self,
                                                guint            seconds);
guint         pop3_client_get_timeout          (Pop3Client      *self);
void          pop3_client_set_max_response     (Pop3Client      *self,
                                                gsize            max_bytes);
void          pop3_client_set_debug_level      (Pop3Client      *self,
                                                guint            level);
guint         pop3_client_get_debug_level      (Pop3Client      *self);
void          pop3_client_set_tls_database     (Pop3Client      *self,
                                                GTlsDatabase    *database);
/* A pin is exclusive: with one set, the certificate with that SHA-256
 * fingerprint is accepted (even when it fails validation) and every other
 * certificate is refused with POP3_ERROR_CERTIFICATE, even one that
 * validates. */
void          pop3_client_set_pinned_fingerprint (Pop3Client    *self,
                                                const char      *sha256);
void          pop3_client_set_pipelining       (Pop3Client      *self,
                                                gboolean         allowed);

/* State. */
const char   *pop3_client_get_welcome          (Pop3Client      *self);
const char   *pop3_client_get_apop_timestamp   (Pop3Client      *self);
GHashTable   *pop3_client_get_capabilities     (Pop3Client      *self);
gboolean      pop3_client_has_capability       (Pop3Client      *self,
                                                const char      *name);
gboolean      pop3_client_is_encrypted         (Pop3Client      *self);
gboolean      pop3_client_is_utf8              (Pop3Client      *self);
gboolean      pop3_client_is_pipelining        (Pop3Client      *self);
gboolean      pop3_client_is_connected         (Pop3Client      *self);
const Pop3TlsInfo *pop3_client_get_tls_info    (Pop3Client      *self);
guint         pop3_client_get_round_trips      (Pop3Client      *self);

/* Connecting: a TCP connection with a connect timeout, then (for
 * POP3_SECURITY_TLS) the TLS handshake, then the greeting.  With
 * POP3_SECURITY_STARTTLS this also runs CAPA and STLS, and fails before
 * anything else is sent if STLS is not offered or fails. */
void          pop3_client_connect_async        (Pop3Client      *self,
                                                const char      *host,
                                                guint16          port,
                                                Pop3Security     security,
                                                GCancellable    *cancellable,
                                                GAsyncReadyCallback callback,
                                                gpointer         user_data);
gboolean      pop3_client_connect_finish       (Pop3Client      *self,
                                                GAsyncResult    *result,
                                                GError         **error);

/* For tests and proxies: run over an already connected stream.
 * server_identity is used for TLS (implicit or STLS); may be NULL for
 * POP3_SECURITY_NONE. */
void          pop3_client_connect_stream_async (Pop3Client      *self,
                                                GIOStream       *stream,
                                                GSocketConnectable *server_identity,
                                                Pop3Security     security,
                                                GCancellable    *cancellable,
                                                GAsyncReadyCallback callback,
                                                gpointer         user_data);

/* The generic command: one line (no CRLF), the kind of reply it expects. */
void          pop3_client_command_async        (Pop3Client      *self,
                                                const char      *line,
                                                Pop3Expect       expect,
                                                GCancellable    *cancellable,
                                                GAsyncReadyCallback callback,
                                                gpointer         user_data);
Pop3Reply    *pop3_client_command_finish       (Pop3Client      *self,
                                                GAsyncResult    *result,
                                                GError         **error);

/* Every command below finishes with pop3_client_command_finish(). */
void pop3_client_capa_async  (Pop3Client *self, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
void pop3_client_user_async  (Pop3Client *self, const char *user,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
void pop3_client_pass_async  (Pop3Client *self, const char *password,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
void pop3_client_apop_async  (Pop3Client *self, const char *user,
                              const char *password, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
void pop3_client_rpop_async  (Pop3Client *self, const char *user,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
void pop3_client_stat_async  (Pop3Client *self, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
/* msg == 0: the whole scan listing. */
void pop3_client_list_async  (Pop3Client *self, guint msg,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
void pop3_client_retr_async  (Pop3Client *self, guint msg,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
void pop3_client_top_async   (Pop3Client *self, guint msg, guint lines,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
void pop3_client_dele_async  (Pop3Client *self, guint msg,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
void pop3_client_rset_async  (Pop3Client *self, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
void pop3_client_noop_async  (Pop3Client *self, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
/* msg == 0: the whole unique-id listing. */
void pop3_client_uidl_async  (Pop3Client *self, guint msg,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
void pop3_client_utf8_async  (Pop3Client *self, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
/* STLS, the handshake, and CAPA again (RFC 2595, section 4).  Commands
 * queued behind STLS wait until the handshake has succeeded and go out
 * inside TLS, after that CAPA; when the server refuses STLS they fail
 * with POP3_ERROR_TLS and are never sent. */
void pop3_client_stls_async  (Pop3Client *self, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
/* QUIT, then the connection is closed. */
void pop3_client_quit_async  (Pop3Client *self, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);

/* Authenticate with the given method; POP3_AUTH_AUTO picks the strongest
 * the server offers (CRAM-MD5, PLAIN, LOGIN, then USER/PASS), never APOP
 * and never the OAuth2 mechanisms: with POP3_AUTH_XOAUTH2 and
 * POP3_AUTH_OAUTHBEARER (RFC 7628), @password is an OAuth2 access token.
 * A token the server refuses fails with POP3_ERROR_AUTH_TOKEN. */
void          pop3_client_login_async          (Pop3Client      *self,
                                                const char      *user,
                                                const char      *password,
                                                Pop3AuthMethod   method,
                                                GCancellable    *cancellable,
                                                GAsyncReadyCallback callback,
                                                gpointer         user_data);
gboolean      pop3_client_login_finish         (Pop3Client      *self,
                                                GAsyncResult    *result,
                                                GError         **error);

/* Close the connection without QUIT (the server then does not commit
 * deletions).  Pending commands fail with POP3_ERROR_CLOSED. */
void          pop3_client_close                (Pop3Client      *self);

const char   *pop3_auth_method_to_string       (Pop3AuthMethod   method);
gboolean      pop3_auth_method_from_string     (const char      *str,
                                                Pop3AuthMethod  *method);
const char   *pop3_security_to_string          (Pop3Security     security);
gboolean      pop3_security_from_string        (const char      *str,
                                                Pop3Security    *security);

G_END_DECLS
