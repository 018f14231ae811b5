/* pop3-client-queue.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The client keeps two queues of commands: those waiting to be written and
 * those written and waiting for their reply.  Replies come out of the
 * sans-IO parser in order and are matched to the head of the second queue,
 * which is how pipelined replies (RFC 2449, section 6.6) find their
 * commands.  Without PIPELINING only one command is ever in flight.
 *
 * A command that cannot be pipelined (authentication, STLS, UTF8) is a
 * barrier: it waits for the queue to drain and nothing follows it until its
 * reply has arrived.
 */

#define G_LOG_DOMAIN "pop3-client"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "pop3-auth.h"
#include "pop3-client-private.h"

/* Command bytes we allow to be unanswered at once with PIPELINING; the
 * replies are read all the time, so this only bounds what the server must
 * buffer on its side.
 *
 * The window must cover what the server answers in one round trip, or the
 * server idles until the next commands arrive.  Dovecot answers about 60
 * "TOP n 0" (13 bytes each) a millisecond on a small machine, so a 20 ms
 * round trip needs about 16 KiB: with 8 KiB, 10,000 headers took 0.56 s
 * at 20 ms instead of 0.32 s (tests/bench).  64 KiB covers round trips
 * to about 80 ms and stays within the receive buffer Linux gives a socket
 * by default (net.ipv4.tcp_rmem, 128 KiB), so the server's kernel takes
 * all of it even while the server itself is busy writing. */
#define PIPELINE_WINDOW 65536

struct _Command
{
  CommandKind  kind;
  char        *line;
  char        *debug_line;
  Pop3Expect   expect;
  gboolean     barrier;
  /* The message a "LIST n" or "UIDL n" asked about; 0 for other
   * commands. */
  guint        msg;
  GTask       *task;
  struct _CancelWatch *cancel_watch;
};

/* One cancellable source per cancellable, not per command: a check
 * pipelines thousands of TOPs under one cancellable, and thousands of
 * sources would make every main loop iteration walk them all. */
struct _CancelWatch
{
  Pop3Client   *client;
  GCancellable *cancellable;
  GSource      *source;
  guint         n_commands;
};

static void pump (Pop3Client *self);

/* Commands */

void
_pop3_client_cancel_watch_free (CancelWatch *watch)
{
  g_source_destroy (watch->source);
  g_source_unref (watch->source);
  g_object_unref (watch->cancellable);
  g_free (watch);
}

static void
command_release_watch (Command *command)
{
  CancelWatch *watch = g_steal_pointer (&command->cancel_watch);

  if (watch != NULL && --watch->n_commands == 0)
    g_hash_table_remove (watch->client->cancel_watches, watch->cancellable);
}

static void
command_free (Command *command)
{
  command_release_watch (command);
  g_clear_object (&command->task);
  /* A line may carry a password or a SASL response: wiped, as
   * pop3_client_pass_async() wipes its own copy. */
  if (command->line != NULL)
    memset (command->line, 0, strlen (command->line));
  g_free (command->line);
  g_free (command->debug_line);
  g_free (command);
}

static GTask *
command_steal_task (Command *command)
{
  command_release_watch (command);
  return g_steal_pointer (&command->task);
}

static void
command_return_error (Command      *command,
                      const GError *error)
{
  g_autoptr(GTask) task = command_steal_task (command);

  if (task != NULL)
    g_task_return_error (task, g_error_copy (error));
}

/* Takes reply: the task holds the only reference, so the caller that
 * takes it from the task decides how long a listing's body lives. */
static void
command_return_reply (Command   *command,
                      Pop3Reply *reply)
{
  g_autoptr(GTask) task = command_steal_task (command);

  if (task != NULL)
    g_task_return_pointer (task, reply, (GDestroyNotify) pop3_reply_unref);
  else
    pop3_reply_unref (reply);
}

/* Takes the tasks of the commands under the watch.  A command not yet
 * written is dropped; one already written keeps its place in the queue so
 * that its reply, when it comes, is not taken for the reply to the next
 * command. */
