/* pop3-error.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "pop3-error"

#include "config.h"

#include "pop3-error.h"

G_DEFINE_QUARK (pop3-error-quark, pop3_error)
