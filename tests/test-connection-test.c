/* test-connection-test.c: the editor's "Test connection" against Dovecot
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "popcheck-test-connection-test"

#include "config.h"

#include <gio/gio.h>

#include "popcheck-connection-test.h"
#include "popcheck-test-demo.h"
#include "popcheck-test-util.h"

#define USER     "conntest"
#define PASSWORD "right horse battery"

static PopcheckTestDemo *demo;

static void
store_result_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static gboolean
run_test (PopcheckConnectionTest  *test,
          GCancellable            *cancellable,
          GError                 **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  popcheck_connection_test_run_async (test, cancellable, store_result_cb,
                                      &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);

  return popcheck_connection_test_run_finish (test, result, error);
}

static PopcheckConnectionTest *
new_test (guint16        port,
          Pop3Security   security,
          const char    *password)
{
  PopcheckConnectionTest *test;

  test = popcheck_connection_test_new (demo->host, port, security, USER,
                                       password, POP3_AUTH_AUTO);
  popcheck_connection_test_set_timeout (test, 10);
  return test;
}

static guint16
closed_port (void)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) loopback = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;
  guint16 port;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  address = g_inet_socket_address_new (loopback, 0);
  g_socket_bind (socket, address, FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_socket_close (socket, NULL);

  return port;
}

static void
test_tls_pinned (void)
{
  g_autoptr(PopcheckConnectionTest) test = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *report = NULL;
  const Pop3TlsInfo *info;

  test = new_test (demo->pop3s_port, POP3_SECURITY_TLS, PASSWORD);
  popcheck_connection_test_set_pinned_fingerprint (test, demo->fingerprint);
  g_assert_true (run_test (test, NULL, &error));
  g_assert_no_error (error);

  g_assert_cmpuint (popcheck_connection_test_get_message_count (test), ==, 2);
  g_assert_cmpuint (popcheck_connection_test_get_mailbox_size (test), >, 0);
  g_assert_cmpint (popcheck_connection_test_get_security (test), ==,
                   POP3_SECURITY_TLS);
  g_assert_cmpuint (popcheck_connection_test_get_port (test), ==,
                    demo->pop3s_port);
  g_assert_true (g_str_has_prefix (
    popcheck_connection_test_get_greeting (test), "+OK"));

  info = popcheck_connection_test_get_tls_info (test);
  g_assert_nonnull (info);
  g_assert_true (info->accepted_by_pin);
  g_assert_true (pop3_tls_fingerprint_equal (info->fingerprint,
                                             demo->fingerprint));
  g_assert_nonnull (info->subject);
  g_assert_cmpint (info->protocol_version, !=, G_TLS_PROTOCOL_VERSION_UNKNOWN);

  g_assert_true (g_strv_contains (
    popcheck_connection_test_get_sasl_methods (test), "PLAIN"));
  g_assert_true (g_strv_contains (
    popcheck_connection_test_get_capabilities (test), "UIDL"));

  report = popcheck_connection_test_format_report (test);
  g_assert_nonnull (strstr (report, "2 messages"));
  g_assert_nonnull (strstr (report, info->fingerprint));
  g_assert_nonnull (strstr (report, "PLAIN"));
  g_assert_nonnull (strstr (report, "TLS version: TLS 1."));
  /* The pin is exclusive, and the report says so. */
  g_assert_nonnull (strstr (report, "no other certificate is accepted"));
}

