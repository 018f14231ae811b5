/* popcheck-message-row.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A row is made once per visible slot of the list view and rebound as the
 * list scrolls, so setting a message must be cheap.  GTK 4.8's list view
 * keeps some 200 rows around the one in view, and a jump through the list
 * rebinds, measures and lays out all of them in one frame, though only a
 * screenful is drawn.  So the texts are GtkInscriptions, whose size comes
 * from the font and not from the text: setting one neither measures nor
 * shapes it, and only the rows drawn are shaped.  The row's translated
 * texts are looked up once, its tooltip is asked for when it is shown, and
 * a row whose message goes keeps its texts until the next one comes.
 * Everything shown comes from the server, so it is set as text, never as
 * markup.
 */

#define G_LOG_DOMAIN "popcheck-message-row"

#include "config.h"

#include <glib/gi18n.h>

#include "popcheck-message.h"
#include "popcheck-message-row.h"

struct _PopcheckMessageRow
{
  GtkWidget        parent_instance;

  PopcheckMessage *message;
  gulong           is_new_handler;
  char            *account_name;
  gboolean         show_account;
  /* How many messages the row's mailbox lists. */
  guint            mailbox_size;

  GtkImage        *new_mark;
  GtkInscription  *from_label;
  GtkInscription  *date_label;
  GtkInscription  *subject_label;
  GtkLabel        *account_label;
  GtkInscription  *size_label;
};

