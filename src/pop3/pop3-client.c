/* pop3-client.c
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

#include <gio/gnetworking.h>

#include "pop3-auth.h"
#include "pop3-client.h"

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
#define READ_BUFFER_SIZE 65536

typedef enum
{
  COMMAND_GENERIC,
  COMMAND_GREETING,
  COMMAND_CAPA,
  COMMAND_STAT,
  COMMAND_LIST,
  COMMAND_LIST_ONE,
  COMMAND_UIDL,
  COMMAND_UIDL_ONE,
  COMMAND_UTF8,
  COMMAND_STLS,
  COMMAND_QUIT,
} CommandKind;

typedef struct
{
  CommandKind  kind;
  char        *line;
  char        *debug_line;
  Pop3Expect   expect;
  gboolean     barrier;
  GTask       *task;
  struct _CancelWatch *cancel_watch;
} Command;

/* One cancellable source per cancellable, not per command: a check
 * pipelines thousands of TOPs under one cancellable, and thousands of
 * sources would make every main loop iteration walk them all. */
typedef struct _CancelWatch
{
  Pop3Client   *client;
  GCancellable *cancellable;
  GSource      *source;
  guint         n_commands;
} CancelWatch;

struct _Pop3Client
{
  GObject             parent_instance;

  guint               timeout;
  gsize               max_response;
  guint               debug_level;
  GTlsDatabase       *tls_database;
  char               *pinned_fingerprint;
  gboolean            pipelining_allowed;

  GIOStream          *base_stream;
  GIOStream          *stream;
  GSocketConnectable *identity;
  Pop3Parser         *parser;
  guint8             *read_buffer;
  GCancellable       *io_cancellable;
  GSource            *watchdog;

  GQueue              waiting;
  GQueue              in_flight;
  /* GCancellable -> CancelWatch of the commands that have it */
  GHashTable         *cancel_watches;
  gsize               bytes_in_flight;
  GByteArray         *write_buffer;
  gboolean            reading;
  gboolean            writing;
  guint               busy;
  gboolean            timed_out;

  char               *welcome;
  char               *apop_timestamp;
  GHashTable         *capabilities;
  Pop3TlsInfo        *tls_info;
  gboolean            connected;
  gboolean            encrypted;
  gboolean            utf8;
  guint               round_trips;
};

G_DEFINE_FINAL_TYPE (Pop3Client, pop3_client, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_TIMEOUT,
  PROP_DEBUG_LEVEL,
  N_PROPS
};

