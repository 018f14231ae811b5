/* popcheck-preview.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The preview shows what TOP brought: the decoded headers and the first
 * lines of the body.  Mail is untrusted, so every string is set as plain
 * text (gtk_label_set_text, a GtkTextBuffer), never parsed as markup.
 * Only "Show Whole Message", after the user confirmed it, uses RETR.
 */

#define G_LOG_DOMAIN "popcheck-preview"

#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "popcheck-accessible.h"
#include "popcheck-account.h"
#include "popcheck-checker.h"
#include "popcheck-message.h"
#include "popcheck-message-row.h"
#include "popcheck-preview.h"
#include "popcheck-wrap-box.h"

/* "Load More" asks TOP for this many times the lines shown so far, and at
 * least this many lines. */
#define LOAD_MORE_FACTOR 4
#define LOAD_MORE_MINIMUM 100

struct _PopcheckPreview
{
  GtkWidget        parent_instance;

  PopcheckChecker *checker;
  char            *account_id;
  /* The message selected in the list, and the one shown: after "Load
   * More" a longer preview of the same message. */
  PopcheckMessage *message;
  PopcheckMessage *shown;
  guint            lines;
  gboolean         whole;
  /* The whole message was longer than a summary keeps. */
  gboolean         whole_truncated;
  gboolean         complete;
  GCancellable    *cancellable;

  GtkStack        *stack;
  AdwStatusPage   *empty_page;
  GtkLabel        *subject_label;
  GtkLabel        *from_label;
  GtkLabel        *to_label;
  GtkLabel        *to_caption;
  GtkLabel        *cc_label;
  GtkLabel        *cc_caption;
  GtkLabel        *date_label;
  GtkLabel        *size_label;
  GtkImage        *attachments_icon;
  GtkLabel        *attachments_label;
  GtkLabel        *attachments_hint_label;
  GtkTextView     *body_view;
  GtkSpinner      *spinner;
  GtkLabel        *status_label;
};

G_DEFINE_FINAL_TYPE (PopcheckPreview, popcheck_preview, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_CHECKER,
  PROP_MESSAGE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static guint
count_lines (const char *text)
{
  guint n = 0;

  if (text == NULL || *text == '\0')
    return 0;

  for (const char *p = text; *p != '\0'; p++)
    if (*p == '\n')
      n++;

  /* A last line without a newline counts too. */
  if (text[strlen (text) - 1] != '\n')
    n++;

  return n;
}

/* Fewer lines than asked for is the whole text, unless the lines end
 * inside the MIME structure: then more parts (attachments) follow. */
static gboolean
preview_is_complete (PopcheckMessage *message,
                     guint            lines)
{
  return count_lines (popcheck_message_get_preview (message)) < lines &&
         !popcheck_message_get_attachments_incomplete (message);
}

static void
set_busy (PopcheckPreview *self,
          gboolean         busy)
{
  /* Without a UID, nothing says which message a number names by the time
   * another session asks for it. */
  gboolean fetchable = self->shown != NULL &&
                       popcheck_message_get_has_uid (self->shown);

  gtk_widget_set_visible (GTK_WIDGET (self->spinner), busy);
  gtk_spinner_set_spinning (self->spinner, busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "preview.load-more",
                                 !busy && !self->whole && !self->complete &&
                                 fetchable);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "preview.show-whole",
                                 !busy && !self->whole && fetchable);
}

