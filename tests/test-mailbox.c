/* test-mailbox.c: what is new, the message list model and the state file
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "popcheck-test-mailbox"

#include "config.h"

#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "pop3-parser.h"
#include "popcheck-mailbox.h"
/* For the snapshots a save takes (save_generation). */
#include "popcheck-mailbox-private.h"
#include "popcheck-test-util.h"

/* Message i of the tests has UID "uid-i" and a date i minutes after a fixed
 * point, so higher i is newer. */
static char *
test_uid (guint i)
{
  return g_strdup_printf ("uid-%u", i);
}

static PopcheckMessage *
make_summary (guint i,
              guint msg)
{
  g_autofree char *uid = test_uid (i);
  g_autoptr(GDateTime) base = g_date_time_new_utc (2024, 1, 1, 0, 0, 0);
  g_autoptr(GDateTime) date = g_date_time_add_minutes (base, i);
  g_autofree char *date_text = g_date_time_format (date, "%a, %d %b %Y %H:%M:%S +0000");
  g_autofree char *text = g_strdup_printf ("From: sender%u@example.org\r\n"
                                           "Subject: Message %u\r\n"
                                           "Date: %s\r\n"
                                           "\r\n"
                                           "Body of %u\r\n", i, i, date_text, i);
  g_autoptr(GBytes) bytes = g_bytes_new (text, strlen (text));

  return popcheck_message_new_from_top (uid, 1000 + i, msg, bytes, 5);
}

static Pop3UidListing *
make_server_list (const guint *ids,
                  guint        n_ids)
{
  Pop3UidListing *uids = pop3_uid_listing_new ();

  for (guint i = 0; i < n_ids; i++)
    {
      g_autofree char *uid = test_uid (ids[i]);

      pop3_uid_listing_add (uids, i + 1, uid);
    }

  return uids;
}

static GArray *
make_sizes (const guint *ids,
            guint        n_ids)
{
  GArray *sizes = g_array_new (FALSE, FALSE, sizeof (Pop3ListEntry));

  for (guint i = 0; i < n_ids; i++)
    {
      Pop3ListEntry entry = { i + 1, 1000 + ids[i] };

      g_array_append_val (sizes, entry);
    }

  return sizes;
}

static guint
id_of_uid (const char *uid)
{
  g_assert_true (g_str_has_prefix (uid, "uid-"));
  return (guint) g_ascii_strtoull (uid + 4, NULL, 10);
}

/* One check as the checker runs it: the server has messages ids, in this
 * order; every TOP succeeds except for the ids in fail_top, which the
 * server refuses (-ERR) when refused is set and otherwise never answers.
 * Returns the new messages; *n_tops says how many TOPs were needed. */
static GPtrArray *
run_check_full (PopcheckMailbox *mailbox,
                const guint     *ids,
                guint            n_ids,
                const guint     *fail_top,
                guint            n_fail,
                gboolean         refused,
                guint           *n_tops)
{
  g_autoptr(Pop3UidListing) uids = make_server_list (ids, n_ids);
  g_autoptr(GArray) sizes = make_sizes (ids, n_ids);
  g_autoptr(GPtrArray) need_top = NULL;

  need_top = popcheck_mailbox_begin_update (mailbox, uids, sizes);
  g_assert_nonnull (need_top);
  if (n_tops != NULL)
    *n_tops = need_top->len;

  for (guint i = 0; i < need_top->len; i++)
    {
      Pop3UidEntry *entry = g_ptr_array_index (need_top, i);
      guint id = id_of_uid (entry->uid);
      gboolean fails = FALSE;
      g_autoptr(PopcheckMessage) message = NULL;

      for (guint j = 0; j < n_fail; j++)
        fails |= fail_top[j] == id;
      if (fails && refused)
        popcheck_mailbox_add_top_refused (mailbox, entry->uid, entry->msg,
                                          1000 + id);
      if (fails)
        continue;

      message = make_summary (id, entry->msg);
      popcheck_mailbox_add_summary (mailbox, message);
    }

  return popcheck_mailbox_end_update (mailbox);
}

static GPtrArray *
run_check (PopcheckMailbox *mailbox,
           const guint     *ids,
           guint            n_ids,
           guint           *n_tops)
{
  return run_check_full (mailbox, ids, n_ids, NULL, 0, FALSE, n_tops);
}

static guint *
range (guint first,
       guint n)
{
  guint *ids = g_new (guint, n);

  for (guint i = 0; i < n; i++)
    ids[i] = first + i;

  return ids;
}

/* A mirror of the model kept only through items-changed: if a position or
 * a count in any emission is wrong, the mirror and the model differ. */
typedef struct
{
  GPtrArray *items;
  guint      emissions;
  /* Rows removed, over all emissions. */
  guint      removed;
} Mirror;

static void
mirror_items_changed_cb (GListModel *model,
                         guint       position,
                         guint       removed,
                         guint       added,
                         Mirror     *mirror)
{
  g_assert_cmpuint (position + removed, <=, mirror->items->len);
  g_ptr_array_remove_range (mirror->items, position, removed);
  mirror->removed += removed;
  for (guint i = 0; i < added; i++)
    g_ptr_array_insert (mirror->items, position + i,
                        g_list_model_get_item (model, position + i));
  mirror->emissions++;
}

static Mirror *
mirror_new (PopcheckMailbox *mailbox)
{
  Mirror *mirror = g_new0 (Mirror, 1);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (mailbox));

  mirror->items = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (mirror->items,
                     g_list_model_get_item (G_LIST_MODEL (mailbox), i));
  g_signal_connect (mailbox, "items-changed",
                    G_CALLBACK (mirror_items_changed_cb), mirror);

  return mirror;
}

static void
mirror_free (Mirror *mirror)
{
  g_ptr_array_unref (mirror->items);
  g_free (mirror);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Mirror, mirror_free)

static void
assert_mirror (Mirror          *mirror,
               PopcheckMailbox *mailbox)
{
  GListModel *model = G_LIST_MODEL (mailbox);
  guint n = g_list_model_get_n_items (model);

  g_assert_cmpuint (mirror->items->len, ==, n);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, n);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(PopcheckMessage) item = g_list_model_get_item (model, i);

      g_assert_true (item == g_ptr_array_index (mirror->items, i));
    }
  g_assert_null (g_list_model_get_item (model, n));
}

/* Newest first, the undated last; then the higher message number, then
 * the UID. */
static void
assert_sorted (PopcheckMailbox *mailbox)
{
  GListModel *model = G_LIST_MODEL (mailbox);
  guint n = g_list_model_get_n_items (model);

  for (guint i = 1; i < n; i++)
    {
      g_autoptr(PopcheckMessage) a = g_list_model_get_item (model, i - 1);
      g_autoptr(PopcheckMessage) b = g_list_model_get_item (model, i);
      GDateTime *da = popcheck_message_get_date (a);
      GDateTime *db = popcheck_message_get_date (b);

      if (da != NULL && db != NULL && g_date_time_compare (da, db) != 0)
        g_assert_cmpint (g_date_time_compare (da, db), >, 0);
      else if (da == NULL || db == NULL)
        g_assert_true (db == NULL);
      if ((da == NULL) != (db == NULL) ||
          (da != NULL && g_date_time_compare (da, db) != 0))
        continue;
      g_assert_cmpuint (popcheck_message_get_msg_number (a), >=,
                        popcheck_message_get_msg_number (b));
      if (popcheck_message_get_msg_number (a) == popcheck_message_get_msg_number (b))
        g_assert_cmpstr (popcheck_message_get_uid (a), <, popcheck_message_get_uid (b));
    }
}

static guint
count_new (PopcheckMailbox *mailbox)
{
  GListModel *model = G_LIST_MODEL (mailbox);
  guint n_new = 0;

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(PopcheckMessage) item = g_list_model_get_item (model, i);

      n_new += popcheck_message_get_is_new (item);
    }

  return n_new;
}

/* Async helpers ---------------------------------------------------------- */

static void
result_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
  g_main_context_wakeup (NULL);
}

/* Counts the saves that finished, each of them successfully. */
static void
save_counted_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  guint *n_saved = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_true (popcheck_mailbox_save_finish (POPCHECK_MAILBOX (object),
                                               result, &error));
  g_assert_no_error (error);
  (*n_saved)++;
}

static gboolean
load_sync (PopcheckMailbox  *mailbox,
           GError          **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  popcheck_mailbox_load_async (mailbox, NULL, result_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);

  return popcheck_mailbox_load_finish (mailbox, result, error);
}

static gboolean
save_sync (PopcheckMailbox  *mailbox,
           GError          **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  popcheck_mailbox_save_async (mailbox, NULL, result_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);

  return popcheck_mailbox_save_finish (mailbox, result, error);
}

static void
details_loaded_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

/* The message with what the preview shows: from the state file, in a
 * thread, for one that was loaded from there. */
static PopcheckMessage *
load_details_sync (PopcheckMessage  *message,
                   GError          **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  popcheck_message_load_details_async (message, NULL, details_loaded_cb, &result);
  POPCHECK_TEST_WAIT_UNTIL (result != NULL, 10000);

  return popcheck_message_load_details_finish (message, result, error);
}

/* A new mailbox for the account, with its saved state. */
static PopcheckMailbox *
load_saved (const char *account_id)
{
  PopcheckMailbox *reloaded = popcheck_mailbox_new (account_id);
  g_autoptr(GError) error = NULL;

  g_assert_true (load_sync (reloaded, &error));
  g_assert_no_error (error);
  return reloaded;
}

static PopcheckMailbox *
reload (PopcheckMailbox *mailbox)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (save_sync (mailbox, &error));
  g_assert_no_error (error);
  g_assert_false (popcheck_mailbox_get_dirty (mailbox));

  return load_saved (popcheck_mailbox_get_account_id (mailbox));
}

/* What is new ------------------------------------------------------------ */

static void
test_first_check (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("first");
  g_autoptr(Mirror) mirror = mirror_new (mailbox);
  g_autoptr(GPtrArray) new_messages = NULL;
  g_autofree guint *ids = range (1, 5);
  guint n_tops = 0;

  g_assert_false (popcheck_mailbox_get_first_check_done (mailbox));
  g_assert_null (popcheck_mailbox_get_last_check (mailbox));
  g_assert_false (popcheck_mailbox_get_dirty (mailbox));

  new_messages = run_check (mailbox, ids, 5, &n_tops);
  g_assert_cmpuint (n_tops, ==, 5);
  /* No flood: what was there is recorded, not announced. */
  g_assert_cmpuint (new_messages->len, ==, 0);
  g_assert_cmpuint (popcheck_mailbox_get_first_check_count (mailbox), ==, 5);
  g_assert_true (popcheck_mailbox_get_first_check_done (mailbox));
  g_assert_nonnull (popcheck_mailbox_get_last_check (mailbox));
  g_assert_true (popcheck_mailbox_get_dirty (mailbox));
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, 5);
  g_assert_cmpuint (popcheck_mailbox_get_n_new (mailbox), ==, 0);
  g_assert_cmpuint (count_new (mailbox), ==, 0);
  assert_mirror (mirror, mailbox);
  assert_sorted (mailbox);

  /* Newest first: message 5 has the latest date. */
  {
    g_autoptr(PopcheckMessage) top = g_list_model_get_item (G_LIST_MODEL (mailbox), 0);

    g_assert_cmpstr (popcheck_message_get_uid (top), ==, "uid-5");
    g_assert_cmpuint (popcheck_message_get_msg_number (top), ==, 5);
  }
  g_assert_nonnull (popcheck_mailbox_lookup (mailbox, "uid-3"));
  g_assert_cmpuint (popcheck_mailbox_get_msg_number (mailbox, "uid-3"), ==, 3);
  g_assert_cmpuint (popcheck_mailbox_get_msg_number (mailbox, "uid-99"), ==, 0);
}

/* A first check's newest summaries are listed before its update; the
 * update keeps their rows, fetches none of them again, and adds the rest
 * of the mailbox behind them in one step.  A later check that adds more
 * than a few rows removes none of those that stay. */
static void
test_early_summaries (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("early");
  g_autoptr(Mirror) mirror = mirror_new (mailbox);
  g_autoptr(GPtrArray) early = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(Pop3UidListing) uids = NULL;
  g_autoptr(GArray) sizes = NULL;
  g_autoptr(GPtrArray) need_top = NULL;
  g_autoptr(GPtrArray) new_messages = NULL;
  g_autoptr(GPtrArray) later_new = NULL;
  g_autofree guint *ids = range (1, 1000);
  g_autofree guint *later_ids = range (1, 1100);
  PopcheckMessage *newest;
  guint emissions;

  for (guint id = 1000; id > 997; id--)
    g_ptr_array_add (early, make_summary (id, id));
  popcheck_mailbox_add_early_summaries (mailbox, early);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, 3);
  g_assert_cmpuint (popcheck_mailbox_get_n_new (mailbox), ==, 0);
  assert_mirror (mirror, mailbox);
  newest = popcheck_mailbox_lookup (mailbox, "uid-1000");
  g_assert_true (newest == g_ptr_array_index (early, 0));

  uids = make_server_list (ids, 1000);
  sizes = make_sizes (ids, 1000);
  need_top = popcheck_mailbox_begin_update (mailbox, uids, sizes);
  g_assert_cmpuint (need_top->len, ==, 997);
  for (guint i = 0; i < need_top->len; i++)
    {
      Pop3UidEntry *entry = g_ptr_array_index (need_top, i);

      g_assert_cmpuint (id_of_uid (entry->uid), <, 998);
      popcheck_mailbox_add_headers_pending (mailbox, entry->uid, entry->msg,
                                            1000 + id_of_uid (entry->uid));
    }
  emissions = mirror->emissions;
  mirror->removed = 0;
  new_messages = popcheck_mailbox_end_update (mailbox);

  g_assert_cmpuint (new_messages->len, ==, 0);
  g_assert_cmpuint (popcheck_mailbox_get_first_check_count (mailbox), ==, 1000);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, 1000);
  g_assert_cmpuint (mirror->emissions - emissions, ==, 1);
  g_assert_cmpuint (mirror->removed, ==, 0);
  g_assert_true (popcheck_mailbox_lookup (mailbox, "uid-1000") == newest);
  assert_mirror (mirror, mailbox);
  assert_sorted (mailbox);

  /* A later check: 100 new, and the 997 pending get their headers, more
   * changes than are told one by one.  Only the rows it replaces are
   * removed; the three that stay are not. */
  mirror->removed = 0;
  later_new = run_check (mailbox, later_ids, 1100, NULL);
  g_assert_cmpuint (later_new->len, ==, 100);
  g_assert_cmpuint (mirror->removed, ==, 997);
  g_assert_true (popcheck_mailbox_lookup (mailbox, "uid-1000") == newest);
  assert_mirror (mirror, mailbox);
  assert_sorted (mailbox);
}

static void
n_new_notify_cb (GObject    *object,
                 GParamSpec *pspec,
                 guint      *count)
{
  (*count)++;
}

static void
test_new_messages (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("new");
  g_autoptr(Mirror) mirror = mirror_new (mailbox);
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GPtrArray) second = NULL;
  g_autoptr(GPtrArray) third = NULL;
  g_autofree guint *ids = range (1, 7);
  guint n_tops = 0;
  guint n_new_notified = 0;
  guint emissions;

  first = run_check (mailbox, ids, 5, NULL);
  g_assert_cmpuint (first->len, ==, 0);

  g_signal_connect (mailbox, "notify::n-new", G_CALLBACK (n_new_notify_cb),
                    &n_new_notified);
  emissions = mirror->emissions;

  /* Two arrive: exactly those two, and only they need TOP. */
  second = run_check (mailbox, ids, 7, &n_tops);
  g_assert_cmpuint (n_tops, ==, 2);
  g_assert_cmpuint (second->len, ==, 2);
  g_assert_cmpstr (popcheck_message_get_uid (g_ptr_array_index (second, 0)), ==, "uid-7");
  g_assert_cmpstr (popcheck_message_get_uid (g_ptr_array_index (second, 1)), ==, "uid-6");
  g_assert_true (popcheck_message_get_is_new (g_ptr_array_index (second, 0)));
  g_assert_cmpuint (popcheck_mailbox_get_n_new (mailbox), ==, 2);
  g_assert_cmpuint (count_new (mailbox), ==, 2);
  g_assert_cmpuint (n_new_notified, >, 0);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, 7);
  /* Two insertions, each announced at its own position. */
  g_assert_cmpuint (mirror->emissions - emissions, ==, 2);
  assert_mirror (mirror, mailbox);
  assert_sorted (mailbox);

  /* The same again: nothing new, no TOP, no change to the model. */
  emissions = mirror->emissions;
  third = run_check (mailbox, ids, 7, &n_tops);
  g_assert_cmpuint (n_tops, ==, 0);
  g_assert_cmpuint (third->len, ==, 0);
  g_assert_cmpuint (mirror->emissions, ==, emissions);
  /* Still unread until the user looks. */
  g_assert_cmpuint (popcheck_mailbox_get_n_new (mailbox), ==, 2);

  popcheck_mailbox_mark_all_seen (mailbox);
  g_assert_cmpuint (popcheck_mailbox_get_n_new (mailbox), ==, 0);
  g_assert_cmpuint (count_new (mailbox), ==, 0);

  /* One message looked at from the UI. */
  {
    g_autoptr(GPtrArray) fourth = NULL;
    g_autofree guint *more = range (1, 9);
    const char *uids[] = { NULL, NULL };

    fourth = run_check (mailbox, more, 9, NULL);
    g_assert_cmpuint (fourth->len, ==, 2);
    g_assert_cmpuint (popcheck_mailbox_get_n_new (mailbox), ==, 2);
    uids[0] = popcheck_message_get_uid (g_ptr_array_index (fourth, 0));
    g_assert_true (popcheck_mailbox_mark_seen (mailbox, uids));
    g_assert_cmpuint (popcheck_mailbox_get_n_new (mailbox), ==, 1);
    g_assert_false (popcheck_message_get_is_new (g_ptr_array_index (fourth, 0)));
    g_assert_true (popcheck_mailbox_get_dirty (mailbox));
    /* Seen already: nothing changes, and nothing is counted twice. */
    g_assert_false (popcheck_mailbox_mark_seen (mailbox, uids));
    g_assert_cmpuint (popcheck_mailbox_get_n_new (mailbox), ==, 1);
  }
}

/* Rows gone from either end, both, the middle or here and there are
 * all found, whatever the walk meets first, and no other. */
static void
test_removed_anywhere (void)
{
  static const struct
  {
    const char *name;
    guint       gone[6];
  } cases[] = {
    { "newest", { 30, 29, 28 } },
    { "oldest", { 1, 2, 3 } },
    { "both ends", { 1, 2, 30 } },
    { "middle", { 14, 15, 16 } },
    { "here and there", { 2, 7, 15, 16, 24, 29 } },
    { "every other end", { 1, 30, 3, 28 } },
  };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("removed-anywhere");
      g_autoptr(Mirror) mirror = mirror_new (mailbox);
      g_autofree guint *ids = range (1, 30);
      g_autoptr(GArray) listed = g_array_new (FALSE, FALSE, sizeof (guint));
      guint n_gone = 0;

      g_test_message ("%s", cases[c].name);
      g_ptr_array_unref (run_check (mailbox, ids, 30, NULL));
      for (guint id = 1; id <= 30; id++)
        {
          gboolean gone = FALSE;

          for (guint j = 0; j < G_N_ELEMENTS (cases[c].gone); j++)
            gone |= cases[c].gone[j] == id;
          if (gone)
            n_gone++;
          else
            g_array_append_val (listed, id);
        }

      g_ptr_array_unref (run_check (mailbox, (guint *) listed->data, listed->len, NULL));
      g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, 30 - n_gone);
      for (guint id = 1; id <= 30; id++)
        {
          g_autofree char *uid = test_uid (id);
          gboolean kept = FALSE;

          for (guint j = 0; j < listed->len; j++)
            kept |= g_array_index (listed, guint, j) == id;
          g_assert_true ((popcheck_mailbox_lookup (mailbox, uid) != NULL) == kept);
        }
      assert_mirror (mirror, mailbox);
      assert_sorted (mailbox);
    }
}

static void
test_removed_messages (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("removed");
  g_autoptr(PopcheckMailbox) reloaded = NULL;
  g_autoptr(Mirror) mirror = mirror_new (mailbox);
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GPtrArray) second = NULL;
  g_autoptr(GPtrArray) third = NULL;
  g_autofree guint *ids = range (1, 6);
  static const guint remaining[] = { 1, 3, 5, 6 };
  static const guint back[] = { 1, 2, 3, 5, 6 };
  g_autoptr(PopcheckMessage) kept = NULL;
  guint n_tops = 0;

  first = run_check (mailbox, ids, 6, NULL);
  kept = g_object_ref (popcheck_mailbox_lookup (mailbox, "uid-5"));
  g_assert_cmpuint (popcheck_message_get_msg_number (kept), ==, 5);

  /* 2 and 4 were deleted elsewhere: the rest renumber. */
  second = run_check (mailbox, remaining, G_N_ELEMENTS (remaining), &n_tops);
  g_assert_cmpuint (n_tops, ==, 0);
  g_assert_cmpuint (second->len, ==, 0);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, 4);
  g_assert_null (popcheck_mailbox_lookup (mailbox, "uid-2"));
  g_assert_null (popcheck_mailbox_lookup (mailbox, "uid-4"));
  g_assert_cmpuint (popcheck_mailbox_get_msg_number (mailbox, "uid-4"), ==, 0);
  g_assert_true (popcheck_mailbox_lookup (mailbox, "uid-5") == kept);
  g_assert_cmpuint (popcheck_message_get_msg_number (kept), ==, 3);
  g_assert_cmpuint (popcheck_mailbox_get_msg_number (mailbox, "uid-5"), ==, 3);
  assert_mirror (mirror, mailbox);
  assert_sorted (mailbox);

  /* Gone from the cache too: not in the saved state. */
  reloaded = reload (mailbox);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (reloaded), ==, 4);
  g_assert_null (popcheck_mailbox_lookup (reloaded, "uid-2"));

  /* A UID that comes back has no summary left and needs a TOP. */
  third = run_check (reloaded, back, G_N_ELEMENTS (back), &n_tops);
  g_assert_cmpuint (n_tops, ==, 1);

  /* After a delete by UID. */
  popcheck_mailbox_remove_uids (mailbox, (const char * const []) { "uid-1", "uid-6", "uid-missing", NULL });
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, 2);
  g_assert_null (popcheck_mailbox_lookup (mailbox, "uid-1"));
  g_assert_null (popcheck_mailbox_lookup (mailbox, "uid-6"));
  g_assert_true (popcheck_mailbox_get_dirty (mailbox));
  assert_mirror (mirror, mailbox);
}

