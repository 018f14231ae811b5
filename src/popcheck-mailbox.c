/* popcheck-mailbox.c: one account's messages, seen UIDs and header cache
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Everything is keyed by UID in hash tables and the model is kept sorted,
 * so a check of a mailbox with tens of thousands of messages costs a few
 * linear passes.  Small changes reach the list view as exact
 * items-changed positions; large ones as one replacement.  The state file
 * is read and written in popcheck-mailbox-store.c.
 */

#define G_LOG_DOMAIN "popcheck-mailbox"

#include "config.h"

#include <string.h>
#include <glib/gi18n.h>

#include "pop3-parser.h"
#include "popcheck-mailbox-private.h"

/* Up to this many insertions and removals are announced one by one with
 * exact positions (so a list view keeps its scroll position and
 * selection); more are announced as one replacement of the whole list. */
#define SMALL_CHANGE         64

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
  PROP_N_WITHOUT_UID,
  PROP_N_ITEMS,
  PROP_N_NEW,
  PROP_LAST_CHECK,
  PROP_NEXT_CHECK,
  PROP_FIRST_CHECK_DONE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* The model -------------------------------------------------------------- */

/* Newest date first, undated last. */
static int
compare_dates (PopcheckMessage *a,
               PopcheckMessage *b)
{
  GDateTime *date_a = popcheck_message_get_date (a);
  GDateTime *date_b = popcheck_message_get_date (b);

  if (date_a != NULL && date_b != NULL)
    return g_date_time_compare (date_b, date_a);
  if (date_a != NULL)
    return -1;
  if (date_b != NULL)
    return 1;
  return 0;
}

/* By date, then the higher message number, then the UID so that the
 * order is total and stable across runs. */
