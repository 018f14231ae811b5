/* test-notifier.c: notifications against python3-dbusmock's notification
 * daemon on a private session bus
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The real PopcheckNotifier observes a real PopcheckChecker (not started:
 * no network here) whose signals are emitted as the checker emits them,
 * with real mailboxes and messages.  The mock daemon records every call;
 * the test reads them with org.freedesktop.DBus.Mock.GetCalls and plays the
 * user with ActionInvoked.
 */

#include "config.h"

#include <libnotify/notify.h>
#include <string.h>

#include "popcheck-account-list.h"
#include "popcheck-checker.h"
#include "popcheck-goa-accounts.h"
#include "popcheck-mail-client.h"
#include "popcheck-mute.h"
#include "popcheck-notifier.h"
#include "popcheck-test-bus.h"
#include "popcheck-test-util.h"

/* How long the notification daemon and the notifier may take to answer. */
#define WAIT_MS 10000

#define NOTIFICATIONS_NAME "org.freedesktop.Notifications"
#define NOTIFICATIONS_PATH "/org/freedesktop/Notifications"
#define MOCK_INTERFACE "org.freedesktop.DBus.Mock"

typedef struct
{
  GSubprocess         *daemon;
  GDBusConnection     *client;
  PopcheckAccountList *accounts;
  PopcheckChecker     *checker;
  PopcheckMailbox     *work;
  PopcheckMailbox     *quiet;
  GSimpleActionGroup  *actions;
  GPtrArray           *activated;
  PopcheckNotifier    *notifier;
} Fixture;

static void
daemon_start (Fixture    *fixture,
              const char *capabilities)
{
  fixture->daemon = popcheck_test_notification_daemon_start (fixture->client,
                                                             capabilities);
}

static void
daemon_stop (Fixture *fixture)
{
  if (fixture->daemon == NULL)
    return;

  popcheck_test_notification_daemon_stop (fixture->client, fixture->daemon);
  g_clear_object (&fixture->daemon);
}

typedef struct
{
  guint32    replaces_id;
  char      *app_icon;
  char      *summary;
  char      *body;
  char     **actions;
  GVariant  *hints;
} NotifyCall;

static void
notify_call_free (NotifyCall *call)
{
  g_free (call->app_icon);
  g_free (call->summary);
  g_free (call->body);
  g_strfreev (call->actions);
  g_variant_unref (call->hints);
  g_free (call);
}

/* The calls of one method the daemon received, in order. */
static GPtrArray *
daemon_calls (Fixture    *fixture,
              const char *method)
{
  return popcheck_test_mock_calls (fixture->client, NOTIFICATIONS_NAME,
                                   NOTIFICATIONS_PATH, method);
}

static void wait_for_daemon_calls (Fixture    *fixture,
                                   const char *method,
                                   guint       count);

/* The Notify calls, once there are at least `expected`: the notifier asks
 * the server's capabilities first, so a notification goes out a moment
 * after the signal. */
static GPtrArray *
notify_calls (Fixture *fixture,
              guint    expected)
{
  g_autoptr(GPtrArray) raw = NULL;
  GPtrArray *calls = g_ptr_array_new_with_free_func ((GDestroyNotify) notify_call_free);

  if (expected > 0)
    wait_for_daemon_calls (fixture, "Notify", expected);
  raw = daemon_calls (fixture, "Notify");
  for (guint i = 0; i < raw->len; i++)
    {
      GVariant *args = g_ptr_array_index (raw, i);
      NotifyCall *call = g_new0 (NotifyCall, 1);
      g_autoptr(GVariant) icon = NULL;
      g_autoptr(GVariant) summary = NULL;
      g_autoptr(GVariant) body = NULL;
      g_autoptr(GVariant) actions = NULL;
      g_autoptr(GVariant) replaces_id = NULL;

      /* GetCalls gives the arguments as variants. */
      g_assert_cmpuint (g_variant_n_children (args), ==, 8);
      g_variant_get_child (args, 1, "v", &replaces_id);
      g_variant_get_child (args, 2, "v", &icon);
      g_variant_get_child (args, 3, "v", &summary);
      g_variant_get_child (args, 4, "v", &body);
      g_variant_get_child (args, 5, "v", &actions);
      g_variant_get_child (args, 6, "v", &call->hints);
      call->replaces_id = g_variant_get_uint32 (replaces_id);
      call->app_icon = g_variant_dup_string (icon, NULL);
      call->summary = g_variant_dup_string (summary, NULL);
      call->body = g_variant_dup_string (body, NULL);
      call->actions = g_variant_dup_strv (actions, NULL);
      g_ptr_array_add (calls, call);
    }

  return calls;
}

static void
emit_daemon_signal (Fixture    *fixture,
                    const char *name,
                    GVariant   *args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;

  reply = popcheck_test_call (fixture->client, NOTIFICATIONS_NAME,
                              NOTIFICATIONS_PATH, MOCK_INTERFACE, "EmitSignal",
                              g_variant_new ("(ss&s@av)", NOTIFICATIONS_NAME, name,
                                             g_str_equal (name, "ActionInvoked") ? "us" : "uu",
                                             args),
                              NULL, &error);
  g_assert_no_error (error);
}

/* Waits until the daemon has received `count` calls of `method`; fails
 * after 10 s. */
static void
wait_for_daemon_calls (Fixture    *fixture,
                       const char *method,
                       guint       count)
{
  gint64 deadline = popcheck_test_deadline (WAIT_MS);

  for (;;)
    {
      g_autoptr(GPtrArray) calls = daemon_calls (fixture, method);

      if (calls->len >= count)
        return;
      if (!popcheck_test_iterate (deadline))
        g_error ("The daemon received %u %s calls, not %u", calls->len,
                 method, count);
    }
}

/* The fixture */

static void
action_cb (GSimpleAction *action,
           GVariant      *parameter,
           gpointer       user_data)
{
  Fixture *fixture = user_data;
  g_autofree char *printed = NULL;

  printed = parameter != NULL ? g_variant_print (parameter, FALSE) : g_strdup ("");
  g_ptr_array_add (fixture->activated,
                   g_strdup_printf ("%s %s", g_action_get_name (G_ACTION (action)),
                                    printed));
}