static void
test_failed_top (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("failed-top");
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GPtrArray) second = NULL;
  g_autoptr(GPtrArray) third = NULL;
  g_autofree guint *ids = range (1, 5);
  static const guint fail[] = { 5 };
  guint n_tops = 0;

  first = run_check_full (mailbox, ids, 3, (const guint []) { 2 }, 1, FALSE,
                         NULL);
  /* The first check records everything, with or without a summary. */
  g_assert_cmpuint (first->len, ==, 0);
  g_assert_cmpuint (popcheck_mailbox_get_first_check_count (mailbox), ==, 3);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, 2);

  /* 4 and 5 arrive; the TOP of 5 fails: 4 is announced now, 5 later, with
   * its summary, and 2 gets its summary without being announced. */
  second = run_check_full (mailbox, ids, 5, fail, G_N_ELEMENTS (fail), FALSE,
                           &n_tops);
  g_assert_cmpuint (n_tops, ==, 3);
  g_assert_cmpuint (second->len, ==, 1);
  g_assert_cmpstr (popcheck_message_get_uid (g_ptr_array_index (second, 0)), ==, "uid-4");
  g_assert_nonnull (popcheck_mailbox_lookup (mailbox, "uid-2"));
  g_assert_false (popcheck_message_get_is_new (popcheck_mailbox_lookup (mailbox, "uid-2")));

  third = run_check (mailbox, ids, 5, &n_tops);
  g_assert_cmpuint (n_tops, ==, 1);
  g_assert_cmpuint (third->len, ==, 1);
  g_assert_cmpstr (popcheck_message_get_uid (g_ptr_array_index (third, 0)), ==, "uid-5");

  /* A check that fails between begin and end: the summaries it got are
   * kept for the next one, and nothing is announced twice. */
  {
    g_autofree guint *more = range (1, 7);
    g_autoptr(Pop3UidListing) uids = make_server_list (more, 7);
    g_autoptr(GPtrArray) need_top = popcheck_mailbox_begin_update (mailbox, uids, NULL);
    g_autoptr(PopcheckMessage) six = make_summary (6, 6);
    g_autoptr(GPtrArray) fourth = NULL;

    g_assert_cmpuint (need_top->len, ==, 2);
    popcheck_mailbox_add_summary (mailbox, six);
    /* ... the connection drops; no end_update. */

    fourth = run_check (mailbox, more, 7, &n_tops);
    g_assert_cmpuint (n_tops, ==, 1);
    g_assert_cmpuint (fourth->len, ==, 2);
  }
}

static void
test_invalid_and_duplicate_uids (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("invalid");
  g_autoptr(Pop3UidListing) uids = pop3_uid_listing_new ();
  g_autoptr(GPtrArray) need_top = NULL;
  g_autoptr(GPtrArray) new_messages = NULL;
  static const char * const list[] = {
    "uid-1", "", "has space", "uid-2", "uid-1", "ctrl\x1b",
    "0123456789012345678901234567890123456789012345678901234567890123456789x",
    "uid-3",
  };

  for (guint i = 0; i < G_N_ELEMENTS (list); i++)
    pop3_uid_listing_add (uids, i + 1, list[i]);

  need_top = popcheck_mailbox_begin_update (mailbox, uids, NULL);
  g_assert_cmpuint (need_top->len, ==, 3);
  for (guint i = 0; i < need_top->len; i++)
    {
      Pop3UidEntry *entry = g_ptr_array_index (need_top, i);
      g_autoptr(PopcheckMessage) message = make_summary (id_of_uid (entry->uid),
                                                         entry->msg);

      g_assert_true (pop3_uid_is_valid (entry->uid));
      popcheck_mailbox_add_summary (mailbox, message);
    }
  /* The first of two messages with one UID keeps it. */
  g_assert_cmpuint (popcheck_mailbox_get_msg_number (mailbox, "uid-1"), ==, 1);
  g_assert_cmpuint (popcheck_mailbox_get_msg_number (mailbox, "uid-3"), ==, 8);

  new_messages = popcheck_mailbox_end_update (mailbox);
  g_assert_cmpuint (new_messages->len, ==, 0);
  g_assert_cmpuint (popcheck_mailbox_get_first_check_count (mailbox), ==, 3);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, 3);

  /* A summary with a UID no server may send is not taken. */
  {
    g_autoptr(GBytes) bytes = g_bytes_new_static ("Subject: x\r\n\r\n", 14);
    g_autoptr(PopcheckMessage) bad = popcheck_message_new_from_top ("bad uid", 1, 1, bytes, 5);
    g_autoptr(GPtrArray) again = NULL;
    g_autoptr(GPtrArray) after = NULL;

    again = popcheck_mailbox_begin_update (mailbox, uids, NULL);
    popcheck_mailbox_add_summary (mailbox, bad);
    after = popcheck_mailbox_end_update (mailbox);
    g_assert_cmpuint (after->len, ==, 0);
    g_assert_null (popcheck_mailbox_lookup (mailbox, "bad uid"));
    g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, 3);
  }
}

/* The server reused UID 2 for another message: LIST gives it another
 * size (its last line for message 2 does). */
static void
assert_size_change_found (GArray *sizes)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("size");
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(Pop3UidListing) uids = NULL;
  g_autoptr(GPtrArray) need_top = NULL;
  g_autoptr(GPtrArray) none = NULL;
  g_autoptr(PopcheckMessage) replacement = make_summary (2, 2);
  g_autofree guint *ids = range (1, 3);

  first = run_check (mailbox, ids, 3, NULL);

  uids = make_server_list (ids, 3);
  need_top = popcheck_mailbox_begin_update (mailbox, uids, sizes);
  g_assert_cmpuint (need_top->len, ==, 1);
  g_assert_cmpstr (((Pop3UidEntry *) g_ptr_array_index (need_top, 0))->uid, ==, "uid-2");

  popcheck_mailbox_add_summary (mailbox, replacement);
  none = popcheck_mailbox_end_update (mailbox);
  /* Not announced: the UID was seen. */
  g_assert_cmpuint (none->len, ==, 0);
  g_assert_true (popcheck_mailbox_lookup (mailbox, "uid-2") == replacement);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, 3);
}

/* Found in a listing numbered 1 to n, and in one out of order that
 * repeats a message (looked up through a table). */
static void
test_size_change (void)
{
  g_autofree guint *ids = range (1, 3);
  g_autoptr(GArray) sound = make_sizes (ids, 3);
  g_autoptr(GArray) unsorted = g_array_new (FALSE, FALSE, sizeof (Pop3ListEntry));
  static const Pop3ListEntry lines[] = {
    { 3, 1003 }, { 2, 1002 }, { 1, 1001 }, { 2, 5 },
  };

  g_array_index (sound, Pop3ListEntry, 1).octets = 5;
  assert_size_change_found (sound);

  g_array_append_vals (unsorted, lines, G_N_ELEMENTS (lines));
  assert_size_change_found (unsorted);
}

static void
test_order (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("order");
  g_autoptr(Mirror) mirror = mirror_new (mailbox);
  g_autoptr(Pop3UidListing) uids = pop3_uid_listing_new ();
  g_autoptr(GPtrArray) need_top = NULL;
  g_autoptr(GPtrArray) new_messages = NULL;
  static const char *texts[] = {
    "Subject: undated\r\n\r\n",
    "Subject: same date\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\n",
    "Subject: same date\r\nDate: Mon, 1 Jan 2024 01:00:00 +0100\r\n\r\n",
    "Subject: newest\r\nDate: Tue, 2 Jan 2024 00:00:00 +0000\r\n\r\n",
    "Subject: undated\r\n\r\n",
  };
  static const char *expected[] = { "m4", "m3", "m2", "m5", "m1" };

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autofree char *uid = g_strdup_printf ("m%u", i + 1);

      pop3_uid_listing_add (uids, i + 1, uid);
    }

  need_top = popcheck_mailbox_begin_update (mailbox, uids, NULL);
  for (guint i = 0; i < need_top->len; i++)
    {
      Pop3UidEntry *entry = g_ptr_array_index (need_top, i);
      g_autoptr(GBytes) bytes = g_bytes_new_static (texts[entry->msg - 1],
                                                    strlen (texts[entry->msg - 1]));
      /* As the session would: a summary without the number. */
      g_autoptr(PopcheckMessage) message = popcheck_message_new_from_top (entry->uid, 10, 0,
                                                                          bytes, 5);

      popcheck_mailbox_add_summary (mailbox, message);
      g_assert_cmpuint (popcheck_message_get_msg_number (message), ==, entry->msg);
    }
  new_messages = popcheck_mailbox_end_update (mailbox);

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (mailbox)), ==, 5);
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_autoptr(PopcheckMessage) item = g_list_model_get_item (G_LIST_MODEL (mailbox), i);

      g_assert_cmpstr (popcheck_message_get_uid (item), ==, expected[i]);
    }
  g_assert_true (g_list_model_get_item_type (G_LIST_MODEL (mailbox)) ==
                 POPCHECK_TYPE_MESSAGE);
  assert_mirror (mirror, mailbox);
}

/* Messages of one date in the state file are in the order of the numbers
 * they had, which a loaded message does not have yet: they load in the
 * order of their UIDs, whether those followed the numbers (a run in
 * reverse) or not, and take the numbers' order again at the next check. */
static void
test_same_date_reload (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("same-date");
  g_autoptr(PopcheckMailbox) reloaded = NULL;
  g_autoptr(GPtrArray) need_top = NULL;
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GPtrArray) again = NULL;
  /* The server's messages 1 to 8; 1 to 4 of one date, 5 to 8 of a later. */
  static const guint ids[] = { 1, 2, 3, 4, 7, 5, 8, 6 };
  static const guint loaded[] = { 5, 6, 7, 8, 1, 2, 3, 4 };
  static const guint checked[] = { 6, 8, 5, 7, 4, 3, 2, 1 };
  g_autoptr(Pop3UidListing) uids = make_server_list (ids, G_N_ELEMENTS (ids));

  need_top = popcheck_mailbox_begin_update (mailbox, uids, NULL);
  for (guint i = 0; i < need_top->len; i++)
    {
      Pop3UidEntry *entry = g_ptr_array_index (need_top, i);
      const char *text = id_of_uid (entry->uid) <= 4
        ? "Subject: older\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\n"
        : "Subject: newer\r\nDate: Tue, 2 Jan 2024 00:00:00 +0000\r\n\r\n";
      g_autoptr(GBytes) bytes = g_bytes_new_static (text, strlen (text));
      g_autoptr(PopcheckMessage) message =
        popcheck_message_new_from_top (entry->uid, 10, entry->msg, bytes, 5);

      popcheck_mailbox_add_summary (mailbox, message);
    }
  first = popcheck_mailbox_end_update (mailbox);

  reloaded = reload (mailbox);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (reloaded)), ==,
                    G_N_ELEMENTS (loaded));
  for (guint i = 0; i < G_N_ELEMENTS (loaded); i++)
    {
      g_autoptr(PopcheckMessage) item = g_list_model_get_item (G_LIST_MODEL (reloaded), i);

      g_assert_cmpuint (id_of_uid (popcheck_message_get_uid (item)), ==, loaded[i]);
    }

  g_clear_pointer (&need_top, g_ptr_array_unref);
  need_top = popcheck_mailbox_begin_update (reloaded, uids, NULL);
  g_assert_cmpuint (need_top->len, ==, 0);
  again = popcheck_mailbox_end_update (reloaded);
  g_assert_cmpuint (again->len, ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (checked); i++)
    {
      g_autoptr(PopcheckMessage) item = g_list_model_get_item (G_LIST_MODEL (reloaded), i);

      g_assert_cmpuint (id_of_uid (popcheck_message_get_uid (item)), ==, checked[i]);
    }
}

static void
test_state_properties (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("props");
  PopcheckMailboxState state;
  PopcheckProblem problem;
  g_autofree char *message = NULL;
  g_autofree char *name = NULL;

  g_assert_cmpstr (popcheck_mailbox_get_display_name (mailbox), ==, "props");
  popcheck_mailbox_set_display_name (mailbox, "Work");
  popcheck_mailbox_set_state (mailbox, POPCHECK_MAILBOX_STATE_ERROR,
                              POPCHECK_PROBLEM_AUTH, "Wrong password");
  g_object_get (mailbox, "state", &state, "problem", &problem,
                "error-message", &message, "display-name", &name, NULL);
  g_assert_cmpint (state, ==, POPCHECK_MAILBOX_STATE_ERROR);
  g_assert_cmpint (problem, ==, POPCHECK_PROBLEM_AUTH);
  g_assert_cmpstr (message, ==, "Wrong password");
  g_assert_cmpstr (name, ==, "Work");

  popcheck_mailbox_set_state (mailbox, POPCHECK_MAILBOX_STATE_IDLE,
                              POPCHECK_PROBLEM_NONE, NULL);
  g_assert_null (popcheck_mailbox_get_error_message (mailbox));

  popcheck_mailbox_set_approximate_ids (mailbox, TRUE);
  g_assert_true (popcheck_mailbox_get_approximate_ids (mailbox));
}

/* The state file --------------------------------------------------------- */

static char *find_damaged (const char *path);

/* The details file next to a mailbox's index: its only one, or NULL. */
static char *
find_details (PopcheckMailbox *mailbox)
{
  g_autofree char *path = popcheck_mailbox_dup_state_path (mailbox);
  g_autofree char *dir_name = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *prefix = NULL;
  g_autoptr(GDir) dir = g_dir_open (dir_name, 0, NULL);
  char *found = NULL;
  const char *name;

  g_assert_true (g_str_has_suffix (base, ".state"));
  base[strlen (base) - strlen (".state")] = '\0';
  prefix = g_strconcat (base, ".details-", NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, prefix))
      {
        g_assert_null (found);
        found = g_build_filename (dir_name, name, NULL);
      }

  return found;
}

static GBytes *
file_bytes (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &contents, &len, &error));
  g_assert_no_error (error);
  return g_bytes_new_take (contents, len);
}

static void
append_garbage (const char *path,
                gsize       n)
{
  g_autofree char *garbage = g_malloc (n);
  FILE *file = fopen (path, "ab");

  memset (garbage, 0xA5, n);
  g_assert_nonnull (file);
  g_assert_cmpuint (fwrite (garbage, 1, n, file), ==, n);
  g_assert_cmpint (fclose (file), ==, 0);
}

/* The details of every listed message with headers, read back: its
 * preview is its own.  Returns how many it read. */
static guint
check_known_details (PopcheckMailbox *mailbox)
{
  guint n = popcheck_mailbox_get_n_items (mailbox);
  guint n_known = 0;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(PopcheckMessage) message = g_list_model_get_item (G_LIST_MODEL (mailbox), i);
      g_autoptr(PopcheckMessage) details = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *body = NULL;

      if (!popcheck_message_get_headers_known (message))
        continue;
      details = load_details_sync (message, &error);
      g_assert_no_error (error);
      body = g_strdup_printf ("Body of %u",
                              id_of_uid (popcheck_message_get_uid (message)));
      g_assert_cmpstr (popcheck_message_get_preview (details), ==, body);
      n_known++;
    }
  return n_known;
}

/* Every listed message's details, read back. */
static void
assert_details_readable (PopcheckMailbox *mailbox)
{
  guint n = popcheck_mailbox_get_n_items (mailbox);

  g_assert_cmpuint (n, >, 0);
  g_assert_cmpuint (check_known_details (mailbox), ==, n);
}

/* A start after a save: every message there, and its details readable. */
static PopcheckMailbox *
reload_readable (PopcheckMailbox *mailbox,
                 guint            n_items)
{
  PopcheckMailbox *fresh = reload (mailbox);

  g_assert_cmpuint (popcheck_mailbox_get_n_items (fresh), ==, n_items);
  assert_details_readable (fresh);
  return fresh;
}

/* A save after a check that found new mail appends their details and
 * leaves the bytes already in the details file alone: the same file,
 * grown, its start unchanged. */
static void
test_details_appended (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("appended");
  g_autoptr(PopcheckMailbox) reloaded = NULL;
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GPtrArray) second = NULL;
  g_autoptr(GBytes) before = NULL;
  g_autoptr(GBytes) after = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint *ids = range (1, 8);
  g_autofree char *details = NULL;
  g_autofree char *details_after = NULL;
  GStatBuf info_before, info_after;

  first = run_check (mailbox, ids, 5, NULL);
  g_assert_true (save_sync (mailbox, &error));
  details = find_details (mailbox);
  g_assert_nonnull (details);
  g_assert_cmpint (g_stat (details, &info_before), ==, 0);
  before = file_bytes (details);

  second = run_check (mailbox, ids, 8, NULL);
  g_assert_cmpuint (second->len, ==, 3);
  g_assert_true (save_sync (mailbox, &error));

  details_after = find_details (mailbox);
  g_assert_cmpstr (details_after, ==, details);
  g_assert_cmpint (g_stat (details, &info_after), ==, 0);
  g_assert_cmpuint (info_after.st_ino, ==, info_before.st_ino);
  after = file_bytes (details);
  g_assert_cmpuint (g_bytes_get_size (after), >, g_bytes_get_size (before));
  g_assert_cmpmem (g_bytes_get_data (after, NULL), g_bytes_get_size (before),
                   g_bytes_get_data (before, NULL), g_bytes_get_size (before));

  reloaded = reload_readable (mailbox, 8);
}

/* New mail that falls between the rows a save put in the details file:
 * the next save finds each row's details where they are, in memory or
 * in the file, in the list's order. */
static void
test_details_interleaved (void)
{
  static const guint even[] = { 2, 4, 6 };
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("interleaved");
  g_autoptr(PopcheckMailbox) reloaded = NULL;
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GPtrArray) second = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint *ids = range (1, 7);

  first = run_check (mailbox, even, G_N_ELEMENTS (even), NULL);
  g_assert_true (save_sync (mailbox, &error));
  g_assert_no_error (error);

  second = run_check (mailbox, ids, 7, NULL);
  g_assert_cmpuint (second->len, ==, 4);
  g_assert_true (save_sync (mailbox, &error));
  g_assert_no_error (error);

  reloaded = reload_readable (mailbox, 7);
}

/* Several saves, each adding mail and some deleted on the server, then
 * one that finds the details file mostly garbage and rewrites it: every
 * preview still reads what its message said, before and after. */
static void
test_details_compacted (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("compacted");
  g_autoptr(PopcheckMailbox) reloaded = NULL;
  g_autoptr(PopcheckMailbox) again = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint *ids = range (1, 12);
  g_autofree char *details = NULL;
  g_autofree char *compacted = NULL;
  g_autoptr(GBytes) bytes = NULL;

  for (guint n = 4; n <= 12; n += 4)
    {
      g_autoptr(GPtrArray) found = run_check (mailbox, ids, n, NULL);

      g_assert_true (save_sync (mailbox, &error));
      g_assert_no_error (error);
    }
  reloaded = reload_readable (mailbox, 12);

  /* Deleted on the server, and 2 MB that saves cut short left behind. */
  popcheck_mailbox_remove_uids (reloaded, (const char * const []) { "uid-1", "uid-2", NULL });
  details = find_details (reloaded);
  append_garbage (details, 2 * 1024 * 1024);
  g_assert_true (save_sync (reloaded, &error));
  g_assert_no_error (error);

  /* A new file, small again, and the old one gone. */
  compacted = find_details (reloaded);
  g_assert_nonnull (compacted);
  g_assert_cmpstr (compacted, !=, details);
  g_assert_false (g_file_test (details, G_FILE_TEST_EXISTS));
  bytes = file_bytes (compacted);
  g_assert_cmpuint (g_bytes_get_size (bytes), <, 64 * 1024);

  /* The list that was saved reads from the new file, and so does the
   * next start. */
  assert_details_readable (reloaded);
  again = reload (reloaded);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (again), ==, 10);
  g_assert_null (popcheck_mailbox_lookup (again, "uid-1"));
  assert_details_readable (again);
}

/* A state file of the single-file format of before (a GVariant holding
 * every summary whole) loads, previews read from it, and the next save
 * writes the index and details files in its place.  Of two summaries
 * with one UID, the first is taken. */
