/* bare-window.c: the least a GTK 4 and libadwaita application does to
 * show a window, for tests/bench/app-cost.py to time against PopCheck
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * An AdwApplication that owns its name on the session bus, as PopCheck
 * does, and presents a window of PopCheck's default size with a header
 * bar and a label.  Like PopCheck's window, it logs "Window shown" (with
 * G_MESSAGES_DEBUG=bare-window) once a frame has painted it.  What it
 * takes is GTK's and the renderer's own start, which no application
 * avoids.
 */

#define G_LOG_DOMAIN "bare-window"

#include "config.h"

#include <adwaita.h>

static void
after_paint_cb (GdkFrameClock *clock,
                gpointer       user_data)
{
  g_debug ("Window shown");
  g_signal_handlers_disconnect_by_func (clock, after_paint_cb, user_data);
}

static void
map_cb (GtkWidget *window,
        gpointer   user_data)
{
  g_signal_connect (gtk_widget_get_frame_clock (window), "after-paint",
                    G_CALLBACK (after_paint_cb), NULL);
}

static void
activate_cb (GApplication *app,
             gpointer      user_data)
{
  GtkWidget *window = adw_application_window_new (GTK_APPLICATION (app));
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);

  gtk_box_append (GTK_BOX (box), adw_header_bar_new ());
  gtk_box_append (GTK_BOX (box), gtk_label_new ("A bare window"));
  adw_application_window_set_content (ADW_APPLICATION_WINDOW (window), box);
  gtk_window_set_default_size (GTK_WINDOW (window), 980, 640);
  g_signal_connect (window, "map", G_CALLBACK (map_cb), NULL);
  gtk_window_present (GTK_WINDOW (window));
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(AdwApplication) app = NULL;

  app = adw_application_new ("org.example.PopCheck.BareWindow",
                             G_APPLICATION_DEFAULT_FLAGS);
  g_signal_connect (app, "activate", G_CALLBACK (activate_cb), NULL);

  return g_application_run (G_APPLICATION (app), argc, argv);
}
