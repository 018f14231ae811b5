/* test-checker.c: the checker of issue 3 against Dovecot and the fake server
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Run only by tests/keyring-harness (POPCHECK_TEST_KEYRING says what it set
 * up): passwords come from a real gnome-keyring-daemon on a private bus,
 * mail from the real Dovecot demo server (tests/popcheck-test-demo.c), and
 * faults from the scripted fake server.  Every session's commands are
 * recorded through the client's "debug" signal, so that a test can say
 * "no TOP", "never RETR", "RSET before QUIT".
 *
 * The soak test (/checker/soak) exists only with -m slow; meson runs it in
 * the "soak" suite, which the default test setup leaves out.
 */

#define G_LOG_DOMAIN "popcheck-test-checker"

#include "config.h"

#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <libsecret/secret.h>

#include "pop3-fake-server.h"
#include "popcheck-account.h"
#include "popcheck-account-list.h"
#include "popcheck-checker.h"
#include "popcheck-checker-private.h"
#include "popcheck-connection-test.h"
#include "popcheck-mailbox.h"
#include "popcheck-message.h"
#include "popcheck-secret.h"
#include "popcheck-test-demo.h"
#include "popcheck-test-util.h"

#define FAKE_USER     "guido"
#define FAKE_PASSWORD "python"
#define WAIT_SECONDS  20

static PopcheckTestDemo *demo;

/* Waiting, always with a deadline ------------------------------------------ */

/* Iterates the main context until cond holds; fails the test after
 * `seconds`. */
#define WAIT_UNTIL(cond, seconds) \
  POPCHECK_TEST_WAIT_UNTIL (cond, (seconds) * 1000)

/* Runs everything that is ready now, without waiting for more. */
static void
drain_main_context (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
store_result_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GAsyncResult **out = user_data;

  g_assert_null (*out);
  *out = g_object_ref (result);
}

static GAsyncResult *
await_result (GAsyncResult **result)
{
  WAIT_UNTIL (*result != NULL, WAIT_SECONDS);
  return *result;
}

/* A network monitor the test controls ------------------------------------- */

#define TEST_TYPE_MONITOR (test_monitor_get_type ())
G_DECLARE_FINAL_TYPE (TestMonitor, test_monitor, TEST, MONITOR, GObject)

struct _TestMonitor
{
  GObject  parent_instance;
  gboolean available;
};

static gboolean
test_monitor_initable_init (GInitable     *initable,
                            GCancellable  *cancellable,
                            GError       **error)
{
  return TRUE;
}

static void
test_monitor_initable_iface_init (GInitableIface *iface)
{
  iface->init = test_monitor_initable_init;
}

static void
test_monitor_iface_init (GNetworkMonitorInterface *iface)
{
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestMonitor, test_monitor, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE,
                                                      test_monitor_initable_iface_init)
                               G_IMPLEMENT_INTERFACE (G_TYPE_NETWORK_MONITOR,
                                                      test_monitor_iface_init))

enum {
  MONITOR_PROP_0,
  MONITOR_PROP_AVAILABLE,
  MONITOR_PROP_METERED,
  MONITOR_PROP_CONNECTIVITY,
};

static void
test_monitor_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  TestMonitor *self = TEST_MONITOR (object);

  switch (prop_id)
    {
    case MONITOR_PROP_AVAILABLE:
      g_value_set_boolean (value, self->available);
      break;
    case MONITOR_PROP_METERED:
      g_value_set_boolean (value, FALSE);
      break;
    case MONITOR_PROP_CONNECTIVITY:
      g_value_set_enum (value, self->available ? G_NETWORK_CONNECTIVITY_FULL
                                               : G_NETWORK_CONNECTIVITY_LOCAL);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
test_monitor_class_init (TestMonitorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = test_monitor_get_property;
  g_object_class_override_property (object_class, MONITOR_PROP_AVAILABLE,
                                    "network-available");
  g_object_class_override_property (object_class, MONITOR_PROP_METERED,
                                    "network-metered");
  g_object_class_override_property (object_class, MONITOR_PROP_CONNECTIVITY,
                                    "connectivity");
}

static void
test_monitor_init (TestMonitor *self)
{
  self->available = TRUE;
}

static void
test_monitor_set_available (TestMonitor *self,
                            gboolean     available)
{
  self->available = available;
  g_object_notify (G_OBJECT (self), "network-available");
  g_signal_emit_by_name (self, "network-changed", available);
}

/* The fixture -------------------------------------------------------------- */

typedef struct
{
  PopcheckAccountList *accounts;
  PopcheckChecker     *checker;
  TestMonitor         *monitor;
  /* "first ACCOUNT N", "new ACCOUNT SUBJECT", "problem ACCOUNT" */
  GPtrArray           *events;
  /* account id -> GPtrArray of "SESSION" and "C: ..." lines */
  GHashTable          *commands;
  /* The clients' timeout in seconds when not 0. */
  guint                client_timeout;
  /* The client of the last session opened, for its round trips. */
  Pop3Client          *last_client;
} Fixture;

typedef struct
{
  Fixture *fixture;
  char    *account_id;
} DebugData;

static void
debug_data_free (gpointer  data,
                 GClosure *closure)
{
  DebugData *debug = data;

  g_free (debug->account_id);
  g_free (debug);
}

static GPtrArray *
commands_of (Fixture    *fixture,
             const char *account_id)
{
  GPtrArray *lines = g_hash_table_lookup (fixture->commands, account_id);

  if (lines == NULL)
    {
      lines = g_ptr_array_new_with_free_func (g_free);
      g_hash_table_insert (fixture->commands, g_strdup (account_id), lines);
    }

  return lines;
}

static void
client_debug_cb (Pop3Client *client,
                 const char *line,
                 DebugData  *debug)
{
  if (g_str_has_prefix (line, "C: "))
    g_ptr_array_add (commands_of (debug->fixture, debug->account_id),
                     g_strdup (line + 3));
}

static void
session_hook (PopcheckChecker *checker,
              PopcheckMailbox *mailbox,
              Pop3Client      *client,
              gpointer         user_data)
{
  Fixture *fixture = user_data;
  DebugData *debug = g_new0 (DebugData, 1);
  const char *account_id = popcheck_mailbox_get_account_id (mailbox);

  debug->fixture = fixture;
  debug->account_id = g_strdup (account_id);
  g_ptr_array_add (commands_of (fixture, account_id), g_strdup ("SESSION"));
  g_set_object (&fixture->last_client, client);
  pop3_client_set_debug_level (client, 1);
  if (fixture->client_timeout != 0)
    pop3_client_set_timeout (client, fixture->client_timeout);
  g_signal_connect_data (client, "debug", G_CALLBACK (client_debug_cb), debug,
                         debug_data_free, 0);
}

/* How many commands of the account start with prefix (a command word and
 * its space, or the whole line), from the index `from` on. */
static guint
count_commands (Fixture    *fixture,
                const char *account_id,
                const char *prefix,
                guint       from)
{
  GPtrArray *lines = commands_of (fixture, account_id);
  guint n = 0;

  for (guint i = from; i < lines->len; i++)
    if (g_str_has_prefix (lines->pdata[i], prefix))
      n++;

  return n;
}

static guint
n_commands (Fixture    *fixture,
            const char *account_id)
{
  return commands_of (fixture, account_id)->len;
}

static void
new_messages_cb (PopcheckChecker *checker,
                 PopcheckMailbox *mailbox,
                 GPtrArray       *messages,
                 Fixture         *fixture)
{
  g_assert_cmpuint (messages->len, >, 0);
  for (guint i = 0; i < messages->len; i++)
    g_ptr_array_add (fixture->events,
                     g_strdup_printf ("new %s %s",
                                      popcheck_mailbox_get_account_id (mailbox),
                                      popcheck_message_get_subject (messages->pdata[i])));
}

static void
first_check_cb (PopcheckChecker *checker,
                PopcheckMailbox *mailbox,
                guint            count,
                Fixture         *fixture)
{
  g_ptr_array_add (fixture->events,
                   g_strdup_printf ("first %s %u",
                                    popcheck_mailbox_get_account_id (mailbox),
                                    count));
}

static void
problem_cb (PopcheckChecker *checker,
            PopcheckMailbox *mailbox,
            Fixture         *fixture)
{
  g_ptr_array_add (fixture->events,
                   g_strdup_printf ("problem %s",
                                    popcheck_mailbox_get_account_id (mailbox)));
}

static void
clear_state_dir (void)
{
  g_autofree char *dir = g_build_filename (g_get_user_state_dir (), "popcheck",
                                           NULL);
  g_autoptr(GDir) listing = g_dir_open (dir, 0, NULL);
  const char *name;

  while (listing != NULL && (name = g_dir_read_name (listing)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      g_assert_cmpint (g_unlink (path), ==, 0);
    }
}

static PopcheckChecker *
fixture_new_checker (Fixture *fixture)
{
  PopcheckChecker *checker = popcheck_checker_new (fixture->accounts);

  popcheck_checker_set_session_hook (checker, session_hook, fixture);
  popcheck_checker_set_network_monitor (checker,
                                        G_NETWORK_MONITOR (fixture->monitor));
  g_signal_connect (checker, "new-messages", G_CALLBACK (new_messages_cb),
                    fixture);
  g_signal_connect (checker, "first-check", G_CALLBACK (first_check_cb),
                    fixture);
  g_signal_connect (checker, "problem", G_CALLBACK (problem_cb), fixture);

  return checker;
}

/* A mailbox may go last in the thread that saved it: count atomically and
 * wake the main context that waits for it. */
static void
weak_notify_cb (gpointer  data,
                GObject  *where_the_object_was)
{
  gint *alive = data;

  g_atomic_int_dec_and_test (alive);
  g_main_context_wakeup (NULL);
}

/* Stops and drops the checker, and waits until it and its mailboxes are
 * gone: every operation has finished and every state file is written. */
static void
fixture_drop_checker (Fixture *fixture)
{
  PopcheckChecker *checker = g_steal_pointer (&fixture->checker);
  GListModel *mailboxes;
  gint alive = 1;

  if (checker == NULL)
    return;

  popcheck_checker_stop (checker);
  mailboxes = popcheck_checker_get_mailboxes (checker);
  for (guint i = 0; i < g_list_model_get_n_items (mailboxes); i++)
    {
      g_autoptr(GObject) mailbox = g_list_model_get_item (mailboxes, i);

      g_atomic_int_inc (&alive);
      g_object_weak_ref (mailbox, weak_notify_cb, &alive);
    }
  g_signal_handlers_disconnect_by_data (checker, fixture);
  g_object_weak_ref (G_OBJECT (checker), weak_notify_cb, &alive);
  g_object_unref (checker);

  WAIT_UNTIL (g_atomic_int_get (&alive) == 0, WAIT_SECONDS);
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GSettings) settings = g_settings_new (POPCHECK_SETTINGS_SCHEMA_ID);

  g_settings_reset (settings, "accounts");
  clear_state_dir ();

  fixture->accounts = popcheck_account_list_new ();
  fixture->monitor = g_object_new (TEST_TYPE_MONITOR, NULL);
  fixture->events = g_ptr_array_new_with_free_func (g_free);
  fixture->commands = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                             (GDestroyNotify) g_ptr_array_unref);
  fixture->checker = fixture_new_checker (fixture);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  fixture_drop_checker (fixture);
  g_clear_object (&fixture->accounts);
  g_clear_object (&fixture->monitor);
  g_clear_pointer (&fixture->events, g_ptr_array_unref);
  g_clear_pointer (&fixture->commands, g_hash_table_unref);
  g_clear_object (&fixture->last_client);
}

/* Accounts ----------------------------------------------------------------- */

static void
store_password (const char *account_id,
                const char *host,
                guint16     port,
                const char *user,
                const char *password)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  popcheck_secret_store_async (account_id, POPCHECK_SECRET_KIND_PASSWORD,
                               host, port, user, password, NULL,
                               store_result_cb, &result);
  g_assert_true (popcheck_secret_store_finish (await_result (&result), &error));
  g_assert_no_error (error);
}

static char *
lookup_password (const char  *account_id,
                 const char  *host,
                 guint16      port,
                 const char  *user,
                 GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  popcheck_secret_lookup_async (account_id, POPCHECK_SECRET_KIND_PASSWORD,
                                host, port, user, NULL, store_result_cb,
                                &result);
  return popcheck_secret_lookup_finish (await_result (&result), error);
}

/* An account on the demo server, over implicit TLS with the demo's
 * self-signed certificate pinned; its Dovecot user is made fresh. */
static PopcheckAccount *
add_dovecot_account (Fixture    *fixture,
                     const char *name,
                     const char *user,
                     gboolean    store)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *password = g_strconcat (user, "-password", NULL);
  PopcheckAccount *account;

  popcheck_test_demo_add_user (demo, user, password, TRUE);

  account = popcheck_account_list_add (fixture->accounts, name, &error);
  g_assert_no_error (error);
  popcheck_account_set_host (account, demo->host);
  popcheck_account_set_port (account, demo->pop3s_port);
  popcheck_account_set_security (account, POP3_SECURITY_TLS);
  popcheck_account_set_pinned_fingerprint (account, demo->fingerprint);
  popcheck_account_set_user (account, user);
  if (store)
    store_password (popcheck_account_get_id (account), demo->host,
                    demo->pop3s_port, user, password);

  return account;
}

static PopcheckAccount *
add_fake_account (Fixture        *fixture,
                  const char     *name,
                  Pop3FakeServer *server)
{
  g_autoptr(GError) error = NULL;
  PopcheckAccount *account;

  account = popcheck_account_list_add (fixture->accounts, name, &error);
  g_assert_no_error (error);
  popcheck_account_set_host (account, "127.0.0.1");
  popcheck_account_set_port (account, pop3_fake_server_get_port (server));
  popcheck_account_set_security (account, POP3_SECURITY_NONE);
  popcheck_account_set_user (account, FAKE_USER);
  store_password (popcheck_account_get_id (account), "127.0.0.1",
                  pop3_fake_server_get_port (server), FAKE_USER,
                  FAKE_PASSWORD);

  return account;
}

static Pop3FakeServer *
start_fake_server (void)
{
  Pop3FakeServer *server = pop3_fake_server_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (pop3_fake_server_start (server, &error));
  g_assert_no_error (error);

  return server;
}

/* A server that accepts and never says a word. */
static Pop3FakeServer *
start_silent_server (void)
{
  Pop3FakeServer *server = pop3_fake_server_new ();
  g_autoptr(Pop3FakeScript) silence = pop3_fake_script_new ();
  g_autoptr(GError) error = NULL;

  pop3_fake_server_add_script (server, silence);
  g_assert_true (pop3_fake_server_start (server, &error));
  g_assert_no_error (error);

  return server;
}

/* Checking ----------------------------------------------------------------- */

static gboolean
check (Fixture          *fixture,
       PopcheckAccount  *account,
       GError          **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  popcheck_checker_check_async (fixture->checker,
                                popcheck_account_get_id (account), NULL,
                                store_result_cb, &result);
  return popcheck_checker_check_finish (fixture->checker,
                                        await_result (&result), error);
}

static void
check_ok (Fixture         *fixture,
          PopcheckAccount *account)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (check (fixture, account, &error));
  g_assert_no_error (error);
}

static gboolean
delete_uids (Fixture             *fixture,
             PopcheckAccount     *account,
             const char * const  *uids,
             GStrv               *already_gone,
             GError             **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  popcheck_checker_delete_async (fixture->checker,
                                 popcheck_account_get_id (account), uids, NULL,
                                 store_result_cb, &result);
  return popcheck_checker_delete_finish (fixture->checker,
                                         await_result (&result), already_gone,
                                         error);
}

static PopcheckMailbox *
mailbox_of (Fixture         *fixture,
            PopcheckAccount *account)
{
  PopcheckMailbox *mailbox;

  mailbox = popcheck_checker_get_mailbox (fixture->checker,
                                          popcheck_account_get_id (account));
  g_assert_nonnull (mailbox);
  return mailbox;
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

/* The subjects in the mailbox's model, sorted, joined with ",". */
static char *
model_subjects (PopcheckMailbox *mailbox)
{
  GListModel *model = G_LIST_MODEL (mailbox);
  g_autoptr(GPtrArray) subjects = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(PopcheckMessage) message = g_list_model_get_item (model, i);

      g_ptr_array_add (subjects, g_strdup (popcheck_message_get_subject (message)));
    }
  g_ptr_array_sort (subjects, compare_strings);
  g_ptr_array_add (subjects, NULL);

  return g_strjoinv (",", (char **) subjects->pdata);
}

static const char *
uid_of_subject (PopcheckMailbox *mailbox,
                const char      *subject)
{
  GListModel *model = G_LIST_MODEL (mailbox);

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(PopcheckMessage) message = g_list_model_get_item (model, i);

      if (g_strcmp0 (popcheck_message_get_subject (message), subject) == 0)
        return popcheck_message_get_uid (message);
    }

  g_error ("no message \"%s\" in the model", subject);
  return NULL;
}

/* The Message-IDs in the demo user's Maildir, joined with ",". */
static char *
maildir_ids (const char *user)
{
  g_auto(GStrv) ids = popcheck_test_demo_message_ids (demo, user);

  return g_strjoinv (",", ids);
}

static void
deliver (const char *user,
         const char *name)
{
  g_autofree char *message_id = g_strdup_printf ("<%s@%s>", name, user);

  popcheck_test_demo_deliver (demo, user, message_id, name);
}

static char *
events_text (Fixture *fixture,
             guint    from)
{
  g_autoptr(GString) text = g_string_new (NULL);

  for (guint i = from; i < fixture->events->len; i++)
    g_string_append_printf (text, "%s%s", i > from ? "; " : "",
                            (char *) fixture->events->pdata[i]);

  return g_string_free (g_steal_pointer (&text), FALSE);
}

/* Another mail client, deleting by message number on the demo server. */
static void
other_client_delete (const char *user,
                     guint       msg)
{
  g_autoptr(Pop3Client) client = pop3_client_new ();
  g_autofree char *password = g_strconcat (user, "-password", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) connected = NULL;
  g_autoptr(GAsyncResult) logged_in = NULL;
  g_autoptr(GAsyncResult) deleted = NULL;
  g_autoptr(GAsyncResult) quit = NULL;
  g_autoptr(Pop3Reply) reply = NULL;
  g_autoptr(Pop3Reply) quit_reply = NULL;

  pop3_client_set_pinned_fingerprint (client, demo->fingerprint);
  pop3_client_connect_async (client, demo->host, demo->pop3s_port,
                             POP3_SECURITY_TLS, NULL, store_result_cb,
                             &connected);
  g_assert_true (pop3_client_connect_finish (client, await_result (&connected),
                                             &error));
  g_assert_no_error (error);
  pop3_client_login_async (client, user, password, POP3_AUTH_AUTO, NULL,
                           store_result_cb, &logged_in);
  g_assert_true (pop3_client_login_finish (client, await_result (&logged_in),
                                           &error));
  g_assert_no_error (error);
  pop3_client_dele_async (client, msg, NULL, store_result_cb, &deleted);
  reply = pop3_client_command_finish (client, await_result (&deleted), &error);
  g_assert_no_error (error);
  pop3_client_quit_async (client, NULL, store_result_cb, &quit);
  quit_reply = pop3_client_command_finish (client, await_result (&quit), &error);
  g_assert_no_error (error);
}

/* The commands of the last session of the account, joined with " | ". */
static char *
last_session (Fixture    *fixture,
              const char *account_id)
{
  GPtrArray *lines = commands_of (fixture, account_id);
  g_autoptr(GPtrArray) session = g_ptr_array_new ();
  guint start = 0;

  for (guint i = 0; i < lines->len; i++)
    if (g_str_equal (lines->pdata[i], "SESSION"))
      start = i + 1;
  for (guint i = start; i < lines->len; i++)
    g_ptr_array_add (session, lines->pdata[i]);
  g_ptr_array_add (session, NULL);

  return g_strjoinv (" | ", (char **) session->pdata);
}