static void
take_watched (GQueue      *queue,
              CancelWatch *watch,
              gboolean     drop,
              GPtrArray   *tasks)
{
  GList *next;

  for (GList *l = queue->head; l != NULL; l = next)
    {
      Command *command = l->data;
      GTask *task;

      next = l->next;
      if (command->cancel_watch != watch)
        continue;

      command->cancel_watch = NULL;
      task = command_steal_task (command);
      if (task != NULL)
        g_ptr_array_add (tasks, task);
      if (drop)
        {
          g_queue_delete_link (queue, l);
          command_free (command);
        }
    }
}

static gboolean
cancel_watch_cb (GCancellable *cancellable,
                 gpointer      user_data)
{
  CancelWatch *watch = user_data;
  Pop3Client *self = watch->client;
  g_autoptr(Pop3Client) keep = g_object_ref (self);
  g_autoptr(GPtrArray) tasks = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) error = NULL;

  g_cancellable_set_error_if_cancelled (cancellable, &error);

  /* Every command is settled before any callback runs: a callback may
   * queue, fail or free commands. */
  take_watched (&self->waiting, watch, TRUE, tasks);
  take_watched (&self->in_flight, watch, FALSE, tasks);
  g_hash_table_remove (self->cancel_watches, cancellable);

  for (guint i = 0; i < tasks->len; i++)
    g_task_return_error (tasks->pdata[i], g_error_copy (error));

  /* pump () may have stopped at one of these, with nothing in flight
   * whose reply would make it go on. */
  if (g_queue_is_empty (&self->in_flight) && !g_queue_is_empty (&self->waiting))
    pump (self);

  return G_SOURCE_REMOVE;
}

static void
command_watch (Pop3Client   *self,
               Command      *command,
               GCancellable *cancellable)
{
  CancelWatch *watch = g_hash_table_lookup (self->cancel_watches, cancellable);

  if (watch == NULL)
    {
      watch = g_new0 (CancelWatch, 1);
      watch->client = self;
      watch->cancellable = g_object_ref (cancellable);
      watch->source = g_cancellable_source_new (cancellable);
      g_source_set_callback (watch->source, G_SOURCE_FUNC (cancel_watch_cb),
                             watch, NULL);
      g_source_attach (watch->source, g_main_context_get_thread_default ());
      g_hash_table_insert (self->cancel_watches, cancellable, watch);
    }

  watch->n_commands++;
  command->cancel_watch = watch;
}

Command *
_pop3_client_command_new (Pop3Client          *self,
                          CommandKind          kind,
                          const char          *line,
                          const char          *debug_line,
                          Pop3Expect           expect,
                          gboolean             barrier,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  Command *command = g_new0 (Command, 1);

  command->kind = kind;
  command->line = g_strdup (line);
  command->debug_line = g_strdup (debug_line ? debug_line : line);
  command->expect = expect;
  command->barrier = barrier;
  command->task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (command->task, _pop3_client_command_new);

  if (cancellable != NULL)
    command_watch (self, command, cancellable);

  return command;
}

/* @first: ahead of every command waiting, not behind them. */
static void
enqueue (Pop3Client *self,
         Command    *command,
         gboolean    first)
{
  if (command->line != NULL && !pop3_auth_is_safe_argument (command->line))
    {
      g_autoptr(GError) error =
        g_error_new_literal (POP3_ERROR, POP3_ERROR_INVALID_ARGUMENT,
                             _("A command argument contains a line break or "
                               "a NUL byte and was not sent."));
      command_return_error (command, error);
      command_free (command);
      return;
    }

  if (!self->connected)
    {
      g_autoptr(GError) error =
        g_error_new_literal (POP3_ERROR, POP3_ERROR_CLOSED,
                             _("The connection to the server is closed."));
      command_return_error (command, error);
      command_free (command);
      return;
    }

  if (first)
    g_queue_push_head (&self->waiting, command);
  else
    g_queue_push_tail (&self->waiting, command);
  pump (self);
}

