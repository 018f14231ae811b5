/* popcheck-demo.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * "Try the demo mailbox": a real Dovecot on loopback, started by the
 * popcheck-demo-server script in a temporary directory of its own, and an
 * account for it.  The script writes env.sh there, which says how to reach
 * the server; the account trusts exactly the server's self-signed
 * certificate.  The application stops the server when it quits, and the
 * account goes with it, so that the next start does not show an account
 * whose server is gone.
 */

#define G_LOG_DOMAIN "popcheck-demo"

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "popcheck-account.h"
#include "popcheck-account-list.h"
#include "popcheck-demo.h"
#include "popcheck-secret.h"

struct _PopcheckDemo
{
  GObject              parent_instance;

  PopcheckAccountList *accounts;
  /* The server's directory, from the moment a start has begun; the
   * account's id once it exists. */
  char                *dir;
  char                *account_id;
  gboolean             starting;
};

G_DEFINE_FINAL_TYPE (PopcheckDemo, popcheck_demo, G_TYPE_OBJECT)

G_DEFINE_QUARK (popcheck-demo-error-quark, popcheck_demo_error)

enum {
  PROP_0,
  PROP_ACCOUNTS,
  PROP_STARTING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static const char *
demo_server_path (void)
{
  const char *path = g_getenv ("POPCHECK_DEMO_SERVER");

  /* The tests and an uninstalled run point at build-aux/. */
  return path != NULL && *path != '\0' ? path : POPCHECK_DEMO_SERVER;
}

static void
set_starting (PopcheckDemo *self,
              gboolean      starting)
{
  if (self->starting == starting)
    return;

  self->starting = starting;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STARTING]);
}

/* Every end of a start goes through here, so that "starting" follows. */
static void
start_return (GTask  *task,
              GError *error)
{
  PopcheckDemo *self = g_task_get_source_object (task);

  set_starting (self, FALSE);
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

/* env.sh */

typedef struct
{
  char    *host;
  guint16  port;
  char    *user;
  char    *password;
  char    *fingerprint;
} DemoEnv;

static void
demo_env_free (DemoEnv *env)
{
  g_free (env->host);
  g_free (env->user);
  if (env->password != NULL)
    memset (env->password, 0, strlen (env->password));
  g_free (env->password);
  g_free (env->fingerprint);
  g_free (env);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DemoEnv, demo_env_free)

/* env.sh holds NAME=VALUE lines with shell-quoted values. */
static DemoEnv *
demo_env_parse (const char  *contents,
                GError     **error)
{
  g_autoptr(DemoEnv) env = g_new0 (DemoEnv, 1);
  g_auto(GStrv) lines = g_strsplit (contents, "\n", -1);
  guint64 port = 0;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *eq = strchr (lines[i], '=');
      g_autofree char *name = NULL;
      g_autofree char *value = NULL;

      if (eq == NULL || eq == lines[i])
        continue;
      name = g_strndup (lines[i], eq - lines[i]);
      value = g_shell_unquote (eq + 1, NULL);
      if (value == NULL)
        continue;

      /* Each name once; a repeated one keeps its first value. */
      if (g_str_equal (name, "POPCHECK_DEMO_HOST") && env->host == NULL)
        env->host = g_steal_pointer (&value);
      else if (g_str_equal (name, "POPCHECK_DEMO_POP3S_PORT"))
        g_ascii_string_to_unsigned (value, 10, 1, G_MAXUINT16, &port, NULL);
      else if (g_str_equal (name, "POPCHECK_DEMO_USER") && env->user == NULL)
        env->user = g_steal_pointer (&value);
      else if (g_str_equal (name, "POPCHECK_DEMO_PASSWORD") && env->password == NULL)
        env->password = g_steal_pointer (&value);
      else if (g_str_equal (name, "POPCHECK_DEMO_FINGERPRINT") && env->fingerprint == NULL)
        env->fingerprint = g_steal_pointer (&value);
    }

  if (env->host == NULL || port == 0 || env->user == NULL ||
      env->password == NULL || env->fingerprint == NULL)
    {
      g_set_error_literal (error, POPCHECK_DEMO_ERROR, POPCHECK_DEMO_ERROR_INVALID_ENV,
                           _("The demo server did not say how to reach it."));
      return NULL;
    }

  env->port = port;
  return g_steal_pointer (&env);
}

/* Starting */

static void
unstored_account_removed_cb (GObject      *object,
                             GAsyncResult *result,
                             gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!popcheck_account_list_remove_finish (POPCHECK_ACCOUNT_LIST (object),
                                            result, &error))
    g_message ("Could not remove the demo account: %s", error->message);
}

