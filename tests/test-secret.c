/* test-secret.c: passwords against a real gnome-keyring-daemon
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Run only by tests/keyring-harness, which sets POPCHECK_TEST_KEYRING to
 * what it set up on a private bus: "keyring" (a fresh, unlocked
 * gnome-keyring-daemon), "no-service" (a bus with no Secret Service) or
 * "no-bus" (no bus at all).  Without it the test refuses to run, so that
 * it never touches the keyring of the session it was started from.
 */

#define G_LOG_DOMAIN "popcheck-test-secret"

#include "config.h"

#include <string.h>
#include <gio/gio.h>
#include <libsecret/secret.h>

#include "popcheck-account.h"
#include "popcheck-account-list.h"
#include "popcheck-secret.h"
#include "popcheck-test-util.h"

/* Within the harness's minute, for a keyring daemon on a loaded machine. */
#define WAIT_TIMEOUT_MS 30000

#define HOST "pop.example.org"
/* The account the tests of the calls themselves store under. */
#define ACCOUNT "test-account"

static const char no_service_message[] =
  "No keyring service is running. PopCheck keeps passwords only in the "
  "system keyring (GNOME Keyring or another Secret Service).";
static const char locked_message[] =
  "The keyring is locked and was not unlocked.";
static const char not_found_message[] =
  "No password is stored for this account.";

/* Synchronous wrappers */

static void
store_result_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static GAsyncResult *
wait_for (GAsyncResult **result)
{
  POPCHECK_TEST_WAIT_UNTIL (*result != NULL, WAIT_TIMEOUT_MS);

  return *result;
}

static gboolean
store_kind (const char          *account,
            PopcheckSecretKind   kind,
            const char          *host,
            guint16              port,
            const char          *user,
            const char          *password,
            GError             **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  popcheck_secret_store_async (account, kind, host, port, user, password,
                               NULL, store_result_cb, &result);
  return popcheck_secret_store_finish (wait_for (&result), error);
}

static gboolean
store_for (const char    *account,
           const char    *host,
           guint16        port,
           const char    *user,
           const char    *password,
           GError       **error)
{
  return store_kind (account, POPCHECK_SECRET_KIND_PASSWORD, host, port,
                     user, password, error);
}

static gboolean
store (const char    *host,
       guint16        port,
       const char    *user,
       const char    *password,
       GError       **error)
{
  return store_for (ACCOUNT, host, port, user, password, error);
}

static char *
lookup_kind (const char          *account,
             PopcheckSecretKind   kind,
             const char          *host,
             guint16              port,
             const char          *user,
             GCancellable        *cancellable,
             GError             **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  popcheck_secret_lookup_async (account, kind, host, port, user, cancellable,
                                store_result_cb, &result);
  return popcheck_secret_lookup_finish (wait_for (&result), error);
}

static char *
lookup_cancellable (const char    *host,
                    guint16        port,
                    const char    *user,
                    GCancellable  *cancellable,
                    GError       **error)
{
  return lookup_kind (ACCOUNT, POPCHECK_SECRET_KIND_PASSWORD, host, port,
                      user, cancellable, error);
}

static char *
lookup (const char    *host,
        guint16        port,
        const char    *user,
        GError       **error)
{
  return lookup_cancellable (host, port, user, NULL, error);
}

static gboolean
clear_for (const char    *account,
           const char    *host,
           guint16        port,
           const char    *user,
           GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  popcheck_secret_clear_async (account, host, port, user, NULL,
                               store_result_cb, &result);
  return popcheck_secret_clear_finish (wait_for (&result), error);
}

static gboolean
clear (const char    *host,
       guint16        port,
       const char    *user,
       GError       **error)
{
  return clear_for (ACCOUNT, host, port, user, error);
}

static gboolean
remove_account (PopcheckAccountList  *list,
                PopcheckAccount      *account,
                GError              **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  popcheck_account_list_remove_async (list, account, NULL, store_result_cb,
                                      &result);
  return popcheck_account_list_remove_finish (list, wait_for (&result),
                                              error);
}

static void
assert_secret (const char         *account,
               PopcheckSecretKind  kind,
               const char         *host,
               guint16             port,
               const char         *user,
               const char         *expected)
{
  g_autoptr(GError) error = NULL;
  char *password = lookup_kind (account, kind, host, port, user, NULL,
                                &error);

  g_assert_no_error (error);
  g_assert_cmpstr (password, ==, expected);
  secret_password_free (password);
}