G_DEFINE_FINAL_TYPE (PopcheckMessageRow, popcheck_message_row, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_MESSAGE,
  PROP_ACCOUNT_NAME,
  PROP_SHOW_ACCOUNT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* gettext () looks the catalog up again on each call, and a jump through
 * the list binds some 200 rows: a row's texts are translated once. */
enum {
  TEXT_TIME_TODAY,
  TEXT_YESTERDAY,
  TEXT_WEEKDAY,
  TEXT_THIS_YEAR,
  TEXT_OLDER,
  TEXT_FULL_DATE,
  TEXT_NO_DATE,
  TEXT_NAME,
  TEXT_NAME_NEW,
  TEXT_UNKNOWN_SENDER,
  TEXT_POSITION,
  TEXT_ON_SERVER,
  TEXT_NOT_FETCHED,
  TEXT_PENDING_NAME,
  TEXT_PENDING_NAME_NEW,
  N_TEXTS
};

static const char *
row_text (guint       id,
          const char *msgid) G_GNUC_FORMAT (2);

/* Only the main thread makes rows and dates. */
static const char *
row_text (guint       id,
          const char *msgid)
{
  static const char *texts[N_TEXTS];

  if (texts[id] == NULL)
    texts[id] = gettext (msgid);

  return texts[id];
}

/* The formats of the dates a row shows, kept in one place for the rows
 * and for the widths of their date column. */
static const char *
date_format (guint id)
{
  switch (id)
    {
    case TEXT_TIME_TODAY:
      /* Translators: the time of a message received today, see strftime(3) */
      return row_text (TEXT_TIME_TODAY, N_("%H:%M"));
    case TEXT_WEEKDAY:
      /* Translators: the weekday of a message received this week, see strftime(3) */
      return row_text (TEXT_WEEKDAY, N_("%a"));
    case TEXT_THIS_YEAR:
      /* Translators: the day of a message received this year, see strftime(3) */
      return row_text (TEXT_THIS_YEAR, N_("%b %-e"));
    case TEXT_FULL_DATE:
      /* Translators: a message's full date in the preview, see strftime(3);
       * %-e is the day of the month without padding */
      return row_text (TEXT_FULL_DATE, N_("%A, %-e %B %Y, %H:%M"));
    case TEXT_OLDER:
      /* Translators: the date of an older message, see strftime(3) */
      return row_text (TEXT_OLDER, N_("%Y-%m-%d"));
    default:
      g_return_val_if_reached ("%Y-%m-%d");
    }
}

static const char *
yesterday (void)
{
  /* Translators: the date of a message received yesterday */
  return row_text (TEXT_YESTERDAY, N_("Yesterday"));
}

/* The start of local_now's day, in its zone. */
static GDateTime *
start_of_day (GDateTime *local_now)
{
  return g_date_time_new (g_date_time_get_timezone (local_now),
                          g_date_time_get_year (local_now),
                          g_date_time_get_month (local_now),
                          g_date_time_get_day_of_month (local_now),
                          0, 0, 0);
}

/* What every row's date is relative to.  With TZ unset, GLib 2.74 reads
 * /etc/localtime again on each g_time_zone_new_local () (it compares the
 * zone's name with TZ, which is NULL), and a row took five of those to
 * show its date: a jump through the list binds some 200 rows in one
 * frame.  The rows share one zone, one "now" and one start of today,
 * taken again once a second, so a new day or a new system zone still
 * shows within a second. */
static gint64     row_clock_second = -1;
static GDateTime *row_clock_now;
static GDateTime *row_clock_today;

static void
update_row_clock (void)
{
  gint64 second = g_get_real_time () / G_USEC_PER_SEC;
  g_autoptr(GTimeZone) zone = NULL;

  if (row_clock_now != NULL && second == row_clock_second)
    return;

  zone = g_time_zone_new_local ();
  g_clear_pointer (&row_clock_now, g_date_time_unref);
  g_clear_pointer (&row_clock_today, g_date_time_unref);
  row_clock_now = g_date_time_new_now (zone);
  row_clock_today = start_of_day (row_clock_now);
  row_clock_second = second;
}

/* The preview's date, in local time.  "%-e": no padding space before a
 * day of one digit ("Wednesday, 6 September", "9月6日"). */
char *
popcheck_format_date_full (GDateTime *date)
{
  g_autoptr(GTimeZone) zone = NULL;
  g_autoptr(GDateTime) local = NULL;

  g_return_val_if_fail (date != NULL, NULL);

  zone = g_time_zone_new_local ();
  local = g_date_time_to_timezone (date, zone);
  return g_date_time_format (local, date_format (TEXT_FULL_DATE));
}

/* local is in the zone of local_now, and today is the start of its day. */
static char *
format_local_date_relative (GDateTime *local,
                            GDateTime *local_now,
                            GDateTime *today)
{
  GTimeSpan since_midnight = g_date_time_difference (local, today);

  /* A date after today (a sender's wrong clock) falls through to a date. */
  if (since_midnight >= 0 && since_midnight < G_TIME_SPAN_DAY)
    return g_date_time_format (local, date_format (TEXT_TIME_TODAY));
  if (since_midnight < 0 && since_midnight >= -G_TIME_SPAN_DAY)
    return g_strdup (yesterday ());
  if (since_midnight < 0 && since_midnight >= -6 * G_TIME_SPAN_DAY)
    return g_date_time_format (local, date_format (TEXT_WEEKDAY));
  if (g_date_time_get_year (local) == g_date_time_get_year (local_now))
    return g_date_time_format (local, date_format (TEXT_THIS_YEAR));

  return g_date_time_format (local, date_format (TEXT_OLDER));
}

char *
popcheck_format_date_relative (GDateTime *date,
                               GDateTime *now)
{
  g_autoptr(GDateTime) local_now = NULL;
  g_autoptr(GDateTime) today = NULL;
  g_autoptr(GDateTime) local = NULL;

  g_return_val_if_fail (now != NULL, NULL);

  if (date == NULL)
    return g_strdup ("");

  local_now = g_date_time_to_local (now);
  today = start_of_day (local_now);
  local = g_date_time_to_timezone (date, g_date_time_get_timezone (local_now));
  return format_local_date_relative (local, local_now, today);
}

static void
update_account (PopcheckMessageRow *self)
{
  gtk_label_set_text (self->account_label,
                      self->account_name != NULL ? self->account_name : "");
  gtk_widget_set_visible (GTK_WIDGET (self->account_label),
                          self->show_account && self->account_name != NULL);
}

/* The address behind the sender's name, or NULL.  A narrow list has room
 * for a name, not for "Name <address>": the address goes to the tooltip,
 * and stands in for a name there is not. */
static const char *
sender_tooltip (PopcheckMessage *message)
{
  const char *name = popcheck_message_get_from_name (message);
  const char *address = popcheck_message_get_from_address (message);

  if (popcheck_message_get_headers_pending (message) ||
      name == NULL || *name == '\0' || address == NULL || *address == '\0')
    return NULL;

  return address;
}

/* Asked for as the tooltip shows, not set with each message: GTK asks the
 * display where the pointer is whenever a visible widget's tooltip text
 * changes (to update one that is showing), on X11 a round trip to the
 * server, some 0.15 ms here, for each of the 200 rows of a jump. */
static gboolean
sender_query_tooltip_cb (GtkWidget          *label,
                         int                 x,
                         int                 y,
                         gboolean            keyboard_mode,
                         GtkTooltip         *tooltip,
                         PopcheckMessageRow *self)
{
  const char *address;

  if (self->message == NULL)
    return FALSE;

  address = sender_tooltip (self->message);
  if (address == NULL)
    return FALSE;

  gtk_tooltip_set_text (tooltip, address);
  return TRUE;
}

static void
set_sender (PopcheckMessageRow *self)
{
  const char *name = popcheck_message_get_from_name (self->message);
  const char *address = popcheck_message_get_from_address (self->message);
  const char *from = popcheck_message_get_from (self->message);
  const char *shown = NULL;

  if (name != NULL && *name != '\0')
    shown = name;
  else if (address != NULL && *address != '\0')
    shown = address;
  else if (from != NULL && *from != '\0')
    shown = from;
  else
    shown = row_text (TEXT_UNKNOWN_SENDER, N_("(unknown sender)"));

  gtk_inscription_set_text (self->from_label, shown);
}

/* A screen reader says a row by its name alone: the labels inside are not
 * read out for a list item.  So the name says all the row shows, in words:
 * whether it is new, the sender, the subject and the whole date. */
static void
update_accessible_name (PopcheckMessageRow *self,
                        GDateTime          *local_date)
{
  g_autofree char *full_date = NULL;
  g_autofree char *name = NULL;

  full_date = local_date != NULL
    ? g_date_time_format (local_date, date_format (TEXT_FULL_DATE))
    : g_strdup (row_text (TEXT_NO_DATE, N_("no date")));
  if (popcheck_message_get_is_new (self->message))
    /* Translators: a message in the list as a screen reader says it:
     * the sender, the subject, the date */
    name = g_strdup_printf (row_text (TEXT_NAME_NEW, N_("New: %s, %s, %s")),
                            gtk_inscription_get_text (self->from_label),
                            gtk_inscription_get_text (self->subject_label),
                            full_date);
  else
    /* Translators: a message in the list as a screen reader says it:
     * the sender, the subject, the date */
    name = g_strdup_printf (row_text (TEXT_NAME, N_("%s, %s, %s")),
                            gtk_inscription_get_text (self->from_label),
                            gtk_inscription_get_text (self->subject_label),
                            full_date);

  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, name,
                                  -1);
}