static void
secret_stored_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PopcheckDemo *self = g_task_get_source_object (task);
  DemoEnv *env = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  PopcheckAccount *account;

  account = popcheck_account_list_lookup (self->accounts, self->account_id);
  if (!popcheck_secret_store_finish (result, &error))
    {
      /* Without its password the account would only fail. */
      if (account != NULL)
        popcheck_account_list_remove_async (self->accounts, account, NULL,
                                            unstored_account_removed_cb,
                                            NULL);
      g_clear_pointer (&self->account_id, g_free);
      start_return (task, g_steal_pointer (&error));
      return;
    }

  if (account == NULL)
    {
      start_return (task, g_error_new_literal (POPCHECK_DEMO_ERROR,
                                               POPCHECK_DEMO_ERROR_FAILED,
                                               _("The demo account was removed "
                                                 "while it was being added.")));
      return;
    }

  /* Now the server: the account is checked once it has one, and by then
   * its password is in the keyring. */
  popcheck_account_set_host (account, env->host);
  popcheck_account_set_port (account, env->port);
  popcheck_account_set_security (account, POP3_SECURITY_TLS);
  popcheck_account_set_user (account, env->user);
  /* The demo server's certificate is self-signed: trust exactly it. */
  popcheck_account_set_pinned_fingerprint (account, env->fingerprint);

  start_return (task, NULL);
}

static void
env_loaded_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PopcheckDemo *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  DemoEnv *env;
  PopcheckAccount *account;

  if (!g_file_load_contents_finish (G_FILE (object), result, &contents, NULL, NULL, &error))
    {
      start_return (task, g_steal_pointer (&error));
      return;
    }

  env = demo_env_parse (contents, &error);
  if (env == NULL)
    {
      start_return (task, g_steal_pointer (&error));
      return;
    }

  g_task_set_task_data (task, env, (GDestroyNotify) demo_env_free);

  /* The account first, for the id its password is stored under; with no
   * server yet, nothing checks it before the password is there. */
  account = popcheck_account_list_add (self->accounts, _("Demo mailbox"), &error);
  if (account == NULL)
    {
      start_return (task, g_steal_pointer (&error));
      return;
    }
  g_free (self->account_id);
  self->account_id = g_strdup (popcheck_account_get_id (account));

  popcheck_secret_store_async (self->account_id,
                               POPCHECK_SECRET_KIND_PASSWORD,
                               env->host, env->port, env->user, env->password,
                               g_task_get_cancellable (task),
                               secret_stored_cb, g_object_ref (task));
}

static void
server_started_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PopcheckDemo *self = g_task_get_source_object (task);
  GSubprocess *subprocess = G_SUBPROCESS (object);
  g_autoptr(GError) error = NULL;
  g_autofree char *stderr_text = NULL;
  g_autofree char *env_path = NULL;
  g_autoptr(GFile) env_file = NULL;

  if (!g_subprocess_communicate_utf8_finish (subprocess, result, NULL, &stderr_text, &error))
    {
      start_return (task, g_steal_pointer (&error));
      return;
    }

  if (!g_subprocess_get_successful (subprocess))
    {
      /* The script says why on its standard error. */
      g_strstrip (stderr_text);
      start_return (task, g_error_new (POPCHECK_DEMO_ERROR, POPCHECK_DEMO_ERROR_FAILED, "%s",
                                       stderr_text != NULL && *stderr_text != '\0'
                                         ? stderr_text
                                         : _("The demo server failed to start.")));
      return;
    }

  env_path = g_build_filename (self->dir, "env.sh", NULL);
  env_file = g_file_new_for_path (env_path);
  g_file_load_contents_async (env_file, g_task_get_cancellable (task),
                              env_loaded_cb, g_object_ref (task));
}

