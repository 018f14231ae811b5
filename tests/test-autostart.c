/* test-autostart.c: the "Start at login" entry
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * G_TEST_OPTION_ISOLATE_DIRS gives every test case its own temporary
 * XDG_CONFIG_HOME, so nothing here touches the real autostart folder.
 */

#include "config.h"

#include <glib/gstdio.h>

#include "popcheck-autostart.h"
#include "popcheck-test-util.h"

static char *
autostart_dir (void)
{
  return g_build_filename (g_get_user_config_dir (), "autostart", NULL);
}

static void
assert_entry_written (void)
{
  g_autofree char *path = popcheck_autostart_get_path ();
  g_autoptr(GKeyFile) key_file = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *exec = NULL;
  g_autofree char *type = NULL;

  g_key_file_load_from_file (key_file, path, G_KEY_FILE_NONE, &error);
  g_assert_no_error (error);

  type = g_key_file_get_string (key_file, "Desktop Entry", "Type", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (type, ==, "Application");
  exec = g_key_file_get_string (key_file, "Desktop Entry", "Exec", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (exec, ==, "popcheck --background");
  g_assert_true (g_key_file_get_boolean (key_file, "Desktop Entry",
                                         "X-GNOME-Autostart-enabled", &error));
  g_assert_no_error (error);
  g_assert_false (g_key_file_get_boolean (key_file, "Desktop Entry",
                                          "Hidden", NULL));
}

static void
test_path (void)
{
  g_autofree char *path = popcheck_autostart_get_path ();
  g_autofree char *expected = g_build_filename (g_get_user_config_dir (),
                                                "autostart",
                                                "org.example.PopCheck.desktop",
                                                NULL);

  g_assert_cmpstr (path, ==, expected);
  /* The isolated directory, never the user's. */
  g_assert_true (g_str_has_prefix (path, g_get_tmp_dir ()));
}

static void
test_enable_disable (void)
{
  g_autofree char *path = popcheck_autostart_get_path ();
  g_autofree char *dir = autostart_dir ();
  g_autoptr(GError) error = NULL;

  /* Nothing there yet: off, and the folder does not exist either. */
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
  g_assert_false (popcheck_autostart_is_enabled ());

  g_assert_true (popcheck_autostart_set_enabled (TRUE, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
  g_assert_true (popcheck_autostart_is_enabled ());
  assert_entry_written ();

  /* Turning it on again rewrites the same entry. */
  g_assert_true (popcheck_autostart_set_enabled (TRUE, &error));
  g_assert_no_error (error);
  assert_entry_written ();

  g_assert_true (popcheck_autostart_set_enabled (FALSE, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_false (popcheck_autostart_is_enabled ());

  /* Off when already off is no error. */
  g_assert_true (popcheck_autostart_set_enabled (FALSE, &error));
  g_assert_no_error (error);
}

static void
write_entry (const char *contents)
{
  g_autofree char *path = popcheck_autostart_get_path ();
  g_autofree char *dir = autostart_dir ();
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
}

static void
test_disabled_by_user (void)
{
  write_entry ("[Desktop Entry]\nType=Application\nName=PopCheck\n"
               "Exec=popcheck --background\nHidden=true\n");
  g_assert_false (popcheck_autostart_is_enabled ());

  write_entry ("[Desktop Entry]\nType=Application\nName=PopCheck\n"
               "Exec=popcheck --background\n"
               "X-GNOME-Autostart-enabled=false\n");
  g_assert_false (popcheck_autostart_is_enabled ());

  /* Without the GNOME key the entry is on. */
  write_entry ("[Desktop Entry]\nType=Application\nName=PopCheck\n"
               "Exec=popcheck --background\n");
  g_assert_true (popcheck_autostart_is_enabled ());

  /* Not a key file at all. */
  write_entry ("\x01\x02 not a desktop entry");
  g_assert_false (popcheck_autostart_is_enabled ());
}

static void
test_write_error (void)
{
  g_autofree char *dir = autostart_dir ();
  g_autoptr(GError) error = NULL;

  /* A file where the autostart folder should be. */
  g_assert_cmpint (g_mkdir_with_parents (g_get_user_config_dir (), 0700), ==, 0);
  g_file_set_contents (dir, "not a folder", -1, &error);
  g_assert_no_error (error);

  g_assert_false (popcheck_autostart_set_enabled (TRUE, &error));
  g_assert_error (error, POPCHECK_AUTOSTART_ERROR,
                  POPCHECK_AUTOSTART_ERROR_WRITE);
  g_assert_nonnull (strstr (error->message, dir));
  g_assert_false (popcheck_autostart_is_enabled ());
}

static void
test_remove_error (void)
{
  g_autofree char *path = popcheck_autostart_get_path ();
  g_autofree char *inside = g_build_filename (path, "keep", NULL);
  g_autoptr(GError) error = NULL;

  /* A non-empty folder by the entry's name cannot be unlinked. */
  g_assert_cmpint (g_mkdir_with_parents (path, 0700), ==, 0);
  g_file_set_contents (inside, "", -1, &error);
  g_assert_no_error (error);

  g_assert_false (popcheck_autostart_set_enabled (FALSE, &error));
  g_assert_error (error, POPCHECK_AUTOSTART_ERROR,
                  POPCHECK_AUTOSTART_ERROR_REMOVE);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_true (g_file_test (inside, G_FILE_TEST_EXISTS));
}

static void
async_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
  g_main_context_wakeup (NULL);
}

static gboolean
set_enabled_sync_via_async (gboolean       enabled,
                            GCancellable  *cancellable,
                            GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  popcheck_autostart_set_enabled_async (enabled, cancellable, async_cb,
                                        &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);

  return popcheck_autostart_set_enabled_finish (result, error);
}

static void
test_async (void)
{
  g_autofree char *path = popcheck_autostart_get_path ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (set_enabled_sync_via_async (TRUE, NULL, &error));
  g_assert_no_error (error);
  assert_entry_written ();

  g_assert_true (set_enabled_sync_via_async (FALSE, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));

  /* Cancelled before it ran: nothing written. */
  g_cancellable_cancel (cancellable);
  g_assert_false (set_enabled_sync_via_async (TRUE, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/autostart/path", test_path);
  g_test_add_func ("/autostart/enable-disable", test_enable_disable);
  g_test_add_func ("/autostart/disabled-by-user", test_disabled_by_user);
  g_test_add_func ("/autostart/write-error", test_write_error);
  g_test_add_func ("/autostart/remove-error", test_remove_error);
  g_test_add_func ("/autostart/async", test_async);

  status = g_test_run ();

  /* LeakSanitizer checks at exit: with no worker thread left. */
  popcheck_test_quiesce_threads ();

  return status;
}
