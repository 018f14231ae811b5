/* pop3-fake-server.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One thread accepts; every connection then gets a thread of its own that
 * uses blocking I/O with the server's GCancellable.  Blocking code reads as
 * the script it plays, byte for byte, and being off the test's main context
 * it cannot stall the asynchronous client under test.  Each thread pushes a
 * GMainContext of its own so that nothing GIO does on its behalf lands on
 * the test's context.  Stopping cancels that GCancellable, which wakes every
 * blocking call, and joins every thread.
 */

#define G_LOG_DOMAIN "pop3-fake-server"

#include "config.h"

#include <errno.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>

#include "pop3-fake-server.h"

#define LOG_LINE_MAX 200

typedef enum
{
  STEP_EXPECT,
  STEP_EXPECT_PREFIX,
  STEP_SEND,
  STEP_PAUSE,
  STEP_START_TLS,
  STEP_CLOSE,
  STEP_RESPOND,
  STEP_DELIVERED,
} StepKind;

typedef struct
{
  StepKind  kind;
  GBytes   *data;
  gsize     chunk;
  guint     ms;
} Step;

struct _Pop3FakeScript
{
  gatomicrefcount  ref_count;
  GPtrArray       *steps;
};

struct _Pop3FakeServer
{
  GObject          parent_instance;

  /* Configuration: set before start, only read by the threads. */
  GTlsCertificate *certificate;
  gboolean         implicit_tls;
  char            *greeting;
  GHashTable      *responses;
  GPtrArray       *capabilities;
  gboolean         utf8;
  char            *apop_secret;
  guint            reply_delay;
  GPtrArray       *scripts;

  GSocketListener *listener;
  guint16          port;
  GCancellable    *cancellable;
  GThread         *accept_thread;

  /* Guards everything below, which the connection threads write. */
  GMutex           mutex;
  GPtrArray       *connection_threads;
  /* Of connection_threads, those past their last use of the server: the
   * accept thread joins them, or their stacks would stay mapped until
   * the server stops (a soak runs thousands of sessions). */
  GPtrArray       *ended_threads;
  guint            n_connections;
  guint            n_ended;
  guint            n_settled;
  GByteArray      *plain_received;
  GByteArray      *tls_received;
  GPtrArray       *commands;
  GPtrArray       *log;
  GPtrArray       *mismatches;
  gboolean         overlapped;
  guint            steps_done;
};

G_DEFINE_FINAL_TYPE (Pop3FakeServer, pop3_fake_server, G_TYPE_OBJECT)

typedef struct
{
  /* Not a reference: the server joins this thread before it goes away. */
  Pop3FakeServer    *server;
  guint              index;
  GSocketConnection *socket_connection;
  GIOStream         *stream;
  gboolean           tls_active;
  /* What arrived after the last complete line. */
  GByteArray        *partial;
  /* Complete lines not consumed yet. */
  GQueue             lines;
  /* No more I/O: the client went, we closed, or the server stops. */
  gboolean           finished;
  gboolean           eof;
  gboolean           closed;
  /* Counted in n_settled. */
  gboolean           settled;
} Connection;

/* Scripts */

static void
step_free (Step *step)
{
  g_clear_pointer (&step->data, g_bytes_unref);
  g_free (step);
}

static Step *
script_add_step (Pop3FakeScript *script,
                 StepKind        kind,
                 const void     *data,
                 gsize           len)
{
  Step *step = g_new0 (Step, 1);

  step->kind = kind;
  if (data != NULL)
    step->data = g_bytes_new (data, len);
  g_ptr_array_add (script->steps, step);

  return step;
}

Pop3FakeScript *
pop3_fake_script_new (void)
{
  Pop3FakeScript *script = g_new0 (Pop3FakeScript, 1);

  g_atomic_ref_count_init (&script->ref_count);
  script->steps = g_ptr_array_new_with_free_func ((GDestroyNotify) step_free);

  return script;
}

Pop3FakeScript *
pop3_fake_script_ref (Pop3FakeScript *script)
{
  g_return_val_if_fail (script != NULL, NULL);

  g_atomic_ref_count_inc (&script->ref_count);
  return script;
}

void
pop3_fake_script_unref (Pop3FakeScript *script)
{
  g_return_if_fail (script != NULL);

  if (g_atomic_ref_count_dec (&script->ref_count))
    {
      g_ptr_array_unref (script->steps);
      g_free (script);
    }
}

void
pop3_fake_script_expect (Pop3FakeScript *script,
                         const char     *line)
{
  g_return_if_fail (script != NULL);
  g_return_if_fail (line != NULL);

  script_add_step (script, STEP_EXPECT, line, strlen (line));
}

void
pop3_fake_script_expect_prefix (Pop3FakeScript *script,
                                const char     *prefix)
{
  g_return_if_fail (script != NULL);
  g_return_if_fail (prefix != NULL);

  script_add_step (script, STEP_EXPECT_PREFIX, prefix, strlen (prefix));
}

void
pop3_fake_script_send (Pop3FakeScript *script,
                       const char     *text)
{
  g_return_if_fail (script != NULL);
  g_return_if_fail (text != NULL);

  script_add_step (script, STEP_SEND, text, strlen (text));
}

