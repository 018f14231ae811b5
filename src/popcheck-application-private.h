/* popcheck-application-private.h: what the application's own files share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "popcheck-application.h"
#include "popcheck-demo.h"
#include "popcheck-goa-accounts.h"
#include "popcheck-mail-client.h"
#include "popcheck-mute.h"
#include "popcheck-notifier.h"
#include "popcheck-resume-monitor.h"
#include "popcheck-tray.h"

G_BEGIN_DECLS

struct _PopcheckApplication
{
  AdwApplication         parent_instance;

  PopcheckAccountList   *accounts;
  /* Google accounts of Settings → Online Accounts, listed in accounts
   * after PopCheck's own. */
  PopcheckGoaAccounts   *online_accounts;
  PopcheckChecker       *checker;
  GSettings             *settings;
  /* "Try the demo mailbox": its server, stopped at quit. */
  PopcheckDemo          *demo;

  /* Desktop integration. */
  PopcheckNotifier      *notifier;
  PopcheckTray          *tray;
  /* "Mute for 1 Hour": bound to the "muted-until" setting. */
  PopcheckMute          *mute;
  /* "Open Mail Client": the desktop's mailto: handler. */
  PopcheckMailClient    *mail_client;
  PopcheckResumeMonitor *resume_monitor;
  /* Cancelled at shutdown: the autostart entry's reads and writes, the
   * demo server's start. */
  GCancellable          *cancellable;
  /* Changes of "start-at-login" since startup; the entry found on disk
   * only wins over the setting when the user changed nothing meanwhile. */
  guint                  start_at_login_changes;
  /* One write of the entry at a time: two in the worker pool could end
   * in either order, leaving the entry the opposite of the setting. */
  gboolean               autostart_busy;
  gboolean               autostart_writing;

  guint                  background_hold : 1;
  /* Quit is closing the windows: no hint about the background then. */
  guint                  quitting : 1;
  guint                  quit_signalled : 1;
  guint                  start_hidden : 1;
};

/* The actions (popcheck-application-actions.c) and their accelerators;
 * called at startup, once the checker and the demo exist. */
void       _popcheck_application_actions_init       (PopcheckApplication *self);

/* The main window, or NULL while there is none. */
GtkWindow *_popcheck_application_get_main_window    (PopcheckApplication *self);
/* The main window, created (not shown) when there is none. */
GtkWindow *_popcheck_application_ensure_main_window (PopcheckApplication *self);

G_END_DECLS
