/* popcheck-account-editor.c: add or edit one account
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The editor holds what is typed until Save: nothing reaches the account
 * or the keyring while a field is invalid, and a refused Save keeps every
 * field as it was.  The password is never read back from the keyring: an
 * empty password field on an existing account keeps the stored one.
 *
 * A Microsoft or Google account has no password here: Sign In runs the
 * provider's sign-in in the browser, and Save keeps its refresh token in
 * the keyring.  Leaving the editor during the sign-in cancels it, which
 * closes the loopback listener waiting for the browser.
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
#include "popcheck-idle.h"
#include "popcheck-oauth-account.h"
#include "popcheck-oauth.h"
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
  /* The port typed for TLS, STARTTLS or none, kept while Automatic (which
   * tries the standard ports) is chosen. */
  char                   *typed_port;
  /* The fields as loaded: leaving with others asks first. */
  char                   *loaded_state;
  /* What the last test found wrong, while the fields are as tested. */
  char                   *failed_test;
  gboolean                focus_password;
  /* Saved, or the person chose to discard what was typed: nothing more
   * to ask before leaving. */
  gboolean                left;
  /* The window whose closing waits for the answer, if any. */
  GtkWindow              *closing_window;
  /* The provider of the kind chosen, NULL for a password. */
  char                   *kind;
  /* The browser sign-in of a Microsoft or Google account: the client
   * while it runs, then the tokens it got for signed_in_user. */
  PopcheckOAuthClient    *signin_client;
  GCancellable           *signin_cancellable;
  char                   *signing_in_user;
  PopcheckOAuthToken     *token;
  char                   *signed_in_user;
  PopcheckOAuthUriLauncher uri_launcher;
  gpointer                uri_launcher_data;
  /* Opened to sign in again: the sign-in is saved once it is done. */
  gboolean                save_after_sign_in;

  AdwWindowTitle         *window_title;
  AdwPreferencesGroup    *kind_group;
  AdwActionRow           *microsoft_row;
  GtkCheckButton         *microsoft_check;
  AdwActionRow           *google_row;
  GtkCheckButton         *google_check;
  AdwActionRow           *password_kind_row;
  GtkCheckButton         *password_check;
  AdwPreferencesGroup    *signin_group;
  GtkSpinner             *signin_spinner;
  GtkButton              *signin_button;
  GtkButton              *cancel_signin_button;
  GtkLabel               *signin_result_label;
  AdwPreferencesGroup    *test_group;
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
  GtkSwitch              *sound_switch;
  GtkSpinner             *test_spinner;
  GtkButton              *test_button;
  GtkButton              *cancel_test_button;
  GtkLabel               *test_result_label;
  GtkWidget              *suggestion_box;
  GtkLabel               *suggestion_label;
  GtkExpander            *details_expander;
  GtkLabel               *details_label;
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
                           Purpose                purpose,
                           const char            *access_token);
static void run_test (PopcheckAccountEditor *self);
static gboolean cancel_sign_in (PopcheckAccountEditor *self);

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

/* Said next to Sign In: where the person looks after pressing it. */
static void
show_signin_result (PopcheckAccountEditor *self,
                    const char            *text,
                    gboolean               failed)
{
  gtk_label_set_text (self->signin_result_label, text ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (self->signin_result_label),
                          text != NULL);
  if (failed)
    gtk_widget_add_css_class (GTK_WIDGET (self->signin_result_label), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->signin_result_label),
                                 "error");
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

/* "microsoft" or "google" (the presets' ids), or NULL for an account
 * with a password. */
static const char *
chosen_provider (PopcheckAccountEditor *self)
{
  if (gtk_check_button_get_active (self->microsoft_check))
    return "microsoft";
  if (gtk_check_button_get_active (self->google_check))
    return "google";
  return NULL;
}