/* The list view's item around the row is what a screen reader lands on:
 * GTK 4.8 gives it no name of its own, so it takes the row's. */
static void
parent_changed_cb (PopcheckMessageRow *self,
                   GParamSpec         *pspec,
                   gpointer            user_data)
{
  GtkWidget *parent = gtk_widget_get_parent (GTK_WIDGET (self));

  if (parent != NULL)
    gtk_accessible_update_relation (GTK_ACCESSIBLE (parent),
                                    GTK_ACCESSIBLE_RELATION_LABELLED_BY, self, NULL,
                                    -1);
}

static void
set_new_mark (PopcheckMessageRow *self,
              gboolean            is_new)
{
  gtk_widget_set_visible (GTK_WIDGET (self->new_mark), is_new);
  if (is_new)
    gtk_widget_add_css_class (GTK_WIDGET (self->from_label), "heading");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->from_label), "heading");
}

/* Its headers come later (the newest are fetched first): what LIST and
 * UIDL said is all there is, its place on the server and its size. */
static void
update_headers_pending (PopcheckMessageRow *self)
{
  guint number = popcheck_message_get_msg_number (self->message);
  gboolean is_new = popcheck_message_get_is_new (self->message);
  g_autofree char *position = NULL;
  g_autofree char *size = NULL;
  g_autofree char *name = NULL;

  /* Numbers come with a check: a list restored at start has none yet. */
  if (number > 0 && number <= self->mailbox_size)
    /* Translators: a message whose headers were not fetched yet, by its
     * number on the server and the number of messages there */
    position = g_strdup_printf (row_text (TEXT_POSITION, N_("Message %u of %u")),
                                number, self->mailbox_size);
  else
    position = g_strdup (row_text (TEXT_ON_SERVER, N_("A message on the server")));
  size = g_format_size (popcheck_message_get_size (self->message));

  gtk_inscription_set_text (self->from_label, position);
  gtk_inscription_set_text (self->subject_label,
                            row_text (TEXT_NOT_FETCHED, N_("(headers not fetched yet)")));
  gtk_widget_add_css_class (GTK_WIDGET (self->subject_label), "dim-label");
  gtk_inscription_set_text (self->date_label, "");
  gtk_inscription_set_text (self->size_label, size);
  set_new_mark (self, is_new);

  if (is_new)
    /* Translators: a message whose headers were not fetched yet as a
     * screen reader says it: "Message 40 of 900", its size */
    name = g_strdup_printf (row_text (TEXT_PENDING_NAME_NEW,
                                      N_("New: %s, %s, headers not fetched yet")),
                            position, size);
  else
    /* Translators: a message whose headers were not fetched yet as a
     * screen reader says it: "Message 40 of 900", its size */
    name = g_strdup_printf (row_text (TEXT_PENDING_NAME,
                                      N_("%s, %s, headers not fetched yet")),
                            position, size);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, name,
                                  -1);
}

