/* popcheck-token-source.h: where an account whose sign-in lives outside
 * PopCheck gets its access tokens
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Accounts from GNOME Online Accounts sign in with tokens that Online
 * Accounts hands out and renews; PopCheck stores none of them.  The session
 * asks the account's source for a token at each connection and, after the
 * server refused one, asks it to renew the sign-in once.
 *
 * Signals:
 *   "sign-in-changed" (PopcheckTokenSource *, PopcheckAccount *account)
 *       whether the user must sign in to @account again where it lives
 *       changed (Online Accounts' AttentionNeeded): ask
 *       popcheck_token_source_check_sign_in() what it is now.
 */

#pragma once

#include <gio/gio.h>

#include "popcheck-types.h"

G_BEGIN_DECLS

#define POPCHECK_TOKEN_SOURCE_ERROR (popcheck_token_source_error_quark ())

/**
 * PopcheckTokenSourceError:
 * @POPCHECK_TOKEN_SOURCE_ERROR_SIGN_IN: the user must sign in again where
 *   the account lives (the account's problem is then
 *   POPCHECK_PROBLEM_SIGN_IN)
 * @POPCHECK_TOKEN_SOURCE_ERROR_GONE: the account is no longer there
 * @POPCHECK_TOKEN_SOURCE_ERROR_FAILED: the source could not give a token
 */
typedef enum
{
  POPCHECK_TOKEN_SOURCE_ERROR_SIGN_IN,
  POPCHECK_TOKEN_SOURCE_ERROR_GONE,
  POPCHECK_TOKEN_SOURCE_ERROR_FAILED,
} PopcheckTokenSourceError;

#define POPCHECK_TYPE_TOKEN_SOURCE (popcheck_token_source_get_type ())

G_DECLARE_INTERFACE (PopcheckTokenSource, popcheck_token_source, POPCHECK,
                     TOKEN_SOURCE, GObject)

struct _PopcheckTokenSourceInterface
{
  GTypeInterface parent_iface;

  void      (*get_token_async)  (PopcheckTokenSource  *self,
                                 PopcheckAccount      *account,
                                 GCancellable         *cancellable,
                                 GAsyncReadyCallback   callback,
                                 gpointer              user_data);
  char *    (*get_token_finish) (PopcheckTokenSource  *self,
                                 GAsyncResult         *result,
                                 GError              **error);
  void      (*renew_async)      (PopcheckTokenSource  *self,
                                 PopcheckAccount      *account,
                                 GCancellable         *cancellable,
                                 GAsyncReadyCallback   callback,
                                 gpointer              user_data);
  gboolean  (*renew_finish)     (PopcheckTokenSource  *self,
                                 GAsyncResult         *result,
                                 GError              **error);
  gboolean  (*check_sign_in)    (PopcheckTokenSource  *self,
                                 PopcheckAccount      *account,
                                 GError              **error);
};

GQuark   popcheck_token_source_error_quark      (void);

/* A fresh access token for @account, to be freed with
 * secret_password_free (it is wiped). */
void     popcheck_token_source_get_token_async  (PopcheckTokenSource  *self,
                                                 PopcheckAccount      *account,
                                                 GCancellable         *cancellable,
                                                 GAsyncReadyCallback   callback,
                                                 gpointer              user_data);
char    *popcheck_token_source_get_token_finish (PopcheckTokenSource  *self,
                                                 GAsyncResult         *result,
                                                 GError              **error);

/* Asks the source to make sure the sign-in still holds (Online Accounts'
 * EnsureCredentials), after a server refused its token. */
void     popcheck_token_source_renew_async      (PopcheckTokenSource  *self,
                                                 PopcheckAccount      *account,
                                                 GCancellable         *cancellable,
                                                 GAsyncReadyCallback   callback,
                                                 gpointer              user_data);
gboolean popcheck_token_source_renew_finish     (PopcheckTokenSource  *self,
                                                 GAsyncResult         *result,
                                                 GError              **error);

/* Without asking the account's server or provider: FALSE, with
 * POPCHECK_TOKEN_SOURCE_ERROR_SIGN_IN, while the source already knows that
 * the user must sign in to @account again where it lives. */
gboolean popcheck_token_source_check_sign_in    (PopcheckTokenSource  *self,
                                                 PopcheckAccount      *account,
                                                 GError              **error);

G_END_DECLS
