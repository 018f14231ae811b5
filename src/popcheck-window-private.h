/* popcheck-window-private.h: what the application, the UI tests and the
 * screenshots look at
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "popcheck-preview.h"
#include "popcheck-window.h"

G_BEGIN_DECLS

struct _PopcheckWindow
{
  AdwApplicationWindow  parent_instance;

  PopcheckChecker      *checker;
  /* The first frames that showed the window, and messages, went to the
   * debug log. */
  gboolean              logged_shown;
  gboolean              logged_showing;
  /* Whether the list stays at its top (see keep_list_at_top ()), and the
   * value of its adjustment that the last layout set. */
  gboolean              list_pinned_top;
  double                laid_out_value;
  /* The message whose row gets the focus once the list has made it. */
  PopcheckMessage      *focus_message;
  guint                 focus_tick_id;
  /* Weak: the toast that says Check Now has nothing to check. */
  AdwToast             *nothing_to_check_toast;
  /* The row context menu, and the message it was opened for. */
  GtkWidget            *row_menu;
  PopcheckMessage      *menu_message;
  /* A click in the folded list opens the preview once it has selected. */
  guint                 open_clicked_id;
  guint                 update_panes_id;
  /* The new message whose preview is on screen, until it counts as seen. */
  PopcheckMessage      *seen_pending;
  guint                 seen_timeout_id;
  /* The message selected alone while its headers are not fetched yet,
   * and its account; and, from the change that removed it until the next
   * change of the list, the UID and account to select again (see
   * reselect_filled ()). */
  PopcheckMessage      *selected_pending;
  char                 *selected_pending_account;
  char                 *refill_uid;
  char                 *refill_account;

  GListStore           *dropdown_head;
  GListStore           *one_mailbox;
  /* The mailboxes of accounts that are not turned off. */
  GtkCustomFilter      *enabled_filter;
  GtkFilterListModel   *enabled_mailboxes;
  GtkFlattenListModel  *flattened;
  GtkCustomFilter      *pending_filter;
  GtkFilterListModel   *visible;
  /* What the search looks for, case-folded; NULL without a search. */
  char                 *search_key;
  GtkCustomFilter      *search_filter;
  GtkFilterListModel   *matching;
  GtkSortListModel     *sorted;
  /* The sorter of sorted while it shows several mailboxes: see
   * update_sorter(). */
  GtkSorter            *newest_first;
  GtkMultiSelection    *selection;

  /* The checker hears which rows without headers are in view after the
   * next frame: want_headers_id on want_headers_clock's "after-paint". */
  GdkFrameClock        *want_headers_clock;
  gulong                want_headers_id;
  /* The account whose backlog this window holds (see
   * update_backlog_hold()), or NULL. */
  char                 *backlog_hold;

  /* PopcheckMessage → DeleteBatch, for the messages waiting to be deleted. */
  GHashTable           *pending;
  /* The batches whose toast still shows, oldest first. */
  GQueue                batches;
  guint                 undo_timeout;
  gboolean              several_accounts;
  /* When a toast of this window last appeared or went away. */
  gint64                last_toast_change;
  /* LateDismiss: toasts to dismiss once their animations are over. */
  GPtrArray            *late_dismisses;

  AdwToastOverlay      *toast_overlay;
  AdwWindowTitle       *window_title;
  GtkWidget            *back_button;
  GtkWidget            *check_button;
  GtkToggleButton      *search_button;
  GtkDropDown          *account_dropdown;
  GtkStack             *main_stack;
  AdwLeaflet           *leaflet;
  GtkSearchBar         *search_bar;
  GtkSearchEntry       *search_entry;
  GtkListBox           *status_list;
  GtkStack             *list_stack;
  GtkListView          *list_view;
  AdwStatusPage        *empty_page;
  AdwStatusPage        *no_matches_page;
  PopcheckPreview      *preview;
};

