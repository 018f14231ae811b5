/* pop3-security.h: what follows from a connection's security mode
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "pop3-client.h"

G_BEGIN_DECLS

/* The port a server listens on for @security when none is given: 995 for
 * TLS from the start (RFC 8314), 110 for STARTTLS and plain text
 * (RFC 1939, RFC 2595). */
guint16       pop3_security_default_port       (Pop3Security     security);

G_END_DECLS
