/* popcheck-goa-accounts.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * GoaClient reports accounts as they come, change and go (its object
 * manager's signals); each report is settled in one place (sync_object),
 * which lists, updates or drops that account.
 */

#define G_LOG_DOMAIN "popcheck-goa-accounts"

#include "config.h"

#include <string.h>
#include <glib/gi18n.h>
#define GOA_API_IS_SUBJECT_TO_CHANGE
#include <goa/goa.h>
#include <libsecret/secret.h>

#include "popcheck-account.h"
#include "popcheck-account-list.h"
#include "popcheck-goa-accounts.h"
#include "popcheck-token-source.h"

/* Ids of accounts from Online Accounts: "goa_" and Online Accounts' own
 * id.  An id made from an account's name has no '_' (make_slug), so the
 * two kinds never meet. */
#define ID_PREFIX "goa_"

/* An access token is a few hundred bytes; anything much longer, or with a
 * line break, is not sent to a server. */
#define MAX_TOKEN_LENGTH (16 * 1024)

/* Online Accounts has no POP3 settings (its Mail interface names IMAP and
 * SMTP only), so where each provider's POP3 mailbox is, is PopCheck's
 * own knowledge.  Google: https://support.google.com/mail/answer/7104828 */
static const PopcheckGoaProvider providers[] = {
  { "google", "pop.gmail.com", 995, POP3_SECURITY_TLS, POP3_AUTH_XOAUTH2 },
};

typedef struct
{
  GoaObject       *object;
  PopcheckAccount *account;
  /* AttentionNeeded as last reported, to tell the checker when it
   * changes ("sign-in-changed"). */
  gboolean         attention_needed;
} Entry;

struct _PopcheckGoaAccounts
{
  GObject       parent_instance;

  GCancellable *cancellable;
  GoaClient    *client;
  GSettings    *settings;
  /* Entry, in the order Online Accounts first reported them. */
  GPtrArray    *entries;
};

static void list_model_iface_init   (GListModelInterface          *iface);
static void token_source_iface_init (PopcheckTokenSourceInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (PopcheckGoaAccounts, popcheck_goa_accounts,
                               G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      list_model_iface_init)
                               G_IMPLEMENT_INTERFACE (POPCHECK_TYPE_TOKEN_SOURCE,
                                                      token_source_iface_init))

G_DEFINE_QUARK (popcheck-goa-error-quark, popcheck_goa_error)

const PopcheckGoaProvider *
popcheck_goa_lookup_provider (const char *provider_type)
{
  for (gsize i = 0; provider_type != NULL && i < G_N_ELEMENTS (providers); i++)
    {
      if (strcmp (providers[i].provider_type, provider_type) == 0)
        return &providers[i];
    }

  return NULL;
}

static void account_enabled_cb (PopcheckAccount *account,
                                GParamSpec      *pspec,
                                gpointer         user_data);

static void
entry_free (Entry *entry)
{
  g_signal_handlers_disconnect_matched (entry->account, G_SIGNAL_MATCH_FUNC,
                                        0, 0, NULL, account_enabled_cb, NULL);
  g_clear_object (&entry->object);
  g_clear_object (&entry->account);
  g_free (entry);
}

/* GListModel */

static GType
popcheck_goa_accounts_get_item_type (GListModel *model)
{
  return POPCHECK_TYPE_ACCOUNT;
}

static guint
popcheck_goa_accounts_get_n_items (GListModel *model)
{
  return POPCHECK_GOA_ACCOUNTS (model)->entries->len;
}

static gpointer
popcheck_goa_accounts_get_item (GListModel *model,
                                guint       position)
{
  PopcheckGoaAccounts *self = POPCHECK_GOA_ACCOUNTS (model);
  Entry *entry;

  if (position >= self->entries->len)
    return NULL;

  entry = g_ptr_array_index (self->entries, position);
  return g_object_ref (entry->account);
}