static Pop3AuthMethod
chosen_auth (PopcheckAccountEditor *self)
{
  static const Pop3AuthMethod methods[] = {
    POP3_AUTH_AUTO, POP3_AUTH_USER, POP3_AUTH_APOP,
    POP3_AUTH_PLAIN, POP3_AUTH_LOGIN, POP3_AUTH_CRAM_MD5,
  };
  guint selected = adw_combo_row_get_selected (self->auth_row);

  /* As the command line adds them: XOAUTH2, which both providers take,
   * unless the account was set to OAUTHBEARER there. */
  if (chosen_provider (self) != NULL)
    return self->account != NULL &&
           popcheck_account_get_auth_method (self->account) == POP3_AUTH_OAUTHBEARER
             ? POP3_AUTH_OAUTHBEARER : POP3_AUTH_XOAUTH2;

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

  /* A Microsoft or Google account has no password; its sign-in is what
   * must be there, for the address and server it is stored under. */
  if (chosen_provider (self) != NULL)
    {
      g_autofree char *stored = self->account != NULL
        ? popcheck_account_dup_oauth2_provider (self->account) : NULL;

      if (need_password && self->token == NULL &&
          (g_strcmp0 (stored, chosen_provider (self)) != 0 ||
           identity_changed (self)))
        {
          show_signin_result (self, _("Sign in first: the account is saved "
                                      "once you are signed in."), TRUE);
          valid = FALSE;
        }
      return valid;
    }

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
  /* A failed test says nothing about settings that changed since. */
  g_clear_pointer (&self->failed_test, g_free);

  /* The sign-in is for the address it was made with: another address
   * needs its own. */
  if (self->token != NULL)
    {
      g_autofree char *user = entry_text (self->user_row);

      if (g_strcmp0 (user, self->signed_in_user) != 0)
        {
          g_clear_pointer (&self->token, popcheck_oauth_token_free);
          g_clear_pointer (&self->signed_in_user, g_free);
          show_signin_result (self, NULL, FALSE);
        }
    }

  /* Once Save or Test showed what is wrong, the messages follow the
   * typing; before that, nobody is scolded for a field not filled yet. */
  if (self->validated)
    validate (self, FALSE);
}

static void
set_port_text (PopcheckAccountEditor *self,
               const char            *text)
{
  g_signal_handlers_block_matched (self->port_row, G_SIGNAL_MATCH_DATA,
                                   0, 0, NULL, NULL, self);
  gtk_editable_set_text (GTK_EDITABLE (self->port_row), text);
  g_signal_handlers_unblock_matched (self->port_row, G_SIGNAL_MATCH_DATA,
                                     0, 0, NULL, NULL, self);
}

static void
port_changed_cb (PopcheckAccountEditor *self)
{
  g_clear_pointer (&self->typed_port, g_free);
  field_changed_cb (self);
}

static const char *
security_description (guint index)
{
  switch (index)
    {
    case SECURITY_TLS:
      return _("Encrypted from the first byte, usually on port 995");
    case SECURITY_STARTTLS:
      return _("Connects, then switches to encryption before the password "
               "is sent, usually on port 110");
    case SECURITY_NONE:
      return _("Nothing is encrypted: the password and the mail can be read "
               "on the way");
    case SECURITY_AUTOMATIC:
    default:
      return _("Tries TLS on port 995, then STARTTLS on port 110, never "
               "unencrypted");
    }
}

static gboolean
is_standard_port (const char *port)
{
  g_autofree char *tls_port = g_strdup_printf ("%u", pop3_security_default_port (POP3_SECURITY_TLS));
  g_autofree char *starttls_port = g_strdup_printf ("%u", pop3_security_default_port (POP3_SECURITY_STARTTLS));

  return *port == '\0' || g_str_equal (port, tls_port) ||
         g_str_equal (port, starttls_port);
}

static void
security_changed_cb (PopcheckAccountEditor *self)
{
  guint index = security_index (self);
  g_autofree char *port = entry_text (self->port_row);

  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->security_row),
                               security_description (index));

  gtk_widget_set_visible (GTK_WIDGET (self->plaintext_row),
                          index == SECURITY_NONE);
  if (index != SECURITY_NONE)
    gtk_switch_set_active (self->plaintext_switch, FALSE);

  /* Automatic tries both standard ports; otherwise the port follows the
   * standard port of the choice unless another port was typed, which is
   * kept, also across a visit to Automatic. */
  gtk_widget_set_sensitive (GTK_WIDGET (self->port_row),
                            index != SECURITY_AUTOMATIC);
  if (index == SECURITY_AUTOMATIC)
    {
      if (!is_standard_port (port))
        {
          g_free (self->typed_port);
          self->typed_port = g_steal_pointer (&port);
        }
      set_port_text (self, "");
    }
  else if (self->typed_port != NULL)
    set_port_text (self, self->typed_port);
  else if (is_standard_port (port))
    {
      g_autofree char *standard = g_strdup_printf (
        "%u", pop3_security_default_port (index == SECURITY_TLS
                                            ? POP3_SECURITY_TLS
                                            : POP3_SECURITY_STARTTLS));

      set_port_text (self, standard);
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
  gtk_widget_set_visible (self->suggestion_box, FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->details_expander), FALSE);
}

/* A successful test: one line that says how secure the connection is,
 * the way to encryption when the server offers it, and the raw facts
 * for whoever wants them. */
static void
show_report (PopcheckAccountEditor  *self,
             PopcheckConnectionTest *test)
{
  g_autofree char *summary = popcheck_connection_test_format_summary (test);
  g_autofree char *report = popcheck_connection_test_format_report (test);

  show_result (self, summary, FALSE);

  if (popcheck_connection_test_get_security (test) == POP3_SECURITY_NONE &&
      popcheck_connection_test_get_offers_starttls (test))
    {
      gtk_label_set_text (self->suggestion_label,
                          _("The server offers STARTTLS: choose it, and "
                            "your password and mail are encrypted on the "
                            "way."));
      gtk_widget_set_visible (self->suggestion_box, TRUE);
    }

  gtk_label_set_text (self->details_label, report);
  gtk_expander_set_expanded (self->details_expander, FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->details_expander), TRUE);
}

