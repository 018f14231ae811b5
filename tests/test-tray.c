/* test-tray.c: the StatusNotifierItem, its dbusmenu and the launcher badge
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * On a private session bus (GTestDBus) the real PopcheckTray shows real
 * PopcheckMailbox objects.  The test plays the other side: a fake
 * org.kde.StatusNotifierWatcher on a connection of its own (closing that
 * connection is a panel that restarts), and a host that reads properties,
 * the menu, and listens to the signals.
 */

#include "config.h"

#include "popcheck-test-bus.h"
#include "popcheck-test-util.h"
#include "popcheck-tray.h"

/* How long the tray and the fake panel may take to answer. */
#define WAIT_MS 10000

#define SNI_INTERFACE "org.kde.StatusNotifierItem"
#define MENU_INTERFACE "com.canonical.dbusmenu"
#define LAUNCHER_PATH "/org/example/PopCheck/LauncherEntry"
#define LAUNCHER_INTERFACE "com.canonical.Unity.LauncherEntry"

static const char watcher_xml[] =
  "<node>"
  "  <interface name='org.kde.StatusNotifierWatcher'>"
  "    <method name='RegisterStatusNotifierItem'>"
  "      <arg name='service' type='s' direction='in'/>"
  "    </method>"
  "    <property name='IsStatusNotifierHostRegistered' type='b' access='read'/>"
  "    <signal name='StatusNotifierHostRegistered'/>"
  "    <signal name='StatusNotifierHostUnregistered'/>"
  "  </interface>"
  "</node>";

/* The fake watcher */

typedef struct
{
  GDBusConnection *connection;
  GDBusNodeInfo   *info;
  guint            object_id;
  guint            owner_id;
  gboolean         owned;
  GPtrArray       *registrations;  /* service names, as sent */
  /* Whether a panel shows items: TRUE unless a test says otherwise. */
  gboolean         host_registered;
} FakeWatcher;

static void
watcher_method_call (GDBusConnection       *connection,
                     const char            *sender,
                     const char            *object_path,
                     const char            *interface_name,
                     const char            *method_name,
                     GVariant              *parameters,
                     GDBusMethodInvocation *invocation,
                     gpointer               user_data)
{
  FakeWatcher *watcher = user_data;
  const char *service;

  g_variant_get (parameters, "(&s)", &service);
  g_ptr_array_add (watcher->registrations, g_strdup (service));
  g_dbus_method_invocation_return_value (invocation, NULL);
}

static GVariant *
watcher_get_property (GDBusConnection  *connection,
                      const char       *sender,
                      const char       *object_path,
                      const char       *interface_name,
                      const char       *property_name,
                      GError          **error,
                      gpointer          user_data)
{
  FakeWatcher *watcher = user_data;

  return g_variant_new_boolean (watcher->host_registered);
}

static const GDBusInterfaceVTable watcher_vtable = {
  watcher_method_call, watcher_get_property, NULL
};

/* A panel starts or ends, as the watcher tells it. */
static void
fake_watcher_set_host (FakeWatcher *watcher,
                       gboolean     host_registered)
{
  g_autoptr(GError) error = NULL;

  watcher->host_registered = host_registered;
  g_dbus_connection_emit_signal (watcher->connection, NULL,
                                 "/StatusNotifierWatcher",
                                 "org.kde.StatusNotifierWatcher",
                                 host_registered ? "StatusNotifierHostRegistered"
                                                 : "StatusNotifierHostUnregistered",
                                 NULL, &error);
  g_assert_no_error (error);
}

static void
watcher_name_acquired_cb (GDBusConnection *connection,
                          const char      *name,
                          gpointer         user_data)
{
  FakeWatcher *watcher = user_data;

  watcher->owned = TRUE;
}

static FakeWatcher *
fake_watcher_start (void)
{
  FakeWatcher *watcher = g_new0 (FakeWatcher, 1);
  g_autoptr(GError) error = NULL;

  watcher->registrations = g_ptr_array_new_with_free_func (g_free);
  watcher->host_registered = TRUE;
  watcher->connection = popcheck_test_connect ();
  watcher->info = g_dbus_node_info_new_for_xml (watcher_xml, &error);
  g_assert_no_error (error);
  watcher->object_id =
    g_dbus_connection_register_object (watcher->connection,
                                       "/StatusNotifierWatcher",
                                       watcher->info->interfaces[0],
                                       &watcher_vtable, watcher, NULL,
                                       &error);
  g_assert_no_error (error);
  watcher->owner_id =
    g_bus_own_name_on_connection (watcher->connection,
                                  "org.kde.StatusNotifierWatcher",
                                  G_BUS_NAME_OWNER_FLAGS_NONE,
                                  watcher_name_acquired_cb, NULL,
                                  watcher, NULL);
  popcheck_test_wait_for (&watcher->owned, "the watcher's name");
  return watcher;
}

/* Stops like a crashed panel: the connection goes, and the name with it. */
static void
fake_watcher_stop (FakeWatcher *watcher)
{
  g_autoptr(GError) error = NULL;

  g_bus_unown_name (watcher->owner_id);
  g_dbus_connection_unregister_object (watcher->connection, watcher->object_id);
  g_dbus_connection_close_sync (watcher->connection, NULL, &error);
  g_assert_no_error (error);
  g_object_unref (watcher->connection);
  g_dbus_node_info_unref (watcher->info);
  g_ptr_array_unref (watcher->registrations);
  g_free (watcher);
}

/* The fixture */

typedef struct
{
  GListStore          *mailboxes;
  PopcheckMailbox     *work;
  PopcheckMailbox     *home;
  GSimpleActionGroup  *actions;
  GPtrArray           *activated;  /* "name" or "name <parameter>" */
  GDBusConnection     *host;
  FakeWatcher         *watcher;
  PopcheckTray        *tray;
  char                *tray_owner;
  PopcheckTestSignals *signals;
} Fixture;

static void
action_cb (GSimpleAction *action,
           GVariant      *parameter,
           gpointer       user_data)
{
  Fixture *fixture = user_data;
  g_autofree char *printed = NULL;

  if (parameter != NULL)
    printed = g_variant_print (parameter, FALSE);
  g_ptr_array_add (fixture->activated,
                   printed != NULL
                   ? g_strdup_printf ("%s %s", g_action_get_name (G_ACTION (action)), printed)
                   : g_strdup (g_action_get_name (G_ACTION (action))));
}

static const GActionEntry action_entries[] = {
  { "mute", action_cb },
  { "unmute", action_cb },
  { "toggle-window", action_cb },
  { "show-window", action_cb },
  { "show-message", action_cb, "(ss)" },
  { "check-now", action_cb },
  { "mark-all-seen", action_cb },
  { "preferences", action_cb },
  { "quit", action_cb },
};

