/* popcheck-oauth-provider.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "popcheck-oauth"

#include "config.h"

#include <glib/gi18n.h>

#include "popcheck-oauth.h"
#include "popcheck-oauth-provider.h"

struct _PopcheckOAuthProvider
{
  GObject  parent_instance;

  char    *id;
  char    *display_name;
  char    *authorization_endpoint;
  char    *token_endpoint;
  char    *scope;
  char    *client_id;
  char    *pop3_host;
  guint16  pop3_port;
};

G_DEFINE_FINAL_TYPE (PopcheckOAuthProvider, popcheck_oauth_provider, G_TYPE_OBJECT)

typedef struct
{
  const char *id;
  const char *display_name;
  const char *authorization_endpoint;
  const char *token_endpoint;
  const char *scope;
  const char *client_id;
  const char *pop3_host;
  guint16     pop3_port;
} Preset;

/* Microsoft: "common" takes work, school and personal accounts alike;
 * offline_access is what gets a refresh token.  Google: the only scope
 * that grants POP3 is the full mail one. */
static const Preset presets[] = {
  {
    "microsoft", N_("Microsoft"),
    "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
    "https://login.microsoftonline.com/common/oauth2/v2.0/token",
    "https://outlook.office.com/POP.AccessAsUser.All offline_access",
    POPCHECK_MICROSOFT_CLIENT_ID,
    "outlook.office365.com", 995,
  },
  {
    "google", N_("Google"),
    "https://accounts.google.com/o/oauth2/v2/auth",
    "https://oauth2.googleapis.com/token",
    "https://mail.google.com/",
    POPCHECK_GOOGLE_CLIENT_ID,
    "pop.gmail.com", 995,
  },
};

static void
popcheck_oauth_provider_finalize (GObject *object)
{
  PopcheckOAuthProvider *self = POPCHECK_OAUTH_PROVIDER (object);

  g_free (self->id);
  g_free (self->display_name);
  g_free (self->authorization_endpoint);
  g_free (self->token_endpoint);
  g_free (self->scope);
  g_free (self->client_id);
  g_free (self->pop3_host);

  G_OBJECT_CLASS (popcheck_oauth_provider_parent_class)->finalize (object);
}

static void
popcheck_oauth_provider_class_init (PopcheckOAuthProviderClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = popcheck_oauth_provider_finalize;
}

static void
popcheck_oauth_provider_init (PopcheckOAuthProvider *self)
{
}

PopcheckOAuthProvider *
popcheck_oauth_provider_new (const char *id,
                             const char *display_name,
                             const char *authorization_endpoint,
                             const char *token_endpoint,
                             const char *scope,
                             const char *client_id,
                             const char *pop3_host,
                             guint16     pop3_port)
{
  PopcheckOAuthProvider *self;

  g_return_val_if_fail (id != NULL, NULL);
  g_return_val_if_fail (display_name != NULL, NULL);
  g_return_val_if_fail (authorization_endpoint != NULL, NULL);
  g_return_val_if_fail (token_endpoint != NULL, NULL);
  g_return_val_if_fail (scope != NULL, NULL);
  g_return_val_if_fail (pop3_host != NULL, NULL);

  self = g_object_new (POPCHECK_TYPE_OAUTH_PROVIDER, NULL);
  self->id = g_strdup (id);
  self->display_name = g_strdup (display_name);
  self->authorization_endpoint = g_strdup (authorization_endpoint);
  self->token_endpoint = g_strdup (token_endpoint);
  self->scope = g_strdup (scope);
  self->client_id = g_strdup (client_id != NULL ? client_id : "");
  self->pop3_host = g_strdup (pop3_host);
  self->pop3_port = pop3_port;

  return self;
}

/* The setting when it is set, the preset's value otherwise. */
static char *
setting_or (GSettings  *settings,
            const char *key,
            const char *fallback)
{
  g_autofree char *value = g_settings_get_string (settings, key);

  g_strstrip (value);
  if (*value != '\0')
    return g_steal_pointer (&value);

  return g_strdup (fallback);
}

