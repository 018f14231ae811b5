/* test-parser.c: the sans-IO POP3 parser and the payload parsers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every framing case is run three ways (one buffer, byte by byte, random
 * chunks), and the three must agree: a server's TCP segmentation is its
 * own choice and must never change what we read.
 */

#define G_LOG_DOMAIN "test-parser"

#include "config.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pop3-error.h"
#include "pop3-parser.h"
#include "pop3-text.h"
#include "popcheck-test-util.h"

#define S(literal) literal, sizeof (literal) - 1

typedef struct
{
  GPtrArray *replies;
  GError    *error;
} ParseResult;

static void
parse_result_free (ParseResult *result)
{
  g_ptr_array_unref (result->replies);
  g_clear_error (&result->error);
  g_free (result);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ParseResult, parse_result_free)

/* chunk: 0 for one buffer, G_MAXSIZE for random chunk sizes.  At the end
 * the stream is finished, as at EOF. */
static ParseResult *
run_parser (const Pop3Expect *expects,
            guint             n_expects,
            const char       *data,
            gsize             len,
            gsize             chunk,
            gsize             max_line,
            gsize             max_response)
{
  g_autoptr(Pop3Parser) parser = pop3_parser_new (max_line, max_response);
  ParseResult *result = g_new0 (ParseResult, 1);
  gsize offset = 0;
  Pop3Reply *reply;

  result->replies =
    g_ptr_array_new_with_free_func ((GDestroyNotify) pop3_reply_unref);

  for (guint i = 0; i < n_expects; i++)
    pop3_parser_push_expect (parser, expects[i]);

  while (offset < len && result->error == NULL)
    {
      gsize n;

      if (chunk == 0)
        n = len;
      else if (chunk == G_MAXSIZE)
        n = g_test_rand_int_range (1, 64);
      else
        n = chunk;
      n = MIN (n, len - offset);

      pop3_parser_feed (parser, (const guint8 *) data + offset, n,
                        &result->error);
      offset += n;

      while ((reply = pop3_parser_pop_reply (parser)) != NULL)
        g_ptr_array_add (result->replies, reply);
    }

  if (result->error == NULL)
    pop3_parser_finish (parser, &result->error);

  return result;
}

/* Feeds a text without NUL bytes. */
static gboolean
feed_text (Pop3Parser  *parser,
           const char  *text,
           GError     **error)
{
  return pop3_parser_feed (parser, (const guint8 *) text, strlen (text),
                           error);
}

static void
assert_replies_equal (Pop3Reply *a,
                      Pop3Reply *b)
{
  g_assert_cmpint (a->status, ==, b->status);
  g_assert_cmpstr (a->line, ==, b->line);
  g_assert_cmpstr (a->text, ==, b->text);
  g_assert_cmpstr (a->code, ==, b->code);
  g_assert_true ((a->body == NULL) == (b->body == NULL));
  if (a->body != NULL)
    g_assert_true (g_bytes_equal (a->body, b->body));
}

/* Parses in one buffer, byte by byte and in random chunks, checks that all
 * agree (same replies, same error code) and returns the first. */
static ParseResult *
parse_all_ways_limited (const Pop3Expect *expects,
                        guint             n_expects,
                        const char       *data,
                        gsize             len,
                        gsize             max_line,
                        gsize             max_response)
{
  const gsize chunks[] = { 1, G_MAXSIZE, G_MAXSIZE, 7 };
  ParseResult *whole = run_parser (expects, n_expects, data, len, 0,
                                   max_line, max_response);

  for (guint c = 0; c < G_N_ELEMENTS (chunks); c++)
    {
      g_autoptr(ParseResult) split = run_parser (expects, n_expects, data, len,
                                                 chunks[c], max_line,
                                                 max_response);

      g_assert_cmpuint (split->replies->len, ==, whole->replies->len);
      for (guint i = 0; i < whole->replies->len; i++)
        assert_replies_equal (whole->replies->pdata[i],
                              split->replies->pdata[i]);

      g_assert_true ((split->error == NULL) == (whole->error == NULL));
      if (whole->error != NULL)
        g_assert_error (split->error, whole->error->domain, whole->error->code);
    }

  return whole;
}

static ParseResult *
parse_all_ways (const Pop3Expect *expects,
                guint             n_expects,
                const char       *data,
                gsize             len)
{
  return parse_all_ways_limited (expects, n_expects, data, len,
                                 POP3_DEFAULT_MAX_LINE,
                                 POP3_DEFAULT_MAX_RESPONSE);
}

/* One multi-line reply; returns its body after checking the framing. */
static GBytes *
parse_body (Pop3Expect  expect,
            const char *data,
            gsize       len)
{
  g_autoptr(ParseResult) result = parse_all_ways (&expect, 1, data, len);
  Pop3Reply *reply;

  g_assert_no_error (result->error);
  g_assert_cmpuint (result->replies->len, ==, 1);
  reply = result->replies->pdata[0];
  g_assert_cmpint (reply->status, ==, POP3_REPLY_OK);
  g_assert_nonnull (reply->body);

  return g_bytes_ref (reply->body);
}

static void
assert_body (GBytes     *body,
             const char *expected,
             gsize       expected_len)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (body, &size);

  g_assert_cmpmem (data, size, expected, expected_len);
}

static void
assert_parse_error (Pop3Expect  expect,
                    const char *data,
                    gsize       len,
                    gint        code)
{
  g_autoptr(ParseResult) result = parse_all_ways (&expect, 1, data, len);

  g_assert_error (result->error, POP3_ERROR, code);
  g_assert_nonnull (result->error->message);
  g_assert_cmpstr (result->error->message, !=, "");
}

/* Status lines */

