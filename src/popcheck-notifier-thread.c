/* popcheck-notifier-thread.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One thread of our own, with its own GMainContext, does everything that
 * touches libnotify, not just show and close:
 *
 * - NotifyNotification is not thread-safe: show writes the id the server
 *   gave, the signal handler reads it and the action table; updating a
 *   notification while another thread shows it would race.
 * - libnotify's proxy delivers the server's signals (ActionInvoked,
 *   NotificationClosed) to the thread-default context of the thread that
 *   created it (GDBusProxy subscribes in its caller's context), and even
 *   disposing a notification may create that proxy, synchronously
 *   (libnotify 0.8, notification.c and notify.c).
 *
 * So the proxy is created here, by the first call, with this thread's
 * context as its thread-default: libnotify's callbacks run here, and are
 * passed on to the main context as events.  The thread initialises
 * libnotify when it starts and uninitialises it when it ends, so a later
 * thread (another notifier) gets a proxy of its own rather than one bound
 * to a context nobody runs any more.
 *
 * Calls are sources on this thread's context, dispatched in the order they
 * were attached: one at a time, in order.  A call the server never answers
 * holds the calls behind it until libnotify's D-Bus timeout (25 s), and
 * only them.
 */

#define G_LOG_DOMAIN "popcheck-notifier"

#include "config.h"

#include <libnotify/notify.h>

#include "popcheck-notifier-thread.h"

/* Stopping waits this long for a call in progress to end, then leaves the
 * thread to finish on its own: quitting must not wait for a server that
 * does not answer. */
#define STOP_TIMEOUT_MS 1000

struct _PopcheckNotifierThread
{
  /* Set at creation, read-only after. */
  GMainContext                          *main_context;
  GMainContext                          *context;
  GMainLoop                             *loop;
  char                                  *app_name;
  const PopcheckNotifierThreadCallbacks *callbacks;
  gpointer                               user_data;

  /* The main context only. */
  GThread                               *thread;
  gboolean                               stopped;

  /* Both threads. */
  int                                    stopping;  /* atomic */
  GMutex                                 mutex;
  GCond                                  cond;
  gboolean                               finished;  /* under mutex */

  /* The thread only: key → NotifyNotification. */
  GHashTable                            *notifications;
};

static void
notifier_thread_clear (PopcheckNotifierThread *self)
{
  g_clear_pointer (&self->notifications, g_hash_table_unref);
  g_clear_pointer (&self->loop, g_main_loop_unref);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_pointer (&self->main_context, g_main_context_unref);
  g_clear_pointer (&self->app_name, g_free);
  g_mutex_clear (&self->mutex);
  g_cond_clear (&self->cond);
}

static PopcheckNotifierThread *
notifier_thread_ref (PopcheckNotifierThread *self)
{
  return g_atomic_rc_box_acquire (self);
}

static void
notifier_thread_unref (PopcheckNotifierThread *self)
{
  g_atomic_rc_box_release_full (self, (GDestroyNotify) notifier_thread_clear);
}

/* Events, from the thread to the main context */

typedef enum
{
  EVENT_SHOWN,
  EVENT_ACTION,
  EVENT_CLOSED,
} EventKind;

typedef struct
{
  PopcheckNotifierThread *thread;
  EventKind               kind;
  char                   *key;
  char                   *action;
  GError                 *error;
} Event;

static void
event_free (Event *event)
{
  notifier_thread_unref (event->thread);
  g_free (event->key);
  g_free (event->action);
  g_clear_error (&event->error);
  g_free (event);
}

static gboolean
deliver_event (gpointer data)
{
  Event *event = data;
  PopcheckNotifierThread *self = event->thread;

  /* Stopped: whoever wanted to hear is gone. */
  if (self->stopped)
    return G_SOURCE_REMOVE;

  switch (event->kind)
    {
    case EVENT_SHOWN:
      self->callbacks->shown (self->user_data, event->key, event->error);
      break;

    case EVENT_ACTION:
      self->callbacks->action (self->user_data, event->key, event->action);
      break;

    case EVENT_CLOSED:
      self->callbacks->closed (self->user_data, event->key);
      break;

    default:
      g_assert_not_reached ();
    }

  return G_SOURCE_REMOVE;
}

static void
post_event (PopcheckNotifierThread *self,
            EventKind               kind,
            const char             *key,
            const char             *action,
            const GError           *error)
{
  Event *event = g_new0 (Event, 1);

  event->thread = notifier_thread_ref (self);
  event->kind = kind;
  event->key = g_strdup (key);
  event->action = g_strdup (action);
  event->error = error != NULL ? g_error_copy (error) : NULL;
  g_main_context_invoke_full (self->main_context, G_PRIORITY_DEFAULT,
                              deliver_event, event,
                              (GDestroyNotify) event_free);
}

/* libnotify's callbacks, in the thread */

