/* popcheck-cli.c: the POP3 engine on the command line
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Outside scripts and the tests depend on this interface (issue 2): the
 * option names, the command words, the JSON keys and the exit statuses
 * stay as they are.  Everything the user gave is checked before a
 * connection is made, so a typo in the last command never costs a login
 * (and never leaves half of a "dele" session behind).
 */

#define G_LOG_DOMAIN "popcheck-cli"

#include "config.h"

#include <locale.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib-unix.h>
#include <gio/gio.h>

#include "pop3-auth.h"
#include "pop3-client.h"
#include "popcheck-cli.h"
#include "popcheck-cli-json.h"
#include "popcheck-secret.h"

typedef struct _CliSession CliSession;

/* What came back for one command word, kept until the words before it
 * have been reported. */
typedef struct
{
  gboolean   done;
  Pop3Reply *reply;
  GError    *error;
} CliResult;

/* The user data of one command's callback. */
typedef struct
{
  CliSession *session;
  guint       index;
} CliPending;

struct _CliSession
{
  /* What the options asked for, validated. */
  char              *host;
  guint16            port;
  Pop3Security       security;
  char              *user;
  char              *password;
  Pop3AuthMethod     auth;
  GTlsDatabase      *tls_database;
  char              *pin;
  guint              timeout;
  guint              debug;
  gboolean           json;
  GPtrArray         *commands;
  /* --account NAME: a stored account, whose OAuth2 access token can be
   * refreshed once after the server refused it. */
  char              *account;
  gboolean           token_retried;

  Pop3Client        *client;
  GMainLoop         *loop;
  GCancellable      *cancellable;
  /* One CliResult per command word: the words go out up to next_to_send
   * and their answers are reported, in order, up to next_to_report. */
  GArray            *results;
  guint              next_to_send;
  guint              next_to_report;
  /* A word failed: nothing more is sent or reported. */
  gboolean           failed;
  gboolean           interrupted;
  int                exit_status;
  /* The command line was a command on stored accounts, already run. */
  gboolean           finished;
};

static void command_cb (GObject      *source,
                        GAsyncResult *result,
                        gpointer      user_data);

/* The session */

static void
cli_result_clear (CliResult *result)
{
  g_clear_pointer (&result->reply, pop3_reply_unref);
  g_clear_error (&result->error);
}

static CliSession *
cli_session_new (void)
{
  CliSession *session = g_new0 (CliSession, 1);

  session->security = POP3_SECURITY_TLS;
  session->auth = POP3_AUTH_AUTO;
  session->commands =
    g_ptr_array_new_with_free_func ((GDestroyNotify) popcheck_cli_command_free);
  session->results = g_array_new (FALSE, TRUE, sizeof (CliResult));
  g_array_set_clear_func (session->results, (GDestroyNotify) cli_result_clear);
  session->cancellable = g_cancellable_new ();
  session->loop = g_main_loop_new (NULL, FALSE);

  return session;
}

static void
cli_session_free (CliSession *session)
{
  if (session->password != NULL)
    {
      explicit_bzero (session->password, strlen (session->password));
      g_free (session->password);
    }
  g_free (session->host);
  g_free (session->user);
  g_free (session->pin);
  g_free (session->account);
  g_clear_object (&session->tls_database);
  g_ptr_array_unref (session->commands);
  g_array_unref (session->results);
  g_clear_object (&session->client);
  g_clear_object (&session->cancellable);
  g_main_loop_unref (session->loop);
  g_free (session);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CliSession, cli_session_free)

