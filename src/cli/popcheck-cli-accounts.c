/* popcheck-cli-accounts.c: popcheck-cli on stored accounts (issue 3)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 *   popcheck-cli [--account NAME] [--json] check
 *   popcheck-cli [--account NAME] status [--format waybar|json|text]
 *   popcheck-cli --account NAME [--json] delete UID...
 *   popcheck-cli account add NAME --host HOST --user USER [--port N]
 *                [--security tls|starttls|none] [--auth METHOD] [--pin SHA256]
 *   popcheck-cli account add NAME --oauth microsoft|google --user ADDRESS
 *                [--no-browser] [--host HOST ...]
 *   popcheck-cli [--json] account list
 *   popcheck-cli account remove NAME
 *
 * The accounts are the app's own (GSettings), the passwords stay in the
 * keyring (libsecret), and checks and deletes go through the same checker
 * as the window's, so a check here and a check there agree on what is new.
 * The password is read from standard input or a prompt without echo, and
 * is never an argument, never printed and never written anywhere but the
 * keyring.
 */

#define G_LOG_DOMAIN "popcheck-cli"

#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <glib-unix.h>
#include <gio/gio.h>

#include "pop3-auth.h"
#include "pop3-client.h"
#include "pop3-parser.h"
#include "pop3-tls.h"
#include "popcheck-account.h"
#include "popcheck-account-list.h"
#include "popcheck-checker.h"
#include "popcheck-cli.h"
#include "popcheck-cli-json.h"
#include "popcheck-mailbox.h"
#include "popcheck-message.h"
#include "popcheck-oauth-account.h"
#include "popcheck-remote.h"
#include "popcheck-secret.h"
#include "popcheck-session.h"

typedef struct
{
  CliOptions          *options;
  PopcheckAccountList *accounts;
  GCancellable        *cancellable;
  /* While check or delete runs: its sessions are cancelled through it. */
  PopcheckChecker     *checker;
  gboolean             interrupted;
  guint                sigint_id;
  guint                sigterm_id;
} CliAccounts;

typedef int (*CliAccountsRunFunc) (CliAccounts *cli);

/* A command on stored accounts, as GIO's gio tool lists its commands: its
 * word, what runs it, and the options it takes besides --json. */
typedef struct
{
  const char         *name;
  /* How a refused option names the command; NULL when the command
   * checks its options itself (account, for each of its verbs). */
  const char         *label;
  CliAccountsRunFunc  run;
  gboolean            allow_account;
  gboolean            allow_server;
  gboolean            allow_format;
  gboolean            allow_all;
  gboolean            allow_headers;
} CliAccountsCommand;

/* Waiting: the core is asynchronous; the command line simply runs the
 * default main context until the answer is there. */

static void
store_result_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static GAsyncResult *
wait_for_result (GAsyncResult **result)
{
  while (*result == NULL)
    g_main_context_iteration (NULL, TRUE);

  return *result;
}

static gboolean
interrupt_cb (gpointer user_data)
{
  CliAccounts *cli = user_data;

  /* A second Ctrl+C means the first was not enough: stop at once. */
  if (cli->interrupted)
    exit (popcheck_cli_finish_output (CLI_EXIT_INTERRUPTED));

  /* The checker's sessions have a cancellable of their own; stopping it
   * drops their connections without QUIT, so nothing half-done is
   * committed. */
  cli->interrupted = TRUE;
  g_cancellable_cancel (cli->cancellable);
  if (cli->checker != NULL)
    popcheck_checker_stop (cli->checker);

  return G_SOURCE_CONTINUE;
}

static int
exit_status_for_error (CliAccounts  *cli,
                       const GError *error)
{
  /* Ctrl+C is told apart from a connection that was dropped. */
  if (pop3_error_get_kind (error) == POP3_ERROR_KIND_CANCELLED &&
      cli != NULL && cli->interrupted)
    return CLI_EXIT_INTERRUPTED;

  return popcheck_cli_exit_status_for_error (error);
}

static const char *
enum_nick (GType type,
           int   value)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (type);
  GEnumValue *enum_value = g_enum_get_value (klass, value);

  return enum_value != NULL ? enum_value->value_nick : "unknown";
}

static void
json_member_nullable (JsonBuilder  *json,
                      const char   *key,
                      const char   *value)
{
  json_builder_set_member_name (json, key);
  if (value != NULL)
    popcheck_cli_json_add_string (json, value);
  else
    json_builder_add_null_value (json);
}

/* The one-line answer of delete, account add and account remove. */
static void
print_result_json (const char *account_id,
                   const char *name,
                   gboolean    ok,
                   const char *error_message)
{
  g_autoptr(JsonBuilder) json = json_builder_new ();

  json_builder_begin_object (json);
  popcheck_cli_json_set_string (json, "account", account_id);
  if (name != NULL)
    popcheck_cli_json_set_string (json, "name", name);
  popcheck_cli_json_set_boolean (json, "ok", ok);
  json_member_nullable (json, "error", error_message);
  json_builder_end_object (json);

  popcheck_cli_json_write_line (json);
}

static char *
format_date (GDateTime *date)
{
  return date != NULL ? g_date_time_format_iso8601 (date) : NULL;
}

/* Setting up */

static gboolean
settings_schema_installed (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) app = NULL;
  g_autoptr(GSettingsSchema) account = NULL;

  if (source == NULL)
    return FALSE;

  /* g_settings_new() aborts on a missing schema; say so instead. */
  app = g_settings_schema_source_lookup (source, POPCHECK_SETTINGS_SCHEMA_ID,
                                         TRUE);
  account = g_settings_schema_source_lookup (source, POPCHECK_ACCOUNT_SCHEMA_ID,
                                             TRUE);

  return app != NULL && account != NULL;
}

static PopcheckAccountList *
open_accounts (int *status)
{
  if (!settings_schema_installed ())
    {
      g_printerr (PROGRAM_NAME ": the settings schema "
                  POPCHECK_SETTINGS_SCHEMA_ID " is not installed, so there "
                  "are no accounts to use (is PopCheck installed, or "
                  "GSETTINGS_SCHEMA_DIR set?)\n");
      *status = CLI_EXIT_USAGE;
      return NULL;
    }

  *status = CLI_EXIT_OK;
  return popcheck_account_list_new ();
}

static PopcheckAccount *
find_account (PopcheckAccountList *accounts,
              const char          *name)
{
  g_autoptr(GError) error = NULL;
  PopcheckAccount *account;

  account = popcheck_account_list_find (accounts, name, &error);
  if (account == NULL)
    {
      g_printerr (PROGRAM_NAME ": there is no account \"%s\"; "
                  "\"" PROGRAM_NAME " account list\" shows them\n", name);
      return NULL;
    }

  /* Settings changed from outside are not checked when written. */
  if (!popcheck_account_validate (account, &error))
    {
      g_printerr (PROGRAM_NAME ": the account \"%s\" cannot be used: %s\n",
                  name, error->message);
      return NULL;
    }

  return account;
}

static char *
lookup_password (CliAccounts     *cli,
                 PopcheckAccount *account,
                 GError         **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  popcheck_secret_lookup_async (popcheck_account_get_id (account),
                                POPCHECK_SECRET_KIND_PASSWORD,
                                popcheck_account_get_host (account),
                                popcheck_account_get_port (account),
                                popcheck_account_get_user (account),
                                cli != NULL ? cli->cancellable : NULL,
                                store_result_cb, &result);

  return popcheck_secret_lookup_finish (wait_for_result (&result), error);
}

/* A fresh access token from the account's refresh token; freed with
 * secret_password_free(), which wipes it. */
static char *
get_access_token (PopcheckAccount  *account,
                  GError          **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(PopcheckOAuthToken) token = NULL;

  popcheck_oauth_account_get_token_async (account, NULL, store_result_cb,
                                          &result);
  token = popcheck_oauth_account_get_token_finish (wait_for_result (&result),
                                                   error);
  if (token == NULL)
    return NULL;

  return g_steal_pointer (&token->access_token);
}

