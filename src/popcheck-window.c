/* popcheck-window.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The list is one chain of list models over the checker's mailboxes:
 *
 *   mailboxes of enabled accounts (or the one the account filter picked)
 *     → GtkFlattenListModel → GtkFilterListModel (hides pending deletes)
 *     → GtkSortListModel (newest first) → GtkMultiSelection → GtkListView
 *
 * so a check that changes a mailbox changes the list in place, and 10,000
 * messages cost 10,000 list items, not 10,000 widgets.
 *
 * A delete hides the messages at once and shows a toast with Undo; only
 * when the toast goes away without Undo does the checker delete them on
 * the server, by UID.  A failure shows them again with the reason.
 */

#define G_LOG_DOMAIN "popcheck-window"

#include "config.h"

#include <glib/gi18n.h>

#include "popcheck-accessible.h"
#include "popcheck-account-status.h"
#include "popcheck-checker.h"
#include "popcheck-mailbox.h"
#include "popcheck-message.h"
#include "popcheck-message-row.h"
#include "popcheck-preview.h"
#include "popcheck-session.h"
#include "popcheck-window.h"
#include "popcheck-window-private.h"

#define DEFAULT_UNDO_TIMEOUT 5

typedef struct _DeleteBatch DeleteBatch;

G_DEFINE_FINAL_TYPE (PopcheckWindow, popcheck_window, ADW_TYPE_APPLICATION_WINDOW)

enum {
  PROP_0,
  PROP_CHECKER,
  PROP_SEVERAL_ACCOUNTS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void delete_batch_unhide (DeleteBatch *batch);

/* The models */

/* A PopcheckMessage is a summary of what TOP returned and does not know
 * which server it came from; each mailbox finds its own by UID at once. */
const char *
popcheck_window_get_message_account_id (PopcheckWindow  *self,
                                        PopcheckMessage *message)
{
  GListModel *mailboxes;
  guint n;

  g_return_val_if_fail (POPCHECK_IS_WINDOW (self), NULL);
  g_return_val_if_fail (POPCHECK_IS_MESSAGE (message), NULL);

  mailboxes = popcheck_checker_get_mailboxes (self->checker);
  n = g_list_model_get_n_items (mailboxes);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(PopcheckMailbox) mailbox = g_list_model_get_item (mailboxes, i);

      if (popcheck_mailbox_lookup (mailbox, popcheck_message_get_uid (message)) == message)
        return popcheck_mailbox_get_account_id (mailbox);
    }

  return NULL;
}

static gboolean
not_pending (gpointer item,
             gpointer user_data)
{
  PopcheckWindow *self = user_data;

  return !g_hash_table_contains (self->pending, item);
}

static int
newest_first (gconstpointer a,
              gconstpointer b,
              gpointer      user_data)
{
  GDateTime *date_a = popcheck_message_get_date ((PopcheckMessage *) a);
  GDateTime *date_b = popcheck_message_get_date ((PopcheckMessage *) b);

  /* Messages without a date go last. */
  if (date_a == NULL || date_b == NULL)
    return (date_a == NULL) - (date_b == NULL);

  return g_date_time_compare (date_b, date_a);
}

static PopcheckMailbox *
find_mailbox (PopcheckWindow *self,
              const char     *account_id)
{
  if (self->checker == NULL || account_id == NULL)
    return NULL;

  return popcheck_checker_get_mailbox (self->checker, account_id);
}

/* The state of the window */

static void
update_page (PopcheckWindow *self)
{
  GListModel *mailboxes = popcheck_checker_get_mailboxes (self->checker);
  guint n_accounts = g_list_model_get_n_items (mailboxes);
  guint n_visible = g_list_model_get_n_items (G_LIST_MODEL (self->visible));
  gboolean several = n_accounts > 1;

  gtk_stack_set_visible_child_name (self->main_stack,
                                    n_accounts == 0 ? "welcome" : "messages");
  gtk_stack_set_visible_child_name (self->list_stack,
                                    n_visible == 0 ? "empty" : "list");
  gtk_widget_set_visible (GTK_WIDGET (self->account_dropdown), several);
  gtk_widget_set_visible (GTK_WIDGET (self->window_title), !several);

  if (several != self->several_accounts)
    {
      self->several_accounts = several;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SEVERAL_ACCOUNTS]);
    }
}

static void
update_title (PopcheckWindow *self)
{
  guint n_new = popcheck_checker_get_n_new (self->checker);
  g_autofree char *subtitle = NULL;

  if (n_new > 0)
    subtitle = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u new message",
                                             "%u new messages", n_new),
                                n_new);
  adw_window_title_set_subtitle (self->window_title, subtitle != NULL ? subtitle : "");
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.mark-all-seen", n_new > 0);
}

static gboolean
seen_timeout_cb (gpointer user_data)
{
  PopcheckWindow *self = user_data;
  g_autoptr(PopcheckMessage) message = g_steal_pointer (&self->seen_pending);
  const char *uids[] = { popcheck_message_get_uid (message), NULL };
  const char *account_id = popcheck_window_get_message_account_id (self, message);

  self->seen_timeout_id = 0;
  /* Gone from its mailbox meanwhile (deleted, or the account removed). */
  if (account_id != NULL)
    popcheck_checker_mark_seen (self->checker, account_id, uids);

  return G_SOURCE_REMOVE;
}

