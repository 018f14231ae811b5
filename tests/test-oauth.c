/* test-oauth.c: the OAuth2 client against a local provider
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * tests/oauth-provider.py runs on loopback; the test plays the browser:
 * the client's URI launcher hands it the address PopCheck "opened", the
 * test fetches it from the provider and follows the redirect to the
 * client's listener itself.  No network is needed.
 */

#define G_LOG_DOMAIN "popcheck-test-oauth"

#include "config.h"

#include <string.h>
#include <gio/gio.h>
#include <libsoup/soup.h>

#include "popcheck-oauth.h"
#include "popcheck-test-oauth-provider.h"
#include "popcheck-test-util.h"

#define WAIT_MS 20000
#define WAIT_UNTIL(expr) POPCHECK_TEST_WAIT_UNTIL (expr, WAIT_MS)

#define CLIENT_ID "popcheck-test-client"

/* Everything logged, at every level, to look for tokens in. */
static GString *logged;

static GLogWriterOutput
log_writer (GLogLevelFlags   log_level,
            const GLogField *fields,
            gsize            n_fields,
            gpointer         user_data)
{
  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_strcmp0 (fields[i].key, "MESSAGE") == 0)
        {
          g_string_append_len (logged, fields[i].value, fields[i].length);
          g_string_append_c (logged, '\n');
        }
    }

  /* GLib writes debug and info to stdout, where TAP wants only its own
   * lines; they are enabled for the search above, not to be read. */
  if ((log_level & (G_LOG_LEVEL_DEBUG | G_LOG_LEVEL_INFO)) != 0)
    return G_LOG_WRITER_HANDLED;

  return g_log_writer_default (log_level, fields, n_fields, user_data);
}

typedef struct
{
  PopcheckTestOAuthProvider local;
  PopcheckOAuthProvider *provider;
  PopcheckOAuthClient   *client;
  GAsyncResult          *result;
} Fixture;

static void
result_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static char *
provider_uri (Fixture    *fixture,
              const char *path)
{
  return popcheck_test_oauth_provider_uri (&fixture->local, path);
}

/* The browser: one GET or POST, no redirect followed. */
static PopcheckTestPage *
fetch (Fixture    *fixture,
       const char *method,
       const char *uri,
       const char *form)
{
  return popcheck_test_oauth_fetch (&fixture->local, method, uri, form);
}

static void
control (Fixture    *fixture,
         const char *form)
{
  g_autofree char *uri = provider_uri (fixture, "/control");
  g_autoptr(PopcheckTestPage) page = fetch (fixture, "POST", uri, form);

  g_assert_no_error (page->error);
  g_assert_cmpuint (page->status, ==, 200);
}

static char *
query_value (const char *uri,
             const char *name)
{
  g_autoptr(GUri) parsed = g_uri_parse (uri, G_URI_FLAGS_NONE, NULL);
  g_autoptr(GHashTable) params = NULL;

  g_assert_nonnull (parsed);
  params = g_uri_parse_params (g_uri_get_query (parsed), -1, "&",
                               G_URI_PARAMS_NONE, NULL);
  g_assert_nonnull (params);

  return g_strdup (g_hash_table_lookup (params, name));
}

static guint16
redirect_port (Fixture *fixture)
{
  g_autofree char *redirect = query_value (fixture->local.opened_uri,
                                           "redirect_uri");
  g_autoptr(GUri) parsed = g_uri_parse (redirect, G_URI_FLAGS_NONE, NULL);

  g_assert_nonnull (parsed);
  g_assert_cmpstr (g_uri_get_host (parsed), ==, "127.0.0.1");
  return g_uri_get_port (parsed);
}

/* Nothing listens on the port any more. */
static void
assert_closed (guint16 port)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;

  g_socket_client_connect_to_host_async (client, "127.0.0.1", port, NULL,
                                         result_cb, &result);
  WAIT_UNTIL (result != NULL);
  connection = g_socket_client_connect_to_host_finish (client, result,
                                                       &error);
  g_assert_null (connection);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
}

static void
start_sign_in (Fixture *fixture)
{
  g_clear_object (&fixture->result);
  g_clear_pointer (&fixture->local.opened_uri, g_free);
  popcheck_oauth_client_sign_in_async (fixture->client, "user@example.org",
                                       NULL, result_cb, &fixture->result);
  WAIT_UNTIL (fixture->local.opened_uri != NULL || fixture->result != NULL);
  g_assert_null (fixture->result);
}