void
pop3_fake_script_send_bytes (Pop3FakeScript *script,
                             const void     *data,
                             gsize           len,
                             gsize           chunk,
                             guint           pause_ms)
{
  Step *step;

  g_return_if_fail (script != NULL);
  g_return_if_fail (data != NULL || len == 0);

  step = script_add_step (script, STEP_SEND, data, len);
  step->chunk = chunk;
  step->ms = pause_ms;
}

void
pop3_fake_script_pause (Pop3FakeScript *script,
                        guint           ms)
{
  g_return_if_fail (script != NULL);

  script_add_step (script, STEP_PAUSE, NULL, 0)->ms = ms;
}

void
pop3_fake_script_start_tls (Pop3FakeScript *script)
{
  g_return_if_fail (script != NULL);

  script_add_step (script, STEP_START_TLS, NULL, 0);
}

void
pop3_fake_script_close (Pop3FakeScript *script)
{
  g_return_if_fail (script != NULL);

  script_add_step (script, STEP_CLOSE, NULL, 0);
}

/* Waits until the client's kernel has acknowledged every byte sent so
 * far, then logs "DELIVERED": from then on the client can read them. */
void
pop3_fake_script_wait_delivered (Pop3FakeScript *script)
{
  g_return_if_fail (script != NULL);

  script_add_step (script, STEP_DELIVERED, NULL, 0);
}

void
pop3_fake_script_respond (Pop3FakeScript *script)
{
  g_return_if_fail (script != NULL);

  script_add_step (script, STEP_RESPOND, NULL, 0);
}

/* Recording, from any thread */

static void
server_append (Pop3FakeServer *self,
               GPtrArray      *array,
               const char     *format,
               va_list         args) G_GNUC_PRINTF (3, 0);

static void
server_append (Pop3FakeServer *self,
               GPtrArray      *array,
               const char     *format,
               va_list         args)
{
  char *entry = g_strdup_vprintf (format, args);

  g_debug ("%s%s", array == self->mismatches ? "mismatch: " : "", entry);

  g_mutex_lock (&self->mutex);
  g_ptr_array_add (array, entry);
  g_mutex_unlock (&self->mutex);
}

static void
server_log (Pop3FakeServer *self,
            const char     *format,
            ...) G_GNUC_PRINTF (2, 3);

static void
server_log (Pop3FakeServer *self,
            const char     *format,
            ...)
{
  va_list args;

  va_start (args, format);
  server_append (self, self->log, format, args);
  va_end (args);
}

static void
server_mismatch (Pop3FakeServer *self,
                 const char     *format,
                 ...) G_GNUC_PRINTF (2, 3);

static void
server_mismatch (Pop3FakeServer *self,
                 const char     *format,
                 ...)
{
  va_list args;

  va_start (args, format);
  server_append (self, self->mismatches, format, args);
  va_end (args);
}

/* Splits what arrived into lines the moment it arrives, so that the log
 * shows when each command reached us, not when we got round to it. */
static void
connection_take_bytes (Connection   *conn,
                       const guint8 *data,
                       gsize         len)
{
  Pop3FakeServer *self = conn->server;
  const guint8 *newline;

  g_mutex_lock (&self->mutex);
  g_byte_array_append (conn->tls_active ? self->tls_received
                                        : self->plain_received,
                       data, len);
  g_mutex_unlock (&self->mutex);

  g_byte_array_append (conn->partial, data, len);

  while ((newline = memchr (conn->partial->data, '\n',
                            conn->partial->len)) != NULL)
    {
      gsize line_len = newline - conn->partial->data;
      char *line;

      if (line_len > 0 && conn->partial->data[line_len - 1] == '\r')
        line_len--;

      line = g_strndup ((const char *) conn->partial->data, line_len);
      g_byte_array_remove_range (conn->partial, 0,
                                 newline - conn->partial->data + 1);
      g_debug ("C: %.*s", LOG_LINE_MAX, line);

      g_mutex_lock (&self->mutex);
      g_ptr_array_add (self->commands, g_strdup (line));
      g_ptr_array_add (self->log, g_strdup_printf ("C: %.*s", LOG_LINE_MAX,
                                                   line));
      g_mutex_unlock (&self->mutex);

      g_queue_push_tail (&conn->lines, line);
    }
}

/* Reads once, blocking or not.  FALSE when the connection is over: the
 * client closed it, an error, or the server stopping. */
static gboolean
connection_receive (Connection *conn,
                    gboolean    blocking)
{
  GInputStream *input = g_io_stream_get_input_stream (conn->stream);
  g_autoptr(GError) error = NULL;
  guint8 buffer[4096];
  gssize n;

  if (conn->finished)
    return FALSE;

  if (blocking)
    {
      n = g_input_stream_read (input, buffer, sizeof buffer,
                               conn->server->cancellable, &error);
    }
  else
    {
      if (!G_IS_POLLABLE_INPUT_STREAM (input) ||
          !g_pollable_input_stream_is_readable (G_POLLABLE_INPUT_STREAM (input)))
        return TRUE;

      n = g_pollable_input_stream_read_nonblocking (
        G_POLLABLE_INPUT_STREAM (input), buffer, sizeof buffer, NULL, &error);
      if (n < 0 &&
          g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        return TRUE;
    }

  if (n < 0)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        server_log (conn->server, "ERROR: %s", error->message);
      conn->finished = TRUE;
      return FALSE;
    }

  if (n == 0)
    {
      server_log (conn->server, "EOF");
      conn->finished = TRUE;
      conn->eof = TRUE;
      return FALSE;
    }

  connection_take_bytes (conn, buffer, n);
  return TRUE;
}