/* The fields as one string, to know whether leaving loses something. */
static char *
form_state (PopcheckAccountEditor *self)
{
  return g_strdup_printf ("%s\n%d\n%s\n%s\n%s\n%s\n%u\n%s\n%u\n%d\n%d\n%d\n%d\n%d",
                          chosen_provider (self) ? chosen_provider (self) : "",
                          self->token != NULL,
                          gtk_editable_get_text (GTK_EDITABLE (self->name_row)),
                          gtk_editable_get_text (GTK_EDITABLE (self->user_row)),
                          gtk_editable_get_text (GTK_EDITABLE (self->password_row)),
                          gtk_editable_get_text (GTK_EDITABLE (self->host_row)),
                          security_index (self),
                          gtk_editable_get_text (GTK_EDITABLE (self->port_row)),
                          adw_combo_row_get_selected (self->auth_row),
                          gtk_switch_get_active (self->plaintext_switch),
                          gtk_switch_get_active (self->enabled_switch),
                          gtk_spin_button_get_value_as_int (self->interval_spin),
                          gtk_spin_button_get_value_as_int (self->preview_spin),
                          gtk_switch_get_active (self->notify_switch));
}

static gboolean
form_changed (PopcheckAccountEditor *self)
{
  g_autofree char *state = form_state (self);

  return g_strcmp0 (state, self->loaded_state) != 0;
}

static GtkWidget *
new_question (PopcheckAccountEditor *self,
              const char            *heading,
              const char            *body)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *dialog;

  dialog = adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                   heading, body);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");

  return dialog;
}

static void
close_editor (PopcheckAccountEditor *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  /* Closing the subpage drops the preferences' hold on the editor, which
   * may be inside its own save action: it lives until "closed" is out. */
  g_autoptr(PopcheckAccountEditor) hold = g_object_ref (self);

  self->left = TRUE;
  g_cancellable_cancel (self->cancellable);
  cancel_sign_in (self);
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

  popcheck_secret_clear_async (popcheck_account_get_id (self->account),
                               self->old_host, self->old_port, self->old_user,
                               NULL, clear_old_password_cb, NULL);
  g_clear_pointer (&self->old_host, g_free);
  g_clear_pointer (&self->old_user, g_free);
}

static void
saved (PopcheckAccountEditor *self)
{
  g_signal_emit (self, signals[SAVED], 0, self->account);
  add_toast (self, _("Account saved"));
  close_editor (self);
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
  saved (self);
}

static void
sign_in_stored_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(PopcheckAccountEditor) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  set_busy (self, PURPOSE_SAVE, FALSE);

  if (popcheck_oauth_account_store_sign_in_finish (POPCHECK_ACCOUNT (object),
                                                   result, &error))
    {
      g_clear_pointer (&self->token, popcheck_oauth_token_free);
      clear_old_password (self);
      saved (self);
      return;
    }

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  /* The sign-in stays in memory, so that Save can be tried again. */
  text = g_strdup_printf (_("The settings are saved, but the sign-in could "
                            "not be stored in your keyring: %s"),
                          error->message);
  show_signin_result (self, text, TRUE);
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
  popcheck_account_set_sound (self->account,
                              gtk_switch_get_active (self->sound_switch));
  popcheck_account_set_pinned_fingerprint (self->account,
                                           self->pinned_fingerprint);

  if (chosen_provider (self) != NULL && self->token != NULL)
    {
      popcheck_oauth_account_store_sign_in_async (self->account,
                                                  chosen_provider (self),
                                                  popcheck_account_get_host (self->account),
                                                  popcheck_account_get_port (self->account),
                                                  popcheck_account_get_user (self->account),
                                                  self->token->refresh_token,
                                                  self->cancellable,
                                                  sign_in_stored_cb,
                                                  g_object_ref (self));
      return;
    }

  /* No password with a Microsoft or Google account: its sign-in is
   * stored already. */
  if (*password == '\0' || chosen_provider (self) != NULL)
    {
      set_busy (self, PURPOSE_SAVE, FALSE);
      saved (self);
      return;
    }

  popcheck_secret_store_async (popcheck_account_get_id (self->account),
                               POPCHECK_SECRET_KIND_PASSWORD,
                               popcheck_account_get_host (self->account),
                               popcheck_account_get_port (self->account),
                               popcheck_account_get_user (self->account),
                               password, self->cancellable,
                               store_password_cb, g_object_ref (self));
}

