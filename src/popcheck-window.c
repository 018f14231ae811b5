/* popcheck-window.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The list is one chain of list models over the checker's mailboxes:
 *
 *   mailboxes of enabled accounts (or the one the account filter picked)
 *     → GtkFlattenListModel → GtkFilterListModel (hides pending deletes)
 *     → GtkFilterListModel (the search) → GtkSortListModel (newest first)
 *     → GtkMultiSelection → GtkListView
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
#include "popcheck-account-list.h"
#include "popcheck-account-status.h"
#include "popcheck-checker.h"
#include "popcheck-idle.h"
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

/* A GtkFilterListModel whose filter has a function finds each item it
 * passes on in its set of matches, a search that grows with the list:
 * the sort model reading the 100,000 messages of a cached list through
 * the two filters of the list (Undo and the search) kept the launch
 * waiting some 0.3 s.  A custom filter without a function matches all,
 * and the model passes items straight through; so each has its function
 * only while it hides something. */
static void
update_filter (GtkCustomFilter     *filter,
               GtkCustomFilterFunc  func,
               gpointer             user_data,
               gboolean             was_hiding,
               gboolean             hides,
               GtkFilterChange      change)
{
  if (hides && was_hiding)
    gtk_filter_changed (GTK_FILTER (filter), change);
  else if (hides)
    gtk_custom_filter_set_filter_func (filter, func, user_data, NULL);
  else if (was_hiding)
    gtk_custom_filter_set_filter_func (filter, NULL, NULL, NULL);
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
  guint n_matching = g_list_model_get_n_items (G_LIST_MODEL (self->matching));
  gboolean several = n_accounts > 1;
  const char *list_page = "list";

  /* "No Mail" is about the server; a search that finds nothing says so
   * instead, so nobody thinks their mail has gone. */
  if (n_visible == 0)
    list_page = "empty";
  else if (n_matching == 0)
    list_page = "no-matches";

  gtk_stack_set_visible_child_name (self->main_stack,
                                    n_accounts == 0 ? "welcome" : "messages");
  gtk_stack_set_visible_child_name (self->list_stack, list_page);
  gtk_widget_set_visible (GTK_WIDGET (self->account_dropdown), several);

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

  /* A narrow window's header bar has room for the count, not the words. */
  if (n_new > 0 && self->leaflet != NULL && adw_leaflet_get_folded (self->leaflet))
    /* Translators: the count of new messages under the title of a narrow
     * window; keep it short */
    subtitle = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u new", "%u new", n_new),
                                n_new);
  else if (n_new > 0)
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

/* Folded, the window shows the list or the preview, not both. */
static gboolean
preview_on_screen (PopcheckWindow *self)
{
  return gtk_widget_get_mapped (GTK_WIDGET (self)) &&
         (!adw_leaflet_get_folded (self->leaflet) ||
          g_strcmp0 (adw_leaflet_get_visible_child_name (self->leaflet), "preview") == 0);
}

/* Seen by looking, as in other mail programs: a new message whose preview
 * stays on screen for a moment is seen; one passed over with the arrow
 * keys, selected in a hidden window, or selected in a narrow window that
 * shows only the list, is not. */
static void
watch_seen (PopcheckWindow  *self,
            PopcheckMessage *message)
{
  if (message != NULL && message == self->seen_pending)
    return;

  g_clear_handle_id (&self->seen_timeout_id, g_source_remove);
  g_clear_object (&self->seen_pending);

  if (message == NULL || !popcheck_message_get_is_new (message) ||
      !preview_on_screen (self))
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
set_selected_pending (PopcheckWindow  *self,
                      PopcheckMessage *message,
                      const char      *account_id)
{
  g_set_object (&self->selected_pending, message);
  g_free (self->selected_pending_account);
  self->selected_pending_account = message != NULL ? g_strdup (account_id) : NULL;
}

/* A narrow window that shows a message in place of the list holds the
 * backlog of the message's account: no row in view waits for headers, and
 * the line is left to what the reader asks next (more lines, the whole
 * message, a delete).  Back at the list, or wide again, the rows in view
 * fill in as before.  A message whose own headers are still to come is
 * waiting for that backlog, and holds nothing. */
static void
update_backlog_hold (PopcheckWindow *self)
{
  PopcheckMessage *message = NULL;
  const char *account_id = NULL;

  /* Unmapped as it is destroyed, the window may have lost its children. */
  if (self->preview != NULL && self->leaflet != NULL)
    message = popcheck_preview_get_message (self->preview);
  if (self->checker != NULL && message != NULL &&
      !popcheck_message_get_headers_pending (message) &&
      gtk_widget_get_mapped (GTK_WIDGET (self)) &&
      adw_leaflet_get_folded (self->leaflet) &&
      g_strcmp0 (adw_leaflet_get_visible_child_name (self->leaflet), "preview") == 0)
    account_id = popcheck_window_get_message_account_id (self, message);

  if (g_strcmp0 (account_id, self->backlog_hold) == 0)
    return;

  if (self->backlog_hold != NULL)
    popcheck_checker_release_backlog (self->checker, self->backlog_hold);
  g_free (self->backlog_hold);
  self->backlog_hold = g_strdup (account_id);
  if (account_id != NULL)
    popcheck_checker_hold_backlog (self->checker, account_id);
}

static void
clear_refill (PopcheckWindow *self)
{
  g_clear_pointer (&self->refill_uid, g_free);
  g_clear_pointer (&self->refill_account, g_free);
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

  if (n_selected > 0)
    clear_refill (self);

  if (n_selected == 1)
    {
      guint position = gtk_bitset_get_nth (selected, 0);
      g_autoptr(PopcheckMessage) message =
        g_list_model_get_item (G_LIST_MODEL (self->selection), position);
      const char *account_id = popcheck_window_get_message_account_id (self, message);

      popcheck_preview_set_message (self->preview, account_id, message);
      watch_seen (self, message);
      set_selected_pending (self,
                            popcheck_message_get_headers_pending (message) ? message : NULL,
                            account_id);
    }
  else
    {
      set_selected_pending (self, NULL, NULL);
      watch_seen (self, NULL);
      popcheck_preview_set_message (self->preview, NULL, NULL);
      popcheck_preview_set_n_selected (self->preview, n_selected);
    }
  update_backlog_hold (self);
}

/* The message whose preview shows, or NULL. */
static PopcheckMessage *
dup_single_selected (PopcheckWindow *self)
{
  g_autoptr(GtkBitset) selected =
    gtk_selection_model_get_selection (GTK_SELECTION_MODEL (self->selection));

  if (gtk_bitset_get_size (selected) != 1)
    return NULL;

  return g_list_model_get_item (G_LIST_MODEL (self->selection),
                                gtk_bitset_get_nth (selected, 0));
}

static void
selection_changed_cb (GtkSelectionModel *model,
                      guint              position,
                      guint              n_items,
                      PopcheckWindow    *self)
{
  update_selection (self);
}

/* For tests/bench/app-cost.py: when a launch has its window, and then the
 * list, on screen.  That is once a frame has painted them: a window just
 * mapped, or a list just filled, is not drawn yet (GTK places its rows and
 * renders them in the next frame). */
static void
log_painted_cb (GdkFrameClock  *clock,
                PopcheckWindow *self)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->visible));

  if (!self->logged_shown)
    {
      self->logged_shown = TRUE;
      g_debug ("Window shown");
    }

  if (n == 0)
    return;

  self->logged_showing = TRUE;
  g_debug ("Showing %u messages", n);
  g_signal_handlers_disconnect_by_func (clock, log_painted_cb, self);
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
}

