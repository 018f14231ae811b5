/* state-bench.c: a big mailbox's state file, timed, and its memory
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 *   state-bench [--messages N]
 *
 * Builds N summaries (100,000 by default) the way a check does, from
 * generated TOP replies (encoded words, To and Cc, 20 preview lines, some
 * attachments), and in a private XDG_STATE_HOME measures:
 *
 *   - saving them (the first save, every summary in memory: the index and
 *     the whole details file are written), loading them into a fresh
 *     mailbox (the index is read; the details file is only opened), and
 *     saving the loaded mailbox again after a check (the index is
 *     written, the details file left as it is), each from the call to its
 *     callback, against reading and writing the index's bytes with
 *     g_file_get_contents() and g_file_set_contents_full() (the floor)
 *     in the same run, and writing the details file's bytes so for the
 *     first save;
 *   - loading them again in a process that did nothing before, as an
 *     app just started does: its heap has no free memory yet, which the
 *     load in this process finds after the save;
 *   - the longest the main loop went without running a 1 ms timeout
 *     during each of them (loading and saving must not block it);
 *   - the resident memory and heap (mallinfo2) a loaded summary costs.
 *
 * Not part of `meson test`: run it by hand or with `meson test --benchmark`.
 */

#include "config.h"

#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>

#include "pop3-client.h"
#include "popcheck-mailbox-private.h"

static const char *names[] = {
  "=?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?=", "=?ISO-8859-1?Q?Zo=EB_Lef=E8vre?=",
  "Alice Example", "GitLab", "=?UTF-8?B?5byg5Lyf?=", "Mailing list robot",
};
static const char *words[] = {
  "the", "of", "and", "message", "server", "mailbox", "check", "pipeline",
  "header", "window", "latency", "résumé", "café", "über", "straße",
};

typedef struct
{
  gint64 last;
  gint64 longest;
} Stall;

static gboolean
tick_cb (gpointer user_data)
{
  Stall *stall = user_data;
  gint64 now = g_get_monotonic_time ();

  stall->longest = MAX (stall->longest, now - stall->last);
  stall->last = now;
  return G_SOURCE_CONTINUE;
}

static GBytes *
generate_top (guint   i,
              GRand  *rand)
{
  g_autoptr(GString) text = g_string_new (NULL);
  const char *name = names[g_rand_int_range (rand, 0, G_N_ELEMENTS (names))];
  gboolean attachment = i % 3 == 0;

  g_string_append_printf (text,
                          "Received: from mx%u.example.net by pop.example.org; "
                          "Mon, 1 Jan 2024 00:00:00 +0000\r\n"
                          "From: %s <sender%u@example.org>\r\n"
                          "To: Bob <bob@example.org>, team%u@lists.example.net\r\n"
                          "Cc: Carol <carol@example.org>\r\n"
                          "Subject: =?UTF-8?Q?R=C3=A9union_de_lundi_?= %u\r\n"
                          "Date: Mon, %u Jan 2024 %02u:%02u:00 +0100\r\n"
                          "Message-ID: <%u.%08x@example.org>\r\n"
                          "MIME-Version: 1.0\r\n",
                          i % 7, name, i % 500, i % 20, i,
                          1 + i % 28, i % 24, i % 60, i, g_rand_int (rand));
  if (attachment)
    g_string_append (text, "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
                           "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n");
  else
    g_string_append (text, "Content-Type: text/plain; charset=utf-8\r\n\r\n");

  for (guint line = 0; line < 20; line++)
    {
      for (guint w = 0; w < 10; w++)
        g_string_append_printf (text, "%s%s", w > 0 ? " " : "",
                                words[g_rand_int_range (rand, 0, G_N_ELEMENTS (words))]);
      g_string_append (text, "\r\n");
    }
  if (attachment)
    g_string_append_printf (text,
                            "--b\r\nContent-Type: application/pdf; name=r%u.pdf\r\n"
                            "Content-Disposition: attachment; filename=r%u.pdf\r\n"
                            "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b--\r\n",
                            i, i);

  return g_string_free_to_bytes (g_steal_pointer (&text));
}

