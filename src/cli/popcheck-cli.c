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

#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib-unix.h>
#include <gio/gio.h>

#include "pop3-auth.h"
#include "pop3-client.h"
#include "pop3-security.h"
#include "popcheck-cli.h"
#include "popcheck-cli-json.h"

typedef struct _CliSession CliSession;
typedef struct _CliCommand CliCommand;

typedef enum
{
  CLI_ARGS_NONE,          /* stat */
  CLI_ARGS_MSG,           /* retr N */
  CLI_ARGS_OPTIONAL_MSG,  /* list, list N */
  CLI_ARGS_MSG_LINES,     /* top N LINES */
} CliArgs;

/* The engine's _async calls, by the arguments they take. */
typedef void (*CliCallNone) (Pop3Client          *client,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data);
typedef void (*CliCallMsg)  (Pop3Client          *client,
                             guint                msg,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data);
typedef void (*CliCallTop)  (Pop3Client          *client,
                             guint                msg,
                             guint                lines,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data);
typedef GArray *(*CliItemsFunc) (const CliCommand *command,
                                 Pop3Reply        *reply);
typedef void (*CliTextFunc)  (CliSession          *session,
                              const CliCommand    *command,
                              Pop3Reply           *reply);
typedef void (*CliJsonFunc)  (CliSession          *session,
                              const CliCommand    *command,
                              Pop3Reply           *reply,
                              PopcheckJson        *json);

typedef struct
{
  const char   *name;
  CliArgs       args;
  const char   *synopsis;
  const char   *help;
  /* The call that runs it, by its arguments; all NULL for welcome, whose
   * answer is known from connecting. */
  CliCallNone   call_none;
  CliCallMsg    call_msg;
  CliCallTop    call_top;
  CliTextFunc   print_text;
  /* Adds the command's own members; NULL when it has none. */
  CliJsonFunc   add_json;
  /* For list and uidl: their answer as CliItems. */
  CliItemsFunc  collect_items;
} CliCommandSpec;

struct _CliCommand
{
  const CliCommandSpec *spec;
  /* As the user gave it: it names the command in JSON and messages. */
  char                 *word;
  guint                 msg;
  guint                 lines;
};

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

  Pop3Client        *client;
  GMainLoop         *loop;
  GCancellable      *cancellable;
  guint              next_command;
  gboolean           interrupted;
  int                exit_status;
  /* The command line was a command on stored accounts, already run. */
  gboolean           finished;
};

static void run_next_command (CliSession *session);

/* Output */

static void
write_stdout (const char *data,
              gsize       len)
{
  /* Not g_print(): it converts to the locale's charset, and message bytes
   * and JSON must reach stdout exactly as they are. */
  if (len > 0)
    fwrite (data, 1, len, stdout);
}

void
popcheck_cli_write_line (const char *line)
{
  write_stdout (line, strlen (line));
  write_stdout ("\n", 1);
}

/* Text printers */

static void
print_status_line (CliSession       *session,
                   const CliCommand *command,
                   Pop3Reply        *reply)
{
  popcheck_cli_write_line (reply->line);
}

