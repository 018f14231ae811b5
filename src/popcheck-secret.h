/* popcheck-secret.h: account passwords in the Secret Service (libsecret)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A secret is found by the account's id, host, port, user name and kind
 * under the schema "org.example.PopCheck.Account", so that two accounts of
 * the same mailbox keep their own.  An item stored by an older PopCheck
 * (host, port and user only) is still found, and moved to the account on
 * that first lookup.  It lives only in the keyring:
 * when there is no keyring, or it stays locked, these calls fail with a
 * POPCHECK_SECRET_ERROR and nothing is written anywhere else.
 */

#pragma once

#include <gio/gio.h>
#include <libsecret/secret.h>

G_BEGIN_DECLS

#define POPCHECK_SECRET_ERROR (popcheck_secret_error_quark ())

/**
 * PopcheckSecretError:
 * @POPCHECK_SECRET_ERROR_NO_SERVICE: no Secret Service (or no session bus)
 * @POPCHECK_SECRET_ERROR_LOCKED: the keyring is locked and was not unlocked
 * @POPCHECK_SECRET_ERROR_NOT_FOUND: no password is stored for the account
 * @POPCHECK_SECRET_ERROR_FAILED: the keyring failed otherwise
 *
 * G_IO_ERROR_CANCELLED is passed through when the caller's cancellable was
 * cancelled.
 */
typedef enum
{
  POPCHECK_SECRET_ERROR_NO_SERVICE,
  POPCHECK_SECRET_ERROR_LOCKED,
  POPCHECK_SECRET_ERROR_NOT_FOUND,
  POPCHECK_SECRET_ERROR_FAILED,
} PopcheckSecretError;

/**
 * PopcheckSecretKind:
 * @POPCHECK_SECRET_KIND_PASSWORD: a password, for USER/PASS, APOP or SASL
 * @POPCHECK_SECRET_KIND_OAUTH2_REFRESH_TOKEN: an OAuth2 refresh token
 *
 * What an item holds; its "kind" attribute is
 * popcheck_secret_kind_to_string().
 */
typedef enum
{
  POPCHECK_SECRET_KIND_PASSWORD,
  POPCHECK_SECRET_KIND_OAUTH2_REFRESH_TOKEN,
} PopcheckSecretKind;

GQuark              popcheck_secret_error_quark   (void);

const char         *popcheck_secret_kind_to_string (PopcheckSecretKind kind);

const SecretSchema *popcheck_secret_get_schema    (void) G_GNUC_CONST;

/* Stores (or replaces) the secret.  The item is labelled
 * "PopCheck password for USER@HOST" (or "PopCheck sign-in for …") in the
 * default collection. */
void                popcheck_secret_store_async   (const char          *account_id,
                                                   PopcheckSecretKind   kind,
                                                   const char          *host,
                                                   guint16              port,
                                                   const char          *user,
                                                   const char          *password,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
gboolean            popcheck_secret_store_finish  (GAsyncResult        *result,
                                                   GError             **error);

/* Finds the password, asking the keyring to unlock when it must.  The
 * result is freed with secret_password_free(), which wipes it. */
void                popcheck_secret_lookup_async  (const char          *account_id,
                                                   PopcheckSecretKind   kind,
                                                   const char          *host,
                                                   guint16              port,
                                                   const char          *user,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
char               *popcheck_secret_lookup_finish (GAsyncResult        *result,
                                                   GError             **error);

/* Removes the account's secrets of every kind.  Nothing stored is success; a password that is
 * stored but stays locked is POPCHECK_SECRET_ERROR_LOCKED. */
void                popcheck_secret_clear_async   (const char          *account_id,
                                                   const char          *host,
                                                   guint16              port,
                                                   const char          *user,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
gboolean            popcheck_secret_clear_finish  (GAsyncResult        *result,
                                                   GError             **error);

G_END_DECLS