/* Seen by looking, as in other mail programs: a new message whose preview
 * stays on screen for a moment is seen; one passed over with the arrow
 * keys, or selected in a hidden window, is not. */
static void
watch_seen (PopcheckWindow  *self,
            PopcheckMessage *message)
{
  if (message != NULL && message == self->seen_pending)
    return;

  g_clear_handle_id (&self->seen_timeout_id, g_source_remove);
  g_clear_object (&self->seen_pending);

  if (message == NULL || !popcheck_message_get_is_new (message) ||
      !gtk_widget_get_mapped (GTK_WIDGET (self)))
    return;

  self->seen_pending = g_object_ref (message);
  self->seen_timeout_id = g_timeout_add (POPCHECK_WINDOW_SEEN_DELAY_MS,
                                         seen_timeout_cb, self);
}

/* A message a broken UIDL listing left without a UID is never deleted:
 * by the time the delete runs, its number may name another message. */
static gboolean
selection_is_deletable (PopcheckWindow *self,
                        GtkBitset      *selected)
{
  GtkBitsetIter iter;
  guint position;

  for (gboolean ok = gtk_bitset_iter_init_first (&iter, selected, &position);
       ok;
       ok = gtk_bitset_iter_next (&iter, &position))
    {
      g_autoptr(PopcheckMessage) message =
        g_list_model_get_item (G_LIST_MODEL (self->selection), position);

      if (!popcheck_message_get_has_uid (message))
        return FALSE;
    }

  return !gtk_bitset_is_empty (selected);
}

static void
update_selection (PopcheckWindow *self)
{
  g_autoptr(GtkBitset) selected = NULL;
  guint64 n_selected;

  selected = gtk_selection_model_get_selection (GTK_SELECTION_MODEL (self->selection));
  n_selected = gtk_bitset_get_size (selected);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.delete",
                                 selection_is_deletable (self, selected));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.mark-seen", n_selected > 0);

  if (n_selected == 1)
    {
      guint position = gtk_bitset_get_nth (selected, 0);
      g_autoptr(PopcheckMessage) message =
        g_list_model_get_item (G_LIST_MODEL (self->selection), position);

      popcheck_preview_set_message (self->preview,
                                    popcheck_window_get_message_account_id (self, message),
                                    message);
      watch_seen (self, message);
    }
  else
    {
      watch_seen (self, NULL);
      popcheck_preview_set_message (self->preview, NULL, NULL);
      popcheck_preview_set_n_selected (self->preview, n_selected);
    }
}

static void
selection_changed_cb (GtkSelectionModel *model,
                      guint              position,
                      guint              n_items,
                      PopcheckWindow    *self)
{
  update_selection (self);
}

/* For tests/bench/app-cost.py: when a launch has the list on screen. */
static void
log_showing (PopcheckWindow *self)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->visible));

  if (self->logged_showing || n == 0 ||
      !gtk_widget_get_mapped (GTK_WIDGET (self)))
    return;

  self->logged_showing = TRUE;
  g_debug ("Showing %u messages", n);
}

static void
visible_items_changed_cb (GListModel     *model,
                          guint           position,
                          guint           removed,
                          guint           added,
                          PopcheckWindow *self)
{
  update_page (self);
  update_selection (self);
  log_showing (self);
}

static void
scroll_list_to_top (PopcheckWindow *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self->list_view), "list.scroll-to-item", "u", 0);
}

static gboolean
scroll_to_top_cb (gpointer user_data)
{
  PopcheckWindow *self = user_data;

  self->scroll_to_top_id = 0;
  scroll_list_to_top (self);

  return G_SOURCE_REMOVE;
}

/* Items that came before the list's first layout may have moved it off its
 * top; once laid out, and only then, it can be scrolled back. */
static void
list_adjustment_changed_cb (GtkAdjustment  *adjustment,
                            PopcheckWindow *self)
{
  if (gtk_adjustment_get_page_size (adjustment) <= 0)
    return;

  g_signal_handlers_disconnect_by_func (adjustment, list_adjustment_changed_cb, self);
  if (self->scroll_to_top_id == 0)
    self->scroll_to_top_id = g_idle_add_full (G_PRIORITY_DEFAULT, scroll_to_top_cb,
                                              self, NULL);
}

/* GtkListView keeps the rows it showed in place when items arrive above
 * them; a list at its top should show new mail as it comes. */
static void
sorted_items_changed_cb (GListModel     *model,
                         guint           position,
                         guint           removed,
                         guint           added,
                         PopcheckWindow *self)
{
  GtkAdjustment *vadjustment = gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (self->list_view));

  /* Until the next layout the adjustment is where the user left it. */
  if (gtk_adjustment_get_value (vadjustment) > gtk_adjustment_get_lower (vadjustment) ||
      g_list_model_get_n_items (model) == 0)
    return;

  /* Scrolling a list that has no height yet breaks it in GTK 4.8; its
   * first layout takes care of it. */
  if (gtk_adjustment_get_page_size (vadjustment) <= 0)
    return;

  g_clear_handle_id (&self->scroll_to_top_id, g_source_remove);
  scroll_list_to_top (self);
}