/* The refresh token no longer works, or the server no longer takes what
 * it gives: only a new sign-in helps, and account add makes one for an
 * account that has one already. */
static void
print_sign_in_hint (PopcheckAccount *account,
                    const char      *name)
{
  g_autofree char *provider = popcheck_account_dup_oauth2_provider (account);
  g_autofree char *quoted = g_shell_quote (name);

  if (provider == NULL)
    return;

  g_printerr (PROGRAM_NAME ": to sign in again, run: " PROGRAM_NAME
              " account add %s --oauth %s\n", quoted, provider);
}

void
popcheck_cli_print_sign_in_hint (const char *name)
{
  g_autoptr(PopcheckAccountList) accounts = NULL;
  PopcheckAccount *account;
  int status;

  accounts = open_accounts (&status);
  account = accounts != NULL ? popcheck_account_list_find (accounts, name, NULL)
                             : NULL;
  if (account != NULL)
    print_sign_in_hint (account, name);
}

/* The account's access token, or its password: freed with
 * secret_password_free(), which wipes it. */
static char *
get_secret (PopcheckAccount  *account,
            const char       *name,
            int              *status)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *provider = popcheck_account_dup_oauth2_provider (account);
  char *secret;

  if (provider != NULL)
    secret = get_access_token (account, &error);
  else
    secret = lookup_password (NULL, account, &error);
  if (secret == NULL && provider != NULL && error->domain != POPCHECK_SECRET_ERROR)
    {
      g_printerr (PROGRAM_NAME ": could not sign in to the account \"%s\": "
                  "%s\n", name, error->message);
      if (pop3_error_get_kind (error) == POP3_ERROR_KIND_AUTH)
        print_sign_in_hint (account, name);
      *status = exit_status_for_error (NULL, error);
      return NULL;
    }
  if (secret == NULL)
    {
      g_printerr (PROGRAM_NAME ": could not get the password of the "
                  "account \"%s\" from the keyring: %s\n", name,
                  error->message);
      *status = exit_status_for_error (NULL, error);
      return NULL;
    }

  *status = CLI_EXIT_OK;
  return secret;
}

int
popcheck_cli_resolve_account (const char      *name,
                              char           **host,
                              guint16         *port,
                              Pop3Security    *security,
                              char           **user,
                              Pop3AuthMethod  *auth,
                              char           **pin,
                              char           **password)
{
  g_autoptr(PopcheckAccountList) accounts = NULL;
  PopcheckAccount *account;
  char *secret;
  int status;

  accounts = open_accounts (&status);
  if (accounts == NULL)
    return status;

  account = find_account (accounts, name);
  if (account == NULL)
    return CLI_EXIT_USAGE;

  secret = get_secret (account, name, &status);
  if (secret == NULL)
    return status;

  /* The engine's session frees the password with g_free(); it wipes
   * nothing, but a copy made here lives no longer than the session. */
  *password = g_strdup (secret);
  secret_password_free (secret);

  *host = g_strdup (popcheck_account_get_host (account));
  *port = popcheck_account_get_port (account);
  *security = popcheck_account_get_security (account);
  *user = g_strdup (popcheck_account_get_user (account));
  *auth = popcheck_account_get_auth_method (account);
  *pin = g_strdup (popcheck_account_get_pinned_fingerprint (account));

  return CLI_EXIT_OK;
}

/* Options that a command does not use are refused, not ignored: a --host
 * given to "check" would otherwise look like it did something. */
static int
refuse_options (CliOptions               *options,
                const CliAccountsCommand *command)
{
  struct {
    const char *name;
    gboolean    given;
    gboolean    allowed;
  } checks[] = {
    { "--account", options->account != NULL, command->allow_account },
    { "--host", options->host != NULL, command->allow_server },
    { "--port", options->port != NULL, command->allow_server },
    { "--security", options->security != NULL, command->allow_server },
    { "--user", options->user != NULL, command->allow_server },
    { "--auth", options->auth != NULL, command->allow_server },
    { "--pin", options->pin != NULL, command->allow_server },
    { "--password-stdin", options->password_stdin, command->allow_server },
    { "--oauth", options->oauth != NULL, command->allow_server },
    { "--no-browser", options->no_browser, command->allow_server },
    { "--ca-file", options->ca_file != NULL, FALSE },
    { "--timeout", options->timeout != NULL, FALSE },
    { "--debug", options->debug != NULL, FALSE },
    { "--format", options->format != NULL, command->allow_format },
    { "--all", options->all, command->allow_all },
    { "--first-headers", options->first_headers != NULL, command->allow_headers },
    { "--all-headers", options->all_headers, command->allow_headers },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (checks); i++)
    if (checks[i].given && !checks[i].allowed)
      return popcheck_cli_usage_error ("%s does not go with \"%s\"",
                                       checks[i].name, command->label);

  return CLI_EXIT_OK;
}

/* Messages and mailboxes as JSON */

/* One element of "messages": written one at a time, as a mailbox may
 * hold a million. */
static void
add_json_message (JsonBuilder *json,
                  guint        index,
                  gpointer     user_data)
{
  PopcheckMailbox *mailbox = user_data;
  g_autoptr(PopcheckMessage) message = g_list_model_get_item (G_LIST_MODEL (mailbox), index);
  g_autofree char *date = format_date (popcheck_message_get_date (message));

  guint number = popcheck_message_get_msg_number (message);

  json_builder_begin_object (json);
  /* Without a UID, the key is no UID: a script must not act on it. */
  json_member_nullable (json, "uid",
                        popcheck_message_get_has_uid (message)
                          ? popcheck_message_get_uid (message) : NULL);
  /* The number holds for the session of this check only. */
  json_builder_set_member_name (json, "number");
  if (number > 0)
    popcheck_cli_json_add_uint (json, number);
  else
    json_builder_add_null_value (json);
  /* Absent, not empty, where nothing is known: the headers of a message
   * listed without them (not fetched yet, or refused by the server). */
  if (popcheck_message_get_headers_known (message))
    {
      json_member_nullable (json, "from", popcheck_message_get_from (message));
      json_member_nullable (json, "subject", popcheck_message_get_subject (message));
      json_member_nullable (json, "date", date);
    }
  popcheck_cli_json_set_uint (json, "size", popcheck_message_get_size (message));
  popcheck_cli_json_set_boolean (json, "new", popcheck_message_get_is_new (message));
  json_builder_end_object (json);
}

/* One account's object, for check and status --format json. */
static void
print_mailbox_json (PopcheckAccount      *account,
                    PopcheckMailbox      *mailbox,
                    PopcheckMailboxState  state,
                    const char           *error_message)
{
  g_autoptr(JsonBuilder) json = json_builder_new ();
  g_autofree char *last_check = format_date (popcheck_mailbox_get_last_check (mailbox));

  json_builder_begin_object (json);
  popcheck_cli_json_set_string (json, "account", popcheck_account_get_id (account));
  popcheck_cli_json_set_string (json, "name", popcheck_account_get_display_name (account));
  popcheck_cli_json_set_uint (json, "total", popcheck_mailbox_get_n_items (mailbox));
  popcheck_cli_json_set_uint (json, "new", popcheck_mailbox_get_n_new (mailbox));
  popcheck_cli_json_set_string (json, "state",
                               enum_nick (POPCHECK_TYPE_MAILBOX_STATE, state));
  json_member_nullable (json, "error", error_message);
  json_member_nullable (json, "last_check", last_check);
  popcheck_cli_json_set_boolean (json, "approximate_ids",
                                popcheck_mailbox_get_approximate_ids (mailbox));
  popcheck_cli_json_set_uint (json, "without_uid",
                             popcheck_mailbox_get_n_without_uid (mailbox));
  json_builder_end_object (json);

  popcheck_cli_json_write_line_with_array (json, "messages",
                                           g_list_model_get_n_items (G_LIST_MODEL (mailbox)),
                                           add_json_message, mailbox);
}

