/* popcheck-checker-operations.c: what runs on an account's slot
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The checker's operations: a check, and the requests (delete, preview,
 * retrieve), each one short session of its own.  popcheck-checker.c
 * queues them on the account's slot, one at a time, and keeps the slot's
 * schedule; here is what each does on the server.
 */

#define G_LOG_DOMAIN "popcheck-checker"

#include "config.h"

#include <glib/gi18n.h>

#include "pop3-client.h"
#include "pop3-parser.h"
#include "popcheck-account.h"
#include "popcheck-checker.h"
#include "popcheck-checker-private.h"
#include "popcheck-mailbox.h"
#include "popcheck-message.h"
#include "popcheck-session.h"

/* Cancelling */

/* An operation's cancellable: cancelled when the checker stops or the
 * account goes (the slot's cancellable at the time the operation started;
 * stopping replaces the slot's) and when the caller cancels its own. */
typedef struct
{
  GCancellable *cancellable;
  GCancellable *slot_cancellable;
  gulong        slot_handler;
  GCancellable *caller_cancellable;
  gulong        caller_handler;
} OperationCancel;

static void
cancel_linked_cb (GCancellable *source,
                  GCancellable *target)
{
  g_cancellable_cancel (target);
}

static void
operation_cancel_init (OperationCancel     *link,
                       PopcheckCheckerSlot *slot,
                       GTask               *task)
{
  link->cancellable = g_cancellable_new ();
  link->slot_cancellable = g_object_ref (slot->cancellable);
  link->slot_handler = g_cancellable_connect (link->slot_cancellable,
                                              G_CALLBACK (cancel_linked_cb),
                                              link->cancellable, NULL);
  if (g_task_get_cancellable (task) != NULL)
    {
      link->caller_cancellable = g_object_ref (g_task_get_cancellable (task));
      link->caller_handler = g_cancellable_connect (link->caller_cancellable,
                                                    G_CALLBACK (cancel_linked_cb),
                                                    link->cancellable, NULL);
    }
}

static void
operation_cancel_clear (OperationCancel *link)
{
  if (link->slot_cancellable != NULL)
    g_cancellable_disconnect (link->slot_cancellable, link->slot_handler);
  if (link->caller_cancellable != NULL)
    g_cancellable_disconnect (link->caller_cancellable, link->caller_handler);
  g_clear_object (&link->slot_cancellable);
  g_clear_object (&link->caller_cancellable);
  g_clear_object (&link->cancellable);
}

/* What every operation keeps, as the first member of its task data. */
typedef void (*OperationFailFunc) (GTask  *task,
                                   GError *error);

typedef struct
{
  PopcheckCheckerSlot *slot;
  OperationCancel      cancel;
  PopcheckSession     *session;
  /* Ends the operation when its session cannot be opened or listed. */
  OperationFailFunc    fail;
  /* Goes on once the session has listed the messages. */
  GAsyncReadyCallback  listed_cb;
  /* Sizes known from the mailbox's summaries stand in for LIST. */
  gboolean             sizes_from_cache;
  /* When set, runs once the session is open, and lists with
   * operation_list () itself. */
  void               (*opened) (GTask *task);
} OperationData;

static void
operation_begin (OperationData       *op,
                 PopcheckCheckerSlot *slot,
                 GTask               *task,
                 OperationFailFunc    fail,
                 GAsyncReadyCallback  listed_cb)
{
  op->slot = popcheck_checker_slot_ref (slot);
  operation_cancel_init (&op->cancel, slot, task);
  op->fail = fail;
  op->listed_cb = listed_cb;
}

static void
operation_clear (OperationData *op)
{
  g_clear_object (&op->session);
  g_clear_pointer (&op->slot, popcheck_checker_slot_unref);
  operation_cancel_clear (&op->cancel);
}

static guint64
cached_size (const char *uid,
             gpointer    user_data)
{
  PopcheckMessage *message = popcheck_mailbox_lookup (user_data, uid);

  return message != NULL ? popcheck_message_get_size (message) : 0;
}

static void
operation_list (GTask *task)
{
  OperationData *op = g_task_get_task_data (task);

  popcheck_session_list_async (op->session,
                               op->sizes_from_cache ? cached_size : NULL,
                               op->slot->mailbox, op->cancel.cancellable,
                               op->listed_cb, g_object_ref (task));
}

static void
operation_opened_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  OperationData *op = g_task_get_task_data (task);
  GError *error = NULL;

  if (!popcheck_session_open_finish (op->session, result, &error))
    {
      op->fail (task, error);
      return;
    }

  if (op->opened != NULL)
    op->opened (task);
  else
    operation_list (task);
}

/* Every operation opens a session of its own and lists the messages
 * first: a message number from an earlier session is never trusted. */
static void
operation_open (GTask *task)
{
  OperationData *op = g_task_get_task_data (task);

  op->session = popcheck_checker_slot_new_session (op->slot);
  popcheck_session_open_async (op->session, op->cancel.cancellable,
                               operation_opened_cb, g_object_ref (task));
}

/* The slot an operation of @task runs on; NULL after failing @task when
 * there is no such account. */
static PopcheckCheckerSlot *
find_slot_for_task (PopcheckChecker *self,
                    const char      *account_id,
                    GTask           *task)
{
  PopcheckCheckerSlot *slot = popcheck_checker_find_slot (self, account_id);

  if (slot == NULL)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                             _("There is no account “%s”."), account_id);

  return slot;
}

/* Checks */

typedef struct
{
  OperationData        op;
  PopcheckMailbox     *mailbox;
  Pop3UidListing      *uids;
  /* Pop3UidEntry: the messages to TOP, sent from next_top on. */
  GPtrArray           *need_top;
  guint                next_top;
  guint                preview_lines;
  guint                pending_tops;
  GError              *top_error;
  /* How many summaries reached the mailbox before the listing. */
  guint                n_early;
  /* Messages were left for the backlog. */
  gboolean             deferred;
  /* The backlog that goes on in this check's session once it ends. */
  GTask               *backlog;
} CheckData;

