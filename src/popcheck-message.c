/* popcheck-message.c: one message summary, decoded with GMime
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What TOP returns is untrusted: any bytes, any charset, MIME structures
 * cut off after N body lines.  Decoding never fails; it keeps what it can
 * read and makes it safe to show: valid UTF-8, no control characters (so
 * no terminal escapes reach popcheck-cli's output), bounded lengths.
 * The body (preview and attachment names) is walked in
 * popcheck-message-body.c.
 */

#define G_LOG_DOMAIN "popcheck-message"

#include "config.h"

#include <errno.h>
#include <iconv.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "pop3-parser.h"
#include "pop3-text.h"
#include "popcheck-message-private.h"

/* TOP n N bounds the body by lines, not bytes: one "line" can be megabytes
 * of base64.  A summary needs far less, and a cut MIME structure is handled
 * anyway. */
#define MAX_DECODE_INPUT     (2 * 1024 * 1024)

#define CACHE_VERSION        1
#define CACHE_TYPE_STRING    "(ustssssssssasb)"
/* Version 2 adds Cc, each attachment's type and size, and whether the
 * structure was cut off; version 1 summaries are still read. */
#define CACHE_VERSION_2      2
#define CACHE_TYPE_STRING_2  "(ustsssssssssa(sst)bb)"
/* A summary without headers: version, UID, size, "new", refused TOPs.  A
 * type of its own, so that a PopCheck that does not know it drops just
 * that summary (and sends TOP again) rather than read it as a message
 * with no subject. */
#define HEADERLESS_TYPE_STRING "(ustbu)"

/* A state file kept open: the summaries in it are read again on demand.
 * The file is only ever replaced by a rename, so the open one keeps the
 * bytes it had when it was read or written. */
struct _PopcheckSummaryFile
{
  int fd;
};

struct _PopcheckStringArena
{
  char  *data;
  gsize  size;
  gsize  used;
  GDestroyNotify free_func;
  gpointer       free_data;
};

/* What a message's headers tell.  A message without headers points at
 * one shared, empty set (no_headers ()) rather than owning one: a first
 * check of a million messages lists most of them without headers, and
 * their own empty sets cost 112 bytes a message. */
typedef struct
{
  /* What the list shows and searches stays in memory. */
  char      *from;
  char      *from_name;
  char      *from_address;
  char      *subject;
  GDateTime *date;
  char      *message_id;
  PopcheckStringArena *arena;
  /* What only the preview shows: NULL while it is in the state file
   * alone (cached_file), where a list of 100,000 messages keeps it. */
  char      *to;
  char      *cc;
  char      *preview;
  /* The names, and the same attachments as PopcheckAttachment. */
  GStrv      attachments;
  GArray    *attachment_details;
  /* The summary as the state file holds it: a boxed "v", of the
   * message's cached_length. */
  PopcheckSummaryFile *cached_file;
  guint64    cached_offset;
} MessageHeaders;

struct _PopcheckMessage
{
  GObject    parent_instance;

  char      *uid;
  guint64    size;
  guint      msg_number;
  /* How many TOPs the server refused, for a message without headers. */
  guint      top_refusals;
  /* Owned if headers_known, else no_headers (). */
  MessageHeaders *h;
  /* Bits, not gbooleans: a first check of a million messages makes a
   * million of these. */
  /* TRUE once uid and the five strings of h the list shows share one
   * allocation, at uid: their own, or a place in h->arena. */
  guint      packed : 1;
  guint      attachments_incomplete : 1;
  guint      is_new : 1;
  /* FALSE for a message the server would not TOP, or not yet: only its
   * UID and size are known, and top_refusals says how many TOPs were
   * refused. */
  guint      headers_known : 1;
  /* FALSE for a message a broken UIDL listing left without a UID: uid is
   * then a key no UID can be, valid for this session only. */
  guint      has_uid : 1;
  /* The length of h's summary in the state file: 32 bits as in the
   * file's index, and here rather than in h, where it fills what would
   * be padding. */
  guint32    cached_length;
};

G_DEFINE_FINAL_TYPE (PopcheckMessage, popcheck_message, G_TYPE_OBJECT)

G_DEFINE_QUARK (popcheck-message-error-quark, popcheck_message_error)

enum {
  PROP_0,
  PROP_UID,
  PROP_SIZE,
  PROP_MSG_NUMBER,
  PROP_FROM,
  PROP_FROM_NAME,
  PROP_FROM_ADDRESS,
  PROP_TO,
  PROP_CC,
  PROP_SUBJECT,
  PROP_DATE,
  PROP_MESSAGE_ID,
  PROP_PREVIEW,
  PROP_ATTACHMENTS,
  PROP_IS_NEW,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Charsets --------------------------------------------------------------- */

/* glibc unloads a charset's conversion module once no converter uses it
 * and two other modules have been let go since, and GMime opens and
 * closes a converter for each encoded word it decodes: mail in KOI8-R,
 * ISO-2022-JP and Latin-1 had the modules loaded and unloaded again for
 * every message, and its parse took 0.38 ms a message instead of 0.02.
 * A converter from each charset that mail names is kept open for good,
 * so that its module stays loaded; a name iconv does not know is tried
 * once, and only so many are kept. */
#define MAX_KEPT_CHARSETS 64
#define MAX_CHARSET_NAME  40

static void
keep_charset (const char *name,
              gsize       len)
{
  static GMutex lock;
  static GHashTable *kept;
  char key[MAX_CHARSET_NAME + 1];
  g_autoptr(GMutexLocker) locker = NULL;
  iconv_t cd;

  if (len == 0 || len > MAX_CHARSET_NAME)
    return;
  for (gsize i = 0; i < len; i++)
    key[i] = g_ascii_tolower (name[i]);
  key[len] = '\0';

  locker = g_mutex_locker_new (&lock);
  if (kept == NULL)
    kept = g_hash_table_new (g_str_hash, g_str_equal);
  if (g_hash_table_contains (kept, key) || g_hash_table_size (kept) >= MAX_KEPT_CHARSETS)
    return;

  cd = iconv_open ("UTF-8", g_mime_charset_iconv_name (key));
  g_hash_table_insert (kept, g_strdup (key), cd != (iconv_t) -1 ? cd : NULL);
}

static gboolean
is_charset_char (char c)
{
  return g_ascii_isalnum (c) || c == '-' || c == '_' || c == '.' || c == ':';
}

/* The charsets that data names: in encoded words ("=?koi8-r?B?...?=", or
 * "=?koi8-r*ru?B?...?=") and in charset parameters ("charset=koi8-r",
 * quoted or not). */
static void
keep_charsets_of (const char *data,
                  gsize       len)
{
  const char *end = data + len;

  for (const char *p = data; p < end && (p = memchr (p, '=', end - p)) != NULL; p++)
    {
      const char *name = NULL;
      const char *name_end;

      if (p + 1 < end && p[1] == '?')
        name = p + 2;
      else if (p - data >= 7 && g_ascii_strncasecmp (p - 7, "charset", 7) == 0)
        name = p + 1 < end && p[1] == '"' ? p + 2 : p + 1;
      if (name == NULL || name >= end)
        continue;

      for (name_end = name;
           name_end < end && name_end - name <= MAX_CHARSET_NAME && is_charset_char (*name_end);
           name_end++)
        ;
      keep_charset (name, name_end - name);
    }
}

static GMimeParserOptions *
get_parser_options (void)
{
  static GMimeParserOptions *options;

  if (g_once_init_enter (&options))
    {
      /* Raw 8-bit headers are mostly UTF-8, else some Windows or Latin-1
       * mail client; ISO-8859-1 last because it accepts any byte. */
      static const char *fallback[] = {
        "UTF-8", "windows-1252", "ISO-8859-1", NULL
      };
      GMimeParserOptions *new_options;

      g_mime_init ();
      for (guint i = 0; fallback[i] != NULL; i++)
        keep_charset (fallback[i], strlen (fallback[i]));
      new_options = g_mime_parser_options_new ();
      g_mime_parser_options_set_fallback_charsets (new_options, fallback);
      /* Real mail is full of encoded words inside words and other RFC 2047
       * violations that every mail client decodes anyway. */
      g_mime_parser_options_set_rfc2047_compliance_mode (new_options,
                                                         GMIME_RFC_COMPLIANCE_LOOSE);
      g_mime_parser_options_set_address_compliance_mode (new_options,
                                                         GMIME_RFC_COMPLIANCE_LOOSE);
      g_mime_parser_options_set_parameter_compliance_mode (new_options,
                                                           GMIME_RFC_COMPLIANCE_LOOSE);
      g_mime_parser_options_set_allow_addresses_without_domain (new_options, TRUE);
      g_once_init_leave (&options, new_options);
    }

  return options;
}

/* Text safety ------------------------------------------------------------ */

/* The rules are the engine's, shared with everything else a server says. */
char *
popcheck_message_sanitize_text (const char *text,
                                gssize      len,
                                gboolean    single_line,
                                gsize       max_chars)
{
  return pop3_text_sanitize (text, len, single_line, max_chars);
}

static char *
sanitize_line (const char *text)
{
  return popcheck_message_sanitize_text (text, -1, TRUE,
                                         POPCHECK_MESSAGE_MAX_FIELD);
}

/* Addresses -------------------------------------------------------------- */

static void
flatten_addresses (InternetAddressList *list,
                   GPtrArray           *mailboxes,
                   guint                depth)
{
  int n;

  if (list == NULL || depth > 4)
    return;

  n = internet_address_list_length (list);
  for (int i = 0; i < n && mailboxes->len < 1000; i++)
    {
      InternetAddress *address = internet_address_list_get_address (list, i);

      if (INTERNET_ADDRESS_IS_MAILBOX (address))
        g_ptr_array_add (mailboxes, address);
      else if (INTERNET_ADDRESS_IS_GROUP (address))
        flatten_addresses (internet_address_group_get_members (INTERNET_ADDRESS_GROUP (address)),
                           mailboxes, depth + 1);
    }
}

/* "Name <address>" or "address", as a person reads it: decoded, and without
 * the quotes and escapes the header needed. */
static char *
format_mailbox (InternetAddress *address)
{
  const char *name = internet_address_get_name (address);
  const char *addr =
    internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (address));