/* A turned-off account's messages leave the list, and come back when it
 * is turned on again: the mailbox keeps them meanwhile. */
static gboolean
mailbox_is_enabled (gpointer item,
                    gpointer user_data)
{
  return popcheck_mailbox_get_state (POPCHECK_MAILBOX (item)) !=
         POPCHECK_MAILBOX_STATE_DISABLED;
}

static void
mailbox_state_cb (PopcheckMailbox *mailbox,
                  GParamSpec      *pspec,
                  PopcheckWindow  *self)
{
  gtk_filter_changed (GTK_FILTER (self->enabled_filter), GTK_FILTER_CHANGE_DIFFERENT);
}

static void
watch_mailboxes (PopcheckWindow *self,
                 GListModel     *mailboxes,
                 guint           position,
                 guint           n)
{
  for (guint i = position; i < position + n; i++)
    {
      g_autoptr(PopcheckMailbox) mailbox = g_list_model_get_item (mailboxes, i);

      g_signal_connect_object (mailbox, "notify::state",
                               G_CALLBACK (mailbox_state_cb), self, 0);
    }
}

static void
mailboxes_items_changed_cb (GListModel     *model,
                            guint           position,
                            guint           removed,
                            guint           added,
                            PopcheckWindow *self)
{
  watch_mailboxes (self, model, position, added);
  update_page (self);
}

static void
n_new_changed_cb (PopcheckChecker *checker,
                  GParamSpec      *pspec,
                  PopcheckWindow  *self)
{
  update_title (self);
}

static void
account_selected_cb (GtkDropDown    *dropdown,
                     GParamSpec     *pspec,
                     PopcheckWindow *self)
{
  gpointer item = gtk_drop_down_get_selected_item (dropdown);

  if (POPCHECK_IS_MAILBOX (item))
    {
      g_list_store_splice (self->one_mailbox, 0,
                           g_list_model_get_n_items (G_LIST_MODEL (self->one_mailbox)),
                           &item, 1);
      gtk_flatten_list_model_set_model (self->flattened, G_LIST_MODEL (self->one_mailbox));
    }
  else
    {
      gtk_flatten_list_model_set_model (self->flattened,
                                        G_LIST_MODEL (self->enabled_mailboxes));
      g_list_store_remove_all (self->one_mailbox);
    }
}

/* List items */

static void
row_setup_cb (GtkSignalListItemFactory *factory,
              GtkListItem              *item,
              PopcheckWindow           *self)
{
  GtkWidget *row = popcheck_message_row_new ();

  g_object_bind_property (self, "several-accounts", row, "show-account",
                          G_BINDING_SYNC_CREATE);
  gtk_list_item_set_child (item, row);
}

static void
row_bind_cb (GtkSignalListItemFactory *factory,
             GtkListItem              *item,
             PopcheckWindow           *self)
{
  PopcheckMessageRow *row = POPCHECK_MESSAGE_ROW (gtk_list_item_get_child (item));
  PopcheckMessage *message = gtk_list_item_get_item (item);
  PopcheckMailbox *mailbox;

  mailbox = find_mailbox (self, popcheck_window_get_message_account_id (self, message));
  popcheck_message_row_set_message (row, message);
  popcheck_message_row_set_account_name (row,
                                         mailbox != NULL
                                           ? popcheck_mailbox_get_display_name (mailbox)
                                           : NULL);
}

static void
row_unbind_cb (GtkSignalListItemFactory *factory,
               GtkListItem              *item,
               PopcheckWindow           *self)
{
  popcheck_message_row_set_message (POPCHECK_MESSAGE_ROW (gtk_list_item_get_child (item)),
                                    NULL);
}

static void
account_item_setup_cb (GtkSignalListItemFactory *factory,
                       GtkListItem              *item,
                       PopcheckWindow           *self)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 28);
  gtk_list_item_set_child (item, label);
}

static void
account_item_bind_cb (GtkSignalListItemFactory *factory,
                      GtkListItem              *item,
                      PopcheckWindow           *self)
{
  GtkWidget *label = gtk_list_item_get_child (item);
  gpointer object = gtk_list_item_get_item (item);
  GBinding *binding;

  if (GTK_IS_STRING_OBJECT (object))
    {
      gtk_label_set_text (GTK_LABEL (label),
                          gtk_string_object_get_string (object));
      return;
    }

  binding = g_object_bind_property (object, "display-name", label, "label",
                                    G_BINDING_SYNC_CREATE);
  g_object_set_data (G_OBJECT (item), "popcheck-binding", binding);
}

static void
account_item_unbind_cb (GtkSignalListItemFactory *factory,
                        GtkListItem              *item,
                        PopcheckWindow           *self)
{
  GBinding *binding = g_object_steal_data (G_OBJECT (item), "popcheck-binding");

  if (binding != NULL)
    g_binding_unbind (binding);
}

static GtkWidget *
create_status_row (gpointer item,
                   gpointer user_data)
{
  return popcheck_account_status_new (POPCHECK_MAILBOX (item));
}

/* An error is read to its end: a toast's own title is cut at one line,
 * so the text is a label of ours that wraps (plain text, not markup). */
