/* popcheck-connection-test.c: one real test session for the account editor
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "popcheck-connection-test"

#include "config.h"

#include <glib/gi18n.h>
#include <libsecret/secret.h>

#include "popcheck-connection-test.h"
#include "popcheck-secret.h"
#include "pop3-text.h"

typedef struct
{
  guint16      port;
  Pop3Security security;
} Candidate;

struct _PopcheckConnectionTest
{
  GObject       parent_instance;

  char         *host;
  char         *user;
  char         *password;
  /* Where the password is stored, for an empty password field. */
  char         *stored_account_id;
  char         *stored_host;
  guint16       stored_port;
  char         *stored_user;
  Pop3AuthMethod auth;
  char         *pinned_fingerprint;
  GTlsDatabase *tls_database;
  guint         timeout;
  GArray       *candidates;     /* Candidate */

  /* Results of the last run. */
  Pop3Client   *client;
  guint         candidate;
  GError       *first_error;
  char         *greeting;
  Pop3TlsInfo  *tls_info;
  GStrv         capabilities;
  GStrv         sasl_methods;
  gboolean      has_user;
  gboolean      has_apop;
  guint         message_count;
  guint64       mailbox_size;
  gboolean      running;
};

G_DEFINE_FINAL_TYPE (PopcheckConnectionTest, popcheck_connection_test,
                     G_TYPE_OBJECT)

static void try_candidate (GTask *task);

static Pop3TlsInfo *
tls_info_copy (const Pop3TlsInfo *info)
{
  Pop3TlsInfo *copy;

  if (info == NULL)
    return NULL;

  copy = g_new0 (Pop3TlsInfo, 1);
  copy->errors = info->errors;
  copy->subject = g_strdup (info->subject);
  copy->issuer = g_strdup (info->issuer);
  copy->not_before = info->not_before ? g_date_time_ref (info->not_before)
                                      : NULL;
  copy->not_after = info->not_after ? g_date_time_ref (info->not_after)
                                    : NULL;
  copy->fingerprint = g_strdup (info->fingerprint);
  copy->protocol_version = info->protocol_version;
  copy->ciphersuite = g_strdup (info->ciphersuite);
  copy->accepted_by_pin = info->accepted_by_pin;

  return copy;
}

static void
clear_results (PopcheckConnectionTest *self)
{
  g_clear_object (&self->client);
  g_clear_pointer (&self->greeting, g_free);
  g_clear_pointer (&self->tls_info, pop3_tls_info_free);
  g_clear_pointer (&self->capabilities, g_strfreev);
  g_clear_pointer (&self->sasl_methods, g_strfreev);
  self->has_user = FALSE;
  self->has_apop = FALSE;
  self->message_count = 0;
  self->mailbox_size = 0;
}

/* Wiped before it is freed: it was typed by a person, or came from the
 * keyring. */
static void
free_password (char *password)
{
  memset (password, 0, strlen (password));
  g_free (password);
}

static void
popcheck_connection_test_finalize (GObject *object)
{
  PopcheckConnectionTest *self = (PopcheckConnectionTest *) object;

  clear_results (self);
  g_clear_error (&self->first_error);
  g_clear_object (&self->tls_database);
  g_clear_pointer (&self->candidates, g_array_unref);
  g_free (self->host);
  g_free (self->user);
  g_clear_pointer (&self->password, free_password);
  g_free (self->stored_account_id);
  g_free (self->stored_host);
  g_free (self->stored_user);
  g_free (self->pinned_fingerprint);

  G_OBJECT_CLASS (popcheck_connection_test_parent_class)->finalize (object);
}

static void
popcheck_connection_test_class_init (PopcheckConnectionTestClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = popcheck_connection_test_finalize;
}

static void
popcheck_connection_test_init (PopcheckConnectionTest *self)
{
  self->candidates = g_array_new (FALSE, FALSE, sizeof (Candidate));
  self->timeout = POP3_DEFAULT_TIMEOUT;
}