  if (addr == NULL || *addr == '\0')
    return g_strdup (name != NULL ? name : "");
  if (name == NULL || *name == '\0')
    return g_strdup (addr);

  return g_strdup_printf ("%s <%s>", name, addr);
}

static char *
format_address_list (InternetAddressList *list,
                     const char          *raw)
{
  g_autoptr(GPtrArray) mailboxes = g_ptr_array_new ();
  g_autoptr(GString) out = g_string_new (NULL);

  flatten_addresses (list, mailboxes, 0);
  for (guint i = 0; i < mailboxes->len; i++)
    {
      g_autofree char *one = format_mailbox (g_ptr_array_index (mailboxes, i));

      if (*one == '\0')
        continue;
      if (out->len > 0)
        g_string_append (out, ", ");
      g_string_append (out, one);
      if (out->len > POPCHECK_MESSAGE_MAX_FIELD * 4)
        break;
    }

  /* An address list GMime could not parse at all is still worth showing
   * as text: "undisclosed-recipients" or a bare name. */
  if (out->len == 0 && raw != NULL)
    {
      g_autofree char *decoded =
        g_mime_utils_header_decode_text (get_parser_options (), raw);

      return sanitize_line (decoded);
    }

  return sanitize_line (out->str);
}

/* Construction ----------------------------------------------------------- */

static void
decode_headers (PopcheckMessage *self,
                GMimeMessage    *message)
{
  GMimeObject *object = GMIME_OBJECT (message);
  g_autoptr(GPtrArray) from_mailboxes = g_ptr_array_new ();
  InternetAddressList *from = g_mime_message_get_from (message);
  GDateTime *date;

  self->h->subject = sanitize_line (g_mime_message_get_subject (message));
  self->h->message_id = sanitize_line (g_mime_message_get_message_id (message));

  self->h->from = format_address_list (from,
                                    g_mime_object_get_header (object, "From"));
  flatten_addresses (from, from_mailboxes, 0);
  if (from_mailboxes->len > 0)
    {
      InternetAddress *first = g_ptr_array_index (from_mailboxes, 0);

      self->h->from_name = sanitize_line (internet_address_get_name (first));
      self->h->from_address =
        sanitize_line (internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (first)));
    }
  else
    {
      self->h->from_name = g_strdup (self->h->from);
      self->h->from_address = g_strdup ("");
    }

  self->h->to = format_address_list (g_mime_message_get_to (message),
                                  g_mime_object_get_header (object, "To"));
  self->h->cc = format_address_list (g_mime_message_get_cc (message),
                                  g_mime_object_get_header (object, "Cc"));

  date = g_mime_message_get_date (message);
  if (date != NULL)
    self->h->date = g_date_time_ref (date);
}

static GArray *
new_attachment_details (void)
{
  GArray *details = g_array_new (FALSE, TRUE, sizeof (PopcheckAttachment));

  g_array_set_clear_func (details, popcheck_attachment_clear);
  return details;
}

static char *no_attachments[] = { NULL };

/* Never written to: see MessageHeaders. */
static MessageHeaders *
no_headers (void)
{
  static MessageHeaders *shared;

  if (g_once_init_enter (&shared))
    {
      MessageHeaders *empty = g_new0 (MessageHeaders, 1);

      empty->from = empty->from_name = empty->from_address = (char *) "";
      empty->subject = empty->message_id = (char *) "";
      empty->to = empty->cc = empty->preview = (char *) "";
      empty->attachments = no_attachments;
      empty->attachment_details = new_attachment_details ();
      g_once_init_leave (&shared, empty);
    }

  return shared;
}

static void
message_headers_free (MessageHeaders *h,
                      gboolean        packed)
{
  /* Packed, the five strings the list shows are in the block at uid. */
  if (!packed)
    {
      g_free (h->from);
      g_free (h->from_name);
      g_free (h->from_address);
      g_free (h->subject);
      g_free (h->message_id);
    }
  g_clear_pointer (&h->arena, popcheck_string_arena_unref);
  g_clear_pointer (&h->date, g_date_time_unref);
  g_free (h->to);
  g_free (h->cc);
  g_free (h->preview);
  g_strfreev (h->attachments);
  g_clear_pointer (&h->attachment_details, g_array_unref);
  g_clear_pointer (&h->cached_file, popcheck_summary_file_unref);
  g_slice_free (MessageHeaders, h);
}

/* A message of its own headers, for a constructor to fill in. */
static PopcheckMessage *
new_with_headers (void)
{
  PopcheckMessage *self = g_object_new (POPCHECK_TYPE_MESSAGE, NULL);

  self->h = g_slice_new0 (MessageHeaders);
  self->headers_known = TRUE;

  return self;
}

/* The names follow the details, which hold at most
 * POPCHECK_MESSAGE_MAX_ATTACHMENTS. */
static void
set_attachments_from_details (PopcheckMessage *self)
{
  GArray *details = self->h->attachment_details;

  g_clear_pointer (&self->h->attachments, g_strfreev);
  self->h->attachments = g_new0 (char *, details->len + 1);
  for (guint i = 0; i < details->len; i++)
    self->h->attachments[i] =
      g_strdup (g_array_index (details, PopcheckAttachment, i).name);
}

static void
fill_empty_fields (PopcheckMessage *self)
{
  char **fields[] = {
    &self->h->from, &self->h->from_name, &self->h->from_address, &self->h->to,
    &self->h->cc, &self->h->subject, &self->h->message_id, &self->h->preview,
  };

  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    if (*fields[i] == NULL)
      *fields[i] = g_strdup ("");

  if (self->h->attachments == NULL)
    set_attachments_from_details (self);
}