/* The next line, without its line ending; NULL once the connection is
 * over. */
static char *
connection_read_line (Connection *conn)
{
  while (g_queue_is_empty (&conn->lines))
    {
      if (!connection_receive (conn, TRUE))
        return NULL;
    }

  return g_queue_pop_head (&conn->lines);
}

/* Waits @ms, or less when the server stops; FALSE if it stopped. */
static gboolean
server_wait (Pop3FakeServer *self,
             guint           ms)
{
  GPollFD pollfd;

  if (ms == 0)
    return !g_cancellable_is_cancelled (self->cancellable);

  if (g_cancellable_make_pollfd (self->cancellable, &pollfd))
    {
      g_poll (&pollfd, 1, ms);
      g_cancellable_release_fd (self->cancellable);
    }
  else
    {
      g_usleep (ms * 1000);
    }

  return !g_cancellable_is_cancelled (self->cancellable);
}

static char *
first_line (const guint8 *data,
            gsize         len)
{
  gsize n = 0;

  while (n < len && n < LOG_LINE_MAX && data[n] != '\r' && data[n] != '\n')
    n++;

  return g_strndup ((const char *) data, n);
}

static gboolean
connection_send (Connection   *conn,
                 const guint8 *data,
                 gsize         len,
                 gsize         chunk,
                 guint         pause_ms)
{
  Pop3FakeServer *self = conn->server;
  GOutputStream *output = g_io_stream_get_output_stream (conn->stream);
  g_autoptr(GError) error = NULL;
  g_autofree char *summary = NULL;
  gsize offset = 0;

  if (conn->finished)
    return FALSE;

  /* Whatever has already arrived was sent before this reply: a client in
   * lockstep never does that. */
  connection_receive (conn, FALSE);
  if (!g_queue_is_empty (&conn->lines) || conn->partial->len > 0)
    {
      g_mutex_lock (&self->mutex);
      self->overlapped = TRUE;
      g_mutex_unlock (&self->mutex);
    }

  summary = first_line (data, len);
  server_log (self, "S: %s", summary);

  if (chunk == 0)
    chunk = MAX (len, 1);

  while (offset < len)
    {
      gsize n = MIN (chunk, len - offset);

      if (offset > 0 && !server_wait (self, pause_ms))
        return FALSE;

      if (!g_output_stream_write_all (output, data + offset, n, NULL,
                                      self->cancellable, &error) ||
          !g_output_stream_flush (output, self->cancellable, &error))
        {
          if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            server_log (self, "ERROR: %s", error->message);
          conn->finished = TRUE;
          return FALSE;
        }
      offset += n;
    }

  return TRUE;
}

static gboolean
connection_send_text (Connection *conn,
                      const char *text)
{
  return connection_send (conn, (const guint8 *) text, strlen (text), 0, 0);
}

static gboolean
connection_start_tls (Connection *conn)
{
  Pop3FakeServer *self = conn->server;
  g_autoptr(GIOStream) tls = NULL;
  g_autoptr(GError) error = NULL;

  if (self->certificate == NULL)
    {
      server_log (self, "TLS failed: the server has no certificate");
      conn->finished = TRUE;
      return FALSE;
    }

  /* A client must not send anything between STLS and the handshake; if it
   * did, those bytes are not part of the TLS session. */
  if (!g_queue_is_empty (&conn->lines) || conn->partial->len > 0)
    {
      server_log (self, "discarded plaintext before TLS");
      g_queue_clear_full (&conn->lines, g_free);
      g_byte_array_set_size (conn->partial, 0);
    }

  /* No database: the server asks for no client certificate, and without
   * one glib-networking 2.74 would load the system's whole trust store for
   * every connection, which takes seconds under the sanitizers. */
  tls = g_initable_new (g_tls_backend_get_server_connection_type (
                          g_tls_backend_get_default ()),
                        NULL, &error,
                        "base-io-stream", conn->stream,
                        "certificate", self->certificate,
                        "database", NULL,
                        NULL);
  if (tls == NULL)
    {
      server_log (self, "TLS failed: %s", error->message);
      conn->finished = TRUE;
      return FALSE;
    }

  /* Clients drop the connection after QUIT without close_notify. */
  g_tls_connection_set_require_close_notify (G_TLS_CONNECTION (tls), FALSE);

  if (!g_tls_connection_handshake (G_TLS_CONNECTION (tls), self->cancellable,
                                   &error))
    {
      server_log (self, "TLS failed: %s", error->message);
      conn->finished = TRUE;
      return FALSE;
    }

  g_set_object (&conn->stream, tls);
  conn->tls_active = TRUE;
  server_log (self, "TLS");

  return TRUE;
}

