/* test-client.c: the POP3 client against the fake server
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Case by case what CPython's Lib/test/test_poplib.py checks of poplib,
 * over plain TCP, implicit TLS and STLS, plus what that file leaves to the
 * network: timeouts, certificates, pinning and pipelining.  The client runs
 * on this thread's main context through its public asynchronous API; the
 * server runs in threads of its own.
 */

#define G_LOG_DOMAIN "test-client"

#include "config.h"

#include <string.h>

#include "pop3-client.h"
#include "pop3-fake-server.h"
#include "popcheck-test-util.h"

/* No test may hang the suite, whatever the client does. */
#define WATCHDOG_SECONDS 30

/* How long what a session leaves behind may take to close, on a loaded
 * machine under the sanitizers. */
#define FD_CLOSE_TIMEOUT_MS 10000

typedef enum
{
  MODE_PLAIN,
  MODE_TLS,
  MODE_STLS,
} Mode;

static const Mode mode_plain = MODE_PLAIN;
static const Mode mode_tls = MODE_TLS;
static const Mode mode_stls = MODE_STLS;

typedef struct
{
  Mode            mode;
  Pop3FakeServer *server;
  Pop3Client     *client;
  guint           watchdog;
} Fixture;

/* Helpers */

static char *
cert_path (const char *name)
{
  const char *dir = g_getenv ("POPCHECK_TEST_CERTS");

  g_assert_nonnull (dir);
  return g_build_filename (dir, name, NULL);
}

static GTlsCertificate *
load_certificate (const char *name)
{
  g_autofree char *pem_name = g_strconcat (name, ".pem", NULL);
  g_autofree char *key_name = g_strconcat (name, ".key", NULL);
  g_autofree char *pem = cert_path (pem_name);
  g_autofree char *key = cert_path (key_name);
  g_autoptr(GError) error = NULL;
  GTlsCertificate *certificate;

  certificate = g_tls_certificate_new_from_files (pem, key, &error);
  g_assert_no_error (error);

  return certificate;
}

static char *
load_fingerprint (const char *name)
{
  g_autofree char *file_name = g_strconcat (name, ".sha256", NULL);
  g_autofree char *path = cert_path (file_name);
  g_autoptr(GError) error = NULL;
  char *contents = NULL;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);

  return g_strstrip (contents);
}

static GTlsDatabase *
load_ca_database (void)
{
  g_autofree char *path = cert_path ("ca.pem");
  g_autoptr(GError) error = NULL;
  GTlsDatabase *database;

  database = g_tls_file_database_new (path, &error);
  g_assert_no_error (error);

  return database;
}

static gboolean
watchdog_cb (gpointer user_data)
{
  g_error ("%s: no progress in %d seconds", g_test_get_path (),
           WATCHDOG_SECONDS);
  return G_SOURCE_REMOVE;
}

static void
result_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  GAsyncResult **slot = user_data;

  g_assert_null (*slot);
  *slot = g_object_ref (result);
}

/* Iterates the test's main context until the callback filled @slot. */
static void
await (GAsyncResult **slot)
{
  POPCHECK_TEST_WAIT_UNTIL (*slot != NULL, WATCHDOG_SECONDS * 1000);
}

static Pop3Reply *
finish_command (Pop3Client    *client,
                GAsyncResult **slot,
                GError       **error)
{
  Pop3Reply *reply;

  await (slot);
  reply = pop3_client_command_finish (client, *slot, error);
  g_clear_object (slot);

  return reply;
}

static gboolean
connect_client (Pop3Client   *client,
                const char   *host,
                guint16       port,
                Pop3Security  security,
                GError      **error)
{
  GAsyncResult *result = NULL;
  gboolean ok;

  pop3_client_connect_async (client, host, port, security, NULL, result_cb,
                             &result);
  await (&result);
  ok = pop3_client_connect_finish (client, result, error);
  g_object_unref (result);

  return ok;
}

static Pop3Client *
new_client (void)
{
  g_autoptr(GTlsDatabase) database = load_ca_database ();
  Pop3Client *client = pop3_client_new ();

  pop3_client_set_timeout (client, 5);
  pop3_client_set_tls_database (client, database);

  return client;
}

static gboolean
bytes_contain (GBytes     *bytes,
               const char *needle)
{
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);

  return len > 0 && g_strstr_len (data, len, needle) != NULL;
}

static void
assert_bytes_equal (GBytes     *bytes,
                    const char *expected)
{
  gsize len;
  const char *data;

  g_assert_nonnull (bytes);
  data = g_bytes_get_data (bytes, &len);
  g_assert_cmpmem (data, len, expected, strlen (expected));
}

static void
assert_no_mismatches (Pop3FakeServer *server)
{
  g_auto(GStrv) mismatches = pop3_fake_server_get_mismatches (server);

  for (guint i = 0; mismatches[i] != NULL; i++)
    g_test_message ("server: %s", mismatches[i]);
  g_assert_cmpuint (g_strv_length (mismatches), ==, 0);
}

/* Fixture: a responder server for the mode, not started yet, so that a
 * test may still configure it. */

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GTlsCertificate) certificate = load_certificate ("server");

  f->mode = *(const Mode *) data;
  f->watchdog = g_timeout_add_seconds (WATCHDOG_SECONDS, watchdog_cb, NULL);

  f->server = pop3_fake_server_new ();
  pop3_fake_server_set_certificate (f->server, certificate);
  pop3_fake_server_set_implicit_tls (f->server, f->mode == MODE_TLS);

  f->client = new_client ();
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  if (pop3_client_is_connected (f->client))
    pop3_client_close (f->client);
  g_clear_object (&f->client);

  /* Stopping wakes a server that still waits or pauses. */
  pop3_fake_server_stop (f->server);
  g_clear_object (&f->server);

  g_source_remove (f->watchdog);
}

static Pop3Security
mode_security (Mode mode)
{
  switch (mode)
    {
    case MODE_TLS:
      return POP3_SECURITY_TLS;
    case MODE_STLS:
      return POP3_SECURITY_STARTTLS;
    case MODE_PLAIN:
    default:
      return POP3_SECURITY_NONE;
    }
}

/* The certificate names "localhost" only, and the client always checks
 * it, so every mode goes there by name (plain too, for a later STLS). */
static const char *
mode_host (Mode mode)
{
  return "localhost";
}

static void
start_and_connect (Fixture *f)
{
  g_autoptr(GError) error = NULL;

  pop3_fake_server_start (f->server, &error);
  g_assert_no_error (error);

  connect_client (f->client, mode_host (f->mode),
                  pop3_fake_server_get_port (f->server),
                  mode_security (f->mode), &error);
  g_assert_no_error (error);
  g_assert_true (pop3_client_is_connected (f->client));
  g_assert_cmpint (pop3_client_is_encrypted (f->client), ==,
                   f->mode != MODE_PLAIN);
}

