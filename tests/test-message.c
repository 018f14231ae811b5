/* test-message.c: decoding message summaries from what TOP returns
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "popcheck-test-message"

#include "config.h"

#include <fcntl.h>
#include <string.h>

#include <glib/gstdio.h>

#include "pop3-parser.h"
#include "popcheck-message.h"
#include "popcheck-message-index.h"
#include "popcheck-test-util.h"

/* TOP gives CRLF lines; the tests are written with \n. */
static PopcheckMessage *
message_from_len (const char *text,
                  gsize       len,
                  guint       preview_lines)
{
  g_autoptr(GByteArray) crlf = g_byte_array_new ();
  g_autoptr(GBytes) bytes = NULL;

  for (gsize i = 0; i < len; i++)
    {
      if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r'))
        g_byte_array_append (crlf, (const guint8 *) "\r", 1);
      g_byte_array_append (crlf, (const guint8 *) &text[i], 1);
    }
  bytes = g_byte_array_free_to_bytes (g_steal_pointer (&crlf));

  return popcheck_message_new_from_top ("uid-1", 1234, 1, bytes, preview_lines);
}

static PopcheckMessage *
message_from (const char *text,
              guint       preview_lines)
{
  return message_from_len (text, strlen (text), preview_lines);
}

static PopcheckMessage *
message_with_subject (const char *subject)
{
  g_autofree char *text = g_strdup_printf ("From: a@example.org\n"
                                           "Subject: %s\n"
                                           "\n"
                                           "body\n", subject);

  return message_from (text, 5);
}

/* Everything a summary keeps must be safe to print on a terminal. */
static void
assert_clean (const char *text,
              gboolean    single_line)
{
  const char *p;

  g_assert_nonnull (text);
  g_assert_true (g_utf8_validate (text, -1, NULL));
  for (p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (single_line)
        g_assert_true (c >= 0x20);
      else
        g_assert_true (c >= 0x20 || c == '\n' || c == '\t');
      g_assert_false (c >= 0x7F && c <= 0x9F);
      g_assert_false (c == 0x202E);
    }
}

/* The details name the same attachments as the names, each with a type
 * that is one clean line. */
static void
assert_details_clean (PopcheckMessage *message)
{
  const char * const *names = popcheck_message_get_attachments (message);
  const PopcheckAttachment *details;
  guint n = 0;

  details = popcheck_message_get_attachment_details (message, &n);
  g_assert_cmpuint (n, ==, g_strv_length ((char **) names));
  for (guint i = 0; i < n; i++)
    {
      g_assert_cmpstr (details[i].name, ==, names[i]);
      assert_clean (details[i].mime_type, TRUE);
      g_assert_cmpstr (details[i].mime_type, !=, "");
    }
}

static void
assert_message_clean (PopcheckMessage *message)
{
  const char * const *attachments = popcheck_message_get_attachments (message);

  assert_clean (popcheck_message_get_subject (message), TRUE);
  assert_clean (popcheck_message_get_from (message), TRUE);
  assert_clean (popcheck_message_get_from_name (message), TRUE);
  assert_clean (popcheck_message_get_from_address (message), TRUE);
  assert_clean (popcheck_message_get_to (message), TRUE);
  assert_clean (popcheck_message_get_cc (message), TRUE);
  assert_clean (popcheck_message_get_message_id (message), TRUE);
  assert_clean (popcheck_message_get_preview (message), FALSE);
  g_assert_nonnull (attachments);
  for (guint i = 0; attachments[i] != NULL; i++)
    assert_clean (attachments[i], TRUE);
  assert_details_clean (message);
}

/* Headers ---------------------------------------------------------------- */

