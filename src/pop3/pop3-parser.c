/* pop3-parser.c: the POP3 wire format, without I/O
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The architecture follows Camel's POP3 stream: a status line, then, for
 * multi-line replies, body lines up to a lone "." with dot-unstuffing.
 * Everything the server sends is hostile until proven otherwise, so every
 * length is bounded while it is still being buffered, and every scan resumes
 * where the previous one stopped: feeding a reply byte by byte costs the
 * same as feeding it in one buffer.
 */

#define G_LOG_DOMAIN "pop3-parser"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "pop3-error.h"
#include "pop3-parser.h"
#include "pop3-text.h"

/* Input is appended and parsed in slices of this size, so that a huge
 * buffer without a line end fails as soon as a bound is crossed instead of
 * first being copied whole. */
#define FEED_SLICE (64 * 1024)

/* Consumed bytes are moved out of the buffer only when they are at least
 * this many and at least half of it: each byte is moved a bounded number of
 * times, which keeps feeding linear. */
#define COMPACT_THRESHOLD (64 * 1024)

typedef enum
{
  STATE_IDLE,
  STATE_STATUS,
  STATE_BODY,
} ParserState;

struct _Pop3Parser
{
  gsize max_line;
  gsize max_response;

  /* Received bytes; [pos, buffer->len) are not consumed yet, and
   * [pos, scan) is known to hold no LF. */
  GByteArray *buffer;
  gsize pos;
  gsize scan;

  GQueue expects;
  GQueue replies;

  ParserState state;
  Pop3Expect current_expect;
  Pop3Reply *current;
  GByteArray *body;
  /* Wire bytes already consumed into the reply that is not complete yet. */
  gsize partial_bytes;

  /* Set once the stream is out of sync (or ended): every later feed fails
   * with a copy of it. */
  GError *failure;
};

G_DEFINE_BOXED_TYPE (Pop3Reply, pop3_reply, pop3_reply_ref, pop3_reply_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Pop3UidEntry, pop3_uid_entry_free)

/* A short, printable excerpt of server input for an error message; the
 * server controls these bytes, so nothing but printable ASCII goes out. */
static char *
describe_input (const char *data,
                gsize       len)
{
  const gsize max_excerpt = 60;
  GString *excerpt = g_string_new (NULL);

  for (gsize i = 0; i < len && i < max_excerpt; i++)
    {
      guchar c = data[i];

      g_string_append_c (excerpt, (c >= 0x20 && c <= 0x7e) ? c : '?');
    }

  if (len > max_excerpt)
    g_string_append (excerpt, "...");

  return g_string_free (excerpt, FALSE);
}

static gboolean
is_printable_ascii (guchar c)
{
  return c >= 0x21 && c <= 0x7e;
}

Pop3Reply *
pop3_reply_new (Pop3ReplyStatus  status,
                const char      *line)
{
  Pop3Reply *reply;
  const char *space;

  g_return_val_if_fail (line != NULL, NULL);

  reply = g_new0 (Pop3Reply, 1);
  g_atomic_ref_count_init (&reply->ref_count);
  reply->status = status;
  reply->line = g_utf8_make_valid (line, -1);

  /* The status indicator is ASCII, so the first space is at the same
   * place in the repaired line as in the received one. */
  space = strchr (reply->line, ' ');
  reply->text = g_strdup (space != NULL ? space + 1 : "");
  reply->code = pop3_parse_response_code (reply->text);

  return reply;
}

Pop3Reply *
pop3_reply_ref (Pop3Reply *reply)
{
  g_return_val_if_fail (reply != NULL, NULL);

  g_atomic_ref_count_inc (&reply->ref_count);

  return reply;
}

