/* test-error.c: the one error policy, pop3_error_get_kind() and the data
 * that rides on errors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-error"

#include "config.h"

#include <string.h>

#include <libsecret/secret.h>

#include "pop3-error.h"
#include "pop3-parser.h"
#include "popcheck-secret.h"
#include "popcheck-test-util.h"

/* A -ERR as the client makes it: the parser finds the response code. */
static GError *
error_for_err_text (const char *text)
{
  g_autofree char *code = pop3_parse_response_code (text);

  return pop3_error_new_for_reply (code, text);
}

/* What pop3_client_login_async() does to a -ERR while logging in. */
static GError *
login_error_for_err_text (const char *text)
{
  GError *error = error_for_err_text (text);

  error->code = POP3_ERROR_AUTH;
  return error;
}

static const struct
{
  const char    *text;
  gboolean       login;
  const char    *code;
  Pop3ErrorKind  kind;
} reply_cases[] = {
  { "[IN-USE] Do you have another POP session running?", FALSE, "IN-USE",
    POP3_ERROR_KIND_SERVER_BUSY },
  { "[in-use] locked", TRUE, "IN-USE", POP3_ERROR_KIND_SERVER_BUSY },
  { "[LOGIN-DELAY] wait", TRUE, "LOGIN-DELAY", POP3_ERROR_KIND_SERVER_BUSY },
  { "[AUTH] bad credentials", TRUE, "AUTH", POP3_ERROR_KIND_AUTH },
  /* RFC 3206: [AUTH] is a refused login whichever command said it. */
  { "[AUTH] not any more", FALSE, "AUTH", POP3_ERROR_KIND_AUTH },
  { "[SYS/TEMP] try later", FALSE, "SYS/TEMP", POP3_ERROR_KIND_SERVER_REFUSED },
  { "[sys/temp] at login", TRUE, "SYS/TEMP", POP3_ERROR_KIND_SERVER_REFUSED },
  { "[SYS/PERM] account disabled", TRUE, "SYS/PERM",
    POP3_ERROR_KIND_SERVER_REFUSED },
  { "wrong password", TRUE, NULL, POP3_ERROR_KIND_AUTH },
  { "no such message", FALSE, NULL, POP3_ERROR_KIND_SERVER_REFUSED },
  /* A code the engine does not act on sorts by the command. */
  { "[UTF8] not now", FALSE, "UTF8", POP3_ERROR_KIND_SERVER_REFUSED },
  { "[UTF8] not you", TRUE, "UTF8", POP3_ERROR_KIND_AUTH },
  { "", FALSE, NULL, POP3_ERROR_KIND_SERVER_REFUSED },
};

static void
test_reply_kinds (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (reply_cases); i++)
    {
      g_autoptr(GError) error = NULL;

      error = reply_cases[i].login
                ? login_error_for_err_text (reply_cases[i].text)
                : error_for_err_text (reply_cases[i].text);

      g_test_message ("-ERR %s", reply_cases[i].text);
      g_assert_cmpint (pop3_error_get_kind (error), ==, reply_cases[i].kind);
      g_assert_cmpstr (pop3_error_get_response_code (error), ==,
                       reply_cases[i].code);
      g_assert_cmpstr (pop3_error_get_server_text (error), ==,
                       reply_cases[i].text);
    }
}

/* The data rides on copies, through g_prefix_error() and a reworded
 * error; only the words change. */
static void
test_data_survives (void)
{
  g_autoptr(GError) error = error_for_err_text ("[IN-USE] locked");
  g_autoptr(GError) copy = g_error_copy (error);
  g_autoptr(GError) reworded = NULL;
  g_autofree char *described = NULL;

  g_assert_cmpstr (pop3_error_get_response_code (copy), ==, "IN-USE");
  g_assert_cmpstr (pop3_error_get_server_text (copy), ==, "[IN-USE] locked");

  g_prefix_error (&copy, "Checking: ");
  g_assert_cmpstr (pop3_error_get_response_code (copy), ==, "IN-USE");
  g_assert_cmpint (pop3_error_get_kind (copy), ==, POP3_ERROR_KIND_SERVER_BUSY);

  reworded = pop3_error_new_reworded (error, g_strdup ("Nothing was deleted."));
  g_assert_error (reworded, POP3_ERROR, POP3_ERROR_SERVER);
  g_assert_cmpstr (reworded->message, ==, "Nothing was deleted.");
  g_assert_cmpstr (pop3_error_get_response_code (reworded), ==, "IN-USE");
  g_assert_cmpint (pop3_error_get_kind (reworded), ==,
                   POP3_ERROR_KIND_SERVER_BUSY);
  /* The new words are said as they are: the server's are in them. */
  g_assert_null (pop3_error_get_server_text (reworded));
  described = pop3_error_describe (reworded);
  g_assert_cmpstr (described, ==, "Nothing was deleted.");
}