static void
show_error_toast (PopcheckWindow *self,
                  const char     *text)
{
  AdwToast *toast = adw_toast_new ("");
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 60);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  adw_toast_set_custom_title (toast, label);
  adw_toast_set_priority (toast, ADW_TOAST_PRIORITY_HIGH);
  adw_toast_set_timeout (toast, 0);
  popcheck_window_add_toast (self, toast);
}

/* Delete with undo */

struct _DeleteBatch
{
  GWeakRef         window;
  PopcheckChecker *checker;
  GApplication    *application;
  GPtrArray       *messages;
  GPtrArray       *account_ids;
  /* Ours while the batch waits for Undo; NULL once it is settled. */
  AdwToast        *toast;
  guint            n_running;
};

static void
delete_batch_free (DeleteBatch *batch)
{
  g_assert (batch->toast == NULL);

  g_weak_ref_clear (&batch->window);
  g_clear_object (&batch->checker);
  g_clear_object (&batch->application);
  g_clear_pointer (&batch->messages, g_ptr_array_unref);
  g_clear_pointer (&batch->account_ids, g_ptr_array_unref);
  g_free (batch);
}

/* Shows the messages again whose account is account_id (all for NULL). */
static void
delete_batch_unhide_account (DeleteBatch *batch,
                             const char  *account_id)
{
  g_autoptr(PopcheckWindow) self = g_weak_ref_get (&batch->window);
  gboolean changed = FALSE;

  if (self == NULL || self->pending == NULL)
    return;

  for (guint i = 0; i < batch->messages->len; i++)
    {
      if (account_id != NULL &&
          g_strcmp0 (g_ptr_array_index (batch->account_ids, i), account_id) != 0)
        continue;
      if (g_hash_table_lookup (self->pending, g_ptr_array_index (batch->messages, i)) == batch)
        {
          g_hash_table_remove (self->pending, g_ptr_array_index (batch->messages, i));
          changed = TRUE;
        }
    }

  if (changed)
    gtk_filter_changed (GTK_FILTER (self->pending_filter), GTK_FILTER_CHANGE_LESS_STRICT);
}

static void
delete_batch_unhide (DeleteBatch *batch)
{
  delete_batch_unhide_account (batch, NULL);
}

static void
delete_batch_done (DeleteBatch *batch)
{
  if (--batch->n_running > 0)
    return;

  g_application_release (batch->application);
  delete_batch_free (batch);
}

typedef struct
{
  DeleteBatch *batch;
  char        *account_id;
} DeleteCall;

static void
delete_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  DeleteCall *call = user_data;
  DeleteBatch *batch = call->batch;
  g_autofree char *account_id = g_steal_pointer (&call->account_id);
  g_auto(GStrv) already_gone = NULL;
  g_autoptr(GError) error = NULL;

  if (!popcheck_checker_delete_finish (POPCHECK_CHECKER (object), result,
                                       &already_gone, &error))
    {
      g_autoptr(PopcheckWindow) self = g_weak_ref_get (&batch->window);

      g_message ("Could not delete messages of %s: %s", account_id, error->message);
      if (self != NULL)
        {
          /* The checker's error already says whether anything was
           * deleted. */
          g_autofree char *reason = popcheck_session_describe_error (error);

          show_error_toast (self, reason);
        }
    }

  /* Deleted messages have left the mailbox; failed ones come back. */
  delete_batch_unhide_account (batch, account_id);
  delete_batch_done (batch);
  g_free (call);
}

static void
delete_batch_run (DeleteBatch *batch)
{
  g_autoptr(GHashTable) by_account =
    g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                           (GDestroyNotify) g_ptr_array_unref);
  GHashTableIter iter;
  gpointer key, value;

  for (guint i = 0; i < batch->messages->len; i++)
    {
      const char *account_id = g_ptr_array_index (batch->account_ids, i);
      GPtrArray *uids = g_hash_table_lookup (by_account, account_id);

      if (uids == NULL)
        {
          uids = g_ptr_array_new ();
          g_hash_table_insert (by_account, (gpointer) account_id, uids);
        }
      g_ptr_array_add (uids,
                       (gpointer) popcheck_message_get_uid (g_ptr_array_index (batch->messages, i)));
    }

  /* The application stays up until the server has answered, even when
   * the window closes or the user quits meanwhile. */
  g_application_hold (batch->application);
  batch->n_running = 1;

  g_hash_table_iter_init (&iter, by_account);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      GPtrArray *uids = value;
      DeleteCall *call = g_new0 (DeleteCall, 1);

      call->batch = batch;
      call->account_id = g_strdup (key);
      g_ptr_array_add (uids, NULL);
      batch->n_running++;
      popcheck_checker_delete_async (batch->checker, key,
                                     (const char * const *) uids->pdata,
                                     NULL, delete_cb, call);
    }

  delete_batch_done (batch);
}

/* The batch stops waiting for Undo: it leaves the window's queue and lets
 * go of its toast.  Returns the toast, for the caller to dismiss or not. */
static AdwToast *
delete_batch_settle (PopcheckWindow *self,
                     DeleteBatch    *batch)
{
  AdwToast *toast = g_steal_pointer (&batch->toast);

  g_assert (toast != NULL);

  g_signal_handlers_disconnect_by_data (toast, batch);
  if (self != NULL)
    {
      g_queue_remove (&self->batches, batch);
      gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.undo-delete",
                                     !g_queue_is_empty (&self->batches));
    }

  return toast;
}