static void
test_subject_encoded_words (void)
{
  static const struct {
    const char *raw;
    const char *decoded;
  } cases[] = {
    { "=?UTF-8?B?w4RwZmVsIHVuZCBCaXJuZW4=?=", "Äpfel und Birnen" },
    { "=?utf-8?q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=", "Grüße aus Köln" },
    { "=?ISO-8859-1?Q?Gr=FC=DFe?=", "Grüße" },
    { "=?iso-8859-15?Q?Preis:_10_=A4?=", "Preis: 10 €" },
    { "=?GB2312?B?xOO6w8rAvec=?=", "你好世界" },
    /* Adjacent encoded words: the space between them is not text. */
    { "=?UTF-8?B?SGVsbG8g?= =?UTF-8?B?V29ybGQ=?=", "Hello World" },
    /* Folded across lines. */
    { "=?UTF-8?Q?Hello_?=\n =?UTF-8?Q?World?=", "Hello World" },
    /* One character split across two encoded words. */
    { "=?UTF-8?Q?J=C3?= =?UTF-8?Q?=BCrgen?=", "Jürgen" },
    /* Mixed with plain text. */
    { "Re: =?UTF-8?B?SsO8cmdlbg==?= says hi", "Re: Jürgen says hi" },
    /* Plain ASCII, folded. */
    { "A long\n\tsubject", "A long subject" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(PopcheckMessage) message = message_with_subject (cases[i].raw);

      g_test_message ("subject %u: %s", i, cases[i].raw);
      g_assert_cmpstr (popcheck_message_get_subject (message), ==,
                       cases[i].decoded);
      assert_message_clean (message);
    }
}

static void
test_subject_broken_encoded_words (void)
{
  static const struct {
    const char *raw;
    const char *contains;
  } cases[] = {
    /* Never terminated: left as text. */
    { "=?UTF-8?Q?unterminated", "unterminated" },
    /* A charset nobody knows. */
    { "=?x-no-such-charset?Q?abc?=", "abc" },
    /* Not base64 at all. */
    { "=?UTF-8?B?!!!not-base64!!!?= tail", "tail" },
    /* Claims UTF-8, carries Latin-1. */
    { "=?UTF-8?Q?Gr=FC=DFe?= end", "end" },
    /* An unknown encoding letter. */
    { "=?UTF-8?X?abc?= rest", "rest" },
    /* Empty encoded text. */
    { "=?UTF-8?B?" "?= empty", "empty" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(PopcheckMessage) message = message_with_subject (cases[i].raw);

      g_test_message ("subject %u: %s", i, cases[i].raw);
      g_assert_nonnull (strstr (popcheck_message_get_subject (message),
                                cases[i].contains));
      assert_message_clean (message);
    }
}

/* Whether glibc's conversion module in file (as "KOI8-R.so") is loaded. */
static gboolean
gconv_module_loaded (const char *file)
{
  g_autofree char *maps = NULL;
  g_autofree char *needle = g_strconcat ("/gconv/", file, "\n", NULL);

  g_assert_true (g_file_get_contents ("/proc/self/maps", &maps, NULL, NULL));
  return strstr (maps, needle) != NULL;
}

/* Mail in several charsets, one after the other: each decodes, and each
 * charset's conversion module stays loaded.  glibc unloads a module that
 * no converter uses once two others have been let go, and GMime lets a
 * converter go after each encoded word, so without a converter kept
 * open each message would load its module again. */
static void
test_charsets_stay_loaded (void)
{
  const struct {
    const char *word;
    const char *decoded;
    const char *module;
  } mails[] = {
    { "=?koi8-r?B?8NLJ18XU?=", "Привет", "KOI8-R.so" },
    { "=?ISO-2022-JP?B?GyRCOzNFRBsoQg==?=", "山田", "ISO-2022-JP.so" },
    { "=?koi8-u*uk?B?8NLJ16bU?=", "Привіт", "KOI8-U.so" },
    { "=?iso-8859-5?B?v+DY0tXi?=", "Привет", "ISO8859-5.so" },
    { "=?windows-1251?B?z/Do4uXy?=", "Привет", "CP1251.so" },
  };

  for (guint round = 0; round < 2; round++)
    for (guint i = 0; i < G_N_ELEMENTS (mails); i++)
      {
        g_autofree char *text =
          g_strdup_printf ("From: %s <a@example.org>\r\nSubject: %s\r\n\r\nHi\r\n",
                           mails[i].word, mails[i].word);
        g_autoptr(GBytes) top = g_bytes_new (text, strlen (text));
        g_autoptr(PopcheckMessage) message =
          popcheck_message_new_from_top ("uid", 100, 1, top, 5);

        g_assert_cmpstr (popcheck_message_get_subject (message), ==, mails[i].decoded);
      }

  for (guint i = 0; i < G_N_ELEMENTS (mails); i++)
    {
      g_test_message ("%s", mails[i].module);
      g_assert_true (gconv_module_loaded (mails[i].module));
    }

  /* Mail may name any number of charsets, known or not: what is kept is
   * bounded, and the rest still decodes. */
  {
    g_autoptr(GString) text = g_string_new ("Subject: ");
    g_autoptr(GBytes) top = NULL;
    g_autoptr(PopcheckMessage) message = NULL;

    for (guint i = 0; i < 200; i++)
      g_string_append_printf (text, "=?x-unknown-%u?B?QQ==?= =?%s-%u?B?QQ==?= ",
                              i, i % 2 ? "windows-1251" : "koi8-r", i);
    g_string_append_printf (text, "%s\r\n\r\nHi\r\n", mails[0].word);
    top = g_bytes_new (text->str, text->len);
    message = popcheck_message_new_from_top ("uid", 100, 1, top, 5);
    g_assert_true (g_str_has_suffix (popcheck_message_get_subject (message), "Привет"));
  }
}

static void
test_raw_8bit_headers (void)
{
  g_autoptr(PopcheckMessage) utf8 = NULL;
  g_autoptr(PopcheckMessage) latin1 = NULL;
  g_autoptr(PopcheckMessage) garbage = NULL;

  utf8 = message_from ("From: Jürgen Müller <jm@example.org>\n"
                       "Subject: Grüße aus Köln\n"
                       "\n"
                       "body\n", 5);
  g_assert_cmpstr (popcheck_message_get_subject (utf8), ==, "Grüße aus Köln");
  g_assert_cmpstr (popcheck_message_get_from_name (utf8), ==, "Jürgen Müller");

  latin1 = message_from ("From: J\xfcrgen M\xfcller <jm@example.org>\n"
                         "Subject: Gr\xfc\xdf" "e aus K\xf6ln\n"
                         "\n"
                         "body\n", 5);
  g_assert_cmpstr (popcheck_message_get_subject (latin1), ==, "Grüße aus Köln");
  g_assert_cmpstr (popcheck_message_get_from_name (latin1), ==, "Jürgen Müller");
  g_assert_cmpstr (popcheck_message_get_from_address (latin1), ==,
                   "jm@example.org");

  /* Bytes that are no charset at all still come out as valid UTF-8. */
  garbage = message_from ("Subject: \xff\xfe\x80\x81 x \xc3\n"
                          "From: \xf0\x80\x80\x80 <a@b.c>\n"
                          "\n"
                          "\xff\xfe body\n", 5);
  assert_message_clean (garbage);
  g_assert_nonnull (strstr (popcheck_message_get_subject (garbage), "x"));
}

static void
test_addresses (void)
{
  g_autoptr(PopcheckMessage) message = NULL;
  g_autoptr(PopcheckMessage) quoted = NULL;
  g_autoptr(PopcheckMessage) group_from = NULL;
  g_autoptr(PopcheckMessage) bare = NULL;
  g_autoptr(PopcheckMessage) broken = NULL;

  message = message_from ("From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <jm@example.org>\n"
                          "To: Team: Alice <a@example.org>, \"Bob B.\" <b@example.org>;,\n"
                          " carol@example.org, undisclosed-recipients:;\n"
                          "Subject: hi\n"
                          "\n"
                          "body\n", 5);
  g_assert_cmpstr (popcheck_message_get_from (message), ==,
                   "Jürgen Müller <jm@example.org>");
  g_assert_cmpstr (popcheck_message_get_from_name (message), ==, "Jürgen Müller");
  g_assert_cmpstr (popcheck_message_get_from_address (message), ==,
                   "jm@example.org");
  g_assert_cmpstr (popcheck_message_get_to (message), ==,
                   "Alice <a@example.org>, Bob B. <b@example.org>, carol@example.org");

  /* A person reads the name, not the quoting the header needed. */
  quoted = message_from ("From: \"Doe, John \\\"JD\\\"\" <john@example.org>\n\nx\n", 5);
  g_assert_cmpstr (popcheck_message_get_from (quoted), ==,
                   "Doe, John \"JD\" <john@example.org>");
  g_assert_cmpstr (popcheck_message_get_from_name (quoted), ==,
                   "Doe, John \"JD\"");

  group_from = message_from ("From: Senders: x@example.org, y@example.org;\n\nx\n", 5);
  g_assert_cmpstr (popcheck_message_get_from_address (group_from), ==,
                   "x@example.org");
  g_assert_cmpstr (popcheck_message_get_from (group_from), ==,
                   "x@example.org, y@example.org");

  bare = message_from ("From: jm@example.org\n\nx\n", 5);
  g_assert_cmpstr (popcheck_message_get_from (bare), ==, "jm@example.org");
  g_assert_cmpstr (popcheck_message_get_from_name (bare), ==, "");
  g_assert_cmpstr (popcheck_message_get_from_address (bare), ==,
                   "jm@example.org");

  /* Not an address at all: still shown, as text. */
  broken = message_from ("From: <<<>>> \"unbalanced\n\nx\n", 5);
  assert_message_clean (broken);
}

static void
test_dates (void)
{
  static const struct {
    const char *raw;
    gint64      unix_utc;  /* 0: no date */
  } cases[] = {
    { "Tue, 1 Jul 2003 10:52:37 +0200", 1057049557 },
    { "Tue, 01 Jul 2003 10:52:37 +0200 (CEST)", 1057049557 },
    /* No day of the week, two-digit year, named zone. */
    { "1 Jul 03 08:52:37 GMT", 1057049557 },
    { "Tue,  1 Jul 2003 08:52:37 -0000", 1057049557 },
    /* A wrong day of the week does not change the date. */
    { "Fri, 1 Jul 2003 08:52:37 +0000", 1057049557 },
  };
  static const char * const invalid[] = {
    "not a date",
    "",
    "Tue, 99 Foo 2003 99:99:99 +9999",
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = g_strdup_printf ("Date: %s\nSubject: x\n\nbody\n",
                                               cases[i].raw);
      g_autoptr(PopcheckMessage) message = message_from (text, 5);
      GDateTime *date = popcheck_message_get_date (message);

      g_test_message ("date %u: %s", i, cases[i].raw);
      g_assert_nonnull (date);
      g_assert_cmpint (g_date_time_to_unix (date), ==, cases[i].unix_utc);
    }

  for (guint i = 0; i < G_N_ELEMENTS (invalid); i++)
    {
      g_autofree char *text = g_strdup_printf ("Date: %s\nSubject: x\n\nbody\n",
                                               invalid[i]);
      g_autoptr(PopcheckMessage) message = message_from (text, 5);

      g_test_message ("invalid date %u: %s", i, invalid[i]);
      g_assert_null (popcheck_message_get_date (message));
      g_assert_cmpstr (popcheck_message_get_subject (message), ==, "x");
    }

  {
    g_autoptr(PopcheckMessage) message = message_from ("Subject: x\n\nbody\n", 5);

    g_assert_null (popcheck_message_get_date (message));
  }
}

static void
test_other_headers (void)
{
  g_autoptr(PopcheckMessage) message = NULL;
  g_autoptr(PopcheckMessage) empty = NULL;
  g_autoptr(PopcheckMessage) nothing = NULL;
  g_autoptr(GDateTime) date = NULL;
  g_auto(GStrv) attachments = NULL;
  g_autofree char *uid = NULL;
  guint64 size = 0;

  message = message_from ("Message-ID: <abc.123@example.org>\n"
                          "From: a@example.org\n"
                          "Date: Tue, 1 Jul 2003 10:52:37 +0200\n"
                          "\n"
                          "body\n", 5);
  g_assert_cmpstr (popcheck_message_get_message_id (message), ==,
                   "abc.123@example.org");
  /* No Subject: empty, the UI says "(no subject)". */
  g_assert_cmpstr (popcheck_message_get_subject (message), ==, "");
  g_assert_cmpstr (popcheck_message_get_uid (message), ==, "uid-1");
  g_assert_cmpuint (popcheck_message_get_size (message), ==, 1234);
  g_assert_cmpuint (popcheck_message_get_msg_number (message), ==, 1);
  g_assert_false (popcheck_message_get_is_new (message));

  /* The same through properties. */
  g_object_get (message, "uid", &uid, "size", &size, "date", &date,
                "attachments", &attachments, NULL);
  g_assert_cmpstr (uid, ==, "uid-1");
  g_assert_cmpuint (size, ==, 1234);
  g_assert_nonnull (date);
  g_assert_nonnull (attachments);
  g_assert_cmpuint (g_strv_length (attachments), ==, 0);

  empty = popcheck_message_new_from_top ("u", 0, 0, NULL, 20);
  g_assert_cmpstr (popcheck_message_get_subject (empty), ==, "");
  g_assert_cmpstr (popcheck_message_get_from (empty), ==, "");
  g_assert_cmpstr (popcheck_message_get_preview (empty), ==, "");
  g_assert_null (popcheck_message_get_date (empty));
  assert_message_clean (empty);

  nothing = message_from ("", 20);
  assert_message_clean (nothing);
}

static void
count_notify_cb (GObject    *object,
                 GParamSpec *pspec,
                 guint      *count)
{
  (*count)++;
}

static void
test_is_new_notify (void)
{
  g_autoptr(PopcheckMessage) message = message_from ("Subject: x\n\nbody\n", 5);
  guint notified = 0;

  g_signal_connect (message, "notify::is-new", G_CALLBACK (count_notify_cb),
                    &notified);

  popcheck_message_set_is_new (message, TRUE);
  popcheck_message_set_is_new (message, TRUE);
  g_object_set (message, "is-new", FALSE, NULL);
  g_assert_cmpuint (notified, ==, 2);
  g_assert_false (popcheck_message_get_is_new (message));

  popcheck_message_set_msg_number (message, 7);
  g_assert_cmpuint (popcheck_message_get_msg_number (message), ==, 7);
}

/* Previews --------------------------------------------------------------- */

static void
test_preview_plain (void)
{
  g_autoptr(PopcheckMessage) message = NULL;
  g_autoptr(PopcheckMessage) none = NULL;

  message = message_from ("Subject: x\n"
                          "\n"
                          "\n"
                          "First line\n"
                          "Second line   \n"
                          "\n"
                          "\n"
                          "\n"
                          "Third line\n"
                          "Fourth line\n"
                          "Fifth line\n", 4);
  /* Blank runs count once; trailing white space goes. */
  g_assert_cmpstr (popcheck_message_get_preview (message), ==,
                   "First line\nSecond line\n\nThird line");

  none = message_from ("Subject: x\n\nSome text\n", 0);
  g_assert_cmpstr (popcheck_message_get_preview (none), ==, "");
}

static void
test_preview_quoted_printable (void)
{
  g_autoptr(PopcheckMessage) message = NULL;

  message = message_from ("Subject: x\n"
                          "MIME-Version: 1.0\n"
                          "Content-Type: text/plain; charset=iso-8859-1\n"
                          "Content-Transfer-Encoding: quoted-printable\n"
                          "\n"
                          "Gr=FC=DFe aus M=FCn=\n"
                          "chen\n"
                          "a=3Db\n", 10);
  g_assert_cmpstr (popcheck_message_get_preview (message), ==,
                   "Grüße aus München\na=b");
}

static void
test_preview_base64 (void)
{
  g_autoptr(PopcheckMessage) message = NULL;
  g_autoptr(PopcheckMessage) no_charset = NULL;

  message = message_from ("Subject: x\n"
                          "MIME-Version: 1.0\n"
                          "Content-Type: text/plain; charset=\"utf-8\"\n"
                          "Content-Transfer-Encoding: base64\n"
                          "\n"
                          "R3LDvMOfZSBhdXMgZGVtIFPDvGRlbgpaZWlsZSB6d2VpCg==\n", 10);
  g_assert_cmpstr (popcheck_message_get_preview (message), ==,
                   "Grüße aus dem Süden\nZeile zwei");

  /* 8-bit Latin-1 body without a charset. */
  no_charset = message_from ("Subject: x\n"
                             "\n"
                             "Gr\xfc\xdf" "e\n", 10);
  g_assert_cmpstr (popcheck_message_get_preview (no_charset), ==, "Grüße");
}

static void
test_preview_charset (void)
{
  g_autoptr(PopcheckMessage) gb = NULL;
  g_autoptr(PopcheckMessage) unknown = NULL;

  gb = message_from ("Subject: x\n"
                     "Content-Type: text/plain; charset=gb2312\n"
                     "Content-Transfer-Encoding: base64\n"
                     "\n"
                     "xOO6w8rAvec=\n", 10);
  g_assert_cmpstr (popcheck_message_get_preview (gb), ==, "你好世界");

  unknown = message_from ("Subject: x\n"
                          "Content-Type: text/plain; charset=x-no-such-charset\n"
                          "\n"
                          "plain words \xe9\n", 10);
  g_assert_nonnull (strstr (popcheck_message_get_preview (unknown), "plain words"));
  assert_message_clean (unknown);
}

static void
test_preview_alternative (void)
{
  g_autoptr(PopcheckMessage) message = NULL;

  message = message_from ("Subject: x\n"
                          "MIME-Version: 1.0\n"
                          "Content-Type: multipart/alternative; boundary=\"b1\"\n"
                          "\n"
                          "This is a multi-part message in MIME format.\n"
                          "--b1\n"
                          "Content-Type: text/html; charset=utf-8\n"
                          "\n"
                          "<p>The <b>HTML</b> version</p>\n"
                          "--b1\n"
                          "Content-Type: text/plain; charset=utf-8\n"
                          "\n"
                          "The plain version\n"
                          "--b1--\n", 10);
  g_assert_cmpstr (popcheck_message_get_preview (message), ==,
                   "The plain version");
}

static void
test_preview_html (void)
{
  g_autoptr(PopcheckMessage) message = NULL;

  message = message_from ("Subject: x\n"
                          "MIME-Version: 1.0\n"
                          "Content-Type: text/html; charset=utf-8\n"
                          "\n"
                          "<!DOCTYPE html><html><head><title>Title</title>\n"
                          "<style>p { color: red; }</style>\n"
                          "<script type=\"text/javascript\">alert('<p>x</p>');</script>\n"
                          "</head><body><!-- a <p> comment -->\n"
                          "<p>Hello&nbsp;&amp;   welcome,\n"
                          "  friend</p><div>Line&#32;two &lt;b&gt; &#x263A;</div>\n"
                          "<ul><li>One</li><li>Two</li></ul>\n"
                          "<table><tr><td>a</td><td>b</td></tr></table>\n"
                          "Fish &amp Chips, 1 < 2<br>end <a href=\"x\" title=\"a>b\">link</a>\n"
                          "&#0; &#xD800; &#99999999999; &bogus;\n"
                          "</body></html>\n", 20);
  g_assert_cmpstr (popcheck_message_get_preview (message), ==,
                   "Hello & welcome, friend\n"
                   "Line two <b> ☺\n"
                   "One\n"
                   "Two\n"
                   "a b\n"
                   "Fish &amp Chips, 1 < 2\n"
                   "end link \xef\xbf\xbd \xef\xbf\xbd \xef\xbf\xbd &bogus;");
}

typedef struct
{
  const char *html;
  const char *text;
} HtmlCase;

/* Each HTML reduced to exactly its text. */
static void
assert_html_cases (const HtmlCase *cases,
                   gsize           n_cases)
{
  for (gsize i = 0; i < n_cases; i++)
    {
      g_autofree char *text = popcheck_message_html_to_text (cases[i].html, -1);

      g_test_message ("html %" G_GSIZE_FORMAT ": %s", i, cases[i].html);
      g_assert_cmpstr (text, ==, cases[i].text);
    }
}

static void
test_html_to_text_edges (void)
{
  static const HtmlCase cases[] = {
    { "", "" },
    { "<", "<" },
    { "<p", "" },
    { "<script>never closed", "" },
    { "a<br/>b<BR>c", "a\nb\nc" },
    { "<STYLE>x</style>y", "y" },
    { "&", "&" },
    { "&#", "&#" },
    { "&#x;", "&#x;" },
    { "&amp;lt;", "&lt;" },
    { "<!-- never closed", "" },
  };

  assert_html_cases (cases, G_N_ELEMENTS (cases));
}

static void
test_preview_truncated_multipart (void)
{
  g_autoptr(PopcheckMessage) message = NULL;
  const char * const *attachments;

  /* TOP n 12: the attachment is cut in the middle of its base64 and the
   * closing boundary never comes. */
  message = message_from ("From: Alice <a@example.org>\n"
                          "Subject: =?UTF-8?Q?Bericht_f=C3=BCr_Mai?=\n"
                          "MIME-Version: 1.0\n"
                          "Content-Type: multipart/mixed; boundary=\"==outer\"\n"
                          "\n"
                          "--==outer\n"
                          "Content-Type: multipart/alternative; boundary=\"==inner\"\n"
                          "\n"
                          "--==inner\n"
                          "Content-Type: text/plain; charset=utf-8\n"
                          "Content-Transfer-Encoding: quoted-printable\n"
                          "\n"
                          "Anbei der Bericht f=C3=BCr Mai.\n"
                          "Gru=C3=9F, Alice\n"
                          "--==inner\n"
                          "Content-Type: text/html; charset=utf-8\n"
                          "\n"
                          "<p>Anbei</p>\n"
                          "--==inner--\n"
                          "--==outer\n"
                          "Content-Type: application/pdf; name=\"bericht.pdf\"\n"
                          "Content-Disposition: attachment; filename=\"bericht.pdf\"\n"
                          "Content-Transfer-Encoding: base64\n"
                          "\n"
                          "JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFIvRmlsdGVyIC9GbGF0ZURl\n"
                          "JVBERi0xLj", 10);
  g_assert_cmpstr (popcheck_message_get_subject (message), ==, "Bericht für Mai");
  g_assert_cmpstr (popcheck_message_get_from (message), ==,
                   "Alice <a@example.org>");
  g_assert_cmpstr (popcheck_message_get_preview (message), ==,
                   "Anbei der Bericht für Mai.\nGruß, Alice");
  attachments = popcheck_message_get_attachments (message);
  g_assert_cmpuint (g_strv_length ((char **) attachments), ==, 1);
  g_assert_cmpstr (attachments[0], ==, "bericht.pdf");
}

static void
test_preview_cut_in_headers (void)
{
  g_autoptr(PopcheckMessage) headers_only = NULL;
  g_autoptr(PopcheckMessage) cut_part = NULL;

  /* TOP n 0 of a multipart: headers, no body at all. */
  headers_only = message_from ("Subject: only headers\n"
                               "Content-Type: multipart/mixed; boundary=x\n"
                               "\n", 10);
  g_assert_cmpstr (popcheck_message_get_subject (headers_only), ==,
                   "only headers");
  g_assert_cmpstr (popcheck_message_get_preview (headers_only), ==, "");

  /* Cut inside the headers of the first part. */
  cut_part = message_from ("Subject: cut\n"
                           "Content-Type: multipart/mixed; boundary=x\n"
                           "\n"
                           "--x\n"
                           "Content-Type: text/pl", 10);
  g_assert_cmpstr (popcheck_message_get_subject (cut_part), ==, "cut");
  assert_message_clean (cut_part);
}

static void
test_attachment_names (void)
{
  g_autoptr(PopcheckMessage) message = NULL;
  const char * const *attachments;

  message = message_from ("Subject: files\n"
                          "MIME-Version: 1.0\n"
                          "Content-Type: multipart/mixed; boundary=b\n"
                          "\n"
                          "--b\n"
                          "Content-Type: text/plain\n"
                          "\n"
                          "See the files.\n"
                          "--b\n"
                          "Content-Type: application/pdf\n"
                          "Content-Disposition: attachment; filename=\"report.pdf\"\n"
                          "\n"
                          "x\n"
                          "--b\n"
                          "Content-Type: image/png; name=\"=?UTF-8?B?SsO8cmdlbg==?=.png\"\n"
                          "\n"
                          "x\n"
                          "--b\n"
                          "Content-Type: text/plain\n"
                          "Content-Disposition: attachment; filename*=UTF-8''%C3%BCbersicht.txt\n"
                          "\n"
                          "not the preview\n"
                          "--b\n"
                          "Content-Type: application/octet-stream\n"
                          "Content-Disposition: attachment; filename=\"../../.bashrc\"\n"
                          "\n"
                          "x\n"
                          "--b\n"
                          "Content-Type: application/octet-stream\n"
                          "Content-Disposition: attachment; filename=\"evil\x1b[2J\\\\name.exe\"\n"
                          "\n"
                          "x\n"
                          "--b\n"
                          "Content-Type: application/octet-stream\n"
                          "Content-Disposition: attachment; filename=\"..\"\n"
                          "\n"
                          "x\n"
                          "--b\n"
                          "Content-Type: application/octet-stream\n"
                          "Content-Disposition: attachment; filename=\"dir/ spaced .txt \"\n"
                          "\n"
                          "x\n"
                          "--b--\n", 10);

  g_assert_cmpstr (popcheck_message_get_preview (message), ==, "See the files.");
  attachments = popcheck_message_get_attachments (message);
  g_assert_cmpuint (g_strv_length ((char **) attachments), ==, 6);
  g_assert_cmpstr (attachments[0], ==, "report.pdf");
  g_assert_cmpstr (attachments[1], ==, "Jürgen.png");
  g_assert_cmpstr (attachments[2], ==, "übersicht.txt");
  g_assert_cmpstr (attachments[3], ==, ".bashrc");
  g_assert_cmpstr (attachments[4], ==, "name.exe");
  g_assert_cmpstr (attachments[5], ==, "spaced .txt");
}

/* Hostile text ----------------------------------------------------------- */

static void
test_control_characters_stripped (void)
{
  g_autoptr(PopcheckMessage) message = NULL;
  g_autoptr(PopcheckMessage) encoded = NULL;
  static const char text[] =
    "From: \"Evil\x1b[31m Corp\x07\" <e@example.org>\n"
    "Subject: Hello \x1b[31mred\x1b[0m world\x07\x08\x7f \xc2\x9b" "2J \xe2\x80\xae" "txt.exe\n"
    "\n"
    "Line \x1b]0;window title\x07one\x1b[2J\n"
    "Tab\there\rnext\x0c\n";

  message = message_from_len (text, sizeof text - 1, 10);
  g_assert_cmpstr (popcheck_message_get_subject (message), ==,
                   "Hello red world txt.exe");
  g_assert_cmpstr (popcheck_message_get_from_name (message), ==, "Evil Corp");
  g_assert_cmpstr (popcheck_message_get_preview (message), ==,
                   "Line one\nTab\there\nnext");
  assert_message_clean (message);

  /* Escapes hidden in an encoded word are decoded first, then dropped. */
  encoded = message_with_subject ("=?UTF-8?B?G10wO3B3bmVkB0hpIBtbMW10aGVyZQ==?=");
  g_assert_cmpstr (popcheck_message_get_subject (encoded), ==, "Hi there");
}

static void
test_nul_in_body (void)
{
  g_autoptr(PopcheckMessage) message = NULL;
  static const char text[] = "Subject: nul\n\nbefore\0after\nnext\n";

  message = message_from_len (text, sizeof text - 1, 10);
  g_assert_cmpstr (popcheck_message_get_subject (message), ==, "nul");
  g_assert_true (g_str_has_prefix (popcheck_message_get_preview (message),
                                   "before"));
  assert_message_clean (message);
}

static void
test_lengths_capped (void)
{
  g_autoptr(GString) text = g_string_new ("Subject: ");
  g_autoptr(PopcheckMessage) message = NULL;

  for (guint i = 0; i < 5000; i++)
    g_string_append (text, "ü");
  g_string_append (text, "\nFrom: ");
  for (guint i = 0; i < 3000; i++)
    g_string_append_printf (text, "user%u@example.org, ", i);
  g_string_append (text, "\n\n");
  for (guint i = 0; i < 200000; i++)
    g_string_append_c (text, 'a' + i % 26);
  g_string_append (text, "\n");

  message = message_from (text->str, 20);
  g_assert_cmpuint (g_utf8_strlen (popcheck_message_get_subject (message), -1),
                    <=, POPCHECK_MESSAGE_MAX_FIELD);
  g_assert_cmpuint (g_utf8_strlen (popcheck_message_get_subject (message), -1),
                    >, 900);
  g_assert_cmpuint (g_utf8_strlen (popcheck_message_get_from (message), -1),
                    <=, POPCHECK_MESSAGE_MAX_FIELD);
  g_assert_cmpuint (strlen (popcheck_message_get_preview (message)), <=,
                    POPCHECK_MESSAGE_MAX_PREVIEW);
  g_assert_cmpuint (strlen (popcheck_message_get_preview (message)), >, 1000);
}

static void
test_random_input (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (20240501);
  static const char * const pieces[] = {
    "Subject: ", "From: ", "To: ", "Date: ", "Content-Type: ",
    "multipart/mixed; boundary=q", "text/html", "\n", "\n\n", "--q\n",
    "--q--\n", "=?UTF-8?B?", "=?GB2312?Q?=C4", "?=", "<p>", "&#x", ";",
    "Content-Transfer-Encoding: base64\n", "quoted-printable", "=\n",
    "\x1b[", "\xff", "\xc3", "<", ">", "\"", ",", ":", "@",
  };

  for (guint round = 0; round < 300; round++)
    {
      g_autoptr(GString) text = g_string_new (NULL);
      g_autoptr(PopcheckMessage) message = NULL;
      guint n = g_rand_int_range (rand, 0, 60);

      for (guint i = 0; i < n; i++)
        {
          if (g_rand_boolean (rand))
            g_string_append (text, pieces[g_rand_int_range (rand, 0,
                                                            G_N_ELEMENTS (pieces))]);
          else
            g_string_append_c (text, (char) g_rand_int_range (rand, 0, 256));
        }

      message = message_from_len (text->str, text->len,
                                  g_rand_int_range (rand, 0, 30));
      assert_message_clean (message);
    }
}

/* Fingerprints ----------------------------------------------------------- */

static char *
fingerprint (const char *headers,
             guint64     size)
{
  g_autoptr(GBytes) bytes = g_bytes_new (headers, strlen (headers));

  return popcheck_message_fingerprint_uid (bytes, size);
}

static void
test_fingerprint (void)
{
  static const char base[] =
    "Received: from x\r\n"
    "Message-ID: <1@example.org>\r\n"
    "Date: Tue, 1 Jul 2003 10:52:37 +0200\r\n"
    "From: Alice <a@example.org>\r\n"
    "Subject: Hello\r\n"
    "\r\n";
  g_autofree char *a = fingerprint (base, 100);
  g_autofree char *again = fingerprint (base, 100);
  g_autofree char *refolded = NULL;
  g_autofree char *other_size = fingerprint (base, 101);
  g_autofree char *other_subject = NULL;
  g_autofree char *moved = NULL;
  g_autofree char *empty = NULL;
  g_autofree char *null = popcheck_message_fingerprint_uid (NULL, 100);
  g_autofree char *body_ignored = NULL;

  refolded = fingerprint ("message-id:   <1@example.org>\n"
                          "DATE: Tue, 1 Jul 2003\n"
                          "\t10:52:37 +0200\n"
                          "From: Alice\n"
                          "  <a@example.org>\n"
                          "Subject: Hello\n"
                          "X-Other: y\n", 100);
  other_subject = fingerprint ("Message-ID: <1@example.org>\r\n"
                               "Date: Tue, 1 Jul 2003 10:52:37 +0200\r\n"
                               "From: Alice <a@example.org>\r\n"
                               "Subject: Hello!\r\n\r\n", 100);
  /* The same text, moved to another header. */
  moved = fingerprint ("Message-ID: <1@example.org>\r\n"
                       "Date: Tue, 1 Jul 2003 10:52:37 +0200\r\n"
                       "Subject: Alice <a@example.org>\r\n"
                       "From: Hello\r\n\r\n", 100);
  empty = fingerprint ("", 100);
  body_ignored = fingerprint ("Message-ID: <1@example.org>\r\n"
                              "Date: Tue, 1 Jul 2003 10:52:37 +0200\r\n"
                              "From: Alice <a@example.org>\r\n"
                              "Subject: Hello\r\n"
                              "\r\n"
                              "Subject: not a header\r\n", 100);

  g_assert_true (g_str_has_prefix (a, "fp-"));
  g_assert_cmpuint (strlen (a), ==, 3 + 64);
  g_assert_true (pop3_uid_is_valid (a));

  g_assert_cmpstr (a, ==, again);
  g_assert_cmpstr (a, ==, refolded);
  g_assert_cmpstr (a, ==, body_ignored);
  g_assert_cmpstr (a, !=, other_size);
  g_assert_cmpstr (a, !=, other_subject);
  g_assert_cmpstr (a, !=, moved);
  g_assert_cmpstr (a, !=, empty);
  g_assert_cmpstr (empty, ==, null);
  g_assert_true (pop3_uid_is_valid (empty));
}

/* The cache -------------------------------------------------------------- */

/* A message without headers reads as empty everywhere, though messages
 * without headers share their empty details (see share_no_details ()). */
static void
assert_no_headers (PopcheckMessage *message)
{
  const char * const *names = popcheck_message_get_attachments (message);
  guint n_attachments = 1;

  g_assert_false (popcheck_message_get_headers_known (message));
  g_assert_cmpstr (popcheck_message_get_from (message), ==, "");
  g_assert_cmpstr (popcheck_message_get_from_name (message), ==, "");
  g_assert_cmpstr (popcheck_message_get_from_address (message), ==, "");
  g_assert_cmpstr (popcheck_message_get_subject (message), ==, "");
  g_assert_cmpstr (popcheck_message_get_message_id (message), ==, "");
  g_assert_cmpstr (popcheck_message_get_to (message), ==, "");
  g_assert_cmpstr (popcheck_message_get_cc (message), ==, "");
  g_assert_cmpstr (popcheck_message_get_preview (message), ==, "");
  g_assert_null (popcheck_message_get_date (message));
  g_assert_nonnull (names);
  g_assert_null (names[0]);
  popcheck_message_get_attachment_details (message, &n_attachments);
  g_assert_cmpuint (n_attachments, ==, 0);
  g_assert_false (popcheck_message_get_attachments_incomplete (message));
  g_assert_true (popcheck_message_get_details_loaded (message));
}

static void
test_without_headers (void)
{
  g_autoptr(PopcheckMessage) refused = popcheck_message_new_without_headers ("uid-r", 4321, 3);
  g_autoptr(PopcheckMessage) pending = popcheck_message_new_headers_pending ("uid-p", 99, 4);
  g_autoptr(PopcheckMessage) no_uid = popcheck_message_new_without_uid (5, 7);
  g_autoptr(PopcheckMessage) copy = NULL;
  g_autoptr(GVariant) variant = NULL;
  g_autoptr(GError) error = NULL;

  assert_no_headers (refused);
  g_assert_cmpstr (popcheck_message_get_uid (refused), ==, "uid-r");
  g_assert_cmpuint (popcheck_message_get_size (refused), ==, 4321);
  g_assert_cmpuint (popcheck_message_get_msg_number (refused), ==, 3);
  g_assert_cmpuint (popcheck_message_get_top_refusals (refused), ==, 1);
  g_assert_false (popcheck_message_get_headers_pending (refused));
  g_assert_true (popcheck_message_get_has_uid (refused));

  assert_no_headers (pending);
  g_assert_cmpstr (popcheck_message_get_uid (pending), ==, "uid-p");
  g_assert_cmpuint (popcheck_message_get_top_refusals (pending), ==, 0);
  g_assert_true (popcheck_message_get_headers_pending (pending));

  assert_no_headers (no_uid);
  g_assert_false (popcheck_message_get_has_uid (no_uid));
  g_assert_cmpuint (popcheck_message_get_msg_number (no_uid), ==, 5);
  g_assert_cmpuint (popcheck_message_get_size (no_uid), ==, 7);

  /* "New" survives the cache, as a bit of the message. */
  popcheck_message_set_is_new (pending, TRUE);
  variant = g_variant_ref_sink (popcheck_message_to_variant (pending));
  copy = popcheck_message_new_from_variant (variant, &error);
  g_assert_no_error (error);
  assert_no_headers (copy);
  g_assert_cmpstr (popcheck_message_get_uid (copy), ==, "uid-p");
  g_assert_cmpuint (popcheck_message_get_size (copy), ==, 99);
  g_assert_true (popcheck_message_get_is_new (copy));
  g_assert_true (popcheck_message_get_headers_pending (copy));

  /* Each message lets go of its own UID, not of the shared headers. */
  g_clear_object (&refused);
  g_clear_object (&pending);
  assert_no_headers (copy);
  assert_no_headers (no_uid);
}

/* A message without headers shares its UID, which outlives it; one with
 * headers has it packed with them, so it gives a copy. */
static void
test_shared_uid (void)
{
  g_autoptr(PopcheckMessage) pending = popcheck_message_new_headers_pending ("uid-p", 99, 4);
  g_autoptr(PopcheckMessage) full = message_from ("Subject: Packed\n\nBody\n", 5);
  const char *own = popcheck_message_get_uid (pending);
  char *shared = popcheck_message_ref_uid (pending);
  char *copy = popcheck_message_ref_uid (full);
  char *loose = popcheck_uid_new ("uid-loose");

  g_assert_true (shared == own);
  g_assert_cmpstr (copy, ==, "uid-1");
  g_assert_true (copy != popcheck_message_get_uid (full));

  g_clear_object (&pending);
  g_clear_object (&full);
  g_assert_cmpstr (shared, ==, "uid-p");
  g_assert_cmpstr (copy, ==, "uid-1");
  g_assert_cmpuint (g_str_hash (shared), ==, g_str_hash ("uid-p"));

  g_assert_true (popcheck_uid_ref (loose) == loose);
  popcheck_uid_unref (loose);
  g_assert_cmpstr (loose, ==, "uid-loose");
  popcheck_uid_unref (loose);
  popcheck_uid_unref (shared);
  popcheck_uid_unref (copy);
  popcheck_uid_unref (NULL);
}

/* The index against a GHashTable, through thousands of random changes:
 * it grows and shrinks many times, and removals in the middle of runs
 * of neighbours move them back.  Every step, what one finds the other
 * finds. */
static void
assert_index_matches (PopcheckMessageIndex *index,
                      GHashTable           *expected,
                      GStrv                 uids)
{
  PopcheckMessageIndexIter iter;
  PopcheckMessage *message;
  guint n = 0;

  g_assert_cmpuint (popcheck_message_index_get_size (index), ==,
                    g_hash_table_size (expected));
  for (guint i = 0; uids[i] != NULL; i++)
    g_assert_true (popcheck_message_index_lookup (index, uids[i]) ==
                   g_hash_table_lookup (expected, uids[i]));

  popcheck_message_index_iter_init (&iter, index);
  while (popcheck_message_index_iter_next (&iter, &message))
    {
      g_assert_true (g_hash_table_lookup (expected,
                                          popcheck_message_get_uid (message)) ==
                     message);
      n++;
    }
  g_assert_cmpuint (n, ==, g_hash_table_size (expected));
}

/* "uid-0" to "uid-<n - 1>". */
static GStrv
numbered_uids (guint n)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *uid = g_strdup_printf ("uid-%u", i);

      g_strv_builder_add (builder, uid);
    }

  return g_strv_builder_end (builder);
}