static void
print_welcome (CliSession       *session,
               const CliCommand *command,
               Pop3Reply        *reply)
{
  const char *welcome = pop3_client_get_welcome (session->client);

  popcheck_cli_write_line (welcome ? welcome : "");
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* The capability table is a hash; sorted names make the output stable. */
static GPtrArray *
sorted_capability_names (GHashTable *capabilities)
{
  GPtrArray *names = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key;

  if (capabilities == NULL)
    return names;

  g_hash_table_iter_init (&iter, capabilities);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (names, key);
  g_ptr_array_sort (names, compare_strings);

  return names;
}

static void
print_capa (CliSession       *session,
            const CliCommand *command,
            Pop3Reply        *reply)
{
  g_autoptr(GPtrArray) names = sorted_capability_names (reply->capabilities);

  for (guint i = 0; i < names->len; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      const char * const *params = g_hash_table_lookup (reply->capabilities,
                                                        name);
      g_autoptr(GString) line = g_string_new (name);

      for (guint j = 0; params != NULL && params[j] != NULL; j++)
        {
          g_string_append_c (line, ' ');
          g_string_append (line, params[j]);
        }
      popcheck_cli_write_line (line->str);
    }
}

static void
print_stat (CliSession       *session,
            const CliCommand *command,
            Pop3Reply        *reply)
{
  g_autofree char *line = g_strdup_printf ("%u %" G_GUINT64_FORMAT,
                                           reply->count, reply->size);

  popcheck_cli_write_line (line);
}

/* "list" and "uidl" print the same way: one item per message, with its
 * size or its unique id. */
typedef struct
{
  guint       msg;
  guint64     octets;
  /* NULL for "list". */
  const char *uid;
} CliItem;

static GArray *
collect_list_items (const CliCommand *command,
                    Pop3Reply        *reply)
{
  GArray *items = g_array_new (FALSE, TRUE, sizeof (CliItem));
  CliItem item = { 0 };

  if (command->msg != 0)
    {
      item.msg = reply->msg;
      item.octets = reply->size;
      g_array_append_val (items, item);
      return items;
    }

  for (guint i = 0; reply->listing != NULL && i < reply->listing->len; i++)
    {
      const Pop3ListEntry *entry = &g_array_index (reply->listing,
                                                   Pop3ListEntry, i);
      item.msg = entry->msg;
      item.octets = entry->octets;
      g_array_append_val (items, item);
    }

  return items;
}

static GArray *
collect_uidl_items (const CliCommand *command,
                    Pop3Reply        *reply)
{
  GArray *items = g_array_new (FALSE, TRUE, sizeof (CliItem));
  CliItem item = { 0 };

  if (command->msg != 0)
    {
      item.msg = reply->msg;
      item.uid = reply->uid ? reply->uid : "";
      g_array_append_val (items, item);
      return items;
    }

  for (guint i = 0; reply->uids != NULL && i < reply->uids->len; i++)
    {
      const Pop3UidEntry *entry = g_ptr_array_index (reply->uids, i);

      item.msg = entry->msg;
      item.uid = entry->uid;
      g_array_append_val (items, item);
    }

  return items;
}

static void
print_items (CliSession       *session,
             const CliCommand *command,
             Pop3Reply        *reply)
{
  g_autoptr(GArray) items = command->spec->collect_items (command, reply);

  for (guint i = 0; i < items->len; i++)
    {
      const CliItem *item = &g_array_index (items, CliItem, i);
      g_autofree char *line = NULL;

      if (item->uid != NULL)
        line = g_strdup_printf ("%u %s", item->msg, item->uid);
      else
        line = g_strdup_printf ("%u %" G_GUINT64_FORMAT, item->msg,
                                item->octets);
      popcheck_cli_write_line (line);
    }
}

static void
print_body (CliSession       *session,
            const CliCommand *command,
            Pop3Reply        *reply)
{
  gsize len = 0;
  const char *data = NULL;

  if (reply->body != NULL)
    data = g_bytes_get_data (reply->body, &len);
  write_stdout (data, len);
}

/* JSON members */

static void
json_welcome (CliSession       *session,
              const CliCommand *command,
              Pop3Reply        *reply,
              PopcheckJson     *json)
{
  const char *welcome = pop3_client_get_welcome (session->client);

  popcheck_json_member_string (json, "welcome", welcome ? welcome : "");
}

static void
json_capa (CliSession       *session,
           const CliCommand *command,
           Pop3Reply        *reply,
           PopcheckJson     *json)
{
  g_autoptr(GPtrArray) names = sorted_capability_names (reply->capabilities);

  popcheck_json_key (json, "capabilities");
  popcheck_json_begin_object (json);
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      const char * const *params = g_hash_table_lookup (reply->capabilities,
                                                        name);

      popcheck_json_key (json, name);
      popcheck_json_begin_array (json);
      for (guint j = 0; params != NULL && params[j] != NULL; j++)
        popcheck_json_string (json, params[j]);
      popcheck_json_end_array (json);
    }
  popcheck_json_end_object (json);
}

static void
json_stat (CliSession       *session,
           const CliCommand *command,
           Pop3Reply        *reply,
           PopcheckJson     *json)
{
  popcheck_json_member_uint (json, "count", reply->count);
  popcheck_json_member_uint (json, "size", reply->size);
}