/* The state file is binary (a GVariant): search all of it. */
static gboolean
contains_bytes (const char *data,
                gsize       length,
                const char *needle)
{
  gsize n = strlen (needle);

  for (gsize i = 0; i + n <= length; i++)
    if (memcmp (data + i, needle, n) == 0)
      return TRUE;

  return FALSE;
}

/* Dovecot: what is new ------------------------------------------------------ */

static void
test_new_by_uidl (Fixture       *fixture,
                  gconstpointer  data)
{
  PopcheckAccount *account;
  PopcheckMailbox *mailbox;
  const char *id;
  g_autofree char *events = NULL;
  g_autofree char *subjects = NULL;
  guint mark;

  account = add_dovecot_account (fixture, "New by UIDL", "newbyuidl", TRUE);
  id = popcheck_account_get_id (account);
  mailbox = mailbox_of (fixture, account);
  deliver ("newbyuidl", "One");
  deliver ("newbyuidl", "Two");
  deliver ("newbyuidl", "Three");

  /* First check: what is there is known, with one summary event and no
   * announcement; each message got its summary by TOP. */
  check_ok (fixture, account);
  events = events_text (fixture, 0);
  g_assert_cmpstr (events, ==, "first new-by-uidl 3");
  subjects = model_subjects (mailbox);
  g_assert_cmpstr (subjects, ==, "One,Three,Two");
  g_assert_cmpuint (popcheck_mailbox_get_n_new (mailbox), ==, 0);
  g_assert_cmpint (popcheck_mailbox_get_state (mailbox), ==,
                   POPCHECK_MAILBOX_STATE_IDLE);
  g_assert_nonnull (popcheck_mailbox_get_last_check (mailbox));
  g_assert_false (popcheck_mailbox_get_approximate_ids (mailbox));
  g_assert_cmpuint (count_commands (fixture, id, "TOP ", 0), ==, 3);
  /* One full UIDL; Dovecot pipelines, so the three newest went first by
   * `UIDL n`. */
  g_assert_cmpuint (count_commands (fixture, id, "UIDL", 0) -
                    count_commands (fixture, id, "UIDL ", 0), ==, 1);

  /* A delivery: exactly it is new, announced once, with one TOP. */
  deliver ("newbyuidl", "Four");
  mark = n_commands (fixture, id);
  check_ok (fixture, account);
  g_clear_pointer (&events, g_free);
  events = events_text (fixture, 1);
  g_assert_cmpstr (events, ==, "new new-by-uidl Four");
  g_assert_cmpuint (count_commands (fixture, id, "TOP ", mark), ==, 1);
  g_assert_cmpuint (popcheck_mailbox_get_n_new (mailbox), ==, 1);
  g_assert_true (popcheck_message_get_is_new (
    popcheck_mailbox_lookup (mailbox, uid_of_subject (mailbox, "Four"))));
  g_assert_false (popcheck_message_get_is_new (
    popcheck_mailbox_lookup (mailbox, uid_of_subject (mailbox, "One"))));

  /* Nothing new: nothing announced and not one TOP. */
  mark = n_commands (fixture, id);
  check_ok (fixture, account);
  g_assert_cmpuint (fixture->events->len, ==, 2);
  g_assert_cmpuint (count_commands (fixture, id, "TOP ", mark), ==, 0);
  g_assert_cmpuint (count_commands (fixture, id, "RETR", 0), ==, 0);
  g_clear_pointer (&subjects, g_free);
  subjects = model_subjects (mailbox);
  g_assert_cmpstr (subjects, ==, "Four,One,Three,Two");
}

/* Dovecot pipelines: a first check lists the newest messages from STAT,
 * `UIDL n` and `TOP n` before the whole mailbox, and the next check, with
 * nothing new, logs in with USER and PASS together inside TLS: the
 * greeting, then 4 round trips. */
static void
test_first_screen_then_nothing_new (Fixture       *fixture,
                                    gconstpointer  data)
{
  PopcheckAccount *account;
  PopcheckMailbox *mailbox;
  const char *id;
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  g_autofree char *subjects = NULL;
  g_autofree char *events = NULL;

  account = add_dovecot_account (fixture, "Round trips", "roundtrips", TRUE);
  popcheck_account_set_auth_method (account, POP3_AUTH_USER);
  id = popcheck_account_get_id (account);
  mailbox = mailbox_of (fixture, account);
  deliver ("roundtrips", "One");
  deliver ("roundtrips", "Two");
  deliver ("roundtrips", "Three");

  check_ok (fixture, account);
  first = last_session (fixture, id);
  g_assert_cmpstr (first, ==,
                   "CAPA | USER roundtrips | PASS ******** | STAT | UIDL 3 | "
                   "UIDL 2 | UIDL 1 | LIST 3 | LIST 2 | LIST 1 | TOP 3 20 | "
                   "TOP 2 20 | TOP 1 20 | UIDL | LIST | QUIT");
  subjects = model_subjects (mailbox);
  g_assert_cmpstr (subjects, ==, "One,Three,Two");
  events = events_text (fixture, 0);
  g_assert_cmpstr (events, ==, "first round-trips 3");

  check_ok (fixture, account);
  second = last_session (fixture, id);
  g_assert_cmpstr (second, ==,
                   "CAPA | USER roundtrips | PASS ******** | UIDL | QUIT");
  g_assert_cmpuint (pop3_client_get_round_trips (fixture->last_client), ==,
                    1 + 4);
  g_assert_cmpuint (fixture->events->len, ==, 1);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, 3);
}

static void
test_nothing_new_no_top (Fixture       *fixture,
                         gconstpointer  data)
{
  PopcheckAccount *account;
  const char *id;
  g_autofree char *session = NULL;
  g_autofree char *path = NULL;
  g_autofree char *state = NULL;
  GPtrArray *lines;
  gsize length;

  account = add_dovecot_account (fixture, "Quiet", "quiet", TRUE);
  id = popcheck_account_get_id (account);
  deliver ("quiet", "Old");
  check_ok (fixture, account);
  g_assert_cmpuint (count_commands (fixture, id, "TOP ", 0), ==, 1);

  /* The whole second session, command by command: CAPA, log in (Dovecot
   * offers CRAM-MD5, the strongest AUTO takes; the reply is redacted), UIDL,
   * QUIT; no LIST, as the one message's size is known. */
  check_ok (fixture, account);
  session = last_session (fixture, id);
  g_assert_cmpstr (session, ==,
                   "CAPA | AUTH CRAM-MD5 | ******** | UIDL | QUIT");

  /* The password is in no debug line and in no state file. */
  lines = commands_of (fixture, id);
  for (guint i = 0; i < lines->len; i++)
    g_assert_null (strstr (lines->pdata[i], "quiet-password"));
  path = popcheck_mailbox_dup_state_path (mailbox_of (fixture, account));
  /* Saved in a thread; renamed into place whole. */
  WAIT_UNTIL (g_file_test (path, G_FILE_TEST_EXISTS), WAIT_SECONDS);
  g_assert_true (g_file_get_contents (path, &state, &length, NULL));
  g_assert_true (contains_bytes (state, length, "Old"));
  g_assert_false (contains_bytes (state, length, "quiet-password"));
  g_assert_cmpuint (fixture->events->len, ==, 1);
}

/* A new checker on the same state directory, as after a restart; returns
 * the account's mailbox once its saved list of n_items is loaded. */
static PopcheckMailbox *
restart_checker (Fixture         *fixture,
                 PopcheckAccount *account,
                 guint            n_items)
{
  PopcheckMailbox *mailbox;

  fixture_drop_checker (fixture);
  fixture->checker = fixture_new_checker (fixture);
  mailbox = mailbox_of (fixture, account);
  WAIT_UNTIL (popcheck_mailbox_get_n_items (mailbox) == n_items, WAIT_SECONDS);

  return mailbox;
}

static void
test_restart (Fixture       *fixture,
              gconstpointer  data)
{
  PopcheckAccount *account;
  PopcheckMailbox *mailbox;
  g_autofree char *events = NULL;
  g_autofree char *subjects = NULL;
  const char *id;
  guint mark;

  account = add_dovecot_account (fixture, "Restart", "restart", TRUE);
  id = popcheck_account_get_id (account);
  deliver ("restart", "Alpha");
  deliver ("restart", "Beta");
  check_ok (fixture, account);
  deliver ("restart", "Gamma");
  check_ok (fixture, account);
  events = events_text (fixture, 0);
  g_assert_cmpstr (events, ==, "first restart 2; new restart Gamma");

  /* A new checker on the same state directory, as after a restart: the
   * saved list is there before any check, and the check announces
   * nothing and needs no TOP. */
  g_ptr_array_set_size (fixture->events, 0);
  mailbox = restart_checker (fixture, account, 3);
  g_assert_true (popcheck_mailbox_get_first_check_done (mailbox));

  mark = n_commands (fixture, id);
  check_ok (fixture, account);
  g_assert_cmpuint (fixture->events->len, ==, 0);
  g_assert_cmpuint (count_commands (fixture, id, "TOP ", mark), ==, 0);
  subjects = model_subjects (mailbox);
  g_assert_cmpstr (subjects, ==, "Alpha,Beta,Gamma");

  /* And what arrives now is new, once. */
  deliver ("restart", "Delta");
  check_ok (fixture, account);
  check_ok (fixture, account);
  g_clear_pointer (&events, g_free);
  events = events_text (fixture, 0);
  g_assert_cmpstr (events, ==, "new restart Delta");
  g_assert_cmpuint (popcheck_mailbox_get_n_new (mailbox), ==, 2);

  /* What the user has seen stays seen: stopping saves it. */
  popcheck_mailbox_mark_all_seen (mailbox);
  mailbox = restart_checker (fixture, account, 4);
  g_assert_cmpuint (popcheck_mailbox_get_n_new (mailbox), ==, 0);
}

static void
test_removed_on_server (Fixture       *fixture,
                        gconstpointer  data)
{
  PopcheckAccount *account;
  PopcheckMailbox *mailbox;
  g_autofree char *subjects = NULL;
  g_autofree char *gone_uid = NULL;
  g_autofree char *state = NULL;
  g_autofree char *path = NULL;
  gsize length;

  account = add_dovecot_account (fixture, "Removed", "removed", TRUE);
  mailbox = mailbox_of (fixture, account);
  deliver ("removed", "Keep");
  deliver ("removed", "Drop");
  deliver ("removed", "Stay");
  check_ok (fixture, account);
  gone_uid = g_strdup (uid_of_subject (mailbox, "Drop"));

  /* Another client deletes message 2 ("Drop"). */
  other_client_delete ("removed", 2);
  check_ok (fixture, account);
  subjects = model_subjects (mailbox);
  g_assert_cmpstr (subjects, ==, "Keep,Stay");
  g_assert_null (popcheck_mailbox_lookup (mailbox, gone_uid));
  g_assert_cmpuint (fixture->events->len, ==, 1);

  /* Its cache entry is pruned from the state file too. */
  path = popcheck_mailbox_dup_state_path (mailbox);
  fixture_drop_checker (fixture);
  g_assert_true (g_file_get_contents (path, &state, &length, NULL));
  g_assert_false (contains_bytes (state, length, gone_uid));
  g_assert_true (contains_bytes (state, length, "Keep"));
}

static void
test_never_seen (Fixture       *fixture,
                 gconstpointer  data)
{
  PopcheckAccount *account;
  PopcheckMailbox *mailbox;
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GAsyncResult) retrieved = NULL;
  g_autoptr(PopcheckMessage) preview = NULL;
  g_autoptr(GBytes) bytes = NULL;
  const char *id;

  account = add_dovecot_account (fixture, "Unseen", "unseen", TRUE);
  id = popcheck_account_get_id (account);
  mailbox = mailbox_of (fixture, account);
  deliver ("unseen", "First");

  for (guint i = 0; i < 4; i++)
    {
      g_autofree char *name = g_strdup_printf ("Next%u", i);

      check_ok (fixture, account);
      deliver ("unseen", name);
    }
  check_ok (fixture, account);

  /* A longer preview is a TOP too. */
  popcheck_checker_preview_async (fixture->checker, id,
                                  uid_of_subject (mailbox, "First"), 50, NULL,
                                  store_result_cb, &result);
  preview = popcheck_checker_preview_finish (fixture->checker,
                                             await_result (&result), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (popcheck_message_get_subject (preview), ==, "First");

  g_assert_cmpuint (count_commands (fixture, id, "RETR", 0), ==, 0);
  g_assert_cmpuint (count_commands (fixture, id, "DELE", 0), ==, 0);
  g_assert_false (popcheck_test_demo_any_seen (demo, "unseen"));

  /* The detector works: fetching a message on purpose is the one thing
   * that may mark it seen, and Dovecot does. */
  popcheck_checker_retrieve_async (fixture->checker, id,
                                   uid_of_subject (mailbox, "First"), NULL,
                                   store_result_cb, &retrieved);
  bytes = popcheck_checker_retrieve_finish (fixture->checker,
                                            await_result (&retrieved), &error);
  g_assert_no_error (error);
  g_assert_nonnull (bytes);
  g_assert_cmpuint (count_commands (fixture, id, "RETR", 0), ==, 1);
  g_assert_true (popcheck_test_demo_any_seen (demo, "unseen"));
}

/* Dovecot: safe delete ------------------------------------------------------ */

static void
test_delete_renumbered (Fixture       *fixture,
                        gconstpointer  data)
{
  PopcheckAccount *account;
  PopcheckMailbox *mailbox;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) gone = NULL;
  g_autofree char *uid1 = NULL;
  g_autofree char *uid3 = NULL;
  g_autofree char *ids = NULL;
  g_autofree char *subjects = NULL;

  account = add_dovecot_account (fixture, "Renumbered", "renumbered", TRUE);
  mailbox = mailbox_of (fixture, account);
  deliver ("renumbered", "M1");
  deliver ("renumbered", "M2");
  deliver ("renumbered", "M3");
  deliver ("renumbered", "M4");
  deliver ("renumbered", "M5");
  check_ok (fixture, account);
  uid1 = g_strdup (uid_of_subject (mailbox, "M1"));
  uid3 = g_strdup (uid_of_subject (mailbox, "M3"));
  g_assert_cmpuint (popcheck_mailbox_get_msg_number (mailbox, uid3), ==, 3);

  /* Another client deletes message 1: "M3" is now message 2, and message 3
   * is "M4". */
  other_client_delete ("renumbered", 1);

  g_assert_true (delete_uids (fixture, account,
                              (const char *[]) { uid3, NULL }, &gone, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (gone), ==, 0);
  ids = maildir_ids ("renumbered");
  g_assert_cmpstr (ids, ==,
                   "<M2@renumbered>,<M4@renumbered>,<M5@renumbered>");
  g_assert_null (popcheck_mailbox_lookup (mailbox, uid3));

  /* The one the other client deleted is reported as already gone, and
   * nothing else is touched. */
  g_clear_pointer (&gone, g_strfreev);
  g_assert_true (delete_uids (fixture, account,
                              (const char *[]) { uid1, NULL }, &gone, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (gone), ==, 1);
  g_assert_cmpstr (gone[0], ==, uid1);
  g_clear_pointer (&ids, g_free);
  ids = maildir_ids ("renumbered");
  g_assert_cmpstr (ids, ==,
                   "<M2@renumbered>,<M4@renumbered>,<M5@renumbered>");

  check_ok (fixture, account);
  subjects = model_subjects (mailbox);
  g_assert_cmpstr (subjects, ==, "M2,M4,M5");
  g_assert_cmpuint (fixture->events->len, ==, 1);
}

/* Fake server: deletes that fail ------------------------------------------ */

/* Starts the configured server, adds its account and checks it once. */
static PopcheckAccount *
add_checked_fake_account (Fixture        *fixture,
                          const char     *name,
                          Pop3FakeServer *server)
{
  g_autoptr(GError) error = NULL;
  PopcheckAccount *account;

  g_assert_true (pop3_fake_server_start (server, &error));
  g_assert_no_error (error);
  account = add_fake_account (fixture, name, server);
  check_ok (fixture, account);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox_of (fixture, account)),
                    ==, 5);

  return account;
}

/* A delete that fails; returns its session's commands. */
static char *
delete_fails (Fixture             *fixture,
              PopcheckAccount     *account,
              const char * const  *uids,
              const char          *message)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (delete_uids (fixture, account, uids, NULL, &error));
  g_assert_nonnull (error);
  if (strstr (error->message, message) == NULL)
    g_error ("\"%s\" does not say \"%s\"", error->message, message);

  return last_session (fixture, popcheck_account_get_id (account));
}

static void
test_delete_dele_fails (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr(Pop3FakeServer) server = pop3_fake_server_new ();
  g_autofree char *session = NULL;
  PopcheckAccount *account;
  PopcheckMailbox *mailbox;

  pop3_fake_server_set_response (server, "DELE", "-ERR [SYS/TEMP] cannot\r\n");
  account = add_checked_fake_account (fixture, "Dele fails", server);
  mailbox = mailbox_of (fixture, account);

  /* What was marked is unmarked before leaving. */
  session = delete_fails (fixture, account,
                          (const char *[]) { "2", "4", NULL },
                          "Nothing was deleted");
  g_assert_cmpstr (session, ==,
                   "CAPA | USER guido | PASS ******** | UIDL | LIST | "
                   "DELE 2 | DELE 4 | RSET | QUIT");
  g_assert_nonnull (popcheck_mailbox_lookup (mailbox, "2"));
  g_assert_nonnull (popcheck_mailbox_lookup (mailbox, "4"));
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, 5);
}

static void
test_delete_rset_fails (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr(Pop3FakeServer) server = pop3_fake_server_new ();
  g_autofree char *session = NULL;
  PopcheckAccount *account;

  /* A DELE fails and so does the RSET that should undo the others: a QUIT
   * now would commit them, so the connection is dropped instead. */
  pop3_fake_server_set_response (server, "DELE", "-ERR no\r\n");
  pop3_fake_server_set_response (server, "RSET", "-ERR no either\r\n");
  account = add_checked_fake_account (fixture, "Rset fails", server);
  session = delete_fails (fixture, account, (const char *[]) { "1", NULL },
                          "Nothing was deleted");
  g_assert_true (g_str_has_suffix (session, "DELE 1 | RSET"));
}

static void
test_delete_quit_dropped (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(Pop3FakeServer) server = pop3_fake_server_new ();
  g_autofree char *session = NULL;
  PopcheckAccount *account;
  PopcheckMailbox *mailbox;

  /* The connection drops after QUIT and before its +OK. */
  pop3_fake_server_set_response (server, "QUIT", "");
  account = add_checked_fake_account (fixture, "Quit dropped", server);
  mailbox = mailbox_of (fixture, account);
  session = delete_fails (fixture, account, (const char *[]) { "3", NULL },
                          "did not confirm");
  g_assert_true (g_str_has_suffix (session, "DELE 3 | QUIT"));

  /* Still listed, and after the next check too, without an announcement. */
  g_assert_nonnull (popcheck_mailbox_lookup (mailbox, "3"));
  check_ok (fixture, account);
  g_assert_nonnull (popcheck_mailbox_lookup (mailbox, "3"));
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, 5);
  g_assert_cmpuint (fixture->events->len, ==, 1);
}

/* Fake server: a summary that fails ---------------------------------------- */

/* A script's session up to the PASS line, whose reply is the caller's. */
/* A session up to PASS, with a server whose CAPA says capa. */
static void
script_until_pass_capa (Pop3FakeScript *script,
                        const char     *capa)
{
  pop3_fake_script_send (script, "+OK ready\r\n");
  pop3_fake_script_expect (script, "CAPA");
  pop3_fake_script_send (script, capa);
  pop3_fake_script_expect (script, "USER " FAKE_USER);
  pop3_fake_script_send (script, "+OK\r\n");
  pop3_fake_script_expect_prefix (script, "PASS ");
}

static void
script_until_pass (Pop3FakeScript *script)
{
  script_until_pass_capa (script, "+OK\r\nUIDL\r\n.\r\n");
}

