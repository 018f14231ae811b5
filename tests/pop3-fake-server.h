/* pop3-fake-server.h: an in-process POP3 server for tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The server listens on 127.0.0.1 on a port the system chooses and serves
 * every connection in a thread of its own, away from the test's main
 * context, so the client under test runs on the test's main loop as it does
 * in the application.
 *
 * Each connection is driven in one of two ways:
 *
 *  - as a responder, like the DummyPOP3Handler of CPython's
 *    Lib/test/test_poplib.py: a greeting, then each command line answered by
 *    a built-in handler (user "guido", password "python", LIST, RETR, CAPA,
 *    STLS, "ECHO text" which sends back "text", ...), with responses and
 *    capabilities that a test may override;
 *
 *  - by a script, for faults: expect lines, send bytes in any split, pause,
 *    start TLS, close.  Connection N plays the Nth script added (the last one
 *    again when there are more connections than scripts).  A script may end
 *    with pop3_fake_script_respond() to hand the rest of the session to the
 *    responder.
 *
 * Everything received is recorded, with what arrived in plaintext kept apart
 * from what arrived inside TLS, so that a test can assert, say, that a
 * password never crossed the wire unencrypted.
 *
 * Configure the server before pop3_fake_server_start(); the recordings may
 * be read at any time and are final once pop3_fake_server_stop() returned.
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The dummy data of CPython's test_poplib.py. */
#define POP3_FAKE_LIST_RESP "1 1\r\n2 2\r\n3 3\r\n4 4\r\n5 5\r\n.\r\n"
#define POP3_FAKE_RETR_RESP \
  "From: postmaster@python.org\r\n" \
  "Content-Type: text/plain\r\n" \
  "MIME-Version: 1.0\r\n" \
  "Subject: Dummy\r\n" \
  "\r\n" \
  "line1\r\n" \
  "line2\r\n" \
  "line3\r\n" \
  ".\r\n"
#define POP3_FAKE_GREETING "+OK dummy pop3 server ready. <timestamp>"

/* RETR 2 (and TOP 2) answers with a message whose lines start with dots, as
 * it goes over the wire; POP3_FAKE_DOTS_UNSTUFFED is what a client must
 * make of it. */
#define POP3_FAKE_DOTS_RESP \
  "Subject: dots\r\n" \
  "\r\n" \
  "..leading dot\r\n" \
  "...\r\n" \
  "..\r\n" \
  "not.a.terminator\r\n" \
  "\r\n" \
  ".\r\n"
#define POP3_FAKE_DOTS_UNSTUFFED \
  "Subject: dots\r\n" \
  "\r\n" \
  ".leading dot\r\n" \
  "..\r\n" \
  ".\r\n" \
  "not.a.terminator\r\n" \
  "\r\n"

/* Scripts */

typedef struct _Pop3FakeScript Pop3FakeScript;

Pop3FakeScript *pop3_fake_script_new          (void);
Pop3FakeScript *pop3_fake_script_ref          (Pop3FakeScript *script);
void            pop3_fake_script_unref        (Pop3FakeScript *script);

/* Read one line (without its CRLF) and compare it with @line; a difference
 * is recorded (pop3_fake_server_get_mismatches()) and the script goes on. */
void            pop3_fake_script_expect       (Pop3FakeScript *script,
                                               const char     *line);
/* The same, but the line only has to start with @prefix. */
void            pop3_fake_script_expect_prefix (Pop3FakeScript *script,
                                               const char     *prefix);
/* Send these exact bytes in one write. */
void            pop3_fake_script_send         (Pop3FakeScript *script,
                                               const char     *text);
/* Send @len bytes in writes of at most @chunk bytes, @pause_ms apart
 * (chunk 0: one write). */
void            pop3_fake_script_send_bytes   (Pop3FakeScript *script,
                                               const void     *data,
                                               gsize           len,
                                               gsize           chunk,
                                               guint           pause_ms);
void            pop3_fake_script_pause        (Pop3FakeScript *script,
                                               guint           ms);
/* Server side of a TLS handshake with the server's certificate. */
void            pop3_fake_script_start_tls    (Pop3FakeScript *script);
void            pop3_fake_script_close        (Pop3FakeScript *script);
void            pop3_fake_script_wait_delivered (Pop3FakeScript *script);
/* From here on, answer as the responder does (no greeting is sent). */
void            pop3_fake_script_respond      (Pop3FakeScript *script);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Pop3FakeScript, pop3_fake_script_unref)