/* Removes uid's message by the message itself: another message of its
 * UID is not in the index, and is not removed. */
static void
remove_by_message (PopcheckMessageIndex *index,
                   GHashTable           *expected,
                   const char           *uid)
{
  g_autoptr(PopcheckMessage) twin = popcheck_message_new_headers_pending (uid, 0, 1);
  PopcheckMessage *message = g_hash_table_lookup (expected, uid);

  g_assert_false (popcheck_message_index_remove_message (index, twin));
  if (message == NULL)
    return;
  g_assert_true (popcheck_message_index_remove_message (index, message));
  g_hash_table_remove (expected, uid);
}

static void
test_message_index (void)
{
  g_autoptr(PopcheckMessageIndex) index = popcheck_message_index_new ();
  g_autoptr(GHashTable) expected = g_hash_table_new_full (g_str_hash, g_str_equal,
                                                          NULL, g_object_unref);
  g_autoptr(GRand) rand = g_rand_new_with_seed (15);
  g_auto(GStrv) uids = NULL;
  const guint n_uids = 300;

  uids = numbered_uids (n_uids);

  g_assert_null (popcheck_message_index_lookup (index, "uid-0"));
  g_assert_false (popcheck_message_index_remove (index, "uid-0"));
  /* Room made at once, as a load does; removals shrink it again. */
  popcheck_message_index_reserve (index, n_uids);

  for (guint step = 0; step < 12000; step++)
    {
      /* Mostly adding for the first half, mostly removing after. */
      gboolean add = g_rand_int_range (rand, 0, 100) < (step < 6000 ? 70 : 30);
      guint i = g_rand_int_range (rand, 0, n_uids);

      if (add)
        {
          PopcheckMessage *message = popcheck_message_new_headers_pending (uids[i], i, i + 1);

          popcheck_message_index_replace (index, message);
          g_hash_table_replace (expected, uids[i], message);
        }
      else if (g_rand_boolean (rand))
        g_assert_cmpint (popcheck_message_index_remove (index, uids[i]), ==,
                         g_hash_table_remove (expected, uids[i]));
      else
        remove_by_message (index, expected, uids[i]);

      /* Every step: a message moved back wrongly is found again at the
       * next resize, which places them all afresh. */
      assert_index_matches (index, expected, uids);
    }

  popcheck_message_index_remove_all (index);
  g_hash_table_remove_all (expected);
  assert_index_matches (index, expected, uids);
}