/* The strings every listed summary keeps, in one allocation rather than
 * six (in a list of 100,000 that is 60 MB less of malloc headers and
 * padding), or in @arena where it has room.  Called once a constructor
 * has set them all. */
static void
pack_strings_from (PopcheckMessage     *self,
                   const char * const   values[6],
                   PopcheckStringArena *arena)
{
  char **fields[] = {
    &self->uid, &self->h->from, &self->h->from_name, &self->h->from_address,
    &self->h->subject, &self->h->message_id,
  };
  gsize lengths[G_N_ELEMENTS (fields)];
  gsize total = 0;
  char *at;

  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      lengths[i] = values[i] != NULL ? strlen (values[i]) : 0;
      total += lengths[i] + 1;
    }

  if (arena != NULL && arena->size - arena->used >= total)
    {
      at = arena->data + arena->used;
      arena->used += total;
      self->h->arena = popcheck_string_arena_ref (arena);
    }
  else
    at = g_malloc (total);
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      memcpy (at, values[i] != NULL ? values[i] : "", lengths[i]);
      at[lengths[i]] = '\0';
      *fields[i] = at;
      at += lengths[i] + 1;
    }
  self->packed = TRUE;
}

static void
pack_strings (PopcheckMessage *self)
{
  char *owned[] = {
    self->uid, self->h->from, self->h->from_name, self->h->from_address,
    self->h->subject, self->h->message_id,
  };

  g_assert (!self->packed);

  pack_strings_from (self, (const char * const *) owned, NULL);
  popcheck_uid_unref (owned[0]);
  for (guint i = 1; i < G_N_ELEMENTS (owned); i++)
    g_free (owned[i]);
}

PopcheckMessage *
popcheck_message_new_from_top (const char *uid,
                               guint64     size,
                               guint       msg_number,
                               GBytes     *top_data,
                               guint       preview_lines)
{
  g_autoptr(PopcheckMessage) self = NULL;
  g_autoptr(GMimeStream) stream = NULL;
  g_autoptr(GMimeParser) parser = NULL;
  g_autoptr(GMimeMessage) message = NULL;
  GMimeParserOptions *options = get_parser_options ();
  const char *data = "";
  gsize len = 0;

  g_return_val_if_fail (uid != NULL, NULL);

  self = new_with_headers ();
  self->uid = popcheck_uid_new (uid);
  self->size = size;
  self->msg_number = msg_number;
  self->h->attachment_details = new_attachment_details ();

  if (top_data != NULL)
    data = g_bytes_get_data (top_data, &len);
  len = MIN (len, MAX_DECODE_INPUT);
  if (data != NULL)
    keep_charsets_of (data, len);

  /* The stream copies the buffer, and a cut multipart simply ends at the
   * end of the stream: the parser keeps the parts it has seen. */
  stream = g_mime_stream_mem_new_with_buffer (data != NULL ? data : "", len);
  parser = g_mime_parser_new_with_stream (stream);
  g_mime_parser_set_format (parser, GMIME_FORMAT_MESSAGE);
  message = g_mime_parser_construct_message (parser, options);

  if (message != NULL)
    {
      gboolean incomplete = FALSE;

      decode_headers (self, message);
      popcheck_message_decode_body (message, preview_lines,
                                    &self->h->preview, self->h->attachment_details,
                                    &incomplete);
      self->attachments_incomplete = !!incomplete;
    }

  fill_empty_fields (self);
  pack_strings (self);

  return g_steal_pointer (&self);
}

/* A message whose TOP the server refused (RFC 1939 makes TOP optional, and
 * some servers fail it for one damaged message): listed and counted by what
 * LIST and UIDL said, with empty headers the list shows as unknown.  That
 * TOP is its first refusal. */
static PopcheckMessage *
new_headerless_taking (char    *shared_uid,
                       guint64  size,
                       guint    msg_number)
{
  PopcheckMessage *self;

  self = g_object_new (POPCHECK_TYPE_MESSAGE, NULL);
  self->uid = shared_uid;
  self->size = size;
  self->msg_number = msg_number;
  self->top_refusals = 1;

  return self;
}

static PopcheckMessage *
new_headerless (const char *uid,
                guint64     size,
                guint       msg_number)
{
  return new_headerless_taking (popcheck_uid_new (uid), size, msg_number);
}

PopcheckMessage *
popcheck_message_new_without_headers (const char *uid,
                                      guint64     size,
                                      guint       msg_number)
{
  g_return_val_if_fail (uid != NULL, NULL);

  return new_headerless (uid, size, msg_number);
}

/* A message a check listed and left for later: its TOP has not been
 * sent yet (the newest go first, the rest in the background).  Listed by
 * what LIST and UIDL said, as one whose TOP was refused, but with no
 * refusal: that is what tells the two apart, here and in the cache. */
PopcheckMessage *
popcheck_message_new_headers_pending_shared (char    *uid,
                                             guint64  size,
                                             guint    msg_number)
{
  PopcheckMessage *self;

  g_return_val_if_fail (uid != NULL, NULL);

  self = new_headerless_taking (popcheck_uid_ref (uid), size, msg_number);
  self->top_refusals = 0;

  return self;
}

PopcheckMessage *
popcheck_message_new_headers_pending (const char *uid,
                                      guint64     size,
                                      guint       msg_number)
{
  PopcheckMessage *self;
  char *shared;

  g_return_val_if_fail (uid != NULL, NULL);

  shared = popcheck_uid_new (uid);
  self = popcheck_message_new_headers_pending_shared (shared, size,
                                                      msg_number);
  popcheck_uid_unref (shared);

  return self;
}

/* A message the server's UIDL listing gave no sound UID (a garbled line,
 * or one UID for several messages): listed by its number and LIST size
 * for this session only.  Its key has a space, which no UID has
 * (RFC 1939, section 7), so it never stands for a real message in the
 * state file, a lookup or a DELE. */
PopcheckMessage *
popcheck_message_new_without_uid (guint   msg_number,
                                  guint64 size)
{
  g_autofree char *key = NULL;
  PopcheckMessage *self;

  g_return_val_if_fail (msg_number > 0, NULL);

  key = g_strdup_printf ("no uid %u", msg_number);
  self = new_headerless (key, size, msg_number);
  self->has_uid = FALSE;
  self->top_refusals = 0;

  return self;
}

/* Fingerprints ----------------------------------------------------------- */

static const char * const fingerprint_fields[] = {
  "message-id", "date", "from", "subject",
};

/* The raw values, unfolded with white space runs made one space: the same
 * message gives the same id on every TOP, whatever GMime's version makes of
 * the encoded words. */
static void
scan_fingerprint_headers (const char *data,
                          gsize       len,
                          GString   **values)
{
  const char *p = data, *end = data + len;
  int current = -1;

  while (p < end)
    {
      const char *eol = memchr (p, '\n', end - p);
      const char *line_end = eol != NULL ? eol : end;
      const char *next = eol != NULL ? eol + 1 : end;

      if (line_end > p && line_end[-1] == '\r')
        line_end--;
      if (line_end == p)
        break;

      if (*p == ' ' || *p == '\t')
        {
          if (current >= 0)
            g_string_append_len (values[current], p, line_end - p);
        }
      else
        {
          const char *colon = memchr (p, ':', line_end - p);

          current = -1;
          if (colon != NULL)
            {
              gsize name_len = colon - p;

              while (name_len > 0 && (p[name_len - 1] == ' ' ||
                                      p[name_len - 1] == '\t'))
                name_len--;

              for (guint i = 0; i < G_N_ELEMENTS (fingerprint_fields); i++)
                {
                  if (values[i] == NULL &&
                      strlen (fingerprint_fields[i]) == name_len &&
                      g_ascii_strncasecmp (p, fingerprint_fields[i],
                                           name_len) == 0)
                    {
                      values[i] = g_string_new_len (colon + 1,
                                                    line_end - colon - 1);
                      current = i;
                      break;
                    }
                }
            }
        }

      p = next;
    }
}

