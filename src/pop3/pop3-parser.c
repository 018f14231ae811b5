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
  g_clear_pointer (&reply->uids, pop3_uid_listing_unref);
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

/* Reports server input of the wrong shape.  @format is a whole translated
 * sentence with one %s, for an excerpt of what the server sent: a
 * translator sees the sentence, not a fragment. */
static void
set_malformed_error (GError     **error,
                     const char  *input,
                     const char  *format)
{
  g_autofree char *excerpt = describe_input (input, strlen (input));

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
  g_set_error (error, POP3_ERROR, POP3_ERROR_PROTOCOL, format, excerpt);
#pragma GCC diagnostic pop
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
                           _("The server's STAT reply “%s” is not well formed: "
                             "it should be a message count and a size in "
                             "octets."));
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
                           _("The server's scan listing “%s” is not well "
                             "formed: it should be a message number and a "
                             "size in octets."));
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

/* Splits off the message number of a unique-id listing and finds its UID,
 * without copying anything. */
static gboolean
parse_uid_line (const char  *line,
                guint       *msg,
                const char **uid)
{
  const char *p = line;
  const char *field;
  gsize len;
  guint64 parsed_msg;

  field = next_field (&p, &len);
  if (!pop3_parse_number (field, len, G_MAXUINT, &parsed_msg) ||
      parsed_msg == 0)
    return FALSE;

  /* Exactly one space, then the UID up to the end of the line. */
  if (*p != ' ' || !pop3_uid_is_valid (p + 1))
    return FALSE;

  *msg = parsed_msg;
  *uid = p + 1;

  return TRUE;
}

gboolean
pop3_parse_uid_listing (const char  *line,
                        guint       *msg,
                        char       **uid,
                        GError     **error)
{
  guint parsed_msg;
  const char *parsed_uid;

  g_return_val_if_fail (line != NULL, FALSE);

  if (!parse_uid_line (line, &parsed_msg, &parsed_uid))
    {
      set_malformed_error (error, line,
                           _("The server's unique-id listing “%s” is not well "
                             "formed: it should be a message number and a "
                             "unique ID of 1 to 70 printable characters."));
      return FALSE;
    }

  if (msg != NULL)
    *msg = parsed_msg;
  if (uid != NULL)
    *uid = g_strdup (parsed_uid);

  return TRUE;
}

/* Walks a body as the parser stores it (each line ending in CRLF) one line
 * at a time, each copied into one reused buffer: a listing of a million
 * lines costs no allocation per line. */
typedef struct
{
  const char *data;
  gsize       size;
  gsize       offset;
  GString    *line;
} BodyLines;

static void
body_lines_init (BodyLines *lines,
                 GBytes    *body)
{
  lines->data = g_bytes_get_data (body, &lines->size);
  lines->offset = 0;
  lines->line = g_string_new (NULL);
}

static void
body_lines_clear (BodyLines *lines)
{
  if (lines->line != NULL)
    g_string_free (lines->line, TRUE);
}

/* How many lines the body has, to size what is parsed out of it once. */
static guint
body_lines_count (const BodyLines *lines)
{
  guint count = 0;

  for (gsize offset = 0; offset < lines->size; count++)
    {
      const char *lf = memchr (lines->data + offset, '\n',
                               lines->size - offset);

      offset = lf != NULL ? (gsize) (lf - lines->data) + 1 : lines->size;
    }

  return count;
}

/* Leaves the next line in lines->line; FALSE at the end, and for a line
 * with a NUL byte (with @error set): as a C string it would be silently
 * cut short. */
