/* popcheck-application.h: the application, its actions and options
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "popcheck-types.h"

G_BEGIN_DECLS

#define POPCHECK_TYPE_APPLICATION (popcheck_application_get_type ())

G_DECLARE_FINAL_TYPE (PopcheckApplication, popcheck_application,
                      POPCHECK, APPLICATION, AdwApplication)

PopcheckApplication *popcheck_application_new              (void);

PopcheckAccountList *popcheck_application_get_accounts     (PopcheckApplication *self);
PopcheckChecker     *popcheck_application_get_checker      (PopcheckApplication *self);

/* Whether closing the window leaves PopCheck checking in the background. */
gboolean             popcheck_application_get_run_in_background (PopcheckApplication *self);

/* Opens the account editor for a new account. */
void                 popcheck_application_add_account       (PopcheckApplication *self,
                                                             GtkWindow           *parent);
/* Leads to what fixes an account's problem: its password in the account
 * editor, the certificate dialog, or another check. */
void                 popcheck_application_fix_account       (PopcheckApplication *self,
                                                             GtkWindow           *parent,
                                                             const char          *account_id);

/* "Try the demo mailbox": starts the demo server (stopped again at quit)
 * and adds an account for it, its certificate pinned and its password in
 * the keyring. */
void                 popcheck_application_start_demo_async  (PopcheckApplication *self,
                                                             GCancellable        *cancellable,
                                                             GAsyncReadyCallback  callback,
                                                             gpointer             user_data);
gboolean             popcheck_application_start_demo_finish (PopcheckApplication *self,
                                                             GAsyncResult        *result,
                                                             GError             **error);

G_END_DECLS
