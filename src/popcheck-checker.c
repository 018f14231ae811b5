/* popcheck-checker.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One slot per account holds its mailbox, its timer and a queue of
 * operations (check, delete, preview, retrieve).  Operations of one account
 * run one after the other, so a delete never interleaves with a check;
 * accounts run concurrently, so one dead server never delays the others.
 * What each operation does on the server is in
 * popcheck-checker-operations.c; this file keeps the slots, their queues
 * and their schedule.
 */

#define G_LOG_DOMAIN "popcheck-checker"

#include "config.h"

#include <glib/gi18n.h>

#include "pop3-client.h"
#include "popcheck-account.h"
#include "popcheck-account-list.h"
#include "popcheck-checker.h"
#include "popcheck-checker-private.h"
#include "popcheck-mailbox.h"
#include "popcheck-message.h"
#include "popcheck-oauth-provider.h"
#include "popcheck-secret.h"
#include "popcheck-session.h"
#include "popcheck-token-source.h"

/* Back-off after failures: 1, 2, 4 ... minutes, never more than an hour,
 * and never giving up. */
#define BACKOFF_FIRST_SECONDS 60
#define BACKOFF_CEILING_SECONDS 3600

/* A backlog batch: at 1.6 KB of headers each, about a third of a second
 * on a 10 Mbit/s line, so a preview waits little for it while the round
 * trip between batches costs little. */
#define BACKLOG_BATCH 200

/* This file's short name for its slots. */
typedef PopcheckCheckerSlot Slot;

typedef struct
{
  PopcheckCheckerOperation  func;
  GTask                    *task;
} Operation;

struct _PopcheckChecker
{
  GObject              parent_instance;

  PopcheckAccountList *accounts;
  GListStore          *mailboxes;
  GPtrArray           *slots;
  GNetworkMonitor     *network_monitor;
  gboolean             started;
  gboolean             network_available;
  guint                first_headers;
  guint                backlog_batch;

  PopcheckCheckerSessionHook session_hook;
  gpointer             session_hook_data;

  /* State files being written; the app waits for them before it exits. */
  guint                saves_pending;
};

G_DEFINE_FINAL_TYPE (PopcheckChecker, popcheck_checker, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_N_NEW,
  PROP_FIRST_HEADERS,
  N_PROPS
};

enum {
  NEW_MESSAGES,
  FIRST_CHECK,
  PROBLEM,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void slot_run_next (Slot *slot);
static gboolean slot_timer_cb (gpointer user_data);
static void token_source_sign_in_changed_cb (PopcheckTokenSource *source,
                                             PopcheckAccount     *account,
                                             Slot                *slot);

/* Slots */

Slot *
popcheck_checker_find_slot (PopcheckChecker *self,
                            const char      *account_id)
{
  for (guint i = 0; i < self->slots->len; i++)
    {
      Slot *slot = g_ptr_array_index (self->slots, i);

      /* A slot being released may still be in the array while the
       * callbacks of its failed operations run. */
      if (!slot->removed &&
          g_strcmp0 (popcheck_account_get_id (slot->account), account_id) == 0)
        return slot;
    }

  return NULL;
}

static void
slot_cancel_timer (Slot *slot)
{
  g_clear_handle_id (&slot->timer_id, g_source_remove);
  slot->timer_delay = 0;
  popcheck_mailbox_set_next_check (slot->mailbox, NULL);
}

/* The one place a check is timed, so the mailbox always says when. */
static void
slot_set_timer (Slot  *slot,
                guint  delay)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autoptr(GDateTime) next_check = g_date_time_add_seconds (now, delay);

  slot_cancel_timer (slot);
  /* Seconds granularity lets the main loop coalesce wake-ups. */
  slot->timer_id = g_timeout_add_seconds (delay, slot_timer_cb, slot);
  slot->timer_delay = delay;
  popcheck_mailbox_set_next_check (slot->mailbox, next_check);
}

Slot *
popcheck_checker_slot_ref (Slot *slot)
{
  g_atomic_ref_count_inc (&slot->ref_count);
  return slot;
}

void
popcheck_checker_slot_unref (Slot *slot)
{
  if (!g_atomic_ref_count_dec (&slot->ref_count))
    return;

  g_assert (slot->removed);
  g_assert (g_queue_is_empty (&slot->operations));
  g_clear_object (&slot->cancellable);
  g_clear_object (&slot->state_cancellable);
  g_clear_object (&slot->backlog_cancellable);
  g_clear_pointer (&slot->wanted, g_strfreev);
  g_clear_object (&slot->account);
  g_clear_object (&slot->mailbox);
  g_clear_error (&slot->state_error);
  g_free (slot);
}

/* A session for one operation of the slot; tests see its client first. */
PopcheckSession *
popcheck_checker_slot_new_session (Slot *slot)
{
  PopcheckChecker *self = slot->checker;
  PopcheckSession *session = popcheck_session_new (slot->account);

  if (self->session_hook != NULL)
    self->session_hook (self, slot->mailbox,
                        popcheck_session_get_client (session),
                        self->session_hook_data);

  return session;
}

static void
operation_fail (Operation    *operation,
                const GError *error)
{
  g_task_return_error (operation->task, g_error_copy (error));
  g_object_unref (operation->task);
  g_free (operation);
}

