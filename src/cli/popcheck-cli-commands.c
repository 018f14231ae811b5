/* popcheck-cli-commands.c: the engine's commands as popcheck-cli takes them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One table row per command word (welcome, capa, stat, list, ...): its
 * arguments, the engine call that runs it, and how its answer is printed
 * as text and as JSON.  The words, their output and their JSON keys are
 * an interface scripts depend on (issue 2).
 */

#define G_LOG_DOMAIN "popcheck-cli"

#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "pop3-client.h"
#include "pop3-text.h"
#include "popcheck-cli.h"
#include "popcheck-cli-json.h"

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
typedef void (*CliTextFunc)  (Pop3Client          *client,
                              const CliCommand    *command,
                              Pop3Reply           *reply);
typedef void (*CliJsonFunc)  (Pop3Client          *client,
                              const CliCommand    *command,
                              Pop3Reply           *reply,
                              JsonBuilder         *json);

struct _CliCommandSpec
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
  /* For list and uidl: their answer as CliItems, in JSON the member
   * "items". */
  CliItemsFunc  collect_items;
  /* It changes what QUIT commits: never sent behind a command whose
   * answer is not known yet. */
  gboolean      waits_for_success;
};

/* Text printers */

/* Status lines are the server's words, kept as sent by the engine (the
 * JSON output escapes them); on a terminal their controls would be
 * obeyed, so the text output shows them cleaned. */
static void
write_server_line (const char *line)
{
  g_autofree char *clean = pop3_text_sanitize_line (line ? line : "");

  popcheck_cli_write_line (clean);
}

static void
print_status_line (Pop3Client       *client,
                   const CliCommand *command,
                   Pop3Reply        *reply)
{
  write_server_line (reply->line);
}

