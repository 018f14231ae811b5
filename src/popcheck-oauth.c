/* popcheck-oauth.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One operation (a sign-in or a refresh) is one GTask with an Operation
 * as its data.  It ends exactly once (operation_return): the first of the
 * result, the timer and the caller's cancellable wins, and whatever is
 * still under way (the listener, a request) is closed or cancelled then.
 * Callbacks that come later see `done` and drop what they got.
 */

#define G_LOG_DOMAIN "popcheck-oauth"

#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "popcheck-oauth.h"

G_DEFINE_QUARK (popcheck-oauth-error-quark, popcheck_oauth_error)

/* A token reply is a few kilobytes (Microsoft's access tokens are the
 * longest, about 2 KiB); anything much longer is not one. */
#define MAX_REPLY_BYTES     (64 * 1024)
#define MAX_TOKEN_LENGTH    (16 * 1024)
/* Provider error codes and descriptions quoted to the user, at most. */
#define MAX_QUOTED_LENGTH   200
#define READ_CHUNK          8192

#define DEFAULT_SIGN_IN_SECONDS (5 * 60)
#define DEFAULT_REQUEST_SECONDS 30

/* Where the browser is sent back to.  Loopback redirects may use any port
 * (RFC 8252 section 7.3); the path is fixed. */
#define REDIRECT_PATH "/"

struct _PopcheckOAuthClient
{
  GObject                   parent_instance;

  PopcheckOAuthProvider    *provider;
  SoupSession              *session;
  PopcheckOAuthUriLauncher  launcher;
  gpointer                  launcher_data;
  GDestroyNotify            launcher_destroy;
  guint                     sign_in_seconds;
  guint                     request_seconds;
};

G_DEFINE_FINAL_TYPE (PopcheckOAuthClient, popcheck_oauth_client, G_TYPE_OBJECT)

/* Tokens */

static void
wipe_string (char *text)
{
  if (text != NULL)
    explicit_bzero (text, strlen (text));
  g_free (text);
}

PopcheckOAuthToken *
popcheck_oauth_token_copy (const PopcheckOAuthToken *token)
{
  PopcheckOAuthToken *copy;

  g_return_val_if_fail (token != NULL, NULL);

  copy = g_new0 (PopcheckOAuthToken, 1);
  copy->access_token = g_strdup (token->access_token);
  copy->refresh_token = g_strdup (token->refresh_token);
  copy->expires_at = token->expires_at;

  return copy;
}

void
popcheck_oauth_token_free (PopcheckOAuthToken *token)
{
  if (token == NULL)
    return;

  wipe_string (token->access_token);
  wipe_string (token->refresh_token);
  g_free (token);
}

G_DEFINE_BOXED_TYPE (PopcheckOAuthToken, popcheck_oauth_token,
                     popcheck_oauth_token_copy, popcheck_oauth_token_free)

gboolean
popcheck_oauth_token_expires_within (const PopcheckOAuthToken *token,
                                     guint                     margin_seconds)
{
  g_return_val_if_fail (token != NULL, TRUE);

  return token->expires_at - g_get_real_time () <
         (gint64) margin_seconds * G_USEC_PER_SEC;
}

/* A token goes into a SASL line as it is: printable ASCII without spaces
 * only, so that no CR, LF or other control character can end the line
 * early or smuggle a command in. */
static gboolean
is_token_text (const char *text)
{
  gsize length;

  if (text == NULL)
    return FALSE;

  length = strlen (text);
  if (length == 0 || length > MAX_TOKEN_LENGTH)
    return FALSE;

  for (gsize i = 0; i < length; i++)
    {
      if ((guchar) text[i] < 0x21 || (guchar) text[i] > 0x7e)
        return FALSE;
    }

  return TRUE;
}

/* What a provider says, fit to quote: printable ASCII, bounded; NULL when
 * there is nothing of the kind. */
static char *
quotable (const char *text)
{
  GString *out;

  if (text == NULL || *text == '\0')
    return NULL;

  out = g_string_new (NULL);
  for (const char *p = text; *p != '\0' && out->len < MAX_QUOTED_LENGTH; p++)
    g_string_append_c (out, g_ascii_isprint (*p) ? *p : '?');

  return g_string_free (out, FALSE);
}

