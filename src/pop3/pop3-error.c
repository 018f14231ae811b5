/* pop3-error.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "pop3-error"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "pop3-error.h"
#include "pop3-text.h"
#include "pop3-tls.h"

typedef struct
{
  /* RFC 2449, section 8, upper case: "IN-USE", "SYS/TEMP", ... */
  char                 *response_code;
  /* The text of the server's -ERR, as it sent it. */
  char                 *server_text;
  /* What went wrong, without the sentence around it: the server's words,
   * the system's reason, the certificate's problems. */
  char                 *detail;
  GTlsCertificateFlags  certificate_errors;
  /* The "status" of a refused access token's JSON (RFC 7628). */
  char                 *oauth_status;
} Pop3ErrorPrivate;

/* GLib hands the private data over zeroed; the asserts below tell the
 * compiler what G_DEFINE_EXTENDED_ERROR's accessor guarantees. */
static void
pop3_error_private_init (Pop3ErrorPrivate *priv)
{
}

static void
pop3_error_private_copy (const Pop3ErrorPrivate *src,
                         Pop3ErrorPrivate       *dest)
{
  g_assert (src != NULL && dest != NULL);

  dest->response_code = g_strdup (src->response_code);
  dest->server_text = g_strdup (src->server_text);
  dest->detail = g_strdup (src->detail);
  dest->certificate_errors = src->certificate_errors;
  dest->oauth_status = g_strdup (src->oauth_status);
}

static void
pop3_error_private_clear (Pop3ErrorPrivate *priv)
{
  g_assert (priv != NULL);

  g_clear_pointer (&priv->response_code, g_free);
  g_clear_pointer (&priv->server_text, g_free);
  g_clear_pointer (&priv->detail, g_free);
  g_clear_pointer (&priv->oauth_status, g_free);
}

G_DEFINE_EXTENDED_ERROR (Pop3Error, pop3_error)

static const Pop3ErrorPrivate *
get_private (const GError *error)
{
  if (error == NULL || error->domain != POP3_ERROR)
    return NULL;

  return pop3_error_get_private (error);
}

const char *
pop3_error_get_response_code (const GError *error)
{
  const Pop3ErrorPrivate *priv = get_private (error);

  return priv != NULL ? priv->response_code : NULL;
}

const char *
pop3_error_get_server_text (const GError *error)
{
  const Pop3ErrorPrivate *priv = get_private (error);

  return priv != NULL ? priv->server_text : NULL;
}

/* Errors without a detail of their own (another domain's, or one the
 * engine put in one sentence) are their own detail. */
const char *
pop3_error_get_detail (const GError *error)
{
  const Pop3ErrorPrivate *priv = get_private (error);

  g_return_val_if_fail (error != NULL, NULL);

  if (priv != NULL && priv->detail != NULL)
    return priv->detail;

  return error->message;
}

GTlsCertificateFlags
pop3_error_get_certificate_errors (const GError *error)
{
  const Pop3ErrorPrivate *priv = get_private (error);

  return priv != NULL ? priv->certificate_errors : 0;
}

const char *
pop3_error_get_oauth_status (const GError *error)
{
  const Pop3ErrorPrivate *priv = get_private (error);

  return priv != NULL ? priv->oauth_status : NULL;
}

/* RFC 2449, section 8.1 and RFC 3206: a response code says more than the
 * command it answered, whichever command that was. */
static gboolean
sort_response_code (const char    *code,
                    Pop3ErrorKind *kind)
{
  if (code == NULL)
    return FALSE;

  if (g_str_equal (code, "IN-USE") || g_str_equal (code, "LOGIN-DELAY"))
    *kind = POP3_ERROR_KIND_SERVER_BUSY;
  else if (g_str_equal (code, "SYS/TEMP") || g_str_equal (code, "SYS/PERM"))
    *kind = POP3_ERROR_KIND_SERVER_REFUSED;
  else if (g_str_equal (code, "AUTH"))
    *kind = POP3_ERROR_KIND_AUTH;
  else
    return FALSE;

  return TRUE;
}

