/* popcheck-notifier.h: desktop notifications for new mail and problems
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One notification per account: a later check that finds more replaces it.
 * Nothing for what the first check of an account finds, nothing for an
 * account whose "notify" is off, no new mail at all while "notify-new-mail"
 * is off.  A problem the user must solve gets one notification until the
 * account recovers, unless "notify-errors" is off.  The application binds
 * both properties to the settings of the same names.
 *
 * Notification actions activate the application's actions: "show-message"
 * ((ss): account id and UID; an empty UID shows the account), "mark-seen"
 * ((sas)), "open-mail-client" (offered while it is enabled) and
 * "show-window".
 */

#pragma once

#include <gio/gio.h>

#include "popcheck-mute.h"
#include "popcheck-types.h"

G_BEGIN_DECLS

#define POPCHECK_TYPE_NOTIFIER (popcheck_notifier_get_type ())

G_DECLARE_FINAL_TYPE (PopcheckNotifier, popcheck_notifier, POPCHECK, NOTIFIER,
                      GObject)

PopcheckNotifier *popcheck_notifier_new                 (GActionGroup     *actions,
                                                         PopcheckChecker  *checker);

gboolean          popcheck_notifier_get_notify_new_mail (PopcheckNotifier *self);
void              popcheck_notifier_set_notify_new_mail (PopcheckNotifier *self,
                                                         gboolean          notify_new_mail);
gboolean          popcheck_notifier_get_notify_errors   (PopcheckNotifier *self);
void              popcheck_notifier_set_notify_errors   (PopcheckNotifier *self,
                                                         gboolean          notify_errors);

/* While it says muted, nothing is shown (NULL: never muted). */
PopcheckMute     *popcheck_notifier_get_mute            (PopcheckNotifier *self);
void              popcheck_notifier_set_mute            (PopcheckNotifier *self,
                                                         PopcheckMute     *mute);

/* Tells that PopCheck keeps running without its window, and how to open
 * it again: for desktops without a tray.  Its click activates the
 * application's "show-window". */
void              popcheck_notifier_show_background_hint (PopcheckNotifier *self);

G_END_DECLS