static void
wait_for_activated (Fixture *fixture,
                    guint    count)
{
  gint64 deadline = popcheck_test_deadline (WAIT_MS);

  while (fixture->activated->len < count)
    {
      if (!popcheck_test_iterate (deadline))
        g_error ("%u actions activated, not %u", fixture->activated->len, count);
    }
}

static const GActionEntry action_entries[] = {
  { "show-message", action_cb, "(ss)", NULL, NULL, { 0 } },
  { "mark-seen", action_cb, "(sas)", NULL, NULL, { 0 } },
  { "show-window", action_cb, NULL, NULL, NULL, { 0 } },
  { "sign-in-again", action_cb, "s", NULL, NULL, { 0 } },
};

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  user_data)
{
  const char *capabilities = user_data;
  g_autoptr(GError) error = NULL;
  PopcheckAccount *account;

  fixture->client = popcheck_test_connect ();
  if (capabilities != NULL)
    daemon_start (fixture, capabilities);

  fixture->accounts = popcheck_account_list_new ();
  account = popcheck_account_list_add (fixture->accounts, "Work <& Co>", &error);
  g_assert_no_error (error);
  account = popcheck_account_list_add (fixture->accounts, "Quiet", &error);
  g_assert_no_error (error);
  popcheck_account_set_notify (account, FALSE);

  fixture->checker = popcheck_checker_new (fixture->accounts);
  fixture->work = g_object_ref (popcheck_checker_get_mailbox (fixture->checker,
                                                              "work-co"));
  fixture->quiet = g_object_ref (popcheck_checker_get_mailbox (fixture->checker,
                                                               "quiet"));
  g_assert_nonnull (fixture->work);
  g_assert_nonnull (fixture->quiet);

  fixture->activated = g_ptr_array_new_with_free_func (g_free);
  fixture->actions = g_simple_action_group_new ();
  g_action_map_add_action_entries (G_ACTION_MAP (fixture->actions),
                                   action_entries,
                                   G_N_ELEMENTS (action_entries), fixture);

  fixture->notifier = popcheck_notifier_new (G_ACTION_GROUP (fixture->actions),
                                             fixture->checker);
}

static gboolean
notify_uninitted (gpointer user_data)
{
  return !notify_is_initted ();
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_clear_object (&fixture->notifier);
  /* libnotify's state is the process's: the next test's thread must not
   * start before this one's has uninitialised it. */
  if (!popcheck_test_wait_until (notify_uninitted, NULL, WAIT_MS))
    g_error ("The notification thread never ended");
  daemon_stop (fixture);
  g_clear_object (&fixture->work);
  g_clear_object (&fixture->quiet);
  g_clear_object (&fixture->checker);
  g_clear_object (&fixture->accounts);
  g_clear_object (&fixture->actions);
  g_clear_pointer (&fixture->activated, g_ptr_array_unref);
  g_clear_object (&fixture->client);
}

/* New messages, emitted the way the checker emits them. */
static void
emit_new_messages (Fixture         *fixture,
                   PopcheckMailbox *mailbox,
                   guint            first,
                   guint            n)
{
  g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = first; i < first + n; i++)
    {
      g_autofree char *uid = g_strdup_printf ("uid-%u", i);
      g_autofree char *subject = g_strdup_printf ("Report %u", i);
      g_autofree char *date = g_strdup_printf ("Mon, 2 Mar 2026 10:%02u:00 +0000", i);

      g_ptr_array_add (messages,
                       popcheck_test_message_new (uid, "Bob <bob@example.org>",
                                                  subject, date));
    }

  g_signal_emit_by_name (fixture->checker, "new-messages", mailbox, messages);
}

static void
test_new_mail (Fixture       *fixture,
               gconstpointer  user_data)
{
  g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) calls = NULL;
  NotifyCall *call;
  const char *category = NULL;
  const char *desktop_entry = NULL;
  const char *expected_actions[] = { "default", "Open", "open", "Open",
                                     "mark-seen", "Mark as Seen", NULL };

  g_ptr_array_add (messages,
                   popcheck_test_message_new ("u1", "Eve <eve@example.org>",
                                              "Sale <b>&amp; more",
                                              "Mon, 2 Mar 2026 09:00:00 +0000"));
  g_ptr_array_add (messages,
                   popcheck_test_message_new ("u2", "\"Mallory <x>\" <m@example.org>",
                                              "<b>&",
                                              "Mon, 2 Mar 2026 11:00:00 +0000"));
  g_signal_emit_by_name (fixture->checker, "new-messages", fixture->work, messages);

  calls = notify_calls (fixture, 1);
  g_assert_cmpuint (calls->len, ==, 1);
  call = g_ptr_array_index (calls, 0);
  g_assert_cmpuint (call->replaces_id, ==, 0);
  g_assert_cmpstr (call->app_icon, ==, "org.example.PopCheck");
  g_assert_cmpstr (call->summary, ==, "2 new messages — Work <& Co>");
  /* Newest first; mail content escaped, our own markup not. */
  g_assert_cmpstr (call->body, ==,
                   "<b>Mallory &lt;x&gt;</b>: &lt;b&gt;&amp;\n"
                   "<b>Eve</b>: Sale &lt;b&gt;&amp;amp; more");
  g_assert_cmpstrv (call->actions, expected_actions);
  g_assert_true (g_variant_lookup (call->hints, "category", "&s", &category));
  g_assert_cmpstr (category, ==, "email.arrived");
  g_assert_true (g_variant_lookup (call->hints, "desktop-entry", "&s", &desktop_entry));
  g_assert_cmpstr (desktop_entry, ==, "org.example.PopCheck");
}

