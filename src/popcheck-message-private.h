/* popcheck-message-private.h: what the message's source files share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * popcheck-message.c decodes the headers and keeps the summary;
 * popcheck-message-body.c walks the MIME body for the preview and the
 * attachment names.  Both make text safe the same way.
 */

#pragma once

#include <gmime/gmime.h>

#include "popcheck-message.h"

G_BEGIN_DECLS

/* GMime 3.2 declares no auto pointers for its types. */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeStream, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeParser, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeMessage, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeFilter, g_object_unref)

#define POPCHECK_MESSAGE_MAX_ATTACHMENTS 64

char *popcheck_message_sanitize_text      (const char    *text,
                                           gssize         len,
                                           gboolean       single_line,
                                           gsize          max_chars);
/* The base name of an attachment, made safe; NULL when nothing is left. */
char *popcheck_message_sanitize_file_name (const char    *name);

/* A MIME type made safe and lower case; never NULL or empty. */
char *popcheck_message_sanitize_mime_type (const char  *mime_type);
/* Frees what a PopcheckAttachment holds, for a GArray's clear func. */
void  popcheck_attachment_clear           (gpointer       attachment);

/* The preview (the first preview_lines lines of the text part; left alone
 * when there is none or preview_lines is 0), the attachments (a GArray of
 * PopcheckAttachment) and whether the structure was cut off. */
void  popcheck_message_decode_body        (GMimeMessage  *message,
                                           guint          preview_lines,
                                           char         **preview,
                                           GArray        *attachments,
                                           gboolean      *incomplete);

G_END_DECLS