static void
list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = popcheck_goa_accounts_get_item_type;
  iface->get_n_items = popcheck_goa_accounts_get_n_items;
  iface->get_item = popcheck_goa_accounts_get_item;
}

/* The switch: the "online-accounts" key lists the Online Accounts ids
 * PopCheck checks. */

static char *
dup_goa_id (PopcheckAccount *account)
{
  const char *id = popcheck_account_get_id (account);

  if (!popcheck_account_is_external (account) ||
      !g_str_has_prefix (id, ID_PREFIX))
    return NULL;

  return g_strdup (id + strlen (ID_PREFIX));
}

char *
popcheck_goa_accounts_dup_goa_id (PopcheckAccount *account)
{
  g_return_val_if_fail (POPCHECK_IS_ACCOUNT (account), NULL);

  return dup_goa_id (account);
}

static gboolean
is_checked (PopcheckGoaAccounts *self,
            const char          *goa_id)
{
  g_auto(GStrv) ids = g_settings_get_strv (self->settings, "online-accounts");

  return g_strv_contains ((const char * const *) ids, goa_id);
}

static void
account_enabled_cb (PopcheckAccount *account,
                    GParamSpec      *pspec,
                    gpointer         user_data)
{
  PopcheckGoaAccounts *self = user_data;
  g_autofree char *goa_id = dup_goa_id (account);
  gboolean enabled = popcheck_account_get_enabled (account);
  g_auto(GStrv) ids = NULL;
  g_autoptr(GStrvBuilder) builder = NULL;
  g_auto(GStrv) new_ids = NULL;

  if (is_checked (self, goa_id) == enabled)
    return;

  ids = g_settings_get_strv (self->settings, "online-accounts");
  builder = g_strv_builder_new ();
  for (guint i = 0; ids[i] != NULL; i++)
    {
      if (g_strcmp0 (ids[i], goa_id) != 0)
        g_strv_builder_add (builder, ids[i]);
    }
  if (enabled)
    g_strv_builder_add (builder, goa_id);
  new_ids = g_strv_builder_end (builder);
  g_settings_set_strv (self->settings, "online-accounts",
                       (const char * const *) new_ids);
}

static void
checked_ids_changed_cb (GSettings           *settings,
                        const char          *key,
                        PopcheckGoaAccounts *self)
{
  for (guint i = 0; i < self->entries->len; i++)
    {
      Entry *entry = g_ptr_array_index (self->entries, i);
      g_autofree char *goa_id = dup_goa_id (entry->account);

      popcheck_account_set_enabled (entry->account,
                                    is_checked (self, goa_id));
    }
}

/* Following Online Accounts */

static Entry *
find_entry (PopcheckGoaAccounts *self,
            const char          *goa_id,
            guint               *position)
{
  for (guint i = 0; i < self->entries->len; i++)
    {
      Entry *entry = g_ptr_array_index (self->entries, i);
      g_autofree char *id = dup_goa_id (entry->account);

      if (g_strcmp0 (id, goa_id) == 0)
        {
          if (position != NULL)
            *position = i;
          return entry;
        }
    }

  return NULL;
}

/* The provider, when PopCheck can check this account now. */
static const PopcheckGoaProvider *
usable_provider (GoaObject *object)
{
  GoaAccount *account = goa_object_peek_account (object);
  const PopcheckGoaProvider *provider;

  if (account == NULL || goa_object_peek_mail (object) == NULL ||
      goa_object_peek_oauth2_based (object) == NULL ||
      goa_account_get_mail_disabled (account))
    return NULL;

  provider = popcheck_goa_lookup_provider (goa_account_get_provider_type (account));
  if (provider == NULL)
    return NULL;

  /* The identity is the user name at the server: one that cannot go into
   * a POP3 command is not tried. */
  if (!popcheck_account_validate_user (goa_account_get_identity (account), NULL))
    return NULL;

  return provider;
}