static void
update_message (PopcheckMessageRow *self)
{
  GDateTime *date;
  g_autoptr(GDateTime) local_date = NULL;
  g_autofree char *shown_date = NULL;
  g_autofree char *size = NULL;
  const char *subject;
  gboolean is_new;

  /* The list view unbinds a row before it binds it again or drops it, and
   * never shows it in between: its texts stay until the next message. */
  if (self->message == NULL)
    {
      gtk_accessible_reset_property (GTK_ACCESSIBLE (self),
                                     GTK_ACCESSIBLE_PROPERTY_LABEL);
      return;
    }

  if (popcheck_message_get_headers_pending (self->message))
    {
      update_headers_pending (self);
      return;
    }

  subject = popcheck_message_get_subject (self->message);
  is_new = popcheck_message_get_is_new (self->message);

  set_sender (self);

  if (subject != NULL && *subject != '\0')
    {
      gtk_inscription_set_text (self->subject_label, subject);
      gtk_widget_remove_css_class (GTK_WIDGET (self->subject_label), "dim-label");
    }
  else
    {
      g_autofree char *missing = popcheck_format_missing_subject (self->message);

      gtk_inscription_set_text (self->subject_label, missing);
      gtk_widget_add_css_class (GTK_WIDGET (self->subject_label), "dim-label");
    }

  /* Both the date shown and the one a screen reader says are local. */
  update_row_clock ();
  date = popcheck_message_get_date (self->message);
  if (date != NULL)
    {
      local_date = g_date_time_to_timezone (date, g_date_time_get_timezone (row_clock_now));
      shown_date = format_local_date_relative (local_date, row_clock_now, row_clock_today);
    }
  gtk_inscription_set_text (self->date_label, shown_date != NULL ? shown_date : "");

  size = g_format_size (popcheck_message_get_size (self->message));
  gtk_inscription_set_text (self->size_label, size);

  set_new_mark (self, is_new);

  update_accessible_name (self, local_date);
}

char *
popcheck_format_missing_subject (PopcheckMessage *message)
{
  g_return_val_if_fail (POPCHECK_IS_MESSAGE (message), NULL);

  /* A broken UIDL listing gave it no UID: its number is all there is to
   * tell it by, and only in this session. */
  if (!popcheck_message_get_has_uid (message))
    return g_strdup_printf (_("(no unique ID: message %u)"),
                            popcheck_message_get_msg_number (message));

  /* The server would not send the headers: "no subject" would be a claim
   * about the message that nobody could make. */
  if (!popcheck_message_get_headers_known (message))
    return g_strdup (_("(headers not available)"));

  return g_strdup (_("(no subject)"));
}

/* The widest of texts in inscription's font, in the approximate
 * characters an inscription's width is counted in, and one to spare. */
static guint
width_in_chars (GtkWidget *inscription,
                GPtrArray *texts)
{
  PangoContext *context = gtk_widget_get_pango_context (inscription);
  PangoFontMetrics *metrics = pango_context_get_metrics (context, NULL, NULL);
  int char_width = MAX (pango_font_metrics_get_approximate_char_width (metrics),
                        pango_font_metrics_get_approximate_digit_width (metrics));
  int widest = 0;

  pango_font_metrics_unref (metrics);
  for (guint i = 0; i < texts->len; i++)
    {
      g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout (inscription,
                                                                     texts->pdata[i]);
      int width;

      pango_layout_get_size (layout, &width, NULL);
      widest = MAX (widest, width);
    }

  return (guint) ((widest + char_width - 1) / MAX (char_width, 1)) + 1;
}