/* The exit statuses of --help, from the engine's kinds. */
int
popcheck_cli_exit_status_for_error (const GError *error)
{
  switch (pop3_error_get_kind (error))
    {
    case POP3_ERROR_KIND_SERVER_BUSY:
    case POP3_ERROR_KIND_SERVER_REFUSED:
      return CLI_EXIT_SERVER;
    case POP3_ERROR_KIND_AUTH:
      return CLI_EXIT_AUTH;
    case POP3_ERROR_KIND_TLS:
    case POP3_ERROR_KIND_CERTIFICATE:
      return CLI_EXIT_TLS;
    case POP3_ERROR_KIND_LOCAL:
      /* Apart from the keyring, what is wrong on this side is what the
       * command line gave: an unknown account, a user name that cannot
       * be sent. */
      return error->domain == POPCHECK_SECRET_ERROR ? CLI_EXIT_KEYRING
                                                    : CLI_EXIT_USAGE;
    case POP3_ERROR_KIND_NETWORK:
    case POP3_ERROR_KIND_TIMEOUT:
    case POP3_ERROR_KIND_PROTOCOL:
    case POP3_ERROR_KIND_CANCELLED:
    default:
      return CLI_EXIT_NETWORK;
    }
}

/* A refused access token is worth a fresh one: say so, with what the
 * server said about it. */
static char *
describe_token_refusal (const GError *error)
{
  const char *status = pop3_error_get_oauth_status (error);
  const char *server_text = pop3_error_get_server_text (error);
  GString *text = g_string_new ("the server refused the access token; it "
                                "may have expired or been revoked");

  if (status != NULL)
    g_string_append_printf (text, " (status \"%s\")", status);
  if (server_text != NULL)
    g_string_append_printf (text, ": it answered \"-ERR %s\"", server_text);

  return g_string_free (text, FALSE);
}

static char *
describe_error (const GError *error)
{
  const char *server_text = pop3_error_get_server_text (error);

  if (g_error_matches (error, POP3_ERROR, POP3_ERROR_AUTH_TOKEN))
    return describe_token_refusal (error);

  if (g_error_matches (error, POP3_ERROR, POP3_ERROR_SERVER) &&
      server_text != NULL)
    return g_strdup_printf ("the server answered \"-ERR %s\"", server_text);

  return g_strdup (error->message);
}

static void
json_add_certificate (JsonBuilder       *json,
                      const Pop3TlsInfo *info)
{
  g_autofree char *problems = pop3_tls_describe_errors (info->errors);
  g_autofree char *not_before = NULL;
  g_autofree char *not_after = NULL;

  if (info->not_before != NULL)
    not_before = g_date_time_format_iso8601 (info->not_before);
  if (info->not_after != NULL)
    not_after = g_date_time_format_iso8601 (info->not_after);

  json_builder_set_member_name (json, "certificate");
  json_builder_begin_object (json);
  popcheck_cli_json_set_string (json, "problems", problems);
  popcheck_cli_json_set_string (json, "subject", info->subject);
  popcheck_cli_json_set_string (json, "issuer", info->issuer);
  popcheck_cli_json_set_string (json, "not_before", not_before);
  popcheck_cli_json_set_string (json, "not_after", not_after);
  popcheck_cli_json_set_string (json, "fingerprint", info->fingerprint);
  json_builder_end_object (json);
}

static void
print_certificate_details (CliSession *session)
{
  const Pop3TlsInfo *info = pop3_client_get_tls_info (session->client);
  g_autofree char *details = pop3_tls_info_describe (info);
  g_auto(GStrv) lines = g_strsplit (details, "\n", -1);

  g_printerr (PROGRAM_NAME ": the server's certificate:\n");
  for (guint i = 0; lines[i] != NULL; i++)
    g_printerr ("  %s\n", lines[i]);

  if (info != NULL && info->fingerprint != NULL)
    g_printerr (PROGRAM_NAME ": if you have checked that this is your "
                "server's certificate, run again with\n"
                "  --pin %s\n"
                "to trust exactly this certificate and no other.\n",
                info->fingerprint);
}

/* Reports a failed step ("connect", "login", "quit" or a command word) and
 * records its exit status; the first failure decides the exit status. */