/* What a person calls the account: its name, or its id when the name was
 * cleared from outside. */
static const char *
account_label (PopcheckAccount *account)
{
  const char *name = popcheck_account_get_display_name (account);

  return name != NULL && name[0] != '\0' ? name : popcheck_account_get_id (account);
}

/* A check that worked but met broken UIDL lines says so, on standard error
 * so that the counts stay what scripts read. */
static void
print_without_uid (PopcheckAccount *account,
                   PopcheckMailbox *mailbox)
{
  g_autofree char *notice = popcheck_mailbox_describe_without_uid (mailbox);

  if (notice != NULL)
    g_printerr (PROGRAM_NAME ": %s: %s\n", account_label (account), notice);
}

static char *
describe_counts (PopcheckMailbox *mailbox)
{
  return g_strdup_printf ("%u new, %u total",
                          popcheck_mailbox_get_n_new (mailbox),
                          popcheck_mailbox_get_n_items (mailbox));
}


static gboolean
save_mailbox (PopcheckMailbox *mailbox)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  /* The checker saves without waiting; a process about to exit must wait,
   * or the next "status" would not see this check. */
  popcheck_mailbox_save_async (mailbox, NULL, store_result_cb, &result);
  if (popcheck_mailbox_save_finish (mailbox, wait_for_result (&result), &error))
    return TRUE;

  g_printerr (PROGRAM_NAME ": could not save the state of the account "
              "\"%s\": %s\n", popcheck_mailbox_get_account_id (mailbox),
              error->message);
  return FALSE;
}

/* The accounts a command works on: the one named, or all of them. */
static GPtrArray *
select_accounts (CliAccounts *cli,
                 int         *status)
{
  GPtrArray *selected = g_ptr_array_new_with_free_func (g_object_unref);

  *status = CLI_EXIT_OK;

  if (cli->options->account != NULL)
    {
      PopcheckAccount *account = find_account (cli->accounts,
                                               cli->options->account);

      if (account == NULL)
        {
          *status = CLI_EXIT_USAGE;
          return selected;
        }
      g_ptr_array_add (selected, g_object_ref (account));
      return selected;
    }

  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (cli->accounts)); i++)
    g_ptr_array_add (selected, g_list_model_get_item (G_LIST_MODEL (cli->accounts), i));

  return selected;
}

/* check */

/* All accounts: the disabled ones are reported, not checked.  One named
 * account is checked even when disabled: it was asked for. */
static gboolean
check_wanted (CliAccounts     *cli,
              PopcheckAccount *account)
{
  return cli->options->account != NULL || popcheck_account_get_enabled (account);
}

static int
run_check (CliAccounts *cli)
{
  g_autoptr(PopcheckChecker) checker = NULL;
  g_autoptr(GPtrArray) selected = NULL;
  g_autoptr(GPtrArray) account_ids = g_ptr_array_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) results = NULL;
  guint next_result = 0;
  guint64 first_headers = POPCHECK_CHECKER_FIRST_HEADERS;
  int status;

  if (cli->options->commands[1] != NULL)
    return popcheck_cli_usage_error ("check takes no arguments");
  if (cli->options->first_headers != NULL && cli->options->all_headers)
    return popcheck_cli_usage_error ("--first-headers and --all-headers do "
                                     "not go together");
  if (cli->options->first_headers != NULL &&
      !popcheck_cli_parse_unsigned (cli->options->first_headers, 0,
                                    G_MAXUINT - 1, &first_headers))
    return popcheck_cli_usage_error ("\"%s\" is not a number of messages for "
                                     "--first-headers",
                                     cli->options->first_headers);
  if (cli->options->all_headers)
    first_headers = G_MAXUINT;

  selected = select_accounts (cli, &status);
  if (status != CLI_EXIT_OK)
    return status;
  if (selected->len == 0)
    {
      g_printerr (PROGRAM_NAME ": there are no accounts to check; add one "
                  "with \"" PROGRAM_NAME " account add\"\n");
      return CLI_EXIT_USAGE;
    }

  for (guint i = 0; i < selected->len; i++)
    {
      PopcheckAccount *account = g_ptr_array_index (selected, i);

      if (check_wanted (cli, account))
        g_ptr_array_add (account_ids, (gpointer) popcheck_account_get_id (account));
    }
  g_ptr_array_add (account_ids, NULL);

  /* Not started: no timers, no network monitor, just the checks asked
   * for, through the same sessions and state files as the app's. */
  checker = popcheck_checker_new (cli->accounts);
  /* A process that checks once has no background to fetch the rest in:
   * what it does not fetch now, the next check (or the app) does. */
  popcheck_checker_set_first_headers (checker, (guint) first_headers);
  cli->checker = checker;
  popcheck_checker_check_accounts_async (checker,
                                         (const char * const *) account_ids->pdata,
                                         cli->cancellable, store_result_cb,
                                         &result);
  results = popcheck_checker_check_accounts_finish (checker,
                                                    wait_for_result (&result),
                                                    NULL);
  cli->checker = NULL;

  status = CLI_EXIT_OK;
  for (guint i = 0; i < selected->len; i++)
    {
      PopcheckAccount *account = g_ptr_array_index (selected, i);
      const char *id = popcheck_account_get_id (account);
      PopcheckMailbox *mailbox = popcheck_checker_get_mailbox (checker, id);
      PopcheckCheckResult *outcome = NULL;
      g_autofree char *message = NULL;
      PopcheckMailboxState state;

      /* The results are in the order of the accounts checked. */
      if (check_wanted (cli, account))
        outcome = g_ptr_array_index (results, next_result++);

      if (outcome == NULL)
        state = POPCHECK_MAILBOX_STATE_DISABLED;
      else if (outcome->error == NULL)
        {
          state = POPCHECK_MAILBOX_STATE_IDLE;
          if (outcome->save_error != NULL)
            g_printerr (PROGRAM_NAME ": could not save the state of the "
                        "account \"%s\": %s\n", id,
                        outcome->save_error->message);
        }
      else
        {
          state = POPCHECK_MAILBOX_STATE_ERROR;
          message = popcheck_session_describe_error (outcome->error);
          if (status == CLI_EXIT_OK)
            status = exit_status_for_error (cli, outcome->error);
        }

      if (message != NULL)
        {
          g_printerr (PROGRAM_NAME ": %s: %s\n", account_label (account),
                      message);
          if (pop3_error_get_kind (outcome->error) == POP3_ERROR_KIND_AUTH)
            print_sign_in_hint (account, popcheck_account_get_display_name (account));
        }
      else if (state == POPCHECK_MAILBOX_STATE_IDLE)
        print_without_uid (account, mailbox);

      if (cli->options->json)
        print_mailbox_json (account, mailbox, state, message);
      else if (state == POPCHECK_MAILBOX_STATE_IDLE)
        {
          g_autofree char *counts = describe_counts (mailbox);
          guint pending = popcheck_mailbox_count_headers_pending (mailbox);
          g_autofree char *line = NULL;

          if (pending > 0)
            line = g_strdup_printf ("%s: %s, %u without headers yet",
                                    account_label (account), counts, pending);
          else
            line = g_strdup_printf ("%s: %s", account_label (account), counts);
          popcheck_cli_write_line (line);
        }
      else if (state == POPCHECK_MAILBOX_STATE_DISABLED)
        {
          g_autofree char *line = g_strdup_printf ("%s: disabled",
                                                   account_label (account));
          popcheck_cli_write_line (line);
        }
    }

  return status;
}

/* status */

typedef enum
{
  STATUS_FORMAT_TEXT,
  STATUS_FORMAT_JSON,
  STATUS_FORMAT_WAYBAR,
} StatusFormat;

