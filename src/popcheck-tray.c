/* popcheck-tray.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A StatusNotifierItem is an object on the session bus, under a name of
 * its own, that a StatusNotifierWatcher is told about.  Hosts (KDE Plasma,
 * Waybar, GNOME's AppIndicator extension) read its properties with GetAll,
 * refresh them on the New* signals, and show its com.canonical.dbusmenu
 * menu.  Hosts come and go: when the watcher appears again (a restarted
 * panel) it has forgotten us, so every appearance registers again.  On a
 * desktop without a watcher nothing shows and nothing is logged above
 * debug: the notifications and the window do the job there.  Whether a
 * host shows the item at all ("has-host") comes from the watcher's
 * IsStatusNotifierHostRegistered and its Host(Un)Registered signals: a
 * watcher may run with no panel to show what it knows.
 *
 * Icons: the names are symbolic, which most hosts draw in the panel's own
 * colour; IconPixmap and AttentionIconPixmap carry the full-colour
 * application icon for hosts that cannot find or recolour them.
 *
 * The menu is in popcheck-tray-menu.c; the interfaces' introspection data
 * comes from data/dbus/ through the desktop library's resource.
 */

#define G_LOG_DOMAIN "popcheck-tray"

#include "config.h"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gi18n.h>
#include <unistd.h>

#include "popcheck-desktop-resources.h"
#include "popcheck-idle.h"
#include "popcheck-tray-private.h"

#define SNI_INTERFACE "org.kde.StatusNotifierItem"
#define SNI_PATH "/StatusNotifierItem"
#define WATCHER_NAME "org.kde.StatusNotifierWatcher"
#define WATCHER_PATH "/StatusNotifierWatcher"
#define LAUNCHER_INTERFACE "com.canonical.Unity.LauncherEntry"
#define LAUNCHER_PATH "/org/example/PopCheck/LauncherEntry"
#define LAUNCHER_APP_URI "application://" APPLICATION_ID ".desktop"
#define PROPERTIES_INTERFACE "org.freedesktop.DBus.Properties"

#define PIXMAP_RESOURCE "/org/example/PopCheck/tray/icon.svg"

#define ICON_NO_MAIL "mail-read-symbolic"
#define ICON_NEW_MAIL "mail-unread-symbolic"
#define ICON_ERROR "dialog-warning-symbolic"

G_DEFINE_FINAL_TYPE (PopcheckTray, popcheck_tray, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ACTIONS,
  PROP_MAILBOXES,
  PROP_BUS_NAME,
  PROP_REGISTERED,
  PROP_N_NEW,
  PROP_MUTE,
  PROP_HAS_HOST,
  PROP_HOST_KNOWN,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static const GDBusErrorEntry tray_error_entries[] = {
  { POPCHECK_TRAY_ERROR_UNKNOWN_ITEM, "org.example.PopCheck.Tray.Error.UnknownItem" },
};

GQuark
popcheck_tray_error_quark (void)
{
  static gsize quark = 0;

  g_dbus_error_register_error_domain ("popcheck-tray-error-quark", &quark,
                                      tray_error_entries,
                                      G_N_ELEMENTS (tray_error_entries));
  return (GQuark) quark;
}

/* Each interface is one file in the resource, named after it. */
static GDBusInterfaceInfo *
interface_info (const char *name)
{
  static GDBusNodeInfo *nodes[3];
  static const char * const names[] = {
    SNI_INTERFACE,
    MENU_INTERFACE,
    LAUNCHER_INTERFACE,
  };
  static gsize loaded;

  G_STATIC_ASSERT (G_N_ELEMENTS (nodes) == G_N_ELEMENTS (names));

  if (g_once_init_enter (&loaded))
    {
      for (guint i = 0; i < G_N_ELEMENTS (names); i++)
        {
          g_autoptr(GError) error = NULL;
          g_autoptr(GBytes) xml = NULL;
          g_autofree char *path = NULL;

          path = g_strdup_printf ("/org/example/PopCheck/dbus/%s.xml", names[i]);
          xml = g_resource_lookup_data (popcheck_desktop_get_resource (), path,
                                        G_RESOURCE_LOOKUP_FLAGS_NONE, &error);
          /* The files are ours, built in: neither can fail. */
          g_assert_no_error (error);
          /* Resource data always ends in a NUL byte. */
          nodes[i] = g_dbus_node_info_new_for_xml (g_bytes_get_data (xml, NULL),
                                                   &error);
          g_assert_no_error (error);
        }
      g_once_init_leave (&loaded, 1);
    }

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      if (g_str_equal (names[i], name))
        return g_dbus_node_info_lookup_interface (nodes[i], name);
    }

  g_assert_not_reached ();
}

