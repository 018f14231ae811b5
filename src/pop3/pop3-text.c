/* pop3-text.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The rules were first written for message subjects (popcheck-message.c);
 * they live here so that every piece of server text is cleaned the same
 * way.
 */

#define G_LOG_DOMAIN "pop3-text"

#include "config.h"

#include <string.h>

#include "pop3-text.h"

static gboolean
is_hidden_control (gunichar c)
{
  /* Embeddings, overrides, isolates and the bare marks (LRM, RLM, ALM) can
   * make text display as something it is not ("Trojan Source" style
   * spoofing); a BOM and the tag characters are invisible, so text with
   * them is not what it looks like either. */
  return (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) ||
         c == 0x200E || c == 0x200F || c == 0x061C || c == 0xFEFF ||
         (c >= 0xE0000 && c <= 0xE007F);
}

/* Skips a terminal escape sequence starting at p (just after ESC or CSI),
 * so that not even its parameters ("[31m") are left as text. */
static const char *
skip_escape_sequence (const char *p,
                      const char *end,
                      gboolean    is_csi)
{
  if (!is_csi)
    {
      if (p >= end)
        return p;
      if (*p == '[')
        {
          p++;
          is_csi = TRUE;
        }
      else if (*p == ']')
        {
          /* OSC: up to BEL or ST (ESC \). */
          while (p < end && *p != '\a' && *p != '\033')
            p++;
          if (p < end && *p == '\a')
            return p + 1;
          if (p + 1 < end && *p == '\033' && p[1] == '\\')
            return p + 2;
          return p;
        }
      else if ((guchar) *p >= 0x20 && (guchar) *p < 0x7F)
        return p + 1;
      else
        return p;
    }

  /* CSI: parameter bytes, intermediate bytes, one final byte. */
  while (p < end && (guchar) *p >= 0x20 && (guchar) *p <= 0x3F)
    p++;
  if (p < end && (guchar) *p >= 0x40 && (guchar) *p <= 0x7E)
    p++;
  return p;
}

char *
pop3_text_sanitize (const char *text,
                    gssize      len,
                    gboolean    single_line,
                    gsize       max_chars)
{
  g_autofree char *valid = NULL;
  const char *p, *end;
  GString *out;
  gsize n_chars = 0;
  gboolean pending_space = FALSE;

  if (text == NULL)
    return g_strdup ("");
  if (len < 0)
    len = strlen (text);

  valid = g_utf8_make_valid (text, len);
  p = valid;
  end = valid + strlen (valid);
  out = g_string_sized_new (MIN ((gsize) (end - p), max_chars * 2) + 1);

  while (p < end && n_chars < max_chars)
    {
      gunichar c;
      const char *next;

      /* Most of mail is ASCII, which needs no decoding: a background
       * fetch sanitizes the headers and preview of 100,000 messages. */
      if ((guchar) *p < 0x80)
        {
          c = (guchar) *p;
          next = p + 1;
        }
      else
        {
          c = g_utf8_get_char (p);
          next = g_utf8_next_char (p);
        }

      if (c == 0x1B || c == 0x9B)
        {
          p = skip_escape_sequence (next, end, c == 0x9B);
          continue;
        }

      if (c == '\r')
        {
          /* CRLF is one line break, a lone CR is one too. */
          c = '\n';
          if (next < end && *next == '\n')
            next++;
        }

      p = next;

      if (single_line && (c == '\n' || c == '\t' || g_unichar_isspace (c)))
        {
          pending_space = TRUE;
          continue;
        }

      if (c != '\n' && c != '\t' &&
          (c < 0x20 || (c >= 0x7F && c <= 0x9F) || is_hidden_control (c)))
        continue;

      if (pending_space && out->len > 0)
        {
          g_string_append_c (out, ' ');
          n_chars++;
          if (n_chars >= max_chars)
            break;
        }
      pending_space = FALSE;

      if (c < 0x80)
        g_string_append_c (out, (char) c);
      else
        g_string_append_unichar (out, c);
      n_chars++;
    }

  /* The cut at max_chars may have fallen just after a space. */
  if (single_line && out->len > 0 && out->str[out->len - 1] == ' ')
    g_string_truncate (out, out->len - 1);

  /* Cut to its length: a GString's room is rounded up to a power of two,
   * and a summary keeps what this returns (a million of them take all
   * the headers of a big mailbox). */
  {
    gsize length = out->len;

    return g_realloc (g_string_free (out, FALSE), length + 1);
  }
}

char *
pop3_text_sanitize_line (const char *text)
{
  return pop3_text_sanitize (text, -1, TRUE, G_MAXSIZE);
}

gboolean
pop3_text_is_sanitized_line (const char *text,
                             gsize       max_chars)
{
  const char *p = text;
  gsize n_chars = 0;
  /* No space may lead, follow another or end the text. */
  gboolean after_space = TRUE;

  g_return_val_if_fail (text != NULL, FALSE);

  /* Plain ASCII needs no decoding. */
  for (; (guchar) *p >= 0x20 && (guchar) *p < 0x7F; p++)
    {
      if (*p == ' ')
        {
          if (after_space)
            return FALSE;
          after_space = TRUE;
        }
      else
        after_space = FALSE;
    }
  n_chars = p - text;
  if (n_chars > max_chars)
    return FALSE;
  if (*p != '\0' && !g_utf8_validate (p, -1, NULL))
    return FALSE;

  while (*p != '\0')
    {
      gunichar c;

      /* The ASCII between accented letters needs no decoding either: a
       * state file's 100,000 names and subjects are checked as it loads. */
      if ((guchar) *p < 0x80)
        c = (guchar) *p++;
      else
        {
          c = g_utf8_get_char (p);
          p = g_utf8_next_char (p);
        }
      if (c == ' ')
        {
          if (after_space)
            return FALSE;
          after_space = TRUE;
        }
      else if (c < 0x20 || (c >= 0x7F && c <= 0x9F) ||
               (c > 0x9F && (is_hidden_control (c) || g_unichar_isspace (c))))
        return FALSE;
      else
        after_space = FALSE;

      if (++n_chars > max_chars)
        return FALSE;
    }

  return n_chars == 0 || !after_space;
}