/* A refused access token keeps the server's words and code, adds the
 * status of its JSON, and says what it is. */
static void
test_token_refused (void)
{
  g_autoptr(GError) reply = error_for_err_text ("[AUTH] Invalid credentials");
  g_autoptr(GError) refused = pop3_error_new_token_refused (reply, "401");
  g_autoptr(GError) copy = g_error_copy (refused);
  g_autoptr(GError) bare_reply = error_for_err_text ("");
  g_autoptr(GError) bare = pop3_error_new_token_refused (bare_reply, NULL);
  g_autofree char *described = pop3_error_describe (copy);
  g_autofree char *bare_described = pop3_error_describe (bare);

  g_assert_error (copy, POP3_ERROR, POP3_ERROR_AUTH_TOKEN);
  g_assert_cmpint (pop3_error_get_kind (copy), ==, POP3_ERROR_KIND_AUTH);
  g_assert_cmpstr (pop3_error_get_oauth_status (copy), ==, "401");
  g_assert_cmpstr (pop3_error_get_response_code (copy), ==, "AUTH");
  g_assert_cmpstr (pop3_error_get_server_text (copy), ==,
                   "[AUTH] Invalid credentials");
  g_assert_cmpstr (described, ==,
                   "The server refused the access token; it may have "
                   "expired or been revoked. The server said: "
                   "“[AUTH] Invalid credentials”");

  g_assert_null (pop3_error_get_oauth_status (bare));
  g_assert_null (pop3_error_get_oauth_status (reply));
  g_assert_cmpstr (bare_described, ==,
                   "The server refused the access token; it may have "
                   "expired or been revoked.");
}

static const struct
{
  Pop3Error     code;
  Pop3ErrorKind kind;
} engine_cases[] = {
  { POP3_ERROR_SERVER, POP3_ERROR_KIND_SERVER_REFUSED },
  { POP3_ERROR_PROTOCOL, POP3_ERROR_KIND_PROTOCOL },
  { POP3_ERROR_LINE_TOO_LONG, POP3_ERROR_KIND_PROTOCOL },
  { POP3_ERROR_RESPONSE_TOO_LONG, POP3_ERROR_KIND_PROTOCOL },
  { POP3_ERROR_TLS, POP3_ERROR_KIND_TLS },
  { POP3_ERROR_CERTIFICATE, POP3_ERROR_KIND_CERTIFICATE },
  { POP3_ERROR_AUTH, POP3_ERROR_KIND_AUTH },
  { POP3_ERROR_TIMEOUT, POP3_ERROR_KIND_TIMEOUT },
  { POP3_ERROR_CLOSED, POP3_ERROR_KIND_NETWORK },
  { POP3_ERROR_INVALID_ARGUMENT, POP3_ERROR_KIND_LOCAL },
  { POP3_ERROR_NOT_SUPPORTED, POP3_ERROR_KIND_PROTOCOL },
  { POP3_ERROR_CONNECT, POP3_ERROR_KIND_NETWORK },
  { POP3_ERROR_AUTH_TOKEN, POP3_ERROR_KIND_AUTH },
};

static void
test_engine_kinds (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (engine_cases); i++)
    {
      g_autoptr(GError) error =
        g_error_new_literal (POP3_ERROR, engine_cases[i].code, "x");

      g_assert_cmpint (pop3_error_get_kind (error), ==, engine_cases[i].kind);
      /* No data: nothing was attached. */
      g_assert_null (pop3_error_get_response_code (error));
      g_assert_null (pop3_error_get_server_text (error));
      g_assert_cmpuint (pop3_error_get_certificate_errors (error), ==, 0);
      g_assert_cmpstr (pop3_error_get_detail (error), ==, "x");
    }
}