static void
test_old_format (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("old-format");
  g_autoptr(PopcheckMailbox) reloaded = NULL;
  g_autoptr(GVariant) state = NULL;
  g_autoptr(GBytes) index = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = popcheck_mailbox_dup_state_path (mailbox);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *details = NULL;
  GVariantBuilder seen, summaries;
  PopcheckMessage *message;

  g_variant_builder_init (&seen, G_VARIANT_TYPE ("as"));
  g_variant_builder_init (&summaries, G_VARIANT_TYPE ("av"));
  for (guint i = 1; i <= 4; i++)
    {
      g_autoptr(PopcheckMessage) summary = make_summary (i, i);
      g_autofree char *uid = test_uid (i);

      popcheck_message_set_is_new (summary, i == 4);
      g_variant_builder_add (&seen, "s", uid);
      g_variant_builder_add (&summaries, "v", popcheck_message_to_variant (summary));
    }
  /* A second summary of one UID, which only a damaged file holds: the
   * first is the one kept. */
  {
    g_autoptr(PopcheckMessage) again = make_summary (2, 2);

    popcheck_message_set_is_new (again, TRUE);
    g_variant_builder_add (&summaries, "v", popcheck_message_to_variant (again));
  }
  state = g_variant_ref_sink (g_variant_new ("(suv)", "org.example.PopCheck.MailboxState",
                                             1, g_variant_new ("(sbxasav)", "old-format",
                                                               TRUE,
                                                               G_GINT64_CONSTANT (1700000000),
                                                               &seen, &summaries)));
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (path, g_variant_get_data (state),
                                      g_variant_get_size (state), &error));

  g_assert_true (load_sync (mailbox, &error));
  g_assert_no_error (error);
  g_assert_null (find_damaged (path));
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, 4);
  g_assert_cmpuint (popcheck_mailbox_get_n_new (mailbox), ==, 1);
  assert_details_readable (mailbox);

  /* Saved anew: an index and a details file. */
  reloaded = reload (mailbox);
  index = file_bytes (path);
  g_assert_cmpuint (g_bytes_get_size (index), >, 16);
  g_assert_cmpmem (g_bytes_get_data (index, NULL), 15, "PopCheck index\n", 15);
  details = find_details (reloaded);
  g_assert_nonnull (details);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (reloaded), ==, 4);
  g_assert_cmpuint (popcheck_mailbox_get_n_new (reloaded), ==, 1);
  message = popcheck_mailbox_lookup (reloaded, "uid-2");
  g_assert_cmpstr (popcheck_message_get_subject (message), ==, "Message 2");
  assert_details_readable (reloaded);
}

/* An index whose details file lost its end (cut by another program, or a
 * disk that filled up): the list is whole, and a preview fails the way
 * the preview pane tells the user about (that the first lines could not
 * be read from PopCheck's cache), not with a crash; a save keeps it so. */
static void
test_details_past_end (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("past-end");
  g_autoptr(PopcheckMailbox) reloaded = popcheck_mailbox_new ("past-end");
  g_autoptr(PopcheckMailbox) again = NULL;
  g_autoptr(PopcheckMessage) details = NULL;
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint *ids = range (1, 3);
  g_autofree char *path = NULL;
  g_autofree char *state_path = popcheck_mailbox_dup_state_path (mailbox);
  PopcheckMessage *message;

  first = run_check (mailbox, ids, 3, NULL);
  g_assert_true (save_sync (mailbox, &error));
  path = find_details (mailbox);
  g_assert_nonnull (path);
  g_assert_cmpint (truncate (path, 40), ==, 0);

  g_assert_true (load_sync (reloaded, &error));
  g_assert_no_error (error);
  g_assert_null (find_damaged (state_path));
  g_assert_cmpuint (popcheck_mailbox_get_n_items (reloaded), ==, 3);
  message = popcheck_mailbox_lookup (reloaded, "uid-2");
  g_assert_cmpstr (popcheck_message_get_subject (message), ==, "Message 2");
  details = load_details_sync (message, &error);
  g_assert_null (details);
  g_assert_error (error, POPCHECK_MESSAGE_ERROR,
                  POPCHECK_MESSAGE_ERROR_INVALID_CACHE);
  g_clear_error (&error);

  again = reload (reloaded);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (again), ==, 3);
  message = popcheck_mailbox_lookup (again, "uid-3");
  g_assert_cmpstr (popcheck_message_get_subject (message), ==, "Message 3");
  details = load_details_sync (message, &error);
  g_assert_null (details);
  g_assert_error (error, POPCHECK_MESSAGE_ERROR,
                  POPCHECK_MESSAGE_ERROR_INVALID_CACHE);
}

/* A details file that no index points at (a save crashed between making
 * it and writing its index) is removed by the next save, which keeps its
 * own. */
static void
test_details_left_by_crash (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("left");
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GPtrArray) second = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint *ids = range (1, 4);
  g_autofree char *path = popcheck_mailbox_dup_state_path (mailbox);
  g_autofree char *details = NULL;
  g_autofree char *after = NULL;
  g_autofree char *stray = NULL;

  first = run_check (mailbox, ids, 3, NULL);
  g_assert_true (save_sync (mailbox, &error));
  details = find_details (mailbox);
  g_assert_nonnull (details);
  stray = g_strdup_printf ("%.*s.details-00000000deadbeef",
                           (int) (strlen (path) - strlen (".state")), path);
  g_assert_true (g_file_set_contents (stray, "left by a crash", -1, &error));

  second = run_check (mailbox, ids, 4, NULL);
  g_assert_true (save_sync (mailbox, &error));
  g_assert_false (g_file_test (stray, G_FILE_TEST_EXISTS));
  after = find_details (mailbox);
  g_assert_cmpstr (after, ==, details);
}

/* A details file whose summary at one message's place is another's
 * (UIDs of the same length swapped, so the file is sound otherwise): the
 * preview does not show the other message's lines under this one. */
static void
test_details_of_another (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("another");
  g_autoptr(PopcheckMailbox) reloaded = popcheck_mailbox_new ("another");
  g_autoptr(PopcheckMessage) details = NULL;
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint *ids = range (1, 3);
  g_autofree char *path = NULL;
  g_autofree char *contents = NULL;
  gsize len = 0;

  first = run_check (mailbox, ids, 3, NULL);
  g_assert_true (save_sync (mailbox, &error));
  path = find_details (mailbox);
  g_assert_nonnull (path);
  g_assert_true (g_file_get_contents (path, &contents, &len, &error));
  for (gsize i = 0; i + 5 <= len; i++)
    if (memcmp (contents + i, "uid-", 4) == 0 &&
        (contents[i + 4] == '2' || contents[i + 4] == '3'))
      contents[i + 4] = contents[i + 4] == '2' ? '3' : '2';
  g_assert_true (g_file_set_contents (path, contents, len, &error));

  g_assert_true (load_sync (reloaded, &error));
  details = load_details_sync (popcheck_mailbox_lookup (reloaded, "uid-2"),
                               &error);
  g_assert_null (details);
  g_assert_error (error, POPCHECK_MESSAGE_ERROR,
                  POPCHECK_MESSAGE_ERROR_INVALID_CACHE);
  g_clear_error (&error);
  /* The others are as they were. */
  details = load_details_sync (popcheck_mailbox_lookup (reloaded, "uid-1"),
                               &error);
  g_assert_no_error (error);
  g_assert_cmpstr (popcheck_message_get_uid (details), ==, "uid-1");
}

/* A save killed after appending to the details file and before its
 * index was renamed into place leaves the old index and garbage after
 * the bytes it points at: nothing is lost, and the next save goes on. */
static void
test_details_garbage_after_crash (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("crashed");
  g_autoptr(PopcheckMailbox) reloaded = popcheck_mailbox_new ("crashed");
  g_autoptr(PopcheckMailbox) again = NULL;
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GPtrArray) second = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint *ids = range (1, 6);
  g_autofree char *path = NULL;
  g_autofree char *state_path = popcheck_mailbox_dup_state_path (mailbox);

  first = run_check (mailbox, ids, 4, NULL);
  g_assert_true (save_sync (mailbox, &error));
  path = find_details (mailbox);
  g_assert_nonnull (path);
  append_garbage (path, 1000);

  g_assert_true (load_sync (reloaded, &error));
  g_assert_no_error (error);
  g_assert_null (find_damaged (state_path));
  g_assert_cmpuint (popcheck_mailbox_get_n_items (reloaded), ==, 4);
  assert_details_readable (reloaded);

  second = run_check (reloaded, ids, 6, NULL);
  g_assert_cmpuint (second->len, ==, 2);
  again = reload_readable (reloaded, 6);
}

static void
delete_state_sync (PopcheckMailbox *mailbox)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  popcheck_mailbox_delete_state_async (mailbox, NULL, result_cb, &result);
  POPCHECK_TEST_WAIT_UNTIL (result != NULL, 10000);
  g_assert_true (popcheck_mailbox_delete_state_finish (mailbox, result, &error));
  g_assert_no_error (error);
}

/* A removed account's saved messages go, the details too, and leave no
 * file behind that an account of the same name would start from. */
static void
test_delete_state (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("deleted");
  g_autoptr(PopcheckMailbox) neighbour = popcheck_mailbox_new ("deleted-not");
  g_autoptr(PopcheckMailbox) fresh = popcheck_mailbox_new ("deleted");
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GPtrArray) other = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint *ids = range (1, 3);
  g_autofree char *path = popcheck_mailbox_dup_state_path (mailbox);
  g_autofree char *details = NULL;
  g_autofree char *neighbour_details = NULL;

  first = run_check (mailbox, ids, 3, NULL);
  g_assert_true (save_sync (mailbox, &error));
  other = run_check (neighbour, ids, 3, NULL);
  g_assert_true (save_sync (neighbour, &error));
  details = find_details (mailbox);
  g_assert_nonnull (details);

  delete_state_sync (mailbox);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (details, G_FILE_TEST_EXISTS));
  g_assert_null (find_details (mailbox));
  /* Another account's, whose name begins the same, stay. */
  neighbour_details = find_details (neighbour);
  g_assert_nonnull (neighbour_details);

  g_assert_true (load_sync (fresh, &error));
  g_assert_false (popcheck_mailbox_get_first_check_done (fresh));
  g_assert_cmpuint (popcheck_mailbox_get_n_items (fresh), ==, 0);

  /* Nothing there: no error either. */
  delete_state_sync (mailbox);
}

/* Whether a process waits for a flock () of the file with inode ino:
 * /proc/locks lists waiters as "N: -> FLOCK ... MAJ:MIN:INODE ...". */
static gboolean
lock_has_waiter (guint64 ino)
{
  g_autofree char *locks = NULL;
  g_autofree char *needle = g_strdup_printf (":%" G_GUINT64_FORMAT " ", ino);
  g_auto(GStrv) lines = NULL;

  g_assert_true (g_file_get_contents ("/proc/locks", &locks, NULL, NULL));
  lines = g_strsplit (locks, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (strstr (lines[i], "-> FLOCK") != NULL &&
        strstr (lines[i], needle) != NULL)
      return TRUE;

  return FALSE;
}

/* Takes the lock of @mailbox's state file, as another process saving the
 * same account would: returns its descriptor, to close to let it go, and
 * sets @inode to the lock file's. */
static int
hold_state_lock (PopcheckMailbox *mailbox,
                 ino_t           *inode)
{
  g_autofree char *path = popcheck_mailbox_dup_state_path (mailbox);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *lock_path = NULL;
  GStatBuf info;
  int fd;

  g_assert_true (g_str_has_suffix (path, ".state"));
  lock_path = g_strdup_printf ("%.*s.lock",
                               (int) (strlen (path) - strlen (".state")),
                               path);
  g_assert_no_errno (g_mkdir_with_parents (dir, 0700));
  fd = g_open (lock_path, O_RDWR | O_CREAT, 0600);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (fstat (fd, &info), ==, 0);
  g_assert_cmpint (flock (fd, LOCK_EX), ==, 0);
  *inode = info.st_ino;

  return fd;
}

/* While another process (here, the test) saves the same account, a save
 * waits its turn and writes nothing; it goes on once that one is done. */
static void
test_saves_take_turns (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("turns");
  g_autoptr(PopcheckMailbox) fresh = popcheck_mailbox_new ("turns");
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GPtrArray) second = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GBytes) before = NULL;
  g_autoptr(GBytes) during = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint *ids = range (1, 4);
  g_autofree char *path = popcheck_mailbox_dup_state_path (mailbox);
  ino_t inode;
  int fd;

  first = run_check (mailbox, ids, 3, NULL);
  g_assert_true (save_sync (mailbox, &error));
  fd = hold_state_lock (mailbox, &inode);
  before = file_bytes (path);

  second = run_check (mailbox, ids, 4, NULL);
  popcheck_mailbox_save_async (mailbox, NULL, result_cb, &result);
  POPCHECK_TEST_WAIT_UNTIL (lock_has_waiter (inode), 10000);
  during = file_bytes (path);
  g_assert_true (g_bytes_equal (before, during));
  g_assert_null (result);

  g_assert_no_errno (g_close (fd, NULL) ? 0 : -1);
  POPCHECK_TEST_WAIT_UNTIL (result != NULL, 10000);
  g_assert_true (popcheck_mailbox_save_finish (mailbox, result, &error));
  g_assert_no_error (error);
  g_assert_true (load_sync (fresh, &error));
  g_assert_cmpuint (popcheck_mailbox_get_n_items (fresh), ==, 4);
}

/* A big mailbox keeps in memory only what its list shows of each summary;
 * the preview reads the rest from the state file, and finds there what
 * the server sent. */
static void
test_details_on_demand (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("details");
  g_autoptr(PopcheckMailbox) reloaded = NULL;
  g_autoptr(PopcheckMailbox) again = NULL;
  g_autoptr(PopcheckMessage) details = NULL;
  g_autoptr(PopcheckMessage) full = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint *ids = range (1, 3);
  const char *text =
    "From: Alice <alice@example.org>\r\n"
    "To: Bob <bob@example.org>\r\n"
    "Cc: Carol <carol@example.org>\r\n"
    "Subject: Report\r\n"
    "Message-ID: <report@example.org>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=b\r\n"
    "\r\n"
    "--b\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "The figures are attached.\r\n"
    "--b\r\n"
    "Content-Type: application/pdf; name=report.pdf\r\n"
    "Content-Disposition: attachment; filename=report.pdf\r\n"
    "\r\n"
    "JVBERi0=\r\n"
    "--b--\r\n";
  g_autoptr(GBytes) bytes = g_bytes_new_static (text, strlen (text));
  g_autoptr(GPtrArray) need_top = NULL;
  g_autoptr(Pop3UidListing) server = make_server_list (ids, 3);
  g_autoptr(GArray) sizes = make_sizes (ids, 3);
  g_autoptr(GPtrArray) announced = NULL;
  PopcheckMessage *message;
  const PopcheckAttachment *attachments;
  guint n = 0;

  need_top = popcheck_mailbox_begin_update (mailbox, server, sizes);
  for (guint i = 0; i < need_top->len; i++)
    {
      Pop3UidEntry *entry = g_ptr_array_index (need_top, i);
      g_autoptr(PopcheckMessage) summary = NULL;

      if (g_strcmp0 (entry->uid, "uid-2") == 0)
        summary = popcheck_message_new_from_top (entry->uid, 5000, entry->msg,
                                                 bytes, 20);
      else
        summary = make_summary (id_of_uid (entry->uid), entry->msg);
      popcheck_mailbox_add_summary (mailbox, summary);
    }
  announced = popcheck_mailbox_end_update (mailbox);
  full = g_object_ref (popcheck_mailbox_lookup (mailbox, "uid-2"));
  g_assert_true (popcheck_message_get_details_loaded (full));
  g_assert_cmpstr (popcheck_message_get_preview (full), ==,
                   "The figures are attached.");

  reloaded = reload (mailbox);
  message = popcheck_mailbox_lookup (reloaded, "uid-2");
  g_assert_nonnull (message);

  /* The list's part is there at once... */
  g_assert_cmpstr (popcheck_message_get_subject (message), ==, "Report");
  g_assert_cmpstr (popcheck_message_get_from (message), ==,
                   "Alice <alice@example.org>");
  g_assert_cmpstr (popcheck_message_get_message_id (message), ==,
                   "report@example.org");
  g_assert_false (popcheck_message_get_attachments_incomplete (message));
  /* ...the rest is not kept in memory... */
  g_assert_false (popcheck_message_get_details_loaded (message));
  g_assert_null (popcheck_message_get_preview (message));
  g_assert_null (popcheck_message_get_to (message));

  /* ...and read back as it was. */
  details = load_details_sync (message, &error);
  g_assert_no_error (error);
  g_assert_nonnull (details);
  g_assert_cmpstr (popcheck_message_get_uid (details), ==, "uid-2");
  g_assert_cmpstr (popcheck_message_get_preview (details), ==,
                   "The figures are attached.");
  g_assert_cmpstr (popcheck_message_get_to (details), ==, "Bob <bob@example.org>");
  g_assert_cmpstr (popcheck_message_get_cc (details), ==, "Carol <carol@example.org>");
  attachments = popcheck_message_get_attachment_details (details, &n);
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpstr (attachments[0].name, ==, "report.pdf");
  g_assert_cmpstr (attachments[0].mime_type, ==, "application/pdf");
  g_clear_object (&details);

  /* Saved again (the details now come from the old file) and read by
   * yet another start: nothing lost on the way, and the message read
   * since is no longer new. */
  popcheck_message_set_is_new (message, TRUE);
  again = reload (reloaded);
  message = popcheck_mailbox_lookup (again, "uid-2");
  g_assert_true (popcheck_message_get_is_new (message));
  details = load_details_sync (message, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (popcheck_message_get_preview (details), ==,
                   "The figures are attached.");
  g_assert_cmpstr (popcheck_message_get_cc (details), ==, "Carol <carol@example.org>");
  g_assert_true (popcheck_message_get_is_new (details));

  /* The list of the first mailbox, saved, dropped its copy too, and
   * reads it from where that save wrote it. */
  g_assert_false (popcheck_message_get_details_loaded (full));
  g_clear_object (&details);
  details = load_details_sync (full, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (popcheck_message_get_preview (details), ==,
                   "The figures are attached.");
  g_assert_cmpstr (popcheck_message_get_to (details), ==, "Bob <bob@example.org>");
}

/* A state file cut short behind PopCheck's back (by another program: a
 * save always replaces it whole) fails that one read, not the app. */
static void
test_details_file_cut (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("details-cut");
  g_autoptr(PopcheckMailbox) reloaded = NULL;
  g_autoptr(PopcheckMessage) details = NULL;
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint *ids = range (1, 3);
  g_autofree char *path = NULL;
  PopcheckMessage *message;

  first = run_check (mailbox, ids, 3, NULL);
  reloaded = reload (mailbox);
  path = find_details (reloaded);
  g_assert_cmpint (truncate (path, 64), ==, 0);

  message = popcheck_mailbox_lookup (reloaded, "uid-3");
  g_assert_false (popcheck_message_get_details_loaded (message));
  details = load_details_sync (message, &error);
  g_assert_null (details);
  g_assert_error (error, POPCHECK_MESSAGE_ERROR,
                  POPCHECK_MESSAGE_ERROR_INVALID_CACHE);
  /* What the list shows is still there. */
  g_assert_cmpstr (popcheck_message_get_subject (message), ==, "Message 3");
}

static void
test_restart (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("restart");
  g_autoptr(PopcheckMailbox) reloaded = NULL;
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GPtrArray) second = NULL;
  g_autoptr(GPtrArray) after_restart = NULL;
  g_autofree guint *ids = range (1, 8);
  g_autofree char *path = NULL;
  guint n_tops = 0;

  first = run_check (mailbox, ids, 6, NULL);
  second = run_check (mailbox, ids, 8, NULL);
  g_assert_cmpuint (second->len, ==, 2);

  reloaded = reload (mailbox);
  path = popcheck_mailbox_dup_state_path (mailbox);
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));

  g_assert_true (popcheck_mailbox_get_first_check_done (reloaded));
  g_assert_cmpuint (popcheck_mailbox_get_n_items (reloaded), ==, 8);
  /* Not looked at yet: still new after a restart. */
  g_assert_cmpuint (popcheck_mailbox_get_n_new (reloaded), ==, 2);
  g_assert_nonnull (popcheck_mailbox_get_last_check (reloaded));
  g_assert_cmpint (g_date_time_to_unix (popcheck_mailbox_get_last_check (reloaded)), ==,
                   g_date_time_to_unix (popcheck_mailbox_get_last_check (mailbox)));
  g_assert_false (popcheck_mailbox_get_dirty (reloaded));
  assert_sorted (reloaded);
  {
    PopcheckMessage *message = popcheck_mailbox_lookup (reloaded, "uid-4");

    g_autoptr(PopcheckMessage) details = NULL;

    g_assert_nonnull (message);
    g_assert_cmpstr (popcheck_message_get_subject (message), ==, "Message 4");
    details = load_details_sync (message, NULL);
    g_assert_cmpstr (popcheck_message_get_preview (details), ==, "Body of 4");
  }

  /* The next check announces nothing and sends no TOP. */
  after_restart = run_check (reloaded, ids, 8, &n_tops);
  g_assert_cmpuint (after_restart->len, ==, 0);
  g_assert_cmpuint (n_tops, ==, 0);
  assert_sorted (reloaded);

  /* One more arrives after the restart: exactly that one. */
  {
    g_autofree guint *more = range (1, 9);
    g_autoptr(GPtrArray) third = run_check (reloaded, more, 9, &n_tops);

    g_assert_cmpuint (n_tops, ==, 1);
    g_assert_cmpuint (third->len, ==, 1);
    g_assert_cmpstr (popcheck_message_get_uid (g_ptr_array_index (third, 0)), ==, "uid-9");
  }
}

/* A message listed without headers stays so after a restart, still new,
 * and its TOP is tried again up to the bound, counting the tries made
 * before the restart. */
static void
test_restart_without_headers (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("headerless");
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GPtrArray) refused = NULL;
  g_autofree guint *ids = range (1, 4);
  guint n_tops = 0;

  first = run_check (mailbox, ids, 3, NULL);
  refused = run_check_full (mailbox, ids, 4, ids, 4, TRUE, &n_tops);
  g_assert_cmpuint (n_tops, ==, 1);
  g_assert_cmpuint (refused->len, ==, 1);

  for (guint attempt = 2; attempt <= POPCHECK_MAILBOX_TOP_ATTEMPTS + 1; attempt++)
    {
      g_autoptr(PopcheckMailbox) reloaded = reload (mailbox);
      g_autoptr(GPtrArray) again = NULL;
      PopcheckMessage *message = popcheck_mailbox_lookup (reloaded, "uid-4");

      g_assert_nonnull (message);
      g_assert_false (popcheck_message_get_headers_known (message));
      g_assert_cmpuint (popcheck_message_get_size (message), ==, 1004);
      g_assert_true (popcheck_message_get_is_new (message));
      g_assert_cmpuint (popcheck_mailbox_get_n_new (reloaded), ==, 1);
      g_assert_cmpuint (popcheck_mailbox_get_n_items (reloaded), ==, 4);

      /* Tried again until the bound, never announced again. */
      again = run_check_full (reloaded, ids, 4, ids, 4, TRUE, &n_tops);
      g_assert_cmpuint (n_tops, ==,
                        attempt <= POPCHECK_MAILBOX_TOP_ATTEMPTS ? 1 : 0);
      g_assert_cmpuint (again->len, ==, 0);
      g_set_object (&mailbox, reloaded);
    }
}

