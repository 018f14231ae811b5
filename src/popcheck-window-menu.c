/* popcheck-window-menu.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The context menu of the message list's rows: a right click, Shift+F10
 * or the Menu key.  Its items act on the row it was opened for, not on the
 * selection, as in a file manager: the message is held from the moment the
 * menu opens, so mail that arrives meanwhile and moves the rows cannot make
 * an item act on another message.
 *
 * One menu serves every row; it is placed in the row it opens for, since a
 * popover needs a parent that gives it its place (a row's layout manager
 * does), and rows come and go as the list scrolls.
 */

#define G_LOG_DOMAIN "popcheck-window"

#include "config.h"

#include <glib/gi18n.h>

#include "popcheck-message.h"
#include "popcheck-message-row.h"
#include "popcheck-window-private.h"

/* The row a widget of the list belongs to: the row itself, a widget in
 * it, or the list item that holds it. */
static PopcheckMessageRow *
row_of_widget (PopcheckWindow *self,
               GtkWidget      *widget)
{
  for (; widget != NULL && widget != GTK_WIDGET (self->list_view);
       widget = gtk_widget_get_parent (widget))
    {
      GtkWidget *child = gtk_widget_get_first_child (widget);

      if (POPCHECK_IS_MESSAGE_ROW (widget))
        return POPCHECK_MESSAGE_ROW (widget);
      if (POPCHECK_IS_MESSAGE_ROW (child))
        return POPCHECK_MESSAGE_ROW (child);
    }

  return NULL;
}

static void
popup_menu (PopcheckWindow     *self,
            PopcheckMessageRow *row,
            double              x,
            double              y)
{
  PopcheckMessage *message = popcheck_message_row_get_message (row);
  GtkWidget *parent = gtk_widget_get_parent (self->row_menu);

  if (message == NULL)
    return;

  g_set_object (&self->menu_message, message);

  if (parent != GTK_WIDGET (row))
    {
      gtk_popover_popdown (GTK_POPOVER (self->row_menu));
      if (parent != NULL)
        gtk_widget_unparent (self->row_menu);
      gtk_widget_set_parent (self->row_menu, GTK_WIDGET (row));
    }

  gtk_popover_set_pointing_to (GTK_POPOVER (self->row_menu),
                               &(GdkRectangle) { (int) x, (int) y, 1, 1 });
  gtk_popover_popup (GTK_POPOVER (self->row_menu));
}

static void
right_click_cb (GtkGestureClick *gesture,
                int              n_press,
                double           x,
                double           y,
                PopcheckWindow  *self)
{
  GtkWidget *list = GTK_WIDGET (self->list_view);
  GtkWidget *picked = gtk_widget_pick (list, x, y, GTK_PICK_DEFAULT);
  PopcheckMessageRow *row = row_of_widget (self, picked);
  graphene_point_t point;

  if (row == NULL ||
      !gtk_widget_compute_point (list, GTK_WIDGET (row),
                                 &GRAPHENE_POINT_INIT (x, y), &point))
    return;

  gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_CLAIMED);
  popup_menu (self, row, point.x, point.y);
}

/* Shift+F10 or the Menu key: the focused row's menu, at its start. */
static gboolean
menu_key_cb (GtkWidget *widget,
             GVariant  *args,
             gpointer   user_data)
{
  PopcheckWindow *self = user_data;
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (self));
  PopcheckMessageRow *row = row_of_widget (self, focus);

  if (row == NULL)
    return FALSE;

  popup_menu (self, row, 12, gtk_widget_get_height (GTK_WIDGET (row)) / 2.0);
  return TRUE;
}

/* The menu's message where the list shows it now, or NULL when it has
 * left the list meanwhile. */
static GtkBitset *
menu_message_positions (PopcheckWindow *self)
{
  guint position;

  if (self->menu_message == NULL ||
      !_popcheck_window_find_message (self, self->menu_message, &position))
    return NULL;

  return gtk_bitset_new_range (position, 1);
}

static void
preview_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  PopcheckWindow *self = POPCHECK_WINDOW (widget);
  g_autoptr(GtkBitset) positions = menu_message_positions (self);

  if (positions != NULL)
    gtk_selection_model_select_item (popcheck_window_get_selection (self),
                                     gtk_bitset_get_minimum (positions), TRUE);
}

