/* popcheck-mute.h: "Mute for 1 Hour", the time until which nothing is said
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The notifier shows nothing while muted; the tray shows until when.  The
 * application binds "muted-until" to the setting of the same name, so a
 * mute survives a restart.  The time is the wall clock (Unix seconds):
 * "until 21:30" means 21:30, also after the computer slept.
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define POPCHECK_TYPE_MUTE (popcheck_mute_get_type ())

G_DECLARE_FINAL_TYPE (PopcheckMute, popcheck_mute, POPCHECK, MUTE, GObject)

/* The current time in Unix seconds. */
typedef gint64 (*PopcheckMuteClock) (gpointer user_data);

PopcheckMute *popcheck_mute_new             (void);

/* Unix seconds; 0 (or any time past) when not muted. */
gint64        popcheck_mute_get_muted_until (PopcheckMute      *self);
void          popcheck_mute_set_muted_until (PopcheckMute      *self,
                                             gint64             muted_until);
/* Whether "muted-until" is still ahead. */
gboolean      popcheck_mute_get_muted       (PopcheckMute      *self);

void          popcheck_mute_mute_for        (PopcheckMute      *self,
                                             guint              seconds);
void          popcheck_mute_unmute          (PopcheckMute      *self);

/* Looks at the clock again: after waking from sleep, when the timer that
 * ends the mute may be late. */
void          popcheck_mute_refresh         (PopcheckMute      *self);

/* For tests: the clock it reads instead of the real one (NULL for the
 * real one again).  Moving that clock is followed by a refresh. */
void          popcheck_mute_set_clock       (PopcheckMute      *self,
                                             PopcheckMuteClock  clock,
                                             gpointer           user_data);

G_END_DECLS
