/* popcheck-message-body.c: a message's preview text and attachment names
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The body that TOP returned is walked with GMime: the part a person would
 * read first is decoded to UTF-8 (from HTML if that is all there is) and cut
 * to the first lines; the other parts give the attachment names.  Like the
 * headers, all of it is untrusted and goes through the same text safety.
 */

#define G_LOG_DOMAIN "popcheck-message"

#include "config.h"

#include <string.h>

#include "popcheck-message-private.h"

/* A hostile message can nest multiparts thousands deep. */
#define MAX_MIME_DEPTH       32
#define MAX_ATTACHMENT_NAME  255
/* RFC 6838, section 4.2: type and subtype names are at most 127 each. */
#define MAX_MIME_TYPE_LENGTH 255

/* HTML to text ----------------------------------------------------------- */

typedef struct
{
  const char *name;
  gunichar    c;
} Entity;

static const Entity entities[] = {
  { "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' },
  { "apos", '\'' }, { "nbsp", ' ' }, { "copy", 0xA9 }, { "reg", 0xAE },
  { "trade", 0x2122 }, { "mdash", 0x2014 }, { "ndash", 0x2013 },
  { "hellip", 0x2026 }, { "lsquo", 0x2018 }, { "rsquo", 0x2019 },
  { "ldquo", 0x201C }, { "rdquo", 0x201D }, { "laquo", 0xAB },
  { "raquo", 0xBB }, { "bull", 0x2022 }, { "middot", 0xB7 },
  { "euro", 0x20AC }, { "pound", 0xA3 }, { "yen", 0xA5 }, { "cent", 0xA2 },
  { "deg", 0xB0 }, { "times", 0xD7 }, { "divide", 0xF7 },
  { "auml", 0xE4 }, { "ouml", 0xF6 }, { "uuml", 0xFC }, { "Auml", 0xC4 },
  { "Ouml", 0xD6 }, { "Uuml", 0xDC }, { "szlig", 0xDF }, { "eacute", 0xE9 },
  { "egrave", 0xE8 }, { "agrave", 0xE0 }, { "ccedil", 0xE7 },
  /* Invisible: dropped. */
  { "shy", 0 }, { "zwnj", 0 }, { "zwj", 0 },
};

/* Tags after which text continues on a new line. */
static const char * const block_tags[] = {
  "br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6",
  "table", "ul", "ol", "dl", "dt", "dd", "blockquote", "pre", "hr",
  "section", "article", "header", "footer", "address", "center", "form",
  NULL
};

/* Tags that start a paragraph: a blank line before them, as a browser
 * leaves a margin. */
static const char * const paragraph_tags[] = {
  "p", "h1", "h2", "h3", "h4", "h5", "h6", NULL
};

/* Link targets shown after the link's text.  Only absolute ones: a
 * relative target or a script means nothing outside the sender's page. */
static const char * const link_schemes[] = {
  "http:", "https:", "ftp:", "mailto:", NULL
};

/* A longer target is not a link a person reads; the text stays. */
#define MAX_LINK_LENGTH 2048

/* Tags whose content is not text a person should see. */
static const char * const hidden_tags[] = {
  "script", "style", "title", "template", "noscript", NULL
};

static gboolean
name_in (const char         *name,
         const char * const *list)
{
  return g_strv_contains (list, name);
}

/* A block element starts on a line of its own: "</li><li>" is one line
 * break, not two.  Only <br> adds breaks of its own, at most one blank
 * line in a row. */
static void
append_newline (GString  *out,
                gboolean  is_break)
{
  if (out->len == 0)
    return;
  if (!is_break && out->str[out->len - 1] == '\n')
    return;
  if (out->len >= 2 && out->str[out->len - 1] == '\n' &&
      out->str[out->len - 2] == '\n')
    return;
  g_string_append_c (out, '\n');
}

static const char *
decode_entity (const char *p,
               const char *end,
               GString    *out)
{
  const char *q = p + 1;
  gunichar c;

  if (q < end && *q == '#')
    {
      guint64 value = 0;
      gboolean hex = FALSE;
      gsize digits = 0;

      q++;
      if (q < end && (*q == 'x' || *q == 'X'))
        {
          hex = TRUE;
          q++;
        }
      while (q < end && (hex ? g_ascii_isxdigit (*q) : g_ascii_isdigit (*q)))
        {
          /* Saturate: &#99999999999999999999; must not overflow. */
          if (value <= 0x10FFFF)
            value = value * (hex ? 16 : 10) +
                    (hex ? g_ascii_xdigit_value (*q) : g_ascii_digit_value (*q));
          q++;
          digits++;
        }
      if (digits == 0)
        {
          g_string_append_c (out, '&');
          return p + 1;
        }
      if (q < end && *q == ';')
        q++;

      c = (gunichar) MIN (value, 0x110000);
      if (c == 0 || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        c = 0xFFFD;
      g_string_append_unichar (out, c);
      return q;
    }

  while (q < end && g_ascii_isalnum (*q) && q - p <= 8)
    q++;
  if (q < end && *q == ';')
    {
      gsize name_len = q - (p + 1);

      for (guint i = 0; i < G_N_ELEMENTS (entities); i++)
        {
          if (strlen (entities[i].name) == name_len &&
              strncmp (entities[i].name, p + 1, name_len) == 0)
            {
              if (entities[i].c != 0)
                g_string_append_unichar (out, entities[i].c);
              return q + 1;
            }
        }
    }

  /* Not an entity we know: a bare "&" as in "Fish & Chips". */
  g_string_append_c (out, '&');
  return p + 1;
}

/* Returns the position after the tag's closing '>', honouring quoted
 * attribute values ("a > b" inside alt="..."). */
static const char *
skip_tag (const char *p,
          const char *end)
{
  char quote = 0;

  for (; p < end; p++)
    {
      if (quote != 0)
        {
          if (*p == quote)
            quote = 0;
        }
      else if (*p == '"' || *p == '\'')
        quote = *p;
      else if (*p == '>')
        return p + 1;
    }

  return end;
}

/* The value of attribute @name in the tag between @p and @end (after the
 * tag's name), entities decoded; NULL when it has none or it is too long
 * to be a target anyone reads. */
static char *
find_attribute (const char *p,
                const char *end,
                const char *name)
{
  while (p < end)
    {
      const char *name_start, *name_end;
      const char *value_start = NULL, *value_end = NULL;

      while (p < end && (g_ascii_isspace (*p) || *p == '/'))
        p++;
      if (p >= end || *p == '>')
        return NULL;

      name_start = p;
      while (p < end && !g_ascii_isspace (*p) && *p != '=' && *p != '>' &&
             *p != '/')
        p++;
      name_end = p;
      if (name_end == name_start)
        p++;

      while (p < end && g_ascii_isspace (*p))
        p++;
      if (p < end && *p == '=')
        {
          p++;
          while (p < end && g_ascii_isspace (*p))
            p++;
          if (p < end && (*p == '"' || *p == '\''))
            {
              const char *close = memchr (p + 1, *p, end - p - 1);

              value_start = p + 1;
              value_end = close != NULL ? close : end;
              p = close != NULL ? close + 1 : end;
            }
          else
            {
              value_start = p;
              while (p < end && !g_ascii_isspace (*p) && *p != '>')
                p++;
              value_end = p;
            }
        }

      if (value_start != NULL &&
          (gsize) (name_end - name_start) == strlen (name) &&
          g_ascii_strncasecmp (name_start, name, name_end - name_start) == 0)
        {
          GString *value;
          const char *v = value_start;

          if (value_end - value_start > MAX_LINK_LENGTH)
            return NULL;

          value = g_string_sized_new (value_end - value_start);
          while (v < value_end)
            {
              if (*v == '&')
                v = decode_entity (v, value_end, value);
              else
                g_string_append_c (value, *v++);
            }

          return g_strstrip (g_string_free (value, FALSE));
        }
    }

  return NULL;
}

/* A target worth showing: absolute, and nothing in it that would make
 * "text <target>" ambiguous or hide part of it. */
static gboolean
link_target_is_shown (const char *target)
{
  gboolean known_scheme = FALSE;

  for (guint i = 0; link_schemes[i] != NULL && !known_scheme; i++)
    known_scheme = g_ascii_strncasecmp (target, link_schemes[i],
                                        strlen (link_schemes[i])) == 0;
  if (!known_scheme)
    return FALSE;

  for (const guchar *p = (const guchar *) target; *p != '\0'; p++)
    if (*p <= ' ' || *p == '<' || *p == '>' || *p == 0x7F)
      return FALSE;

  return TRUE;
}

/* At the end of a link: its target after its text, unless the text
 * already says it ("https://example.org", or the address of a mailto:). */
static void
append_link_target (GString    *out,
                    gsize       text_start,
                    const char *target)
{
  const char *text = out->str + MIN (text_start, out->len);
  g_autofree char *stripped = g_strstrip (g_strdup (text));

  if (strcmp (stripped, target) == 0 ||
      (g_ascii_strncasecmp (target, "mailto:", 7) == 0 &&
       strcmp (stripped, target + 7) == 0))
    return;

  if (out->len > 0 && out->str[out->len - 1] != '\n' &&
      out->str[out->len - 1] != ' ')
    g_string_append_c (out, ' ');
  g_string_append_printf (out, "<%s>", target);
}

static const char *
find_ascii_case (const char *p,
                 const char *end,
                 const char *needle)
{
  gsize n = strlen (needle);

  for (; p + n <= end; p++)
    if (g_ascii_strncasecmp (p, needle, n) == 0)
      return p;

  return NULL;
}

char *
popcheck_message_html_to_text (const char *html,
                               gssize      len)
{
  const char *p, *end;
  GString *out;
  gboolean pending_space = FALSE;
  /* The open link's target, and where its text began in @out. */
  g_autofree char *link_target = NULL;
  gsize link_start = 0;

  g_return_val_if_fail (html != NULL || len == 0, NULL);

  if (html == NULL)
    return g_strdup ("");
  if (len < 0)
    len = strlen (html);

  p = html;
  end = html + len;
  out = g_string_sized_new (len / 2 + 1);

  while (p < end)
    {
      if (*p == '<')
        {
          const char *q = p + 1;
          const char *name_start;
          const char *tag_end;
          char name[16];
          gsize name_len;
          gboolean closing = FALSE;

          if (end - p >= 4 && strncmp (p, "<!--", 4) == 0)
            {
              const char *close = find_ascii_case (p + 4, end, "-->");

              p = close != NULL ? close + 3 : end;
              continue;
            }
          if (q < end && (*q == '!' || *q == '?'))
            {
              p = skip_tag (q, end);
              continue;
            }

          if (q < end && *q == '/')
            {
              closing = TRUE;
              q++;
            }
          name_start = q;
          while (q < end && g_ascii_isalnum (*q))
            q++;
          name_len = q - name_start;

          if (name_len == 0)
            {
              /* "a < b" is text, not a tag. */
              if (pending_space && out->len > 0 &&
                  out->str[out->len - 1] != '\n')
                g_string_append_c (out, ' ');
              pending_space = FALSE;
              g_string_append_c (out, '<');
              p++;
              continue;
            }

          name_len = MIN (name_len, sizeof name - 1);
          for (gsize i = 0; i < name_len; i++)
            name[i] = g_ascii_tolower (name_start[i]);
          name[name_len] = '\0';

          tag_end = skip_tag (q, end);

          if (strcmp (name, "a") == 0)
            {
              /* An <a> inside another ends the first: links do not nest. */
              if (link_target != NULL)
                append_link_target (out, link_start, link_target);
              g_clear_pointer (&link_target, g_free);

              if (!closing)
                {
                  link_target = find_attribute (q, tag_end, "href");
                  if (link_target != NULL &&
                      !link_target_is_shown (link_target))
                    g_clear_pointer (&link_target, g_free);
                  link_start = out->len;
                }
            }

          p = tag_end;

          if (!closing && name_in (name, hidden_tags))
            {
              g_autofree char *close_tag = g_strconcat ("</", name, NULL);
              const char *close = find_ascii_case (p, end, close_tag);

              p = close != NULL ? skip_tag (close, end) : end;
              continue;
            }

          if (!closing && name_in (name, paragraph_tags))
            {
              append_newline (out, FALSE);
              append_newline (out, TRUE);
              pending_space = FALSE;
            }
          else if (name_in (name, block_tags))
            {
              append_newline (out, strcmp (name, "br") == 0 && !closing);
              pending_space = FALSE;
            }
          else if (strcmp (name, "td") == 0 || strcmp (name, "th") == 0)
            pending_space = TRUE;

          continue;
        }

      if (g_ascii_isspace (*p))
        {
          /* HTML white space, line breaks included, is one space. */
          pending_space = TRUE;
          p++;
          continue;
        }

      if (pending_space && out->len > 0 && out->str[out->len - 1] != '\n')
        g_string_append_c (out, ' ');
      pending_space = FALSE;

      if (*p == '&')
        p = decode_entity (p, end, out);
      else
        g_string_append_c (out, *p++);
    }

  /* A link never closed still shows where it leads. */
  if (link_target != NULL)
    append_link_target (out, link_start, link_target);

  /* "</p>" at the end leaves a line break that ends nothing. */
  while (out->len > 0 && out->str[out->len - 1] == '\n')
    g_string_truncate (out, out->len - 1);

  return g_string_free (out, FALSE);
}

/* Previews --------------------------------------------------------------- */

/* Keeps the first max_lines lines that carry the text: leading and
 * trailing blank lines dropped, runs of blank lines made one, trailing
 * white space removed. */
static char *
take_lines (const char *text,
            guint       max_lines)
{
  g_auto(GStrv) lines = NULL;
  GString *out = g_string_new (NULL);
  guint taken = 0;
  gboolean blank_pending = FALSE;

  if (max_lines == 0)
    return g_string_free (out, FALSE);

  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL && taken < max_lines; i++)
    {
      char *line = g_strchomp (lines[i]);

      if (*line == '\0')
        {
          blank_pending = out->len > 0;
          continue;
        }

      if (blank_pending)
        {
          g_string_append_c (out, '\n');
          taken++;
          blank_pending = FALSE;
          if (taken >= max_lines)
            break;
        }
      if (out->len > 0)
        g_string_append_c (out, '\n');
      g_string_append (out, line);
      taken++;
    }

  /* The blank line may have been the last one taken. */
  while (out->len > 0 && out->str[out->len - 1] == '\n')
    g_string_truncate (out, out->len - 1);

  /* Cut to its length, as the summary keeps it: a GString's room is
   * rounded up to a power of two. */
  {
    gsize length = out->len;

    return g_realloc (g_string_free (out, FALSE), length + 1);
  }
}

static gboolean
charset_is_utf8 (const char *charset)
{
  return g_ascii_strcasecmp (charset, "utf-8") == 0 ||
         g_ascii_strcasecmp (charset, "utf8") == 0 ||
         g_ascii_strcasecmp (charset, "us-ascii") == 0 ||
         g_ascii_strcasecmp (charset, "ascii") == 0;
}

/* The decoded content of a part, converted to UTF-8 from its charset. */
static char *
get_part_text (GMimePart *part)
{
  GMimeDataWrapper *content = g_mime_part_get_content (part);
  const char *charset;
  g_autoptr(GMimeStream) memory = NULL;
  g_autoptr(GMimeStream) filtered = NULL;
  GByteArray *array;
  gboolean converted = FALSE;

  if (content == NULL)
    return NULL;

  memory = g_mime_stream_mem_new ();
  filtered = g_mime_stream_filter_new (memory);

  charset = g_mime_object_get_content_type_parameter (GMIME_OBJECT (part),
                                                      "charset");
  if (charset != NULL && !charset_is_utf8 (charset))
    {
      /* NULL for a charset iconv does not know: then the guess below. */
      g_autoptr(GMimeFilter) filter = g_mime_filter_charset_new (charset,
                                                                 "UTF-8");

      if (filter != NULL)
        {
          g_mime_stream_filter_add (GMIME_STREAM_FILTER (filtered), filter);
          converted = TRUE;
        }
    }

  /* Writing the wrapper decodes base64 and quoted-printable. */
  g_mime_data_wrapper_write_to_stream (content, filtered);
  g_mime_stream_flush (filtered);

  array = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (memory));
  if (array == NULL || array->len == 0)
    return g_strdup ("");

  if (!converted && !g_utf8_validate ((const char *) array->data, array->len,
                                      NULL))
    {
      /* No charset, or a wrong one: Latin-1 is the usual culprit and
       * accepts any byte. */
      char *latin1 = g_convert ((const char *) array->data, array->len,
                                "UTF-8", "ISO-8859-1", NULL, NULL, NULL);
      if (latin1 != NULL)
        return latin1;
    }

  return g_utf8_make_valid ((const char *) array->data, array->len);
}

