/* popcheck-autostart.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The entry follows the XDG Autostart specification: a desktop entry in
 * $XDG_CONFIG_HOME/autostart.  A user who disabled it by hand (Hidden=true,
 * or GNOME's X-GNOME-Autostart-enabled=false) has not asked to start at
 * login, so is_enabled() says no for such a file.
 */

#define G_LOG_DOMAIN "popcheck-autostart"

#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "popcheck-autostart.h"

#define AUTOSTART_FILE_NAME APPLICATION_ID ".desktop"

G_DEFINE_QUARK (popcheck-autostart-error-quark, popcheck_autostart_error)

char *
popcheck_autostart_get_path (void)
{
  return g_build_filename (g_get_user_config_dir (), "autostart",
                           AUTOSTART_FILE_NAME, NULL);
}

static char *
autostart_contents (void)
{
  g_autoptr(GKeyFile) key_file = g_key_file_new ();

  g_key_file_set_string (key_file, G_KEY_FILE_DESKTOP_GROUP,
                         G_KEY_FILE_DESKTOP_KEY_TYPE,
                         G_KEY_FILE_DESKTOP_TYPE_APPLICATION);
  g_key_file_set_string (key_file, G_KEY_FILE_DESKTOP_GROUP,
                         G_KEY_FILE_DESKTOP_KEY_NAME, "PopCheck");
  g_key_file_set_string (key_file, G_KEY_FILE_DESKTOP_GROUP,
                         G_KEY_FILE_DESKTOP_KEY_COMMENT,
                         "Check POP3 mailboxes in the background");
  g_key_file_set_string (key_file, G_KEY_FILE_DESKTOP_GROUP,
                         G_KEY_FILE_DESKTOP_KEY_ICON, APPLICATION_ID);
  g_key_file_set_string (key_file, G_KEY_FILE_DESKTOP_GROUP,
                         G_KEY_FILE_DESKTOP_KEY_EXEC, "popcheck --background");
  g_key_file_set_boolean (key_file, G_KEY_FILE_DESKTOP_GROUP,
                          G_KEY_FILE_DESKTOP_KEY_TERMINAL, FALSE);
  g_key_file_set_boolean (key_file, G_KEY_FILE_DESKTOP_GROUP,
                          G_KEY_FILE_DESKTOP_KEY_NO_DISPLAY, TRUE);
  g_key_file_set_boolean (key_file, G_KEY_FILE_DESKTOP_GROUP,
                          "X-GNOME-Autostart-enabled", TRUE);

  return g_key_file_to_data (key_file, NULL, NULL);
}

gboolean
popcheck_autostart_is_enabled (void)
{
  g_autofree char *path = popcheck_autostart_get_path ();
  g_autoptr(GKeyFile) key_file = g_key_file_new ();
  g_autoptr(GError) error = NULL;

  if (!g_key_file_load_from_file (key_file, path, G_KEY_FILE_NONE, &error))
    return FALSE;

  if (g_key_file_get_boolean (key_file, G_KEY_FILE_DESKTOP_GROUP,
                              G_KEY_FILE_DESKTOP_KEY_HIDDEN, NULL))
    return FALSE;

  /* A missing key means enabled. */
  if (g_key_file_has_key (key_file, G_KEY_FILE_DESKTOP_GROUP,
                          "X-GNOME-Autostart-enabled", NULL) &&
      !g_key_file_get_boolean (key_file, G_KEY_FILE_DESKTOP_GROUP,
                               "X-GNOME-Autostart-enabled", NULL))
    return FALSE;

  return TRUE;
}

static gboolean
autostart_write (const char  *path,
                 GError     **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *contents = autostart_contents ();
  g_autoptr(GError) local_error = NULL;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, POPCHECK_AUTOSTART_ERROR,
                   POPCHECK_AUTOSTART_ERROR_WRITE,
                   _("Could not create the folder %s: %s"),
                   dir, g_strerror (saved_errno));
      return FALSE;
    }

  if (!g_file_set_contents_full (path, contents, -1,
                                 G_FILE_SET_CONTENTS_CONSISTENT |
                                 G_FILE_SET_CONTENTS_ONLY_EXISTING,
                                 0644, &local_error))
    {
      g_set_error (error, POPCHECK_AUTOSTART_ERROR,
                   POPCHECK_AUTOSTART_ERROR_WRITE,
                   _("Could not write the login start entry %s: %s"),
                   path, local_error->message);
      return FALSE;
    }

  return TRUE;
}

static gboolean
autostart_remove (const char  *path,
                  GError     **error)
{
  if (g_unlink (path) != 0 && errno != ENOENT)
    {
      int saved_errno = errno;

      g_set_error (error, POPCHECK_AUTOSTART_ERROR,
                   POPCHECK_AUTOSTART_ERROR_REMOVE,
                   _("Could not remove the login start entry %s: %s"),
                   path, g_strerror (saved_errno));
      return FALSE;
    }

  return TRUE;
}

gboolean
popcheck_autostart_set_enabled (gboolean   enabled,
                                GError   **error)
{
  g_autofree char *path = popcheck_autostart_get_path ();

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (enabled)
    return autostart_write (path, error);
  else
    return autostart_remove (path, error);
}

static void
set_enabled_thread (GTask        *task,
                    gpointer      source_object,
                    gpointer      task_data,
                    GCancellable *cancellable)
{
  gboolean enabled = GPOINTER_TO_INT (task_data);
  GError *error = NULL;

  if (g_task_return_error_if_cancelled (task))
    return;

  if (popcheck_autostart_set_enabled (enabled, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
popcheck_autostart_set_enabled_async (gboolean             enabled,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, popcheck_autostart_set_enabled_async);
  g_task_set_task_data (task, GINT_TO_POINTER (!!enabled), NULL);
  g_task_run_in_thread (task, set_enabled_thread);
}

gboolean
popcheck_autostart_set_enabled_finish (GAsyncResult  *result,
                                       GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        popcheck_autostart_set_enabled_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
