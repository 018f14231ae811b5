/* popcheck-account-list.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The "accounts" key is the only truth: adding and removing write it, and
 * the model is rebuilt from it in one place (sync_accounts), whoever
 * changed it.
 */

#define G_LOG_DOMAIN "popcheck-account-list"

#include "config.h"

#include <glib/gi18n.h>

#include "popcheck-account-list.h"
#include "popcheck-mailbox.h"
#include "popcheck-secret.h"

/* Long enough to tell accounts apart in dconf-editor, short enough for a
 * settings path. */
#define MAX_SLUG_LENGTH 32

struct _PopcheckAccountList
{
  GObject          parent_instance;

  GSettings       *settings;
  /* PopcheckAccount, in the order of the "accounts" key. */
  GPtrArray       *items;
  /* The account popcheck_account_list_add() is about to publish. */
  PopcheckAccount *pending;
  /* Accounts from elsewhere (Online Accounts), after the items. */
  GListModel      *external;
};

static void list_model_iface_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (PopcheckAccountList, popcheck_account_list,
                               G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      list_model_iface_init))

/* GListModel */

static GType
popcheck_account_list_get_item_type (GListModel *model)
{
  return POPCHECK_TYPE_ACCOUNT;
}

static guint
popcheck_account_list_get_n_items (GListModel *model)
{
  PopcheckAccountList *self = POPCHECK_ACCOUNT_LIST (model);
  guint n_external = self->external != NULL
                       ? g_list_model_get_n_items (self->external)
                       : 0;

  return self->items->len + n_external;
}

static gpointer
popcheck_account_list_get_item (GListModel *model,
                                guint       position)
{
  PopcheckAccountList *self = POPCHECK_ACCOUNT_LIST (model);

  if (position >= self->items->len)
    return self->external != NULL
             ? g_list_model_get_item (self->external,
                                      position - self->items->len)
             : NULL;

  return g_object_ref (g_ptr_array_index (self->items, position));
}

static void
list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = popcheck_account_list_get_item_type;
  iface->get_n_items = popcheck_account_list_get_n_items;
  iface->get_item = popcheck_account_list_get_item;
}

/* Following the "accounts" key */

static PopcheckAccount *
find_by_id (GPtrArray  *accounts,
            const char *id)
{
  for (guint i = 0; i < accounts->len; i++)
    {
      PopcheckAccount *account = g_ptr_array_index (accounts, i);

      if (g_strcmp0 (popcheck_account_get_id (account), id) == 0)
        return account;
    }

  return NULL;
}

static void
sync_accounts (PopcheckAccountList *self)
{
  g_auto(GStrv) ids = g_settings_get_strv (self->settings, "accounts");
  g_autoptr(GPtrArray) wanted = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  guint old_n, new_n, prefix, suffix;

  for (guint i = 0; ids[i] != NULL; i++)
    {
      PopcheckAccount *account;

      /* The key can be written by anyone; an id that cannot be a settings
       * path, or a repeated one, is left out rather than trusted. */
      if (!popcheck_account_id_is_valid (ids[i]))
        {
          g_warning ("Ignoring the account id \"%s\" in the settings: an "
                     "id is made of ASCII letters, digits, '-' and '_'",
                     ids[i]);
          continue;
        }
      if (!g_hash_table_add (seen, ids[i]))
        continue;

      account = find_by_id (self->items, ids[i]);
      if (account == NULL && self->pending != NULL &&
          g_strcmp0 (popcheck_account_get_id (self->pending), ids[i]) == 0)
        account = self->pending;

      if (account != NULL)
        g_ptr_array_add (wanted, g_object_ref (account));
      else
        g_ptr_array_add (wanted, popcheck_account_new (ids[i]));
    }

  /* The smallest single change that turns the old list into the new one:
   * keep the common head and tail, replace what is between. */
  old_n = self->items->len;
  new_n = wanted->len;
  prefix = 0;
  while (prefix < old_n && prefix < new_n &&
         g_ptr_array_index (self->items, prefix) ==
         g_ptr_array_index (wanted, prefix))
    prefix++;
  suffix = 0;
  while (suffix < old_n - prefix && suffix < new_n - prefix &&
         g_ptr_array_index (self->items, old_n - 1 - suffix) ==
         g_ptr_array_index (wanted, new_n - 1 - suffix))
    suffix++;

  if (old_n == new_n && prefix == old_n)
    return;

  g_ptr_array_unref (self->items);
  self->items = g_steal_pointer (&wanted);
  g_list_model_items_changed (G_LIST_MODEL (self), prefix,
                              old_n - prefix - suffix,
                              new_n - prefix - suffix);
}