static void
checksum_normalized (GChecksum  *checksum,
                     const char *value)
{
  gboolean space = FALSE;
  gboolean started = FALSE;

  for (const char *p = value; *p != '\0'; p++)
    {
      if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        {
          space = started;
          continue;
        }
      if (space)
        g_checksum_update (checksum, (const guchar *) " ", 1);
      space = FALSE;
      started = TRUE;
      g_checksum_update (checksum, (const guchar *) p, 1);
    }
}

char *
popcheck_message_fingerprint_uid (GBytes  *top0_headers,
                                  guint64  size)
{
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  GString *values[G_N_ELEMENTS (fingerprint_fields)] = { NULL, };
  char size_text[32];
  const char *data = NULL;
  gsize len = 0;

  if (top0_headers != NULL)
    data = g_bytes_get_data (top0_headers, &len);
  if (data != NULL)
    scan_fingerprint_headers (data, len, values);

  /* Each field named and NUL-separated, so that moving text from one
   * header to another changes the id. */
  for (guint i = 0; i < G_N_ELEMENTS (fingerprint_fields); i++)
    {
      g_checksum_update (checksum, (const guchar *) fingerprint_fields[i], -1);
      g_checksum_update (checksum, (const guchar *) "", 1);
      if (values[i] != NULL)
        {
          /* A header's value may carry NULs; hash only up to the first. */
          checksum_normalized (checksum, values[i]->str);
          g_string_free (values[i], TRUE);
        }
      g_checksum_update (checksum, (const guchar *) "", 1);
    }

  g_snprintf (size_text, sizeof size_text, "size%c%" G_GUINT64_FORMAT, 0, size);
  g_checksum_update (checksum, (const guchar *) size_text,
                     5 + strlen (size_text + 5));

  return g_strconcat ("fp-", g_checksum_get_string (checksum), NULL);
}

/* The cache -------------------------------------------------------------- */

/* Reads only what never changes once the summary is built, and "new" as
 * given: callable from a thread while the main thread holds the message. */
static GVariant *
summary_to_variant (PopcheckMessage *self,
                    gboolean         is_new)
{
  g_autofree char *date = NULL;
  GVariantBuilder attachments;

  if (self->h->date != NULL)
    date = g_date_time_format_iso8601 (self->h->date);

  g_variant_builder_init (&attachments, G_VARIANT_TYPE ("a(sst)"));
  for (guint i = 0; i < self->h->attachment_details->len; i++)
    {
      const PopcheckAttachment *attachment =
        &g_array_index (self->h->attachment_details, PopcheckAttachment, i);

      g_variant_builder_add (&attachments, "(sst)", attachment->name,
                             attachment->mime_type, attachment->size);
    }

  return g_variant_new (CACHE_TYPE_STRING_2,
                        CACHE_VERSION_2,
                        self->uid,
                        self->size,
                        self->h->from,
                        self->h->from_name,
                        self->h->from_address,
                        self->h->to,
                        self->h->cc,
                        self->h->subject,
                        date != NULL ? date : "",
                        self->h->message_id,
                        self->h->preview,
                        &attachments,
                        self->attachments_incomplete,
                        is_new);
}

GVariant *
popcheck_message_to_variant (PopcheckMessage *self)
{
  g_return_val_if_fail (POPCHECK_IS_MESSAGE (self), NULL);
  /* Only in the file: popcheck_message_boxed_from_cache() reads it. */
  g_return_val_if_fail (self->headers_known == FALSE ||
                        self->h->attachment_details != NULL, NULL);

  if (!self->headers_known)
    return popcheck_message_headerless_variant_new (self->uid, self->size,
                                                    self->is_new,
                                                    self->top_refusals);

  return summary_to_variant (self, self->is_new);
}

GVariant *
popcheck_message_headerless_variant_new (const char *uid,
                                         guint64     size,
                                         gboolean    is_new,
                                         guint       top_refusals)
{
  g_return_val_if_fail (uid != NULL, NULL);

  return g_variant_new (HEADERLESS_TYPE_STRING, CACHE_VERSION, uid, size,
                        is_new, top_refusals);
}

GVariant *
popcheck_message_to_variant_in_thread (PopcheckMessage *self,
                                       gboolean         is_new)
{
  g_return_val_if_fail (POPCHECK_IS_MESSAGE (self), NULL);
  g_return_val_if_fail (self->headers_known && self->h->attachment_details != NULL, NULL);

  return summary_to_variant (self, is_new);
}

static void
set_invalid_uid_error (GError **error)
{
  g_set_error_literal (error, POPCHECK_MESSAGE_ERROR,
                       POPCHECK_MESSAGE_ERROR_INVALID_CACHE,
                       "A cached summary has an invalid UID");
}

/* @normal is a HEADERLESS_TYPE_STRING of this version: a TOP was refused
 * (one refusal or more), or none was sent yet (none). */
static PopcheckMessage *
headerless_from_variant (GVariant  *normal,
                         GError   **error)
{
  PopcheckMessage *self;
  const char *uid;
  guint64 size;
  gboolean is_new;
  guint32 version, refusals;

  g_variant_get (normal, "(u&stbu)", &version, &uid, &size, &is_new,
                 &refusals);
  if (!pop3_uid_is_valid (uid))
    {
      set_invalid_uid_error (error);
      return NULL;
    }

  self = popcheck_message_new_without_headers (uid, size, 0);
  self->is_new = !!is_new;
  self->top_refusals = refusals;

  return self;
}

/* A cached attachment, cleaned as one from a server would be. */
static void
add_cached_attachment (PopcheckMessage *self,
                       const char      *name,
                       const char      *mime_type,
                       guint64          size)
{
  PopcheckAttachment attachment = { NULL, };

  if (self->h->attachment_details->len >= POPCHECK_MESSAGE_MAX_ATTACHMENTS)
    return;

  attachment.name = popcheck_message_sanitize_file_name (name);
  if (attachment.name == NULL)
    return;

  /* Version 1 kept only the name: NULL, the generic type. */
  attachment.mime_type = popcheck_message_sanitize_mime_type (mime_type);
  attachment.size = size;
  g_array_append_val (self->h->attachment_details, attachment);
}

/* With @with_details FALSE, a version 2 summary keeps only what the list
 * shows and searches; the caller says where the rest can be read. */
