/* popcheck-oauth-account.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "popcheck-oauth"

#include "config.h"

#include <libsecret/secret.h>

#include "pop3-error.h"
#include "popcheck-oauth-account.h"
#include "popcheck-secret.h"

typedef struct
{
  PopcheckAccount     *account;
  PopcheckOAuthClient *client;
  char                *refresh_token;
} TokenData;

static void
token_data_free (TokenData *data)
{
  g_clear_object (&data->account);
  g_clear_object (&data->client);
  g_clear_pointer (&data->refresh_token, secret_password_free);
  g_free (data);
}

static void
rotated_stored_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  /* The old refresh token may stop working: say so, once, for whoever
   * reads the log when the account later asks to sign in again. */
  if (!popcheck_secret_store_finish (result, &error))
    g_message ("Could not store the new refresh token of an account: %s",
               error->message);
}

/* What the app already acts on: a refresh token the provider no longer
 * takes is a refused login (it waits for the user to sign in again); a
 * provider out of reach is a network problem (tried again later). */
static GError *
as_login_error (GError *error)
{
  GError *login_error;
  int code;

  if (error->domain != POPCHECK_OAUTH_ERROR)
    return error;

  switch ((PopcheckOAuthError) error->code)
    {
    case POPCHECK_OAUTH_ERROR_INVALID_GRANT:
      code = POP3_ERROR_AUTH;
      break;
    case POPCHECK_OAUTH_ERROR_NETWORK:
      code = POP3_ERROR_CONNECT;
      break;
    case POPCHECK_OAUTH_ERROR_TIMEOUT:
      code = POP3_ERROR_TIMEOUT;
      break;
    default:
      return error;
    }

  login_error = g_error_new_literal (POP3_ERROR, code, error->message);
  g_error_free (error);

  return login_error;
}

static void
refreshed_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  TokenData *data = g_task_get_task_data (task);
  PopcheckOAuthToken *token;
  GError *error = NULL;

  token = popcheck_oauth_client_refresh_finish (POPCHECK_OAUTH_CLIENT (object),
                                                result, &error);
  if (token == NULL)
    {
      g_task_return_error (task, as_login_error (error));
      return;
    }

  /* Providers may rotate refresh tokens (Microsoft does): keep the new
   * one.  The access token is good either way. */
  if (g_strcmp0 (token->refresh_token, data->refresh_token) != 0)
    popcheck_secret_store_async (popcheck_account_get_id (data->account),
                                 POPCHECK_SECRET_KIND_OAUTH2_REFRESH_TOKEN,
                                 popcheck_account_get_host (data->account),
                                 popcheck_account_get_port (data->account),
                                 popcheck_account_get_user (data->account),
                                 token->refresh_token, NULL,
                                 rotated_stored_cb, NULL);

  g_task_return_pointer (task, token,
                         (GDestroyNotify) popcheck_oauth_token_free);
}

static void
refresh_token_found_cb (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  TokenData *data = g_task_get_task_data (task);
  GError *error = NULL;

  data->refresh_token = popcheck_secret_lookup_finish (result, &error);
  if (data->refresh_token == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  popcheck_oauth_client_refresh_async (data->client, data->refresh_token,
                                       g_task_get_cancellable (task),
                                       refreshed_cb, g_object_ref (task));
}

void
popcheck_oauth_account_get_token_async (PopcheckAccount     *account,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(PopcheckOAuthProvider) provider = NULL;
  g_autofree char *provider_id = NULL;
  GError *error = NULL;
  TokenData *data;

  g_return_if_fail (POPCHECK_IS_ACCOUNT (account));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  provider_id = popcheck_account_dup_oauth2_provider (account);
  g_return_if_fail (provider_id != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, popcheck_oauth_account_get_token_async);

  provider = popcheck_oauth_provider_new_preset (provider_id, &error);
  if (provider == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  data = g_new0 (TokenData, 1);
  data->account = g_object_ref (account);
  data->client = popcheck_oauth_client_new (provider);
  g_task_set_task_data (task, data, (GDestroyNotify) token_data_free);

  popcheck_secret_lookup_async (popcheck_account_get_id (account),
                                POPCHECK_SECRET_KIND_OAUTH2_REFRESH_TOKEN,
                                popcheck_account_get_host (account),
                                popcheck_account_get_port (account),
                                popcheck_account_get_user (account),
                                cancellable, refresh_token_found_cb,
                                g_object_ref (task));
}

PopcheckOAuthToken *
popcheck_oauth_account_get_token_finish (GAsyncResult  *result,
                                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        popcheck_oauth_account_get_token_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
sign_in_stored_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PopcheckAccount *account = g_task_get_source_object (task);
  GError *error = NULL;

  if (!popcheck_secret_store_finish (result, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  /* Only now: an account marked before its refresh token is there would
   * be checked, and told to sign in again, in between. */
  popcheck_account_set_oauth2_provider (account, g_task_get_task_data (task));
  g_task_return_boolean (task, TRUE);
}

void
popcheck_oauth_account_store_sign_in_async (PopcheckAccount     *account,
                                            const char          *provider_id,
                                            const char          *host,
                                            guint16              port,
                                            const char          *user,
                                            const char          *refresh_token,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (POPCHECK_IS_ACCOUNT (account));
  g_return_if_fail (provider_id != NULL);
  g_return_if_fail (host != NULL);
  g_return_if_fail (user != NULL);
  g_return_if_fail (refresh_token != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (account, cancellable, callback, user_data);
  g_task_set_source_tag (task, popcheck_oauth_account_store_sign_in_async);
  g_task_set_task_data (task, g_strdup (provider_id), g_free);

  popcheck_secret_store_async (popcheck_account_get_id (account),
                               POPCHECK_SECRET_KIND_OAUTH2_REFRESH_TOKEN,
                               host, port, user, refresh_token, cancellable,
                               sign_in_stored_cb, g_object_ref (task));
}

gboolean
popcheck_oauth_account_store_sign_in_finish (PopcheckAccount  *account,
                                             GAsyncResult     *result,
                                             GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, account), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        popcheck_oauth_account_store_sign_in_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