static void
accounts_changed_cb (GSettings           *settings,
                     const char          *key,
                     PopcheckAccountList *self)
{
  sync_accounts (self);
}

static void
reset_settings (GSettings *settings)
{
  g_autoptr(GSettingsSchema) schema = NULL;
  g_auto(GStrv) keys = NULL;

  g_object_get (settings, "settings-schema", &schema, NULL);
  keys = g_settings_schema_list_keys (schema);
  for (guint i = 0; keys[i] != NULL; i++)
    g_settings_reset (settings, keys[i]);
}

/* GObject */

static void
popcheck_account_list_finalize (GObject *object)
{
  PopcheckAccountList *self = (PopcheckAccountList *) object;

  if (self->external != NULL)
    g_signal_handlers_disconnect_by_data (self->external, self);
  g_clear_object (&self->external);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->items, g_ptr_array_unref);

  G_OBJECT_CLASS (popcheck_account_list_parent_class)->finalize (object);
}

static void
popcheck_account_list_class_init (PopcheckAccountListClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = popcheck_account_list_finalize;
}

static void
popcheck_account_list_init (PopcheckAccountList *self)
{
  self->items = g_ptr_array_new_with_free_func (g_object_unref);
  self->settings = g_settings_new (POPCHECK_SETTINGS_SCHEMA_ID);

  sync_accounts (self);
  g_signal_connect_object (self->settings, "changed::accounts",
                           G_CALLBACK (accounts_changed_cb), self, 0);
}

PopcheckAccountList *
popcheck_account_list_new (void)
{
  return g_object_new (POPCHECK_TYPE_ACCOUNT_LIST, NULL);
}

/* Accounts from elsewhere */

static void
external_items_changed_cb (GListModel          *model,
                           guint                position,
                           guint                removed,
                           guint                added,
                           PopcheckAccountList *self)
{
  g_list_model_items_changed (G_LIST_MODEL (self),
                              self->items->len + position, removed, added);
}

void
popcheck_account_list_set_external (PopcheckAccountList *self,
                                    GListModel          *accounts)
{
  guint removed = 0;
  guint added = 0;

  g_return_if_fail (POPCHECK_IS_ACCOUNT_LIST (self));
  g_return_if_fail (accounts == NULL || G_IS_LIST_MODEL (accounts));
  g_return_if_fail (accounts == NULL ||
                    g_list_model_get_item_type (accounts) ==
                    POPCHECK_TYPE_ACCOUNT);

  if (self->external == accounts)
    return;

  if (self->external != NULL)
    {
      removed = g_list_model_get_n_items (self->external);
      g_signal_handlers_disconnect_by_data (self->external, self);
      g_clear_object (&self->external);
    }
  if (accounts != NULL)
    {
      self->external = g_object_ref (accounts);
      added = g_list_model_get_n_items (accounts);
      g_signal_connect_object (accounts, "items-changed",
                               G_CALLBACK (external_items_changed_cb), self,
                               0);
    }

  if (removed > 0 || added > 0)
    g_list_model_items_changed (G_LIST_MODEL (self), self->items->len,
                                removed, added);
}

/* Adding */

static char *
make_slug (const char *display_name)
{
  g_autofree char *ascii = g_str_to_ascii (display_name, "C");
  GString *slug = g_string_new (NULL);
  gboolean separate = FALSE;

  for (const char *p = ascii; *p != '\0' && slug->len < MAX_SLUG_LENGTH; p++)
    {
      if (!g_ascii_isalnum (*p))
        {
          separate = TRUE;
          continue;
        }
      if (separate && slug->len > 0)
        g_string_append_c (slug, '-');
      separate = FALSE;
      g_string_append_c (slug, g_ascii_tolower (*p));
    }

  if (slug->len == 0)
    g_string_append (slug, "account");

  return g_string_free (slug, FALSE);
}

static char *
make_unique_id (PopcheckAccountList *self,
                const char          *display_name)
{
  g_autofree char *slug = make_slug (display_name);
  g_auto(GStrv) ids = g_settings_get_strv (self->settings, "accounts");
  char *id = g_strdup (slug);

  /* The key may hold ids the model left out (invalid or repeated); they
   * count as taken all the same. */
  for (guint n = 2; g_strv_contains ((const char * const *) ids, id) ||
                    find_by_id (self->items, id) != NULL; n++)
    {
      g_free (id);
      id = g_strdup_printf ("%s-%u", slug, n);
    }

  return id;
}

