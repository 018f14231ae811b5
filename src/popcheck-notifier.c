/* popcheck-notifier.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * libnotify sends org.freedesktop.Notifications calls.  What arrives in a
 * notification is mail content, which is never markup: senders and
 * subjects are escaped for servers that interpret the body as markup
 * ("body-markup" capability) and sent as they are to the others.
 *
 * Settings: "notify-new-mail" and "notify-errors" (bound by the application
 * to the keys of the same name) and each account's "notify" and "sound"
 * keys.  While the PopcheckMute says so, nothing is shown: new mail stays
 * in the window and the tray, and a problem waits for the mute's end.
 * Do Not Disturb is the notification server's business: it keeps or hides
 * what is sent, so nothing here asks about it.
 *
 * Each account keeps its NotifyNotification while it is on screen, and the
 * messages announced in it: a later check adds its messages and replaces
 * the notification (same id), so the count is what arrived since the user
 * last looked.  When the server closes it, the next mail starts afresh.
 *
 * Each notification starts with an asynchronous GetCapabilities call: it
 * tells whether a server is there at all (libnotify's own capability query
 * blocks and warns on every call without one) and whether it does actions
 * and body markup.  Only when it answered is libnotify asked to show.
 * libnotify's show and close are synchronous D-Bus calls: they run in a
 * thread of their own (popcheck-notifier-thread.c), so a server that
 * answers GetCapabilities and then hangs holds only that thread, never
 * the main loop.  Its results, and the user's actions, come back here in
 * the main context.
 * Without a notification server nothing is shown; that is said once with
 * g_message, and again only after a notification went out in between.
 */

#define G_LOG_DOMAIN "popcheck-notifier"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "popcheck-account.h"
#include "popcheck-account-list.h"
#include "popcheck-checker.h"
#include "popcheck-mailbox.h"
#include "popcheck-message.h"
#include "popcheck-mute.h"
#include "popcheck-notifier.h"
#include "popcheck-notifier-thread.h"

/* How many senders and subjects the body lists. */
#define MAX_BODY_MESSAGES 3

#define NOTIFICATIONS_NAME "org.freedesktop.Notifications"
#define NOTIFICATIONS_PATH "/org/freedesktop/Notifications"
#define NOTIFICATIONS_INTERFACE "org.freedesktop.Notifications"

/* A server being activated may take a moment; a hung one not forever. */
#define CAPABILITIES_TIMEOUT_MS 10000

/* The notification thread's keys: one notification per account and kind. */
#define MAIL_KEY_PREFIX "new-mail:"
#define PROBLEM_KEY_PREFIX "problem:"
#define SIGN_IN_AGAIN_ACTION "sign-in-again"
#define BACKGROUND_KEY "background"

/* The freedesktop sound theme's name for it. */
#define NEW_MAIL_SOUND "message-new-email"

/* The application's action that opens the desktop's mail program; the
 * notification offers it only while it is enabled (there is one). */
#define OPEN_MAIL_CLIENT_ACTION "open-mail-client"

typedef struct
{
  char               *account_id;
  /* Announced while the notification is open, newest first. */
  GPtrArray          *messages;
  /* Waiting for the server's capabilities: later mail joins that show. */
  gboolean            show_pending;
} Announcement;

typedef struct
{
  PopcheckNotifier   *notifier;
  char               *account_id;
  PopcheckMailbox    *mailbox;
  /* Handed to the notification thread: solved, it is closed. */
  gboolean            shown;
} ProblemNotice;

struct _PopcheckNotifier
{
  GObject          parent_instance;

  GActionGroup    *actions;
  PopcheckChecker *checker;
  GSignalGroup    *checker_signals;

  GHashTable      *announcements;  /* account id → Announcement */
  GHashTable      *problems;       /* account id → ProblemNotice */

  /* libnotify's calls, away from the main loop. */
  PopcheckNotifierThread *thread;

  /* NULL: never muted. */
  PopcheckMute    *mute;

  /* Cancelled at dispose: capability queries in flight. */
  GCancellable    *cancellable;

  guint            notify_new_mail : 1;
  guint            notify_errors : 1;
  guint            server_missing_reported : 1;
};