static void
report_failure (CliSession   *session,
                const char   *what,
                const GError *error)
{
  g_autofree char *description = NULL;
  gboolean interrupted;
  int status;

  interrupted = session->interrupted &&
                g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  if (interrupted)
    {
      description = g_strdup ("interrupted");
      status = CLI_EXIT_INTERRUPTED;
    }
  else
    {
      description = describe_error (error);
      status = popcheck_cli_exit_status_for_error (error);
    }

  /* The engine's connect errors already say "Could not connect...". */
  if (g_str_equal (what, "connect"))
    g_printerr (PROGRAM_NAME ": %s port %u: %s\n",
                session->host, session->port, description);
  else if (g_str_equal (what, "login"))
    g_printerr (PROGRAM_NAME ": could not log in as %s: %s\n",
                session->user, description);
  else if (g_str_equal (what, "quit"))
    g_printerr (PROGRAM_NAME ": the session did not end cleanly (QUIT): %s\n",
                description);
  else
    g_printerr (PROGRAM_NAME ": the command \"%s\" failed: %s\n",
                what, description);

  if (g_error_matches (error, POP3_ERROR, POP3_ERROR_CERTIFICATE))
    print_certificate_details (session);

  if (session->json)
    {
      g_autoptr(JsonBuilder) json = json_builder_new ();
      const Pop3TlsInfo *info = pop3_client_get_tls_info (session->client);

      json_builder_begin_object (json);
      popcheck_cli_json_set_string (json, "command", what);
      popcheck_cli_json_set_boolean (json, "ok", FALSE);
      popcheck_cli_json_set_string (json, "error",
                                   interrupted ? "Interrupted."
                                               : error->message);
      if (!interrupted && pop3_error_get_server_text (error) != NULL)
        {
          const char *code = pop3_error_get_response_code (error);

          if (error->code == POP3_ERROR_SERVER ||
              error->code == POP3_ERROR_AUTH_TOKEN)
            {
              g_autofree char *response =
                g_strdup_printf ("-ERR %s", pop3_error_get_server_text (error));
              popcheck_cli_json_set_string (json, "response", response);
            }
          if (code != NULL)
            popcheck_cli_json_set_string (json, "code", code);
        }
      if (pop3_error_get_oauth_status (error) != NULL)
        popcheck_cli_json_set_string (json, "oauth_status",
                                     pop3_error_get_oauth_status (error));
      if (g_error_matches (error, POP3_ERROR, POP3_ERROR_CERTIFICATE) &&
          info != NULL)
        json_add_certificate (json, info);
      json_builder_end_object (json);

      popcheck_cli_json_write_line (json);
    }

  if (session->exit_status == CLI_EXIT_OK)
    session->exit_status = status;
}

static void
quit_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  CliSession *session = user_data;
  g_autoptr(Pop3Reply) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = pop3_client_command_finish (session->client, result, &error);
  if (reply == NULL)
    {
      /* Deletions are committed by QUIT alone, so a failed QUIT after
       * "dele" must not look like success. */
      report_failure (session, "quit", error);
      pop3_client_close (session->client);
    }

  g_main_loop_quit (session->loop);
}

static void
send_quit (CliSession *session)
{
  pop3_client_quit_async (session->client, session->cancellable,
                          quit_cb, session);
}

/* After a failure: a -ERR leaves the session usable, so it ends with QUIT
 * like any other; after a network or protocol error the stream can no
 * longer be trusted, and the connection is dropped without QUIT (which
 * also keeps the server from committing deletions). */
static void
end_after_failure (CliSession   *session,
                   const GError *error)
{
  gboolean server_refused;

  server_refused = error->domain == POP3_ERROR &&
                   (error->code == POP3_ERROR_SERVER ||
                    error->code == POP3_ERROR_AUTH);

  if (server_refused && !session->interrupted &&
      pop3_client_is_connected (session->client))
    {
      send_quit (session);
      return;
    }

  pop3_client_close (session->client);
  g_main_loop_quit (session->loop);
}

/* Whether @command may go out while earlier ones are unanswered.  With
 * PIPELINING (RFC 2449, section 6.6) the words go out back to back, as the
 * checker sends its commands; without it, one at a time.  A word that
 * changes what QUIT commits (dele, rset) waits until every earlier word
 * has succeeded: after a failure it is never sent, as without
 * pipelining. */
static gboolean
may_send (CliSession       *session,
          const CliCommand *command)
{
  if (session->next_to_report == session->next_to_send)
    return TRUE;

  if (!pop3_client_is_pipelining (session->client))
    return FALSE;

  return !popcheck_cli_command_waits_for_success (command);
}

