/* popcheck-session.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "popcheck-session"

#include "config.h"

#include <string.h>
#include <glib/gi18n.h>
#include <libsecret/secret.h>

#include "popcheck-account.h"
#include "popcheck-message.h"
#include "popcheck-oauth-account.h"
#include "popcheck-secret.h"
#include "popcheck-session.h"
#include "popcheck-token-source.h"

struct _PopcheckSession
{
  GObject          parent_instance;

  PopcheckAccount *account;
  Pop3Client      *client;
  /* The last UIDL listing, kept whole: the table below points into it
   * rather than hold a copy of every UID. */
  Pop3UidListing  *uids;
  /* The positions in uids by UID: an open-addressing table on
   * g_str_hash () of position + 1 (0 is a free slot), UID_REPEATED set
   * where more than one message has that UID (possible only with header
   * fingerprints).  Four bytes a slot, two slots a message, where a hash
   * table of strings took 34 bytes a message. */
  guint32         *uid_slots;
  gsize            n_uid_slots;
  /* What LIST said of each message. */
  Pop3ListIndex   *listing_index;
  guint            n_without_uid;
  gboolean         has_uidl;
  guint            login_delay;
  /* An OAuth2 account whose access token the server refused has had its
   * one more token in this session. */
  gboolean         token_retried;
};

G_DEFINE_FINAL_TYPE (PopcheckSession, popcheck_session, G_TYPE_OBJECT)

static void
forget_uids (PopcheckSession *self)
{
  g_clear_pointer (&self->uid_slots, g_free);
  self->n_uid_slots = 0;
  g_clear_pointer (&self->uids, pop3_uid_listing_unref);
}

static void
forget_listing (PopcheckSession *self)
{
  forget_uids (self);
  g_clear_pointer (&self->listing_index, pop3_list_index_free);
}

static void
popcheck_session_dispose (GObject *object)
{
  PopcheckSession *self = (PopcheckSession *) object;

  if (self->client != NULL)
    pop3_client_close (self->client);

  g_clear_object (&self->client);
  g_clear_object (&self->account);
  forget_listing (self);

  G_OBJECT_CLASS (popcheck_session_parent_class)->dispose (object);
}

static void
popcheck_session_class_init (PopcheckSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = popcheck_session_dispose;
}

static void
popcheck_session_init (PopcheckSession *self)
{
  self->client = pop3_client_new ();
  self->has_uidl = TRUE;
}

PopcheckSession *
popcheck_session_new (PopcheckAccount *account)
{
  PopcheckSession *self;

  g_return_val_if_fail (POPCHECK_IS_ACCOUNT (account), NULL);

  self = g_object_new (POPCHECK_TYPE_SESSION, NULL);
  self->account = g_object_ref (account);
  pop3_client_set_pinned_fingerprint (
    self->client, popcheck_account_get_pinned_fingerprint (account));

  return self;
}

Pop3Client *
popcheck_session_get_client (PopcheckSession *self)
{
  g_return_val_if_fail (POPCHECK_IS_SESSION (self), NULL);

  return self->client;
}

gboolean
popcheck_session_has_uidl (PopcheckSession *self)
{
  g_return_val_if_fail (POPCHECK_IS_SESSION (self), FALSE);

  return self->has_uidl;
}

guint
popcheck_session_get_n_without_uid (PopcheckSession *self)
{
  g_return_val_if_fail (POPCHECK_IS_SESSION (self), 0);

  return self->n_without_uid;
}

guint
popcheck_session_get_login_delay (PopcheckSession *self)
{
  g_return_val_if_fail (POPCHECK_IS_SESSION (self), 0);

  return self->login_delay;
}

void
popcheck_session_forget_uids (PopcheckSession *self)
{
  g_return_if_fail (POPCHECK_IS_SESSION (self));

  forget_uids (self);
}

void
popcheck_session_close (PopcheckSession *self)
{
  g_return_if_fail (POPCHECK_IS_SESSION (self));

  pop3_client_close (self->client);
  /* Nothing is looked up in a closed session: its listing, the most of
   * a first check of a big mailbox, goes now rather than with the last
   * reference to the session. */
  forget_listing (self);
}

/* Opening: password, connection, login */

static void open_token_cb (GObject      *object,
                           GAsyncResult *result,
                           gpointer      user_data);
static void open_renewed_cb (GObject      *object,
                             GAsyncResult *result,
                             gpointer      user_data);