static void backlog_continue (PopcheckCheckerSlot *slot,
                              GTask               *task,
                              PopcheckSession     *session,
                              Pop3UidListing      *uids);

static void
check_data_free (CheckData *data)
{
  operation_clear (&data->op);
  g_clear_object (&data->mailbox);
  g_clear_pointer (&data->uids, pop3_uid_listing_unref);
  g_clear_pointer (&data->need_top, g_ptr_array_unref);
  g_clear_error (&data->top_error);
  g_clear_object (&data->backlog);
  g_free (data);
}

/* The session has served, and so has the listing: the mailbox has taken
 * what it needs. */
static void
check_close_session (CheckData *data)
{
  if (data->op.session != NULL)
    popcheck_session_close (data->op.session);
  g_clear_pointer (&data->uids, pop3_uid_listing_unref);
}

static void
check_done (GTask  *task,
            GError *error)
{
  CheckData *data = g_task_get_task_data (task);
  PopcheckCheckerSlot *slot = data->op.slot;
  gboolean ended = error == NULL;
  gboolean succeeded = FALSE;
  /* Without a backlog to go on in it, the session closes before the
   * save, which otherwise ran beside its listing at the peak of a first
   * check of a big mailbox. */
  gboolean closed = data->backlog == NULL;

  slot->check_queued = FALSE;

  if (closed)
    check_close_session (data);

  /* The account went away while its check was finishing: nothing of it
   * may reach the mailbox or the signals any more. */
  if (slot->removed && error == NULL)
    error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                 _("The account was removed."));

  if (error == NULL)
    {
      succeeded = TRUE;
      popcheck_checker_slot_record_check (slot, data->op.session, NULL);
      g_task_return_boolean (task, TRUE);
      /* After whatever was queued meanwhile. */
      if (data->deferred && data->backlog == NULL)
        popcheck_checker_slot_queue_backlog (slot);
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      popcheck_mailbox_set_state (slot->mailbox,
                                  popcheck_checker_slot_resting_state (slot),
                                  popcheck_mailbox_get_problem (slot->mailbox),
                                  NULL);
      g_task_return_error (task, error);
    }
  else
    {
      popcheck_checker_slot_record_check (slot, data->op.session, error);
      g_task_return_error (task, error);
    }

  /* Cancelled or failed, the check keeps the summaries it fetched (the
   * mailbox holds them for the next one): a restart asks only for the
   * rest. */
  if (!ended && popcheck_mailbox_get_dirty (slot->mailbox))
    popcheck_checker_slot_save (slot);

  popcheck_checker_slot_schedule (slot);

  /* The backlog takes the session and the slot over, and ends them;
   * unless what heard of the check stopped the checker, or turned the
   * account off. */
  if (data->backlog != NULL && succeeded &&
      popcheck_account_get_enabled (slot->account) &&
      !g_cancellable_is_cancelled (data->op.cancel.cancellable) &&
      !g_task_return_error_if_cancelled (data->backlog))
    {
      backlog_continue (slot, g_steal_pointer (&data->backlog),
                        data->op.session, data->uids);
      return;
    }
  if (data->backlog != NULL && !g_task_had_error (data->backlog))
    g_task_return_new_error (data->backlog, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                             _("PopCheck stopped checking."));
  g_clear_object (&data->backlog);

  if (!closed)
    check_close_session (data);

  popcheck_checker_slot_done (slot);
}

static void
operation_quit_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  OperationData *op = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  /* Nothing was changed on the server, so a failed QUIT loses nothing. */
  popcheck_session_quit_finish (POPCHECK_SESSION (object), result, &error);
  op->fail (task, NULL);
}

/* For an operation that changes nothing on the server (a check, the
 * backlog): QUIT, then it ends well, through its fail function. */
static void
operation_quit (GTask *task)
{
  OperationData *op = g_task_get_task_data (task);

  popcheck_session_quit_async (op->session, op->cancel.cancellable,
                               operation_quit_cb, g_object_ref (task));
}

/* The check got what it came for.  When it left a backlog and nothing
 * else waits for the account, the backlog goes on in this session rather
 * than in one of its own after a QUIT: one login and one listing fewer.
 * It still makes way, between batches, for what is queued later. */
static void
check_end_session (GTask *task)
{
  CheckData *data = g_task_get_task_data (task);
  PopcheckCheckerSlot *slot = data->op.slot;

  /* Taken before the check reports, so that what its signals ask for
   * (the rows in view) does not queue a backlog of its own; and only
   * while the check has its listing to go on with. */
  if (data->uids != NULL && (data->deferred || slot->backlog_queued))
    data->backlog = popcheck_checker_slot_take_backlog (slot);

  if (data->backlog != NULL)
    check_done (task, NULL);
  else
    operation_quit (task);
}

typedef struct
{
  GTask   *task;
  char    *uid;
  guint    msg;
} CheckTopCall;

/* The size LIST gave message msg, 0 if it gave none.  Looked up by
 * number: servers list in message-number order, but nothing makes a
 * hostile one, so the listing's order is never relied on; and a scan per
 * message would make a big mailbox whose TOPs are refused quadratic.
 * Where LIST repeats a number, the last line counts, as for the mailbox
 * (popcheck_mailbox_begin_update ()). */
static guint64
check_listed_size (CheckData *data,
                   guint      msg)
{
  /* The session's listing is this check's. */
  return popcheck_session_get_listed_size (data->op.session, msg);
}

static void check_top_cb (GObject      *object,
                          GAsyncResult *result,
                          gpointer      user_data);