/* How long a new message's preview is on screen before it counts as
 * seen. */
#define POPCHECK_WINDOW_SEEN_DELAY_MS 1500

/* popcheck-window-actions.c */
void               _popcheck_window_class_actions_init (GtkWidgetClass *widget_class);
/* popcheck-window.c, for the actions */
void               _popcheck_window_show_list        (PopcheckWindow *self);
void               _popcheck_window_start_search     (PopcheckWindow *self);

/* popcheck-window-menu.c: the context menu of the list's rows */
void               _popcheck_window_class_menu_init  (GtkWidgetClass *widget_class);
void               _popcheck_window_menu_init        (PopcheckWindow *self);
void               _popcheck_window_menu_dispose     (PopcheckWindow *self);

/* What the selection's actions do, for any messages of the list (by their
 * positions in popcheck_window_get_selection ()). */
void               _popcheck_window_delete           (PopcheckWindow *self,
                                                      GtkBitset      *positions);
void               _popcheck_window_mark_seen        (PopcheckWindow *self,
                                                      GtkBitset      *positions);
gboolean           _popcheck_window_find_message     (PopcheckWindow  *self,
                                                      PopcheckMessage *message,
                                                      guint           *position);

/* popcheck-window-toasts.c: toasts go through these, never straight to
 * the overlay (see there why). */
void               _popcheck_window_toasts_init      (PopcheckWindow *self);
/* Takes the toast. */
void               popcheck_window_add_toast         (PopcheckWindow *self,
                                                      AdwToast       *toast);
void               popcheck_window_dismiss_toast     (PopcheckWindow *self,
                                                      AdwToast       *toast);

/* What the application, the tests and the screenshots look at */

/* The messages as the list shows them (after the account filter and
 * without those waiting to be deleted), and their selection. */
GtkSelectionModel *popcheck_window_get_selection     (PopcheckWindow *self);
PopcheckPreview   *popcheck_window_get_preview       (PopcheckWindow *self);
GtkListView       *popcheck_window_get_list_view     (PopcheckWindow *self);
/* "welcome", "messages" */
const char        *popcheck_window_get_page          (PopcheckWindow *self);
/* Within "messages": "list", "empty" when no message is listed, or
 * "no-matches" when the search finds none of those listed. */
const char        *popcheck_window_get_list_page     (PopcheckWindow *self);
/* When the window is too narrow for both panes: the list or the preview. */
gboolean           popcheck_window_get_folded        (PopcheckWindow *self);
/* "list" or "preview": the pane on screen when folded. */
const char        *popcheck_window_get_pane          (PopcheckWindow *self);
/* Shows the preview of the selected message, over the list when folded. */
void               popcheck_window_show_preview      (PopcheckWindow *self);
/* Closes the search, so that every message is listed again. */
void               popcheck_window_stop_search       (PopcheckWindow *self);
/* The account filter: "All Accounts", then one item per account. */
GtkDropDown       *popcheck_window_get_account_filter (PopcheckWindow *self);
void               popcheck_window_show_account      (PopcheckWindow *self,
                                                      const char     *account_id);
/* The account (or NULL) of a message in the list. */
const char        *popcheck_window_get_message_account_id (PopcheckWindow  *self,
                                                           PopcheckMessage *message);
/* Deletes wait for the undo toast; a shorter wait for tests. */
void               popcheck_window_set_undo_timeout  (PopcheckWindow *self,
                                                      guint           seconds);
guint              popcheck_window_get_n_pending_deletes (PopcheckWindow *self);
/* A toast that stays until closed, for what failed where the user asked
 * for it (the demo mailbox not starting). */
void               popcheck_window_show_error        (PopcheckWindow *self,
                                                      const char     *text);
/* Check Now found no account to check (none, or none turned on): a toast
 * says so. */
void               popcheck_window_explain_nothing_to_check (PopcheckWindow *self);

G_END_DECLS
