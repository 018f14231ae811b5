/* popcheck-account-status.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The error text is the server's own words as the checker kept them, so it
 * is set as plain text.  The button leads to what fixes the problem: the
 * password for [AUTH], the browser sign-in for an OAuth2 sign-in no longer
 * taken (Settings, for an account whose sign-in lives there), the
 * certificate dialog for a refused certificate, another try for
 * everything else.
 */

#define G_LOG_DOMAIN "popcheck-account-status"

#include "config.h"

#include <glib/gi18n.h>

#include "popcheck-accessible.h"
#include "popcheck-account.h"
#include "popcheck-account-status.h"
#include "popcheck-mailbox.h"

struct _PopcheckAccountStatus
{
  GtkListBoxRow    parent_instance;

  PopcheckMailbox *mailbox;
  /* NULL when the mailbox's account is not known. */
  PopcheckAccount *account;

  GtkStack        *icon_stack;
  GtkSpinner      *spinner;
  GtkImage        *icon;
  GtkLabel        *title_label;
  GtkLabel        *message_label;
  GtkLabel        *next_check_label;
  GtkButton       *action_button;
};

G_DEFINE_FINAL_TYPE (PopcheckAccountStatus, popcheck_account_status,
                     GTK_TYPE_LIST_BOX_ROW)

enum {
  PROP_0,
  PROP_MAILBOX,
  PROP_ACCOUNT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
set_icon (PopcheckAccountStatus *self,
          const char            *icon_name,
          const char            *css_class)
{
  gtk_spinner_set_spinning (self->spinner, FALSE);
  gtk_image_set_from_icon_name (self->icon, icon_name);
  gtk_widget_remove_css_class (GTK_WIDGET (self->icon), "error");
  gtk_widget_remove_css_class (GTK_WIDGET (self->icon), "warning");
  if (css_class != NULL)
    gtk_widget_add_css_class (GTK_WIDGET (self->icon), css_class);
  gtk_stack_set_visible_child_name (self->icon_stack, "icon");
}

static void
set_button (PopcheckAccountStatus *self,
            const char            *label,
            const char            *action_name)
{
  gtk_widget_set_visible (GTK_WIDGET (self->action_button), label != NULL);
  if (label == NULL)
    return;

  gtk_button_set_label (self->action_button, label);
  /* The target first: an action with a parameter refuses a NULL target. */
  gtk_actionable_set_action_target (GTK_ACTIONABLE (self->action_button), "s",
                                    popcheck_mailbox_get_account_id (self->mailbox));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (self->action_button), action_name);
}

/* A busy or failing server is tried again on a schedule the user cannot
 * guess (LOGIN-DELAY, back-off): say when. */
static void
update_next_check (PopcheckAccountStatus *self)
{
  PopcheckProblem problem = popcheck_mailbox_get_problem (self->mailbox);
  GDateTime *next_check = popcheck_mailbox_get_next_check (self->mailbox);
  g_autoptr(GDateTime) local = NULL;
  g_autofree char *time = NULL;
  g_autofree char *text = NULL;
  gboolean retrying;

  retrying = popcheck_mailbox_get_state (self->mailbox) == POPCHECK_MAILBOX_STATE_ERROR &&
             (problem == POPCHECK_PROBLEM_BUSY || problem == POPCHECK_PROBLEM_TEMPORARY);
  gtk_widget_set_visible (GTK_WIDGET (self->next_check_label),
                          retrying && next_check != NULL);
  if (!retrying || next_check == NULL)
    return;

  local = g_date_time_to_local (next_check);
  time = g_date_time_format (local, "%H:%M");
  /* Translators: %s is a time of day. */
  text = g_strdup_printf (_("PopCheck tries again at %s."), time);
  gtk_label_set_text (self->next_check_label, text);
}

/* Idle and disabled accounts have nothing to say, their row stays hidden;
 * unless broken UIDL lines left messages of an idle one without a UID. */
static gboolean
has_something_to_say (PopcheckAccountStatus *self)
{
  switch (popcheck_mailbox_get_state (self->mailbox))
    {
    case POPCHECK_MAILBOX_STATE_CHECKING:
    case POPCHECK_MAILBOX_STATE_OFFLINE:
    case POPCHECK_MAILBOX_STATE_ERROR:
      return TRUE;
    case POPCHECK_MAILBOX_STATE_IDLE:
      return popcheck_mailbox_get_n_without_uid (self->mailbox) > 0;
    case POPCHECK_MAILBOX_STATE_DISABLED:
    default:
      return FALSE;
    }
}

/* A check that went well but met broken UIDL lines: the account works,
 * and the user learns why some messages cannot be deleted, in the one
 * place that stays while it is true, rather than in a notification at
 * every check. */
