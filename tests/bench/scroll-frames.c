/* scroll-frames.c: frame times while a list of 100,000 messages scrolls
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 *   run-under-xvfb -- scroll-frames [--messages N] [--frames N]
 *
 * Lists N messages (100,000 by default) in the app's own rows
 * (PopcheckMessageRow) in a GtkListView, as the window does, renders with
 * GTK's software renderer (GSK_RENDERER=cairo unless set) and scrolls:
 * first smoothly, a few rows a frame, then in jumps that cross the whole
 * list, so that every frame binds a screenful of rows it has not shown.
 * For each frame it takes from GTK's frame clock how long the frame took
 * to make, from its "before-paint" (before it updates, lays out and
 * paints) to its "after-paint", and prints the largest and the 99th percentile against
 * the same window with an empty list scrolled alike (the baseline), and
 * for the jumps, the longest and the median, with where the median's
 * time went: binding the rows, laying them out, rendering.
 * The scroll itself happens in the frame's "update" phase, as GTK's
 * kinetic scrolling does: the list binds the rows it scrolls to as the
 * adjustment moves, and that work belongs to the frame that shows them.
 *
 * Not part of `meson test`: run it by hand or with `meson test --benchmark`.
 */

#include "config.h"

#include <adwaita.h>

#include "pop3-client.h"
#include "popcheck-mailbox.h"
#include "popcheck-message-row.h"

typedef struct
{
  GtkWidget     *window;
  GtkAdjustment *adjustment;
  GArray        *durations;
  /* Per jump frame: a Phases each. */
  GArray        *jumps;
  gint64         frame_start;
  gint64         update_end;
  gint64         layout_end;
  gint64         paint_end;
  /* Where the next frame scrolls to. */
  double         target;
  guint          frame;
  guint          n_frames;
  gboolean       done;
} Run;

/* Where a frame's time went, in ms: the rows rebound as the list moved
 * (update), their measure and allocation (layout), and the rendering. */
typedef struct
{
  double total;
  double update;
  double layout;
  double paint;
} Phases;

static PopcheckMailbox *
list_of (guint n)
{
  PopcheckMailbox *mailbox = popcheck_mailbox_new ("scroll");
  g_autoptr(Pop3UidListing) server = pop3_uid_listing_new ();
  g_autoptr(GArray) sizes = g_array_new (FALSE, FALSE, sizeof (Pop3ListEntry));
  g_autoptr(GPtrArray) need_top = NULL;
  g_autoptr(GPtrArray) announced = NULL;
  g_autoptr(GDateTime) start = g_date_time_new_utc (2024, 1, 1, 0, 0, 0);

  for (guint i = 1; i <= n; i++)
    {
      g_autofree char *uid = g_strdup_printf ("scroll-%u", i);
      Pop3ListEntry size = { i, 1000 + (i * 7919) % 50000 };

      pop3_uid_listing_add (server, i, uid);
      g_array_append_val (sizes, size);
    }

  need_top = popcheck_mailbox_begin_update (mailbox, server, sizes);
  for (guint i = 0; i < need_top->len; i++)
    {
      Pop3UidEntry *entry = g_ptr_array_index (need_top, i);
      g_autoptr(GDateTime) date = g_date_time_add_minutes (start, entry->msg * 7);
      g_autofree char *date_text = g_date_time_format (date, "%a, %d %b %Y %H:%M:%S +0000");
      g_autofree char *text =
        g_strdup_printf ("From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller_%u?= <j%u@example.org>\r\n"
                         "Subject: Re: Quarterly report, draft %u of the figures for the team\r\n"
                         "Date: %s\r\n\r\nHello\r\n",
                         entry->msg % 97, entry->msg, entry->msg, date_text);
      g_autoptr(GBytes) top = g_bytes_new (text, strlen (text));
      g_autoptr(PopcheckMessage) message =
        popcheck_message_new_from_top (entry->uid, 1000 + entry->msg, entry->msg, top, 5);

      popcheck_mailbox_add_summary (mailbox, message);
    }
  announced = popcheck_mailbox_end_update (mailbox);

  return mailbox;
}

static void
setup_cb (GtkSignalListItemFactory *factory,
          GtkListItem              *item,
          gpointer                  user_data)
{
  gtk_list_item_set_child (item, popcheck_message_row_new ());
}