static void
delete_batch_undo (PopcheckWindow *self,
                   DeleteBatch    *batch)
{
  g_autoptr(AdwToast) toast = delete_batch_settle (self, batch);

  delete_batch_unhide (batch);
  delete_batch_free (batch);
}

/* The toast went away without Undo (it timed out, or was closed). */
static void
toast_dismissed_cb (AdwToast    *toast,
                    DeleteBatch *batch)
{
  g_autoptr(PopcheckWindow) self = g_weak_ref_get (&batch->window);
  g_autoptr(AdwToast) own = delete_batch_settle (self, batch);

  delete_batch_run (batch);
}

/* The toast's own Undo button: libadwaita dismisses the toast itself. */
static void
toast_undo_cb (AdwToast    *toast,
               DeleteBatch *batch)
{
  g_autoptr(PopcheckWindow) self = g_weak_ref_get (&batch->window);

  delete_batch_undo (self, batch);
}

/* The message after the deleted ones takes their place in the selection,
 * as in other mail programs, so that Delete pressed again goes on down the
 * list and the preview never goes blank while messages remain. */
static void
select_after_delete (PopcheckWindow *self,
                     guint           position)
{
  guint n_items = g_list_model_get_n_items (G_LIST_MODEL (self->selection));

  if (n_items == 0)
    return;

  gtk_selection_model_select_item (GTK_SELECTION_MODEL (self->selection),
                                   MIN (position, n_items - 1), TRUE);
}

static void
delete_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  PopcheckWindow *self = POPCHECK_WINDOW (widget);
  g_autoptr(GtkBitset) selected = NULL;
  g_autofree char *title = NULL;
  GtkBitsetIter iter;
  DeleteBatch *batch;
  guint position;
  guint first;

  selected = gtk_selection_model_get_selection (GTK_SELECTION_MODEL (self->selection));
  if (!selection_is_deletable (self, selected))
    return;

  batch = g_new0 (DeleteBatch, 1);
  g_weak_ref_init (&batch->window, self);
  batch->checker = g_object_ref (self->checker);
  batch->application = G_APPLICATION (g_object_ref (gtk_window_get_application (GTK_WINDOW (self))));
  batch->messages = g_ptr_array_new_with_free_func (g_object_unref);
  batch->account_ids = g_ptr_array_new_with_free_func (g_free);

  for (gboolean ok = gtk_bitset_iter_init_first (&iter, selected, &position);
       ok;
       ok = gtk_bitset_iter_next (&iter, &position))
    {
      PopcheckMessage *message = g_list_model_get_item (G_LIST_MODEL (self->selection),
                                                        position);
      const char *account_id = popcheck_window_get_message_account_id (self, message);

      if (account_id == NULL)
        {
          g_object_unref (message);
          continue;
        }
      g_ptr_array_add (batch->messages, message);
      g_ptr_array_add (batch->account_ids, g_strdup (account_id));
    }

  if (batch->messages->len == 0)
    {
      delete_batch_free (batch);
      return;
    }

  /* The selection model's bitset is live: read it before the filter
   * takes the messages out. */
  first = gtk_bitset_get_minimum (selected);
  for (guint i = 0; i < batch->messages->len; i++)
    g_hash_table_insert (self->pending, g_ptr_array_index (batch->messages, i), batch);
  gtk_filter_changed (GTK_FILTER (self->pending_filter), GTK_FILTER_CHANGE_MORE_STRICT);
  select_after_delete (self, first);

  if (batch->messages->len == 1)
    title = g_strdup (_("Message deleted"));
  else
    title = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u message deleted",
                                          "%u messages deleted", batch->messages->len),
                             batch->messages->len);

  batch->toast = adw_toast_new (title);
  adw_toast_set_button_label (batch->toast, _("_Undo"));
  adw_toast_set_timeout (batch->toast, self->undo_timeout);
  g_signal_connect (batch->toast, "button-clicked", G_CALLBACK (toast_undo_cb), batch);
  g_signal_connect (batch->toast, "dismissed", G_CALLBACK (toast_dismissed_cb), batch);
  g_queue_push_tail (&self->batches, batch);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.undo-delete", TRUE);
  /* The overlay takes a reference of its own; the batch keeps one until
   * it is settled. */
  popcheck_window_add_toast (self, g_object_ref (batch->toast));
}

static void
undo_delete_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  PopcheckWindow *self = POPCHECK_WINDOW (widget);
  DeleteBatch *batch = g_queue_peek_tail (&self->batches);
  g_autoptr(AdwToast) toast = NULL;

  if (batch == NULL)
    return;

  /* The messages come back at once; the toast goes when it safely can. */
  toast = g_object_ref (batch->toast);
  delete_batch_undo (self, batch);
  popcheck_window_dismiss_toast (self, toast);
}

/* Runs the deletes still waiting for their toast: the user did not undo
 * them, so they run now rather than being forgotten. */