void
_pop3_client_send_command (Pop3Client          *self,
                           CommandKind          kind,
                           const char          *line,
                           const char          *debug_line,
                           Pop3Expect           expect,
                           gboolean             barrier,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  enqueue (self, _pop3_client_command_new (self, kind, line, debug_line, expect,
                                           barrier, cancellable, callback,
                                           user_data),
           FALSE);
}

void
_pop3_client_send_message_command (Pop3Client          *self,
                                   CommandKind          kind,
                                   guint                msg,
                                   const char          *line,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  Command *command = _pop3_client_command_new (self, kind, line, NULL,
                                               POP3_EXPECT_SINGLE, FALSE,
                                               cancellable, callback,
                                               user_data);

  command->msg = msg;
  enqueue (self, command, FALSE);
}

void
_pop3_client_resume_after_tls (Pop3Client *self,
                               Command    *first)
{
  self->tls_pending = FALSE;
  enqueue (self, first, TRUE);
}

void
_pop3_client_fail_held (Pop3Client   *self,
                        const GError *error)
{
  Command *command;

  self->tls_pending = FALSE;
  while ((command = g_queue_pop_head (&self->waiting)) != NULL)
    {
      command_return_error (command, error);
      command_free (command);
    }
}

/* Timeouts: one watchdog whose deadline moves forward whenever the
 * connection makes progress, and which is disarmed while nothing is
 * pending, so an idle client costs no wake-ups.
 *
 * Progress alone is not enough: a server that sends a line a second never
 * lets the timeout run out, and would hold a check (and every operation
 * queued behind it) for ever.  So each reply also has an overall deadline,
 * counted from when it became the one awaited: the timeout, plus one
 * millisecond for each byte received (MIN_REPLY_RATE).  The size of a
 * reply is rarely known in advance (RETR of a message whose LIST size was
 * not asked for, UIDL without STAT), so it is the bytes as they arrive
 * that earn time: a reply coming at 1 kB/s or faster, slower than any link
 * mail is read over, always finishes; a dripping one ends about one
 * timeout after it began.  The response cap bounds the longest a reply
 * can take. */

/* Bytes a second a reply must average once its timeout has passed. */
#define MIN_REPLY_RATE 1000

static gint64
reply_deadline (Pop3Client *self)
{
  return self->reply_started + (gint64) self->timeout * G_USEC_PER_SEC +
         (gint64) MIN (self->reply_received, G_MAXINT32) *
         (G_USEC_PER_SEC / MIN_REPLY_RATE);
}

/* The command at the head of in_flight changed: its reply is awaited from
 * now on. */
static void
reply_clock_start (Pop3Client *self)
{
  self->reply_started = g_get_monotonic_time ();
  self->reply_received = 0;
}

void
_pop3_client_push_in_flight (Pop3Client *self,
                             Command    *command)
{
  if (g_queue_is_empty (&self->in_flight))
    reply_clock_start (self);
  g_queue_push_tail (&self->in_flight, command);
}

static gboolean
is_busy (Pop3Client *self)
{
  return self->busy > 0 || !g_queue_is_empty (&self->in_flight) ||
         self->writing;
}

void
_pop3_client_watchdog_touch (Pop3Client *self)
{
  gint64 ready;

  if (self->watchdog == NULL)
    return;

  if (!is_busy (self))
    {
      g_source_set_ready_time (self->watchdog, -1);
      return;
    }

  ready = g_get_monotonic_time () + (gint64) self->timeout * G_USEC_PER_SEC;
  if (!g_queue_is_empty (&self->in_flight))
    ready = MIN (ready, reply_deadline (self));
  g_source_set_ready_time (self->watchdog, ready);
}

static const char *
server_host (Pop3Client *self)
{
  if (G_IS_NETWORK_ADDRESS (self->identity))
    return g_network_address_get_hostname (G_NETWORK_ADDRESS (self->identity));

  return NULL;
}