static const struct
{
  GQuark       (*domain) (void);
  int            code;
  Pop3ErrorKind  kind;
} other_cases[] = {
  { g_io_error_quark, G_IO_ERROR_CANCELLED, POP3_ERROR_KIND_CANCELLED },
  { g_io_error_quark, G_IO_ERROR_TIMED_OUT, POP3_ERROR_KIND_TIMEOUT },
  { g_io_error_quark, G_IO_ERROR_CONNECTION_REFUSED, POP3_ERROR_KIND_NETWORK },
  { g_io_error_quark, G_IO_ERROR_HOST_UNREACHABLE, POP3_ERROR_KIND_NETWORK },
  { g_io_error_quark, G_IO_ERROR_NETWORK_UNREACHABLE, POP3_ERROR_KIND_NETWORK },
  { g_io_error_quark, G_IO_ERROR_CONNECTION_CLOSED, POP3_ERROR_KIND_NETWORK },
  { g_io_error_quark, G_IO_ERROR_PROXY_FAILED, POP3_ERROR_KIND_NETWORK },
  /* A state file that cannot be written, an argument that is wrong. */
  { g_io_error_quark, G_IO_ERROR_PERMISSION_DENIED, POP3_ERROR_KIND_LOCAL },
  { g_io_error_quark, G_IO_ERROR_NO_SPACE, POP3_ERROR_KIND_LOCAL },
  { g_io_error_quark, G_IO_ERROR_NOT_FOUND, POP3_ERROR_KIND_LOCAL },
  { g_io_error_quark, G_IO_ERROR_INVALID_ARGUMENT, POP3_ERROR_KIND_LOCAL },
  { g_resolver_error_quark, G_RESOLVER_ERROR_NOT_FOUND, POP3_ERROR_KIND_NETWORK },
  { g_resolver_error_quark, G_RESOLVER_ERROR_TEMPORARY_FAILURE, POP3_ERROR_KIND_NETWORK },
  { g_tls_error_quark, G_TLS_ERROR_BAD_CERTIFICATE, POP3_ERROR_KIND_CERTIFICATE },
  { g_tls_error_quark, G_TLS_ERROR_HANDSHAKE, POP3_ERROR_KIND_TLS },
  { g_tls_error_quark, G_TLS_ERROR_NOT_TLS, POP3_ERROR_KIND_TLS },
  { g_tls_error_quark, G_TLS_ERROR_EOF, POP3_ERROR_KIND_TLS },
  { popcheck_secret_error_quark, POPCHECK_SECRET_ERROR_NO_SERVICE, POP3_ERROR_KIND_LOCAL },
  { popcheck_secret_error_quark, POPCHECK_SECRET_ERROR_LOCKED, POP3_ERROR_KIND_LOCAL },
  { popcheck_secret_error_quark, POPCHECK_SECRET_ERROR_NOT_FOUND, POP3_ERROR_KIND_LOCAL },
  { popcheck_secret_error_quark, POPCHECK_SECRET_ERROR_FAILED, POP3_ERROR_KIND_LOCAL },
  { secret_error_get_quark, SECRET_ERROR_IS_LOCKED, POP3_ERROR_KIND_LOCAL },
  { secret_error_get_quark, SECRET_ERROR_NO_SUCH_OBJECT, POP3_ERROR_KIND_LOCAL },
  { g_dbus_error_quark, G_DBUS_ERROR_SERVICE_UNKNOWN, POP3_ERROR_KIND_LOCAL },
  { g_file_error_quark, G_FILE_ERROR_ACCES, POP3_ERROR_KIND_LOCAL },
  { g_key_file_error_quark, G_KEY_FILE_ERROR_PARSE, POP3_ERROR_KIND_LOCAL },
};

static void
test_other_domains (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (other_cases); i++)
    {
      g_autoptr(GError) error =
        g_error_new_literal (other_cases[i].domain (), other_cases[i].code,
                             "their words");
      g_autofree char *described = NULL;

      g_test_message ("%s %d", g_quark_to_string (error->domain),
                      other_cases[i].code);
      g_assert_cmpint (pop3_error_get_kind (error), ==, other_cases[i].kind);
      g_assert_null (pop3_error_get_response_code (error));
      g_assert_null (pop3_error_get_server_text (error));
      g_assert_cmpuint (pop3_error_get_certificate_errors (error), ==, 0);
      g_assert_cmpstr (pop3_error_get_detail (error), ==, "their words");

      described = pop3_error_describe (error);
      if (other_cases[i].kind == POP3_ERROR_KIND_CANCELLED)
        g_assert_cmpstr (described, ==, "The operation was cancelled.");
      else
        g_assert_cmpstr (described, ==, "their words");
    }
}

/* One wording per kind, said once: the server's words appear once, after
 * the kind's sentence. */