static gboolean
body_lines_next (BodyLines  *lines,
                 GError    **error)
{
  const char *start;
  const char *lf;
  gsize len;

  /* An empty body's data may be NULL, which takes no offset. */
  if (lines->offset >= lines->size)
    return FALSE;

  start = lines->data + lines->offset;
  lf = memchr (start, '\n', lines->size - lines->offset);
  len = lf != NULL ? (gsize) (lf - start) : lines->size - lines->offset;
  lines->offset += lf != NULL ? len + 1 : len;
  if (len > 0 && start[len - 1] == '\r')
    len--;

  if (memchr (start, '\0', len) != NULL)
    {
      g_set_error_literal (error, POP3_ERROR, POP3_ERROR_PROTOCOL,
                           _("The server sent a NUL byte in a listing."));
      return FALSE;
    }

  g_string_truncate (lines->line, 0);
  g_string_append_len (lines->line, start, len);

  return TRUE;
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (BodyLines, body_lines_clear)

static int
compare_uint (gconstpointer a,
              gconstpointer b,
              gpointer      user_data)
{
  guint x = *(const guint *) a;
  guint y = *(const guint *) b;

  return x < y ? -1 : x > y;
}

GArray *
pop3_parse_list_body (GBytes  *body,
                      GError **error)
{
  g_auto(BodyLines) lines = { 0 };
  g_autoptr(GArray) listing = NULL;
  g_autoptr(GArray) msgs = NULL;
  GError *local_error = NULL;

  g_return_val_if_fail (body != NULL, NULL);

  body_lines_init (&lines, body);
  listing = g_array_sized_new (FALSE, FALSE, sizeof (Pop3ListEntry),
                               body_lines_count (&lines));
  msgs = g_array_sized_new (FALSE, FALSE, sizeof (guint), listing->len);

  while (body_lines_next (&lines, &local_error))
    {
      Pop3ListEntry entry;

      if (!pop3_parse_scan_listing (lines.line->str, &entry.msg,
                                    &entry.octets, error))
        return NULL;

      g_array_append_val (listing, entry);
      g_array_append_val (msgs, entry.msg);
    }
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return NULL;
    }

  /* Sorted numbers show a repeated one next to itself, for 4 bytes a
   * message where a hash table would cost several words. */
  g_qsort_with_data (msgs->data, msgs->len, sizeof (guint), compare_uint,
                     NULL);
  for (guint i = 1; i < msgs->len; i++)
    {
      guint msg = g_array_index (msgs, guint, i);

      if (msg == g_array_index (msgs, guint, i - 1))
        {
          g_set_error (error, POP3_ERROR, POP3_ERROR_PROTOCOL,
                       _("The server listed message %u more than once."),
                       msg);
          return NULL;
        }
    }

  return g_steal_pointer (&listing);
}

/* LIST lookups */

struct _Pop3ListIndex
{
  /* NULL once its sizes are copied to sizes. */
  GArray  *listing;
  /* Positions in the listing, by message number (and position among
   * lines for one message); NULL for a listing in order already. */
  GArray  *order;
  gboolean numbered_in_place;
  /* For a listing numbered 1 to n_sizes in place, whose sizes all fit
   * in 32 bits (every real one): the sizes alone, a quarter of the
   * listing, which its holders can then let go of (for a million
   * messages, 17 MB that a first check no longer holds while it makes
   * a row for each). */
  guint32 *sizes;
  guint    n_sizes;
};

static guint
list_index_msg_at (Pop3ListIndex *index,
                   guint          position)
{
  if (index->order != NULL)
    position = g_array_index (index->order, guint, position);
  return g_array_index (index->listing, Pop3ListEntry, position).msg;
}

static int
compare_list_positions (gconstpointer a,
                        gconstpointer b,
                        gpointer      user_data)
{
  GArray *listing = user_data;
  guint position_a = *(const guint *) a;
  guint position_b = *(const guint *) b;
  guint msg_a = g_array_index (listing, Pop3ListEntry, position_a).msg;
  guint msg_b = g_array_index (listing, Pop3ListEntry, position_b).msg;

  if (msg_a != msg_b)
    return msg_a < msg_b ? -1 : 1;
  return (position_a > position_b) - (position_a < position_b);
}

static void
list_index_sort (Pop3ListIndex *index)
{
  GArray *listing = index->listing;

  index->order = g_array_sized_new (FALSE, FALSE, sizeof (guint),
                                    listing->len);
  for (guint i = 0; i < listing->len; i++)
    g_array_append_val (index->order, i);
  g_array_sort_with_data (index->order, compare_list_positions, listing);
}

static void
list_index_compact (Pop3ListIndex *index)
{
  GArray *listing = index->listing;

  for (guint i = 0; i < listing->len; i++)
    if (g_array_index (listing, Pop3ListEntry, i).octets > G_MAXUINT32)
      return;

  index->n_sizes = listing->len;
  index->sizes = g_new (guint32, MAX (listing->len, 1));
  for (guint i = 0; i < listing->len; i++)
    index->sizes[i] = g_array_index (listing, Pop3ListEntry, i).octets;
  g_clear_pointer (&index->listing, g_array_unref);
}