/* The key a notification is shown under; NULL once it was dropped. */
static const char *
notification_key (PopcheckNotifierThread *self,
                  NotifyNotification     *notification)
{
  GHashTableIter iter;
  gpointer key;
  gpointer value;

  g_hash_table_iter_init (&iter, self->notifications);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      if (value == notification)
        return key;
    }

  return NULL;
}

static void
action_cb (NotifyNotification *notification,
           char               *action,
           gpointer            user_data)
{
  PopcheckNotifierThread *self = user_data;
  const char *key = notification_key (self, notification);

  if (key != NULL)
    post_event (self, EVENT_ACTION, key, action, NULL);
}

static void
closed_cb (NotifyNotification     *notification,
           PopcheckNotifierThread *self)
{
  g_autofree char *key = g_strdup (notification_key (self, notification));

  if (key == NULL)
    return;

  /* Gone from the screen: the next show for the key starts a new one.
   * libnotify holds the notification until this emission ends. */
  g_hash_table_remove (self->notifications, key);
  post_event (self, EVENT_CLOSED, key, NULL, NULL);
}

/* Calls, from the main context to the thread */

typedef enum
{
  CALL_SHOW,
  CALL_CLOSE,
  CALL_FORGET,
  CALL_QUIT,
} CallKind;

typedef struct
{
  PopcheckNotifierThread  *thread;
  CallKind                 kind;
  char                    *key;
  char                    *summary;
  char                    *body;
  char                    *category;
  char                    *sound_name;
  char                   **actions;
} Call;

static void
call_free (Call *call)
{
  notifier_thread_unref (call->thread);
  g_free (call->key);
  g_free (call->summary);
  g_free (call->body);
  g_free (call->category);
  g_free (call->sound_name);
  g_strfreev (call->actions);
  g_free (call);
}

static void
run_show (PopcheckNotifierThread *self,
          Call                   *call)
{
  NotifyNotification *notification = g_hash_table_lookup (self->notifications,
                                                          call->key);
  g_autoptr(GError) error = NULL;

  if (notification == NULL)
    {
      notification = notify_notification_new (call->summary, call->body,
                                              APPLICATION_ID);
      notify_notification_set_hint_string (notification, "desktop-entry",
                                           APPLICATION_ID);
      g_signal_connect (notification, "closed", G_CALLBACK (closed_cb), self);
      g_hash_table_insert (self->notifications, g_strdup (call->key),
                           notification);
    }
  else
    notify_notification_update (notification, call->summary, call->body,
                                APPLICATION_ID);

  if (call->category != NULL)
    notify_notification_set_category (notification, call->category);
  else
    notify_notification_set_hint (notification, "category", NULL);
  /* A replaced notification keeps the hints it had: a silent update of a
   * sounding one must drop the sound. */
  if (call->sound_name != NULL)
    notify_notification_set_hint_string (notification, "sound-name",
                                         call->sound_name);
  else
    notify_notification_set_hint (notification, "sound-name", NULL);
  notify_notification_clear_actions (notification);
  for (guint i = 0; call->actions[i] != NULL && call->actions[i + 1] != NULL; i += 2)
    notify_notification_add_action (notification, call->actions[i],
                                    call->actions[i + 1], action_cb, self,
                                    NULL);

  notify_notification_show (notification, &error);
  post_event (self, EVENT_SHOWN, call->key, NULL, error);
}

static void
run_close (PopcheckNotifierThread *self,
           Call                   *call)
{
  /* libnotify 0.8 has no autoptr for its type. */
  g_autoptr(GObject) owned = NULL;
  g_autofree char *key = NULL;
  g_autoptr(GError) error = NULL;

  /* Dropped first: whatever it says from now on is no news. */
  if (!g_hash_table_steal_extended (self->notifications, call->key,
                                    (gpointer *) &key, (gpointer *) &owned))
    return;

  if (!notify_notification_close (NOTIFY_NOTIFICATION (owned), &error))
    g_debug ("Could not close a notification: %s", error->message);
}

static gboolean
run_call (gpointer data)
{
  Call *call = data;
  PopcheckNotifierThread *self = call->thread;

  if (call->kind == CALL_QUIT)
    {
      g_main_loop_quit (self->loop);
      return G_SOURCE_REMOVE;
    }

  /* Stopping: calls not started yet are not made. */
  if (g_atomic_int_get (&self->stopping))
    return G_SOURCE_REMOVE;

  switch (call->kind)
    {
    case CALL_SHOW:
      run_show (self, call);
      break;

    case CALL_CLOSE:
      run_close (self, call);
      break;

    case CALL_FORGET:
      g_hash_table_remove (self->notifications, call->key);
      break;

    case CALL_QUIT:
    default:
      g_assert_not_reached ();
    }

  return G_SOURCE_REMOVE;
}