static gboolean
tray_has_owner (Fixture *fixture)
{
  g_autoptr(GVariant) reply = NULL;

  reply = popcheck_test_call (fixture->host, "org.freedesktop.DBus",
                              "/org/freedesktop/DBus", "org.freedesktop.DBus",
                              "NameHasOwner",
                              g_variant_new ("(s)",
                                             popcheck_tray_get_bus_name (fixture->tray)),
                              "(b)", NULL);
  return reply != NULL && g_variant_get_boolean (g_variant_get_child_value (reply, 0));
}

/* Returns once the tray has dispatched everything the bus had sent it: the
 * tray lives on the process's session bus connection, in this main
 * context. */
static void
tray_barrier (void)
{
  g_autoptr(GDBusConnection) session = g_bus_get_sync (G_BUS_TYPE_SESSION,
                                                       NULL, NULL);

  g_assert_nonnull (session);
  popcheck_test_bus_barrier (session);
}

static void
start_tray (Fixture *fixture)
{
  g_autoptr(GVariant) reply = NULL;

  fixture->tray = popcheck_tray_new (G_ACTION_GROUP (fixture->actions),
                                     G_LIST_MODEL (fixture->mailboxes));
  POPCHECK_TEST_WAIT_UNTIL (tray_has_owner (fixture), WAIT_MS);

  reply = popcheck_test_call (fixture->host, "org.freedesktop.DBus",
                              "/org/freedesktop/DBus", "org.freedesktop.DBus",
                              "GetNameOwner",
                              g_variant_new ("(s)",
                                             popcheck_tray_get_bus_name (fixture->tray)),
                              "(s)", NULL);
  g_assert_nonnull (reply);
  g_variant_get (reply, "(s)", &fixture->tray_owner);
  fixture->signals = popcheck_test_signals_new (fixture->host,
                                                fixture->tray_owner);
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  user_data)
{
  gboolean with_watcher = GPOINTER_TO_INT (user_data);

  fixture->activated = g_ptr_array_new_with_free_func (g_free);
  fixture->actions = g_simple_action_group_new ();
  g_action_map_add_action_entries (G_ACTION_MAP (fixture->actions),
                                   action_entries,
                                   G_N_ELEMENTS (action_entries), fixture);

  fixture->mailboxes = g_list_store_new (POPCHECK_TYPE_MAILBOX);
  fixture->work = popcheck_mailbox_new ("work");
  popcheck_mailbox_set_display_name (fixture->work, "Work & Co_op");
  fixture->home = popcheck_mailbox_new ("home");
  popcheck_mailbox_set_display_name (fixture->home, "Home");
  g_list_store_append (fixture->mailboxes, fixture->work);
  g_list_store_append (fixture->mailboxes, fixture->home);

  /* Both mailboxes had their first check: two messages known. */
  g_ptr_array_unref (popcheck_test_mailbox_sync (fixture->work,
                                                 (const char *[]) { "w1", "w2", NULL }));
  g_ptr_array_unref (popcheck_test_mailbox_sync (fixture->home,
                                                 (const char *[]) { "h1", NULL }));

  fixture->host = popcheck_test_connect ();
  if (with_watcher)
    fixture->watcher = fake_watcher_start ();

  start_tray (fixture);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_autofree char *bus_name = NULL;

  if (fixture->tray != NULL)
    bus_name = g_strdup (popcheck_tray_get_bus_name (fixture->tray));
  g_clear_object (&fixture->tray);
  /* The bus must see the name go before the next test takes the next one. */
  if (bus_name != NULL)
    popcheck_test_wait_for_owner (fixture->host, bus_name, FALSE);
  g_clear_pointer (&fixture->signals, popcheck_test_signals_free);
  g_clear_pointer (&fixture->watcher, fake_watcher_stop);
  g_clear_object (&fixture->host);
  g_clear_object (&fixture->work);
  g_clear_object (&fixture->home);
  g_clear_object (&fixture->mailboxes);
  g_clear_object (&fixture->actions);
  g_clear_pointer (&fixture->activated, g_ptr_array_unref);
  g_free (fixture->tray_owner);
}

static GVariant *
tray_call (Fixture     *fixture,
           const char  *path,
           const char  *interface_name,
           const char  *method,
           GVariant    *parameters,
           const char  *reply_type,
           GError     **error)
{
  return popcheck_test_call (fixture->host,
                             popcheck_tray_get_bus_name (fixture->tray),
                             path, interface_name, method, parameters,
                             reply_type, error);
}

static GVariant *
get_all (Fixture    *fixture,
         const char *path,
         const char *interface_name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;

  reply = tray_call (fixture, path, "org.freedesktop.DBus.Properties",
                     "GetAll", g_variant_new ("(s)", interface_name),
                     "(a{sv})", &error);
  g_assert_no_error (error);
  return g_variant_get_child_value (reply, 0);
}

static const char *
lookup_string (GVariant   *dict,
               const char *key)
{
  g_autoptr(GVariant) value = g_variant_lookup_value (dict, key, G_VARIANT_TYPE_STRING);

  g_assert_nonnull (value);
  /* The dictionary keeps the string alive. */
  return g_variant_get_string (value, NULL);
}

/* g_variant_print, freed when the test ends. */
static const char *
printed (GVariant *value,
         gboolean  type_annotate)
{
  char *text = g_variant_print (value, type_annotate);

  g_test_queue_free (text);
  return text;
}

/* Registration */

static void
test_registration (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_autofree char *prefix = g_strdup_printf ("org.kde.StatusNotifierItem-%d-",
                                             (int) getpid ());
  const char *bus_name = popcheck_tray_get_bus_name (fixture->tray);

  g_assert_true (g_str_has_prefix (bus_name, prefix));

  POPCHECK_TEST_WAIT_UNTIL (fixture->watcher->registrations->len > 0, WAIT_MS);
  g_assert_cmpuint (fixture->watcher->registrations->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (fixture->watcher->registrations, 0), ==,
                   bus_name);

  POPCHECK_TEST_WAIT_UNTIL (popcheck_tray_get_registered (fixture->tray),
                            WAIT_MS);
}

static void
test_watcher_restart (Fixture       *fixture,
                      gconstpointer  user_data)
{
  const char *bus_name = popcheck_tray_get_bus_name (fixture->tray);

  POPCHECK_TEST_WAIT_UNTIL (fixture->watcher->registrations->len > 0, WAIT_MS);
  POPCHECK_TEST_WAIT_UNTIL (popcheck_tray_get_registered (fixture->tray), WAIT_MS);

  /* The panel crashes: the item knows it is not shown. */
  g_clear_pointer (&fixture->watcher, fake_watcher_stop);
  POPCHECK_TEST_WAIT_UNTIL (!popcheck_tray_get_registered (fixture->tray), WAIT_MS);

  /* A new panel knows nothing of us: we register again, once. */
  fixture->watcher = fake_watcher_start ();
  POPCHECK_TEST_WAIT_UNTIL (fixture->watcher->registrations->len > 0, WAIT_MS);
  /* A second registration would answer what the bus had sent the tray
   * before: once the tray has dispatched all of it, any call it made is on
   * its way, ahead of the watcher's own round trip. */
  tray_barrier ();
  popcheck_test_bus_barrier (fixture->watcher->connection);
  g_assert_cmpuint (fixture->watcher->registrations->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (fixture->watcher->registrations, 0), ==,
                   bus_name);
  POPCHECK_TEST_WAIT_UNTIL (popcheck_tray_get_registered (fixture->tray), WAIT_MS);
}