static PopcheckMessage *
message_from_variant (GVariant  *variant,
                      gboolean   with_details,
                      GError   **error)
{
  g_autoptr(PopcheckMessage) self = NULL;
  g_autoptr(GVariant) normal = NULL;
  g_autoptr(GVariantIter) attachments = NULL;
  guint32 version = 0;
  guint32 expected_version = CACHE_VERSION;
  const char *uid, *from, *from_name, *from_address, *to, *cc = "", *subject;
  const char *date, *message_id, *preview, *name, *mime_type;
  guint64 attachment_size;
  gboolean headerless, version_2;
  gboolean incomplete = FALSE, is_new = FALSE;

  g_return_val_if_fail (variant != NULL, NULL);

  headerless = g_variant_is_of_type (variant,
                                     G_VARIANT_TYPE (HEADERLESS_TYPE_STRING));
  version_2 = g_variant_is_of_type (variant,
                                    G_VARIANT_TYPE (CACHE_TYPE_STRING_2));
  if (!headerless && !version_2 &&
      !g_variant_is_of_type (variant, G_VARIANT_TYPE (CACHE_TYPE_STRING)))
    {
      g_set_error (error, POPCHECK_MESSAGE_ERROR,
                   POPCHECK_MESSAGE_ERROR_INVALID_CACHE,
                   "A cached summary has the type “%s”, expected “%s”",
                   g_variant_get_type_string (variant), CACHE_TYPE_STRING_2);
      return NULL;
    }

  /* Data read from a file: the normal form makes every offset and string
   * safe to access. */
  normal = g_variant_get_normal_form (variant);

  /* Each type has its own version: the same type with another version is
   * a future PopCheck's, not one this version can read. */
  if (version_2)
    expected_version = CACHE_VERSION_2;
  g_variant_get_child (normal, 0, "u", &version);
  if (version != expected_version)
    {
      g_set_error (error, POPCHECK_MESSAGE_ERROR,
                   POPCHECK_MESSAGE_ERROR_INVALID_CACHE,
                   "A cached summary has version %u, expected %u",
                   version, expected_version);
      return NULL;
    }

  if (headerless)
    return headerless_from_variant (normal, error);

  self = new_with_headers ();
  if (version_2)
    g_variant_get (normal, "(u&st&s&s&s&s&s&s&s&s&sa(sst)bb)",
                   &version, &uid, &self->size, &from, &from_name,
                   &from_address, &to, &cc, &subject, &date, &message_id,
                   &preview, &attachments, &incomplete, &is_new);
  else
    g_variant_get (normal, "(u&st&s&s&s&s&s&s&s&sasb)",
                   &version, &uid, &self->size, &from, &from_name,
                   &from_address, &to, &subject, &date, &message_id, &preview,
                   &attachments, &is_new);
  self->attachments_incomplete = !!incomplete;
  self->is_new = !!is_new;

  if (!pop3_uid_is_valid (uid))
    {
      set_invalid_uid_error (error);
      return NULL;
    }

  /* The file may have been edited or damaged: every field gets the same
   * treatment as text from a server. */
  self->uid = popcheck_uid_new (uid);
  self->h->from = sanitize_line (from);
  self->h->from_name = sanitize_line (from_name);
  self->h->from_address = sanitize_line (from_address);
  self->h->subject = sanitize_line (subject);
  self->h->message_id = sanitize_line (message_id);
  if (*date != '\0')
    self->h->date = g_date_time_new_from_iso8601 (date, NULL);

  pack_strings (self);

  if (!with_details && version_2)
    return g_steal_pointer (&self);

  self->h->attachment_details = new_attachment_details ();
  self->h->to = sanitize_line (to);
  self->h->cc = sanitize_line (cc);
  {
    g_autofree char *clean =
      popcheck_message_sanitize_text (preview, -1, FALSE,
                                      POPCHECK_MESSAGE_MAX_PREVIEW);
    self->h->preview = g_steal_pointer (&clean);
  }

  if (version_2)
    {
      while (g_variant_iter_next (attachments, "(&s&st)", &name, &mime_type,
                                  &attachment_size))
        add_cached_attachment (self, name, mime_type, attachment_size);
    }
  else
    {
      while (g_variant_iter_next (attachments, "&s", &name))
        add_cached_attachment (self, name, NULL,
                               POPCHECK_MESSAGE_SIZE_UNKNOWN);
    }
  set_attachments_from_details (self);

  return g_steal_pointer (&self);
}

PopcheckMessage *
popcheck_message_new_from_variant (GVariant  *variant,
                                   GError   **error)
{
  g_return_val_if_fail (variant != NULL, NULL);

  return message_from_variant (variant, TRUE, error);
}

/* Shared UIDs ------------------------------------------------------------ */

/* The count sits just before the string, so that the string itself is
 * what callers hold, hash and compare: four bytes more than a copy, where
 * GRefString's header is 32. */
typedef struct
{
  gint ref_count;
  char uid[];
} SharedUid;

static SharedUid *
shared_uid_from_string (char *uid)
{
  return (SharedUid *) (uid - G_STRUCT_OFFSET (SharedUid, uid));
}

char *
popcheck_uid_new (const char *uid)
{
  SharedUid *shared;
  gsize length;

  g_return_val_if_fail (uid != NULL, NULL);

  length = strlen (uid);
  shared = g_malloc (G_STRUCT_OFFSET (SharedUid, uid) + length + 1);
  shared->ref_count = 1;
  memcpy (shared->uid, uid, length + 1);

  return shared->uid;
}

char *
popcheck_uid_ref (char *uid)
{
  g_return_val_if_fail (uid != NULL, NULL);

  g_atomic_int_inc (&shared_uid_from_string (uid)->ref_count);

  return uid;
}

void
popcheck_uid_unref (gpointer uid)
{
  SharedUid *shared;

  if (uid == NULL)
    return;

  shared = shared_uid_from_string (uid);
  if (g_atomic_int_dec_and_test (&shared->ref_count))
    g_free (shared);
}

/* Strings of many summaries ---------------------------------------------- */

static void
string_arena_clear (PopcheckStringArena *arena)
{
  arena->free_func (arena->free_data);
}

PopcheckStringArena *
popcheck_string_arena_new (char           *data,
                           gsize           size,
                           GDestroyNotify  free_func,
                           gpointer        free_data)
{
  PopcheckStringArena *arena;

  g_return_val_if_fail (data != NULL || size == 0, NULL);
  g_return_val_if_fail (free_func != NULL, NULL);

  arena = g_atomic_rc_box_new0 (PopcheckStringArena);
  arena->data = data;
  arena->size = size;
  arena->free_func = free_func;
  arena->free_data = free_data;

  return arena;
}

PopcheckStringArena *
popcheck_string_arena_ref (PopcheckStringArena *arena)
{
  g_return_val_if_fail (arena != NULL, NULL);

  return g_atomic_rc_box_acquire (arena);
}

void
popcheck_string_arena_unref (PopcheckStringArena *arena)
{
  g_return_if_fail (arena != NULL);

  g_atomic_rc_box_release_full (arena, (GDestroyNotify) string_arena_clear);
}

gsize
popcheck_string_arena_get_free (PopcheckStringArena *arena)
{
  g_return_val_if_fail (arena != NULL, 0);

  return arena->size - arena->used;
}

/* Summaries on demand ---------------------------------------------------- */

static void
summary_file_clear (PopcheckSummaryFile *file)
{
  if (file->fd >= 0)
    g_close (file->fd, NULL);
}

PopcheckSummaryFile *
popcheck_summary_file_new (int fd)
{
  PopcheckSummaryFile *file;

  g_return_val_if_fail (fd >= -1, NULL);

  file = g_atomic_rc_box_new0 (PopcheckSummaryFile);
  file->fd = fd;

  return file;
}

PopcheckSummaryFile *
popcheck_summary_file_ref (PopcheckSummaryFile *file)
{
  g_return_val_if_fail (file != NULL, NULL);

  return g_atomic_rc_box_acquire (file);
}

void
popcheck_summary_file_unref (PopcheckSummaryFile *file)
{
  g_return_if_fail (file != NULL);

  g_atomic_rc_box_release_full (file, (GDestroyNotify) summary_file_clear);
}

GBytes *
popcheck_summary_file_read (PopcheckSummaryFile  *file,
                            guint64               offset,
                            gsize                 length,
                            GError              **error)
{
  g_autofree guint8 *buffer = NULL;
  GStatBuf info;
  gsize done = 0;

  g_return_val_if_fail (file != NULL, NULL);

  if (file->fd < 0)
    {
      g_set_error_literal (error, POPCHECK_MESSAGE_ERROR,
                           POPCHECK_MESSAGE_ERROR_INVALID_CACHE,
                           "The file of a cached summary is gone");
      return NULL;
    }

  /* The length comes from the index: nothing bounds it but the file. */
  if (fstat (file->fd, &info) != 0 || offset > (guint64) info.st_size ||
      length > (guint64) info.st_size - offset)
    {
      g_set_error_literal (error, POPCHECK_MESSAGE_ERROR,
                           POPCHECK_MESSAGE_ERROR_INVALID_CACHE,
                           "A cached summary is no longer in its file");
      return NULL;
    }

  buffer = g_malloc (MAX (length, 1));
  while (done < length)
    {
      gssize n = pread (file->fd, buffer + done, length - done,
                        (off_t) (offset + done));

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved_errno = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       "Could not read a cached summary: %s",
                       g_strerror (saved_errno));
          return NULL;
        }
      /* Someone cut the file short behind our back. */
      if (n == 0)
        {
          g_set_error_literal (error, POPCHECK_MESSAGE_ERROR,
                               POPCHECK_MESSAGE_ERROR_INVALID_CACHE,
                               "A cached summary is no longer in its file");
          return NULL;
        }
      done += n;
    }

  return g_bytes_new_take (g_steal_pointer (&buffer), length);
}

