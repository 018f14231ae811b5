/* popcheck-application.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One instance runs per session: a second launch presents its window, and
 * `popcheck --check` activates its "check-now" action over D-Bus.  The
 * application owns the accounts and the checker; windows only show them.
 * The tray, the notifier and the resume monitor observe the checker and
 * command the application through its actions, the same ones the window
 * and the keyboard use.
 */

#define G_LOG_DOMAIN "popcheck-application"

#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <glib-unix.h>
#include <signal.h>

#include "popcheck-account.h"
#include "popcheck-account-list.h"
#include "popcheck-application.h"
#include "popcheck-autostart.h"
#include "popcheck-certificate-dialog.h"
#include "popcheck-checker.h"
#include "popcheck-connection-test.h"
#include "popcheck-mailbox.h"
#include "popcheck-message.h"
#include "popcheck-notifier.h"
#include "popcheck-preferences.h"
#include "popcheck-resume-monitor.h"
#include "popcheck-secret.h"
#include "popcheck-tray.h"
#include "popcheck-window-private.h"

struct _PopcheckApplication
{
  AdwApplication       parent_instance;

  PopcheckAccountList   *accounts;
  PopcheckChecker       *checker;
  GSettings             *settings;

  /* Desktop integration. */
  PopcheckNotifier      *notifier;
  PopcheckTray          *tray;
  PopcheckResumeMonitor *resume_monitor;
  /* Cancelled at shutdown: the autostart entry's reads and writes. */
  GCancellable          *cancellable;
  /* Changes of "start-at-login" since startup; the entry found on disk
   * only wins over the setting when the user changed nothing meanwhile. */
  guint                  start_at_login_changes;
  /* One write of the entry at a time: two in the worker pool could end
   * in either order, leaving the entry the opposite of the setting. */
  gboolean               autostart_busy;
  gboolean               autostart_writing;

  /* The demo server's directory and account while one runs. */
  char                *demo_dir;
  char                *demo_account_id;

  guint                background_hold : 1;
  guint                quit_signalled : 1;
  guint                start_hidden : 1;
};

G_DEFINE_FINAL_TYPE (PopcheckApplication, popcheck_application,
                     ADW_TYPE_APPLICATION)

static const GOptionEntry option_entries[] = {
  { "check", 'c', G_OPTION_FLAG_NONE, G_OPTION_ARG_NONE, NULL,
    N_("Check all accounts now (in the running PopCheck, or once and exit)"),
    NULL },
  { "background", 'b', G_OPTION_FLAG_NONE, G_OPTION_ARG_NONE, NULL,
    N_("Start without a window, checking in the background (as at login)"), NULL },
  { "version", 'v', G_OPTION_FLAG_NONE, G_OPTION_ARG_NONE, NULL,
    N_("Show the version and exit"), NULL },
  { NULL }
};

static void
update_background_hold (PopcheckApplication *self)
{
  gboolean wanted = popcheck_application_get_run_in_background (self);

  if (wanted == self->background_hold)
    return;

  self->background_hold = wanted;
  if (wanted)
    g_application_hold (G_APPLICATION (self));
  else
    g_application_release (G_APPLICATION (self));
}

static void
run_in_background_changed_cb (GSettings           *settings,
                              const char          *key,
                              PopcheckApplication *self)
{
  update_background_hold (self);
}

static GtkWindow *
get_main_window (PopcheckApplication *self)
{
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self));
       l != NULL; l = l->next)
    {
      if (POPCHECK_IS_WINDOW (l->data))
        return l->data;
    }

  return NULL;
}

static GtkWindow *
ensure_main_window (PopcheckApplication *self)
{
  GtkWindow *window = get_main_window (self);

  if (window == NULL)
    window = GTK_WINDOW (popcheck_window_new (self));

  return window;
}

static GtkWindow *
show_preferences (PopcheckApplication *self,
                  GtkWindow           *parent)
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

  gtk_window_set_transient_for (preferences,
                                parent != NULL ? parent : ensure_main_window (self));
  return preferences;
}

/* Actions */