/* A batch of messages to remove at once, as the rows a check finds gone:
 * rows of the index; twins of rows, which hold a row's UID but are not
 * in it; messages of UIDs it does not have; and a row twice, found only
 * the first time.  Sets *n_in to how many the index has. */
static GPtrArray *
removal_batch (GHashTable *expected,
               GStrv       uids,
               GRand      *rand,
               guint       n,
               guint      *n_in)
{
  GPtrArray *batch = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GHashTable) picked = g_hash_table_new (NULL, NULL);
  guint n_uids = g_strv_length (uids);

  *n_in = 0;
  for (guint k = 0; k < n; k++)
    {
      guint i = g_rand_int_range (rand, 0, n_uids);
      PopcheckMessage *row = g_hash_table_lookup (expected, uids[i]);
      guint kind = g_rand_int_range (rand, 0, 20);

      if (kind == 0)
        {
          g_autofree char *absent = g_strdup_printf ("absent-%u", k);

          g_ptr_array_add (batch, popcheck_message_new_headers_pending (absent, i, 1));
          continue;
        }
      if (row == NULL || kind < 3)
        {
          g_ptr_array_add (batch, popcheck_message_new_headers_pending (uids[i], i, 1));
          continue;
        }
      g_ptr_array_add (batch, g_object_ref (row));
      if (g_hash_table_add (picked, row))
        (*n_in)++;
    }

  return batch;
}

