/* popcheck-test-bus.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "pop3-parser.h"
#include "popcheck-test-bus.h"
#include "popcheck-test-util.h"

#define WAIT_LIMIT_MS 10000

void
popcheck_test_wait_for (const gboolean *flag,
                        const char     *what)
{
  gint64 deadline = popcheck_test_deadline (WAIT_LIMIT_MS);

  while (!*flag)
    {
      if (!popcheck_test_iterate (deadline))
        g_error ("Timed out waiting for %s", what);
    }
}

/* Returns once everything the bus had sent @connection before this call
 * has been dispatched: the bus answers a call after what it queued for us
 * earlier, and GDBus dispatches both in order on this main context.  A
 * test that must show that a signal had no effect, or that it had, waits
 * for this instead of for a while. */
void
popcheck_test_bus_barrier (GDBusConnection *connection)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = popcheck_test_call (connection, "org.freedesktop.DBus",
                              "/org/freedesktop/DBus", "org.freedesktop.DBus",
                              "GetId", NULL, "(s)", &error);
  g_assert_no_error (error);
}

GDBusConnection *
popcheck_test_connect (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *address = NULL;
  GDBusConnection *connection;

  address = g_dbus_address_get_for_bus_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_assert_no_error (error);
  connection = g_dbus_connection_new_for_address_sync (address,
                                                       G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                       G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                       NULL, NULL, &error);
  g_assert_no_error (error);
  g_dbus_connection_set_exit_on_close (connection, FALSE);
  return connection;
}

typedef struct
{
  gboolean  done;
  GVariant *reply;
  GError   *error;
} CallData;

static void
call_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  CallData *data = user_data;

  data->reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object),
                                               result, &data->error);
  data->done = TRUE;
}

GVariant *
popcheck_test_call (GDBusConnection  *connection,
                    const char       *bus_name,
                    const char       *object_path,
                    const char       *interface_name,
                    const char       *method_name,
                    GVariant         *parameters,
                    const char       *reply_type,
                    GError          **error)
{
  CallData data = { FALSE, NULL, NULL };

  g_dbus_connection_call (connection, bus_name, object_path, interface_name,
                          method_name, parameters,
                          reply_type != NULL ? G_VARIANT_TYPE (reply_type) : NULL,
                          G_DBUS_CALL_FLAGS_NO_AUTO_START, 5000, NULL,
                          call_cb, &data);
  popcheck_test_wait_for (&data.done, method_name);

  if (data.error != NULL)
    g_propagate_error (error, data.error);
  return data.reply;
}

static void
signal_cb (GDBusConnection *connection,
           const char      *sender_name,
           const char      *object_path,
           const char      *interface_name,
           const char      *signal_name,
           GVariant        *parameters,
           gpointer         user_data)
{
  PopcheckTestSignals *signals = user_data;

  g_ptr_array_add (signals->names,
                   g_strdup_printf ("%s.%s", interface_name, signal_name));
  g_ptr_array_add (signals->parameters, g_variant_ref (parameters));
}

PopcheckTestSignals *
popcheck_test_signals_new (GDBusConnection *connection,
                           const char      *sender)
{
  PopcheckTestSignals *signals = g_new0 (PopcheckTestSignals, 1);

  signals->connection = g_object_ref (connection);
  signals->names = g_ptr_array_new_with_free_func (g_free);
  signals->parameters = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  signals->subscription_id =
    g_dbus_connection_signal_subscribe (connection, sender, NULL, NULL, NULL,
                                        NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                        signal_cb, signals, NULL);
  /* The match rule goes to the bus without a reply: a signal the bus
   * routes before it has read the rule never reaches us.  The bus reads
   * our messages in order, so once a later call is answered, the rule is
   * in place. */
  popcheck_test_bus_barrier (connection);
  return signals;
}

void
popcheck_test_signals_free (PopcheckTestSignals *signals)
{
  g_dbus_connection_signal_unsubscribe (signals->connection,
                                        signals->subscription_id);
  g_object_unref (signals->connection);
  g_ptr_array_unref (signals->names);
  g_ptr_array_unref (signals->parameters);
  g_free (signals);
}