/* Reports, in the order of the words, what has come back; sends what may
 * go out now; ends the session with QUIT once every word has succeeded. */
static void
advance (CliSession *session)
{
  guint n_commands = session->commands->len;

  while (!session->failed)
    {
      gboolean progress = FALSE;

      while (session->next_to_report < session->next_to_send)
        {
          CliCommand *command = g_ptr_array_index (session->commands,
                                                   session->next_to_report);
          CliResult *result = &g_array_index (session->results, CliResult,
                                              session->next_to_report);

          if (!result->done)
            break;

          if (result->error != NULL)
            {
              /* Commands pipelined behind this one are answered, but their
               * replies are not reported: the first failure ends the
               * session, as without pipelining. */
              session->failed = TRUE;
              report_failure (session, command->word, result->error);
              end_after_failure (session, result->error);
              return;
            }

          popcheck_cli_command_report (command, session->client,
                                       result->reply, session->json);
          g_clear_pointer (&result->reply, pop3_reply_unref);
          session->next_to_report++;
          progress = TRUE;
        }

      while (session->next_to_send < n_commands)
        {
          CliCommand *command = g_ptr_array_index (session->commands,
                                                   session->next_to_send);
          CliResult *result = &g_array_index (session->results, CliResult,
                                              session->next_to_send);
          CliPending *pending;

          if (session->interrupted)
            {
              /* Ctrl+C may land between two commands, when nothing is
               * pending to be cancelled; otherwise the pending command
               * reports it. */
              if (session->next_to_report == session->next_to_send)
                {
                  g_autoptr(GError) error =
                    g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                         "Interrupted.");

                  session->failed = TRUE;
                  report_failure (session, command->word, error);
                  end_after_failure (session, error);
                }
              return;
            }

          if (!may_send (session, command))
            break;

          pending = g_new0 (CliPending, 1);
          pending->session = session;
          pending->index = session->next_to_send;
          if (!popcheck_cli_command_start (command, session->client,
                                           session->cancellable, command_cb,
                                           pending))
            {
              /* welcome: answered by the greeting. */
              g_free (pending);
              result->done = TRUE;
            }
          session->next_to_send++;
          progress = TRUE;
        }

      if (session->next_to_report == n_commands)
        {
          send_quit (session);
          return;
        }

      if (!progress)
        return;
    }
}

static void
command_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autofree CliPending *pending = user_data;
  CliSession *session = pending->session;
  CliResult *slot;

  g_assert (pending->index < session->results->len);
  slot = &g_array_index (session->results, CliResult, pending->index);
  g_assert (!slot->done);

  slot->reply = pop3_client_command_finish (session->client, result,
                                            &slot->error);
  slot->done = TRUE;

  advance (session);
}

static gboolean
is_oauth_account (CliSession *session)
{
  return session->account != NULL &&
         (session->auth == POP3_AUTH_XOAUTH2 ||
          session->auth == POP3_AUTH_OAUTHBEARER);
}

static void
login_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  CliSession *session = user_data;
  g_autoptr(GError) error = NULL;
  char *token = NULL;
  int status;

  if (pop3_client_login_finish (session->client, result, &error))
    {
      advance (session);
      return;
    }

  /* The token may have expired or been revoked since it was given: one
   * more, on the same connection (the server still waits for a login),
   * and then the error stands. */
  if (is_oauth_account (session) && !session->token_retried &&
      g_error_matches (error, POP3_ERROR, POP3_ERROR_AUTH_TOKEN))
    {
      session->token_retried = TRUE;
      status = popcheck_cli_refresh_access_token (session->account, &token);
      if (status != CLI_EXIT_OK)
        {
          session->exit_status = status;
          pop3_client_close (session->client);
          g_main_loop_quit (session->loop);
          return;
        }

      explicit_bzero (session->password, strlen (session->password));
      g_free (session->password);
      session->password = token;
      pop3_client_login_async (session->client, session->user,
                               session->password, session->auth,
                               session->cancellable, login_cb, session);
      return;
    }

  report_failure (session, "login", error);
  if (is_oauth_account (session) &&
      pop3_error_get_kind (error) == POP3_ERROR_KIND_AUTH)
    popcheck_cli_print_sign_in_hint (session->account);
  end_after_failure (session, error);
}