static void
bind_cb (GtkSignalListItemFactory *factory,
         GtkListItem              *item,
         gpointer                  user_data)
{
  popcheck_message_row_set_message (POPCHECK_MESSAGE_ROW (gtk_list_item_get_child (item)),
                                    gtk_list_item_get_item (item));
}

static void
unbind_cb (GtkSignalListItemFactory *factory,
           GtkListItem              *item,
           gpointer                  user_data)
{
  popcheck_message_row_set_message (POPCHECK_MESSAGE_ROW (gtk_list_item_get_child (item)),
                                    NULL);
}

static void
before_paint_cb (GdkFrameClock *clock,
                 Run           *run)
{
  run->frame_start = g_get_monotonic_time ();
}

/* The end of a frame: how long it took, and the next scroll position. */
static void
after_paint_cb (GdkFrameClock *clock,
                Run           *run)
{
  double upper = gtk_adjustment_get_upper (run->adjustment) -
                 gtk_adjustment_get_page_size (run->adjustment);
  double value;

  if (run->done)
    return;
  if (run->frame_start == 0)
    {
      gdk_frame_clock_request_phase (clock, GDK_FRAME_CLOCK_PHASE_PAINT);
      return;
    }

  /* The first frames lay the window out: not scrolling yet. */
  if (run->frame >= 10)
    {
      double ms = (g_get_monotonic_time () - run->frame_start) / 1000.0;

      g_array_append_val (run->durations, ms);
      if (run->frame >= run->n_frames / 2 && run->update_end != 0 &&
          run->layout_end != 0 && run->paint_end != 0)
        {
          Phases phases = {
            ms,
            (run->update_end - run->frame_start) / 1000.0,
            (run->layout_end - run->update_end) / 1000.0,
            (run->paint_end - run->layout_end) / 1000.0,
          };

          g_array_append_val (run->jumps, phases);
        }
    }
  run->update_end = run->layout_end = run->paint_end = 0;
  run->frame_start = 0;

  if (++run->frame >= run->n_frames + 10)
    {
      run->done = TRUE;
      return;
    }

  /* Half the frames scroll by 40 pixels, half jump through the list. */
  if (run->frame < run->n_frames / 2)
    value = gtk_adjustment_get_value (run->adjustment) + 40;
  else
    value = upper * ((run->frame * 7919) % run->n_frames) / run->n_frames;
  run->target = MIN (value, upper);
  gdk_frame_clock_request_phase (clock, GDK_FRAME_CLOCK_PHASE_UPDATE);
}

static void
update_cb (GdkFrameClock *clock,
           Run           *run)
{
  if (run->target >= 0)
    gtk_adjustment_set_value (run->adjustment, run->target);
  run->target = -1;
  run->update_end = g_get_monotonic_time ();
}

/* Connected after GTK's own handlers: these mark the end of the phase. */
static void
layout_cb (GdkFrameClock *clock,
           Run           *run)
{
  run->layout_end = g_get_monotonic_time ();
}

static void
paint_cb (GdkFrameClock *clock,
          Run           *run)
{
  run->paint_end = g_get_monotonic_time ();
}