/* The item's look */

/* One ARGB32 image per size, in network byte order as the specification
 * asks, for hosts to pick the closest. */
static GVariant *
render_pixmaps (void)
{
  static const int sizes[] = { 22, 32, 48 };
  g_autoptr(GBytes) svg = NULL;
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(iiay)"));

  svg = g_resource_lookup_data (popcheck_desktop_get_resource (), PIXMAP_RESOURCE,
                                G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  /* Our own resource, built in. */
  g_assert (svg != NULL);

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GdkPixbufLoader) loader = NULL;
      g_autoptr(GdkPixbuf) rgba = NULL;
      g_autofree guint8 *argb = NULL;
      GdkPixbuf *pixbuf = NULL;
      const guint8 *pixels;
      int width, height, stride;

      /* By type: gdk-pixbuf does not recognise an SVG that starts with
       * an XML declaration from its first bytes alone. */
      loader = gdk_pixbuf_loader_new_with_mime_type ("image/svg+xml", &error);
      if (loader != NULL)
        {
          gboolean written;

          gdk_pixbuf_loader_set_size (loader, sizes[i], sizes[i]);
          written = gdk_pixbuf_loader_write_bytes (loader, svg, &error);
          /* Closed in any case: a loader left open warns when freed. */
          if (gdk_pixbuf_loader_close (loader, written ? &error : NULL) && written)
            pixbuf = gdk_pixbuf_loader_get_pixbuf (loader);
        }
      if (pixbuf == NULL)
        {
          /* No SVG loader for gdk-pixbuf: the icon names alone. */
          g_debug ("Could not draw the tray icon: %s",
                   error != NULL ? error->message : "no image");
          break;
        }

      rgba = gdk_pixbuf_get_has_alpha (pixbuf) ? g_object_ref (pixbuf)
                                               : gdk_pixbuf_add_alpha (pixbuf, FALSE, 0, 0, 0);
      width = gdk_pixbuf_get_width (rgba);
      height = gdk_pixbuf_get_height (rgba);
      stride = gdk_pixbuf_get_rowstride (rgba);
      pixels = gdk_pixbuf_read_pixels (rgba);
      argb = g_malloc ((gsize) width * height * 4);

      for (int y = 0; y < height; y++)
        {
          for (int x = 0; x < width; x++)
            {
              const guint8 *in = pixels + y * stride + x * 4;
              guint8 *out = argb + ((gsize) y * width + x) * 4;

              out[0] = in[3];
              out[1] = in[0];
              out[2] = in[1];
              out[3] = in[2];
            }
        }

      g_variant_builder_add (&builder, "(ii@ay)", width, height,
                             g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, argb,
                                                        (gsize) width * height * 4,
                                                        1));
    }

  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

char *
popcheck_tray_describe_mailbox (PopcheckMailbox *mailbox)
{
  guint n_items = g_list_model_get_n_items (G_LIST_MODEL (mailbox));
  guint n_new = popcheck_mailbox_get_n_new (mailbox);
  const char *message;

  switch (popcheck_mailbox_get_state (mailbox))
    {
    case POPCHECK_MAILBOX_STATE_CHECKING:
      return g_strdup (_("checking…"));

    case POPCHECK_MAILBOX_STATE_OFFLINE:
      return g_strdup (_("offline"));

    case POPCHECK_MAILBOX_STATE_DISABLED:
      return g_strdup (_("turned off"));

    case POPCHECK_MAILBOX_STATE_ERROR:
      message = popcheck_mailbox_get_error_message (mailbox);
      if (message != NULL && *message != '\0')
        return g_strdup (message);
      return g_strdup (_("could not check"));

    case POPCHECK_MAILBOX_STATE_IDLE:
    default:
      if (n_new > 0)
        /* Translators: "3 new of 12" in the tray menu and tooltip */
        return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                             "%u new of %u",
                                             "%u new of %u", n_new),
                                n_new, n_items);
      return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                           "%u message",
                                           "%u messages", n_items),
                              n_items);
    }
}

