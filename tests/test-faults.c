/* test-faults.c: hostile servers, bad input and faults, over the wire
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Issue 6 at the engine level: the real Pop3Client against scripted fake
 * servers that misbehave, over plain TCP, implicit TLS and STLS.  The parser
 * tests feed the same kinds of bytes to the sans-IO parser; here they cross
 * a socket (and a TLS session), in whatever split the script chooses, and
 * each test checks what the caller gets (the exact POP3_ERROR code, whether
 * the session is still usable) and what the client did or did not put on
 * the wire.  No test may hang: every one runs under a watchdog.
 */

#define G_LOG_DOMAIN "test-faults"

#include "config.h"

#include <string.h>

#include "pop3-client.h"
#include "pop3-fake-server.h"
#include "popcheck-test-util.h"

#define S(literal) literal, sizeof (literal) - 1

/* Longer than any client timeout a test sets, so that a client timeout
 * shows up as the test's own failure and not as the watchdog. */
#define WATCHDOG_SECONDS 20

/* The credentials of the login tests; none of them may ever reach the
 * debug output, nor cross the wire where a test says it must not. */
#define USER_NAME "guido"
#define PASSWORD "s3cret-Pa55"

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
  GPtrArray      *debug_lines;
  guint           watchdog;
} Fixture;

/* Test plumbing */

static gboolean
watchdog_cb (gpointer user_data)
{
  g_error ("%s: no progress in %d seconds", g_test_get_path (),
           WATCHDOG_SECONDS);
  return G_SOURCE_REMOVE;
}

static char *
test_cert_path (const char *file_name)
{
  const char *dir = g_getenv ("POPCHECK_TEST_CERTS");

  g_assert_nonnull (dir);
  return g_build_filename (dir, file_name, NULL);
}

static void
store_result_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GAsyncResult **slot = user_data;

  g_assert_null (*slot);
  *slot = g_object_ref (result);
}

/* Runs the test's main context until @slot is filled. */
static void
wait_for_result (GAsyncResult **slot)
{
  POPCHECK_TEST_WAIT_UNTIL (*slot != NULL, WATCHDOG_SECONDS * 1000);
}

static Pop3Reply *
reply_of (Pop3Client    *client,
          GAsyncResult **slot,
          GError       **error)
{
  Pop3Reply *reply;

  wait_for_result (slot);
  reply = pop3_client_command_finish (client, *slot, error);
  g_clear_object (slot);

  return reply;
}

static Pop3Client *
client_new (void)
{
  g_autofree char *ca = test_cert_path ("ca.pem");
  g_autoptr(GTlsDatabase) database = NULL;
  g_autoptr(GError) error = NULL;
  Pop3Client *client = pop3_client_new ();

  database = g_tls_file_database_new (ca, &error);
  g_assert_no_error (error);
  pop3_client_set_tls_database (client, database);
  pop3_client_set_timeout (client, 5);

  return client;
}

static Pop3Security
security_of (Mode mode)
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

static gboolean
connect_with (Fixture       *f,
              Pop3Client    *client,
              Pop3Security   security,
              GCancellable  *cancellable,
              GError       **error)
{
  GAsyncResult *result = NULL;
  gboolean ok;

  /* By name: the test certificate is for "localhost" only. */
  pop3_client_connect_async (client, "localhost",
                             pop3_fake_server_get_port (f->server), security,
                             cancellable, store_result_cb, &result);
  wait_for_result (&result);
  ok = pop3_client_connect_finish (client, result, error);
  g_object_unref (result);

  return ok;
}

static gboolean
login_with (Pop3Client      *client,
            const char      *user,
            const char      *password,
            Pop3AuthMethod   method,
            GError         **error)
{
  GAsyncResult *result = NULL;
  gboolean ok;

  pop3_client_login_async (client, user, password, method, NULL,
                           store_result_cb, &result);
  wait_for_result (&result);
  ok = pop3_client_login_finish (client, result, error);
  g_object_unref (result);

  return ok;
}

/* Another client, connected in the fixture's mode: for scenarios that
 * end the connection, one script each. */
static Pop3Client *
connected_client (Fixture *f)
{
  g_autoptr(Pop3Client) client = client_new ();
  g_autoptr(GError) error = NULL;

  connect_with (f, client, security_of (f->mode), NULL, &error);
  g_assert_no_error (error);
  g_assert_true (pop3_client_is_connected (client));

  return g_steal_pointer (&client);
}

/* Waits until the server has seen every connection end, so that what a
 * client sent before it went away is on record: a test that shows that a
 * command was never sent looks only after that. */
static void
settle (Fixture *f)
{
  POPCHECK_TEST_WAIT_UNTIL (pop3_fake_server_all_ended (f->server),
                            WATCHDOG_SECONDS * 1000);
}

/* Scripts: the same scenario in every mode.  With STLS the script first
 * plays the upgrade the client asks for while connecting, so what follows
 * runs inside TLS just as it does after an implicit TLS handshake. */

static void
script_add_stls (Pop3FakeScript *script,
                 const char     *capa)
{
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  before = g_strconcat ("+OK\r\nSTLS\r\n", capa, ".\r\n", NULL);
  after = g_strconcat ("+OK\r\n", capa, ".\r\n", NULL);

  pop3_fake_script_expect (script, "CAPA");
  pop3_fake_script_send (script, before);
  pop3_fake_script_expect (script, "STLS");
  pop3_fake_script_send (script, "+OK Begin TLS negotiation\r\n");
  pop3_fake_script_start_tls (script);
  pop3_fake_script_expect (script, "CAPA");
  pop3_fake_script_send (script, after);
}

/* A script that greets with @greeting (CRLF included) and, with STLS,
 * upgrades and offers @capa (CAPA lines, each ending in CRLF). */
static Pop3FakeScript *
greeted_script (Fixture    *f,
                const char *greeting,
                const char *capa)
{
  Pop3FakeScript *script = pop3_fake_script_new ();

  pop3_fake_script_send (script, greeting);
  if (f->mode == MODE_STLS)
    script_add_stls (script, capa);

  return script;
}

/* The CAPA a client asks for on its own (login, or a test wanting
 * PIPELINING); with STLS the client already has it from connecting. */
static void
script_add_capa (Fixture        *f,
                 Pop3FakeScript *script,
                 const char     *capa)
{
  g_autofree char *reply = NULL;

  if (f->mode == MODE_STLS)
    return;

  reply = g_strconcat ("+OK\r\n", capa, ".\r\n", NULL);
  pop3_fake_script_expect (script, "CAPA");
  pop3_fake_script_send (script, reply);
}

static void
fetch_capa (Fixture *f)
{
  g_autoptr(Pop3Reply) reply = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;

  if (f->mode == MODE_STLS)
    return;

  pop3_client_capa_async (f->client, NULL, store_result_cb, &result);
  reply = reply_of (f->client, &result, &error);
  g_assert_no_error (error);
}

/* How many command lines the STLS prelude adds: CAPA, STLS, CAPA. */
static guint
prelude_commands (Fixture *f)
{
  return f->mode == MODE_STLS ? 3 : 0;
}

static void
start_server (Fixture        *f,
              Pop3FakeScript *script)
{
  g_autoptr(GError) error = NULL;

  if (script != NULL)
    pop3_fake_server_add_script (f->server, script);
  pop3_fake_server_start (f->server, &error);
  g_assert_no_error (error);
}

static void
start_and_connect (Fixture        *f,
                   Pop3FakeScript *script)
{
  g_autoptr(GError) error = NULL;

  start_server (f, script);
  connect_with (f, f->client, security_of (f->mode), NULL, &error);
  g_assert_no_error (error);
  g_assert_true (pop3_client_is_connected (f->client));
  g_assert_cmpint (pop3_client_is_encrypted (f->client), ==,
                   f->mode != MODE_PLAIN);
}

/* Stops the server, so that its recordings are final, and checks that the
 * client followed the script. */
static void
stop_server_checked (Fixture *f)
{
  g_auto(GStrv) mismatches = NULL;

  POPCHECK_TEST_WAIT_UNTIL (pop3_fake_server_all_settled (f->server),
                            WATCHDOG_SECONDS * 1000);
  pop3_fake_server_stop (f->server);
  mismatches = pop3_fake_server_get_mismatches (f->server);
  for (guint i = 0; mismatches[i] != NULL; i++)
    g_test_message ("server: %s", mismatches[i]);
  g_assert_cmpuint (g_strv_length (mismatches), ==, 0);
}

static gboolean
received_contains (Fixture    *f,
                   const char *needle)
{
  for (guint encrypted = 0; encrypted < 2; encrypted++)
    {
      g_autoptr(GBytes) bytes =
        pop3_fake_server_get_received (f->server, encrypted);
      gsize len;
      const char *data = g_bytes_get_data (bytes, &len);

      if (len > 0 && g_strstr_len (data, len, needle) != NULL)
        return TRUE;
    }

  return FALSE;
}

static guint
count_commands (Fixture    *f,
                const char *command)
{
  g_auto(GStrv) commands = pop3_fake_server_get_commands (f->server);
  guint n = 0;

  for (guint i = 0; commands[i] != NULL; i++)
    if (g_str_equal (commands[i], command))
      n++;

  return n;
}

static void
assert_body (Pop3Reply  *reply,
             const char *expected,
             gsize       expected_len)
{
  gsize len;
  const char *data;

  g_assert_nonnull (reply);
  g_assert_nonnull (reply->body);
  data = g_bytes_get_data (reply->body, &len);
  g_assert_cmpmem (data, len, expected, expected_len);
}

/* A NOOP that must succeed: the stream is still in step. */
static void
assert_noop_ok (Pop3Client *client)
{
  g_autoptr(Pop3Reply) reply = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;

  pop3_client_noop_async (client, NULL, store_result_cb, &result);
  reply = reply_of (client, &result, &error);
  g_assert_no_error (error);
  g_assert_cmpint (reply->status, ==, POP3_REPLY_OK);
}

/* The connection is gone: nothing more can be sent. */
static void
assert_closed (Pop3Client *client)
{
  g_autoptr(Pop3Reply) reply = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;

  g_assert_false (pop3_client_is_connected (client));
  pop3_client_noop_async (client, NULL, store_result_cb, &result);
  reply = reply_of (client, &result, &error);
  g_assert_error (error, POP3_ERROR, POP3_ERROR_CLOSED);
  g_assert_null (reply);
}

static void
script_expect_noop (Pop3FakeScript *script)
{
  pop3_fake_script_expect (script, "NOOP");
  pop3_fake_script_send (script, "+OK\r\n");
}

/* Nothing was sent but a NOOP, which got its own reply: what was refused
 * never reached the server. */
static void
assert_only_noop_sent (Fixture *f)
{
  g_auto(GStrv) commands = NULL;

  assert_noop_ok (f->client);
  stop_server_checked (f);
  commands = pop3_fake_server_get_commands (f->server);
  g_assert_cmpuint (g_strv_length (commands), ==, prelude_commands (f) + 1);
  g_assert_cmpstr (commands[prelude_commands (f)], ==, "NOOP");
}

/* Fixture */

static void
debug_cb (Pop3Client *client,
          const char *line,
          Fixture    *f)
{
  g_ptr_array_add (f->debug_lines, g_strdup (line));
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autofree char *pem = test_cert_path ("server.pem");
  g_autofree char *key = test_cert_path ("server.key");
  g_autoptr(GTlsCertificate) certificate = NULL;
  g_autoptr(GError) error = NULL;

  f->mode = *(const Mode *) data;
  f->watchdog = g_timeout_add_seconds (WATCHDOG_SECONDS, watchdog_cb, NULL);

  certificate = g_tls_certificate_new_from_files (pem, key, &error);
  g_assert_no_error (error);

  f->server = pop3_fake_server_new ();
  pop3_fake_server_set_certificate (f->server, certificate);
  pop3_fake_server_set_implicit_tls (f->server, f->mode == MODE_TLS);

  f->client = client_new ();
  f->debug_lines = g_ptr_array_new_with_free_func (g_free);
  g_signal_connect (f->client, "debug", G_CALLBACK (debug_cb), f);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  if (pop3_client_is_connected (f->client))
    pop3_client_close (f->client);
  g_clear_object (&f->client);

  /* Stopping wakes a server that still waits or pauses; nothing is
   * checked after it. */
  pop3_fake_server_stop (f->server);
  g_clear_object (&f->server);
  g_clear_pointer (&f->debug_lines, g_ptr_array_unref);

  g_source_remove (f->watchdog);
}

/* Framing over the wire */

static void
test_empty_multiline (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(Pop3FakeScript) script =
    greeted_script (f, "+OK hello\r\n", "USER\r\n");
  g_autoptr(Pop3Reply) list = NULL;
  g_autoptr(Pop3Reply) uidl = NULL;
  g_autoptr(Pop3Reply) retr = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;

  pop3_fake_script_expect (script, "LIST");
  pop3_fake_script_send (script, "+OK 0 messages\r\n.\r\n");
  pop3_fake_script_expect (script, "UIDL");
  pop3_fake_script_send (script, "+OK\r\n.\r\n");
  pop3_fake_script_expect (script, "RETR 1");
  pop3_fake_script_send (script, "+OK 0 octets\r\n.\r\n");
  script_expect_noop (script);
  start_and_connect (f, script);

  pop3_client_list_async (f->client, 0, NULL, store_result_cb, &result);
  list = reply_of (f->client, &result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->listing->len, ==, 0);
  assert_body (list, "", 0);

  pop3_client_uidl_async (f->client, 0, NULL, store_result_cb, &result);
  uidl = reply_of (f->client, &result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pop3_uid_listing_get_length (uidl->uids), ==, 0);

  pop3_client_retr_async (f->client, 1, NULL, store_result_cb, &result);
  retr = reply_of (f->client, &result, &error);
  g_assert_no_error (error);
  assert_body (retr, "", 0);

  assert_noop_ok (f->client);
  stop_server_checked (f);
}