static void
test_replace (Fixture       *fixture,
              gconstpointer  user_data)
{
  g_autoptr(GPtrArray) calls = NULL;
  NotifyCall *first;
  NotifyCall *second;

  emit_new_messages (fixture, fixture->work, 1, 1);
  g_ptr_array_unref (notify_calls (fixture, 1));
  emit_new_messages (fixture, fixture->work, 2, 4);

  calls = notify_calls (fixture, 2);
  g_assert_cmpuint (calls->len, ==, 2);
  first = g_ptr_array_index (calls, 0);
  second = g_ptr_array_index (calls, 1);
  g_assert_cmpuint (first->replaces_id, ==, 0);
  /* The mock numbers from 1: the first notification is 1, and the second
   * call replaces it. */
  g_assert_cmpuint (second->replaces_id, ==, 1);
  g_assert_cmpstr (first->summary, ==, "1 new message — Work <& Co>");
  g_assert_cmpstr (second->summary, ==, "5 new messages — Work <& Co>");
  /* The first three, newest first, and how many more. */
  g_assert_cmpstr (second->body, ==,
                   "<b>Bob</b>: Report 5\n"
                   "<b>Bob</b>: Report 4\n"
                   "<b>Bob</b>: Report 3\n"
                   "and 2 more");

  /* Closed by the user: the next mail is a new notification. */
  emit_daemon_signal (fixture, "NotificationClosed",
                      g_variant_new_parsed ("[<uint32 1>, <uint32 2>]"));
  /* The daemon sent the signal before it answered; once the session bus
   * connection libnotify listens on has dispatched a later reply, the
   * notifier has seen it. */
  {
    g_autoptr(GDBusConnection) session = g_bus_get_sync (G_BUS_TYPE_SESSION,
                                                         NULL, NULL);

    g_assert_nonnull (session);
    popcheck_test_bus_barrier (session);
  }
  emit_new_messages (fixture, fixture->work, 6, 1);
  g_clear_pointer (&calls, g_ptr_array_unref);
  calls = notify_calls (fixture, 3);
  g_assert_cmpuint (calls->len, ==, 3);
  g_assert_cmpuint (((NotifyCall *) g_ptr_array_index (calls, 2))->replaces_id, ==, 0);
  g_assert_cmpstr (((NotifyCall *) g_ptr_array_index (calls, 2))->summary, ==,
                   "1 new message — Work <& Co>");
}

static void
test_quiet (Fixture       *fixture,
            gconstpointer  user_data)
{
  g_autoptr(GPtrArray) calls = NULL;

  /* What the first check found is not news. */
  g_signal_emit_by_name (fixture->checker, "first-check", fixture->work, 12);
  /* An account with notifications off. */
  emit_new_messages (fixture, fixture->quiet, 1, 2);
  /* All new-mail notifications off. */
  popcheck_notifier_set_notify_new_mail (fixture->notifier, FALSE);
  emit_new_messages (fixture, fixture->work, 1, 2);
  /* An empty batch. */
  popcheck_notifier_set_notify_new_mail (fixture->notifier, TRUE);
  emit_new_messages (fixture, fixture->work, 1, 0);

  /* And the same notifier still speaks when it should: this is the only
   * notification, and it holds only this message. */
  emit_new_messages (fixture, fixture->work, 7, 1);
  calls = notify_calls (fixture, 1);
  g_assert_cmpuint (calls->len, ==, 1);
  g_assert_cmpstr (((NotifyCall *) g_ptr_array_index (calls, 0))->summary, ==,
                   "1 new message — Work <& Co>");
  g_assert_cmpstr (((NotifyCall *) g_ptr_array_index (calls, 0))->body, ==,
                   "<b>Bob</b>: Report 7");
}

static void
test_default_action (Fixture       *fixture,
                     gconstpointer  user_data)
{

  emit_new_messages (fixture, fixture->work, 1, 3);
  g_ptr_array_unref (notify_calls (fixture, 1));

  /* The user clicks the notification: the newest message is shown. */
  emit_daemon_signal (fixture, "ActionInvoked",
                      g_variant_new_parsed ("[<uint32 1>, <'default'>]"));
  wait_for_activated (fixture, 1);
  g_assert_cmpstr (g_ptr_array_index (fixture->activated, 0), ==,
                   "show-message ('work-co', 'uid-3')");

  emit_daemon_signal (fixture, "ActionInvoked",
                      g_variant_new_parsed ("[<uint32 1>, <'open'>]"));
  wait_for_activated (fixture, 2);
  g_assert_cmpstr (g_ptr_array_index (fixture->activated, 1), ==,
                   "show-message ('work-co', 'uid-3')");

  /* Mark as Seen: what it announced is seen, and it closes; the next
   * mail is a notification of its own. */
  emit_daemon_signal (fixture, "ActionInvoked",
                      g_variant_new_parsed ("[<uint32 1>, <'mark-seen'>]"));
  wait_for_daemon_calls (fixture, "CloseNotification", 1);
  wait_for_activated (fixture, 3);
  g_assert_cmpstr (g_ptr_array_index (fixture->activated, 2), ==,
                   "mark-seen ('work-co', ['uid-3', 'uid-2', 'uid-1'])");

  emit_new_messages (fixture, fixture->work, 4, 1);
  {
    g_autoptr(GPtrArray) calls = notify_calls (fixture, 2);

    g_assert_cmpuint (((NotifyCall *) g_ptr_array_index (calls, 1))->replaces_id, ==, 0);
    g_assert_cmpstr (((NotifyCall *) g_ptr_array_index (calls, 1))->summary, ==,
                     "1 new message — Work <& Co>");
  }
}

/* A message seen in the window while its notification stays open is not
 * announced again by the next one. */
static void
test_seen_not_announced_again (Fixture       *fixture,
                               gconstpointer  user_data)
{
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GPtrArray) second = NULL;
  g_autoptr(GPtrArray) calls = NULL;
  const char *seen[] = { "b", NULL };
  /* The checker's own is loading its state file meanwhile. */
  g_autoptr(PopcheckMailbox) work = popcheck_mailbox_new ("work-co");
  NotifyCall *call;

  g_ptr_array_unref (popcheck_test_mailbox_sync (work,
                                                 (const char *[]) { "a", NULL }));
  first = popcheck_test_mailbox_sync (work,
                                      (const char *[]) { "a", "b", "c", NULL });
  g_assert_cmpuint (first->len, ==, 2);
  g_signal_emit_by_name (fixture->checker, "new-messages", work, first);
  g_ptr_array_unref (notify_calls (fixture, 1));

  g_assert_true (popcheck_mailbox_mark_seen (work, seen));
  second = popcheck_test_mailbox_sync (work,
                                       (const char *[]) { "a", "b", "c", "d", NULL });
  g_assert_cmpuint (second->len, ==, 1);
  g_signal_emit_by_name (fixture->checker, "new-messages", work, second);

  calls = notify_calls (fixture, 2);
  call = g_ptr_array_index (calls, 1);
  g_assert_cmpuint (call->replaces_id, ==, 1);
  g_assert_cmpstr (call->summary, ==, "2 new messages — Work <& Co>");
  g_assert_null (strstr (call->body, "Message b"));
  g_assert_nonnull (strstr (call->body, "Message c"));
  g_assert_nonnull (strstr (call->body, "Message d"));
}