PopcheckOAuthProvider *
popcheck_oauth_provider_new_preset (const char  *id,
                                    GError     **error)
{
  g_return_val_if_fail (id != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (presets); i++)
    {
      const Preset *preset = &presets[i];
      g_autofree char *path = NULL;
      g_autoptr(GSettings) settings = NULL;
      g_autofree char *authorization_endpoint = NULL;
      g_autofree char *token_endpoint = NULL;
      g_autofree char *client_id = NULL;

      if (g_strcmp0 (preset->id, id) != 0)
        continue;

      path = g_strdup_printf (POPCHECK_OAUTH2_PROVIDER_PATH_PREFIX "%s/", id);
      settings = g_settings_new_with_path (POPCHECK_OAUTH2_PROVIDER_SCHEMA_ID,
                                           path);
      authorization_endpoint = setting_or (settings, "authorization-endpoint",
                                           preset->authorization_endpoint);
      token_endpoint = setting_or (settings, "token-endpoint",
                                   preset->token_endpoint);
      client_id = setting_or (settings, "client-id", preset->client_id);

      return popcheck_oauth_provider_new (preset->id, _(preset->display_name),
                                          authorization_endpoint,
                                          token_endpoint, preset->scope,
                                          client_id, preset->pop3_host,
                                          preset->pop3_port);
    }

  g_set_error (error, POPCHECK_OAUTH_ERROR, POPCHECK_OAUTH_ERROR_NOT_CONFIGURED,
               _("There is no sign-in with “%s”: PopCheck knows Microsoft "
                 "and Google."), id);
  return NULL;
}

gboolean
popcheck_oauth_endpoint_is_allowed (const char *uri)
{
  g_autoptr(GUri) parsed = NULL;
  const char *scheme;

  g_return_val_if_fail (uri != NULL, FALSE);

  parsed = g_uri_parse (uri, G_URI_FLAGS_NONE, NULL);
  if (parsed == NULL || g_uri_get_host (parsed) == NULL ||
      *g_uri_get_host (parsed) == '\0')
    return FALSE;

  scheme = g_uri_get_scheme (parsed);
  if (g_ascii_strcasecmp (scheme, "https") == 0)
    return TRUE;

  /* Plain http only to 127.0.0.1: a code or token sent there never leaves
   * the machine.  It is what a local provider (the tests') listens on. */
  return g_ascii_strcasecmp (scheme, "http") == 0 &&
         g_strcmp0 (g_uri_get_host (parsed), "127.0.0.1") == 0;
}

gboolean
popcheck_oauth_provider_check (PopcheckOAuthProvider  *self,
                               GError                **error)
{
  g_return_val_if_fail (POPCHECK_IS_OAUTH_PROVIDER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (*self->client_id == '\0')
    {
      g_set_error (error, POPCHECK_OAUTH_ERROR,
                   POPCHECK_OAUTH_ERROR_NOT_CONFIGURED,
                   _("This PopCheck cannot sign in with %s: it was built "
                     "without a client ID for %s. Whoever built it can set "
                     "one (the build option or the client-id setting)."),
                   self->display_name, self->display_name);
      return FALSE;
    }

  if (!popcheck_oauth_endpoint_is_allowed (self->authorization_endpoint) ||
      !popcheck_oauth_endpoint_is_allowed (self->token_endpoint))
    {
      g_set_error (error, POPCHECK_OAUTH_ERROR,
                   POPCHECK_OAUTH_ERROR_NOT_CONFIGURED,
                   _("The sign-in addresses for %s are not secure: they "
                     "must start with https://."), self->display_name);
      return FALSE;
    }

  return TRUE;
}

const char *
popcheck_oauth_provider_get_id (PopcheckOAuthProvider *self)
{
  g_return_val_if_fail (POPCHECK_IS_OAUTH_PROVIDER (self), NULL);
  return self->id;
}

const char *
popcheck_oauth_provider_get_display_name (PopcheckOAuthProvider *self)
{
  g_return_val_if_fail (POPCHECK_IS_OAUTH_PROVIDER (self), NULL);
  return self->display_name;
}

const char *
popcheck_oauth_provider_get_authorization_endpoint (PopcheckOAuthProvider *self)
{
  g_return_val_if_fail (POPCHECK_IS_OAUTH_PROVIDER (self), NULL);
  return self->authorization_endpoint;
}

const char *
popcheck_oauth_provider_get_token_endpoint (PopcheckOAuthProvider *self)
{
  g_return_val_if_fail (POPCHECK_IS_OAUTH_PROVIDER (self), NULL);
  return self->token_endpoint;
}

const char *
popcheck_oauth_provider_get_scope (PopcheckOAuthProvider *self)
{
  g_return_val_if_fail (POPCHECK_IS_OAUTH_PROVIDER (self), NULL);
  return self->scope;
}

const char *
popcheck_oauth_provider_get_client_id (PopcheckOAuthProvider *self)
{
  g_return_val_if_fail (POPCHECK_IS_OAUTH_PROVIDER (self), NULL);
  return self->client_id;
}

const char *
popcheck_oauth_provider_get_pop3_host (PopcheckOAuthProvider *self)
{
  g_return_val_if_fail (POPCHECK_IS_OAUTH_PROVIDER (self), NULL);
  return self->pop3_host;
}

guint16
popcheck_oauth_provider_get_pop3_port (PopcheckOAuthProvider *self)
{
  g_return_val_if_fail (POPCHECK_IS_OAUTH_PROVIDER (self), 0);
  return self->pop3_port;
}
