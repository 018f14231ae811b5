/* popcheck-preferences.c: the preferences window
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "popcheck-preferences"

#include "config.h"

#include <glib/gi18n.h>

#include "popcheck-accessible.h"
#include "popcheck-account.h"
#include "popcheck-account-editor.h"
#include "popcheck-account-list.h"
#include "popcheck-application.h"
#include "popcheck-checker.h"
#include "popcheck-goa-accounts.h"
#include "popcheck-mailbox.h"
#include "popcheck-preferences.h"
#include "popcheck-secret.h"

struct _PopcheckPreferencesWindow
{
  AdwPreferencesWindow  parent_instance;

  PopcheckAccountList  *accounts;
  /* For the state of each account's last check; NULL without one. */
  PopcheckChecker      *checker;
  GSettings            *settings;
  GCancellable         *cancellable;
  /* The editor on screen, if any. */
  PopcheckAccountEditor *editor;
  PopcheckOAuthUriLauncher uri_launcher;
  gpointer                 uri_launcher_data;

  GtkListBox           *accounts_list;
  AdwPreferencesGroup  *online_group;
  GtkListBox           *online_list;
  /* Accounts from Online Accounts, listed apart. */
  GListModel           *online_accounts;
  GtkSwitch            *run_in_background_switch;
  GtkSwitch            *start_at_login_switch;
  GtkSwitch            *notify_new_mail_switch;
  GtkSwitch            *notify_errors_switch;
};

G_DEFINE_FINAL_TYPE (PopcheckPreferencesWindow, popcheck_preferences_window,
                     ADW_TYPE_PREFERENCES_WINDOW)

static PopcheckAccount *
find_account (PopcheckPreferencesWindow *self,
              const char                *account_id)
{
  GListModel *model = G_LIST_MODEL (self->accounts);

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(PopcheckAccount) account = g_list_model_get_item (model, i);

      if (g_strcmp0 (popcheck_account_get_id (account), account_id) == 0)
        return g_steal_pointer (&account);
    }

  return NULL;
}

/* The checker schedules an account it learns of after its interval: a
 * saved account is checked at once, so the user sees whether it works. */
static void
editor_saved_cb (PopcheckAccountEditor     *editor,
                 PopcheckAccount           *account,
                 PopcheckPreferencesWindow *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "app.check-account", "s",
                              popcheck_account_get_id (account));
}

static GtkWidget *
open_editor (PopcheckPreferencesWindow *self,
             PopcheckAccount           *account)
{
  GtkWidget *editor = popcheck_account_editor_new (self->accounts, account);

  g_signal_connect_object (editor, "saved", G_CALLBACK (editor_saved_cb), self, 0);
  if (self->uri_launcher != NULL)
    popcheck_account_editor_set_uri_launcher (POPCHECK_ACCOUNT_EDITOR (editor),
                                              self->uri_launcher,
                                              self->uri_launcher_data);
  g_set_weak_pointer (&self->editor, POPCHECK_ACCOUNT_EDITOR (editor));

  adw_preferences_window_set_visible_page_name (ADW_PREFERENCES_WINDOW (self),
                                                "accounts");
  adw_preferences_window_present_subpage (ADW_PREFERENCES_WINDOW (self),
                                          editor);

  return editor;
}

/* After what the row says first, the account's state, a line each:
 * turned off, or failing (in the check's own words, sign in again
 * included); the row's icon shows the most pressing of its lines. */
static void
show_state (PopcheckPreferencesWindow *self,
            GtkWidget                 *row,
            PopcheckAccount           *account,
            GString                   *subtitle,
            const char                *icon_name)
{
  PopcheckMailbox *mailbox = NULL;
  gboolean enabled = popcheck_account_get_enabled (account);

  if (self != NULL && self->checker != NULL)
    mailbox = popcheck_checker_get_mailbox (self->checker,
                                            popcheck_account_get_id (account));

  if (!enabled)
    {
      /* An account from Online Accounts says it with its row's switch. */
      if (!popcheck_account_is_external (account))
        {
          g_string_append_c (subtitle, '\n');
          g_string_append (subtitle, _("Turned off: not checked"));
        }
      icon_name = "media-playback-pause-symbolic";
    }
  else if (mailbox != NULL &&
           popcheck_mailbox_get_state (mailbox) == POPCHECK_MAILBOX_STATE_ERROR &&
           popcheck_mailbox_get_error_message (mailbox) != NULL)
    {
      g_string_append_c (subtitle, '\n');
      /* Translators: %s is what went wrong in the last check */
      g_string_append_printf (subtitle, _("Failing: %s"),
                              popcheck_mailbox_get_error_message (mailbox));
      icon_name = "dialog-error-symbolic";
    }

  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle->str);
  adw_action_row_set_icon_name (ADW_ACTION_ROW (row), icon_name);
  if (enabled)
    gtk_widget_remove_css_class (row, "dim-label");
  else
    gtk_widget_add_css_class (row, "dim-label");
}

