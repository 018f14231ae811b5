/* pop3-client-login.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Logging in: the commands that carry credentials (USER, PASS, APOP, RPOP),
 * the choice of a method from CAPA, and the SASL exchange (RFC 5034),
 * OAuth2's XOAUTH2 and OAUTHBEARER (RFC 7628) included.
 * What carries a credential is redacted before it reaches the "debug"
 * signal.
 */

#define G_LOG_DOMAIN "pop3-client"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "pop3-auth.h"
#include "pop3-client-private.h"

/* USER, alone (a barrier) or pipelined with the PASS behind it. */
static void
send_user (Pop3Client          *self,
           const char          *user,
           gboolean             barrier,
           GCancellable        *cancellable,
           GAsyncReadyCallback  callback,
           gpointer             user_data)
{
  g_autofree char *line = g_strconcat ("USER ", user, NULL);

  _pop3_client_send_command (self, COMMAND_GENERIC, line, NULL,
                             POP3_EXPECT_SINGLE, barrier, cancellable,
                             callback, user_data);
}

static void
send_pass (Pop3Client          *self,
           const char          *password,
           gboolean             barrier,
           GCancellable        *cancellable,
           GAsyncReadyCallback  callback,
           gpointer             user_data)
{
  g_autofree char *line = g_strconcat ("PASS ", password, NULL);

  _pop3_client_send_command (self, COMMAND_GENERIC, line, "PASS ********",
                             POP3_EXPECT_SINGLE, barrier, cancellable,
                             callback, user_data);
  /* The command owns a copy; do not leave one behind in freed memory. */
  memset (line, 0, strlen (line));
}

void
pop3_client_user_async (Pop3Client          *self,
                        const char          *user,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_return_if_fail (POP3_IS_CLIENT (self));
  g_return_if_fail (user != NULL);

  send_user (self, user, TRUE, cancellable, callback, user_data);
}

void
pop3_client_pass_async (Pop3Client          *self,
                        const char          *password,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_return_if_fail (POP3_IS_CLIENT (self));
  g_return_if_fail (password != NULL);

  send_pass (self, password, TRUE, cancellable, callback, user_data);
}

void
pop3_client_apop_async (Pop3Client          *self,
                        const char          *user,
                        const char          *password,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autofree char *digest = NULL;
  g_autofree char *line = NULL;
  g_autofree char *debug_line = NULL;

  g_return_if_fail (POP3_IS_CLIENT (self));
  g_return_if_fail (user != NULL);
  g_return_if_fail (password != NULL);

  if (self->apop_timestamp == NULL)
    {
      g_task_report_new_error (self, callback, user_data,
                               _pop3_client_command_new,
                               POP3_ERROR, POP3_ERROR_NOT_SUPPORTED,
                               _("The server does not support APOP: its "
                                 "greeting has no timestamp."));
      return;
    }

  digest = pop3_auth_apop_digest (self->apop_timestamp, password);
  line = g_strdup_printf ("APOP %s %s", user, digest);
  debug_line = g_strdup_printf ("APOP %s ********", user);
  _pop3_client_send_command (self, COMMAND_GENERIC, line, debug_line,
                             POP3_EXPECT_SINGLE, TRUE, cancellable, callback,
                             user_data);
}

void
pop3_client_rpop_async (Pop3Client          *self,
                        const char          *user,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autofree char *line = NULL;

  g_return_if_fail (POP3_IS_CLIENT (self));
  g_return_if_fail (user != NULL);

  line = g_strconcat ("RPOP ", user, NULL);
  _pop3_client_send_command (self, COMMAND_GENERIC, line, NULL,
                             POP3_EXPECT_SINGLE, TRUE, cancellable, callback,
                             user_data);
}

/* Logging in */

typedef struct
{
  char           *user;
  char           *password;
  Pop3AuthMethod  method;
  guint           sasl_step;
  gboolean        sasl_aborted;
  GError         *sasl_error;
  /* OAuth2: the server answered the token with its error challenge. */
  gboolean        token_refused;
  char           *oauth_status;
  /* USER and PASS went together: what the server said to USER. */
  GError         *user_error;
} LoginData;

static void
login_data_free (LoginData *data)
{
  g_free (data->user);
  g_clear_error (&data->sasl_error);
  g_clear_error (&data->user_error);
  g_free (data->oauth_status);
  if (data->password != NULL)
    {
      memset (data->password, 0, strlen (data->password));
      g_free (data->password);
    }
  g_free (data);
}