static guint n_loud_messages;

static void
count_loud_log_cb (const char     *log_domain,
                   GLogLevelFlags  log_level,
                   const char     *message,
                   gpointer        user_data)
{
  n_loud_messages++;
  g_test_message ("logged: %s", message);
}

static void
test_no_watcher (Fixture       *fixture,
                 gconstpointer  user_data)
{
  g_autoptr(GVariant) props = NULL;
  guint handler;

  handler = g_log_set_handler ("popcheck-tray",
                               G_LOG_LEVEL_MASK & ~G_LOG_LEVEL_DEBUG,
                               count_loud_log_cb, NULL);
  n_loud_messages = 0;

  /* Plain GNOME: the item is on the bus, nobody shows it, nobody says so.
   * The tray asks for a watcher once it has its name: the first round trip
   * comes after the reply that gave it the name, so after that question,
   * and the second after its answer. */
  tray_barrier ();
  tray_barrier ();
  g_assert_false (popcheck_tray_get_registered (fixture->tray));
  /* And the application can tell that nothing shows the icon. */
  POPCHECK_TEST_WAIT_UNTIL (popcheck_tray_get_host_known (fixture->tray), WAIT_MS);
  g_assert_false (popcheck_tray_get_has_host (fixture->tray));
  props = get_all (fixture, "/StatusNotifierItem", SNI_INTERFACE);
  g_assert_cmpstr (lookup_string (props, "Status"), ==, "Active");

  /* Activate still works: the host may be a launcher that calls it. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply = NULL;

    reply = tray_call (fixture, "/StatusNotifierItem", SNI_INTERFACE,
                       "Activate", g_variant_new ("(ii)", 0, 0), "()", &error);
    g_assert_no_error (error);
  }
  POPCHECK_TEST_WAIT_UNTIL (fixture->activated->len > 0, WAIT_MS);
  g_assert_cmpstr (g_ptr_array_index (fixture->activated, 0), ==,
                   "toggle-window");

  /* A watcher that appears later is told about the item. */
  fixture->watcher = fake_watcher_start ();
  POPCHECK_TEST_WAIT_UNTIL (popcheck_tray_get_registered (fixture->tray), WAIT_MS);
  g_assert_cmpuint (fixture->watcher->registrations->len, ==, 1);
  POPCHECK_TEST_WAIT_UNTIL (popcheck_tray_get_has_host (fixture->tray), WAIT_MS);

  g_assert_cmpuint (n_loud_messages, ==, 0);
  g_log_remove_handler ("popcheck-tray", handler);
}

/* Properties */

static void
assert_property_type (GVariant   *props,
                      const char *name,
                      const char *type)
{
  g_autoptr(GVariant) value = g_variant_lookup_value (props, name, NULL);

  if (value == NULL)
    g_error ("GetAll has no %s", name);
  g_assert_cmpstr (g_variant_get_type_string (value), ==, type);
}

static void
test_properties (Fixture       *fixture,
                 gconstpointer  user_data)
{
  static const struct {
    const char *name;
    const char *type;
  } expected[] = {
    { "Category", "s" }, { "Id", "s" }, { "Title", "s" }, { "Status", "s" },
    { "WindowId", "i" }, { "IconThemePath", "s" }, { "IconName", "s" },
    { "IconPixmap", "a(iiay)" }, { "OverlayIconName", "s" },
    { "OverlayIconPixmap", "a(iiay)" }, { "AttentionIconName", "s" },
    { "AttentionIconPixmap", "a(iiay)" }, { "AttentionMovieName", "s" },
    { "ToolTip", "(sa(iiay)ss)" }, { "ItemIsMenu", "b" }, { "Menu", "o" },
  };
  g_autoptr(GVariant) props = get_all (fixture, "/StatusNotifierItem",
                                       SNI_INTERFACE);
  g_autoptr(GVariant) menu_props = NULL;
  g_autoptr(GVariant) tool_tip = NULL;
  g_autoptr(GVariant) value = NULL;
  const char *tip_title;
  const char *tip_body;

  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    assert_property_type (props, expected[i].name, expected[i].type);
  g_assert_cmpuint (g_variant_n_children (props), ==, G_N_ELEMENTS (expected));

  g_assert_cmpstr (lookup_string (props, "Category"), ==, "Communications");
  g_assert_cmpstr (lookup_string (props, "Id"), ==, "org.example.PopCheck");
  g_assert_cmpstr (lookup_string (props, "Title"), ==, "PopCheck");
  g_assert_cmpstr (lookup_string (props, "Status"), ==, "Active");
  g_assert_cmpstr (lookup_string (props, "IconName"), ==, "mail-read-symbolic");
  g_assert_cmpstr (lookup_string (props, "AttentionIconName"), ==,
                   "mail-unread-symbolic");

  value = g_variant_lookup_value (props, "ItemIsMenu", G_VARIANT_TYPE_BOOLEAN);
  g_assert_false (g_variant_get_boolean (value));
  g_clear_pointer (&value, g_variant_unref);
  value = g_variant_lookup_value (props, "Menu", G_VARIANT_TYPE_OBJECT_PATH);
  g_assert_cmpstr (g_variant_get_string (value, NULL), ==, "/MenuBar");

  /* One line per account, names escaped for the description's markup. */
  tool_tip = g_variant_lookup_value (props, "ToolTip", NULL);
  g_variant_get (tool_tip, "(&sa(iiay)&s&s)", NULL, NULL, &tip_title, &tip_body);
  g_assert_cmpstr (tip_title, ==, "PopCheck: no new mail");
  g_assert_cmpstr (tip_body, ==, "Work &amp; Co_op: 2 messages\nHome: 1 message");

  menu_props = get_all (fixture, "/MenuBar", MENU_INTERFACE);
  assert_property_type (menu_props, "Version", "u");
  assert_property_type (menu_props, "TextDirection", "s");
  assert_property_type (menu_props, "Status", "s");
  assert_property_type (menu_props, "IconThemePath", "as");
}

/* The menu */

typedef struct
{
  int       id;
  GVariant *props;
} Child;