static GError *
timeout_error_new (Pop3Client *self)
{
  gint64 now = g_get_monotonic_time ();
  guint seconds;
  const char *host;

  /* A reply of which nothing came is silence, not slowness. */
  if (g_queue_is_empty (&self->in_flight) || self->reply_received == 0 ||
      now < reply_deadline (self))
    return g_error_new (POP3_ERROR, POP3_ERROR_TIMEOUT,
                        _("The server did not answer within %u seconds."),
                        self->timeout);

  seconds = (now - self->reply_started) / G_USEC_PER_SEC;
  host = server_host (self);
  if (host != NULL)
    return g_error_new (POP3_ERROR, POP3_ERROR_TIMEOUT,
                        g_dngettext (GETTEXT_PACKAGE,
                                     "The server %s was too slow: one reply "
                                     "took more than %u second.",
                                     "The server %s was too slow: one reply "
                                     "took more than %u seconds.", seconds),
                        host, seconds);

  return g_error_new (POP3_ERROR, POP3_ERROR_TIMEOUT,
                      g_dngettext (GETTEXT_PACKAGE,
                                   "The server was too slow: one reply took "
                                   "more than %u second.",
                                   "The server was too slow: one reply took "
                                   "more than %u seconds.", seconds),
                      seconds);
}

static gboolean
watchdog_dispatch (GSource     *source,
                   GSourceFunc  callback,
                   gpointer     user_data)
{
  Pop3Client *self = user_data;
  g_autoptr(GError) error = NULL;

  g_source_set_ready_time (source, -1);
  if (!is_busy (self))
    return G_SOURCE_CONTINUE;

  self->timed_out = TRUE;
  error = timeout_error_new (self);
  g_cancellable_cancel (self->io_cancellable);
  _pop3_client_fail_all (self, error);

  return G_SOURCE_CONTINUE;
}

static GSourceFuncs watchdog_funcs = {
  .dispatch = watchdog_dispatch,
};

void
_pop3_client_watchdog_start (Pop3Client *self)
{
  if (self->watchdog != NULL)
    return;

  self->watchdog = g_source_new (&watchdog_funcs, sizeof (GSource));
  /* Just below the I/O it watches: when the thread comes back from
   * something slow (a handler of the application's, a loaded machine) and
   * finds both the deadline passed and the server's reply waiting, the
   * reply is read first and moves the deadline.  The timeout measures the
   * server's silence, not ours. */
  g_source_set_priority (self->watchdog, G_PRIORITY_DEFAULT + 1);
  g_source_set_callback (self->watchdog, NULL, self, NULL);
  g_source_set_ready_time (self->watchdog, -1);
  g_source_set_static_name (self->watchdog, "[pop3] watchdog");
  g_source_attach (self->watchdog, g_main_context_get_thread_default ());
}

void
_pop3_client_watchdog_stop (Pop3Client *self)
{
  if (self->watchdog == NULL)
    return;

  g_source_destroy (self->watchdog);
  g_clear_pointer (&self->watchdog, g_source_unref);
}

void
_pop3_client_busy_push (Pop3Client *self)
{
  self->busy++;
  _pop3_client_watchdog_touch (self);
}

void
_pop3_client_busy_pop (Pop3Client *self)
{
  g_assert (self->busy > 0);
  self->busy--;
  _pop3_client_watchdog_touch (self);
}

/* Turns an I/O error into what the caller sees: a timeout stays a timeout
 * even though it reached us as a cancellation. */
