/* popcheck-certificate-dialog.c: decide about a certificate that failed
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "popcheck-certificate-dialog"

#include "config.h"

#include <glib/gi18n.h>

#include "popcheck-accessible.h"
#include "popcheck-account.h"
#include "popcheck-certificate-dialog.h"
#include "popcheck-connection-test.h"

struct _PopcheckCertificateDialog
{
  AdwMessageDialog  parent_instance;

  PopcheckAccount  *account;
  char             *fingerprint;
  char             *host;
  char             *subject;
  GTlsCertificateFlags errors;
  gboolean          changed;

  GtkLabel         *problems_label;
  GtkLabel         *subject_label;
  GtkLabel         *issuer_label;
  GtkLabel         *validity_label;
  GtkLabel         *old_fingerprint_title;
  GtkLabel         *old_fingerprint_label;
  GtkLabel         *fingerprint_title;
  GtkLabel         *fingerprint_label;
};

G_DEFINE_FINAL_TYPE (PopcheckCertificateDialog, popcheck_certificate_dialog,
                     ADW_TYPE_MESSAGE_DIALOG)

enum {
  TRUSTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
popcheck_certificate_dialog_response (AdwMessageDialog *dialog,
                                      const char       *response)
{
  PopcheckCertificateDialog *self = POPCHECK_CERTIFICATE_DIALOG (dialog);

  if (g_strcmp0 (response, "trust") != 0 || self->fingerprint == NULL)
    return;

  /* Pinned for this account only: other accounts on the same server keep
   * their own decision. */
  if (self->account != NULL)
    popcheck_account_set_pinned_fingerprint (self->account,
                                             self->fingerprint);

  g_signal_emit (self, signals[TRUSTED], 0, self->fingerprint);
}

static void
popcheck_certificate_dialog_dispose (GObject *object)
{
  PopcheckCertificateDialog *self = (PopcheckCertificateDialog *) object;

  gtk_widget_dispose_template (GTK_WIDGET (self),
                               POPCHECK_TYPE_CERTIFICATE_DIALOG);

  G_OBJECT_CLASS (popcheck_certificate_dialog_parent_class)->dispose (object);
}

static void
popcheck_certificate_dialog_finalize (GObject *object)
{
  PopcheckCertificateDialog *self = (PopcheckCertificateDialog *) object;

  g_clear_object (&self->account);
  g_clear_pointer (&self->fingerprint, g_free);
  g_clear_pointer (&self->host, g_free);
  g_clear_pointer (&self->subject, g_free);

  G_OBJECT_CLASS (popcheck_certificate_dialog_parent_class)->finalize (object);
}

static void
popcheck_certificate_dialog_class_init (PopcheckCertificateDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  AdwMessageDialogClass *dialog_class = ADW_MESSAGE_DIALOG_CLASS (klass);

  object_class->dispose = popcheck_certificate_dialog_dispose;
  object_class->finalize = popcheck_certificate_dialog_finalize;
  dialog_class->response = popcheck_certificate_dialog_response;

  /* "trusted" (const char *fingerprint): the person chose to trust the
   * certificate with this SHA-256 fingerprint. */
  signals[TRUSTED] = g_signal_new ("trusted",
                                   G_TYPE_FROM_CLASS (klass),
                                   G_SIGNAL_RUN_LAST,
                                   0, NULL, NULL, NULL,
                                   G_TYPE_NONE, 1, G_TYPE_STRING);

  gtk_widget_class_set_template_from_resource (
    widget_class, "/org/example/PopCheck/popcheck-certificate-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class,
                                        PopcheckCertificateDialog,
                                        problems_label);
  gtk_widget_class_bind_template_child (widget_class,
                                        PopcheckCertificateDialog,
                                        subject_label);
  gtk_widget_class_bind_template_child (widget_class,
                                        PopcheckCertificateDialog,
                                        issuer_label);
  gtk_widget_class_bind_template_child (widget_class,
                                        PopcheckCertificateDialog,
                                        validity_label);
  gtk_widget_class_bind_template_child (widget_class,
                                        PopcheckCertificateDialog,
                                        old_fingerprint_title);
  gtk_widget_class_bind_template_child (widget_class,
                                        PopcheckCertificateDialog,
                                        old_fingerprint_label);
  gtk_widget_class_bind_template_child (widget_class,
                                        PopcheckCertificateDialog,
                                        fingerprint_title);
  gtk_widget_class_bind_template_child (widget_class,
                                        PopcheckCertificateDialog,
                                        fingerprint_label);
}

