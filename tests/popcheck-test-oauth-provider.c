/* popcheck-test-oauth-provider.c: tests/oauth-provider.py, and a browser
 * for it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "popcheck-test"

#include "config.h"

#include <string.h>

#include "popcheck-test-oauth-provider.h"
#include "popcheck-test-util.h"

#define WAIT_MS 20000

static void
result_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static void
port_line_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  char **line = user_data;
  g_autoptr(GError) error = NULL;

  *line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (object),
                                                     result, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (*line);
}

void
popcheck_test_oauth_provider_start (PopcheckTestOAuthProvider *self,
                                    const char                *client_id)
{
  g_autofree char *script = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  guint64 port;

  script = g_build_filename (g_getenv ("POPCHECK_SOURCE_DIR"), "tests",
                             "oauth-provider.py", NULL);
  self->process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                    G_SUBPROCESS_FLAGS_STDOUT_PIPE,
                                    &error, "/usr/bin/python3", script,
                                    "--client-id", client_id, NULL);
  g_assert_no_error (error);
  /* It says its port once it listens. */
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (self->process));
  g_data_input_stream_read_line_async (out, G_PRIORITY_DEFAULT, NULL,
                                       port_line_cb, &line);
  POPCHECK_TEST_WAIT_UNTIL (line != NULL, WAIT_MS);
  g_assert_true (g_ascii_string_to_unsigned (line, 10, 1, G_MAXUINT16, &port,
                                             NULL));
  self->port = port;
  self->browser = soup_session_new ();
}

void
popcheck_test_oauth_provider_stop (PopcheckTestOAuthProvider *self)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  g_clear_object (&self->browser);
  g_clear_pointer (&self->opened_uri, g_free);

  /* The provider stops when its standard input closes. */
  g_output_stream_close (g_subprocess_get_stdin_pipe (self->process),
                         NULL, &error);
  g_assert_no_error (error);
  g_subprocess_wait_async (self->process, NULL, result_cb, &result);
  POPCHECK_TEST_WAIT_UNTIL (result != NULL, WAIT_MS);
  g_assert_true (g_subprocess_wait_finish (self->process, result, &error));
  g_assert_no_error (error);
  g_clear_object (&self->process);
}

gboolean
popcheck_test_oauth_provider_open_uri (const char  *uri,
                                       gpointer     user_data,
                                       GError     **error)
{
  PopcheckTestOAuthProvider *self = user_data;

  g_free (self->opened_uri);
  self->opened_uri = g_strdup (uri);
  return TRUE;
}

char *
popcheck_test_oauth_provider_uri (PopcheckTestOAuthProvider *self,
                                  const char                *path)
{
  return g_strdup_printf ("http://127.0.0.1:%u%s", self->port, path);
}

void
popcheck_test_page_free (PopcheckTestPage *page)
{
  g_free (page->location);
  g_free (page->body);
  g_clear_error (&page->error);
  g_free (page);
}

PopcheckTestPage *
popcheck_test_oauth_fetch (PopcheckTestOAuthProvider *self,
                           const char                *method,
                           const char                *uri,
                           const char                *form)
{
  g_autoptr(SoupMessage) message = soup_message_new (method, uri);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GBytes) body = NULL;
  PopcheckTestPage *page = g_new0 (PopcheckTestPage, 1);

  g_assert_nonnull (message);
  soup_message_add_flags (message, SOUP_MESSAGE_NO_REDIRECT);
  if (form != NULL)
    {
      g_autoptr(GBytes) request = g_bytes_new (form, strlen (form));

      soup_message_set_request_body_from_bytes (message,
                                                SOUP_FORM_MIME_TYPE_URLENCODED,
                                                request);
    }

  soup_session_send_and_read_async (self->browser, message,
                                    G_PRIORITY_DEFAULT, NULL, result_cb,
                                    &result);
  POPCHECK_TEST_WAIT_UNTIL (result != NULL, WAIT_MS);
  body = soup_session_send_and_read_finish (self->browser, result,
                                            &page->error);
  page->status = soup_message_get_status (message);
  page->location = g_strdup (soup_message_headers_get_one (soup_message_get_response_headers (message),
                                                           "Location"));
  if (body != NULL)
    page->body = g_strndup (g_bytes_get_data (body, NULL),
                            g_bytes_get_size (body));

  return page;
}
