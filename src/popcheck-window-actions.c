/* popcheck-window-actions.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The window's actions that only pass a request on, to the preview, the
 * account filter or the checker.  Delete and Undo live in popcheck-window.c, beside the
 * deletes they keep waiting for the undo toast.  What the application does
 * for the window (checking, adding or fixing an account, the demo mailbox)
 * are the application's own actions.
 */

#define G_LOG_DOMAIN "popcheck-window"

#include "config.h"

#include "popcheck-checker.h"
#include "popcheck-mailbox.h"
#include "popcheck-window-private.h"

static void
load_more_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  PopcheckWindow *self = POPCHECK_WINDOW (widget);

  gtk_widget_activate_action (GTK_WIDGET (self->preview), "preview.load-more", NULL);
}

static void
show_whole_message_action (GtkWidget  *widget,
                           const char *action_name,
                           GVariant   *parameter)
{
  PopcheckWindow *self = POPCHECK_WINDOW (widget);

  gtk_widget_activate_action (GTK_WIDGET (self->preview), "preview.show-whole", NULL);
}

static void
filter_accounts_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  PopcheckWindow *self = POPCHECK_WINDOW (widget);

  if (gtk_widget_get_visible (GTK_WIDGET (self->account_dropdown)))
    gtk_widget_grab_focus (GTK_WIDGET (self->account_dropdown));
}

/* Marks the new messages among those of the list at positions (all of
 * them when NULL), one request per account. */
void
_popcheck_window_mark_seen (PopcheckWindow *self,
                            GtkBitset      *positions)
{
  GListModel *list = G_LIST_MODEL (self->selection);
  g_autoptr(GHashTable) by_account = NULL;
  GHashTableIter iter;
  gpointer key, value;

  by_account = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                      (GDestroyNotify) g_ptr_array_unref);
  for (guint i = 0; i < g_list_model_get_n_items (list); i++)
    {
      g_autoptr(PopcheckMessage) message = NULL;
      const char *account_id;
      GPtrArray *uids;

      if (positions != NULL && !gtk_bitset_contains (positions, i))
        continue;
      message = g_list_model_get_item (list, i);
      account_id = popcheck_window_get_message_account_id (self, message);
      if (account_id == NULL || !popcheck_message_get_is_new (message))
        continue;

      uids = g_hash_table_lookup (by_account, account_id);
      if (uids == NULL)
        {
          uids = g_ptr_array_new_with_free_func (g_free);
          g_hash_table_insert (by_account, (gpointer) account_id, uids);
        }
      g_ptr_array_add (uids, g_strdup (popcheck_message_get_uid (message)));
    }

  g_hash_table_iter_init (&iter, by_account);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      GPtrArray *uids = value;

      g_ptr_array_add (uids, NULL);
      popcheck_checker_mark_seen (self->checker, key,
                                  (const char * const *) uids->pdata);
    }
}

static void
mark_seen_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  PopcheckWindow *self = POPCHECK_WINDOW (widget);
  g_autoptr(GtkBitset) selected =
    gtk_selection_model_get_selection (GTK_SELECTION_MODEL (self->selection));

  _popcheck_window_mark_seen (self, selected);
}

/* What the list shows: with the account filter, that account's. */
static void
mark_all_seen_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  _popcheck_window_mark_seen (POPCHECK_WINDOW (widget), NULL);
}

void
_popcheck_window_class_actions_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "win.load-more", NULL, load_more_action);
  gtk_widget_class_install_action (widget_class, "win.show-whole-message", NULL,
                                   show_whole_message_action);
  gtk_widget_class_install_action (widget_class, "win.filter-accounts", NULL,
                                   filter_accounts_action);
  gtk_widget_class_install_action (widget_class, "win.mark-seen", NULL,
                                   mark_seen_action);
  gtk_widget_class_install_action (widget_class, "win.mark-all-seen", NULL,
                                   mark_all_seen_action);
}
