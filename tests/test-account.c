/* test-account.c: accounts in GSettings and the account list model
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Runs with GSETTINGS_BACKEND=memory and the schemas of the build tree.
 * No account here has both a host and a user when it is removed, so no
 * test reaches a keyring; test-secret.c covers that under its harness.
 */

#define G_LOG_DOMAIN "popcheck-test-account"

#include "config.h"

#include <string.h>
#include <gio/gio.h>

#include "popcheck-account.h"
#include "popcheck-account-list.h"
#include "popcheck-secret.h"
#include "popcheck-test-util.h"

typedef struct
{
  GSettings           *app_settings;
  PopcheckAccountList *list;
  /* What the model says, rebuilt only from "items-changed": if a signal
   * is not exact, the mirror and the model part ways. */
  GPtrArray           *mirror;
  guint                n_changes;
  guint                last_position;
  guint                last_removed;
  guint                last_added;
} Fixture;

static void
items_changed_cb (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  Fixture    *fixture)
{
  g_assert_cmpuint (position + removed, <=, fixture->mirror->len);

  g_ptr_array_remove_range (fixture->mirror, position, removed);
  for (guint i = 0; i < added; i++)
    g_ptr_array_insert (fixture->mirror, position + i,
                        g_list_model_get_item (model, position + i));

  fixture->n_changes++;
  fixture->last_position = position;
  fixture->last_removed = removed;
  fixture->last_added = added;
}

static void
assert_mirror (Fixture *fixture)
{
  GListModel *model = G_LIST_MODEL (fixture->list);

  g_assert_cmpuint (g_list_model_get_n_items (model), ==,
                    fixture->mirror->len);
  for (guint i = 0; i < fixture->mirror->len; i++)
    {
      g_autoptr(PopcheckAccount) account = g_list_model_get_item (model, i);

      g_assert_true (account == g_ptr_array_index (fixture->mirror, i));
    }
}

static void
assert_ids (Fixture    *fixture,
            const char *expected)
{
  GListModel *model = G_LIST_MODEL (fixture->list);
  g_autoptr(GString) ids = g_string_new (NULL);

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(PopcheckAccount) account = g_list_model_get_item (model, i);

      if (i > 0)
        g_string_append_c (ids, ' ');
      g_string_append (ids, popcheck_account_get_id (account));
    }
  g_assert_cmpstr (ids->str, ==, expected);
  assert_mirror (fixture);
}

static void
set_accounts_key (Fixture    *fixture,
                  const char *ids)
{
  g_auto(GStrv) strv = g_strsplit (ids, " ", -1);

  /* A GSettings of its own, as another process (gsettings set) would
   * write it. */
  g_settings_set_strv (fixture->app_settings, "accounts",
                       *ids ? (const char * const *) strv : NULL);
}

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  fixture->app_settings = g_settings_new (POPCHECK_SETTINGS_SCHEMA_ID);
  g_settings_reset (fixture->app_settings, "accounts");

  fixture->list = popcheck_account_list_new ();
  fixture->mirror = g_ptr_array_new_with_free_func (g_object_unref);
  g_signal_connect (fixture->list, "items-changed",
                    G_CALLBACK (items_changed_cb), fixture);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  g_signal_handlers_disconnect_by_data (fixture->list, fixture);
  g_assert_finalize_object (fixture->list);
  g_clear_pointer (&fixture->mirror, g_ptr_array_unref);
  g_settings_reset (fixture->app_settings, "accounts");
  g_clear_object (&fixture->app_settings);
}

static void
store_result_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static gboolean
remove_account (PopcheckAccountList  *list,
                PopcheckAccount      *account,
                GError              **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  popcheck_account_list_remove_async (list, account, NULL, store_result_cb,
                                      &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);

  return popcheck_account_list_remove_finish (list, result, error);
}

