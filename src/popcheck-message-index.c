/* popcheck-message-index.c: messages found by their UID
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Open addressing with linear probing, at most half full, so that a
 * search ends soon at an empty slot; a removal moves back the messages
 * after it, so no slot is ever marked deleted.  No hash is kept: one is
 * computed again from the UID when the table grows or shrinks.
 */

#include "config.h"

#include <string.h>

#include "popcheck-message-index.h"

#define MIN_BITS 3
/* Half the slots are empty at most: about eight messages ahead. */
#define ITER_PREFETCH_SLOTS 16
/* A bulk removal's steps, each this many removals after the one before;
 * and the starts of searches it keeps, more than the two steps between
 * computing one and using it. */
#define REMOVE_AHEAD       8
#define REMOVE_HOMES       32
/* A run is rarely longer, at most half full. */
#define RUN_PREFETCH_SLOTS 4

struct _PopcheckMessageIndex
{
  PopcheckMessage **slots;
  guint             bits;
  guint             size;
  /* Each index orders its slots its own way: walking one in its order and
   * adding each message to another ordered the same way would put them
   * in one long run, each search longer than the last. */
  guint32           seed;
};

static gsize
n_slots (PopcheckMessageIndex *self)
{
  return (gsize) 1 << self->bits;
}

/* Not g_str_hash (): it mixes little, which GHashTable makes up for by
 * taking its hashes modulo a prime, and a power of two does not.  UIDs
 * that differ in a character or two, as servers count them, are spread
 * by FNV-1a and then MurmurHash3's finaliser. */
static gsize
home_slot (PopcheckMessageIndex *self,
           const char           *uid)
{
  guint32 hash = 2166136261u;

  for (const guchar *c = (const guchar *) uid; *c != '\0'; c++)
    {
      hash ^= *c;
      hash *= 16777619u;
    }
  hash ^= self->seed;
  hash ^= hash >> 16;
  hash *= 0x85ebca6bu;
  hash ^= hash >> 13;
  hash *= 0xc2b2ae35u;
  hash ^= hash >> 16;

  return hash >> (32 - self->bits);
}

static const char *
uid_at (PopcheckMessageIndex *self,
        gsize                 slot)
{
  return popcheck_message_get_uid (self->slots[slot]);
}

/* The slot that holds uid, or the empty slot where it would go. */
static gsize
find_slot (PopcheckMessageIndex *self,
           const char           *uid)
{
  gsize mask = n_slots (self) - 1;
  gsize slot = home_slot (self, uid);

  while (self->slots[slot] != NULL && strcmp (uid_at (self, slot), uid) != 0)
    slot = (slot + 1) & mask;

  return slot;
}

static void
resize (PopcheckMessageIndex *self,
        guint                 bits)
{
  PopcheckMessage **old = self->slots;
  gsize old_n_slots = n_slots (self);

  self->bits = bits;
  self->slots = g_new0 (PopcheckMessage *, n_slots (self));
  for (gsize i = 0; i < old_n_slots; i++)
    if (old[i] != NULL)
      self->slots[find_slot (self, popcheck_message_get_uid (old[i]))] = old[i];
  g_free (old);
}

PopcheckMessageIndex *
popcheck_message_index_new (void)
{
  PopcheckMessageIndex *self = g_new0 (PopcheckMessageIndex, 1);

  self->bits = MIN_BITS;
  self->slots = g_new0 (PopcheckMessage *, n_slots (self));
  self->seed = g_random_int ();

  return self;
}

static void
unref_all (PopcheckMessageIndex *self)
{
  for (gsize i = 0; i < n_slots (self); i++)
    g_clear_object (&self->slots[i]);
  self->size = 0;
}

void
popcheck_message_index_free (PopcheckMessageIndex *self)
{
  if (self == NULL)
    return;

  unref_all (self);
  g_free (self->slots);
  g_free (self);
}

void
popcheck_message_index_reserve (PopcheckMessageIndex *self,
                                guint                 n)
{
  guint bits;

  g_return_if_fail (self != NULL);

  bits = self->bits;
  while (bits < 31 && (gsize) n * 2 > (gsize) 1 << bits)
    bits++;
  if (bits > self->bits)
    resize (self, bits);
}

guint
popcheck_message_index_get_size (PopcheckMessageIndex *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->size;
}

gsize
popcheck_message_index_get_n_slots (PopcheckMessageIndex *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return n_slots (self);
}

PopcheckMessage *
popcheck_message_index_lookup (PopcheckMessageIndex *self,
                               const char           *uid)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (uid != NULL, NULL);

  return self->slots[find_slot (self, uid)];
}

