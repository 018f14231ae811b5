/* popcheck-mailbox-store.c: a mailbox's state file
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One file per account holds the UIDs ever seen and the summary of every
 * message, so a restart neither announces old mail again nor sends TOP for
 * what it already knows.  It is read and written in threads, written
 * atomically, and a file that cannot be read is set aside, never trusted
 * as a whole (the summaries in it that check out are recovered);
 * one of a newer format is left to the version that wrote it.
 */

#define G_LOG_DOMAIN "popcheck-mailbox"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "pop3-parser.h"
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
  g_free (state);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PopcheckMailboxLoadedState, loaded_state_free)

static PopcheckMailboxLoadedState *
loaded_state_new (void)
{
  PopcheckMailboxLoadedState *state = g_new0 (PopcheckMailboxLoadedState, 1);

  state->seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  state->messages = g_ptr_array_new_with_free_func (g_object_unref);
  state->fetched = g_ptr_array_new_with_free_func (g_object_unref);

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
      g_hash_table_add (state->seen, g_strdup (uid));

  /* A swapped copy is not where the file has it. */
  if (G_BYTE_ORDER == G_BIG_ENDIAN)
    file = NULL;

  loaded_uids = g_hash_table_new (g_str_hash, g_str_equal);
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
      if (g_hash_table_contains (loaded_uids, message_uid))
        continue;
      g_hash_table_add (loaded_uids, (gpointer) message_uid);

      /* Every listed message is seen; one that is not was fetched by a
       * check that did not end, and waits for the next one, which lists
       * it (and announces it, if it is new). */
      if (g_hash_table_contains (state->seen, message_uid))
        g_ptr_array_add (state->messages, g_steal_pointer (&message));
      else
        g_ptr_array_add (state->fetched, g_steal_pointer (&message));
    }

  /* A file that says "never checked" cannot hold summaries of a check
   * that ended, only what the first one fetched before it stopped. */
  if (!state->first_check_done)
    {
      g_hash_table_remove_all (state->seen);
      g_ptr_array_set_size (state->messages, 0);
    }

  return g_steal_pointer (&state);
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
      const char *uid;

      if (type == NULL)
        continue;

      message = salvage_summary (bytes, type, next, end);
      if (message == NULL)
        continue;

      uid = popcheck_message_get_uid (message);
      if (!g_hash_table_contains (state->seen, uid))
        {
          g_hash_table_add (state->seen, g_strdup (uid));
          g_ptr_array_add (state->messages, g_steal_pointer (&message));
        }
      next = end + 1 + strlen (type);
    }

  if (state->messages->len == 0)
    return NULL;

  state->first_check_done = TRUE;
  state->last_check = GINT64_FROM_LE (last_check);

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

/* The whole file, and the file kept open: the summaries' details are read
 * from it again when asked for, even after a save renamed another file
 * over its name. */
