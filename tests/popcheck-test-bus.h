/* popcheck-test-bus.h: helpers for the tests on a private session bus
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The code under test answers D-Bus calls in the main context, so a test
 * never blocks it with a synchronous call: every call here is async and
 * iterates the main context until the reply comes, with a time limit that
 * fails the test.  Test clients use connections of their own, as a tray
 * host or a notification server would.
 */

#pragma once

#include <gio/gio.h>

#include "popcheck-mailbox.h"

G_BEGIN_DECLS

/* Iterates the main context until *flag is TRUE; fails after 10 s. */
void             popcheck_test_wait_for     (const gboolean *flag,
                                             const char     *what);
void             popcheck_test_bus_barrier  (GDBusConnection *connection);

/* A new connection of its own to the session bus. */
GDBusConnection *popcheck_test_connect      (void);

/* Calls and waits.  Returns the reply, or NULL with error set. */
GVariant        *popcheck_test_call         (GDBusConnection  *connection,
                                             const char       *bus_name,
                                             const char       *object_path,
                                             const char       *interface_name,
                                             const char       *method_name,
                                             GVariant         *parameters,
                                             const char       *reply_type,
                                             GError          **error);

/* Records every signal a sender emits: "Interface.Member" with its
 * parameters, in order. */
typedef struct
{
  GDBusConnection *connection;
  guint            subscription_id;
  GPtrArray       *names;        /* char * */
  GPtrArray       *parameters;   /* GVariant * */
} PopcheckTestSignals;

PopcheckTestSignals *popcheck_test_signals_new   (GDBusConnection     *connection,
                                                  const char          *sender);
void                 popcheck_test_signals_free  (PopcheckTestSignals *signals);
void                 popcheck_test_signals_clear (PopcheckTestSignals *signals);
/* How many signals of that name were seen; the last one's parameters. */
guint                popcheck_test_signals_count (PopcheckTestSignals *signals,
                                                  const char          *name,
                                                  GVariant           **last);
/* Waits until a signal of that name has been seen `count` times. */
void                 popcheck_test_signals_wait  (PopcheckTestSignals *signals,
                                                  const char          *name,
                                                  guint                count);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PopcheckTestSignals, popcheck_test_signals_free)

/* Whether a bus name has an owner; waiting until it has one (owned) or
 * none, for 20 s at most. */
gboolean         popcheck_test_name_has_owner  (GDBusConnection *connection,
                                                const char      *name);
void             popcheck_test_wait_for_owner  (GDBusConnection *connection,
                                                const char      *name,
                                                gboolean         owned);

/* Processes started with it get SIGTERM when the test process ends,
 * however it ends (Linux only). */
void             popcheck_test_launcher_die_with_parent  (GSubprocessLauncher *launcher);

/* python3-dbusmock's notification_daemon on the session bus, with these
 * capabilities ("actions body body-markup"), owning
 * org.freedesktop.Notifications when this returns.  Its interpreter is
 * $POPCHECK_PYTHON (meson names Debian's), its call log goes to stderr. */
GSubprocess     *popcheck_test_notification_daemon_start (GDBusConnection *connection,
                                                          const char      *capabilities);
void             popcheck_test_notification_daemon_stop  (GDBusConnection *connection,
                                                          GSubprocess     *daemon);

/* Something that should happen regularly (a timeout, a frame): how often
 * it did, and the longest time between two. */
typedef struct
{
  guint  n_beats;
  gint64 last_beat;
  gint64 longest_gap;
} PopcheckTestBeat;

/* Records one beat now. */
void             popcheck_test_beat         (PopcheckTestBeat *beat);

/* A notification server that hangs, owning org.freedesktop.Notifications
 * when this returns: it answers GetCapabilities and GetServerInformation,
 * takes Notify and CloseNotification and never answers them.  It lives on
 * a connection of its own, in the test's main context: were a notification
 * to block that context, the server would not even get the call.  The
 * counters say what it received. */
typedef struct
{
  GDBusConnection *connection;
  GDBusNodeInfo   *info;
  guint            object_id;
  guint            own_id;
  guint            n_capabilities;
  guint            n_notify;
  /* The calls not answered, until released. */
  GPtrArray       *held;
  gboolean         released;
} PopcheckTestHangingServer;

PopcheckTestHangingServer *popcheck_test_hanging_server_new     (void);
/* Answers what it holds, and all that comes later, with an error. */
void                       popcheck_test_hanging_server_release (PopcheckTestHangingServer *server);
/* Releases, gives up the name and frees. */
void                       popcheck_test_hanging_server_free    (PopcheckTestHangingServer *server);

/* python3-dbusmock's logind on the system bus, owning
 * org.freedesktop.login1 on `connection` when this returns: point
 * DBUS_SYSTEM_BUS_ADDRESS at the session bus first.  Stop it with
 * g_subprocess_send_signal() and g_subprocess_wait(). */
GSubprocess     *popcheck_test_logind_start    (GDBusConnection *connection);

/* GNOME Online Accounts (tests/goa-template.py), owning
 * org.gnome.OnlineAccounts on `connection` when this returns; accounts are
 * added and changed with its org.freedesktop.DBus.Mock methods at
 * /org/gnome/OnlineAccounts.  Stop it as the notification daemon. */
GSubprocess     *popcheck_test_goa_start       (GDBusConnection *connection);
/* Calls one of those methods and waits; the test fails if it fails. */
void             popcheck_test_goa_call        (GDBusConnection *connection,
                                                const char      *method,
                                                GVariant        *parameters);

/* Settings, as Online Accounts' accounts open it: writes an executable
 * gnome-control-center into `dir` (to go first in PATH) that writes the
 * arguments it was run with, on one line, to the file "ran" beside it.
 * _wait returns that line once it is there (failing after 20 s); _remove
 * takes the program, the line and `dir` away. */
void             popcheck_test_fake_settings_write  (const char *dir);
char            *popcheck_test_fake_settings_wait   (const char *dir);
void             popcheck_test_fake_settings_remove (const char *dir);

/* A dbusmock object's recorded calls of one method, in order: each an
 * "av" of the arguments (org.freedesktop.DBus.Mock.GetCalls). */
GPtrArray       *popcheck_test_mock_calls      (GDBusConnection *connection,
                                                const char      *bus_name,
                                                const char      *object_path,
                                                const char      *method);

/* A message summary as TOP would return it. */
PopcheckMessage *popcheck_test_message_new  (const char      *uid,
                                             const char      *from,
                                             const char      *subject,
                                             const char      *date);

/* Reconciles the mailbox with a server holding exactly these UIDs, the
 * way a check does (begin_update, add_summary, end_update), and returns
 * what end_update called new. */
GPtrArray       *popcheck_test_mailbox_sync (PopcheckMailbox    *mailbox,
                                             const char * const *uids);

/* Makes a script of the test's the desktop's mail program (the default
 * handler of mailto: in the XDG data and config directories), before any
 * application lookup in this process.  Returns the path of the file it
 * writes when it runs: "ran:" and its arguments. */
char            *popcheck_test_install_mail_handler (void);

G_END_DECLS