static void
flush_pending_deletes (PopcheckWindow *self,
                       gboolean        dismiss_toasts)
{
  DeleteBatch *batch;

  while ((batch = g_queue_peek_head (&self->batches)) != NULL)
    {
      g_autoptr(AdwToast) toast = delete_batch_settle (self, batch);

      delete_batch_run (batch);
      if (dismiss_toasts)
        popcheck_window_dismiss_toast (self, toast);
    }
}

/* GtkWindow */

/* Closed, the window deletes what waits for Undo.  Whether it then goes
 * or only hides is "hide-on-close", which follows "Run in background"
 * (see popcheck_window_init()). */
static gboolean
popcheck_window_close_request (GtkWindow *window)
{
  flush_pending_deletes (POPCHECK_WINDOW (window), TRUE);

  return GTK_WINDOW_CLASS (popcheck_window_parent_class)->close_request (window);
}

/* GObject */

static void
popcheck_window_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (popcheck_window_parent_class)->map (widget);

  g_debug ("Window shown");
  log_showing (POPCHECK_WINDOW (widget));
}

/* As the window's help overlay, the shortcuts window shows the keys the
 * application binds to each action (it looks them up through the window
 * it belongs to); made on its own, it would show none. */
static void
set_up_shortcuts_window (PopcheckWindow *self)
{
  g_autoptr(GtkBuilder) builder = NULL;
  GtkWidget *shortcuts;
  GtkWidget *titlebar;

  builder = gtk_builder_new_from_resource ("/org/example/PopCheck/popcheck-shortcuts-window.ui");
  shortcuts = GTK_WIDGET (gtk_builder_get_object (builder, "shortcuts_window"));
  /* Its header bar's first toggle is the search button, then comes the
   * menu of sections. */
  titlebar = gtk_window_get_titlebar (GTK_WINDOW (shortcuts));
  popcheck_accessible_name_inner_widget (titlebar, GTK_TYPE_TOGGLE_BUTTON,
                                         _("Search Shortcuts"));
  popcheck_accessible_name_inner_widget (titlebar, GTK_TYPE_MENU_BUTTON,
                                         _("Sections"));
  popcheck_accessible_name_inner_widget (shortcuts, GTK_TYPE_SEARCH_ENTRY,
                                         _("Search Shortcuts"));
  gtk_application_window_set_help_overlay (GTK_APPLICATION_WINDOW (self),
                                           GTK_SHORTCUTS_WINDOW (shortcuts));
}

static void
popcheck_window_unmap (GtkWidget *widget)
{
  /* A hidden window's preview is seen by nobody. */
  watch_seen (POPCHECK_WINDOW (widget), NULL);

  GTK_WIDGET_CLASS (popcheck_window_parent_class)->unmap (widget);
}

/* The models follow the checker's mailboxes, which the checker keeps for
 * as long as it lives: the window is made with its checker, for good. */
static void
popcheck_window_constructed (GObject *object)
{
  PopcheckWindow *self = POPCHECK_WINDOW (object);
  PopcheckChecker *checker = self->checker;
  GListModel *mailboxes;
  g_autoptr(GtkListItemFactory) row_factory = NULL;
  g_autoptr(GtkListItemFactory) account_factory = NULL;
  g_autoptr(GtkStringObject) all_accounts = NULL;
  g_autoptr(GListStore) dropdown_parts = NULL;
  GtkSorter *sorter;

  G_OBJECT_CLASS (popcheck_window_parent_class)->constructed (object);

  set_up_shortcuts_window (self);

  g_assert (POPCHECK_IS_CHECKER (checker));
  mailboxes = popcheck_checker_get_mailboxes (checker);

  /* The list */
  self->one_mailbox = g_list_store_new (POPCHECK_TYPE_MAILBOX);
  self->enabled_filter = gtk_custom_filter_new (mailbox_is_enabled, NULL, NULL);
  self->enabled_mailboxes = gtk_filter_list_model_new (g_object_ref (mailboxes),
                                                       g_object_ref (GTK_FILTER (self->enabled_filter)));
  watch_mailboxes (self, mailboxes, 0, g_list_model_get_n_items (mailboxes));
  self->flattened = gtk_flatten_list_model_new (g_object_ref (G_LIST_MODEL (self->enabled_mailboxes)));
  self->pending_filter = gtk_custom_filter_new (not_pending, self, NULL);
  self->visible = gtk_filter_list_model_new (g_object_ref (G_LIST_MODEL (self->flattened)),
                                             g_object_ref (GTK_FILTER (self->pending_filter)));
  sorter = GTK_SORTER (gtk_custom_sorter_new (newest_first, NULL, NULL));
  self->sorted = gtk_sort_list_model_new (g_object_ref (G_LIST_MODEL (self->visible)), sorter);
  self->selection = gtk_multi_selection_new (g_object_ref (G_LIST_MODEL (self->sorted)));

  row_factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (row_factory, "setup", G_CALLBACK (row_setup_cb), self);
  g_signal_connect (row_factory, "bind", G_CALLBACK (row_bind_cb), self);
  g_signal_connect (row_factory, "unbind", G_CALLBACK (row_unbind_cb), self);
  gtk_list_view_set_factory (self->list_view, row_factory);
  gtk_list_view_set_model (self->list_view, GTK_SELECTION_MODEL (self->selection));

  g_signal_connect (self->selection, "selection-changed",
                    G_CALLBACK (selection_changed_cb), self);
  g_signal_connect (self->visible, "items-changed",
                    G_CALLBACK (visible_items_changed_cb), self);
  g_signal_connect (self->sorted, "items-changed",
                    G_CALLBACK (sorted_items_changed_cb), self);
  g_signal_connect (gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (self->list_view)),
                    "changed", G_CALLBACK (list_adjustment_changed_cb), self);

  /* The account filter: "All Accounts", then each account. */
  all_accounts = gtk_string_object_new (_("All Accounts"));
  self->dropdown_head = g_list_store_new (GTK_TYPE_STRING_OBJECT);
  g_list_store_append (self->dropdown_head, all_accounts);
  dropdown_parts = g_list_store_new (G_TYPE_LIST_MODEL);
  g_list_store_append (dropdown_parts, self->dropdown_head);
  g_list_store_append (dropdown_parts, mailboxes);

  account_factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (account_factory, "setup", G_CALLBACK (account_item_setup_cb), self);
  g_signal_connect (account_factory, "bind", G_CALLBACK (account_item_bind_cb), self);
  g_signal_connect (account_factory, "unbind", G_CALLBACK (account_item_unbind_cb), self);
  gtk_drop_down_set_factory (self->account_dropdown, account_factory);
  gtk_drop_down_set_model (self->account_dropdown,
                           G_LIST_MODEL (gtk_flatten_list_model_new (G_LIST_MODEL (g_steal_pointer (&dropdown_parts)))));
  g_signal_connect (self->account_dropdown, "notify::selected",
                    G_CALLBACK (account_selected_cb), self);

  /* What each account is doing */
  gtk_list_box_bind_model (self->status_list, mailboxes, create_status_row, NULL, NULL);

  popcheck_preview_set_checker (self->preview, checker);

  g_signal_connect (mailboxes, "items-changed",
                    G_CALLBACK (mailboxes_items_changed_cb), self);
  g_signal_connect (checker, "notify::n-new", G_CALLBACK (n_new_changed_cb), self);

  update_page (self);
  update_title (self);
  update_selection (self);
}