static Pop3Reply *
simple_command (Fixture     *f,
                const char  *line,
                Pop3Expect   expect,
                GError     **error)
{
  GAsyncResult *result = NULL;

  pop3_client_command_async (f->client, line, expect, NULL, result_cb,
                             &result);
  return finish_command (f->client, &result, error);
}

/* test_poplib: TestPOP3Class and its TLS variants */

static void
test_getwelcome (Fixture       *f,
                 gconstpointer  data)
{
  start_and_connect (f);

  g_assert_cmpstr (pop3_client_get_welcome (f->client), ==,
                   POP3_FAKE_GREETING);
}

static void
test_exceptions (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(Pop3Reply) reply = NULL;
  g_autoptr(Pop3Reply) noop = NULL;
  g_autoptr(GError) error = NULL;

  start_and_connect (f);

  reply = simple_command (f, "ECHO -ERR something failed", POP3_EXPECT_SINGLE,
                          &error);
  g_assert_error (error, POP3_ERROR, POP3_ERROR_SERVER);
  g_assert_null (reply);
  g_assert_nonnull (strstr (error->message, "something failed"));
  g_clear_error (&error);

  /* A -ERR is an answer, not a broken stream. */
  g_assert_true (pop3_client_is_connected (f->client));
  noop = simple_command (f, "NOOP", POP3_EXPECT_SINGLE, &error);
  g_assert_no_error (error);
  g_assert_cmpint (noop->status, ==, POP3_REPLY_OK);
}

