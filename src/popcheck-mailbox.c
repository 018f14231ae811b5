/* popcheck-mailbox.c: one account's messages, seen UIDs and header cache
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Everything is keyed by UID in hash tables and the model is kept sorted,
 * so a check of a mailbox with tens of thousands of messages costs a few
 * linear passes.  Small changes reach the list view as exact
 * items-changed positions; large ones as one replacement.
 */

#define G_LOG_DOMAIN "popcheck-mailbox"

#include "config.h"

#include <errno.h>
#include <string.h>

#include <glib/gstdio.h>

#include "pop3-parser.h"
#include "popcheck-mailbox.h"

/* The state file: a GVariant "(suv)" holding this magic, the format
 * version, and the payload of that version. */
#define STATE_MAGIC          "org.example.PopCheck.MailboxState"
#define STATE_VERSION        1
#define STATE_OUTER_TYPE     "(suv)"
#define STATE_PAYLOAD_TYPE   "(sbxasav)"
/* No mailbox's state comes near this; a bigger file is not ours. */
#define STATE_MAX_SIZE       ((gsize) 1024 * 1024 * 1024)

/* Up to this many insertions and removals are announced one by one with
 * exact positions (so a list view keeps its scroll position and
 * selection); more are announced as one replacement of the whole list. */
#define SMALL_CHANGE         64

/* A file name must stay well inside NAME_MAX. */
#define MAX_ESCAPED_LENGTH   192

struct _PopcheckMailbox
{
  GObject               parent_instance;

  char                 *account_id;
  char                 *display_name;
  PopcheckMailboxState  state;
  PopcheckProblem       problem;
  char                 *error_message;
  gboolean              approximate_ids;

  /* The model: PopcheckMessage *, owned, sorted by compare_messages(). */
  GPtrArray            *items;
  /* uid -> PopcheckMessage * in items (key and value borrowed). */
  GHashTable           *by_uid;
  /* The UIDs ever seen that are still on the server. */
  GHashTable           *seen;
  /* uid -> PopcheckMessage *, owned: summaries waiting for end_update.
   * They survive a check that failed before end_update, so the next one
   * need not TOP them again. */
  GHashTable           *pending;
  /* uid -> message number of the last update. */
  GHashTable           *msg_numbers;
  gboolean              updating;

  guint                 n_new;
  gboolean              first_check_done;
  guint                 first_check_count;
  GDateTime            *last_check;
  gboolean              dirty;

  /* Saves run in threads; the lock orders them so an older snapshot never
   * replaces a newer one. */
  GMutex                save_lock;
  guint64               save_generation;
  guint64               saved_generation;
};

static void popcheck_mailbox_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (PopcheckMailbox, popcheck_mailbox, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      popcheck_mailbox_list_model_init))

enum {
  PROP_0,
  PROP_ACCOUNT_ID,
  PROP_DISPLAY_NAME,
  PROP_STATE,
  PROP_PROBLEM,
  PROP_ERROR_MESSAGE,
  PROP_APPROXIMATE_IDS,
  PROP_N_ITEMS,
  PROP_N_NEW,
  PROP_LAST_CHECK,
  PROP_FIRST_CHECK_DONE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* The model -------------------------------------------------------------- */

/* Newest date first (undated last), then the higher message number, then
 * the UID so that the order is total and stable across runs. */
static int
compare_messages (PopcheckMessage *a,
                  PopcheckMessage *b)
{
  GDateTime *date_a = popcheck_message_get_date (a);
  GDateTime *date_b = popcheck_message_get_date (b);
  guint number_a, number_b;

  if (date_a != NULL && date_b != NULL)
    {
      int cmp = g_date_time_compare (date_b, date_a);

      if (cmp != 0)
        return cmp;
    }
  else if (date_a != NULL)
    return -1;
  else if (date_b != NULL)
    return 1;

  number_a = popcheck_message_get_msg_number (a);
  number_b = popcheck_message_get_msg_number (b);
  if (number_a != number_b)
    return number_a > number_b ? -1 : 1;

  return strcmp (popcheck_message_get_uid (a), popcheck_message_get_uid (b));
}

static int
compare_messages_indirect (gconstpointer a,
                           gconstpointer b)
{
  return compare_messages (*(PopcheckMessage **) a, *(PopcheckMessage **) b);
}

static gboolean
items_are_sorted (PopcheckMailbox *self)
{
  for (guint i = 1; i < self->items->len; i++)
    if (compare_messages (g_ptr_array_index (self->items, i - 1),
                          g_ptr_array_index (self->items, i)) > 0)
      return FALSE;

  return TRUE;
}

static guint
find_insert_position (PopcheckMailbox *self,
                      PopcheckMessage *message)
{
  guint low = 0, high = self->items->len;

  while (low < high)
    {
      guint mid = low + (high - low) / 2;

      if (compare_messages (g_ptr_array_index (self->items, mid), message) < 0)
        low = mid + 1;
      else
        high = mid;
    }

  return low;
}

static void
set_n_new (PopcheckMailbox *self,
           guint            n_new)
{
  if (self->n_new == n_new)
    return;

  self->n_new = n_new;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_NEW]);
}

static void
message_is_new_cb (PopcheckMessage *message,
                   GParamSpec      *pspec,
                   PopcheckMailbox *self)
{
  /* The setter notifies only on a change, so this is a delta. */
  if (popcheck_message_get_is_new (message))
    set_n_new (self, self->n_new + 1);
  else if (self->n_new > 0)
    set_n_new (self, self->n_new - 1);

  self->dirty = TRUE;
}