void
popcheck_message_index_prefetch (PopcheckMessageIndex        *self,
                                 const char                  *uid,
                                 PopcheckMessageIndexPrefetch what)
{
  PopcheckMessage **slot;

  g_return_if_fail (self != NULL);
  g_return_if_fail (uid != NULL);

  slot = &self->slots[home_slot (self, uid)];
  if (what == POPCHECK_MESSAGE_INDEX_PREFETCH_SLOT)
    __builtin_prefetch (slot);
  else if (*slot == NULL)
    return;
  else if (what == POPCHECK_MESSAGE_INDEX_PREFETCH_MESSAGE)
    __builtin_prefetch (*slot);
  else
    popcheck_message_prefetch_uid (*slot);
}

/* The slot of message's UID, in an index with room for one more. */
static gsize
find_slot_to_add (PopcheckMessageIndex *self,
                  PopcheckMessage      *message)
{
  if ((gsize) (self->size + 1) * 2 > n_slots (self))
    resize (self, self->bits + 1);

  return find_slot (self, popcheck_message_get_uid (message));
}

gboolean
popcheck_message_index_add (PopcheckMessageIndex *self,
                            PopcheckMessage      *message)
{
  gsize slot;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (POPCHECK_IS_MESSAGE (message), FALSE);

  slot = find_slot_to_add (self, message);
  if (self->slots[slot] != NULL)
    return FALSE;

  self->slots[slot] = g_object_ref (message);
  self->size++;
  return TRUE;
}

void
popcheck_message_index_replace (PopcheckMessageIndex *self,
                                PopcheckMessage      *message)
{
  PopcheckMessage *old;
  gsize slot;

  g_return_if_fail (self != NULL);
  g_return_if_fail (POPCHECK_IS_MESSAGE (message));

  slot = find_slot_to_add (self, message);
  old = self->slots[slot];
  self->slots[slot] = g_object_ref (message);
  if (old != NULL)
    g_object_unref (old);
  else
    self->size++;
}

/* Whether the message at slot, whose search starts at home, is still
 * found from there once the hole is made: it is when home lies
 * (cyclically) after the hole and at or before slot. */
static gboolean
found_past (gsize hole,
            gsize home,
            gsize slot)
{
  if (hole <= slot)
    return hole < home && home <= slot;
  return hole < home || home <= slot;
}

/* Empties the slot hole, moving back the messages after it that would
 * no longer be found; the index keeps its size. */
static void
empty_slot (PopcheckMessageIndex *self,
            gsize                 hole)
{
  gsize mask = n_slots (self) - 1;
  PopcheckMessage *removed = g_steal_pointer (&self->slots[hole]);

  for (gsize slot = (hole + 1) & mask; self->slots[slot] != NULL;
       slot = (slot + 1) & mask)
    {
      gsize home = home_slot (self, uid_at (self, slot));

      if (found_past (hole, home, slot))
        continue;
      self->slots[hole] = g_steal_pointer (&self->slots[slot]);
      hole = slot;
    }
  self->size--;
  g_object_unref (removed);
}

static void
shrink_if_sparse (PopcheckMessageIndex *self)
{
  guint bits = self->bits;

  while (bits > MIN_BITS && (gsize) self->size * 8 < (gsize) 1 << bits)
    bits--;
  if (bits < self->bits)
    resize (self, bits);
}

static void
remove_at (PopcheckMessageIndex *self,
           gsize                 hole)
{
  empty_slot (self, hole);
  shrink_if_sparse (self);
}

gboolean
popcheck_message_index_remove (PopcheckMessageIndex *self,
                               const char           *uid)
{
  gsize slot;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (uid != NULL, FALSE);

  slot = find_slot (self, uid);
  if (self->slots[slot] == NULL)
    return FALSE;

  remove_at (self, slot);
  return TRUE;
}

/* The slot of message, searched from home comparing messages, so that
 * no other UID is read; or the empty slot that ends the search. */
static gsize
find_message_from (PopcheckMessageIndex *self,
                   PopcheckMessage      *message,
                   gsize                 home)
{
  gsize mask = n_slots (self) - 1;
  gsize slot = home;

  while (self->slots[slot] != NULL && self->slots[slot] != message)
    slot = (slot + 1) & mask;

  return slot;
}

gboolean
popcheck_message_index_remove_message (PopcheckMessageIndex *self,
                                       PopcheckMessage      *message)
{
  gsize slot;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (POPCHECK_IS_MESSAGE (message), FALSE);

  slot = find_message_from (self, message,
                            home_slot (self, popcheck_message_get_uid (message)));
  if (self->slots[slot] == NULL)
    return FALSE;

  remove_at (self, slot);
  return TRUE;
}