static Pop3ErrorKind
sort_pop3_error (const GError *error)
{
  Pop3ErrorKind kind;

  if (sort_response_code (pop3_error_get_response_code (error), &kind))
    return kind;

  switch ((Pop3Error) error->code)
    {
    case POP3_ERROR_SERVER:
      return POP3_ERROR_KIND_SERVER_REFUSED;
    case POP3_ERROR_PROTOCOL:
    case POP3_ERROR_LINE_TOO_LONG:
    case POP3_ERROR_RESPONSE_TOO_LONG:
    case POP3_ERROR_NOT_SUPPORTED:
      return POP3_ERROR_KIND_PROTOCOL;
    case POP3_ERROR_TLS:
      return POP3_ERROR_KIND_TLS;
    case POP3_ERROR_CERTIFICATE:
      return POP3_ERROR_KIND_CERTIFICATE;
    case POP3_ERROR_AUTH:
    case POP3_ERROR_AUTH_TOKEN:
      return POP3_ERROR_KIND_AUTH;
    case POP3_ERROR_TIMEOUT:
      return POP3_ERROR_KIND_TIMEOUT;
    case POP3_ERROR_CLOSED:
    case POP3_ERROR_CONNECT:
      return POP3_ERROR_KIND_NETWORK;
    case POP3_ERROR_INVALID_ARGUMENT:
      /* A user name with a line break: the settings must change. */
      return POP3_ERROR_KIND_LOCAL;
    default:
      return POP3_ERROR_KIND_PROTOCOL;
    }
}

/* GIO's own errors, should one reach a caller unwrapped: the socket's
 * codes are the network's; the rest (files, arguments) are this
 * computer's. */
static Pop3ErrorKind
sort_io_error (const GError *error)
{
  switch ((GIOErrorEnum) error->code)
    {
    case G_IO_ERROR_CANCELLED:
      return POP3_ERROR_KIND_CANCELLED;
    case G_IO_ERROR_TIMED_OUT:
      return POP3_ERROR_KIND_TIMEOUT;
    case G_IO_ERROR_CONNECTION_REFUSED:
    case G_IO_ERROR_CONNECTION_CLOSED:  /* also G_IO_ERROR_BROKEN_PIPE */
    case G_IO_ERROR_NOT_CONNECTED:
    case G_IO_ERROR_HOST_NOT_FOUND:
    case G_IO_ERROR_HOST_UNREACHABLE:
    case G_IO_ERROR_NETWORK_UNREACHABLE:
    case G_IO_ERROR_PROXY_FAILED:
    case G_IO_ERROR_PROXY_AUTH_FAILED:
    case G_IO_ERROR_PROXY_NEED_AUTH:
    case G_IO_ERROR_PROXY_NOT_ALLOWED:
      return POP3_ERROR_KIND_NETWORK;
    default:
      return POP3_ERROR_KIND_LOCAL;
    }
}

/**
 * pop3_error_get_kind:
 * @error: any error
 *
 * Sorts @error into what the app does about it.  No I/O, no message text:
 * the domain, the code and the data on the error decide.  Errors of
 * domains the engine does not know (the keyring's, the app's own) are
 * local.
 */
Pop3ErrorKind
pop3_error_get_kind (const GError *error)
{
  g_return_val_if_fail (error != NULL, POP3_ERROR_KIND_LOCAL);

  if (error->domain == POP3_ERROR)
    return sort_pop3_error (error);

  if (error->domain == G_IO_ERROR)
    return sort_io_error (error);

  if (error->domain == G_RESOLVER_ERROR)
    return POP3_ERROR_KIND_NETWORK;

  if (error->domain == G_TLS_ERROR)
    return g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE)
             ? POP3_ERROR_KIND_CERTIFICATE
             : POP3_ERROR_KIND_TLS;

  return POP3_ERROR_KIND_LOCAL;
}

/* Constructors: the data goes on the error where the error is made. */

static GError *
new_error (Pop3Error          code,
           const char        *message,
           const char        *detail,
           Pop3ErrorPrivate **priv)
{
  GError *error = g_error_new_literal (POP3_ERROR, code, message);

  *priv = pop3_error_get_private (error);
  g_assert (*priv != NULL);
  (*priv)->detail = g_strdup (detail);

  return error;
}

/**
 * pop3_error_new_for_reply:
 * @response_code: (nullable): the reply's RFC 2449 response code
 * @text: the reply's text, after "-ERR "
 *
 * The error for a -ERR: %POP3_ERROR_SERVER, its message the server's text
 * without control characters (pop3_text_sanitize_line()), the response
 * code and that text kept on the error for pop3_error_describe() to put in
 * words.
 */