G_DEFINE_FINAL_TYPE (PopcheckNotifier, popcheck_notifier, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ACTIONS,
  PROP_CHECKER,
  PROP_NOTIFY_NEW_MAIL,
  PROP_NOTIFY_ERRORS,
  PROP_MUTE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
announcement_free (Announcement *announcement)
{
  g_clear_pointer (&announcement->messages, g_ptr_array_unref);
  g_free (announcement->account_id);
  g_free (announcement);
}

static void
problem_notice_free (ProblemNotice *notice)
{
  if (notice->mailbox != NULL)
    g_signal_handlers_disconnect_by_data (notice->mailbox, notice);
  g_clear_object (&notice->mailbox);
  g_free (notice->account_id);
  g_free (notice);
}

/* The notification server */

typedef struct
{
  gboolean available;
  gboolean actions;
  gboolean body_markup;
} ServerCaps;

static void
report_failure (PopcheckNotifier *self,
                const GError     *error)
{
  /* No server, or one that fails: mail checking goes on regardless, and
   * the log gets one line, not one per check. */
  if (!self->server_missing_reported)
    {
      self->server_missing_reported = TRUE;
      g_message ("Could not show a notification: %s", error->message);
    }
  else
    g_debug ("Could not show a notification: %s", error->message);
}

static char *
notification_key (const char *prefix,
                  const char *account_id)
{
  return g_strconcat (prefix, account_id, NULL);
}

/* What to show once the server's capabilities are known (not available:
 * there is no server to show it): the account's announcement or problem as
 * it is then. */
typedef void (*ShowFunc) (PopcheckNotifier *self,
                          const char       *account_id,
                          ServerCaps        caps);

typedef struct
{
  PopcheckNotifier *notifier;
  char             *account_id;
  ShowFunc          show;
} CapsQuery;

static void
caps_query_free (CapsQuery *query)
{
  g_clear_object (&query->notifier);
  g_free (query->account_id);
  g_free (query);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CapsQuery, caps_query_free)

static void
capabilities_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(CapsQuery) query = user_data;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree const char **capabilities = NULL;
  ServerCaps caps = { FALSE, FALSE, FALSE };

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (reply == NULL)
    {
      report_failure (query->notifier, error);
      query->show (query->notifier, query->account_id, caps);
      return;
    }

  g_variant_get (reply, "(^a&s)", &capabilities);
  caps.available = TRUE;
  caps.actions = g_strv_contains (capabilities, "actions");
  caps.body_markup = g_strv_contains (capabilities, "body-markup");

  query->show (query->notifier, query->account_id, caps);
}

static void
session_bus_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(CapsQuery) query = user_data;
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GError) error = NULL;
  GCancellable *cancellable = query->notifier->cancellable;

  bus = g_bus_get_finish (result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (bus == NULL)
    {
      ServerCaps none = { FALSE, FALSE, FALSE };

      report_failure (query->notifier, error);
      query->show (query->notifier, query->account_id, none);
      return;
    }

  /* Replies come in the order of the calls, so a later check's
   * notification never overtakes an earlier one. */
  g_dbus_connection_call (bus, NOTIFICATIONS_NAME, NOTIFICATIONS_PATH,
                          NOTIFICATIONS_INTERFACE, "GetCapabilities",
                          NULL, G_VARIANT_TYPE ("(as)"),
                          G_DBUS_CALL_FLAGS_NONE, CAPABILITIES_TIMEOUT_MS,
                          cancellable, capabilities_cb, g_steal_pointer (&query));
}

/* Asks the server for its capabilities, then calls show. */
static void
show_when_ready (PopcheckNotifier *self,
                 const char       *account_id,
                 ShowFunc          show)
{
  CapsQuery *query = g_new0 (CapsQuery, 1);

  query->notifier = g_object_ref (self);
  query->account_id = g_strdup (account_id);
  query->show = show;
  g_bus_get (G_BUS_TYPE_SESSION, self->cancellable, session_bus_cb, query);
}

static void
activate_app_action (PopcheckNotifier *self,
                     const char       *name,
                     GVariant         *parameter)
{
  g_autoptr(GVariant) owned = parameter != NULL ? g_variant_ref_sink (parameter)
                                                : NULL;

  if (self->actions == NULL || !g_action_group_has_action (self->actions, name))
    {
      g_debug ("No action %s to activate", name);
      return;
    }

  g_action_group_activate_action (self->actions, name, owned);
}

/* Lookups */

/* NULL for an account removed while its check ran. */
static PopcheckAccount *
lookup_account (PopcheckNotifier *self,
                PopcheckMailbox  *mailbox)
{
  PopcheckAccountList *accounts = popcheck_checker_get_accounts (self->checker);

  if (accounts == NULL)
    return NULL;

  return popcheck_account_list_lookup (accounts,
                                       popcheck_mailbox_get_account_id (mailbox));
}

