/* popcheck-account-editor.c: add or edit one account
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The editor holds what is typed until Save: nothing reaches the account
 * or the keyring while a field is invalid, and a refused Save keeps every
 * field as it was.  The password is never read back from the keyring: an
 * empty password field on an existing account keeps the stored one.
 */

#define G_LOG_DOMAIN "popcheck-account-editor"

#include "config.h"

#include <glib/gi18n.h>

#include "pop3-security.h"
#include "popcheck-accessible.h"
#include "popcheck-account.h"
#include "popcheck-account-editor.h"
#include "popcheck-account-list.h"
#include "popcheck-certificate-dialog.h"
#include "popcheck-connection-test.h"
#include "popcheck-secret.h"

/* The rows of the security combo. */
enum {
  SECURITY_AUTOMATIC,
  SECURITY_TLS,
  SECURITY_STARTTLS,
  SECURITY_NONE,
};

/* What a run of the connection test is for. */
typedef enum {
  PURPOSE_TEST,
  PURPOSE_SAVE,
} Purpose;

struct _PopcheckAccountEditor
{
  GtkBox                  parent_instance;

  PopcheckAccountList    *accounts;
  PopcheckAccount        *account;
  char                   *pinned_fingerprint;
  /* Where the stored password was found when the editor opened. */
  char                   *old_host;
  char                   *old_user;
  guint16                 old_port;
  GCancellable           *cancellable;
  PopcheckConnectionTest *test;
  gboolean                validated;
  gboolean                busy;

  AdwWindowTitle         *window_title;
  GtkSpinner             *save_spinner;
  AdwEntryRow            *name_row;
  AdwEntryRow            *user_row;
  AdwPreferencesRow      *user_message_row;
  GtkLabel               *user_message;
  AdwPasswordEntryRow    *password_row;
  AdwPreferencesRow      *password_message_row;
  GtkLabel               *password_message;
  AdwEntryRow            *host_row;
  AdwPreferencesRow      *host_message_row;
  GtkLabel               *host_message;
  AdwComboRow            *security_row;
  AdwActionRow           *plaintext_row;
  GtkSwitch              *plaintext_switch;
  AdwPreferencesRow      *security_message_row;
  GtkLabel               *security_message;
  AdwEntryRow            *port_row;
  AdwPreferencesRow      *port_message_row;
  GtkLabel               *port_message;
  AdwComboRow            *auth_row;
  GtkSwitch              *enabled_switch;
  GtkSpinButton          *interval_spin;
  GtkSpinButton          *preview_spin;
  GtkSwitch              *notify_switch;
  GtkSpinner             *test_spinner;
  GtkButton              *test_button;
  GtkButton              *cancel_test_button;
  GtkLabel               *test_result_label;
};

G_DEFINE_FINAL_TYPE (PopcheckAccountEditor, popcheck_account_editor,
                     GTK_TYPE_BOX)

enum {
  SAVED,
  CLOSED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void start_session (PopcheckAccountEditor *self,
                           Purpose                purpose);

/* Reading and checking the fields */

static char *
entry_text (AdwEntryRow *row)
{
  return g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (row))));
}

static gboolean
has_space (const char *text)
{
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    if (g_unichar_isspace (g_utf8_get_char (p)))
      return TRUE;
  return FALSE;
}

static void
show_message (AdwPreferencesRow *message_row,
              GtkLabel          *message,
              GtkWidget         *field,
              const char        *text)
{
  gtk_label_set_text (message, text ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (message_row), text != NULL);
  if (field == NULL)
    return;
  if (text != NULL)
    gtk_widget_add_css_class (field, "error");
  else
    gtk_widget_remove_css_class (field, "error");
}

static guint
security_index (PopcheckAccountEditor *self)
{
  return adw_combo_row_get_selected (self->security_row);
}

