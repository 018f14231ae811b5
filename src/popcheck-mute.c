/* popcheck-mute.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * "muted" follows "muted-until" and the clock: a timer ends it when the
 * time comes.  GLib's timers run on the monotonic clock, which stands still
 * while the computer sleeps, so the application also refreshes on resume.
 */

#define G_LOG_DOMAIN "popcheck-mute"

#include "config.h"

#include "popcheck-mute.h"

struct _PopcheckMute
{
  GObject            parent_instance;

  gint64             muted_until;
  PopcheckMuteClock  clock;
  gpointer           clock_data;
  guint              timeout_id;
  gboolean           muted;
};

G_DEFINE_FINAL_TYPE (PopcheckMute, popcheck_mute, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_MUTED_UNTIL,
  PROP_MUTED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static gint64
now (PopcheckMute *self)
{
  if (self->clock != NULL)
    return self->clock (self->clock_data);

  return g_get_real_time () / G_USEC_PER_SEC;
}

static gboolean
mute_ended_cb (gpointer user_data)
{
  PopcheckMute *self = user_data;

  self->timeout_id = 0;
  popcheck_mute_refresh (self);
  return G_SOURCE_REMOVE;
}

void
popcheck_mute_refresh (PopcheckMute *self)
{
  gint64 remaining;
  gboolean muted;

  g_return_if_fail (POPCHECK_IS_MUTE (self));

  g_clear_handle_id (&self->timeout_id, g_source_remove);
  remaining = self->muted_until - now (self);
  muted = remaining > 0;

  /* A second late rather than early: at the end the clock has passed. */
  if (muted)
    self->timeout_id = g_timeout_add_seconds ((guint) MIN (remaining + 1, G_MAXUINT),
                                              mute_ended_cb, self);

  if (muted != self->muted)
    {
      self->muted = muted;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MUTED]);
    }
}

static void
popcheck_mute_dispose (GObject *object)
{
  PopcheckMute *self = POPCHECK_MUTE (object);

  g_clear_handle_id (&self->timeout_id, g_source_remove);

  G_OBJECT_CLASS (popcheck_mute_parent_class)->dispose (object);
}

static void
popcheck_mute_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  PopcheckMute *self = POPCHECK_MUTE (object);

  switch (prop_id)
    {
    case PROP_MUTED_UNTIL:
      g_value_set_int64 (value, self->muted_until);
      break;

    case PROP_MUTED:
      g_value_set_boolean (value, self->muted);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
popcheck_mute_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  PopcheckMute *self = POPCHECK_MUTE (object);

  switch (prop_id)
    {
    case PROP_MUTED_UNTIL:
      popcheck_mute_set_muted_until (self, g_value_get_int64 (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
popcheck_mute_class_init (PopcheckMuteClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = popcheck_mute_dispose;
  object_class->get_property = popcheck_mute_get_property;
  object_class->set_property = popcheck_mute_set_property;

  properties[PROP_MUTED_UNTIL] =
    /* Any value the setting may hold; a negative one means 0. */
    g_param_spec_int64 ("muted-until", NULL, NULL,
                        G_MININT64, G_MAXINT64, 0,
                        (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY |
                         G_PARAM_STATIC_STRINGS));

  properties[PROP_MUTED] =
    g_param_spec_boolean ("muted", NULL, NULL,
                          FALSE,
                          (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
                           G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
popcheck_mute_init (PopcheckMute *self)
{
}

PopcheckMute *
popcheck_mute_new (void)
{
  return g_object_new (POPCHECK_TYPE_MUTE, NULL);
}

gint64
popcheck_mute_get_muted_until (PopcheckMute *self)
{
  g_return_val_if_fail (POPCHECK_IS_MUTE (self), 0);

  return self->muted_until;
}

void
popcheck_mute_set_muted_until (PopcheckMute *self,
                               gint64        muted_until)
{
  g_return_if_fail (POPCHECK_IS_MUTE (self));

  muted_until = MAX (muted_until, 0);
  if (self->muted_until == muted_until)
    return;

  self->muted_until = muted_until;
  g_object_freeze_notify (G_OBJECT (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MUTED_UNTIL]);
  popcheck_mute_refresh (self);
  g_object_thaw_notify (G_OBJECT (self));
}

gboolean
popcheck_mute_get_muted (PopcheckMute *self)
{
  g_return_val_if_fail (POPCHECK_IS_MUTE (self), FALSE);

  return self->muted;
}

void
popcheck_mute_mute_for (PopcheckMute *self,
                        guint         seconds)
{
  g_return_if_fail (POPCHECK_IS_MUTE (self));

  popcheck_mute_set_muted_until (self, now (self) + seconds);
}

void
popcheck_mute_unmute (PopcheckMute *self)
{
  g_return_if_fail (POPCHECK_IS_MUTE (self));

  popcheck_mute_set_muted_until (self, 0);
}

void
popcheck_mute_set_clock (PopcheckMute      *self,
                         PopcheckMuteClock  clock,
                         gpointer           user_data)
{
  g_return_if_fail (POPCHECK_IS_MUTE (self));

  self->clock = clock;
  self->clock_data = user_data;
  popcheck_mute_refresh (self);
}