static gboolean
account_wants_mail_notifications (PopcheckNotifier *self,
                                  PopcheckMailbox  *mailbox)
{
  PopcheckAccount *account;

  if (!self->notify_new_mail)
    return FALSE;

  /* An account removed while its check ran says nothing any more. */
  account = lookup_account (self, mailbox);
  return account != NULL && popcheck_account_get_notify (account);
}

/* Its sign-in lives elsewhere (Online Accounts): PopCheck cannot sign it
 * in again itself, only open Settings at it. */
static gboolean
signs_in_elsewhere (PopcheckNotifier *self,
                    PopcheckMailbox  *mailbox)
{
  PopcheckAccount *account = lookup_account (self, mailbox);

  return account != NULL && popcheck_account_is_external (account);
}

static const char *
mailbox_name (PopcheckMailbox *mailbox)
{
  const char *name = popcheck_mailbox_get_display_name (mailbox);

  if (name == NULL || *name == '\0')
    name = popcheck_mailbox_get_account_id (mailbox);
  return name;
}

static gboolean
is_muted (PopcheckNotifier *self)
{
  return self->mute != NULL && popcheck_mute_get_muted (self->mute);
}

static gboolean
can_open_mail_client (PopcheckNotifier *self)
{
  return self->actions != NULL &&
         g_action_group_has_action (self->actions, OPEN_MAIL_CLIENT_ACTION) &&
         g_action_group_get_action_enabled (self->actions, OPEN_MAIL_CLIENT_ACTION);
}

/* New mail */

static const char *
message_sender (PopcheckMessage *message)
{
  const char *sender = popcheck_message_get_from_name (message);

  if (sender == NULL || *sender == '\0')
    sender = popcheck_message_get_from_address (message);
  if (sender == NULL || *sender == '\0')
    sender = popcheck_message_get_from (message);
  if (sender == NULL || *sender == '\0')
    sender = _("Unknown sender");
  return sender;
}

static const char *
message_subject (PopcheckMessage *message)
{
  const char *subject = popcheck_message_get_subject (message);

  /* Listed without headers: the server refused its TOP. */
  if (!popcheck_message_get_headers_known (message))
    subject = _("(headers not available)");
  else if (subject == NULL || *subject == '\0')
    subject = _("(no subject)");
  return subject;
}

static char *
build_body (GPtrArray *messages,
            gboolean   markup)
{
  g_autoptr(GString) body = g_string_new (NULL);
  guint shown = 0;

  for (guint i = 0; i < messages->len && shown < MAX_BODY_MESSAGES; i++)
    {
      PopcheckMessage *message = g_ptr_array_index (messages, i);
      g_autofree char *line = NULL;

      /* Its headers come later, in the background: counted below, as
       * there is nothing to name it by yet. */
      if (popcheck_message_get_headers_pending (message))
        continue;
      shown++;

      if (markup)
        line = g_markup_printf_escaped ("<b>%s</b>: %s",
                                        message_sender (message),
                                        message_subject (message));
      else
        line = g_strdup_printf ("%s: %s", message_sender (message),
                                message_subject (message));

      if (body->len > 0)
        g_string_append_c (body, '\n');
      g_string_append (body, line);
    }

  if (messages->len > shown)
    {
      guint more = messages->len - shown;

      if (body->len > 0)
        g_string_append_c (body, '\n');
      g_string_append_printf (body,
                              g_dngettext (GETTEXT_PACKAGE,
                                           "and %u more",
                                           "and %u more", more),
                              more);
    }

  return g_string_free (g_steal_pointer (&body), FALSE);
}

static int
compare_newest_first (gconstpointer a,
                      gconstpointer b)
{
  PopcheckMessage *message_a = *(PopcheckMessage **) a;
  PopcheckMessage *message_b = *(PopcheckMessage **) b;
  GDateTime *date_a = popcheck_message_get_date (message_a);
  GDateTime *date_b = popcheck_message_get_date (message_b);

  /* Undated messages go last. */
  if (date_a == NULL || date_b == NULL)
    return (date_a == NULL) - (date_b == NULL);

  return g_date_time_compare (date_b, date_a);
}

/* "(sas)": the account and the UIDs its notification announces, for
 * app.mark-seen. */
