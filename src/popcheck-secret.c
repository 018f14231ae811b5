/* popcheck-secret.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every operation first reaches the session bus and the Secret Service
 * itself, so that "there is no keyring" is told apart from any other
 * failure, then does its one libsecret call.
 */

#define G_LOG_DOMAIN "popcheck-secret"

#include "config.h"

#include <string.h>
#include <glib/gi18n.h>

#include "popcheck-secret.h"

G_DEFINE_QUARK (popcheck-secret-error-quark, popcheck_secret_error)

typedef enum
{
  OPERATION_STORE,
  OPERATION_LOOKUP,
  OPERATION_CLEAR,
} Operation;

typedef struct
{
  Operation           operation;
  char               *account_id;
  PopcheckSecretKind  kind;
  char               *host;
  guint16             port;
  char               *user;
  /* Only for OPERATION_STORE; wiped when freed. */
  char               *password;
  SecretService      *service;
  /* Lookup: the password found in an item stored by an older PopCheck,
   * returned once that item is moved to the account. */
  char               *migrated;
} SecretData;

static void
secret_data_free (SecretData *data)
{
  g_free (data->account_id);
  g_free (data->host);
  g_free (data->user);
  if (data->password != NULL)
    {
      secret_password_wipe (data->password);
      g_free (data->password);
    }
  g_clear_pointer (&data->migrated, secret_password_free);
  g_clear_object (&data->service);
  g_free (data);
}

const SecretSchema *
popcheck_secret_get_schema (void)
{
  static const SecretSchema schema = {
    "org.example.PopCheck.Account", SECRET_SCHEMA_NONE,
    {
      { "host", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "port", SECRET_SCHEMA_ATTRIBUTE_INTEGER },
      { "user", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "protocol", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "account", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "kind", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 },
    }
  };

  return &schema;
}

const char *
popcheck_secret_kind_to_string (PopcheckSecretKind kind)
{
  switch (kind)
    {
    case POPCHECK_SECRET_KIND_PASSWORD:
      return "password";
    case POPCHECK_SECRET_KIND_OAUTH2_REFRESH_TOKEN:
      return "oauth2-refresh-token";
    default:
      g_return_val_if_reached (NULL);
    }
}

/* What an older PopCheck stored: server, port and user only, so that two
 * accounts of the same mailbox shared one item. */
static GHashTable *
build_legacy_attributes (SecretData *data)
{
  /* "protocol" leaves room for other protocols of the same server and
   * user (an IMAP password is often a different one). */
  return secret_attributes_build (popcheck_secret_get_schema (),
                                  "host", data->host,
                                  "port", (int) data->port,
                                  "user", data->user,
                                  "protocol", "pop3",
                                  NULL);
}

/* The account's own item.  Server, port and user stay in it: a secret
 * typed for one server is never sent to another the account was changed
 * to.  Clearing leaves out the kind, to remove every kind at once. */
static GHashTable *
build_attributes (SecretData *data,
                  gboolean    with_kind)
{
  GHashTable *attributes = build_legacy_attributes (data);

  g_hash_table_insert (attributes, g_strdup ("account"),
                       g_strdup (data->account_id));
  if (with_kind)
    g_hash_table_insert (attributes, g_strdup ("kind"),
                         g_strdup (popcheck_secret_kind_to_string (data->kind)));

  return attributes;
}

static GError *
no_service_error (void)
{
  return g_error_new_literal (POPCHECK_SECRET_ERROR,
                              POPCHECK_SECRET_ERROR_NO_SERVICE,
                              _("No keyring service is running. PopCheck "
                                "keeps passwords only in the system keyring "
                                "(GNOME Keyring or another Secret Service)."));
}

static GError *
locked_error (void)
{
  return g_error_new_literal (POPCHECK_SECRET_ERROR,
                              POPCHECK_SECRET_ERROR_LOCKED,
                              _("The keyring is locked and was not unlocked."));
}

static gboolean
is_no_service_error (const GError *error)
{
  if (error->domain == G_DBUS_ERROR)
    {
      switch (error->code)
        {
        case G_DBUS_ERROR_SERVICE_UNKNOWN:
        case G_DBUS_ERROR_NAME_HAS_NO_OWNER:
        case G_DBUS_ERROR_NO_SERVER:
        case G_DBUS_ERROR_DISCONNECTED:
        case G_DBUS_ERROR_SPAWN_EXEC_FAILED:
        case G_DBUS_ERROR_SPAWN_FORK_FAILED:
        case G_DBUS_ERROR_SPAWN_CHILD_EXITED:
        case G_DBUS_ERROR_SPAWN_CHILD_SIGNALED:
        case G_DBUS_ERROR_SPAWN_FAILED:
        case G_DBUS_ERROR_SPAWN_SETUP_FAILED:
        case G_DBUS_ERROR_SPAWN_CONFIG_INVALID:
        case G_DBUS_ERROR_SPAWN_SERVICE_INVALID:
        case G_DBUS_ERROR_SPAWN_SERVICE_NOT_FOUND:
        case G_DBUS_ERROR_SPAWN_PERMISSIONS_INVALID:
        case G_DBUS_ERROR_SPAWN_FILE_INVALID:
        case G_DBUS_ERROR_SPAWN_NO_MEMORY:
          return TRUE;
        default:
          return FALSE;
        }
    }

  /* The bus connection went away under us. */
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CLOSED);
}