static void
assert_password_for (const char *account,
                     const char *host,
                     guint16     port,
                     const char *user,
                     const char *expected)
{
  assert_secret (account, POPCHECK_SECRET_KIND_PASSWORD, host, port, user,
                 expected);
}

static void
assert_password (const char *host,
                 guint16     port,
                 const char *user,
                 const char *expected)
{
  assert_password_for (ACCOUNT, host, port, user, expected);
}

static void
assert_no_password_for (const char *account,
                        const char *host,
                        guint16     port,
                        const char *user)
{
  g_autoptr(GError) error = NULL;
  char *password = lookup_kind (account, POPCHECK_SECRET_KIND_PASSWORD,
                                host, port, user, NULL, &error);

  g_assert_null (password);
  g_assert_error (error, POPCHECK_SECRET_ERROR,
                  POPCHECK_SECRET_ERROR_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, not_found_message);
}

static void
assert_no_password (const char *host,
                    guint16     port,
                    const char *user)
{
  assert_no_password_for (ACCOUNT, host, port, user);
}

/* The items the keyring holds for one account, looked up with libsecret
 * directly and without unlocking. */
static GList *
items_for (const char *host,
           guint16     port,
           const char *user)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SecretService) service = NULL;
  g_autoptr(GHashTable) attributes = NULL;
  GList *items;

  service = secret_service_get_sync (SECRET_SERVICE_NONE, NULL, &error);
  g_assert_no_error (error);
  attributes = secret_attributes_build (popcheck_secret_get_schema (),
                                        "host", host, "port", (int) port,
                                        "user", user, "protocol", "pop3",
                                        NULL);
  items = secret_service_search_sync (service, popcheck_secret_get_schema (),
                                      attributes, SECRET_SEARCH_ALL, NULL,
                                      &error);
  g_assert_no_error (error);

  return items;
}

static void
reset_accounts (void)
{
  g_autoptr(GSettings) settings = g_settings_new (POPCHECK_SETTINGS_SCHEMA_ID);

  g_settings_reset (settings, "accounts");
}

/* keyring: a fresh, unlocked gnome-keyring-daemon */

static void
test_round_trip (void)
{
  g_autoptr(GError) error = NULL;
  GList *items;
  g_autoptr(GHashTable) attributes = NULL;
  g_autofree char *label = NULL;

  assert_no_password (HOST, 995, "round");

  g_assert_true (store (HOST, 995, "round", "s3cret pässword\twith tab",
                        &error));
  g_assert_no_error (error);
  assert_password (HOST, 995, "round", "s3cret pässword\twith tab");

  /* One item, labelled for a person, with the schema's attributes. */
  items = items_for (HOST, 995, "round");
  g_assert_cmpuint (g_list_length (items), ==, 1);
  label = secret_item_get_label (items->data);
  g_assert_cmpstr (label, ==, "PopCheck password for round@" HOST);
  attributes = secret_item_get_attributes (items->data);
  g_assert_cmpstr (g_hash_table_lookup (attributes, "host"), ==, HOST);
  g_assert_cmpstr (g_hash_table_lookup (attributes, "port"), ==, "995");
  g_assert_cmpstr (g_hash_table_lookup (attributes, "user"), ==, "round");
  g_assert_cmpstr (g_hash_table_lookup (attributes, "protocol"), ==, "pop3");
  g_assert_cmpstr (g_hash_table_lookup (attributes, "xdg:schema"), ==,
                   "org.example.PopCheck.Account");
  g_list_free_full (items, g_object_unref);

  /* Storing again replaces the password rather than adding an item. */
  g_assert_true (store (HOST, 995, "round", "second", &error));
  g_assert_no_error (error);
  assert_password (HOST, 995, "round", "second");
  items = items_for (HOST, 995, "round");
  g_assert_cmpuint (g_list_length (items), ==, 1);
  g_list_free_full (items, g_object_unref);

  g_assert_true (clear (HOST, 995, "round", &error));
  g_assert_no_error (error);
  assert_no_password (HOST, 995, "round");
  g_assert_null (items_for (HOST, 995, "round"));

  /* Clearing what is not there is not an error. */
  g_assert_true (clear (HOST, 995, "round", &error));
  g_assert_no_error (error);
}