static GVariant *
announced_uids_variant (Announcement *announcement)
{
  g_auto(GVariantBuilder) uids = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("as"));

  for (guint i = 0; i < announcement->messages->len; i++)
    g_variant_builder_add (&uids, "s",
                           popcheck_message_get_uid (g_ptr_array_index (announcement->messages, i)));

  return g_variant_new ("(sas)", announcement->account_id, &uids);
}

/* Seen in the window meanwhile (or marked so): no longer news. */
static void
forget_seen (Announcement    *announcement,
             PopcheckMailbox *mailbox)
{
  for (guint i = announcement->messages->len; i > 0; i--)
    {
      PopcheckMessage *message = g_ptr_array_index (announcement->messages, i - 1);
      PopcheckMessage *listed = popcheck_mailbox_lookup (mailbox,
                                                         popcheck_message_get_uid (message));

      if (listed != NULL && !popcheck_message_get_is_new (listed))
        g_ptr_array_remove_index (announcement->messages, i - 1);
    }
}

/* An action on the account's new-mail notification. */
static void
announcement_action (PopcheckNotifier *self,
                     const char       *account_id,
                     const char       *action)
{
  Announcement *announcement = g_hash_table_lookup (self->announcements, account_id);
  const char *uid = "";

  if (g_str_equal (action, "mark-seen"))
    {
      g_autofree char *key = notification_key (MAIL_KEY_PREFIX, account_id);

      if (announcement != NULL)
        activate_app_action (self, "mark-seen",
                             announced_uids_variant (announcement));
      /* Closed: the next mail starts a new count, as when the server
       * closes it. */
      popcheck_notifier_thread_close (self->thread, key);
      g_hash_table_remove (self->announcements, account_id);
      return;
    }

  if (g_str_equal (action, OPEN_MAIL_CLIENT_ACTION))
    {
      activate_app_action (self, OPEN_MAIL_CLIENT_ACTION, NULL);
      return;
    }

  /* "default" and "open": the window, the newest message selected. */
  if (announcement != NULL && announcement->messages->len > 0)
    uid = popcheck_message_get_uid (g_ptr_array_index (announcement->messages, 0));

  activate_app_action (self, "show-message",
                       g_variant_new ("(ss)", account_id, uid));
}

static void show_announcement (PopcheckNotifier *self,
                               const char       *account_id,
                               ServerCaps        caps);

static void
new_messages_cb (PopcheckNotifier *self,
                 PopcheckMailbox  *mailbox,
                 GPtrArray        *messages,
                 PopcheckChecker  *checker)
{
  const char *account_id = popcheck_mailbox_get_account_id (mailbox);
  g_autoptr(GPtrArray) batch = NULL;
  Announcement *announcement;

  /* Muted: not even kept for later, as an hour's mail announced at once
   * would be the noise the user asked to be spared. */
  if (messages == NULL || messages->len == 0 ||
      !account_wants_mail_notifications (self, mailbox) ||
      is_muted (self))
    return;

  announcement = g_hash_table_lookup (self->announcements, account_id);
  if (announcement == NULL)
    {
      announcement = g_new0 (Announcement, 1);
      announcement->account_id = g_strdup (account_id);
      announcement->messages = g_ptr_array_new_with_free_func (g_object_unref);
      g_hash_table_insert (self->announcements, announcement->account_id,
                           announcement);
    }
  else
    forget_seen (announcement, mailbox);

  batch = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < messages->len; i++)
    g_ptr_array_add (batch, g_object_ref (g_ptr_array_index (messages, i)));
  g_ptr_array_sort (batch, compare_newest_first);
  for (guint i = 0; i < batch->len; i++)
    g_ptr_array_insert (announcement->messages, i,
                        g_object_ref (g_ptr_array_index (batch, i)));

  if (!announcement->show_pending)
    {
      announcement->show_pending = TRUE;
      show_when_ready (self, account_id, show_announcement);
    }
}