/* Keeps POPCHECK_SESSION_TOP_WINDOW TOPs queued, until all are sent. */
static void
check_send_tops (GTask *task)
{
  CheckData *data = g_task_get_task_data (task);

  while (data->pending_tops < POPCHECK_SESSION_TOP_WINDOW &&
         data->next_top < data->need_top->len)
    {
      Pop3UidEntry *entry = g_ptr_array_index (data->need_top,
                                               data->next_top);
      CheckTopCall *call = g_new0 (CheckTopCall, 1);

      call->task = g_object_ref (task);
      call->uid = g_steal_pointer (&entry->uid);
      call->msg = entry->msg;
      /* Sent, the entry is the call's: a check of all the headers of a
       * million messages need not keep a copy of each UID to its end. */
      g_clear_pointer (&data->need_top->pdata[data->next_top++],
                       pop3_uid_entry_free);
      data->pending_tops++;
      popcheck_session_summary_async (data->op.session, call->msg,
                                      call->uid, data->preview_lines,
                                      data->op.cancel.cancellable,
                                      check_top_cb, call);
    }
}

static void
check_top_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  CheckTopCall *call = user_data;
  g_autoptr(GTask) task = call->task;
  g_autofree char *uid = call->uid;
  guint msg = call->msg;
  CheckData *data = g_task_get_task_data (task);
  g_autoptr(PopcheckMessage) message = NULL;
  g_autoptr(GError) error = NULL;

  g_free (call);

  message = popcheck_session_summary_finish (POPCHECK_SESSION (object),
                                             result, &error);
  if (message != NULL)
    popcheck_mailbox_add_summary (data->op.slot->mailbox, message);
  else if (g_error_matches (error, POP3_ERROR, POP3_ERROR_SERVER))
    {
      /* A -ERR answers this TOP only: the server cannot read this one
       * message, or has no TOP at all (it is optional, RFC 1939,
       * section 7).  The session is sound, so the check goes on and the
       * message is listed by what LIST and UIDL said.  Never RETR
       * instead: that downloads the message without being asked. */
      g_debug ("Message %u: the server refused TOP", msg);
      popcheck_mailbox_add_top_refused (data->op.slot->mailbox, uid, msg,
                                        check_listed_size (data, msg));
    }
  else if (data->top_error == NULL)
    data->top_error = g_steal_pointer (&error);

  data->pending_tops--;
  /* After a failure the session is gone: what is queued fails too. */
  if (data->top_error == NULL)
    check_send_tops (task);
  if (data->pending_tops > 0)
    return;

  if (data->top_error != NULL)
    check_done (task, g_steal_pointer (&data->top_error));
  else
    check_end_session (task);
}

/* Positions in the listing user_data, by the messages' numbers. */
static int
compare_positions_newest_first (gconstpointer a,
                                gconstpointer b,
                                gpointer      user_data)
{
  guint msg_a = pop3_uid_listing_get_msg (user_data, *(const guint *) a);
  guint msg_b = pop3_uid_listing_get_msg (user_data, *(const guint *) b);

  return (msg_a < msg_b) - (msg_a > msg_b);
}

static int
compare_oldest_first (gconstpointer a,
                      gconstpointer b)
{
  const Pop3UidEntry *entry_a = *(Pop3UidEntry **) a;
  const Pop3UidEntry *entry_b = *(Pop3UidEntry **) b;

  return (entry_a->msg > entry_b->msg) - (entry_a->msg < entry_b->msg);
}

static void
check_begun_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  CheckData *data = g_task_get_task_data (task);
  GError *error = NULL;

  data->need_top =
    popcheck_mailbox_begin_update_newest_finish (POPCHECK_MAILBOX (object),
                                                 result, &data->deferred,
                                                 &error);
  if (data->need_top == NULL)
    {
      check_done (task, error);
      return;
    }

  /* The mailbox takes all of this check's summaries at once when it ends,
   * so their order on the wire shows nowhere: the server's own. */
  if (data->deferred)
    g_ptr_array_sort (data->need_top, compare_oldest_first);
  if (data->need_top->len == 0)
    {
      check_end_session (task);
      return;
    }

  /* A window of TOPs goes out at once; the engine pipelines them when the
   * server allows it and sends them one by one otherwise. */
  data->preview_lines =
    popcheck_account_get_preview_lines (data->op.slot->account);
  check_send_tops (task);
}

static void
check_listed_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  CheckData *data = g_task_get_task_data (task);
  PopcheckSession *session = POPCHECK_SESSION (object);
  GError *error = NULL;
  Pop3UidListing *uids;
  GArray *listing = NULL;
  guint first_headers;

  if (!popcheck_session_list_finish (session, result, &data->uids,
                                     &listing, &error))
    {
      check_done (task, error);
      return;
    }

  /* The early summaries are listed, so none of them is in need_top; they
   * count against the check's share of headers all the same.  A server
   * numbers messages in the order they arrived (RFC 1939, section 5,
   * numbers them 1 to n; every server we know appends new mail), so the
   * newest have the highest numbers. */
  first_headers = popcheck_checker_get_first_headers (data->op.slot->checker);
  /* Nothing but a backlog would look a UID up in the listing once the
   * mailbox has it: in a process that checks once, which runs none, the
   * mailbox takes the last reference to it, and frees it before it makes
   * a row for each message it leaves for later (for a million messages,
   * 60 MB of the check's peak).  The sizes it always takes: the
   * session keeps its own index of them, for the TOPs. */
  if (popcheck_checker_slot_may_run_backlog (data->op.slot))
    uids = pop3_uid_listing_ref (data->uids);
  else
    {
      uids = g_steal_pointer (&data->uids);
      popcheck_session_forget_uids (session);
    }
  /* In slices: taken at once, the listing of 100,000 messages held the
   * main loop for 60 to 90 ms. */
  popcheck_mailbox_begin_update_newest_async (data->op.slot->mailbox, uids,
                                              listing,
                                              first_headers - MIN (first_headers,
                                                                   data->n_early),
                                              data->op.cancel.cancellable,
                                              check_begun_cb,
                                              g_object_ref (task));
}

