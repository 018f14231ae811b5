/* popcheck-notifier-thread.h: libnotify's calls, away from the main loop
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * libnotify's show and close are synchronous D-Bus calls: a notification
 * server that hangs holds the caller until libnotify's call times out
 * (25 s).  The notifier hands them to this thread instead.  Notifications
 * are named by a key of the caller's choosing; calls run one at a time in
 * the order they were made, so a later notification for a key replaces
 * the earlier one on screen.  What happens to them comes back as callbacks
 * in the main context of whoever created the thread.
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _PopcheckNotifierThread PopcheckNotifierThread;

typedef struct
{
  /* A show went out (error NULL) or failed. */
  void (*shown)  (gpointer      user_data,
                  const char   *key,
                  const GError *error);
  /* The user chose one of the notification's actions. */
  void (*action) (gpointer      user_data,
                  const char   *key,
                  const char   *action);
  /* The server closed the notification (the user, a timeout, or close). */
  void (*closed) (gpointer      user_data,
                  const char   *key);
} PopcheckNotifierThreadCallbacks;

PopcheckNotifierThread *popcheck_notifier_thread_new   (const char                            *app_name,
                                                        const PopcheckNotifierThreadCallbacks *callbacks,
                                                        gpointer                               user_data);

/* Shows the key's notification, replacing what it showed before.
 * category: NULL for none; sound_name: the desktop's sound to play with
 * it (a sound theme name), NULL for silence; actions: pairs of action id
 * and label, NULL-terminated. */
void                    popcheck_notifier_thread_show  (PopcheckNotifierThread *self,
                                                        const char             *key,
                                                        const char             *summary,
                                                        const char             *body,
                                                        const char             *category,
                                                        const char             *sound_name,
                                                        const char * const     *actions);
/* Asks the server to close the key's notification. */
void                    popcheck_notifier_thread_close (PopcheckNotifierThread *self,
                                                        const char             *key);
/* Forgets the key's notification without closing it: the next show for
 * the key is a new notification. */
void                    popcheck_notifier_thread_forget (PopcheckNotifierThread *self,
                                                         const char             *key);

/* No more callbacks; calls not started are dropped.  Waits a moment for
 * a call in progress, never longer (see the .c), and frees the thread. */
void                    popcheck_notifier_thread_stop  (PopcheckNotifierThread *self);

G_END_DECLS