static int
compare_messages (PopcheckMessage *a,
                  PopcheckMessage *b)
{
  int cmp = compare_dates (a, b);
  guint number_a, number_b;

  if (cmp != 0)
    return cmp;

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

static int
compare_messages_in_array (gconstpointer a,
                           gconstpointer b,
                           gpointer      unused)
{
  return compare_messages_indirect (a, b);
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

/* A walk of 100,000 messages that reads each one waits on memory for
 * it: asked for a few messages ahead, it is there when the walk gets to
 * it. */
static inline void
prefetch_message_ahead (gpointer *messages,
                        guint     n,
                        guint     i)
{
  if (i + POPCHECK_MAILBOX_PREFETCH_DISTANCE < n)
    __builtin_prefetch (messages[i + POPCHECK_MAILBOX_PREFETCH_DISTANCE]);
}

static void
recount_n_new (PopcheckMailbox *self)
{
  guint n_new = 0;

  for (guint i = 0; i < self->items->len; i++)
    {
      prefetch_message_ahead (self->items->pdata, self->items->len, i);
      if (popcheck_message_get_is_new (g_ptr_array_index (self->items, i)))
        n_new++;
    }

  set_n_new (self, n_new);
}

/* A walk of 100,000 rows that reads each one's UID waits on memory for
 * the row, then for its UID: asked for a few rows ahead, both are there
 * when the walk gets to them. */
#define PREFETCH_DISTANCE POPCHECK_MAILBOX_PREFETCH_DISTANCE
#define PREFETCH_MIN_ROWS 10000

static inline void
prefetch_uids_ahead (GPtrArray *rows,
                     guint      i)
{
  if (i + 2 * PREFETCH_DISTANCE < rows->len)
    __builtin_prefetch (g_ptr_array_index (rows, i + 2 * PREFETCH_DISTANCE));
  if (i + PREFETCH_DISTANCE < rows->len)
    popcheck_message_prefetch_uid (g_ptr_array_index (rows, i + PREFETCH_DISTANCE));
}

static inline void
prefetch_uids_behind (GPtrArray *rows,
                      guint      i)
{
  if (i >= 2 * PREFETCH_DISTANCE)
    __builtin_prefetch (g_ptr_array_index (rows, i - 2 * PREFETCH_DISTANCE));
  if (i >= PREFETCH_DISTANCE)
    popcheck_message_prefetch_uid (g_ptr_array_index (rows, i - PREFETCH_DISTANCE));
}

/* The rows by UID, made again if a change of many rows let it go: while
 * that change is announced, from the rows as they will be. */
static PopcheckMessageIndex *
get_by_uid (PopcheckMailbox *self)
{
  GPtrArray *rows = self->by_uid_source != NULL ? self->by_uid_source
                                                : self->items;

  if (self->by_uid != NULL)
    return self->by_uid;

  self->by_uid = popcheck_message_index_new ();
  popcheck_message_index_reserve (self->by_uid, rows->len);
  for (guint i = 0; i < rows->len; i++)
    {
      prefetch_uids_ahead (rows, i);
      popcheck_message_index_replace (self->by_uid, g_ptr_array_index (rows, i));
    }

  return self->by_uid;
}

/* Makes index, which has every row but the update's without a UID, the
 * rows by UID. */
static void
take_rows_by_uid (PopcheckMailbox      *self,
                  PopcheckMessageIndex *index)
{
  g_assert (self->by_uid == NULL);

  self->by_uid = index;
  for (guint i = 0; i < self->without_uid->len; i++)
    popcheck_message_index_replace (self->by_uid, g_ptr_array_index (self->without_uid, i));
}

static void
track_message (PopcheckMailbox *self,
               PopcheckMessage *message)
{
  popcheck_message_index_replace (get_by_uid (self), message);
}

static void
untrack_message (PopcheckMailbox *self,
                 PopcheckMessage *message)
{
  popcheck_message_index_remove_message (get_by_uid (self), message);
}

/* At most this many exact steps announce a large change; a change made of
 * more is announced as one span. */
#define MAX_CHANGE_STEPS     64

/* A change of many rows marks them a bit each: a byte each would be
 * 1 MB of a million-message check's peak. */
static guint8 *
bits_new (guint n_bits)
{
  return g_malloc0 (n_bits / 8 + 1);
}

static inline gboolean
bits_get (const guint8 *bits,
          guint         i)
{
  return (bits[i / 8] >> (i % 8)) & 1;
}

static inline void
bits_set (guint8 *bits,
          guint   i)
{
  bits[i / 8] |= 1 << (i % 8);
}

static inline void
bits_clear (guint8 *bits,
            guint   i)
{
  bits[i / 8] &= ~(1 << (i % 8));
}

/* Clears the marks of the rows in remove (a set of rows, may be NULL). */
static void
unmark_rows_in (PopcheckMailbox *self,
                guint8          *stays,
                GHashTable      *remove)
{
  if (remove == NULL || g_hash_table_size (remove) == 0)
    return;

  for (guint i = 0; i < self->items->len; i++)
    if (g_hash_table_contains (remove, g_ptr_array_index (self->items, i)))
      bits_clear (stays, i);
}

/* Which rows stay: those not in remove (a set of rows, may be NULL). */
static guint8 *
rows_that_stay (PopcheckMailbox *self,
                GHashTable      *remove)
{
  guint8 *stays = bits_new (self->items->len);

  memset (stays, 0xff, self->items->len / 8 + 1);
  unmark_rows_in (self, stays, remove);

  return stays;
}

static guint
count_rows_that_stay (PopcheckMailbox *self,
                      const guint8    *stays)
{
  guint n_kept = 0;

  for (guint i = 0; i < self->items->len; i++)
    n_kept += bits_get (stays, i);

  return n_kept;
}

/* How many runs of rows stays does not mark. */
static guint
count_removed_runs (PopcheckMailbox *self,
                    const guint8    *stays)
{
  guint runs = 0;

  for (guint i = 0; i < self->items->len; i++)
    if (!bits_get (stays, i) && (i == 0 || bits_get (stays, i - 1)))
      runs++;

  return runs;
}

/* Removes the runs of rows stays does not mark, the last first, each
 * announced where it is. */
static void
remove_row_runs (PopcheckMailbox *self,
                 const guint8    *stays)
{
  for (guint i = self->items->len; i-- > 0;)
    {
      guint end = i + 1;

      if (bits_get (stays, i))
        continue;
      while (i > 0 && !bits_get (stays, i - 1))
        i--;
      g_ptr_array_remove_range (self->items, i, end - i);
      g_list_model_items_changed (G_LIST_MODEL (self), i, end - i, 0);
    }
}

/* Turns self->items into items (sorted, holding the rows that stay and
 * the added ones) in exact steps: the removed rows' runs, then the added
 * rows' runs, each announced where it is, so a list view keeps every row
 * that stays, and its selection.  stays marks the rows that stay, is_old
 * the rows of items that were rows before.  Possible when the rows that
 * stay keep their order and the change takes at most MAX_CHANGE_STEPS
 * steps; otherwise returns FALSE, changing nothing.  Also FALSE for a
 * change of one step: model_replace_span () announces the same span,
 * and takes items as the rows, where a step would copy the 100,000 rows
 * a first check adds into a new array (another 800 KB of pages, each
 * costing 10 us here the first time it is used). */
static gboolean
model_change_in_steps (PopcheckMailbox *self,
                       GPtrArray       *items,
                       const guint8    *stays,
                       const guint8    *is_old)
{
  guint steps = count_removed_runs (self, stays);
  guint kept = 0;

  /* Runs of added rows, and the rows that stay in their order. */
  for (guint i = 0; i < items->len && steps <= MAX_CHANGE_STEPS; i++)
    {
      if (bits_get (is_old, i))
        {
          while (kept < self->items->len && !bits_get (stays, kept))
            kept++;
          if (kept == self->items->len ||
              g_ptr_array_index (self->items, kept) != g_ptr_array_index (items, i))
            return FALSE;
          kept++;
        }
      else if (i == 0 || bits_get (is_old, i - 1))
        steps++;
    }
  if (steps > MAX_CHANGE_STEPS || steps == 1)
    return FALSE;

  remove_row_runs (self, stays);

  for (guint i = 0; i < items->len;)
    {
      guint old_len = self->items->len;
      guint end = i;

      if (i < old_len && g_ptr_array_index (self->items, i) ==
                         g_ptr_array_index (items, i))
        {
          i++;
          continue;
        }
      while (end < items->len && !bits_get (is_old, end))
        end++;
      /* The rows that stay are in items in their order. */
      g_assert (end > i);

      g_ptr_array_set_size (self->items, old_len + (end - i));
      memmove (&self->items->pdata[end], &self->items->pdata[i],
               (old_len - i) * sizeof (gpointer));
      /* Their references, which items gives up. */
      for (guint j = i; j < end; j++)
        self->items->pdata[j] = g_ptr_array_index (items, j);
      g_list_model_items_changed (G_LIST_MODEL (self), i, 0, end - i);
      i = end;
    }

  return TRUE;
}

/* Makes items the rows, announcing only the span that differs: the rows
 * before and after it stay.  The rows that stay (marked in stays) pass
 * their references on to items, which holds none for them. */
static void
model_replace_span (PopcheckMailbox *self,
                    GPtrArray       *items,
                    const guint8    *stays)
{
  GPtrArray *old = self->items;
  guint old_len = self->items->len;
  guint prefix = 0, suffix = 0;

  while (prefix < old_len && prefix < items->len &&
         g_ptr_array_index (self->items, prefix) ==
         g_ptr_array_index (items, prefix))
    prefix++;
  while (suffix < old_len - prefix && suffix < items->len - prefix &&
         g_ptr_array_index (self->items, old_len - 1 - suffix) ==
         g_ptr_array_index (items, items->len - 1 - suffix))
    suffix++;

  self->items = g_ptr_array_ref (items);
  g_ptr_array_set_free_func (old, NULL);
  for (guint i = 0; i < old_len; i++)
    if (!bits_get (stays, i))
      g_object_unref (g_ptr_array_index (old, i));
  g_ptr_array_unref (old);
  if (prefix + suffix < MAX (old_len, self->items->len))
    g_list_model_items_changed (G_LIST_MODEL (self), prefix,
                                old_len - prefix - suffix,
                                self->items->len - prefix - suffix);
}

/* A few rows out, a few in, announced one by one where they are. */
static void
model_change_each (PopcheckMailbox *self,
                   const guint8    *stays,
                   GPtrArray       *add)
{
  for (guint i = self->items->len; i-- > 0;)
    {
      if (bits_get (stays, i))
        continue;

      untrack_message (self, g_ptr_array_index (self->items, i));
      g_ptr_array_remove_index (self->items, i);
      g_list_model_items_changed (G_LIST_MODEL (self), i, 1, 0);
    }

  for (guint i = 0; add != NULL && i < add->len; i++)
    {
      PopcheckMessage *message = g_ptr_array_index (add, i);
      guint position = find_insert_position (self, message);

      g_ptr_array_insert (self->items, position, g_object_ref (message));
      track_message (self, message);
      g_list_model_items_changed (G_LIST_MODEL (self), position, 0, 1);
    }
}

/* Moves the dated messages first, the undated after them; returns how
 * many are dated, sets the lowest and highest number of the undated
 * ones, and whether they are in order already, the highest first. */
static guint
split_dated (GPtrArray *messages,
             guint     *low,
             guint     *high,
             gboolean  *in_order)
{
  guint n_dated = 0;
  guint previous = 0;

  *low = G_MAXUINT;
  *high = 0;
  *in_order = TRUE;
  for (guint i = 0; i < messages->len; i++)
    {
      PopcheckMessage *message = g_ptr_array_index (messages, i);
      guint number;

      prefetch_message_ahead (messages->pdata, messages->len, i);
      if (popcheck_message_get_date (message) != NULL)
        {
          /* Unless they are the same, an undated message moves back. */
          if (n_dated != i)
            *in_order = FALSE;
          messages->pdata[i] = messages->pdata[n_dated];
          messages->pdata[n_dated++] = message;
          continue;
        }
      number = popcheck_message_get_msg_number (message);
      if (i > n_dated && number >= previous)
        *in_order = FALSE;
      previous = number;
      *low = MIN (*low, number);
      *high = MAX (*high, number);
    }

  return n_dated;
}

/* Puts undated messages in their order, the highest number first, by
 * their numbers alone: no comparison.  Only when the numbers are
 * distinct and close together (as one listing's are), so that the
 * numbers' table is no larger than a sort's own copy of the array;
 * otherwise returns FALSE, their order unknown. */
static gboolean
place_by_number (gpointer *messages,
                 guint     n,
                 guint     low,
                 guint     high)
{
  g_autofree gpointer *by_number = NULL;
  guint j = 0;

  if (n == 0 || high - low >= n + n / 4)
    return FALSE;

  by_number = g_new0 (gpointer, high - low + 1);
  for (guint i = 0; i < n; i++)
    {
      guint number;

      prefetch_message_ahead (messages, n, i);
      number = popcheck_message_get_msg_number (messages[i]);
      if (by_number[number - low] != NULL)
        return FALSE;
      by_number[number - low] = messages[i];
    }

  for (guint k = high - low + 1; k-- > 0;)
    if (by_number[k] != NULL)
      messages[j++] = by_number[k];

  return TRUE;
}

/* Sorts messages as compare_messages () would.  A first check adds
 * 100,000 summaries without headers yet: a sort would read two messages
 * for each of its 1.7 million comparisons, where putting them in place
 * by number reads each twice (whether it is dated, then its number), and
 * finding them in order (see place_row ()) once. */
static void
sort_added (GPtrArray *messages)
{
  guint low, high;
  gboolean in_order;
  guint n_dated = split_dated (messages, &low, &high, &in_order);
  gpointer *undated = messages->pdata + n_dated;
  guint n_undated = messages->len - n_dated;

  g_qsort_with_data (messages->pdata, n_dated, sizeof (gpointer),
                     compare_messages_in_array, NULL);
  if (!in_order && !place_by_number (undated, n_undated, low, high))
    g_qsort_with_data (undated, n_undated, sizeof (gpointer),
                       compare_messages_in_array, NULL);
}

/* A first check's rows come from pending in no order.  Sorting 100,000
 * of them took a third of its end, most of it on a table by number: its
 * 800 KB were new to the process, and each page's first use cost 10 us
 * here.  So each row is put at its place by number as it comes, the
 * highest first, when rows has a place for each message numbered 1 to
 * rows->len, as one listing's are; sort_added () then finds them in
 * order.  A row without such a place goes to misplaced. */
static void
place_row (GPtrArray       *rows,
           GPtrArray       *misplaced,
           PopcheckMessage *message)
{
  guint number = popcheck_message_get_msg_number (message);

  if (number >= 1 && number <= rows->len &&
      rows->pdata[rows->len - number] == NULL)
    rows->pdata[rows->len - number] = message;
  else
    g_ptr_array_add (misplaced, message);
}

/* Adds message to add: at its place, while misplaced is not NULL (see
 * place_row ()); else after the others. */
static void
add_row (GPtrArray       *add,
         GPtrArray       *misplaced,
         PopcheckMessage *message)
{
  if (misplaced != NULL)
    place_row (add, misplaced, message);
  else
    g_ptr_array_add (add, message);
}

/* Fills the places that place_row () left empty with the misplaced rows,
 * whose references rows takes: as many as there are empty places. */
static void
fill_empty_places (GPtrArray *rows,
                   GPtrArray *misplaced)
{
  guint j = 0;

  if (misplaced->len == 0)
    return;

  for (guint i = 0; i < rows->len; i++)
    if (rows->pdata[i] != NULL)
      rows->pdata[j++] = rows->pdata[i];
  g_assert (j + misplaced->len == rows->len);
  memcpy (rows->pdata + j, misplaced->pdata, misplaced->len * sizeof (gpointer));
  g_ptr_array_set_free_func (misplaced, NULL);
}

/* The rows to be, from sorted rows: the added ones sorted, then merged
 * with the rows that stay from the end down, in add's own array (with a
 * million rows, another would be 8 MB more at a check's peak).  Sorting
 * only what is added keeps a check that removes rows from sorting those
 * that stay.  Sets *is_old to which of them were rows.  The array holds
 * the added ones' references, not the rows': 100,000 rows each taken and
 * given back would cost more than the merge. */
static GPtrArray *
merge_rows (PopcheckMailbox *self,
            const guint8    *stays,
            guint            n_kept,
            GPtrArray       *add,
            guint8         **is_old)
{
  guint i = self->items->len;
  guint j = add->len;
  guint k = n_kept + add->len;

  sort_added (add);
  g_ptr_array_set_size (add, k);
  *is_old = bits_new (k);

  /* Once the rows that stay are all placed, k == j: the added ones
   * before them are where they were. */
  while (k > j)
    {
      while (!bits_get (stays, i - 1))
        i--;
      if (j == 0 ||
          compare_messages (g_ptr_array_index (self->items, i - 1),
                            g_ptr_array_index (add, j - 1)) > 0)
        {
          add->pdata[--k] = g_ptr_array_index (self->items, --i);
          bits_set (*is_old, k);
        }
      else
        add->pdata[--k] = add->pdata[--j];
    }

  return add;
}

/* The rows to be, from rows out of order: all of them sorted again, in
 * add's array, holding no references for the rows, as merge_rows (). */
static GPtrArray *
sort_rows (PopcheckMailbox *self,
           const guint8    *stays,
           GPtrArray       *add)
{
  for (guint i = 0; i < self->items->len; i++)
    if (bits_get (stays, i))
      g_ptr_array_add (add, g_ptr_array_index (self->items, i));
  g_ptr_array_sort (add, compare_messages_indirect);

  return add;
}

/* Which of items were rows before. */
static guint8 *
find_old_rows (PopcheckMailbox *self,
               const guint8    *stays,
               GPtrArray       *items)
{
  g_autoptr(GHashTable) kept = g_hash_table_new (NULL, NULL);
  guint8 *is_old = bits_new (items->len);

  for (guint i = 0; i < self->items->len; i++)
    if (bits_get (stays, i))
      g_hash_table_add (kept, g_ptr_array_index (self->items, i));
  for (guint i = 0; i < items->len; i++)
    if (g_hash_table_contains (kept, g_ptr_array_index (items, i)))
      bits_set (is_old, i);

  return is_old;
}

/* The rows by UID, for items to become the rows: changed in place when
 * few rows change, else let go, and made again from items when a lookup
 * needs it (while the change is announced, too).  Remaking it takes a
 * lookup's time for every row; changing it, for every changed row. */
static void
by_uid_follow (PopcheckMailbox *self,
               GPtrArray       *gone,
               GPtrArray       *items,
               const guint8    *is_old,
               guint            n_changed)
{
  if (self->by_uid == NULL || n_changed > items->len / 8)
    {
      g_clear_pointer (&self->by_uid, popcheck_message_index_free);
      self->by_uid_source = items;
      return;
    }

  popcheck_message_index_remove_messages (self->by_uid,
                                          (PopcheckMessage **) gone->pdata,
                                          gone->len);
  for (guint i = 0; i < items->len; i++)
    if (!bits_get (is_old, i))
      track_message (self, g_ptr_array_index (items, i));
}

/* Finalizing the 10,000 rows a large deletion leaves took a third of its
 * end on the main loop: the rows that go get a reference here, dropped
 * in a thread once the change is made. */
static GPtrArray *
ref_gone_rows (PopcheckMailbox *self,
               const guint8    *stays)
{
  GPtrArray *gone = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < self->items->len; i++)
    if (!bits_get (stays, i))
      g_ptr_array_add (gone, g_object_ref (g_ptr_array_index (self->items, i)));
  return gone;
}

/* Whether a change that only removes rows can remove them where they
 * are, with model_remove_in_place (): few enough for the index by UID
 * to follow them one by one, in few enough runs to announce each. */
static gboolean
can_remove_in_place (PopcheckMailbox *self,
                     const guint8    *stays,
                     guint            n_remove)
{
  return n_remove <= self->items->len / 8 &&
         count_removed_runs (self, stays) <= MAX_CHANGE_STEPS;
}

/* Removes the rows not marked in stays where they are, in exact steps.
 * A change that only removes rows needs no new array of the rows: with
 * 100,000 rows, that array's 800 KB were new pages (each costing 10 us
 * here the first time it is used), and merging the rows into it took as
 * long again.  The rows by UID lose the rows that go before the change
 * is announced, as in by_uid_follow (), so that a lookup meanwhile finds
 * the rows as they will be. */
static void
model_remove_in_place (PopcheckMailbox *self,
                       const guint8    *stays)
{
  GPtrArray *gone = ref_gone_rows (self, stays);

  popcheck_message_index_remove_messages (get_by_uid (self),
                                          (PopcheckMessage **) gone->pdata,
                                          gone->len);
  remove_row_runs (self, stays);
  popcheck_mailbox_free_in_thread (gone, NULL);
}

/* Removes the rows not marked in stays (taken) and adds the messages in
 * add (may be NULL; taken, with the references it holds), keeping the
 * model sorted, with as precise an items-changed as is cheap. */
static void
model_apply (PopcheckMailbox *self,
             guint8          *stays_bits,
             GPtrArray       *add)
{
  guint old_len = self->items->len;
  guint n_add = add != NULL ? add->len : 0;
  g_autofree guint8 *stays = stays_bits;
  guint n_kept = count_rows_that_stay (self, stays);
  guint n_remove;
  g_autofree guint8 *is_old = NULL;
  GPtrArray *items;
  /* Message numbers change between sessions and are part of the order:
   * rows renumbered are checked, a walk of every row. */
  gboolean sorted = !self->rows_renumbered || items_are_sorted (self);

  n_remove = old_len - n_kept;
  if (sorted && n_remove + n_add <= SMALL_CHANGE)
    model_change_each (self, stays, add);
  else if (sorted && n_add == 0 && can_remove_in_place (self, stays, n_remove))
    model_remove_in_place (self, stays);
  else if (n_remove + n_add > 0 || !sorted)
    {
      GPtrArray *gone = ref_gone_rows (self, stays);

      if (add == NULL)
        add = g_ptr_array_new_with_free_func (g_object_unref);

      if (sorted)
        {
          items = merge_rows (self, stays, n_kept, g_steal_pointer (&add), &is_old);
          by_uid_follow (self, gone, items, is_old, n_remove + n_add);
        }
      else
        {
          items = sort_rows (self, stays, g_steal_pointer (&add));
          is_old = find_old_rows (self, stays, items);
          g_clear_pointer (&self->by_uid, popcheck_message_index_free);
          self->by_uid_source = items;
        }

      /* As when a first check's early summaries are followed by the rest
       * of the mailbox: the rows that were there stay.  (A change that
       * only sorts again moves rows, which steps cannot.) */
      if (n_remove + n_add == 0 ||
          !model_change_in_steps (self, items, stays, is_old))
        model_replace_span (self, items, stays);
      else
        /* The rows took the added ones' references from it. */
        g_ptr_array_set_free_func (items, NULL);
      self->by_uid_source = NULL;
      g_ptr_array_unref (items);
      popcheck_mailbox_free_in_thread (gone, NULL);
    }

  self->rows_renumbered = FALSE;
  g_clear_pointer (&add, g_ptr_array_unref);
  if (n_remove + n_add == 0)
    return;
  if (old_len != self->items->len)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ITEMS]);
  recount_n_new (self);
}