/* A session up to the listing: UIDL answered with uidl, LIST with n
 * messages of 100 octets, by a server whose CAPA says capa. */
/* For script_until_listed_known (): the client knows no size yet. */
#define LIST_ALL G_MAXUINT

/* A check lists as far as it needs to: the whole LIST when it knows no
 * size yet (known == LIST_ALL); otherwise, after UIDL, `LIST i` for each message
 * past the first known ones, whose sizes it has from earlier checks. */
static void
script_until_listed_known (Pop3FakeScript *script,
                           const char     *capa,
                           const char     *uidl,
                           guint           n,
                           guint           known)
{
  g_autoptr(GString) list = g_string_new ("+OK\r\n");

  for (guint i = 1; i <= n; i++)
    g_string_append_printf (list, "%u 100\r\n", i);
  g_string_append (list, ".\r\n");

  script_until_pass_capa (script, capa);
  pop3_fake_script_send (script, "+OK\r\n");
  pop3_fake_script_expect (script, "UIDL");
  pop3_fake_script_send (script, uidl);
  if (known == LIST_ALL)
    {
      pop3_fake_script_expect (script, "LIST");
      pop3_fake_script_send (script, list->str);
      return;
    }
  for (guint i = known + 1; i <= n; i++)
    {
      g_autofree char *command = g_strdup_printf ("LIST %u", i);
      g_autofree char *answer = g_strdup_printf ("+OK %u 100\r\n", i);

      pop3_fake_script_expect (script, command);
      pop3_fake_script_send (script, answer);
    }
}

static void
script_until_listed_capa (Pop3FakeScript *script,
                          const char     *capa,
                          const char     *uidl,
                          guint           n)
{
  script_until_listed_known (script, capa, uidl, n, LIST_ALL);
}

static void
script_until_listed (Pop3FakeScript *script,
                     const char     *uidl,
                     guint           n)
{
  script_until_listed_capa (script, "+OK\r\nUIDL\r\n.\r\n", uidl, n);
}

/* The UIDL reply for a mailbox of n messages "uid-1".."uid-n". */
static char *
mailbox_uidl (guint n)
{
  GString *uidl = g_string_new ("+OK\r\n");

  for (guint i = 1; i <= n; i++)
    g_string_append_printf (uidl, "%u uid-%u\r\n", i, i);
  g_string_append (uidl, ".\r\n");

  return g_string_free (uidl, FALSE);
}

/* The answer to TOP i 20. */
static void
script_send_top (Pop3FakeScript *script,
                 guint           i)
{
  g_autofree char *body =
    g_strdup_printf ("+OK\r\nSubject: Message %u\r\n\r\nText\r\n.\r\n", i);

  pop3_fake_script_send (script, body);
}

/* The end of a session: QUIT answered, then the server hangs up. */
static Pop3FakeScript *
script_quit (Pop3FakeScript *script)
{
  pop3_fake_script_expect (script, "QUIT");
  pop3_fake_script_send (script, "+OK bye\r\n");
  pop3_fake_script_close (script);

  return script;
}

/* One scripted session of a mailbox of n messages "uid-1".."uid-n",
 * answering TOP for the messages from `first_top` to `last_top`; the TOP of
 * `refused_top` is answered -ERR and the session goes on; at the TOP of
 * `failing_top` the server hangs up (after the -ERR, if it is both).  The
 * client knows the sizes of the first `known` messages, or LIST_ALL. */
static Pop3FakeScript *
mailbox_script_full (guint n,
                     guint first_top,
                     guint last_top,
                     guint refused_top,
                     guint failing_top,
                     guint known)
{
  Pop3FakeScript *script = pop3_fake_script_new ();
  g_autofree char *uidl = mailbox_uidl (n);

  script_until_listed_known (script, "+OK\r\nUIDL\r\n.\r\n", uidl, n,
                             known);
  for (guint i = first_top; i >= 1 && i <= last_top; i++)
    {
      g_autofree char *top = g_strdup_printf ("TOP %u 20", i);
      g_autofree char *body = NULL;

      pop3_fake_script_expect (script, top);
      if (i == refused_top)
        pop3_fake_script_send (script, "-ERR no such command\r\n");
      if (i == failing_top)
        {
          pop3_fake_script_close (script);
          return script;
        }
      if (i == refused_top)
        continue;
      body = g_strdup_printf ("+OK\r\nSubject: Message %u\r\n\r\nText\r\n.\r\n",
                              i);
      pop3_fake_script_send (script, body);
    }
  return script_quit (script);
}

static Pop3FakeScript *
mailbox_script (guint n,
                guint first_top,
                guint failing_top)
{
  /* A first check (or one on an emptied mailbox) TOPs from message 1; a
   * later one has the sizes of the messages before its first TOP. */
  return mailbox_script_full (n, first_top, n, 0, failing_top,
                              first_top == 1 || n == 0 ? LIST_ALL :
                              first_top == 0 ? n : first_top - 1);
}

static guint
count_events (Fixture    *fixture,
              const char *event)
{
  guint n = 0;

  for (guint i = 0; i < fixture->events->len; i++)
    if (g_str_equal (fixture->events->pdata[i], event))
      n++;

  return n;
}

/* Starts server with the sessions of scripts, in order, taking them. */
static void
start_scripted (Pop3FakeServer  *server,
                Pop3FakeScript **scripts,
                guint            n_scripts)
{
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < n_scripts; i++)
    {
      pop3_fake_server_add_script (server, scripts[i]);
      pop3_fake_script_unref (scripts[i]);
    }
  g_assert_true (pop3_fake_server_start (server, &error));
  g_assert_no_error (error);
}

/* Stops server; every session went as its script said. */
static void
stop_scripted (Pop3FakeServer *server)
{
  g_auto(GStrv) mismatches = NULL;

  pop3_fake_server_stop (server);
  mismatches = pop3_fake_server_get_mismatches (server);
  for (guint i = 0; mismatches[i] != NULL; i++)
    g_test_message ("%s", mismatches[i]);
  g_assert_cmpuint (g_strv_length (mismatches), ==, 0);
}

static void
test_top_fails (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(Pop3FakeServer) server = pop3_fake_server_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *events = NULL;
  PopcheckAccount *account;
  PopcheckMailbox *mailbox;
  Pop3FakeScript *scripts[] = {
    mailbox_script (5, 1, 0),   /* the first check */
    mailbox_script (6, 6, 6),   /* a new message; its TOP fails */
    mailbox_script (6, 6, 0),   /* its TOP works */
    mailbox_script (6, 0, 0),   /* nothing new */
  };

  start_scripted (server, scripts, G_N_ELEMENTS (scripts));
  account = add_fake_account (fixture, "Top fails", server);
  mailbox = mailbox_of (fixture, account);

  check_ok (fixture, account);
  g_assert_false (check (fixture, account, &error));
  g_assert_nonnull (error);
  g_assert_cmpint (popcheck_mailbox_get_problem (mailbox), ==,
                   POPCHECK_PROBLEM_TEMPORARY);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, 5);
  check_ok (fixture, account);
  check_ok (fixture, account);

  /* Announced once, with its summary, by the check whose TOP worked. */
  events = events_text (fixture, 0);
  g_assert_cmpstr (events, ==, "first top-fails 5; new top-fails Message 6");
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, 6);
  stop_scripted (server);
}

/* A -ERR to one TOP (a message the server cannot read, or a server whose
 * CAPA lacks TOP, which RFC 1939 makes optional) fails that message only:
 * it is listed and announced without headers, the rest of the check goes
 * on, and its TOP is tried again on the next checks, a bounded number of
 * times.  The scripts' CAPA lacks TOP. */
/* A session whose UIDL listing comes one line every 50 ms, well inside
 * the clients' 2 s timeout, for a minute. */
static Pop3FakeScript *
dripping_uidl_script (void)
{
  Pop3FakeScript *script = pop3_fake_script_new ();
  g_autoptr(GString) drip = g_string_new (NULL);

  for (guint i = 0; i < 1200; i++)
    g_string_append (drip, "1 uid-1\r\n");

  script_until_pass (script);
  pop3_fake_script_send (script, "+OK\r\n");
  pop3_fake_script_expect (script, "UIDL");
  pop3_fake_script_send (script, "+OK\r\n");
  pop3_fake_script_send_bytes (script, drip->str, drip->len,
                               strlen ("1 uid-1\r\n"), 50);

  return script;
}

/* A delete of message 1 of a mailbox of one, "uid-1". */
static Pop3FakeScript *
delete_one_script (void)
{
  Pop3FakeScript *script = pop3_fake_script_new ();

  script_until_listed (script, "+OK\r\n1 uid-1\r\n.\r\n", 1);
  pop3_fake_script_expect (script, "DELE 1");
  pop3_fake_script_send (script, "+OK\r\n");
  pop3_fake_script_expect (script, "QUIT");
  pop3_fake_script_send (script, "+OK bye\r\n");
  pop3_fake_script_close (script);

  return script;
}

/* A check held by a server that drips its listing ends at the reply's
 * overall deadline and frees the account: the delete queued behind it
 * runs, and so does the next check. */
static void
test_dripping_check (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(Pop3FakeServer) server = pop3_fake_server_new ();
  g_autoptr(GAsyncResult) check_result = NULL;
  g_autoptr(GAsyncResult) delete_result = NULL;
  g_autoptr(GError) error = NULL;
  PopcheckAccount *account;
  PopcheckMailbox *mailbox;
  const char *id;
  Pop3FakeScript *scripts[] = {
    mailbox_script (1, 1, 0),     /* the first check */
    dripping_uidl_script (),      /* a check that drips */
    delete_one_script (),         /* the delete queued behind it */
    mailbox_script (0, 0, 0),     /* the next check */
  };

  fixture->client_timeout = 2;
  start_scripted (server, scripts, G_N_ELEMENTS (scripts));
  account = add_fake_account (fixture, "Dripping", server);
  id = popcheck_account_get_id (account);
  mailbox = mailbox_of (fixture, account);
  check_ok (fixture, account);

  popcheck_checker_check_async (fixture->checker, id, NULL, store_result_cb,
                                &check_result);
  WAIT_UNTIL (count_commands (fixture, id, "UIDL", 0) == 2, WAIT_SECONDS);
  popcheck_checker_delete_async (fixture->checker, id,
                                 (const char *[]) { "uid-1", NULL }, NULL,
                                 store_result_cb, &delete_result);

  g_assert_false (popcheck_checker_check_finish (fixture->checker,
                                                 await_result (&check_result),
                                                 &error));
  g_assert_error (error, POP3_ERROR, POP3_ERROR_TIMEOUT);
  g_assert_cmpint (popcheck_mailbox_get_problem (mailbox), ==,
                   POPCHECK_PROBLEM_TEMPORARY);
  if (!g_str_has_prefix (popcheck_mailbox_get_error_message (mailbox),
                         "The server 127.0.0.1 was too slow: one reply took "
                         "more than "))
    g_error ("unexpected message: %s",
             popcheck_mailbox_get_error_message (mailbox));
  g_clear_error (&error);

  g_assert_true (popcheck_checker_delete_finish (fixture->checker,
                                                 await_result (&delete_result),
                                                 NULL, &error));
  g_assert_no_error (error);
  g_assert_null (popcheck_mailbox_lookup (mailbox, "uid-1"));

  check_ok (fixture, account);
  g_assert_cmpint (popcheck_mailbox_get_problem (mailbox), ==,
                   POPCHECK_PROBLEM_NONE);
  stop_scripted (server);
}

static void
test_top_refused (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(Pop3FakeServer) server = pop3_fake_server_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(PopcheckMessage) refused = NULL;
  PopcheckAccount *account;
  PopcheckMailbox *mailbox;
  Pop3FakeScript *scripts[] = {
    mailbox_script_full (5, 1, 5, 0, 0, LIST_ALL), /* the first check */
    mailbox_script_full (7, 6, 7, 6, 0, 5), /* two new; TOP 6 refused */
    mailbox_script_full (7, 6, 6, 6, 0, 7), /* tried again, refused again */
    mailbox_script_full (7, 6, 6, 6, 0, 7), /* and a last time */
    mailbox_script_full (7, 0, 0, 0, 0, 7), /* no more TOP for it */
    mailbox_script_full (7, 6, 6, 6, 6, LIST_ALL), /* a preview, refused */
  };
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(PopcheckMessage) preview = NULL;

  start_scripted (server, scripts, G_N_ELEMENTS (scripts));
  account = add_fake_account (fixture, "Top refused", server);
  mailbox = mailbox_of (fixture, account);

  check_ok (fixture, account);
  check_ok (fixture, account);
  g_assert_cmpint (popcheck_mailbox_get_problem (mailbox), ==,
                   POPCHECK_PROBLEM_NONE);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, 7);
  g_assert_cmpuint (popcheck_mailbox_get_n_new (mailbox), ==, 2);
  refused = popcheck_mailbox_lookup (mailbox, "uid-6");
  g_assert_nonnull (refused);
  g_object_ref (refused);
  g_assert_cmpuint (popcheck_message_get_size (refused), ==, 100);
  g_assert_false (popcheck_message_get_headers_known (refused));
  g_assert_cmpstr (popcheck_message_get_subject (refused), ==, "");

  check_ok (fixture, account);
  check_ok (fixture, account);
  check_ok (fixture, account);

  /* Each announced once; the one without headers too. */
  g_assert_cmpuint (count_events (fixture, "first top-refused 5"), ==, 1);
  g_assert_cmpuint (count_events (fixture, "new top-refused Message 7"), ==, 1);
  g_assert_cmpuint (count_events (fixture, "new top-refused "), ==, 1);
  g_assert_cmpuint (fixture->events->len, ==, 3);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, 7);

  /* The preview says this server cannot preview, and does not RETR: the
   * script has no RETR. */
  popcheck_checker_preview_async (fixture->checker,
                                  popcheck_account_get_id (account), "uid-6",
                                  20, NULL, store_result_cb, &result);
  preview = popcheck_checker_preview_finish (fixture->checker,
                                             await_result (&result), &error);
  g_assert_null (preview);
  g_assert_error (error, POP3_ERROR, POP3_ERROR_NOT_SUPPORTED);

  stop_scripted (server);
}

/* The message without headers is still one after a restart, and its TOP
 * is tried again, counting the tries made before: three in all, one per
 * check, whether or not PopCheck was restarted in between. */
static void
test_top_refused_restart (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(Pop3FakeServer) server = pop3_fake_server_new ();
  PopcheckAccount *account;
  PopcheckMailbox *mailbox;
  Pop3FakeScript *scripts[] = {
    mailbox_script_full (5, 1, 5, 0, 0, LIST_ALL), /* the first check */
    mailbox_script_full (6, 6, 6, 6, 0, 5), /* a new one; TOP refused */
    mailbox_script_full (6, 6, 6, 6, 0, 6), /* after a restart, again */
    mailbox_script_full (6, 6, 6, 6, 0, 6), /* and after another */
    mailbox_script_full (6, 0, 0, 0, 0, 6), /* no more TOP for it */
  };

  start_scripted (server, scripts, G_N_ELEMENTS (scripts));
  account = add_fake_account (fixture, "Top restart", server);
  check_ok (fixture, account);
  check_ok (fixture, account);

  for (guint i = 0; i < 3; i++)
    {
      PopcheckMessage *message;

      mailbox = restart_checker (fixture, account, 6);
      message = popcheck_mailbox_lookup (mailbox, "uid-6");
      g_assert_nonnull (message);
      g_assert_false (popcheck_message_get_headers_known (message));
      g_assert_cmpuint (popcheck_message_get_size (message), ==, 100);
      g_assert_true (popcheck_message_get_is_new (message));
      g_assert_cmpuint (popcheck_mailbox_get_n_new (mailbox), ==, 1);
      check_ok (fixture, account);
    }

  /* Announced once, by the check that found it. */
  g_assert_cmpuint (count_events (fixture, "new top-restart "), ==, 1);
  g_assert_cmpuint (fixture->events->len, ==, 2);
  stop_scripted (server);
}

/* A summary the next TOP brings replaces the one without headers, and the
 * message is not announced a second time. */
static void
test_top_refused_then_read (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autoptr(Pop3FakeServer) server = pop3_fake_server_new ();
  g_autoptr(GError) error = NULL;
  PopcheckMessage *message;
  PopcheckAccount *account;
  PopcheckMailbox *mailbox;
  Pop3FakeScript *scripts[] = {
    mailbox_script_full (5, 1, 5, 0, 0, LIST_ALL), /* the first check */
    mailbox_script_full (6, 6, 6, 6, 0, 5), /* a new one; TOP refused */
    mailbox_script_full (6, 6, 6, 0, 0, 6), /* its TOP works */
    mailbox_script_full (6, 0, 0, 0, 0, 6), /* nothing to TOP */
  };

  start_scripted (server, scripts, G_N_ELEMENTS (scripts));
  account = add_fake_account (fixture, "Top later", server);
  mailbox = mailbox_of (fixture, account);

  check_ok (fixture, account);
  check_ok (fixture, account);
  check_ok (fixture, account);
  check_ok (fixture, account);

  message = popcheck_mailbox_lookup (mailbox, "uid-6");
  g_assert_nonnull (message);
  g_assert_true (popcheck_message_get_headers_known (message));
  g_assert_cmpstr (popcheck_message_get_subject (message), ==, "Message 6");
  g_assert_true (popcheck_message_get_is_new (message));
  g_assert_cmpuint (popcheck_mailbox_get_n_new (mailbox), ==, 1);
  g_assert_cmpuint (count_events (fixture, "new top-later "), ==, 1);
  g_assert_cmpuint (fixture->events->len, ==, 2);
  stop_scripted (server);
}

/* One session of a mailbox whose UIDL repeats a UID (messages 2 and 3) and
 * garbles a line (message 4); messages from `first_top` on are new and
 * TOPped, the broken ones never. */
static Pop3FakeScript *
broken_uidl_script (guint n,
                    guint first_top)
{
  Pop3FakeScript *script = pop3_fake_script_new ();
  g_autoptr(GString) uidl = g_string_new ("+OK\r\n1 uid-1\r\n2 twin\r\n"
                                          "3 twin\r\n4 bad uid\r\n");

  for (guint i = 5; i <= n; i++)
    g_string_append_printf (uidl, "%u uid-%u\r\n", i, i);
  g_string_append (uidl, ".\r\n");

  script_until_listed (script, uidl->str, n);
  for (guint i = first_top; i >= 1 && i <= n; i++)
    {
      g_autofree char *top = g_strdup_printf ("TOP %u 20", i);

      if (i >= 2 && i <= 4)
        continue;
      pop3_fake_script_expect (script, top);
      script_send_top (script, i);
    }
  return script_quit (script);
}

/* What the account's status line and popcheck-cli check say. */
static void
assert_without_uid (PopcheckMailbox *mailbox,
                    const char      *notice)
{
  g_autofree char *described = popcheck_mailbox_describe_without_uid (mailbox);

  g_assert_cmpstr (described, ==, notice);
}

/* The messages of a mailbox that have no UID, in the order of their
 * numbers: all listed by number and LIST size, none of them new. */
static char *
describe_without_uid (PopcheckMailbox *mailbox)
{
  g_autoptr(GString) text = g_string_new (NULL);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (mailbox));

  for (guint i = n; i-- > 0;)
    {
      g_autoptr(PopcheckMessage) message =
        g_list_model_get_item (G_LIST_MODEL (mailbox), i);

      if (popcheck_message_get_has_uid (message))
        continue;
      g_assert_false (popcheck_message_get_is_new (message));
      g_string_append_printf (text, "%u:%" G_GUINT64_FORMAT " ",
                              popcheck_message_get_msg_number (message),
                              popcheck_message_get_size (message));
    }
  return g_string_free (g_steal_pointer (&text), FALSE);
}

/* The first message without a UID in the mailbox's list. */
static PopcheckMessage *
first_without_uid (PopcheckMailbox *mailbox)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (mailbox));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(PopcheckMessage) message =
        g_list_model_get_item (G_LIST_MODEL (mailbox), i);

      if (!popcheck_message_get_has_uid (message))
        return message;
    }
  g_assert_not_reached ();
}

