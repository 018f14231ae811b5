/* popcheck-idle.h: work for when the main loop is idle, or soon anyway
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The longest a source of idle priority waits for the main loop to be
 * idle before it runs at the default priority. */
#define POPCHECK_IDLE_MAX_WAIT_MS 100

GSource *popcheck_idle_limit_wait    (GSource        *source);
guint    popcheck_idle_add_once_full (GSourceOnceFunc func,
                                      gpointer        user_data,
                                      GDestroyNotify  notify);
guint    popcheck_idle_add_once      (GSourceOnceFunc func,
                                      gpointer        user_data);

G_END_DECLS