static void
connection_close (Connection *conn)
{
  if (conn->finished)
    return;

  server_log (conn->server, "CLOSE");
  conn->finished = TRUE;
  conn->closed = TRUE;
  g_io_stream_close (conn->stream, NULL, NULL);
  g_io_stream_close (G_IO_STREAM (conn->socket_connection), NULL, NULL);
}

/* The responder: the DummyPOP3Handler of CPython's test_poplib.py */

static char *
timestamp_of (const char *greeting)
{
  const char *start = strchr (greeting, '<');
  const char *end = start ? strchr (start, '>') : NULL;

  if (end == NULL)
    return NULL;

  return g_strndup (start, end - start + 1);
}

static void
append_capabilities (Connection *conn,
                     GString    *reply)
{
  Pop3FakeServer *self = conn->server;

  g_string_append (reply, "+OK Capability list follows\r\n");
  for (guint i = 0; i < self->capabilities->len; i++)
    g_string_append_printf (reply, "%s\r\n",
                            (const char *) self->capabilities->pdata[i]);
  /* As test_poplib: STLS only where it can still be done. */
  if (self->certificate != NULL && !conn->tls_active)
    g_string_append (reply, "STLS\r\n");
  if (self->utf8)
    g_string_append (reply, "UTF8\r\n");
  g_string_append (reply, ".\r\n");
}

/* Answers one command line; FALSE when the session is over. */
static gboolean
respond (Connection *conn,
         const char *line)
{
  Pop3FakeServer *self = conn->server;
  g_autoptr(GString) reply = g_string_new (NULL);
  g_autofree char *command = NULL;
  const char *space = strchr (line, ' ');
  const char *arg = space ? space + 1 : "";
  GBytes *override;

  command = g_ascii_strup (line, space ? space - line : -1);

  if (!server_wait (self, self->reply_delay))
    return FALSE;

  override = g_hash_table_lookup (self->responses, command);
  if (override != NULL)
    {
      gsize len;
      const guint8 *data = g_bytes_get_data (override, &len);

      if (!connection_send (conn, data, len, 0, 0))
        return FALSE;
      if (g_str_equal (command, "QUIT"))
        {
          connection_close (conn);
          return FALSE;
        }
      return TRUE;
    }

  if (g_str_equal (command, "ECHO"))
    {
      g_string_append_printf (reply, "%s\r\n", arg);
    }
  else if (g_str_equal (command, "USER"))
    {
      g_string_append (reply, g_str_equal (arg, "guido")
                              ? "+OK password required\r\n"
                              : "-ERR no such user\r\n");
    }
  else if (g_str_equal (command, "PASS"))
    {
      g_string_append (reply, g_str_equal (arg, "python")
                              ? "+OK 10 messages\r\n"
                              : "-ERR wrong password\r\n");
    }
  else if (g_str_equal (command, "STAT"))
    {
      g_string_append (reply, "+OK 10 100\r\n");
    }
  else if (g_str_equal (command, "LIST") || g_str_equal (command, "UIDL"))
    {
      if (*arg != '\0')
        g_string_append_printf (reply, "+OK %s %s\r\n", arg, arg);
      else
        g_string_append (reply, "+OK\r\n" POP3_FAKE_LIST_RESP);
    }
  else if (g_str_equal (command, "RETR") || g_str_equal (command, "TOP"))
    {
      const char *body = POP3_FAKE_RETR_RESP;

      if (g_str_equal (arg, "2") || g_str_has_prefix (arg, "2 "))
        body = POP3_FAKE_DOTS_RESP;
      g_string_append_printf (reply, "+OK %" G_GSIZE_FORMAT " bytes\r\n%s",
                              strlen (body), body);
    }
  else if (g_str_equal (command, "DELE"))
    {
      g_string_append (reply, "+OK message marked for deletion.\r\n");
    }
  else if (g_str_equal (command, "NOOP") || g_str_equal (command, "RPOP"))
    {
      g_string_append (reply, "+OK done nothing.\r\n");
    }
  else if (g_str_equal (command, "RSET"))
    {
      g_string_append (reply, "+OK maildrop has been reset.\r\n");
    }
  else if (g_str_equal (command, "APOP"))
    {
      g_autofree char *timestamp = timestamp_of (self->greeting);
      g_autofree char *secret = NULL;
      g_autofree char *expected = NULL;
      const char *digest = strchr (arg, ' ');

      if (timestamp != NULL)
        {
          secret = g_strconcat (timestamp, self->apop_secret, NULL);
          expected = g_compute_checksum_for_string (G_CHECKSUM_MD5, secret, -1);
        }
      if (expected != NULL && digest != NULL &&
          g_str_equal (digest + 1, expected))
        g_string_append (reply, "+OK maildrop locked and ready\r\n");
      else
        g_string_append (reply, "-ERR permission denied\r\n");
    }
  else if (g_str_equal (command, "CAPA"))
    {
      append_capabilities (conn, reply);
    }
  else if (g_str_equal (command, "UTF8"))
    {
      g_string_append (reply, self->utf8 ? "+OK I know RFC6856\r\n"
                                         : "-ERR What is UTF8?!\r\n");
    }
  else if (g_str_equal (command, "STLS"))
    {
      if (conn->tls_active || self->certificate == NULL)
        return connection_send_text (
          conn, "-ERR Command not permitted when TLS active\r\n");

      return connection_send_text (conn, "+OK Begin TLS negotiation\r\n") &&
             connection_start_tls (conn);
    }
  else if (g_str_equal (command, "QUIT"))
    {
      connection_send_text (conn, "+OK closing.\r\n");
      connection_close (conn);
      return FALSE;
    }
  else
    {
      g_autofree char *lower = g_ascii_strdown (command, -1);

      g_string_append_printf (reply,
                              "-ERR unrecognized POP3 command \"%s\".\r\n",
                              lower);
    }

  return connection_send (conn, (const guint8 *) reply->str, reply->len,
                          0, 0);
}