/* Turns what libsecret and GDBus report into the few cases a person can
 * act on.  Takes ownership of error. */
static GError *
translate_error (GError       *error,
                 GCancellable *cancellable)
{
  g_autoptr(GError) owned = error;

  /* libsecret 0.20.5 fails some calls without an error when the service
   * dies in the middle of them (seen with gnome-keyring aborting). */
  if (owned == NULL)
    return g_error_new_literal (POPCHECK_SECRET_ERROR,
                                POPCHECK_SECRET_ERROR_FAILED,
                                _("The keyring stopped answering."));

  g_debug ("Secret Service error: %s (%s, %d)", owned->message,
           g_quark_to_string (owned->domain), owned->code);

  if (g_error_matches (owned, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      if (g_cancellable_is_cancelled (cancellable))
        return g_steal_pointer (&owned);
      /* Cancelled without our cancellable: libsecret reports a prompt the
       * user (or a missing prompter) dismissed this way. */
      return locked_error ();
    }

  if (is_no_service_error (owned))
    return no_service_error ();

  if (g_error_matches (owned, SECRET_ERROR, SECRET_ERROR_IS_LOCKED))
    return locked_error ();

  return g_error_new (POPCHECK_SECRET_ERROR, POPCHECK_SECRET_ERROR_FAILED,
                      _("The keyring failed: %s"), owned->message);
}

static void
return_error (GTask  *task,
              GError *error)
{
  g_task_return_error (task,
                       translate_error (error,
                                        g_task_get_cancellable (task)));
}

/* Store */

static void
store_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!secret_service_store_finish (SECRET_SERVICE (object), result, &error))
    return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
start_store (GTask *task)
{
  SecretData *data = g_task_get_task_data (task);
  g_autoptr(GHashTable) attributes = build_attributes (data, TRUE);
  g_autoptr(SecretValue) value = NULL;
  g_autofree char *label = NULL;

  value = secret_value_new (data->password, -1, "text/plain");
  if (data->kind == POPCHECK_SECRET_KIND_OAUTH2_REFRESH_TOKEN)
    label = g_strdup_printf (_("PopCheck sign-in for %s@%s"),
                             data->user, data->host);
  else
    label = g_strdup_printf (_("PopCheck password for %s@%s"),
                             data->user, data->host);

  /* With these attributes already in the collection, the Secret Service
   * replaces that item rather than adding a second one. */
  secret_service_store (data->service, popcheck_secret_get_schema (),
                        attributes, SECRET_COLLECTION_DEFAULT, label, value,
                        g_task_get_cancellable (task),
                        store_cb, g_object_ref (task));
}

/* Lookup */

static GError *
not_found_error (PopcheckSecretKind kind)
{
  if (kind == POPCHECK_SECRET_KIND_OAUTH2_REFRESH_TOKEN)
    return g_error_new_literal (POPCHECK_SECRET_ERROR,
                                POPCHECK_SECRET_ERROR_NOT_FOUND,
                                _("This account is not signed in."));

  return g_error_new_literal (POPCHECK_SECRET_ERROR,
                              POPCHECK_SECRET_ERROR_NOT_FOUND,
                              _("No password is stored for this account."));
}

/* The secret of the first item that gave one; NULL and
 * POPCHECK_SECRET_ERROR_LOCKED when items matched but none was unlocked. */
static char *
first_secret (GList     *items,
              GError   **error)
{
  for (GList *l = items; l != NULL; l = l->next)
    {
      SecretValue *value = secret_item_get_secret (l->data);
      gsize length;
      char *password;

      if (value == NULL)
        continue;

      password = (char *) secret_value_unref_to_password (value, &length);
      if (password == NULL)
        g_set_error_literal (error, POPCHECK_SECRET_ERROR,
                             POPCHECK_SECRET_ERROR_FAILED,
                             _("The password stored for this account "
                               "is not text."));
      return password;
    }

  /* Items match but none gave its secret: the search asked to unlock them
   * and the unlock was refused, or its prompt dismissed.  (libsecret's own
   * secret_password_lookup() reports this as "nothing stored".) */
  g_propagate_error (error, locked_error ());
  return NULL;
}

