/* popcheck-application-actions.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The application's actions: what the window's buttons, the menus, the
 * keyboard, the tray and the notifications ask for.  The window and the
 * preferences name them in their .ui files and never call into the
 * application; those that work on an account take its id as parameter.
 */

#define G_LOG_DOMAIN "popcheck-application"

#include "config.h"

#include <glib/gi18n.h>

#include "popcheck-account.h"
#include "popcheck-account-list.h"
#include "popcheck-accessible.h"
#include "popcheck-application-private.h"
#include "popcheck-certificate-dialog.h"
#include "popcheck-checker.h"
#include "popcheck-connection-test.h"
#include "popcheck-goa-accounts.h"
#include "popcheck-mailbox.h"
#include "popcheck-message.h"
#include "popcheck-preferences.h"
#include "popcheck-secret.h"
#include "popcheck-window-private.h"

/* The preferences window (there is one at most), over the main window. */
static GtkWindow *
show_preferences (PopcheckApplication *self)
{
  GtkWindow *preferences = NULL;

  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self));
       l != NULL; l = l->next)
    {
      if (POPCHECK_IS_PREFERENCES_WINDOW (l->data))
        preferences = l->data;
    }

  if (preferences == NULL)
    preferences = popcheck_preferences_window_new (GTK_APPLICATION (self), self->accounts);

  gtk_window_set_transient_for (preferences, _popcheck_application_ensure_main_window (self));
  return preferences;
}

/* Actions */

static void
check_now_action (GSimpleAction *action,
                  GVariant      *parameter,
                  gpointer       user_data)
{
  PopcheckApplication *self = user_data;
  GtkWindow *window = _popcheck_application_get_main_window (self);

  /* Ctrl+R or the button, with nothing to check: the window says why. */
  if (window != NULL && gtk_widget_get_visible (GTK_WIDGET (window)))
    popcheck_window_explain_nothing_to_check (POPCHECK_WINDOW (window));
  popcheck_checker_check_now (self->checker, NULL);
}

/* The tray's left click: the main window comes, or goes if it is shown. */
static void
toggle_window_action (GSimpleAction *action,
                      GVariant      *parameter,
                      gpointer       user_data)
{
  PopcheckApplication *self = user_data;
  GtkWindow *window = _popcheck_application_get_main_window (self);

  if (window == NULL || !gtk_widget_get_visible (GTK_WIDGET (window)))
    {
      gtk_window_present (_popcheck_application_ensure_main_window (self));
      return;
    }

  /* In the background the window's own close hides it (and starts the
   * deletes waiting for their undo); otherwise hiding keeps the application
   * alive, so the tray can bring the window back. */
  if (gtk_window_get_hide_on_close (window))
    gtk_window_close (window);
  else
    gtk_widget_set_visible (GTK_WIDGET (window), FALSE);
}

static void
show_window_action (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
  PopcheckApplication *self = user_data;

  gtk_window_present (_popcheck_application_ensure_main_window (self));
}

/* Selects a message in the window's list, if the list shows it (the
 * account filter may hide it, or it may be deleted already). */
static gboolean
select_message (PopcheckWindow *window,
                const char     *account_id,
                const char     *uid)
{
  GtkSelectionModel *selection = popcheck_window_get_selection (window);
  guint n_items = g_list_model_get_n_items (G_LIST_MODEL (selection));

  for (guint i = 0; i < n_items; i++)
    {
      g_autoptr(PopcheckMessage) message = g_list_model_get_item (G_LIST_MODEL (selection), i);

      if (g_strcmp0 (popcheck_message_get_uid (message), uid) != 0 ||
          g_strcmp0 (popcheck_window_get_message_account_id (window, message),
                     account_id) != 0)
        continue;

      gtk_selection_model_select_item (selection, i, TRUE);
      /* GTK 4.8 has no gtk_list_view_scroll_to(); the list's own action
       * brings the row into view. */
      gtk_widget_activate_action (GTK_WIDGET (popcheck_window_get_list_view (window)),
                                  "list.scroll-to-item", "u", i);
      return TRUE;
    }

  return FALSE;
}

/* From a notification or the tray: the window, with that message
 * selected ("" for none: the account's line in the tray, which shows that
 * account's messages). */
