/* popcheck-cli-common.c: what popcheck-cli's parts share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Usage errors, numbers and passwords from the command line, the options
 * that say which server and how (checked the same for the engine's
 * commands and for account add), and the end of the output.
 */

#define G_LOG_DOMAIN "popcheck-cli"

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>

#include "pop3-auth.h"
#include "pop3-client.h"
#include "pop3-security.h"
#include "pop3-tls.h"
#include "popcheck-cli.h"

/* Options */

void
popcheck_cli_options_clear (CliOptions *options)
{
  g_free (options->account);
  g_free (options->format);
  g_free (options->first_headers);
  g_free (options->host);
  g_free (options->port);
  g_free (options->security);
  g_free (options->user);
  g_free (options->auth);
  g_free (options->ca_file);
  g_free (options->pin);
  g_free (options->timeout);
  g_free (options->debug);
  g_free (options->oauth);
  g_strfreev (options->commands);
}

int
popcheck_cli_usage_error (const char *format,
                          ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_printerr (PROGRAM_NAME ": %s\n"
              "Run \"" PROGRAM_NAME " --help\" to see how it is used.\n",
              message);

  return CLI_EXIT_USAGE;
}

/* Digits only: strtoul() would also take signs, spaces and "0x". */
gboolean
popcheck_cli_parse_unsigned (const char *str,
                             guint64     min,
                             guint64     max,
                             guint64    *out)
{
  guint64 value;
  char *end = NULL;

  if (str == NULL || *str == '\0' || strlen (str) > 20)
    return FALSE;
  for (const char *p = str; *p; p++)
    if (!g_ascii_isdigit (*p))
      return FALSE;

  errno = 0;
  value = g_ascii_strtoull (str, &end, 10);
  if (errno != 0 || end == NULL || *end != '\0')
    return FALSE;
  if (value < min || value > max)
    return FALSE;

  *out = value;
  return TRUE;
}

/* One line from stdin, without its line ending.  Reading it ourselves
 * keeps the password out of the process list and the shell history. */
char *
popcheck_cli_read_password (const char  *empty_message,
                            GError     **error)
{
  char *line = NULL;
  size_t capacity = 0;
  ssize_t len;
  char *password;

  errno = 0;
  len = getline (&line, &capacity, stdin);
  if (len < 0)
    {
      int saved_errno = errno;

      free (line);
      if (saved_errno != 0)
        g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                     "could not read the password from standard input: %s",
                     g_strerror (saved_errno));
      else
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                             empty_message);
      return NULL;
    }

  while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
    len--;

  if (memchr (line, '\0', len) != NULL)
    {
      explicit_bzero (line, capacity);
      free (line);
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "the password read from standard input contains "
                           "a NUL byte");
      return NULL;
    }

  password = g_strndup (line, len);
  explicit_bzero (line, capacity);
  free (line);

  return password;
}

/* Options about the server */

int
popcheck_cli_parse_security_options (CliOptions     *options,
                                     Pop3Security   *security,
                                     guint16        *port,
                                     Pop3AuthMethod *auth)
{
  guint64 value;

  if (options->security != NULL &&
      !pop3_security_from_string (options->security, security))
    return popcheck_cli_usage_error ("\"%s\" is not a --security; use tls, "
                                     "starttls or none", options->security);

  if (options->port == NULL)
    *port = pop3_security_default_port (*security);
  else if (popcheck_cli_parse_unsigned (options->port, 1, G_MAXUINT16, &value))
    *port = (guint16) value;
  else
    return popcheck_cli_usage_error ("\"%s\" is not a --port; a port is a "
                                     "number from 1 to 65535", options->port);

  if (options->auth != NULL &&
      !pop3_auth_method_from_string (options->auth, auth))
    return popcheck_cli_usage_error ("\"%s\" is not an --auth method; use "
                                     "auto, user, apop, plain, login, "
                                     "cram-md5, xoauth2 or oauthbearer",
                                     options->auth);

  return CLI_EXIT_OK;
}

int
popcheck_cli_parse_pin (const char  *option,
                        char       **pin)
{
  if (option == NULL)
    return CLI_EXIT_OK;

  *pin = pop3_tls_normalize_fingerprint (option);
  if (*pin == NULL)
    return popcheck_cli_usage_error ("\"%s\" is not a SHA-256 fingerprint "
                                     "for --pin; give 64 hexadecimal "
                                     "digits, with or without colons",
                                     option);

  return CLI_EXIT_OK;
}

/* Output */

void
popcheck_cli_write (const char *data,
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
  popcheck_cli_write (line, strlen (line));
  popcheck_cli_write ("\n", 1);
}

int
popcheck_cli_finish_output (int status)
{
  if (fflush (stdout) != 0 || ferror (stdout))
    {
      int saved_errno = errno;

      g_printerr (PROGRAM_NAME ": could not write the output: %s\n",
                  g_strerror (saved_errno));
      if (status == CLI_EXIT_OK)
        status = CLI_EXIT_NETWORK;
    }

  return status;
}
