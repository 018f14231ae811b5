/* popcheck-resume-monitor.h: tells when the computer wakes from sleep
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define POPCHECK_TYPE_RESUME_MONITOR (popcheck_resume_monitor_get_type ())

G_DECLARE_FINAL_TYPE (PopcheckResumeMonitor, popcheck_resume_monitor,
                      POPCHECK, RESUME_MONITOR, GObject)

/* Signals:
 *   "resumed" (PopcheckResumeMonitor *)
 *       logind said the system woke up (PrepareForSleep (false)).
 *
 * Without a system bus or logind the monitor stays quiet. */

PopcheckResumeMonitor *popcheck_resume_monitor_new (void);

G_END_DECLS