static void
print_status_waybar (GPtrArray *selected,
                     GPtrArray *mailboxes)
{
  g_autoptr(JsonBuilder) json = json_builder_new ();
  g_autoptr(GString) tooltip = g_string_new (NULL);
  g_autofree char *text = NULL;
  const char *class;
  guint n_new = 0;

  for (guint i = 0; i < selected->len; i++)
    {
      PopcheckAccount *account = g_ptr_array_index (selected, i);
      PopcheckMailbox *mailbox = g_ptr_array_index (mailboxes, i);
      g_autofree char *counts = describe_counts (mailbox);

      if (tooltip->len > 0)
        g_string_append_c (tooltip, '\n');
      g_string_append_printf (tooltip, "%s: ", account_label (account));
      if (!popcheck_account_get_enabled (account))
        g_string_append (tooltip, "disabled");
      else if (!popcheck_mailbox_get_first_check_done (mailbox))
        g_string_append (tooltip, "not checked yet");
      else
        {
          g_string_append (tooltip, counts);
          n_new += popcheck_mailbox_get_n_new (mailbox);
        }
    }
  if (selected->len == 0)
    g_string_append (tooltip, "No accounts");

  /* waybar's custom module: "class" styles it, "alt" picks a format-icons
   * entry. */
  class = n_new > 0 ? "new" : "none";
  text = g_strdup_printf ("%u", n_new);

  json_builder_begin_object (json);
  popcheck_cli_json_set_string (json, "text", text);
  popcheck_cli_json_set_string (json, "tooltip", tooltip->str);
  popcheck_cli_json_set_string (json, "class", class);
  popcheck_cli_json_set_string (json, "alt", class);
  json_builder_end_object (json);

  popcheck_cli_json_write_line (json);
}

static void
print_status_text (PopcheckAccount *account,
                   PopcheckMailbox *mailbox)
{
  const char *name = account_label (account);
  g_autofree char *line = NULL;

  if (!popcheck_account_get_enabled (account))
    line = g_strdup_printf ("%s: disabled", name);
  else if (!popcheck_mailbox_get_first_check_done (mailbox))
    line = g_strdup_printf ("%s: not checked yet", name);
  else
    {
      g_autofree char *counts = describe_counts (mailbox);
      g_autofree char *when = NULL;
      GDateTime *last_check = popcheck_mailbox_get_last_check (mailbox);

      if (last_check != NULL)
        when = g_date_time_format (last_check, ", last checked %Y-%m-%d %H:%M");
      line = g_strdup_printf ("%s: %s%s", name, counts, when ? when : "");
    }

  popcheck_cli_write_line (line);
}

static int
run_status (CliAccounts *cli)
{
  g_autoptr(GPtrArray) selected = NULL;
  g_autoptr(GPtrArray) mailboxes = NULL;
  g_autoptr(GPtrArray) load_errors = NULL;
  g_autofree GAsyncResult **results = NULL;
  StatusFormat format = STATUS_FORMAT_TEXT;
  const char *format_name = cli->options->format;
  int status;

  if (cli->options->commands[1] != NULL)
    return popcheck_cli_usage_error ("status takes no arguments; the format "
                                     "is --format waybar|json|text");

  if (format_name == NULL)
    format = cli->options->json ? STATUS_FORMAT_JSON : STATUS_FORMAT_TEXT;
  else if (g_str_equal (format_name, "text"))
    format = STATUS_FORMAT_TEXT;
  else if (g_str_equal (format_name, "json"))
    format = STATUS_FORMAT_JSON;
  else if (g_str_equal (format_name, "waybar"))
    format = STATUS_FORMAT_WAYBAR;
  else
    return popcheck_cli_usage_error ("\"%s\" is not a --format; use waybar, "
                                     "json or text", format_name);

  selected = select_accounts (cli, &status);
  if (status != CLI_EXIT_OK)
    return status;

  /* Only the state files: no network, no keyring, and read only: a file
   * this version cannot read stays where it is. */
  mailboxes = g_ptr_array_new_with_free_func (g_object_unref);
  load_errors = g_ptr_array_new_with_free_func (g_free);
  results = g_new0 (GAsyncResult *, selected->len + 1);
  for (guint i = 0; i < selected->len; i++)
    {
      PopcheckAccount *account = g_ptr_array_index (selected, i);
      PopcheckMailbox *mailbox = popcheck_mailbox_new (popcheck_account_get_id (account));

      g_ptr_array_add (mailboxes, mailbox);
      popcheck_mailbox_load_for_reading_async (mailbox, cli->cancellable,
                                               store_result_cb, &results[i]);
    }

  for (guint i = 0; i < selected->len; i++)
    {
      PopcheckMailbox *mailbox = g_ptr_array_index (mailboxes, i);
      g_autoptr(GAsyncResult) result = g_object_ref (wait_for_result (&results[i]));
      g_autoptr(GError) error = NULL;

      g_clear_object (&results[i]);
      g_ptr_array_add (load_errors, NULL);
      if (!popcheck_mailbox_load_finish (mailbox, result, &error))
        {
          g_printerr (PROGRAM_NAME ": could not read the state of the "
                      "account \"%s\": %s\n",
                      popcheck_mailbox_get_account_id (mailbox), error->message);
          /* A state file this version cannot read is reported, but status
           * still reports the rest: it is not a failure of this command. */
          if (error->domain == POPCHECK_MAILBOX_ERROR)
            g_ptr_array_index (load_errors, i) = g_strdup (error->message);
          else if (status == CLI_EXIT_OK)
            status = exit_status_for_error (cli, error);
        }
    }

  if (format == STATUS_FORMAT_WAYBAR)
    {
      print_status_waybar (selected, mailboxes);
      return status;
    }

  for (guint i = 0; i < selected->len; i++)
    {
      PopcheckAccount *account = g_ptr_array_index (selected, i);
      PopcheckMailbox *mailbox = g_ptr_array_index (mailboxes, i);

      if (format == STATUS_FORMAT_TEXT)
        print_status_text (account, mailbox);
      else
        print_mailbox_json (account, mailbox,
                            popcheck_account_get_enabled (account)
                              ? POPCHECK_MAILBOX_STATE_IDLE
                              : POPCHECK_MAILBOX_STATE_DISABLED,
                            g_ptr_array_index (load_errors, i));
    }

  return status;
}

/* delete */

static void
print_uids_json (JsonBuilder        *json,
                 const char         *key,
                 const char * const *uids)
{
  json_builder_set_member_name (json, key);
  json_builder_begin_array (json);
  for (guint i = 0; uids != NULL && uids[i] != NULL; i++)
    popcheck_cli_json_add_string (json, uids[i]);
  json_builder_end_array (json);
}