static void
check_now_action (GSimpleAction *action,
                  GVariant      *parameter,
                  gpointer       user_data)
{
  PopcheckApplication *self = user_data;

  popcheck_checker_check_now (self->checker, NULL);
}

/* The tray's left click: the main window comes, or goes if it is shown. */
static void
toggle_window_action (GSimpleAction *action,
                      GVariant      *parameter,
                      gpointer       user_data)
{
  PopcheckApplication *self = user_data;
  GtkWindow *window = get_main_window (self);

  if (window == NULL || !gtk_widget_get_visible (GTK_WIDGET (window)))
    {
      gtk_window_present (ensure_main_window (self));
      return;
    }

  /* In the background the window's own close hides it (and starts the
   * deletes waiting for their undo); otherwise hiding keeps the application
   * alive, so the tray can bring the window back. */
  if (popcheck_application_get_run_in_background (self))
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

  gtk_window_present (ensure_main_window (self));
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

  window = ensure_main_window (self);
  gtk_window_present (window);

  if (*uid == '\0')
    popcheck_window_show_account (POPCHECK_WINDOW (window), account_id);
  else if (!select_message (POPCHECK_WINDOW (window), account_id, uid))
    g_debug ("Message %s of %s is not in the list", uid, account_id);
}

static void
preferences_action (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
  PopcheckApplication *self = user_data;

  gtk_window_present (show_preferences (self, NULL));
}

static void
shortcuts_action (GSimpleAction *action,
                  GVariant      *parameter,
                  gpointer       user_data)
{
  PopcheckApplication *self = user_data;
  g_autoptr(GtkBuilder) builder = NULL;
  GtkWindow *shortcuts;

  builder = gtk_builder_new_from_resource ("/org/example/PopCheck/popcheck-shortcuts-window.ui");
  shortcuts = GTK_WINDOW (gtk_builder_get_object (builder, "shortcuts_window"));
  gtk_window_set_transient_for (shortcuts, ensure_main_window (self));
  gtk_window_present (shortcuts);
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
                        "transient-for", ensure_main_window (self),
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

static const GActionEntry app_actions[] = {
  { "check-now", check_now_action },
  { "toggle-window", toggle_window_action },
  { "show-window", show_window_action },
  { "show-message", show_message_action, "(ss)" },
  { "preferences", preferences_action },
  { "shortcuts", shortcuts_action },
  { "about", about_action },
  { "quit", quit_action },
};

/* `popcheck --check`.  It runs before GTK is initialized (registering
 * the application would run startup, which needs a display), so it also
 * works from a terminal without one, from cron or over ssh.  It blocks:
 * there is no main loop to keep yet. */

/* Asks a running PopCheck to check now.  FALSE with no error: none runs. */
static gboolean
ask_running_instance (GError **error)
{
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) activated = NULL;
  g_autofree char *object_path = NULL;
  gboolean running = FALSE;

  /* No session bus: nothing can be running in it. */
  bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, NULL);
  if (bus == NULL)
    return FALSE;

  reply = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus",
                                       "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "NameHasOwner",
                                       g_variant_new ("(s)", APPLICATION_ID),
                                       G_VARIANT_TYPE ("(b)"),
                                       G_DBUS_CALL_FLAGS_NONE, -1, NULL, error);
  if (reply == NULL)
    return FALSE;
  g_variant_get (reply, "(b)", &running);
  if (!running)
    return FALSE;

  /* GApplication's object path: the id with dots as slashes. */
  object_path = g_strdelimit (g_strconcat ("/", APPLICATION_ID, NULL), ".", '/');
  activated = g_dbus_connection_call_sync (bus, APPLICATION_ID, object_path,
                                           "org.gtk.Actions", "Activate",
                                           g_variant_new_parsed ("('check-now', @av [], @a{sv} {})"),
                                           NULL, G_DBUS_CALL_FLAGS_NONE, -1,
                                           NULL, error);
  return activated != NULL;
}

typedef struct
{
  PopcheckChecker *checker;
  GMainLoop       *loop;
  guint            pending;
  gboolean         failed;
} CheckOnce;