static const char *
sasl_mechanism_name (Pop3AuthMethod method)
{
  switch (method)
    {
    case POP3_AUTH_PLAIN:
      return "PLAIN";
    case POP3_AUTH_LOGIN:
      return "LOGIN";
    case POP3_AUTH_CRAM_MD5:
      return "CRAM-MD5";
    case POP3_AUTH_XOAUTH2:
      return "XOAUTH2";
    case POP3_AUTH_OAUTHBEARER:
      return "OAUTHBEARER";
    case POP3_AUTH_AUTO:
    case POP3_AUTH_USER:
    case POP3_AUTH_APOP:
    default:
      return NULL;
    }
}

static gboolean
server_offers_sasl (Pop3Client     *self,
                    Pop3AuthMethod  method)
{
  const char *const *mechanisms;

  if (self->capabilities == NULL)
    return FALSE;

  mechanisms = g_hash_table_lookup (self->capabilities, "SASL");
  for (guint i = 0; mechanisms != NULL && mechanisms[i] != NULL; i++)
    if (g_ascii_strcasecmp (mechanisms[i], sasl_mechanism_name (method)) == 0)
      return TRUE;

  return FALSE;
}

static Pop3AuthMethod
choose_method (Pop3Client *self)
{
  static const Pop3AuthMethod strongest_first[] = {
    POP3_AUTH_CRAM_MD5, POP3_AUTH_PLAIN, POP3_AUTH_LOGIN,
  };

  for (guint i = 0; i < G_N_ELEMENTS (strongest_first); i++)
    if (server_offers_sasl (self, strongest_first[i]))
      return strongest_first[i];

  return POP3_AUTH_USER;
}

/* A -ERR while logging in is an authentication failure; its text and
 * response code ([IN-USE], [AUTH], ...) are kept for the caller. */
static void
login_return_error (GTask  *task,
                    GError *error)
{
  if (error->domain == POP3_ERROR && error->code == POP3_ERROR_SERVER)
    error->code = POP3_ERROR_AUTH;
  g_task_return_error (task, error);
}

static void
login_done_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Pop3Client *self = POP3_CLIENT (object);
  g_autoptr(Pop3Reply) reply = NULL;
  GError *error = NULL;

  reply = pop3_client_command_finish (self, result, &error);
  if (reply == NULL)
    login_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
login_user_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Pop3Client *self = POP3_CLIENT (object);
  LoginData *data = g_task_get_task_data (task);
  g_autoptr(Pop3Reply) reply = NULL;
  GError *error = NULL;

  reply = pop3_client_command_finish (self, result, &error);
  if (reply == NULL)
    {
      login_return_error (task, error);
      return;
    }

  pop3_client_pass_async (self, data->password, g_task_get_cancellable (task),
                          login_done_cb, g_object_ref (task));
}

static void
login_pipelined_user_cb (GObject      *object,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LoginData *data = g_task_get_task_data (task);
  g_autoptr(Pop3Reply) reply = NULL;

  /* The login ends with the answer to PASS, which comes next. */
  reply = pop3_client_command_finish (POP3_CLIENT (object), result,
                                      &data->user_error);
}

static void
login_pipelined_pass_cb (GObject      *object,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LoginData *data = g_task_get_task_data (task);

  /* A refused USER is the error that says why, whatever PASS got (a
   * server answers a PASS without a USER with -ERR). */
  if (data->user_error != NULL)
    {
      g_autoptr(Pop3Reply) reply = NULL;
      g_autoptr(GError) pass_error = NULL;

      reply = pop3_client_command_finish (POP3_CLIENT (object), result,
                                          &pass_error);
      login_return_error (task, g_steal_pointer (&data->user_error));
      return;
    }

  login_done_cb (object, result, g_steal_pointer (&task));
}

/* USER and PASS back to back, one round trip, when the server pipelines
 * (RFC 2449, section 6.6) and the connection is encrypted.  On a plain
 * connection PASS still waits for USER's +OK: a server that refuses USER
 * there (Dovecot does, without TLS) never gets the password in clear.
 *
 * Round trips of a login after the greeting, CAPA included: USER/PASS 2
 * pipelined in TLS, else 3; APOP 2; SASL PLAIN and CRAM-MD5 3 (AUTH, then
 * the response to the server's "+ "), LOGIN 4; XOAUTH2 and OAUTHBEARER 3
 * (the two-step form, see oauth_response ()).  A check with nothing new
 * adds UIDL and QUIT: 4 round trips for USER/PASS in TLS and for APOP,
 * 5 for PLAIN, CRAM-MD5 and OAuth2, 6 for LOGIN. */
static gboolean
can_pipeline_user_pass (Pop3Client *self)
{
  return pop3_client_is_pipelining (self) && pop3_client_is_encrypted (self);
}

static gboolean
is_oauth (Pop3AuthMethod method)
{
  return method == POP3_AUTH_XOAUTH2 || method == POP3_AUTH_OAUTHBEARER;
}

