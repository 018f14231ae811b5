/* popcheck-idle.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Work of idle priority waits until nothing more urgent is ready: after a
 * frame that is due has been drawn, after the event being handled.  But a
 * spinner on a busy machine keeps a frame always due, as drawing one takes
 * longer than the time between two, and the main loop is never idle.
 * Work that must not wait for ever (the tray's count, a save, the panes
 * after the window folded) runs at the default priority once it has
 * waited POPCHECK_IDLE_MAX_WAIT_MS, between two frames.
 */

#define G_LOG_DOMAIN "popcheck-idle"

#include "config.h"

#include "popcheck-idle.h"

static gboolean
raise_priority_cb (gpointer user_data)
{
  GSource *source = user_data;

  if (!g_source_is_destroyed (source))
    g_source_set_priority (source, G_PRIORITY_DEFAULT);
  return G_SOURCE_REMOVE;
}

/* @source, attached with an idle priority, gets the default priority if
 * it is still attached POPCHECK_IDLE_MAX_WAIT_MS from now.  Returns the
 * timeout that does it, attached to @source's context: the caller
 * destroys it once @source has run. */
GSource *
popcheck_idle_limit_wait (GSource *source)
{
  GSource *limit = g_timeout_source_new (POPCHECK_IDLE_MAX_WAIT_MS);

  g_source_set_callback (limit, raise_priority_cb, g_source_ref (source),
                         (GDestroyNotify) g_source_unref);
  g_source_attach (limit, g_source_get_context (source));
  return limit;
}

typedef struct
{
  GSourceOnceFunc func;
  gpointer        user_data;
  GDestroyNotify  notify;
  GSource        *limit;
} IdleOnce;

static gboolean
idle_once_cb (gpointer data)
{
  IdleOnce *idle = data;

  idle->func (idle->user_data);
  return G_SOURCE_REMOVE;
}

/* Runs when the source is destroyed: after its one run, or when it was
 * removed before. */
static void
idle_once_free (gpointer data)
{
  IdleOnce *idle = data;

  if (idle->limit != NULL)
    {
      g_source_destroy (idle->limit);
      g_source_unref (idle->limit);
    }
  if (idle->notify != NULL)
    idle->notify (idle->user_data);
  g_free (idle);
}

/* As g_idle_add_once () on the default main context, with a destroy
 * notify, and never waiting more than POPCHECK_IDLE_MAX_WAIT_MS for the
 * main loop to be idle.  The ID is for g_source_remove (). */
guint
popcheck_idle_add_once_full (GSourceOnceFunc func,
                             gpointer        user_data,
                             GDestroyNotify  notify)
{
  g_autoptr(GSource) source = g_idle_source_new ();
  IdleOnce *idle = g_new0 (IdleOnce, 1);
  guint id;

  idle->func = func;
  idle->user_data = user_data;
  idle->notify = notify;
  g_source_set_callback (source, idle_once_cb, idle, idle_once_free);
  g_source_set_static_name (source, "[popcheck] idle once");
  id = g_source_attach (source, NULL);
  idle->limit = popcheck_idle_limit_wait (source);

  return id;
}

guint
popcheck_idle_add_once (GSourceOnceFunc func,
                        gpointer        user_data)
{
  return popcheck_idle_add_once_full (func, user_data, NULL);
}