static void
test_separate (void)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (store (HOST, 995, "alice", "alice-pw", &error));
  g_assert_true (store (HOST, 995, "bob", "bob-pw", &error));
  g_assert_true (store (HOST, 110, "alice", "alice-110-pw", &error));
  g_assert_true (store ("pop.example.net", 995, "alice", "net-pw", &error));
  g_assert_no_error (error);

  assert_password (HOST, 995, "alice", "alice-pw");
  assert_password (HOST, 995, "bob", "bob-pw");
  assert_password (HOST, 110, "alice", "alice-110-pw");
  assert_password ("pop.example.net", 995, "alice", "net-pw");

  /* No partial match: a prefix of the user or host finds nothing. */
  assert_no_password (HOST, 995, "ali");
  assert_no_password ("pop.example", 995, "alice");

  g_assert_true (clear (HOST, 995, "alice", &error));
  g_assert_no_error (error);
  assert_no_password (HOST, 995, "alice");
  assert_password (HOST, 995, "bob", "bob-pw");
  assert_password (HOST, 110, "alice", "alice-110-pw");
  assert_password ("pop.example.net", 995, "alice", "net-pw");

  g_assert_true (clear (HOST, 995, "bob", &error));
  g_assert_true (clear (HOST, 110, "alice", &error));
  g_assert_true (clear ("pop.example.net", 995, "alice", &error));
  g_assert_no_error (error);
}

/* Issue 13: two accounts of the same mailbox keep their own passwords. */
static void
test_same_mailbox (void)
{
  g_autoptr(GError) error = NULL;
  GList *items;

  g_assert_true (store_for ("first", HOST, 995, "shared", "first-pw", &error));
  g_assert_true (store_for ("second", HOST, 995, "shared", "second-pw",
                            &error));
  g_assert_no_error (error);

  assert_password_for ("first", HOST, 995, "shared", "first-pw");
  assert_password_for ("second", HOST, 995, "shared", "second-pw");
  assert_no_password_for ("third", HOST, 995, "shared");

  items = items_for (HOST, 995, "shared");
  g_assert_cmpuint (g_list_length (items), ==, 2);
  g_list_free_full (items, g_object_unref);

  /* Clearing one leaves the other. */
  g_assert_true (clear_for ("first", HOST, 995, "shared", &error));
  g_assert_no_error (error);
  assert_no_password_for ("first", HOST, 995, "shared");
  assert_password_for ("second", HOST, 995, "shared", "second-pw");

  g_assert_true (clear_for ("second", HOST, 995, "shared", &error));
  g_assert_no_error (error);
  g_assert_null (items_for (HOST, 995, "shared"));
}

/* A password and a refresh token of one account are two items, told apart
 * by their "kind"; clearing the account removes both. */
static void
test_kinds (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) attributes = NULL;
  g_autofree char *label = NULL;
  GList *items;
  char *token;

  g_assert_true (store_kind ("kinds", POPCHECK_SECRET_KIND_OAUTH2_REFRESH_TOKEN,
                             HOST, 995, "kinder", "refresh-token", &error));
  g_assert_no_error (error);

  /* A refresh token is not a password, and says so in words. */
  assert_no_password_for ("kinds", HOST, 995, "kinder");
  assert_secret ("kinds", POPCHECK_SECRET_KIND_OAUTH2_REFRESH_TOKEN,
                 HOST, 995, "kinder", "refresh-token");
  token = lookup_kind ("other", POPCHECK_SECRET_KIND_OAUTH2_REFRESH_TOKEN,
                       HOST, 995, "kinder", NULL, &error);
  g_assert_null (token);
  g_assert_error (error, POPCHECK_SECRET_ERROR,
                  POPCHECK_SECRET_ERROR_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, "This account is not signed in.");
  g_clear_error (&error);

  items = items_for (HOST, 995, "kinder");
  g_assert_cmpuint (g_list_length (items), ==, 1);
  label = secret_item_get_label (items->data);
  g_assert_cmpstr (label, ==, "PopCheck sign-in for kinder@" HOST);
  attributes = secret_item_get_attributes (items->data);
  g_assert_cmpstr (g_hash_table_lookup (attributes, "account"), ==, "kinds");
  g_assert_cmpstr (g_hash_table_lookup (attributes, "kind"), ==,
                   "oauth2-refresh-token");
  g_list_free_full (items, g_object_unref);

  g_assert_true (store_for ("kinds", HOST, 995, "kinder", "a-password",
                            &error));
  g_assert_no_error (error);
  assert_password_for ("kinds", HOST, 995, "kinder", "a-password");
  assert_secret ("kinds", POPCHECK_SECRET_KIND_OAUTH2_REFRESH_TOKEN,
                 HOST, 995, "kinder", "refresh-token");

  g_assert_true (clear_for ("kinds", HOST, 995, "kinder", &error));
  g_assert_no_error (error);
  g_assert_null (items_for (HOST, 995, "kinder"));
}