static void
model_clear (PopcheckMailbox *self)
{
  guint old_len = self->items->len;

  g_clear_pointer (&self->by_uid, popcheck_message_index_free);
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

/* The UID table ---------------------------------------------------------- */

#define UID_LISTED       POPCHECK_MAILBOX_UID_LISTED
#define UID_SEEN         POPCHECK_MAILBOX_UID_SEEN
#define UID_WANTED       POPCHECK_MAILBOX_UID_WANTED
#define UID_NUMBER_SHIFT POPCHECK_MAILBOX_UID_NUMBER_SHIFT

static gsize
uid_value (PopcheckMailbox *self,
           const char      *uid)
{
  return GPOINTER_TO_SIZE (g_hash_table_lookup (self->uids, uid));
}

static gboolean
uid_is_listed (PopcheckMailbox *self,
               const char      *uid)
{
  return (uid_value (self, uid) & UID_LISTED) != 0;
}

gboolean
popcheck_mailbox_is_seen (PopcheckMailbox *self,
                          const char      *uid)
{
  return (uid_value (self, uid) & UID_SEEN) != 0;
}

static guint
uid_get_msg_number (PopcheckMailbox *self,
                    const char      *uid)
{
  gsize value = uid_value (self, uid);

  return (value & UID_LISTED) != 0 ? (guint) (value >> UID_NUMBER_SHIFT) : 0;
}

static gboolean
uid_fits_msg_number (guint msg_number)
{
#if GLIB_SIZEOF_VOID_P >= 8
  return TRUE;
#else
  return msg_number <= G_MAXSIZE >> UID_NUMBER_SHIFT;
#endif
}

static void
uid_count (PopcheckMailbox *self,
           gsize            old_value,
           gsize            value)
{
  if ((old_value & UID_SEEN) != (value & UID_SEEN))
    {
      if ((value & UID_SEEN) != 0)
        self->n_seen++;
      else
        self->n_seen--;
    }
  if ((old_value & UID_LISTED) != (value & UID_LISTED))
    {
      if ((value & UID_LISTED) != 0)
        self->n_listed++;
      else
        self->n_listed--;
    }
}

/* Puts value (not 0) for uid, whose entry the table holds as key with
 * old_value, or not at all when key is NULL.  Returns the table's key. */
static char *
uid_put (PopcheckMailbox *self,
         char            *key,
         const char      *uid,
         gsize            old_value,
         gsize            value)
{
  uid_count (self, old_value, value);
  /* A key the table holds already stays, and the one passed is dropped:
   * a reference to it changes the value in one operation. */
  key = key != NULL ? popcheck_uid_ref (key) : popcheck_uid_new (uid);
  g_hash_table_insert (self->uids, key, GSIZE_TO_POINTER (value));

  return key;
}

/* Sets what the table holds for uid; 0 takes it out.  Returns the
 * table's key for it, NULL once taken out. */
static char *
uid_set_value (PopcheckMailbox *self,
               const char      *uid,
               gsize            value)
{
  gpointer key = NULL;
  gpointer old_value = NULL;

  if (!g_hash_table_lookup_extended (self->uids, uid, &key, &old_value))
    key = NULL;

  if (value != 0)
    return uid_put (self, key, uid, GPOINTER_TO_SIZE (old_value), value);

  if (key != NULL)
    {
      uid_count (self, GPOINTER_TO_SIZE (old_value), 0);
      g_hash_table_remove (self->uids, key);
    }
  return NULL;
}

/* Lists uid, whose entry the table holds as key with old_value, or not
 * at all when key is NULL. */
static void
uid_list (PopcheckMailbox *self,
          char            *key,
          const char      *uid,
          gsize            old_value,
          guint            msg_number,
          gboolean         wanted)
{
  uid_put (self, key, uid, old_value,
           (old_value & UID_SEEN) | UID_LISTED |
           (wanted ? UID_WANTED : 0) |
           (gsize) msg_number << UID_NUMBER_SHIFT);
}

/* Before an update: nothing is listed yet, and a UID only listed goes. */
static void
uids_unlist_all (PopcheckMailbox *self)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->uids);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      if ((GPOINTER_TO_SIZE (value) & UID_SEEN) != 0)
        g_hash_table_iter_replace (&iter, GSIZE_TO_POINTER (UID_SEEN));
      else
        g_hash_table_iter_remove (&iter);
    }
  self->n_listed = 0;
}

/* Reconciling ------------------------------------------------------------ */

static Pop3UidEntry *
uid_entry_new (guint       msg,
               const char *uid)
{
  Pop3UidEntry *entry = g_new0 (Pop3UidEntry, 1);

  entry->msg = msg;
  entry->uid = g_strdup (uid);

  return entry;
}

static PopcheckMessage *
find_summary (PopcheckMailbox *self,
              const char      *uid)
{
  PopcheckMessage *message = popcheck_message_index_lookup (self->pending, uid);

  return message != NULL ? message
                         : popcheck_message_index_lookup (get_by_uid (self), uid);
}

static gboolean
list_index_rises (Pop3ListIndex *sizes)
{
  if (pop3_list_index_in_place (sizes))
    return TRUE;

  for (guint i = 1; i < pop3_list_index_get_length (sizes); i++)
    if (pop3_list_index_get_line (sizes, i - 1).msg >= pop3_list_index_get_line (sizes, i).msg)
      return FALSE;

  return TRUE;
}

/* Whether UIDL names every message of a LIST numbered 1 to n, as on
 * every server we know: n rising numbers, none below 1 or above n, are
 * 1 to n.  Known without a walk of the 100,000 lines of each, which
 * held the main loop for 2 ms in one step of a check's begin. */
static gboolean
every_line_has_uid (Pop3UidListing *server_uids,
                    Pop3ListIndex  *sizes)
{
  guint n = pop3_list_index_get_length (sizes);

  if (!pop3_list_index_in_place (sizes) ||
      !pop3_uid_listing_rises (server_uids) ||
      pop3_uid_listing_get_length (server_uids) != n)
    return FALSE;

  return n == 0 ||
         (pop3_uid_listing_get_msg (server_uids, 0) >= 1 &&
          pop3_uid_listing_get_msg (server_uids, n - 1) <= n);
}