/* The row says what sets the account apart, a line each: unencrypted,
 * then its state. */
static void
update_row (PopcheckPreferencesWindow *self,
            GtkWidget                 *row,
            PopcheckAccount           *account)
{
  g_autoptr(GString) subtitle = g_string_new (NULL);
  const char *icon_name = NULL;

  /* Translators: user@server, then the port number */
  g_string_printf (subtitle, _("%s@%s, port %u"),
                   popcheck_account_get_user (account),
                   popcheck_account_get_host (account),
                   popcheck_account_get_port (account));

  if (popcheck_account_get_security (account) == POP3_SECURITY_NONE)
    {
      g_string_append_c (subtitle, '\n');
      g_string_append (subtitle, _("Unencrypted: the password and the mail "
                                   "can be read on the way"));
      icon_name = "channel-insecure-symbolic";
    }

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row),
                                 popcheck_account_get_display_name (account));
  show_state (self, row, account, subtitle, icon_name);
}

/* An account from Online Accounts: its server is Online Accounts'
 * provider's, so the row says what its switch does, then its state. */
static void
update_online_row (PopcheckPreferencesWindow *self,
                   GtkWidget                 *row,
                   PopcheckAccount           *account)
{
  g_autoptr(GString) subtitle = g_string_new (_("Check this account"));

  show_state (self, row, account, subtitle, NULL);
}

static void
account_notify_cb (PopcheckAccount *account,
                   GParamSpec      *pspec,
                   GtkWidget       *row)
{
  GtkWidget *self = gtk_widget_get_ancestor (row, POPCHECK_TYPE_PREFERENCES_WINDOW);

  if (popcheck_account_is_external (account))
    update_online_row (self ? POPCHECK_PREFERENCES_WINDOW (self) : NULL, row,
                       account);
  else
    update_row (self ? POPCHECK_PREFERENCES_WINDOW (self) : NULL, row, account);
}

/* A check ended or failed: every row follows. */
static void
refresh_rows (PopcheckPreferencesWindow *self)
{
  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->accounts_list));
       row != NULL;
       row = gtk_widget_get_next_sibling (row))
    {
      GVariant *target;
      PopcheckAccount *account;

      if (!ADW_IS_ACTION_ROW (row))
        continue;
      target = gtk_actionable_get_action_target_value (GTK_ACTIONABLE (row));
      if (target == NULL)
        continue;
      account = popcheck_account_list_lookup (self->accounts,
                                              g_variant_get_string (target, NULL));
      if (account != NULL)
        update_row (self, row, account);
    }

  /* Their rows are the online accounts' model's items, in its order. */
  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->online_list));
       row != NULL;
       row = gtk_widget_get_next_sibling (row))
    {
      g_autoptr(PopcheckAccount) account = NULL;

      if (!ADW_IS_ACTION_ROW (row))
        continue;
      account = g_list_model_get_item (self->online_accounts,
                                       gtk_list_box_row_get_index (GTK_LIST_BOX_ROW (row)));
      if (account != NULL)
        update_online_row (self, row, account);
    }
}