/* The provider's page, then its redirect to PopCheck's listener. */
static PopcheckTestPage *
browse (Fixture *fixture)
{
  g_autoptr(PopcheckTestPage) authorize = fetch (fixture, "GET", fixture->local.opened_uri,
                                     NULL);

  g_assert_no_error (authorize->error);
  g_assert_cmpuint (authorize->status, ==, 302);
  g_assert_nonnull (authorize->location);

  return fetch (fixture, "GET", authorize->location, NULL);
}

static PopcheckOAuthToken *
sign_in_finish (Fixture  *fixture,
                GError  **error)
{
  WAIT_UNTIL (fixture->result != NULL);
  return popcheck_oauth_client_sign_in_finish (fixture->client,
                                               fixture->result, error);
}

static PopcheckOAuthToken *
refresh (Fixture     *fixture,
         const char  *refresh_token,
         GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  popcheck_oauth_client_refresh_async (fixture->client, refresh_token, NULL,
                                       result_cb, &result);
  WAIT_UNTIL (result != NULL);
  return popcheck_oauth_client_refresh_finish (fixture->client, result,
                                               error);
}

static void
assert_sign_in_fails (Fixture    *fixture,
                      int         code,
                      const char *message)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PopcheckOAuthToken) token = sign_in_finish (fixture, &error);

  g_assert_null (token);
  g_assert_error (error, POPCHECK_OAUTH_ERROR, code);
  g_assert_cmpstr (error->message, ==, message);
}

/* A whole sign-in whose token request the provider answers as the mode
 * says. */
static void
sign_in_with_token_mode (Fixture    *fixture,
                         const char *mode)
{
  g_autofree char *form = g_strdup_printf ("token=%s", mode);
  g_autoptr(PopcheckTestPage) page = NULL;

  control (fixture, form);
  start_sign_in (fixture);
  page = browse (fixture);
  g_assert_cmpuint (page->status, ==, 200);
}

/* Fixture */

static PopcheckOAuthProvider *
local_provider (Fixture    *fixture,
                const char *client_id)
{
  g_autofree char *authorize = provider_uri (fixture, "/authorize");
  g_autofree char *token = provider_uri (fixture, "/token");

  return popcheck_oauth_provider_new ("local", "Local", authorize, token,
                                      "pop offline", client_id, "127.0.0.1",
                                      995);
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  popcheck_test_oauth_provider_start (&fixture->local, CLIENT_ID);
  fixture->provider = local_provider (fixture, CLIENT_ID);
  fixture->client = popcheck_oauth_client_new (fixture->provider);
  popcheck_oauth_client_set_uri_launcher (fixture->client,
                                          popcheck_test_oauth_provider_open_uri,
                                          &fixture->local, NULL);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_clear_object (&fixture->client);
  g_clear_object (&fixture->provider);
  g_clear_object (&fixture->result);
  popcheck_test_oauth_provider_stop (&fixture->local);

  /* Let the client's last sources (a closed listener, a cancelled
   * request) run before the next test. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* Tests */

static void
test_good_path (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(PopcheckTestPage) page = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PopcheckOAuthToken) token = NULL;
  g_autoptr(PopcheckOAuthToken) refreshed = NULL;
  g_autofree char *challenge = NULL;
  g_autofree char *method = NULL;
  g_autofree char *state = NULL;
  g_autofree char *hint = NULL;
  g_autofree char *client_id = NULL;
  guint16 port;

  start_sign_in (fixture);
  g_assert_true (g_str_has_prefix (fixture->local.opened_uri,
                                   "http://127.0.0.1:"));
  client_id = query_value (fixture->local.opened_uri, "client_id");
  method = query_value (fixture->local.opened_uri, "code_challenge_method");
  challenge = query_value (fixture->local.opened_uri, "code_challenge");
  state = query_value (fixture->local.opened_uri, "state");
  hint = query_value (fixture->local.opened_uri, "login_hint");
  g_assert_cmpstr (client_id, ==, CLIENT_ID);
  g_assert_cmpstr (method, ==, "S256");
  g_assert_cmpuint (strlen (challenge), ==, 43);
  g_assert_cmpuint (strlen (state), >=, 16);
  g_assert_cmpstr (hint, ==, "user@example.org");
  port = redirect_port (fixture);

  page = browse (fixture);
  g_assert_no_error (page->error);
  g_assert_cmpuint (page->status, ==, 200);
  g_assert_nonnull (strstr (page->body, "PopCheck is signed in. You can "
                                        "close this page and go back to "
                                        "PopCheck."));

  token = sign_in_finish (fixture, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (token->access_token, "at-"));
  g_assert_true (g_str_has_prefix (token->refresh_token, "rt-"));
  g_assert_false (popcheck_oauth_token_expires_within (token, 60));
  g_assert_true (popcheck_oauth_token_expires_within (token, 7200));
  assert_closed (port);

  /* A refresh: a new access token, the same refresh token (the provider
   * sends none back). */
  refreshed = refresh (fixture, token->refresh_token, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (refreshed->access_token, "at-"));
  g_assert_cmpstr (refreshed->access_token, !=, token->access_token);
  g_assert_cmpstr (refreshed->refresh_token, ==, token->refresh_token);

  /* With every debug message on, no token was logged. */
  g_assert_cmpuint (logged->len, >, 0);
  g_assert_null (strstr (logged->str, token->access_token));
  g_assert_null (strstr (logged->str, token->refresh_token));
  g_assert_null (strstr (logged->str, refreshed->access_token));
}