static void
show_announcement (PopcheckNotifier *self,
                   const char       *account_id,
                   ServerCaps        caps)
{
  Announcement *announcement = g_hash_table_lookup (self->announcements, account_id);
  PopcheckMailbox *mailbox = popcheck_checker_get_mailbox (self->checker, account_id);
  PopcheckAccountList *accounts = popcheck_checker_get_accounts (self->checker);
  PopcheckAccount *account = NULL;
  g_autofree char *summary = NULL;
  g_autofree char *body = NULL;

  if (announcement == NULL)
    return;
  announcement->show_pending = FALSE;

  /* Muted while the server was asked. */
  if (is_muted (self))
    {
      g_hash_table_remove (self->announcements, account_id);
      return;
    }

  /* The account was removed meanwhile, or there is no server: the
   * messages wait for the next mail, which announces them all. */
  if (mailbox == NULL || !caps.available)
    return;

  /* Translators: the notification title; %s is the account's name */
  summary = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                          "%u new message — %s",
                                          "%u new messages — %s",
                                          announcement->messages->len),
                             announcement->messages->len,
                             mailbox_name (mailbox));
  body = build_body (announcement->messages, caps.body_markup);

  if (accounts != NULL)
    account = popcheck_account_list_lookup (accounts, account_id);

  {
    const char *actions[] = { "default", _("Open"), "open", _("Open"),
                              "mark-seen", _("Mark as Seen"),
                              NULL, NULL, NULL };
    g_autofree char *key = notification_key (MAIL_KEY_PREFIX, account_id);

    /* Only when the desktop has a mail program: no action that fails. */
    if (can_open_mail_client (self))
      {
        actions[6] = OPEN_MAIL_CLIENT_ACTION;
        actions[7] = _("Open Mail Client");
      }

    popcheck_notifier_thread_show (self->thread, key, summary, body,
                                   "email.arrived",
                                   account != NULL && popcheck_account_get_sound (account) ?
                                     NEW_MAIL_SOUND : NULL,
                                   caps.actions ? actions : NULL);
  }
}

/* Problems */

static void
problem_state_cb (PopcheckMailbox *mailbox,
                  GParamSpec      *pspec,
                  ProblemNotice   *notice)
{
  if (popcheck_mailbox_get_state (mailbox) == POPCHECK_MAILBOX_STATE_ERROR ||
      popcheck_mailbox_get_state (mailbox) == POPCHECK_MAILBOX_STATE_CHECKING)
    return;

  /* Solved: the notice is stale, and the next problem deserves one. */
  if (notice->shown)
    {
      g_autofree char *key = notification_key (PROBLEM_KEY_PREFIX,
                                               notice->account_id);

      popcheck_notifier_thread_close (notice->notifier->thread, key);
    }

  g_hash_table_remove (notice->notifier->problems, notice->account_id);
}

static void show_problem (PopcheckNotifier *self,
                          const char       *account_id,
                          ServerCaps        caps);

static void
problem_cb (PopcheckNotifier *self,
            PopcheckMailbox  *mailbox,
            PopcheckChecker  *checker)
{
  const char *account_id = popcheck_mailbox_get_account_id (mailbox);
  ProblemNotice *notice;

  if (!self->notify_errors)
    return;

  /* Once per problem: retries and repeated reports say nothing new. */
  if (g_hash_table_contains (self->problems, account_id))
    return;

  notice = g_new0 (ProblemNotice, 1);
  notice->notifier = self;
  notice->account_id = g_strdup (account_id);
  notice->mailbox = g_object_ref (mailbox);
  g_hash_table_insert (self->problems, notice->account_id, notice);
  g_signal_connect (mailbox, "notify::state", G_CALLBACK (problem_state_cb),
                    notice);

  /* Muted: told when the mute ends, if still unsolved (see muted_cb). */
  if (!is_muted (self))
    show_when_ready (self, account_id, show_problem);
}

static void
show_problem (PopcheckNotifier *self,
              const char       *account_id,
              ServerCaps        caps)
{
  ProblemNotice *notice = g_hash_table_lookup (self->problems, account_id);
  const char *message;
  gboolean sign_in;
  g_autofree char *summary = NULL;
  g_autofree char *body = NULL;

  /* Solved before the server answered, or no server: nothing to show.
   * Muted meanwhile: the end of the mute shows it. */
  if (notice == NULL || notice->shown || !caps.available || is_muted (self))
    return;

  message = popcheck_mailbox_get_error_message (notice->mailbox);
  sign_in = popcheck_mailbox_get_problem (notice->mailbox) == POPCHECK_PROBLEM_SIGN_IN;

  if (sign_in)
    /* Translators: a notification title; %s is the account's name */
    summary = g_strdup_printf (_("Sign in to %s again"),
                               mailbox_name (notice->mailbox));
  else
    /* Translators: a notification title; %s is the account's name */
    summary = g_strdup_printf (_("PopCheck cannot check %s"),
                               mailbox_name (notice->mailbox));
  if (message == NULL || *message == '\0')
    message = _("The account needs your attention.");
  body = caps.body_markup ? g_markup_escape_text (message, -1)
                          : g_strdup (message);

  {
    const char *actions[] = { "default", _("Show"), "show", _("Show"), NULL };
    /* What fixes it, from the notification itself. */
    const char *sign_in_actions[] = { "default", _("Show"),
                                      SIGN_IN_AGAIN_ACTION,
                                      signs_in_elsewhere (self, notice->mailbox)
                                        ? _("Open Settings") : _("Sign In Again"),
                                      NULL };
    g_autofree char *key = notification_key (PROBLEM_KEY_PREFIX, account_id);

    notice->shown = TRUE;
    popcheck_notifier_thread_show (self->thread, key, summary, body, "email",
                                   NULL,
                                   !caps.actions ? NULL
                                   : sign_in ? sign_in_actions : actions);
  }
}

