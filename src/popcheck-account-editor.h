/* popcheck-account-editor.h: add or edit one account
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "popcheck-oauth.h"
#include "popcheck-types.h"

G_BEGIN_DECLS

#define POPCHECK_TYPE_ACCOUNT_EDITOR (popcheck_account_editor_get_type ())

G_DECLARE_FINAL_TYPE (PopcheckAccountEditor, popcheck_account_editor,
                      POPCHECK, ACCOUNT_EDITOR, GtkBox)

/* account NULL: a new account, added to accounts when saved.
 *
 * Signals:
 *   "saved" (PopcheckAccount *account): the settings are stored and the
 *       password typed (if any) is in the keyring;
 *   "closed": the person went back without saving (or after saving). */
GtkWidget       *popcheck_account_editor_new         (PopcheckAccountList   *accounts,
                                                      PopcheckAccount       *account);
PopcheckAccount *popcheck_account_editor_get_account (PopcheckAccountEditor *self);
gboolean         popcheck_account_editor_get_busy    (PopcheckAccountEditor *self);

/* When the form holds changes not saved, asks whether to discard them and
 * returns TRUE: Discard then closes window (or, for NULL, the editor).
 * Returns FALSE when there is nothing to lose. */
gboolean         popcheck_account_editor_ask_before_leaving (PopcheckAccountEditor *self,
                                                             GtkWindow             *window);

/* Says beside the password what went wrong with it (the last check's
 * words) and puts the focus there. */
void             popcheck_account_editor_show_password_problem (PopcheckAccountEditor *self,
                                                                const char            *problem);

/* For an account that signs in with Microsoft or Google: starts the
 * browser sign-in at once, and saves the account as soon as it is done,
 * which replaces the sign-in in the keyring. */
void             popcheck_account_editor_sign_in_again (PopcheckAccountEditor *self);

/* Where a Microsoft or Google sign-in opens its address, instead of the
 * desktop's browser (the tests follow it themselves).  user_data must
 * outlive the editor. */
void             popcheck_account_editor_set_uri_launcher (PopcheckAccountEditor    *self,
                                                           PopcheckOAuthUriLauncher  launcher,
                                                           gpointer                  user_data);

G_END_DECLS
