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
 * debug: the notifications and the window do the job there.
 *
 * What hosts expect, as ksni learned it: the menu's root item is id 0;
 * item ids stay the same while the layout does; a changed layout bumps the
 * revision and emits LayoutUpdated (revision, 0); changed labels are sent
 * with ItemsPropertiesUpdated; AboutToShow may answer "no update needed"
 * when the menu is always kept current, as it is here.
 */

#define G_LOG_DOMAIN "popcheck-tray"

#include "config.h"

#include <glib/gi18n.h>
#include <unistd.h>

#include "popcheck-mailbox.h"
#include "popcheck-tray.h"

#define SNI_INTERFACE "org.kde.StatusNotifierItem"
#define SNI_PATH "/StatusNotifierItem"
#define WATCHER_NAME "org.kde.StatusNotifierWatcher"
#define WATCHER_PATH "/StatusNotifierWatcher"
#define MENU_INTERFACE "com.canonical.dbusmenu"
#define MENU_PATH "/MenuBar"
#define LAUNCHER_INTERFACE "com.canonical.Unity.LauncherEntry"
#define LAUNCHER_PATH "/org/example/PopCheck/LauncherEntry"
#define LAUNCHER_APP_URI "application://" APPLICATION_ID ".desktop"

#define ICON_NO_MAIL "mail-read-symbolic"
#define ICON_NEW_MAIL "mail-unread-symbolic"
#define ICON_ERROR "dialog-warning-symbolic"

/* Fixed menu item ids; accounts get ids from ACCOUNT_ID_FIRST on, kept for
 * as long as the account exists. */
enum {
  ITEM_ROOT = 0,
  ITEM_CHECK_NOW,
  ITEM_OPEN,
  ITEM_SEPARATOR_TOP,
  ITEM_SEPARATOR_ACCOUNTS,
  ITEM_PREFERENCES,
  ITEM_QUIT,
  ACCOUNT_ID_FIRST = 100,
};

