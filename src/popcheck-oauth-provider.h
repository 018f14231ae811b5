/* popcheck-oauth-provider.h: where and how to sign in with OAuth2
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A provider names the authorization and token endpoints, the client ID
 * PopCheck signs in with, the scope that grants POP3, and the POP3 server
 * the tokens are for.  The presets (Microsoft, Google) take their client
 * IDs from the build and let GSettings override the client ID and the
 * endpoints (org.example.PopCheck.OAuth2Provider).
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define POPCHECK_OAUTH2_PROVIDER_SCHEMA_ID   "org.example.PopCheck.OAuth2Provider"
#define POPCHECK_OAUTH2_PROVIDER_PATH_PREFIX "/org/example/PopCheck/oauth2/"

#define POPCHECK_TYPE_OAUTH_PROVIDER (popcheck_oauth_provider_get_type ())

G_DECLARE_FINAL_TYPE (PopcheckOAuthProvider, popcheck_oauth_provider,
                      POPCHECK, OAUTH_PROVIDER, GObject)

/* "microsoft" or "google", with the overrides in GSettings; NULL (and
 * POPCHECK_OAUTH_ERROR_NOT_CONFIGURED) for any other id. */
PopcheckOAuthProvider *popcheck_oauth_provider_new_preset       (const char             *id,
                                                                 GError                **error);
PopcheckOAuthProvider *popcheck_oauth_provider_new              (const char             *id,
                                                                 const char             *display_name,
                                                                 const char             *authorization_endpoint,
                                                                 const char             *token_endpoint,
                                                                 const char             *scope,
                                                                 const char             *client_id,
                                                                 const char             *pop3_host,
                                                                 guint16                 pop3_port);

const char            *popcheck_oauth_provider_get_id           (PopcheckOAuthProvider  *self);
const char            *popcheck_oauth_provider_get_display_name (PopcheckOAuthProvider  *self);
const char            *popcheck_oauth_provider_get_authorization_endpoint (PopcheckOAuthProvider *self);
const char            *popcheck_oauth_provider_get_token_endpoint (PopcheckOAuthProvider *self);
const char            *popcheck_oauth_provider_get_scope        (PopcheckOAuthProvider  *self);
const char            *popcheck_oauth_provider_get_client_id    (PopcheckOAuthProvider  *self);
const char            *popcheck_oauth_provider_get_pop3_host    (PopcheckOAuthProvider  *self);
guint16                popcheck_oauth_provider_get_pop3_port    (PopcheckOAuthProvider  *self);

/* Whether the provider can be signed in with: a client ID, and endpoints
 * PopCheck may send a code or token to.  The error says in words what is
 * missing (POPCHECK_OAUTH_ERROR_NOT_CONFIGURED). */
gboolean               popcheck_oauth_provider_check            (PopcheckOAuthProvider  *self,
                                                                 GError                **error);

/* Whether a code or token may be sent to @uri: https, or http to
 * 127.0.0.1 (which never leaves the machine). */
gboolean               popcheck_oauth_endpoint_is_allowed       (const char             *uri);

G_END_DECLS