/* popcheck_message_index_remove_messages () against the GHashTable, in
 * batches of every size, down to a few messages left, which shrinks the
 * index by several steps at once. */
static void
test_message_index_remove_many (void)
{
  g_autoptr(PopcheckMessageIndex) index = popcheck_message_index_new ();
  g_autoptr(GHashTable) expected = g_hash_table_new_full (g_str_hash, g_str_equal,
                                                          NULL, g_object_unref);
  g_autoptr(GRand) rand = g_rand_new_with_seed (15);
  g_auto(GStrv) uids = NULL;
  const guint n_uids = 3000;
  guint sizes[] = { 0, 1, 7, 33, 100, 600, 1500, 3000, 6000 };
  g_autoptr(GPtrArray) all_but_ten = NULL;

  uids = numbered_uids (n_uids);

  for (guint round = 0; round < G_N_ELEMENTS (sizes); round++)
    {
      g_autoptr(GPtrArray) batch = NULL;
      guint n_in;

      /* Full again, so that each batch finds rows in runs. */
      for (guint i = 0; i < n_uids; i++)
        if (g_hash_table_lookup (expected, uids[i]) == NULL)
          {
            PopcheckMessage *message = popcheck_message_new_headers_pending (uids[i], i, i + 1);

            popcheck_message_index_replace (index, message);
            g_hash_table_replace (expected, uids[i], message);
          }

      batch = removal_batch (expected, uids, rand, sizes[round], &n_in);
      g_assert_cmpuint (popcheck_message_index_remove_messages (index,
                                                                (PopcheckMessage **) batch->pdata,
                                                                batch->len),
                        ==, n_in);
      for (guint k = 0; k < batch->len; k++)
        {
          PopcheckMessage *message = g_ptr_array_index (batch, k);
          const char *uid = popcheck_message_get_uid (message);

          if (g_hash_table_lookup (expected, uid) == message)
            g_hash_table_remove (expected, uid);
        }
      assert_index_matches (index, expected, uids);
    }

  /* All but ten: the index is left an eighth full many times over. */
  all_but_ten = g_ptr_array_new ();
  for (guint i = 10; i < n_uids; i++)
    if (g_hash_table_lookup (expected, uids[i]) != NULL)
      g_ptr_array_add (all_but_ten, g_hash_table_lookup (expected, uids[i]));
  g_assert_cmpuint (popcheck_message_index_remove_messages (index,
                                                            (PopcheckMessage **) all_but_ten->pdata,
                                                            all_but_ten->len),
                    ==, all_but_ten->len);
  for (guint i = 10; i < n_uids; i++)
    g_hash_table_remove (expected, uids[i]);
  g_assert_cmpuint (g_hash_table_size (expected), <=, 10);
  assert_index_matches (index, expected, uids);
  /* Shrunk at the end, not left with room for 3,000. */
  g_assert_cmpuint (popcheck_message_index_get_n_slots (index), <=,
                    MAX (8, 8 * popcheck_message_index_get_size (index)));
}

