/* test-application.c: the whole application, as a session sees it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Runs under keyring-harness (a private session bus with gnome-keyring)
 * and run-under-xvfb.  Each test runs one real PopcheckApplication through
 * g_application_run() in a subprocess of its own, with python3-dbusmock's
 * notification daemon on the bus and, where mail is needed, the Dovecot
 * demo server.  Second launches are the real `popcheck` executable, so
 * single instance and `popcheck --check` go over D-Bus as they do for a
 * user; the tray is driven as a host drives it.
 *
 * The test's steps run in an idle callback inside g_application_run(): it
 * waits by iterating the main context, with a time limit.  What must hold
 * after the window is closed (the application stays) is checked after
 * that callback returned, when nothing but the application's own holds
 * keeps g_application_run() going.
 */

#define G_LOG_DOMAIN "popcheck-test-application"

#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <unistd.h>

#include "popcheck-account.h"
#include "popcheck-account-list.h"
#include "popcheck-application.h"
#include "popcheck-application-private.h"
#include "popcheck-autostart.h"
#include "popcheck-checker.h"
#include "popcheck-mailbox.h"
#include "popcheck-message.h"
#include "popcheck-preferences.h"
#include "popcheck-secret.h"
#include "popcheck-test-bus.h"
#include "popcheck-test-demo.h"
#include "popcheck-test-util.h"
#include "popcheck-window-private.h"

#define TIMEOUT_SECONDS 60
#define NOTIFICATIONS_NAME "org.freedesktop.Notifications"
#define NOTIFICATIONS_PATH "/org/freedesktop/Notifications"

typedef struct _Fixture Fixture;
typedef void (*Steps) (Fixture *fixture);

struct _Fixture
{
  PopcheckApplication *app;
  GDBusConnection     *client;
  GSubprocess         *daemon;
  GSubprocess         *logind;
  PopcheckTestDemo    *demo;
  PopcheckAccount     *account;
  /* Instead of the daemon, for the test of a server that hangs. */
  PopcheckTestHangingServer *hanging;

  Steps                steps;
  gboolean             steps_done;

  /* What the checker said, counted. */
  guint                n_first_checks;
  guint                n_new_messages;
  guint                n_checks_done;
  guint                n_errors;
  guint                n_problems;

  /* The single-instance test: a second `popcheck` after the close. */
  GSubprocess         *second;
  gboolean             presented_after_close;
};

/* Runs the main context until condition holds; failing after
 * TIMEOUT_SECONDS. */
#define WAIT_UNTIL(condition) \
  POPCHECK_TEST_WAIT_UNTIL (condition, TIMEOUT_SECONDS * 1000)

/* The application's window of that type, or NULL. */
static gpointer
find_window (Fixture *fixture,
             GType    type)
{
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (fixture->app));
       l != NULL; l = l->next)
    {
      if (G_TYPE_CHECK_INSTANCE_TYPE (l->data, type))
        return l->data;
    }

  return NULL;
}

static GtkWindow *
preferences_window (Fixture *fixture)
{
  return find_window (fixture, POPCHECK_TYPE_PREFERENCES_WINDOW);
}

static PopcheckWindow *
main_window (Fixture *fixture)
{
  return find_window (fixture, POPCHECK_TYPE_WINDOW);
}

static gboolean
window_shown (Fixture *fixture)
{
  PopcheckWindow *window = main_window (fixture);

  return window != NULL && gtk_widget_get_mapped (GTK_WIDGET (window));
}

/* Hidden, not destroyed: still the application's window. */
static gboolean
window_hidden (Fixture *fixture)
{
  PopcheckWindow *window = main_window (fixture);

  return window != NULL && !gtk_widget_get_visible (GTK_WIDGET (window));
}

/* Another `popcheck`, as a user or the desktop starts it, in the same
 * session and display. */
static GSubprocess *
spawn_popcheck (const char *option)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) error = NULL;
  const char *path = g_getenv ("POPCHECK_APP");
  GSubprocess *subprocess;

  g_assert_nonnull (path);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  /* Not into the TAP stream. */
  g_subprocess_launcher_take_stdout_fd (launcher, dup (STDERR_FILENO));
  popcheck_test_launcher_die_with_parent (launcher);
  subprocess = g_subprocess_launcher_spawn (launcher, &error, path, option, NULL);
  g_assert_no_error (error);
  return subprocess;
}

static void
subprocess_exited_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  gboolean *exited = user_data;
  g_autoptr(GError) error = NULL;

  g_subprocess_wait_finish (G_SUBPROCESS (object), result, &error);
  g_assert_no_error (error);
  *exited = TRUE;
}

/* Waits (iterating, so the application answers it) until it exits, and
 * asserts its exit status. */
static void
wait_for_exit (GSubprocess *subprocess,
               int          status)
{
  gboolean exited = FALSE;

  g_subprocess_wait_async (subprocess, NULL, subprocess_exited_cb, &exited);
  WAIT_UNTIL (exited);
  g_assert_true (g_subprocess_get_if_exited (subprocess));
  g_assert_cmpint (g_subprocess_get_exit_status (subprocess), ==, status);
}

static void
run_popcheck (const char *option)
{
  g_autoptr(GSubprocess) subprocess = spawn_popcheck (option);

  wait_for_exit (subprocess, 0);
}