static void
scroll_list_to_top (PopcheckWindow *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self->list_view), "list.scroll-to-item", "u", 0);
}

/* The list at its top shows new mail as it comes (README).  GtkListView
 * does not keep its top in place but a row: the one last scrolled to,
 * which a click or the keyboard makes the focused row, at the height it
 * had on screen.  When that row moves (mail arrives above it), or the list
 * changes height (an account's status line comes or goes above it, a
 * second account adds its badge to every row), GTK moves the list off its
 * top by itself, and the newest message lands above the visible top.
 *
 * So whether the list is at its top is the user's choice, not a pixel
 * value: it is at its top until the user scrolls down, and back there once
 * the user scrolls up to it.  While it is, every layout that moved it is
 * undone and every item that arrives is followed to the top. */
static gboolean
list_at_top (GtkAdjustment *adjustment)
{
  return gtk_adjustment_get_value (adjustment) <= gtk_adjustment_get_lower (adjustment);
}

static void
keep_list_at_top (PopcheckWindow *self)
{
  GtkAdjustment *vadjustment = gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (self->list_view));

  /* Scrolling a list that has no height yet breaks it in GTK 4.8; its
   * first layout comes back here. */
  if (!self->list_pinned_top ||
      gtk_adjustment_get_page_size (vadjustment) <= 0 ||
      g_list_model_get_n_items (G_LIST_MODEL (self->sorted)) == 0)
    return;

  scroll_list_to_top (self);
}

/* A layout: GTK emits "changed" when it set the list's height or length,
 * after the value it computed for them and before "value-changed". */
static void
list_adjustment_changed_cb (GtkAdjustment  *adjustment,
                            PopcheckWindow *self)
{
  self->laid_out_value = gtk_adjustment_get_value (adjustment);
}

static void queue_want_headers (PopcheckWindow *self);

static void
list_value_changed_cb (GtkAdjustment  *adjustment,
                       PopcheckWindow *self)
{
  if (list_at_top (adjustment))
    self->list_pinned_top = TRUE;
  /* A value that no layout set: the user scrolled. */
  else if (gtk_adjustment_get_value (adjustment) != self->laid_out_value)
    self->list_pinned_top = FALSE;
  else
    keep_list_at_top (self);

  queue_want_headers (self);
}

/* Selects the message noted by reselect_filled () if it is among the
 * rows just added. */
static void
select_refilled (PopcheckWindow *self,
                 guint           position,
                 guint           added)
{
  for (guint i = position; i < position + added; i++)
    {
      g_autoptr(PopcheckMessage) message =
        g_list_model_get_item (G_LIST_MODEL (self->sorted), i);

      if (g_str_equal (popcheck_message_get_uid (message), self->refill_uid) &&
          g_strcmp0 (popcheck_window_get_message_account_id (self, message),
                     self->refill_account) == 0)
        {
          clear_refill (self);
          gtk_selection_model_select_item (GTK_SELECTION_MODEL (self->selection),
                                           i, TRUE);
          return;
        }
    }
}

/* When the headers of rows come, the mailbox replaces their messages with
 * ones that have them, at their dated places
 * (popcheck_mailbox_fill_pending_batch ()): in a change for each run of
 * rows when they keep their places; else the removals, then the
 * insertions.  The selection model cannot tell that a new item is the
 * same message, so a row selected alone would lose its selection, and its
 * preview, as it fills in.  The change that takes it away notes which
 * message it was; the change that brings it back (the same one, or a
 * later one) selects it again, without scrolling to it: the list stays
 * where the user left it.  Anything selected meanwhile forgets it. */
