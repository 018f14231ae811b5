/* popcheck-tray-private.h: what the tray shares with its menu
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The item (popcheck-tray.c) owns the bus name, the StatusNotifierItem and
 * the launcher badge; the dbusmenu it points hosts to is in
 * popcheck-tray-menu.c.  Both are one object, so they share its struct.
 */

#pragma once

#include "popcheck-mailbox.h"
#include "popcheck-mute.h"
#include "popcheck-tray.h"

G_BEGIN_DECLS

#define MENU_INTERFACE "com.canonical.dbusmenu"
#define MENU_PATH "/MenuBar"

struct _PopcheckTray
{
  GObject          parent_instance;

  GActionGroup    *actions;
  GListModel      *mailboxes;
  PopcheckMute    *mute;             /* NULL: no mute item */
  GPtrArray       *watched;          /* the mailboxes we listen to */

  char            *bus_name;
  GDBusConnection *connection;
  GCancellable    *cancellable;
  guint            own_id;
  guint            watch_id;
  guint            sni_id;
  guint            menu_id;
  guint            launcher_id;
  guint            update_id;

  /* What the item shows, as last published. */
  char            *status;
  char            *icon_name;
  char            *attention_icon_name;
  char            *title;
  GVariant        *tool_tip;
  guint            n_new;
  /* The full-colour icon, a(iiay), for hosts without our icon names or
   * that draw symbolic icons dark on a dark panel; NULL until a host
   * asks for it. */
  GVariant        *pixmaps;

  /* Whether the watcher says a host shows items (host_known: it has
   * answered, or it is known that there is none). */
  guint            host_subscription_id;
  guint            has_host : 1;
  guint            host_known : 1;

  /* The menu: items in order, the root first. */
  GPtrArray       *items;
  guint            revision;
  GHashTable      *account_item_ids; /* account id → item id */
  int              next_account_item_id;

  guint            registered : 1;
};

/* popcheck-tray.c */
gboolean popcheck_tray_action_available (PopcheckTray    *self,
                                         const char      *action);
void     popcheck_tray_activate_action  (PopcheckTray    *self,
                                         const char      *action,
                                         GVariant        *target);
/* Publishes a change still waiting in its idle, before a host reads. */
void     popcheck_tray_flush_update     (PopcheckTray    *self);
/* "3 new of 12", "offline", the error…: one line for menu and tooltip. */
char    *popcheck_tray_describe_mailbox (PopcheckMailbox *mailbox);

/* popcheck-tray-menu.c */
extern const GDBusInterfaceVTable popcheck_tray_menu_vtable;

void     popcheck_tray_menu_init        (PopcheckTray    *self);
void     popcheck_tray_menu_finalize    (PopcheckTray    *self);
/* Rebuilds the menu and tells hosts what changed. */
void     popcheck_tray_menu_update      (PopcheckTray    *self);

G_END_DECLS
