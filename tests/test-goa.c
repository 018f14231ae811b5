/* test-goa.c: accounts from GNOME Online Accounts
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Online Accounts is tests/goa-template.py under python3-dbusmock on
 * GTestDBus's private bus, seen through the real libgoa; the server is a
 * real Dovecot whose oauth2 passdb asks tests/oauth-provider.py about each
 * token, and the tokens the mock hands out are minted by that provider.
 */

#include "config.h"

#include <string.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "popcheck-account.h"
#include "popcheck-account-list.h"
#include "popcheck-checker.h"
#include "popcheck-checker-private.h"
#include "popcheck-goa-accounts.h"
#include "popcheck-mailbox.h"
#include "popcheck-message.h"
#include "popcheck-test-bus.h"
#include "popcheck-test-demo.h"
#include "popcheck-test-oauth-provider.h"
#include "popcheck-test-util.h"
#include "popcheck-token-source.h"

#define WAIT_MS 20000

#define GOA_NAME "org.gnome.OnlineAccounts"
#define GOA_PATH "/org/gnome/OnlineAccounts"
#define GOA_ACCOUNTS_PATH GOA_PATH "/Accounts/"

/* Dovecot takes the user the provider's introspection names. */
#define USER "goareader"
#define PRESENTATION "goareader@gmail.com"

/* For the whole run: one server, one provider, one Online Accounts. */
static PopcheckTestDemo *demo;
static PopcheckTestOAuthProvider provider;
static GDBusConnection *client;

typedef struct
{
  PopcheckGoaAccounts *online;
  PopcheckAccountList *accounts;
  PopcheckChecker     *checker;
  GPtrArray           *names;
  GPtrArray           *problems;
} Fixture;

/* Online Accounts, as the test drives it */

static void
goa_call (const char *method,
          GVariant   *parameters)
{
  popcheck_test_goa_call (client, method, parameters);
}

/* The mock emitted PropertiesChanged before it answered; a round trip on
 * libgoa's connection after that answer comes back after the signal, and
 * both are dispatched in this main context in that order. */
static void
goa_barrier (void)
{
  g_autoptr(GDBusConnection) session = g_bus_get_sync (G_BUS_TYPE_SESSION,
                                                       NULL, NULL);

  popcheck_test_bus_barrier (session);
}

static void
goa_add (Fixture    *fixture,
         const char *name,
         const char *provider_type)
{
  goa_call ("AddAccount", g_variant_new ("(ssss)", name, provider_type, USER,
                                         PRESENTATION));
  g_ptr_array_add (fixture->names, g_strdup (name));
}

static void
goa_remove (Fixture    *fixture,
            const char *name)
{
  guint index;

  goa_call ("RemoveAccount", g_variant_new ("(s)", name));
  g_assert_true (g_ptr_array_find_with_equal_func (fixture->names, name,
                                                   g_str_equal, &index));
  g_ptr_array_remove_index_fast (fixture->names, index);
}

static void
goa_set_tokens (const char         *name,
                const char * const *tokens)
{
  goa_call ("SetAccessTokens",
            g_variant_new ("(s^as)", name, tokens));
}

static guint
goa_n_calls (const char *name,
             const char *method)
{
  g_autofree char *path = g_strconcat (GOA_ACCOUNTS_PATH, name, NULL);
  g_autoptr(GPtrArray) calls = popcheck_test_mock_calls (client, GOA_NAME,
                                                         path, method);

  return calls->len;
}

/* A token the provider's /introspect accepts. */
static char *
mint_token (void)
{
  g_autofree char *uri = popcheck_test_oauth_provider_uri (&provider,
                                                           "/control");
  g_autoptr(PopcheckTestPage) page = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *object;

  page = popcheck_test_oauth_fetch (&provider, "POST", uri, "mint=1");
  g_assert_no_error (page->error);
  g_assert_cmpuint (page->status, ==, 200);
  json_parser_load_from_data (parser, page->body, -1, &error);
  g_assert_no_error (error);
  object = json_node_get_object (json_parser_get_root (parser));

  return g_strdup (json_object_get_string_member (object, "access_token"));
}

/* The fixture */

