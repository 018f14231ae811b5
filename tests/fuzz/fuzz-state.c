/* fuzz-state.c: libFuzzer harness for the reader of the state files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The input is a u32 (little-endian) length, that many bytes of index
 * (ACCOUNT.state), and the rest as the details file the index names.  The
 * length's top bit has the reader skip the frames' checks, for mutated
 * frames to reach the parser of what they hold; built so only here.
 * PopCheck reads these files at every start, and may find them cut by a
 * crash, damaged by a disk, edited, or written by another version.
 * Whatever it reads, it must load without a crash or a critical, list
 * only summaries with valid UIDs and clean text, and read their details
 * (from the details file, at offsets the index gives) safely too.
 */

#define G_LOG_DOMAIN "fuzz-state"

#include "config.h"

#include <glib/gstdio.h>

#include "popcheck-mailbox-private.h"
#include "message-checks.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

extern gboolean popcheck_mailbox_fuzzing_skips_checks;

/* Where the index keeps the id of its details file. */
#define DETAILS_ID_OFFSET 40
/* Details read per input: each is a thread's round trip. */
#define MAX_DETAILS_READ  4

static char *state_dir;

static void
done_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static void
remove_state_files (void)
{
  g_autoptr(GDir) dir = g_dir_open (state_dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (state_dir, name, NULL);

      check (g_unlink (path) == 0);
    }
}

static void
write_files (const char   *index_path,
             const guint8 *index,
             gsize         index_size,
             const guint8 *details,
             gsize         details_size)
{
  check (g_file_set_contents (index_path, (const char *) index, index_size, NULL));

  if (index_size >= DETAILS_ID_OFFSET + 8)
    {
      g_autofree char *details_path = NULL;
      guint64 id;

      memcpy (&id, index + DETAILS_ID_OFFSET, sizeof id);
      details_path = g_strdup_printf ("%.*s.details-%016" G_GINT64_MODIFIER "x",
                                      (int) (strlen (index_path) - strlen (".state")),
                                      index_path, GUINT64_FROM_LE (id));
      check (g_file_set_contents (details_path, (const char *) details,
                                  details_size, NULL));
    }
}

static void
check_listed (PopcheckMessage *message)
{
  const char *fields[] = {
    popcheck_message_get_subject (message),
    popcheck_message_get_from (message),
    popcheck_message_get_from_name (message),
    popcheck_message_get_from_address (message),
    popcheck_message_get_message_id (message),
  };

  check (pop3_uid_is_valid (popcheck_message_get_uid (message)));
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    if (fields[i] != NULL)
      check_text (fields[i], TRUE, POPCHECK_MESSAGE_MAX_FIELD);
}

static void
check_details (PopcheckMessage *message)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(PopcheckMessage) whole = NULL;

  popcheck_message_load_details_async (message, NULL, done_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);

  /* Details that cannot be read are an error the preview shows. */
  whole = popcheck_message_load_details_finish (message, result, NULL);
  if (whole != NULL && popcheck_message_get_headers_known (whole))
    check_message (whole);
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  g_autoptr(PopcheckMailbox) mailbox = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *index_path = NULL;
  guint32 index_size;
  guint n_items;

  /* A critical is a misuse of an API, which input must never cause. */
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);

  if (state_dir == NULL)
    {
      g_autofree char *home = g_dir_make_tmp ("fuzz-state-XXXXXX", NULL);

      check (home != NULL);
      /* Before anything asks GLib for it, which keeps the first answer. */
      g_setenv ("XDG_STATE_HOME", home, TRUE);
      state_dir = g_build_filename (home, "popcheck", NULL);
      check (g_mkdir_with_parents (state_dir, 0700) == 0);
    }

  if (size < sizeof index_size)
    return 0;
  memcpy (&index_size, data, sizeof index_size);
  index_size = GUINT32_FROM_LE (index_size);
  popcheck_mailbox_fuzzing_skips_checks = (index_size & 0x80000000) != 0;
  index_size = MIN (index_size & 0x7FFFFFFF, size - sizeof index_size);

  mailbox = popcheck_mailbox_new ("fuzz");
  index_path = popcheck_mailbox_dup_state_path (mailbox);
  remove_state_files ();
  write_files (index_path, data + sizeof index_size, index_size,
               data + sizeof index_size + index_size,
               size - sizeof index_size - index_size);

  popcheck_mailbox_load_async (mailbox, NULL, done_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  if (!popcheck_mailbox_load_finish (mailbox, result, &error))
    {
      /* A newer version's file is left alone; nothing else fails. */
      check (g_error_matches (error, POPCHECK_MAILBOX_ERROR,
                              POPCHECK_MAILBOX_ERROR_NEWER_FORMAT));
      return 0;
    }

  n_items = g_list_model_get_n_items (G_LIST_MODEL (mailbox));
  for (guint i = 0; i < n_items; i++)
    {
      g_autoptr(PopcheckMessage) message =
        g_list_model_get_item (G_LIST_MODEL (mailbox), i);

      check_listed (message);
      check (popcheck_mailbox_lookup (mailbox, popcheck_message_get_uid (message)) == message);
      if (i < MAX_DETAILS_READ)
        check_details (message);
    }

  return 0;
}