enum {
  DEBUG,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void pump (Pop3Client *self);
static void fail_all (Pop3Client *self, const GError *error);

/* Debug output */

static void
emit_debug (Pop3Client *self,
            guint       level,
            const char *prefix,
            const char *text)
{
  g_autofree char *line = NULL;

  if (self->debug_level < level)
    return;

  line = g_strconcat (prefix, text, NULL);
  g_signal_emit (self, signals[DEBUG], 0, line);
}

static void
emit_debug_body (Pop3Client *self,
                 GBytes     *body)
{
  const char *data;
  gsize len;
  gsize start = 0;

  if (self->debug_level < 2 || body == NULL)
    return;

  data = g_bytes_get_data (body, &len);
  for (gsize i = 0; i < len; i++)
    {
      g_autofree char *raw = NULL;
      g_autofree char *valid = NULL;
      gsize end;

      if (data[i] != '\n')
        continue;

      end = (i > start && data[i - 1] == '\r') ? i - 1 : i;
      raw = g_strndup (data + start, end - start);
      valid = g_utf8_make_valid (raw, end - start);
      emit_debug (self, 2, "S: ", valid);
      start = i + 1;
    }
  emit_debug (self, 2, "S: ", ".");
}

/* Commands */

static void
cancel_watch_free (CancelWatch *watch)
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

static void
command_return_reply (Command   *command,
                      Pop3Reply *reply)
{
  g_autoptr(GTask) task = command_steal_task (command);

  if (task != NULL)
    g_task_return_pointer (task, pop3_reply_ref (reply),
                           (GDestroyNotify) pop3_reply_unref);
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

static Command *
command_new (Pop3Client          *self,
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
  g_task_set_source_tag (command->task, command_new);

  if (cancellable != NULL)
    command_watch (self, command, cancellable);

  return command;
}

static void
enqueue (Pop3Client *self,
         Command    *command)
{
  if (command->line != NULL && !pop3_auth_is_safe_argument (command->line))
    {
      g_autoptr(GError) error =
        g_error_new_literal (POP3_ERROR, POP3_ERROR_INVALID_ARGUMENT,
                             "A command argument contains a line break or "
                             "a NUL byte and was not sent.");
      command_return_error (command, error);
      command_free (command);
      return;
    }

  if (!self->connected)
    {
      g_autoptr(GError) error =
        g_error_new_literal (POP3_ERROR, POP3_ERROR_CLOSED,
                             "The connection to the server is closed.");
      command_return_error (command, error);
      command_free (command);
      return;
    }

  g_queue_push_tail (&self->waiting, command);
  pump (self);
}

/* Timeouts: one watchdog whose deadline moves forward whenever the
 * connection makes progress, and which is disarmed while nothing is
 * pending, so an idle client costs no wake-ups. */

static gboolean
is_busy (Pop3Client *self)
{
  return self->busy > 0 || !g_queue_is_empty (&self->in_flight) ||
         self->writing;
}

static void
watchdog_touch (Pop3Client *self)
{
  if (self->watchdog == NULL)
    return;

  if (is_busy (self))
    g_source_set_ready_time (self->watchdog,
                             g_get_monotonic_time () +
                             (gint64) self->timeout * G_USEC_PER_SEC);
  else
    g_source_set_ready_time (self->watchdog, -1);
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
  error = g_error_new (POP3_ERROR, POP3_ERROR_TIMEOUT,
                       "The server did not answer within %u seconds.",
                       self->timeout);
  g_cancellable_cancel (self->io_cancellable);
  fail_all (self, error);

  return G_SOURCE_CONTINUE;
}

static GSourceFuncs watchdog_funcs = {
  .dispatch = watchdog_dispatch,
};

static void
watchdog_start (Pop3Client *self)
{
  if (self->watchdog != NULL)
    return;

  self->watchdog = g_source_new (&watchdog_funcs, sizeof (GSource));
  g_source_set_callback (self->watchdog, NULL, self, NULL);
  g_source_set_ready_time (self->watchdog, -1);
  g_source_set_static_name (self->watchdog, "[pop3] watchdog");
  g_source_attach (self->watchdog, g_main_context_get_thread_default ());
}

static void
watchdog_stop (Pop3Client *self)
{
  if (self->watchdog == NULL)
    return;

  g_source_destroy (self->watchdog);
  g_clear_pointer (&self->watchdog, g_source_unref);
}

static void
busy_push (Pop3Client *self)
{
  self->busy++;
  watchdog_touch (self);
}

static void
busy_pop (Pop3Client *self)
{
  g_assert (self->busy > 0);
  self->busy--;
  watchdog_touch (self);
}

/* Turns an I/O error into what the caller sees: a timeout stays a timeout
 * even though it reached us as a cancellation. */
static GError *
translate_io_error (Pop3Client   *self,
                    const GError *error,
                    const char   *what)
{
  if (self->timed_out)
    return g_error_new (POP3_ERROR, POP3_ERROR_TIMEOUT,
                        "The server did not answer within %u seconds.",
                        self->timeout);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return g_error_copy (error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return g_error_new (POP3_ERROR, POP3_ERROR_TIMEOUT,
                        "The server did not answer within %u seconds.",
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

static void
fail_all (Pop3Client   *self,
          const GError *error)
{
  Command *command;

  close_streams (self);
  g_cancellable_cancel (self->io_cancellable);

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
  g_byte_array_set_size (self->write_buffer, 0);
  watchdog_touch (self);
}

/* Reading */

static void read_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data);

static void
ensure_reading (Pop3Client *self)
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
  if (reply->text[0] == '\0')
    return g_error_new_literal (POP3_ERROR, POP3_ERROR_SERVER,
                                "The server refused the command.");

  return g_error_new_literal (POP3_ERROR, POP3_ERROR_SERVER, reply->text);
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
                                      error);

    case COMMAND_UIDL:
      reply->uids = pop3_parse_uidl_body (reply->body, error);
      return reply->uids != NULL;

    case COMMAND_UIDL_ONE:
      return pop3_parse_uid_listing (reply->text, &reply->msg, &reply->uid,
                                     error);

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

static void
complete_command (Pop3Client *self,
                  Command    *command,
                  Pop3Reply  *reply)
{
  g_autoptr(GError) error = NULL;

  emit_debug (self, 2, "S: ", reply->line);
  emit_debug_body (self, reply->body);

  if (reply->status == POP3_REPLY_ERR)
    error = error_for_reply (reply);
  else if (reply->status == POP3_REPLY_CONTINUATION &&
           command->expect != POP3_EXPECT_SASL)
    error = g_error_new_literal (POP3_ERROR, POP3_ERROR_PROTOCOL,
                                 "The server sent a continuation where none "
                                 "was expected.");
  else
    fill_reply (self, command, reply, &error);

  if (command->kind == COMMAND_QUIT)
    close_streams (self);

  if (error != NULL)
    command_return_error (command, error);
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
        translate_io_error (self, error, "Reading from the server failed");
      if (!g_queue_is_empty (&self->in_flight))
        fail_all (self, translated);
      return;
    }

  if (self->stream == NULL)
    return;

  if (n == 0)
    {
      g_autoptr(GError) closed = NULL;

      if (pop3_parser_finish (self->parser, &closed))
        closed = g_error_new_literal (POP3_ERROR, POP3_ERROR_CLOSED,
                                      "The server closed the connection.");
      fail_all (self, closed);
      return;
    }

  watchdog_touch (self);

  if (!pop3_parser_feed (self->parser, self->read_buffer, n, &error))
    {
      fail_all (self, error);
      return;
    }

  while ((next = pop3_parser_pop_reply (self->parser)) != NULL)
    {
      g_autoptr(Pop3Reply) reply = next;
      Command *command = g_queue_pop_head (&self->in_flight);

      /* The parser only yields as many replies as expectations we pushed,
       * one per command in flight. */
      g_assert (command != NULL);

      if (command->line != NULL)
        self->bytes_in_flight -= strlen (command->line) + 2;

      complete_command (self, command, reply);

      /* A completed QUIT, or a callback that closed us, ends the stream. */
      if (self->stream == NULL)
        return;
    }

  watchdog_touch (self);
  pump (self);
  ensure_reading (self);
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
  watchdog_touch (self);
  g_output_stream_write_all_async (output,
                                   g_bytes_get_data (bytes, NULL),
                                   g_bytes_get_size (bytes),
                                   G_PRIORITY_DEFAULT, self->io_cancellable,
                                   write_cb, g_object_ref (self));
  /* The stream reads from the GBytes' memory until write_cb. */
  g_object_set_data_full (G_OBJECT (self), "pop3-write-bytes",
                          g_steal_pointer (&bytes),
                          (GDestroyNotify) g_bytes_unref);
}

static void
write_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(Pop3Client) self = user_data;
  g_autoptr(GError) error = NULL;

  self->writing = FALSE;
  g_object_set_data (G_OBJECT (self), "pop3-write-bytes", NULL);

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (object), result,
                                         NULL, &error))
    {
      g_autoptr(GError) translated =
        translate_io_error (self, error, "Writing to the server failed");
      if (self->stream != NULL || !g_queue_is_empty (&self->in_flight))
        fail_all (self, translated);
      return;
    }

  watchdog_touch (self);
  flush_writes (self);
}

/* Data the server sends when no command is outstanding would otherwise be
 * taken as the reply to the next command. */
static gboolean
check_unsolicited (Pop3Client  *self,
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
      *error = translate_io_error (self, local_error,
                                   "Reading from the server failed");
      return FALSE;
    }
  if (n == 0)
    {
      g_set_error_literal (error, POP3_ERROR, POP3_ERROR_CLOSED,
                           "The server closed the connection.");
      return FALSE;
    }

  g_set_error_literal (error, POP3_ERROR, POP3_ERROR_PROTOCOL,
                       "The server sent data nobody asked for.");
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

static void
pump (Pop3Client *self)
{
  Command *command;

  while (self->stream != NULL &&
         (command = g_queue_peek_head (&self->waiting)) != NULL &&
         can_send (self, command))
    {
      if (g_queue_is_empty (&self->in_flight))
        {
          g_autoptr(GError) error = NULL;

          if (!check_unsolicited (self, &error))
            {
              fail_all (self, error);
              return;
            }
          self->round_trips++;
        }

      g_queue_pop_head (&self->waiting);
      emit_debug (self, 1, "C: ", command->debug_line);

      g_byte_array_append (self->write_buffer, (const guint8 *) command->line,
                           strlen (command->line));
      g_byte_array_append (self->write_buffer, (const guint8 *) "\r\n", 2);
      self->bytes_in_flight += strlen (command->line) + 2;

      pop3_parser_push_expect (self->parser, command->expect);
      g_queue_push_tail (&self->in_flight, command);
    }

  flush_writes (self);
  ensure_reading (self);
  watchdog_touch (self);
}

/* GObject */