static void
show_message_action (GSimpleAction *action,
                     GVariant      *parameter,
                     gpointer       user_data)
{
  PopcheckApplication *self = user_data;
  const char *account_id = NULL;
  const char *uid = NULL;
  GtkWindow *window;

  g_variant_get (parameter, "(&s&s)", &account_id, &uid);

  window = _popcheck_application_ensure_main_window (self);
  gtk_window_present (window);

  if (*uid == '\0')
    {
      popcheck_window_show_account (POPCHECK_WINDOW (window), account_id);
      return;
    }

  /* A search may hide the message asked for. */
  popcheck_window_stop_search (POPCHECK_WINDOW (window));
  if (select_message (POPCHECK_WINDOW (window), account_id, uid))
    popcheck_window_show_preview (POPCHECK_WINDOW (window));
  else
    g_debug ("Message %s of %s is not in the list", uid, account_id);
}

static void
preferences_action (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
  PopcheckApplication *self = user_data;

  gtk_window_present (show_preferences (self));
}

static void
shortcuts_action (GSimpleAction *action,
                  GVariant      *parameter,
                  gpointer       user_data)
{
  PopcheckApplication *self = user_data;

  /* The main window owns the shortcuts window as its help overlay: only
   * so does it find the keys bound to each action. */
  gtk_widget_activate_action (
    GTK_WIDGET (_popcheck_application_ensure_main_window (self)),
    "win.show-help-overlay", NULL);
}

static void
about_action (GSimpleAction *action,
              GVariant      *parameter,
              gpointer       user_data)
{
  PopcheckApplication *self = user_data;
  static const char *developers[] = { "The PopCheck developers", NULL };
  GtkWidget *about;

  about = g_object_new (ADW_TYPE_ABOUT_WINDOW,
                        "transient-for", _popcheck_application_ensure_main_window (self),
                        "application-icon", APPLICATION_ID,
                        "application-name", _("PopCheck"),
                        "developer-name", _("The PopCheck developers"),
                        "version", PACKAGE_VERSION,
                        "comments", _("See the mail waiting on your POP3 servers, "
                                      "preview it without marking it read, and "
                                      "delete what you don’t want."),
                        "website", "https://example.org/popcheck",
                        "issue-url", "https://example.org/popcheck/issues",
                        "copyright", "© 2026 The PopCheck developers",
                        "license-type", GTK_LICENSE_GPL_3_0,
                        "developers", developers,
                        /* Translators: your names, one a line */
                        "translator-credits", _("translator-credits"),
                        NULL);
  gtk_window_present (GTK_WINDOW (about));
}

static void
quit_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  PopcheckApplication *self = user_data;
  GList *windows;

  self->quitting = TRUE;

  /* Destroying the windows first lets a pending delete start (and hold the
   * application until it finishes) instead of being lost. */
  while ((windows = gtk_application_get_windows (GTK_APPLICATION (self))) != NULL)
    gtk_window_destroy (windows->data);

  if (self->background_hold)
    {
      self->background_hold = FALSE;
      g_application_release (G_APPLICATION (self));
    }
}

/* Accounts and their problems */

/* The welcome page's "Add Account…". */
static void
add_account_action (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
  PopcheckApplication *self = user_data;
  GtkWindow *preferences;

  preferences = show_preferences (self);
  gtk_window_present (preferences);
  popcheck_preferences_window_add_account (POPCHECK_PREFERENCES_WINDOW (preferences));
}

typedef struct
{
  PopcheckApplication    *self;
  GtkWindow              *parent;
  PopcheckAccount        *account;
  PopcheckConnectionTest *test;
} ReviewCertificate;

static void
review_certificate_free (ReviewCertificate *review)
{
  g_clear_object (&review->self);
  g_clear_weak_pointer (&review->parent);
  g_clear_object (&review->account);
  g_clear_object (&review->test);
  g_free (review);
}

static void
certificate_trusted_cb (GtkWidget           *dialog,
                        const char          *fingerprint,
                        PopcheckApplication *self)
{
  /* The dialog pinned the fingerprint on the account; check again now. */
  popcheck_checker_check_now (self->checker, NULL);
}

