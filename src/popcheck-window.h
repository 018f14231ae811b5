/* popcheck-window.h: the main window
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "popcheck-application.h"

G_BEGIN_DECLS

#define POPCHECK_TYPE_WINDOW (popcheck_window_get_type ())

G_DECLARE_FINAL_TYPE (PopcheckWindow, popcheck_window,
                      POPCHECK, WINDOW, AdwApplicationWindow)

PopcheckWindow *popcheck_window_new (PopcheckApplication *application);

G_END_DECLS