static GSettings *
account_settings (const char *id)
{
  g_autofree char *path = g_strconcat (POPCHECK_ACCOUNT_PATH_PREFIX, id, "/",
                                       NULL);

  return g_settings_new_with_path (POPCHECK_ACCOUNT_SCHEMA_ID, path);
}

static void
assert_setting_string (GSettings  *settings,
                       const char *key,
                       const char *expected)
{
  g_autofree char *value = g_settings_get_string (settings, key);

  g_assert_cmpstr (value, ==, expected);
}

/* Tests */

static void
test_schema_defaults (void)
{
  g_autoptr(GSettings) settings = g_settings_new (POPCHECK_SETTINGS_SCHEMA_ID);
  g_auto(GStrv) accounts = g_settings_get_strv (settings, "accounts");

  g_assert_cmpuint (g_strv_length (accounts), ==, 0);
  g_assert_true (g_settings_get_boolean (settings, "run-in-background"));
  g_assert_false (g_settings_get_boolean (settings, "start-at-login"));
  g_assert_true (g_settings_get_boolean (settings, "notify-new-mail"));
  g_assert_true (g_settings_get_boolean (settings, "notify-errors"));
}

static void
test_account_defaults (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  PopcheckAccount *account;
  g_autofree char *security = NULL;
  g_autofree char *auth = NULL;
  guint port;

  account = popcheck_account_list_add (fixture->list, "Work", &error);
  g_assert_no_error (error);
  g_assert_nonnull (account);

  g_assert_cmpstr (popcheck_account_get_id (account), ==, "work");
  g_assert_cmpstr (popcheck_account_get_display_name (account), ==, "Work");
  g_assert_cmpstr (popcheck_account_get_host (account), ==, "");
  g_assert_cmpstr (popcheck_account_get_user (account), ==, "");
  g_assert_cmpuint (popcheck_account_get_port (account), ==, 995);
  g_assert_cmpint (popcheck_account_get_security (account), ==,
                   POP3_SECURITY_TLS);
  g_assert_cmpint (popcheck_account_get_auth_method (account), ==,
                   POP3_AUTH_AUTO);
  g_assert_true (popcheck_account_get_enabled (account));
  g_assert_cmpuint (popcheck_account_get_check_interval (account), ==, 5);
  g_assert_true (popcheck_account_get_notify (account));
  g_assert_true (popcheck_account_get_sound (account));
  g_assert_cmpuint (popcheck_account_get_preview_lines (account), ==, 20);
  g_assert_null (popcheck_account_get_pinned_fingerprint (account));

  /* The properties say the same, under the keys' names. */
  g_object_get (account, "security", &security, "auth-method", &auth,
                "port", &port, NULL);
  g_assert_cmpstr (security, ==, "tls");
  g_assert_cmpstr (auth, ==, "auto");
  g_assert_cmpuint (port, ==, 995);

  /* An account with neither host nor user is not ready to check. */
  g_assert_false (popcheck_account_validate (account, &error));
  g_assert_error (error, POPCHECK_ACCOUNT_ERROR,
                  POPCHECK_ACCOUNT_ERROR_INVALID_HOST);
}

