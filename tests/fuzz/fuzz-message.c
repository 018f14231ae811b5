/* fuzz-message.c: libFuzzer harness for the header and preview decoder
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The first byte picks the number of preview lines; the rest is what TOP
 * returned.  Whatever the decoder keeps must be what the UI, the tray and
 * popcheck-cli assume of it: valid UTF-8, no control characters (so no
 * terminal escapes), bounded lengths; and the cache form must read back to
 * the same summary.
 */

#define G_LOG_DOMAIN "fuzz-message"

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "pop3-parser.h"
#include "popcheck-message.h"
#include "message-checks.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static void
check_same (PopcheckMessage *a,
            PopcheckMessage *b)
{
  GDateTime *date_a = popcheck_message_get_date (a);
  GDateTime *date_b = popcheck_message_get_date (b);
  const PopcheckAttachment *details_a, *details_b;
  guint n_a = 0, n_b = 0;

  check (g_strcmp0 (popcheck_message_get_uid (a), popcheck_message_get_uid (b)) == 0);
  check (popcheck_message_get_size (a) == popcheck_message_get_size (b));
  check (g_strcmp0 (popcheck_message_get_subject (a), popcheck_message_get_subject (b)) == 0);
  check (g_strcmp0 (popcheck_message_get_from (a), popcheck_message_get_from (b)) == 0);
  check (g_strcmp0 (popcheck_message_get_from_name (a), popcheck_message_get_from_name (b)) == 0);
  check (g_strcmp0 (popcheck_message_get_from_address (a), popcheck_message_get_from_address (b)) == 0);
  check (g_strcmp0 (popcheck_message_get_to (a), popcheck_message_get_to (b)) == 0);
  check (g_strcmp0 (popcheck_message_get_message_id (a), popcheck_message_get_message_id (b)) == 0);
  check (g_strcmp0 (popcheck_message_get_preview (a), popcheck_message_get_preview (b)) == 0);
  check (g_strcmp0 (popcheck_message_get_cc (a), popcheck_message_get_cc (b)) == 0);
  check (g_strv_equal ((const char * const *) popcheck_message_get_attachments (a),
                       (const char * const *) popcheck_message_get_attachments (b)));
  check (popcheck_message_get_attachments_incomplete (a) ==
         popcheck_message_get_attachments_incomplete (b));
  details_a = popcheck_message_get_attachment_details (a, &n_a);
  details_b = popcheck_message_get_attachment_details (b, &n_b);
  check (n_a == n_b);
  for (guint i = 0; i < n_a; i++)
    check (strcmp (details_a[i].mime_type, details_b[i].mime_type) == 0 &&
           details_a[i].size == details_b[i].size);
  check ((date_a == NULL) == (date_b == NULL));
  if (date_a != NULL)
    check (g_date_time_to_unix (date_a) == g_date_time_to_unix (date_b));
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(PopcheckMessage) message = NULL;
  g_autoptr(PopcheckMessage) copy = NULL;
  g_autoptr(GVariant) variant = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *fingerprint = NULL;
  g_autofree char *text = NULL;
  guint preview_lines;

  /* A critical is a misuse of an API, which input must never cause. */
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);

  if (size == 0)
    return 0;

  preview_lines = data[0] % 64;
  bytes = g_bytes_new (data + 1, size - 1);

  message = popcheck_message_new_from_top ("fuzz-uid", size, 1, bytes,
                                           preview_lines);
  check (message != NULL);
  check_message (message);

  variant = g_variant_ref_sink (popcheck_message_to_variant (message));
  copy = popcheck_message_new_from_variant (variant, &error);
  check (copy != NULL && error == NULL);
  check_same (message, copy);

  fingerprint = popcheck_message_fingerprint_uid (bytes, size);
  check (g_str_has_prefix (fingerprint, "fp-"));
  check (pop3_uid_is_valid (fingerprint));

  text = popcheck_message_html_to_text ((const char *) data + 1, size - 1);
  check (text != NULL);

  return 0;
}
