/* test-auth.c: APOP and SASL computations against their RFC examples
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-auth"

#include "config.h"

#include <string.h>

#include "pop3-auth.h"
#include "pop3-error.h"
#include "popcheck-test-util.h"

static void
test_apop_rfc1939 (void)
{
  g_autofree char *digest =
    pop3_auth_apop_digest ("<1896.697170952@dbc.mtview.ca.us>", "tanstaaf");
  g_autofree char *other =
    pop3_auth_apop_digest ("<1896.697170953@dbc.mtview.ca.us>", "tanstaaf");

  /* RFC 1939, section 7. */
  g_assert_cmpstr (digest, ==, "c4c9334bac560ecc979e58001b3e22fb");
  g_assert_cmpstr (other, !=, digest);
}

static void
test_cram_md5_rfc2195 (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *response =
    pop3_auth_cram_md5_response ("tim", "tanstaaftanstaaf",
                                 "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVz"
                                 "dG9uLm1jaS5uZXQ+",
                                 &error);
  g_autofree guchar *decoded = NULL;
  gsize decoded_len;

  g_assert_no_error (error);
  g_assert_cmpstr (response, ==,
                   "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw");

  decoded = g_base64_decode (response, &decoded_len);
  g_assert_cmpmem (decoded, decoded_len,
                   "tim b913a602c7eda7a495b4e6e7334d3890", 36);
}

static void
test_cram_md5_malformed (void)
{
  const char *challenges[] = {
    "",
    "PDE4OTY",                 /* not a whole number of quanta */
    "PDE4 OTY",                /* a space inside */
    "PDE4OTYu!!!!",            /* outside the alphabet */
    "PD=4OTYu",                /* padding in the middle */
    "P===",                    /* too much padding */
    "PDE4OTYu\r\n",            /* a line ending */
    "PDE4OTYu\xc3\xa9\xc3\xa9", /* 8-bit */
  };

  for (guint i = 0; i < G_N_ELEMENTS (challenges); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *response =
        pop3_auth_cram_md5_response ("tim", "tanstaaftanstaaf", challenges[i],
                                     &error);

      g_test_message ("challenge “%s”", challenges[i]);
      g_assert_null (response);
      g_assert_error (error, POP3_ERROR, POP3_ERROR_PROTOCOL);
    }

  /* Padded challenges of every length are fine. */
  for (guint i = 0; i < 3; i++)
    {
      const char *padded[] = { "YQ==", "YWI=", "YWJj" };
      g_autoptr(GError) error = NULL;
      g_autofree char *response =
        pop3_auth_cram_md5_response ("u", "p", padded[i], &error);

      g_assert_no_error (error);
      g_assert_nonnull (response);
    }
}

static void
test_plain (void)
{
  g_autofree char *response = pop3_auth_plain_response ("tim", "tanstaaf");
  g_autofree char *empty = pop3_auth_plain_response ("", "");
  g_autofree char *utf8 =
    pop3_auth_plain_response ("jos\xc3\xa9", "p\xc3\xa4ss");
  g_autofree guchar *decoded = NULL;
  gsize decoded_len;

  /* RFC 4616: [authzid] NUL authcid NUL passwd, with no authzid. */
  g_assert_cmpstr (response, ==, "AHRpbQB0YW5zdGFhZg==");
  decoded = g_base64_decode (response, &decoded_len);
  g_assert_cmpmem (decoded, decoded_len, "\0tim\0tanstaaf", 13);

  g_assert_cmpstr (empty, ==, "AAA=");

  g_clear_pointer (&decoded, g_free);
  decoded = g_base64_decode (utf8, &decoded_len);
  g_assert_cmpmem (decoded, decoded_len, "\0jos\xc3\xa9\0p\xc3\xa4ss", 12);
}

static void
test_base64 (void)
{
  g_autofree char *user = pop3_auth_base64 ("tim");
  g_autofree char *empty = pop3_auth_base64 ("");
  g_autofree char *password = pop3_auth_base64 ("tanstaaf");

  /* AUTH LOGIN answers the "Username:" and "Password:" prompts. */
  g_assert_cmpstr (user, ==, "dGlt");
  g_assert_cmpstr (empty, ==, "");
  g_assert_cmpstr (password, ==, "dGFuc3RhYWY=");
}

static void
test_safe_argument (void)
{
  const char *unsafe[] = {
    "user\r\nDELE 1",
    "pass\nQUIT",
    "pass\r",
    "\n",
    "\r",
    "trailing\r\n",
  };

  g_assert_true (pop3_auth_is_safe_argument ("tim"));
  g_assert_true (pop3_auth_is_safe_argument (""));
  g_assert_true (pop3_auth_is_safe_argument ("with spaces and \"quotes\""));
  g_assert_true (pop3_auth_is_safe_argument ("caf\xc3\xa9\ttab"));

  for (guint i = 0; i < G_N_ELEMENTS (unsafe); i++)
    g_assert_false (pop3_auth_is_safe_argument (unsafe[i]));
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/auth/apop/rfc1939", test_apop_rfc1939);
  g_test_add_func ("/auth/cram-md5/rfc2195", test_cram_md5_rfc2195);
  g_test_add_func ("/auth/cram-md5/malformed", test_cram_md5_malformed);
  g_test_add_func ("/auth/plain", test_plain);
  g_test_add_func ("/auth/base64", test_base64);
  g_test_add_func ("/auth/safe-argument", test_safe_argument);

  status = g_test_run ();

  /* LeakSanitizer checks at exit: with no worker thread left. */
  popcheck_test_quiesce_threads ();

  return status;
}