/* An item as PopCheck stored it before items carried the account. */
static void
store_legacy (const char *user,
              const char *password)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (secret_password_store_sync (popcheck_secret_get_schema (),
                                             SECRET_COLLECTION_DEFAULT,
                                             "PopCheck password", password,
                                             NULL, &error,
                                             "host", HOST, "port", 995,
                                             "user", user, "protocol", "pop3",
                                             NULL));
  g_assert_no_error (error);
}

static void
test_legacy (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) attributes = NULL;
  GList *items;

  store_legacy ("old", "old-pw");

  /* Found for the account, and moved to it on that first lookup. */
  assert_password_for ("oldie", HOST, 995, "old", "old-pw");
  items = items_for (HOST, 995, "old");
  g_assert_cmpuint (g_list_length (items), ==, 1);
  attributes = secret_item_get_attributes (items->data);
  g_assert_cmpstr (g_hash_table_lookup (attributes, "account"), ==, "oldie");
  g_assert_cmpstr (g_hash_table_lookup (attributes, "kind"), ==, "password");
  g_assert_cmpstr (g_hash_table_lookup (attributes, "host"), ==, HOST);
  g_assert_cmpstr (g_hash_table_lookup (attributes, "user"), ==, "old");
  g_assert_cmpstr (g_hash_table_lookup (attributes, "xdg:schema"), ==,
                   "org.example.PopCheck.Account");
  g_list_free_full (items, g_object_unref);
  assert_password_for ("oldie", HOST, 995, "old", "old-pw");

  /* Now the account's own: another account of the mailbox does not find
   * it, and an account's own item is never taken for an older one. */
  assert_no_password_for ("newcomer", HOST, 995, "old");

  /* Older PopChecks stored no refresh tokens: none is found in it. */
  g_assert_null (lookup_kind ("oldie",
                              POPCHECK_SECRET_KIND_OAUTH2_REFRESH_TOKEN,
                              HOST, 995, "old", NULL, &error));
  g_assert_error (error, POPCHECK_SECRET_ERROR,
                  POPCHECK_SECRET_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* An older item is only ever found for its own server and user. */
  store_legacy ("old2", "old2-pw");
  assert_no_password_for ("oldie2", HOST, 110, "old2");
  assert_password_for ("oldie2", HOST, 995, "old2", "old2-pw");

  g_assert_true (clear_for ("oldie", HOST, 995, "old", &error));
  g_assert_true (clear_for ("oldie2", HOST, 995, "old2", &error));
  g_assert_no_error (error);
  g_assert_null (items_for (HOST, 995, "old"));
  g_assert_null (items_for (HOST, 995, "old2"));
}

static PopcheckAccount *
add_account (PopcheckAccountList *list,
             const char          *name,
             const char          *user,
             const char          *password)
{
  g_autoptr(GError) error = NULL;
  PopcheckAccount *account;

  account = popcheck_account_list_add (list, name, &error);
  g_assert_no_error (error);
  popcheck_account_set_host (account, HOST);
  popcheck_account_set_user (account, user);
  if (password != NULL)
    {
      g_assert_true (store_for (popcheck_account_get_id (account), HOST,
                                popcheck_account_get_port (account), user,
                                password, &error));
      g_assert_no_error (error);
    }

  return account;
}

static void
test_account_removal (void)
{
  g_autoptr(PopcheckAccountList) list = NULL;
  g_autoptr(GError) error = NULL;
  PopcheckAccount *work;
  PopcheckAccount *home;
  PopcheckAccount *work_again;
  g_autofree char *work_id = NULL;
  g_autofree char *home_id = NULL;
  g_autofree char *work_again_id = NULL;

  reset_accounts ();
  list = popcheck_account_list_new ();
  work = add_account (list, "Work", "worker", "work-pw");
  home = add_account (list, "Home", "homer", "home-pw");
  /* A second account for the same mailbox, with a password of its own. */
  work_again = add_account (list, "Work again", "worker", "work-again-pw");
  work_id = g_strdup (popcheck_account_get_id (work));
  home_id = g_strdup (popcheck_account_get_id (home));
  work_again_id = g_strdup (popcheck_account_get_id (work_again));

  g_assert_true (remove_account (list, home, &error));
  g_assert_no_error (error);
  assert_no_password_for (home_id, HOST, 995, "homer");
  assert_password_for (work_id, HOST, 995, "worker", "work-pw");

  g_assert_true (remove_account (list, work, &error));
  g_assert_no_error (error);
  assert_no_password_for (work_id, HOST, 995, "worker");
  assert_password_for (work_again_id, HOST, 995, "worker", "work-again-pw");

  g_assert_true (remove_account (list, work_again, &error));
  g_assert_no_error (error);
  assert_no_password_for (work_again_id, HOST, 995, "worker");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 0);
}