static void
check_once_checked_cb (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  CheckOnce *once = user_data;
  g_autoptr(GError) error = NULL;

  if (!popcheck_checker_check_finish (once->checker, result, &error))
    {
      g_printerr ("%s\n", error->message);
      once->failed = TRUE;
    }

  if (--once->pending == 0)
    g_main_loop_quit (once->loop);
}

static void
check_once_saved_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  CheckOnce *once = user_data;
  g_autoptr(GError) error = NULL;

  if (!popcheck_mailbox_save_finish (POPCHECK_MAILBOX (object), result, &error))
    {
      g_printerr ("%s\n", error->message);
      once->failed = TRUE;
    }

  if (--once->pending == 0)
    g_main_loop_quit (once->loop);
}

/* Checks every account once, prints how much new mail there is, and
 * fails when a check did. */
static int
check_once (void)
{
  g_autoptr(PopcheckAccountList) accounts = popcheck_account_list_new ();
  g_autoptr(PopcheckChecker) checker = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  guint n_accounts = g_list_model_get_n_items (G_LIST_MODEL (accounts));
  GListModel *mailboxes;
  CheckOnce once = { 0 };
  guint n_new;

  if (n_accounts == 0)
    {
      g_printerr ("%s\n", _("There is no account to check."));
      return EXIT_FAILURE;
    }

  checker = popcheck_checker_new (accounts);
  loop = g_main_loop_new (NULL, FALSE);
  once.checker = checker;
  once.loop = loop;

  /* As the running PopCheck would: turned-off accounts, and one still
   * without a server, are left alone. */
  for (guint i = 0; i < n_accounts; i++)
    {
      g_autoptr(PopcheckAccount) account = g_list_model_get_item (G_LIST_MODEL (accounts), i);

      if (!popcheck_account_get_enabled (account) ||
          *popcheck_account_get_host (account) == '\0')
        continue;
      once.pending++;
      popcheck_checker_check_async (checker, popcheck_account_get_id (account),
                                    NULL, check_once_checked_cb, &once);
    }
  if (once.pending > 0)
    g_main_loop_run (loop);

  /* What this check saw counts as seen: a PopCheck started later must not
   * announce it again, so the state is on disk before the process ends. */
  mailboxes = popcheck_checker_get_mailboxes (checker);
  once.pending = g_list_model_get_n_items (mailboxes);
  for (guint i = 0; i < g_list_model_get_n_items (mailboxes); i++)
    {
      g_autoptr(PopcheckMailbox) mailbox = g_list_model_get_item (mailboxes, i);

      popcheck_mailbox_save_async (mailbox, NULL, check_once_saved_cb, &once);
    }
  if (once.pending > 0)
    g_main_loop_run (loop);

  n_new = popcheck_checker_get_n_new (checker);
  g_print (g_dngettext (GETTEXT_PACKAGE, "%u new message\n",
                        "%u new messages\n", n_new), n_new);

  return once.failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* Desktop integration */

static void
resumed_cb (PopcheckResumeMonitor *monitor,
            PopcheckApplication   *self)
{
  g_debug ("Resumed from sleep: checking every account");
  popcheck_checker_check_now (self->checker, NULL);
}

static void write_autostart (PopcheckApplication *self);

static void
autostart_written_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(PopcheckApplication) self = user_data;
  g_autoptr(GError) error = NULL;

  self->autostart_busy = FALSE;
  if (!popcheck_autostart_set_enabled_finish (result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      /* Not a warning: a read-only configuration directory is the user's
       * choice, and PopCheck runs on. */
      g_message ("Start at login: %s", error->message);
    }

  /* Changed again while this was written. */
  if (self->settings != NULL &&
      g_settings_get_boolean (self->settings, "start-at-login") != self->autostart_writing)
    write_autostart (self);
}

/* Makes the entry what the setting says. */
static void
write_autostart (PopcheckApplication *self)
{
  if (self->autostart_busy)
    return;

  self->autostart_busy = TRUE;
  self->autostart_writing = g_settings_get_boolean (self->settings, "start-at-login");
  popcheck_autostart_set_enabled_async (self->autostart_writing, self->cancellable,
                                        autostart_written_cb, g_object_ref (self));
}

static void
start_at_login_changed_cb (GSettings           *settings,
                           const char          *key,
                           PopcheckApplication *self)
{
  self->start_at_login_changes++;
  write_autostart (self);
}

static void
read_autostart_thread (GTask        *task,
                       gpointer      source_object,
                       gpointer      task_data,
                       GCancellable *cancellable)
{
  g_task_return_boolean (task, popcheck_autostart_is_enabled ());
}

static void
autostart_read_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  PopcheckApplication *self = POPCHECK_APPLICATION (object);
  guint changes_before = GPOINTER_TO_UINT (user_data);
  g_autoptr(GError) error = NULL;
  gboolean enabled;

  enabled = g_task_propagate_boolean (G_TASK (result), &error);
  if (error != NULL || self->settings == NULL ||
      self->start_at_login_changes != changes_before)
    return;

  /* The entry is what the session really starts: removed or disabled in
   * the desktop's own settings, "Start at login" shows it off. */
  if (enabled != g_settings_get_boolean (self->settings, "start-at-login"))
    g_settings_set_boolean (self->settings, "start-at-login", enabled);
}

