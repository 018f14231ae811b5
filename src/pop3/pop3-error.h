/* pop3-error.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define POP3_ERROR (pop3_error_quark ())

/**
 * Pop3Error:
 * @POP3_ERROR_SERVER: the server answered -ERR; the message is its text
 * @POP3_ERROR_PROTOCOL: the server broke the protocol; the stream is closed
 * @POP3_ERROR_LINE_TOO_LONG: a line exceeded its bound; the stream is closed
 * @POP3_ERROR_RESPONSE_TOO_LONG: a multi-line response exceeded its cap
 * @POP3_ERROR_TLS: the TLS handshake or STLS upgrade failed
 * @POP3_ERROR_CERTIFICATE: the server's certificate was not accepted
 * @POP3_ERROR_AUTH: authentication was refused or is impossible
 * @POP3_ERROR_TIMEOUT: the server did not answer in time
 * @POP3_ERROR_CLOSED: the connection is closed
 * @POP3_ERROR_INVALID_ARGUMENT: an argument would break the command line
 * @POP3_ERROR_NOT_SUPPORTED: the server does not offer what was asked
 * @POP3_ERROR_CONNECT: the connection could not be made
 */
typedef enum
{
  POP3_ERROR_SERVER,
  POP3_ERROR_PROTOCOL,
  POP3_ERROR_LINE_TOO_LONG,
  POP3_ERROR_RESPONSE_TOO_LONG,
  POP3_ERROR_TLS,
  POP3_ERROR_CERTIFICATE,
  POP3_ERROR_AUTH,
  POP3_ERROR_TIMEOUT,
  POP3_ERROR_CLOSED,
  POP3_ERROR_INVALID_ARGUMENT,
  POP3_ERROR_NOT_SUPPORTED,
  POP3_ERROR_CONNECT,
} Pop3Error;

GQuark pop3_error_quark (void);

G_END_DECLS