static void
connect_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  CliSession *session = user_data;
  g_autoptr(GError) error = NULL;

  if (!pop3_client_connect_finish (session->client, result, &error))
    {
      report_failure (session, "connect", error);
      pop3_client_close (session->client);
      g_main_loop_quit (session->loop);
      return;
    }

  if (session->user == NULL)
    {
      advance (session);
      return;
    }

  pop3_client_login_async (session->client, session->user,
                           session->password, session->auth,
                           session->cancellable, login_cb, session);
}

static void
debug_cb (Pop3Client *client,
          const char *line,
          gpointer    user_data)
{
  g_printerr ("%s\n", line);
}

static gboolean
interrupt_cb (gpointer user_data)
{
  CliSession *session = user_data;

  /* A second Ctrl+C means the first was not enough: stop at once. */
  if (session->interrupted)
    {
      if (session->exit_status == CLI_EXIT_OK)
        session->exit_status = CLI_EXIT_INTERRUPTED;
      g_main_loop_quit (session->loop);
      return G_SOURCE_CONTINUE;
    }

  /* The pending step finishes with G_IO_ERROR_CANCELLED and reports the
   * interruption; the connection is then dropped without QUIT. */
  session->interrupted = TRUE;
  g_cancellable_cancel (session->cancellable);

  return G_SOURCE_CONTINUE;
}

static int
cli_session_run (CliSession *session)
{
  guint sigint_id;
  guint sigterm_id;

  g_array_set_size (session->results, session->commands->len);

  session->client = pop3_client_new ();
  if (session->timeout != 0)
    pop3_client_set_timeout (session->client, session->timeout);
  if (session->tls_database != NULL)
    pop3_client_set_tls_database (session->client, session->tls_database);
  if (session->pin != NULL)
    pop3_client_set_pinned_fingerprint (session->client, session->pin);
  if (session->debug > 0)
    {
      pop3_client_set_debug_level (session->client, session->debug);
      g_signal_connect (session->client, "debug",
                        G_CALLBACK (debug_cb), session);
    }

  sigint_id = g_unix_signal_add (SIGINT, interrupt_cb, session);
  sigterm_id = g_unix_signal_add (SIGTERM, interrupt_cb, session);

  pop3_client_connect_async (session->client, session->host, session->port,
                             session->security, session->cancellable,
                             connect_cb, session);
  g_main_loop_run (session->loop);

  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);

  return popcheck_cli_finish_output (session->exit_status);
}

/* Options */

#define EMPTY_STDIN_MESSAGE \
  "--password-stdin was given but standard input is empty"

static const char *
cli_summary (void)
{
  static char *summary;

  if (summary == NULL)
    {
      GString *text = g_string_new (NULL);

      g_string_append (text,
                       "Connects to a POP3 server, logs in when --user is "
                       "given, runs each\nCOMMAND in order in one session and "
                       "ends it with QUIT.  Each COMMAND is one\nshell word: "
                       "quote those with arguments, as in "
                       "\"top 1 10\".\n\nCommands:\n");
      popcheck_cli_command_append_help (text);
      g_string_append (text,
                       "\nThe password is never an argument: --password-stdin "
                       "reads one line from\nstandard input; with --auth "
                       "xoauth2 or oauthbearer, that line is an OAuth2\n"
                       "access token.  With --json, "
                       "each command prints one JSON object on its\nown line."
                       "\n\nStored accounts (the app's, passwords in the "
                       "keyring):\n"
                       "  --account NAME COMMAND...   the commands above, "
                       "logged in as the account\n"
                       "  [--account NAME] check      check for new mail; "
                       "print new and total counts\n"
                       "  [--account NAME] status [--format waybar|json|text]\n"
                       "                              the last known counts, "
                       "without the network\n"
                       "  --account NAME delete UID...\n"
                       "                              delete messages by "
                       "UID, safely\n"
                       "  --account NAME mark-seen UID... | [--account NAME] "
                       "mark-seen --all\n"
                       "                              no longer count them "
                       "as new (only in PopCheck;\n"
                       "                              nothing changes on "
                       "the server)\n"
                       "  account add NAME --host HOST --user USER [--port N] "
                       "[--security S]\n"
                       "              [--auth METHOD] [--pin SHA256]\n"
                       "                              add an account; the "
                       "password is read from\n"
                       "                              standard input (a "
                       "prompt without echo on a terminal)\n"
                       "  account add NAME --oauth microsoft|google --user "
                       "ADDRESS [--no-browser]\n"
                       "                              sign in in the "
                       "browser; the keyring keeps the sign-in\n"
                       "                              (for an account "
                       "there already: sign in again)\n"
                       "  account list                the accounts\n"
                       "  account remove NAME         remove an account and "
                       "its password");
      summary = g_string_free (text, FALSE);
    }

  return summary;
}

