/* popcheck-oauth.h: signing in with OAuth2 (RFC 6749, RFC 7636, RFC 8252)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The authorization code flow of a native app: PKCE (S256) and `state`,
 * the system browser, and a redirect to a listener on 127.0.0.1 at a
 * random port that closes as soon as the code arrives or the wait times
 * out.  No client secret.  Tokens are never logged, and wiped when freed.
 */

#pragma once

#include <gio/gio.h>

#include "popcheck-oauth-provider.h"

G_BEGIN_DECLS

#define POPCHECK_OAUTH_ERROR (popcheck_oauth_error_quark ())

/**
 * PopcheckOAuthError:
 * @POPCHECK_OAUTH_ERROR_NOT_CONFIGURED: no client ID, or endpoints that
 *   are not https
 * @POPCHECK_OAUTH_ERROR_ACCESS_DENIED: the user did not allow access
 * @POPCHECK_OAUTH_ERROR_INVALID_GRANT: the code or refresh token is no
 *   longer good: the user must sign in again
 * @POPCHECK_OAUTH_ERROR_NETWORK: the provider could not be reached
 * @POPCHECK_OAUTH_ERROR_PROVIDER: the provider answered with an error
 * @POPCHECK_OAUTH_ERROR_TIMEOUT: the browser or the provider did not
 *   answer in time
 * @POPCHECK_OAUTH_ERROR_BAD_REPLY: what came back cannot be used (a
 *   `state` that does not match, a reply too long or not JSON, a token
 *   with control characters)
 * @POPCHECK_OAUTH_ERROR_BROWSER: no browser could be opened
 *
 * G_IO_ERROR_CANCELLED is passed through when the caller cancelled.
 */
typedef enum
{
  POPCHECK_OAUTH_ERROR_NOT_CONFIGURED,
  POPCHECK_OAUTH_ERROR_ACCESS_DENIED,
  POPCHECK_OAUTH_ERROR_INVALID_GRANT,
  POPCHECK_OAUTH_ERROR_NETWORK,
  POPCHECK_OAUTH_ERROR_PROVIDER,
  POPCHECK_OAUTH_ERROR_TIMEOUT,
  POPCHECK_OAUTH_ERROR_BAD_REPLY,
  POPCHECK_OAUTH_ERROR_BROWSER,
} PopcheckOAuthError;

GQuark popcheck_oauth_error_quark (void);

/**
 * PopcheckOAuthToken:
 * @access_token: what POP3's XOAUTH2 or OAUTHBEARER sends
 * @refresh_token: (nullable): what gets the next access token
 * @expires_at: when the access token expires, in g_get_real_time() time
 *
 * Both tokens are printable ASCII without spaces; freeing wipes them.
 */
typedef struct
{
  char   *access_token;
  char   *refresh_token;
  gint64  expires_at;
} PopcheckOAuthToken;

#define POPCHECK_TYPE_OAUTH_TOKEN (popcheck_oauth_token_get_type ())

GType               popcheck_oauth_token_get_type      (void) G_GNUC_CONST;
PopcheckOAuthToken *popcheck_oauth_token_copy          (const PopcheckOAuthToken *token);
void                popcheck_oauth_token_free          (PopcheckOAuthToken       *token);
/* Whether the access token expires within @margin_seconds. */
gboolean            popcheck_oauth_token_expires_within (const PopcheckOAuthToken *token,
                                                        guint                     margin_seconds);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PopcheckOAuthToken, popcheck_oauth_token_free)

/* Opens @uri in a browser.  The default is the desktop's browser
 * (g_app_info_launch_default_for_uri); a program without a desktop can
 * also print the address, and the tests follow it themselves. */
typedef gboolean (*PopcheckOAuthUriLauncher) (const char  *uri,
                                              gpointer     user_data,
                                              GError     **error);

#define POPCHECK_TYPE_OAUTH_CLIENT (popcheck_oauth_client_get_type ())

G_DECLARE_FINAL_TYPE (PopcheckOAuthClient, popcheck_oauth_client,
                      POPCHECK, OAUTH_CLIENT, GObject)

PopcheckOAuthClient   *popcheck_oauth_client_new              (PopcheckOAuthProvider    *provider);
PopcheckOAuthProvider *popcheck_oauth_client_get_provider     (PopcheckOAuthClient      *self);
void                   popcheck_oauth_client_set_uri_launcher (PopcheckOAuthClient      *self,
                                                               PopcheckOAuthUriLauncher  launcher,
                                                               gpointer                  user_data,
                                                               GDestroyNotify            destroy);
/* How long the browser sign-in may take (5 minutes by default), and each
 * request to the token endpoint (30 seconds). */
void                   popcheck_oauth_client_set_timeouts     (PopcheckOAuthClient      *self,
                                                               guint                     sign_in_seconds,
                                                               guint                     request_seconds);

/* Opens the browser at the provider's sign-in page and waits for the
 * redirect, then trades the code for tokens.  @login_hint (nullable)
 * suggests the address to sign in with. */
void                   popcheck_oauth_client_sign_in_async    (PopcheckOAuthClient      *self,
                                                               const char               *login_hint,
                                                               GCancellable             *cancellable,
                                                               GAsyncReadyCallback       callback,
                                                               gpointer                  user_data);
PopcheckOAuthToken    *popcheck_oauth_client_sign_in_finish   (PopcheckOAuthClient      *self,
                                                               GAsyncResult             *result,
                                                               GError                  **error);

/* A new access token for @refresh_token.  The result holds the refresh
 * token the provider sent, or @refresh_token when it sent none. */
void                   popcheck_oauth_client_refresh_async    (PopcheckOAuthClient      *self,
                                                               const char               *refresh_token,
                                                               GCancellable             *cancellable,
                                                               GAsyncReadyCallback       callback,
                                                               gpointer                  user_data);
PopcheckOAuthToken    *popcheck_oauth_client_refresh_finish   (PopcheckOAuthClient      *self,
                                                               GAsyncResult             *result,
                                                               GError                  **error);

G_END_DECLS
