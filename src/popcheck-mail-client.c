/* popcheck-mail-client.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * GIO finds the mailto: handler from mimeapps.list and the installed
 * .desktop files (x-scheme-handler/mailto), as GNOME Settings' "Default
 * Applications" sets it.  It reads them once and then keeps them in
 * memory, watching the directories; GAppInfoMonitor says when they
 * changed, and only then is the handler looked up again.
 */

#define G_LOG_DOMAIN "popcheck-mail-client"

#include "config.h"

#include <glib/gi18n.h>

#include "popcheck-mail-client.h"

struct _PopcheckMailClient
{
  GObject          parent_instance;

  GAppInfoMonitor *monitor;
  GAppInfo        *app_info;   /* NULL: none */
};

G_DEFINE_FINAL_TYPE (PopcheckMailClient, popcheck_mail_client, G_TYPE_OBJECT)

G_DEFINE_QUARK (popcheck-mail-client-error-quark, popcheck_mail_client_error)

enum {
  PROP_0,
  PROP_AVAILABLE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
look_up (PopcheckMailClient *self)
{
  g_autoptr(GAppInfo) app_info = g_app_info_get_default_for_uri_scheme ("mailto");
  gboolean was_available = self->app_info != NULL;

  g_set_object (&self->app_info, app_info);
  if (was_available != (self->app_info != NULL))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_AVAILABLE]);
}

static void
apps_changed_cb (PopcheckMailClient *self)
{
  look_up (self);
}

static void
popcheck_mail_client_dispose (GObject *object)
{
  PopcheckMailClient *self = POPCHECK_MAIL_CLIENT (object);

  if (self->monitor != NULL)
    g_signal_handlers_disconnect_by_data (self->monitor, self);
  g_clear_object (&self->monitor);
  g_clear_object (&self->app_info);

  G_OBJECT_CLASS (popcheck_mail_client_parent_class)->dispose (object);
}

static void
popcheck_mail_client_get_property (GObject    *object,
                                   guint       prop_id,
                                   GValue     *value,
                                   GParamSpec *pspec)
{
  PopcheckMailClient *self = POPCHECK_MAIL_CLIENT (object);

  switch (prop_id)
    {
    case PROP_AVAILABLE:
      g_value_set_boolean (value, self->app_info != NULL);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
popcheck_mail_client_class_init (PopcheckMailClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = popcheck_mail_client_dispose;
  object_class->get_property = popcheck_mail_client_get_property;

  properties[PROP_AVAILABLE] =
    g_param_spec_boolean ("available", NULL, NULL,
                          FALSE,
                          (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
                           G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
popcheck_mail_client_init (PopcheckMailClient *self)
{
  self->monitor = g_app_info_monitor_get ();
  g_signal_connect_object (self->monitor, "changed",
                           G_CALLBACK (apps_changed_cb), self,
                           G_CONNECT_SWAPPED);
  look_up (self);
}

PopcheckMailClient *
popcheck_mail_client_new (void)
{
  return g_object_new (POPCHECK_TYPE_MAIL_CLIENT, NULL);
}

gboolean
popcheck_mail_client_get_available (PopcheckMailClient *self)
{
  g_return_val_if_fail (POPCHECK_IS_MAIL_CLIENT (self), FALSE);

  return self->app_info != NULL;
}

static void
launched_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!g_app_info_launch_uris_finish (G_APP_INFO (object), result, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

void
popcheck_mail_client_launch_async (PopcheckMailClient  *self,
                                   GAppLaunchContext   *context,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (POPCHECK_IS_MAIL_CLIENT (self));
  g_return_if_fail (context == NULL || G_IS_APP_LAUNCH_CONTEXT (context));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, popcheck_mail_client_launch_async);

  if (self->app_info == NULL)
    {
      g_task_return_new_error (task, POPCHECK_MAIL_CLIENT_ERROR,
                               POPCHECK_MAIL_CLIENT_ERROR_NONE_SET,
                               "%s",
                               _("No mail program is set. Choose one in your "
                                 "desktop’s settings, under Default Applications."));
      return;
    }

  /* No URI: the program opens as from the application menu, not with a
   * message to write. */
  g_app_info_launch_uris_async (self->app_info, NULL, context, cancellable,
                                launched_cb, g_steal_pointer (&task));
}

gboolean
popcheck_mail_client_launch_finish (PopcheckMailClient  *self,
                                    GAsyncResult        *result,
                                    GError             **error)
{
  g_return_val_if_fail (POPCHECK_IS_MAIL_CLIENT (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
