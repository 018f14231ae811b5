/* popcheck-tray-menu.c: the tray icon's com.canonical.dbusmenu menu
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
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

#include "popcheck-tray-private.h"

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
  ITEM_MARK_ALL_SEEN,
  ITEM_MUTE,
  ITEM_MUTED_UNTIL,
  ITEM_UNMUTE,
  ACCOUNT_ID_FIRST = 100,
};

typedef struct
{
  int       id;
  char     *action;
  GVariant *target;
  GVariant *props;    /* a{sv} */
} MenuItem;

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
                         popcheck_tray_action_available (self, action));
  return g_variant_dict_end (&dict);
}

/* A line that only says something: never enabled. */
static GVariant *
text_item_props (const char *label)
{
  g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);

  g_variant_dict_insert (&dict, "label", "s", label);
  g_variant_dict_insert (&dict, "enabled", "b", FALSE);
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
                   menu_item_new (ITEM_OPEN, "show-window", NULL,
                                  action_item_props (self, _("_Open PopCheck"),
                                                     NULL, "show-window")));
  g_ptr_array_add (items,
                   menu_item_new (ITEM_CHECK_NOW, "check-now", NULL,
                                  action_item_props (self, _("_Check Now"),
                                                     "view-refresh-symbolic",
                                                     "check-now")));
  /* Disabled while nothing is new. */
  g_ptr_array_add (items,
                   menu_item_new (ITEM_MARK_ALL_SEEN, "mark-all-seen", NULL,
                                  action_item_props (self, _("_Mark All as Seen"),
                                                     NULL, "mark-all-seen")));
  if (self->mute != NULL && popcheck_mute_get_muted (self->mute))
    {
      g_autoptr(GDateTime) until = NULL;
      g_autofree char *time = NULL;
      g_autofree char *escaped = NULL;
      g_autofree char *label = NULL;

      until = g_date_time_new_from_unix_local (popcheck_mute_get_muted_until (self->mute));
      /* Translators: the time a mute ends, as g_date_time_format() takes
       * it; "%H:%M" is "21:30", "%l:%M %p" would be " 9:30 PM" */
      time = until != NULL ? g_date_time_format (until, C_("mute end", "%H:%M")) : NULL;
      escaped = escape_mnemonics (time != NULL ? time : "");
      /* Translators: in the tray menu while notifications are muted; %s is
       * the time, as "21:30" */
      label = g_strdup_printf (_("Muted until %s"), escaped);
      g_ptr_array_add (items, menu_item_new (ITEM_MUTED_UNTIL, NULL, NULL,
                                             text_item_props (label)));
      g_ptr_array_add (items,
                       menu_item_new (ITEM_UNMUTE, "unmute", NULL,
                                      action_item_props (self, _("_Unmute"),
                                                         NULL, "unmute")));
    }
  else if (self->mute != NULL)
    g_ptr_array_add (items,
                     menu_item_new (ITEM_MUTE, "mute", NULL,
                                    action_item_props (self, _("M_ute for 1 Hour"),
                                                       NULL, "mute")));

  g_ptr_array_add (items, menu_item_new (ITEM_SEPARATOR_TOP, NULL, NULL,
                                         separator_props ()));

  for (guint i = 0; i < n_mailboxes; i++)
    {
      g_autoptr(PopcheckMailbox) mailbox = g_list_model_get_item (self->mailboxes, i);
      const char *account_id = popcheck_mailbox_get_account_id (mailbox);
      const char *name = popcheck_mailbox_get_display_name (mailbox);
      g_autofree char *escaped = NULL;
      g_autofree char *state = popcheck_tray_describe_mailbox (mailbox);
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

void
popcheck_tray_menu_update (PopcheckTray *self)
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
    popcheck_tray_activate_action (self, item->action, item->target);

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
  popcheck_tray_flush_update (self);

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

const GDBusInterfaceVTable popcheck_tray_menu_vtable = {
  menu_method_call,
  menu_get_property,
  NULL,
};

void
popcheck_tray_menu_init (PopcheckTray *self)
{
  self->items = g_ptr_array_new_with_free_func ((GDestroyNotify) menu_item_free);
  self->account_item_ids = g_hash_table_new_full (g_str_hash, g_str_equal,
                                                  g_free, NULL);
  self->next_account_item_id = ACCOUNT_ID_FIRST;
  self->revision = 0;
}

void
popcheck_tray_menu_finalize (PopcheckTray *self)
{
  g_clear_pointer (&self->items, g_ptr_array_unref);
  g_clear_pointer (&self->account_item_ids, g_hash_table_unref);
}