/* Random values, base64url without padding (RFC 7636 section 4.1). */
static char *
random_base64url (gsize n_bytes)
{
  guchar bytes[32];
  gsize done = 0;
  char *text;

  g_assert (n_bytes <= sizeof bytes);

  while (done < n_bytes)
    {
      gssize got = getrandom (bytes + done, n_bytes - done, 0);

      /* Only a signal interrupts it: the kernel's pool never runs dry once
       * initialised.  Without it (a kernel before 3.17) there is no safe
       * state or verifier to make. */
      if (got > 0)
        done += got;
      else if (got < 0 && errno != EINTR)
        g_error ("No random numbers from the kernel: %s", g_strerror (errno));
    }

  text = g_base64_encode (bytes, n_bytes);
  explicit_bzero (bytes, sizeof bytes);
  g_strdelimit (text, "+", '-');
  g_strdelimit (text, "/", '_');
  g_strdelimit (text, "=", '\0');

  return text;
}

static char *
pkce_challenge (const char *verifier)
{
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  guint8 digest[32];
  gsize length = sizeof digest;
  char *text;

  g_checksum_update (checksum, (const guchar *) verifier, strlen (verifier));
  g_checksum_get_digest (checksum, digest, &length);
  text = g_base64_encode (digest, length);
  g_strdelimit (text, "+", '-');
  g_strdelimit (text, "/", '_');
  g_strdelimit (text, "=", '\0');

  return text;
}

/* Operations */

typedef enum
{
  KIND_SIGN_IN,
  KIND_REFRESH,
} OperationKind;

typedef struct
{
  OperationKind  kind;
  gboolean       done;
  GCancellable  *cancellable;  /* ours: cancels what is under way */
  GSource       *cancelled_source;
  guint          timeout_id;

  /* Sign-in */
  SoupServer    *server;
  char          *verifier;
  char          *state;
  char          *redirect_uri;
  char          *code;

  /* The end, returned from an idle once the listener is closed. */
  PopcheckOAuthToken *result;
  GError        *error;

  /* The token request */
  char          *refresh_token;
  SoupMessage   *message;
  GInputStream  *stream;
  GByteArray    *body;
} Operation;

static void
operation_free (Operation *op)
{
  g_assert (op->server == NULL);
  g_assert (op->timeout_id == 0);
  g_assert (op->cancelled_source == NULL);

  g_clear_object (&op->cancellable);
  popcheck_oauth_token_free (op->result);
  g_clear_error (&op->error);
  wipe_string (op->verifier);
  g_free (op->state);
  g_free (op->redirect_uri);
  wipe_string (op->code);
  wipe_string (op->refresh_token);
  g_clear_object (&op->message);
  g_clear_object (&op->stream);
  if (op->body != NULL)
    {
      explicit_bzero (op->body->data, op->body->len);
      g_byte_array_unref (op->body);
    }
  g_free (op);
}

static void
close_listener (Operation *op)
{
  if (op->server == NULL)
    return;

  soup_server_disconnect (op->server);
  g_clear_object (&op->server);
}

static void
stop_timer (Operation *op)
{
  g_clear_handle_id (&op->timeout_id, g_source_remove);
}

static gboolean
return_idle_cb (gpointer user_data)
{
  GTask *task = user_data;
  Operation *op = g_task_get_task_data (task);

  /* The listener is closed before the caller hears the end, so that a
   * finished sign-in never leaves the port open behind it. */
  close_listener (op);
  if (op->error != NULL)
    g_task_return_error (task, g_steal_pointer (&op->error));
  else
    g_task_return_pointer (task, g_steal_pointer (&op->result),
                           (GDestroyNotify) popcheck_oauth_token_free);

  return G_SOURCE_REMOVE;
}

/* Ends the operation with @token or @error (one of them), once.  The rest
 * happens from an idle: this may be called from inside the listener's own
 * handler, which must not be freed under it. */