void
pop3_reply_unref (Pop3Reply *reply)
{
  g_return_if_fail (reply != NULL);

  if (!g_atomic_ref_count_dec (&reply->ref_count))
    return;

  g_free (reply->line);
  g_free (reply->text);
  g_free (reply->code);
  g_clear_pointer (&reply->body, g_bytes_unref);
  g_free (reply->uid);
  g_clear_pointer (&reply->listing, g_array_unref);
  g_clear_pointer (&reply->uids, g_ptr_array_unref);
  g_clear_pointer (&reply->capabilities, g_hash_table_unref);
  g_free (reply);
}

void
pop3_uid_entry_free (Pop3UidEntry *entry)
{
  if (entry == NULL)
    return;

  g_free (entry->uid);
  g_free (entry);
}

Pop3Parser *
pop3_parser_new (gsize max_line,
                 gsize max_response)
{
  Pop3Parser *parser;

  g_return_val_if_fail (max_line > 0, NULL);
  g_return_val_if_fail (max_response > 0, NULL);

  parser = g_new0 (Pop3Parser, 1);
  parser->max_line = max_line;
  parser->max_response = max_response;
  parser->buffer = g_byte_array_new ();
  g_queue_init (&parser->expects);
  g_queue_init (&parser->replies);
  parser->state = STATE_IDLE;

  return parser;
}

void
pop3_parser_free (Pop3Parser *parser)
{
  if (parser == NULL)
    return;

  g_byte_array_unref (parser->buffer);
  g_queue_clear (&parser->expects);
  g_queue_clear_full (&parser->replies, (GDestroyNotify) pop3_reply_unref);
  g_clear_pointer (&parser->current, pop3_reply_unref);
  g_clear_pointer (&parser->body, g_byte_array_unref);
  g_clear_error (&parser->failure);
  g_free (parser);
}

void
pop3_parser_push_expect (Pop3Parser *parser,
                         Pop3Expect  expect)
{
  g_return_if_fail (parser != NULL);
  g_return_if_fail (expect >= POP3_EXPECT_SINGLE &&
                    expect <= POP3_EXPECT_SASL);

  g_queue_push_tail (&parser->expects, GINT_TO_POINTER (expect));
}

guint
pop3_parser_get_n_expected (Pop3Parser *parser)
{
  g_return_val_if_fail (parser != NULL, 0);

  return parser->expects.length + (parser->state != STATE_IDLE ? 1 : 0);
}

/* Records the error that kills the parser and reports it. */
static gboolean
fail (Pop3Parser  *parser,
      GError     **error,
      Pop3Error    code,
      const char  *format,
      ...) G_GNUC_PRINTF (4, 5);

static gboolean
fail (Pop3Parser  *parser,
      GError     **error,
      Pop3Error    code,
      const char  *format,
      ...)
{
  va_list args;

  g_assert (parser->failure == NULL);

  va_start (args, format);
  parser->failure = g_error_new_valist (POP3_ERROR, code, format, args);
  va_end (args);

  if (error != NULL)
    *error = g_error_copy (parser->failure);

  return FALSE;
}

static gsize
line_limit (Pop3Parser *parser)
{
  if (parser->state == STATE_BODY &&
      parser->current_expect == POP3_EXPECT_MESSAGE)
    return G_MAXSIZE;

  return parser->max_line;
}

static gboolean
fail_line_too_long (Pop3Parser  *parser,
                    GError     **error)
{
  if (parser->state == STATE_STATUS)
    return fail (parser, error, POP3_ERROR_LINE_TOO_LONG,
                 _("The server sent a status line longer than %lu bytes."),
                 (gulong) parser->max_line);

  return fail (parser, error, POP3_ERROR_LINE_TOO_LONG,
               _("The server sent a line longer than %lu bytes in a "
                 "listing."), (gulong) parser->max_line);
}

/* Checks the bounds against a line of @len bytes (without its line
 * ending) that is @complete or still arriving.
 *
 * Which error a hostile stream gets must not depend on how it was split
 * into reads: when a line breaks both bounds, the one its bytes crossed
 * first wins, whether we see the line whole or a byte at a time. */