static void
update_status (PopcheckPreview *self)
{
  g_autofree char *text = NULL;

  if (self->whole && self->whole_truncated)
    text = g_strdup_printf (_("The beginning of the whole message: PopCheck shows "
                              "at most %u characters of text"),
                            (guint) POPCHECK_MESSAGE_MAX_PREVIEW);
  else if (self->whole)
    text = g_strdup (_("The whole message"));
  else if (!popcheck_message_get_has_uid (self->shown))
    text = g_strdup (_("The server gave this message no unique ID, so "
                       "PopCheck cannot tell it apart from the others: it "
                       "cannot show, download or delete it."));
  /* Listed before its headers came: they are fetched next, as its row
   * is in view. */
  else if (popcheck_message_get_headers_pending (self->shown))
    text = g_strdup (_("The headers of this message are not fetched yet; "
                       "they come next."));
  /* The server refused its TOP (or has none, RFC 1939 makes it
   * optional): only RETR, which the user must ask for, could show it. */
  else if (!popcheck_message_get_headers_known (self->shown))
    text = g_strdup (_("This server cannot show a preview of this message "
                       "without downloading the whole message."));
  else if (self->complete)
    text = g_strdup (_("The whole text, without marking the message read"));
  else
    text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                         "The first %u line, without marking the message read",
                                         "The first %u lines, without marking the message read",
                                         self->lines),
                            self->lines);

  gtk_label_set_text (self->status_label, text);
  gtk_widget_remove_css_class (GTK_WIDGET (self->status_label), "error");
}

static void
show_error (PopcheckPreview *self,
            const GError    *error)
{
  gtk_label_set_text (self->status_label, error->message);
  gtk_widget_add_css_class (GTK_WIDGET (self->status_label), "error");
}

static void
set_body (PopcheckPreview *self,
          const char      *text)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->body_view);
  GtkTextIter start;

  gtk_text_buffer_set_text (buffer, text != NULL ? text : "", -1);
  gtk_text_buffer_get_start_iter (buffer, &start);
  gtk_text_buffer_place_cursor (buffer, &start);
}

/* "report.pdf (PDF document, 1.2 MB)": the name, the type in words and
 * the size when the fetched lines hold the whole part. */
static char *
format_attachment (const PopcheckAttachment *attachment)
{
  g_autofree char *content_type = NULL;
  g_autofree char *description = NULL;
  g_autofree char *size = NULL;

  /* Many mail programs send every file as the generic type (and older
   * cached summaries know only the name): the name then says more. */
  if (g_strcmp0 (attachment->mime_type, "application/octet-stream") == 0)
    content_type = g_content_type_guess (attachment->name, NULL, 0, NULL);
  else
    content_type = g_content_type_from_mime_type (attachment->mime_type);

  if (content_type != NULL)
    description = g_content_type_get_description (content_type);
  if (description == NULL)
    description = g_strdup (attachment->mime_type);

  if (attachment->size == POPCHECK_MESSAGE_SIZE_UNKNOWN)
    /* Translators: an attachment: its file name and its type, as in
     * "report.pdf (PDF document)". */
    return g_strdup_printf (_("%s (%s)"), attachment->name, description);

  size = g_format_size (attachment->size);
  /* Translators: an attachment: its file name, its type and its size, as
   * in "report.pdf (PDF document, 1.2 MB)". */
  return g_strdup_printf (_("%s (%s, %s)"), attachment->name, description,
                          size);
}

/* One line per attachment, and a hint when the lines fetched end before
 * the MIME structure does: nothing is fetched for it behind the user's
 * back, the user chooses Load More or Show Whole Message. */
static void
show_attachments (PopcheckPreview *self,
                  PopcheckMessage *message)
{
  g_autoptr(GString) lines = g_string_new (NULL);
  const PopcheckAttachment *attachments;
  const char *hint = NULL;
  gboolean incomplete;
  guint n = 0;

  attachments = popcheck_message_get_attachment_details (message, &n);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *line = format_attachment (&attachments[i]);

      if (lines->len > 0)
        g_string_append_c (lines, '\n');
      g_string_append (lines, line);
    }

  /* A whole message with an unclosed structure is broken, not cut:
   * there is nothing more to fetch. */
  incomplete = !self->whole &&
               popcheck_message_get_attachments_incomplete (message);
  if (incomplete && n > 0)
    hint = _("More attachments may follow: the lines fetched so far end "
             "before the message does. Load More or Show Whole Message "
             "shows them all.");
  else if (incomplete)
    hint = _("Attachments may follow: the lines fetched so far end before "
             "the message does. Load More or Show Whole Message shows "
             "them all.");

  gtk_label_set_text (self->attachments_label, lines->str);
  gtk_widget_set_visible (GTK_WIDGET (self->attachments_label), n > 0);
  gtk_label_set_text (self->attachments_hint_label, hint != NULL ? hint : "");
  gtk_widget_set_visible (GTK_WIDGET (self->attachments_hint_label), hint != NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->attachments_icon),
                          n > 0 || hint != NULL);
}