static void
save (PopcheckAccountEditor *self)
{
  g_autofree char *port = entry_text (self->port_row);
  guint16 port_number = 0;

  /* "Automatic" is never stored: find out what works first. */
  if (security_index (self) == SECURITY_AUTOMATIC)
    {
      start_session (self, PURPOSE_SAVE, NULL);
      return;
    }

  set_busy (self, PURPOSE_SAVE, TRUE);
  parse_port (port, &port_number);
  apply (self, chosen_security (self), port_number);
}

static void
save_anyway_cb (PopcheckAccountEditor *self,
                const char            *response,
                AdwMessageDialog      *dialog)
{
  if (g_strcmp0 (response, "save") != 0 || self->busy ||
      !validate (self, TRUE))
    return;

  save (self);
}

static void
save_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  PopcheckAccountEditor *self = POPCHECK_ACCOUNT_EDITOR (widget);
  GtkWidget *dialog;

  if (self->busy || self->signin_client != NULL || !validate (self, TRUE))
    return;

  if (self->failed_test == NULL)
    {
      save (self);
      return;
    }

  /* Saved, the account would fail the same way at every check. */
  dialog = new_question (self, _("Save Settings That Failed the Test?"), NULL);
  adw_message_dialog_format_body (ADW_MESSAGE_DIALOG (dialog),
                                  _("The connection test with these "
                                    "settings failed:\n%s\nSaved as they "
                                    "are, every check of this account fails "
                                    "the same way."),
                                  self->failed_test);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "save", _("_Save Anyway"),
                                    NULL);
  g_signal_connect_object (dialog, "response", G_CALLBACK (save_anyway_cb),
                           self, G_CONNECT_SWAPPED);
  popcheck_accessible_fix_mnemonic_buttons (GTK_WIDGET (dialog));
  gtk_window_present (GTK_WINDOW (dialog));
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
  run_test (self);
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
  popcheck_certificate_dialog_set_host (POPCHECK_CERTIFICATE_DIALOG (dialog),
                                        popcheck_connection_test_get_host (self->test));
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
      g_clear_pointer (&self->failed_test, g_free);
      show_report (self, test);
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
  g_free (self->failed_test);
  self->failed_test = g_steal_pointer (&text);

  if (g_error_matches (error, POP3_ERROR, POP3_ERROR_CERTIFICATE) &&
      popcheck_connection_test_get_tls_info (test) != NULL)
    ask_about_certificate (self, popcheck_connection_test_get_tls_info (test));
}

/* access_token: what an account that signs in with OAuth2 sends instead
 * of the password, or NULL. */
static void
start_session (PopcheckAccountEditor *self,
               Purpose                purpose,
               const char            *access_token)
{
  g_autofree char *user = entry_text (self->user_row);
  g_autofree char *host = entry_text (self->host_row);
  g_autofree char *port = entry_text (self->port_row);
  const char *password = access_token != NULL
    ? access_token
    : gtk_editable_get_text (GTK_EDITABLE (self->password_row));
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
                                                  popcheck_account_get_id (self->account),
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

  if (self->busy)
    return;

  /* Said next to the button that was pressed, not only beside a field
   * that may be scrolled out of sight. */
  if (!validate (self, FALSE))
    {
      if (security_index (self) == SECURITY_NONE &&
          !gtk_switch_get_active (self->plaintext_switch))
        show_result (self, _("Not tested: first confirm above that the "
                             "password may travel unencrypted, or choose TLS "
                             "or STARTTLS."), TRUE);
      else
        show_result (self, _("Not tested: first correct the fields marked "
                             "above."), TRUE);
      return;
    }

  run_test (self);
}

static void
test_token_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(PopcheckAccountEditor) self = user_data;
  g_autoptr(PopcheckOAuthToken) token = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  token = popcheck_oauth_account_get_token_finish (result, &error);
  /* Cancel said so already; a closed editor has nobody to tell. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (token == NULL)
    {
      set_busy (self, PURPOSE_TEST, FALSE);
      text = popcheck_connection_test_describe_error (error);
      show_result (self, text, TRUE);
      return;
    }

  start_session (self, PURPOSE_TEST, token->access_token);
}

/* A password account is tested with what is typed (or stored); one that
 * signs in with Microsoft or Google with a fresh access token: from the
 * sign-in just made, or else from the stored one. */
static void
run_test (PopcheckAccountEditor *self)
{
  g_autofree char *stored = NULL;

  if (chosen_provider (self) == NULL)
    {
      start_session (self, PURPOSE_TEST, NULL);
      return;
    }

  if (self->token != NULL)
    {
      start_session (self, PURPOSE_TEST, self->token->access_token);
      return;
    }

  if (self->account != NULL)
    stored = popcheck_account_dup_oauth2_provider (self->account);
  if (g_strcmp0 (stored, chosen_provider (self)) != 0 || identity_changed (self))
    {
      show_result (self, _("Not tested: sign in first, then test the "
                           "connection with that sign-in."), TRUE);
      return;
    }

  set_busy (self, PURPOSE_TEST, TRUE);
  show_result (self, _("Connecting…"), FALSE);
  popcheck_oauth_account_get_token_async (self->account, self->cancellable,
                                          test_token_cb, g_object_ref (self));
}