static void
operation_return (GTask              *task,
                  PopcheckOAuthToken *token,
                  GError             *error)
{
  g_autoptr(GTask) held = g_object_ref (task);
  Operation *op = g_task_get_task_data (task);

  g_assert ((token == NULL) != (error == NULL));

  if (op->done)
    {
      popcheck_oauth_token_free (token);
      g_clear_error (&error);
      return;
    }

  op->done = TRUE;
  op->result = token;
  op->error = error;
  stop_timer (op);
  if (op->cancelled_source != NULL)
    {
      g_source_destroy (op->cancelled_source);
      g_clear_pointer (&op->cancelled_source, g_source_unref);
    }
  g_cancellable_cancel (op->cancellable);

  g_idle_add_full (G_PRIORITY_DEFAULT, return_idle_cb, g_object_ref (task),
                   g_object_unref);
}

static void
operation_fail (GTask      *task,
                int         code,
                const char *message)
{
  operation_return (task, NULL,
                    g_error_new_literal (POPCHECK_OAUTH_ERROR, code, message));
}

static gboolean
timeout_cb (gpointer user_data)
{
  GTask *task = user_data;
  Operation *op = g_task_get_task_data (task);

  op->timeout_id = 0;
  if (op->kind == KIND_SIGN_IN && op->code == NULL)
    operation_fail (task, POPCHECK_OAUTH_ERROR_TIMEOUT,
                    _("The sign-in was not finished in time. Sign in again "
                      "and finish it in the browser."));
  else
    operation_fail (task, POPCHECK_OAUTH_ERROR_TIMEOUT,
                    _("The sign-in service did not answer in time."));

  return G_SOURCE_REMOVE;
}

static void
start_timer (GTask *task,
             guint  seconds)
{
  Operation *op = g_task_get_task_data (task);

  stop_timer (op);
  op->timeout_id = g_timeout_add_seconds_full (G_PRIORITY_DEFAULT, seconds,
                                               timeout_cb,
                                               g_object_ref (task),
                                               g_object_unref);
}

static gboolean
cancelled_cb (GCancellable *cancellable,
              gpointer      user_data)
{
  GTask *task = user_data;

  operation_return (task, NULL,
                    g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                         _("The sign-in was cancelled.")));
  return G_SOURCE_REMOVE;
}

static GTask *
operation_new (PopcheckOAuthClient *self,
               OperationKind        kind,
               GCancellable        *cancellable,
               GAsyncReadyCallback  callback,
               gpointer             user_data,
               gpointer             source_tag)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  Operation *op = g_new0 (Operation, 1);

  g_task_set_source_tag (task, source_tag);
  op->kind = kind;
  op->cancellable = g_cancellable_new ();
  g_task_set_task_data (task, op, (GDestroyNotify) operation_free);

  /* A source rather than g_cancellable_connect(): it runs from the main
   * loop, never inside the caller's g_cancellable_cancel(). */
  if (cancellable != NULL)
    {
      op->cancelled_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (op->cancelled_source, G_SOURCE_FUNC (cancelled_cb),
                             g_object_ref (task), g_object_unref);
      g_source_attach (op->cancelled_source, g_main_context_get_thread_default ());
    }

  return task;
}

/* The token endpoint */

static void read_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data);

static GError *
reply_error (const char *code_text,
             const char *description)
{
  g_autofree char *code = quotable (code_text);
  g_autofree char *detail = quotable (description);

  if (g_strcmp0 (code, "invalid_grant") == 0)
    return g_error_new_literal (POPCHECK_OAUTH_ERROR,
                                POPCHECK_OAUTH_ERROR_INVALID_GRANT,
                                _("The sign-in is no longer valid. Sign in "
                                  "again."));

  if (g_strcmp0 (code, "access_denied") == 0)
    return g_error_new_literal (POPCHECK_OAUTH_ERROR,
                                POPCHECK_OAUTH_ERROR_ACCESS_DENIED,
                                _("Access to the mailbox was not allowed."));

  if (code == NULL)
    return NULL;

  if (detail != NULL)
    return g_error_new (POPCHECK_OAUTH_ERROR, POPCHECK_OAUTH_ERROR_PROVIDER,
                        _("The sign-in service refused: %s (%s)."),
                        detail, code);

  return g_error_new (POPCHECK_OAUTH_ERROR, POPCHECK_OAUTH_ERROR_PROVIDER,
                      _("The sign-in service refused: %s."), code);
}