static void
open_login_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PopcheckSession *self = g_task_get_source_object (task);
  const char *const *delay;
  GError *error = NULL;
  guint64 seconds;

  if (!pop3_client_login_finish (self->client, result, &error))
    {
      g_autofree char *provider = popcheck_account_dup_oauth2_provider (self->account);
      g_autoptr(PopcheckTokenSource) source =
        popcheck_account_dup_token_source (self->account);

      if (source != NULL &&
          g_error_matches (error, POP3_ERROR, POP3_ERROR_AUTH_TOKEN))
        {
          g_clear_error (&error);
          if (!self->token_retried)
            {
              /* The source may hold an expired token: it renews the
               * sign-in once, and the next token goes on the same
               * connection. */
              self->token_retried = TRUE;
              popcheck_token_source_renew_async (source, self->account,
                                                 g_task_get_cancellable (task),
                                                 open_renewed_cb,
                                                 g_object_ref (task));
              return;
            }

          g_task_return_new_error (task, POPCHECK_TOKEN_SOURCE_ERROR,
                                   POPCHECK_TOKEN_SOURCE_ERROR_SIGN_IN,
                                   _("The server refused the sign-in from "
                                     "Online Accounts. Sign in again in "
                                     "Settings → Online Accounts."));
          return;
        }

      /* The token may have expired or been revoked since it was given:
       * one more, on the same connection (the server is still waiting
       * for a login), and then the error stands. */
      if (provider != NULL && !self->token_retried &&
          g_error_matches (error, POP3_ERROR, POP3_ERROR_AUTH_TOKEN))
        {
          self->token_retried = TRUE;
          g_clear_error (&error);
          popcheck_oauth_account_get_token_async (self->account,
                                                  g_task_get_cancellable (task),
                                                  open_token_cb,
                                                  g_object_ref (task));
          return;
        }

      g_task_return_error (task, error);
      return;
    }

  /* RFC 2449, section 6.5: the least number of seconds between logins. */
  delay = pop3_client_get_capabilities (self->client)
            ? g_hash_table_lookup (pop3_client_get_capabilities (self->client),
                                   "LOGIN-DELAY")
            : NULL;
  if (delay != NULL && delay[0] != NULL &&
      pop3_parse_number (delay[0], strlen (delay[0]), G_MAXUINT32, &seconds))
    self->login_delay = seconds;

  g_task_return_boolean (task, TRUE);
}

/* The password (or access token) is the task's data. */
static void
open_login (GTask *task)
{
  PopcheckSession *self = g_task_get_source_object (task);

  pop3_client_login_async (self->client,
                           popcheck_account_get_user (self->account),
                           g_task_get_task_data (task),
                           popcheck_account_get_auth_method (self->account),
                           g_task_get_cancellable (task),
                           open_login_cb, g_object_ref (task));
}

