/* pop3-parser.h: the POP3 wire format, without I/O
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Bytes go in with pop3_parser_feed(), complete replies come out with
 * pop3_parser_pop_reply().  The caller tells the parser, in order, what
 * kind of reply each command it sent expects; that is the only state the
 * parser needs from outside, and it lets pipelined replies be matched to
 * their commands strictly in order.  Nothing here reads or writes a socket,
 * so all of it can be unit-tested and fuzzed on plain buffers.
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* RFC 2449 bounds a status line at 512 octets; real servers exceed that, so
 * we follow poplib's _MAXLINE. */
#define POP3_DEFAULT_MAX_LINE     2048
#define POP3_DEFAULT_MAX_RESPONSE (64 * 1024 * 1024)

/* A UID is 1 to 70 printable ASCII characters (RFC 1939, section 7). */
#define POP3_MAX_UID_LENGTH 70

typedef enum
{
  /* One status line: greeting, USER, PASS, STAT, LIST n, DELE, ... */
  POP3_EXPECT_SINGLE,
  /* +OK then lines up to ".", each line bounded by max_line: CAPA, LIST,
   * UIDL. */
  POP3_EXPECT_LISTING,
  /* +OK then lines up to ".", lines bounded only by max_response: RETR,
   * TOP. */
  POP3_EXPECT_MESSAGE,
  /* One status line, and "+ base64" continuations are allowed (RFC 5034). */
  POP3_EXPECT_SASL,
} Pop3Expect;

typedef enum
{
  POP3_REPLY_OK,
  POP3_REPLY_ERR,
  POP3_REPLY_CONTINUATION,
} Pop3ReplyStatus;

typedef struct
{
  guint   msg;
  guint64 octets;
} Pop3ListEntry;

typedef struct
{
  guint  msg;
  char  *uid;
} Pop3UidEntry;

/* A UIDL listing in compact storage: the entries in one array and the
 * UIDs one after another in one buffer, so that a listing of a million
 * messages costs a few allocations rather than millions. */
typedef struct _Pop3UidListing Pop3UidListing;

typedef struct _Pop3Reply Pop3Reply;

struct _Pop3Reply
{
  /*< private >*/
  gatomicrefcount ref_count;

  /*< public >*/
  Pop3ReplyStatus status;
  /* The status line as received, without its line ending; bytes that are
   * not valid UTF-8 are replaced, so this is always valid UTF-8. */
  char *line;
  /* What follows "+OK ", "-ERR " or "+ " (may be empty, never NULL). */
  char *text;
  /* RFC 2449 extended response code without brackets, upper-cased, e.g.
   * "IN-USE" or "SYS/TEMP"; NULL when there is none. */
  char *code;
  /* The multi-line payload after dot-unstuffing, each line ending in CRLF;
   * NULL for a single-line reply. */
  GBytes *body;

  /* Filled in by the client for the command that produced the reply. */
  guint         count;        /* STAT */
  guint64       size;         /* STAT, LIST n (octets) */
  guint         msg;          /* LIST n, UIDL n */
  char         *uid;          /* UIDL n */
  GArray       *listing;      /* LIST: Pop3ListEntry */
  Pop3UidListing *uids;       /* UIDL */
  GHashTable   *capabilities; /* CAPA: upper-cased name -> GStrv params */
};

GType      pop3_reply_get_type (void) G_GNUC_CONST;
Pop3Reply *pop3_reply_new      (Pop3ReplyStatus  status,
                                const char      *line);
Pop3Reply *pop3_reply_ref      (Pop3Reply       *reply);
void       pop3_reply_unref    (Pop3Reply       *reply);

void pop3_uid_entry_free (Pop3UidEntry *entry);

GType           pop3_uid_listing_get_type   (void) G_GNUC_CONST;
/* An empty listing, to add entries to. */
Pop3UidListing *pop3_uid_listing_new        (void);
void            pop3_uid_listing_add        (Pop3UidListing *listing,
                                             guint           msg,
                                             const char     *uid);
Pop3UidListing *pop3_uid_listing_ref        (Pop3UidListing *listing);
void            pop3_uid_listing_unref      (Pop3UidListing *listing);
guint           pop3_uid_listing_get_length (Pop3UidListing *listing);
/* Entries are in the order of the server's listing. */
guint           pop3_uid_listing_get_msg    (Pop3UidListing *listing,
                                             guint           index);