static void
json_items (CliSession       *session,
            const CliCommand *command,
            Pop3Reply        *reply,
            PopcheckJson     *json)
{
  g_autoptr(GArray) items = command->spec->collect_items (command, reply);

  popcheck_json_key (json, "items");
  popcheck_json_begin_array (json);
  for (guint i = 0; i < items->len; i++)
    {
      const CliItem *item = &g_array_index (items, CliItem, i);

      popcheck_json_begin_object (json);
      popcheck_json_member_uint (json, "msg", item->msg);
      if (item->uid != NULL)
        popcheck_json_member_string (json, "uid", item->uid);
      else
        popcheck_json_member_uint (json, "octets", item->octets);
      popcheck_json_end_object (json);
    }
  popcheck_json_end_array (json);
}

static void
json_body (CliSession       *session,
           const CliCommand *command,
           Pop3Reply        *reply,
           PopcheckJson     *json)
{
  g_autofree char *base64 = NULL;
  gsize len = 0;
  const guchar *data = NULL;

  if (reply->body != NULL)
    data = g_bytes_get_data (reply->body, &len);
  base64 = g_base64_encode (data, len);

  popcheck_json_member_uint (json, "octets", len);
  popcheck_json_member_string (json, "data_base64", base64);
}

static const CliCommandSpec command_specs[] = {
  { "welcome", CLI_ARGS_NONE, "welcome", "the server's greeting line",
    NULL, NULL, NULL, print_welcome, json_welcome },
  { "capa", CLI_ARGS_NONE, "capa",
    "the capabilities, one \"NAME params\" a line",
    pop3_client_capa_async, NULL, NULL, print_capa, json_capa },
  { "stat", CLI_ARGS_NONE, "stat", "\"COUNT SIZE\" of the mailbox",
    pop3_client_stat_async, NULL, NULL, print_stat, json_stat },
  { "list", CLI_ARGS_OPTIONAL_MSG, "list [N]",
    "\"MSG OCTETS\" of every message, or of message N",
    NULL, pop3_client_list_async, NULL, print_items, json_items,
    collect_list_items },
  { "uidl", CLI_ARGS_OPTIONAL_MSG, "uidl [N]",
    "\"MSG UID\" of every message, or of message N",
    NULL, pop3_client_uidl_async, NULL, print_items, json_items,
    collect_uidl_items },
  { "top", CLI_ARGS_MSG_LINES, "top N LINES",
    "the header and first LINES body lines of message N",
    NULL, NULL, pop3_client_top_async, print_body, json_body },
  { "retr", CLI_ARGS_MSG, "retr N", "message N, byte for byte",
    NULL, pop3_client_retr_async, NULL, print_body, json_body },
  { "dele", CLI_ARGS_MSG, "dele N",
    "mark message N deleted (done at the end, by QUIT)",
    NULL, pop3_client_dele_async, NULL, print_status_line, NULL },
  { "rset", CLI_ARGS_NONE, "rset", "unmark every message marked deleted",
    pop3_client_rset_async, NULL, NULL, print_status_line, NULL },
  { "noop", CLI_ARGS_NONE, "noop", "do nothing, get an answer",
    pop3_client_noop_async, NULL, NULL, print_status_line, NULL },
  { "utf8", CLI_ARGS_NONE, "utf8", "switch the session to UTF-8 (RFC 6856)",
    pop3_client_utf8_async, NULL, NULL, print_status_line, NULL },
};

/* Parsing commands */

static void
cli_command_free (CliCommand *command)
{
  g_free (command->word);
  g_free (command);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CliCommand, cli_command_free)

static char *
command_names (void)
{
  g_autoptr(GString) names = g_string_new (NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (command_specs); i++)
    {
      if (i > 0)
        g_string_append (names, ", ");
      g_string_append (names, command_specs[i].name);
    }

  return g_string_free (g_steal_pointer (&names), FALSE);
}

static gboolean
parse_message_number (const char *word,
                      const char *str,
                      guint      *msg,
                      GError    **error)
{
  guint64 value;

  if (!popcheck_cli_parse_unsigned (str, 1, G_MAXUINT, &value))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "in the command \"%s\", \"%s\" is not a message number "
                   "(message numbers start at 1)", word, str);
      return FALSE;
    }

  *msg = (guint) value;
  return TRUE;
}