gboolean
popcheck_summary_file_is_at (PopcheckSummaryFile *file,
                             const char          *path)
{
  GStatBuf held, named;

  g_return_val_if_fail (file != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  return file->fd >= 0 &&
         fstat (file->fd, &held) == 0 &&
         g_stat (path, &named) == 0 &&
         held.st_dev == named.st_dev &&
         held.st_ino == named.st_ino;
}

/* A boxed "v" as the state file holds it, checked as anything read from
 * a file is. */
static GVariant *
boxed_from_bytes (GBytes  *boxed_bytes,
                  GError **error)
{
  g_autoptr(GVariant) boxed = NULL;

  boxed = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE_VARIANT,
                                                        boxed_bytes, FALSE));
  if (G_BYTE_ORDER == G_BIG_ENDIAN)
    {
      GVariant *swapped = g_variant_byteswap (boxed);

      g_variant_unref (boxed);
      boxed = swapped;
    }
  if (!g_variant_is_normal_form (boxed))
    {
      g_set_error_literal (error, POPCHECK_MESSAGE_ERROR,
                           POPCHECK_MESSAGE_ERROR_INVALID_CACHE,
                           "A cached summary is damaged");
      return NULL;
    }

  return g_steal_pointer (&boxed);
}

/* The summary inside it. */
static GVariant *
summary_from_boxed_bytes (GBytes  *boxed_bytes,
                          GError **error)
{
  g_autoptr(GVariant) boxed = boxed_from_bytes (boxed_bytes, error);

  return boxed != NULL ? g_variant_get_variant (boxed) : NULL;
}

PopcheckMessage *
popcheck_message_new_from_cache (GVariant             *boxed,
                                 PopcheckSummaryFile  *file,
                                 guint64               offset,
                                 GError              **error)
{
  g_autoptr(GVariant) summary = NULL;
  PopcheckMessage *self;

  g_return_val_if_fail (boxed != NULL, NULL);
  g_return_val_if_fail (g_variant_is_of_type (boxed, G_VARIANT_TYPE_VARIANT), NULL);
  g_return_val_if_fail (file != NULL, NULL);

  /* The index keeps 32 bits of length: no summary comes near. */
  if (g_variant_get_size (boxed) > G_MAXUINT32)
    {
      g_set_error_literal (error, POPCHECK_MESSAGE_ERROR,
                           POPCHECK_MESSAGE_ERROR_INVALID_CACHE,
                           "A cached summary is too large");
      return NULL;
    }

  summary = g_variant_get_variant (boxed);
  self = message_from_variant (summary, FALSE, error);
  if (self != NULL && self->h->attachment_details == NULL)
    {
      self->h->cached_file = popcheck_summary_file_ref (file);
      self->h->cached_offset = offset;
      self->cached_length = g_variant_get_size (boxed);
    }

  return self;
}

void
popcheck_message_get_listed (PopcheckMessage        *self,
                             PopcheckListedSummary  *listed,
                             const char            **strings,
                             gsize                  *length)
{
  g_return_if_fail (POPCHECK_IS_MESSAGE (self));
  g_return_if_fail (listed != NULL && strings != NULL && length != NULL);
  /* Every constructor packs them, in this order. */
  g_return_if_fail (self->packed);

  memset (listed, 0, sizeof *listed);
  listed->size = self->size;
  listed->headers_known = self->headers_known;
  listed->date = self->h->date;
  listed->attachments_incomplete = self->attachments_incomplete;
  *strings = self->uid;
  *length = self->h->message_id + strlen (self->h->message_id) + 1 - self->uid;
}

PopcheckMessage *
popcheck_message_new_listed (const PopcheckListedSummary  *listed,
                             PopcheckSummaryFile          *file,
                             guint64                       offset,
                             gsize                         length,
                             PopcheckStringArena          *arena,
                             GError                      **error)
{
  g_autoptr(PopcheckMessage) self = NULL;

  g_return_val_if_fail (listed != NULL, NULL);
  g_return_val_if_fail (file != NULL, NULL);
  g_return_val_if_fail (length <= G_MAXUINT32, NULL);

  if (listed->uid == NULL || !pop3_uid_is_valid (listed->uid))
    {
      set_invalid_uid_error (error);
      return NULL;
    }

  if (!listed->headers_known)
    {
      self = popcheck_message_new_without_headers (listed->uid, listed->size, 0);
      self->is_new = !!listed->is_new;
      self->top_refusals = listed->top_refusals;
      return g_steal_pointer (&self);
    }

  /* The file may have been edited or damaged: every field gets the same
   * treatment as text from a server, and what is clean already (all of
   * it, unless someone edited the file) is copied once, into the block. */
  {
    const char *values[] = {
      listed->uid, listed->from, listed->from_name, listed->from_address,
      listed->subject, listed->message_id,
    };
    char *cleaned[G_N_ELEMENTS (values)] = { NULL, };

    for (guint i = 1; i < G_N_ELEMENTS (values); i++)
      if (values[i] == NULL ||
          !pop3_text_is_sanitized_line (values[i], POPCHECK_MESSAGE_MAX_FIELD))
        values[i] = cleaned[i] = sanitize_line (values[i]);

    self = new_with_headers ();
    pack_strings_from (self, values, arena);
    for (guint i = 0; i < G_N_ELEMENTS (cleaned); i++)
      g_free (cleaned[i]);
  }
  self->size = listed->size;
  if (listed->date != NULL)
    self->h->date = g_date_time_ref (listed->date);
  self->attachments_incomplete = !!listed->attachments_incomplete;
  self->is_new = !!listed->is_new;

  self->h->cached_file = popcheck_summary_file_ref (file);
  self->h->cached_offset = offset;
  self->cached_length = length;

  return g_steal_pointer (&self);
}

/* What set_cached() takes from a message, to free later. */
typedef struct
{
  char   *to;
  char   *cc;
  char   *preview;
  GStrv   attachments;
  GArray *attachment_details;
} DroppedDetails;

static void
dropped_details_clear (gpointer data)
{
  DroppedDetails *dropped = data;

  g_free (dropped->to);
  g_free (dropped->cc);
  g_free (dropped->preview);
  g_strfreev (dropped->attachments);
  g_clear_pointer (&dropped->attachment_details, g_array_unref);
}

GArray *
popcheck_message_dropped_details_new (guint reserve)
{
  GArray *dropped = g_array_sized_new (FALSE, FALSE, sizeof (DroppedDetails),
                                       reserve);

  /* No memory at all for none. */
  if (reserve > 0)
    memset (dropped->data, 0, (gsize) reserve * sizeof (DroppedDetails));

  g_array_set_clear_func (dropped, dropped_details_clear);
  return dropped;
}

void
popcheck_message_set_cached (PopcheckMessage     *self,
                             PopcheckSummaryFile *file,
                             guint64              offset,
                             gsize                length,
                             GArray              *dropped)
{
  DroppedDetails details = { NULL, };

  g_return_if_fail (POPCHECK_IS_MESSAGE (self));
  g_return_if_fail (file != NULL);
  g_return_if_fail (length <= G_MAXUINT32);

  /* A message without headers has no details to leave in the file. */
  if (!self->headers_known || !self->has_uid)
    return;

  details.to = g_steal_pointer (&self->h->to);
  details.cc = g_steal_pointer (&self->h->cc);
  details.preview = g_steal_pointer (&self->h->preview);
  details.attachments = g_steal_pointer (&self->h->attachments);
  details.attachment_details = g_steal_pointer (&self->h->attachment_details);
  if (dropped != NULL)
    g_array_append_val (dropped, details);
  else
    dropped_details_clear (&details);

  popcheck_summary_file_ref (file);
  g_clear_pointer (&self->h->cached_file, popcheck_summary_file_unref);
  self->h->cached_file = file;
  self->h->cached_offset = offset;
  self->cached_length = length;
}