/* It holds a reference to what it holds, and lets go of it when the
 * message is replaced, removed, or the index freed. */
static void
test_message_index_references (void)
{
  PopcheckMessageIndex *index = popcheck_message_index_new ();
  PopcheckMessage *first = popcheck_message_new_headers_pending ("uid-a", 1, 1);
  PopcheckMessage *again = popcheck_message_new_headers_pending ("uid-a", 2, 1);
  PopcheckMessage *other = popcheck_message_new_headers_pending ("uid-b", 3, 2);

  g_object_add_weak_pointer (G_OBJECT (first), (gpointer *) &first);
  g_object_add_weak_pointer (G_OBJECT (again), (gpointer *) &again);
  g_object_add_weak_pointer (G_OBJECT (other), (gpointer *) &other);

  popcheck_message_index_replace (index, first);
  popcheck_message_index_replace (index, other);
  g_object_unref (first);
  g_object_unref (other);
  g_assert_nonnull (first);

  /* The same message again changes nothing. */
  popcheck_message_index_replace (index, first);
  g_assert_nonnull (first);
  g_assert_cmpuint (popcheck_message_index_get_size (index), ==, 2);

  popcheck_message_index_replace (index, again);
  g_object_unref (again);
  g_assert_null (first);
  g_assert_true (popcheck_message_index_lookup (index, "uid-a") == again);
  g_assert_cmpuint (popcheck_message_index_get_size (index), ==, 2);

  /* Added only where its UID is not: the one there stays. */
  first = popcheck_message_new_headers_pending ("uid-a", 4, 1);
  g_object_add_weak_pointer (G_OBJECT (first), (gpointer *) &first);
  g_assert_false (popcheck_message_index_add (index, first));
  g_object_unref (first);
  g_assert_null (first);
  g_assert_true (popcheck_message_index_lookup (index, "uid-a") == again);
  g_assert_cmpuint (popcheck_message_index_get_size (index), ==, 2);

  /* Removed by the message's own UID, which goes with it. */
  g_assert_true (popcheck_message_index_remove (index,
                                                popcheck_message_get_uid (again)));
  g_assert_null (again);

  first = popcheck_message_new_headers_pending ("uid-a", 5, 1);
  g_object_add_weak_pointer (G_OBJECT (first), (gpointer *) &first);
  g_assert_true (popcheck_message_index_add (index, first));
  g_object_unref (first);
  g_assert_true (popcheck_message_index_lookup (index, "uid-a") == first);
  g_assert_cmpuint (popcheck_message_index_get_size (index), ==, 2);

  popcheck_message_index_free (index);
  g_assert_null (other);
  g_assert_null (first);
}

static void
test_variant_round_trip (void)
{
  g_autoptr(PopcheckMessage) message = NULL;
  g_autoptr(PopcheckMessage) copy = NULL;
  g_autoptr(GVariant) variant = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GVariant) reread = NULL;
  g_autoptr(GError) error = NULL;

  message = message_from ("From: =?UTF-8?Q?J=C3=BCrgen?= <jm@example.org>\n"
                          "To: b@example.org\n"
                          "Subject: Round trip\n"
                          "Date: Tue, 1 Jul 2003 10:52:37 +0200\n"
                          "Message-ID: <rt@example.org>\n"
                          "Content-Type: multipart/mixed; boundary=b\n"
                          "\n"
                          "--b\n"
                          "Content-Type: text/plain\n"
                          "\n"
                          "Line one\nLine two\n"
                          "--b\n"
                          "Content-Disposition: attachment; filename=a.txt\n"
                          "\n"
                          "x\n"
                          "--b--\n", 10);
  popcheck_message_set_is_new (message, TRUE);

  variant = g_variant_ref_sink (popcheck_message_to_variant (message));
  /* Through bytes, as the state file does. */
  bytes = g_variant_get_data_as_bytes (variant);
  reread = g_variant_ref_sink (g_variant_new_from_bytes (g_variant_get_type (variant),
                                                         bytes, FALSE));

  copy = popcheck_message_new_from_variant (reread, &error);
  g_assert_no_error (error);
  g_assert_nonnull (copy);

  g_assert_cmpstr (popcheck_message_get_uid (copy), ==, "uid-1");
  g_assert_cmpuint (popcheck_message_get_size (copy), ==, 1234);
  /* The session's number is not cached. */
  g_assert_cmpuint (popcheck_message_get_msg_number (copy), ==, 0);
  g_assert_cmpstr (popcheck_message_get_from (copy), ==,
                   "Jürgen <jm@example.org>");
  g_assert_cmpstr (popcheck_message_get_from_name (copy), ==, "Jürgen");
  g_assert_cmpstr (popcheck_message_get_from_address (copy), ==,
                   "jm@example.org");
  g_assert_cmpstr (popcheck_message_get_to (copy), ==, "b@example.org");
  g_assert_cmpstr (popcheck_message_get_subject (copy), ==, "Round trip");
  g_assert_cmpstr (popcheck_message_get_message_id (copy), ==, "rt@example.org");
  g_assert_cmpstr (popcheck_message_get_preview (copy), ==, "Line one\nLine two");
  g_assert_cmpstrv (popcheck_message_get_attachments (copy),
                    ((const char * const []) { "a.txt", NULL }));
  g_assert_true (popcheck_message_get_is_new (copy));
  g_assert_nonnull (popcheck_message_get_date (copy));
  g_assert_true (g_date_time_equal (popcheck_message_get_date (copy),
                                    popcheck_message_get_date (message)));
}

static void
test_variant_malformed (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  const char *attachments[] = { "ok.txt", "x/../evil\x1b[1m", NULL };
  PopcheckMessage *message;
  GVariant *variant;

  /* Another type. */
  variant = g_variant_ref_sink (g_variant_new ("(s)", "hello"));
  message = popcheck_message_new_from_variant (variant, &error);
  g_assert_null (message);
  g_assert_error (error, POPCHECK_MESSAGE_ERROR,
                  POPCHECK_MESSAGE_ERROR_INVALID_CACHE);
  g_clear_error (&error);
  g_variant_unref (variant);

  /* A future version. */
  variant = g_variant_ref_sink (g_variant_new ("(ustssssssss^asb)", 2, "u", 1,
                                               "", "", "", "", "", "", "", "",
                                               attachments, FALSE));
  message = popcheck_message_new_from_variant (variant, &error);
  g_assert_null (message);
  g_assert_error (error, POPCHECK_MESSAGE_ERROR,
                  POPCHECK_MESSAGE_ERROR_INVALID_CACHE);
  g_clear_error (&error);
  g_variant_unref (variant);

  /* UIDs that must never become keys or reach a path. */
  {
    static const char * const bad_uids[] = {
      "", "has space", "../etc", "ctrl\x01", "0123456789012345678901234567890123456789012345678901234567890123456789x",
    };

    for (guint i = 0; i < G_N_ELEMENTS (bad_uids); i++)
      {
        variant = g_variant_ref_sink (g_variant_new ("(ustssssssss^asb)", 1,
                                                     bad_uids[i], 1, "", "",
                                                     "", "", "", "", "", "",
                                                     attachments, FALSE));
        message = popcheck_message_new_from_variant (variant, &error);
        if (strcmp (bad_uids[i], "../etc") == 0)
          {
            /* Printable, so a valid POP3 UID: accepted as data, never
             * used as a path by anyone. */
            g_assert_no_error (error);
            g_clear_object (&message);
          }
        else
          {
            g_assert_null (message);
            g_assert_error (error, POPCHECK_MESSAGE_ERROR,
                            POPCHECK_MESSAGE_ERROR_INVALID_CACHE);
            g_clear_error (&error);
          }
        g_variant_unref (variant);
      }
  }

  /* Hostile text inside a well-formed entry is cleaned on the way in. */
  variant = g_variant_ref_sink (g_variant_new ("(ustssssssss^asb)", 1, "u", 1,
                                               "a\x1b[31mb", "", "", "",
                                               "s\nu\x07" "b", "bad date", "",
                                               "p\x1b[2J", attachments, TRUE));
  message = popcheck_message_new_from_variant (variant, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (popcheck_message_get_from (message), ==, "ab");
  g_assert_cmpstr (popcheck_message_get_subject (message), ==, "s ub");
  g_assert_cmpstr (popcheck_message_get_preview (message), ==, "p");
  g_assert_null (popcheck_message_get_date (message));
  g_assert_cmpstrv (popcheck_message_get_attachments (message),
                    ((const char * const []) { "ok.txt", "evil", NULL }));
  g_object_unref (message);
  g_variant_unref (variant);

  /* Random bytes of the right type: an error or a clean message. */
  for (guint round = 0; round < 2000; round++)
    {
      gsize len = g_rand_int_range (rand, 0, 200);
      guint8 *data = g_malloc (len + 1);
      g_autoptr(GBytes) bytes = NULL;

      for (gsize i = 0; i < len; i++)
        data[i] = g_rand_int_range (rand, 0, 256);
      /* Sometimes a version that matches, to get past the first check. */
      if (len >= 4 && g_rand_boolean (rand))
        memcpy (data, "\1\0\0\0", 4);
      bytes = g_bytes_new_take (data, len);
      variant = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE ("(ustssssssssasb)"),
                                                              bytes, FALSE));
      message = popcheck_message_new_from_variant (variant, &error);
      if (message != NULL)
        {
          g_assert_no_error (error);
          g_assert_true (pop3_uid_is_valid (popcheck_message_get_uid (message)));
          assert_message_clean (message);
          g_object_unref (message);
        }
      else
        {
          g_assert_error (error, POPCHECK_MESSAGE_ERROR,
                          POPCHECK_MESSAGE_ERROR_INVALID_CACHE);
          g_clear_error (&error);
        }
      g_variant_unref (variant);
    }
}