static void
problem_cb (PopcheckChecker *checker,
            PopcheckMailbox *mailbox,
            Fixture         *fixture)
{
  g_ptr_array_add (fixture->problems,
                   g_strdup (popcheck_mailbox_get_account_id (mailbox)));
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  fixture->names = g_ptr_array_new_with_free_func (g_free);
  fixture->problems = g_ptr_array_new_with_free_func (g_free);
  fixture->online = popcheck_goa_accounts_new ();
  fixture->accounts = popcheck_account_list_new ();
  popcheck_account_list_set_external (fixture->accounts,
                                      G_LIST_MODEL (fixture->online));
  fixture->checker = popcheck_checker_new (fixture->accounts);
  g_signal_connect (fixture->checker, "problem", G_CALLBACK (problem_cb),
                    fixture);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  while (fixture->names->len > 0)
    goa_remove (fixture, g_ptr_array_index (fixture->names, 0));

  /* The accounts go with Online Accounts' report: then nothing of this
   * test is left for the next one. */
  POPCHECK_TEST_WAIT_UNTIL (g_list_model_get_n_items (G_LIST_MODEL (fixture->online)) == 0,
                            WAIT_MS);
  popcheck_checker_stop (fixture->checker);
  g_signal_handlers_disconnect_by_data (fixture->checker, fixture);
  g_clear_object (&fixture->checker);
  g_clear_object (&fixture->accounts);
  g_clear_object (&fixture->online);
  g_clear_pointer (&fixture->names, g_ptr_array_unref);
  g_clear_pointer (&fixture->problems, g_ptr_array_unref);
}

static PopcheckAccount *
lookup (Fixture    *fixture,
        const char *name)
{
  g_autofree char *id = g_strconcat ("goa_", name, NULL);

  return popcheck_account_list_lookup (fixture->accounts, id);
}

static PopcheckAccount *
wait_listed (Fixture    *fixture,
             const char *name)
{
  POPCHECK_TEST_WAIT_UNTIL (lookup (fixture, name) != NULL, WAIT_MS);
  return lookup (fixture, name);
}

/* Turns the switch on and points the account at the test's Dovecot
 * instead of pop.gmail.com: its keys are in memory, as the tests'
 * provider endpoints are settings. */