PopcheckConnectionTest *
popcheck_connection_test_new (const char     *host,
                              guint16         port,
                              Pop3Security    security,
                              const char     *user,
                              const char     *password,
                              Pop3AuthMethod  auth)
{
  PopcheckConnectionTest *self;
  Candidate candidate = { port, security };

  g_return_val_if_fail (host != NULL, NULL);
  g_return_val_if_fail (user != NULL, NULL);

  self = g_object_new (POPCHECK_TYPE_CONNECTION_TEST, NULL);
  self->host = g_strdup (host);
  self->user = g_strdup (user);
  self->password = g_strdup (password ? password : "");
  self->auth = auth;
  g_array_append_val (self->candidates, candidate);

  return self;
}

void
popcheck_connection_test_set_stored_password (PopcheckConnectionTest *self,
                                              const char             *account_id,
                                              const char             *host,
                                              guint16                 port,
                                              const char             *user)
{
  g_return_if_fail (POPCHECK_IS_CONNECTION_TEST (self));
  g_return_if_fail (account_id != NULL);
  g_return_if_fail (host != NULL);
  g_return_if_fail (user != NULL);
  g_return_if_fail (!self->running);

  g_free (self->stored_account_id);
  self->stored_account_id = g_strdup (account_id);
  g_free (self->stored_host);
  self->stored_host = g_strdup (host);
  g_free (self->stored_user);
  self->stored_user = g_strdup (user);
  self->stored_port = port;
}

void
popcheck_connection_test_set_automatic (PopcheckConnectionTest *self,
                                        guint16                 tls_port,
                                        guint16                 starttls_port)
{
  Candidate tls = { tls_port, POP3_SECURITY_TLS };
  Candidate starttls = { starttls_port, POP3_SECURITY_STARTTLS };

  g_return_if_fail (POPCHECK_IS_CONNECTION_TEST (self));
  g_return_if_fail (!self->running);

  g_array_set_size (self->candidates, 0);
  g_array_append_val (self->candidates, tls);
  g_array_append_val (self->candidates, starttls);
}

void
popcheck_connection_test_set_pinned_fingerprint (PopcheckConnectionTest *self,
                                                 const char             *sha256)
{
  g_return_if_fail (POPCHECK_IS_CONNECTION_TEST (self));

  g_free (self->pinned_fingerprint);
  self->pinned_fingerprint = (sha256 && *sha256) ? g_strdup (sha256) : NULL;
}

void
popcheck_connection_test_set_tls_database (PopcheckConnectionTest *self,
                                           GTlsDatabase           *database)
{
  g_return_if_fail (POPCHECK_IS_CONNECTION_TEST (self));
  g_return_if_fail (database == NULL || G_IS_TLS_DATABASE (database));

  g_set_object (&self->tls_database, database);
}

void
popcheck_connection_test_set_timeout (PopcheckConnectionTest *self,
                                      guint                   seconds)
{
  g_return_if_fail (POPCHECK_IS_CONNECTION_TEST (self));
  g_return_if_fail (seconds > 0);

  self->timeout = seconds;
}

static const Candidate *
current_candidate (PopcheckConnectionTest *self)
{
  g_assert (self->candidate < self->candidates->len);
  return &g_array_index (self->candidates, Candidate, self->candidate);
}

static void
fail (GTask  *task,
      GError *error)
{
  PopcheckConnectionTest *self = g_task_get_source_object (task);

  if (self->client != NULL)
    pop3_client_close (self->client);
  self->running = FALSE;
  g_task_return_error (task, error);
}

static void
quit_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PopcheckConnectionTest *self = g_task_get_source_object (task);
  g_autoptr(Pop3Reply) reply = NULL;
  g_autoptr(GError) error = NULL;

  /* Everything asked for is known by now; a QUIT that goes wrong changes
   * nothing in the report. */
  reply = pop3_client_command_finish (POP3_CLIENT (object), result, &error);
  if (reply == NULL)
    g_debug ("QUIT failed: %s", error->message);

  self->running = FALSE;
  g_task_return_boolean (task, TRUE);
}