static void
check_peeked_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  CheckData *data = g_task_get_task_data (task);
  PopcheckCheckerSlot *slot = data->op.slot;
  g_autoptr(GPtrArray) messages = NULL;
  GError *error = NULL;
  guint count;

  messages = popcheck_session_peek_newest_finish (POPCHECK_SESSION (object),
                                                  result, &count, &error);
  if (messages == NULL)
    {
      check_done (task, error);
      return;
    }

  /* In the list now, before the listing of the whole mailbox (a few MB
   * for 100,000 messages, seconds on a slow line) has come.  The check's
   * outcome (its count, the first-check signal, the notification) waits
   * for that listing: until then nothing says which messages are there. */
  if (messages->len > 0 && !slot->removed)
    {
      popcheck_mailbox_add_early_summaries (slot->mailbox, messages);
      data->n_early = messages->len;
      g_debug ("Account %s: the newest %u of %u messages are listed, "
               "before the full listing",
               popcheck_account_get_id (slot->account), messages->len, count);
    }

  operation_list (task);
}

/* A first check (nothing listed yet) shows the newest messages before it
 * lists the whole mailbox. */
static void
check_opened (GTask *task)
{
  CheckData *data = g_task_get_task_data (task);
  PopcheckCheckerSlot *slot = data->op.slot;

  data->preview_lines = popcheck_account_get_preview_lines (slot->account);
  popcheck_session_peek_newest_async (data->op.session,
                                      popcheck_checker_get_first_headers (slot->checker),
                                      data->preview_lines,
                                      data->op.cancel.cancellable,
                                      check_peeked_cb, g_object_ref (task));
}

static void
check_operation (PopcheckCheckerSlot *slot,
                 GTask               *task)
{
  CheckData *data = g_new0 (CheckData, 1);

  operation_begin (&data->op, slot, task, check_done, check_listed_cb);
  g_task_set_task_data (task, data, (GDestroyNotify) check_data_free);
  /* A check lists the whole mailbox every time; the messages it saw before
   * keep their size, so a later one sends LIST only for the new ones.  A
   * first check knows no sizes: UIDL and the whole LIST go together.  The
   * other operations list as before: they act on what a check listed. */
  data->op.sizes_from_cache = popcheck_mailbox_get_n_items (slot->mailbox) > 0;
  if (!data->op.sizes_from_cache &&
      !popcheck_mailbox_get_first_check_done (slot->mailbox))
    data->op.opened = check_opened;

  /* Not saved, a check would find the same mail new at every start. */
  if (slot->state_error != NULL)
    {
      check_done (task, g_error_copy (slot->state_error));
      return;
    }

  if (popcheck_checker_is_offline (slot->checker))
    {
      slot->check_queued = FALSE;
      popcheck_mailbox_set_state (slot->mailbox, POPCHECK_MAILBOX_STATE_OFFLINE,
                                  POPCHECK_PROBLEM_NONE, NULL);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE,
                               _("There is no network connection."));
      popcheck_checker_slot_done (slot);
      return;
    }

  popcheck_mailbox_set_state (slot->mailbox, POPCHECK_MAILBOX_STATE_CHECKING,
                              popcheck_mailbox_get_problem (slot->mailbox),
                              NULL);

  operation_open (task);
}

void
popcheck_checker_check_async (PopcheckChecker     *self,
                              const char          *account_id,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  PopcheckCheckerSlot *slot;

  g_return_if_fail (POPCHECK_IS_CHECKER (self));
  g_return_if_fail (account_id != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, popcheck_checker_check_async);

  slot = find_slot_for_task (self, account_id, task);
  if (slot == NULL)
    return;

  slot->check_queued = TRUE;
  popcheck_checker_slot_queue (slot, check_operation, task);
}