/* Seen in PopCheck: the count drops at once, the mark survives a restart
 * (in the same format-1 file as before), and a later check does not make
 * the message new again. */
static void
test_mark_seen (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("mark-seen");
  g_autoptr(PopcheckMailbox) reloaded = NULL;
  g_autoptr(PopcheckMailbox) again = NULL;
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GPtrArray) second = NULL;
  g_autoptr(GPtrArray) after = NULL;
  g_autofree guint *ids = range (1, 9);
  const char *seen[] = { "uid-8", "uid-99", NULL };
  guint n_new_notified = 0;

  first = run_check (mailbox, ids, 5, NULL);
  second = run_check (mailbox, ids, 9, NULL);
  g_assert_cmpuint (popcheck_mailbox_get_n_new (mailbox), ==, 4);

  /* One listed, one unknown: only the listed one changes. */
  g_signal_connect (mailbox, "notify::n-new", G_CALLBACK (n_new_notify_cb),
                    &n_new_notified);
  g_assert_true (popcheck_mailbox_mark_seen (mailbox, seen));
  g_assert_cmpuint (n_new_notified, ==, 1);
  g_assert_cmpuint (popcheck_mailbox_get_n_new (mailbox), ==, 3);
  g_assert_false (popcheck_message_get_is_new (popcheck_mailbox_lookup (mailbox, "uid-8")));
  g_assert_true (popcheck_message_get_is_new (popcheck_mailbox_lookup (mailbox, "uid-9")));
  g_assert_true (popcheck_mailbox_get_dirty (mailbox));
  /* Seen already: nothing to do, nothing to save. */
  g_assert_false (popcheck_mailbox_mark_seen (mailbox, seen));

  reloaded = reload (mailbox);
  g_assert_cmpuint (popcheck_mailbox_get_n_new (reloaded), ==, 3);
  g_assert_false (popcheck_message_get_is_new (popcheck_mailbox_lookup (reloaded, "uid-8")));

  after = run_check (reloaded, ids, 9, NULL);
  g_assert_cmpuint (after->len, ==, 0);
  g_assert_cmpuint (popcheck_mailbox_get_n_new (reloaded), ==, 3);

  g_assert_true (popcheck_mailbox_mark_all_seen (reloaded));
  g_assert_cmpuint (popcheck_mailbox_get_n_new (reloaded), ==, 0);
  g_assert_false (popcheck_mailbox_mark_all_seen (reloaded));
  again = reload (reloaded);
  g_assert_cmpuint (popcheck_mailbox_get_n_new (again), ==, 0);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (again), ==, 9);
}

static void
test_missing_file (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("never-saved");
  g_autoptr(GError) error = NULL;
  g_autofree char *path = popcheck_mailbox_dup_state_path (mailbox);

  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_true (load_sync (mailbox, &error));
  g_assert_no_error (error);
  g_assert_false (popcheck_mailbox_get_first_check_done (mailbox));
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, 0);
}

static void
test_saves_in_order (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("order-of-saves");
  g_autoptr(PopcheckMailbox) reloaded = NULL;
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GPtrArray) second = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint *ids = range (1, 10);
  guint n_saved = 0;

  first = run_check (mailbox, ids, 3, NULL);
  /* Saves as the checker makes them: one after the other, none waiting
   * for the one before; the last snapshot must be what is on disk. */
  popcheck_mailbox_save_async (mailbox, NULL, save_counted_cb, &n_saved);
  second = run_check (mailbox, ids, 10, NULL);
  popcheck_mailbox_save_async (mailbox, NULL, save_counted_cb, &n_saved);
  popcheck_mailbox_remove_uids (mailbox, (const char * const []) { "uid-1", NULL });

  {
    g_autoptr(GAsyncResult) result = NULL;

    popcheck_mailbox_save_async (mailbox, NULL, result_cb, &result);
    while (result == NULL)
      g_main_context_iteration (NULL, TRUE);
    g_assert_true (popcheck_mailbox_save_finish (mailbox, result, &error));
    g_assert_no_error (error);
  }
  /* The earlier ones finish too, in whatever order. */
  POPCHECK_TEST_WAIT_UNTIL (n_saved == 2, 10000);

  reloaded = popcheck_mailbox_new ("order-of-saves");
  g_assert_true (load_sync (reloaded, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (reloaded), ==, 9);
  g_assert_null (popcheck_mailbox_lookup (reloaded, "uid-1"));
}

/* popcheck-cli waits for the save the checker started: asked for again
 * while nothing changed, a save takes no snapshot of its own (of a
 * million messages, one costs as much as the mailbox) and ends with the
 * one under way; after a change it does take one. */
static void
test_save_joins_unchanged (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("joined-saves");
  g_autoptr(PopcheckMailbox) reloaded = NULL;
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint *ids = range (1, 3);
  guint64 generation;
  guint n_saved = 0;

  first = run_check (mailbox, ids, 3, NULL);
  generation = mailbox->save_generation;
  popcheck_mailbox_save_async (mailbox, NULL, save_counted_cb, &n_saved);
  popcheck_mailbox_save_async (mailbox, NULL, save_counted_cb, &n_saved);
  POPCHECK_TEST_WAIT_UNTIL (n_saved == 2, 10000);
  /* One snapshot for both. */
  g_assert_cmpuint (mailbox->save_generation, ==, generation + 1);

  popcheck_mailbox_remove_uids (mailbox, (const char * const []) { "uid-1", NULL });
  popcheck_mailbox_save_async (mailbox, NULL, save_counted_cb, &n_saved);
  POPCHECK_TEST_WAIT_UNTIL (n_saved == 3, 10000);
  g_assert_cmpuint (mailbox->save_generation, ==, generation + 2);

  reloaded = popcheck_mailbox_new ("joined-saves");
  g_assert_true (load_sync (reloaded, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (reloaded), ==, 2);
  g_assert_null (popcheck_mailbox_lookup (reloaded, "uid-1"));
}

/* Stands for a frame GTK draws: its priority (GDK_PRIORITY_REDRAW), and
 * a change to the mailbox that shows whether it ran before the snapshot. */
#define REDRAW_PRIORITY (G_PRIORITY_HIGH_IDLE + 20)

static gboolean
remove_uid_1_cb (gpointer user_data)
{
  popcheck_mailbox_remove_uids (user_data,
                                (const char * const []) { "uid-1", NULL });
  return G_SOURCE_REMOVE;
}

static guint
n_items_saved (const char *account_id)
{
  g_autoptr(PopcheckMailbox) reloaded = load_saved (account_id);

  return popcheck_mailbox_get_n_items (reloaded);
}

/* A save asked for at the end of a check takes its snapshot after a frame
 * waiting to be drawn: the two do not hold the main loop as one. */
static void
test_save_after_frame (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("after-frame");
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autofree guint *ids = range (1, 3);

  first = run_check (mailbox, ids, 3, NULL);
  popcheck_mailbox_save_async (mailbox, NULL, result_cb, &result);
  g_idle_add_full (REDRAW_PRIORITY, remove_uid_1_cb, mailbox, NULL);
  POPCHECK_TEST_WAIT_UNTIL (result != NULL, 10000);
  g_assert_true (popcheck_mailbox_save_finish (mailbox, result, NULL));
  g_assert_false (popcheck_mailbox_get_dirty (mailbox));
  g_assert_cmpuint (n_items_saved ("after-frame"), ==, 2);
}

/* A frame always due, as a spinner keeps one on a busy machine: the
 * main loop is never idle, and the save still begins. */
static void
test_save_while_busy (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("busy-save");
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autofree guint *ids = range (1, 3);
  guint busy;

  first = run_check (mailbox, ids, 3, NULL);
  busy = popcheck_test_busy_frames_add (NULL);
  popcheck_mailbox_save_async (mailbox, NULL, result_cb, &result);
  POPCHECK_TEST_WAIT_UNTIL (result != NULL, 10000);
  g_source_remove (busy);

  g_assert_true (popcheck_mailbox_save_finish (mailbox, result, NULL));
  g_assert_false (popcheck_mailbox_get_dirty (mailbox));
  g_assert_cmpuint (n_items_saved ("busy-save"), ==, 3);
}

/* Cancelled before its snapshot, a save writes nothing and leaves the
 * change to the next; after, it writes and says so.  The mailbox stops
 * being dirty as a snapshot begins, not as it is taken: so that the wait
 * for that means the snapshot is taken, it is taken in one slice (in
 * slices of 4 ms, a machine that stopped the test for longer between
 * the snapshot's two steps had it cancelled half taken). */
static void
test_save_cancelled (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("cancelled-save");
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GCancellable) later = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GAsyncResult) written = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint *ids = range (1, 3);

  popcheck_mailbox_set_slice_usec (mailbox, (gint64) 3600 * G_USEC_PER_SEC);
  first = run_check (mailbox, ids, 3, NULL);
  popcheck_mailbox_save_async (mailbox, cancellable, result_cb, &result);
  g_cancellable_cancel (cancellable);
  POPCHECK_TEST_WAIT_UNTIL (result != NULL, 10000);
  g_assert_false (popcheck_mailbox_save_finish (mailbox, result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_true (popcheck_mailbox_get_dirty (mailbox));
  g_assert_cmpuint (n_items_saved ("cancelled-save"), ==, 0);

  popcheck_mailbox_save_async (mailbox, later, result_cb, &written);
  POPCHECK_TEST_WAIT_UNTIL (!popcheck_mailbox_get_dirty (mailbox), 10000);
  g_cancellable_cancel (later);
  POPCHECK_TEST_WAIT_UNTIL (written != NULL, 10000);
  g_clear_error (&error);
  g_assert_true (popcheck_mailbox_save_finish (mailbox, written, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n_items_saved ("cancelled-save"), ==, 3);
}

/* What a 1 ms timeout does while a save of @mailbox is under way, each
 * turn it gets once the save's snapshot has begun. */
typedef struct
{
  PopcheckMailbox *mailbox;
  /* The mailbox's save generation before the save. */
  guint64          generation;
  guint            turns;
  /* The first @removals turns take the newest row out. */
  guint            removals;
  /* Cancelled from the second turn on, when set; with ask_again, once
   * the save asked for at the first turn joined this one. */
  GCancellable    *cancel;
  gboolean         ask_again;
  GAsyncResult    *again;
  /* When set, each turn fills the newest 10 rows still waiting for
   * headers, the newest first, from this id down to last_fill, as the
   * backlog does. */
  guint            next_fill;
  guint            last_fill;
} SavingTurns;

static void
fill_newest (SavingTurns *saving)
{
  g_autoptr(GPtrArray) fills = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < 10 && saving->next_fill >= saving->last_fill; i++, saving->next_fill--)
    g_ptr_array_add (fills, make_summary (saving->next_fill, saving->next_fill));
  popcheck_mailbox_fill_pending_batch (saving->mailbox, fills);
}

static gboolean
saving_turn_cb (gpointer user_data)
{
  SavingTurns *saving = user_data;
  PopcheckMailbox *mailbox = saving->mailbox;

  if (mailbox->save_generation == saving->generation)
    return G_SOURCE_CONTINUE;

  saving->turns++;
  if (saving->turns <= saving->removals &&
      popcheck_mailbox_get_n_items (mailbox) > 0)
    {
      g_autoptr(PopcheckMessage) newest =
        g_list_model_get_item (G_LIST_MODEL (mailbox), 0);
      const char *uids[] = { popcheck_message_get_uid (newest), NULL };

      popcheck_mailbox_remove_uids (mailbox, uids);
    }
  if (saving->last_fill > 0)
    fill_newest (saving);
  if (saving->ask_again && saving->turns == 1)
    popcheck_mailbox_save_async (mailbox, NULL, result_cb, &saving->again);
  if (saving->cancel != NULL && saving->turns > 1 &&
      (!saving->ask_again || mailbox->save_waiters->len > 0))
    g_cancellable_cancel (saving->cancel);

  return G_SOURCE_CONTINUE;
}

/* Saves @mailbox with @saving's turns, and returns the save's result. */
static GAsyncResult *
save_with_turns (PopcheckMailbox *mailbox,
                 GCancellable    *cancellable,
                 SavingTurns     *saving)
{
  GAsyncResult *result = NULL;
  guint timeout;

  saving->mailbox = mailbox;
  saving->generation = mailbox->save_generation;
  timeout = g_timeout_add (1, saving_turn_cb, saving);
  popcheck_mailbox_save_async (mailbox, cancellable, result_cb, &result);
  POPCHECK_TEST_WAIT_UNTIL (result != NULL, 10000);
  g_source_remove (timeout);

  return result;
}

static void check_numbered_newest (PopcheckMailbox *mailbox,
                                   guint            first_id,
                                   const guint     *numbers,
                                   guint            n,
                                   guint            n_newest);

#define SLICED_MAILBOX_SIZE 5000

/* 5,000 messages, checked: the newest 300 with their headers, the rest
 * waiting for them; a slice of a save's snapshot for each 256. */
static PopcheckMailbox *
new_sliced_mailbox (const char *account_id)
{
  const guint n = SLICED_MAILBOX_SIZE;
  PopcheckMailbox *mailbox = popcheck_mailbox_new (account_id);
  g_autofree guint *numbers = range (1, n);

  check_numbered_newest (mailbox, 1, numbers, n, 300);
  popcheck_mailbox_set_slice_usec (mailbox, 0);
  return mailbox;
}

/* The rows of @saved are those of @mailbox, each once.  (Their order
 * may differ: rows without headers have no message number until a check
 * lists them again.) */
static void
assert_same_rows (PopcheckMailbox *saved,
                  PopcheckMailbox *mailbox)
{
  g_autoptr(GHashTable) uids = g_hash_table_new (g_str_hash, g_str_equal);
  guint n = popcheck_mailbox_get_n_items (saved);

  g_assert_cmpuint (n, ==, popcheck_mailbox_get_n_items (mailbox));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(PopcheckMessage) message = g_list_model_get_item (G_LIST_MODEL (saved), i);
      const char *uid = popcheck_message_get_uid (message);

      g_assert_nonnull (popcheck_mailbox_lookup (mailbox, uid));
      g_assert_true (g_hash_table_add (uids, (gpointer) uid));
    }
}

/* Messages of @mailbox whose details are in a file only. */
static guint
n_cached (PopcheckMailbox *mailbox)
{
  guint n = popcheck_mailbox_get_n_items (mailbox);
  guint cached = 0;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(PopcheckMessage) message =
        g_list_model_get_item (G_LIST_MODEL (mailbox), i);
      PopcheckSummaryFile *file;
      guint64 offset;
      gsize length;

      if (popcheck_message_get_cached (message, &file, &offset, &length) &&
          file != NULL)
        cached++;
    }
  return cached;
}

/* What a 1 ms timeout sees while a save points its messages at the file:
 * at the first turn it finds some pointed and some not, a save is asked
 * for again, after taking the newest row out when @change is set. */
typedef struct
{
  PopcheckMailbox *mailbox;
  guint            total;
  gboolean         change;
  guint            partial_turns;
  /* The mailbox's save generation when the save was asked for again. */
  guint64          generation;
  /* Messages pointed when a turn first saw a second snapshot begun, and
   * when the first save ended. */
  guint            cached_at_begin;
  guint            cached_at_end;
  GAsyncResult    *first;
  GAsyncResult    *again;
} PointingTurns;

static gboolean
pointing_turn_cb (gpointer user_data)
{
  PointingTurns *pointing = user_data;
  PopcheckMailbox *mailbox = pointing->mailbox;
  guint cached = n_cached (mailbox);

  if (pointing->partial_turns > 0)
    {
      if (pointing->cached_at_begin == 0 &&
          mailbox->save_generation != pointing->generation)
        pointing->cached_at_begin = cached;
      return G_SOURCE_CONTINUE;
    }
  if (cached == 0 || cached == pointing->total)
    return G_SOURCE_CONTINUE;

  pointing->partial_turns++;
  pointing->generation = mailbox->save_generation;
  if (pointing->change)
    {
      g_autoptr(PopcheckMessage) newest =
        g_list_model_get_item (G_LIST_MODEL (mailbox), 0);
      const char *uids[] = { popcheck_message_get_uid (newest), NULL };

      popcheck_mailbox_remove_uids (mailbox, uids);
      pointing->total--;
    }
  popcheck_mailbox_save_async (mailbox, NULL, result_cb, &pointing->again);
  return G_SOURCE_CONTINUE;
}

static void
first_saved_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  PointingTurns *pointing = user_data;

  pointing->cached_at_end = n_cached (pointing->mailbox);
  pointing->first = g_object_ref (result);
}

#define POINTED_MAILBOX_SIZE 600

/* Both saves succeeded, and between them every message left was pointed
 * at the file, whose rows are the mailbox's, every one with its details. */
static void
assert_both_saved_and_pointed (const char    *account_id,
                               PointingTurns *pointing)
{
  PopcheckMailbox *mailbox = pointing->mailbox;
  g_autoptr(PopcheckMailbox) reloaded = NULL;

  g_assert_true (popcheck_mailbox_save_finish (mailbox, pointing->first, NULL));
  g_assert_true (popcheck_mailbox_save_finish (mailbox, pointing->again, NULL));
  g_clear_object (&pointing->first);
  g_clear_object (&pointing->again);
  g_assert_cmpuint (n_cached (mailbox), ==, pointing->total);
  g_assert_false (popcheck_mailbox_get_dirty (mailbox));
  g_assert_cmpuint (mailbox->saves_in_flight, ==, 0);

  reloaded = load_saved (account_id);
  assert_same_rows (reloaded, mailbox);
  /* Not one lost to a thread that read them as they were pointed. */
  g_assert_cmpuint (check_known_details (reloaded), ==, pointing->total);
}

/* 600 messages with headers, saved: they are pointed at the file in
 * slices of 256, with turns of the main loop between. */
static void
save_while_pointing (const char    *account_id,
                     PointingTurns *pointing)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new (account_id);
  g_autofree guint *numbers = range (1, POINTED_MAILBOX_SIZE);
  guint timeout;

  check_numbered_newest (mailbox, 1, numbers, POINTED_MAILBOX_SIZE,
                         POINTED_MAILBOX_SIZE);
  popcheck_mailbox_set_slice_usec (mailbox, 0);
  g_assert_cmpuint (n_cached (mailbox), ==, 0);

  pointing->mailbox = mailbox;
  pointing->total = POINTED_MAILBOX_SIZE;
  timeout = g_timeout_add (1, pointing_turn_cb, pointing);
  popcheck_mailbox_save_async (mailbox, NULL, first_saved_cb, pointing);
  POPCHECK_TEST_WAIT_UNTIL (pointing->first != NULL, 10000);
  g_assert_cmpuint (pointing->partial_turns, ==, 1);
  POPCHECK_TEST_WAIT_UNTIL (pointing->again != NULL, 10000);
  g_source_remove (timeout);

  assert_both_saved_and_pointed (account_id, pointing);
  pointing->generation = mailbox->save_generation - pointing->generation;
}

/* A save asked for while the last one points its messages, with nothing
 * changed since, is that one: no second snapshot. */
static void
test_save_points_in_slices (void)
{
  PointingTurns pointing = { .change = FALSE };

  save_while_pointing ("pointing-save", &pointing);
  g_assert_cmpuint (pointing.generation, ==, 0);
  g_assert_cmpuint (pointing.cached_at_end, ==, POINTED_MAILBOX_SIZE);
}

/* A row taken out while a save points its messages: the save asked for
 * then takes a snapshot of its own, and the pointing stops as it begins
 * (that snapshot's thread reads the details of the messages not pointed
 * yet).  That save points them. */
static void
test_save_points_in_slices_changed (void)
{
  PointingTurns pointing = { .change = TRUE };

  save_while_pointing ("pointing-changed-save", &pointing);
  g_assert_cmpuint (pointing.generation, ==, 1);
  g_assert_cmpuint (pointing.cached_at_begin, >, 0);
  g_assert_cmpuint (pointing.cached_at_begin, <, POINTED_MAILBOX_SIZE - 1);
  g_assert_cmpuint (pointing.cached_at_end, ==, pointing.cached_at_begin);
}

/* A save whose thread ends after a later snapshot began points nothing:
 * that snapshot's thread reads the details of every message not pointed
 * yet.  The later save points them.  The first save's thread is held by
 * the lock of the state file, as another process saving would hold it. */
static void
test_save_points_after_later_snapshot (void)
{
  const char *account_id = "pointing-later-save";
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new (account_id);
  g_autoptr(PopcheckMessage) newest = NULL;
  g_autofree guint *numbers = range (1, POINTED_MAILBOX_SIZE);
  PointingTurns pointing = { .mailbox = mailbox,
                             .total = POINTED_MAILBOX_SIZE - 1 };
  const char *uids[] = { NULL, NULL };
  ino_t inode;
  int fd;

  check_numbered_newest (mailbox, 1, numbers, POINTED_MAILBOX_SIZE,
                         POINTED_MAILBOX_SIZE);
  g_assert_cmpuint (n_cached (mailbox), ==, 0);
  fd = hold_state_lock (mailbox, &inode);
  popcheck_mailbox_save_async (mailbox, NULL, first_saved_cb, &pointing);
  POPCHECK_TEST_WAIT_UNTIL (lock_has_waiter (inode), 10000);

  newest = g_list_model_get_item (G_LIST_MODEL (mailbox), 0);
  uids[0] = popcheck_message_get_uid (newest);
  popcheck_mailbox_remove_uids (mailbox, uids);
  popcheck_mailbox_save_async (mailbox, NULL, result_cb, &pointing.again);
  POPCHECK_TEST_WAIT_UNTIL (mailbox->saves_in_flight == 2, 10000);
  g_assert_null (pointing.first);

  g_assert_no_errno (g_close (fd, NULL) ? 0 : -1);
  POPCHECK_TEST_WAIT_UNTIL (pointing.first != NULL && pointing.again != NULL,
                            10000);
  g_assert_cmpuint (pointing.cached_at_end, ==, 0);
  assert_both_saved_and_pointed (account_id, &pointing);
}

