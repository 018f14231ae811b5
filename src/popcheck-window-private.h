/* popcheck-window-private.h: what the application, the UI tests and the
 * screenshots look at
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "popcheck-preview.h"
#include "popcheck-window.h"

G_BEGIN_DECLS

/* The messages as the list shows them (after the account filter and
 * without those waiting to be deleted), and their selection. */
GtkSelectionModel *popcheck_window_get_selection     (PopcheckWindow *self);
PopcheckPreview   *popcheck_window_get_preview       (PopcheckWindow *self);
GtkListView       *popcheck_window_get_list_view     (PopcheckWindow *self);
/* "welcome", "messages" */
const char        *popcheck_window_get_page          (PopcheckWindow *self);
/* Within "messages": "list", or "empty" when no message is listed. */
const char        *popcheck_window_get_list_page     (PopcheckWindow *self);
/* The account filter: "All Accounts", then one item per account. */
GtkDropDown       *popcheck_window_get_account_filter (PopcheckWindow *self);
void               popcheck_window_show_account      (PopcheckWindow *self,
                                                      const char     *account_id);
/* The account (or NULL) of a message in the list. */
const char        *popcheck_window_get_message_account_id (PopcheckWindow  *self,
                                                           PopcheckMessage *message);
/* Deletes wait for the undo toast; a shorter wait for tests. */
void               popcheck_window_set_undo_timeout  (PopcheckWindow *self,
                                                      guint           seconds);
guint              popcheck_window_get_n_pending_deletes (PopcheckWindow *self);
/* A toast that stays until closed, for what failed where the user asked
 * for it (the demo mailbox not starting). */
void               popcheck_window_show_error        (PopcheckWindow *self,
                                                      const char     *text);

G_END_DECLS