static void
assert_not_in_settings (GSettings  *settings,
                        const char *password)
{
  g_autoptr(GSettingsSchema) schema = NULL;
  g_auto(GStrv) keys = NULL;

  g_object_get (settings, "settings-schema", &schema, NULL);
  keys = g_settings_schema_list_keys (schema);
  g_assert_cmpuint (g_strv_length (keys), >, 0);
  for (guint i = 0; keys[i] != NULL; i++)
    {
      g_autoptr(GVariant) value = g_settings_get_value (settings, keys[i]);
      g_autofree char *text = g_variant_print (value, FALSE);

      g_assert_null (strstr (text, password));
    }
}

static void
test_not_in_settings (void)
{
  static const char password[] = "Un1que-Pa55word-Marker";
  g_autoptr(PopcheckAccountList) list = NULL;
  g_autoptr(GSettings) app_settings = NULL;
  g_autoptr(GError) error = NULL;
  PopcheckAccount *account;
  guint n;

  reset_accounts ();
  list = popcheck_account_list_new ();
  account = add_account (list, "Settings", "settler", password);
  popcheck_account_set_pinned_fingerprint (account, "AA:BB");
  assert_password_for (popcheck_account_get_id (account), HOST, 995,
                       "settler", password);

  /* Every key of both schemas, of every account: not one holds it. */
  app_settings = g_settings_new (POPCHECK_SETTINGS_SCHEMA_ID);
  assert_not_in_settings (app_settings, password);
  n = g_list_model_get_n_items (G_LIST_MODEL (list));
  g_assert_cmpuint (n, ==, 1);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(PopcheckAccount) item =
        g_list_model_get_item (G_LIST_MODEL (list), i);

      assert_not_in_settings (popcheck_account_get_settings (item), password);
    }

  g_assert_true (remove_account (list, account, &error));
  g_assert_no_error (error);
}