static const char *
member_string (JsonObject *object,
               const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || JSON_NODE_TYPE (node) != JSON_NODE_VALUE ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;

  return json_node_get_string (node);
}

/* Seconds the access token lasts: a number, or a string of digits (some
 * providers send one); an hour when absent. */
static gint64
member_expires_in (JsonObject *object)
{
  JsonNode *node = json_object_get_member (object, "expires_in");
  gint64 seconds = 3600;

  if (node != NULL && JSON_NODE_TYPE (node) == JSON_NODE_VALUE)
    {
      GType type = json_node_get_value_type (node);

      if (type == G_TYPE_INT64)
        seconds = json_node_get_int (node);
      else if (type == G_TYPE_STRING)
        {
          guint64 parsed;

          if (g_ascii_string_to_unsigned (json_node_get_string (node), 10, 0,
                                          G_MAXINT32, &parsed, NULL))
            seconds = parsed;
        }
    }

  /* A day at most, so that a wild value cannot keep a dead token. */
  return CLAMP (seconds, 0, 24 * 60 * 60);
}

static void
finish_reply (GTask *task)
{
  Operation *op = g_task_get_task_data (task);
  guint status = soup_message_get_status (op->message);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(PopcheckOAuthToken) token = NULL;
  g_autoptr(GError) parse_error = NULL;
  JsonNode *root;
  JsonObject *object;
  const char *access_token;
  const char *refresh_token;
  const char *token_type;
  GError *error;

  if (!json_parser_load_from_data (parser, (const char *) op->body->data,
                                   op->body->len, &parse_error) ||
      (root = json_parser_get_root (parser)) == NULL ||
      JSON_NODE_TYPE (root) != JSON_NODE_OBJECT)
    {
      if (status >= 500 || (status != 200 && status != 400 && status != 401))
        {
          operation_return (task, NULL,
                            g_error_new (POPCHECK_OAUTH_ERROR,
                                         POPCHECK_OAUTH_ERROR_PROVIDER,
                                         _("The sign-in service failed "
                                           "(HTTP status %u). Try again "
                                           "later."), status));
          return;
        }
      operation_fail (task, POPCHECK_OAUTH_ERROR_BAD_REPLY,
                      _("The sign-in service sent a reply PopCheck does not "
                        "understand."));
      return;
    }

  object = json_node_get_object (root);
  if (status != 200)
    {
      error = reply_error (member_string (object, "error"),
                           member_string (object, "error_description"));
      if (error == NULL)
        error = g_error_new (POPCHECK_OAUTH_ERROR,
                             POPCHECK_OAUTH_ERROR_PROVIDER,
                             _("The sign-in service failed (HTTP status "
                               "%u). Try again later."), status);
      operation_return (task, NULL, error);
      return;
    }

  access_token = member_string (object, "access_token");
  refresh_token = member_string (object, "refresh_token");
  token_type = member_string (object, "token_type");

  if (access_token == NULL ||
      (token_type != NULL && g_ascii_strcasecmp (token_type, "bearer") != 0))
    {
      operation_fail (task, POPCHECK_OAUTH_ERROR_BAD_REPLY,
                      _("The sign-in service sent no access token."));
      return;
    }

  if (!is_token_text (access_token) ||
      (refresh_token != NULL && !is_token_text (refresh_token)))
    {
      operation_fail (task, POPCHECK_OAUTH_ERROR_BAD_REPLY,
                      _("The sign-in service sent a token with characters "
                        "a token cannot have."));
      return;
    }

  token = g_new0 (PopcheckOAuthToken, 1);
  token->access_token = g_strdup (access_token);
  /* A refresh may come without a new refresh token: the old one stays
   * good. */
  token->refresh_token = g_strdup (refresh_token != NULL ? refresh_token
                                                         : op->refresh_token);
  token->expires_at = g_get_real_time () +
                      member_expires_in (object) * G_USEC_PER_SEC;

  /* The parser's copies of the tokens go with it; the reply's bytes are
   * wiped when the operation is freed. */
  operation_return (task, g_steal_pointer (&token), NULL);
}