static char *
oauth_initial_response (Pop3Client *self,
                        LoginData  *data)
{
  GNetworkAddress *address = NULL;

  if (data->method == POP3_AUTH_XOAUTH2)
    return pop3_auth_xoauth2_response (data->user, data->password);

  if (G_IS_NETWORK_ADDRESS (self->identity))
    address = G_NETWORK_ADDRESS (self->identity);

  return pop3_auth_oauthbearer_response (
    data->user,
    address != NULL ? g_network_address_get_hostname (address) : NULL,
    address != NULL ? g_network_address_get_port (address) : 0,
    data->password);
}

/* Only the two-step form: Microsoft refuses a token on the AUTH line.
 * A challenge after the token is the server's JSON error (RFC 7628,
 * section 3.2.2, and Google's XOAUTH2 alike); the client must answer it,
 * with %x01 for OAUTHBEARER and an empty line for XOAUTH2, and the server
 * then ends the exchange with -ERR.  A challenge that is not JSON gets
 * the same answer: the exchange ends cleanly either way. */
static char *
oauth_response (Pop3Client *self,
                LoginData  *data,
                Pop3Reply  *challenge)
{
  if (data->sasl_step == 0)
    return oauth_initial_response (self, data);

  if (data->sasl_step == 1)
    {
      data->token_refused = TRUE;
      data->oauth_status = pop3_auth_oauth_challenge_status (challenge->text);
      return g_strdup (data->method == POP3_AUTH_OAUTHBEARER ? "AQ==" : "");
    }

  return NULL;
}

static char *
sasl_response (Pop3Client  *self,
               LoginData   *data,
               Pop3Reply   *challenge,
               GError     **error)
{
  switch (data->method)
    {
    case POP3_AUTH_PLAIN:
      if (data->sasl_step == 0)
        return pop3_auth_plain_response (data->user, data->password);
      break;

    case POP3_AUTH_LOGIN:
      if (data->sasl_step == 0)
        return pop3_auth_base64 (data->user);
      if (data->sasl_step == 1)
        return pop3_auth_base64 (data->password);
      break;

    case POP3_AUTH_CRAM_MD5:
      if (data->sasl_step == 0)
        return pop3_auth_cram_md5_response (data->user, data->password,
                                            challenge->text, error);
      break;

    case POP3_AUTH_XOAUTH2:
    case POP3_AUTH_OAUTHBEARER:
      {
        char *response = oauth_response (self, data, challenge);

        if (response != NULL)
          return response;
      }
      break;

    case POP3_AUTH_AUTO:
    case POP3_AUTH_USER:
    case POP3_AUTH_APOP:
    default:
      break;
    }

  g_set_error_literal (error, POP3_ERROR, POP3_ERROR_AUTH,
                       _("The server's authentication exchange was not "
                         "understood."));
  return NULL;
}

static void
login_sasl_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Pop3Client *self = POP3_CLIENT (object);
  LoginData *data = g_task_get_task_data (task);
  g_autoptr(Pop3Reply) reply = NULL;
  g_autofree char *response = NULL;
  GError *error = NULL;

  reply = pop3_client_command_finish (self, result, &error);
  if (reply == NULL && data->sasl_aborted && data->sasl_error != NULL &&
      g_error_matches (error, POP3_ERROR, POP3_ERROR_SERVER))
    {
      g_clear_error (&error);
      g_task_return_error (task, g_steal_pointer (&data->sasl_error));
      return;
    }
  if (reply == NULL && is_oauth (data->method) && data->sasl_step > 0 &&
      g_error_matches (error, POP3_ERROR, POP3_ERROR_SERVER))
    {
      g_task_return_error (task,
                           pop3_error_new_token_refused (error,
                                                         data->oauth_status));
      g_clear_error (&error);
      return;
    }
  if (reply == NULL)
    {
      login_return_error (task, error);
      return;
    }

  if (reply->status == POP3_REPLY_OK)
    {
      if (data->sasl_aborted || data->token_refused)
        g_task_return_new_error (task, POP3_ERROR, POP3_ERROR_AUTH,
                                 _("The server's authentication exchange was "
                                   "not understood."));
      else
        g_task_return_boolean (task, TRUE);
      return;
    }

  if (data->sasl_aborted)
    {
      g_task_return_new_error (task, POP3_ERROR, POP3_ERROR_PROTOCOL,
                               _("The server did not end the cancelled "
                                 "authentication exchange."));
      return;
    }

  response = sasl_response (self, data, reply, &data->sasl_error);
  data->sasl_step++;

  if (response == NULL)
    {
      /* RFC 5034, section 4: "*" cancels the exchange; the server answers
       * -ERR and the session stays usable. */
      data->sasl_aborted = TRUE;
      _pop3_client_send_command (self, COMMAND_GENERIC, "*", NULL,
                                 POP3_EXPECT_SASL, TRUE,
                                 g_task_get_cancellable (task), login_sasl_cb,
                                 g_object_ref (task));
      return;
    }

  /* The answer to a refused token's challenge is no secret. */
  _pop3_client_send_command (self, COMMAND_GENERIC, response,
                             data->token_refused ? NULL : "********",
                             POP3_EXPECT_SASL, TRUE,
                             g_task_get_cancellable (task), login_sasl_cb,
                             g_object_ref (task));
  memset (response, 0, strlen (response));
}

