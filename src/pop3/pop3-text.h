/* pop3-text.h: what a server says, made safe to show
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Server text (replies, capabilities, message headers) ends up on
 * terminals, in labels and in notifications.  A server could put terminal
 * escape sequences in it (a new window title, a cleared screen) or code
 * points that reorder or hide what is shown; these rules, sans-IO, are the
 * one place that takes them out.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Valid UTF-8 without control characters: no C0 or C1 control (whole
 * escape sequences are dropped, parameters included), no bidirectional
 * control, no BOM, no tag character.  Multi-line text keeps \n and \t,
 * with CRLF and lone CR turned into \n; single-line text turns all white
 * space into single spaces and trims the ends.  At most @max_chars
 * characters are kept. */
char     *pop3_text_sanitize       (const char *text,
                                    gssize      len,
                                    gboolean    single_line,
                                    gsize       max_chars);
/* One line of server text, whole: pop3_text_sanitize() in single-line
 * mode without a length bound (the parser bounds lines already). */
char     *pop3_text_sanitize_line  (const char *text);
/* Whether pop3_text_sanitize() in single-line mode would give @text back
 * as it is: text read back from PopCheck's own files usually is, and
 * need not be copied to be sure. */
gboolean  pop3_text_is_sanitized_line (const char *text,
                                       gsize       max_chars);

G_END_DECLS