gboolean
popcheck_message_get_cached (PopcheckMessage      *self,
                             PopcheckSummaryFile **file,
                             guint64              *offset,
                             gsize                *length)
{
  g_return_val_if_fail (POPCHECK_IS_MESSAGE (self), FALSE);
  g_return_val_if_fail (file != NULL && offset != NULL && length != NULL, FALSE);

  if (self->h->attachment_details != NULL)
    return FALSE;

  *file = self->h->cached_file;
  *offset = self->h->cached_offset;
  *length = self->cached_length;
  return TRUE;
}

/* No type check: a save calls it for each of 100,000 messages, and the
 * check's reads took back a third of what it saves (state-bench). */
void
popcheck_message_prefetch_cached (PopcheckMessage *self)
{
  __builtin_prefetch (self->h);
}

/* No type check, as above. */
void
popcheck_message_prefetch_uid (PopcheckMessage *self)
{
  __builtin_prefetch (self->uid);
}

gboolean
popcheck_message_get_details_loaded (PopcheckMessage *self)
{
  g_return_val_if_fail (POPCHECK_IS_MESSAGE (self), FALSE);

  return self->h->attachment_details != NULL;
}

GVariant *
popcheck_message_boxed_from_cache (GBytes    *boxed_bytes,
                                   gboolean   is_new,
                                   GError   **error)
{
  g_autoptr(GVariant) boxed = NULL;
  g_autoptr(GVariant) summary = NULL;
  g_autoptr(GVariant) last = NULL;
  g_autofree GVariant **children = NULL;
  GVariant *patched;
  gsize n;

  g_return_val_if_fail (boxed_bytes != NULL, NULL);

  boxed = boxed_from_bytes (boxed_bytes, error);
  if (boxed == NULL)
    return NULL;
  summary = g_variant_get_variant (boxed);
  if (!g_variant_is_of_type (summary, G_VARIANT_TYPE (CACHE_TYPE_STRING_2)))
    {
      g_set_error (error, POPCHECK_MESSAGE_ERROR,
                   POPCHECK_MESSAGE_ERROR_INVALID_CACHE,
                   "A cached summary has the type “%s”, expected “%s”",
                   g_variant_get_type_string (summary), CACHE_TYPE_STRING_2);
      return NULL;
    }

  /* "new" is the last field, and the only one that changes once the
   * message is listed: the summary is written again as it was, bytes
   * and all, unless that changed. */
  n = g_variant_n_children (summary);
  last = g_variant_get_child_value (summary, n - 1);
  if (g_variant_get_boolean (last) == !!is_new)
    return g_steal_pointer (&boxed);

  children = g_new (GVariant *, n);
  for (gsize i = 0; i + 1 < n; i++)
    children[i] = g_variant_get_child_value (summary, i);
  children[n - 1] = g_variant_new_boolean (is_new);
  patched = g_variant_new_variant (g_variant_new_tuple (children, n));
  for (gsize i = 0; i + 1 < n; i++)
    g_variant_unref (children[i]);

  return g_variant_ref_sink (patched);
}

typedef struct
{
  PopcheckSummaryFile *file;
  guint64              offset;
  gsize                length;
} LoadDetailsData;

static void
load_details_data_free (LoadDetailsData *data)
{
  g_clear_pointer (&data->file, popcheck_summary_file_unref);
  g_free (data);
}

static void
load_details_thread (GTask        *task,
                     gpointer      source_object,
                     gpointer      task_data,
                     GCancellable *cancellable)
{
  LoadDetailsData *data = task_data;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GVariant) summary = NULL;
  PopcheckMessage *full;
  GError *error = NULL;

  if (g_task_return_error_if_cancelled (task))
    return;

  /* The file and where the summary is in it were copied when the task
   * began: the message may be pointed at a newer file meanwhile. */
  bytes = popcheck_summary_file_read (data->file, data->offset,
                                      data->length, &error);
  if (bytes != NULL)
    summary = summary_from_boxed_bytes (bytes, &error);
  if (summary == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  full = message_from_variant (summary, TRUE, &error);
  if (full == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  g_task_return_pointer (task, full, g_object_unref);
}

void
popcheck_message_load_details_async (PopcheckMessage     *self,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  LoadDetailsData *data;

  g_return_if_fail (POPCHECK_IS_MESSAGE (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, popcheck_message_load_details_async);

  if (self->h->attachment_details != NULL)
    {
      g_task_return_pointer (task, g_object_ref (self), g_object_unref);
      return;
    }

  data = g_new0 (LoadDetailsData, 1);
  data->file = popcheck_summary_file_ref (self->h->cached_file);
  data->offset = self->h->cached_offset;
  data->length = self->cached_length;
  g_task_set_task_data (task, data, (GDestroyNotify) load_details_data_free);
  g_task_run_in_thread (task, load_details_thread);
}

PopcheckMessage *
popcheck_message_load_details_finish (PopcheckMessage  *self,
                                      GAsyncResult     *result,
                                      GError          **error)
{
  PopcheckMessage *full;

  g_return_val_if_fail (POPCHECK_IS_MESSAGE (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        popcheck_message_load_details_async, NULL);

  full = g_task_propagate_pointer (G_TASK (result), error);
  if (full == NULL || full == self)
    return full;

  /* Another message's summary is no summary of this one, whatever went
   * wrong in the file. */
  if (g_strcmp0 (full->uid, self->uid) != 0)
    {
      g_set_error (error, POPCHECK_MESSAGE_ERROR,
                   POPCHECK_MESSAGE_ERROR_INVALID_CACHE,
                   "The cached summary of “%s” is that of “%s”",
                   self->uid, full->uid);
      g_object_unref (full);
      return NULL;
    }

  /* What changed since the summary was written is this message's. */
  full->msg_number = self->msg_number;
  full->is_new = self->is_new;

  return full;
}
/* GObject ---------------------------------------------------------------- */

const char *
popcheck_message_get_uid (PopcheckMessage *self)
{
  g_return_val_if_fail (POPCHECK_IS_MESSAGE (self), NULL);
  return self->uid;
}

char *
popcheck_message_ref_uid (PopcheckMessage *self)
{
  g_return_val_if_fail (POPCHECK_IS_MESSAGE (self), NULL);

  /* Packed, it is not a block of its own to share. */
  if (self->packed)
    return popcheck_uid_new (self->uid);

  return popcheck_uid_ref (self->uid);
}

gboolean
popcheck_message_get_headers_known (PopcheckMessage *self)
{
  g_return_val_if_fail (POPCHECK_IS_MESSAGE (self), FALSE);

  return self->headers_known;
}

gboolean
popcheck_message_get_has_uid (PopcheckMessage *self)
{
  g_return_val_if_fail (POPCHECK_IS_MESSAGE (self), FALSE);

  return self->has_uid;
}

guint
popcheck_message_get_top_refusals (PopcheckMessage *self)
{
  g_return_val_if_fail (POPCHECK_IS_MESSAGE (self), 0);

  return self->top_refusals;
}

void
popcheck_message_count_top_refusal (PopcheckMessage *self)
{
  g_return_if_fail (POPCHECK_IS_MESSAGE (self));

  if (!self->headers_known && self->top_refusals < G_MAXUINT)
    self->top_refusals++;
}

gboolean
popcheck_message_get_headers_pending (PopcheckMessage *self)
{
  g_return_val_if_fail (POPCHECK_IS_MESSAGE (self), FALSE);

  return !self->headers_known && self->has_uid && self->top_refusals == 0;
}

guint64
popcheck_message_get_size (PopcheckMessage *self)
{
  g_return_val_if_fail (POPCHECK_IS_MESSAGE (self), 0);
  return self->size;
}

guint
popcheck_message_get_msg_number (PopcheckMessage *self)
{
  g_return_val_if_fail (POPCHECK_IS_MESSAGE (self), 0);
  return self->msg_number;
}

void
popcheck_message_set_msg_number (PopcheckMessage *self,
                                 guint            msg_number)
{
  g_return_if_fail (POPCHECK_IS_MESSAGE (self));

  if (self->msg_number == msg_number)
    return;

  self->msg_number = msg_number;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MSG_NUMBER]);
}

const char *
popcheck_message_get_from (PopcheckMessage *self)
{
  g_return_val_if_fail (POPCHECK_IS_MESSAGE (self), NULL);
  return self->h->from;
}

const char *
popcheck_message_get_from_name (PopcheckMessage *self)
{
  g_return_val_if_fail (POPCHECK_IS_MESSAGE (self), NULL);
  return self->h->from_name;
}

const char *
popcheck_message_get_from_address (PopcheckMessage *self)
{
  g_return_val_if_fail (POPCHECK_IS_MESSAGE (self), NULL);
  return self->h->from_address;
}

const char *
popcheck_message_get_to (PopcheckMessage *self)
{
  g_return_val_if_fail (POPCHECK_IS_MESSAGE (self), NULL);
  return self->h->to;
}

const char *
popcheck_message_get_cc (PopcheckMessage *self)
{
  g_return_val_if_fail (POPCHECK_IS_MESSAGE (self), NULL);
  return self->h->cc;
}

const char *
popcheck_message_get_subject (PopcheckMessage *self)
{
  g_return_val_if_fail (POPCHECK_IS_MESSAGE (self), NULL);
  return self->h->subject;
}

GDateTime *
popcheck_message_get_date (PopcheckMessage *self)
{
  g_return_val_if_fail (POPCHECK_IS_MESSAGE (self), NULL);
  return self->h->date;
}

const char *
popcheck_message_get_message_id (PopcheckMessage *self)
{
  g_return_val_if_fail (POPCHECK_IS_MESSAGE (self), NULL);
  return self->h->message_id;
}

const char *
popcheck_message_get_preview (PopcheckMessage *self)
{
  g_return_val_if_fail (POPCHECK_IS_MESSAGE (self), NULL);
  return self->h->preview;
}

const char * const *
popcheck_message_get_attachments (PopcheckMessage *self)
{
  g_return_val_if_fail (POPCHECK_IS_MESSAGE (self), NULL);
  return (const char * const *) self->h->attachments;
}

const PopcheckAttachment *
popcheck_message_get_attachment_details (PopcheckMessage *self,
                                         guint           *n_attachments)
{
  g_return_val_if_fail (POPCHECK_IS_MESSAGE (self), NULL);
  g_return_val_if_fail (n_attachments != NULL, NULL);

  if (self->h->attachment_details == NULL)
    {
      *n_attachments = 0;
      return NULL;
    }

  *n_attachments = self->h->attachment_details->len;
  return (const PopcheckAttachment *) self->h->attachment_details->data;
}

gboolean
popcheck_message_get_attachments_incomplete (PopcheckMessage *self)
{
  g_return_val_if_fail (POPCHECK_IS_MESSAGE (self), FALSE);
  return self->attachments_incomplete;
}

gboolean
popcheck_message_get_is_new (PopcheckMessage *self)
{
  g_return_val_if_fail (POPCHECK_IS_MESSAGE (self), FALSE);
  return self->is_new;
}

void
popcheck_message_set_is_new (PopcheckMessage *self,
                             gboolean         is_new)
{
  g_return_if_fail (POPCHECK_IS_MESSAGE (self));

  is_new = !!is_new;
  if (self->is_new == is_new)
    return;

  self->is_new = is_new;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IS_NEW]);
}