/* Every matching item, unlocked, with its secret. */
static void
search_secrets (GTask               *task,
                GHashTable          *attributes,
                GAsyncReadyCallback  callback)
{
  SecretData *data = g_task_get_task_data (task);

  secret_service_search (data->service, popcheck_secret_get_schema (),
                         attributes,
                         SECRET_SEARCH_ALL | SECRET_SEARCH_UNLOCK |
                         SECRET_SEARCH_LOAD_SECRETS,
                         g_task_get_cancellable (task),
                         callback, g_object_ref (task));
}

static void
migrate_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SecretData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  /* The password was found all the same: a keyring that refuses the
   * change only means the next lookup tries again. */
  if (!secret_item_set_attributes_finish (SECRET_ITEM (object), result,
                                          &error))
    g_message ("Could not move a password stored by an older PopCheck to "
               "its account: %s", error->message);

  g_task_return_pointer (task, g_steal_pointer (&data->migrated),
                         (GDestroyNotify) secret_password_free);
}

static void
legacy_lookup_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SecretData *data = g_task_get_task_data (task);
  g_autoptr(GHashTable) attributes = NULL;
  GError *error = NULL;
  GList *items;
  GList *legacy = NULL;
  SecretItem *item;

  items = secret_service_search_finish (SECRET_SERVICE (object), result,
                                        &error);
  if (error != NULL)
    {
      return_error (task, error);
      return;
    }

  /* The search also matches other accounts' items for the same mailbox:
   * only one without an account is an older PopCheck's. */
  for (GList *l = items; l != NULL; l = l->next)
    {
      g_autoptr(GHashTable) item_attributes = secret_item_get_attributes (l->data);

      if (!g_hash_table_contains (item_attributes, "account"))
        legacy = g_list_prepend (legacy, g_object_ref (l->data));
    }
  g_list_free_full (items, g_object_unref);

  if (legacy == NULL)
    {
      g_task_return_error (task, not_found_error (data->kind));
      return;
    }

  data->migrated = first_secret (legacy, &error);
  if (data->migrated == NULL)
    {
      g_list_free_full (legacy, g_object_unref);
      g_task_return_error (task, error);
      return;
    }

  /* Moved, not copied: the item becomes this account's.  A second account
   * of the same mailbox then asks for its password once, and from then on
   * each keeps its own. */
  item = legacy->data;
  attributes = build_attributes (data, TRUE);
  secret_item_set_attributes (item, popcheck_secret_get_schema (), attributes,
                              g_task_get_cancellable (task),
                              migrate_cb, g_object_ref (task));
  g_list_free_full (legacy, g_object_unref);
}

static void
lookup_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SecretData *data = g_task_get_task_data (task);
  GError *error = NULL;
  GList *items;
  char *password;

  items = secret_service_search_finish (SECRET_SERVICE (object), result,
                                        &error);
  if (error != NULL)
    {
      return_error (task, error);
      return;
    }

  if (items == NULL)
    {
      g_autoptr(GHashTable) attributes = NULL;

      /* Older PopChecks stored only passwords. */
      if (data->kind != POPCHECK_SECRET_KIND_PASSWORD)
        {
          g_task_return_error (task, not_found_error (data->kind));
          return;
        }

      attributes = build_legacy_attributes (data);
      search_secrets (task, attributes, legacy_lookup_cb);
      return;
    }

  password = first_secret (items, &error);
  g_list_free_full (items, g_object_unref);
  if (password == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, password,
                           (GDestroyNotify) secret_password_free);
}

static void
start_lookup (GTask *task)
{
  SecretData *data = g_task_get_task_data (task);
  g_autoptr(GHashTable) attributes = build_attributes (data, TRUE);

  search_secrets (task, attributes, lookup_cb);
}

/* Clear */

static void
clear_check_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  GList *items;

  items = secret_service_search_finish (SECRET_SERVICE (object), result,
                                        &error);
  if (error != NULL)
    {
      return_error (task, error);
      return;
    }

  if (items != NULL)
    {
      g_list_free_full (items, g_object_unref);
      g_task_return_error (task, locked_error ());
      return;
    }

  g_task_return_boolean (task, TRUE);
}