/* The tray: its name is org.kde.StatusNotifierItem-PID-N. */
static char *
tray_bus_name (Fixture *fixture)
{
  g_autofree char *prefix = g_strdup_printf ("org.kde.StatusNotifierItem-%d-",
                                             (int) getpid ());
  gint64 deadline = popcheck_test_deadline (TIMEOUT_SECONDS * 1000);

  for (;;)
    {
      g_autoptr(GVariant) reply = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree const char **names = NULL;

      reply = popcheck_test_call (fixture->client, "org.freedesktop.DBus",
                                  "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                  "ListNames", NULL, "(as)", &error);
      g_assert_no_error (error);
      g_variant_get (reply, "(^a&s)", &names);
      for (guint i = 0; names[i] != NULL; i++)
        {
          if (g_str_has_prefix (names[i], prefix))
            return g_strdup (names[i]);
        }

      if (!popcheck_test_iterate (deadline))
        g_error ("The tray took no bus name");
    }
}

/* A click on the tray icon, as a host sends it: "Activate" (left, shows
 * or hides the window) or "SecondaryActivate" (middle, checks now). */
static void
tray_click (Fixture    *fixture,
            const char *method)
{
  g_autofree char *name = tray_bus_name (fixture);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = popcheck_test_call (fixture->client, name, "/StatusNotifierItem",
                              "org.kde.StatusNotifierItem", method,
                              g_variant_new ("(ii)", 0, 0), NULL, &error);
  g_assert_no_error (error);
}

/* The id of the tray menu's item of that label, found in GetLayout as a
 * host finds it; -1 when there is none. */
static int
tray_menu_item (Fixture    *fixture,
                const char *label)
{
  g_autofree char *name = tray_bus_name (fixture);
  g_autoptr(GVariant) layout = NULL;
  g_autoptr(GVariant) children = NULL;
  g_autoptr(GError) error = NULL;
  int id = -1;

  layout = popcheck_test_call (fixture->client, name, "/MenuBar",
                               "com.canonical.dbusmenu", "GetLayout",
                               g_variant_new ("(ii@as)", 0, -1, g_variant_new_strv (NULL, 0)),
                               "(u(ia{sv}av))", &error);
  g_assert_no_error (error);
  g_variant_get (layout, "(u(ia{sv}@av))", NULL, NULL, NULL, &children);
  for (gsize i = 0; i < g_variant_n_children (children) && id < 0; i++)
    {
      g_autoptr(GVariant) boxed = g_variant_get_child_value (children, i);
      g_autoptr(GVariant) child = g_variant_get_variant (boxed);
      g_autoptr(GVariant) properties = NULL;
      const char *item_label = NULL;
      int item_id;

      g_variant_get (child, "(i@a{sv}av)", &item_id, &properties, NULL);
      if (g_variant_lookup (properties, "label", "&s", &item_label) &&
          g_str_equal (item_label, label))
        id = item_id;
    }

  return id;
}

/* Clicks the tray menu's item of that label. */
static void
tray_menu_click (Fixture    *fixture,
                 const char *label)
{
  g_autofree char *name = tray_bus_name (fixture);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  int id = tray_menu_item (fixture, label);

  g_assert_cmpint (id, >, 0);

  reply = popcheck_test_call (fixture->client, name, "/MenuBar",
                              "com.canonical.dbusmenu", "Event",
                              g_variant_new ("(isvu)", id, "clicked",
                                             g_variant_new_int32 (0), 0),
                              NULL, &error);
  g_assert_no_error (error);
}

/* The notification daemon */

static GPtrArray *
notify_calls (Fixture *fixture)
{
  return popcheck_test_mock_calls (fixture->client, NOTIFICATIONS_NAME,
                                   NOTIFICATIONS_PATH, "Notify");
}

static guint
n_notify_calls (Fixture *fixture)
{
  g_autoptr(GPtrArray) calls = notify_calls (fixture);

  return calls->len;
}

/* Argument `index` of a recorded call, which GetCalls gives as variants. */
static GVariant *
call_argument (GVariant *args,
               guint     index)
{
  g_autoptr(GVariant) boxed = g_variant_get_child_value (args, index);

  return g_variant_get_variant (boxed);
}

static void
emit_action_invoked (Fixture    *fixture,
                     guint32     id,
                     const char *action)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  GVariant *args[2] = {
    g_variant_new_variant (g_variant_new_uint32 (id)),
    g_variant_new_variant (g_variant_new_string (action)),
  };

  reply = popcheck_test_call (fixture->client, NOTIFICATIONS_NAME, NOTIFICATIONS_PATH,
                              "org.freedesktop.DBus.Mock", "EmitSignal",
                              g_variant_new ("(sss@av)", NOTIFICATIONS_NAME,
                                             "ActionInvoked", "us",
                                             g_variant_new_array (G_VARIANT_TYPE_VARIANT,
                                                                  args, 2)),
                              NULL, &error);
  g_assert_no_error (error);
}

/* logind says the system slept (TRUE) or woke up (FALSE). */
static void
emit_prepare_for_sleep (Fixture  *fixture,
                        gboolean  sleeping)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  GVariant *arg = g_variant_new_variant (g_variant_new_boolean (sleeping));

  reply = popcheck_test_call (fixture->client, "org.freedesktop.login1",
                              "/org/freedesktop/login1",
                              "org.freedesktop.DBus.Mock", "EmitSignal",
                              g_variant_new ("(sss@av)", "org.freedesktop.login1.Manager",
                                             "PrepareForSleep", "b",
                                             g_variant_new_array (G_VARIANT_TYPE_VARIANT,
                                                                  &arg, 1)),
                              NULL, &error);
  g_assert_no_error (error);
}

/* The demo account */

static void
first_check_cb (PopcheckChecker *checker,
                PopcheckMailbox *mailbox,
                guint            count,
                Fixture         *fixture)
{
  fixture->n_first_checks++;
}

static void
new_messages_cb (PopcheckChecker *checker,
                 PopcheckMailbox *mailbox,
                 GPtrArray       *messages,
                 Fixture         *fixture)
{
  fixture->n_new_messages += messages->len;
}

static void
problem_cb (PopcheckChecker *checker,
            PopcheckMailbox *mailbox,
            Fixture         *fixture)
{
  fixture->n_problems++;
}

static void
last_check_cb (PopcheckMailbox *mailbox,
               GParamSpec      *pspec,
               Fixture         *fixture)
{
  if (popcheck_mailbox_get_last_check (mailbox) != NULL)
    fixture->n_checks_done++;
}

static void
state_cb (PopcheckMailbox *mailbox,
          GParamSpec      *pspec,
          Fixture         *fixture)
{
  if (popcheck_mailbox_get_state (mailbox) == POPCHECK_MAILBOX_STATE_ERROR)
    fixture->n_errors++;
}

static void
stored_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  gboolean *done = user_data;
  g_autoptr(GError) error = NULL;

  popcheck_secret_store_finish (result, &error);
  g_assert_no_error (error);
  *done = TRUE;
}

static PopcheckMailbox *
demo_mailbox (Fixture *fixture)
{
  return popcheck_checker_get_mailbox (popcheck_application_get_checker (fixture->app),
                                       popcheck_account_get_id (fixture->account));
}

/* An account on the demo server, with its sample messages, added to the
 * running application the way the account editor adds one; the server's
 * password is "right-password", the keyring gets `password`. */