static void
show_message (PopcheckPreview *self)
{
  PopcheckMessage *message = self->shown;
  g_autofree char *date = NULL;
  g_autofree char *size = NULL;
  const char *subject;
  const char *from;
  const char *to;
  const char *cc;
  GDateTime *when;

  if (message == NULL)
    {
      gtk_stack_set_visible_child_name (self->stack, "empty");
      set_busy (self, FALSE);
      return;
    }

  subject = popcheck_message_get_subject (message);
  from = popcheck_message_get_from (message);
  to = popcheck_message_get_to (message);
  cc = popcheck_message_get_cc (message);
  when = popcheck_message_get_date (message);

  if (subject != NULL && *subject != '\0')
    gtk_label_set_text (self->subject_label, subject);
  else
    {
      g_autofree char *missing = popcheck_format_missing_subject (message);

      gtk_label_set_text (self->subject_label, missing);
    }
  gtk_label_set_text (self->from_label,
                      from != NULL && *from != '\0' ? from : _("(unknown sender)"));
  gtk_label_set_text (self->to_label, to != NULL ? to : "");
  gtk_widget_set_visible (GTK_WIDGET (self->to_label), to != NULL && *to != '\0');
  gtk_widget_set_visible (GTK_WIDGET (self->to_caption), to != NULL && *to != '\0');
  gtk_label_set_text (self->cc_label, cc != NULL ? cc : "");
  gtk_widget_set_visible (GTK_WIDGET (self->cc_label), cc != NULL && *cc != '\0');
  gtk_widget_set_visible (GTK_WIDGET (self->cc_caption), cc != NULL && *cc != '\0');

  if (when != NULL)
    date = popcheck_format_date_full (when);
  gtk_label_set_text (self->date_label, date != NULL ? date : _("Unknown"));

  size = g_format_size (popcheck_message_get_size (message));
  gtk_label_set_text (self->size_label, size);

  show_attachments (self, message);

  set_body (self, popcheck_message_get_preview (message));

  gtk_stack_set_visible_child_name (self->stack, "message");
  update_status (self);
  set_busy (self, FALSE);
}

static void
cancel_request (PopcheckPreview *self)
{
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
}

/* How many lines the checker asked TOP for: the account's setting. */
static guint
account_preview_lines (PopcheckPreview *self,
                       const char      *account_id)
{
  GListModel *accounts;
  guint n;

  if (self->checker == NULL)
    return 0;

  accounts = G_LIST_MODEL (popcheck_checker_get_accounts (self->checker));
  n = g_list_model_get_n_items (accounts);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(PopcheckAccount) account = g_list_model_get_item (accounts, i);

      if (g_strcmp0 (popcheck_account_get_id (account), account_id) == 0)
        return popcheck_account_get_preview_lines (account);
    }

  return 0;
}

/* The details of a listed message are read from the cache in a thread:
 * a big mailbox keeps only what its list shows in memory. */
static void
details_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(PopcheckPreview) self = user_data;
  g_autoptr(PopcheckMessage) message = NULL;
  g_autoptr(GError) error = NULL;

  message = popcheck_message_load_details_finish (POPCHECK_MESSAGE (object),
                                                  result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  g_clear_object (&self->cancellable);

  if (message == NULL)
    {
      g_autoptr(GError) shown = NULL;

      g_debug ("Could not read a cached summary: %s", error->message);
      set_busy (self, FALSE);
      shown = g_error_new_literal (POPCHECK_MESSAGE_ERROR,
                                   POPCHECK_MESSAGE_ERROR_INVALID_CACHE,
                                   _("The first lines of this message could "
                                     "not be read from PopCheck’s cache. "
                                     "Load More fetches them from the server."));
      show_error (self, shown);
      return;
    }

  self->complete = preview_is_complete (message, self->lines);
  g_set_object (&self->shown, message);
  show_message (self);
}