static void
recount_n_new (PopcheckMailbox *self)
{
  guint n_new = 0;

  for (guint i = 0; i < self->items->len; i++)
    if (popcheck_message_get_is_new (g_ptr_array_index (self->items, i)))
      n_new++;

  set_n_new (self, n_new);
}

static void
track_message (PopcheckMailbox *self,
               PopcheckMessage *message)
{
  g_hash_table_replace (self->by_uid,
                        (gpointer) popcheck_message_get_uid (message), message);
  g_signal_connect (message, "notify::is-new",
                    G_CALLBACK (message_is_new_cb), self);
}

static void
untrack_message (PopcheckMailbox *self,
                 PopcheckMessage *message)
{
  g_signal_handlers_disconnect_by_func (message, message_is_new_cb, self);
  if (g_hash_table_lookup (self->by_uid,
                           popcheck_message_get_uid (message)) == message)
    g_hash_table_remove (self->by_uid, popcheck_message_get_uid (message));
}

/* Removes the items whose UID is in remove (a set, may be NULL) and adds
 * the messages in add (may be NULL), keeping the model sorted, with as
 * precise an items-changed as is cheap. */
static void
model_apply (PopcheckMailbox *self,
             GHashTable      *remove,
             GPtrArray       *add)
{
  guint old_len = self->items->len;
  guint n_remove = 0;
  guint n_add = add != NULL ? add->len : 0;
  gboolean sorted;

  if (remove != NULL && g_hash_table_size (remove) > 0)
    for (guint i = 0; i < self->items->len; i++)
      if (g_hash_table_contains (remove,
                                 popcheck_message_get_uid (g_ptr_array_index (self->items, i))))
        n_remove++;

  /* Message numbers change between sessions and are part of the order. */
  sorted = items_are_sorted (self);

  if (sorted && n_remove + n_add <= SMALL_CHANGE)
    {
      for (guint i = self->items->len; n_remove > 0 && i-- > 0;)
        {
          PopcheckMessage *message = g_ptr_array_index (self->items, i);

          if (!g_hash_table_contains (remove, popcheck_message_get_uid (message)))
            continue;

          untrack_message (self, message);
          g_ptr_array_remove_index (self->items, i);
          g_list_model_items_changed (G_LIST_MODEL (self), i, 1, 0);
          n_remove--;
        }

      for (guint i = 0; i < n_add; i++)
        {
          PopcheckMessage *message = g_ptr_array_index (add, i);
          guint position = find_insert_position (self, message);

          g_ptr_array_insert (self->items, position, g_object_ref (message));
          track_message (self, message);
          g_list_model_items_changed (G_LIST_MODEL (self), position, 0, 1);
        }
    }
  else if (n_remove + n_add > 0 || !sorted)
    {
      GPtrArray *items = g_ptr_array_new_full (self->items->len + n_add,
                                               g_object_unref);

      for (guint i = 0; i < self->items->len; i++)
        {
          PopcheckMessage *message = g_ptr_array_index (self->items, i);

          if (n_remove > 0 &&
              g_hash_table_contains (remove, popcheck_message_get_uid (message)))
            untrack_message (self, message);
          else
            g_ptr_array_add (items, g_object_ref (message));
        }
      for (guint i = 0; i < n_add; i++)
        {
          PopcheckMessage *message = g_ptr_array_index (add, i);

          g_ptr_array_add (items, g_object_ref (message));
          track_message (self, message);
        }
      g_ptr_array_sort (items, compare_messages_indirect);

      g_ptr_array_unref (self->items);
      self->items = items;
      g_list_model_items_changed (G_LIST_MODEL (self), 0, old_len,
                                  self->items->len);
    }

  if (old_len != self->items->len)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ITEMS]);
  recount_n_new (self);
}

static void
model_clear (PopcheckMailbox *self)
{
  guint old_len = self->items->len;

  for (guint i = 0; i < self->items->len; i++)
    untrack_message (self, g_ptr_array_index (self->items, i));
  g_ptr_array_set_size (self->items, 0);

  if (old_len > 0)
    {
      g_list_model_items_changed (G_LIST_MODEL (self), 0, old_len, 0);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ITEMS]);
    }
  set_n_new (self, 0);
}

static GType
popcheck_mailbox_get_item_type (GListModel *model)
{
  return POPCHECK_TYPE_MESSAGE;
}

static guint
popcheck_mailbox_list_get_n_items (GListModel *model)
{
  return POPCHECK_MAILBOX (model)->items->len;
}

static gpointer
popcheck_mailbox_get_item (GListModel *model,
                           guint       position)
{
  PopcheckMailbox *self = POPCHECK_MAILBOX (model);

  if (position >= self->items->len)
    return NULL;

  return g_object_ref (g_ptr_array_index (self->items, position));
}

static void
popcheck_mailbox_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = popcheck_mailbox_get_item_type;
  iface->get_n_items = popcheck_mailbox_list_get_n_items;
  iface->get_item = popcheck_mailbox_get_item;
}

/* Reconciling ------------------------------------------------------------ */

static Pop3UidEntry *
uid_entry_copy (const Pop3UidEntry *entry)
{
  Pop3UidEntry *copy = g_new0 (Pop3UidEntry, 1);

  copy->msg = entry->msg;
  copy->uid = g_strdup (entry->uid);

  return copy;
}

static PopcheckMessage *
find_summary (PopcheckMailbox *self,
              const char      *uid)
{
  PopcheckMessage *message = g_hash_table_lookup (self->pending, uid);

  return message != NULL ? message : g_hash_table_lookup (self->by_uid, uid);
}