/* The terminator in one buffer, byte by byte, and cut just before its
 * line ending and inside it: always the same message, never more. */
static void
test_terminator_split (Fixture       *f,
                       gconstpointer  data)
{
  static const char wire[] = "+OK 14 octets\r\nHello\r\nWorld\r\n.\r\n";
  static const char *const cuts[] = {
    "+OK\r\nHello\r\nWorld\r\n.", "\r\n",
    "+OK\r\nHello\r\nWorld\r\n.\r", "\n",
    "+OK\r\nHello\r\nWorld\r\n", ".\r\n",
  };
  g_autoptr(Pop3FakeScript) script =
    greeted_script (f, "+OK hello\r\n", "USER\r\n");
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;
  guint msg = 1;

  pop3_fake_script_expect (script, "RETR 1");
  pop3_fake_script_send_bytes (script, S (wire), 0, 0);
  pop3_fake_script_expect (script, "RETR 2");
  pop3_fake_script_send_bytes (script, S (wire), 1, 1);
  for (guint i = 0; i < G_N_ELEMENTS (cuts); i += 2)
    {
      g_autofree char *line = g_strdup_printf ("RETR %u", 3 + i / 2);

      pop3_fake_script_expect (script, line);
      pop3_fake_script_send (script, cuts[i]);
      pop3_fake_script_pause (script, 50);
      pop3_fake_script_send (script, cuts[i + 1]);
    }
  script_expect_noop (script);
  start_and_connect (f, script);

  for (; msg <= 2 + G_N_ELEMENTS (cuts) / 2; msg++)
    {
      g_autoptr(Pop3Reply) reply = NULL;

      pop3_client_retr_async (f->client, msg, NULL, store_result_cb, &result);
      reply = reply_of (f->client, &result, &error);
      g_assert_no_error (error);
      assert_body (reply, S ("Hello\r\nWorld\r\n"));
    }

  /* The NOOP gets its own "+OK", not something left over from a RETR. */
  assert_noop_ok (f->client);
  stop_server_checked (f);
}

/* The connection ends before the terminating dot, in the forms a broken
 * server or a cut cable produce.  None of them may pass for a message. */
static void
test_eof_before_dot (Fixture       *f,
                     gconstpointer  data)
{
  static const char *const tails[] = {
    "+OK\r\nlast line\r\n",
    /* No line break before the dot: "line." is a line, not the end. */
    "+OK\r\nlast line.",
    "+OK\r\nlast line.\r\n",
    "+OK\r\nlast line\r\n.",
    "+OK\r\nlast line\r\n.\r",
    "+OK 5 octets",
  };

  for (guint i = 0; i < G_N_ELEMENTS (tails); i++)
    {
      g_autoptr(Pop3FakeScript) script =
        greeted_script (f, "+OK hello\r\n", "USER\r\n");

      pop3_fake_script_expect (script, "RETR 1");
      pop3_fake_script_send (script, tails[i]);
      pop3_fake_script_pause (script, 50);
      pop3_fake_script_close (script);
      pop3_fake_server_add_script (f->server, script);
    }
  start_server (f, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (tails); i++)
    {
      g_autoptr(Pop3Client) client = connected_client (f);
      g_autoptr(Pop3Reply) reply = NULL;
      g_autoptr(GError) error = NULL;
      GAsyncResult *result = NULL;

      g_test_message ("tail %u: \"%s\"", i, tails[i]);

      pop3_client_retr_async (client, 1, NULL, store_result_cb, &result);
      reply = reply_of (client, &result, &error);
      g_assert_error (error, POP3_ERROR, POP3_ERROR_CLOSED);
      g_assert_null (reply);
      assert_closed (client);
    }

  stop_server_checked (f);
}

/* RETR answered with @wire in one write, then RETR again answered byte
 * by byte (or in @chunk-byte writes): both bodies must be @expected
 * exactly, and a NOOP after them gets its own reply.  Returns the first
 * reply for further checks. */
static Pop3Reply *
retr_whole_and_split (Fixture    *f,
                      const char *wire,
                      gsize       wire_len,
                      gsize       chunk,
                      const char *expected,
                      gsize       expected_len)
{
  g_autoptr(Pop3FakeScript) script =
    greeted_script (f, "+OK hello\r\n", "USER\r\n");
  g_autoptr(Pop3Reply) reply = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;

  pop3_fake_script_expect (script, "RETR 1");
  pop3_fake_script_send_bytes (script, wire, wire_len, 0, 0);
  pop3_fake_script_expect (script, "RETR 2");
  pop3_fake_script_send_bytes (script, wire, wire_len, chunk, 0);
  script_expect_noop (script);
  start_and_connect (f, script);

  for (guint msg = 2; msg > 0; msg--)
    {
      g_clear_pointer (&reply, pop3_reply_unref);
      pop3_client_retr_async (f->client, 3 - msg, NULL, store_result_cb,
                              &result);
      reply = reply_of (f->client, &result, &error);
      g_assert_no_error (error);
      assert_body (reply, expected, expected_len);
    }

  assert_noop_ok (f->client);
  stop_server_checked (f);

  return g_steal_pointer (&reply);
}

static void
test_dot_lines (Fixture       *f,
                gconstpointer  data)
{
  static const char wire[] =
    "+OK\r\n"
    "..x\r\n"
    "...\r\n"
    ".foo\r\n"
    "\r.\r\n"
    "last line.\r\n"
    " .\r\n"
    ".\r\n";
  /* RFC 1939: one leading dot goes; like poplib, also from ".foo", which
   * the server should have sent as "..foo".  A line that merely contains a
   * dot, or "\r." (CR, dot), is not the terminator and is kept. */
  static const char expected[] =
    ".x\r\n"
    "..\r\n"
    "foo\r\n"
    "\r.\r\n"
    "last line.\r\n"
    " .\r\n";
  g_autoptr(Pop3Reply) reply = NULL;

  reply = retr_whole_and_split (f, S (wire), 1, S (expected));
}

/* A message is bytes, not a string: NUL and bytes that are not UTF-8 are
 * kept exactly, and only the status line is made valid for display. */
static void
test_binary_body (Fixture       *f,
                  gconstpointer  data)
{
  static const char wire[] =
    "+OK \xff\xfe octets\r\n"
    "Subject: \xe4\xf6\xfc \xc3\xa4\r\n"
    "\r\n"
    "bin\0ary\x80\x81\xff\0\r\n"
    "\0\r\n"
    "..\0\r\n"
    ".\r\n";
  static const char expected[] =
    "Subject: \xe4\xf6\xfc \xc3\xa4\r\n"
    "\r\n"
    "bin\0ary\x80\x81\xff\0\r\n"
    "\0\r\n"
    ".\0\r\n";
  g_autoptr(Pop3Reply) reply = NULL;

  reply = retr_whole_and_split (f, S (wire), 3, S (expected));
  g_assert_true (g_utf8_validate (reply->line, -1, NULL));
  g_assert_true (g_str_has_prefix (reply->line, "+OK "));
  g_assert_true (g_str_has_suffix (reply->line, " octets"));
}

/* Body lines are bounded only by the response cap (RFC 5322 allows 998
 * octets, real mail has far longer lines). */
static void
test_long_body_line (Fixture       *f,
                     gconstpointer  data)
{
  const gsize line_len = 100 * 1024;
  g_autoptr(Pop3FakeScript) script =
    greeted_script (f, "+OK hello\r\n", "USER\r\n");
  g_autoptr(GString) wire = g_string_new ("+OK\r\nSubject: long\r\n\r\n");
  g_autoptr(GString) expected = g_string_new ("Subject: long\r\n\r\n");
  g_autoptr(Pop3Reply) reply = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;

  for (gsize i = 0; i < line_len; i++)
    {
      g_string_append_c (wire, 'a' + i % 26);
      g_string_append_c (expected, 'a' + i % 26);
    }
  g_string_append (wire, "\r\nend\r\n.\r\n");
  g_string_append (expected, "\r\nend\r\n");

  pop3_fake_script_expect (script, "RETR 1");
  pop3_fake_script_send_bytes (script, wire->str, wire->len, 4096, 0);
  script_expect_noop (script);
  start_and_connect (f, script);

  pop3_client_retr_async (f->client, 1, NULL, store_result_cb, &result);
  reply = reply_of (f->client, &result, &error);
  g_assert_no_error (error);
  assert_body (reply, expected->str, expected->len);

  assert_noop_ok (f->client);
  stop_server_checked (f);
}

/* A listing line past the line bound leaves the stream out of step: the
 * command fails and the connection is closed. */
static void
test_listing_line_too_long (Fixture       *f,
                            gconstpointer  data)
{
  static const char *const commands[] = { "CAPA", "LIST", "UIDL" };
  g_autofree char *filler = g_strnfill (POP3_DEFAULT_MAX_LINE + 100, '7');

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_autoptr(Pop3FakeScript) script =
        greeted_script (f, "+OK hello\r\n", "USER\r\n");
      g_autofree char *reply = NULL;

      reply = g_strdup_printf ("+OK\r\n1 %s\r\n1 1\r\n.\r\n", filler);
      pop3_fake_script_expect (script, commands[i]);
      pop3_fake_script_send (script, reply);
      pop3_fake_server_add_script (f->server, script);
    }
  start_server (f, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_autoptr(Pop3Client) client = connected_client (f);
      g_autoptr(Pop3Reply) reply = NULL;
      g_autoptr(GError) error = NULL;
      GAsyncResult *result = NULL;

      if (i == 0)
        pop3_client_capa_async (client, NULL, store_result_cb, &result);
      else if (i == 1)
        pop3_client_list_async (client, 0, NULL, store_result_cb, &result);
      else
        pop3_client_uidl_async (client, 0, NULL, store_result_cb, &result);
      reply = reply_of (client, &result, &error);
      g_assert_error (error, POP3_ERROR, POP3_ERROR_LINE_TOO_LONG);
      g_assert_null (reply);
      assert_closed (client);
    }

  stop_server_checked (f);
}

/* A reply that never ends stops at the response cap, long before the
 * client's timeout, instead of growing without bound. */
static void
test_response_cap (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(Pop3FakeScript) script =
    greeted_script (f, "+OK hello\r\n", "USER\r\n");
  g_autoptr(GString) endless = g_string_new ("+OK\r\n");
  g_autoptr(Pop3Reply) reply = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;
  gint64 start;

  while (endless->len < 64 * 1024)
    g_string_append (endless, "a line of a message that goes on and on\r\n");

  pop3_fake_script_expect (script, "RETR 1");
  pop3_fake_script_send_bytes (script, endless->str, endless->len, 1024, 1);
  pop3_fake_script_pause (script, 60000);
  pop3_client_set_max_response (f->client, 4096);
  start_and_connect (f, script);

  start = g_get_monotonic_time ();
  pop3_client_retr_async (f->client, 1, NULL, store_result_cb, &result);
  reply = reply_of (f->client, &result, &error);
  g_assert_error (error, POP3_ERROR, POP3_ERROR_RESPONSE_TOO_LONG);
  g_assert_null (reply);
  /* The server pauses for a minute: well before that means the cap hit. */
  g_assert_cmpint (g_get_monotonic_time () - start, <, 20 * G_USEC_PER_SEC);
  assert_closed (f->client);
}

/* A server that sends a line every 50 ms, well inside the 2 s timeout,
 * never lets the timeout run out; the reply's overall deadline ends it
 * soon after the timeout, and the connection with it. */
static void
test_dripping_listing (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(Pop3FakeScript) script =
    greeted_script (f, "+OK hello\r\n", "USER\r\nUIDL\r\n");
  g_autoptr(GString) drip = g_string_new (NULL);
  g_autoptr(Pop3Reply) reply = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;
  gint64 start;

  /* A minute of it: far beyond the test's own watchdog. */
  for (guint i = 0; i < 1200; i++)
    g_string_append (drip, "1 uid-1\r\n");

  pop3_fake_script_expect (script, "UIDL");
  pop3_fake_script_send (script, "+OK\r\n");
  pop3_fake_script_send_bytes (script, drip->str, drip->len,
                               strlen ("1 uid-1\r\n"), 50);
  pop3_client_set_timeout (f->client, 2);
  start_and_connect (f, script);

  start = g_get_monotonic_time ();
  pop3_client_uidl_async (f->client, 0, NULL, store_result_cb, &result);
  reply = reply_of (f->client, &result, &error);
  g_assert_error (error, POP3_ERROR, POP3_ERROR_TIMEOUT);
  g_assert_null (reply);
  if (!g_str_has_prefix (error->message, "The server localhost was too "
                         "slow: one reply took more than "))
    g_error ("unexpected message: %s", error->message);
  /* Not before the timeout a reply always gets. */
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 2 * G_USEC_PER_SEC);
  assert_closed (f->client);
}

/* A reply that came while this thread was held past the timeout (a slow
 * handler of the application's, a loaded machine) is a reply, not a
 * timeout: the timeout measures the server's silence, not ours. */