static Pop3Security
chosen_security (PopcheckAccountEditor *self)
{
  switch (security_index (self))
    {
    case SECURITY_STARTTLS:
      return POP3_SECURITY_STARTTLS;
    case SECURITY_NONE:
      return POP3_SECURITY_NONE;
    case SECURITY_TLS:
    case SECURITY_AUTOMATIC:
    default:
      return POP3_SECURITY_TLS;
    }
}

static Pop3AuthMethod
chosen_auth (PopcheckAccountEditor *self)
{
  static const Pop3AuthMethod methods[] = {
    POP3_AUTH_AUTO, POP3_AUTH_USER, POP3_AUTH_APOP,
    POP3_AUTH_PLAIN, POP3_AUTH_LOGIN, POP3_AUTH_CRAM_MD5,
  };
  guint selected = adw_combo_row_get_selected (self->auth_row);

  return selected < G_N_ELEMENTS (methods) ? methods[selected]
                                           : POP3_AUTH_AUTO;
}

static guint
auth_index (Pop3AuthMethod method)
{
  switch (method)
    {
    case POP3_AUTH_USER:
      return 1;
    case POP3_AUTH_APOP:
      return 2;
    case POP3_AUTH_PLAIN:
      return 3;
    case POP3_AUTH_LOGIN:
      return 4;
    case POP3_AUTH_CRAM_MD5:
      return 5;
    case POP3_AUTH_AUTO:
    default:
      return 0;
    }
}

static gboolean
parse_port (const char *text,
            guint16    *port)
{
  guint64 value;

  if (!g_ascii_string_to_unsigned (text, 10, 1, G_MAXUINT16, &value, NULL))
    return FALSE;
  *port = (guint16) value;
  return TRUE;
}

/* The keyring finds a password by server, port and user: when one of them
 * changes, the password must be typed again to be stored under the new
 * ones. */
static gboolean
identity_changed (PopcheckAccountEditor *self)
{
  g_autofree char *user = entry_text (self->user_row);
  g_autofree char *host = entry_text (self->host_row);
  g_autofree char *port = entry_text (self->port_row);
  guint16 port_number = 0;

  if (self->account == NULL)
    return TRUE;

  parse_port (port, &port_number);
  return g_strcmp0 (user, popcheck_account_get_user (self->account)) != 0 ||
         g_strcmp0 (host, popcheck_account_get_host (self->account)) != 0 ||
         (security_index (self) != SECURITY_AUTOMATIC &&
          port_number != popcheck_account_get_port (self->account));
}

/* Shows a message beside every field that is wrong and returns whether
 * all are right.  need_password: a new password must be typed. */
static gboolean
validate (PopcheckAccountEditor *self,
          gboolean               need_password)
{
  g_autofree char *user = entry_text (self->user_row);
  g_autofree char *host = entry_text (self->host_row);
  g_autofree char *port = entry_text (self->port_row);
  const char *password = gtk_editable_get_text (GTK_EDITABLE (self->password_row));
  const char *problem;
  gboolean valid = TRUE;
  guint16 port_number;

  self->validated = TRUE;

  problem = NULL;
  if (*user == '\0')
    problem = _("Enter the user name, often your email address.");
  else if (has_space (user))
    problem = _("A user name cannot contain spaces.");
  show_message (self->user_message_row, self->user_message,
                GTK_WIDGET (self->user_row), problem);
  valid &= problem == NULL;

  problem = NULL;
  if (*host == '\0')
    problem = _("Enter the name of the POP3 server, for example "
                "pop.example.com.");
  else if (has_space (host))
    problem = _("A server name cannot contain spaces.");
  show_message (self->host_message_row, self->host_message,
                GTK_WIDGET (self->host_row), problem);
  valid &= problem == NULL;

  problem = NULL;
  if (security_index (self) != SECURITY_AUTOMATIC &&
      !parse_port (port, &port_number))
    problem = _("The port must be a number from 1 to 65535.");
  show_message (self->port_message_row, self->port_message,
                GTK_WIDGET (self->port_row), problem);
  valid &= problem == NULL;

  problem = NULL;
  if (security_index (self) == SECURITY_NONE &&
      !gtk_switch_get_active (self->plaintext_switch))
    problem = _("Confirm above that the password may travel unencrypted, "
                "or choose TLS or STARTTLS.");
  show_message (self->security_message_row, self->security_message,
                NULL, problem);
  valid &= problem == NULL;

  if (need_password && *password == '\0' &&
      (self->account == NULL || identity_changed (self)))
    {
      show_message (self->password_message_row, self->password_message,
                    GTK_WIDGET (self->password_row),
                    _("Enter the password; it is kept in your keyring."));
      gtk_widget_remove_css_class (GTK_WIDGET (self->password_message),
                                   "dim-label");
      gtk_widget_add_css_class (GTK_WIDGET (self->password_message), "error");
      valid = FALSE;
    }
  else if (self->account != NULL)
    {
      show_message (self->password_message_row, self->password_message,
                    NULL,
                    _("A password is stored in your keyring. Type a new one "
                      "only to replace it."));
      gtk_widget_remove_css_class (GTK_WIDGET (self->password_row), "error");
      gtk_widget_remove_css_class (GTK_WIDGET (self->password_message),
                                   "error");
      gtk_widget_add_css_class (GTK_WIDGET (self->password_message),
                                "dim-label");
    }
  else
    show_message (self->password_message_row, self->password_message,
                  GTK_WIDGET (self->password_row), NULL);

  return valid;
}