/* Load more */

static void
preview_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(PopcheckPreview) self = user_data;
  g_autoptr(PopcheckMessage) message = NULL;
  g_autoptr(GError) error = NULL;

  message = popcheck_checker_preview_finish (POPCHECK_CHECKER (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  g_clear_object (&self->cancellable);

  if (message == NULL)
    {
      set_busy (self, FALSE);
      show_error (self, error);
      return;
    }

  /* Fewer lines than asked for: that was the whole text. */
  self->complete = preview_is_complete (message, self->lines);
  g_set_object (&self->shown, message);
  show_message (self);
}

static void
load_more_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  PopcheckPreview *self = POPCHECK_PREVIEW (widget);

  if (self->shown == NULL || self->checker == NULL || self->cancellable != NULL)
    return;

  self->lines = MAX (self->lines * LOAD_MORE_FACTOR, LOAD_MORE_MINIMUM);
  self->cancellable = g_cancellable_new ();
  set_busy (self, TRUE);
  gtk_label_set_text (self->status_label, _("Loading more lines…"));
  popcheck_checker_preview_async (self->checker,
                                  self->account_id,
                                  popcheck_message_get_uid (self->shown),
                                  self->lines,
                                  self->cancellable,
                                  preview_cb,
                                  g_object_ref (self));
}

/* Show whole message */

static void
retrieve_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(PopcheckPreview) self = user_data;
  g_autoptr(PopcheckMessage) message = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;

  bytes = popcheck_checker_retrieve_finish (POPCHECK_CHECKER (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  g_clear_object (&self->cancellable);

  if (bytes == NULL)
    {
      set_busy (self, FALSE);
      show_error (self, error);
      return;
    }

  /* The whole message decodes like a TOP reply without a line limit. */
  message = popcheck_message_new_from_top (popcheck_message_get_uid (self->shown),
                                           popcheck_message_get_size (self->shown),
                                           0,
                                           bytes,
                                           G_MAXUINT);
  self->whole = TRUE;
  /* Summaries keep at most POPCHECK_MESSAGE_MAX_PREVIEW characters of
   * text; say so rather than pass the cut off as the whole message. */
  self->whole_truncated =
    popcheck_message_get_preview (message) != NULL &&
    g_utf8_strlen (popcheck_message_get_preview (message), -1) >= POPCHECK_MESSAGE_MAX_PREVIEW - 1;
  g_set_object (&self->shown, message);
  show_message (self);
}

static void
confirm_whole_cb (AdwMessageDialog *dialog,
                  const char       *response,
                  PopcheckPreview  *self)
{
  if (g_strcmp0 (response, "download") != 0 || self->shown == NULL ||
      self->checker == NULL)
    return;

  cancel_request (self);
  self->cancellable = g_cancellable_new ();
  set_busy (self, TRUE);
  gtk_label_set_text (self->status_label, _("Downloading the whole message…"));
  popcheck_checker_retrieve_async (self->checker,
                                   self->account_id,
                                   popcheck_message_get_uid (self->shown),
                                   self->cancellable,
                                   retrieve_cb,
                                   g_object_ref (self));
}

static void
show_whole_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  PopcheckPreview *self = POPCHECK_PREVIEW (widget);
  GtkRoot *root = gtk_widget_get_root (widget);
  GtkWidget *dialog;

  if (self->shown == NULL || self->whole)
    return;

  dialog = adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                   _("Download the Whole Message?"),
                                   _("PopCheck shows only the first lines of a message, "
                                     "so that it stays unread on the server. Some servers "
                                     "mark a message as read once it has been downloaded "
                                     "whole, and your mail program may then no longer "
                                     "show it as new."));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "download", _("_Download"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "download",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (confirm_whole_cb), self, 0);
  popcheck_accessible_fix_mnemonic_buttons (GTK_WIDGET (dialog));
  gtk_window_present (GTK_WINDOW (dialog));
}