/* Fails every operation still waiting; the running one is cancelled
 * through the slot's cancellable. */
static void
slot_fail_queued (Slot       *slot,
                  const char *message)
{
  g_autoptr(GError) error = NULL;
  GQueue failed = slot->operations;
  Operation *operation;

  /* A callback may queue again (it runs at once when the task is older
   * than this main loop iteration): what it queues is not failed here. */
  g_queue_init (&slot->operations);
  error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, message);
  while ((operation = g_queue_pop_head (&failed)) != NULL)
    operation_fail (operation, error);
}

/* The account is gone (or the checker is): nothing more runs on the slot. */
static void
slot_release (Slot *slot)
{
  slot->removed = TRUE;
  slot_cancel_timer (slot);
  g_cancellable_cancel (slot->cancellable);
  g_cancellable_cancel (slot->state_cancellable);
  g_cancellable_cancel (slot->backlog_cancellable);
  slot_fail_queued (slot, _("The account was removed."));
  g_clear_signal_handler (&slot->account_changed_id, slot->account);
  g_clear_object (&slot->token_source_signals);
  popcheck_checker_slot_unref (slot);
}

static void
notify_n_new (PopcheckChecker *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_NEW]);
}

static void
mailbox_n_new_cb (PopcheckMailbox *mailbox,
                  GParamSpec      *pspec,
                  PopcheckChecker *self)
{
  notify_n_new (self);
}

/* Queue an operation on a slot; operations of one account never overlap. */
void
popcheck_checker_slot_queue (Slot                     *slot,
                             PopcheckCheckerOperation  func,
                             GTask                    *task)
{
  Operation *operation = g_new0 (Operation, 1);

  operation->func = func;
  operation->task = g_object_ref (task);
  g_queue_push_tail (&slot->operations, operation);
  slot_run_next (slot);
}

static void
slot_run_next (Slot *slot)
{
  Operation *operation;

  if (slot->busy || !slot->loaded || slot->removed)
    return;

  operation = g_queue_pop_head (&slot->operations);
  if (operation == NULL)
    return;

  slot->busy = TRUE;
  operation->func (slot, operation->task);
  g_object_unref (operation->task);
  g_free (operation);
}

void
popcheck_checker_slot_done (Slot *slot)
{
  slot->busy = FALSE;
  slot_run_next (slot);
}

static void
mailbox_loaded_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  PopcheckMailbox *mailbox = POPCHECK_MAILBOX (object);
  g_autoptr(GError) error = NULL;
  PopcheckChecker *self = user_data;
  Slot *slot;

  /* The mailbox sets damaged files aside itself; any error left is one we
   * can only report, and the mailbox starts empty. */
  if (!popcheck_mailbox_load_finish (mailbox, result, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_message ("Could not load the saved state of %s: %s",
               popcheck_mailbox_get_account_id (mailbox), error->message);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_object_unref (self);
      return;
    }

  slot = popcheck_checker_find_slot (self, popcheck_mailbox_get_account_id (mailbox));
  if (slot != NULL && slot->mailbox == mailbox)
    {
      if (g_error_matches (error, POPCHECK_MAILBOX_ERROR,
                           POPCHECK_MAILBOX_ERROR_NEWER_FORMAT))
        slot->state_error = g_steal_pointer (&error);
      slot->loaded = TRUE;
      slot_run_next (slot);
    }

  g_object_unref (self);
}

PopcheckMailboxState
popcheck_checker_slot_resting_state (Slot *slot)
{
  return popcheck_account_get_enabled (slot->account)
           ? POPCHECK_MAILBOX_STATE_IDLE
           : POPCHECK_MAILBOX_STATE_DISABLED;
}

/* Stops the account's backlog, running or queued; the next check queues
 * it again. */
static void
slot_cancel_backlog (Slot *slot)
{
  g_cancellable_cancel (slot->backlog_cancellable);
  g_object_unref (slot->backlog_cancellable);
  slot->backlog_cancellable = g_cancellable_new ();
}

static void
account_changed_cb (PopcheckAccount *account,
                    GParamSpec      *pspec,
                    Slot            *slot)
{
  PopcheckMailboxState state = popcheck_mailbox_get_state (slot->mailbox);

  /* Another server, user or state: what the backlog would fetch is the
   * next check's to say. */
  slot_cancel_backlog (slot);

  /* What the user changed may be what a problem was waiting for: a new
   * password, a trusted certificate, a corrected host. */
  slot->failures = 0;
  slot->problem_reported = FALSE;
  popcheck_mailbox_set_display_name (slot->mailbox,
                                     popcheck_account_get_display_name (account));
  /* Turned off (even while failing) or on again: the window hides or
   * shows its messages at once.  A check that runs meanwhile ends in the
   * state that fits then. */
  if (!popcheck_account_get_enabled (account)
        ? state != POPCHECK_MAILBOX_STATE_DISABLED && state != POPCHECK_MAILBOX_STATE_CHECKING
        : state == POPCHECK_MAILBOX_STATE_DISABLED)
    popcheck_mailbox_set_state (slot->mailbox, popcheck_checker_slot_resting_state (slot),
                                POPCHECK_PROBLEM_NONE, NULL);
  if (!slot->checker->started)
    return;

  popcheck_checker_slot_schedule (slot);

  /* An account never checked yet, now with a server and a user: check it
   * soon rather than an interval from now.  Soon, not at once: whoever
   * fills it in (the editor, popcheck-cli account add) writes one key at
   * a time, and each change restarts the wait. */
  if (slot->timer_id != 0 &&
      popcheck_mailbox_get_last_check (slot->mailbox) == NULL &&
      !popcheck_mailbox_get_first_check_done (slot->mailbox) &&
      *popcheck_account_get_host (account) != '\0' &&
      *popcheck_account_get_user (account) != '\0')
    {
      slot_set_timer (slot, 2);
    }
}

