/* popcheck-preview.h: the preview pane of the selected message
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "popcheck-types.h"

G_BEGIN_DECLS

#define POPCHECK_TYPE_PREVIEW (popcheck_preview_get_type ())

G_DECLARE_FINAL_TYPE (PopcheckPreview, popcheck_preview,
                      POPCHECK, PREVIEW, GtkWidget)

GtkWidget       *popcheck_preview_new               (void);

PopcheckChecker *popcheck_preview_get_checker       (PopcheckPreview *self);
void             popcheck_preview_set_checker       (PopcheckPreview *self,
                                                     PopcheckChecker *checker);

/* The message to preview, and the account it is on; NULL for none. */
PopcheckMessage *popcheck_preview_get_message       (PopcheckPreview *self);
const char      *popcheck_preview_get_account_id    (PopcheckPreview *self);
void             popcheck_preview_set_message       (PopcheckPreview *self,
                                                     const char      *account_id,
                                                     PopcheckMessage *message);

/* How many messages are selected when it is not exactly one. */
void             popcheck_preview_set_n_selected    (PopcheckPreview *self,
                                                     guint            n_selected);

/* TRUE while something is read for the message shown: its first lines
 * from the cache, more lines or the whole message from the server. */
gboolean         popcheck_preview_get_busy          (PopcheckPreview *self);

/* The body text shown, for tests. */
char            *popcheck_preview_dup_body_text     (PopcheckPreview *self);

G_END_DECLS
