/* fuzz-parser.c: libFuzzer harness for the POP3 reply parser
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Input layout:
 *   byte 0          number of expected replies, 1 + (b % 8)
 *   next N bytes    the kind of each (Pop3Expect, b % 4)
 *   next byte       limits: 0 for the defaults, else small ones so the
 *                   bounds are reached by short inputs
 *   next byte       seed for the chunk sizes
 *   the rest        what the server sends
 *
 * The wire bytes are parsed twice, in one buffer and in pseudo-random
 * chunks, and both runs must agree; every reply is also run through the
 * payload parsers the client would apply to it.
 */

#define G_LOG_DOMAIN "fuzz-parser"

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "pop3-error.h"
#include "pop3-parser.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

#define check(condition) do { if (!(condition)) abort (); } while (0)

typedef struct
{
  GPtrArray *replies;
  GError    *error;
} Run;

static void
run_clear (Run *run)
{
  g_ptr_array_unref (run->replies);
  g_clear_error (&run->error);
}

/* Every UID is one the rest of the application may use, and no message
 * number or UID is there twice. */
static void
check_uid_listing (Pop3UidListing *listing)
{
  g_autoptr(GHashTable) msgs = g_hash_table_new (NULL, NULL);
  g_autoptr(GHashTable) uids = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; listing != NULL && i < pop3_uid_listing_get_length (listing);
       i++)
    {
      const char *uid = pop3_uid_listing_get_uid (listing, i);
      guint msg = pop3_uid_listing_get_msg (listing, i);

      check (msg >= 1 && pop3_uid_is_valid (uid));
      check (g_hash_table_add (msgs, GUINT_TO_POINTER (msg)));
      check (g_hash_table_add (uids, (gpointer) uid));
    }
}

/* What the client does with a reply, checked against the invariants the
 * rest of the application relies on. */
static void
exercise_reply (Pop3Reply  *reply,
                Pop3Expect  expect)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *code = NULL;
  g_autofree char *timestamp = NULL;
  g_autofree char *uid = NULL;
  guint count;
  guint64 size;

  check (reply->line != NULL && g_utf8_validate (reply->line, -1, NULL));
  check (reply->text != NULL && g_utf8_validate (reply->text, -1, NULL));
  check (reply->status != POP3_REPLY_CONTINUATION ||
         expect == POP3_EXPECT_SASL);

  /* A body exactly for +OK to a multi-line command. */
  check ((reply->body != NULL) ==
         (reply->status == POP3_REPLY_OK &&
          (expect == POP3_EXPECT_LISTING || expect == POP3_EXPECT_MESSAGE)));

  code = pop3_parse_response_code (reply->text);
  check (g_strcmp0 (code, reply->code) == 0);

  timestamp = pop3_parse_apop_timestamp (reply->line);
  if (timestamp != NULL)
    check (timestamp[0] == '<' && strchr (timestamp, '@') != NULL);

  if (pop3_parse_stat (reply->text, &count, &size, &error))
    check (error == NULL);
  else
    check (error != NULL);
  g_clear_error (&error);

  if (pop3_parse_uid_listing (reply->text, &count, &uid, NULL))
    check (count >= 1 && pop3_uid_is_valid (uid));

  if (reply->body != NULL)
    {
      g_autoptr(GArray) listing = pop3_parse_list_body (reply->body, NULL);
      g_autoptr(Pop3UidListing) uids = pop3_parse_uidl_body (reply->body,
                                                             NULL);
      g_autoptr(Pop3UidListing) sound =
        pop3_parse_uidl_body_sound (reply->body, NULL, NULL);
      g_autoptr(GHashTable) capabilities =
        pop3_parse_capa_body (reply->body, NULL);
      gsize body_size;
      const guint8 *body = g_bytes_get_data (reply->body, &body_size);

      /* Every stored line ends in CRLF. */
      check (body_size == 0 ||
             (body_size >= 2 && body[body_size - 2] == '\r' &&
              body[body_size - 1] == '\n'));

      for (guint i = 0; listing != NULL && i < listing->len; i++)
        check (g_array_index (listing, Pop3ListEntry, i).msg >= 1);

      check_uid_listing (uids);
      check_uid_listing (sound);
      /* The lenient parser keeps a sound listing whole. */
      check (uids == NULL || (sound != NULL &&
                              pop3_uid_listing_get_length (sound) ==
                              pop3_uid_listing_get_length (uids)));

      if (capabilities != NULL)
        {
          GHashTableIter iter;
          gpointer key;

          g_hash_table_iter_init (&iter, capabilities);
          while (g_hash_table_iter_next (&iter, &key, NULL))
            {
              g_autofree char *upper = g_ascii_strup (key, -1);

              check (strcmp (upper, key) == 0);
            }
        }
    }
}

