/* popcheck-demo.h: the demo mailbox, a local server and its account
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "popcheck-types.h"

G_BEGIN_DECLS

#define POPCHECK_DEMO_ERROR (popcheck_demo_error_quark ())

/**
 * PopcheckDemoError:
 * @POPCHECK_DEMO_ERROR_RUNNING: a demo server runs (or starts) already
 * @POPCHECK_DEMO_ERROR_FAILED: the demo server did not start
 * @POPCHECK_DEMO_ERROR_INVALID_ENV: the server did not say how to reach it
 */
typedef enum
{
  POPCHECK_DEMO_ERROR_RUNNING,
  POPCHECK_DEMO_ERROR_FAILED,
  POPCHECK_DEMO_ERROR_INVALID_ENV,
} PopcheckDemoError;

GQuark        popcheck_demo_error_quark  (void);

#define POPCHECK_TYPE_DEMO (popcheck_demo_get_type ())

G_DECLARE_FINAL_TYPE (PopcheckDemo, popcheck_demo, POPCHECK, DEMO, GObject)

PopcheckDemo *popcheck_demo_new          (PopcheckAccountList  *accounts);

/* Whether a start is under way ("starting"). */
gboolean      popcheck_demo_get_starting (PopcheckDemo         *self);

/* Starts the demo server (build-aux/popcheck-demo-server, or the one
 * $POPCHECK_DEMO_SERVER names) in a directory of its own and adds an
 * account for it, its certificate pinned and its password in the keyring.
 * Once a start has begun, popcheck_demo_stop() stops whatever started. */
void          popcheck_demo_start_async  (PopcheckDemo         *self,
                                          GCancellable         *cancellable,
                                          GAsyncReadyCallback   callback,
                                          gpointer              user_data);
gboolean      popcheck_demo_start_finish (PopcheckDemo         *self,
                                          GAsyncResult         *result,
                                          GError              **error);

/* Removes the account, stops the server and removes its directory.  It
 * waits for them (a few seconds at most): it is meant for quitting, after
 * the main loop has ended. */
void          popcheck_demo_stop         (PopcheckDemo         *self);

G_END_DECLS