static const char introspection_xml[] =
  "<node>"
  "  <interface name='org.kde.StatusNotifierItem'>"
  "    <property name='Category' type='s' access='read'/>"
  "    <property name='Id' type='s' access='read'/>"
  "    <property name='Title' type='s' access='read'/>"
  "    <property name='Status' type='s' access='read'/>"
  "    <property name='WindowId' type='i' access='read'/>"
  "    <property name='IconThemePath' type='s' access='read'/>"
  "    <property name='IconName' type='s' access='read'/>"
  "    <property name='IconPixmap' type='a(iiay)' access='read'/>"
  "    <property name='OverlayIconName' type='s' access='read'/>"
  "    <property name='OverlayIconPixmap' type='a(iiay)' access='read'/>"
  "    <property name='AttentionIconName' type='s' access='read'/>"
  "    <property name='AttentionIconPixmap' type='a(iiay)' access='read'/>"
  "    <property name='AttentionMovieName' type='s' access='read'/>"
  "    <property name='ToolTip' type='(sa(iiay)ss)' access='read'/>"
  "    <property name='ItemIsMenu' type='b' access='read'/>"
  "    <property name='Menu' type='o' access='read'/>"
  "    <method name='ContextMenu'>"
  "      <arg name='x' type='i' direction='in'/>"
  "      <arg name='y' type='i' direction='in'/>"
  "    </method>"
  "    <method name='Activate'>"
  "      <arg name='x' type='i' direction='in'/>"
  "      <arg name='y' type='i' direction='in'/>"
  "    </method>"
  "    <method name='SecondaryActivate'>"
  "      <arg name='x' type='i' direction='in'/>"
  "      <arg name='y' type='i' direction='in'/>"
  "    </method>"
  "    <method name='Scroll'>"
  "      <arg name='delta' type='i' direction='in'/>"
  "      <arg name='orientation' type='s' direction='in'/>"
  "    </method>"
  "    <signal name='NewTitle'/>"
  "    <signal name='NewIcon'/>"
  "    <signal name='NewAttentionIcon'/>"
  "    <signal name='NewOverlayIcon'/>"
  "    <signal name='NewToolTip'/>"
  "    <signal name='NewStatus'>"
  "      <arg name='status' type='s'/>"
  "    </signal>"
  "  </interface>"
  /* As in libdbusmenu's dbus-menu.xml. */
  "  <interface name='com.canonical.dbusmenu'>"
  "    <property name='Version' type='u' access='read'/>"
  "    <property name='TextDirection' type='s' access='read'/>"
  "    <property name='Status' type='s' access='read'/>"
  "    <property name='IconThemePath' type='as' access='read'/>"
  "    <method name='GetLayout'>"
  "      <arg name='parentId' type='i' direction='in'/>"
  "      <arg name='recursionDepth' type='i' direction='in'/>"
  "      <arg name='propertyNames' type='as' direction='in'/>"
  "      <arg name='revision' type='u' direction='out'/>"
  "      <arg name='layout' type='(ia{sv}av)' direction='out'/>"
  "    </method>"
  "    <method name='GetGroupProperties'>"
  "      <arg name='ids' type='ai' direction='in'/>"
  "      <arg name='propertyNames' type='as' direction='in'/>"
  "      <arg name='properties' type='a(ia{sv})' direction='out'/>"
  "    </method>"
  "    <method name='GetProperty'>"
  "      <arg name='id' type='i' direction='in'/>"
  "      <arg name='name' type='s' direction='in'/>"
  "      <arg name='value' type='v' direction='out'/>"
  "    </method>"
  "    <method name='Event'>"
  "      <arg name='id' type='i' direction='in'/>"
  "      <arg name='eventId' type='s' direction='in'/>"
  "      <arg name='data' type='v' direction='in'/>"
  "      <arg name='timestamp' type='u' direction='in'/>"
  "    </method>"
  "    <method name='EventGroup'>"
  "      <arg name='events' type='a(isvu)' direction='in'/>"
  "      <arg name='idErrors' type='ai' direction='out'/>"
  "    </method>"
  "    <method name='AboutToShow'>"
  "      <arg name='id' type='i' direction='in'/>"
  "      <arg name='needUpdate' type='b' direction='out'/>"
  "    </method>"
  "    <method name='AboutToShowGroup'>"
  "      <arg name='ids' type='ai' direction='in'/>"
  "      <arg name='updatesNeeded' type='ai' direction='out'/>"
  "      <arg name='idErrors' type='ai' direction='out'/>"
  "    </method>"
  "    <signal name='ItemsPropertiesUpdated'>"
  "      <arg name='updatedProps' type='a(ia{sv})'/>"
  "      <arg name='removedProps' type='a(ias)'/>"
  "    </signal>"
  "    <signal name='LayoutUpdated'>"
  "      <arg name='revision' type='u'/>"
  "      <arg name='parent' type='i'/>"
  "    </signal>"
  "    <signal name='ItemActivationRequested'>"
  "      <arg name='id' type='i'/>"
  "      <arg name='timestamp' type='u'/>"
  "    </signal>"
  "  </interface>"
  "  <interface name='com.canonical.Unity.LauncherEntry'>"
  "    <method name='Query'>"
  "      <arg name='app_uri' type='s' direction='out'/>"
  "      <arg name='properties' type='a{sv}' direction='out'/>"
  "    </method>"
  "    <signal name='Update'>"
  "      <arg name='app_uri' type='s'/>"
  "      <arg name='properties' type='a{sv}'/>"
  "    </signal>"
  "  </interface>"
  "</node>";

typedef struct
{
  int       id;
  char     *action;
  GVariant *target;
  GVariant *props;    /* a{sv} */
} MenuItem;

struct _PopcheckTray
{
  GObject          parent_instance;

  GActionGroup    *actions;
  GListModel      *mailboxes;
  GPtrArray       *watched;          /* the mailboxes we listen to */

  char            *bus_name;
  GDBusConnection *connection;
  GCancellable    *cancellable;
  guint            own_id;
  guint            watch_id;
  guint            sni_id;
  guint            menu_id;
  guint            launcher_id;
  guint            update_id;

  /* What the item shows, as last published. */
  char            *status;
  char            *icon_name;
  char            *attention_icon_name;
  char            *title;
  GVariant        *tool_tip;
  guint            n_new;

  /* The menu: items in order, the root first. */
  GPtrArray       *items;
  guint            revision;
  GHashTable      *account_item_ids; /* account id → item id */
  int              next_account_item_id;