/* A message the server would not send the headers of is announced as
 * such, not as one without a subject. */
static void
test_without_headers (Fixture       *fixture,
                      gconstpointer  user_data)
{
  g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) calls = NULL;

  g_ptr_array_add (messages, popcheck_message_new_without_headers ("u1", 4321, 1));
  g_signal_emit_by_name (fixture->checker, "new-messages", fixture->work, messages);

  calls = notify_calls (fixture, 1);
  g_assert_cmpuint (calls->len, ==, 1);
  g_assert_cmpstr (((NotifyCall *) g_ptr_array_index (calls, 0))->body, ==,
                   "Unknown sender: (headers not available)");
}

/* A check that left headers for later announces every new message but
 * names only those it has the headers of; the others are counted. */
static void
test_headers_pending (Fixture       *fixture,
                      gconstpointer  user_data)
{
  g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) calls = NULL;
  NotifyCall *call;

  for (guint i = 1; i <= 3; i++)
    {
      g_autofree char *uid = g_strdup_printf ("later-%u", i);

      g_ptr_array_add (messages, popcheck_message_new_headers_pending (uid, 1000, i));
    }
  g_ptr_array_add (messages,
                   popcheck_test_message_new ("u1", "Bob <bob@example.org>", "Report 1",
                                              "Mon, 2 Mar 2026 10:01:00 +0000"));
  g_ptr_array_add (messages,
                   popcheck_test_message_new ("u2", "Bob <bob@example.org>", "Report 2",
                                              "Mon, 2 Mar 2026 10:02:00 +0000"));
  g_signal_emit_by_name (fixture->checker, "new-messages", fixture->work, messages);

  calls = notify_calls (fixture, 1);
  g_assert_cmpuint (calls->len, ==, 1);
  call = g_ptr_array_index (calls, 0);
  g_assert_cmpstr (call->summary, ==, "5 new messages — Work <& Co>");
  g_assert_cmpstr (call->body, ==, "Bob: Report 2\nBob: Report 1\nand 3 more");
}

static void
test_no_actions (Fixture       *fixture,
                 gconstpointer  user_data)
{
  g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) calls = NULL;
  NotifyCall *call;

  g_ptr_array_add (messages,
                   popcheck_test_message_new ("u1", "Eve <eve@example.org>", "<b>&",
                                              "Mon, 2 Mar 2026 09:00:00 +0000"));
  g_signal_emit_by_name (fixture->checker, "new-messages", fixture->work, messages);

  calls = notify_calls (fixture, 1);
  g_assert_cmpuint (calls->len, ==, 1);
  call = g_ptr_array_index (calls, 0);
  g_assert_cmpuint (g_strv_length (call->actions), ==, 0);
  /* No body-markup either: the text as it is, nothing to interpret. */
  g_assert_cmpstr (call->body, ==, "Eve: <b>&");
}

static void
removed_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (popcheck_account_list_remove_finish (POPCHECK_ACCOUNT_LIST (object),
                                                      result, &error));
  g_assert_no_error (error);
  *(gboolean *) user_data = TRUE;
}

static void
test_problem (Fixture       *fixture,
              gconstpointer  user_data)
{
  g_autoptr(GPtrArray) calls = NULL;
  NotifyCall *call;

  popcheck_mailbox_set_state (fixture->work, POPCHECK_MAILBOX_STATE_ERROR,
                              POPCHECK_PROBLEM_AUTH,
                              "The server refused the password for <bob>");
  g_signal_emit_by_name (fixture->checker, "problem", fixture->work);
  /* The same problem again (a retry that fails the same way): nothing. */
  g_signal_emit_by_name (fixture->checker, "problem", fixture->work);

  calls = notify_calls (fixture, 1);
  g_assert_cmpuint (calls->len, ==, 1);
  call = g_ptr_array_index (calls, 0);
  g_assert_cmpstr (call->summary, ==, "PopCheck cannot check Work <& Co>");
  g_assert_cmpstr (call->body, ==, "The server refused the password for &lt;bob&gt;");

  /* Fixed: the stale notice goes, and a later problem is news again. */
  popcheck_mailbox_set_state (fixture->work, POPCHECK_MAILBOX_STATE_IDLE,
                              POPCHECK_PROBLEM_NONE, NULL);
  wait_for_daemon_calls (fixture, "CloseNotification", 1);

  popcheck_mailbox_set_state (fixture->work, POPCHECK_MAILBOX_STATE_ERROR,
                              POPCHECK_PROBLEM_CERTIFICATE,
                              "The certificate changed");
  g_signal_emit_by_name (fixture->checker, "problem", fixture->work);
  g_clear_pointer (&calls, g_ptr_array_unref);
  calls = notify_calls (fixture, 2);
  g_assert_cmpuint (calls->len, ==, 2);

  /* Errors off: nothing, for any account. */
  popcheck_notifier_set_notify_errors (fixture->notifier, FALSE);
  popcheck_mailbox_set_state (fixture->quiet, POPCHECK_MAILBOX_STATE_ERROR,
                              POPCHECK_PROBLEM_AUTH, "No");
  g_signal_emit_by_name (fixture->checker, "problem", fixture->quiet);

  /* On again, the next problem is the next notification: nothing came
   * in between. */
  popcheck_notifier_set_notify_errors (fixture->notifier, TRUE);
  popcheck_mailbox_set_state (fixture->quiet, POPCHECK_MAILBOX_STATE_ERROR,
                              POPCHECK_PROBLEM_AUTH, "Still no");
  g_signal_emit_by_name (fixture->checker, "problem", fixture->quiet);
  g_clear_pointer (&calls, g_ptr_array_unref);
  calls = notify_calls (fixture, 3);
  g_assert_cmpuint (calls->len, ==, 3);
  g_assert_cmpstr (((NotifyCall *) g_ptr_array_index (calls, 2))->summary, ==,
                   "PopCheck cannot check Quiet");
  g_assert_cmpstr (((NotifyCall *) g_ptr_array_index (calls, 2))->body, ==,
                   "Still no");

  /* Removed and added again under the same name: its problem is news. */
  {
    PopcheckAccount *quiet = popcheck_account_list_lookup (fixture->accounts, "quiet");
    PopcheckMailbox *again;
    g_autoptr(GError) error = NULL;
    gboolean removed = FALSE;

    popcheck_account_list_remove_async (fixture->accounts, quiet, NULL,
                                        removed_cb, &removed);
    POPCHECK_TEST_WAIT_UNTIL (removed, WAIT_MS);
    g_assert_nonnull (popcheck_account_list_add (fixture->accounts, "Quiet", &error));
    g_assert_no_error (error);
    again = popcheck_checker_get_mailbox (fixture->checker, "quiet");
    popcheck_mailbox_set_state (again, POPCHECK_MAILBOX_STATE_ERROR,
                                POPCHECK_PROBLEM_AUTH, "Wrong again");
    g_signal_emit_by_name (fixture->checker, "problem", again);
    g_clear_pointer (&calls, g_ptr_array_unref);
    calls = notify_calls (fixture, 4);
    g_assert_cmpuint (calls->len, ==, 4);
    g_assert_cmpstr (((NotifyCall *) g_ptr_array_index (calls, 3))->body, ==,
                     "Wrong again");
  }
}