static GBytes *
read_state_file (const char           *path,
                 PopcheckSummaryFile **file,
                 GError              **error)
{
  g_autoptr(PopcheckSummaryFile) opened = NULL;
  g_autofree char *contents = NULL;
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
  contents = g_malloc (MAX (length, 1));
  while (done < length)
    {
      gssize n = read (fd, contents + done, length - done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          set_error_from_errno (error, "read", path);
          return NULL;
        }
      if (n == 0)
        break;
      done += n;
    }

  *file = g_steal_pointer (&opened);
  return g_bytes_new_take (g_steal_pointer (&contents), done);
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
  g_autoptr(PopcheckMailboxLoadedState) state = NULL;
  g_autoptr(PopcheckSummaryFile) file = NULL;
  const char *reason = NULL;
  gboolean newer = FALSE;

  if (g_task_return_error_if_cancelled (task))
    return;

  bytes = read_state_file (path, &file, &error);
  if (bytes == NULL)
    {
      if (g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        g_task_return_pointer (task, loaded_state_new (),
                               (GDestroyNotify) loaded_state_free);
      else
        g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

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
      state = salvage_state (bytes, account_id);
      if (state != NULL)
        g_message ("Recovered %u message summaries of account \"%s\"; what "
                   "they do not tell about will be announced",
                   state->messages->len, account_id);
      else
        state = loaded_state_new ();
      state->set_aside = TRUE;
    }

  g_task_return_pointer (task, g_steal_pointer (&state),
                         (GDestroyNotify) loaded_state_free);
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
 * there by the thread, not on the main loop. */
typedef struct
{
  /* A message whose details are in memory, to build its summary from in
   * the thread; or, for a message without headers, its UID (with size,
   * is_new and top_refusals) to build it from in the thread; or where it
   * is in a file. */
  PopcheckMessage     *message;
  char                *headerless_uid;
  guint64              size;
  guint                top_refusals;
  PopcheckSummaryFile *file;
  guint64              offset;
  gsize                length;
  gboolean             is_new;
} CachedSummary;

typedef struct
{
  char     *path;
  char     *account_id;
  gboolean  first_check_done;
  gint64    last_check;
  GStrv     seen;
  /* For each message written, in order: CachedSummary. */
  GArray    *cached;
  /* The messages themselves, touched on the main thread only. */
  GPtrArray *messages;
  guint64    generation;
  /* Where the thread wrote each summary: the new file, and offsets
   * (CachedSummary without a file) in the order above. */
  PopcheckSummaryFile *written;
  GArray    *written_at;
} SaveData;

static void
cached_summary_clear (gpointer data)
{
  CachedSummary *cached = data;

  g_clear_object (&cached->message);
  g_clear_pointer (&cached->headerless_uid, g_free);
  g_clear_pointer (&cached->file, popcheck_summary_file_unref);
}

static void
save_data_free (SaveData *data)
{
  g_free (data->path);
  g_free (data->account_id);
  g_strfreev (data->seen);
  g_clear_pointer (&data->cached, g_array_unref);
  g_clear_pointer (&data->messages, g_ptr_array_unref);
  g_clear_pointer (&data->written, popcheck_summary_file_unref);
  g_clear_pointer (&data->written_at, g_array_unref);
  g_free (data);
}

static void
snapshot_add (SaveData        *data,
              PopcheckMessage *message)
{
  CachedSummary cached = { NULL, };

  if (!popcheck_message_get_has_uid (message))
    return;

  if (popcheck_message_get_cached (message, &cached.file, &cached.offset,
                                   &cached.length))
    {
      cached.file = popcheck_summary_file_ref (cached.file);
      cached.is_new = popcheck_message_get_is_new (message);
    }
  /* A whole mailbox's summaries take seconds to build: the thread
   * does it.  Their details stay in memory until no save is under
   * way (save_thread_done_cb()). */
  else if (popcheck_message_get_headers_known (message))
    {
      cached.message = g_object_ref (message);
      cached.is_new = popcheck_message_get_is_new (message);
    }
  /* A variant each, for a million messages listed without headers,
   * would cost more than the mailbox itself until the file is
   * written: the values are copied, the thread builds them. */
  else
    {
      cached.headerless_uid = g_strdup (popcheck_message_get_uid (message));
      cached.size = popcheck_message_get_size (message);
      cached.is_new = popcheck_message_get_is_new (message);
      cached.top_refusals = popcheck_message_get_top_refusals (message);
    }
  g_array_append_val (data->cached, cached);
  g_ptr_array_add (data->messages, g_object_ref (message));
}

static SaveData *
take_snapshot (PopcheckMailbox *self)
{
  SaveData *data = g_new0 (SaveData, 1);
  GHashTableIter iter;
  gpointer key, value;
  guint n_seen = 0;

  data->path = popcheck_mailbox_dup_state_path (self);
  data->account_id = g_strdup (self->account_id);
  data->first_check_done = self->first_check_done;
  data->last_check = self->last_check != NULL
                       ? g_date_time_to_unix (self->last_check) : G_GINT64_CONSTANT (0);

  data->seen = g_new (char *, g_hash_table_size (self->seen) + 1);
  g_hash_table_iter_init (&iter, self->seen);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    data->seen[n_seen++] = g_strdup (key);
  data->seen[n_seen] = NULL;

  data->cached = g_array_sized_new (FALSE, TRUE, sizeof (CachedSummary),
                                    self->items->len);
  g_array_set_clear_func (data->cached, cached_summary_clear);
  data->messages = g_ptr_array_new_full (self->items->len, g_object_unref);

  /* A message without a UID is this session's only: nothing could tell
   * it again at the next one. */
  for (guint i = 0; i < self->items->len; i++)
    snapshot_add (data, g_ptr_array_index (self->items, i));

  /* What a check fetched and has not listed yet (it was cancelled, or
   * failed): its UID is not among the seen, which is what tells it apart
   * when it is read back.  A row still waiting for its headers holds
   * nothing a check would not list again. */
  g_hash_table_iter_init (&iter, self->pending);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      PopcheckMessage *message = value;

      if (!popcheck_message_get_headers_pending (message) &&
          !g_hash_table_contains (self->by_uid, key))
        snapshot_add (data, message);
    }

  return data;
}

/* GVariant's framing offsets: each the smallest size that can address
 * the whole container (the GVariant specification, "Framing Offsets"). */
static gsize
array_total_size (gsize body_size,
                  gsize n_offsets)
{
  if (body_size + n_offsets <= G_MAXUINT8)
    return body_size + n_offsets;
  if (body_size + 2 * n_offsets <= G_MAXUINT16)
    return body_size + 2 * n_offsets;
  if (body_size + 4 * n_offsets <= G_MAXUINT32)
    return body_size + 4 * n_offsets;
  return body_size + 8 * n_offsets;
}

/* The summaries as an "av", serialized straight into one buffer: a
 * cached summary's bytes go from the old file to the new one as they are,
 * without a GVariant each (100,000 of them, and what they allocate, would
 * stay with the process after the save). */
static GVariant *
serialize_summaries (SaveData *data)
{
  g_autoptr(GByteArray) body = g_byte_array_new ();
  g_autoptr(GArray) ends = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_autoptr(GBytes) serialized = NULL;
  gsize total, offset_size;
  guint8 *out;

  data->written_at = g_array_sized_new (FALSE, FALSE, sizeof (CachedSummary),
                                        data->cached->len);

  for (guint i = 0; i < data->cached->len; i++)
    {
      const CachedSummary *cached = &g_array_index (data->cached, CachedSummary, i);
      g_autoptr(GVariant) boxed = NULL;
      static const guint8 padding[8] = { 0, };
      guint64 end;

      if (cached->message != NULL)
        boxed = g_variant_ref_sink (g_variant_new_variant (popcheck_message_to_variant_in_thread (cached->message,
                                                                                                  cached->is_new)));
      else if (cached->headerless_uid != NULL)
        boxed = g_variant_ref_sink (g_variant_new_variant (popcheck_message_headerless_variant_new (cached->headerless_uid,
                                                                                                    cached->size,
                                                                                                    cached->is_new,
                                                                                                    cached->top_refusals)));
      else
        {
          g_autoptr(GBytes) bytes = NULL;
          g_autoptr(GError) error = NULL;

          bytes = popcheck_summary_file_read (cached->file, cached->offset,
                                              cached->length, &error);
          if (bytes != NULL)
            boxed = popcheck_message_boxed_from_cache (bytes, cached->is_new,
                                                       &error);
          /* Lost: the next check sends TOP for it again.  The UID is
           * still in "seen", so it is not announced as new. */
          if (boxed == NULL)
            {
              g_message ("Account \"%s\": dropping a cached summary: %s",
                         data->account_id, error->message);
              continue;
            }
        }

      /* Each child of an "av" starts at a multiple of 8. */
      g_byte_array_append (body, padding, (8 - body->len % 8) % 8);
      {
        gsize size = g_variant_get_size (boxed);
        guint old_len = body->len;

        CachedSummary at = { NULL, };

        g_byte_array_set_size (body, old_len + size);
        g_variant_store (boxed, body->data + old_len);
        /* Where it lies in the "av", for note_written(). */
        at.offset = old_len;
        at.length = size;
        g_array_append_val (data->written_at, at);
      }
      end = body->len;
      g_array_append_val (ends, end);
    }

  total = array_total_size (body->len, ends->len);
  offset_size = ends->len > 0 ? (total - body->len) / ends->len : 0;
  g_byte_array_set_size (body, total);
  out = body->data + total - ends->len * offset_size;
  /* In this machine's byte order, as the children are: serialize_state()
   * swaps the whole file on a big-endian one. */
  for (guint i = 0; i < ends->len; i++)
    {
      guint64 end = g_array_index (ends, guint64, i);
      guint8 *at = out + i * offset_size;

      switch (offset_size)
        {
        case 1:
          *at = (guint8) end;
          break;
        case 2:
          {
            guint16 value = (guint16) end;

            memcpy (at, &value, sizeof value);
          }
          break;
        case 4:
          {
            guint32 value = (guint32) end;

            memcpy (at, &value, sizeof value);
          }
          break;
        default:
          memcpy (at, &end, sizeof end);
          break;
        }
    }

  serialized = g_byte_array_free_to_bytes (g_steal_pointer (&body));
  return g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE ("av"),
                                                       serialized, FALSE));
}

