/* popcheck-test-oauth-provider.h: tests/oauth-provider.py, and a browser
 * for it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The provider runs on loopback for one test; the test plays the browser
 * with fetch(), which follows no redirect, so that each step (the
 * provider's page, its redirect to PopCheck's listener) can be looked at.
 */

#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct
{
  GSubprocess *process;
  guint16      port;
  SoupSession *browser;
  /* What PopCheck last asked the browser to open. */
  char        *opened_uri;
} PopcheckTestOAuthProvider;

typedef struct
{
  guint   status;
  char   *location;
  char   *body;
  GError *error;
} PopcheckTestPage;

void              popcheck_test_oauth_provider_start (PopcheckTestOAuthProvider *self,
                                                      const char                *client_id);
/* Stops the provider and waits until it has gone. */
void              popcheck_test_oauth_provider_stop  (PopcheckTestOAuthProvider *self);
/* A PopcheckOAuthUriLauncher (user data: the provider) that opens
 * nothing: it keeps the address in opened_uri for the test to follow. */
gboolean          popcheck_test_oauth_provider_open_uri (const char  *uri,
                                                         gpointer     user_data,
                                                         GError     **error);
/* http://127.0.0.1:PORT@path */
char             *popcheck_test_oauth_provider_uri   (PopcheckTestOAuthProvider *self,
                                                      const char                *path);
/* One GET or POST (@form, URL-encoded, or NULL), no redirect followed. */
PopcheckTestPage *popcheck_test_oauth_fetch          (PopcheckTestOAuthProvider *self,
                                                      const char                *method,
                                                      const char                *uri,
                                                      const char                *form);
void              popcheck_test_page_free            (PopcheckTestPage          *page);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PopcheckTestPage, popcheck_test_page_free)

G_END_DECLS