static void
add_demo_account (Fixture    *fixture,
                  const char *name,
                  const char *user,
                  const char *password)
{
  PopcheckChecker *checker = popcheck_application_get_checker (fixture->app);
  PopcheckAccountList *accounts = popcheck_application_get_accounts (fixture->app);
  g_autoptr(GError) error = NULL;
  gboolean stored = FALSE;

  fixture->demo = popcheck_test_demo_start ();
  popcheck_test_demo_add_user (fixture->demo, user, "right-password", FALSE);

  g_signal_connect (checker, "first-check", G_CALLBACK (first_check_cb), fixture);
  g_signal_connect (checker, "new-messages", G_CALLBACK (new_messages_cb), fixture);
  g_signal_connect (checker, "problem", G_CALLBACK (problem_cb), fixture);

  fixture->account = g_object_ref (popcheck_account_list_add (accounts, name, &error));
  g_assert_no_error (error);
  /* The password under the account's id, before the server that gets it
   * checked. */
  popcheck_secret_store_async (popcheck_account_get_id (fixture->account),
                               POPCHECK_SECRET_KIND_PASSWORD,
                               fixture->demo->host, fixture->demo->pop3s_port,
                               user, password, NULL, stored_cb, &stored);
  WAIT_UNTIL (stored);
  popcheck_account_set_host (fixture->account, fixture->demo->host);
  popcheck_account_set_port (fixture->account, fixture->demo->pop3s_port);
  popcheck_account_set_security (fixture->account, POP3_SECURITY_TLS);
  popcheck_account_set_user (fixture->account, user);
  popcheck_account_set_pinned_fingerprint (fixture->account, fixture->demo->fingerprint);

  g_signal_connect (demo_mailbox (fixture), "notify::last-check",
                    G_CALLBACK (last_check_cb), fixture);
  g_signal_connect (demo_mailbox (fixture), "notify::state",
                    G_CALLBACK (state_cb), fixture);
  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "check-now", NULL);
}

static PopcheckMessage *
find_message (PopcheckMailbox *mailbox,
              const char      *subject)
{
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (mailbox)); i++)
    {
      g_autoptr(PopcheckMessage) message = g_list_model_get_item (G_LIST_MODEL (mailbox), i);

      if (g_strcmp0 (popcheck_message_get_subject (message), subject) == 0)
        return message;
    }

  return NULL;
}

static PopcheckMessage *
selected_message (Fixture *fixture)
{
  GtkSelectionModel *selection = popcheck_window_get_selection (main_window (fixture));
  g_autoptr(GtkBitset) selected = gtk_selection_model_get_selection (selection);
  g_autoptr(PopcheckMessage) message = NULL;

  if (gtk_bitset_get_size (selected) != 1)
    return NULL;

  message = g_list_model_get_item (G_LIST_MODEL (selection),
                                   gtk_bitset_get_nth (selected, 0));
  return message;
}

/* Running the application */

static gboolean
steps_cb (gpointer user_data)
{
  Fixture *fixture = user_data;

  fixture->steps (fixture);
  fixture->steps_done = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
watchdog_cb (gpointer user_data)
{
  g_error ("The application did not end in time");
  return G_SOURCE_REMOVE;
}

/* g_application_run() with these arguments; the steps run once it has
 * started (and activated, unless told otherwise).  Returns its status. */
static int
run_application (Fixture    *fixture,
                 const char *option,
                 Steps       steps)
{
  const char *argv[] = { "popcheck", option, NULL };
  guint watchdog;
  int status;

  fixture->steps = steps;
  g_idle_add (steps_cb, fixture);
  watchdog = g_timeout_add_seconds (4 * TIMEOUT_SECONDS, watchdog_cb, NULL);
  status = g_application_run (G_APPLICATION (fixture->app),
                              option != NULL ? 2 : 1, (char **) argv);
  g_source_remove (watchdog);
  return status;
}

static void
fixture_set_up (Fixture *fixture)
{
  fixture->client = popcheck_test_connect ();
  fixture->daemon = popcheck_test_notification_daemon_start (fixture->client,
                                                             "actions body body-markup");
  fixture->app = popcheck_application_new ();
}

static void
fixture_tear_down (Fixture *fixture)
{
  g_clear_object (&fixture->app);
  g_clear_object (&fixture->account);
  g_clear_pointer (&fixture->demo, popcheck_test_demo_stop);
  if (fixture->logind != NULL)
    {
      g_subprocess_send_signal (fixture->logind, SIGTERM);
      g_subprocess_wait (fixture->logind, NULL, NULL);
      g_clear_object (&fixture->logind);
    }
  if (fixture->daemon != NULL)
    popcheck_test_notification_daemon_stop (fixture->client, fixture->daemon);
  g_clear_object (&fixture->daemon);
  g_clear_pointer (&fixture->hanging, popcheck_test_hanging_server_free);
  g_clear_object (&fixture->second);
  g_clear_object (&fixture->client);
}

/* Started in the background, checked from the command line, notified,
 * and the notification opens the window on the new message. */

#define TRICKY_SUBJECT "<b>Lunch</b> & more"

static void
background_steps (Fixture *fixture)
{
  PopcheckMailbox *mailbox;
  PopcheckMessage *message;
  g_autoptr(GPtrArray) calls = NULL;
  g_autoptr(GVariant) summary = NULL;
  g_autoptr(GVariant) body = NULL;
  g_autoptr(GVariant) actions = NULL;
  g_autoptr(GVariant) hints = NULL;
  g_autofree const char **action_names = NULL;
  const char *category = NULL;
  guint n_checks;

  /* --background: no window at all. */
  g_assert_null (main_window (fixture));

  /* The first check of a full mailbox: no flood, not even one. */
  add_demo_account (fixture, "Demo <&> Mail", "app1", "right-password");
  WAIT_UNTIL (fixture->n_first_checks == 1);
  mailbox = demo_mailbox (fixture);
  g_assert_cmpint (popcheck_mailbox_get_state (mailbox), ==, POPCHECK_MAILBOX_STATE_IDLE);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (mailbox)), >, 0);
  g_assert_cmpuint (fixture->n_new_messages, ==, 0);
  g_assert_cmpuint (n_notify_calls (fixture), ==, 0);

  /* New mail, and `popcheck --check` asks the running PopCheck over
   * D-Bus: the check that finds it is this application's. */
  popcheck_test_demo_deliver (fixture->demo, "app1", "<lunch@example.org>",
                              TRICKY_SUBJECT);
  run_popcheck ("--check");
  WAIT_UNTIL (fixture->n_new_messages == 1);
  WAIT_UNTIL (n_notify_calls (fixture) == 1);
  g_assert_null (main_window (fixture));

  calls = notify_calls (fixture);
  summary = call_argument (g_ptr_array_index (calls, 0), 3);
  body = call_argument (g_ptr_array_index (calls, 0), 4);
  actions = call_argument (g_ptr_array_index (calls, 0), 5);
  hints = call_argument (g_ptr_array_index (calls, 0), 6);
  g_assert_cmpstr (g_variant_get_string (summary, NULL), ==,
                   "1 new message — Demo <&> Mail");
  /* The subject is mail content: escaped for a body-markup server. */
  g_assert_cmpstr (g_variant_get_string (body, NULL), ==,
                   "<b>Test Sender</b>: &lt;b&gt;Lunch&lt;/b&gt; &amp; more");
  action_names = g_variant_get_strv (actions, NULL);
  g_assert_true (g_strv_contains (action_names, "default"));
  g_assert_true (g_variant_lookup (hints, "category", "&s", &category));
  g_assert_cmpstr (category, ==, "email.arrived");

  /* The user clicks it: the window, the new message selected.  The mock
   * numbers its notifications from 1. */
  message = find_message (mailbox, TRICKY_SUBJECT);
  g_assert_nonnull (message);
  emit_action_invoked (fixture, 1, "default");
  WAIT_UNTIL (window_shown (fixture));
  WAIT_UNTIL (selected_message (fixture) != NULL);
  g_assert_cmpstr (popcheck_message_get_uid (selected_message (fixture)), ==,
                   popcheck_message_get_uid (message));

  /* Another check with nothing new says nothing. */
  n_checks = fixture->n_checks_done;
  run_popcheck ("--check");
  WAIT_UNTIL (fixture->n_checks_done > n_checks);
  g_assert_cmpuint (n_notify_calls (fixture), ==, 1);
  g_assert_cmpuint (fixture->n_new_messages, ==, 1);

  /* Going to sleep checks nothing; waking up checks at once, long before
   * the account's next scheduled check. */
  n_checks = fixture->n_checks_done;
  emit_prepare_for_sleep (fixture, TRUE);
  emit_prepare_for_sleep (fixture, FALSE);
  WAIT_UNTIL (fixture->n_checks_done > n_checks);
  g_assert_cmpuint (fixture->n_checks_done, ==, n_checks + 1);

  /* The tray: its secondary click checks now, as does its menu's Check Now. */
  n_checks = fixture->n_checks_done;
  tray_click (fixture, "SecondaryActivate");
  WAIT_UNTIL (fixture->n_checks_done > n_checks);
  n_checks = fixture->n_checks_done;
  tray_menu_click (fixture, "_Check Now");
  WAIT_UNTIL (fixture->n_checks_done > n_checks);

  /* Quit in the tray's menu ends PopCheck (run returns). */
  tray_menu_click (fixture, "_Quit");
}