static void
test_reply_behind_busy_thread (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(Pop3FakeScript) script =
    greeted_script (f, "+OK hello\r\n", "USER\r\n");
  g_autoptr(Pop3Reply) reply = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;
  gint64 held_until;

  pop3_fake_script_expect (script, "NOOP");
  pop3_fake_script_pause (script, 100);
  pop3_fake_script_send (script, "+OK still here\r\n");
  pop3_client_set_timeout (f->client, 1);
  start_and_connect (f, script);

  pop3_client_noop_async (f->client, NULL, store_result_cb, &result);
  POPCHECK_TEST_WAIT_UNTIL (count_commands (f, "NOOP") == 1, WATCHDOG_SECONDS * 1000);
  /* The thread is held until the reply has been sent and the timeout has
   * passed; then both are ready at once. */
  held_until = g_get_monotonic_time () + 3 * G_USEC_PER_SEC / 2;
  while (!pop3_fake_server_all_settled (f->server) ||
         g_get_monotonic_time () < held_until)
    ;

  reply = reply_of (f->client, &result, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (reply->text, ==, "still here");
  stop_server_checked (f);
}

/* Numbers over the wire */

/* A reply that does not parse fails its command only: it was a complete
 * reply, so the stream is still in step and the session goes on. */
static void
test_stat_numbers (Fixture       *f,
                   gconstpointer  data)
{
  static const char *const bad[] = {
    "+OK 4294967400 1",
    "+OK 1 18446744073709551616",
    "+OK 1 99999999999999999999999",
    "+OK -1 5",
    "+OK 5 -1",
    "+OK +5 5",
    "+OK 5 +5",
    "+OK 5",
    "+OK",
    "+OK 2 messages (320 octets)",
    "+OK 0x10 5",
  };
  g_autoptr(Pop3FakeScript) script =
    greeted_script (f, "+OK hello\r\n", "USER\r\n");
  g_autoptr(Pop3Reply) largest = NULL;
  g_autoptr(Pop3Reply) many = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;
  gint64 start;

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *line = g_strconcat (bad[i], "\r\n", NULL);

      pop3_fake_script_expect (script, "STAT");
      pop3_fake_script_send (script, line);
      script_expect_noop (script);
    }
  pop3_fake_script_expect (script, "STAT");
  pop3_fake_script_send (script, "+OK 4294967295 18446744073709551615\r\n");
  pop3_fake_script_expect (script, "STAT");
  pop3_fake_script_send (script, "+OK 100000000 5000000000\r\n");
  start_and_connect (f, script);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(Pop3Reply) reply = NULL;

      g_test_message ("STAT reply \"%s\"", bad[i]);
      pop3_client_stat_async (f->client, NULL, store_result_cb, &result);
      reply = reply_of (f->client, &result, &error);
      g_assert_error (error, POP3_ERROR, POP3_ERROR_PROTOCOL);
      g_assert_null (reply);
      g_clear_error (&error);
      g_assert_true (pop3_client_is_connected (f->client));
      assert_noop_ok (f->client);
    }

  /* The largest values that do fit are taken as they are. */
  pop3_client_stat_async (f->client, NULL, store_result_cb, &result);
  largest = reply_of (f->client, &result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (largest->count, ==, G_MAXUINT);
  g_assert_cmpuint (largest->size, ==, G_MAXUINT64);

  /* 100 million messages: a number to report, nothing is allocated for
   * it, so it takes no time. */
  start = g_get_monotonic_time ();
  pop3_client_stat_async (f->client, NULL, store_result_cb, &result);
  many = reply_of (f->client, &result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (many->count, ==, 100000000);
  g_assert_cmpuint (many->size, ==, G_GUINT64_CONSTANT (5000000000));
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC);

  stop_server_checked (f);
}

static void
test_listing_numbers (Fixture       *f,
                      gconstpointer  data)
{
  static const struct
  {
    const char *command;
    const char *reply;
  } bad[] = {
    { "LIST 1", "+OK 1 -1\r\n" },
    { "LIST 1", "+OK 1 18446744073709551616\r\n" },
    { "LIST 1", "+OK 0 5\r\n" },
    { "LIST 1", "+OK 1\r\n" },
    { "LIST", "+OK\r\n1 18446744073709551616\r\n.\r\n" },
    { "LIST", "+OK\r\n1 +5\r\n.\r\n" },
    { "LIST", "+OK\r\n4294967296 5\r\n.\r\n" },
    /* The same message twice. */
    { "LIST", "+OK\r\n1 10\r\n2 20\r\n1 30\r\n.\r\n" },
    { "UIDL", "+OK\r\n1 aaa\r\n1 bbb\r\n.\r\n" },
    /* Two messages, one UID. */
    { "UIDL", "+OK\r\n1 aaa\r\n2 aaa\r\n.\r\n" },
    { "UIDL", "+OK\r\n-1 aaa\r\n.\r\n" },
  };
  g_autoptr(Pop3FakeScript) script =
    greeted_script (f, "+OK hello\r\n", "USER\r\n");
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      pop3_fake_script_expect (script, bad[i].command);
      pop3_fake_script_send (script, bad[i].reply);
      script_expect_noop (script);
    }
  start_and_connect (f, script);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(Pop3Reply) reply = NULL;

      g_test_message ("%s answered \"%s\"", bad[i].command, bad[i].reply);
      if (g_str_equal (bad[i].command, "LIST 1"))
        pop3_client_list_async (f->client, 1, NULL, store_result_cb, &result);
      else if (g_str_equal (bad[i].command, "LIST"))
        pop3_client_list_async (f->client, 0, NULL, store_result_cb, &result);
      else
        pop3_client_uidl_async (f->client, 0, NULL, store_result_cb, &result);
      reply = reply_of (f->client, &result, &error);
      g_assert_error (error, POP3_ERROR, POP3_ERROR_PROTOCOL);
      g_assert_null (reply);
      g_clear_error (&error);
      assert_noop_ok (f->client);
    }

  stop_server_checked (f);
}

/* "LIST n" and "UIDL n" answered for another message: the reply is not
 * about what was asked, so it must not be taken for it. */
static void
test_listing_other_message (Fixture       *f,
                            gconstpointer  data)
{
  static const struct
  {
    const char *command;
    const char *reply;
  } other[] = {
    { "LIST 1", "+OK 9 200\r\n" },
    { "UIDL 1", "+OK 9 other\r\n" },
    { "UIDL 2", "+OK 1 other\r\n" },
  };
  g_autoptr(Pop3FakeScript) script =
    greeted_script (f, "+OK hello\r\n", "USER\r\n");
  g_autoptr(Pop3Reply) right = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (other); i++)
    {
      pop3_fake_script_expect (script, other[i].command);
      pop3_fake_script_send (script, other[i].reply);
      script_expect_noop (script);
    }
  pop3_fake_script_expect (script, "UIDL 9");
  pop3_fake_script_send (script, "+OK 9 right\r\n");
  start_and_connect (f, script);

  for (guint i = 0; i < G_N_ELEMENTS (other); i++)
    {
      g_autoptr(Pop3Reply) reply = NULL;
      guint msg = other[i].command[5] - '0';

      g_test_message ("%s answered \"%s\"", other[i].command,
                      other[i].reply);
      if (g_str_has_prefix (other[i].command, "LIST"))
        pop3_client_list_async (f->client, msg, NULL, store_result_cb,
                                &result);
      else
        pop3_client_uidl_async (f->client, msg, NULL, store_result_cb,
                                &result);
      reply = reply_of (f->client, &result, &error);
      g_assert_error (error, POP3_ERROR, POP3_ERROR_PROTOCOL);
      g_assert_null (reply);
      g_clear_error (&error);
      assert_noop_ok (f->client);
    }

  /* The number asked for is still accepted. */
  pop3_client_uidl_async (f->client, 9, NULL, store_result_cb, &result);
  right = reply_of (f->client, &result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (right->msg, ==, 9);
  g_assert_cmpstr (right->uid, ==, "right");

  stop_server_checked (f);
}

/* Unsolicited data */

/* Bytes the server sends before it was asked anything must not become the
 * reply to the next command.  Sent with the greeting, they may be caught
 * while connecting or at the first command, depending on how the reads
 * fall; either way it is a protocol error and the command is not sent. */
static void
test_unsolicited_with_greeting (Fixture       *f,
                                gconstpointer  data)
{
  g_autoptr(Pop3FakeScript) script =
    greeted_script (f, "+OK hello\r\n+OK 1 1\r\n", "USER\r\n");
  g_autoptr(Pop3Reply) reply = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;

  pop3_fake_script_expect (script, "STAT");
  pop3_fake_script_send (script, "+OK 2 2\r\n");
  start_server (f, script);

  if (connect_with (f, f->client, security_of (f->mode), NULL, &error))
    {
      pop3_client_stat_async (f->client, NULL, store_result_cb, &result);
      reply = reply_of (f->client, &result, &error);
      g_assert_null (reply);
    }
  g_assert_error (error, POP3_ERROR, POP3_ERROR_PROTOCOL);
  g_assert_false (pop3_client_is_connected (f->client));

  settle (f);
  pop3_fake_server_stop (f->server);
  g_assert_cmpuint (count_commands (f, "STAT"), ==, 0);
}

static void
test_unsolicited_after_pause (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(Pop3FakeScript) script =
    greeted_script (f, "+OK hello\r\n", "USER\r\n");
  g_autoptr(Pop3Reply) reply = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;

  pop3_fake_script_pause (script, 100);
  pop3_fake_script_send (script, "+OK 1 1\r\n");
  pop3_fake_script_wait_delivered (script);
  pop3_fake_script_expect (script, "STAT");
  pop3_fake_script_send (script, "+OK 2 2\r\n");
  start_and_connect (f, script);

  /* Until the injected bytes are in the client's socket. */
  POPCHECK_TEST_WAIT_UNTIL (
    pop3_fake_server_find_log (f->server, "DELIVERED", 0) >= 0,
    WATCHDOG_SECONDS * 1000);

  pop3_client_stat_async (f->client, NULL, store_result_cb, &result);
  reply = reply_of (f->client, &result, &error);
  g_assert_error (error, POP3_ERROR, POP3_ERROR_PROTOCOL);
  g_assert_null (reply);
  assert_closed (f->client);

  settle (f);
  pop3_fake_server_stop (f->server);
  g_assert_cmpuint (count_commands (f, "STAT"), ==, 0);
}

/* Greetings */

static void
test_err_greeting (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(Pop3FakeScript) script = pop3_fake_script_new ();
  g_autoptr(GError) error = NULL;

  pop3_fake_script_send (script,
                         "-ERR [SYS/TEMP] Too many connections, try later\r\n");
  pop3_fake_script_close (script);
  start_server (f, script);

  g_assert_false (connect_with (f, f->client, security_of (f->mode), NULL,
                                &error));
  g_assert_error (error, POP3_ERROR, POP3_ERROR_SERVER);
  g_assert_nonnull (strstr (error->message, "Too many connections"));
  g_assert_cmpstr (pop3_error_get_response_code (error), ==, "SYS/TEMP");
  g_assert_false (pop3_client_is_connected (f->client));

  /* Nothing was sent to a server that refused us, not even CAPA. */
  settle (f);
  pop3_fake_server_stop (f->server);
  g_assert_false (received_contains (f, "CAPA"));
}

/* The greeting is the server's text: escape sequences and markup are kept
 * as they came, for the UI to escape, and are not interpreted here. */
static void
test_hostile_greeting (Fixture       *f,
                       gconstpointer  data)
{
  static const char greeting[] =
    "+OK \x1b[2J\x1b[31m<b>Welcome</b> <a href=\"x\">&amp;</a>\x1b[0m\a";
  g_autofree char *wire = g_strconcat (greeting, "\r\n", NULL);
  g_autoptr(Pop3FakeScript) script = greeted_script (f, wire, "USER\r\n");

  script_expect_noop (script);
  start_and_connect (f, script);

  g_assert_cmpstr (pop3_client_get_welcome (f->client), ==, greeting);
  /* "<b>" has no "@": not an APOP timestamp. */
  g_assert_null (pop3_client_get_apop_timestamp (f->client));

  assert_noop_ok (f->client);
  stop_server_checked (f);
}

/* Server text that would drive a terminal: OSC (window title), CSI
 * (clear screen) in its 7-bit and C1 forms, and the code points that
 * reorder or hide text (RLM, ALM, BOM, a tag character). */
#define HOSTILE_TEXT \
  "\x1b]0;pwned\x07" "bad \x1b[2J\xc2\x9b" "31mnews \xe2\x80\x8f\xd8\x9c" \
  "\xef\xbb\xbf\xf3\xa0\x80\x81" "end"

static void
assert_shown_safely (const char *text)
{
  g_assert_nonnull (text);
  g_assert_nonnull (strstr (text, "bad"));
  g_assert_nonnull (strstr (text, "end"));
  g_assert_null (strstr (text, "pwned"));
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      g_assert_cmpuint (c, >=, 0x20);
      g_assert_false (c >= 0x7F && c <= 0x9F);
      g_assert_false (c == 0x200F || c == 0x061C || c == 0xFEFF);
      g_assert_false (c >= 0xE0000 && c <= 0xE007F);
    }
}

/* What a server says reaches errors, capabilities and debug lines without
 * the controls in it: they end up on a terminal, in a label or in a
 * notification. */