static void
show_without_uid (PopcheckAccountStatus *self)
{
  g_autofree char *text = popcheck_mailbox_describe_without_uid (self->mailbox);

  if (text == NULL)
    return;

  set_icon (self, "dialog-warning-symbolic", "warning");
  set_button (self, NULL, NULL);
  gtk_label_set_text (self->message_label, text);
}

static void
update (PopcheckAccountStatus *self)
{
  PopcheckMailboxState state = popcheck_mailbox_get_state (self->mailbox);
  PopcheckProblem problem = popcheck_mailbox_get_problem (self->mailbox);
  const char *error_message = popcheck_mailbox_get_error_message (self->mailbox);
  const char *name = popcheck_mailbox_get_display_name (self->mailbox);

  gtk_label_set_text (self->title_label, name != NULL ? name : "");
  gtk_widget_remove_css_class (GTK_WIDGET (self), "error");
  update_next_check (self);

  switch (state)
    {
    case POPCHECK_MAILBOX_STATE_CHECKING:
      gtk_stack_set_visible_child_name (self->icon_stack, "spinner");
      gtk_spinner_set_spinning (self->spinner, TRUE);
      gtk_label_set_text (self->message_label, _("Checking for new mail…"));
      set_button (self, NULL, NULL);
      break;

    case POPCHECK_MAILBOX_STATE_OFFLINE:
      set_icon (self, "network-offline-symbolic", NULL);
      gtk_label_set_text (self->message_label,
                          _("Offline. PopCheck checks again when the network is back."));
      set_button (self, NULL, NULL);
      break;

    case POPCHECK_MAILBOX_STATE_ERROR:
      gtk_widget_add_css_class (GTK_WIDGET (self), "error");
      gtk_label_set_text (self->message_label,
                          error_message != NULL && *error_message != '\0'
                            ? error_message
                            : _("The last check failed."));
      switch (problem)
        {
        case POPCHECK_PROBLEM_AUTH:
          set_icon (self, "dialog-password-symbolic", "error");
          set_button (self, _("Fix _Password…"), "app.fix-account");
          break;
        case POPCHECK_PROBLEM_SIGN_IN:
          set_icon (self, "dialog-password-symbolic", "error");
          /* PopCheck cannot sign such an account in itself: the button
           * says where it leads. */
          if (self->account != NULL && popcheck_account_is_external (self->account))
            set_button (self, _("Open _Settings…"), "app.sign-in-again");
          else
            set_button (self, _("Sign _In Again…"), "app.sign-in-again");
          break;
        case POPCHECK_PROBLEM_SECRET:
          set_icon (self, "dialog-password-symbolic", "error");
          set_button (self, _("_Password…"), "app.fix-account");
          break;
        case POPCHECK_PROBLEM_CERTIFICATE:
          set_icon (self, "security-low-symbolic", "error");
          set_button (self, _("_Review Certificate…"), "app.fix-account");
          break;
        case POPCHECK_PROBLEM_BUSY:
        case POPCHECK_PROBLEM_TEMPORARY:
          set_icon (self, "dialog-warning-symbolic", "warning");
          set_button (self, _("_Try Again"), "app.check-account");
          break;
        case POPCHECK_PROBLEM_PERMANENT:
        case POPCHECK_PROBLEM_NONE:
        default:
          set_icon (self, "dialog-error-symbolic", "error");
          set_button (self, _("_Try Again"), "app.check-account");
          break;
        }
      break;

    case POPCHECK_MAILBOX_STATE_IDLE:
      gtk_spinner_set_spinning (self->spinner, FALSE);
      show_without_uid (self);
      break;

    case POPCHECK_MAILBOX_STATE_DISABLED:
    default:
      gtk_spinner_set_spinning (self->spinner, FALSE);
      break;
    }

  gtk_widget_set_visible (GTK_WIDGET (self), has_something_to_say (self));
}

static void
mailbox_notify_cb (PopcheckMailbox       *mailbox,
                   GParamSpec            *pspec,
                   PopcheckAccountStatus *self)
{
  update (self);
}

static void
popcheck_account_status_constructed (GObject *object)
{
  PopcheckAccountStatus *self = POPCHECK_ACCOUNT_STATUS (object);

  G_OBJECT_CLASS (popcheck_account_status_parent_class)->constructed (object);

  g_signal_connect_object (self->mailbox, "notify::state",
                           G_CALLBACK (mailbox_notify_cb), self, 0);
  g_signal_connect_object (self->mailbox, "notify::problem",
                           G_CALLBACK (mailbox_notify_cb), self, 0);
  g_signal_connect_object (self->mailbox, "notify::error-message",
                           G_CALLBACK (mailbox_notify_cb), self, 0);
  g_signal_connect_object (self->mailbox, "notify::next-check",
                           G_CALLBACK (mailbox_notify_cb), self, 0);
  g_signal_connect_object (self->mailbox, "notify::n-without-uid",
                           G_CALLBACK (mailbox_notify_cb), self, 0);
  g_signal_connect_object (self->mailbox, "notify::display-name",
                           G_CALLBACK (mailbox_notify_cb), self, 0);
  update (self);
}

