/* popcheck-token-source.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "popcheck-token-source"

#include "config.h"

#include "popcheck-account.h"
#include "popcheck-token-source.h"

G_DEFINE_QUARK (popcheck-token-source-error-quark, popcheck_token_source_error)

G_DEFINE_INTERFACE (PopcheckTokenSource, popcheck_token_source, G_TYPE_OBJECT)

static void
popcheck_token_source_default_init (PopcheckTokenSourceInterface *iface)
{
  g_signal_new ("sign-in-changed",
                G_TYPE_FROM_INTERFACE (iface),
                G_SIGNAL_RUN_LAST,
                0, NULL, NULL, NULL,
                G_TYPE_NONE, 1, POPCHECK_TYPE_ACCOUNT);
}

void
popcheck_token_source_get_token_async (PopcheckTokenSource *self,
                                       PopcheckAccount     *account,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  g_return_if_fail (POPCHECK_IS_TOKEN_SOURCE (self));
  g_return_if_fail (POPCHECK_IS_ACCOUNT (account));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  POPCHECK_TOKEN_SOURCE_GET_IFACE (self)->get_token_async (self, account,
                                                           cancellable,
                                                           callback,
                                                           user_data);
}

char *
popcheck_token_source_get_token_finish (PopcheckTokenSource  *self,
                                        GAsyncResult         *result,
                                        GError              **error)
{
  g_return_val_if_fail (POPCHECK_IS_TOKEN_SOURCE (self), NULL);

  return POPCHECK_TOKEN_SOURCE_GET_IFACE (self)->get_token_finish (self, result,
                                                                   error);
}

void
popcheck_token_source_renew_async (PopcheckTokenSource *self,
                                   PopcheckAccount     *account,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_return_if_fail (POPCHECK_IS_TOKEN_SOURCE (self));
  g_return_if_fail (POPCHECK_IS_ACCOUNT (account));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  POPCHECK_TOKEN_SOURCE_GET_IFACE (self)->renew_async (self, account,
                                                       cancellable, callback,
                                                       user_data);
}

gboolean
popcheck_token_source_renew_finish (PopcheckTokenSource  *self,
                                    GAsyncResult         *result,
                                    GError              **error)
{
  g_return_val_if_fail (POPCHECK_IS_TOKEN_SOURCE (self), FALSE);

  return POPCHECK_TOKEN_SOURCE_GET_IFACE (self)->renew_finish (self, result,
                                                               error);
}

gboolean
popcheck_token_source_check_sign_in (PopcheckTokenSource  *self,
                                     PopcheckAccount      *account,
                                     GError              **error)
{
  g_return_val_if_fail (POPCHECK_IS_TOKEN_SOURCE (self), FALSE);
  g_return_val_if_fail (POPCHECK_IS_ACCOUNT (account), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return POPCHECK_TOKEN_SOURCE_GET_IFACE (self)->check_sign_in (self, account,
                                                                error);
}