/* A big mailbox's snapshot is taken in slices, with turns of the main
 * loop between them.  A row the walk had passed is taken out at the first
 * turn: the walk starts again, and the file has the rows as they are,
 * each once. */
static void
test_save_in_slices (void)
{
  g_autoptr(PopcheckMailbox) mailbox = new_sliced_mailbox ("sliced-save");
  g_autoptr(PopcheckMailbox) reloaded = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  SavingTurns saving = { .removals = 1 };

  result = save_with_turns (mailbox, NULL, &saving);
  g_assert_true (popcheck_mailbox_save_finish (mailbox, result, &error));
  g_assert_no_error (error);
  /* Taken at once, the snapshot would have had the row. */
  g_assert_false (popcheck_mailbox_get_dirty (mailbox));
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, SLICED_MAILBOX_SIZE - 1);
  g_assert_cmpuint (mailbox->snapshot_restarts, ==, 1);

  reloaded = load_saved ("sliced-save");
  assert_same_rows (reloaded, mailbox);
}

/* The newest row is taken out at every turn: the walk starts again once,
 * then takes the rows at once, and the file has the rows as they were
 * then (the oldest, each once: as many rows as UIDs from the oldest on);
 * the rows taken out after are left to the next save. */
static void
test_save_in_slices_changing (void)
{
  g_autoptr(PopcheckMailbox) mailbox = new_sliced_mailbox ("changing-save");
  g_autoptr(PopcheckMailbox) reloaded = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  SavingTurns saving = { .removals = G_MAXUINT };
  guint n_saved;

  result = save_with_turns (mailbox, NULL, &saving);
  g_assert_true (popcheck_mailbox_save_finish (mailbox, result, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (saving.turns, >=, 2);

  reloaded = load_saved ("changing-save");
  n_saved = popcheck_mailbox_get_n_items (reloaded);
  g_assert_cmpuint (n_saved, >=, popcheck_mailbox_get_n_items (mailbox));
  g_assert_cmpuint (n_saved, <, SLICED_MAILBOX_SIZE);
  /* Taken at once after it started again: not when the rows ran out. */
  g_assert_cmpuint (n_saved, >, SLICED_MAILBOX_SIZE / 2);
  for (guint id = 1; id <= n_saved; id++)
    {
      g_autofree char *uid = test_uid (id);

      g_assert_nonnull (popcheck_mailbox_lookup (reloaded, uid));
    }
}

/* The backlog fills rows at every turn, the newest first, in their
 * places: the file has every row once, in order. */
static void
test_save_in_slices_filled (void)
{
  const guint n = SLICED_MAILBOX_SIZE;
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("filled-save");
  g_autoptr(PopcheckMailbox) reloaded = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint *numbers = range (1, n);
  g_autofree char *rows = NULL;
  g_autofree char *saved = NULL;
  SavingTurns saving = { .next_fill = n, .last_fill = n - 1000 };

  check_numbered_newest (mailbox, 1, numbers, n, 0);
  popcheck_mailbox_set_slice_usec (mailbox, 0);
  result = save_with_turns (mailbox, NULL, &saving);
  g_assert_true (popcheck_mailbox_save_finish (mailbox, result, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (saving.turns, >=, 2);
  g_assert_cmpuint (popcheck_mailbox_count_headers_pending (mailbox), <, n - 10);
  /* Rows filled where they were, which the walk read as they are now or
   * will read so: it went on. */
  g_assert_cmpuint (mailbox->snapshot_restarts, ==, 0);

  reloaded = load_saved ("filled-save");
  assert_same_rows (reloaded, mailbox);
}

/* Cancelled between two slices of its snapshot, a save writes nothing
 * and leaves the mailbox to the next. */
static void
test_save_in_slices_cancelled (void)
{
  g_autoptr(PopcheckMailbox) mailbox = new_sliced_mailbox ("cancelled-sliced-save");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  SavingTurns saving = { .cancel = cancellable };

  result = save_with_turns (mailbox, cancellable, &saving);
  g_assert_false (popcheck_mailbox_save_finish (mailbox, result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_true (popcheck_mailbox_get_dirty (mailbox));
  g_assert_cmpuint (mailbox->saves_in_flight, ==, 0);
  g_assert_cmpuint (n_items_saved ("cancelled-sliced-save"), ==, 0);
}

/* A save that joined one whose snapshot is then cancelled takes one of
 * its own. */
static void
test_save_in_slices_cancelled_joined (void)
{
  g_autoptr(PopcheckMailbox) mailbox = new_sliced_mailbox ("joined-sliced-save");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  SavingTurns saving = { .cancel = cancellable, .ask_again = TRUE };

  result = save_with_turns (mailbox, cancellable, &saving);
  g_assert_false (popcheck_mailbox_save_finish (mailbox, result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  POPCHECK_TEST_WAIT_UNTIL (saving.again != NULL, 10000);
  g_assert_true (popcheck_mailbox_save_finish (mailbox, saving.again, &error));
  g_assert_no_error (error);
  g_clear_object (&saving.again);
  g_assert_false (popcheck_mailbox_get_dirty (mailbox));
  g_assert_cmpuint (n_items_saved ("joined-sliced-save"), ==, SLICED_MAILBOX_SIZE);
}

/* A save that ends with another runs as that one does: cancelled once it
 * has joined it, it still ends with it, saved. */
static void
test_save_joined_cancelled (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("joined-cancelled");
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) saved = NULL;
  g_autoptr(GAsyncResult) joined = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint *ids = range (1, 3);
  guint64 generation;

  first = run_check (mailbox, ids, 3, NULL);
  generation = mailbox->save_generation;
  popcheck_mailbox_save_async (mailbox, NULL, result_cb, &saved);
  popcheck_mailbox_save_async (mailbox, cancellable, result_cb, &joined);
  POPCHECK_TEST_WAIT_UNTIL (mailbox->saves_in_flight == 1, 10000);
  g_assert_null (joined);
  g_cancellable_cancel (cancellable);

  POPCHECK_TEST_WAIT_UNTIL (saved != NULL && joined != NULL, 10000);
  g_assert_true (popcheck_mailbox_save_finish (mailbox, saved, &error));
  g_assert_no_error (error);
  g_assert_true (popcheck_mailbox_save_finish (mailbox, joined, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (mailbox->save_generation, ==, generation + 1);
  g_assert_cmpuint (n_items_saved ("joined-cancelled"), ==, 3);
}

/* A save asked for before the one before it began its snapshot ends with
 * it; when that one is cancelled before it began, the later one takes
 * the snapshot. */
static void
test_save_asked_cancelled (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("asked-cancelled");
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) cancelled = NULL;
  g_autoptr(GAsyncResult) saved = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint *ids = range (1, 3);

  first = run_check (mailbox, ids, 3, NULL);
  popcheck_mailbox_save_async (mailbox, cancellable, result_cb, &cancelled);
  popcheck_mailbox_save_async (mailbox, NULL, result_cb, &saved);
  g_cancellable_cancel (cancellable);
  POPCHECK_TEST_WAIT_UNTIL (cancelled != NULL && saved != NULL, 10000);

  g_assert_false (popcheck_mailbox_save_finish (mailbox, cancelled, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_true (popcheck_mailbox_save_finish (mailbox, saved, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n_items_saved ("asked-cancelled"), ==, 3);
}

static void
test_save_fails (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("unwritable");
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint *ids = range (1, 2);
  g_autofree char *dir = g_build_filename (g_get_user_state_dir (), "popcheck", NULL);

  /* A file where the directory should be. */
  g_assert_cmpint (g_mkdir_with_parents (g_get_user_state_dir (), 0700), ==, 0);
  g_assert_true (g_file_set_contents (dir, "in the way", -1, NULL));

  first = run_check (mailbox, ids, 2, NULL);
  g_assert_false (save_sync (mailbox, &error));
  g_assert_nonnull (error);
  /* Still to be saved. */
  g_assert_true (popcheck_mailbox_get_dirty (mailbox));

  g_assert_cmpint (g_unlink (dir), ==, 0);
}

static char *
find_damaged (const char *path)
{
  g_autofree char *dir_name = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *prefix = g_strconcat (base, ".damaged-", NULL);
  g_autoptr(GDir) dir = g_dir_open (dir_name, 0, NULL);
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, prefix))
      return g_build_filename (dir_name, name, NULL);

  return NULL;
}

static GBytes *
valid_state_bytes (const char *account_id)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new (account_id);
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint *ids = range (1, 4);
  g_autofree char *path = popcheck_mailbox_dup_state_path (mailbox);
  g_autofree char *contents = NULL;
  gsize len = 0;

  first = run_check (mailbox, ids, 4, NULL);
  g_assert_true (save_sync (mailbox, &error));
  g_assert_true (g_file_get_contents (path, &contents, &len, &error));
  g_assert_cmpint (g_unlink (path), ==, 0);

  return g_bytes_new_take (g_steal_pointer (&contents), len);
}

typedef enum
{
  DAMAGE_RANDOM,
  DAMAGE_TRUNCATED,
  DAMAGE_FLIPPED,
  DAMAGE_EMPTY,
  DAMAGE_TEXT,
  DAMAGE_FUTURE_VERSION,
  DAMAGE_FOREIGN_MAGIC,
  DAMAGE_OTHER_ACCOUNT,
  DAMAGE_WRONG_PAYLOAD,
} Damage;

static GBytes *
damaged_bytes (Damage damage)
{
  switch (damage)
    {
    case DAMAGE_RANDOM:
      {
        g_autoptr(GRand) rand = g_rand_new_with_seed (42);
        guint8 *data = g_malloc (4096);

        for (guint i = 0; i < 4096; i++)
          data[i] = g_rand_int_range (rand, 0, 256);
        return g_bytes_new_take (data, 4096);
      }
    case DAMAGE_TRUNCATED:
      {
        g_autoptr(GBytes) valid = valid_state_bytes ("damaged");

        return g_bytes_new_from_bytes (valid, 0, g_bytes_get_size (valid) * 2 / 3);
      }
    case DAMAGE_FLIPPED:
      {
        g_autoptr(GBytes) valid = valid_state_bytes ("damaged");
        gsize len = g_bytes_get_size (valid);
        guint8 *data = g_memdup2 (g_bytes_get_data (valid, NULL), len);

        /* The framing offsets live at the end. */
        data[len - 1] ^= 0x5A;
        data[len - 2] ^= 0xA5;
        return g_bytes_new_take (data, len);
      }
    case DAMAGE_EMPTY:
      return g_bytes_new_static ("", 0);
    case DAMAGE_TEXT:
      {
        static const char text[] = "('org.example.PopCheck.MailboxState', 1, <'x'>)\n";

        return g_bytes_new_static (text, sizeof text - 1);
      }
    case DAMAGE_FUTURE_VERSION:
    case DAMAGE_FOREIGN_MAGIC:
    case DAMAGE_OTHER_ACCOUNT:
    case DAMAGE_WRONG_PAYLOAD:
      {
        g_autoptr(GVariant) variant = NULL;
        const char *magic = damage == DAMAGE_FOREIGN_MAGIC
                              ? "org.example.SomethingElse"
                              : "org.example.PopCheck.MailboxState";
        guint32 version = damage == DAMAGE_FUTURE_VERSION ? 2 : 1;
        GVariant *payload;

        if (damage == DAMAGE_WRONG_PAYLOAD)
          payload = g_variant_new_string ("not a payload");
        else
          payload = g_variant_new ("(sbxasav)",
                                   damage == DAMAGE_OTHER_ACCOUNT ? "someone-else" : "damaged",
                                   TRUE, G_GINT64_CONSTANT (1700000000),
                                   NULL, NULL);
        variant = g_variant_ref_sink (g_variant_new ("(suv)", magic, version, payload));
        return g_variant_get_data_as_bytes (variant);
      }
    default:
      g_assert_not_reached ();
    }
}

static void
test_damaged_file (gconstpointer data)
{
  Damage damage = GPOINTER_TO_INT (data);
  g_autoptr(GBytes) bytes = damaged_bytes (damage);
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("damaged");
  g_autoptr(PopcheckMailbox) reloaded = NULL;
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = popcheck_mailbox_dup_state_path (mailbox);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *aside = NULL;
  g_autofree char *aside_contents = NULL;
  g_autofree guint *ids = range (1, 3);
  gsize aside_len = 0;
  guint n_tops = 0;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (path, g_bytes_get_data (bytes, NULL),
                                      g_bytes_get_size (bytes), &error));

  g_assert_true (load_sync (mailbox, &error));
  g_assert_no_error (error);

  /* Set aside, byte for byte, for someone to look at. */
  aside = find_damaged (path);
  g_assert_nonnull (aside);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_get_contents (aside, &aside_contents, &aside_len, NULL));
  g_assert_cmpmem (aside_contents, aside_len, g_bytes_get_data (bytes, NULL),
                   g_bytes_get_size (bytes));

  /* A fresh mailbox whose next check is a first check: no flood. */
  g_assert_false (popcheck_mailbox_get_first_check_done (mailbox));
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, 0);
  first = run_check (mailbox, ids, 3, &n_tops);
  g_assert_cmpuint (n_tops, ==, 3);
  g_assert_cmpuint (first->len, ==, 0);
  g_assert_cmpuint (popcheck_mailbox_get_first_check_count (mailbox), ==, 3);

  /* And it works from then on. */
  reloaded = reload (mailbox);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (reloaded), ==, 3);
  g_assert_true (popcheck_mailbox_get_first_check_done (reloaded));
}

static void
test_damaged_twice (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("twice");
  g_autoptr(PopcheckMailbox) again = popcheck_mailbox_new ("twice");
  g_autoptr(GError) error = NULL;
  g_autofree char *path = popcheck_mailbox_dup_state_path (mailbox);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr(GDir) listing = NULL;
  const char *name;
  guint n_aside = 0;

  /* Two damaged files within one second: neither is overwritten. */
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (path, "garbage one", -1, NULL));
  g_assert_true (load_sync (mailbox, &error));
  g_assert_true (g_file_set_contents (path, "garbage two", -1, NULL));
  g_assert_true (load_sync (again, &error));
  g_assert_no_error (error);

  listing = g_dir_open (dir, 0, NULL);
  while ((name = g_dir_read_name (listing)) != NULL)
    if (g_str_has_prefix (name, "twice.state.damaged-"))
      n_aside++;
  g_assert_cmpuint (n_aside, ==, 2);
}

static void
assert_file_is (const char *path,
                GBytes     *bytes)
{
  g_autofree char *contents = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  g_assert_cmpmem (contents, len, g_bytes_get_data (bytes, NULL),
                   g_bytes_get_size (bytes));
  g_assert_null (find_damaged (path));
}

/* A newer PopCheck's state file is that version's: the app neither moves
 * it aside nor saves over it, and says why. */
static void
test_newer_version (void)
{
  g_autoptr(GBytes) bytes = damaged_bytes (DAMAGE_FUTURE_VERSION);
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("damaged");
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = popcheck_mailbox_dup_state_path (mailbox);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree guint *ids = range (1, 3);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (path, g_bytes_get_data (bytes, NULL),
                                      g_bytes_get_size (bytes), &error));

  g_assert_false (load_sync (mailbox, &error));
  assert_file_is (path, bytes);
  g_assert_error (error, POPCHECK_MAILBOX_ERROR,
                  POPCHECK_MAILBOX_ERROR_NEWER_FORMAT);
  g_clear_error (&error);

  /* Checks still work in memory, as after a first start... */
  g_assert_false (popcheck_mailbox_get_first_check_done (mailbox));
  first = run_check (mailbox, ids, 3, NULL);
  g_assert_cmpuint (first->len, ==, 0);

  /* ...but are not saved over the newer file. */
  g_assert_false (save_sync (mailbox, &error));
  g_assert_error (error, POPCHECK_MAILBOX_ERROR,
                  POPCHECK_MAILBOX_ERROR_NEWER_FORMAT);
  assert_file_is (path, bytes);
  g_assert_cmpint (g_unlink (path), ==, 0);
}

/* Reading for a report (popcheck-cli status) never moves a file, however
 * damaged. */
static void
test_read_only_load (void)
{
  g_autoptr(GBytes) bytes = damaged_bytes (DAMAGE_TRUNCATED);
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("damaged");
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = popcheck_mailbox_dup_state_path (mailbox);

  g_assert_true (g_file_set_contents (path, g_bytes_get_data (bytes, NULL),
                                      g_bytes_get_size (bytes), &error));

  popcheck_mailbox_load_for_reading_async (mailbox, NULL, result_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (popcheck_mailbox_load_finish (mailbox, result, &error));
  g_assert_error (error, POPCHECK_MAILBOX_ERROR,
                  POPCHECK_MAILBOX_ERROR_UNREADABLE);
  assert_file_is (path, bytes);
  g_assert_cmpint (g_unlink (path), ==, 0);
}

/* A truncated or damaged state file: the summaries that survive are
 * recovered with their marks, and every message the file no longer tells
 * about is announced (it may have arrived since), each once. */
static void
test_damaged_recovers (gconstpointer data)
{
  Damage damage = GPOINTER_TO_INT (data);
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("recover");
  g_autoptr(PopcheckMailbox) reloaded = popcheck_mailbox_new ("recover");
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GPtrArray) second = NULL;
  g_autoptr(GPtrArray) third = NULL;
  g_autoptr(GHashTable) announced = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GError) error = NULL;
  g_autofree char *path = popcheck_mailbox_dup_state_path (mailbox);
  g_autofree char *contents = NULL;
  g_autofree char *aside = NULL;
  g_autofree guint *four = range (1, 4);
  g_autofree guint *six = range (1, 6);
  g_autofree guint *seven = range (1, 7);
  gboolean recovered[8] = { FALSE, };
  guint n_recovered;
  gsize len = 0;

  first = run_check (mailbox, four, 4, NULL);
  second = run_check (mailbox, six, 6, NULL);
  g_assert_cmpuint (second->len, ==, 2);
  g_assert_true (save_sync (mailbox, &error));
  g_assert_true (g_file_get_contents (path, &contents, &len, &error));
  if (damage == DAMAGE_TRUNCATED)
    len = len * 2 / 3;
  else
    {
      /* The framing offsets live at the end. */
      contents[len - 1] ^= 0x5A;
      contents[len - 2] ^= 0xA5;
    }
  g_assert_true (g_file_set_contents (path, contents, len, &error));

  g_assert_true (load_sync (reloaded, &error));
  g_assert_no_error (error);
  aside = find_damaged (path);
  g_assert_nonnull (aside);
  n_recovered = popcheck_mailbox_get_n_items (reloaded);
  g_assert_cmpuint (n_recovered, >, 0);
  if (damage == DAMAGE_TRUNCATED)
    g_assert_cmpuint (n_recovered, <, 6);
  else
    g_assert_cmpuint (n_recovered, ==, 6);
  for (guint i = 0; i < n_recovered; i++)
    {
      g_autoptr(PopcheckMessage) message =
        g_list_model_get_item (G_LIST_MODEL (reloaded), i);
      guint id = id_of_uid (popcheck_message_get_uid (message));

      recovered[id] = TRUE;
      /* A new message keeps its mark. */
      g_assert_cmpint (popcheck_message_get_is_new (message), ==, id >= 5);
    }

  /* Message 7 arrived since. */
  third = run_check (reloaded, seven, 7, NULL);
  for (guint i = 0; i < third->len; i++)
    {
      const char *uid = popcheck_message_get_uid (g_ptr_array_index (third, i));

      g_assert_false (g_hash_table_contains (announced, uid));
      g_hash_table_add (announced, (gpointer) uid);
      g_assert_false (recovered[id_of_uid (uid)]);
    }
  for (guint id = 1; id <= 7; id++)
    if (!recovered[id])
      {
        g_autofree char *uid = test_uid (id);

        g_assert_true (g_hash_table_contains (announced, uid));
      }
  g_assert_cmpuint (third->len, ==, 7 - n_recovered);
}

/* A damaged index, saved after a check that fetched message 6 and did not
 * get to announce it: message 6 is announced by the next check all the
 * same, with message 5 that arrived unseen. */
static void
test_damaged_recovers_fetched (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("recover-fetched");
  g_autoptr(PopcheckMailbox) reloaded = popcheck_mailbox_new ("recover-fetched");
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(Pop3UidListing) uids = NULL;
  g_autoptr(GPtrArray) need_top = NULL;
  g_autoptr(GPtrArray) next = NULL;
  g_autoptr(PopcheckMessage) six = make_summary (6, 6);
  g_autoptr(GError) error = NULL;
  g_autofree char *path = popcheck_mailbox_dup_state_path (mailbox);
  g_autofree char *contents = NULL;
  g_autofree char *aside = NULL;
  g_autofree guint *ids = range (1, 6);
  gsize len = 0;

  first = run_check (mailbox, ids, 4, NULL);
  uids = make_server_list (ids, 6);
  need_top = popcheck_mailbox_begin_update (mailbox, uids, NULL);
  popcheck_mailbox_add_summary (mailbox, six);
  /* ... the connection drops; no end_update. */
  g_assert_true (save_sync (mailbox, &error));
  g_assert_true (g_file_get_contents (path, &contents, &len, &error));
  contents[len - 1] ^= 0x5A;
  contents[len - 2] ^= 0xA5;
  g_assert_true (g_file_set_contents (path, contents, len, &error));

  g_assert_true (load_sync (reloaded, &error));
  aside = find_damaged (path);
  g_assert_nonnull (aside);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (reloaded), ==, 4);
  g_assert_null (popcheck_mailbox_lookup (reloaded, "uid-6"));

  next = run_check (reloaded, ids, 6, NULL);
  g_assert_cmpuint (next->len, ==, 2);
  g_assert_cmpuint (id_of_uid (popcheck_message_get_uid (g_ptr_array_index (next, 0))) +
                    id_of_uid (popcheck_message_get_uid (g_ptr_array_index (next, 1))),
                    ==, 5 + 6);
  g_assert_cmpstr (popcheck_message_get_uid (g_ptr_array_index (next, 0)), !=,
                   popcheck_message_get_uid (g_ptr_array_index (next, 1)));
}