static GVariant *
serialize_state (SaveData *data)
{
  g_autoptr(GVariant) messages = serialize_summaries (data);
  GVariant *payload;
  GVariant *state;

  payload = g_variant_new ("(sbx^as@av)",
                           data->account_id,
                           data->first_check_done,
                           data->last_check,
                           data->seen, messages);
  state = g_variant_ref_sink (g_variant_new ("(suv)", STATE_MAGIC,
                                             STATE_VERSION, payload));

  /* The file is little-endian wherever it was written. */
  if (G_BYTE_ORDER == G_BIG_ENDIAN)
    {
      GVariant *swapped = g_variant_byteswap (state);

      g_variant_unref (state);
      state = swapped;
    }

  return state;
}

/* Where each summary went in the file just written, and the file held
 * open: the messages' details can be dropped and read from there. */
static void
note_written (SaveData *data,
              GVariant *state)
{
  g_autoptr(GVariant) payload_box = NULL;
  g_autoptr(GVariant) payload = NULL;
  g_autoptr(GVariant) messages = NULL;
  const guint8 *base = g_variant_get_data (state);
  GStatBuf info;
  guint64 start;
  gsize n;
  int fd;

  if (G_BYTE_ORDER == G_BIG_ENDIAN)
    return;

  payload_box = g_variant_get_child_value (state, 2);
  payload = g_variant_get_variant (payload_box);
  messages = g_variant_get_child_value (payload, 4);
  n = g_variant_n_children (messages);
  /* A summary that could not be read again was left out: then the
   * order no longer matches, and the details stay where they are. */
  if (n != data->messages->len || n != data->written_at->len)
    return;

  fd = g_open (data->path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    return;
  if (fstat (fd, &info) != 0 || (guint64) info.st_size != g_variant_get_size (state))
    {
      g_close (fd, NULL);
      return;
    }

  /* The "av" lies in the file as serialize_summaries() laid it out, so
   * each summary is where it was put there, moved by where the array
   * begins.  Asking the array for a million children one by one would
   * take minutes. */
  start = (const guint8 *) g_variant_get_data (messages) - base;
  for (gsize i = 0; i < n; i++)
    g_array_index (data->written_at, CachedSummary, i).offset += start;
  data->written = popcheck_summary_file_new (fd);
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
  g_autoptr(GVariant) state = NULL;
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

  state = serialize_state (data);

  /* Temporary file, fsync, rename: a crash leaves the old state or the
   * new one, never half of one. */
  if (!g_file_set_contents_full (data->path,
                                 g_variant_get_data (state),
                                 g_variant_get_size (state),
                                 G_FILE_SET_CONTENTS_CONSISTENT |
                                 G_FILE_SET_CONTENTS_DURABLE,
                                 0600, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  note_written (data, state);
  self->saved_generation = data->generation;
  /* Only the messages are needed after this, on the main thread. */
  g_clear_pointer (&state, g_variant_unref);
  g_clear_pointer (&data->cached, g_array_unref);
  g_clear_pointer (&data->seen, g_strfreev);
  release_free_memory ();
  g_task_return_boolean (task, TRUE);
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
      g_task_return_error (task, error);
      return;
    }

  /* Written: what only the preview shows is read from the file from now
   * on, and the older file is closed once nothing points into it.  Not
   * while another save's thread may still read a message's details. */
  if (data->written != NULL && self->saves_in_flight == 0)
    for (guint i = 0; i < data->messages->len; i++)
      {
        const CachedSummary *at = &g_array_index (data->written_at, CachedSummary, i);

        popcheck_message_set_cached (g_ptr_array_index (data->messages, i),
                                     data->written, at->offset, at->length);
      }
  g_clear_pointer (&data->messages, g_ptr_array_unref);
  g_debug ("Account %s: saved", self->account_id);

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

  /* The snapshot is taken now, on the main thread, where the messages
   * live; the thread builds and writes the file. */
  data = take_snapshot (self);
  data->generation = ++self->save_generation;
  self->saves_in_flight++;
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
