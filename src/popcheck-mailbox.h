/* popcheck-mailbox.h: one account's messages, seen UIDs and header cache
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A PopcheckMailbox is a GListModel of PopcheckMessage, newest first.  It
 * knows which UIDs were ever seen (so it can tell what is new), caches the
 * summary of every message on the server (so a check only sends TOP for
 * messages it has not seen), and keeps all of it in one state file per
 * account, written atomically.
 *
 * A check reconciles with the server in three calls, without I/O:
 *   need_top = popcheck_mailbox_begin_update (mailbox, uids, sizes);
 *   for each entry of need_top: TOP it, then popcheck_mailbox_add_summary ();
 *   new_messages = popcheck_mailbox_end_update (mailbox);
 */

#pragma once

#include <gio/gio.h>

#include "pop3-parser.h"
#include "popcheck-types.h"
/* POPCHECK_TYPE_MAILBOX_STATE and POPCHECK_TYPE_PROBLEM, made by the build. */
#include "popcheck-enums.h"
#include "popcheck-message.h"

G_BEGIN_DECLS

#define POPCHECK_TYPE_MAILBOX (popcheck_mailbox_get_type ())

#define POPCHECK_MAILBOX_ERROR (popcheck_mailbox_error_quark ())

typedef enum
{
  /* The state file is of a newer format: a newer PopCheck wrote it.  It is
   * never moved or overwritten. */
  POPCHECK_MAILBOX_ERROR_NEWER_FORMAT,
  /* The state file is damaged or not a PopCheck state file. */
  POPCHECK_MAILBOX_ERROR_UNREADABLE,
} PopcheckMailboxError;

GQuark               popcheck_mailbox_error_quark            (void);

G_DECLARE_FINAL_TYPE (PopcheckMailbox, popcheck_mailbox, POPCHECK, MAILBOX,
                      GObject)

PopcheckMailbox     *popcheck_mailbox_new                    (const char           *account_id);

const char          *popcheck_mailbox_get_account_id         (PopcheckMailbox      *self);
const char          *popcheck_mailbox_get_display_name       (PopcheckMailbox      *self);
void                 popcheck_mailbox_set_display_name       (PopcheckMailbox      *self,
                                                              const char           *display_name);

/* What the account is doing; set by the checker. */
PopcheckMailboxState popcheck_mailbox_get_state              (PopcheckMailbox      *self);
PopcheckProblem      popcheck_mailbox_get_problem            (PopcheckMailbox      *self);
const char          *popcheck_mailbox_get_error_message      (PopcheckMailbox      *self);
void                 popcheck_mailbox_set_state              (PopcheckMailbox      *self,
                                                              PopcheckMailboxState  state,
                                                              PopcheckProblem       problem,
                                                              const char           *error_message);
/* The server has no UIDL: message identity is a header fingerprint. */
gboolean             popcheck_mailbox_get_approximate_ids    (PopcheckMailbox      *self);
void                 popcheck_mailbox_set_approximate_ids    (PopcheckMailbox      *self,
                                                              gboolean              approximate_ids);

/* How many messages the last check found without a sound UID (a UIDL line
 * that is malformed, or that repeats a UID or a message number): they are
 * not in the list, and PopCheck can never delete them. */
guint                popcheck_mailbox_get_n_without_uid      (PopcheckMailbox      *self);
void                 popcheck_mailbox_set_n_without_uid      (PopcheckMailbox      *self,
                                                              guint                 n_without_uid);
/* What the user is told about them (the app's status line, the command
 * line); NULL when there are none. */
char                *popcheck_mailbox_describe_without_uid   (PopcheckMailbox      *self);
guint                popcheck_mailbox_get_n_items            (PopcheckMailbox      *self);
guint                popcheck_mailbox_get_n_new              (PopcheckMailbox      *self);
GDateTime           *popcheck_mailbox_get_last_check         (PopcheckMailbox      *self);
/* When the checker will check next; NULL when no check is scheduled
 * (checking now, stopped, disabled, or waiting for the user). */
GDateTime           *popcheck_mailbox_get_next_check         (PopcheckMailbox      *self);
void                 popcheck_mailbox_set_next_check         (PopcheckMailbox      *self,
                                                              GDateTime            *next_check);
gboolean             popcheck_mailbox_get_first_check_done   (PopcheckMailbox      *self);
/* How many messages the first check found (and recorded without
 * announcing them). */