void
popcheck_test_signals_clear (PopcheckTestSignals *signals)
{
  g_ptr_array_set_size (signals->names, 0);
  g_ptr_array_set_size (signals->parameters, 0);
}

guint
popcheck_test_signals_count (PopcheckTestSignals  *signals,
                             const char           *name,
                             GVariant            **last)
{
  guint count = 0;

  if (last != NULL)
    *last = NULL;

  for (guint i = 0; i < signals->names->len; i++)
    {
      if (!g_str_equal (g_ptr_array_index (signals->names, i), name))
        continue;

      count++;
      if (last != NULL)
        *last = g_ptr_array_index (signals->parameters, i);
    }

  return count;
}

void
popcheck_test_signals_wait (PopcheckTestSignals *signals,
                            const char          *name,
                            guint                count)
{
  gint64 deadline = popcheck_test_deadline (WAIT_LIMIT_MS);

  while (popcheck_test_signals_count (signals, name, NULL) < count)
    {
      if (!popcheck_test_iterate (deadline))
        g_error ("Timed out waiting for %u × %s", count, name);
    }
}

gboolean
popcheck_test_name_has_owner (GDBusConnection *connection,
                              const char      *name)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  gboolean has_owner = FALSE;

  reply = popcheck_test_call (connection, "org.freedesktop.DBus",
                              "/org/freedesktop/DBus", "org.freedesktop.DBus",
                              "NameHasOwner", g_variant_new ("(s)", name),
                              "(b)", &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(b)", &has_owner);
  return has_owner;
}

void
popcheck_test_wait_for_owner (GDBusConnection *connection,
                              const char      *name,
                              gboolean         owned)
{
  /* A python interpreter starting on a loaded machine takes its time. */
  gint64 deadline = popcheck_test_deadline (2 * WAIT_LIMIT_MS);

  while (popcheck_test_name_has_owner (connection, name) != owned)
    {
      if (!popcheck_test_iterate (deadline))
        g_error ("%s was not %s in time", name, owned ? "owned" : "released");
    }
}

#ifdef __linux__
#include <sys/prctl.h>

/* A test that crashes leaves no daemon behind: it would hold the test's
 * output open and meson would wait for it until the time limit. */
static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}
#endif

void
popcheck_test_launcher_die_with_parent (GSubprocessLauncher *launcher)
{
#ifdef __linux__
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
#endif
}

/* python3 -m dbusmock with these arguments; returns once `bus_name` has
 * an owner on `connection`. */
static GSubprocess *
mock_start (GDBusConnection     *connection,
            const char          *bus_name,
            const char * const  *arguments)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  const char *python = g_getenv ("POPCHECK_PYTHON");
  GSubprocess *daemon;

  if (python == NULL || *python == '\0')
    python = "python3";

  g_ptr_array_add (argv, (char *) python);
  g_ptr_array_add (argv, (char *) "-m");
  g_ptr_array_add (argv, (char *) "dbusmock");
  for (guint i = 0; arguments[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) arguments[i]);
  g_ptr_array_add (argv, NULL);

  /* dbusmock logs every call on stdout, which is the test's TAP stream:
   * its log goes to stderr instead, where it still helps a failure. */
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_subprocess_launcher_take_stdout_fd (launcher, dup (STDERR_FILENO));
  popcheck_test_launcher_die_with_parent (launcher);
  daemon = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata,
                                         &error);
  g_assert_no_error (error);
  popcheck_test_wait_for_owner (connection, bus_name, TRUE);
  return daemon;
}

GSubprocess *
popcheck_test_notification_daemon_start (GDBusConnection *connection,
                                         const char      *capabilities)
{
  g_autofree char *parameters = NULL;

  parameters = g_strdup_printf ("{\"capabilities\": \"%s\"}", capabilities);
  return mock_start (connection, "org.freedesktop.Notifications",
                     (const char *[]) { "--template", "notification_daemon",
                                        "-p", parameters, NULL });
}