Pop3ListIndex *
pop3_list_index_new (GArray *listing)
{
  Pop3ListIndex *index;

  g_return_val_if_fail (listing != NULL, NULL);

  index = g_new0 (Pop3ListIndex, 1);
  index->listing = g_array_ref (listing);
  index->numbered_in_place = TRUE;
  for (guint i = 0; i < listing->len; i++)
    {
      guint msg = g_array_index (listing, Pop3ListEntry, i).msg;

      if (msg != i + 1)
        index->numbered_in_place = FALSE;
      if (i > 0 && msg < g_array_index (listing, Pop3ListEntry, i - 1).msg)
        {
          list_index_sort (index);
          break;
        }
    }
  if (index->numbered_in_place)
    list_index_compact (index);
  return index;
}

void
pop3_list_index_free (Pop3ListIndex *index)
{
  if (index == NULL)
    return;
  g_clear_pointer (&index->listing, g_array_unref);
  g_clear_pointer (&index->order, g_array_unref);
  g_free (index->sizes);
  g_free (index);
}

gboolean
pop3_list_index_in_place (Pop3ListIndex *index)
{
  g_return_val_if_fail (index != NULL, FALSE);

  return index->numbered_in_place;
}

guint
pop3_list_index_get_length (Pop3ListIndex *index)
{
  if (index == NULL)
    return 0;
  return index->listing != NULL ? index->listing->len : index->n_sizes;
}

Pop3ListEntry
pop3_list_index_get_line (Pop3ListIndex *index,
                          guint          line)
{
  Pop3ListEntry entry = { 0, 0 };

  g_return_val_if_fail (line < pop3_list_index_get_length (index), entry);

  if (index->listing != NULL)
    return g_array_index (index->listing, Pop3ListEntry, line);

  entry.msg = line + 1;
  entry.octets = index->sizes[line];
  return entry;
}

/* The position of the last line for msg, if there is one. */
static gboolean
list_index_find (Pop3ListIndex *index,
                 guint          msg,
                 guint         *line)
{
  guint low = 0;
  guint high;

  if (index->numbered_in_place)
    {
      if (msg == 0 || msg > pop3_list_index_get_length (index))
        return FALSE;
      *line = msg - 1;
      return TRUE;
    }

  /* Past the last line for msg: the line before it is that last line,
   * if there is one. */
  high = index->listing->len;
  while (low < high)
    {
      guint middle = low + (high - low) / 2;

      if (list_index_msg_at (index, middle) <= msg)
        low = middle + 1;
      else
        high = middle;
    }
  if (low == 0 || list_index_msg_at (index, low - 1) != msg)
    return FALSE;
  *line = index->order != NULL ? g_array_index (index->order, guint, low - 1)
                               : low - 1;
  return TRUE;
}

gboolean
pop3_list_index_lookup (Pop3ListIndex *index,
                        guint          msg,
                        guint64       *octets)
{
  guint line;

  if (index == NULL || !list_index_find (index, msg, &line))
    return FALSE;

  if (octets != NULL)
    *octets = pop3_list_index_get_line (index, line).octets;
  return TRUE;
}

/* UIDL listings */

typedef struct
{
  guint   msg;
  guint32 uid_offset;
} UidListingEntry;

struct _Pop3UidListing
{
  gatomicrefcount ref_count;
  GArray *entries;
  /* Whether each entry's number is above the one before's, as they came;
   * dropping entries keeps it true. */
  gboolean numbers_rise;
  /* The UIDs, each ending in NUL: used bytes of allocated. */
  char *uids;
  gsize used;
  gsize allocated;
};

G_DEFINE_BOXED_TYPE (Pop3UidListing, pop3_uid_listing,
                     pop3_uid_listing_ref, pop3_uid_listing_unref)

static Pop3UidListing *
uid_listing_new (guint n_entries,
                 gsize n_bytes)
{
  Pop3UidListing *listing = g_new0 (Pop3UidListing, 1);

  g_atomic_ref_count_init (&listing->ref_count);
  listing->entries = g_array_sized_new (FALSE, FALSE, sizeof (UidListingEntry),
                                        n_entries);
  listing->numbers_rise = TRUE;
  listing->allocated = MAX (n_bytes, 1);
  listing->uids = g_malloc (listing->allocated);

  return listing;
}

Pop3UidListing *
pop3_uid_listing_new (void)
{
  return uid_listing_new (0, 64);
}

/* A parsed listing has its buffer sized beforehand; one built entry by
 * entry grows it as it goes. */
static void
uid_listing_append (Pop3UidListing *listing,
                    guint           msg,
                    const char     *uid)
{
  gsize len = strlen (uid) + 1;
  UidListingEntry entry = { msg, listing->used };
  guint n = listing->entries->len;

  if (n > 0 && msg <= g_array_index (listing->entries, UidListingEntry, n - 1).msg)
    listing->numbers_rise = FALSE;
  if (listing->used + len > listing->allocated)
    {
      listing->allocated = MAX (listing->allocated * 2, listing->used + len);
      listing->uids = g_realloc (listing->uids, listing->allocated);
    }
  memcpy (listing->uids + listing->used, uid, len);
  listing->used += len;
  g_array_append_val (listing->entries, entry);
}