static void
run_responder (Connection *conn,
               gboolean    greet)
{
  char *line;

  if (greet)
    {
      g_autofree char *greeting = g_strconcat (conn->server->greeting, "\r\n",
                                               NULL);

      if (!connection_send_text (conn, greeting))
        return;
    }

  while ((line = connection_read_line (conn)) != NULL)
    {
      g_autofree char *owned = line;

      if (!respond (conn, owned))
        return;
    }
}

/* Scripts */

/* Waits until nothing we sent is unacknowledged (SIOCOUTQ), looking
 * again every millisecond; FALSE if the server stopped first. */
static gboolean
connection_wait_delivered (Connection *conn)
{
  GSocket *socket = g_socket_connection_get_socket (conn->socket_connection);
  int unacknowledged;

  for (;;)
    {
      if (ioctl (g_socket_get_fd (socket), SIOCOUTQ, &unacknowledged) < 0)
        {
          server_log (conn->server, "ERROR: SIOCOUTQ: %s", g_strerror (errno));
          return FALSE;
        }
      if (unacknowledged == 0)
        return TRUE;
      if (!server_wait (conn->server, 1))
        return FALSE;
    }
}

/* The connection has played its whole script, or has ended: every line
 * the script expected has been read and checked. */
static void
connection_settle (Connection *conn)
{
  Pop3FakeServer *self = conn->server;

  if (conn->settled)
    return;
  conn->settled = TRUE;

  g_mutex_lock (&self->mutex);
  self->n_settled++;
  g_mutex_unlock (&self->mutex);
}

static void
run_script (Connection     *conn,
            Pop3FakeScript *script)
{
  Pop3FakeServer *self = conn->server;

  for (guint i = 0; i < script->steps->len; i++)
    {
      Step *step = script->steps->pdata[i];
      gsize len = 0;
      const guint8 *data = step->data ? g_bytes_get_data (step->data, &len)
                                      : NULL;

      switch (step->kind)
        {
        case STEP_EXPECT:
        case STEP_EXPECT_PREFIX:
          {
            /* An empty GBytes has no data: expect "" then means "". */
            g_autofree char *expected =
              g_strndup (len > 0 ? (const char *) data : "", len);
            g_autofree char *line = connection_read_line (conn);

            if (line == NULL)
              {
                server_mismatch (self, "step %u: expected \"%s\", the "
                                 "connection ended", i, expected);
                return;
              }
            if (step->kind == STEP_EXPECT ? !g_str_equal (line, expected)
                                          : !g_str_has_prefix (line, expected))
              server_mismatch (self, "step %u: expected \"%s\"%s, got \"%s\"",
                               i, expected,
                               step->kind == STEP_EXPECT ? "" : "...", line);
          }
          break;

        case STEP_SEND:
          if (!connection_send (conn, data, len, step->chunk, step->ms))
            return;
          break;

        case STEP_PAUSE:
          if (!server_wait (self, step->ms))
            return;
          break;

        case STEP_START_TLS:
          if (!connection_start_tls (conn))
            return;
          break;

        case STEP_CLOSE:
          connection_close (conn);
          g_mutex_lock (&self->mutex);
          self->steps_done++;
          g_mutex_unlock (&self->mutex);
          return;

        case STEP_DELIVERED:
          if (!connection_wait_delivered (conn))
            return;
          server_log (self, "DELIVERED");
          break;

        case STEP_RESPOND:
          g_mutex_lock (&self->mutex);
          self->steps_done++;
          g_mutex_unlock (&self->mutex);
          run_responder (conn, FALSE);
          return;

        default:
          g_assert_not_reached ();
        }

      g_mutex_lock (&self->mutex);
      self->steps_done++;
      g_mutex_unlock (&self->mutex);
    }

  connection_settle (conn);

  /* Keep recording whatever the client still sends, such as credentials
   * after a script that should have made it give up. */
  while (connection_receive (conn, TRUE))
    ;
}

/* Threads */

static void
connection_free (Connection *conn)
{
  g_clear_object (&conn->stream);
  g_clear_object (&conn->socket_connection);
  g_queue_clear_full (&conn->lines, g_free);
  g_byte_array_unref (conn->partial);
  g_free (conn);
}