static void
reselect_filled (PopcheckWindow *self,
                 guint           position,
                 guint           removed,
                 guint           added)
{
  g_autoptr(GtkBitset) selected = NULL;
  PopcheckMailbox *mailbox;
  const char *pending_uid;
  guint found;

  if (self->refill_uid == NULL && removed > 0 && self->selected_pending != NULL &&
      self->selected_pending_account != NULL)
    {
      selected = gtk_selection_model_get_selection (GTK_SELECTION_MODEL (self->selection));
      if (!gtk_bitset_is_empty (selected) ||
          _popcheck_window_find_message (self, self->selected_pending, &found))
        return;

      /* Hidden by a delete or the search: the mailbox still has it.
       * Gone from the server, it has no message of that UID; but neither
       * has it between the removal and the insertion of a fill. */
      pending_uid = popcheck_message_get_uid (self->selected_pending);
      mailbox = popcheck_checker_get_mailbox (self->checker, self->selected_pending_account);
      if (mailbox == NULL ||
          popcheck_mailbox_lookup (mailbox, pending_uid) == self->selected_pending)
        return;

      self->refill_uid = g_strdup (pending_uid);
      self->refill_account = g_strdup (self->selected_pending_account);
    }

  if (self->refill_uid != NULL && added > 0)
    select_refilled (self, position, added);
}

static void
sorted_items_changed_cb (GListModel     *model,
                         guint           position,
                         guint           removed,
                         guint           added,
                         PopcheckWindow *self)
{
  keep_list_at_top (self);
  reselect_filled (self, position, removed, added);
}

/* The list is one stop for Tab, as in other mail programs: the arrows move
 * within it.  GTK 4.8's list moves the focus row by row on Tab (it has no
 * "tab-behavior" before 4.12), so for Tab the list steps aside: GTK looks
 * for the next stop as if the list could not take the focus. */
static gboolean
list_key_pressed_cb (GtkEventControllerKey *controller,
                     guint                  keyval,
                     guint                  keycode,
                     GdkModifierType        state,
                     PopcheckWindow        *self)
{
  GtkWidget *list = GTK_WIDGET (self->list_view);
  GtkDirectionType direction;

  if ((state & (GDK_CONTROL_MASK | GDK_ALT_MASK)) != 0)
    return FALSE;

  if (keyval == GDK_KEY_ISO_Left_Tab ||
      ((keyval == GDK_KEY_Tab || keyval == GDK_KEY_KP_Tab) && (state & GDK_SHIFT_MASK) != 0))
    direction = GTK_DIR_TAB_BACKWARD;
  else if (keyval == GDK_KEY_Tab || keyval == GDK_KEY_KP_Tab)
    direction = GTK_DIR_TAB_FORWARD;
  else
    return FALSE;

  gtk_widget_set_can_focus (list, FALSE);
  gtk_widget_child_focus (GTK_WIDGET (self), direction);
  gtk_widget_set_can_focus (list, TRUE);

  return TRUE;
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

/* A mailbox keeps its rows newest first already, as the list shows them:
 * only the rows of several mailboxes need merging.  Sorting the rows of
 * one again cost a launch with 100,000 of them 30 ms of the main loop,
 * and the sort model a key and a reference for each row. */
static void
update_sorter (PopcheckWindow *self)
{
  GListModel *shown = gtk_flatten_list_model_get_model (self->flattened);
  GtkSorter *sorter = g_list_model_get_n_items (shown) > 1 ? self->newest_first : NULL;

  if (gtk_sort_list_model_get_sorter (self->sorted) != sorter)
    gtk_sort_list_model_set_sorter (self->sorted, sorter);
}

static void
enabled_mailboxes_changed_cb (GListModel     *model,
                              guint           position,
                              guint           removed,
                              guint           added,
                              PopcheckWindow *self)
{
  update_sorter (self);
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
  update_sorter (self);
}

/* The panes */

static void
update_panes (PopcheckWindow *self)
{
  gboolean folded = adw_leaflet_get_folded (self->leaflet);
  gboolean showing_preview =
    g_strcmp0 (adw_leaflet_get_visible_child_name (self->leaflet), "preview") == 0;
  g_autoptr(PopcheckMessage) message = NULL;

  /* The template sets the leaflet up before the models exist. */
  if (self->selection == NULL)
    return;

  message = dup_single_selected (self);
  gtk_widget_set_visible (self->back_button, folded && showing_preview);
  /* 360 pixels leave no room for these beside Back, Delete, the title,
   * the menu and the window's own buttons; the menu and the keys (Ctrl+R,
   * Ctrl+F) still do what they do. */
  gtk_widget_set_visible (self->check_button, !folded);
  gtk_widget_set_visible (GTK_WIDGET (self->search_button), !folded);
  update_title (self);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.go-back",
                                 folded && showing_preview);
  /* Going back to the list, or unfolding, changes whether the preview
   * is on screen, and so whether it is being looked at. */
  watch_seen (self, message);
  update_backlog_hold (self);
}

static void
update_panes_cb (gpointer user_data)
{
  PopcheckWindow *self = user_data;

  self->update_panes_id = 0;
  update_panes (self);
}

/* The leaflet folds while it is laid out, after the header bar was: a
 * button shown or hidden there now would be painted without a place. */
static void
leaflet_changed_cb (AdwLeaflet     *leaflet,
                    GParamSpec     *pspec,
                    PopcheckWindow *self)
{
  if (self->update_panes_id == 0)
    self->update_panes_id = popcheck_idle_add_once (update_panes_cb, self);
}

/* The list, as after Back: the selection stays, and so does the focus on
 * its row, for the arrow keys to go on from there. */
void
_popcheck_window_show_list (PopcheckWindow *self)
{
  gboolean had_focus =
    gtk_widget_get_focus_child (GTK_WIDGET (self->leaflet)) != NULL ||
    gtk_widget_has_focus (self->back_button);

  adw_leaflet_set_visible_child_name (self->leaflet, "list");
  if (had_focus && g_strcmp0 (popcheck_window_get_list_page (self), "list") == 0)
    gtk_widget_grab_focus (GTK_WIDGET (self->list_view));
}