GError *
_pop3_client_translate_io_error (Pop3Client   *self,
                                 const GError *error,
                                 const char   *what)
{
  if (self->timed_out)
    return g_error_new (POP3_ERROR, POP3_ERROR_TIMEOUT,
                        _("The server did not answer within %u seconds."),
                        self->timeout);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return g_error_copy (error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return g_error_new (POP3_ERROR, POP3_ERROR_TIMEOUT,
                        _("The server did not answer within %u seconds."),
                        self->timeout);
  if (error->domain == POP3_ERROR)
    return g_error_copy (error);

  return g_error_new (POP3_ERROR, POP3_ERROR_CLOSED, "%s: %s",
                      what, error->message);
}

/* Tear-down */

static void
close_streams (Pop3Client *self)
{
  self->connected = FALSE;

  if (self->stream != NULL)
    g_io_stream_close_async (self->stream, G_PRIORITY_DEFAULT, NULL,
                             NULL, NULL);
  if (self->base_stream != NULL && self->base_stream != self->stream)
    g_io_stream_close_async (self->base_stream, G_PRIORITY_DEFAULT, NULL,
                             NULL, NULL);

  g_clear_object (&self->stream);
  g_clear_object (&self->base_stream);
}

void
_pop3_client_fail_all (Pop3Client   *self,
                       const GError *error)
{
  Command *command;

  close_streams (self);
  g_cancellable_cancel (self->io_cancellable);
  self->tls_pending = FALSE;

  while ((command = g_queue_pop_head (&self->in_flight)) != NULL)
    {
      command_return_error (command, error);
      command_free (command);
    }
  while ((command = g_queue_pop_head (&self->waiting)) != NULL)
    {
      command_return_error (command, error);
      command_free (command);
    }

  self->bytes_in_flight = 0;
  /* An empty GByteArray may have no data at all. */
  if (self->write_buffer->len > 0)
    memset (self->write_buffer->data, 0, self->write_buffer->len);
  g_byte_array_set_size (self->write_buffer, 0);
  _pop3_client_watchdog_touch (self);
}

/* Reading */

static void read_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data);

void
_pop3_client_ensure_reading (Pop3Client *self)
{
  GInputStream *input;

  if (self->reading || g_queue_is_empty (&self->in_flight) ||
      self->stream == NULL)
    return;

  input = g_io_stream_get_input_stream (self->stream);
  self->reading = TRUE;
  g_input_stream_read_async (input, self->read_buffer, READ_BUFFER_SIZE,
                             G_PRIORITY_DEFAULT, self->io_cancellable,
                             read_cb, g_object_ref (self));
}

static GError *
error_for_reply (Pop3Reply *reply)
{
  return pop3_error_new_for_reply (reply->code, reply->text);
}

/* "+OK 9 other" to "UIDL 1" is well formed but about another message;
 * taking it would give message 1 the UID of message 9. */
static gboolean
check_reply_msg (Command    *command,
                 Pop3Reply  *reply,
                 GError    **error)
{
  if (reply->msg == command->msg)
    return TRUE;

  g_set_error (error, POP3_ERROR, POP3_ERROR_PROTOCOL,
               _("The server answered about message %u when asked about "
                 "message %u."), reply->msg, command->msg);
  return FALSE;
}

/* Parses what a successful reply carries for its command into the reply's
 * typed fields.  The stream stays in sync when this fails: only the
 * command fails. */
static gboolean
fill_reply (Pop3Client  *self,
            Command     *command,
            Pop3Reply   *reply,
            GError     **error)
{
  switch (command->kind)
    {
    case COMMAND_CAPA:
      reply->capabilities = pop3_parse_capa_body (reply->body, error);
      if (reply->capabilities == NULL)
        return FALSE;
      g_clear_pointer (&self->capabilities, g_hash_table_unref);
      self->capabilities = g_hash_table_ref (reply->capabilities);
      return TRUE;

    case COMMAND_STAT:
      return pop3_parse_stat (reply->text, &reply->count, &reply->size,
                              error);

    case COMMAND_LIST:
      reply->listing = pop3_parse_list_body (reply->body, error);
      return reply->listing != NULL;

    case COMMAND_LIST_ONE:
      return pop3_parse_scan_listing (reply->text, &reply->msg, &reply->size,
                                      error) &&
             check_reply_msg (command, reply, error);

    case COMMAND_UIDL:
      reply->uids = pop3_parse_uidl_body (reply->body, error);
      return reply->uids != NULL;

    case COMMAND_UIDL_ONE:
      return pop3_parse_uid_listing (reply->text, &reply->msg, &reply->uid,
                                     error) &&
             check_reply_msg (command, reply, error);

    case COMMAND_UTF8:
      self->utf8 = TRUE;
      return TRUE;

    case COMMAND_GREETING:
      g_free (self->welcome);
      self->welcome = g_strdup (reply->line);
      g_free (self->apop_timestamp);
      self->apop_timestamp = pop3_parse_apop_timestamp (reply->line);
      return TRUE;

    case COMMAND_GENERIC:
    case COMMAND_STLS:
    case COMMAND_QUIT:
    default:
      return TRUE;
    }
}