  guint            registered : 1;
};

G_DEFINE_FINAL_TYPE (PopcheckTray, popcheck_tray, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ACTIONS,
  PROP_MAILBOXES,
  PROP_BUS_NAME,
  PROP_REGISTERED,
  PROP_N_NEW,
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

static GDBusInterfaceInfo *
interface_info (const char *name)
{
  static GDBusNodeInfo *info;

  if (g_once_init_enter (&info))
    {
      g_autoptr(GError) error = NULL;
      GDBusNodeInfo *parsed = g_dbus_node_info_new_for_xml (introspection_xml,
                                                            &error);

      /* The XML is ours and constant. */
      g_assert_no_error (error);
      g_once_init_leave (&info, parsed);
    }

  return g_dbus_node_info_lookup_interface (info, name);
}

/* Menu items */

static void
menu_item_free (MenuItem *item)
{
  g_free (item->action);
  g_clear_pointer (&item->target, g_variant_unref);
  g_clear_pointer (&item->props, g_variant_unref);
  g_free (item);
}

static MenuItem *
menu_item_new (int         id,
               const char *action,
               GVariant   *target,
               GVariant   *props)
{
  MenuItem *item = g_new0 (MenuItem, 1);

  item->id = id;
  item->action = g_strdup (action);
  item->target = target != NULL ? g_variant_ref_sink (target) : NULL;
  item->props = g_variant_ref_sink (props);
  return item;
}

static gboolean
action_available (PopcheckTray *self,
                  const char   *action)
{
  return self->actions != NULL &&
         g_action_group_has_action (self->actions, action) &&
         g_action_group_get_action_enabled (self->actions, action);
}

static GVariant *
action_item_props (PopcheckTray *self,
                   const char   *label,
                   const char   *icon_name,
                   const char   *action)
{
  g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);

  g_variant_dict_insert (&dict, "label", "s", label);
  if (icon_name != NULL)
    g_variant_dict_insert (&dict, "icon-name", "s", icon_name);
  g_variant_dict_insert (&dict, "enabled", "b",
                         action_available (self, action));
  return g_variant_dict_end (&dict);
}

static GVariant *
separator_props (void)
{
  g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);

  g_variant_dict_insert (&dict, "type", "s", "separator");
  return g_variant_dict_end (&dict);
}

/* dbusmenu labels take "_" as the mnemonic mark. */
static char *
escape_mnemonics (const char *text)
{
  GString *escaped = g_string_new (text);

  g_string_replace (escaped, "_", "__", 0);
  return g_string_free (escaped, FALSE);
}

static char *
describe_mailbox (PopcheckMailbox *mailbox)
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

static int
account_item_id (PopcheckTray *self,
                 const char   *account_id)
{
  gpointer id;

  if (!g_hash_table_lookup_extended (self->account_item_ids, account_id,
                                     NULL, &id))
    {
      id = GINT_TO_POINTER (self->next_account_item_id++);
      g_hash_table_insert (self->account_item_ids, g_strdup (account_id), id);
    }

  return GPOINTER_TO_INT (id);
}