static void
mailboxes_changed_cb (GListModel                *mailboxes,
                      guint                      position,
                      guint                      removed,
                      guint                      added,
                      PopcheckPreferencesWindow *self)
{
  for (guint i = position; i < position + added; i++)
    {
      g_autoptr(PopcheckMailbox) mailbox = g_list_model_get_item (mailboxes, i);

      g_signal_connect_object (mailbox, "notify::state",
                               G_CALLBACK (refresh_rows), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (mailbox, "notify::error-message",
                               G_CALLBACK (refresh_rows), self,
                               G_CONNECT_SWAPPED);
    }
  refresh_rows (self);
}

static GtkWidget *
create_account_row (gpointer item,
                    gpointer user_data)
{
  PopcheckAccount *account = item;
  const char *id = popcheck_account_get_id (account);
  GtkWidget *row;
  GtkWidget *button;

  row = adw_action_row_new ();
  /* Names and hosts are whatever the user typed: text, not markup. */
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (row), "prefs.edit-account");
  gtk_actionable_set_action_target (GTK_ACTIONABLE (row), "s", id);
  update_row (user_data, row, account);
  /* The row follows the account when it is edited elsewhere. */
  g_signal_connect_object (account, "notify",
                           G_CALLBACK (account_notify_cb), row, 0);

  button = gtk_button_new_from_icon_name ("user-trash-symbolic");
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (button, "flat");
  gtk_widget_set_tooltip_text (button, _("Remove Account"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Remove Account"), -1);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button),
                                  "prefs.remove-account");
  gtk_actionable_set_action_target (GTK_ACTIONABLE (button), "s", id);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);

  button = gtk_image_new_from_icon_name ("go-next-symbolic");
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);

  return row;
}

/* Accounts from Online Accounts: a switch, and Settings for the rest. */
static GtkWidget *
create_online_row (gpointer item,
                   gpointer user_data)
{
  PopcheckAccount *account = item;
  GtkWidget *row;
  GtkWidget *toggle;
  GtkWidget *button;

  row = adw_action_row_new ();
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  g_object_bind_property (account, "display-name", row, "title",
                          G_BINDING_SYNC_CREATE);
  update_online_row (user_data, row, account);
  g_signal_connect_object (account, "notify::enabled",
                           G_CALLBACK (account_notify_cb), row, 0);

  toggle = gtk_switch_new ();
  gtk_widget_set_valign (toggle, GTK_ALIGN_CENTER);
  gtk_accessible_update_property (GTK_ACCESSIBLE (toggle),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Check this account"), -1);
  g_object_bind_property (account, "enabled", toggle, "active",
                          G_BINDING_SYNC_CREATE | G_BINDING_BIDIRECTIONAL);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), toggle);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), toggle);

  button = gtk_button_new_with_mnemonic (_("Open _Settings"));
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (button, _("Change or remove this account in "
                                         "Settings → Online Accounts"));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button),
                                  "prefs.open-online-accounts");
  gtk_actionable_set_action_target (GTK_ACTIONABLE (button), "s",
                                    popcheck_account_get_id (account));
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);

  return row;
}

static void
online_accounts_changed_cb (GListModel                *model,
                            guint                      position,
                            guint                      removed,
                            guint                      added,
                            PopcheckPreferencesWindow *self)
{
  /* No placeholder: without such accounts, the group is not there. */
  gtk_widget_set_visible (GTK_WIDGET (self->online_group),
                          g_list_model_get_n_items (model) > 0);
}

static gboolean
is_external (gpointer item,
             gpointer user_data)
{
  return popcheck_account_is_external (item) == GPOINTER_TO_INT (user_data);
}

/* The accounts of the list, those from elsewhere or PopCheck's own. */
static GListModel *
filter_accounts (PopcheckAccountList *accounts,
                 gboolean             external)
{
  GtkCustomFilter *filter = gtk_custom_filter_new (is_external,
                                                   GINT_TO_POINTER (external),
                                                   NULL);

  return G_LIST_MODEL (gtk_filter_list_model_new (g_object_ref (G_LIST_MODEL (accounts)),
                                                  GTK_FILTER (filter)));
}

/* Actions */

static void
open_online_accounts_action (GtkWidget  *widget,
                             const char *action_name,
                             GVariant   *parameter)
{
  PopcheckPreferencesWindow *self = POPCHECK_PREFERENCES_WINDOW (widget);
  g_autoptr(PopcheckAccount) account = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *title = NULL;

  account = find_account (self, g_variant_get_string (parameter, NULL));
  if (account == NULL || popcheck_goa_open_settings (account, &error))
    return;

  /* Toast titles are markup in libadwaita 1.2. */
  title = g_markup_escape_text (error->message, -1);
  adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self),
                                    adw_toast_new (title));
}

