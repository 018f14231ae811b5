/* popcheck-mailbox-store.c: a mailbox's state files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each account's state holds the UIDs ever seen and the summary of every
 * message, so a restart neither announces old mail again nor sends TOP for
 * what it already knows: an index of what the list shows, rewritten by
 * each save, and a details file that saves append to (see INDEX_MAGIC).
 * Both are read and written in threads, the index atomically; an index
 * that cannot be read is set aside, never trusted as a whole (the
 * summaries in it that check out are recovered); one of a newer format
 * is left to the version that wrote it.  A state file of the single-file
 * format before is still read, and the next save replaces it.
 */

#define G_LOG_DOMAIN "popcheck-mailbox"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "pop3-parser.h"
#include "popcheck-idle.h"
#include "popcheck-mailbox-private.h"

/* The state file: a GVariant "(suv)" holding this magic, the format
 * version, and the payload of that version. */
#define STATE_MAGIC          "org.example.PopCheck.MailboxState"
#define STATE_VERSION        1
#define STATE_OUTER_TYPE     "(suv)"
#define STATE_PAYLOAD_TYPE   "(sbxasav)"
/* What each cached summary is, in the payload's "av" (popcheck-message.c
 * writes it): of a message, or of one listed without headers.  Only used
 * to find summaries in a file cut short. */
#define SUMMARY_TYPE         "(ustssssssssasb)"
#define SUMMARY_TYPE_2       "(ustsssssssssa(sst)bb)"
#define HEADERLESS_TYPE      "(ustbu)"
/* Far more than any one summary takes. */
#define SUMMARY_MAX_SIZE     ((gsize) 256 * 1024)
/* No mailbox's state comes near this; a bigger file is not ours. */
#define STATE_MAX_SIZE       ((gsize) 1024 * 1024 * 1024)

G_DEFINE_QUARK (popcheck-mailbox-error-quark, popcheck_mailbox_error)

/* A file name must stay well inside NAME_MAX. */
#define MAX_ESCAPED_LENGTH   192

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

static void
loaded_state_free (PopcheckMailboxLoadedState *state)
{
  g_clear_pointer (&state->seen, g_hash_table_unref);
  g_clear_pointer (&state->messages, g_ptr_array_unref);
  g_clear_pointer (&state->fetched, g_ptr_array_unref);
  g_clear_pointer (&state->details_file, popcheck_summary_file_unref);
  g_clear_pointer (&state->by_uid, popcheck_message_index_free);
  g_free (state);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PopcheckMailboxLoadedState, loaded_state_free)

static PopcheckMailboxLoadedState *
loaded_state_new (void)
{
  PopcheckMailboxLoadedState *state = g_new0 (PopcheckMailboxLoadedState, 1);

  /* It becomes the mailbox's table of UIDs: shared UIDs, its messages'
   * own where it can. */
  state->seen = g_hash_table_new_full (g_str_hash, g_str_equal,
                                       popcheck_uid_unref, NULL);
  state->messages = g_ptr_array_new_with_free_func (g_object_unref);
  state->fetched = g_ptr_array_new_with_free_func (g_object_unref);
  state->by_uid = popcheck_message_index_new ();

  return state;
}

/* A summary read from a state file, taken: the first of its UID only
 * (@fetched_uids holds those of the fetched ones).  Every listed message
 * is seen; one that is not was fetched by a check that did not end, and
 * waits for the next one, which lists it (and announces it, if it is
 * new). */
static void
loaded_state_add (PopcheckMailboxLoadedState *state,
                  GHashTable                 *fetched_uids,
                  PopcheckMessage            *message,
                  gboolean                    seen)
{
  const char *uid = popcheck_message_get_uid (message);

  /* fetched_uids is empty but after a check that did not end: no need
   * to hash each UID for it. */
  if (g_hash_table_size (fetched_uids) > 0 &&
      g_hash_table_contains (fetched_uids, uid))
    g_object_unref (message);
  else if (seen && popcheck_message_index_add (state->by_uid, message))
    g_ptr_array_add (state->messages, message);
  else if (!seen && popcheck_message_index_lookup (state->by_uid, uid) == NULL)
    {
      g_hash_table_add (fetched_uids, (gpointer) uid);
      g_ptr_array_add (state->fetched, message);
    }
  else
    g_object_unref (message);
}

/* A file that says "never checked" cannot hold summaries of a check that
 * ended, only what the first one fetched before it stopped. */
static PopcheckMailboxLoadedState *
loaded_state_finish (PopcheckMailboxLoadedState *state)
{
  if (!state->first_check_done)
    {
      g_hash_table_remove_all (state->seen);
      popcheck_message_index_remove_all (state->by_uid);
      g_ptr_array_set_size (state->messages, 0);
    }

  return state;
}

/* A summary recovered from a damaged file, taken: what the last check
 * listed, so seen; the first of its UID only. */
static void
loaded_state_add_salvaged (PopcheckMailboxLoadedState *state,
                           PopcheckMessage            *message)
{
  const char *uid = popcheck_message_get_uid (message);

  if (g_hash_table_contains (state->seen, uid))
    {
      g_object_unref (message);
      return;
    }

  g_hash_table_add (state->seen, popcheck_message_ref_uid (message));
  popcheck_message_index_replace (state->by_uid, message);
  g_ptr_array_add (state->messages, message);
}

/* The recovered state, if anything was. */
static PopcheckMailboxLoadedState *
salvaged_state_finish (PopcheckMailboxLoadedState *state,
                       gint64                      last_check)
{
  if (state->messages->len == 0)
    {
      loaded_state_free (state);
      return NULL;
    }

  state->first_check_done = TRUE;
  state->last_check = last_check;
  return state;
}

/* The file is little-endian wherever it was written. */
static GVariant *
variant_from_file (const char *type,
                   GBytes     *bytes)
{
  GVariant *variant = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE (type),
                                                                    bytes, FALSE));

  if (G_BYTE_ORDER == G_BIG_ENDIAN)
    {
      GVariant *swapped = g_variant_byteswap (variant);

      g_variant_unref (variant);
      variant = swapped;
    }

  return variant;
}

/* Parses a state file; on failure, *reason says why in a few words and
 * *newer whether a newer PopCheck wrote it. */
static PopcheckMailboxLoadedState *
parse_state (GBytes               *bytes,
             PopcheckSummaryFile  *file,
             const char           *account_id,
             const char          **reason,
             gboolean             *newer)
{
  g_autoptr(PopcheckMailboxLoadedState) state = loaded_state_new ();
  g_autoptr(GVariant) outer = NULL;
  g_autoptr(GVariant) payload_box = NULL;
  g_autoptr(GVariant) payload = NULL;
  g_autoptr(GVariantIter) seen = NULL;
  g_autoptr(GVariantIter) messages = NULL;
  g_autoptr(GHashTable) fetched_uids = NULL;
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

  outer = variant_from_file (STATE_OUTER_TYPE, bytes);

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
      *newer = TRUE;
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
      g_hash_table_add (state->seen, popcheck_uid_new (uid));

  /* A swapped copy is not where the file has it. */
  if (G_BYTE_ORDER == G_BIG_ENDIAN)
    file = NULL;

  fetched_uids = g_hash_table_new (g_str_hash, g_str_equal);
  while ((child = g_variant_iter_next_value (messages)) != NULL)
    {
      g_autoptr(GVariant) boxed = child;
      g_autoptr(GError) error = NULL;
      g_autoptr(PopcheckMessage) message = NULL;
      const guint8 *at = g_variant_get_data (boxed);
      const guint8 *base = g_bytes_get_data (bytes, NULL);
      const char *message_uid;

      /* One unreadable summary costs one TOP at the next check, not the
       * whole state.  The list keeps only what it shows of each; the rest
       * is read from the file when the preview needs it. */
      if (file != NULL && at >= base &&
          at + g_variant_get_size (boxed) <= base + g_bytes_get_size (bytes))
        message = popcheck_message_new_from_cache (boxed, file, at - base, &error);
      else
        {
          g_autoptr(GVariant) inner = g_variant_get_variant (boxed);

          message = popcheck_message_new_from_variant (inner, &error);
        }
      if (message == NULL)
        {
          g_debug ("Account %s: dropping a cached summary: %s",
                   account_id, error->message);
          continue;
        }

      message_uid = popcheck_message_get_uid (message);
      loaded_state_add (state, fetched_uids, g_steal_pointer (&message),
                        g_hash_table_contains (state->seen, message_uid));
    }

  return loaded_state_finish (g_steal_pointer (&state));
}

/* The summary that ends at @end (where its variant's type string
 * begins), at the latest start from @lowest; or NULL. */
static PopcheckMessage *
salvage_summary (GBytes     *bytes,
                 const char *type,
                 gsize       lowest,
                 gsize       end)
{
  gsize start = end & ~(gsize) 7;

  if (end - lowest > SUMMARY_MAX_SIZE)
    lowest = end - SUMMARY_MAX_SIZE;

  /* Variants in an "av" start at multiples of 8; the nearest start that
   * makes a summary in normal form is the one, as any other would move
   * its framing offsets. */
  while (start >= lowest && start > 0)
    {
      g_autoptr(GBytes) slice = g_bytes_new_from_bytes (bytes, start, end - start);
      g_autoptr(GVariant) variant = variant_from_file (type, slice);

      if (g_variant_is_normal_form (variant))
        {
          PopcheckMessage *message = popcheck_message_new_from_variant (variant, NULL);

          if (message != NULL)
            return message;
        }

      start -= 8;
    }

  return NULL;
}

/* The type string of a summary, if one is at @end: each summary in the
 * payload's "av" ends with a NUL and its type string. */
static const char *
summary_type_at (const guint8 *data,
                 gsize         size,
                 gsize         end)
{
  static const char * const types[] = {
    SUMMARY_TYPE_2, SUMMARY_TYPE, HEADERLESS_TYPE
  };

  if (data[end] != '\0')
    return NULL;

  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    {
      gsize len = strlen (types[i]);

      if (end + 1 + len <= size && memcmp (data + end + 1, types[i], len) == 0)
        return types[i];
    }

  return NULL;
}

/* A state file cut short (a full disk, a copy that stopped) loses the
 * framing that GVariant keeps at the end, and with it the whole file; but
 * the summaries before the cut are still there, one after the other, each
 * ending with its type string.  They are what the last check listed, with
 * their "new" marks: recovered, each checked as a whole, so the next check
 * need only announce what they do not tell about. */
static PopcheckMailboxLoadedState *
salvage_state (GBytes     *bytes,
               const char *account_id)
{
  g_autoptr(PopcheckMailboxLoadedState) state = loaded_state_new ();
  gsize size = 0;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  gsize magic_size = strlen (STATE_MAGIC) + 1;
  gsize id_size = strlen (account_id) + 1;
  /* "(suv)": the magic, the version at 4, the payload at 8; then
   * "(sbxasav)": the account, first_check_done, last_check at 8. */
  gsize version_at = (magic_size + 3) & ~(gsize) 3;
  gsize payload_at = (version_at + 4 + 7) & ~(gsize) 7;
  gsize last_check_at = (payload_at + id_size + 1 + 7) & ~(gsize) 7;
  gsize next = last_check_at + 8;
  guint32 version;
  gint64 last_check;

  if (size < next ||
      memcmp (data, STATE_MAGIC, magic_size) != 0 ||
      memcmp (data + payload_at, account_id, id_size) != 0 ||
      data[payload_at + id_size] != 1)
    return NULL;
  memcpy (&version, data + version_at, sizeof version);
  if (GUINT32_FROM_LE (version) != STATE_VERSION)
    return NULL;
  memcpy (&last_check, data + last_check_at, sizeof last_check);

  for (gsize end = next; end < size; end++)
    {
      g_autoptr(PopcheckMessage) message = NULL;
      const char *type = summary_type_at (data, size, end);

      if (type == NULL)
        continue;

      message = salvage_summary (bytes, type, next, end);
      if (message == NULL)
        continue;

      loaded_state_add_salvaged (state, g_steal_pointer (&message));
      next = end + 1 + strlen (type);
    }

  return salvaged_state_finish (g_steal_pointer (&state),
                                GINT64_FROM_LE (last_check));
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

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PopcheckSummaryFile, popcheck_summary_file_unref)