static GVariant *
build_tool_tip (PopcheckTray *self,
                const char   *icon_name,
                guint         n_new)
{
  g_autoptr(GString) body = g_string_new (NULL);
  g_autofree char *title = NULL;
  guint n_mailboxes = self->mailboxes != NULL ?
                      g_list_model_get_n_items (self->mailboxes) : 0;

  if (n_new > 0)
    title = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                          "PopCheck: %u new message",
                                          "PopCheck: %u new messages", n_new),
                             n_new);
  else
    title = g_strdup (_("PopCheck: no new mail"));

  /* The description may hold markup (the spec allows a subset of HTML),
   * so account names and server messages are escaped. */
  for (guint i = 0; i < n_mailboxes; i++)
    {
      g_autoptr(PopcheckMailbox) mailbox = g_list_model_get_item (self->mailboxes, i);
      const char *name = popcheck_mailbox_get_display_name (mailbox);
      g_autofree char *state = popcheck_tray_describe_mailbox (mailbox);
      g_autofree char *line = NULL;

      if (name == NULL || *name == '\0')
        name = popcheck_mailbox_get_account_id (mailbox);
      line = g_markup_printf_escaped ("%s: %s", name, state);
      if (body->len > 0)
        g_string_append_c (body, '\n');
      g_string_append (body, line);
    }

  return g_variant_new ("(s@a(iiay)ss)", icon_name,
                        g_variant_new_array (G_VARIANT_TYPE ("(iiay)"), NULL, 0),
                        title, body->str);
}

static gboolean
set_string (char       **field,
            const char  *value)
{
  if (g_strcmp0 (*field, value) == 0)
    return FALSE;

  g_free (*field);
  *field = g_strdup (value);
  return TRUE;
}

static void
emit_sni_signal (PopcheckTray *self,
                 const char   *name,
                 GVariant     *parameters)
{
  g_autoptr(GError) error = NULL;

  if (self->sni_id == 0)
    {
      if (parameters != NULL)
        g_variant_unref (g_variant_ref_sink (parameters));
      return;
    }

  if (!g_dbus_connection_emit_signal (self->connection, NULL, SNI_PATH,
                                      SNI_INTERFACE, name, parameters,
                                      &error))
    g_debug ("Could not emit %s: %s", name, error->message);
}

static GVariant *
launcher_properties (PopcheckTray *self)
{
  g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);

  g_variant_dict_insert (&dict, "count", "x", (gint64) self->n_new);
  g_variant_dict_insert (&dict, "count-visible", "b", self->n_new > 0);
  return g_variant_dict_end (&dict);
}

static void
emit_launcher_update (PopcheckTray *self)
{
  if (self->launcher_id == 0)
    return;

  g_dbus_connection_emit_signal (self->connection, NULL, LAUNCHER_PATH,
                                 LAUNCHER_INTERFACE, "Update",
                                 g_variant_new ("(s@a{sv})", LAUNCHER_APP_URI,
                                                launcher_properties (self)),
                                 NULL);
}

static void
update_now (PopcheckTray *self)
{
  guint n_mailboxes = self->mailboxes != NULL ?
                      g_list_model_get_n_items (self->mailboxes) : 0;
  guint n_new = 0;
  gboolean error = FALSE;
  gboolean needs_user = FALSE;
  const char *status;
  const char *icon_name;
  const char *attention_icon_name;
  g_autoptr(GVariant) tool_tip = NULL;

  for (guint i = 0; i < n_mailboxes; i++)
    {
      g_autoptr(PopcheckMailbox) mailbox = g_list_model_get_item (self->mailboxes, i);

      n_new += popcheck_mailbox_get_n_new (mailbox);
      if (popcheck_mailbox_get_state (mailbox) == POPCHECK_MAILBOX_STATE_ERROR)
        {
          PopcheckProblem problem = popcheck_mailbox_get_problem (mailbox);

          error = TRUE;
          if (problem != POPCHECK_PROBLEM_TEMPORARY &&
              problem != POPCHECK_PROBLEM_BUSY)
            needs_user = TRUE;
        }
    }

  /* New mail wins over a problem: it is what the user came for. */
  if (n_new > 0)
    {
      status = "NeedsAttention";
      icon_name = ICON_NEW_MAIL;
      attention_icon_name = ICON_NEW_MAIL;
    }
  else if (error)
    {
      status = needs_user ? "NeedsAttention" : "Active";
      icon_name = ICON_ERROR;
      attention_icon_name = ICON_ERROR;
    }
  else
    {
      status = "Active";
      icon_name = ICON_NO_MAIL;
      attention_icon_name = ICON_NEW_MAIL;
    }

  if (set_string (&self->title, _("PopCheck")))
    emit_sni_signal (self, "NewTitle", NULL);

  if (set_string (&self->status, status))
    emit_sni_signal (self, "NewStatus", g_variant_new ("(s)", status));

  if (set_string (&self->icon_name, icon_name))
    emit_sni_signal (self, "NewIcon", NULL);

  if (set_string (&self->attention_icon_name, attention_icon_name))
    emit_sni_signal (self, "NewAttentionIcon", NULL);

  tool_tip = g_variant_ref_sink (build_tool_tip (self, icon_name, n_new));
  if (self->tool_tip == NULL || !g_variant_equal (self->tool_tip, tool_tip))
    {
      g_clear_pointer (&self->tool_tip, g_variant_unref);
      self->tool_tip = g_steal_pointer (&tool_tip);
      emit_sni_signal (self, "NewToolTip", NULL);
    }

  if (self->n_new != n_new)
    {
      self->n_new = n_new;
      emit_launcher_update (self);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_NEW]);
    }

  popcheck_tray_menu_update (self);
}

