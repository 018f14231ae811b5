/* popcheck-checker.h: schedules checks and owns the per-account mailboxes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The checker is PopCheck's core.  The window, the tray, the notifier and
 * the command line only observe it (its mailboxes, their properties and the
 * signals below) and command it (check, delete, preview).
 */

#pragma once

#include <gio/gio.h>

#include "popcheck-types.h"

G_BEGIN_DECLS

#define POPCHECK_TYPE_CHECKER (popcheck_checker_get_type ())

G_DECLARE_FINAL_TYPE (PopcheckChecker, popcheck_checker, POPCHECK, CHECKER,
                      GObject)

/* Signals:
 *   "new-messages" (PopcheckChecker *, PopcheckMailbox *mailbox,
 *                   GPtrArray *messages /+ PopcheckMessage +/)
 *       a check found messages whose UID was never seen before; not
 *       emitted for what is on the server at an account's first check;
 *   "first-check" (PopcheckChecker *, PopcheckMailbox *mailbox, guint count)
 *       the first check of an account recorded `count` messages as known;
 *   "problem" (PopcheckChecker *, PopcheckMailbox *mailbox)
 *       a check ended with a problem the user must act on (wrong password,
 *       certificate, keyring, [SYS/PERM]); emitted once per problem, not
 *       once per retry.
 *
 * Each PopcheckMailbox carries the account's state: "state"
 * (PopcheckMailboxState), "problem" (PopcheckProblem), "error-message"
 * (a sentence for a person), "n-items", "n-new", "last-check",
 * "next-check" (when the checker checks next, if it will),
 * "approximate-ids" (the server has no UIDL), and is a GListModel of
 * PopcheckMessage. */

PopcheckChecker *popcheck_checker_new             (PopcheckAccountList *accounts);

PopcheckAccountList *popcheck_checker_get_accounts (PopcheckChecker    *self);

/* A GListModel of PopcheckMailbox, one per account, in account order. */
GListModel      *popcheck_checker_get_mailboxes   (PopcheckChecker     *self);
PopcheckMailbox *popcheck_checker_get_mailbox     (PopcheckChecker     *self,
                                                   const char          *account_id);
guint            popcheck_checker_get_n_new       (PopcheckChecker     *self);
/* Marks messages seen in PopCheck, never on the server, and saves what
 * changed at once: uids NULL for all of the account's messages,
 * account_id NULL for every account (then uids must be NULL). */
void             popcheck_checker_mark_seen       (PopcheckChecker     *self,
                                                   const char          *account_id,
                                                   const char * const  *uids);

/* How many message headers a check fetches before it reports (the
 * newest); the rest come in the background, newest first, in a checker
 * that was started.  G_MAXUINT: all of them, in the check. */
#define POPCHECK_CHECKER_FIRST_HEADERS 300

guint            popcheck_checker_get_first_headers (PopcheckChecker   *self);
void             popcheck_checker_set_first_headers (PopcheckChecker   *self,
                                                     guint              first_headers);

/* The rows without headers yet that the user looks at, by UID: the
 * account's backlog fetches them next.  Each call replaces the last
 * (only the first POPCHECK_CHECKER_MAX_WANTED count). */
#define POPCHECK_CHECKER_MAX_WANTED 100

void             popcheck_checker_want_headers    (PopcheckChecker     *self,
                                                   const char          *account_id,
                                                   const char * const  *uids);

/* While a person reads a message of the account (the window holds it
 * when nothing in view needs headers), its backlog (the headers a check
 * left for later) waits: the batch on the line is
 * answered, then no TOP is sent until the last hold is released, and the
 * backlog goes on where it was.  Holds count: release each one once. */
void             popcheck_checker_hold_backlog    (PopcheckChecker     *self,
                                                   const char          *account_id);
void             popcheck_checker_release_backlog (PopcheckChecker     *self,
                                                   const char          *account_id);

/* Loads the saved state, checks every enabled account and schedules the
 * next checks; stop cancels everything in flight, fails what is queued
 * with G_IO_ERROR_CANCELLED, and saves what changed since the last save.
 * Each operation below is also cancelled by its own cancellable. */
void             popcheck_checker_start           (PopcheckChecker     *self);
void             popcheck_checker_stop            (PopcheckChecker     *self);
/* TRUE while state files are still being written (stop starts the last
 * ones): a process about to exit waits for them. */
gboolean         popcheck_checker_is_saving       (PopcheckChecker     *self);

/* Check now: one account, or all when account_id is NULL.  A check already
 * running for an account is not started twice. */
void             popcheck_checker_check_now       (PopcheckChecker     *self,
                                                   const char          *account_id);

/* One check of one account, for the command line and tests. */
void             popcheck_checker_check_async     (PopcheckChecker     *self,
                                                   const char          *account_id,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
gboolean         popcheck_checker_check_finish    (PopcheckChecker     *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);

/* What popcheck_checker_check_accounts_finish() reports of one account. */
typedef struct
{
  char   *account_id;
  /* Why the check failed; NULL when it succeeded. */
  GError *error;
  /* Why the state could not be written after the check succeeded. */
  GError *save_error;
} PopcheckCheckResult;

void             popcheck_check_result_free       (PopcheckCheckResult *result);

/* One check of each account named, all at the same time, for a process
 * that checks once and exits (popcheck --check, popcheck-cli check): it
 * ends when every check has ended and the state of each account checked
 * is written, so the next run knows what this one saw.  Returns a
 * GPtrArray of PopcheckCheckResult, in the order of @account_ids. */
void             popcheck_checker_check_accounts_async  (PopcheckChecker     *self,
                                                         const char * const  *account_ids,
                                                         GCancellable        *cancellable,
                                                         GAsyncReadyCallback  callback,
                                                         gpointer             user_data);
GPtrArray       *popcheck_checker_check_accounts_finish (PopcheckChecker     *self,
                                                         GAsyncResult        *result,
                                                         GError             **error);

/* Safe delete by UID (issue 3): waits for a running check of the account,
 * maps UIDs to this session's numbers, DELE, QUIT.  already_gone receives
 * the UIDs that were no longer on the server.  An error's message says
 * whether anything was deleted, so it can be shown as it is. */
void             popcheck_checker_delete_async    (PopcheckChecker     *self,
                                                   const char          *account_id,
                                                   const char * const  *uids,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
gboolean         popcheck_checker_delete_finish   (PopcheckChecker     *self,
                                                   GAsyncResult        *result,
                                                   GStrv               *already_gone,
                                                   GError             **error);

/* The first `lines` body lines of a message by TOP (never RETR), found by
 * UID.  Returns a new PopcheckMessage with the longer preview. */
void             popcheck_checker_preview_async   (PopcheckChecker     *self,
                                                   const char          *account_id,
                                                   const char          *uid,
                                                   guint                lines,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
PopcheckMessage *popcheck_checker_preview_finish  (PopcheckChecker     *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);

/* The whole message by RETR: only when the user explicitly asks (some
 * servers then mark it read). */
void             popcheck_checker_retrieve_async  (PopcheckChecker     *self,
                                                   const char          *account_id,
                                                   const char          *uid,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
GBytes          *popcheck_checker_retrieve_finish (PopcheckChecker     *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PopcheckCheckResult, popcheck_check_result_free)

G_END_DECLS