/* As list_without_uid () does, for listings in the order every server
 * we know sends (numbers rising): one walk of both, rather than a table
 * of 100,000 numbers. */
static void
list_without_uid_in_order (PopcheckMailbox *self,
                           Pop3UidListing  *server_uids,
                           Pop3ListIndex   *sizes)
{
  guint n_uids = pop3_uid_listing_get_length (server_uids);
  guint i = 0;

  for (guint line = 0; line < pop3_list_index_get_length (sizes); line++)
    {
      Pop3ListEntry entry = pop3_list_index_get_line (sizes, line);

      while (i < n_uids && pop3_uid_listing_get_msg (server_uids, i) < entry.msg)
        i++;
      if (entry.msg > 0 &&
          (i == n_uids || pop3_uid_listing_get_msg (server_uids, i) != entry.msg))
        g_ptr_array_add (self->without_uid,
                         popcheck_message_new_without_uid (entry.msg,
                                                           entry.octets));
    }
}

/* What LIST lists and the UIDL listing does not name (its line was
 * malformed, or repeated another's UID) is listed by number and size,
 * never TOPped: nothing would tell its summary apart at the next check.
 * Header fingerprints name every message: twins among them are left out
 * by popcheck_mailbox_begin_update(), as they cannot be told apart. */
static void
list_without_uid (PopcheckMailbox *self,
                  Pop3UidListing  *server_uids,
                  Pop3ListIndex   *sizes)
{
  g_autoptr(GHashTable) numbered = NULL;

  if (sizes == NULL || every_line_has_uid (server_uids, sizes))
    return;

  if (pop3_uid_listing_rises (server_uids) && list_index_rises (sizes))
    {
      list_without_uid_in_order (self, server_uids, sizes);
      return;
    }

  numbered = g_hash_table_new (NULL, NULL);
  for (guint i = 0; i < pop3_uid_listing_get_length (server_uids); i++)
    g_hash_table_add (numbered,
                      GUINT_TO_POINTER (pop3_uid_listing_get_msg (server_uids, i)));

  for (guint i = 0; i < pop3_list_index_get_length (sizes); i++)
    {
      Pop3ListEntry entry = pop3_list_index_get_line (sizes, i);

      if (entry.msg > 0 &&
          !g_hash_table_contains (numbered, GUINT_TO_POINTER (entry.msg)))
        g_ptr_array_add (self->without_uid,
                         popcheck_message_new_without_uid (entry.msg,
                                                           entry.octets));
    }
}

/* Listed, with its TOP left for later, sharing key, the table's copy of
 * its UID. */
static void
list_headers_pending_shared (PopcheckMailbox *self,
                             char            *key,
                             guint            msg_number,
                             guint64          size)
{
  g_autoptr(PopcheckMessage) message = NULL;

  message = popcheck_message_new_headers_pending_shared (key, size, msg_number);
  popcheck_mailbox_add_summary (self, message);
}

static void
list_headers_pending (PopcheckMailbox *self,
                      const char      *uid,
                      guint            msg_number,
                      guint64          size)
{
  g_autoptr(PopcheckMessage) message = NULL;
  gpointer key = NULL;

  if (g_hash_table_lookup_extended (self->uids, uid, &key, NULL))
    {
      list_headers_pending_shared (self, key, msg_number, size);
      return;
    }
  message = popcheck_message_new_headers_pending (uid, size, msg_number);
  popcheck_mailbox_add_summary (self, message);
}

static int
compare_numbers_newest_first (gconstpointer a,
                              gconstpointer b)
{
  guint msg_a = *(const guint *) a;
  guint msg_b = *(const guint *) b;

  return (msg_a < msg_b) - (msg_a > msg_b);
}

static int
compare_entries_newest_first (gconstpointer a,
                              gconstpointer b)
{
  return compare_numbers_newest_first (&(*(Pop3UidEntry **) a)->msg,
                                       &(*(Pop3UidEntry **) b)->msg);
}

static int
compare_entries_oldest_first (gconstpointer a,
                              gconstpointer b)
{
  return compare_entries_newest_first (b, a);
}

/* What LIST said of msg; 0 without a listing or a line for it. */
static guint64
listed_size (Pop3ListIndex *sizes,
             guint          msg)
{
  guint64 octets = 0;

  pop3_list_index_lookup (sizes, msg, &octets);
  return octets;
}

static gboolean
numbers_rise (GArray *numbers)
{
  for (guint i = 1; i < numbers->len; i++)
    if (g_array_index (numbers, guint, i - 1) >= g_array_index (numbers, guint, i))
      return FALSE;

  return TRUE;
}

/* The newest n_newest of the messages numbered in numbers are those
 * numbered above *cut, and the first *n_at_cut numbered *cut (numbers
 * may repeat on a broken server). */
static void
find_cut (GArray *numbers,
          guint   n_newest,
          guint  *cut,
          guint  *n_at_cut)
{
  *cut = 0;
  *n_at_cut = G_MAXUINT;
  if (numbers->len <= n_newest)
    return;

  *cut = G_MAXUINT;
  *n_at_cut = 0;
  if (n_newest == 0)
    return;

  /* In the listing's order, which rises on every server we know: no
   * sort of 100,000 numbers. */
  if (numbers_rise (numbers))
    {
      *cut = g_array_index (numbers, guint, numbers->len - n_newest);
      *n_at_cut = 1;
      return;
    }

  g_array_sort (numbers, compare_numbers_newest_first);
  *cut = g_array_index (numbers, guint, n_newest - 1);
  for (guint i = n_newest; i-- > 0 && g_array_index (numbers, guint, i) == *cut;)
    (*n_at_cut)++;
}

static gboolean
is_before_cut (guint  msg,
               guint  cut,
               guint *n_at_cut)
{
  if (msg != cut)
    return msg > cut;
  if (*n_at_cut == 0)
    return FALSE;
  (*n_at_cut)--;
  return TRUE;
}

/* find_summary () of the UIDs a few entries ahead of i, in the rows:
 * the three steps of popcheck_message_index_prefetch (), each
 * PREFETCH_DISTANCE entries after the one before.  Nearly every UID of
 * a check is a row's. */
static void
prefetch_summaries_ahead (PopcheckMailbox *self,
                          Pop3UidListing  *server_uids,
                          guint            i)
{
  PopcheckMessageIndex *rows = get_by_uid (self);
  guint len = pop3_uid_listing_get_length (server_uids);
  PopcheckMessageIndexPrefetch steps[] = {
    POPCHECK_MESSAGE_INDEX_PREFETCH_UID,
    POPCHECK_MESSAGE_INDEX_PREFETCH_MESSAGE,
    POPCHECK_MESSAGE_INDEX_PREFETCH_SLOT,
  };

  /* A first check has no rows to find, and a small mailbox's are in
   * the cache: hashing each UID three times more would be all it did. */
  if (popcheck_message_index_get_size (rows) < PREFETCH_MIN_ROWS)
    return;

  for (guint step = 0; step < G_N_ELEMENTS (steps); step++)
    {
      guint ahead = i + (step + 1) * PREFETCH_DISTANCE;

      if (ahead < len)
        popcheck_message_index_prefetch (rows,
                                         pop3_uid_listing_get_uid (server_uids, ahead),
                                         steps[step]);
    }
}

/* A check's listing, taken entry by entry: at once, or in slices between
 * which the main loop runs. */
typedef struct
{
  Pop3UidListing *listing;
  Pop3ListIndex  *sizes;
  GArray         *wanted_numbers;
  guint           next;
  guint           n_newest;
  guint           serial;
  gboolean        deferred;
  /* Rows whose UID the listing has. */
  guint           n_rows_listed;
  /* The numbers of the last row the listing kept, before and now; and
   * whether the rows' numbers rose, before and now, in the listing's
   * order, as when messages before them are deleted. */
  guint           last_row_old;
  guint           last_row_new;
  gboolean        rows_keep_order;
  gboolean        renumbered_before;

  /* Once the listing is taken, the table's wanted entries, walked: a
   * walk no one else changes the table during, as the checker runs
   * nothing else on the account while it checks it. */
  gboolean        listed;
  GHashTableIter  wanted_iter;
  guint           n_wanted_left;
  guint           cut;
  guint           n_at_cut;
  GPtrArray      *need_top;
} Update;

static void
update_free (Update *update)
{
  g_clear_pointer (&update->listing, pop3_uid_listing_unref);
  g_clear_pointer (&update->sizes, pop3_list_index_free);
  g_clear_pointer (&update->wanted_numbers, g_array_unref);
  g_clear_pointer (&update->need_top, g_ptr_array_unref);
  g_free (update);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Update, update_free)

static Update *
update_new (PopcheckMailbox *self,
            Pop3UidListing  *server_uids,
            GArray          *sizes,
            guint            n_newest)
{
  Update *update = g_new0 (Update, 1);

  update->listing = server_uids;
  update->wanted_numbers = g_array_new (FALSE, FALSE, sizeof (guint));
  update->n_newest = n_newest;
  /* The index may copy the sizes alone: the listing itself may go. */
  if (sizes != NULL)
    update->sizes = pop3_list_index_new (sizes);
  g_clear_pointer (&sizes, g_array_unref);

  uids_unlist_all (self);
  g_ptr_array_set_size (self->without_uid, 0);
  self->updating = TRUE;
  self->rows_unlisted = G_MAXUINT;
  self->pending_unlisted = popcheck_message_index_get_size (self->pending) > 0;
  update->rows_keep_order = TRUE;
  update->renumbered_before = self->rows_renumbered;
  update->serial = ++self->update_serial;

  return update;
}

/* A row's number in this listing, msg.  Rows out of order would have to
 * be sorted again, and only a number can change their order: noted at
 * once, so that an update that does not get to the end of its listing
 * leaves them to be checked.  When the end of the listing finds that
 * their numbers rose in the same order, they are in order. */
static void
renumber_row (PopcheckMailbox *self,
              Update          *update,
              PopcheckMessage *row,
              guint            msg)
{
  guint old = popcheck_message_get_msg_number (row);

  if (old <= update->last_row_old || msg <= update->last_row_new)
    update->rows_keep_order = FALSE;
  update->last_row_old = old;
  update->last_row_new = msg;
  if (old != msg)
    self->rows_renumbered = TRUE;
}