static void
use_starttls_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  PopcheckAccountEditor *self = POPCHECK_ACCOUNT_EDITOR (widget);

  adw_combo_row_set_selected (self->security_row, SECURITY_STARTTLS);
  gtk_widget_set_visible (self->suggestion_box, FALSE);
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

/* The kind of account and the browser sign-in */

static void
set_signing_in (PopcheckAccountEditor *self,
                gboolean               signing_in)
{
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "editor.sign-in",
                                 !signing_in);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "editor.cancel-sign-in",
                                 signing_in);
  gtk_widget_set_visible (GTK_WIDGET (self->signin_spinner), signing_in);
  gtk_spinner_set_spinning (self->signin_spinner, signing_in);
  gtk_widget_set_visible (GTK_WIDGET (self->signin_button), !signing_in);
  gtk_widget_set_visible (GTK_WIDGET (self->cancel_signin_button), signing_in);
}

/* Stops a sign-in that runs: its listener closes, and the browser's
 * answer, if it still comes, finds nobody. */
static gboolean
cancel_sign_in (PopcheckAccountEditor *self)
{
  if (self->signin_client == NULL)
    return FALSE;

  self->save_after_sign_in = FALSE;
  g_cancellable_cancel (self->signin_cancellable);
  g_clear_object (&self->signin_cancellable);
  g_clear_object (&self->signin_client);
  g_clear_pointer (&self->signing_in_user, g_free);
  set_signing_in (self, FALSE);

  return TRUE;
}

static void
sign_in_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  PopcheckOAuthClient *client = POPCHECK_OAUTH_CLIENT (object);
  g_autoptr(PopcheckAccountEditor) self = user_data;
  g_autoptr(PopcheckOAuthToken) token = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  token = popcheck_oauth_client_sign_in_finish (client, result, &error);
  /* Cancelled, or another sign-in started since. */
  if (client != self->signin_client)
    return;

  g_clear_object (&self->signin_client);
  g_clear_object (&self->signin_cancellable);
  set_signing_in (self, FALSE);

  if (token == NULL)
    {
      self->save_after_sign_in = FALSE;
      g_clear_pointer (&self->signing_in_user, g_free);
      show_signin_result (self, error->message, TRUE);
      return;
    }

  /* Without a refresh token, the account would stop working within the
   * hour. */
  if (token->refresh_token == NULL)
    {
      self->save_after_sign_in = FALSE;
      g_clear_pointer (&self->signing_in_user, g_free);
      text = g_strdup_printf (_("%s gave no refresh token, so PopCheck could "
                                "not stay signed in. Try again later."),
                              popcheck_oauth_provider_get_display_name (popcheck_oauth_client_get_provider (client)));
      show_signin_result (self, text, TRUE);
      return;
    }

  g_clear_pointer (&self->token, popcheck_oauth_token_free);
  self->token = g_steal_pointer (&token);
  g_free (self->signed_in_user);
  self->signed_in_user = g_steal_pointer (&self->signing_in_user);
  /* Translators: %s is the mail address signed in with. */
  text = g_strdup_printf (_("Signed in as %s"), self->signed_in_user);
  show_signin_result (self, text, FALSE);

  /* Nothing else to decide: the account waits for this sign-in. */
  if (self->save_after_sign_in)
    {
      self->save_after_sign_in = FALSE;
      gtk_widget_activate_action (GTK_WIDGET (self), "editor.save", NULL);
    }
}

static void
sign_in_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  PopcheckAccountEditor *self = POPCHECK_ACCOUNT_EDITOR (widget);
  g_autoptr(PopcheckOAuthProvider) provider = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *user = entry_text (self->user_row);

  if (self->signin_client != NULL || chosen_provider (self) == NULL)
    return;

  /* XOAUTH2 names the mailbox: the address is needed before the browser
   * opens, and the provider's page suggests it. */
  if (*user == '\0' || has_space (user))
    {
      validate (self, FALSE);
      show_signin_result (self, _("Enter your email address above first: it "
                                  "is the mailbox PopCheck signs in to."),
                          TRUE);
      return;
    }

  provider = popcheck_oauth_provider_new_preset (chosen_provider (self),
                                                 &error);
  if (provider == NULL || !popcheck_oauth_provider_check (provider, &error))
    {
      show_signin_result (self, error->message, TRUE);
      return;
    }

  self->signin_client = popcheck_oauth_client_new (provider);
  if (self->uri_launcher != NULL)
    popcheck_oauth_client_set_uri_launcher (self->signin_client,
                                            self->uri_launcher,
                                            self->uri_launcher_data, NULL);
  self->signin_cancellable = g_cancellable_new ();
  g_free (self->signing_in_user);
  self->signing_in_user = g_steal_pointer (&user);

  set_signing_in (self, TRUE);
  show_signin_result (self, _("Waiting for you to sign in in your web "
                              "browser…"), FALSE);
  popcheck_oauth_client_sign_in_async (self->signin_client,
                                       self->signing_in_user,
                                       self->signin_cancellable, sign_in_cb,
                                       g_object_ref (self));
}