static void
test_user (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(Pop3Reply) reply = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;

  start_and_connect (f);

  pop3_client_user_async (f->client, "guido", NULL, result_cb, &result);
  reply = finish_command (f->client, &result, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (reply->line, ==, "+OK password required");

  pop3_client_user_async (f->client, "invalid", NULL, result_cb, &result);
  g_clear_pointer (&reply, pop3_reply_unref);
  reply = finish_command (f->client, &result, &error);
  g_assert_error (error, POP3_ERROR, POP3_ERROR_SERVER);
  g_assert_nonnull (strstr (error->message, "no such user"));
}

static void
test_pass (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(Pop3Reply) reply = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;

  start_and_connect (f);

  pop3_client_pass_async (f->client, "python", NULL, result_cb, &result);
  reply = finish_command (f->client, &result, &error);
  g_assert_no_error (error);
  g_assert_cmpint (reply->status, ==, POP3_REPLY_OK);
  g_assert_cmpstr (reply->text, ==, "10 messages");

  pop3_client_pass_async (f->client, "wrong", NULL, result_cb, &result);
  g_clear_pointer (&reply, pop3_reply_unref);
  reply = finish_command (f->client, &result, &error);
  g_assert_error (error, POP3_ERROR, POP3_ERROR_SERVER);
  g_assert_cmpstr (error->message, ==, "wrong password");
}

static void
test_stat (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(Pop3Reply) reply = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;

  start_and_connect (f);

  pop3_client_stat_async (f->client, NULL, result_cb, &result);
  reply = finish_command (f->client, &result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (reply->count, ==, 10);
  g_assert_cmpuint (reply->size, ==, 100);
}

static void
test_list (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(Pop3Reply) reply = NULL;
  g_autoptr(Pop3Reply) one = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;
  guint64 total = 0;

  start_and_connect (f);

  pop3_client_list_async (f->client, 0, NULL, result_cb, &result);
  reply = finish_command (f->client, &result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (reply->listing);
  g_assert_cmpuint (reply->listing->len, ==, 5);
  for (guint i = 0; i < reply->listing->len; i++)
    {
      Pop3ListEntry *entry = &g_array_index (reply->listing, Pop3ListEntry, i);

      g_assert_cmpuint (entry->msg, ==, i + 1);
      g_assert_cmpuint (entry->octets, ==, i + 1);
      total += entry->octets;
    }
  g_assert_cmpuint (total, ==, 15);
  /* poplib's 25 is the size of the listing's body in bytes. */
  g_assert_cmpuint (g_bytes_get_size (reply->body), ==,
                    strlen (POP3_FAKE_LIST_RESP) - 3);

  pop3_client_list_async (f->client, 1, NULL, result_cb, &result);
  one = finish_command (f->client, &result, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_suffix (one->line, "OK 1 1"));
  g_assert_cmpuint (one->msg, ==, 1);
  g_assert_cmpuint (one->size, ==, 1);
}

static void
test_retr (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(Pop3Reply) reply = NULL;
  g_autoptr(Pop3Reply) dots = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *expected = NULL;
  GAsyncResult *result = NULL;

  start_and_connect (f);

  pop3_client_retr_async (f->client, 1, NULL, result_cb, &result);
  reply = finish_command (f->client, &result, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (reply->line, ==, "+OK 116 bytes");
  /* The 113 octets of test_poplib: the body without the final ".". */
  expected = g_strndup (POP3_FAKE_RETR_RESP,
                        strlen (POP3_FAKE_RETR_RESP) - 3);
  assert_bytes_equal (reply->body, expected);
  g_assert_cmpuint (g_bytes_get_size (reply->body), ==, 113);

  pop3_client_retr_async (f->client, 2, NULL, result_cb, &result);
  dots = finish_command (f->client, &result, &error);
  g_assert_no_error (error);
  assert_bytes_equal (dots->body, POP3_FAKE_DOTS_UNSTUFFED);
}

static void
test_too_long_lines (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(Pop3Reply) reply = NULL;
  g_autoptr(Pop3Reply) after = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *long_line = NULL;
  g_autofree char *command = NULL;

  start_and_connect (f);

  long_line = g_strnfill (POP3_DEFAULT_MAX_LINE + 10, 'a');
  command = g_strconcat ("ECHO +", long_line, NULL);
  reply = simple_command (f, command, POP3_EXPECT_SINGLE, &error);
  g_assert_error (error, POP3_ERROR, POP3_ERROR_LINE_TOO_LONG);
  g_assert_null (reply);
  g_clear_error (&error);

  /* The stream is out of step after an over-long line: it must be gone. */
  g_assert_false (pop3_client_is_connected (f->client));
  after = simple_command (f, "NOOP", POP3_EXPECT_SINGLE, &error);
  g_assert_error (error, POP3_ERROR, POP3_ERROR_CLOSED);
  g_assert_null (after);
}

static void
test_dele (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(Pop3Reply) reply = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;

  start_and_connect (f);

  pop3_client_dele_async (f->client, 1, NULL, result_cb, &result);
  reply = finish_command (f->client, &result, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (reply->line, ==, "+OK message marked for deletion.");
}

static void
test_noop (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(Pop3Reply) reply = NULL;
  g_autoptr(Pop3Reply) rset = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;

  start_and_connect (f);

  pop3_client_noop_async (f->client, NULL, result_cb, &result);
  reply = finish_command (f->client, &result, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (reply->line, ==, "+OK done nothing.");

  pop3_client_rset_async (f->client, NULL, result_cb, &result);
  rset = finish_command (f->client, &result, &error);
  g_assert_no_error (error);
  g_assert_cmpint (rset->status, ==, POP3_REPLY_OK);
}

static void
test_rpop (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(Pop3Reply) reply = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) commands = NULL;
  GAsyncResult *result = NULL;

  start_and_connect (f);

  pop3_client_rpop_async (f->client, "foo", NULL, result_cb, &result);
  reply = finish_command (f->client, &result, &error);
  g_assert_no_error (error);
  g_assert_cmpint (reply->status, ==, POP3_REPLY_OK);

  commands = pop3_fake_server_get_commands (f->server);
  g_assert_true (g_strv_contains ((const char *const *) commands, "RPOP foo"));
}

/* RFC 1939, section 7: the example exchange. */
static void
test_apop (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(Pop3Reply) refused = NULL;
  g_autoptr(Pop3Reply) reply = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) commands = NULL;
  GAsyncResult *result = NULL;

  pop3_fake_server_set_greeting (
    f->server, "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>");
  pop3_fake_server_set_apop_secret (f->server, "tanstaaf");
  start_and_connect (f);

  g_assert_cmpstr (pop3_client_get_apop_timestamp (f->client), ==,
                   "<1896.697170952@dbc.mtview.ca.us>");

  pop3_client_apop_async (f->client, "mrose", "wrong", NULL, result_cb,
                          &result);
  refused = finish_command (f->client, &result, &error);
  g_assert_error (error, POP3_ERROR, POP3_ERROR_SERVER);
  g_assert_cmpstr (error->message, ==, "permission denied");
  g_clear_error (&error);

  pop3_client_apop_async (f->client, "mrose", "tanstaaf", NULL, result_cb,
                          &result);
  reply = finish_command (f->client, &result, &error);
  g_assert_no_error (error);
  g_assert_cmpint (reply->status, ==, POP3_REPLY_OK);

  commands = pop3_fake_server_get_commands (f->server);
  g_assert_true (g_strv_contains ((const char *const *) commands,
                                  "APOP mrose c4c9334bac560ecc979e58001b3e22fb"));
}

/* test_apop_REDOS: a greeting of "+OK" and a million '<' is, over the wire,
 * a line far over the bound; it must be refused without first being read
 * whole or searched for timestamps. */
static void
test_apop_redos (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *evil = g_malloc (3 + 1000000 + 1);
  gint64 start;

  memcpy (evil, "+OK", 3);
  memset (evil + 3, '<', 1000000);
  evil[3 + 1000000] = '\0';
  pop3_fake_server_set_greeting (f->server, evil);

  pop3_fake_server_start (f->server, &error);
  g_assert_no_error (error);

  start = g_get_monotonic_time ();
  connect_client (f->client, mode_host (f->mode),
                  pop3_fake_server_get_port (f->server),
                  mode_security (f->mode), &error);
  g_assert_error (error, POP3_ERROR, POP3_ERROR_LINE_TOO_LONG);
  /* Quadratic work on a million '<' would take minutes, not seconds. */
  g_assert_cmpint (g_get_monotonic_time () - start, <, 10 * G_USEC_PER_SEC);
  g_assert_false (pop3_client_is_connected (f->client));
}

static void
test_apop_timestamp_redos (void)
{
  static const char *const tails[] = { "", ">", "a@b>", "@" };

  for (guint i = 0; i < G_N_ELEMENTS (tails); i++)
    {
      g_autoptr(GString) greeting = g_string_new ("+OK");
      g_autofree char *timestamp = NULL;
      gint64 start;

      for (guint j = 0; j < 1000000; j++)
        g_string_append_c (greeting, '<');
      g_string_append (greeting, tails[i]);

      start = g_get_monotonic_time ();
      timestamp = pop3_parse_apop_timestamp (greeting->str);
      g_assert_cmpint (g_get_monotonic_time () - start, <,
                       G_USEC_PER_SEC / 4);
      /* RFC 1939: the timestamp is a msg-id, "<" local "@" domain ">";
       * without an "@" there is none. */
      if (i != 2)
        {
          g_assert_null (timestamp);
        }
      else if (timestamp != NULL)
        {
          g_assert_true (g_str_has_prefix (timestamp, "<"));
          g_assert_true (g_str_has_suffix (timestamp, "a@b>"));
        }
    }
}

static void
test_top (Fixture       *f,
          gconstpointer  data)
{
  g_autoptr(Pop3Reply) reply = NULL;
  g_autoptr(Pop3Reply) dots = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *expected = NULL;
  g_auto(GStrv) commands = NULL;
  GAsyncResult *result = NULL;

  start_and_connect (f);

  pop3_client_top_async (f->client, 1, 1, NULL, result_cb, &result);
  reply = finish_command (f->client, &result, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (reply->line, ==, "+OK 116 bytes");
  expected = g_strndup (POP3_FAKE_RETR_RESP,
                        strlen (POP3_FAKE_RETR_RESP) - 3);
  assert_bytes_equal (reply->body, expected);

  pop3_client_top_async (f->client, 2, 0, NULL, result_cb, &result);
  dots = finish_command (f->client, &result, &error);
  g_assert_no_error (error);
  assert_bytes_equal (dots->body, POP3_FAKE_DOTS_UNSTUFFED);

  commands = pop3_fake_server_get_commands (f->server);
  g_assert_true (g_strv_contains ((const char *const *) commands, "TOP 1 1"));
  g_assert_true (g_strv_contains ((const char *const *) commands, "TOP 2 0"));
}

static void
test_uidl (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(Pop3Reply) reply = NULL;
  g_autoptr(Pop3Reply) one = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;

  start_and_connect (f);

  pop3_client_uidl_async (f->client, 0, NULL, result_cb, &result);
  reply = finish_command (f->client, &result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (reply->uids);
  g_assert_cmpuint (pop3_uid_listing_get_length (reply->uids), ==, 5);
  for (guint i = 0; i < 5; i++)
    {
      g_autofree char *uid = g_strdup_printf ("%u", i + 1);

      g_assert_cmpuint (pop3_uid_listing_get_msg (reply->uids, i), ==, i + 1);
      g_assert_cmpstr (pop3_uid_listing_get_uid (reply->uids, i), ==, uid);
    }

  pop3_client_uidl_async (f->client, 3, NULL, result_cb, &result);
  one = finish_command (f->client, &result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (one->msg, ==, 3);
  g_assert_cmpstr (one->uid, ==, "3");
}

static void
test_utf8_raises_if_unsupported (Fixture       *f,
                                 gconstpointer  data)
{
  g_autoptr(Pop3Reply) reply = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;

  start_and_connect (f);

  pop3_client_utf8_async (f->client, NULL, result_cb, &result);
  reply = finish_command (f->client, &result, &error);
  g_assert_error (error, POP3_ERROR, POP3_ERROR_SERVER);
  g_assert_cmpstr (error->message, ==, "What is UTF8?!");
  g_assert_false (pop3_client_is_utf8 (f->client));
}

static void
test_utf8 (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(Pop3Reply) reply = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;

  pop3_fake_server_set_utf8 (f->server, TRUE);
  start_and_connect (f);

  pop3_client_utf8_async (f->client, NULL, result_cb, &result);
  reply = finish_command (f->client, &result, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (reply->line, ==, "+OK I know RFC6856");
  g_assert_true (pop3_client_is_utf8 (f->client));
}

static void
test_capa (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(Pop3Reply) reply = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;
  const char *const *params;

  start_and_connect (f);

  pop3_client_capa_async (f->client, NULL, result_cb, &result);
  reply = finish_command (f->client, &result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (reply->capabilities);

  params = g_hash_table_lookup (reply->capabilities, "IMPLEMENTATION");
  g_assert_nonnull (params);
  g_assert_cmpuint (g_strv_length ((GStrv) params), ==, 1);
  g_assert_cmpstr (params[0], ==, "python-testlib-pop-server");

  g_assert_true (pop3_client_has_capability (f->client, "IMPLEMENTATION"));
  g_assert_true (pop3_client_has_capability (f->client, "implementation"));
  g_assert_true (pop3_client_has_capability (f->client, "Uidl"));
  g_assert_false (pop3_client_has_capability (f->client, "PIPELINING"));
  g_assert_false (pop3_client_has_capability (f->client, "SASL"));
}

static void
test_quit (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(Pop3Reply) reply = NULL;
  g_autoptr(Pop3Reply) after = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;

  start_and_connect (f);

  pop3_client_quit_async (f->client, NULL, result_cb, &result);
  reply = finish_command (f->client, &result, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (reply->line, ==, "+OK closing.");
  g_assert_false (pop3_client_is_connected (f->client));
  g_assert_cmpint (pop3_fake_server_find_log (f->server, "C: QUIT", 0), >=, 0);

  after = simple_command (f, "NOOP", POP3_EXPECT_SINGLE, &error);
  g_assert_error (error, POP3_ERROR, POP3_ERROR_CLOSED);
}

static void
test_stls_capa (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(Pop3Reply) reply = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;

  start_and_connect (f);

  pop3_client_capa_async (f->client, NULL, result_cb, &result);
  reply = finish_command (f->client, &result, &error);
  g_assert_no_error (error);

  /* STLS is only offered where it can still be done. */
  g_assert_cmpint (g_hash_table_contains (reply->capabilities, "STLS"), ==,
                   f->mode == MODE_PLAIN);
  g_assert_cmpint (pop3_client_has_capability (f->client, "stls"), ==,
                   f->mode == MODE_PLAIN);
}

static void
test_stls (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(Pop3Reply) reply = NULL;
  g_autoptr(Pop3Reply) again = NULL;
  g_autoptr(Pop3Reply) raw = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;

  start_and_connect (f);

  if (f->mode == MODE_PLAIN)
    {
      pop3_client_stls_async (f->client, NULL, result_cb, &result);
      reply = finish_command (f->client, &result, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (reply->line, ==, "+OK Begin TLS negotiation");
      g_assert_true (pop3_client_is_encrypted (f->client));
      /* The client asked CAPA again over TLS, which no longer offers STLS. */
      g_assert_true (pop3_client_has_capability (f->client, "IMPLEMENTATION"));
      g_assert_false (pop3_client_has_capability (f->client, "STLS"));
    }

  /* Once encrypted, STLS is an error: the client refuses it ... */
  pop3_client_stls_async (f->client, NULL, result_cb, &result);
  again = finish_command (f->client, &result, &error);
  g_assert_nonnull (error);
  g_assert_true (error->domain == POP3_ERROR);
  g_assert_null (again);
  g_clear_error (&error);

  /* ... and so does the server. */
  raw = simple_command (f, "STLS", POP3_EXPECT_SINGLE, &error);
  g_assert_error (error, POP3_ERROR, POP3_ERROR_SERVER);
  g_assert_cmpstr (error->message, ==, "Command not permitted when TLS active");
  g_assert_true (pop3_client_is_encrypted (f->client));
}

/* Only USER, PASS and what follows travel inside TLS. */
static void
test_password_encrypted (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(Pop3Reply) user = NULL;
  g_autoptr(Pop3Reply) pass = NULL;
  g_autoptr(GBytes) plain = NULL;
  g_autoptr(GBytes) encrypted = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;

  start_and_connect (f);

  pop3_client_user_async (f->client, "guido", NULL, result_cb, &result);
  user = finish_command (f->client, &result, &error);
  g_assert_no_error (error);
  pop3_client_pass_async (f->client, "python", NULL, result_cb, &result);
  pass = finish_command (f->client, &result, &error);
  g_assert_no_error (error);

  pop3_fake_server_stop (f->server);
  plain = pop3_fake_server_get_received (f->server, FALSE);
  encrypted = pop3_fake_server_get_received (f->server, TRUE);

  if (f->mode == MODE_PLAIN)
    {
      g_assert_true (bytes_contain (plain, "PASS python\r\n"));
      g_assert_cmpuint (g_bytes_get_size (encrypted), ==, 0);
    }
  else
    {
      g_assert_false (bytes_contain (plain, "python"));
      g_assert_false (bytes_contain (plain, "USER"));
      g_assert_true (bytes_contain (encrypted, "USER guido\r\nPASS python\r\n"));
    }
  if (f->mode == MODE_STLS)
    g_assert_true (bytes_contain (plain, "CAPA\r\nSTLS\r\n"));
}

/* test_stls_context: a certificate for "localhost" reached by address
 * fails the hostname check; reached by name it passes. */
static void
test_stls_hostname (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(Pop3Client) by_name = new_client ();
  g_autoptr(Pop3Reply) refused = NULL;
  g_autoptr(Pop3Reply) reply = NULL;
  g_autoptr(GError) error = NULL;
  const Pop3TlsInfo *info;
  GAsyncResult *result = NULL;

  pop3_fake_server_start (f->server, &error);
  g_assert_no_error (error);
  connect_client (f->client, "127.0.0.1",
                  pop3_fake_server_get_port (f->server), POP3_SECURITY_NONE,
                  &error);
  g_assert_no_error (error);

  pop3_client_stls_async (f->client, NULL, result_cb, &result);
  refused = finish_command (f->client, &result, &error);
  g_assert_error (error, POP3_ERROR, POP3_ERROR_CERTIFICATE);
  g_assert_false (pop3_client_is_connected (f->client));
  info = pop3_client_get_tls_info (f->client);
  g_assert_nonnull (info);
  g_assert_true (info->errors & G_TLS_CERTIFICATE_BAD_IDENTITY);
  g_assert_false (info->errors & G_TLS_CERTIFICATE_UNKNOWN_CA);
  g_clear_error (&error);

  connect_client (by_name, "localhost", pop3_fake_server_get_port (f->server),
                  POP3_SECURITY_NONE, &error);
  g_assert_no_error (error);
  pop3_client_stls_async (by_name, NULL, result_cb, &result);
  reply = finish_command (by_name, &result, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (reply->line, ==, "+OK Begin TLS negotiation");
  g_assert_true (pop3_client_is_encrypted (by_name));
  info = pop3_client_get_tls_info (by_name);
  g_assert_nonnull (info);
  g_assert_cmpuint (info->errors, ==, 0);
  pop3_client_close (by_name);
}

/* The same check with implicit TLS. */
static void
test_tls_hostname (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(Pop3Client) by_name = new_client ();
  g_autoptr(GError) error = NULL;
  const Pop3TlsInfo *info;
  guint16 port;

  pop3_fake_server_start (f->server, &error);
  g_assert_no_error (error);
  port = pop3_fake_server_get_port (f->server);

  connect_client (f->client, "127.0.0.1", port, POP3_SECURITY_TLS, &error);
  g_assert_error (error, POP3_ERROR, POP3_ERROR_CERTIFICATE);
  g_assert_false (pop3_client_is_connected (f->client));
  info = pop3_client_get_tls_info (f->client);
  g_assert_nonnull (info);
  g_assert_true (info->errors & G_TLS_CERTIFICATE_BAD_IDENTITY);
  g_clear_error (&error);

  connect_client (by_name, "localhost", port, POP3_SECURITY_TLS, &error);
  g_assert_no_error (error);
  g_assert_true (pop3_client_is_encrypted (by_name));
  g_assert_cmpstr (pop3_client_get_welcome (by_name), ==, POP3_FAKE_GREETING);
  pop3_client_close (by_name);
}

/* Pipelining (RFC 2449, section 6.6) */

static void
run_batch (Fixture *f)
{
  g_autoptr(Pop3Reply) stat = NULL;
  g_autoptr(Pop3Reply) list = NULL;
  g_autoptr(Pop3Reply) uidl = NULL;
  g_autoptr(Pop3Reply) noop = NULL;
  g_autoptr(GError) error = NULL;
  struct
  {
    GAsyncResult *stat;
    GAsyncResult *list;
    GAsyncResult *uidl;
    GAsyncResult *noop;
  } batch = { NULL, };

  pop3_client_stat_async (f->client, NULL, result_cb, &batch.stat);
  pop3_client_list_async (f->client, 0, NULL, result_cb, &batch.list);
  pop3_client_uidl_async (f->client, 4, NULL, result_cb, &batch.uidl);
  pop3_client_noop_async (f->client, NULL, result_cb, &batch.noop);

  /* Every reply reaches its own command. */
  stat = finish_command (f->client, &batch.stat, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (stat->count, ==, 10);
  list = finish_command (f->client, &batch.list, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->listing->len, ==, 5);
  uidl = finish_command (f->client, &batch.uidl, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (uidl->msg, ==, 4);
  g_assert_cmpstr (uidl->uid, ==, "4");
  noop = finish_command (f->client, &batch.noop, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (noop->line, ==, "+OK done nothing.");
}

static void
test_pipelining (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(Pop3Reply) capa = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;
  int stat_reply;
  int list_command;

  pop3_fake_server_add_capability (f->server, "PIPELINING");
  pop3_fake_server_set_reply_delay (f->server, 100);
  start_and_connect (f);

  pop3_client_capa_async (f->client, NULL, result_cb, &result);
  capa = finish_command (f->client, &result, &error);
  g_assert_no_error (error);
  g_assert_true (pop3_client_is_pipelining (f->client));

  run_batch (f);

  g_assert_true (pop3_fake_server_get_overlapped (f->server));
  stat_reply = pop3_fake_server_find_log (f->server, "S: +OK 10 100", 0);
  list_command = pop3_fake_server_find_log (f->server, "C: LIST", 0);
  g_assert_cmpint (stat_reply, >=, 0);
  g_assert_cmpint (list_command, >=, 0);
  g_assert_cmpint (list_command, <, stat_reply);
}

static void
test_lockstep (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(Pop3Reply) capa = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;
  int stat_reply;
  int list_command;

  pop3_fake_server_set_reply_delay (f->server, 20);
  start_and_connect (f);

  pop3_client_capa_async (f->client, NULL, result_cb, &result);
  capa = finish_command (f->client, &result, &error);
  g_assert_no_error (error);
  g_assert_false (pop3_client_is_pipelining (f->client));

  run_batch (f);

  g_assert_false (pop3_fake_server_get_overlapped (f->server));
  stat_reply = pop3_fake_server_find_log (f->server, "S: +OK 10 100", 0);
  list_command = pop3_fake_server_find_log (f->server, "C: LIST", 0);
  g_assert_cmpint (stat_reply, >=, 0);
  g_assert_cmpint (list_command, >, stat_reply);
}

/* Timeouts */

static void
test_timeout_silent (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(Pop3FakeScript) script = pop3_fake_script_new ();
  g_autoptr(Pop3Reply) reply = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;
  gint64 start;

  pop3_fake_script_send (script, "+OK hello\r\n");
  pop3_fake_script_expect (script, "NOOP");
  pop3_fake_script_pause (script, 20000);
  pop3_fake_server_add_script (f->server, script);
  pop3_client_set_timeout (f->client, 1);
  start_and_connect (f);

  start = g_get_monotonic_time ();
  pop3_client_noop_async (f->client, NULL, result_cb, &result);
  reply = finish_command (f->client, &result, &error);
  g_assert_error (error, POP3_ERROR, POP3_ERROR_TIMEOUT);
  /* Silence, not a reply that came too slowly. */
  g_assert_true (g_str_has_prefix (error->message,
                                   "The server did not answer within "));
  g_assert_cmpint (g_get_monotonic_time () - start, >=,
                   G_USEC_PER_SEC * 9 / 10);
  /* A one-second timeout against a 20-second pause. */
  g_assert_cmpint (g_get_monotonic_time () - start, <, 10 * G_USEC_PER_SEC);
  g_assert_false (pop3_client_is_connected (f->client));
  assert_no_mismatches (f->server);
}

static void
test_timeout_no_greeting (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(Pop3FakeScript) script = pop3_fake_script_new ();
  g_autoptr(GError) error = NULL;
  gint64 start;

  pop3_fake_script_pause (script, 20000);
  pop3_fake_server_add_script (f->server, script);
  pop3_client_set_timeout (f->client, 1);
  pop3_fake_server_start (f->server, &error);
  g_assert_no_error (error);

  start = g_get_monotonic_time ();
  connect_client (f->client, mode_host (f->mode),
                  pop3_fake_server_get_port (f->server),
                  mode_security (f->mode), &error);
  g_assert_error (error, POP3_ERROR, POP3_ERROR_TIMEOUT);
  /* A one-second timeout against a 20-second pause. */
  g_assert_cmpint (g_get_monotonic_time () - start, <, 10 * G_USEC_PER_SEC);
  g_assert_false (pop3_client_is_connected (f->client));
}

/* STLS accepted, then nothing: the handshake must time out. */
static void
test_timeout_stls_handshake (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(Pop3FakeScript) script = pop3_fake_script_new ();
  g_autoptr(GError) error = NULL;
  gint64 start;

  pop3_fake_script_send (script, "+OK hello\r\n");
  pop3_fake_script_expect (script, "CAPA");
  pop3_fake_script_send (script, "+OK\r\nSTLS\r\n.\r\n");
  pop3_fake_script_expect (script, "STLS");
  pop3_fake_script_send (script, "+OK Begin TLS negotiation\r\n");
  pop3_fake_script_pause (script, 20000);
  pop3_fake_server_add_script (f->server, script);
  pop3_client_set_timeout (f->client, 1);
  pop3_fake_server_start (f->server, &error);
  g_assert_no_error (error);

  start = g_get_monotonic_time ();
  connect_client (f->client, "localhost",
                  pop3_fake_server_get_port (f->server),
                  POP3_SECURITY_STARTTLS, &error);
  g_assert_error (error, POP3_ERROR, POP3_ERROR_TIMEOUT);
  /* A one-second timeout against a 20-second pause. */
  g_assert_cmpint (g_get_monotonic_time () - start, <, 10 * G_USEC_PER_SEC);
  g_assert_false (pop3_client_is_connected (f->client));
  assert_no_mismatches (f->server);
}

static void
test_connect_refused (void)
{
  g_autoptr(Pop3Client) client = new_client ();
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;
  guint16 port;

  /* A port that was free a moment ago and that nothing listens on. */
  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  address = g_inet_socket_address_new_from_string ("127.0.0.1", 0);
  g_socket_bind (socket, address, FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_socket_close (socket, &error);
  g_assert_no_error (error);

  connect_client (client, "127.0.0.1", port, POP3_SECURITY_NONE, &error);
  g_assert_error (error, POP3_ERROR, POP3_ERROR_CONNECT);
  g_assert_false (pop3_client_is_connected (client));
}

/* Certificates and pinning (implicit TLS) */

static Pop3FakeServer *
start_tls_server (const char *cert_name)
{
  g_autoptr(GTlsCertificate) certificate = load_certificate (cert_name);
  g_autoptr(GError) error = NULL;
  Pop3FakeServer *server = pop3_fake_server_new ();

  pop3_fake_server_set_certificate (server, certificate);
  pop3_fake_server_set_implicit_tls (server, TRUE);
  pop3_fake_server_start (server, &error);
  g_assert_no_error (error);

  return server;
}

/* Connects over implicit TLS to a server showing @cert_name, by @host,
 * with the test CA trusted or not and an optional pin.  Returns whether the
 * connection was made; @errors and @by_pin come from the client's TLS
 * info either way. */
static gboolean
try_certificate (const char            *cert_name,
                 const char            *host,
                 gboolean               trust_ca,
                 const char            *pin,
                 GTlsCertificateFlags  *errors,
                 gboolean              *by_pin)
{
  g_autoptr(Pop3FakeServer) server = start_tls_server (cert_name);
  g_autoptr(Pop3Client) client = pop3_client_new ();
  g_autoptr(GError) error = NULL;
  const Pop3TlsInfo *info;
  gboolean ok;

  pop3_client_set_timeout (client, 5);
  if (trust_ca)
    {
      g_autoptr(GTlsDatabase) database = load_ca_database ();
      pop3_client_set_tls_database (client, database);
    }
  if (pin != NULL)
    pop3_client_set_pinned_fingerprint (client, pin);

  ok = connect_client (client, host, pop3_fake_server_get_port (server),
                       POP3_SECURITY_TLS, &error);
  if (!ok)
    {
      g_assert_error (error, POP3_ERROR, POP3_ERROR_CERTIFICATE);
      g_assert_false (pop3_client_is_connected (client));
    }

  info = pop3_client_get_tls_info (client);
  g_assert_nonnull (info);
  *errors = info->errors;
  *by_pin = info->accepted_by_pin;

  if (ok)
    {
      g_autofree char *fingerprint = load_fingerprint (cert_name);

      g_assert_true (pop3_client_is_encrypted (client));
      g_assert_true (pop3_tls_fingerprint_equal (info->fingerprint,
                                                 fingerprint));
      pop3_client_close (client);
    }
  g_clear_object (&client);
  POPCHECK_TEST_WAIT_UNTIL (pop3_fake_server_all_ended (server),
                            WATCHDOG_SECONDS * 1000);
  pop3_fake_server_stop (server);

  return ok;
}

static void
test_pinning (void)
{
  g_autofree char *selfsigned_pin = load_fingerprint ("selfsigned");
  g_autofree char *other_pin = load_fingerprint ("other");
  g_autofree char *server_pin = load_fingerprint ("server");
  GTlsCertificateFlags errors;
  gboolean by_pin;

  /* Not from any CA we trust: refused ... */
  g_assert_false (try_certificate ("selfsigned", "127.0.0.1", FALSE, NULL,
                                   &errors, &by_pin));
  g_assert_true (errors & G_TLS_CERTIFICATE_UNKNOWN_CA);

  /* ... accepted with exactly its fingerprint pinned ... */
  g_assert_true (try_certificate ("selfsigned", "127.0.0.1", FALSE,
                                  selfsigned_pin, &errors, &by_pin));
  g_assert_true (by_pin);
  g_assert_true (errors & G_TLS_CERTIFICATE_UNKNOWN_CA);

  /* ... and refused with any other pin. */
  g_assert_false (try_certificate ("selfsigned", "127.0.0.1", FALSE,
                                   other_pin, &errors, &by_pin));
  g_assert_false (by_pin);

  /* Same name, same CA, another key: the pin of server.pem refuses
   * other.pem, even though nothing else tells them apart. */
  g_assert_false (try_certificate ("other", "localhost", FALSE, server_pin,
                                   &errors, &by_pin));
  g_assert_false (by_pin);
  g_assert_true (try_certificate ("server", "localhost", FALSE, server_pin,
                                  &errors, &by_pin));
  g_assert_true (by_pin);
}

static void
test_certificate_problems (void)
{
  GTlsCertificateFlags errors;
  gboolean by_pin;

  g_assert_true (try_certificate ("server", "localhost", TRUE, NULL, &errors,
                                  &by_pin));
  g_assert_cmpuint (errors, ==, 0);
  g_assert_false (by_pin);

  g_assert_false (try_certificate ("server", "localhost", FALSE, NULL,
                                   &errors, &by_pin));
  g_assert_true (errors & G_TLS_CERTIFICATE_UNKNOWN_CA);

  g_assert_false (try_certificate ("expired", "localhost", TRUE, NULL,
                                   &errors, &by_pin));
  g_assert_true (errors & G_TLS_CERTIFICATE_EXPIRED);

  g_assert_false (try_certificate ("notyet", "localhost", TRUE, NULL,
                                   &errors, &by_pin));
  g_assert_true (errors & G_TLS_CERTIFICATE_NOT_ACTIVATED);

  g_assert_false (try_certificate ("wronghost", "localhost", TRUE, NULL,
                                   &errors, &by_pin));
  g_assert_true (errors & G_TLS_CERTIFICATE_BAD_IDENTITY);
}

/* Scripted exchanges: byte-exact, in any split */

static void
test_script_split (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(Pop3FakeScript) script = pop3_fake_script_new ();
  g_autoptr(Pop3Reply) retr = NULL;
  g_autoptr(Pop3Reply) quit = NULL;
  g_autoptr(GError) error = NULL;
  const char *greeting = "+OK split <1.2@example.org>\r\n";
  const char *reply = "+OK 99 octets\r\n" POP3_FAKE_DOTS_RESP;
  GAsyncResult *result = NULL;

  pop3_fake_script_send_bytes (script, greeting, strlen (greeting), 1, 1);
  pop3_fake_script_expect (script, "RETR 2");
  pop3_fake_script_send_bytes (script, reply, strlen (reply), 3, 1);
  pop3_fake_script_expect (script, "QUIT");
  pop3_fake_script_send_bytes (script, "+OK bye\r\n", 9, 1, 0);
  pop3_fake_script_close (script);
  pop3_fake_server_add_script (f->server, script);
  start_and_connect (f);

  g_assert_cmpstr (pop3_client_get_welcome (f->client), ==,
                   "+OK split <1.2@example.org>");

  pop3_client_retr_async (f->client, 2, NULL, result_cb, &result);
  retr = finish_command (f->client, &result, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (retr->line, ==, "+OK 99 octets");
  assert_bytes_equal (retr->body, POP3_FAKE_DOTS_UNSTUFFED);

  pop3_client_quit_async (f->client, NULL, result_cb, &result);
  quit = finish_command (f->client, &result, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (quit->line, ==, "+OK bye");

  pop3_fake_server_stop (f->server);
  assert_no_mismatches (f->server);
  g_assert_cmpuint (pop3_fake_server_get_steps_done (f->server), ==, 6);
}

/* STARTTLS asked for, STLS not offered: nothing but CAPA may be sent. */
static void
test_script_stls_downgrade (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(Pop3FakeScript) script = pop3_fake_script_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) plain = NULL;
  g_auto(GStrv) commands = NULL;

  pop3_fake_script_send (script, "+OK hello\r\n");
  pop3_fake_script_expect (script, "CAPA");
  pop3_fake_script_send (script, "+OK\r\nUSER\r\nSASL PLAIN\r\n.\r\n");
  pop3_fake_server_add_script (f->server, script);
  pop3_fake_server_start (f->server, &error);
  g_assert_no_error (error);

  connect_client (f->client, "localhost",
                  pop3_fake_server_get_port (f->server),
                  POP3_SECURITY_STARTTLS, &error);
  g_assert_nonnull (error);
  g_assert_true (error->domain == POP3_ERROR);
  g_assert_false (pop3_client_is_connected (f->client));
  /* Whatever the client sent, the server has it once the connection
   * ended. */
  POPCHECK_TEST_WAIT_UNTIL (pop3_fake_server_all_ended (f->server),
                            WATCHDOG_SECONDS * 1000);

  pop3_fake_server_stop (f->server);
  assert_no_mismatches (f->server);
  /* A QUIT on the way out is harmless; anything else is not. */
  commands = pop3_fake_server_get_commands (f->server);
  g_assert_cmpuint (g_strv_length (commands), >=, 1);
  g_assert_cmpstr (commands[0], ==, "CAPA");
  for (guint i = 1; commands[i] != NULL; i++)
    g_assert_cmpstr (commands[i], ==, "QUIT");
  plain = pop3_fake_server_get_received (f->server, FALSE);
  g_assert_false (bytes_contain (plain, "USER"));
  g_assert_false (bytes_contain (plain, "PASS"));
  g_assert_false (bytes_contain (plain, "AUTH"));
}

/* STLS response injection: what follows "+OK" before the handshake must
 * never be read as if it had come over TLS. */
static void
run_stls_injection (Fixture *f,
                    gsize    chunk)
{
  g_autoptr(Pop3FakeScript) script = pop3_fake_script_new ();
  g_autoptr(GError) error = NULL;
  const char *injected = "+OK Begin TLS\r\n+OK\r\nPLAIN\r\n.\r\n";
  gboolean ok;

  pop3_fake_script_send (script, "+OK hello\r\n");
  pop3_fake_script_expect (script, "CAPA");
  pop3_fake_script_send (script, "+OK\r\nSTLS\r\nUSER\r\n.\r\n");
  pop3_fake_script_expect (script, "STLS");
  pop3_fake_script_send_bytes (script, injected, strlen (injected), chunk, 5);
  pop3_fake_script_start_tls (script);
  pop3_fake_script_expect (script, "CAPA");
  pop3_fake_script_send (script, "+OK\r\nUSER\r\n.\r\n");
  pop3_fake_server_add_script (f->server, script);
  pop3_fake_server_start (f->server, &error);
  g_assert_no_error (error);

  ok = connect_client (f->client, "localhost",
                       pop3_fake_server_get_port (f->server),
                       POP3_SECURITY_STARTTLS, &error);
  g_test_message ("injection %s", ok ? "discarded" : error->message);
  if (ok)
    {
      g_assert_true (pop3_client_is_encrypted (f->client));
      g_assert_false (pop3_client_has_capability (f->client, "PLAIN"));
      g_assert_true (pop3_client_has_capability (f->client, "USER"));
    }
  else
    {
      g_assert_true (error->domain == POP3_ERROR);
      g_assert_false (pop3_client_is_connected (f->client));
    }
}

static void
test_script_stls_injection (Fixture       *f,
                            gconstpointer  data)
{
  run_stls_injection (f, 0);
}

static void
test_script_stls_injection_split (Fixture       *f,
                                  gconstpointer  data)
{
  run_stls_injection (f, 1);
}

/* The server's own checks: a script that was not followed says so. */
static void
test_script_mismatch (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(Pop3FakeScript) script = pop3_fake_script_new ();
  g_autoptr(Pop3Reply) reply = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) mismatches = NULL;
  GAsyncResult *result = NULL;

  pop3_fake_script_send (script, "+OK hello\r\n");
  pop3_fake_script_expect (script, "STAT");
  pop3_fake_script_send (script, "+OK 1 2\r\n");
  pop3_fake_script_expect_prefix (script, "LIST ");
  pop3_fake_script_send (script, "+OK 1 2\r\n");
  pop3_fake_server_add_script (f->server, script);
  start_and_connect (f);

  pop3_client_noop_async (f->client, NULL, result_cb, &result);
  g_clear_pointer (&reply, pop3_reply_unref);
  reply = finish_command (f->client, &result, &error);
  g_assert_no_error (error);
  pop3_client_list_async (f->client, 1, NULL, result_cb, &result);
  g_clear_pointer (&reply, pop3_reply_unref);
  reply = finish_command (f->client, &result, &error);
  g_assert_no_error (error);

  pop3_fake_server_stop (f->server);
  mismatches = pop3_fake_server_get_mismatches (f->server);
  g_assert_cmpuint (g_strv_length (mismatches), ==, 1);
  g_assert_nonnull (strstr (mismatches[0], "\"STAT\""));
  g_assert_nonnull (strstr (mismatches[0], "\"NOOP\""));
}

/* The number of open file descriptors; 0 without /proc. */
static guint
count_open_fds (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  guint n = 0;

  if (dir == NULL)
    return 0;
  while (g_dir_read_name (dir) != NULL)
    n++;

  return n;
}

typedef struct
{
  guint limit;
  guint count;
} FdCount;

static gboolean
fds_at_most (gpointer user_data)
{
  FdCount *fds = user_data;

  fds->count = count_open_fds ();
  return fds->count <= fds->limit;
}

/* Sockets, threads and TLS sessions all go away with each session. */
static void
test_no_leaked_fds (void)
{
  guint before;
  guint after;

  if (!g_file_test ("/proc/self/fd", G_FILE_TEST_IS_DIR))
    {
      g_test_skip ("no /proc/self/fd");
      return;
    }

  before = 0;
  for (guint round = 0; round < 4; round++)
    {
      GTlsCertificateFlags errors;
      gboolean by_pin;

      g_assert_true (try_certificate ("server", "localhost", TRUE, NULL,
                                      &errors, &by_pin));
      g_assert_false (try_certificate ("expired", "localhost", TRUE, NULL,
                                       &errors, &by_pin));
      test_connect_refused ();

      /* The first round loads the TLS backend and its files. */
      if (round == 0)
        {
          before = count_open_fds ();
          after = before;
          continue;
        }

      /* What a session leaves may close a little after it, in one of
       * GLib's worker threads: the fake server's blocking handshake runs
       * in a GTask with a GMainContext (an eventfd) of its own, and the
       * worker drops the last reference to that task, and so closes the
       * eventfd, only after the server has gone on.  Wait for that close;
       * a descriptor that leaks never comes back down. */
      {
        FdCount fds = { before, 0 };

        popcheck_test_wait_until (fds_at_most, &fds, FD_CLOSE_TIMEOUT_MS);
        after = fds.count;
      }
    }

  /* Fewer is fine: a socket of the first round may close late. */
  g_assert_cmpuint (after, <=, before);
}

static void
add_mode_tests (const char *name,
                void      (*func) (Fixture *, gconstpointer))
{
  static const struct
  {
    const char *prefix;
    const Mode *mode;
  } modes[] = {
    { "/fake/plain/", &mode_plain },
    { "/fake/tls/", &mode_tls },
    { "/fake/stls/", &mode_stls },
  };

  for (guint i = 0; i < G_N_ELEMENTS (modes); i++)
    {
      g_autofree char *path = g_strconcat (modes[i].prefix, name, NULL);

      g_test_add (path, Fixture, modes[i].mode, fixture_setup, func,
                  fixture_teardown);
    }
}

#define ADD_ONE_MODE(path, mode, func) \
  g_test_add (path, Fixture, &mode, fixture_setup, func, fixture_teardown)

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);

  add_mode_tests ("getwelcome", test_getwelcome);
  add_mode_tests ("exceptions", test_exceptions);
  add_mode_tests ("user", test_user);
  add_mode_tests ("pass", test_pass);
  add_mode_tests ("stat", test_stat);
  add_mode_tests ("list", test_list);
  add_mode_tests ("retr", test_retr);
  add_mode_tests ("too-long-lines", test_too_long_lines);
  add_mode_tests ("dele", test_dele);
  add_mode_tests ("noop", test_noop);
  add_mode_tests ("rpop", test_rpop);
  add_mode_tests ("apop", test_apop);
  add_mode_tests ("apop-redos", test_apop_redos);
  add_mode_tests ("top", test_top);
  add_mode_tests ("uidl", test_uidl);
  add_mode_tests ("utf8-raises-if-unsupported",
                  test_utf8_raises_if_unsupported);
  add_mode_tests ("utf8", test_utf8);
  add_mode_tests ("capa", test_capa);
  add_mode_tests ("quit", test_quit);
  add_mode_tests ("stls-capa", test_stls_capa);
  add_mode_tests ("stls", test_stls);
  add_mode_tests ("password-encrypted", test_password_encrypted);
  add_mode_tests ("pipelining", test_pipelining);
  add_mode_tests ("lockstep", test_lockstep);
  add_mode_tests ("timeout-no-greeting", test_timeout_no_greeting);

  ADD_ONE_MODE ("/fake/plain/stls-hostname", mode_plain, test_stls_hostname);
  ADD_ONE_MODE ("/fake/tls/tls-hostname", mode_tls, test_tls_hostname);
  ADD_ONE_MODE ("/fake/plain/timeout-silent", mode_plain,
                test_timeout_silent);
  ADD_ONE_MODE ("/fake/tls/timeout-silent", mode_tls, test_timeout_silent);
  ADD_ONE_MODE ("/fake/plain/timeout-stls-handshake", mode_plain,
                test_timeout_stls_handshake);
  ADD_ONE_MODE ("/fake/plain/script-split", mode_plain, test_script_split);
  ADD_ONE_MODE ("/fake/tls/script-split", mode_tls, test_script_split);
  ADD_ONE_MODE ("/fake/plain/script-mismatch", mode_plain,
                test_script_mismatch);
  ADD_ONE_MODE ("/fake/plain/stls-downgrade", mode_plain,
                test_script_stls_downgrade);
  ADD_ONE_MODE ("/fake/plain/stls-injection", mode_plain,
                test_script_stls_injection);
  ADD_ONE_MODE ("/fake/plain/stls-injection-split", mode_plain,
                test_script_stls_injection_split);

  g_test_add_func ("/fake/apop-timestamp-redos", test_apop_timestamp_redos);
  g_test_add_func ("/fake/connect-refused", test_connect_refused);
  g_test_add_func ("/fake/pinning", test_pinning);
  g_test_add_func ("/fake/certificate-problems", test_certificate_problems);
  g_test_add_func ("/fake/no-leaked-fds", test_no_leaked_fds);

  status = g_test_run ();

  /* LeakSanitizer checks at exit: with no worker thread left. */
  popcheck_test_quiesce_threads ();

  return status;
}