void
popcheck_window_show_preview (PopcheckWindow *self)
{
  g_return_if_fail (POPCHECK_IS_WINDOW (self));

  adw_leaflet_set_visible_child_name (self->leaflet, "preview");
}

/* Folded, a message opened in the list (clicked, or Enter) shows its
 * preview; the arrow keys only move through the list. */
static void
list_activate_cb (GtkListView    *list_view,
                  guint           position,
                  PopcheckWindow *self)
{
  if (gtk_selection_model_is_selected (GTK_SELECTION_MODEL (self->selection), position))
    popcheck_window_show_preview (self);
}

static void
open_clicked_cb (gpointer user_data)
{
  PopcheckWindow *self = user_data;
  g_autoptr(PopcheckMessage) message = NULL;

  self->open_clicked_id = 0;
  message = dup_single_selected (self);
  if (message != NULL && adw_leaflet_get_folded (self->leaflet))
    popcheck_window_show_preview (self);
}

/* The row selects on release, after this handler (it runs first, in the
 * capture phase): what the click selected is known once the event is
 * handled.  A click with Ctrl or Shift picks several messages and stays
 * in the list. */
static void
list_released_cb (GtkGestureClick *gesture,
                  int              n_press,
                  double           x,
                  double           y,
                  PopcheckWindow  *self)
{
  GdkModifierType state =
    gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (gesture));

  if ((state & (GDK_CONTROL_MASK | GDK_SHIFT_MASK)) != 0 ||
      !adw_leaflet_get_folded (self->leaflet))
    return;

  if (self->open_clicked_id == 0)
    self->open_clicked_id = popcheck_idle_add_once (open_clicked_cb, self);
}

/* Alt+Left and Escape: the key is left to others when there is no way
 * back. */
static gboolean
go_back_shortcut (GtkWidget *widget,
                  GVariant  *args,
                  gpointer   user_data)
{
  PopcheckWindow *self = POPCHECK_WINDOW (widget);

  /* Not the back button's state: that follows a moment later. */
  if (!adw_leaflet_get_folded (self->leaflet) ||
      g_strcmp0 (adw_leaflet_get_visible_child_name (self->leaflet), "preview") != 0)
    return FALSE;

  _popcheck_window_show_list (self);
  return TRUE;
}

/* The search */

/* Case-folded and in one normal form, so that "muller" finds neither
 * more nor less than "Muller" does, and "é" finds both ways of writing
 * it. */
static char *
search_fold (const char *text)
{
  g_autofree char *normalized = g_utf8_normalize (text, -1, G_NORMALIZE_ALL);

  return normalized != NULL ? g_utf8_casefold (normalized, -1) : NULL;
}

static gboolean
contains_key (const char *text,
              const char *key)
{
  g_autofree char *folded = NULL;

  if (text == NULL || *text == '\0')
    return FALSE;

  folded = search_fold (text);
  return folded != NULL && strstr (folded, key) != NULL;
}

/* The sender as "Name <address>", so that either finds it. */
static gboolean
matches_search (gpointer item,
                gpointer user_data)
{
  PopcheckWindow *self = user_data;
  PopcheckMessage *message = item;

  if (self->search_key == NULL)
    return TRUE;

  return contains_key (popcheck_message_get_from (message), self->search_key) ||
         contains_key (popcheck_message_get_subject (message), self->search_key);
}

static void
set_search_text (PopcheckWindow *self,
                 const char     *text)
{
  g_autofree char *stripped = g_strstrip (g_strdup (text != NULL ? text : ""));
  g_autofree char *key = NULL;
  g_autofree char *description = NULL;
  GtkFilterChange change = GTK_FILTER_CHANGE_DIFFERENT;
  gboolean was_searching = self->search_key != NULL;

  if (*stripped != '\0')
    key = search_fold (stripped);
  if (g_strcmp0 (key, self->search_key) == 0)
    return;

  /* A longer text finds fewer messages: only those are looked at again. */
  if (key == NULL)
    change = GTK_FILTER_CHANGE_LESS_STRICT;
  else if (self->search_key == NULL || strstr (key, self->search_key) != NULL)
    change = GTK_FILTER_CHANGE_MORE_STRICT;
  else if (strstr (self->search_key, key) != NULL)
    change = GTK_FILTER_CHANGE_LESS_STRICT;

  g_free (self->search_key);
  self->search_key = g_steal_pointer (&key);
  if (self->search_filter == NULL || self->no_matches_page == NULL)
    return;

  /* The status page reads its description as markup. */
  description = g_markup_printf_escaped (_("No sender or subject contains “%s”."), stripped);
  adw_status_page_set_description (self->no_matches_page, description);
  update_filter (self->search_filter, matches_search, self,
                 was_searching, self->search_key != NULL, change);
}

static void
search_changed_cb (GtkSearchEntry *entry,
                   PopcheckWindow *self)
{
  set_search_text (self, gtk_editable_get_text (GTK_EDITABLE (entry)));
}

/* Closed (Escape, or the button), the search lists every message again,
 * and the keys go back to the list. */
static void
search_mode_cb (GtkSearchBar   *search_bar,
                GParamSpec     *pspec,
                PopcheckWindow *self)
{
  /* Not while the window goes. */
  if (self->search_entry == NULL || self->leaflet == NULL || self->list_view == NULL)
    return;

  if (gtk_search_bar_get_search_mode (search_bar))
    {
      adw_leaflet_set_visible_child_name (self->leaflet, "list");
      return;
    }

  gtk_editable_set_text (GTK_EDITABLE (self->search_entry), "");
  set_search_text (self, NULL);
  if (gtk_widget_get_mapped (GTK_WIDGET (self->list_view)))
    gtk_widget_grab_focus (GTK_WIDGET (self->list_view));
}