static void
test_background (void)
{
  Fixture fixture = { 0 };

  fixture_set_up (&fixture);
  fixture.logind = popcheck_test_logind_start (fixture.client);
  g_assert_cmpint (run_application (&fixture, "--background", background_steps), ==, 0);
  g_assert_true (fixture.steps_done);
  fixture_tear_down (&fixture);
}

/* A problem the user must solve (the server refuses the password) is one
 * notification, however often the check runs into it again. */

static void
problem_steps (Fixture *fixture)
{
  g_autoptr(GPtrArray) calls = NULL;
  g_autoptr(GVariant) summary = NULL;
  guint n_errors;

  add_demo_account (fixture, "Refused", "app2", "wrong-password");
  WAIT_UNTIL (fixture->n_errors == 1);
  WAIT_UNTIL (n_notify_calls (fixture) == 1);
  calls = notify_calls (fixture);
  summary = call_argument (g_ptr_array_index (calls, 0), 3);
  g_assert_cmpstr (g_variant_get_string (summary, NULL), ==, "PopCheck cannot check Refused");
  g_assert_cmpint (popcheck_mailbox_get_problem (demo_mailbox (fixture)), ==,
                   POPCHECK_PROBLEM_AUTH);

  /* Checked again, refused again: nothing new to say. */
  for (guint i = 0; i < 2; i++)
    {
      n_errors = fixture->n_errors;
      run_popcheck ("--check");
      WAIT_UNTIL (fixture->n_errors > n_errors);
    }
  /* The checker reported the problem once (in this process, so this is
   * exact), and the daemon saw one notification. */
  g_assert_cmpuint (fixture->n_problems, ==, 1);
  g_assert_cmpuint (n_notify_calls (fixture), ==, 1);
  g_assert_null (main_window (fixture));

  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "quit", NULL);
}

static void
test_problem (void)
{
  Fixture fixture = { 0 };

  fixture_set_up (&fixture);
  g_assert_cmpint (run_application (&fixture, "--background", problem_steps), ==, 0);
  g_assert_true (fixture.steps_done);
  fixture_tear_down (&fixture);
}

/* A notification server that takes Notify and never answers: libnotify
 * waits for it in its own thread, while the window goes on drawing and
 * the checks go on. */

static gboolean
frame_tick_cb (GtkWidget     *widget,
               GdkFrameClock *frame_clock,
               gpointer       user_data)
{
  popcheck_test_beat (user_data);
  return G_SOURCE_CONTINUE;
}

/* When the steps asked to quit. */
static gint64 hanging_quit_time;

static void
hanging_server_steps (Fixture *fixture)
{
  PopcheckTestBeat ticks = { 0, 0, 0 };
  PopcheckWindow *window;
  guint tick_id;
  guint n_frames;
  guint n_checks;

  WAIT_UNTIL (window_shown (fixture));
  window = main_window (fixture);
  add_demo_account (fixture, "Hanging", "app7", "right-password");
  WAIT_UNTIL (fixture->n_first_checks == 1);

  /* The window's frame clock ticks from now on. */
  tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (window), frame_tick_cb,
                                          &ticks, NULL);
  WAIT_UNTIL (ticks.n_beats >= 1);

  /* New mail: its notification goes out, and the server keeps it. */
  popcheck_test_demo_deliver (fixture->demo, "app7", "<hang@example.org>",
                              "Held notification");
  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "check-now", NULL);
  WAIT_UNTIL (fixture->n_new_messages == 1);
  WAIT_UNTIL (fixture->hanging->n_notify == 1);

  /* The frame clock kept ticking and keeps ticking, far more often than
   * once in libnotify's 25 s. */
  n_frames = ticks.n_beats;
  WAIT_UNTIL (ticks.n_beats >= n_frames + 30);
  g_test_message ("%u frames, the longest gap %" G_GINT64_FORMAT " ms",
                  ticks.n_beats, ticks.longest_gap / 1000);
  g_assert_cmpint (ticks.longest_gap, <, 5 * G_USEC_PER_SEC);

  /* And checks go on. */
  n_checks = fixture->n_checks_done;
  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "check-now", NULL);
  WAIT_UNTIL (fixture->n_checks_done > n_checks);
  g_assert_cmpuint (fixture->hanging->n_notify, ==, 1);
  g_assert_cmpuint (fixture->hanging->held->len, ==, 1);
  gtk_widget_remove_tick_callback (GTK_WIDGET (window), tick_id);

  /* Quitting gives the stuck call a moment, no more. */
  hanging_quit_time = g_get_monotonic_time ();
  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "quit", NULL);
}