static GPtrArray *
build_menu (PopcheckTray *self)
{
  GPtrArray *items = g_ptr_array_new_with_free_func ((GDestroyNotify) menu_item_free);
  guint n_mailboxes = self->mailboxes != NULL ?
                      g_list_model_get_n_items (self->mailboxes) : 0;
  g_auto(GVariantDict) root = G_VARIANT_DICT_INIT (NULL);

  g_variant_dict_insert (&root, "children-display", "s", "submenu");
  g_ptr_array_add (items, menu_item_new (ITEM_ROOT, NULL, NULL,
                                         g_variant_dict_end (&root)));

  g_ptr_array_add (items,
                   menu_item_new (ITEM_CHECK_NOW, "check-now", NULL,
                                  action_item_props (self, _("_Check Now"),
                                                     "view-refresh-symbolic",
                                                     "check-now")));
  g_ptr_array_add (items,
                   menu_item_new (ITEM_OPEN, "show-window", NULL,
                                  action_item_props (self, _("_Open PopCheck"),
                                                     NULL, "show-window")));
  g_ptr_array_add (items, menu_item_new (ITEM_SEPARATOR_TOP, NULL, NULL,
                                         separator_props ()));

  for (guint i = 0; i < n_mailboxes; i++)
    {
      g_autoptr(PopcheckMailbox) mailbox = g_list_model_get_item (self->mailboxes, i);
      const char *account_id = popcheck_mailbox_get_account_id (mailbox);
      const char *name = popcheck_mailbox_get_display_name (mailbox);
      g_autofree char *escaped = NULL;
      g_autofree char *state = describe_mailbox (mailbox);
      g_autofree char *label = NULL;

      if (name == NULL || *name == '\0')
        name = account_id;
      escaped = escape_mnemonics (name);
      /* Translators: an account line in the tray menu: name, state */
      label = g_strdup_printf (_("%s — %s"), escaped, state);

      g_ptr_array_add (items,
                       menu_item_new (account_item_id (self, account_id),
                                      "show-message",
                                      g_variant_new ("(ss)", account_id, ""),
                                      action_item_props (self, label, NULL,
                                                         "show-message")));
    }

  if (n_mailboxes > 0)
    g_ptr_array_add (items, menu_item_new (ITEM_SEPARATOR_ACCOUNTS, NULL, NULL,
                                           separator_props ()));

  g_ptr_array_add (items,
                   menu_item_new (ITEM_PREFERENCES, "preferences", NULL,
                                  action_item_props (self, _("_Preferences"),
                                                     NULL, "preferences")));
  g_ptr_array_add (items,
                   menu_item_new (ITEM_QUIT, "quit", NULL,
                                  action_item_props (self, _("_Quit"),
                                                     "application-exit-symbolic",
                                                     "quit")));

  return items;
}

static MenuItem *
find_item (PopcheckTray *self,
           int           id)
{
  for (guint i = 0; i < self->items->len; i++)
    {
      MenuItem *item = g_ptr_array_index (self->items, i);

      if (item->id == id)
        return item;
    }

  return NULL;
}

static gboolean
same_layout (GPtrArray *a,
             GPtrArray *b)
{
  if (a->len != b->len)
    return FALSE;

  for (guint i = 0; i < a->len; i++)
    {
      MenuItem *item_a = g_ptr_array_index (a, i);
      MenuItem *item_b = g_ptr_array_index (b, i);

      if (item_a->id != item_b->id)
        return FALSE;
    }

  return TRUE;
}

/* The keys of old_props that new_props lacks. */
static GVariant *
removed_keys (GVariant *old_props,
              GVariant *new_props)
{
  GVariantBuilder builder;
  GVariantIter iter;
  const char *key;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_STRING_ARRAY);
  g_variant_iter_init (&iter, old_props);
  while (g_variant_iter_next (&iter, "{&sv}", &key, NULL))
    {
      g_autoptr(GVariant) value = g_variant_lookup_value (new_props, key, NULL);

      if (value == NULL)
        g_variant_builder_add (&builder, "s", key);
    }

  return g_variant_builder_end (&builder);
}

static void
update_menu (PopcheckTray *self)
{
  g_autoptr(GPtrArray) items = build_menu (self);
  g_autoptr(GPtrArray) old_items = NULL;

  if (same_layout (self->items, items))
    {
      GVariantBuilder updated;
      GVariantBuilder removed;
      gboolean changed = FALSE;

      g_variant_builder_init (&updated, G_VARIANT_TYPE ("a(ia{sv})"));
      g_variant_builder_init (&removed, G_VARIANT_TYPE ("a(ias)"));

      for (guint i = 0; i < items->len; i++)
        {
          MenuItem *old_item = g_ptr_array_index (self->items, i);
          MenuItem *new_item = g_ptr_array_index (items, i);
          g_autoptr(GVariant) gone = NULL;

          if (g_variant_equal (old_item->props, new_item->props))
            continue;

          changed = TRUE;
          g_variant_builder_add (&updated, "(i@a{sv})", new_item->id,
                                 new_item->props);
          gone = g_variant_ref_sink (removed_keys (old_item->props,
                                                   new_item->props));
          if (g_variant_n_children (gone) > 0)
            g_variant_builder_add (&removed, "(i@as)", new_item->id, gone);
        }

      if (changed && self->menu_id != 0)
        g_dbus_connection_emit_signal (self->connection, NULL, MENU_PATH,
                                       MENU_INTERFACE,
                                       "ItemsPropertiesUpdated",
                                       g_variant_new ("(a(ia{sv})a(ias))",
                                                      &updated, &removed),
                                       NULL);
      else
        {
          g_variant_builder_clear (&updated);
          g_variant_builder_clear (&removed);
        }
    }
  else
    {
      self->revision++;
      if (self->menu_id != 0)
        g_dbus_connection_emit_signal (self->connection, NULL, MENU_PATH,
                                       MENU_INTERFACE, "LayoutUpdated",
                                       g_variant_new ("(ui)", self->revision,
                                                      ITEM_ROOT),
                                       NULL);
    }

  old_items = g_steal_pointer (&self->items);
  self->items = g_steal_pointer (&items);
}