static void
update_idle_cb (gpointer user_data)
{
  PopcheckTray *self = user_data;

  self->update_id = 0;
  update_now (self);
}

/* Several properties of a mailbox change together at the end of a check:
 * publish them once. */
static void
schedule_update (PopcheckTray *self)
{
  if (self->update_id == 0)
    self->update_id = popcheck_idle_add_once (update_idle_cb, self);
}

void
popcheck_tray_flush_update (PopcheckTray *self)
{
  if (self->update_id == 0)
    return;

  g_clear_handle_id (&self->update_id, g_source_remove);
  update_now (self);
}

static void
mailbox_notify_cb (PopcheckTray *self,
                   GParamSpec   *pspec,
                   GObject      *mailbox)
{
  schedule_update (self);
}

static void
unwatch_mailboxes (PopcheckTray *self)
{
  for (guint i = 0; i < self->watched->len; i++)
    g_signal_handlers_disconnect_by_func (g_ptr_array_index (self->watched, i),
                                          mailbox_notify_cb, self);
  g_ptr_array_set_size (self->watched, 0);
}

static void
mailboxes_changed_cb (GListModel   *model,
                      guint         position,
                      guint         removed,
                      guint         added,
                      PopcheckTray *self)
{
  guint n_items = g_list_model_get_n_items (model);

  unwatch_mailboxes (self);
  for (guint i = 0; i < n_items; i++)
    {
      PopcheckMailbox *mailbox = g_list_model_get_item (model, i);

      g_signal_connect_object (mailbox, "notify",
                               G_CALLBACK (mailbox_notify_cb), self,
                               G_CONNECT_SWAPPED);
      g_ptr_array_add (self->watched, mailbox);
    }

  schedule_update (self);
}

static void
actions_changed_cb (PopcheckTray *self)
{
  schedule_update (self);
}

static void
mute_changed_cb (PopcheckTray *self)
{
  schedule_update (self);
}

/* Commands from the bus */

gboolean
popcheck_tray_action_available (PopcheckTray *self,
                                const char   *action)
{
  return self->actions != NULL &&
         g_action_group_has_action (self->actions, action) &&
         g_action_group_get_action_enabled (self->actions, action);
}

void
popcheck_tray_activate_action (PopcheckTray *self,
                               const char   *action,
                               GVariant     *target)
{
  if (!popcheck_tray_action_available (self, action))
    {
      g_debug ("The action %s is not available", action);
      return;
    }

  g_action_group_activate_action (self->actions, action, target);
}

static void
sni_method_call (GDBusConnection       *connection,
                 const char            *sender,
                 const char            *object_path,
                 const char            *interface_name,
                 const char            *method_name,
                 GVariant              *parameters,
                 GDBusMethodInvocation *invocation,
                 gpointer               user_data)
{
  PopcheckTray *self = user_data;

  /* Reply first: an action may take a while (a window to build) and the
   * host should not wait for it. */
  g_dbus_method_invocation_return_value (invocation, NULL);

  if (g_str_equal (method_name, "Activate"))
    popcheck_tray_activate_action (self, "toggle-window", NULL);
  else if (g_str_equal (method_name, "SecondaryActivate"))
    popcheck_tray_activate_action (self, "check-now", NULL);
  /* ContextMenu: every host we know shows the Menu itself; Scroll means
   * nothing for a mail checker. */
}