GPtrArray *
popcheck_mailbox_begin_update (PopcheckMailbox *self,
                               GPtrArray       *server_uids,
                               GArray          *sizes)
{
  g_autoptr(GHashTable) size_by_msg = NULL;
  GPtrArray *need_top;

  g_return_val_if_fail (POPCHECK_IS_MAILBOX (self), NULL);
  g_return_val_if_fail (server_uids != NULL, NULL);

  need_top = g_ptr_array_new_with_free_func ((GDestroyNotify) pop3_uid_entry_free);

  if (sizes != NULL)
    {
      size_by_msg = g_hash_table_new (NULL, NULL);
      for (guint i = 0; i < sizes->len; i++)
        {
          Pop3ListEntry *entry = &g_array_index (sizes, Pop3ListEntry, i);

          g_hash_table_insert (size_by_msg, GUINT_TO_POINTER (entry->msg), entry);
        }
    }

  g_hash_table_remove_all (self->msg_numbers);
  self->updating = TRUE;

  for (guint i = 0; i < server_uids->len; i++)
    {
      const Pop3UidEntry *entry = g_ptr_array_index (server_uids, i);
      PopcheckMessage *message;

      /* The engine validates UIDs already; this is the last line before
       * they become hash keys and state file content. */
      if (entry == NULL || entry->uid == NULL || !pop3_uid_is_valid (entry->uid))
        {
          g_debug ("Account %s: skipping an invalid UID for message %u",
                   self->account_id, entry != NULL ? entry->msg : 0);
          continue;
        }
      /* Two messages with one UID: a broken server.  The first one keeps
       * the UID; the other cannot be told apart, so it is left out rather
       * than risk acting on the wrong message. */
      if (g_hash_table_contains (self->msg_numbers, entry->uid))
        {
          g_debug ("Account %s: message %u repeats the UID of message %u",
                   self->account_id, entry->msg,
                   GPOINTER_TO_UINT (g_hash_table_lookup (self->msg_numbers,
                                                          entry->uid)));
          continue;
        }

      g_hash_table_insert (self->msg_numbers, g_strdup (entry->uid),
                           GUINT_TO_POINTER (entry->msg));

      message = find_summary (self, entry->uid);
      if (message != NULL && size_by_msg != NULL)
        {
          Pop3ListEntry *listed = g_hash_table_lookup (size_by_msg,
                                                       GUINT_TO_POINTER (entry->msg));

          /* Same UID, other size: the server reused the UID (some do after
           * a mailbox rebuild); the cached summary describes another
           * message. */
          if (listed != NULL && popcheck_message_get_size (message) != 0 &&
              listed->octets != popcheck_message_get_size (message))
            {
              g_hash_table_remove (self->pending, entry->uid);
              message = NULL;
            }
        }

      if (message != NULL)
        popcheck_message_set_msg_number (message, entry->msg);
      else
        g_ptr_array_add (need_top, uid_entry_copy (entry));
    }

  return need_top;
}

void
popcheck_mailbox_add_summary (PopcheckMailbox *self,
                              PopcheckMessage *message)
{
  const char *uid;
  gpointer number;

  g_return_if_fail (POPCHECK_IS_MAILBOX (self));
  g_return_if_fail (POPCHECK_IS_MESSAGE (message));

  uid = popcheck_message_get_uid (message);
  if (!pop3_uid_is_valid (uid))
    return;

  if (g_hash_table_lookup_extended (self->msg_numbers, uid, NULL, &number) &&
      popcheck_message_get_msg_number (message) == 0)
    popcheck_message_set_msg_number (message, GPOINTER_TO_UINT (number));

  g_hash_table_replace (self->pending, (gpointer) uid, g_object_ref (message));
}

GPtrArray *
popcheck_mailbox_end_update (PopcheckMailbox *self)
{
  g_autoptr(GHashTable) remove = NULL;
  g_autoptr(GPtrArray) add = NULL;
  GPtrArray *new_messages;
  GHashTableIter iter;
  gpointer key, value;
  gboolean first;

  g_return_val_if_fail (POPCHECK_IS_MAILBOX (self), NULL);
  g_return_val_if_fail (self->updating, NULL);

  first = !self->first_check_done;
  new_messages = g_ptr_array_new_with_free_func (g_object_unref);
  /* Copies: a removed message may be freed while the set is in use. */
  remove = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  add = g_ptr_array_new_with_free_func (g_object_unref);

  /* Gone from the server: out of the model and the cache. */
  for (guint i = 0; i < self->items->len; i++)
    {
      const char *uid = popcheck_message_get_uid (g_ptr_array_index (self->items, i));

      if (!g_hash_table_contains (self->msg_numbers, uid))
        g_hash_table_add (remove, g_strdup (uid));
    }

  g_hash_table_iter_init (&iter, self->pending);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      PopcheckMessage *message = value;
      PopcheckMessage *old;

      if (!g_hash_table_contains (self->msg_numbers, key))
        continue;

      old = g_hash_table_lookup (self->by_uid, key);
      if (old != NULL)
        {
          /* A replaced summary keeps whether the user has looked at it. */
          g_hash_table_add (remove, g_strdup (popcheck_message_get_uid (old)));
          popcheck_message_set_is_new (message, popcheck_message_get_is_new (old));
        }
      else if (first)
        popcheck_message_set_is_new (message, FALSE);
      else if (!g_hash_table_contains (self->seen, key))
        {
          popcheck_message_set_is_new (message, TRUE);
          g_ptr_array_add (new_messages, g_object_ref (message));
        }

      g_ptr_array_add (add, g_object_ref (message));
    }

  /* Seen: what is on the server and has a summary.  A UID whose TOP failed
   * stays unseen so that the next check announces it with its summary;
   * except on the first check, where everything there is known. */
  g_hash_table_iter_init (&iter, self->msg_numbers);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      if (first || g_hash_table_contains (self->pending, key) ||
          g_hash_table_contains (self->by_uid, key))
        {
          if (!g_hash_table_contains (self->seen, key))
            g_hash_table_add (self->seen, g_strdup (key));
        }
    }
  g_hash_table_iter_init (&iter, self->seen);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!g_hash_table_contains (self->msg_numbers, key))
      g_hash_table_iter_remove (&iter);

  model_apply (self, remove, add);
  g_hash_table_remove_all (self->pending);
  self->updating = FALSE;

  if (first)
    {
      self->first_check_count = g_hash_table_size (self->msg_numbers);
      self->first_check_done = TRUE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FIRST_CHECK_DONE]);
    }

  g_clear_pointer (&self->last_check, g_date_time_unref);
  self->last_check = g_date_time_new_now_local ();
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_CHECK]);

  self->dirty = TRUE;

  /* In the order of the list, newest first. */
  g_ptr_array_sort (new_messages, compare_messages_indirect);

  return new_messages;
}