static int
run_delete (CliAccounts *cli)
{
  g_autoptr(PopcheckChecker) checker = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) deleted = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) already_gone = NULL;
  char **uids = cli->options->commands + 1;
  PopcheckAccount *account;
  const char *id;

  if (cli->options->account == NULL)
    return popcheck_cli_usage_error ("delete needs --account NAME: which "
                                     "account's messages should I delete?");
  if (uids[0] == NULL)
    return popcheck_cli_usage_error ("delete needs the UID of each message "
                                     "to delete (\"uid\" in the output of "
                                     "check --json)");
  for (guint i = 0; uids[i] != NULL; i++)
    if (!pop3_uid_is_valid (uids[i]))
      return popcheck_cli_usage_error ("\"%s\" is not a UID: a UID is 1 to "
                                       "70 printable characters", uids[i]);

  account = find_account (cli->accounts, cli->options->account);
  if (account == NULL)
    return CLI_EXIT_USAGE;
  id = popcheck_account_get_id (account);

  checker = popcheck_checker_new (cli->accounts);
  cli->checker = checker;
  popcheck_checker_delete_async (checker, id,
                                 (const char * const *) uids, cli->cancellable,
                                 store_result_cb, &result);
  wait_for_result (&result);
  cli->checker = NULL;
  if (!popcheck_checker_delete_finish (checker, result, &already_gone,
                                       &error))
    {
      int status = exit_status_for_error (cli, error);
      g_autofree char *message = popcheck_session_describe_error (error);

      g_printerr (PROGRAM_NAME ": %s: %s\n", account_label (account),
                  message);
      if (cli->options->json)
        print_result_json (id, NULL, FALSE, message);
      return status;
    }

  save_mailbox (popcheck_checker_get_mailbox (checker, id));

  for (guint i = 0; uids[i] != NULL; i++)
    if (already_gone == NULL ||
        !g_strv_contains ((const char * const *) already_gone, uids[i]))
      g_ptr_array_add (deleted, uids[i]);
  g_ptr_array_add (deleted, NULL);

  if (cli->options->json)
    {
      g_autoptr(JsonBuilder) json = json_builder_new ();

      json_builder_begin_object (json);
      popcheck_cli_json_set_string (json, "account", id);
      popcheck_cli_json_set_boolean (json, "ok", TRUE);
      print_uids_json (json, "deleted",
                       (const char * const *) deleted->pdata);
      print_uids_json (json, "already_gone",
                       (const char * const *) already_gone);
      json_builder_end_object (json);
      popcheck_cli_json_write_line (json);
      return CLI_EXIT_OK;
    }

  for (guint i = 0; i < deleted->len - 1; i++)
    {
      const char *uid = g_ptr_array_index (deleted, i);
      g_autofree char *line = g_strdup_printf ("%s: deleted", uid);
      popcheck_cli_write_line (line);
    }
  for (guint i = 0; already_gone != NULL && already_gone[i] != NULL; i++)
    {
      g_autofree char *line = g_strdup_printf ("%s: already gone",
                                               already_gone[i]);
      popcheck_cli_write_line (line);
    }

  return CLI_EXIT_OK;
}

/* mark-seen */

/* Loaded to be written back: a damaged file is set aside as the app
 * would. */
static PopcheckMailbox *
load_mailbox (CliAccounts      *cli,
              PopcheckAccount  *account,
              GError          **error)
{
  g_autoptr(PopcheckMailbox) mailbox = popcheck_mailbox_new (popcheck_account_get_id (account));
  g_autoptr(GAsyncResult) result = NULL;

  popcheck_mailbox_load_async (mailbox, cli->cancellable, store_result_cb, &result);
  if (!popcheck_mailbox_load_finish (mailbox, wait_for_result (&result), error))
    return NULL;

  return g_steal_pointer (&mailbox);
}

static int
mark_account_seen (CliAccounts        *cli,
                   PopcheckAccount    *account,
                   const char * const *uids)
{
  g_autoptr(PopcheckMailbox) mailbox = NULL;
  g_autoptr(GError) error = NULL;
  gboolean changed;

  mailbox = load_mailbox (cli, account, &error);
  if (mailbox == NULL)
    {
      g_printerr (PROGRAM_NAME ": could not read the state of the account "
                  "\"%s\": %s\n", popcheck_account_get_id (account),
                  error->message);
      return error->domain == POPCHECK_MAILBOX_ERROR
               ? CLI_EXIT_USAGE : exit_status_for_error (cli, error);
    }

  for (guint i = 0; uids != NULL && uids[i] != NULL; i++)
    if (popcheck_mailbox_lookup (mailbox, uids[i]) == NULL)
      g_printerr (PROGRAM_NAME ": %s: no message with the UID \"%s\" is "
                  "listed; \"status --json\" lists them\n",
                  account_label (account), uids[i]);

  changed = uids != NULL ? popcheck_mailbox_mark_seen (mailbox, uids)
                         : popcheck_mailbox_mark_all_seen (mailbox);
  if (changed && !save_mailbox (mailbox))
    return CLI_EXIT_USAGE;

  if (cli->options->json)
    print_mailbox_json (account, mailbox,
                        popcheck_account_get_enabled (account)
                          ? POPCHECK_MAILBOX_STATE_IDLE
                          : POPCHECK_MAILBOX_STATE_DISABLED,
                        NULL);
  else
    {
      g_autofree char *counts = describe_counts (mailbox);
      g_autofree char *line = g_strdup_printf ("%s: %s",
                                               account_label (account),
                                               counts);
      popcheck_cli_write_line (line);
    }

  return CLI_EXIT_OK;
}

/* A running PopCheck keeps the marks in memory and would write them over
 * the state file: it is asked to mark the messages itself.  FALSE when
 * none runs. */
static gboolean
ask_running_popcheck (CliAccounts        *cli,
                      GPtrArray          *accounts,
                      const char * const *uids,
                      int                *status)
{
  for (guint i = 0; i < accounts->len; i++)
    {
      PopcheckAccount *account = g_ptr_array_index (accounts, i);
      const char *id = popcheck_account_get_id (account);
      g_autoptr(GError) error = NULL;
      gboolean asked;

      asked = uids != NULL
                ? popcheck_remote_activate_action ("mark-seen",
                                                   g_variant_new ("(s^as)", id, uids),
                                                   &error)
                : popcheck_remote_activate_action ("mark-account-seen",
                                                   g_variant_new_string (id), &error);
      if (error != NULL)
        {
          g_printerr (PROGRAM_NAME ": could not ask the running PopCheck: "
                      "%s\n", error->message);
          *status = CLI_EXIT_USAGE;
          return TRUE;
        }
      if (!asked)
        return FALSE;

      if (cli->options->json)
        {
          g_autoptr(JsonBuilder) json = json_builder_new ();

          json_builder_begin_object (json);
          popcheck_cli_json_set_string (json, "account", id);
          popcheck_cli_json_set_boolean (json, "running", TRUE);
          json_builder_end_object (json);
          popcheck_cli_json_write_line (json);
        }
      else
        {
          g_autofree char *line =
            g_strdup_printf ("%s: marked seen in the running PopCheck",
                             account_label (account));
          popcheck_cli_write_line (line);
        }
    }

  *status = CLI_EXIT_OK;
  return TRUE;
}

static int
run_mark_seen (CliAccounts *cli)
{
  const char * const *uids = (const char * const *) cli->options->commands + 1;
  g_autoptr(GPtrArray) selected = NULL;
  int status;

  if (uids[0] != NULL && cli->options->all)
    return popcheck_cli_usage_error ("mark-seen takes UIDs or --all, not "
                                     "both");
  if (uids[0] == NULL && !cli->options->all)
    return popcheck_cli_usage_error ("mark-seen needs the UID of each "
                                     "message (\"uid\" in the output of "
                                     "status --json), or --all");
  if (uids[0] != NULL && cli->options->account == NULL)
    return popcheck_cli_usage_error ("mark-seen UID... needs --account "
                                     "NAME: which account's messages are "
                                     "they?");
  for (guint i = 0; uids[i] != NULL; i++)
    if (!pop3_uid_is_valid (uids[i]))
      return popcheck_cli_usage_error ("\"%s\" is not a UID: a UID is 1 to "
                                       "70 printable characters", uids[i]);

  selected = select_accounts (cli, &status);
  if (status == CLI_EXIT_OK && selected->len > 0 &&
      ask_running_popcheck (cli, selected, uids[0] != NULL ? uids : NULL, &status))
    return status;
  for (guint i = 0; status == CLI_EXIT_OK && i < selected->len; i++)
    status = mark_account_seen (cli, g_ptr_array_index (selected, i),
                                uids[0] != NULL ? uids : NULL);

  return status;
}

/* account add: the password */

static struct termios saved_termios;
static volatile sig_atomic_t echo_off;

static void
restore_echo_on_signal (int signum)
{
  /* tcsetattr() is async-signal-safe: a Ctrl+C at the prompt must not
   * leave the terminal without echo. */
  if (echo_off)
    tcsetattr (STDIN_FILENO, TCSAFLUSH, &saved_termios);
  signal (signum, SIG_DFL);
  raise (signum);
}