static void
pop3_client_finalize (GObject *object)
{
  Pop3Client *self = (Pop3Client *) object;
  g_autoptr(GError) error = NULL;

  error = g_error_new_literal (POP3_ERROR, POP3_ERROR_CLOSED,
                               "The client was destroyed.");
  fail_all (self, error);
  watchdog_stop (self);

  g_clear_object (&self->tls_database);
  g_clear_object (&self->identity);
  g_clear_object (&self->io_cancellable);
  g_clear_pointer (&self->parser, pop3_parser_free);
  g_clear_pointer (&self->write_buffer, g_byte_array_unref);
  g_clear_pointer (&self->capabilities, g_hash_table_unref);
  g_clear_pointer (&self->cancel_watches, g_hash_table_unref);
  g_clear_pointer (&self->tls_info, pop3_tls_info_free);
  g_free (self->read_buffer);
  g_free (self->pinned_fingerprint);
  g_free (self->welcome);
  g_free (self->apop_timestamp);

  G_OBJECT_CLASS (pop3_client_parent_class)->finalize (object);
}

static void
pop3_client_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  Pop3Client *self = POP3_CLIENT (object);

  switch (prop_id)
    {
    case PROP_TIMEOUT:
      g_value_set_uint (value, self->timeout);
      break;

    case PROP_DEBUG_LEVEL:
      g_value_set_uint (value, self->debug_level);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pop3_client_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  Pop3Client *self = POP3_CLIENT (object);

  switch (prop_id)
    {
    case PROP_TIMEOUT:
      pop3_client_set_timeout (self, g_value_get_uint (value));
      break;

    case PROP_DEBUG_LEVEL:
      pop3_client_set_debug_level (self, g_value_get_uint (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pop3_client_class_init (Pop3ClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = pop3_client_finalize;
  object_class->get_property = pop3_client_get_property;
  object_class->set_property = pop3_client_set_property;

  properties[PROP_TIMEOUT] =
    g_param_spec_uint ("timeout", NULL, NULL,
                       1, 3600, POP3_DEFAULT_TIMEOUT,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));

  properties[PROP_DEBUG_LEVEL] =
    g_param_spec_uint ("debug-level", NULL, NULL,
                       0, 2, 0,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[DEBUG] =
    g_signal_new ("debug",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
pop3_client_init (Pop3Client *self)
{
  self->timeout = POP3_DEFAULT_TIMEOUT;
  self->max_response = POP3_DEFAULT_MAX_RESPONSE;
  self->pipelining_allowed = TRUE;
  self->io_cancellable = g_cancellable_new ();
  self->write_buffer = g_byte_array_new ();
  self->read_buffer = g_malloc (READ_BUFFER_SIZE);
  self->parser = pop3_parser_new (POP3_DEFAULT_MAX_LINE, self->max_response);
  g_queue_init (&self->waiting);
  g_queue_init (&self->in_flight);
  self->cancel_watches = g_hash_table_new_full (NULL, NULL, NULL,
                                                (GDestroyNotify) cancel_watch_free);
}

Pop3Client *
pop3_client_new (void)
{
  return g_object_new (POP3_TYPE_CLIENT, NULL);
}

/* Settings */

void
pop3_client_set_timeout (Pop3Client *self,
                         guint       seconds)
{
  g_return_if_fail (POP3_IS_CLIENT (self));
  g_return_if_fail (seconds > 0);

  if (self->timeout == seconds)
    return;

  self->timeout = seconds;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TIMEOUT]);
}

guint
pop3_client_get_timeout (Pop3Client *self)
{
  g_return_val_if_fail (POP3_IS_CLIENT (self), 0);

  return self->timeout;
}

void
pop3_client_set_max_response (Pop3Client *self,
                              gsize       max_bytes)
{
  g_return_if_fail (POP3_IS_CLIENT (self));
  g_return_if_fail (!self->connected);

  self->max_response = max_bytes;
  g_clear_pointer (&self->parser, pop3_parser_free);
  self->parser = pop3_parser_new (POP3_DEFAULT_MAX_LINE, max_bytes);
}

void
pop3_client_set_debug_level (Pop3Client *self,
                             guint       level)
{
  g_return_if_fail (POP3_IS_CLIENT (self));

  level = MIN (level, 2);
  if (self->debug_level == level)
    return;

  self->debug_level = level;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DEBUG_LEVEL]);
}

guint
pop3_client_get_debug_level (Pop3Client *self)
{
  g_return_val_if_fail (POP3_IS_CLIENT (self), 0);

  return self->debug_level;
}

void
pop3_client_set_tls_database (Pop3Client   *self,
                              GTlsDatabase *database)
{
  g_return_if_fail (POP3_IS_CLIENT (self));
  g_return_if_fail (database == NULL || G_IS_TLS_DATABASE (database));

  g_set_object (&self->tls_database, database);
}

void
pop3_client_set_pinned_fingerprint (Pop3Client *self,
                                    const char *sha256)
{
  g_return_if_fail (POP3_IS_CLIENT (self));

  g_free (self->pinned_fingerprint);
  self->pinned_fingerprint = (sha256 && *sha256) ? g_strdup (sha256) : NULL;
}

void
pop3_client_set_pipelining (Pop3Client *self,
                            gboolean    allowed)
{
  g_return_if_fail (POP3_IS_CLIENT (self));

  self->pipelining_allowed = !!allowed;
}

/* State */

const char *
pop3_client_get_welcome (Pop3Client *self)
{
  g_return_val_if_fail (POP3_IS_CLIENT (self), NULL);

  return self->welcome;
}

const char *
pop3_client_get_apop_timestamp (Pop3Client *self)
{
  g_return_val_if_fail (POP3_IS_CLIENT (self), NULL);

  return self->apop_timestamp;
}

GHashTable *
pop3_client_get_capabilities (Pop3Client *self)
{
  g_return_val_if_fail (POP3_IS_CLIENT (self), NULL);

  return self->capabilities;
}

gboolean
pop3_client_has_capability (Pop3Client *self,
                            const char *name)
{
  g_autofree char *upper = NULL;

  g_return_val_if_fail (POP3_IS_CLIENT (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  if (self->capabilities == NULL)
    return FALSE;

  upper = g_ascii_strup (name, -1);
  return g_hash_table_contains (self->capabilities, upper);
}

gboolean
pop3_client_is_encrypted (Pop3Client *self)
{
  g_return_val_if_fail (POP3_IS_CLIENT (self), FALSE);

  return self->encrypted;
}

gboolean
pop3_client_is_utf8 (Pop3Client *self)
{
  g_return_val_if_fail (POP3_IS_CLIENT (self), FALSE);

  return self->utf8;
}

gboolean
pop3_client_is_pipelining (Pop3Client *self)
{
  g_return_val_if_fail (POP3_IS_CLIENT (self), FALSE);

  return self->pipelining_allowed &&
         pop3_client_has_capability (self, "PIPELINING");
}

gboolean
pop3_client_is_connected (Pop3Client *self)
{
  g_return_val_if_fail (POP3_IS_CLIENT (self), FALSE);

  return self->connected;
}

const Pop3TlsInfo *
pop3_client_get_tls_info (Pop3Client *self)
{
  g_return_val_if_fail (POP3_IS_CLIENT (self), NULL);

  return self->tls_info;
}

guint
pop3_client_get_round_trips (Pop3Client *self)
{
  g_return_val_if_fail (POP3_IS_CLIENT (self), 0);

  return self->round_trips;
}

/* The generic command */

void
pop3_client_command_async (Pop3Client          *self,
                           const char          *line,
                           Pop3Expect           expect,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_return_if_fail (POP3_IS_CLIENT (self));
  g_return_if_fail (line != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  enqueue (self, command_new (self, COMMAND_GENERIC, line, NULL, expect,
                              expect == POP3_EXPECT_SASL, cancellable,
                              callback, user_data));
}

Pop3Reply *
pop3_client_command_finish (Pop3Client    *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (POP3_IS_CLIENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
send_command (Pop3Client          *self,
              CommandKind          kind,
              const char          *line,
              const char          *debug_line,
              Pop3Expect           expect,
              gboolean             barrier,
              GCancellable        *cancellable,
              GAsyncReadyCallback  callback,
              gpointer             user_data)
{
  enqueue (self, command_new (self, kind, line, debug_line, expect, barrier,
                              cancellable, callback, user_data));
}

void
pop3_client_capa_async (Pop3Client          *self,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_return_if_fail (POP3_IS_CLIENT (self));

  send_command (self, COMMAND_CAPA, "CAPA", NULL, POP3_EXPECT_LISTING, FALSE,
                cancellable, callback, user_data);
}

void
pop3_client_user_async (Pop3Client          *self,
                        const char          *user,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autofree char *line = NULL;

  g_return_if_fail (POP3_IS_CLIENT (self));
  g_return_if_fail (user != NULL);

  line = g_strconcat ("USER ", user, NULL);
  send_command (self, COMMAND_GENERIC, line, NULL, POP3_EXPECT_SINGLE, TRUE,
                cancellable, callback, user_data);
}

void
pop3_client_pass_async (Pop3Client          *self,
                        const char          *password,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autofree char *line = NULL;

  g_return_if_fail (POP3_IS_CLIENT (self));
  g_return_if_fail (password != NULL);

  line = g_strconcat ("PASS ", password, NULL);
  send_command (self, COMMAND_GENERIC, line, "PASS ********",
                POP3_EXPECT_SINGLE, TRUE, cancellable, callback, user_data);
  /* The command owns a copy; do not leave one behind in freed memory. */
  memset (line, 0, strlen (line));
}

void
pop3_client_apop_async (Pop3Client          *self,
                        const char          *user,
                        const char          *password,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autofree char *digest = NULL;
  g_autofree char *line = NULL;
  g_autofree char *debug_line = NULL;

  g_return_if_fail (POP3_IS_CLIENT (self));
  g_return_if_fail (user != NULL);
  g_return_if_fail (password != NULL);

  if (self->apop_timestamp == NULL)
    {
      g_task_report_new_error (self, callback, user_data, command_new,
                               POP3_ERROR, POP3_ERROR_NOT_SUPPORTED,
                               "The server does not support APOP: its "
                               "greeting has no timestamp.");
      return;
    }

  digest = pop3_auth_apop_digest (self->apop_timestamp, password);
  line = g_strdup_printf ("APOP %s %s", user, digest);
  debug_line = g_strdup_printf ("APOP %s ********", user);
  send_command (self, COMMAND_GENERIC, line, debug_line, POP3_EXPECT_SINGLE,
                TRUE, cancellable, callback, user_data);
}

void
pop3_client_rpop_async (Pop3Client          *self,
                        const char          *user,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autofree char *line = NULL;

  g_return_if_fail (POP3_IS_CLIENT (self));
  g_return_if_fail (user != NULL);

  line = g_strconcat ("RPOP ", user, NULL);
  send_command (self, COMMAND_GENERIC, line, NULL, POP3_EXPECT_SINGLE, TRUE,
                cancellable, callback, user_data);
}

void
pop3_client_stat_async (Pop3Client          *self,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_return_if_fail (POP3_IS_CLIENT (self));

  send_command (self, COMMAND_STAT, "STAT", NULL, POP3_EXPECT_SINGLE, FALSE,
                cancellable, callback, user_data);
}

void
pop3_client_list_async (Pop3Client          *self,
                        guint                msg,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autofree char *line = NULL;

  g_return_if_fail (POP3_IS_CLIENT (self));

  if (msg == 0)
    {
      send_command (self, COMMAND_LIST, "LIST", NULL, POP3_EXPECT_LISTING,
                    FALSE, cancellable, callback, user_data);
      return;
    }

  line = g_strdup_printf ("LIST %u", msg);
  send_command (self, COMMAND_LIST_ONE, line, NULL, POP3_EXPECT_SINGLE, FALSE,
                cancellable, callback, user_data);
}

void
pop3_client_retr_async (Pop3Client          *self,
                        guint                msg,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autofree char *line = NULL;

  g_return_if_fail (POP3_IS_CLIENT (self));
  g_return_if_fail (msg > 0);

  line = g_strdup_printf ("RETR %u", msg);
  send_command (self, COMMAND_GENERIC, line, NULL, POP3_EXPECT_MESSAGE, FALSE,
                cancellable, callback, user_data);
}

void
pop3_client_top_async (Pop3Client          *self,
                       guint                msg,
                       guint                lines,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_autofree char *line = NULL;

  g_return_if_fail (POP3_IS_CLIENT (self));
  g_return_if_fail (msg > 0);

  line = g_strdup_printf ("TOP %u %u", msg, lines);
  send_command (self, COMMAND_GENERIC, line, NULL, POP3_EXPECT_MESSAGE, FALSE,
                cancellable, callback, user_data);
}

void
pop3_client_dele_async (Pop3Client          *self,
                        guint                msg,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autofree char *line = NULL;

  g_return_if_fail (POP3_IS_CLIENT (self));
  g_return_if_fail (msg > 0);

  line = g_strdup_printf ("DELE %u", msg);
  send_command (self, COMMAND_GENERIC, line, NULL, POP3_EXPECT_SINGLE, FALSE,
                cancellable, callback, user_data);
}

void
pop3_client_rset_async (Pop3Client          *self,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_return_if_fail (POP3_IS_CLIENT (self));

  send_command (self, COMMAND_GENERIC, "RSET", NULL, POP3_EXPECT_SINGLE, FALSE,
                cancellable, callback, user_data);
}

void
pop3_client_noop_async (Pop3Client          *self,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_return_if_fail (POP3_IS_CLIENT (self));

  send_command (self, COMMAND_GENERIC, "NOOP", NULL, POP3_EXPECT_SINGLE, FALSE,
                cancellable, callback, user_data);
}

void
pop3_client_uidl_async (Pop3Client          *self,
                        guint                msg,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autofree char *line = NULL;

  g_return_if_fail (POP3_IS_CLIENT (self));

  if (msg == 0)
    {
      send_command (self, COMMAND_UIDL, "UIDL", NULL, POP3_EXPECT_LISTING,
                    FALSE, cancellable, callback, user_data);
      return;
    }

  line = g_strdup_printf ("UIDL %u", msg);
  send_command (self, COMMAND_UIDL_ONE, line, NULL, POP3_EXPECT_SINGLE, FALSE,
                cancellable, callback, user_data);
}

void
pop3_client_utf8_async (Pop3Client          *self,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_return_if_fail (POP3_IS_CLIENT (self));

  send_command (self, COMMAND_UTF8, "UTF8", NULL, POP3_EXPECT_SINGLE, TRUE,
                cancellable, callback, user_data);
}

void
pop3_client_quit_async (Pop3Client          *self,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_return_if_fail (POP3_IS_CLIENT (self));

  send_command (self, COMMAND_QUIT, "QUIT", NULL, POP3_EXPECT_SINGLE, FALSE,
                cancellable, callback, user_data);
}

void
pop3_client_close (Pop3Client *self)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (POP3_IS_CLIENT (self));

  error = g_error_new_literal (POP3_ERROR, POP3_ERROR_CLOSED,
                               "The connection was closed.");
  fail_all (self, error);
}

const char *
pop3_client_error_get_code (const GError *error)
{
  g_autofree char *code = NULL;

  if (error == NULL || error->domain != POP3_ERROR ||
      (error->code != POP3_ERROR_SERVER && error->code != POP3_ERROR_AUTH))
    return NULL;

  code = pop3_parse_response_code (error->message);
  return code ? g_intern_string (code) : NULL;
}


/* TLS: the handshake for implicit TLS and for STLS */

static gboolean
accept_certificate_cb (GTlsConnection       *connection,
                       GTlsCertificate      *certificate,
                       GTlsCertificateFlags  errors,
                       Pop3Client           *self)
{
  g_clear_pointer (&self->tls_info, pop3_tls_info_free);
  self->tls_info = pop3_tls_info_new_for_certificate (certificate, errors);

  if (self->pinned_fingerprint != NULL &&
      pop3_tls_fingerprint_equal (self->pinned_fingerprint,
                                  self->tls_info->fingerprint))
    {
      self->tls_info->accepted_by_pin = TRUE;
      return TRUE;
    }

  return FALSE;
}

static void
record_tls_session (Pop3Client     *self,
                    GTlsConnection *connection)
{
  if (self->tls_info == NULL)
    {
      GTlsCertificate *peer = g_tls_connection_get_peer_certificate (connection);

      if (peer != NULL)
        self->tls_info = pop3_tls_info_new_for_certificate (
          peer, g_tls_connection_get_peer_certificate_errors (connection));
    }

  if (self->tls_info != NULL)
    {
      self->tls_info->protocol_version =
        g_tls_connection_get_protocol_version (connection);
      g_free (self->tls_info->ciphersuite);
      self->tls_info->ciphersuite =
        g_tls_connection_get_ciphersuite_name (connection);
    }
}

static GError *
translate_handshake_error (Pop3Client   *self,
                           const GError *error)
{
  if (g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE) &&
      self->tls_info != NULL)
    {
      g_autofree char *problems =
        pop3_tls_describe_errors (self->tls_info->errors);

      return g_error_new (POP3_ERROR, POP3_ERROR_CERTIFICATE,
                          "The server's certificate was not accepted: %s "
                          "(SHA-256 fingerprint %s).",
                          problems, self->tls_info->fingerprint);
    }

  if (self->timed_out ||
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return translate_io_error (self, error, "");

  return g_error_new (POP3_ERROR, POP3_ERROR_TLS,
                      "The secure connection could not be set up: %s",
                      error->message);
}

static void
handshake_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Pop3Client *self = g_task_get_source_object (task);
  GTlsConnection *connection = G_TLS_CONNECTION (object);
  g_autoptr(GError) error = NULL;

  busy_pop (self);

  if (!g_tls_connection_handshake_finish (connection, result, &error))
    {
      g_autoptr(GError) translated = translate_handshake_error (self, error);

      g_signal_handlers_disconnect_by_data (connection, self);
      g_io_stream_close_async (G_IO_STREAM (connection), G_PRIORITY_DEFAULT,
                               NULL, NULL, NULL);
      fail_all (self, translated);
      g_task_return_error (task, g_steal_pointer (&translated));
      return;
    }

  g_signal_handlers_disconnect_by_data (connection, self);
  record_tls_session (self, connection);

  g_set_object (&self->stream, G_IO_STREAM (connection));
  self->encrypted = TRUE;
  g_task_return_boolean (task, TRUE);
}

static void
handshake_async (Pop3Client          *self,
                 GCancellable        *cancellable,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_autoptr(GIOStream) connection = NULL;
  g_autoptr(GError) error = NULL;

  g_task_set_source_tag (task, handshake_async);
  g_clear_pointer (&self->tls_info, pop3_tls_info_free);

  /* Our own database goes in at construction: set afterwards, glib-networking
   * 2.74 first gives the connection credentials built from the whole system
   * trust store and then throws them away, on every connection. */
  if (self->tls_database != NULL)
    connection = g_initable_new (g_tls_backend_get_client_connection_type (
                                   g_tls_backend_get_default ()),
                                 NULL, &error,
                                 "base-io-stream", self->base_stream,
                                 "server-identity", self->identity,
                                 "database", self->tls_database,
                                 NULL);
  else
    connection = g_tls_client_connection_new (self->base_stream, self->identity,
                                              &error);
  if (connection == NULL)
    {
      g_autoptr(GError) translated = g_error_new (
        POP3_ERROR, POP3_ERROR_TLS,
        "TLS is not available on this system: %s", error->message);
      fail_all (self, translated);
      g_task_return_error (task, g_steal_pointer (&translated));
      return;
    }

  /* Servers routinely drop the connection after QUIT without a TLS
   * close_notify; that is not an attack on a protocol with its own end. */
  g_tls_connection_set_require_close_notify (G_TLS_CONNECTION (connection),
                                             FALSE);
  g_signal_connect (connection, "accept-certificate",
                    G_CALLBACK (accept_certificate_cb), self);

  busy_push (self);
  g_tls_connection_handshake_async (G_TLS_CONNECTION (connection),
                                    G_PRIORITY_DEFAULT, self->io_cancellable,
                                    handshake_cb, g_steal_pointer (&task));
}

static gboolean
handshake_finish (Pop3Client    *self,
                  GAsyncResult  *result,
                  GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* STLS (RFC 2595, section 4) */

static void
stls_capa_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Pop3Client *self = POP3_CLIENT (object);
  g_autoptr(Pop3Reply) capa = NULL;
  g_autoptr(GError) error = NULL;

  /* A server may refuse CAPA; only a broken connection fails STLS here. */
  capa = pop3_client_command_finish (self, result, &error);
  if (capa == NULL && !self->connected)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  g_task_return_pointer (task,
                         pop3_reply_ref (g_task_get_task_data (task)),
                         (GDestroyNotify) pop3_reply_unref);
}

static void
stls_handshake_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Pop3Client *self = POP3_CLIENT (object);
  g_autoptr(GError) error = NULL;

  if (!handshake_finish (self, result, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* What the server said before TLS cannot be trusted (RFC 2595, 4). */
  g_clear_pointer (&self->capabilities, g_hash_table_unref);
  self->utf8 = FALSE;
  pop3_client_capa_async (self, g_task_get_cancellable (task), stls_capa_cb,
                          g_object_ref (task));
}

static void
stls_reply_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Pop3Client *self = POP3_CLIENT (object);
  g_autoptr(Pop3Reply) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = pop3_client_command_finish (self, result, &error);
  if (reply == NULL)
    {
      if (error->domain == POP3_ERROR && error->code == POP3_ERROR_SERVER)
        {
          g_autoptr(GError) tls_error = g_error_new (
            POP3_ERROR, POP3_ERROR_TLS,
            "The server refused to start TLS: %s", error->message);
          g_task_return_error (task, g_steal_pointer (&tls_error));
          return;
        }
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* Anything already sent after "+OK" was injected before the handshake
   * and would otherwise be read as if it had come over TLS. */
  if (pop3_parser_get_buffered (self->parser) > 0 ||
      !check_unsolicited (self, &error))
    {
      if (error == NULL)
        error = g_error_new_literal (POP3_ERROR, POP3_ERROR_PROTOCOL,
                                     "The server sent data nobody asked for.");
      fail_all (self, error);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  g_task_set_task_data (task, pop3_reply_ref (reply),
                        (GDestroyNotify) pop3_reply_unref);
  handshake_async (self, g_task_get_cancellable (task), stls_handshake_cb,
                   g_object_ref (task));
}

void
pop3_client_stls_async (Pop3Client          *self,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (POP3_IS_CLIENT (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, command_new);

  if (self->encrypted)
    {
      g_task_return_new_error (task, POP3_ERROR, POP3_ERROR_NOT_SUPPORTED,
                               "The connection is already encrypted.");
      return;
    }

  send_command (self, COMMAND_STLS, "STLS", NULL, POP3_EXPECT_SINGLE, TRUE,
                cancellable, stls_reply_cb, g_steal_pointer (&task));
}

/* Connecting */

typedef struct
{
  Pop3Security  security;
  GCancellable *cancellable;
  gulong        cancelled_id;
} ConnectData;

static void
connect_data_free (ConnectData *data)
{
  if (data->cancelled_id != 0)
    g_cancellable_disconnect (data->cancellable, data->cancelled_id);
  g_clear_object (&data->cancellable);
  g_free (data);
}

static void
connect_fail (GTask  *task,
              GError *error)
{
  Pop3Client *self = g_task_get_source_object (task);

  fail_all (self, error);
  g_task_return_error (task, error);
}

static void
connect_stls_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Pop3Client *self = POP3_CLIENT (object);
  g_autoptr(Pop3Reply) reply = NULL;
  GError *error = NULL;

  reply = pop3_client_command_finish (self, result, &error);
  if (reply == NULL)
    {
      connect_fail (task, error);
      return;
    }

  g_task_return_boolean (task, TRUE);
}

static void
connect_capa_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Pop3Client *self = POP3_CLIENT (object);
  g_autoptr(Pop3Reply) reply = NULL;
  GError *error = NULL;

  reply = pop3_client_command_finish (self, result, &error);
  if (reply == NULL && !self->connected)
    {
      connect_fail (task, error);
      return;
    }
  g_clear_error (&error);

  /* Never fall back to plaintext: the user asked for STARTTLS. */
  if (!pop3_client_has_capability (self, "STLS"))
    {
      connect_fail (task,
                    g_error_new_literal (POP3_ERROR, POP3_ERROR_TLS,
                                         "The server does not offer STARTTLS "
                                         "(STLS), so the connection was "
                                         "closed before anything was sent."));
      return;
    }

  pop3_client_stls_async (self, g_task_get_cancellable (task),
                          connect_stls_cb, g_object_ref (task));
}

static void
connect_greeting_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Pop3Client *self = POP3_CLIENT (object);
  ConnectData *data = g_task_get_task_data (task);
  g_autoptr(Pop3Reply) reply = NULL;
  GError *error = NULL;

  reply = pop3_client_command_finish (self, result, &error);
  if (reply == NULL)
    {
      connect_fail (task, error);
      return;
    }

  if (data->security != POP3_SECURITY_STARTTLS)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  pop3_client_capa_async (self, g_task_get_cancellable (task),
                          connect_capa_cb, g_object_ref (task));
}

static void
read_greeting (Pop3Client *self,
               GTask      *task)
{
  Command *greeting;

  self->connected = TRUE;
  greeting = command_new (self, COMMAND_GREETING, NULL, NULL,
                          POP3_EXPECT_SINGLE, TRUE, NULL,
                          connect_greeting_cb, g_object_ref (task));
  pop3_parser_push_expect (self->parser, POP3_EXPECT_SINGLE);
  g_queue_push_tail (&self->in_flight, greeting);
  self->round_trips++;
  ensure_reading (self);
  watchdog_touch (self);
}

static void
connect_handshake_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Pop3Client *self = POP3_CLIENT (object);
  GError *error = NULL;

  if (!handshake_finish (self, result, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  read_greeting (self, task);
}

static void
start_session (Pop3Client *self,
               GTask      *task)
{
  ConnectData *data = g_task_get_task_data (task);

  if (data->security == POP3_SECURITY_TLS)
    {
      handshake_async (self, g_task_get_cancellable (task),
                       connect_handshake_cb, g_object_ref (task));
      return;
    }

  self->stream = g_object_ref (self->base_stream);
  read_greeting (self, task);
}

static void
socket_connected_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Pop3Client *self = g_task_get_source_object (task);
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;

  busy_pop (self);

  connection = g_socket_client_connect_finish (G_SOCKET_CLIENT (object),
                                               result, &error);
  if (connection == NULL)
    {
      GError *translated;

      if (self->timed_out ||
          g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        translated = translate_io_error (self, error, "");
      else
        translated = g_error_new (POP3_ERROR, POP3_ERROR_CONNECT,
                                  "Could not connect to the server: %s",
                                  error->message);
      connect_fail (task, translated);
      return;
    }

  /* Pipelined commands go out as small writes, one right behind the
   * other (UIDL then LIST, a refill of TOPs).  With Nagle's algorithm the
   * kernel holds each back until the previous one is acknowledged, and the
   * server delays that ACK until it has a reply to carry it: LIST's reply
   * came a whole round trip after UIDL's.  Our writes are already whole
   * batches, so nothing is lost by sending them at once. */
  g_socket_set_option (g_socket_connection_get_socket (connection),
                       IPPROTO_TCP, TCP_NODELAY, TRUE, NULL);
  self->base_stream = G_IO_STREAM (g_steal_pointer (&connection));
  start_session (self, task);
}

static void
connect_cancelled_cb (GCancellable *cancellable,
                      Pop3Client   *self)
{
  g_cancellable_cancel (self->io_cancellable);
}

static GTask *
connect_task_new (Pop3Client          *self,
                  Pop3Security         security,
                  GCancellable        *cancellable,
                  GAsyncReadyCallback  callback,
                  gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  ConnectData *data = g_new0 (ConnectData, 1);

  g_task_set_source_tag (task, pop3_client_connect_async);
  data->security = security;
  if (cancellable != NULL)
    {
      data->cancellable = g_object_ref (cancellable);
      data->cancelled_id = g_cancellable_connect (cancellable,
                                                  G_CALLBACK (connect_cancelled_cb),
                                                  self, NULL);
    }
  g_task_set_task_data (task, data, (GDestroyNotify) connect_data_free);
  watchdog_start (self);

  return task;
}

void
pop3_client_connect_async (Pop3Client          *self,
                           const char          *host,
                           guint16              port,
                           Pop3Security         security,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GSocketClient) socket_client = NULL;

  g_return_if_fail (POP3_IS_CLIENT (self));
  g_return_if_fail (host != NULL);
  g_return_if_fail (self->base_stream == NULL);

  task = connect_task_new (self, security, cancellable, callback, user_data);

  if (port == 0)
    port = security == POP3_SECURITY_TLS ? 995 : 110;

  g_set_object (&self->identity, g_network_address_new (host, port));
  g_object_unref (self->identity);

  socket_client = g_socket_client_new ();
  g_socket_client_set_timeout (socket_client, self->timeout);

  busy_push (self);
  g_socket_client_connect_async (socket_client, self->identity,
                                 self->io_cancellable, socket_connected_cb,
                                 g_steal_pointer (&task));
}

void
pop3_client_connect_stream_async (Pop3Client          *self,
                                  GIOStream           *stream,
                                  GSocketConnectable  *server_identity,
                                  Pop3Security         security,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (POP3_IS_CLIENT (self));
  g_return_if_fail (G_IS_IO_STREAM (stream));
  g_return_if_fail (self->base_stream == NULL);

  task = connect_task_new (self, security, cancellable, callback, user_data);
  g_set_object (&self->identity, server_identity);
  self->base_stream = g_object_ref (stream);
  start_session (self, task);
}

gboolean
pop3_client_connect_finish (Pop3Client    *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (POP3_IS_CLIENT (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Logging in */

typedef struct
{
  char           *user;
  char           *password;
  Pop3AuthMethod  method;
  guint           sasl_step;
  gboolean        sasl_aborted;
  GError         *sasl_error;
} LoginData;

static void
login_data_free (LoginData *data)
{
  g_free (data->user);
  g_clear_error (&data->sasl_error);
  if (data->password != NULL)
    {
      memset (data->password, 0, strlen (data->password));
      g_free (data->password);
    }
  g_free (data);
}

static const char *
sasl_mechanism_name (Pop3AuthMethod method)
{
  switch (method)
    {
    case POP3_AUTH_PLAIN:
      return "PLAIN";
    case POP3_AUTH_LOGIN:
      return "LOGIN";
    case POP3_AUTH_CRAM_MD5:
      return "CRAM-MD5";
    case POP3_AUTH_AUTO:
    case POP3_AUTH_USER:
    case POP3_AUTH_APOP:
    default:
      return NULL;
    }
}

static gboolean
server_offers_sasl (Pop3Client     *self,
                    Pop3AuthMethod  method)
{
  const char *const *mechanisms;

  if (self->capabilities == NULL)
    return FALSE;

  mechanisms = g_hash_table_lookup (self->capabilities, "SASL");
  for (guint i = 0; mechanisms != NULL && mechanisms[i] != NULL; i++)
    if (g_ascii_strcasecmp (mechanisms[i], sasl_mechanism_name (method)) == 0)
      return TRUE;

  return FALSE;
}

static Pop3AuthMethod
choose_method (Pop3Client *self)
{
  static const Pop3AuthMethod strongest_first[] = {
    POP3_AUTH_CRAM_MD5, POP3_AUTH_PLAIN, POP3_AUTH_LOGIN,
  };

  for (guint i = 0; i < G_N_ELEMENTS (strongest_first); i++)
    if (server_offers_sasl (self, strongest_first[i]))
      return strongest_first[i];

  return POP3_AUTH_USER;
}

/* A -ERR while logging in is an authentication failure; its text and
 * response code ([IN-USE], [AUTH], ...) are kept for the caller. */
static void
login_return_error (GTask  *task,
                    GError *error)
{
  if (error->domain == POP3_ERROR && error->code == POP3_ERROR_SERVER)
    error->code = POP3_ERROR_AUTH;
  g_task_return_error (task, error);
}

static void
login_done_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Pop3Client *self = POP3_CLIENT (object);
  g_autoptr(Pop3Reply) reply = NULL;
  GError *error = NULL;

  reply = pop3_client_command_finish (self, result, &error);
  if (reply == NULL)
    login_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
login_user_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Pop3Client *self = POP3_CLIENT (object);
  LoginData *data = g_task_get_task_data (task);
  g_autoptr(Pop3Reply) reply = NULL;
  GError *error = NULL;

  reply = pop3_client_command_finish (self, result, &error);
  if (reply == NULL)
    {
      login_return_error (task, error);
      return;
    }

  pop3_client_pass_async (self, data->password, g_task_get_cancellable (task),
                          login_done_cb, g_object_ref (task));
}

static char *
sasl_response (LoginData  *data,
               Pop3Reply  *challenge,
               GError    **error)
{
  switch (data->method)
    {
    case POP3_AUTH_PLAIN:
      if (data->sasl_step == 0)
        return pop3_auth_plain_response (data->user, data->password);
      break;

    case POP3_AUTH_LOGIN:
      if (data->sasl_step == 0)
        return pop3_auth_base64 (data->user);
      if (data->sasl_step == 1)
        return pop3_auth_base64 (data->password);
      break;

    case POP3_AUTH_CRAM_MD5:
      if (data->sasl_step == 0)
        return pop3_auth_cram_md5_response (data->user, data->password,
                                            challenge->text, error);
      break;

    case POP3_AUTH_AUTO:
    case POP3_AUTH_USER:
    case POP3_AUTH_APOP:
    default:
      break;
    }

  g_set_error_literal (error, POP3_ERROR, POP3_ERROR_AUTH,
                       "The server's authentication exchange was not "
                       "understood.");
  return NULL;
}

static void
login_sasl_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Pop3Client *self = POP3_CLIENT (object);
  LoginData *data = g_task_get_task_data (task);
  g_autoptr(Pop3Reply) reply = NULL;
  g_autofree char *response = NULL;
  GError *error = NULL;

  reply = pop3_client_command_finish (self, result, &error);
  if (reply == NULL && data->sasl_aborted && data->sasl_error != NULL &&
      g_error_matches (error, POP3_ERROR, POP3_ERROR_SERVER))
    {
      g_clear_error (&error);
      g_task_return_error (task, g_steal_pointer (&data->sasl_error));
      return;
    }
  if (reply == NULL)
    {
      login_return_error (task, error);
      return;
    }

  if (reply->status == POP3_REPLY_OK)
    {
      if (data->sasl_aborted)
        g_task_return_new_error (task, POP3_ERROR, POP3_ERROR_AUTH,
                                 "The server's authentication exchange was "
                                 "not understood.");
      else
        g_task_return_boolean (task, TRUE);
      return;
    }

  if (data->sasl_aborted)
    {
      g_task_return_new_error (task, POP3_ERROR, POP3_ERROR_PROTOCOL,
                               "The server did not end the cancelled "
                               "authentication exchange.");
      return;
    }

  response = sasl_response (data, reply, &data->sasl_error);
  data->sasl_step++;

  if (response == NULL)
    {
      /* RFC 5034, section 4: "*" cancels the exchange; the server answers
       * -ERR and the session stays usable. */
      data->sasl_aborted = TRUE;
      send_command (self, COMMAND_GENERIC, "*", NULL, POP3_EXPECT_SASL, TRUE,
                    g_task_get_cancellable (task), login_sasl_cb,
                    g_object_ref (task));
      return;
    }

  send_command (self, COMMAND_GENERIC, response, "********", POP3_EXPECT_SASL,
                TRUE, g_task_get_cancellable (task), login_sasl_cb,
                g_object_ref (task));
  memset (response, 0, strlen (response));
}

static void
login_start (GTask *task)
{
  Pop3Client *self = g_task_get_source_object (task);
  LoginData *data = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  g_autofree char *line = NULL;

  if (data->method == POP3_AUTH_AUTO)
    data->method = choose_method (self);

  switch (data->method)
    {
    case POP3_AUTH_USER:
      pop3_client_user_async (self, data->user, cancellable, login_user_cb,
                              g_object_ref (task));
      return;

    case POP3_AUTH_APOP:
      pop3_client_apop_async (self, data->user, data->password, cancellable,
                              login_done_cb, g_object_ref (task));
      return;

    case POP3_AUTH_PLAIN:
    case POP3_AUTH_LOGIN:
    case POP3_AUTH_CRAM_MD5:
      line = g_strconcat ("AUTH ", sasl_mechanism_name (data->method), NULL);
      send_command (self, COMMAND_GENERIC, line, NULL, POP3_EXPECT_SASL, TRUE,
                    cancellable, login_sasl_cb, g_object_ref (task));
      return;

    case POP3_AUTH_AUTO:
    default:
      g_assert_not_reached ();
    }
}

static void
login_capa_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Pop3Client *self = POP3_CLIENT (object);
  g_autoptr(Pop3Reply) reply = NULL;
  GError *error = NULL;

  /* RFC 1939 servers do not know CAPA; USER/PASS is then all there is. */
  reply = pop3_client_command_finish (self, result, &error);
  if (reply == NULL && !self->connected)
    {
      g_task_return_error (task, error);
      return;
    }
  g_clear_error (&error);

  login_start (task);
}

void
pop3_client_login_async (Pop3Client          *self,
                         const char          *user,
                         const char          *password,
                         Pop3AuthMethod       method,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  LoginData *data;

  g_return_if_fail (POP3_IS_CLIENT (self));
  g_return_if_fail (user != NULL);
  g_return_if_fail (password != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, pop3_client_login_async);

  if (!pop3_auth_is_safe_argument (user) ||
      !pop3_auth_is_safe_argument (password) ||
      *user == '\0' || strchr (user, ' ') != NULL)
    {
      g_task_return_new_error (task, POP3_ERROR, POP3_ERROR_INVALID_ARGUMENT,
                               "The user name or password contains a "
                               "character that cannot be sent to the "
                               "server.");
      return;
    }

  if (method == POP3_AUTH_APOP && self->apop_timestamp == NULL)
    {
      g_task_return_new_error (task, POP3_ERROR, POP3_ERROR_NOT_SUPPORTED,
                               "The server does not support APOP: its "
                               "greeting has no timestamp.");
      return;
    }

  data = g_new0 (LoginData, 1);
  data->user = g_strdup (user);
  data->password = g_strdup (password);
  data->method = method;
  g_task_set_task_data (task, data, (GDestroyNotify) login_data_free);

  if (self->capabilities == NULL)
    {
      pop3_client_capa_async (self, cancellable, login_capa_cb,
                              g_steal_pointer (&task));
      return;
    }

  login_start (task);
}

gboolean
pop3_client_login_finish (Pop3Client    *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (POP3_IS_CLIENT (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Names, as on the command line and in settings */

static const char *const auth_method_names[] = {
  [POP3_AUTH_AUTO] = "auto",
  [POP3_AUTH_USER] = "user",
  [POP3_AUTH_APOP] = "apop",
  [POP3_AUTH_PLAIN] = "plain",
  [POP3_AUTH_LOGIN] = "login",
  [POP3_AUTH_CRAM_MD5] = "cram-md5",
};

static const char *const security_names[] = {
  [POP3_SECURITY_TLS] = "tls",
  [POP3_SECURITY_STARTTLS] = "starttls",
  [POP3_SECURITY_NONE] = "none",
};

static gboolean
lookup_name (const char *const *names,
             guint              n_names,
             const char        *str,
             guint             *value)
{
  if (str == NULL)
    return FALSE;

  for (guint i = 0; i < n_names; i++)
    if (g_ascii_strcasecmp (names[i], str) == 0)
      {
        *value = i;
        return TRUE;
      }

  return FALSE;
}

const char *
pop3_auth_method_to_string (Pop3AuthMethod method)
{
  g_return_val_if_fail (method < G_N_ELEMENTS (auth_method_names), NULL);

  return auth_method_names[method];
}

gboolean
pop3_auth_method_from_string (const char     *str,
                              Pop3AuthMethod *method)
{
  guint value;

  if (!lookup_name (auth_method_names, G_N_ELEMENTS (auth_method_names), str,
                    &value))
    return FALSE;

  *method = value;
  return TRUE;
}

const char *
pop3_security_to_string (Pop3Security security)
{
  g_return_val_if_fail (security < G_N_ELEMENTS (security_names), NULL);

  return security_names[security];
}

gboolean
pop3_security_from_string (const char   *str,
                           Pop3Security *security)
{
  guint value;

  if (!lookup_name (security_names, G_N_ELEMENTS (security_names), str,
                    &value))
    return FALSE;

  *security = value;
  return TRUE;
}