static void
cancel_sign_in_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  PopcheckAccountEditor *self = POPCHECK_ACCOUNT_EDITOR (widget);

  if (cancel_sign_in (self))
    show_signin_result (self, _("The sign-in was cancelled."), FALSE);
}

/* Microsoft and Google: the provider's server, no password, the browser
 * sign-in (whose token the connection test then uses). */
static void
kind_changed_cb (PopcheckAccountEditor *self)
{
  const char *provider_id = chosen_provider (self);
  gboolean oauth = provider_id != NULL;

  /* notify::active comes from the button turned off too. */
  if (g_strcmp0 (provider_id, self->kind) == 0)
    return;
  g_free (self->kind);
  self->kind = g_strdup (provider_id);

  cancel_sign_in (self);
  g_clear_pointer (&self->token, popcheck_oauth_token_free);
  g_clear_pointer (&self->signed_in_user, g_free);
  show_signin_result (self, NULL, FALSE);

  gtk_widget_set_visible (GTK_WIDGET (self->password_row), !oauth);
  if (oauth)
    gtk_widget_set_visible (GTK_WIDGET (self->password_message_row), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->auth_row), !oauth);
  gtk_widget_set_visible (GTK_WIDGET (self->signin_group), oauth);
  /* The providers' servers take TLS only; the server and port can still
   * be another that takes the provider's tokens, as on the command
   * line. */
  gtk_widget_set_sensitive (GTK_WIDGET (self->security_row), !oauth);

  if (oauth && self->account == NULL)
    {
      g_autoptr(PopcheckOAuthProvider) provider =
        popcheck_oauth_provider_new_preset (provider_id, NULL);
      g_autofree char *port = NULL;

      g_assert (provider != NULL);
      port = g_strdup_printf ("%u", popcheck_oauth_provider_get_pop3_port (provider));
      gtk_editable_set_text (GTK_EDITABLE (self->host_row),
                             popcheck_oauth_provider_get_pop3_host (provider));
      adw_combo_row_set_selected (self->security_row, SECURITY_TLS);
      gtk_editable_set_text (GTK_EDITABLE (self->port_row), port);
    }

  field_changed_cb (self);
}

/* A provider PopCheck has no client ID for is shown, greyed out, with
 * what is missing, rather than as a button that can only fail. */
static void
describe_provider (AdwActionRow *row,
                   const char   *provider_id)
{
  g_autoptr(PopcheckOAuthProvider) provider = NULL;
  g_autoptr(GError) error = NULL;

  provider = popcheck_oauth_provider_new_preset (provider_id, &error);
  if (provider != NULL && popcheck_oauth_provider_check (provider, &error))
    {
      adw_action_row_set_subtitle (row, _("Signs in in your web browser"));
      return;
    }

  adw_action_row_set_subtitle (row, error->message);
  gtk_widget_set_sensitive (GTK_WIDGET (row), FALSE);
}

static void
close_window_cb (gpointer data)
{
  gtk_window_close (GTK_WINDOW (data));
}

static void
discard_cb (PopcheckAccountEditor *self,
            const char            *response,
            AdwMessageDialog      *dialog)
{
  GtkWindow *window = g_steal_pointer (&self->closing_window);

  if (window != NULL)
    g_object_remove_weak_pointer (G_OBJECT (window),
                                  (gpointer *) &self->closing_window);

  if (g_strcmp0 (response, "discard") != 0)
    return;

  self->left = TRUE;
  /* The question is transient for the window: the window goes once the
   * question is done with it. */
  if (window != NULL)
    popcheck_idle_add_once_full (close_window_cb, g_object_ref (window),
                                 g_object_unref);
  else
    close_editor (self);
}

