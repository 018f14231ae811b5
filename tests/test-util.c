/* test-util.c: the tests' own way of waiting
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib.h>

#include "popcheck-test-util.h"

#define SHORT_MS 50

/* Holds the main thread until @user_data's deadline has passed, as a slow
 * handler of the code under test does on a loaded machine. */
static gboolean
hold_past_deadline_cb (gpointer user_data)
{
  const gint64 *deadline = user_data;

  while (g_get_monotonic_time () <= *deadline + 10 * G_TIME_SPAN_MILLISECOND)
    ;
  return G_SOURCE_REMOVE;
}

static gboolean
set_flag_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* What was queued before the deadline passed counts, even when a handler
 * held the thread until after it. */
static void
test_event_queued_behind_slow_handler (void)
{
  gint64 deadline = popcheck_test_deadline (SHORT_MS);
  gboolean flag = FALSE;

  g_idle_add_full (G_PRIORITY_HIGH, hold_past_deadline_cb, &deadline, NULL);
  g_idle_add (set_flag_cb, &flag);

  while (!flag)
    g_assert_true (popcheck_test_iterate (deadline));
}

static gboolean
is_true (gpointer user_data)
{
  return *(gboolean *) user_data;
}

/* What never comes still fails the wait, once nothing is left to run. */
static void
test_nothing_comes (void)
{
  gboolean flag = FALSE;

  g_assert_false (popcheck_test_wait_until (is_true, &flag, SHORT_MS));
}

/* A source that is always ready, as a spinner's frames are on a busy
 * machine, does not keep a wait going past its deadline for ever. */
static void
test_always_busy (void)
{
  gboolean flag = FALSE;
  guint turns = 0;
  guint busy;

  busy = popcheck_test_busy_frames_add (&turns);
  g_assert_false (popcheck_test_wait_until (is_true, &flag, SHORT_MS));
  g_source_remove (busy);
  g_assert_cmpuint (turns, >, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/util/event-queued-behind-slow-handler",
                   test_event_queued_behind_slow_handler);
  g_test_add_func ("/util/nothing-comes", test_nothing_comes);
  g_test_add_func ("/util/always-busy", test_always_busy);

  return g_test_run ();
}
