/* popcheck-remote.h: asking the running PopCheck, from another process
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * `popcheck --check` and `popcheck-cli mark-seen` change what a running
 * PopCheck keeps in memory (and would write over any file they changed),
 * so they ask it, through the actions GApplication exports on the
 * session bus.  Blocking: for processes without a main loop to keep.
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Activates the running PopCheck's application action @action with
 * @parameter (floating references are taken).  FALSE with no error when
 * no PopCheck runs, or there is no session bus. */
gboolean popcheck_remote_activate_action (const char  *action,
                                          GVariant    *parameter,
                                          GError     **error);

G_END_DECLS
