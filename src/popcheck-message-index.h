/* popcheck-message-index.h: messages found by their UID
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A GHashTable from UID to message costs 20 bytes a slot: the key, the
 * value and the key's hash.  Here the message is its own key, as it holds
 * its UID, so a slot is one pointer: 17 MB rather than 42 for a million
 * messages, which is what a first check of such a mailbox lists.
 */

#pragma once

#include "popcheck-message.h"

G_BEGIN_DECLS

typedef struct _PopcheckMessageIndex PopcheckMessageIndex;

/* The index holds a reference to each message it holds. */
PopcheckMessageIndex *popcheck_message_index_new        (void);
void                  popcheck_message_index_free       (PopcheckMessageIndex *self);

/* Makes room for n messages at once, rather than growing step by step,
 * each step placing every message again. */
void                  popcheck_message_index_reserve    (PopcheckMessageIndex *self,
                                                         guint                 n);
guint                 popcheck_message_index_get_size   (PopcheckMessageIndex *self);
/* Its slots, a pointer each: at least twice its size, and after
 * removals at most eight times (or 8). */
gsize                 popcheck_message_index_get_n_slots (PopcheckMessageIndex *self);
/* NULL when no message of the index has this UID. */
PopcheckMessage      *popcheck_message_index_lookup     (PopcheckMessageIndex *self,
                                                         const char           *uid);
/* Adds message, in place of the one with its UID if there is one. */
void                  popcheck_message_index_replace    (PopcheckMessageIndex *self,
                                                         PopcheckMessage      *message);
/* Adds message unless a message of the index has its UID: FALSE then,
 * and that one stays.  One search, where a lookup and then a replace
 * are two. */
gboolean              popcheck_message_index_add        (PopcheckMessageIndex *self,
                                                         PopcheckMessage      *message);
/* For a walk that looks many UIDs up: each lookup waits on memory three
 * times, for the slot where uid's search starts, the message there and
 * its UID.  Asked for in that order, each some lookups ahead and once the
 * one before is in, they are there when the lookup comes. */
typedef enum
{
  POPCHECK_MESSAGE_INDEX_PREFETCH_SLOT,
  POPCHECK_MESSAGE_INDEX_PREFETCH_MESSAGE,
  POPCHECK_MESSAGE_INDEX_PREFETCH_UID,
} PopcheckMessageIndexPrefetch;

void                  popcheck_message_index_prefetch   (PopcheckMessageIndex        *self,
                                                         const char                  *uid,
                                                         PopcheckMessageIndexPrefetch what);
/* FALSE when no message of the index has this UID. */
gboolean              popcheck_message_index_remove     (PopcheckMessageIndex *self,
                                                         const char           *uid);
/* FALSE when message is not in the index (another of its UID may be). */
gboolean              popcheck_message_index_remove_message (PopcheckMessageIndex *self,
                                                             PopcheckMessage      *message);
/* Removes each of the n messages that is in the index, as many calls of
 * popcheck_message_index_remove_message () would, but waiting less on
 * memory; returns how many were. */
guint                 popcheck_message_index_remove_messages (PopcheckMessageIndex *self,
                                                              PopcheckMessage     **messages,
                                                              guint                 n);
void                  popcheck_message_index_remove_all (PopcheckMessageIndex *self);
/* Empties the index, keeping its references: the caller took them. */
void                  popcheck_message_index_steal_all  (PopcheckMessageIndex *self);

/* Walks the messages, in no order; the index must not change meanwhile. */
typedef struct
{
  PopcheckMessageIndex *index;
  gsize                 position;
} PopcheckMessageIndexIter;

void                  popcheck_message_index_iter_init  (PopcheckMessageIndexIter *iter,
                                                         PopcheckMessageIndex     *index);
gboolean              popcheck_message_index_iter_next  (PopcheckMessageIndexIter *iter,
                                                         PopcheckMessage         **message);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PopcheckMessageIndex, popcheck_message_index_free)

G_END_DECLS