static void
popcheck_window_dispose (GObject *object)
{
  PopcheckWindow *self = POPCHECK_WINDOW (object);

  flush_pending_deletes (self, FALSE);
  g_clear_pointer (&self->late_dismisses, g_ptr_array_unref);

  if (self->checker != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->checker, self);
      g_signal_handlers_disconnect_by_data (popcheck_checker_get_mailboxes (self->checker), self);
    }
  if (self->selection != NULL)
    g_signal_handlers_disconnect_by_data (self->selection, self);
  if (self->sorted != NULL)
    g_signal_handlers_disconnect_by_data (self->sorted, self);
  if (self->list_view != NULL)
    g_signal_handlers_disconnect_by_data (gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (self->list_view)),
                                          self);
  g_clear_handle_id (&self->scroll_to_top_id, g_source_remove);
  g_clear_handle_id (&self->seen_timeout_id, g_source_remove);
  g_clear_object (&self->seen_pending);
  if (self->visible != NULL)
    g_signal_handlers_disconnect_by_data (self->visible, self);

  gtk_widget_dispose_template (GTK_WIDGET (self), POPCHECK_TYPE_WINDOW);

  g_clear_object (&self->selection);
  g_clear_object (&self->sorted);
  g_clear_object (&self->visible);
  g_clear_object (&self->pending_filter);
  g_clear_object (&self->flattened);
  g_clear_object (&self->enabled_mailboxes);
  g_clear_object (&self->enabled_filter);
  g_clear_object (&self->one_mailbox);
  g_clear_object (&self->dropdown_head);
  g_clear_object (&self->checker);
  g_clear_pointer (&self->pending, g_hash_table_unref);

  G_OBJECT_CLASS (popcheck_window_parent_class)->dispose (object);
}

