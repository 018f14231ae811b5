/* popcheck-test-util.h: waiting for events in tests, never for time
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef gboolean (*PopcheckTestCondition) (gpointer user_data);

gint64   popcheck_test_deadline         (guint                  timeout_ms);
gboolean popcheck_test_iterate          (gint64                 deadline);
gboolean popcheck_test_wait_until       (PopcheckTestCondition  condition,
                                         gpointer               user_data,
                                         guint                  timeout_ms);
void     popcheck_test_quiesce_threads  (void);
guint    popcheck_test_busy_frames_add  (guint                 *turns);

/* Runs the default main context until @expr holds; the test fails with
 * the expression's text after @timeout_ms. */
#define POPCHECK_TEST_WAIT_UNTIL(expr, timeout_ms)                          \
  G_STMT_START {                                                            \
    gint64 popcheck_deadline_ = popcheck_test_deadline (timeout_ms);        \
    while (!(expr))                                                         \
      {                                                                     \
        if (!popcheck_test_iterate (popcheck_deadline_))                    \
          g_error ("%s:%d: timed out after %u ms waiting for %s",           \
                   __FILE__, __LINE__, (guint) (timeout_ms), #expr);        \
      }                                                                     \
  } G_STMT_END

G_END_DECLS