static void
add_account_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  open_editor (POPCHECK_PREFERENCES_WINDOW (widget), NULL);
}

static void
edit_account_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  popcheck_preferences_window_edit_account (
    POPCHECK_PREFERENCES_WINDOW (widget), g_variant_get_string (parameter,
                                                                NULL));
}

typedef struct
{
  PopcheckPreferencesWindow *self;
  char                      *account_id;
  char                      *display_name;
} RemoveData;

static void
remove_data_free (RemoveData *data)
{
  g_clear_object (&data->self);
  g_free (data->account_id);
  g_free (data->display_name);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RemoveData, remove_data_free)

static void
remove_done_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(RemoveData) data = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *title = NULL;

  if (popcheck_account_list_remove_finish (POPCHECK_ACCOUNT_LIST (object),
                                           result, &error))
    title = g_markup_printf_escaped (_("“%s” removed"), data->display_name);
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  else
    /* The account is gone either way (toast titles are markup in
     * libadwaita 1.2, hence the escaping); say that its password stayed. */
    title = g_markup_printf_escaped (_("“%s” removed, but its password could not "
                                       "be removed from the keyring: %s"),
                                     data->display_name, error->message);

  adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (data->self),
                                    adw_toast_new (title));
}

static void
remove_response_cb (AdwMessageDialog *dialog,
                    const char       *response,
                    gpointer          user_data)
{
  g_autoptr(RemoveData) data = user_data;
  PopcheckPreferencesWindow *self = data->self;
  g_autoptr(PopcheckAccount) account = NULL;

  if (g_strcmp0 (response, "remove") != 0)
    return;

  account = find_account (self, data->account_id);
  if (account == NULL)
    return;

  popcheck_account_list_remove_async (self->accounts, account,
                                      self->cancellable,
                                      remove_done_cb, g_steal_pointer (&data));
}

static void
remove_account_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  PopcheckPreferencesWindow *self = POPCHECK_PREFERENCES_WINDOW (widget);
  g_autoptr(PopcheckAccount) account = NULL;
  RemoveData *data;
  GtkWidget *dialog;

  account = find_account (self, g_variant_get_string (parameter, NULL));
  if (account == NULL)
    return;

  dialog = adw_message_dialog_new (GTK_WINDOW (self), NULL, NULL);
  adw_message_dialog_format_heading (ADW_MESSAGE_DIALOG (dialog),
                                     _("Remove “%s”?"),
                                     popcheck_account_get_display_name (account));
  adw_message_dialog_set_body (
    ADW_MESSAGE_DIALOG (dialog),
    _("PopCheck stops checking this account and forgets its settings. The "
      "password stored in your keyring is removed too. The mail on the "
      "server is not touched."));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "remove", _("_Remove"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog),
                                              "remove",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog),
                                           "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog),
                                         "cancel");

  data = g_new0 (RemoveData, 1);
  data->self = g_object_ref (self);
  data->account_id = g_strdup (popcheck_account_get_id (account));
  data->display_name = g_strdup (popcheck_account_get_display_name (account));
  g_signal_connect (dialog, "response", G_CALLBACK (remove_response_cb), data);

  popcheck_accessible_fix_mnemonic_buttons (GTK_WIDGET (dialog));
  gtk_window_present (GTK_WINDOW (dialog));
}

/* The object */

/* Closing the window is leaving the editor too. */
static gboolean
popcheck_preferences_window_close_request (GtkWindow *window)
{
  PopcheckPreferencesWindow *self = POPCHECK_PREFERENCES_WINDOW (window);

  if (self->editor != NULL &&
      gtk_widget_get_mapped (GTK_WIDGET (self->editor)) &&
      popcheck_account_editor_ask_before_leaving (self->editor, window))
    return TRUE;

  if (GTK_WINDOW_CLASS (popcheck_preferences_window_parent_class)->close_request == NULL)
    return FALSE;
  return GTK_WINDOW_CLASS (popcheck_preferences_window_parent_class)->close_request (window);
}