/* The one notification of a sign-in to make again: its words, and a
 * button labelled @button that asks the application to sign the account
 * in again ("sign-in-again 'ID'" in fixture->activated). */
static void
assert_sign_in_notice (Fixture    *fixture,
                       const char *summary,
                       const char *words,
                       const char *button,
                       const char *activated)
{
  g_autoptr(GPtrArray) calls = notify_calls (fixture, 1);
  const char *expected_actions[] = { "default", "Show",
                                     "sign-in-again", button, NULL };
  NotifyCall *call;

  g_assert_cmpuint (calls->len, ==, 1);
  call = g_ptr_array_index (calls, 0);
  g_assert_cmpstr (call->summary, ==, summary);
  g_assert_cmpstr (call->body, ==, words);
  g_assert_cmpstrv (call->actions, expected_actions);

  emit_daemon_signal (fixture, "ActionInvoked",
                      g_variant_new_parsed ("[<uint32 1>, <'sign-in-again'>]"));
  wait_for_activated (fixture, 1);
  g_assert_cmpstr (g_ptr_array_index (fixture->activated, 0), ==, activated);
}

/* An OAuth2 sign-in no longer taken: its own words, and a button that
 * signs in again; once, however often the checker retries. */
static void
test_sign_in_again (Fixture       *fixture,
                    gconstpointer  user_data)
{
  const char *words = "Microsoft no longer accepts PopCheck’s sign-in for "
                      "bob@example.org. Sign in again to keep checking.";

  popcheck_mailbox_set_state (fixture->work, POPCHECK_MAILBOX_STATE_ERROR,
                              POPCHECK_PROBLEM_SIGN_IN, words);
  g_signal_emit_by_name (fixture->checker, "problem", fixture->work);
  /* The next check fails the same way: nothing new to say. */
  popcheck_mailbox_set_state (fixture->work, POPCHECK_MAILBOX_STATE_CHECKING,
                              POPCHECK_PROBLEM_NONE, NULL);
  popcheck_mailbox_set_state (fixture->work, POPCHECK_MAILBOX_STATE_ERROR,
                              POPCHECK_PROBLEM_SIGN_IN, words);
  g_signal_emit_by_name (fixture->checker, "problem", fixture->work);

  assert_sign_in_notice (fixture, "Sign in to Work <& Co> again", words,
                         "Sign In Again", "sign-in-again 'work-co'");
}

/* An account of Online Accounts to sign in to again: PopCheck cannot sign
 * it in itself, so the notification's button says where it leads, and
 * still asks the application to sign it in again. */
static void
test_sign_in_again_online (Fixture       *fixture,
                           gconstpointer  user_data)
{
  g_autoptr(GSubprocess) goa = popcheck_test_goa_start (fixture->client);
  g_autoptr(PopcheckGoaAccounts) online = popcheck_goa_accounts_new ();
  g_autoptr(GError) error = NULL;
  const char *words = "Online Accounts needs you to sign in to this account "
                      "again. Open Settings → Online Accounts.";
  PopcheckMailbox *mailbox;

  popcheck_account_list_set_external (fixture->accounts, G_LIST_MODEL (online));
  popcheck_test_goa_call (fixture->client, "AddAccount",
                          g_variant_new ("(ssss)", "google", "google", "reader",
                                         "reader@gmail.com"));
  POPCHECK_TEST_WAIT_UNTIL ((mailbox = popcheck_checker_get_mailbox (fixture->checker,
                                                                     "goa_google")) != NULL,
                            WAIT_MS);

  popcheck_mailbox_set_state (mailbox, POPCHECK_MAILBOX_STATE_ERROR,
                              POPCHECK_PROBLEM_SIGN_IN, words);
  g_signal_emit_by_name (fixture->checker, "problem", mailbox);
  assert_sign_in_notice (fixture, "Sign in to reader@gmail.com again", words,
                         "Open Settings", "sign-in-again 'goa_google'");

  popcheck_test_goa_call (fixture->client, "RemoveAccount",
                          g_variant_new ("(s)", "google"));
  POPCHECK_TEST_WAIT_UNTIL (popcheck_checker_get_mailbox (fixture->checker,
                                                          "goa_google") == NULL,
                            WAIT_MS);
  g_subprocess_send_signal (goa, SIGTERM);
  g_subprocess_wait (goa, NULL, &error);
  g_assert_no_error (error);
  popcheck_test_wait_for_owner (fixture->client, "org.gnome.OnlineAccounts", FALSE);
}

static guint n_messages_logged;

static void
count_messages_cb (const char     *log_domain,
                   GLogLevelFlags  log_level,
                   const char     *message,
                   gpointer        user_data)
{
  n_messages_logged++;
  g_test_message ("logged: %s", message);
}