static Slot *
slot_new (PopcheckChecker *self,
          PopcheckAccount *account)
{
  Slot *slot = g_new0 (Slot, 1);
  g_autoptr(PopcheckTokenSource) token_source = NULL;

  g_atomic_ref_count_init (&slot->ref_count);
  slot->checker = self;
  slot->account = g_object_ref (account);
  slot->cancellable = g_cancellable_new ();
  slot->state_cancellable = g_cancellable_new ();
  slot->backlog_cancellable = g_cancellable_new ();
  slot->mailbox = popcheck_mailbox_new (popcheck_account_get_id (account));
  popcheck_mailbox_set_display_name (slot->mailbox,
                                     popcheck_account_get_display_name (account));
  g_queue_init (&slot->operations);

  g_signal_connect_object (slot->mailbox, "notify::n-new",
                           G_CALLBACK (mailbox_n_new_cb), self, 0);
  slot->account_changed_id =
    g_signal_connect (account, "notify", G_CALLBACK (account_changed_cb), slot);
  token_source = popcheck_account_dup_token_source (account);
  if (token_source != NULL)
    {
      slot->token_source_signals = g_signal_group_new (POPCHECK_TYPE_TOKEN_SOURCE);
      g_signal_group_connect (slot->token_source_signals, "sign-in-changed",
                              G_CALLBACK (token_source_sign_in_changed_cb),
                              slot);
      g_signal_group_set_target (slot->token_source_signals, token_source);
    }

  popcheck_mailbox_load_async (slot->mailbox, slot->state_cancellable,
                               mailbox_loaded_cb, g_object_ref (self));

  return slot;
}

static void
accounts_items_changed_cb (GListModel      *model,
                           guint            position,
                           guint            removed,
                           guint            added,
                           PopcheckChecker *self)
{
  g_autoptr(GPtrArray) new_mailboxes = g_ptr_array_new ();

  g_ptr_array_remove_range (self->slots, position, removed);

  for (guint i = 0; i < added; i++)
    {
      g_autoptr(PopcheckAccount) account = g_list_model_get_item (model,
                                                                  position + i);
      Slot *slot = slot_new (self, account);

      g_ptr_array_insert (self->slots, position + i, slot);
      g_ptr_array_add (new_mailboxes, slot->mailbox);
      if (self->started)
        popcheck_checker_slot_schedule (slot);
    }

  g_list_store_splice (self->mailboxes, position, removed,
                       new_mailboxes->pdata, new_mailboxes->len);
  notify_n_new (self);

  /* An account added while PopCheck runs, already complete (written with
   * gsettings, say), is checked now, not an interval from now; one still
   * being filled in is checked soon after its last change
   * (account_changed_cb). */
  for (guint i = 0; self->started && i < added; i++)
    {
      g_autoptr(PopcheckAccount) account = g_list_model_get_item (model,
                                                                  position + i);

      if (popcheck_account_get_enabled (account) &&
          *popcheck_account_get_host (account) != '\0')
        popcheck_checker_check_now (self, popcheck_account_get_id (account));
    }
}

/* Scheduling */

static gboolean
slot_timer_cb (gpointer user_data)
{
  Slot *slot = user_data;

  slot->timer_id = 0;
  slot->timer_delay = 0;
  popcheck_checker_check_now (slot->checker,
                              popcheck_account_get_id (slot->account));

  return G_SOURCE_REMOVE;
}

static guint
slot_next_delay (Slot *slot)
{
  PopcheckProblem problem = popcheck_mailbox_get_problem (slot->mailbox);
  guint interval = MAX (popcheck_account_get_check_interval (slot->account),
                        1) * 60;
  guint delay;

  switch (problem)
    {
    case POPCHECK_PROBLEM_NONE:
      delay = interval;
      break;

    case POPCHECK_PROBLEM_TEMPORARY:
    case POPCHECK_PROBLEM_BUSY:
      delay = BACKOFF_FIRST_SECONDS << MIN (slot->failures - 1, 6);
      delay = CLAMP (delay, BACKOFF_FIRST_SECONDS, BACKOFF_CEILING_SECONDS);
      break;

    case POPCHECK_PROBLEM_AUTH:
    case POPCHECK_PROBLEM_SIGN_IN:
    case POPCHECK_PROBLEM_CERTIFICATE:
    case POPCHECK_PROBLEM_SECRET:
    case POPCHECK_PROBLEM_PERMANENT:
    default:
      return 0;
    }

  /* RFC 2449, section 6.5: LOGIN-DELAY is the least time between logins.
   * It is the server's word, and any 32-bit number parses: a server that
   * asks for more than the back-off ceiling is checked at the ceiling
   * (and refuses the login if it meant it), not in 136 years. */
  return MAX (delay, MIN (slot->login_delay, BACKOFF_CEILING_SECONDS));
}