static void
mark_seen_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  PopcheckWindow *self = POPCHECK_WINDOW (widget);
  g_autoptr(GtkBitset) positions = menu_message_positions (self);

  if (positions != NULL)
    _popcheck_window_mark_seen (self, positions);
}

static void
delete_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  PopcheckWindow *self = POPCHECK_WINDOW (widget);
  g_autoptr(GtkBitset) positions = menu_message_positions (self);

  if (positions != NULL)
    _popcheck_window_delete (self, positions);
}

/* The address alone: what a person pastes into a mail program's "To". */
static void
copy_sender_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  PopcheckWindow *self = POPCHECK_WINDOW (widget);
  const char *address;

  if (self->menu_message == NULL)
    return;

  address = popcheck_message_get_from_address (self->menu_message);
  if (address == NULL || *address == '\0')
    return;

  gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), address);
}

static GMenuModel *
create_menu_model (void)
{
  GMenu *menu = g_menu_new ();
  g_autoptr(GMenu) first = g_menu_new ();
  g_autoptr(GMenu) second = g_menu_new ();
  g_autoptr(GMenu) third = g_menu_new ();

  g_menu_append (first, _("_Preview"), "message.preview");
  g_menu_append (first, _("Mark as _Seen"), "message.mark-seen");
  g_menu_append (second, _("_Copy Sender"), "message.copy-sender");
  g_menu_append (third, _("_Delete"), "message.delete");
  g_menu_append_section (menu, NULL, G_MENU_MODEL (first));
  g_menu_append_section (menu, NULL, G_MENU_MODEL (second));
  g_menu_append_section (menu, NULL, G_MENU_MODEL (third));

  return G_MENU_MODEL (menu);
}

static void
update_menu_actions (PopcheckWindow *self)
{
  PopcheckMessage *message = self->menu_message;
  const char *address = message != NULL ? popcheck_message_get_from_address (message) : NULL;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "message.mark-seen",
                                 message != NULL && popcheck_message_get_is_new (message));
  /* A message without a UID cannot be deleted safely (see
   * selection_is_deletable ()). */
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "message.delete",
                                 message != NULL && popcheck_message_get_has_uid (message));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "message.copy-sender",
                                 address != NULL && *address != '\0');
}

static void
menu_message_changed_cb (GtkPopover     *popover,
                         PopcheckWindow *self)
{
  update_menu_actions (self);
}

void
_popcheck_window_menu_init (PopcheckWindow *self)
{
  g_autoptr(GMenuModel) model = create_menu_model ();
  GtkGesture *right_click;
  GtkEventController *keys;
  GtkShortcutAction *action;

  self->row_menu = g_object_ref_sink (gtk_popover_menu_new_from_model (model));
  gtk_popover_set_has_arrow (GTK_POPOVER (self->row_menu), FALSE);
  gtk_widget_set_halign (self->row_menu, GTK_ALIGN_START);
  g_signal_connect (self->row_menu, "show", G_CALLBACK (menu_message_changed_cb), self);

  right_click = gtk_gesture_click_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (right_click), GDK_BUTTON_SECONDARY);
  g_signal_connect (right_click, "pressed", G_CALLBACK (right_click_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self->list_view), GTK_EVENT_CONTROLLER (right_click));

  keys = gtk_shortcut_controller_new ();
  action = gtk_callback_action_new (menu_key_cb, self, NULL);
  gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (keys),
    gtk_shortcut_new (gtk_alternative_trigger_new (gtk_keyval_trigger_new (GDK_KEY_F10, GDK_SHIFT_MASK),
                                                   gtk_keyval_trigger_new (GDK_KEY_Menu, 0)),
                      action));
  gtk_widget_add_controller (GTK_WIDGET (self->list_view), keys);
}

void
_popcheck_window_menu_dispose (PopcheckWindow *self)
{
  if (self->row_menu != NULL && gtk_widget_get_parent (self->row_menu) != NULL)
    gtk_widget_unparent (self->row_menu);
  g_clear_object (&self->row_menu);
  g_clear_object (&self->menu_message);
}

void
_popcheck_window_class_menu_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "message.preview", NULL, preview_action);
  gtk_widget_class_install_action (widget_class, "message.mark-seen", NULL, mark_seen_action);
  gtk_widget_class_install_action (widget_class, "message.copy-sender", NULL, copy_sender_action);
  gtk_widget_class_install_action (widget_class, "message.delete", NULL, delete_action);
}