static const char cli_description[] =
  "Exit status:\n"
  "  0    every command succeeded\n"
  "  1    the server answered -ERR to a command\n"
  "  2    the command line is wrong\n"
  "  3    network, timeout or protocol error\n"
  "  4    TLS or certificate error\n"
  "  5    authentication failed\n"
  "  6    no keyring (Secret Service), keyring locked, or no password "
  "stored\n"
  "  130  interrupted (Ctrl+C)\n"
  "\n"
  "Example:\n"
  "  printf '%s\\n' \"$PASSWORD\" | popcheck-cli --host mail.example.org \\\n"
  "      --user alice --password-stdin stat list \"top 1 0\"\n";

/* GLib takes only an absolute path for a GTlsFileDatabase: a relative one
 * gives a warning and an empty trust store, and every certificate would
 * then look untrusted.  A file with no certificate in it is as useless,
 * and the user should hear so before a connection is made. */
static int
load_ca_file (const char    *file_name,
              GTlsDatabase **database)
{
  g_autofree char *path = g_canonicalize_filename (file_name, NULL);
  g_autolist(GTlsCertificate) certificates = NULL;
  g_autoptr(GError) error = NULL;

  certificates = g_tls_certificate_list_new_from_file (path, &error);
  if (error != NULL)
    return popcheck_cli_usage_error ("cannot read \"%s\" as --ca-file: %s",
                                     file_name, error->message);
  if (certificates == NULL)
    return popcheck_cli_usage_error ("\"%s\" has no certificate in it; "
                                     "--ca-file takes a PEM file of the "
                                     "certificate authorities to trust",
                                     file_name);

  *database = g_tls_file_database_new (path, &error);
  if (*database == NULL)
    return popcheck_cli_usage_error ("cannot use \"%s\" as --ca-file: %s",
                                     file_name, error->message);

  return CLI_EXIT_OK;
}