static void
open_connected_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PopcheckSession *self = g_task_get_source_object (task);
  GError *error = NULL;

  if (!pop3_client_connect_finish (self->client, result, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  open_login (task);
}

static void
open_secret_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PopcheckSession *self = g_task_get_source_object (task);
  GError *error = NULL;
  char *password;

  password = popcheck_secret_lookup_finish (result, &error);
  if (password == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  g_task_set_task_data (task, password, (GDestroyNotify) secret_password_free);
  pop3_client_connect_async (self->client,
                             popcheck_account_get_host (self->account),
                             popcheck_account_get_port (self->account),
                             popcheck_account_get_security (self->account),
                             g_task_get_cancellable (task),
                             open_connected_cb, g_object_ref (task));
}

/* The token goes where the password would; after the server refused one,
 * the next goes on the same connection. */
static void
open_with_token (GTask *task,
                 char  *token)
{
  PopcheckSession *self = g_task_get_source_object (task);

  g_task_set_task_data (task, token, (GDestroyNotify) secret_password_free);
  if (self->token_retried)
    {
      open_login (task);
      return;
    }

  pop3_client_connect_async (self->client,
                             popcheck_account_get_host (self->account),
                             popcheck_account_get_port (self->account),
                             popcheck_account_get_security (self->account),
                             g_task_get_cancellable (task),
                             open_connected_cb, g_object_ref (task));
}

/* An account that signs in with OAuth2: a fresh access token each time,
 * sent where the password would be; after the server refused one, the
 * next goes on the same connection. */
static void
open_token_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(PopcheckOAuthToken) token = NULL;
  GError *error = NULL;

  token = popcheck_oauth_account_get_token_finish (result, &error);
  if (token == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  open_with_token (task, g_steal_pointer (&token->access_token));
}

/* An account from Online Accounts: its source hands out the token, as
 * open_token_cb does for PopCheck's own OAuth2 accounts. */
static void
open_source_token_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  char *token;

  token = popcheck_token_source_get_token_finish (POPCHECK_TOKEN_SOURCE (object),
                                                  result, &error);
  if (token == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  open_with_token (task, token);
}

static void
open_renewed_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PopcheckSession *self = g_task_get_source_object (task);
  PopcheckTokenSource *source = POPCHECK_TOKEN_SOURCE (object);
  GCancellable *cancellable;
  GError *error = NULL;

  if (!popcheck_token_source_renew_finish (source, result, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  cancellable = g_task_get_cancellable (task);
  popcheck_token_source_get_token_async (source, self->account, cancellable,
                                         open_source_token_cb,
                                         g_steal_pointer (&task));
}

void
popcheck_session_open_async (PopcheckSession     *self,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autofree char *provider = NULL;
  g_autoptr(PopcheckTokenSource) source = NULL;

  g_return_if_fail (POPCHECK_IS_SESSION (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, popcheck_session_open_async);

  self->token_retried = FALSE;
  source = popcheck_account_dup_token_source (self->account);
  if (source != NULL)
    {
      popcheck_token_source_get_token_async (source, self->account,
                                             cancellable, open_source_token_cb,
                                             g_steal_pointer (&task));
      return;
    }
  if (popcheck_account_is_external (self->account))
    {
      g_task_return_new_error (task, POPCHECK_TOKEN_SOURCE_ERROR,
                               POPCHECK_TOKEN_SOURCE_ERROR_GONE,
                               _("The account is no longer in Online Accounts."));
      return;
    }

  provider = popcheck_account_dup_oauth2_provider (self->account);
  if (provider != NULL)
    {
      popcheck_oauth_account_get_token_async (self->account, cancellable,
                                              open_token_cb,
                                              g_steal_pointer (&task));
      return;
    }

  popcheck_secret_lookup_async (popcheck_account_get_id (self->account),
                                POPCHECK_SECRET_KIND_PASSWORD,
                                popcheck_account_get_host (self->account),
                                popcheck_account_get_port (self->account),
                                popcheck_account_get_user (self->account),
                                cancellable, open_secret_cb,
                                g_steal_pointer (&task));
}

gboolean
popcheck_session_open_finish (PopcheckSession  *self,
                              GAsyncResult     *result,
                              GError          **error)
{
  g_return_val_if_fail (POPCHECK_IS_SESSION (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Listing */

typedef struct
{
  Pop3UidListing *uids;
  GArray         *listing;
  guint           pending;
  /* Without UIDL: the next message of the listing to fingerprint. */
  guint           next_fingerprint;
  GError         *error;
  gboolean        uidl_refused;
  /* When set, UIDL goes first and LIST only asks for what this does not
   * know (see popcheck_session_list_async ()). */
  PopcheckSessionSizeFunc cached_size;
  gpointer        size_data;
} ListData;

static void
list_data_free (ListData *data)
{
  g_clear_pointer (&data->uids, pop3_uid_listing_unref);
  g_clear_pointer (&data->listing, g_array_unref);
  g_clear_error (&data->error);
  g_free (data);
}

#define UID_REPEATED ((guint32) 1 << 31)

/* The position in uids of the message at slot. */
static guint
position_at_slot (guint32 slot)
{
  return (slot & ~UID_REPEATED) - 1;
}

static const char *
uid_at_slot (PopcheckSession *self,
             guint32          slot)
{
  return pop3_uid_listing_get_uid (self->uids, position_at_slot (slot));
}

static guint
msg_at_slot (PopcheckSession *self,
             guint32          slot)
{
  return pop3_uid_listing_get_msg (self->uids, position_at_slot (slot));
}

/* The slot of uid, or of the free slot where it would go. */
static gsize
find_uid_slot (PopcheckSession *self,
               const char      *uid)
{
  gsize mask = self->n_uid_slots - 1;
  gsize at = g_str_hash (uid) & mask;

  while (self->uid_slots[at] != 0 &&
         !g_str_equal (uid_at_slot (self, self->uid_slots[at]), uid))
    at = (at + 1) & mask;

  return at;
}

static void
index_uids (PopcheckSession *self)
{
  guint n = pop3_uid_listing_get_length (self->uids);

  g_clear_pointer (&self->uid_slots, g_free);
  /* At most half full: a free slot ends every search soon.  A listing
   * of 2^31 lines could not be held in memory in the first place. */
  self->n_uid_slots = 8;
  while (self->n_uid_slots < (gsize) n * 2)
    self->n_uid_slots *= 2;
  self->uid_slots = g_new0 (guint32, self->n_uid_slots);

  for (guint i = 0; i < n; i++)
    {
      gsize at = find_uid_slot (self, pop3_uid_listing_get_uid (self->uids, i));

      if (self->uid_slots[at] != 0)
        self->uid_slots[at] |= UID_REPEATED;
      else
        self->uid_slots[at] = i + 1;
    }
}

static void
list_record (PopcheckSession *self,
             ListData        *data)
{
  g_clear_pointer (&self->uids, pop3_uid_listing_unref);
  self->uids = pop3_uid_listing_ref (data->uids);
  g_clear_pointer (&self->listing_index, pop3_list_index_free);
  self->listing_index = pop3_list_index_new (data->listing);
  index_uids (self);

  /* What LIST lists and no sound UIDL line names: a broken line left it
   * without a UID.  (Without UIDL, every message has its fingerprint.)
   * The sound lines name each message once. */
  self->n_without_uid = data->listing->len;
  for (guint i = 0;
       i < pop3_uid_listing_get_length (data->uids) && self->n_without_uid > 0;
       i++)
    {
      guint msg = pop3_uid_listing_get_msg (data->uids, i);

      if (pop3_list_index_lookup (self->listing_index, msg, NULL))
        self->n_without_uid--;
    }
}

static void
list_complete (GTask *task)
{
  PopcheckSession *self = g_task_get_source_object (task);
  ListData *data = g_task_get_task_data (task);

  if (data->error != NULL)
    {
      g_task_return_error (task, g_steal_pointer (&data->error));
      return;
    }

  list_record (self, data);
  g_task_return_boolean (task, TRUE);
}

typedef struct
{
  GTask   *task;
  guint    msg;
  guint64  octets;
} FingerprintCall;

static void fingerprint_cb (GObject      *object,
                            GAsyncResult *result,
                            gpointer      user_data);

/* Keeps POPCHECK_SESSION_TOP_WINDOW TOPs queued, until every message of
 * the listing has had its own. */
static void
list_send_fingerprints (GTask *task)
{
  PopcheckSession *self = g_task_get_source_object (task);
  ListData *data = g_task_get_task_data (task);

  while (data->pending < POPCHECK_SESSION_TOP_WINDOW &&
         data->next_fingerprint < data->listing->len)
    {
      Pop3ListEntry *entry = &g_array_index (data->listing, Pop3ListEntry,
                                             data->next_fingerprint++);
      FingerprintCall *call = g_new0 (FingerprintCall, 1);

      call->task = g_object_ref (task);
      call->msg = entry->msg;
      call->octets = entry->octets;
      data->pending++;
      pop3_client_top_async (self->client, entry->msg, 0,
                             g_task_get_cancellable (task),
                             fingerprint_cb, call);
    }
}

static void
fingerprint_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  FingerprintCall *call = user_data;
  g_autoptr(GTask) task = call->task;
  ListData *data = g_task_get_task_data (task);
  g_autoptr(Pop3Reply) reply = NULL;
  GError *error = NULL;

  reply = pop3_client_command_finish (POP3_CLIENT (object), result, &error);
  if (reply == NULL && data->error == NULL)
    data->error = error;
  else
    g_clear_error (&error);

  if (reply != NULL)
    {
      g_autofree char *uid = popcheck_message_fingerprint_uid (reply->body,
                                                               call->octets);

      pop3_uid_listing_add (data->uids, call->msg, uid);
    }
  g_free (call);

  data->pending--;
  if (data->error == NULL)
    list_send_fingerprints (task);
  if (data->pending == 0)
    list_complete (task);
}

/* Without UIDL (RFC 1939 makes it optional) a message is known by a
 * fingerprint of its headers; the account says identity is approximate. */
static void
list_fingerprint (GTask *task)
{
  PopcheckSession *self = g_task_get_source_object (task);
  ListData *data = g_task_get_task_data (task);

  self->has_uidl = FALSE;
  g_clear_pointer (&data->uids, pop3_uid_listing_unref);
  data->uids = pop3_uid_listing_new ();

  if (data->listing->len == 0)
    {
      list_complete (task);
      return;
    }

  list_send_fingerprints (task);
}

static void
list_part_done (GTask *task)
{
  ListData *data = g_task_get_task_data (task);

  if (--data->pending > 0)
    return;

  if (data->error == NULL && data->uidl_refused)
    list_fingerprint (task);
  else
    list_complete (task);
}

static void
list_list_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data);

/* After UIDL, on a later check: the sizes of the messages seen before
 * come from the cache, and only the new ones are asked for, one `LIST n`
 * each, pipelined; a check with nothing new needs no LIST at all.  The
 * whole LIST instead when UIDL left anything unsure (refused, broken
 * lines) or when more are new than a window of commands. */
static void
list_sizes (GTask *task,
            guint  rejected)
{
  PopcheckSession *self = g_task_get_source_object (task);
  ListData *data = g_task_get_task_data (task);
  g_autoptr(GArray) missing = NULL;

  if (data->error != NULL)
    return;

  if (data->uids != NULL && rejected == 0)
    {
      missing = g_array_new (FALSE, FALSE, sizeof (guint));
      guint n = pop3_uid_listing_get_length (data->uids);

      data->listing = g_array_sized_new (FALSE, FALSE, sizeof (Pop3ListEntry),
                                         n);
      for (guint i = 0; i < n; i++)
        {
          Pop3ListEntry entry = { pop3_uid_listing_get_msg (data->uids, i), 0 };

          entry.octets = data->cached_size (pop3_uid_listing_get_uid (data->uids, i),
                                            data->size_data);
          if (entry.octets != 0)
            g_array_append_val (data->listing, entry);
          else
            g_array_append_val (missing, entry.msg);
        }
    }

  if (missing == NULL || missing->len > POPCHECK_SESSION_TOP_WINDOW)
    {
      g_clear_pointer (&data->listing, g_array_unref);
      data->pending++;
      pop3_client_list_async (self->client, 0, g_task_get_cancellable (task),
                              list_list_cb, g_object_ref (task));
      return;
    }

  for (guint i = 0; i < missing->len; i++)
    {
      data->pending++;
      pop3_client_list_async (self->client, g_array_index (missing, guint, i),
                              g_task_get_cancellable (task), list_list_cb,
                              g_object_ref (task));
    }
}

static void
list_uidl_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ListData *data = g_task_get_task_data (task);
  g_autoptr(Pop3Reply) reply = NULL;
  GError *error = NULL;
  guint rejected = 0;

  reply = pop3_client_command_finish (POP3_CLIENT (object), result, &error);
  if (reply != NULL)
    {
      /* A server that repeats a UID or garbles a line must not cost the
       * whole account: the sound lines are kept.  The messages left
       * without a UID are never acted on, as nothing says which they
       * are. */
      data->uids = pop3_parse_uidl_body_sound (reply->body, &rejected, &error);
      if (data->uids == NULL && data->error == NULL)
        data->error = g_steal_pointer (&error);
      g_clear_error (&error);
      if (rejected > 0)
        g_debug ("The server's UIDL listing has %u broken lines", rejected);
    }
  else if (g_error_matches (error, POP3_ERROR, POP3_ERROR_SERVER))
    {
      data->uidl_refused = TRUE;
      g_clear_error (&error);
    }
  else if (data->error == NULL)
    data->error = error;
  else
    g_clear_error (&error);
  /* What comes next may run the caller's callback, and a body of
   * 60 MB for a million messages must not live through it. */
  g_clear_pointer (&reply, pop3_reply_unref);

  if (data->cached_size != NULL)
    list_sizes (task, rejected);

  list_part_done (task);
}

static void
list_list_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ListData *data = g_task_get_task_data (task);
  g_autoptr(Pop3Reply) reply = NULL;
  GError *error = NULL;

  reply = pop3_client_command_finish (POP3_CLIENT (object), result, &error);
  if (reply != NULL && reply->listing != NULL)
    data->listing = g_array_ref (reply->listing);
  else if (reply != NULL)
    {
      /* `LIST n`: the engine has checked that it names message n. */
      Pop3ListEntry entry = { reply->msg, reply->size };

      g_array_append_val (data->listing, entry);
    }
  else if (data->error == NULL)
    data->error = error;
  else
    g_clear_error (&error);
  /* As in list_uidl_cb (): the body is parsed, and goes before the
   * listing is used. */
  g_clear_pointer (&reply, pop3_reply_unref);

  list_part_done (task);
}

void
popcheck_session_list_async (PopcheckSession         *self,
                             PopcheckSessionSizeFunc  cached_size,
                             gpointer                 size_data,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  ListData *data;

  g_return_if_fail (POPCHECK_IS_SESSION (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, popcheck_session_list_async);
  data = g_new0 (ListData, 1);
  data->pending = 2;
  data->cached_size = cached_size;
  data->size_data = size_data;
  g_task_set_task_data (task, data, (GDestroyNotify) list_data_free);

  if (cached_size != NULL)
    {
      data->pending = 1;
      pop3_client_command_async (self->client, "UIDL", POP3_EXPECT_LISTING,
                                 cancellable, list_uidl_cb, g_object_ref (task));
      return;
    }

  /* One round trip when the server pipelines (RFC 2449, section 6.6).
   * UIDL as a plain listing: the session sorts its lines itself, keeping
   * the sound ones where the engine's UIDL fails the whole listing. */
  pop3_client_command_async (self->client, "UIDL", POP3_EXPECT_LISTING,
                             cancellable, list_uidl_cb, g_object_ref (task));
  pop3_client_list_async (self->client, 0, cancellable, list_list_cb,
                          g_object_ref (task));
}

gboolean
popcheck_session_list_finish (PopcheckSession  *self,
                              GAsyncResult     *result,
                              Pop3UidListing  **uids,
                              GArray          **listing,
                              GError          **error)
{
  ListData *data;

  g_return_val_if_fail (POPCHECK_IS_SESSION (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;

  /* Taken rather than shared: the task lives until its callback returns,
   * and a caller that lets go of the listing there frees it there. */
  data = g_task_get_task_data (G_TASK (result));
  if (uids != NULL)
    *uids = g_steal_pointer (&data->uids);
  if (listing != NULL)
    *listing = g_steal_pointer (&data->listing);

  return TRUE;
}

/* The newest messages, before any listing */

typedef enum
{
  PEEK_UIDL,
  PEEK_LIST,
  PEEK_TOP,
} PeekKind;

typedef struct
{
  char    *uid;
  guint64  size;
  GBytes  *top;
  /* The server refused one of this message's commands. */
  gboolean refused;
} PeekEntry;

typedef struct
{
  guint      count;
  guint      lines;
  guint      max;
  /* Newest first: entries[i] is message count - i. */
  PeekEntry *entries;
  guint      n_entries;
  guint      pending;
  GError    *error;
  /* An answer the engine rejected while the connection stayed in step. */
  GError    *unsound;
} PeekData;

typedef struct
{
  GTask    *task;
  PeekKind  kind;
  guint     index;
} PeekCall;

static void
peek_data_free (PeekData *data)
{
  for (guint i = 0; i < data->n_entries; i++)
    {
      g_free (data->entries[i].uid);
      g_clear_pointer (&data->entries[i].top, g_bytes_unref);
    }
  g_free (data->entries);
  g_clear_error (&data->error);
  g_clear_error (&data->unsound);
  g_free (data);
}

static void
peek_complete (GTask *task)
{
  PeekData *data = g_task_get_task_data (task);
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GHashTable) uids = g_hash_table_new (g_str_hash, g_str_equal);

  if (data->error != NULL)
    {
      g_task_return_error (task, g_steal_pointer (&data->error));
      return;
    }

  messages = g_ptr_array_new_with_free_func (g_object_unref);
  /* A server that answers one of these oddly may still list soundly, as
   * the full listing tolerates lines it cannot use: nothing from these
   * answers is shown, and the listing decides. */
  if (data->unsound != NULL)
    {
      g_debug ("Not showing the newest messages before the listing: %s",
               data->unsound->message);
      g_task_return_pointer (task, g_steal_pointer (&messages),
                             (GDestroyNotify) g_ptr_array_unref);
      return;
    }

  /* RFC 1939, section 7: a unique id is unique in the maildrop.  Of a
   * server that repeats one, neither message is shown before the listing
   * says which of them keeps it. */
  for (guint i = 0; i < data->n_entries; i++)
    if (data->entries[i].uid != NULL)
      {
        guint seen = GPOINTER_TO_UINT (g_hash_table_lookup (uids,
                                                            data->entries[i].uid));

        g_hash_table_insert (uids, data->entries[i].uid,
                             GUINT_TO_POINTER (seen + 1));
      }

  for (guint i = 0; i < data->n_entries; i++)
    {
      PeekEntry *entry = &data->entries[i];

      if (entry->refused || entry->uid == NULL || entry->top == NULL ||
          GPOINTER_TO_UINT (g_hash_table_lookup (uids, entry->uid)) > 1)
        continue;
      g_ptr_array_add (messages,
                       popcheck_message_new_from_top (entry->uid, entry->size,
                                                      data->count - i,
                                                      entry->top, data->lines));
    }

  g_task_return_pointer (task, g_steal_pointer (&messages),
                         (GDestroyNotify) g_ptr_array_unref);
}

static void
peek_reply_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  PeekCall *call = user_data;
  g_autoptr(GTask) task = call->task;
  PeekData *data = g_task_get_task_data (task);
  PeekEntry *entry = &data->entries[call->index];
  g_autoptr(Pop3Reply) reply = NULL;
  GError *error = NULL;

  reply = pop3_client_command_finish (POP3_CLIENT (object), result, &error);
  if (reply != NULL)
    {
      /* The engine has checked that `UIDL n` and `LIST n` answer about
       * message n, and that the UID is sound. */
      if (call->kind == PEEK_UIDL)
        entry->uid = g_strdup (reply->uid);
      else if (call->kind == PEEK_LIST)
        entry->size = reply->size;
      else
        entry->top = g_bytes_ref (reply->body);
    }
  else if (g_error_matches (error, POP3_ERROR, POP3_ERROR_SERVER))
    {
      /* -ERR for this message only: the listing that follows says what
       * it is. */
      entry->refused = TRUE;
      g_clear_error (&error);
    }
  else if (g_error_matches (error, POP3_ERROR, POP3_ERROR_PROTOCOL) &&
           pop3_client_is_connected (POP3_CLIENT (object)))
    {
      if (data->unsound == NULL)
        data->unsound = error;
      else
        g_clear_error (&error);
    }
  else if (data->error == NULL)
    data->error = error;
  else
    g_clear_error (&error);
  g_free (call);

  if (--data->pending == 0)
    peek_complete (task);
}

static void
peek_send (GTask    *task,
           PeekKind  kind,
           guint     index)
{
  PopcheckSession *self = g_task_get_source_object (task);
  PeekData *data = g_task_get_task_data (task);
  PeekCall *call = g_new0 (PeekCall, 1);
  guint msg = data->count - index;

  call->task = g_object_ref (task);
  call->kind = kind;
  call->index = index;
  data->pending++;

  if (kind == PEEK_UIDL)
    pop3_client_uidl_async (self->client, msg, g_task_get_cancellable (task),
                            peek_reply_cb, call);
  else if (kind == PEEK_LIST)
    pop3_client_list_async (self->client, msg, g_task_get_cancellable (task),
                            peek_reply_cb, call);
  else
    pop3_client_top_async (self->client, msg, data->lines,
                           g_task_get_cancellable (task), peek_reply_cb, call);
}

static void
peek_stat_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PeekData *data = g_task_get_task_data (task);
  g_autoptr(Pop3Reply) reply = NULL;
  GError *error = NULL;

  reply = pop3_client_command_finish (POP3_CLIENT (object), result, &error);
  if (reply == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  /* The engine bounds the count to a guint; only the newest few are
   * asked about, whatever it says. */
  data->count = reply->count;
  data->n_entries = MIN (data->max, data->count);
  if (data->n_entries == 0)
    {
      peek_complete (task);
      return;
    }

  /* All the UIDs and sizes first (a few bytes each), then the summaries,
   * newest first: the engine pipelines them all, within its send
   * window. */
  data->entries = g_new0 (PeekEntry, data->n_entries);
  for (guint i = 0; i < data->n_entries; i++)
    peek_send (task, PEEK_UIDL, i);
  for (guint i = 0; i < data->n_entries; i++)
    peek_send (task, PEEK_LIST, i);
  for (guint i = 0; i < data->n_entries; i++)
    peek_send (task, PEEK_TOP, i);
}

void
popcheck_session_peek_newest_async (PopcheckSession     *self,
                                    guint                max,
                                    guint                lines,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  PeekData *data;

  g_return_if_fail (POPCHECK_IS_SESSION (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, popcheck_session_peek_newest_async);
  data = g_new0 (PeekData, 1);
  data->lines = lines;
  data->max = MIN (max, POPCHECK_SESSION_TOP_WINDOW);
  g_task_set_task_data (task, data, (GDestroyNotify) peek_data_free);

  /* Three commands a message cost three round trips each without
   * PIPELINING: there the listing (two round trips) comes first, as
   * before.  A server with CAPA names UIDL when it has it (RFC 2449,
   * section 6.3); without it messages are known by fingerprints, which
   * need the listing. */
  if (data->max == 0 || !pop3_client_is_pipelining (self->client) ||
      !pop3_client_has_capability (self->client, "UIDL"))
    {
      peek_complete (task);
      return;
    }

  pop3_client_stat_async (self->client, cancellable, peek_stat_cb,
                          g_steal_pointer (&task));
}

GPtrArray *
popcheck_session_peek_newest_finish (PopcheckSession  *self,
                                     GAsyncResult     *result,
                                     guint            *count,
                                     GError          **error)
{
  PeekData *data;
  GPtrArray *messages;

  g_return_val_if_fail (POPCHECK_IS_SESSION (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  messages = g_task_propagate_pointer (G_TASK (result), error);
  data = g_task_get_task_data (G_TASK (result));
  if (count != NULL)
    *count = messages != NULL ? data->count : 0;

  return messages;
}

/* Looking a UID up in this session's listing */

/* The slot of uid in this session's listing, 0 if it has none. */
static guint32
lookup_uid_slot (PopcheckSession *self,
                 const char      *uid)
{
  if (self->uid_slots == NULL)
    return 0;
  return self->uid_slots[find_uid_slot (self, uid)];
}

static guint
lookup_number (PopcheckSession  *self,
               const char       *uid,
               GError          **error)
{
  guint32 slot = lookup_uid_slot (self, uid);

  if (slot == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("The message is no longer on the server."));
      return 0;
    }

  if ((slot & UID_REPEATED) != 0)
    {
      /* RFC 1939, section 7: a unique id is unique in the maildrop; a
       * server that repeats one breaks the protocol. */
      g_set_error (error, POP3_ERROR, POP3_ERROR_PROTOCOL,
                   _("The server has several messages that look exactly "
                     "like this one, so PopCheck cannot tell which one is "
                     "meant."));
      return 0;
    }

  return msg_at_slot (self, slot);
}

guint
popcheck_session_get_number (PopcheckSession *self,
                             const char      *uid)
{
  guint32 slot;

  g_return_val_if_fail (POPCHECK_IS_SESSION (self), 0);
  g_return_val_if_fail (uid != NULL, 0);

  slot = lookup_uid_slot (self, uid);
  if (slot == 0 || (slot & UID_REPEATED) != 0)
    return 0;
  return msg_at_slot (self, slot);
}

/* Summaries */

typedef struct
{
  char  *uid;
  guint  msg;
  guint  lines;
} SummaryData;

static void
summary_data_free (SummaryData *data)
{
  g_free (data->uid);
  g_free (data);
}

/* What LIST said of message msg; 0 when it did not list it. */
guint64
popcheck_session_get_listed_size (PopcheckSession *self,
                                  guint            msg)
{
  guint64 octets = 0;

  g_return_val_if_fail (POPCHECK_IS_SESSION (self), 0);

  pop3_list_index_lookup (self->listing_index, msg, &octets);
  return octets;
}

static void
summary_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PopcheckSession *self = g_task_get_source_object (task);
  SummaryData *data = g_task_get_task_data (task);
  g_autoptr(Pop3Reply) reply = NULL;
  GError *error = NULL;

  reply = pop3_client_command_finish (POP3_CLIENT (object), result, &error);
  if (reply == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  g_task_return_pointer (task,
                         popcheck_message_new_from_top (data->uid,
                                                        popcheck_session_get_listed_size (self,
                                                                                          data->msg),
                                                        data->msg,
                                                        reply->body,
                                                        data->lines),
                         g_object_unref);
}

void
popcheck_session_summary_async (PopcheckSession     *self,
                                guint                msg,
                                const char          *uid,
                                guint                lines,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  SummaryData *data;

  g_return_if_fail (POPCHECK_IS_SESSION (self));
  g_return_if_fail (uid != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, popcheck_session_summary_async);

  if (msg == 0)
    {
      GError *error = NULL;

      msg = lookup_number (self, uid, &error);
      if (msg == 0)
        {
          g_task_return_error (task, error);
          return;
        }
    }

  data = g_new0 (SummaryData, 1);
  data->uid = g_strdup (uid);
  data->msg = msg;
  data->lines = lines;
  g_task_set_task_data (task, data, (GDestroyNotify) summary_data_free);

  pop3_client_top_async (self->client, msg, lines, cancellable, summary_cb,
                         g_steal_pointer (&task));
}

PopcheckMessage *
popcheck_session_summary_finish (PopcheckSession  *self,
                                 GAsyncResult     *result,
                                 GError          **error)
{
  g_return_val_if_fail (POPCHECK_IS_SESSION (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Retrieving */

static void
retrieve_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(Pop3Reply) reply = NULL;
  GError *error = NULL;

  reply = pop3_client_command_finish (POP3_CLIENT (object), result, &error);
  if (reply == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, g_bytes_ref (reply->body),
                           (GDestroyNotify) g_bytes_unref);
}

void
popcheck_session_retrieve_async (PopcheckSession     *self,
                                 const char          *uid,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;
  guint msg;

  g_return_if_fail (POPCHECK_IS_SESSION (self));
  g_return_if_fail (uid != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, popcheck_session_retrieve_async);

  msg = lookup_number (self, uid, &error);
  if (msg == 0)
    {
      g_task_return_error (task, error);
      return;
    }

  pop3_client_retr_async (self->client, msg, cancellable, retrieve_cb,
                          g_steal_pointer (&task));
}

GBytes *
popcheck_session_retrieve_finish (PopcheckSession  *self,
                                  GAsyncResult     *result,
                                  GError          **error)
{
  g_return_val_if_fail (POPCHECK_IS_SESSION (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Quitting */

static void
quit_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(Pop3Reply) reply = NULL;
  GError *error = NULL;

  reply = pop3_client_command_finish (POP3_CLIENT (object), result, &error);
  if (reply == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

void
popcheck_session_quit_async (PopcheckSession     *self,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (POPCHECK_IS_SESSION (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, popcheck_session_quit_async);
  pop3_client_quit_async (self->client, cancellable, quit_cb,
                          g_steal_pointer (&task));
}

gboolean
popcheck_session_quit_finish (PopcheckSession  *self,
                              GAsyncResult     *result,
                              GError          **error)
{
  g_return_val_if_fail (POPCHECK_IS_SESSION (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Deleting */

typedef struct
{
  GPtrArray *gone;
  guint      pending;
  GError    *error;
} DeleteData;

static void
delete_data_free (DeleteData *data)
{
  g_clear_pointer (&data->gone, g_ptr_array_unref);
  g_clear_error (&data->error);
  g_free (data);
}

GError *
popcheck_session_nothing_deleted_error (const GError *cause)
{
  g_autofree char *reason = NULL;

  g_return_val_if_fail (cause != NULL, NULL);

  reason = popcheck_session_describe_error (cause);
  return pop3_error_new_reworded (cause,
                                  g_strdup_printf (_("Nothing was deleted: %s"),
                                                   reason));
}

static void
delete_quit_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  DeleteData *data = g_task_get_task_data (task);
  g_autoptr(Pop3Reply) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = pop3_client_command_finish (POP3_CLIENT (object), result, &error);

  if (data->error != NULL)
    {
      g_task_return_error (task, g_steal_pointer (&data->error));
      return;
    }

  /* RFC 1939, section 6: deletions take effect in the UPDATE state, which
   * only a QUIT answered +OK proves was reached. */
  if (reply == NULL)
    {
      g_autofree char *reason = popcheck_session_describe_error (error);
      g_autofree char *message =
        g_strdup_printf (_("The server did not confirm the deletion, so it "
                           "may not have happened: %s"), reason);

      g_task_return_error (task, pop3_error_new_reworded (error,
                                                          g_steal_pointer (&message)));
      return;
    }

  g_ptr_array_add (data->gone, NULL);
  g_task_return_boolean (task, TRUE);
}

static void
delete_rset_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(Pop3Reply) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = pop3_client_command_finish (POP3_CLIENT (object), result, &error);

  /* Only a RSET answered +OK unmarks what was marked: after anything else
   * a QUIT would commit the deletions that succeeded.  Leaving without
   * QUIT keeps the server in the TRANSACTION state, which deletes nothing
   * (RFC 1939, section 6). */
  if (reply == NULL)
    {
      DeleteData *data = g_task_get_task_data (task);

      pop3_client_close (POP3_CLIENT (object));
      g_task_return_error (task, g_steal_pointer (&data->error));
      return;
    }

  pop3_client_quit_async (POP3_CLIENT (object), g_task_get_cancellable (task),
                          delete_quit_cb, g_object_ref (task));
}

static void
delete_dele_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  DeleteData *data = g_task_get_task_data (task);
  Pop3Client *client = POP3_CLIENT (object);
  g_autoptr(Pop3Reply) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = pop3_client_command_finish (client, result, &error);
  if (reply == NULL && data->error == NULL)
    data->error = popcheck_session_nothing_deleted_error (error);

  if (--data->pending > 0)
    return;

  if (data->error == NULL)
    {
      pop3_client_quit_async (client, g_task_get_cancellable (task),
                              delete_quit_cb, g_object_ref (task));
      return;
    }

  /* Undo what was marked, then leave; if the connection is gone the
   * server discards the marks itself (RFC 1939, section 6). */
  if (pop3_client_is_connected (client))
    pop3_client_rset_async (client, g_task_get_cancellable (task),
                            delete_rset_cb, g_object_ref (task));
  else
    g_task_return_error (task, g_steal_pointer (&data->error));
}

void
popcheck_session_delete_async (PopcheckSession     *self,
                               const char * const  *uids,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GArray) numbers = g_array_new (FALSE, FALSE, sizeof (guint));
  DeleteData *data;

  g_return_if_fail (POPCHECK_IS_SESSION (self));
  g_return_if_fail (uids != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, popcheck_session_delete_async);
  data = g_new0 (DeleteData, 1);
  data->gone = g_ptr_array_new_with_free_func (g_free);
  g_task_set_task_data (task, data, (GDestroyNotify) delete_data_free);

  for (guint i = 0; uids[i] != NULL; i++)
    {
      g_autoptr(GError) error = NULL;
      guint msg = lookup_number (self, uids[i], &error);

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        g_ptr_array_add (data->gone, g_strdup (uids[i]));
      else if (msg == 0)
        {
          g_task_return_error (task, popcheck_session_nothing_deleted_error (error));
          return;
        }
      else
        g_array_append_val (numbers, msg);
    }

  if (numbers->len == 0)
    {
      pop3_client_quit_async (self->client, cancellable, delete_quit_cb,
                              g_steal_pointer (&task));
      return;
    }

  data->pending = numbers->len;
  for (guint i = 0; i < numbers->len; i++)
    pop3_client_dele_async (self->client, g_array_index (numbers, guint, i),
                            cancellable, delete_dele_cb, g_object_ref (task));
}

gboolean
popcheck_session_delete_finish (PopcheckSession  *self,
                                GAsyncResult     *result,
                                GStrv            *already_gone,
                                GError          **error)
{
  DeleteData *data;

  g_return_val_if_fail (POPCHECK_IS_SESSION (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;

  data = g_task_get_task_data (G_TASK (result));
  if (already_gone != NULL)
    *already_gone = (GStrv) g_ptr_array_steal (data->gone, NULL);

  return TRUE;
}

/* Errors, for people */

/* The engine's one wording for each kind, which the app's own errors
 * share. */
char *
popcheck_session_describe_error (const GError *error)
{
  g_return_val_if_fail (error != NULL, NULL);

  return pop3_error_describe (error);
}