static void
popcheck_window_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  PopcheckWindow *self = POPCHECK_WINDOW (object);

  switch (prop_id)
    {
    case PROP_CHECKER:
      g_value_set_object (value, self->checker);
      break;
    case PROP_SEVERAL_ACCOUNTS:
      g_value_set_boolean (value, self->several_accounts);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
popcheck_window_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  PopcheckWindow *self = POPCHECK_WINDOW (object);

  switch (prop_id)
    {
    case PROP_CHECKER:
      self->checker = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
popcheck_window_class_init (PopcheckWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->constructed = popcheck_window_constructed;
  object_class->dispose = popcheck_window_dispose;
  object_class->get_property = popcheck_window_get_property;
  object_class->set_property = popcheck_window_set_property;

  window_class->close_request = popcheck_window_close_request;
  widget_class->map = popcheck_window_map;
  widget_class->unmap = popcheck_window_unmap;

  properties[PROP_CHECKER] =
    g_param_spec_object ("checker", NULL, NULL,
                         POPCHECK_TYPE_CHECKER,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_STATIC_STRINGS));
  properties[PROP_SEVERAL_ACCOUNTS] =
    g_param_spec_boolean ("several-accounts", NULL, NULL,
                          FALSE,
                          (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
                           G_PARAM_STATIC_STRINGS));
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (POPCHECK_TYPE_PREVIEW);

  gtk_widget_class_install_action (widget_class, "win.delete", NULL, delete_action);
  gtk_widget_class_install_action (widget_class, "win.undo-delete", NULL, undo_delete_action);
  _popcheck_window_class_actions_init (widget_class);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/example/PopCheck/popcheck-window.ui");
  gtk_widget_class_bind_template_child (widget_class, PopcheckWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, PopcheckWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, PopcheckWindow, account_dropdown);
  gtk_widget_class_bind_template_child (widget_class, PopcheckWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, PopcheckWindow, status_list);
  gtk_widget_class_bind_template_child (widget_class, PopcheckWindow, list_stack);
  gtk_widget_class_bind_template_child (widget_class, PopcheckWindow, list_view);
  gtk_widget_class_bind_template_child (widget_class, PopcheckWindow, empty_page);
  gtk_widget_class_bind_template_child (widget_class, PopcheckWindow, preview);
}

static void
popcheck_window_init (PopcheckWindow *self)
{
  g_autoptr(GSettings) settings = NULL;

  gtk_widget_init_template (GTK_WIDGET (self));
  popcheck_accessible_fix_mnemonic_buttons (GTK_WIDGET (self));
  popcheck_accessible_name_inner_widget (GTK_WIDGET (self->account_dropdown),
                                         GTK_TYPE_TOGGLE_BUTTON,
                                         _("Choose the account to show"));

  self->undo_timeout = DEFAULT_UNDO_TIMEOUT;
  self->pending = g_hash_table_new (NULL, NULL);
  g_queue_init (&self->batches);
  _popcheck_window_toasts_init (self);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.delete", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.mark-seen", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.undo-delete", FALSE);

  /* Running in the background, closing the window only hides it: the
   * checker and the tray go on, and activating the application shows it
   * again.  The binding keeps the settings object. */
  settings = g_settings_new (APPLICATION_ID);
  g_settings_bind (settings, "run-in-background", self, "hide-on-close",
                   G_SETTINGS_BIND_GET);
}

PopcheckWindow *
popcheck_window_new (GtkApplication  *application,
                     PopcheckChecker *checker)
{
  g_return_val_if_fail (GTK_IS_APPLICATION (application), NULL);
  g_return_val_if_fail (POPCHECK_IS_CHECKER (checker), NULL);

  return g_object_new (POPCHECK_TYPE_WINDOW,
                       "application", application,
                       "checker", checker,
                       NULL);
}

/* For the tests */

GtkSelectionModel *
popcheck_window_get_selection (PopcheckWindow *self)
{
  g_return_val_if_fail (POPCHECK_IS_WINDOW (self), NULL);

  return GTK_SELECTION_MODEL (self->selection);
}

PopcheckPreview *
popcheck_window_get_preview (PopcheckWindow *self)
{
  g_return_val_if_fail (POPCHECK_IS_WINDOW (self), NULL);

  return self->preview;
}

GtkListView *
popcheck_window_get_list_view (PopcheckWindow *self)
{
  g_return_val_if_fail (POPCHECK_IS_WINDOW (self), NULL);

  return self->list_view;
}

const char *
popcheck_window_get_page (PopcheckWindow *self)
{
  g_return_val_if_fail (POPCHECK_IS_WINDOW (self), NULL);

  return gtk_stack_get_visible_child_name (self->main_stack);
}

const char *
popcheck_window_get_list_page (PopcheckWindow *self)
{
  g_return_val_if_fail (POPCHECK_IS_WINDOW (self), NULL);

  return gtk_stack_get_visible_child_name (self->list_stack);
}

/* The account's line in the tray: only that account's messages, when
 * there are several. */
void
popcheck_window_show_account (PopcheckWindow *self,
                              const char     *account_id)
{
  GListModel *mailboxes;
  guint n;

  g_return_if_fail (POPCHECK_IS_WINDOW (self));

  mailboxes = popcheck_checker_get_mailboxes (self->checker);
  n = g_list_model_get_n_items (mailboxes);
  for (guint i = 0; n > 1 && i < n; i++)
    {
      g_autoptr(PopcheckMailbox) mailbox = g_list_model_get_item (mailboxes, i);

      /* After "All Accounts", the accounts in the checker's order. */
      if (g_strcmp0 (popcheck_mailbox_get_account_id (mailbox), account_id) == 0)
        gtk_drop_down_set_selected (self->account_dropdown, i + 1);
    }
}

GtkDropDown *
popcheck_window_get_account_filter (PopcheckWindow *self)
{
  g_return_val_if_fail (POPCHECK_IS_WINDOW (self), NULL);

  return self->account_dropdown;
}

void
popcheck_window_set_undo_timeout (PopcheckWindow *self,
                                  guint           seconds)
{
  g_return_if_fail (POPCHECK_IS_WINDOW (self));

  self->undo_timeout = seconds;
}

guint
popcheck_window_get_n_pending_deletes (PopcheckWindow *self)
{
  g_return_val_if_fail (POPCHECK_IS_WINDOW (self), 0);

  return g_hash_table_size (self->pending);
}

void
popcheck_window_show_error (PopcheckWindow *self,
                            const char     *text)
{
  g_return_if_fail (POPCHECK_IS_WINDOW (self));
  g_return_if_fail (text != NULL);

  show_error_toast (self, text);
}