static gboolean
check_bounds (Pop3Parser  *parser,
              const char  *line,
              gsize        len,
              gboolean     complete,
              GError     **error)
{
  gsize limit = line_limit (parser);
  gsize dot;
  gsize room;
  gboolean line_too_long = len > limit;
  gboolean content_too_long;

  if (parser->state != STATE_BODY)
    return line_too_long ? fail_line_too_long (parser, error) : TRUE;

  /* The terminator is not part of the body. */
  if (complete && len == 1 && line[0] == '.')
    return TRUE;

  /* What the line adds to the body as it will be stored: unstuffed, and
   * with CRLF once it is complete.  The body never exceeds the cap, so
   * there is always room >= 0. */
  dot = (len > 0 && line[0] == '.') ? 1 : 0;
  room = parser->max_response - parser->body->len;
  content_too_long = len - dot > room;

  /* The content crosses the cap at byte room + dot + 1 of the line, the
   * line bound at byte limit + 1. */
  if (line_too_long && (!content_too_long || room + dot >= limit))
    return fail_line_too_long (parser, error);

  if (content_too_long || (complete && len - dot + 2 > room))
    return fail (parser, error, POP3_ERROR_RESPONSE_TOO_LONG,
                 _("The server's reply is larger than the limit of %lu "
                   "bytes."), (gulong) parser->max_response);

  return TRUE;
}

static void
complete_reply (Pop3Parser *parser)
{
  g_queue_push_tail (&parser->replies, g_steal_pointer (&parser->current));
  parser->state = STATE_IDLE;
  parser->partial_bytes = 0;
}

static gboolean
has_prefix_ci (const char *line,
               gsize       len,
               const char *prefix)
{
  gsize prefix_len = strlen (prefix);

  return len >= prefix_len &&
         g_ascii_strncasecmp (line, prefix, prefix_len) == 0 &&
         (len == prefix_len || line[prefix_len] == ' ');
}

static gboolean
handle_status_line (Pop3Parser  *parser,
                    const char  *line,
                    gsize        len,
                    GError     **error)
{
  Pop3ReplyStatus status;
  g_autofree char *valid = NULL;

  if (has_prefix_ci (line, len, "+OK"))
    status = POP3_REPLY_OK;
  else if (has_prefix_ci (line, len, "-ERR"))
    status = POP3_REPLY_ERR;
  else if (parser->current_expect == POP3_EXPECT_SASL &&
           has_prefix_ci (line, len, "+"))
    status = POP3_REPLY_CONTINUATION;
  else
    {
      g_autofree char *excerpt = describe_input (line, len);

      return fail (parser, error, POP3_ERROR_PROTOCOL,
                   _("The server's reply “%s” starts with neither +OK nor "
                     "-ERR."), excerpt);
    }

  /* A NUL would cut the line short as a C string; make_valid turns it into
   * a replacement character along with any invalid UTF-8. */
  valid = g_utf8_make_valid (line, len);
  parser->current = pop3_reply_new (status, valid);

  if (status == POP3_REPLY_OK &&
      (parser->current_expect == POP3_EXPECT_LISTING ||
       parser->current_expect == POP3_EXPECT_MESSAGE))
    {
      parser->state = STATE_BODY;
      parser->body = g_byte_array_new ();
    }
  else
    complete_reply (parser);

  return TRUE;
}

static void
handle_body_line (Pop3Parser *parser,
                  const char *line,
                  gsize       len)
{
  if (len == 1 && line[0] == '.')
    {
      GByteArray *body = g_steal_pointer (&parser->body);

      parser->current->body = g_byte_array_free_to_bytes (body);
      complete_reply (parser);
      return;
    }

  /* Dot-unstuffing (RFC 1939, section 3): a leading "." is dropped from
   * every line but the terminator; like poplib we also drop it when the
   * server forgot to double it. */
  if (len > 0 && line[0] == '.')
    {
      line++;
      len--;
    }

  g_byte_array_append (parser->body, (const guint8 *) line, len);
  g_byte_array_append (parser->body, (const guint8 *) "\r\n", 2);
}

