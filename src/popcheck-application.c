/* popcheck-application.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One instance runs per session: a second launch presents its window, and
 * `popcheck --check` activates its "check-now" action over D-Bus.  The
 * application owns the accounts, the checker and the demo mailbox; windows
 * only show them.  The tray, the notifier and the resume monitor observe
 * the checker and command the application through its actions
 * (popcheck-application-actions.c), the same ones the window, the
 * preferences and the keyboard use.
 */

#define G_LOG_DOMAIN "popcheck-application"

#include "config.h"

#include <glib/gi18n.h>
#include <glib-unix.h>
#include <signal.h>

#include "popcheck-account.h"
#include "popcheck-account-list.h"
#include "popcheck-application-private.h"
#include "popcheck-autostart.h"
#include "popcheck-checker.h"
#include "popcheck-demo.h"
#include "popcheck-goa-accounts.h"
#include "popcheck-mailbox.h"
#include "popcheck-notifier.h"
#include "popcheck-remote.h"
#include "popcheck-resume-monitor.h"
#include "popcheck-tray.h"
#include "popcheck-window.h"

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

/* On a desktop with no tray (stock GNOME), a window that goes away while
 * PopCheck stays is a PopCheck that seems gone: say once where it is. */
static void
main_window_visible_cb (GtkWindow           *window,
                        GParamSpec          *pspec,
                        PopcheckApplication *self)
{
  if (gtk_widget_get_visible (GTK_WIDGET (window)) ||
      gtk_widget_in_destruction (GTK_WIDGET (window)) ||
      self->quitting || !self->background_hold ||
      self->settings == NULL || self->notifier == NULL || self->tray == NULL)
    return;

  /* Still asking the watcher: say nothing rather than something wrong;
   * the next close tells it. */
  if (!popcheck_tray_get_host_known (self->tray) ||
      popcheck_tray_get_has_host (self->tray) ||
      g_settings_get_boolean (self->settings, "background-hint-shown"))
    return;

  /* Muted: the user asked for quiet, and the next close tells it. */
  if (popcheck_mute_get_muted (self->mute))
    return;

  g_settings_set_boolean (self->settings, "background-hint-shown", TRUE);
  popcheck_notifier_show_background_hint (self->notifier);
}

static void
run_in_background_changed_cb (GSettings           *settings,
                              const char          *key,
                              PopcheckApplication *self)
{
  update_background_hold (self);
}

GtkWindow *
_popcheck_application_get_main_window (PopcheckApplication *self)
{
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self));
       l != NULL; l = l->next)
    {
      if (POPCHECK_IS_WINDOW (l->data))
        return l->data;
    }

  return NULL;
}

GtkWindow *
_popcheck_application_ensure_main_window (PopcheckApplication *self)
{
  GtkWindow *window = _popcheck_application_get_main_window (self);

  if (window == NULL)
    {
      window = GTK_WINDOW (popcheck_window_new (GTK_APPLICATION (self), self->checker));
      g_signal_connect_object (window, "notify::visible",
                               G_CALLBACK (main_window_visible_cb), self, 0);
    }

  return window;
}

/* `popcheck --check`.  It runs before GTK is initialized (registering
 * the application would run startup, which needs a display), so it also
 * works from a terminal without one, from cron or over ssh.  It blocks:
 * there is no main loop to keep yet. */

typedef struct
{
  GMainLoop           *loop;
  PopcheckAccountList *accounts;
  gboolean             failed;
} CheckOnce;

/* One line per failed account, naming it: with several accounts, an
 * error alone does not say whose it is. */
static void
print_account_error (CheckOnce    *once,
                     const char   *account_id,
                     const GError *error)
{
  PopcheckAccount *account = popcheck_account_list_lookup (once->accounts, account_id);
  const char *name = account != NULL ? popcheck_account_get_display_name (account) : NULL;

  if (name == NULL || *name == '\0')
    name = account_id;
  /* Translators: an account's name, then why its check failed. */
  g_printerr (_("%s: %s\n"), name, error->message);
}

static void
check_once_done_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  PopcheckChecker *checker = POPCHECK_CHECKER (object);
  CheckOnce *once = user_data;
  g_autoptr(GPtrArray) results = NULL;
  guint n_new;

  results = popcheck_checker_check_accounts_finish (checker, result, NULL);
  for (guint i = 0; i < results->len; i++)
    {
      PopcheckCheckResult *outcome = g_ptr_array_index (results, i);
      const GError *error = outcome->error ? outcome->error
                                           : outcome->save_error;

      if (error != NULL)
        {
          print_account_error (once, outcome->account_id, error);
          once->failed = TRUE;
        }
    }

  n_new = popcheck_checker_get_n_new (checker);
  g_print (g_dngettext (GETTEXT_PACKAGE, "%u new message\n",
                        "%u new messages\n", n_new), n_new);

  g_main_loop_quit (once->loop);
}

/* Checks every account once, prints how much new mail there is, and
 * fails when a check did. */