/* Reads the entry in a thread: it is a file, and the main loop never
 * waits for the disk. */
static void
read_autostart (PopcheckApplication *self)
{
  g_autoptr(GTask) task = NULL;

  task = g_task_new (self, self->cancellable, autostart_read_cb,
                     GUINT_TO_POINTER (self->start_at_login_changes));
  g_task_set_source_tag (task, read_autostart);
  g_task_run_in_thread (task, read_autostart_thread);
}

/* GApplication */

static int
popcheck_application_handle_local_options (GApplication *app,
                                           GVariantDict *options)
{
  PopcheckApplication *self = POPCHECK_APPLICATION (app);
  g_autoptr(GError) error = NULL;

  if (g_variant_dict_contains (options, "version"))
    {
      g_print ("popcheck %s\n", PACKAGE_VERSION);
      return EXIT_SUCCESS;
    }

  if (g_variant_dict_contains (options, "check"))
    {
      /* Never a window for this, and never the scheduled checker. */
      if (ask_running_instance (&error))
        return EXIT_SUCCESS;
      if (error != NULL)
        {
          g_printerr ("%s\n", error->message);
          return EXIT_FAILURE;
        }
      return check_once ();
    }

  if (!g_variant_dict_contains (options, "background"))
    return -1;

  /* A running PopCheck stays as it is: --background opens no window. */
  if (!g_application_register (app, NULL, &error))
    {
      g_printerr ("%s\n", error->message);
      return EXIT_FAILURE;
    }
  if (g_application_get_is_remote (app))
    return EXIT_SUCCESS;

  self->start_hidden = TRUE;
  return -1;
}

/* The session ending (SIGTERM), or Ctrl+C in a terminal: quit as from the
 * menu, so that deletes already confirmed run and what was marked seen is
 * saved.  A second signal ends PopCheck without waiting for them. */
static gboolean
quit_signal_cb (gpointer user_data)
{
  PopcheckApplication *self = user_data;

  if (self->quit_signalled)
    g_application_quit (G_APPLICATION (self));
  self->quit_signalled = TRUE;
  g_action_group_activate_action (G_ACTION_GROUP (self), "quit", NULL);

  return G_SOURCE_CONTINUE;
}