GError *
pop3_error_new_for_reply (const char *response_code,
                          const char *text)
{
  GError *error;
  Pop3ErrorPrivate *priv;
  g_autofree char *clean = NULL;

  g_return_val_if_fail (text != NULL, NULL);

  /* The server's words reach terminals, labels and notifications. */
  clean = pop3_text_sanitize_line (text);
  error = new_error (POP3_ERROR_SERVER,
                     *clean != '\0' ? clean
                                    : _("The server refused the command."),
                     *clean != '\0' ? clean : NULL, &priv);
  priv->response_code = g_strdup (response_code);
  priv->server_text = g_steal_pointer (&clean);

  return error;
}

/**
 * pop3_error_new_not_pinned:
 * @errors: what validation found, 0 when the certificate passed it
 * @fingerprint: (nullable): its SHA-256 fingerprint
 *
 * A certificate refused because the account pins another one.  It is a
 * %POP3_ERROR_CERTIFICATE, so it waits for the user like any certificate
 * problem: only a person can tell a new certificate from an attack.
 */
GError *
pop3_error_new_not_pinned (GTlsCertificateFlags  errors,
                           const char           *fingerprint)
{
  g_autofree char *detail = NULL;
  g_autofree char *message = NULL;
  GError *error;
  Pop3ErrorPrivate *priv;

  if (fingerprint == NULL)
    fingerprint = "?";

  /* Translators: the fingerprint of the certificate the server showed. */
  detail = g_strdup_printf (_("not the pinned certificate (SHA-256 "
                              "fingerprint %s)"), fingerprint);
  message = g_strdup_printf (_("The server’s certificate is not trusted: %s."),
                             detail);
  error = new_error (POP3_ERROR_CERTIFICATE, message, detail, &priv);
  priv->certificate_errors = errors;

  return error;
}

/**
 * pop3_error_new_token_refused:
 * @cause: the -ERR that ended an XOAUTH2 or OAUTHBEARER exchange
 * @oauth_status: (nullable): the status of the server's JSON challenge
 *
 * @cause as %POP3_ERROR_AUTH_TOKEN, the server's text and response code
 * kept, @oauth_status added: what an app needs to get a fresh token and
 * try once more.
 */
GError *
pop3_error_new_token_refused (const GError *cause,
                              const char   *oauth_status)
{
  GError *error;
  Pop3ErrorPrivate *priv;

  g_return_val_if_fail (cause != NULL, NULL);
  g_return_val_if_fail (cause->domain == POP3_ERROR, NULL);

  error = g_error_copy (cause);
  error->code = POP3_ERROR_AUTH_TOKEN;
  priv = pop3_error_get_private (error);
  g_assert (priv != NULL);
  g_free (priv->oauth_status);
  priv->oauth_status = g_strdup (oauth_status);

  return error;
}

/**
 * pop3_error_new_reworded:
 * @cause: an error
 * @message: (transfer full): what to say instead, @cause's words included
 *
 * @cause in new words, for a caller that puts it in context ("Nothing was
 * deleted: …").  Domain, code, response code and certificate flags stay,
 * so it sorts as @cause does; the server's text is in @message already.
 */
GError *
pop3_error_new_reworded (const GError *cause,
                         char         *message)
{
  GError *error;

  g_return_val_if_fail (cause != NULL, NULL);
  g_return_val_if_fail (message != NULL, NULL);

  error = g_error_copy (cause);
  g_free (error->message);
  error->message = message;

  if (error->domain == POP3_ERROR)
    {
      Pop3ErrorPrivate *priv = pop3_error_get_private (error);

      g_assert (priv != NULL);
      g_clear_pointer (&priv->server_text, g_free);
    }

  return error;
}

/* One wording for each kind of -ERR. */
static const char *
reply_headline (Pop3ErrorKind  kind,
                const char    *response_code)
{
  switch (kind)
    {
    case POP3_ERROR_KIND_AUTH:
      return _("The server refused the user name or password.");
    case POP3_ERROR_KIND_SERVER_BUSY:
      if (g_strcmp0 (response_code, "LOGIN-DELAY") == 0)
        return _("The server allows only a limited number of logins.");
      return _("The mailbox is in use by another mail program.");
    case POP3_ERROR_KIND_SERVER_REFUSED:
      if (g_strcmp0 (response_code, "SYS/TEMP") == 0)
        return _("The server has a temporary problem.");
      if (g_strcmp0 (response_code, "SYS/PERM") == 0)
        return _("The server has a lasting problem with this mailbox.");
      return _("The server refused the command.");
    case POP3_ERROR_KIND_NETWORK:
    case POP3_ERROR_KIND_TIMEOUT:
    case POP3_ERROR_KIND_PROTOCOL:
    case POP3_ERROR_KIND_TLS:
    case POP3_ERROR_KIND_CERTIFICATE:
    case POP3_ERROR_KIND_CANCELLED:
    case POP3_ERROR_KIND_LOCAL:
    default:
      return _("The server refused the command.");
    }
}