/* Parses what is buffered; returns FALSE (and kills the parser) on a
 * protocol violation. */
static gboolean
process (Pop3Parser  *parser,
         GError     **error)
{
  GByteArray *buffer = parser->buffer;

  for (;;)
    {
      const char *start;
      const char *lf;
      gsize line_len;
      gsize consumed;

      if (parser->state == STATE_IDLE)
        {
          if (parser->pos == buffer->len)
            break;

          /* Nothing was asked: these bytes cannot be a reply.  This is how
           * data injected before a TLS handshake, or a server running ahead
           * of the commands, is caught. */
          if (g_queue_is_empty (&parser->expects))
            {
              g_autofree char *excerpt =
                describe_input ((const char *) buffer->data + parser->pos,
                                buffer->len - parser->pos);

              return fail (parser, error, POP3_ERROR_PROTOCOL,
                           _("The server sent unsolicited data: “%s”."),
                           excerpt);
            }

          parser->current_expect =
            GPOINTER_TO_INT (g_queue_pop_head (&parser->expects));
          parser->state = STATE_STATUS;
        }

      start = (const char *) buffer->data + parser->pos;
      lf = memchr (buffer->data + parser->scan, '\n',
                   buffer->len - parser->scan);

      if (lf == NULL)
        {
          /* A trailing CR may be the start of the line ending, so it does
           * not count towards the line's length yet. */
          line_len = buffer->len - parser->pos;
          if (line_len > 0 && start[line_len - 1] == '\r')
            line_len--;

          parser->scan = buffer->len;
          return check_bounds (parser, start, line_len, FALSE, error);
        }

      line_len = lf - start;
      consumed = line_len + 1;
      if (line_len > 0 && start[line_len - 1] == '\r')
        line_len--;

      if (!check_bounds (parser, start, line_len, TRUE, error))
        return FALSE;

      parser->pos += consumed;
      parser->scan = parser->pos;
      parser->partial_bytes += consumed;

      if (parser->state == STATE_STATUS)
        {
          if (!handle_status_line (parser, start, line_len, error))
            return FALSE;
        }
      else
        handle_body_line (parser, start, line_len);
    }

  return TRUE;
}

static void
compact (Pop3Parser *parser)
{
  GByteArray *buffer = parser->buffer;

  if (parser->pos == buffer->len)
    {
      g_byte_array_set_size (buffer, 0);
      parser->pos = parser->scan = 0;
    }
  else if (parser->pos >= COMPACT_THRESHOLD && parser->pos >= buffer->len / 2)
    {
      g_byte_array_remove_range (buffer, 0, parser->pos);
      parser->scan -= parser->pos;
      parser->pos = 0;
    }
}