void
popcheck_mailbox_mark_all_seen (PopcheckMailbox *self)
{
  g_return_if_fail (POPCHECK_IS_MAILBOX (self));

  for (guint i = 0; i < self->items->len; i++)
    popcheck_message_set_is_new (g_ptr_array_index (self->items, i), FALSE);
}

void
popcheck_mailbox_remove_uids (PopcheckMailbox    *self,
                              const char * const *uids)
{
  g_autoptr(GHashTable) remove = NULL;

  g_return_if_fail (POPCHECK_IS_MAILBOX (self));

  if (uids == NULL)
    return;

  remove = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; uids[i] != NULL; i++)
    {
      g_hash_table_add (remove, g_strdup (uids[i]));
      g_hash_table_remove (self->seen, uids[i]);
      g_hash_table_remove (self->pending, uids[i]);
      g_hash_table_remove (self->msg_numbers, uids[i]);
    }

  model_apply (self, remove, NULL);
  self->dirty = TRUE;
}

PopcheckMessage *
popcheck_mailbox_lookup (PopcheckMailbox *self,
                         const char      *uid)
{
  g_return_val_if_fail (POPCHECK_IS_MAILBOX (self), NULL);
  g_return_val_if_fail (uid != NULL, NULL);

  return g_hash_table_lookup (self->by_uid, uid);
}

guint
popcheck_mailbox_get_msg_number (PopcheckMailbox *self,
                                 const char      *uid)
{
  g_return_val_if_fail (POPCHECK_IS_MAILBOX (self), 0);
  g_return_val_if_fail (uid != NULL, 0);

  return GPOINTER_TO_UINT (g_hash_table_lookup (self->msg_numbers, uid));
}

/* The state file --------------------------------------------------------- */

char *
popcheck_mailbox_escape_account_id (const char *account_id)
{
  GString *escaped;

  g_return_val_if_fail (account_id != NULL, NULL);

  escaped = g_string_new (NULL);
  for (const char *p = account_id; *p != '\0'; p++)
    {
      if (g_ascii_isalnum (*p) || *p == '_' || *p == '-')
        g_string_append_c (escaped, *p);
      else
        g_string_append_printf (escaped, "%%%02X", (guchar) *p);
    }

  /* A very long id keeps a readable start and a hash of the whole; "~" is
   * never produced by the escaping, so this cannot collide with an id
   * that escapes to the same text. */
  if (escaped->len > MAX_ESCAPED_LENGTH)
    {
      g_autofree char *hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256,
                                                             account_id, -1);
      gsize keep = MAX_ESCAPED_LENGTH - 65;

      while (keep > 0 && (escaped->str[keep - 1] == '%' ||
                          (keep > 1 && escaped->str[keep - 2] == '%')))
        keep--;
      g_string_truncate (escaped, keep);
      g_string_append_c (escaped, '~');
      g_string_append (escaped, hash);
    }

  return g_string_free (escaped, FALSE);
}

char *
popcheck_mailbox_dup_state_path (PopcheckMailbox *self)
{
  g_autofree char *escaped = NULL;
  g_autofree char *name = NULL;

  g_return_val_if_fail (POPCHECK_IS_MAILBOX (self), NULL);

  escaped = popcheck_mailbox_escape_account_id (self->account_id);
  name = g_strconcat (escaped, ".state", NULL);

  return g_build_filename (g_get_user_state_dir (), "popcheck", name, NULL);
}

static GBytes *
serialize_state (PopcheckMailbox *self)
{
  g_auto(GVariantBuilder) seen = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("as"));
  g_auto(GVariantBuilder) messages = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("av"));
  g_autoptr(GVariant) state = NULL;
  GHashTableIter iter;
  gpointer key;
  GVariant *payload;

  g_hash_table_iter_init (&iter, self->seen);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_variant_builder_add (&seen, "s", key);

  for (guint i = 0; i < self->items->len; i++)
    g_variant_builder_add (&messages, "v",
                           popcheck_message_to_variant (g_ptr_array_index (self->items, i)));

  payload = g_variant_new ("(sbxasav)",
                           self->account_id,
                           self->first_check_done,
                           self->last_check != NULL
                             ? g_date_time_to_unix (self->last_check) : G_GINT64_CONSTANT (0),
                           &seen, &messages);
  state = g_variant_ref_sink (g_variant_new ("(suv)", STATE_MAGIC,
                                             STATE_VERSION, payload));

  /* The file is little-endian wherever it was written. */
  if (G_BYTE_ORDER == G_BIG_ENDIAN)
    {
      GVariant *swapped = g_variant_byteswap (state);

      g_variant_unref (state);
      state = swapped;
    }

  return g_variant_get_data_as_bytes (state);
}

