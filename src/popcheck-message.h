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
/* The same, holding a reference to @uid, a shared UID (see
 * popcheck_uid_new()) rather than a copy of it. */
PopcheckMessage    *popcheck_message_new_headers_pending_shared (char    *uid,
                                                                 guint64  size,
                                                                 guint    msg_number);
PopcheckMessage    *popcheck_message_new_without_uid  (guint            msg_number,
                                                       guint64          size);

/* Without a UID (see popcheck_message_new_without_uid()), the UID is a
 * key for this session's list only. */
const char         *popcheck_message_get_uid          (PopcheckMessage *self);
/* The UID as a shared string (see popcheck_uid_new()): the message's own
 * where it can be, so that a table of UIDs need not copy it. */
char               *popcheck_message_ref_uid          (PopcheckMessage *self);
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
/* Tells only the "is-new" property's watchers: a mailbox's messages are
 * marked seen through popcheck_mailbox_mark_seen(), which counts them. */
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
/* The same for a message with headers and its details in memory, from a
 * thread: it reads only what never changes, and "new" as given.  The
 * caller keeps the details from being dropped meanwhile (see
 * popcheck_message_set_cached()). */
GVariant           *popcheck_message_to_variant_in_thread (PopcheckMessage *self,
                                                           gboolean         is_new);
/* The cache's form of a message without headers, from its values: a save
 * takes them on the main thread and builds the variant in its thread, one
 * at a time, rather than keeping a variant per message of a mailbox of a
 * million until the file is written. */
GVariant           *popcheck_message_headerless_variant_new (const char *uid,
                                                             guint64     size,
                                                             gboolean    is_new,
                                                             guint       top_refusals);

/* A state file held open, from which summaries are read again on
 * demand; thread-safe, reference counted. */
typedef struct _PopcheckSummaryFile PopcheckSummaryFile;

/* Takes @fd; -1 stands for a file that is gone, which every read fails. */
PopcheckSummaryFile *popcheck_summary_file_new       (int                   fd);
PopcheckSummaryFile *popcheck_summary_file_ref       (PopcheckSummaryFile  *file);
void                 popcheck_summary_file_unref     (PopcheckSummaryFile  *file);
/* Blocking: for threads. */
GBytes              *popcheck_summary_file_read      (PopcheckSummaryFile  *file,
                                                      guint64               offset,
                                                      gsize                 length,
                                                      GError              **error);
/* Whether @path names the very file held open (not one renamed over it). */
gboolean             popcheck_summary_file_is_at     (PopcheckSummaryFile  *file,
                                                      const char           *path);

/* A summary of a big mailbox keeps in memory what the list shows and
 * searches (UID, size, sender, subject, date, Message-ID); its To, Cc,
 * preview and attachments stay in the state file it was read from
 * (@boxed: a "v", at @offset in @file) until
 * popcheck_message_load_details_async() reads them.  Until then their
 * getters return NULL (no attachments). */
PopcheckMessage    *popcheck_message_new_from_cache   (GVariant             *boxed,
                                                       PopcheckSummaryFile  *file,
                                                       guint64               offset,
                                                       GError              **error);
/* What the state file's index keeps of a summary: what the list shows
 * and searches.  The strings and the date are borrowed. */
typedef struct
{
  const char *uid;
  guint64     size;
  gboolean    headers_known;
  guint       top_refusals;
  const char *from;
  const char *from_name;
  const char *from_address;
  const char *subject;
  GDateTime  *date;
  const char *message_id;
  gboolean    attachments_incomplete;
  gboolean    is_new;
} PopcheckListedSummary;

/* What the list shows of a message, for the index, in one call from a
 * save's thread (it never changes once the message is built): @listed's
 * strings are NULL; @strings (@length bytes) holds them instead, one
 * NUL-terminated string after the other: UID, From, its name, its
 * address, Subject, Message-ID. */
void                popcheck_message_get_listed       (PopcheckMessage       *self,
                                                       PopcheckListedSummary *listed,
                                                       const char           **strings,
                                                       gsize                 *length);
/* A UID shared rather than copied: a million messages listed make each
 * copy of their UIDs 50 MB.  Read, hashed and compared as any string;
 * freed only by popcheck_uid_unref() (which takes NULL, and fits a
 * GDestroyNotify).  Reference counted, thread-safe to hold. */
