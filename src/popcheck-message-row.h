/* popcheck-message-row.h: one message in the list
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "popcheck-types.h"

G_BEGIN_DECLS

#define POPCHECK_TYPE_MESSAGE_ROW (popcheck_message_row_get_type ())

G_DECLARE_FINAL_TYPE (PopcheckMessageRow, popcheck_message_row,
                      POPCHECK, MESSAGE_ROW, GtkWidget)

GtkWidget       *popcheck_message_row_new              (void);

PopcheckMessage *popcheck_message_row_get_message      (PopcheckMessageRow *self);
void             popcheck_message_row_set_message      (PopcheckMessageRow *self,
                                                        PopcheckMessage    *message);
void             popcheck_message_row_set_mailbox_size (PopcheckMessageRow *self,
                                                        guint               mailbox_size);
const char      *popcheck_message_row_get_account_name (PopcheckMessageRow *self);
void             popcheck_message_row_set_account_name (PopcheckMessageRow *self,
                                                        const char         *account_name);
gboolean         popcheck_message_row_get_show_account (PopcheckMessageRow *self);
void             popcheck_message_row_set_show_account (PopcheckMessageRow *self,
                                                        gboolean            show_account);

/* "14:05" today, "Yesterday", "Mon" within the week, else a date. */
char            *popcheck_format_date_relative          (GDateTime          *date,
                                                        GDateTime          *now);
/* What stands for a message's empty subject, honest about why. */
char            *popcheck_format_missing_subject        (PopcheckMessage    *message);
/* "Wednesday, 6 September 2023, 14:05" in English. */
char            *popcheck_format_date_full              (GDateTime          *date);

G_END_DECLS