static GVariant *
sni_get_property (GDBusConnection  *connection,
                  const char       *sender,
                  const char       *object_path,
                  const char       *interface_name,
                  const char       *property_name,
                  GError          **error,
                  gpointer          user_data)
{
  PopcheckTray *self = user_data;

  if (g_str_equal (property_name, "Category"))
    return g_variant_new_string ("Communications");
  if (g_str_equal (property_name, "Id"))
    return g_variant_new_string (APPLICATION_ID);
  if (g_str_equal (property_name, "Title"))
    return g_variant_new_string (self->title);
  if (g_str_equal (property_name, "Status"))
    return g_variant_new_string (self->status);
  if (g_str_equal (property_name, "WindowId"))
    return g_variant_new_int32 (0);
  if (g_str_equal (property_name, "IconThemePath") ||
      g_str_equal (property_name, "OverlayIconName") ||
      g_str_equal (property_name, "AttentionMovieName"))
    return g_variant_new_string ("");
  if (g_str_equal (property_name, "IconName"))
    return g_variant_new_string (self->icon_name);
  if (g_str_equal (property_name, "AttentionIconName"))
    return g_variant_new_string (self->attention_icon_name);
  if (g_str_equal (property_name, "IconPixmap") ||
      g_str_equal (property_name, "AttentionIconPixmap"))
    {
      /* Drawn when a host first asks, not as PopCheck starts: drawing
       * the SVG three times held up its window. */
      if (self->pixmaps == NULL)
        self->pixmaps = render_pixmaps ();
      return g_variant_ref (self->pixmaps);
    }
  if (g_str_equal (property_name, "OverlayIconPixmap"))
    return g_variant_new_array (G_VARIANT_TYPE ("(iiay)"), NULL, 0);
  if (g_str_equal (property_name, "ToolTip"))
    return g_variant_ref (self->tool_tip);
  if (g_str_equal (property_name, "ItemIsMenu"))
    return g_variant_new_boolean (FALSE);
  if (g_str_equal (property_name, "Menu"))
    return g_variant_new_object_path (MENU_PATH);

  /* GDBus checks the name against the introspection data first. */
  g_assert_not_reached ();
}

static const GDBusInterfaceVTable sni_vtable = {
  sni_method_call,
  sni_get_property,
  NULL,
};

static void
launcher_method_call (GDBusConnection       *connection,
                      const char            *sender,
                      const char            *object_path,
                      const char            *interface_name,
                      const char            *method_name,
                      GVariant              *parameters,
                      GDBusMethodInvocation *invocation,
                      gpointer               user_data)
{
  PopcheckTray *self = user_data;

  /* Query: a dock that starts after us asks for the current badge. */
  g_dbus_method_invocation_return_value (invocation,
                                         g_variant_new ("(s@a{sv})",
                                                        LAUNCHER_APP_URI,
                                                        launcher_properties (self)));
}

static const GDBusInterfaceVTable launcher_vtable = {
  launcher_method_call,
  NULL,
  NULL,
};

/* The session bus */

static void
set_host (PopcheckTray *self,
          gboolean      has_host)
{
  g_object_freeze_notify (G_OBJECT (self));
  if (!self->host_known)
    {
      self->host_known = TRUE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HOST_KNOWN]);
    }
  if (self->has_host != !!has_host)
    {
      self->has_host = !!has_host;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_HOST]);
    }
  g_object_thaw_notify (G_OBJECT (self));
}

static void
host_registered_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(PopcheckTray) self = user_data;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result,
                                         &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (reply == NULL)
    {
      /* A watcher without the property accepted us: it is there for a
       * host, so take it that one shows the item. */
      g_debug ("The watcher does not say whether a host runs: %s",
               error->message);
      set_host (self, self->registered);
      return;
    }

  g_variant_get (reply, "(v)", &value);
  if (!g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN))
    {
      set_host (self, self->registered);
      return;
    }

  set_host (self, self->registered && g_variant_get_boolean (value));
}

static void
query_host (PopcheckTray    *self,
            GDBusConnection *connection,
            const char      *name_owner)
{
  g_dbus_connection_call (connection, name_owner, WATCHER_PATH,
                          PROPERTIES_INTERFACE, "Get",
                          g_variant_new ("(ss)", WATCHER_NAME,
                                         "IsStatusNotifierHostRegistered"),
                          G_VARIANT_TYPE ("(v)"),
                          G_DBUS_CALL_FLAGS_NO_AUTO_START, -1,
                          self->cancellable, host_registered_cb,
                          g_object_ref (self));
}

/* A panel started or ended while the watcher ran. */
static void
host_changed_cb (GDBusConnection *connection,
                 const char      *sender_name,
                 const char      *object_path,
                 const char      *interface_name,
                 const char      *signal_name,
                 GVariant        *parameters,
                 gpointer         user_data)
{
  PopcheckTray *self = user_data;

  /* Items come and go too; only hosts matter here. */
  if (self->registered &&
      (g_str_equal (signal_name, "StatusNotifierHostRegistered") ||
       g_str_equal (signal_name, "StatusNotifierHostUnregistered")))
    query_host (self, connection, sender_name);
}