/* Valid as long as the listing is. */
const char     *pop3_uid_listing_get_uid    (Pop3UidListing *listing,
                                             guint           index);
/* TRUE when each entry's number is higher than the one before it, as
 * every server lists them; known as the entries come, so FALSE for a
 * listing that rises only once the sound parse dropped its repeats. */
gboolean        pop3_uid_listing_rises      (Pop3UidListing *listing);

/* Finds what LIST said of a message (its last line for it) in a
 * listing of any order.  A listing numbered 1 to n, as servers send
 * it, is read by position; another one in order is searched; only one
 * out of order gets an index (4 bytes a line). */
typedef struct _Pop3ListIndex Pop3ListIndex;

/* listing: Pop3ListEntry.  The index holds a reference to it, or, for a
 * listing numbered 1 to n whose sizes fit in 32 bits, a copy of the
 * sizes alone. */
Pop3ListIndex       *pop3_list_index_new        (GArray        *listing);
void                 pop3_list_index_free       (Pop3ListIndex *index);
/* FALSE when the listing does not list msg, or index is NULL (no
 * listing); else *octets (may be NULL) is what its last line for msg
 * says. */
gboolean             pop3_list_index_lookup     (Pop3ListIndex *index,
                                                 guint          msg,
                                                 guint64       *octets);
/* TRUE when its lines are for messages 1 to n, in that order. */
gboolean             pop3_list_index_in_place   (Pop3ListIndex *index);
/* The listing's lines, in its order. */
guint                pop3_list_index_get_length (Pop3ListIndex *index);
Pop3ListEntry        pop3_list_index_get_line   (Pop3ListIndex *index,
                                                 guint          line);

typedef struct _Pop3Parser Pop3Parser;

Pop3Parser *pop3_parser_new          (gsize         max_line,
                                      gsize         max_response);
void        pop3_parser_free         (Pop3Parser   *parser);
void        pop3_parser_push_expect  (Pop3Parser   *parser,
                                      Pop3Expect    expect);
guint       pop3_parser_get_n_expected (Pop3Parser *parser);
gboolean    pop3_parser_feed         (Pop3Parser   *parser,
                                      const guint8 *data,
                                      gsize         len,
                                      GError      **error);
Pop3Reply  *pop3_parser_pop_reply    (Pop3Parser   *parser);
gsize       pop3_parser_get_buffered (Pop3Parser   *parser);
gboolean    pop3_parser_finish       (Pop3Parser   *parser,
                                      GError      **error);

/* Payload parsers: pure functions over what a reply carried. */
gboolean    pop3_parse_stat          (const char   *text,
                                      guint        *count,
                                      guint64      *size,
                                      GError      **error);
gboolean    pop3_parse_scan_listing  (const char   *line,
                                      guint        *msg,
                                      guint64      *octets,
                                      GError      **error);
gboolean    pop3_parse_uid_listing   (const char   *line,
                                      guint        *msg,
                                      char        **uid,
                                      GError      **error);
GArray     *pop3_parse_list_body     (GBytes       *body,
                                      GError      **error);
Pop3UidListing *pop3_parse_uidl_body (GBytes       *body,
                                      GError      **error);
/* Like pop3_parse_uidl_body(), but keeps the sound lines of a listing
 * that has broken ones: a malformed line, and every line of a message
 * number or a UID that is listed more than once, is left out and counted
 * in @n_rejected.  Fails only for a body that cannot be split into lines. */
Pop3UidListing *pop3_parse_uidl_body_sound (GBytes  *body,
                                            guint   *n_rejected,
                                            GError **error);
GHashTable *pop3_parse_capa_body     (GBytes       *body,
                                      GError      **error);
char       *pop3_parse_apop_timestamp (const char  *greeting);
char       *pop3_parse_response_code (const char   *text);
gboolean    pop3_uid_is_valid        (const char   *uid);
gboolean    pop3_parse_number        (const char   *str,
                                      gsize         len,
                                      guint64       max,
                                      guint64      *out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Pop3Reply, pop3_reply_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Pop3Parser, pop3_parser_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Pop3UidListing, pop3_uid_listing_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Pop3ListIndex, pop3_list_index_free)

G_END_DECLS