/* A duplicated or malformed line in UIDL costs only the messages it is
 * about: they are listed by number and size for this session, never
 * announced, saved or deleted; the rest of the account works, new mail is
 * announced, and the user is told (in the status line, not by a
 * notification at each check) why messages 2 to 4 are different. */
static void
test_broken_uidl (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(Pop3FakeServer) server = pop3_fake_server_new ();
  PopcheckAccount *account;
  PopcheckMailbox *mailbox;
  Pop3FakeScript *scripts[] = {
    broken_uidl_script (5, 1),   /* the first check */
    broken_uidl_script (6, 6),   /* a new message */
    broken_uidl_script (6, 0),   /* nothing new */
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *without_uid = NULL;
  g_autofree char *uid = NULL;
  g_autofree char *path = NULL;
  g_autofree char *state = NULL;
  gsize length;

  start_scripted (server, scripts, G_N_ELEMENTS (scripts));
  account = add_fake_account (fixture, "Broken UIDL", server);
  mailbox = mailbox_of (fixture, account);

  check_ok (fixture, account);
  g_assert_cmpint (popcheck_mailbox_get_problem (mailbox), ==,
                   POPCHECK_PROBLEM_NONE);
  g_assert_nonnull (popcheck_mailbox_lookup (mailbox, "uid-1"));
  g_assert_nonnull (popcheck_mailbox_lookup (mailbox, "uid-5"));
  g_assert_null (popcheck_mailbox_lookup (mailbox, "twin"));
  without_uid = describe_without_uid (mailbox);
  g_assert_cmpstr (without_uid, ==, "2:100 3:100 4:100 ");
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, 5);
  assert_without_uid (mailbox, "The server's unique IDs are broken for 3 "
                      "messages. PopCheck lists them by number but cannot "
                      "delete them.");
  check_ok (fixture, account);
  check_ok (fixture, account);
  assert_without_uid (mailbox, "The server's unique IDs are broken for 3 "
                      "messages. PopCheck lists them by number but cannot "
                      "delete them.");
  g_clear_pointer (&without_uid, g_free);
  without_uid = describe_without_uid (mailbox);
  g_assert_cmpstr (without_uid, ==, "2:100 3:100 4:100 ");
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, 6);

  /* Refused before any session: no script is left for one. */
  uid = g_strdup (popcheck_message_get_uid (first_without_uid (mailbox)));
  g_assert_false (delete_uids (fixture, account,
                               (const char * const []) { "uid-1", uid, NULL },
                               NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
  g_assert_cmpstr (error->message, ==, "Nothing was deleted: The server "
                   "gave this message no "
                   "unique ID, so PopCheck cannot tell it apart from the "
                   "others and never deletes or downloads it.");
  g_assert_nonnull (popcheck_mailbox_lookup (mailbox, "uid-1"));
  g_assert_nonnull (popcheck_mailbox_lookup (mailbox, uid));

  g_assert_cmpuint (count_events (fixture, "new broken-uidl Message 6"), ==, 1);
  g_assert_cmpuint (fixture->events->len, ==, 2);
  g_assert_nonnull (popcheck_mailbox_lookup (mailbox, "uid-6"));
  stop_scripted (server);

  /* This session's only: the state file holds what has a UID. */
  mailbox = restart_checker (fixture, account, 3);
  path = popcheck_mailbox_dup_state_path (mailbox);
  g_assert_true (g_file_get_contents (path, &state, &length, NULL));
  g_assert_true (contains_bytes (state, length, "uid-6"));
  g_assert_false (contains_bytes (state, length, uid));
  g_clear_pointer (&without_uid, g_free);
  without_uid = describe_without_uid (mailbox);
  g_assert_cmpstr (without_uid, ==, "");
  g_assert_nonnull (popcheck_mailbox_lookup (mailbox, "uid-6"));
  g_assert_null (popcheck_mailbox_lookup (mailbox, uid));
}

/* Expects TOP 1 lines to TOP n lines and answers none before it has read
 * the first `window` of them, then each as it comes. */
static void
script_windowed_tops (Pop3FakeScript *script,
                      guint           n,
                      guint           lines,
                      guint           window)
{
  for (guint i = 1; i <= n; i++)
    {
      g_autofree char *top = g_strdup_printf ("TOP %u %u", i, lines);

      pop3_fake_script_expect (script, top);
      if (i < window)
        continue;
      for (guint j = i == window ? 1 : i; j <= i; j++)
        script_send_top (script, j);
    }
}

/* A first check of n messages on a pipelining server (the client may send
 * what it has queued), which answers the TOPs of the check, or without
 * UIDL those of the fingerprints, only once it has read `window` of them. */
static Pop3FakeScript *
windowed_script (guint    n,
                 guint    window,
                 gboolean has_uidl)
{
  Pop3FakeScript *script = pop3_fake_script_new ();
  g_autofree char *uidl = has_uidl ? mailbox_uidl (n)
                                   : g_strdup ("-ERR unknown command\r\n");

  script_until_listed_capa (script, "+OK\r\nPIPELINING\r\n.\r\n", uidl, n);
  if (!has_uidl)
    script_windowed_tops (script, n, 0, window);
  script_windowed_tops (script, n, 20, has_uidl ? window : 1);

  return script_quit (script);
}

/* How a first check of window + 2 messages went: TOP window+1 must go out
 * only after the first answer, however many messages are new. */
static void
assert_top_window (gboolean has_uidl,
                   Fixture  *fixture)
{
  const guint window = POPCHECK_SESSION_TOP_WINDOW;
  const guint lines = has_uidl ? 20 : 0;
  g_autoptr(Pop3FakeServer) server = pop3_fake_server_new ();
  g_autofree char *last_in_window = g_strdup_printf ("C: TOP %u %u", window,
                                                     lines);
  g_autofree char *next = g_strdup_printf ("C: TOP %u %u", window + 1, lines);
  Pop3FakeScript *scripts[] = { windowed_script (window + 2, window,
                                                 has_uidl) };
  PopcheckAccount *account;
  int sent_last, answered, sent_next;

  start_scripted (server, scripts, G_N_ELEMENTS (scripts));
  account = add_fake_account (fixture, "Window", server);
  /* Every header in the check, however many. */
  popcheck_checker_set_first_headers (fixture->checker, G_MAXUINT);

  check_ok (fixture, account);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox_of (fixture, account)),
                    ==, window + 2);
  assert_without_uid (mailbox_of (fixture, account), NULL);

  sent_last = pop3_fake_server_find_log (server, last_in_window, 0);
  answered = pop3_fake_server_find_log (server, "S: +OK", sent_last);
  sent_next = pop3_fake_server_find_log (server, next, 0);
  g_assert_cmpint (sent_last, >=, 0);
  g_assert_cmpint (answered, >, sent_last);
  g_assert_cmpint (sent_next, >, answered);
  stop_scripted (server);
}

/* A check queues at most POPCHECK_SESSION_TOP_WINDOW TOPs for previews. */
static void
test_top_window (Fixture       *fixture,
                 gconstpointer  data)
{
  assert_top_window (TRUE, fixture);
}

/* And without UIDL, as many for the fingerprints that identify messages. */
static void
test_fingerprint_window (Fixture       *fixture,
                         gconstpointer  data)
{
  assert_top_window (FALSE, fixture);
}

/* Fake server: no UIDL ----------------------------------------------------- */

static void
test_no_uidl (Fixture       *fixture,
              gconstpointer  data)
{
  g_autoptr(Pop3FakeServer) server = pop3_fake_server_new ();
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) gone = NULL;
  g_autofree char *session = NULL;
  g_autofree char *dots_uid = NULL;
  g_autofree char *dummy_uid = NULL;
  PopcheckAccount *account;
  PopcheckMailbox *mailbox;
  const char *id;

  /* No UIDL; messages 1 and 3 have the same headers and size, message 2
   * ("dots") differs. */
  pop3_fake_server_set_capabilities (server, (const char *[]) {
    "IMPLEMENTATION no-uidl", NULL });
  pop3_fake_server_set_response (server, "UIDL", "-ERR unknown command\r\n");
  pop3_fake_server_set_response (server, "LIST",
                                 "+OK\r\n1 100\r\n2 100\r\n3 100\r\n.\r\n");
  g_assert_true (pop3_fake_server_start (server, &error));
  account = add_fake_account (fixture, "No UIDL", server);
  id = popcheck_account_get_id (account);
  mailbox = mailbox_of (fixture, account);

  /* Identities are fingerprints of TOP n 0, and the account says so; the
   * twins cannot be told apart, so only one of them is listed. */
  check_ok (fixture, account);
  g_assert_true (popcheck_mailbox_get_approximate_ids (mailbox));
  g_assert_cmpuint (count_commands (fixture, id, "TOP 1 0", 0), ==, 1);
  g_assert_cmpuint (count_commands (fixture, id, "TOP 3 0", 0), ==, 1);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, 2);
  dots_uid = g_strdup (uid_of_subject (mailbox, "dots"));
  dummy_uid = g_strdup (uid_of_subject (mailbox, "Dummy"));

  /* A second check: the same identities, nothing new. */
  check_ok (fixture, account);
  g_assert_cmpuint (fixture->events->len, ==, 1);
  g_assert_nonnull (popcheck_mailbox_lookup (mailbox, dots_uid));

  /* Deleting re-fingerprints and deletes only an exact, unique match. */
  session = delete_fails (fixture, account,
                          (const char *[]) { dummy_uid, NULL },
                          "several messages that look exactly like this one");
  g_assert_null (strstr (session, "DELE"));
  g_clear_pointer (&session, g_free);

  g_assert_true (delete_uids (fixture, account,
                              (const char *[]) { dots_uid, NULL }, &gone,
                              &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (gone), ==, 0);
  session = last_session (fixture, id);
  g_assert_true (g_str_has_suffix (session, "TOP 3 0 | DELE 2 | QUIT"));
  pop3_fake_server_stop (server);
}

/* Fake server: what the server's errors mean ------------------------------ */

/* The backlog: a check fetches the newest headers, the rest follow ------- */

/* Expects TOP from..to (either way), answering each. */
static void
script_tops (Pop3FakeScript *script,
             guint           from,
             guint           to)
{
  for (guint i = from;; i = from <= to ? i + 1 : i - 1)
    {
      g_autofree char *top = g_strdup_printf ("TOP %u 20", i);

      pop3_fake_script_expect (script, top);
      script_send_top (script, i);
      if (i == to)
        break;
    }
}

/* A session of a mailbox of n messages "uid-1".."uid-n" whose client
 * knows the sizes of the first `known` (or LIST_ALL), that answers the
 * TOPs of the ranges given as pairs (from, to), ended by 0, then QUIT. */
static Pop3FakeScript *
ranges_script (guint n,
               guint known,
               ...)
{
  Pop3FakeScript *script = pop3_fake_script_new ();
  g_autofree char *uidl = mailbox_uidl (n);
  va_list args;
  guint from;

  script_until_listed_known (script, "+OK\r\nUIDL\r\n.\r\n", uidl, n,
                             known);
  va_start (args, known);
  while ((from = va_arg (args, guint)) != 0)
    script_tops (script, from, va_arg (args, guint));
  va_end (args);

  return script_quit (script);
}

/* "known: N N ...; pending: N" of the mailbox, by message number. */
static char *
describe_headers (PopcheckMailbox *mailbox,
                  guint            n)
{
  g_autoptr(GString) text = g_string_new ("known:");
  guint pending = 0;

  for (guint i = 1; i <= n; i++)
    {
      g_autofree char *uid = g_strdup_printf ("uid-%u", i);
      PopcheckMessage *message = popcheck_mailbox_lookup (mailbox, uid);

      if (message == NULL)
        continue;
      if (popcheck_message_get_headers_known (message))
        g_string_append_printf (text, " %u", i);
      else if (popcheck_message_get_headers_pending (message))
        pending++;
    }
  g_string_append_printf (text, "; pending: %u", pending);

  return g_string_free (g_steal_pointer (&text), FALSE);
}

/* The server said goodbye after log entry @entry. */
static gboolean
answered_quit_after (Pop3FakeServer *server,
                     const char     *entry)
{
  int from = pop3_fake_server_find_log (server, entry, 0);

  return from >= 0 && pop3_fake_server_find_log (server, "S: +OK bye", from) >= 0;
}

static gboolean
headers_known (PopcheckMailbox *mailbox,
               const char      *uid)
{
  PopcheckMessage *message = popcheck_mailbox_lookup (mailbox, uid);

  return message != NULL && popcheck_message_get_headers_known (message);
}

typedef struct
{
  Fixture         *fixture;
  PopcheckAccount *account;
  /* What the mailbox held when the first check reported. */
  char            *at_first_check;
  guint            sessions_at_first_check;
  /* Done once uid-15's headers arrive. */
  const char      *then;
  gboolean         done;
  GAsyncResult    *preview;
} BacklogTest;

static void
backlog_first_check_cb (PopcheckChecker *checker,
                        PopcheckMailbox *mailbox,
                        guint            count,
                        BacklogTest     *test)
{
  test->at_first_check = describe_headers (mailbox, 20);
  test->sessions_at_first_check =
    count_commands (test->fixture, popcheck_account_get_id (test->account),
                    "SESSION", 0);
}

/* While the backlog's first batch is still on its way: the headers of
 * uid-15 came, those of uid-11 to uid-14 not yet. */
static void
backlog_items_changed_cb (GListModel  *model,
                          guint        position,
                          guint        removed,
                          guint        added,
                          BacklogTest *test)
{
  PopcheckMailbox *mailbox = POPCHECK_MAILBOX (model);
  const char *account_id = popcheck_account_get_id (test->account);

  if (test->done || test->then == NULL || !headers_known (mailbox, "uid-15"))
    return;

  test->done = TRUE;
  g_assert_false (headers_known (mailbox, "uid-14"));
  if (g_str_equal (test->then, "preview"))
    popcheck_checker_preview_async (test->fixture->checker, account_id,
                                    "uid-3", 20, NULL, store_result_cb,
                                    &test->preview);
  else if (g_str_equal (test->then, "check"))
    popcheck_checker_check_now (test->fixture->checker, account_id);
  else if (g_str_equal (test->then, "hold"))
    popcheck_checker_hold_backlog (test->fixture->checker, account_id);
}

/* An account of the scripted server, checked by a started checker that
 * fetches 5 headers per check and per batch of the backlog. */
static PopcheckMailbox *
start_backlog (Fixture        *fixture,
               BacklogTest    *test,
               Pop3FakeServer *server,
               const char     *name)
{
  PopcheckMailbox *mailbox;

  test->fixture = fixture;
  test->account = add_fake_account (fixture, name, server);
  mailbox = mailbox_of (fixture, test->account);
  popcheck_checker_set_first_headers (fixture->checker, 5);
  popcheck_checker_set_backlog_batch (fixture->checker, 5);
  g_signal_connect (fixture->checker, "first-check",
                    G_CALLBACK (backlog_first_check_cb), test);
  g_signal_connect (mailbox, "items-changed",
                    G_CALLBACK (backlog_items_changed_cb), test);
  popcheck_checker_start (fixture->checker);

  return mailbox;
}

static void
backlog_test_clear (BacklogTest *test,
                    PopcheckMailbox *mailbox)
{
  if (mailbox != NULL)
    g_signal_handlers_disconnect_by_data (mailbox, test);
  if (test->fixture->checker != NULL)
    g_signal_handlers_disconnect_by_data (test->fixture->checker, test);
  g_clear_pointer (&test->at_first_check, g_free);
  g_clear_object (&test->preview);
}

/* A first check of 20 messages reports with the newest 5 summaries, the
 * other 15 listed with their headers pending; the backlog then fetches
 * them newest to oldest, a batch at a time, in the check's session, as
 * nothing else waits: one login for both. */
static void
test_backlog_order (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(Pop3FakeServer) server = pop3_fake_server_new ();
  g_autofree char *after = NULL;
  g_autofree char *events = NULL;
  BacklogTest test = { 0 };
  PopcheckMailbox *mailbox;
  Pop3FakeScript *scripts[] = {
    /* The check, then the backlog. */
    ranges_script (20, LIST_ALL, 16, 20, 15, 11, 10, 6, 5, 1, 0),
  };

  start_scripted (server, scripts, G_N_ELEMENTS (scripts));
  mailbox = start_backlog (fixture, &test, server, "Backlog");

  WAIT_UNTIL (test.at_first_check != NULL &&
              popcheck_mailbox_count_headers_pending (mailbox) == 0 &&
              pop3_fake_server_all_ended (server), WAIT_SECONDS);
  g_assert_cmpstr (test.at_first_check, ==, "known: 16 17 18 19 20; pending: 15");
  g_assert_cmpuint (test.sessions_at_first_check, ==, 1);
  events = events_text (fixture, 0);
  g_assert_cmpstr (events, ==, "first backlog 20");
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, 20);
  after = describe_headers (mailbox, 20);
  g_assert_cmpstr (after, ==, "known: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 "
                              "17 18 19 20; pending: 0");
  g_assert_cmpuint (popcheck_mailbox_get_n_new (mailbox), ==, 0);
  g_assert_cmpuint (count_commands (fixture, "backlog", "SESSION", 0), ==, 1);
  g_assert_cmpuint (count_commands (fixture, "backlog", "PASS", 0), ==, 1);
  g_assert_cmpuint (count_commands (fixture, "backlog", "UIDL", 0), ==, 1);
  backlog_test_clear (&test, mailbox);
  stop_scripted (server);
}

/* A preview asked for while a batch is on its way runs before the next
 * batch; the backlog goes on after it, where it was, in a session of its
 * own. */
static void
test_backlog_yields (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(Pop3FakeServer) server = pop3_fake_server_new ();
  g_autoptr(PopcheckMessage) preview = NULL;
  g_autoptr(GError) error = NULL;
  BacklogTest test = { .then = "preview" };
  PopcheckMailbox *mailbox;
  Pop3FakeScript *scripts[] = {
    ranges_script (20, LIST_ALL, 16, 20, 15, 11, 0),            /* the check, a batch */
    ranges_script (20, LIST_ALL, 3, 3, 0),                      /* the preview */
    ranges_script (20, LIST_ALL, 10, 6, 5, 1, 0),               /* the rest */
  };

  start_scripted (server, scripts, G_N_ELEMENTS (scripts));
  mailbox = start_backlog (fixture, &test, server, "Yields");

  WAIT_UNTIL (test.preview != NULL &&
              popcheck_mailbox_count_headers_pending (mailbox) == 0 &&
              pop3_fake_server_all_ended (server), WAIT_SECONDS);
  preview = popcheck_checker_preview_finish (fixture->checker, test.preview,
                                             &error);
  g_assert_no_error (error);
  g_assert_cmpstr (popcheck_message_get_subject (preview), ==, "Message 3");
  g_assert_cmpuint (count_commands (fixture, "yields", "SESSION", 0), ==, 3);
  backlog_test_clear (&test, mailbox);
  stop_scripted (server);
}

/* New mail found by a check while the backlog is still going gets its
 * headers in that check, before the backlog goes on, and is announced. */
static void
test_backlog_new_mail (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(Pop3FakeServer) server = pop3_fake_server_new ();
  BacklogTest test = { .then = "check" };
  PopcheckMailbox *mailbox;
  Pop3FakeScript *scripts[] = {
    ranges_script (20, LIST_ALL, 16, 20, 15, 11, 0),            /* the first check, a batch */
    /* Two new: with the newest three still pending, in the server's
     * order; then the rest. */
    ranges_script (22, 20, 8, 10, 21, 22, 7, 3, 2, 1, 0),
  };

  start_scripted (server, scripts, G_N_ELEMENTS (scripts));
  mailbox = start_backlog (fixture, &test, server, "Backlog new");

  WAIT_UNTIL (test.done && popcheck_mailbox_count_headers_pending (mailbox) == 0 &&
              popcheck_mailbox_get_n_items (mailbox) == 22 &&
              pop3_fake_server_all_ended (server), WAIT_SECONDS);
  g_assert_cmpuint (count_events (fixture, "new backlog-new Message 21"), ==, 1);
  g_assert_cmpuint (count_events (fixture, "new backlog-new Message 22"), ==, 1);
  g_assert_cmpuint (fixture->events->len, ==, 3);
  g_assert_cmpuint (popcheck_mailbox_get_n_new (mailbox), ==, 2);
  g_assert_true (popcheck_message_get_is_new (popcheck_mailbox_lookup (mailbox,
                                                                       "uid-22")));
  backlog_test_clear (&test, mailbox);
  stop_scripted (server);
}