/* What UIDL and LIST say of the mailbox. */
static void
server_listing (guint       n,
                Pop3UidListing **server,
                GArray    **sizes)
{
  *server = pop3_uid_listing_new ();
  *sizes = g_array_new (FALSE, FALSE, sizeof (Pop3ListEntry));

  for (guint i = 1; i <= n; i++)
    {
      g_autofree char *uid = NULL;
      Pop3ListEntry size = { i, 2000 + i % 40000 };

      uid = g_strdup_printf ("%08x%016" G_GINT64_MODIFIER "x", i,
                             (guint64) i * 2654435761u);
      pop3_uid_listing_add (*server, i, uid);
      g_array_append_val (*sizes, size);
    }
}

static PopcheckMailbox *
generate_mailbox (guint n)
{
  PopcheckMailbox *mailbox = popcheck_mailbox_new ("bench");
  g_autoptr(Pop3UidListing) server = NULL;
  g_autoptr(GArray) sizes = NULL;
  g_autoptr(GPtrArray) need_top = NULL;
  g_autoptr(GPtrArray) announced = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (15);

  server_listing (n, &server, &sizes);
  need_top = popcheck_mailbox_begin_update (mailbox, server, sizes);
  for (guint i = 0; i < need_top->len; i++)
    {
      Pop3UidEntry *entry = g_ptr_array_index (need_top, i);
      g_autoptr(GBytes) top = generate_top (entry->msg, rand);
      g_autoptr(PopcheckMessage) message =
        popcheck_message_new_from_top (entry->uid, 2000 + entry->msg % 40000,
                                       entry->msg, top, 20);

      popcheck_mailbox_add_summary (mailbox, message);
    }
  announced = popcheck_mailbox_end_update (mailbox);

  return mailbox;
}

static void
done_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

/* Seconds from the call to the callback; *stall_ms is the longest the
 * main loop went without a tick meanwhile. */
static double
run_timed (PopcheckMailbox *mailbox,
           gboolean         save,
           double          *stall_ms)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  Stall stall = { 0, 0 };
  gint64 start;
  guint tick;
  gboolean ok;

  tick = g_timeout_add (1, tick_cb, &stall);
  start = stall.last = g_get_monotonic_time ();
  if (save)
    popcheck_mailbox_save_async (mailbox, NULL, done_cb, &result);
  else
    popcheck_mailbox_load_async (mailbox, NULL, done_cb, &result);
  stall.longest = g_get_monotonic_time () - start;
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (tick);
  tick_cb (&stall);

  ok = save ? popcheck_mailbox_save_finish (mailbox, result, &error)
            : popcheck_mailbox_load_finish (mailbox, result, &error);
  if (!ok)
    g_error ("%s failed: %s", save ? "Saving" : "Loading", error->message);

  *stall_ms = stall.longest / 1000.0;
  return (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
}

static gsize
rss_kib (void)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return 0;
  line = strstr (status, "VmRSS:");
  return line != NULL ? g_ascii_strtoull (line + 6, NULL, 10) : 0;
}

/* Every arena's, not only the main one's as mallinfo2() says. */
static gsize
heap_bytes (void)
{
  g_autofree char *xml = NULL;
  gsize size = 0, total = 0;
  FILE *stream = open_memstream (&xml, &size);
  const char *at;

  malloc_info (0, stream);
  fclose (stream);
  /* The last <total type="mmap"> and <system type="current"> are the
   * whole heap's; what is in use is that minus the free chunks. */
  at = g_strrstr (xml, "<system type=\"current\" size=\"");
  if (at != NULL)
    total = g_ascii_strtoull (at + strlen ("<system type=\"current\" size=\""), NULL, 10);
  at = g_strrstr (xml, "<total type=\"mmap\" count=\"");
  if (at != NULL && (at = strstr (at, "size=\"")) != NULL)
    total += g_ascii_strtoull (at + strlen ("size=\""), NULL, 10);
  at = g_strrstr (xml, "<total type=\"fast\" count=\"");
  if (at != NULL && (at = strstr (at, "size=\"")) != NULL)
    total -= g_ascii_strtoull (at + strlen ("size=\""), NULL, 10);
  at = g_strrstr (xml, "<total type=\"rest\" count=\"");
  if (at != NULL && (at = strstr (at, "size=\"")) != NULL)
    total -= g_ascii_strtoull (at + strlen ("size=\""), NULL, 10);

  return total;
}