static void
review_tested_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  ReviewCertificate *review = user_data;
  const Pop3TlsInfo *info;
  g_autoptr(GError) error = NULL;
  GtkWindow *dialog;

  popcheck_connection_test_run_finish (review->test, result, &error);
  info = popcheck_connection_test_get_tls_info (review->test);

  if (info != NULL && error != NULL &&
      (g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE) ||
       info->errors != 0))
    {
      dialog = popcheck_certificate_dialog_new (review->parent, review->account, info,
                                                popcheck_account_get_pinned_fingerprint (review->account));
      g_signal_connect_object (dialog, "trusted", G_CALLBACK (certificate_trusted_cb),
                               review->self, 0);
      gtk_window_present (dialog);
    }
  else if (error != NULL)
    {
      g_autofree char *text = popcheck_connection_test_describe_error (error);
      GtkWidget *message = adw_message_dialog_new (review->parent,
                                                   _("The Server Could Not Be Reached"),
                                                   text);

      adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (message), "close", _("_Close"));
      popcheck_accessible_fix_mnemonic_buttons (GTK_WIDGET (message));
      gtk_window_present (GTK_WINDOW (message));
    }
  else
    {
      /* The certificate is fine now: check again. */
      popcheck_checker_check_now (review->self->checker,
                                  popcheck_account_get_id (review->account));
    }

  review_certificate_free (review);
}

static void
review_password_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  ReviewCertificate *review = user_data;
  PopcheckAccount *account = review->account;
  char *password;

  /* The certificate is looked at before any login; without a stored
   * password the test still gets that far.  The password is in
   * libsecret's secure memory: secret_password_free(), not g_free(). */
  password = popcheck_secret_lookup_finish (result, NULL);
  review->test = popcheck_connection_test_new (popcheck_account_get_host (account),
                                               popcheck_account_get_port (account),
                                               popcheck_account_get_security (account),
                                               popcheck_account_get_user (account),
                                               password != NULL ? password : "",
                                               popcheck_account_get_auth_method (account));
  g_clear_pointer (&password, secret_password_free);
  if (popcheck_account_get_pinned_fingerprint (account) != NULL)
    popcheck_connection_test_set_pinned_fingerprint (review->test,
                                                     popcheck_account_get_pinned_fingerprint (account));
  popcheck_connection_test_run_async (review->test, NULL, review_tested_cb, review);
}

/* An account's error state leads to what fixes it: its password in the
 * account editor, the certificate dialog, or another check. */
static void
fix_account_action (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
  PopcheckApplication *self = user_data;
  const char *account_id = g_variant_get_string (parameter, NULL);
  PopcheckMailbox *mailbox;
  PopcheckAccount *account;
  GtkWindow *preferences;
  ReviewCertificate *review;

  mailbox = popcheck_checker_get_mailbox (self->checker, account_id);
  account = popcheck_account_list_lookup (self->accounts, account_id);
  if (mailbox == NULL || account == NULL)
    return;

  switch (popcheck_mailbox_get_problem (mailbox))
    {
    case POPCHECK_PROBLEM_AUTH:
    case POPCHECK_PROBLEM_SECRET:
      preferences = show_preferences (self);
      gtk_window_present (preferences);
      popcheck_preferences_window_fix_password (POPCHECK_PREFERENCES_WINDOW (preferences),
                                                account_id,
                                                popcheck_mailbox_get_error_message (mailbox));
      break;

    case POPCHECK_PROBLEM_SIGN_IN:
      g_action_group_activate_action (G_ACTION_GROUP (self), "sign-in-again",
                                      parameter);
      break;

    case POPCHECK_PROBLEM_CERTIFICATE:
      review = g_new0 (ReviewCertificate, 1);
      review->self = g_object_ref (self);
      g_set_weak_pointer (&review->parent, _popcheck_application_ensure_main_window (self));
      review->account = g_object_ref (account);
      popcheck_secret_lookup_async (popcheck_account_get_id (account),
                                    POPCHECK_SECRET_KIND_PASSWORD,
                                    popcheck_account_get_host (account),
                                    popcheck_account_get_port (account),
                                    popcheck_account_get_user (account),
                                    NULL, review_password_cb, review);
      break;

    case POPCHECK_PROBLEM_NONE:
    case POPCHECK_PROBLEM_TEMPORARY:
    case POPCHECK_PROBLEM_BUSY:
    case POPCHECK_PROBLEM_PERMANENT:
    default:
      popcheck_checker_check_now (self->checker, account_id);
      break;
    }
}

/* An account whose OAuth2 sign-in is no longer taken: its editor, with
 * the browser sign-in started; saving it checks the account again.  An
 * account from Online Accounts signs in again in Settings, where its
 * sign-in lives: the preferences open Settings at it (and say so when
 * they cannot). */
