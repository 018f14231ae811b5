/* pop3-bench.c: the benchmark's scenarios, run with PopCheck's engine
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One scenario per run, timed from connect() to the reply to QUIT, printed
 * as one JSON line with the round trips the engine counted:
 *
 *   1  first check: UIDL + LIST, then TOP n 0 for every message, and QUIT
 *      queued right behind the last TOP (nothing is left to decide);
 *   2  a check that finds nothing new: UIDL + LIST, QUIT;
 *   3  a check with new messages: UIDL + LIST, TOP n 0 for each message
 *      whose UID is not in --known-uids, QUIT;
 *   4  deleting by UID: UIDL, the UIDs of --delete-uids mapped to message
 *      numbers, every DELE in one batch, QUIT.
 *
 * Commands are queued as soon as what they need is known, the way the
 * checker queues them; the engine decides how many go out at once
 * (PIPELINING, or lockstep with --lockstep).  --dump-tops writes every TOP
 * reply, in the order the callbacks saw them, so that a pipelined run can
 * be compared byte for byte with a lockstep one.
 */

#define G_LOG_DOMAIN "pop3-bench"

#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "pop3-client.h"

typedef enum
{
  SCENARIO_FIRST_CHECK = 1,
  SCENARIO_NOTHING_NEW,
  SCENARIO_NEW_MESSAGES,
  SCENARIO_DELETE,
} Scenario;

typedef struct
{
  Scenario      scenario;
  Pop3Client   *client;
  GMainLoop    *loop;
  GHashTable   *known_uids;
  GStrv         delete_uids;
  const char   *save_uids;
  FILE         *dump;

  Pop3Reply    *uidl;
  Pop3Reply    *list;
  guint         listings_pending;

  guint         messages;
  guint         tops;
  guint64       top_bytes;
  guint         deleted;
  gint64        started;
  gint64        finished;
  GError       *error;
} Bench;

static void
bench_fail (Bench  *bench,
            GError *error)
{
  if (bench->error == NULL)
    bench->error = error;
  else
    g_error_free (error);

  pop3_client_close (bench->client);
  g_main_loop_quit (bench->loop);
}

/* The reply of a command, or NULL when it failed and the run is over. */
static Pop3Reply *
finish_command (Bench        *bench,
                GObject      *object,
                GAsyncResult *result)
{
  Pop3Reply *reply;
  GError *error = NULL;

  reply = pop3_client_command_finish (POP3_CLIENT (object), result, &error);
  if (reply == NULL)
    bench_fail (bench, error);

  return reply;
}

static void
quit_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  Bench *bench = user_data;
  g_autoptr(Pop3Reply) reply = finish_command (bench, object, result);

  bench->finished = g_get_monotonic_time ();
  if (reply != NULL)
    g_main_loop_quit (bench->loop);
}

static void
top_cb (GObject      *object,
        GAsyncResult *result,
        gpointer      user_data)
{
  Bench *bench = user_data;
  g_autoptr(Pop3Reply) reply = finish_command (bench, object, result);
  gconstpointer data;
  gsize size;

  if (reply == NULL)
    return;

  data = g_bytes_get_data (reply->body, &size);
  bench->tops++;
  bench->top_bytes += size;
  if (bench->dump != NULL)
    {
      fprintf (bench->dump, "%s\n", reply->line);
      fwrite (data, 1, size, bench->dump);
    }
}

static void
dele_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  Bench *bench = user_data;
  g_autoptr(Pop3Reply) reply = finish_command (bench, object, result);

  if (reply != NULL)
    bench->deleted++;
}

static void
save_uids (Bench *bench)
{
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < pop3_uid_listing_get_length (bench->uidl->uids); i++)
    g_string_append_printf (text, "%s\n",
                            pop3_uid_listing_get_uid (bench->uidl->uids, i));

  if (!g_file_set_contents (bench->save_uids, text->str, text->len, &error))
    g_printerr ("pop3-bench: %s\n", error->message);
}

