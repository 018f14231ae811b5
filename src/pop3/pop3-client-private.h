/* pop3-client-private.h: what the parts of Pop3Client share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Pop3Client is one object in four files, split the way Evolution's camel
 * splits its POP3 provider (engine, store), so that each can be read alone:
 *
 *   pop3-client.c          the GObject, its settings and state, the command
 *                          set, the "debug" signal
 *   pop3-client-queue.c    the command queue: pipelining, reading, writing,
 *                          matching replies to commands, timeouts
 *   pop3-client-connect.c  connecting: TCP, TLS, the greeting, STLS
 *   pop3-client-login.c    logging in: the method, USER/PASS, APOP, SASL
 *
 * Only those files include this header.
 */

#pragma once

#include "pop3-client.h"

G_BEGIN_DECLS

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

typedef struct _Command Command;
typedef struct _CancelWatch CancelWatch;

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
  /* The batch being written: the output stream reads from its memory
   * until write_cb. */
  GBytes             *write_bytes;
  gboolean            reading;
  gboolean            writing;
  /* From the moment STLS goes out until its handshake succeeded: what
   * waits behind STLS was meant to go inside TLS, never before it. */
  gboolean            tls_pending;
  guint               busy;
  gboolean            timed_out;
  /* The reply at the head of in_flight: since when it is awaited and how
   * many bytes arrived meanwhile, for its overall deadline. */
  gint64              reply_started;
  guint64             reply_received;

  char               *welcome;
  char               *apop_timestamp;
  GHashTable         *capabilities;
  Pop3TlsInfo        *tls_info;
  gboolean            connected;
  gboolean            encrypted;
  gboolean            utf8;
  guint               round_trips;
};

/* pop3-client.c */
void      _pop3_client_emit_debug          (Pop3Client          *self,
                                            guint                level,
                                            const char          *prefix,
                                            const char          *text);
void      _pop3_client_emit_debug_body     (Pop3Client          *self,
                                            GBytes              *body);

/* pop3-client-queue.c */
Command  *_pop3_client_command_new         (Pop3Client          *self,
                                            CommandKind          kind,
                                            const char          *line,
                                            const char          *debug_line,
                                            Pop3Expect           expect,
                                            gboolean             barrier,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
/* Queues a command; its reply comes through pop3_client_command_finish().
 * debug_line, if not NULL, is what the "debug" signal shows instead of
 * line; a barrier is sent alone (see pop3-client-queue.c). */
void      _pop3_client_send_command        (Pop3Client          *self,
                                            CommandKind          kind,
                                            const char          *line,
                                            const char          *debug_line,
                                            Pop3Expect           expect,
                                            gboolean             barrier,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
/* The same for "LIST n" and "UIDL n": a reply about another message than
 * @msg fails the command. */
void      _pop3_client_send_message_command (Pop3Client          *self,
                                             CommandKind          kind,
                                             guint                msg,
                                             const char          *line,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
/* Ends the hold STLS put on the queue once the handshake succeeded;
 * @first goes out before anything that waited. */
void      _pop3_client_resume_after_tls    (Pop3Client          *self,
                                            Command             *first);
/* Ends the hold when STLS was refused: what waited behind it fails with
 * @error and is never sent. */
void      _pop3_client_fail_held           (Pop3Client          *self,
                                            const GError        *error);
/* Puts a written command in flight; its reply's deadline starts when
 * it is the one awaited. */
void      _pop3_client_push_in_flight      (Pop3Client          *self,
                                            Command             *command);
void      _pop3_client_cancel_watch_free   (CancelWatch         *watch);
void      _pop3_client_watchdog_start      (Pop3Client          *self);
void      _pop3_client_watchdog_stop       (Pop3Client          *self);
void      _pop3_client_watchdog_touch      (Pop3Client          *self);
void      _pop3_client_busy_push           (Pop3Client          *self);
void      _pop3_client_busy_pop            (Pop3Client          *self);
GError   *_pop3_client_translate_io_error  (Pop3Client          *self,
                                            const GError        *error,
                                            const char          *what);
void      _pop3_client_fail_all            (Pop3Client          *self,
                                            const GError        *error);
void      _pop3_client_ensure_reading      (Pop3Client          *self);
gboolean  _pop3_client_check_unsolicited   (Pop3Client          *self,
                                            GError             **error);

G_END_DECLS