static void
field_changed_cb (PopcheckAccountEditor *self)
{
  /* Once Save or Test showed what is wrong, the messages follow the
   * typing; before that, nobody is scolded for a field not filled yet. */
  if (self->validated)
    validate (self, FALSE);
}

static void
security_changed_cb (PopcheckAccountEditor *self)
{
  guint index = security_index (self);
  g_autofree char *port = entry_text (self->port_row);

  gtk_widget_set_visible (GTK_WIDGET (self->plaintext_row),
                          index == SECURITY_NONE);
  if (index != SECURITY_NONE)
    gtk_switch_set_active (self->plaintext_switch, FALSE);

  /* Automatic tries both standard ports; otherwise follow the standard
   * port of the choice unless another port was typed. */
  gtk_widget_set_sensitive (GTK_WIDGET (self->port_row),
                            index != SECURITY_AUTOMATIC);
  if (index == SECURITY_AUTOMATIC)
    gtk_editable_set_text (GTK_EDITABLE (self->port_row), "");
  else
    {
      g_autofree char *tls_port = NULL;
      g_autofree char *starttls_port = NULL;

      tls_port = g_strdup_printf ("%u", pop3_security_default_port (POP3_SECURITY_TLS));
      starttls_port = g_strdup_printf ("%u", pop3_security_default_port (POP3_SECURITY_STARTTLS));
      if (*port == '\0' || g_str_equal (port, tls_port) ||
          g_str_equal (port, starttls_port))
        gtk_editable_set_text (GTK_EDITABLE (self->port_row),
                               index == SECURITY_TLS ? tls_port : starttls_port);
    }

  field_changed_cb (self);
}

/* Busy state */

static void
set_busy (PopcheckAccountEditor *self,
          Purpose                purpose,
          gboolean               busy)
{
  self->busy = busy;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "editor.save", !busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "editor.test", !busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "editor.cancel-test",
                                 busy);

  if (purpose == PURPOSE_TEST)
    {
      gtk_widget_set_visible (GTK_WIDGET (self->test_spinner), busy);
      gtk_spinner_set_spinning (self->test_spinner, busy);
    }
  else
    {
      gtk_widget_set_visible (GTK_WIDGET (self->save_spinner), busy);
      gtk_spinner_set_spinning (self->save_spinner, busy);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->test_button), !busy);
  gtk_widget_set_visible (GTK_WIDGET (self->cancel_test_button), busy);
}