/* Reading or writing a state file of 100,000 summaries allocates and frees
 * as much again as the summaries keep, in small pieces between them: the
 * freed pages stay with the process unless they are handed back. */
static void
release_free_memory (void)
{
#ifdef __GLIBC__
  malloc_trim (0);
#endif
}

static void
set_error_from_errno (GError    **error,
                      const char *what,
                      const char *path)
{
  int saved_errno = errno;

  g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
               "Could not %s %s: %s", what, path, g_strerror (saved_errno));
}

/* The state since the index: two files.  The index (ESCAPED.state) holds
 * what the list shows of each summary, the UIDs seen and the account's
 * marks; a save writes it whole.  The details (ESCAPED.details-ID) hold
 * each summary whole, as a boxed "v" as in the single file before; a save
 * only appends the new ones, and rewrites the file only when more than
 * half of it is no longer pointed at.  ID is random, new for each details
 * file, and named in the index: an index never reads another file's bytes,
 * and a crash before the new index is in place leaves the old pair whole.
 *
 * The index, little-endian: INDEX_MAGIC, a u32 version, then frames (a
 * u32 length, a u32 check of the payload, the payload): the header, one
 * per summary, then the UIDs seen that no summary stands for; INDEX_END
 * last.  A frame either checks out whole or is not used. */
#define INDEX_MAGIC          "PopCheck index\n"
#define INDEX_MAGIC_SIZE     16
#define INDEX_VERSION        1
#define INDEX_END            "PopCheck end\n"
#define INDEX_END_SIZE       14
#define DETAILS_MAGIC        "PopCheck details"
#define DETAILS_MAGIC_SIZE   16
/* The magic, a u32 version, a u32 of zeroes, the u64 id. */
#define DETAILS_HEADER_SIZE  32
#define DETAILS_VERSION      1
/* Garbage in a smaller details file is not worth a rewrite. */
#define COMPACT_MIN_SIZE     ((guint64) 1024 * 1024)
/* What a save hands the details file at a time. */
#define APPEND_CHUNK         ((gsize) 4 * 1024 * 1024)
/* UTC offsets beyond any real zone's are damage. */
#define MAX_UTC_OFFSET       (26 * 3600)

/* The index header's flags. */
enum
{
  INDEX_FIRST_CHECK_DONE = 1 << 0,
};

enum
{
  RECORD_HEADERS_KNOWN          = 1 << 0,
  RECORD_NEW                    = 1 << 1,
  RECORD_ATTACHMENTS_INCOMPLETE = 1 << 2,
  RECORD_HAS_DATE               = 1 << 3,
  RECORD_SEEN                   = 1 << 4,
};

/* Not a cryptographic hash: it only tells bytes that changed from bytes
 * that did not, a word at a time, so checking 100,000 records costs
 * next to nothing. */
static guint32
frame_check (const guint8 *data,
             gsize         len)
{
  guint64 hash = G_GUINT64_CONSTANT (0x9E3779B97F4A7C15) ^ len;
  gsize i = 0;

  for (; i + 8 <= len; i += 8)
    {
      guint64 word;

      memcpy (&word, data + i, sizeof word);
      hash = (hash ^ GUINT64_FROM_LE (word)) * G_GUINT64_CONSTANT (0xFF51AFD7ED558CCD);
      hash ^= hash >> 32;
    }
  for (; i < len; i++)
    {
      hash = (hash ^ data[i]) * G_GUINT64_CONSTANT (0xC4CEB9FE1A85EC53);
      hash ^= hash >> 32;
    }

  return (guint32) hash;
}

static void
put_u32 (GByteArray *out,
         guint32     value)
{
  value = GUINT32_TO_LE (value);
  g_byte_array_append (out, (const guint8 *) &value, sizeof value);
}

static void
put_u64 (GByteArray *out,
         guint64     value)
{
  value = GUINT64_TO_LE (value);
  g_byte_array_append (out, (const guint8 *) &value, sizeof value);
}

static void
put_string (GByteArray *out,
            const char *text)
{
  if (text == NULL)
    text = "";
  g_byte_array_append (out, (const guint8 *) text, strlen (text) + 1);
}

/* A frame whose length and check end_frame() fills in. */
static gsize
begin_frame (GByteArray *out)
{
  gsize at = out->len;

  put_u32 (out, 0);
  put_u32 (out, 0);
  return at;
}

static void
close_frame (GByteArray *out,
             gsize       at,
             gsize       end)
{
  guint32 length = end - at - 8;
  guint32 check = frame_check (out->data + at + 8, length);

  length = GUINT32_TO_LE (length);
  check = GUINT32_TO_LE (check);
  memcpy (out->data + at, &length, sizeof length);
  memcpy (out->data + at + 4, &check, sizeof check);
}

static void
end_frame (GByteArray *out,
           gsize       at)
{
  close_frame (out, at, out->len);
}

typedef struct
{
  const guint8 *data;
  gsize         size;
  gsize         at;
} Reader;

static gboolean
read_raw (Reader   *reader,
          gpointer  value,
          gsize     size)
{
  if (reader->size - reader->at < size)
    return FALSE;
  memcpy (value, reader->data + reader->at, size);
  reader->at += size;
  return TRUE;
}

static gboolean
read_u32 (Reader  *reader,
          guint32 *value)
{
  if (!read_raw (reader, value, sizeof *value))
    return FALSE;
  *value = GUINT32_FROM_LE (*value);
  return TRUE;
}

static gboolean
read_u64 (Reader  *reader,
          guint64 *value)
{
  if (!read_raw (reader, value, sizeof *value))
    return FALSE;
  *value = GUINT64_FROM_LE (*value);
  return TRUE;
}

/* A NUL-terminated string inside the payload, borrowed. */
static gboolean
read_string (Reader      *reader,
             const char **text)
{
  const guint8 *nul = memchr (reader->data + reader->at, '\0',
                              reader->size - reader->at);

  if (nul == NULL)
    return FALSE;
  *text = (const char *) reader->data + reader->at;
  reader->at = nul - reader->data + 1;
  return TRUE;
}

#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
/* Set by the fuzzer, so that mutated frames reach the parser. */
gboolean popcheck_mailbox_fuzzing_skips_checks;
#define SKIPS_CHECKS popcheck_mailbox_fuzzing_skips_checks
#else
#define SKIPS_CHECKS FALSE
#endif

/* The next frame's payload, if it checks out. */
static gboolean
read_frame (Reader *reader,
            Reader *payload)
{
  guint32 length, check;

  if (!read_u32 (reader, &length) || !read_u32 (reader, &check) ||
      length > reader->size - reader->at ||
      (!SKIPS_CHECKS &&
       frame_check (reader->data + reader->at, length) != check))
    return FALSE;

  payload->data = reader->data + reader->at;
  payload->size = length;
  payload->at = 0;
  reader->at += length;
  return TRUE;
}

/* The length of index_path without its ".state". */
static int
state_stem_length (const char *index_path)
{
  gsize stem = strlen (index_path);

  if (g_str_has_suffix (index_path, ".state"))
    stem -= strlen (".state");

  return (int) stem;
}

static char *
details_path_for (const char *index_path,
                  guint64     id)
{
  return g_strdup_printf ("%.*s.details-%016" G_GINT64_MODIFIER "x",
                          state_stem_length (index_path), index_path, id);
}

static char *
lock_path_for (const char *index_path)
{
  return g_strdup_printf ("%.*s.lock", state_stem_length (index_path),
                          index_path);
}

/* The app and popcheck-cli may save one account at the same time.  Each
 * save appends where the details file ends and then replaces the index,
 * so they take turns: the second appends after what the first wrote, and
 * never where the first is writing.  A load waits for a save to be
 * complete, so the details file its index names is still there; it makes
 * no lock file (reading for a report writes nothing), and there is none
 * to wait on before the first save.  Returns the descriptor whose closing
 * ends the turn, or -1 where there is no lock file or the file system
 * cannot lock; saving then goes on as in one process. */
static int
lock_state (const char *index_path,
            int         operation)
{
  g_autofree char *path = lock_path_for (index_path);
  int fd = g_open (path, O_CLOEXEC | (operation == LOCK_EX ? O_RDWR | O_CREAT
                                                          : O_RDONLY),
                   0600);

  if (fd < 0)
    return -1;
  while (flock (fd, operation) != 0)
    if (errno != EINTR)
      {
        g_debug ("Could not lock %s: %s", path, g_strerror (errno));
        g_close (fd, NULL);
        return -1;
      }

  return fd;
}

static void
unlock_state (int fd)
{
  if (fd >= 0)
    g_close (fd, NULL);
}

char *
popcheck_mailbox_dup_details_path (PopcheckMailbox *self)
{
  g_autofree char *index_path = NULL;

  g_return_val_if_fail (POPCHECK_IS_MAILBOX (self), NULL);

  if (self->details_file == NULL)
    return NULL;

  index_path = popcheck_mailbox_dup_state_path (self);
  return details_path_for (index_path, self->details_id);
}

static void
put_details_header (guint8  header[DETAILS_HEADER_SIZE],
                    guint64 id)
{
  guint32 version = GUINT32_TO_LE (DETAILS_VERSION);

  memset (header, 0, DETAILS_HEADER_SIZE);
  memcpy (header, DETAILS_MAGIC, DETAILS_MAGIC_SIZE);
  memcpy (header + 16, &version, sizeof version);
  id = GUINT64_TO_LE (id);
  memcpy (header + 24, &id, sizeof id);
}

/* The details file @id of the index at @index_path, held open.  One that
 * is missing or is not that file still gives a file, which every read
 * fails: the list is whole, and a preview says it cannot read the rest. */
static PopcheckSummaryFile *
open_details (const char *index_path,
              guint64     id)
{
  g_autofree char *path = details_path_for (index_path, id);
  guint8 expected[DETAILS_HEADER_SIZE];
  guint8 header[DETAILS_HEADER_SIZE];
  int fd;

  fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    {
      g_debug ("No details file %s: %s", path, g_strerror (errno));
      return popcheck_summary_file_new (-1);
    }

  put_details_header (expected, id);
  if (pread (fd, header, sizeof header, 0) != sizeof header ||
      memcmp (header, expected, sizeof header) != 0)
    {
      g_debug ("%s is not the details file its index names", path);
      g_close (fd, NULL);
      return popcheck_summary_file_new (-1);
    }

  return popcheck_summary_file_new (fd);
}