gboolean
popcheck_checker_check_finish (PopcheckChecker  *self,
                               GAsyncResult     *result,
                               GError          **error)
{
  g_return_val_if_fail (POPCHECK_IS_CHECKER (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* The backlog: the headers a check left for later, newest first, a batch
 * at a time.  It runs as an operation of the account's slot like any
 * other, so it never overlaps one (POP3 locks the maildrop for one
 * session, RFC 1939, section 8); between batches it looks whether anything
 * was queued (a preview, a delete, a check), and if so ends, to be queued
 * again after it.  It ends too while the account's backlog is held (a
 * person reads one of its messages), and is queued again when the hold is
 * released. */

typedef struct
{
  OperationData   op;
  Pop3UidListing *uids;
  /* Positions in uids (guint): the messages listed with their headers
   * pending, newest first, taken from next on. */
  GArray         *order;
  guint           next;
  /* UIDs whose TOP this batch sent: once answered, a message is no longer
   * pending, so no batch sends it again. */
  GHashTable     *sent;
  guint           preview_lines;
  guint           pending_tops;
  /* Answers that wait for fill_id to fill their rows together:
   * PopcheckMessage *, owned.  See backlog_fill (). */
  GPtrArray      *fills;
  guint           fill_id;
  GError         *error;
  /* Headers are left to fetch. */
  gboolean        more;
} BacklogData;

static void
backlog_data_free (BacklogData *data)
{
  operation_clear (&data->op);
  g_clear_pointer (&data->uids, pop3_uid_listing_unref);
  g_clear_pointer (&data->order, g_array_unref);
  g_clear_pointer (&data->sent, g_hash_table_unref);
  /* The idle holds the task: it is gone by now. */
  g_assert (data->fill_id == 0);
  g_clear_pointer (&data->fills, g_ptr_array_unref);
  g_clear_error (&data->error);
  g_free (data);
}

static void
backlog_done (GTask  *task,
              GError *error)
{
  BacklogData *data = g_task_get_task_data (task);
  PopcheckCheckerSlot *slot = data->op.slot;

  if (data->op.session != NULL)
    popcheck_session_close (data->op.session);

  /* What came is kept whatever stopped it: a restart asks only for the
   * rest. */
  if (popcheck_mailbox_get_dirty (slot->mailbox))
    popcheck_checker_slot_save (slot);

  if (error == NULL && !data->more &&
      popcheck_mailbox_count_headers_pending (slot->mailbox) == 0)
    g_debug ("Account %s: every listed message has its headers",
             popcheck_account_get_id (slot->account));

  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, data->more);
  popcheck_checker_slot_done (slot);
}

static gboolean
is_pending (PopcheckMailbox *mailbox,
            const char      *uid)
{
  PopcheckMessage *message = popcheck_mailbox_lookup (mailbox, uid);

  return message != NULL && popcheck_message_get_headers_pending (message);
}

typedef struct
{
  GTask *task;
  char  *uid;
} BacklogTopCall;

static void backlog_top_cb (GObject      *object,
                            GAsyncResult *result,
                            gpointer      user_data);

static gboolean
backlog_send_top (GTask      *task,
                  const char *uid,
                  guint       msg)
{
  BacklogData *data = g_task_get_task_data (task);
  BacklogTopCall *call;

  if (msg == 0 || g_hash_table_contains (data->sent, uid) ||
      !is_pending (data->op.slot->mailbox, uid))
    return FALSE;

  call = g_new0 (BacklogTopCall, 1);
  call->task = g_object_ref (task);
  call->uid = g_strdup (uid);
  g_hash_table_add (data->sent, g_strdup (uid));
  data->pending_tops++;
  popcheck_session_summary_async (data->op.session, msg, uid,
                                  data->preview_lines,
                                  data->op.cancel.cancellable,
                                  backlog_top_cb, call);
  return TRUE;
}

/* The next batch: first what the user looks at, then the newest left. */
static void
backlog_send_batch (GTask *task)
{
  BacklogData *data = g_task_get_task_data (task);
  PopcheckCheckerSlot *slot = data->op.slot;
  guint batch = popcheck_checker_get_backlog_batch (slot->checker);
  guint n = 0;

  g_hash_table_remove_all (data->sent);

  for (guint i = 0; slot->wanted != NULL && slot->wanted[i] != NULL &&
                    n < batch; i++)
    {
      const char *uid = slot->wanted[i];

      if (backlog_send_top (task, uid,
                            popcheck_session_get_number (data->op.session, uid)))
        n++;
    }

  g_debug ("Account %s: a batch of the backlog, %u rows in view first",
           popcheck_account_get_id (slot->account), n);
  while (n < batch && data->next < data->order->len)
    {
      guint position = g_array_index (data->order, guint, data->next++);

      if (backlog_send_top (task, pop3_uid_listing_get_uid (data->uids, position),
                            pop3_uid_listing_get_msg (data->uids, position)))
        n++;
    }
}

static void
backlog_next (GTask *task)
{
  BacklogData *data = g_task_get_task_data (task);
  PopcheckCheckerSlot *slot = data->op.slot;

  if (!g_queue_is_empty (&slot->operations) || slot->backlog_holds > 0)
    {
      data->more = TRUE;
      operation_quit (task);
      return;
    }

  backlog_send_batch (task);
  if (data->pending_tops == 0)
    {
      data->more = FALSE;
      operation_quit (task);
    }
}

/* Fills the rows of the answers that wait, in one go. */
static void
backlog_apply_fills (BacklogData *data)
{
  g_clear_handle_id (&data->fill_id, g_source_remove);

  /* A removed account's mailbox hears nothing more. */
  if (data->fills->len > 0 && !data->op.slot->removed)
    popcheck_mailbox_fill_pending_batch (data->op.slot->mailbox, data->fills);
  g_ptr_array_set_size (data->fills, 0);
}

static gboolean
backlog_fill_cb (gpointer user_data)
{
  BacklogData *data = g_task_get_task_data (G_TASK (user_data));

  data->fill_id = 0;
  backlog_apply_fills (data);

  return G_SOURCE_REMOVE;
}

/* Every change of a mailbox costs the window's list models (its filters,
 * sorter and selection) a pass over all their rows: two changes for each
 * row made the CPU, not the line, the limit of the backlog.  So the first
 * answer fills its row at once, and the answers that come in the next
 * frame's time wait to fill theirs together
 * (popcheck_mailbox_fill_pending_batch (), a change for each run of
 * neighbouring rows), at the latest at the end of their batch.  Waiting
 * for the main loop to be idle is not enough: over TLS a read brings
 * about one answer.  A frame is as soon as a person could see them, and
 * every answer that arrived shows, even when the server stalls in the
 * middle of a batch. */
#define BACKLOG_FILL_INTERVAL_MS 16

static void
backlog_fill (GTask           *task,
              PopcheckMessage *message)
{
  BacklogData *data = g_task_get_task_data (task);

  if (data->fill_id != 0)
    {
      g_ptr_array_add (data->fills, g_object_ref (message));
      return;
    }

  popcheck_mailbox_fill_pending (data->op.slot->mailbox, message);
  data->fill_id = g_timeout_add_full (G_PRIORITY_HIGH, BACKLOG_FILL_INTERVAL_MS,
                                      backlog_fill_cb, g_object_ref (task),
                                      g_object_unref);
}

static void
backlog_top_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  BacklogTopCall *call = user_data;
  g_autoptr(GTask) task = call->task;
  g_autofree char *uid = call->uid;
  BacklogData *data = g_task_get_task_data (task);
  PopcheckMailbox *mailbox = data->op.slot->mailbox;
  g_autoptr(PopcheckMessage) message = NULL;
  g_autoptr(GError) error = NULL;

  g_free (call);

  message = popcheck_session_summary_finish (POPCHECK_SESSION (object),
                                             result, &error);
  if (message == NULL &&
      !g_error_matches (error, POP3_ERROR, POP3_ERROR_SERVER))
    {
      if (data->error == NULL)
        data->error = g_steal_pointer (&error);
    }
  /* A removed account's mailbox hears nothing more. */
  else if (data->op.slot->removed)
    g_debug ("Account removed: dropping the headers of %s", uid);
  else if (message != NULL)
    backlog_fill (task, message);
  else
    {
      PopcheckMessage *listed = popcheck_mailbox_lookup (mailbox, uid);
      g_autoptr(PopcheckMessage) refused = NULL;

      /* As in a check: -ERR fails this message only, listed as one the
       * server refused, and tried again by the checks to come. */
      if (listed != NULL)
        {
          refused = popcheck_message_new_without_headers (uid,
                                                          popcheck_message_get_size (listed),
                                                          0);
          backlog_fill (task, refused);
        }
    }

  if (--data->pending_tops > 0)
    return;

  /* The next batch asks only for what is still pending, and the end
   * saves what came. */
  backlog_apply_fills (data);

  if (data->error != NULL)
    backlog_done (task, g_steal_pointer (&data->error));
  else
    backlog_next (task);
}