/* Takes reply. */
static void
complete_command (Pop3Client *self,
                  Command    *command,
                  Pop3Reply  *reply)
{
  g_autoptr(GError) error = NULL;

  _pop3_client_emit_debug (self, 2, "S: ", reply->line);
  _pop3_client_emit_debug_body (self, reply->body);

  if (reply->status == POP3_REPLY_ERR)
    error = error_for_reply (reply);
  else if (reply->status == POP3_REPLY_CONTINUATION &&
           command->expect != POP3_EXPECT_SASL)
    error = g_error_new_literal (POP3_ERROR, POP3_ERROR_PROTOCOL,
                                 _("The server sent a continuation where none "
                                   "was expected."));
  else
    fill_reply (self, command, reply, &error);

  if (command->kind == COMMAND_QUIT)
    close_streams (self);

  if (error != NULL)
    {
      command_return_error (command, error);
      pop3_reply_unref (reply);
    }
  else
    command_return_reply (command, reply);

  command_free (command);
}

static void
read_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(Pop3Client) self = user_data;
  g_autoptr(GError) error = NULL;
  gssize n;
  Pop3Reply *next;

  self->reading = FALSE;
  n = g_input_stream_read_finish (G_INPUT_STREAM (object), result, &error);

  if (n < 0)
    {
      g_autoptr(GError) translated =
        _pop3_client_translate_io_error (self, error,
                                         _("Reading from the server failed"));
      if (!g_queue_is_empty (&self->in_flight))
        _pop3_client_fail_all (self, translated);
      return;
    }

  if (self->stream == NULL)
    return;

  if (n == 0)
    {
      g_autoptr(GError) closed = NULL;

      if (pop3_parser_finish (self->parser, &closed))
        closed = g_error_new_literal (POP3_ERROR, POP3_ERROR_CLOSED,
                                      _("The server closed the connection."));
      _pop3_client_fail_all (self, closed);
      return;
    }

  self->reply_received += n;
  _pop3_client_watchdog_touch (self);

  if (!pop3_parser_feed (self->parser, self->read_buffer, n, &error))
    {
      _pop3_client_fail_all (self, error);
      return;
    }

  while ((next = pop3_parser_pop_reply (self->parser)) != NULL)
    {
      Command *command = g_queue_pop_head (&self->in_flight);

      /* The parser only yields as many replies as expectations we pushed,
       * one per command in flight. */
      g_assert (command != NULL);

      if (command->line != NULL)
        self->bytes_in_flight -= strlen (command->line) + 2;
      reply_clock_start (self);

      complete_command (self, command, next);

      /* A completed QUIT, or a callback that closed us, ends the stream. */
      if (self->stream == NULL)
        return;
    }

  _pop3_client_watchdog_touch (self);
  pump (self);
  _pop3_client_ensure_reading (self);
}

/* Writing */

static void write_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data);

static void
flush_writes (Pop3Client *self)
{
  g_autoptr(GBytes) bytes = NULL;
  GOutputStream *output;

  if (self->writing || self->write_buffer->len == 0 || self->stream == NULL)
    return;

  bytes = g_byte_array_free_to_bytes (self->write_buffer);
  self->write_buffer = g_byte_array_new ();
  output = g_io_stream_get_output_stream (self->stream);

  self->writing = TRUE;
  _pop3_client_watchdog_touch (self);
  g_output_stream_write_all_async (output,
                                   g_bytes_get_data (bytes, NULL),
                                   g_bytes_get_size (bytes),
                                   G_PRIORITY_DEFAULT, self->io_cancellable,
                                   write_cb, g_object_ref (self));
  /* The stream reads from the GBytes' memory until write_cb. */
  self->write_bytes = g_steal_pointer (&bytes);
}

/* What was written may hold a password: the only reference, from
 * flush_writes(), gives the memory back to be wiped. */
static void
wipe_bytes (GBytes *bytes)
{
  gsize size = 0;
  guint8 *data = g_bytes_unref_to_data (bytes, &size);

  if (size > 0)
    memset (data, 0, size);
  g_free (data);
}