/* The provider sends the browser back as @mode says: the page the
 * browser shows, then the error, and the listener is closed. */
static void
assert_redirect_fails (Fixture    *fixture,
                       const char *mode,
                       guint       status,
                       const char *page_text,
                       int         code,
                       const char *message)
{
  g_autofree char *form = g_strdup_printf ("authorize=%s", mode);
  g_autoptr(PopcheckTestPage) page = NULL;
  guint16 port;

  control (fixture, form);
  start_sign_in (fixture);
  port = redirect_port (fixture);
  page = browse (fixture);
  g_assert_cmpuint (page->status, ==, status);
  g_assert_nonnull (strstr (page->body, page_text));
  assert_sign_in_fails (fixture, code, message);
  assert_closed (port);
}

static void
test_state_mismatch (Fixture       *fixture,
                     gconstpointer  data)
{
  assert_redirect_fails (fixture, "bad-state", 400,
                         "This sign-in does not match the one PopCheck "
                         "started.",
                         POPCHECK_OAUTH_ERROR_BAD_REPLY,
                         "The answer from the browser does not match the "
                         "sign-in PopCheck started. Sign in again.");
}

static void
test_access_denied (Fixture       *fixture,
                    gconstpointer  data)
{
  assert_redirect_fails (fixture, "deny", 200, "PopCheck was not signed in.",
                         POPCHECK_OAUTH_ERROR_ACCESS_DENIED,
                         "Access to the mailbox was not allowed.");
}

/* A redirect to another path is not the answer (a browser asks for
 * /favicon.ico too): it is refused and the sign-in goes on waiting. */
static void
test_other_path (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(PopcheckTestPage) page = NULL;
  g_autoptr(PopcheckTestPage) again = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PopcheckOAuthToken) token = NULL;

  control (fixture, "authorize=other-path");
  start_sign_in (fixture);
  page = browse (fixture);
  g_assert_no_error (page->error);
  g_assert_cmpuint (page->status, ==, 404);
  g_assert_null (fixture->result);

  control (fixture, "authorize=ok");
  again = browse (fixture);
  g_assert_cmpuint (again->status, ==, 200);
  token = sign_in_finish (fixture, &error);
  g_assert_no_error (error);
  g_assert_nonnull (token);
}

/* A code sent back a second time (replayed into a later sign-in) is
 * refused by the provider: the user signs in again. */
static void
test_code_used_twice (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(PopcheckTestPage) authorize = NULL;
  g_autoptr(PopcheckTestPage) first = NULL;
  g_autoptr(PopcheckTestPage) replay = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PopcheckOAuthToken) token = NULL;
  g_autofree char *code = NULL;
  g_autofree char *state = NULL;
  g_autofree char *uri = NULL;

  start_sign_in (fixture);
  authorize = fetch (fixture, "GET", fixture->local.opened_uri, NULL);
  g_assert_cmpuint (authorize->status, ==, 302);
  code = query_value (authorize->location, "code");
  first = fetch (fixture, "GET", authorize->location, NULL);
  g_assert_cmpuint (first->status, ==, 200);
  token = sign_in_finish (fixture, &error);
  g_assert_no_error (error);

  start_sign_in (fixture);
  state = query_value (fixture->local.opened_uri, "state");
  uri = g_strdup_printf ("http://127.0.0.1:%u/?code=%s&state=%s",
                         redirect_port (fixture), code, state);
  replay = fetch (fixture, "GET", uri, NULL);
  g_assert_cmpuint (replay->status, ==, 200);
  assert_sign_in_fails (fixture, POPCHECK_OAUTH_ERROR_INVALID_GRANT,
                        "The sign-in is no longer valid. Sign in again.");
}

/* The browser never comes back: the wait ends, and so does the
 * listener. */