/* The mute */

/* Problems that came while muted and are still there get their notice
 * now: they wait for the user, unlike mail, which the window lists. */
static void
muted_cb (PopcheckNotifier *self)
{
  GHashTableIter iter;
  ProblemNotice *notice;

  if (is_muted (self))
    return;

  g_hash_table_iter_init (&iter, self->problems);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &notice))
    {
      if (!notice->shown)
        show_when_ready (self, notice->account_id, show_problem);
    }
}

/* Running in the background with no tray */

static void
show_background_hint (PopcheckNotifier *self,
                      const char       *account_id,
                      ServerCaps        caps)
{
  const char *actions[] = { "default", _("Open PopCheck"), NULL };

  if (!caps.available)
    return;

  popcheck_notifier_thread_show (self->thread, BACKGROUND_KEY,
                                 _("PopCheck Is Still Running"),
                                 _("It keeps checking your mail. To open it again, "
                                   "choose PopCheck in the application menu, or click "
                                   "a new-mail notification."),
                                 NULL, NULL, caps.actions ? actions : NULL);
}

/* Removed accounts */

/* Whether the account is gone; its notification is then forgotten. */
static gboolean
account_is_gone (PopcheckNotifier *self,
                 const char       *prefix,
                 const char       *account_id)
{
  g_autofree char *key = NULL;

  if (popcheck_checker_get_mailbox (self->checker, account_id) != NULL)
    return FALSE;

  key = notification_key (prefix, account_id);
  popcheck_notifier_thread_forget (self->thread, key);
  return TRUE;
}

static gboolean
announcement_is_gone (gpointer key,
                      gpointer value,
                      gpointer user_data)
{
  return account_is_gone (user_data, MAIL_KEY_PREFIX, key);
}

static gboolean
problem_is_gone (gpointer key,
                 gpointer value,
                 gpointer user_data)
{
  return account_is_gone (user_data, PROBLEM_KEY_PREFIX, key);
}

/* A removed account's notices go with it: one added again under the same
 * name would otherwise find its problem already announced. */
static void
mailboxes_changed_cb (GListModel       *mailboxes,
                      guint             position,
                      guint             removed,
                      guint             added,
                      PopcheckNotifier *self)
{
  if (removed == 0)
    return;

  g_hash_table_foreach_remove (self->announcements, announcement_is_gone, self);
  g_hash_table_foreach_remove (self->problems, problem_is_gone, self);
}

/* What the notification thread reports, in the main context */

static void
thread_shown_cb (gpointer      user_data,
                 const char   *key,
                 const GError *error)
{
  PopcheckNotifier *self = user_data;

  if (error == NULL)
    self->server_missing_reported = FALSE;
  else
    report_failure (self, error);
}

static void
thread_action_cb (gpointer    user_data,
                  const char *key,
                  const char *action)
{
  PopcheckNotifier *self = user_data;

  if (g_str_has_prefix (key, MAIL_KEY_PREFIX))
    announcement_action (self, key + strlen (MAIL_KEY_PREFIX), action);
  else if (g_str_equal (key, BACKGROUND_KEY))
    activate_app_action (self, "show-window", NULL);
  else if (g_str_has_prefix (key, PROBLEM_KEY_PREFIX) &&
           g_str_equal (action, SIGN_IN_AGAIN_ACTION))
    activate_app_action (self, "sign-in-again",
                         g_variant_new_string (key + strlen (PROBLEM_KEY_PREFIX)));
  else if (g_str_has_prefix (key, PROBLEM_KEY_PREFIX))
    /* "default" and "show": the account, to see what is wrong. */
    activate_app_action (self, "show-message",
                         g_variant_new ("(ss)", key + strlen (PROBLEM_KEY_PREFIX),
                                        ""));
}

