/* popcheck-test-demo.h: the Dovecot demo server, for tests in C
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Starts build-aux/popcheck-demo-server in a fresh directory and reads what
 * it wrote to env.sh.  Each test adds its own user, so tests never see each
 * other's messages.  Every function asserts: a test cannot go on without
 * its server.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  char    *dir;
  char    *host;
  guint16  pop3_port;
  guint16  pop3s_port;
  char    *ca_file;
  char    *fingerprint;
} PopcheckTestDemo;

PopcheckTestDemo *popcheck_test_demo_start      (void);
/* Also takes OAuth2 bearer tokens (XOAUTH2, OAUTHBEARER), which Dovecot
 * checks at the provider's @introspect_url. */
PopcheckTestDemo *popcheck_test_demo_start_oauth2 (const char *introspect_url);
void              popcheck_test_demo_stop       (PopcheckTestDemo *demo);
void              popcheck_test_demo_add_user   (PopcheckTestDemo *demo,
                                                 const char       *user,
                                                 const char       *password,
                                                 gboolean          empty);
/* Delivers a message of the given Message-ID and subject. */
void              popcheck_test_demo_deliver    (PopcheckTestDemo *demo,
                                                 const char       *user,
                                                 const char       *message_id,
                                                 const char       *subject);
/* Delivers a message as it is written (LF line ends). */
void              popcheck_test_demo_deliver_raw (PopcheckTestDemo *demo,
                                                 const char       *user,
                                                 const char       *text);
/* The same, sent at date. */
void              popcheck_test_demo_deliver_dated (PopcheckTestDemo *demo,
                                                 const char       *user,
                                                 const char       *message_id,
                                                 const char       *subject,
                                                 GDateTime        *date);
/* Many at once: message i has message_ids[i], subjects[i] and dates[i];
 * message_ids ends with NULL. */
void              popcheck_test_demo_deliver_all (PopcheckTestDemo  *demo,
                                                 const char        *user,
                                                 const char *const *message_ids,
                                                 const char *const *subjects,
                                                 GDateTime * const *dates);
char             *popcheck_test_demo_maildir    (PopcheckTestDemo *demo,
                                                 const char       *user);
/* Message-IDs of the messages in the user's Maildir, sorted. */
GStrv             popcheck_test_demo_message_ids (PopcheckTestDemo *demo,
                                                 const char       *user);
/* Whether any message carries the Maildir "S" (seen) flag. */
gboolean          popcheck_test_demo_any_seen   (PopcheckTestDemo *demo,
                                                 const char       *user);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PopcheckTestDemo, popcheck_test_demo_stop)

G_END_DECLS