/* UIDL (and LIST) are in: queue everything else at once. */
static void
listings_done (Bench *bench)
{
  Pop3UidListing *uids = bench->uidl->uids;

  bench->messages = pop3_uid_listing_get_length (uids);
  if (bench->save_uids != NULL)
    save_uids (bench);

  if (bench->scenario == SCENARIO_DELETE)
    {
      g_autoptr(GHashTable) numbers = g_hash_table_new (g_str_hash,
                                                        g_str_equal);

      for (guint i = 0; i < bench->messages; i++)
        g_hash_table_insert (numbers,
                             (gpointer) pop3_uid_listing_get_uid (uids, i),
                             GUINT_TO_POINTER (pop3_uid_listing_get_msg (uids, i)));
      for (guint i = 0; bench->delete_uids[i] != NULL; i++)
        {
          guint msg = GPOINTER_TO_UINT (g_hash_table_lookup (
            numbers, bench->delete_uids[i]));

          if (msg == 0)
            {
              bench_fail (bench, g_error_new (POP3_ERROR,
                                              POP3_ERROR_INVALID_ARGUMENT,
                                              "UID %s is not in the mailbox",
                                              bench->delete_uids[i]));
              return;
            }
          pop3_client_dele_async (bench->client, msg, NULL, dele_cb, bench);
        }
    }
  else
    {
      for (guint i = 0; i < bench->messages; i++)
        {
          if (bench->scenario != SCENARIO_FIRST_CHECK &&
              g_hash_table_contains (bench->known_uids,
                                     pop3_uid_listing_get_uid (uids, i)))
            continue;
          pop3_client_top_async (bench->client,
                                 pop3_uid_listing_get_msg (uids, i), 0, NULL,
                                 top_cb, bench);
        }
    }

  pop3_client_quit_async (bench->client, NULL, quit_cb, bench);
}

static void
listing_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  Bench *bench = user_data;
  Pop3Reply *reply = finish_command (bench, object, result);

  if (reply == NULL)
    return;

  if (reply->uids != NULL)
    bench->uidl = reply;
  else
    bench->list = reply;

  if (--bench->listings_pending == 0)
    listings_done (bench);
}

static void
login_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  Bench *bench = user_data;
  GError *error = NULL;

  if (!pop3_client_login_finish (POP3_CLIENT (object), result, &error))
    {
      bench_fail (bench, error);
      return;
    }

  /* UIDL and LIST go out together; deleting needs no sizes. */
  bench->listings_pending = 1;
  pop3_client_uidl_async (bench->client, 0, NULL, listing_cb, bench);
  if (bench->scenario != SCENARIO_DELETE)
    {
      bench->listings_pending++;
      pop3_client_list_async (bench->client, 0, NULL, listing_cb, bench);
    }
}

typedef struct
{
  Bench      *bench;
  const char *user;
  const char *password;
} ConnectStep;

static void
connect_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  ConnectStep *step = user_data;
  GError *error = NULL;

  if (!pop3_client_connect_finish (POP3_CLIENT (object), result, &error))
    {
      bench_fail (step->bench, error);
      return;
    }

  pop3_client_login_async (POP3_CLIENT (object), step->user, step->password,
                           POP3_AUTH_AUTO, NULL, login_cb, step->bench);
}

/* A file of UIDs, one a line. */
static GStrv
read_uid_list (const char  *path,
               GError     **error)
{
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  if (!g_file_get_contents (path, &contents, NULL, error))
    return NULL;

  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (lines[i][0] != '\0')
      g_strv_builder_add (builder, lines[i]);

  return g_strv_builder_end (builder);
}

static GHashTable *
read_uid_set (const char  *path,
              GError     **error)
{
  g_auto(GStrv) uids = read_uid_list (path, error);
  GHashTable *set;

  if (uids == NULL)
    return NULL;

  set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; uids[i] != NULL; i++)
    g_hash_table_add (set, g_steal_pointer (&uids[i]));

  return set;
}