static void
thread_closed_cb (gpointer    user_data,
                  const char *key)
{
  PopcheckNotifier *self = user_data;

  /* A new-mail notification gone from the screen: the next mail starts a
   * new count.  A problem stays announced until it is solved. */
  if (g_str_has_prefix (key, MAIL_KEY_PREFIX))
    g_hash_table_remove (self->announcements, key + strlen (MAIL_KEY_PREFIX));
}

static const PopcheckNotifierThreadCallbacks thread_callbacks = {
  thread_shown_cb,
  thread_action_cb,
  thread_closed_cb,
};

/* GObject */

static void
popcheck_notifier_constructed (GObject *object)
{
  PopcheckNotifier *self = POPCHECK_NOTIFIER (object);

  G_OBJECT_CLASS (popcheck_notifier_parent_class)->constructed (object);

  /* Its callbacks come in this, the caller's, main context. */
  self->thread = popcheck_notifier_thread_new (_("PopCheck"), &thread_callbacks,
                                               self);

  g_signal_group_set_target (self->checker_signals, self->checker);
  g_signal_connect_object (popcheck_checker_get_mailboxes (self->checker),
                           "items-changed", G_CALLBACK (mailboxes_changed_cb),
                           self, 0);
}

static void
popcheck_notifier_dispose (GObject *object)
{
  PopcheckNotifier *self = POPCHECK_NOTIFIER (object);

  g_cancellable_cancel (self->cancellable);
  /* Waits a moment at most for a call in progress. */
  g_clear_pointer (&self->thread, popcheck_notifier_thread_stop);
  g_signal_group_set_target (self->checker_signals, NULL);
  g_hash_table_remove_all (self->announcements);
  g_hash_table_remove_all (self->problems);
  if (self->checker != NULL)
    g_signal_handlers_disconnect_by_func (popcheck_checker_get_mailboxes (self->checker),
                                          mailboxes_changed_cb, self);
  g_clear_object (&self->checker);
  g_clear_object (&self->actions);
  if (self->mute != NULL)
    g_signal_handlers_disconnect_by_func (self->mute, muted_cb, self);
  g_clear_object (&self->mute);

  G_OBJECT_CLASS (popcheck_notifier_parent_class)->dispose (object);
}

static void
popcheck_notifier_finalize (GObject *object)
{
  PopcheckNotifier *self = POPCHECK_NOTIFIER (object);

  g_clear_object (&self->checker_signals);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->announcements, g_hash_table_unref);
  g_clear_pointer (&self->problems, g_hash_table_unref);

  G_OBJECT_CLASS (popcheck_notifier_parent_class)->finalize (object);
}

static void
popcheck_notifier_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  PopcheckNotifier *self = POPCHECK_NOTIFIER (object);

  switch (prop_id)
    {
    case PROP_ACTIONS:
      g_value_set_object (value, self->actions);
      break;

    case PROP_CHECKER:
      g_value_set_object (value, self->checker);
      break;

    case PROP_NOTIFY_NEW_MAIL:
      g_value_set_boolean (value, self->notify_new_mail);
      break;

    case PROP_NOTIFY_ERRORS:
      g_value_set_boolean (value, self->notify_errors);
      break;

    case PROP_MUTE:
      g_value_set_object (value, self->mute);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
popcheck_notifier_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  PopcheckNotifier *self = POPCHECK_NOTIFIER (object);

  switch (prop_id)
    {
    case PROP_ACTIONS:
      self->actions = g_value_dup_object (value);
      break;

    case PROP_CHECKER:
      self->checker = g_value_dup_object (value);
      break;

    case PROP_NOTIFY_NEW_MAIL:
      popcheck_notifier_set_notify_new_mail (self, g_value_get_boolean (value));
      break;

    case PROP_NOTIFY_ERRORS:
      popcheck_notifier_set_notify_errors (self, g_value_get_boolean (value));
      break;

    case PROP_MUTE:
      popcheck_notifier_set_mute (self, g_value_get_object (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
popcheck_notifier_class_init (PopcheckNotifierClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = popcheck_notifier_constructed;
  object_class->dispose = popcheck_notifier_dispose;
  object_class->finalize = popcheck_notifier_finalize;
  object_class->get_property = popcheck_notifier_get_property;
  object_class->set_property = popcheck_notifier_set_property;

  properties[PROP_ACTIONS] =
    g_param_spec_object ("actions", NULL, NULL,
                         G_TYPE_ACTION_GROUP,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_STATIC_STRINGS));

  properties[PROP_CHECKER] =
    g_param_spec_object ("checker", NULL, NULL,
                         POPCHECK_TYPE_CHECKER,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_STATIC_STRINGS));

  properties[PROP_NOTIFY_NEW_MAIL] =
    g_param_spec_boolean ("notify-new-mail", NULL, NULL,
                          TRUE,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY |
                           G_PARAM_STATIC_STRINGS));

  properties[PROP_NOTIFY_ERRORS] =
    g_param_spec_boolean ("notify-errors", NULL, NULL,
                          TRUE,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY |
                           G_PARAM_STATIC_STRINGS));

  properties[PROP_MUTE] =
    g_param_spec_object ("mute", NULL, NULL,
                         POPCHECK_TYPE_MUTE,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
popcheck_notifier_init (PopcheckNotifier *self)
{
  self->notify_new_mail = TRUE;
  self->notify_errors = TRUE;
  self->cancellable = g_cancellable_new ();
  self->announcements = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                               (GDestroyNotify) announcement_free);
  self->problems = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                          (GDestroyNotify) problem_notice_free);

  self->checker_signals = g_signal_group_new (POPCHECK_TYPE_CHECKER);
  g_signal_group_connect_object (self->checker_signals, "new-messages",
                                 G_CALLBACK (new_messages_cb), self,
                                 G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->checker_signals, "problem",
                                 G_CALLBACK (problem_cb), self,
                                 G_CONNECT_SWAPPED);
  /* "first-check" is deliberately not connected: what is on the server
   * when an account is first checked is not news. */
}

