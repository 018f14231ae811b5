/* popcheck-checker-private.h: what only tests, diagnostics and the
 * checker's own files use
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Not part of the checker's interface for the window, tray or command line.
 */

#pragma once

#include "pop3-client.h"
#include "popcheck-checker.h"
#include "popcheck-session.h"

G_BEGIN_DECLS

/* Called with the client of every session the checker opens (checks,
 * deletes, previews, retrievals), before it connects: a test counts the
 * commands on its "debug" signal or reads its round trips. */
typedef void (*PopcheckCheckerSessionHook) (PopcheckChecker *checker,
                                            PopcheckMailbox *mailbox,
                                            Pop3Client      *client,
                                            gpointer         user_data);

void             popcheck_checker_set_session_hook   (PopcheckChecker            *self,
                                                      PopcheckCheckerSessionHook  hook,
                                                      gpointer                    user_data);

/* Seconds until the account's next scheduled check, as it was scheduled;
 * 0 when none is scheduled (stopped, disabled, or waiting for the user). */
guint            popcheck_checker_get_next_delay     (PopcheckChecker            *self,
                                                      const char                 *account_id);

/* Use this monitor instead of g_network_monitor_get_default(); before
 * popcheck_checker_start(). */
void             popcheck_checker_set_network_monitor (PopcheckChecker           *self,
                                                       GNetworkMonitor           *monitor);

/* How many TOPs one batch of the backlog sends before it looks whether
 * anything else waits for the account; tests make it small. */
void             popcheck_checker_set_backlog_batch  (PopcheckChecker            *self,
                                                      guint                       batch);
guint            popcheck_checker_get_backlog_batch  (PopcheckChecker            *self);

/* Between popcheck-checker.c (slots, queues, schedule) and
 * popcheck-checker-operations.c (what an operation does on the server). */

typedef struct _PopcheckCheckerSlot PopcheckCheckerSlot;

/* Runs an operation of @task on @slot; it ends with
 * popcheck_checker_slot_done(), which starts the next one. */
typedef void (*PopcheckCheckerOperation) (PopcheckCheckerSlot *slot,
                                          GTask               *task);

/* A slot is shared by the checker (while the account exists) and by the
 * operation running on it: removing the account releases the checker's
 * reference, and the callbacks of the cancelled operation still find the
 * slot, marked removed. */
struct _PopcheckCheckerSlot
{
  gatomicrefcount  ref_count;
  gboolean         removed;
  PopcheckChecker *checker;
  PopcheckAccount *account;
  PopcheckMailbox *mailbox;
  GCancellable    *cancellable;
  /* Loading and saving the state are not stopped by popcheck_checker_stop(),
   * only by removing the account: a stopped checker may start again, and
   * what it saves as it stops must reach the disk. */
  GCancellable    *state_cancellable;
  guint            timer_id;
  guint            timer_delay;
  guint            failures;
  guint            login_delay;
  /* The saved state belongs to a newer PopCheck: checks fail with this,
   * as what they found could not be kept. */
  GError          *state_error;
  gboolean         busy;
  gboolean         loaded;
  gboolean         check_queued;
  gboolean         problem_reported;
  /* The backlog (headers a check left for later) is queued or running. */
  gboolean         backlog_queued;
  /* Cancels the backlog alone: the account changed or was turned off. */
  GCancellable    *backlog_cancellable;
  /* popcheck_checker_hold_backlog() minus releases: while not 0, no
   * backlog runs; one that would have is queued at the last release. */
  guint            backlog_holds;
  gboolean         backlog_held_back;
  /* The UIDs of the rows without headers the window shows: the backlog
   * takes them next. */
  GStrv            wanted;
  GQueue           operations;
  gulong           account_changed_id;
  /* The account's token source, for an account whose sign-in lives
   * elsewhere: its "sign-in-changed". */
  GSignalGroup    *token_source_signals;
};

PopcheckCheckerSlot *popcheck_checker_find_slot         (PopcheckChecker          *self,
                                                         const char               *account_id);
PopcheckCheckerSlot *popcheck_checker_slot_ref          (PopcheckCheckerSlot      *slot);
void                 popcheck_checker_slot_unref        (PopcheckCheckerSlot      *slot);
/* Operations of one account never overlap: this one runs when the ones
 * queued before it are done. */
void                 popcheck_checker_slot_queue        (PopcheckCheckerSlot      *slot,
                                                         PopcheckCheckerOperation  func,
                                                         GTask                    *task);
void                 popcheck_checker_slot_done         (PopcheckCheckerSlot      *slot);
void                 popcheck_checker_slot_schedule     (PopcheckCheckerSlot      *slot);
/* What the account's mailbox shows when no check runs: idle, or disabled
 * for an account that is turned off. */
PopcheckMailboxState popcheck_checker_slot_resting_state (PopcheckCheckerSlot     *slot);
/* Not cancellable: a state file is written to its end. */
void                 popcheck_checker_slot_save         (PopcheckCheckerSlot      *slot);
PopcheckSession     *popcheck_checker_slot_new_session  (PopcheckCheckerSlot      *slot);
/* The outcome of a check on the account's mailbox, its retries and the
 * checker's signals: @error is NULL when the check succeeded. */
void                 popcheck_checker_slot_record_check (PopcheckCheckerSlot      *slot,
                                                         PopcheckSession          *session,
                                                         const GError             *error);
/* Queues the backlog of the account's pending headers at the end of its
 * queue, unless it is queued already; only in a started checker (a
 * process that checks once does not wait for it). */
void                 popcheck_checker_slot_queue_backlog (PopcheckCheckerSlot    *slot);
/* For the running operation to go on with the backlog in its session:
 * the task of a run of the backlog, marked queued, when nothing else is
 * queued (taken out of the queue if it waits there); NULL otherwise, or
 * when no backlog may run. */
GTask               *popcheck_checker_slot_take_backlog (PopcheckCheckerSlot      *slot);
/* Whether a backlog may run for the account: never in a checker that is
 * not started. */
gboolean             popcheck_checker_slot_may_run_backlog (PopcheckCheckerSlot   *slot);
/* popcheck-checker-operations.c: one run of the backlog, a batch at a
 * time until something else is queued for the account.  Its task returns
 * TRUE when headers are left to fetch. */
void                 popcheck_checker_backlog_operation (PopcheckCheckerSlot      *slot,
                                                         GTask                    *task);
/* Started, and the network monitor says there is no network. */
gboolean             popcheck_checker_is_offline        (PopcheckChecker          *self);

G_END_DECLS