gboolean
popcheck_account_editor_ask_before_leaving (PopcheckAccountEditor *self,
                                            GtkWindow             *window)
{
  GtkWidget *dialog;

  g_return_val_if_fail (POPCHECK_IS_ACCOUNT_EDITOR (self), FALSE);
  g_return_val_if_fail (!window || GTK_IS_WINDOW (window), FALSE);

  if (self->left || !form_changed (self))
    return FALSE;

  if (self->closing_window != NULL)
    g_object_remove_weak_pointer (G_OBJECT (self->closing_window),
                                  (gpointer *) &self->closing_window);
  self->closing_window = window;
  if (window != NULL)
    g_object_add_weak_pointer (G_OBJECT (window),
                               (gpointer *) &self->closing_window);

  if (self->account == NULL)
    dialog = new_question (self, _("Discard This Account?"),
                           _("What you typed for the new account is not "
                             "saved."));
  else
    dialog = new_question (self, _("Discard Your Changes?"),
                           _("The changes to this account are not saved."));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Keep Editing"),
                                    "discard", _("_Discard"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog),
                                              "discard",
                                              ADW_RESPONSE_DESTRUCTIVE);
  g_signal_connect_object (dialog, "response", G_CALLBACK (discard_cb),
                           self, G_CONNECT_SWAPPED);
  popcheck_accessible_fix_mnemonic_buttons (GTK_WIDGET (dialog));
  gtk_window_present (GTK_WINDOW (dialog));

  return TRUE;
}

static void
close_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  PopcheckAccountEditor *self = POPCHECK_ACCOUNT_EDITOR (widget);

  if (!popcheck_account_editor_ask_before_leaving (self, NULL))
    close_editor (self);
}

/* Loading */

static void
load (PopcheckAccountEditor *self)
{
  PopcheckAccount *account = self->account;
  g_autofree char *port = NULL;
  g_autofree char *provider = NULL;

  if (account == NULL)
    {
      describe_provider (self->microsoft_row, "microsoft");
      describe_provider (self->google_row, "google");
      adw_window_title_set_title (self->window_title, _("New Account"));
      adw_combo_row_set_selected (self->security_row, SECURITY_AUTOMATIC);
      security_changed_cb (self);
      gtk_switch_set_active (self->enabled_switch, TRUE);
      gtk_switch_set_active (self->notify_switch, TRUE);
      gtk_switch_set_active (self->sound_switch, TRUE);
      gtk_spin_button_set_value (self->interval_spin, 5);
      gtk_spin_button_set_value (self->preview_spin, 20);
      self->loaded_state = form_state (self);
      return;
    }

  adw_window_title_set_title (self->window_title, _("Edit Account"));
  adw_window_title_set_subtitle (self->window_title,
                                 popcheck_account_get_display_name (account));
  gtk_editable_set_text (GTK_EDITABLE (self->name_row),
                         popcheck_account_get_display_name (account));

  /* The kind is what the account's secret is: it stays. */
  provider = popcheck_account_dup_oauth2_provider (account);
  if (g_strcmp0 (provider, "microsoft") == 0)
    gtk_check_button_set_active (self->microsoft_check, TRUE);
  else if (g_strcmp0 (provider, "google") == 0)
    gtk_check_button_set_active (self->google_check, TRUE);
  gtk_widget_set_visible (GTK_WIDGET (self->microsoft_row),
                          gtk_check_button_get_active (self->microsoft_check));
  gtk_widget_set_visible (GTK_WIDGET (self->google_row),
                          gtk_check_button_get_active (self->google_check));
  gtk_widget_set_visible (GTK_WIDGET (self->password_kind_row),
                          gtk_check_button_get_active (self->password_check));
  gtk_widget_set_sensitive (GTK_WIDGET (self->microsoft_check), FALSE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->google_check), FALSE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->password_check), FALSE);
  adw_action_row_set_subtitle (self->microsoft_row,
                               _("Signs in in your web browser"));
  adw_action_row_set_subtitle (self->google_row,
                               _("Signs in in your web browser"));

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
  gtk_switch_set_active (self->sound_switch,
                         popcheck_account_get_sound (account));
  self->pinned_fingerprint =
    g_strdup (popcheck_account_get_pinned_fingerprint (account));
  self->old_host = g_strdup (popcheck_account_get_host (account));
  self->old_user = g_strdup (popcheck_account_get_user (account));
  self->old_port = popcheck_account_get_port (account);

  if (provider == NULL)
    show_message (self->password_message_row, self->password_message, NULL,
                  _("A password is stored in your keyring. Type a new one "
                    "only to replace it."));
  self->loaded_state = form_state (self);
}

static void
popcheck_account_editor_dispose (GObject *object)
{
  PopcheckAccountEditor *self = (PopcheckAccountEditor *) object;

  /* Closing the editor (or the window) stops a running test. */
  g_cancellable_cancel (self->cancellable);
  cancel_sign_in (self);

  gtk_widget_dispose_template (GTK_WIDGET (self), POPCHECK_TYPE_ACCOUNT_EDITOR);

  G_OBJECT_CLASS (popcheck_account_editor_parent_class)->dispose (object);
}

static void
popcheck_account_editor_map (GtkWidget *widget)
{
  PopcheckAccountEditor *self = POPCHECK_ACCOUNT_EDITOR (widget);

  GTK_WIDGET_CLASS (popcheck_account_editor_parent_class)->map (widget);

  /* Focus can only go to a field on screen. */
  if (self->focus_password)
    {
      self->focus_password = FALSE;
      gtk_widget_grab_focus (GTK_WIDGET (self->password_row));
    }
}