static void
test_no_server (Fixture       *fixture,
                gconstpointer  user_data)
{
  guint handler;

  g_assert_false (popcheck_test_name_has_owner (fixture->client, NOTIFICATIONS_NAME));

  handler = g_log_set_handler ("popcheck-notifier",
                               G_LOG_LEVEL_MASK & ~G_LOG_LEVEL_DEBUG,
                               count_messages_cb, NULL);
  n_messages_logged = 0;

  /* Mail keeps coming, problems too: one line in the log, no more. */
  for (guint i = 0; i < 5; i++)
    emit_new_messages (fixture, fixture->work, i * 10, 2);
  popcheck_mailbox_set_state (fixture->work, POPCHECK_MAILBOX_STATE_ERROR,
                              POPCHECK_PROBLEM_AUTH, "No");
  g_signal_emit_by_name (fixture->checker, "problem", fixture->work);
  {
    gint64 deadline = popcheck_test_deadline (WAIT_MS);

    while (n_messages_logged == 0)
      {
        if (!popcheck_test_iterate (deadline))
          g_error ("The missing server was never reported");
      }
  }

  /* The server comes: notifications work again, the mail that could not
   * be announced included. */
  daemon_start (fixture, "actions body body-markup");
  emit_new_messages (fixture, fixture->work, 50, 1);
  {
    g_autoptr(GPtrArray) calls = notify_calls (fixture, 1);

    g_assert_cmpuint (calls->len, ==, 1);
    g_assert_cmpstr (((NotifyCall *) g_ptr_array_index (calls, 0))->summary, ==,
                     "11 new messages — Work <& Co>");
  }
  /* All that time, one line in the log. */
  g_assert_cmpuint (n_messages_logged, ==, 1);

  g_log_remove_handler ("popcheck-notifier", handler);
}

#define TICK_MS 20

static gboolean
tick_cb (gpointer user_data)
{
  popcheck_test_beat (user_data);
  return G_SOURCE_CONTINUE;
}

/* Iterates the main context until *counter reaches `count`; fails after
 * 10 s, far less than the 25 s libnotify waits for a reply. */
static void
wait_for_count (const guint *counter,
                guint        count,
                const char  *what)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (*counter < count)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("%s: %u, not %u", what, *counter, count);
      g_main_context_iteration (NULL, TRUE);
    }
}

/* libnotify's thread uninitializes it, and wakes no main context. */

static void
test_hanging_server (Fixture       *fixture,
                     gconstpointer  user_data)
{
  PopcheckTestHangingServer *server = popcheck_test_hanging_server_new ();
  PopcheckTestBeat ticker = { 0, 0, 0 };
  guint tick_id;
  gint64 started;

  tick_id = g_timeout_add (TICK_MS, tick_cb, &ticker);

  /* The first notification goes out, and the server keeps it. */
  emit_new_messages (fixture, fixture->work, 1, 1);
  wait_for_count (&server->n_notify, 1, "Notify calls");

  /* With libnotify inside Notify, the main context goes on: the timeout
   * keeps firing at its rate, from before the notification went out to
   * as long as the test watches. */
  started = g_get_monotonic_time ();
  wait_for_count (&ticker.n_beats, ticker.n_beats + 50,
                  "ticks while the server hangs");
  g_test_message ("50 ticks of %d ms in %" G_GINT64_FORMAT " ms, the longest gap %"
                  G_GINT64_FORMAT " ms", TICK_MS,
                  (g_get_monotonic_time () - started) / 1000,
                  ticker.longest_gap / 1000);
  /* Generous for a loaded machine, and still far from libnotify's 25 s. */
  g_assert_cmpint (ticker.longest_gap, <, 5 * G_USEC_PER_SEC);
  g_assert_cmpuint (server->n_notify, ==, 1);
  g_assert_cmpuint (server->held->len, ==, 1);

  /* Later checks are heard: more mail and a problem each ask the server
   * for its capabilities, while the first Notify still waits. */
  emit_new_messages (fixture, fixture->work, 2, 1);
  popcheck_mailbox_set_state (fixture->quiet, POPCHECK_MAILBOX_STATE_ERROR,
                              POPCHECK_PROBLEM_AUTH, "No");
  g_signal_emit_by_name (fixture->checker, "problem", fixture->quiet);
  wait_for_count (&server->n_capabilities, 3, "GetCapabilities calls");
  g_assert_cmpuint (server->n_notify, ==, 1);

  /* Quitting does not wait for the server beyond a moment: the notifier
   * goes (once the capability replies it waits for are in) while
   * libnotify, in its thread, still waits for the first Notify. */
  {
    PopcheckNotifier *notifier = g_steal_pointer (&fixture->notifier);
    gint64 deadline;

    g_object_add_weak_pointer (G_OBJECT (notifier), (gpointer *) &notifier);
    started = g_get_monotonic_time ();
    deadline = started + 10 * G_USEC_PER_SEC;
    g_object_unref (notifier);
    while (notifier != NULL)
      {
        if (g_get_monotonic_time () > deadline)
          g_error ("The notifier was never finalized");
        g_main_context_iteration (NULL, TRUE);
      }
    g_test_message ("The notifier went in %" G_GINT64_FORMAT " ms",
                    (g_get_monotonic_time () - started) / 1000);
    g_assert_cmpint (g_get_monotonic_time () - started, <, 5 * G_USEC_PER_SEC);
    g_assert_cmpuint (server->held->len, ==, 1);
    g_assert_true (notify_is_initted ());
  }

  /* The stuck call ends with an error; the thread then ends, and with it
   * libnotify (the last thing it does), before the next test. */
  popcheck_test_hanging_server_release (server);
  if (!popcheck_test_wait_until (notify_uninitted, NULL, WAIT_MS))
    g_error ("The notification thread never ended");

  g_source_remove (tick_id);
  popcheck_test_hanging_server_free (server);
}

/* The sound: the desktop's new-mail sound goes with the notification of
 * an account that has it on, and with no other. */