typedef struct
{
  gboolean    first_check_done;
  gint64      last_check;
  GHashTable *seen;
  GPtrArray  *messages;
  gboolean    set_aside;
} LoadedState;

static void
loaded_state_free (LoadedState *state)
{
  g_clear_pointer (&state->seen, g_hash_table_unref);
  g_clear_pointer (&state->messages, g_ptr_array_unref);
  g_free (state);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LoadedState, loaded_state_free)

static LoadedState *
loaded_state_new (void)
{
  LoadedState *state = g_new0 (LoadedState, 1);

  state->seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  state->messages = g_ptr_array_new_with_free_func (g_object_unref);

  return state;
}

/* Parses a state file; on failure, *reason says why in a few words. */
static LoadedState *
parse_state (GBytes      *bytes,
             const char  *account_id,
             const char **reason)
{
  g_autoptr(LoadedState) state = loaded_state_new ();
  g_autoptr(GVariant) outer = NULL;
  g_autoptr(GVariant) payload_box = NULL;
  g_autoptr(GVariant) payload = NULL;
  g_autoptr(GVariantIter) seen = NULL;
  g_autoptr(GVariantIter) messages = NULL;
  g_autoptr(GHashTable) loaded_uids = NULL;
  const char *magic = NULL;
  const char *file_account_id = NULL;
  const char *uid;
  GVariant *child;
  guint32 version = 0;

  if (g_bytes_get_size (bytes) == 0)
    {
      *reason = "empty file";
      return NULL;
    }
  if (g_bytes_get_size (bytes) > STATE_MAX_SIZE)
    {
      *reason = "file too large";
      return NULL;
    }

  outer = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE (STATE_OUTER_TYPE),
                                                        bytes, FALSE));
  if (G_BYTE_ORDER == G_BIG_ENDIAN)
    {
      GVariant *swapped = g_variant_byteswap (outer);

      g_variant_unref (outer);
      outer = swapped;
    }

  /* Every file we write is in normal form; anything else is truncated,
   * damaged or not ours, and would read as silently defaulted values. */
  if (!g_variant_is_normal_form (outer))
    {
      *reason = "damaged or not a state file";
      return NULL;
    }

  g_variant_get (outer, "(&suv)", &magic, &version, &payload_box);
  if (g_strcmp0 (magic, STATE_MAGIC) != 0)
    {
      *reason = "not a PopCheck state file";
      return NULL;
    }
  if (version > STATE_VERSION)
    {
      *reason = "written by a newer version of PopCheck";
      return NULL;
    }
  if (version != STATE_VERSION)
    {
      *reason = "unsupported format version";
      return NULL;
    }
  if (!g_variant_is_of_type (payload_box, G_VARIANT_TYPE (STATE_PAYLOAD_TYPE)))
    {
      *reason = "damaged contents";
      return NULL;
    }

  payload = g_variant_get_normal_form (payload_box);
  g_variant_get (payload, "(&sbxasav)", &file_account_id,
                 &state->first_check_done, &state->last_check,
                 &seen, &messages);
  if (g_strcmp0 (file_account_id, account_id) != 0)
    {
      *reason = "the file belongs to another account";
      return NULL;
    }

  while (g_variant_iter_next (seen, "&s", &uid))
    if (pop3_uid_is_valid (uid))
      g_hash_table_add (state->seen, g_strdup (uid));

  loaded_uids = g_hash_table_new (g_str_hash, g_str_equal);
  while ((child = g_variant_iter_next_value (messages)) != NULL)
    {
      g_autoptr(GVariant) boxed = child;
      g_autoptr(GVariant) inner = g_variant_get_variant (boxed);
      g_autoptr(GError) error = NULL;
      g_autoptr(PopcheckMessage) message = NULL;
      const char *message_uid;

      /* One unreadable summary costs one TOP at the next check, not the
       * whole state. */
      message = popcheck_message_new_from_variant (inner, &error);
      if (message == NULL)
        {
          g_debug ("Account %s: dropping a cached summary: %s",
                   account_id, error->message);
          continue;
        }

      message_uid = popcheck_message_get_uid (message);
      if (g_hash_table_contains (loaded_uids, message_uid))
        continue;
      g_hash_table_add (loaded_uids, (gpointer) message_uid);
      if (!g_hash_table_contains (state->seen, message_uid))
        g_hash_table_add (state->seen, g_strdup (message_uid));

      g_ptr_array_add (state->messages, g_steal_pointer (&message));
    }

  /* A file that says "never checked" cannot hold summaries of a check. */
  if (!state->first_check_done)
    {
      g_hash_table_remove_all (state->seen);
      g_ptr_array_set_size (state->messages, 0);
    }

  return g_steal_pointer (&state);
}

static void
set_aside (const char *path,
           const char *account_id,
           const char *reason)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%d-%H%M%S");
  g_autofree char *aside = g_strdup_printf ("%s.damaged-%s", path, stamp);

  for (guint i = 2; g_file_test (aside, G_FILE_TEST_EXISTS) && i < 1000; i++)
    {
      g_free (aside);
      aside = g_strdup_printf ("%s.damaged-%s-%u", path, stamp, i);
    }

  /* Not a warning: nothing is lost that the next check does not rebuild,
   * and that check will not announce old mail as new. */
  if (g_rename (path, aside) == 0)
    g_message ("The saved state of account \"%s\" could not be read (%s); "
               "it was moved to %s and the account starts afresh",
               account_id, reason, aside);
  else
    g_message ("The saved state of account \"%s\" could not be read (%s) "
               "nor moved aside (%s); the account starts afresh",
               account_id, reason, g_strerror (errno));
}

