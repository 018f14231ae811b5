/* popcheck-window-actions.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The window's actions that only pass a request on, to the preview or the
 * account filter.  Delete and Undo live in popcheck-window.c, beside the
 * deletes they keep waiting for the undo toast.  What the application does
 * for the window (checking, adding or fixing an account, the demo mailbox)
 * are the application's own actions.
 */

#define G_LOG_DOMAIN "popcheck-window"

#include "config.h"

#include "popcheck-window-private.h"

static void
load_more_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  PopcheckWindow *self = POPCHECK_WINDOW (widget);

  gtk_widget_activate_action (GTK_WIDGET (self->preview), "preview.load-more", NULL);
}

static void
show_whole_message_action (GtkWidget  *widget,
                           const char *action_name,
                           GVariant   *parameter)
{
  PopcheckWindow *self = POPCHECK_WINDOW (widget);

  gtk_widget_activate_action (GTK_WIDGET (self->preview), "preview.show-whole", NULL);
}

static void
filter_accounts_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  PopcheckWindow *self = POPCHECK_WINDOW (widget);

  if (gtk_widget_get_visible (GTK_WIDGET (self->account_dropdown)))
    gtk_widget_grab_focus (GTK_WIDGET (self->account_dropdown));
}

void
_popcheck_window_class_actions_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "win.load-more", NULL, load_more_action);
  gtk_widget_class_install_action (widget_class, "win.show-whole-message", NULL,
                                   show_whole_message_action);
  gtk_widget_class_install_action (widget_class, "win.filter-accounts", NULL,
                                   filter_accounts_action);
}