static void
show_result (PopcheckAccountEditor *self,
             const char            *text,
             gboolean               failed)
{
  gtk_label_set_text (self->test_result_label, text);
  gtk_widget_set_visible (GTK_WIDGET (self->test_result_label), TRUE);
  if (failed)
    gtk_widget_add_css_class (GTK_WIDGET (self->test_result_label), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->test_result_label),
                                 "error");
}

static void
close_editor (PopcheckAccountEditor *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  g_cancellable_cancel (self->cancellable);
  if (ADW_IS_PREFERENCES_WINDOW (root))
    adw_preferences_window_close_subpage (ADW_PREFERENCES_WINDOW (root));
  g_signal_emit (self, signals[CLOSED], 0);
}

static void
add_toast (PopcheckAccountEditor *self,
           const char            *title)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (ADW_IS_PREFERENCES_WINDOW (root))
    adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (root),
                                      adw_toast_new (title));
}

/* Saving */

static void
clear_old_password_cb (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!popcheck_secret_clear_finish (result, &error))
    g_message ("The password under the account's former server or user "
               "could not be removed: %s", error->message);
}

/* The password now lives under the new server, port and user: the one
 * under the old ones would be left behind for nobody. */
static void
clear_old_password (PopcheckAccountEditor *self)
{
  if (self->old_host == NULL ||
      (g_strcmp0 (self->old_host, popcheck_account_get_host (self->account)) == 0 &&
       g_strcmp0 (self->old_user, popcheck_account_get_user (self->account)) == 0 &&
       self->old_port == popcheck_account_get_port (self->account)))
    return;

  popcheck_secret_clear_async (self->old_host, self->old_port, self->old_user,
                               NULL, clear_old_password_cb, NULL);
  g_clear_pointer (&self->old_host, g_free);
  g_clear_pointer (&self->old_user, g_free);
}

static void
store_password_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(PopcheckAccountEditor) self = user_data;
  g_autoptr(GError) error = NULL;

  set_busy (self, PURPOSE_SAVE, FALSE);

  if (!popcheck_secret_store_finish (result, &error))
    {
      g_autofree char *text = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;

      /* The settings are saved; the typed password stays in its field so
       * that Save can be tried again. */
      text = g_strdup_printf (_("The settings are saved, but the password "
                                "could not be stored: %s"), error->message);
      show_message (self->password_message_row, self->password_message,
                    GTK_WIDGET (self->password_row), text);
      gtk_widget_remove_css_class (GTK_WIDGET (self->password_message),
                                   "dim-label");
      gtk_widget_add_css_class (GTK_WIDGET (self->password_message), "error");
      return;
    }

  gtk_editable_set_text (GTK_EDITABLE (self->password_row), "");
  clear_old_password (self);
  g_signal_emit (self, signals[SAVED], 0, self->account);
  add_toast (self, _("Account saved"));
  close_editor (self);
}

static void
apply (PopcheckAccountEditor *self,
       Pop3Security           security,
       guint16                port)
{
  g_autofree char *name = entry_text (self->name_row);
  g_autofree char *user = entry_text (self->user_row);
  g_autofree char *host = entry_text (self->host_row);
  g_autofree char *password = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->password_row)));
  g_autoptr(GError) error = NULL;

  if (*name == '\0')
    {
      g_free (name);
      name = g_strdup_printf ("%s@%s", user, host);
    }

  if (self->account == NULL)
    {
      self->account = popcheck_account_list_add (self->accounts, name, &error);
      if (self->account == NULL)
        {
          set_busy (self, PURPOSE_SAVE, FALSE);
          show_result (self, error->message, TRUE);
          return;
        }
      g_object_ref (self->account);
      adw_window_title_set_title (self->window_title, _("Edit Account"));
    }

  popcheck_account_set_display_name (self->account, name);
  popcheck_account_set_user (self->account, user);
  popcheck_account_set_host (self->account, host);
  popcheck_account_set_port (self->account, port);
  popcheck_account_set_security (self->account, security);
  popcheck_account_set_auth_method (self->account, chosen_auth (self));
  popcheck_account_set_enabled (self->account,
                                gtk_switch_get_active (self->enabled_switch));
  popcheck_account_set_check_interval (
    self->account, gtk_spin_button_get_value_as_int (self->interval_spin));
  popcheck_account_set_preview_lines (
    self->account, gtk_spin_button_get_value_as_int (self->preview_spin));
  popcheck_account_set_notify (self->account,
                               gtk_switch_get_active (self->notify_switch));
  popcheck_account_set_pinned_fingerprint (self->account,
                                           self->pinned_fingerprint);

  if (*password == '\0')
    {
      set_busy (self, PURPOSE_SAVE, FALSE);
      g_signal_emit (self, signals[SAVED], 0, self->account);
      add_toast (self, _("Account saved"));
      close_editor (self);
      return;
    }

  popcheck_secret_store_async (popcheck_account_get_host (self->account),
                               popcheck_account_get_port (self->account),
                               popcheck_account_get_user (self->account),
                               password, self->cancellable,
                               store_password_cb, g_object_ref (self));
}