static void
popcheck_certificate_dialog_init (PopcheckCertificateDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  popcheck_accessible_fix_mnemonic_buttons (GTK_WIDGET (self));
}

/* A fingerprint is compared byte by byte with what a provider publishes:
 * a line may end only after a colon, never inside a byte.  The text
 * itself stays as it is, so that a copy of it compares equal. */
static void
set_fingerprint (GtkLabel   *label,
                 const char *fingerprint)
{
  g_autoptr(PangoAttrList) attributes = pango_attr_list_new ();
  const char *group = fingerprint;

  for (const char *p = fingerprint; *p != '\0'; p++)
    {
      PangoAttribute *unbroken;

      if (*p != ':' && p[1] != '\0')
        continue;

      unbroken = pango_attr_allow_breaks_new (FALSE);
      unbroken->start_index = group - fingerprint;
      unbroken->end_index = p + 1 - fingerprint;
      pango_attr_list_insert (attributes, unbroken);
      group = p + 1;
    }

  gtk_label_set_text (label, fingerprint);
  gtk_label_set_attributes (label, attributes);
}

static const char *
or_unknown (const char *text)
{
  return (text != NULL && *text != '\0') ? text : _("unknown");
}

/* The heading, the body and the weight of "Trust" follow what is wrong;
 * they are set again when the server's name becomes known. */
static void
update_message (PopcheckCertificateDialog *self)
{
  AdwMessageDialog *dialog = ADW_MESSAGE_DIALOG (self);
  gboolean mismatch = (self->errors & G_TLS_CERTIFICATE_BAD_IDENTITY) != 0;

  if (self->changed)
    {
      adw_message_dialog_set_heading (dialog,
                                      _("The Server’s Certificate Changed"));
      adw_message_dialog_format_body (
        dialog,
        _("%s now shows a different certificate from the one you trusted "
          "before. This happens when the certificate is renewed, but it "
          "can also mean that someone is intercepting the connection. "
          "Compare the fingerprints with what your mail provider "
          "publishes before you trust it."),
        self->host ? self->host : _("The server"));
    }
  else if (mismatch && self->host != NULL)
    {
      adw_message_dialog_set_heading (dialog,
                                      _("The Certificate Is for Another Server"));
      adw_message_dialog_format_body (
        dialog,
        _("You asked for %s, but the certificate it showed is made out to "
          "“%s”. Someone may be intercepting the connection, or the server "
          "name may be wrong. Check the server name with your mail "
          "provider; trust this certificate only if they tell you to."),
        self->host, or_unknown (self->subject));
    }
  else if (mismatch)
    {
      adw_message_dialog_set_heading (dialog,
                                      _("The Certificate Is for Another Server"));
      adw_message_dialog_format_body (
        dialog,
        _("The certificate is made out to “%s”, not to the server name you "
          "entered. Someone may be intercepting the connection, or the "
          "server name may be wrong. Check the server name with your mail "
          "provider; trust this certificate only if they tell you to."),
        or_unknown (self->subject));
    }
  else
    {
      adw_message_dialog_set_heading (dialog,
                                      _("Untrusted Certificate"));
      adw_message_dialog_format_body (
        dialog,
        _("The certificate of %s could not be verified. Trust it only if "
          "you know it is the right one, for example because its "
          "fingerprint matches what your mail provider publishes. It is "
          "then the only certificate PopCheck accepts for this account."),
        self->host ? self->host : _("the server"));
    }

  /* Trusting a certificate that changed or names another server can hand
   * the password to someone else: it is never the easy way out. */
  adw_message_dialog_set_response_appearance (dialog, "trust",
                                              self->changed || mismatch
                                                ? ADW_RESPONSE_DESTRUCTIVE
                                                : ADW_RESPONSE_SUGGESTED);
}