typedef struct
{
  char *path;
  char *account_id;
} LoadData;

static void
load_data_free (LoadData *data)
{
  g_free (data->path);
  g_free (data->account_id);
  g_free (data);
}

static void
load_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  LoadData *data = task_data;
  const char *path = data->path;
  const char *account_id = data->account_id;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(LoadedState) state = NULL;
  const char *reason = NULL;
  char *contents = NULL;
  gsize length = 0;

  if (g_task_return_error_if_cancelled (task))
    return;

  if (!g_file_get_contents (path, &contents, &length, &error))
    {
      if (g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        g_task_return_pointer (task, loaded_state_new (),
                               (GDestroyNotify) loaded_state_free);
      else
        g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  bytes = g_bytes_new_take (contents, length);
  state = parse_state (bytes, account_id, &reason);
  if (state == NULL)
    {
      set_aside (path, account_id, reason);
      state = loaded_state_new ();
      state->set_aside = TRUE;
    }

  g_task_return_pointer (task, g_steal_pointer (&state),
                         (GDestroyNotify) loaded_state_free);
}

static void
apply_loaded_state (PopcheckMailbox *self,
                    LoadedState     *state)
{
  gboolean first_check_done = self->first_check_done;

  model_clear (self);
  g_hash_table_remove_all (self->by_uid);
  g_hash_table_remove_all (self->pending);
  g_hash_table_remove_all (self->msg_numbers);
  self->updating = FALSE;

  g_hash_table_unref (self->seen);
  self->seen = g_hash_table_ref (state->seen);

  self->first_check_done = state->first_check_done;
  self->first_check_count = 0;
  g_clear_pointer (&self->last_check, g_date_time_unref);
  if (state->first_check_done && state->last_check > 0)
    self->last_check = g_date_time_new_from_unix_local (state->last_check);

  model_apply (self, NULL, state->messages);

  self->dirty = state->set_aside;

  if (first_check_done != self->first_check_done)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FIRST_CHECK_DONE]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_CHECK]);
}

static void
load_thread_done_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  PopcheckMailbox *self = POPCHECK_MAILBOX (object);
  g_autoptr(GTask) task = user_data;
  g_autoptr(LoadedState) state = NULL;
  GError *error = NULL;

  state = g_task_propagate_pointer (G_TASK (result), &error);
  if (state == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  /* Applied here, on the main thread, whether or not the caller ever
   * calls load_finish. */
  apply_loaded_state (self, state);
  g_task_return_boolean (task, TRUE);
}

void
popcheck_mailbox_load_async (PopcheckMailbox     *self,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GTask) thread_task = NULL;
  LoadData *data;

  g_return_if_fail (POPCHECK_IS_MAILBOX (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, popcheck_mailbox_load_async);

  thread_task = g_task_new (self, cancellable, load_thread_done_cb,
                            g_steal_pointer (&task));
  g_task_set_source_tag (thread_task, load_thread);
  data = g_new0 (LoadData, 1);
  data->path = popcheck_mailbox_dup_state_path (self);
  data->account_id = g_strdup (self->account_id);
  g_task_set_task_data (thread_task, data, (GDestroyNotify) load_data_free);
  g_task_run_in_thread (thread_task, load_thread);
}

gboolean
popcheck_mailbox_load_finish (PopcheckMailbox  *self,
                              GAsyncResult     *result,
                              GError          **error)
{
  g_return_val_if_fail (POPCHECK_IS_MAILBOX (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        popcheck_mailbox_load_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

typedef struct
{
  char   *path;
  GBytes *bytes;
  guint64 generation;
} SaveData;

static void
save_data_free (SaveData *data)
{
  g_free (data->path);
  g_bytes_unref (data->bytes);
  g_free (data);
}

static void
save_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  PopcheckMailbox *self = source_object;
  SaveData *data = task_data;
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->save_lock);
  g_autofree char *dir = NULL;
  GError *error = NULL;

  /* A later snapshot got here first: this one is already out of date. */
  if (data->generation <= self->saved_generation)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  dir = g_path_get_dirname (data->path);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_task_return_new_error (task, G_FILE_ERROR,
                               g_file_error_from_errno (saved_errno),
                               "Could not create %s: %s", dir,
                               g_strerror (saved_errno));
      return;
    }

  /* Temporary file, fsync, rename: a crash leaves the old state or the
   * new one, never half of one. */
  if (!g_file_set_contents_full (data->path,
                                 g_bytes_get_data (data->bytes, NULL),
                                 g_bytes_get_size (data->bytes),
                                 G_FILE_SET_CONTENTS_CONSISTENT |
                                 G_FILE_SET_CONTENTS_DURABLE,
                                 0600, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  self->saved_generation = data->generation;
  g_task_return_boolean (task, TRUE);
}

static void
save_thread_done_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  PopcheckMailbox *self = POPCHECK_MAILBOX (object);
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      /* Try again at the next save. */
      self->dirty = TRUE;
      g_message ("Could not save the state of account \"%s\": %s",
                 self->account_id, error->message);
      g_task_return_error (task, error);
      return;
    }

  g_task_return_boolean (task, TRUE);
}