static void
update_account (PopcheckAccount *account,
                GoaAccount      *goa_account)
{
  const char *name = goa_account_get_presentation_identity (goa_account);

  if (name == NULL || *name == '\0')
    name = goa_account_get_identity (goa_account);
  popcheck_account_set_display_name (account, name);
  popcheck_account_set_user (account, goa_account_get_identity (goa_account));
}

static void
sync_object (PopcheckGoaAccounts *self,
             GoaObject           *object,
             gboolean             removed)
{
  GoaAccount *goa_account = goa_object_peek_account (object);
  const PopcheckGoaProvider *provider;
  g_autofree char *id = NULL;
  const char *goa_id;
  Entry *entry = NULL;
  guint position = 0;

  /* The object as it was listed: while it goes, its Account interface
   * may already be gone. */
  for (guint i = 0; i < self->entries->len && entry == NULL; i++)
    {
      Entry *listed = g_ptr_array_index (self->entries, i);

      if (listed->object == object)
        {
          entry = listed;
          position = i;
        }
    }

  if (goa_account == NULL)
    {
      removed = TRUE;
      goa_id = NULL;
    }
  else
    {
      goa_id = goa_account_get_id (goa_account);
      if (entry == NULL)
        entry = find_entry (self, goa_id, &position);
    }
  provider = removed ? NULL : usable_provider (object);

  if (provider == NULL)
    {
      if (entry != NULL)
        {
          g_ptr_array_remove_index (self->entries, position);
          g_list_model_items_changed (G_LIST_MODEL (self), position, 1, 0);
        }
      return;
    }

  if (entry != NULL)
    {
      gboolean attention_needed = goa_account_get_attention_needed (goa_account);

      g_set_object (&entry->object, object);
      update_account (entry->account, goa_account);
      /* Signed in again in Settings, or told to: the checker need not
       * wait for a check, or for the user, to learn it. */
      if (entry->attention_needed != attention_needed)
        {
          entry->attention_needed = attention_needed;
          g_signal_emit_by_name (self, "sign-in-changed", entry->account);
        }
      return;
    }

  id = g_strconcat (ID_PREFIX, goa_id, NULL);
  if (!popcheck_account_id_is_valid (id))
    {
      g_debug ("Not listing the Online Accounts account \"%s\": its id "
               "cannot name a PopCheck account", goa_id);
      return;
    }

  entry = g_new0 (Entry, 1);
  entry->object = g_object_ref (object);
  entry->attention_needed = goa_account_get_attention_needed (goa_account);
  entry->account = popcheck_account_new_external (id,
                                                  POPCHECK_TOKEN_SOURCE (self));
  /* The server is the table's; the rest of the account's keys keep
   * their defaults. */
  popcheck_account_set_host (entry->account, provider->host);
  popcheck_account_set_port (entry->account, provider->port);
  popcheck_account_set_security (entry->account, provider->security);
  popcheck_account_set_auth_method (entry->account, provider->auth_method);
  popcheck_account_set_enabled (entry->account, is_checked (self, goa_id));
  update_account (entry->account, goa_account);
  g_signal_connect (entry->account, "notify::enabled",
                    G_CALLBACK (account_enabled_cb), self);

  g_ptr_array_add (self->entries, entry);
  g_list_model_items_changed (G_LIST_MODEL (self), self->entries->len - 1,
                              0, 1);
}

static void
account_added_cb (GoaClient           *client,
                  GoaObject           *object,
                  PopcheckGoaAccounts *self)
{
  sync_object (self, object, FALSE);
}

static void
account_changed_cb (GoaClient           *client,
                    GoaObject           *object,
                    PopcheckGoaAccounts *self)
{
  sync_object (self, object, FALSE);
}

static void
account_removed_cb (GoaClient           *client,
                    GoaObject           *object,
                    PopcheckGoaAccounts *self)
{
  sync_object (self, object, TRUE);
}

/* The object manager reports an interface that comes or goes (Mail, when
 * the user turns mail off in some versions of Settings) as "added" or
 * "removed" of an interface, which GoaClient does not forward. */