static void
read_next (GTask *task)
{
  Operation *op = g_task_get_task_data (task);

  g_input_stream_read_bytes_async (op->stream, READ_CHUNK, G_PRIORITY_DEFAULT,
                                   op->cancellable, read_cb,
                                   g_object_ref (task));
}

static void
read_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Operation *op = g_task_get_task_data (task);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  gsize size;

  bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (object), result,
                                            &error);
  if (op->done)
    return;

  if (bytes == NULL)
    {
      g_debug ("Reading the token reply failed: %s", error->message);
      operation_fail (task, POPCHECK_OAUTH_ERROR_NETWORK,
                      _("The connection to the sign-in service broke off."));
      return;
    }

  size = g_bytes_get_size (bytes);
  if (size == 0)
    {
      finish_reply (task);
      return;
    }

  if (op->body->len + size > MAX_REPLY_BYTES)
    {
      operation_fail (task, POPCHECK_OAUTH_ERROR_BAD_REPLY,
                      _("The sign-in service sent a reply far too long to "
                        "be one."));
      return;
    }

  g_byte_array_append (op->body, g_bytes_get_data (bytes, NULL), size);
  read_next (task);
}

static void
sent_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Operation *op = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  GInputStream *stream;

  stream = soup_session_send_finish (SOUP_SESSION (object), result, &error);
  if (op->done)
    {
      g_clear_object (&stream);
      return;
    }

  if (stream == NULL)
    {
      g_autofree char *text = NULL;

      /* The reason (refused, no route, a certificate) helps the user find
       * what is wrong with the network; it never holds a token. */
      text = g_strdup_printf (_("The sign-in service could not be reached: "
                                "%s"), error->message);
      operation_fail (task, POPCHECK_OAUTH_ERROR_NETWORK, text);
      return;
    }

  op->stream = stream;
  op->body = g_byte_array_new ();
  read_next (task);
}

/* Posts @form (taken, and wiped after) to the token endpoint. */
static void
request_token (GTask *task,
               char  *form)
{
  PopcheckOAuthClient *self = g_task_get_source_object (task);
  Operation *op = g_task_get_task_data (task);
  const char *endpoint = popcheck_oauth_provider_get_token_endpoint (self->provider);
  g_autoptr(GBytes) body = NULL;
  gsize length = strlen (form);

  op->message = soup_message_new ("POST", endpoint);
  if (op->message == NULL)
    {
      wipe_string (form);
      operation_fail (task, POPCHECK_OAUTH_ERROR_NOT_CONFIGURED,
                      _("The address of the sign-in service is not valid."));
      return;
    }

  /* The body owns a copy only as long as the message needs it; ours is
   * wiped at once. */
  body = g_bytes_new (form, length);
  wipe_string (form);
  soup_message_set_request_body_from_bytes (op->message,
                                            SOUP_FORM_MIME_TYPE_URLENCODED,
                                            body);
  soup_message_headers_append (soup_message_get_request_headers (op->message),
                               "Accept", "application/json");
  /* A token endpoint answers itself; a redirect would send the code or
   * refresh token on to an address nobody checked. */
  soup_message_add_flags (op->message, SOUP_MESSAGE_NO_REDIRECT);

  start_timer (task, self->request_seconds);
  soup_session_send_async (self->session, op->message, G_PRIORITY_DEFAULT,
                           op->cancellable, sent_cb, g_object_ref (task));
}

/* The loopback listener */

static const char page_template[] =
  "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>PopCheck</title>"
  "</head><body><p>%s</p></body></html>\n";

static void
respond (SoupServerMessage *message,
         guint              status,
         const char        *text)
{
  g_autofree char *escaped = g_markup_escape_text (text, -1);
  g_autofree char *page = g_strdup_printf (page_template, escaped);

  soup_server_message_set_status (message, status, NULL);
  soup_server_message_set_response (message, "text/html; charset=utf-8",
                                    SOUP_MEMORY_COPY, page, strlen (page));
}