/* A damaged state file: a message listed without headers is recovered
 * as one, with its refused TOPs, and not announced a second time. */
static void
test_damaged_recovers_without_headers (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("recover-headerless");
  g_autoptr(PopcheckMailbox) reloaded = popcheck_mailbox_new ("recover-headerless");
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GPtrArray) second = NULL;
  g_autoptr(GPtrArray) third = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = popcheck_mailbox_dup_state_path (mailbox);
  g_autofree char *contents = NULL;
  g_autofree guint *ids = range (1, 5);
  PopcheckMessage *message;
  gsize len = 0;
  guint n_tops = 0;

  first = run_check (mailbox, ids, 4, NULL);
  second = run_check_full (mailbox, ids, 5, &ids[4], 1, TRUE, NULL);
  g_assert_cmpuint (second->len, ==, 1);
  g_assert_true (save_sync (mailbox, &error));
  g_assert_true (g_file_get_contents (path, &contents, &len, &error));
  /* The framing offsets live at the end. */
  contents[len - 1] ^= 0x5A;
  contents[len - 2] ^= 0xA5;
  g_assert_true (g_file_set_contents (path, contents, len, &error));

  g_assert_true (load_sync (reloaded, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (reloaded), ==, 5);
  message = popcheck_mailbox_lookup (reloaded, "uid-5");
  g_assert_nonnull (message);
  g_assert_false (popcheck_message_get_headers_known (message));
  g_assert_cmpuint (popcheck_message_get_top_refusals (message), ==, 1);
  g_assert_true (popcheck_message_get_is_new (message));

  /* Its TOP is tried again; nothing is announced again. */
  third = run_check_full (reloaded, ids, 5, &ids[4], 1, TRUE, &n_tops);
  g_assert_cmpuint (n_tops, ==, 1);
  g_assert_cmpuint (third->len, ==, 0);
}

/* What an update fetched of messages first to last (numbered as their
 * ids): those up to last_pending are listed with their headers pending,
 * the others have their summaries. */
static void
add_fetched (PopcheckMailbox *mailbox,
             guint            first,
             guint            last,
             guint            last_pending)
{
  for (guint i = first; i <= last; i++)
    {
      g_autofree char *uid = test_uid (i);
      g_autoptr(PopcheckMessage) fetched = NULL;

      if (i <= last_pending)
        {
          popcheck_mailbox_add_headers_pending (mailbox, uid, i, 1000 + i);
          continue;
        }
      fetched = make_summary (i, i);
      popcheck_mailbox_add_summary (mailbox, fetched);
    }
}

/* The table of UIDs keeps the listed message's own UID, not a copy. */
static void
assert_uid_shared (PopcheckMailbox *mailbox,
                   const char      *uid)
{
  PopcheckMessage *message = popcheck_mailbox_lookup (mailbox, uid);
  gpointer key = NULL;

  g_assert_nonnull (message);
  g_assert_true (g_hash_table_lookup_extended (mailbox->uids, uid, &key, NULL));
  g_assert_true (key == popcheck_message_get_uid (message));
}

/* A check that leaves the oldest new messages for later lists them with
 * their headers pending and announces them; their summaries, when they
 * come, take their places one by one (two exact changes, so a list view
 * keeps its scroll position), keeping whether they are new; a restart
 * keeps them pending, and the next check asks for them again. */
static void
test_headers_pending (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("pending");
  g_autoptr(PopcheckMailbox) reloaded = NULL;
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GPtrArray) second = NULL;
  g_autoptr(GPtrArray) third = NULL;
  g_autoptr(Pop3UidListing) uids = NULL;
  g_autoptr(GArray) sizes = NULL;
  g_autoptr(GPtrArray) need_top = NULL;
  g_autoptr(PopcheckMessage) summary = NULL;
  g_autoptr(PopcheckMessage) again = NULL;
  g_autoptr(Mirror) mirror = NULL;
  g_autofree guint *ids = range (1, 8);
  PopcheckMessage *message;
  guint emissions, n_tops = 0;

  first = run_check (mailbox, ids, 3, NULL);

  uids = make_server_list (ids, 8);
  sizes = make_sizes (ids, 8);
  need_top = popcheck_mailbox_begin_update (mailbox, uids, sizes);
  g_assert_cmpuint (need_top->len, ==, 5);
  add_fetched (mailbox, 4, 8, 6);
  second = popcheck_mailbox_end_update (mailbox);
  g_assert_cmpuint (second->len, ==, 5);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, 8);
  g_assert_cmpuint (popcheck_mailbox_get_n_new (mailbox), ==, 5);
  g_assert_cmpuint (popcheck_mailbox_count_headers_pending (mailbox), ==, 3);
  assert_sorted (mailbox);
  message = popcheck_mailbox_lookup (mailbox, "uid-5");
  g_assert_true (popcheck_message_get_headers_pending (message));
  g_assert_false (popcheck_message_get_headers_known (message));
  g_assert_cmpuint (popcheck_message_get_top_refusals (message), ==, 0);
  g_assert_cmpuint (popcheck_message_get_size (message), ==, 1005);
  assert_uid_shared (mailbox, "uid-5");

  /* Across a restart: still pending, still new. */
  reloaded = reload (mailbox);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (reloaded), ==, 8);
  g_assert_cmpuint (popcheck_mailbox_count_headers_pending (reloaded), ==, 3);
  g_assert_cmpuint (popcheck_mailbox_get_n_new (reloaded), ==, 5);
  assert_uid_shared (reloaded, "uid-5");

  mirror = mirror_new (mailbox);
  emissions = mirror->emissions;
  summary = make_summary (5, 5);
  g_assert_true (popcheck_mailbox_fill_pending (mailbox, summary));
  g_assert_cmpuint (mirror->emissions, ==, emissions + 2);
  assert_mirror (mirror, mailbox);
  assert_sorted (mailbox);
  g_assert_true (popcheck_mailbox_lookup (mailbox, "uid-5") == summary);
  g_assert_true (popcheck_message_get_is_new (summary));
  g_assert_cmpuint (popcheck_mailbox_get_n_new (mailbox), ==, 5);
  g_assert_cmpuint (popcheck_mailbox_count_headers_pending (mailbox), ==, 2);
  g_assert_true (popcheck_mailbox_get_dirty (mailbox));
  /* Only what waits for its headers is filled in. */
  again = make_summary (5, 5);
  g_assert_false (popcheck_mailbox_fill_pending (mailbox, again));
  g_assert_true (popcheck_mailbox_lookup (mailbox, "uid-5") == summary);

  /* The next check asks for the two left, and announces nothing again. */
  third = run_check (mailbox, ids, 8, &n_tops);
  g_assert_cmpuint (n_tops, ==, 2);
  g_assert_cmpuint (third->len, ==, 0);
  g_assert_cmpuint (popcheck_mailbox_count_headers_pending (mailbox), ==, 0);
  g_assert_cmpuint (popcheck_mailbox_get_n_new (mailbox), ==, 5);
}

/* An update that fetches the newest first: the newest two to TOP, newest
 * first; the three older ones listed at once with their headers pending,
 * sized as LIST says, sharing the mailbox's UIDs; the one already listed
 * stays as it is.  With room for all, nothing is left for later. */
static void
test_begin_update_newest (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("newest");
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GPtrArray) need_top = NULL;
  g_autoptr(GPtrArray) all = NULL;
  g_autoptr(GPtrArray) new_messages = NULL;
  g_autoptr(Pop3UidListing) uids = NULL;
  g_autoptr(GArray) sizes = NULL;
  g_autofree guint *ids = range (1, 6);
  PopcheckMessage *kept;
  gboolean deferred = FALSE;

  first = run_check (mailbox, ids, 1, NULL);
  kept = popcheck_mailbox_lookup (mailbox, "uid-1");

  uids = make_server_list (ids, 6);
  sizes = make_sizes (ids, 6);
  need_top = popcheck_mailbox_begin_update_newest (mailbox,
                                                   pop3_uid_listing_ref (uids),
                                                   g_array_ref (sizes), 2, &deferred);
  g_assert_true (deferred);
  g_assert_cmpuint (need_top->len, ==, 2);
  g_assert_cmpstr (((Pop3UidEntry *) g_ptr_array_index (need_top, 0))->uid, ==, "uid-6");
  g_assert_cmpuint (((Pop3UidEntry *) g_ptr_array_index (need_top, 0))->msg, ==, 6);
  g_assert_cmpstr (((Pop3UidEntry *) g_ptr_array_index (need_top, 1))->uid, ==, "uid-5");
  new_messages = popcheck_mailbox_end_update (mailbox);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, 4);
  g_assert_cmpuint (popcheck_mailbox_count_headers_pending (mailbox), ==, 3);
  g_assert_true (popcheck_mailbox_lookup (mailbox, "uid-1") == kept);
  for (guint id = 2; id <= 4; id++)
    {
      g_autofree char *uid = g_strdup_printf ("uid-%u", id);
      PopcheckMessage *message = popcheck_mailbox_lookup (mailbox, uid);

      g_assert_nonnull (message);
      g_assert_true (popcheck_message_get_headers_pending (message));
      g_assert_cmpuint (popcheck_message_get_msg_number (message), ==, id);
      g_assert_cmpuint (popcheck_message_get_size (message), ==, 1000 + id);
      assert_uid_shared (mailbox, uid);
    }

  /* Room for all: the two left, in the listing's order, none deferred. */
  all = popcheck_mailbox_begin_update_newest (mailbox,
                                              pop3_uid_listing_ref (uids),
                                              g_array_ref (sizes), 100, &deferred);
  g_assert_false (deferred);
  g_assert_cmpuint (all->len, ==, 5);
  g_assert_cmpstr (((Pop3UidEntry *) g_ptr_array_index (all, 0))->uid, ==, "uid-2");
  g_assert_cmpstr (((Pop3UidEntry *) g_ptr_array_index (all, 4))->uid, ==, "uid-6");
  g_clear_pointer (&new_messages, g_ptr_array_unref);
  new_messages = popcheck_mailbox_end_update (mailbox);
}

typedef struct
{
  GPtrArray *need_top;
  gboolean   deferred;
  GError    *error;
  gboolean   done;
  /* Turns of another source while the update was under way, and of one
   * always due, as a frame clock is when frames come late. */
  guint      turns;
  guint      frames;
  /* Cancelled at the first of them, when set. */
  GCancellable *cancel_at_turn;
} SlicedBegin;

static void
sliced_begin_clear (SlicedBegin *begin)
{
  g_clear_pointer (&begin->need_top, g_ptr_array_unref);
  g_clear_error (&begin->error);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SlicedBegin, sliced_begin_clear)

static void
sliced_begin_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  SlicedBegin *begin = user_data;

  begin->need_top =
    popcheck_mailbox_begin_update_newest_finish (POPCHECK_MAILBOX (object),
                                                 result, &begin->deferred,
                                                 &begin->error);
  begin->done = TRUE;
}

static gboolean
sliced_begin_turn_cb (gpointer user_data)
{
  SlicedBegin *begin = user_data;

  if (!begin->done)
    begin->turns++;
  if (begin->cancel_at_turn != NULL)
    g_cancellable_cancel (begin->cancel_at_turn);

  return G_SOURCE_CONTINUE;
}

static gboolean
sliced_begin_frame_cb (gpointer user_data)
{
  SlicedBegin *begin = user_data;

  if (!begin->done)
    begin->frames++;

  return G_SOURCE_CONTINUE;
}

/* Begins an update of mailbox in slices, with sources that count the
 * turns they get meanwhile, and waits for the update. */
static void
run_sliced_begin (PopcheckMailbox *mailbox,
                  Pop3UidListing  *uids,
                  GArray          *sizes,
                  guint            n_newest,
                  GCancellable    *cancellable,
                  SlicedBegin     *begin)
{
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  guint timeout;
  guint frames;

  popcheck_mailbox_begin_update_newest_async (mailbox, pop3_uid_listing_ref (uids),
                                              g_array_ref (sizes), n_newest,
                                              cancellable, sliced_begin_cb, begin);
  g_assert_false (begin->done);

  /* Every millisecond: due after each slice, and run before the next,
   * which waits a millisecond after each. */
  timeout = g_timeout_add (1, sliced_begin_turn_cb, begin);
  /* GTK's redrawing priority: an update below it would never end. */
  frames = g_idle_add_full (G_PRIORITY_HIGH_IDLE + 20, sliced_begin_frame_cb,
                            begin, NULL);
  while (!begin->done)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
  g_source_remove (timeout);
  g_source_remove (frames);
}

static void
assert_same_entries (GPtrArray *a,
                     GPtrArray *b)
{
  g_assert_cmpuint (a->len, ==, b->len);
  for (guint i = 0; i < a->len; i++)
    {
      Pop3UidEntry *entry_a = g_ptr_array_index (a, i);
      Pop3UidEntry *entry_b = g_ptr_array_index (b, i);

      g_assert_cmpstr (entry_a->uid, ==, entry_b->uid);
      g_assert_cmpuint (entry_a->msg, ==, entry_b->msg);
    }
}

/* A check's listing of 20,000 messages taken in slices: other sources
 * run between them, one always due below them does not hold them back,
 * and the mailbox ends as the listing taken at once leaves it.  Cancelled between slices, the update fails, and the next
 * one lists the mailbox in full. */
static void
test_begin_in_slices (void)
{
  const guint n = 20000;
  g_autoptr(PopcheckMailbox) at_once = popcheck_mailbox_new ("at-once");
  g_autoptr(PopcheckMailbox) sliced = popcheck_mailbox_new ("sliced");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree guint *ids = range (1, n);
  g_autoptr(Pop3UidListing) uids = make_server_list (ids, n);
  g_autoptr(GArray) sizes = make_sizes (ids, n);
  g_autoptr(GPtrArray) need_top = NULL;
  g_autoptr(GPtrArray) again = NULL;
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GPtrArray) second = NULL;
  g_auto(SlicedBegin) begin = { NULL, };
  g_auto(SlicedBegin) cancelled = { NULL, };
  gboolean deferred = FALSE;

  /* Many slices, however fast the machine. */
  popcheck_mailbox_set_slice_usec (sliced, 0);
  need_top = popcheck_mailbox_begin_update_newest (at_once, pop3_uid_listing_ref (uids),
                                                   g_array_ref (sizes), 300, &deferred);
  run_sliced_begin (sliced, uids, sizes, 300, NULL, &begin);
  g_assert_no_error (begin.error);
  g_assert_cmpuint (begin.turns, >, 0);
  g_assert_cmpuint (begin.frames, >, 0);
  g_assert_true (begin.deferred == deferred);
  assert_same_entries (begin.need_top, need_top);
  first = popcheck_mailbox_end_update (at_once);
  second = popcheck_mailbox_end_update (sliced);
  /* No TOP was answered: the newest 300 have no row yet. */
  g_assert_cmpuint (popcheck_mailbox_get_n_items (at_once), ==, n - 300);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (sliced), ==, n - 300);
  g_assert_cmpuint (popcheck_mailbox_count_headers_pending (sliced), ==, n - 300);
  g_assert_cmpuint (popcheck_mailbox_get_msg_number (sliced, "uid-1"), ==, 1);
  g_assert_cmpuint (popcheck_mailbox_get_msg_number (sliced, "uid-20000"), ==, n);

  /* Cancelled after its first slice. */
  cancelled.cancel_at_turn = cancellable;
  run_sliced_begin (sliced, uids, sizes, 300, cancellable, &cancelled);
  g_assert_error (cancelled.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (cancelled.need_top);

  g_clear_pointer (&need_top, g_ptr_array_unref);
  need_top = popcheck_mailbox_begin_update_newest (sliced, pop3_uid_listing_ref (uids),
                                                   g_array_ref (sizes), 300, &deferred);
  assert_same_entries (need_top, begin.need_top);
  again = popcheck_mailbox_end_update (sliced);
  g_assert_cmpuint (again->len, ==, 0);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (sliced), ==, n - 300);
  g_assert_cmpuint (popcheck_mailbox_get_msg_number (sliced, "uid-20000"), ==, n);
}

/* A check of the messages first_id on, numbered as given: the newest
 * n_newest get their summaries, the rest are left for the backlog (rows
 * ordered by number alone). */
static void
check_numbered_newest (PopcheckMailbox *mailbox,
                       guint            first_id,
                       const guint     *numbers,
                       guint            n,
                       guint            n_newest)
{
  g_autoptr(Pop3UidListing) uids = pop3_uid_listing_new ();
  g_autoptr(GPtrArray) need_top = NULL;
  g_autoptr(GPtrArray) new_messages = NULL;
  gboolean deferred = FALSE;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *uid = test_uid (first_id + i);

      pop3_uid_listing_add (uids, numbers[i], uid);
    }
  need_top = popcheck_mailbox_begin_update_newest (mailbox, pop3_uid_listing_ref (uids),
                                                   NULL, n_newest, &deferred);
  g_assert_cmpuint (need_top->len, ==, n_newest);
  for (guint i = 0; i < need_top->len; i++)
    {
      Pop3UidEntry *entry = g_ptr_array_index (need_top, i);
      g_autoptr(PopcheckMessage) summary = make_summary (id_of_uid (entry->uid),
                                                         entry->msg);

      popcheck_mailbox_add_summary (mailbox, summary);
    }
  new_messages = popcheck_mailbox_end_update (mailbox);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, n);
}

static void
check_numbered (PopcheckMailbox *mailbox,
                guint            first_id,
                const guint     *numbers,
                guint            n)
{
  check_numbered_newest (mailbox, first_id, numbers, n, 0);
}

/* A check cut short after it renumbered rows leaves them to be put in
 * order by the next, even though the next finds their numbers as they
 * are: the server swapped the numbers of the oldest hundred, two by two,
 * and the first slice listed them before the check was cancelled. */
static void
test_begin_in_slices_renumbered (void)
{
  const guint n = 20000;
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("renumbered-cancelled");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree guint *numbers = range (1, n);
  g_autoptr(Pop3UidListing) swapped = pop3_uid_listing_new ();
  g_autoptr(GArray) sizes = make_sizes (numbers, n);
  g_autoptr(GPtrArray) need_top = NULL;
  g_autoptr(GPtrArray) new_messages = NULL;
  g_autoptr(PopcheckMessage) oldest = NULL;
  g_auto(SlicedBegin) cancelled = { NULL, };
  gboolean deferred = FALSE;

  check_numbered (mailbox, 1, numbers, n);
  popcheck_mailbox_set_slice_usec (mailbox, 0);

  /* In the order of the numbers, as a server lists them. */
  for (guint msg = 1; msg <= n; msg++)
    {
      g_autofree char *uid = test_uid (msg <= 100 ? ((msg - 1) ^ 1) + 1 : msg);

      pop3_uid_listing_add (swapped, msg, uid);
    }
  cancelled.cancel_at_turn = cancellable;
  run_sliced_begin (mailbox, swapped, sizes, 0, cancellable, &cancelled);
  g_assert_error (cancelled.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (popcheck_mailbox_get_msg_number (mailbox, "uid-1"), ==, 2);

  need_top = popcheck_mailbox_begin_update_newest (mailbox, pop3_uid_listing_ref (swapped),
                                                   NULL, 0, &deferred);
  new_messages = popcheck_mailbox_end_update (mailbox);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, n);
  assert_sorted (mailbox);
  oldest = g_list_model_get_item (G_LIST_MODEL (mailbox), n - 1);
  g_assert_cmpstr (popcheck_message_get_uid (oldest), ==, "uid-2");
}

/* An update begun while one in slices is under way replaces it: the
 * first fails before it lists anything more. */
static void
test_begin_in_slices_replaced (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("replaced");
  g_autofree guint *ids = range (1, 6);
  g_autoptr(Pop3UidListing) uids = make_server_list (ids, 6);
  g_autoptr(Pop3UidListing) fewer = make_server_list (ids, 3);
  g_autoptr(GArray) sizes = make_sizes (ids, 6);
  g_autoptr(GPtrArray) need_top = NULL;
  g_autoptr(GPtrArray) new_messages = NULL;
  g_auto(SlicedBegin) begin = { NULL, };

  popcheck_mailbox_begin_update_newest_async (mailbox, pop3_uid_listing_ref (uids),
                                              g_array_ref (sizes), 300, NULL,
                                              sliced_begin_cb, &begin);
  need_top = popcheck_mailbox_begin_update (mailbox, fewer, NULL);
  while (!begin.done)
    g_main_context_iteration (NULL, TRUE);

  g_assert_error (begin.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (need_top->len, ==, 3);
  new_messages = popcheck_mailbox_end_update (mailbox);
  g_assert_cmpuint (popcheck_mailbox_get_msg_number (mailbox, "uid-3"), ==, 3);
  g_assert_cmpuint (popcheck_mailbox_get_msg_number (mailbox, "uid-4"), ==, 0);
}

/* The messages LIST names and UIDL does not, as "number:size " each, in
 * the order of their numbers. */
static char *
describe_without_uid (PopcheckMailbox *mailbox)
{
  g_autoptr(GString) text = g_string_new (NULL);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (mailbox));

  for (guint i = n; i-- > 0;)
    {
      g_autoptr(PopcheckMessage) message =
        g_list_model_get_item (G_LIST_MODEL (mailbox), i);

      if (!popcheck_message_get_has_uid (message))
        g_string_append_printf (text, "%u:%" G_GUINT64_FORMAT " ",
                                popcheck_message_get_msg_number (message),
                                popcheck_message_get_size (message));
    }
  return g_string_free (g_steal_pointer (&text), FALSE);
}