/**
 * pop3_error_describe:
 * @error: any error
 *
 * One sentence for a person.  A -ERR gets its kind's wording and the
 * server's words, once; the engine's other errors are worded where they
 * are made (naming the server), as are the app's own.
 *
 * Returns: (transfer full): the sentence
 */
char *
pop3_error_describe (const GError *error)
{
  Pop3ErrorKind kind;
  const char *server_text;
  const char *headline;

  g_return_val_if_fail (error != NULL, NULL);

  kind = pop3_error_get_kind (error);
  if (kind == POP3_ERROR_KIND_CANCELLED)
    return g_strdup (_("The operation was cancelled."));

  server_text = pop3_error_get_server_text (error);
  if (server_text == NULL)
    return g_strdup (error->message);

  if (kind == POP3_ERROR_KIND_AUTH &&
      g_error_matches (error, POP3_ERROR, POP3_ERROR_AUTH_TOKEN))
    headline = _("The server refused the access token; it may have expired "
                 "or been revoked.");
  else
    headline = reply_headline (kind, pop3_error_get_response_code (error));
  if (*server_text == '\0')
    return g_strdup (headline);

  /* Translators: the first %s is a sentence such as "The server refused
   * the command.", the second what the server said. */
  return g_strdup_printf (_("%s The server said: “%s”"), headline,
                          server_text);
}

/* The system's reasons in the same words whatever the resolver chose;
 * other failures keep GIO's own message. */
static const char *
connect_reason (const GError *cause)
{
  if (g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
    return _("Connection refused");
  if (g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE))
    return _("No route to the host");
  if (g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE))
    return _("The network is unreachable");
  if (g_error_matches (cause, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND))
    return _("No server by that name was found");
  if (g_error_matches (cause, G_RESOLVER_ERROR,
                       G_RESOLVER_ERROR_TEMPORARY_FAILURE))
    return _("The name could not be looked up just now");

  return cause->message;
}

/**
 * pop3_error_new_connect:
 * @host: the server's name as the user gave it
 * @cause: why GIO could not connect
 *
 * "Could not connect to mail.example.org: Connection refused": the host
 * the user knows, not the address the resolver chose.
 */
GError *
pop3_error_new_connect (const char   *host,
                        const GError *cause)
{
  const char *reason;
  g_autofree char *message = NULL;
  Pop3ErrorPrivate *priv;

  g_return_val_if_fail (host != NULL, NULL);
  g_return_val_if_fail (cause != NULL, NULL);

  reason = connect_reason (cause);
  /* Translators: the server's host name, then why. */
  message = g_strdup_printf (_("Could not connect to %s: %s"), host, reason);

  return new_error (POP3_ERROR_CONNECT, message, reason, &priv);
}

/**
 * pop3_error_new_certificate:
 * @errors: why the certificate was not accepted
 * @fingerprint: its SHA-256 fingerprint
 *
 * The flags ride on the error, for a caller that explains them its own way.
 */
GError *
pop3_error_new_certificate (GTlsCertificateFlags  errors,
                            const char           *fingerprint)
{
  g_autofree char *problems = pop3_tls_describe_errors (errors);
  g_autofree char *detail = NULL;
  g_autofree char *message = NULL;
  GError *error;
  Pop3ErrorPrivate *priv;

  g_return_val_if_fail (fingerprint != NULL, NULL);

  /* Translators: what is wrong with the certificate, then its
   * fingerprint. */
  detail = g_strdup_printf (_("%s (SHA-256 fingerprint %s)"),
                            problems, fingerprint);
  message = g_strdup_printf (_("The server’s certificate is not trusted: %s."),
                             detail);
  error = new_error (POP3_ERROR_CERTIFICATE, message, detail, &priv);
  priv->certificate_errors = errors;

  return error;
}
