/* popcheck-accessible.h: names a screen reader can say
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

void popcheck_accessible_fix_mnemonic_buttons (GtkWidget       *widget);
void popcheck_accessible_fix_toasts           (AdwToastOverlay *overlay);
void popcheck_accessible_name_inner_widget    (GtkWidget       *widget,
                                               GType            type,
                                               const char      *label);

G_END_DECLS