gboolean
pop3_parser_feed (Pop3Parser    *parser,
                  const guint8  *data,
                  gsize          len,
                  GError       **error)
{
  g_return_val_if_fail (parser != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (parser->failure != NULL)
    {
      if (error != NULL)
        *error = g_error_copy (parser->failure);
      return FALSE;
    }

  while (len > 0)
    {
      gsize slice = MIN (len, FEED_SLICE);

      compact (parser);
      g_byte_array_append (parser->buffer, data, slice);
      data += slice;
      len -= slice;

      if (!process (parser, error))
        return FALSE;
    }

  compact (parser);

  return TRUE;
}

Pop3Reply *
pop3_parser_pop_reply (Pop3Parser *parser)
{
  g_return_val_if_fail (parser != NULL, NULL);

  return g_queue_pop_head (&parser->replies);
}

gsize
pop3_parser_get_buffered (Pop3Parser *parser)
{
  g_return_val_if_fail (parser != NULL, 0);

  return parser->buffer->len - parser->pos + parser->partial_bytes;
}

gboolean
pop3_parser_finish (Pop3Parser  *parser,
                    GError     **error)
{
  g_return_val_if_fail (parser != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (parser->failure != NULL)
    {
      if (error != NULL)
        *error = g_error_copy (parser->failure);
      return FALSE;
    }

  if (parser->state != STATE_IDLE || pop3_parser_get_buffered (parser) > 0)
    return fail (parser, error, POP3_ERROR_CLOSED,
                 _("The connection was closed in the middle of a reply."));

  if (!g_queue_is_empty (&parser->expects))
    return fail (parser, error, POP3_ERROR_CLOSED,
                 _("The connection was closed before the server replied."));

  /* Nothing may follow the end of the stream. */
  parser->failure = g_error_new_literal (POP3_ERROR, POP3_ERROR_CLOSED,
                                         _("The connection is closed."));
  return TRUE;
}

/* Payload parsers */

gboolean
pop3_parse_number (const char *str,
                   gsize       len,
                   guint64     max,
                   guint64    *out)
{
  guint64 value = 0;

  g_return_val_if_fail (str != NULL || len == 0, FALSE);

  if (len == 0)
    return FALSE;

  for (gsize i = 0; i < len; i++)
    {
      guint digit;

      if (!g_ascii_isdigit (str[i]))
        return FALSE;

      digit = str[i] - '0';
      if (digit > max || value > (max - digit) / 10)
        return FALSE;
      value = value * 10 + digit;
    }

  if (out != NULL)
    *out = value;

  return TRUE;
}

/* Splits off the next field of a space-separated line: skips spaces, then
 * returns the field's start and length and leaves *p after it. */
static const char *
next_field (const char **p,
            gsize       *len)
{
  const char *start = *p;
  const char *end;

  while (*start == ' ')
    start++;

  end = start;
  while (*end != '\0' && *end != ' ')
    end++;

  *p = end;
  *len = end - start;

  return start;
}

/* Reports server input that does not have the shape @what describes. */
static void
set_malformed_error (GError     **error,
                     const char  *input,
                     const char  *what)
{
  g_autofree char *excerpt = describe_input (input, strlen (input));

  g_set_error (error, POP3_ERROR, POP3_ERROR_PROTOCOL,
               _("The server's %s “%s” is not well formed."), what, excerpt);
}

/* "first second [anything]": STAT's drop listing and LIST's scan listing
 * share this shape, and RFC 1939 lets servers add anything after the
 * size. */
static gboolean
parse_number_pair (const char *text,
                   guint64     first_min,
                   guint      *first,
                   guint64    *second)
{
  const char *p = text;
  const char *field;
  gsize len;
  guint64 parsed_first;
  guint64 parsed_second;

  field = next_field (&p, &len);
  if (!pop3_parse_number (field, len, G_MAXUINT, &parsed_first) ||
      parsed_first < first_min)
    return FALSE;

  field = next_field (&p, &len);
  if (!pop3_parse_number (field, len, G_MAXUINT64, &parsed_second))
    return FALSE;

  if (first != NULL)
    *first = parsed_first;
  if (second != NULL)
    *second = parsed_second;

  return TRUE;
}

gboolean
pop3_parse_stat (const char  *text,
                 guint       *count,
                 guint64     *size,
                 GError     **error)
{
  g_return_val_if_fail (text != NULL, FALSE);

  if (!parse_number_pair (text, 0, count, size))
    {
      set_malformed_error (error, text,
                           "STAT reply (a message count and a size in octets)");
      return FALSE;
    }

  return TRUE;
}

gboolean
pop3_parse_scan_listing (const char  *line,
                         guint       *msg,
                         guint64     *octets,
                         GError     **error)
{
  g_return_val_if_fail (line != NULL, FALSE);

  /* Message numbers start at 1 (RFC 1939, section 3). */
  if (!parse_number_pair (line, 1, msg, octets))
    {
      set_malformed_error (error, line,
                           "scan listing (a message number and a size in "
                           "octets)");
      return FALSE;
    }

  return TRUE;
}

gboolean
pop3_uid_is_valid (const char *uid)
{
  gsize len = 0;

  g_return_val_if_fail (uid != NULL, FALSE);

  for (const char *p = uid; *p != '\0'; p++, len++)
    {
      if (len >= POP3_MAX_UID_LENGTH || !is_printable_ascii (*p))
        return FALSE;
    }

  return len > 0;
}

gboolean
pop3_parse_uid_listing (const char  *line,
                        guint       *msg,
                        char       **uid,
                        GError     **error)
{
  const char *p = line;
  const char *field;
  gsize len;
  guint64 parsed_msg;
  g_autofree char *parsed_uid = NULL;

  g_return_val_if_fail (line != NULL, FALSE);

  field = next_field (&p, &len);
  if (!pop3_parse_number (field, len, G_MAXUINT, &parsed_msg) ||
      parsed_msg == 0)
    goto invalid;

  /* Exactly one space, then the UID up to the end of the line. */
  if (*p != ' ')
    goto invalid;
  parsed_uid = g_strdup (p + 1);
  if (!pop3_uid_is_valid (parsed_uid))
    goto invalid;

  if (msg != NULL)
    *msg = parsed_msg;
  if (uid != NULL)
    *uid = g_steal_pointer (&parsed_uid);

  return TRUE;

invalid:
  set_malformed_error (error, line,
                       "unique-id listing (a message number and a UID of 1 "
                       "to " G_STRINGIFY (POP3_MAX_UID_LENGTH) " printable "
                       "characters)");
  return FALSE;
}

/* Splits a body as the parser stores it (each line ending in CRLF) into
 * its lines.  A line with a NUL byte is an error: as a C string it would be
 * silently cut short. */
static GPtrArray *
split_body_lines (GBytes  *body,
                  GError **error)
{
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  gsize size;
  const char *data = g_bytes_get_data (body, &size);
  gsize offset = 0;

  while (offset < size)
    {
      const char *start = data + offset;
      const char *lf = memchr (start, '\n', size - offset);
      gsize len = lf != NULL ? (gsize) (lf - start) : size - offset;

      offset += lf != NULL ? len + 1 : len;
      if (len > 0 && start[len - 1] == '\r')
        len--;

      if (memchr (start, '\0', len) != NULL)
        {
          g_set_error_literal (error, POP3_ERROR, POP3_ERROR_PROTOCOL,
                               _("The server sent a NUL byte in a listing."));
          return NULL;
        }

      g_ptr_array_add (lines, g_strndup (start, len));
    }

  return g_steal_pointer (&lines);
}

GArray *
pop3_parse_list_body (GBytes  *body,
                      GError **error)
{
  g_autoptr(GPtrArray) lines = NULL;
  g_autoptr(GArray) listing = NULL;
  g_autoptr(GHashTable) seen = NULL;

  g_return_val_if_fail (body != NULL, NULL);

  lines = split_body_lines (body, error);
  if (lines == NULL)
    return NULL;

  listing = g_array_new (FALSE, FALSE, sizeof (Pop3ListEntry));
  seen = g_hash_table_new (NULL, NULL);

  for (guint i = 0; i < lines->len; i++)
    {
      Pop3ListEntry entry;

      if (!pop3_parse_scan_listing (lines->pdata[i], &entry.msg, &entry.octets,
                                    error))
        return NULL;

      if (!g_hash_table_add (seen, GUINT_TO_POINTER (entry.msg)))
        {
          g_set_error (error, POP3_ERROR, POP3_ERROR_PROTOCOL,
                       _("The server listed message %u more than once."),
                       entry.msg);
          return NULL;
        }

      g_array_append_val (listing, entry);
    }

  return g_steal_pointer (&listing);
}

GPtrArray *
pop3_parse_uidl_body (GBytes  *body,
                      GError **error)
{
  g_autoptr(GPtrArray) lines = NULL;
  g_autoptr(GPtrArray) uids = NULL;
  g_autoptr(GHashTable) seen_msgs = NULL;
  g_autoptr(GHashTable) seen_uids = NULL;

  g_return_val_if_fail (body != NULL, NULL);

  lines = split_body_lines (body, error);
  if (lines == NULL)
    return NULL;

  uids = g_ptr_array_new_with_free_func ((GDestroyNotify) pop3_uid_entry_free);
  seen_msgs = g_hash_table_new (NULL, NULL);
  /* Keys point into the entries, which outlive the table. */
  seen_uids = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < lines->len; i++)
    {
      g_autoptr(Pop3UidEntry) entry = g_new0 (Pop3UidEntry, 1);

      if (!pop3_parse_uid_listing (lines->pdata[i], &entry->msg, &entry->uid,
                                   error))
        return NULL;

      if (!g_hash_table_add (seen_msgs, GUINT_TO_POINTER (entry->msg)))
        {
          g_set_error (error, POP3_ERROR, POP3_ERROR_PROTOCOL,
                       _("The server listed message %u more than once."),
                       entry->msg);
          return NULL;
        }

      /* Two messages with one UID would make one of them unreachable and
       * could delete the wrong one. */
      if (g_hash_table_contains (seen_uids, entry->uid))
        {
          g_set_error (error, POP3_ERROR, POP3_ERROR_PROTOCOL,
                       _("The server gave the same unique id “%s” to more "
                         "than one message."), entry->uid);
          return NULL;
        }

      g_hash_table_add (seen_uids, entry->uid);
      g_ptr_array_add (uids, g_steal_pointer (&entry));
    }

  return g_steal_pointer (&uids);
}

GPtrArray *
pop3_parse_uidl_body_sound (GBytes  *body,
                            guint   *n_rejected,
                            GError **error)
{
  g_autoptr(GPtrArray) lines = NULL;
  g_autoptr(GPtrArray) parsed = NULL;
  g_autoptr(GHashTable) msg_counts = NULL;
  g_autoptr(GHashTable) uid_counts = NULL;
  GPtrArray *uids;
  guint rejected = 0;

  g_return_val_if_fail (body != NULL, NULL);

  lines = split_body_lines (body, error);
  if (lines == NULL)
    return NULL;

  parsed = g_ptr_array_new_with_free_func ((GDestroyNotify) pop3_uid_entry_free);
  msg_counts = g_hash_table_new (NULL, NULL);
  /* Keys point into the entries, which outlive the table. */
  uid_counts = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < lines->len; i++)
    {
      g_autoptr(Pop3UidEntry) entry = g_new0 (Pop3UidEntry, 1);
      guint count;

      if (!pop3_parse_uid_listing (lines->pdata[i], &entry->msg, &entry->uid,
                                   NULL))
        {
          rejected++;
          continue;
        }

      count = GPOINTER_TO_UINT (g_hash_table_lookup (msg_counts,
                                                     GUINT_TO_POINTER (entry->msg)));
      g_hash_table_insert (msg_counts, GUINT_TO_POINTER (entry->msg),
                           GUINT_TO_POINTER (count + 1));
      count = GPOINTER_TO_UINT (g_hash_table_lookup (uid_counts, entry->uid));
      g_hash_table_insert (uid_counts, entry->uid, GUINT_TO_POINTER (count + 1));
      g_ptr_array_add (parsed, g_steal_pointer (&entry));
    }

  /* Of two lines for one message, or one UID for two messages, neither
   * can be trusted: either could be the one that deletes the wrong
   * message. */
  uids = g_ptr_array_new_with_free_func ((GDestroyNotify) pop3_uid_entry_free);
  for (guint i = 0; i < parsed->len; i++)
    {
      Pop3UidEntry *entry = parsed->pdata[i];

      if (GPOINTER_TO_UINT (g_hash_table_lookup (msg_counts,
                                                 GUINT_TO_POINTER (entry->msg))) > 1 ||
          GPOINTER_TO_UINT (g_hash_table_lookup (uid_counts, entry->uid)) > 1)
        {
          rejected++;
          continue;
        }

      g_ptr_array_add (uids, g_steal_pointer (&parsed->pdata[i]));
    }

  if (n_rejected != NULL)
    *n_rejected = rejected;

  return uids;
}