static void
sign_in_again_action (GSimpleAction *action,
                      GVariant      *parameter,
                      gpointer       user_data)
{
  PopcheckApplication *self = user_data;
  const char *account_id = g_variant_get_string (parameter, NULL);
  PopcheckAccount *account;
  g_autofree char *provider = NULL;
  g_autofree char *goa_id = NULL;
  GtkWindow *preferences;

  account = popcheck_account_list_lookup (self->accounts, account_id);
  if (account == NULL)
    return;
  provider = popcheck_account_dup_oauth2_provider (account);
  goa_id = popcheck_goa_accounts_dup_goa_id (account);
  if (provider == NULL && goa_id == NULL)
    return;

  preferences = show_preferences (self);
  gtk_window_present (preferences);
  if (goa_id != NULL)
    gtk_widget_activate_action (GTK_WIDGET (preferences),
                                "prefs.open-online-accounts", "s", account_id);
  else
    popcheck_preferences_window_sign_in_again (POPCHECK_PREFERENCES_WINDOW (preferences),
                                               account_id);
}

/* One account now: its "Try Again", or one just saved in the
 * preferences (the checker would wait its interval before it). */
static void
check_account_action (GSimpleAction *action,
                      GVariant      *parameter,
                      gpointer       user_data)
{
  PopcheckApplication *self = user_data;

  popcheck_checker_check_now (self->checker, g_variant_get_string (parameter, NULL));
}

/* The demo mailbox */

static void
demo_started_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(PopcheckApplication) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  GtkWindow *window;

  if (popcheck_demo_start_finish (POPCHECK_DEMO (object), result, &error))
    {
      /* The checker would wait an interval before its first look at the
       * new account; the user asked to see the demo mailbox now. */
      popcheck_checker_check_now (self->checker, NULL);
      return;
    }

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  /* Where the user asked for it; a window closed meanwhile hears nothing. */
  window = _popcheck_application_get_main_window (self);
  text = g_strdup_printf (_("The demo mailbox did not start: %s"), error->message);
  if (window != NULL)
    popcheck_window_show_error (POPCHECK_WINDOW (window), text);
  else
    g_message ("%s", text);
}

/* "Try the Demo Mailbox": disabled while the server starts (see
 * _popcheck_application_actions_init()). */
static void
try_demo_action (GSimpleAction *action,
                 GVariant      *parameter,
                 gpointer       user_data)
{
  PopcheckApplication *self = user_data;

  popcheck_demo_start_async (self->demo, self->cancellable, demo_started_cb,
                             g_object_ref (self));
}

/* "(sas)": an account and UIDs, from a notification's "Mark as Seen". */
static void
mark_seen_action (GSimpleAction *action,
                  GVariant      *parameter,
                  gpointer       user_data)
{
  PopcheckApplication *self = user_data;
  g_autofree const char **uids = NULL;
  const char *account_id;

  g_variant_get (parameter, "(&s^a&s)", &account_id, &uids);
  popcheck_checker_mark_seen (self->checker, account_id, uids);
}

/* Every message of one account: `popcheck-cli --account NAME mark-seen
 * --all` while PopCheck runs. */
static void
mark_account_seen_action (GSimpleAction *action,
                          GVariant      *parameter,
                          gpointer       user_data)
{
  PopcheckApplication *self = user_data;

  popcheck_checker_mark_seen (self->checker, g_variant_get_string (parameter, NULL), NULL);
}

/* Every account's messages: the tray's "Mark All as Seen". */
static void
mark_all_seen_action (GSimpleAction *action,
                      GVariant      *parameter,
                      gpointer       user_data)
{
  PopcheckApplication *self = user_data;

  popcheck_checker_mark_seen (self->checker, NULL, NULL);
}

/* The tray's "Mute for 1 Hour" and "Unmute": the setting follows, so a
 * restart keeps the mute. */
static void
mute_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  PopcheckApplication *self = user_data;

  popcheck_mute_mute_for (self->mute, 60 * 60);
}

static void
unmute_action (GSimpleAction *action,
               GVariant      *parameter,
               gpointer       user_data)
{
  PopcheckApplication *self = user_data;

  popcheck_mute_unmute (self->mute);
}

