/* popcheck-message.h: one message summary, decoded with GMime
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A summary is built from what TOP n N returned: the headers and the first
 * lines of the body.  Everything it keeps is plain, valid UTF-8 text with no
 * control characters other than newline and tab, so the UI, the tray and
 * the command line can show it without escaping terminal sequences.
 */

#pragma once

#include <gio/gio.h>

#include "popcheck-types.h"

G_BEGIN_DECLS

/* RFC 5322, section 2.1.1: a line is at most 998 characters; a subject or
 * an address list longer than that is not something a person reads. */
#define POPCHECK_MESSAGE_MAX_FIELD   998
/* The preview is a glance, not the message. */
#define POPCHECK_MESSAGE_MAX_PREVIEW (16 * 1024)

/* An attachment's size when the fetched lines end inside it. */
#define POPCHECK_MESSAGE_SIZE_UNKNOWN G_MAXUINT64

#define POPCHECK_MESSAGE_ERROR (popcheck_message_error_quark ())

typedef enum
{
  /* A cached summary that is not one this version can read. */
  POPCHECK_MESSAGE_ERROR_INVALID_CACHE,
} PopcheckMessageError;

GQuark popcheck_message_error_quark (void);

/* One attachment as the fetched part of the MIME structure describes it. */
typedef struct
{
  /* Never empty, never a path. */
  char    *name;
  /* Lower case "type/subtype", as the part declared it. */
  char    *mime_type;
  /* Decoded bytes, or POPCHECK_MESSAGE_SIZE_UNKNOWN. */
  guint64  size;
} PopcheckAttachment;

#define POPCHECK_TYPE_MESSAGE (popcheck_message_get_type ())

G_DECLARE_FINAL_TYPE (PopcheckMessage, popcheck_message, POPCHECK, MESSAGE,
                      GObject)

PopcheckMessage    *popcheck_message_new_from_top     (const char      *uid,
                                                       guint64          size,
                                                       guint            msg_number,
                                                       GBytes          *top_data,
                                                       guint            preview_lines);
PopcheckMessage    *popcheck_message_new_without_headers (const char    *uid,
                                                          guint64        size,
                                                          guint          msg_number);
PopcheckMessage    *popcheck_message_new_headers_pending (const char    *uid,
                                                          guint64        size,
                                                          guint          msg_number);
PopcheckMessage    *popcheck_message_new_without_uid  (guint            msg_number,
                                                       guint64          size);

/* Without a UID (see popcheck_message_new_without_uid()), the UID is a
 * key for this session's list only. */
const char         *popcheck_message_get_uid          (PopcheckMessage *self);
gboolean            popcheck_message_get_has_uid      (PopcheckMessage *self);
gboolean            popcheck_message_get_headers_known (PopcheckMessage *self);
/* For a message without headers: how many TOPs the server refused. */
guint               popcheck_message_get_top_refusals (PopcheckMessage *self);
void                popcheck_message_count_top_refusal (PopcheckMessage *self);
/* Listed without headers because its TOP was not sent yet (not refused):
 * they come later, newest first. */
gboolean            popcheck_message_get_headers_pending (PopcheckMessage *self);
guint64             popcheck_message_get_size         (PopcheckMessage *self);
guint               popcheck_message_get_msg_number   (PopcheckMessage *self);
/* For the mailbox: the number this message has in the current session. */
void                popcheck_message_set_msg_number   (PopcheckMessage *self,
                                                       guint            msg_number);
const char         *popcheck_message_get_from         (PopcheckMessage *self);
const char         *popcheck_message_get_from_name    (PopcheckMessage *self);
const char         *popcheck_message_get_from_address (PopcheckMessage *self);
const char         *popcheck_message_get_to           (PopcheckMessage *self);
const char         *popcheck_message_get_cc           (PopcheckMessage *self);
const char         *popcheck_message_get_subject      (PopcheckMessage *self);
GDateTime          *popcheck_message_get_date         (PopcheckMessage *self);
const char         *popcheck_message_get_message_id   (PopcheckMessage *self);
const char         *popcheck_message_get_preview      (PopcheckMessage *self);
/* The attachment names; the details below are in the same order. */
const char * const *popcheck_message_get_attachments  (PopcheckMessage *self);
const PopcheckAttachment *
                    popcheck_message_get_attachment_details (PopcheckMessage *self,
                                                             guint           *n_attachments);
/* TRUE when the fetched lines end before the MIME structure does, so
 * that more attachments may follow the ones listed. */
gboolean            popcheck_message_get_attachments_incomplete (PopcheckMessage *self);
gboolean            popcheck_message_get_is_new       (PopcheckMessage *self);
void                popcheck_message_set_is_new       (PopcheckMessage *self,
                                                       gboolean         is_new);

/* For servers without UIDL: "fp-" and the hex SHA-256 of Message-ID, Date,
 * From and Subject (as sent, unfolded) and the size.  Always a valid UID. */
char               *popcheck_message_fingerprint_uid  (GBytes          *top0_headers,
                                                       guint64          size);

/* The header cache: a versioned GVariant tuple, of another type for a
 * message without headers.  The session's message number is not part
 * of it. */
GVariant           *popcheck_message_to_variant       (PopcheckMessage *self);
PopcheckMessage    *popcheck_message_new_from_variant (GVariant        *variant,
                                                       GError         **error);

/* Exposed for the tests and the fuzzer: HTML reduced to plain text. */
char               *popcheck_message_html_to_text     (const char      *html,
                                                       gssize           len);

G_END_DECLS