/* GObject */

static void
popcheck_preview_dispose (GObject *object)
{
  PopcheckPreview *self = POPCHECK_PREVIEW (object);

  cancel_request (self);
  gtk_widget_dispose_template (GTK_WIDGET (self), POPCHECK_TYPE_PREVIEW);
  /* The template's root box has no id, so it is unparented here. */
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self));
       child != NULL;
       child = gtk_widget_get_first_child (GTK_WIDGET (self)))
    gtk_widget_unparent (child);
  g_clear_object (&self->checker);
  g_clear_object (&self->message);
  g_clear_object (&self->shown);
  g_clear_pointer (&self->account_id, g_free);

  G_OBJECT_CLASS (popcheck_preview_parent_class)->dispose (object);
}

static void
popcheck_preview_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  PopcheckPreview *self = POPCHECK_PREVIEW (object);

  switch (prop_id)
    {
    case PROP_CHECKER:
      g_value_set_object (value, self->checker);
      break;
    case PROP_MESSAGE:
      g_value_set_object (value, self->message);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
popcheck_preview_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  PopcheckPreview *self = POPCHECK_PREVIEW (object);

  switch (prop_id)
    {
    case PROP_CHECKER:
      popcheck_preview_set_checker (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
popcheck_preview_class_init (PopcheckPreviewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = popcheck_preview_dispose;
  object_class->get_property = popcheck_preview_get_property;
  object_class->set_property = popcheck_preview_set_property;

  properties[PROP_CHECKER] =
    g_param_spec_object ("checker", NULL, NULL,
                         POPCHECK_TYPE_CHECKER,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));
  properties[PROP_MESSAGE] =
    g_param_spec_object ("message", NULL, NULL,
                         POPCHECK_TYPE_MESSAGE,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_install_action (widget_class, "preview.load-more", NULL,
                                   load_more_action);
  gtk_widget_class_install_action (widget_class, "preview.show-whole", NULL,
                                   show_whole_action);

  g_type_ensure (POPCHECK_TYPE_WRAP_BOX);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "preview");
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/example/PopCheck/popcheck-preview.ui");
  gtk_widget_class_bind_template_child (widget_class, PopcheckPreview, stack);
  gtk_widget_class_bind_template_child (widget_class, PopcheckPreview, empty_page);
  gtk_widget_class_bind_template_child (widget_class, PopcheckPreview, subject_label);
  gtk_widget_class_bind_template_child (widget_class, PopcheckPreview, from_label);
  gtk_widget_class_bind_template_child (widget_class, PopcheckPreview, to_label);
  gtk_widget_class_bind_template_child (widget_class, PopcheckPreview, to_caption);
  gtk_widget_class_bind_template_child (widget_class, PopcheckPreview, cc_label);
  gtk_widget_class_bind_template_child (widget_class, PopcheckPreview, cc_caption);
  gtk_widget_class_bind_template_child (widget_class, PopcheckPreview, date_label);
  gtk_widget_class_bind_template_child (widget_class, PopcheckPreview, size_label);
  gtk_widget_class_bind_template_child (widget_class, PopcheckPreview, attachments_icon);
  gtk_widget_class_bind_template_child (widget_class, PopcheckPreview, attachments_label);
  gtk_widget_class_bind_template_child (widget_class, PopcheckPreview, attachments_hint_label);
  gtk_widget_class_bind_template_child (widget_class, PopcheckPreview, body_view);
  gtk_widget_class_bind_template_child (widget_class, PopcheckPreview, spinner);
  gtk_widget_class_bind_template_child (widget_class, PopcheckPreview, status_label);
}

static void
popcheck_preview_init (PopcheckPreview *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  popcheck_accessible_fix_mnemonic_buttons (GTK_WIDGET (self));
  set_busy (self, FALSE);
}

GtkWidget *
popcheck_preview_new (void)
{
  return g_object_new (POPCHECK_TYPE_PREVIEW, NULL);
}

PopcheckChecker *
popcheck_preview_get_checker (PopcheckPreview *self)
{
  g_return_val_if_fail (POPCHECK_IS_PREVIEW (self), NULL);

  return self->checker;
}

void
popcheck_preview_set_checker (PopcheckPreview *self,
                              PopcheckChecker *checker)
{
  g_return_if_fail (POPCHECK_IS_PREVIEW (self));
  g_return_if_fail (checker == NULL || POPCHECK_IS_CHECKER (checker));

  if (!g_set_object (&self->checker, checker))
    return;

  popcheck_preview_set_message (self, NULL, NULL);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CHECKER]);
}