static gboolean
part_is_attachment (GMimeObject *object)
{
  const char *disposition = g_mime_object_get_disposition (object);

  return disposition != NULL &&
         g_ascii_strcasecmp (disposition, "attachment") == 0;
}

static gboolean
part_is_type (GMimeObject *object,
              const char  *type,
              const char  *subtype)
{
  GMimeContentType *content_type = g_mime_object_get_content_type (object);

  return content_type != NULL &&
         g_mime_content_type_is_type (content_type, type, subtype);
}

/* The part the preview comes from: in multipart/alternative text/plain
 * wins over HTML; elsewhere the first text part that is not an
 * attachment. */
static GMimePart *
find_text_part (GMimeObject *object,
                guint        depth)
{
  if (object == NULL || depth > MAX_MIME_DEPTH)
    return NULL;

  if (GMIME_IS_MULTIPART (object))
    {
      GMimeMultipart *multipart = GMIME_MULTIPART (object);
      int n = g_mime_multipart_get_count (multipart);

      if (part_is_type (object, "multipart", "alternative"))
        {
          for (int i = 0; i < n; i++)
            {
              GMimeObject *child = g_mime_multipart_get_part (multipart, i);

              if (GMIME_IS_PART (child) && !part_is_attachment (child) &&
                  part_is_type (child, "text", "plain"))
                return GMIME_PART (child);
            }
        }

      for (int i = 0; i < n; i++)
        {
          GMimePart *found =
            find_text_part (g_mime_multipart_get_part (multipart, i),
                            depth + 1);

          if (found != NULL)
            return found;
        }

      return NULL;
    }

  if (GMIME_IS_PART (object) && !part_is_attachment (object) &&
      (part_is_type (object, "text", "plain") ||
       part_is_type (object, "text", "html")))
    return GMIME_PART (object);

  return NULL;
}