GSubprocess *
popcheck_test_goa_start (GDBusConnection *connection)
{
  g_autofree char *template = g_build_filename (g_getenv ("POPCHECK_SOURCE_DIR"),
                                                "tests", "goa-template.py",
                                                NULL);

  return mock_start (connection, "org.gnome.OnlineAccounts",
                     (const char *[]) { "--template", template, NULL });
}

void
popcheck_test_goa_call (GDBusConnection *connection,
                        const char      *method,
                        GVariant        *parameters)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;

  reply = popcheck_test_call (connection, "org.gnome.OnlineAccounts",
                              "/org/gnome/OnlineAccounts",
                              "org.freedesktop.DBus.Mock", method, parameters,
                              NULL, &error);
  g_assert_no_error (error);
}

void
popcheck_test_fake_settings_write (const char *dir)
{
  g_autofree char *program = g_build_filename (dir, "gnome-control-center",
                                               NULL);
  g_autofree char *ran = g_build_filename (dir, "ran", NULL);
  g_autofree char *text = g_strdup_printf ("#!/bin/sh\necho \"$*\" > '%s'\n",
                                           ran);

  g_assert_true (g_file_set_contents (program, text, -1, NULL));
  g_assert_cmpint (g_chmod (program, 0700), ==, 0);
}

/* A whole line: the shell may have opened the file and not yet written. */
static gboolean
fake_settings_ran (const char  *ran,
                   char       **contents)
{
  g_clear_pointer (contents, g_free);
  return g_file_get_contents (ran, contents, NULL, NULL) &&
         strchr (*contents, '\n') != NULL;
}

char *
popcheck_test_fake_settings_wait (const char *dir)
{
  g_autofree char *ran = g_build_filename (dir, "ran", NULL);
  char *contents = NULL;

  POPCHECK_TEST_WAIT_UNTIL (fake_settings_ran (ran, &contents), 20000);
  return contents;
}

void
popcheck_test_fake_settings_remove (const char *dir)
{
  g_autofree char *program = g_build_filename (dir, "gnome-control-center",
                                               NULL);
  g_autofree char *ran = g_build_filename (dir, "ran", NULL);

  g_assert_cmpint (g_unlink (ran), ==, 0);
  g_assert_cmpint (g_unlink (program), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

GSubprocess *
popcheck_test_logind_start (GDBusConnection *connection)
{
  return mock_start (connection, "org.freedesktop.login1",
                     (const char *[]) { "--system", "--template", "logind", NULL });
}

void
popcheck_test_notification_daemon_stop (GDBusConnection *connection,
                                        GSubprocess     *daemon)
{
  g_autoptr(GError) error = NULL;

  g_subprocess_send_signal (daemon, SIGTERM);
  g_subprocess_wait (daemon, NULL, &error);
  g_assert_no_error (error);
  popcheck_test_wait_for_owner (connection, "org.freedesktop.Notifications", FALSE);
}

GPtrArray *
popcheck_test_mock_calls (GDBusConnection *connection,
                          const char      *bus_name,
                          const char      *object_path,
                          const char      *method)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariantIter) iter = NULL;
  GPtrArray *calls = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  GVariant *args;
  const char *name;

  reply = popcheck_test_call (connection, bus_name, object_path,
                              "org.freedesktop.DBus.Mock", "GetCalls",
                              NULL, "(a(tsav))", &error);
  g_assert_no_error (error);

  g_variant_get (reply, "(a(tsav))", &iter);
  while (g_variant_iter_next (iter, "(t&s@av)", NULL, &name, &args))
    {
      if (g_str_equal (name, method))
        g_ptr_array_add (calls, args);
      else
        g_variant_unref (args);
    }

  return calls;
}

PopcheckMessage *
popcheck_test_message_new (const char *uid,
                           const char *from,
                           const char *subject,
                           const char *date)
{
  g_autofree char *top = NULL;
  g_autoptr(GBytes) bytes = NULL;

  top = g_strdup_printf ("From: %s\r\n"
                         "To: user@example.org\r\n"
                         "Subject: %s\r\n"
                         "Date: %s\r\n"
                         "Message-ID: <%s@example.org>\r\n"
                         "Content-Type: text/plain; charset=utf-8\r\n"
                         "\r\n"
                         "Hello.\r\n",
                         from, subject, date, uid);
  bytes = g_bytes_new (top, strlen (top));
  return popcheck_message_new_from_top (uid, strlen (top), 0, bytes, 5);
}