/* Every kind of date a row shows: each weekday and month, a two-digit
 * day and hour. */
static GPtrArray *
date_samples (void)
{
  GPtrArray *texts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc ();
  /* A Monday. */
  g_autoptr(GDateTime) monday = g_date_time_new (utc, 2024, 10, 28, 23, 58, 0);

  for (int day = 0; day < 7; day++)
    {
      g_autoptr(GDateTime) date = g_date_time_add_days (monday, day);

      g_ptr_array_add (texts, g_date_time_format (date, date_format (TEXT_WEEKDAY)));
    }
  for (int month = 1; month <= 12; month++)
    {
      g_autoptr(GDateTime) date = g_date_time_new (utc, 2024, month, 28, 23, 58, 0);

      g_ptr_array_add (texts, g_date_time_format (date, date_format (TEXT_THIS_YEAR)));
    }
  g_ptr_array_add (texts, g_date_time_format (monday, date_format (TEXT_TIME_TODAY)));
  g_ptr_array_add (texts, g_date_time_format (monday, date_format (TEXT_OLDER)));
  g_ptr_array_add (texts, g_strdup (yesterday ()));

  return texts;
}

static GPtrArray *
size_samples (void)
{
  const guint64 sizes[] = { 999, 999949, 999949999, G_GUINT64_CONSTANT (999949999999) };
  GPtrArray *texts = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    g_ptr_array_add (texts, g_format_size (sizes[i]));

  return texts;
}

/* The date and size columns keep one width, that of their widest text:
 * an inscription's width does not follow its text.  Counted in
 * characters, it follows the font. */
static void
set_column_widths (PopcheckMessageRow *self)
{
  static guint date_chars;
  static guint size_chars;

  if (date_chars == 0)
    {
      g_autoptr(GPtrArray) dates = date_samples ();
      g_autoptr(GPtrArray) sizes = size_samples ();

      date_chars = width_in_chars (GTK_WIDGET (self->date_label), dates);
      size_chars = width_in_chars (GTK_WIDGET (self->size_label), sizes);
    }

  gtk_inscription_set_min_chars (self->date_label, date_chars);
  gtk_inscription_set_nat_chars (self->date_label, date_chars);
  gtk_inscription_set_min_chars (self->size_label, size_chars);
  gtk_inscription_set_nat_chars (self->size_label, size_chars);
}

static void
popcheck_message_row_dispose (GObject *object)
{
  PopcheckMessageRow *self = POPCHECK_MESSAGE_ROW (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), POPCHECK_TYPE_MESSAGE_ROW);
  /* The template's root box has no id, so it is unparented here. */
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self));
       child != NULL;
       child = gtk_widget_get_first_child (GTK_WIDGET (self)))
    gtk_widget_unparent (child);
  if (self->message != NULL)
    g_clear_signal_handler (&self->is_new_handler, self->message);
  g_clear_object (&self->message);
  g_clear_pointer (&self->account_name, g_free);

  G_OBJECT_CLASS (popcheck_message_row_parent_class)->dispose (object);
}