/* The item's look */

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
      g_autofree char *state = describe_mailbox (mailbox);
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

  update_menu (self);
}

static gboolean
update_idle_cb (gpointer user_data)
{
  PopcheckTray *self = user_data;

  self->update_id = 0;
  update_now (self);
  return G_SOURCE_REMOVE;
}

/* Several properties of a mailbox change together at the end of a check:
 * publish them once. */
static void
schedule_update (PopcheckTray *self)
{
  if (self->update_id == 0)
    self->update_id = g_idle_add (update_idle_cb, self);
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

/* Commands from the bus */

static void
activate_action (PopcheckTray *self,
                 const char   *action,
                 GVariant     *target)
{
  if (!action_available (self, action))
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
    activate_action (self, "toggle-window", NULL);
  else if (g_str_equal (method_name, "SecondaryActivate"))
    activate_action (self, "check-now", NULL);
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
      g_str_equal (property_name, "OverlayIconPixmap") ||
      g_str_equal (property_name, "AttentionIconPixmap"))
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

/* dbusmenu */

static GVariant *
filter_props (GVariant           *props,
              const char * const *names)
{
  g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);

  if (names == NULL || names[0] == NULL)
    return props;

  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autoptr(GVariant) value = g_variant_lookup_value (props, names[i], NULL);

      if (value != NULL)
        g_variant_dict_insert_value (&dict, names[i], value);
    }

  return g_variant_dict_end (&dict);
}

static GVariant *
layout_node (PopcheckTray       *self,
             MenuItem           *item,
             int                 depth,
             const char * const *names)
{
  GVariantBuilder children;

  g_variant_builder_init (&children, G_VARIANT_TYPE ("av"));

  /* Only the root has children; -1 means "all levels". */
  if (item->id == ITEM_ROOT && depth != 0)
    {
      for (guint i = 1; i < self->items->len; i++)
        {
          MenuItem *child = g_ptr_array_index (self->items, i);

          g_variant_builder_add (&children, "v",
                                 layout_node (self, child, depth - 1, names));
        }
    }

  return g_variant_new ("(i@a{sv}av)", item->id,
                        filter_props (item->props, names), &children);
}

static void
return_unknown_item (GDBusMethodInvocation *invocation,
                     int                    id)
{
  g_dbus_method_invocation_return_error (invocation, POPCHECK_TRAY_ERROR,
                                         POPCHECK_TRAY_ERROR_UNKNOWN_ITEM,
                                         "No menu item has the id %d", id);
}

static gboolean
menu_event (PopcheckTray *self,
            int           id,
            const char   *event_id)
{
  MenuItem *item = find_item (self, id);

  if (item == NULL)
    return FALSE;

  /* "hovered", "opened" and "closed" need nothing. */
  if (g_str_equal (event_id, "clicked") && item->action != NULL)
    activate_action (self, item->action, item->target);

  return TRUE;
}