/* The sign-in holds the editor until the browser answers: leaving the
 * window or the page stops it then, not only when the editor goes. */
static void
popcheck_account_editor_unroot (GtkWidget *widget)
{
  cancel_sign_in (POPCHECK_ACCOUNT_EDITOR (widget));

  GTK_WIDGET_CLASS (popcheck_account_editor_parent_class)->unroot (widget);
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
  g_clear_pointer (&self->typed_port, g_free);
  g_clear_pointer (&self->loaded_state, g_free);
  g_clear_pointer (&self->failed_test, g_free);
  g_clear_pointer (&self->kind, g_free);
  g_clear_pointer (&self->token, popcheck_oauth_token_free);
  g_clear_pointer (&self->signed_in_user, g_free);
  g_clear_pointer (&self->signing_in_user, g_free);
  g_clear_object (&self->signin_client);
  g_clear_object (&self->signin_cancellable);
  if (self->closing_window != NULL)
    g_object_remove_weak_pointer (G_OBJECT (self->closing_window),
                                  (gpointer *) &self->closing_window);

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
  widget_class->map = popcheck_account_editor_map;
  widget_class->unroot = popcheck_account_editor_unroot;

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
  BIND (kind_group);
  BIND (microsoft_row);
  BIND (microsoft_check);
  BIND (google_row);
  BIND (google_check);
  BIND (password_kind_row);
  BIND (password_check);
  BIND (signin_group);
  BIND (signin_spinner);
  BIND (signin_button);
  BIND (cancel_signin_button);
  BIND (signin_result_label);
  BIND (test_group);
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
  BIND (sound_switch);
  BIND (test_spinner);
  BIND (test_button);
  BIND (cancel_test_button);
  BIND (test_result_label);
  BIND (suggestion_box);
  BIND (suggestion_label);
  BIND (details_expander);
  BIND (details_label);
  gtk_widget_class_bind_template_callback (widget_class, field_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, security_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, port_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, kind_changed_cb);

  gtk_widget_class_install_action (widget_class, "editor.save", NULL,
                                   save_action);
  gtk_widget_class_install_action (widget_class, "editor.test", NULL,
                                   test_action);
  gtk_widget_class_install_action (widget_class, "editor.cancel-test", NULL,
                                   cancel_test_action);
  gtk_widget_class_install_action (widget_class, "editor.close", NULL,
                                   close_action);
  gtk_widget_class_install_action (widget_class, "editor.sign-in", NULL,
                                   sign_in_action);
  gtk_widget_class_install_action (widget_class, "editor.cancel-sign-in",
                                   NULL, cancel_sign_in_action);
  gtk_widget_class_install_action (widget_class, "editor.use-starttls", NULL,
                                   use_starttls_action);
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
  set_signing_in (self, FALSE);
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

void
popcheck_account_editor_show_password_problem (PopcheckAccountEditor *self,
                                               const char            *problem)
{
  g_autofree char *text = NULL;

  g_return_if_fail (POPCHECK_IS_ACCOUNT_EDITOR (self));
  g_return_if_fail (problem != NULL);

  /* Translators: %s says what went wrong, such as "The server refused
   * the user name or password." */
  text = g_strdup_printf (_("%s\nType the right password and save; it "
                            "replaces the one in your keyring."), problem);
  show_message (self->password_message_row, self->password_message,
                GTK_WIDGET (self->password_row), text);
  gtk_widget_remove_css_class (GTK_WIDGET (self->password_message),
                               "dim-label");
  gtk_widget_add_css_class (GTK_WIDGET (self->password_message), "error");

  if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    gtk_widget_grab_focus (GTK_WIDGET (self->password_row));
  else
    self->focus_password = TRUE;
}

void
popcheck_account_editor_sign_in_again (PopcheckAccountEditor *self)
{
  g_return_if_fail (POPCHECK_IS_ACCOUNT_EDITOR (self));
  g_return_if_fail (chosen_provider (self) != NULL);

  self->save_after_sign_in = TRUE;
  gtk_widget_activate_action (GTK_WIDGET (self), "editor.sign-in", NULL);
  /* Refused before it started (no client ID any more, say): it says why
   * beside the button, and saves nothing. */
  if (self->signin_client == NULL)
    self->save_after_sign_in = FALSE;
}

void
popcheck_account_editor_set_uri_launcher (PopcheckAccountEditor    *self,
                                          PopcheckOAuthUriLauncher  launcher,
                                          gpointer                  user_data)
{
  g_return_if_fail (POPCHECK_IS_ACCOUNT_EDITOR (self));

  self->uri_launcher = launcher;
  self->uri_launcher_data = user_data;
}