static void
write_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(Pop3Client) self = user_data;
  g_autoptr(GError) error = NULL;

  self->writing = FALSE;
  g_clear_pointer (&self->write_bytes, wipe_bytes);

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (object), result,
                                         NULL, &error))
    {
      g_autoptr(GError) translated =
        _pop3_client_translate_io_error (self, error,
                                         _("Writing to the server failed"));
      if (self->stream != NULL || !g_queue_is_empty (&self->in_flight))
        _pop3_client_fail_all (self, translated);
      return;
    }

  _pop3_client_watchdog_touch (self);
  flush_writes (self);
}

/* Data the server sends when no command is outstanding would otherwise be
 * taken as the reply to the next command. */
gboolean
_pop3_client_check_unsolicited (Pop3Client  *self,
                                GError     **error)
{
  GInputStream *input = g_io_stream_get_input_stream (self->stream);
  g_autoptr(GError) local_error = NULL;
  gssize n;

  if (!G_IS_POLLABLE_INPUT_STREAM (input) ||
      !g_pollable_input_stream_can_poll (G_POLLABLE_INPUT_STREAM (input)) ||
      !g_pollable_input_stream_is_readable (G_POLLABLE_INPUT_STREAM (input)))
    return TRUE;

  n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (input),
                                                self->read_buffer,
                                                READ_BUFFER_SIZE,
                                                NULL, &local_error);
  if (n < 0 &&
      g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    return TRUE;
  if (n < 0)
    {
      *error = _pop3_client_translate_io_error (
        self, local_error, _("Reading from the server failed"));
      return FALSE;
    }
  if (n == 0)
    {
      g_set_error_literal (error, POP3_ERROR, POP3_ERROR_CLOSED,
                           _("The server closed the connection."));
      return FALSE;
    }

  g_set_error_literal (error, POP3_ERROR, POP3_ERROR_PROTOCOL,
                       _("The server sent data nobody asked for."));
  return FALSE;
}

static gboolean
can_send (Pop3Client *self,
          Command    *command)
{
  Command *last;

  if (g_queue_is_empty (&self->in_flight))
    return TRUE;

  last = g_queue_peek_tail (&self->in_flight);
  if (command->barrier || last->barrier || last->kind == COMMAND_GREETING)
    return FALSE;
  if (!pop3_client_is_pipelining (self))
    return FALSE;

  return self->bytes_in_flight + strlen (command->line) + 2 <= PIPELINE_WINDOW;
}

/* Cancelled, but its watch has not run yet: the reply that lets the queue
 * move was read in the same turn of the main loop.  It is never sent; the
 * watch drops it, then pumps again. */
static gboolean
is_cancelled (Command *command)
{
  return command->cancel_watch != NULL &&
         g_cancellable_is_cancelled (command->cancel_watch->cancellable);
}

static void
pump (Pop3Client *self)
{
  Command *command;

  while (self->stream != NULL && !self->tls_pending &&
         (command = g_queue_peek_head (&self->waiting)) != NULL &&
         !is_cancelled (command) &&
         can_send (self, command))
    {
      if (g_queue_is_empty (&self->in_flight))
        {
          g_autoptr(GError) error = NULL;

          if (!_pop3_client_check_unsolicited (self, &error))
            {
              _pop3_client_fail_all (self, error);
              return;
            }
          self->round_trips++;
        }

      g_queue_pop_head (&self->waiting);
      _pop3_client_emit_debug (self, 1, "C: ", command->debug_line);

      g_byte_array_append (self->write_buffer, (const guint8 *) command->line,
                           strlen (command->line));
      g_byte_array_append (self->write_buffer, (const guint8 *) "\r\n", 2);
      self->bytes_in_flight += strlen (command->line) + 2;

      pop3_parser_push_expect (self->parser, command->expect);
      _pop3_client_push_in_flight (self, command);
      if (command->kind == COMMAND_STLS)
        self->tls_pending = TRUE;
    }

  flush_writes (self);
  _pop3_client_ensure_reading (self);
  _pop3_client_watchdog_touch (self);
}