/* The root's children in order; props are borrowed from layout. */
static GArray *
layout_children (GVariant *layout)
{
  g_autoptr(GVariant) children = g_variant_get_child_value (layout, 2);
  GArray *array = g_array_new (FALSE, FALSE, sizeof (Child));

  for (gsize i = 0; i < g_variant_n_children (children); i++)
    {
      g_autoptr(GVariant) boxed = g_variant_get_child_value (children, i);
      g_autoptr(GVariant) child = g_variant_get_variant (boxed);
      g_autoptr(GVariant) grandchildren = g_variant_get_child_value (child, 2);
      Child entry;

      g_assert_cmpstr (g_variant_get_type_string (child), ==, "(ia{sv}av)");
      g_assert_cmpuint (g_variant_n_children (grandchildren), ==, 0);
      g_variant_get_child (child, 0, "i", &entry.id);
      entry.props = g_variant_get_child_value (child, 1);
      g_array_append_val (array, entry);
    }

  return array;
}

static void
children_free (GArray *children)
{
  for (guint i = 0; i < children->len; i++)
    g_variant_unref (g_array_index (children, Child, i).props);
  g_array_unref (children);
}

typedef GArray GArray_Children;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GArray_Children, children_free)

static GVariant *
get_layout (Fixture *fixture,
            int      parent,
            int      depth,
            guint   *revision)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  GVariant *layout;

  reply = tray_call (fixture, "/MenuBar", MENU_INTERFACE, "GetLayout",
                     g_variant_new ("(ii@as)", parent, depth,
                                    g_variant_new_strv (NULL, 0)),
                     "(u(ia{sv}av))", &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(u@(ia{sv}av))", revision, &layout);
  return layout;
}

static int
find_child (GArray     *children,
            const char *label)
{
  for (guint i = 0; i < children->len; i++)
    {
      Child *child = &g_array_index (children, Child, i);
      const char *child_label = NULL;

      if (g_variant_lookup (child->props, "label", "&s", &child_label) &&
          g_str_has_prefix (child_label, label))
        return child->id;
    }

  g_error ("No menu item labelled %s", label);
}

static void
test_layout (Fixture       *fixture,
             gconstpointer  user_data)
{
  static const char *labels[] = {
    /* What the icon is for comes first. */
    "_Open PopCheck", "_Check Now", "_Mark All as Seen", NULL,
    "Work & Co__op — 2 messages",
    "Home — 1 message", NULL, "_Preferences", "_Quit",
  };
  g_autoptr(GVariant) layout = NULL;
  g_autoptr(GArray_Children) children = NULL;
  g_autoptr(GVariant) props = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *remote_error = NULL;
  const char *display = NULL;
  guint revision;
  int root_id;

  layout = get_layout (fixture, 0, -1, &revision);
  g_assert_cmpuint (revision, >, 0);
  g_variant_get_child (layout, 0, "i", &root_id);
  g_assert_cmpint (root_id, ==, 0);
  props = g_variant_get_child_value (layout, 1);
  g_assert_true (g_variant_lookup (props, "children-display", "&s", &display));
  g_assert_cmpstr (display, ==, "submenu");

  children = layout_children (layout);
  g_assert_cmpuint (children->len, ==, G_N_ELEMENTS (labels));
  for (guint i = 0; i < children->len; i++)
    {
      Child *child = &g_array_index (children, Child, i);
      const char *text = NULL;

      g_assert_cmpint (child->id, >, 0);
      if (labels[i] == NULL)
        {
          g_assert_true (g_variant_lookup (child->props, "type", "&s", &text));
          g_assert_cmpstr (text, ==, "separator");
        }
      else
        {
          gboolean enabled = FALSE;

          g_assert_true (g_variant_lookup (child->props, "label", "&s", &text));
          g_assert_cmpstr (text, ==, labels[i]);
          g_assert_true (g_variant_lookup (child->props, "enabled", "b", &enabled));
          g_assert_true (enabled);
        }
    }

  /* Depth 0: the root alone. */
  g_clear_pointer (&layout, g_variant_unref);
  layout = get_layout (fixture, 0, 0, &revision);
  g_clear_pointer (&children, children_free);
  children = layout_children (layout);
  g_assert_cmpuint (children->len, ==, 0);

  /* An item that does not exist is an error, not an empty menu. */
  g_assert_null (tray_call (fixture, "/MenuBar", MENU_INTERFACE, "GetLayout",
                            g_variant_new ("(ii@as)", 4242, -1,
                                           g_variant_new_strv (NULL, 0)),
                            "(u(ia{sv}av))", &error));
  g_assert_nonnull (error);
  remote_error = g_dbus_error_get_remote_error (error);
  g_assert_cmpstr (remote_error, ==,
                   "org.example.PopCheck.Tray.Error.UnknownItem");
}

static void
test_group_properties (Fixture       *fixture,
                       gconstpointer  user_data)
{
  const char *label_only[] = { "label", NULL };
  g_autoptr(GVariant) layout = NULL;
  g_autoptr(GArray_Children) children = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) items = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;
  int quit_id;
  int check_id;
  guint revision;
  const char *label;

  layout = get_layout (fixture, 0, -1, &revision);
  children = layout_children (layout);
  quit_id = find_child (children, "_Quit");
  check_id = find_child (children, "_Check Now");

  /* Asked ids, asked properties only; an unknown id is left out. */
  reply = tray_call (fixture, "/MenuBar", MENU_INTERFACE, "GetGroupProperties",
                     g_variant_new ("(@ai^as)",
                                    g_variant_new_fixed_array (G_VARIANT_TYPE_INT32,
                                                               (gint32[]) { quit_id, 4242, check_id },
                                                               3, sizeof (gint32)),
                                    label_only),
                     "(a(ia{sv}))", &error);
  g_assert_no_error (error);
  items = g_variant_get_child_value (reply, 0);
  g_assert_cmpuint (g_variant_n_children (items), ==, 2);
  {
    g_autoptr(GVariant) first = g_variant_get_child_value (items, 0);
    g_autoptr(GVariant) first_props = g_variant_get_child_value (first, 1);
    int id;

    g_variant_get_child (first, 0, "i", &id);
    g_assert_cmpint (id, ==, quit_id);
    g_assert_cmpuint (g_variant_n_children (first_props), ==, 1);
    g_assert_true (g_variant_lookup (first_props, "label", "&s", &label));
    g_assert_cmpstr (label, ==, "_Quit");
  }

  /* No ids: every item, the root too. */
  g_clear_pointer (&reply, g_variant_unref);
  g_clear_pointer (&items, g_variant_unref);
  reply = tray_call (fixture, "/MenuBar", MENU_INTERFACE, "GetGroupProperties",
                     g_variant_new ("(@ai@as)",
                                    g_variant_new_array (G_VARIANT_TYPE_INT32, NULL, 0),
                                    g_variant_new_strv (NULL, 0)),
                     "(a(ia{sv}))", &error);
  g_assert_no_error (error);
  items = g_variant_get_child_value (reply, 0);
  g_assert_cmpuint (g_variant_n_children (items), ==, children->len + 1);

  g_clear_pointer (&reply, g_variant_unref);
  reply = tray_call (fixture, "/MenuBar", MENU_INTERFACE, "GetProperty",
                     g_variant_new ("(is)", quit_id, "label"), "(v)", &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(v)", &value);
  g_assert_cmpstr (g_variant_get_string (value, NULL), ==, "_Quit");

  g_assert_null (tray_call (fixture, "/MenuBar", MENU_INTERFACE, "GetProperty",
                            g_variant_new ("(is)", quit_id, "no-such-thing"),
                            "(v)", &error));
  g_assert_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS);
  g_clear_error (&error);
  g_assert_null (tray_call (fixture, "/MenuBar", MENU_INTERFACE, "GetProperty",
                            g_variant_new ("(is)", 4242, "label"),
                            "(v)", &error));
  g_assert_nonnull (error);
}