static PopcheckAccount *
wait_listed_for_dovecot (Fixture    *fixture,
                         const char *name)
{
  PopcheckAccount *account = wait_listed (fixture, name);

  popcheck_account_set_host (account, demo->host);
  popcheck_account_set_port (account, demo->pop3s_port);
  popcheck_account_set_pinned_fingerprint (account, demo->fingerprint);
  popcheck_account_set_enabled (account, TRUE);

  return account;
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
check (Fixture     *fixture,
       const char  *name,
       GError     **error)
{
  g_autofree char *id = g_strconcat ("goa_", name, NULL);
  g_autoptr(GAsyncResult) result = NULL;

  popcheck_checker_check_async (fixture->checker, id, NULL, store_result_cb,
                                &result);
  POPCHECK_TEST_WAIT_UNTIL (result != NULL, WAIT_MS);
  return popcheck_checker_check_finish (fixture->checker, result, error);
}

static PopcheckMailbox *
mailbox_of (Fixture    *fixture,
            const char *name)
{
  g_autofree char *id = g_strconcat ("goa_", name, NULL);

  return popcheck_checker_get_mailbox (fixture->checker, id);
}

/* Tests */

static void
test_provider_table (void)
{
  const PopcheckGoaProvider *google = popcheck_goa_lookup_provider ("google");

  g_assert_nonnull (google);
  g_assert_cmpstr (google->host, ==, "pop.gmail.com");
  g_assert_cmpuint (google->port, ==, 995);
  g_assert_cmpint (google->security, ==, POP3_SECURITY_TLS);
  g_assert_cmpint (google->auth_method, ==, POP3_AUTH_XOAUTH2);

  g_assert_null (popcheck_goa_lookup_provider ("exchange"));
  g_assert_null (popcheck_goa_lookup_provider ("imap_smtp"));
  g_assert_null (popcheck_goa_lookup_provider ("ms_graph"));
  g_assert_null (popcheck_goa_lookup_provider (NULL));
}

static void
test_listed_and_checked (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(GSettings) settings = g_settings_new (POPCHECK_SETTINGS_SCHEMA_ID);
  g_autofree char *token = mint_token ();
  g_auto(GStrv) stored = NULL;
  g_auto(GStrv) checked = NULL;
  g_autoptr(PopcheckMessage) message = NULL;
  g_autoptr(GError) error = NULL;
  PopcheckAccount *account;
  PopcheckMailbox *mailbox;

  goa_add (fixture, "listed", "google");
  goa_set_tokens ("listed", (const char *[]) { token, NULL });
  account = wait_listed (fixture, "listed");

  g_assert_true (popcheck_account_is_external (account));
  g_assert_cmpstr (popcheck_account_get_display_name (account), ==, PRESENTATION);
  g_assert_cmpstr (popcheck_account_get_user (account), ==, USER);
  g_assert_cmpstr (popcheck_account_get_host (account), ==, "pop.gmail.com");
  g_assert_cmpuint (popcheck_account_get_port (account), ==, 995);
  g_assert_cmpint (popcheck_account_get_auth_method (account), ==,
                   POP3_AUTH_XOAUTH2);
  /* Off until the user turns it on, and never in PopCheck's own list. */
  g_assert_false (popcheck_account_get_enabled (account));
  stored = g_settings_get_strv (settings, "accounts");
  g_assert_cmpuint (g_strv_length (stored), ==, 0);

  mailbox = mailbox_of (fixture, "listed");
  g_assert_nonnull (mailbox);

  popcheck_test_demo_deliver (demo, USER, "<goa-1@example.org>",
                              "Hello from Online Accounts");
  wait_listed_for_dovecot (fixture, "listed");
  checked = g_settings_get_strv (settings, "online-accounts");
  g_assert_cmpstrv (checked, ((const char *[]) { "listed", NULL }));

  g_assert_true (check (fixture, "listed", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, 1);
  message = g_list_model_get_item (G_LIST_MODEL (mailbox), 0);
  g_assert_cmpstr (popcheck_message_get_subject (message), ==,
                   "Hello from Online Accounts");
  g_assert_cmpuint (goa_n_calls ("listed", "GetAccessToken"), ==, 1);
  g_assert_cmpuint (goa_n_calls ("listed", "EnsureCredentials"), ==, 0);

  /* The switch off: out of the key again. */
  popcheck_account_set_enabled (account, FALSE);
  g_clear_pointer (&checked, g_strfreev);
  checked = g_settings_get_strv (settings, "online-accounts");
  g_assert_cmpuint (g_strv_length (checked), ==, 0);
}

static void
test_mail_disabled (Fixture       *fixture,
                    gconstpointer  data)
{
  goa_add (fixture, "disabled", "google");
  wait_listed (fixture, "disabled");
  g_assert_nonnull (mailbox_of (fixture, "disabled"));

  goa_call ("SetMailDisabled", g_variant_new ("(sb)", "disabled", TRUE));
  POPCHECK_TEST_WAIT_UNTIL (lookup (fixture, "disabled") == NULL, WAIT_MS);
  g_assert_null (mailbox_of (fixture, "disabled"));

  goa_call ("SetMailDisabled", g_variant_new ("(sb)", "disabled", FALSE));
  wait_listed (fixture, "disabled");
  g_assert_nonnull (mailbox_of (fixture, "disabled"));
}

static void
test_removed (Fixture       *fixture,
              gconstpointer  data)
{
  g_autofree char *token = mint_token ();
  g_autoptr(GError) error = NULL;
  GListModel *mailboxes = popcheck_checker_get_mailboxes (fixture->checker);

  goa_add (fixture, "removed", "google");
  goa_set_tokens ("removed", (const char *[]) { token, NULL });
  popcheck_test_demo_deliver (demo, USER, "<goa-2@example.org>",
                              "Soon gone");
  wait_listed_for_dovecot (fixture, "removed");
  g_assert_true (check (fixture, "removed", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox_of (fixture, "removed")),
                    >, 0);
  g_assert_cmpuint (g_list_model_get_n_items (mailboxes), ==, 1);

  goa_remove (fixture, "removed");
  POPCHECK_TEST_WAIT_UNTIL (lookup (fixture, "removed") == NULL, WAIT_MS);
  /* Its mailbox, and with it its messages, leave the window. */
  g_assert_null (mailbox_of (fixture, "removed"));
  g_assert_cmpuint (g_list_model_get_n_items (mailboxes), ==, 0);
}

static void
test_token_refused_then_renewed (Fixture       *fixture,
                                 gconstpointer  data)
{
  g_autofree char *token = mint_token ();
  g_autoptr(GError) error = NULL;

  goa_add (fixture, "renewed", "google");
  /* The first token is one the provider never issued. */
  goa_set_tokens ("renewed", (const char *[]) { "at-expired", token, NULL });
  wait_listed_for_dovecot (fixture, "renewed");

  g_assert_true (check (fixture, "renewed", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (goa_n_calls ("renewed", "GetAccessToken"), ==, 2);
  g_assert_cmpuint (goa_n_calls ("renewed", "EnsureCredentials"), ==, 1);
  g_assert_cmpint (popcheck_mailbox_get_problem (mailbox_of (fixture, "renewed")),
                   ==, POPCHECK_PROBLEM_NONE);
}

static void
test_token_still_refused (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  PopcheckMailbox *mailbox;

  goa_add (fixture, "refused", "google");
  goa_set_tokens ("refused", (const char *[]) { "at-revoked", NULL });
  wait_listed_for_dovecot (fixture, "refused");

  g_assert_false (check (fixture, "refused", &error));
  g_assert_nonnull (error);
  /* One renewal and one more token, no more. */
  g_assert_cmpuint (goa_n_calls ("refused", "GetAccessToken"), ==, 2);
  g_assert_cmpuint (goa_n_calls ("refused", "EnsureCredentials"), ==, 1);

  mailbox = mailbox_of (fixture, "refused");
  g_assert_cmpint (popcheck_mailbox_get_problem (mailbox), ==,
                   POPCHECK_PROBLEM_SIGN_IN);
  g_assert_cmpstr (popcheck_mailbox_get_error_message (mailbox), ==,
                   "The server refused the sign-in from Online Accounts. "
                   "Sign in again in Settings → Online Accounts.");
  g_assert_cmpuint (fixture->problems->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (fixture->problems, 0), ==, "goa_refused");
}

/* A token with a line break would end the SASL line and let the rest be
 * read as a command: it never reaches the server. */
static void
test_token_with_line_break (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  PopcheckMailbox *mailbox;

  goa_add (fixture, "crlf", "google");
  goa_set_tokens ("crlf", (const char *[]) { "at-x\r\nDELE 1", NULL });
  wait_listed_for_dovecot (fixture, "crlf");

  g_assert_false (check (fixture, "crlf", &error));
  g_assert_error (error, POPCHECK_TOKEN_SOURCE_ERROR,
                  POPCHECK_TOKEN_SOURCE_ERROR_FAILED);
  mailbox = mailbox_of (fixture, "crlf");
  g_assert_cmpstr (popcheck_mailbox_get_error_message (mailbox), ==,
                   "Online Accounts gave an access token that cannot be "
                   "sent to the server.");
  g_assert_cmpint (popcheck_mailbox_get_problem (mailbox), ==,
                   POPCHECK_PROBLEM_TEMPORARY);
}

static void
test_attention_needed (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autofree char *token = mint_token ();
  g_autoptr(GError) error = NULL;
  PopcheckAccount *account;
  PopcheckMailbox *mailbox;

  goa_add (fixture, "attention", "google");
  goa_set_tokens ("attention", (const char *[]) { token, NULL });
  account = wait_listed_for_dovecot (fixture, "attention");
  goa_call ("SetAttentionNeeded", g_variant_new ("(sb)", "attention", TRUE));
  goa_barrier ();
  g_assert_false (check (fixture, "attention", NULL));
  g_assert_nonnull (account);

  mailbox = mailbox_of (fixture, "attention");
  g_assert_cmpint (popcheck_mailbox_get_problem (mailbox), ==,
                   POPCHECK_PROBLEM_SIGN_IN);
  g_assert_cmpstr (popcheck_mailbox_get_error_message (mailbox), ==,
                   "Online Accounts needs you to sign in to this account "
                   "again. Open Settings → Online Accounts.");
  g_assert_cmpuint (goa_n_calls ("attention", "GetAccessToken"), ==, 0);

  goa_call ("SetAttentionNeeded", g_variant_new ("(sb)", "attention", FALSE));
  goa_barrier ();
  g_assert_true (check (fixture, "attention", &error));
  g_assert_no_error (error);
  g_assert_cmpint (popcheck_mailbox_get_problem (mailbox), ==,
                   POPCHECK_PROBLEM_NONE);
}

static void
count_checks_cb (PopcheckMailbox *mailbox,
                 GParamSpec      *pspec,
                 guint           *n_checks)
{
  if (popcheck_mailbox_get_state (mailbox) == POPCHECK_MAILBOX_STATE_CHECKING)
    (*n_checks)++;
}

/* While PopCheck runs: Online Accounts asks for a new sign-in, and the
 * account says so at once, without a check; the user signs in again in
 * Settings, and the account is checked at once, without being asked. */
static void
test_attention_needed_live (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autofree char *token = mint_token ();
  PopcheckMailbox *mailbox;
  guint n_checks = 0;

  goa_add (fixture, "live", "google");
  goa_set_tokens ("live", (const char *[]) { token, NULL });
  wait_listed_for_dovecot (fixture, "live");
  mailbox = mailbox_of (fixture, "live");
  g_signal_connect (mailbox, "notify::state", G_CALLBACK (count_checks_cb),
                    &n_checks);

  popcheck_checker_start (fixture->checker);
  POPCHECK_TEST_WAIT_UNTIL (popcheck_mailbox_get_first_check_done (mailbox) &&
                            popcheck_mailbox_get_state (mailbox) ==
                              POPCHECK_MAILBOX_STATE_IDLE,
                            WAIT_MS);
  g_assert_cmpuint (n_checks, ==, 1);
  g_assert_cmpuint (goa_n_calls ("live", "GetAccessToken"), ==, 1);

  goa_call ("SetAttentionNeeded", g_variant_new ("(sb)", "live", TRUE));
  POPCHECK_TEST_WAIT_UNTIL (popcheck_mailbox_get_problem (mailbox) ==
                              POPCHECK_PROBLEM_SIGN_IN,
                            WAIT_MS);
  g_assert_cmpint (popcheck_mailbox_get_state (mailbox), ==,
                   POPCHECK_MAILBOX_STATE_ERROR);
  g_assert_cmpstr (popcheck_mailbox_get_error_message (mailbox), ==,
                   "Online Accounts needs you to sign in to this account "
                   "again. Open Settings → Online Accounts.");
  /* Without a check, and none waits on a timer: the user acts next. */
  g_assert_cmpuint (n_checks, ==, 1);
  g_assert_cmpuint (goa_n_calls ("live", "GetAccessToken"), ==, 1);
  g_assert_cmpuint (popcheck_checker_get_next_delay (fixture->checker,
                                                     "goa_live"), ==, 0);
  /* Told once (the notification). */
  g_assert_cmpuint (fixture->problems->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (fixture->problems, 0), ==, "goa_live");

  goa_call ("SetAttentionNeeded", g_variant_new ("(sb)", "live", FALSE));
  POPCHECK_TEST_WAIT_UNTIL (n_checks == 2 &&
                            popcheck_mailbox_get_state (mailbox) ==
                              POPCHECK_MAILBOX_STATE_IDLE,
                            WAIT_MS);
  g_assert_cmpint (popcheck_mailbox_get_problem (mailbox), ==,
                   POPCHECK_PROBLEM_NONE);
  g_assert_null (popcheck_mailbox_get_error_message (mailbox));
  g_assert_cmpuint (goa_n_calls ("live", "GetAccessToken"), ==, 2);
  g_assert_cmpuint (fixture->problems->len, ==, 1);

  g_signal_handlers_disconnect_by_data (mailbox, &n_checks);
}

static void
test_other_provider (Fixture       *fixture,
                     gconstpointer  data)
{
  goa_add (fixture, "exchange", "exchange");
  goa_add (fixture, "imapsmtp", "imap_smtp");
  /* Reported after the two others: once it is listed, they were seen. */
  goa_add (fixture, "google", "google");
  wait_listed (fixture, "google");

  g_assert_null (lookup (fixture, "exchange"));
  g_assert_null (lookup (fixture, "imapsmtp"));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (fixture->accounts)),
                    ==, 1);
}

static void
test_open_settings (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autofree char *bin = g_dir_make_tmp ("popcheck-goa-bin-XXXXXX", NULL);
  g_autofree char *contents = NULL;
  g_autofree char *old_path = g_strdup (g_getenv ("PATH"));
  g_autoptr(PopcheckAccount) own = popcheck_account_new ("own");
  g_autoptr(GError) error = NULL;
  PopcheckAccount *account;

  goa_add (fixture, "settings", "google");
  account = wait_listed (fixture, "settings");

  /* Without Settings, it says so. */
  g_assert_nonnull (bin);
  g_setenv ("PATH", bin, TRUE);
  g_assert_false (popcheck_goa_open_settings (account, &error));
  g_assert_error (error, POPCHECK_GOA_ERROR, POPCHECK_GOA_ERROR_NO_SETTINGS);
  g_assert_cmpstr (error->message, ==,
                   "Settings is not installed, so Online Accounts cannot be "
                   "opened. Install GNOME Settings (gnome-control-center).");
  g_clear_error (&error);

  /* With it: its Online Accounts panel at this account. */
  popcheck_test_fake_settings_write (bin);
  g_assert_true (popcheck_goa_open_settings (account, &error));
  g_assert_no_error (error);
  g_setenv ("PATH", old_path, TRUE);
  contents = popcheck_test_fake_settings_wait (bin);
  g_assert_cmpstr (contents, ==, "online-accounts settings\n");

  /* An account of PopCheck's own is not Online Accounts'. */
  g_assert_false (popcheck_goa_open_settings (own, &error));
  g_assert_error (error, POPCHECK_GOA_ERROR, POPCHECK_GOA_ERROR_NOT_ONLINE);

  popcheck_test_fake_settings_remove (bin);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GTestDBus) bus = NULL;
  g_autofree char *introspect = NULL;
  static const char *xdg_homes[] = { "XDG_STATE_HOME", "XDG_CACHE_HOME",
                                     "XDG_DATA_HOME", "XDG_CONFIG_HOME" };
  g_autofree char *home = NULL;
  GSubprocess *goa;
  int status;

  g_setenv ("LANGUAGE", "C", TRUE);
  /* The mailboxes' saved state goes to a directory of the run's own (not
   * G_TEST_OPTION_ISOLATE_DIRS: it hides the system's settings schemas,
   * which libsoup's proxy lookup needs). */
  home = g_dir_make_tmp ("popcheck-goa-XXXXXX", NULL);
  g_assert_nonnull (home);
  for (guint i = 0; i < G_N_ELEMENTS (xdg_homes); i++)
    {
      g_autofree char *dir = g_build_filename (home, xdg_homes[i], NULL);

      g_setenv (xdg_homes[i], dir, TRUE);
    }
  g_test_init (&argc, &argv, NULL);

  bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_test_dbus_up (bus);
  client = popcheck_test_connect ();
  goa = popcheck_test_goa_start (client);

  popcheck_test_oauth_provider_start (&provider, "popcheck-goa-test");
  introspect = popcheck_test_oauth_provider_uri (&provider, "/introspect");
  demo = popcheck_test_demo_start_oauth2 (introspect);
  popcheck_test_demo_add_user (demo, USER, "unused-password", TRUE);
  {
    g_autofree char *uri = popcheck_test_oauth_provider_uri (&provider,
                                                             "/control");
    g_autoptr(PopcheckTestPage) page =
      popcheck_test_oauth_fetch (&provider, "POST", uri, "email=" USER);

    g_assert_cmpuint (page->status, ==, 200);
  }

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  g_test_add_func ("/goa/provider-table", test_provider_table);
  ADD ("/goa/listed-and-checked", test_listed_and_checked);
  ADD ("/goa/mail-disabled", test_mail_disabled);
  ADD ("/goa/removed", test_removed);
  ADD ("/goa/token/refused-then-renewed", test_token_refused_then_renewed);
  ADD ("/goa/token/still-refused", test_token_still_refused);
  ADD ("/goa/token/line-break", test_token_with_line_break);
  ADD ("/goa/attention-needed", test_attention_needed);
  ADD ("/goa/attention-needed-live", test_attention_needed_live);
  ADD ("/goa/other-provider", test_other_provider);
  ADD ("/goa/open-settings", test_open_settings);

#undef ADD

  status = g_test_run ();

  popcheck_test_demo_stop (demo);
  popcheck_test_oauth_provider_stop (&provider);
  g_subprocess_send_signal (goa, SIGTERM);
  g_subprocess_wait (goa, NULL, NULL);
  g_object_unref (goa);
  g_clear_object (&client);
  g_test_dbus_down (bus);

  if (g_getenv ("POPCHECK_KEEP_TEST_DIRS") == NULL)
    {
      g_autofree char *command = g_strdup_printf ("rm -rf '%s'", home);

      g_spawn_command_line_sync (command, NULL, NULL, NULL, NULL);
    }

  return status;
}