static void
test_hostile_server_text (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(Pop3FakeScript) script =
    greeted_script (f, "+OK hello\r\n",
                    "USER\r\nX-HOSTILE " HOSTILE_TEXT "\r\n");
  g_autoptr(Pop3Reply) reply = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;
  g_autofree char *joined = NULL;
  GStrv params;

  script_add_capa (f, script, "USER\r\nX-HOSTILE " HOSTILE_TEXT "\r\n");
  pop3_fake_script_expect (script, "STAT");
  pop3_fake_script_send (script, "-ERR [SYS/TEMP] " HOSTILE_TEXT "\r\n");
  script_expect_noop (script);
  pop3_client_set_debug_level (f->client, 2);
  start_and_connect (f, script);
  fetch_capa (f);

  params = g_hash_table_lookup (pop3_client_get_capabilities (f->client),
                                "X-HOSTILE");
  g_assert_nonnull (params);
  g_assert_nonnull (params[0]);
  joined = g_strjoinv (" ", params);
  assert_shown_safely (joined);

  pop3_client_stat_async (f->client, NULL, store_result_cb, &result);
  reply = reply_of (f->client, &result, &error);
  g_assert_error (error, POP3_ERROR, POP3_ERROR_SERVER);
  g_assert_cmpstr (pop3_error_get_response_code (error), ==, "SYS/TEMP");
  assert_shown_safely (error->message);
  assert_shown_safely (pop3_error_get_server_text (error));
  assert_shown_safely (pop3_error_get_detail (error));

  assert_noop_ok (f->client);
  stop_server_checked (f);

  g_assert_cmpuint (f->debug_lines->len, >, 0);
  for (guint i = 0; i < f->debug_lines->len; i++)
    {
      g_autofree char *line =
        g_strconcat (f->debug_lines->pdata[i], " bad end", NULL);

      assert_shown_safely (line);
    }
}

/* CAPA refused or cut off */

/* RFC 1939 servers do not know CAPA: USER/PASS is what is left. */
static void
test_capa_err_falls_back (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(Pop3FakeScript) script = pop3_fake_script_new ();
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) commands = NULL;

  pop3_fake_script_send (script, "+OK hello\r\n");
  pop3_fake_script_expect (script, "CAPA");
  pop3_fake_script_send (script, "-ERR unknown command\r\n");
  pop3_fake_script_expect (script, "USER " USER_NAME);
  pop3_fake_script_send (script, "+OK\r\n");
  pop3_fake_script_expect (script, "PASS " PASSWORD);
  pop3_fake_script_send (script, "+OK logged in\r\n");
  start_and_connect (f, script);

  login_with (f->client, USER_NAME, PASSWORD, POP3_AUTH_AUTO, &error);
  g_assert_no_error (error);
  g_assert_false (pop3_client_has_capability (f->client, "STLS"));

  stop_server_checked (f);
  commands = pop3_fake_server_get_commands (f->server);
  g_assert_cmpuint (g_strv_length (commands), ==, 3);
}

/* The connection dropped on CAPA: the login fails as a closed connection,
 * not as a refused password, and nothing else is tried on it. */
static void
test_capa_dropped (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(Pop3FakeScript) script = pop3_fake_script_new ();
  g_autoptr(GError) error = NULL;

  pop3_fake_script_send (script, "+OK hello\r\n");
  pop3_fake_script_expect (script, "CAPA");
  pop3_fake_script_close (script);
  start_and_connect (f, script);

  g_assert_false (login_with (f->client, USER_NAME, PASSWORD, POP3_AUTH_AUTO,
                              &error));
  g_assert_error (error, POP3_ERROR, POP3_ERROR_CLOSED);
  g_assert_false (pop3_client_is_connected (f->client));

  settle (f);
  pop3_fake_server_stop (f->server);
  g_assert_false (received_contains (f, "USER"));
  g_assert_false (received_contains (f, PASSWORD));
  g_assert_cmpuint (pop3_fake_server_get_n_connections (f->server), ==, 1);
}

/* STARTTLS was asked for and cannot be had: the connection fails before
 * any credential, and a caller that tries to log in anyway sends none. */
static void
run_starttls_refused (Fixture        *f,
                      Pop3FakeScript *script,
                      int             expected)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) login_error = NULL;

  start_server (f, script);

  g_assert_false (connect_with (f, f->client, POP3_SECURITY_STARTTLS, NULL,
                                &error));
  g_assert_error (error, POP3_ERROR, expected);
  g_assert_false (pop3_client_is_connected (f->client));
  g_assert_false (pop3_client_is_encrypted (f->client));

  g_assert_false (login_with (f->client, USER_NAME, PASSWORD, POP3_AUTH_USER,
                              &login_error));
  g_assert_error (login_error, POP3_ERROR, POP3_ERROR_CLOSED);

  settle (f);
  pop3_fake_server_stop (f->server);
  g_assert_false (received_contains (f, PASSWORD));
  g_assert_false (received_contains (f, "USER"));
  g_assert_false (received_contains (f, "PASS"));
  g_assert_false (received_contains (f, "AUTH"));
  g_assert_false (received_contains (f, "APOP"));
  g_assert_cmpuint (count_commands (f, "STLS"), <=, 1);
  g_assert_cmpuint (pop3_fake_server_get_n_connections (f->server), ==, 1);
}

static void
test_starttls_capa_err (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(Pop3FakeScript) script = pop3_fake_script_new ();

  pop3_fake_script_send (script, "+OK hello\r\n");
  pop3_fake_script_expect (script, "CAPA");
  pop3_fake_script_send (script, "-ERR unknown command\r\n");
  run_starttls_refused (f, script, POP3_ERROR_TLS);
  g_assert_cmpuint (count_commands (f, "STLS"), ==, 0);
}

static void
test_starttls_capa_dropped (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(Pop3FakeScript) script = pop3_fake_script_new ();

  pop3_fake_script_send (script, "+OK hello\r\n");
  pop3_fake_script_expect (script, "CAPA");
  pop3_fake_script_close (script);
  run_starttls_refused (f, script, POP3_ERROR_CLOSED);
  g_assert_cmpuint (count_commands (f, "STLS"), ==, 0);
}

static void
test_starttls_stls_err (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(Pop3FakeScript) script = pop3_fake_script_new ();

  pop3_fake_script_send (script, "+OK hello\r\n");
  pop3_fake_script_expect (script, "CAPA");
  pop3_fake_script_send (script, "+OK\r\nSTLS\r\nUSER\r\n.\r\n");
  pop3_fake_script_expect (script, "STLS");
  pop3_fake_script_send (script, "-ERR [SYS/TEMP] TLS not available now\r\n");
  run_starttls_refused (f, script, POP3_ERROR_TLS);
  /* Exactly one attempt: no retry, no second STLS. */
  g_assert_cmpuint (count_commands (f, "STLS"), ==, 1);
}

/* Certificate pinning */

static char *
test_cert_fingerprint (const char *name)
{
  g_autofree char *file_name = g_strconcat (name, ".sha256", NULL);
  g_autofree char *path = test_cert_path (file_name);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);

  return g_strstrip (g_steal_pointer (&contents));
}

/* A pin means "this certificate and no other": the server's certificate
 * is signed by the trusted CA and valid for the name, but it is not the
 * pinned one ("other", the same name with another key), so the
 * connection fails before anything is sent inside TLS. */
static void
test_pin_is_exclusive (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(Pop3FakeScript) script =
    greeted_script (f, "+OK hello\r\n", "USER\r\n");
  g_autofree char *other = test_cert_fingerprint ("other");
  g_autoptr(GBytes) encrypted = NULL;
  g_autoptr(GError) error = NULL;

  pop3_client_set_pinned_fingerprint (f->client, other);
  start_server (f, script);

  g_assert_false (connect_with (f, f->client, security_of (f->mode), NULL,
                                &error));
  g_assert_error (error, POP3_ERROR, POP3_ERROR_CERTIFICATE);
  g_assert_cmpint (pop3_error_get_kind (error), ==,
                   POP3_ERROR_KIND_CERTIFICATE);
  g_assert_false (pop3_client_is_connected (f->client));

  settle (f);
  pop3_fake_server_stop (f->server);
  encrypted = pop3_fake_server_get_received (f->server, TRUE);
  g_assert_cmpuint (g_bytes_get_size (encrypted), ==, 0);
}

/* The pinned certificate itself is still accepted when it also validates. */
static void
test_pin_matching_valid (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(Pop3FakeScript) script =
    greeted_script (f, "+OK hello\r\n", "USER\r\n");
  g_autofree char *server = test_cert_fingerprint ("server");

  pop3_client_set_pinned_fingerprint (f->client, server);
  script_expect_noop (script);
  start_and_connect (f, script);

  assert_noop_ok (f->client);
  stop_server_checked (f);
}

/* Commands queued behind STLS through the public API */

static gboolean
plaintext_contains (Fixture    *f,
                    const char *needle)
{
  g_autoptr(GBytes) bytes = pop3_fake_server_get_received (f->server, FALSE);
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);

  return len > 0 && g_strstr_len (data, len, needle) != NULL;
}

/* A NOOP queued right behind STLS waits for the handshake and goes out
 * inside TLS, after the CAPA that RFC 2595 asks for; sent on "+OK" it
 * would cross the wire in cleartext and break the handshake. */
static void
test_queued_behind_stls (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(Pop3FakeScript) script = pop3_fake_script_new ();
  g_autoptr(Pop3Reply) stls = NULL;
  g_autoptr(Pop3Reply) noop = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *stls_result = NULL;
  GAsyncResult *noop_result = NULL;

  pop3_fake_script_send (script, "+OK hello\r\n");
  pop3_fake_script_expect (script, "STLS");
  pop3_fake_script_send (script, "+OK Begin TLS negotiation\r\n");
  pop3_fake_script_start_tls (script);
  pop3_fake_script_expect (script, "CAPA");
  pop3_fake_script_send (script, "+OK\r\nUSER\r\n.\r\n");
  script_expect_noop (script);
  start_and_connect (f, script);

  pop3_client_stls_async (f->client, NULL, store_result_cb, &stls_result);
  pop3_client_noop_async (f->client, NULL, store_result_cb, &noop_result);

  stls = reply_of (f->client, &stls_result, &error);
  g_assert_no_error (error);
  g_assert_true (pop3_client_is_encrypted (f->client));
  noop = reply_of (f->client, &noop_result, &error);
  g_assert_no_error (error);
  g_assert_cmpint (noop->status, ==, POP3_REPLY_OK);

  stop_server_checked (f);
  g_assert_false (plaintext_contains (f, "NOOP"));
  g_assert_cmpuint (count_commands (f, "NOOP"), ==, 1);
}

/* STLS refused: what was queued to go inside TLS is not sent at all, and
 * the connection stays usable for what is asked afterwards. */
static void
test_queued_behind_refused_stls (Fixture       *f,
                                 gconstpointer  data)
{
  g_autoptr(Pop3FakeScript) script = pop3_fake_script_new ();
  g_autoptr(Pop3Reply) stls = NULL;
  g_autoptr(Pop3Reply) user = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *stls_result = NULL;
  GAsyncResult *user_result = NULL;

  pop3_fake_script_send (script, "+OK hello\r\n");
  pop3_fake_script_expect (script, "STLS");
  pop3_fake_script_send (script, "-ERR not today\r\n");
  script_expect_noop (script);
  start_and_connect (f, script);

  pop3_client_stls_async (f->client, NULL, store_result_cb, &stls_result);
  pop3_client_user_async (f->client, USER_NAME, NULL, store_result_cb,
                          &user_result);

  stls = reply_of (f->client, &stls_result, &error);
  g_assert_error (error, POP3_ERROR, POP3_ERROR_TLS);
  g_clear_error (&error);
  user = reply_of (f->client, &user_result, &error);
  g_assert_error (error, POP3_ERROR, POP3_ERROR_TLS);
  g_assert_null (user);
  g_assert_false (pop3_client_is_encrypted (f->client));

  assert_noop_ok (f->client);
  stop_server_checked (f);
  g_assert_false (received_contains (f, "USER"));
}

/* Response codes (RFC 2449, section 8; RFC 3206) */

static const struct
{
  const char *wire;
  const char *code;
} response_codes[] = {
  { "in-use", "IN-USE" },
  { "Login-Delay", "LOGIN-DELAY" },
  { "sys/temp", "SYS/TEMP" },
  { "SYS/PERM", "SYS/PERM" },
  { "auth", "AUTH" },
};

static void
test_response_codes (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(Pop3FakeScript) script =
    greeted_script (f, "+OK hello\r\n", "USER\r\n");
  GAsyncResult *result = NULL;

  script_add_capa (f, script, "USER\r\n");
  for (guint i = 0; i < G_N_ELEMENTS (response_codes); i++)
    {
      g_autofree char *refusal =
        g_strdup_printf ("-ERR [%s] refused %u\r\n", response_codes[i].wire,
                         i);

      pop3_fake_script_expect (script, "USER " USER_NAME);
      pop3_fake_script_send (script, "+OK\r\n");
      pop3_fake_script_expect (script, "PASS " PASSWORD);
      pop3_fake_script_send (script, refusal);
    }
  for (guint i = 0; i < G_N_ELEMENTS (response_codes); i++)
    {
      /* The status indicator is matched without regard to case too. */
      g_autofree char *refusal =
        g_strdup_printf ("%s [%s] busy %u\r\n", i % 2 ? "-err" : "-ERR",
                         response_codes[i].wire, i);

      pop3_fake_script_expect (script, "NOOP");
      pop3_fake_script_send (script, refusal);
    }
  script_expect_noop (script);
  start_and_connect (f, script);

  for (guint i = 0; i < G_N_ELEMENTS (response_codes); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *text = g_strdup_printf ("refused %u", i);

      g_assert_false (login_with (f->client, USER_NAME, PASSWORD,
                                  POP3_AUTH_USER, &error));
      g_assert_error (error, POP3_ERROR, POP3_ERROR_AUTH);
      g_assert_cmpstr (pop3_error_get_response_code (error), ==,
                       response_codes[i].code);
      g_assert_nonnull (strstr (error->message, text));
    }

  for (guint i = 0; i < G_N_ELEMENTS (response_codes); i++)
    {
      g_autoptr(Pop3Reply) reply = NULL;
      g_autoptr(GError) error = NULL;

      pop3_client_noop_async (f->client, NULL, store_result_cb, &result);
      reply = reply_of (f->client, &result, &error);
      g_assert_error (error, POP3_ERROR, POP3_ERROR_SERVER);
      g_assert_cmpstr (pop3_error_get_response_code (error), ==,
                       response_codes[i].code);
    }

  /* A -ERR is an answer: the session goes on. */
  assert_noop_ok (f->client);
  stop_server_checked (f);
}