static int
compare_phases (gconstpointer a,
                gconstpointer b)
{
  double x = ((const Phases *) a)->total, y = ((const Phases *) b)->total;

  return (x > y) - (x < y);
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

/* Largest and 99th percentile frame, in ms, and the median and longest
 * jump. */
static void
scroll (GListModel *model,
        guint       n_frames,
        double     *max,
        double     *p99,
        Phases     *median_jump,
        double     *max_jump)
{
  g_autoptr(GtkListItemFactory) factory = gtk_signal_list_item_factory_new ();
  GtkWidget *scrolled, *view;
  GdkFrameClock *clock;
  Run run = { NULL, };

  g_signal_connect (factory, "setup", G_CALLBACK (setup_cb), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_cb), NULL);
  g_signal_connect (factory, "unbind", G_CALLBACK (unbind_cb), NULL);

  run.window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (run.window), 1100, 700);
  scrolled = gtk_scrolled_window_new ();
  view = gtk_list_view_new (GTK_SELECTION_MODEL (gtk_multi_selection_new (g_object_ref (model))),
                            g_object_ref (factory));
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), view);
  gtk_window_set_child (GTK_WINDOW (run.window), scrolled);
  run.adjustment = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scrolled));
  run.durations = g_array_new (FALSE, FALSE, sizeof (double));
  run.jumps = g_array_new (FALSE, TRUE, sizeof (Phases));
  run.n_frames = n_frames;
  run.target = -1;

  gtk_window_present (GTK_WINDOW (run.window));
  while (!gtk_widget_get_mapped (run.window))
    g_main_context_iteration (NULL, TRUE);

  clock = gtk_widget_get_frame_clock (run.window);
  g_signal_connect (clock, "before-paint", G_CALLBACK (before_paint_cb), &run);
  g_signal_connect (clock, "update", G_CALLBACK (update_cb), &run);
  g_signal_connect (clock, "layout", G_CALLBACK (layout_cb), &run);
  g_signal_connect (clock, "paint", G_CALLBACK (paint_cb), &run);
  g_signal_connect (clock, "after-paint", G_CALLBACK (after_paint_cb), &run);
  gdk_frame_clock_request_phase (clock, GDK_FRAME_CLOCK_PHASE_PAINT);
  while (!run.done)
    g_main_context_iteration (NULL, TRUE);
  g_signal_handlers_disconnect_by_data (clock, &run);

  g_array_sort (run.durations, compare_doubles);
  *max = g_array_index (run.durations, double, run.durations->len - 1);
  *p99 = g_array_index (run.durations, double, (run.durations->len * 99) / 100);

  g_array_sort (run.jumps, compare_phases);
  *median_jump = run.jumps->len > 0
    ? g_array_index (run.jumps, Phases, run.jumps->len / 2)
    : (Phases) { 0, };
  *max_jump = run.jumps->len > 0
    ? g_array_index (run.jumps, Phases, run.jumps->len - 1).total
    : 0;

  gtk_window_destroy (GTK_WINDOW (run.window));
  g_array_unref (run.durations);
  g_array_unref (run.jumps);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PopcheckMailbox) mailbox = NULL;
  g_autoptr(GListStore) empty = NULL;
  int messages = 100000;
  int frames = 600;
  double max, p99, empty_max, empty_p99;
  Phases jump, empty_jump;
  double max_jump, empty_max_jump;
  GOptionEntry entries[] = {
    { "messages", 0, 0, G_OPTION_ARG_INT, &messages, "Messages listed (100000)", "N" },
    { "frames", 0, 0, G_OPTION_ARG_INT, &frames, "Frames measured (600)", "N" },
    { NULL }
  };

  /* The software renderer, as on a machine without a GPU. */
  g_setenv ("GSK_RENDERER", "cairo", FALSE);
  context = g_option_context_new ("- frame times of a long list scrolling");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) ||
      messages < 1 || frames < 10)
    {
      g_printerr ("%s\n", error != NULL ? error->message
                                        : "--messages at least 1, --frames at least 10");
      return 2;
    }

  adw_init ();
  g_printerr ("scroll-frames: listing %d messages\n", messages);
  mailbox = list_of (messages);
  empty = g_list_store_new (POPCHECK_TYPE_MESSAGE);

  scroll (G_LIST_MODEL (empty), frames, &empty_max, &empty_p99, &empty_jump,
          &empty_max_jump);
  scroll (G_LIST_MODEL (mailbox), frames, &max, &p99, &jump, &max_jump);

  g_print ("%d frames scrolling %d messages (renderer %s); baseline: the same "
           "window with an empty list, same run\n",
           frames, messages, g_getenv ("GSK_RENDERER"));
  g_print ("%-22s %10s %10s %8s\n", "", "messages", "baseline", "ratio");
  g_print ("%-22s %7.1f ms %7.1f ms %7.1fx\n", "longest frame", max, empty_max,
           max / empty_max);
  g_print ("%-22s %7.1f ms %7.1f ms %7.1fx\n", "99th percentile", p99, empty_p99,
           p99 / empty_p99);
  /* An empty list has nowhere to jump to: no baseline. */
  g_print ("%-22s %7.1f ms %10s\n", "longest jump", max_jump, "-");
  g_print ("%-22s %7.1f ms %10s\n", "median jump", jump.total, "-");
  g_print ("%-22s %7.1f ms %10s\n", "  rows bound", jump.update, "-");
  g_print ("%-22s %7.1f ms %10s\n", "  laid out", jump.layout, "-");
  g_print ("%-22s %7.1f ms %10s\n", "  rendered", jump.paint, "-");

  return 0;
}
