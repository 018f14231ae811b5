/* popcheck-goa-accounts.h: mail accounts from GNOME Online Accounts
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A GListModel of PopcheckAccount, one for each account of Settings →
 * Online Accounts that PopCheck can check by POP3: its provider is in
 * PopCheck's table (Online Accounts knows no POP3 server), it signs in
 * with OAuth2, and its mail is not turned off.  The accounts follow Online
 * Accounts live: added, renamed, hidden when mail is turned off, gone when
 * removed.  Their keys are in memory (popcheck_account_new_external); only
 * whether PopCheck checks each one is stored, in the "online-accounts" key
 * of org.example.PopCheck, off until the user turns it on.  Tokens come
 * from Online Accounts at each connection (the PopcheckTokenSource); none
 * is stored.
 */

#pragma once

#include <gio/gio.h>

#include "pop3-client.h"
#include "popcheck-types.h"

G_BEGIN_DECLS

#define POPCHECK_GOA_ERROR (popcheck_goa_error_quark ())

/**
 * PopcheckGoaError:
 * @POPCHECK_GOA_ERROR_NO_SETTINGS: Settings (gnome-control-center) is not
 *   installed
 * @POPCHECK_GOA_ERROR_NOT_ONLINE: the account is not from Online Accounts
 */
typedef enum
{
  POPCHECK_GOA_ERROR_NO_SETTINGS,
  POPCHECK_GOA_ERROR_NOT_ONLINE,
} PopcheckGoaError;

/* Where an Online Accounts provider keeps its POP3 mailbox. */
typedef struct
{
  const char     *provider_type;
  const char     *host;
  guint16         port;
  Pop3Security    security;
  Pop3AuthMethod  auth_method;
} PopcheckGoaProvider;

#define POPCHECK_TYPE_GOA_ACCOUNTS (popcheck_goa_accounts_get_type ())

G_DECLARE_FINAL_TYPE (PopcheckGoaAccounts, popcheck_goa_accounts, POPCHECK,
                      GOA_ACCOUNTS, GObject)

GQuark                     popcheck_goa_error_quark              (void);

/* PopCheck's table: the provider of this Online Accounts provider type
 * ("google"), or NULL when PopCheck cannot check its accounts. */
const PopcheckGoaProvider *popcheck_goa_lookup_provider          (const char      *provider_type);

/* Connects to Online Accounts in the background; the model fills in when
 * it answers, and stays empty where there is none. */
PopcheckGoaAccounts       *popcheck_goa_accounts_new             (void);

/* The id Online Accounts knows @account by, or NULL for an account of
 * PopCheck's own. */
char                      *popcheck_goa_accounts_dup_goa_id      (PopcheckAccount *account);

/* Opens Settings → Online Accounts at @account, without waiting for it;
 * fails, with a sentence for a person, when Settings is not installed or
 * the account is not from Online Accounts. */
gboolean                   popcheck_goa_open_settings            (PopcheckAccount  *account,
                                                                  GError          **error);

G_END_DECLS