/* Commands */

static void
assert_activated (Fixture    *fixture,
                  const char *expected)
{
  POPCHECK_TEST_WAIT_UNTIL (fixture->activated->len > 0, WAIT_MS);
  g_assert_cmpuint (fixture->activated->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (fixture->activated, 0), ==, expected);
  g_ptr_array_set_size (fixture->activated, 0);
}

static void
call_ok (Fixture    *fixture,
         const char *path,
         const char *interface_name,
         const char *method,
         GVariant   *parameters,
         const char *reply_type)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;

  reply = tray_call (fixture, path, interface_name, method, parameters,
                     reply_type, &error);
  g_assert_no_error (error);
}

/* Shows that what the tray was asked before activated nothing: the tray
 * handles one host's calls in order, so an Activate now must be the first
 * thing activated. */
static void
assert_nothing_activated (Fixture *fixture)
{
  g_assert_cmpuint (fixture->activated->len, ==, 0);
  call_ok (fixture, "/StatusNotifierItem", SNI_INTERFACE, "Activate",
           g_variant_new ("(ii)", 0, 0), "()");
  assert_activated (fixture, "toggle-window");
}

static void
click (Fixture *fixture,
       int      id)
{
  call_ok (fixture, "/MenuBar", MENU_INTERFACE, "Event",
           g_variant_new ("(isvu)", id, "clicked", g_variant_new_int32 (0), 0),
           "()");
}