char *
popcheck_message_sanitize_file_name (const char *name)
{
  g_autofree char *line = popcheck_message_sanitize_text (name, -1, TRUE,
                                                          MAX_ATTACHMENT_NAME);
  const char *base = line;

  /* Only the name: "../../.bashrc" must never become a path if the UI
   * offers to save it one day. */
  for (const char *p = line; *p != '\0'; p++)
    if (*p == '/' || *p == '\\')
      base = p + 1;

  /* "dir/ name" leaves a space in front. */
  while (*base == ' ')
    base++;

  if (*base == '\0' || strcmp (base, ".") == 0 || strcmp (base, "..") == 0)
    return NULL;

  return g_strdup (base);
}

char *
popcheck_message_sanitize_mime_type (const char *mime_type)
{
  g_autofree char *line = NULL;

  if (mime_type == NULL || *mime_type == '\0')
    return g_strdup ("application/octet-stream");

  line = popcheck_message_sanitize_text (mime_type, -1, TRUE,
                                         MAX_MIME_TYPE_LENGTH);
  if (*line == '\0')
    return g_strdup ("application/octet-stream");

  return g_ascii_strdown (line, -1);
}

void
popcheck_attachment_clear (gpointer attachment)
{
  PopcheckAttachment *self = attachment;

  g_clear_pointer (&self->name, g_free);
  g_clear_pointer (&self->mime_type, g_free);
}

