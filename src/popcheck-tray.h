/* popcheck-tray.h: the tray icon, a StatusNotifierItem with a dbusmenu
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * GTK 4 has no tray API.  This speaks org.kde.StatusNotifierItem and
 * com.canonical.dbusmenu over GDBus itself, with GLib and GIO only, and
 * sends com.canonical.Unity.LauncherEntry updates so docks show a badge.
 * It observes the mailboxes and commands the application through its
 * actions: "toggle-window", "show-window", "show-message" ((ss): account
 * id and UID, "" for none), "check-now", "mark-all-seen", "mute",
 * "unmute", "preferences" and "quit".
 */

#pragma once

#include <gio/gio.h>

#include "popcheck-mute.h"
#include "popcheck-types.h"

G_BEGIN_DECLS

#define POPCHECK_TRAY_ERROR (popcheck_tray_error_quark ())

/**
 * PopcheckTrayError:
 * @POPCHECK_TRAY_ERROR_UNKNOWN_ITEM: a dbusmenu call named no menu item
 */
typedef enum
{
  POPCHECK_TRAY_ERROR_UNKNOWN_ITEM,
} PopcheckTrayError;

#define POPCHECK_TYPE_TRAY (popcheck_tray_get_type ())

G_DECLARE_FINAL_TYPE (PopcheckTray, popcheck_tray, POPCHECK, TRAY, GObject)

GQuark        popcheck_tray_error_quark    (void);

/* Shows the mailboxes (a GListModel of PopcheckMailbox, as
 * popcheck_checker_get_mailboxes() returns) on the session bus. */
PopcheckTray *popcheck_tray_new            (GActionGroup *actions,
                                            GListModel   *mailboxes);

/* The bus name the item owns: org.kde.StatusNotifierItem-PID-N. */
const char   *popcheck_tray_get_bus_name   (PopcheckTray *self);

/* Whether a StatusNotifierWatcher accepted the item (a host shows it). */
gboolean      popcheck_tray_get_registered (PopcheckTray *self);

/* The new mail the tray shows, over all mailboxes. */
guint         popcheck_tray_get_n_new      (PopcheckTray *self);

/* Whether a host (a panel) shows the item, as the StatusNotifierWatcher
 * says; host-known is FALSE until the watcher answered, or until it is
 * known that there is none.  Both notify. */
gboolean      popcheck_tray_get_has_host   (PopcheckTray *self);
gboolean      popcheck_tray_get_host_known (PopcheckTray *self);

/* The menu offers "Mute for 1 Hour", or says until when it is muted and
 * offers "Unmute" (NULL: neither). */
PopcheckMute *popcheck_tray_get_mute       (PopcheckTray *self);
void          popcheck_tray_set_mute       (PopcheckTray *self,
                                            PopcheckMute *mute);

G_END_DECLS