guint                popcheck_mailbox_get_first_check_count  (PopcheckMailbox      *self);
/* Changed since the last save. */
gboolean             popcheck_mailbox_get_dirty              (PopcheckMailbox      *self);

#define POPCHECK_MAILBOX_TOP_ATTEMPTS 3

/* Reconciling with the server (no I/O).  sizes: Pop3ListEntry, or NULL.
 * Returns the entries (Pop3UidEntry *, copies) that need a TOP: no cached
 * summary, or a cached one whose size no longer matches. */
GPtrArray           *popcheck_mailbox_begin_update           (PopcheckMailbox      *self,
                                                              Pop3UidListing       *server_uids,
                                                              GArray               *sizes);
/* The same for a check that fetches the newest first: only the n_newest
 * newest of the entries are returned, newest first.  The others are
 * listed at once with their headers pending (as by
 * popcheck_mailbox_add_headers_pending()), sharing the UIDs the mailbox
 * keeps rather than copying them: for a first check of a million
 * messages, the copies were 60 MB of its peak.  *deferred (may be NULL)
 * says whether any was left for later.
 *
 * Takes the caller's references to server_uids and sizes (may be NULL),
 * and lets go of them before it makes those rows: a caller that keeps
 * none has the listings freed there. */
GPtrArray           *popcheck_mailbox_begin_update_newest    (PopcheckMailbox      *self,
                                                              Pop3UidListing       *server_uids,
                                                              GArray               *sizes,
                                                              guint                 n_newest,
                                                              gboolean             *deferred);
/* The same, in slices between which the main loop runs, each about a
 * quarter of a frame long: for 100,000 messages, the whole takes 50 to
 * 130 ms.  The mailbox is updating from the call on.  It fails
 * (G_IO_ERROR_CANCELLED) if cancelled, or if meanwhile a state file is
 * loaded, another update begins or rows are removed by UID: nothing else
 * may change what the mailbox knows of UIDs while it runs. */
void                 popcheck_mailbox_begin_update_newest_async  (PopcheckMailbox      *self,
                                                                  Pop3UidListing       *server_uids,
                                                                  GArray               *sizes,
                                                                  guint                 n_newest,
                                                                  GCancellable         *cancellable,
                                                                  GAsyncReadyCallback   callback,
                                                                  gpointer              user_data);
GPtrArray           *popcheck_mailbox_begin_update_newest_finish (PopcheckMailbox      *self,
                                                                  GAsyncResult         *result,
                                                                  gboolean             *deferred,
                                                                  GError              **error);
void                 popcheck_mailbox_add_summary            (PopcheckMailbox      *self,
                                                              PopcheckMessage      *message);
/* The server refused the TOP of uid (-ERR): unless a summary is already
 * known, the message is listed with its size only.  Its TOP is tried again
 * by the next updates, POPCHECK_MAILBOX_TOP_ATTEMPTS times in all; the
 * state file keeps both, so a restart goes on counting. */
void                 popcheck_mailbox_add_top_refused        (PopcheckMailbox      *self,
                                                              const char           *uid,
                                                              guint                 msg_number,
                                                              guint64               size);
/* The check leaves the TOP of uid for later (it fetches the newest first):
 * unless a summary is already known, the message is listed with its size
 * only, its headers pending, and counts as any other (new or not). */
void                 popcheck_mailbox_add_headers_pending    (PopcheckMailbox      *self,
                                                              const char           *uid,
                                                              guint                 msg_number,
                                                              guint64               size);
/* A first check's newest summaries, before its listing (nothing listed
 * yet, no update begun): they are listed at once.  The update that follows
 * reconciles them by UID: the ones it lists stay in place, never fetched,
 * removed or added again; the ones it does not list go.  Like every
 * summary of a first check, none of them is new. */
void                 popcheck_mailbox_add_early_summaries    (PopcheckMailbox      *self,
                                                              GPtrArray            *messages);
/* Outside a check: what a later TOP brought for a message listed with its
 * headers pending (a summary, or one without headers when the server
 * refused) takes its place in the list, keeping whether it is new.
 * Returns FALSE, changing nothing, when no such message is listed. */
gboolean             popcheck_mailbox_fill_pending           (PopcheckMailbox      *self,
                                                              PopcheckMessage      *message);
/* The same for several messages at once: a change for each run of
 * neighbouring rows when they keep the places of the rows they fill (as
 * the backlog's do, newest first); otherwise the removals, then the
 * insertions in the order of messages, each of a run of neighbouring rows
 * at a time.  Returns how many took their place. */