/* QUIT and data safety */

static void
test_quit_err (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(Pop3FakeScript) script =
    greeted_script (f, "+OK hello\r\n", "USER\r\n");
  g_autoptr(Pop3Reply) dele = NULL;
  g_autoptr(Pop3Reply) quit = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;

  pop3_fake_script_expect (script, "DELE 1");
  pop3_fake_script_send (script, "+OK marked\r\n");
  pop3_fake_script_expect (script, "QUIT");
  pop3_fake_script_send (script,
                         "-ERR [SYS/PERM] could not update the maildrop\r\n");
  pop3_fake_script_close (script);
  start_and_connect (f, script);

  pop3_client_dele_async (f->client, 1, NULL, store_result_cb, &result);
  dele = reply_of (f->client, &result, &error);
  g_assert_no_error (error);

  /* The deletion was not committed, and the caller is told so. */
  pop3_client_quit_async (f->client, NULL, store_result_cb, &result);
  quit = reply_of (f->client, &result, &error);
  g_assert_error (error, POP3_ERROR, POP3_ERROR_SERVER);
  g_assert_null (quit);
  g_assert_cmpstr (pop3_error_get_response_code (error), ==, "SYS/PERM");
  g_assert_nonnull (strstr (error->message, "could not update"));
  g_assert_false (pop3_client_is_connected (f->client));

  stop_server_checked (f);
}

/* DELE was accepted, then the connection went before QUIT's +OK (or in the
 * middle of it): the deletion did not happen (RFC 1939, section 6) and
 * QUIT must not claim it did. */
static void
test_dropped_before_quit (Fixture       *f,
                          gconstpointer  data)
{
  static const char *const endings[] = { "", "+OK", "+OK bye\r" };

  for (guint i = 0; i < G_N_ELEMENTS (endings); i++)
    {
      g_autoptr(Pop3FakeScript) script =
        greeted_script (f, "+OK hello\r\n", "USER\r\n");

      pop3_fake_script_expect (script, "DELE 1");
      pop3_fake_script_send (script, "+OK marked\r\n");
      pop3_fake_script_expect (script, "QUIT");
      if (endings[i][0] != '\0')
        pop3_fake_script_send (script, endings[i]);
      pop3_fake_script_pause (script, 20);
      pop3_fake_script_close (script);
      pop3_fake_server_add_script (f->server, script);
    }
  start_server (f, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (endings); i++)
    {
      g_autoptr(Pop3Client) client = connected_client (f);
      g_autoptr(Pop3Reply) dele = NULL;
      g_autoptr(Pop3Reply) quit = NULL;
      g_autoptr(GError) error = NULL;
      GAsyncResult *result = NULL;

      pop3_client_dele_async (client, 1, NULL, store_result_cb, &result);
      dele = reply_of (client, &result, &error);
      g_assert_no_error (error);
      g_assert_cmpint (dele->status, ==, POP3_REPLY_OK);

      pop3_client_quit_async (client, NULL, store_result_cb, &result);
      quit = reply_of (client, &result, &error);
      g_assert_error (error, POP3_ERROR, POP3_ERROR_CLOSED);
      g_assert_null (quit);
      g_assert_false (pop3_client_is_connected (client));
    }

  stop_server_checked (f);
}

/* Credentials */

/* A line break in a user name or password would end the command early and
 * let the rest be read as a command of the user's (or an attacker's)
 * choosing.  A NUL cannot reach the client at all: the API takes C
 * strings, so a NUL ends the value where it stands. */
