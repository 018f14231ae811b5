/* pop3-client.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The object itself: its settings and state, the "debug" signal, and the
 * command set, each command one line and the kind of reply it expects.
 * How commands are queued and answered is in pop3-client-queue.c,
 * connecting in pop3-client-connect.c, logging in in pop3-client-login.c.
 */

#define G_LOG_DOMAIN "pop3-client"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "pop3-client-private.h"
#include "pop3-text.h"

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

/* Debug output */

void
_pop3_client_emit_debug (Pop3Client *self,
                         guint       level,
                         const char *prefix,
                         const char *text)
{
  g_autofree char *clean = NULL;
  g_autofree char *line = NULL;

  if (self->debug_level < level)
    return;

  /* Debug lines go to a terminal: what the server sent may not drive it. */
  clean = pop3_text_sanitize_line (text);
  line = g_strconcat (prefix, clean, NULL);
  g_signal_emit (self, signals[DEBUG], 0, line);
}

void
_pop3_client_emit_debug_body (Pop3Client *self,
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
      _pop3_client_emit_debug (self, 2, "S: ", valid);
      start = i + 1;
    }
  _pop3_client_emit_debug (self, 2, "S: ", ".");
}

/* GObject */

static void
pop3_client_finalize (GObject *object)
{
  Pop3Client *self = (Pop3Client *) object;
  g_autoptr(GError) error = NULL;

  error = g_error_new_literal (POP3_ERROR, POP3_ERROR_CLOSED,
                               _("The client was destroyed."));
  _pop3_client_fail_all (self, error);
  _pop3_client_watchdog_stop (self);

  g_clear_object (&self->tls_database);
  g_clear_object (&self->identity);
  g_clear_object (&self->io_cancellable);
  g_clear_pointer (&self->parser, pop3_parser_free);
  g_clear_pointer (&self->write_buffer, g_byte_array_unref);
  g_clear_pointer (&self->write_bytes, g_bytes_unref);
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
  self->cancel_watches =
    g_hash_table_new_full (NULL, NULL, NULL,
                           (GDestroyNotify) _pop3_client_cancel_watch_free);
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

  _pop3_client_send_command (self, COMMAND_GENERIC, line, NULL, expect,
                             expect == POP3_EXPECT_SASL, cancellable,
                             callback, user_data);
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

void
pop3_client_capa_async (Pop3Client          *self,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_return_if_fail (POP3_IS_CLIENT (self));

  _pop3_client_send_command (self, COMMAND_CAPA, "CAPA", NULL,
                             POP3_EXPECT_LISTING, FALSE, cancellable, callback,
                             user_data);
}

void
pop3_client_stat_async (Pop3Client          *self,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_return_if_fail (POP3_IS_CLIENT (self));

  _pop3_client_send_command (self, COMMAND_STAT, "STAT", NULL,
                             POP3_EXPECT_SINGLE, FALSE, cancellable, callback,
                             user_data);
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
      _pop3_client_send_command (self, COMMAND_LIST, "LIST", NULL,
                                 POP3_EXPECT_LISTING, FALSE, cancellable,
                                 callback, user_data);
      return;
    }

  line = g_strdup_printf ("LIST %u", msg);
  _pop3_client_send_message_command (self, COMMAND_LIST_ONE, msg, line, cancellable,
                                     callback, user_data);
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
  _pop3_client_send_command (self, COMMAND_GENERIC, line, NULL,
                             POP3_EXPECT_MESSAGE, FALSE, cancellable, callback,
                             user_data);
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
  _pop3_client_send_command (self, COMMAND_GENERIC, line, NULL,
                             POP3_EXPECT_MESSAGE, FALSE, cancellable, callback,
                             user_data);
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
  _pop3_client_send_command (self, COMMAND_GENERIC, line, NULL,
                             POP3_EXPECT_SINGLE, FALSE, cancellable, callback,
                             user_data);
}

void
pop3_client_rset_async (Pop3Client          *self,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_return_if_fail (POP3_IS_CLIENT (self));

  _pop3_client_send_command (self, COMMAND_GENERIC, "RSET", NULL,
                             POP3_EXPECT_SINGLE, FALSE, cancellable, callback,
                             user_data);
}

void
pop3_client_noop_async (Pop3Client          *self,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_return_if_fail (POP3_IS_CLIENT (self));

  _pop3_client_send_command (self, COMMAND_GENERIC, "NOOP", NULL,
                             POP3_EXPECT_SINGLE, FALSE, cancellable, callback,
                             user_data);
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
      _pop3_client_send_command (self, COMMAND_UIDL, "UIDL", NULL,
                                 POP3_EXPECT_LISTING, FALSE, cancellable,
                                 callback, user_data);
      return;
    }

  line = g_strdup_printf ("UIDL %u", msg);
  _pop3_client_send_message_command (self, COMMAND_UIDL_ONE, msg, line, cancellable,
                                     callback, user_data);
}

void
pop3_client_utf8_async (Pop3Client          *self,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_return_if_fail (POP3_IS_CLIENT (self));

  _pop3_client_send_command (self, COMMAND_UTF8, "UTF8", NULL,
                             POP3_EXPECT_SINGLE, TRUE, cancellable, callback,
                             user_data);
}

void
pop3_client_quit_async (Pop3Client          *self,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_return_if_fail (POP3_IS_CLIENT (self));

  _pop3_client_send_command (self, COMMAND_QUIT, "QUIT", NULL,
                             POP3_EXPECT_SINGLE, FALSE, cancellable, callback,
                             user_data);
}

void
pop3_client_close (Pop3Client *self)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (POP3_IS_CLIENT (self));

  error = g_error_new_literal (POP3_ERROR, POP3_ERROR_CLOSED,
                               _("The connection was closed."));
  _pop3_client_fail_all (self, error);
}

/* Names, as on the command line and in settings */

static const char *const auth_method_names[] = {
  [POP3_AUTH_AUTO] = "auto",
  [POP3_AUTH_USER] = "user",
  [POP3_AUTH_APOP] = "apop",
  [POP3_AUTH_PLAIN] = "plain",
  [POP3_AUTH_LOGIN] = "login",
  [POP3_AUTH_CRAM_MD5] = "cram-md5",
  [POP3_AUTH_XOAUTH2] = "xoauth2",
  [POP3_AUTH_OAUTHBEARER] = "oauthbearer",
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
