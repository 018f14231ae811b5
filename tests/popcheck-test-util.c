/* popcheck-test-util.c: waiting for events in tests, never for time
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every test waits the same way: it runs the default main context until
 * what it waits for has happened, and fails when a deadline passes first.
 * A test that must show that something does not happen waits for a later
 * event that would come after it, never for a while.
 */

#define G_LOG_DOMAIN "popcheck-test"

#include "config.h"

#include "popcheck-test-util.h"

/* What other threads change (the fake server's, GIO's workers, the
 * kernel's /proc) wakes no main context; the loop looks again this often. */
#define RECHECK_MS 5

/* GLib's pool threads take half a second to leave an idle pool; a loaded
 * machine adds to that. */
#define QUIESCE_TIMEOUT_MS 20000

/* The monotonic time @timeout_ms from now. */
gint64
popcheck_test_deadline (guint timeout_ms)
{
  return g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;
}

static gboolean
recheck_cb (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

/* Past its deadline, a wait runs at most this many more turns.  What was
 * queued behind a slow handler takes a few; a source that is always ready
 * (a spinner's frames on a busy machine) would take every turn, and the
 * wait would never end. */
#define LATE_TURNS_MAX 1000

/* Dispatches what is ready on the default main context, waiting for it at
 * most RECHECK_MS; FALSE once @deadline has passed and nothing is left
 * that was ready, or LATE_TURNS_MAX turns after it.
 *
 * The deadline bounds the wait, not the work: the code under test runs on
 * this thread, and on a loaded machine one of its handlers can hold the
 * thread past the deadline while what the test waits for (a D-Bus reply,
 * say) is already queued behind it.  That still counts. */
gboolean
popcheck_test_iterate (gint64 deadline)
{
  /* Only the main thread waits, one deadline at a time; a test that
   * shares a deadline between waits shares its late turns too. */
  static gint64 late_deadline;
  static guint late_turns;
  g_autoptr(GSource) recheck = NULL;

  if (g_get_monotonic_time () > deadline)
    {
      if (late_deadline != deadline)
        {
          late_deadline = deadline;
          late_turns = 0;
        }
      if (late_turns == LATE_TURNS_MAX)
        return FALSE;
      late_turns++;
      return g_main_context_iteration (NULL, FALSE);
    }

  recheck = g_timeout_source_new (RECHECK_MS);
  g_source_set_callback (recheck, recheck_cb, NULL, NULL);
  g_source_attach (recheck, NULL);
  g_main_context_iteration (NULL, TRUE);
  g_source_destroy (recheck);

  return TRUE;
}

/* Runs the default main context until @condition returns TRUE; FALSE if
 * it still did not after @timeout_ms, for the caller to assert on. */
gboolean
popcheck_test_wait_until (PopcheckTestCondition condition,
                          gpointer              user_data,
                          guint                 timeout_ms)
{
  gint64 deadline = popcheck_test_deadline (timeout_ms);

  while (!condition (user_data))
    {
      if (!popcheck_test_iterate (deadline))
        return condition (user_data);
    }

  return TRUE;
}

static gboolean
busy_frame_cb (gpointer user_data)
{
  guint *turns = user_data;

  if (turns != NULL)
    (*turns)++;
  return G_SOURCE_CONTINUE;
}

/* A frame always due, as a spinner's on a busy machine: a source at
 * GTK's redraw priority (GDK_PRIORITY_REDRAW) that is always ready, so
 * the main loop is never idle while it is attached, however often it
 * turns.  It counts its turns in @turns, unless that is NULL.  Remove it
 * with g_source_remove (). */
guint
popcheck_test_busy_frames_add (guint *turns)
{
  return g_idle_add_full (G_PRIORITY_HIGH_IDLE + 20, busy_frame_cb, turns, NULL);
}

static gboolean
no_pool_threads (gpointer user_data)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/task", 0, NULL);
  const char *tid;

  if (dir == NULL)
    return TRUE;

  while ((tid = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename ("/proc/self/task", tid,
                                                "comm", NULL);
      g_autofree char *comm = NULL;

      /* A thread that exited between the listing and here has no name. */
      if (!g_file_get_contents (path, &comm, NULL, NULL))
        continue;
      g_strstrip (comm);

      /* GLib names its worker threads "pool-PROGRAM" (or "pool"); the one
       * that spawns them, "pool-spawner", stays and never runs our work. */
      if (g_str_has_prefix (comm, "pool") &&
          g_strcmp0 (comm, "pool-spawner") != 0)
        return FALSE;
    }

  return TRUE;
}

/* Lets every GLib worker thread (GTask's, and with it GIO's resolver and
 * glib-networking's handshakes and closes) finish and exit, and returns
 * once they are gone.
 *
 * LeakSanitizer's check at exit stops every thread and reads its dynamic
 * TLS; with Debian 12's GCC and glibc it crashes ("Tracer caught signal
 * 11") on a worker that ran GnuTLS, a module GIO loaded at run time, and
 * GLib keeps up to two idle workers alive for 15 s.  A test that leaves
 * none behind is checked reliably. */
void
popcheck_test_quiesce_threads (void)
{
  g_thread_pool_set_max_unused_threads (0);

  if (!popcheck_test_wait_until (no_pool_threads, NULL, QUIESCE_TIMEOUT_MS))
    g_error ("GLib's worker threads did not exit in %u ms",
             QUIESCE_TIMEOUT_MS);
}