/* Held (a person reads a message of the account), the backlog sends no
 * TOP after the batch on the line: its session ends, a preview runs in a
 * session of its own with nothing after it, and rows the window wants
 * wait too.  Released, the backlog goes on: the rows wanted first, then
 * the newest left. */
static void
test_backlog_held (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(Pop3FakeServer) server = pop3_fake_server_new ();
  g_autoptr(PopcheckMessage) preview = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *held = NULL;
  g_autofree char *after = NULL;
  g_auto(GStrv) mismatches = NULL;
  const char * const wanted[] = { "uid-2", NULL };
  BacklogTest test = { .then = "hold" };
  PopcheckMailbox *mailbox;
  const char *account_id;
  Pop3FakeScript *scripts[] = {
    ranges_script (20, LIST_ALL, 16, 20, 15, 11, 0),        /* the check, a batch */
    ranges_script (20, LIST_ALL, 3, 3, 0),                  /* the preview */
    ranges_script (20, LIST_ALL, 2, 2, 10, 3, 1, 1, 0),     /* released */
  };

  start_scripted (server, scripts, G_N_ELEMENTS (scripts));
  mailbox = start_backlog (fixture, &test, server, "Held");
  account_id = popcheck_account_get_id (test.account);

  /* The batch on the line is answered, then QUIT. */
  WAIT_UNTIL (test.done && answered_quit_after (server, "ACCEPT 0"), WAIT_SECONDS);
  popcheck_checker_want_headers (fixture->checker, account_id, wanted);
  popcheck_checker_preview_async (fixture->checker, account_id, "uid-3", 20, NULL,
                                  store_result_cb, &test.preview);
  /* A backlog run after the preview would have its session by the time
   * the preview's is answered and the slot is free. */
  WAIT_UNTIL (test.preview != NULL && answered_quit_after (server, "ACCEPT 1"),
              WAIT_SECONDS);
  preview = popcheck_checker_preview_finish (fixture->checker, test.preview, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (popcheck_message_get_subject (preview), ==, "Message 3");
  g_assert_cmpuint (count_commands (fixture, "held", "SESSION", 0), ==, 2);
  /* The check's session ended with QUIT, not another TOP. */
  mismatches = pop3_fake_server_get_mismatches (server);
  g_assert_cmpstr (mismatches[0], ==, NULL);
  held = describe_headers (mailbox, 20);
  g_assert_cmpstr (held, ==, "known: 11 12 13 14 15 16 17 18 19 20; pending: 10");

  popcheck_checker_release_backlog (fixture->checker, account_id);
  WAIT_UNTIL (popcheck_mailbox_count_headers_pending (mailbox) == 0 &&
              pop3_fake_server_all_ended (server), WAIT_SECONDS);
  after = describe_headers (mailbox, 20);
  g_assert_cmpstr (after, ==, "known: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 "
                              "17 18 19 20; pending: 0");
  g_assert_cmpuint (count_commands (fixture, "held", "SESSION", 0), ==, 3);
  backlog_test_clear (&test, mailbox);
  stop_scripted (server);
}

typedef struct
{
  BacklogTest *test;
  /* Changes of the mailbox after the first check reported. */
  guint        changes;
  /* Those of them that did not add as many rows as they removed. */
  guint        uneven;
} FillCount;

static void
fill_count_items_changed_cb (GListModel *model,
                             guint       position,
                             guint       removed,
                             guint       added,
                             FillCount  *count)
{
  if (count->test->at_first_check == NULL)
    return;

  count->changes++;
  if (removed != added)
    count->uneven++;
}

/* The backlog fills the rows newest first, so each takes the place of
 * the row it fills: its changes of the mailbox replace rows, never remove
 * or add them (which costs a list view's models more), and are never
 * more than the rows filled, whatever the reads the answers came in. */
static void
test_backlog_fills_in_place (Fixture       *fixture,
                             gconstpointer  data)
{
  g_autoptr(Pop3FakeServer) server = pop3_fake_server_new ();
  g_autofree char *after = NULL;
  BacklogTest test = { 0 };
  FillCount count = { &test, 0, 0 };
  PopcheckMailbox *mailbox;
  Pop3FakeScript *scripts[] = {
    ranges_script (20, LIST_ALL, 16, 20, 15, 11, 10, 6, 5, 1, 0),
  };

  start_scripted (server, scripts, G_N_ELEMENTS (scripts));
  mailbox = start_backlog (fixture, &test, server, "In place");
  g_signal_connect (mailbox, "items-changed",
                    G_CALLBACK (fill_count_items_changed_cb), &count);

  WAIT_UNTIL (test.at_first_check != NULL &&
              popcheck_mailbox_count_headers_pending (mailbox) == 0 &&
              pop3_fake_server_all_ended (server), WAIT_SECONDS);
  g_signal_handlers_disconnect_by_data (mailbox, &count);
  after = describe_headers (mailbox, 20);
  g_assert_cmpstr (after, ==, "known: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 "
                              "17 18 19 20; pending: 0");
  g_assert_cmpuint (count.changes, >, 0);
  g_assert_cmpuint (count.changes, <=, 15);
  g_assert_cmpuint (count.uneven, ==, 0);
  backlog_test_clear (&test, mailbox);
  stop_scripted (server);
}

/* Stopped half way (quit), the backlog keeps what it fetched; after a
 * restart, the next check and its backlog fetch only the rest, newest
 * first. */
static void
test_backlog_restart (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(Pop3FakeServer) server = pop3_fake_server_new ();
  g_autofree char *kept = NULL;
  g_autofree char *after = NULL;
  g_autofree char *uidl = mailbox_uidl (20);
  g_autofree char *events = NULL;
  BacklogTest test = { 0 };
  PopcheckMailbox *mailbox;
  Pop3FakeScript *stalled = pop3_fake_script_new ();
  Pop3FakeScript *scripts[] = {
    stalled,                                          /* the first check */
    ranges_script (20, 20, 10, 14, 9, 5, 4, 1, 0),        /* after the restart */
  };

  /* The check, the backlog's first answer, then nothing until the server
   * stops. */
  script_until_listed (stalled, uidl, 20);
  script_tops (stalled, 16, 20);
  script_tops (stalled, 15, 15);
  pop3_fake_script_pause (stalled, 1000 * 1000);

  start_scripted (server, scripts, G_N_ELEMENTS (scripts));
  mailbox = start_backlog (fixture, &test, server, "Backlog restart");
  WAIT_UNTIL (headers_known (mailbox, "uid-15"), WAIT_SECONDS);
  backlog_test_clear (&test, mailbox);

  fixture_drop_checker (fixture);
  fixture->checker = fixture_new_checker (fixture);
  mailbox = mailbox_of (fixture, test.account);
  WAIT_UNTIL (popcheck_mailbox_get_n_items (mailbox) == 20, WAIT_SECONDS);
  kept = describe_headers (mailbox, 20);
  g_assert_cmpstr (kept, ==, "known: 15 16 17 18 19 20; pending: 14");

  popcheck_checker_set_first_headers (fixture->checker, 5);
  popcheck_checker_set_backlog_batch (fixture->checker, 5);
  popcheck_checker_start (fixture->checker);
  WAIT_UNTIL (popcheck_mailbox_count_headers_pending (mailbox) == 0 &&
              answered_quit_after (server, "ACCEPT 1"), WAIT_SECONDS);
  after = describe_headers (mailbox, 20);
  g_assert_cmpstr (after, ==, "known: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 "
                              "17 18 19 20; pending: 0");
  events = events_text (fixture, 0);
  g_assert_cmpstr (events, ==, "first backlog-restart 20");
  stop_scripted (server);
}

/* Starts a new checker, as after a restart, and checks account with it:
 * how many TOPs that check sent. */
static guint
restart_and_check (Fixture         *fixture,
                   PopcheckAccount *account)
{
  const char *account_id = popcheck_account_get_id (account);
  guint from;

  fixture_drop_checker (fixture);
  fixture->checker = fixture_new_checker (fixture);
  from = n_commands (fixture, account_id);
  check_ok (fixture, account);

  return count_commands (fixture, account_id, "TOP ", from);
}

/* A check that fails half way through its TOPs keeps the summaries that
 * came: after a restart, the next check asks only for the rest and lists
 * them all, as a first check. */
static void
test_failed_check_keeps_fetched (Fixture       *fixture,
                                 gconstpointer  data)
{
  g_autoptr(Pop3FakeServer) server = pop3_fake_server_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *uidl = mailbox_uidl (10);
  g_autofree char *after = NULL;
  g_autofree char *events = NULL;
  Pop3FakeScript *failing = pop3_fake_script_new ();
  PopcheckAccount *account;
  Pop3FakeScript *scripts[] = {
    failing,
    ranges_script (10, LIST_ALL, 5, 10, 0),                     /* after the restart */
  };

  /* Four answers, then the server hangs up. */
  script_until_listed (failing, uidl, 10);
  script_tops (failing, 1, 4);
  pop3_fake_script_close (failing);

  start_scripted (server, scripts, G_N_ELEMENTS (scripts));
  account = add_fake_account (fixture, "Fetched kept", server);
  g_assert_false (check (fixture, account, &error));
  g_assert_nonnull (error);

  g_assert_cmpuint (restart_and_check (fixture, account), ==, 6);
  after = describe_headers (mailbox_of (fixture, account), 10);
  g_assert_cmpstr (after, ==, "known: 1 2 3 4 5 6 7 8 9 10; pending: 0");
  events = events_text (fixture, 0);
  g_assert_cmpstr (events, ==, "first fetched-kept 10");
  /* The server thread counts a connection ended after the client may
   * already have read its last reply. */
  WAIT_UNTIL (pop3_fake_server_all_ended (server), WAIT_SECONDS);
  stop_scripted (server);
}

/* Quit while a first check waits for its TOPs: what came is kept, and
 * the check after the restart asks only for the rest. */
static void
test_quit_keeps_fetched (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(Pop3FakeServer) server = pop3_fake_server_new ();
  g_autofree char *uidl = mailbox_uidl (4);
  g_autofree char *after = NULL;
  Pop3FakeScript *stalled = pop3_fake_script_new ();
  PopcheckAccount *account;
  PopcheckMailbox *mailbox;
  Pop3FakeScript *scripts[] = {
    stalled,
    ranges_script (4, LIST_ALL, 2, 4, 0),                       /* after the restart */
  };

  /* One answer, then nothing until the server stops. */
  script_until_listed (stalled, uidl, 4);
  script_tops (stalled, 1, 1);
  pop3_fake_script_pause (stalled, 1000 * 1000);

  start_scripted (server, scripts, G_N_ELEMENTS (scripts));
  account = add_fake_account (fixture, "Quit kept", server);
  mailbox = mailbox_of (fixture, account);
  popcheck_checker_start (fixture->checker);
  /* A summary the check holds for its end marks the mailbox for saving. */
  WAIT_UNTIL (popcheck_mailbox_get_dirty (mailbox), WAIT_SECONDS);

  g_assert_cmpuint (restart_and_check (fixture, account), ==, 3);
  after = describe_headers (mailbox_of (fixture, account), 4);
  g_assert_cmpstr (after, ==, "known: 1 2 3 4; pending: 0");
  stop_scripted (server);
}

/* A later check of a mailbox of n: UIDL, then `LIST i` for the new
 * messages from `first_new` on, answered with sizes i * 100 but naming
 * message `named` instead of `bad`; then TOP for the new ones, QUIT. */
static Pop3FakeScript *
new_sizes_script (guint n,
                  guint first_new,
                  guint bad,
                  guint named)
{
  Pop3FakeScript *script = pop3_fake_script_new ();
  g_autofree char *uidl = mailbox_uidl (n);

  script_until_pass (script);
  pop3_fake_script_send (script, "+OK\r\n");
  pop3_fake_script_expect (script, "UIDL");
  pop3_fake_script_send (script, uidl);
  for (guint i = first_new; i <= n; i++)
    {
      g_autofree char *command = g_strdup_printf ("LIST %u", i);
      g_autofree char *answer = g_strdup_printf ("+OK %u %u\r\n",
                                                 i == bad ? named : i, i * 100);

      pop3_fake_script_expect (script, command);
      pop3_fake_script_send (script, answer);
      if (i == bad)
        {
          pop3_fake_script_close (script);
          return script;
        }
    }
  script_tops (script, first_new, n);

  return script_quit (script);
}

/* A later check has the sizes of the messages it listed before: it asks
 * `LIST n` for the new ones only, and no LIST at all when nothing is new.
 * A `LIST n` answer about another message fails the check, as a broken
 * listing does, and changes nothing. */
static void
test_list_new_only (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(Pop3FakeServer) server = pop3_fake_server_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *session = NULL;
  PopcheckAccount *account;
  PopcheckMailbox *mailbox;
  const char *id;
  Pop3FakeScript *scripts[] = {
    mailbox_script (3, 1, 0),          /* the first check: the whole LIST */
    new_sizes_script (5, 4, 0, 0),     /* two new */
    new_sizes_script (6, 6, 6, 5),     /* LIST 6 answered for message 5 */
    mailbox_script (5, 0, 0),          /* nothing new */
  };

  start_scripted (server, scripts, G_N_ELEMENTS (scripts));
  account = add_fake_account (fixture, "New sizes", server);
  id = popcheck_account_get_id (account);
  mailbox = mailbox_of (fixture, account);

  check_ok (fixture, account);
  check_ok (fixture, account);
  session = last_session (fixture, id);
  g_assert_cmpstr (session, ==,
                   "CAPA | USER guido | PASS ******** | UIDL | LIST 4 | LIST 5 | "
                   "TOP 4 20 | TOP 5 20 | QUIT");
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, 5);
  g_assert_cmpuint (popcheck_message_get_size (popcheck_mailbox_lookup (mailbox, "uid-1")),
                    ==, 100);
  g_assert_cmpuint (popcheck_message_get_size (popcheck_mailbox_lookup (mailbox, "uid-4")),
                    ==, 400);
  g_assert_cmpuint (popcheck_message_get_size (popcheck_mailbox_lookup (mailbox, "uid-5")),
                    ==, 500);

  g_assert_false (check (fixture, account, &error));
  g_assert_nonnull (error);
  g_assert_cmpint (popcheck_mailbox_get_problem (mailbox), ==,
                   POPCHECK_PROBLEM_TEMPORARY);
  g_assert_cmpstr (popcheck_mailbox_get_error_message (mailbox), ==,
                   "The server answered about message 5 when asked about "
                   "message 6.");
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, 5);
  g_assert_null (popcheck_mailbox_lookup (mailbox, "uid-6"));

  check_ok (fixture, account);
  g_clear_pointer (&session, g_free);
  session = last_session (fixture, id);
  g_assert_cmpstr (session, ==, "CAPA | USER guido | PASS ******** | UIDL | QUIT");
  g_assert_cmpuint (count_events (fixture, "first new-sizes 3"), ==, 1);
  g_assert_cmpuint (fixture->events->len, ==, 3);
  stop_scripted (server);
}

/* LIST in no particular order (nothing in RFC 1939 makes a server keep
 * one): each message still gets its own size, the one whose TOP the
 * server refuses and those left for the backlog alike. */
static void
test_list_out_of_order (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr(Pop3FakeServer) server = pop3_fake_server_new ();
  g_autofree char *uidl = mailbox_uidl (5);
  Pop3FakeScript *script = pop3_fake_script_new ();
  PopcheckAccount *account;
  PopcheckMailbox *mailbox;

  script_until_pass (script);
  pop3_fake_script_send (script, "+OK\r\n");
  pop3_fake_script_expect (script, "UIDL");
  pop3_fake_script_send (script, uidl);
  pop3_fake_script_expect (script, "LIST");
  pop3_fake_script_send (script, "+OK\r\n5 500\r\n3 300\r\n1 100\r\n"
                                 "4 400\r\n2 200\r\n.\r\n");
  pop3_fake_script_expect (script, "TOP 4 20");
  pop3_fake_script_send (script, "-ERR cannot read this one\r\n");
  pop3_fake_script_expect (script, "TOP 5 20");
  script_send_top (script, 5);
  script_quit (script);

  start_scripted (server, &script, 1);
  account = add_fake_account (fixture, "List order", server);
  mailbox = mailbox_of (fixture, account);
  popcheck_checker_set_first_headers (fixture->checker, 2);
  check_ok (fixture, account);

  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, 5);
  g_assert_true (headers_known (mailbox, "uid-5"));
  g_assert_false (headers_known (mailbox, "uid-4"));
  for (guint i = 1; i <= 4; i++)
    {
      g_autofree char *uid = g_strdup_printf ("uid-%u", i);
      PopcheckMessage *message = popcheck_mailbox_lookup (mailbox, uid);

      g_assert_nonnull (message);
      g_assert_cmpuint (popcheck_message_get_size (message), ==, i * 100);
      g_assert_cmpuint (popcheck_message_get_headers_pending (message), ==, i < 4);
    }
  stop_scripted (server);
}

typedef struct
{
  const char      *reply;
  PopcheckProblem  problem;
  /* The first retry, in seconds; 0: none until the user acts. */
  guint            retry;
} CodeCase;

static void
wait_check_done (PopcheckMailbox *mailbox)
{
  WAIT_UNTIL (popcheck_mailbox_get_state (mailbox) !=
              POPCHECK_MAILBOX_STATE_CHECKING, WAIT_SECONDS);
}

static void
check_now_and_wait (Fixture         *fixture,
                    PopcheckAccount *account)
{
  PopcheckMailbox *mailbox = mailbox_of (fixture, account);

  popcheck_checker_check_now (fixture->checker,
                              popcheck_account_get_id (account));
  g_assert_cmpint (popcheck_mailbox_get_state (mailbox), ==,
                   POPCHECK_MAILBOX_STATE_CHECKING);
  wait_check_done (mailbox);
}