static void
test_browser_timeout (Fixture       *fixture,
                      gconstpointer  data)
{
  guint16 port;

  popcheck_oauth_client_set_timeouts (fixture->client, 1, 1);
  start_sign_in (fixture);
  port = redirect_port (fixture);
  assert_sign_in_fails (fixture, POPCHECK_OAUTH_ERROR_TIMEOUT,
                        "The sign-in was not finished in time. Sign in again "
                        "and finish it in the browser.");
  assert_closed (port);
}

/* A token endpoint that never answers. */
static void
test_provider_timeout (Fixture       *fixture,
                       gconstpointer  data)
{
  guint16 port;

  popcheck_oauth_client_set_timeouts (fixture->client, 60, 1);
  sign_in_with_token_mode (fixture, "slow");
  port = redirect_port (fixture);
  assert_sign_in_fails (fixture, POPCHECK_OAUTH_ERROR_TIMEOUT,
                        "The sign-in service did not answer in time.");
  assert_closed (port);
}

static void
test_cancelled (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(PopcheckOAuthToken) token = NULL;
  guint16 port;

  popcheck_oauth_client_sign_in_async (fixture->client, NULL, cancellable,
                                       result_cb, &fixture->result);
  WAIT_UNTIL (fixture->local.opened_uri != NULL);
  port = redirect_port (fixture);
  g_cancellable_cancel (cancellable);
  token = sign_in_finish (fixture, &error);
  g_assert_null (token);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  assert_closed (port);
}

static void
test_token_crlf (Fixture       *fixture,
                 gconstpointer  data)
{
  sign_in_with_token_mode (fixture, "crlf");
  assert_sign_in_fails (fixture, POPCHECK_OAUTH_ERROR_BAD_REPLY,
                        "The sign-in service sent a token with characters a "
                        "token cannot have.");
}

static void
test_garbage (Fixture       *fixture,
              gconstpointer  data)
{
  sign_in_with_token_mode (fixture, "garbage");
  assert_sign_in_fails (fixture, POPCHECK_OAUTH_ERROR_BAD_REPLY,
                        "The sign-in service sent a reply PopCheck does not "
                        "understand.");
}

static void
test_too_long (Fixture       *fixture,
               gconstpointer  data)
{
  sign_in_with_token_mode (fixture, "long");
  assert_sign_in_fails (fixture, POPCHECK_OAUTH_ERROR_BAD_REPLY,
                        "The sign-in service sent a reply far too long to "
                        "be one.");
}

static void
test_http_500 (Fixture       *fixture,
               gconstpointer  data)
{
  sign_in_with_token_mode (fixture, "http500");
  assert_sign_in_fails (fixture, POPCHECK_OAUTH_ERROR_PROVIDER,
                        "The sign-in service failed (HTTP status 500). Try "
                        "again later.");
}

static void
test_refresh_invalid_grant (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autoptr(PopcheckTestPage) page = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PopcheckOAuthToken) token = NULL;
  g_autoptr(PopcheckOAuthToken) refreshed = NULL;

  start_sign_in (fixture);
  page = browse (fixture);
  token = sign_in_finish (fixture, &error);
  g_assert_no_error (error);

  control (fixture, "revoke=1");
  refreshed = refresh (fixture, token->refresh_token, &error);
  g_assert_null (refreshed);
  g_assert_error (error, POPCHECK_OAUTH_ERROR,
                  POPCHECK_OAUTH_ERROR_INVALID_GRANT);
  g_assert_cmpstr (error->message, ==,
                   "The sign-in is no longer valid. Sign in again.");
}

/* Without a client ID, or with endpoints a token must not go to, the
 * provider says what is missing before anything is opened. */