static void
test_hanging_server (void)
{
  Fixture fixture = { 0 };
  gint64 quit_took;

  fixture.client = popcheck_test_connect ();
  fixture.hanging = popcheck_test_hanging_server_new ();
  fixture.app = popcheck_application_new ();
  g_assert_cmpint (run_application (&fixture, NULL, hanging_server_steps), ==, 0);
  g_assert_true (fixture.steps_done);
  quit_took = g_get_monotonic_time () - hanging_quit_time;
  g_test_message ("Quit took %" G_GINT64_FORMAT " ms", quit_took / 1000);
  g_assert_cmpint (quit_took, <, 10 * G_USEC_PER_SEC);
  fixture_tear_down (&fixture);
}

/* One instance: the tray toggles the window, closing it leaves the
 * application running, and launching PopCheck again presents it. */

static gboolean
quit_cb (gpointer user_data)
{
  Fixture *fixture = user_data;

  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "quit", NULL);
  return G_SOURCE_REMOVE;
}

static void
window_visible_cb (GtkWidget  *window,
                   GParamSpec *pspec,
                   Fixture    *fixture)
{
  if (!fixture->steps_done || !gtk_widget_get_visible (window) ||
      fixture->presented_after_close)
    return;

  /* Shown again by the second launch, after the steps had returned: the
   * application lived on without a visible window.  Quit ends it, once
   * gtk_window_present() is done with the window. */
  fixture->presented_after_close = TRUE;
  g_idle_add (quit_cb, fixture);
}

static void
single_instance_steps (Fixture *fixture)
{
  PopcheckWindow *window;

  WAIT_UNTIL (window_shown (fixture));
  window = main_window (fixture);

  /* The tray icon's left click hides the window, and shows it again. */
  tray_click (fixture, "Activate");
  WAIT_UNTIL (window_hidden (fixture));
  g_assert_true (main_window (fixture) == window);
  tray_click (fixture, "Activate");
  WAIT_UNTIL (window_shown (fixture));
  g_assert_true (main_window (fixture) == window);

  /* The tray menu's Preferences and Open PopCheck. */
  tray_menu_click (fixture, "_Preferences");
  WAIT_UNTIL (preferences_window (fixture) != NULL &&
              gtk_widget_get_mapped (GTK_WIDGET (preferences_window (fixture))));
  gtk_window_destroy (preferences_window (fixture));
  tray_click (fixture, "Activate");
  WAIT_UNTIL (window_hidden (fixture));
  tray_menu_click (fixture, "_Open PopCheck");
  WAIT_UNTIL (window_shown (fixture));
  g_assert_true (main_window (fixture) == window);

  /* Closed, with "Run in background" on (the default): hidden, not gone. */
  gtk_window_close (GTK_WINDOW (window));
  WAIT_UNTIL (window_hidden (fixture));
  g_assert_true (main_window (fixture) == window);

  /* Launched again once these steps have returned: only the application's
   * own holds keep it running until the second instance reaches it. */
  g_signal_connect (window, "notify::visible", G_CALLBACK (window_visible_cb), fixture);
  fixture->second = spawn_popcheck (NULL);
}

static void
test_single_instance (void)
{
  Fixture fixture = { 0 };

  fixture_set_up (&fixture);
  g_assert_cmpint (run_application (&fixture, NULL, single_instance_steps), ==, 0);
  g_assert_true (fixture.steps_done);
  g_assert_true (fixture.presented_after_close);
  /* The second launch handed over and ended. */
  g_assert_nonnull (fixture.second);
  wait_for_exit (fixture.second, 0);
  fixture_tear_down (&fixture);
}

/* Started by D-Bus activation (the service file's --gapplication-service)
 * with no Activate call yet, as at login through the autostart entry: no
 * window, and the application stays until asked. */

static void
service_steps (Fixture *fixture)
{
  /* The tray is up: the application started and has taken its name. */
  g_autofree char *tray = tray_bus_name (fixture);

  g_assert_nonnull (tray);
  g_assert_null (main_window (fixture));

  /* A launch from the menu then activates it: the window comes. */
  run_popcheck (NULL);
  WAIT_UNTIL (window_shown (fixture));

  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "quit", NULL);
}

static void
test_service (void)
{
  Fixture fixture = { 0 };

  fixture_set_up (&fixture);
  g_assert_cmpint (run_application (&fixture, "--gapplication-service", service_steps), ==, 0);
  g_assert_true (fixture.steps_done);
  fixture_tear_down (&fixture);
}

/* On a desktop with no tray (no StatusNotifierWatcher here), closing the
 * window while PopCheck keeps running says once, in a notification, how
 * to get it back; its click brings the window.  Not on the next close,
 * nor after a restart (the setting remembers). */

static gboolean
tray_host_known (Fixture *fixture)
{
  PopcheckApplication *app = fixture->app;

  return app->tray != NULL && popcheck_tray_get_host_known (app->tray);
}

static const char *
notify_summary (Fixture *fixture,
                guint    index)
{
  g_autoptr(GPtrArray) calls = notify_calls (fixture);
  g_autoptr(GVariant) summary = call_argument (g_ptr_array_index (calls, index), 3);
  char *text = g_variant_dup_string (summary, NULL);

  g_test_queue_free (text);
  return text;
}

/* New mail for an account "Later" (added the first time), as the checker
 * announces it. */
static void
emit_new_mail (Fixture    *fixture,
               const char *uid,
               const char *subject)
{
  PopcheckChecker *checker = popcheck_application_get_checker (fixture->app);
  PopcheckAccountList *accounts = popcheck_application_get_accounts (fixture->app);
  g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) error = NULL;
  PopcheckMailbox *mailbox;

  if (popcheck_account_list_lookup (accounts, "later") == NULL)
    {
      g_assert_nonnull (popcheck_account_list_add (accounts, "Later", &error));
      g_assert_no_error (error);
    }
  mailbox = popcheck_checker_get_mailbox (checker, "later");
  g_assert_nonnull (mailbox);

  g_ptr_array_add (messages,
                   popcheck_test_message_new (uid, "Bob <bob@example.org>", subject,
                                              "Mon, 2 Mar 2026 10:00:00 +0000"));
  g_signal_emit_by_name (checker, "new-messages", mailbox, messages);
}

/* Closes the window, then new mail comes: its notification is the next
 * one after whatever the close sent, so it shows what the close did not
 * send.  Returns how many notifications went out before the mail's. */