static void
popcheck_application_startup (GApplication *app)
{
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
    { "win.filter-accounts", { "<Control>f", NULL } },
    { "window.close", { "<Control>w", NULL } },
  };
  PopcheckApplication *self = POPCHECK_APPLICATION (app);

  G_APPLICATION_CLASS (popcheck_application_parent_class)->startup (app);

  gtk_window_set_default_icon_name (APPLICATION_ID);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions,
                                   G_N_ELEMENTS (app_actions), self);
  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (self),
                                           accels[i].action,
                                           accels[i].accels);

  self->settings = g_settings_new (APPLICATION_ID);
  g_signal_connect_object (self->settings, "changed::run-in-background",
                           G_CALLBACK (run_in_background_changed_cb), self, 0);

  self->accounts = popcheck_account_list_new ();
  self->checker = popcheck_checker_new (self->accounts);

  self->notifier = popcheck_notifier_new (G_ACTION_GROUP (self), self->checker);
  g_settings_bind (self->settings, "notify-new-mail",
                   self->notifier, "notify-new-mail", G_SETTINGS_BIND_GET);
  g_settings_bind (self->settings, "notify-errors",
                   self->notifier, "notify-errors", G_SETTINGS_BIND_GET);

  self->tray = popcheck_tray_new (G_ACTION_GROUP (self),
                                  popcheck_checker_get_mailboxes (self->checker));

  /* Waking from sleep, every account's timer may be far off and its
   * connections are dead: check at once.  The network coming back is the
   * checker's own business (it checks the accounts it found offline). */
  self->resume_monitor = popcheck_resume_monitor_new ();
  g_signal_connect_object (self->resume_monitor, "resumed",
                           G_CALLBACK (resumed_cb), self, 0);

  g_signal_connect_object (self->settings, "changed::start-at-login",
                           G_CALLBACK (start_at_login_changed_cb), self, 0);
  read_autostart (self);

  g_unix_signal_add (SIGTERM, quit_signal_cb, self);
  g_unix_signal_add (SIGINT, quit_signal_cb, self);
  g_unix_signal_add (SIGHUP, quit_signal_cb, self);

  popcheck_checker_start (self->checker);
  update_background_hold (self);
}

static void
popcheck_application_activate (GApplication *app)
{
  PopcheckApplication *self = POPCHECK_APPLICATION (app);

  if (self->start_hidden)
    {
      /* Started at login: check in the background, show no window until
       * the user asks for one. */
      self->start_hidden = FALSE;
      if (!self->background_hold)
        {
          self->background_hold = TRUE;
          g_application_hold (app);
        }
      return;
    }

  gtk_window_present (ensure_main_window (self));
}

static void demo_stop (PopcheckApplication *self);

