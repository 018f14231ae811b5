/* pop3-tls.h: certificate policy, pinning and what a person needs to decide
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct
{
  GTlsCertificateFlags  errors;
  char                 *subject;
  char                 *issuer;
  GDateTime            *not_before;
  GDateTime            *not_after;
  /* SHA-256 of the DER certificate, upper-case hex pairs joined by ':'. */
  char                 *fingerprint;
  /* Set once a handshake completed. */
  GTlsProtocolVersion   protocol_version;
  char                 *ciphersuite;
  /* TRUE when the certificate failed validation and was accepted only
   * because its fingerprint matched the pinned one. */
  gboolean              accepted_by_pin;
} Pop3TlsInfo;

Pop3TlsInfo *pop3_tls_info_new_for_certificate (GTlsCertificate      *certificate,
                                                GTlsCertificateFlags  errors);
void         pop3_tls_info_free                (Pop3TlsInfo          *info);

char        *pop3_tls_certificate_fingerprint  (GTlsCertificate      *certificate);
char        *pop3_tls_normalize_fingerprint    (const char           *fingerprint);
gboolean     pop3_tls_fingerprint_equal        (const char           *a,
                                                const char           *b);
char        *pop3_tls_describe_errors          (GTlsCertificateFlags  errors);
char        *pop3_tls_info_describe            (const Pop3TlsInfo    *info);
const char  *pop3_tls_protocol_to_string       (GTlsProtocolVersion   version);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Pop3TlsInfo, pop3_tls_info_free)

G_END_DECLS