void
popcheck_checker_slot_schedule (Slot *slot)
{
  guint delay;

  slot_cancel_timer (slot);

  if (slot->removed || !slot->checker->started ||
      !popcheck_account_get_enabled (slot->account))
    return;

  delay = slot_next_delay (slot);
  if (delay == 0)
    return;

  slot_set_timer (slot, delay);
}

static void
network_changed_cb (GNetworkMonitor *monitor,
                    gboolean         available,
                    PopcheckChecker *self)
{
  gboolean was_available = self->network_available;

  self->network_available = available;
  if (available && !was_available && self->started)
    {
      for (guint i = 0; i < self->slots->len; i++)
        {
          Slot *slot = g_ptr_array_index (self->slots, i);
          PopcheckMailboxState state = popcheck_mailbox_get_state (slot->mailbox);

          /* Skipped while offline, or failed as the network went away:
           * no need to wait for the back-off. */
          if (state == POPCHECK_MAILBOX_STATE_OFFLINE ||
              (state == POPCHECK_MAILBOX_STATE_ERROR &&
               popcheck_mailbox_get_problem (slot->mailbox) ==
               POPCHECK_PROBLEM_TEMPORARY))
            popcheck_checker_check_now (self,
                                        popcheck_account_get_id (slot->account));
        }
    }
}

/* GObject */

static void
popcheck_checker_dispose (GObject *object)
{
  PopcheckChecker *self = (PopcheckChecker *) object;

  popcheck_checker_stop (self);

  if (self->accounts != NULL)
    g_signal_handlers_disconnect_by_data (self->accounts, self);
  if (self->network_monitor != NULL)
    g_signal_handlers_disconnect_by_data (self->network_monitor, self);

  g_clear_pointer (&self->slots, g_ptr_array_unref);
  g_clear_object (&self->mailboxes);
  g_clear_object (&self->accounts);
  g_clear_object (&self->network_monitor);

  G_OBJECT_CLASS (popcheck_checker_parent_class)->dispose (object);
}