/* The bytes a part decodes to (a forwarded message: the message as
 * written); it is whole, as its closing boundary came. */
static guint64
decoded_size (GMimeObject *object)
{
  g_autoptr(GMimeStream) counter = g_mime_stream_null_new ();

  if (GMIME_IS_PART (object))
    {
      GMimeDataWrapper *content = g_mime_part_get_content (GMIME_PART (object));

      if (content != NULL)
        g_mime_data_wrapper_write_to_stream (content, counter);
    }
  else if (GMIME_IS_MESSAGE_PART (object))
    {
      GMimeMessage *message =
        g_mime_message_part_get_message (GMIME_MESSAGE_PART (object));

      if (message != NULL)
        g_mime_object_write_to_stream (GMIME_OBJECT (message), NULL, counter);
    }

  return GMIME_STREAM_NULL (counter)->written;
}

/* A forwarded message (message/rfc822) is an attachment too: named by
 * its part's file name, else by its subject, whose slashes ("Minutes
 * 3/4") are not a path. */
static char *
forwarded_message_name (GMimeMessagePart *part)
{
  GMimeObject *object = GMIME_OBJECT (part);
  GMimeMessage *message = g_mime_message_part_get_message (part);
  const char *name;

  name = g_mime_object_get_content_disposition_parameter (object, "filename");
  if (name == NULL)
    name = g_mime_object_get_content_type_parameter (object, "name");
  if (name != NULL)
    return g_strdup (name);

  name = message != NULL ? g_mime_message_get_subject (message) : NULL;
  if (name == NULL)
    return NULL;

  return g_strdelimit (g_strdup (name), "/\\", '-');
}