static void
test_starttls_pinned (void)
{
  g_autoptr(PopcheckConnectionTest) test = NULL;
  g_autoptr(GError) error = NULL;

  test = new_test (demo->pop3_port, POP3_SECURITY_STARTTLS, PASSWORD);
  popcheck_connection_test_set_pinned_fingerprint (test, demo->fingerprint);
  g_assert_true (run_test (test, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (popcheck_connection_test_get_security (test), ==,
                   POP3_SECURITY_STARTTLS);
  g_assert_nonnull (popcheck_connection_test_get_tls_info (test));
  g_assert_true (g_strv_contains (
    popcheck_connection_test_get_capabilities (test), "STLS") ||
    g_strv_contains (popcheck_connection_test_get_capabilities (test),
                     "USER"));
  g_assert_cmpuint (popcheck_connection_test_get_message_count (test), ==, 2);
}

static void
test_wrong_password (void)
{
  g_autoptr(PopcheckConnectionTest) test = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  test = new_test (demo->pop3s_port, POP3_SECURITY_TLS, "not the password");
  popcheck_connection_test_set_pinned_fingerprint (test, demo->fingerprint);
  g_assert_false (run_test (test, NULL, &error));
  g_assert_error (error, POP3_ERROR, POP3_ERROR_AUTH);

  text = popcheck_connection_test_describe_error (error);
  g_assert_true (g_str_has_prefix (
    text, "The server refused the user name or password."));
  /* The greeting came before the failure and is still reported. */
  g_assert_nonnull (popcheck_connection_test_get_greeting (test));
}

static void
test_untrusted_certificate (void)
{
  g_autoptr(PopcheckConnectionTest) test = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *problems = NULL;
  const Pop3TlsInfo *info;

  test = new_test (demo->pop3s_port, POP3_SECURITY_TLS, PASSWORD);
  g_assert_false (run_test (test, NULL, &error));
  g_assert_error (error, POP3_ERROR, POP3_ERROR_CERTIFICATE);

  info = popcheck_connection_test_get_tls_info (test);
  g_assert_nonnull (info);
  g_assert_false (info->accepted_by_pin);
  g_assert_true (info->errors & G_TLS_CERTIFICATE_UNKNOWN_CA);
  g_assert_true (pop3_tls_fingerprint_equal (info->fingerprint,
                                             demo->fingerprint));

  text = popcheck_connection_test_describe_error (error);
  g_assert_true (g_str_has_prefix (text,
                                   "The server's certificate is not trusted."));
  problems = popcheck_connection_test_describe_certificate_errors (info->errors);
  g_assert_nonnull (strstr (problems, "not signed by a known certificate "
                                      "authority"));
}

static void
test_wrong_pin (void)
{
  g_autoptr(PopcheckConnectionTest) test = NULL;
  g_autoptr(GError) error = NULL;

  test = new_test (demo->pop3s_port, POP3_SECURITY_TLS, PASSWORD);
  popcheck_connection_test_set_pinned_fingerprint (
    test, "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
          "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF");
  g_assert_false (run_test (test, NULL, &error));
  g_assert_error (error, POP3_ERROR, POP3_ERROR_CERTIFICATE);
  g_assert_true (pop3_tls_fingerprint_equal (
    popcheck_connection_test_get_tls_info (test)->fingerprint,
    demo->fingerprint));
}

static void
test_automatic_prefers_tls (void)
{
  g_autoptr(PopcheckConnectionTest) test = NULL;
  g_autoptr(GError) error = NULL;

  test = new_test (1, POP3_SECURITY_NONE, PASSWORD);
  popcheck_connection_test_set_automatic (test, demo->pop3s_port,
                                          demo->pop3_port);
  popcheck_connection_test_set_pinned_fingerprint (test, demo->fingerprint);
  g_assert_true (run_test (test, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (popcheck_connection_test_get_security (test), ==,
                   POP3_SECURITY_TLS);
  g_assert_cmpuint (popcheck_connection_test_get_port (test), ==,
                    demo->pop3s_port);
}

static void
test_automatic_falls_back_to_starttls (void)
{
  g_autoptr(PopcheckConnectionTest) test = NULL;
  g_autoptr(GError) error = NULL;

  /* No implicit TLS on the first port: STARTTLS on the second. */
  test = new_test (1, POP3_SECURITY_NONE, PASSWORD);
  popcheck_connection_test_set_automatic (test, closed_port (),
                                          demo->pop3_port);
  popcheck_connection_test_set_pinned_fingerprint (test, demo->fingerprint);
  g_assert_true (run_test (test, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (popcheck_connection_test_get_security (test), ==,
                   POP3_SECURITY_STARTTLS);
  g_assert_cmpuint (popcheck_connection_test_get_port (test), ==,
                    demo->pop3_port);
  g_assert_nonnull (popcheck_connection_test_get_tls_info (test));
}

static void
test_automatic_never_plaintext (void)
{
  g_autoptr(PopcheckConnectionTest) test = NULL;
  g_autoptr(GError) error = NULL;
  guint16 port = closed_port ();

  /* Both ways refused: an error naming both, never a plaintext login. */
  test = new_test (1, POP3_SECURITY_NONE, PASSWORD);
  popcheck_connection_test_set_automatic (test, port, port);
  g_assert_false (run_test (test, NULL, &error));
  g_assert_error (error, POP3_ERROR, POP3_ERROR_CONNECT);
  g_assert_nonnull (strstr (error->message, "tls"));
  g_assert_nonnull (strstr (error->message, "starttls"));
  g_assert_null (popcheck_connection_test_get_greeting (test));
}

static void
test_refused (void)
{
  g_autoptr(PopcheckConnectionTest) test = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  test = new_test (closed_port (), POP3_SECURITY_TLS, PASSWORD);
  g_assert_false (run_test (test, NULL, &error));
  g_assert_error (error, POP3_ERROR, POP3_ERROR_CONNECT);
  text = popcheck_connection_test_describe_error (error);
  g_assert_true (g_str_has_prefix (text, "The connection was refused"));
}

static void
test_tls_on_plain_port (void)
{
  g_autoptr(PopcheckConnectionTest) test = NULL;
  g_autoptr(GError) error = NULL;

  test = new_test (demo->pop3_port, POP3_SECURITY_TLS, PASSWORD);
  g_assert_false (run_test (test, NULL, &error));
  g_assert_true (g_error_matches (error, POP3_ERROR, POP3_ERROR_TLS) ||
                 g_error_matches (error, POP3_ERROR, POP3_ERROR_CLOSED));
}

static void
test_cancelled (void)
{
  g_autoptr(PopcheckConnectionTest) test = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  test = new_test (demo->pop3s_port, POP3_SECURITY_TLS, PASSWORD);
  popcheck_connection_test_set_pinned_fingerprint (test, demo->fingerprint);
  g_cancellable_cancel (cancellable);
  g_assert_false (run_test (test, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  text = popcheck_connection_test_describe_error (error);
  g_assert_cmpstr (text, ==, "The test was cancelled.");
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_setenv ("LANGUAGE", "C", TRUE);
  g_test_init (&argc, &argv, NULL);

  demo = popcheck_test_demo_start ();
  popcheck_test_demo_add_user (demo, USER, PASSWORD, TRUE);
  popcheck_test_demo_deliver (demo, USER, "<one@conntest>", "One");
  popcheck_test_demo_deliver (demo, USER, "<two@conntest>", "Two");

  g_test_add_func ("/connection-test/tls-pinned", test_tls_pinned);
  g_test_add_func ("/connection-test/starttls-pinned", test_starttls_pinned);
  g_test_add_func ("/connection-test/wrong-password", test_wrong_password);
  g_test_add_func ("/connection-test/untrusted-certificate",
                   test_untrusted_certificate);
  g_test_add_func ("/connection-test/wrong-pin", test_wrong_pin);
  g_test_add_func ("/connection-test/automatic/prefers-tls",
                   test_automatic_prefers_tls);
  g_test_add_func ("/connection-test/automatic/falls-back-to-starttls",
                   test_automatic_falls_back_to_starttls);
  g_test_add_func ("/connection-test/automatic/never-plaintext",
                   test_automatic_never_plaintext);
  g_test_add_func ("/connection-test/refused", test_refused);
  g_test_add_func ("/connection-test/tls-on-plain-port",
                   test_tls_on_plain_port);
  g_test_add_func ("/connection-test/cancelled", test_cancelled);

  status = g_test_run ();
  g_clear_pointer (&demo, popcheck_test_demo_stop);

  /* LeakSanitizer checks at exit: with no worker thread left. */
  popcheck_test_quiesce_threads ();

  return status;
}