static void
popcheck_checker_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  PopcheckChecker *self = POPCHECK_CHECKER (object);

  switch (prop_id)
    {
    case PROP_N_NEW:
      g_value_set_uint (value, popcheck_checker_get_n_new (self));
      break;

    case PROP_FIRST_HEADERS:
      g_value_set_uint (value, self->first_headers);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
popcheck_checker_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  PopcheckChecker *self = POPCHECK_CHECKER (object);

  switch (prop_id)
    {
    case PROP_FIRST_HEADERS:
      popcheck_checker_set_first_headers (self, g_value_get_uint (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
popcheck_checker_class_init (PopcheckCheckerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = popcheck_checker_dispose;
  object_class->get_property = popcheck_checker_get_property;
  object_class->set_property = popcheck_checker_set_property;

  properties[PROP_N_NEW] =
    g_param_spec_uint ("n-new", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));
  properties[PROP_FIRST_HEADERS] =
    g_param_spec_uint ("first-headers", NULL, NULL,
                       0, G_MAXUINT, POPCHECK_CHECKER_FIRST_HEADERS,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[NEW_MESSAGES] =
    g_signal_new ("new-messages",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, POPCHECK_TYPE_MAILBOX, G_TYPE_PTR_ARRAY);

  signals[FIRST_CHECK] =
    g_signal_new ("first-check",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, POPCHECK_TYPE_MAILBOX, G_TYPE_UINT);

  signals[PROBLEM] =
    g_signal_new ("problem",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, POPCHECK_TYPE_MAILBOX);
}

static void
popcheck_checker_init (PopcheckChecker *self)
{
  self->mailboxes = g_list_store_new (POPCHECK_TYPE_MAILBOX);
  self->slots = g_ptr_array_new_with_free_func ((GDestroyNotify) slot_release);
  self->first_headers = POPCHECK_CHECKER_FIRST_HEADERS;
  self->backlog_batch = BACKLOG_BATCH;
}

PopcheckChecker *
popcheck_checker_new (PopcheckAccountList *accounts)
{
  PopcheckChecker *self;
  guint n;

  g_return_val_if_fail (POPCHECK_IS_ACCOUNT_LIST (accounts), NULL);

  self = g_object_new (POPCHECK_TYPE_CHECKER, NULL);
  self->accounts = g_object_ref (accounts);

  g_signal_connect (accounts, "items-changed",
                    G_CALLBACK (accounts_items_changed_cb), self);
  n = g_list_model_get_n_items (G_LIST_MODEL (accounts));
  accounts_items_changed_cb (G_LIST_MODEL (accounts), 0, 0, n, self);

  return self;
}

PopcheckAccountList *
popcheck_checker_get_accounts (PopcheckChecker *self)
{
  g_return_val_if_fail (POPCHECK_IS_CHECKER (self), NULL);

  return self->accounts;
}

GListModel *
popcheck_checker_get_mailboxes (PopcheckChecker *self)
{
  g_return_val_if_fail (POPCHECK_IS_CHECKER (self), NULL);

  return G_LIST_MODEL (self->mailboxes);
}

PopcheckMailbox *
popcheck_checker_get_mailbox (PopcheckChecker *self,
                              const char      *account_id)
{
  Slot *slot;

  g_return_val_if_fail (POPCHECK_IS_CHECKER (self), NULL);
  g_return_val_if_fail (account_id != NULL, NULL);

  slot = popcheck_checker_find_slot (self, account_id);
  return slot ? slot->mailbox : NULL;
}

guint
popcheck_checker_get_n_new (PopcheckChecker *self)
{
  guint n_new = 0;

  g_return_val_if_fail (POPCHECK_IS_CHECKER (self), 0);

  for (guint i = 0; i < self->slots->len; i++)
    {
      Slot *slot = g_ptr_array_index (self->slots, i);

      n_new += popcheck_mailbox_get_n_new (slot->mailbox);
    }

  return n_new;
}

guint
popcheck_checker_get_first_headers (PopcheckChecker *self)
{
  g_return_val_if_fail (POPCHECK_IS_CHECKER (self), 0);

  return self->first_headers;
}

void
popcheck_checker_set_first_headers (PopcheckChecker *self,
                                    guint            first_headers)
{
  g_return_if_fail (POPCHECK_IS_CHECKER (self));

  if (self->first_headers == first_headers)
    return;

  self->first_headers = first_headers;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FIRST_HEADERS]);
}

void
popcheck_checker_set_backlog_batch (PopcheckChecker *self,
                                    guint            batch)
{
  g_return_if_fail (POPCHECK_IS_CHECKER (self));
  g_return_if_fail (batch > 0);

  self->backlog_batch = batch;
}

guint
popcheck_checker_get_backlog_batch (PopcheckChecker *self)
{
  g_return_val_if_fail (POPCHECK_IS_CHECKER (self), BACKLOG_BATCH);

  return self->backlog_batch;
}

/* The backlog */

static void
backlog_done_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Slot *slot = user_data;
  g_autoptr(GError) error = NULL;
  gboolean more;

  more = g_task_propagate_boolean (G_TASK (result), &error);
  slot->backlog_queued = FALSE;

  /* It made way for what was queued meanwhile, and goes on after it.  A
   * failure waits for the next check, which says what went wrong. */
  if (more)
    popcheck_checker_slot_queue_backlog (slot);
  else if (error != NULL &&
           !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_debug ("Account %s: the backlog stopped: %s",
             popcheck_account_get_id (slot->account), error->message);

  popcheck_checker_slot_unref (slot);
}

static GTask *
backlog_task_new (Slot *slot)
{
  GTask *task;

  if (slot->backlog_queued || slot->removed || !slot->checker->started ||
      !popcheck_account_get_enabled (slot->account))
    return NULL;
  if (slot->backlog_holds > 0)
    {
      slot->backlog_held_back = TRUE;
      return NULL;
    }

  task = g_task_new (slot->checker, slot->backlog_cancellable,
                     backlog_done_cb, popcheck_checker_slot_ref (slot));
  g_task_set_source_tag (task, popcheck_checker_slot_queue_backlog);
  slot->backlog_queued = TRUE;

  return task;
}

gboolean
popcheck_checker_slot_may_run_backlog (Slot *slot)
{
  return slot->checker->started;
}

void
popcheck_checker_slot_queue_backlog (Slot *slot)
{
  g_autoptr(GTask) task = backlog_task_new (slot);

  if (task != NULL)
    popcheck_checker_slot_queue (slot, popcheck_checker_backlog_operation, task);
}

GTask *
popcheck_checker_slot_take_backlog (Slot *slot)
{
  Operation *operation;
  GTask *task;

  if (g_queue_is_empty (&slot->operations))
    return backlog_task_new (slot);

  /* The backlog that made way for the running operation, alone in the
   * queue: it may as well go on in that operation's session. */
  operation = g_queue_peek_head (&slot->operations);
  if (g_queue_get_length (&slot->operations) != 1 ||
      operation->func != popcheck_checker_backlog_operation)
    return NULL;

  g_queue_pop_head (&slot->operations);
  task = g_steal_pointer (&operation->task);
  g_free (operation);

  return task;
}

void
popcheck_checker_want_headers (PopcheckChecker    *self,
                               const char         *account_id,
                               const char * const *uids)
{
  g_autoptr(GStrvBuilder) wanted = g_strv_builder_new ();
  gboolean any_pending = FALSE;
  Slot *slot;

  g_return_if_fail (POPCHECK_IS_CHECKER (self));
  g_return_if_fail (account_id != NULL);

  slot = popcheck_checker_find_slot (self, account_id);
  if (slot == NULL)
    return;

  for (guint i = 0; uids != NULL && uids[i] != NULL &&
                    i < POPCHECK_CHECKER_MAX_WANTED; i++)
    {
      PopcheckMessage *message = popcheck_mailbox_lookup (slot->mailbox, uids[i]);

      g_strv_builder_add (wanted, uids[i]);
      if (message != NULL && popcheck_message_get_headers_pending (message))
        any_pending = TRUE;
    }

  g_clear_pointer (&slot->wanted, g_strfreev);
  slot->wanted = g_strv_builder_end (wanted);
  g_debug ("Account %s: %u rows wanted, %s without headers",
           account_id, g_strv_length (slot->wanted),
           any_pending ? "some" : "none");

  /* The backlog may have stopped (a failure, a changed account, a
   * restart before the next check): these are worth a session anyway. */
  if (any_pending)
    popcheck_checker_slot_queue_backlog (slot);
}

void
popcheck_checker_hold_backlog (PopcheckChecker *self,
                               const char      *account_id)
{
  Slot *slot;

  g_return_if_fail (POPCHECK_IS_CHECKER (self));
  g_return_if_fail (account_id != NULL);

  slot = popcheck_checker_find_slot (self, account_id);
  if (slot == NULL)
    return;

  /* A running batch sees it when its answers are in (backlog_next). */
  slot->backlog_holds++;
}

void
popcheck_checker_release_backlog (PopcheckChecker *self,
                                  const char      *account_id)
{
  Slot *slot;

  g_return_if_fail (POPCHECK_IS_CHECKER (self));
  g_return_if_fail (account_id != NULL);

  /* The account may have gone, or come again as a new slot, meanwhile. */
  slot = popcheck_checker_find_slot (self, account_id);
  if (slot == NULL || slot->backlog_holds == 0)
    return;

  if (--slot->backlog_holds > 0 || !slot->backlog_held_back)
    return;

  slot->backlog_held_back = FALSE;
  g_debug ("Account %s: the backlog goes on", account_id);
  popcheck_checker_slot_queue_backlog (slot);
}

void
popcheck_checker_set_session_hook (PopcheckChecker            *self,
                                   PopcheckCheckerSessionHook  hook,
                                   gpointer                    user_data)
{
  g_return_if_fail (POPCHECK_IS_CHECKER (self));

  self->session_hook = hook;
  self->session_hook_data = user_data;
}

guint
popcheck_checker_get_next_delay (PopcheckChecker *self,
                                 const char      *account_id)
{
  Slot *slot;

  g_return_val_if_fail (POPCHECK_IS_CHECKER (self), 0);
  g_return_val_if_fail (account_id != NULL, 0);

  slot = popcheck_checker_find_slot (self, account_id);
  return slot != NULL ? slot->timer_delay : 0;
}

void
popcheck_checker_set_network_monitor (PopcheckChecker *self,
                                      GNetworkMonitor *monitor)
{
  g_return_if_fail (POPCHECK_IS_CHECKER (self));
  g_return_if_fail (G_IS_NETWORK_MONITOR (monitor));
  g_return_if_fail (!self->started);

  if (self->network_monitor != NULL)
    g_signal_handlers_disconnect_by_data (self->network_monitor, self);
  g_set_object (&self->network_monitor, monitor);
  g_signal_connect (self->network_monitor, "network-changed",
                    G_CALLBACK (network_changed_cb), self);
}

void
popcheck_checker_start (PopcheckChecker *self)
{
  g_return_if_fail (POPCHECK_IS_CHECKER (self));

  if (self->started)
    return;

  self->started = TRUE;

  if (self->network_monitor == NULL)
    {
      self->network_monitor = g_object_ref (g_network_monitor_get_default ());
      g_signal_connect (self->network_monitor, "network-changed",
                        G_CALLBACK (network_changed_cb), self);
    }
  self->network_available =
    g_network_monitor_get_network_available (self->network_monitor);

  popcheck_checker_check_now (self, NULL);
}


static void
save_done_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(PopcheckChecker) self = user_data;

  /* A failure is logged by the mailbox, which tries again next time. */
  popcheck_mailbox_save_finish (POPCHECK_MAILBOX (object), result, NULL);
  self->saves_pending--;
}

/* Only removing the account cancels a save, and only one whose snapshot
 * is not taken yet: a state file is written to its end. */
void
popcheck_checker_slot_save (Slot *slot)
{
  /* A removed account's state file is gone with it, and stays gone. */
  if (slot->removed)
    return;

  slot->checker->saves_pending++;
  popcheck_mailbox_save_async (slot->mailbox, slot->state_cancellable,
                               save_done_cb, g_object_ref (slot->checker));
}

void
popcheck_checker_mark_seen (PopcheckChecker    *self,
                            const char         *account_id,
                            const char * const *uids)
{
  g_return_if_fail (POPCHECK_IS_CHECKER (self));
  g_return_if_fail (account_id != NULL || uids == NULL);

  for (guint i = 0; i < self->slots->len; i++)
    {
      Slot *slot = g_ptr_array_index (self->slots, i);
      gboolean changed;

      if (account_id != NULL &&
          g_strcmp0 (popcheck_account_get_id (slot->account), account_id) != 0)
        continue;

      changed = uids != NULL ? popcheck_mailbox_mark_seen (slot->mailbox, uids)
                             : popcheck_mailbox_mark_all_seen (slot->mailbox);
      /* At once, not at quit: a crash or a power cut keeps the marks. */
      if (changed)
        popcheck_checker_slot_save (slot);
    }
}

gboolean
popcheck_checker_is_saving (PopcheckChecker *self)
{
  g_return_val_if_fail (POPCHECK_IS_CHECKER (self), FALSE);

  return self->saves_pending > 0;
}

void
popcheck_checker_stop (PopcheckChecker *self)
{
  g_return_if_fail (POPCHECK_IS_CHECKER (self));

  self->started = FALSE;

  for (guint i = 0; self->slots != NULL && i < self->slots->len; i++)
    {
      Slot *slot = g_ptr_array_index (self->slots, i);

      slot_cancel_timer (slot);
      g_cancellable_cancel (slot->cancellable);
      g_object_unref (slot->cancellable);
      slot->cancellable = g_cancellable_new ();
      /* What was waiting would otherwise start, uncancelled, as soon as
       * the running operation ends. */
      slot_fail_queued (slot, _("PopCheck stopped checking."));
      slot->check_queued = FALSE;
      /* Checks and deletes save when they end; this is for what changed
       * since (messages marked seen).  The write runs to its end in its
       * thread even when the checker goes. */
      if (popcheck_mailbox_get_dirty (slot->mailbox))
        popcheck_checker_slot_save (slot);
    }
}

/* Checks */

static void
check_now_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  /* The outcome is on the mailbox (state, problem, error-message). */
  popcheck_checker_check_finish (POPCHECK_CHECKER (object), result, &error);
}

