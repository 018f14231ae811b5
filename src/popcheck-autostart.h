/* popcheck-autostart.h: the XDG autostart entry behind "Start at login"
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * "Start at login" is an XDG autostart entry,
 * $XDG_CONFIG_HOME/autostart/org.example.PopCheck.desktop, that starts
 * PopCheck in the background.  Turning the setting on writes the entry,
 * turning it off removes it.  No GTK here.
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define POPCHECK_AUTOSTART_ERROR (popcheck_autostart_error_quark ())

/**
 * PopcheckAutostartError:
 * @POPCHECK_AUTOSTART_ERROR_WRITE: the entry could not be written
 * @POPCHECK_AUTOSTART_ERROR_REMOVE: the entry could not be removed
 */
typedef enum
{
  POPCHECK_AUTOSTART_ERROR_WRITE,
  POPCHECK_AUTOSTART_ERROR_REMOVE,
} PopcheckAutostartError;

GQuark    popcheck_autostart_error_quark        (void);

/* The entry's path under the user's configuration directory. */
char     *popcheck_autostart_get_path           (void);

/* Whether an entry is there and not disabled (Hidden=true or
 * X-GNOME-Autostart-enabled=false in a copy the user edited). */
gboolean  popcheck_autostart_is_enabled         (void);

/* Writes (atomically) or removes the entry in a worker thread.  Removing
 * an entry that is not there succeeds. */
void      popcheck_autostart_set_enabled_async  (gboolean              enabled,
                                                 GCancellable         *cancellable,
                                                 GAsyncReadyCallback   callback,
                                                 gpointer              user_data);
gboolean  popcheck_autostart_set_enabled_finish (GAsyncResult         *result,
                                                 GError              **error);

/* The same, blocking; for the worker and for tests. */
gboolean  popcheck_autostart_set_enabled        (gboolean              enabled,
                                                 GError              **error);

G_END_DECLS