guint                popcheck_mailbox_fill_pending_batch     (PopcheckMailbox      *self,
                                                              GPtrArray            *messages);
/* How many listed messages wait for their headers (one pass over them). */
guint                popcheck_mailbox_count_headers_pending  (PopcheckMailbox      *self);
/* Returns the messages whose UID was never seen before (empty on the first
 * check), owned by the array. */
GPtrArray           *popcheck_mailbox_end_update             (PopcheckMailbox      *self);

/* "New" is what the user has not looked at in PopCheck; marking a message
 * seen changes nothing on the server.  The mark is kept in the state file
 * with the message's summary.  Both return whether a mark changed; UIDs
 * not listed are ignored. */
gboolean             popcheck_mailbox_mark_all_seen          (PopcheckMailbox      *self);
gboolean             popcheck_mailbox_mark_seen              (PopcheckMailbox      *self,
                                                              const char * const   *uids);
void                 popcheck_mailbox_remove_uids            (PopcheckMailbox      *self,
                                                              const char * const   *uids);
PopcheckMessage     *popcheck_mailbox_lookup                 (PopcheckMailbox      *self,
                                                              const char           *uid);
/* The message number the last update saw for uid; 0 when unknown. */
guint                popcheck_mailbox_get_msg_number         (PopcheckMailbox      *self,
                                                              const char           *uid);

/* The state file (its index): g_get_user_state_dir()/popcheck/ESCAPED.state;
 * the details files beside it are ESCAPED.details-ID. */
char                *popcheck_mailbox_dup_state_path         (PopcheckMailbox      *self);
char                *popcheck_mailbox_escape_account_id      (const char           *account_id);

/* A missing file is a fresh mailbox; a damaged or foreign file is renamed
 * to NAME.damaged-YYYYmmdd-HHMMSS.  The summaries that can be recovered
 * from a damaged file of this account are kept, with their "new" marks,
 * and its next check announces every message they do not tell about;
 * with none, the mailbox starts fresh and its next check is a first check.  A file of a newer format is left alone: the
 * load fails with POPCHECK_MAILBOX_ERROR_NEWER_FORMAT, the mailbox starts
 * empty, and saving it fails with that error rather than overwrite the
 * file.  Otherwise only I/O errors (and cancellation) are errors. */
void                 popcheck_mailbox_load_async             (PopcheckMailbox      *self,
                                                              GCancellable         *cancellable,
                                                              GAsyncReadyCallback   callback,
                                                              gpointer              user_data);
/* The same for a reader that never saves (popcheck-cli status): no file is
 * ever moved; a damaged or foreign one fails the load with
 * POPCHECK_MAILBOX_ERROR_UNREADABLE.  Ends with popcheck_mailbox_load_finish(). */
void                 popcheck_mailbox_load_for_reading_async (PopcheckMailbox      *self,
                                                              GCancellable         *cancellable,
                                                              GAsyncReadyCallback   callback,
                                                              gpointer              user_data);
gboolean             popcheck_mailbox_load_finish            (PopcheckMailbox      *self,
                                                              GAsyncResult         *result,
                                                              GError              **error);
/* Writes a snapshot, taken in slices from when the main loop is next idle
 * (after a frame waiting to be drawn): temporary file, fsync, rename.  A
 * save asked for before the snapshot of another began ends with that one,
 * as does one asked for with nothing changed since a save under way took
 * its snapshot.  Cancelling stops a save whose snapshot is not taken yet;
 * after that it runs to its end.  So a save that ends with another runs
 * as that one does, whatever its own cancellable; if that one is stopped
 * before its snapshot, the saves that waited for it are asked for
 * again. */
void                 popcheck_mailbox_save_async             (PopcheckMailbox      *self,
                                                              GCancellable         *cancellable,
                                                              GAsyncReadyCallback   callback,
                                                              gpointer              user_data);
gboolean             popcheck_mailbox_save_finish            (PopcheckMailbox      *self,
                                                              GAsyncResult         *result,
                                                              GError              **error);
/* Removes the state files (the index and its details files) of
 * @self's account, in a thread; files that are not there are no error. */
void                 popcheck_mailbox_delete_state_async     (PopcheckMailbox      *self,
                                                              GCancellable         *cancellable,
                                                              GAsyncReadyCallback   callback,
                                                              gpointer              user_data);
gboolean             popcheck_mailbox_delete_state_finish    (PopcheckMailbox      *self,
                                                              GAsyncResult         *result,
                                                              GError              **error);

G_END_DECLS