void
popcheck_demo_start_async (PopcheckDemo        *self,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) subprocess = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;

  g_return_if_fail (POPCHECK_IS_DEMO (self));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, popcheck_demo_start_async);

  if (self->dir != NULL)
    {
      g_task_return_new_error (task, POPCHECK_DEMO_ERROR, POPCHECK_DEMO_ERROR_RUNNING,
                               _("The demo mailbox runs already."));
      return;
    }

  /* A short path: Dovecot's socket paths must stay under 108 bytes. */
  dir = g_dir_make_tmp ("popcheck-demo-XXXXXX", &error);
  if (dir == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  subprocess = g_subprocess_launcher_spawn (launcher, &error,
                                            demo_server_path (), "start",
                                            "--dir", dir, NULL);
  if (subprocess == NULL)
    {
      g_rmdir (dir);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* From here on, stopping stops whatever started. */
  self->dir = g_steal_pointer (&dir);
  set_starting (self, TRUE);
  g_subprocess_communicate_utf8_async (subprocess, NULL, cancellable,
                                       server_started_cb, g_object_ref (task));
}

gboolean
popcheck_demo_start_finish (PopcheckDemo  *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (POPCHECK_IS_DEMO (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Stopping */

static void
remove_tree (GFile *file)
{
  g_autoptr(GFileEnumerator) children = NULL;

  children = g_file_enumerate_children (file, G_FILE_ATTRIBUTE_STANDARD_NAME ","
                                        G_FILE_ATTRIBUTE_STANDARD_TYPE,
                                        G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS,
                                        NULL, NULL);
  while (children != NULL)
    {
      GFileInfo *info = NULL;
      GFile *child = NULL;

      if (!g_file_enumerator_iterate (children, &info, &child, NULL, NULL) ||
          info == NULL)
        break;
      if (g_file_info_get_file_type (info) == G_FILE_TYPE_DIRECTORY)
        remove_tree (child);
      else
        g_file_delete (child, NULL, NULL);
    }

  g_file_delete (file, NULL, NULL);
}

static void
account_removed_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  gboolean *done = user_data;
  g_autoptr(GError) error = NULL;

  if (!popcheck_account_list_remove_finish (POPCHECK_ACCOUNT_LIST (object), result, &error))
    g_message ("Could not remove the demo account: %s", error->message);
  *done = TRUE;
}

/* Removing an account also clears its password from the keyring, which
 * takes a D-Bus round trip: wait for it, a few seconds at most. */
static void
remove_account (PopcheckDemo *self)
{
  PopcheckAccount *account = popcheck_account_list_lookup (self->accounts,
                                                           self->account_id);
  gint64 deadline = g_get_monotonic_time () + 5 * G_TIME_SPAN_SECOND;
  gboolean done = FALSE;

  if (account == NULL)
    return;

  popcheck_account_list_remove_async (self->accounts, account, NULL,
                                      account_removed_cb, &done);
  while (!done && g_get_monotonic_time () < deadline)
    {
      if (!g_main_context_iteration (NULL, FALSE))
        g_usleep (1000);
    }
}

void
popcheck_demo_stop (PopcheckDemo *self)
{
  g_autoptr(GSubprocess) subprocess = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) dir = NULL;

  g_return_if_fail (POPCHECK_IS_DEMO (self));

  if (self->dir == NULL)
    return;

  if (self->account_id != NULL)
    remove_account (self);
  g_clear_pointer (&self->account_id, g_free);

  subprocess = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                 G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                                 &error,
                                 demo_server_path (), "stop", "--dir", self->dir,
                                 NULL);
  if (subprocess == NULL || !g_subprocess_wait (subprocess, NULL, &error))
    g_message ("Could not stop the demo server: %s", error->message);

  dir = g_file_new_for_path (self->dir);
  remove_tree (dir);
  g_clear_pointer (&self->dir, g_free);
}

/* GObject */

gboolean
popcheck_demo_get_starting (PopcheckDemo *self)
{
  g_return_val_if_fail (POPCHECK_IS_DEMO (self), FALSE);

  return self->starting;
}

static void
popcheck_demo_finalize (GObject *object)
{
  PopcheckDemo *self = POPCHECK_DEMO (object);

  g_clear_object (&self->accounts);
  g_clear_pointer (&self->dir, g_free);
  g_clear_pointer (&self->account_id, g_free);

  G_OBJECT_CLASS (popcheck_demo_parent_class)->finalize (object);
}

static void
popcheck_demo_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  PopcheckDemo *self = POPCHECK_DEMO (object);

  switch (prop_id)
    {
    case PROP_ACCOUNTS:
      g_value_set_object (value, self->accounts);
      break;
    case PROP_STARTING:
      g_value_set_boolean (value, self->starting);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
popcheck_demo_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  PopcheckDemo *self = POPCHECK_DEMO (object);

  switch (prop_id)
    {
    case PROP_ACCOUNTS:
      self->accounts = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
popcheck_demo_class_init (PopcheckDemoClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = popcheck_demo_finalize;
  object_class->get_property = popcheck_demo_get_property;
  object_class->set_property = popcheck_demo_set_property;

  properties[PROP_ACCOUNTS] =
    g_param_spec_object ("accounts", NULL, NULL,
                         POPCHECK_TYPE_ACCOUNT_LIST,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_STATIC_STRINGS));
  properties[PROP_STARTING] =
    g_param_spec_boolean ("starting", NULL, NULL,
                          FALSE,
                          (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
                           G_PARAM_STATIC_STRINGS));
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
popcheck_demo_init (PopcheckDemo *self)
{
}

PopcheckDemo *
popcheck_demo_new (PopcheckAccountList *accounts)
{
  g_return_val_if_fail (POPCHECK_IS_ACCOUNT_LIST (accounts), NULL);

  return g_object_new (POPCHECK_TYPE_DEMO,
                       "accounts", accounts,
                       NULL);
}
