/* test-idle.c: work for an idle main loop that a busy one cannot hold back
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib.h>

#include "popcheck-idle.h"
#include "popcheck-test-util.h"

#define WAIT_MS 10000

typedef struct
{
  /* What ran, in order: "idle", "default", "late". */
  GString *order;
  guint    notified;
  /* When the idle work ran. */
  gint64   idle_at;
} Record;

static void
record_idle_cb (gpointer user_data)
{
  Record *record = user_data;

  g_string_append (record->order, "idle ");
  record->idle_at = g_get_monotonic_time ();
}

static gboolean
record_default_cb (gpointer user_data)
{
  Record *record = user_data;

  g_string_append (record->order, "default ");
  return G_SOURCE_REMOVE;
}

static gboolean
record_late_cb (gpointer user_data)
{
  Record *record = user_data;

  g_string_append (record->order, "late ");
  return G_SOURCE_REMOVE;
}

static void
count_notify (gpointer user_data)
{
  Record *record = user_data;

  record->notified++;
}

/* What is ready at the default priority runs first, though added after
 * the idle work, which runs once; its notify comes after it. */
static void
test_after_default (void)
{
  g_autoptr(GString) order = g_string_new (NULL);
  Record record = { order, 0, 0 };

  popcheck_idle_add_once_full (record_idle_cb, &record, count_notify);
  g_idle_add_full (G_PRIORITY_DEFAULT, record_default_cb, &record, NULL);
  POPCHECK_TEST_WAIT_UNTIL (record.notified == 1, WAIT_MS);
  g_assert_cmpstr (order->str, ==, "default idle ");
}

/* A main loop that is never idle runs it anyway, between its frames. */
static void
test_busy (void)
{
  g_autoptr(GString) order = g_string_new (NULL);
  Record record = { order, 0, 0 };
  gint64 added;
  guint busy;

  busy = popcheck_test_busy_frames_add (NULL);
  added = g_get_monotonic_time ();
  popcheck_idle_add_once_full (record_idle_cb, &record, count_notify);
  POPCHECK_TEST_WAIT_UNTIL (record.notified == 1, WAIT_MS);
  g_source_remove (busy);

  g_assert_cmpstr (order->str, ==, "idle ");
  /* Its longest wait first: the main loop was never idle.  (How often
   * the frames turned meanwhile says nothing: a machine busy elsewhere
   * can hold this process past that wait within one turn.) */
  g_assert_cmpint (record.idle_at - added, >=, POPCHECK_IDLE_MAX_WAIT_MS * 1000);
}

/* Removed before it ran, it never runs, and its notify comes at once;
 * nothing of it is left when its longest wait is over. */
static void
test_removed (void)
{
  g_autoptr(GString) order = g_string_new (NULL);
  Record record = { order, 0, 0 };
  guint id;

  id = popcheck_idle_add_once_full (record_idle_cb, &record, count_notify);
  g_source_remove (id);
  g_assert_cmpuint (record.notified, ==, 1);

  g_timeout_add (2 * POPCHECK_IDLE_MAX_WAIT_MS, record_late_cb, &record);
  POPCHECK_TEST_WAIT_UNTIL (order->len > 0, WAIT_MS);
  g_assert_cmpstr (order->str, ==, "late ");
  g_assert_cmpuint (record.notified, ==, 1);
}

/* A source of the caller's own keeps its callback, and gets the default
 * priority only once it has waited long enough. */
static void
test_limit_wait (void)
{
  g_autoptr(GString) order = g_string_new (NULL);
  Record record = { order, 0, 0 };
  g_autoptr(GSource) source = g_idle_source_new ();
  g_autoptr(GSource) limit = NULL;
  guint busy;

  busy = popcheck_test_busy_frames_add (NULL);
  g_source_set_callback (source, record_default_cb, &record, NULL);
  g_source_attach (source, NULL);
  limit = popcheck_idle_limit_wait (source);
  g_assert_cmpint (g_source_get_priority (source), ==, G_PRIORITY_DEFAULT_IDLE);

  POPCHECK_TEST_WAIT_UNTIL (order->len > 0, WAIT_MS);
  g_source_remove (busy);
  g_assert_cmpstr (order->str, ==, "default ");
  g_assert_cmpint (g_source_get_priority (source), ==, G_PRIORITY_DEFAULT);
  g_assert_true (g_source_is_destroyed (limit));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/idle/after-default", test_after_default);
  g_test_add_func ("/idle/busy", test_busy);
  g_test_add_func ("/idle/removed", test_removed);
  g_test_add_func ("/idle/limit-wait", test_limit_wait);

  return g_test_run ();
}