static void
unsubscribe_host (PopcheckTray *self)
{
  if (self->host_subscription_id != 0 && self->connection != NULL)
    g_dbus_connection_signal_unsubscribe (self->connection,
                                          self->host_subscription_id);
  self->host_subscription_id = 0;
}

static void
register_item_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(PopcheckTray) self = user_data;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result,
                                         &error);
  if (reply == NULL)
    {
      /* A watcher that refuses us, or vanished meanwhile: no tray icon,
       * which is what a desktop without one has anyway. */
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      g_debug ("The StatusNotifierWatcher did not register %s: %s",
               self->bus_name, error->message);
      set_host (self, FALSE);
      return;
    }

  g_debug ("Registered %s with the StatusNotifierWatcher", self->bus_name);
  if (!self->registered)
    {
      self->registered = TRUE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REGISTERED]);
    }

  query_host (self, G_DBUS_CONNECTION (object), WATCHER_NAME);
}

static void
watcher_appeared_cb (GDBusConnection *connection,
                     const char      *name,
                     const char      *name_owner,
                     gpointer         user_data)
{
  PopcheckTray *self = user_data;

  unsubscribe_host (self);
  self->host_subscription_id =
    g_dbus_connection_signal_subscribe (connection, name_owner, WATCHER_NAME,
                                        NULL, WATCHER_PATH, NULL,
                                        G_DBUS_SIGNAL_FLAGS_NONE,
                                        host_changed_cb, self, NULL);

  /* Every appearance is a watcher that does not know us yet. */
  g_dbus_connection_call (connection, name_owner, WATCHER_PATH, WATCHER_NAME,
                          "RegisterStatusNotifierItem",
                          g_variant_new ("(s)", self->bus_name),
                          NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START, -1,
                          self->cancellable, register_item_cb,
                          g_object_ref (self));
}

static void
watcher_vanished_cb (GDBusConnection *connection,
                     const char      *name,
                     gpointer         user_data)
{
  PopcheckTray *self = user_data;

  g_debug ("No StatusNotifierWatcher on the session bus");
  unsubscribe_host (self);
  if (self->registered)
    {
      self->registered = FALSE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REGISTERED]);
    }
  set_host (self, FALSE);
}

static void
unregister_objects (PopcheckTray *self)
{
  if (self->connection == NULL)
    return;

  unsubscribe_host (self);
  if (self->sni_id != 0)
    g_dbus_connection_unregister_object (self->connection, self->sni_id);
  if (self->menu_id != 0)
    g_dbus_connection_unregister_object (self->connection, self->menu_id);
  if (self->launcher_id != 0)
    g_dbus_connection_unregister_object (self->connection, self->launcher_id);
  self->sni_id = self->menu_id = self->launcher_id = 0;
  g_clear_object (&self->connection);
}

static void
bus_acquired_cb (GDBusConnection *connection,
                 const char      *name,
                 gpointer         user_data)
{
  PopcheckTray *self = user_data;
  g_autoptr(GError) error = NULL;

  self->connection = g_object_ref (connection);

  self->sni_id = g_dbus_connection_register_object (connection, SNI_PATH,
                                                    interface_info (SNI_INTERFACE),
                                                    &sni_vtable, self, NULL,
                                                    &error);
  if (self->sni_id != 0)
    self->menu_id = g_dbus_connection_register_object (connection, MENU_PATH,
                                                       interface_info (MENU_INTERFACE),
                                                       &popcheck_tray_menu_vtable, self,
                                                       NULL, &error);
  if (self->menu_id != 0)
    self->launcher_id =
      g_dbus_connection_register_object (connection, LAUNCHER_PATH,
                                         interface_info (LAUNCHER_INTERFACE),
                                         &launcher_vtable, self, NULL,
                                         &error);
  if (self->launcher_id == 0)
    {
      /* Only a second tray on the same connection gets here. */
      g_message ("Could not export the tray icon: %s", error->message);
      unregister_objects (self);
      return;
    }

  /* Docks that started before us learn the badge now. */
  if (self->n_new > 0)
    emit_launcher_update (self);
}

