/* pop3-tls.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "pop3-tls"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "pop3-text.h"
#include "pop3-tls.h"

/* The names in a certificate are the server's words: they are shown on
 * terminals and in the certificate dialog, so no control may be left in
 * them.  Takes @name. */
static char *
clean_name (char *name)
{
  g_autofree char *raw = name;

  return raw != NULL ? pop3_text_sanitize_line (raw) : NULL;
}

Pop3TlsInfo *
pop3_tls_info_new_for_certificate (GTlsCertificate      *certificate,
                                   GTlsCertificateFlags  errors)
{
  Pop3TlsInfo *info;

  g_return_val_if_fail (G_IS_TLS_CERTIFICATE (certificate), NULL);

  info = g_new0 (Pop3TlsInfo, 1);
  info->errors = errors;
  info->subject = clean_name (g_tls_certificate_get_subject_name (certificate));
  info->issuer = clean_name (g_tls_certificate_get_issuer_name (certificate));
  info->not_before = g_tls_certificate_get_not_valid_before (certificate);
  info->not_after = g_tls_certificate_get_not_valid_after (certificate);
  info->fingerprint = pop3_tls_certificate_fingerprint (certificate);

  return info;
}

void
pop3_tls_info_free (Pop3TlsInfo *info)
{
  if (info == NULL)
    return;

  g_free (info->subject);
  g_free (info->issuer);
  g_clear_pointer (&info->not_before, g_date_time_unref);
  g_clear_pointer (&info->not_after, g_date_time_unref);
  g_free (info->fingerprint);
  g_free (info->ciphersuite);
  g_free (info);
}

char *
pop3_tls_certificate_fingerprint (GTlsCertificate *certificate)
{
  g_autoptr(GByteArray) der = NULL;
  g_autoptr(GChecksum) checksum = NULL;
  guint8 digest[32];
  gsize digest_len = sizeof digest;
  GString *out;

  g_return_val_if_fail (G_IS_TLS_CERTIFICATE (certificate), NULL);

  g_object_get (certificate, "certificate", &der, NULL);
  if (der == NULL)
    return NULL;

  checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (checksum, der->data, der->len);
  g_checksum_get_digest (checksum, digest, &digest_len);

  out = g_string_sized_new (digest_len * 3);
  for (gsize i = 0; i < digest_len; i++)
    g_string_append_printf (out, i ? ":%02X" : "%02X", digest[i]);

  return g_string_free (out, FALSE);
}

/* Accepts "AA:BB:..", "aabb..", with or without colons or spaces, and an
 * optional "sha256:" or "SHA256/" prefix; gives upper-case hex pairs joined
 * by ':', or NULL when it is not a SHA-256 fingerprint. */
char *
pop3_tls_normalize_fingerprint (const char *fingerprint)
{
  GString *hex;
  GString *out;
  const char *p;

  if (fingerprint == NULL)
    return NULL;

  p = fingerprint;
  if (g_ascii_strncasecmp (p, "sha256", 6) == 0)
    {
      p += 6;
      if (*p == ':' || *p == '/' || *p == '=')
        p++;
    }

  hex = g_string_new (NULL);
  for (; *p; p++)
    {
      if (*p == ':' || *p == ' ')
        continue;
      if (!g_ascii_isxdigit (*p))
        {
          g_string_free (hex, TRUE);
          return NULL;
        }
      g_string_append_c (hex, g_ascii_toupper (*p));
    }

  if (hex->len != 64)
    {
      g_string_free (hex, TRUE);
      return NULL;
    }

  out = g_string_sized_new (96);
  for (gsize i = 0; i < hex->len; i += 2)
    {
      if (i > 0)
        g_string_append_c (out, ':');
      g_string_append_len (out, hex->str + i, 2);
    }
  g_string_free (hex, TRUE);

  return g_string_free (out, FALSE);
}

gboolean
pop3_tls_fingerprint_equal (const char *a,
                            const char *b)
{
  g_autofree char *na = pop3_tls_normalize_fingerprint (a);
  g_autofree char *nb = pop3_tls_normalize_fingerprint (b);

  return na != NULL && nb != NULL && strcmp (na, nb) == 0;
}

char *
pop3_tls_describe_errors (GTlsCertificateFlags errors)
{
  static const struct {
    GTlsCertificateFlags flag;
    const char *text;
  } descriptions[] = {
    { G_TLS_CERTIFICATE_UNKNOWN_CA,
      N_("it is not signed by a known certificate authority") },
    { G_TLS_CERTIFICATE_BAD_IDENTITY,
      N_("it does not belong to this server name") },
    { G_TLS_CERTIFICATE_NOT_ACTIVATED, N_("it is not valid yet") },
    { G_TLS_CERTIFICATE_EXPIRED, N_("it has expired") },
    { G_TLS_CERTIFICATE_REVOKED, N_("it has been revoked") },
    { G_TLS_CERTIFICATE_INSECURE, N_("it uses insecure cryptography") },
    { G_TLS_CERTIFICATE_GENERIC_ERROR, N_("it could not be verified") },
  };
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (descriptions); i++)
    {
      if ((errors & descriptions[i].flag) == 0)
        continue;
      if (out->len > 0)
        g_string_append (out, "; ");
      g_string_append (out, _(descriptions[i].text));
    }

  if (out->len == 0)
    g_string_append (out, _("it could not be verified"));

  return g_string_free (out, FALSE);
}

static char *
format_date (GDateTime *date)
{
  if (date == NULL)
    return g_strdup ("unknown");
  return g_date_time_format (date, "%Y-%m-%d %H:%M:%S UTC");
}

char *
pop3_tls_info_describe (const Pop3TlsInfo *info)
{
  g_autofree char *problems = NULL;
  g_autofree char *from = NULL;
  g_autofree char *until = NULL;

  if (info == NULL)
    return g_strdup ("No certificate was received.");

  problems = pop3_tls_describe_errors (info->errors);
  from = format_date (info->not_before);
  until = format_date (info->not_after);

  return g_strdup_printf ("Problem: %s\n"
                          "Subject: %s\n"
                          "Issuer: %s\n"
                          "Valid from: %s\n"
                          "Valid until: %s\n"
                          "SHA-256 fingerprint: %s",
                          info->errors ? problems : "none",
                          info->subject ? info->subject : "unknown",
                          info->issuer ? info->issuer : "unknown",
                          from, until,
                          info->fingerprint ? info->fingerprint : "unknown");
}

const char *
pop3_tls_protocol_to_string (GTlsProtocolVersion version)
{
  switch (version)
    {
    case G_TLS_PROTOCOL_VERSION_SSL_3_0:
      return "SSL 3.0";
    case G_TLS_PROTOCOL_VERSION_TLS_1_0:
      return "TLS 1.0";
    case G_TLS_PROTOCOL_VERSION_TLS_1_1:
      return "TLS 1.1";
    case G_TLS_PROTOCOL_VERSION_TLS_1_2:
      return "TLS 1.2";
    case G_TLS_PROTOCOL_VERSION_TLS_1_3:
      return "TLS 1.3";
    case G_TLS_PROTOCOL_VERSION_DTLS_1_0:
      return "DTLS 1.0";
    case G_TLS_PROTOCOL_VERSION_DTLS_1_2:
      return "DTLS 1.2";
    case G_TLS_PROTOCOL_VERSION_UNKNOWN:
    default:
      return "unknown";
    }
}
