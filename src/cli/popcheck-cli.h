/* popcheck-cli.h: what popcheck-cli's parts share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * popcheck-cli.c runs the engine's commands (issue 2); popcheck-cli-accounts.c
 * runs the commands on stored accounts (issue 3); popcheck-cli-common.c
 * holds what both check and print the same way.  Both report through the
 * same exit statuses and write output the same way.
 */

#pragma once

#include <gio/gio.h>

#include "pop3-client.h"

G_BEGIN_DECLS

#define PROGRAM_NAME "popcheck-cli"

typedef enum
{
  CLI_EXIT_OK = 0,
  CLI_EXIT_SERVER = 1,
  CLI_EXIT_USAGE = 2,
  CLI_EXIT_NETWORK = 3,
  CLI_EXIT_TLS = 4,
  CLI_EXIT_AUTH = 5,
  /* No Secret Service, the keyring locked, or no password stored: the
   * user must fix the keyring, not the server or the password. */
  CLI_EXIT_KEYRING = 6,
  /* What a shell reports for a process ended by SIGINT, so a script can
   * tell "the user pressed Ctrl+C" from a network failure. */
  CLI_EXIT_INTERRUPTED = 130,
} CliExit;

/* Everything the command line gave, before it is checked. */
typedef struct
{
  char      *account;
  char      *host;
  char      *port;
  char      *security;
  char      *user;
  gboolean   password_stdin;
  char      *auth;
  char      *ca_file;
  char      *pin;
  char      *timeout;
  char      *debug;
  char      *format;
  gboolean   json;
  gboolean   all;
  char      *first_headers;
  gboolean   all_headers;
  char      *oauth;
  gboolean   no_browser;
  char     **commands;
} CliOptions;

void      popcheck_cli_options_clear        (CliOptions    *options);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CliOptions, popcheck_cli_options_clear)

int       popcheck_cli_usage_error          (const char    *format,
                                             ...) G_GNUC_PRINTF (1, 2);
gboolean  popcheck_cli_parse_unsigned       (const char    *str,
                                             guint64        min,
                                             guint64        max,
                                             guint64       *value);
int       popcheck_cli_exit_status_for_error (const GError *error);
/* One line of standard input; @empty_message is the error when there is
 * none. */
char     *popcheck_cli_read_password        (const char    *empty_message,
                                             GError       **error);
/* --security, --port (the security's standard port when not given) and
 * --auth; @security and @auth hold the defaults when called.  Returns
 * CLI_EXIT_OK, or CLI_EXIT_USAGE after saying what is wrong. */
int       popcheck_cli_parse_security_options (CliOptions     *options,
                                               Pop3Security   *security,
                                               guint16        *port,
                                               Pop3AuthMethod *auth);
/* --pin, when @option is given: @pin receives it normalized. */
int       popcheck_cli_parse_pin            (const char    *option,
                                             char         **pin);
/* Bytes to standard output exactly as they are. */
void      popcheck_cli_write                (const char    *data,
                                             gsize          len);
void      popcheck_cli_write_line           (const char    *line);
/* Flushes stdout; a failure to write is reported and turns @status into
 * CLI_EXIT_NETWORK when it was CLI_EXIT_OK. */
int       popcheck_cli_finish_output        (int            status);

/* popcheck-cli-commands.c: the engine's command words */

typedef struct _CliCommandSpec CliCommandSpec;

typedef struct
{
  const CliCommandSpec *spec;
  /* As the user gave it: it names the command in JSON and messages. */
  char                 *word;
  guint                 msg;
  guint                 lines;
} CliCommand;

/* One command word with its arguments, as in "top 1 10"; NULL with a
 * G_OPTION_ERROR that says what is wrong with it. */
CliCommand *popcheck_cli_command_parse      (const char          *word,
                                             GError             **error);
void      popcheck_cli_command_free         (CliCommand          *command);
/* Sends the command; FALSE when it needs no server round trip (welcome),
 * and @callback is not called. */
gboolean  popcheck_cli_command_start        (const CliCommand    *command,
                                             Pop3Client          *client,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
/* Whether the command changes what QUIT commits (dele, rset), and so
 * must not go out before every earlier command has succeeded. */
gboolean  popcheck_cli_command_waits_for_success (const CliCommand *command);
/* Prints the answer: text, or one JSON object; @reply is NULL for
 * welcome. */
void      popcheck_cli_command_report       (const CliCommand    *command,
                                             Pop3Client          *client,
                                             Pop3Reply           *reply,
                                             gboolean             json_output);
/* One line per command word, for --help. */
void      popcheck_cli_command_append_help  (GString             *text);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CliCommand, popcheck_cli_command_free)

/* popcheck-cli-accounts.c */

/* account, status, check and delete: the words that work on stored
 * accounts rather than on one POP3 session. */
gboolean  popcheck_cli_is_account_command   (const char    *word);
int       popcheck_cli_run_account_command  (CliOptions    *options);

/* For --account with the engine's commands: the stored account's settings
 * and its password from the keyring.  Returns CLI_EXIT_OK, or the exit
 * status after printing why not. */
/* A fresh access token for the stored account @name that signs in with
 * OAuth2, after the server refused the one it had.  Returns CLI_EXIT_OK,
 * or the exit status after printing why not. */
int       popcheck_cli_refresh_access_token (const char    *name,
                                             char         **token);
/* After an OAuth2 account @name failed to log in: how to sign in again. */
void      popcheck_cli_print_sign_in_hint   (const char    *name);
int       popcheck_cli_resolve_account      (const char    *name,
                                             char         **host,
                                             guint16       *port,
                                             Pop3Security  *security,
                                             char         **user,
                                             Pop3AuthMethod *auth,
                                             char         **pin,
                                             char         **password);

G_END_DECLS