static void
submit (PopcheckNotifierThread *self,
        Call                   *call)
{
  call->thread = notifier_thread_ref (self);
  g_main_context_invoke_full (self->context, G_PRIORITY_DEFAULT, run_call,
                              call, (GDestroyNotify) call_free);
}

static gpointer
thread_main (gpointer data)
{
  PopcheckNotifierThread *self = data;

  g_main_context_push_thread_default (self->context);

  /* notify_init only records the name: it needs no server. */
  if (!notify_is_initted ())
    notify_init (self->app_name);

  g_main_loop_run (self->loop);

  /* The notifications and libnotify's proxy go with the thread that made
   * them (see the top of the file). */
  g_hash_table_remove_all (self->notifications);
  notify_uninit ();
  /* GDBus frees a dropped proxy's signal subscriptions in idles on the
   * context that made them: this one, which nothing runs after us. */
  while (g_main_context_iteration (self->context, FALSE))
    ;

  g_main_context_pop_thread_default (self->context);

  g_mutex_lock (&self->mutex);
  self->finished = TRUE;
  g_cond_signal (&self->cond);
  g_mutex_unlock (&self->mutex);

  notifier_thread_unref (self);
  return NULL;
}

PopcheckNotifierThread *
popcheck_notifier_thread_new (const char                            *app_name,
                              const PopcheckNotifierThreadCallbacks *callbacks,
                              gpointer                               user_data)
{
  PopcheckNotifierThread *self;

  g_return_val_if_fail (app_name != NULL, NULL);
  g_return_val_if_fail (callbacks != NULL, NULL);

  self = g_atomic_rc_box_new0 (PopcheckNotifierThread);
  self->main_context = g_main_context_ref_thread_default ();
  self->context = g_main_context_new ();
  self->loop = g_main_loop_new (self->context, FALSE);
  self->app_name = g_strdup (app_name);
  self->callbacks = callbacks;
  self->user_data = user_data;
  g_mutex_init (&self->mutex);
  g_cond_init (&self->cond);
  self->notifications = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                               g_object_unref);
  self->thread = g_thread_new ("popcheck-notify", thread_main,
                               notifier_thread_ref (self));

  return self;
}

void
popcheck_notifier_thread_show (PopcheckNotifierThread *self,
                               const char             *key,
                               const char             *summary,
                               const char             *body,
                               const char             *category,
                               const char             *sound_name,
                               const char * const     *actions)
{
  Call *call;

  g_return_if_fail (self != NULL && !self->stopped);
  g_return_if_fail (key != NULL && summary != NULL);

  call = g_new0 (Call, 1);
  call->kind = CALL_SHOW;
  call->key = g_strdup (key);
  call->summary = g_strdup (summary);
  call->body = g_strdup (body);
  call->category = g_strdup (category);
  call->sound_name = g_strdup (sound_name);
  call->actions = g_strdupv ((char **) actions);
  if (call->actions == NULL)
    call->actions = g_new0 (char *, 1);
  submit (self, call);
}

static void
submit_for_key (PopcheckNotifierThread *self,
                CallKind                kind,
                const char             *key)
{
  Call *call = g_new0 (Call, 1);

  call->kind = kind;
  call->key = g_strdup (key);
  submit (self, call);
}

void
popcheck_notifier_thread_close (PopcheckNotifierThread *self,
                                const char             *key)
{
  g_return_if_fail (self != NULL && !self->stopped);
  g_return_if_fail (key != NULL);

  submit_for_key (self, CALL_CLOSE, key);
}

void
popcheck_notifier_thread_forget (PopcheckNotifierThread *self,
                                 const char             *key)
{
  g_return_if_fail (self != NULL && !self->stopped);
  g_return_if_fail (key != NULL);

  submit_for_key (self, CALL_FORGET, key);
}

void
popcheck_notifier_thread_stop (PopcheckNotifierThread *self)
{
  gint64 deadline;
  gboolean finished;

  g_return_if_fail (self != NULL && !self->stopped);

  self->stopped = TRUE;
  g_atomic_int_set (&self->stopping, TRUE);
  submit_for_key (self, CALL_QUIT, "");

  /* Bounded: a call in progress to a server that does not answer ends
   * only at libnotify's timeout, and quitting does not wait for that. */
  deadline = g_get_monotonic_time () + STOP_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;
  g_mutex_lock (&self->mutex);
  while (!self->finished)
    {
      if (!g_cond_wait_until (&self->cond, &self->mutex, deadline))
        break;
    }
  finished = self->finished;
  g_mutex_unlock (&self->mutex);

  if (finished)
    g_thread_join (self->thread);
  else
    {
      g_debug ("The notification server is still busy with a call; "
               "not waiting for it");
      g_thread_unref (self->thread);
    }
  self->thread = NULL;

  notifier_thread_unref (self);
}