static void
run_parser (const Pop3Expect *expects,
            guint             n_expects,
            gsize             max_line,
            gsize             max_response,
            const guint8     *wire,
            gsize             len,
            guint32           seed,
            Run              *run)
{
  g_autoptr(Pop3Parser) parser = pop3_parser_new (max_line, max_response);
  gsize offset = 0;
  Pop3Reply *reply;

  run->replies =
    g_ptr_array_new_with_free_func ((GDestroyNotify) pop3_reply_unref);
  run->error = NULL;

  for (guint i = 0; i < n_expects; i++)
    pop3_parser_push_expect (parser, expects[i]);

  while (offset < len)
    {
      gsize n = len - offset;

      /* seed 0: one buffer; otherwise xorshift chunk sizes of 1 to 16. */
      if (seed != 0)
        {
          seed ^= seed << 13;
          seed ^= seed >> 17;
          seed ^= seed << 5;
          n = MIN (n, 1 + seed % 16);
        }

      if (!pop3_parser_feed (parser, wire + offset, n, &run->error))
        {
          check (run->error != NULL && run->error->domain == POP3_ERROR);
          /* A dead parser stays dead. */
          check (!pop3_parser_feed (parser, (const guint8 *) "+OK\r\n", 5,
                                    NULL));
          break;
        }
      offset += n;

      check (pop3_parser_get_buffered (parser) <= offset);
    }

  while ((reply = pop3_parser_pop_reply (parser)) != NULL)
    {
      exercise_reply (reply, expects[run->replies->len]);
      g_ptr_array_add (run->replies, reply);
    }

  check (run->replies->len + pop3_parser_get_n_expected (parser) == n_expects ||
         run->error != NULL);

  if (run->error == NULL && !pop3_parser_finish (parser, &run->error))
    check (run->error != NULL);
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  Pop3Expect expects[8];
  guint n_expects;
  gsize max_line = POP3_DEFAULT_MAX_LINE;
  gsize max_response = POP3_DEFAULT_MAX_RESPONSE;
  guint32 seed;
  gsize header;
  Run whole;
  Run split;

  if (size < 1)
    return 0;
  n_expects = 1 + data[0] % 8;
  header = 1 + n_expects + 2;
  if (size < header)
    return 0;

  for (guint i = 0; i < n_expects; i++)
    expects[i] = data[1 + i] % 4;

  if (data[1 + n_expects] != 0)
    {
      max_line = 1 + data[1 + n_expects] * 4;
      max_response = 1 + data[1 + n_expects] * 32;
    }
  seed = data[2 + n_expects] | 0x100;

  run_parser (expects, n_expects, max_line, max_response,
              data + header, size - header, 0, &whole);
  run_parser (expects, n_expects, max_line, max_response,
              data + header, size - header, seed, &split);

  /* The server's segmentation must not change what we read. */
  check (whole.replies->len == split.replies->len);
  for (guint i = 0; i < whole.replies->len; i++)
    {
      Pop3Reply *a = whole.replies->pdata[i];
      Pop3Reply *b = split.replies->pdata[i];

      check (a->status == b->status);
      check (strcmp (a->line, b->line) == 0);
      check ((a->body == NULL) == (b->body == NULL));
      check (a->body == NULL || g_bytes_equal (a->body, b->body));
    }
  check ((whole.error == NULL) == (split.error == NULL));
  check (whole.error == NULL || whole.error->code == split.error->code);

  run_clear (&whole);
  run_clear (&split);

  return 0;
}