/* With the session's listing in data->uids: the batches. */
static void
backlog_start (GTask *task)
{
  BacklogData *data = g_task_get_task_data (task);
  PopcheckMailbox *mailbox = data->op.slot->mailbox;

  data->order = g_array_new (FALSE, FALSE, sizeof (guint));
  for (guint i = 0; i < pop3_uid_listing_get_length (data->uids); i++)
    if (is_pending (mailbox, pop3_uid_listing_get_uid (data->uids, i)))
      g_array_append_val (data->order, i);
  g_array_sort_with_data (data->order, compare_positions_newest_first,
                          data->uids);

  data->preview_lines =
    popcheck_account_get_preview_lines (data->op.slot->account);
  backlog_next (task);
}

static void
backlog_listed_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  BacklogData *data = g_task_get_task_data (task);
  GError *error = NULL;

  if (!popcheck_session_list_finish (POPCHECK_SESSION (object), result,
                                     &data->uids, NULL, &error))
    {
      backlog_done (task, error);
      return;
    }

  backlog_start (task);
}

static BacklogData *
backlog_begin (PopcheckCheckerSlot *slot,
               GTask               *task)
{
  BacklogData *data = g_new0 (BacklogData, 1);

  operation_begin (&data->op, slot, task, backlog_done, backlog_listed_cb);
  data->sent = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  data->fills = g_ptr_array_new_with_free_func (g_object_unref);
  g_task_set_task_data (task, data, (GDestroyNotify) backlog_data_free);

  return data;
}

/* Takes @task: the backlog on the session of the check that just ended
 * on @slot, which listed @uids. */
static void
backlog_continue (PopcheckCheckerSlot *slot,
                  GTask               *task,
                  PopcheckSession     *session,
                  Pop3UidListing      *uids)
{
  g_autoptr(GTask) owned = task;
  BacklogData *data = backlog_begin (slot, task);

  data->op.session = g_object_ref (session);
  data->uids = pop3_uid_listing_ref (uids);
  backlog_start (task);
}

void
popcheck_checker_backlog_operation (PopcheckCheckerSlot *slot,
                                    GTask               *task)
{
  BacklogData *data = backlog_begin (slot, task);

  /* Queued behind something queued after it: that goes first.  Held
   * meanwhile: it waits for the release. */
  if (!g_queue_is_empty (&slot->operations) || slot->backlog_holds > 0)
    {
      data->more = TRUE;
      backlog_done (task, NULL);
      return;
    }

  /* The next check says why, and queues it again. */
  if (slot->state_error != NULL || popcheck_checker_is_offline (slot->checker) ||
      !popcheck_account_get_enabled (slot->account))
    {
      backlog_done (task, NULL);
      return;
    }

  operation_open (task);
}

/* Checking accounts once */

void
popcheck_check_result_free (PopcheckCheckResult *result)
{
  g_free (result->account_id);
  g_clear_error (&result->error);
  g_clear_error (&result->save_error);
  g_free (result);
}

typedef struct
{
  /* Of PopcheckCheckResult, in the order asked for. */
  GPtrArray *results;
  /* The checks, then the saves, still running, and one for whoever is
   * still starting them. */
  guint      pending;
  gboolean   saving;
} CheckAccountsData;

static void
check_accounts_data_free (CheckAccountsData *data)
{
  g_ptr_array_unref (data->results);
  g_free (data);
}

/* One check or save of the batch, and the result it fills in. */
typedef struct
{
  GTask               *task;
  PopcheckCheckResult *result;
} CheckAccountsStep;

static CheckAccountsStep *
check_accounts_step_new (GTask               *task,
                         PopcheckCheckResult *result)
{
  CheckAccountsStep *step = g_new0 (CheckAccountsStep, 1);
  CheckAccountsData *data = g_task_get_task_data (task);

  data->pending++;
  step->task = g_object_ref (task);
  step->result = result;
  return step;
}

static void check_accounts_save (GTask *task);

static void
check_accounts_release (GTask *task)
{
  CheckAccountsData *data = g_task_get_task_data (task);

  if (--data->pending > 0)
    return;

  if (!data->saving)
    check_accounts_save (task);
  else
    g_task_return_pointer (task, g_ptr_array_ref (data->results),
                           (GDestroyNotify) g_ptr_array_unref);
}

static void
check_accounts_step_done (CheckAccountsStep *step)
{
  g_autoptr(GTask) task = step->task;

  g_free (step);
  check_accounts_release (task);
}

static void
check_accounts_saved_cb (GObject      *object,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  CheckAccountsStep *step = user_data;

  popcheck_mailbox_save_finish (POPCHECK_MAILBOX (object), result,
                                &step->result->save_error);
  check_accounts_step_done (step);
}

/* The checker saved each account's state as its check ended, without
 * waiting; the process is about to exit, so the state is written again and
 * waited for. */
static void
check_accounts_save (GTask *task)
{
  PopcheckChecker *self = g_task_get_source_object (task);
  CheckAccountsData *data = g_task_get_task_data (task);

  data->saving = TRUE;
  data->pending = 1;
  for (guint i = 0; i < data->results->len; i++)
    {
      PopcheckCheckResult *result = g_ptr_array_index (data->results, i);
      PopcheckMailbox *mailbox;

      mailbox = popcheck_checker_get_mailbox (self, result->account_id);
      if (result->error != NULL || mailbox == NULL)
        continue;
      popcheck_mailbox_save_async (mailbox, NULL, check_accounts_saved_cb,
                                   check_accounts_step_new (task, result));
    }
  check_accounts_release (task);
}