PopcheckMessage *
popcheck_preview_get_message (PopcheckPreview *self)
{
  g_return_val_if_fail (POPCHECK_IS_PREVIEW (self), NULL);

  return self->message;
}

const char *
popcheck_preview_get_account_id (PopcheckPreview *self)
{
  g_return_val_if_fail (POPCHECK_IS_PREVIEW (self), NULL);

  return self->account_id;
}

void
popcheck_preview_set_message (PopcheckPreview *self,
                              const char      *account_id,
                              PopcheckMessage *message)
{
  g_return_if_fail (POPCHECK_IS_PREVIEW (self));
  g_return_if_fail (message == NULL || POPCHECK_IS_MESSAGE (message));
  g_return_if_fail (message == NULL || account_id != NULL);

  if (self->message == message && g_strcmp0 (self->account_id, account_id) == 0)
    return;

  cancel_request (self);
  g_set_object (&self->message, message);
  g_set_object (&self->shown, message);
  g_free (self->account_id);
  self->account_id = g_strdup (account_id);
  self->whole = FALSE;
  self->whole_truncated = FALSE;
  self->lines = 0;
  self->complete = FALSE;

  if (message != NULL)
    {
      self->lines = account_preview_lines (self, account_id);
      if (popcheck_message_get_details_loaded (message))
        self->complete = preview_is_complete (message, self->lines);
    }

  show_message (self);

  if (message != NULL && !popcheck_message_get_details_loaded (message))
    {
      self->cancellable = g_cancellable_new ();
      set_busy (self, TRUE);
      popcheck_message_load_details_async (message, self->cancellable,
                                           details_cb, g_object_ref (self));
    }

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MESSAGE]);
}

void
popcheck_preview_set_n_selected (PopcheckPreview *self,
                                 guint            n_selected)
{
  g_autofree char *title = NULL;

  g_return_if_fail (POPCHECK_IS_PREVIEW (self));

  if (n_selected <= 1)
    {
      adw_status_page_set_icon_name (self->empty_page, "mail-read-symbolic");
      adw_status_page_set_title (self->empty_page, _("No Message Selected"));
      adw_status_page_set_description (self->empty_page,
                                       _("Select a message to read its first lines. "
                                         "It stays unread on the server."));
      return;
    }

  title = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                        "%u Message Selected",
                                        "%u Messages Selected",
                                        n_selected),
                           n_selected);
  adw_status_page_set_icon_name (self->empty_page, "edit-select-all-symbolic");
  adw_status_page_set_title (self->empty_page, title);
  adw_status_page_set_description (self->empty_page,
                                   _("Press Delete to delete them from the server."));
}

gboolean
popcheck_preview_get_busy (PopcheckPreview *self)
{
  g_return_val_if_fail (POPCHECK_IS_PREVIEW (self), FALSE);

  return self->cancellable != NULL;
}

char *
popcheck_preview_dup_body_text (PopcheckPreview *self)
{
  GtkTextBuffer *buffer;
  GtkTextIter start, end;

  g_return_val_if_fail (POPCHECK_IS_PREVIEW (self), NULL);

  buffer = gtk_text_view_get_buffer (self->body_view);
  gtk_text_buffer_get_bounds (buffer, &start, &end);

  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}