static void
interface_changed_cb (GDBusObjectManager  *manager,
                      GDBusObject         *object,
                      GDBusInterface      *interface,
                      PopcheckGoaAccounts *self)
{
  sync_object (self, GOA_OBJECT (object), FALSE);
}

static void
client_ready_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(PopcheckGoaAccounts) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GoaClient) client = NULL;
  GDBusObjectManager *manager;
  GList *objects;

  client = goa_client_new_finish (result, &error);
  if (client == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_message ("Online Accounts is not available: %s", error->message);
      return;
    }

  self->client = g_steal_pointer (&client);
  g_signal_connect_object (self->client, "account-added",
                           G_CALLBACK (account_added_cb), self, 0);
  g_signal_connect_object (self->client, "account-changed",
                           G_CALLBACK (account_changed_cb), self, 0);
  g_signal_connect_object (self->client, "account-removed",
                           G_CALLBACK (account_removed_cb), self, 0);
  manager = goa_client_get_object_manager (self->client);
  g_signal_connect_object (manager, "interface-added",
                           G_CALLBACK (interface_changed_cb), self, 0);
  g_signal_connect_object (manager, "interface-removed",
                           G_CALLBACK (interface_changed_cb), self, 0);

  objects = goa_client_get_accounts (self->client);
  for (GList *l = objects; l != NULL; l = l->next)
    sync_object (self, l->data, FALSE);
  g_list_free_full (objects, g_object_unref);
}

/* Tokens */

static gboolean
entry_check_sign_in (Entry   *entry,
                     GError **error)
{
  if (goa_account_get_attention_needed (goa_object_peek_account (entry->object)))
    {
      g_set_error_literal (error, POPCHECK_TOKEN_SOURCE_ERROR,
                           POPCHECK_TOKEN_SOURCE_ERROR_SIGN_IN,
                           _("Online Accounts needs you to sign in to this "
                             "account again. Open Settings → Online "
                             "Accounts."));
      return FALSE;
    }

  return TRUE;
}

static Entry *
lookup_entry (PopcheckGoaAccounts *self,
              PopcheckAccount     *account)
{
  g_autofree char *goa_id = dup_goa_id (account);

  return goa_id != NULL ? find_entry (self, goa_id, NULL) : NULL;
}

static GoaObject *
lookup_object (PopcheckGoaAccounts  *self,
               PopcheckAccount      *account,
               GError              **error)
{
  Entry *entry = lookup_entry (self, account);

  if (entry == NULL)
    {
      g_set_error_literal (error, POPCHECK_TOKEN_SOURCE_ERROR,
                           POPCHECK_TOKEN_SOURCE_ERROR_GONE,
                           _("The account is no longer in Online Accounts."));
      return NULL;
    }

  if (!entry_check_sign_in (entry, error))
    return NULL;

  return entry->object;
}

/* What Online Accounts said, in the terms of a token source. */
static GError *
translate_error (GError   *error,
                 gboolean  renewing)
{
  g_autoptr(GError) owned = error;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return g_steal_pointer (&owned);

  g_dbus_error_strip_remote_error (error);
  if (g_error_matches (error, GOA_ERROR, GOA_ERROR_NOT_AUTHORIZED))
    return g_error_new_literal (POPCHECK_TOKEN_SOURCE_ERROR,
                                POPCHECK_TOKEN_SOURCE_ERROR_SIGN_IN,
                                _("Online Accounts can no longer sign in to "
                                  "this account. Sign in again in Settings → "
                                  "Online Accounts."));

  if (renewing)
    /* Translators: %s is Online Accounts' own explanation. */
    return g_error_new (POPCHECK_TOKEN_SOURCE_ERROR,
                        POPCHECK_TOKEN_SOURCE_ERROR_FAILED,
                        _("Online Accounts could not renew the sign-in: %s"),
                        error->message);

  /* Translators: %s is Online Accounts' own explanation. */
  return g_error_new (POPCHECK_TOKEN_SOURCE_ERROR,
                      POPCHECK_TOKEN_SOURCE_ERROR_FAILED,
                      _("Online Accounts could not give an access token: %s"),
                      error->message);
}