static void
stat_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PopcheckConnectionTest *self = g_task_get_source_object (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  g_autoptr(Pop3Reply) reply = NULL;
  GError *error = NULL;

  reply = pop3_client_command_finish (POP3_CLIENT (object), result, &error);
  if (reply == NULL)
    {
      fail (task, error);
      return;
    }

  self->message_count = reply->count;
  self->mailbox_size = reply->size;

  pop3_client_quit_async (self->client, cancellable, quit_cb,
                          g_steal_pointer (&task));
}

static void
login_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PopcheckConnectionTest *self = g_task_get_source_object (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  GError *error = NULL;

  if (!pop3_client_login_finish (POP3_CLIENT (object), result, &error))
    {
      fail (task, error);
      return;
    }

  pop3_client_stat_async (self->client, cancellable, stat_cb,
                          g_steal_pointer (&task));
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

static void
record_capabilities (PopcheckConnectionTest *self)
{
  GHashTable *capabilities = pop3_client_get_capabilities (self->client);
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer key, value;
  const char * const *sasl;

  g_clear_pointer (&self->capabilities, g_strfreev);
  g_clear_pointer (&self->sasl_methods, g_strfreev);

  if (capabilities != NULL)
    {
      g_hash_table_iter_init (&iter, capabilities);
      while (g_hash_table_iter_next (&iter, &key, &value))
        {
          const char * const *params = value;

          if (params != NULL && params[0] != NULL)
            {
              g_autofree char *joined = g_strjoinv (" ", (char **) params);
              g_ptr_array_add (lines, g_strdup_printf ("%s %s",
                                                       (const char *) key,
                                                       joined));
            }
          else
            g_ptr_array_add (lines, g_strdup (key));
        }
      g_ptr_array_sort (lines, compare_strings);

      sasl = g_hash_table_lookup (capabilities, "SASL");
      if (sasl != NULL)
        self->sasl_methods = g_strdupv ((char **) sasl);
    }

  g_ptr_array_add (lines, NULL);
  self->capabilities = (GStrv) g_ptr_array_steal (lines, NULL);
  if (self->sasl_methods == NULL)
    self->sasl_methods = g_new0 (char *, 1);

  self->has_user = pop3_client_has_capability (self->client, "USER");
  self->has_apop = pop3_client_get_apop_timestamp (self->client) != NULL;
}

static void
capa_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PopcheckConnectionTest *self = g_task_get_source_object (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  g_autoptr(Pop3Reply) reply = NULL;
  GError *error = NULL;

  reply = pop3_client_command_finish (POP3_CLIENT (object), result, &error);
  if (reply == NULL)
    {
      /* RFC 1939 servers have no CAPA: that is a fact for the report,
       * not a failure. */
      if (!g_error_matches (error, POP3_ERROR, POP3_ERROR_SERVER))
        {
          fail (task, error);
          return;
        }
      g_clear_error (&error);
    }

  record_capabilities (self);

  pop3_client_login_async (self->client, self->user, self->password,
                           self->auth, cancellable, login_cb,
                           g_steal_pointer (&task));
}

/* Worth trying the next way in: the port is closed, or does not speak
 * what was tried.  A certificate problem or a cancellation is not. */
static gboolean
is_transport_error (const GError *error)
{
  switch (pop3_error_get_kind (error))
    {
    case POP3_ERROR_KIND_NETWORK:
    case POP3_ERROR_KIND_TIMEOUT:
    case POP3_ERROR_KIND_PROTOCOL:
    case POP3_ERROR_KIND_TLS:
      return TRUE;

    case POP3_ERROR_KIND_CERTIFICATE:
    case POP3_ERROR_KIND_AUTH:
    case POP3_ERROR_KIND_SERVER_BUSY:
    case POP3_ERROR_KIND_SERVER_REFUSED:
    case POP3_ERROR_KIND_CANCELLED:
    case POP3_ERROR_KIND_LOCAL:
    default:
      return FALSE;
    }
}

static void
connect_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PopcheckConnectionTest *self = g_task_get_source_object (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  Pop3Client *client = POP3_CLIENT (object);
  GError *error = NULL;

  if (client != self->client)
    return;

  g_clear_pointer (&self->tls_info, pop3_tls_info_free);
  self->tls_info = tls_info_copy (pop3_client_get_tls_info (client));

  if (!pop3_client_connect_finish (client, result, &error))
    {
      if (self->candidate + 1 < self->candidates->len &&
          is_transport_error (error))
        {
          const Candidate *tried = current_candidate (self);

          g_debug ("%s on port %u failed, trying the next way: %s",
                   pop3_security_to_string (tried->security), tried->port,
                   error->message);
          if (self->first_error == NULL)
            self->first_error = error;
          else
            g_clear_error (&error);
          self->candidate++;
          try_candidate (g_steal_pointer (&task));
          return;
        }

      /* Every way failed: say what each one answered. */
      if (self->first_error != NULL && is_transport_error (error))
        {
          const Candidate *first = &g_array_index (self->candidates,
                                                   Candidate, 0);
          const Candidate *last = current_candidate (self);
          GError *both;

          both = g_error_new (POP3_ERROR, error->code,
                              "%s, port %u: %s — %s, port %u: %s",
                              pop3_security_to_string (first->security),
                              first->port, self->first_error->message,
                              pop3_security_to_string (last->security),
                              last->port, error->message);
          g_clear_error (&error);
          error = both;
        }

      fail (task, error);
      return;
    }

  /* The report is read by a person: no controls from the server. */
  self->greeting = pop3_text_sanitize_line (pop3_client_get_welcome (client));

  pop3_client_capa_async (client, cancellable, capa_cb,
                          g_steal_pointer (&task));
}

static void
try_candidate (GTask *task)
{
  PopcheckConnectionTest *self = g_task_get_source_object (task);
  const Candidate *candidate = current_candidate (self);

  clear_results (self);

  self->client = pop3_client_new ();
  pop3_client_set_timeout (self->client, self->timeout);
  if (self->tls_database != NULL)
    pop3_client_set_tls_database (self->client, self->tls_database);
  if (self->pinned_fingerprint != NULL)
    pop3_client_set_pinned_fingerprint (self->client,
                                        self->pinned_fingerprint);

  pop3_client_connect_async (self->client, self->host, candidate->port,
                             candidate->security,
                             g_task_get_cancellable (task),
                             connect_cb, task);
}

static void
stored_password_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PopcheckConnectionTest *self = g_task_get_source_object (task);
  GError *error = NULL;
  char *password;

  password = popcheck_secret_lookup_finish (result, &error);
  if (password == NULL)
    {
      fail (task, error);
      return;
    }

  g_clear_pointer (&self->password, free_password);
  self->password = g_strdup (password);
  secret_password_free (password);
  try_candidate (g_steal_pointer (&task));
}