/* Lists the next entry of the listing. */
static void
update_take_next (PopcheckMailbox *self,
                  Update          *update)
{
  guint i = update->next++;
  guint msg = pop3_uid_listing_get_msg (update->listing, i);
  const char *uid = pop3_uid_listing_get_uid (update->listing, i);
  PopcheckMessage *message;
  PopcheckMessage *row;
  gpointer key = NULL;
  gpointer value = NULL;
  gboolean wanted;

  /* The engine validates UIDs already; this is the last line before
   * they become hash keys and state file content. */
  if (!pop3_uid_is_valid (uid))
    {
      g_debug ("Account %s: skipping an invalid UID for message %u",
               self->account_id, msg);
      return;
    }
  /* Two messages with one UID: a broken server.  The first one keeps
   * the UID; the other cannot be told apart, so it is left out rather
   * than risk acting on the wrong message. */
  if (!g_hash_table_lookup_extended (self->uids, uid, &key, &value))
    key = NULL;
  if ((GPOINTER_TO_SIZE (value) & UID_LISTED) != 0)
    {
      g_debug ("Account %s: message %u repeats the UID of message %u",
               self->account_id, msg,
               uid_get_msg_number (self, uid));
      return;
    }
  /* Beyond what the table holds (on 32 bits only): no number could
   * be kept for it, so it is left out as an invalid UID is. */
  if (!uid_fits_msg_number (msg))
    {
      g_debug ("Account %s: skipping message %u, numbered beyond what "
               "can be kept", self->account_id, msg);
      return;
    }

  prefetch_summaries_ahead (self, update->listing, i);
  /* As find_summary (), counting the rows found. */
  row = popcheck_message_index_lookup (get_by_uid (self), uid);
  message = popcheck_message_index_lookup (self->pending, uid);
  if (message == NULL)
    message = row;
  if (row != NULL)
    update->n_rows_listed++;
  if (message != NULL)
    {
      guint64 octets;

      /* Same UID, other size: the server reused the UID (some do after
       * a mailbox rebuild); the cached summary describes another
       * message. */
      if (pop3_list_index_lookup (update->sizes, msg, &octets) &&
          popcheck_message_get_size (message) != 0 &&
          octets != popcheck_message_get_size (message))
        {
          popcheck_message_index_remove (self->pending, uid);
          message = NULL;
        }
    }

  /* Listed without headers: worth another TOP, but not forever; a
   * server that never answers it must not cost one at every check. */
  wanted = message == NULL ||
           (!popcheck_message_get_headers_known (message) &&
            popcheck_message_get_top_refusals (message) < POPCHECK_MAILBOX_TOP_ATTEMPTS);
  if (message == row && row != NULL)
    renumber_row (self, update, row, msg);
  if (message != NULL)
    popcheck_message_set_msg_number (message, msg);
  uid_list (self, key, uid, GPOINTER_TO_SIZE (value), msg, wanted);
  if (wanted)
    g_array_append_val (update->wanted_numbers, msg);
}

/* Once every entry is listed.  The UIDs marked wanted want a TOP: the
 * newest n_newest become entries to TOP, the others are listed with their
 * headers pending, unless a summary is listed for them already.  They
 * are found through the table rather than a list of their own: for a
 * million messages, that list was 17 MB of the check's peak. */
static void
update_listing_done (PopcheckMailbox *self,
                     Update          *update)
{
  guint n_wanted = update->wanted_numbers->len;
  guint n_later = n_wanted - MIN (n_wanted, update->n_newest);

  list_without_uid (self, update->listing, update->sizes);
  /* Its caller's last reference, in a process that runs no backlog: the
   * listing goes before a row is made for each message that waits. */
  g_clear_pointer (&update->listing, pop3_uid_listing_unref);

  update->listed = TRUE;
  update->deferred = n_later > 0;
  self->rows_unlisted = self->items->len - update->n_rows_listed;
  if (update->rows_keep_order)
    self->rows_renumbered = update->renumbered_before;
  update->n_wanted_left = n_wanted;
  find_cut (update->wanted_numbers, update->n_newest,
            &update->cut, &update->n_at_cut);
  g_clear_pointer (&update->wanted_numbers, g_array_unref);

  update->need_top = g_ptr_array_new_with_free_func ((GDestroyNotify) pop3_uid_entry_free);
  popcheck_message_index_reserve (self->pending,
                                  popcheck_message_index_get_size (self->pending) +
                                  n_later);
  g_hash_table_iter_init (&update->wanted_iter, self->uids);
}

/* The next wanted entry of the table; FALSE once there is none. */
static gboolean
update_take_wanted (PopcheckMailbox *self,
                    Update          *update)
{
  gpointer key, value;
  gsize flags;
  guint msg;

  /* Past the last one, the rest of the table is left alone: a check
   * with nothing new walks none of it. */
  if (update->n_wanted_left == 0 ||
      !g_hash_table_iter_next (&update->wanted_iter, &key, &value))
    return FALSE;

  flags = GPOINTER_TO_SIZE (value);
  if ((flags & UID_WANTED) == 0)
    return TRUE;
  update->n_wanted_left--;
  msg = flags >> UID_NUMBER_SHIFT;
  g_hash_table_iter_replace (&update->wanted_iter,
                             GSIZE_TO_POINTER (flags & ~UID_WANTED));

  if (is_before_cut (msg, update->cut, &update->n_at_cut))
    g_ptr_array_add (update->need_top, uid_entry_new (msg, key));
  else if (find_summary (self, key) == NULL)
    list_headers_pending_shared (self, key, msg, listed_size (update->sizes, msg));

  return TRUE;
}

/* One step of the update: an entry of the listing, the end of the
 * listing, or an entry of the table.  FALSE once none is left. */
static gboolean
update_step (PopcheckMailbox *self,
             Update          *update)
{
  if (update->listed)
    return update_take_wanted (self, update);

  if (update->next < pop3_uid_listing_get_length (update->listing))
    update_take_next (self, update);
  else
    update_listing_done (self, update);

  return TRUE;
}

/* The entries to TOP, once no step is left. */
static GPtrArray *
update_finish (Update *update)
{
  GPtrArray *need_top = g_steal_pointer (&update->need_top);

  g_ptr_array_sort (need_top, update->deferred ? compare_entries_newest_first
                                               : compare_entries_oldest_first);
  return need_top;
}

GPtrArray *
popcheck_mailbox_begin_update (PopcheckMailbox *self,
                               Pop3UidListing  *server_uids,
                               GArray          *sizes)
{
  return popcheck_mailbox_begin_update_newest (self,
                                               pop3_uid_listing_ref (server_uids),
                                               sizes != NULL ? g_array_ref (sizes) : NULL,
                                               G_MAXUINT, NULL);
}

GPtrArray *
popcheck_mailbox_begin_update_newest (PopcheckMailbox *self,
                                      Pop3UidListing  *server_uids,
                                      GArray          *sizes,
                                      guint            n_newest,
                                      gboolean        *deferred)
{
  g_autoptr(Update) update = NULL;
  GPtrArray *need_top;

  g_return_val_if_fail (POPCHECK_IS_MAILBOX (self), NULL);
  g_return_val_if_fail (server_uids != NULL, NULL);

  update = update_new (self, server_uids, sizes, n_newest);
  while (update_step (self, update))
    ;
  need_top = update_finish (update);

  if (deferred != NULL)
    *deferred = update->deferred;

  return need_top;
}

/* A slice takes steps for about a quarter of a frame, looking at the
 * clock every POPCHECK_MAILBOX_SLICE_STEPS steps.  Then the source waits
 * SLICE_GAP_USEC, so that whatever else is due runs before the next
 * slice: input, and frames.  (An idle source below redrawing waited for
 * ever while a spinner kept the frame clock due on a busy machine; one
 * at the default priority, always due, would let no frame through.) */
#define SLICE_USEC     4000
#define SLICE_GAP_USEC 1000

static gboolean
slice_source_dispatch (GSource     *source,
                       GSourceFunc  callback,
                       gpointer     user_data)
{
  return callback (user_data);
}

static GSourceFuncs slice_source_funcs = {
  .dispatch = slice_source_dispatch,
};

GSource *
popcheck_mailbox_slice_source_new (void)
{
  GSource *source = g_source_new (&slice_source_funcs, sizeof (GSource));

  popcheck_mailbox_slice_wait (source);
  return source;
}

void
popcheck_mailbox_slice_wait (GSource *source)
{
  g_source_set_ready_time (source, g_get_monotonic_time () + SLICE_GAP_USEC);
}

gint64
popcheck_mailbox_slice_deadline (PopcheckMailbox *self)
{
  return g_get_monotonic_time () + self->slice_usec;
}

void
popcheck_mailbox_set_slice_usec (PopcheckMailbox *self,
                                 gint64           usec)
{
  self->slice_usec = usec;
}

static gboolean
update_slice_cb (gpointer user_data)
{
  GTask *task = user_data;
  PopcheckMailbox *self = g_task_get_source_object (task);
  Update *update = g_task_get_task_data (task);
  gint64 deadline = popcheck_mailbox_slice_deadline (self);

  if (g_task_return_error_if_cancelled (task))
    return G_SOURCE_REMOVE;
  /* A state file loaded, another update begun, or rows deleted since:
   * the table may not be the one the walk is in. */
  if (update->serial != self->update_serial)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               _("The list of messages changed during the check."));
      return G_SOURCE_REMOVE;
    }

  for (;;)
    {
      gboolean more = TRUE;

      for (guint n = 0; n < POPCHECK_MAILBOX_SLICE_STEPS && more; n++)
        more = update_step (self, update);
      if (!more)
        break;
      if (g_get_monotonic_time () >= deadline)
        {
          popcheck_mailbox_slice_wait (g_main_current_source ());
          return G_SOURCE_CONTINUE;
        }
    }

  g_task_return_pointer (task, update_finish (update),
                         (GDestroyNotify) g_ptr_array_unref);
  return G_SOURCE_REMOVE;
}