void
popcheck_checker_check_now (PopcheckChecker *self,
                            const char      *account_id)
{
  g_return_if_fail (POPCHECK_IS_CHECKER (self));

  for (guint i = 0; i < self->slots->len; i++)
    {
      Slot *slot = g_ptr_array_index (self->slots, i);

      if (account_id != NULL &&
          g_strcmp0 (popcheck_account_get_id (slot->account), account_id) != 0)
        continue;
      if (!popcheck_account_get_enabled (slot->account))
        {
          popcheck_mailbox_set_state (slot->mailbox,
                                      POPCHECK_MAILBOX_STATE_DISABLED,
                                      POPCHECK_PROBLEM_NONE, NULL);
          continue;
        }
      /* A check already queued or running answers this request too. */
      if (slot->check_queued)
        continue;

      slot_cancel_timer (slot);
      popcheck_checker_check_async (self,
                                    popcheck_account_get_id (slot->account),
                                    NULL, check_now_cb, NULL);
    }
}

/* What a failure means for the account: retry later, or wait for the
 * user.  The kind decides; a server's refusal waits for the user only when
 * it says its problem is lasting (RFC 3206, [SYS/PERM]). */
static PopcheckProblem
classify_error (const GError *error)
{
  /* Only the user can settle it: with the newer PopCheck, or by removing
   * the file. */
  if (g_error_matches (error, POPCHECK_MAILBOX_ERROR,
                       POPCHECK_MAILBOX_ERROR_NEWER_FORMAT))
    return POPCHECK_PROBLEM_PERMANENT;

  /* Online Accounts says so, or the server refused its renewed token. */
  if (g_error_matches (error, POPCHECK_TOKEN_SOURCE_ERROR,
                       POPCHECK_TOKEN_SOURCE_ERROR_SIGN_IN))
    return POPCHECK_PROBLEM_SIGN_IN;
  /* Online Accounts could not give a token this time. */
  if (error->domain == POPCHECK_TOKEN_SOURCE_ERROR)
    return POPCHECK_PROBLEM_TEMPORARY;

  switch (pop3_error_get_kind (error))
    {
    case POP3_ERROR_KIND_SERVER_BUSY:
      return POPCHECK_PROBLEM_BUSY;
    case POP3_ERROR_KIND_SERVER_REFUSED:
      if (g_strcmp0 (pop3_error_get_response_code (error), "SYS/PERM") == 0)
        return POPCHECK_PROBLEM_PERMANENT;
      return POPCHECK_PROBLEM_TEMPORARY;
    case POP3_ERROR_KIND_AUTH:
      return POPCHECK_PROBLEM_AUTH;
    case POP3_ERROR_KIND_CERTIFICATE:
      return POPCHECK_PROBLEM_CERTIFICATE;
    case POP3_ERROR_KIND_LOCAL:
      /* The keyring, or settings that cannot be sent: the account needs
       * the user either way. */
      return POPCHECK_PROBLEM_SECRET;
    case POP3_ERROR_KIND_NETWORK:
    case POP3_ERROR_KIND_TIMEOUT:
    case POP3_ERROR_KIND_PROTOCOL:
    case POP3_ERROR_KIND_TLS:
    case POP3_ERROR_KIND_CANCELLED:
    default:
      return POPCHECK_PROBLEM_TEMPORARY;
    }
}