static void
test_cc (void)
{
  g_autoptr(PopcheckMessage) message = NULL;
  g_autoptr(PopcheckMessage) none = NULL;
  g_autoptr(PopcheckMessage) hostile = NULL;

  message = message_from ("From: a@example.org\n"
                          "To: b@example.org\n"
                          "Cc: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <jm@example.org>,\n"
                          " \"Doe, Jane\" <jane@example.org>, Team: c@example.org;\n"
                          "Subject: hi\n"
                          "\n"
                          "body\n", 5);
  g_assert_cmpstr (popcheck_message_get_cc (message), ==,
                   "Jürgen Müller <jm@example.org>, Doe, Jane <jane@example.org>, "
                   "c@example.org");

  none = message_from ("From: a@example.org\nSubject: no cc\n\nbody\n", 5);
  g_assert_cmpstr (popcheck_message_get_cc (none), ==, "");

  /* Escapes and markup stay text; the control characters go. */
  hostile = message_from ("Cc: \"<b>Evil</b>\x1b[2J\" <e@example.org>\n"
                          "Subject: x\n\nbody\n", 5);
  g_assert_cmpstr (popcheck_message_get_cc (hostile), ==,
                   "<b>Evil</b> <e@example.org>");
  assert_message_clean (hostile);
}

/* An attachment's name, MIME type and size. */
static void
assert_attachment (PopcheckMessage *message,
                   guint            index,
                   const char      *name,
                   const char      *mime_type,
                   guint64          size)
{
  const PopcheckAttachment *details;
  guint n = 0;

  details = popcheck_message_get_attachment_details (message, &n);
  g_assert_cmpuint (index, <, n);
  g_assert_cmpstr (details[index].name, ==, name);
  g_assert_cmpstr (details[index].mime_type, ==, mime_type);
  g_assert_cmpuint (details[index].size, ==, size);
}

static guint
n_attachments (PopcheckMessage *message)
{
  guint n = 0;

  popcheck_message_get_attachment_details (message, &n);
  return n;
}

/* Every named part, at any depth, inline ones too, with its decoded size:
 * the closing boundary came, so the structure is known whole. */
static void
test_attachments_nested (void)
{
  g_autoptr(PopcheckMessage) message = NULL;

  message = message_from ("Subject: nested\n"
                          "MIME-Version: 1.0\n"
                          "Content-Type: multipart/mixed; boundary=outer\n"
                          "\n"
                          "--outer\n"
                          "Content-Type: multipart/related; boundary=related\n"
                          "\n"
                          "--related\n"
                          "Content-Type: multipart/alternative; boundary=alt\n"
                          "\n"
                          "--alt\n"
                          "Content-Type: text/plain\n"
                          "\n"
                          "Hello.\n"
                          "--alt\n"
                          "Content-Type: text/html\n"
                          "\n"
                          "<p>Hello.</p>\n"
                          "--alt--\n"
                          "--related\n"
                          "Content-Type: IMAGE/PNG\n"
                          "Content-Disposition: inline; filename=logo.png\n"
                          "Content-Transfer-Encoding: base64\n"
                          "\n"
                          "iVBORw0KGgo=\n"
                          "--related--\n"
                          "--outer\n"
                          "Content-Type: application/pdf; name=report.pdf\n"
                          "Content-Disposition: attachment; filename=report.pdf; size=99999\n"
                          "Content-Transfer-Encoding: base64\n"
                          "\n"
                          "JVBERi0xLjQK\n"
                          "--outer\n"
                          "Content-Disposition: attachment; filename=notes.txt\n"
                          "\n"
                          "one\n"
                          "two\n"
                          "--outer--\n", 10);

  g_assert_cmpstr (popcheck_message_get_preview (message), ==, "Hello.");
  g_assert_false (popcheck_message_get_attachments_incomplete (message));
  g_assert_cmpuint (n_attachments (message), ==, 3);
  /* 8 bytes of PNG signature; "%PDF-1.4\n" is 9, whatever the sender
   * claims; the last line break belongs to the boundary. */
  assert_attachment (message, 0, "logo.png", "image/png", 8);
  assert_attachment (message, 1, "report.pdf", "application/pdf", 9);
  assert_attachment (message, 2, "notes.txt", "text/plain", 8);
  assert_details_clean (message);
}

/* A forwarded message is an attachment, named by its file name or else
 * its subject. */
static void
test_attachments_forwarded (void)
{
  g_autoptr(PopcheckMessage) message = NULL;
  const char *forwarded = "From: b@example.org\n"
                          "Subject: Minutes 3/4\n"
                          "\n"
                          "Minutes.\n";

  message = message_from ("Subject: Fwd\n"
                          "Content-Type: multipart/mixed; boundary=b\n"
                          "\n"
                          "--b\n"
                          "Content-Type: text/plain\n"
                          "\n"
                          "Forwarding two.\n"
                          "--b\n"
                          "Content-Type: message/rfc822\n"
                          "Content-Disposition: attachment; filename=\"original.eml\"\n"
                          "\n"
                          "From: a@example.org\n"
                          "Subject: Original\n"
                          "\n"
                          "Hello.\n"
                          "--b\n"
                          "Content-Type: message/rfc822\n"
                          "\n"
                          "From: b@example.org\n"
                          "Subject: Minutes 3/4\n"
                          "\n"
                          "Minutes.\n"
                          "--b--\n", 10);

  g_assert_cmpstr (popcheck_message_get_preview (message), ==, "Forwarding two.");
  g_assert_cmpuint (n_attachments (message), ==, 2);
  g_assert_cmpstr (popcheck_message_get_attachments (message)[0], ==, "original.eml");
  g_assert_cmpstr (popcheck_message_get_attachments (message)[1], ==, "Minutes 3-4");
  /* The forwarded message as GMime writes it, with LF line ends; the
   * last line break belongs to the boundary. */
  assert_attachment (message, 1, "Minutes 3-4", "message/rfc822",
                     strlen (forwarded) - 1);
  assert_details_clean (message);
}

/* TOP's lines end inside the structure: what came is listed, the part cut
 * has no size (unless its sender declared one), and the message says that
 * more may follow. */
static void
test_attachments_truncated (void)
{
  g_autoptr(PopcheckMessage) cut = NULL;
  g_autoptr(PopcheckMessage) declared = NULL;
  g_autoptr(PopcheckMessage) headers_only = NULL;
  g_autoptr(PopcheckMessage) inner_open = NULL;
  g_autoptr(PopcheckMessage) single = NULL;

  cut = message_from ("Subject: cut\n"
                      "Content-Type: multipart/mixed; boundary=b\n"
                      "\n"
                      "--b\n"
                      "Content-Type: text/plain\n"
                      "\n"
                      "See attached.\n"
                      "--b\n"
                      "Content-Type: application/zip\n"
                      "Content-Disposition: attachment; filename=first.zip\n"
                      "Content-Transfer-Encoding: base64\n"
                      "\n"
                      "UEsDBA==\n"
                      "--b\n"
                      "Content-Type: application/zip\n"
                      "Content-Disposition: attachment; filename=second.zip\n"
                      "Content-Transfer-Encoding: base64\n"
                      "\n"
                      "UEsDBBQAAAAIAA\n", 10);
  g_assert_true (popcheck_message_get_attachments_incomplete (cut));
  g_assert_cmpuint (n_attachments (cut), ==, 2);
  assert_attachment (cut, 0, "first.zip", "application/zip", 4);
  assert_attachment (cut, 1, "second.zip", "application/zip",
                     POPCHECK_MESSAGE_SIZE_UNKNOWN);

  declared = message_from ("Subject: cut\n"
                           "Content-Type: multipart/mixed; boundary=b\n"
                           "\n"
                           "--b\n"
                           "Content-Type: video/mp4\n"
                           "Content-Disposition: attachment; filename=clip.mp4; size=1048576\n"
                           "\n"
                           "AAAA\n", 10);
  g_assert_true (popcheck_message_get_attachments_incomplete (declared));
  assert_attachment (declared, 0, "clip.mp4", "video/mp4", 1048576);

  /* TOP n 0: nothing of the body yet, but a multipart may hold anything. */
  headers_only = message_from ("Subject: only headers\n"
                               "Content-Type: multipart/mixed; boundary=x\n"
                               "\n", 10);
  g_assert_true (popcheck_message_get_attachments_incomplete (headers_only));
  g_assert_cmpuint (n_attachments (headers_only), ==, 0);

  /* An inner multipart left open ends at its parent's boundary: its parts
   * are whole, and so is the structure. */
  inner_open = message_from ("Subject: inner open\n"
                             "Content-Type: multipart/mixed; boundary=o\n"
                             "\n"
                             "--o\n"
                             "Content-Type: multipart/mixed; boundary=i\n"
                             "\n"
                             "--i\n"
                             "Content-Disposition: attachment; filename=a.bin\n"
                             "Content-Type: application/octet-stream\n"
                             "\n"
                             "abc\n"
                             "--o--\n", 10);
  g_assert_false (popcheck_message_get_attachments_incomplete (inner_open));
  assert_attachment (inner_open, 0, "a.bin", "application/octet-stream", 3);

  /* A message of one part has no structure to wait for. */
  single = message_from ("Subject: plain\n\nJust text.\n", 10);
  g_assert_false (popcheck_message_get_attachments_incomplete (single));
  g_assert_cmpuint (n_attachments (single), ==, 0);
}

/* HTML-only mail keeps its paragraphs, lists, rows and the targets of
 * its links, as text: nothing in it is loaded or followed. */
static void
test_html_paragraphs_and_links (void)
{
  static const HtmlCase cases[] = {
    { "<h1>News</h1><p>First paragraph<br>second line.</p>"
      "<p>Read <a href=\"https://example.org/a?x=1&amp;y=2\">more</a>.</p>",
      "News\n\nFirst paragraph\nsecond line.\n\n"
      "Read more <https://example.org/a?x=1&y=2>." },
    { "<ul><li>One</li><li>Two</li></ul><table><tr><td>a</td><td>b</td></tr>"
      "<tr><td>c</td></tr></table>",
      "One\nTwo\na b\nc" },
    /* The text already says where it leads. */
    { "<a href=\"mailto:bob@example.org\">bob@example.org</a> "
      "<a href='https://example.org'> https://example.org </a>",
      "bob@example.org https://example.org" },
    { "<a href=\"mailto:bob@example.org\">Bob</a>",
      "Bob <mailto:bob@example.org>" },
    /* Targets that mean nothing outside the sender's page, or would run. */
    { "<a href=\"javascript:alert(1)\">click</a> <a href=\"#top\">top</a> "
      "<a href=\"/relative\">rel</a> <a name=\"x\">anchor</a>",
      "click top rel anchor" },
    { "<A HREF=https://example.org/u TITLE=\"a>b\">unquoted</A>",
      "unquoted <https://example.org/u>" },
    { "<img src=\"https://tracker.example.org/pixel.gif\" alt=\"\">Hi",
      "Hi" },
    { "&eacute;t&eacute; &#233; &lt;tag&gt; &quot;q&quot;",
      "été é <tag> \"q\"" },
    { "<style>p { color: red }</style><script>document.write('<p>x</p>')"
      "</script>Text<SCRIPT>evil()</SCRIPT>",
      "Text" },
  };

  assert_html_cases (cases, G_N_ELEMENTS (cases));
}