static int
check_once (void)
{
  g_autoptr(PopcheckAccountList) accounts = popcheck_account_list_new ();
  g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);
  g_autoptr(PopcheckChecker) checker = NULL;
  g_autoptr(GPtrArray) account_ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  guint n_accounts = g_list_model_get_n_items (G_LIST_MODEL (accounts));
  CheckOnce once = { 0 };

  if (n_accounts == 0)
    {
      g_printerr ("%s\n", _("There is no account to check."));
      return EXIT_FAILURE;
    }

  /* As the running PopCheck would: turned-off accounts, and one still
   * without a server, are left alone. */
  for (guint i = 0; i < n_accounts; i++)
    {
      g_autoptr(PopcheckAccount) account = g_list_model_get_item (G_LIST_MODEL (accounts), i);

      if (popcheck_account_get_enabled (account) &&
          *popcheck_account_get_host (account) != '\0')
        g_ptr_array_add (account_ids,
                         g_strdup (popcheck_account_get_id (account)));
    }
  g_ptr_array_add (account_ids, NULL);

  /* What this check saw counts as seen: a PopCheck started later must not
   * announce it again, so the checker writes the state before it ends. */
  checker = popcheck_checker_new (accounts);
  /* The headers the running PopCheck would fetch; the others stay listed
   * without them, for the next PopCheck that runs to fetch. */
  popcheck_checker_set_first_headers (checker,
                                      g_settings_get_uint (settings,
                                                           "first-headers"));
  once.loop = loop;
  once.accounts = accounts;
  popcheck_checker_check_accounts_async (checker,
                                         (const char * const *) account_ids->pdata,
                                         NULL, check_once_done_cb, &once);
  g_main_loop_run (loop);

  return once.failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* Desktop integration */

static void
resumed_cb (PopcheckResumeMonitor *monitor,
            PopcheckApplication   *self)
{
  g_debug ("Resumed from sleep: checking every account");
  /* A mute that ended while asleep ends now, not an hour of sleep late. */
  popcheck_mute_refresh (self->mute);
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
      if (popcheck_remote_activate_action ("check-now", NULL, &error))
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
  PopcheckApplication *self = POPCHECK_APPLICATION (app);

  /* The checker starts reading each account's saved list in a thread as
   * soon as it is made, and a big list takes as long to read as GTK takes
   * to start (the display, GL, the theme).  Made before GTK starts, which
   * it does not need, it reads while GTK starts instead of after: the
   * window shows the list that much sooner. */
  self->accounts = popcheck_account_list_new ();
  self->checker = popcheck_checker_new (self->accounts);

  G_APPLICATION_CLASS (popcheck_application_parent_class)->startup (app);

  gtk_window_set_default_icon_name (APPLICATION_ID);

  self->settings = g_settings_new (APPLICATION_ID);
  g_signal_connect_object (self->settings, "changed::run-in-background",
                           G_CALLBACK (run_in_background_changed_cb), self, 0);

  self->online_accounts = popcheck_goa_accounts_new ();
  popcheck_account_list_set_external (self->accounts,
                                      G_LIST_MODEL (self->online_accounts));
  g_settings_bind (self->settings, "first-headers",
                   self->checker, "first-headers", G_SETTINGS_BIND_GET);
  self->demo = popcheck_demo_new (self->accounts);
  self->mute = popcheck_mute_new ();
  g_settings_bind (self->settings, "muted-until",
                   self->mute, "muted-until", G_SETTINGS_BIND_DEFAULT);
  self->mail_client = popcheck_mail_client_new ();
  _popcheck_application_actions_init (self);

  self->notifier = popcheck_notifier_new (G_ACTION_GROUP (self), self->checker);
  g_settings_bind (self->settings, "notify-new-mail",
                   self->notifier, "notify-new-mail", G_SETTINGS_BIND_GET);
  g_settings_bind (self->settings, "notify-errors",
                   self->notifier, "notify-errors", G_SETTINGS_BIND_GET);
  popcheck_notifier_set_mute (self->notifier, self->mute);

  self->tray = popcheck_tray_new (G_ACTION_GROUP (self),
                                  popcheck_checker_get_mailboxes (self->checker));
  popcheck_tray_set_mute (self->tray, self->mute);

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

  gtk_window_present (_popcheck_application_ensure_main_window (self));
}

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
  if (self->demo != NULL)
    popcheck_demo_stop (self->demo);

  G_APPLICATION_CLASS (popcheck_application_parent_class)->shutdown (app);
}

static void
popcheck_application_dispose (GObject *object)
{
  PopcheckApplication *self = POPCHECK_APPLICATION (object);

  g_clear_object (&self->tray);
  g_clear_object (&self->notifier);
  g_clear_object (&self->resume_monitor);
  g_clear_object (&self->mute);
  g_clear_object (&self->mail_client);
  g_clear_object (&self->checker);
  g_clear_object (&self->accounts);
  g_clear_object (&self->online_accounts);
  g_clear_object (&self->settings);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->demo);

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