PopcheckAccount *
popcheck_account_list_add (PopcheckAccountList  *self,
                           const char           *display_name,
                           GError              **error)
{
  g_autofree char *name = NULL;
  g_autofree char *id = NULL;
  g_autoptr(PopcheckAccount) account = NULL;
  g_auto(GStrv) ids = NULL;
  g_autoptr(GStrvBuilder) builder = NULL;
  g_auto(GStrv) new_ids = NULL;

  g_return_val_if_fail (POPCHECK_IS_ACCOUNT_LIST (self), NULL);
  g_return_val_if_fail (display_name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  name = g_strstrip (g_strdup (display_name));
  if (*name == '\0' || !g_utf8_validate (name, -1, NULL))
    {
      g_set_error_literal (error, POPCHECK_ACCOUNT_ERROR,
                           POPCHECK_ACCOUNT_ERROR_INVALID_NAME,
                           _("Enter a name for the account."));
      return NULL;
    }

  id = make_unique_id (self, name);
  account = popcheck_account_new (id);

  /* A path left behind by an account removed elsewhere must not lend its
   * host or fingerprint to the new one. */
  reset_settings (popcheck_account_get_settings (account));
  popcheck_account_set_display_name (account, name);

  ids = g_settings_get_strv (self->settings, "accounts");
  builder = g_strv_builder_new ();
  g_strv_builder_addv (builder, (const char **) ids);
  g_strv_builder_add (builder, id);
  new_ids = g_strv_builder_end (builder);

  self->pending = account;
  g_settings_set_strv (self->settings, "accounts",
                       (const char * const *) new_ids);
  /* "changed" has normally synced already; this is for a backend that
   * delivers it later. */
  sync_accounts (self);
  self->pending = NULL;

  return popcheck_account_list_lookup (self, id);
}

/* Removing */

typedef struct
{
  char     *id;
  char     *host;
  char     *user;
  guint16   port;
  /* Another account is for the same mailbox. */
  gboolean  shared;
} RemoveData;

static void
remove_secret_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RemoveData *data = g_task_get_task_data (task);
  GError *error = NULL;

  if (!popcheck_secret_clear_finish (result, &error) && !data->shared)
    {
      g_task_return_error (task, error);
      return;
    }

  /* While another account uses the mailbox, the removal stands without
   * the keyring, as it did when the two shared one password; the keyring
   * is reported when the mailbox's last account goes. */
  if (error != NULL)
    {
      g_message ("Could not remove the secrets of a removed account: %s",
                 error->message);
      g_error_free (error);
    }
  g_task_return_boolean (task, TRUE);
}


static void
remove_data_free (RemoveData *data)
{
  g_free (data->id);
  g_free (data->host);
  g_free (data->user);
  g_free (data);
}

static void
state_deleted_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PopcheckAccountList *self = g_task_get_source_object (task);
  RemoveData *data = g_task_get_task_data (task);
  GCancellable *cancellable;
  g_autoptr(GError) error = NULL;

  if (!popcheck_mailbox_delete_state_finish (POPCHECK_MAILBOX (object), result,
                                             &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_message ("Could not remove the saved state of a removed account: %s",
               error->message);

  if (!popcheck_account_validate_host (data->host, NULL) ||
      !popcheck_account_validate_user (data->user, NULL))
    {
      /* An account that never had a server and user cannot have had a
       * password stored for it. */
      g_task_return_boolean (task, TRUE);
      return;
    }

  /* The secrets are the account's own, even when another account is for
   * the same mailbox. */
  for (guint i = 0; i < self->items->len; i++)
    {
      PopcheckAccount *other = g_ptr_array_index (self->items, i);

      if (g_strcmp0 (popcheck_account_get_host (other), data->host) == 0 &&
          popcheck_account_get_port (other) == data->port &&
          g_strcmp0 (popcheck_account_get_user (other), data->user) == 0)
        data->shared = TRUE;
    }

  cancellable = g_task_get_cancellable (task);
  popcheck_secret_clear_async (data->id, data->host, data->port, data->user,
                               cancellable, remove_secret_cb,
                               g_steal_pointer (&task));
}

void
popcheck_account_list_remove_async (PopcheckAccountList *self,
                                    PopcheckAccount     *account,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(PopcheckAccount) removed = NULL;
  g_autofree char *host = NULL;
  g_autofree char *user = NULL;
  g_autoptr(GStrvBuilder) builder = NULL;
  g_auto(GStrv) ids = NULL;
  g_auto(GStrv) new_ids = NULL;
  g_autoptr(PopcheckMailbox) mailbox = NULL;
  RemoveData *data;
  const char *id;
  guint16 port;

  g_return_if_fail (POPCHECK_IS_ACCOUNT_LIST (self));
  g_return_if_fail (POPCHECK_IS_ACCOUNT (account));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, popcheck_account_list_remove_async);

  id = popcheck_account_get_id (account);
  if (find_by_id (self->items, id) != account)
    {
      g_task_return_new_error (task, POPCHECK_ACCOUNT_ERROR,
                               POPCHECK_ACCOUNT_ERROR_NOT_FOUND,
                               _("There is no account “%s”."),
                               popcheck_account_get_display_name (account));
      return;
    }

  /* What finds the password, taken before the settings are reset. */
  removed = g_object_ref (account);
  host = g_strdup (popcheck_account_get_host (account));
  user = g_strdup (popcheck_account_get_user (account));
  port = popcheck_account_get_port (account);

  ids = g_settings_get_strv (self->settings, "accounts");
  builder = g_strv_builder_new ();
  for (guint i = 0; ids[i] != NULL; i++)
    {
      if (g_strcmp0 (ids[i], id) != 0)
        g_strv_builder_add (builder, ids[i]);
    }
  new_ids = g_strv_builder_end (builder);
  g_settings_set_strv (self->settings, "accounts",
                       (const char * const *) new_ids);
  sync_accounts (self);

  /* Listeners have let go of the account by now, so they do not watch
   * it fall back to its defaults. */
  reset_settings (popcheck_account_get_settings (removed));

  data = g_new0 (RemoveData, 1);
  data->id = g_strdup (id);
  data->host = g_steal_pointer (&host);
  data->user = g_steal_pointer (&user);
  data->port = port;
  g_task_set_task_data (task, data, (GDestroyNotify) remove_data_free);

  /* The account's saved messages go too: an account added later under the
   * same name must not start from them.  The password waits for this, so
   * that a new account never races the old file. */
  mailbox = popcheck_mailbox_new (id);
  popcheck_mailbox_delete_state_async (mailbox, cancellable, state_deleted_cb,
                                       g_steal_pointer (&task));
}