static void
menu_method_call (GDBusConnection       *connection,
                  const char            *sender,
                  const char            *object_path,
                  const char            *interface_name,
                  const char            *method_name,
                  GVariant              *parameters,
                  GDBusMethodInvocation *invocation,
                  gpointer               user_data)
{
  PopcheckTray *self = user_data;

  /* A host may ask right after a change we have not published yet. */
  if (self->update_id != 0)
    {
      g_clear_handle_id (&self->update_id, g_source_remove);
      update_now (self);
    }

  if (g_str_equal (method_name, "GetLayout"))
    {
      g_autofree const char **names = NULL;
      MenuItem *item;
      int parent_id;
      int depth;

      g_variant_get (parameters, "(ii^a&s)", &parent_id, &depth, &names);
      item = find_item (self, parent_id);
      if (item == NULL)
        {
          return_unknown_item (invocation, parent_id);
          return;
        }

      g_dbus_method_invocation_return_value (invocation,
                                             g_variant_new ("(u@(ia{sv}av))",
                                                            self->revision,
                                                            layout_node (self, item, depth, names)));
    }
  else if (g_str_equal (method_name, "GetGroupProperties"))
    {
      g_autoptr(GVariant) ids = NULL;
      g_autofree const char **names = NULL;
      GVariantBuilder builder;
      gsize n_ids;
      const gint32 *id_array;

      g_variant_get (parameters, "(@ai^a&s)", &ids, &names);
      id_array = g_variant_get_fixed_array (ids, &n_ids, sizeof (gint32));
      g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(ia{sv})"));

      /* No ids at all means every item, as libdbusmenu does it. */
      for (guint i = 0; i < (n_ids > 0 ? n_ids : self->items->len); i++)
        {
          MenuItem *item = n_ids > 0 ? find_item (self, id_array[i])
                                     : g_ptr_array_index (self->items, i);

          if (item != NULL)
            g_variant_builder_add (&builder, "(i@a{sv})", item->id,
                                   filter_props (item->props, names));
        }

      g_dbus_method_invocation_return_value (invocation,
                                             g_variant_new ("(a(ia{sv}))",
                                                            &builder));
    }
  else if (g_str_equal (method_name, "GetProperty"))
    {
      g_autoptr(GVariant) value = NULL;
      const char *name;
      MenuItem *item;
      int id;

      g_variant_get (parameters, "(i&s)", &id, &name);
      item = find_item (self, id);
      if (item == NULL)
        {
          return_unknown_item (invocation, id);
          return;
        }

      value = g_variant_lookup_value (item->props, name, NULL);
      if (value == NULL)
        {
          g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR,
                                                 G_DBUS_ERROR_INVALID_ARGS,
                                                 "The menu item %d has no property “%s”",
                                                 id, name);
          return;
        }

      g_dbus_method_invocation_return_value (invocation,
                                             g_variant_new ("(v)", value));
    }
  else if (g_str_equal (method_name, "Event"))
    {
      const char *event_id;
      int id;

      g_variant_get (parameters, "(i&svu)", &id, &event_id, NULL, NULL);
      if (find_item (self, id) == NULL)
        {
          return_unknown_item (invocation, id);
          return;
        }

      g_dbus_method_invocation_return_value (invocation, NULL);
      menu_event (self, id, event_id);
    }
  else if (g_str_equal (method_name, "EventGroup"))
    {
      g_autoptr(GVariantIter) iter = NULL;
      g_autoptr(GArray) events = g_array_new (FALSE, FALSE, sizeof (int));
      g_autoptr(GPtrArray) event_ids = g_ptr_array_new_with_free_func (g_free);
      GVariantBuilder errors;
      const char *event_id;
      guint n_events = 0;
      guint n_errors = 0;
      int id;

      g_variant_builder_init (&errors, G_VARIANT_TYPE ("ai"));
      g_variant_get (parameters, "(a(isvu))", &iter);
      while (g_variant_iter_next (iter, "(i&svu)", &id, &event_id, NULL, NULL))
        {
          n_events++;
          if (find_item (self, id) == NULL)
            {
              n_errors++;
              g_variant_builder_add (&errors, "i", id);
              continue;
            }
          g_array_append_val (events, id);
          g_ptr_array_add (event_ids, g_strdup (event_id));
        }

      if (n_events > 0 && n_errors == n_events)
        {
          g_variant_builder_clear (&errors);
          g_dbus_method_invocation_return_error (invocation,
                                                 POPCHECK_TRAY_ERROR,
                                                 POPCHECK_TRAY_ERROR_UNKNOWN_ITEM,
                                                 "No event named a menu item");
          return;
        }

      g_dbus_method_invocation_return_value (invocation,
                                             g_variant_new ("(ai)", &errors));
      for (guint i = 0; i < events->len; i++)
        menu_event (self, g_array_index (events, int, i),
                    g_ptr_array_index (event_ids, i));
    }
  else if (g_str_equal (method_name, "AboutToShow"))
    {
      int id;

      g_variant_get (parameters, "(i)", &id);
      if (find_item (self, id) == NULL)
        {
          return_unknown_item (invocation, id);
          return;
        }

      /* The menu is kept current: never an update to fetch. */
      g_dbus_method_invocation_return_value (invocation,
                                             g_variant_new ("(b)", FALSE));
    }
  else if (g_str_equal (method_name, "AboutToShowGroup"))
    {
      g_autoptr(GVariantIter) iter = NULL;
      GVariantBuilder errors;
      int id;

      g_variant_builder_init (&errors, G_VARIANT_TYPE ("ai"));
      g_variant_get (parameters, "(ai)", &iter);
      while (g_variant_iter_next (iter, "i", &id))
        {
          if (find_item (self, id) == NULL)
            g_variant_builder_add (&errors, "i", id);
        }

      g_dbus_method_invocation_return_value (invocation,
                                             g_variant_new ("(@aiai)",
                                                            g_variant_new_array (G_VARIANT_TYPE_INT32, NULL, 0),
                                                            &errors));
    }
  else
    g_assert_not_reached ();
}