static void
popcheck_message_row_get_property (GObject    *object,
                                   guint       prop_id,
                                   GValue     *value,
                                   GParamSpec *pspec)
{
  PopcheckMessageRow *self = POPCHECK_MESSAGE_ROW (object);

  switch (prop_id)
    {
    case PROP_MESSAGE:
      g_value_set_object (value, self->message);
      break;
    case PROP_ACCOUNT_NAME:
      g_value_set_string (value, self->account_name);
      break;
    case PROP_SHOW_ACCOUNT:
      g_value_set_boolean (value, self->show_account);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
popcheck_message_row_set_property (GObject      *object,
                                   guint         prop_id,
                                   const GValue *value,
                                   GParamSpec   *pspec)
{
  PopcheckMessageRow *self = POPCHECK_MESSAGE_ROW (object);

  switch (prop_id)
    {
    case PROP_MESSAGE:
      popcheck_message_row_set_message (self, g_value_get_object (value));
      break;
    case PROP_ACCOUNT_NAME:
      popcheck_message_row_set_account_name (self, g_value_get_string (value));
      break;
    case PROP_SHOW_ACCOUNT:
      popcheck_message_row_set_show_account (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
popcheck_message_row_class_init (PopcheckMessageRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = popcheck_message_row_dispose;
  object_class->get_property = popcheck_message_row_get_property;
  object_class->set_property = popcheck_message_row_set_property;

  properties[PROP_MESSAGE] =
    g_param_spec_object ("message", NULL, NULL,
                         POPCHECK_TYPE_MESSAGE,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));
  properties[PROP_ACCOUNT_NAME] =
    g_param_spec_string ("account-name", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));
  properties[PROP_SHOW_ACCOUNT] =
    g_param_spec_boolean ("show-account", NULL, NULL,
                          FALSE,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY |
                           G_PARAM_STATIC_STRINGS));
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "messagerow");
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/example/PopCheck/popcheck-message-row.ui");
  gtk_widget_class_bind_template_child (widget_class, PopcheckMessageRow, new_mark);
  gtk_widget_class_bind_template_child (widget_class, PopcheckMessageRow, from_label);
  gtk_widget_class_bind_template_child (widget_class, PopcheckMessageRow, date_label);
  gtk_widget_class_bind_template_child (widget_class, PopcheckMessageRow, subject_label);
  gtk_widget_class_bind_template_child (widget_class, PopcheckMessageRow, account_label);
  gtk_widget_class_bind_template_child (widget_class, PopcheckMessageRow, size_label);
}

static void
popcheck_message_row_init (PopcheckMessageRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  set_column_widths (self);

  g_signal_connect (self, "notify::parent", G_CALLBACK (parent_changed_cb), NULL);
  gtk_widget_set_has_tooltip (GTK_WIDGET (self->from_label), TRUE);
  g_signal_connect (self->from_label, "query-tooltip",
                    G_CALLBACK (sender_query_tooltip_cb), self);
}

GtkWidget *
popcheck_message_row_new (void)
{
  return g_object_new (POPCHECK_TYPE_MESSAGE_ROW, NULL);
}

PopcheckMessage *
popcheck_message_row_get_message (PopcheckMessageRow *self)
{
  g_return_val_if_fail (POPCHECK_IS_MESSAGE_ROW (self), NULL);

  return self->message;
}

void
popcheck_message_row_set_message (PopcheckMessageRow *self,
                                  PopcheckMessage    *message)
{
  g_return_if_fail (POPCHECK_IS_MESSAGE_ROW (self));
  g_return_if_fail (message == NULL || POPCHECK_IS_MESSAGE (message));

  if (self->message == message)
    return;

  /* The mark goes when the message stops being new while it is shown.
   * The row holds the message and disconnects before it lets it go. */
  if (self->message != NULL)
    g_clear_signal_handler (&self->is_new_handler, self->message);
  g_set_object (&self->message, message);
  if (message != NULL)
    self->is_new_handler = g_signal_connect_swapped (message, "notify::is-new",
                                                     G_CALLBACK (update_message),
                                                     self);

  update_message (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MESSAGE]);
}

/* For a message whose headers are not fetched yet: "Message N of M". */
void
popcheck_message_row_set_mailbox_size (PopcheckMessageRow *self,
                                       guint               mailbox_size)
{
  g_return_if_fail (POPCHECK_IS_MESSAGE_ROW (self));

  if (self->mailbox_size == mailbox_size)
    return;

  self->mailbox_size = mailbox_size;
  if (self->message != NULL && popcheck_message_get_headers_pending (self->message))
    update_message (self);
}

const char *
popcheck_message_row_get_account_name (PopcheckMessageRow *self)
{
  g_return_val_if_fail (POPCHECK_IS_MESSAGE_ROW (self), NULL);

  return self->account_name;
}

void
popcheck_message_row_set_account_name (PopcheckMessageRow *self,
                                       const char         *account_name)
{
  g_return_if_fail (POPCHECK_IS_MESSAGE_ROW (self));

  if (g_strcmp0 (self->account_name, account_name) == 0)
    return;

  g_free (self->account_name);
  self->account_name = g_strdup (account_name);
  update_account (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ACCOUNT_NAME]);
}

gboolean
popcheck_message_row_get_show_account (PopcheckMessageRow *self)
{
  g_return_val_if_fail (POPCHECK_IS_MESSAGE_ROW (self), FALSE);

  return self->show_account;
}

void
popcheck_message_row_set_show_account (PopcheckMessageRow *self,
                                       gboolean            show_account)
{
  g_return_if_fail (POPCHECK_IS_MESSAGE_ROW (self));

  show_account = !!show_account;
  if (self->show_account == show_account)
    return;

  self->show_account = show_account;
  update_account (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SHOW_ACCOUNT]);
}
