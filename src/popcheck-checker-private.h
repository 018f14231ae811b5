/* popcheck-checker-private.h: what only tests and diagnostics use
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Not part of the checker's interface for the window, tray or command line.
 */

#pragma once

#include "pop3-client.h"
#include "popcheck-checker.h"

G_BEGIN_DECLS

/* Called with the client of every session the checker opens (checks,
 * deletes, previews, retrievals), before it connects: a test counts the
 * commands on its "debug" signal or reads its round trips. */
typedef void (*PopcheckCheckerSessionHook) (PopcheckChecker *checker,
                                            PopcheckMailbox *mailbox,
                                            Pop3Client      *client,
                                            gpointer         user_data);

void             popcheck_checker_set_session_hook   (PopcheckChecker            *self,
                                                      PopcheckCheckerSessionHook  hook,
                                                      gpointer                    user_data);

/* Seconds until the account's next scheduled check, as it was scheduled;
 * 0 when none is scheduled (stopped, disabled, or waiting for the user). */
guint            popcheck_checker_get_next_delay     (PopcheckChecker            *self,
                                                      const char                 *account_id);

/* Use this monitor instead of g_network_monitor_get_default(); before
 * popcheck_checker_start(). */
void             popcheck_checker_set_network_monitor (PopcheckChecker           *self,
                                                       GNetworkMonitor           *monitor);

G_END_DECLS