static void
exchange_code (GTask *task)
{
  PopcheckOAuthClient *self = g_task_get_source_object (task);
  Operation *op = g_task_get_task_data (task);

  request_token (task,
                 soup_form_encode ("grant_type", "authorization_code",
                                   "code", op->code,
                                   "redirect_uri", op->redirect_uri,
                                   "client_id", popcheck_oauth_provider_get_client_id (self->provider),
                                   "code_verifier", op->verifier,
                                   NULL));
}

static gboolean
exchange_idle_cb (gpointer user_data)
{
  GTask *task = user_data;
  Operation *op = g_task_get_task_data (task);

  if (!op->done)
    {
      close_listener (op);
      exchange_code (task);
    }

  return G_SOURCE_REMOVE;
}

/* The browser has its page: close the listener (from an idle, not inside
 * the server's own signal), then trade the code. */
static void
redirect_answered_cb (SoupServerMessage *message,
                      gpointer           user_data)
{
  GTask *task = user_data;

  g_signal_handlers_disconnect_by_func (message, redirect_answered_cb, task);
  g_idle_add_full (G_PRIORITY_DEFAULT, exchange_idle_cb, task,
                   g_object_unref);
}

static void
redirect_cb (SoupServer        *server,
             SoupServerMessage *message,
             const char        *path,
             GHashTable        *query,
             gpointer           user_data)
{
  GTask *task = user_data;
  Operation *op = g_task_get_task_data (task);
  const char *state;
  const char *code;
  const char *error_code;
  g_autoptr(GError) error = NULL;

  /* A browser also asks for /favicon.ico and the like: not the redirect,
   * and no reason to stop waiting for it. */
  if (op->done || op->code != NULL || g_strcmp0 (path, REDIRECT_PATH) != 0 ||
      g_strcmp0 (soup_server_message_get_method (message), "GET") != 0)
    {
      soup_server_message_set_status (message, SOUP_STATUS_NOT_FOUND, NULL);
      return;
    }

  state = query != NULL ? g_hash_table_lookup (query, "state") : NULL;
  code = query != NULL ? g_hash_table_lookup (query, "code") : NULL;
  error_code = query != NULL ? g_hash_table_lookup (query, "error") : NULL;

  /* Only the browser we sent knows the state: anything else reaching the
   * port (another program, a forged link) ends the sign-in unused. */
  if (g_strcmp0 (state, op->state) != 0)
    {
      respond (message, SOUP_STATUS_BAD_REQUEST,
               _("This sign-in does not match the one PopCheck started. "
                 "Close this page and sign in again from PopCheck."));
      operation_fail (task, POPCHECK_OAUTH_ERROR_BAD_REPLY,
                      _("The answer from the browser does not match the "
                        "sign-in PopCheck started. Sign in again."));
      return;
    }

  if (error_code != NULL || code == NULL || !is_token_text (code))
    {
      error = reply_error (error_code,
                           g_hash_table_lookup (query, "error_description"));
      if (error == NULL)
        error = g_error_new_literal (POPCHECK_OAUTH_ERROR,
                                     POPCHECK_OAUTH_ERROR_BAD_REPLY,
                                     _("The sign-in service sent the browser "
                                       "back without a code."));
      respond (message, SOUP_STATUS_OK,
               _("PopCheck was not signed in. You can close this page."));
      operation_return (task, NULL, g_steal_pointer (&error));
      return;
    }

  /* The timer runs on: a browser that never reads its page must not
   * hold the sign-in. */
  op->code = g_strdup (code);
  respond (message, SOUP_STATUS_OK,
           _("PopCheck is signed in. You can close this page and go back "
             "to PopCheck."));
  g_signal_connect (message, "finished", G_CALLBACK (redirect_answered_cb),
                    g_object_ref (task));
}

static gboolean
open_browser (PopcheckOAuthClient  *self,
              const char           *uri,
              GError              **error)
{
  g_autoptr(GError) launch_error = NULL;

  if (self->launcher != NULL)
    return self->launcher (uri, self->launcher_data, error);

  if (!g_app_info_launch_default_for_uri (uri, NULL, &launch_error))
    {
      g_set_error (error, POPCHECK_OAUTH_ERROR, POPCHECK_OAUTH_ERROR_BROWSER,
                   _("No web browser could be opened to sign in: %s"),
                   launch_error->message);
      return FALSE;
    }

  return TRUE;
}