static CliCommand *
cli_command_parse (const char  *word,
                   GError     **error)
{
  g_autoptr(CliCommand) command = g_new0 (CliCommand, 1);
  g_auto(GStrv) split = g_strsplit_set (word, " \t", -1);
  g_autoptr(GPtrArray) tokens = g_ptr_array_new ();
  const char *name;
  guint n_args;

  command->word = g_strdup (word);

  for (guint i = 0; split[i] != NULL; i++)
    if (split[i][0] != '\0')
      g_ptr_array_add (tokens, split[i]);

  if (tokens->len == 0)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           "an empty command was given");
      return NULL;
    }

  name = g_ptr_array_index (tokens, 0);
  n_args = tokens->len - 1;

  for (gsize i = 0; i < G_N_ELEMENTS (command_specs); i++)
    if (g_ascii_strcasecmp (name, command_specs[i].name) == 0)
      command->spec = &command_specs[i];

  if (command->spec == NULL)
    {
      g_autofree char *names = command_names ();

      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "\"%s\" is not a command; the commands are %s",
                   word, names);
      return NULL;
    }

  switch (command->spec->args)
    {
    case CLI_ARGS_NONE:
      if (n_args != 0)
        goto wrong_arguments;
      break;

    case CLI_ARGS_OPTIONAL_MSG:
      if (n_args > 1)
        goto wrong_arguments;
      if (n_args == 1 &&
          !parse_message_number (word, g_ptr_array_index (tokens, 1),
                                 &command->msg, error))
        return NULL;
      break;

    case CLI_ARGS_MSG:
      if (n_args != 1)
        goto wrong_arguments;
      if (!parse_message_number (word, g_ptr_array_index (tokens, 1),
                                 &command->msg, error))
        return NULL;
      break;

    case CLI_ARGS_MSG_LINES:
      {
        guint64 lines;

        if (n_args != 2)
          goto wrong_arguments;
        if (!parse_message_number (word, g_ptr_array_index (tokens, 1),
                                   &command->msg, error))
          return NULL;
        /* TOP n 0 is legal: the header alone (RFC 1939, section 7). */
        if (!popcheck_cli_parse_unsigned (g_ptr_array_index (tokens, 2), 0,
                                          G_MAXUINT, &lines))
          {
            g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                         "in the command \"%s\", \"%s\" is not a number of "
                         "lines", word,
                         (const char *) g_ptr_array_index (tokens, 2));
            return NULL;
          }
        command->lines = (guint) lines;
      }
      break;

    default:
      g_assert_not_reached ();
    }

  return g_steal_pointer (&command);

wrong_arguments:
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               "\"%s\" does not fit \"%s\" (quote a command with its "
               "arguments as one word, as in \"top 1 10\")",
               word, command->spec->synopsis);
  return NULL;
}

/* The session */

static CliSession *
cli_session_new (void)
{
  CliSession *session = g_new0 (CliSession, 1);

  session->security = POP3_SECURITY_TLS;
  session->auth = POP3_AUTH_AUTO;
  session->commands =
    g_ptr_array_new_with_free_func ((GDestroyNotify) cli_command_free);
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
  g_clear_object (&session->tls_database);
  g_ptr_array_unref (session->commands);
  g_clear_object (&session->client);
  g_clear_object (&session->cancellable);
  g_main_loop_unref (session->loop);
  g_free (session);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CliSession, cli_session_free)

int
popcheck_cli_exit_status_for_error (const GError *error,
                                    gboolean      during_login)
{
  if (error->domain == POP3_ERROR)
    {
      switch ((Pop3Error) error->code)
        {
        case POP3_ERROR_SERVER:
          /* A -ERR to USER, PASS, APOP or AUTH is a refused login. */
          return during_login ? CLI_EXIT_AUTH : CLI_EXIT_SERVER;
        case POP3_ERROR_AUTH:
          return CLI_EXIT_AUTH;
        case POP3_ERROR_TLS:
        case POP3_ERROR_CERTIFICATE:
          return CLI_EXIT_TLS;
        case POP3_ERROR_INVALID_ARGUMENT:
          return CLI_EXIT_USAGE;
        case POP3_ERROR_PROTOCOL:
        case POP3_ERROR_LINE_TOO_LONG:
        case POP3_ERROR_RESPONSE_TOO_LONG:
        case POP3_ERROR_TIMEOUT:
        case POP3_ERROR_CLOSED:
        case POP3_ERROR_NOT_SUPPORTED:
        case POP3_ERROR_CONNECT:
        default:
          return CLI_EXIT_NETWORK;
        }
    }

  /* The engine wraps TLS failures in POP3_ERROR_TLS; should a raw one slip
   * through, it is still a TLS problem. */
  if (error->domain == G_TLS_ERROR)
    return CLI_EXIT_TLS;

  return CLI_EXIT_NETWORK;
}

