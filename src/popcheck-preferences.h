/* popcheck-preferences.h: the preferences window
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "popcheck-oauth.h"
#include "popcheck-types.h"

G_BEGIN_DECLS

#define POPCHECK_TYPE_PREFERENCES_WINDOW (popcheck_preferences_window_get_type ())

G_DECLARE_FINAL_TYPE (PopcheckPreferencesWindow, popcheck_preferences_window,
                      POPCHECK, PREFERENCES_WINDOW, AdwPreferencesWindow)

GtkWindow *popcheck_preferences_window_new          (GtkApplication            *app,
                                                     PopcheckAccountList       *accounts);

/* Opens the editor of one account (on top of the accounts page). */
void       popcheck_preferences_window_edit_account (PopcheckPreferencesWindow *self,
                                                     const char                *account_id);

/* Opens the editor of one account at its password, saying beside it what
 * went wrong (problem: the last check's words, or NULL). */
void       popcheck_preferences_window_fix_password (PopcheckPreferencesWindow *self,
                                                     const char                *account_id,
                                                     const char                *problem);

/* Opens the editor of an account that signs in with OAuth2 and starts
 * its browser sign-in; the new sign-in is saved as soon as it is done. */
void       popcheck_preferences_window_sign_in_again (PopcheckPreferencesWindow *self,
                                                      const char                *account_id);

/* Where the editors' sign-ins open their address (see
 * popcheck_account_editor_set_uri_launcher()); user_data must outlive the
 * window. */
void       popcheck_preferences_window_set_uri_launcher (PopcheckPreferencesWindow *self,
                                                         PopcheckOAuthUriLauncher   launcher,
                                                         gpointer                   user_data);

/* Opens the editor of a new account. */
void       popcheck_preferences_window_add_account  (PopcheckPreferencesWindow *self);

G_END_DECLS