static void
clear_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SecretData *data = g_task_get_task_data (task);
  g_autoptr(GHashTable) attributes = NULL;
  GError *error = NULL;

  secret_service_clear_finish (SECRET_SERVICE (object), result, &error);
  if (error != NULL)
    {
      return_error (task, error);
      return;
    }

  /* Clearing skips locked items without a word; whatever still matches
   * now could not be removed. */
  attributes = build_attributes (data, FALSE);
  secret_service_search (data->service, popcheck_secret_get_schema (),
                         attributes, SECRET_SEARCH_ALL,
                         g_task_get_cancellable (task),
                         clear_check_cb, g_object_ref (task));
}

static void
start_clear (GTask *task)
{
  SecretData *data = g_task_get_task_data (task);
  g_autoptr(GHashTable) attributes = build_attributes (data, FALSE);

  secret_service_clear (data->service, popcheck_secret_get_schema (),
                        attributes, g_task_get_cancellable (task),
                        clear_cb, g_object_ref (task));
}

/* Common start: bus, then service */

static void
service_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SecretData *data = g_task_get_task_data (task);
  GError *error = NULL;

  data->service = secret_service_get_finish (result, &error);
  if (data->service == NULL)
    {
      return_error (task, error);
      return;
    }

  switch (data->operation)
    {
    case OPERATION_STORE:
      start_store (task);
      break;
    case OPERATION_LOOKUP:
      start_lookup (task);
      break;
    case OPERATION_CLEAR:
      start_clear (task);
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
bus_cb (GObject      *object,
        GAsyncResult *result,
        gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GError) error = NULL;
  GCancellable *cancellable;

  bus = g_bus_get_finish (result, &error);
  if (bus == NULL)
    {
      if (g_task_return_error_if_cancelled (task))
        return;
      /* Without a session bus there can be no Secret Service; the reason
       * (no address, no socket, no X11 to autolaunch) helps only when
       * debugging. */
      g_debug ("No session bus: %s", error->message);
      g_task_return_error (task, no_service_error ());
      return;
    }

  /* SECRET_SERVICE_NONE: the collections are not loaded, so no item is
   * cached with a stale lock state; libsecret opens the transfer session
   * when a secret first crosses the bus. */
  cancellable = g_task_get_cancellable (task);
  secret_service_get (SECRET_SERVICE_NONE, cancellable,
                      service_cb, g_steal_pointer (&task));
}

static void
start (Operation            operation,
       const char          *account_id,
       PopcheckSecretKind   kind,
       const char          *host,
       guint16              port,
       const char          *user,
       const char          *password,
       GCancellable        *cancellable,
       GAsyncReadyCallback  callback,
       gpointer             user_data,
       gpointer             source_tag)
{
  g_autoptr(GTask) task = NULL;
  SecretData *data;

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);

  data = g_new0 (SecretData, 1);
  data->operation = operation;
  data->account_id = g_strdup (account_id);
  data->kind = kind;
  data->host = g_strdup (host);
  data->port = port;
  data->user = g_strdup (user);
  data->password = g_strdup (password);
  g_task_set_task_data (task, data, (GDestroyNotify) secret_data_free);

  g_bus_get (G_BUS_TYPE_SESSION, cancellable, bus_cb, g_steal_pointer (&task));
}

void
popcheck_secret_store_async (const char          *account_id,
                             PopcheckSecretKind   kind,
                             const char          *host,
                             guint16              port,
                             const char          *user,
                             const char          *password,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_return_if_fail (account_id != NULL);
  g_return_if_fail (host != NULL);
  g_return_if_fail (user != NULL);
  g_return_if_fail (password != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  start (OPERATION_STORE, account_id, kind, host, port, user, password,
         cancellable, callback, user_data, popcheck_secret_store_async);
}

gboolean
popcheck_secret_store_finish (GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        popcheck_secret_store_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
popcheck_secret_lookup_async (const char          *account_id,
                              PopcheckSecretKind   kind,
                              const char          *host,
                              guint16              port,
                              const char          *user,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_return_if_fail (account_id != NULL);
  g_return_if_fail (host != NULL);
  g_return_if_fail (user != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  start (OPERATION_LOOKUP, account_id, kind, host, port, user, NULL,
         cancellable, callback, user_data, popcheck_secret_lookup_async);
}

char *
popcheck_secret_lookup_finish (GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        popcheck_secret_lookup_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

void
popcheck_secret_clear_async (const char          *account_id,
                             const char          *host,
                             guint16              port,
                             const char          *user,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_return_if_fail (account_id != NULL);
  g_return_if_fail (host != NULL);
  g_return_if_fail (user != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  /* Every kind goes: the kind is left out of the attributes. */
  start (OPERATION_CLEAR, account_id, POPCHECK_SECRET_KIND_PASSWORD, host,
         port, user, NULL, cancellable, callback, user_data,
         popcheck_secret_clear_async);
}

gboolean
popcheck_secret_clear_finish (GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        popcheck_secret_clear_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