static int
cli_session_parse_arguments (CliSession  *session,
                             int          argc,
                             char       **argv)
{
  g_auto(CliOptions) options = { 0 };
  const GOptionEntry entries[] = {
    { "host", 0, 0, G_OPTION_ARG_STRING, &options.host,
      "The POP3 server to connect to", "HOST" },
    { "port", 0, 0, G_OPTION_ARG_STRING, &options.port,
      "The port (995 for tls, 110 otherwise)", "N" },
    { "security", 0, 0, G_OPTION_ARG_STRING, &options.security,
      "tls (the default), starttls or none", "tls|starttls|none" },
    { "user", 0, 0, G_OPTION_ARG_STRING, &options.user,
      "Log in as USER (needs --password-stdin)", "USER" },
    { "password-stdin", 0, 0, G_OPTION_ARG_NONE, &options.password_stdin,
      "Read the password (or the access token) from the first line of "
      "standard input", NULL },
    { "auth", 0, 0, G_OPTION_ARG_STRING, &options.auth,
      "The login method: auto (the default) picks the strongest the server "
      "offers, never APOP; or user, apop, plain, login, cram-md5; or the "
      "OAuth2 methods xoauth2 and oauthbearer, which take an access token "
      "instead of the password",
      "METHOD" },
    { "ca-file", 0, 0, G_OPTION_ARG_FILENAME, &options.ca_file,
      "Trust the certificate authorities in this PEM file", "PEM" },
    { "pin", 0, 0, G_OPTION_ARG_STRING, &options.pin,
      "Accept only the certificate with this SHA-256 fingerprint, "
      "even over one the certificate authorities vouch for",
      "SHA256" },
    { "timeout", 0, 0, G_OPTION_ARG_STRING, &options.timeout,
      "Give up when the server is silent this long (default 30)", "SECONDS" },
    { "debug", 0, 0, G_OPTION_ARG_STRING, &options.debug,
      "Show the exchange on stderr: 1 the commands, 2 every line "
      "(passwords are hidden)", "0|1|2" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &options.json,
      "Print one JSON object per command", NULL },
    { "account", 0, 0, G_OPTION_ARG_STRING, &options.account,
      "Use the stored account NAME (its id or display name): host, port, "
      "security, user, login method and the password from the keyring",
      "NAME" },
    { "format", 0, 0, G_OPTION_ARG_STRING, &options.format,
      "The output of status: text (the default), json or waybar",
      "waybar|json|text" },
    { "all", 0, 0, G_OPTION_ARG_NONE, &options.all,
      "With mark-seen: every message, not the UIDs given", NULL },
    { "first-headers", 0, 0, G_OPTION_ARG_STRING, &options.first_headers,
      "With check: fetch the headers of the newest N messages (300 by "
      "default); the others are listed without them", "N" },
    { "all-headers", 0, 0, G_OPTION_ARG_NONE, &options.all_headers,
      "With check: wait for the headers of every message", NULL },
    { "oauth", 0, 0, G_OPTION_ARG_STRING, &options.oauth,
      "With account add: sign in with Microsoft or Google in the browser "
      "instead of a password", "microsoft|google" },
    { "no-browser", 0, 0, G_OPTION_ARG_NONE, &options.no_browser,
      "With --oauth: do not open a browser, only print the address to open",
      NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &options.commands,
      NULL, "COMMAND..." },
    { NULL }
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  guint64 value;
  int status;

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context, cli_summary ());
  g_option_context_set_description (context, cli_description);
  g_option_context_add_main_entries (context, entries, NULL);

  if (!g_option_context_parse (context, &argc, &argv, &error))
    return popcheck_cli_usage_error ("%s", error->message);

  session->json = options.json;

  /* Commands on stored accounts have options of their own. */
  if (options.commands != NULL && options.commands[0] != NULL &&
      popcheck_cli_is_account_command (options.commands[0]))
    {
      session->finished = TRUE;
      return popcheck_cli_run_account_command (&options);
    }

  if (options.format != NULL)
    return popcheck_cli_usage_error ("--format goes with status");
  if (options.all)
    return popcheck_cli_usage_error ("--all goes with mark-seen");
  if (options.first_headers != NULL || options.all_headers)
    return popcheck_cli_usage_error ("--first-headers and --all-headers go "
                                     "with check");

  if (options.account != NULL)
    {
      /* Everything about the server comes from the account; mixing in
       * a --host or --user would log in to one server with another's
       * password. */
      if (options.host != NULL || options.port != NULL ||
          options.security != NULL || options.user != NULL ||
          options.auth != NULL || options.password_stdin)
        return popcheck_cli_usage_error ("--account takes the host, port, "
                                         "security, user, login method and "
                                         "password from the stored account; "
                                         "do not give --host, --port, "
                                         "--security, --user, --auth or "
                                         "--password-stdin with it");
    }
  else
    {
      if (options.host == NULL || options.host[0] == '\0')
        return popcheck_cli_usage_error ("--host is required: which server "
                                         "should I connect to?");
      session->host = g_strdup (options.host);

      status = popcheck_cli_parse_security_options (&options,
                                                    &session->security,
                                                    &session->port,
                                                    &session->auth);
      if (status != CLI_EXIT_OK)
        return status;
    }

  if (options.timeout != NULL)
    {
      if (!popcheck_cli_parse_unsigned (options.timeout, 1, 24 * 60 * 60,
                                        &value))
        return popcheck_cli_usage_error ("\"%s\" is not a --timeout; give a "
                                         "number of seconds from 1 to 86400",
                                         options.timeout);
      session->timeout = (guint) value;
    }

  if (options.debug != NULL)
    {
      if (!popcheck_cli_parse_unsigned (options.debug, 0, 2, &value))
        return popcheck_cli_usage_error ("\"%s\" is not a --debug level; use "
                                         "0, 1 or 2", options.debug);
      session->debug = (guint) value;
    }

  status = popcheck_cli_parse_pin (options.pin, &session->pin);
  if (status != CLI_EXIT_OK)
    return status;

  if (options.commands == NULL || options.commands[0] == NULL)
    return popcheck_cli_usage_error ("no COMMAND was given; try \"stat\"");

  for (guint i = 0; options.commands[i] != NULL; i++)
    {
      CliCommand *command = popcheck_cli_command_parse (options.commands[i],
                                                        &error);

      if (command == NULL)
        return popcheck_cli_usage_error ("%s", error->message);
      g_ptr_array_add (session->commands, command);
    }

  if (options.account == NULL && options.user != NULL)
    {
      if (!pop3_auth_is_valid_user_name (options.user))
        return popcheck_cli_usage_error ("--user must be a non-empty name "
                                         "without spaces or line breaks");
      if (!options.password_stdin)
        return popcheck_cli_usage_error ("--user needs --password-stdin: the "
                                         "password is read from standard "
                                         "input, never given as an argument");
      session->user = g_strdup (options.user);
    }
  else if (options.password_stdin)
    {
      return popcheck_cli_usage_error ("--password-stdin needs --user");
    }

  if (options.ca_file != NULL)
    {
      status = load_ca_file (options.ca_file, &session->tls_database);
      if (status != CLI_EXIT_OK)
        return status;
    }

  /* Last, so that a usage error never costs a keyring prompt or swallows
   * the password. */
  if (options.account != NULL)
    {
      g_autofree char *pin = NULL;

      status = popcheck_cli_resolve_account (options.account, &session->host,
                                             &session->port,
                                             &session->security,
                                             &session->user, &session->auth,
                                             &pin, &session->password);
      if (status != CLI_EXIT_OK)
        return status;
      session->account = g_strdup (options.account);
      /* A --pin given now wins over the account's. */
      if (session->pin == NULL)
        session->pin = g_steal_pointer (&pin);
    }
  else if (session->user != NULL)
    {
      session->password = popcheck_cli_read_password (EMPTY_STDIN_MESSAGE,
                                                      &error);
      if (session->password == NULL)
        return popcheck_cli_usage_error ("%s", error->message);
    }

  /* The engine refuses these at login, which would be after connecting;
   * a stored account's may be as wrong as a --user. */
  if (session->user != NULL && !pop3_auth_is_valid_user_name (session->user))
    return popcheck_cli_usage_error ("the user name cannot be sent to a POP3 "
                                     "server: it is empty or has a space or "
                                     "a line break");
  if (session->password != NULL &&
      (session->auth == POP3_AUTH_XOAUTH2 ||
       session->auth == POP3_AUTH_OAUTHBEARER) &&
      !pop3_auth_is_valid_oauth_value (session->password))
    return popcheck_cli_usage_error ("the access token is empty or has a "
                                     "line break or another control "
                                     "character in it, which cannot be sent "
                                     "to a POP3 server");
  if (session->password != NULL &&
      !pop3_auth_is_safe_argument (session->password))
    return popcheck_cli_usage_error ("the password has a line break (CR or "
                                     "LF) in it, which cannot be sent to a "
                                     "POP3 server");

  return CLI_EXIT_OK;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(CliSession) session = NULL;
  int status;

  setlocale (LC_ALL, "");
#ifdef M_MMAP_THRESHOLD
  /* A fixed threshold, so that a listing's blocks go back to the system
   * when freed: glibc's own rises to the size of the largest block freed,
   * and the arrays of a million messages, once freed, would then stay in
   * the heap and add 20 MB to the peak of what comes after. */
  mallopt (M_MMAP_THRESHOLD, 128 * 1024);
#endif

  session = cli_session_new ();
  status = cli_session_parse_arguments (session, argc, argv);
  if (status != CLI_EXIT_OK || session->finished)
    return status;

  return cli_session_run (session);
}