/* Time zones of fixed offsets, one per offset rather than per message. */
static GDateTime *
date_from_record (GHashTable *zones,
                  gint64      unix_time,
                  gint32      utc_offset)
{
  g_autoptr(GDateTime) utc = NULL;
  GTimeZone *zone;

  if (utc_offset < -MAX_UTC_OFFSET || utc_offset > MAX_UTC_OFFSET)
    return NULL;

  utc = g_date_time_new_from_unix_utc (unix_time);
  if (utc == NULL)
    return NULL;

  zone = g_hash_table_lookup (zones, GINT_TO_POINTER (utc_offset));
  if (zone == NULL)
    {
      zone = g_time_zone_new_offset (utc_offset);
      g_hash_table_insert (zones, GINT_TO_POINTER (utc_offset), zone);
    }

  return g_date_time_to_timezone (utc, zone);
}

/* A block of zeroed memory whose pages are made at once, in the mmap()
 * call, rather than one fault at a time as they are first written: a
 * state file of 100,000 summaries read whole took 4,800 faults, and a
 * save's snapshot of as many messages 800, on the main loop; each is
 * costly in a virtual machine. */
typedef struct
{
  gpointer data;
  /* Of the mapping; 0 for memory from g_malloc0() where mmap() failed. */
  gsize    mapped;
} Block;

static void
block_free (gpointer data)
{
  Block *block = data;

  if (block->mapped > 0)
    munmap (block->data, block->mapped);
  else
    g_free (block->data);
  g_free (block);
}

static Block *
block_new (gsize size)
{
  Block *block = g_new0 (Block, 1);
  void *data = MAP_FAILED;

#ifdef MAP_POPULATE
  if (size > 0)
    data = mmap (NULL, size, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
#endif
  if (data != MAP_FAILED)
    {
      block->data = data;
      block->mapped = size;
    }
  else
    block->data = g_malloc0 (MAX (size, 1));

  return block;
}

/* An arena with room for the strings of a record of @record_size bytes
 * (its strings take no more than that): the current one, or a new one
 * for what is left of the index, in steps small enough that a mailbox
 * which loses most of its messages does not keep much of it. */
#define ARENA_STEP ((gsize) 1024 * 1024)

static PopcheckStringArena *
arena_for_record (PopcheckStringArena **arena,
                  gsize                 record_size,
                  gsize                 bytes_left)
{
  Block *block;
  gsize page;
  gsize size;

  if (*arena != NULL && popcheck_string_arena_get_free (*arena) >= record_size)
    return *arena;

  page = sysconf (_SC_PAGESIZE);
  size = MAX (record_size, MIN (bytes_left, ARENA_STEP));
  size = (size + page - 1) / page * page;
  block = block_new (size);
  g_clear_pointer (arena, popcheck_string_arena_unref);
  *arena = popcheck_string_arena_new (block->data, size, block_free, block);
  return *arena;
}

/* One summary's frame, its strings in *@arena; *seen says whether its UID
 * is among the seen. */
static PopcheckMessage *
message_from_record (Reader               *payload,
                     PopcheckSummaryFile  *details,
                     GHashTable           *zones,
                     PopcheckStringArena  *arena,
                     gboolean             *seen,
                     GError              **error)
{
  PopcheckListedSummary listed = { NULL, };
  g_autoptr(GDateTime) date = NULL;
  guint64 offset, unix_time;
  guint32 length, refusals, utc_offset, flags;

  if (!read_u64 (payload, &listed.size) ||
      !read_u64 (payload, &offset) ||
      !read_u32 (payload, &length) ||
      !read_u32 (payload, &refusals) ||
      !read_u64 (payload, &unix_time) ||
      !read_u32 (payload, &utc_offset) ||
      !read_u32 (payload, &flags) ||
      !read_string (payload, &listed.uid) ||
      !read_string (payload, &listed.from) ||
      !read_string (payload, &listed.from_name) ||
      !read_string (payload, &listed.from_address) ||
      !read_string (payload, &listed.subject) ||
      !read_string (payload, &listed.message_id))
    {
      g_set_error_literal (error, POPCHECK_MESSAGE_ERROR,
                           POPCHECK_MESSAGE_ERROR_INVALID_CACHE,
                           "A summary in the index is cut short");
      return NULL;
    }

  if (flags & RECORD_HAS_DATE)
    date = date_from_record (zones, (gint64) unix_time, (gint32) utc_offset);
  listed.date = date;
  listed.headers_known = (flags & RECORD_HEADERS_KNOWN) != 0;
  listed.top_refusals = refusals;
  listed.attachments_incomplete = (flags & RECORD_ATTACHMENTS_INCOMPLETE) != 0;
  listed.is_new = (flags & RECORD_NEW) != 0;
  *seen = (flags & RECORD_SEEN) != 0;

  return popcheck_message_new_listed (&listed, details, offset, length, arena,
                                      error);
}

typedef struct
{
  guint32     flags;
  gint64      last_check;
  guint64     details_id;
  guint32     n_records;
} IndexHeader;

/* The magic, the version and the header frame; *reason and *newer as for
 * parse_state(). */
static gboolean
read_index_header (Reader       *reader,
                   const char   *account_id,
                   IndexHeader  *header,
                   const char  **reason,
                   gboolean     *newer)
{
  Reader payload;
  guint32 version = 0;
  const char *file_account_id;

  reader->at = INDEX_MAGIC_SIZE;
  if (!read_u32 (reader, &version))
    {
      *reason = "damaged index";
      return FALSE;
    }
  if (version > INDEX_VERSION)
    {
      *reason = "written by a newer version of PopCheck";
      *newer = TRUE;
      return FALSE;
    }
  if (version != INDEX_VERSION)
    {
      *reason = "unsupported format version";
      return FALSE;
    }

  if (!read_frame (reader, &payload) ||
      !read_u32 (&payload, &header->flags) ||
      !read_u64 (&payload, (guint64 *) &header->last_check) ||
      !read_u64 (&payload, &header->details_id) ||
      !read_u32 (&payload, &header->n_records) ||
      !read_string (&payload, &file_account_id))
    {
      *reason = "damaged index";
      return FALSE;
    }
  if (g_strcmp0 (file_account_id, account_id) != 0)
    {
      *reason = "the file belongs to another account";
      return FALSE;
    }

  return TRUE;
}

static gboolean
is_index (GBytes *bytes)
{
  return g_bytes_get_size (bytes) >= INDEX_MAGIC_SIZE &&
         memcmp (g_bytes_get_data (bytes, NULL), INDEX_MAGIC, INDEX_MAGIC_SIZE) == 0;
}

/* An index and its details file.  Any frame that does not check out makes
 * the whole index unreadable, for salvage_index() to recover from. */
static PopcheckMailboxLoadedState *
parse_index (GBytes      *bytes,
             const char  *index_path,
             const char  *account_id,
             const char **reason,
             gboolean    *newer)
{
  g_autoptr(PopcheckMailboxLoadedState) state = loaded_state_new ();
  g_autoptr(GHashTable) fetched_uids = NULL;
  g_autoptr(GHashTable) zones = NULL;
  g_autoptr(PopcheckStringArena) arena = NULL;
  Reader reader = { NULL, };
  Reader payload;
  IndexHeader header;
  const char *uid;

  reader.data = g_bytes_get_data (bytes, &reader.size);
  if (!read_index_header (&reader, account_id, &header, reason, newer))
    return NULL;

  state->first_check_done = (header.flags & INDEX_FIRST_CHECK_DONE) != 0;
  state->last_check = header.last_check;
  state->details_id = header.details_id;
  state->details_file = open_details (index_path, header.details_id);

  fetched_uids = g_hash_table_new (g_str_hash, g_str_equal);
  zones = g_hash_table_new_full (NULL, NULL, NULL,
                                 (GDestroyNotify) g_time_zone_unref);
  /* As many as the file says, but no more than its frames (8 bytes each
   * at least) could hold: a damaged count must not reserve gigabytes. */
  popcheck_message_index_reserve (state->by_uid,
                                  MIN (header.n_records,
                                       (reader.size - reader.at) / 8));
  for (guint32 i = 0; i < header.n_records; i++)
    {
      g_autoptr(PopcheckMessage) message = NULL;
      g_autoptr(GError) error = NULL;
      gboolean seen = FALSE;

      if (!read_frame (&reader, &payload))
        {
          *reason = "damaged index";
          return NULL;
        }

      message = message_from_record (&payload, state->details_file, zones,
                                     arena_for_record (&arena, payload.size,
                                                       reader.size - reader.at),
                                     &seen, &error);
      if (message == NULL)
        {
          g_debug ("Account %s: dropping a cached summary: %s",
                   account_id, error->message);
          continue;
        }

      if (seen)
        g_hash_table_add (state->seen, popcheck_message_ref_uid (message));
      loaded_state_add (state, fetched_uids, g_steal_pointer (&message), seen);
    }

  if (!read_frame (&reader, &payload))
    {
      *reason = "damaged index";
      return NULL;
    }
  while (payload.at < payload.size && read_string (&payload, &uid))
    if (pop3_uid_is_valid (uid))
      g_hash_table_add (state->seen, popcheck_uid_new (uid));

  if (reader.size - reader.at != INDEX_END_SIZE ||
      memcmp (reader.data + reader.at, INDEX_END, INDEX_END_SIZE) != 0)
    {
      *reason = "damaged index";
      return NULL;
    }

  return loaded_state_finish (g_steal_pointer (&state));
}

/* An index cut short or damaged: the summaries before the first frame
 * that does not check out, each whole, as salvage_state() recovers them
 * from the single file; what they do not tell about is announced. */
static PopcheckMailboxLoadedState *
salvage_index (GBytes     *bytes,
               const char *index_path,
               const char *account_id)
{
  g_autoptr(PopcheckMailboxLoadedState) state = loaded_state_new ();
  g_autoptr(GHashTable) zones = NULL;
  g_autoptr(PopcheckStringArena) arena = NULL;
  g_autoptr(GHashTable) fetched_uids = g_hash_table_new (g_str_hash,
                                                         g_str_equal);
  Reader reader = { NULL, };
  Reader payload;
  IndexHeader header;
  const char *reason = NULL;
  gboolean newer = FALSE;

  reader.data = g_bytes_get_data (bytes, &reader.size);
  if (!is_index (bytes) ||
      !read_index_header (&reader, account_id, &header, &reason, &newer) ||
      (header.flags & INDEX_FIRST_CHECK_DONE) == 0)
    return NULL;

  state->details_id = header.details_id;
  state->details_file = open_details (index_path, header.details_id);
  zones = g_hash_table_new_full (NULL, NULL, NULL,
                                 (GDestroyNotify) g_time_zone_unref);

  for (guint32 i = 0; i < header.n_records && read_frame (&reader, &payload); i++)
    {
      g_autoptr(PopcheckMessage) message = NULL;
      gboolean seen = FALSE;

      message = message_from_record (&payload, state->details_file, zones,
                                     arena_for_record (&arena, payload.size,
                                                       reader.size - reader.at),
                                     &seen, NULL);
      /* Unlike the single file, each record says whether it was
       * announced: one a check fetched and did not get to announce
       * still will be. */
      if (message == NULL)
        continue;
      if (!seen)
        loaded_state_add (state, fetched_uids, g_steal_pointer (&message),
                          FALSE);
      else if (!g_hash_table_contains (fetched_uids,
                                       popcheck_message_get_uid (message)))
        loaded_state_add_salvaged (state, g_steal_pointer (&message));
    }

  return salvaged_state_finish (g_steal_pointer (&state), header.last_check);
}

/* The file's pages as the page cache holds them, mapped at once: no
 * copy and no fault per page.  Only PopCheck writes these files, and
 * never in place (a save renames a new file over the old one), so the
 * mapping does not shrink under the reader; NULL where mmap() fails,
 * for the file to be read. */
static Block *
block_map_file (int   fd,
                gsize length)
{
  Block *block;
  void *data = MAP_FAILED;

#ifdef MAP_POPULATE
  if (length > 0)
    data = mmap (NULL, length, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
#endif
  if (data == MAP_FAILED)
    return NULL;

  block = g_new0 (Block, 1);
  block->data = data;
  block->mapped = length;
  return block;
}

/* The whole file, and the file kept open: the summaries' details are read
 * from it again when asked for, even after a save renamed another file
 * over its name. */
static GBytes *
read_state_file (const char           *path,
                 PopcheckSummaryFile **file,
                 GError              **error)
{
  g_autoptr(PopcheckSummaryFile) opened = NULL;
  Block *buffer;
  char *contents;
  GStatBuf info;
  gsize length, done = 0;
  int fd;

  fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    {
      set_error_from_errno (error, "open", path);
      return NULL;
    }
  opened = popcheck_summary_file_new (fd);

  if (fstat (fd, &info) != 0)
    {
      set_error_from_errno (error, "read", path);
      return NULL;
    }
  /* parse_state() turns away what is too large to be ours. */
  length = MIN ((guint64) info.st_size, STATE_MAX_SIZE + 1);
  buffer = block_map_file (fd, length);
  if (buffer != NULL)
    {
      *file = g_steal_pointer (&opened);
      return g_bytes_new_with_free_func (buffer->data, length, block_free, buffer);
    }
  buffer = block_new (length);
  contents = buffer->data;
  while (done < length)
    {
      gssize n = read (fd, contents + done, length - done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          set_error_from_errno (error, "read", path);
          block_free (buffer);
          return NULL;
        }
      if (n == 0)
        break;
      done += n;
    }

  *file = g_steal_pointer (&opened);
  return g_bytes_new_with_free_func (contents, done, block_free, buffer);
}

typedef struct
{
  char     *path;
  char     *account_id;
  gboolean  for_reading;
} LoadData;

static void
load_data_free (LoadData *data)
{
  g_free (data->path);
  g_free (data->account_id);
  g_free (data);
}

static void
load_locked (GTask           *task,
             PopcheckMailbox *self,
             LoadData        *data)
{
  const char *path = data->path;
  const char *account_id = data->account_id;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(PopcheckMailboxLoadedState) state = NULL;
  g_autoptr(PopcheckSummaryFile) file = NULL;
  const char *reason = NULL;
  gboolean newer = FALSE;

  bytes = read_state_file (path, &file, &error);
  if (bytes == NULL)
    {
      if (g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          state = loaded_state_new ();
          popcheck_mailbox_prepare_loaded_state (self, state);
          g_task_return_pointer (task, g_steal_pointer (&state),
                                 (GDestroyNotify) loaded_state_free);
        }
      else
        g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (is_index (bytes))
    state = parse_index (bytes, path, account_id, &reason, &newer);
  else
    state = parse_state (bytes, file, account_id, &reason, &newer);
  if (state != NULL)
    {
      g_clear_pointer (&bytes, g_bytes_unref);
      release_free_memory ();
    }

  /* A newer PopCheck's file is that version's to read: moving it aside
   * would make it start from scratch and announce nothing it should. */
  if (state == NULL && newer)
    {
      g_task_return_new_error (task, POPCHECK_MAILBOX_ERROR,
                               POPCHECK_MAILBOX_ERROR_NEWER_FORMAT,
                               _("The saved state of this account was "
                                 "written by a newer version of PopCheck. "
                                 "It is left as it is; check this account "
                                 "with that version."));
      return;
    }
  /* Whoever only reads has no business moving files. */
  if (state == NULL && data->for_reading)
    {
      g_task_return_new_error (task, POPCHECK_MAILBOX_ERROR,
                               POPCHECK_MAILBOX_ERROR_UNREADABLE,
                               "The saved state of account \"%s\" could not "
                               "be read (%s)",
                               account_id, reason);
      return;
    }
  if (state == NULL)
    {
      set_aside (path, account_id, reason);
      if (is_index (bytes))
        state = salvage_index (bytes, path, account_id);
      else
        state = salvage_state (bytes, account_id);
      if (state != NULL)
        g_message ("Recovered %u message summaries of account \"%s\"; what "
                   "they do not tell about will be announced",
                   state->messages->len, account_id);
      else
        state = loaded_state_new ();
      state->set_aside = TRUE;
    }

  popcheck_mailbox_prepare_loaded_state (self, state);
  g_task_return_pointer (task, g_steal_pointer (&state),
                         (GDestroyNotify) loaded_state_free);
}

static void
load_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  int lock;

  if (g_task_return_error_if_cancelled (task))
    return;

  lock = lock_state (((LoadData *) task_data)->path, LOCK_SH);
  load_locked (task, source_object, task_data);
  unlock_state (lock);
}

static void
load_thread_done_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  PopcheckMailbox *self = POPCHECK_MAILBOX (object);
  g_autoptr(GTask) task = user_data;
  g_autoptr(PopcheckMailboxLoadedState) state = NULL;
  GError *error = NULL;

  state = g_task_propagate_pointer (G_TASK (result), &error);
  if (state == NULL)
    {
      if (g_error_matches (error, POPCHECK_MAILBOX_ERROR,
                           POPCHECK_MAILBOX_ERROR_NEWER_FORMAT))
        self->newer_state_file = TRUE;
      g_task_return_error (task, error);
      return;
    }

  /* Applied here, on the main thread, whether or not the caller ever
   * calls load_finish. */
  popcheck_mailbox_apply_loaded_state (self, state);
  g_task_return_boolean (task, TRUE);
}

static void
load_async (PopcheckMailbox     *self,
            gboolean             for_reading,
            GCancellable        *cancellable,
            GAsyncReadyCallback  callback,
            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GTask) thread_task = NULL;
  LoadData *data;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, popcheck_mailbox_load_async);

  thread_task = g_task_new (self, cancellable, load_thread_done_cb,
                            g_steal_pointer (&task));
  g_task_set_source_tag (thread_task, load_thread);
  data = g_new0 (LoadData, 1);
  data->path = popcheck_mailbox_dup_state_path (self);
  data->account_id = g_strdup (self->account_id);
  data->for_reading = for_reading;
  g_task_set_task_data (thread_task, data, (GDestroyNotify) load_data_free);
  g_task_run_in_thread (thread_task, load_thread);
}