PopcheckNotifier *
popcheck_notifier_new (GActionGroup    *actions,
                       PopcheckChecker *checker)
{
  g_return_val_if_fail (actions == NULL || G_IS_ACTION_GROUP (actions), NULL);
  g_return_val_if_fail (POPCHECK_IS_CHECKER (checker), NULL);

  return g_object_new (POPCHECK_TYPE_NOTIFIER,
                       "actions", actions,
                       "checker", checker,
                       NULL);
}

gboolean
popcheck_notifier_get_notify_new_mail (PopcheckNotifier *self)
{
  g_return_val_if_fail (POPCHECK_IS_NOTIFIER (self), FALSE);

  return self->notify_new_mail;
}

void
popcheck_notifier_set_notify_new_mail (PopcheckNotifier *self,
                                       gboolean          notify_new_mail)
{
  g_return_if_fail (POPCHECK_IS_NOTIFIER (self));

  notify_new_mail = !!notify_new_mail;
  if (self->notify_new_mail == notify_new_mail)
    return;

  self->notify_new_mail = notify_new_mail;
  g_object_notify_by_pspec (G_OBJECT (self),
                            properties[PROP_NOTIFY_NEW_MAIL]);
}

gboolean
popcheck_notifier_get_notify_errors (PopcheckNotifier *self)
{
  g_return_val_if_fail (POPCHECK_IS_NOTIFIER (self), FALSE);

  return self->notify_errors;
}

void
popcheck_notifier_set_notify_errors (PopcheckNotifier *self,
                                     gboolean          notify_errors)
{
  g_return_if_fail (POPCHECK_IS_NOTIFIER (self));

  notify_errors = !!notify_errors;
  if (self->notify_errors == notify_errors)
    return;

  self->notify_errors = notify_errors;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NOTIFY_ERRORS]);
}

PopcheckMute *
popcheck_notifier_get_mute (PopcheckNotifier *self)
{
  g_return_val_if_fail (POPCHECK_IS_NOTIFIER (self), NULL);

  return self->mute;
}

void
popcheck_notifier_set_mute (PopcheckNotifier *self,
                            PopcheckMute     *mute)
{
  g_return_if_fail (POPCHECK_IS_NOTIFIER (self));
  g_return_if_fail (mute == NULL || POPCHECK_IS_MUTE (mute));

  if (self->mute == mute)
    return;

  if (self->mute != NULL)
    g_signal_handlers_disconnect_by_func (self->mute, muted_cb, self);
  g_set_object (&self->mute, mute);
  if (self->mute != NULL)
    g_signal_connect_object (self->mute, "notify::muted",
                             G_CALLBACK (muted_cb), self, G_CONNECT_SWAPPED);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MUTE]);
}

void
popcheck_notifier_show_background_hint (PopcheckNotifier *self)
{
  g_return_if_fail (POPCHECK_IS_NOTIFIER (self));

  show_when_ready (self, "", show_background_hint);
}