void
_popcheck_window_start_search (PopcheckWindow *self)
{
  if (!gtk_widget_get_visible (GTK_WIDGET (self->main_stack)) ||
      g_strcmp0 (popcheck_window_get_page (self), "messages") != 0)
    return;

  gtk_search_bar_set_search_mode (self->search_bar, TRUE);
  gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
}

void
popcheck_window_stop_search (PopcheckWindow *self)
{
  g_return_if_fail (POPCHECK_IS_WINDOW (self));

  gtk_search_bar_set_search_mode (self->search_bar, FALSE);
}

/* List items */

/* The checker fetches the headers of the rows in view next, top to
 * bottom.  Each call replaces the account's last one, so what scrolled
 * out of view is dropped.  Worked out after a frame was painted: the rows
 * are bound and placed then (the list view binds many more rows than it
 * shows, and rebinds them when its model changes). */
static void
want_headers_after_paint_cb (GdkFrameClock  *clock,
                             PopcheckWindow *self)
{
  GtkWidget *list = GTK_WIDGET (self->list_view);
  g_autoptr(GHashTable) by_account = NULL;
  GListModel *mailboxes;
  int height = gtk_widget_get_height (list);

  g_clear_signal_handler (&self->want_headers_id, self->want_headers_clock);
  g_clear_object (&self->want_headers_clock);
  if (self->checker == NULL)
    return;

  by_account = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                      (GDestroyNotify) g_ptr_array_unref);
  for (GtkWidget *item = gtk_widget_get_first_child (list);
       item != NULL;
       item = gtk_widget_get_next_sibling (item))
    {
      GtkWidget *child = gtk_widget_get_first_child (item);
      PopcheckMessage *message;
      const char *account_id;
      graphene_rect_t bounds;
      GPtrArray *uids;

      if (!POPCHECK_IS_MESSAGE_ROW (child) || !gtk_widget_get_child_visible (item) ||
          !gtk_widget_compute_bounds (item, list, &bounds) ||
          bounds.origin.y + bounds.size.height <= 0 || bounds.origin.y >= height)
        continue;
      message = popcheck_message_row_get_message (POPCHECK_MESSAGE_ROW (child));
      if (message == NULL || !popcheck_message_get_headers_pending (message))
        continue;
      account_id = popcheck_window_get_message_account_id (self, message);
      if (account_id == NULL)
        continue;

      uids = g_hash_table_lookup (by_account, account_id);
      if (uids == NULL)
        {
          uids = g_ptr_array_new ();
          g_hash_table_insert (by_account, (gpointer) account_id, uids);
        }
      g_ptr_array_add (uids, (gpointer) popcheck_message_get_uid (message));
    }

  mailboxes = popcheck_checker_get_mailboxes (self->checker);
  for (guint i = 0; i < g_list_model_get_n_items (mailboxes); i++)
    {
      g_autoptr(PopcheckMailbox) mailbox = g_list_model_get_item (mailboxes, i);
      const char *account_id = popcheck_mailbox_get_account_id (mailbox);
      GPtrArray *uids = g_hash_table_lookup (by_account, account_id);

      if (uids != NULL)
        g_ptr_array_add (uids, NULL);
      popcheck_checker_want_headers (self->checker, account_id,
                                     uids != NULL
                                       ? (const char * const *) uids->pdata
                                       : NULL);
    }
}

/* Once per frame at most, however many rows a scroll rebinds. */
static void
queue_want_headers (PopcheckWindow *self)
{
  GdkFrameClock *clock;

  if (self->list_view == NULL)
    return;

  /* Not shown: no row is in view. */
  clock = gtk_widget_get_frame_clock (GTK_WIDGET (self->list_view));
  if (clock == NULL)
    return;

  /* Queued on this clock already; or on that of a window unrealized since
   * (closed to the background), whose handlers are gone. */
  if (self->want_headers_id != 0 &&
      g_signal_handler_is_connected (self->want_headers_clock, self->want_headers_id))
    {
      if (self->want_headers_clock == clock)
        return;
      g_signal_handler_disconnect (self->want_headers_clock, self->want_headers_id);
    }
  g_clear_object (&self->want_headers_clock);

  self->want_headers_clock = g_object_ref (clock);
  self->want_headers_id = g_signal_connect (clock, "after-paint",
                                            G_CALLBACK (want_headers_after_paint_cb),
                                            self);
  gtk_widget_queue_draw (GTK_WIDGET (self->list_view));
}

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
  popcheck_message_row_set_mailbox_size (row,
                                         mailbox != NULL
                                           ? popcheck_mailbox_get_n_items (mailbox)
                                           : 0);
  popcheck_message_row_set_message (row, message);
  if (popcheck_message_get_headers_pending (message))
    queue_want_headers (self);
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
  PopcheckWindow *self = user_data;
  PopcheckMailbox *mailbox = POPCHECK_MAILBOX (item);
  PopcheckAccount *account;

  account = popcheck_account_list_lookup (popcheck_checker_get_accounts (self->checker),
                                          popcheck_mailbox_get_account_id (mailbox));
  return popcheck_account_status_new (mailbox, account);
}

/* A toast is read to its end: its own title is cut at one line, so the
 * text is a label of ours that wraps (plain text, not markup). */
static AdwToast *
wrapping_toast_new (const char *text)
{
  AdwToast *toast = adw_toast_new ("");
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 60);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  adw_toast_set_custom_title (toast, label);

  return toast;
}