void
popcheck_mailbox_load_async (PopcheckMailbox     *self,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_return_if_fail (POPCHECK_IS_MAILBOX (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  load_async (self, FALSE, cancellable, callback, user_data);
}

void
popcheck_mailbox_load_for_reading_async (PopcheckMailbox     *self,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data)
{
  g_return_if_fail (POPCHECK_IS_MAILBOX (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  load_async (self, TRUE, cancellable, callback, user_data);
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

/* What a save writes, taken on the main thread; the thread builds the
 * file from it.  A summary whose details are in a file is read from
 * there by the thread, not on the main loop.
 *
 * One for each message in the snapshot's messages, which hold a reference
 * to each: the thread reads from the message what never changes once it
 * is made (its UID, size, what the list shows, details in memory), and
 * from here what may change meanwhile.  Small, and no reference of its
 * own but for a rare file: taking the snapshot of 100,000 messages is
 * work on the main loop; and where its details are only for those that
 * have them in a file, in a list of their own: the first save of a
 * million messages without headers held 32 MB for places it had none
 * of. */
enum
{
  CACHED_NEW        = 1 << 0,
  /* Its UID is among the seen. */
  CACHED_SEEN       = 1 << 1,
  /* Listed without headers: its UID and size (with is_new and
   * top_refusals) are the whole summary. */
  CACHED_HEADERLESS = 1 << 2,
  /* Its details are in a file: the next CachedPlace says where. */
  CACHED_PLACED     = 1 << 3,
};

#define CACHED_MAX_REFUSALS ((1u << 24) - 1)

typedef struct
{
  guint32 flags        : 8;
  /* At most CACHED_MAX_REFUSALS: far more than a message is ever
   * asked for. */
  guint32 top_refusals : 24;
} CachedSummary;

typedef struct
{
  PopcheckSummaryFile *file;
  guint64              offset;
  guint32              length;
  /* file is a reference of its own, not the snapshot's details_file. */
  gboolean             file_ref;
} CachedPlace;

typedef struct
{
  char     *path;
  char     *account_id;
  gboolean  first_check_done;
  gint64    last_check;
  /* The seen UIDs that no summary written stands for. */
  GStrv     seen;
  /* For each message written, in order: n_cached of them, in
   * cached_block; and for each of them CACHED_PLACED, in the same order:
   * n_places of them, in places_block. */
  CachedSummary *cached;
  guint      n_cached;
  guint      cached_room;
  Block     *cached_block;
  CachedPlace *places;
  guint      n_places;
  guint      places_room;
  Block     *places_block;
  /* The messages themselves, touched on the main thread only. */
  GPtrArray *messages;
  guint64    generation;
  /* The details file the messages point into, to append to. */
  PopcheckSummaryFile *details_file;
  guint64    details_id;
  /* The file the thread wrote the summaries' details to, and a Moved
   * for each summary whose details it wrote there just now: the message
   * is to point there. */
  PopcheckSummaryFile *written;
  guint64    written_id;
  GArray    *moved;
  /* Room for the details the moved messages drop, made by the thread. */
  GArray    *dropped;
} SaveData;

typedef struct
{
  guint64 offset;
  guint32 length;
  /* In messages. */
  guint   index;
} Moved;

static void
save_data_free_cached (SaveData *data)
{
  for (guint i = 0; i < data->n_places; i++)
    if (data->places[i].file_ref)
      popcheck_summary_file_unref (data->places[i].file);

  data->cached = NULL;
  data->n_cached = 0;
  data->cached_room = 0;
  g_clear_pointer (&data->cached_block, block_free);
  data->places = NULL;
  data->n_places = 0;
  data->places_room = 0;
  g_clear_pointer (&data->places_block, block_free);
}

static void
save_data_free (SaveData *data)
{
  g_free (data->path);
  g_free (data->account_id);
  g_strfreev (data->seen);
  save_data_free_cached (data);
  g_clear_pointer (&data->messages, g_ptr_array_unref);
  g_clear_pointer (&data->moved, g_array_unref);
  g_clear_pointer (&data->dropped, g_array_unref);
  g_clear_pointer (&data->written, popcheck_summary_file_unref);
  g_clear_pointer (&data->details_file, popcheck_summary_file_unref);
  g_free (data);
}

/* A block with room for @room elements of @size, holding the @used of
 * *@block's: nothing is copied when there is room already. */
static gpointer
block_keep_room (Block **block,
                 gsize   size,
                 guint   used,
                 guint  *room,
                 guint   needed)
{
  Block *bigger;

  if (*block != NULL && needed <= *room)
    return (*block)->data;

  bigger = block_new (size * needed);
  if (used > 0)
    memcpy (bigger->data, (*block)->data, size * used);
  g_clear_pointer (block, block_free);
  *block = bigger;
  *room = needed;
  return bigger->data;
}

/* Room for @n_cached summaries and @n_places places in all. */
static void
snapshot_keep_room (SaveData *data,
                    guint     n_cached,
                    guint     n_places)
{
  data->cached = block_keep_room (&data->cached_block, sizeof (CachedSummary),
                                  data->n_cached, &data->cached_room, n_cached);
  data->places = block_keep_room (&data->places_block, sizeof (CachedPlace),
                                  data->n_places, &data->places_room, n_places);
}

static guint
more_room (guint room)
{
  return room + room / 2 + 64;
}

/* Whether it was added, as one whose UID is seen or not. */
static gboolean
snapshot_add (SaveData        *data,
              PopcheckMessage *message,
              gboolean         seen)
{
  CachedSummary *cached;
  PopcheckSummaryFile *file = NULL;
  guint64 offset = 0;
  gsize length = 0;

  if (!popcheck_message_get_has_uid (message))
    return FALSE;

  /* The room was counted before, but a snapshot taken in slices may
   * find rows that changed since. */
  if (data->n_cached == data->cached_room)
    snapshot_keep_room (data, more_room (data->cached_room), data->places_room);

  /* Zeroed already. */
  cached = &data->cached[data->n_cached++];
  cached->flags = (seen ? CACHED_SEEN : 0) |
                  (popcheck_message_get_is_new (message) ? CACHED_NEW : 0);

  if (popcheck_message_get_cached (message, &file, &offset, &length))
    {
      CachedPlace *place;

      if (data->n_places == data->places_room)
        snapshot_keep_room (data, data->cached_room, more_room (data->places_room));
      place = &data->places[data->n_places++];
      cached->flags |= CACHED_PLACED;
      /* Nearly always the file the snapshot holds already. */
      if (file != data->details_file)
        {
          file = popcheck_summary_file_ref (file);
          place->file_ref = TRUE;
        }
      place->file = file;
      place->offset = offset;
      place->length = length;
    }
  /* A whole mailbox's summaries take seconds to build: the thread
   * does it, from the message.  Their details stay in memory until no
   * save is under way (save_thread_done_cb()). */
  else if (popcheck_message_get_headers_known (message))
    ;
  /* A variant each, for a million messages listed without headers,
   * would cost more than the mailbox itself until the file is written:
   * the thread builds their records. */
  else
    {
      cached->flags |= CACHED_HEADERLESS;
      cached->top_refusals = MIN (popcheck_message_get_top_refusals (message),
                                  CACHED_MAX_REFUSALS);
    }
  g_ptr_array_add (data->messages, g_object_ref (message));
  return TRUE;
}

static gboolean
is_placed (PopcheckMessage *message)
{
  PopcheckSummaryFile *file;
  guint64 offset;
  gsize length;

  return popcheck_message_get_cached (message, &file, &offset, &length);
}

/* A walk of 100,000 messages waits on memory, twice for each: for the
 * message, then for its headers (is_placed () reads both).  Asked for a
 * few messages ahead, they are there when the walk gets to them: a
 * save's snapshot took a third of the time (state-bench). */
#define PREFETCH_DISTANCE POPCHECK_MAILBOX_PREFETCH_DISTANCE

/* The k-th message of a walk of @messages, or of those @moved points at. */
static inline PopcheckMessage *
walked_message (GPtrArray *messages,
                GArray    *moved,
                guint      k)
{
  return g_ptr_array_index (messages,
                            moved != NULL ? g_array_index (moved, Moved, k).index : k);
}

static inline void
prefetch_ahead (GPtrArray *messages,
                GArray    *moved,
                guint      i)
{
  guint len = moved != NULL ? moved->len : messages->len;

  if (i + 2 * PREFETCH_DISTANCE < len)
    __builtin_prefetch (walked_message (messages, moved, i + 2 * PREFETCH_DISTANCE));
  /* Its message was asked for PREFETCH_DISTANCE messages ago. */
  if (i + PREFETCH_DISTANCE < len)
    popcheck_message_prefetch_cached (walked_message (messages, moved,
                                                      i + PREFETCH_DISTANCE));
}

/* At least as many as snapshot_add () will find a place for among the
 * rows from @start to @end. */
static guint
count_placed_rows (PopcheckMailbox *self,
                   guint            start,
                   guint            end)
{
  guint n = 0;

  for (guint i = start; i < end; i++)
    {
      prefetch_ahead (self->items, NULL, i);
      n += is_placed (g_ptr_array_index (self->items, i));
    }

  return n;
}

static SaveData *
snapshot_new (PopcheckMailbox *self)
{
  SaveData *data = g_new0 (SaveData, 1);

  data->path = popcheck_mailbox_dup_state_path (self);
  data->account_id = g_strdup (self->account_id);
  if (self->details_file != NULL)
    data->details_file = popcheck_summary_file_ref (self->details_file);
  data->details_id = self->details_id;
  data->first_check_done = self->first_check_done;
  data->last_check = self->last_check != NULL
                       ? g_date_time_to_unix (self->last_check) : G_GINT64_CONSTANT (0);
  data->messages = g_ptr_array_new_full (self->items->len, g_object_unref);

  return data;
}

/* Adds the rows from @start to @end; returns how many were added, all
 * seen: end_update() makes every listed message seen, and a lookup each
 * would cost 100,000 of them.  A message without a UID is this
 * session's only: nothing could tell it again at the next one. */
static guint
snapshot_add_rows (SaveData        *data,
                   PopcheckMailbox *self,
                   guint            start,
                   guint            end)
{
  guint n_seen = 0;

  for (guint i = start; i < end; i++)
    {
      prefetch_ahead (self->items, NULL, i);
      n_seen += snapshot_add (data, g_ptr_array_index (self->items, i), TRUE);
    }

  return n_seen;
}

/* After the rows, of which @n_seen were added: the rest, which is
 * nearly always nothing. */
static void
snapshot_finish (SaveData        *data,
                 PopcheckMailbox *self,
                 guint            n_seen)
{
  PopcheckMessageIndexIter pending;
  PopcheckMessage *message;
  GHashTableIter iter;
  gpointer key, value;
  guint n_placed = 0;
  g_autoptr(GPtrArray) extra_seen = NULL;

  popcheck_message_index_iter_init (&pending, self->pending);
  while (popcheck_message_index_iter_next (&pending, &message))
    n_placed += is_placed (message);
  snapshot_keep_room (data, data->n_cached + popcheck_message_index_get_size (self->pending),
                      data->n_places + n_placed);

  /* What a check fetched and has not listed yet (it was cancelled, or
   * failed): its UID is not among the seen, which is what tells it apart
   * when it is read back.  A row still waiting for its headers holds
   * nothing a check would not list again. */
  popcheck_message_index_iter_init (&pending, self->pending);
  while (popcheck_message_index_iter_next (&pending, &message))
    {
      const char *uid = popcheck_message_get_uid (message);

      if (!popcheck_message_get_headers_pending (message) &&
          popcheck_mailbox_lookup (self, uid) == NULL)
        snapshot_add (data, message, popcheck_mailbox_is_seen (self, uid));
    }

  /* The summaries stand for the seen UIDs, as a rule: copying 100,000 of
   * them would cost the main loop more than the whole rest. */
  extra_seen = g_ptr_array_new ();
  if (n_seen != self->n_seen)
    {
      g_hash_table_iter_init (&iter, self->uids);
      while (g_hash_table_iter_next (&iter, &key, &value))
        {
          PopcheckMessage *waiting = popcheck_message_index_lookup (self->pending,
                                                                    key);

          if ((GPOINTER_TO_SIZE (value) & POPCHECK_MAILBOX_UID_SEEN) != 0 &&
              popcheck_mailbox_lookup (self, key) == NULL &&
              (waiting == NULL || popcheck_message_get_headers_pending (waiting)))
            g_ptr_array_add (extra_seen, g_strdup (key));
        }
    }
  g_ptr_array_add (extra_seen, NULL);
  data->seen = (GStrv) g_ptr_array_free (g_steal_pointer (&extra_seen), FALSE);
}

/* A save's snapshot, taken in slices: first the rows' places are
 * counted, then the rows are added. */
typedef struct
{
  SaveData *data;
  gboolean  counting;
  /* The next row to count or add. */
  guint     next;
  guint     n_placed;
  guint     n_seen;
  /* A row the walk had passed changed, or moved: the walk starts again,
   * and the second time it takes the rows at once, so that a mailbox
   * changing all the time still gets saved. */
  gboolean  rows_changed;
  gboolean  restarted;
  gboolean  at_once;
  gulong    changed_handler;
  /* Until the first slice runs: raises its priority once it has waited
   * long enough for the main loop to be idle. */
  GSource  *idle_wait;
} Snapshot;

static void
snapshot_rows_changed_cb (GListModel *model,
                          guint       position,
                          guint       removed,
                          guint       added,
                          gpointer    user_data)
{
  Snapshot *snapshot = user_data;

  /* A summary in its row's place stands for the same UID: the walk
   * holds what the row was, which the next save replaces. */
  if (position < snapshot->next && !POPCHECK_MAILBOX (model)->rows_filled_in_place)
    snapshot->rows_changed = TRUE;
}

/* Lets go of what was taken, for a walk that starts again or stops. */
static void
snapshot_drop (Snapshot *snapshot)
{
  if (snapshot->data == NULL)
    return;

  popcheck_mailbox_free_in_thread (g_steal_pointer (&snapshot->data->messages), NULL);
  g_clear_pointer (&snapshot->data, save_data_free);
}

static void
snapshot_stop_idle_wait (Snapshot *snapshot)
{
  if (snapshot->idle_wait == NULL)
    return;

  g_source_destroy (snapshot->idle_wait);
  g_clear_pointer (&snapshot->idle_wait, g_source_unref);
}

static void
snapshot_free (Snapshot *snapshot)
{
  g_assert (snapshot->changed_handler == 0);
  snapshot_stop_idle_wait (snapshot);
  snapshot_drop (snapshot);
  g_free (snapshot);
}

static void
snapshot_start_walk (PopcheckMailbox *self,
                     Snapshot        *snapshot)
{
  guint64 generation = snapshot->data != NULL ? snapshot->data->generation : 0;

  snapshot_drop (snapshot);
  snapshot->data = snapshot_new (self);
  snapshot->data->generation = generation;
  snapshot->counting = TRUE;
  snapshot->next = 0;
  snapshot->n_placed = 0;
  snapshot->n_seen = 0;
  snapshot->rows_changed = FALSE;
  /* What changes from here on is in this snapshot or makes it dirty
   * again, for the next. */
  self->dirty = FALSE;
}

static void
snapshot_begin (PopcheckMailbox *self,
                Snapshot        *snapshot)
{
  snapshot_start_walk (self, snapshot);
  snapshot->data->generation = ++self->save_generation;
  self->saves_in_flight++;
  snapshot->changed_handler = g_signal_connect (self, "items-changed",
                                                G_CALLBACK (snapshot_rows_changed_cb),
                                                snapshot);
}

/* The snapshot's walk stops, taken or not. */
static void
snapshot_end (PopcheckMailbox *self,
              Snapshot        *snapshot)
{
  g_clear_signal_handler (&snapshot->changed_handler, self);
}

/* One step of the walk: POPCHECK_MAILBOX_SLICE_STEPS rows counted or
 * added.  TRUE once every row is added. */
static gboolean
snapshot_step (PopcheckMailbox *self,
               Snapshot        *snapshot)
{
  guint len = self->items->len;
  guint end = MIN (len, snapshot->next + POPCHECK_MAILBOX_SLICE_STEPS);

  if (snapshot->counting)
    {
      snapshot->n_placed += count_placed_rows (self, snapshot->next, end);
      snapshot->next = end;
      if (end == len)
        {
          snapshot_keep_room (snapshot->data, len, snapshot->n_placed);
          snapshot->counting = FALSE;
          snapshot->next = 0;
        }
      return FALSE;
    }

  snapshot->n_seen += snapshot_add_rows (snapshot->data, self, snapshot->next, end);
  snapshot->next = end;
  return end == len;
}

/* Appends to the details file in big writes; a summary's offset is known
 * as soon as it is queued. */
typedef struct
{
  int         fd;
  const char *path;
  /* Where pending goes in the file. */
  guint64     start;
  GByteArray *pending;
  gboolean    appended;
} Appender;

/* Each summary starts at a multiple of 8, in the file as in the buffer
 * (start is one too), where GVariant can serialize it in place. */
static void
appender_align (Appender *appender)
{
  static const guint8 padding[8] = { 0, };

  g_byte_array_append (appender->pending, padding,
                       (8 - appender->pending->len % 8) % 8);
}

/* All of @data, at @offset of the file @path open at @fd. */
static gboolean
write_all_at (int            fd,
              const guint8  *data,
              gsize          length,
              guint64        offset,
              const char    *path,
              GError       **error)
{
  gsize done = 0;

  while (done < length)
    {
      gssize n = pwrite (fd, data + done, length - done, (off_t) (offset + done));

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          set_error_from_errno (error, "write", path);
          return FALSE;
        }
      done += n;
    }

  return TRUE;
}

static gboolean
appender_flush (Appender  *appender,
                GError   **error)
{
  /* So that start stays a multiple of 8. */
  appender_align (appender);
  if (!write_all_at (appender->fd, appender->pending->data,
                     appender->pending->len, appender->start,
                     appender->path, error))
    return FALSE;

  appender->start += appender->pending->len;
  appender->appended |= appender->pending->len > 0;
  g_byte_array_set_size (appender->pending, 0);
  return TRUE;
}

/* Where @bytes (@length of them) will be in the file. */
static guint64
appender_add (Appender     *appender,
              const guint8 *bytes,
              gsize         length)
{
  guint64 offset;

  appender_align (appender);
  offset = appender->start + appender->pending->len;

  g_byte_array_append (appender->pending, bytes, length);
  return offset;
}

/* A summary whose details are in memory, boxed as the details file holds
 * it, built in place. */
static guint64
appender_add_summary (Appender        *appender,
                      PopcheckMessage *message,
                      gboolean         is_new,
                      gsize           *length)
{
  g_autoptr(GVariant) boxed = NULL;
  guint64 offset;
  guint old_len;

  appender_align (appender);
  offset = appender->start + appender->pending->len;
  old_len = appender->pending->len;

  boxed = g_variant_ref_sink (g_variant_new_variant (popcheck_message_to_variant_in_thread (message,
                                                                                           is_new)));
  /* Little-endian wherever it was written. */
  if (G_BYTE_ORDER == G_BIG_ENDIAN)
    {
      GVariant *swapped = g_variant_byteswap (boxed);

      g_variant_unref (boxed);
      boxed = swapped;
    }

  *length = g_variant_get_size (boxed);
  g_byte_array_set_size (appender->pending, old_len + *length);
  g_variant_store (boxed, appender->pending->data + old_len);
  return offset;
}

/* A new details file, empty but for its header, and its id. */
static int
create_details (const char  *index_path,
                guint64     *id,
                char       **path,
                GError     **error)
{
  guint8 header[DETAILS_HEADER_SIZE];
  int fd = -1;

  for (guint attempt = 0; fd < 0 && attempt < 16; attempt++)
    {
      *id = ((guint64) g_random_int () << 32) | g_random_int ();
      g_free (*path);
      *path = details_path_for (index_path, *id);
      fd = g_open (*path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (fd < 0 && errno != EEXIST)
        break;
    }
  if (fd < 0)
    {
      set_error_from_errno (error, "create", *path);
      return -1;
    }

  put_details_header (header, *id);
  if (pwrite (fd, header, sizeof header, 0) != sizeof header)
    {
      set_error_from_errno (error, "write", *path);
      g_close (fd, NULL);
      g_unlink (*path);
      return -1;
    }

  return fd;
}

/* The details files of this account but @keep (if any): older ones a save
 * replaced, or one a crash left before its index was written.  Messages that still
 * point into one hold it open. */
static void
remove_other_details (const char *index_path,
                      const char *keep)
{
  g_autofree char *dir_name = g_path_get_dirname (index_path);
  g_autofree char *some = details_path_for (index_path, 0);
  g_autofree char *some_base = g_path_get_basename (some);
  g_autofree char *keep_base = keep != NULL ? g_path_get_basename (keep) : NULL;
  g_autoptr(GDir) dir = g_dir_open (dir_name, 0, NULL);
  gsize prefix_len = strlen (some_base) - 16;
  const char *name;

  if (dir == NULL)
    return;

  while ((name = g_dir_read_name (dir)) != NULL)
    if (strncmp (name, some_base, prefix_len) == 0 &&
        strlen (name) == strlen (some_base) &&
        g_strcmp0 (name, keep_base) != 0)
      {
        g_autofree char *path = g_build_filename (dir_name, name, NULL);

        g_unlink (path);
      }
}

static void
put_record (GByteArray          *index,
            PopcheckMessage     *message,
            const CachedSummary *cached,
            guint64              offset,
            gsize                length)
{
  PopcheckListedSummary listed = { NULL, };
  gsize frame = begin_frame (index);
  const char *strings = NULL;
  gsize strings_length = 0;
  guint32 flags = 0;
  /* size, offset, length, refusals, time, UTC offset, flags: one append
   * rather than seven, for each of 100,000 records. */
  guint8 fixed[8 + 8 + 4 + 4 + 8 + 4 + 4];
  guint64 u64;
  guint32 u32;

  if (!(cached->flags & CACHED_HEADERLESS))
    {
      popcheck_message_get_listed (message, &listed, &strings, &strings_length);
      flags |= RECORD_HEADERS_KNOWN;
      if (listed.attachments_incomplete)
        flags |= RECORD_ATTACHMENTS_INCOMPLETE;
    }
  else
    listed.size = popcheck_message_get_size (message);
  if (cached->flags & CACHED_NEW)
    flags |= RECORD_NEW;
  if (listed.date != NULL)
    flags |= RECORD_HAS_DATE;
  if (cached->flags & CACHED_SEEN)
    flags |= RECORD_SEEN;

  u64 = GUINT64_TO_LE (listed.size);
  memcpy (fixed, &u64, 8);
  u64 = GUINT64_TO_LE (offset);
  memcpy (fixed + 8, &u64, 8);
  u32 = GUINT32_TO_LE ((guint32) length);
  memcpy (fixed + 16, &u32, 4);
  u32 = GUINT32_TO_LE ((cached->flags & CACHED_HEADERLESS) ? cached->top_refusals : 0);
  memcpy (fixed + 20, &u32, 4);
  u64 = GUINT64_TO_LE (listed.date != NULL ? (guint64) g_date_time_to_unix (listed.date) : 0);
  memcpy (fixed + 24, &u64, 8);
  u32 = GUINT32_TO_LE (listed.date != NULL
                         ? (guint32) (gint32) (g_date_time_get_utc_offset (listed.date) / G_USEC_PER_SEC)
                         : 0);
  memcpy (fixed + 32, &u32, 4);
  u32 = GUINT32_TO_LE (flags);
  memcpy (fixed + 36, &u32, 4);
  g_byte_array_append (index, fixed, sizeof fixed);

  if (cached->flags & CACHED_HEADERLESS)
    {
      static const guint8 empty[5] = { 0, };

      put_string (index, popcheck_message_get_uid (message));
      g_byte_array_append (index, empty, sizeof empty);
    }
  else
    g_byte_array_append (index, (const guint8 *) strings, strings_length);
  end_frame (index, frame);
}

/* The details file this save appends to: the one the snapshot's messages
 * point into, unless it is gone or more than half garbage; else a new one,
 * into which every summary is copied. */
static int
open_details_for_append (SaveData  *data,
                         guint64   *start,
                         GError   **error)
{
  g_autofree char *path = NULL;
  GStatBuf info;
  guint64 live = 0;
  int fd;

  if (data->details_file == NULL)
    return -1;

  path = details_path_for (data->path, data->details_id);
  if (!popcheck_summary_file_is_at (data->details_file, path))
    return -1;

  fd = g_open (path, O_WRONLY | O_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  if (fstat (fd, &info) != 0 || (guint64) info.st_size < DETAILS_HEADER_SIZE)
    {
      g_close (fd, NULL);
      return -1;
    }

  for (guint i = 0; i < data->n_places; i++)
    {
      const CachedPlace *place = &data->places[i];

      if (place->file == data->details_file)
        live += place->length;
    }

  /* Rewritten once more than half of it is no longer pointed at (what
   * replaced summaries, messages deleted from the server and saves cut
   * short left behind), so it never grows past twice what it holds. */
  if ((guint64) info.st_size > COMPACT_MIN_SIZE &&
      live < ((guint64) info.st_size - DETAILS_HEADER_SIZE) / 2)
    {
      g_debug ("Rewriting %s: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
               " bytes in use", path, live, (guint64) info.st_size);
      g_close (fd, NULL);
      return -1;
    }

  /* What a crash left after the last summary stays, as garbage. */
  *start = ((guint64) info.st_size + 7) & ~(guint64) 7;
  return fd;
}

/* The new index, written as it is built, into a temporary file beside
 * the old one that is then synced and renamed over it (as
 * g_file_set_contents_full() does, CONSISTENT and DURABLE): a crash
 * leaves the old index or the new one, never half of one.  Built whole in
 * memory first, the 20 MB of 100,000 summaries cost a save more page
 * faults and copies than writing them did. */
typedef struct
{
  int         fd;
  /* The temporary file, until it is renamed. */
  char       *path;
  GByteArray *pending;
  /* What is in the file so far. */
  guint64     written;
} IndexWriter;

/* What the index writer hands the file at a time. */
#define INDEX_CHUNK          ((gsize) 1024 * 1024)

static gboolean
index_writer_open (IndexWriter  *writer,
                   const char   *index_path,
                   guint         n_records,
                   GError      **error)
{
  writer->path = g_strconcat (index_path, ".XXXXXX", NULL);
  writer->fd = g_mkstemp_full (writer->path, O_RDWR | O_CLOEXEC, 0600);
  if (writer->fd < 0)
    {
      set_error_from_errno (error, "create", writer->path);
      return FALSE;
    }
  /* A record never takes more than a frame's worth past the chunk.  A
   * small account's index is far smaller: a process that checks and saves
   * again and again would keep a megabyte in use for nothing (the soak
   * test sees each one: meson test sets MALLOC_PERTURB_, which writes
   * over what malloc() returns). */
  writer->pending = g_byte_array_sized_new (MIN (INDEX_CHUNK + 64 * 1024,
                                                 256 + (gsize) n_records * 160));
  return TRUE;
}

static gboolean
index_writer_flush (IndexWriter  *writer,
                    GError      **error)
{
  if (!write_all_at (writer->fd, writer->pending->data, writer->pending->len,
                     writer->written, writer->path, error))
    return FALSE;

  writer->written += writer->pending->len;
  g_byte_array_set_size (writer->pending, 0);
  return TRUE;
}

/* Between records only: a frame is filled in where it was begun. */
static gboolean
index_writer_maybe_flush (IndexWriter  *writer,
                          GError      **error)
{
  return writer->pending->len < INDEX_CHUNK || index_writer_flush (writer, error);
}

static gboolean
index_writer_commit (IndexWriter  *writer,
                     const char   *index_path,
                     GError      **error)
{
  int fd = writer->fd;

  if (!index_writer_flush (writer, error))
    return FALSE;

  writer->fd = -1;
  if (fsync (fd) != 0)
    {
      set_error_from_errno (error, "write", writer->path);
      g_close (fd, NULL);
      return FALSE;
    }
  if (!g_close (fd, error))
    return FALSE;
  if (g_rename (writer->path, index_path) != 0)
    {
      set_error_from_errno (error, "rename", writer->path);
      return FALSE;
    }

  g_clear_pointer (&writer->path, g_free);
  return TRUE;
}

/* A temporary file that was not renamed is garbage. */
static void
index_writer_clear (IndexWriter *writer)
{
  if (writer->fd >= 0)
    g_close (writer->fd, NULL);
  writer->fd = -1;
  if (writer->path != NULL)
    g_unlink (writer->path);
  g_clear_pointer (&writer->path, g_free);
  g_clear_pointer (&writer->pending, g_byte_array_unref);
}

/* Appends what is new to the details file, makes it durable, then writes
 * the index that points at it: a crash in between leaves the old index,
 * whose bytes are all still there, and some garbage after them. */
static gboolean
write_state (SaveData  *data,
             GError   **error)
{
  g_autoptr(GByteArray) pending = NULL;
  GByteArray *index;
  IndexWriter writer = { -1, };
  g_autoptr(PopcheckSummaryFile) target = NULL;
  g_autofree char *target_path = NULL;
  Appender appender = { -1, };
  guint64 target_id = data->details_id;
  gboolean created = FALSE;
  gsize header_frame;
  gboolean ok = FALSE;

  appender.fd = open_details_for_append (data, &appender.start, error);
  if (appender.fd >= 0)
    {
      target = popcheck_summary_file_ref (data->details_file);
      target_path = details_path_for (data->path, target_id);
    }
  else
    {
      int read_fd;

      appender.fd = create_details (data->path, &target_id, &target_path, error);
      if (appender.fd < 0)
        return FALSE;
      created = TRUE;
      read_fd = g_open (target_path, O_RDONLY | O_CLOEXEC, 0);
      if (read_fd < 0)
        {
          set_error_from_errno (error, "open", target_path);
          goto out;
        }
      target = popcheck_summary_file_new (read_fd);
      appender.start = DETAILS_HEADER_SIZE;
    }
  appender.path = target_path;
  pending = g_byte_array_sized_new (64 * 1024);
  appender.pending = pending;

  if (!index_writer_open (&writer, data->path, data->n_cached, error))
    goto out;
  index = writer.pending;
  g_byte_array_append (index, (const guint8 *) INDEX_MAGIC, INDEX_MAGIC_SIZE);
  put_u32 (index, INDEX_VERSION);
  header_frame = begin_frame (index);
  put_u32 (index, data->first_check_done ? INDEX_FIRST_CHECK_DONE : 0);
  put_u64 (index, (guint64) data->last_check);
  put_u64 (index, target_id);
  /* Every summary in the snapshot gets a record. */
  put_u32 (index, data->n_cached);
  put_string (index, data->account_id);
  end_frame (index, header_frame);

  data->moved = g_array_new (FALSE, FALSE, sizeof (Moved));
  for (guint i = 0, placed = 0; i < data->n_cached; i++)
    {
      const CachedSummary *cached = &data->cached[i];
      const CachedPlace *place = NULL;
      PopcheckMessage *message = g_ptr_array_index (data->messages, i);
      guint64 offset = 0;
      gsize length = 0;
      gboolean moved = FALSE;

      /* A place without a file is built from the message, as any
       * summary whose details are in memory. */
      if (cached->flags & CACHED_PLACED)
        place = &data->places[placed++];
      if (place != NULL && place->file == NULL)
        place = NULL;

      if (cached->flags & CACHED_HEADERLESS)
        ;
      else if (place != NULL && place->file == target)
        {
          offset = place->offset;
          length = place->length;
        }
      else if (place != NULL)
        {
          g_autoptr(GBytes) bytes = NULL;
          g_autoptr(GError) read_error = NULL;

          /* From the single file of before, or from a details file being
           * rewritten.  What cannot be read stays listed, its details
           * unreadable, as they were. */
          bytes = popcheck_summary_file_read (place->file, place->offset,
                                              place->length, &read_error);
          if (bytes != NULL)
            {
              length = g_bytes_get_size (bytes);
              offset = appender_add (&appender, g_bytes_get_data (bytes, NULL),
                                     length);
              moved = TRUE;
            }
          else
            g_debug ("Account %s: the details of %s are lost: %s",
                     data->account_id, popcheck_message_get_uid (message),
                     read_error->message);
        }
      else
        {
          offset = appender_add_summary (&appender, message,
                                         (cached->flags & CACHED_NEW) != 0,
                                         &length);
          moved = TRUE;
        }

      if (appender.pending->len >= APPEND_CHUNK && !appender_flush (&appender, error))
        goto out;

      put_record (index, message, cached, offset, length);
      if (!index_writer_maybe_flush (&writer, error))
        goto out;
      /* The moved ones only, rather than where every summary is (for a
       * million messages, 24 MB more at the save). */
      if (moved && length <= G_MAXUINT32)
        {
          Moved written = { offset, (guint32) length, i };

          g_array_append_val (data->moved, written);
        }
    }

  {
    gsize frame = begin_frame (index);

    for (guint i = 0; data->seen[i] != NULL; i++)
      put_string (index, data->seen[i]);
    end_frame (index, frame);
  }
  g_byte_array_append (index, (const guint8 *) INDEX_END, INDEX_END_SIZE);

  if (!appender_flush (&appender, error))
    goto out;
  /* The bytes the index will point at are on the disk before it is. */
  if ((appender.appended || created) && fsync (appender.fd) != 0)
    {
      set_error_from_errno (error, "write", target_path);
      goto out;
    }

  if (!index_writer_commit (&writer, data->path, error))
    goto out;

  /* Also what a save that crashed between creating a details file and
   * writing its index left: the lock says no other save is under way. */
  remove_other_details (data->path, target_path);
  data->written = g_steal_pointer (&target);
  data->written_id = target_id;
  ok = TRUE;

out:
  index_writer_clear (&writer);
  if (appender.fd >= 0)
    g_close (appender.fd, NULL);
  /* A new file no index points at is garbage. */
  if (!ok && created)
    g_unlink (target_path);
  return ok;
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
  gboolean written;
  int lock;

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

  lock = lock_state (data->path, LOCK_EX);
  written = write_state (data, &error);
  unlock_state (lock);
  if (!written)
    {
      g_task_return_error (task, error);
      return;
    }

  self->saved_generation = data->generation;
  /* Only the messages, and where the moved ones are, are needed after
   * this, on the main thread. */
  save_data_free_cached (data);
  g_clear_pointer (&data->seen, g_strfreev);
  /* Made here, not on the main loop: 4 MB of pages for 100,000; and
   * once the snapshot's own arrays are gone. */
  data->dropped = popcheck_message_dropped_details_new (data->moved->len);
  release_free_memory ();
  g_task_return_boolean (task, TRUE);
}

typedef struct
{
  GPtrArray *messages;
  GArray    *details;
} Dropped;

static void
free_dropped_thread (GTask        *task,
                     gpointer      source_object,
                     gpointer      task_data,
                     GCancellable *cancellable)
{
  Dropped *dropped = task_data;

  g_ptr_array_unref (dropped->messages);
  g_clear_pointer (&dropped->details, g_array_unref);
  g_free (dropped);
  release_free_memory ();
  g_task_return_boolean (task, TRUE);
}

void
popcheck_mailbox_free_in_thread (GPtrArray *messages,
                                 GArray    *details)
{
  g_autoptr(GTask) task = NULL;
  Dropped *dropped;

  if (messages->len == 0 && details == NULL)
    {
      g_ptr_array_unref (messages);
      return;
    }

  dropped = g_new0 (Dropped, 1);
  dropped->messages = messages;
  dropped->details = details;
  task = g_task_new (NULL, NULL, NULL, NULL);
  g_task_set_source_tag (task, free_dropped_thread);
  g_task_set_task_data (task, dropped, NULL);
  g_task_run_in_thread (task, free_dropped_thread);
}

/* The save of the newest snapshot ended: so do the saves that waited
 * for it. */
static void
finish_save_waiters (PopcheckMailbox *self,
                     SaveData        *data,
                     const GError    *error)
{
  g_autoptr(GPtrArray) waiters = NULL;

  if (data->generation != self->save_generation || self->save_waiters->len == 0)
    return;

  waiters = g_steal_pointer (&self->save_waiters);
  self->save_waiters = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < waiters->len; i++)
    {
      GTask *waiter = g_ptr_array_index (waiters, i);

      if (error != NULL)
        g_task_return_error (waiter, g_error_copy (error));
      else
        g_task_return_boolean (waiter, TRUE);
    }
}

/* A save's written messages, to point at its file. */
typedef struct
{
  GTask  *task;
  /* Holds the SaveData. */
  GTask  *thread_task;
  /* What the messages pointed so far dropped. */
  GArray *details;
  guint   next;
} Pointing;

static void
pointing_free (Pointing *pointing)
{
  g_clear_object (&pointing->task);
  g_clear_object (&pointing->thread_task);
  g_clear_pointer (&pointing->details, g_array_unref);
  g_free (pointing);
}

/* Points messages at the file for a slice; TRUE once there are none
 * left to point. */
static gboolean
point_slice (PopcheckMailbox *self,
             Pointing        *pointing)
{
  SaveData *data = g_task_get_task_data (pointing->thread_task);
  gint64 deadline = popcheck_mailbox_slice_deadline (self);

  /* A snapshot begun meanwhile has a thread that reads the details of
   * the messages not pointed yet: they keep them, for a later save to
   * point. */
  if (self->saves_in_flight > 1)
    return TRUE;

  while (pointing->next < data->moved->len)
    {
      guint end = MIN (data->moved->len,
                       pointing->next + POPCHECK_MAILBOX_SLICE_STEPS);

      for (guint i = pointing->next; i < end; i++)
        {
          const Moved *moved = &g_array_index (data->moved, Moved, i);

          prefetch_ahead (data->messages, data->moved, i);
          popcheck_message_set_cached (g_ptr_array_index (data->messages,
                                                          moved->index),
                                       data->written, moved->offset,
                                       moved->length, pointing->details);
        }
      pointing->next = end;
      if (g_get_monotonic_time () >= deadline)
        return pointing->next == data->moved->len;
    }
  return TRUE;
}

static void
point_end (PopcheckMailbox *self,
           Pointing        *pointing)
{
  SaveData *data = g_task_get_task_data (pointing->thread_task);

  g_assert (self->saves_in_flight > 0);
  self->saves_in_flight--;
  /* Even 100,000 references take a while to drop. */
  popcheck_mailbox_free_in_thread (g_steal_pointer (&data->messages),
                                   g_steal_pointer (&pointing->details));
  g_debug ("Account %s: saved", self->account_id);

  finish_save_waiters (self, data, NULL);
  g_task_return_boolean (pointing->task, TRUE);
}

static gboolean
point_slice_cb (gpointer user_data)
{
  Pointing *pointing = user_data;
  PopcheckMailbox *self = g_task_get_source_object (pointing->task);

  if (!point_slice (self, pointing))
    {
      popcheck_mailbox_slice_wait (g_main_current_source ());
      return G_SOURCE_CONTINUE;
    }

  point_end (self, pointing);
  return G_SOURCE_REMOVE;
}

/* Written: what only the preview shows is read from the file from now
 * on, and an older file is closed once nothing points into it.  Pointing
 * 100,000 messages takes about 8 ms: it goes in slices, as the snapshot
 * did.  It counts as a save in flight, so that a save asked for
 * meanwhile with nothing changed ends with this one. */
static void
save_point_at_file (PopcheckMailbox *self,
                    GTask           *task,
                    GTask           *thread_task)
{
  SaveData *data = g_task_get_task_data (thread_task);
  Pointing *pointing = g_new0 (Pointing, 1);
  g_autoptr(GSource) source = NULL;

  pointing->task = g_object_ref (task);
  pointing->thread_task = g_object_ref (thread_task);
  /* None when a later snapshot's thread got there first. */
  pointing->details = data->dropped != NULL
                        ? g_steal_pointer (&data->dropped)
                        : popcheck_message_dropped_details_new (0);
  /* Nothing to point at.  (Nor while another save's thread may still
   * read a message's details: point_slice () sees that save in flight.) */
  if (data->written == NULL)
    pointing->next = data->moved != NULL ? data->moved->len : 0;
  self->saves_in_flight++;

  if (data->moved == NULL || point_slice (self, pointing))
    {
      point_end (self, pointing);
      pointing_free (pointing);
      return;
    }

  source = popcheck_mailbox_slice_source_new ();
  g_source_set_callback (source, point_slice_cb, pointing,
                         (GDestroyNotify) pointing_free);
  g_source_set_static_name (source, "[popcheck] save points at file");
  g_source_attach (source, g_task_get_context (task));
}

static void
save_thread_done_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  PopcheckMailbox *self = POPCHECK_MAILBOX (object);
  g_autoptr(GTask) task = user_data;
  SaveData *data = g_task_get_task_data (G_TASK (result));
  GError *error = NULL;

  g_assert (self->saves_in_flight > 0);
  self->saves_in_flight--;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      /* Try again at the next save. */
      self->dirty = TRUE;
      g_message ("Could not save the state of account \"%s\": %s",
                 self->account_id, error->message);
      finish_save_waiters (self, data, error);
      g_task_return_error (task, error);
      return;
    }

  /* The next save appends to the file this one wrote. */
  if (data->written != NULL)
    {
      g_clear_pointer (&self->details_file, popcheck_summary_file_unref);
      self->details_file = popcheck_summary_file_ref (data->written);
      self->details_id = data->written_id;
    }

  save_point_at_file (self, task, G_TASK (result));
}

/* The snapshot is taken on the main thread, where the messages live;
 * the thread builds and writes the file.  Once the snapshot is taken the
 * write is not cancelled: a half-done save must not be what a quit
 * leaves behind. */
static void
save_start_thread (PopcheckMailbox *self,
                   GTask           *task,
                   SaveData        *data)
{
  g_autoptr(GTask) thread_task = g_task_new (self, NULL, save_thread_done_cb,
                                             g_object_ref (task));

  g_task_set_source_tag (thread_task, save_thread);
  g_task_set_task_data (thread_task, data, (GDestroyNotify) save_data_free);
  g_task_run_in_thread (thread_task, save_thread);
}

static gboolean save_snapshot_cb (gpointer user_data);

/* A check's end, which asks for a save, has just held the main loop for
 * up to a frame.  The first slice waits for the main loop to be idle, so
 * that a frame due is drawn (and input handled) between the two; but not
 * for ever (popcheck-idle.c).  The rest come a moment after each other,
 * however busy the loop. */
static void
save_ask (PopcheckMailbox *self,
          GTask           *task)
{
  Snapshot *snapshot = g_task_get_task_data (task);
  g_autoptr(GSource) source = popcheck_mailbox_slice_source_new ();

  self->save_asked = task;
  g_source_set_ready_time (source, 0);
  g_task_attach_source (task, source, save_snapshot_cb);
  g_source_set_priority (source, G_PRIORITY_DEFAULT_IDLE);

  snapshot_stop_idle_wait (snapshot);
  snapshot->idle_wait = popcheck_idle_limit_wait (source);
}

/* Each of @waiters is asked for again: the first takes a snapshot, the
 * rest wait for it. */
static void
save_ask_again (PopcheckMailbox *self,
                GPtrArray       *waiters)
{
  for (guint i = 0; i < waiters->len; i++)
    {
      GTask *waiter = g_ptr_array_index (waiters, i);

      if (self->save_asked == NULL)
        save_ask (self, waiter);
      else
        g_ptr_array_add (self->asked_waiters, g_object_ref (waiter));
    }
}

/* The save asked for began its snapshot or joined a save under way: the
 * saves asked for after it end as it does. */
static void
save_asked_taken (PopcheckMailbox *self)
{
  self->save_asked = NULL;
  g_ptr_array_extend_and_steal (self->save_waiters,
                                g_steal_pointer (&self->asked_waiters));
  self->asked_waiters = g_ptr_array_new_with_free_func (g_object_unref);
}

static void
save_asked_cancelled (PopcheckMailbox *self)
{
  g_autoptr(GPtrArray) waiters = g_steal_pointer (&self->asked_waiters);

  self->save_asked = NULL;
  self->asked_waiters = g_ptr_array_new_with_free_func (g_object_unref);
  save_ask_again (self, waiters);
}

/* Cancelled before its snapshot was taken: the change is left to the
 * next save, and the saves that waited for this one are asked for
 * again. */
static void
snapshot_abandon (PopcheckMailbox *self,
                  Snapshot        *snapshot)
{
  g_autoptr(GPtrArray) waiters = g_steal_pointer (&self->save_waiters);

  self->save_waiters = g_ptr_array_new_with_free_func (g_object_unref);
  snapshot_end (self, snapshot);
  snapshot_drop (snapshot);
  self->saves_in_flight--;
  self->dirty = TRUE;
  save_ask_again (self, waiters);
}

/* Begins the snapshot of the save asked for; FALSE if it ended. */
static gboolean
save_asked_begin (PopcheckMailbox *self,
                  GTask           *task,
                  Snapshot        *snapshot)
{
  g_assert (self->save_asked == task);

  if (g_task_return_error_if_cancelled (task))
    {
      save_asked_cancelled (self);
      return FALSE;
    }

  /* Nothing changed since the snapshot a save under way writes (as when
   * popcheck-cli waits for what the checker saved as the check ended):
   * that save is this one too.  A snapshot of a big mailbox, and the
   * file built from it, cost as much as the mailbox: a second one at
   * once would double the peak. */
  if (!self->dirty && self->saves_in_flight > 0)
    {
      g_ptr_array_add (self->save_waiters, g_object_ref (task));
      save_asked_taken (self);
      return FALSE;
    }

  snapshot_begin (self, snapshot);
  save_asked_taken (self);
  g_source_set_priority (g_main_current_source (), G_PRIORITY_DEFAULT);
  return TRUE;
}

static gboolean
save_snapshot_cb (gpointer user_data)
{
  GTask *task = user_data;
  PopcheckMailbox *self = g_task_get_source_object (task);
  Snapshot *snapshot = g_task_get_task_data (task);
  gint64 deadline = popcheck_mailbox_slice_deadline (self);

  if (snapshot->data == NULL)
    {
      snapshot_stop_idle_wait (snapshot);
      if (!save_asked_begin (self, task, snapshot))
        return G_SOURCE_REMOVE;
    }
  else if (g_cancellable_is_cancelled (g_task_get_cancellable (task)))
    {
      snapshot_abandon (self, snapshot);
      g_task_return_error_if_cancelled (task);
      return G_SOURCE_REMOVE;
    }
  else if (snapshot->rows_changed)
    {
      snapshot->at_once = snapshot->restarted;
      snapshot->restarted = TRUE;
      self->snapshot_restarts++;
      snapshot_start_walk (self, snapshot);
    }

  while (!snapshot_step (self, snapshot))
    if (!snapshot->at_once && g_get_monotonic_time () >= deadline)
      {
        popcheck_mailbox_slice_wait (g_main_current_source ());
        return G_SOURCE_CONTINUE;
      }

  snapshot_end (self, snapshot);
  snapshot_finish (snapshot->data, self, snapshot->n_seen);
  save_start_thread (self, task, g_steal_pointer (&snapshot->data));
  return G_SOURCE_REMOVE;
}

void
popcheck_mailbox_save_async (PopcheckMailbox     *self,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (POPCHECK_IS_MAILBOX (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, popcheck_mailbox_save_async);
  /* A save whose snapshot is taken ends as its file does, cancelled or
   * not. */
  g_task_set_check_cancellable (task, FALSE);
  g_task_set_task_data (task, g_new0 (Snapshot, 1), (GDestroyNotify) snapshot_free);

  if (self->newer_state_file)
    {
      g_task_return_new_error (task, POPCHECK_MAILBOX_ERROR,
                               POPCHECK_MAILBOX_ERROR_NEWER_FORMAT,
                               "The saved state of account \"%s\" was "
                               "written by a newer version of PopCheck and "
                               "is not overwritten",
                               self->account_id);
      return;
    }

  if (self->save_asked != NULL)
    g_ptr_array_add (self->asked_waiters, g_object_ref (task));
  else
    save_ask (self, task);
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

static void
delete_state_thread (GTask        *task,
                     gpointer      source_object,
                     gpointer      task_data,
                     GCancellable *cancellable)
{
  const char *path = task_data;

  if (g_unlink (path) != 0 && errno != ENOENT)
    {
      int saved_errno = errno;

      g_task_return_new_error (task, G_IO_ERROR,
                               g_io_error_from_errno (saved_errno),
                               "Could not remove %s: %s", path,
                               g_strerror (saved_errno));
      return;
    }

  remove_other_details (path, NULL);
  {
    g_autofree char *lock = lock_path_for (path);

    g_unlink (lock);
  }
  g_task_return_boolean (task, TRUE);
}

void
popcheck_mailbox_delete_state_async (PopcheckMailbox     *self,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (POPCHECK_IS_MAILBOX (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, popcheck_mailbox_delete_state_async);
  g_task_set_task_data (task, popcheck_mailbox_dup_state_path (self), g_free);
  g_task_run_in_thread (task, delete_state_thread);
}

gboolean
popcheck_mailbox_delete_state_finish (PopcheckMailbox  *self,
                                      GAsyncResult     *result,
                                      GError          **error)
{
  g_return_val_if_fail (POPCHECK_IS_MAILBOX (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        popcheck_mailbox_delete_state_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