/* In the child, with the parent's XDG_STATE_HOME: loads the state file,
 * checks and saves as the app would, and says what that cost. */
static int
measure_memory (guint n)
{
  g_autoptr(PopcheckMailbox) loaded = popcheck_mailbox_new ("bench");
  g_autoptr(Pop3UidListing) server = NULL;
  g_autoptr(GArray) sizes = NULL;
  g_autoptr(GPtrArray) need_top = NULL;
  g_autoptr(GPtrArray) announced = NULL;
  g_autofree char *path = popcheck_mailbox_dup_state_path (loaded);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  gsize rss_before, rss_loaded, heap_before, heap_loaded, length;
  double load, raw_read, stall;
  gint64 start;

  server_listing (n, &server, &sizes);
  rss_before = rss_kib ();
  heap_before = heap_bytes ();
  load = run_timed (loaded, FALSE, &stall);
  rss_loaded = rss_kib ();
  heap_loaded = heap_bytes ();

  start = g_get_monotonic_time ();
  if (!g_file_get_contents (path, &contents, &length, &error))
    g_error ("%s", error->message);
  raw_read = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
  g_clear_pointer (&contents, g_free);
  g_print ("%-36s %7.3f s %7.3f s %6.1fx %9.1f ms\n",
           "load, in a process just started", load, raw_read,
           load / raw_read, stall);

  need_top = popcheck_mailbox_begin_update (loaded, server, sizes);
  announced = popcheck_mailbox_end_update (loaded);
  run_timed (loaded, TRUE, &stall);

  g_print ("memory of a loaded summary: %.0f bytes resident (%.0f after a "
           "check and a save), %.0f bytes of heap in use\n",
           (double) (rss_loaded - rss_before) * 1024 / n,
           (double) (rss_kib () - rss_before) * 1024 / n,
           (double) (heap_loaded - heap_before) / n);
  return 0;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PopcheckMailbox) fresh = NULL;
  g_autoptr(PopcheckMailbox) loaded = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *details_path = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *details = NULL;
  g_autofree char *copy = NULL;
  int messages = 100000;
  double first_save, load, second_save, raw_read, raw_write, raw_details_write;
  double first_save_stall, load_stall, second_save_stall;
  g_autofree char *memory = NULL;
  const char *argv0 = argv[0];
  gsize length = 0;
  gsize details_length = 0;
  int memory_of = 0;
  gint64 start;
  GOptionEntry entries[] = {
    { "messages", 0, 0, G_OPTION_ARG_INT, &messages, "Summaries (100000)", "N" },
    { "memory-of", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &memory_of, NULL, NULL },
    { NULL }
  };

  context = g_option_context_new ("- time a big mailbox's state file");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || messages < 1)
    {
      g_printerr ("%s\n", error != NULL ? error->message : "--messages: at least 1");
      return 2;
    }

  if (memory_of > 0)
    return measure_memory (memory_of);

  dir = g_dir_make_tmp ("popcheck-state-bench-XXXXXX", &error);
  g_assert_no_error (error);
  g_setenv ("XDG_STATE_HOME", dir, TRUE);

  g_printerr ("state-bench: generating %d summaries\n", messages);
  fresh = generate_mailbox (messages);
  path = popcheck_mailbox_dup_state_path (fresh);

  /* The first GTask of a process sets up GLib's thread pool, 12-20 ms
   * here: the app has done that long before its first save. */
  g_object_unref (g_task_new (NULL, NULL, NULL, NULL));
  first_save = run_timed (fresh, TRUE, &first_save_stall);
  details_path = popcheck_mailbox_dup_details_path (fresh);
  g_clear_object (&fresh);
  malloc_trim (0);

  /* The first save's floor: all its bytes written by GLib. */
  if (!g_file_get_contents (details_path, &details, &details_length, &error))
    g_error ("%s", error->message);
  copy = g_strconcat (details_path, ".copy", NULL);
  start = g_get_monotonic_time ();
  if (!g_file_set_contents_full (copy, details, details_length,
                                 G_FILE_SET_CONTENTS_CONSISTENT |
                                 G_FILE_SET_CONTENTS_DURABLE, 0600, &error))
    g_error ("%s", error->message);
  raw_details_write = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
  g_unlink (copy);
  g_clear_pointer (&copy, g_free);
  g_clear_pointer (&details, g_free);

  /* The floor: the same bytes, read and written with nothing done to them. */
  start = g_get_monotonic_time ();
  if (!g_file_get_contents (path, &contents, &length, &error))
    g_error ("%s", error->message);
  raw_read = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
  copy = g_strconcat (path, ".copy", NULL);
  start = g_get_monotonic_time ();
  if (!g_file_set_contents_full (copy, contents, length,
                                 G_FILE_SET_CONTENTS_CONSISTENT |
                                 G_FILE_SET_CONTENTS_DURABLE, 0600, &error))
    g_error ("%s", error->message);
  raw_write = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
  g_unlink (copy);
  g_clear_pointer (&contents, g_free);
  malloc_trim (0);

  loaded = popcheck_mailbox_new ("bench");
  load = run_timed (loaded, FALSE, &load_stall);
  if (popcheck_mailbox_get_n_items (loaded) != (guint) messages)
    g_error ("Loaded %u summaries of %d", popcheck_mailbox_get_n_items (loaded), messages);

  /* A check that finds nothing new, and its save: what every later check
   * does.  The details come from the file. */
  {
    g_autoptr(Pop3UidListing) server = NULL;
    g_autoptr(GArray) sizes = NULL;
    g_autoptr(GPtrArray) need_top = NULL;
    g_autoptr(GPtrArray) announced = NULL;
    g_autoptr(PopcheckMessage) first = g_list_model_get_item (G_LIST_MODEL (loaded), 0);

    server_listing (messages, &server, &sizes);
    need_top = popcheck_mailbox_begin_update (loaded, server, sizes);
    if (need_top->len != 0)
      g_error ("A check of the loaded mailbox wants %u TOPs", need_top->len);
    announced = popcheck_mailbox_end_update (loaded);
    popcheck_message_set_is_new (first, TRUE);
  }
  second_save = run_timed (loaded, TRUE, &second_save_stall);
  g_clear_object (&loaded);

  /* Memory in a process that did nothing else before: what an app
   * started with this state file pays for it. */
  {
    g_autofree char *count = g_strdup_printf ("%d", messages);
    const char *child[] = { argv0, "--memory-of", count, NULL };
    g_autofree char *out = NULL;
    int status;

    if (!g_spawn_sync (NULL, (char **) child, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                       &out, NULL, &status, &error) ||
        !g_spawn_check_wait_status (status, &error))
      g_error ("Measuring memory: %s", error->message);
    memory = g_steal_pointer (&out);
  }

  g_print ("%d summaries, index %.1f MB, details %.1f MB; baseline: the same "
           "bytes read and written by GLib alone, same run\n", messages,
           length / 1e6, details_length / 1e6);
  g_print ("%-36s %9s %9s %7s %12s\n", "", "PopCheck", "baseline", "ratio",
           "main loop");
  g_print ("%-36s %7.3f s %7.3f s %6.1fx %9.1f ms\n", "save (summaries from TOP)",
           first_save, raw_write + raw_details_write,
           first_save / (raw_write + raw_details_write), first_save_stall);
  g_print ("%-36s %7.3f s %7.3f s %6.1fx %9.1f ms\n", "load",
           load, raw_read, load / raw_read, load_stall);
  g_print ("%-36s %7.3f s %7.3f s %6.1fx %9.1f ms\n", "save (loaded summaries)",
           second_save, raw_write, second_save / raw_write, second_save_stall);
  g_print ("%s", memory);
  g_print ("(\"main loop\": the longest the main loop went without running "
           "a 1 ms timeout)\n");

  g_clear_object (&loaded);
  g_unlink (path);
  g_unlink (details_path);
  {
    g_autofree char *parent = g_path_get_dirname (path);

    g_rmdir (parent);
  }
  g_rmdir (dir);

  return 0;
}