static gpointer
connection_thread (gpointer data)
{
  Connection *conn = data;
  Pop3FakeServer *self = conn->server;
  g_autoptr(GMainContext) context = g_main_context_new ();
  Pop3FakeScript *script = NULL;

  g_main_context_push_thread_default (context);

  if (self->scripts->len > 0)
    script = self->scripts->pdata[MIN (conn->index, self->scripts->len - 1)];

  if (!self->implicit_tls || connection_start_tls (conn))
    {
      if (script != NULL)
        run_script (conn, script);
      else
        run_responder (conn, TRUE);
    }

  /* Stopping may have interrupted us with bytes still unread; record them
   * too, or a test could miss what the client sent last. */
  if (g_cancellable_is_cancelled (self->cancellable) && !conn->eof &&
      !conn->closed)
    {
      GInputStream *input = g_io_stream_get_input_stream (conn->stream);

      conn->finished = FALSE;
      while (G_IS_POLLABLE_INPUT_STREAM (input) &&
             g_pollable_input_stream_is_readable (
               G_POLLABLE_INPUT_STREAM (input)) &&
             connection_receive (conn, FALSE))
        ;
    }

  g_io_stream_close (conn->stream, NULL, NULL);
  g_io_stream_close (G_IO_STREAM (conn->socket_connection), NULL, NULL);

  connection_settle (conn);
  g_mutex_lock (&self->mutex);
  self->n_ended++;
  g_ptr_array_add (self->ended_threads, g_thread_self ());
  g_mutex_unlock (&self->mutex);

  g_main_context_pop_thread_default (context);
  connection_free (conn);

  return NULL;
}

static gpointer
accept_thread (gpointer data)
{
  Pop3FakeServer *self = data;
  g_autoptr(GMainContext) context = g_main_context_new ();

  g_main_context_push_thread_default (context);

  for (;;)
    {
      g_autoptr(GSocketConnection) accepted = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) ended = NULL;
      Connection *conn;

      /* Join the sessions that have ended, so their stacks go. */
      g_mutex_lock (&self->mutex);
      ended = g_steal_pointer (&self->ended_threads);
      self->ended_threads = g_ptr_array_new ();
      for (guint i = 0; i < ended->len; i++)
        g_ptr_array_remove_fast (self->connection_threads, ended->pdata[i]);
      g_mutex_unlock (&self->mutex);
      for (guint i = 0; i < ended->len; i++)
        g_thread_join (ended->pdata[i]);

      accepted = g_socket_listener_accept (self->listener, NULL,
                                           self->cancellable, &error);
      if (accepted == NULL)
        {
          if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            server_log (self, "ERROR: accept: %s", error->message);
          break;
        }

      /* Byte-split writes must leave as they were written, not coalesced
       * by Nagle's algorithm. */
      g_socket_set_option (g_socket_connection_get_socket (accepted),
                           IPPROTO_TCP, TCP_NODELAY, 1, NULL);

      conn = g_new0 (Connection, 1);
      conn->server = self;
      conn->socket_connection = g_object_ref (accepted);
      conn->stream = G_IO_STREAM (g_object_ref (accepted));
      conn->partial = g_byte_array_new ();
      g_queue_init (&conn->lines);

      g_mutex_lock (&self->mutex);
      conn->index = self->n_connections++;
      g_ptr_array_add (self->log, g_strdup_printf ("ACCEPT %u", conn->index));
      g_ptr_array_add (self->connection_threads,
                       g_thread_new ("pop3-fake-connection",
                                     connection_thread, conn));
      g_mutex_unlock (&self->mutex);
    }

  g_main_context_pop_thread_default (context);

  return NULL;
}

/* GObject */

static void
pop3_fake_server_finalize (GObject *object)
{
  Pop3FakeServer *self = POP3_FAKE_SERVER (object);

  pop3_fake_server_stop (self);

  g_clear_object (&self->certificate);
  g_clear_pointer (&self->greeting, g_free);
  g_clear_pointer (&self->responses, g_hash_table_unref);
  g_clear_pointer (&self->capabilities, g_ptr_array_unref);
  g_clear_pointer (&self->apop_secret, g_free);
  g_clear_pointer (&self->scripts, g_ptr_array_unref);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->connection_threads, g_ptr_array_unref);
  g_clear_pointer (&self->ended_threads, g_ptr_array_unref);
  g_clear_pointer (&self->plain_received, g_byte_array_unref);
  g_clear_pointer (&self->tls_received, g_byte_array_unref);
  g_clear_pointer (&self->commands, g_ptr_array_unref);
  g_clear_pointer (&self->log, g_ptr_array_unref);
  g_clear_pointer (&self->mismatches, g_ptr_array_unref);
  g_mutex_clear (&self->mutex);

  G_OBJECT_CLASS (pop3_fake_server_parent_class)->finalize (object);
}

static void
pop3_fake_server_class_init (Pop3FakeServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = pop3_fake_server_finalize;
}

