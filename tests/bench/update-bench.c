/* update-bench.c: what a check of a big mailbox costs the main loop
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 *   update-bench [--messages N]
 *
 * The checker reconciles each check's listing with the mailbox on the
 * main loop: popcheck_mailbox_begin_update_newest_async () before the
 * TOPs, in slices, popcheck_mailbox_end_update () after them, and
 * popcheck_mailbox_fill_pending_batch () for each batch of the backlog.
 * Each slice, end and batch is one stretch the main loop cannot draw a
 * frame in.  For the begin, this times the longest stretch (without the
 * gap before it) and the whole, from the call to its result.  With N
 * messages (100,000 by default), listed as a server lists them, this
 * times:
 *
 *   - a first check that fetches the newest 300 (the rest wait);
 *   - the backlog, in batches of 100, newest to oldest: the first batch,
 *     and the longest of the others;
 *   - a check with nothing new, three times: the longest;
 *   - a check with 50 new messages;
 *   - a check after another client deleted the newest five (as a phone
 *     does with what its user read and threw away);
 *   - a check after another client deleted the oldest tenth.
 *
 * The baseline, in the same run: each listed UID looked up once in a
 * GHashTable of them, GLib alone, the least a reconcile by UID costs.
 *
 * Not part of `meson test`: run it by hand or with `meson test --benchmark`.
 */

#include "config.h"

#include <stdio.h>
#include <string.h>

#include "pop3-client.h"
#include "popcheck-mailbox-private.h"

#define N_NEWEST 300
#define BATCH    100

static char *
uid_of (guint i)
{
  return g_strdup_printf ("%08X.%u.pop.example.org", i * 2654435761u, i);
}

static PopcheckMessage *
summary_of (guint i,
            guint msg)
{
  g_autofree char *uid = uid_of (i);
  g_autofree char *text = NULL;
  g_autofree char *date = NULL;
  g_autoptr(GDateTime) base = g_date_time_new_utc (2024, 1, 1, 0, 0, 0);
  g_autoptr(GDateTime) sent = g_date_time_add_seconds (base, i);
  g_autoptr(GBytes) bytes = NULL;

  /* A second apart, in the order of their numbers, as mail arrives. */
  date = g_date_time_format (sent, "%a, %d %b %Y %H:%M:%S +0000");
  text = g_strdup_printf ("From: Sender %u <sender%u@example.org>\r\n"
                          "Subject: Message %u\r\n"
                          "Date: %s\r\n"
                          "\r\n", i, i, i, date);
  bytes = g_bytes_new (text, strlen (text));
  return popcheck_message_new_from_top (uid, 1000 + i, msg, bytes, 0);
}

/* Messages first to first + n - 1, numbered from 1 as a server does. */
static Pop3UidListing *
listing_of (guint    first,
            guint    n,
            GArray **sizes)
{
  Pop3UidListing *listing = pop3_uid_listing_new ();

  *sizes = g_array_sized_new (FALSE, FALSE, sizeof (Pop3ListEntry), n);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *uid = uid_of (first + i);
      Pop3ListEntry entry = { i + 1, 1000 + first + i };

      pop3_uid_listing_add (listing, i + 1, uid);
      g_array_append_val (*sizes, entry);
    }

  return listing;
}

static double
ms_since (gint64 start)
{
  return (g_get_monotonic_time () - start) / 1000.0;
}

/* One turn of the main loop, as g_main_context_iteration () takes when
 * it may block; returns the milliseconds its dispatch took, not its wait
 * for a source to be due.  The main loop is free for frames during the
 * begin's 1 ms gaps between slices, which a timed iteration counted as
 * part of the slice after them. */
