/* popcheck-wrap-box.h: children side by side, or one above the other
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A container that puts its children in a row, as a horizontal GtkBox
 * would, when the width gives each its natural width, and otherwise one
 * above the other at the full width.  libadwaita 1.2
 * has no breakpoints: the choice is made for each width the widget is
 * measured or allocated at, so it never needs a second layout pass.
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define POPCHECK_TYPE_WRAP_BOX (popcheck_wrap_box_get_type ())

G_DECLARE_FINAL_TYPE (PopcheckWrapBox, popcheck_wrap_box, POPCHECK, WRAP_BOX, GtkWidget)

GtkWidget *popcheck_wrap_box_new         (void);

int        popcheck_wrap_box_get_spacing (PopcheckWrapBox *self);
void       popcheck_wrap_box_set_spacing (PopcheckWrapBox *self,
                                          int              spacing);

G_END_DECLS