static void
save_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  PopcheckAccountEditor *self = POPCHECK_ACCOUNT_EDITOR (widget);
  g_autofree char *port = entry_text (self->port_row);
  guint16 port_number = 0;

  if (self->busy || !validate (self, TRUE))
    return;

  /* "Automatic" is never stored: find out what works first. */
  if (security_index (self) == SECURITY_AUTOMATIC)
    {
      start_session (self, PURPOSE_SAVE);
      return;
    }

  set_busy (self, PURPOSE_SAVE, TRUE);
  parse_port (port, &port_number);
  apply (self, chosen_security (self), port_number);
}

/* The connection test */

static void
certificate_trusted_cb (PopcheckAccountEditor     *self,
                        const char                *fingerprint,
                        PopcheckCertificateDialog *dialog)
{
  g_free (self->pinned_fingerprint);
  self->pinned_fingerprint = g_strdup (fingerprint);
  show_result (self, _("The certificate is trusted for this account. "
                       "Testing again…"), FALSE);
  start_session (self, PURPOSE_TEST);
}

static void
ask_about_certificate (PopcheckAccountEditor *self,
                       const Pop3TlsInfo     *info)
{
  GtkWindow *dialog;
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  /* The editor's account is not touched here: the pin is saved with the
   * other fields, or dropped with them. */
  dialog = popcheck_certificate_dialog_new (GTK_IS_WINDOW (root)
                                              ? GTK_WINDOW (root) : NULL,
                                            NULL, info,
                                            self->pinned_fingerprint);
  g_signal_connect_object (dialog, "trusted",
                           G_CALLBACK (certificate_trusted_cb), self,
                           G_CONNECT_SWAPPED);
  gtk_window_present (dialog);
}

static void
session_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  PopcheckConnectionTest *test = POPCHECK_CONNECTION_TEST (object);
  g_autoptr(GTask) task = user_data;
  PopcheckAccountEditor *self = g_task_get_source_object (task);
  Purpose purpose = GPOINTER_TO_INT (g_task_get_task_data (task));
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  gboolean connected;

  if (test != self->test)
    return;

  connected = popcheck_connection_test_run_finish (test, result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      if (!g_cancellable_is_cancelled (self->cancellable))
        {
          set_busy (self, purpose, FALSE);
          show_result (self, _("The test was cancelled."), TRUE);
        }
      return;
    }

  /* The security that worked is what Automatic stands for from now on. */
  if (security_index (self) == SECURITY_AUTOMATIC &&
      popcheck_connection_test_get_greeting (test) != NULL)
    {
      g_autofree char *port = g_strdup_printf (
        "%u", popcheck_connection_test_get_port (test));

      adw_combo_row_set_selected (
        self->security_row,
        popcheck_connection_test_get_security (test) == POP3_SECURITY_TLS
          ? SECURITY_TLS : SECURITY_STARTTLS);
      gtk_editable_set_text (GTK_EDITABLE (self->port_row), port);
    }

  if (purpose == PURPOSE_SAVE && popcheck_connection_test_get_greeting (test))
    {
      apply (self, popcheck_connection_test_get_security (test),
             popcheck_connection_test_get_port (test));
      return;
    }

  set_busy (self, purpose, FALSE);

  if (connected)
    {
      text = popcheck_connection_test_format_report (test);
      show_result (self, text, FALSE);
      return;
    }

  text = popcheck_connection_test_describe_error (error);
  if (purpose == PURPOSE_SAVE)
    {
      g_autofree char *both = g_strdup_printf (
        _("Neither TLS nor STARTTLS worked, so nothing was saved. Choose the "
          "security yourself, or check the server name.\n%s"), text);
      show_result (self, both, TRUE);
    }
  else
    show_result (self, text, TRUE);

  if (g_error_matches (error, POP3_ERROR, POP3_ERROR_CERTIFICATE) &&
      popcheck_connection_test_get_tls_info (test) != NULL)
    ask_about_certificate (self, popcheck_connection_test_get_tls_info (test));
}

