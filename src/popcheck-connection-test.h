/* popcheck-connection-test.h: one real test session for the account editor
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Connect, CAPA, log in, STAT, QUIT with the settings being edited (which
 * may not be saved yet), and keep what a person wants to see: the greeting,
 * the TLS version and certificate, the capabilities and SASL methods, the
 * message count and size, or the exact failure.  No GTK here.
 */

#pragma once

#include <gio/gio.h>

#include "pop3-client.h"

G_BEGIN_DECLS

#define POPCHECK_TYPE_CONNECTION_TEST (popcheck_connection_test_get_type ())

G_DECLARE_FINAL_TYPE (PopcheckConnectionTest, popcheck_connection_test,
                      POPCHECK, CONNECTION_TEST, GObject)

PopcheckConnectionTest *popcheck_connection_test_new (const char     *host,
                                                      guint16         port,
                                                      Pop3Security    security,
                                                      const char     *user,
                                                      const char     *password,
                                                      Pop3AuthMethod  auth);

/* "Automatic" security: implicit TLS on tls_port, then STARTTLS on
 * starttls_port.  Plaintext is never tried.  Replaces the port and
 * security given to _new(). */
void          popcheck_connection_test_set_automatic      (PopcheckConnectionTest *self,
                                                           guint16                 tls_port,
                                                           guint16                 starttls_port);
/* Where the account's password is stored: an empty password given to
 * _new() then means "the stored one", looked up when the test runs,
 * rather than an empty PASS (which can count towards a server's lockout).
 * Only for the server, port and user the password was stored for. */
void          popcheck_connection_test_set_stored_password (PopcheckConnectionTest *self,
                                                           const char             *account_id,
                                                           const char             *host,
                                                           guint16                 port,
                                                           const char             *user);
void          popcheck_connection_test_set_pinned_fingerprint (PopcheckConnectionTest *self,
                                                           const char             *sha256);
void          popcheck_connection_test_set_tls_database   (PopcheckConnectionTest *self,
                                                           GTlsDatabase           *database);
void          popcheck_connection_test_set_timeout        (PopcheckConnectionTest *self,
                                                           guint                   seconds);

void          popcheck_connection_test_run_async          (PopcheckConnectionTest *self,
                                                           GCancellable           *cancellable,
                                                           GAsyncReadyCallback     callback,
                                                           gpointer                user_data);
gboolean      popcheck_connection_test_run_finish         (PopcheckConnectionTest *self,
                                                           GAsyncResult           *result,
                                                           GError                **error);

/* What the last run found; valid after _run_finish(), also on failure for
 * what was reached (the TLS information of a refused certificate). */
const char   *popcheck_connection_test_get_host           (PopcheckConnectionTest *self);
guint16       popcheck_connection_test_get_port           (PopcheckConnectionTest *self);
Pop3Security  popcheck_connection_test_get_security       (PopcheckConnectionTest *self);
const char   *popcheck_connection_test_get_greeting       (PopcheckConnectionTest *self);
const Pop3TlsInfo *popcheck_connection_test_get_tls_info  (PopcheckConnectionTest *self);
const char * const *popcheck_connection_test_get_capabilities (PopcheckConnectionTest *self);
const char * const *popcheck_connection_test_get_sasl_methods (PopcheckConnectionTest *self);
guint         popcheck_connection_test_get_message_count  (PopcheckConnectionTest *self);
guint64       popcheck_connection_test_get_mailbox_size   (PopcheckConnectionTest *self);

/* One line for a successful run: how secure the connection was and who
 * signed in ("Connected securely with TLS 1.3, signed in as jane"). */
char         *popcheck_connection_test_format_summary     (PopcheckConnectionTest *self);
/* The server listed STLS: an unencrypted account could use STARTTLS. */
gboolean      popcheck_connection_test_get_offers_starttls (PopcheckConnectionTest *self);

/* The report of a successful run, translated, one fact a line. */
char         *popcheck_connection_test_format_report      (PopcheckConnectionTest *self);

/* A translated sentence for a failure, chosen by its POP3_ERROR code, with
 * the server's own words where it gave some. */
char         *popcheck_connection_test_describe_error     (const GError           *error);

/* A certificate's date as the report and the certificate dialog show it:
 * "2026-12-04 20:10 UTC", or "unknown" for NULL. */
char         *popcheck_connection_test_format_date        (GDateTime              *date);

/* The problems of a certificate, translated, one a line. */
char         *popcheck_connection_test_describe_certificate_errors (GTlsCertificateFlags errors);

G_END_DECLS