static void
show_error_toast (PopcheckWindow *self,
                  const char     *text)
{
  AdwToast *toast = wrapping_toast_new (text);

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
  guint n_before;

  if (self == NULL || self->pending == NULL)
    return;

  n_before = g_hash_table_size (self->pending);

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
    update_filter (self->pending_filter, not_pending, self,
                   n_before > 0, g_hash_table_size (self->pending) > 0,
                   GTK_FILTER_CHANGE_LESS_STRICT);
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

/* The message's row, once the list has made one for it. */
static GtkWidget *
find_row_item (PopcheckWindow  *self,
               PopcheckMessage *message)
{
  for (GtkWidget *item = gtk_widget_get_first_child (GTK_WIDGET (self->list_view));
       item != NULL;
       item = gtk_widget_get_next_sibling (item))
    {
      GtkWidget *row = gtk_widget_get_first_child (item);

      if (POPCHECK_IS_MESSAGE_ROW (row) &&
          popcheck_message_row_get_message (POPCHECK_MESSAGE_ROW (row)) == message)
        return item;
    }

  return NULL;
}

/* Where the list shows message now; FALSE when it is not listed. */
gboolean
_popcheck_window_find_message (PopcheckWindow  *self,
                               PopcheckMessage *message,
                               guint           *position)
{
  GListModel *list = G_LIST_MODEL (self->selection);
  guint n = g_list_model_get_n_items (list);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(PopcheckMessage) item = g_list_model_get_item (list, i);

      if (item == message)
        {
          *position = i;
          return TRUE;
        }
    }

  return FALSE;
}

/* GTK 4.8 has no way to focus a list item that has no row yet: the row
 * comes with the list's next layout, and each frame's tick, which comes
 * before its layout, looks for the row the last one made. */
static gboolean
focus_row_tick_cb (GtkWidget     *widget,
                   GdkFrameClock *frame_clock,
                   gpointer       user_data)
{
  PopcheckWindow *self = user_data;
  GtkWidget *item;
  guint position;

  if (self->focus_message == NULL ||
      !_popcheck_window_find_message (self, self->focus_message, &position))
    goto done;

  item = find_row_item (self, self->focus_message);
  if (item == NULL)
    return G_SOURCE_CONTINUE;

  gtk_widget_grab_focus (item);

done:
  self->focus_tick_id = 0;
  g_clear_object (&self->focus_message);
  return G_SOURCE_REMOVE;
}

static void
focus_message (PopcheckWindow  *self,
               PopcheckMessage *message)
{
  guint position;

  if (!_popcheck_window_find_message (self, message, &position))
    return;

  gtk_widget_activate_action (GTK_WIDGET (self->list_view), "list.scroll-to-item", "u", position);
  g_set_object (&self->focus_message, message);
  if (self->focus_tick_id == 0)
    self->focus_tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self->list_view),
                                                        focus_row_tick_cb, self, NULL);
}

/* What Undo brings back is selected and has the focus, as if it had
 * never gone: Delete pressed again deletes it again. */
static void
select_undone (PopcheckWindow *self,
               DeleteBatch    *batch)
{
  g_autoptr(GtkBitset) positions = gtk_bitset_new_empty ();
  g_autoptr(GtkBitset) all = NULL;
  PopcheckMessage *first = NULL;
  guint first_position = G_MAXUINT;

  for (guint i = 0; i < batch->messages->len; i++)
    {
      PopcheckMessage *message = g_ptr_array_index (batch->messages, i);
      guint position;

      if (!_popcheck_window_find_message (self, message, &position))
        continue;
      gtk_bitset_add (positions, position);
      if (position < first_position)
        {
          first_position = position;
          first = message;
        }
    }

  if (first == NULL)
    return;

  all = gtk_bitset_new_range (0, g_list_model_get_n_items (G_LIST_MODEL (self->selection)));
  gtk_selection_model_set_selection (GTK_SELECTION_MODEL (self->selection), positions, all);
  focus_message (self, first);
}