GPtrArray *
popcheck_test_mailbox_sync (PopcheckMailbox    *mailbox,
                            const char * const *uids)
{
  g_autoptr(Pop3UidListing) server = pop3_uid_listing_new ();
  g_autoptr(GPtrArray) need_top = NULL;

  for (guint i = 0; uids[i] != NULL; i++)
    pop3_uid_listing_add (server, i + 1, uids[i]);

  need_top = popcheck_mailbox_begin_update (mailbox, server, NULL);
  for (guint i = 0; i < need_top->len; i++)
    {
      Pop3UidEntry *entry = g_ptr_array_index (need_top, i);
      g_autofree char *subject = g_strdup_printf ("Message %s", entry->uid);
      g_autoptr(PopcheckMessage) message = NULL;

      message = popcheck_test_message_new (entry->uid, "Ann <ann@example.org>",
                                           subject,
                                           "Mon, 2 Mar 2026 10:00:00 +0000");
      popcheck_mailbox_add_summary (mailbox, message);
    }

  return popcheck_mailbox_end_update (mailbox);
}

void
popcheck_test_beat (PopcheckTestBeat *beat)
{
  gint64 now = g_get_monotonic_time ();

  if (beat->last_beat != 0)
    beat->longest_gap = MAX (beat->longest_gap, now - beat->last_beat);
  beat->last_beat = now;
  beat->n_beats++;
}

/* The hanging notification server */

#define HANGING_SERVER_XML \
  "<node>" \
  "  <interface name='org.freedesktop.Notifications'>" \
  "    <method name='GetCapabilities'>" \
  "      <arg name='capabilities' type='as' direction='out'/>" \
  "    </method>" \
  "    <method name='GetServerInformation'>" \
  "      <arg name='name' type='s' direction='out'/>" \
  "      <arg name='vendor' type='s' direction='out'/>" \
  "      <arg name='version' type='s' direction='out'/>" \
  "      <arg name='spec_version' type='s' direction='out'/>" \
  "    </method>" \
  "    <method name='Notify'>" \
  "      <arg name='app_name' type='s' direction='in'/>" \
  "      <arg name='replaces_id' type='u' direction='in'/>" \
  "      <arg name='app_icon' type='s' direction='in'/>" \
  "      <arg name='summary' type='s' direction='in'/>" \
  "      <arg name='body' type='s' direction='in'/>" \
  "      <arg name='actions' type='as' direction='in'/>" \
  "      <arg name='hints' type='a{sv}' direction='in'/>" \
  "      <arg name='expire_timeout' type='i' direction='in'/>" \
  "      <arg name='id' type='u' direction='out'/>" \
  "    </method>" \
  "    <method name='CloseNotification'>" \
  "      <arg name='id' type='u' direction='in'/>" \
  "    </method>" \
  "  </interface>" \
  "</node>"

static void
hanging_server_method_call (GDBusConnection       *connection,
                            const char            *sender,
                            const char            *object_path,
                            const char            *interface_name,
                            const char            *method_name,
                            GVariant              *parameters,
                            GDBusMethodInvocation *invocation,
                            gpointer               user_data)
{
  PopcheckTestHangingServer *server = user_data;
  const char *capabilities[] = { "actions", "body", "body-markup", NULL };

  if (g_str_equal (method_name, "GetCapabilities"))
    {
      server->n_capabilities++;
      g_dbus_method_invocation_return_value (invocation,
                                             g_variant_new ("(^as)", capabilities));
    }
  else if (g_str_equal (method_name, "GetServerInformation"))
    g_dbus_method_invocation_return_value (invocation,
                                           g_variant_new ("(ssss)", "hanging",
                                                          "PopCheck tests",
                                                          "1.0", "1.2"));
  else if (server->released)
    g_dbus_method_invocation_return_dbus_error (invocation,
                                                "org.freedesktop.DBus.Error.Failed",
                                                "The test is over");
  else
    {
      if (g_str_equal (method_name, "Notify"))
        server->n_notify++;
      g_ptr_array_add (server->held, g_object_ref (invocation));
    }
}