static char *
describe_error (const GError *error)
{
  if (g_error_matches (error, POP3_ERROR, POP3_ERROR_SERVER))
    return g_strdup_printf ("the server answered \"-ERR %s\"", error->message);

  return g_strdup (error->message);
}

static void
json_add_certificate (PopcheckJson      *json,
                      const Pop3TlsInfo *info)
{
  g_autofree char *problems = pop3_tls_describe_errors (info->errors);
  g_autofree char *not_before = NULL;
  g_autofree char *not_after = NULL;

  if (info->not_before != NULL)
    not_before = g_date_time_format_iso8601 (info->not_before);
  if (info->not_after != NULL)
    not_after = g_date_time_format_iso8601 (info->not_after);

  popcheck_json_key (json, "certificate");
  popcheck_json_begin_object (json);
  popcheck_json_member_string (json, "problems", problems);
  popcheck_json_member_string (json, "subject", info->subject);
  popcheck_json_member_string (json, "issuer", info->issuer);
  popcheck_json_member_string (json, "not_before", not_before);
  popcheck_json_member_string (json, "not_after", not_after);
  popcheck_json_member_string (json, "fingerprint", info->fingerprint);
  popcheck_json_end_object (json);
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
                "to trust exactly this certificate.\n",
                info->fingerprint);
}

static void
report_success (CliSession       *session,
                const CliCommand *command,
                Pop3Reply        *reply)
{
  g_autoptr(PopcheckJson) json = NULL;
  const char *response;

  if (!session->json)
    {
      command->spec->print_text (session, command, reply);
      return;
    }

  /* welcome has no reply of its own: its status line is the greeting. */
  if (reply != NULL)
    response = reply->line;
  else
    response = pop3_client_get_welcome (session->client);

  json = popcheck_json_new ();
  popcheck_json_begin_object (json);
  popcheck_json_member_string (json, "command", command->word);
  popcheck_json_member_boolean (json, "ok", TRUE);
  popcheck_json_member_string (json, "response", response ? response : "");
  if (command->spec->add_json != NULL)
    command->spec->add_json (session, command, reply, json);
  popcheck_json_end_object (json);

  popcheck_cli_write_line (popcheck_json_get_text (json));
}

/* Reports a failed step ("connect", "login", "quit" or a command word) and
 * records its exit status; the first failure decides the exit status. */
static void
report_failure (CliSession   *session,
                const char   *what,
                const GError *error,
                gboolean      during_login)
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
      status = popcheck_cli_exit_status_for_error (error, during_login);
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
      g_autoptr(PopcheckJson) json = popcheck_json_new ();
      const Pop3TlsInfo *info = pop3_client_get_tls_info (session->client);

      popcheck_json_begin_object (json);
      popcheck_json_member_string (json, "command", what);
      popcheck_json_member_boolean (json, "ok", FALSE);
      popcheck_json_member_string (json, "error",
                                   interrupted ? "Interrupted."
                                               : error->message);
      if (!interrupted && error->domain == POP3_ERROR &&
          (error->code == POP3_ERROR_SERVER || error->code == POP3_ERROR_AUTH))
        {
          const char *code = pop3_client_error_get_code (error);

          if (error->code == POP3_ERROR_SERVER)
            {
              g_autofree char *response = g_strdup_printf ("-ERR %s",
                                                           error->message);
              popcheck_json_member_string (json, "response", response);
            }
          if (code != NULL)
            popcheck_json_member_string (json, "code", code);
        }
      if (g_error_matches (error, POP3_ERROR, POP3_ERROR_CERTIFICATE) &&
          info != NULL)
        json_add_certificate (json, info);
      popcheck_json_end_object (json);

      popcheck_cli_write_line (popcheck_json_get_text (json));
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
      report_failure (session, "quit", error, FALSE);
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

static void
command_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  CliSession *session = user_data;
  CliCommand *command;
  g_autoptr(Pop3Reply) reply = NULL;
  g_autoptr(GError) error = NULL;

  g_assert (session->next_command < session->commands->len);
  command = g_ptr_array_index (session->commands, session->next_command);

  reply = pop3_client_command_finish (session->client, result, &error);
  if (reply == NULL)
    {
      report_failure (session, command->word, error, FALSE);
      end_after_failure (session, error);
      return;
    }

  report_success (session, command, reply);
  session->next_command++;
  run_next_command (session);
}