static guint
close_then_new_mail (Fixture *fixture)
{
  guint before = n_notify_calls (fixture);

  gtk_window_close (GTK_WINDOW (main_window (fixture)));
  WAIT_UNTIL (window_hidden (fixture));
  emit_new_mail (fixture, "later-1", "After the close");
  WAIT_UNTIL (n_notify_calls (fixture) > before);
  g_assert_cmpstr (notify_summary (fixture, n_notify_calls (fixture) - 1), ==,
                   "1 new message — Later");
  return n_notify_calls (fixture) - 1;
}

static void
background_hint_steps (Fixture *fixture)
{
  g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);
  g_autoptr(GPtrArray) calls = NULL;
  g_autoptr(GVariant) body = NULL;

  WAIT_UNTIL (window_shown (fixture));
  WAIT_UNTIL (tray_host_known (fixture));
  g_assert_false (popcheck_tray_get_has_host (fixture->app->tray));
  /* No mail program yet (open-mail-client, the last test, sets one): the
   * window menu's Open Mail Client is insensitive. */
  g_assert_false (g_action_group_get_action_enabled (G_ACTION_GROUP (fixture->app),
                                                     "open-mail-client"));
  g_assert_false (g_settings_get_boolean (settings, "background-hint-shown"));

  gtk_window_close (GTK_WINDOW (main_window (fixture)));
  WAIT_UNTIL (window_hidden (fixture));
  WAIT_UNTIL (n_notify_calls (fixture) == 1);
  g_assert_cmpstr (notify_summary (fixture, 0), ==, "PopCheck Is Still Running");
  calls = notify_calls (fixture);
  body = call_argument (g_ptr_array_index (calls, 0), 4);
  g_assert_cmpstr (g_variant_get_string (body, NULL), ==,
                   "It keeps checking your mail. To open it again, choose "
                   "PopCheck in the application menu, or click a new-mail "
                   "notification.");
  g_assert_true (g_settings_get_boolean (settings, "background-hint-shown"));

  /* Its click brings the window back. */
  emit_action_invoked (fixture, 1, "default");
  WAIT_UNTIL (window_shown (fixture));

  /* Closed again: not again. */
  g_assert_cmpuint (close_then_new_mail (fixture), ==, 1);

  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "quit", NULL);
}

static void
test_background_hint (void)
{
  Fixture fixture = { 0 };

  fixture_set_up (&fixture);
  g_assert_cmpint (run_application (&fixture, NULL, background_hint_steps), ==, 0);
  g_assert_true (fixture.steps_done);
  /* Quit closed the window: no hint for that either. */
  g_assert_cmpuint (n_notify_calls (&fixture), ==, 2);
  fixture_tear_down (&fixture);
}

/* A mute set before (the setting, as a restart finds it) holds: the tray
 * says until when, new mail is silent; Unmute in the tray ends it, and
 * Mute for 1 Hour sets it again. */

static gint64 muted_until;

static void
mute_steps (Fixture *fixture)
{
  g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);
  g_autoptr(GDateTime) until = g_date_time_new_from_unix_local (muted_until);
  g_autofree char *time = g_date_time_format (until, "%H:%M");
  g_autofree char *muted_label = g_strdup_printf ("Muted until %s", time);
  g_autoptr(GPtrArray) calls = NULL;
  g_autoptr(GVariant) body = NULL;

  WAIT_UNTIL (window_shown (fixture));
  WAIT_UNTIL (tray_menu_item (fixture, muted_label) > 0);
  g_assert_cmpint (tray_menu_item (fixture, "M_ute for 1 Hour"), <, 0);

  /* Silent; the notification after Unmute is the first. */
  emit_new_mail (fixture, "later-1", "While muted");
  tray_menu_click (fixture, "_Unmute");
  WAIT_UNTIL (g_settings_get_int64 (settings, "muted-until") == 0);
  g_assert_cmpint (tray_menu_item (fixture, muted_label), <, 0);
  emit_new_mail (fixture, "later-2", "After the mute");
  WAIT_UNTIL (n_notify_calls (fixture) == 1);
  calls = notify_calls (fixture);
  body = call_argument (g_ptr_array_index (calls, 0), 4);
  g_assert_cmpstr (g_variant_get_string (body, NULL), ==, "<b>Bob</b>: After the mute");

  /* Mute for 1 Hour: the setting holds an hour from now. */
  tray_menu_click (fixture, "M_ute for 1 Hour");
  WAIT_UNTIL (g_settings_get_int64 (settings, "muted-until") >
              g_get_real_time () / G_USEC_PER_SEC + 60 * 59);

  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "quit", NULL);
}

static void
test_mute (void)
{
  Fixture fixture = { 0 };
  g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);

  muted_until = g_get_real_time () / G_USEC_PER_SEC + 30 * 60;
  g_settings_set_int64 (settings, "muted-until", muted_until);
  fixture_set_up (&fixture);
  g_assert_cmpint (run_application (&fixture, NULL, mute_steps), ==, 0);
  g_assert_true (fixture.steps_done);
  fixture_tear_down (&fixture);
}

/* Told once before: a later run says nothing on close. */

static void
hint_remembered_steps (Fixture *fixture)
{
  WAIT_UNTIL (window_shown (fixture));
  WAIT_UNTIL (tray_host_known (fixture));
  g_assert_cmpuint (close_then_new_mail (fixture), ==, 0);

  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "quit", NULL);
}

static void
test_background_hint_remembered (void)
{
  Fixture fixture = { 0 };
  g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);

  g_settings_set_boolean (settings, "background-hint-shown", TRUE);
  fixture_set_up (&fixture);
  g_assert_cmpint (run_application (&fixture, NULL, hint_remembered_steps), ==, 0);
  g_assert_true (fixture.steps_done);
  fixture_tear_down (&fixture);
}

/* The window menu's Open Mail Client starts the desktop's mail program:
 * the default mailto: handler, here a script that leaves a file. */

static char *mail_client_ran;

static void
open_mail_client_steps (Fixture *fixture)
{
  g_autofree char *contents = NULL;

  WAIT_UNTIL (window_shown (fixture));
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (fixture->app),
                                                    "open-mail-client"));
  /* What the menu item does. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (main_window (fixture)),
                                             "app.open-mail-client", NULL));
  WAIT_UNTIL (g_file_test (mail_client_ran, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_get_contents (mail_client_ran, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "ran:");

  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "quit", NULL);
}

static void
test_open_mail_client (void)
{
  Fixture fixture = { 0 };

  mail_client_ran = popcheck_test_install_mail_handler ();
  fixture_set_up (&fixture);
  g_assert_cmpint (run_application (&fixture, NULL, open_mail_client_steps), ==, 0);
  g_assert_true (fixture.steps_done);
  fixture_tear_down (&fixture);
  g_clear_pointer (&mail_client_ran, g_free);
}

/* With "Run in background" off, closing the window ends PopCheck. */