/* GTK's own catalog translates "default:LTR" to "default:RTL" for
 * right-to-left languages; reading it needs no GTK code. */
static const char *
text_direction (void)
{
  const char *direction = g_dgettext ("gtk40", "default:LTR");

  return g_str_equal (direction, "default:RTL") ? "rtl" : "ltr";
}

static GVariant *
menu_get_property (GDBusConnection  *connection,
                   const char       *sender,
                   const char       *object_path,
                   const char       *interface_name,
                   const char       *property_name,
                   GError          **error,
                   gpointer          user_data)
{
  if (g_str_equal (property_name, "Version"))
    return g_variant_new_uint32 (3);
  if (g_str_equal (property_name, "TextDirection"))
    return g_variant_new_string (text_direction ());
  if (g_str_equal (property_name, "Status"))
    return g_variant_new_string ("normal");
  if (g_str_equal (property_name, "IconThemePath"))
    return g_variant_new_strv (NULL, 0);

  g_assert_not_reached ();
}

static const GDBusInterfaceVTable menu_vtable = {
  menu_method_call,
  menu_get_property,
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
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("The StatusNotifierWatcher did not register %s: %s",
                 self->bus_name, error->message);
      return;
    }

  g_debug ("Registered %s with the StatusNotifierWatcher", self->bus_name);
  if (!self->registered)
    {
      self->registered = TRUE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REGISTERED]);
    }
}

static void
watcher_appeared_cb (GDBusConnection *connection,
                     const char      *name,
                     const char      *name_owner,
                     gpointer         user_data)
{
  PopcheckTray *self = user_data;

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
  if (self->registered)
    {
      self->registered = FALSE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REGISTERED]);
    }
}

static void
unregister_objects (PopcheckTray *self)
{
  if (self->connection == NULL)
    return;

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
                                                       &menu_vtable, self,
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
  /* No session bus (a plain console, a test without one): no tray. */
  g_debug ("The tray has no bus name %s", name);
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
  g_clear_pointer (&self->items, g_ptr_array_unref);
  g_clear_pointer (&self->account_item_ids, g_hash_table_unref);
  g_clear_pointer (&self->tool_tip, g_variant_unref);
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

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
popcheck_tray_init (PopcheckTray *self)
{
  self->cancellable = g_cancellable_new ();
  self->watched = g_ptr_array_new_with_free_func (g_object_unref);
  self->items = g_ptr_array_new_with_free_func ((GDestroyNotify) menu_item_free);
  self->account_item_ids = g_hash_table_new_full (g_str_hash, g_str_equal,
                                                  g_free, NULL);
  self->next_account_item_id = ACCOUNT_ID_FIRST;
  self->revision = 0;
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