void
pop3_uid_listing_add (Pop3UidListing *listing,
                      guint           msg,
                      const char     *uid)
{
  g_return_if_fail (listing != NULL);
  g_return_if_fail (uid != NULL);
  /* Offsets are 32 bits, as a parsed listing's. */
  g_return_if_fail (listing->used + strlen (uid) + 1 <= G_MAXUINT32);

  uid_listing_append (listing, msg, uid);
}

Pop3UidListing *
pop3_uid_listing_ref (Pop3UidListing *listing)
{
  g_return_val_if_fail (listing != NULL, NULL);

  g_atomic_ref_count_inc (&listing->ref_count);

  return listing;
}

void
pop3_uid_listing_unref (Pop3UidListing *listing)
{
  g_return_if_fail (listing != NULL);

  if (!g_atomic_ref_count_dec (&listing->ref_count))
    return;

  g_array_unref (listing->entries);
  g_free (listing->uids);
  g_free (listing);
}

guint
pop3_uid_listing_get_length (Pop3UidListing *listing)
{
  g_return_val_if_fail (listing != NULL, 0);

  return listing->entries->len;
}

guint
pop3_uid_listing_get_msg (Pop3UidListing *listing,
                          guint           index)
{
  g_return_val_if_fail (listing != NULL, 0);
  g_return_val_if_fail (index < listing->entries->len, 0);

  return g_array_index (listing->entries, UidListingEntry, index).msg;
}

gboolean
pop3_uid_listing_rises (Pop3UidListing *listing)
{
  g_return_val_if_fail (listing != NULL, FALSE);

  return listing->numbers_rise;
}

const char *
pop3_uid_listing_get_uid (Pop3UidListing *listing,
                          guint           index)
{
  g_return_val_if_fail (listing != NULL, NULL);
  g_return_val_if_fail (index < listing->entries->len, NULL);

  return listing->uids +
         g_array_index (listing->entries, UidListingEntry, index).uid_offset;
}

typedef enum
{
  UID_LISTING_SOUND         = 0,
  UID_LISTING_REPEATED_MSG  = 1 << 0,
  UID_LISTING_REPEATED_UID  = 1 << 1,
} UidListingFlaw;

static int
compare_entry_msg (gconstpointer a,
                   gconstpointer b,
                   gpointer      user_data)
{
  GArray *entries = user_data;

  return compare_uint (&g_array_index (entries, UidListingEntry,
                                       *(const guint *) a).msg,
                       &g_array_index (entries, UidListingEntry,
                                       *(const guint *) b).msg, NULL);
}

static int
compare_entry_uid (gconstpointer a,
                   gconstpointer b,
                   gpointer      user_data)
{
  Pop3UidListing *listing = user_data;

  return strcmp (pop3_uid_listing_get_uid (listing, *(const guint *) a),
                 pop3_uid_listing_get_uid (listing, *(const guint *) b));
}

/* Marks in @flaws every entry that shares its message number or its UID
 * with another: entry indices sorted by either show the repeats side by
 * side, for 4 bytes an entry. */
static void
uid_listing_mark_repeats (Pop3UidListing *listing,
                          GCompareDataFunc compare,
                          gpointer         compare_data,
                          UidListingFlaw   flaw,
                          guint8          *flaws)
{
  guint n = listing->entries->len;
  g_autofree guint *order = g_new (guint, MAX (n, 1));
  guint run = 0;

  for (guint i = 0; i < n; i++)
    order[i] = i;
  g_qsort_with_data (order, n, sizeof (guint), compare, compare_data);

  for (guint i = 1; i <= n; i++)
    {
      if (i < n && compare (&order[run], &order[i], compare_data) == 0)
        continue;
      for (guint j = run; i - run > 1 && j < i; j++)
        flaws[order[j]] |= flaw;
      run = i;
    }
}

/* Parses every line of a UIDL listing; a malformed line fails it unless
 * @n_malformed counts it instead.  @flaws gets, per entry, what it shares
 * with another entry. */