/* The rows without a UID, as describe_without_uid () gives them, after
 * a check whose LIST lines are for the numbers in @list (each message
 * 1000 bytes and its number) and whose UIDL lines are for those in
 * @uidl; sets *n_need_top to how many TOPs the check asked for. */
static char *
check_without_uid (const guint *list,
                   guint        n_list,
                   const guint *uidl,
                   guint        n_uidl,
                   guint       *n_need_top)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("without-uid");
  g_autoptr(Pop3UidListing) uids = pop3_uid_listing_new ();
  g_autoptr(GArray) sizes = g_array_new (FALSE, FALSE, sizeof (Pop3ListEntry));
  g_autoptr(GPtrArray) need_top = NULL;
  g_autoptr(GPtrArray) new_messages = NULL;

  for (guint i = 0; i < n_list; i++)
    {
      Pop3ListEntry entry = { list[i], 1000 + list[i] };

      g_array_append_val (sizes, entry);
    }
  for (guint i = 0; i < n_uidl; i++)
    {
      g_autofree char *uid = test_uid (i + 1);

      pop3_uid_listing_add (uids, uidl[i], uid);
    }

  need_top = popcheck_mailbox_begin_update (mailbox, uids, sizes);
  *n_need_top = need_top->len;
  new_messages = popcheck_mailbox_end_update (mailbox);
  return describe_without_uid (mailbox);
}

/* LIST names messages 3 and 6, which UIDL does not: each is a row, by
 * number and size, whether both listings come in rising order (as from
 * every server we know) or not. */
static void
test_without_uid (void)
{
  static const guint orders[][6] = {
    { 1, 2, 3, 4, 5, 6 },
    { 5, 3, 1, 6, 2, 4 },
  };

  for (guint o = 0; o < G_N_ELEMENTS (orders); o++)
    {
      g_autofree char *described = NULL;
      guint uidl[6];
      guint n_uidl = 0;
      guint n_need_top;

      for (guint i = 0; i < G_N_ELEMENTS (orders[o]); i++)
        if (orders[o][i] != 3 && orders[o][i] != 6)
          uidl[n_uidl++] = orders[o][i];

      described = check_without_uid (orders[o], G_N_ELEMENTS (orders[o]),
                                     uidl, n_uidl, &n_need_top);
      g_assert_cmpstr (described, ==, "3:1003 6:1006 ");
      g_assert_cmpuint (n_need_top, ==, 4);
    }
}

/* UIDL has as many lines as LIST, but they do not name the same
 * messages (a server whose listings disagree, one that numbers a message
 * 0, or one that lists a message twice, or skips a number in LIST):
 * LIST's messages that UIDL leaves out are rows without a UID all the
 * same. */
static void
test_without_uid_disagreeing (void)
{
  static const struct
  {
    guint       list[6];
    guint       uidl[6];
    const char *without;
  } cases[] = {
    { { 1, 2, 3, 4, 5, 6 }, { 1, 2, 4, 5, 7, 8 }, "3:1003 6:1006 " },
    { { 1, 2, 3, 4, 5, 6 }, { 0, 1, 2, 4, 5, 6 }, "3:1003 " },
    { { 1, 2, 3, 4, 5, 6 }, { 1, 2, 2, 4, 5, 6 }, "3:1003 " },
    { { 1, 2, 3, 4, 5, 7 }, { 1, 2, 3, 4, 5, 6 }, "7:1007 " },
  };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autofree char *described = NULL;
      guint n_need_top;

      described = check_without_uid (cases[c].list, G_N_ELEMENTS (cases[c].list),
                                     cases[c].uidl, G_N_ELEMENTS (cases[c].uidl),
                                     &n_need_top);
      g_assert_cmpstr (described, ==, cases[c].without);
    }
}

/* A broken server numbers three messages 3.  The newest two of those
 * that want a TOP are two of them, never all three; with room for none,
 * every one is left for later. */
static void
test_begin_update_newest_repeated (void)
{
  static const guint msgs[] = { 1, 2, 3, 3, 3 };

  for (guint n_newest = 0; n_newest <= 2; n_newest += 2)
    {
      g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("repeated");
      g_autoptr(Pop3UidListing) uids = pop3_uid_listing_new ();
      g_autoptr(GPtrArray) need_top = NULL;
      g_autoptr(GPtrArray) new_messages = NULL;
      gboolean deferred = FALSE;

      for (guint i = 0; i < G_N_ELEMENTS (msgs); i++)
        {
          g_autofree char *uid = test_uid (i + 1);

          pop3_uid_listing_add (uids, msgs[i], uid);
        }

      need_top = popcheck_mailbox_begin_update_newest (mailbox,
                                                       pop3_uid_listing_ref (uids),
                                                       NULL, n_newest, &deferred);
      g_assert_true (deferred);
      g_assert_cmpuint (need_top->len, ==, n_newest);
      for (guint i = 0; i < need_top->len; i++)
        g_assert_cmpuint (((Pop3UidEntry *) g_ptr_array_index (need_top, i))->msg, ==, 3);

      new_messages = popcheck_mailbox_end_update (mailbox);
      g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==,
                        G_N_ELEMENTS (msgs) - n_newest);
      g_assert_cmpuint (popcheck_mailbox_count_headers_pending (mailbox), ==,
                        G_N_ELEMENTS (msgs) - n_newest);
    }
}

/* What a lookup finds while a change is announced: not gone, but added,
 * and uid-2, which stays. */
typedef struct
{
  const char *gone;
  const char *added;
  guint       emissions;
} LookupCheck;

static void
lookup_during_change_cb (GListModel  *model,
                         guint        position,
                         guint        removed,
                         guint        added,
                         LookupCheck *check)
{
  PopcheckMailbox *mailbox = POPCHECK_MAILBOX (model);

  g_assert_null (popcheck_mailbox_lookup (mailbox, check->gone));
  g_assert_nonnull (popcheck_mailbox_lookup (mailbox, check->added));
  g_assert_nonnull (popcheck_mailbox_lookup (mailbox, "uid-2"));
  check->emissions++;
}

/* A change of many rows lets go of the index by UID and makes it again
 * when needed: a lookup while the change is announced, step by step,
 * finds the rows as they will be (the added ones, not the removed one),
 * and so does one after it. */
static void
test_lookup_during_change (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("lookup");
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GPtrArray) second = NULL;
  g_autofree guint *ids = range (1, 200);
  LookupCheck check = { "uid-1", "uid-200", 0 };
  gulong handler;

  first = run_check (mailbox, ids, 3, NULL);
  handler = g_signal_connect (mailbox, "items-changed",
                              G_CALLBACK (lookup_during_change_cb), &check);
  second = run_check (mailbox, ids + 1, 199, NULL);
  g_signal_handler_disconnect (mailbox, handler);

  g_assert_cmpuint (check.emissions, >=, 2);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, 199);
  g_assert_null (popcheck_mailbox_lookup (mailbox, "uid-1"));
  for (guint id = 2; id <= 200; id++)
    {
      g_autofree char *uid = test_uid (id);
      PopcheckMessage *message = popcheck_mailbox_lookup (mailbox, uid);

      g_assert_nonnull (message);
      g_assert_cmpstr (popcheck_message_get_uid (message), ==, uid);
    }
}

/* Each listed id is a row, found by its UID, and each of gone is not. */
static void
assert_rows (PopcheckMailbox *mailbox,
             GArray          *listed,
             GArray          *gone)
{
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, listed->len);
  for (guint i = 0; i < listed->len; i++)
    {
      g_autofree char *uid = test_uid (g_array_index (listed, guint, i));
      PopcheckMessage *row = popcheck_mailbox_lookup (mailbox, uid);

      g_assert_nonnull (row);
      g_assert_cmpstr (popcheck_message_get_uid (row), ==, uid);
    }
  for (guint i = 0; i < gone->len; i++)
    {
      g_autofree char *uid = test_uid (g_array_index (gone, guint, i));

      g_assert_null (popcheck_mailbox_lookup (mailbox, uid));
    }
}

static int
compare_ids (gconstpointer a,
             gconstpointer b)
{
  guint id_a = *(const guint *) a;
  guint id_b = *(const guint *) b;

  return (id_a > id_b) - (id_a < id_b);
}

/* Moves the ids of from between first and last, step apart, to to. */
static void
move_ids (GArray *from,
          GArray *to,
          guint   first,
          guint   last,
          guint   step)
{
  for (guint i = from->len; i-- > 0;)
    {
      guint id = g_array_index (from, guint, i);

      if (id >= first && id <= last && (id - first) % step == 0)
        {
          g_array_append_val (to, id);
          g_array_remove_index (from, i);
        }
    }
}

typedef struct
{
  GThread *main_thread;
  guint    n_gone;
  guint    n_gone_on_main_thread;
} GoneRows;

static void
row_gone_cb (gpointer  user_data,
             GObject  *where_the_object_was)
{
  GoneRows *gone = user_data;

  if (g_thread_self () == gone->main_thread)
    g_atomic_int_inc (&gone->n_gone_on_main_thread);
  g_atomic_int_inc (&gone->n_gone);
}

/* Checks the messages ids, and waits until the rows that go, counted in
 * gone, are let go of. */
static void
check_and_wait_gone (PopcheckMailbox *mailbox,
                     const guint     *ids,
                     guint            n_ids,
                     GoneRows        *gone,
                     guint            n_gone)
{
  g_ptr_array_unref (run_check (mailbox, ids, n_ids, NULL));
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, n_ids);
  POPCHECK_TEST_WAIT_UNTIL ((guint) g_atomic_int_get (&gone->n_gone) == n_gone, 10000);
}

/* The rows a large change leaves are let go of, and not on the main
 * loop, where finalizing 10,000 held it for a third of the change: a
 * run of the oldest, a sixth of the rows (merged, announced in one
 * step); another, a tenth (removed in place); then all but every other
 * of the newest 200 (one span). */
static void
test_gone_rows_let_go (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("gone-rows");
  g_autofree guint *ids = range (1, 1200);
  g_autofree guint *even = g_new (guint, 100);
  GoneRows gone = { g_thread_self (), 0, 0 };

  g_ptr_array_unref (run_check (mailbox, ids, 1200, NULL));
  for (guint i = 0; i < popcheck_mailbox_get_n_items (mailbox); i++)
    {
      g_autoptr(PopcheckMessage) row = g_list_model_get_item (G_LIST_MODEL (mailbox), i);

      g_object_weak_ref (G_OBJECT (row), row_gone_cb, &gone);
    }

  check_and_wait_gone (mailbox, ids + 200, 1000, &gone, 200);
  check_and_wait_gone (mailbox, ids + 300, 900, &gone, 300);

  for (guint i = 0; i < 100; i++)
    even[i] = 1002 + 2 * i;
  check_and_wait_gone (mailbox, even, 100, &gone, 1100);
  g_assert_cmpuint (g_atomic_int_get (&gone.n_gone_on_main_thread), ==, 0);

  /* The rows that stay are still there. */
  for (guint i = 0; i < 100; i++)
    {
      g_autofree char *uid = test_uid (even[i]);

      g_assert_nonnull (popcheck_mailbox_lookup (mailbox, uid));
    }
}

/* Checks the messages listed: n_new of them new, the change announced in
 * two steps, and a lookup during each finding the rows as they will be
 * (see LookupCheck). */
static void
check_in_two_steps (PopcheckMailbox *mailbox,
                    Mirror          *mirror,
                    GArray          *listed,
                    GArray          *gone,
                    LookupCheck     *check,
                    guint            n_new)
{
  g_autoptr(GPtrArray) new_messages = NULL;
  guint before = mirror->emissions;
  gulong handler = g_signal_connect (mailbox, "items-changed",
                                     G_CALLBACK (lookup_during_change_cb), check);

  new_messages = run_check (mailbox, (guint *) listed->data, listed->len, NULL);
  g_signal_handler_disconnect (mailbox, handler);
  g_assert_cmpuint (new_messages->len, ==, n_new);
  g_assert_cmpuint (mirror->emissions, ==, before + 2);
  g_assert_cmpuint (check->emissions, ==, 2);
  assert_mirror (mirror, mailbox);
  assert_sorted (mailbox);
  assert_rows (mailbox, listed, gone);
}

/* Changes of more rows than are announced one by one: the rows that stay
 * keep their order, the added ones go where their dates put them, and
 * the list hears of it in one step for each run of rows, or as one span
 * when there are more runs than steps allowed. */
static void
test_large_change (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("large-change");
  g_autoptr(Mirror) mirror = mirror_new (mailbox);
  g_autoptr(GArray) listed = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr(GArray) gone = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GPtrArray) second = NULL;
  g_auto(GStrv) remove = NULL;
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  LookupCheck check = { "uid-1102", "uid-3001", 0 };
  LookupCheck removed_check = { "uid-1402", "uid-3001", 0 };
  guint before;

  /* A date is a minute for each id: even ids now, odd ones come later. */
  for (guint id = 2; id <= 2000; id += 2)
    g_array_append_val (listed, id);
  first = run_check (mailbox, (guint *) listed->data, listed->len, NULL);
  assert_rows (mailbox, listed, gone);

  /* Every tenth row gone, and a hundred new ones, each between two that
   * stay: two hundred runs, so one span; with a fifth of the rows
   * changed, the index by UID is made again. */
  move_ids (listed, gone, 20, 2000, 20);
  for (guint id = 1; id < 2000; id += 20)
    g_array_append_val (listed, id);
  g_array_sort (listed, compare_ids);
  before = mirror->emissions;
  second = run_check (mailbox, (guint *) listed->data, listed->len, NULL);
  g_assert_cmpuint (second->len, ==, 100);
  g_assert_cmpuint (mirror->emissions, ==, before + 1);
  assert_mirror (mirror, mailbox);
  assert_sorted (mailbox);
  assert_rows (mailbox, listed, gone);

  /* Sixty-nine neighbouring rows gone, and five new, newest of all: two
   * steps, with the index by UID changed in place before them, so that a
   * lookup finds the rows as they will be. */
  move_ids (listed, gone, 1042, 1180, 1);
  g_assert_cmpuint (gone->len, ==, 100 + 69);
  for (guint id = 3001; id <= 3005; id++)
    g_array_append_val (listed, id);
  check_in_two_steps (mailbox, mirror, listed, gone, &check, 5);

  /* A hundred rows gone in two runs, a ninth of them, and nothing new:
   * removed where they are, in two steps, with the index by UID changed
   * before them. */
  move_ids (listed, gone, 1400, 1540, 1);
  move_ids (listed, gone, 200, 260, 1);
  g_assert_cmpuint (gone->len, ==, 100 + 69 + 100);
  g_assert_cmpuint (listed->len, ==, 836);
  check_in_two_steps (mailbox, mirror, listed, gone, &removed_check, 0);

  /* Eighty rows deleted by UID, each alone: one span, and nothing added
   * to sort. */
  for (guint i = 0; i < 80; i++)
    {
      guint id = g_array_index (listed, guint, i * 10);
      g_autofree char *uid = test_uid (id);

      g_strv_builder_add (builder, uid);
      g_array_append_val (gone, id);
    }
  for (guint i = 80; i-- > 0;)
    g_array_remove_index (listed, i * 10);
  remove = g_strv_builder_end (builder);
  before = mirror->emissions;
  popcheck_mailbox_remove_uids (mailbox, (const char * const *) remove);
  g_assert_cmpuint (mirror->emissions, ==, before + 1);
  assert_mirror (mirror, mailbox);
  assert_sorted (mailbox);
  assert_rows (mailbox, listed, gone);
}

/* A first check of n messages numbered as given, the newest five with
 * their summaries, the rest waiting for theirs. */
static void
check_first_without_headers (const guint *numbers,
                             guint        n)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("without-headers");

  check_numbered_newest (mailbox, 1, numbers, n, 5);
  g_assert_cmpuint (popcheck_mailbox_count_headers_pending (mailbox), ==, n - 5);
  assert_sorted (mailbox);
}

/* A first check's rows without headers yet are ordered by their numbers,
 * highest first, however the server numbers them: from 1 up, far apart,
 * or the same number for two messages (then by UID). */
static void
test_first_without_headers (void)
{
  g_autofree guint *numbers = g_new (guint, 300);

  for (guint i = 0; i < 300; i++)
    numbers[i] = i + 1;
  check_first_without_headers (numbers, 300);

  for (guint i = 0; i < 300; i++)
    numbers[i] = (i + 1) * 7;
  check_first_without_headers (numbers, 300);

  for (guint i = 0; i < 300; i++)
    numbers[i] = i / 2 + 1;
  check_first_without_headers (numbers, 300);
}

/* A first check of 300 messages, in which one far from the newest has
 * its summary too (given as a cached one would be).  The rows are
 * placed by number as they come, so that the dated one is among the
 * undated: it comes first all the same, the newest before it, and the
 * undated stay in their order around the place it leaves. */
static void
test_first_dated_between (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("dated-between");
  g_autofree guint *numbers = range (1, 300);
  g_autoptr(Pop3UidListing) uids = make_server_list (numbers, 300);
  g_autoptr(GPtrArray) need_top = NULL;
  g_autoptr(GPtrArray) new_messages = NULL;
  g_autoptr(PopcheckMessage) between = make_summary (100, 100);
  g_autoptr(PopcheckMessage) sixth = NULL;
  g_autoptr(PopcheckMessage) seventh = NULL;
  gboolean deferred = FALSE;

  need_top = popcheck_mailbox_begin_update_newest (mailbox, pop3_uid_listing_ref (uids),
                                                   NULL, 5, &deferred);
  g_assert_cmpuint (need_top->len, ==, 5);
  for (guint i = 0; i < need_top->len; i++)
    {
      Pop3UidEntry *entry = g_ptr_array_index (need_top, i);
      g_autoptr(PopcheckMessage) summary = make_summary (id_of_uid (entry->uid),
                                                         entry->msg);

      popcheck_mailbox_add_summary (mailbox, summary);
    }
  popcheck_mailbox_add_summary (mailbox, between);
  new_messages = popcheck_mailbox_end_update (mailbox);

  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, 300);
  assert_sorted (mailbox);
  sixth = g_list_model_get_item (G_LIST_MODEL (mailbox), 5);
  seventh = g_list_model_get_item (G_LIST_MODEL (mailbox), 6);
  g_assert_true (sixth == between);
  g_assert_cmpuint (popcheck_message_get_msg_number (seventh), ==, 295);
  g_assert_cmpuint (popcheck_mailbox_count_headers_pending (mailbox), ==, 294);
}

/* Every row is found by its UID (or, without one, by its key), and
 * nothing else is. */
static void
assert_found_by_uid (PopcheckMailbox *mailbox,
                     const char      *not_found)
{
  GListModel *model = G_LIST_MODEL (mailbox);

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(PopcheckMessage) row = g_list_model_get_item (model, i);

      g_assert_true (popcheck_mailbox_lookup (mailbox, popcheck_message_get_uid (row)) == row);
    }
  g_assert_null (popcheck_mailbox_lookup (mailbox, not_found));
}

/* A first check of 300 messages, two of which LIST names and UIDL does
 * not: its rows are found by UID (its table of summaries becomes the
 * rows by UID).  Given a summary for a UID it does not list, that one is
 * not found; nor are those a failed check left for messages deleted
 * since. */
static void
test_first_check_found_by_uid (void)
{
  g_autoptr(PopcheckMailbox) plain = popcheck_mailbox_new ("first-plain");
  g_autoptr(PopcheckMailbox) given = popcheck_mailbox_new ("first-given");
  g_autoptr(PopcheckMailbox) failed = popcheck_mailbox_new ("first-failed");
  g_autoptr(Pop3UidListing) uids = pop3_uid_listing_new ();
  g_autoptr(Pop3UidListing) all = pop3_uid_listing_new ();
  g_autoptr(Pop3UidListing) fewer = pop3_uid_listing_new ();
  g_autofree guint *ids = range (1, 300);
  g_autoptr(GArray) sizes = make_sizes (ids, 300);
  g_autoptr(GPtrArray) need_top = NULL;
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GPtrArray) second = NULL;
  g_autoptr(PopcheckMessage) stray = make_summary (900, 900);
  gboolean deferred = FALSE;

  for (guint msg = 1; msg <= 300; msg++)
    {
      g_autofree char *uid = test_uid (msg);

      if (msg != 100 && msg != 200)
        pop3_uid_listing_add (uids, msg, uid);
      pop3_uid_listing_add (all, msg, uid);
      if (msg <= 295)
        pop3_uid_listing_add (fewer, msg, uid);
    }

  need_top = popcheck_mailbox_begin_update_newest (plain, pop3_uid_listing_ref (uids),
                                                   g_array_ref (sizes), 5, &deferred);
  add_fetched (plain, 296, 300, 0);
  first = popcheck_mailbox_end_update (plain);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (plain), ==, 300);
  assert_found_by_uid (plain, "uid-100");

  g_clear_pointer (&need_top, g_ptr_array_unref);
  need_top = popcheck_mailbox_begin_update_newest (given, pop3_uid_listing_ref (uids),
                                                   g_array_ref (sizes), 5, &deferred);
  add_fetched (given, 296, 300, 0);
  popcheck_mailbox_add_summary (given, stray);
  g_clear_pointer (&first, g_ptr_array_unref);
  first = popcheck_mailbox_end_update (given);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (given), ==, 300);
  assert_found_by_uid (given, "uid-900");

  /* Cut short after the TOPs of the newest five, which are deleted
   * before the next check. */
  g_clear_pointer (&need_top, g_ptr_array_unref);
  need_top = popcheck_mailbox_begin_update_newest (failed, pop3_uid_listing_ref (all),
                                                   NULL, 5, &deferred);
  add_fetched (failed, 296, 300, 0);
  g_clear_pointer (&need_top, g_ptr_array_unref);
  need_top = popcheck_mailbox_begin_update_newest (failed, pop3_uid_listing_ref (fewer),
                                                   NULL, 0, &deferred);
  second = popcheck_mailbox_end_update (failed);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (failed), ==, 295);
  assert_found_by_uid (failed, "uid-300");
}