static gboolean
token_is_sendable (const char *token)
{
  gsize length = strnlen (token, MAX_TOKEN_LENGTH + 1);

  if (length == 0 || length > MAX_TOKEN_LENGTH)
    return FALSE;

  /* It goes into a SASL message: a control character has no place in a
   * bearer token (RFC 6750, section 2.1). */
  for (gsize i = 0; i < length; i++)
    {
      if ((guchar) token[i] < 0x20 || (guchar) token[i] == 0x7f)
        return FALSE;
    }

  return TRUE;
}

static void
get_access_token_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  char *token = NULL;

  if (!goa_oauth2_based_call_get_access_token_finish (GOA_OAUTH2_BASED (object),
                                                      &token, NULL, result,
                                                      &error))
    {
      g_task_return_error (task, translate_error (error, FALSE));
      return;
    }

  if (!token_is_sendable (token))
    {
      secret_password_free (token);
      g_task_return_new_error (task, POPCHECK_TOKEN_SOURCE_ERROR,
                               POPCHECK_TOKEN_SOURCE_ERROR_FAILED,
                               _("Online Accounts gave an access token that "
                                 "cannot be sent to the server."));
      return;
    }

  g_task_return_pointer (task, token, (GDestroyNotify) secret_password_free);
}

/* A task for a call about @account to Online Accounts, or NULL when it
 * has already failed (the account is gone or needs the user). */
static GTask *
start_call (PopcheckGoaAccounts  *self,
            PopcheckAccount      *account,
            gpointer              source_tag,
            GCancellable         *cancellable,
            GAsyncReadyCallback   callback,
            gpointer              user_data,
            GoaObject           **object)
{
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);

  *object = lookup_object (self, account, &error);
  if (*object == NULL)
    {
      g_task_return_error (task, error);
      return NULL;
    }

  return g_steal_pointer (&task);
}

static void
popcheck_goa_accounts_get_token_async (PopcheckTokenSource *source,
                                       PopcheckAccount     *account,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  GoaObject *object;
  GTask *task;

  task = start_call (POPCHECK_GOA_ACCOUNTS (source), account,
                     popcheck_goa_accounts_get_token_async, cancellable,
                     callback, user_data, &object);
  if (task == NULL)
    return;

  goa_oauth2_based_call_get_access_token (goa_object_peek_oauth2_based (object),
                                          cancellable, get_access_token_cb,
                                          task);
}

