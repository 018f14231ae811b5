/* popcheck-remote.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "popcheck-remote"

#include "config.h"

#include "popcheck-remote.h"

static gboolean
is_running (GDBusConnection  *bus,
            GError          **error)
{
  g_autoptr(GVariant) reply = NULL;
  gboolean running = FALSE;

  reply = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus",
                                       "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "NameHasOwner",
                                       g_variant_new ("(s)", APPLICATION_ID),
                                       G_VARIANT_TYPE ("(b)"),
                                       G_DBUS_CALL_FLAGS_NONE, -1, NULL, error);
  if (reply != NULL)
    g_variant_get (reply, "(b)", &running);

  return running;
}

gboolean
popcheck_remote_activate_action (const char  *action,
                                 GVariant    *parameter,
                                 GError     **error)
{
  g_autoptr(GVariant) parameter_ref = parameter ? g_variant_ref_sink (parameter) : NULL;
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GVariant) activated = NULL;
  g_autofree char *object_path = NULL;
  GVariantBuilder parameters;

  g_return_val_if_fail (action != NULL, FALSE);

  /* No session bus: nothing can be running in it. */
  bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, NULL);
  if (bus == NULL || !is_running (bus, error))
    return FALSE;

  g_variant_builder_init (&parameters, G_VARIANT_TYPE ("av"));
  if (parameter_ref != NULL)
    g_variant_builder_add (&parameters, "v", parameter_ref);

  /* GApplication's object path: the id with dots as slashes.  No auto
   * start: between the check and the call, it may have quit. */
  object_path = g_strdelimit (g_strconcat ("/", APPLICATION_ID, NULL), ".", '/');
  activated = g_dbus_connection_call_sync (bus, APPLICATION_ID, object_path,
                                           "org.gtk.Actions", "Activate",
                                           g_variant_new ("(sav@a{sv})", action,
                                                          &parameters,
                                                          g_variant_new_array (G_VARIANT_TYPE ("{sv}"),
                                                                               NULL, 0)),
                                           NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START,
                                           -1, NULL, error);
  return activated != NULL;
}
