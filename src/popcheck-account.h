/* popcheck-account.h: one POP3 account, kept in GSettings
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * An account is the relocatable schema org.example.PopCheck.Account at
 * /org/example/PopCheck/accounts/ID/.  Every key is a property of the same
 * name, notified when the key changes, also from outside (gsettings,
 * dconf-editor).  The password is not here: see popcheck-secret.h.
 */

#pragma once

#include <gio/gio.h>

#include "pop3-client.h"
#include "popcheck-types.h"

G_BEGIN_DECLS

#define POPCHECK_ACCOUNT_SCHEMA_ID   "org.example.PopCheck.Account"
#define POPCHECK_ACCOUNT_PATH_PREFIX "/org/example/PopCheck/accounts/"

#define POPCHECK_ACCOUNT_ERROR (popcheck_account_error_quark ())

/**
 * PopcheckAccountError:
 * @POPCHECK_ACCOUNT_ERROR_INVALID_NAME: the display name is empty
 * @POPCHECK_ACCOUNT_ERROR_INVALID_HOST: the host is empty or contains a
 *   space or control character
 * @POPCHECK_ACCOUNT_ERROR_INVALID_USER: the user name is empty or contains
 *   a space or control character
 * @POPCHECK_ACCOUNT_ERROR_INVALID_PORT: the port is not 1 to 65535
 * @POPCHECK_ACCOUNT_ERROR_NOT_FOUND: no account has that id or name
 */
typedef enum
{
  POPCHECK_ACCOUNT_ERROR_INVALID_NAME,
  POPCHECK_ACCOUNT_ERROR_INVALID_HOST,
  POPCHECK_ACCOUNT_ERROR_INVALID_USER,
  POPCHECK_ACCOUNT_ERROR_INVALID_PORT,
  POPCHECK_ACCOUNT_ERROR_NOT_FOUND,
} PopcheckAccountError;

#define POPCHECK_TYPE_ACCOUNT (popcheck_account_get_type ())

G_DECLARE_FINAL_TYPE (PopcheckAccount, popcheck_account, POPCHECK, ACCOUNT,
                      GObject)

GQuark           popcheck_account_error_quark           (void);

/* Ids are what the settings path is made of: ASCII letters, digits, '-'
 * and '_', at most 64 characters. */
gboolean         popcheck_account_id_is_valid           (const char      *id);

gboolean         popcheck_account_validate_host         (const char      *host,
                                                         GError         **error);
gboolean         popcheck_account_validate_user         (const char      *user,
                                                         GError         **error);
gboolean         popcheck_account_validate_port         (guint            port,
                                                         GError         **error);

PopcheckAccount *popcheck_account_new                   (const char      *id);

/* An account whose sign-in lives elsewhere (GNOME Online Accounts): its
 * keys are kept in memory, never in PopCheck's settings, whoever sets
 * them, and the session gets its access tokens from @token_source. */
PopcheckAccount *popcheck_account_new_external          (const char          *id,
                                                         PopcheckTokenSource *token_source);
gboolean         popcheck_account_is_external           (PopcheckAccount *self);
/* NULL for an account of PopCheck's own, or once the source is gone. */
PopcheckTokenSource *popcheck_account_dup_token_source  (PopcheckAccount *self);

/* Checks the stored host, user and port as they are now: settings changed
 * from outside are not checked when they are written. */
gboolean         popcheck_account_validate              (PopcheckAccount *self,
                                                         GError         **error);

const char      *popcheck_account_get_id                (PopcheckAccount *self);
GSettings       *popcheck_account_get_settings          (PopcheckAccount *self);

const char      *popcheck_account_get_display_name      (PopcheckAccount *self);
void             popcheck_account_set_display_name      (PopcheckAccount *self,
                                                         const char      *display_name);
const char      *popcheck_account_get_host              (PopcheckAccount *self);
void             popcheck_account_set_host              (PopcheckAccount *self,
                                                         const char      *host);
guint16          popcheck_account_get_port              (PopcheckAccount *self);
void             popcheck_account_set_port              (PopcheckAccount *self,
                                                         guint16          port);
Pop3Security     popcheck_account_get_security          (PopcheckAccount *self);
void             popcheck_account_set_security          (PopcheckAccount *self,
                                                         Pop3Security     security);
const char      *popcheck_account_get_user              (PopcheckAccount *self);
void             popcheck_account_set_user              (PopcheckAccount *self,
                                                         const char      *user);
Pop3AuthMethod   popcheck_account_get_auth_method       (PopcheckAccount *self);
void             popcheck_account_set_auth_method       (PopcheckAccount *self,
                                                         Pop3AuthMethod   method);
gboolean         popcheck_account_get_enabled           (PopcheckAccount *self);
void             popcheck_account_set_enabled           (PopcheckAccount *self,
                                                         gboolean         enabled);
/* Minutes, 1 to 1440. */
guint            popcheck_account_get_check_interval    (PopcheckAccount *self);
void             popcheck_account_set_check_interval    (PopcheckAccount *self,
                                                         guint            minutes);
gboolean         popcheck_account_get_notify            (PopcheckAccount *self);
void             popcheck_account_set_notify            (PopcheckAccount *self,
                                                         gboolean         notify);
/* Whether its new-mail notification asks the desktop for a sound. */
gboolean         popcheck_account_get_sound             (PopcheckAccount *self);
void             popcheck_account_set_sound             (PopcheckAccount *self,
                                                         gboolean         sound);
/* 0 to 1000. */
guint            popcheck_account_get_preview_lines     (PopcheckAccount *self);
void             popcheck_account_set_preview_lines     (PopcheckAccount *self,
                                                         guint            lines);
/* The SHA-256 fingerprint accepted despite validation errors, or NULL. */
const char      *popcheck_account_get_pinned_fingerprint (PopcheckAccount *self);
void             popcheck_account_set_pinned_fingerprint (PopcheckAccount *self,
                                                          const char      *fingerprint);
/* The OAuth2 provider preset the account signs in with ("microsoft",
 * "google"), or NULL for an account with a password. */
char            *popcheck_account_dup_oauth2_provider   (PopcheckAccount *self);
void             popcheck_account_set_oauth2_provider   (PopcheckAccount *self,
                                                         const char      *provider);

G_END_DECLS