static void
start_session (PopcheckAccountEditor *self,
               Purpose                purpose)
{
  g_autofree char *user = entry_text (self->user_row);
  g_autofree char *host = entry_text (self->host_row);
  g_autofree char *port = entry_text (self->port_row);
  const char *password = gtk_editable_get_text (GTK_EDITABLE (self->password_row));
  GTask *task;
  guint16 port_number = 0;

  parse_port (port, &port_number);
  g_clear_object (&self->test);
  self->test = popcheck_connection_test_new (host, port_number,
                                             chosen_security (self),
                                             user, password,
                                             chosen_auth (self));
  if (security_index (self) == SECURITY_AUTOMATIC)
    popcheck_connection_test_set_automatic (self->test,
                                            pop3_security_default_port (POP3_SECURITY_TLS),
                                            pop3_security_default_port (POP3_SECURITY_STARTTLS));
  popcheck_connection_test_set_pinned_fingerprint (self->test,
                                                   self->pinned_fingerprint);
  /* An empty field keeps the stored password: the test uses it too, but
   * only with the server and user it was stored for. */
  if (*password == '\0' && self->account != NULL && !identity_changed (self))
    popcheck_connection_test_set_stored_password (self->test,
                                                  popcheck_account_get_host (self->account),
                                                  popcheck_account_get_port (self->account),
                                                  popcheck_account_get_user (self->account));

  set_busy (self, purpose, TRUE);
  if (purpose == PURPOSE_TEST)
    show_result (self, _("Connecting…"), FALSE);

  /* The task only carries the purpose to the callback; the editor's own
   * cancellable stops the session when the editor goes away. */
  task = g_task_new (self, NULL, NULL, NULL);
  g_task_set_task_data (task, GINT_TO_POINTER (purpose), NULL);
  popcheck_connection_test_run_async (self->test, self->cancellable,
                                      session_cb, task);
}

static void
test_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  PopcheckAccountEditor *self = POPCHECK_ACCOUNT_EDITOR (widget);

  if (self->busy || !validate (self, FALSE))
    return;

  start_session (self, PURPOSE_TEST);
}

static void
cancel_test_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  PopcheckAccountEditor *self = POPCHECK_ACCOUNT_EDITOR (widget);

  /* A fresh cancellable for what comes next; the old one stops the test. */
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  if (self->busy)
    {
      set_busy (self, PURPOSE_TEST, FALSE);
      set_busy (self, PURPOSE_SAVE, FALSE);
      show_result (self, _("The test was cancelled."), TRUE);
    }
}

static void
close_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  close_editor (POPCHECK_ACCOUNT_EDITOR (widget));
}

/* Loading */