static void
test_sound (Fixture       *fixture,
            gconstpointer  user_data)
{
  PopcheckAccount *work = popcheck_account_list_lookup (fixture->accounts, "work-co");
  PopcheckAccount *quiet = popcheck_account_list_lookup (fixture->accounts, "quiet");
  g_autoptr(GPtrArray) calls = NULL;
  const char *sound = NULL;

  /* On by default; Quiet notifies, without a sound. */
  g_assert_true (popcheck_account_get_sound (work));
  popcheck_account_set_notify (quiet, TRUE);
  popcheck_account_set_sound (quiet, FALSE);

  emit_new_messages (fixture, fixture->work, 1, 1);
  g_ptr_array_unref (notify_calls (fixture, 1));
  emit_new_messages (fixture, fixture->quiet, 2, 1);
  g_ptr_array_unref (notify_calls (fixture, 2));
  /* Turned off: the replacing notification is silent too. */
  popcheck_account_set_sound (work, FALSE);
  emit_new_messages (fixture, fixture->work, 3, 1);

  calls = notify_calls (fixture, 3);
  g_assert_cmpuint (calls->len, ==, 3);
  g_assert_true (g_variant_lookup (((NotifyCall *) g_ptr_array_index (calls, 0))->hints,
                                   "sound-name", "&s", &sound));
  g_assert_cmpstr (sound, ==, "message-new-email");
  g_assert_cmpstr (((NotifyCall *) g_ptr_array_index (calls, 1))->summary, ==,
                   "1 new message — Quiet");
  g_assert_false (g_variant_lookup (((NotifyCall *) g_ptr_array_index (calls, 1))->hints,
                                    "sound-name", "&s", &sound));
  g_assert_cmpuint (((NotifyCall *) g_ptr_array_index (calls, 2))->replaces_id, ==, 1);
  g_assert_false (g_variant_lookup (((NotifyCall *) g_ptr_array_index (calls, 2))->hints,
                                    "sound-name", "&s", &sound));
}

/* The mute, on a clock the test moves. */
static gint64 fake_now;

static gint64
fake_clock (gpointer user_data)
{
  return fake_now;
}

static NotifyCall *
find_call (GPtrArray  *calls,
           const char *summary)
{
  for (guint i = 0; i < calls->len; i++)
    {
      NotifyCall *call = g_ptr_array_index (calls, i);

      if (g_str_equal (call->summary, summary))
        return call;
    }

  return NULL;
}

static void
test_mute (Fixture       *fixture,
           gconstpointer  user_data)
{
  g_autoptr(PopcheckMute) mute = popcheck_mute_new ();
  g_autoptr(GPtrArray) calls = NULL;
  NotifyCall *mail;

  fake_now = 1772445600;
  popcheck_mute_set_clock (mute, fake_clock, NULL);
  popcheck_notifier_set_mute (fixture->notifier, mute);

  /* Muted: neither mail nor a problem is shown. */
  popcheck_mute_mute_for (mute, 60 * 60);
  emit_new_messages (fixture, fixture->work, 1, 2);
  popcheck_mailbox_set_state (fixture->quiet, POPCHECK_MAILBOX_STATE_ERROR,
                              POPCHECK_PROBLEM_AUTH, "Wrong password");
  g_signal_emit_by_name (fixture->checker, "problem", fixture->quiet);

  /* Unmuted by the user: mail is shown again, only what came since. */
  popcheck_mute_unmute (mute);
  emit_new_messages (fixture, fixture->work, 3, 1);
  calls = notify_calls (fixture, 2);
  g_assert_cmpuint (calls->len, ==, 2);
  /* The problem, which still needs the user, comes when the mute ends;
   * the two go out in either order. */
  mail = find_call (calls, "1 new message — Work <& Co>");
  g_assert_nonnull (mail);
  g_assert_cmpstr (mail->body, ==, "<b>Bob</b>: Report 3");
  g_assert_nonnull (find_call (calls, "PopCheck cannot check Quiet"));

  /* Muted for an hour, and the hour passes: notifications resume on
   * their own. */
  popcheck_mute_mute_for (mute, 60 * 60);
  emit_new_messages (fixture, fixture->work, 4, 1);
  fake_now += 60 * 59;
  popcheck_mute_refresh (mute);
  g_assert_true (popcheck_mute_get_muted (mute));
  emit_new_messages (fixture, fixture->work, 5, 1);
  fake_now += 60;
  popcheck_mute_refresh (mute);
  g_assert_false (popcheck_mute_get_muted (mute));
  emit_new_messages (fixture, fixture->work, 6, 1);

  g_clear_pointer (&calls, g_ptr_array_unref);
  calls = notify_calls (fixture, 3);
  g_assert_cmpuint (calls->len, ==, 3);
  /* The notification still on screen is replaced: 3 and 6, nothing from
   * the muted hour. */
  mail = g_ptr_array_index (calls, 2);
  g_assert_cmpuint (mail->replaces_id, !=, 0);
  g_assert_cmpstr (mail->summary, ==, "2 new messages — Work <& Co>");
  g_assert_cmpstr (mail->body, ==,
                   "<b>Bob</b>: Report 6\n"
                   "<b>Bob</b>: Report 3");
}

/* "Open Mail Client": the desktop's mailto: handler, a script of the
 * test's that leaves a file behind when it runs. */
static void
mail_client_launched_cb (GObject      *object,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  GError **error = user_data;

  popcheck_mail_client_launch_finish (POPCHECK_MAIL_CLIENT (object), result, error);
}

static void
open_mail_client_cb (GSimpleAction *action,
                     GVariant      *parameter,
                     gpointer       user_data)
{
  PopcheckMailClient *mail_client = user_data;
  static GError *error;

  /* What the application's action does, with no display. */
  popcheck_mail_client_launch_async (mail_client, NULL, NULL,
                                     mail_client_launched_cb, &error);
}

/* The application's "open-mail-client", enabled while there is one. */
static PopcheckMailClient *
add_open_mail_client (Fixture *fixture)
{
  PopcheckMailClient *mail_client = popcheck_mail_client_new ();
  g_autoptr(GSimpleAction) action = g_simple_action_new ("open-mail-client", NULL);

  g_signal_connect (action, "activate", G_CALLBACK (open_mail_client_cb), mail_client);
  g_object_bind_property (mail_client, "available", action, "enabled",
                          G_BINDING_SYNC_CREATE);
  g_action_map_add_action (G_ACTION_MAP (fixture->actions), G_ACTION (action));
  return mail_client;
}