/* Input made to hurt: unclosed tags and links, huge attributes, targets
 * that would make the text lie. */
static void
test_html_hostile (void)
{
  static const HtmlCase cases[] = {
    { "<a href=\"https://example.org/x\">never closed", "never closed <https://example.org/x>" },
    { "<a href=\"https://e.org/1\">one<a href=\"https://e.org/2\">two</a>",
      "one <https://e.org/1>two <https://e.org/2>" },
    { "<a href=\"https://e.org/a b\">space</a>", "space" },
    { "<a href=\"https://e.org/&lt;x&gt;\">angle</a>", "angle" },
    { "<a href=\"https://e.org/\x1b[2J\">escape</a>", "escape" },
    { "<a href=\"https://e.org/never-closed-quote>text", "" },
    { "<a href", "" },
    { "<a href=>x</a>", "x" },
    { "<p <p <p>text", "text" },
    { "</p></a></li>text", "text" },
  };
  g_autoptr(GString) huge = g_string_new ("<a href=\"https://example.org/");
  g_autoptr(GString) many = g_string_new (NULL);
  g_autofree char *text = NULL;

  assert_html_cases (cases, G_N_ELEMENTS (cases));

  /* A target of 100,000 characters is not shown; the text is. */
  for (guint i = 0; i < 100000; i++)
    g_string_append_c (huge, 'x');
  g_string_append (huge, "\" title=\"t\">big</a> after");
  text = popcheck_message_html_to_text (huge->str, huge->len);
  g_assert_cmpstr (text, ==, "big after");
  g_clear_pointer (&text, g_free);

  /* Thousands of paragraphs and links: still one blank line at most. */
  for (guint i = 0; i < 5000; i++)
    g_string_append (many, "<p><p><a href=\"https://e.org/\"></a>");
  g_string_append (many, "<p>end");
  text = popcheck_message_html_to_text (many->str, many->len);
  g_assert_null (strstr (text, "\n\n\n"));
  g_assert_true (g_str_has_suffix (text, "\n\nend"));
}

/* A whole HTML-only message, through the decoder. */
static void
test_preview_html_only (void)
{
  g_autoptr(PopcheckMessage) message = NULL;

  message = message_from ("Subject: newsletter\n"
                          "Content-Type: text/html; charset=utf-8\n"
                          "Content-Transfer-Encoding: quoted-printable\n"
                          "\n"
                          "<html><body><p>Dear reader,</p>\n"
                          "<p>our news is <a href=3D\"https://news.example.org/1\">here=\n"
                          "</a>.</p><p>Bye</p></body></html>\n", 20);
  g_assert_cmpstr (popcheck_message_get_preview (message), ==,
                   "Dear reader,\n\nour news is here <https://news.example.org/1>.\n\nBye");
}

/* Version 2 keeps Cc and the details; a version 1 summary still reads,
 * with the generic type and no size. */
static void
test_variant_details (void)
{
  g_autoptr(PopcheckMessage) message = NULL;
  g_autoptr(PopcheckMessage) copy = NULL;
  g_autoptr(PopcheckMessage) old = NULL;
  g_autoptr(GVariant) variant = NULL;
  g_autoptr(GVariant) v1 = NULL;
  g_autoptr(GError) error = NULL;
  const char *names[] = { "a.pdf", NULL };

  message = message_from ("Cc: Ann <ann@example.org>\n"
                          "Subject: details\n"
                          "Content-Type: multipart/mixed; boundary=b\n"
                          "\n"
                          "--b\n"
                          "Content-Type: text/plain\n"
                          "\n"
                          "Text\n"
                          "--b\n"
                          "Content-Type: application/pdf\n"
                          "Content-Disposition: attachment; filename=a.pdf\n"
                          "\n"
                          "12345\n"
                          "--b\n"
                          "Content-Disposition: attachment; filename=cut.bin\n"
                          "\n"
                          "xx", 10);
  variant = g_variant_ref_sink (popcheck_message_to_variant (message));
  copy = popcheck_message_new_from_variant (variant, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (popcheck_message_get_cc (copy), ==, "Ann <ann@example.org>");
  g_assert_true (popcheck_message_get_attachments_incomplete (copy));
  g_assert_cmpuint (n_attachments (copy), ==, 2);
  assert_attachment (copy, 0, "a.pdf", "application/pdf", 5);
  assert_attachment (copy, 1, "cut.bin", "text/plain",
                     POPCHECK_MESSAGE_SIZE_UNKNOWN);

  v1 = g_variant_ref_sink (g_variant_new ("(ustssssssss^asb)", 1, "u", 1,
                                          "", "", "", "", "", "", "", "",
                                          names, FALSE));
  old = popcheck_message_new_from_variant (v1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (popcheck_message_get_cc (old), ==, "");
  g_assert_false (popcheck_message_get_attachments_incomplete (old));
  assert_attachment (old, 0, "a.pdf", "application/octet-stream",
                     POPCHECK_MESSAGE_SIZE_UNKNOWN);
}

/* Where a summary is and how long comes from the index, which is only a
 * file: a length past the file's end is an error, before anything of
 * that size is allocated. */
static void
test_summary_file_bounds (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *path = NULL;
  PopcheckSummaryFile *file;
  int fd;

  fd = g_file_open_tmp ("summaries-XXXXXX", &path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (write (fd, "0123456789", 10), ==, 10);
  file = popcheck_summary_file_new (fd);

  bytes = popcheck_summary_file_read (file, 2, 5, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                   "23456", 5);
  g_clear_pointer (&bytes, g_bytes_unref);

  bytes = popcheck_summary_file_read (file, 4, G_MAXSIZE / 2, &error);
  g_assert_null (bytes);
  g_assert_error (error, POPCHECK_MESSAGE_ERROR,
                  POPCHECK_MESSAGE_ERROR_INVALID_CACHE);
  g_clear_error (&error);

  bytes = popcheck_summary_file_read (file, G_MAXUINT64 - 2, 5, &error);
  g_assert_null (bytes);
  g_assert_error (error, POPCHECK_MESSAGE_ERROR,
                  POPCHECK_MESSAGE_ERROR_INVALID_CACHE);

  popcheck_summary_file_unref (file);
  g_unlink (path);
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/message/headers/encoded-words", test_subject_encoded_words);
  g_test_add_func ("/message/headers/broken-encoded-words",
                   test_subject_broken_encoded_words);
  g_test_add_func ("/message/headers/raw-8bit", test_raw_8bit_headers);
  g_test_add_func ("/message/headers/charsets-stay-loaded", test_charsets_stay_loaded);
  g_test_add_func ("/message/headers/addresses", test_addresses);
  g_test_add_func ("/message/headers/dates", test_dates);
  g_test_add_func ("/message/headers/other", test_other_headers);
  g_test_add_func ("/message/is-new", test_is_new_notify);
  g_test_add_func ("/message/preview/plain", test_preview_plain);
  g_test_add_func ("/message/preview/quoted-printable",
                   test_preview_quoted_printable);
  g_test_add_func ("/message/preview/base64", test_preview_base64);
  g_test_add_func ("/message/preview/charset", test_preview_charset);
  g_test_add_func ("/message/preview/alternative", test_preview_alternative);
  g_test_add_func ("/message/preview/html", test_preview_html);
  g_test_add_func ("/message/preview/html-edges", test_html_to_text_edges);
  g_test_add_func ("/message/preview/truncated-multipart",
                   test_preview_truncated_multipart);
  g_test_add_func ("/message/preview/cut-in-headers", test_preview_cut_in_headers);
  g_test_add_func ("/message/attachments", test_attachment_names);
  g_test_add_func ("/message/attachments/nested", test_attachments_nested);
  g_test_add_func ("/message/attachments/truncated", test_attachments_truncated);
  g_test_add_func ("/message/attachments/forwarded", test_attachments_forwarded);
  g_test_add_func ("/message/headers/cc", test_cc);
  g_test_add_func ("/message/preview/html-paragraphs-and-links",
                   test_html_paragraphs_and_links);
  g_test_add_func ("/message/preview/html-hostile", test_html_hostile);
  g_test_add_func ("/message/preview/html-only", test_preview_html_only);
  g_test_add_func ("/message/cache/details", test_variant_details);
  g_test_add_func ("/message/hostile/control-characters",
                   test_control_characters_stripped);
  g_test_add_func ("/message/hostile/nul", test_nul_in_body);
  g_test_add_func ("/message/hostile/lengths", test_lengths_capped);
  g_test_add_func ("/message/hostile/random", test_random_input);
  g_test_add_func ("/message/fingerprint", test_fingerprint);
  g_test_add_func ("/message/cache/round-trip", test_variant_round_trip);
  g_test_add_func ("/message/without-headers", test_without_headers);
  g_test_add_func ("/message/shared-uid", test_shared_uid);
  g_test_add_func ("/message/index", test_message_index);
  g_test_add_func ("/message/index/references", test_message_index_references);
  g_test_add_func ("/message/index/remove-many", test_message_index_remove_many);
  g_test_add_func ("/message/cache/malformed", test_variant_malformed);
  g_test_add_func ("/message/cache/summary-file-bounds",
                   test_summary_file_bounds);

  status = g_test_run ();

  /* LeakSanitizer checks at exit: with no worker thread left. */
  popcheck_test_quiesce_threads ();

  return status;
}