#define EMPTY_STDIN_MESSAGE \
  "account add reads the password from standard input, and it is empty"

/* From standard input: one line; on a terminal, after a prompt and with
 * echo off. */
static char *
read_new_password (const char  *user,
                   const char  *host,
                   GError     **error)
{
  struct sigaction action = { 0 };
  struct sigaction old_int, old_term;
  struct termios quiet;
  char *password;

  if (!isatty (STDIN_FILENO) || tcgetattr (STDIN_FILENO, &saved_termios) != 0)
    return popcheck_cli_read_password (EMPTY_STDIN_MESSAGE, error);

  action.sa_handler = restore_echo_on_signal;
  sigemptyset (&action.sa_mask);
  sigaction (SIGINT, &action, &old_int);
  sigaction (SIGTERM, &action, &old_term);

  quiet = saved_termios;
  quiet.c_lflag &= ~(tcflag_t) ECHO;
  quiet.c_lflag |= ECHONL;
  echo_off = 1;
  tcsetattr (STDIN_FILENO, TCSAFLUSH, &quiet);

  g_printerr ("Password for %s@%s: ", user, host);
  password = popcheck_cli_read_password (EMPTY_STDIN_MESSAGE, error);

  tcsetattr (STDIN_FILENO, TCSAFLUSH, &saved_termios);
  echo_off = 0;
  sigaction (SIGINT, &old_int, NULL);
  sigaction (SIGTERM, &old_term, NULL);

  return password;
}

/* An account added for the id of a secret that the keyring then refused.
 * It has no server, so it never had a secret to clear either. */
static void
remove_unstored_account (CliAccounts     *cli,
                         PopcheckAccount *account)
{
  g_autoptr(PopcheckAccount) held = g_object_ref (account);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  popcheck_account_list_remove_async (cli->accounts, held, NULL,
                                      store_result_cb, &result);
  if (!popcheck_account_list_remove_finish (cli->accounts,
                                            wait_for_result (&result),
                                            &error))
    g_printerr (PROGRAM_NAME ": the account \"%s\" could not be removed "
                "again: %s\n", popcheck_account_get_display_name (held),
                error->message);
  g_settings_sync ();
}

/* The user, server and login options of account add. */
static int
parse_new_account_options (CliOptions      *options,
                           Pop3Security    *security,
                           guint16         *port,
                           Pop3AuthMethod  *auth,
                           char           **pin)
{
  g_autoptr(GError) error = NULL;
  int status;

  if (!popcheck_account_validate_user (options->user, &error) ||
      !pop3_auth_is_safe_argument (options->user))
    return popcheck_cli_usage_error ("--user: %s", error != NULL
                                                     ? error->message
                                                     : "a line break");

  status = popcheck_cli_parse_security_options (options, security, port,
                                                auth);
  if (status == CLI_EXIT_OK)
    status = popcheck_cli_parse_pin (options->pin, pin);

  return status;
}

/* The settings of an account whose secret is stored, the server last (the
 * account is checked once it has one), then what was added. */
static int
save_added_account (CliAccounts     *cli,
                    const char      *name,
                    PopcheckAccount *account,
                    const char      *host,
                    guint16          port,
                    Pop3Security     security,
                    Pop3AuthMethod   auth,
                    const char      *pin,
                    const char      *added_line)
{
  popcheck_account_set_user (account, cli->options->user);
  popcheck_account_set_port (account, port);
  popcheck_account_set_security (account, security);
  popcheck_account_set_auth_method (account, auth);
  popcheck_account_set_pinned_fingerprint (account, pin);
  popcheck_account_set_host (account, host);
  g_settings_sync ();

  if (cli->options->json)
    print_result_json (popcheck_account_get_id (account), name, TRUE, NULL);
  else
    popcheck_cli_write_line (added_line);

  return CLI_EXIT_OK;
}

/* The browser for --oauth: the address always goes to standard error, so
 * that it can be opened by hand (over ssh, say), and to the desktop's
 * browser unless --no-browser. */
static gboolean
print_and_open_uri (const char  *uri,
                    gpointer     user_data,
                    GError     **error)
{
  CliAccounts *cli = user_data;
  g_autoptr(GError) launch_error = NULL;

  g_printerr ("To sign in, open this address in a web browser:\n%s\n", uri);
  if (cli->options->no_browser)
    return TRUE;

  if (!g_app_info_launch_default_for_uri (uri, NULL, &launch_error))
    g_printerr (PROGRAM_NAME ": no browser could be opened (%s); open the "
                "address yourself\n", launch_error->message);

  return TRUE;
}

/* The browser sign-in for the account @name, with the words for what
 * went wrong (@not_done: what did not happen to the account, as "was not
 * added"); @status is set when it returns NULL. */
static PopcheckOAuthToken *
browser_sign_in (CliAccounts           *cli,
                 PopcheckOAuthProvider *provider,
                 const char            *user,
                 const char            *name,
                 const char            *not_done,
                 int                   *status)
{
  g_autoptr(PopcheckOAuthClient) client = NULL;
  g_autoptr(PopcheckOAuthToken) token = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  client = popcheck_oauth_client_new (provider);
  popcheck_oauth_client_set_uri_launcher (client, print_and_open_uri, cli,
                                          NULL);
  popcheck_oauth_client_sign_in_async (client, user, cli->cancellable,
                                       store_result_cb, &result);
  token = popcheck_oauth_client_sign_in_finish (client,
                                                wait_for_result (&result),
                                                &error);
  if (token == NULL)
    {
      g_printerr (PROGRAM_NAME ": the account \"%s\" %s: %s\n", name,
                  not_done, error->message);
      *status = exit_status_for_error (cli, error);
      return NULL;
    }
  if (token->refresh_token == NULL)
    {
      g_printerr (PROGRAM_NAME ": the account \"%s\" %s: %s gave no "
                  "refresh token, so PopCheck could not stay signed in\n",
                  name, not_done,
                  popcheck_oauth_provider_get_display_name (provider));
      *status = CLI_EXIT_SERVER;
      return NULL;
    }

  return g_steal_pointer (&token);
}

/* account add NAME --oauth PROVIDER for an account that signs in with
 * PROVIDER already: a new sign-in for it, its settings as they are. */
static int
run_account_sign_in_again (CliAccounts     *cli,
                           PopcheckAccount *account,
                           const char      *name)
{
  CliOptions *options = cli->options;
  g_autoptr(PopcheckOAuthProvider) provider = NULL;
  g_autoptr(PopcheckOAuthToken) token = NULL;
  g_autoptr(GAsyncResult) stored = NULL;
  g_autoptr(GError) error = NULL;
  const char *user = popcheck_account_get_user (account);
  g_autofree char *line = NULL;
  int status;

  if (options->host != NULL || options->port != NULL ||
      options->security != NULL || options->auth != NULL ||
      options->pin != NULL || options->password_stdin)
    return popcheck_cli_usage_error ("there is an account \"%s\" already: "
                                     "account add --oauth signs it in again "
                                     "and takes no other settings", name);
  if (options->user != NULL && g_strcmp0 (options->user, user) != 0)
    return popcheck_cli_usage_error ("the account \"%s\" signs in as %s; "
                                     "another address needs an account of "
                                     "its own", name, user);

  provider = popcheck_oauth_provider_new_preset (options->oauth, &error);
  if (provider == NULL)
    return popcheck_cli_usage_error ("--oauth: %s", error->message);
  if (!popcheck_oauth_provider_check (provider, &error))
    {
      g_printerr (PROGRAM_NAME ": %s\n", error->message);
      return CLI_EXIT_USAGE;
    }

  token = browser_sign_in (cli, provider, user, name,
                           "was not signed in again", &status);
  if (token == NULL)
    return status;

  popcheck_oauth_account_store_sign_in_async (account,
                                              popcheck_oauth_provider_get_id (provider),
                                              popcheck_account_get_host (account),
                                              popcheck_account_get_port (account),
                                              user, token->refresh_token,
                                              cli->cancellable,
                                              store_result_cb, &stored);
  if (!popcheck_oauth_account_store_sign_in_finish (account,
                                                    wait_for_result (&stored),
                                                    &error))
    {
      g_printerr (PROGRAM_NAME ": the account \"%s\" was not signed in "
                  "again, because its sign-in could not be stored in the "
                  "keyring: %s\n", name, error->message);
      return exit_status_for_error (cli, error);
    }

  line = g_strdup_printf ("Signed in to %s as %s again; the account \"%s\" "
                          "(id %s) keeps its settings.",
                          popcheck_oauth_provider_get_display_name (provider),
                          user, name, popcheck_account_get_id (account));
  if (options->json)
    print_result_json (popcheck_account_get_id (account), name, TRUE, NULL);
  else
    popcheck_cli_write_line (line);

  return CLI_EXIT_OK;
}