static void
popcheck_preferences_window_dispose (GObject *object)
{
  PopcheckPreferencesWindow *self = (PopcheckPreferencesWindow *) object;

  g_cancellable_cancel (self->cancellable);
  g_clear_weak_pointer (&self->editor);
  gtk_widget_dispose_template (GTK_WIDGET (self),
                               POPCHECK_TYPE_PREFERENCES_WINDOW);

  G_OBJECT_CLASS (popcheck_preferences_window_parent_class)->dispose (object);
}

static void
popcheck_preferences_window_finalize (GObject *object)
{
  PopcheckPreferencesWindow *self = (PopcheckPreferencesWindow *) object;

  g_clear_object (&self->accounts);
  g_clear_object (&self->online_accounts);
  g_clear_object (&self->checker);
  g_clear_object (&self->settings);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (popcheck_preferences_window_parent_class)->finalize (object);
}

static void
popcheck_preferences_window_class_init (PopcheckPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = popcheck_preferences_window_dispose;
  object_class->finalize = popcheck_preferences_window_finalize;
  GTK_WINDOW_CLASS (klass)->close_request = popcheck_preferences_window_close_request;

  gtk_widget_class_set_template_from_resource (
    widget_class, "/org/example/PopCheck/popcheck-preferences.ui");
  gtk_widget_class_bind_template_child (widget_class,
                                        PopcheckPreferencesWindow,
                                        accounts_list);
  gtk_widget_class_bind_template_child (widget_class,
                                        PopcheckPreferencesWindow,
                                        online_group);
  gtk_widget_class_bind_template_child (widget_class,
                                        PopcheckPreferencesWindow,
                                        online_list);
  gtk_widget_class_bind_template_child (widget_class,
                                        PopcheckPreferencesWindow,
                                        run_in_background_switch);
  gtk_widget_class_bind_template_child (widget_class,
                                        PopcheckPreferencesWindow,
                                        start_at_login_switch);
  gtk_widget_class_bind_template_child (widget_class,
                                        PopcheckPreferencesWindow,
                                        notify_new_mail_switch);
  gtk_widget_class_bind_template_child (widget_class,
                                        PopcheckPreferencesWindow,
                                        notify_errors_switch);

  gtk_widget_class_install_action (widget_class, "prefs.add-account", NULL,
                                   add_account_action);
  gtk_widget_class_install_action (widget_class, "prefs.edit-account", "s",
                                   edit_account_action);
  gtk_widget_class_install_action (widget_class, "prefs.remove-account", "s",
                                   remove_account_action);
  gtk_widget_class_install_action (widget_class, "prefs.open-online-accounts",
                                   "s", open_online_accounts_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_n,
                                       GDK_CONTROL_MASK, "prefs.add-account",
                                       NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_w,
                                       GDK_CONTROL_MASK, "window.close",
                                       NULL);
}

static void
popcheck_preferences_window_init (PopcheckPreferencesWindow *self)
{
  GtkWidget *placeholder;

  gtk_widget_init_template (GTK_WIDGET (self));
  popcheck_accessible_fix_mnemonic_buttons (GTK_WIDGET (self));
  popcheck_accessible_name_inner_widget (GTK_WIDGET (self), GTK_TYPE_SEARCH_ENTRY,
                                         _("Search Preferences"));

  self->cancellable = g_cancellable_new ();
  self->settings = g_settings_new (APPLICATION_ID);
  g_settings_bind (self->settings, "run-in-background",
                   self->run_in_background_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "start-at-login",
                   self->start_at_login_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "notify-new-mail",
                   self->notify_new_mail_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "notify-errors",
                   self->notify_errors_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);

  placeholder = gtk_label_new (_("No accounts yet. Add one to start "
                                 "checking mail."));
  gtk_widget_add_css_class (placeholder, "dim-label");
  gtk_widget_set_margin_top (placeholder, 18);
  gtk_widget_set_margin_bottom (placeholder, 18);
  gtk_label_set_wrap (GTK_LABEL (placeholder), TRUE);
  gtk_list_box_set_placeholder (self->accounts_list, placeholder);
}