static void
no_background_steps (Fixture *fixture)
{
  WAIT_UNTIL (window_shown (fixture));
  gtk_window_close (GTK_WINDOW (main_window (fixture)));
}

static void
test_no_background (void)
{
  Fixture fixture = { 0 };
  g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);

  g_settings_set_boolean (settings, "run-in-background", FALSE);
  fixture_set_up (&fixture);
  /* Returning at all is the test: the watchdog fails it otherwise. */
  g_assert_cmpint (run_application (&fixture, NULL, no_background_steps), ==, 0);
  g_assert_true (fixture.steps_done);
  g_assert_null (gtk_application_get_windows (GTK_APPLICATION (fixture.app)));
  fixture_tear_down (&fixture);
}

/* "Start at login" and the XDG autostart entry follow each other: the
 * entry found at startup sets the setting, a changed setting writes or
 * removes the entry. */

static gboolean
start_at_login (void)
{
  g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);

  return g_settings_get_boolean (settings, "start-at-login");
}

static void
start_at_login_steps (Fixture *fixture)
{
  g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);
  g_autofree char *path = popcheck_autostart_get_path ();
  g_autofree char *contents = NULL;

  WAIT_UNTIL (start_at_login ());

  g_settings_set_boolean (settings, "start-at-login", FALSE);
  WAIT_UNTIL (!g_file_test (path, G_FILE_TEST_EXISTS));

  g_settings_set_boolean (settings, "start-at-login", TRUE);
  WAIT_UNTIL (popcheck_autostart_is_enabled ());
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  /* At login, in the background. */
  g_assert_nonnull (strstr (contents, "--background"));

  g_settings_set_boolean (settings, "start-at-login", FALSE);
  WAIT_UNTIL (!g_file_test (path, G_FILE_TEST_EXISTS));

  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "quit", NULL);
}

static void
test_start_at_login (void)
{
  Fixture fixture = { 0 };
  g_autoptr(GError) error = NULL;

  /* Turned on elsewhere (or by an earlier PopCheck): the entry is there,
   * the setting (in memory, fresh) says off. */
  popcheck_autostart_set_enabled (TRUE, &error);
  g_assert_no_error (error);
  g_assert_false (start_at_login ());

  fixture_set_up (&fixture);
  g_assert_cmpint (run_application (&fixture, "--background", start_at_login_steps), ==, 0);
  g_assert_true (fixture.steps_done);
  fixture_tear_down (&fixture);
}

/* `popcheck --check` with no PopCheck running checks once and exits
 * (here: no account, which it says); it neither stays nor opens a
 * window. */
static void
communicated_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  char **err = user_data;
  g_autoptr(GError) error = NULL;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (object), result, NULL, err, &error);
  g_assert_no_error (error);
  g_assert_nonnull (*err);
}

static void
test_check_once (void)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) subprocess = NULL;
  g_autoptr(GDBusConnection) client = popcheck_test_connect ();
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;
  g_assert_false (popcheck_test_name_has_owner (client, APPLICATION_ID));

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  popcheck_test_launcher_die_with_parent (launcher);
  subprocess = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("POPCHECK_APP"),
                                            "--check", NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (subprocess, NULL, NULL, communicated_cb, &err);
  WAIT_UNTIL (err != NULL);
  g_test_message ("popcheck --check said: %s", err);
  g_assert_nonnull (strstr (err, "There is no account to check."));
  wait_for_exit (subprocess, 1);
}

/* `popcheck --check` with none running and an account: it checks, says
 * how much is new, keeps what it saw, and needs no display.  The account
 * is in the keyfile settings backend, which the executable reads too. */

static char *
run_check_once_without_display (int    expected_status,
                                char **err_out)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) subprocess = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_setenv (launcher, "GSETTINGS_BACKEND", "keyfile", TRUE);
  g_subprocess_launcher_unsetenv (launcher, "DISPLAY");
  g_subprocess_launcher_unsetenv (launcher, "WAYLAND_DISPLAY");
  popcheck_test_launcher_die_with_parent (launcher);
  subprocess = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("POPCHECK_APP"),
                                            "--check", NULL);
  g_assert_no_error (error);
  /* Nothing in this process has to answer it: waiting is fine. */
  g_subprocess_communicate_utf8 (subprocess, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_test_message ("popcheck --check: stdout “%s”, stderr “%s”", out, err);
  g_assert_true (g_subprocess_get_if_exited (subprocess));
  g_assert_cmpint (g_subprocess_get_exit_status (subprocess), ==, expected_status);
  if (err_out != NULL)
    *err_out = g_steal_pointer (&err);
  return g_steal_pointer (&out);
}

/* An account's section in the keyfile settings backend. */
static char *
keyfile_account (PopcheckTestDemo *demo,
                 const char       *id,
                 const char       *name,
                 const char       *user)
{
  return g_strdup_printf ("[org/example/PopCheck/accounts/%s]\n"
                          "display-name='%s'\n"
                          "host='%s'\n"
                          "port=uint16 %u\n"
                          "security='tls'\n"
                          "user='%s'\n"
                          "pinned-fingerprint='%s'\n",
                          id, name, demo->host, demo->pop3s_port, user,
                          demo->fingerprint);
}

/* A demo user, and the password the keyring holds for account_id. */
static void
add_user_with_password (PopcheckTestDemo *demo,
                        const char       *account_id,
                        const char       *user,
                        const char       *stored_password)
{
  gboolean stored = FALSE;

  popcheck_test_demo_add_user (demo, user, "right-password", FALSE);
  popcheck_secret_store_async (account_id, POPCHECK_SECRET_KIND_PASSWORD,
                               demo->host, demo->pop3s_port, user,
                               stored_password, NULL, stored_cb, &stored);
  WAIT_UNTIL (stored);
}

/* The file of the keyfile settings backend, its directory made. */
static char *
keyfile_path (void)
{
  g_autofree char *dir = g_build_filename (g_get_user_config_dir (), "glib-2.0",
                                           "settings", NULL);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  return g_build_filename (dir, "keyfile", NULL);
}