/* A check of ids 1 to 3, given the summaries of 1 to 3 and of extra
 * (0: none): the rows are 1 to 3, now and after the next check. */
static void
check_three (PopcheckMailbox *mailbox,
             guint            extra)
{
  g_autofree guint *ids = range (1, 3);
  g_autoptr(Pop3UidListing) uids = make_server_list (ids, 3);
  g_autoptr(GArray) sizes = make_sizes (ids, 3);
  g_autoptr(GPtrArray) need_top = NULL;
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GPtrArray) second = NULL;

  need_top = popcheck_mailbox_begin_update (mailbox, uids, sizes);
  add_fetched (mailbox, 1, 3, 0);
  if (extra != 0)
    add_fetched (mailbox, extra, extra, 0);
  first = popcheck_mailbox_end_update (mailbox);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, 3);
  for (guint id = 4; id <= 9; id++)
    {
      g_autofree char *uid = test_uid (id);

      g_assert_null (popcheck_mailbox_lookup (mailbox, uid));
    }

  second = run_check (mailbox, ids, 3, NULL);
  g_assert_cmpuint (second->len, ==, 0);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, 3);
}

/* Summaries the listing does not name never become rows: one added
 * during a check for a UID it does not list, and ones a failed check
 * left for messages deleted before the next. */
static void
test_pending_unlisted (void)
{
  g_autoptr(PopcheckMailbox) given = popcheck_mailbox_new ("given-unlisted");
  g_autoptr(PopcheckMailbox) failed = popcheck_mailbox_new ("failed-before");
  g_autofree guint *ids = range (1, 5);
  g_autoptr(Pop3UidListing) uids = make_server_list (ids, 5);
  g_autoptr(GArray) sizes = make_sizes (ids, 5);
  g_autoptr(GPtrArray) need_top = NULL;

  check_three (given, 9);

  /* A check that ends after the TOPs of 4 and 5, which are deleted
   * before the next. */
  need_top = popcheck_mailbox_begin_update (failed, uids, sizes);
  g_assert_cmpuint (need_top->len, ==, 5);
  add_fetched (failed, 4, 5, 0);
  check_three (failed, 0);
}

/* Rows renumbered as when older messages are deleted keep their order;
 * renumbered otherwise (a server that rebuilt its mailbox), they are
 * put in order again. */
static void
test_renumbered (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("renumbered");
  g_autoptr(Mirror) mirror = mirror_new (mailbox);
  g_autoptr(PopcheckMessage) top = NULL;
  guint numbers[100];

  for (guint i = 0; i < 100; i++)
    numbers[i] = i + 1;
  check_numbered (mailbox, 1, numbers, 100);
  assert_sorted (mailbox);

  /* The oldest ten deleted: 11 to 100 are 1 to 90 now. */
  check_numbered (mailbox, 11, numbers, 90);
  assert_mirror (mirror, mailbox);
  assert_sorted (mailbox);

  /* The same messages, numbered the other way round. */
  for (guint i = 0; i < 90; i++)
    numbers[i] = 90 - i;
  check_numbered (mailbox, 11, numbers, 90);
  assert_mirror (mirror, mailbox);
  assert_sorted (mailbox);
  top = g_list_model_get_item (G_LIST_MODEL (mailbox), 0);
  g_assert_cmpuint (id_of_uid (popcheck_message_get_uid (top)), ==, 11);
}

/* Fills a batch of fills (message ids, 0 ends) at once: how many rows took
 * their place. */
static guint
fill_batch (PopcheckMailbox *mailbox,
            ...)
{
  g_autoptr(GPtrArray) fills = g_ptr_array_new_with_free_func (g_object_unref);
  va_list args;
  guint id;

  va_start (args, mailbox);
  while ((id = va_arg (args, guint)) != 0)
    g_ptr_array_add (fills, make_summary (id, id));
  va_end (args);

  return popcheck_mailbox_fill_pending_batch (mailbox, fills);
}

/* The backlog fills the rows newest first, and then each takes the place
 * of the row it fills: a batch of them is one change for each run of
 * neighbouring rows, however many rows there are, as every change costs a
 * window's list models a pass over all their rows.  Rows that move (a
 * summary newer than the ones in the list) are removed and inserted
 * exactly.  Whatever the changes, a list kept through them is the model,
 * and every filled row is found by its UID. */
static void
test_headers_pending_fill_runs (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("fill-runs");
  g_autoptr(Pop3UidListing) uids = NULL;
  g_autoptr(GPtrArray) need_top = NULL;
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(PopcheckMessage) newest_pending = NULL;
  g_autoptr(Mirror) mirror = NULL;
  g_autofree guint *ids = range (1, 12);
  guint emissions;

  /* A first check: the newest three with their headers, nine pending. */
  uids = make_server_list (ids, 12);
  need_top = popcheck_mailbox_begin_update (mailbox, uids, NULL);
  g_assert_cmpuint (need_top->len, ==, 12);
  add_fetched (mailbox, 1, 12, 9);
  first = popcheck_mailbox_end_update (mailbox);
  g_assert_cmpuint (popcheck_mailbox_count_headers_pending (mailbox), ==, 9);
  mirror = mirror_new (mailbox);

  /* One row: one change. */
  emissions = mirror->emissions;
  newest_pending = make_summary (9, 9);
  g_assert_true (popcheck_mailbox_fill_pending (mailbox, newest_pending));
  g_assert_cmpuint (mirror->emissions, ==, emissions + 1);
  assert_mirror (mirror, mailbox);
  assert_sorted (mailbox);
  g_assert_true (popcheck_mailbox_lookup (mailbox, "uid-9") == newest_pending);

  /* Four neighbouring rows, in any order, one of them twice, and one
   * that waits for nothing: one change. */
  emissions = mirror->emissions;
  g_assert_cmpuint (fill_batch (mailbox, 6, 8, 12, 7, 5, 8, 0), ==, 4);
  g_assert_cmpuint (mirror->emissions, ==, emissions + 1);
  assert_mirror (mirror, mailbox);
  assert_sorted (mailbox);
  g_assert_cmpuint (popcheck_mailbox_count_headers_pending (mailbox), ==, 4);
  for (guint i = 5; i <= 12; i++)
    {
      g_autofree char *uid = test_uid (i);

      g_assert_true (popcheck_message_get_headers_known (popcheck_mailbox_lookup (mailbox,
                                                                                  uid)));
    }

  /* Rows that move: uid-2 and uid-1, dated now, go before uid-3, still
   * pending, so they leave their run, then come in together as one. */
  emissions = mirror->emissions;
  g_assert_cmpuint (fill_batch (mailbox, 2, 1, 0), ==, 2);
  g_assert_cmpuint (mirror->emissions, ==, emissions + 2);
  assert_mirror (mirror, mailbox);
  assert_sorted (mailbox);
  g_assert_cmpuint (popcheck_mailbox_count_headers_pending (mailbox), ==, 2);

  /* Nothing waits for these any more: no change. */
  emissions = mirror->emissions;
  g_assert_cmpuint (fill_batch (mailbox, 2, 9, 0), ==, 0);
  g_assert_cmpuint (mirror->emissions, ==, emissions);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, 12);
}

static void
test_account_id_escaping (void)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("../../etc");
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = popcheck_mailbox_dup_state_path (mailbox);
  g_autofree char *expected_dir = g_build_filename (g_get_user_state_dir (), "popcheck", NULL);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *outside = g_build_filename (g_get_user_state_dir (), "..", "..",
                                               "etc.state", NULL);
  g_autofree guint *ids = range (1, 2);
  g_autoptr(GString) long_id = g_string_new (NULL);
  g_autofree char *escaped_a = popcheck_mailbox_escape_account_id ("a/b");
  g_autofree char *escaped_b = popcheck_mailbox_escape_account_id ("a%2Fb");
  g_autofree char *plain = popcheck_mailbox_escape_account_id ("Work_Mail-2");
  g_autofree char *utf8 = popcheck_mailbox_escape_account_id ("Müller .x");

  g_assert_cmpstr (dir, ==, expected_dir);
  g_assert_cmpstr (base, ==, "%2E%2E%2F%2E%2E%2Fetc.state");

  first = run_check (mailbox, ids, 2, NULL);
  g_assert_true (save_sync (mailbox, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
  g_assert_false (g_file_test (outside, G_FILE_TEST_EXISTS));

  g_assert_cmpstr (plain, ==, "Work_Mail-2");
  g_assert_cmpstr (utf8, ==, "M%C3%BCller%20%2Ex");
  g_assert_cmpstr (escaped_a, ==, "a%2Fb");
  g_assert_cmpstr (escaped_b, ==, "a%252Fb");

  /* A very long id still makes a file name, distinct from its neighbour. */
  for (guint i = 0; i < 500; i++)
    g_string_append (long_id, "/");
  {
    g_autofree char *escaped_long = popcheck_mailbox_escape_account_id (long_id->str);
    g_autofree char *escaped_other = NULL;

    g_string_append_c (long_id, 'x');
    escaped_other = popcheck_mailbox_escape_account_id (long_id->str);
    g_assert_cmpuint (strlen (escaped_long) + strlen (".state"), <, 255);
    g_assert_null (strchr (escaped_long, '/'));
    g_assert_cmpstr (escaped_long, !=, escaped_other);
  }
}

/* Scale ------------------------------------------------------------------ */

/* A check whose summaries were made before: only the mailbox is timed.
 * The time is reported, not asserted: on a loaded machine under the
 * sanitizers any limit is a coin toss.  What is asserted is the work. */
static GPtrArray *
timed_check (PopcheckMailbox *mailbox,
             GPtrArray       *summaries,
             const guint     *ids,
             guint            n_ids,
             guint           *n_tops,
             double          *elapsed)
{
  g_autoptr(Pop3UidListing) uids = make_server_list (ids, n_ids);
  g_autoptr(GPtrArray) need_top = NULL;
  g_autoptr(GTimer) timer = g_timer_new ();
  GPtrArray *new_messages;

  need_top = popcheck_mailbox_begin_update (mailbox, uids, NULL);
  *n_tops = need_top->len;
  for (guint i = 0; i < need_top->len; i++)
    {
      Pop3UidEntry *entry = g_ptr_array_index (need_top, i);

      popcheck_mailbox_add_summary (mailbox,
                                    g_ptr_array_index (summaries, id_of_uid (entry->uid) - 1));
    }
  new_messages = popcheck_mailbox_end_update (mailbox);
  *elapsed = g_timer_elapsed (timer, NULL);

  return new_messages;
}

static void
test_ten_thousand (void)
{
  const guint n = 10000;
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new ("big");
  g_autoptr(PopcheckMailbox) reloaded = NULL;
  g_autoptr(Mirror) mirror = mirror_new (mailbox);
  g_autoptr(GPtrArray) summaries = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) new_messages = NULL;
  g_autoptr(GPtrArray) second_new = NULL;
  g_autofree guint *ids = range (1, n);
  g_autofree guint *shifted = range (201, n);
  g_autoptr(GTimer) timer = NULL;
  guint n_tops = 0;
  double elapsed;

  for (guint i = 1; i <= n + 200; i++)
    g_ptr_array_add (summaries, make_summary (i, i));

  new_messages = timed_check (mailbox, summaries, ids, n, &n_tops, &elapsed);
  g_test_message ("first check of %u messages: %.3f s", n, elapsed);
  g_assert_cmpuint (n_tops, ==, n);
  g_assert_cmpuint (new_messages->len, ==, 0);
  g_assert_cmpuint (popcheck_mailbox_get_first_check_count (mailbox), ==, n);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, n);
  assert_mirror (mirror, mailbox);
  assert_sorted (mailbox);

  /* 200 deleted at the start, 200 new at the end: every number shifts. */
  second_new = timed_check (mailbox, summaries, shifted, n, &n_tops, &elapsed);
  g_test_message ("second check of %u messages: %.3f s", n, elapsed);
  g_assert_cmpuint (n_tops, ==, 200);
  g_assert_cmpuint (second_new->len, ==, 200);
  for (guint i = 0; i < second_new->len; i++)
    g_assert_cmpuint (id_of_uid (popcheck_message_get_uid (g_ptr_array_index (second_new, i))),
                      >, n);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, n);
  g_assert_cmpuint (popcheck_mailbox_get_n_new (mailbox), ==, 200);
  g_assert_null (popcheck_mailbox_lookup (mailbox, "uid-200"));
  g_assert_cmpuint (popcheck_mailbox_get_msg_number (mailbox, "uid-201"), ==, 1);
  assert_mirror (mirror, mailbox);
  assert_sorted (mailbox);

  timer = g_timer_new ();
  popcheck_mailbox_mark_all_seen (mailbox);
  g_assert_cmpfloat (g_timer_elapsed (timer, NULL), <, 1.0);
  g_assert_cmpuint (popcheck_mailbox_get_n_new (mailbox), ==, 0);

  g_timer_start (timer);
  reloaded = reload (mailbox);
  g_test_message ("save and load of %u messages: %.3f s", n,
                  g_timer_elapsed (timer, NULL));
  g_assert_cmpuint (popcheck_mailbox_get_n_items (reloaded), ==, n);
  assert_sorted (reloaded);
}

#ifdef __SANITIZE_ADDRESS__
/* GLib 2.74 leaks the previous directories each time a test isolates them
 * (G_TEST_OPTION_ISOLATE_DIRS calls g_set_user_dirs() per test), which
 * LeakSanitizer reports at exit in the sanitizer build.  The sanitizers
 * read these hooks when the program defines them; GLib has no frame
 * pointers, so only the slow unwinder sees g_set_user_dirs() in the
 * allocation's stack. */
const char *__asan_default_options (void);
const char *__lsan_default_suppressions (void);

const char *
__asan_default_options (void)
{
  return "fast_unwind_on_malloc=0";
}

const char *
__lsan_default_suppressions (void)
{
  return "leak:g_set_user_dirs\n";
}
#endif

int
main (int   argc,
      char *argv[])
{
  static const struct {
    const char *name;
    Damage      damage;
  } damages[] = {
    { "random", DAMAGE_RANDOM },
    { "empty", DAMAGE_EMPTY },
    { "text", DAMAGE_TEXT },
    { "foreign", DAMAGE_FOREIGN_MAGIC },
    { "other-account", DAMAGE_OTHER_ACCOUNT },
    { "wrong-payload", DAMAGE_WRONG_PAYLOAD },
  };
  int status;

  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/mailbox/first-check", test_first_check);
  g_test_add_func ("/mailbox/new-messages", test_new_messages);
  g_test_add_func ("/mailbox/early-summaries", test_early_summaries);
  g_test_add_func ("/mailbox/removed-messages", test_removed_messages);
  g_test_add_func ("/mailbox/removed-anywhere", test_removed_anywhere);
  g_test_add_func ("/mailbox/failed-top", test_failed_top);
  g_test_add_func ("/mailbox/headers-pending", test_headers_pending);
  g_test_add_func ("/mailbox/begin-update-newest", test_begin_update_newest);
  g_test_add_func ("/mailbox/without-uid", test_without_uid);
  g_test_add_func ("/mailbox/without-uid/disagreeing", test_without_uid_disagreeing);
  g_test_add_func ("/mailbox/begin-update-newest/in-slices", test_begin_in_slices);
  g_test_add_func ("/mailbox/begin-update-newest/in-slices/renumbered",
                   test_begin_in_slices_renumbered);
  g_test_add_func ("/mailbox/begin-update-newest/in-slices/replaced",
                   test_begin_in_slices_replaced);
  g_test_add_func ("/mailbox/begin-update-newest/repeated-numbers",
                   test_begin_update_newest_repeated);
  g_test_add_func ("/mailbox/lookup-during-change", test_lookup_during_change);
  g_test_add_func ("/mailbox/large-change", test_large_change);
  g_test_add_func ("/mailbox/large-change/gone-rows-let-go",
                   test_gone_rows_let_go);
  g_test_add_func ("/mailbox/pending-unlisted", test_pending_unlisted);
  g_test_add_func ("/mailbox/large-change/first-check-found-by-uid",
                   test_first_check_found_by_uid);
  g_test_add_func ("/mailbox/renumbered", test_renumbered);
  g_test_add_func ("/mailbox/large-change/first-without-headers",
                   test_first_without_headers);
  g_test_add_func ("/mailbox/large-change/first-dated-between",
                   test_first_dated_between);
  g_test_add_func ("/mailbox/headers-pending/fill-runs",
                   test_headers_pending_fill_runs);
  g_test_add_func ("/mailbox/invalid-and-duplicate-uids",
                   test_invalid_and_duplicate_uids);
  g_test_add_func ("/mailbox/size-change", test_size_change);
  g_test_add_func ("/mailbox/order", test_order);
  g_test_add_func ("/mailbox/state-properties", test_state_properties);
  g_test_add_func ("/mailbox/state-file/restart", test_restart);
  g_test_add_func ("/mailbox/state-file/details-on-demand",
                   test_details_on_demand);
  g_test_add_func ("/mailbox/state-file/details-file-cut",
                   test_details_file_cut);
  g_test_add_func ("/mailbox/state-file/details-appended",
                   test_details_appended);
  g_test_add_func ("/mailbox/state-file/details-interleaved",
                   test_details_interleaved);
  g_test_add_func ("/mailbox/state-file/details-compacted",
                   test_details_compacted);
  g_test_add_func ("/mailbox/state-file/old-format", test_old_format);
  g_test_add_func ("/mailbox/state-file/same-date-order", test_same_date_reload);
  g_test_add_func ("/mailbox/state-file/delete", test_delete_state);
  g_test_add_func ("/mailbox/state-file/saves-take-turns",
                   test_saves_take_turns);
  g_test_add_func ("/mailbox/state-file/details-past-end",
                   test_details_past_end);
  g_test_add_func ("/mailbox/state-file/details-of-another",
                   test_details_of_another);
  g_test_add_func ("/mailbox/state-file/details-left-by-crash",
                   test_details_left_by_crash);
  g_test_add_func ("/mailbox/state-file/details-garbage-after-crash",
                   test_details_garbage_after_crash);
  g_test_add_func ("/mailbox/state-file/restart-without-headers",
                   test_restart_without_headers);
  g_test_add_func ("/mailbox/state-file/missing", test_missing_file);
  g_test_add_func ("/mailbox/state-file/mark-seen", test_mark_seen);
  g_test_add_func ("/mailbox/state-file/saves-in-order", test_saves_in_order);
  g_test_add_func ("/mailbox/state-file/save-joins-unchanged",
                   test_save_joins_unchanged);
  g_test_add_func ("/mailbox/state-file/save-after-frame",
                   test_save_after_frame);
  g_test_add_func ("/mailbox/state-file/save-while-busy",
                   test_save_while_busy);
  g_test_add_func ("/mailbox/state-file/save-cancelled", test_save_cancelled);
  g_test_add_func ("/mailbox/state-file/save-points-in-slices",
                   test_save_points_in_slices);
  g_test_add_func ("/mailbox/state-file/save-joined-cancelled",
                   test_save_joined_cancelled);
  g_test_add_func ("/mailbox/state-file/save-points-after-later-snapshot",
                   test_save_points_after_later_snapshot);
  g_test_add_func ("/mailbox/state-file/save-points-in-slices/changed",
                   test_save_points_in_slices_changed);
  g_test_add_func ("/mailbox/state-file/save-in-slices", test_save_in_slices);
  g_test_add_func ("/mailbox/state-file/save-in-slices/changing",
                   test_save_in_slices_changing);
  g_test_add_func ("/mailbox/state-file/save-in-slices/filled",
                   test_save_in_slices_filled);
  g_test_add_func ("/mailbox/state-file/save-in-slices/cancelled",
                   test_save_in_slices_cancelled);
  g_test_add_func ("/mailbox/state-file/save-in-slices/cancelled-joined",
                   test_save_in_slices_cancelled_joined);
  g_test_add_func ("/mailbox/state-file/save-asked-cancelled",
                   test_save_asked_cancelled);
  g_test_add_func ("/mailbox/state-file/save-fails", test_save_fails);
  for (guint i = 0; i < G_N_ELEMENTS (damages); i++)
    {
      g_autofree char *path = g_strconcat ("/mailbox/state-file/damaged/",
                                           damages[i].name, NULL);

      g_test_add_data_func (path, GINT_TO_POINTER (damages[i].damage),
                            test_damaged_file);
    }
  g_test_add_func ("/mailbox/state-file/damaged-twice", test_damaged_twice);
  g_test_add_func ("/mailbox/state-file/newer-version", test_newer_version);
  g_test_add_func ("/mailbox/state-file/read-only-load", test_read_only_load);
  g_test_add_data_func ("/mailbox/state-file/truncated-recovers",
                        GINT_TO_POINTER (DAMAGE_TRUNCATED),
                        test_damaged_recovers);
  g_test_add_data_func ("/mailbox/state-file/flipped-recovers",
                        GINT_TO_POINTER (DAMAGE_FLIPPED),
                        test_damaged_recovers);
  g_test_add_func ("/mailbox/state-file/flipped-recovers-without-headers",
                   test_damaged_recovers_without_headers);
  g_test_add_func ("/mailbox/state-file/flipped-recovers-fetched",
                   test_damaged_recovers_fetched);
  g_test_add_func ("/mailbox/state-file/account-id-escaping",
                   test_account_id_escaping);
  g_test_add_func ("/mailbox/scale/ten-thousand", test_ten_thousand);

  status = g_test_run ();

  /* LeakSanitizer checks at exit: with no worker thread left. */
  popcheck_test_quiesce_threads ();

  return status;
}