static Pop3UidListing *
uid_listing_parse (GBytes   *body,
                   guint    *n_malformed,
                   guint8  **flaws,
                   GError  **error)
{
  g_auto(BodyLines) lines = { 0 };
  g_autoptr(Pop3UidListing) listing = NULL;
  GError *local_error = NULL;

  body_lines_init (&lines, body);
  /* Offsets are 32 bits; no sound server's listing comes near 4 GB. */
  if (lines.size > G_MAXUINT32)
    {
      g_set_error_literal (error, POP3_ERROR, POP3_ERROR_RESPONSE_TOO_LONG,
                           _("The server's list of messages is too long."));
      return NULL;
    }

  /* A UID and its NUL are shorter than the line that carried it. */
  listing = uid_listing_new (body_lines_count (&lines), lines.size + 1);

  while (body_lines_next (&lines, &local_error))
    {
      guint msg;
      const char *uid;

      if (!parse_uid_line (lines.line->str, &msg, &uid))
        {
          if (n_malformed == NULL)
            {
              /* For its error message. */
              pop3_parse_uid_listing (lines.line->str, NULL, NULL, error);
              return NULL;
            }
          (*n_malformed)++;
          continue;
        }

      uid_listing_append (listing, msg, uid);
    }
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return NULL;
    }

  listing->allocated = MAX (listing->used, 1);
  listing->uids = g_realloc (listing->uids, listing->allocated);
  *flaws = g_new0 (guint8, MAX (listing->entries->len, 1));
  uid_listing_mark_repeats (listing, compare_entry_msg, listing->entries,
                            UID_LISTING_REPEATED_MSG, *flaws);
  uid_listing_mark_repeats (listing, compare_entry_uid, listing,
                            UID_LISTING_REPEATED_UID, *flaws);

  return g_steal_pointer (&listing);
}

Pop3UidListing *
pop3_parse_uidl_body (GBytes  *body,
                      GError **error)
{
  g_autoptr(Pop3UidListing) listing = NULL;
  g_autofree guint8 *flaws = NULL;

  g_return_val_if_fail (body != NULL, NULL);

  listing = uid_listing_parse (body, NULL, &flaws, error);
  if (listing == NULL)
    return NULL;

  for (guint i = 0; i < listing->entries->len; i++)
    {
      if (flaws[i] & UID_LISTING_REPEATED_MSG)
        {
          g_set_error (error, POP3_ERROR, POP3_ERROR_PROTOCOL,
                       _("The server listed message %u more than once."),
                       pop3_uid_listing_get_msg (listing, i));
          return NULL;
        }

      /* Two messages with one UID would make one of them unreachable and
       * could delete the wrong one. */
      if (flaws[i] & UID_LISTING_REPEATED_UID)
        {
          g_set_error (error, POP3_ERROR, POP3_ERROR_PROTOCOL,
                       _("The server gave the same unique id “%s” to more "
                         "than one message."),
                       pop3_uid_listing_get_uid (listing, i));
          return NULL;
        }
    }

  return g_steal_pointer (&listing);
}

Pop3UidListing *
pop3_parse_uidl_body_sound (GBytes  *body,
                            guint   *n_rejected,
                            GError **error)
{
  g_autoptr(Pop3UidListing) listing = NULL;
  g_autofree guint8 *flaws = NULL;
  guint rejected = 0;
  guint kept = 0;

  g_return_val_if_fail (body != NULL, NULL);

  listing = uid_listing_parse (body, &rejected, &flaws, error);
  if (listing == NULL)
    return NULL;

  /* Of two lines for one message, or one UID for two messages, neither
   * can be trusted: either could be the one that deletes the wrong
   * message. */
  for (guint i = 0; i < listing->entries->len; i++)
    {
      if (flaws[i] != UID_LISTING_SOUND)
        {
          rejected++;
          continue;
        }
      g_array_index (listing->entries, UidListingEntry, kept++) =
        g_array_index (listing->entries, UidListingEntry, i);
    }
  g_array_set_size (listing->entries, kept);

  if (n_rejected != NULL)
    *n_rejected = rejected;

  return g_steal_pointer (&listing);
}

GHashTable *
pop3_parse_capa_body (GBytes  *body,
                      GError **error)
{
  g_auto(BodyLines) lines = { 0 };
  g_autoptr(GHashTable) capabilities = NULL;
  GError *local_error = NULL;

  g_return_val_if_fail (body != NULL, NULL);

  body_lines_init (&lines, body);
  capabilities = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify) g_strfreev);

  while (body_lines_next (&lines, &local_error))
    {
      /* Parameters are shown (popcheck-cli capa): no terminal escapes. */
      g_autofree char *valid = pop3_text_sanitize_line (lines.line->str);
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
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return NULL;
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