static void
load (PopcheckAccountEditor *self)
{
  PopcheckAccount *account = self->account;
  g_autofree char *port = NULL;

  if (account == NULL)
    {
      adw_window_title_set_title (self->window_title, _("New Account"));
      adw_combo_row_set_selected (self->security_row, SECURITY_AUTOMATIC);
      security_changed_cb (self);
      gtk_switch_set_active (self->enabled_switch, TRUE);
      gtk_switch_set_active (self->notify_switch, TRUE);
      gtk_spin_button_set_value (self->interval_spin, 5);
      gtk_spin_button_set_value (self->preview_spin, 20);
      return;
    }

  adw_window_title_set_title (self->window_title, _("Edit Account"));
  adw_window_title_set_subtitle (self->window_title,
                                 popcheck_account_get_display_name (account));
  gtk_editable_set_text (GTK_EDITABLE (self->name_row),
                         popcheck_account_get_display_name (account));
  gtk_editable_set_text (GTK_EDITABLE (self->user_row),
                         popcheck_account_get_user (account));
  gtk_editable_set_text (GTK_EDITABLE (self->host_row),
                         popcheck_account_get_host (account));

  switch (popcheck_account_get_security (account))
    {
    case POP3_SECURITY_STARTTLS:
      adw_combo_row_set_selected (self->security_row, SECURITY_STARTTLS);
      break;
    case POP3_SECURITY_NONE:
      adw_combo_row_set_selected (self->security_row, SECURITY_NONE);
      /* Chosen and confirmed before. */
      gtk_switch_set_active (self->plaintext_switch, TRUE);
      break;
    case POP3_SECURITY_TLS:
    default:
      adw_combo_row_set_selected (self->security_row, SECURITY_TLS);
      break;
    }
  security_changed_cb (self);
  if (popcheck_account_get_security (account) == POP3_SECURITY_NONE)
    gtk_switch_set_active (self->plaintext_switch, TRUE);

  port = g_strdup_printf ("%u", popcheck_account_get_port (account));
  gtk_editable_set_text (GTK_EDITABLE (self->port_row), port);
  adw_combo_row_set_selected (self->auth_row,
                              auth_index (popcheck_account_get_auth_method (account)));
  gtk_switch_set_active (self->enabled_switch,
                         popcheck_account_get_enabled (account));
  gtk_spin_button_set_value (self->interval_spin,
                             popcheck_account_get_check_interval (account));
  gtk_spin_button_set_value (self->preview_spin,
                             popcheck_account_get_preview_lines (account));
  gtk_switch_set_active (self->notify_switch,
                         popcheck_account_get_notify (account));
  self->pinned_fingerprint =
    g_strdup (popcheck_account_get_pinned_fingerprint (account));
  self->old_host = g_strdup (popcheck_account_get_host (account));
  self->old_user = g_strdup (popcheck_account_get_user (account));
  self->old_port = popcheck_account_get_port (account);

  show_message (self->password_message_row, self->password_message, NULL,
                _("A password is stored in your keyring. Type a new one "
                  "only to replace it."));
}

static void
popcheck_account_editor_dispose (GObject *object)
{
  PopcheckAccountEditor *self = (PopcheckAccountEditor *) object;

  /* Closing the editor (or the window) stops a running test. */
  g_cancellable_cancel (self->cancellable);

  gtk_widget_dispose_template (GTK_WIDGET (self), POPCHECK_TYPE_ACCOUNT_EDITOR);

  G_OBJECT_CLASS (popcheck_account_editor_parent_class)->dispose (object);
}

static void
popcheck_account_editor_finalize (GObject *object)
{
  PopcheckAccountEditor *self = (PopcheckAccountEditor *) object;

  g_clear_object (&self->test);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->account);
  g_clear_object (&self->accounts);
  g_clear_pointer (&self->pinned_fingerprint, g_free);
  g_clear_pointer (&self->old_host, g_free);
  g_clear_pointer (&self->old_user, g_free);

  G_OBJECT_CLASS (popcheck_account_editor_parent_class)->finalize (object);
}