/* The server */

#define POP3_TYPE_FAKE_SERVER (pop3_fake_server_get_type ())

G_DECLARE_FINAL_TYPE (Pop3FakeServer, pop3_fake_server, POP3, FAKE_SERVER,
                      GObject)

Pop3FakeServer *pop3_fake_server_new            (void);

/* Configuration, before starting. */
void     pop3_fake_server_set_certificate      (Pop3FakeServer   *self,
                                                GTlsCertificate  *certificate);
/* Handshake as soon as a connection is accepted (POP3S). */
void     pop3_fake_server_set_implicit_tls     (Pop3FakeServer   *self,
                                                gboolean          implicit_tls);
/* Responder: the greeting line, without CRLF. */
void     pop3_fake_server_set_greeting         (Pop3FakeServer   *self,
                                                const char       *greeting);
/* Responder: answer @command (case-insensitive, no arguments) with exactly
 * @bytes instead of the built-in reply. */
void     pop3_fake_server_set_response         (Pop3FakeServer   *self,
                                                const char       *command,
                                                const char       *bytes);
/* Responder: the CAPA lines, replacing the default "UIDL" and
 * "IMPLEMENTATION python-testlib-pop-server".  STLS is added by the server
 * while a certificate is set and TLS is not active, and UTF8 while
 * pop3_fake_server_set_utf8() enabled it. */
void     pop3_fake_server_set_capabilities     (Pop3FakeServer   *self,
                                                const char *const *lines);
void     pop3_fake_server_add_capability       (Pop3FakeServer   *self,
                                                const char       *line);
/* Responder: whether "UTF8" is accepted (test_poplib's enable_UTF8). */
void     pop3_fake_server_set_utf8             (Pop3FakeServer   *self,
                                                gboolean          enabled);
/* Responder: the shared secret APOP digests are checked against. */
void     pop3_fake_server_set_apop_secret      (Pop3FakeServer   *self,
                                                const char       *secret);
/* Responder: wait this long before each reply, so that a pipelining client
 * has the time to send what it has queued. */
void     pop3_fake_server_set_reply_delay      (Pop3FakeServer   *self,
                                                guint             ms);
void     pop3_fake_server_add_script           (Pop3FakeServer   *self,
                                                Pop3FakeScript   *script);

gboolean pop3_fake_server_start                (Pop3FakeServer   *self,
                                                GError          **error);
/* Stops listening, ends every connection and joins every thread. */
void     pop3_fake_server_stop                 (Pop3FakeServer   *self);
guint16  pop3_fake_server_get_port             (Pop3FakeServer   *self);

/* Recordings, over all connections in the order they were accepted. */
guint    pop3_fake_server_get_n_connections    (Pop3FakeServer   *self);
gboolean pop3_fake_server_all_ended            (Pop3FakeServer   *self);
gboolean pop3_fake_server_all_settled          (Pop3FakeServer   *self);
/* Every byte read before TLS (@encrypted FALSE) or inside TLS (TRUE). */
GBytes  *pop3_fake_server_get_received         (Pop3FakeServer   *self,
                                                gboolean          encrypted);
/* Every complete line received, without its line ending. */
GStrv    pop3_fake_server_get_commands         (Pop3FakeServer   *self);
/* The order of events, all connections together: "ACCEPT n", "C: line"
 * when a line arrived, "S: first line" when a reply was written (both cut
 * at 200 bytes), "TLS" once a handshake completed, "TLS failed: ...",
 * "CLOSE" when the server closed, "EOF" when the client did. */
GStrv    pop3_fake_server_get_log              (Pop3FakeServer   *self);
/* Index of the first log entry equal to @entry at or after @from, or -1. */
int      pop3_fake_server_find_log             (Pop3FakeServer   *self,
                                                const char       *entry,
                                                int               from);
GStrv    pop3_fake_server_get_mismatches       (Pop3FakeServer   *self);
/* TRUE once a command arrived while the reply to an earlier one was still
 * unsent: the client pipelined. */
gboolean pop3_fake_server_get_overlapped       (Pop3FakeServer   *self);
/* How many script steps completed, over all connections. */
guint    pop3_fake_server_get_steps_done       (Pop3FakeServer   *self);

G_END_DECLS