GtkWindow *
popcheck_certificate_dialog_new (GtkWindow         *parent,
                                 PopcheckAccount   *account,
                                 const Pop3TlsInfo *info,
                                 const char        *old_fingerprint)
{
  PopcheckCertificateDialog *self;
  AdwMessageDialog *dialog;
  g_autofree char *problems = NULL;
  g_autofree char *from = NULL;
  g_autofree char *until = NULL;
  g_autofree char *validity = NULL;

  g_return_val_if_fail (!parent || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (!account || POPCHECK_IS_ACCOUNT (account), NULL);
  g_return_val_if_fail (info != NULL, NULL);

  self = g_object_new (POPCHECK_TYPE_CERTIFICATE_DIALOG,
                       "transient-for", parent,
                       NULL);
  dialog = ADW_MESSAGE_DIALOG (self);

  if (account != NULL)
    {
      self->account = g_object_ref (account);
      self->host = g_strdup (popcheck_account_get_host (account));
    }
  self->fingerprint = g_strdup (info->fingerprint);
  self->subject = g_strdup (info->subject);
  self->errors = info->errors;
  self->changed = old_fingerprint != NULL && *old_fingerprint != '\0' &&
                  !pop3_tls_fingerprint_equal (old_fingerprint,
                                               info->fingerprint);

  if (self->changed)
    {
      set_fingerprint (self->old_fingerprint_label, old_fingerprint);
      gtk_widget_set_visible (GTK_WIDGET (self->old_fingerprint_title), TRUE);
      gtk_widget_set_visible (GTK_WIDGET (self->old_fingerprint_label), TRUE);
      gtk_label_set_text (self->fingerprint_title, _("Now"));
    }
  update_message (self);

  /* Whatever happens, Enter and Escape never trust a certificate. */
  adw_message_dialog_set_default_response (dialog, "cancel");
  adw_message_dialog_set_close_response (dialog, "cancel");

  problems = popcheck_connection_test_describe_certificate_errors (info->errors);
  gtk_label_set_text (self->problems_label, problems);
  gtk_widget_set_visible (GTK_WIDGET (self->problems_label), *problems != '\0');

  gtk_label_set_text (self->subject_label, or_unknown (info->subject));
  gtk_label_set_text (self->issuer_label, or_unknown (info->issuer));
  from = popcheck_connection_test_format_date (info->not_before);
  until = popcheck_connection_test_format_date (info->not_after);
  /* Translators: the validity of a certificate, from one date to another */
  validity = g_strdup_printf (_("%s to %s"), from, until);
  gtk_label_set_text (self->validity_label, validity);
  set_fingerprint (self->fingerprint_label, or_unknown (info->fingerprint));

  return GTK_WINDOW (self);
}

void
popcheck_certificate_dialog_set_host (PopcheckCertificateDialog *self,
                                      const char                *host)
{
  g_return_if_fail (POPCHECK_IS_CERTIFICATE_DIALOG (self));

  if (g_strcmp0 (self->host, host) == 0)
    return;

  g_free (self->host);
  self->host = g_strdup (host);
  update_message (self);
}

const char *
popcheck_certificate_dialog_get_fingerprint (PopcheckCertificateDialog *self)
{
  g_return_val_if_fail (POPCHECK_IS_CERTIFICATE_DIALOG (self), NULL);

  return self->fingerprint;
}

gboolean
popcheck_certificate_dialog_get_changed (PopcheckCertificateDialog *self)
{
  g_return_val_if_fail (POPCHECK_IS_CERTIFICATE_DIALOG (self), FALSE);

  return self->changed;
}