void
popcheck_mailbox_begin_update_newest_async (PopcheckMailbox     *self,
                                            Pop3UidListing      *server_uids,
                                            GArray              *sizes,
                                            guint                n_newest,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GSource) source = NULL;

  g_return_if_fail (POPCHECK_IS_MAILBOX (self));
  g_return_if_fail (server_uids != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, popcheck_mailbox_begin_update_newest_async);
  g_task_set_task_data (task, update_new (self, server_uids, sizes, n_newest),
                        (GDestroyNotify) update_free);
  source = popcheck_mailbox_slice_source_new ();
  /* The listing's first slice at once: the check waits for it. */
  g_source_set_ready_time (source, 0);
  g_task_attach_source (task, source, update_slice_cb);
}

GPtrArray *
popcheck_mailbox_begin_update_newest_finish (PopcheckMailbox  *self,
                                             GAsyncResult     *result,
                                             gboolean         *deferred,
                                             GError          **error)
{
  Update *update;
  GPtrArray *need_top;

  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  update = g_task_get_task_data (G_TASK (result));
  need_top = g_task_propagate_pointer (G_TASK (result), error);
  if (need_top != NULL && deferred != NULL)
    *deferred = update->deferred;

  return need_top;
}

void
popcheck_mailbox_add_summary (PopcheckMailbox *self,
                              PopcheckMessage *message)
{
  const char *uid;

  g_return_if_fail (POPCHECK_IS_MAILBOX (self));
  g_return_if_fail (POPCHECK_IS_MESSAGE (message));

  uid = popcheck_message_get_uid (message);
  if (!pop3_uid_is_valid (uid))
    return;

  if (!uid_is_listed (self, uid))
    self->pending_unlisted = TRUE;
  else if (popcheck_message_get_msg_number (message) == 0)
    popcheck_message_set_msg_number (message, uid_get_msg_number (self, uid));

  popcheck_message_index_replace (self->pending, message);
  /* Saved even if the check does not end: the next need not TOP it. */
  self->dirty = TRUE;
}

void
popcheck_mailbox_add_top_refused (PopcheckMailbox *self,
                                  const char      *uid,
                                  guint            msg_number,
                                  guint64          size)
{
  g_autoptr(PopcheckMessage) message = NULL;
  PopcheckMessage *listed;

  g_return_if_fail (POPCHECK_IS_MAILBOX (self));
  g_return_if_fail (uid != NULL);

  if (!pop3_uid_is_valid (uid))
    return;

  /* What is listed already stays, with whether the user has seen it; the
   * count is saved with it, so a restart does not start it afresh. */
  listed = find_summary (self, uid);
  if (listed != NULL)
    {
      popcheck_message_count_top_refusal (listed);
      self->dirty = TRUE;
      return;
    }

  message = popcheck_message_new_without_headers (uid, size, msg_number);
  popcheck_mailbox_add_summary (self, message);
}

void
popcheck_mailbox_add_headers_pending (PopcheckMailbox *self,
                                      const char      *uid,
                                      guint            msg_number,
                                      guint64          size)
{
  g_return_if_fail (POPCHECK_IS_MAILBOX (self));
  g_return_if_fail (uid != NULL);
  g_return_if_fail (self->updating);

  /* One listed already (pending, or refused) stays as it is. */
  if (!pop3_uid_is_valid (uid) || find_summary (self, uid) != NULL)
    return;

  list_headers_pending (self, uid, msg_number, size);
}

void
popcheck_mailbox_add_early_summaries (PopcheckMailbox *self,
                                      GPtrArray       *messages)
{
  g_autoptr(GPtrArray) add = NULL;
  g_autoptr(GHashTable) added = NULL;

  g_return_if_fail (POPCHECK_IS_MAILBOX (self));
  g_return_if_fail (messages != NULL);
  g_return_if_fail (!self->updating);
  g_return_if_fail (!self->first_check_done);

  add = g_ptr_array_new_with_free_func (g_object_unref);
  added = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < messages->len; i++)
    {
      PopcheckMessage *message = g_ptr_array_index (messages, i);
      const char *uid = popcheck_message_get_uid (message);

      if (!pop3_uid_is_valid (uid) ||
          popcheck_message_index_lookup (get_by_uid (self), uid) != NULL ||
          !g_hash_table_add (added, (gpointer) uid))
        continue;

      popcheck_message_set_is_new (message, FALSE);
      /* Fresher than what a check that did not end kept of it; and kept
       * out of the update's own summaries, which would replace the row. */
      popcheck_message_index_remove (self->pending, uid);
      g_ptr_array_add (add, g_object_ref (message));
    }

  model_apply (self, rows_that_stay (self, NULL), g_steal_pointer (&add));
  self->dirty = TRUE;
}

/* Where message is in the sorted model, or -1. */
static int
find_position (PopcheckMailbox *self,
               PopcheckMessage *message)
{
  guint position = find_insert_position (self, message);

  if (position < self->items->len &&
      g_ptr_array_index (self->items, position) == message)
    return position;

  /* Not sorted (message numbers changed since): look everywhere. */
  for (guint i = 0; i < self->items->len; i++)
    if (g_ptr_array_index (self->items, i) == message)
      return i;

  return -1;
}

guint
popcheck_mailbox_count_headers_pending (PopcheckMailbox *self)
{
  guint n = 0;

  g_return_val_if_fail (POPCHECK_IS_MAILBOX (self), 0);

  for (guint i = 0; i < self->items->len; i++)
    if (popcheck_message_get_headers_pending (g_ptr_array_index (self->items, i)))
      n++;

  return n;
}

static int
compare_positions (gconstpointer a,
                   gconstpointer b)
{
  guint position_a = *(const guint *) a;
  guint position_b = *(const guint *) b;

  return position_a < position_b ? -1 : position_a > position_b;
}

/* How many of positions (sorted) are below position. */
static guint
count_positions_below (GArray *positions,
                       guint   position)
{
  guint low = 0, high = positions->len;

  while (low < high)
    {
      guint mid = low + (high - low) / 2;

      if (g_array_index (positions, guint, mid) < position)
        low = mid + 1;
      else
        high = mid;
    }

  return low;
}

/* Whether each of fills (sorted), in the place of the rows at positions
 * (sorted, one for each), goes exactly where one of them is: where it
 * goes among the rows that stay, after the fills before it. */
static gboolean
fills_stay_in_place (PopcheckMailbox *self,
                     GArray          *positions,
                     GPtrArray       *fills)
{
  for (guint i = 0; i < fills->len; i++)
    {
      guint at = find_insert_position (self, g_ptr_array_index (fills, i));

      if (at - count_positions_below (positions, at) + i !=
          g_array_index (positions, guint, i))
        return FALSE;
    }

  return TRUE;
}

/* Announces the rows at positions (sorted) as replaced, a change for each
 * run of neighbouring rows. */
static void
announce_replaced_runs (PopcheckMailbox *self,
                        GArray          *positions)
{
  for (guint i = 0; i < positions->len;)
    {
      guint start = g_array_index (positions, guint, i);
      guint end = start + 1;

      for (i++; i < positions->len && g_array_index (positions, guint, i) == end; i++)
        end++;
      g_list_model_items_changed (G_LIST_MODEL (self), start, end - start, end - start);
    }
}

/* Removes the rows at positions (sorted), a run of neighbouring rows at a
 * time, from the last. */
static void
remove_runs (PopcheckMailbox *self,
             GArray          *positions)
{
  for (guint i = positions->len; i-- > 0;)
    {
      guint end = g_array_index (positions, guint, i) + 1;
      guint start = end - 1;

      while (i > 0 && g_array_index (positions, guint, i - 1) == start - 1)
        start = g_array_index (positions, guint, --i);
      g_ptr_array_remove_range (self->items, start, end - start);
      g_list_model_items_changed (G_LIST_MODEL (self), start, end - start, 0);
    }
}

/* Inserts messages at their places in their order, a run of them at a
 * time: those that follow each other in the list and go to one place. */
static void
insert_runs (PopcheckMailbox *self,
             GPtrArray       *messages)
{
  for (guint i = 0; i < messages->len;)
    {
      guint position = find_insert_position (self, g_ptr_array_index (messages, i));
      guint old_len = self->items->len;
      guint end = i + 1;

      while (end < messages->len &&
             compare_messages (g_ptr_array_index (messages, end - 1),
                               g_ptr_array_index (messages, end)) < 0 &&
             (position == old_len ||
              compare_messages (g_ptr_array_index (messages, end),
                                g_ptr_array_index (self->items, position)) < 0))
        end++;

      g_ptr_array_set_size (self->items, old_len + (end - i));
      memmove (&self->items->pdata[position + (end - i)],
               &self->items->pdata[position],
               (old_len - position) * sizeof (gpointer));
      for (guint j = i; j < end; j++)
        self->items->pdata[position + (j - i)] =
          g_object_ref (g_ptr_array_index (messages, j));
      g_list_model_items_changed (G_LIST_MODEL (self), position, 0, end - i);
      i = end;
    }
}