static void
test_response_code (Fixture       *fixture,
                    gconstpointer  data)
{
  const CodeCase *code = data;
  g_autoptr(Pop3FakeServer) server = pop3_fake_server_new ();
  g_autoptr(GError) error = NULL;
  char *password;
  PopcheckAccount *account;
  PopcheckMailbox *mailbox;
  gboolean needs_user = code->retry == 0;
  g_autofree char *expected_events = NULL;
  g_autofree char *events = NULL;
  const char *id;

  pop3_fake_server_set_response (server, "PASS", code->reply);
  g_assert_true (pop3_fake_server_start (server, &error));
  account = add_fake_account (fixture, "Codes", server);
  id = popcheck_account_get_id (account);
  mailbox = mailbox_of (fixture, account);

  popcheck_checker_start (fixture->checker);
  g_assert_cmpint (popcheck_mailbox_get_state (mailbox), ==,
                   POPCHECK_MAILBOX_STATE_CHECKING);
  wait_check_done (mailbox);

  g_assert_cmpint (popcheck_mailbox_get_state (mailbox), ==,
                   POPCHECK_MAILBOX_STATE_ERROR);
  g_assert_cmpint (popcheck_mailbox_get_problem (mailbox), ==, code->problem);
  g_assert_nonnull (popcheck_mailbox_get_error_message (mailbox));
  g_assert_cmpuint (popcheck_checker_get_next_delay (fixture->checker, id),
                    ==, code->retry);
  expected_events = needs_user ? g_strdup_printf ("problem %s", id)
                               : g_strdup ("");
  events = events_text (fixture, 0);
  g_assert_cmpstr (events, ==, expected_events);

  /* The stored password is never thrown away for a server's error. */
  password = lookup_password (id, "127.0.0.1",
                              pop3_fake_server_get_port (server),
                              FAKE_USER, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (password, ==, FAKE_PASSWORD);
  secret_password_free (password);

  /* Again: retries back off, up to the ceiling and never giving up; a
   * problem for the user is reported once, not once per retry. */
  if (!needs_user)
    {
      guint expected = code->retry;

      for (guint i = 0; i < 8; i++)
        {
          check_now_and_wait (fixture, account);
          expected = MIN (expected * 2, 3600);
          g_assert_cmpuint (popcheck_checker_get_next_delay (fixture->checker, id),
                            ==, expected);
        }
      g_assert_cmpuint (popcheck_checker_get_next_delay (fixture->checker, id),
                        ==, 3600);
    }
  else
    {
      check_now_and_wait (fixture, account);
      g_assert_cmpuint (popcheck_checker_get_next_delay (fixture->checker, id),
                        ==, 0);
      g_assert_cmpuint (fixture->events->len, ==, 1);
    }

  fixture_drop_checker (fixture);
  pop3_fake_server_stop (server);
}

static void
test_login_delay (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(Pop3FakeServer) server = pop3_fake_server_new ();
  g_autoptr(GError) error = NULL;
  PopcheckAccount *account;
  PopcheckMailbox *mailbox;
  const char *id;

  /* RFC 2449: LOGIN-DELAY 900 is longer than the 5-minute interval. */
  pop3_fake_server_add_capability (server, "LOGIN-DELAY 900");
  g_assert_true (pop3_fake_server_start (server, &error));
  account = add_fake_account (fixture, "Login delay", server);
  id = popcheck_account_get_id (account);
  mailbox = mailbox_of (fixture, account);
  g_assert_cmpuint (popcheck_account_get_check_interval (account), ==, 5);

  popcheck_checker_start (fixture->checker);
  wait_check_done (mailbox);
  g_assert_cmpint (popcheck_mailbox_get_state (mailbox), ==,
                   POPCHECK_MAILBOX_STATE_IDLE);
  g_assert_cmpuint (popcheck_checker_get_next_delay (fixture->checker, id),
                    ==, 900);

  /* A shorter one leaves the interval alone. */
  popcheck_account_set_check_interval (account, 20);
  g_assert_cmpuint (popcheck_checker_get_next_delay (fixture->checker, id),
                    ==, 1200);
}

/* LOGIN-DELAY 4294967295 is a valid number but not a delay anyone means:
 * the next check is at most the back-off ceiling away, and the mailbox
 * says when it is. */
static void
test_login_delay_capped (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(Pop3FakeServer) server = pop3_fake_server_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GDateTime) before = NULL;
  g_autoptr(GDateTime) next_check = NULL;
  PopcheckAccount *account;
  PopcheckMailbox *mailbox;
  const char *id;
  GTimeSpan ahead;

  pop3_fake_server_add_capability (server, "LOGIN-DELAY 4294967295");
  g_assert_true (pop3_fake_server_start (server, &error));
  account = add_fake_account (fixture, "Huge login delay", server);
  id = popcheck_account_get_id (account);
  mailbox = mailbox_of (fixture, account);

  popcheck_checker_start (fixture->checker);
  wait_check_done (mailbox);
  before = g_date_time_new_now_local ();
  g_assert_cmpint (popcheck_mailbox_get_state (mailbox), ==,
                   POPCHECK_MAILBOX_STATE_IDLE);
  g_assert_cmpuint (popcheck_checker_get_next_delay (fixture->checker, id),
                    ==, 3600);

  g_object_get (mailbox, "next-check", &next_check, NULL);
  g_assert_nonnull (next_check);
  ahead = g_date_time_difference (next_check, before);
  g_assert_cmpint (ahead, <=, 3600 * G_TIME_SPAN_SECOND);
  g_assert_cmpint (ahead, >, 3500 * G_TIME_SPAN_SECOND);

  /* An interval longer than the ceiling is the user's choice: kept. */
  popcheck_account_set_check_interval (account, 120);
  g_assert_cmpuint (popcheck_checker_get_next_delay (fixture->checker, id),
                    ==, 7200);

  /* Waiting for the user: no next check to show. */
  popcheck_account_set_enabled (account, FALSE);
  g_clear_pointer (&next_check, g_date_time_unref);
  g_object_get (mailbox, "next-check", &next_check, NULL);
  g_assert_null (next_check);

  fixture_drop_checker (fixture);
  pop3_fake_server_stop (server);
}

/* Test Connection on a saved account with the password field left empty:
 * the password stored in the keyring is sent, never an empty PASS. */
static void
test_connection_test_stored_password (Fixture       *fixture,
                                      gconstpointer  data)
{
  g_autoptr(Pop3FakeServer) server = pop3_fake_server_new ();
  g_autoptr(PopcheckConnectionTest) test = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) commands = NULL;
  guint16 port;

  g_assert_true (pop3_fake_server_start (server, &error));
  port = pop3_fake_server_get_port (server);
  store_password ("stored", "127.0.0.1", port, FAKE_USER, FAKE_PASSWORD);

  test = popcheck_connection_test_new ("127.0.0.1", port, POP3_SECURITY_NONE,
                                       FAKE_USER, "", POP3_AUTH_USER);
  popcheck_connection_test_set_stored_password (test, "stored", "127.0.0.1",
                                                port,
                                                FAKE_USER);
  popcheck_connection_test_run_async (test, NULL, store_result_cb, &result);
  g_assert_true (popcheck_connection_test_run_finish (test,
                                                      await_result (&result),
                                                      &error));
  g_assert_no_error (error);
  g_assert_cmpuint (popcheck_connection_test_get_message_count (test), ==, 10);

  commands = pop3_fake_server_get_commands (server);
  g_assert_true (g_strv_contains ((const char * const *) commands,
                                  "PASS " FAKE_PASSWORD));
  for (guint i = 0; commands[i] != NULL; i++)
    g_assert_cmpstr (g_strstrip (commands[i]), !=, "PASS");

  pop3_fake_server_stop (server);
}

/* A state file written by a newer PopCheck: this one neither moves nor
 * overwrites it, does not check the account (it could not keep what it
 * found), and tells the user once. */
static void
test_newer_state_file (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(Pop3FakeServer) server = pop3_fake_server_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) newer = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(PopcheckMailbox) probe = NULL;
  g_autofree char *path = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *expected_events = NULL;
  g_autofree char *events = NULL;
  g_autoptr(GDir) listing = NULL;
  PopcheckAccount *account;
  PopcheckMailbox *mailbox;
  const char *id;
  const char *name;
  gsize len = 0;

  g_assert_true (pop3_fake_server_start (server, &error));
  account = add_fake_account (fixture, "Newer state", server);
  id = popcheck_account_get_id (account);
  /* The file is there before the checker reads it: as at a start. */
  fixture_drop_checker (fixture);

  probe = popcheck_mailbox_new (id);
  path = popcheck_mailbox_dup_state_path (probe);
  dir = g_path_get_dirname (path);
  newer = g_variant_ref_sink (g_variant_new ("(suv)",
                                             "org.example.PopCheck.MailboxState",
                                             99, g_variant_new_string ("future")));
  bytes = g_variant_get_data_as_bytes (newer);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (path, g_bytes_get_data (bytes, NULL),
                                      g_bytes_get_size (bytes), &error));

  fixture->checker = fixture_new_checker (fixture);
  mailbox = mailbox_of (fixture, account);
  popcheck_checker_start (fixture->checker);
  WAIT_UNTIL (popcheck_mailbox_get_state (mailbox) ==
              POPCHECK_MAILBOX_STATE_ERROR, WAIT_SECONDS);
  g_assert_cmpint (popcheck_mailbox_get_problem (mailbox), ==,
                   POPCHECK_PROBLEM_PERMANENT);
  g_assert_nonnull (popcheck_mailbox_get_error_message (mailbox));
  g_assert_cmpuint (popcheck_checker_get_next_delay (fixture->checker, id),
                    ==, 0);
  expected_events = g_strdup_printf ("problem %s", id);
  events = events_text (fixture, 0);
  g_assert_cmpstr (events, ==, expected_events);
  g_assert_cmpuint (pop3_fake_server_get_n_connections (server), ==, 0);

  fixture_drop_checker (fixture);
  g_assert_true (g_file_get_contents (path, &contents, &len, &error));
  g_assert_cmpmem (contents, len, g_bytes_get_data (bytes, NULL),
                   g_bytes_get_size (bytes));
  listing = g_dir_open (dir, 0, &error);
  g_assert_no_error (error);
  while ((name = g_dir_read_name (listing)) != NULL)
    g_assert_false (strstr (name, ".damaged-") != NULL);

  g_assert_cmpint (g_unlink (path), ==, 0);
  pop3_fake_server_stop (server);
}

/* An account that appears while the checker runs, written from outside
 * (popcheck-cli account add, gsettings): checked at once, not an
 * interval later. */
static void
test_added_while_running (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(GSettings) root = g_settings_new (POPCHECK_SETTINGS_SCHEMA_ID);
  g_autoptr(GSettings) settings = NULL;
  const char *ids[] = { "outside", NULL };

  popcheck_checker_start (fixture->checker);
  popcheck_test_demo_add_user (demo, "outside", "outside-password", TRUE);
  deliver ("outside", "Waiting");
  store_password ("outside", demo->host, demo->pop3s_port, "outside",
                  "outside-password");

  settings = g_settings_new_with_path (POPCHECK_ACCOUNT_SCHEMA_ID,
                                       POPCHECK_ACCOUNT_PATH_PREFIX "outside/");
  g_settings_set_string (settings, "display-name", "Outside");
  g_settings_set_string (settings, "host", demo->host);
  g_settings_set (settings, "port", "q", (guint16) demo->pop3s_port);
  g_settings_set_string (settings, "user", "outside");
  g_settings_set_string (settings, "pinned-fingerprint", demo->fingerprint);
  g_settings_set_strv (root, "accounts", ids);

  WAIT_UNTIL (fixture->events->len > 0, WAIT_SECONDS);
  g_assert_cmpstr (fixture->events->pdata[0], ==, "first outside 1");
}

/* An account checked once, with one message, and its state saved. */
static PopcheckAccount *
add_saved_account (Fixture     *fixture,
                   const char  *name,
                   const char  *user,
                   char       **state_path)
{
  PopcheckAccount *account = add_dovecot_account (fixture, name, user, TRUE);

  deliver (user, "Old one");
  check_ok (fixture, account);
  *state_path = popcheck_mailbox_dup_state_path (mailbox_of (fixture, account));
  WAIT_UNTIL (!popcheck_checker_is_saving (fixture->checker), WAIT_SECONDS);
  g_assert_true (g_file_test (*state_path, G_FILE_TEST_EXISTS));
  return account;
}

static void
remove_account (Fixture         *fixture,
                PopcheckAccount *account)
{
  g_autoptr(GAsyncResult) removed = NULL;
  g_autoptr(GError) error = NULL;

  popcheck_account_list_remove_async (fixture->accounts, account, NULL,
                                      store_result_cb, &removed);
  g_assert_true (popcheck_account_list_remove_finish (fixture->accounts,
                                                      await_result (&removed),
                                                      &error));
  g_assert_no_error (error);
}

/* An account removed and added again under the same name starts afresh:
 * its old messages are not listed, and its first check announces
 * nothing. */
static void
test_readded (Fixture       *fixture,
              gconstpointer  data)
{
  PopcheckAccount *account;
  PopcheckMailbox *mailbox;
  g_autofree char *state_path = NULL;
  g_autofree char *events = NULL;

  account = add_saved_account (fixture, "Again", "again", &state_path);
  remove_account (fixture, account);
  g_assert_false (g_file_test (state_path, G_FILE_TEST_EXISTS));

  /* The same name on another mailbox, with mail of its own. */
  g_ptr_array_set_size (fixture->events, 0);
  account = add_dovecot_account (fixture, "Again", "again2", TRUE);
  deliver ("again2", "New one");
  mailbox = mailbox_of (fixture, account);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, 0);
  check_ok (fixture, account);
  events = events_text (fixture, 0);
  g_assert_cmpstr (events, ==, "first again 1");
}

/* A save asked for just before the account goes has not taken its
 * snapshot yet (it waits for the main loop to be idle): it is not taken
 * after, and the removed account's state file stays gone. */
static void
test_removed_before_snapshot (Fixture       *fixture,
                              gconstpointer  data)
{
  PopcheckAccount *account;
  g_autofree char *state_path = NULL;

  account = add_saved_account (fixture, "Saved", "saved", &state_path);
  popcheck_checker_slot_save (popcheck_checker_find_slot (
    fixture->checker, popcheck_account_get_id (account)));
  remove_account (fixture, account);
  WAIT_UNTIL (!popcheck_checker_is_saving (fixture->checker), WAIT_SECONDS);
  g_assert_false (g_file_test (state_path, G_FILE_TEST_EXISTS));
}

/* An account filled in key by key while the checker runs, as the editor
 * and popcheck-cli do: checked soon after, not an interval later. */
static void
test_filled_in_while_running (Fixture       *fixture,
                              gconstpointer  data)
{
  popcheck_checker_start (fixture->checker);
  add_dovecot_account (fixture, "Filled in", "filledin", TRUE);

  /* Well before the 5-minute interval. */
  WAIT_UNTIL (fixture->events->len > 0, WAIT_SECONDS);
  g_assert_cmpstr (fixture->events->pdata[0], ==, "first filled-in 0");
}

/* Secrets ------------------------------------------------------------------ */

static void
test_secret_missing (Fixture       *fixture,
                     gconstpointer  data)
{
  PopcheckAccount *good;
  PopcheckAccount *missing;
  PopcheckMailbox *good_mailbox;
  PopcheckMailbox *missing_mailbox;
  g_autofree char *expected = NULL;
  g_autofree char *events = NULL;

  missing = add_dovecot_account (fixture, "No password", "nopassword", FALSE);
  good = add_dovecot_account (fixture, "Has password", "haspassword", TRUE);
  deliver ("haspassword", "Hello");
  good_mailbox = mailbox_of (fixture, good);
  missing_mailbox = mailbox_of (fixture, missing);

  popcheck_checker_start (fixture->checker);
  wait_check_done (missing_mailbox);
  wait_check_done (good_mailbox);

  g_assert_cmpint (popcheck_mailbox_get_state (missing_mailbox), ==,
                   POPCHECK_MAILBOX_STATE_ERROR);
  g_assert_cmpint (popcheck_mailbox_get_problem (missing_mailbox), ==,
                   POPCHECK_PROBLEM_SECRET);
  g_assert_cmpstr (popcheck_mailbox_get_error_message (missing_mailbox), ==,
                   "No password is stored for this account.");
  g_assert_cmpuint (n_commands (fixture, popcheck_account_get_id (missing)), ==,
                    1);

  g_assert_cmpint (popcheck_mailbox_get_state (good_mailbox), ==,
                   POPCHECK_MAILBOX_STATE_IDLE);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (good_mailbox), ==, 1);

  expected = g_strdup_printf ("problem %s; first %s 1",
                              popcheck_account_get_id (missing),
                              popcheck_account_get_id (good));
  events = events_text (fixture, 0);
  g_assert_cmpstr (events, ==, expected);
}

static void
assert_secret_problem (Fixture    *fixture,
                       const char *message)
{
  PopcheckAccount *account;
  PopcheckMailbox *mailbox;
  g_autoptr(GError) error = NULL;

  account = add_dovecot_account (fixture, "Keyring", "keyringuser", FALSE);
  mailbox = mailbox_of (fixture, account);
  g_assert_false (check (fixture, account, &error));
  g_assert_error (error, POPCHECK_SECRET_ERROR, error->code);
  g_assert_cmpint (popcheck_mailbox_get_state (mailbox), ==,
                   POPCHECK_MAILBOX_STATE_ERROR);
  g_assert_cmpint (popcheck_mailbox_get_problem (mailbox), ==,
                   POPCHECK_PROBLEM_SECRET);
  g_assert_cmpstr (popcheck_mailbox_get_error_message (mailbox), ==, message);
  /* Not a byte went to the server without a password. */
  g_assert_cmpuint (n_commands (fixture, popcheck_account_get_id (account)), ==,
                    1);
}

static void
test_secret_locked (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(SecretService) service = NULL;
  g_autoptr(SecretCollection) collection = NULL;
  g_autoptr(GError) error = NULL;
  GList *objects;
  GList *locked = NULL;

  /* The id the account "Keyring" gets. */
  store_password ("keyring", demo->host, demo->pop3s_port, "keyringuser",
                  "secret");
  service = secret_service_get_sync (SECRET_SERVICE_NONE, NULL, &error);
  g_assert_no_error (error);
  collection = secret_collection_for_alias_sync (service,
                                                 SECRET_COLLECTION_DEFAULT,
                                                 SECRET_COLLECTION_NONE,
                                                 NULL, &error);
  g_assert_no_error (error);
  objects = g_list_append (NULL, collection);
  g_assert_cmpint (secret_service_lock_sync (service, objects, NULL, &locked,
                                             &error), ==, 1);
  g_list_free (objects);
  g_list_free_full (locked, g_object_unref);
  g_assert_no_error (error);

  assert_secret_problem (fixture,
                         "The keyring is locked and was not unlocked.");
}

static void
test_secret_no_service (Fixture       *fixture,
                        gconstpointer  data)
{
  assert_secret_problem (fixture,
                         "No keyring service is running. PopCheck keeps "
                         "passwords only in the system keyring (GNOME "
                         "Keyring or another Secret Service).");
}

/* Scheduling and concurrency ----------------------------------------------- */

static void
test_dead_server (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(Pop3FakeServer) server = start_silent_server ();
  PopcheckAccount *dead;
  PopcheckAccount *alive;
  PopcheckMailbox *dead_mailbox;
  PopcheckMailbox *alive_mailbox;

  dead = add_fake_account (fixture, "Dead", server);
  alive = add_dovecot_account (fixture, "Alive", "alive", TRUE);
  deliver ("alive", "Hi");
  dead_mailbox = mailbox_of (fixture, dead);
  alive_mailbox = mailbox_of (fixture, alive);

  popcheck_checker_start (fixture->checker);
  WAIT_UNTIL (popcheck_mailbox_get_first_check_done (alive_mailbox),
              WAIT_SECONDS);

  /* While the dead server still holds its check open: far sooner than the
   * client's 30 s timeout, which would have ended it in an error. */
  g_assert_cmpint (popcheck_mailbox_get_state (alive_mailbox), ==,
                   POPCHECK_MAILBOX_STATE_IDLE);
  WAIT_UNTIL (pop3_fake_server_get_n_connections (server) == 1, WAIT_SECONDS);
  g_assert_cmpint (popcheck_mailbox_get_state (dead_mailbox), ==,
                   POPCHECK_MAILBOX_STATE_CHECKING);

  /* Shutdown cancels the hanging check: it ends without the error its
   * timeout would have given it. */
  popcheck_checker_stop (fixture->checker);
  wait_check_done (dead_mailbox);
  g_assert_cmpint (popcheck_mailbox_get_state (dead_mailbox), !=,
                   POPCHECK_MAILBOX_STATE_ERROR);
  g_assert_cmpuint (popcheck_checker_get_next_delay (
    fixture->checker, popcheck_account_get_id (alive)), ==, 0);
  pop3_fake_server_stop (server);
}

/* Open connections at once, from the server's log: a session ends for the
 * client once its QUIT arrived (the +OK comes after), or at EOF. */
static guint
max_overlap (Pop3FakeServer *server)
{
  g_auto(GStrv) log = pop3_fake_server_get_log (server);
  guint open = 0;
  guint most = 0;

  for (guint i = 0; log[i] != NULL; i++)
    {
      if (g_str_has_prefix (log[i], "ACCEPT "))
        {
          open++;
          most = MAX (most, open);
        }
      else if (g_str_equal (log[i], "C: QUIT") || g_str_equal (log[i], "EOF"))
        {
          g_assert_cmpuint (open, >, 0);
          open--;
        }
    }

  return most;
}

