/* popcheck-mail-client.h: the desktop's mail program, for "Open Mail Client"
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The mail program is the default handler of mailto: links, as the
 * desktop's own settings choose it.  "available" says whether there is
 * one, and follows changes to the installed applications and defaults.
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define POPCHECK_MAIL_CLIENT_ERROR (popcheck_mail_client_error_quark ())

/**
 * PopcheckMailClientError:
 * @POPCHECK_MAIL_CLIENT_ERROR_NONE_SET: no application handles mailto:
 */
typedef enum
{
  POPCHECK_MAIL_CLIENT_ERROR_NONE_SET,
} PopcheckMailClientError;

#define POPCHECK_TYPE_MAIL_CLIENT (popcheck_mail_client_get_type ())

G_DECLARE_FINAL_TYPE (PopcheckMailClient, popcheck_mail_client, POPCHECK,
                      MAIL_CLIENT, GObject)

GQuark              popcheck_mail_client_error_quark     (void);

PopcheckMailClient *popcheck_mail_client_new             (void);

/* Whether the desktop has a mail program. */
gboolean            popcheck_mail_client_get_available   (PopcheckMailClient   *self);

/* Starts the mail program, without a message to write. */
void                popcheck_mail_client_launch_async    (PopcheckMailClient   *self,
                                                          GAppLaunchContext    *context,
                                                          GCancellable         *cancellable,
                                                          GAsyncReadyCallback   callback,
                                                          gpointer              user_data);
gboolean            popcheck_mail_client_launch_finish   (PopcheckMailClient   *self,
                                                          GAsyncResult         *result,
                                                          GError              **error);

G_END_DECLS