static gboolean
saves_timeout_cb (gpointer user_data)
{
  gboolean *timed_out = user_data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

/* What the user marked seen is written at quit; a disk that hangs does not
 * keep PopCheck from ending. */
static void
wait_for_saves (PopcheckChecker *checker)
{
  gboolean timed_out = FALSE;
  guint timeout_id;

  timeout_id = g_timeout_add_seconds (5, saves_timeout_cb, &timed_out);
  while (popcheck_checker_is_saving (checker) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (timeout_id);
}

static void
popcheck_application_shutdown (GApplication *app)
{
  PopcheckApplication *self = POPCHECK_APPLICATION (app);

  g_cancellable_cancel (self->cancellable);
  /* They hold the application as their action group: let go of them
   * before it goes. */
  g_clear_object (&self->tray);
  /* Its capability queries hold it: dispose cancels them, so that no
   * notification goes out after Quit. */
  if (self->notifier != NULL)
    g_object_run_dispose (G_OBJECT (self->notifier));
  g_clear_object (&self->notifier);
  g_clear_object (&self->resume_monitor);
  if (self->checker != NULL)
    {
      popcheck_checker_stop (self->checker);
      wait_for_saves (self->checker);
    }
  demo_stop (self);

  G_APPLICATION_CLASS (popcheck_application_parent_class)->shutdown (app);
}

static void
popcheck_application_dispose (GObject *object)
{
  PopcheckApplication *self = POPCHECK_APPLICATION (object);

  g_clear_object (&self->tray);
  g_clear_object (&self->notifier);
  g_clear_object (&self->resume_monitor);
  g_clear_object (&self->checker);
  g_clear_object (&self->accounts);
  g_clear_object (&self->settings);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->demo_dir, g_free);

  G_OBJECT_CLASS (popcheck_application_parent_class)->dispose (object);
}

static void
popcheck_application_class_init (PopcheckApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = popcheck_application_dispose;

  app_class->handle_local_options = popcheck_application_handle_local_options;
  app_class->startup = popcheck_application_startup;
  app_class->activate = popcheck_application_activate;
  app_class->shutdown = popcheck_application_shutdown;
}

static void
popcheck_application_init (PopcheckApplication *self)
{
  self->cancellable = g_cancellable_new ();
  g_application_add_main_option_entries (G_APPLICATION (self), option_entries);
  g_application_set_option_context_summary (G_APPLICATION (self),
                                            _("See the mail waiting on your POP3 servers."));
  g_application_set_option_context_description (G_APPLICATION (self),
                                                _("Without options, PopCheck opens its window, or presents it if "
                                                  "PopCheck runs already.\n"
                                                  "\n"
                                                  "With “Run in background” on (the default), closing the window "
                                                  "leaves PopCheck checking and showing new mail in notifications "
                                                  "and the tray; Quit, in the window’s menu or the tray, ends it.\n"
                                                  "\n"
                                                  "--check asks the running PopCheck to check every account now. "
                                                  "With none running, it checks every account once (no display needed), "
                                                  "prints how many new messages it found and exits, with status 1 "
                                                  "if a check failed."));
}

PopcheckApplication *
popcheck_application_new (void)
{
  return g_object_new (POPCHECK_TYPE_APPLICATION,
                       "application-id", APPLICATION_ID,
                       "flags", G_APPLICATION_DEFAULT_FLAGS,
                       "resource-base-path", "/org/example/PopCheck",
                       NULL);
}

PopcheckAccountList *
popcheck_application_get_accounts (PopcheckApplication *self)
{
  g_return_val_if_fail (POPCHECK_IS_APPLICATION (self), NULL);

  return self->accounts;
}

PopcheckChecker *
popcheck_application_get_checker (PopcheckApplication *self)
{
  g_return_val_if_fail (POPCHECK_IS_APPLICATION (self), NULL);

  return self->checker;
}

gboolean
popcheck_application_get_run_in_background (PopcheckApplication *self)
{
  g_return_val_if_fail (POPCHECK_IS_APPLICATION (self), FALSE);

  return self->settings != NULL &&
         g_settings_get_boolean (self->settings, "run-in-background");
}

/* The demo mailbox */

static const char *
demo_server_path (void)
{
  const char *path = g_getenv ("POPCHECK_DEMO_SERVER");

  /* The tests and an uninstalled run point at build-aux/. */
  return path != NULL && *path != '\0' ? path : POPCHECK_DEMO_SERVER;
}

typedef struct
{
  char    *host;
  guint16  port;
  char    *user;
  char    *password;
  char    *fingerprint;
} DemoEnv;

static void
demo_env_free (DemoEnv *env)
{
  g_free (env->host);
  g_free (env->user);
  if (env->password != NULL)
    memset (env->password, 0, strlen (env->password));
  g_free (env->password);
  g_free (env->fingerprint);
  g_free (env);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DemoEnv, demo_env_free)

/* env.sh holds NAME=VALUE lines with shell-quoted values. */
static DemoEnv *
demo_env_parse (const char  *contents,
                GError     **error)
{
  g_autoptr(DemoEnv) env = g_new0 (DemoEnv, 1);
  g_auto(GStrv) lines = g_strsplit (contents, "\n", -1);
  guint64 port = 0;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *eq = strchr (lines[i], '=');
      g_autofree char *name = NULL;
      g_autofree char *value = NULL;

      if (eq == NULL || eq == lines[i])
        continue;
      name = g_strndup (lines[i], eq - lines[i]);
      value = g_shell_unquote (eq + 1, NULL);
      if (value == NULL)
        continue;

      /* Each name once; a repeated one keeps its first value. */
      if (g_str_equal (name, "POPCHECK_DEMO_HOST") && env->host == NULL)
        env->host = g_steal_pointer (&value);
      else if (g_str_equal (name, "POPCHECK_DEMO_POP3S_PORT"))
        g_ascii_string_to_unsigned (value, 10, 1, G_MAXUINT16, &port, NULL);
      else if (g_str_equal (name, "POPCHECK_DEMO_USER") && env->user == NULL)
        env->user = g_steal_pointer (&value);
      else if (g_str_equal (name, "POPCHECK_DEMO_PASSWORD") && env->password == NULL)
        env->password = g_steal_pointer (&value);
      else if (g_str_equal (name, "POPCHECK_DEMO_FINGERPRINT") && env->fingerprint == NULL)
        env->fingerprint = g_steal_pointer (&value);
    }

  if (env->host == NULL || port == 0 || env->user == NULL ||
      env->password == NULL || env->fingerprint == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _("The demo server did not say how to reach it."));
      return NULL;
    }

  env->port = port;
  return g_steal_pointer (&env);
}