static void
count_result_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  guint *pending = user_data;
  g_autoptr(GError) error = NULL;

  if (g_task_get_source_tag (G_TASK (result)) == popcheck_checker_check_async)
    popcheck_checker_check_finish (POPCHECK_CHECKER (object), result, &error);
  else
    popcheck_checker_delete_finish (POPCHECK_CHECKER (object), result, NULL,
                                    &error);
  g_assert_no_error (error);
  (*pending)--;
}

static void
test_one_at_a_time (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(Pop3FakeServer) server = pop3_fake_server_new ();
  g_autoptr(GError) error = NULL;
  PopcheckAccount *account;
  PopcheckMailbox *mailbox;
  const char *id;
  guint pending = 0;
  g_auto(GStrv) log = NULL;
  guint n_quit = 0;
  int quit;
  int dele;

  /* Slow enough replies that overlapping sessions would overlap. */
  pop3_fake_server_set_reply_delay (server, 20);
  g_assert_true (pop3_fake_server_start (server, &error));
  account = add_fake_account (fixture, "One at a time", server);
  id = popcheck_account_get_id (account);
  mailbox = mailbox_of (fixture, account);

  popcheck_checker_start (fixture->checker);
  for (guint i = 0; i < 3; i++)
    {
      popcheck_checker_check_now (fixture->checker, id);
      popcheck_checker_check_async (fixture->checker, id, NULL,
                                    count_result_cb, &pending);
      pending++;
    }
  popcheck_checker_delete_async (fixture->checker, id,
                                 (const char *[]) { "5", NULL }, NULL,
                                 count_result_cb, &pending);
  pending++;
  WAIT_UNTIL (pending == 0, WAIT_SECONDS);
  wait_check_done (mailbox);

  /* The start's check, the three asked for and the delete; the
   * check_now()s were answered by the check already queued. */
  g_assert_cmpuint (count_commands (fixture, id, "SESSION", 0), ==, 5);
  g_assert_cmpuint (pop3_fake_server_get_n_connections (server), ==, 5);
  g_assert_cmpuint (max_overlap (server), ==, 1);

  /* The delete came after the four checks queued before it, not inside
   * one of them. */
  log = pop3_fake_server_get_log (server);
  dele = pop3_fake_server_find_log (server, "C: DELE 5", 0);
  g_assert_cmpint (dele, >=, 0);
  for (quit = 0; log[quit] != NULL && quit < dele; quit++)
    if (g_str_equal (log[quit], "C: QUIT"))
      n_quit++;
  g_assert_cmpuint (n_quit, ==, 4);
  pop3_fake_server_stop (server);
}

static void
test_concurrent_accounts (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(Pop3FakeServer) first = start_silent_server ();
  g_autoptr(Pop3FakeServer) second = start_silent_server ();
  PopcheckAccount *a;
  PopcheckAccount *b;

  /* Two servers that never answer: both are connected to at once, which
   * could not happen if accounts were checked one after the other. */
  a = add_fake_account (fixture, "First", first);
  b = add_fake_account (fixture, "Second", second);

  popcheck_checker_start (fixture->checker);
  WAIT_UNTIL (pop3_fake_server_get_n_connections (first) == 1 &&
              pop3_fake_server_get_n_connections (second) == 1, WAIT_SECONDS);
  g_assert_cmpint (popcheck_mailbox_get_state (mailbox_of (fixture, a)), ==,
                   POPCHECK_MAILBOX_STATE_CHECKING);
  g_assert_cmpint (popcheck_mailbox_get_state (mailbox_of (fixture, b)), ==,
                   POPCHECK_MAILBOX_STATE_CHECKING);
  fixture_drop_checker (fixture);
  pop3_fake_server_stop (first);
  pop3_fake_server_stop (second);
}

static void
cancelled_result_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  guint *pending = user_data;
  g_autoptr(GError) error = NULL;

  if (g_task_get_source_tag (G_TASK (result)) == popcheck_checker_check_async)
    g_assert_false (popcheck_checker_check_finish (POPCHECK_CHECKER (object),
                                                   result, &error));
  else
    g_assert_false (popcheck_checker_delete_finish (POPCHECK_CHECKER (object),
                                                    result, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  (*pending)--;
}

static void
test_shutdown (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(Pop3FakeServer) server = start_silent_server ();
  PopcheckAccount *account;
  const char *id;
  guint pending = 0;

  account = add_fake_account (fixture, "Shutdown", server);
  id = popcheck_account_get_id (account);

  /* A check hangs; another check and a delete wait behind it. */
  popcheck_checker_start (fixture->checker);
  popcheck_checker_check_async (fixture->checker, id, NULL,
                                cancelled_result_cb, &pending);
  pending++;
  popcheck_checker_delete_async (fixture->checker, id,
                                 (const char *[]) { "1", NULL }, NULL,
                                 cancelled_result_cb, &pending);
  pending++;
  WAIT_UNTIL (pop3_fake_server_get_n_connections (server) == 1, WAIT_SECONDS);

  popcheck_checker_stop (fixture->checker);
  WAIT_UNTIL (pending == 0, WAIT_SECONDS);
  /* Both ended as cancelled (cancelled_result_cb), not by the timeout. */
  wait_check_done (mailbox_of (fixture, account));

  /* Nothing starts afterwards: no timer, no queued operation. */
  drain_main_context ();
  g_assert_cmpuint (popcheck_checker_get_next_delay (fixture->checker, id),
                    ==, 0);
  g_assert_cmpuint (pop3_fake_server_get_n_connections (server), ==, 1);
  g_assert_cmpuint (count_commands (fixture, id, "DELE", 0), ==, 0);

  /* The checker is gone soon after, with everything it started. */
  fixture_drop_checker (fixture);
  pop3_fake_server_stop (server);
}

static void
test_caller_cancels (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(Pop3FakeServer) server = start_silent_server ();
  PopcheckAccount *account;
  const char *id;

  account = add_fake_account (fixture, "Caller cancels", server);
  id = popcheck_account_get_id (account);

  /* A preview the user no longer wants (another message was selected):
   * cancelling it ends it at once, and frees the account for the next
   * operation, without stopping the checker. */
  for (guint i = 1; i <= 2; i++)
    {
      g_autoptr(GCancellable) cancellable = g_cancellable_new ();
      g_autoptr(GAsyncResult) result = NULL;
      g_autoptr(PopcheckMessage) message = NULL;
      g_autoptr(GError) preview_error = NULL;

      popcheck_checker_preview_async (fixture->checker, id, "1", 20,
                                      cancellable, store_result_cb, &result);
      WAIT_UNTIL (pop3_fake_server_get_n_connections (server) == i,
                  WAIT_SECONDS);
      g_cancellable_cancel (cancellable);
      message = popcheck_checker_preview_finish (fixture->checker,
                                                 await_result (&result),
                                                 &preview_error);
      g_assert_null (message);
      g_assert_error (preview_error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    }
  pop3_fake_server_stop (server);
}

static void
test_account_removed_while_checking (Fixture       *fixture,
                                     gconstpointer  data)
{
  g_autoptr(Pop3FakeServer) server = start_silent_server ();
  PopcheckAccount *account;
  guint pending = 0;

  account = add_fake_account (fixture, "Removed soon", server);

  popcheck_checker_check_async (fixture->checker,
                                popcheck_account_get_id (account), NULL,
                                cancelled_result_cb, &pending);
  pending++;
  popcheck_checker_check_async (fixture->checker,
                                popcheck_account_get_id (account), NULL,
                                cancelled_result_cb, &pending);
  pending++;
  WAIT_UNTIL (pop3_fake_server_get_n_connections (server) == 1, WAIT_SECONDS);

  /* The running check ends cancelled, the waiting one fails, and nothing
   * touches the freed account. */
  remove_account (fixture, account);
  WAIT_UNTIL (pending == 0, WAIT_SECONDS);
  g_assert_cmpuint (g_list_model_get_n_items (
    popcheck_checker_get_mailboxes (fixture->checker)), ==, 0);
  pop3_fake_server_stop (server);
}

static void
test_offline (Fixture       *fixture,
              gconstpointer  data)
{
  g_autoptr(Pop3FakeServer) server = start_fake_server ();
  PopcheckAccount *account;
  PopcheckMailbox *mailbox;

  account = add_fake_account (fixture, "Offline", server);
  mailbox = mailbox_of (fixture, account);

  /* No network: no connection at all, and the account says why. */
  test_monitor_set_available (fixture->monitor, FALSE);
  popcheck_checker_start (fixture->checker);
  WAIT_UNTIL (popcheck_mailbox_get_state (mailbox) ==
              POPCHECK_MAILBOX_STATE_OFFLINE, WAIT_SECONDS);
  drain_main_context ();
  g_assert_cmpuint (pop3_fake_server_get_n_connections (server), ==, 0);
  g_assert_cmpuint (n_commands (fixture, popcheck_account_get_id (account)),
                    ==, 0);

  /* The network returns: checked at once. */
  test_monitor_set_available (fixture->monitor, TRUE);
  WAIT_UNTIL (popcheck_mailbox_get_first_check_done (mailbox), WAIT_SECONDS);
  g_assert_cmpint (popcheck_mailbox_get_state (mailbox), ==,
                   POPCHECK_MAILBOX_STATE_IDLE);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, 5);
  pop3_fake_server_stop (server);
}

static void
test_network_returns (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(Pop3FakeServer) gone = start_fake_server ();
  PopcheckAccount *account;
  PopcheckMailbox *mailbox;
  const char *id;

  /* A check that fails to connect (the server is gone), as when the
   * network goes away. */
  account = add_fake_account (fixture, "Unreachable", gone);
  pop3_fake_server_stop (gone);
  id = popcheck_account_get_id (account);
  mailbox = mailbox_of (fixture, account);

  popcheck_checker_start (fixture->checker);
  wait_check_done (mailbox);
  g_assert_cmpint (popcheck_mailbox_get_problem (mailbox), ==,
                   POPCHECK_PROBLEM_TEMPORARY);
  g_assert_cmpuint (popcheck_checker_get_next_delay (fixture->checker, id),
                    ==, 60);
  g_assert_cmpuint (count_commands (fixture, id, "SESSION", 0), ==, 1);

  /* The network goes and comes back: checked again at once. */
  test_monitor_set_available (fixture->monitor, FALSE);
  g_assert_cmpuint (count_commands (fixture, id, "SESSION", 0), ==, 1);
  test_monitor_set_available (fixture->monitor, TRUE);
  g_assert_cmpuint (count_commands (fixture, id, "SESSION", 0), ==, 2);
  wait_check_done (mailbox);
}

/* Soak --------------------------------------------------------------------- */

/* Resident set size in KiB, from /proc/self/statm (in pages). */
static guint64
resident_kib (void)
{
  g_autofree char *statm = NULL;
  g_auto(GStrv) fields = NULL;

  g_assert_true (g_file_get_contents ("/proc/self/statm", &statm, NULL, NULL));
  fields = g_strsplit (statm, " ", -1);
  g_assert_cmpuint (g_strv_length (fields), >=, 2);

  return g_ascii_strtoull (fields[1], NULL, 10) * (sysconf (_SC_PAGESIZE) / 1024);
}

static guint
count_fds (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;

  return n;
}

/* One connection of the faulty server: served well, or broken somewhere. */
static Pop3FakeScript *
random_fault_script (void)
{
  Pop3FakeScript *script = pop3_fake_script_new ();

  switch (g_test_rand_int_range (0, 8))
    {
    case 0:   /* closed at once */
      pop3_fake_script_close (script);
      break;
    case 1:   /* an -ERR greeting */
      pop3_fake_script_send (script, "-ERR [SYS/TEMP] try later\r\n");
      pop3_fake_script_close (script);
      break;
    case 2:   /* dropped in the middle of CAPA's reply */
      pop3_fake_script_send (script, "+OK ready\r\n");
      pop3_fake_script_expect (script, "CAPA");
      pop3_fake_script_send (script, "+OK\r\nUID");
      pop3_fake_script_close (script);
      break;
    case 3:   /* busy */
      script_until_pass (script);
      pop3_fake_script_send (script, "-ERR [IN-USE] locked\r\n");
      pop3_fake_script_close (script);
      break;
    case 4:   /* dropped in the middle of the UIDL listing */
      script_until_pass (script);
      pop3_fake_script_send (script, "+OK\r\n");
      pop3_fake_script_expect (script, "UIDL");
      pop3_fake_script_send (script, "+OK\r\n1 1\r\n2 2\r\n");
      pop3_fake_script_close (script);
      break;
    default:  /* a good session */
      pop3_fake_script_send (script, POP3_FAKE_GREETING "\r\n");
      pop3_fake_script_respond (script);
      break;
    }

  return script;
}

/* The announcements since the last call: each must be of a message
 * delivered and not announced yet. */
static guint
take_announcements (Fixture    *fixture,
                    guint      *processed,
                    GHashTable *delivered)
{
  guint n = 0;

  for (; *processed < fixture->events->len; (*processed)++)
    {
      const char *event = fixture->events->pdata[*processed];

      if (!g_str_has_prefix (event, "new soak ") ||
          !g_hash_table_remove (delivered, event + 9))
        g_error ("unexpected announcement: %s", event);
      n++;
    }

  return n;
}

/* Descriptors come and go with the work between checks: a save holds its
 * lock and the files it writes, the fake server's thread closes its end
 * of a session after the client's.  Counted once that is over. */
static guint
count_fds_when_settled (Fixture        *fixture,
                        Pop3FakeServer *server)
{
  WAIT_UNTIL (!popcheck_checker_is_saving (fixture->checker) &&
              pop3_fake_server_all_ended (server), WAIT_SECONDS);

  return count_fds ();
}

/* The first checks grow the heap, the TLS state and the tables to their
 * working size: growth is counted from here. */
#define SOAK_WARM_UP_CYCLES 50

static void
test_soak (Fixture       *fixture,
           gconstpointer  data)
{
  const char *cycles_env = g_getenv ("POPCHECK_SOAK_CYCLES");
  guint cycles = cycles_env ? (guint) g_ascii_strtoull (cycles_env, NULL, 10)
                            : 1000;
  g_autoptr(Pop3FakeServer) faulty = pop3_fake_server_new ();
  g_autoptr(GHashTable) delivered = g_hash_table_new_full (g_str_hash,
                                                           g_str_equal,
                                                           g_free, NULL);
  g_autoptr(GError) error = NULL;
  PopcheckAccount *real;
  PopcheckAccount *fake;
  PopcheckMailbox *real_mailbox;
  PopcheckMailbox *fake_mailbox;
  guint next_message = 0;
  guint fds_after_warm_up = 0;
  guint fds_at_end;
  guint64 rss_after_warm_up = 0;
  guint fake_failures = 0;
  guint cancelled = 0;
  guint announced = 0;
  guint processed = 0;
  gboolean last_checked = TRUE;

  g_assert_cmpuint (cycles, >, SOAK_WARM_UP_CYCLES);
  /* The first session of the faulty server is good, so that its first
   * check records its 5 messages. */
  {
    g_autoptr(Pop3FakeScript) good = pop3_fake_script_new ();

    pop3_fake_script_send (good, POP3_FAKE_GREETING "\r\n");
    pop3_fake_script_respond (good);
    pop3_fake_server_add_script (faulty, good);
  }
  for (guint i = 0; i < cycles + 1; i++)
    {
      g_autoptr(Pop3FakeScript) script = random_fault_script ();

      pop3_fake_server_add_script (faulty, script);
    }
  g_assert_true (pop3_fake_server_start (faulty, &error));

  real = add_dovecot_account (fixture, "Soak", "soak", TRUE);
  fake = add_fake_account (fixture, "Faulty", faulty);
  real_mailbox = mailbox_of (fixture, real);
  fake_mailbox = mailbox_of (fixture, fake);
  check_ok (fixture, real);
  check_ok (fixture, fake);
  processed = fixture->events->len;

  for (guint cycle = 0; cycle < cycles; cycle++)
    {
      g_autoptr(GAsyncResult) real_result = NULL;
      g_autoptr(GAsyncResult) fake_result = NULL;
      g_autoptr(GError) real_error = NULL;
      g_autoptr(GError) fake_error = NULL;
      gboolean cancel = g_test_rand_int_range (0, 10) == 0;

      /* Here, not at the end of a cycle: a cancelled cycle ends early. */
      if (cycle == SOAK_WARM_UP_CYCLES)
        {
          fds_after_warm_up = count_fds_when_settled (fixture, faulty);
          rss_after_warm_up = resident_kib ();
        }

      /* Another client deletes, now and then, a message the last check
       * saw; mail arrives, now and then. */
      if (last_checked && g_test_rand_int_range (0, 10) == 0 &&
          popcheck_mailbox_get_n_items (real_mailbox) > 0)
        other_client_delete ("soak", 1);
      if (g_test_rand_int_range (0, 4) == 0)
        {
          g_autofree char *name = g_strdup_printf ("S%u", next_message++);

          deliver ("soak", name);
          g_hash_table_add (delivered, g_steal_pointer (&name));
        }

      /* Both accounts at once, as the scheduler does. */
      popcheck_checker_check_async (fixture->checker,
                                    popcheck_account_get_id (real), NULL,
                                    store_result_cb, &real_result);
      popcheck_checker_check_async (fixture->checker,
                                    popcheck_account_get_id (fake), NULL,
                                    store_result_cb, &fake_result);
      /* Now and then the app quits (or the user disables the account)
       * somewhere in the middle. */
      if (cancel)
        {
          for (guint i = g_test_rand_int_range (0, 30); i > 0; i--)
            g_main_context_iteration (NULL, FALSE);
          popcheck_checker_stop (fixture->checker);
        }
      if (!popcheck_checker_check_finish (fixture->checker,
                                          await_result (&fake_result),
                                          &fake_error))
        fake_failures++;
      if (!popcheck_checker_check_finish (fixture->checker,
                                          await_result (&real_result),
                                          &real_error))
        {
          g_assert_true (cancel);
          g_assert_error (real_error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
          cancelled++;
          last_checked = FALSE;
          continue;
        }
      g_assert_no_error (real_error);
      last_checked = TRUE;

      /* No message lost: the model is exactly the Maildir. */
      {
        g_auto(GStrv) ids = popcheck_test_demo_message_ids (demo, "soak");

        g_assert_cmpuint (popcheck_mailbox_get_n_items (real_mailbox), ==,
                          g_strv_length (ids));
        for (guint i = 0; ids[i] != NULL; i++)
          {
            g_autofree char *subject = g_strndup (ids[i] + 1,
                                                  strcspn (ids[i] + 1, "@"));

            g_assert_nonnull (uid_of_subject (real_mailbox, subject));
          }
      }
      g_assert_cmpuint (popcheck_mailbox_get_n_items (fake_mailbox), ==, 5);

      /* Every delivered message is announced, once; the faulty server's
       * never (they were known from the first check). */
      announced += take_announcements (fixture, &processed, delivered);
      g_assert_cmpuint (g_hash_table_size (delivered), ==, 0);
    }

  /* Whatever the last cycles' cancellations left unannounced comes now. */
  check_ok (fixture, real);
  announced += take_announcements (fixture, &processed, delivered);
  g_assert_cmpuint (g_hash_table_size (delivered), ==, 0);
  g_assert_cmpuint (announced, ==, next_message);
  fds_at_end = count_fds_when_settled (fixture, faulty);

  g_test_message ("%u cycles, %u messages announced, %u faulty checks, "
                  "%u cancelled; %u fds after warm-up, %u at the end; "
                  "%" G_GUINT64_FORMAT " KiB resident after warm-up, %"
                  G_GUINT64_FORMAT " at the end", cycles, announced,
                  fake_failures, cancelled, fds_after_warm_up, fds_at_end,
                  rss_after_warm_up, resident_kib ());
  g_assert_cmpuint (fake_failures, >, 0);
  g_assert_cmpuint (fds_at_end, <=, fds_after_warm_up + 2);
  /* The mailbox grows by a few hundred small messages (some 5 MB with
   * the state file's buffers); a leak of a session, a TLS connection or
   * a thread's stack per check would be far more.  (Under
   * AddressSanitizer freed memory is held in quarantine, so resident
   * memory says nothing there; its leak check at exit does.) */
#ifndef __SANITIZE_ADDRESS__
  g_assert_cmpuint (resident_kib (), <=, rss_after_warm_up + 12 * 1024);
#endif
  g_assert_false (popcheck_test_demo_any_seen (demo, "soak"));
  pop3_fake_server_stop (faulty);
}

/* Fake server: the first screen before the listing ------------------------- */

#define PIPELINING_CAPA "+OK\r\nPIPELINING\r\nUIDL\r\n.\r\n"

/* A first check's opening on a pipelining server whose STAT says n_stat
 * messages: STAT, then `UIDL i`, `LIST i` and `TOP i 20` for the newest
 * n_early, each answered as uid_of[i] says (NULL: -ERR); but when
 * wrong_msg is not 0, the answer to the first `UIDL i` is about message
 * wrong_msg. */
static void
script_first_screen (Pop3FakeScript     *script,
                     guint               n_stat,
                     guint               n_early,
                     const char * const *uid_of,
                     guint               wrong_msg)
{
  g_autofree char *stat = g_strdup_printf ("+OK %u %u\r\n", n_stat,
                                           n_stat * 100);

  script_until_pass_capa (script, PIPELINING_CAPA);
  pop3_fake_script_send (script, "+OK\r\n");
  pop3_fake_script_expect (script, "STAT");
  pop3_fake_script_send (script, stat);
  for (guint i = n_stat; i > n_stat - n_early; i--)
    {
      g_autofree char *command = g_strdup_printf ("UIDL %u", i);
      g_autofree char *answer = g_strdup_printf ("+OK %u %s\r\n",
                                                 i == n_stat && wrong_msg != 0
                                                   ? wrong_msg : i,
                                                 uid_of[i]);

      pop3_fake_script_expect (script, command);
      pop3_fake_script_send (script, uid_of[i] != NULL ? answer
                                                        : "-ERR no such message\r\n");
    }
  for (guint i = n_stat; i > n_stat - n_early; i--)
    {
      g_autofree char *command = g_strdup_printf ("LIST %u", i);
      g_autofree char *answer = g_strdup_printf ("+OK %u 100\r\n", i);

      pop3_fake_script_expect (script, command);
      pop3_fake_script_send (script, answer);
    }
  for (guint i = n_stat; i > n_stat - n_early; i--)
    {
      g_autofree char *command = g_strdup_printf ("TOP %u 20", i);

      pop3_fake_script_expect (script, command);
      script_send_top (script, i);
    }
}

/* The full listing after it: UIDL (its reply's first line says "full
 * listing") names the messages 1..n by uid_of, LIST gives 100 octets
 * each. */
static void
script_full_listing (Pop3FakeScript     *script,
                     guint               n,
                     const char * const *uid_of)
{
  g_autoptr(GString) uidl = g_string_new ("+OK full listing\r\n");
  g_autoptr(GString) list = g_string_new ("+OK\r\n");

  for (guint i = 1; i <= n; i++)
    {
      g_string_append_printf (uidl, "%u %s\r\n", i, uid_of[i]);
      g_string_append_printf (list, "%u 100\r\n", i);
    }
  g_string_append (uidl, ".\r\n");
  g_string_append (list, ".\r\n");

  pop3_fake_script_expect (script, "UIDL");
  pop3_fake_script_send (script, uidl->str);
  pop3_fake_script_expect (script, "LIST");
  pop3_fake_script_send (script, list->str);
}

/* What the list went through during a check. */
typedef struct
{
  Pop3FakeServer  *server;
  /* At the first change: how many rows, whether the server had answered
   * the full UIDL, and the row of uid-5. */
  guint            first_n_items;
  gboolean         listing_answered;
  PopcheckMessage *first_uid5;
  /* Rows removed in all the changes. */
  guint            removed;
} ListWatch;

static void
list_watch_changed_cb (GListModel *model,
                       guint       position,
                       guint       removed,
                       guint       added,
                       ListWatch  *watch)
{
  watch->removed += removed;
}

/* Told once a change is complete. */
static void
list_watch_n_items_cb (PopcheckMailbox *mailbox,
                       GParamSpec      *pspec,
                       ListWatch       *watch)
{
  if (watch->first_n_items > 0)
    return;

  watch->first_n_items = popcheck_mailbox_get_n_items (mailbox);
  watch->listing_answered =
    pop3_fake_server_find_log (watch->server, "S: +OK full listing", 0) >= 0;
  g_set_object (&watch->first_uid5, popcheck_mailbox_lookup (mailbox, "uid-5"));
}

/* A check of account, with what its mailbox went through in watch. */
static void
check_watched (Fixture         *fixture,
               PopcheckAccount *account,
               ListWatch       *watch)
{
  PopcheckMailbox *mailbox = mailbox_of (fixture, account);
  gulong handler, n_items_handler;

  handler = g_signal_connect (mailbox, "items-changed",
                              G_CALLBACK (list_watch_changed_cb), watch);
  n_items_handler = g_signal_connect (mailbox, "notify::n-items",
                                      G_CALLBACK (list_watch_n_items_cb),
                                      watch);
  check_ok (fixture, account);
  g_signal_handler_disconnect (mailbox, handler);
  g_signal_handler_disconnect (mailbox, n_items_handler);
}

static const char *
subject_of (PopcheckMailbox *mailbox,
            const char      *uid)
{
  PopcheckMessage *message = popcheck_mailbox_lookup (mailbox, uid);

  g_assert_nonnull (message);
  return popcheck_message_get_subject (message);
}

/* A first check on a pipelining server lists the newest summaries from
 * STAT, `UIDL n` and `TOP n` before it lists the whole mailbox, and the
 * listing that follows keeps their rows as they are. */
static void
test_first_screen_order (Fixture       *fixture,
                         gconstpointer  data)
{
  static const char *const uids[] = {
    NULL, "uid-1", "uid-2", "uid-3", "uid-4", "uid-5",
  };
  g_autoptr(Pop3FakeServer) server = pop3_fake_server_new ();
  Pop3FakeScript *script = pop3_fake_script_new ();
  ListWatch watch = { server, 0, FALSE, NULL, 0 };
  g_autofree char *session = NULL;
  g_autofree char *events = NULL;
  PopcheckAccount *account;
  PopcheckMailbox *mailbox;
  const char *id;

  script_first_screen (script, 5, 2, uids, 0);
  script_full_listing (script, 5, uids);
  script_quit (script);
  start_scripted (server, &script, 1);
  account = add_fake_account (fixture, "First screen", server);
  id = popcheck_account_get_id (account);
  mailbox = mailbox_of (fixture, account);
  popcheck_checker_set_first_headers (fixture->checker, 2);
  check_watched (fixture, account, &watch);

  session = last_session (fixture, id);
  g_assert_cmpstr (session, ==,
                   "CAPA | USER guido | PASS ******** | STAT | UIDL 5 | "
                   "UIDL 4 | LIST 5 | LIST 4 | TOP 5 20 | TOP 4 20 | UIDL | "
                   "LIST | QUIT");
  /* The two newest were in the list before the server answered UIDL. */
  g_assert_cmpuint (watch.first_n_items, ==, 2);
  g_assert_false (watch.listing_answered);
  /* The listing added the others, headers to come, behind them: no row
   * left, none came twice, the early ones are the same rows. */
  g_assert_cmpuint (watch.removed, ==, 0);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, 5);
  g_assert_true (popcheck_mailbox_lookup (mailbox, "uid-5") == watch.first_uid5);
  g_assert_cmpstr (subject_of (mailbox, "uid-5"), ==, "Message 5");
  g_assert_cmpstr (subject_of (mailbox, "uid-4"), ==, "Message 4");
  g_assert_cmpuint (popcheck_message_get_size (watch.first_uid5), ==, 100);
  for (guint i = 1; i <= 3; i++)
    g_assert_true (popcheck_message_get_headers_pending (
      popcheck_mailbox_lookup (mailbox, uids[i])));
  g_assert_cmpuint (popcheck_mailbox_get_n_new (mailbox), ==, 0);
  events = events_text (fixture, 0);
  g_assert_cmpstr (events, ==, "first first-screen 5");
  g_clear_object (&watch.first_uid5);
  stop_scripted (server);
}

/* A `UIDL n` answer about another message: nothing of what came before
 * the listing is shown, and the full listing, which is sound, makes the
 * first check as usual.  (Failing the check would fail every one after
 * it the same way, and the account would never list anything.) */
static void
test_first_screen_wrong_number (Fixture       *fixture,
                                gconstpointer  data)
{
  static const char *const uids[] = { NULL, "uid-1", "uid-2", "uid-3" };
  g_autoptr(Pop3FakeServer) server = pop3_fake_server_new ();
  Pop3FakeScript *script = pop3_fake_script_new ();
  ListWatch watch = { server, 0, FALSE, NULL, 0 };
  g_autofree char *session = NULL;
  PopcheckAccount *account;
  PopcheckMailbox *mailbox;

  script_first_screen (script, 3, 2, uids, 2);
  script_full_listing (script, 3, uids);
  pop3_fake_script_expect (script, "TOP 2 20");
  script_send_top (script, 2);
  pop3_fake_script_expect (script, "TOP 3 20");
  script_send_top (script, 3);
  script_quit (script);
  start_scripted (server, &script, 1);
  account = add_fake_account (fixture, "Wrong number", server);
  mailbox = mailbox_of (fixture, account);
  popcheck_checker_set_first_headers (fixture->checker, 2);
  check_watched (fixture, account, &watch);

  session = last_session (fixture, popcheck_account_get_id (account));
  g_assert_cmpstr (session, ==,
                   "CAPA | USER guido | PASS ******** | STAT | UIDL 3 | "
                   "UIDL 2 | LIST 3 | LIST 2 | TOP 3 20 | TOP 2 20 | UIDL | "
                   "LIST | TOP 2 20 | TOP 3 20 | QUIT");
  /* Nothing was listed before the full listing. */
  g_assert_true (watch.listing_answered);
  g_assert_cmpuint (watch.first_n_items, ==, 3);
  g_assert_null (popcheck_mailbox_get_error_message (mailbox));
  g_assert_true (popcheck_mailbox_get_first_check_done (mailbox));
  g_assert_cmpstr (subject_of (mailbox, "uid-3"), ==, "Message 3");
  g_assert_cmpstr (subject_of (mailbox, "uid-2"), ==, "Message 2");
  g_assert_true (popcheck_message_get_headers_pending (
    popcheck_mailbox_lookup (mailbox, "uid-1")));
  g_clear_object (&watch.first_uid5);
  stop_scripted (server);
}

/* Between STAT and the full listing, message 4 went and message 6 came
 * (a server that does not lock the maildrop): the listing wins.  Nothing
 * is lost or listed twice, the summary of the message that went is
 * dropped, and the others keep their rows with the listing's numbers. */
static void
test_first_screen_listing_differs (Fixture       *fixture,
                                   gconstpointer  data)
{
  static const char *const at_stat[] = {
    NULL, "uid-1", "uid-2", "uid-3", "uid-4", "uid-5",
  };
  static const char *const listed[] = {
    NULL, "uid-1", "uid-2", "uid-3", "uid-5", "uid-6",
  };
  g_autoptr(Pop3FakeServer) server = pop3_fake_server_new ();
  Pop3FakeScript *script = pop3_fake_script_new ();
  ListWatch watch = { server, 0, FALSE, NULL, 0 };
  PopcheckAccount *account;
  PopcheckMailbox *mailbox;
  g_autoptr(GHashTable) uids = g_hash_table_new (g_str_hash, g_str_equal);

  script_first_screen (script, 5, 3, at_stat, 0);
  script_full_listing (script, 5, listed);
  script_quit (script);
  start_scripted (server, &script, 1);
  account = add_fake_account (fixture, "Listing differs", server);
  mailbox = mailbox_of (fixture, account);
  popcheck_checker_set_first_headers (fixture->checker, 3);
  check_watched (fixture, account, &watch);

  g_assert_cmpuint (watch.first_n_items, ==, 3);
  g_assert_false (watch.listing_answered);
  /* Exactly what the listing names, each once. */
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, 5);
  for (guint i = 0; i < 5; i++)
    {
      g_autoptr(PopcheckMessage) message =
        g_list_model_get_item (G_LIST_MODEL (mailbox), i);

      g_assert_true (g_hash_table_add (uids,
                                       (gpointer) popcheck_message_get_uid (message)));
    }
  for (guint i = 1; i <= 5; i++)
    g_assert_true (g_hash_table_contains (uids, listed[i]));
  g_assert_null (popcheck_mailbox_lookup (mailbox, "uid-4"));
  /* The early rows that stay are the same rows, numbered as listed. */
  g_assert_true (popcheck_mailbox_lookup (mailbox, "uid-5") == watch.first_uid5);
  g_assert_cmpstr (subject_of (mailbox, "uid-5"), ==, "Message 5");
  g_assert_cmpuint (popcheck_message_get_msg_number (watch.first_uid5), ==, 4);
  g_assert_cmpuint (popcheck_mailbox_get_msg_number (mailbox, "uid-5"), ==, 4);
  g_assert_cmpstr (subject_of (mailbox, "uid-3"), ==, "Message 3");
  g_assert_cmpuint (popcheck_mailbox_get_msg_number (mailbox, "uid-6"), ==, 5);
  g_assert_true (popcheck_message_get_headers_pending (
    popcheck_mailbox_lookup (mailbox, "uid-6")));
  /* Only the row of the message that went was removed. */
  g_assert_cmpuint (watch.removed, ==, 1);
  g_clear_object (&watch.first_uid5);
  stop_scripted (server);
}

