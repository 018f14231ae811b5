/* popcheck-test-demo.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "popcheck-test-demo"

#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "popcheck-test-demo.h"

static char *
script_path (void)
{
  const char *source_dir = g_getenv ("POPCHECK_SOURCE_DIR");

  g_assert_nonnull (source_dir);
  return g_build_filename (source_dir, "build-aux", "popcheck-demo-server",
                           NULL);
}

static char *
run_script (const char * const *args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_ptr_array_add (argv, script_path ());
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (args[i]));
  g_ptr_array_add (argv, NULL);

  process = g_subprocess_newv ((const char * const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                               G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  if (!g_subprocess_get_successful (process))
    g_error ("popcheck-demo-server %s failed: %s", args[0], err);

  return g_steal_pointer (&out);
}

static void
read_env (PopcheckTestDemo *demo)
{
  g_autofree char *path = g_build_filename (demo->dir, "env.sh", NULL);
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GError) error = NULL;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);

  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *eq = strchr (lines[i], '=');
      g_autofree char *name = NULL;
      g_autofree char *value = NULL;

      if (eq == NULL)
        continue;
      name = g_strndup (lines[i], eq - lines[i]);
      value = g_shell_unquote (eq + 1, &error);
      g_assert_no_error (error);

      if (g_str_equal (name, "POPCHECK_DEMO_HOST"))
        demo->host = g_steal_pointer (&value);
      else if (g_str_equal (name, "POPCHECK_DEMO_POP3_PORT"))
        demo->pop3_port = atoi (value);
      else if (g_str_equal (name, "POPCHECK_DEMO_POP3S_PORT"))
        demo->pop3s_port = atoi (value);
      else if (g_str_equal (name, "POPCHECK_DEMO_CA_FILE"))
        demo->ca_file = g_steal_pointer (&value);
      else if (g_str_equal (name, "POPCHECK_DEMO_FINGERPRINT"))
        demo->fingerprint = g_steal_pointer (&value);
    }

  g_assert_nonnull (demo->host);
  g_assert_cmpuint (demo->pop3_port, >, 0);
  g_assert_cmpuint (demo->pop3s_port, >, 0);
  g_assert_nonnull (demo->fingerprint);
}

PopcheckTestDemo *
popcheck_test_demo_start_oauth2 (const char *introspect_url)
{
  PopcheckTestDemo *demo = g_new0 (PopcheckTestDemo, 1);
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;

  /* Under /tmp, not a test's private XDG dir: as root, Dovecot's mail user
   * must be able to reach the Maildirs. */
  demo->dir = g_dir_make_tmp ("popcheck-test-XXXXXX", &error);
  g_assert_no_error (error);
  g_chmod (demo->dir, 0755);

  out = run_script ((const char *[]) {
    "start", "--dir", demo->dir,
    introspect_url != NULL ? "--oauth2-introspect" : NULL, introspect_url,
    NULL });
  read_env (demo);

  return demo;
}

PopcheckTestDemo *
popcheck_test_demo_start (void)
{
  return popcheck_test_demo_start_oauth2 (NULL);
}

void
popcheck_test_demo_stop (PopcheckTestDemo *demo)
{
  g_autofree char *out = NULL;

  if (demo == NULL)
    return;

  out = run_script ((const char *[]) { "stop", "--dir", demo->dir, NULL });

  if (g_getenv ("POPCHECK_KEEP_TEST_DIRS") == NULL)
    {
      g_autofree char *command = g_strdup_printf ("rm -rf '%s'", demo->dir);
      g_spawn_command_line_sync (command, NULL, NULL, NULL, NULL);
    }

  g_free (demo->dir);
  g_free (demo->host);
  g_free (demo->ca_file);
  g_free (demo->fingerprint);
  g_free (demo);
}

void
popcheck_test_demo_add_user (PopcheckTestDemo *demo,
                             const char       *user,
                             const char       *password,
                             gboolean          empty)
{
  g_autofree char *out = NULL;

  out = run_script ((const char *[]) {
    "add-user", "--dir", demo->dir, "--user", user, "--password", password,
    empty ? "--empty" : NULL, NULL });
}

void
popcheck_test_demo_deliver (PopcheckTestDemo *demo,
                            const char       *user,
                            const char       *message_id,
                            const char       *subject)
{
  g_autoptr(GDateTime) date = g_date_time_new_utc (2023, 1, 3, 10, 0, 0);

  popcheck_test_demo_deliver_dated (demo, user, message_id, subject, date);
}

void
popcheck_test_demo_deliver_dated (PopcheckTestDemo *demo,
                                  const char       *user,
                                  const char       *message_id,
                                  const char       *subject,
                                  GDateTime        *date)
{
  const char *message_ids[] = { message_id, NULL };
  const char *subjects[] = { subject, NULL };
  GDateTime *dates[] = { date, NULL };

  popcheck_test_demo_deliver_all (demo, user, message_ids, subjects, dates);
}

