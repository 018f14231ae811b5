/* popcheck-resume-monitor.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * logind's Manager emits PrepareForSleep (true) before suspending and
 * PrepareForSleep (false) after resuming.  After a resume every account's
 * next timer may be far away and the connections it held are dead, so the
 * application checks at once.  Containers, CI and some desktops have no
 * system bus: then nothing happens and nothing is logged above debug.
 */

#define G_LOG_DOMAIN "popcheck-resume-monitor"

#include "config.h"

#include "popcheck-resume-monitor.h"

#define LOGIN1_NAME "org.freedesktop.login1"
#define LOGIN1_PATH "/org/freedesktop/login1"
#define LOGIN1_MANAGER_INTERFACE "org.freedesktop.login1.Manager"

struct _PopcheckResumeMonitor
{
  GObject          parent_instance;

  GCancellable    *cancellable;
  GDBusConnection *system_bus;
  guint            subscription_id;
};

G_DEFINE_FINAL_TYPE (PopcheckResumeMonitor, popcheck_resume_monitor,
                     G_TYPE_OBJECT)

enum {
  RESUMED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
prepare_for_sleep_cb (GDBusConnection *connection,
                      const char      *sender_name,
                      const char      *object_path,
                      const char      *interface_name,
                      const char      *signal_name,
                      GVariant        *parameters,
                      gpointer         user_data)
{
  PopcheckResumeMonitor *self = user_data;
  gboolean sleeping;

  /* Bus input: check the type rather than trusting it. */
  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(b)")))
    return;

  g_variant_get (parameters, "(b)", &sleeping);
  g_debug ("PrepareForSleep (%s)", sleeping ? "true" : "false");

  if (!sleeping)
    g_signal_emit (self, signals[RESUMED], 0);
}

static void
system_bus_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(PopcheckResumeMonitor) self = user_data;
  g_autoptr(GDBusConnection) connection = NULL;
  g_autoptr(GError) error = NULL;

  connection = g_bus_get_finish (result, &error);
  if (connection == NULL)
    {
      g_debug ("No system bus, so no check after resume: %s", error->message);
      return;
    }

  if (g_cancellable_is_cancelled (self->cancellable))
    return;

  self->system_bus = g_steal_pointer (&connection);
  self->subscription_id =
    g_dbus_connection_signal_subscribe (self->system_bus,
                                        LOGIN1_NAME,
                                        LOGIN1_MANAGER_INTERFACE,
                                        "PrepareForSleep",
                                        LOGIN1_PATH,
                                        NULL,
                                        G_DBUS_SIGNAL_FLAGS_NONE,
                                        prepare_for_sleep_cb,
                                        self, NULL);
}

static void
popcheck_resume_monitor_constructed (GObject *object)
{
  PopcheckResumeMonitor *self = POPCHECK_RESUME_MONITOR (object);

  G_OBJECT_CLASS (popcheck_resume_monitor_parent_class)->constructed (object);

  g_bus_get (G_BUS_TYPE_SYSTEM, self->cancellable, system_bus_cb,
             g_object_ref (self));
}

static void
popcheck_resume_monitor_dispose (GObject *object)
{
  PopcheckResumeMonitor *self = POPCHECK_RESUME_MONITOR (object);

  g_cancellable_cancel (self->cancellable);
  if (self->subscription_id != 0)
    {
      g_dbus_connection_signal_unsubscribe (self->system_bus,
                                            self->subscription_id);
      self->subscription_id = 0;
    }
  g_clear_object (&self->system_bus);

  G_OBJECT_CLASS (popcheck_resume_monitor_parent_class)->dispose (object);
}

static void
popcheck_resume_monitor_finalize (GObject *object)
{
  PopcheckResumeMonitor *self = POPCHECK_RESUME_MONITOR (object);

  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (popcheck_resume_monitor_parent_class)->finalize (object);
}

static void
popcheck_resume_monitor_class_init (PopcheckResumeMonitorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = popcheck_resume_monitor_constructed;
  object_class->dispose = popcheck_resume_monitor_dispose;
  object_class->finalize = popcheck_resume_monitor_finalize;

  signals[RESUMED] =
    g_signal_new ("resumed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
}

static void
popcheck_resume_monitor_init (PopcheckResumeMonitor *self)
{
  self->cancellable = g_cancellable_new ();
}

PopcheckResumeMonitor *
popcheck_resume_monitor_new (void)
{
  return g_object_new (POPCHECK_TYPE_RESUME_MONITOR, NULL);
}