guint
popcheck_mailbox_fill_pending_batch (PopcheckMailbox *self,
                                     GPtrArray       *messages)
{
  g_autoptr(GPtrArray) olds = NULL;
  g_autoptr(GPtrArray) fills = NULL;
  g_autoptr(GPtrArray) sorted = NULL;
  g_autoptr(GArray) positions = NULL;
  g_autoptr(GHashTable) filled = NULL;

  g_return_val_if_fail (POPCHECK_IS_MAILBOX (self), 0);
  g_return_val_if_fail (messages != NULL, 0);
  g_return_val_if_fail (!self->updating, 0);

  /* Alive until the list view has heard they are gone. */
  olds = g_ptr_array_new_with_free_func (g_object_unref);
  fills = g_ptr_array_new_with_free_func (g_object_unref);
  positions = g_array_sized_new (FALSE, FALSE, sizeof (guint), messages->len);
  filled = g_hash_table_new (NULL, NULL);
  for (guint i = 0; i < messages->len; i++)
    {
      PopcheckMessage *message = g_ptr_array_index (messages, i);
      PopcheckMessage *listed;
      int position;

      g_return_val_if_fail (POPCHECK_IS_MESSAGE (message), 0);

      listed = popcheck_message_index_lookup (get_by_uid (self),
                                              popcheck_message_get_uid (message));
      /* Once filled, a message is no longer pending: a UID twice in
       * messages fills its row once. */
      if (listed == NULL || !popcheck_message_get_headers_pending (listed) ||
          g_hash_table_contains (filled, listed))
        continue;
      position = find_position (self, listed);
      if (position < 0)
        continue;

      /* The model is ordered by the numbers of the last check; this TOP's
       * session may number messages otherwise. */
      popcheck_message_set_msg_number (message, popcheck_message_get_msg_number (listed));
      popcheck_message_set_is_new (message, popcheck_message_get_is_new (listed));
      g_hash_table_add (filled, listed);
      g_ptr_array_add (olds, g_object_ref (listed));
      g_ptr_array_add (fills, g_object_ref (message));
      g_array_append_val (positions, position);
    }
  if (fills->len == 0)
    return 0;

  g_array_sort (positions, compare_positions);
  sorted = g_ptr_array_new_full (fills->len, NULL);
  g_ptr_array_extend (sorted, fills, NULL, NULL);
  g_ptr_array_sort (sorted, compare_messages_indirect);
  /* Each takes its row's place in the index by UID: one search, where
   * taking the row out first cost a second one, and a walk of the
   * neighbouring slots that hashed each one's UID again. */
  for (guint i = 0; i < fills->len; i++)
    track_message (self, g_ptr_array_index (fills, i));

  /* Every change costs each list model over the mailbox (a window's
   * filters, sorter and selection) a pass over its rows, and one that
   * adds as many rows as it removes costs them the least.  Filled in the
   * backlog's order, newest first, the rows keep their places: the dated
   * rows are newer, the ones still pending older.  Then a change for each
   * run of neighbouring rows; else the exact removals, then the
   * insertions in the order the messages came (the rows in view, then
   * the newest left), so a list view keeps its scroll position and the
   * rows that stay selected.  A lookup while a change is announced finds
   * the filled messages. */
  if (fills_stay_in_place (self, positions, sorted))
    {
      for (guint i = 0; i < sorted->len; i++)
        {
          PopcheckMessage *message = g_ptr_array_index (sorted, i);
          guint position = g_array_index (positions, guint, i);

          g_object_unref (self->items->pdata[position]);
          self->items->pdata[position] = g_object_ref (message);
        }
      self->rows_filled_in_place = TRUE;
      announce_replaced_runs (self, positions);
      self->rows_filled_in_place = FALSE;
    }
  else
    {
      remove_runs (self, positions);
      insert_runs (self, fills);
    }

  self->dirty = TRUE;

  return fills->len;
}

gboolean
popcheck_mailbox_fill_pending (PopcheckMailbox *self,
                               PopcheckMessage *message)
{
  g_autoptr(GPtrArray) messages = NULL;

  g_return_val_if_fail (POPCHECK_IS_MAILBOX (self), FALSE);
  g_return_val_if_fail (POPCHECK_IS_MESSAGE (message), FALSE);
  g_return_val_if_fail (!self->updating, FALSE);

  messages = g_ptr_array_new ();
  g_ptr_array_add (messages, message);

  return popcheck_mailbox_fill_pending_batch (self, messages) == 1;
}

/* Gone from the server: out of the model and the cache, their marks in
 * stays cleared.  The update counted them: none, and 100,000 lookups are
 * saved.  Old mail goes first, deleted or expired, and new mail is what a
 * phone deletes once read: the walk starts from the oldest row and
 * follows a run of gone rows from either end, turning to the other end at
 * each row that stays.  It stops when it has found as many as are gone.
 * Marked by position, not in the set of rows replaced: asking that set
 * about every row took longer than the walk. */
static void
find_gone_rows (PopcheckMailbox *self,
                guint8          *stays)
{
  guint newer = 0, older = self->items->len;
  gboolean from_oldest = TRUE;

  for (guint left = self->rows_unlisted; left > 0 && newer < older;)
    {
      guint i = from_oldest ? --older : newer++;
      PopcheckMessage *row = g_ptr_array_index (self->items, i);

      if (from_oldest)
        prefetch_uids_behind (self->items, i);
      else
        prefetch_uids_ahead (self->items, i);
      if (uid_is_listed (self, popcheck_message_get_uid (row)))
        from_oldest = !from_oldest;
      else
        {
          bits_clear (stays, i);
          left--;
        }
    }
}

GPtrArray *
popcheck_mailbox_end_update (PopcheckMailbox *self)
{
  /* The rows that summaries replace, a set. */
  g_autoptr(GHashTable) remove = NULL;
  guint8 *stays;
  g_autoptr(GPtrArray) add = NULL;
  /* The summaries in pending, which add and unlisted take the references
   * of, to spare 100,000 taken and given back. */
  g_autoptr(GPtrArray) unlisted = g_ptr_array_new_with_free_func (g_object_unref);
  /* A first check's pending holds every row to be but those without a
   * UID: it becomes the rows by UID, which the backlog's first batch
   * would otherwise make again, and keeps its references. */
  g_autoptr(PopcheckMessageIndex) rows_by_uid = NULL;
  /* While the rows are placed by number: see place_row (). */
  g_autoptr(GPtrArray) misplaced = NULL;
  gboolean reuse;
  GPtrArray *new_messages;
  PopcheckMessageIndexIter pending;
  PopcheckMessage *message;
  GHashTableIter iter;
  gpointer key, value;
  gboolean first;

  g_return_val_if_fail (POPCHECK_IS_MAILBOX (self), NULL);
  g_return_val_if_fail (self->updating, NULL);

  first = !self->first_check_done;
  stays = rows_that_stay (self, NULL);
  find_gone_rows (self, stays);
  reuse = self->items->len == 0 && !self->pending_unlisted;
  new_messages = g_ptr_array_new_with_free_func (g_object_unref);
  /* Rows, compared by address: the model holds each until it is out. */
  remove = g_hash_table_new (NULL, NULL);
  add = g_ptr_array_new_with_free_func (g_object_unref);
  if (reuse)
    {
      misplaced = g_ptr_array_new_with_free_func (g_object_unref);
      g_ptr_array_set_size (add, popcheck_message_index_get_size (self->pending) +
                                 self->without_uid->len);
    }

  popcheck_message_index_iter_init (&pending, self->pending);
  while (popcheck_message_index_iter_next (&pending, &message))
    {
      const char *uid = popcheck_message_get_uid (message);
      PopcheckMessage *old = NULL;

      /* A first check's 100,000 summaries are listed, and replace no
       * row: two lookups each saved. */
      if (self->pending_unlisted && !uid_is_listed (self, uid))
        {
          g_ptr_array_add (unlisted, message);
          continue;
        }

      if (self->items->len > 0)
        old = popcheck_message_index_lookup (get_by_uid (self), uid);
      if (old != NULL)
        {
          /* A replaced summary keeps whether the user has looked at it. */
          g_hash_table_add (remove, old);
          popcheck_message_set_is_new (message, popcheck_message_get_is_new (old));
        }
      else if (first)
        popcheck_message_set_is_new (message, FALSE);
      else if (!popcheck_mailbox_is_seen (self, uid))
        {
          popcheck_message_set_is_new (message, TRUE);
          g_ptr_array_add (new_messages, g_object_ref (message));
        }

      add_row (add, misplaced, reuse ? g_object_ref (message) : message);
    }
  /* Never new: without a UID, the next check could not tell whether it is
   * the same message, so it would be announced again and again. */
  for (guint i = 0; i < self->without_uid->len; i++)
    add_row (add, misplaced, g_object_ref (g_ptr_array_index (self->without_uid, i)));
  if (misplaced != NULL)
    fill_empty_places (add, misplaced);

  /* Seen: what is on the server and has a summary.  A UID whose TOP failed
   * stays unseen so that the next check announces it with its summary;
   * except on the first check, where everything there is known. */
  g_hash_table_iter_init (&iter, self->uids);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      gsize flags = GPOINTER_TO_SIZE (value);

      /* Seen and no longer listed: gone from the server. */
      if ((flags & UID_LISTED) == 0)
        {
          self->n_seen--;
          g_hash_table_iter_remove (&iter);
        }
      else if ((flags & UID_SEEN) == 0 &&
               (first ||
                popcheck_message_index_lookup (self->pending, key) != NULL ||
                popcheck_message_index_lookup (get_by_uid (self), key) != NULL))
        {
          self->n_seen++;
          g_hash_table_iter_replace (&iter, GSIZE_TO_POINTER (flags | UID_SEEN));
        }
    }

  /* add holds the summaries now: the table goes first, rather than stay
   * at its largest while the model and its UID index grow by as much;
   * unless it is to be that index. */
  if (reuse)
    {
      rows_by_uid = g_steal_pointer (&self->pending);
      self->pending = popcheck_message_index_new ();
    }
  else
    popcheck_message_index_steal_all (self->pending);
  unmark_rows_in (self, stays, remove);
  model_apply (self, stays, g_steal_pointer (&add));
  self->updating = FALSE;
  /* Unless a lookup while the change was announced made it already. */
  if (rows_by_uid != NULL && self->by_uid == NULL)
    take_rows_by_uid (self, g_steal_pointer (&rows_by_uid));
  g_ptr_array_set_size (self->without_uid, 0);

  if (first)
    {
      self->first_check_count = self->n_listed;
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

/* The one place a listed message stops being new: a message tells no
 * one but its property's watchers, as a pointer back to its list in
 * each of a million summaries would cost 16 MB. */
static gboolean
mark_message_seen (PopcheckMailbox *self,
                   PopcheckMessage *message)
{
  if (message == NULL || !popcheck_message_get_is_new (message))
    return FALSE;

  popcheck_message_set_is_new (message, FALSE);
  set_n_new (self, self->n_new > 0 ? self->n_new - 1 : 0);
  self->dirty = TRUE;
  return TRUE;
}

gboolean
popcheck_mailbox_mark_all_seen (PopcheckMailbox *self)
{
  gboolean changed = FALSE;

  g_return_val_if_fail (POPCHECK_IS_MAILBOX (self), FALSE);

  for (guint i = 0; i < self->items->len; i++)
    changed |= mark_message_seen (self, g_ptr_array_index (self->items, i));

  return changed;
}

gboolean
popcheck_mailbox_mark_seen (PopcheckMailbox    *self,
                            const char * const *uids)
{
  gboolean changed = FALSE;

  g_return_val_if_fail (POPCHECK_IS_MAILBOX (self), FALSE);
  g_return_val_if_fail (uids != NULL, FALSE);

  for (guint i = 0; uids[i] != NULL; i++)
    changed |= mark_message_seen (self,
                                  popcheck_message_index_lookup (get_by_uid (self),
                                                                 uids[i]));

  return changed;
}

void
popcheck_mailbox_remove_uids (PopcheckMailbox    *self,
                              const char * const *uids)
{
  g_autoptr(GHashTable) remove = NULL;

  g_return_if_fail (POPCHECK_IS_MAILBOX (self));

  if (uids == NULL)
    return;

  /* Never during a check, which the checker runs alone; should it be,
   * the update under way fails rather than walk a changed table. */
  self->update_serial++;
  remove = g_hash_table_new (NULL, NULL);
  for (guint i = 0; uids[i] != NULL; i++)
    {
      PopcheckMessage *row = popcheck_message_index_lookup (get_by_uid (self),
                                                            uids[i]);

      if (row != NULL)
        g_hash_table_add (remove, row);
      uid_set_value (self, uids[i], 0);
      popcheck_message_index_remove (self->pending, uids[i]);
    }

  model_apply (self, rows_that_stay (self, remove), NULL);
  self->dirty = TRUE;
}

PopcheckMessage *
popcheck_mailbox_lookup (PopcheckMailbox *self,
                         const char      *uid)
{
  g_return_val_if_fail (POPCHECK_IS_MAILBOX (self), NULL);
  g_return_val_if_fail (uid != NULL, NULL);

  return popcheck_message_index_lookup (get_by_uid (self), uid);
}

guint
popcheck_mailbox_get_msg_number (PopcheckMailbox *self,
                                 const char      *uid)
{
  g_return_val_if_fail (POPCHECK_IS_MAILBOX (self), 0);
  g_return_val_if_fail (uid != NULL, 0);

  return uid_get_msg_number (self, uid);
}

/* The state file --------------------------------------------------------- */

/* A run of loaded messages of one date, in the order of the numbers
 * they had when saved, newest first, which UIDs often follow as well:
 * then the run is in reverse, and turned round rather than sorted. */
static void
sort_same_date (GPtrArray *messages,
                guint      start,
                guint      end)
{
  gpointer *run = messages->pdata + start;
  guint n = end - start;
  guint i;

  for (i = 1; i < n && compare_messages (run[i - 1], run[i]) > 0; i++)
    ;
  if (i < n)
    {
      qsort (run, n, sizeof (gpointer), compare_messages_indirect);
      return;
    }

  for (i = 0; i < n / 2; i++)
    {
      gpointer swap = run[i];

      run[i] = run[n - 1 - i];
      run[n - 1 - i] = swap;
    }
}

/* The state file is read and written in popcheck-mailbox-store.c; what it
 * held is applied here, on the main thread, where the model lives. */
void
popcheck_mailbox_prepare_loaded_state (PopcheckMailbox            *self,
                                       PopcheckMailboxLoadedState *state)
{
  GPtrArray *messages = state->messages;
  GHashTableIter iter;
  gboolean sorted = TRUE;
  guint run_start = 0;

  /* A saved list is in the model's order by date already; messages of
   * the same date came in the order of their numbers, which a loaded
   * message does not have yet, so only those runs are sorted again.  One
   * pass over 100,000 messages, which are no one else's until the state
   * is applied. */
  state->n_new = 0;
  for (guint i = 0; i < messages->len; i++)
    {
      PopcheckMessage *message = g_ptr_array_index (messages, i);
      int order = i > 0 ? compare_dates (g_ptr_array_index (messages, i - 1),
                                         message) : 0;

      if (popcheck_message_get_is_new (message))
        state->n_new++;

      if (!sorted || order == 0)
        continue;
      if (order > 0)
        sorted = FALSE;
      else if (i - run_start > 1)
        sort_same_date (messages, run_start, i);
      run_start = i;
    }
  if (!sorted)
    g_ptr_array_sort (messages, compare_messages_indirect);
  else if (messages->len - run_start > 1)
    sort_same_date (messages, run_start, messages->len);

  /* The set of seen UIDs becomes the mailbox's table of UIDs, whose
   * values say what it knows of each: its keys are copies the table
   * frees, as its own are. */
  g_hash_table_iter_init (&iter, state->seen);
  while (g_hash_table_iter_next (&iter, NULL, NULL))
    g_hash_table_iter_replace (&iter, GSIZE_TO_POINTER (UID_SEEN));

  state->prepared = TRUE;
}

void
popcheck_mailbox_apply_loaded_state (PopcheckMailbox            *self,
                                     PopcheckMailboxLoadedState *state)
{
  gboolean first_check_done = self->first_check_done;

  g_return_if_fail (state->prepared);

  model_clear (self);
  popcheck_message_index_remove_all (self->pending);
  self->updating = FALSE;
  self->update_serial++;
  self->rows_unlisted = G_MAXUINT;

  g_hash_table_unref (self->uids);
  self->uids = g_hash_table_ref (state->seen);
  self->n_seen = g_hash_table_size (self->uids);
  self->n_listed = 0;

  self->first_check_done = state->first_check_done;
  self->first_check_count = 0;
  g_clear_pointer (&self->last_check, g_date_time_unref);
  if (state->first_check_done && state->last_check > 0)
    self->last_check = g_date_time_new_from_unix_local (state->last_check);

  /* Prepared in the thread: the list is taken as it is, in one change. */
  g_ptr_array_unref (self->items);
  self->items = g_steal_pointer (&state->messages);
  /* In order: popcheck_mailbox_prepare_loaded_state () sorted them. */
  self->rows_renumbered = FALSE;
  g_clear_pointer (&self->by_uid, popcheck_message_index_free);
  self->by_uid = g_steal_pointer (&state->by_uid);
  if (self->items->len > 0)
    {
      g_list_model_items_changed (G_LIST_MODEL (self), 0, 0, self->items->len);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ITEMS]);
    }
  set_n_new (self, state->n_new);
  for (guint i = 0; state->fetched != NULL && i < state->fetched->len; i++)
    popcheck_mailbox_add_summary (self, g_ptr_array_index (state->fetched, i));

  self->dirty = state->set_aside;
  if (state->details_file != NULL)
    {
      g_clear_pointer (&self->details_file, popcheck_summary_file_unref);
      self->details_file = popcheck_summary_file_ref (state->details_file);
      self->details_id = state->details_id;
    }

  if (first_check_done != self->first_check_done)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FIRST_CHECK_DONE]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_CHECK]);
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
popcheck_mailbox_get_n_without_uid (PopcheckMailbox *self)
{
  g_return_val_if_fail (POPCHECK_IS_MAILBOX (self), 0);
  return self->n_without_uid;
}