void
popcheck_mailbox_save_async (PopcheckMailbox     *self,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GTask) thread_task = NULL;
  SaveData *data;

  g_return_if_fail (POPCHECK_IS_MAILBOX (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, popcheck_mailbox_save_async);

  /* The snapshot is taken now, on the main thread, where the messages
   * live; the thread only writes bytes. */
  data = g_new0 (SaveData, 1);
  data->path = popcheck_mailbox_dup_state_path (self);
  data->bytes = serialize_state (self);
  data->generation = ++self->save_generation;
  self->dirty = FALSE;

  /* Once the snapshot is taken the write is not cancelled: a half-done
   * save must not be what a quit leaves behind. */
  thread_task = g_task_new (self, NULL, save_thread_done_cb,
                            g_steal_pointer (&task));
  g_task_set_source_tag (thread_task, save_thread);
  g_task_set_task_data (thread_task, data, (GDestroyNotify) save_data_free);
  g_task_run_in_thread (thread_task, save_thread);
}

gboolean
popcheck_mailbox_save_finish (PopcheckMailbox  *self,
                              GAsyncResult     *result,
                              GError          **error)
{
  g_return_val_if_fail (POPCHECK_IS_MAILBOX (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        popcheck_mailbox_save_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Properties ------------------------------------------------------------- */

PopcheckMailbox *
popcheck_mailbox_new (const char *account_id)
{
  g_return_val_if_fail (account_id != NULL && *account_id != '\0', NULL);

  return g_object_new (POPCHECK_TYPE_MAILBOX, "account-id", account_id, NULL);
}

const char *
popcheck_mailbox_get_account_id (PopcheckMailbox *self)
{
  g_return_val_if_fail (POPCHECK_IS_MAILBOX (self), NULL);
  return self->account_id;
}

const char *
popcheck_mailbox_get_display_name (PopcheckMailbox *self)
{
  g_return_val_if_fail (POPCHECK_IS_MAILBOX (self), NULL);
  return self->display_name != NULL ? self->display_name : self->account_id;
}

void
popcheck_mailbox_set_display_name (PopcheckMailbox *self,
                                   const char      *display_name)
{
  g_return_if_fail (POPCHECK_IS_MAILBOX (self));

  if (g_strcmp0 (self->display_name, display_name) == 0)
    return;

  g_free (self->display_name);
  self->display_name = g_strdup (display_name);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DISPLAY_NAME]);
}

PopcheckMailboxState
popcheck_mailbox_get_state (PopcheckMailbox *self)
{
  g_return_val_if_fail (POPCHECK_IS_MAILBOX (self), POPCHECK_MAILBOX_STATE_IDLE);
  return self->state;
}

PopcheckProblem
popcheck_mailbox_get_problem (PopcheckMailbox *self)
{
  g_return_val_if_fail (POPCHECK_IS_MAILBOX (self), POPCHECK_PROBLEM_NONE);
  return self->problem;
}

const char *
popcheck_mailbox_get_error_message (PopcheckMailbox *self)
{
  g_return_val_if_fail (POPCHECK_IS_MAILBOX (self), NULL);
  return self->error_message;
}

void
popcheck_mailbox_set_state (PopcheckMailbox      *self,
                            PopcheckMailboxState  state,
                            PopcheckProblem       problem,
                            const char           *error_message)
{
  g_return_if_fail (POPCHECK_IS_MAILBOX (self));

  g_object_freeze_notify (G_OBJECT (self));

  if (self->state != state)
    {
      self->state = state;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
    }
  if (self->problem != problem)
    {
      self->problem = problem;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROBLEM]);
    }
  if (g_strcmp0 (self->error_message, error_message) != 0)
    {
      g_free (self->error_message);
      self->error_message = g_strdup (error_message);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR_MESSAGE]);
    }

  g_object_thaw_notify (G_OBJECT (self));
}

gboolean
popcheck_mailbox_get_approximate_ids (PopcheckMailbox *self)
{
  g_return_val_if_fail (POPCHECK_IS_MAILBOX (self), FALSE);
  return self->approximate_ids;
}

void
popcheck_mailbox_set_approximate_ids (PopcheckMailbox *self,
                                      gboolean         approximate_ids)
{
  g_return_if_fail (POPCHECK_IS_MAILBOX (self));

  approximate_ids = !!approximate_ids;
  if (self->approximate_ids == approximate_ids)
    return;

  self->approximate_ids = approximate_ids;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_APPROXIMATE_IDS]);
}

guint
popcheck_mailbox_get_n_items (PopcheckMailbox *self)
{
  g_return_val_if_fail (POPCHECK_IS_MAILBOX (self), 0);
  return self->items->len;
}

guint
popcheck_mailbox_get_n_new (PopcheckMailbox *self)
{
  g_return_val_if_fail (POPCHECK_IS_MAILBOX (self), 0);
  return self->n_new;
}

GDateTime *
popcheck_mailbox_get_last_check (PopcheckMailbox *self)
{
  g_return_val_if_fail (POPCHECK_IS_MAILBOX (self), NULL);
  return self->last_check;
}

gboolean
popcheck_mailbox_get_first_check_done (PopcheckMailbox *self)
{
  g_return_val_if_fail (POPCHECK_IS_MAILBOX (self), FALSE);
  return self->first_check_done;
}

guint
popcheck_mailbox_get_first_check_count (PopcheckMailbox *self)
{
  g_return_val_if_fail (POPCHECK_IS_MAILBOX (self), 0);
  return self->first_check_count;
}

gboolean
popcheck_mailbox_get_dirty (PopcheckMailbox *self)
{
  g_return_val_if_fail (POPCHECK_IS_MAILBOX (self), FALSE);
  return self->dirty;
}