static char *
authorization_uri (PopcheckOAuthClient *self,
                   Operation           *op,
                   const char          *login_hint)
{
  const char *endpoint = popcheck_oauth_provider_get_authorization_endpoint (self->provider);
  g_autofree char *challenge = pkce_challenge (op->verifier);
  g_autofree char *query = NULL;
  GHashTable *form = g_hash_table_new (g_str_hash, g_str_equal);

  g_hash_table_insert (form, "response_type", "code");
  g_hash_table_insert (form, "client_id",
                       (char *) popcheck_oauth_provider_get_client_id (self->provider));
  g_hash_table_insert (form, "redirect_uri", op->redirect_uri);
  g_hash_table_insert (form, "scope",
                       (char *) popcheck_oauth_provider_get_scope (self->provider));
  g_hash_table_insert (form, "state", op->state);
  g_hash_table_insert (form, "code_challenge", challenge);
  g_hash_table_insert (form, "code_challenge_method", "S256");
  if (login_hint != NULL && *login_hint != '\0')
    g_hash_table_insert (form, "login_hint", (char *) login_hint);
  query = soup_form_encode_hash (form);
  g_hash_table_unref (form);

  return g_strconcat (endpoint, strchr (endpoint, '?') != NULL ? "&" : "?",
                      query, NULL);
}

static gboolean
start_listener (GTask   *task,
                GError **error)
{
  Operation *op = g_task_get_task_data (task);
  g_autoptr(GInetAddress) loopback = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  GSList *uris;
  guint port;

  op->server = soup_server_new ("server-header", NULL, NULL);
  /* The handler holds the task until the listener is closed. */
  soup_server_add_handler (op->server, NULL, redirect_cb, g_object_ref (task),
                           g_object_unref);

  /* 127.0.0.1 only, not "localhost" (which may resolve elsewhere) and not
   * every interface: nothing but this machine may reach the port. */
  loopback = g_inet_address_new_from_string ("127.0.0.1");
  address = g_inet_socket_address_new (loopback, 0);
  if (!soup_server_listen (op->server, address, 0, error))
    return FALSE;

  uris = soup_server_get_uris (op->server);
  g_assert (uris != NULL);
  port = g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  op->redirect_uri = g_strdup_printf ("http://127.0.0.1:%u" REDIRECT_PATH,
                                      port);
  return TRUE;
}

void
popcheck_oauth_client_sign_in_async (PopcheckOAuthClient *self,
                                     const char          *login_hint,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = NULL;
  Operation *op;

  g_return_if_fail (POPCHECK_IS_OAUTH_CLIENT (self));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = operation_new (self, KIND_SIGN_IN, cancellable, callback, user_data,
                        popcheck_oauth_client_sign_in_async);
  op = g_task_get_task_data (task);

  if (!popcheck_oauth_provider_check (self->provider, &error))
    {
      operation_return (task, NULL, g_steal_pointer (&error));
      return;
    }

  if (!start_listener (task, &error))
    {
      g_autofree char *text = NULL;

      text = g_strdup_printf (_("PopCheck could not wait for the browser: %s"),
                              error->message);
      operation_fail (task, POPCHECK_OAUTH_ERROR_BROWSER, text);
      return;
    }

  /* RFC 7636: 32 random bytes make a 43-character verifier. */
  op->verifier = random_base64url (32);
  op->state = random_base64url (16);
  uri = authorization_uri (self, op, login_hint);

  start_timer (task, self->sign_in_seconds);
  if (!open_browser (self, uri, &error))
    operation_return (task, NULL, g_steal_pointer (&error));
}