static int
run_account_add_oauth (CliAccounts *cli,
                       const char  *name)
{
  CliOptions *options = cli->options;
  g_autoptr(PopcheckOAuthProvider) provider = NULL;
  g_autoptr(PopcheckOAuthToken) token = NULL;
  g_autoptr(GAsyncResult) stored = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *pin = NULL;
  Pop3Security security = POP3_SECURITY_TLS;
  Pop3AuthMethod auth = POP3_AUTH_XOAUTH2;
  const char *host;
  guint16 port = 0;
  PopcheckAccount *account;
  g_autofree char *line = NULL;
  int status;

  if (options->password_stdin)
    return popcheck_cli_usage_error ("--password-stdin does not go with "
                                     "--oauth, which signs in in the "
                                     "browser");
  /* XOAUTH2 names the mailbox; nothing else tells which one it is. */
  if (options->user == NULL)
    return popcheck_cli_usage_error ("account add --oauth needs --user "
                                     "ADDRESS, the mail address to sign in "
                                     "with");

  provider = popcheck_oauth_provider_new_preset (options->oauth, &error);
  if (provider == NULL)
    return popcheck_cli_usage_error ("--oauth: %s", error->message);

  /* The provider's server unless told otherwise (a server of one's own
   * that takes the provider's tokens). */
  status = parse_new_account_options (options, &security, &port, &auth,
                                      &pin);
  if (status != CLI_EXIT_OK)
    return status;
  if (auth != POP3_AUTH_XOAUTH2 && auth != POP3_AUTH_OAUTHBEARER)
    return popcheck_cli_usage_error ("--oauth logs in with --auth xoauth2 "
                                     "or oauthbearer");
  if (options->port == NULL && options->security == NULL)
    port = popcheck_oauth_provider_get_pop3_port (provider);
  host = options->host != NULL ? options->host
                               : popcheck_oauth_provider_get_pop3_host (provider);
  if (!popcheck_account_validate_host (host, &error))
    return popcheck_cli_usage_error ("--host: %s", error->message);
  if (!popcheck_oauth_provider_check (provider, &error))
    {
      g_printerr (PROGRAM_NAME ": %s\n", error->message);
      return CLI_EXIT_USAGE;
    }

  token = browser_sign_in (cli, provider, options->user, name,
                           "was not added", &status);
  if (token == NULL)
    return status;

  /* As with a password: the account first, without a server, for the id
   * its refresh token is stored under. */
  account = popcheck_account_list_add (cli->accounts, name, &error);
  if (account == NULL)
    return popcheck_cli_usage_error ("%s", error->message);

  popcheck_oauth_account_store_sign_in_async (account,
                                              popcheck_oauth_provider_get_id (provider),
                                              host, port, options->user,
                                              token->refresh_token,
                                              cli->cancellable,
                                              store_result_cb, &stored);
  if (!popcheck_oauth_account_store_sign_in_finish (account,
                                                    wait_for_result (&stored),
                                                    &error))
    {
      g_printerr (PROGRAM_NAME ": the account \"%s\" was not added, because "
                  "its sign-in could not be stored in the keyring: %s\n",
                  name, error->message);
      remove_unstored_account (cli, account);
      return exit_status_for_error (cli, error);
    }

  line = g_strdup_printf ("Signed in to %s as %s; added the account \"%s\" "
                          "(id %s).",
                          popcheck_oauth_provider_get_display_name (provider),
                          options->user, name,
                          popcheck_account_get_id (account));
  return save_added_account (cli, name, account, host, port, security, auth, pin,
                             line);
}

static int
run_account_add (CliAccounts *cli)
{
  CliOptions *options = cli->options;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *pin = NULL;
  g_autofree char *line = NULL;
  const char *name = options->commands[2];
  Pop3Security security = POP3_SECURITY_TLS;
  Pop3AuthMethod auth = POP3_AUTH_AUTO;
  PopcheckAccount *existing;
  PopcheckAccount *account;
  guint16 port;
  int status;
  char *password;

  if (name == NULL || options->commands[3] != NULL)
    return popcheck_cli_usage_error ("account add takes one NAME, as in "
                                     "\"account add Work --host "
                                     "mail.example.org --user alice\"");
  if (g_utf8_strlen (name, -1) == 0 || !g_utf8_validate (name, -1, NULL))
    return popcheck_cli_usage_error ("the account NAME must be non-empty "
                                     "UTF-8 text");
  existing = popcheck_account_list_lookup_by_display_name (cli->accounts, name);
  if (existing == NULL)
    existing = popcheck_account_list_lookup (cli->accounts, name);
  if (existing != NULL)
    {
      g_autofree char *provider = popcheck_account_dup_oauth2_provider (existing);

      if (options->oauth != NULL && g_strcmp0 (provider, options->oauth) == 0)
        return run_account_sign_in_again (cli, existing, name);
      return popcheck_cli_usage_error ("there is an account \"%s\" already",
                                       name);
    }

  if (options->oauth != NULL)
    return run_account_add_oauth (cli, name);
  if (options->no_browser)
    return popcheck_cli_usage_error ("--no-browser goes only with --oauth");

  if (options->host == NULL)
    return popcheck_cli_usage_error ("account add needs --host HOST");
  if (!popcheck_account_validate_host (options->host, &error))
    return popcheck_cli_usage_error ("--host: %s", error->message);
  if (options->user == NULL)
    return popcheck_cli_usage_error ("account add needs --user USER");
  status = parse_new_account_options (options, &security, &port, &auth,
                                      &pin);
  if (status != CLI_EXIT_OK)
    return status;
  /* An access token expires within hours: stored like a password, it
   * would soon stop working. */
  if (auth == POP3_AUTH_XOAUTH2 || auth == POP3_AUTH_OAUTHBEARER)
    return popcheck_cli_usage_error ("an account cannot store an OAuth2 "
                                     "access token, which expires within "
                                     "hours; use --host with --auth %s and "
                                     "--password-stdin instead",
                                     pop3_auth_method_to_string (auth));

  /* Last, so that a usage error never swallows the password. */
  password = read_new_password (options->user, options->host, &error);
  if (password == NULL)
    return popcheck_cli_usage_error ("%s", error->message);
  if (password[0] == '\0')
    {
      g_free (password);
      return popcheck_cli_usage_error ("the password is empty");
    }

  /* The account first, for the id its password is stored under, and with
   * no server yet, so that nothing checks it before the password is there. */
  account = popcheck_account_list_add (cli->accounts, name, &error);
  if (account == NULL)
    {
      explicit_bzero (password, strlen (password));
      g_free (password);
      return popcheck_cli_usage_error ("%s", error->message);
    }

  popcheck_secret_store_async (popcheck_account_get_id (account),
                               POPCHECK_SECRET_KIND_PASSWORD,
                               options->host, port, options->user, password,
                               cli->cancellable, store_result_cb, &result);
  wait_for_result (&result);
  explicit_bzero (password, strlen (password));
  g_free (password);
  if (!popcheck_secret_store_finish (result, &error))
    {
      g_printerr (PROGRAM_NAME ": the account \"%s\" was not added, because "
                  "its password could not be stored in the keyring: %s\n",
                  name, error->message);
      /* Without the keyring there is no account, rather than an account
       * whose password was written somewhere else or nowhere. */
      remove_unstored_account (cli, account);
      return exit_status_for_error (cli, error);
    }

  line = g_strdup_printf ("Added the account \"%s\" (id %s).", name,
                          popcheck_account_get_id (account));
  return save_added_account (cli, name, account, options->host, port, security,
                             auth, pin, line);
}

