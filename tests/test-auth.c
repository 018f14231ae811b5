/* test-auth.c: APOP and SASL computations against their RFC examples,
 * and the OAuth2 mechanisms' against their documented ones
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

/* Google's XOAUTH2 documentation, byte for byte. */
static void
test_xoauth2 (void)
{
  g_autofree char *response =
    pop3_auth_xoauth2_response ("someuser@example.com",
                                "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg");

  g_assert_cmpstr (response, ==,
                   "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5"
                   "LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cB"
                   "AQ==");
}

static void
assert_base64_of (const char *encoded,
                  const char *expected)
{
  g_autofree guchar *decoded = NULL;
  gsize decoded_len;

  decoded = g_base64_decode (encoded, &decoded_len);
  g_assert_cmpmem (decoded, decoded_len, expected, strlen (expected));
}

/* RFC 7628, section 4.1, and the cases around it. */
static void
test_oauthbearer (void)
{
  g_autofree char *response =
    pop3_auth_oauthbearer_response ("user@example.com", "server.example.com",
                                    143,
                                    "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==");
  g_autofree char *no_host =
    pop3_auth_oauthbearer_response ("user@example.com", NULL, 0, "tok");
  g_autofree char *escaped =
    pop3_auth_oauthbearer_response ("a,b=c", "h", 995, "tok");

  g_assert_cmpstr (response, ==,
                   "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUu"
                   "Y29tAXBvcnQ9MTQzAWF1dGg9QmVhcmVyIHZGOWRmdDRxbVRjMk52YjNS"
                   "bGNrQmhiSFJoZG1semRHRXVZMjl0Q2c9PQEB");
  assert_base64_of (no_host,
                    "n,a=user@example.com,\001auth=Bearer tok\001\001");
  /* RFC 5801, section 4: "," and "=" in a saslname. */
  assert_base64_of (escaped,
                    "n,a=a=2Cb=3Dc,\001host=h\001port=995\001"
                    "auth=Bearer tok\001\001");
}

static char *
base64_of_text (const char *text)
{
  return g_base64_encode ((const guchar *) text, strlen (text));
}

static void
test_oauth_challenge_status (void)
{
  static const struct
  {
    const char *json;
    const char *status;
  } cases[] = {
    /* What Microsoft and Google send, and RFC 7628's example. */
    { "{\"status\":\"401\",\"schemes\":\"bearer\",\"scope\":"
      "\"https://outlook.office.com/POP.AccessAsUser.All\"}", "401" },
    { "{\"status\":\"400\",\"schemes\":\"Bearer\",\"scope\":"
      "\"https://mail.google.com/\"}", "400" },
    { "{\"status\":\"invalid_token\",\"scope\":\"example_scope\","
      "\"openid-configuration\":\"https://example.com/.well-known/"
      "openid-configuration\"}", "invalid_token" },
    /* Spacing, escapes, other values and the first "status" winning. */
    { " {\r\n \"scope\" : [\"a\", {\"b\": null}], \"status\" : \"4\\u0030"
      "1\"\t} ", "401" },
    { "{\"st\\u0061tus\":401,\"ok\":false}", "401" },
    { "{\"status\":\"401\",\"status\":\"200\"}", "401" },
    { "{\"detail\":{\"status\":\"200\"},\"status\":\"401\"}", "401" },
    /* JSON, but no status a person could be shown. */
    { "{}", NULL },
    { "{\"scope\":\"x\"}", NULL },
    { "{\"status\":\"\"}", NULL },
    { "{\"status\":{\"code\":\"401\"}}", NULL },
    { "{\"status\":\"4 01\"}", NULL },
    { "{\"status\":\"\\u001b[2J\"}", NULL },
    { "{\"status\":\"0123456789012345678901234567890123456789012345678901"
      "234567890123456789\"}", NULL },
    /* Not JSON, or not all of it. */
    { "not json", NULL },
    { "[\"status\",\"401\"]", NULL },
    { "{\"status\":\"401\"", NULL },
    { "{\"status\":\"401\"} trailing", NULL },
    { "{\"status\":\"401\",}", NULL },
    { "{\"status\" \"401\"}", NULL },
    { "{\"status\":\"40\n1\"}", NULL },
    { "{\"status\":\"\\ud800\"}", NULL },
    { "{\"status\":\"\\u00\"}", NULL },
    { "{\"status\":\"\\x\"}", NULL },
    { "{\"a\":[[[[[[[[[[]]]]]]]]]],\"status\":\"401\"}", NULL },
  };
  const char *not_base64[] = {
    "", "!!not base64", "eyJzdGF0dXMiOiI0MDEifQ", "eyJz dGF0",
  };
  g_autoptr(GString) long_json = g_string_new ("{\"scope\":\"");
  g_autofree char *long_challenge = NULL;
  g_autofree char *long_status = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *challenge = base64_of_text (cases[i].json);
      g_autofree char *status = pop3_auth_oauth_challenge_status (challenge);

      g_test_message ("JSON %s", cases[i].json);
      g_assert_cmpstr (status, ==, cases[i].status);
    }

  for (guint i = 0; i < G_N_ELEMENTS (not_base64); i++)
    g_assert_null (pop3_auth_oauth_challenge_status (not_base64[i]));

  /* Past the bound, even valid JSON is not read. */
  while (long_json->len < 4096)
    g_string_append_c (long_json, 'x');
  g_string_append (long_json, "\",\"status\":\"401\"}");
  long_challenge = base64_of_text (long_json->str);
  long_status = pop3_auth_oauth_challenge_status (long_challenge);
  g_assert_null (long_status);
}

static void
test_oauth_value (void)
{
  const char *invalid[] = {
    "", "tok\r\nDELE 1", "tok\n", "\r", "tok\001en", "tok\ten", "tok\177",
  };

  g_assert_true (pop3_auth_is_valid_oauth_value ("ya29.a0Af-_~+/x=="));
  g_assert_true (pop3_auth_is_valid_oauth_value ("jos\xc3\xa9@example.com"));

  for (guint i = 0; i < G_N_ELEMENTS (invalid); i++)
    g_assert_false (pop3_auth_is_valid_oauth_value (invalid[i]));
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
  g_test_add_func ("/auth/xoauth2", test_xoauth2);
  g_test_add_func ("/auth/oauthbearer", test_oauthbearer);
  g_test_add_func ("/auth/oauth-challenge-status",
                   test_oauth_challenge_status);
  g_test_add_func ("/auth/oauth-value", test_oauth_value);

  status = g_test_run ();

  /* LeakSanitizer checks at exit: with no worker thread left. */
  popcheck_test_quiesce_threads ();

  return status;
}
