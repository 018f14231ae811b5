/* popcheck-window.h: the main window
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "popcheck-types.h"

G_BEGIN_DECLS

#define POPCHECK_TYPE_WINDOW (popcheck_window_get_type ())

G_DECLARE_FINAL_TYPE (PopcheckWindow, popcheck_window,
                      POPCHECK, WINDOW, AdwApplicationWindow)

/* The window shows the checker's mailboxes; what it cannot do itself it
 * asks of the application through its actions ("app.add-account",
 * "app.fix-account", "app.try-demo"). */
PopcheckWindow *popcheck_window_new (GtkApplication  *application,
                                     PopcheckChecker *checker);

G_END_DECLS