/* An account that signs in with OAuth2 and is refused although the
 * session refreshed its token (and tried once more after the server
 * refused one): the provider no longer takes the sign-in (invalid_grant),
 * or the server no longer takes what it gives.  A new password would not
 * help; a new sign-in does. */
static char *
describe_sign_in_problem (PopcheckAccount *account,
                          const char      *provider_id)
{
  g_autoptr(PopcheckOAuthProvider) provider =
    popcheck_oauth_provider_new_preset (provider_id, NULL);
  const char *name = provider != NULL
    ? popcheck_oauth_provider_get_display_name (provider) : provider_id;

  /* Translators: the first %s is Microsoft or Google, the second the
   * mail address the account signs in with. */
  return g_strdup_printf (_("%s no longer accepts PopCheck’s sign-in for %s. "
                            "Sign in again to keep checking."),
                          name, popcheck_account_get_user (account));
}

static void
slot_record_failure (Slot         *slot,
                     const GError *error)
{
  PopcheckProblem problem = classify_error (error);
  g_autofree char *message = NULL;
  g_autofree char *provider_id = NULL;
  gboolean needs_user;

  provider_id = popcheck_account_dup_oauth2_provider (slot->account);
  if (problem == POPCHECK_PROBLEM_AUTH && provider_id != NULL)
    {
      problem = POPCHECK_PROBLEM_SIGN_IN;
      message = describe_sign_in_problem (slot->account, provider_id);
    }
  else
    message = popcheck_session_describe_error (error);

  slot->failures++;
  popcheck_mailbox_set_state (slot->mailbox, POPCHECK_MAILBOX_STATE_ERROR,
                              problem, message);

  needs_user = problem == POPCHECK_PROBLEM_AUTH ||
               problem == POPCHECK_PROBLEM_SIGN_IN ||
               problem == POPCHECK_PROBLEM_CERTIFICATE ||
               problem == POPCHECK_PROBLEM_SECRET ||
               problem == POPCHECK_PROBLEM_PERMANENT;
  if (needs_user && !slot->problem_reported)
    {
      slot->problem_reported = TRUE;
      g_signal_emit (slot->checker, signals[PROBLEM], 0, slot->mailbox);
    }
}