/* main ---------------------------------------------------------------------- */

static const CodeCase code_cases[] = {
  { "-ERR [IN-USE] Mailbox is locked\r\n", POPCHECK_PROBLEM_BUSY, 60 },
  { "-ERR [LOGIN-DELAY] Wait a little\r\n", POPCHECK_PROBLEM_BUSY, 60 },
  { "-ERR [in-use] lower case\r\n", POPCHECK_PROBLEM_BUSY, 60 },
  { "-ERR [SYS/TEMP] Try later\r\n", POPCHECK_PROBLEM_TEMPORARY, 60 },
  { "-ERR [SYS/PERM] Account disabled\r\n", POPCHECK_PROBLEM_PERMANENT, 0 },
  { "-ERR [AUTH] Bad credentials\r\n", POPCHECK_PROBLEM_AUTH, 0 },
  { "-ERR Wrong password\r\n", POPCHECK_PROBLEM_AUTH, 0 },
};
static const char *code_names[] = {
  "in-use", "login-delay", "in-use-lower-case", "sys-temp", "sys-perm",
  "auth", "wrong-password",
};

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

int
main (int   argc,
      char *argv[])
{
  const char *mode = g_getenv ("POPCHECK_TEST_KEYRING");
  int status;

  g_setenv ("LANGUAGE", "C", TRUE);
  g_test_init (&argc, &argv, NULL);

  if (g_strcmp0 (mode, "keyring") == 0)
    {
      ADD ("/checker/dovecot/new-by-uidl", test_new_by_uidl);
      ADD ("/checker/dovecot/nothing-new-no-top", test_nothing_new_no_top);
      ADD ("/checker/dovecot/first-screen-then-nothing-new",
           test_first_screen_then_nothing_new);
      ADD ("/checker/dovecot/restart", test_restart);
      ADD ("/checker/dovecot/added-while-running", test_added_while_running);
      ADD ("/checker/dovecot/readded", test_readded);
      ADD ("/checker/dovecot/removed-before-snapshot",
           test_removed_before_snapshot);
      ADD ("/checker/dovecot/filled-in-while-running", test_filled_in_while_running);
      ADD ("/checker/dovecot/removed-on-server", test_removed_on_server);
      ADD ("/checker/dovecot/never-seen", test_never_seen);
      ADD ("/checker/dovecot/delete-renumbered", test_delete_renumbered);
      ADD ("/checker/fake/delete/dele-fails", test_delete_dele_fails);
      ADD ("/checker/fake/delete/rset-fails", test_delete_rset_fails);
      ADD ("/checker/fake/delete/quit-dropped", test_delete_quit_dropped);
      ADD ("/checker/fake/no-uidl", test_no_uidl);
      ADD ("/checker/fake/top-fails", test_top_fails);
      ADD ("/checker/fake/top-refused", test_top_refused);
      ADD ("/checker/fake/dripping-check", test_dripping_check);
      ADD ("/checker/fake/top-refused-then-read", test_top_refused_then_read);
      ADD ("/checker/fake/top-refused-restart", test_top_refused_restart);
      ADD ("/checker/fake/broken-uidl", test_broken_uidl);
      ADD ("/checker/fake/top-window", test_top_window);
      ADD ("/checker/fake/fingerprint-window", test_fingerprint_window);
      ADD ("/checker/fake/backlog/order", test_backlog_order);
      ADD ("/checker/fake/backlog/yields", test_backlog_yields);
      ADD ("/checker/fake/backlog/new-mail", test_backlog_new_mail);
      ADD ("/checker/fake/backlog/restart", test_backlog_restart);
      ADD ("/checker/fake/backlog/held", test_backlog_held);
      ADD ("/checker/fake/backlog/fills-in-place", test_backlog_fills_in_place);
      ADD ("/checker/fake/failed-check-keeps-fetched",
           test_failed_check_keeps_fetched);
      ADD ("/checker/fake/list-out-of-order", test_list_out_of_order);
      ADD ("/checker/fake/list-new-only", test_list_new_only);
      ADD ("/checker/fake/quit-keeps-fetched", test_quit_keeps_fetched);
      ADD ("/checker/fake/first-screen/order", test_first_screen_order);
      ADD ("/checker/fake/first-screen/wrong-number",
           test_first_screen_wrong_number);
      ADD ("/checker/fake/first-screen/listing-differs",
           test_first_screen_listing_differs);
      for (guint i = 0; i < G_N_ELEMENTS (code_cases); i++)
        {
          g_autofree char *path = g_strdup_printf ("/checker/fake/code/%s",
                                                   code_names[i]);

          g_test_add (path, Fixture, &code_cases[i], fixture_set_up,
                      test_response_code, fixture_tear_down);
        }
      ADD ("/checker/fake/login-delay", test_login_delay);
      ADD ("/checker/fake/login-delay-capped", test_login_delay_capped);
      ADD ("/checker/fake/connection-test-stored-password",
           test_connection_test_stored_password);
      ADD ("/checker/fake/newer-state-file", test_newer_state_file);
      ADD ("/checker/secret/missing", test_secret_missing);
      ADD ("/checker/schedule/dead-server", test_dead_server);
      ADD ("/checker/schedule/concurrent-accounts", test_concurrent_accounts);
      ADD ("/checker/schedule/one-at-a-time", test_one_at_a_time);
      ADD ("/checker/schedule/shutdown", test_shutdown);
      ADD ("/checker/schedule/caller-cancels", test_caller_cancels);
      ADD ("/checker/schedule/account-removed",
           test_account_removed_while_checking);
      ADD ("/checker/schedule/offline", test_offline);
      ADD ("/checker/schedule/network-returns", test_network_returns);
      ADD ("/checker/secret/locked", test_secret_locked);
      /* Minutes of work: only with -m slow (the "soak" suite). */
      if (g_test_slow ())
        ADD ("/checker/soak", test_soak);
    }
  else if (g_strcmp0 (mode, "no-service") == 0 ||
           g_strcmp0 (mode, "no-bus") == 0)
    {
      ADD ("/checker/secret/no-service", test_secret_no_service);
    }
  else
    {
      g_printerr ("test-checker: run me with tests/keyring-harness, never "
                  "against the keyring of your own session\n");
      return 1;
    }

  demo = popcheck_test_demo_start ();
  status = g_test_run ();
  g_clear_pointer (&demo, popcheck_test_demo_stop);

  /* LeakSanitizer checks at exit: with no worker thread left. */
  popcheck_test_quiesce_threads ();

  return status;
}