static void
test_not_configured (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(PopcheckOAuthProvider) no_id = local_provider (fixture, "");
  g_autoptr(PopcheckOAuthProvider) plain = NULL;
  g_autoptr(PopcheckOAuthProvider) preset = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_false (popcheck_oauth_provider_check (no_id, &error));
  g_assert_error (error, POPCHECK_OAUTH_ERROR,
                  POPCHECK_OAUTH_ERROR_NOT_CONFIGURED);
  g_assert_cmpstr (error->message, ==,
                   "This PopCheck cannot sign in with Local: it was built "
                   "without a client ID for Local. Whoever built it can set "
                   "one (the build option or the client-id setting).");
  g_clear_error (&error);

  plain = popcheck_oauth_provider_new ("plain", "Plain",
                                       "http://login.example.org/authorize",
                                       "https://login.example.org/token",
                                       "pop", CLIENT_ID, "pop.example.org",
                                       995);
  g_assert_false (popcheck_oauth_provider_check (plain, &error));
  g_assert_error (error, POPCHECK_OAUTH_ERROR,
                  POPCHECK_OAUTH_ERROR_NOT_CONFIGURED);
  g_assert_cmpstr (error->message, ==,
                   "The sign-in addresses for Plain are not secure: they "
                   "must start with https://.");
  g_clear_error (&error);

  g_assert_true (popcheck_oauth_endpoint_is_allowed ("https://a.example/t"));
  g_assert_true (popcheck_oauth_endpoint_is_allowed ("http://127.0.0.1:8/t"));
  g_assert_false (popcheck_oauth_endpoint_is_allowed ("http://localhost:8/t"));
  g_assert_false (popcheck_oauth_endpoint_is_allowed ("http://127.0.0.2/t"));
  g_assert_false (popcheck_oauth_endpoint_is_allowed ("ftp://a.example/t"));

  /* The presets, as built for the tests (no client IDs). */
  preset = popcheck_oauth_provider_new_preset ("microsoft", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (popcheck_oauth_provider_get_pop3_host (preset), ==,
                   "outlook.office365.com");
  g_assert_cmpuint (popcheck_oauth_provider_get_pop3_port (preset), ==, 995);
  g_assert_cmpstr (popcheck_oauth_provider_get_scope (preset), ==,
                   "https://outlook.office.com/POP.AccessAsUser.All "
                   "offline_access");
  g_clear_object (&preset);
  preset = popcheck_oauth_provider_new_preset ("google", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (popcheck_oauth_provider_get_pop3_host (preset), ==,
                   "pop.gmail.com");
  g_assert_cmpstr (popcheck_oauth_provider_get_token_endpoint (preset), ==,
                   "https://oauth2.googleapis.com/token");
  g_clear_object (&preset);
  g_assert_null (popcheck_oauth_provider_new_preset ("yahoo", &error));
  g_assert_error (error, POPCHECK_OAUTH_ERROR,
                  POPCHECK_OAUTH_ERROR_NOT_CONFIGURED);
}

/* The endpoints and the client ID come from GSettings when set there. */
static void
test_preset_overrides (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(GSettings) settings = NULL;
  g_autoptr(PopcheckOAuthProvider) preset = NULL;
  g_autoptr(GError) error = NULL;

  settings = g_settings_new_with_path (POPCHECK_OAUTH2_PROVIDER_SCHEMA_ID,
                                       POPCHECK_OAUTH2_PROVIDER_PATH_PREFIX
                                       "google/");
  g_settings_set_string (settings, "client-id", "from-settings");
  g_settings_set_string (settings, "token-endpoint",
                         "http://127.0.0.1:1/token");
  preset = popcheck_oauth_provider_new_preset ("google", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (popcheck_oauth_provider_get_client_id (preset), ==,
                   "from-settings");
  g_assert_cmpstr (popcheck_oauth_provider_get_token_endpoint (preset), ==,
                   "http://127.0.0.1:1/token");
  g_assert_cmpstr (popcheck_oauth_provider_get_authorization_endpoint (preset),
                   ==, "https://accounts.google.com/o/oauth2/v2/auth");
  g_assert_true (popcheck_oauth_provider_check (preset, &error));
  g_assert_no_error (error);
  g_settings_reset (settings, "client-id");
  g_settings_reset (settings, "token-endpoint");
}

int
main (int   argc,
      char *argv[])
{
  /* Every message reaches the writer, debug ones too. */
  g_setenv ("G_MESSAGES_DEBUG", "all", TRUE);
  logged = g_string_new (NULL);
  g_log_set_writer_func (log_writer, NULL, NULL);
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/oauth/" path, Fixture, NULL, fixture_set_up, func, \
              fixture_tear_down)

  ADD ("good-path", test_good_path);
  ADD ("state-mismatch", test_state_mismatch);
  ADD ("access-denied", test_access_denied);
  ADD ("other-path", test_other_path);
  ADD ("code-used-twice", test_code_used_twice);
  ADD ("browser-timeout", test_browser_timeout);
  ADD ("provider-timeout", test_provider_timeout);
  ADD ("cancelled", test_cancelled);
  ADD ("token-crlf", test_token_crlf);
  ADD ("garbage-json", test_garbage);
  ADD ("too-long", test_too_long);
  ADD ("http-500", test_http_500);
  ADD ("refresh-invalid-grant", test_refresh_invalid_grant);
  ADD ("not-configured", test_not_configured);
  ADD ("preset-overrides", test_preset_overrides);

#undef ADD

  return g_test_run ();
}
