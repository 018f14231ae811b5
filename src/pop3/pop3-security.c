/* pop3-security.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "pop3-security"

#include "config.h"

#include "pop3-security.h"

guint16
pop3_security_default_port (Pop3Security security)
{
  return security == POP3_SECURITY_TLS ? 995 : 110;
}