static char *
popcheck_goa_accounts_get_token_finish (PopcheckTokenSource  *source,
                                        GAsyncResult         *result,
                                        GError              **error)
{
  g_return_val_if_fail (g_task_is_valid (result, source), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
ensure_credentials_cb (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!goa_account_call_ensure_credentials_finish (GOA_ACCOUNT (object), NULL,
                                                   result, &error))
    {
      g_task_return_error (task, translate_error (error, TRUE));
      return;
    }

  g_task_return_boolean (task, TRUE);
}

static void
popcheck_goa_accounts_renew_async (PopcheckTokenSource *source,
                                   PopcheckAccount     *account,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  GoaObject *object;
  GTask *task;

  task = start_call (POPCHECK_GOA_ACCOUNTS (source), account,
                     popcheck_goa_accounts_renew_async, cancellable,
                     callback, user_data, &object);
  if (task == NULL)
    return;

  goa_account_call_ensure_credentials (goa_object_peek_account (object),
                                       cancellable, ensure_credentials_cb,
                                       task);
}

static gboolean
popcheck_goa_accounts_renew_finish (PopcheckTokenSource  *source,
                                    GAsyncResult         *result,
                                    GError              **error)
{
  g_return_val_if_fail (g_task_is_valid (result, source), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static gboolean
popcheck_goa_accounts_check_sign_in (PopcheckTokenSource  *source,
                                     PopcheckAccount      *account,
                                     GError              **error)
{
  Entry *entry = lookup_entry (POPCHECK_GOA_ACCOUNTS (source), account);

  /* An account gone is not one to sign in to: its next check says so. */
  return entry == NULL || entry_check_sign_in (entry, error);
}

static void
token_source_iface_init (PopcheckTokenSourceInterface *iface)
{
  iface->get_token_async = popcheck_goa_accounts_get_token_async;
  iface->get_token_finish = popcheck_goa_accounts_get_token_finish;
  iface->renew_async = popcheck_goa_accounts_renew_async;
  iface->renew_finish = popcheck_goa_accounts_renew_finish;
  iface->check_sign_in = popcheck_goa_accounts_check_sign_in;
}

/* Settings → Online Accounts */

gboolean
popcheck_goa_open_settings (PopcheckAccount  *account,
                            GError          **error)
{
  g_autofree char *goa_id = NULL;
  g_autofree char *program = NULL;
  g_autoptr(GSubprocess) settings = NULL;
  g_autoptr(GError) spawn_error = NULL;

  g_return_val_if_fail (POPCHECK_IS_ACCOUNT (account), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  goa_id = dup_goa_id (account);
  if (goa_id == NULL)
    {
      g_set_error (error, POPCHECK_GOA_ERROR, POPCHECK_GOA_ERROR_NOT_ONLINE,
                   _("“%s” is not an account from Online Accounts."),
                   popcheck_account_get_display_name (account));
      return FALSE;
    }

  program = g_find_program_in_path ("gnome-control-center");
  if (program == NULL)
    {
      g_set_error_literal (error, POPCHECK_GOA_ERROR,
                           POPCHECK_GOA_ERROR_NO_SETTINGS,
                           _("Settings is not installed, so Online Accounts "
                             "cannot be opened. Install GNOME Settings "
                             "(gnome-control-center)."));
      return FALSE;
    }

  /* Spawning does not wait for it; the subprocess reaps itself when it
   * exits. */
  settings = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &spawn_error,
                               program, "online-accounts", goa_id, NULL);
  if (settings == NULL)
    {
      g_set_error (error, POPCHECK_GOA_ERROR, POPCHECK_GOA_ERROR_NO_SETTINGS,
                   _("Settings could not be started: %s"),
                   spawn_error->message);
      return FALSE;
    }

  return TRUE;
}

/* GObject */

static void
popcheck_goa_accounts_dispose (GObject *object)
{
  PopcheckGoaAccounts *self = (PopcheckGoaAccounts *) object;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->client);

  G_OBJECT_CLASS (popcheck_goa_accounts_parent_class)->dispose (object);
}

static void
popcheck_goa_accounts_finalize (GObject *object)
{
  PopcheckGoaAccounts *self = (PopcheckGoaAccounts *) object;

  g_clear_pointer (&self->entries, g_ptr_array_unref);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (popcheck_goa_accounts_parent_class)->finalize (object);
}

static void
popcheck_goa_accounts_class_init (PopcheckGoaAccountsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = popcheck_goa_accounts_dispose;
  object_class->finalize = popcheck_goa_accounts_finalize;
}

static void
popcheck_goa_accounts_init (PopcheckGoaAccounts *self)
{
  self->cancellable = g_cancellable_new ();
  self->entries = g_ptr_array_new_with_free_func ((GDestroyNotify) entry_free);
  self->settings = g_settings_new (POPCHECK_SETTINGS_SCHEMA_ID);
  g_signal_connect_object (self->settings, "changed::online-accounts",
                           G_CALLBACK (checked_ids_changed_cb), self, 0);
}

PopcheckGoaAccounts *
popcheck_goa_accounts_new (void)
{
  PopcheckGoaAccounts *self = g_object_new (POPCHECK_TYPE_GOA_ACCOUNTS, NULL);

  goa_client_new (self->cancellable, client_ready_cb, g_object_ref (self));

  return self;
}