/* RFC 2183's size parameter: what the sender claims, for a part the
 * fetched lines end in. */
static guint64
declared_size (GMimeObject *object)
{
  const char *value =
    g_mime_object_get_content_disposition_parameter (object, "size");
  guint64 size;

  if (value == NULL ||
      !g_ascii_string_to_unsigned (value, 10, 0, G_MAXUINT64 - 1, &size, NULL))
    return POPCHECK_MESSAGE_SIZE_UNKNOWN;

  return size;
}

/* @open is TRUE when the fetched lines may end inside @object: it is the
 * message's body, or the last part of an open multipart whose closing
 * boundary never came.  A multipart left open inside a closed one ended
 * at its parent's boundary, so its parts are whole. */
static void
collect_attachments (GMimeObject *object,
                     GMimePart   *text_part,
                     gboolean     open,
                     GArray      *attachments,
                     guint        depth)
{
  PopcheckAttachment attachment = { NULL, };
  GMimeContentType *type;
  g_autofree char *mime_type = NULL;
  g_autofree char *filename = NULL;

  if (object == NULL || depth > MAX_MIME_DEPTH ||
      attachments->len >= POPCHECK_MESSAGE_MAX_ATTACHMENTS)
    return;

  if (GMIME_IS_MULTIPART (object))
    {
      GMimeMultipart *multipart = GMIME_MULTIPART (object);
      int n = g_mime_multipart_get_count (multipart);
      /* GMime's parser sets this only when it read the closing boundary. */
      gboolean closed = multipart->write_end_boundary;

      for (int i = 0; i < n; i++)
        collect_attachments (g_mime_multipart_get_part (multipart, i),
                             text_part, open && !closed && i == n - 1,
                             attachments, depth + 1);
      return;
    }

  /* Content-Disposition filename, else Content-Type name; GMime decodes
   * RFC 2231 and RFC 2047 forms of both.  Inline parts with a name count
   * too: a person sees them as attached files. */
  if (GMIME_IS_PART (object) && GMIME_PART (object) != text_part)
    filename = g_strdup (g_mime_part_get_filename (GMIME_PART (object)));
  else if (GMIME_IS_MESSAGE_PART (object))
    filename = forwarded_message_name (GMIME_MESSAGE_PART (object));
  else
    return;

  if (filename == NULL)
    return;
  attachment.name = popcheck_message_sanitize_file_name (filename);
  if (attachment.name == NULL)
    return;

  type = g_mime_object_get_content_type (object);
  if (type != NULL)
    mime_type = g_mime_content_type_get_mime_type (type);
  attachment.mime_type = popcheck_message_sanitize_mime_type (mime_type);
  attachment.size = open ? declared_size (object) : decoded_size (object);
  g_array_append_val (attachments, attachment);
}

void
popcheck_message_decode_body (GMimeMessage  *message,
                              guint          preview_lines,
                              char         **preview,
                              GArray        *attachments,
                              gboolean      *incomplete)
{
  GMimeObject *body = g_mime_message_get_mime_part (message);
  GMimePart *text_part = find_text_part (body, 0);

  if (text_part != NULL && preview_lines > 0)
    {
      g_autofree char *text = get_part_text (text_part);
      g_autofree char *plain = NULL;
      g_autofree char *clean = NULL;

      if (text != NULL && part_is_type (GMIME_OBJECT (text_part), "text", "html"))
        plain = popcheck_message_html_to_text (text, -1);
      else
        plain = g_steal_pointer (&text);

      clean = popcheck_message_sanitize_text (plain, -1, FALSE,
                                              POPCHECK_MESSAGE_MAX_PREVIEW);
      *preview = take_lines (clean, preview_lines);
    }

  /* TOP cuts the body after N lines: a multipart whose closing boundary
   * is not among them may have more parts after the ones seen. */
  *incomplete = GMIME_IS_MULTIPART (body) &&
                !GMIME_MULTIPART (body)->write_end_boundary;
  collect_attachments (body, text_part, TRUE, attachments, 0);
}