static void
check_accounts_checked_cb (GObject      *object,
                           GAsyncResult *result,
                           gpointer      user_data)
{
  CheckAccountsStep *step = user_data;

  popcheck_checker_check_finish (POPCHECK_CHECKER (object), result,
                                 &step->result->error);
  check_accounts_step_done (step);
}

void
popcheck_checker_check_accounts_async (PopcheckChecker     *self,
                                       const char * const  *account_ids,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  CheckAccountsData *data;

  g_return_if_fail (POPCHECK_IS_CHECKER (self));
  g_return_if_fail (account_ids != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, popcheck_checker_check_accounts_async);
  /* Cancelled, the checks still report each account's outcome. */
  g_task_set_check_cancellable (task, FALSE);

  data = g_new0 (CheckAccountsData, 1);
  data->results =
    g_ptr_array_new_with_free_func ((GDestroyNotify) popcheck_check_result_free);
  data->pending = 1;
  g_task_set_task_data (task, data, (GDestroyNotify) check_accounts_data_free);

  for (guint i = 0; account_ids[i] != NULL; i++)
    {
      PopcheckCheckResult *result = g_new0 (PopcheckCheckResult, 1);

      result->account_id = g_strdup (account_ids[i]);
      g_ptr_array_add (data->results, result);
      popcheck_checker_check_async (self, account_ids[i], cancellable,
                                    check_accounts_checked_cb,
                                    check_accounts_step_new (task, result));
    }
  check_accounts_release (task);
}

GPtrArray *
popcheck_checker_check_accounts_finish (PopcheckChecker  *self,
                                        GAsyncResult     *result,
                                        GError          **error)
{
  g_return_val_if_fail (POPCHECK_IS_CHECKER (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Sessions for one request: delete, preview, retrieve.  Each opens its own
 * short session and maps UIDs to this session's message numbers, never
 * trusting a number remembered from an earlier session. */

typedef void (*RequestStep) (GTask *task);

typedef struct
{
  OperationData        op;
  /* What the request does once the session has listed the UIDs. */
  RequestStep          step;
  GStrv                uids;
  guint                lines;
  GStrv                already_gone;
  /* Delete: the session's delete ran, so its error says what became of
   * the messages. */
  gboolean             deleting;
  /* Preview and retrieve: what was fetched, returned after QUIT. */
  gpointer             fetched;
  GDestroyNotify       fetched_free;
} RequestData;

static void
request_data_free (RequestData *data)
{
  if (data->op.session != NULL)
    popcheck_session_close (data->op.session);
  operation_clear (&data->op);
  g_strfreev (data->uids);
  g_strfreev (data->already_gone);
  if (data->fetched != NULL)
    data->fetched_free (data->fetched);
  g_free (data);
}

static void
request_fail (GTask  *task,
              GError *error)
{
  RequestData *data = g_task_get_task_data (task);
  PopcheckCheckerSlot *slot = data->op.slot;

  g_task_return_error (task, error);
  popcheck_checker_slot_done (slot);
}

static void
request_listed_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RequestData *data = g_task_get_task_data (task);
  GError *error = NULL;

  if (!popcheck_session_list_finish (POPCHECK_SESSION (object), result,
                                     NULL, NULL, &error))
    {
      request_fail (task, error);
      return;
    }

  data->step (task);
}

static void
request_operation (PopcheckCheckerSlot *slot,
                   GTask               *task)
{
  RequestData *data = g_task_get_task_data (task);

  operation_begin (&data->op, slot, task, request_fail, request_listed_cb);
  operation_open (task);
}

/* A message a broken UIDL listing left without a UID has only a number,
 * and a number names another message in the next session: nothing
 * without a UID ever reaches a session, let alone DELE.  Fails @task
 * then. */
static gboolean
names_message_without_uid (GTask              *task,
                           const char * const *uids)
{
  for (guint i = 0; uids != NULL && uids[i] != NULL; i++)
    if (!pop3_uid_is_valid (uids[i]))
      {
        g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                                 _("The server gave this message no unique "
                                   "ID, so PopCheck cannot tell it apart "
                                   "from the others and never deletes or "
                                   "downloads it."));
        return TRUE;
      }

  return FALSE;
}

/* Queues a request on the account's slot; its data is complete before it
 * is queued, as it may start at once. */
static void
request_queue (PopcheckChecker     *self,
               const char          *account_id,
               gpointer             source_tag,
               RequestStep          step,
               GStrv                uids,
               guint                lines,
               GCancellable        *cancellable,
               GAsyncReadyCallback  callback,
               gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  RequestData *data = g_new0 (RequestData, 1);
  PopcheckCheckerSlot *slot;

  data->step = step;
  data->uids = uids;
  data->lines = lines;
  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, data, (GDestroyNotify) request_data_free);

  if (names_message_without_uid (task, (const char * const *) uids))
    return;

  slot = find_slot_for_task (self, account_id, task);
  if (slot != NULL)
    popcheck_checker_slot_queue (slot, request_operation, task);
}

/* One UID, as the array the request keeps. */
static GStrv
uid_array (const char *uid)
{
  GStrv uids = g_new0 (char *, 2);

  uids[0] = g_strdup (uid);
  return uids;
}

/* Preview and retrieve change nothing on the server: once the message is
 * fetched, QUIT ends the session, and a failed QUIT loses nothing. */
static void
fetch_quit_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RequestData *data = g_task_get_task_data (task);

  popcheck_session_quit_finish (POPCHECK_SESSION (object), result, NULL);
  g_task_return_pointer (task, g_steal_pointer (&data->fetched),
                         data->fetched_free);
  popcheck_checker_slot_done (data->op.slot);
}