static double
timed_turn (void)
{
  GMainContext *context = g_main_context_default ();
  GPollFD fds[64];
  gint max_priority, timeout, n_fds;
  gint64 start;

  g_assert_true (g_main_context_acquire (context));
  g_main_context_prepare (context, &max_priority);
  n_fds = g_main_context_query (context, max_priority, &timeout,
                                fds, G_N_ELEMENTS (fds));
  g_assert_cmpint (n_fds, <=, G_N_ELEMENTS (fds));
  g_poll (fds, n_fds, timeout);

  start = g_get_monotonic_time ();
  if (g_main_context_check (context, max_priority, fds, n_fds))
    g_main_context_dispatch (context);
  g_main_context_release (context);

  return ms_since (start);
}

typedef struct
{
  /* The begin's longest stretch on the main loop, and the whole. */
  double begin_slice;
  double begin;
  double end;
  guint  n_top;
} Check;

typedef struct
{
  GPtrArray *need;
  gboolean   done;
} Begun;

static void
begun_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  Begun *begun = user_data;
  g_autoptr(GError) error = NULL;

  begun->need = popcheck_mailbox_begin_update_newest_finish (POPCHECK_MAILBOX (object),
                                                             result, NULL, &error);
  g_assert_no_error (error);
  begun->done = TRUE;
}

/* The begin as the checker runs it: nothing else runs, so each turn of
 * the main loop is one slice. */
static GPtrArray *
run_begin (PopcheckMailbox *mailbox,
           Pop3UidListing  *listing,
           GArray          *sizes,
           Check           *check)
{
  Begun begun = { NULL, FALSE };
  gint64 start = g_get_monotonic_time ();

  popcheck_mailbox_begin_update_newest_async (mailbox, listing, sizes, N_NEWEST,
                                              NULL, begun_cb, &begun);
  check->begin_slice = ms_since (start);
  while (!begun.done)
    {
      double turn = timed_turn ();

      check->begin_slice = MAX (check->begin_slice, turn);
    }
  check->begin = ms_since (start);

  return begun.need;
}

/* A check as the checker runs it: the listing, TOPs for what it asks,
 * the end. */
static Check
run_check (PopcheckMailbox *mailbox,
           guint            first,
           guint            n)
{
  g_autoptr(GPtrArray) need = NULL;
  GArray *sizes;
  Pop3UidListing *listing = listing_of (first, n, &sizes);
  Check check;
  gint64 start;

  need = run_begin (mailbox, listing, sizes, &check);
  check.n_top = need->len;

  for (guint i = 0; i < need->len; i++)
    {
      Pop3UidEntry *entry = g_ptr_array_index (need, i);
      g_autoptr(PopcheckMessage) message = summary_of (first + entry->msg - 1,
                                                       entry->msg);

      popcheck_mailbox_add_summary (mailbox, message);
    }

  start = g_get_monotonic_time ();
  g_ptr_array_unref (popcheck_mailbox_end_update (mailbox));
  check.end = ms_since (start);

  return check;
}

/* Messages 1 to n - N_NEWEST wait.  The first batch is timed apart from
 * the longest of the others: it made the index of rows by UID again
 * when the first check let it go. */
static void
run_backlog (PopcheckMailbox *mailbox,
             guint            n,
             double          *first,
             double          *longest)
{
  *first = -1;
  *longest = 0;

  for (guint msg = n - MIN (n, N_NEWEST); msg > 0;)
    {
      g_autoptr(GPtrArray) batch = g_ptr_array_new_with_free_func (g_object_unref);
      gint64 start;

      for (; msg > 0 && batch->len < BATCH; msg--)
        g_ptr_array_add (batch, summary_of (msg - 1, msg));
      start = g_get_monotonic_time ();
      popcheck_mailbox_fill_pending_batch (mailbox, batch);
      if (*first < 0)
        *first = ms_since (start);
      else
        *longest = MAX (*longest, ms_since (start));
    }
}

static double
run_baseline (guint n)
{
  g_autoptr(GHashTable) table = g_hash_table_new_full (g_str_hash, g_str_equal,
                                                       g_free, NULL);
  GArray *sizes;
  Pop3UidListing *listing = listing_of (0, n, &sizes);
  guint found = 0;
  gint64 start;
  double ms;

  for (guint i = 0; i < n; i++)
    g_hash_table_add (table, uid_of (i));

  start = g_get_monotonic_time ();
  for (guint i = 0; i < pop3_uid_listing_get_length (listing); i++)
    found += g_hash_table_contains (table, pop3_uid_listing_get_uid (listing, i));
  ms = ms_since (start);
  g_assert_cmpuint (found, ==, n);

  pop3_uid_listing_unref (listing);
  g_array_unref (sizes);
  return ms;
}

