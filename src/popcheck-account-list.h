/* popcheck-account-list.h: the accounts, as a GListModel
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A GListModel of PopcheckAccount in the order of the "accounts" key of
 * org.example.PopCheck.  When the key changes, from here or from outside,
 * the model follows with one exact "items-changed"; accounts that stay
 * keep their objects.
 */

#pragma once

#include <gio/gio.h>

#include "popcheck-account.h"
#include "popcheck-types.h"

G_BEGIN_DECLS

#define POPCHECK_SETTINGS_SCHEMA_ID "org.example.PopCheck"

#define POPCHECK_TYPE_ACCOUNT_LIST (popcheck_account_list_get_type ())

G_DECLARE_FINAL_TYPE (PopcheckAccountList, popcheck_account_list, POPCHECK,
                      ACCOUNT_LIST, GObject)

PopcheckAccountList *popcheck_account_list_new                     (void);

/* Adds an account at the end, with an id made from the display name
 * ("Work Mail" -> "work-mail", "work-mail-2", ...) and every other key at
 * its default.  Returns the account (owned by the list), or NULL with
 * POPCHECK_ACCOUNT_ERROR_INVALID_NAME for an empty name. */
PopcheckAccount     *popcheck_account_list_add                     (PopcheckAccountList  *self,
                                                                    const char           *display_name,
                                                                    GError              **error);

/* Removes the account from the list at once, resets every key of its
 * settings path, and then removes its password from the keyring unless
 * another account still uses the same host, port and user.  The account
 * is gone even when the password could not be removed: the error (a
 * POPCHECK_SECRET_ERROR) says so. */
void                 popcheck_account_list_remove_async            (PopcheckAccountList  *self,
                                                                    PopcheckAccount      *account,
                                                                    GCancellable         *cancellable,
                                                                    GAsyncReadyCallback   callback,
                                                                    gpointer              user_data);
gboolean             popcheck_account_list_remove_finish           (PopcheckAccountList  *self,
                                                                    GAsyncResult         *result,
                                                                    GError              **error);

/* Lists the accounts of @accounts (a GListModel of PopcheckAccount made
 * with popcheck_account_new_external, such as PopcheckGoaAccounts) after
 * those of the settings, following its changes; NULL for none.  They are
 * never written to the "accounts" key and cannot be removed here. */
void                 popcheck_account_list_set_external            (PopcheckAccountList  *self,
                                                                    GListModel           *accounts);

/* NULL when there is no such account. */
PopcheckAccount     *popcheck_account_list_lookup                  (PopcheckAccountList  *self,
                                                                    const char           *id);
/* The first account with exactly this display name, or else the first
 * whose name matches ignoring case. */
PopcheckAccount     *popcheck_account_list_lookup_by_display_name  (PopcheckAccountList  *self,
                                                                    const char           *display_name);
/* By id, then by display name, for the command line's --account NAME;
 * POPCHECK_ACCOUNT_ERROR_NOT_FOUND when neither matches. */
PopcheckAccount     *popcheck_account_list_find                    (PopcheckAccountList  *self,
                                                                    const char           *id_or_name,
                                                                    GError              **error);

G_END_DECLS