char                *popcheck_uid_new                (const char           *uid);
char                *popcheck_uid_ref                (char                 *uid);
void                 popcheck_uid_unref              (gpointer              uid);

/* Room for the strings of many summaries in one block of memory, which
 * the caller can make at once rather than a page fault at a time as the
 * heap grows: loading 100,000 summaries took 13,000 faults, and a fault
 * costs tens of microseconds in a virtual machine.  Reference counted,
 * thread-safe to hold; filled by one thread.  @free_func frees the block
 * (@data, @size bytes) when the last message whose strings it holds
 * goes. */
typedef struct _PopcheckStringArena PopcheckStringArena;

PopcheckStringArena *popcheck_string_arena_new       (char                 *data,
                                                      gsize                 size,
                                                      GDestroyNotify        free_func,
                                                      gpointer              free_data);
PopcheckStringArena *popcheck_string_arena_ref       (PopcheckStringArena  *arena);
void                 popcheck_string_arena_unref     (PopcheckStringArena  *arena);
/* Bytes still free in @arena. */
gsize                popcheck_string_arena_get_free  (PopcheckStringArena  *arena);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PopcheckStringArena, popcheck_string_arena_unref)

/* A summary from the index, its details at @offset in @file (as in
 * popcheck_message_new_from_cache()); a message without headers has none
 * and ignores them.  Every string is cleaned as text from a server is.
 * Its strings go into @arena while it has room (it may be NULL). */
PopcheckMessage    *popcheck_message_new_listed       (const PopcheckListedSummary *listed,
                                                       PopcheckSummaryFile         *file,
                                                       guint64                      offset,
                                                       gsize                        length,
                                                       PopcheckStringArena         *arena,
                                                       GError                     **error);
/* Once written to @file, the details of a summary need not stay in
 * memory: they are dropped, and read from there when asked for.  With
 * @dropped (from popcheck_message_dropped_details_new()) they are moved
 * there rather than freed, for whoever frees them off the main loop:
 * 100,000 summaries' details take a fifth of a second to free. */
void                popcheck_message_set_cached       (PopcheckMessage      *self,
                                                       PopcheckSummaryFile  *file,
                                                       guint64               offset,
                                                       gsize                 length,
                                                       GArray               *dropped);
/* An empty array for popcheck_message_set_cached(), with room for
 * @reserve of them, its memory written already: the pages are made by the
 * thread that calls this, not a fault at a time as the main loop fills
 * them.  Unref it anywhere. */
GArray             *popcheck_message_dropped_details_new (guint reserve);
/* Asks the CPU to bring in what popcheck_message_get_cached() and
 * popcheck_message_set_cached() read beyond @self itself, for a walk of
 * many messages: a few messages ahead, so that it is there when the walk
 * gets to it.  @self must be in the cache already, or on its way. */
void                popcheck_message_prefetch_cached  (PopcheckMessage      *self);
/* The same for popcheck_message_get_uid ()'s string. */
void                popcheck_message_prefetch_uid     (PopcheckMessage      *self);
/* TRUE (and where) when the details are in a file only. */
gboolean            popcheck_message_get_cached       (PopcheckMessage      *self,
                                                       PopcheckSummaryFile **file,
                                                       guint64              *offset,
                                                       gsize                *length);
gboolean            popcheck_message_get_details_loaded (PopcheckMessage    *self);
/* For saving in a thread: the summary from the file again, boxed as the
 * file holds it, with "new" as it is now. */
GVariant           *popcheck_message_boxed_from_cache (GBytes              *boxed_bytes,
                                                       gboolean             is_new,
                                                       GError             **error);
/* The message with all its details: itself when they are in memory, else
 * a copy read from the file in a thread. */
void                popcheck_message_load_details_async  (PopcheckMessage     *self,
                                                          GCancellable        *cancellable,
                                                          GAsyncReadyCallback  callback,
                                                          gpointer             user_data);
PopcheckMessage    *popcheck_message_load_details_finish (PopcheckMessage     *self,
                                                          GAsyncResult        *result,
                                                          GError             **error);

/* Exposed for the tests and the fuzzer: HTML reduced to plain text. */
char               *popcheck_message_html_to_text     (const char      *html,
                                                       gssize           len);

G_END_DECLS