#define BIND(name) \
  gtk_widget_class_bind_template_child (widget_class, PopcheckAccountEditor, name)

static void
popcheck_account_editor_class_init (PopcheckAccountEditorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = popcheck_account_editor_dispose;
  object_class->finalize = popcheck_account_editor_finalize;

  signals[SAVED] = g_signal_new ("saved",
                                 G_TYPE_FROM_CLASS (klass),
                                 G_SIGNAL_RUN_LAST,
                                 0, NULL, NULL, NULL,
                                 G_TYPE_NONE, 1, G_TYPE_OBJECT);
  signals[CLOSED] = g_signal_new ("closed",
                                  G_TYPE_FROM_CLASS (klass),
                                  G_SIGNAL_RUN_LAST,
                                  0, NULL, NULL, NULL,
                                  G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (
    widget_class, "/org/example/PopCheck/popcheck-account-editor.ui");
  BIND (window_title);
  BIND (save_spinner);
  BIND (name_row);
  BIND (user_row);
  BIND (user_message_row);
  BIND (user_message);
  BIND (password_row);
  BIND (password_message_row);
  BIND (password_message);
  BIND (host_row);
  BIND (host_message_row);
  BIND (host_message);
  BIND (security_row);
  BIND (plaintext_row);
  BIND (plaintext_switch);
  BIND (security_message_row);
  BIND (security_message);
  BIND (port_row);
  BIND (port_message_row);
  BIND (port_message);
  BIND (auth_row);
  BIND (enabled_switch);
  BIND (interval_spin);
  BIND (preview_spin);
  BIND (notify_switch);
  BIND (test_spinner);
  BIND (test_button);
  BIND (cancel_test_button);
  BIND (test_result_label);
  gtk_widget_class_bind_template_callback (widget_class, field_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, security_changed_cb);

  gtk_widget_class_install_action (widget_class, "editor.save", NULL,
                                   save_action);
  gtk_widget_class_install_action (widget_class, "editor.test", NULL,
                                   test_action);
  gtk_widget_class_install_action (widget_class, "editor.cancel-test", NULL,
                                   cancel_test_action);
  gtk_widget_class_install_action (widget_class, "editor.close", NULL,
                                   close_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_s,
                                       GDK_CONTROL_MASK, "editor.save", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_t,
                                       GDK_CONTROL_MASK, "editor.test", NULL);
}

#undef BIND

static void
popcheck_account_editor_init (PopcheckAccountEditor *self)
{
  self->cancellable = g_cancellable_new ();
  gtk_widget_init_template (GTK_WIDGET (self));
  popcheck_accessible_fix_mnemonic_buttons (GTK_WIDGET (self));
  popcheck_accessible_name_inner_widget (GTK_WIDGET (self->password_row),
                                         GTK_TYPE_BUTTON,
                                         _("Show or Hide the Password"));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "editor.cancel-test",
                                 FALSE);
}

GtkWidget *
popcheck_account_editor_new (PopcheckAccountList *accounts,
                             PopcheckAccount     *account)
{
  PopcheckAccountEditor *self;

  g_return_val_if_fail (POPCHECK_IS_ACCOUNT_LIST (accounts), NULL);
  g_return_val_if_fail (!account || POPCHECK_IS_ACCOUNT (account), NULL);

  self = g_object_new (POPCHECK_TYPE_ACCOUNT_EDITOR, NULL);
  self->accounts = g_object_ref (accounts);
  self->account = account ? g_object_ref (account) : NULL;
  load (self);

  return GTK_WIDGET (self);
}

PopcheckAccount *
popcheck_account_editor_get_account (PopcheckAccountEditor *self)
{
  g_return_val_if_fail (POPCHECK_IS_ACCOUNT_EDITOR (self), NULL);

  return self->account;
}

gboolean
popcheck_account_editor_get_busy (PopcheckAccountEditor *self)
{
  g_return_val_if_fail (POPCHECK_IS_ACCOUNT_EDITOR (self), FALSE);

  return self->busy;
}