/* The user must sign in to an account again where it lives (Online
 * Accounts' AttentionNeeded), or just did: said at once rather than at the
 * next check, and an account that waited for the new sign-in is checked
 * at once, without the user asking. */
static void
token_source_sign_in_changed_cb (PopcheckTokenSource *source,
                                 PopcheckAccount     *account,
                                 Slot                *slot)
{
  g_autoptr(GError) error = NULL;
  PopcheckMailboxState state = popcheck_mailbox_get_state (slot->mailbox);
  gboolean waiting;

  if (account != slot->account || slot->removed || !slot->checker->started ||
      !popcheck_account_get_enabled (account))
    return;

  waiting = state == POPCHECK_MAILBOX_STATE_ERROR &&
            popcheck_mailbox_get_problem (slot->mailbox) == POPCHECK_PROBLEM_SIGN_IN;

  if (!popcheck_token_source_check_sign_in (source, account, &error))
    {
      /* A check under way ends in the state that fits then. */
      if (waiting || state == POPCHECK_MAILBOX_STATE_CHECKING)
        return;
      slot_cancel_timer (slot);
      slot_record_failure (slot, error);
      return;
    }

  if (waiting)
    {
      /* A new sign-in: should it fail too, the user hears of it again. */
      slot->failures = 0;
      slot->problem_reported = FALSE;
      popcheck_checker_check_now (slot->checker,
                                  popcheck_account_get_id (account));
    }
}

/* A check ended well: the mailbox takes the new listing, the failures are
 * forgotten, and the window hears of new mail. */
static void
slot_record_success (Slot            *slot,
                     PopcheckSession *session)
{
  PopcheckChecker *self = slot->checker;
  g_autoptr(GPtrArray) new_messages = NULL;
  gboolean first = !popcheck_mailbox_get_first_check_done (slot->mailbox);

  new_messages = popcheck_mailbox_end_update (slot->mailbox);
  popcheck_checker_slot_save (slot);

  slot->failures = 0;
  slot->problem_reported = FALSE;
  slot->login_delay = popcheck_session_get_login_delay (session);
  popcheck_mailbox_set_approximate_ids (slot->mailbox,
                                        !popcheck_session_has_uidl (session));
  popcheck_mailbox_set_n_without_uid (slot->mailbox,
                                      popcheck_session_get_n_without_uid (session));
  popcheck_mailbox_set_state (slot->mailbox, popcheck_checker_slot_resting_state (slot),
                              POPCHECK_PROBLEM_NONE, NULL);
  g_debug ("Account %s: checked, %u messages (%u new)",
           popcheck_account_get_id (slot->account),
           g_list_model_get_n_items (G_LIST_MODEL (slot->mailbox)),
           new_messages->len);

  if (first)
    g_signal_emit (self, signals[FIRST_CHECK], 0, slot->mailbox,
                   popcheck_mailbox_get_first_check_count (slot->mailbox));
  else if (new_messages->len > 0)
    g_signal_emit (self, signals[NEW_MESSAGES], 0, slot->mailbox,
                   new_messages);
}

void
popcheck_checker_slot_record_check (Slot            *slot,
                                    PopcheckSession *session,
                                    const GError    *error)
{
  if (error == NULL)
    slot_record_success (slot, session);
  else
    slot_record_failure (slot, error);
}

gboolean
popcheck_checker_is_offline (PopcheckChecker *self)
{
  return self->started && !self->network_available;
}