static void
test_activate (Fixture       *fixture,
               gconstpointer  user_data)
{
  g_autoptr(GVariant) layout = NULL;
  g_autoptr(GArray_Children) children = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  GAction *check_now;
  guint revision;

  call_ok (fixture, "/StatusNotifierItem", SNI_INTERFACE, "Activate",
           g_variant_new ("(ii)", 10, 20), "()");
  assert_activated (fixture, "toggle-window");

  call_ok (fixture, "/StatusNotifierItem", SNI_INTERFACE, "SecondaryActivate",
           g_variant_new ("(ii)", 10, 20), "()");
  assert_activated (fixture, "check-now");

  /* Scroll and ContextMenu answer and do nothing. */
  call_ok (fixture, "/StatusNotifierItem", SNI_INTERFACE, "Scroll",
           g_variant_new ("(is)", 3, "vertical"), "()");
  call_ok (fixture, "/StatusNotifierItem", SNI_INTERFACE, "ContextMenu",
           g_variant_new ("(ii)", 10, 20), "()");
  assert_nothing_activated (fixture);

  layout = get_layout (fixture, 0, -1, &revision);
  children = layout_children (layout);

  click (fixture, find_child (children, "_Quit"));
  assert_activated (fixture, "quit");
  click (fixture, find_child (children, "_Preferences"));
  assert_activated (fixture, "preferences");
  click (fixture, find_child (children, "_Open PopCheck"));
  assert_activated (fixture, "show-window");
  click (fixture, find_child (children, "Home"));
  assert_activated (fixture, "show-message ('home', '')");
  click (fixture, find_child (children, "_Mark All as Seen"));
  assert_activated (fixture, "mark-all-seen");

  /* With nothing new the application disables it, and so does the menu. */
  {
    GAction *mark_all_seen = g_action_map_lookup_action (G_ACTION_MAP (fixture->actions),
                                                         "mark-all-seen");
    g_autoptr(GVariant) after = NULL;
    g_autoptr(GArray_Children) after_children = NULL;
    gboolean enabled = TRUE;
    guint after_revision;

    g_simple_action_set_enabled (G_SIMPLE_ACTION (mark_all_seen), FALSE);
    after = get_layout (fixture, 0, -1, &after_revision);
    after_children = layout_children (after);
    for (guint i = 0; i < after_children->len; i++)
      {
        Child *child = &g_array_index (after_children, Child, i);

        if (child->id == find_child (children, "_Mark All as Seen"))
          g_assert_true (g_variant_lookup (child->props, "enabled", "b", &enabled));
      }
    g_assert_false (enabled);
  }

  /* Only "clicked" does something. */
  call_ok (fixture, "/MenuBar", MENU_INTERFACE, "Event",
           g_variant_new ("(isvu)", find_child (children, "_Quit"), "hovered",
                          g_variant_new_int32 (0), 0), "()");
  assert_nothing_activated (fixture);

  g_assert_null (tray_call (fixture, "/MenuBar", MENU_INTERFACE, "Event",
                            g_variant_new ("(isvu)", 4242, "clicked",
                                           g_variant_new_int32 (0), 0),
                            "()", &error));
  g_assert_nonnull (error);
  g_clear_error (&error);

  /* EventGroup: the good event runs, the bad id comes back. */
  reply = tray_call (fixture, "/MenuBar", MENU_INTERFACE, "EventGroup",
                     g_variant_new_parsed ("([(%i, 'clicked', <0>, uint32 0),"
                                           "  (4242, 'clicked', <0>, uint32 0)],)",
                                           find_child (children, "_Check Now")),
                     "(ai)", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (printed (reply, FALSE), ==, "([4242],)");
  assert_activated (fixture, "check-now");
  g_clear_pointer (&reply, g_variant_unref);
  g_assert_null (tray_call (fixture, "/MenuBar", MENU_INTERFACE, "EventGroup",
                            g_variant_new_parsed ("([(4242, 'clicked', <0>, uint32 0)],)"),
                            "(ai)", &error));
  g_assert_nonnull (error);
  g_clear_error (&error);

  reply = tray_call (fixture, "/MenuBar", MENU_INTERFACE, "AboutToShow",
                     g_variant_new ("(i)", 0), "(b)", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (printed (reply, FALSE), ==, "(false,)");
  g_clear_pointer (&reply, g_variant_unref);
  reply = tray_call (fixture, "/MenuBar", MENU_INTERFACE, "AboutToShowGroup",
                     g_variant_new_parsed ("([0, 4242],)"), "(aiai)", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (printed (reply, FALSE), ==, "([], [4242])");

  /* A disabled action: the item says so, and a click does nothing. */
  check_now = g_action_map_lookup_action (G_ACTION_MAP (fixture->actions),
                                          "check-now");
  g_simple_action_set_enabled (G_SIMPLE_ACTION (check_now), FALSE);
  popcheck_test_signals_wait (fixture->signals,
                              MENU_INTERFACE ".ItemsPropertiesUpdated", 1);
  {
    GVariant *last = NULL;

    popcheck_test_signals_count (fixture->signals,
                                 MENU_INTERFACE ".ItemsPropertiesUpdated",
                                 &last);
    g_assert_nonnull (strstr (printed (last, FALSE), "'enabled': <false>"));
  }
  click (fixture, find_child (children, "_Check Now"));
  assert_nothing_activated (fixture);
}

/* Changes */

static void
test_new_mail (Fixture       *fixture,
               gconstpointer  user_data)
{
  g_autoptr(GPtrArray) new_messages = NULL;
  g_autoptr(GVariant) props = NULL;
  g_autoptr(GVariant) tool_tip = NULL;
  g_autoptr(GError) error = NULL;
  GVariant *last = NULL;
  const char *tip_title;
  const char *tip_body;
  gint64 count = -1;
  gboolean visible = FALSE;

  /* A check finds one new message at Work. */
  new_messages = popcheck_test_mailbox_sync (fixture->work,
                                             (const char *[]) { "w1", "w2", "w3", NULL });
  g_assert_cmpuint (new_messages->len, ==, 1);

  popcheck_test_signals_wait (fixture->signals, SNI_INTERFACE ".NewStatus", 1);
  popcheck_test_signals_wait (fixture->signals, SNI_INTERFACE ".NewIcon", 1);
  popcheck_test_signals_wait (fixture->signals, SNI_INTERFACE ".NewToolTip", 1);
  popcheck_test_signals_wait (fixture->signals, LAUNCHER_INTERFACE ".Update", 1);
  popcheck_test_signals_wait (fixture->signals,
                              MENU_INTERFACE ".ItemsPropertiesUpdated", 1);

  popcheck_test_signals_count (fixture->signals, SNI_INTERFACE ".NewStatus", &last);
  g_assert_cmpstr (printed (last, FALSE), ==, "('NeedsAttention',)");

  popcheck_test_signals_count (fixture->signals, LAUNCHER_INTERFACE ".Update", &last);
  {
    g_autoptr(GVariant) launcher_props = g_variant_get_child_value (last, 1);
    const char *uri;

    g_variant_get_child (last, 0, "&s", &uri);
    g_assert_cmpstr (uri, ==, "application://org.example.PopCheck.desktop");
    g_assert_true (g_variant_lookup (launcher_props, "count", "x", &count));
    g_assert_true (g_variant_lookup (launcher_props, "count-visible", "b", &visible));
    g_assert_cmpint (count, ==, 1);
    g_assert_true (visible);
  }

  /* Coalesced: one check, one of each.  The tray publishes what is
   * pending before it answers a menu call, and its signals reach us before
   * its reply. */
  call_ok (fixture, "/MenuBar", MENU_INTERFACE, "AboutToShow",
           g_variant_new ("(i)", 0), "(b)");
  g_assert_cmpuint (popcheck_test_signals_count (fixture->signals,
                                                 SNI_INTERFACE ".NewStatus", NULL), ==, 1);
  g_assert_cmpuint (popcheck_test_signals_count (fixture->signals,
                                                 SNI_INTERFACE ".NewToolTip", NULL), ==, 1);

  props = get_all (fixture, "/StatusNotifierItem", SNI_INTERFACE);
  g_assert_cmpstr (lookup_string (props, "Status"), ==, "NeedsAttention");
  g_assert_cmpstr (lookup_string (props, "IconName"), ==, "mail-unread-symbolic");
  tool_tip = g_variant_lookup_value (props, "ToolTip", NULL);
  g_variant_get (tool_tip, "(&sa(iiay)&s&s)", NULL, NULL, &tip_title, &tip_body);
  g_assert_cmpstr (tip_title, ==, "PopCheck: 1 new message");
  g_assert_cmpstr (tip_body, ==,
                   "Work &amp; Co_op: 1 new of 3\nHome: 1 message");

  /* A dock that starts now asks. */
  {
    g_autoptr(GVariant) reply = NULL;

    reply = tray_call (fixture, LAUNCHER_PATH, LAUNCHER_INTERFACE, "Query",
                       NULL, "(sa{sv})", &error);
    g_assert_no_error (error);
    g_assert_cmpstr (printed (reply, FALSE), ==,
                     "('application://org.example.PopCheck.desktop', "
                     "{'count': <int64 1>, 'count-visible': <true>})");
  }

  /* The user looked: back to normal, badge hidden. */
  popcheck_test_signals_clear (fixture->signals);
  popcheck_mailbox_mark_all_seen (fixture->work);
  popcheck_test_signals_wait (fixture->signals, SNI_INTERFACE ".NewStatus", 1);
  popcheck_test_signals_wait (fixture->signals, LAUNCHER_INTERFACE ".Update", 1);
  popcheck_test_signals_count (fixture->signals, SNI_INTERFACE ".NewStatus", &last);
  g_assert_cmpstr (printed (last, FALSE), ==, "('Active',)");
  popcheck_test_signals_count (fixture->signals, LAUNCHER_INTERFACE ".Update", &last);
  g_assert_cmpstr (printed (last, FALSE), ==,
                   "('application://org.example.PopCheck.desktop', "
                   "{'count': <int64 0>, 'count-visible': <false>})");
  g_assert_cmpuint (popcheck_tray_get_n_new (fixture->tray), ==, 0);
}

/* A spinner in the window on a busy machine keeps a frame always due, at
 * GTK's redraw priority, and the main loop is never idle.  The tray shows
 * the new mail all the same. */
static void
test_new_mail_while_busy (Fixture       *fixture,
                          gconstpointer  user_data)
{
  g_autoptr(GPtrArray) new_messages = NULL;
  GVariant *last = NULL;
  guint busy;

  busy = popcheck_test_busy_frames_add (NULL);
  new_messages = popcheck_test_mailbox_sync (fixture->work,
                                             (const char *[]) { "w1", "w2", "w3", NULL });
  g_assert_cmpuint (new_messages->len, ==, 1);

  popcheck_test_signals_wait (fixture->signals, SNI_INTERFACE ".NewStatus", 1);
  g_source_remove (busy);

  popcheck_test_signals_count (fixture->signals, SNI_INTERFACE ".NewStatus", &last);
  g_assert_cmpstr (printed (last, FALSE), ==, "('NeedsAttention',)");
  g_assert_cmpuint (popcheck_tray_get_n_new (fixture->tray), ==, 1);
}

static void
test_error_state (Fixture       *fixture,
                  gconstpointer  user_data)
{
  g_autoptr(GVariant) props = NULL;
  g_autoptr(GVariant) tool_tip = NULL;
  GVariant *last = NULL;
  const char *tip_body;

  /* A temporary failure: a warning icon, but nothing demands attention. */
  popcheck_mailbox_set_state (fixture->home, POPCHECK_MAILBOX_STATE_ERROR,
                              POPCHECK_PROBLEM_TEMPORARY, "Timed out");
  popcheck_test_signals_wait (fixture->signals, SNI_INTERFACE ".NewIcon", 1);
  props = get_all (fixture, "/StatusNotifierItem", SNI_INTERFACE);
  g_assert_cmpstr (lookup_string (props, "IconName"), ==, "dialog-warning-symbolic");
  g_assert_cmpstr (lookup_string (props, "Status"), ==, "Active");
  g_assert_cmpuint (popcheck_test_signals_count (fixture->signals,
                                                 SNI_INTERFACE ".NewStatus", NULL), ==, 0);

  /* A rejected password needs the user. */
  popcheck_mailbox_set_state (fixture->home, POPCHECK_MAILBOX_STATE_ERROR,
                              POPCHECK_PROBLEM_AUTH, "The server refused the password <for you>");
  popcheck_test_signals_wait (fixture->signals, SNI_INTERFACE ".NewStatus", 1);
  popcheck_test_signals_count (fixture->signals, SNI_INTERFACE ".NewStatus", &last);
  g_assert_cmpstr (printed (last, FALSE), ==, "('NeedsAttention',)");
  popcheck_test_signals_wait (fixture->signals, SNI_INTERFACE ".NewAttentionIcon", 1);

  g_clear_pointer (&props, g_variant_unref);
  props = get_all (fixture, "/StatusNotifierItem", SNI_INTERFACE);
  g_assert_cmpstr (lookup_string (props, "AttentionIconName"), ==,
                   "dialog-warning-symbolic");
  tool_tip = g_variant_lookup_value (props, "ToolTip", NULL);
  g_variant_get (tool_tip, "(&sa(iiay)&s&s)", NULL, NULL, NULL, &tip_body);
  g_assert_cmpstr (tip_body, ==,
                   "Work &amp; Co_op: 2 messages\n"
                   "Home: The server refused the password &lt;for you&gt;");
}

static void
test_accounts_change (Fixture       *fixture,
                      gconstpointer  user_data)
{
  g_autoptr(PopcheckMailbox) extra = popcheck_mailbox_new ("extra");
  g_autoptr(GVariant) layout = NULL;
  g_autoptr(GArray_Children) children = NULL;
  GVariant *last = NULL;
  guint revision;
  guint new_revision;
  int home_id;
  int extra_id;

  layout = get_layout (fixture, 0, -1, &revision);
  children = layout_children (layout);
  home_id = find_child (children, "Home");

  popcheck_mailbox_set_display_name (extra, "Extra");
  g_list_store_append (fixture->mailboxes, extra);
  popcheck_test_signals_wait (fixture->signals, MENU_INTERFACE ".LayoutUpdated", 1);
  popcheck_test_signals_count (fixture->signals, MENU_INTERFACE ".LayoutUpdated", &last);
  g_variant_get (last, "(ui)", &new_revision, NULL);
  g_assert_cmpuint (new_revision, >, revision);

  g_clear_pointer (&layout, g_variant_unref);
  g_clear_pointer (&children, children_free);
  layout = get_layout (fixture, 0, -1, &revision);
  g_assert_cmpuint (revision, ==, new_revision);
  children = layout_children (layout);
  g_assert_cmpuint (children->len, ==, 10);
  /* Ids of items that stay do not change. */
  g_assert_cmpint (find_child (children, "Home"), ==, home_id);
  extra_id = find_child (children, "Extra");
  g_assert_cmpint (extra_id, !=, home_id);

  /* Without accounts: no account lines, no second separator. */
  g_list_store_remove_all (fixture->mailboxes);
  popcheck_test_signals_wait (fixture->signals, MENU_INTERFACE ".LayoutUpdated", 2);
  g_clear_pointer (&layout, g_variant_unref);
  g_clear_pointer (&children, children_free);
  layout = get_layout (fixture, 0, -1, &revision);
  children = layout_children (layout);
  g_assert_cmpuint (children->len, ==, 6);
}

/* A watcher with no panel to show items (a stock GNOME session with
 * only a watcher running, or a panel that ended) is no tray either. */
static void
test_host (Fixture       *fixture,
           gconstpointer  user_data)
{
  POPCHECK_TEST_WAIT_UNTIL (popcheck_tray_get_host_known (fixture->tray), WAIT_MS);
  POPCHECK_TEST_WAIT_UNTIL (popcheck_tray_get_has_host (fixture->tray), WAIT_MS);

  fake_watcher_set_host (fixture->watcher, FALSE);
  POPCHECK_TEST_WAIT_UNTIL (!popcheck_tray_get_has_host (fixture->tray), WAIT_MS);
  g_assert_true (popcheck_tray_get_host_known (fixture->tray));

  fake_watcher_set_host (fixture->watcher, TRUE);
  POPCHECK_TEST_WAIT_UNTIL (popcheck_tray_get_has_host (fixture->tray), WAIT_MS);

  /* The watcher itself goes: no tray. */
  g_clear_pointer (&fixture->watcher, fake_watcher_stop);
  POPCHECK_TEST_WAIT_UNTIL (!popcheck_tray_get_has_host (fixture->tray), WAIT_MS);
}

/* A watcher that starts without a panel: the tray learns it at
 * registration, not only from a later signal. */
static void
test_host_absent_at_start (Fixture       *fixture,
                           gconstpointer  user_data)
{
  g_autofree char *bus_name = g_strdup (popcheck_tray_get_bus_name (fixture->tray));

  fixture->watcher->host_registered = FALSE;
  g_clear_object (&fixture->tray);
  popcheck_test_wait_for_owner (fixture->host, bus_name, FALSE);
  g_clear_pointer (&fixture->signals, popcheck_test_signals_free);
  g_clear_pointer (&fixture->tray_owner, g_free);
  start_tray (fixture);

  POPCHECK_TEST_WAIT_UNTIL (popcheck_tray_get_registered (fixture->tray), WAIT_MS);
  POPCHECK_TEST_WAIT_UNTIL (popcheck_tray_get_host_known (fixture->tray), WAIT_MS);
  g_assert_false (popcheck_tray_get_has_host (fixture->tray));
}

/* The icon: symbolic names, and a full-colour picture for hosts that
 * cannot find them or draw them dark on a dark panel. */
static void
test_icon_pixmap (Fixture       *fixture,
                  gconstpointer  user_data)
{
  static const char *names[] = { "IconPixmap", "AttentionIconPixmap" };
  g_autoptr(GVariant) props = get_all (fixture, "/StatusNotifierItem", SNI_INTERFACE);

  g_assert_true (g_str_has_suffix (lookup_string (props, "IconName"), "-symbolic"));

  for (guint n = 0; n < G_N_ELEMENTS (names); n++)
    {
      g_autoptr(GVariant) pixmaps = g_variant_lookup_value (props, names[n],
                                                            G_VARIANT_TYPE ("a(iiay)"));
      gboolean sized_22 = FALSE;

      g_assert_nonnull (pixmaps);
      g_assert_cmpuint (g_variant_n_children (pixmaps), >, 0);

      for (gsize i = 0; i < g_variant_n_children (pixmaps); i++)
        {
          g_autoptr(GVariant) data = NULL;
          const guint8 *argb;
          gsize length;
          gboolean coloured = FALSE;
          int width, height;

          g_variant_get_child (pixmaps, i, "(ii@ay)", &width, &height, &data);
          argb = g_variant_get_fixed_array (data, &length, 1);
          g_assert_cmpint (width, >, 0);
          g_assert_cmpint (height, ==, width);
          g_assert_cmpuint (length, ==, (gsize) width * height * 4);
          if (width == 22)
            sized_22 = TRUE;

          /* ARGB, alpha first: opaque pixels of real colour (the
           * envelope's blue, the badge's green), and a transparent
           * corner. */
          for (gsize p = 0; p < length; p += 4)
            {
              guint8 r = argb[p + 1], g = argb[p + 2], b = argb[p + 3];

              if (argb[p] == 255 && MAX (r, MAX (g, b)) - MIN (r, MIN (g, b)) > 64)
                coloured = TRUE;
            }
          g_assert_true (coloured);
          g_assert_cmpuint (argb[0], ==, 0);
        }

      /* The size panels use most. */
      g_assert_true (sized_22);
    }
}

/* The mute, on a clock the test moves. */
static gint64 fake_now;

static gint64
fake_clock (gpointer user_data)
{
  return fake_now;
}

static Child *
child_labelled (GArray     *children,
                const char *label)
{
  for (guint i = 0; i < children->len; i++)
    {
      Child *child = &g_array_index (children, Child, i);
      const char *child_label = NULL;

      if (g_variant_lookup (child->props, "label", "&s", &child_label) &&
          g_str_equal (child_label, label))
        return child;
    }

  return NULL;
}

static gboolean
item_enabled (Child *child)
{
  gboolean enabled = TRUE;

  g_variant_lookup (child->props, "enabled", "b", &enabled);
  return enabled;
}

/* The menu's children now, freed when the test ends. */
static GArray *
menu_now (Fixture *fixture)
{
  g_autoptr(GVariant) layout = NULL;
  GArray *children;
  guint revision;

  layout = get_layout (fixture, 0, -1, &revision);
  children = layout_children (layout);
  g_test_queue_destroy ((GDestroyNotify) children_free, children);
  return children;
}

static void
test_mute (Fixture       *fixture,
           gconstpointer  user_data)
{
  g_autoptr(PopcheckMute) mute = popcheck_mute_new ();
  GArray *children;
  Child *item;

  /* 10:00 UTC (the test's time zone), 2 March 2026. */
  fake_now = 1772445600;
  popcheck_mute_set_clock (mute, fake_clock, NULL);
  popcheck_tray_set_mute (fixture->tray, mute);
  popcheck_test_signals_wait (fixture->signals, MENU_INTERFACE ".LayoutUpdated", 1);

  children = menu_now (fixture);
  item = child_labelled (children, "M_ute for 1 Hour");
  g_assert_nonnull (item);
  g_assert_true (item_enabled (item));
  g_assert_null (child_labelled (children, "_Unmute"));
  click (fixture, item->id);
  assert_activated (fixture, "mute");

  /* The application's "mute" does this: the menu says until when. */
  popcheck_mute_mute_for (mute, 60 * 60);
  popcheck_test_signals_wait (fixture->signals, MENU_INTERFACE ".LayoutUpdated", 2);
  children = menu_now (fixture);
  g_assert_null (child_labelled (children, "M_ute for 1 Hour"));
  item = child_labelled (children, "Muted until 11:00");
  g_assert_nonnull (item);
  g_assert_false (item_enabled (item));
  /* Only words: clicking it does nothing. */
  click (fixture, item->id);
  item = child_labelled (children, "_Unmute");
  g_assert_nonnull (item);
  g_assert_true (item_enabled (item));
  click (fixture, item->id);
  assert_activated (fixture, "unmute");

  /* Unmuted: Mute again. */
  popcheck_mute_unmute (mute);
  popcheck_test_signals_wait (fixture->signals, MENU_INTERFACE ".LayoutUpdated", 3);
  children = menu_now (fixture);
  g_assert_nonnull (child_labelled (children, "M_ute for 1 Hour"));
  g_assert_null (child_labelled (children, "_Unmute"));

  /* Muted again, and the hour passes. */
  popcheck_mute_mute_for (mute, 60 * 60);
  popcheck_test_signals_wait (fixture->signals, MENU_INTERFACE ".LayoutUpdated", 4);
  g_assert_nonnull (child_labelled (menu_now (fixture), "Muted until 11:00"));
  fake_now += 60 * 60;
  popcheck_mute_refresh (mute);
  popcheck_test_signals_wait (fixture->signals, MENU_INTERFACE ".LayoutUpdated", 5);
  children = menu_now (fixture);
  g_assert_nonnull (child_labelled (children, "M_ute for 1 Hour"));
  g_assert_null (child_labelled (children, "Muted until 11:00"));
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GTestDBus) bus = NULL;
  int ret;

  /* "Muted until 11:00" is in local time. */
  g_setenv ("TZ", "UTC", TRUE);
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  /* One private session bus for the whole program: GDBus keeps the
   * session connection for the life of the process. */
  bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_test_dbus_up (bus);

#define ADD(path, func, with_watcher) \
  g_test_add (path, Fixture, GINT_TO_POINTER (with_watcher), \
              fixture_set_up, func, fixture_tear_down)

  ADD ("/tray/registration", test_registration, TRUE);
  ADD ("/tray/watcher-restart", test_watcher_restart, TRUE);
  ADD ("/tray/no-watcher", test_no_watcher, FALSE);
  ADD ("/tray/properties", test_properties, TRUE);
  ADD ("/tray/layout", test_layout, TRUE);
  ADD ("/tray/group-properties", test_group_properties, TRUE);
  ADD ("/tray/activate", test_activate, TRUE);
  ADD ("/tray/new-mail", test_new_mail, TRUE);
  ADD ("/tray/new-mail-while-busy", test_new_mail_while_busy, TRUE);
  ADD ("/tray/error-state", test_error_state, TRUE);
  ADD ("/tray/accounts-change", test_accounts_change, TRUE);
  ADD ("/tray/host", test_host, TRUE);
  ADD ("/tray/host-absent-at-start", test_host_absent_at_start, TRUE);
  ADD ("/tray/icon-pixmap", test_icon_pixmap, TRUE);
  ADD ("/tray/mute", test_mute, TRUE);

#undef ADD

  ret = g_test_run ();
  g_test_dbus_down (bus);

  /* LeakSanitizer checks at exit: with no worker thread left. */
  popcheck_test_quiesce_threads ();

  return ret;
}
