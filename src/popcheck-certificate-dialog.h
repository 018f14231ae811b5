/* popcheck-certificate-dialog.h: decide about a certificate that failed
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "pop3-tls.h"
#include "popcheck-types.h"

G_BEGIN_DECLS

#define POPCHECK_TYPE_CERTIFICATE_DIALOG (popcheck_certificate_dialog_get_type ())

G_DECLARE_FINAL_TYPE (PopcheckCertificateDialog, popcheck_certificate_dialog,
                      POPCHECK, CERTIFICATE_DIALOG, AdwMessageDialog)

/* Shows the certificate in info and its problems.  "Trust this
 * certificate" pins info's fingerprint on account (when there is one) and
 * emits "trusted" (const char *fingerprint).  With old_fingerprint, the
 * dialog says the certificate changed, shows both fingerprints and answers
 * Enter with Cancel. */
GtkWindow  *popcheck_certificate_dialog_new             (GtkWindow         *parent,
                                                         PopcheckAccount   *account,
                                                         const Pop3TlsInfo *info,
                                                         const char        *old_fingerprint);

/* The server's name, when there is no account to take it from (a new
 * account in the editor): the dialog then names it, and a certificate
 * made out to another name is spelled out against it. */
void        popcheck_certificate_dialog_set_host        (PopcheckCertificateDialog *self,
                                                         const char                *host);

const char *popcheck_certificate_dialog_get_fingerprint (PopcheckCertificateDialog *self);
gboolean    popcheck_certificate_dialog_get_changed     (PopcheckCertificateDialog *self);

G_END_DECLS