gboolean
popcheck_account_list_remove_finish (PopcheckAccountList  *self,
                                     GAsyncResult         *result,
                                     GError              **error)
{
  g_return_val_if_fail (POPCHECK_IS_ACCOUNT_LIST (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        popcheck_account_list_remove_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Finding */

PopcheckAccount *
popcheck_account_list_lookup (PopcheckAccountList *self,
                              const char          *id)
{
  PopcheckAccount *account;

  g_return_val_if_fail (POPCHECK_IS_ACCOUNT_LIST (self), NULL);
  g_return_val_if_fail (id != NULL, NULL);

  account = find_by_id (self->items, id);
  for (guint i = 0; account == NULL && self->external != NULL &&
                    i < g_list_model_get_n_items (self->external); i++)
    {
      g_autoptr(PopcheckAccount) external =
        g_list_model_get_item (self->external, i);

      /* The external model holds a reference as long as the account is
       * listed. */
      if (g_strcmp0 (popcheck_account_get_id (external), id) == 0)
        account = external;
    }

  return account;
}

PopcheckAccount *
popcheck_account_list_lookup_by_display_name (PopcheckAccountList *self,
                                              const char          *display_name)
{
  g_autofree char *folded = NULL;

  g_return_val_if_fail (POPCHECK_IS_ACCOUNT_LIST (self), NULL);
  g_return_val_if_fail (display_name != NULL, NULL);

  for (guint i = 0; i < self->items->len; i++)
    {
      PopcheckAccount *account = g_ptr_array_index (self->items, i);

      if (g_strcmp0 (popcheck_account_get_display_name (account),
                     display_name) == 0)
        return account;
    }

  folded = g_utf8_casefold (display_name, -1);
  for (guint i = 0; i < self->items->len; i++)
    {
      PopcheckAccount *account = g_ptr_array_index (self->items, i);
      g_autofree char *name =
        g_utf8_casefold (popcheck_account_get_display_name (account), -1);

      if (g_strcmp0 (name, folded) == 0)
        return account;
    }

  return NULL;
}

PopcheckAccount *
popcheck_account_list_find (PopcheckAccountList  *self,
                            const char           *id_or_name,
                            GError              **error)
{
  PopcheckAccount *account;

  g_return_val_if_fail (POPCHECK_IS_ACCOUNT_LIST (self), NULL);
  g_return_val_if_fail (id_or_name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  account = popcheck_account_list_lookup (self, id_or_name);
  if (account == NULL)
    account = popcheck_account_list_lookup_by_display_name (self, id_or_name);
  if (account == NULL)
    g_set_error (error, POPCHECK_ACCOUNT_ERROR,
                 POPCHECK_ACCOUNT_ERROR_NOT_FOUND,
                 _("There is no account “%s”."), id_or_name);

  return account;
}