static void
test_describe_reply (void)
{
  static const struct
  {
    const char *text;
    gboolean    login;
    const char *expected;
  } cases[] = {
    { "[IN-USE] locked", TRUE,
      "The mailbox is in use by another mail program. "
      "The server said: “[IN-USE] locked”" },
    { "[LOGIN-DELAY] wait", TRUE,
      "The server allows only a limited number of logins. "
      "The server said: “[LOGIN-DELAY] wait”" },
    { "[SYS/TEMP] later", FALSE,
      "The server has a temporary problem. The server said: “[SYS/TEMP] later”" },
    { "[SYS/PERM] gone", TRUE,
      "The server has a lasting problem with this mailbox. "
      "The server said: “[SYS/PERM] gone”" },
    { "wrong password", TRUE,
      "The server refused the user name or password. "
      "The server said: “wrong password”" },
    { "no such message", FALSE,
      "The server refused the command. The server said: “no such message”" },
    { "", FALSE, "The server refused the command." },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *described = NULL;

      error = cases[i].login ? login_error_for_err_text (cases[i].text)
                             : error_for_err_text (cases[i].text);
      described = pop3_error_describe (error);
      g_assert_cmpstr (described, ==, cases[i].expected);
    }
}

/* The host the user gave, not the address the resolver chose, and the
 * system's reason once. */
static void
test_connect (void)
{
  g_autoptr(GError) refused =
    g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED,
                         "Could not connect to 192.0.2.7: Connection refused");
  g_autoptr(GError) unknown =
    g_error_new_literal (G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND,
                         "Error resolving “mail.example.org”: Name or "
                         "service not known");
  g_autoptr(GError) other =
    g_error_new_literal (G_IO_ERROR, G_IO_ERROR_PROXY_FAILED, "proxy said no");
  g_autoptr(GError) error = NULL;
  g_autofree char *described = NULL;

  error = pop3_error_new_connect ("mail.example.org", refused);
  g_assert_error (error, POP3_ERROR, POP3_ERROR_CONNECT);
  g_assert_cmpint (pop3_error_get_kind (error), ==, POP3_ERROR_KIND_NETWORK);
  g_assert_cmpstr (error->message, ==,
                   "Could not connect to mail.example.org: Connection refused");
  g_assert_cmpstr (pop3_error_get_detail (error), ==, "Connection refused");
  described = pop3_error_describe (error);
  g_assert_cmpstr (described, ==, error->message);
  g_clear_error (&error);

  error = pop3_error_new_connect ("mail.example.org", unknown);
  g_assert_cmpint (pop3_error_get_kind (error), ==, POP3_ERROR_KIND_NETWORK);
  g_assert_cmpstr (error->message, ==,
                   "Could not connect to mail.example.org: "
                   "No server by that name was found");
  g_clear_error (&error);

  error = pop3_error_new_connect ("mail.example.org", other);
  g_assert_cmpstr (error->message, ==,
                   "Could not connect to mail.example.org: proxy said no");
}

static void
test_certificate (void)
{
  GTlsCertificateFlags flags = G_TLS_CERTIFICATE_UNKNOWN_CA |
                               G_TLS_CERTIFICATE_EXPIRED;
  g_autoptr(GError) error = pop3_error_new_certificate (flags, "AB:CD");
  g_autoptr(GError) copy = g_error_copy (error);

  g_assert_error (error, POP3_ERROR, POP3_ERROR_CERTIFICATE);
  g_assert_cmpint (pop3_error_get_kind (error), ==,
                   POP3_ERROR_KIND_CERTIFICATE);
  g_assert_cmpuint (pop3_error_get_certificate_errors (copy), ==, flags);
  g_assert_true (g_str_has_prefix (error->message,
                                   "The server’s certificate is not trusted: "));
  g_assert_nonnull (strstr (pop3_error_get_detail (error), "AB:CD"));
  g_assert_null (pop3_error_get_response_code (error));
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/error/kind/replies", test_reply_kinds);
  g_test_add_func ("/error/kind/engine", test_engine_kinds);
  g_test_add_func ("/error/kind/other-domains", test_other_domains);
  g_test_add_func ("/error/data-survives", test_data_survives);
  g_test_add_func ("/error/token-refused", test_token_refused);
  g_test_add_func ("/error/describe/replies", test_describe_reply);
  g_test_add_func ("/error/connect", test_connect);
  g_test_add_func ("/error/certificate", test_certificate);

  status = g_test_run ();

  /* LeakSanitizer checks at exit: with no worker thread left. */
  popcheck_test_quiesce_threads ();

  return status;
}