static void
print_row (const char *what,
           double      ms,
           double      baseline)
{
  g_print ("%-48s %8.1f ms %8.1f ms %7.1fx\n", what, ms, baseline, ms / baseline);
}

static void
print_check (const char *what,
             Check      *check,
             double      baseline)
{
  g_autofree char *slice = g_strdup_printf ("%s: begin, longest slice", what);
  g_autofree char *begin = g_strdup_printf ("%s: begin, whole", what);
  g_autofree char *end = g_strdup_printf ("%s: end", what);

  print_row (slice, check->begin_slice, baseline);
  print_row (begin, check->begin, baseline);
  print_row (end, check->end, baseline);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("update-bench");
  int messages = 100000;
  double baseline = G_MAXDOUBLE;
  double backlog_first, backlog;
  Check first, unchanged = { 0, 0, 0, 0 }, arrived, newest_deleted, deleted;
  GOptionEntry entries[] = {
    { "messages", 0, 0, G_OPTION_ARG_INT, &messages, "Messages (100000)", "N" },
    { NULL }
  };

  context = g_option_context_new ("- what a check of a big mailbox costs the main loop");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) ||
      messages < 10 * N_NEWEST)
    {
      g_printerr ("%s\n", error != NULL ? error->message : "--messages: at least 3000");
      return 2;
    }

  /* The best of three: a floor. */
  for (int i = 0; i < 3; i++)
    baseline = MIN (baseline, run_baseline (messages));

  g_printerr ("update-bench: checking %d messages\n", messages);
  first = run_check (mailbox, 0, messages);
  g_assert_cmpuint (first.n_top, ==, N_NEWEST);
  run_backlog (mailbox, messages, &backlog_first, &backlog);
  g_assert_cmpuint (popcheck_mailbox_count_headers_pending (mailbox), ==, 0);
  for (int i = 0; i < 3; i++)
    {
      Check check = run_check (mailbox, 0, messages);

      g_assert_cmpuint (check.n_top, ==, 0);
      unchanged.begin_slice = MAX (unchanged.begin_slice, check.begin_slice);
      unchanged.begin = MAX (unchanged.begin, check.begin);
      unchanged.end = MAX (unchanged.end, check.end);
    }
  arrived = run_check (mailbox, 0, messages + 50);
  g_assert_cmpuint (arrived.n_top, ==, 50);
  newest_deleted = run_check (mailbox, 0, messages + 45);
  g_assert_cmpuint (newest_deleted.n_top, ==, 0);
  deleted = run_check (mailbox, messages / 10, messages + 45 - messages / 10);
  g_assert_cmpuint (deleted.n_top, ==, 0);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==,
                    messages + 45 - messages / 10);

  g_print ("%d messages; baseline: each listed UID looked up once in a "
           "GHashTable of them by GLib alone, same run\n", messages);
  g_print ("%-48s %11s %11s %8s\n", "on the main loop", "PopCheck", "baseline", "ratio");
  print_check ("first check, newest 300", &first, baseline);
  print_row ("backlog of 100 at a time: first batch", backlog_first, baseline);
  print_row ("backlog of 100 at a time: longest other batch", backlog, baseline);
  print_check ("nothing new (longest of 3)", &unchanged, baseline);
  print_check ("50 new", &arrived, baseline);
  print_check ("newest 5 deleted", &newest_deleted, baseline);
  print_check ("oldest tenth deleted", &deleted, baseline);
  g_print ("(\"begin\": popcheck_mailbox_begin_update_newest_async (), its "
           "longest slice and the whole; \"end\": popcheck_mailbox_end_update (), "
           "after the TOPs)\n");

  return 0;
}