static void
test_open_mail_client (Fixture       *fixture,
                       gconstpointer  user_data)
{
  g_autofree char *ran = popcheck_test_install_mail_handler ();
  g_autoptr(PopcheckMailClient) mail_client = add_open_mail_client (fixture);
  g_autoptr(GPtrArray) calls = NULL;
  g_autofree char *contents = NULL;
  const char *expected_actions[] = { "default", "Open", "open", "Open",
                                     "mark-seen", "Mark as Seen",
                                     "open-mail-client", "Open Mail Client", NULL };

  g_assert_true (popcheck_mail_client_get_available (mail_client));

  emit_new_messages (fixture, fixture->work, 1, 1);
  calls = notify_calls (fixture, 1);
  g_assert_cmpstrv (((NotifyCall *) g_ptr_array_index (calls, 0))->actions,
                    expected_actions);

  emit_daemon_signal (fixture, "ActionInvoked",
                      g_variant_new_parsed ("[<uint32 1>, <'open-mail-client'>]"));
  POPCHECK_TEST_WAIT_UNTIL (g_file_test (ran, G_FILE_TEST_EXISTS), WAIT_MS);
  g_assert_true (g_file_get_contents (ran, &contents, NULL, NULL));
  /* Opened as from the menu, not to write to someone. */
  g_assert_cmpstr (contents, ==, "ran:");
  g_assert_cmpuint (fixture->activated->len, ==, 0);
}

/* No mail program set: the notification offers no action that would
 * fail, and asked anyway, the reason is in words. */
static void
test_no_mail_client (Fixture       *fixture,
                     gconstpointer  user_data)
{
  g_autoptr(PopcheckMailClient) mail_client = add_open_mail_client (fixture);
  g_autoptr(GPtrArray) calls = NULL;
  g_autoptr(GError) error = NULL;
  const char *expected_actions[] = { "default", "Open", "open", "Open",
                                     "mark-seen", "Mark as Seen", NULL };

  g_assert_false (popcheck_mail_client_get_available (mail_client));
  g_assert_false (g_action_group_get_action_enabled (G_ACTION_GROUP (fixture->actions),
                                                     "open-mail-client"));

  emit_new_messages (fixture, fixture->work, 1, 1);
  calls = notify_calls (fixture, 1);
  g_assert_cmpstrv (((NotifyCall *) g_ptr_array_index (calls, 0))->actions,
                    expected_actions);

  popcheck_mail_client_launch_async (mail_client, NULL, NULL,
                                     mail_client_launched_cb, &error);
  POPCHECK_TEST_WAIT_UNTIL (error != NULL, WAIT_MS);
  g_assert_error (error, POPCHECK_MAIL_CLIENT_ERROR,
                  POPCHECK_MAIL_CLIENT_ERROR_NONE_SET);
  g_assert_cmpstr (error->message, ==,
                   "No mail program is set. Choose one in your desktop’s "
                   "settings, under Default Applications.");
}

/* Running in the background on a desktop without a tray: how to get the
 * window back, and a click on it does. */
static void
test_background_hint (Fixture       *fixture,
                      gconstpointer  user_data)
{
  g_autoptr(GPtrArray) calls = NULL;
  NotifyCall *call;
  const char *expected_actions[] = { "default", "Open PopCheck", NULL };

  popcheck_notifier_show_background_hint (fixture->notifier);
  calls = notify_calls (fixture, 1);
  g_assert_cmpuint (calls->len, ==, 1);
  call = g_ptr_array_index (calls, 0);
  g_assert_cmpstr (call->summary, ==, "PopCheck Is Still Running");
  g_assert_cmpstr (call->body, ==,
                   "It keeps checking your mail. To open it again, choose "
                   "PopCheck in the application menu, or click a new-mail "
                   "notification.");
  g_assert_cmpstrv (call->actions, expected_actions);
  g_assert_false (g_variant_lookup (call->hints, "sound-name", "&s", NULL));

  emit_daemon_signal (fixture, "ActionInvoked",
                      g_variant_new_parsed ("[<uint32 1>, <'default'>]"));
  wait_for_activated (fixture, 1);
  g_assert_cmpstr (g_ptr_array_index (fixture->activated, 0), ==, "show-window ");
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GTestDBus) bus = NULL;
  int ret;

  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_test_dbus_up (bus);

#define ADD(path, func, caps) \
  g_test_add (path, Fixture, caps, fixture_set_up, func, fixture_tear_down)

  /* First, while libnotify has never reached a server: it must not be
   * asked anything then (it warns on every capability query). */
  ADD ("/notifier/no-server", test_no_server, NULL);
  ADD ("/notifier/new-mail", test_new_mail, "actions body body-markup");
  ADD ("/notifier/replace", test_replace, "actions body body-markup");
  ADD ("/notifier/quiet", test_quiet, "actions body body-markup");
  ADD ("/notifier/default-action", test_default_action, "actions body body-markup");
  ADD ("/notifier/seen-not-announced-again", test_seen_not_announced_again,
       "actions body body-markup");
  ADD ("/notifier/no-actions", test_no_actions, "body");
  ADD ("/notifier/without-headers", test_without_headers, "body");
  ADD ("/notifier/headers-pending", test_headers_pending, "body");
  ADD ("/notifier/problem", test_problem, "actions body body-markup");
  ADD ("/notifier/sign-in-again", test_sign_in_again, "actions body body-markup");
  ADD ("/notifier/sign-in-again-online", test_sign_in_again_online,
       "actions body body-markup");
  ADD ("/notifier/sound", test_sound, "actions body body-markup");
  ADD ("/notifier/mute", test_mute, "actions body body-markup");
  ADD ("/notifier/no-mail-client", test_no_mail_client, "actions body body-markup");
  ADD ("/notifier/open-mail-client", test_open_mail_client, "actions body body-markup");
  ADD ("/notifier/background-hint", test_background_hint, "actions body body-markup");
  /* Its own server, which never answers Notify. */
  ADD ("/notifier/hanging-server", test_hanging_server, NULL);

#undef ADD

  ret = g_test_run ();
  /* libnotify keeps its proxy, and with it the session connection, until
   * notify_uninit. */
  notify_uninit ();
  g_test_dbus_down (bus);

  /* LeakSanitizer checks at exit: with no worker thread left. */
  popcheck_test_quiesce_threads ();

  return ret;
}