static void
pop3_fake_server_init (Pop3FakeServer *self)
{
  g_mutex_init (&self->mutex);

  self->greeting = g_strdup (POP3_FAKE_GREETING);
  self->responses = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                           (GDestroyNotify) g_bytes_unref);
  self->capabilities = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (self->capabilities, g_strdup ("UIDL"));
  g_ptr_array_add (self->capabilities,
                   g_strdup ("IMPLEMENTATION python-testlib-pop-server"));
  self->apop_secret = g_strdup ("dummypassword");
  self->scripts = g_ptr_array_new_with_free_func (
    (GDestroyNotify) pop3_fake_script_unref);

  self->cancellable = g_cancellable_new ();
  self->connection_threads = g_ptr_array_new ();
  self->ended_threads = g_ptr_array_new ();
  self->plain_received = g_byte_array_new ();
  self->tls_received = g_byte_array_new ();
  self->commands = g_ptr_array_new_with_free_func (g_free);
  self->log = g_ptr_array_new_with_free_func (g_free);
  self->mismatches = g_ptr_array_new_with_free_func (g_free);
}

Pop3FakeServer *
pop3_fake_server_new (void)
{
  return g_object_new (POP3_TYPE_FAKE_SERVER, NULL);
}

/* Configuration */

#define RETURN_IF_STARTED(self) \
  g_return_if_fail (POP3_IS_FAKE_SERVER (self)); \
  g_return_if_fail ((self)->listener == NULL)

void
pop3_fake_server_set_certificate (Pop3FakeServer  *self,
                                  GTlsCertificate *certificate)
{
  RETURN_IF_STARTED (self);

  g_set_object (&self->certificate, certificate);
}

void
pop3_fake_server_set_implicit_tls (Pop3FakeServer *self,
                                   gboolean        implicit_tls)
{
  RETURN_IF_STARTED (self);

  self->implicit_tls = !!implicit_tls;
}

void
pop3_fake_server_set_greeting (Pop3FakeServer *self,
                               const char     *greeting)
{
  RETURN_IF_STARTED (self);
  g_return_if_fail (greeting != NULL);

  g_free (self->greeting);
  self->greeting = g_strdup (greeting);
}

void
pop3_fake_server_set_response (Pop3FakeServer *self,
                               const char     *command,
                               const char     *bytes)
{
  RETURN_IF_STARTED (self);
  g_return_if_fail (command != NULL);
  g_return_if_fail (bytes != NULL);

  g_hash_table_replace (self->responses, g_ascii_strup (command, -1),
                        g_bytes_new (bytes, strlen (bytes)));
}

void
pop3_fake_server_set_capabilities (Pop3FakeServer    *self,
                                   const char *const *lines)
{
  RETURN_IF_STARTED (self);

  g_ptr_array_set_size (self->capabilities, 0);
  for (guint i = 0; lines != NULL && lines[i] != NULL; i++)
    g_ptr_array_add (self->capabilities, g_strdup (lines[i]));
}

void
pop3_fake_server_add_capability (Pop3FakeServer *self,
                                 const char     *line)
{
  RETURN_IF_STARTED (self);
  g_return_if_fail (line != NULL);

  g_ptr_array_add (self->capabilities, g_strdup (line));
}

void
pop3_fake_server_set_utf8 (Pop3FakeServer *self,
                           gboolean        enabled)
{
  RETURN_IF_STARTED (self);

  self->utf8 = !!enabled;
}

void
pop3_fake_server_set_apop_secret (Pop3FakeServer *self,
                                  const char     *secret)
{
  RETURN_IF_STARTED (self);
  g_return_if_fail (secret != NULL);

  g_free (self->apop_secret);
  self->apop_secret = g_strdup (secret);
}

void
pop3_fake_server_set_reply_delay (Pop3FakeServer *self,
                                  guint           ms)
{
  RETURN_IF_STARTED (self);

  self->reply_delay = ms;
}

void
pop3_fake_server_add_script (Pop3FakeServer *self,
                             Pop3FakeScript *script)
{
  RETURN_IF_STARTED (self);
  g_return_if_fail (script != NULL);

  g_ptr_array_add (self->scripts, pop3_fake_script_ref (script));
}

/* Running */

gboolean
pop3_fake_server_start (Pop3FakeServer  *self,
                        GError         **error)
{
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSocketAddress) effective = NULL;
  g_autoptr(GSocketListener) listener = NULL;

  g_return_val_if_fail (POP3_IS_FAKE_SERVER (self), FALSE);
  g_return_val_if_fail (self->listener == NULL, FALSE);

  /* Loopback only, on a port the system picks: tests run in parallel. */
  address = g_inet_socket_address_new_from_string ("127.0.0.1", 0);
  listener = g_socket_listener_new ();
  if (!g_socket_listener_add_address (listener, address,
                                      G_SOCKET_TYPE_STREAM,
                                      G_SOCKET_PROTOCOL_TCP, NULL,
                                      &effective, error))
    return FALSE;

  self->port =
    g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  self->listener = g_steal_pointer (&listener);
  self->accept_thread = g_thread_new ("pop3-fake-accept", accept_thread, self);

  return TRUE;
}