static void
print_welcome (Pop3Client       *client,
               const CliCommand *command,
               Pop3Reply        *reply)
{
  write_server_line (pop3_client_get_welcome (client));
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
print_capa (Pop3Client       *client,
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
print_stat (Pop3Client       *client,
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

  for (guint i = 0;
       reply->uids != NULL && i < pop3_uid_listing_get_length (reply->uids);
       i++)
    {
      item.msg = pop3_uid_listing_get_msg (reply->uids, i);
      item.uid = pop3_uid_listing_get_uid (reply->uids, i);
      g_array_append_val (items, item);
    }

  return items;
}

static void
print_items (Pop3Client       *client,
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
print_body (Pop3Client       *client,
            const CliCommand *command,
            Pop3Reply        *reply)
{
  gsize len = 0;
  const char *data = NULL;

  if (reply->body != NULL)
    data = g_bytes_get_data (reply->body, &len);
  popcheck_cli_write (data, len);
}

/* JSON members */

static void
json_welcome (Pop3Client       *client,
              const CliCommand *command,
              Pop3Reply        *reply,
              JsonBuilder      *json)
{
  const char *welcome = pop3_client_get_welcome (client);

  popcheck_cli_json_set_string (json, "welcome", welcome ? welcome : "");
}

static void
json_capa (Pop3Client       *client,
           const CliCommand *command,
           Pop3Reply        *reply,
           JsonBuilder      *json)
{
  g_autoptr(GPtrArray) names = sorted_capability_names (reply->capabilities);

  json_builder_set_member_name (json, "capabilities");
  json_builder_begin_object (json);
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      const char * const *params = g_hash_table_lookup (reply->capabilities,
                                                        name);

      popcheck_cli_json_set_key (json, name);
      json_builder_begin_array (json);
      for (guint j = 0; params != NULL && params[j] != NULL; j++)
        popcheck_cli_json_add_string (json, params[j]);
      json_builder_end_array (json);
    }
  json_builder_end_object (json);
}

static void
json_stat (Pop3Client       *client,
           const CliCommand *command,
           Pop3Reply        *reply,
           JsonBuilder      *json)
{
  popcheck_cli_json_set_uint (json, "count", reply->count);
  popcheck_cli_json_set_uint (json, "size", reply->size);
}

/* One element of "items", for list and uidl: written one at a time,
 * as a listing may have a million. */
static void
add_json_item (JsonBuilder *json,
               guint        index,
               gpointer     user_data)
{
  GArray *items = user_data;
  const CliItem *item = &g_array_index (items, CliItem, index);

  json_builder_begin_object (json);
  popcheck_cli_json_set_uint (json, "msg", item->msg);
  if (item->uid != NULL)
    popcheck_cli_json_set_string (json, "uid", item->uid);
  else
    popcheck_cli_json_set_uint (json, "octets", item->octets);
  json_builder_end_object (json);
}

static void
json_body (Pop3Client       *client,
           const CliCommand *command,
           Pop3Reply        *reply,
           JsonBuilder      *json)
{
  g_autofree char *base64 = NULL;
  gsize len = 0;
  const guchar *data = NULL;

  if (reply->body != NULL)
    data = g_bytes_get_data (reply->body, &len);
  base64 = g_base64_encode (data, len);

  popcheck_cli_json_set_uint (json, "octets", len);
  popcheck_cli_json_set_string (json, "data_base64", base64);
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
    NULL, pop3_client_list_async, NULL, print_items, NULL,
    collect_list_items },
  { "uidl", CLI_ARGS_OPTIONAL_MSG, "uidl [N]",
    "\"MSG UID\" of every message, or of message N",
    NULL, pop3_client_uidl_async, NULL, print_items, NULL,
    collect_uidl_items },
  { "top", CLI_ARGS_MSG_LINES, "top N LINES",
    "the header and first LINES body lines of message N",
    NULL, NULL, pop3_client_top_async, print_body, json_body },
  { "retr", CLI_ARGS_MSG, "retr N", "message N, byte for byte",
    NULL, pop3_client_retr_async, NULL, print_body, json_body },
  { "dele", CLI_ARGS_MSG, "dele N",
    "mark message N deleted (done at the end, by QUIT)",
    NULL, pop3_client_dele_async, NULL, print_status_line, NULL, NULL,
    TRUE },
  { "rset", CLI_ARGS_NONE, "rset", "unmark every message marked deleted",
    pop3_client_rset_async, NULL, NULL, print_status_line, NULL, NULL,
    TRUE },
  { "noop", CLI_ARGS_NONE, "noop", "do nothing, get an answer",
    pop3_client_noop_async, NULL, NULL, print_status_line, NULL },
  { "utf8", CLI_ARGS_NONE, "utf8", "switch the session to UTF-8 (RFC 6856)",
    pop3_client_utf8_async, NULL, NULL, print_status_line, NULL },
};

/* Parsing commands */

void
popcheck_cli_command_free (CliCommand *command)
{
  g_free (command->word);
  g_free (command);
}

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

void
popcheck_cli_command_append_help (GString *text)
{
  for (gsize i = 0; i < G_N_ELEMENTS (command_specs); i++)
    g_string_append_printf (text, "  %-14s%s\n", command_specs[i].synopsis,
                            command_specs[i].help);
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

CliCommand *
popcheck_cli_command_parse (const char  *word,
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

/* Running */

gboolean
popcheck_cli_command_start (const CliCommand    *command,
                            Pop3Client          *client,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  const CliCommandSpec *spec = command->spec;

  if (spec->call_none != NULL)
    spec->call_none (client, cancellable, callback, user_data);
  else if (spec->call_msg != NULL)
    spec->call_msg (client, command->msg, cancellable, callback, user_data);
  else if (spec->call_top != NULL)
    spec->call_top (client, command->msg, command->lines, cancellable,
                    callback, user_data);
  else
    return FALSE;

  return TRUE;
}

gboolean
popcheck_cli_command_waits_for_success (const CliCommand *command)
{
  return command->spec->waits_for_success;
}

void
popcheck_cli_command_report (const CliCommand *command,
                             Pop3Client       *client,
                             Pop3Reply        *reply,
                             gboolean          json_output)
{
  g_autoptr(JsonBuilder) json = NULL;
  const char *response;

  if (!json_output)
    {
      command->spec->print_text (client, command, reply);
      return;
    }

  /* welcome has no reply of its own: its status line is the greeting. */
  if (reply != NULL)
    response = reply->line;
  else
    response = pop3_client_get_welcome (client);

  json = json_builder_new ();
  json_builder_begin_object (json);
  popcheck_cli_json_set_string (json, "command", command->word);
  popcheck_cli_json_set_boolean (json, "ok", TRUE);
  popcheck_cli_json_set_string (json, "response", response ? response : "");
  if (command->spec->add_json != NULL)
    command->spec->add_json (client, command, reply, json);
  json_builder_end_object (json);

  if (command->spec->collect_items != NULL)
    {
      g_autoptr(GArray) items = command->spec->collect_items (command, reply);

      popcheck_cli_json_write_line_with_array (json, "items", items->len,
                                               add_json_item, items);
      return;
    }

  popcheck_cli_json_write_line (json);
}
