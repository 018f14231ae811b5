/* popcheck-mailbox-private.h: what the mailbox's source files share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * popcheck-mailbox.c keeps the model and reconciles it with the server;
 * popcheck-mailbox-store.c reads and writes the state file.  Both work on
 * the same instance, so its struct is here rather than in one of them.
 */

#pragma once

#include "popcheck-mailbox.h"
#include "popcheck-message-index.h"

G_BEGIN_DECLS

struct _PopcheckMailbox
{
  GObject               parent_instance;

  char                 *account_id;
  char                 *display_name;
  PopcheckMailboxState  state;
  PopcheckProblem       problem;
  char                 *error_message;
  gboolean              approximate_ids;
  guint                 n_without_uid;

  /* The model: PopcheckMessage *, owned, sorted by compare_messages(). */
  GPtrArray            *items;
  /* The messages of items, by UID: NULL when a change of many rows let
   * it go, until a lookup makes it again (see get_by_uid ()), so that it
   * is not built while the old rows and the new are both held. */
  PopcheckMessageIndex *by_uid;
  /* While such a change is announced: the rows as they will be. */
  GPtrArray            *by_uid_source;
  /* uid (a shared UID, see popcheck_uid_new (): a message without
   * headers holds the same one) -> what the mailbox knows of it, packed
   * in the pointer (see popcheck-mailbox.c): whether it is seen (ever
   * seen and still on the server) and its message number if the last
   * update listed it.
   * One table and one copy of each UID for both: with a million
   * messages, two tables and two copies cost 90 MB more. */
  GHashTable           *uids;
  /* How many of uids are seen, and how many listed. */
  guint                 n_seen;
  guint                 n_listed;
  /* Summaries waiting for end_update, by UID.  They survive a check that
   * failed before end_update, in memory and in the state file, so the
   * next one need not TOP them again. */
  PopcheckMessageIndex *pending;
  /* What this update lists without a UID: PopcheckMessage *, owned. */
  GPtrArray            *without_uid;
  gboolean              updating;
  /* Counts the updates begun and the states loaded: a slice of an
   * update that another replaced finds a number other than its own. */
  guint                 update_serial;
  /* How many rows the update's listing does not name (gone from the
   * server), once it has taken its listing; G_MAXUINT before. */
  guint                 rows_unlisted;
  /* While rows are announced as replaced by the summaries of the same
   * UIDs, in the same places. */
  gboolean              rows_filled_in_place;
  /* A row's message number changed since the rows were last put in
   * order: only then may they be out of it. */
  gboolean              rows_renumbered;
  /* pending may hold a summary this update's listing does not name: one
   * from before it began, or one no listing named. */
  gboolean              pending_unlisted;

  guint                 n_new;
  gboolean              first_check_done;
  guint                 first_check_count;
  GDateTime            *last_check;
  GDateTime            *next_check;
  gboolean              dirty;
  /* The state file was written by a newer PopCheck: never overwritten. */
  gboolean              newer_state_file;

  /* Saves run in threads; the lock orders them so an older snapshot never
   * replaces a newer one. */
  GMutex                save_lock;
  /* How long a slice of work on the main loop may take. */
  gint64                slice_usec;

  guint64               save_generation;
  guint64               saved_generation;
  /* Saves whose thread may read messages' details. */
  guint                 saves_in_flight;
  /* How many times a snapshot's walk started again, for tests: each
   * time, the slices done so far are lost. */
  guint                 snapshot_restarts;
  /* Saves asked for while nothing changed since the last snapshot: they
   * end with the save of that snapshot (GTask *). */
  GPtrArray            *save_waiters;
  /* A save asked for whose snapshot has not begun, and the saves asked
   * for after it: those end with it, as its snapshot is later than they
   * were asked for (GTask *). */
  GTask                *save_asked;
  GPtrArray            *asked_waiters;
  /* The details file the last load or save used, held open, and its id
   * (its name says it): the next save appends to it.  Main thread. */
  PopcheckSummaryFile  *details_file;
  guint64               details_id;
};

/* What a state file held: read in a thread, applied on the main thread. */
typedef struct
{
  gboolean    first_check_done;
  gint64      last_check;
  GHashTable *seen;
  GPtrArray  *messages;
  /* Summaries a check fetched and did not list, as it did not end. */
  GPtrArray  *fetched;
  gboolean    set_aside;
  /* The messages of messages, by UID, as they are read. */
  PopcheckMessageIndex *by_uid;
  /* Made in the load thread by popcheck_mailbox_prepare_loaded_state():
   * messages sorted as the model is, and how many of them are new. */
  gboolean    prepared;
  guint       n_new;
  /* The details file the summaries point into, if the state had one. */
  PopcheckSummaryFile *details_file;
  guint64     details_id;
} PopcheckMailboxLoadedState;

/* In the load thread: what can be done before the main thread takes the
 * state, so that applying it costs the main loop next to nothing. */
void popcheck_mailbox_prepare_loaded_state (PopcheckMailbox            *self,
                                            PopcheckMailboxLoadedState *state);
void popcheck_mailbox_apply_loaded_state (PopcheckMailbox            *self,
                                          PopcheckMailboxLoadedState *state);

/* Lets messages go, and the details a save let them drop (may be NULL),
 * in a thread: dropping 100,000 references, or finalizing 10,000 rows,
 * holds the main loop for a frame or more.  Takes both. */
void popcheck_mailbox_free_in_thread     (GPtrArray                  *messages,
                                          GArray                     *details);

/* Work on the main loop in slices, so that frames and input go on:
 * sources for the slices, each ready a moment after the one before
 * ends; and when a slice that began now is to end.  A slice looks at the
 * clock every POPCHECK_MAILBOX_SLICE_STEPS steps. */
#define POPCHECK_MAILBOX_SLICE_STEPS 256
GSource *popcheck_mailbox_slice_source_new (void);
void     popcheck_mailbox_slice_wait       (GSource                    *source);
gint64   popcheck_mailbox_slice_deadline   (PopcheckMailbox            *self);
/* For tests: with 0, each slice takes POPCHECK_MAILBOX_SLICE_STEPS
 * steps, however fast the machine. */
void     popcheck_mailbox_set_slice_usec   (PopcheckMailbox            *self,
                                            gint64                      usec);

/* The details file the last load or save of @self used; NULL before. */
char *popcheck_mailbox_dup_details_path  (PopcheckMailbox            *self);

/* A value of uids: the message number the last update listed the UID
 * with, shifted past three flags.  Never 0: an entry is listed, seen, or
 * both; within popcheck_mailbox_begin_update_newest () only, a listed
 * one may also be wanted (its TOP).  As a message number fits in 32
 * bits, the value fits in a 64-bit pointer; on 32 bits, numbers stop at
 * half a billion. */
#define POPCHECK_MAILBOX_UID_LISTED       ((gsize) 1)
#define POPCHECK_MAILBOX_UID_SEEN         ((gsize) 2)
#define POPCHECK_MAILBOX_UID_WANTED       ((gsize) 4)
#define POPCHECK_MAILBOX_UID_NUMBER_SHIFT 3

/* How many messages ahead the mailbox's long walks ask for a message,
 * and then, this many later, for what the walk reads through it: far
 * enough that it is in by the time the walk gets there. */
#define POPCHECK_MAILBOX_PREFETCH_DISTANCE 8

gboolean popcheck_mailbox_is_seen        (PopcheckMailbox            *self,
                                          const char                 *uid);

G_END_DECLS
