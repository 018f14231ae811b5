/* popcheck-types.h: forward declarations and the enums shared by the core
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef struct _PopcheckAccount     PopcheckAccount;
typedef struct _PopcheckAccountList PopcheckAccountList;
typedef struct _PopcheckChecker     PopcheckChecker;
typedef struct _PopcheckMailbox     PopcheckMailbox;
typedef struct _PopcheckMessage     PopcheckMessage;
typedef struct _PopcheckTokenSource PopcheckTokenSource;

/* What an account is doing, as the window, tray and CLI show it. */
typedef enum
{
  POPCHECK_MAILBOX_STATE_IDLE,      /*< nick=idle >*/
  POPCHECK_MAILBOX_STATE_CHECKING,  /*< nick=checking >*/
  POPCHECK_MAILBOX_STATE_OFFLINE,   /*< nick=offline >*/
  POPCHECK_MAILBOX_STATE_ERROR,     /*< nick=error >*/
  POPCHECK_MAILBOX_STATE_DISABLED,  /*< nick=disabled >*/
} PopcheckMailboxState;

/* Why the last check failed, which decides what happens next. */
typedef enum
{
  POPCHECK_PROBLEM_NONE,         /*< nick=none >*/
  /* Network, timeout, protocol, [SYS/TEMP]: retried with back-off. */
  POPCHECK_PROBLEM_TEMPORARY,    /*< nick=temporary >*/
  /* [IN-USE], [LOGIN-DELAY]: the server is busy; retried later. */
  POPCHECK_PROBLEM_BUSY,         /*< nick=busy >*/
  /* Wrong password, [AUTH]: the user must act; the secret is kept. */
  POPCHECK_PROBLEM_AUTH,         /*< nick=auth >*/
  /* An OAuth2 sign-in the provider or server no longer takes: sign in again. */
  POPCHECK_PROBLEM_SIGN_IN,      /*< nick=sign-in >*/
  /* The certificate was refused: the user must decide. */
  POPCHECK_PROBLEM_CERTIFICATE,  /*< nick=certificate >*/
  /* No keyring, keyring locked, no password stored. */
  POPCHECK_PROBLEM_SECRET,       /*< nick=secret >*/
  /* [SYS/PERM]: checking stops until the user acts. */
  POPCHECK_PROBLEM_PERMANENT,    /*< nick=permanent >*/
} PopcheckProblem;

G_END_DECLS
