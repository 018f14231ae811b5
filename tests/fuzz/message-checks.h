/* message-checks.h: what the fuzzers check of a summary they got
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Whatever PopCheck keeps of a message must be what the UI, the tray and
 * popcheck-cli assume of it: valid UTF-8, no control characters (so no
 * terminal escapes), bounded lengths.
 */

#pragma once

#include <stdlib.h>
#include <string.h>

#include "pop3-parser.h"
#include "popcheck-message.h"

#define check(condition) do { if (!(condition)) abort (); } while (0)

static void
check_text (const char *text,
            gboolean    single_line,
            gsize       max_chars)
{
  check (text != NULL);
  check (g_utf8_validate (text, -1, NULL));
  check ((gsize) g_utf8_strlen (text, -1) <= max_chars);

  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      check (c != 0x1B && !(c >= 0x7F && c <= 0x9F));
      if (single_line)
        check (c >= 0x20);
      else
        check (c >= 0x20 || c == '\n' || c == '\t');
    }
}

static void
check_message (PopcheckMessage *message)
{
  const char * const *attachments = popcheck_message_get_attachments (message);
  const PopcheckAttachment *details;
  guint n_details = 0;

  check (pop3_uid_is_valid (popcheck_message_get_uid (message)));
  check_text (popcheck_message_get_subject (message), TRUE,
              POPCHECK_MESSAGE_MAX_FIELD);
  check_text (popcheck_message_get_from (message), TRUE,
              POPCHECK_MESSAGE_MAX_FIELD);
  check_text (popcheck_message_get_from_name (message), TRUE,
              POPCHECK_MESSAGE_MAX_FIELD);
  check_text (popcheck_message_get_from_address (message), TRUE,
              POPCHECK_MESSAGE_MAX_FIELD);
  check_text (popcheck_message_get_to (message), TRUE,
              POPCHECK_MESSAGE_MAX_FIELD);
  check_text (popcheck_message_get_cc (message), TRUE,
              POPCHECK_MESSAGE_MAX_FIELD);
  check_text (popcheck_message_get_message_id (message), TRUE,
              POPCHECK_MESSAGE_MAX_FIELD);
  check_text (popcheck_message_get_preview (message), FALSE,
              POPCHECK_MESSAGE_MAX_PREVIEW);

  check (attachments != NULL);
  for (guint i = 0; attachments[i] != NULL; i++)
    {
      check_text (attachments[i], TRUE, 255);
      check (attachments[i][0] != '\0');
      check (strchr (attachments[i], '/') == NULL);
      check (strchr (attachments[i], '\\') == NULL);
    }

  details = popcheck_message_get_attachment_details (message, &n_details);
  check (n_details == g_strv_length ((char **) attachments));
  for (guint i = 0; i < n_details; i++)
    {
      check (strcmp (details[i].name, attachments[i]) == 0);
      check_text (details[i].mime_type, TRUE, 255);
      check (details[i].mime_type[0] != '\0');
    }
}