static void
login_start (GTask *task)
{
  Pop3Client *self = g_task_get_source_object (task);
  LoginData *data = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  g_autofree char *line = NULL;

  if (data->method == POP3_AUTH_AUTO)
    data->method = choose_method (self);

  switch (data->method)
    {
    case POP3_AUTH_USER:
      if (can_pipeline_user_pass (self))
        {
          send_user (self, data->user, FALSE, cancellable,
                     login_pipelined_user_cb, g_object_ref (task));
          send_pass (self, data->password, FALSE, cancellable,
                     login_pipelined_pass_cb, g_object_ref (task));
          return;
        }
      pop3_client_user_async (self, data->user, cancellable, login_user_cb,
                              g_object_ref (task));
      return;

    case POP3_AUTH_APOP:
      pop3_client_apop_async (self, data->user, data->password, cancellable,
                              login_done_cb, g_object_ref (task));
      return;

    case POP3_AUTH_PLAIN:
    case POP3_AUTH_LOGIN:
    case POP3_AUTH_CRAM_MD5:
    case POP3_AUTH_XOAUTH2:
    case POP3_AUTH_OAUTHBEARER:
      line = g_strconcat ("AUTH ", sasl_mechanism_name (data->method), NULL);
      _pop3_client_send_command (self, COMMAND_GENERIC, line, NULL,
                                 POP3_EXPECT_SASL, TRUE, cancellable,
                                 login_sasl_cb, g_object_ref (task));
      return;

    case POP3_AUTH_AUTO:
    default:
      g_assert_not_reached ();
    }
}

static void
login_capa_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Pop3Client *self = POP3_CLIENT (object);
  g_autoptr(Pop3Reply) reply = NULL;
  GError *error = NULL;

  /* RFC 1939 servers do not know CAPA; USER/PASS is then all there is. */
  reply = pop3_client_command_finish (self, result, &error);
  if (reply == NULL && !self->connected)
    {
      g_task_return_error (task, error);
      return;
    }
  g_clear_error (&error);

  login_start (task);
}

void
pop3_client_login_async (Pop3Client          *self,
                         const char          *user,
                         const char          *password,
                         Pop3AuthMethod       method,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  LoginData *data;

  g_return_if_fail (POP3_IS_CLIENT (self));
  g_return_if_fail (user != NULL);
  g_return_if_fail (password != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, pop3_client_login_async);

  /* The OAuth2 messages separate their fields with control characters. */
  if (is_oauth (method) &&
      (!pop3_auth_is_valid_oauth_value (user) ||
       !pop3_auth_is_valid_oauth_value (password)))
    {
      g_task_return_new_error (task, POP3_ERROR, POP3_ERROR_INVALID_ARGUMENT,
                               _("The user name or access token is empty or "
                                 "contains a character that cannot be sent "
                                 "to the server."));
      return;
    }

  if (!pop3_auth_is_valid_user_name (user) ||
      !pop3_auth_is_safe_argument (password))
    {
      g_task_return_new_error (task, POP3_ERROR, POP3_ERROR_INVALID_ARGUMENT,
                               _("The user name or password contains a "
                                 "character that cannot be sent to the "
                                 "server."));
      return;
    }

  if (method == POP3_AUTH_APOP && self->apop_timestamp == NULL)
    {
      g_task_return_new_error (task, POP3_ERROR, POP3_ERROR_NOT_SUPPORTED,
                               _("The server does not support APOP: its "
                                 "greeting has no timestamp."));
      return;
    }

  data = g_new0 (LoginData, 1);
  data->user = g_strdup (user);
  data->password = g_strdup (password);
  data->method = method;
  g_task_set_task_data (task, data, (GDestroyNotify) login_data_free);

  if (self->capabilities == NULL)
    {
      pop3_client_capa_async (self, cancellable, login_capa_cb,
                              g_steal_pointer (&task));
      return;
    }

  login_start (task);
}

gboolean
pop3_client_login_finish (Pop3Client    *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (POP3_IS_CLIENT (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