/* GtkListBox shows every row it makes from its model, after the row was
 * made: an idle account would then show an empty card with a blank
 * button.  The row decides for itself. */
static void
popcheck_account_status_show (GtkWidget *widget)
{
  PopcheckAccountStatus *self = POPCHECK_ACCOUNT_STATUS (widget);

  if (self->mailbox == NULL || has_something_to_say (self))
    GTK_WIDGET_CLASS (popcheck_account_status_parent_class)->show (widget);
}

static void
popcheck_account_status_dispose (GObject *object)
{
  PopcheckAccountStatus *self = POPCHECK_ACCOUNT_STATUS (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), POPCHECK_TYPE_ACCOUNT_STATUS);
  g_clear_object (&self->mailbox);
  g_clear_object (&self->account);

  G_OBJECT_CLASS (popcheck_account_status_parent_class)->dispose (object);
}

static void
popcheck_account_status_get_property (GObject    *object,
                                      guint       prop_id,
                                      GValue     *value,
                                      GParamSpec *pspec)
{
  PopcheckAccountStatus *self = POPCHECK_ACCOUNT_STATUS (object);

  switch (prop_id)
    {
    case PROP_MAILBOX:
      g_value_set_object (value, self->mailbox);
      break;
    case PROP_ACCOUNT:
      g_value_set_object (value, self->account);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
popcheck_account_status_set_property (GObject      *object,
                                      guint         prop_id,
                                      const GValue *value,
                                      GParamSpec   *pspec)
{
  PopcheckAccountStatus *self = POPCHECK_ACCOUNT_STATUS (object);

  switch (prop_id)
    {
    case PROP_MAILBOX:
      self->mailbox = g_value_dup_object (value);
      break;
    case PROP_ACCOUNT:
      self->account = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
popcheck_account_status_class_init (PopcheckAccountStatusClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = popcheck_account_status_constructed;
  object_class->dispose = popcheck_account_status_dispose;
  object_class->get_property = popcheck_account_status_get_property;
  object_class->set_property = popcheck_account_status_set_property;
  widget_class->show = popcheck_account_status_show;

  properties[PROP_MAILBOX] =
    g_param_spec_object ("mailbox", NULL, NULL,
                         POPCHECK_TYPE_MAILBOX,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_STATIC_STRINGS));
  properties[PROP_ACCOUNT] =
    g_param_spec_object ("account", NULL, NULL,
                         POPCHECK_TYPE_ACCOUNT,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_STATIC_STRINGS));
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/example/PopCheck/popcheck-account-status.ui");
  gtk_widget_class_bind_template_child (widget_class, PopcheckAccountStatus, icon_stack);
  gtk_widget_class_bind_template_child (widget_class, PopcheckAccountStatus, spinner);
  gtk_widget_class_bind_template_child (widget_class, PopcheckAccountStatus, icon);
  gtk_widget_class_bind_template_child (widget_class, PopcheckAccountStatus, title_label);
  gtk_widget_class_bind_template_child (widget_class, PopcheckAccountStatus, message_label);
  gtk_widget_class_bind_template_child (widget_class, PopcheckAccountStatus, next_check_label);
  gtk_widget_class_bind_template_child (widget_class, PopcheckAccountStatus, action_button);
}

static void
popcheck_account_status_init (PopcheckAccountStatus *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  popcheck_accessible_fix_mnemonic_buttons (GTK_WIDGET (self));
}

GtkWidget *
popcheck_account_status_new (PopcheckMailbox *mailbox,
                             PopcheckAccount *account)
{
  g_return_val_if_fail (POPCHECK_IS_MAILBOX (mailbox), NULL);
  g_return_val_if_fail (account == NULL || POPCHECK_IS_ACCOUNT (account), NULL);

  return g_object_new (POPCHECK_TYPE_ACCOUNT_STATUS,
                       "mailbox", mailbox,
                       "account", account,
                       NULL);
}

PopcheckMailbox *
popcheck_account_status_get_mailbox (PopcheckAccountStatus *self)
{
  g_return_val_if_fail (POPCHECK_IS_ACCOUNT_STATUS (self), NULL);

  return self->mailbox;
}
