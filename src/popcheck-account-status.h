/* popcheck-account-status.h: what one account is doing, above the list
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "popcheck-types.h"

G_BEGIN_DECLS

#define POPCHECK_TYPE_ACCOUNT_STATUS (popcheck_account_status_get_type ())

G_DECLARE_FINAL_TYPE (PopcheckAccountStatus, popcheck_account_status,
                      POPCHECK, ACCOUNT_STATUS, GtkListBoxRow)

/* A row that shows itself while the mailbox is checking, offline or in
 * trouble, and hides while all is well.  @account, the mailbox's, may be
 * NULL when it is not known. */
GtkWidget       *popcheck_account_status_new         (PopcheckMailbox       *mailbox,
                                                      PopcheckAccount       *account);
PopcheckMailbox *popcheck_account_status_get_mailbox (PopcheckAccountStatus *self);

G_END_DECLS