static void
test_credentials_injection (Fixture       *f,
                            gconstpointer  data)
{
  static const Pop3AuthMethod methods[] = {
    POP3_AUTH_AUTO, POP3_AUTH_USER, POP3_AUTH_APOP, POP3_AUTH_PLAIN,
    POP3_AUTH_LOGIN, POP3_AUTH_CRAM_MD5, POP3_AUTH_XOAUTH2,
    POP3_AUTH_OAUTHBEARER,
  };
  static const char *const hostile[] = {
    "a\rb", "a\nb", "x\r\nDELE 1", "\r\n", "guido\n",
  };
  g_autoptr(Pop3FakeScript) script =
    greeted_script (f, "+OK ready <1896.697170952@dbc.mtview.ca.us>\r\n",
                    "USER\r\nSASL PLAIN LOGIN CRAM-MD5\r\n");
  g_autoptr(GError) error = NULL;
  g_autoptr(Pop3Reply) reply = NULL;
  GAsyncResult *result = NULL;

  script_expect_noop (script);
  start_and_connect (f, script);

  for (guint m = 0; m < G_N_ELEMENTS (methods); m++)
    {
      for (guint h = 0; h < G_N_ELEMENTS (hostile); h++)
        {
          g_autofree char *escaped = g_strescape (hostile[h], NULL);

          g_test_message ("%s with \"%s\"",
                          pop3_auth_method_to_string (methods[m]), escaped);

          g_assert_false (login_with (f->client, hostile[h], PASSWORD,
                                      methods[m], &error));
          g_assert_error (error, POP3_ERROR, POP3_ERROR_INVALID_ARGUMENT);
          g_clear_error (&error);

          g_assert_false (login_with (f->client, USER_NAME, hostile[h],
                                      methods[m], &error));
          g_assert_error (error, POP3_ERROR, POP3_ERROR_INVALID_ARGUMENT);
          g_clear_error (&error);
        }
    }

  /* The single commands check their arguments too. */
  pop3_client_user_async (f->client, "x\r\nDELE 1", NULL, store_result_cb,
                          &result);
  reply = reply_of (f->client, &result, &error);
  g_assert_error (error, POP3_ERROR, POP3_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  pop3_client_pass_async (f->client, "x\nDELE 1", NULL, store_result_cb,
                          &result);
  reply = reply_of (f->client, &result, &error);
  g_assert_error (error, POP3_ERROR, POP3_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  pop3_client_apop_async (f->client, "x\rDELE 1", PASSWORD, NULL,
                          store_result_cb, &result);
  reply = reply_of (f->client, &result, &error);
  g_assert_error (error, POP3_ERROR, POP3_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  pop3_client_command_async (f->client, "NOOP\r\nDELE 1", POP3_EXPECT_SINGLE,
                             NULL, store_result_cb, &result);
  reply = reply_of (f->client, &result, &error);
  g_assert_error (error, POP3_ERROR, POP3_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  assert_only_noop_sent (f);
  g_assert_false (received_contains (f, "DELE"));
  g_assert_false (received_contains (f, PASSWORD));
}

/* The RFC examples: APOP from RFC 1939, section 7, CRAM-MD5 from RFC 2195,
 * section 2. */
#define APOP_USER "mrose"
#define APOP_SECRET "tanstaaf"
#define APOP_DIGEST "c4c9334bac560ecc979e58001b3e22fb"
#define CRAM_USER "tim"
#define CRAM_SECRET "tanstaaftanstaaf"
#define CRAM_CHALLENGE \
  "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+"
#define CRAM_RESPONSE "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw"

static char *
base64_of (const char *data,
           gsize       len)
{
  return g_base64_encode ((const guchar *) data, len);
}

/* One login with each method, as the server expects them byte for byte. */
static void
script_add_every_login (Pop3FakeScript *script)
{
  g_autofree char *plain = base64_of (S ("\0" USER_NAME "\0" PASSWORD));
  g_autofree char *login_user = base64_of (S (USER_NAME));
  g_autofree char *login_password = base64_of (S (PASSWORD));

  pop3_fake_script_expect (script, "USER " USER_NAME);
  pop3_fake_script_send (script, "+OK\r\n");
  pop3_fake_script_expect (script, "PASS " PASSWORD);
  pop3_fake_script_send (script, "+OK welcome\r\n");

  pop3_fake_script_expect (script, "APOP " APOP_USER " " APOP_DIGEST);
  pop3_fake_script_send (script, "+OK maildrop locked\r\n");

  pop3_fake_script_expect (script, "AUTH PLAIN");
  pop3_fake_script_send (script, "+ \r\n");
  pop3_fake_script_expect (script, plain);
  pop3_fake_script_send (script, "+OK plain\r\n");

  pop3_fake_script_expect (script, "AUTH LOGIN");
  pop3_fake_script_send (script, "+ VXNlcm5hbWU6\r\n");
  pop3_fake_script_expect (script, login_user);
  pop3_fake_script_send (script, "+ UGFzc3dvcmQ6\r\n");
  pop3_fake_script_expect (script, login_password);
  pop3_fake_script_send (script, "+OK login\r\n");

  pop3_fake_script_expect (script, "AUTH CRAM-MD5");
  pop3_fake_script_send (script, "+ " CRAM_CHALLENGE "\r\n");
  pop3_fake_script_expect (script, CRAM_RESPONSE);
  pop3_fake_script_send (script, "+OK cram\r\n");
}

static void
run_every_login (Pop3Client *client)
{
  g_autoptr(GError) error = NULL;

  login_with (client, USER_NAME, PASSWORD, POP3_AUTH_USER, &error);
  g_assert_no_error (error);
  login_with (client, APOP_USER, APOP_SECRET, POP3_AUTH_APOP, &error);
  g_assert_no_error (error);
  login_with (client, USER_NAME, PASSWORD, POP3_AUTH_PLAIN, &error);
  g_assert_no_error (error);
  login_with (client, USER_NAME, PASSWORD, POP3_AUTH_LOGIN, &error);
  g_assert_no_error (error);
  login_with (client, CRAM_USER, CRAM_SECRET, POP3_AUTH_CRAM_MD5, &error);
  g_assert_no_error (error);
}

/* Whether @line is among lines[from, to). */
static gboolean
lines_contain (GPtrArray  *lines,
               guint       from,
               guint       to,
               const char *line)
{
  for (guint i = from; i < to && i < lines->len; i++)
    if (g_str_equal (lines->pdata[i], line))
      return TRUE;

  return FALSE;
}

/* Every secret, and every encoding of one that goes over the wire, is
 * missing from the debug output at both levels; the rest of the exchange
 * is there. */
static void
test_debug_redaction (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(Pop3FakeScript) script =
    greeted_script (f, "+OK ready <1896.697170952@dbc.mtview.ca.us>\r\n",
                    "USER\r\nSASL PLAIN LOGIN CRAM-MD5\r\n");
  g_autofree char *plain = base64_of (S ("\0" USER_NAME "\0" PASSWORD));
  g_autofree char *login_password = base64_of (S (PASSWORD));
  const char *const secrets[] = {
    PASSWORD, APOP_SECRET, APOP_DIGEST, CRAM_SECRET, CRAM_RESPONSE, plain,
    login_password,
  };
  const char *const level1[] = {
    "C: USER " USER_NAME, "C: PASS ********", "C: APOP " APOP_USER " ********",
    "C: AUTH PLAIN", "C: AUTH LOGIN", "C: AUTH CRAM-MD5", "C: ********",
  };
  const char *const level2[] = {
    "S: +OK welcome", "S: +OK maildrop locked", "S: + VXNlcm5hbWU6",
    "S: + " CRAM_CHALLENGE, "S: +OK cram",
  };
  guint level2_start;

  script_add_capa (f, script, "USER\r\nSASL PLAIN LOGIN CRAM-MD5\r\n");
  script_add_every_login (script);
  script_add_every_login (script);

  pop3_client_set_debug_level (f->client, 1);
  start_and_connect (f, script);
  run_every_login (f->client);
  level2_start = f->debug_lines->len;
  pop3_client_set_debug_level (f->client, 2);
  run_every_login (f->client);
  stop_server_checked (f);

  for (guint i = 0; i < f->debug_lines->len; i++)
    {
      const char *line = f->debug_lines->pdata[i];

      g_test_message ("debug: %s", line);
      for (guint s = 0; s < G_N_ELEMENTS (secrets); s++)
        g_assert_null (strstr (line, secrets[s]));
      /* Level 1 is one line per command, and only commands. */
      if (i < level2_start)
        g_assert_true (g_str_has_prefix (line, "C: "));
    }

  for (guint i = 0; i < G_N_ELEMENTS (level1); i++)
    {
      g_assert_true (lines_contain (f->debug_lines, 0, level2_start,
                                    level1[i]));
      g_assert_true (lines_contain (f->debug_lines, level2_start, G_MAXUINT,
                                    level1[i]));
    }
  for (guint i = 0; i < G_N_ELEMENTS (level2); i++)
    {
      g_assert_false (lines_contain (f->debug_lines, 0, level2_start,
                                     level2[i]));
      g_assert_true (lines_contain (f->debug_lines, level2_start, G_MAXUINT,
                                    level2[i]));
    }
}

/* OAuth2 */

#define TOKEN "ya29.a0Af-Token_~+/value=="
#define OAUTH_CAPA "USER\r\nSASL PLAIN XOAUTH2 OAUTHBEARER\r\n"
/* The failure challenges of Microsoft (XOAUTH2) and RFC 7628, section
 * 4.3 (OAUTHBEARER), in base64. */
#define JSON_401 "{\"status\":\"401\",\"schemes\":\"bearer\",\"scope\":" \
  "\"https://outlook.office.com/POP.AccessAsUser.All\"}"
#define JSON_INVALID_TOKEN "{\"status\":\"invalid_token\",\"scope\":" \
  "\"example_scope\",\"openid-configuration\":" \
  "\"https://example.com/.well-known/openid-configuration\"}"
#define OAUTHBEARER_START "bixhPWd1aWRvLAFob3N0PWxvY2FsaG9zdAFwb3J0P"
#define MS_REFUSAL "Authentication failure: unknown user name or bad password."

static char *
xoauth2_of (const char *token)
{
  g_autofree char *message =
    g_strconcat ("user=" USER_NAME "\001auth=Bearer ", token, "\001\001",
                 NULL);

  return base64_of (message, strlen (message));
}

static char *
oauthbearer_of (Fixture *f)
{
  g_autofree char *message =
    g_strdup_printf ("n,a=" USER_NAME ",\001host=localhost\001port=%u\001"
                     "auth=Bearer " TOKEN "\001\001",
                     pop3_fake_server_get_port (f->server));

  return base64_of (message, strlen (message));
}

static void
script_add_continuation (Pop3FakeScript *script,
                         const char     *json)
{
  g_autofree char *challenge = base64_of (json, strlen (json));
  g_autofree char *line = g_strconcat ("+ ", challenge, "\r\n", NULL);

  pop3_fake_script_send (script, line);
}

/* The line the client sent right after @command. */
static char *
command_after (Fixture    *f,
               const char *command)
{
  g_auto(GStrv) commands = pop3_fake_server_get_commands (f->server);

  for (guint i = 0; commands[i] != NULL; i++)
    if (g_str_equal (commands[i], command) && commands[i + 1] != NULL)
      return g_strdup (commands[i + 1]);

  return NULL;
}

/* Neither the token nor what carries it reaches the debug output; the
 * test runs at the level that shows the most. */
static void
assert_token_not_in_debug (Fixture *f)
{
  g_autofree char *xoauth2 = xoauth2_of (TOKEN);
  g_autofree char *oauthbearer = oauthbearer_of (f);

  g_assert_cmpuint (f->debug_lines->len, >, 0);
  for (guint i = 0; i < f->debug_lines->len; i++)
    {
      const char *line = f->debug_lines->pdata[i];

      g_test_message ("debug: %s", line);
      g_assert_null (strstr (line, TOKEN));
      g_assert_null (strstr (line, xoauth2));
      g_assert_null (strstr (line, oauthbearer));
    }
  g_assert_true (lines_contain (f->debug_lines, 0, G_MAXUINT, "C: ********"));
}

/* A server like Microsoft's, which refuses a token on the AUTH line
 * itself: the script expects the bare "AUTH XOAUTH2", so an initial
 * response there would be a mismatch.  Then "+ " and the token, byte for
 * byte. */
static void
test_oauth_two_step (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(Pop3FakeScript) script =
    greeted_script (f, "+OK The Microsoft Exchange POP3 service is ready.\r\n",
                    OAUTH_CAPA);
  g_autofree char *xoauth2 = xoauth2_of (TOKEN);
  g_autofree char *oauthbearer = NULL;
  g_autofree char *sent = NULL;
  g_autoptr(GError) error = NULL;

  script_add_capa (f, script, OAUTH_CAPA);
  pop3_fake_script_expect (script, "AUTH XOAUTH2");
  pop3_fake_script_send (script, "+ \r\n");
  pop3_fake_script_expect (script, xoauth2);
  pop3_fake_script_send (script, "+OK User successfully authenticated.\r\n");
  pop3_fake_script_expect (script, "AUTH OAUTHBEARER");
  pop3_fake_script_send (script, "+\r\n");
  /* "n,a=": the whole line names the server's port, known once it
   * runs, and is checked below. */
  pop3_fake_script_expect_prefix (script, OAUTHBEARER_START);
  pop3_fake_script_send (script, "+OK\r\n");
  script_expect_noop (script);

  pop3_client_set_debug_level (f->client, 2);
  start_and_connect (f, script);
  login_with (f->client, USER_NAME, TOKEN, POP3_AUTH_XOAUTH2, &error);
  g_assert_no_error (error);
  login_with (f->client, USER_NAME, TOKEN, POP3_AUTH_OAUTHBEARER, &error);
  g_assert_no_error (error);
  assert_noop_ok (f->client);
  stop_server_checked (f);

  oauthbearer = oauthbearer_of (f);
  sent = command_after (f, "AUTH OAUTHBEARER");
  g_assert_cmpstr (sent, ==, oauthbearer);
  assert_token_not_in_debug (f);
}

/* The failure dance: the server answers the token with base64 JSON, the
 * client answers that (an empty line for XOAUTH2, %x01 for OAUTHBEARER),
 * and the -ERR that follows is a refused token with the JSON's status.
 * The session stays usable. */
static void
test_oauth_refused (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(Pop3FakeScript) script =
    greeted_script (f, "+OK ready\r\n", OAUTH_CAPA);
  g_autofree char *xoauth2 = xoauth2_of (TOKEN);
  g_autofree char *described = NULL;
  g_autoptr(GError) error = NULL;

  script_add_capa (f, script, OAUTH_CAPA);
  pop3_fake_script_expect (script, "AUTH XOAUTH2");
  pop3_fake_script_send (script, "+ \r\n");
  pop3_fake_script_expect (script, xoauth2);
  script_add_continuation (script, JSON_401);
  pop3_fake_script_expect (script, "");
  pop3_fake_script_send (script, "-ERR " MS_REFUSAL "\r\n");
  pop3_fake_script_expect (script, "AUTH OAUTHBEARER");
  pop3_fake_script_send (script, "+ \r\n");
  pop3_fake_script_expect_prefix (script, OAUTHBEARER_START);
  script_add_continuation (script, JSON_INVALID_TOKEN);
  pop3_fake_script_expect (script, "AQ==");
  pop3_fake_script_send (script, "-ERR [AUTH] Invalid credentials\r\n");
  script_expect_noop (script);

  pop3_client_set_debug_level (f->client, 2);
  start_and_connect (f, script);

  g_assert_false (login_with (f->client, USER_NAME, TOKEN, POP3_AUTH_XOAUTH2,
                              &error));
  g_assert_error (error, POP3_ERROR, POP3_ERROR_AUTH_TOKEN);
  g_assert_cmpint (pop3_error_get_kind (error), ==, POP3_ERROR_KIND_AUTH);
  g_assert_cmpstr (pop3_error_get_oauth_status (error), ==, "401");
  described = pop3_error_describe (error);
  g_assert_cmpstr (described, ==,
                   "The server refused the access token; it may have "
                   "expired or been revoked. The server said: "
                   "“" MS_REFUSAL "”");
  g_clear_error (&error);

  g_assert_false (login_with (f->client, USER_NAME, TOKEN,
                              POP3_AUTH_OAUTHBEARER, &error));
  g_assert_error (error, POP3_ERROR, POP3_ERROR_AUTH_TOKEN);
  g_assert_cmpstr (pop3_error_get_oauth_status (error), ==, "invalid_token");
  g_assert_cmpstr (pop3_error_get_response_code (error), ==, "AUTH");
  g_assert_cmpint (pop3_error_get_kind (error), ==, POP3_ERROR_KIND_AUTH);

  assert_noop_ok (f->client);
  stop_server_checked (f);
  assert_token_not_in_debug (f);
  g_assert_true (lines_contain (f->debug_lines, 0, G_MAXUINT, "C: "));
  g_assert_true (lines_contain (f->debug_lines, 0, G_MAXUINT, "C: AQ=="));
}

/* A challenge that is not base64 JSON still ends the exchange cleanly:
 * the same answer, a refused token without a status.  A server that asks
 * again after that gets "*" (RFC 5034, section 4); one that says +OK
 * after refusing is not believed. */
static void
test_oauth_garbage_challenge (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(Pop3FakeScript) script =
    greeted_script (f, "+OK ready\r\n", OAUTH_CAPA);
  g_autofree char *xoauth2 = xoauth2_of (TOKEN);
  g_autoptr(GError) error = NULL;

  script_add_capa (f, script, OAUTH_CAPA);
  pop3_fake_script_expect (script, "AUTH XOAUTH2");
  pop3_fake_script_send (script, "+ \r\n");
  pop3_fake_script_expect (script, xoauth2);
  pop3_fake_script_send (script, "+ !!not*base64\001{\"status\":\"401\"}\r\n");
  pop3_fake_script_expect (script, "");
  pop3_fake_script_send (script, "-ERR no\r\n");

  pop3_fake_script_expect (script, "AUTH OAUTHBEARER");
  pop3_fake_script_send (script, "+ \r\n");
  pop3_fake_script_expect_prefix (script, OAUTHBEARER_START);
  script_add_continuation (script, "{\"status\":\"401\"");
  pop3_fake_script_expect (script, "AQ==");
  pop3_fake_script_send (script, "-ERR\r\n");

  pop3_fake_script_expect (script, "AUTH XOAUTH2");
  pop3_fake_script_send (script, "+ \r\n");
  pop3_fake_script_expect (script, xoauth2);
  script_add_continuation (script, JSON_401);
  pop3_fake_script_expect (script, "");
  pop3_fake_script_send (script, "+ more?\r\n");
  pop3_fake_script_expect (script, "*");
  pop3_fake_script_send (script, "-ERR cancelled\r\n");

  pop3_fake_script_expect (script, "AUTH XOAUTH2");
  pop3_fake_script_send (script, "+ \r\n");
  pop3_fake_script_expect (script, xoauth2);
  script_add_continuation (script, JSON_401);
  pop3_fake_script_expect (script, "");
  pop3_fake_script_send (script, "+OK welcome after all\r\n");
  script_expect_noop (script);
  start_and_connect (f, script);

  g_assert_false (login_with (f->client, USER_NAME, TOKEN, POP3_AUTH_XOAUTH2,
                              &error));
  g_assert_error (error, POP3_ERROR, POP3_ERROR_AUTH_TOKEN);
  g_assert_null (pop3_error_get_oauth_status (error));
  g_assert_cmpstr (pop3_error_get_server_text (error), ==, "no");
  g_clear_error (&error);

  g_assert_false (login_with (f->client, USER_NAME, TOKEN,
                              POP3_AUTH_OAUTHBEARER, &error));
  g_assert_error (error, POP3_ERROR, POP3_ERROR_AUTH_TOKEN);
  g_assert_null (pop3_error_get_oauth_status (error));
  g_clear_error (&error);

  for (guint i = 0; i < 2; i++)
    {
      g_assert_false (login_with (f->client, USER_NAME, TOKEN,
                                  POP3_AUTH_XOAUTH2, &error));
      g_assert_error (error, POP3_ERROR, POP3_ERROR_AUTH);
      g_assert_cmpstr (error->message, ==,
                       "The server's authentication exchange was not "
                       "understood.");
      g_clear_error (&error);
    }

  assert_noop_ok (f->client);
  stop_server_checked (f);
}

/* A token or user name that would break the message is refused before
 * anything is sent, in words that say which. */
static void
test_oauth_bad_token (Fixture       *f,
                      gconstpointer  data)
{
  static const Pop3AuthMethod methods[] = {
    POP3_AUTH_XOAUTH2, POP3_AUTH_OAUTHBEARER,
  };
  static const char *const tokens[] = {
    "ya29.tok\r\nDELE 1", "tok\n", "tok\r", "tok\001auth=Bearer x", "",
  };
  g_autoptr(Pop3FakeScript) script =
    greeted_script (f, "+OK ready\r\n", OAUTH_CAPA);
  g_autoptr(GError) error = NULL;

  script_expect_noop (script);
  start_and_connect (f, script);

  for (guint m = 0; m < G_N_ELEMENTS (methods); m++)
    for (guint t = 0; t < G_N_ELEMENTS (tokens) + 1; t++)
      {
        const char *user = t < G_N_ELEMENTS (tokens) ? USER_NAME : "a\001b";
        const char *token = t < G_N_ELEMENTS (tokens) ? tokens[t] : TOKEN;

        g_assert_false (login_with (f->client, user, token, methods[m],
                                    &error));
        g_assert_error (error, POP3_ERROR, POP3_ERROR_INVALID_ARGUMENT);
        g_assert_cmpstr (error->message, ==,
                         "The user name or access token is empty or "
                         "contains a character that cannot be sent to the "
                         "server.");
        g_clear_error (&error);
      }

  assert_only_noop_sent (f);
}

/* Automatic choice never takes a method that needs a token: with only
 * those and USER offered, it is USER/PASS. */
static void
test_oauth_not_automatic (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(Pop3FakeScript) script =
    greeted_script (f, "+OK ready\r\n", "USER\r\nSASL XOAUTH2 OAUTHBEARER\r\n");
  g_autoptr(GError) error = NULL;

  script_add_capa (f, script, "USER\r\nSASL XOAUTH2 OAUTHBEARER\r\n");
  pop3_fake_script_expect (script, "USER " USER_NAME);
  pop3_fake_script_send (script, "+OK\r\n");
  pop3_fake_script_expect (script, "PASS " PASSWORD);
  pop3_fake_script_send (script, "+OK\r\n");
  start_and_connect (f, script);

  login_with (f->client, USER_NAME, PASSWORD, POP3_AUTH_AUTO, &error);
  g_assert_no_error (error);
  stop_server_checked (f);
  g_assert_false (received_contains (f, "AUTH"));
}

/* A server that hangs up right after refusing the password: a clean
 * authentication error, one connection, no retry. */
static void
test_closed_after_bad_password (Fixture       *f,
                                gconstpointer  data)
{
  g_autoptr(Pop3FakeScript) script =
    greeted_script (f, "+OK hello\r\n", "USER\r\n");
  g_autoptr(Pop3Reply) noop = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;

  script_add_capa (f, script, "USER\r\n");
  pop3_fake_script_expect (script, "USER " USER_NAME);
  pop3_fake_script_send (script, "+OK\r\n");
  pop3_fake_script_expect (script, "PASS " PASSWORD);
  pop3_fake_script_send (script, "-ERR [AUTH] invalid user name or password\r\n");
  pop3_fake_script_close (script);
  start_and_connect (f, script);

  g_assert_false (login_with (f->client, USER_NAME, PASSWORD, POP3_AUTH_AUTO,
                              &error));
  g_assert_error (error, POP3_ERROR, POP3_ERROR_AUTH);
  g_assert_cmpstr (pop3_error_get_response_code (error), ==, "AUTH");
  g_clear_error (&error);

  /* An idle client does not read, so the next command is what learns
   * that the server is gone: a clean "closed", with nothing sent. */
  settle (f);
  pop3_client_noop_async (f->client, NULL, store_result_cb, &result);
  noop = reply_of (f->client, &result, &error);
  g_assert_error (error, POP3_ERROR, POP3_ERROR_CLOSED);
  g_assert_null (noop);
  g_assert_false (pop3_client_is_connected (f->client));

  stop_server_checked (f);
  g_assert_cmpuint (pop3_fake_server_get_n_connections (f->server), ==, 1);
  g_assert_cmpuint (count_commands (f, "PASS " PASSWORD), ==, 1);
}

/* SASL gone wrong */

/* The server asks for more after the last step of each mechanism: the
 * client cancels with "*" (RFC 5034, section 4) and reports an
 * authentication failure; the session stays usable. */
static void
test_sasl_extra_continuation (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(Pop3FakeScript) script =
    greeted_script (f, "+OK hello\r\n", "SASL PLAIN LOGIN CRAM-MD5\r\n");
  g_autofree char *plain = base64_of (S ("\0" USER_NAME "\0" PASSWORD));
  g_autofree char *login_user = base64_of (S (USER_NAME));
  g_autofree char *login_password = base64_of (S (PASSWORD));
  g_autoptr(GError) error = NULL;

  script_add_capa (f, script, "SASL PLAIN LOGIN CRAM-MD5\r\n");
  pop3_fake_script_expect (script, "AUTH PLAIN");
  pop3_fake_script_send (script, "+ \r\n");
  pop3_fake_script_expect (script, plain);
  pop3_fake_script_send (script, "+ more?\r\n");
  pop3_fake_script_expect (script, "*");
  pop3_fake_script_send (script, "-ERR cancelled\r\n");

  pop3_fake_script_expect (script, "AUTH LOGIN");
  pop3_fake_script_send (script, "+ VXNlcm5hbWU6\r\n");
  pop3_fake_script_expect (script, login_user);
  pop3_fake_script_send (script, "+ UGFzc3dvcmQ6\r\n");
  pop3_fake_script_expect (script, login_password);
  pop3_fake_script_send (script, "+\r\n");
  pop3_fake_script_expect (script, "*");
  pop3_fake_script_send (script, "-ERR cancelled\r\n");

  pop3_fake_script_expect (script, "AUTH CRAM-MD5");
  pop3_fake_script_send (script, "+ " CRAM_CHALLENGE "\r\n");
  pop3_fake_script_expect (script, CRAM_RESPONSE);
  pop3_fake_script_send (script, "+ " CRAM_CHALLENGE "\r\n");
  pop3_fake_script_expect (script, "*");
  pop3_fake_script_send (script, "-ERR cancelled\r\n");
  script_expect_noop (script);
  start_and_connect (f, script);

  g_assert_false (login_with (f->client, USER_NAME, PASSWORD, POP3_AUTH_PLAIN,
                              &error));
  g_assert_error (error, POP3_ERROR, POP3_ERROR_AUTH);
  g_clear_error (&error);
  g_assert_false (login_with (f->client, USER_NAME, PASSWORD, POP3_AUTH_LOGIN,
                              &error));
  g_assert_error (error, POP3_ERROR, POP3_ERROR_AUTH);
  g_clear_error (&error);
  g_assert_false (login_with (f->client, CRAM_USER, CRAM_SECRET,
                              POP3_AUTH_CRAM_MD5, &error));
  g_assert_error (error, POP3_ERROR, POP3_ERROR_AUTH);

  assert_noop_ok (f->client);
  stop_server_checked (f);
  g_assert_cmpuint (count_commands (f, "*"), ==, 3);
}

/* A challenge that is not base64 cannot be answered: "*", and the error
 * says the server broke the exchange. */
static void
test_sasl_bad_cram_challenge (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(Pop3FakeScript) script =
    greeted_script (f, "+OK hello\r\n", "SASL CRAM-MD5\r\n");
  g_autoptr(GError) error = NULL;

  script_add_capa (f, script, "SASL CRAM-MD5\r\n");
  pop3_fake_script_expect (script, "AUTH CRAM-MD5");
  pop3_fake_script_send (script, "+ !!not*base64\x01\r\n");
  pop3_fake_script_expect (script, "*");
  pop3_fake_script_send (script, "-ERR authentication cancelled\r\n");
  script_expect_noop (script);
  start_and_connect (f, script);

  g_assert_false (login_with (f->client, CRAM_USER, CRAM_SECRET,
                              POP3_AUTH_AUTO, &error));
  g_assert_error (error, POP3_ERROR, POP3_ERROR_PROTOCOL);
  g_assert_true (pop3_client_is_connected (f->client));

  assert_noop_ok (f->client);
  stop_server_checked (f);
  g_assert_false (received_contains (f, CRAM_SECRET));
}

/* A continuation outside SASL is not a reply to anything. */
static void
test_continuation_outside_sasl (Fixture       *f,
                                gconstpointer  data)
{
  static const char *const continuations[] = { "+ hello\r\n", "+\r\n" };

  for (guint i = 0; i < G_N_ELEMENTS (continuations); i++)
    {
      g_autoptr(Pop3FakeScript) script =
        greeted_script (f, "+OK hello\r\n", "USER\r\n");

      pop3_fake_script_expect (script, "NOOP");
      pop3_fake_script_send (script, continuations[i]);
      pop3_fake_server_add_script (f->server, script);
    }
  start_server (f, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (continuations); i++)
    {
      g_autoptr(Pop3Client) client = connected_client (f);
      g_autoptr(Pop3Reply) reply = NULL;
      g_autoptr(GError) error = NULL;
      GAsyncResult *result = NULL;

      pop3_client_noop_async (client, NULL, store_result_cb, &result);
      reply = reply_of (client, &result, &error);
      g_assert_error (error, POP3_ERROR, POP3_ERROR_PROTOCOL);
      g_assert_null (reply);
      assert_closed (client);
    }

  stop_server_checked (f);
}

/* Cancellation */

/* The command was on the wire when it was cancelled: its caller hears at
 * once, and its reply, when it comes, is swallowed, not handed to the next
 * command. */
static void
test_cancel_written (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(Pop3FakeScript) script =
    greeted_script (f, "+OK hello\r\n", "USER\r\n");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(Pop3Reply) noop = NULL;
  g_autoptr(Pop3Reply) stat = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;

  pop3_fake_script_expect (script, "NOOP");
  pop3_fake_script_pause (script, 500);
  pop3_fake_script_send (script, "+OK 7 70 late\r\n");
  pop3_fake_script_expect (script, "STAT");
  pop3_fake_script_send (script, "+OK 3 30\r\n");
  start_and_connect (f, script);

  pop3_client_noop_async (f->client, cancellable, store_result_cb, &result);
  POPCHECK_TEST_WAIT_UNTIL (
    pop3_fake_server_find_log (f->server, "C: NOOP", 0) >= 0,
    WATCHDOG_SECONDS * 1000);
  g_cancellable_cancel (cancellable);
  noop = reply_of (f->client, &result, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_cmpint (pop3_fake_server_find_log (f->server, "S: +OK 7 70 late",
                                              0), <, 0);
  g_assert_true (pop3_client_is_connected (f->client));

  pop3_client_stat_async (f->client, NULL, store_result_cb, &result);
  stat = reply_of (f->client, &result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (stat->count, ==, 3);
  g_assert_cmpuint (stat->size, ==, 30);

  stop_server_checked (f);
}

/* The command was still queued: it is dropped and never sent. */
static void
test_cancel_queued (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(Pop3FakeScript) script =
    greeted_script (f, "+OK hello\r\n", "USER\r\n");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(Pop3Reply) noop = NULL;
  g_autoptr(Pop3Reply) stat = NULL;
  g_autoptr(Pop3Reply) list = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *noop_result = NULL;
  GAsyncResult *stat_result = NULL;
  GAsyncResult *result = NULL;

  pop3_fake_script_expect (script, "NOOP");
  pop3_fake_script_pause (script, 500);
  pop3_fake_script_send (script, "+OK\r\n");
  pop3_fake_script_expect (script, "LIST 1");
  pop3_fake_script_send (script, "+OK 1 100\r\n");
  start_and_connect (f, script);

  /* Without PIPELINING the STAT waits behind the NOOP. */
  pop3_client_noop_async (f->client, NULL, store_result_cb, &noop_result);
  pop3_client_stat_async (f->client, cancellable, store_result_cb,
                          &stat_result);
  g_cancellable_cancel (cancellable);

  stat = reply_of (f->client, &stat_result, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_null (noop_result);

  noop = reply_of (f->client, &noop_result, &error);
  g_assert_no_error (error);
  pop3_client_list_async (f->client, 1, NULL, store_result_cb, &result);
  list = reply_of (f->client, &result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->msg, ==, 1);
  g_assert_cmpuint (list->size, ==, 100);

  stop_server_checked (f);
  g_assert_cmpuint (count_commands (f, "STAT"), ==, 0);
}

/* A thousand commands under one cancellable (as a check's TOPs are), with
 * others under another between them: cancelling the first settles exactly
 * its own, each once, and the others are answered in order. */
typedef struct
{
  guint cancelled;
  guint other;
} CancelCounts;

static void
count_cancelled_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  CancelCounts *counts = user_data;
  g_autoptr(Pop3Reply) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = pop3_client_command_finish (POP3_CLIENT (object), result, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  counts->cancelled++;
}

static void
test_cancel_many (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(Pop3FakeScript) script =
    greeted_script (f, "+OK hello\r\n", "USER\r\n");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GCancellable) other = g_cancellable_new ();
  g_autoptr(Pop3Reply) stat = NULL;
  g_autoptr(Pop3Reply) list = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *noop_result = NULL;
  GAsyncResult *stat_result = NULL;
  GAsyncResult *list_result = NULL;
  CancelCounts counts = { 0, 0 };

  pop3_fake_script_expect (script, "NOOP");
  pop3_fake_script_pause (script, 300);
  pop3_fake_script_send (script, "+OK\r\n");
  pop3_fake_script_expect (script, "STAT");
  pop3_fake_script_send (script, "+OK 3 30\r\n");
  pop3_fake_script_expect (script, "LIST 1");
  pop3_fake_script_send (script, "+OK 1 100\r\n");
  start_and_connect (f, script);

  pop3_client_noop_async (f->client, NULL, store_result_cb, &noop_result);
  for (guint i = 0; i < 500; i++)
    pop3_client_top_async (f->client, i + 1, 0, cancellable,
                           count_cancelled_cb, &counts);
  pop3_client_stat_async (f->client, other, store_result_cb, &stat_result);
  for (guint i = 500; i < 1000; i++)
    pop3_client_top_async (f->client, i + 1, 0, cancellable,
                           count_cancelled_cb, &counts);
  pop3_client_list_async (f->client, 1, other, store_result_cb, &list_result);
  g_cancellable_cancel (cancellable);

  stat = reply_of (f->client, &stat_result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (stat->count, ==, 3);
  list = reply_of (f->client, &list_result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->size, ==, 100);
  g_assert_cmpuint (counts.cancelled, ==, 1000);
  g_clear_pointer (&noop_result, g_object_unref);

  stop_server_checked (f);
  g_assert_cmpuint (count_commands (f, "TOP"), ==, 0);
}

/* The reply that lets the queue move is read in the same turn of the
 * main loop as the next command's cancellation is noticed (the reply is
 * already in when the command is cancelled, as when a loaded machine
 * runs the main loop late): the cancelled command is never sent, and
 * the one after it is. */
static void
test_cancel_with_reply_in (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(Pop3FakeScript) script =
    greeted_script (f, "+OK hello\r\n", "USER\r\n");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(Pop3Reply) stat = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *noop_result = NULL;
  GAsyncResult *stat_result = NULL;
  CancelCounts counts = { 0, 0 };
  gint64 deadline;
  guint steps;

  pop3_fake_script_expect (script, "NOOP");
  /* Room to see that NOOP was read before its reply comes. */
  pop3_fake_script_pause (script, 300);
  pop3_fake_script_send (script, "+OK\r\n");
  pop3_fake_script_expect (script, "STAT");
  pop3_fake_script_send (script, "+OK 3 30\r\n");
  start_and_connect (f, script);
  steps = pop3_fake_server_get_steps_done (f->server);

  pop3_client_noop_async (f->client, NULL, store_result_cb, &noop_result);
  pop3_client_top_async (f->client, 1, 0, cancellable, count_cancelled_cb, &counts);
  pop3_client_stat_async (f->client, NULL, store_result_cb, &stat_result);
  POPCHECK_TEST_WAIT_UNTIL (pop3_fake_server_get_steps_done (f->server) > steps, 10000);
  /* The main loop does not run until NOOP's reply is sent. */
  deadline = popcheck_test_deadline (10000);
  while (pop3_fake_server_get_steps_done (f->server) < steps + 3)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (1000);
    }
  g_cancellable_cancel (cancellable);

  stat = reply_of (f->client, &stat_result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (stat->count, ==, 3);
  g_assert_cmpuint (counts.cancelled, ==, 1);
  g_assert_nonnull (noop_result);
  g_clear_object (&noop_result);

  stop_server_checked (f);
  g_assert_cmpuint (count_commands (f, "TOP"), ==, 0);
}

static gboolean
cancel_cb (gpointer user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
  return G_SOURCE_REMOVE;
}

/* The server says nothing (or, with STLS, nothing after the greeting): a
 * cancelled connect ends at once, far sooner than the timeout. */
static void
run_cancel_connect (Fixture      *f,
                    Pop3Security  security)
{
  g_autoptr(Pop3FakeScript) script = pop3_fake_script_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  gint64 start;

  if (security == POP3_SECURITY_STARTTLS)
    {
      pop3_fake_script_send (script, "+OK hello\r\n");
      pop3_fake_script_expect (script, "CAPA");
    }
  pop3_fake_script_pause (script, 60000);
  start_server (f, script);

  /* Far apart, so that a slow sanitizer build under load still tells a
   * cancelled connect from a timed-out one. */
  pop3_client_set_timeout (f->client, 40);
  g_timeout_add (200, cancel_cb, cancellable);
  start = g_get_monotonic_time ();
  g_assert_false (connect_with (f, f->client, security, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 20 * G_USEC_PER_SEC);
  g_assert_false (pop3_client_is_connected (f->client));
}

static void
test_cancel_connect (Fixture       *f,
                     gconstpointer  data)
{
  run_cancel_connect (f, security_of (f->mode));
}

/* The server never starts TLS: cancelled in the middle of the handshake. */
static void
test_cancel_handshake (Fixture       *f,
                       gconstpointer  data)
{
  run_cancel_connect (f, POP3_SECURITY_TLS);
}

/* Pipelining */

/* An -ERR among pipelined TOPs fails that TOP only; every other reply
 * still reaches its own command, in order. */
static void
test_pipeline_err (Fixture       *f,
                   gconstpointer  data)
{
  const guint n = 5;
  const guint refused = 3;
  g_autoptr(Pop3FakeScript) script =
    greeted_script (f, "+OK hello\r\n", "PIPELINING\r\nTOP\r\nUSER\r\n");
  g_autoptr(GString) replies = g_string_new (NULL);
  GAsyncResult *results[5] = { NULL, };

  script_add_capa (f, script, "PIPELINING\r\nTOP\r\nUSER\r\n");
  /* All the commands before any reply: a client in lockstep would stall
   * here and fail with a timeout. */
  for (guint i = 1; i <= n; i++)
    {
      g_autofree char *line = g_strdup_printf ("TOP %u 0", i);

      pop3_fake_script_expect (script, line);
      if (i == refused)
        g_string_append_printf (replies, "-ERR [SYS/TEMP] message %u is "
                                "locked\r\n", i);
      else
        g_string_append_printf (replies, "+OK\r\nSubject: message %u\r\n"
                                "\r\n.\r\n", i);
    }
  pop3_fake_script_send_bytes (script, replies->str, replies->len, 7, 0);
  script_expect_noop (script);
  start_and_connect (f, script);
  fetch_capa (f);
  g_assert_true (pop3_client_is_pipelining (f->client));

  for (guint i = 0; i < n; i++)
    pop3_client_top_async (f->client, i + 1, 0, NULL, store_result_cb,
                           &results[i]);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(Pop3Reply) reply = NULL;
      g_autoptr(GError) error = NULL;

      reply = reply_of (f->client, &results[i], &error);
      if (i + 1 == refused)
        {
          g_assert_error (error, POP3_ERROR, POP3_ERROR_SERVER);
          g_assert_cmpstr (pop3_error_get_response_code (error), ==,
                           "SYS/TEMP");
          g_assert_null (reply);
        }
      else
        {
          g_autofree char *expected =
            g_strdup_printf ("Subject: message %u\r\n\r\n", i + 1);

          g_assert_no_error (error);
          assert_body (reply, expected, strlen (expected));
        }
    }

  /* The script read all five TOPs before it answered any: no mismatch
   * means they really were pipelined. */
  assert_noop_ok (f->client);
  stop_server_checked (f);
}

/* USER and PASS pipelined */

/* A login by USER and PASS on a server that offers PIPELINING: what the
 * script expects, and how many round trips the login took. */
static guint
run_user_pass (Fixture    *f,
               const char *user_reply,
               const char *pass_reply,
               GError    **error)
{
  const char *capa = "PIPELINING\r\nUSER\r\n";
  g_autoptr(Pop3FakeScript) script = greeted_script (f, "+OK hello\r\n", capa);
  gboolean encrypted = f->mode != MODE_PLAIN;
  guint before;

  script_add_capa (f, script, capa);
  pop3_fake_script_expect (script, "USER " USER_NAME);
  /* Inside TLS both lines come before any answer: a client in lockstep
   * would wait here for ever.  In plain text PASS must wait for +OK. */
  if (!encrypted)
    pop3_fake_script_send (script, user_reply);
  if (encrypted || g_str_has_prefix (user_reply, "+OK"))
    {
      pop3_fake_script_expect (script, "PASS " PASSWORD);
      if (encrypted)
        pop3_fake_script_send (script, user_reply);
      pop3_fake_script_send (script, pass_reply);
    }
  script_expect_noop (script);
  start_and_connect (f, script);

  before = pop3_client_get_round_trips (f->client);
  login_with (f->client, USER_NAME, PASSWORD, POP3_AUTH_USER, error);

  /* The session goes on in step. */
  assert_noop_ok (f->client);
  stop_server_checked (f);

  return pop3_client_get_round_trips (f->client) - before - 1;
}

/* Inside TLS, with PIPELINING, the login is one round trip after CAPA. */
static void
test_user_pass_pipelined (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  guint trips;

  trips = run_user_pass (f, "+OK\r\n", "+OK logged in\r\n", &error);
  g_assert_no_error (error);
  /* CAPA (with STLS it came while connecting), then USER and PASS: in
   * plain text one round trip each. */
  g_assert_cmpuint (trips, ==, (f->mode == MODE_STLS ? 0 : 1) +
                               (f->mode == MODE_PLAIN ? 2 : 1));
  g_assert_cmpuint (count_commands (f, "PASS " PASSWORD), ==, 1);
}

/* A refused USER is the error, whatever the server said to the PASS
 * behind it; in plain text the password is never sent. */
static void
test_user_refused_pipelined (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *words = NULL;

  run_user_pass (f, "-ERR [AUTH] No such user\r\n",
                 "-ERR No USER given\r\n", &error);
  g_assert_error (error, POP3_ERROR, POP3_ERROR_AUTH);
  g_assert_cmpstr (pop3_error_get_response_code (error), ==, "AUTH");
  words = pop3_error_describe (error);
  /* USER's words, not those of the PASS that followed it. */
  g_assert_cmpstr (words, ==, "The server refused the user name or password. "
                   "The server said: “[AUTH] No such user”");
  g_assert_cmpuint (count_commands (f, "PASS " PASSWORD), ==,
                    f->mode == MODE_PLAIN ? 0 : 1);
  if (f->mode == MODE_PLAIN)
    g_assert_false (received_contains (f, PASSWORD));
}

static void
add_test (const char *mode_name,
          const Mode *mode,
          const char *name,
          void      (*func) (Fixture *, gconstpointer))
{
  g_autofree char *path = g_strdup_printf ("/fake/faults/%s/%s", mode_name,
                                           name);

  g_test_add (path, Fixture, mode, fixture_setup, func, fixture_teardown);
}

/* The same scenario over plain TCP, implicit TLS and STLS. */
static void
add_all_modes (const char *name,
               void      (*func) (Fixture *, gconstpointer))
{
  add_test ("plain", &mode_plain, name, func);
  add_test ("tls", &mode_tls, name, func);
  add_test ("stls", &mode_stls, name, func);
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);

  add_all_modes ("empty-multiline", test_empty_multiline);
  add_all_modes ("terminator-split", test_terminator_split);
  add_all_modes ("eof-before-dot", test_eof_before_dot);
  add_all_modes ("dot-lines", test_dot_lines);
  add_all_modes ("binary-body", test_binary_body);
  add_all_modes ("long-body-line", test_long_body_line);
  add_all_modes ("listing-line-too-long", test_listing_line_too_long);
  add_all_modes ("response-cap", test_response_cap);
  add_all_modes ("dripping-listing", test_dripping_listing);

  add_all_modes ("stat-numbers", test_stat_numbers);
  add_all_modes ("listing-numbers", test_listing_numbers);
  add_all_modes ("listing-other-message", test_listing_other_message);

  add_all_modes ("unsolicited-with-greeting", test_unsolicited_with_greeting);
  add_all_modes ("unsolicited-after-pause", test_unsolicited_after_pause);

  add_all_modes ("err-greeting", test_err_greeting);
  add_all_modes ("hostile-greeting", test_hostile_greeting);
  add_all_modes ("hostile-server-text", test_hostile_server_text);

  /* Security "none" and implicit TLS: CAPA is optional there. */
  add_test ("plain", &mode_plain, "capa-err-falls-back",
            test_capa_err_falls_back);
  add_test ("tls", &mode_tls, "capa-err-falls-back",
            test_capa_err_falls_back);
  add_test ("plain", &mode_plain, "capa-dropped", test_capa_dropped);
  add_test ("tls", &mode_tls, "capa-dropped", test_capa_dropped);
  /* STARTTLS that cannot be had, against a plain server. */
  add_test ("plain", &mode_plain, "starttls-capa-err", test_starttls_capa_err);
  add_test ("plain", &mode_plain, "starttls-capa-dropped",
            test_starttls_capa_dropped);
  add_test ("plain", &mode_plain, "starttls-stls-err", test_starttls_stls_err);
  add_test ("tls", &mode_tls, "pin-is-exclusive", test_pin_is_exclusive);
  add_test ("stls", &mode_stls, "pin-is-exclusive", test_pin_is_exclusive);
  add_test ("tls", &mode_tls, "pin-matching-valid", test_pin_matching_valid);
  add_test ("stls", &mode_stls, "pin-matching-valid",
            test_pin_matching_valid);
  add_test ("plain", &mode_plain, "queued-behind-stls",
            test_queued_behind_stls);
  add_test ("plain", &mode_plain, "queued-behind-refused-stls",
            test_queued_behind_refused_stls);

  add_all_modes ("response-codes", test_response_codes);
  add_all_modes ("quit-err", test_quit_err);
  add_all_modes ("dropped-before-quit", test_dropped_before_quit);

  add_all_modes ("credentials-injection", test_credentials_injection);
  add_all_modes ("debug-redaction", test_debug_redaction);
  add_all_modes ("closed-after-bad-password", test_closed_after_bad_password);
  add_all_modes ("user-pass-pipelined", test_user_pass_pipelined);
  add_all_modes ("user-refused-pipelined", test_user_refused_pipelined);

  add_all_modes ("sasl-extra-continuation", test_sasl_extra_continuation);
  add_all_modes ("sasl-bad-cram-challenge", test_sasl_bad_cram_challenge);
  add_all_modes ("continuation-outside-sasl", test_continuation_outside_sasl);

  add_all_modes ("oauth-two-step", test_oauth_two_step);
  add_all_modes ("oauth-refused", test_oauth_refused);
  add_all_modes ("oauth-garbage-challenge", test_oauth_garbage_challenge);
  add_all_modes ("oauth-bad-token", test_oauth_bad_token);
  add_all_modes ("oauth-not-automatic", test_oauth_not_automatic);

  add_all_modes ("cancel-written", test_cancel_written);
  add_all_modes ("cancel-queued", test_cancel_queued);
  add_all_modes ("cancel-many", test_cancel_many);
  add_all_modes ("cancel-with-reply-in", test_cancel_with_reply_in);
  add_all_modes ("reply-behind-busy-thread", test_reply_behind_busy_thread);
  add_all_modes ("cancel-connect", test_cancel_connect);
  add_test ("plain", &mode_plain, "cancel-handshake", test_cancel_handshake);

  add_all_modes ("pipeline-err", test_pipeline_err);

  status = g_test_run ();

  /* LeakSanitizer checks at exit: with no worker thread left. */
  popcheck_test_quiesce_threads ();

  return status;
}
