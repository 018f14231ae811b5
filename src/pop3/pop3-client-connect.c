/* pop3-client-connect.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Connecting: TCP with a connect timeout, the TLS handshake (implicit, or
 * after STLS), and the greeting, which is read like the reply to a command
 * nobody sent.  With STARTTLS, CAPA and STLS run before anything else.
 */

#define G_LOG_DOMAIN "pop3-client"

#include "config.h"

#include <gio/gnetworking.h>
#include <glib/gi18n-lib.h>

#include "pop3-client-private.h"
#include "pop3-security.h"

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
      return pop3_error_new_certificate (self->tls_info->errors,
                                         self->tls_info->fingerprint);
    }

  if (self->timed_out ||
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return _pop3_client_translate_io_error (self, error, "");

  return g_error_new (POP3_ERROR, POP3_ERROR_TLS,
                      _("The secure connection could not be set up: %s"),
                      error->message);
}

/* A pin is exclusive: the certificate it names and no other, even one
 * that validates (a CA can be made to sign for any name).  A certificate
 * that fails validation reaches accept_certificate_cb(); one that passes
 * is checked here, once the handshake is done and before anything is
 * sent or read over it. */
static gboolean
is_pinned_certificate (Pop3Client *self)
{
  if (self->pinned_fingerprint == NULL)
    return TRUE;

  return self->tls_info != NULL && self->tls_info->fingerprint != NULL &&
         pop3_tls_fingerprint_equal (self->pinned_fingerprint,
                                     self->tls_info->fingerprint);
}

static void
fail_handshake (Pop3Client     *self,
                GTlsConnection *connection,
                GTask          *task,
                GError         *error)
{
  g_signal_handlers_disconnect_by_data (connection, self);
  g_io_stream_close_async (G_IO_STREAM (connection), G_PRIORITY_DEFAULT,
                           NULL, NULL, NULL);
  _pop3_client_fail_all (self, error);
  g_task_return_error (task, error);
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

  _pop3_client_busy_pop (self);

  if (!g_tls_connection_handshake_finish (connection, result, &error))
    {
      fail_handshake (self, connection, task,
                      translate_handshake_error (self, error));
      return;
    }

  g_signal_handlers_disconnect_by_data (connection, self);
  record_tls_session (self, connection);

  if (!is_pinned_certificate (self))
    {
      const Pop3TlsInfo *info = self->tls_info;

      fail_handshake (self, connection, task,
                      pop3_error_new_not_pinned (info ? info->errors : 0,
                                                 info ? info->fingerprint
                                                      : NULL));
      return;
    }

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
        _("TLS is not available on this system: %s"), error->message);
      _pop3_client_fail_all (self, translated);
      g_task_return_error (task, g_steal_pointer (&translated));
      return;
    }

  /* Servers routinely drop the connection after QUIT without a TLS
   * close_notify; that is not an attack on a protocol with its own end. */
  g_tls_connection_set_require_close_notify (G_TLS_CONNECTION (connection),
                                             FALSE);
  g_signal_connect (connection, "accept-certificate",
                    G_CALLBACK (accept_certificate_cb), self);

  _pop3_client_busy_push (self);
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
  Command *capa;

  if (!handshake_finish (self, result, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* What the server said before TLS cannot be trusted (RFC 2595, 4), so
   * CAPA goes first, ahead of what the caller queued behind STLS. */
  g_clear_pointer (&self->capabilities, g_hash_table_unref);
  self->utf8 = FALSE;
  capa = _pop3_client_command_new (self, COMMAND_CAPA, "CAPA", NULL,
                                   POP3_EXPECT_LISTING, FALSE,
                                   g_task_get_cancellable (task),
                                   stls_capa_cb, g_object_ref (task));
  _pop3_client_resume_after_tls (self, capa);
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
            _("The server refused to start TLS: “%s”"),
            pop3_error_get_detail (error));
          _pop3_client_fail_held (self, tls_error);
          g_task_return_error (task, g_steal_pointer (&tls_error));
          return;
        }
      /* Cancelled after it went out: the server may now wait for a
       * handshake that never comes, so nothing else can be said here. */
      if (self->tls_pending)
        _pop3_client_fail_all (self, error);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* Anything already sent after "+OK" was injected before the handshake
   * and would otherwise be read as if it had come over TLS. */
  if (pop3_parser_get_buffered (self->parser) > 0 ||
      !_pop3_client_check_unsolicited (self, &error))
    {
      if (error == NULL)
        error = g_error_new_literal (POP3_ERROR, POP3_ERROR_PROTOCOL,
                                     _("The server sent data nobody asked for."));
      _pop3_client_fail_all (self, error);
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
  g_task_set_source_tag (task, _pop3_client_command_new);

  if (self->encrypted)
    {
      g_task_return_new_error (task, POP3_ERROR, POP3_ERROR_NOT_SUPPORTED,
                               _("The connection is already encrypted."));
      return;
    }

  _pop3_client_send_command (self, COMMAND_STLS, "STLS", NULL,
                             POP3_EXPECT_SINGLE, TRUE, cancellable,
                             stls_reply_cb, g_steal_pointer (&task));
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

  _pop3_client_fail_all (self, error);
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
                                         _("The server does not offer STARTTLS "
                                           "(STLS), so the connection was "
                                           "closed before anything was sent.")));
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
  greeting = _pop3_client_command_new (self, COMMAND_GREETING, NULL, NULL,
                                       POP3_EXPECT_SINGLE, TRUE, NULL,
                                       connect_greeting_cb,
                                       g_object_ref (task));
  pop3_parser_push_expect (self->parser, POP3_EXPECT_SINGLE);
  _pop3_client_push_in_flight (self, greeting);
  self->round_trips++;
  _pop3_client_ensure_reading (self);
  _pop3_client_watchdog_touch (self);
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

  _pop3_client_busy_pop (self);

  connection = g_socket_client_connect_finish (G_SOCKET_CLIENT (object),
                                               result, &error);
  if (connection == NULL)
    {
      GError *translated;

      if (self->timed_out ||
          g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        translated = _pop3_client_translate_io_error (self, error, "");
      else
        translated = pop3_error_new_connect (
          g_network_address_get_hostname (G_NETWORK_ADDRESS (self->identity)),
          error);
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
  /* From here on the watchdog alone keeps time.  GSocket's own timeout
   * fails a read once it has run out even when the server's reply is
   * waiting in the socket, which happens whenever this thread was held up
   * longer than the timeout (a loaded machine): the timeout would measure
   * our slowness, not the server's silence. */
  g_socket_set_timeout (g_socket_connection_get_socket (connection), 0);
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
  _pop3_client_watchdog_start (self);

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
    port = pop3_security_default_port (security);

  g_set_object (&self->identity, g_network_address_new (host, port));
  g_object_unref (self->identity);

  socket_client = g_socket_client_new ();
  g_socket_client_set_timeout (socket_client, self->timeout);

  _pop3_client_busy_push (self);
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