static void
test_ids (Fixture       *fixture,
          gconstpointer  data)
{
  struct {
    const char *name;
    const char *id;
  } cases[] = {
    { "Work Mail", "work-mail" },
    { "work mail", "work-mail-2" },
    { "  Work -- Mail!  ", "work-mail-3" },
    { "Ünïcödé Böx", "unicode-box" },
    { "日本語", "account" },
    { "?", "account-2" },
    { "A very long account name that goes on and on", "a-very-long-account-name-that-go" },
    { "home_2024", "home-2024" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      PopcheckAccount *account;

      account = popcheck_account_list_add (fixture->list, cases[i].name,
                                           &error);
      g_assert_no_error (error);
      g_assert_cmpstr (popcheck_account_get_id (account), ==, cases[i].id);
      g_assert_true (popcheck_account_id_is_valid (cases[i].id));
    }

  /* The display name is kept as typed, without the outer blanks. */
  g_assert_cmpstr (popcheck_account_get_display_name (
                     popcheck_account_list_lookup (fixture->list,
                                                   "work-mail-3")),
                   ==, "Work -- Mail!");
  g_assert_cmpstr (popcheck_account_get_display_name (
                     popcheck_account_list_lookup (fixture->list, "account")),
                   ==, "日本語");

  g_assert_false (popcheck_account_id_is_valid (""));
  g_assert_false (popcheck_account_id_is_valid ("a b"));
  g_assert_false (popcheck_account_id_is_valid ("a/b"));
  g_assert_false (popcheck_account_id_is_valid (".."));
  g_assert_false (popcheck_account_id_is_valid (NULL));
}

static void
test_add_invalid_name (Fixture       *fixture,
                       gconstpointer  data)
{
  const char *names[] = { "", "   ", "\t\n" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_null (popcheck_account_list_add (fixture->list, names[i],
                                                &error));
      g_assert_error (error, POPCHECK_ACCOUNT_ERROR,
                      POPCHECK_ACCOUNT_ERROR_INVALID_NAME);
      g_assert_cmpstr (error->message, ==, "Enter a name for the account.");
    }

  g_assert_cmpuint (fixture->n_changes, ==, 0);
  assert_ids (fixture, "");
}

static void
test_add_remove_list (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSettings) settings = NULL;
  g_auto(GStrv) key = NULL;
  PopcheckAccount *home;
  PopcheckAccount *work;
  PopcheckAccount *other;

  home = popcheck_account_list_add (fixture->list, "Home", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (fixture->n_changes, ==, 1);
  g_assert_cmpuint (fixture->last_position, ==, 0);
  g_assert_cmpuint (fixture->last_removed, ==, 0);
  g_assert_cmpuint (fixture->last_added, ==, 1);

  work = popcheck_account_list_add (fixture->list, "Work", &error);
  other = popcheck_account_list_add (fixture->list, "Other", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (fixture->n_changes, ==, 3);
  g_assert_cmpuint (fixture->last_position, ==, 2);
  assert_ids (fixture, "home work other");

  key = g_settings_get_strv (fixture->app_settings, "accounts");
  g_assert_cmpstrv (key, ((const char * const[]) { "home", "work", "other",
                                                   NULL }));

  g_assert_true (popcheck_account_list_lookup (fixture->list, "work") == work);
  g_assert_true (popcheck_account_list_lookup (fixture->list, "home") == home);
  g_assert_null (popcheck_account_list_lookup (fixture->list, "nobody"));

  /* Removing resets the account's settings path. */
  popcheck_account_set_host (work, "pop.example.org");
  popcheck_account_set_port (work, 110);
  popcheck_account_set_security (work, POP3_SECURITY_STARTTLS);
  g_object_ref (work);
  g_assert_true (remove_account (fixture->list, work, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (fixture->n_changes, ==, 4);
  g_assert_cmpuint (fixture->last_position, ==, 1);
  g_assert_cmpuint (fixture->last_removed, ==, 1);
  g_assert_cmpuint (fixture->last_added, ==, 0);
  assert_ids (fixture, "home other");
  g_clear_pointer (&key, g_strfreev);
  key = g_settings_get_strv (fixture->app_settings, "accounts");
  g_assert_cmpstrv (key, ((const char * const[]) { "home", "other", NULL }));

  settings = account_settings ("work");
  g_assert_null (g_settings_get_user_value (settings, "host"));
  g_assert_null (g_settings_get_user_value (settings, "port"));
  g_assert_null (g_settings_get_user_value (settings, "security"));
  g_assert_null (g_settings_get_user_value (settings, "display-name"));
  g_assert_finalize_object (work);

  /* Removing what is not (or no longer) in the list is an error. */
  {
    g_autoptr(PopcheckAccount) stranger = popcheck_account_new ("stranger");

    g_assert_false (remove_account (fixture->list, stranger, &error));
    g_assert_error (error, POPCHECK_ACCOUNT_ERROR,
                    POPCHECK_ACCOUNT_ERROR_NOT_FOUND);
    g_clear_error (&error);
    assert_ids (fixture, "home other");
  }

  /* The id of a removed account can be given again, with fresh keys. */
  work = popcheck_account_list_add (fixture->list, "Work", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (popcheck_account_get_id (work), ==, "work");
  g_assert_cmpstr (popcheck_account_get_host (work), ==, "");
  g_assert_cmpuint (popcheck_account_get_port (work), ==, 995);
  assert_ids (fixture, "home other work");

  g_assert_true (remove_account (fixture->list, home, &error));
  g_assert_true (remove_account (fixture->list, other, &error));
  g_assert_true (remove_account (fixture->list, work, &error));
  g_assert_no_error (error);
  assert_ids (fixture, "");
}

static void
test_add_resets_stale_path (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autoptr(GSettings) stale = account_settings ("mail");
  g_autoptr(GError) error = NULL;
  PopcheckAccount *account;

  /* Left behind by someone else: it must not leak into a new account. */
  g_settings_set_string (stale, "host", "old.example.org");
  g_settings_set_string (stale, "pinned-fingerprint", "AB:CD");
  g_settings_set_boolean (stale, "enabled", FALSE);

  account = popcheck_account_list_add (fixture->list, "Mail", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (popcheck_account_get_id (account), ==, "mail");
  g_assert_cmpstr (popcheck_account_get_host (account), ==, "");
  g_assert_null (popcheck_account_get_pinned_fingerprint (account));
  g_assert_true (popcheck_account_get_enabled (account));
  assert_setting_string (stale, "host", "");
}

static void
test_outside_change (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(GSettings) settings = NULL;
  PopcheckAccount *a, *b, *c;

  set_accounts_key (fixture, "a b c");
  g_assert_cmpuint (fixture->n_changes, ==, 1);
  g_assert_cmpuint (fixture->last_position, ==, 0);
  g_assert_cmpuint (fixture->last_removed, ==, 0);
  g_assert_cmpuint (fixture->last_added, ==, 3);
  assert_ids (fixture, "a b c");
  a = popcheck_account_list_lookup (fixture->list, "a");
  b = popcheck_account_list_lookup (fixture->list, "b");
  c = popcheck_account_list_lookup (fixture->list, "c");

  /* Writing the same list again changes nothing. */
  set_accounts_key (fixture, "a b c");
  g_assert_cmpuint (fixture->n_changes, ==, 1);

  set_accounts_key (fixture, "a c");
  g_assert_cmpuint (fixture->n_changes, ==, 2);
  g_assert_cmpuint (fixture->last_position, ==, 1);
  g_assert_cmpuint (fixture->last_removed, ==, 1);
  g_assert_cmpuint (fixture->last_added, ==, 0);
  assert_ids (fixture, "a c");
  /* Accounts that stay keep their objects. */
  g_assert_true (popcheck_account_list_lookup (fixture->list, "a") == a);
  g_assert_true (popcheck_account_list_lookup (fixture->list, "c") == c);

  set_accounts_key (fixture, "a d c");
  g_assert_cmpuint (fixture->last_position, ==, 1);
  g_assert_cmpuint (fixture->last_removed, ==, 0);
  g_assert_cmpuint (fixture->last_added, ==, 1);
  assert_ids (fixture, "a d c");

  set_accounts_key (fixture, "c a d");
  assert_ids (fixture, "c a d");
  g_assert_true (popcheck_account_list_lookup (fixture->list, "a") == a);

  set_accounts_key (fixture, "c a d e");
  g_assert_cmpuint (fixture->last_position, ==, 3);
  g_assert_cmpuint (fixture->last_removed, ==, 0);
  g_assert_cmpuint (fixture->last_added, ==, 1);
  assert_ids (fixture, "c a d e");

  /* An id that cannot be a settings path is left out, loudly; a repeated
   * id appears once. */
  g_test_expect_message ("popcheck-account-list", G_LOG_LEVEL_WARNING,
                         "*Ignoring the account id \"bad/id\"*");
  {
    const char *ids[] = { "c", "bad/id", "a", "c", "d", NULL };

    g_settings_set_strv (fixture->app_settings, "accounts", ids);
  }
  g_test_assert_expected_messages ();
  assert_ids (fixture, "c a d");

  set_accounts_key (fixture, "");
  g_assert_cmpuint (fixture->last_position, ==, 0);
  g_assert_cmpuint (fixture->last_removed, ==, 3);
  g_assert_cmpuint (fixture->last_added, ==, 0);
  assert_ids (fixture, "");

  /* Adding after outside changes does not reuse an id still in the key,
   * even one the model left out. */
  {
    const char *ids[] = { "work", "Work", NULL };
    g_autoptr(GError) error = NULL;
    PopcheckAccount *account;

    g_settings_set_strv (fixture->app_settings, "accounts", ids);
    account = popcheck_account_list_add (fixture->list, "Work", &error);
    g_assert_no_error (error);
    g_assert_cmpstr (popcheck_account_get_id (account), ==, "work-2");
    assert_ids (fixture, "work Work work-2");
  }

  (void) b;
}

static void
notify_count_cb (GObject    *object,
                 GParamSpec *pspec,
                 guint      *count)
{
  (*count)++;
}

static void
test_outside_key_change (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSettings) outside = NULL;
  PopcheckAccount *account;
  guint host_notifies = 0;
  guint port_notifies = 0;
  guint security_notifies = 0;
  guint all_notifies = 0;

  account = popcheck_account_list_add (fixture->list, "Box", &error);
  g_assert_no_error (error);
  g_signal_connect (account, "notify::host",
                    G_CALLBACK (notify_count_cb), &host_notifies);
  g_signal_connect (account, "notify::port",
                    G_CALLBACK (notify_count_cb), &port_notifies);
  g_signal_connect (account, "notify::security",
                    G_CALLBACK (notify_count_cb), &security_notifies);
  g_signal_connect (account, "notify",
                    G_CALLBACK (notify_count_cb), &all_notifies);

  outside = account_settings ("box");
  g_settings_set_string (outside, "host", "pop.example.net");
  g_assert_cmpuint (host_notifies, ==, 1);
  g_assert_cmpstr (popcheck_account_get_host (account), ==,
                   "pop.example.net");

  g_settings_set (outside, "port", "q", (guint16) 110);
  g_assert_cmpuint (port_notifies, ==, 1);
  g_assert_cmpuint (popcheck_account_get_port (account), ==, 110);

  g_settings_set_string (outside, "security", "starttls");
  g_assert_cmpuint (security_notifies, ==, 1);
  g_assert_cmpint (popcheck_account_get_security (account), ==,
                   POP3_SECURITY_STARTTLS);

  g_settings_set_string (outside, "auth-method", "cram-md5");
  g_assert_cmpint (popcheck_account_get_auth_method (account), ==,
                   POP3_AUTH_CRAM_MD5);
  g_settings_set_uint (outside, "check-interval", 1440);
  g_assert_cmpuint (popcheck_account_get_check_interval (account), ==, 1440);
  g_settings_set_uint (outside, "preview-lines", 0);
  g_assert_cmpuint (popcheck_account_get_preview_lines (account), ==, 0);
  g_settings_set_boolean (outside, "enabled", FALSE);
  g_assert_false (popcheck_account_get_enabled (account));
  g_settings_set_boolean (outside, "notify", FALSE);
  g_assert_false (popcheck_account_get_notify (account));
  g_settings_set_string (outside, "pinned-fingerprint", "AA:BB");
  g_assert_cmpstr (popcheck_account_get_pinned_fingerprint (account), ==,
                   "AA:BB");
  g_settings_set_string (outside, "display-name", "Box Two");
  g_assert_cmpstr (popcheck_account_get_display_name (account), ==,
                   "Box Two");
  g_settings_set_string (outside, "user", "me@example.net");
  g_assert_cmpstr (popcheck_account_get_user (account), ==, "me@example.net");
  g_assert_cmpuint (all_notifies, ==, 11);

  /* The sound, both ways. */
  g_settings_set_boolean (outside, "sound", FALSE);
  g_assert_false (popcheck_account_get_sound (account));
  g_assert_cmpuint (all_notifies, ==, 12);
  popcheck_account_set_sound (account, TRUE);
  g_assert_true (g_settings_get_boolean (outside, "sound"));

  /* Writing what is already there notifies nobody. */
  g_settings_set_string (outside, "host", "pop.example.net");
  g_assert_cmpuint (host_notifies, ==, 1);

  /* The setters write through, and notify once. */
  popcheck_account_set_host (account, "mail.example.com");
  g_assert_cmpuint (host_notifies, ==, 2);
  assert_setting_string (outside, "host", "mail.example.com");
  popcheck_account_set_host (account, "mail.example.com");
  g_assert_cmpuint (host_notifies, ==, 2);

  popcheck_account_set_port (account, 995);
  g_assert_cmpuint (port_notifies, ==, 2);
  {
    guint16 port;

    g_settings_get (outside, "port", "q", &port);
    g_assert_cmpuint (port, ==, 995);
  }

  popcheck_account_set_security (account, POP3_SECURITY_NONE);
  assert_setting_string (outside, "security", "none");
  popcheck_account_set_auth_method (account, POP3_AUTH_APOP);
  assert_setting_string (outside, "auth-method", "apop");
  g_object_set (account, "security", "tls", "auth-method", "login",
                "check-interval", 7, NULL);
  g_assert_cmpint (popcheck_account_get_security (account), ==,
                   POP3_SECURITY_TLS);
  g_assert_cmpint (popcheck_account_get_auth_method (account), ==,
                   POP3_AUTH_LOGIN);
  g_assert_cmpuint (g_settings_get_uint (outside, "check-interval"), ==, 7);
  popcheck_account_set_pinned_fingerprint (account, NULL);
  assert_setting_string (outside, "pinned-fingerprint", "");

  g_signal_handlers_disconnect_by_data (account, &host_notifies);
  g_signal_handlers_disconnect_by_data (account, &port_notifies);
  g_signal_handlers_disconnect_by_data (account, &security_notifies);
  g_signal_handlers_disconnect_by_data (account, &all_notifies);
}

static void
test_validation (void)
{
  const char *bad_hosts[] = { "", "pop example.org", "pop.example.org\r\n",
                              "pop\nexample", "pop\texample", "a\x7f" };
  const char *bad_users[] = { "", "me you", "me\r\nDELE 1", "me\n",
                              "\tme" };
  guint bad_ports[] = { 0, 65536, 100000 };
  g_autofree char *long_host = g_strnfill (256, 'a');

  for (guint i = 0; i < G_N_ELEMENTS (bad_hosts); i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_false (popcheck_account_validate_host (bad_hosts[i], &error));
      g_assert_error (error, POPCHECK_ACCOUNT_ERROR,
                      POPCHECK_ACCOUNT_ERROR_INVALID_HOST);
      g_assert_cmpuint (strlen (error->message), >, 10);
    }
  {
    g_autoptr(GError) error = NULL;

    g_assert_false (popcheck_account_validate_host (long_host, &error));
    g_assert_error (error, POPCHECK_ACCOUNT_ERROR,
                    POPCHECK_ACCOUNT_ERROR_INVALID_HOST);
  }
  for (guint i = 0; i < G_N_ELEMENTS (bad_users); i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_false (popcheck_account_validate_user (bad_users[i], &error));
      g_assert_error (error, POPCHECK_ACCOUNT_ERROR,
                      POPCHECK_ACCOUNT_ERROR_INVALID_USER);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad_ports); i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_false (popcheck_account_validate_port (bad_ports[i], &error));
      g_assert_error (error, POPCHECK_ACCOUNT_ERROR,
                      POPCHECK_ACCOUNT_ERROR_INVALID_PORT);
      g_assert_cmpstr (error->message, ==,
                       "The port must be a number from 1 to 65535.");
    }

  g_assert_true (popcheck_account_validate_host ("pop.example.org", NULL));
  g_assert_true (popcheck_account_validate_host ("[::1]", NULL));
  g_assert_true (popcheck_account_validate_user ("me@example.org", NULL));
  g_assert_true (popcheck_account_validate_user ("jürgen", NULL));
  g_assert_true (popcheck_account_validate_port (1, NULL));
  g_assert_true (popcheck_account_validate_port (65535, NULL));
}

static void
test_validate_account (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSettings) outside = NULL;
  PopcheckAccount *account;

  account = popcheck_account_list_add (fixture->list, "Checked", &error);
  g_assert_no_error (error);
  popcheck_account_set_host (account, "pop.example.org");
  g_assert_false (popcheck_account_validate (account, &error));
  g_assert_error (error, POPCHECK_ACCOUNT_ERROR,
                  POPCHECK_ACCOUNT_ERROR_INVALID_USER);
  g_clear_error (&error);

  popcheck_account_set_user (account, "me");
  g_assert_true (popcheck_account_validate (account, &error));
  g_assert_no_error (error);

  /* gsettings can write what the setters refuse; the account tells. */
  outside = account_settings ("checked");
  g_settings_set_string (outside, "user", "me\r\nDELE 1");
  g_assert_false (popcheck_account_validate (account, &error));
  g_assert_error (error, POPCHECK_ACCOUNT_ERROR,
                  POPCHECK_ACCOUNT_ERROR_INVALID_USER);
  g_clear_error (&error);

  /* The setters refuse, and leave the value alone. */
  popcheck_account_set_host (account, "good.example.org");
  g_test_expect_message ("popcheck-account", G_LOG_LEVEL_CRITICAL,
                         "*validate_host*");
  popcheck_account_set_host (account, "bad host");
  g_test_assert_expected_messages ();
  g_assert_cmpstr (popcheck_account_get_host (account), ==,
                   "good.example.org");

  g_test_expect_message ("popcheck-account", G_LOG_LEVEL_CRITICAL,
                         "*validate_user*");
  popcheck_account_set_user (account, "a\nb");
  g_test_assert_expected_messages ();

  g_test_expect_message ("popcheck-account", G_LOG_LEVEL_CRITICAL,
                         "*validate_port*");
  popcheck_account_set_port (account, 0);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (popcheck_account_get_port (account), ==, 995);

  g_test_expect_message ("popcheck-account", G_LOG_LEVEL_CRITICAL,
                         "*minutes >= 1*");
  popcheck_account_set_check_interval (account, 0);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (popcheck_account_get_check_interval (account), ==, 5);

  g_test_expect_message ("popcheck-account", G_LOG_LEVEL_CRITICAL,
                         "*Unknown connection security*");
  g_object_set (account, "security", "ssl", NULL);
  g_test_assert_expected_messages ();
  g_assert_cmpint (popcheck_account_get_security (account), ==,
                   POP3_SECURITY_TLS);
}

static void
test_lookup (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  PopcheckAccount *work;
  PopcheckAccount *home;

  work = popcheck_account_list_add (fixture->list, "Work Mail", &error);
  home = popcheck_account_list_add (fixture->list, "Home", &error);
  g_assert_no_error (error);

  g_assert_true (popcheck_account_list_lookup_by_display_name (
                   fixture->list, "Work Mail") == work);
  g_assert_true (popcheck_account_list_lookup_by_display_name (
                   fixture->list, "work mail") == work);
  g_assert_true (popcheck_account_list_lookup_by_display_name (
                   fixture->list, "HOME") == home);
  g_assert_null (popcheck_account_list_lookup_by_display_name (
                   fixture->list, "Work"));

  g_assert_true (popcheck_account_list_find (fixture->list, "work-mail",
                                             &error) == work);
  g_assert_true (popcheck_account_list_find (fixture->list, "Home",
                                             &error) == home);
  g_assert_no_error (error);
  g_assert_null (popcheck_account_list_find (fixture->list, "Office",
                                             &error));
  g_assert_error (error, POPCHECK_ACCOUNT_ERROR,
                  POPCHECK_ACCOUNT_ERROR_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, "There is no account “Office”.");
}

static void
test_shared_mailbox_keeps_secret (Fixture       *fixture,
                                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  PopcheckAccount *one;
  PopcheckAccount *two;

  /* Two accounts for one mailbox: removing the first must not reach for
   * the shared password (there is no keyring here, so reaching for it
   * would fail with POPCHECK_SECRET_ERROR). */
  one = popcheck_account_list_add (fixture->list, "One", &error);
  two = popcheck_account_list_add (fixture->list, "Two", &error);
  g_assert_no_error (error);
  popcheck_account_set_host (one, "pop.example.org");
  popcheck_account_set_user (one, "shared");
  popcheck_account_set_host (two, "pop.example.org");
  popcheck_account_set_user (two, "shared");

  g_assert_true (remove_account (fixture->list, one, &error));
  g_assert_no_error (error);
  assert_ids (fixture, "two");

  /* The last one does reach for it, and there is no bus to find it on. */
  g_assert_false (remove_account (fixture->list, two, &error));
  g_assert_error (error, POPCHECK_SECRET_ERROR,
                  POPCHECK_SECRET_ERROR_NO_SERVICE);
  assert_ids (fixture, "");
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);

  /* Whatever session this runs in, removing an account must not reach a
   * real keyring from a unit test. */
  g_setenv ("DBUS_SESSION_BUS_ADDRESS", "disabled:", TRUE);

  g_test_add_func ("/account/schema-defaults", test_schema_defaults);
  g_test_add_func ("/account/validation", test_validation);
  g_test_add ("/account/defaults", Fixture, NULL,
              fixture_setup, test_account_defaults, fixture_teardown);
  g_test_add ("/account/ids", Fixture, NULL,
              fixture_setup, test_ids, fixture_teardown);
  g_test_add ("/account/add-invalid-name", Fixture, NULL,
              fixture_setup, test_add_invalid_name, fixture_teardown);
  g_test_add ("/account/add-remove-list", Fixture, NULL,
              fixture_setup, test_add_remove_list, fixture_teardown);
  g_test_add ("/account/add-resets-stale-path", Fixture, NULL,
              fixture_setup, test_add_resets_stale_path, fixture_teardown);
  g_test_add ("/account/outside-change", Fixture, NULL,
              fixture_setup, test_outside_change, fixture_teardown);
  g_test_add ("/account/outside-key-change", Fixture, NULL,
              fixture_setup, test_outside_key_change, fixture_teardown);
  g_test_add ("/account/validate-account", Fixture, NULL,
              fixture_setup, test_validate_account, fixture_teardown);
  g_test_add ("/account/lookup", Fixture, NULL,
              fixture_setup, test_lookup, fixture_teardown);
  g_test_add ("/account/shared-mailbox-keeps-secret", Fixture, NULL,
              fixture_setup, test_shared_mailbox_keeps_secret,
              fixture_teardown);

  status = g_test_run ();

  /* LeakSanitizer checks at exit: with no worker thread left. */
  popcheck_test_quiesce_threads ();

  return status;
}