/* A temporary file holding text, for the script to deliver. */
static char *
write_message_file (const char *text)
{
  g_autoptr(GError) error = NULL;
  char *path = NULL;
  int fd;

  fd = g_file_open_tmp ("popcheck-mail-XXXXXX.eml", &path, &error);
  g_assert_no_error (error);
  close (fd);
  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
  return path;
}

void
popcheck_test_demo_deliver_raw (PopcheckTestDemo *demo,
                                const char       *user,
                                const char       *text)
{
  g_autofree char *path = write_message_file (text);
  g_autofree char *out = NULL;

  out = run_script ((const char *[]) {
    "deliver", "--dir", demo->dir, "--user", user, path, NULL });
  g_unlink (path);
}

/* A Date: header, in English whatever the locale (RFC 5322 3.3). */
static char *
format_date_header (GDateTime *date)
{
  static const char *const days[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
  static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
  g_autoptr(GDateTime) utc = g_date_time_to_utc (date);

  return g_strdup_printf ("%s, %02d %s %d %02d:%02d:%02d +0000",
                          days[g_date_time_get_day_of_week (utc) - 1],
                          g_date_time_get_day_of_month (utc),
                          months[g_date_time_get_month (utc) - 1],
                          g_date_time_get_year (utc),
                          g_date_time_get_hour (utc),
                          g_date_time_get_minute (utc),
                          g_date_time_get_second (utc));
}

/* One run of the script for them all: starting it once a message would
 * make a test of many messages wait for hundreds of processes. */
void
popcheck_test_demo_deliver_all (PopcheckTestDemo  *demo,
                                const char        *user,
                                const char *const *message_ids,
                                const char *const *subjects,
                                GDateTime * const *dates)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *out = NULL;

  g_ptr_array_add (args, g_strdup ("deliver"));
  g_ptr_array_add (args, g_strdup ("--dir"));
  g_ptr_array_add (args, g_strdup (demo->dir));
  g_ptr_array_add (args, g_strdup ("--user"));
  g_ptr_array_add (args, g_strdup (user));

  for (guint i = 0; message_ids[i] != NULL; i++)
    {
      g_autofree char *date_text = format_date_header (dates[i]);
      g_autofree char *text = NULL;

      text = g_strdup_printf ("From: Test Sender <sender@example.org>\n"
                              "To: %s@localhost\n"
                              "Subject: %s\n"
                              "Date: %s\n"
                              "Message-ID: %s\n"
                              "\n"
                              "Body of %s.\n",
                              user, subjects[i], date_text, message_ids[i], subjects[i]);
      g_ptr_array_add (args, write_message_file (text));
    }
  g_ptr_array_add (args, NULL);

  out = run_script ((const char * const *) args->pdata);
  for (guint i = 5; i < args->len - 1; i++)
    g_unlink (g_ptr_array_index (args, i));
}

char *
popcheck_test_demo_maildir (PopcheckTestDemo *demo,
                            const char       *user)
{
  return g_build_filename (demo->dir, "home", user, "Maildir", NULL);
}

static void
for_each_message (PopcheckTestDemo *demo,
                  const char       *user,
                  void            (*func) (const char *path,
                                           const char *name,
                                           gpointer    data),
                  gpointer          data)
{
  g_autofree char *maildir = popcheck_test_demo_maildir (demo, user);
  const char *subdirs[] = { "new", "cur" };

  for (guint i = 0; i < G_N_ELEMENTS (subdirs); i++)
    {
      g_autofree char *path = g_build_filename (maildir, subdirs[i], NULL);
      g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;

      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *file = g_build_filename (path, name, NULL);

          func (file, name, data);
        }
    }
}

static void
collect_message_id (const char *path,
                    const char *name,
                    gpointer    data)
{
  GPtrArray *ids = data;
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return;

  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL && lines[i][0] != '\0'; i++)
    if (g_ascii_strncasecmp (lines[i], "Message-ID:", 11) == 0)
      {
        g_ptr_array_add (ids, g_strstrip (g_strdup (lines[i] + 11)));
        break;
      }
}

static gint
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return g_strcmp0 (*(const char **) a, *(const char **) b);
}

GStrv
popcheck_test_demo_message_ids (PopcheckTestDemo *demo,
                                const char       *user)
{
  GPtrArray *ids = g_ptr_array_new ();

  for_each_message (demo, user, collect_message_id, ids);
  g_ptr_array_sort (ids, compare_strings);
  g_ptr_array_add (ids, NULL);

  return (GStrv) g_ptr_array_free (ids, FALSE);
}

static void
check_seen (const char *path,
            const char *name,
            gpointer    data)
{
  const char *info = strstr (name, ":2,");

  if (info != NULL && strchr (info + 3, 'S') != NULL)
    *(gboolean *) data = TRUE;
}

gboolean
popcheck_test_demo_any_seen (PopcheckTestDemo *demo,
                             const char       *user)
{
  gboolean seen = FALSE;

  for_each_message (demo, user, check_seen, &seen);
  return seen;
}