static const GDBusInterfaceVTable hanging_server_vtable = {
  hanging_server_method_call, NULL, NULL, { 0 }
};

PopcheckTestHangingServer *
popcheck_test_hanging_server_new (void)
{
  PopcheckTestHangingServer *server = g_new0 (PopcheckTestHangingServer, 1);
  g_autoptr(GError) error = NULL;

  server->connection = popcheck_test_connect ();
  server->held = g_ptr_array_new_with_free_func (g_object_unref);
  server->info = g_dbus_node_info_new_for_xml (HANGING_SERVER_XML, &error);
  g_assert_no_error (error);
  server->object_id = g_dbus_connection_register_object (server->connection,
                                                         "/org/freedesktop/Notifications",
                                                         server->info->interfaces[0],
                                                         &hanging_server_vtable,
                                                         server, NULL, &error);
  g_assert_no_error (error);
  server->own_id = g_bus_own_name_on_connection (server->connection,
                                                 "org.freedesktop.Notifications",
                                                 G_BUS_NAME_OWNER_FLAGS_NONE,
                                                 NULL, NULL, NULL, NULL);
  popcheck_test_wait_for_owner (server->connection,
                                "org.freedesktop.Notifications", TRUE);
  return server;
}

void
popcheck_test_hanging_server_release (PopcheckTestHangingServer *server)
{
  server->released = TRUE;
  for (guint i = 0; i < server->held->len; i++)
    g_dbus_method_invocation_return_dbus_error (g_object_ref (g_ptr_array_index (server->held, i)),
                                                "org.freedesktop.DBus.Error.Failed",
                                                "The test is over");
  g_ptr_array_set_size (server->held, 0);
}

void
popcheck_test_hanging_server_free (PopcheckTestHangingServer *server)
{
  popcheck_test_hanging_server_release (server);
  g_bus_unown_name (server->own_id);
  g_dbus_connection_unregister_object (server->connection, server->object_id);
  popcheck_test_wait_for_owner (server->connection,
                                "org.freedesktop.Notifications", FALSE);
  g_ptr_array_unref (server->held);
  g_dbus_node_info_unref (server->info);
  g_object_unref (server->connection);
  g_free (server);
}

/* The desktop's default mailto: handler */

char *
popcheck_test_install_mail_handler (void)
{
  g_autofree char *applications = g_build_filename (g_get_user_data_dir (),
                                                    "applications", NULL);
  g_autofree char *script = g_build_filename (g_get_user_data_dir (),
                                              "test-mail-client", NULL);
  g_autofree char *desktop = g_build_filename (applications,
                                               "test-mail-client.desktop", NULL);
  g_autofree char *mimeapps = g_build_filename (g_get_user_config_dir (),
                                                "mimeapps.list", NULL);
  char *ran = g_build_filename (g_get_user_data_dir (), "mail-client-ran", NULL);
  g_autofree char *script_text = NULL;
  g_autofree char *desktop_text = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (applications, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (g_get_user_config_dir (), 0700), ==, 0);

  /* It writes what it was given: nothing, as from the menu. */
  script_text = g_strdup_printf ("#!/bin/sh\nprintf 'ran:%%s' \"$*\" > '%s.tmp'\n"
                                 "mv '%s.tmp' '%s'\n", ran, ran, ran);
  g_file_set_contents_full (script, script_text, -1, G_FILE_SET_CONTENTS_NONE,
                            0700, &error);
  g_assert_no_error (error);

  desktop_text = g_strdup_printf ("[Desktop Entry]\nType=Application\n"
                                  "Name=Test Mail\nExec=%s %%u\n"
                                  "MimeType=x-scheme-handler/mailto;\n", script);
  g_file_set_contents (desktop, desktop_text, -1, &error);
  g_assert_no_error (error);
  g_file_set_contents (mimeapps,
                       "[Default Applications]\n"
                       "x-scheme-handler/mailto=test-mail-client.desktop\n",
                       -1, &error);
  g_assert_no_error (error);

  return ran;
}