GHashTable *
pop3_parse_capa_body (GBytes  *body,
                      GError **error)
{
  g_autoptr(GPtrArray) lines = NULL;
  g_autoptr(GHashTable) capabilities = NULL;

  g_return_val_if_fail (body != NULL, NULL);

  lines = split_body_lines (body, error);
  if (lines == NULL)
    return NULL;

  capabilities = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify) g_strfreev);

  for (guint i = 0; i < lines->len; i++)
    {
      /* Parameters are shown (popcheck-cli capa): no terminal escapes. */
      g_autofree char *valid = pop3_text_sanitize_line (lines->pdata[i]);
      g_auto(GStrv) words = NULL;
      g_autoptr(GPtrArray) params = NULL;
      g_autofree char *name = NULL;
      guint w = 0;

      /* RFC 2449: a capability name, then parameters separated by
       * spaces; tabs and doubled spaces are tolerated. */
      words = g_strsplit_set (valid, " \t", -1);
      while (words[w] != NULL && words[w][0] == '\0')
        w++;
      if (words[w] == NULL)
        continue;

      /* Names are case-insensitive (RFC 2449, section 6). */
      name = g_ascii_strup (words[w], -1);
      if (g_hash_table_contains (capabilities, name))
        continue;

      params = g_ptr_array_new ();
      for (w++; words[w] != NULL; w++)
        {
          if (words[w][0] != '\0')
            g_ptr_array_add (params, g_strdup (words[w]));
        }
      g_ptr_array_add (params, NULL);

      g_hash_table_insert (capabilities, g_steal_pointer (&name),
                           g_ptr_array_free (g_steal_pointer (&params), FALSE));
    }

  return g_steal_pointer (&capabilities);
}