static void
name_acquired_cb (GDBusConnection *connection,
                  const char      *name,
                  gpointer         user_data)
{
  PopcheckTray *self = user_data;

  if (self->sni_id == 0 || self->watch_id != 0)
    return;

  self->watch_id = g_bus_watch_name_on_connection (connection, WATCHER_NAME,
                                                   G_BUS_NAME_WATCHER_FLAGS_NONE,
                                                   watcher_appeared_cb,
                                                   watcher_vanished_cb,
                                                   self, NULL);
}

static void
name_lost_cb (GDBusConnection *connection,
              const char      *name,
              gpointer         user_data)
{
  PopcheckTray *self = user_data;

  /* No session bus (a plain console, a test without one): no tray. */
  g_debug ("The tray has no bus name %s", name);
  set_host (self, FALSE);
}

/* GObject */

static void
popcheck_tray_constructed (GObject *object)
{
  PopcheckTray *self = POPCHECK_TRAY (object);
  static int instance_counter;

  G_OBJECT_CLASS (popcheck_tray_parent_class)->constructed (object);

  if (self->mailboxes != NULL)
    {
      g_signal_connect_object (self->mailboxes, "items-changed",
                               G_CALLBACK (mailboxes_changed_cb), self, 0);
      mailboxes_changed_cb (self->mailboxes, 0, 0,
                            g_list_model_get_n_items (self->mailboxes), self);
      g_clear_handle_id (&self->update_id, g_source_remove);
    }

  if (self->actions != NULL)
    {
      g_signal_connect_object (self->actions, "action-added",
                               G_CALLBACK (actions_changed_cb), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (self->actions, "action-removed",
                               G_CALLBACK (actions_changed_cb), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (self->actions, "action-enabled-changed",
                               G_CALLBACK (actions_changed_cb), self,
                               G_CONNECT_SWAPPED);
    }

  update_now (self);

  /* The name the specification asks for: PID and a counter. */
  self->bus_name = g_strdup_printf ("org.kde.StatusNotifierItem-%d-%u",
                                    (int) getpid (),
                                    g_atomic_int_add (&instance_counter, 1) + 1);
  self->own_id = g_bus_own_name (G_BUS_TYPE_SESSION, self->bus_name,
                                 G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE,
                                 bus_acquired_cb, name_acquired_cb,
                                 name_lost_cb, self, NULL);
}

static void
popcheck_tray_dispose (GObject *object)
{
  PopcheckTray *self = POPCHECK_TRAY (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->update_id, g_source_remove);
  g_clear_handle_id (&self->watch_id, g_bus_unwatch_name);
  g_clear_handle_id (&self->own_id, g_bus_unown_name);
  unregister_objects (self);

  if (self->watched != NULL)
    unwatch_mailboxes (self);
  if (self->mailboxes != NULL)
    g_signal_handlers_disconnect_by_data (self->mailboxes, self);
  if (self->actions != NULL)
    g_signal_handlers_disconnect_by_data (self->actions, self);
  if (self->mute != NULL)
    g_signal_handlers_disconnect_by_data (self->mute, self);
  g_clear_object (&self->mute);
  g_clear_object (&self->mailboxes);
  g_clear_object (&self->actions);

  G_OBJECT_CLASS (popcheck_tray_parent_class)->dispose (object);
}

static void
popcheck_tray_finalize (GObject *object)
{
  PopcheckTray *self = POPCHECK_TRAY (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->watched, g_ptr_array_unref);
  popcheck_tray_menu_finalize (self);
  g_clear_pointer (&self->tool_tip, g_variant_unref);
  g_clear_pointer (&self->pixmaps, g_variant_unref);
  g_free (self->bus_name);
  g_free (self->status);
  g_free (self->icon_name);
  g_free (self->attention_icon_name);
  g_free (self->title);

  G_OBJECT_CLASS (popcheck_tray_parent_class)->finalize (object);
}

static void
popcheck_tray_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  PopcheckTray *self = POPCHECK_TRAY (object);

  switch (prop_id)
    {
    case PROP_ACTIONS:
      g_value_set_object (value, self->actions);
      break;

    case PROP_MAILBOXES:
      g_value_set_object (value, self->mailboxes);
      break;

    case PROP_BUS_NAME:
      g_value_set_string (value, self->bus_name);
      break;

    case PROP_REGISTERED:
      g_value_set_boolean (value, self->registered);
      break;

    case PROP_N_NEW:
      g_value_set_uint (value, self->n_new);
      break;

    case PROP_MUTE:
      g_value_set_object (value, self->mute);
      break;

    case PROP_HAS_HOST:
      g_value_set_boolean (value, self->has_host);
      break;

    case PROP_HOST_KNOWN:
      g_value_set_boolean (value, self->host_known);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
popcheck_tray_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  PopcheckTray *self = POPCHECK_TRAY (object);

  switch (prop_id)
    {
    case PROP_ACTIONS:
      self->actions = g_value_dup_object (value);
      break;

    case PROP_MAILBOXES:
      self->mailboxes = g_value_dup_object (value);
      break;

    case PROP_MUTE:
      popcheck_tray_set_mute (self, g_value_get_object (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
popcheck_tray_class_init (PopcheckTrayClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = popcheck_tray_constructed;
  object_class->dispose = popcheck_tray_dispose;
  object_class->finalize = popcheck_tray_finalize;
  object_class->get_property = popcheck_tray_get_property;
  object_class->set_property = popcheck_tray_set_property;

  properties[PROP_ACTIONS] =
    g_param_spec_object ("actions", NULL, NULL,
                         G_TYPE_ACTION_GROUP,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_STATIC_STRINGS));

  properties[PROP_MAILBOXES] =
    g_param_spec_object ("mailboxes", NULL, NULL,
                         G_TYPE_LIST_MODEL,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_STATIC_STRINGS));

  properties[PROP_BUS_NAME] =
    g_param_spec_string ("bus-name", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  properties[PROP_REGISTERED] =
    g_param_spec_boolean ("registered", NULL, NULL,
                          FALSE,
                          (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
                           G_PARAM_STATIC_STRINGS));

  properties[PROP_N_NEW] =
    g_param_spec_uint ("n-new", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));

  properties[PROP_MUTE] =
    g_param_spec_object ("mute", NULL, NULL,
                         POPCHECK_TYPE_MUTE,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  properties[PROP_HAS_HOST] =
    g_param_spec_boolean ("has-host", NULL, NULL,
                          FALSE,
                          (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
                           G_PARAM_STATIC_STRINGS));

  properties[PROP_HOST_KNOWN] =
    g_param_spec_boolean ("host-known", NULL, NULL,
                          FALSE,
                          (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
                           G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
popcheck_tray_init (PopcheckTray *self)
{
  self->cancellable = g_cancellable_new ();
  self->watched = g_ptr_array_new_with_free_func (g_object_unref);
  popcheck_tray_menu_init (self);
}

PopcheckTray *
popcheck_tray_new (GActionGroup *actions,
                   GListModel   *mailboxes)
{
  g_return_val_if_fail (actions == NULL || G_IS_ACTION_GROUP (actions), NULL);
  g_return_val_if_fail (mailboxes == NULL || G_IS_LIST_MODEL (mailboxes), NULL);

  return g_object_new (POPCHECK_TYPE_TRAY,
                       "actions", actions,
                       "mailboxes", mailboxes,
                       NULL);
}

const char *
popcheck_tray_get_bus_name (PopcheckTray *self)
{
  g_return_val_if_fail (POPCHECK_IS_TRAY (self), NULL);

  return self->bus_name;
}

gboolean
popcheck_tray_get_registered (PopcheckTray *self)
{
  g_return_val_if_fail (POPCHECK_IS_TRAY (self), FALSE);

  return self->registered;
}

guint
popcheck_tray_get_n_new (PopcheckTray *self)
{
  g_return_val_if_fail (POPCHECK_IS_TRAY (self), 0);

  return self->n_new;
}

gboolean
popcheck_tray_get_has_host (PopcheckTray *self)
{
  g_return_val_if_fail (POPCHECK_IS_TRAY (self), FALSE);

  return self->has_host;
}

gboolean
popcheck_tray_get_host_known (PopcheckTray *self)
{
  g_return_val_if_fail (POPCHECK_IS_TRAY (self), FALSE);

  return self->host_known;
}

PopcheckMute *
popcheck_tray_get_mute (PopcheckTray *self)
{
  g_return_val_if_fail (POPCHECK_IS_TRAY (self), NULL);

  return self->mute;
}

void
popcheck_tray_set_mute (PopcheckTray *self,
                        PopcheckMute *mute)
{
  g_return_if_fail (POPCHECK_IS_TRAY (self));
  g_return_if_fail (mute == NULL || POPCHECK_IS_MUTE (mute));

  if (self->mute == mute)
    return;

  if (self->mute != NULL)
    g_signal_handlers_disconnect_by_data (self->mute, self);
  g_set_object (&self->mute, mute);
  if (self->mute != NULL)
    g_signal_connect_object (self->mute, "notify",
                             G_CALLBACK (mute_changed_cb), self,
                             G_CONNECT_SWAPPED);

  schedule_update (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MUTE]);
}