/* The messages after home in its run, which a removal there reads the
 * UIDs of (at most RUN_PREFETCH_SLOTS): each the message, or its UID
 * once the message is in. */
static void
prefetch_run (PopcheckMessageIndex *self,
              gsize                 home,
              gboolean              uids)
{
  gsize mask = n_slots (self) - 1;

  for (gsize slot = home, n = 0; n < RUN_PREFETCH_SLOTS; slot = (slot + 1) & mask, n++)
    {
      PopcheckMessage *message = self->slots[slot];

      if (message == NULL)
        break;
      if (uids)
        popcheck_message_prefetch_uid (message);
      else
        __builtin_prefetch (message);
    }
}

/* Each removal waits on memory five times in a row: for the message, its
 * UID, the slot where its search starts, and the messages after it in
 * its run and their UIDs.  A walk of ten thousand asks for each of these
 * some removals ahead, once the one before is in; the start of each
 * search is kept from when it is computed until its removal. */
guint
popcheck_message_index_remove_messages (PopcheckMessageIndex *self,
                                        PopcheckMessage     **messages,
                                        guint                 n)
{
  gsize homes[REMOVE_HOMES];
  guint n_removed = 0;

  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (messages != NULL || n == 0, 0);

  for (guint i = 0; i < n && i < 2 * REMOVE_AHEAD; i++)
    homes[i % REMOVE_HOMES] = home_slot (self, popcheck_message_get_uid (messages[i]));

  for (guint i = 0; i < n; i++)
    {
      gsize slot;

      if (i + 4 * REMOVE_AHEAD < n)
        __builtin_prefetch (messages[i + 4 * REMOVE_AHEAD]);
      if (i + 3 * REMOVE_AHEAD < n)
        popcheck_message_prefetch_uid (messages[i + 3 * REMOVE_AHEAD]);
      if (i + 2 * REMOVE_AHEAD < n)
        {
          gsize home = home_slot (self, popcheck_message_get_uid (messages[i + 2 * REMOVE_AHEAD]));

          homes[(i + 2 * REMOVE_AHEAD) % REMOVE_HOMES] = home;
          __builtin_prefetch (&self->slots[home]);
        }
      if (i + REMOVE_AHEAD < n)
        prefetch_run (self, homes[(i + REMOVE_AHEAD) % REMOVE_HOMES], FALSE);
      if (i + REMOVE_AHEAD / 2 < n)
        prefetch_run (self, homes[(i + REMOVE_AHEAD / 2) % REMOVE_HOMES], TRUE);

      slot = find_message_from (self, messages[i], homes[i % REMOVE_HOMES]);
      if (self->slots[slot] == NULL)
        continue;
      /* Shrinking would move every message, and the starts kept. */
      empty_slot (self, slot);
      n_removed++;
    }
  shrink_if_sparse (self);

  return n_removed;
}

/* Empties the index, its references dropped or taken already. */
static void
clear (PopcheckMessageIndex *self)
{
  self->size = 0;
  g_free (self->slots);
  self->bits = MIN_BITS;
  self->slots = g_new0 (PopcheckMessage *, n_slots (self));
}

void
popcheck_message_index_remove_all (PopcheckMessageIndex *self)
{
  g_return_if_fail (self != NULL);

  unref_all (self);
  clear (self);
}

void
popcheck_message_index_steal_all (PopcheckMessageIndex *self)
{
  g_return_if_fail (self != NULL);

  clear (self);
}

void
popcheck_message_index_iter_init (PopcheckMessageIndexIter *iter,
                                  PopcheckMessageIndex     *index)
{
  g_return_if_fail (iter != NULL);
  g_return_if_fail (index != NULL);

  iter->index = index;
  iter->position = 0;
}

gboolean
popcheck_message_index_iter_next (PopcheckMessageIndexIter  *iter,
                                  PopcheckMessage          **message)
{
  PopcheckMessageIndex *self;

  g_return_val_if_fail (iter != NULL, FALSE);

  self = iter->index;
  while (iter->position < n_slots (self))
    {
      PopcheckMessage *found = self->slots[iter->position++];

      if (found != NULL)
        {
          /* A walk of 100,000 messages, each one read by the caller,
           * would wait on memory for each. */
          if (iter->position + ITER_PREFETCH_SLOTS < n_slots (self))
            __builtin_prefetch (self->slots[iter->position + ITER_PREFETCH_SLOTS]);
          *message = found;
          return TRUE;
        }
    }

  return FALSE;
}