char *
pop3_parse_apop_timestamp (const char *greeting)
{
  const char *open;
  const char *close;
  gboolean has_at = FALSE;

  g_return_val_if_fail (greeting != NULL, NULL);

  /* One strchr for each bracket keeps this linear even for a greeting made
   * of nothing but '<'. */
  open = strchr (greeting, '<');
  if (open == NULL)
    return NULL;
  close = strchr (open + 1, '>');
  if (close == NULL)
    return NULL;

  /* RFC 1939's msg-id: printable ASCII with an '@'; anything else would be
   * hashed into the digest in an encoding the server may not share. */
  for (const char *p = open + 1; p < close; p++)
    {
      if (!is_printable_ascii (*p))
        return NULL;
      if (*p == '@')
        has_at = TRUE;
    }

  if (!has_at)
    return NULL;

  return g_strndup (open, close - open + 1);
}

char *
pop3_parse_response_code (const char *text)
{
  const char *end;

  g_return_val_if_fail (text != NULL, NULL);

  if (text[0] != '[')
    return NULL;

  /* RFC 2449, section 8: resp-level chars are printable ASCII other than
   * the brackets; levels are separated by '/'. */
  for (end = text + 1; *end != ']'; end++)
    {
      if (!is_printable_ascii (*end) || *end == '[')
        return NULL;
    }

  if (end == text + 1)
    return NULL;

  return g_ascii_strup (text + 1, end - text - 1);
}