static void
test_not_in_settings_detects (void)
{
  /* assert_not_in_settings() must be able to fail, or the test above
   * proves nothing. */
  if (g_test_subprocess ())
    {
      g_autoptr(PopcheckAccountList) list = NULL;
      g_autoptr(GError) error = NULL;
      PopcheckAccount *account;

      reset_accounts ();
      list = popcheck_account_list_new ();
      account = popcheck_account_list_add (list, "Leaky", &error);
      g_assert_no_error (error);
      popcheck_account_set_display_name (account, "xx-Marker-xx");
      assert_not_in_settings (popcheck_account_get_settings (account),
                              "Marker");
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
}

static void
test_cancelled (void)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  char *password;

  g_cancellable_cancel (cancellable);
  password = lookup_cancellable (HOST, 995, "anyone", cancellable, &error);
  g_assert_null (password);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
test_locked (void)
{
  g_autoptr(SecretService) service = NULL;
  g_autoptr(SecretCollection) collection = NULL;
  g_autoptr(GError) error = NULL;
  GList *objects;
  GList *locked = NULL;
  GList *items;
  char *password;
  gint n;

  g_assert_true (store (HOST, 995, "locked", "locked-pw", &error));
  g_assert_no_error (error);
  assert_password (HOST, 995, "locked", "locked-pw");

  service = secret_service_get_sync (SECRET_SERVICE_NONE, NULL, &error);
  g_assert_no_error (error);
  collection = secret_collection_for_alias_sync (service,
                                                 SECRET_COLLECTION_DEFAULT,
                                                 SECRET_COLLECTION_NONE,
                                                 NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (collection);
  objects = g_list_append (NULL, collection);
  n = secret_service_lock_sync (service, objects, NULL, &locked, &error);
  g_list_free (objects);
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, 1);
  g_list_free_full (locked, g_object_unref);

  /* Unlocking needs a prompt.  gnome-keyring asks gcr's prompter for one
   * over D-Bus, and on the harness's bus nothing provides or activates
   * org.gnome.keyring.SystemPrompter: the keyring dismisses the prompt at
   * once, as if the user had pressed Cancel.  libsecret's own
   * secret_password_lookup() then answers "nothing stored"; PopCheck must
   * say the keyring is locked. */
  password = lookup (HOST, 995, "locked", &error);
  g_assert_null (password);
  g_assert_error (error, POPCHECK_SECRET_ERROR, POPCHECK_SECRET_ERROR_LOCKED);
  g_assert_cmpstr (error->message, ==, locked_message);
  g_clear_error (&error);

  /* A password that does not exist is still "not found", locked or not. */
  assert_no_password (HOST, 995, "nobody");

  g_assert_false (store (HOST, 995, "another", "another-pw", &error));
  g_assert_error (error, POPCHECK_SECRET_ERROR, POPCHECK_SECRET_ERROR_LOCKED);
  g_assert_cmpstr (error->message, ==, locked_message);
  g_clear_error (&error);

  g_assert_false (clear (HOST, 995, "locked", &error));
  g_assert_error (error, POPCHECK_SECRET_ERROR, POPCHECK_SECRET_ERROR_LOCKED);
  g_clear_error (&error);

  /* Nothing was lost: the item is still there, only locked. */
  items = items_for (HOST, 995, "locked");
  g_assert_cmpuint (g_list_length (items), ==, 1);
  g_list_free_full (items, g_object_unref);
}

/* no-service and no-bus: nothing to talk to */

static void
assert_no_service (const GError *error)
{
  g_assert_error (error, POPCHECK_SECRET_ERROR,
                  POPCHECK_SECRET_ERROR_NO_SERVICE);
  g_assert_cmpstr (error->message, ==, no_service_message);
}

static void
test_no_service (void)
{
  g_autoptr(GError) error = NULL;
  char *password;

  g_assert_false (store (HOST, 995, "me", "never-written", &error));
  assert_no_service (error);
  g_clear_error (&error);

  password = lookup (HOST, 995, "me", &error);
  g_assert_null (password);
  assert_no_service (error);
  g_clear_error (&error);

  g_assert_false (clear (HOST, 995, "me", &error));
  assert_no_service (error);
}

static void
test_no_service_account_removal (void)
{
  g_autoptr(PopcheckAccountList) list = NULL;
  g_autoptr(GError) error = NULL;
  PopcheckAccount *account;

  reset_accounts ();
  list = popcheck_account_list_new ();
  account = add_account (list, "Offline", "me", NULL);

  /* The account goes; the error says its password could not be. */
  g_assert_false (remove_account (list, account, &error));
  assert_no_service (error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  const char *mode = g_getenv ("POPCHECK_TEST_KEYRING");
  int status;

  g_test_init (&argc, &argv, NULL);

  if (g_strcmp0 (mode, "keyring") == 0)
    {
      g_test_add_func ("/secret/keyring/round-trip", test_round_trip);
      g_test_add_func ("/secret/keyring/separate", test_separate);
      g_test_add_func ("/secret/keyring/same-mailbox", test_same_mailbox);
      g_test_add_func ("/secret/keyring/kinds", test_kinds);
      g_test_add_func ("/secret/keyring/legacy", test_legacy);
      g_test_add_func ("/secret/keyring/account-removal",
                       test_account_removal);
      g_test_add_func ("/secret/keyring/not-in-settings",
                       test_not_in_settings);
      g_test_add_func ("/secret/keyring/not-in-settings-detects",
                       test_not_in_settings_detects);
      g_test_add_func ("/secret/keyring/cancelled", test_cancelled);
      g_test_add_func ("/secret/keyring/locked", test_locked);
    }
  else if (g_strcmp0 (mode, "no-service") == 0 ||
           g_strcmp0 (mode, "no-bus") == 0)
    {
      g_test_add_func ("/secret/no-service/calls", test_no_service);
      g_test_add_func ("/secret/no-service/account-removal",
                       test_no_service_account_removal);
    }
  else
    {
      g_printerr ("test-secret: run me with tests/keyring-harness, never "
                  "against the keyring of your own session\n");
      return 1;
    }

  status = g_test_run ();

  /* LeakSanitizer checks at exit: with no worker thread left. */
  popcheck_test_quiesce_threads ();

  return status;
}