static void
delete_batch_undo (PopcheckWindow *self,
                   DeleteBatch    *batch)
{
  g_autoptr(AdwToast) toast = delete_batch_settle (self, batch);

  delete_batch_unhide (batch);
  if (self != NULL)
    select_undone (self, batch);
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

/* Deletes the messages at positions of the list, after the undo toast. */
void
_popcheck_window_delete (PopcheckWindow *self,
                         GtkBitset      *positions)
{
  g_autoptr(GtkBitset) selected = NULL;
  g_autoptr(GtkBitset) deleted_selected = NULL;
  g_autofree char *title = NULL;
  GtkBitsetIter iter;
  DeleteBatch *batch;
  guint position;
  guint first;
  guint n_before;

  if (!selection_is_deletable (self, positions))
    return;

  /* The selection model's bitset is live: copied before the filter takes
   * the messages out. */
  selected = gtk_selection_model_get_selection (GTK_SELECTION_MODEL (self->selection));
  deleted_selected = gtk_bitset_copy (selected);
  gtk_bitset_intersect (deleted_selected, positions);

  batch = g_new0 (DeleteBatch, 1);
  g_weak_ref_init (&batch->window, self);
  batch->checker = g_object_ref (self->checker);
  batch->application = G_APPLICATION (g_object_ref (gtk_window_get_application (GTK_WINDOW (self))));
  batch->messages = g_ptr_array_new_with_free_func (g_object_unref);
  batch->account_ids = g_ptr_array_new_with_free_func (g_free);

  for (gboolean ok = gtk_bitset_iter_init_first (&iter, positions, &position);
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

  first = gtk_bitset_get_minimum (positions);
  n_before = g_hash_table_size (self->pending);
  for (guint i = 0; i < batch->messages->len; i++)
    g_hash_table_insert (self->pending, g_ptr_array_index (batch->messages, i), batch);
  update_filter (self->pending_filter, not_pending, self,
                 n_before > 0, TRUE, GTK_FILTER_CHANGE_MORE_STRICT);
  /* A message deleted from its context menu leaves a selection elsewhere
   * alone. */
  if (!gtk_bitset_is_empty (deleted_selected) &&
      gtk_bitset_is_empty (selected))
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
delete_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  PopcheckWindow *self = POPCHECK_WINDOW (widget);
  g_autoptr(GtkBitset) live =
    gtk_selection_model_get_selection (GTK_SELECTION_MODEL (self->selection));
  g_autoptr(GtkBitset) selected = gtk_bitset_copy (live);

  _popcheck_window_delete (self, selected);
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
  PopcheckWindow *self = POPCHECK_WINDOW (widget);

  GTK_WIDGET_CLASS (popcheck_window_parent_class)->map (widget);

  if (!self->logged_showing)
    g_signal_connect_object (gtk_widget_get_frame_clock (widget), "after-paint",
                             G_CALLBACK (log_painted_cb), self, 0);
  update_backlog_hold (self);
}

/* As the window's help overlay, the shortcuts window shows the keys the
 * application binds to each action (it looks them up through the window
 * it belongs to); made on its own, it would show none.  It looks them up
 * when it is set, so only once the window has its application: before,
 * it would find none and wait for a "keys-changed" that may never come. */
static void
set_up_shortcuts_window (PopcheckWindow *self)
{
  g_autoptr(GtkBuilder) builder = NULL;
  GtkWidget *shortcuts;
  GtkWidget *titlebar;

  if (gtk_window_get_application (GTK_WINDOW (self)) == NULL)
    return;

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
application_changed_cb (PopcheckWindow *self,
                        GParamSpec     *pspec,
                        gpointer        user_data)
{
  set_up_shortcuts_window (self);
}

static void
popcheck_window_unmap (GtkWidget *widget)
{
  /* A hidden window's preview is seen by nobody. */
  watch_seen (POPCHECK_WINDOW (widget), NULL);
  g_signal_handlers_disconnect_by_func (gtk_widget_get_frame_clock (widget),
                                        log_painted_cb, widget);

  GTK_WIDGET_CLASS (popcheck_window_parent_class)->unmap (widget);
  update_backlog_hold (POPCHECK_WINDOW (widget));
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
  GtkEventController *key_controller;

  G_OBJECT_CLASS (popcheck_window_parent_class)->constructed (object);

  g_signal_connect (self, "notify::application",
                    G_CALLBACK (application_changed_cb), NULL);
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
  /* Nothing waits for Undo or is searched yet: see update_filter(). */
  self->pending_filter = gtk_custom_filter_new (NULL, NULL, NULL);
  self->visible = gtk_filter_list_model_new (g_object_ref (G_LIST_MODEL (self->flattened)),
                                             g_object_ref (GTK_FILTER (self->pending_filter)));
  self->search_filter = gtk_custom_filter_new (NULL, NULL, NULL);
  self->matching = gtk_filter_list_model_new (g_object_ref (G_LIST_MODEL (self->visible)),
                                              g_object_ref (GTK_FILTER (self->search_filter)));
  self->newest_first = GTK_SORTER (gtk_custom_sorter_new (newest_first, NULL, NULL));
  self->sorted = gtk_sort_list_model_new (g_object_ref (G_LIST_MODEL (self->matching)), NULL);
  update_sorter (self);
  g_signal_connect (self->enabled_mailboxes, "items-changed",
                    G_CALLBACK (enabled_mailboxes_changed_cb), self);
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
  g_signal_connect (self->matching, "items-changed",
                    G_CALLBACK (visible_items_changed_cb), self);
  g_signal_connect (self->sorted, "items-changed",
                    G_CALLBACK (sorted_items_changed_cb), self);
  g_signal_connect (gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (self->list_view)),
                    "changed", G_CALLBACK (list_adjustment_changed_cb), self);
  g_signal_connect (gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (self->list_view)),
                    "value-changed", G_CALLBACK (list_value_changed_cb), self);

  key_controller = gtk_event_controller_key_new ();
  gtk_event_controller_set_propagation_phase (key_controller, GTK_PHASE_CAPTURE);
  g_signal_connect (key_controller, "key-pressed", G_CALLBACK (list_key_pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self->list_view), key_controller);
  _popcheck_window_menu_init (self);

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
  gtk_list_box_bind_model (self->status_list, mailboxes, create_status_row, self, NULL);

  popcheck_preview_set_checker (self->preview, checker);

  g_signal_connect (mailboxes, "items-changed",
                    G_CALLBACK (mailboxes_items_changed_cb), self);
  g_signal_connect (checker, "notify::n-new", G_CALLBACK (n_new_changed_cb), self);

  update_page (self);
  update_title (self);
  update_selection (self);
  update_panes (self);
}

static void
popcheck_window_dispose (GObject *object)
{
  PopcheckWindow *self = POPCHECK_WINDOW (object);

  flush_pending_deletes (self, FALSE);
  g_clear_pointer (&self->late_dismisses, g_ptr_array_unref);
  if (self->backlog_hold != NULL)
    popcheck_checker_release_backlog (self->checker, self->backlog_hold);
  g_clear_pointer (&self->backlog_hold, g_free);

  if (self->checker != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->checker, self);
      g_signal_handlers_disconnect_by_data (popcheck_checker_get_mailboxes (self->checker), self);
    }
  if (self->selection != NULL)
    g_signal_handlers_disconnect_by_data (self->selection, self);
  if (self->sorted != NULL)
    g_signal_handlers_disconnect_by_data (self->sorted, self);
  if (self->enabled_mailboxes != NULL)
    g_signal_handlers_disconnect_by_data (self->enabled_mailboxes, self);
  if (self->list_view != NULL)
    g_signal_handlers_disconnect_by_data (gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (self->list_view)),
                                          self);
  g_clear_handle_id (&self->seen_timeout_id, g_source_remove);
  g_clear_object (&self->seen_pending);
  set_selected_pending (self, NULL, NULL);
  clear_refill (self);
  /* The clock of a window already unrealized has dropped its handlers. */
  if (self->want_headers_clock != NULL &&
      g_signal_handler_is_connected (self->want_headers_clock, self->want_headers_id))
    g_signal_handler_disconnect (self->want_headers_clock, self->want_headers_id);
  self->want_headers_id = 0;
  g_clear_object (&self->want_headers_clock);
  if (self->focus_tick_id != 0 && self->list_view != NULL)
    gtk_widget_remove_tick_callback (GTK_WIDGET (self->list_view), self->focus_tick_id);
  self->focus_tick_id = 0;
  g_clear_object (&self->focus_message);
  g_clear_weak_pointer (&self->nothing_to_check_toast);
  _popcheck_window_menu_dispose (self);
  if (self->visible != NULL)
    g_signal_handlers_disconnect_by_data (self->visible, self);
  if (self->matching != NULL)
    g_signal_handlers_disconnect_by_data (self->matching, self);
  g_clear_handle_id (&self->open_clicked_id, g_source_remove);
  g_clear_handle_id (&self->update_panes_id, g_source_remove);

  gtk_widget_dispose_template (GTK_WIDGET (self), POPCHECK_TYPE_WINDOW);

  g_clear_object (&self->selection);
  g_clear_object (&self->sorted);
  g_clear_object (&self->newest_first);
  g_clear_object (&self->matching);
  g_clear_object (&self->search_filter);
  g_clear_pointer (&self->search_key, g_free);
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
  _popcheck_window_class_menu_init (widget_class);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/example/PopCheck/popcheck-window.ui");
  gtk_widget_class_bind_template_child (widget_class, PopcheckWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, PopcheckWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, PopcheckWindow, back_button);
  gtk_widget_class_bind_template_child (widget_class, PopcheckWindow, check_button);
  gtk_widget_class_bind_template_child (widget_class, PopcheckWindow, search_button);
  gtk_widget_class_bind_template_child (widget_class, PopcheckWindow, account_dropdown);
  gtk_widget_class_bind_template_child (widget_class, PopcheckWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, PopcheckWindow, leaflet);
  gtk_widget_class_bind_template_child (widget_class, PopcheckWindow, search_bar);
  gtk_widget_class_bind_template_child (widget_class, PopcheckWindow, search_entry);
  gtk_widget_class_bind_template_child (widget_class, PopcheckWindow, status_list);
  gtk_widget_class_bind_template_child (widget_class, PopcheckWindow, list_stack);
  gtk_widget_class_bind_template_child (widget_class, PopcheckWindow, list_view);
  gtk_widget_class_bind_template_child (widget_class, PopcheckWindow, empty_page);
  gtk_widget_class_bind_template_child (widget_class, PopcheckWindow, no_matches_page);
  gtk_widget_class_bind_template_callback (widget_class, leaflet_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, list_activate_cb);
  gtk_widget_class_bind_template_callback (widget_class, search_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, search_mode_cb);

  gtk_widget_class_add_binding (widget_class, GDK_KEY_Left, GDK_ALT_MASK,
                                go_back_shortcut, NULL);
  gtk_widget_class_add_binding (widget_class, GDK_KEY_Escape, 0,
                                go_back_shortcut, NULL);
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
  self->list_pinned_top = TRUE;
  self->pending = g_hash_table_new (NULL, NULL);
  g_queue_init (&self->batches);
  _popcheck_window_toasts_init (self);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.delete", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.mark-seen", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.undo-delete", FALSE);

  gtk_search_bar_connect_entry (self->search_bar, GTK_EDITABLE (self->search_entry));
  g_object_bind_property (self->search_button, "active",
                          self->search_bar, "search-mode-enabled",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  {
    GtkGesture *click = gtk_gesture_click_new ();

    gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (click), GDK_BUTTON_PRIMARY);
    gtk_event_controller_set_propagation_phase (GTK_EVENT_CONTROLLER (click),
                                                GTK_PHASE_CAPTURE);
    g_signal_connect (click, "released", G_CALLBACK (list_released_cb), self);
    gtk_widget_add_controller (GTK_WIDGET (self->list_view), GTK_EVENT_CONTROLLER (click));
  }

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