static int
run_account_list (CliAccounts *cli)
{
  GListModel *model = G_LIST_MODEL (cli->accounts);

  if (cli->options->commands[2] != NULL)
    return popcheck_cli_usage_error ("account list takes no arguments");

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(PopcheckAccount) account = g_list_model_get_item (model, i);
      Pop3Security security_value = popcheck_account_get_security (account);
      Pop3AuthMethod auth_value = popcheck_account_get_auth_method (account);
      const char *security = pop3_security_to_string (security_value);
      const char *auth = pop3_auth_method_to_string (auth_value);

      if (cli->options->json)
        {
          g_autoptr(JsonBuilder) json = json_builder_new ();

          json_builder_begin_object (json);
          popcheck_cli_json_set_string (json, "account", popcheck_account_get_id (account));
          popcheck_cli_json_set_string (json, "name", popcheck_account_get_display_name (account));
          popcheck_cli_json_set_string (json, "host", popcheck_account_get_host (account));
          popcheck_cli_json_set_uint (json, "port", popcheck_account_get_port (account));
          popcheck_cli_json_set_string (json, "security", security);
          popcheck_cli_json_set_string (json, "user", popcheck_account_get_user (account));
          popcheck_cli_json_set_string (json, "auth", auth);
          popcheck_cli_json_set_boolean (json, "enabled", popcheck_account_get_enabled (account));
          popcheck_cli_json_set_uint (json, "interval", popcheck_account_get_check_interval (account));
          json_member_nullable (json, "pin", popcheck_account_get_pinned_fingerprint (account));
          json_builder_end_object (json);
          popcheck_cli_json_write_line (json);
        }
      else
        {
          g_autofree char *line = NULL;

          line = g_strdup_printf ("%s\t%s\t%s@%s:%u\t%s\t%s%s",
                                  popcheck_account_get_id (account),
                                  popcheck_account_get_display_name (account),
                                  popcheck_account_get_user (account),
                                  popcheck_account_get_host (account),
                                  popcheck_account_get_port (account),
                                  security, auth,
                                  popcheck_account_get_enabled (account)
                                    ? "" : "\tdisabled");
          popcheck_cli_write_line (line);
        }
    }

  return CLI_EXIT_OK;
}

static int
run_account_remove (CliAccounts *cli)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  const char *name = cli->options->commands[2];
  PopcheckAccount *account;
  int status = CLI_EXIT_OK;

  if (name == NULL || cli->options->commands[3] != NULL)
    return popcheck_cli_usage_error ("account remove takes one NAME");

  account = popcheck_account_list_find (cli->accounts, name, &error);
  if (account == NULL)
    {
      g_printerr (PROGRAM_NAME ": there is no account \"%s\"; "
                  "\"" PROGRAM_NAME " account list\" shows them\n", name);
      return CLI_EXIT_USAGE;
    }
  id = g_strdup (popcheck_account_get_id (account));

  popcheck_account_list_remove_async (cli->accounts, account, cli->cancellable,
                                      store_result_cb, &result);
  if (!popcheck_account_list_remove_finish (cli->accounts,
                                            wait_for_result (&result), &error))
    {
      g_printerr (PROGRAM_NAME ": the account \"%s\" was removed, but its "
                  "password could not be removed from the keyring: %s\n",
                  name, error->message);
      status = exit_status_for_error (cli, error);
    }
  g_settings_sync ();

  if (cli->options->json)
    print_result_json (id, NULL, status == CLI_EXIT_OK,
                       error != NULL ? error->message : NULL);
  else
    {
      g_autofree char *line = g_strdup_printf ("Removed the account \"%s\".",
                                               id);
      popcheck_cli_write_line (line);
    }

  return status;
}

/* The commands */

static int run_account (CliAccounts *cli);

static const CliAccountsCommand account_commands[] = {
  { "account", NULL, run_account, FALSE, FALSE, FALSE, FALSE },
  { "status", "status", run_status, TRUE, FALSE, TRUE, FALSE },
  { "check", "check", run_check, TRUE, FALSE, FALSE, FALSE, TRUE },
  { "delete", "delete", run_delete, TRUE, FALSE, FALSE, FALSE },
  { "mark-seen", "mark-seen", run_mark_seen, TRUE, FALSE, FALSE, TRUE },
};

static const CliAccountsCommand account_verbs[] = {
  { "add", "account add", run_account_add, FALSE, TRUE, FALSE, FALSE },
  { "list", "account", run_account_list, FALSE, FALSE, FALSE, FALSE },
  { "remove", "account", run_account_remove, FALSE, FALSE, FALSE, FALSE },
};

static const CliAccountsCommand *
find_command (const CliAccountsCommand *commands,
              gsize                     n_commands,
              const char               *name)
{
  for (gsize i = 0; i < n_commands; i++)
    if (g_strcmp0 (commands[i].name, name) == 0)
      return &commands[i];

  return NULL;
}

static int
run_account (CliAccounts *cli)
{
  /* What an unknown verb is refused as, before it is explained. */
  static const CliAccountsCommand unknown = { NULL, "account", NULL,
                                              FALSE, FALSE, FALSE, FALSE };
  const CliAccountsCommand *verb;
  int status;

  verb = find_command (account_verbs, G_N_ELEMENTS (account_verbs),
                       cli->options->commands[1]);
  status = refuse_options (cli->options, verb != NULL ? verb : &unknown);
  if (status != CLI_EXIT_OK)
    return status;

  if (verb == NULL)
    return popcheck_cli_usage_error ("use \"account add NAME\", \"account "
                                     "list\" or \"account remove NAME\"");

  return verb->run (cli);
}

/* Entry points */

gboolean
popcheck_cli_is_account_command (const char *word)
{
  return find_command (account_commands, G_N_ELEMENTS (account_commands),
                       word) != NULL;
}

int
popcheck_cli_run_account_command (CliOptions *options)
{
  CliAccounts cli = { 0 };
  const CliAccountsCommand *command;
  int status;

  command = find_command (account_commands, G_N_ELEMENTS (account_commands),
                          options->commands[0]);
  g_return_val_if_fail (command != NULL, CLI_EXIT_USAGE);

  if (command->label != NULL)
    {
      status = refuse_options (options, command);
      if (status != CLI_EXIT_OK)
        return status;
    }

  cli.options = options;
  cli.accounts = open_accounts (&status);
  if (cli.accounts == NULL)
    return status;
  cli.cancellable = g_cancellable_new ();
  cli.sigint_id = g_unix_signal_add (SIGINT, interrupt_cb, &cli);
  cli.sigterm_id = g_unix_signal_add (SIGTERM, interrupt_cb, &cli);

  status = command->run (&cli);

  g_source_remove (cli.sigint_id);
  g_source_remove (cli.sigterm_id);
  g_clear_object (&cli.cancellable);
  g_clear_object (&cli.accounts);

  return popcheck_cli_finish_output (status);
}

int
popcheck_cli_refresh_access_token (const char  *name,
                                   char       **token)
{
  g_autofree char *host = NULL;
  g_autofree char *user = NULL;
  g_autofree char *pin = NULL;
  Pop3Security security;
  Pop3AuthMethod auth;
  guint16 port;

  /* The account's settings are what the session has already. */
  return popcheck_cli_resolve_account (name, &host, &port, &security, &user,
                                       &auth, &pin, token);
}