static void
test_check_once_account (void)
{
  g_autoptr(PopcheckTestDemo) demo = popcheck_test_demo_start ();
  g_autofree char *keyfile = NULL;
  g_autofree char *settings = NULL;
  g_autofree char *once = NULL;
  g_autofree char *other = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;

  add_user_with_password (demo, "once", "once1", "right-password");
  keyfile = keyfile_path ();
  once = keyfile_account (demo, "once", "Once", "once1");
  settings = g_strdup_printf ("[org/example/PopCheck]\n"
                              "accounts=['once']\n"
                              "\n%s", once);
  g_file_set_contents (keyfile, settings, -1, &error);
  g_assert_no_error (error);

  /* The first check learns what is there: none of it is news. */
  out = run_check_once_without_display (0, NULL);
  g_assert_cmpstr (out, ==, "0 new messages\n");

  /* A new message, and a later run knows the rest from the saved state. */
  popcheck_test_demo_deliver (demo, "once1", "<once@example.org>", "Once more");
  g_clear_pointer (&out, g_free);
  out = run_check_once_without_display (0, NULL);
  g_assert_cmpstr (out, ==, "1 new message\n");

  /* A second account whose password is wrong: its error names it, once,
   * and the first account is still checked. */
  add_user_with_password (demo, "other", "once2", "wrong-password");
  g_clear_pointer (&settings, g_free);
  other = keyfile_account (demo, "other", "Other Mail", "once2");
  settings = g_strdup_printf ("[org/example/PopCheck]\n"
                              "accounts=['once', 'other']\n"
                              "\n%s\n%s", once, other);
  g_file_set_contents (keyfile, settings, -1, &error);
  g_assert_no_error (error);
  g_clear_pointer (&out, g_free);
  out = run_check_once_without_display (1, &err);
  /* Still the one new message of the first account. */
  g_assert_cmpstr (out, ==, "1 new message\n");
  g_assert_true (g_str_has_prefix (err, "Other Mail: "));
  g_assert_null (strstr (err, "Once:"));
  g_assert_null (strstr (err + 1, "Other Mail: "));

  g_unlink (keyfile);
}

static void
loaded_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

/* `popcheck --check` fetches as many headers as the running PopCheck
 * would (the first-headers setting); the others are kept listed without
 * them. */
static void
test_check_once_first_headers (void)
{
  g_autoptr(PopcheckTestDemo) demo = popcheck_test_demo_start ();
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("few");
  g_autoptr(GAsyncResult) result = NULL;
  g_autofree char *keyfile = NULL;
  g_autofree char *settings = NULL;
  g_autofree char *account = NULL;
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;
  guint n_items;

  add_user_with_password (demo, "few", "few1", "right-password");
  keyfile = keyfile_path ();
  account = keyfile_account (demo, "few", "Few", "few1");
  settings = g_strdup_printf ("[org/example/PopCheck]\n"
                              "accounts=['few']\n"
                              "first-headers=uint32 2\n"
                              "\n%s", account);
  g_file_set_contents (keyfile, settings, -1, &error);
  g_assert_no_error (error);

  out = run_check_once_without_display (0, NULL);
  g_assert_cmpstr (out, ==, "0 new messages\n");

  popcheck_mailbox_load_for_reading_async (mailbox, NULL, loaded_cb, &result);
  WAIT_UNTIL (result != NULL);
  g_assert_true (popcheck_mailbox_load_finish (mailbox, result, &error));
  g_assert_no_error (error);
  n_items = popcheck_mailbox_get_n_items (mailbox);
  g_assert_cmpuint (n_items, >, 2);
  g_assert_cmpuint (popcheck_mailbox_count_headers_pending (mailbox), ==, n_items - 2);

  g_unlink (keyfile);
}

/* Each test in a process of its own: one application registers per
 * process, and GTK and libnotify keep global state. */
static void
run_isolated (gconstpointer data)
{
  GTestFunc func = (GTestFunc) data;

  if (g_test_subprocess ())
    {
      func ();
      return;
    }

  g_test_trap_subprocess (NULL, 5 * TIMEOUT_SECONDS * G_USEC_PER_SEC,
                          G_TEST_SUBPROCESS_INHERIT_STDOUT |
                          G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

/* The session ending sends SIGTERM: PopCheck quits as from the menu and
 * exits normally, instead of dying with what it had not saved. */
static gboolean
name_owned (const char *name)
{
  g_autoptr(GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, NULL);
  g_autoptr(GVariant) reply = NULL;
  gboolean owned = FALSE;

  reply = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus",
                                       "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "NameHasOwner",
                                       g_variant_new ("(s)", name),
                                       G_VARIANT_TYPE ("(b)"),
                                       G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  if (reply != NULL)
    g_variant_get (reply, "(b)", &owned);
  return owned;
}

static void
test_sigterm (void)
{
  g_autoptr(GSubprocess) subprocess = spawn_popcheck ("--background");
  g_autofree char *tray = NULL;

  /* The tray comes at startup, with the signal handlers. */
  tray = g_strdup_printf ("org.kde.StatusNotifierItem-%s-1",
                          g_subprocess_get_identifier (subprocess));
  WAIT_UNTIL (name_owned (tray));
  g_subprocess_send_signal (subprocess, SIGTERM);
  wait_for_exit (subprocess, 0);
  g_assert_false (name_owned (APPLICATION_ID));
}

int
main (int   argc,
      char *argv[])
{
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  /* logind's mock lives on the private session bus: the application's
   * resume monitor finds it there, and nothing reaches the real one. */
  if (g_getenv ("DBUS_SESSION_BUS_ADDRESS") != NULL)
    g_setenv ("DBUS_SYSTEM_BUS_ADDRESS", g_getenv ("DBUS_SESSION_BUS_ADDRESS"), TRUE);
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  g_test_add_data_func ("/application/background-check-notify", test_background,
                        run_isolated);
  g_test_add_data_func ("/application/single-instance", test_single_instance,
                        run_isolated);
  g_test_add_data_func ("/application/problem-once", test_problem, run_isolated);
  g_test_add_data_func ("/application/background-hint", test_background_hint,
                        run_isolated);
  g_test_add_data_func ("/application/background-hint-remembered",
                        test_background_hint_remembered, run_isolated);
  g_test_add_data_func ("/application/mute", test_mute, run_isolated);
  g_test_add_data_func ("/application/no-background", test_no_background,
                        run_isolated);
  g_test_add_data_func ("/application/service", test_service, run_isolated);
  g_test_add_data_func ("/application/check-once", test_check_once,
                        run_isolated);
  g_test_add_data_func ("/application/start-at-login", test_start_at_login,
                        run_isolated);
  g_test_add_data_func ("/application/check-once-account", test_check_once_account,
                        run_isolated);
  g_test_add_data_func ("/application/check-once-first-headers",
                        test_check_once_first_headers, run_isolated);
  g_test_add_data_func ("/application/sigterm", test_sigterm, run_isolated);
  g_test_add_data_func ("/application/hanging-notification-server",
                        test_hanging_server, run_isolated);
  /* Last: the mail program it sets stays in this run's XDG directories. */
  g_test_add_data_func ("/application/open-mail-client", test_open_mail_client,
                        run_isolated);

  return g_test_run ();
}