PopcheckOAuthToken *
popcheck_oauth_client_sign_in_finish (PopcheckOAuthClient  *self,
                                      GAsyncResult         *result,
                                      GError              **error)
{
  g_return_val_if_fail (POPCHECK_IS_OAUTH_CLIENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        popcheck_oauth_client_sign_in_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

void
popcheck_oauth_client_refresh_async (PopcheckOAuthClient *self,
                                     const char          *refresh_token,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  Operation *op;

  g_return_if_fail (POPCHECK_IS_OAUTH_CLIENT (self));
  g_return_if_fail (refresh_token != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = operation_new (self, KIND_REFRESH, cancellable, callback, user_data,
                        popcheck_oauth_client_refresh_async);
  op = g_task_get_task_data (task);

  if (!popcheck_oauth_provider_check (self->provider, &error))
    {
      operation_return (task, NULL, g_steal_pointer (&error));
      return;
    }

  /* A refresh token that could not be sent as it is (from a damaged
   * keyring item) is as good as none. */
  if (!is_token_text (refresh_token))
    {
      operation_fail (task, POPCHECK_OAUTH_ERROR_INVALID_GRANT,
                      _("The sign-in is no longer valid. Sign in again."));
      return;
    }

  op->refresh_token = g_strdup (refresh_token);
  request_token (task,
                 soup_form_encode ("grant_type", "refresh_token",
                                   "refresh_token", refresh_token,
                                   "client_id", popcheck_oauth_provider_get_client_id (self->provider),
                                   NULL));
}

PopcheckOAuthToken *
popcheck_oauth_client_refresh_finish (PopcheckOAuthClient  *self,
                                      GAsyncResult         *result,
                                      GError              **error)
{
  g_return_val_if_fail (POPCHECK_IS_OAUTH_CLIENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        popcheck_oauth_client_refresh_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* The object */

static void
popcheck_oauth_client_finalize (GObject *object)
{
  PopcheckOAuthClient *self = POPCHECK_OAUTH_CLIENT (object);

  if (self->launcher_destroy != NULL)
    self->launcher_destroy (self->launcher_data);
  g_clear_object (&self->provider);
  g_clear_object (&self->session);

  G_OBJECT_CLASS (popcheck_oauth_client_parent_class)->finalize (object);
}

static void
popcheck_oauth_client_class_init (PopcheckOAuthClientClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = popcheck_oauth_client_finalize;
}

static void
popcheck_oauth_client_init (PopcheckOAuthClient *self)
{
  self->sign_in_seconds = DEFAULT_SIGN_IN_SECONDS;
  self->request_seconds = DEFAULT_REQUEST_SECONDS;
  /* No cookie jar or cache: a token request leaves nothing behind. */
  self->session = soup_session_new_with_options ("user-agent",
                                                 "PopCheck/" PACKAGE_VERSION,
                                                 NULL);
}

PopcheckOAuthClient *
popcheck_oauth_client_new (PopcheckOAuthProvider *provider)
{
  PopcheckOAuthClient *self;

  g_return_val_if_fail (POPCHECK_IS_OAUTH_PROVIDER (provider), NULL);

  self = g_object_new (POPCHECK_TYPE_OAUTH_CLIENT, NULL);
  self->provider = g_object_ref (provider);

  return self;
}

PopcheckOAuthProvider *
popcheck_oauth_client_get_provider (PopcheckOAuthClient *self)
{
  g_return_val_if_fail (POPCHECK_IS_OAUTH_CLIENT (self), NULL);

  return self->provider;
}

void
popcheck_oauth_client_set_uri_launcher (PopcheckOAuthClient      *self,
                                        PopcheckOAuthUriLauncher  launcher,
                                        gpointer                  user_data,
                                        GDestroyNotify            destroy)
{
  g_return_if_fail (POPCHECK_IS_OAUTH_CLIENT (self));

  if (self->launcher_destroy != NULL)
    self->launcher_destroy (self->launcher_data);
  self->launcher = launcher;
  self->launcher_data = user_data;
  self->launcher_destroy = destroy;
}

void
popcheck_oauth_client_set_timeouts (PopcheckOAuthClient *self,
                                    guint                sign_in_seconds,
                                    guint                request_seconds)
{
  g_return_if_fail (POPCHECK_IS_OAUTH_CLIENT (self));
  g_return_if_fail (sign_in_seconds > 0);
  g_return_if_fail (request_seconds > 0);

  self->sign_in_seconds = sign_in_seconds;
  self->request_seconds = request_seconds;
}
