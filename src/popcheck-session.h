/* popcheck-session.h: one short POP3 session for one account
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Everything the checker does on a server goes through a session: look up
 * the password, connect with the account's security and pinned
 * certificate, log in, and then list, summarize, delete or retrieve by UID.
 */

#pragma once

#include <gio/gio.h>

#include "pop3-client.h"
#include "popcheck-types.h"

G_BEGIN_DECLS

/* The most TOPs a check has queued at once.  Enough to keep a pipelining
 * server busy for a round trip (the engine's 64 KB send window holds about
 * 4,000 of them, the server answers them in order), few enough that a
 * mailbox of a million new messages does not queue a million commands. */
#define POPCHECK_SESSION_TOP_WINDOW 1024

#define POPCHECK_TYPE_SESSION (popcheck_session_get_type ())

G_DECLARE_FINAL_TYPE (PopcheckSession, popcheck_session, POPCHECK, SESSION,
                      GObject)

PopcheckSession *popcheck_session_new              (PopcheckAccount     *account);
Pop3Client      *popcheck_session_get_client       (PopcheckSession     *self);
gboolean         popcheck_session_has_uidl         (PopcheckSession     *self);
/* Of the messages the last listing found, how many have no sound UID. */
guint            popcheck_session_get_n_without_uid (PopcheckSession    *self);
/* What the listing's LIST said of message msg; 0 when it did not list it. */
guint64          popcheck_session_get_listed_size   (PopcheckSession    *self,
                                                     guint               msg);
guint            popcheck_session_get_login_delay  (PopcheckSession     *self);
/* No message of the last listing will be looked up by its UID any more
 * (its sizes still are): the listing's UIDs go now, for a million
 * messages 60 MB.  popcheck_session_get_number () and what looks a UID
 * up then find nothing. */
void             popcheck_session_forget_uids      (PopcheckSession     *self);

void             popcheck_session_open_async       (PopcheckSession     *self,
                                                    GCancellable        *cancellable,
                                                    GAsyncReadyCallback  callback,
                                                    gpointer             user_data);
gboolean         popcheck_session_open_finish      (PopcheckSession     *self,
                                                    GAsyncResult        *result,
                                                    GError             **error);

/* The size a cache knows for the message with this UID; 0 when none. */
typedef guint64 (*PopcheckSessionSizeFunc) (const char *uid,
                                             gpointer    user_data);

/* UIDL and LIST together; without UIDL, identities are fingerprints of
 * the headers from TOP n 0.  listing: Pop3ListEntry.
 * With cached_size, UIDL goes first and LIST only asks for the messages
 * whose size the cache does not know; the listing then holds the cached
 * sizes for the others. */
void             popcheck_session_list_async       (PopcheckSession     *self,
                                                    PopcheckSessionSizeFunc cached_size,
                                                    gpointer             size_data,
                                                    GCancellable        *cancellable,
                                                    GAsyncReadyCallback  callback,
                                                    gpointer             user_data);
gboolean         popcheck_session_list_finish      (PopcheckSession     *self,
                                                    GAsyncResult        *result,
                                                    Pop3UidListing     **uids,
                                                    GArray             **listing,
                                                    GError             **error);

/* Before any listing, on a server that pipelines and lists UIDL in its
 * CAPA: STAT, then `UIDL n`, `LIST n` and `TOP n lines` for the newest
 * (highest numbered) `max` messages, sent back to back.  Returns their
 * summaries, newest first, without the listing the other calls need:
 * those messages' numbers hold for this session only until a listing says
 * otherwise.  A message whose commands the server refused (-ERR) is left
 * out; a `UIDL n` or `LIST n` answer about another message fails it all.
 * @count: the message count STAT gave.  Without PIPELINING or UIDL in
 * CAPA, nothing is sent and the array is empty. */
void             popcheck_session_peek_newest_async (PopcheckSession    *self,
                                                     guint               max,
                                                     guint               lines,
                                                     GCancellable       *cancellable,
                                                     GAsyncReadyCallback callback,
                                                     gpointer            user_data);
GPtrArray       *popcheck_session_peek_newest_finish (PopcheckSession   *self,
                                                      GAsyncResult      *result,
                                                      guint             *count,
                                                      GError           **error);

/* The number the listing gave the message with this UID; 0 when it is
 * not listed, or more than one message has it. */
guint            popcheck_session_get_number       (PopcheckSession     *self,
                                                    const char          *uid);

/* TOP msg lines, decoded into a summary.  Needs a listing first. */
void             popcheck_session_summary_async    (PopcheckSession     *self,
                                                    guint                msg,
                                                    const char          *uid,
                                                    guint                lines,
                                                    GCancellable        *cancellable,
                                                    GAsyncReadyCallback  callback,
                                                    gpointer             user_data);
PopcheckMessage *popcheck_session_summary_finish   (PopcheckSession     *self,
                                                    GAsyncResult        *result,
                                                    GError             **error);

/* RETR of the message with this UID.  Needs a listing first. */
void             popcheck_session_retrieve_async   (PopcheckSession     *self,
                                                    const char          *uid,
                                                    GCancellable        *cancellable,
                                                    GAsyncReadyCallback  callback,
                                                    gpointer             user_data);
GBytes          *popcheck_session_retrieve_finish  (PopcheckSession     *self,
                                                    GAsyncResult        *result,
                                                    GError             **error);

/* DELE every UID that is on the server, then QUIT: the deletion is only
 * committed when QUIT is answered +OK.  On any failure before that, RSET
 * is sent where possible and the error says nothing was deleted; when QUIT
 * is not answered, it says the deletion may have happened. */
void             popcheck_session_delete_async     (PopcheckSession     *self,
                                                    const char * const  *uids,
                                                    GCancellable        *cancellable,
                                                    GAsyncReadyCallback  callback,
                                                    gpointer             user_data);
gboolean         popcheck_session_delete_finish    (PopcheckSession     *self,
                                                    GAsyncResult        *result,
                                                    GStrv               *already_gone,
                                                    GError             **error);

void             popcheck_session_quit_async       (PopcheckSession     *self,
                                                    GCancellable        *cancellable,
                                                    GAsyncReadyCallback  callback,
                                                    gpointer             user_data);
gboolean         popcheck_session_quit_finish      (PopcheckSession     *self,
                                                    GAsyncResult        *result,
                                                    GError             **error);

/* Also forgets the listing: a closed session looks up no message. */
void             popcheck_session_close            (PopcheckSession     *self);

/* A sentence for a person, translated, from any error a session gives. */
char            *popcheck_session_describe_error   (const GError        *error);
/* @cause, reworded to say that nothing was deleted; its domain, code and
 * data stay, so it sorts as @cause does. */
GError          *popcheck_session_nothing_deleted_error (const GError   *cause);

G_END_DECLS
