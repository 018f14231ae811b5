/* popcheck-accessible.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * GTK 4.8 gets some accessible names wrong in ways a .ui file cannot fix:
 * a button with a mnemonic says its label twice, and the buttons GTK and
 * libadwaita build inside their own widgets have no name but their type
 * ("GtkToggleButton").  These helpers put words where a screen reader
 * would otherwise say nothing useful.
 */

#define G_LOG_DOMAIN "popcheck-accessible"

#include "config.h"

#include <glib/gi18n.h>

#include "popcheck-accessible.h"

/* GtkButton sets the label's text, mnemonic mark and all, as the button's
 * name, and its label child, which names the button as its mnemonic
 * widget, adds the same words again: "_Load More Load More".  The child
 * alone says it right.  GtkButton sets the name again whenever the label
 * changes, so this follows it. */
static void
drop_mnemonic_label_cb (GtkButton  *button,
                        GParamSpec *pspec,
                        gpointer    user_data)
{
  if (gtk_button_get_use_underline (button) && gtk_button_get_label (button) != NULL)
    gtk_accessible_reset_property (GTK_ACCESSIBLE (button),
                                   GTK_ACCESSIBLE_PROPERTY_LABEL);
}

/* Every button in @widget, @widget included, from now on: a template's
 * init calls it once, and buttons that get a label later (an account's
 * "Fix Password…") are named right then too. */
void
popcheck_accessible_fix_mnemonic_buttons (GtkWidget *widget)
{
  g_return_if_fail (GTK_IS_WIDGET (widget));

  if (GTK_IS_BUTTON (widget) &&
      g_signal_handler_find (widget, G_SIGNAL_MATCH_FUNC, 0, 0, NULL,
                             drop_mnemonic_label_cb, NULL) == 0)
    {
      g_signal_connect (widget, "notify::label",
                        G_CALLBACK (drop_mnemonic_label_cb), NULL);
      g_signal_connect (widget, "notify::use-underline",
                        G_CALLBACK (drop_mnemonic_label_cb), NULL);
      drop_mnemonic_label_cb (GTK_BUTTON (widget), NULL, NULL);
    }

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    popcheck_accessible_fix_mnemonic_buttons (child);
}

static GtkWidget *
find_shown (GtkWidget *widget,
            GType      type)
{
  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found;

      if (!gtk_widget_get_visible (child))
        continue;
      if (G_TYPE_CHECK_INSTANCE_TYPE (child, type))
        return child;
      if ((found = find_shown (child, type)) != NULL)
        return found;
    }

  return NULL;
}

/* Names the first visible widget of @type inside @widget, one that GTK or
 * libadwaita made (the password row's reveal button, a drop-down's
 * toggle, the shortcuts window's search button, the preferences window's
 * search entry), with @label.  Their insides are not API, so a widget
 * without one is left as it is. */
void
popcheck_accessible_name_inner_widget (GtkWidget  *widget,
                                       GType       type,
                                       const char *label)
{
  GtkWidget *inner;

  g_return_if_fail (GTK_IS_WIDGET (widget));
  g_return_if_fail (g_type_is_a (type, GTK_TYPE_WIDGET));
  g_return_if_fail (label != NULL);

  inner = find_shown (widget, type);
  if (inner == NULL)
    {
      g_debug ("Nothing inside %s to name “%s”", G_OBJECT_TYPE_NAME (widget), label);
      return;
    }

  gtk_accessible_update_property (GTK_ACCESSIBLE (inner),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                  -1);
}

static void
name_icon_buttons (GtkWidget  *widget,
                   const char *label)
{
  if (GTK_IS_BUTTON (widget) && gtk_button_get_label (GTK_BUTTON (widget)) == NULL &&
      gtk_button_get_icon_name (GTK_BUTTON (widget)) != NULL)
    gtk_accessible_update_property (GTK_ACCESSIBLE (widget),
                                    GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                    -1);

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    name_icon_buttons (child, label);
}

/* libadwaita 1.2 makes a widget for each toast as it shows it: its button
 * says its label twice and its close button has no name.  Call this
 * whenever a toast may have appeared. */
void
popcheck_accessible_fix_toasts (AdwToastOverlay *overlay)
{
  GtkWidget *content;

  g_return_if_fail (ADW_IS_TOAST_OVERLAY (overlay));

  content = adw_toast_overlay_get_child (overlay);
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (overlay));
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      if (child == content)
        continue;
      popcheck_accessible_fix_mnemonic_buttons (child);
      /* Translators: the button that closes a notice at the bottom of
       * the window */
      name_icon_buttons (child, _("Close the notice"));
    }
}