/* Sends the command; FALSE when it needs no server round trip. */
static gboolean
command_start (CliSession       *session,
               const CliCommand *command)
{
  const CliCommandSpec *spec = command->spec;

  if (spec->call_none != NULL)
    spec->call_none (session->client, session->cancellable,
                     command_cb, session);
  else if (spec->call_msg != NULL)
    spec->call_msg (session->client, command->msg, session->cancellable,
                    command_cb, session);
  else if (spec->call_top != NULL)
    spec->call_top (session->client, command->msg, command->lines,
                    session->cancellable, command_cb, session);
  else
    return FALSE;

  return TRUE;
}

static void
run_next_command (CliSession *session)
{
  while (session->next_command < session->commands->len)
    {
      CliCommand *command = g_ptr_array_index (session->commands,
                                               session->next_command);

      /* Ctrl+C may land between two commands, when nothing is pending to
       * be cancelled. */
      if (session->interrupted)
        {
          g_autoptr(GError) error = g_error_new_literal (G_IO_ERROR,
                                                         G_IO_ERROR_CANCELLED,
                                                         "Interrupted.");
          report_failure (session, command->word, error, FALSE);
          end_after_failure (session, error);
          return;
        }

      if (command_start (session, command))
        return;

      report_success (session, command, NULL);
      session->next_command++;
    }

  send_quit (session);
}

static void
login_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  CliSession *session = user_data;
  g_autoptr(GError) error = NULL;

  if (!pop3_client_login_finish (session->client, result, &error))
    {
      report_failure (session, "login", error, TRUE);
      end_after_failure (session, error);
      return;
    }

  run_next_command (session);
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
      report_failure (session, "connect", error, FALSE);
      pop3_client_close (session->client);
      g_main_loop_quit (session->loop);
      return;
    }

  if (session->user == NULL)
    {
      run_next_command (session);
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
      for (gsize i = 0; i < G_N_ELEMENTS (command_specs); i++)
        g_string_append_printf (text, "  %-14s%s\n", command_specs[i].synopsis,
                                command_specs[i].help);
      g_string_append (text,
                       "\nThe password is never an argument: --password-stdin "
                       "reads one line from\nstandard input.  With --json, "
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
                       "  account add NAME --host HOST --user USER [--port N] "
                       "[--security S]\n"
                       "              [--auth METHOD] [--pin SHA256]\n"
                       "                              add an account; the "
                       "password is read from\n"
                       "                              standard input (a "
                       "prompt without echo on a terminal)\n"
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
      "Read the password from the first line of standard input", NULL },
    { "auth", 0, 0, G_OPTION_ARG_STRING, &options.auth,
      "The login method; auto (the default) picks the strongest the server "
      "offers, never APOP", "auto|user|apop|plain|login|cram-md5" },
    { "ca-file", 0, 0, G_OPTION_ARG_FILENAME, &options.ca_file,
      "Trust the certificate authorities in this PEM file", "PEM" },
    { "pin", 0, 0, G_OPTION_ARG_STRING, &options.pin,
      "Accept exactly the certificate with this SHA-256 fingerprint",
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
      CliCommand *command = cli_command_parse (options.commands[i], &error);

      if (command == NULL)
        return popcheck_cli_usage_error ("%s", error->message);
      g_ptr_array_add (session->commands, command);
    }

  if (options.account == NULL && options.user != NULL)
    {
      if (options.user[0] == '\0' || !pop3_auth_is_safe_argument (options.user))
        return popcheck_cli_usage_error ("--user must be a non-empty name "
                                         "without line breaks");
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
      session->tls_database = g_tls_file_database_new (options.ca_file,
                                                       &error);
      if (session->tls_database == NULL)
        return popcheck_cli_usage_error ("cannot use \"%s\" as --ca-file: %s",
                                         options.ca_file, error->message);
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

  return CLI_EXIT_OK;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(CliSession) session = NULL;
  int status;

  setlocale (LC_ALL, "");

  session = cli_session_new ();
  status = cli_session_parse_arguments (session, argc, argv);
  if (status != CLI_EXIT_OK || session->finished)
    return status;

  return cli_session_run (session);
}