void
pop3_fake_server_stop (Pop3FakeServer *self)
{
  g_autoptr(GPtrArray) threads = NULL;

  g_return_if_fail (POP3_IS_FAKE_SERVER (self));

  if (self->accept_thread == NULL)
    return;

  g_cancellable_cancel (self->cancellable);
  g_thread_join (self->accept_thread);
  self->accept_thread = NULL;
  g_socket_listener_close (self->listener);

  g_mutex_lock (&self->mutex);
  threads = g_steal_pointer (&self->connection_threads);
  self->connection_threads = g_ptr_array_new ();
  g_mutex_unlock (&self->mutex);

  for (guint i = 0; i < threads->len; i++)
    g_thread_join (threads->pdata[i]);

  /* All joined above, ended or not. */
  g_mutex_lock (&self->mutex);
  g_ptr_array_set_size (self->ended_threads, 0);
  g_mutex_unlock (&self->mutex);
}

guint16
pop3_fake_server_get_port (Pop3FakeServer *self)
{
  g_return_val_if_fail (POP3_IS_FAKE_SERVER (self), 0);

  return self->port;
}

/* Recordings */

static GStrv
strv_from_array (Pop3FakeServer *self,
                 GPtrArray      *array)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  g_mutex_lock (&self->mutex);
  for (guint i = 0; i < array->len; i++)
    g_strv_builder_add (builder, array->pdata[i]);
  g_mutex_unlock (&self->mutex);

  return g_strv_builder_end (builder);
}

guint
pop3_fake_server_get_n_connections (Pop3FakeServer *self)
{
  guint n;

  g_return_val_if_fail (POP3_IS_FAKE_SERVER (self), 0);

  g_mutex_lock (&self->mutex);
  n = self->n_connections;
  g_mutex_unlock (&self->mutex);

  return n;
}

/* TRUE once the server has seen the end of every connection it accepted:
 * the client closed it, the script did, or an error.  What a client sent
 * before it went away has been recorded by then. */
gboolean
pop3_fake_server_all_ended (Pop3FakeServer *self)
{
  gboolean all;

  g_return_val_if_fail (POP3_IS_FAKE_SERVER (self), FALSE);

  g_mutex_lock (&self->mutex);
  all = self->n_ended == self->n_connections;
  g_mutex_unlock (&self->mutex);

  return all;
}

/* TRUE once every connection accepted so far has played its whole script
 * or ended, so that its mismatches are final: what a client sends after
 * the script is only recorded. */
gboolean
pop3_fake_server_all_settled (Pop3FakeServer *self)
{
  gboolean all;

  g_return_val_if_fail (POP3_IS_FAKE_SERVER (self), FALSE);

  g_mutex_lock (&self->mutex);
  all = self->n_settled == self->n_connections;
  g_mutex_unlock (&self->mutex);

  return all;
}

GBytes *
pop3_fake_server_get_received (Pop3FakeServer *self,
                               gboolean        encrypted)
{
  GByteArray *array;
  GBytes *bytes;

  g_return_val_if_fail (POP3_IS_FAKE_SERVER (self), NULL);

  g_mutex_lock (&self->mutex);
  array = encrypted ? self->tls_received : self->plain_received;
  bytes = g_bytes_new (array->data, array->len);
  g_mutex_unlock (&self->mutex);

  return bytes;
}

GStrv
pop3_fake_server_get_commands (Pop3FakeServer *self)
{
  g_return_val_if_fail (POP3_IS_FAKE_SERVER (self), NULL);

  return strv_from_array (self, self->commands);
}

GStrv
pop3_fake_server_get_log (Pop3FakeServer *self)
{
  g_return_val_if_fail (POP3_IS_FAKE_SERVER (self), NULL);

  return strv_from_array (self, self->log);
}

int
pop3_fake_server_find_log (Pop3FakeServer *self,
                           const char     *entry,
                           int             from)
{
  int found = -1;

  g_return_val_if_fail (POP3_IS_FAKE_SERVER (self), -1);
  g_return_val_if_fail (entry != NULL, -1);

  g_mutex_lock (&self->mutex);
  for (guint i = MAX (from, 0); i < self->log->len; i++)
    {
      if (g_str_equal (self->log->pdata[i], entry))
        {
          found = i;
          break;
        }
    }
  g_mutex_unlock (&self->mutex);

  return found;
}

GStrv
pop3_fake_server_get_mismatches (Pop3FakeServer *self)
{
  g_return_val_if_fail (POP3_IS_FAKE_SERVER (self), NULL);

  return strv_from_array (self, self->mismatches);
}

gboolean
pop3_fake_server_get_overlapped (Pop3FakeServer *self)
{
  gboolean overlapped;

  g_return_val_if_fail (POP3_IS_FAKE_SERVER (self), FALSE);

  g_mutex_lock (&self->mutex);
  overlapped = self->overlapped;
  g_mutex_unlock (&self->mutex);

  return overlapped;
}

guint
pop3_fake_server_get_steps_done (Pop3FakeServer *self)
{
  guint n;

  g_return_val_if_fail (POP3_IS_FAKE_SERVER (self), 0);

  g_mutex_lock (&self->mutex);
  n = self->steps_done;
  g_mutex_unlock (&self->mutex);

  return n;
}