void
popcheck_mailbox_set_n_without_uid (PopcheckMailbox *self,
                                    guint            n_without_uid)
{
  g_return_if_fail (POPCHECK_IS_MAILBOX (self));

  if (self->n_without_uid == n_without_uid)
    return;

  self->n_without_uid = n_without_uid;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_WITHOUT_UID]);
}

char *
popcheck_mailbox_describe_without_uid (PopcheckMailbox *self)
{
  g_return_val_if_fail (POPCHECK_IS_MAILBOX (self), NULL);

  if (self->n_without_uid == 0)
    return NULL;

  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                       "The server's unique IDs are broken for "
                                       "%u message. PopCheck lists it by "
                                       "number but cannot delete it.",
                                       "The server's unique IDs are broken "
                                       "for %u messages. PopCheck lists them "
                                       "by number but cannot delete them.",
                                       self->n_without_uid),
                          self->n_without_uid);
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

GDateTime *
popcheck_mailbox_get_next_check (PopcheckMailbox *self)
{
  g_return_val_if_fail (POPCHECK_IS_MAILBOX (self), NULL);
  return self->next_check;
}

void
popcheck_mailbox_set_next_check (PopcheckMailbox *self,
                                 GDateTime       *next_check)
{
  g_return_if_fail (POPCHECK_IS_MAILBOX (self));

  if (self->next_check == next_check ||
      (self->next_check != NULL && next_check != NULL &&
       g_date_time_equal (self->next_check, next_check)))
    return;

  g_clear_pointer (&self->next_check, g_date_time_unref);
  if (next_check != NULL)
    self->next_check = g_date_time_ref (next_check);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NEXT_CHECK]);
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

  g_ptr_array_set_size (self->items, 0);
  g_ptr_array_set_size (self->without_uid, 0);
  g_clear_pointer (&self->by_uid, popcheck_message_index_free);
  popcheck_message_index_remove_all (self->pending);

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
  g_clear_pointer (&self->without_uid, g_ptr_array_unref);
  g_clear_pointer (&self->by_uid, popcheck_message_index_free);
  g_clear_pointer (&self->uids, g_hash_table_unref);
  g_clear_pointer (&self->pending, popcheck_message_index_free);
  g_clear_pointer (&self->last_check, g_date_time_unref);
  g_clear_pointer (&self->next_check, g_date_time_unref);
  g_clear_pointer (&self->details_file, popcheck_summary_file_unref);
  g_clear_pointer (&self->save_waiters, g_ptr_array_unref);
  g_clear_pointer (&self->asked_waiters, g_ptr_array_unref);
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
    case PROP_N_WITHOUT_UID:
      g_value_set_uint (value, self->n_without_uid);
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
    case PROP_NEXT_CHECK:
      g_value_set_boxed (value, self->next_check);
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
  properties[PROP_N_WITHOUT_UID] =
    g_param_spec_uint ("n-without-uid", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[PROP_N_ITEMS] =
    g_param_spec_uint ("n-items", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[PROP_N_NEW] =
    g_param_spec_uint ("n-new", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[PROP_LAST_CHECK] =
    g_param_spec_boxed ("last-check", NULL, NULL, G_TYPE_DATE_TIME, ro);
  properties[PROP_NEXT_CHECK] =
    g_param_spec_boxed ("next-check", NULL, NULL, G_TYPE_DATE_TIME, ro);
  properties[PROP_FIRST_CHECK_DONE] =
    g_param_spec_boolean ("first-check-done", NULL, NULL, FALSE, ro);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
popcheck_mailbox_init (PopcheckMailbox *self)
{
  self->items = g_ptr_array_new_with_free_func (g_object_unref);
  self->without_uid = g_ptr_array_new_with_free_func (g_object_unref);
  self->uids = g_hash_table_new_full (g_str_hash, g_str_equal,
                                      popcheck_uid_unref, NULL);
  self->pending = popcheck_message_index_new ();
  self->rows_unlisted = G_MAXUINT;
  self->slice_usec = SLICE_USEC;
  self->save_waiters = g_ptr_array_new_with_free_func (g_object_unref);
  self->asked_waiters = g_ptr_array_new_with_free_func (g_object_unref);
  g_mutex_init (&self->save_lock);
}