static void
test_status_lines (void)
{
  const Pop3Expect single = POP3_EXPECT_SINGLE;
  struct {
    const char *wire;
    Pop3ReplyStatus status;
    const char *line;
    const char *text;
  } cases[] = {
    { "+OK\r\n", POP3_REPLY_OK, "+OK", "" },
    { "+OK hello there\r\n", POP3_REPLY_OK, "+OK hello there", "hello there" },
    { "+ok lower case\r\n", POP3_REPLY_OK, "+ok lower case", "lower case" },
    { "+Ok\n", POP3_REPLY_OK, "+Ok", "" },
    { "-ERR\r\n", POP3_REPLY_ERR, "-ERR", "" },
    { "-err no such message\r\n", POP3_REPLY_ERR, "-err no such message",
      "no such message" },
    { "+OK  two spaces\r\n", POP3_REPLY_OK, "+OK  two spaces", " two spaces" },
    { "+OK \r\n", POP3_REPLY_OK, "+OK ", "" },
    /* Only the CR right before the LF belongs to the line ending. */
    { "+OK a\rb\r\r\n", POP3_REPLY_OK, "+OK a\rb\r", "a\rb\r" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(ParseResult) result =
        parse_all_ways (&single, 1, cases[i].wire, strlen (cases[i].wire));
      Pop3Reply *reply;

      g_assert_no_error (result->error);
      g_assert_cmpuint (result->replies->len, ==, 1);
      reply = result->replies->pdata[0];
      g_assert_cmpint (reply->status, ==, cases[i].status);
      g_assert_cmpstr (reply->line, ==, cases[i].line);
      g_assert_cmpstr (reply->text, ==, cases[i].text);
      g_assert_null (reply->code);
      g_assert_null (reply->body);
    }
}

static void
test_status_invalid (void)
{
  const char *cases[] = {
    "OK\r\n",
    "+OKAY\r\n",
    "-ERROR\r\n",
    "+OK\tx\r\n",
    "\r\n",
    " +OK\r\n",
    "+ continuation\r\n",
    "+\r\n",
    "* OK imap\r\n",
    "220 smtp.example.com ESMTP\r\n",
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    assert_parse_error (POP3_EXPECT_SINGLE, cases[i], strlen (cases[i]),
                        POP3_ERROR_PROTOCOL);
}

static void
test_status_made_valid (void)
{
  const Pop3Expect single = POP3_EXPECT_SINGLE;
  g_autoptr(ParseResult) result =
    parse_all_ways (&single, 1, S ("+OK caf\xe9 \0nul \xc3\xa9t\xc3\xa9\r\n"));
  Pop3Reply *reply;

  g_assert_no_error (result->error);
  reply = result->replies->pdata[0];
  g_assert_true (g_utf8_validate (reply->line, -1, NULL));
  g_assert_cmpstr (reply->line, ==,
                   "+OK caf\xef\xbf\xbd \xef\xbf\xbdnul \xc3\xa9t\xc3\xa9");
  g_assert_cmpstr (reply->text, ==,
                   "caf\xef\xbf\xbd \xef\xbf\xbdnul \xc3\xa9t\xc3\xa9");
}

static void
test_reply_new (void)
{
  g_autoptr(Pop3Reply) reply =
    pop3_reply_new (POP3_REPLY_ERR, "-ERR [in-use] mailbox locked");
  Pop3Reply *ref;

  g_assert_cmpint (reply->status, ==, POP3_REPLY_ERR);
  g_assert_cmpstr (reply->text, ==, "[in-use] mailbox locked");
  g_assert_cmpstr (reply->code, ==, "IN-USE");

  ref = pop3_reply_ref (reply);
  g_assert_true (ref == reply);
  pop3_reply_unref (ref);
  g_assert_cmpstr (reply->line, ==, "-ERR [in-use] mailbox locked");

  g_assert_true (G_TYPE_IS_BOXED (pop3_reply_get_type ()));
}

/* Response codes */

static void
test_response_codes (void)
{
  struct {
    const char *text;
    const char *code;
  } cases[] = {
    { "[IN-USE] Do you have another POP session running?", "IN-USE" },
    { "[in-use] locked", "IN-USE" },
    { "[LOGIN-DELAY] wait", "LOGIN-DELAY" },
    { "[Login-Delay] wait", "LOGIN-DELAY" },
    { "[SYS/TEMP] x", "SYS/TEMP" },
    { "[sys/temp]", "SYS/TEMP" },
    { "[SYS/PERM] disk on fire", "SYS/PERM" },
    { "[AUTH] bad password", "AUTH" },
    { "[auth] bad password", "AUTH" },
    { "[UTF8] needed", "UTF8" },
    { "[]", NULL },
    { "[] empty", NULL },
    { "[IN USE] spaces", NULL },
    { "[IN-USE unterminated", NULL },
    { "[[IN-USE]] nested", NULL },
    { " [IN-USE] leading space", NULL },
    { "no code [IN-USE]", NULL },
    { "[IN-\x1b[31mUSE] escape", NULL },
    { "[IN-\xc3\xa9] eight bit", NULL },
    { "", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *code = pop3_parse_response_code (cases[i].text);

      g_assert_cmpstr (code, ==, cases[i].code);
    }
}

static void
test_response_codes_in_replies (void)
{
  const Pop3Expect expects[] = {
    POP3_EXPECT_SINGLE, POP3_EXPECT_SINGLE, POP3_EXPECT_LISTING,
    POP3_EXPECT_SASL,
  };
  g_autoptr(ParseResult) result =
    parse_all_ways (expects, G_N_ELEMENTS (expects),
                    S ("-ERR [IN-USE] locked\r\n"
                       "+OK [sys/temp] odd but allowed\r\n"
                       "-err [login-delay] later\r\n"
                       "-ERR [AUTH] wrong\r\n"));
  Pop3Reply *reply;

  g_assert_no_error (result->error);
  g_assert_cmpuint (result->replies->len, ==, 4);
  reply = result->replies->pdata[0];
  g_assert_cmpstr (reply->code, ==, "IN-USE");
  g_assert_cmpstr (reply->text, ==, "[IN-USE] locked");
  reply = result->replies->pdata[1];
  g_assert_cmpstr (reply->code, ==, "SYS/TEMP");
  reply = result->replies->pdata[2];
  g_assert_cmpint (reply->status, ==, POP3_REPLY_ERR);
  g_assert_cmpstr (reply->code, ==, "LOGIN-DELAY");
  g_assert_null (reply->body);
  reply = result->replies->pdata[3];
  g_assert_cmpstr (reply->code, ==, "AUTH");
}

/* SASL continuations (RFC 5034) */

static void
test_sasl_continuations (void)
{
  const Pop3Expect expects[] = {
    POP3_EXPECT_SASL, POP3_EXPECT_SASL, POP3_EXPECT_SASL, POP3_EXPECT_SASL,
  };
  g_autoptr(ParseResult) result =
    parse_all_ways (expects, G_N_ELEMENTS (expects),
                    S ("+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5u"
                       "ZXQ+\r\n"
                       "+\r\n"
                       "+OK logged in\r\n"
                       "-ERR [AUTH] no\r\n"));
  Pop3Reply *reply;

  g_assert_no_error (result->error);
  g_assert_cmpuint (result->replies->len, ==, 4);
  reply = result->replies->pdata[0];
  g_assert_cmpint (reply->status, ==, POP3_REPLY_CONTINUATION);
  g_assert_cmpstr (reply->text, ==,
                   "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+");
  reply = result->replies->pdata[1];
  g_assert_cmpint (reply->status, ==, POP3_REPLY_CONTINUATION);
  g_assert_cmpstr (reply->text, ==, "");
  reply = result->replies->pdata[2];
  g_assert_cmpint (reply->status, ==, POP3_REPLY_OK);
  reply = result->replies->pdata[3];
  g_assert_cmpint (reply->status, ==, POP3_REPLY_ERR);
  g_assert_cmpstr (reply->code, ==, "AUTH");

  {
    const struct {
      Pop3Expect expect;
      const char *wire;
    } bad[] = {
      { POP3_EXPECT_SASL, "+abc\r\n" },
      { POP3_EXPECT_SASL, "garbage\r\n" },
      { POP3_EXPECT_SINGLE, "+ abc\r\n" },
      { POP3_EXPECT_LISTING, "+ abc\r\n" },
      { POP3_EXPECT_MESSAGE, "+\r\n" },
    };

    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      assert_parse_error (bad[i].expect, bad[i].wire, strlen (bad[i].wire),
                          POP3_ERROR_PROTOCOL);
  }
}

/* Framing */

static void
test_empty_multiline (void)
{
  g_autoptr(GBytes) listing =
    parse_body (POP3_EXPECT_LISTING, S ("+OK\r\n.\r\n"));
  g_autoptr(GBytes) message =
    parse_body (POP3_EXPECT_MESSAGE, S ("+OK 0 octets\n.\n"));

  g_assert_cmpuint (g_bytes_get_size (listing), ==, 0);
  g_assert_cmpuint (g_bytes_get_size (message), ==, 0);
}

static void
test_dot_unstuffing (void)
{
  g_autoptr(GBytes) body =
    parse_body (POP3_EXPECT_MESSAGE,
                S ("+OK message follows\r\n"
                   "..x\r\n"
                   "...\r\n"
                   ".foo\r\n"
                   "..\r\n"
                   "\r.\r\n"
                   ". \r\n"
                   "x.\r\n"
                   "\r\n"
                   ".\r\n"));

  assert_body (body, S (".x\r\n"
                        "..\r\n"
                        "foo\r\n"
                        ".\r\n"
                        "\r.\r\n"
                        " \r\n"
                        "x.\r\n"
                        "\r\n"));
}

static void
test_line_endings (void)
{
  /* LF alone ends a line; a lone CR does not; every stored line ends in
   * CRLF whatever the server used. */
  g_autoptr(GBytes) body =
    parse_body (POP3_EXPECT_MESSAGE,
                S ("+OK\n"
                   "unix\n"
                   "dos\r\n"
                   "mac\rstill the same line\r\n"
                   "two crs\r\r\n"
                   ".\n"));

  assert_body (body, S ("unix\r\n"
                        "dos\r\n"
                        "mac\rstill the same line\r\n"
                        "two crs\r\r\n"));
}

static void
test_binary_body (void)
{
  g_autoptr(GBytes) body =
    parse_body (POP3_EXPECT_MESSAGE,
                S ("+OK\r\n"
                   "nul\0inside\r\n"
                   "\0\r\n"
                   "8-bit \xff\xfe\x80 caf\xe9\r\n"
                   "\x1b[31mescape\r\n"
                   ".\r\n"));

  assert_body (body, S ("nul\0inside\r\n"
                        "\0\r\n"
                        "8-bit \xff\xfe\x80 caf\xe9\r\n"
                        "\x1b[31mescape\r\n"));
}

static void
test_err_is_single_line (void)
{
  const Pop3Expect expects[] = {
    POP3_EXPECT_MESSAGE, POP3_EXPECT_LISTING, POP3_EXPECT_SINGLE,
  };
  g_autoptr(ParseResult) result =
    parse_all_ways (expects, G_N_ELEMENTS (expects),
                    S ("-ERR no such message\r\n"
                       "-ERR no listing\r\n"
                       "+OK done\r\n"));
  Pop3Reply *reply;

  g_assert_no_error (result->error);
  g_assert_cmpuint (result->replies->len, ==, 3);
  for (guint i = 0; i < 2; i++)
    {
      reply = result->replies->pdata[i];
      g_assert_cmpint (reply->status, ==, POP3_REPLY_ERR);
      g_assert_null (reply->body);
    }
  reply = result->replies->pdata[2];
  g_assert_cmpstr (reply->text, ==, "done");
}

static void
test_eof_in_reply (void)
{
  const struct {
    Pop3Expect expect;
    const char *wire;
  } cases[] = {
    /* EOF before the terminating dot. */
    { POP3_EXPECT_MESSAGE, "+OK\r\nline\r\n" },
    /* No line break before the final dot: the dot is part of a line. */
    { POP3_EXPECT_MESSAGE, "+OK\r\nlast line." },
    { POP3_EXPECT_MESSAGE, "+OK\r\nlast line.\r\n" },
    /* The dot without its line ending. */
    { POP3_EXPECT_LISTING, "+OK\r\n1 2\r\n." },
    { POP3_EXPECT_LISTING, "+OK\r\n1 2\r\n.\r" },
    /* A status line cut short. */
    { POP3_EXPECT_SINGLE, "+OK hel" },
    { POP3_EXPECT_SINGLE, "+OK\r" },
    /* Nothing at all. */
    { POP3_EXPECT_SINGLE, "" },
    { POP3_EXPECT_MESSAGE, "+OK\r\n" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(ParseResult) result =
        parse_all_ways (&cases[i].expect, 1, cases[i].wire,
                        strlen (cases[i].wire));

      g_assert_error (result->error, POP3_ERROR, POP3_ERROR_CLOSED);
      g_assert_cmpuint (result->replies->len, ==, 0);
    }
}

static void
test_finish (void)
{
  g_autoptr(Pop3Parser) parser = pop3_parser_new (POP3_DEFAULT_MAX_LINE,
                                                  POP3_DEFAULT_MAX_RESPONSE);
  g_autoptr(Pop3Parser) pending = pop3_parser_new (POP3_DEFAULT_MAX_LINE,
                                                   POP3_DEFAULT_MAX_RESPONSE);
  g_autoptr(Pop3Reply) reply = NULL;
  g_autoptr(GError) error = NULL;

  /* A clean end: every expected reply arrived. */
  pop3_parser_push_expect (parser, POP3_EXPECT_SINGLE);
  g_assert_true (feed_text (parser, "+OK bye\r\n", &error));
  g_assert_no_error (error);
  g_assert_true (pop3_parser_finish (parser, &error));
  g_assert_no_error (error);
  reply = pop3_parser_pop_reply (parser);
  g_assert_nonnull (reply);
  g_assert_cmpstr (reply->text, ==, "bye");

  /* Nothing may come after the end of the stream. */
  g_assert_false (feed_text (parser, "+OK\r\n", &error));
  g_assert_error (error, POP3_ERROR, POP3_ERROR_CLOSED);
  g_clear_error (&error);

  /* A command still waiting for its reply. */
  pop3_parser_push_expect (pending, POP3_EXPECT_SINGLE);
  pop3_parser_push_expect (pending, POP3_EXPECT_SINGLE);
  g_assert_true (feed_text (pending, "+OK one\r\n", &error));
  g_assert_cmpuint (pop3_parser_get_n_expected (pending), ==, 1);
  g_assert_false (pop3_parser_finish (pending, &error));
  g_assert_error (error, POP3_ERROR, POP3_ERROR_CLOSED);
  g_clear_error (&error);

  /* The reply that did arrive can still be taken. */
  g_clear_pointer (&reply, pop3_reply_unref);
  reply = pop3_parser_pop_reply (pending);
  g_assert_nonnull (reply);
  g_assert_cmpstr (reply->text, ==, "one");
  g_assert_null (pop3_parser_pop_reply (pending));
}

static void
test_buffered_and_expected (void)
{
  g_autoptr(Pop3Parser) parser = pop3_parser_new (POP3_DEFAULT_MAX_LINE,
                                                  POP3_DEFAULT_MAX_RESPONSE);
  g_autoptr(GError) error = NULL;
  g_autoptr(Pop3Reply) first = NULL;
  g_autoptr(Pop3Reply) second = NULL;

  g_assert_cmpuint (pop3_parser_get_n_expected (parser), ==, 0);
  g_assert_cmpuint (pop3_parser_get_buffered (parser), ==, 0);
  /* An empty feed with nothing expected is not data. */
  g_assert_true (pop3_parser_feed (parser, NULL, 0, &error));
  g_assert_no_error (error);

  pop3_parser_push_expect (parser, POP3_EXPECT_SINGLE);
  pop3_parser_push_expect (parser, POP3_EXPECT_LISTING);
  g_assert_cmpuint (pop3_parser_get_n_expected (parser), ==, 2);

  g_assert_true (feed_text (parser, "+OK\r\n+OK\r\n1 2", &error));
  g_assert_no_error (error);
  /* The listing has started: its status line and partial line are held
   * and belong to no complete reply. */
  g_assert_cmpuint (pop3_parser_get_n_expected (parser), ==, 1);
  g_assert_cmpuint (pop3_parser_get_buffered (parser), ==, 8);

  first = pop3_parser_pop_reply (parser);
  g_assert_nonnull (first);
  g_assert_null (pop3_parser_pop_reply (parser));

  g_assert_true (feed_text (parser, "\r\n.\r\n", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (pop3_parser_get_n_expected (parser), ==, 0);
  g_assert_cmpuint (pop3_parser_get_buffered (parser), ==, 0);
  second = pop3_parser_pop_reply (parser);
  g_assert_nonnull (second);
  assert_body (second->body, S ("1 2\r\n"));
}

/* Data nobody asked for */

static void
test_unsolicited (void)
{
  g_autoptr(Pop3Parser) parser = pop3_parser_new (POP3_DEFAULT_MAX_LINE,
                                                  POP3_DEFAULT_MAX_RESPONSE);
  g_autoptr(Pop3Parser) idle = pop3_parser_new (POP3_DEFAULT_MAX_LINE,
                                                POP3_DEFAULT_MAX_RESPONSE);
  g_autoptr(GError) error = NULL;
  g_autoptr(Pop3Reply) reply = NULL;

  /* Before any command. */
  g_assert_false (feed_text (idle, "+OK\r\n", &error));
  g_assert_error (error, POP3_ERROR, POP3_ERROR_PROTOCOL);
  g_clear_error (&error);
  g_assert_null (pop3_parser_pop_reply (idle));

  /* STLS response injection: a fake post-TLS CAPA reply in the packet that
   * carries "+OK Begin TLS". */
  pop3_parser_push_expect (parser, POP3_EXPECT_SINGLE);
  g_assert_false (feed_text (parser,
                             "+OK Begin TLS\r\n"
                             "+OK\r\nPLAIN\r\n.\r\n",
                             &error));
  g_assert_error (error, POP3_ERROR, POP3_ERROR_PROTOCOL);
  g_clear_error (&error);

  /* The genuine reply before the injection is still there... */
  reply = pop3_parser_pop_reply (parser);
  g_assert_nonnull (reply);
  g_assert_cmpstr (reply->text, ==, "Begin TLS");
  g_assert_null (pop3_parser_pop_reply (parser));

  /* ...but the parser is dead: a later command cannot take the injected
   * bytes, or anything else, as its reply. */
  pop3_parser_push_expect (parser, POP3_EXPECT_LISTING);
  g_assert_false (feed_text (parser, "+OK\r\n.\r\n", &error));
  g_assert_error (error, POP3_ERROR, POP3_ERROR_PROTOCOL);
  g_clear_error (&error);
  g_assert_null (pop3_parser_pop_reply (parser));
  g_assert_false (pop3_parser_finish (parser, &error));
  g_assert_error (error, POP3_ERROR, POP3_ERROR_PROTOCOL);
}

static void
test_unsolicited_split (void)
{
  const Pop3Expect single = POP3_EXPECT_SINGLE;
  g_autoptr(ParseResult) result =
    parse_all_ways (&single, 1, S ("+OK Begin TLS\r\n\x16\x03\x01junk"));

  g_assert_error (result->error, POP3_ERROR, POP3_ERROR_PROTOCOL);
  g_assert_cmpuint (result->replies->len, ==, 1);
}

/* Limits */

static void
test_status_line_too_long (void)
{
  g_autoptr(GString) wire = g_string_new ("+OK ");
  g_autoptr(Pop3Parser) parser = pop3_parser_new (64, 1024);
  g_autoptr(GError) error = NULL;
  const Pop3Expect single = POP3_EXPECT_SINGLE;

  /* Exactly at the bound (the line ending does not count) is fine. */
  while (wire->len < 64)
    g_string_append_c (wire, 'x');
  g_string_append (wire, "\r\n");
  {
    g_autoptr(ParseResult) result =
      parse_all_ways_limited (&single, 1, wire->str, wire->len, 64, 1024);
    g_assert_no_error (result->error);
  }

  /* One more byte is not. */
  g_string_insert_c (wire, 4, 'y');
  {
    g_autoptr(ParseResult) result =
      parse_all_ways_limited (&single, 1, wire->str, wire->len, 64, 1024);
    g_assert_error (result->error, POP3_ERROR, POP3_ERROR_LINE_TOO_LONG);
  }

  /* Detected without waiting for the LF; a CR at the very end might
   * still be the line ending, so it does not count yet. */
  pop3_parser_push_expect (parser, POP3_EXPECT_SINGLE);
  g_assert_true (pop3_parser_feed (parser, (const guint8 *) wire->str, 64,
                                   &error));
  g_assert_true (pop3_parser_feed (parser, (const guint8 *) "\r", 1, &error));
  g_assert_no_error (error);
  g_assert_false (pop3_parser_feed (parser, (const guint8 *) "z", 1, &error));
  g_assert_error (error, POP3_ERROR, POP3_ERROR_LINE_TOO_LONG);
  g_clear_error (&error);
  g_assert_false (pop3_parser_feed (parser, (const guint8 *) "\n", 1, &error));
  g_assert_error (error, POP3_ERROR, POP3_ERROR_LINE_TOO_LONG);
}

static void
test_listing_line_too_long (void)
{
  for (guint i = 0; i < 3; i++)
    {
      const Pop3Expect listing = POP3_EXPECT_LISTING;
      g_autoptr(GString) wire = g_string_new ("+OK\r\n");
      g_autoptr(ParseResult) result = NULL;

      /* CAPA, LIST and UIDL all come through LISTING. */
      g_string_append (wire, ((const char *[]) { "SASL ", "1 ", "1 " })[i]);
      while (wire->len < 5 + POP3_DEFAULT_MAX_LINE + 1)
        g_string_append_c (wire, i == 1 ? '9' : 'A');
      g_string_append (wire, "\r\n.\r\n");

      result = parse_all_ways (&listing, 1, wire->str, wire->len);
      g_assert_error (result->error, POP3_ERROR, POP3_ERROR_LINE_TOO_LONG);
      g_assert_cmpuint (result->replies->len, ==, 0);
    }
}

static void
test_long_body_line (void)
{
  g_autoptr(GString) wire = g_string_new ("+OK\r\n");
  g_autoptr(GString) expected = g_string_new (NULL);
  g_autoptr(GBytes) body = NULL;

  /* A 100 KB line inside a message is fine: only the total is bounded. */
  for (guint i = 0; i < 100 * 1024; i++)
    g_string_append_c (expected, 'a' + i % 26);
  g_string_append (expected, "\r\n");
  g_string_append_len (wire, expected->str, expected->len);
  g_string_append (wire, ".\r\n");

  body = parse_body (POP3_EXPECT_MESSAGE, wire->str, wire->len);
  assert_body (body, expected->str, expected->len);
}

static void
test_response_too_long (void)
{
  const Pop3Expect expects[] = { POP3_EXPECT_MESSAGE, POP3_EXPECT_LISTING };
  g_autoptr(GString) wire = g_string_new ("+OK\r\n");

  /* 100 lines of 10 bytes is 1200 bytes stored; the cap is 1000. */
  for (guint i = 0; i < 100; i++)
    g_string_append (wire, "0123456789\r\n");
  g_string_append (wire, ".\r\n");

  for (guint i = 0; i < G_N_ELEMENTS (expects); i++)
    {
      g_autoptr(ParseResult) ok =
        parse_all_ways_limited (&expects[i], 1, wire->str, wire->len, 64, 1200);
      g_autoptr(ParseResult) too_long =
        parse_all_ways_limited (&expects[i], 1, wire->str, wire->len, 64, 1199);

      g_assert_no_error (ok->error);
      Pop3Reply *reply;

      g_assert_no_error (ok->error);
      reply = ok->replies->pdata[0];
      g_assert_cmpuint (g_bytes_get_size (reply->body), ==, 1200);
      g_assert_error (too_long->error, POP3_ERROR,
                      POP3_ERROR_RESPONSE_TOO_LONG);
    }
}

/* Found by fuzz-parser: a listing line that breaks both bounds got
 * LINE_TOO_LONG in one buffer but RESPONSE_TOO_LONG when split, because a
 * prefix of it had already crossed the response cap.  The bound crossed
 * first now wins however the bytes arrive. */
static void
test_both_bounds (void)
{
  const Pop3Expect listing = POP3_EXPECT_LISTING;
  /* 15 bytes stored, room for 5 more; the last line crosses the cap at its
   * 6th byte and the line bound (8) at its 9th. */
  const char response_first[] =
    "+OK\r\n1 2\r\n1 2\r\n1 2\r\n123456789012\r\n.\r\n";
  /* Plenty of room: the line bound is crossed first. */
  const char line_first[] = "+OK\r\n123456789012\r\n.\r\n";
  g_autoptr(ParseResult) a =
    parse_all_ways_limited (&listing, 1, S (response_first), 8, 20);
  g_autoptr(ParseResult) b =
    parse_all_ways_limited (&listing, 1, S (line_first), 8, 20);
  g_autoptr(ParseResult) c =
    parse_all_ways_limited (&listing, 1, S (line_first), 8, 10);

  g_assert_error (a->error, POP3_ERROR, POP3_ERROR_RESPONSE_TOO_LONG);
  g_assert_error (b->error, POP3_ERROR, POP3_ERROR_LINE_TOO_LONG);
  g_assert_error (c->error, POP3_ERROR, POP3_ERROR_LINE_TOO_LONG);
}

/* Maps @size bytes of which only the first @readable can be read: a parser
 * that looks further than it needs to crashes the test. */
static guint8 *
map_guarded (gsize size,
             gsize readable)
{
  guint8 *region = mmap (NULL, size, PROT_NONE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

  g_assert_true (region != MAP_FAILED);
  g_assert_cmpint (mprotect (region, readable, PROT_READ | PROT_WRITE), ==, 0);

  return region;
}

static void
test_huge_line_fails_early (void)
{
  const gsize size = 1024 * 1024 * 1024;
  const gsize readable = 1024 * 1024;
  g_autoptr(Pop3Parser) status = pop3_parser_new (POP3_DEFAULT_MAX_LINE,
                                                  POP3_DEFAULT_MAX_RESPONSE);
  g_autoptr(Pop3Parser) message = pop3_parser_new (POP3_DEFAULT_MAX_LINE,
                                                   256 * 1024);
  g_autoptr(GError) error = NULL;
  guint8 *region = map_guarded (size, readable);

  /* A 1 GB status line with no LF in one buffer fails within the first
   * megabyte, without copying (or even reading) the rest. */
  memset (region, 'x', readable);
  memcpy (region, "+OK ", 4);
  pop3_parser_push_expect (status, POP3_EXPECT_SINGLE);
  g_assert_false (pop3_parser_feed (status, region, size, &error));
  g_assert_error (error, POP3_ERROR, POP3_ERROR_LINE_TOO_LONG);
  g_clear_error (&error);

  /* The same for a message that never ends, at the response cap. */
  pop3_parser_push_expect (message, POP3_EXPECT_MESSAGE);
  g_assert_true (feed_text (message, "+OK\r\n", &error));
  g_assert_false (pop3_parser_feed (message, region, size, &error));
  g_assert_error (error, POP3_ERROR, POP3_ERROR_RESPONSE_TOO_LONG);

  munmap (region, size);
}

/* Payload numbers */

static void
test_parse_number (void)
{
  guint64 value = 12345;

  g_assert_true (pop3_parse_number (S ("0"), G_MAXUINT64, &value));
  g_assert_cmpuint (value, ==, 0);
  g_assert_true (pop3_parse_number (S ("007"), 7, &value));
  g_assert_cmpuint (value, ==, 7);
  g_assert_true (pop3_parse_number (S ("18446744073709551615"), G_MAXUINT64,
                                    &value));
  g_assert_cmpuint (value, ==, G_MAXUINT64);
  g_assert_true (pop3_parse_number (S ("4294967295"), G_MAXUINT, &value));
  g_assert_cmpuint (value, ==, G_MAXUINT);
  /* Only @len bytes are read. */
  g_assert_true (pop3_parse_number ("12junk", 2, 100, &value));
  g_assert_cmpuint (value, ==, 12);

  value = 42;
  g_assert_false (pop3_parse_number (S ("18446744073709551616"), G_MAXUINT64,
                                     &value));
  g_assert_false (pop3_parse_number (S ("99999999999999999999999"),
                                     G_MAXUINT64, &value));
  g_assert_false (pop3_parse_number (S ("4294967296"), G_MAXUINT, &value));
  g_assert_false (pop3_parse_number (S ("4294967400"), G_MAXUINT, &value));
  g_assert_false (pop3_parse_number (S ("8"), 7, &value));
  g_assert_false (pop3_parse_number (S ("-1"), G_MAXUINT64, &value));
  g_assert_false (pop3_parse_number (S ("+5"), G_MAXUINT64, &value));
  g_assert_false (pop3_parse_number (S (" 5"), G_MAXUINT64, &value));
  g_assert_false (pop3_parse_number (S ("5 "), G_MAXUINT64, &value));
  g_assert_false (pop3_parse_number (S ("0x10"), G_MAXUINT64, &value));
  g_assert_false (pop3_parse_number (S ("1e3"), G_MAXUINT64, &value));
  g_assert_false (pop3_parse_number (S ("\xd9\xa3"), G_MAXUINT64, &value));
  g_assert_false (pop3_parse_number (S (""), G_MAXUINT64, &value));
  g_assert_false (pop3_parse_number ("1\0002", 3, G_MAXUINT64, &value));
  /* A failure leaves the output alone. */
  g_assert_cmpuint (value, ==, 42);
}

static void
test_parse_stat (void)
{
  struct {
    const char *text;
    gboolean ok;
    guint count;
    guint64 size;
  } cases[] = {
    { "2 320", TRUE, 2, 320 },
    { "0 0", TRUE, 0, 0 },
    { "2 320 extra words", TRUE, 2, 320 },
    { "1 4294967400", TRUE, 1, G_GUINT64_CONSTANT (4294967400) },
    { "100000000 1", TRUE, 100000000, 1 },
    { "4294967295 18446744073709551615", TRUE, G_MAXUINT, G_MAXUINT64 },
    { "4294967296 1", FALSE, 0, 0 },
    { "4294967400 1", FALSE, 0, 0 },
    { "1 18446744073709551616", FALSE, 0, 0 },
    { "-1 320", FALSE, 0, 0 },
    { "2 -1", FALSE, 0, 0 },
    { "+5 320", FALSE, 0, 0 },
    { "2 +5", FALSE, 0, 0 },
    { "2", FALSE, 0, 0 },
    { "2 ", FALSE, 0, 0 },
    { "", FALSE, 0, 0 },
    { "two 320", FALSE, 0, 0 },
    { "2 messages (320 octets)", FALSE, 0, 0 },
    { "2 320octets", FALSE, 0, 0 },
    { "2\t320", FALSE, 0, 0 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      guint count = 77;
      guint64 size = 77;
      gboolean ok = pop3_parse_stat (cases[i].text, &count, &size, &error);

      g_test_message ("STAT “%s”", cases[i].text);
      g_assert_cmpint (ok, ==, cases[i].ok);
      if (ok)
        {
          g_assert_no_error (error);
          g_assert_cmpuint (count, ==, cases[i].count);
          g_assert_cmpuint (size, ==, cases[i].size);
        }
      else
        {
          g_assert_error (error, POP3_ERROR, POP3_ERROR_PROTOCOL);
          g_assert_cmpuint (count, ==, 77);
          g_assert_cmpuint (size, ==, 77);
        }
    }
}

static void
test_stat_error_message (void)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (pop3_parse_stat ("2 messages (320 octets)", NULL, NULL,
                                   &error));
  g_assert_error (error, POP3_ERROR, POP3_ERROR_PROTOCOL);
  /* One sentence, translated whole. */
  g_assert_cmpstr (error->message, ==,
                   "The server's STAT reply “2 messages (320 octets)” is not "
                   "well formed: it should be a message count and a size in "
                   "octets.");

  /* Control bytes from the server do not reach the message. */
  g_clear_error (&error);
  g_assert_false (pop3_parse_stat ("\x1b[2J 1", NULL, NULL, &error));
  g_assert_null (strchr (error->message, '\x1b'));
}

static void
test_parse_scan_listing (void)
{
  guint msg = 0;
  guint64 octets = 0;
  const char *bad[] = {
    "0 100", "1", "1 ", "", "-1 100", "1 -1", "+1 100", "1 +100", "a 100",
    "4294967296 100", "1 18446744073709551616", "1 100octets",
  };

  g_assert_true (pop3_parse_scan_listing ("1 100", &msg, &octets, NULL));
  g_assert_cmpuint (msg, ==, 1);
  g_assert_cmpuint (octets, ==, 100);
  g_assert_true (pop3_parse_scan_listing ("4294967295 4294967400 more info",
                                          &msg, &octets, NULL));
  g_assert_cmpuint (msg, ==, G_MAXUINT);
  g_assert_cmpuint (octets, ==, G_GUINT64_CONSTANT (4294967400));

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_false (pop3_parse_scan_listing (bad[i], &msg, &octets, &error));
      g_assert_error (error, POP3_ERROR, POP3_ERROR_PROTOCOL);
    }
}

static GBytes *
bytes_from_string (const char *text)
{
  return g_bytes_new (text, strlen (text));
}

static Pop3ListIndex *
list_index_of (const guint *msgs,
               guint        n)
{
  g_autoptr(GArray) listing = g_array_new (FALSE, FALSE,
                                           sizeof (Pop3ListEntry));

  /* Each line's size tells it apart: its position times ten. */
  for (guint i = 0; i < n; i++)
    {
      Pop3ListEntry entry = { msgs[i], (i + 1) * 10 };

      g_array_append_val (listing, entry);
    }
  return pop3_list_index_new (listing);
}

static guint64
index_size (Pop3ListIndex *index,
            guint          msg)
{
  guint64 octets = 0;

  if (!pop3_list_index_lookup (index, msg, &octets))
    g_assert_cmpuint (octets, ==, 0);
  return octets;
}

static void
test_list_index (void)
{
  static const guint in_place[] = { 1, 2, 3, 4 };
  static const guint in_order[] = { 2, 3, 3, 7 };
  static const guint out_of_order[] = { 7, 2, 3, 2, 9, 1 };
  g_autoptr(Pop3ListIndex) index = NULL;

  index = list_index_of (in_place, 4);
  g_assert_true (pop3_list_index_in_place (index));
  g_assert_cmpuint (index_size (index, 1), ==, 10);
  g_assert_cmpuint (index_size (index, 4), ==, 40);
  g_assert_cmpuint (index_size (index, 0), ==, 0);
  g_assert_cmpuint (index_size (index, 5), ==, 0);
  g_clear_pointer (&index, pop3_list_index_free);

  /* A message listed twice: its last line counts. */
  index = list_index_of (in_order, 4);
  g_assert_false (pop3_list_index_in_place (index));
  g_assert_cmpuint (index_size (index, 1), ==, 0);
  g_assert_cmpuint (index_size (index, 2), ==, 10);
  g_assert_cmpuint (index_size (index, 3), ==, 30);
  g_assert_cmpuint (index_size (index, 4), ==, 0);
  g_assert_cmpuint (index_size (index, 7), ==, 40);
  g_assert_cmpuint (index_size (index, 8), ==, 0);
  g_clear_pointer (&index, pop3_list_index_free);

  index = list_index_of (out_of_order, 6);
  g_assert_false (pop3_list_index_in_place (index));
  g_assert_cmpuint (index_size (index, 1), ==, 60);
  g_assert_cmpuint (index_size (index, 2), ==, 40);
  g_assert_cmpuint (index_size (index, 3), ==, 30);
  g_assert_cmpuint (index_size (index, 4), ==, 0);
  g_assert_cmpuint (index_size (index, 7), ==, 10);
  g_assert_cmpuint (index_size (index, 9), ==, 50);
  g_assert_cmpuint (index_size (index, 10), ==, 0);
  g_assert_cmpuint (index_size (index, 0), ==, 0);
  g_clear_pointer (&index, pop3_list_index_free);

  index = list_index_of (NULL, 0);
  g_assert_true (pop3_list_index_in_place (index));
  g_assert_cmpuint (index_size (index, 1), ==, 0);

  /* No listing at all. */
  g_assert_false (pop3_list_index_lookup (NULL, 1, NULL));
}

static guint lines_cleared;

static void
line_cleared (gpointer entry)
{
  lines_cleared++;
}

/* A listing numbered in place with sizes under 4 GB, as servers send
 * them: the index keeps the sizes alone, so the listing goes with its
 * caller's last reference; it reads the same lines as the listing did.
 * One size past 32 bits keeps the listing, and its size whole. */
static void
test_list_index_compact (void)
{
  static const guint64 small[] = { 120, 0, G_MAXUINT32 };
  static const guint64 big[] = { 120, G_GUINT64_CONSTANT (4294967400), 7 };
  Pop3ListIndex *index;
  GArray *listing;
  guint64 octets;

  for (guint round = 0; round < 2; round++)
    {
      const guint64 *sizes = round == 0 ? small : big;

      listing = g_array_new (FALSE, FALSE, sizeof (Pop3ListEntry));
      g_array_set_clear_func (listing, line_cleared);
      for (guint i = 0; i < 3; i++)
        {
          Pop3ListEntry entry = { i + 1, sizes[i] };

          g_array_append_val (listing, entry);
        }

      lines_cleared = 0;
      index = pop3_list_index_new (listing);
      g_array_unref (listing);
      g_assert_cmpuint (lines_cleared, ==, round == 0 ? 3 : 0);

      g_assert_true (pop3_list_index_in_place (index));
      g_assert_cmpuint (pop3_list_index_get_length (index), ==, 3);
      for (guint i = 0; i < 3; i++)
        {
          Pop3ListEntry line = pop3_list_index_get_line (index, i);

          g_assert_cmpuint (line.msg, ==, i + 1);
          g_assert_cmpuint (line.octets, ==, sizes[i]);
          g_assert_true (pop3_list_index_lookup (index, i + 1, &octets));
          g_assert_cmpuint (octets, ==, sizes[i]);
        }
      g_assert_false (pop3_list_index_lookup (index, 4, &octets));
      g_assert_false (pop3_list_index_lookup (index, 0, NULL));

      pop3_list_index_free (index);
      g_assert_cmpuint (lines_cleared, ==, 3);
    }

  g_assert_cmpuint (pop3_list_index_get_length (NULL), ==, 0);
}

static void
test_parse_list_body (void)
{
  g_autoptr(GBytes) body =
    bytes_from_string ("1 120\r\n2 4294967400\r\n5 3 extra\r\n");
  g_autoptr(GBytes) empty = g_bytes_new (NULL, 0);
  g_autoptr(GArray) listing = NULL;
  g_autoptr(GArray) none = NULL;
  const char *bad[] = {
    "1 120\r\n1 130\r\n",
    "1 120\r\n\r\n",
    "1 120\r\n0 5\r\n",
    "1 120\r\nx\r\n",
    "1 -1\r\n",
  };

  listing = pop3_parse_list_body (body, NULL);
  g_assert_nonnull (listing);
  g_assert_cmpuint (listing->len, ==, 3);
  g_assert_cmpuint (g_array_index (listing, Pop3ListEntry, 0).msg, ==, 1);
  g_assert_cmpuint (g_array_index (listing, Pop3ListEntry, 0).octets, ==, 120);
  g_assert_cmpuint (g_array_index (listing, Pop3ListEntry, 1).octets, ==,
                    G_GUINT64_CONSTANT (4294967400));
  g_assert_cmpuint (g_array_index (listing, Pop3ListEntry, 2).msg, ==, 5);

  none = pop3_parse_list_body (empty, NULL);
  g_assert_nonnull (none);
  g_assert_cmpuint (none->len, ==, 0);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GBytes) bad_body = bytes_from_string (bad[i]);
      g_autoptr(GError) error = NULL;
      g_autoptr(GArray) result = pop3_parse_list_body (bad_body, &error);

      g_assert_null (result);
      g_assert_error (error, POP3_ERROR, POP3_ERROR_PROTOCOL);
    }

  /* A NUL would otherwise hide the rest of the line. */
  {
    g_autoptr(GBytes) nul = g_bytes_new (S ("1 120\0 junk\r\n"));
    g_autoptr(GError) error = NULL;
    g_autoptr(GArray) result = pop3_parse_list_body (nul, &error);

    g_assert_null (result);
    g_assert_error (error, POP3_ERROR, POP3_ERROR_PROTOCOL);
  }
}

/* UIDs */

static void
test_uid_is_valid (void)
{
  g_autofree char *seventy = g_strnfill (70, 'u');
  g_autofree char *seventy_one = g_strnfill (71, 'u');
  const char *bad[] = {
    "", "a b", " a", "a ", "a\tb", "a\x01", "\x7f", "caf\xc3\xa9", "a\r", "a\n",
  };

  g_assert_true (pop3_uid_is_valid ("whqtswO00WBw418f9t5JxYwZ"));
  g_assert_true (pop3_uid_is_valid ("!"));
  g_assert_true (pop3_uid_is_valid ("~"));
  g_assert_true (pop3_uid_is_valid (seventy));
  /* Slashes and dots are printable and so valid UIDs (RFC 1939); whoever
   * turns a UID into a file name has to cope with them. */
  g_assert_true (pop3_uid_is_valid ("../../etc/passwd"));
  g_assert_true (pop3_uid_is_valid (".."));

  g_assert_false (pop3_uid_is_valid (seventy_one));
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    g_assert_false (pop3_uid_is_valid (bad[i]));
}

static void
test_parse_uid_listing (void)
{
  g_autofree char *uid = NULL;
  g_autofree char *long_line = NULL;
  guint msg = 0;
  const char *bad[] = {
    "1", "1 ", "0 abc", "-1 abc", "+1 abc", "1 a b", "1  abc", "1 abc ",
    "1 abc\x01", "1 caf\xc3\xa9", "x abc", "4294967296 abc", "1\tabc",
  };

  g_assert_true (pop3_parse_uid_listing ("3 QhdPYR:00WBw1Ph7x7", &msg, &uid,
                                         NULL));
  g_assert_cmpuint (msg, ==, 3);
  g_assert_cmpstr (uid, ==, "QhdPYR:00WBw1Ph7x7");

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *bad_uid = NULL;

      g_test_message ("UID listing “%s”", bad[i]);
      g_assert_false (pop3_parse_uid_listing (bad[i], &msg, &bad_uid, &error));
      g_assert_error (error, POP3_ERROR, POP3_ERROR_PROTOCOL);
      g_assert_null (bad_uid);
    }

  long_line = g_strconcat ("1 ", "0123456789012345678901234567890123456789",
                           "01234567890123456789012345678901", NULL);
  g_assert_false (pop3_parse_uid_listing (long_line, &msg, NULL, NULL));
}

static void
test_parse_uidl_body (void)
{
  g_autoptr(GBytes) body =
    bytes_from_string ("1 aaa\r\n2 ../../x\r\n7 c/d\r\n");
  g_autoptr(Pop3UidListing) uids = pop3_parse_uidl_body (body, NULL);
  const char *bad[] = {
    "1 aaa\r\n2 aaa\r\n",
    "1 aaa\r\n1 bbb\r\n",
    "1 aaa\r\n2\r\n",
    "1 aaa\r\n\r\n",
    "1 a a\r\n",
  };

  g_assert_nonnull (uids);
  g_assert_cmpuint (pop3_uid_listing_get_length (uids), ==, 3);
  g_assert_cmpuint (pop3_uid_listing_get_msg (uids, 0), ==, 1);
  g_assert_cmpstr (pop3_uid_listing_get_uid (uids, 0), ==, "aaa");
  g_assert_cmpuint (pop3_uid_listing_get_msg (uids, 1), ==, 2);
  g_assert_cmpstr (pop3_uid_listing_get_uid (uids, 1), ==, "../../x");
  g_assert_cmpuint (pop3_uid_listing_get_msg (uids, 2), ==, 7);
  g_assert_cmpstr (pop3_uid_listing_get_uid (uids, 2), ==, "c/d");

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GBytes) bad_body = bytes_from_string (bad[i]);
      g_autoptr(GError) error = NULL;
      g_autoptr(Pop3UidListing) result = pop3_parse_uidl_body (bad_body,
                                                               &error);

      g_assert_null (result);
      g_assert_error (error, POP3_ERROR, POP3_ERROR_PROTOCOL);
    }
}

static void
test_parse_uidl_body_sound (void)
{
  g_autoptr(GBytes) body =
    bytes_from_string ("1 aaa\r\n2 twin\r\n3 twin\r\n4 a b\r\n"
                       "x yyy\r\n5 one\r\n5 other\r\n6 fine\r\n");
  g_autoptr(GBytes) nul = g_bytes_new ("1 a\0b\r\n", 7);
  g_autoptr(Pop3UidListing) uids = NULL;
  g_autoptr(Pop3UidListing) none = NULL;
  g_autoptr(GError) error = NULL;
  guint rejected = 0;

  /* Repeated UIDs and message numbers lose every line they are on. */
  uids = pop3_parse_uidl_body_sound (body, &rejected, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pop3_uid_listing_get_length (uids), ==, 2);
  g_assert_cmpuint (pop3_uid_listing_get_msg (uids, 0), ==, 1);
  g_assert_cmpstr (pop3_uid_listing_get_uid (uids, 0), ==, "aaa");
  g_assert_cmpuint (pop3_uid_listing_get_msg (uids, 1), ==, 6);
  g_assert_cmpstr (pop3_uid_listing_get_uid (uids, 1), ==, "fine");
  g_assert_cmpuint (rejected, ==, 6);

  none = pop3_parse_uidl_body_sound (nul, &rejected, &error);
  g_assert_null (none);
  g_assert_error (error, POP3_ERROR, POP3_ERROR_PROTOCOL);
}

/* A listing built entry by entry (header fingerprints) grows its buffer
 * as it goes: every UID stays as given, in order. */
static void
test_uid_listing_add (void)
{
  g_autoptr(Pop3UidListing) listing = pop3_uid_listing_new ();

  g_assert_cmpuint (pop3_uid_listing_get_length (listing), ==, 0);
  for (guint i = 0; i < 1000; i++)
    {
      g_autofree char *uid = g_strnfill (1 + i % 70, 'a' + i % 26);

      pop3_uid_listing_add (listing, 1000 - i, uid);
    }

  g_assert_cmpuint (pop3_uid_listing_get_length (listing), ==, 1000);
  for (guint i = 0; i < 1000; i++)
    {
      g_autofree char *uid = g_strnfill (1 + i % 70, 'a' + i % 26);

      g_assert_cmpuint (pop3_uid_listing_get_msg (listing, i), ==, 1000 - i);
      g_assert_cmpstr (pop3_uid_listing_get_uid (listing, i), ==, uid);
    }
}

/* Whether a listing's numbers rise is known as its entries come; the
 * sound parse's drops keep it. */
static void
test_uid_listing_rises (void)
{
  g_autoptr(Pop3UidListing) listing = pop3_uid_listing_new ();
  g_autoptr(GBytes) rising = bytes_from_string ("1 a\r\n2 twin\r\n3 twin\r\n7 b\r\n");
  g_autoptr(GBytes) falling = bytes_from_string ("2 a\r\n1 b\r\n");
  g_autoptr(Pop3UidListing) parsed = NULL;

  g_assert_true (pop3_uid_listing_rises (listing));
  pop3_uid_listing_add (listing, 1, "a");
  pop3_uid_listing_add (listing, 3, "b");
  g_assert_true (pop3_uid_listing_rises (listing));
  pop3_uid_listing_add (listing, 3, "c");
  g_assert_false (pop3_uid_listing_rises (listing));

  parsed = pop3_parse_uidl_body_sound (rising, NULL, NULL);
  g_assert_cmpuint (pop3_uid_listing_get_length (parsed), ==, 2);
  g_assert_true (pop3_uid_listing_rises (parsed));
  g_clear_pointer (&parsed, pop3_uid_listing_unref);

  parsed = pop3_parse_uidl_body (falling, NULL);
  g_assert_nonnull (parsed);
  g_assert_false (pop3_uid_listing_rises (parsed));
}

/* CAPA */

static void
test_parse_capa (void)
{
  g_autoptr(GBytes) body =
    bytes_from_string ("TOP\r\n"
                       "uidl\r\n"
                       "\r\n"
                       "Sasl PLAIN login  CRAM-MD5\r\n"
                       "RESP-CODES\r\n"
                       "PIPELINING\r\n"
                       "stls\r\n"
                       "IMPLEMENTATION Dovecot (Debian)\r\n"
                       "SASL GSSAPI\r\n"
                       "LOGIN-DELAY 900\r\n");
  g_autoptr(GHashTable) capabilities = pop3_parse_capa_body (body, NULL);
  GStrv params;

  g_assert_nonnull (capabilities);
  g_assert_cmpuint (g_hash_table_size (capabilities), ==, 8);
  g_assert_true (g_hash_table_contains (capabilities, "TOP"));
  g_assert_true (g_hash_table_contains (capabilities, "UIDL"));
  g_assert_true (g_hash_table_contains (capabilities, "STLS"));
  g_assert_false (g_hash_table_contains (capabilities, "stls"));
  g_assert_false (g_hash_table_contains (capabilities, ""));

  params = g_hash_table_lookup (capabilities, "TOP");
  g_assert_nonnull (params);
  g_assert_cmpuint (g_strv_length (params), ==, 0);

  /* Parameters are kept as sent; the first SASL line wins. */
  params = g_hash_table_lookup (capabilities, "SASL");
  g_assert_cmpuint (g_strv_length (params), ==, 3);
  g_assert_cmpstr (params[0], ==, "PLAIN");
  g_assert_cmpstr (params[1], ==, "login");
  g_assert_cmpstr (params[2], ==, "CRAM-MD5");

  params = g_hash_table_lookup (capabilities, "IMPLEMENTATION");
  g_assert_cmpuint (g_strv_length (params), ==, 2);
  g_assert_cmpstr (params[1], ==, "(Debian)");

  params = g_hash_table_lookup (capabilities, "LOGIN-DELAY");
  g_assert_cmpstr (params[0], ==, "900");
}

static void
test_parse_capa_hostile (void)
{
  g_autoptr(GBytes) empty = g_bytes_new (NULL, 0);
  g_autoptr(GBytes) weird =
    g_bytes_new (S ("caf\xe9 \xff\r\n \t \r\nX-\x1b[1m\r\n"));
  g_autoptr(GBytes) nul = g_bytes_new (S ("TOP\r\nST\0LS\r\n"));
  g_autoptr(GHashTable) none = pop3_parse_capa_body (empty, NULL);
  g_autoptr(GHashTable) repaired = pop3_parse_capa_body (weird, NULL);
  g_autoptr(GHashTable) rejected = NULL;
  g_autoptr(GError) error = NULL;
  GHashTableIter iter;
  gpointer key;

  g_assert_nonnull (none);
  g_assert_cmpuint (g_hash_table_size (none), ==, 0);

  /* Names and parameters are always valid UTF-8, whatever was sent. */
  g_assert_nonnull (repaired);
  g_assert_cmpuint (g_hash_table_size (repaired), ==, 2);
  g_hash_table_iter_init (&iter, repaired);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_assert_true (g_utf8_validate (key, -1, NULL));

  rejected = pop3_parse_capa_body (nul, &error);
  g_assert_null (rejected);
  g_assert_error (error, POP3_ERROR, POP3_ERROR_PROTOCOL);
}

/* APOP timestamps */

static void
test_apop_timestamp (void)
{
  struct {
    const char *greeting;
    const char *timestamp;
  } cases[] = {
    { "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>",
      "<1896.697170952@dbc.mtview.ca.us>" },
    { "+OK <a@b> <c@d>", "<a@b>" },
    { "+OK x> <a@b> trailing", "<a@b>" },
    { "+OK <<a@b>", "<<a@b>" },
    { "+OK Dovecot ready.", NULL },
    { "+OK <1896.697170952>", NULL },
    { "+OK <1896 697@host>", NULL },
    { "+OK <caf\xc3\xa9@host>", NULL },
    { "+OK <ctl\x01@host>", NULL },
    { "+OK <@", NULL },
    { "+OK <a@b", NULL },
    { "+OK >a@b<", NULL },
    { "+OK <>", NULL },
    { "", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *timestamp =
        pop3_parse_apop_timestamp (cases[i].greeting);

      g_assert_cmpstr (timestamp, ==, cases[i].timestamp);
    }
}

static void
test_apop_timestamp_million (void)
{
  g_autoptr(GString) greeting = g_string_new ("+OK ");
  g_autoptr(GString) almost = NULL;
  char *timestamp;

  for (guint i = 0; i < 1000 * 1000; i++)
    g_string_append_c (greeting, '<');

  /* A quadratic scan would take minutes here and time the test out. */
  timestamp = pop3_parse_apop_timestamp (greeting->str);
  g_assert_null (timestamp);

  /* One '>' at the very end: from the first '<' on, all printable but no
   * '@'. */
  almost = g_string_new (greeting->str);
  g_string_append_c (almost, '>');
  timestamp = pop3_parse_apop_timestamp (almost->str);
  g_assert_null (timestamp);
}

/* Everything at once */

static void
test_pipelined_mixture (void)
{
  const Pop3Expect expects[] = {
    POP3_EXPECT_SINGLE,  /* greeting */
    POP3_EXPECT_LISTING, /* CAPA */
    POP3_EXPECT_SINGLE,  /* USER */
    POP3_EXPECT_SINGLE,  /* PASS */
    POP3_EXPECT_SINGLE,  /* STAT */
    POP3_EXPECT_LISTING, /* LIST */
    POP3_EXPECT_LISTING, /* UIDL */
    POP3_EXPECT_MESSAGE, /* TOP 1 0 */
    POP3_EXPECT_MESSAGE, /* RETR 9 */
    POP3_EXPECT_MESSAGE, /* RETR 2 */
    POP3_EXPECT_SASL,    /* AUTH CRAM-MD5 (for the sake of the mixture) */
    POP3_EXPECT_SINGLE,  /* DELE 1 */
    POP3_EXPECT_SINGLE,  /* QUIT */
  };
  const char wire[] =
    "+OK Dovecot ready. <1.2@host>\r\n"
    "+OK\r\nTOP\r\nUIDL\r\nPIPELINING\r\n.\r\n"
    "+OK\r\n"
    "+OK Logged in.\r\n"
    "+OK 2 500\r\n"
    "+OK 2 messages:\r\n1 200\r\n2 300\r\n.\r\n"
    "+OK\r\n1 u1\r\n2 u2\r\n.\r\n"
    "+OK\r\nSubject: hi\r\n..hidden\r\n\r\n.\r\n"
    "-ERR [SYS/PERM] no such message\r\n"
    "+OK 300 octets\r\nbody\0\xff\r\n.\r\n"
    "+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n"
    "+OK Marked to be deleted.\r\n"
    "+OK Logging out, messages deleted.\r\n";
  g_autoptr(ParseResult) result =
    parse_all_ways (expects, G_N_ELEMENTS (expects), wire, sizeof wire - 1);
  Pop3Reply **replies;

  g_assert_no_error (result->error);
  g_assert_cmpuint (result->replies->len, ==, G_N_ELEMENTS (expects));
  replies = (Pop3Reply **) result->replies->pdata;

  g_assert_cmpstr (replies[0]->text, ==, "Dovecot ready. <1.2@host>");
  assert_body (replies[1]->body, S ("TOP\r\nUIDL\r\nPIPELINING\r\n"));
  g_assert_cmpstr (replies[4]->text, ==, "2 500");
  assert_body (replies[5]->body, S ("1 200\r\n2 300\r\n"));
  assert_body (replies[6]->body, S ("1 u1\r\n2 u2\r\n"));
  assert_body (replies[7]->body, S ("Subject: hi\r\n.hidden\r\n\r\n"));
  g_assert_cmpint (replies[8]->status, ==, POP3_REPLY_ERR);
  g_assert_cmpstr (replies[8]->code, ==, "SYS/PERM");
  g_assert_null (replies[8]->body);
  assert_body (replies[9]->body, S ("body\0\xff\r\n"));
  g_assert_cmpint (replies[10]->status, ==, POP3_REPLY_CONTINUATION);
  g_assert_cmpstr (replies[12]->text, ==, "Logging out, messages deleted.");
}

/* Linear time */

static void
test_many_top_replies (void)
{
  const guint n = 10000;
  const char top[] =
    "+OK\r\nFrom: a@example.com\r\nSubject: hello\r\n\r\n..dots\r\n.\r\n";
  g_autoptr(GString) wire = g_string_new (NULL);
  g_autoptr(Pop3Parser) whole = pop3_parser_new (POP3_DEFAULT_MAX_LINE,
                                                 POP3_DEFAULT_MAX_RESPONSE);
  g_autoptr(Pop3Parser) bytewise = pop3_parser_new (POP3_DEFAULT_MAX_LINE,
                                                    POP3_DEFAULT_MAX_RESPONSE);
  g_autoptr(GError) error = NULL;
  Pop3Reply *reply;
  guint n_whole = 0;
  guint n_bytewise = 0;

  for (guint i = 0; i < n; i++)
    {
      g_string_append_len (wire, top, sizeof top - 1);
      pop3_parser_push_expect (whole, POP3_EXPECT_MESSAGE);
      pop3_parser_push_expect (bytewise, POP3_EXPECT_MESSAGE);
    }

  g_assert_true (feed_text (whole, wire->str, &error));
  g_assert_no_error (error);
  for (gsize i = 0; i < wire->len; i++)
    g_assert_true (pop3_parser_feed (bytewise, (const guint8 *) wire->str + i,
                                     1, &error));

  while ((reply = pop3_parser_pop_reply (whole)) != NULL)
    {
      g_autoptr(Pop3Reply) owned = reply;
      g_autoptr(Pop3Reply) other = pop3_parser_pop_reply (bytewise);

      g_assert_nonnull (other);
      assert_replies_equal (owned, other);
      assert_body (owned->body, S ("From: a@example.com\r\n"
                                   "Subject: hello\r\n"
                                   "\r\n"
                                   ".dots\r\n"));
      n_whole++;
    }
  while ((reply = pop3_parser_pop_reply (bytewise)) != NULL)
    {
      pop3_reply_unref (reply);
      n_bytewise++;
    }

  g_assert_cmpuint (n_whole, ==, n);
  g_assert_cmpuint (n_bytewise, ==, 0);
  g_assert_true (pop3_parser_finish (whole, NULL));
  g_assert_true (pop3_parser_finish (bytewise, NULL));
}

static void
feed_message (gsize        body_size,
              gsize        line_length,
              gsize        chunk)
{
  g_autoptr(Pop3Parser) parser = pop3_parser_new (POP3_DEFAULT_MAX_LINE,
                                                  POP3_DEFAULT_MAX_RESPONSE);
  g_autoptr(Pop3Reply) reply = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *wire = NULL;
  gsize len = 0;
  gsize body_start;

  /* A body of @body_size bytes (CRLF included) in lines of @line_length. */
  wire = g_malloc (body_size + 16);
  memcpy (wire, "+OK\r\n", 5);
  len = body_start = 5;
  while (len - body_start < body_size)
    {
      gsize n;

      g_assert_cmpuint (body_size - (len - body_start), >=, 2);
      n = MIN (line_length, body_size - (len - body_start) - 2);

      memset (wire + len, 'm', n);
      len += n;
      wire[len++] = '\r';
      wire[len++] = '\n';
    }
  memcpy (wire + len, ".\r\n", 3);
  len += 3;

  pop3_parser_push_expect (parser, POP3_EXPECT_MESSAGE);
  for (gsize offset = 0; offset < len;)
    {
      gsize n = MIN (chunk, len - offset);

      if (!pop3_parser_feed (parser, wire + offset, n, &error))
        break;
      offset += n;
    }
  g_assert_no_error (error);

  reply = pop3_parser_pop_reply (parser);
  g_assert_nonnull (reply);
  g_assert_cmpuint (g_bytes_get_size (reply->body), ==, body_size);
  g_assert_cmpmem (g_bytes_get_data (reply->body, NULL), body_size,
                   wire + body_start, body_size);
  g_assert_true (pop3_parser_finish (parser, NULL));
}

static void
test_big_message_one_buffer (void)
{
  /* The largest message the default cap allows, in one buffer. */
  feed_message (POP3_DEFAULT_MAX_RESPONSE, 76, G_MAXSIZE);
  /* And as one single line. */
  feed_message (POP3_DEFAULT_MAX_RESPONSE, G_MAXSIZE, G_MAXSIZE);
}

static void
test_big_message_bytewise (void)
{
  /* Byte by byte: a rescan of the partial line per byte, or a move of the
   * buffer per line, would be quadratic and time the test out. */
  feed_message (POP3_DEFAULT_MAX_RESPONSE, 76, 1);
  feed_message (8 * 1024 * 1024, G_MAXSIZE, 1);
}

/* Server text for terminals, labels and notifications: controls, whole
 * escape sequences and invisible reordering code points go; letters of
 * every script stay. */
static void
test_text_sanitize (void)
{
  static const struct
  {
    const char *in;
    const char *line;
  } cases[] = {
    { "plain text", "plain text" },
    { "caf\xc3\xa9 \xd8\xb3\xd9\x84\xd8\xa7\xd9\x85",
      "caf\xc3\xa9 \xd8\xb3\xd9\x84\xd8\xa7\xd9\x85" },
    { "\x1b]0;title\x07shown", "shown" },
    { "\x1b]0;title\x1b\\shown", "shown" },
    { "a\x1b[2Jb\xc2\x9b" "31mc", "abc" },
    { "a\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c\xef\xbb\xbf" "b", "ab" },
    { "a\xe2\x80\xae" "b\xe2\x81\xa6" "c", "abc" },
    { "a\xf3\xa0\x80\x81\xf3\xa0\x81\xbf" "b", "ab" },
    { "  tab\tand\r\nbreak  ", "tab and break" },
    { "bad \xff byte", "bad \xef\xbf\xbd byte" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *line = pop3_text_sanitize_line (cases[i].in);

      g_assert_cmpstr (line, ==, cases[i].line);
    }

  {
    g_autofree char *multi =
      pop3_text_sanitize ("one\r\ntwo\tthree\x1b[1m\rfour", -1, FALSE, 100);
    g_autofree char *cut = pop3_text_sanitize ("abcdef", -1, TRUE, 3);

    g_assert_cmpstr (multi, ==, "one\ntwo\tthree\nfour");
    g_assert_cmpstr (cut, ==, "abc");
  }
}

/* Text that sanitizing gives back unchanged is recognised as such, and
 * nothing else is: each case against the sanitizer itself. */
static void
test_text_is_sanitized (void)
{
  static const char * const cases[] = {
    "", "plain text", "caf\xc3\xa9 \xd8\xb3\xd9\x84", " leading",
    "trailing ", "two  spaces", "tab\there", "line\nbreak", "nbsp\xc2\xa0x",
    "esc\x1b[1m", "csi\xc2\x9bx", "rlo\xe2\x80\xae" "x", "bom\xef\xbb\xbf",
    "bad \xff byte", "del\x7f", "abcdef",
    /* ASCII after a character that is not: read without decoding. */
    "\xc3\xa9tab\there", "\xc3\xa9two  spaces", "\xc3\xa9trailing ",
    "\xc3\xa9" "del\x7f", "\xc3\xa9 ok",
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    for (gsize max = 3; max <= 100; max += 97)
      {
        g_autofree char *clean = pop3_text_sanitize (cases[i], -1, TRUE, max);

        g_assert_cmpint (pop3_text_is_sanitized_line (cases[i], max), ==,
                         strcmp (clean, cases[i]) == 0);
      }
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/parser/status/lines", test_status_lines);
  g_test_add_func ("/parser/status/invalid", test_status_invalid);
  g_test_add_func ("/parser/status/made-valid", test_status_made_valid);
  g_test_add_func ("/parser/reply/new", test_reply_new);
  g_test_add_func ("/parser/response-codes/text", test_response_codes);
  g_test_add_func ("/parser/response-codes/replies",
                   test_response_codes_in_replies);
  g_test_add_func ("/parser/sasl/continuations", test_sasl_continuations);
  g_test_add_func ("/parser/framing/empty-multiline", test_empty_multiline);
  g_test_add_func ("/parser/framing/dot-unstuffing", test_dot_unstuffing);
  g_test_add_func ("/parser/framing/line-endings", test_line_endings);
  g_test_add_func ("/parser/framing/binary-body", test_binary_body);
  g_test_add_func ("/parser/framing/err-single-line", test_err_is_single_line);
  g_test_add_func ("/parser/framing/eof-in-reply", test_eof_in_reply);
  g_test_add_func ("/parser/framing/finish", test_finish);
  g_test_add_func ("/parser/framing/buffered", test_buffered_and_expected);
  g_test_add_func ("/parser/framing/pipelined-mixture", test_pipelined_mixture);
  g_test_add_func ("/parser/unsolicited/injection", test_unsolicited);
  g_test_add_func ("/parser/unsolicited/split", test_unsolicited_split);
  g_test_add_func ("/parser/limits/status-line", test_status_line_too_long);
  g_test_add_func ("/parser/limits/listing-line", test_listing_line_too_long);
  g_test_add_func ("/parser/limits/long-body-line", test_long_body_line);
  g_test_add_func ("/parser/limits/response", test_response_too_long);
  g_test_add_func ("/parser/limits/both-bounds", test_both_bounds);
  g_test_add_func ("/parser/limits/huge-line-fails-early",
                   test_huge_line_fails_early);
  g_test_add_func ("/parser/numbers/parse-number", test_parse_number);
  g_test_add_func ("/parser/numbers/stat", test_parse_stat);
  g_test_add_func ("/parser/numbers/stat-error-message",
                   test_stat_error_message);
  g_test_add_func ("/parser/numbers/scan-listing", test_parse_scan_listing);
  g_test_add_func ("/parser/numbers/list-body", test_parse_list_body);
  g_test_add_func ("/parser/numbers/list-index", test_list_index);
  g_test_add_func ("/parser/numbers/list-index/compact", test_list_index_compact);
  g_test_add_func ("/parser/uid/is-valid", test_uid_is_valid);
  g_test_add_func ("/parser/uid/listing", test_parse_uid_listing);
  g_test_add_func ("/parser/text/sanitize", test_text_sanitize);
  g_test_add_func ("/parser/text/is-sanitized", test_text_is_sanitized);
  g_test_add_func ("/parser/uid/uidl-body", test_parse_uidl_body);
  g_test_add_func ("/parser/uid/uidl-body-sound", test_parse_uidl_body_sound);
  g_test_add_func ("/parser/uid/listing-add", test_uid_listing_add);
  g_test_add_func ("/parser/uid/listing-rises", test_uid_listing_rises);
  g_test_add_func ("/parser/capa/parse", test_parse_capa);
  g_test_add_func ("/parser/capa/hostile", test_parse_capa_hostile);
  g_test_add_func ("/parser/apop/timestamp", test_apop_timestamp);
  g_test_add_func ("/parser/apop/million-brackets",
                   test_apop_timestamp_million);
  g_test_add_func ("/parser/linear/many-top-replies", test_many_top_replies);
  g_test_add_func ("/parser/linear/big-message", test_big_message_one_buffer);
  g_test_add_func ("/parser/linear/big-message-bytewise",
                   test_big_message_bytewise);

  status = g_test_run ();

  /* LeakSanitizer checks at exit: with no worker thread left. */
  popcheck_test_quiesce_threads ();

  return status;
}