gboolean
popcheck_window_get_folded (PopcheckWindow *self)
{
  g_return_val_if_fail (POPCHECK_IS_WINDOW (self), FALSE);

  return adw_leaflet_get_folded (self->leaflet);
}

const char *
popcheck_window_get_pane (PopcheckWindow *self)
{
  g_return_val_if_fail (POPCHECK_IS_WINDOW (self), NULL);

  return adw_leaflet_get_visible_child_name (self->leaflet);
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

  /* All of the account's messages, not those a search left. */
  popcheck_window_stop_search (self);
  _popcheck_window_show_list (self);

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

/* Check Now with nothing to check says why nothing happens. */
void
popcheck_window_explain_nothing_to_check (PopcheckWindow *self)
{
  GListModel *mailboxes;
  const char *text;
  AdwToast *toast;

  g_return_if_fail (POPCHECK_IS_WINDOW (self));

  mailboxes = popcheck_checker_get_mailboxes (self->checker);
  if (g_list_model_get_n_items (mailboxes) == 0)
    text = _("No account to check. Add one in Preferences.");
  else if (g_list_model_get_n_items (G_LIST_MODEL (self->enabled_mailboxes)) == 0)
    text = _("No account is turned on. Turn on “Check This Account” for one in Preferences.");
  else
    return;

  /* Pressed again while it still shows: once is enough. */
  if (self->nothing_to_check_toast != NULL)
    return;

  toast = wrapping_toast_new (text);
  g_set_weak_pointer (&self->nothing_to_check_toast, toast);
  popcheck_window_add_toast (self, toast);
}