/* Takes @fetched (NULL on failure, with @error set). */
static void
fetch_then_quit (GTask          *task,
                 gpointer        fetched,
                 GDestroyNotify  fetched_free,
                 GError         *error)
{
  RequestData *data = g_task_get_task_data (task);

  if (fetched == NULL)
    {
      request_fail (task, error);
      return;
    }

  data->fetched = fetched;
  data->fetched_free = fetched_free;
  popcheck_session_quit_async (data->op.session, data->op.cancel.cancellable,
                               fetch_quit_cb, g_object_ref (task));
}

/* Delete */

static void
delete_done_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RequestData *data = g_task_get_task_data (task);
  PopcheckCheckerSlot *slot = data->op.slot;
  GError *error = NULL;

  if (!popcheck_session_delete_finish (POPCHECK_SESSION (object), result,
                                       &data->already_gone, &error))
    {
      request_fail (task, error);
      return;
    }

  popcheck_mailbox_remove_uids (slot->mailbox, (const char * const *) data->uids);
  popcheck_checker_slot_save (slot);
  g_task_return_boolean (task, TRUE);
  popcheck_checker_slot_done (slot);
}

static void
delete_step (GTask *task)
{
  RequestData *data = g_task_get_task_data (task);

  data->deleting = TRUE;
  popcheck_session_delete_async (data->op.session,
                                 (const char * const *) data->uids,
                                 data->op.cancel.cancellable,
                                 delete_done_cb, g_object_ref (task));
}

void
popcheck_checker_delete_async (PopcheckChecker     *self,
                               const char          *account_id,
                               const char * const  *uids,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_return_if_fail (POPCHECK_IS_CHECKER (self));
  g_return_if_fail (account_id != NULL);
  g_return_if_fail (uids != NULL);

  request_queue (self, account_id, popcheck_checker_delete_async, delete_step,
                 g_strdupv ((GStrv) uids), 0, cancellable, callback,
                 user_data);
}

gboolean
popcheck_checker_delete_finish (PopcheckChecker  *self,
                                GAsyncResult     *result,
                                GStrv            *already_gone,
                                GError          **error)
{
  RequestData *data;
  GError *local_error = NULL;

  g_return_val_if_fail (POPCHECK_IS_CHECKER (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  data = g_task_get_task_data (G_TASK (result));
  if (!g_task_propagate_boolean (G_TASK (result), &local_error))
    {
      /* The session's delete says what became of the messages; before it
       * ran, nothing was marked. */
      if (data->deleting)
        g_propagate_error (error, local_error);
      else
        {
          g_propagate_error (error,
                             popcheck_session_nothing_deleted_error (local_error));
          g_error_free (local_error);
        }
      return FALSE;
    }

  if (already_gone != NULL)
    *already_gone = g_steal_pointer (&data->already_gone);

  return TRUE;
}

/* Preview */

static void
preview_top_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PopcheckMessage *message;
  GError *error = NULL;

  message = popcheck_session_summary_finish (POPCHECK_SESSION (object), result,
                                             &error);
  if (message == NULL && g_error_matches (error, POP3_ERROR, POP3_ERROR_SERVER))
    {
      Pop3Client *client =
        popcheck_session_get_client (POPCHECK_SESSION (object));

      /* TOP is optional (RFC 1939, section 7) and a server that does not
       * list it in CAPA (RFC 2449, section 6.3) and refuses it has no way
       * to show part of a message; the server's own words rarely say so.
       * Only the whole message, fetched when the user asks, can show it. */
      if (!pop3_client_has_capability (client, "TOP"))
        {
          GError *cause = error;

          error = g_error_new_literal (POP3_ERROR, POP3_ERROR_NOT_SUPPORTED,
                                       _("This server cannot show a preview "
                                         "without downloading the whole "
                                         "message."));
          g_error_free (cause);
        }
    }
  fetch_then_quit (task, message, g_object_unref, error);
}

static void
preview_step (GTask *task)
{
  RequestData *data = g_task_get_task_data (task);

  popcheck_session_summary_async (data->op.session, 0, data->uids[0],
                                  data->lines, data->op.cancel.cancellable,
                                  preview_top_cb, g_object_ref (task));
}

void
popcheck_checker_preview_async (PopcheckChecker     *self,
                                const char          *account_id,
                                const char          *uid,
                                guint                lines,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_return_if_fail (POPCHECK_IS_CHECKER (self));
  g_return_if_fail (account_id != NULL);
  g_return_if_fail (uid != NULL);

  request_queue (self, account_id, popcheck_checker_preview_async,
                 preview_step, uid_array (uid), lines, cancellable, callback,
                 user_data);
}

PopcheckMessage *
popcheck_checker_preview_finish (PopcheckChecker  *self,
                                 GAsyncResult     *result,
                                 GError          **error)
{
  g_return_val_if_fail (POPCHECK_IS_CHECKER (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Retrieve */

static void
retrieve_retr_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GBytes *bytes;
  GError *error = NULL;

  bytes = popcheck_session_retrieve_finish (POPCHECK_SESSION (object), result,
                                            &error);
  fetch_then_quit (task, bytes, (GDestroyNotify) g_bytes_unref, error);
}

static void
retrieve_step (GTask *task)
{
  RequestData *data = g_task_get_task_data (task);

  popcheck_session_retrieve_async (data->op.session, data->uids[0],
                                   data->op.cancel.cancellable,
                                   retrieve_retr_cb, g_object_ref (task));
}

void
popcheck_checker_retrieve_async (PopcheckChecker     *self,
                                 const char          *account_id,
                                 const char          *uid,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_return_if_fail (POPCHECK_IS_CHECKER (self));
  g_return_if_fail (account_id != NULL);
  g_return_if_fail (uid != NULL);

  request_queue (self, account_id, popcheck_checker_retrieve_async,
                 retrieve_step, uid_array (uid), 0, cancellable, callback,
                 user_data);
}

GBytes *
popcheck_checker_retrieve_finish (PopcheckChecker  *self,
                                  GAsyncResult     *result,
                                  GError          **error)
{
  g_return_val_if_fail (POPCHECK_IS_CHECKER (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