static void
mail_client_launched_cb (GObject      *object,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  g_autoptr(PopcheckApplication) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  GtkWindow *window;

  if (popcheck_mail_client_launch_finish (POPCHECK_MAIL_CLIENT (object), result, &error) ||
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  /* From a notification the window may be closed: it comes, to say why. */
  window = _popcheck_application_ensure_main_window (self);
  gtk_window_present (window);
  text = g_strdup_printf (_("The mail program did not start: %s"), error->message);
  popcheck_window_show_error (POPCHECK_WINDOW (window), text);
}

/* The window's menu and the notifications: the desktop's mail program,
 * for mail PopCheck only shows.  Disabled while there is none. */
static void
open_mail_client_action (GSimpleAction *action,
                         GVariant      *parameter,
                         gpointer       user_data)
{
  PopcheckApplication *self = user_data;
  g_autoptr(GdkAppLaunchContext) context = NULL;

  context = gdk_display_get_app_launch_context (gdk_display_get_default ());
  popcheck_mail_client_launch_async (self->mail_client, G_APP_LAUNCH_CONTEXT (context),
                                     self->cancellable, mail_client_launched_cb,
                                     g_object_ref (self));
}

static void
n_new_changed_cb (PopcheckChecker     *checker,
                  GParamSpec          *pspec,
                  PopcheckApplication *self)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), "mark-all-seen");

  g_simple_action_set_enabled (G_SIMPLE_ACTION (action),
                               popcheck_checker_get_n_new (checker) > 0);
}

void
_popcheck_application_actions_init (PopcheckApplication *self)
{
  static const GActionEntry actions[] = {
    { "check-now", check_now_action },
    { "check-account", check_account_action, "s" },
    { "toggle-window", toggle_window_action },
    { "show-window", show_window_action },
    { "show-message", show_message_action, "(ss)" },
    { "preferences", preferences_action },
    { "add-account", add_account_action },
    { "fix-account", fix_account_action, "s" },
    { "sign-in-again", sign_in_again_action, "s" },
    { "try-demo", try_demo_action },
    { "mark-seen", mark_seen_action, "(sas)" },
    { "mark-account-seen", mark_account_seen_action, "s" },
    { "mark-all-seen", mark_all_seen_action },
    { "mute", mute_action },
    { "unmute", unmute_action },
    { "open-mail-client", open_mail_client_action },
    { "shortcuts", shortcuts_action },
    { "about", about_action },
    { "quit", quit_action },
  };
  static const struct {
    const char *action;
    const char *accels[3];
  } accels[] = {
    { "app.check-now", { "<Control>r", "F5", NULL } },
    { "app.preferences", { "<Control>comma", NULL } },
    { "app.shortcuts", { "<Control>question", NULL } },
    { "app.quit", { "<Control>q", NULL } },
    { "win.delete", { "Delete", "KP_Delete", NULL } },
    { "win.undo-delete", { "<Control>z", NULL } },
    { "win.mark-seen", { "<Control>k", NULL } },
    { "win.mark-all-seen", { "<Shift><Control>k", NULL } },
    { "win.search", { "<Control>f", NULL } },
    { "win.filter-accounts", { "<Shift><Control>f", NULL } },
    { "win.load-more", { "<Control>m", NULL } },
    { "win.show-whole-message", { "<Control>u", NULL } },
    { "window.close", { "<Control>w", NULL } },
  };
  GAction *try_demo;
  GAction *action;

  g_assert (POPCHECK_IS_APPLICATION (self));
  g_assert (POPCHECK_IS_DEMO (self->demo));

  g_action_map_add_action_entries (G_ACTION_MAP (self), actions,
                                   G_N_ELEMENTS (actions), self);
  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (self),
                                           accels[i].action,
                                           accels[i].accels);

  g_signal_connect_object (self->checker, "notify::n-new",
                           G_CALLBACK (n_new_changed_cb), self, 0);
  n_new_changed_cb (self->checker, NULL, self);

  action = g_action_map_lookup_action (G_ACTION_MAP (self), "open-mail-client");
  g_object_bind_property (self->mail_client, "available", action, "enabled",
                          G_BINDING_SYNC_CREATE);
  action = g_action_map_lookup_action (G_ACTION_MAP (self), "unmute");
  g_object_bind_property (self->mute, "muted", action, "enabled",
                          G_BINDING_SYNC_CREATE);

  /* One start at a time; the button shows a spinner meanwhile. */
  try_demo = g_action_map_lookup_action (G_ACTION_MAP (self), "try-demo");
  g_object_bind_property (self->demo, "starting", try_demo, "enabled",
                          G_BINDING_SYNC_CREATE | G_BINDING_INVERT_BOOLEAN);
}