void
popcheck_connection_test_run_async (PopcheckConnectionTest *self,
                                    GCancellable           *cancellable,
                                    GAsyncReadyCallback     callback,
                                    gpointer                user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (POPCHECK_IS_CONNECTION_TEST (self));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, popcheck_connection_test_run_async);

  if (self->running)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PENDING,
                               _("A connection test is already running."));
      return;
    }

  self->running = TRUE;
  self->candidate = 0;
  g_clear_error (&self->first_error);

  /* An empty field on a saved account means "keep the stored password":
   * test with that one, not with an empty PASS. */
  if (*self->password == '\0' && self->stored_host != NULL)
    {
      popcheck_secret_lookup_async (self->stored_account_id,
                                    POPCHECK_SECRET_KIND_PASSWORD,
                                    self->stored_host, self->stored_port,
                                    self->stored_user, cancellable,
                                    stored_password_cb,
                                    g_steal_pointer (&task));
      return;
    }

  try_candidate (g_steal_pointer (&task));
}

gboolean
popcheck_connection_test_run_finish (PopcheckConnectionTest *self,
                                     GAsyncResult           *result,
                                     GError                **error)
{
  g_return_val_if_fail (POPCHECK_IS_CONNECTION_TEST (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

const char *
popcheck_connection_test_get_host (PopcheckConnectionTest *self)
{
  g_return_val_if_fail (POPCHECK_IS_CONNECTION_TEST (self), NULL);

  return self->host;
}

guint16
popcheck_connection_test_get_port (PopcheckConnectionTest *self)
{
  g_return_val_if_fail (POPCHECK_IS_CONNECTION_TEST (self), 0);

  return current_candidate (self)->port;
}

Pop3Security
popcheck_connection_test_get_security (PopcheckConnectionTest *self)
{
  g_return_val_if_fail (POPCHECK_IS_CONNECTION_TEST (self),
                        POP3_SECURITY_TLS);

  return current_candidate (self)->security;
}

const char *
popcheck_connection_test_get_greeting (PopcheckConnectionTest *self)
{
  g_return_val_if_fail (POPCHECK_IS_CONNECTION_TEST (self), NULL);

  return self->greeting;
}

const Pop3TlsInfo *
popcheck_connection_test_get_tls_info (PopcheckConnectionTest *self)
{
  g_return_val_if_fail (POPCHECK_IS_CONNECTION_TEST (self), NULL);

  return self->tls_info;
}

const char * const *
popcheck_connection_test_get_capabilities (PopcheckConnectionTest *self)
{
  g_return_val_if_fail (POPCHECK_IS_CONNECTION_TEST (self), NULL);

  return (const char * const *) self->capabilities;
}

const char * const *
popcheck_connection_test_get_sasl_methods (PopcheckConnectionTest *self)
{
  g_return_val_if_fail (POPCHECK_IS_CONNECTION_TEST (self), NULL);

  return (const char * const *) self->sasl_methods;
}

guint
popcheck_connection_test_get_message_count (PopcheckConnectionTest *self)
{
  g_return_val_if_fail (POPCHECK_IS_CONNECTION_TEST (self), 0);

  return self->message_count;
}

guint64
popcheck_connection_test_get_mailbox_size (PopcheckConnectionTest *self)
{
  g_return_val_if_fail (POPCHECK_IS_CONNECTION_TEST (self), 0);

  return self->mailbox_size;
}

static const char *
security_label (Pop3Security security)
{
  switch (security)
    {
    case POP3_SECURITY_TLS:
      return _("TLS");
    case POP3_SECURITY_STARTTLS:
      return _("STARTTLS");
    case POP3_SECURITY_NONE:
    default:
      return _("None (unencrypted)");
    }
}

/* ISO 8601 in UTC: the same in every language and time zone, so that a
 * date read from the certificate dialog matches the report and what a
 * provider publishes. */
char *
popcheck_connection_test_format_date (GDateTime *date)
{
  g_autoptr(GDateTime) utc = NULL;

  if (date == NULL)
    return g_strdup (_("unknown"));

  utc = g_date_time_to_utc (date);
  return g_date_time_format (utc, "%Y-%m-%d %H:%M UTC");
}

char *
popcheck_connection_test_format_report (PopcheckConnectionTest *self)
{
  g_autoptr(GString) report = g_string_new (NULL);
  g_autoptr(GPtrArray) methods = g_ptr_array_new ();
  g_autofree char *size = NULL;
  g_autofree char *joined = NULL;

  g_return_val_if_fail (POPCHECK_IS_CONNECTION_TEST (self), NULL);

  g_string_append_printf (report, _("Connected to %s, port %u, with %s."),
                          self->host, current_candidate (self)->port,
                          security_label (current_candidate (self)->security));
  g_string_append_c (report, '\n');
  g_string_append_printf (report, _("Server greeting: %s"),
                          self->greeting ? self->greeting : "");
  g_string_append_c (report, '\n');

  if (self->tls_info != NULL)
    {
      g_autofree char *from = popcheck_connection_test_format_date (self->tls_info->not_before);
      g_autofree char *until = popcheck_connection_test_format_date (self->tls_info->not_after);

      g_string_append_printf (report, _("TLS version: %s, cipher suite %s"),
                              pop3_tls_protocol_to_string (
                                self->tls_info->protocol_version),
                              self->tls_info->ciphersuite
                                ? self->tls_info->ciphersuite : _("unknown"));
      g_string_append_c (report, '\n');
      g_string_append_printf (report, _("Certificate subject: %s"),
                              self->tls_info->subject
                                ? self->tls_info->subject : _("unknown"));
      g_string_append_c (report, '\n');
      g_string_append_printf (report, _("Certificate issuer: %s"),
                              self->tls_info->issuer
                                ? self->tls_info->issuer : _("unknown"));
      g_string_append_c (report, '\n');
      g_string_append_printf (report, _("Valid from %s until %s"),
                              from, until);
      g_string_append_c (report, '\n');
      g_string_append_printf (report, _("SHA-256 fingerprint: %s"),
                              self->tls_info->fingerprint
                                ? self->tls_info->fingerprint : _("unknown"));
      g_string_append_c (report, '\n');
      if (self->tls_info->accepted_by_pin)
        {
          g_string_append (report, _("The certificate is not verified by a "
                                     "known authority; it was accepted "
                                     "because you trusted this fingerprint, "
                                     "and no other certificate is accepted "
                                     "for this account."));
          g_string_append_c (report, '\n');
        }
    }
  else
    {
      g_string_append (report, _("The connection is not encrypted."));
      g_string_append_c (report, '\n');
    }

  if (self->capabilities != NULL && self->capabilities[0] != NULL)
    {
      joined = g_strjoinv (", ", self->capabilities);
      g_string_append_printf (report, _("Capabilities: %s"), joined);
    }
  else
    g_string_append (report, _("Capabilities: the server lists none"));
  g_string_append_c (report, '\n');

  for (guint i = 0; self->sasl_methods && self->sasl_methods[i]; i++)
    g_ptr_array_add (methods, self->sasl_methods[i]);
  if (self->has_user)
    g_ptr_array_add (methods, (gpointer) "USER/PASS");
  if (self->has_apop)
    g_ptr_array_add (methods, (gpointer) "APOP");
  g_ptr_array_add (methods, NULL);
  g_clear_pointer (&joined, g_free);
  joined = g_strjoinv (", ", (char **) methods->pdata);
  g_string_append_printf (report, _("Authentication methods: %s"),
                          *joined ? joined : _("none announced"));
  g_string_append_c (report, '\n');

  size = g_format_size (self->mailbox_size);
  g_string_append_printf (report,
                          g_dngettext (GETTEXT_PACKAGE,
                                       "%u message, %s",
                                       "%u messages, %s",
                                       self->message_count),
                          self->message_count, size);

  return g_string_free (g_steal_pointer (&report), FALSE);
}

char *
popcheck_connection_test_format_summary (PopcheckConnectionTest *self)
{
  const char *version = NULL;

  g_return_val_if_fail (POPCHECK_IS_CONNECTION_TEST (self), NULL);

  if (self->tls_info != NULL)
    version = pop3_tls_protocol_to_string (self->tls_info->protocol_version);

  switch (current_candidate (self)->security)
    {
    case POP3_SECURITY_TLS:
      /* Translators: "Connected securely with TLS 1.3, signed in as
       * jane@example.com." */
      return g_strdup_printf (_("Connected securely with %s, signed in as %s."),
                              version ? version : _("TLS"), self->user);
    case POP3_SECURITY_STARTTLS:
      /* Translators: "Connected securely with STARTTLS (TLS 1.3), signed
       * in as jane@example.com." */
      return g_strdup_printf (_("Connected securely with STARTTLS (%s), signed in as %s."),
                              version ? version : _("TLS"), self->user);
    case POP3_SECURITY_NONE:
    default:
      return g_strdup_printf (_("Connected without encryption, signed in as %s."),
                              self->user);
    }
}

gboolean
popcheck_connection_test_get_offers_starttls (PopcheckConnectionTest *self)
{
  g_return_val_if_fail (POPCHECK_IS_CONNECTION_TEST (self), FALSE);

  /* RFC 2595 section 4: STLS in the CAPA list. */
  return self->capabilities != NULL &&
         g_strv_contains ((const char * const *) self->capabilities, "STLS");
}

/* What to look at in the settings, for each kind of failure; the details
 * are the engine's or the server's words, said once. */
char *
popcheck_connection_test_describe_error (const GError *error)
{
  const char *headline = NULL;

  g_return_val_if_fail (error != NULL, NULL);

  switch (pop3_error_get_kind (error))
    {
    case POP3_ERROR_KIND_CANCELLED:
      return g_strdup (_("The test was cancelled."));

    case POP3_ERROR_KIND_AUTH:
    case POP3_ERROR_KIND_SERVER_BUSY:
    case POP3_ERROR_KIND_SERVER_REFUSED:
      /* The engine's words for the server's answer, and that answer. */
      return pop3_error_describe (error);

    case POP3_ERROR_KIND_CERTIFICATE:
      headline = _("The server's certificate is not trusted.");
      break;

    case POP3_ERROR_KIND_TIMEOUT:
      headline = _("The server did not answer in time.");
      break;

    case POP3_ERROR_KIND_NETWORK:
      headline = _("The connection was refused or the server could "
                   "not be reached.");
      break;

    case POP3_ERROR_KIND_TLS:
      headline = _("A secure connection could not be set up. The "
                   "server may not offer this kind of security on "
                   "this port.");
      break;

    case POP3_ERROR_KIND_PROTOCOL:
      headline = _("The server does not answer like a POP3 server, or "
                   "does not offer what these settings need, such as "
                   "STARTTLS or the chosen authentication method.");
      break;

    case POP3_ERROR_KIND_LOCAL:
    default:
      /* The app's own errors are worded for the user already. */
      return g_strdup (error->message);
    }

  return g_strdup_printf (_("%s\nDetails: %s"), headline,
                          pop3_error_get_detail (error));
}

char *
popcheck_connection_test_describe_certificate_errors (GTlsCertificateFlags errors)
{
  const struct {
    GTlsCertificateFlags flag;
    const char *text;
  } descriptions[] = {
    { G_TLS_CERTIFICATE_UNKNOWN_CA,
      N_("It is not signed by a known certificate authority.") },
    { G_TLS_CERTIFICATE_BAD_IDENTITY,
      N_("It does not belong to this server name.") },
    { G_TLS_CERTIFICATE_NOT_ACTIVATED, N_("It is not valid yet.") },
    { G_TLS_CERTIFICATE_EXPIRED, N_("It has expired.") },
    { G_TLS_CERTIFICATE_REVOKED, N_("It has been revoked.") },
    { G_TLS_CERTIFICATE_INSECURE, N_("It uses insecure cryptography.") },
    { G_TLS_CERTIFICATE_GENERIC_ERROR, N_("It could not be verified.") },
  };
  g_autoptr(GString) out = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (descriptions); i++)
    {
      if ((errors & descriptions[i].flag) == 0)
        continue;
      if (out->len > 0)
        g_string_append_c (out, '\n');
      g_string_append (out, _(descriptions[i].text));
    }

  if (out->len == 0 && errors != 0)
    g_string_append (out, _("It could not be verified."));

  return g_string_free (g_steal_pointer (&out), FALSE);
}