static void
popcheck_mailbox_dispose (GObject *object)
{
  PopcheckMailbox *self = POPCHECK_MAILBOX (object);

  /* Messages may outlive the mailbox (a notification holds one). */
  for (guint i = 0; i < self->items->len; i++)
    g_signal_handlers_disconnect_by_func (g_ptr_array_index (self->items, i),
                                          message_is_new_cb, self);
  g_ptr_array_set_size (self->items, 0);
  g_hash_table_remove_all (self->by_uid);
  g_hash_table_remove_all (self->pending);

  G_OBJECT_CLASS (popcheck_mailbox_parent_class)->dispose (object);
}

static void
popcheck_mailbox_finalize (GObject *object)
{
  PopcheckMailbox *self = POPCHECK_MAILBOX (object);

  g_clear_pointer (&self->account_id, g_free);
  g_clear_pointer (&self->display_name, g_free);
  g_clear_pointer (&self->error_message, g_free);
  g_clear_pointer (&self->items, g_ptr_array_unref);
  g_clear_pointer (&self->by_uid, g_hash_table_unref);
  g_clear_pointer (&self->seen, g_hash_table_unref);
  g_clear_pointer (&self->pending, g_hash_table_unref);
  g_clear_pointer (&self->msg_numbers, g_hash_table_unref);
  g_clear_pointer (&self->last_check, g_date_time_unref);
  g_mutex_clear (&self->save_lock);

  G_OBJECT_CLASS (popcheck_mailbox_parent_class)->finalize (object);
}

static void
popcheck_mailbox_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  PopcheckMailbox *self = POPCHECK_MAILBOX (object);

  switch (prop_id)
    {
    case PROP_ACCOUNT_ID:
      g_value_set_string (value, self->account_id);
      break;
    case PROP_DISPLAY_NAME:
      g_value_set_string (value, popcheck_mailbox_get_display_name (self));
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_PROBLEM:
      g_value_set_enum (value, self->problem);
      break;
    case PROP_ERROR_MESSAGE:
      g_value_set_string (value, self->error_message);
      break;
    case PROP_APPROXIMATE_IDS:
      g_value_set_boolean (value, self->approximate_ids);
      break;
    case PROP_N_ITEMS:
      g_value_set_uint (value, self->items->len);
      break;
    case PROP_N_NEW:
      g_value_set_uint (value, self->n_new);
      break;
    case PROP_LAST_CHECK:
      g_value_set_boxed (value, self->last_check);
      break;
    case PROP_FIRST_CHECK_DONE:
      g_value_set_boolean (value, self->first_check_done);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
popcheck_mailbox_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  PopcheckMailbox *self = POPCHECK_MAILBOX (object);

  switch (prop_id)
    {
    case PROP_ACCOUNT_ID:
      g_assert (self->account_id == NULL);
      self->account_id = g_value_dup_string (value);
      break;
    case PROP_DISPLAY_NAME:
      popcheck_mailbox_set_display_name (self, g_value_get_string (value));
      break;
    case PROP_APPROXIMATE_IDS:
      popcheck_mailbox_set_approximate_ids (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
popcheck_mailbox_constructed (GObject *object)
{
  PopcheckMailbox *self = POPCHECK_MAILBOX (object);

  G_OBJECT_CLASS (popcheck_mailbox_parent_class)->constructed (object);

  /* g_object_new without an id: still a usable mailbox. */
  if (self->account_id == NULL || *self->account_id == '\0')
    {
      g_free (self->account_id);
      self->account_id = g_strdup ("default");
    }
}

static void
popcheck_mailbox_class_init (PopcheckMailboxClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS |
                         G_PARAM_EXPLICIT_NOTIFY;
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                         G_PARAM_EXPLICIT_NOTIFY;

  object_class->constructed = popcheck_mailbox_constructed;
  object_class->dispose = popcheck_mailbox_dispose;
  object_class->finalize = popcheck_mailbox_finalize;
  object_class->get_property = popcheck_mailbox_get_property;
  object_class->set_property = popcheck_mailbox_set_property;

  properties[PROP_ACCOUNT_ID] =
    g_param_spec_string ("account-id", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS);
  properties[PROP_DISPLAY_NAME] =
    g_param_spec_string ("display-name", NULL, NULL, NULL, rw);
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, POPCHECK_TYPE_MAILBOX_STATE,
                       POPCHECK_MAILBOX_STATE_IDLE, ro);
  properties[PROP_PROBLEM] =
    g_param_spec_enum ("problem", NULL, NULL, POPCHECK_TYPE_PROBLEM,
                       POPCHECK_PROBLEM_NONE, ro);
  properties[PROP_ERROR_MESSAGE] =
    g_param_spec_string ("error-message", NULL, NULL, NULL, ro);
  properties[PROP_APPROXIMATE_IDS] =
    g_param_spec_boolean ("approximate-ids", NULL, NULL, FALSE, rw);
  properties[PROP_N_ITEMS] =
    g_param_spec_uint ("n-items", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[PROP_N_NEW] =
    g_param_spec_uint ("n-new", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[PROP_LAST_CHECK] =
    g_param_spec_boxed ("last-check", NULL, NULL, G_TYPE_DATE_TIME, ro);
  properties[PROP_FIRST_CHECK_DONE] =
    g_param_spec_boolean ("first-check-done", NULL, NULL, FALSE, ro);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
popcheck_mailbox_init (PopcheckMailbox *self)
{
  self->items = g_ptr_array_new_with_free_func (g_object_unref);
  self->by_uid = g_hash_table_new (g_str_hash, g_str_equal);
  self->seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->pending = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                         g_object_unref);
  self->msg_numbers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                             NULL);
  g_mutex_init (&self->save_lock);
}