static void
print_result (Bench      *bench,
              const char *security)
{
  g_autoptr(GString) json = g_string_new (NULL);

  g_string_append_printf (json,
                          "{\"client\": \"popcheck\", \"scenario\": %d, "
                          "\"security\": \"%s\", \"pipelining\": %s, ",
                          bench->scenario, security,
                          pop3_client_is_pipelining (bench->client) ?
                          "true" : "false");
  if (bench->error != NULL)
    {
      g_autofree char *escaped = g_strescape (bench->error->message, NULL);

      g_string_append_printf (json, "\"error\": \"%s\"}", escaped);
    }
  else
    {
      g_string_append_printf (json,
                              "\"seconds\": %.6f, \"round_trips\": %u, "
                              "\"messages\": %u, \"tops\": %u, "
                              "\"top_bytes\": %" G_GUINT64_FORMAT ", "
                              "\"deleted\": %u}",
                              (bench->finished - bench->started) /
                              (double) G_USEC_PER_SEC,
                              pop3_client_get_round_trips (bench->client),
                              bench->messages, bench->tops, bench->top_bytes,
                              bench->deleted);
    }

  g_print ("%s\n", json->str);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *host = NULL;
  g_autofree char *user = NULL;
  g_autofree char *password = NULL;
  g_autofree char *security_name = NULL;
  g_autofree char *ca_file = NULL;
  g_autofree char *known_uids = NULL;
  g_autofree char *delete_uids = NULL;
  g_autofree char *save_uids_path = NULL;
  g_autofree char *dump_tops = NULL;
  int port = 0;
  int scenario = 0;
  gboolean lockstep = FALSE;
  GOptionEntry entries[] = {
    { "host", 0, 0, G_OPTION_ARG_STRING, &host, "Server", "HOST" },
    { "port", 0, 0, G_OPTION_ARG_INT, &port, "Port", "N" },
    { "security", 0, 0, G_OPTION_ARG_STRING, &security_name,
      "tls, starttls or none (default none)", "MODE" },
    { "ca-file", 0, 0, G_OPTION_ARG_FILENAME, &ca_file,
      "Trust the certificates of this PEM file", "PEM" },
    { "user", 0, 0, G_OPTION_ARG_STRING, &user, "User", "NAME" },
    { "password", 0, 0, G_OPTION_ARG_STRING, &password,
      "Password (a throwaway demo password)", "PW" },
    { "scenario", 0, 0, G_OPTION_ARG_INT, &scenario, "1 to 4", "N" },
    { "known-uids", 0, 0, G_OPTION_ARG_FILENAME, &known_uids,
      "Scenarios 2 and 3: the UIDs seen before, one a line", "FILE" },
    { "delete-uids", 0, 0, G_OPTION_ARG_FILENAME, &delete_uids,
      "Scenario 4: the UIDs to delete, one a line", "FILE" },
    { "save-uids", 0, 0, G_OPTION_ARG_FILENAME, &save_uids_path,
      "Write the UIDL listing here, one UID a line", "FILE" },
    { "dump-tops", 0, 0, G_OPTION_ARG_FILENAME, &dump_tops,
      "Write every TOP reply here, in the order they came", "FILE" },
    { "lockstep", 0, 0, G_OPTION_ARG_NONE, &lockstep,
      "Never pipeline, even when the server offers it", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(Pop3Client) client = NULL;
  g_autoptr(GHashTable) known = NULL;
  g_auto(GStrv) to_delete = NULL;
  Pop3Security security = POP3_SECURITY_NONE;
  Bench bench = { 0 };
  ConnectStep step;

  context = g_option_context_new ("- run one scenario of the POP3 benchmark");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("pop3-bench: %s\n", error->message);
      return 2;
    }
  if (host == NULL || user == NULL || password == NULL ||
      port <= 0 || port > G_MAXUINT16 ||
      scenario < SCENARIO_FIRST_CHECK || scenario > SCENARIO_DELETE ||
      (security_name != NULL &&
       !pop3_security_from_string (security_name, &security)) ||
      ((scenario == SCENARIO_NOTHING_NEW ||
        scenario == SCENARIO_NEW_MESSAGES) && known_uids == NULL) ||
      (scenario == SCENARIO_DELETE && delete_uids == NULL))
    {
      g_printerr ("pop3-bench: --host, --port, --user, --password and "
                  "--scenario are needed; scenarios 2 and 3 need "
                  "--known-uids, 4 needs --delete-uids\n");
      return 2;
    }

  if (known_uids != NULL &&
      (known = read_uid_set (known_uids, &error)) == NULL)
    {
      g_printerr ("pop3-bench: %s\n", error->message);
      return 2;
    }
  if (delete_uids != NULL &&
      (to_delete = read_uid_list (delete_uids, &error)) == NULL)
    {
      g_printerr ("pop3-bench: %s\n", error->message);
      return 2;
    }

  client = pop3_client_new ();
  pop3_client_set_pipelining (client, !lockstep);
  if (ca_file != NULL)
    {
      g_autoptr(GTlsDatabase) database =
        g_tls_file_database_new (ca_file, &error);

      if (database == NULL)
        {
          g_printerr ("pop3-bench: %s\n", error->message);
          return 2;
        }
      pop3_client_set_tls_database (client, database);
    }

  loop = g_main_loop_new (NULL, FALSE);
  bench.scenario = scenario;
  bench.client = client;
  bench.loop = loop;
  bench.known_uids = known;
  bench.delete_uids = to_delete;
  bench.save_uids = save_uids_path;
  if (dump_tops != NULL && (bench.dump = fopen (dump_tops, "wb")) == NULL)
    {
      g_printerr ("pop3-bench: cannot write %s\n", dump_tops);
      return 2;
    }

  step.bench = &bench;
  step.user = user;
  step.password = password;
  bench.started = g_get_monotonic_time ();
  pop3_client_connect_async (client, host, port, security, NULL, connect_cb,
                             &step);
  g_main_loop_run (loop);

  print_result (&bench, pop3_security_to_string (security));

  if (bench.dump != NULL)
    fclose (bench.dump);
  g_clear_pointer (&bench.uidl, pop3_reply_unref);
  g_clear_pointer (&bench.list, pop3_reply_unref);
  if (bench.error != NULL)
    {
      g_printerr ("pop3-bench: %s\n", bench.error->message);
      g_clear_error (&bench.error);
      return 1;
    }

  return 0;
}