static void
demo_secret_stored_cb (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PopcheckApplication *self = g_task_get_source_object (task);
  DemoEnv *env = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  PopcheckAccount *account;

  if (!popcheck_secret_store_finish (result, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* The password is in the keyring before the account exists, so its
   * first check finds it. */
  account = popcheck_account_list_add (self->accounts, _("Demo mailbox"), &error);
  if (account == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  popcheck_account_set_host (account, env->host);
  popcheck_account_set_port (account, env->port);
  popcheck_account_set_security (account, POP3_SECURITY_TLS);
  popcheck_account_set_user (account, env->user);
  /* The demo server's certificate is self-signed: trust exactly it. */
  popcheck_account_set_pinned_fingerprint (account, env->fingerprint);
  g_free (self->demo_account_id);
  self->demo_account_id = g_strdup (popcheck_account_get_id (account));

  g_task_return_boolean (task, TRUE);
}

static void
demo_env_loaded_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  DemoEnv *env;

  if (!g_file_load_contents_finish (G_FILE (object), result, &contents, NULL, NULL, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  env = demo_env_parse (contents, &error);
  if (env == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  g_task_set_task_data (task, env, (GDestroyNotify) demo_env_free);
  popcheck_secret_store_async (env->host, env->port, env->user, env->password,
                               g_task_get_cancellable (task),
                               demo_secret_stored_cb, g_object_ref (task));
}

static void
demo_started_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PopcheckApplication *self = g_task_get_source_object (task);
  GSubprocess *subprocess = G_SUBPROCESS (object);
  g_autoptr(GError) error = NULL;
  g_autofree char *stderr_text = NULL;
  g_autofree char *env_path = NULL;
  g_autoptr(GFile) env_file = NULL;

  if (!g_subprocess_communicate_utf8_finish (subprocess, result, NULL, &stderr_text, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (!g_subprocess_get_successful (subprocess))
    {
      g_strstrip (stderr_text);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s",
                               stderr_text != NULL && *stderr_text != '\0'
                                 ? stderr_text
                                 : _("The demo server failed to start."));
      return;
    }

  env_path = g_build_filename (self->demo_dir, "env.sh", NULL);
  env_file = g_file_new_for_path (env_path);
  g_file_load_contents_async (env_file, g_task_get_cancellable (task),
                              demo_env_loaded_cb, g_object_ref (task));
}

void
popcheck_application_start_demo_async (PopcheckApplication *self,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) subprocess = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;

  g_return_if_fail (POPCHECK_IS_APPLICATION (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, popcheck_application_start_demo_async);

  if (self->demo_dir != NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_EXISTS,
                               _("The demo mailbox runs already."));
      return;
    }

  /* A short path: Dovecot's socket paths must stay under 108 bytes. */
  dir = g_dir_make_tmp ("popcheck-demo-XXXXXX", &error);
  if (dir == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  subprocess = g_subprocess_launcher_spawn (launcher, &error,
                                            demo_server_path (), "start",
                                            "--dir", dir, NULL);
  if (subprocess == NULL)
    {
      g_rmdir (dir);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* From here on, quitting stops whatever started. */
  self->demo_dir = g_steal_pointer (&dir);
  g_subprocess_communicate_utf8_async (subprocess, NULL, cancellable,
                                       demo_started_cb, g_object_ref (task));
}

gboolean
popcheck_application_start_demo_finish (PopcheckApplication  *self,
                                        GAsyncResult         *result,
                                        GError              **error)
{
  g_return_val_if_fail (POPCHECK_IS_APPLICATION (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
remove_tree (GFile *file)
{
  g_autoptr(GFileEnumerator) children = NULL;

  children = g_file_enumerate_children (file, G_FILE_ATTRIBUTE_STANDARD_NAME ","
                                        G_FILE_ATTRIBUTE_STANDARD_TYPE,
                                        G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS,
                                        NULL, NULL);
  while (children != NULL)
    {
      GFileInfo *info = NULL;
      GFile *child = NULL;

      if (!g_file_enumerator_iterate (children, &info, &child, NULL, NULL) ||
          info == NULL)
        break;
      if (g_file_info_get_file_type (info) == G_FILE_TYPE_DIRECTORY)
        remove_tree (child);
      else
        g_file_delete (child, NULL, NULL);
    }

  g_file_delete (file, NULL, NULL);
}

static void
demo_account_removed_cb (GObject      *object,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  gboolean *done = user_data;
  g_autoptr(GError) error = NULL;

  if (!popcheck_account_list_remove_finish (POPCHECK_ACCOUNT_LIST (object), result, &error))
    g_message ("Could not remove the demo account: %s", error->message);
  *done = TRUE;
}

/* Removing an account also clears its password from the keyring, which
 * takes a D-Bus round trip: wait for it, a few seconds at most. */
static void
demo_remove_account (PopcheckApplication *self)
{
  PopcheckAccount *account = popcheck_account_list_lookup (self->accounts,
                                                           self->demo_account_id);
  gint64 deadline = g_get_monotonic_time () + 5 * G_TIME_SPAN_SECOND;
  gboolean done = FALSE;

  if (account == NULL)
    return;

  popcheck_account_list_remove_async (self->accounts, account, NULL,
                                      demo_account_removed_cb, &done);
  while (!done && g_get_monotonic_time () < deadline)
    {
      if (!g_main_context_iteration (NULL, FALSE))
        g_usleep (1000);
    }
}

/* At quit: the demo server stops and its account goes, so the next start
 * does not show an account whose server is gone.  This runs in shutdown,
 * after the main loop, so it may wait. */
static void
demo_stop (PopcheckApplication *self)
{
  g_autoptr(GSubprocess) subprocess = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) dir = NULL;

  if (self->demo_dir == NULL)
    return;

  if (self->demo_account_id != NULL && self->accounts != NULL)
    demo_remove_account (self);
  g_clear_pointer (&self->demo_account_id, g_free);

  subprocess = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                 G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                                 &error,
                                 demo_server_path (), "stop", "--dir", self->demo_dir,
                                 NULL);
  if (subprocess == NULL || !g_subprocess_wait (subprocess, NULL, &error))
    g_message ("Could not stop the demo server: %s", error->message);

  dir = g_file_new_for_path (self->demo_dir);
  remove_tree (dir);
  g_clear_pointer (&self->demo_dir, g_free);
}

/* Accounts and their problems */

void
popcheck_application_add_account (PopcheckApplication *self,
                                  GtkWindow           *parent)
{
  GtkWindow *preferences;

  g_return_if_fail (POPCHECK_IS_APPLICATION (self));

  preferences = show_preferences (self, parent);
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

void
popcheck_application_fix_account (PopcheckApplication *self,
                                  GtkWindow           *parent,
                                  const char          *account_id)
{
  PopcheckMailbox *mailbox;
  PopcheckAccount *account;
  GtkWindow *preferences;
  ReviewCertificate *review;

  g_return_if_fail (POPCHECK_IS_APPLICATION (self));
  g_return_if_fail (account_id != NULL);

  mailbox = popcheck_checker_get_mailbox (self->checker, account_id);
  account = popcheck_account_list_lookup (self->accounts, account_id);
  if (mailbox == NULL || account == NULL)
    return;

  switch (popcheck_mailbox_get_problem (mailbox))
    {
    case POPCHECK_PROBLEM_AUTH:
    case POPCHECK_PROBLEM_SECRET:
      preferences = show_preferences (self, parent);
      gtk_window_present (preferences);
      popcheck_preferences_window_edit_account (POPCHECK_PREFERENCES_WINDOW (preferences),
                                                account_id);
      break;

    case POPCHECK_PROBLEM_CERTIFICATE:
      review = g_new0 (ReviewCertificate, 1);
      review->self = g_object_ref (self);
      g_set_weak_pointer (&review->parent, parent);
      review->account = g_object_ref (account);
      popcheck_secret_lookup_async (popcheck_account_get_host (account),
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