GtkWindow *
popcheck_preferences_window_new (GtkApplication      *app,
                                 PopcheckAccountList *accounts)
{
  PopcheckPreferencesWindow *self;
  g_autoptr(GListModel) model = NULL;

  g_return_val_if_fail (!app || GTK_IS_APPLICATION (app), NULL);
  g_return_val_if_fail (POPCHECK_IS_ACCOUNT_LIST (accounts), NULL);

  self = g_object_new (POPCHECK_TYPE_PREFERENCES_WINDOW,
                       "application", app,
                       NULL);
  self->accounts = g_object_ref (accounts);
  if (POPCHECK_IS_APPLICATION (app))
    {
      GListModel *mailboxes;

      self->checker = g_object_ref (popcheck_application_get_checker (POPCHECK_APPLICATION (app)));
      mailboxes = popcheck_checker_get_mailboxes (self->checker);
      g_signal_connect_object (mailboxes, "items-changed",
                               G_CALLBACK (mailboxes_changed_cb), self, 0);
      mailboxes_changed_cb (mailboxes, 0, 0,
                            g_list_model_get_n_items (mailboxes), self);
    }
  model = filter_accounts (accounts, FALSE);
  gtk_list_box_bind_model (self->accounts_list, model, create_account_row,
                           self, NULL);
  self->online_accounts = filter_accounts (accounts, TRUE);
  gtk_list_box_bind_model (self->online_list, self->online_accounts,
                           create_online_row, self, NULL);
  g_signal_connect_object (self->online_accounts, "items-changed",
                           G_CALLBACK (online_accounts_changed_cb), self, 0);
  online_accounts_changed_cb (self->online_accounts, 0, 0, 0, self);

  return GTK_WINDOW (self);
}

/* The editor of the account with this id, or NULL when it is gone. */
static GtkWidget *
open_editor_by_id (PopcheckPreferencesWindow *self,
                   const char                *account_id)
{
  g_autoptr(PopcheckAccount) account = find_account (self, account_id);

  if (account == NULL)
    {
      g_warning ("No account with the id %s", account_id);
      return NULL;
    }

  /* What there is to change of an account from Online Accounts is
   * changed in Settings: the page with its switch and button instead. */
  if (popcheck_account_is_external (account))
    {
      adw_preferences_window_set_visible_page_name (ADW_PREFERENCES_WINDOW (self),
                                                    "accounts");
      return NULL;
    }

  return open_editor (self, account);
}

void
popcheck_preferences_window_edit_account (PopcheckPreferencesWindow *self,
                                          const char                *account_id)
{
  g_return_if_fail (POPCHECK_IS_PREFERENCES_WINDOW (self));
  g_return_if_fail (account_id != NULL);

  open_editor_by_id (self, account_id);
}

void
popcheck_preferences_window_add_account (PopcheckPreferencesWindow *self)
{
  g_return_if_fail (POPCHECK_IS_PREFERENCES_WINDOW (self));

  open_editor (self, NULL);
}

void
popcheck_preferences_window_fix_password (PopcheckPreferencesWindow *self,
                                          const char                *account_id,
                                          const char                *problem)
{
  GtkWidget *editor;

  g_return_if_fail (POPCHECK_IS_PREFERENCES_WINDOW (self));
  g_return_if_fail (account_id != NULL);

  editor = open_editor_by_id (self, account_id);
  if (editor != NULL && problem != NULL)
    popcheck_account_editor_show_password_problem (POPCHECK_ACCOUNT_EDITOR (editor),
                                                   problem);
}

void
popcheck_preferences_window_sign_in_again (PopcheckPreferencesWindow *self,
                                           const char                *account_id)
{
  GtkWidget *editor;

  g_return_if_fail (POPCHECK_IS_PREFERENCES_WINDOW (self));
  g_return_if_fail (account_id != NULL);

  editor = open_editor_by_id (self, account_id);
  if (editor != NULL)
    popcheck_account_editor_sign_in_again (POPCHECK_ACCOUNT_EDITOR (editor));
}

void
popcheck_preferences_window_set_uri_launcher (PopcheckPreferencesWindow *self,
                                              PopcheckOAuthUriLauncher   launcher,
                                              gpointer                   user_data)
{
  g_return_if_fail (POPCHECK_IS_PREFERENCES_WINDOW (self));

  self->uri_launcher = launcher;
  self->uri_launcher_data = user_data;
}
