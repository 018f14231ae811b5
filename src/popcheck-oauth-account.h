/* popcheck-oauth-account.h: access tokens for accounts that sign in with
 * OAuth2
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The account's refresh token lives in the keyring; each call trades it for
 * a fresh access token, which lives only in the caller's memory.  A new
 * refresh token the provider sends replaces the stored one.
 */

#pragma once

#include <gio/gio.h>

#include "popcheck-account.h"
#include "popcheck-oauth.h"

G_BEGIN_DECLS

/* Fails with POPCHECK_SECRET_ERROR (no keyring, not signed in), with
 * POP3_ERROR_AUTH when the provider no longer takes the refresh token
 * (sign in again), POP3_ERROR_CONNECT or POP3_ERROR_TIMEOUT when it cannot
 * be reached, or else POPCHECK_OAUTH_ERROR. */
void                popcheck_oauth_account_get_token_async  (PopcheckAccount      *account,
                                                             GCancellable         *cancellable,
                                                             GAsyncReadyCallback   callback,
                                                             gpointer              user_data);
PopcheckOAuthToken *popcheck_oauth_account_get_token_finish (GAsyncResult         *result,
                                                             GError              **error);

/* Stores @refresh_token in the keyring as the account's sign-in with
 * @provider_id, under @host, @port and @user (the server the account is
 * about to have), and only then marks the account as one that signs in
 * with that provider.  Fails with POPCHECK_SECRET_ERROR, leaving the
 * account as it was. */
void                popcheck_oauth_account_store_sign_in_async  (PopcheckAccount      *account,
                                                                 const char           *provider_id,
                                                                 const char           *host,
                                                                 guint16               port,
                                                                 const char           *user,
                                                                 const char           *refresh_token,
                                                                 GCancellable         *cancellable,
                                                                 GAsyncReadyCallback   callback,
                                                                 gpointer              user_data);
gboolean            popcheck_oauth_account_store_sign_in_finish (PopcheckAccount      *account,
                                                                 GAsyncResult         *result,
                                                                 GError              **error);

G_END_DECLS