static void
popcheck_message_finalize (GObject *object)
{
  PopcheckMessage *self = POPCHECK_MESSAGE (object);

  /* Packed, uid starts the block of six strings, which an arena may
   * hold. */
  if (!self->packed)
    popcheck_uid_unref (self->uid);
  else if (self->h->arena == NULL)
    g_free (self->uid);
  if (self->headers_known)
    message_headers_free (self->h, self->packed);

  G_OBJECT_CLASS (popcheck_message_parent_class)->finalize (object);
}

static void
popcheck_message_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  PopcheckMessage *self = POPCHECK_MESSAGE (object);

  switch (prop_id)
    {
    case PROP_UID:
      g_value_set_string (value, self->uid);
      break;
    case PROP_SIZE:
      g_value_set_uint64 (value, self->size);
      break;
    case PROP_MSG_NUMBER:
      g_value_set_uint (value, self->msg_number);
      break;
    case PROP_FROM:
      g_value_set_string (value, self->h->from);
      break;
    case PROP_FROM_NAME:
      g_value_set_string (value, self->h->from_name);
      break;
    case PROP_FROM_ADDRESS:
      g_value_set_string (value, self->h->from_address);
      break;
    case PROP_TO:
      g_value_set_string (value, self->h->to);
      break;
    case PROP_CC:
      g_value_set_string (value, self->h->cc);
      break;
    case PROP_SUBJECT:
      g_value_set_string (value, self->h->subject);
      break;
    case PROP_DATE:
      g_value_set_boxed (value, self->h->date);
      break;
    case PROP_MESSAGE_ID:
      g_value_set_string (value, self->h->message_id);
      break;
    case PROP_PREVIEW:
      g_value_set_string (value, self->h->preview);
      break;
    case PROP_ATTACHMENTS:
      g_value_set_boxed (value, self->h->attachments);
      break;
    case PROP_IS_NEW:
      g_value_set_boolean (value, self->is_new);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
popcheck_message_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  PopcheckMessage *self = POPCHECK_MESSAGE (object);

  switch (prop_id)
    {
    case PROP_IS_NEW:
      popcheck_message_set_is_new (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
popcheck_message_class_init (PopcheckMessageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS |
                         G_PARAM_EXPLICIT_NOTIFY;

  object_class->finalize = popcheck_message_finalize;
  object_class->get_property = popcheck_message_get_property;
  object_class->set_property = popcheck_message_set_property;

  properties[PROP_UID] =
    g_param_spec_string ("uid", NULL, NULL, NULL, ro);
  properties[PROP_SIZE] =
    g_param_spec_uint64 ("size", NULL, NULL, 0, G_MAXUINT64, 0, ro);
  properties[PROP_MSG_NUMBER] =
    g_param_spec_uint ("msg-number", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[PROP_FROM] =
    g_param_spec_string ("from", NULL, NULL, NULL, ro);
  properties[PROP_FROM_NAME] =
    g_param_spec_string ("from-name", NULL, NULL, NULL, ro);
  properties[PROP_FROM_ADDRESS] =
    g_param_spec_string ("from-address", NULL, NULL, NULL, ro);
  properties[PROP_TO] =
    g_param_spec_string ("to", NULL, NULL, NULL, ro);
  properties[PROP_CC] =
    g_param_spec_string ("cc", NULL, NULL, NULL, ro);
  properties[PROP_SUBJECT] =
    g_param_spec_string ("subject", NULL, NULL, NULL, ro);
  properties[PROP_DATE] =
    g_param_spec_boxed ("date", NULL, NULL, G_TYPE_DATE_TIME, ro);
  properties[PROP_MESSAGE_ID] =
    g_param_spec_string ("message-id", NULL, NULL, NULL, ro);
  properties[PROP_PREVIEW] =
    g_param_spec_string ("preview", NULL, NULL, NULL, ro);
  properties[PROP_ATTACHMENTS] =
    g_param_spec_boxed ("attachments", NULL, NULL, G_TYPE_STRV, ro);
  properties[PROP_IS_NEW] =
    g_param_spec_boolean ("is-new", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                          G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
popcheck_message_init (PopcheckMessage *self)
{
  /* Without headers until a constructor gives it some. */
  self->h = no_headers ();
  self->has_uid = TRUE;
}
