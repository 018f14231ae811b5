/* popcheck-window-toasts.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * libadwaita 1.2's AdwToastOverlay frees a toast's bookkeeping when its
 * hide animation ends, but the show animation that is still running keeps
 * a pointer to it: a toast dismissed before it has finished sliding in
 * (the show animation lasts 300 ms, or 500 ms when it replaces another)
 * crashes the application when that animation ends.  Deleting and undoing
 * at once, or closing the window right after a delete, did exactly that.
 * So the window never dismisses a toast itself until every toast
 * animation it may have started is over; see popcheck_window_dismiss_toast().
 */

#define G_LOG_DOMAIN "popcheck-window"

#include "config.h"

#include "popcheck-accessible.h"
#include "popcheck-idle.h"
#include "popcheck-window-private.h"

#define TOAST_SETTLE_USEC (700 * G_TIME_SPAN_MILLISECOND)

/* The overlay shows the next toast after this toast's "dismissed"
 * handlers have run: name its buttons once it is there. */
static void
fix_toasts_cb (gpointer user_data)
{
  PopcheckWindow *self = user_data;

  if (self->toast_overlay != NULL)
    popcheck_accessible_fix_toasts (self->toast_overlay);
}

static void
toast_changed_cb (AdwToast       *toast,
                  PopcheckWindow *self)
{
  g_object_set_data (G_OBJECT (toast), "popcheck-dismissed", GINT_TO_POINTER (TRUE));
  /* Dismissing the shown toast starts the next one's show animation. */
  self->last_toast_change = g_get_monotonic_time ();
  popcheck_idle_add_once_full (fix_toasts_cb, g_object_ref (self),
                               g_object_unref);
}

void
popcheck_window_add_toast (PopcheckWindow *self,
                           AdwToast       *toast)
{
  /* Closed meanwhile: nobody would see it. */
  if (self->toast_overlay == NULL)
    {
      g_object_unref (toast);
      return;
    }

  g_signal_connect_object (toast, "dismissed", G_CALLBACK (toast_changed_cb), self, 0);
  self->last_toast_change = g_get_monotonic_time ();
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
  popcheck_accessible_fix_toasts (self->toast_overlay);
}

typedef struct
{
  PopcheckWindow *window;
  AdwToast       *toast;
  guint           source_id;
} LateDismiss;

static void
late_dismiss_free (LateDismiss *late)
{
  g_clear_handle_id (&late->source_id, g_source_remove);
  g_clear_object (&late->toast);
  g_free (late);
}

static gboolean
late_dismiss_cb (gpointer user_data)
{
  LateDismiss *late = user_data;
  PopcheckWindow *self = late->window;
  g_autoptr(AdwToast) toast = g_steal_pointer (&late->toast);

  late->source_id = 0;
  g_ptr_array_remove (self->late_dismisses, late);
  /* Another toast may have changed meanwhile (an earlier late dismissal
   * starts the show animation of the toast queued behind it): ask again. */
  popcheck_window_dismiss_toast (self, toast);

  return G_SOURCE_REMOVE;
}

/* Dismisses a toast of this window now, or as soon as no toast animation
 * can be running any more. */
void
popcheck_window_dismiss_toast (PopcheckWindow *self,
                               AdwToast       *toast)
{
  gint64 settled_at = self->last_toast_change + TOAST_SETTLE_USEC;
  gint64 now = g_get_monotonic_time ();
  LateDismiss *late;

  if (g_object_get_data (G_OBJECT (toast), "popcheck-dismissed") != NULL ||
      self->late_dismisses == NULL)
    return;

  if (now >= settled_at)
    {
      self->last_toast_change = now;
      adw_toast_dismiss (toast);
      return;
    }

  late = g_new0 (LateDismiss, 1);
  late->window = self;
  late->toast = g_object_ref (toast);
  late->source_id = g_timeout_add ((settled_at - now) / 1000 + 1, late_dismiss_cb, late);
  g_ptr_array_add (self->late_dismisses, late);
}

void
_popcheck_window_toasts_init (PopcheckWindow *self)
{
  self->late_dismisses = g_ptr_array_new_with_free_func ((GDestroyNotify) late_dismiss_free);
}
