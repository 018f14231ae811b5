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

/* The application owns them; the window gets the checker when it is
 * made, and asks for the rest through the application's actions. */
PopcheckAccountList *popcheck_application_get_accounts     (PopcheckApplication *self);
PopcheckChecker     *popcheck_application_get_checker      (PopcheckApplication *self);

/* Whether closing the window leaves PopCheck checking in the background. */
gboolean             popcheck_application_get_run_in_background (PopcheckApplication *self);

G_END_DECLS
