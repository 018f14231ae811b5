/* test-window.c: the PopCheck window against the Dovecot demo server
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Runs in a real GTK window (under Xvfb, see run-under-xvfb) on a private
 * D-Bus session with gnome-keyring (keyring-harness), and drives the real
 * widgets and actions: the list, the preview, delete with and without
 * undo, and an account whose password the server refuses.  What happened
 * on the server is read from Dovecot's Maildir.
 */

#define G_LOG_DOMAIN "popcheck-test-window"

#include "config.h"

#include <dlfcn.h>
#include <stdio.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include <adwaita.h>
#include <gdk/x11/gdkx.h>

#include "pop3-parser.h"
#include "popcheck-account.h"
#include "popcheck-account-list.h"
#include "popcheck-account-editor.h"
#include "popcheck-account-status.h"
#include "popcheck-application.h"
#include "popcheck-certificate-dialog.h"
#include "popcheck-checker.h"
#include "popcheck-goa-accounts.h"
#include "popcheck-mailbox-private.h"
#include "popcheck-message-row.h"
#include "popcheck-message.h"
#include "popcheck-oauth-account.h"
#include "popcheck-preferences.h"
#include "popcheck-preview.h"
#include "popcheck-secret.h"
#include "popcheck-test-bus.h"
#include "popcheck-test-demo.h"
#include "popcheck-test-oauth-provider.h"
#include "popcheck-test-util.h"
#include "popcheck-window-private.h"

#define TIMEOUT_SECONDS 60
#define N_SAMPLES 10

typedef struct _Fixture Fixture;

struct _Fixture
{
  PopcheckTestDemo    *demo;
  PopcheckApplication *app;
  PopcheckWindow      *window;
  PopcheckAccount     *account;
  char                *user;
  /* Where Dovecot asks about OAuth2 tokens, for a test that needs it. */
  char                *introspect_url;
};

static guint user_counter;

/* Runs the main context until condition holds; a test that waits longer
 * than TIMEOUT_SECONDS fails. */
#define WAIT_UNTIL(condition)                                              \
  G_STMT_START {                                                           \
    gint64 deadline = popcheck_test_deadline (TIMEOUT_SECONDS * 1000);     \
    while (!(condition))                                                   \
      {                                                                    \
        if (!popcheck_test_iterate (deadline))                             \
          g_error ("Timed out waiting for %s (%s)", #condition,            \
                   describe_state (fixture));                              \
      }                                                                    \
  } G_STMT_END

static char *describe_state (Fixture *fixture);

static void
spin (guint milliseconds)
{
  gint64 end = g_get_monotonic_time () + milliseconds * 1000;

  while (g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
}

static void
stored_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  gboolean *done = user_data;
  g_autoptr(GError) error = NULL;

  popcheck_secret_store_finish (result, &error);
  g_assert_no_error (error);
  *done = TRUE;
}

/* An account on the demo server that trusts the certificate whose
 * fingerprint is pinned. */
static PopcheckAccount *
add_account_pinned (Fixture    *fixture,
                    const char *name,
                    const char *user,
                    const char *password,
                    const char *pinned)
{
  PopcheckAccountList *accounts = popcheck_application_get_accounts (fixture->app);
  g_autoptr(GError) error = NULL;
  PopcheckAccount *account;
  gboolean stored = FALSE;

  /* The password under the account's id, before the server that gets it
   * checked. */
  account = popcheck_account_list_add (accounts, name, &error);
  g_assert_no_error (error);
  popcheck_secret_store_async (popcheck_account_get_id (account),
                               POPCHECK_SECRET_KIND_PASSWORD,
                               fixture->demo->host, fixture->demo->pop3s_port,
                               user, password, NULL, stored_cb, &stored);
  WAIT_UNTIL (stored);
  popcheck_account_set_host (account, fixture->demo->host);
  popcheck_account_set_port (account, fixture->demo->pop3s_port);
  popcheck_account_set_security (account, POP3_SECURITY_TLS);
  popcheck_account_set_user (account, user);
  popcheck_account_set_pinned_fingerprint (account, pinned);

  /* What the Check Now button does. */
  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "check-now", NULL);

  return account;
}

static PopcheckAccount *
add_account (Fixture    *fixture,
             const char *name,
             const char *user,
             const char *password)
{
  return add_account_pinned (fixture, name, user, password, fixture->demo->fingerprint);
}

static guint
n_listed (Fixture *fixture)
{
  return g_list_model_get_n_items (G_LIST_MODEL (popcheck_window_get_selection (fixture->window)));
}

static PopcheckMessage *
listed (Fixture *fixture,
        guint    position)
{
  GListModel *model = G_LIST_MODEL (popcheck_window_get_selection (fixture->window));
  g_autoptr(PopcheckMessage) message = g_list_model_get_item (model, position);

  return message;
}

static gboolean
mailbox_idle (Fixture *fixture)
{
  PopcheckChecker *checker = popcheck_application_get_checker (fixture->app);
  PopcheckMailbox *mailbox =
    popcheck_checker_get_mailbox (checker, popcheck_account_get_id (fixture->account));

  return mailbox != NULL &&
         popcheck_mailbox_get_state (mailbox) == POPCHECK_MAILBOX_STATE_IDLE &&
         popcheck_mailbox_get_last_check (mailbox) != NULL;
}

/* For a timeout's message: what the first account is doing. */
static char *
describe_state (Fixture *fixture)
{
  PopcheckMailbox *mailbox = NULL;

  if (fixture->app != NULL && fixture->account != NULL)
    mailbox = popcheck_checker_get_mailbox (popcheck_application_get_checker (fixture->app),
                                            popcheck_account_get_id (fixture->account));
  if (mailbox == NULL)
    return g_strdup ("no mailbox");

  return g_strdup_printf ("state %d, problem %d, %u listed, error “%s”",
                          popcheck_mailbox_get_state (mailbox),
                          popcheck_mailbox_get_problem (mailbox),
                          fixture->window != NULL ? n_listed (fixture) : 0,
                          popcheck_mailbox_get_error_message (mailbox));
}

/* The first check ended, well or not. */
static gboolean
mailbox_checked (Fixture *fixture)
{
  PopcheckChecker *checker = popcheck_application_get_checker (fixture->app);
  PopcheckMailbox *mailbox =
    popcheck_checker_get_mailbox (checker, popcheck_account_get_id (fixture->account));

  return mailbox != NULL &&
         (popcheck_mailbox_get_state (mailbox) == POPCHECK_MAILBOX_STATE_ERROR ||
          mailbox_idle (fixture));
}

typedef gboolean (*WidgetMatch) (GtkWidget *widget, gconstpointer data);

/* The first widget under widget (itself included) that matches; with
 * visible_only, hidden widgets and what they hold do not count. */
static GtkWidget *
find_widget (GtkWidget     *widget,
             WidgetMatch    match,
             gconstpointer  data,
             gboolean       visible_only)
{
  if (visible_only && !gtk_widget_get_visible (widget))
    return NULL;
  if (match (widget, data))
    return widget;

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_widget (child, match, data, visible_only);

      if (found != NULL)
        return found;
    }

  return NULL;
}

/* The text of a label, or of an inscription (the list's rows show their
 * texts in inscriptions); NULL for any other widget. */
static const char *
widget_text (GtkWidget *widget)
{
  if (GTK_IS_LABEL (widget))
    return gtk_label_get_text (GTK_LABEL (widget));
  if (GTK_IS_INSCRIPTION (widget))
    return gtk_inscription_get_text (GTK_INSCRIPTION (widget));

  return NULL;
}

typedef struct
{
  GType       type;
  const char *prefix;
} PrefixMatch;

static gboolean
text_has_prefix (GtkWidget     *widget,
                 gconstpointer  data)
{
  const PrefixMatch *match = data;
  const char *text = widget_text (widget);

  return G_TYPE_CHECK_INSTANCE_TYPE (widget, match->type) &&
         text != NULL && g_str_has_prefix (text, match->prefix);
}

/* A visible inscription (a text of the list's rows) whose text starts
 * with prefix, or NULL. */
static GtkInscription *
find_inscription_prefix (GtkWidget  *widget,
                         const char *prefix)
{
  PrefixMatch match = { GTK_TYPE_INSCRIPTION, prefix };

  return (GtkInscription *) find_widget (widget, text_has_prefix, &match, TRUE);
}

static gboolean
is_of_type (GtkWidget     *widget,
            gconstpointer  type)
{
  return G_TYPE_CHECK_INSTANCE_TYPE (widget, GPOINTER_TO_SIZE (type));
}

/* A visible label whose text starts with prefix, or NULL. */
static GtkLabel *
find_label_prefix (GtkWidget  *widget,
                   const char *prefix)
{
  PrefixMatch match = { GTK_TYPE_LABEL, prefix };

  return (GtkLabel *) find_widget (widget, text_has_prefix, &match, TRUE);
}

static GtkWidget *
find_widget_of_type (GtkWidget *widget,
                     GType      type)
{
  return find_widget (widget, is_of_type, GSIZE_TO_POINTER (type), FALSE);
}

static gboolean
shows_text (GtkWidget     *widget,
            gconstpointer  text)
{
  if (GTK_IS_BUTTON (widget))
    return g_strcmp0 (gtk_button_get_label (GTK_BUTTON (widget)), text) == 0;

  return g_strcmp0 (widget_text (widget), text) == 0;
}

/* A visible label or button shows exactly text. */
static gboolean
find_visible_label (GtkWidget  *widget,
                    const char *text)
{
  return find_widget (widget, shows_text, text, TRUE) != NULL;
}

/* With bare set, the window starts without an account. */
static void
fixture_setup_full (Fixture  *fixture,
                    gboolean  bare)
{
  g_autoptr(GError) error = NULL;

  fixture->demo = popcheck_test_demo_start_oauth2 (fixture->introspect_url);
  fixture->user = g_strdup_printf ("ui%u", ++user_counter);
  popcheck_test_demo_add_user (fixture->demo, fixture->user, "right-password", FALSE);

  fixture->app = popcheck_application_new ();
  g_application_register (G_APPLICATION (fixture->app), NULL, &error);
  g_assert_no_error (error);
  g_assert_false (g_application_get_is_remote (G_APPLICATION (fixture->app)));

  fixture->window = popcheck_window_new (GTK_APPLICATION (fixture->app),
                                        popcheck_application_get_checker (fixture->app));
  g_object_add_weak_pointer (G_OBJECT (fixture->window), (gpointer *) &fixture->window);
  popcheck_window_set_undo_timeout (fixture->window, 1);
  gtk_window_present (GTK_WINDOW (fixture->window));
  g_assert_cmpstr (popcheck_window_get_page (fixture->window), ==, "welcome");
  if (bare)
    return;

  fixture->account = add_account (fixture, "Demo", fixture->user, "right-password");
  WAIT_UNTIL (mailbox_checked (fixture));
  {
    PopcheckMailbox *mailbox =
      popcheck_checker_get_mailbox (popcheck_application_get_checker (fixture->app),
                                    popcheck_account_get_id (fixture->account));

    g_assert_cmpstr (popcheck_mailbox_get_error_message (mailbox), ==, NULL);
    g_assert_cmpint (popcheck_mailbox_get_state (mailbox), ==, POPCHECK_MAILBOX_STATE_IDLE);
  }
  WAIT_UNTIL (n_listed (fixture) == N_SAMPLES);
  g_assert_cmpstr (popcheck_window_get_page (fixture->window), ==, "messages");
}

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  fixture_setup_full (fixture, FALSE);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  if (fixture->window != NULL)
    gtk_window_destroy (GTK_WINDOW (fixture->window));
  popcheck_checker_stop (popcheck_application_get_checker (fixture->app));
  WAIT_UNTIL (fixture->window == NULL);
  g_assert_null (fixture->window);
  g_clear_object (&fixture->app);
  g_clear_pointer (&fixture->demo, popcheck_test_demo_stop);
  g_clear_pointer (&fixture->user, g_free);
  g_clear_pointer (&fixture->introspect_url, g_free);
}

static void
test_list_decoded (Fixture       *fixture,
                   gconstpointer  data)
{
  gboolean found_latin1 = FALSE;
  gboolean found_chinese = FALSE;
  g_autoptr(GHashTable) seen = g_hash_table_new (NULL, NULL);
  GDateTime *previous = NULL;

  for (guint i = 0; i < n_listed (fixture); i++)
    {
      PopcheckMessage *message = listed (fixture, i);
      const char *subject = popcheck_message_get_subject (message);
      GDateTime *date = popcheck_message_get_date (message);

      g_assert_nonnull (subject);
      /* Decoded: no encoded word is left over. */
      g_assert_null (strstr (subject, "=?"));
      found_latin1 |= g_str_equal (subject, "Café crème et crêpes à volonté");
      found_chinese |= g_str_equal (subject, "会议通知：下周一项目评审");

      /* Every message once, newest first. */
      g_assert_false (g_hash_table_contains (seen, message));
      g_hash_table_add (seen, message);
      if (previous != NULL && date != NULL)
        g_assert_cmpint (g_date_time_compare (previous, date), >=, 0);
      if (date != NULL)
        previous = date;

    }

  g_assert_true (found_latin1);
  g_assert_true (found_chinese);
}

static void
test_preview_leaves_unseen (Fixture       *fixture,
                            gconstpointer  data)
{
  PopcheckPreview *preview = popcheck_window_get_preview (fixture->window);
  GtkSelectionModel *selection = popcheck_window_get_selection (fixture->window);
  g_autofree char *body = NULL;
  guint position = G_MAXUINT;

  for (guint i = 0; i < n_listed (fixture); i++)
    if (g_str_equal (popcheck_message_get_subject (listed (fixture, i)),
                     "Lines that start with dots"))
      position = i;
  g_assert_cmpuint (position, !=, G_MAXUINT);

  g_assert_null (popcheck_preview_get_message (preview));
  gtk_selection_model_select_item (selection, position, TRUE);
  WAIT_UNTIL (popcheck_preview_get_message (preview) != NULL);

  g_assert_true (popcheck_preview_get_message (preview) == listed (fixture, position));
  g_assert_cmpstr (popcheck_preview_get_account_id (preview), ==,
                   popcheck_account_get_id (fixture->account));
  /* A saved summary's first lines are read from the cache. */
  WAIT_UNTIL (!popcheck_preview_get_busy (preview));
  body = popcheck_preview_dup_body_text (preview);
  /* Dot-unstuffed text of the preview, as plain text. */
  g_assert_nonnull (strstr (body, "."));
  g_assert_cmpuint (strlen (body), >, 0);

  /* "Load More" asks TOP for more lines; still nothing is marked seen. */
  gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.load-more", NULL);
  WAIT_UNTIL (find_label_prefix (GTK_WIDGET (preview), "Loading more lines") == NULL);

  g_assert_false (popcheck_test_demo_any_seen (fixture->demo, fixture->user));

  /* Several selected: no single preview. */
  gtk_selection_model_select_range (selection, 0, 3, TRUE);
  WAIT_UNTIL (popcheck_preview_get_message (preview) == NULL);
  g_assert_null (popcheck_preview_get_message (preview));
}

static guint
select_subject (Fixture    *fixture,
                const char *subject)
{
  GtkSelectionModel *selection = popcheck_window_get_selection (fixture->window);

  for (guint i = 0; i < n_listed (fixture); i++)
    if (g_str_equal (popcheck_message_get_subject (listed (fixture, i)), subject))
      {
        gtk_selection_model_select_item (selection, i, TRUE);
        return i;
      }

  g_error ("No message “%s” in the list", subject);
}

/* Message-IDs without their angle brackets, however each side keeps them. */
static gboolean
same_message_id (const char *a,
                 const char *b)
{
  g_autofree char *bare_a = g_strdup (a);
  g_autofree char *bare_b = g_strdup (b);

  if (a == NULL || b == NULL)
    return a == b;

  g_strstrip (g_strdelimit (bare_a, "<>", ' '));
  g_strstrip (g_strdelimit (bare_b, "<>", ' '));
  return g_str_equal (bare_a, bare_b);
}

static gboolean
strv_has_id (GStrv       ids,
             const char *id)
{
  for (guint i = 0; ids[i] != NULL; i++)
    if (same_message_id (ids[i], id))
      return TRUE;

  return FALSE;
}

static gboolean
strv_contains_all_but (GStrv       ids,
                       GStrv       before,
                       const char *gone)
{
  guint n = 0;

  for (guint i = 0; before[i] != NULL; i++)
    {
      gboolean present = strv_has_id (ids, before[i]);

      if (same_message_id (before[i], gone) ? present : !present)
        return FALSE;
      n++;
    }

  return g_strv_length (ids) == (gone != NULL ? n - 1 : n);
}

static void
test_delete_undo (Fixture       *fixture,
                  gconstpointer  data)
{
  GtkSelectionModel *selection = popcheck_window_get_selection (fixture->window);
  g_auto(GStrv) before = popcheck_test_demo_message_ids (fixture->demo, fixture->user);
  g_auto(GStrv) after = NULL;

  select_subject (fixture, "Monthly report with attachments");
  gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.delete", NULL);

  /* Gone from the list at once, nothing sent to the server yet. */
  g_assert_cmpuint (n_listed (fixture), ==, N_SAMPLES - 1);
  g_assert_cmpuint (popcheck_window_get_n_pending_deletes (fixture->window), ==, 1);
  /* The toast that offers Undo. */
  WAIT_UNTIL (find_visible_label (GTK_WIDGET (fixture->window), "Message deleted"));
  g_assert_true (find_visible_label (GTK_WIDGET (fixture->window), "_Undo"));

  gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.undo-delete", NULL);
  g_assert_cmpuint (n_listed (fixture), ==, N_SAMPLES);

  /* The last message deleted: the one above it takes the selection.
   * Undone at once, while the first toast still waits to go: its going
   * starts the second toast's show animation, which libadwaita 1.2 must
   * not see dismissed before it ends (that crashed). */
  gtk_selection_model_select_item (selection, N_SAMPLES - 1, TRUE);
  gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.delete", NULL);
  g_assert_cmpuint (n_listed (fixture), ==, N_SAMPLES - 1);
  g_assert_true (gtk_selection_model_is_selected (selection, N_SAMPLES - 2));
  gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.undo-delete", NULL);
  g_assert_cmpuint (n_listed (fixture), ==, N_SAMPLES);

  /* Until both toasts have gone, when a delete that was not undone
   * would go to the server: still nothing deleted. */
  WAIT_UNTIL (!find_visible_label (GTK_WIDGET (fixture->window), "Message deleted"));
  g_assert_cmpuint (popcheck_window_get_n_pending_deletes (fixture->window), ==, 0);
  g_assert_cmpuint (n_listed (fixture), ==, N_SAMPLES);
  after = popcheck_test_demo_message_ids (fixture->demo, fixture->user);
  g_assert_true (strv_contains_all_but (after, before, NULL));
}

static void
test_delete_for_real (Fixture       *fixture,
                      gconstpointer  data)
{
  g_auto(GStrv) before = popcheck_test_demo_message_ids (fixture->demo, fixture->user);
  g_autofree char *message_id = NULL;
  guint position;

  position = select_subject (fixture, "Your booking ABC123 is confirmed");
  message_id = g_strdup (popcheck_message_get_message_id (listed (fixture, position)));
  g_assert_nonnull (message_id);
  g_assert_true (strv_has_id (before, message_id));
  gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.delete", NULL);
  g_assert_cmpuint (n_listed (fixture), ==, N_SAMPLES - 1);

  /* The toast times out; then exactly that message leaves the Maildir. */
  WAIT_UNTIL (popcheck_window_get_n_pending_deletes (fixture->window) == 0);
  {
    g_auto(GStrv) after = popcheck_test_demo_message_ids (fixture->demo, fixture->user);

    g_assert_true (strv_contains_all_but (after, before, message_id));
  }
  g_assert_cmpuint (n_listed (fixture), ==, N_SAMPLES - 1);
  for (guint i = 0; i < n_listed (fixture); i++)
    g_assert_false (same_message_id (popcheck_message_get_message_id (listed (fixture, i)),
                                     message_id));
  g_assert_false (popcheck_test_demo_any_seen (fixture->demo, fixture->user));
}


static void
test_wrong_password (Fixture       *fixture,
                     gconstpointer  data)
{
  PopcheckChecker *checker = popcheck_application_get_checker (fixture->app);
  PopcheckAccount *wrong;
  PopcheckMailbox *mailbox;
  const char *error_message;

  /* Another user: the keyring keeps one password per host, port and user. */
  popcheck_test_demo_add_user (fixture->demo, "wrong-pw", "the-real-one", TRUE);
  wrong = add_account (fixture, "Wrong", "wrong-pw", "not-the-password");
  mailbox = popcheck_checker_get_mailbox (checker, popcheck_account_get_id (wrong));
  g_assert_nonnull (mailbox);
  WAIT_UNTIL (popcheck_mailbox_get_state (mailbox) == POPCHECK_MAILBOX_STATE_ERROR);
  g_assert_cmpint (popcheck_mailbox_get_problem (mailbox), ==, POPCHECK_PROBLEM_AUTH);

  error_message = popcheck_mailbox_get_error_message (mailbox);
  g_assert_nonnull (error_message);
  /* The window shows the server's words and a way to fix the password. */
  WAIT_UNTIL (find_visible_label (GTK_WIDGET (fixture->window), error_message));
  g_assert_true (find_visible_label (GTK_WIDGET (fixture->window), "Fix _Password…"));
  /* With two accounts the rows name the account. */
  g_assert_true (find_visible_label (GTK_WIDGET (fixture->window), "Wrong"));
}

/* Widgets and windows */

static guint
count_lines (const char *text)
{
  guint n = 0;

  for (const char *p = text; *p != '\0'; p++)
    if (*p == '\n')
      n++;
  if (*text != '\0' && text[strlen (text) - 1] != '\n')
    n++;

  return n;
}


/* A toplevel of the given type other than the main window, or NULL. */
static GtkWindow *
find_toplevel (GType type)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GtkWindow) window = g_list_model_get_item (toplevels, i);

      if (G_TYPE_CHECK_INSTANCE_TYPE (window, type) &&
          gtk_widget_get_visible (GTK_WIDGET (window)))
        return window;
    }

  return NULL;
}

/* Answers the message dialog on screen as a click on a response would. */
static void
respond (const char *response)
{
  GtkWindow *dialog = find_toplevel (ADW_TYPE_MESSAGE_DIALOG);

  g_assert_nonnull (dialog);
  g_assert_true (adw_message_dialog_has_response (ADW_MESSAGE_DIALOG (dialog), response));
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), response);
  if (find_toplevel (ADW_TYPE_MESSAGE_DIALOG) == dialog)
    gtk_window_destroy (dialog);
}

/* "Show Whole Message" warns first; the user cancels.  The dialog goes
 * once its answer is handled: a download would have started by then. */
static void
cancel_whole_message (Fixture *fixture)
{
  gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.show-whole-message", NULL);
  WAIT_UNTIL (find_toplevel (ADW_TYPE_MESSAGE_DIALOG) != NULL);
  g_assert_nonnull (find_label_prefix (GTK_WIDGET (find_toplevel (ADW_TYPE_MESSAGE_DIALOG)),
                                       "PopCheck shows only the first lines"));
  respond ("cancel");
  WAIT_UNTIL (find_toplevel (ADW_TYPE_MESSAGE_DIALOG) == NULL);
}

static char *
preview_body (Fixture *fixture)
{
  PopcheckPreview *preview = popcheck_window_get_preview (fixture->window);

  /* A saved summary's first lines are read from the cache. */
  WAIT_UNTIL (!popcheck_preview_get_busy (preview));
  return popcheck_preview_dup_body_text (preview);
}

static guint
preview_lines (Fixture *fixture)
{
  g_autofree char *body = preview_body (fixture);

  return count_lines (body);
}

/* "Load More" asks TOP for more lines; the whole message only comes after
 * the user confirmed the warning, and only then is the message seen. */
/* A text that may be long wraps rather than being cut. */
static void
assert_read_to_the_end (GtkLabel *label)
{
  g_assert_nonnull (label);
  g_assert_true (gtk_label_get_wrap (label));
  g_assert_cmpint (gtk_label_get_ellipsize (label), ==, PANGO_ELLIPSIZE_NONE);
}

static void
test_load_more_and_whole (Fixture       *fixture,
                          gconstpointer  data)
{
  GtkWidget *window = GTK_WIDGET (fixture->window);
  guint first;

  select_subject (fixture, "Cron <root@backup> /usr/local/bin/nightly-backup");
  WAIT_UNTIL (preview_lines (fixture) > 0);
  /* The account's preview lines (20 by default), as TOP brought them. */
  first = preview_lines (fixture);
  g_assert_cmpuint (first, >, 0);
  g_assert_cmpuint (first, <=, popcheck_account_get_preview_lines (fixture->account));
  g_assert_nonnull (find_label_prefix (window, "The first "));
  assert_read_to_the_end (find_label_prefix (window, "The first "));
  g_assert_true (find_visible_label (window, "Cron <root@backup> /usr/local/bin/nightly-backup"));

  gtk_widget_activate_action (window, "win.load-more", NULL);
  WAIT_UNTIL (preview_lines (fixture) > first);
  g_assert_cmpuint (preview_lines (fixture), <=, 100);
  g_assert_false (popcheck_test_demo_any_seen (fixture->demo, fixture->user));

  /* The whole message: first a warning; Cancel downloads nothing. */
  cancel_whole_message (fixture);
  g_assert_cmpuint (preview_lines (fixture), <=, 100);
  g_assert_false (popcheck_test_demo_any_seen (fixture->demo, fixture->user));

  gtk_widget_activate_action (window, "win.show-whole-message", NULL);
  WAIT_UNTIL (find_toplevel (ADW_TYPE_MESSAGE_DIALOG) != NULL);
  respond ("download");
  /* 2,000 lines of log are more text than a summary keeps: the preview
   * shows as much as it keeps and says so. */
  WAIT_UNTIL (find_label_prefix (window, "The beginning of the whole message") != NULL);
  g_assert_cmpuint (preview_lines (fixture), >, 100);
  /* RETR is what Dovecot counts as reading the message. */
  g_assert_true (popcheck_test_demo_any_seen (fixture->demo, fixture->user));
}

/* Text from mail is text: a subject full of markup shows as it is. */
static void
test_markup_is_text (Fixture       *fixture,
                     gconstpointer  data)
{
  const char *subject = "<b>Not bold</b> & <span foreground=\"red\">not red</span> <";
  GtkInscription *inscription;
  GtkLabel *label;

  popcheck_test_demo_deliver (fixture->demo, fixture->user, "<markup@example.org>", subject);
  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "check-now", NULL);
  WAIT_UNTIL (n_listed (fixture) == N_SAMPLES + 1);

  select_subject (fixture, subject);
  /* In the list row and in the preview, the very characters: markup
   * would have become the row's attributes. */
  WAIT_UNTIL ((inscription = find_inscription_prefix (GTK_WIDGET (popcheck_window_get_list_view (fixture->window)),
                                                      "<b>")) != NULL);
  g_assert_cmpstr (gtk_inscription_get_text (inscription), ==, subject);
  g_assert_null (gtk_inscription_get_attributes (inscription));
  label = find_label_prefix (GTK_WIDGET (popcheck_window_get_preview (fixture->window)), "<b>");
  g_assert_nonnull (label);
  g_assert_cmpstr (gtk_label_get_text (label), ==, subject);
  g_assert_false (gtk_label_get_use_markup (label));
}

/* A message with Cc, an HTML-only text and an attachment. */
static void
deliver_quarterly_report (Fixture *fixture)
{
  g_autofree char *text = NULL;

  text = g_strdup_printf ("From: Ann <ann@example.org>\n"
                          "To: %s@localhost\n"
                          "Cc: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <jm@example.org>, <b@example.org>\n"
                          "Subject: Quarterly report\n"
                          "Date: Tue, 03 Jan 2023 11:00:00 +0000\n"
                          "Message-ID: <parts@example.org>\n"
                          "MIME-Version: 1.0\n"
                          "Content-Type: multipart/mixed; boundary=b\n"
                          "\n"
                          "--b\n"
                          "Content-Type: text/html; charset=utf-8\n"
                          "\n"
                          "<html><body><h2>Figures</h2><p>Hello team,</p><p>the figures\n"
                          "are <a href=\"https://example.org/q3\">online</a>.<br>Thanks!</p>\n"
                          "<script>alert('hidden')</script><img src=\"https://example.org/pixel.gif\">\n"
                          "</body></html>\n"
                          "--b\n"
                          "Content-Type: application/pdf\n"
                          "Content-Disposition: attachment; filename=report.pdf\n"
                          "Content-Transfer-Encoding: base64\n"
                          "\n"
                          "JVBERi0xLjQK\n"
                          "--b--\n",
                          fixture->user);
  popcheck_test_demo_deliver_raw (fixture->demo, fixture->user, text);
}

/* Its preview: the Cc under To, the text with its paragraphs and the
 * link's target, the attachment with its type and size. */
static void
check_quarterly_report (Fixture *fixture)
{
  GtkWidget *preview = GTK_WIDGET (popcheck_window_get_preview (fixture->window));
  g_autofree char *body = NULL;
  GtkLabel *label;

  select_subject (fixture, "Quarterly report");
  WAIT_UNTIL (find_label_prefix (preview, "report.pdf") != NULL);

  g_assert_true (find_visible_label (preview, "Cc"));
  g_assert_true (find_visible_label (preview, "Jürgen Müller <jm@example.org>, b@example.org"));
  label = find_label_prefix (preview, "report.pdf");
  g_assert_cmpstr (gtk_label_get_text (label), ==, "report.pdf (PDF document, 9 bytes)");
  /* The whole structure came: nothing more to wait for. */
  g_assert_null (find_label_prefix (preview, "More attachments may follow"));
  g_assert_null (find_label_prefix (preview, "Attachments may follow"));

  body = preview_body (fixture);
  g_assert_cmpstr (body, ==,
                   "Figures\n\nHello team,\n\nthe figures are online "
                   "<https://example.org/q3>.\nThanks!");
  g_assert_false (popcheck_test_demo_any_seen (fixture->demo, fixture->user));
}

/* A message whose second attachment comes after more lines than the
 * preview fetches first. */
static void
deliver_two_files (Fixture    *fixture,
                   const char *subject)
{
  g_autoptr(GString) text = g_string_new (NULL);
  g_autofree guchar *zip = g_malloc (3420);
  g_autofree char *encoded = NULL;

  for (guint i = 0; i < 3420; i++)
    zip[i] = i * 7;
  encoded = g_base64_encode (zip, 3420);

  g_string_append_printf (text,
                          "From: Ann <ann@example.org>\n"
                          "To: %s@localhost\n"
                          "Subject: %s\n"
                          "Date: Tue, 03 Jan 2023 12:00:00 +0000\n"
                          "Message-ID: <cut@example.org>\n"
                          "MIME-Version: 1.0\n"
                          "Content-Type: multipart/mixed; boundary=b\n"
                          "\n"
                          "--b\n"
                          "Content-Type: text/plain\n"
                          "\n"
                          "Both files attached.\n"
                          "--b\n"
                          "Content-Type: application/zip\n"
                          "Content-Disposition: attachment; filename=archive.zip\n"
                          "Content-Transfer-Encoding: base64\n"
                          "\n",
                          fixture->user, subject);
  /* 60 lines of base64: more than the 20 lines a preview fetches first,
   * fewer than Load More's 100. */
  for (const char *p = encoded; *p != '\0'; p += MIN (strlen (p), 76))
    {
      g_string_append_len (text, p, MIN (strlen (p), 76));
      g_string_append_c (text, '\n');
    }
  g_string_append (text,
                   "--b\n"
                   "Content-Type: application/pdf\n"
                   "Content-Disposition: attachment; filename=later.pdf\n"
                   "Content-Transfer-Encoding: base64\n"
                   "\n"
                   "JVBERi0xLjQK\n"
                   "--b--\n");
  popcheck_test_demo_deliver_raw (fixture->demo, fixture->user, text->str);
}

/* The lines fetched end inside an attachment: what came is listed, with a
 * hint that more may follow; Load More is offered although the text was
 * short, and brings the rest of the structure, still without RETR. */
static void
check_two_files (Fixture *fixture)
{
  GtkWidget *preview = GTK_WIDGET (popcheck_window_get_preview (fixture->window));
  g_autofree char *zip_size = g_format_size (3420);
  g_autofree char *zip_line = NULL;
  GtkWidget *button;
  GtkLabel *label;

  select_subject (fixture, "Two files");
  WAIT_UNTIL (find_label_prefix (preview, "archive.zip") != NULL);
  label = find_label_prefix (preview, "archive.zip");
  /* Cut inside it: its size is not known yet. */
  g_assert_cmpstr (gtk_label_get_text (label), ==, "archive.zip (Zip archive)");
  g_assert_null (find_label_prefix (preview, "later.pdf"));
  label = find_label_prefix (preview, "More attachments may follow");
  g_assert_nonnull (label);
  g_assert_cmpstr (gtk_label_get_text (label), ==,
                   "More attachments may follow: the lines fetched so far end "
                   "before the message does. Load More or Show Whole Message "
                   "shows them all.");
  g_assert_true (gtk_label_get_wrap (label));
  button = find_widget (preview, shows_text, "_Load More", TRUE);
  g_assert_nonnull (button);
  g_assert_true (gtk_widget_is_sensitive (button));

  gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.load-more", NULL);
  zip_line = g_strdup_printf ("archive.zip (Zip archive, %s)\n"
                              "later.pdf (PDF document, 9 bytes)", zip_size);
  WAIT_UNTIL (find_label_prefix (preview, zip_line) != NULL);
  g_assert_null (find_label_prefix (preview, "More attachments may follow"));
  g_assert_false (popcheck_test_demo_any_seen (fixture->demo, fixture->user));
}

/* What the preview shows of a message's parts (both messages in one
 * check, so the suite starts one server for them). */
static void
test_preview_parts (Fixture       *fixture,
                    gconstpointer  data)
{
  deliver_quarterly_report (fixture);
  deliver_two_files (fixture, "Two files");
  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "check-now", NULL);
  WAIT_UNTIL (n_listed (fixture) == N_SAMPLES + 2);

  check_quarterly_report (fixture);
  check_two_files (fixture);
}

static guint position_of_subject (Fixture    *fixture,
                                  const char *subject);

/* A big mailbox keeps in memory only what its list shows: once the check
 * is saved, a preview reads the rest back from the state file, and shows
 * what it showed before.  When the file cannot give it back, the preview
 * says so in words, and Load More fetches the lines from the server. */
static void
test_preview_from_cache (Fixture       *fixture,
                         gconstpointer  data)
{
  PopcheckChecker *checker = popcheck_application_get_checker (fixture->app);
  PopcheckPreview *preview = popcheck_window_get_preview (fixture->window);
  PopcheckMailbox *mailbox;
  g_autofree char *path = NULL;
  g_autofree char *body = NULL;
  const char *cut =
    "The first lines of this message could not be read from PopCheck’s "
    "cache. Load More fetches them from the server.";
  guint position;

  deliver_quarterly_report (fixture);
  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "check-now", NULL);
  WAIT_UNTIL (n_listed (fixture) == N_SAMPLES + 1);
  position = position_of_subject (fixture, "Quarterly report");
  WAIT_UNTIL (!popcheck_message_get_details_loaded (listed (fixture, position)));
  position = position_of_subject (fixture, "Lines that start with dots");
  g_assert_false (popcheck_message_get_details_loaded (listed (fixture, position)));

  check_quarterly_report (fixture);

  /* Another program cuts the details file short (a save would only
   * append to it). */
  mailbox = popcheck_checker_get_mailbox (checker, popcheck_account_get_id (fixture->account));
  path = popcheck_mailbox_dup_details_path (mailbox);
  g_assert_cmpint (truncate (path, 64), ==, 0);
  select_subject (fixture, "Lines that start with dots");
  WAIT_UNTIL (find_label_prefix (GTK_WIDGET (preview), cut) != NULL);
  g_assert_cmpstr (gtk_label_get_text (find_label_prefix (GTK_WIDGET (preview), cut)),
                   ==, cut);
  g_assert_false (popcheck_preview_get_busy (preview));

  gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.load-more", NULL);
  WAIT_UNTIL (find_label_prefix (GTK_WIDGET (preview), cut) == NULL &&
              !popcheck_preview_get_busy (preview));
  body = preview_body (fixture);
  g_assert_nonnull (strstr (body, "."));
}

/* A delete that fails brings the message back and says why. */
static void
test_delete_fails (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autofree char *message_id = NULL;
  g_autofree char *host = g_strdup (fixture->demo->host);
  g_autofree char *expected = NULL;
  guint position;

  position = select_subject (fixture, "Your booking ABC123 is confirmed");
  message_id = g_strdup (popcheck_message_get_message_id (listed (fixture, position)));
  gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.delete", NULL);
  g_assert_cmpuint (n_listed (fixture), ==, N_SAMPLES - 1);

  /* The server goes away before the toast does. */
  g_clear_pointer (&fixture->demo, popcheck_test_demo_stop);

  WAIT_UNTIL (popcheck_window_get_n_pending_deletes (fixture->window) == 0);
  g_assert_cmpuint (n_listed (fixture), ==, N_SAMPLES);
  {
    gboolean back = FALSE;

    for (guint i = 0; i < n_listed (fixture); i++)
      back |= same_message_id (popcheck_message_get_message_id (listed (fixture, i)),
                               message_id);
    g_assert_true (back);
  }
  WAIT_UNTIL (find_label_prefix (GTK_WIDGET (fixture->window), "Nothing was deleted: ") != NULL);
  /* In words, said once, naming the server. */
  expected = g_strdup_printf ("Nothing was deleted: Could not connect to %s: ", host);
  g_assert_nonnull (find_label_prefix (GTK_WIDGET (fixture->window), expected));
  assert_read_to_the_end (find_label_prefix (GTK_WIDGET (fixture->window), expected));
}

static void
select_account (Fixture    *fixture,
                const char *name)
{
  GtkDropDown *filter = popcheck_window_get_account_filter (fixture->window);
  GListModel *items = gtk_drop_down_get_model (filter);

  for (guint i = 0; i < g_list_model_get_n_items (items); i++)
    {
      g_autoptr(GObject) item = g_list_model_get_item (items, i);
      const char *item_name = POPCHECK_IS_MAILBOX (item)
                                ? popcheck_mailbox_get_display_name (POPCHECK_MAILBOX (item))
                                : gtk_string_object_get_string (GTK_STRING_OBJECT (item));

      if (g_strcmp0 (item_name, name) == 0)
        {
          gtk_drop_down_set_selected (filter, i);
          return;
        }
    }

  g_error ("No account “%s” in the filter", name);
}

/* Two accounts: the filter shows up, the rows name their account, and an
 * account without mail shows the empty state. */
static void
test_accounts_filter_and_empty (Fixture       *fixture,
                                gconstpointer  data)
{
  PopcheckChecker *checker = popcheck_application_get_checker (fixture->app);
  GtkDropDown *filter = popcheck_window_get_account_filter (fixture->window);
  PopcheckAccount *empty;
  PopcheckMailbox *mailbox;

  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (filter)));

  popcheck_test_demo_add_user (fixture->demo, "nothing", "nothing-pw", TRUE);
  empty = add_account (fixture, "Empty", "nothing", "nothing-pw");
  mailbox = popcheck_checker_get_mailbox (checker, popcheck_account_get_id (empty));
  WAIT_UNTIL (popcheck_mailbox_get_last_check (mailbox) != NULL &&
              popcheck_mailbox_get_state (mailbox) == POPCHECK_MAILBOX_STATE_IDLE);

  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (filter)));
  g_assert_cmpuint (n_listed (fixture), ==, N_SAMPLES);
  WAIT_UNTIL (find_visible_label (GTK_WIDGET (popcheck_window_get_list_view (fixture->window)),
                                     "Demo"));

  select_account (fixture, "Empty");
  g_assert_cmpuint (n_listed (fixture), ==, 0);
  g_assert_cmpstr (popcheck_window_get_list_page (fixture->window), ==, "empty");
  WAIT_UNTIL (find_visible_label (GTK_WIDGET (fixture->window), "No Mail"));

  select_account (fixture, "Demo");
  g_assert_cmpuint (n_listed (fixture), ==, N_SAMPLES);
  g_assert_cmpstr (popcheck_window_get_list_page (fixture->window), ==, "list");
  for (guint i = 0; i < n_listed (fixture); i++)
    g_assert_cmpstr (popcheck_window_get_message_account_id (fixture->window, listed (fixture, i)),
                     ==, popcheck_account_get_id (fixture->account));

  select_account (fixture, "All Accounts");
  g_assert_cmpuint (n_listed (fixture), ==, N_SAMPLES);

  /* An account's line in the tray shows just that account. */
  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "show-message",
                                  g_variant_new ("(ss)",
                                                 popcheck_account_get_id (empty),
                                                 ""));
  g_assert_cmpuint (n_listed (fixture), ==, 0);
  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "show-message",
                                  g_variant_new ("(ss)",
                                                 popcheck_account_get_id (fixture->account),
                                                 ""));
  g_assert_cmpuint (n_listed (fixture), ==, N_SAMPLES);
  for (guint i = 0; i < n_listed (fixture); i++)
    g_assert_cmpstr (popcheck_window_get_message_account_id (fixture->window, listed (fixture, i)),
                     ==, popcheck_account_get_id (fixture->account));
}

/* What an account is doing shows in its status row. */
static void
test_account_states (Fixture       *fixture,
                     gconstpointer  data)
{
  PopcheckMailbox *mailbox =
    popcheck_checker_get_mailbox (popcheck_application_get_checker (fixture->app),
                                  popcheck_account_get_id (fixture->account));
  GtkWidget *window = GTK_WIDGET (fixture->window);
  GtkWidget *status;

  status = find_widget_of_type (window, POPCHECK_TYPE_ACCOUNT_STATUS);
  g_assert_nonnull (status);

  popcheck_mailbox_set_state (mailbox, POPCHECK_MAILBOX_STATE_CHECKING,
                              POPCHECK_PROBLEM_NONE, NULL);
  WAIT_UNTIL (find_visible_label (status, "Checking for new mail…"));
  g_assert_true (gtk_spinner_get_spinning (GTK_SPINNER (find_widget_of_type (status,
                                                                            GTK_TYPE_SPINNER))));

  popcheck_mailbox_set_state (mailbox, POPCHECK_MAILBOX_STATE_OFFLINE,
                              POPCHECK_PROBLEM_NONE, NULL);
  WAIT_UNTIL (find_label_prefix (status, "Offline.") != NULL);

  popcheck_mailbox_set_state (mailbox, POPCHECK_MAILBOX_STATE_ERROR,
                              POPCHECK_PROBLEM_TEMPORARY,
                              "-ERR [SYS/TEMP] <disk> & quota trouble");
  WAIT_UNTIL (find_visible_label (status, "-ERR [SYS/TEMP] <disk> & quota trouble"));
  g_assert_true (find_visible_label (status, "_Try Again"));

  /* A server that asks to wait (or keeps failing) is tried again later:
   * the row says when, and only for those problems. */
  {
    g_autoptr(GDateTime) next_check = g_date_time_new_local (2026, 12, 4, 14, 5, 0);

    popcheck_mailbox_set_next_check (mailbox, next_check);
    WAIT_UNTIL (find_visible_label (status, "PopCheck tries again at 14:05."));

    popcheck_mailbox_set_state (mailbox, POPCHECK_MAILBOX_STATE_ERROR,
                                POPCHECK_PROBLEM_AUTH, "Wrong password");
    WAIT_UNTIL (find_visible_label (status, "Wrong password"));
    g_assert_false (find_visible_label (status, "PopCheck tries again at 14:05."));

    popcheck_mailbox_set_state (mailbox, POPCHECK_MAILBOX_STATE_ERROR,
                                POPCHECK_PROBLEM_BUSY,
                                "-ERR [LOGIN-DELAY] wait a while");
    WAIT_UNTIL (find_visible_label (status, "PopCheck tries again at 14:05."));
  }

  /* Try Again checks for real, and the error goes. */
  gtk_widget_activate_action (window, "app.check-account", "s",
                              popcheck_account_get_id (fixture->account));
  WAIT_UNTIL (popcheck_mailbox_get_state (mailbox) == POPCHECK_MAILBOX_STATE_IDLE);
  WAIT_UNTIL (!find_visible_label (status, "_Try Again"));
}

/* A turned-off account's messages leave the list and come back when it is
 * turned on again. */
static void
test_disabled_account_hidden (Fixture       *fixture,
                              gconstpointer  data)
{
  PopcheckMailbox *mailbox =
    popcheck_checker_get_mailbox (popcheck_application_get_checker (fixture->app),
                                  popcheck_account_get_id (fixture->account));

  g_assert_cmpuint (n_listed (fixture), ==, N_SAMPLES);

  popcheck_account_set_enabled (fixture->account, FALSE);
  WAIT_UNTIL (popcheck_mailbox_get_state (mailbox) == POPCHECK_MAILBOX_STATE_DISABLED);
  WAIT_UNTIL (n_listed (fixture) == 0);
  /* Kept meanwhile, not forgotten. */
  g_assert_cmpuint (popcheck_mailbox_get_n_items (mailbox), ==, N_SAMPLES);

  popcheck_account_set_enabled (fixture->account, TRUE);
  WAIT_UNTIL (n_listed (fixture) == N_SAMPLES);
  WAIT_UNTIL (popcheck_mailbox_get_state (mailbox) == POPCHECK_MAILBOX_STATE_IDLE);
  g_assert_cmpuint (n_listed (fixture), ==, N_SAMPLES);
}

/* A window made for accounts that are already checked (as after
 * `popcheck --background`) or disabled shows no empty status card. */
static void
test_no_empty_status (Fixture       *fixture,
                      gconstpointer  data)
{
  PopcheckChecker *checker = popcheck_application_get_checker (fixture->app);
  PopcheckMailbox *mailbox =
    popcheck_checker_get_mailbox (checker, popcheck_account_get_id (fixture->account));
  const PopcheckMailboxState quiet_states[] = {
    POPCHECK_MAILBOX_STATE_IDLE,
    POPCHECK_MAILBOX_STATE_DISABLED,
  };

  for (guint i = 0; i < G_N_ELEMENTS (quiet_states); i++)
    {
      GtkWidget *status;

      popcheck_mailbox_set_state (mailbox, quiet_states[i], POPCHECK_PROBLEM_NONE, NULL);
      gtk_window_destroy (GTK_WINDOW (fixture->window));
      WAIT_UNTIL (fixture->window == NULL);
      fixture->window = popcheck_window_new (GTK_APPLICATION (fixture->app), checker);
      g_object_add_weak_pointer (G_OBJECT (fixture->window), (gpointer *) &fixture->window);
      gtk_window_present (GTK_WINDOW (fixture->window));
      WAIT_UNTIL (gtk_widget_get_mapped (GTK_WIDGET (fixture->window)));

      status = find_widget_of_type (GTK_WIDGET (fixture->window),
                                    POPCHECK_TYPE_ACCOUNT_STATUS);
      g_assert_nonnull (status);
      g_assert_false (gtk_widget_get_visible (status));

      /* It appears when there is something to say, and goes again. */
      popcheck_mailbox_set_state (mailbox, POPCHECK_MAILBOX_STATE_CHECKING,
                                  POPCHECK_PROBLEM_NONE, NULL);
      WAIT_UNTIL (gtk_widget_get_mapped (status) &&
                  find_visible_label (status, "Checking for new mail…"));
      popcheck_mailbox_set_state (mailbox, quiet_states[i], POPCHECK_PROBLEM_NONE, NULL);
      WAIT_UNTIL (!gtk_widget_get_visible (status));
    }
}

static void
collect_descendants (GtkWidget *widget,
                     GType      type,
                     GPtrArray *found)
{
  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      if (G_TYPE_CHECK_INSTANCE_TYPE (child, type))
        g_ptr_array_add (found, child);
      else
        collect_descendants (child, type, found);
    }
}

static guint
count_occurrences (const char *haystack,
                   const char *needle)
{
  guint n = 0;

  for (const char *p = strstr (haystack, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

/* Whether the entry for ACTION shows ACCEL among its keys. */
static gboolean
shortcut_shows (GPtrArray  *entries,
                const char *action,
                const char *accel)
{
  for (guint i = 0; i < entries->len; i++)
    {
      g_autofree char *action_name = NULL;
      g_autofree char *accelerator = NULL;
      g_auto(GStrv) keys = NULL;

      g_object_get (entries->pdata[i], "action-name", &action_name,
                    "accelerator", &accelerator, NULL);
      if (g_strcmp0 (action_name, action) != 0 || accelerator == NULL)
        continue;
      keys = g_strsplit (accelerator, " ", -1);
      return g_strv_contains ((const char * const *) keys, accel);
    }
  return FALSE;
}

/* The keys the issue names are bound, and the shortcuts window lists them. */
static void
test_shortcuts (Fixture       *fixture,
                gconstpointer  data)
{
  static const struct {
    const char *action;
    const char *accel;
  } expected[] = {
    { "app.check-now", "<Control>r" },
    { "app.preferences", "<Control>comma" },
    { "app.shortcuts", "<Control>question" },
    { "app.quit", "<Control>q" },
    { "win.delete", "Delete" },
    { "win.undo-delete", "<Control>z" },
    { "win.load-more", "<Control>m" },
    { "win.show-whole-message", "<Control>u" },
    { "win.mark-seen", "<Control>k" },
    { "win.mark-all-seen", "<Shift><Control>k" },
  };
  PopcheckMailbox *mailbox =
    popcheck_checker_get_mailbox (popcheck_application_get_checker (fixture->app),
                                  popcheck_account_get_id (fixture->account));
  g_autoptr(GDateTime) last_check = NULL;
  g_autoptr(GBytes) shortcuts_ui = NULL;
  g_autoptr(GPtrArray) entries = g_ptr_array_new ();
  const char *ui;
  GtkWindow *shortcuts;
  g_autoptr(GPtrArray) fresh_entries = g_ptr_array_new ();
  PopcheckWindow *fresh;
  GtkShortcutsWindow *overlay;

  /* A new window's shortcuts window shows the keys at once, before
   * anything in the window changes (the window gets its application
   * only after it is made). */
  fresh = popcheck_window_new (GTK_APPLICATION (fixture->app),
                               popcheck_application_get_checker (fixture->app));
  overlay = gtk_application_window_get_help_overlay (GTK_APPLICATION_WINDOW (fresh));
  g_assert_nonnull (overlay);
  collect_descendants (GTK_WIDGET (overlay), GTK_TYPE_SHORTCUTS_SHORTCUT, fresh_entries);
  g_assert_true (shortcut_shows (fresh_entries, "app.check-now", "<Control>r"));
  gtk_window_destroy (GTK_WINDOW (fresh));

  shortcuts_ui = g_resources_lookup_data ("/org/example/PopCheck/popcheck-shortcuts-window.ui",
                                          0, NULL);
  g_assert_nonnull (shortcuts_ui);
  ui = g_bytes_get_data (shortcuts_ui, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_auto(GStrv) accels =
        gtk_application_get_accels_for_action (GTK_APPLICATION (fixture->app),
                                               expected[i].action);
      g_autofree char *listed_action = NULL;

      g_assert_true (g_strv_contains ((const char * const *) accels, expected[i].accel));
      /* Listed in the shortcuts window by its action, which shows the
       * accelerators bound to it. */
      listed_action = g_strdup_printf (">%s<", expected[i].action);
      g_assert_nonnull (strstr (ui, listed_action));
    }

  /* Ctrl+R's action checks now. */
  last_check = g_date_time_ref (popcheck_mailbox_get_last_check (mailbox));
  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "check-now", NULL);
  WAIT_UNTIL (popcheck_mailbox_get_last_check (mailbox) != NULL &&
              !g_date_time_equal (popcheck_mailbox_get_last_check (mailbox), last_check) &&
              popcheck_mailbox_get_state (mailbox) == POPCHECK_MAILBOX_STATE_IDLE);

  /* Ctrl+question opens the shortcuts window, over the main window. */
  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "shortcuts", NULL);
  WAIT_UNTIL ((shortcuts = find_toplevel (GTK_TYPE_SHORTCUTS_WINDOW)) != NULL);
  g_assert_true (gtk_window_get_transient_for (shortcuts) == GTK_WINDOW (fixture->window));

  /* Every entry shows its keys: those bound to its action, not only those
   * written into the file.  (The search page has copies of its own.) */
  collect_descendants (GTK_WIDGET (shortcuts), GTK_TYPE_SHORTCUTS_SHORTCUT, entries);
  for (guint i = entries->len; i-- > 0;)
    if (gtk_widget_get_ancestor (entries->pdata[i], GTK_TYPE_SHORTCUTS_SECTION) == NULL)
      g_ptr_array_remove_index (entries, i);
  g_assert_cmpuint (entries->len, ==, count_occurrences (ui, "\"GtkShortcutsShortcut\""));
  for (guint i = 0; i < entries->len; i++)
    {
      g_autofree char *accelerator = NULL;
      g_autofree char *title = NULL;

      g_object_get (entries->pdata[i], "accelerator", &accelerator,
                    "title", &title, NULL);
      if (accelerator == NULL || *accelerator == '\0')
        g_error ("The shortcut “%s” shows no keys", title);
    }
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    g_assert_true (shortcut_shows (entries, expected[i].action, expected[i].accel));

  /* Closing hides it; Ctrl+question brings it back. */
  gtk_window_close (shortcuts);
  WAIT_UNTIL (!gtk_widget_get_visible (GTK_WIDGET (shortcuts)));
  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "shortcuts", NULL);
  WAIT_UNTIL (gtk_widget_get_visible (GTK_WIDGET (shortcuts)));
  gtk_window_close (shortcuts);

  /* Ctrl+comma opens the preferences. */
  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "preferences", NULL);
  WAIT_UNTIL (find_toplevel (ADW_TYPE_PREFERENCES_WINDOW) != NULL);
  gtk_window_destroy (find_toplevel (ADW_TYPE_PREFERENCES_WINDOW));

  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "about", NULL);
  WAIT_UNTIL (find_toplevel (ADW_TYPE_ABOUT_WINDOW) != NULL);
  gtk_window_destroy (find_toplevel (ADW_TYPE_ABOUT_WINDOW));
}

/* Every control without a text of its own has an accessible name. */
static void
assert_named (GtkWidget *widget,
              guint     *n_checked)
{
  gboolean needs_name = FALSE;

  /* What is on screen: not the lists of popovers that are closed. */
  if (!gtk_widget_get_mapped (widget))
    return;

  if (GTK_IS_MENU_BUTTON (widget))
    needs_name = gtk_menu_button_get_label (GTK_MENU_BUTTON (widget)) == NULL;
  else if (GTK_IS_BUTTON (widget) && !GTK_IS_MENU_BUTTON (gtk_widget_get_parent (widget)))
    needs_name = gtk_button_get_icon_name (GTK_BUTTON (widget)) != NULL;
  else if (GTK_IS_DROP_DOWN (widget))
    needs_name = TRUE;
  else if (GTK_IS_LIST_VIEW (widget))
    /* A combo row shows its value in a list of its own; the row's title
     * names it. */
    needs_name = gtk_widget_get_ancestor (widget, ADW_TYPE_COMBO_ROW) == NULL;
  else if (GTK_IS_LIST_BOX (widget))
    /* libadwaita 1.2 gives a preferences group's own list no name; the
     * group's title shows what it holds. */
    needs_name = gtk_widget_get_ancestor (widget, ADW_TYPE_PREFERENCES_GROUP) == NULL;

  if (needs_name)
    {
      if (!gtk_test_accessible_has_property (GTK_ACCESSIBLE (widget),
                                             GTK_ACCESSIBLE_PROPERTY_LABEL) &&
          !gtk_test_accessible_has_relation (GTK_ACCESSIBLE (widget),
                                             GTK_ACCESSIBLE_RELATION_LABELLED_BY))
        {
          g_autoptr(GString) path = g_string_new (G_OBJECT_TYPE_NAME (widget));

          for (GtkWidget *up = gtk_widget_get_parent (widget); up != NULL;
               up = gtk_widget_get_parent (up))
            g_string_prepend (g_string_prepend (path, " > "), G_OBJECT_TYPE_NAME (up));
          g_error ("%s (%s) has no accessible name", path->str,
                   gtk_widget_get_tooltip_text (widget) != NULL
                     ? gtk_widget_get_tooltip_text (widget) : "no tooltip");
        }
      (*n_checked)++;
    }

  if (GTK_IS_MENU_BUTTON (widget))
    return;
  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    assert_named (child, n_checked);
}

static void
test_accessible_names (Fixture       *fixture,
                       gconstpointer  data)
{
  guint n_checked = 0;

  select_subject (fixture, "Monthly report with attachments");
  WAIT_UNTIL (preview_lines (fixture) > 0);
  assert_named (GTK_WIDGET (fixture->window), &n_checked);
  /* Check now, delete, the menu, the message list and the account status
   * list at least. */
  g_assert_cmpuint (n_checked, >=, 5);

  /* The preferences and the account editor too. */
  {
    GtkWindow *preferences;
    GtkWidget *editor;

    g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "preferences", NULL);
    WAIT_UNTIL ((preferences = find_toplevel (POPCHECK_TYPE_PREFERENCES_WINDOW)) != NULL);
    WAIT_UNTIL (gtk_widget_get_mapped (GTK_WIDGET (preferences)));
    n_checked = 0;
    assert_named (GTK_WIDGET (preferences), &n_checked);
    /* The account's remove button at least. */
    g_assert_cmpuint (n_checked, >=, 1);

    popcheck_preferences_window_edit_account (POPCHECK_PREFERENCES_WINDOW (preferences),
                                              popcheck_account_get_id (fixture->account));
    WAIT_UNTIL ((editor = find_widget_of_type (GTK_WIDGET (preferences),
                                               POPCHECK_TYPE_ACCOUNT_EDITOR)) != NULL);
    WAIT_UNTIL (gtk_widget_get_mapped (editor));
    assert_named (editor, &n_checked);
    gtk_window_destroy (preferences);
  }
}

/* Preferences: removing an account asks first; Cancel keeps it. */
static void
test_preferences_remove (Fixture       *fixture,
                         gconstpointer  data)
{
  PopcheckAccountList *accounts = popcheck_application_get_accounts (fixture->app);
  const char *id = popcheck_account_get_id (fixture->account);
  GtkWindow *preferences;

  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "preferences", NULL);
  WAIT_UNTIL ((preferences = find_toplevel (POPCHECK_TYPE_PREFERENCES_WINDOW)) != NULL);
  /* The account is listed by name and user@host. */
  WAIT_UNTIL (find_visible_label (GTK_WIDGET (preferences), "Demo"));

  gtk_widget_activate_action (GTK_WIDGET (preferences), "prefs.remove-account", "s", id);
  WAIT_UNTIL (find_toplevel (ADW_TYPE_MESSAGE_DIALOG) != NULL);
  respond ("cancel");
  /* The dialog goes once its answer is handled: a removal would have
   * happened by then. */
  WAIT_UNTIL (find_toplevel (ADW_TYPE_MESSAGE_DIALOG) == NULL);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (accounts)), ==, 1);
  g_assert_cmpstr (popcheck_window_get_page (fixture->window), ==, "messages");

  gtk_widget_activate_action (GTK_WIDGET (preferences), "prefs.remove-account", "s", id);
  WAIT_UNTIL (find_toplevel (ADW_TYPE_MESSAGE_DIALOG) != NULL);
  respond ("remove");
  WAIT_UNTIL (g_list_model_get_n_items (G_LIST_MODEL (accounts)) == 0);
  fixture->account = NULL;
  /* Back to the first page, and the messages are gone with the account. */
  WAIT_UNTIL (g_str_equal (popcheck_window_get_page (fixture->window), "welcome"));
  g_assert_cmpuint (n_listed (fixture), ==, 0);
  WAIT_UNTIL (find_label_prefix (GTK_WIDGET (preferences), "“Demo” removed") != NULL);
  gtk_window_destroy (preferences);
}

/* Opens the details of a successful test. */
static gboolean
details_opened (GtkWidget *editor)
{
  GtkWidget *expander = find_widget_of_type (editor, GTK_TYPE_EXPANDER);

  if (expander == NULL || !gtk_widget_get_visible (expander))
    return FALSE;
  gtk_expander_set_expanded (GTK_EXPANDER (expander), TRUE);
  return TRUE;
}

/* The account editor's "Test Connection" runs a real session. */
static void
test_editor_test_connection (Fixture       *fixture,
                             gconstpointer  data)
{
  GtkWindow *preferences;
  GtkWidget *editor;
  GtkLabel *report;

  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "preferences", NULL);
  WAIT_UNTIL ((preferences = find_toplevel (POPCHECK_TYPE_PREFERENCES_WINDOW)) != NULL);
  popcheck_preferences_window_edit_account (POPCHECK_PREFERENCES_WINDOW (preferences),
                                            popcheck_account_get_id (fixture->account));
  WAIT_UNTIL ((editor = find_widget_of_type (GTK_WIDGET (preferences),
                                             POPCHECK_TYPE_ACCOUNT_EDITOR)) != NULL);
  WAIT_UNTIL (find_widget_of_type (editor, ADW_TYPE_PASSWORD_ENTRY_ROW) != NULL);

  /* The editor never reads the password back from the keyring: the user
   * types it to test it. */
  gtk_editable_set_text (GTK_EDITABLE (find_widget_of_type (editor,
                                                            ADW_TYPE_PASSWORD_ENTRY_ROW)),
                         "right-password");
  gtk_widget_activate_action (editor, "editor.test", NULL);
  g_assert_true (popcheck_account_editor_get_busy (POPCHECK_ACCOUNT_EDITOR (editor)));
  WAIT_UNTIL (!popcheck_account_editor_get_busy (POPCHECK_ACCOUNT_EDITOR (editor)));
  /* The report: where it connected, the server's greeting, TLS. */
  WAIT_UNTIL (details_opened (editor) &&
              (report = find_label_prefix (editor, "Connected to ")) != NULL);
  g_assert_nonnull (report);
  g_assert_nonnull (strstr (gtk_label_get_text (report), "Server greeting: +OK"));
  g_assert_nonnull (strstr (gtk_label_get_text (report), "SHA-256 fingerprint: "));
  gtk_window_destroy (preferences);
}

static gboolean
is_row_titled (GtkWidget     *widget,
               gconstpointer  title)
{
  return ADW_IS_PREFERENCES_ROW (widget) &&
         g_strcmp0 (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (widget)), title) == 0;
}

static GtkWidget *
row_titled (GtkWidget  *widget,
            const char *title)
{
  GtkWidget *row = find_widget (widget, is_row_titled, title, FALSE);

  if (row == NULL)
    g_error ("No row “%s”", title);

  return row;
}

/* Opens the preferences on a new account's editor and fills it in as a
 * user would; security is the Security row's position. */
static GtkWidget *
new_account_editor (Fixture     *fixture,
                    GtkWindow  **preferences_out,
                    const char  *name,
                    const char  *user,
                    const char  *password,
                    guint        security,
                    guint16      port)
{
  g_autofree char *port_text = g_strdup_printf ("%u", port);
  GtkWindow *preferences;
  GtkWidget *editor;

  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "preferences", NULL);
  WAIT_UNTIL ((preferences = find_toplevel (POPCHECK_TYPE_PREFERENCES_WINDOW)) != NULL);
  popcheck_preferences_window_add_account (POPCHECK_PREFERENCES_WINDOW (preferences));
  WAIT_UNTIL ((editor = find_widget_of_type (GTK_WIDGET (preferences),
                                             POPCHECK_TYPE_ACCOUNT_EDITOR)) != NULL);

  gtk_editable_set_text (GTK_EDITABLE (row_titled (editor, "Name")), name);
  gtk_editable_set_text (GTK_EDITABLE (row_titled (editor, "User Name or Email Address")), user);
  gtk_editable_set_text (GTK_EDITABLE (row_titled (editor, "Password")), password);
  gtk_editable_set_text (GTK_EDITABLE (row_titled (editor, "Server Name")),
                         fixture->demo->host);
  /* The security first: choosing it puts its usual port in. */
  adw_combo_row_set_selected (ADW_COMBO_ROW (row_titled (editor, "Security")), security);
  gtk_editable_set_text (GTK_EDITABLE (row_titled (editor, "Port")), port_text);

  *preferences_out = preferences;
  return editor;
}

/* A new account from the preferences: the editor tests it against the
 * real server, the self-signed certificate is shown and trusted for this
 * account only, and once saved the account is checked at once. */
static void
test_editor_add_account (Fixture       *fixture,
                         gconstpointer  data)
{
  PopcheckAccountList *accounts = popcheck_application_get_accounts (fixture->app);
  g_autoptr(PopcheckAccount) added = NULL;
  GtkWindow *preferences;
  GtkWindow *dialog;
  GtkWidget *editor;

  popcheck_test_demo_add_user (fixture->demo, "second", "second-pw", FALSE);
  /* TLS */
  editor = new_account_editor (fixture, &preferences, "Second <&>", "second", "second-pw",
                               1, fixture->demo->pop3s_port);

  /* The demo server's certificate is its own: the editor shows it. */
  gtk_widget_activate_action (editor, "editor.test", NULL);
  WAIT_UNTIL ((dialog = find_toplevel (POPCHECK_TYPE_CERTIFICATE_DIALOG)) != NULL);
  g_assert_cmpstr (popcheck_certificate_dialog_get_fingerprint (POPCHECK_CERTIFICATE_DIALOG (dialog)),
                   ==, fixture->demo->fingerprint);
  g_assert_true (find_visible_label (GTK_WIDGET (dialog), fixture->demo->fingerprint));
  respond ("trust");
  WAIT_UNTIL (details_opened (editor) && find_label_prefix (editor, "Connected to ") != NULL);

  gtk_widget_activate_action (editor, "editor.save", NULL);
  WAIT_UNTIL (g_list_model_get_n_items (G_LIST_MODEL (accounts)) == 2);
  added = g_list_model_get_item (G_LIST_MODEL (accounts), 1);
  g_assert_cmpstr (popcheck_account_get_display_name (added), ==, "Second <&>");
  g_assert_cmpstr (popcheck_account_get_host (added), ==, fixture->demo->host);
  g_assert_cmpuint (popcheck_account_get_port (added), ==, fixture->demo->pop3s_port);
  g_assert_cmpint (popcheck_account_get_security (added), ==, POP3_SECURITY_TLS);
  /* The pin belongs to this account alone. */
  g_assert_cmpstr (popcheck_account_get_pinned_fingerprint (added), ==,
                   fixture->demo->fingerprint);

  /* Checked at once, with the password from the keyring. */
  WAIT_UNTIL (n_listed (fixture) == 2 * N_SAMPLES);
  /* The account's name is text in the preferences list, not markup. */
  WAIT_UNTIL (find_visible_label (GTK_WIDGET (preferences), "Second <&>"));
  gtk_window_destroy (preferences);
}

/* An editor for a new account in a window of its own, without the
 * preferences around it. */
static GtkWidget *
standalone_editor (GtkWindow           **window_out,
                   PopcheckAccountList  *accounts)
{
  GtkWidget *window = gtk_window_new ();
  GtkWidget *editor = popcheck_account_editor_new (accounts, NULL);

  gtk_window_set_child (GTK_WINDOW (window), editor);
  gtk_window_present (GTK_WINDOW (window));
  *window_out = GTK_WINDOW (window);

  return editor;
}

static const char *
row_subtitle (GtkWidget  *widget,
              const char *title)
{
  return adw_action_row_get_subtitle (ADW_ACTION_ROW (row_titled (widget, title)));
}

static const char *
row_text (GtkWidget  *widget,
          const char *title)
{
  return gtk_editable_get_text (GTK_EDITABLE (row_titled (widget, title)));
}

/* The Security row says what each choice means; the port follows the
 * choice, and a port the user typed is kept, also across Automatic. */
static void
test_editor_security_port (void)
{
  g_autoptr(PopcheckAccountList) accounts = popcheck_account_list_new ();
  GtkWindow *window;
  GtkWidget *editor = standalone_editor (&window, accounts);
  AdwComboRow *security = ADW_COMBO_ROW (row_titled (editor, "Security"));
  GtkWidget *port = row_titled (editor, "Port");

  g_assert_cmpstr (row_subtitle (editor, "Security"), ==,
                   "Tries TLS on port 995, then STARTTLS on port 110, never unencrypted");
  g_assert_cmpstr (row_text (editor, "Port"), ==, "");
  g_assert_false (gtk_widget_get_sensitive (port));

  adw_combo_row_set_selected (security, 1);
  g_assert_cmpstr (row_subtitle (editor, "Security"), ==,
                   "Encrypted from the first byte, usually on port 995");
  g_assert_cmpstr (row_text (editor, "Port"), ==, "995");
  g_assert_true (gtk_widget_get_sensitive (port));

  adw_combo_row_set_selected (security, 2);
  g_assert_cmpstr (row_subtitle (editor, "Security"), ==,
                   "Connects, then switches to encryption before the password is sent, "
                   "usually on port 110");
  g_assert_cmpstr (row_text (editor, "Port"), ==, "110");

  adw_combo_row_set_selected (security, 3);
  g_assert_cmpstr (row_subtitle (editor, "Security"), ==,
                   "Nothing is encrypted: the password and the mail can be read on the way");
  g_assert_cmpstr (row_text (editor, "Port"), ==, "110");

  /* A port of the user's own stays, whatever the choice. */
  gtk_editable_set_text (GTK_EDITABLE (port), "2110");
  adw_combo_row_set_selected (security, 1);
  g_assert_cmpstr (row_text (editor, "Port"), ==, "2110");
  adw_combo_row_set_selected (security, 0);
  g_assert_cmpstr (row_text (editor, "Port"), ==, "");
  adw_combo_row_set_selected (security, 2);
  g_assert_cmpstr (row_text (editor, "Port"), ==, "2110");
  g_assert_true (gtk_widget_get_sensitive (port));

  gtk_window_destroy (window);
}

/* Test refused for a missing confirmation says so next to the button. */
static void
test_editor_test_explains (void)
{
  g_autoptr(PopcheckAccountList) accounts = popcheck_account_list_new ();
  GtkWindow *window;
  GtkWidget *editor = standalone_editor (&window, accounts);

  gtk_editable_set_text (GTK_EDITABLE (row_titled (editor, "User Name or Email Address")), "jane");
  gtk_editable_set_text (GTK_EDITABLE (row_titled (editor, "Server Name")), "127.0.0.1");
  adw_combo_row_set_selected (ADW_COMBO_ROW (row_titled (editor, "Security")), 3);

  gtk_widget_activate_action (editor, "editor.test", NULL);
  g_assert_false (popcheck_account_editor_get_busy (POPCHECK_ACCOUNT_EDITOR (editor)));
  /* In the button's group, not only beside the switch above. */
  g_assert_nonnull (find_label_prefix (gtk_widget_get_ancestor (row_titled (editor, "Test Connection"),
                                                                ADW_TYPE_PREFERENCES_GROUP),
                                       "Not tested: first confirm above that the password may "
                                       "travel unencrypted, or choose TLS or STARTTLS."));

  gtk_window_destroy (window);
}

static void
count_cb (gpointer  instance,
          guint    *count)
{
  (*count)++;
}

static void
saved_cb (PopcheckAccountEditor *editor,
          PopcheckAccount       *account,
          guint                 *count)
{
  (*count)++;
}

/* Leaving a form with something typed asks first; Keep Editing keeps
 * it, Discard leaves; an untouched form leaves at once. */
static void
test_editor_leave_asks (void)
{
  Fixture fixture_data = { 0 };
  Fixture *fixture = &fixture_data;
  g_autoptr(PopcheckAccountList) accounts = popcheck_account_list_new ();
  GtkWindow *window;
  GtkWidget *editor = standalone_editor (&window, accounts);
  GtkWindow *dialog;
  guint closed = 0;

  g_signal_connect (editor, "closed", G_CALLBACK (count_cb), &closed);
  gtk_widget_activate_action (editor, "editor.close", NULL);
  g_assert_cmpuint (closed, ==, 1);
  g_assert_null (find_toplevel (ADW_TYPE_MESSAGE_DIALOG));
  gtk_window_destroy (window);

  editor = standalone_editor (&window, accounts);
  closed = 0;
  g_signal_connect (editor, "closed", G_CALLBACK (count_cb), &closed);
  gtk_editable_set_text (GTK_EDITABLE (row_titled (editor, "Server Name")), "pop.example.com");
  gtk_widget_activate_action (editor, "editor.close", NULL);
  WAIT_UNTIL ((dialog = find_toplevel (ADW_TYPE_MESSAGE_DIALOG)) != NULL);
  g_assert_cmpstr (adw_message_dialog_get_heading (ADW_MESSAGE_DIALOG (dialog)), ==,
                   "Discard This Account?");
  g_assert_cmpstr (adw_message_dialog_get_body (ADW_MESSAGE_DIALOG (dialog)), ==,
                   "What you typed for the new account is not saved.");
  g_assert_cmpint (adw_message_dialog_get_response_appearance (ADW_MESSAGE_DIALOG (dialog),
                                                               "discard"),
                   ==, ADW_RESPONSE_DESTRUCTIVE);
  g_assert_cmpstr (adw_message_dialog_get_default_response (ADW_MESSAGE_DIALOG (dialog)), ==,
                   "cancel");
  respond ("cancel");
  WAIT_UNTIL (find_toplevel (ADW_TYPE_MESSAGE_DIALOG) == NULL);
  g_assert_cmpuint (closed, ==, 0);
  g_assert_cmpstr (row_text (editor, "Server Name"), ==, "pop.example.com");

  gtk_widget_activate_action (editor, "editor.close", NULL);
  WAIT_UNTIL (find_toplevel (ADW_TYPE_MESSAGE_DIALOG) != NULL);
  respond ("discard");
  WAIT_UNTIL (closed == 1);
  gtk_window_destroy (window);
}

/* The preferences, on screen, with a new account's form that has a
 * server typed in: *@preferences is cleared when the window goes. */
static GtkWidget *
preferences_with_typed_form (PopcheckAccountList  *accounts,
                             GtkWindow           **preferences)
{
  Fixture fixture_data = { 0 };
  Fixture *fixture = &fixture_data;
  GtkWidget *editor;

  *preferences = popcheck_preferences_window_new (NULL, accounts);
  g_object_add_weak_pointer (G_OBJECT (*preferences), (gpointer *) preferences);
  gtk_window_present (*preferences);
  popcheck_preferences_window_add_account (POPCHECK_PREFERENCES_WINDOW (*preferences));
  WAIT_UNTIL ((editor = find_widget_of_type (GTK_WIDGET (*preferences),
                                             POPCHECK_TYPE_ACCOUNT_EDITOR)) != NULL &&
              gtk_widget_get_mapped (editor));
  gtk_editable_set_text (GTK_EDITABLE (row_titled (editor, "Server Name")), "pop.example.com");

  return editor;
}

/* Closing the preferences while the editor holds changes asks too;
 * Keep Editing keeps both, Discard closes the window. */
static void
test_preferences_close_asks (void)
{
  Fixture fixture_data = { 0 };
  Fixture *fixture = &fixture_data;
  g_autoptr(PopcheckAccountList) accounts = popcheck_account_list_new ();
  GtkWindow *preferences;
  GtkWindow *dialog;
  GtkWidget *editor = preferences_with_typed_form (accounts, &preferences);

  gtk_window_close (preferences);
  WAIT_UNTIL ((dialog = find_toplevel (ADW_TYPE_MESSAGE_DIALOG)) != NULL);
  g_assert_cmpstr (adw_message_dialog_get_heading (ADW_MESSAGE_DIALOG (dialog)), ==,
                   "Discard This Account?");
  respond ("cancel");
  WAIT_UNTIL (find_toplevel (ADW_TYPE_MESSAGE_DIALOG) == NULL);
  g_assert_nonnull (preferences);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (preferences)));
  g_assert_cmpstr (row_text (editor, "Server Name"), ==, "pop.example.com");

  gtk_window_close (preferences);
  WAIT_UNTIL (find_toplevel (ADW_TYPE_MESSAGE_DIALOG) != NULL);
  respond ("discard");
  WAIT_UNTIL (preferences == NULL);
}

/* On a busy machine, where the main loop is never idle, Discard still
 * closes the window. */
static void
test_preferences_close_while_busy (void)
{
  Fixture fixture_data = { 0 };
  Fixture *fixture = &fixture_data;
  g_autoptr(PopcheckAccountList) accounts = popcheck_account_list_new ();
  GtkWindow *preferences;
  guint busy;

  preferences_with_typed_form (accounts, &preferences);
  busy = popcheck_test_busy_frames_add (NULL);
  gtk_window_close (preferences);
  WAIT_UNTIL (find_toplevel (ADW_TYPE_MESSAGE_DIALOG) != NULL);
  respond ("discard");
  WAIT_UNTIL (preferences == NULL);
  g_source_remove (busy);
}

/* Saving settings whose test failed asks first: Cancel keeps the editor
 * and what was typed, Save Anyway saves. */
static void
test_editor_save_after_failed_test (void)
{
  Fixture fixture_data = { 0 };
  Fixture *fixture = &fixture_data;
  g_autoptr(PopcheckAccountList) accounts = popcheck_account_list_new ();
  guint n_before = g_list_model_get_n_items (G_LIST_MODEL (accounts));
  GtkWindow *window;
  GtkWidget *editor = standalone_editor (&window, accounts);
  GtkWindow *dialog;
  GtkLabel *result;
  g_autofree char *failure = NULL;
  guint saved = 0;

  g_signal_connect (editor, "saved", G_CALLBACK (saved_cb), &saved);
  gtk_editable_set_text (GTK_EDITABLE (row_titled (editor, "Name")), "Nowhere");
  gtk_editable_set_text (GTK_EDITABLE (row_titled (editor, "User Name or Email Address")), "jane");
  gtk_editable_set_text (GTK_EDITABLE (row_titled (editor, "Password")), "secret");
  gtk_editable_set_text (GTK_EDITABLE (row_titled (editor, "Server Name")), "127.0.0.1");
  adw_combo_row_set_selected (ADW_COMBO_ROW (row_titled (editor, "Security")), 1);
  /* Nothing listens on port 1. */
  gtk_editable_set_text (GTK_EDITABLE (row_titled (editor, "Port")), "1");

  gtk_widget_activate_action (editor, "editor.test", NULL);
  WAIT_UNTIL (!popcheck_account_editor_get_busy (POPCHECK_ACCOUNT_EDITOR (editor)));
  result = find_label_prefix (editor, "The connection was refused");
  g_assert_nonnull (result);
  failure = g_strdup (gtk_label_get_text (result));

  gtk_widget_activate_action (editor, "editor.save", NULL);
  WAIT_UNTIL ((dialog = find_toplevel (ADW_TYPE_MESSAGE_DIALOG)) != NULL);
  g_assert_cmpstr (adw_message_dialog_get_heading (ADW_MESSAGE_DIALOG (dialog)), ==,
                   "Save Settings That Failed the Test?");
  g_assert_nonnull (strstr (adw_message_dialog_get_body (ADW_MESSAGE_DIALOG (dialog)), failure));
  g_assert_cmpstr (adw_message_dialog_get_default_response (ADW_MESSAGE_DIALOG (dialog)), ==,
                   "cancel");
  respond ("cancel");
  WAIT_UNTIL (find_toplevel (ADW_TYPE_MESSAGE_DIALOG) == NULL);
  g_assert_cmpuint (saved, ==, 0);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (accounts)), ==, n_before);
  g_assert_cmpstr (row_text (editor, "Name"), ==, "Nowhere");
  g_assert_cmpstr (row_text (editor, "Port"), ==, "1");
  g_assert_cmpstr (row_text (editor, "Password"), ==, "secret");

  gtk_widget_activate_action (editor, "editor.save", NULL);
  WAIT_UNTIL (find_toplevel (ADW_TYPE_MESSAGE_DIALOG) != NULL);
  respond ("save");
  WAIT_UNTIL (saved == 1);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (accounts)), ==, n_before + 1);
  gtk_window_destroy (window);
}

/* A test without encryption against a server that offers STLS: one line
 * says how it went, a suggestion leads to STARTTLS, the raw report waits
 * behind Details.  With STARTTLS, the certificate's dates read as in the
 * report. */
static void
test_editor_summary_and_starttls (Fixture       *fixture,
                                  gconstpointer  data)
{
  g_autofree char *expected = NULL;
  g_autofree char *port = g_strdup_printf ("%u", fixture->demo->pop3_port);
  g_autofree char *valid = NULL;
  GtkWindow *preferences;
  GtkWindow *dialog;
  GtkWidget *editor;
  GtkLabel *label;
  char *to;

  popcheck_test_demo_add_user (fixture->demo, "careful", "careful-pw", FALSE);
  editor = new_account_editor (fixture, &preferences, "Careful", "careful", "careful-pw",
                               3, fixture->demo->pop3_port);
  gtk_switch_set_active (GTK_SWITCH (find_widget_of_type (row_titled (editor,
                                                                      "Send the password unencrypted"),
                                                          GTK_TYPE_SWITCH)), TRUE);
  gtk_widget_activate_action (editor, "editor.test", NULL);
  WAIT_UNTIL (!popcheck_account_editor_get_busy (POPCHECK_ACCOUNT_EDITOR (editor)));

  g_assert_true (find_visible_label (editor, "Connected without encryption, signed in as careful."));
  g_assert_true (find_visible_label (editor, "The server offers STARTTLS: choose it, and your "
                                     "password and mail are encrypted on the way."));
  /* The raw report only behind Details. */
  g_assert_null (find_label_prefix (editor, "Connected to "));
  WAIT_UNTIL (details_opened (editor));
  label = find_label_prefix (editor, "Connected to ");
  g_assert_nonnull (label);
  g_assert_nonnull (strstr (gtk_label_get_text (label), "Capabilities: "));
  g_assert_nonnull (strstr (gtk_label_get_text (label), "STLS"));

  /* The suggestion's button: STARTTLS, on the port typed. */
  gtk_widget_activate_action (editor, "editor.use-starttls", NULL);
  g_assert_cmpuint (adw_combo_row_get_selected (ADW_COMBO_ROW (row_titled (editor, "Security"))),
                    ==, 2);
  g_assert_cmpstr (row_text (editor, "Port"), ==, port);
  g_assert_null (find_label_prefix (editor, "The server offers STARTTLS"));

  gtk_widget_activate_action (editor, "editor.test", NULL);
  WAIT_UNTIL ((dialog = find_toplevel (POPCHECK_TYPE_CERTIFICATE_DIALOG)) != NULL);
  label = find_label_prefix (GTK_WIDGET (dialog), "20");
  g_assert_nonnull (label);
  valid = g_strdup (gtk_label_get_text (label));
  to = strstr (valid, " to ");
  g_assert_nonnull (to);
  *to = '\0';
  expected = g_strdup_printf ("Valid from %s until %s", valid, to + strlen (" to "));
  respond ("trust");

  WAIT_UNTIL (find_label_prefix (editor, "Connected securely with STARTTLS (TLS 1.") != NULL);
  g_assert_nonnull (strstr (gtk_label_get_text (find_label_prefix (editor, "Connected securely")),
                            ", signed in as careful."));
  WAIT_UNTIL (details_opened (editor));
  label = find_label_prefix (editor, "Connected to ");
  g_assert_nonnull (label);
  g_assert_nonnull (strstr (gtk_label_get_text (label), expected));
  gtk_window_destroy (preferences);
}

/* The error state's button leads to the fix: a new password, saved, and
 * the account works.  On the way, the preferences list the port and set
 * apart accounts that are failing, turned off or unencrypted, in words. */
static void
test_fix_password (Fixture       *fixture,
                   gconstpointer  data)
{
  PopcheckChecker *checker = popcheck_application_get_checker (fixture->app);
  PopcheckAccountList *accounts = popcheck_application_get_accounts (fixture->app);
  g_autofree char *demo_subtitle = NULL;
  g_autofree char *wrong_subtitle = NULL;
  g_autofree char *failing = NULL;
  PopcheckAccount *wrong;
  PopcheckAccount *plain;
  PopcheckMailbox *mailbox;
  GtkWindow *preferences;
  GtkWidget *editor;
  GtkWidget *sound_row;
  GtkSwitch *sound;
  GtkSwitch *notify_switch;

  popcheck_test_demo_add_user (fixture->demo, "forgetful", "the-real-one", FALSE);
  wrong = add_account (fixture, "Forgetful", "forgetful", "not-the-password");
  mailbox = popcheck_checker_get_mailbox (checker, popcheck_account_get_id (wrong));
  WAIT_UNTIL (popcheck_mailbox_get_state (mailbox) == POPCHECK_MAILBOX_STATE_ERROR);
  g_assert_cmpint (popcheck_mailbox_get_problem (mailbox), ==, POPCHECK_PROBLEM_AUTH);

  plain = popcheck_account_list_add (accounts, "Plain", NULL);
  popcheck_account_set_host (plain, fixture->demo->host);
  popcheck_account_set_port (plain, fixture->demo->pop3_port);
  popcheck_account_set_security (plain, POP3_SECURITY_NONE);
  popcheck_account_set_user (plain, "plain");
  popcheck_account_set_enabled (plain, FALSE);

  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "preferences", NULL);
  WAIT_UNTIL ((preferences = find_toplevel (POPCHECK_TYPE_PREFERENCES_WINDOW)) != NULL);
  WAIT_UNTIL (find_visible_label (GTK_WIDGET (preferences), "Plain"));
  demo_subtitle = g_strdup_printf ("%s@%s, port %u", fixture->user, fixture->demo->host,
                                   fixture->demo->pop3s_port);
  g_assert_cmpstr (row_subtitle (GTK_WIDGET (preferences), "Demo"), ==, demo_subtitle);
  g_assert_null (adw_action_row_get_icon_name (ADW_ACTION_ROW (row_titled (GTK_WIDGET (preferences),
                                                                          "Demo"))));
  wrong_subtitle = g_strdup_printf ("forgetful@%s, port %u", fixture->demo->host,
                                    fixture->demo->pop3s_port);
  failing = g_strdup_printf ("%s\nFailing: %s", wrong_subtitle,
                             popcheck_mailbox_get_error_message (mailbox));
  g_assert_cmpstr (row_subtitle (GTK_WIDGET (preferences), "Forgetful"), ==, failing);
  g_assert_cmpstr (adw_action_row_get_icon_name (ADW_ACTION_ROW (row_titled (GTK_WIDGET (preferences),
                                                                             "Forgetful"))),
                   ==, "dialog-error-symbolic");
  g_assert_true (g_str_has_suffix (row_subtitle (GTK_WIDGET (preferences), "Plain"),
                                   "\nUnencrypted: the password and the mail can be read on the way"
                                   "\nTurned off: not checked"));
  g_assert_true (gtk_widget_has_css_class (row_titled (GTK_WIDGET (preferences), "Plain"),
                                           "dim-label"));
  g_assert_false (gtk_widget_has_css_class (row_titled (GTK_WIDGET (preferences), "Demo"),
                                            "dim-label"));

  /* What the "Fix Password…" button does. */
  gtk_widget_activate_action (GTK_WIDGET (fixture->window), "app.fix-account", "s",
                              popcheck_account_get_id (wrong));
  WAIT_UNTIL ((preferences = find_toplevel (POPCHECK_TYPE_PREFERENCES_WINDOW)) != NULL &&
              (editor = find_widget_of_type (GTK_WIDGET (preferences),
                                             POPCHECK_TYPE_ACCOUNT_EDITOR)) != NULL);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (row_titled (editor, "Name"))), ==,
                   "Forgetful");
  /* The editor says what went wrong, and the password is where the
   * typing goes. */
  {
    g_autofree char *problem = g_strdup_printf ("%s\nType the right password and save; it "
                                                "replaces the one in your keyring.",
                                                popcheck_mailbox_get_error_message (mailbox));
    GtkWidget *password = row_titled (editor, "Password");

    g_assert_true (find_visible_label (editor, problem));
    WAIT_UNTIL (gtk_root_get_focus (GTK_ROOT (preferences)) != NULL &&
                gtk_widget_is_ancestor (gtk_root_get_focus (GTK_ROOT (preferences)), password));
  }

  /* While here, the account's sound: one row beside Notify About New
   * Mail, greyed out while that is off, saved with the account. */
  sound_row = row_titled (editor, "Play a Sound");
  sound = GTK_SWITCH (find_widget_of_type (sound_row, GTK_TYPE_SWITCH));
  notify_switch = GTK_SWITCH (find_widget_of_type (row_titled (editor, "Notify About New Mail"),
                                                   GTK_TYPE_SWITCH));
  g_assert_true (gtk_switch_get_active (sound));
  g_assert_true (gtk_widget_get_sensitive (sound_row));
  gtk_switch_set_active (notify_switch, FALSE);
  g_assert_false (gtk_widget_get_sensitive (sound_row));
  gtk_switch_set_active (notify_switch, TRUE);
  g_assert_true (gtk_widget_get_sensitive (sound_row));
  gtk_switch_set_active (sound, FALSE);

  gtk_editable_set_text (GTK_EDITABLE (row_titled (editor, "Password")), "the-real-one");
  gtk_widget_activate_action (editor, "editor.save", NULL);

  WAIT_UNTIL (popcheck_mailbox_get_state (mailbox) == POPCHECK_MAILBOX_STATE_IDLE &&
              popcheck_mailbox_get_last_check (mailbox) != NULL);
  WAIT_UNTIL (n_listed (fixture) == 2 * N_SAMPLES);
  /* The row follows the account out of its failure. */
  WAIT_UNTIL (g_strcmp0 (row_subtitle (GTK_WIDGET (preferences), "Forgetful"),
                         wrong_subtitle) == 0);
  g_assert_false (popcheck_account_get_sound (wrong));
  g_assert_true (popcheck_account_get_notify (wrong));
  gtk_window_destroy (preferences);
}

/* An account saved again without its password typed keeps the one in the
 * keyring, and the editor closes cleanly (it used to be freed inside its
 * own save action). */
static void
test_editor_save_without_password (Fixture       *fixture,
                                   gconstpointer  data)
{
  PopcheckMailbox *mailbox =
    popcheck_checker_get_mailbox (popcheck_application_get_checker (fixture->app),
                                  popcheck_account_get_id (fixture->account));
  g_autoptr(GDateTime) last_check = NULL;
  GtkWindow *preferences;
  GtkWidget *editor;

  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "preferences", NULL);
  WAIT_UNTIL ((preferences = find_toplevel (POPCHECK_TYPE_PREFERENCES_WINDOW)) != NULL);
  gtk_widget_activate_action (GTK_WIDGET (preferences), "prefs.edit-account", "s",
                              popcheck_account_get_id (fixture->account));
  WAIT_UNTIL ((editor = find_widget_of_type (GTK_WIDGET (preferences),
                                             POPCHECK_TYPE_ACCOUNT_EDITOR)) != NULL);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (row_titled (editor, "Password"))),
                   ==, "");
  gtk_editable_set_text (GTK_EDITABLE (row_titled (editor, "Name")), "Renamed");
  gtk_widget_activate_action (editor, "editor.save", NULL);

  WAIT_UNTIL (g_strcmp0 (popcheck_account_get_display_name (fixture->account), "Renamed") == 0);
  WAIT_UNTIL (find_widget_of_type (GTK_WIDGET (preferences),
                                   POPCHECK_TYPE_ACCOUNT_EDITOR) == NULL);
  g_assert_true (find_visible_label (GTK_WIDGET (preferences), "Account saved"));
  gtk_window_destroy (preferences);

  /* The password in the keyring still signs in. */
  last_check = g_date_time_ref (popcheck_mailbox_get_last_check (mailbox));
  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "check-now", NULL);
  WAIT_UNTIL (popcheck_mailbox_get_last_check (mailbox) != NULL &&
              !g_date_time_equal (popcheck_mailbox_get_last_check (mailbox), last_check) &&
              popcheck_mailbox_get_state (mailbox) == POPCHECK_MAILBOX_STATE_IDLE);
}

/* General settings are GSettings keys. */
static void
test_general_settings (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);
  GtkWindow *preferences;
  GtkSwitch *background;

  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "preferences", NULL);
  WAIT_UNTIL ((preferences = find_toplevel (POPCHECK_TYPE_PREFERENCES_WINDOW)) != NULL);
  background = GTK_SWITCH (find_widget_of_type (row_titled (GTK_WIDGET (preferences),
                                                            "Run in Background"),
                                                GTK_TYPE_SWITCH));
  g_assert_cmpint (gtk_switch_get_active (background), ==,
                   g_settings_get_boolean (settings, "run-in-background"));
  gtk_switch_set_active (background, !gtk_switch_get_active (background));
  g_assert_cmpint (gtk_switch_get_active (background), ==,
                   g_settings_get_boolean (settings, "run-in-background"));
  g_settings_set_boolean (settings, "run-in-background", FALSE);
  g_assert_false (gtk_switch_get_active (background));
  gtk_window_destroy (preferences);
}

/* A certificate other than the pinned one is refused; the error's button
 * shows both fingerprints, and trusting the new one pins it. */
static void
test_certificate_changed (Fixture       *fixture,
                          gconstpointer  data)
{
  PopcheckChecker *checker = popcheck_application_get_checker (fixture->app);
  g_autofree char *old = g_strdup (fixture->demo->fingerprint);
  PopcheckAccount *account;
  PopcheckMailbox *mailbox;
  GtkWindow *dialog;
  char *last = old + strlen (old) - 1;

  /* The fingerprint of some other certificate. */
  *last = *last == '0' ? '1' : '0';
  popcheck_test_demo_add_user (fixture->demo, "moved", "moved-pw", FALSE);
  account = add_account_pinned (fixture, "Moved", "moved", "moved-pw", old);
  mailbox = popcheck_checker_get_mailbox (checker, popcheck_account_get_id (account));
  WAIT_UNTIL (popcheck_mailbox_get_state (mailbox) == POPCHECK_MAILBOX_STATE_ERROR);
  g_assert_cmpint (popcheck_mailbox_get_problem (mailbox), ==, POPCHECK_PROBLEM_CERTIFICATE);
  WAIT_UNTIL (find_visible_label (GTK_WIDGET (fixture->window), "_Review Certificate…"));
  g_assert_cmpuint (n_listed (fixture), ==, N_SAMPLES);

  gtk_widget_activate_action (GTK_WIDGET (fixture->window), "app.fix-account", "s",
                              popcheck_account_get_id (account));
  WAIT_UNTIL ((dialog = find_toplevel (POPCHECK_TYPE_CERTIFICATE_DIALOG)) != NULL);
  g_assert_true (popcheck_certificate_dialog_get_changed (POPCHECK_CERTIFICATE_DIALOG (dialog)));
  g_assert_true (find_visible_label (GTK_WIDGET (dialog), old));
  g_assert_true (find_visible_label (GTK_WIDGET (dialog), fixture->demo->fingerprint));
  /* Nothing is trusted until the user says so. */
  g_assert_cmpstr (popcheck_account_get_pinned_fingerprint (account), ==, old);

  respond ("trust");
  g_assert_cmpstr (popcheck_account_get_pinned_fingerprint (account), ==,
                   fixture->demo->fingerprint);
  /* A first check lists the newest before it ends (the demo server
   * pipelines): the list is whole once the check is over. */
  WAIT_UNTIL (n_listed (fixture) == 2 * N_SAMPLES &&
              popcheck_mailbox_get_state (mailbox) != POPCHECK_MAILBOX_STATE_CHECKING);
  g_assert_cmpint (popcheck_mailbox_get_state (mailbox), ==, POPCHECK_MAILBOX_STATE_IDLE);
  /* The first account's pin is its own. */
  g_assert_cmpstr (popcheck_account_get_pinned_fingerprint (fixture->account), ==,
                   fixture->demo->fingerprint);
}

/* Every line of a wrapped fingerprint but the last ends with a colon: a
 * byte is never split over two lines. */
static void
assert_breaks_between_bytes (PangoLayout *layout)
{
  const char *text = pango_layout_get_text (layout);
  GSList *lines = pango_layout_get_lines_readonly (layout);

  g_assert_cmpuint (g_slist_length (lines), >, 1);
  for (GSList *l = lines; l->next != NULL; l = l->next)
    {
      PangoLayoutLine *line = l->data;

      g_assert_cmpint (line->length, >, 0);
      g_assert_cmpint (text[line->start_index + line->length - 1], ==, ':');
    }
}

/* A certificate made out to another server: the mismatch in words, and
 * trusting it destructive and never the default; the fingerprint wraps
 * between bytes only, and the dates read the same everywhere. */
static void
test_certificate_mismatch (void)
{
  Fixture fixture_data = { 0 };
  Fixture *fixture = &fixture_data;
  g_autoptr(Pop3TlsInfo) info = g_new0 (Pop3TlsInfo, 1);
  g_autoptr(GString) fingerprint = g_string_new (NULL);
  g_autoptr(GDateTime) from_utc = g_date_time_new_utc (2026, 3, 1, 8, 5, 0);
  g_autoptr(GTimeZone) zone = g_time_zone_new_identifier ("+05:30");
  g_autoptr(GDateTime) until_elsewhere = g_date_time_new (zone, 2027, 3, 1, 4, 0, 0);
  g_autoptr(PangoLayout) narrower = NULL;
  g_autoptr(PopcheckAccountList) accounts = NULL;
  PopcheckAccount *account;
  GtkWindow *dialog;
  GtkLabel *label;

  for (guint i = 0; i < 32; i++)
    g_string_append_printf (fingerprint, i ? ":%02X" : "%02X", (i * 37 + 11) & 0xff);
  info->errors = G_TLS_CERTIFICATE_UNKNOWN_CA | G_TLS_CERTIFICATE_BAD_IDENTITY;
  info->subject = g_strdup ("CN=mail.elsewhere.example");
  info->issuer = g_strdup ("CN=mail.elsewhere.example");
  info->fingerprint = g_strdup (fingerprint->str);
  info->not_before = g_date_time_ref (from_utc);
  info->not_after = g_date_time_ref (until_elsewhere);

  accounts = popcheck_account_list_new ();
  account = popcheck_account_list_add (accounts, "Elsewhere", NULL);
  popcheck_account_set_host (account, "pop.example.com");
  dialog = popcheck_certificate_dialog_new (NULL, account, info, NULL);
  gtk_window_present (dialog);

  g_assert_cmpstr (adw_message_dialog_get_heading (ADW_MESSAGE_DIALOG (dialog)), ==,
                   "The Certificate Is for Another Server");
  g_assert_true (g_str_has_prefix (adw_message_dialog_get_body (ADW_MESSAGE_DIALOG (dialog)),
                                   "You asked for pop.example.com, but the certificate it "
                                   "showed is made out to “CN=mail.elsewhere.example”."));
  g_assert_cmpint (adw_message_dialog_get_response_appearance (ADW_MESSAGE_DIALOG (dialog),
                                                               "trust"),
                   ==, ADW_RESPONSE_DESTRUCTIVE);
  g_assert_cmpstr (adw_message_dialog_get_default_response (ADW_MESSAGE_DIALOG (dialog)), ==,
                   "cancel");
  g_assert_cmpstr (adw_message_dialog_get_close_response (ADW_MESSAGE_DIALOG (dialog)), ==,
                   "cancel");

  /* One format, in UTC, whatever the certificate's zone. */
  g_assert_true (find_visible_label (GTK_WIDGET (dialog),
                                     "2026-03-01 08:05 UTC to 2027-02-28 22:30 UTC"));

  /* The text is the fingerprint itself, so that a copy compares equal;
   * on screen and at any width, lines end only after a colon. */
  label = GTK_LABEL (find_widget (GTK_WIDGET (dialog), shows_text, fingerprint->str, TRUE));
  g_assert_nonnull (label);
  WAIT_UNTIL (gtk_widget_get_mapped (GTK_WIDGET (label)) &&
              pango_layout_get_line_count (gtk_label_get_layout (label)) > 1);
  assert_breaks_between_bytes (gtk_label_get_layout (label));
  narrower = pango_layout_copy (gtk_label_get_layout (label));
  for (int width = 60; width < 400; width += 17)
    {
      pango_layout_set_width (narrower, width * PANGO_SCALE);
      assert_breaks_between_bytes (narrower);
    }

  gtk_window_destroy (dialog);
}

static GtkWidget *
row_of_subject (Fixture    *fixture,
                const char *subject)
{
  GtkWidget *list = GTK_WIDGET (popcheck_window_get_list_view (fixture->window));
  GtkWidget *label;

  WAIT_UNTIL ((label = find_widget (list, shows_text, subject, TRUE)) != NULL);
  return gtk_widget_get_ancestor (label, POPCHECK_TYPE_MESSAGE_ROW);
}

/* The row's date and size are not cut short: their columns keep one
 * width, whatever their text. */
static void
assert_shown_whole (Fixture   *fixture,
                    GtkWidget *row)
{
  g_autoptr(GPtrArray) texts = g_ptr_array_new ();
  guint whole = 0;

  collect_descendants (row, GTK_TYPE_INSCRIPTION, texts);
  for (guint i = 0; i < texts->len; i++)
    {
      GtkWidget *text = texts->pdata[i];
      g_autoptr(PangoLayout) layout = NULL;
      int width;

      /* Right-aligned: the date and the size. */
      if (gtk_inscription_get_xalign (GTK_INSCRIPTION (text)) < 0.5)
        continue;
      /* A row just bound is laid out in the next frame. */
      WAIT_UNTIL (gtk_widget_get_width (text) > 0);
      layout = gtk_widget_create_pango_layout (text, gtk_inscription_get_text (GTK_INSCRIPTION (text)));
      pango_layout_get_pixel_size (layout, &width, NULL);
      g_assert_cmpint (width, >, 0);
      g_assert_cmpint (width, <=, gtk_widget_get_width (text));
      whole++;
    }
  g_assert_cmpuint (whole, ==, 2);
}

/* A row: sender, subject, date, size, and a mark while the message is new. */
static void
test_rows (Fixture       *fixture,
           gconstpointer  data)
{
  PopcheckMailbox *mailbox =
    popcheck_checker_get_mailbox (popcheck_application_get_checker (fixture->app),
                                  popcheck_account_get_id (fixture->account));
  const char *subject = "Café crème et crêpes à volonté";
  PopcheckMessage *message = NULL;
  g_autofree char *size = NULL;
  GtkWidget *row;

  for (guint i = 0; i < n_listed (fixture); i++)
    if (g_str_equal (popcheck_message_get_subject (listed (fixture, i)), subject))
      message = listed (fixture, i);
  g_assert_nonnull (message);
  WAIT_UNTIL (row_of_subject (fixture, subject) != NULL);

  row = row_of_subject (fixture, subject);
  g_assert_nonnull (row);
  g_assert_true (find_visible_label (row, popcheck_message_get_from_name (message)));
  size = g_format_size (popcheck_message_get_size (message));
  g_assert_true (find_visible_label (row, size));
  assert_shown_whole (fixture, row);
  /* With one account the row does not name it. */
  g_assert_false (find_visible_label (row, "Demo"));
  /* Once seen, no mark. */
  popcheck_mailbox_mark_all_seen (mailbox);
  g_assert_null (find_widget (row, is_of_type, GSIZE_TO_POINTER (GTK_TYPE_IMAGE), TRUE));

  popcheck_test_demo_deliver (fixture->demo, fixture->user, "<fresh@example.org>",
                              "Fresh news");
  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "check-now", NULL);
  WAIT_UNTIL (n_listed (fixture) == N_SAMPLES + 1);
  WAIT_UNTIL (row_of_subject (fixture, "Fresh news") != NULL);
  row = row_of_subject (fixture, "Fresh news");
  g_assert_nonnull (find_widget (row, is_of_type, GSIZE_TO_POINTER (GTK_TYPE_IMAGE), TRUE));
  g_assert_null (find_widget (row_of_subject (fixture, subject), is_of_type,
                              GSIZE_TO_POINTER (GTK_TYPE_IMAGE), TRUE));

  /* Seen: the mark goes from the row on screen. */
  popcheck_mailbox_mark_all_seen (mailbox);
  g_assert_null (find_widget (row, is_of_type, GSIZE_TO_POINTER (GTK_TYPE_IMAGE), TRUE));
}

static PopcheckMailbox *
account_mailbox (Fixture *fixture)
{
  return popcheck_checker_get_mailbox (popcheck_application_get_checker (fixture->app),
                                       popcheck_account_get_id (fixture->account));
}

/* The UIDL listing of what is listed, as a check hands it the mailbox. */
static Pop3UidListing *
listed_uids (Fixture *fixture)
{
  Pop3UidListing *uids = pop3_uid_listing_new ();

  for (guint i = 0; i < n_listed (fixture); i++)
    pop3_uid_listing_add (uids,
                          popcheck_message_get_msg_number (listed (fixture, i)),
                          popcheck_message_get_uid (listed (fixture, i)));
  return uids;
}

/* What a check hands the mailbox when the server refuses the TOP of one
 * new message, uid, of size octets: what is listed stays. */
static void
add_refused_message (Fixture    *fixture,
                     const char *uid,
                     guint64     size)
{
  PopcheckMailbox *mailbox = account_mailbox (fixture);
  g_autoptr(Pop3UidListing) uids = listed_uids (fixture);
  g_autoptr(GPtrArray) need_top = NULL;
  g_autoptr(GPtrArray) added = NULL;
  guint n = n_listed (fixture);

  pop3_uid_listing_add (uids, n + 1, uid);
  need_top = popcheck_mailbox_begin_update (mailbox, uids, NULL);
  g_assert_cmpuint (need_top->len, ==, 1);
  popcheck_mailbox_add_top_refused (mailbox, uid, n + 1, size);
  added = popcheck_mailbox_end_update (mailbox);
  g_assert_cmpuint (added->len, ==, 1);
  WAIT_UNTIL (n_listed (fixture) == n + 1);
}

/* A message whose headers the server would not send (it refused TOP, or
 * has none): the row and the preview say so and give its size, never
 * "(no subject)", and the whole message is still one warning away. */
static void
test_without_headers (Fixture       *fixture,
                      gconstpointer  data)
{
  GtkWidget *window = GTK_WIDGET (fixture->window);
  g_autofree char *size = g_format_size (4321);
  GtkWidget *row;

  add_refused_message (fixture, "no-headers", 4321);
  row = row_of_subject (fixture, "(headers not available)");
  g_assert_true (find_visible_label (row, size));
  g_assert_false (find_visible_label (row, "(no subject)"));

  for (guint i = 0; i < n_listed (fixture); i++)
    if (g_str_equal (popcheck_message_get_uid (listed (fixture, i)), "no-headers"))
      gtk_selection_model_select_item (popcheck_window_get_selection (fixture->window),
                                       i, TRUE);
  WAIT_UNTIL (find_label_prefix (window, "This server cannot show a preview of this "
                                         "message without downloading the whole "
                                         "message.") != NULL);
  g_assert_null (find_label_prefix (window, "The first "));

  /* Downloading it stays the user's choice, after the same warning. */
  cancel_whole_message (fixture);
  g_assert_false (popcheck_test_demo_any_seen (fixture->demo, fixture->user));
}

/* What a check hands the mailbox when a broken UIDL line leaves a new
 * message, listed with size octets, without a UID; returns its number. */
static guint
add_message_without_uid (Fixture *fixture,
                         guint64  size)
{
  g_autoptr(Pop3UidListing) uids = listed_uids (fixture);
  g_autoptr(GArray) sizes = g_array_new (FALSE, TRUE, sizeof (Pop3ListEntry));
  g_autoptr(GPtrArray) need_top = NULL;
  g_autoptr(GPtrArray) added = NULL;
  guint n = n_listed (fixture);
  Pop3ListEntry listed_size = { .msg = n + 1, .octets = size };
  PopcheckMailbox *mailbox = account_mailbox (fixture);

  g_array_append_val (sizes, listed_size);
  need_top = popcheck_mailbox_begin_update (mailbox, uids, sizes);
  g_assert_cmpuint (need_top->len, ==, 0);
  added = popcheck_mailbox_end_update (mailbox);
  g_assert_cmpuint (added->len, ==, 0);
  WAIT_UNTIL (n_listed (fixture) == n + 1);

  return n + 1;
}

/* A message without a UID: its row says so with its number and size, the
 * preview says why there is nothing to show, and it cannot be deleted. */
static void
test_without_uid (Fixture       *fixture,
                  gconstpointer  data)
{
  GtkWidget *window = GTK_WIDGET (fixture->window);
  g_autofree char *size = g_format_size (4321);
  g_autofree char *title = NULL;
  guint number, n;
  GtkWidget *row;

  number = add_message_without_uid (fixture, 4321);
  n = n_listed (fixture);
  title = g_strdup_printf ("(no unique ID: message %u)", number);
  row = row_of_subject (fixture, title);
  g_assert_true (find_visible_label (row, size));

  for (guint i = 0; i < n; i++)
    if (!popcheck_message_get_has_uid (listed (fixture, i)))
      gtk_selection_model_select_item (popcheck_window_get_selection (fixture->window),
                                       i, TRUE);
  WAIT_UNTIL (find_label_prefix (window, "The server gave this message no "
                                         "unique ID, so PopCheck cannot tell "
                                         "it apart from the others: it cannot "
                                         "show, download or delete it.") != NULL);

  gtk_widget_activate_action (window, "win.delete", NULL);
  g_assert_cmpuint (popcheck_window_get_n_pending_deletes (fixture->window), ==, 0);
  g_assert_cmpuint (n_listed (fixture), ==, n);
  g_assert_false (find_visible_label (window, "Message deleted"));
}

static guint
position_of_subject (Fixture    *fixture,
                     const char *subject)
{
  for (guint i = 0; i < n_listed (fixture); i++)
    if (g_strcmp0 (popcheck_message_get_subject (listed (fixture, i)), subject) == 0)
      return i;

  g_error ("No message \"%s\" is listed", subject);
}

static const char *
title_subtitle (Fixture *fixture)
{
  GtkWidget *title = find_widget_of_type (GTK_WIDGET (fixture->window),
                                          ADW_TYPE_WINDOW_TITLE);

  return adw_window_title_get_subtitle (ADW_WINDOW_TITLE (title));
}

static void
mailbox_loaded_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

/* Looking at a new message's preview for a moment marks it seen; Mark as
 * Seen and Mark All as Seen do the same at once; the title follows, and
 * so does the state file. */
static void
test_mark_seen (Fixture       *fixture,
                gconstpointer  data)
{
  PopcheckChecker *checker = popcheck_application_get_checker (fixture->app);
  PopcheckMailbox *mailbox =
    popcheck_checker_get_mailbox (checker, popcheck_account_get_id (fixture->account));
  GtkSelectionModel *selection = popcheck_window_get_selection (fixture->window);
  g_autoptr(PopcheckMailbox) restarted = NULL;
  g_autoptr(GAsyncResult) loaded = NULL;
  g_autoptr(GError) error = NULL;
  GtkWidget *mark;

  /* The same account id may have left a state file in an earlier test, and
   * this user's messages then came in as new: start from none. */
  popcheck_checker_mark_seen (checker, NULL, NULL);
  g_assert_cmpstr (title_subtitle (fixture), ==, "");

  popcheck_test_demo_deliver (fixture->demo, fixture->user, "<one@example.org>", "New one");
  popcheck_test_demo_deliver (fixture->demo, fixture->user, "<two@example.org>", "New two");
  popcheck_test_demo_deliver (fixture->demo, fixture->user, "<three@example.org>", "New three");
  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "check-now", NULL);
  WAIT_UNTIL (n_listed (fixture) == N_SAMPLES + 3 && mailbox_idle (fixture));
  g_assert_cmpuint (popcheck_mailbox_get_n_new (mailbox), ==, 3);
  g_assert_cmpstr (title_subtitle (fixture), ==, "3 new messages");

  /* The mark says what it means. */
  WAIT_UNTIL (row_of_subject (fixture, "New one") != NULL);
  mark = find_widget (row_of_subject (fixture, "New one"), is_of_type,
                      GSIZE_TO_POINTER (GTK_TYPE_IMAGE), TRUE);
  g_assert_nonnull (mark);
  g_assert_nonnull (strstr (gtk_widget_get_tooltip_text (mark),
                            "not yet viewed in PopCheck"));

  /* Its preview shown for a moment: seen, and the title follows. */
  gtk_selection_model_select_item (selection, position_of_subject (fixture, "New one"), TRUE);
  WAIT_UNTIL (popcheck_mailbox_get_n_new (mailbox) == 2);
  g_assert_false (popcheck_message_get_is_new (popcheck_mailbox_lookup (mailbox,
    popcheck_message_get_uid (listed (fixture, position_of_subject (fixture, "New one"))))));
  g_assert_cmpstr (title_subtitle (fixture), ==, "2 new messages");

  /* Two selected (no preview): Mark as Seen, at once. */
  gtk_selection_model_select_item (selection, position_of_subject (fixture, "New two"), TRUE);
  gtk_selection_model_select_item (selection, position_of_subject (fixture, "New three"), FALSE);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.mark-seen", NULL));
  g_assert_cmpuint (popcheck_mailbox_get_n_new (mailbox), ==, 0);
  g_assert_cmpstr (title_subtitle (fixture), ==, "");

  /* Mark All as Seen, for what the next check brings. */
  gtk_selection_model_unselect_all (selection);
  popcheck_test_demo_deliver (fixture->demo, fixture->user, "<four@example.org>", "New four");
  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "check-now", NULL);
  WAIT_UNTIL (popcheck_mailbox_get_n_new (mailbox) == 1 && mailbox_idle (fixture));
  g_assert_cmpstr (title_subtitle (fixture), ==, "1 new message");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window),
                                             "win.mark-all-seen", NULL));
  g_assert_cmpuint (popcheck_mailbox_get_n_new (mailbox), ==, 0);
  g_assert_cmpstr (title_subtitle (fixture), ==, "");

  /* Saved at once: a restart keeps the marks. */
  WAIT_UNTIL (!popcheck_checker_is_saving (checker));
  restarted = popcheck_mailbox_new (popcheck_account_get_id (fixture->account));
  popcheck_mailbox_load_for_reading_async (restarted, NULL,
                                           mailbox_loaded_cb, &loaded);
  WAIT_UNTIL (loaded != NULL);
  g_assert_true (popcheck_mailbox_load_finish (restarted, loaded, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (popcheck_mailbox_get_n_items (restarted), ==, N_SAMPLES + 4);
  g_assert_cmpuint (popcheck_mailbox_get_n_new (restarted), ==, 0);
}

static gboolean
is_message_row (GtkWidget     *widget,
                gconstpointer  data)
{
  return POPCHECK_IS_MESSAGE_ROW (widget);
}

static guint
count_rows (GtkWidget *widget)
{
  guint n = POPCHECK_IS_MESSAGE_ROW (widget) ? 1 : 0;

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    n += count_rows (child);

  return n;
}

#define N_MANY 10000

/* What a check of a server holding messages 0 to n - 1 hands the mailbox;
 * message i is i minutes newer than message 0. */
static void
feed_messages (PopcheckMailbox *mailbox,
               guint            n)
{
  g_autoptr(Pop3UidListing) uids = pop3_uid_listing_new ();
  g_autoptr(GPtrArray) need_top = NULL;
  g_autoptr(GPtrArray) added = NULL;
  g_autoptr(GDateTime) base = g_date_time_new_utc (2024, 1, 1, 0, 0, 0);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *uid = g_strdup_printf ("many-%u", i);

      pop3_uid_listing_add (uids, i + 1, uid);
    }
  need_top = popcheck_mailbox_begin_update (mailbox, uids, NULL);
  for (guint j = 0; j < need_top->len; j++)
    {
      Pop3UidEntry *entry = g_ptr_array_index (need_top, j);
      guint i = entry->msg - 1;
      g_autoptr(GDateTime) date = g_date_time_add_minutes (base, i);
      g_autofree char *date_text = g_date_time_format (date, "%a, %d %b %Y %H:%M:%S +0000");
      g_autofree char *text = g_strdup_printf ("From: sender%u@example.org\r\n"
                                               "Subject: Message %u\r\n"
                                               "Date: %s\r\n"
                                               "\r\n"
                                               "Body of %u\r\n", i, i, date_text, i);
      g_autoptr(GBytes) bytes = g_bytes_new (text, strlen (text));
      g_autoptr(PopcheckMessage) message =
        popcheck_message_new_from_top (entry->uid, 1000 + i, entry->msg, bytes, 5);

      popcheck_mailbox_add_summary (mailbox, message);
    }
  added = popcheck_mailbox_end_update (mailbox);
}

static gboolean
count_tick_cb (GtkWidget     *widget,
               GdkFrameClock *frame_clock,
               gpointer       user_data)
{
  guint *ticks = user_data;

  (*ticks)++;

  return G_SOURCE_CONTINUE;
}

/* Returns once widget has been laid out again.  Ticks come before the
 * layout of their frame, so the second one follows a whole layout. */
static void
wait_for_layout (Fixture   *fixture,
                 GtkWidget *widget)
{
  guint ticks = 0;
  guint id = gtk_widget_add_tick_callback (widget, count_tick_cb, &ticks, NULL);

  WAIT_UNTIL (ticks >= 2);
  gtk_widget_remove_tick_callback (widget, id);
}

/* Moves the list to its top or its end, as dragging the scroll bar would.
 * Only a list laid out since its items changed can be scrolled so. */
static void
scroll_list (Fixture   *fixture,
             GtkWidget *list,
             gboolean   to_end)
{
  GtkAdjustment *vadjustment = gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (list));

  wait_for_layout (fixture, list);
  gtk_adjustment_set_value (vadjustment,
                            to_end ? gtk_adjustment_get_upper (vadjustment)
                                   : gtk_adjustment_get_lower (vadjustment));
}

/* 10,000 messages are 10,000 list items but only a screenful of rows, and
 * the end of the list is reached by scrolling.  New mail shows at once
 * when the list is at its top, also before the window is first drawn, and
 * leaves the rows alone when the list is scrolled down. */
static void
test_many_messages (Fixture       *fixture,
                    gconstpointer  data)
{
  PopcheckMailbox *mailbox =
    popcheck_checker_get_mailbox (popcheck_application_get_checker (fixture->app),
                                  popcheck_account_get_id (fixture->account));
  GtkWidget *list = GTK_WIDGET (popcheck_window_get_list_view (fixture->window));

  feed_messages (mailbox, N_MANY);

  WAIT_UNTIL (n_listed (fixture) == N_MANY);
  /* Newest first, at the top of the list. */
  g_assert_cmpstr (popcheck_message_get_subject (listed (fixture, 0)), ==, "Message 9999");
  g_assert_cmpstr (popcheck_message_get_subject (listed (fixture, N_MANY - 1)), ==, "Message 0");
  WAIT_UNTIL (find_visible_label (list, "Message 9999"));
  wait_for_layout (fixture, list);
  g_assert_true (find_visible_label (list, "Message 9999"));
  /* Only the rows on screen exist. */
  g_assert_cmpuint (count_rows (list), >, 0);
  g_assert_cmpuint (count_rows (list), <, 300);

  scroll_list (fixture, list, TRUE);
  WAIT_UNTIL (find_visible_label (list, "Message 0"));
  g_assert_cmpuint (count_rows (list), <, 300);
  g_assert_nonnull (find_widget (list, is_message_row, NULL, TRUE));

  /* Scrolled away from the top, the rows in view stay. */
  feed_messages (mailbox, N_MANY + 1);
  WAIT_UNTIL (n_listed (fixture) == N_MANY + 1);
  wait_for_layout (fixture, list);
  g_assert_true (find_visible_label (list, "Message 0"));
  g_assert_false (find_visible_label (list, "Message 10000"));

  /* At the top, the newest message comes into view by itself, also when
   * more mail comes than the mailbox inserts one by one. */
  scroll_list (fixture, list, FALSE);
  WAIT_UNTIL (find_visible_label (list, "Message 10000"));
  wait_for_layout (fixture, list);
  feed_messages (mailbox, N_MANY + 100);
  WAIT_UNTIL (n_listed (fixture) == N_MANY + 100);
  WAIT_UNTIL (find_visible_label (list, "Message 10099"));
  wait_for_layout (fixture, list);
  g_assert_true (find_visible_label (list, "Message 10099"));
  g_assert_true (find_visible_label (list, "Message 10098"));
}

/* Several selected: one toast for all, then exactly those leave. */
static void
test_delete_several (Fixture       *fixture,
                     gconstpointer  data)
{
  GtkSelectionModel *selection = popcheck_window_get_selection (fixture->window);
  g_auto(GStrv) before = popcheck_test_demo_message_ids (fixture->demo, fixture->user);
  g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func (g_free);
  g_auto(GStrv) after = NULL;

  PopcheckMessage *next;

  gtk_selection_model_select_range (selection, 2, 3, TRUE);
  for (guint i = 2; i < 5; i++)
    g_ptr_array_add (gone, g_strdup (popcheck_message_get_message_id (listed (fixture, i))));
  next = listed (fixture, 5);
  /* The preview says how many are selected. */
  WAIT_UNTIL (find_visible_label (GTK_WIDGET (fixture->window), "3 Messages Selected"));

  /* What the Delete key does. */
  gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.delete", NULL);
  g_assert_cmpuint (n_listed (fixture), ==, N_SAMPLES - 3);
  /* The message after them is selected and previewed. */
  g_assert_true (gtk_selection_model_is_selected (selection, 2));
  g_assert_false (gtk_selection_model_is_selected (selection, 3));
  g_assert_true (listed (fixture, 2) == next);
  g_assert_true (find_visible_label (GTK_WIDGET (fixture->window),
                                     popcheck_message_get_subject (next)));
  WAIT_UNTIL (find_visible_label (GTK_WIDGET (fixture->window), "3 messages deleted"));

  WAIT_UNTIL (popcheck_window_get_n_pending_deletes (fixture->window) == 0);
  g_assert_cmpuint (n_listed (fixture), ==, N_SAMPLES - 3);
  after = popcheck_test_demo_message_ids (fixture->demo, fixture->user);
  g_assert_cmpuint (g_strv_length (after), ==, N_SAMPLES - 3);
  for (guint i = 0; before[i] != NULL; i++)
    {
      gboolean deleted = FALSE;

      for (guint j = 0; j < gone->len; j++)
        deleted |= same_message_id (before[i], gone->pdata[j]);
      g_assert_cmpint (strv_has_id (after, before[i]), ==, !deleted);
    }
  g_assert_false (popcheck_test_demo_any_seen (fixture->demo, fixture->user));
}

/* Recent mail shows its time or day, older mail its date. */
static void
test_relative_dates (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_local (2026, 11, 23, 15, 0, 0);
  static const struct {
    int         year, month, day, hour, minute;
    const char *expected;
  } cases[] = {
    { 2026, 11, 23, 9, 5, "09:05" },
    { 2026, 11, 22, 23, 59, "Yesterday" },
    { 2026, 11, 19, 8, 0, "Thu" },
    { 2026, 3, 15, 13, 15, "Mar 15" },
    { 2023, 1, 3, 10, 0, "2023-01-03" },
    /* A sender's clock ahead by a day: a date, not a time. */
    { 2026, 11, 24, 9, 0, "Nov 24" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GDateTime) date = g_date_time_new_local (cases[i].year, cases[i].month,
                                                         cases[i].day, cases[i].hour,
                                                         cases[i].minute, 0);
      g_autofree char *text = popcheck_format_date_relative (date, now);

      g_assert_cmpstr (text, ==, cases[i].expected);
    }
  {
    g_autofree char *none = popcheck_format_date_relative (NULL, now);

    g_assert_cmpstr (none, ==, "");
  }
  {
    g_autoptr(GDateTime) date = g_date_time_new_local (2023, 9, 6, 14, 5, 0);
    g_autofree char *full = popcheck_format_date_full (date);

    /* No padding space before a day of one digit. */
    g_assert_cmpstr (full, ==, "Wednesday, 6 September 2023, 14:05");
  }
}

/* Plaintext only when the user picks it and confirms the warning; the
 * interval and preview lines are the account's. */
static void
test_editor_plaintext (Fixture       *fixture,
                       gconstpointer  data)
{
  PopcheckAccountList *accounts = popcheck_application_get_accounts (fixture->app);
  g_autoptr(PopcheckAccount) added = NULL;
  GtkWindow *preferences;
  GtkWidget *editor;
  GtkWidget *warning;

  /* TLS first: no warning. */
  editor = new_account_editor (fixture, &preferences, "Plain", "plain", "plain-pw",
                               1, fixture->demo->pop3_port);
  warning = row_titled (editor, "Send the password unencrypted");
  g_assert_false (gtk_widget_get_visible (warning));
  /* None: the warning. */
  adw_combo_row_set_selected (ADW_COMBO_ROW (row_titled (editor, "Security")), 3);
  {
    g_autofree char *port = g_strdup_printf ("%u", fixture->demo->pop3_port);

    gtk_editable_set_text (GTK_EDITABLE (row_titled (editor, "Port")), port);
  }
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (find_widget_of_type (row_titled (editor, "Check Interval"),
                                                                   GTK_TYPE_SPIN_BUTTON)), 7);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (find_widget_of_type (row_titled (editor, "Preview Lines"),
                                                                   GTK_TYPE_SPIN_BUTTON)), 30);

  /* Picking it shows the warning; saving without confirming is refused. */
  g_assert_true (gtk_widget_get_visible (warning));
  gtk_widget_activate_action (editor, "editor.save", NULL);
  WAIT_UNTIL (find_label_prefix (editor, "Confirm above that the password may travel unencrypted")
              != NULL);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (accounts)), ==, 1);

  gtk_switch_set_active (GTK_SWITCH (find_widget_of_type (warning, GTK_TYPE_SWITCH)), TRUE);
  gtk_widget_activate_action (editor, "editor.save", NULL);
  WAIT_UNTIL (g_list_model_get_n_items (G_LIST_MODEL (accounts)) == 2);
  added = g_list_model_get_item (G_LIST_MODEL (accounts), 1);
  g_assert_cmpint (popcheck_account_get_security (added), ==, POP3_SECURITY_NONE);
  g_assert_cmpuint (popcheck_account_get_port (added), ==, fixture->demo->pop3_port);
  g_assert_cmpuint (popcheck_account_get_check_interval (added), ==, 7);
  g_assert_cmpuint (popcheck_account_get_preview_lines (added), ==, 30);
  gtk_window_destroy (preferences);
}

/* Real key presses, through the X server (XTEST), to the focused window. */
typedef int (*FakeKeyEventFunc) (Display *display, unsigned int keycode, int is_press,
                                 unsigned long delay);

typedef int (*FakeButtonEventFunc) (Display *display, unsigned int button, int is_press,
                                    unsigned long delay);
typedef int (*FakeMotionEventFunc) (Display *display, int screen, int x, int y,
                                    unsigned long delay);

/* libXtst without its headers: a few functions are all it takes. */
static gpointer
xtst_function (const char *name)
{
  static void *xtst;
  gpointer function;

  if (xtst == NULL)
    xtst = dlopen ("libXtst.so.6", RTLD_NOW | RTLD_LOCAL);
  if (xtst == NULL)
    g_error ("Cannot press keys without libXtst.so.6 (Debian: libxtst6): %s", dlerror ());
  function = dlsym (xtst, name);
  g_assert_nonnull (function);

  return function;
}

static void
press_keys (GtkWindow   *window,
            const guint *keysyms,
            guint        n_keysyms)
{
  FakeKeyEventFunc fake_key_event = xtst_function ("XTestFakeKeyEvent");
  Display *xdisplay = gdk_x11_display_get_xdisplay (gtk_widget_get_display (GTK_WIDGET (window)));

  for (guint i = 0; i < n_keysyms; i++)
    fake_key_event (xdisplay, XKeysymToKeycode (xdisplay, keysyms[i]), True, 0);
  for (guint i = n_keysyms; i > 0; i--)
    fake_key_event (xdisplay, XKeysymToKeycode (xdisplay, keysyms[i - 1]), False, 0);
  XFlush (xdisplay);
}

/* There is no window manager on Xvfb: the test gives the focus itself. */
static gboolean
has_focus (GtkWindow *window)
{
  Display *xdisplay = gdk_x11_display_get_xdisplay (gtk_widget_get_display (GTK_WIDGET (window)));

  if (gtk_window_is_active (window))
    return TRUE;

  XSetInputFocus (xdisplay, gdk_x11_surface_get_xid (gtk_native_get_surface (GTK_NATIVE (window))),
                  RevertToParent, CurrentTime);
  XFlush (xdisplay);
  return FALSE;
}

/* The focused widget is one of the window's own. */
static gboolean
focus_in (GtkWindow *window)
{
  GtkWidget *focus = gtk_window_get_focus (window);

  return focus != NULL && gtk_widget_is_ancestor (focus, GTK_WIDGET (window));
}

#define PRESS(window, ...)                                                  \
  G_STMT_START {                                                            \
    const guint keys[] = { __VA_ARGS__ };                                   \
    press_keys (GTK_WINDOW (window), keys, G_N_ELEMENTS (keys));            \
  } G_STMT_END

/* The shortcuts work from the keyboard. */
static void
test_keyboard (Fixture       *fixture,
               gconstpointer  data)
{
  PopcheckMailbox *mailbox =
    popcheck_checker_get_mailbox (popcheck_application_get_checker (fixture->app),
                                  popcheck_account_get_id (fixture->account));
  g_autoptr(GDateTime) last_check = g_date_time_ref (popcheck_mailbox_get_last_check (mailbox));
  g_autoptr(GtkBitset) selected = NULL;
  PopcheckMessage *next;
  GtkWindow *other;
  guint position;

  WAIT_UNTIL (has_focus (GTK_WINDOW (fixture->window)));

  /* Ctrl+R checks now. */
  PRESS (fixture->window, XK_Control_L, XK_r);
  WAIT_UNTIL (popcheck_mailbox_get_last_check (mailbox) != NULL &&
              !g_date_time_equal (popcheck_mailbox_get_last_check (mailbox), last_check) &&
              popcheck_mailbox_get_state (mailbox) == POPCHECK_MAILBOX_STATE_IDLE);

  /* Delete deletes the selection; Ctrl+Z brings it back.  The toast
   * waits long enough for the key to arrive first. */
  popcheck_window_set_undo_timeout (fixture->window, 60);
  position = select_subject (fixture, "Monthly report with attachments");
  next = listed (fixture, position + 1);
  gtk_widget_grab_focus (GTK_WIDGET (popcheck_window_get_list_view (fixture->window)));
  PRESS (fixture->window, XK_Delete);
  WAIT_UNTIL (popcheck_window_get_n_pending_deletes (fixture->window) == 1);
  g_assert_cmpuint (n_listed (fixture), ==, N_SAMPLES - 1);
  /* The next message is selected in its place. */
  selected = gtk_selection_model_get_selection (popcheck_window_get_selection (fixture->window));
  g_assert_cmpuint (gtk_bitset_get_size (selected), ==, 1);
  g_assert_true (listed (fixture, gtk_bitset_get_minimum (selected)) == next);
  /* GTK 4.8 gives the focus to the next row only when it lays the list
   * out again; a key pressed before that frame goes nowhere. */
  WAIT_UNTIL (focus_in (GTK_WINDOW (fixture->window)));
  PRESS (fixture->window, XK_Control_L, XK_z);
  WAIT_UNTIL (popcheck_window_get_n_pending_deletes (fixture->window) == 0);
  g_assert_cmpuint (n_listed (fixture), ==, N_SAMPLES);

  /* Ctrl+? shows the shortcuts, Ctrl+, the preferences. */
  WAIT_UNTIL (has_focus (GTK_WINDOW (fixture->window)));
  PRESS (fixture->window, XK_Control_L, XK_Shift_L, XK_slash);
  WAIT_UNTIL ((other = find_toplevel (GTK_TYPE_SHORTCUTS_WINDOW)) != NULL);
  gtk_window_destroy (other);
  WAIT_UNTIL (has_focus (GTK_WINDOW (fixture->window)));
  PRESS (fixture->window, XK_Control_L, XK_comma);
  WAIT_UNTIL ((other = find_toplevel (ADW_TYPE_PREFERENCES_WINDOW)) != NULL);
  gtk_window_destroy (other);

  /* Ctrl+Q quits: the window goes. */
  WAIT_UNTIL (has_focus (GTK_WINDOW (fixture->window)));
  PRESS (fixture->window, XK_Control_L, XK_q);
  WAIT_UNTIL (fixture->window == NULL);
}

/* New mail at the top of the list */

static gboolean
is_row_of (GtkWidget     *widget,
           gconstpointer  message)
{
  return POPCHECK_IS_MESSAGE_ROW (widget) &&
         popcheck_message_row_get_message (POPCHECK_MESSAGE_ROW (widget)) == message;
}

static GtkWidget *
list_widget (Fixture *fixture)
{
  return GTK_WIDGET (popcheck_window_get_list_view (fixture->window));
}

/* Selects the message at position as a click on its row does: the row
 * takes the focus too. */
static void
click_row (Fixture *fixture,
           guint    position)
{
  GtkWidget *list = list_widget (fixture);
  GtkWidget *row;

  WAIT_UNTIL ((row = find_widget (list, is_row_of, listed (fixture, position), TRUE)) != NULL);
  gtk_widget_activate_action (row, "list.select-item", "(ubb)", position, FALSE, FALSE);
  gtk_widget_grab_focus (gtk_widget_get_parent (row));
  g_assert_true (gtk_widget_has_focus (gtk_widget_get_parent (row)));
}

/* The README's promise: new mail shows as it comes when the list is at
 * its top.  Once laid out, the list has not left its top and the newest
 * message's row lies whole within it. */
static void
assert_newest_in_view (Fixture    *fixture,
                       const char *subject)
{
  GtkWidget *list = list_widget (fixture);
  GtkAdjustment *vadjustment = gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (list));
  graphene_rect_t bounds;
  GtkWidget *row;

  g_assert_cmpstr (popcheck_message_get_subject (listed (fixture, 0)), ==, subject);
  wait_for_layout (fixture, list);
  g_assert_cmpfloat (gtk_adjustment_get_value (vadjustment), ==,
                     gtk_adjustment_get_lower (vadjustment));
  row = find_widget (list, is_row_of, listed (fixture, 0), TRUE);
  g_assert_nonnull (row);
  g_assert_true (gtk_widget_compute_bounds (row, list, &bounds));
  g_assert_cmpfloat (bounds.origin.y, >=, 0);
  g_assert_cmpfloat (bounds.origin.y + bounds.size.height, <=, gtk_widget_get_height (list));
}

/* A message selected with a click, then Ctrl+R brings new mail. */
static void
test_new_mail_selected (Fixture       *fixture,
                        gconstpointer  data)
{
  GtkSelectionModel *selection = popcheck_window_get_selection (fixture->window);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  PopcheckMessage *picked;

  wait_for_layout (fixture, list_widget (fixture));
  click_row (fixture, 2);
  picked = listed (fixture, 2);

  popcheck_test_demo_deliver_dated (fixture->demo, fixture->user, "<newest@example.org>",
                                    "The newest message", now);
  WAIT_UNTIL (has_focus (GTK_WINDOW (fixture->window)));
  PRESS (fixture->window, XK_Control_L, XK_r);
  WAIT_UNTIL (n_listed (fixture) == N_SAMPLES + 1 && mailbox_idle (fixture));

  assert_newest_in_view (fixture, "The newest message");
  /* The message the user picked stays selected. */
  g_assert_true (listed (fixture, 3) == picked);
  g_assert_true (gtk_selection_model_is_selected (selection, 3));
}

/* A message picked with a click, then a second account comes whose newest
 * message is newer than any of the first's. */
static void
test_new_mail_second_account (Fixture       *fixture,
                              gconstpointer  data)
{
  PopcheckChecker *checker = popcheck_application_get_checker (fixture->app);
  g_autofree char *user = g_strdup_printf ("ui%u", ++user_counter);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  PopcheckAccount *second;
  PopcheckMailbox *mailbox;

  popcheck_test_demo_add_user (fixture->demo, user, "second-pw", FALSE);
  popcheck_test_demo_deliver_dated (fixture->demo, user, "<second@example.org>",
                                    "Newest, on the second account", now);
  wait_for_layout (fixture, list_widget (fixture));
  click_row (fixture, 1);

  second = add_account (fixture, "Second", user, "second-pw");
  mailbox = popcheck_checker_get_mailbox (checker, popcheck_account_get_id (second));
  WAIT_UNTIL (n_listed (fixture) == 2 * N_SAMPLES + 1 &&
              popcheck_mailbox_get_state (mailbox) == POPCHECK_MAILBOX_STATE_IDLE);

  assert_newest_in_view (fixture, "Newest, on the second account");
}

/* The rows from top to bottom: newest first, the undated last; and the
 * top ones' subjects are expected[], in order. */
static void
assert_newest_first (Fixture           *fixture,
                     const char * const expected[])
{
  guint n_expected = g_strv_length ((char **) expected);
  GDateTime *previous = NULL;
  gboolean undated = FALSE;

  g_assert_cmpuint (n_listed (fixture), >=, n_expected);
  for (guint i = 0; i < n_listed (fixture); i++)
    {
      PopcheckMessage *message = listed (fixture, i);
      GDateTime *date = popcheck_message_get_date (message);

      if (i < n_expected)
        g_assert_cmpstr (popcheck_message_get_subject (message), ==, expected[i]);
      if (date == NULL)
        undated = TRUE;
      else
        g_assert_false (undated);
      if (previous != NULL && date != NULL)
        g_assert_cmpint (g_date_time_compare (previous, date), >=, 0);
      if (date != NULL)
        previous = date;
    }
}

/* Delivers to user "NAME, h h ago" for every other hour from first to
 * last (inclusive), sent that long ago. */
static void
deliver_hours_ago (Fixture    *fixture,
                   const char *user,
                   const char *name,
                   int         first,
                   int         last)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();

  for (int hours = first; hours <= last; hours += 2)
    {
      g_autoptr(GDateTime) date = g_date_time_add_hours (now, -hours);
      g_autofree char *id = g_strdup_printf ("<%s-%d@example.org>", name, hours);
      g_autofree char *subject = g_strdup_printf ("%s, %d h ago", name, hours);

      popcheck_test_demo_deliver_dated (fixture->demo, user, id, subject, date);
    }
}

/* The rows of two accounts merge by date, in the list and when the
 * account filter shows one and then both again; the rows of one are
 * shown in their mailbox's order, with nothing sorted again. */
static void
test_accounts_merged_by_date (Fixture       *fixture,
                              gconstpointer  data)
{
  PopcheckChecker *checker = popcheck_application_get_checker (fixture->app);
  g_autofree char *user = g_strdup_printf ("ui%u", ++user_counter);
  const char *both[] = { "Second, 1 h ago", "First, 2 h ago", "Second, 3 h ago",
                         "First, 4 h ago", "Second, 5 h ago", NULL };
  const char *first[] = { "First, 2 h ago", "First, 4 h ago", NULL };
  const char *second_only[] = { "Second, 1 h ago", "Second, 3 h ago",
                                "Second, 5 h ago", NULL };
  PopcheckAccount *second;
  PopcheckMailbox *mailbox;

  deliver_hours_ago (fixture, fixture->user, "First", 2, 4);
  WAIT_UNTIL (has_focus (GTK_WINDOW (fixture->window)));
  PRESS (fixture->window, XK_Control_L, XK_r);
  WAIT_UNTIL (n_listed (fixture) == N_SAMPLES + 2 && mailbox_idle (fixture));
  assert_newest_first (fixture, first);
  g_assert_null (gtk_sort_list_model_get_sorter (fixture->window->sorted));

  popcheck_test_demo_add_user (fixture->demo, user, "second-pw", TRUE);
  deliver_hours_ago (fixture, user, "Second", 1, 5);
  second = add_account (fixture, "Second", user, "second-pw");
  mailbox = popcheck_checker_get_mailbox (checker, popcheck_account_get_id (second));
  WAIT_UNTIL (n_listed (fixture) == N_SAMPLES + 5 &&
              popcheck_mailbox_get_state (mailbox) == POPCHECK_MAILBOX_STATE_IDLE);
  assert_newest_first (fixture, both);

  select_account (fixture, "Second");
  g_assert_cmpuint (n_listed (fixture), ==, 3);
  assert_newest_first (fixture, second_only);
  g_assert_null (gtk_sort_list_model_get_sorter (fixture->window->sorted));

  select_account (fixture, "All Accounts");
  g_assert_cmpuint (n_listed (fixture), ==, N_SAMPLES + 5);
  assert_newest_first (fixture, both);

  /* One account again. */
  popcheck_account_list_remove_async (popcheck_application_get_accounts (fixture->app),
                                      second, NULL, NULL, NULL);
  WAIT_UNTIL (n_listed (fixture) == N_SAMPLES + 2);
  assert_newest_first (fixture, first);
  g_assert_null (gtk_sort_list_model_get_sorter (fixture->window->sorted));
}

/* Delivers messages first to last (inclusive): "<ID_NAME-i@example.org>",
 * subject "SUBJECT i", sent offset + i minutes after base. */
static void
deliver_series (Fixture    *fixture,
                const char *id_name,
                const char *subject,
                guint       first,
                guint       last,
                GDateTime  *base,
                int         offset)
{
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) subjects = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) dates = g_ptr_array_new_with_free_func ((GDestroyNotify) g_date_time_unref);

  for (guint i = first; i <= last; i++)
    {
      g_ptr_array_add (ids, g_strdup_printf ("<%s-%u@example.org>", id_name, i));
      g_ptr_array_add (subjects, g_strdup_printf ("%s %u", subject, i));
      g_ptr_array_add (dates, g_date_time_add_minutes (base, offset + (int) i));
    }
  g_ptr_array_add (ids, NULL);
  g_ptr_array_add (subjects, NULL);
  popcheck_test_demo_deliver_all (fixture->demo, fixture->user,
                                  (const char * const *) ids->pdata,
                                  (const char * const *) subjects->pdata,
                                  (GDateTime * const *) dates->pdata);
}

#define N_AT_ONCE 200

/* One check brings many messages, a message selected meanwhile. */
static void
test_new_mail_many (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();

  deliver_series (fixture, "at-once", "At once", 0, N_AT_ONCE - 1, now, -N_AT_ONCE);

  wait_for_layout (fixture, list_widget (fixture));
  click_row (fixture, 4);
  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "check-now", NULL);
  WAIT_UNTIL (n_listed (fixture) == N_SAMPLES + N_AT_ONCE && mailbox_idle (fixture));

  assert_newest_in_view (fixture, "At once 199");
}

/* Headers that come later ------------------------------------------------- */

#define N_BACKLOG 40

static void
stop_checker_cb (PopcheckChecker *checker,
                 PopcheckMailbox *mailbox,
                 GPtrArray       *messages,
                 gpointer         user_data)
{
  /* At once, before the check would queue its backlog. */
  popcheck_checker_stop (checker);
}

static PopcheckMailbox *
fixture_mailbox (Fixture *fixture)
{
  return popcheck_checker_get_mailbox (popcheck_application_get_checker (fixture->app),
                                       popcheck_account_get_id (fixture->account));
}

/* N_BACKLOG older messages come, numbered 11 to 50 after the samples; a
 * check that fetches 5 headers takes the newest five, and the checker
 * stops as it reports, so the other 35 wait without headers. */
static void
check_leaving_backlog (Fixture *fixture)
{
  PopcheckChecker *checker = popcheck_application_get_checker (fixture->app);
  g_autoptr(GSettings) settings = g_settings_new ("org.example.PopCheck");
  g_autoptr(GDateTime) base = g_date_time_new_utc (2020, 1, 1, 0, 0, 0);
  gulong handler;

  deliver_series (fixture, "old", "Old", N_SAMPLES + 1, N_SAMPLES + N_BACKLOG, base, 0);

  g_settings_set_uint (settings, "first-headers", 5);
  g_assert_cmpuint (popcheck_checker_get_first_headers (checker), ==, 5);
  handler = g_signal_connect (checker, "new-messages", G_CALLBACK (stop_checker_cb), NULL);
  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "check-now", NULL);
  WAIT_UNTIL (n_listed (fixture) == N_SAMPLES + N_BACKLOG && mailbox_idle (fixture));
  g_signal_handler_disconnect (checker, handler);
  g_assert_cmpuint (popcheck_mailbox_count_headers_pending (fixture_mailbox (fixture)), ==, N_BACKLOG - 5);
}

/* The row of a message whose headers did not come yet shows its place
 * on the server and its size, and says so to a screen reader; not
 * "(headers not available)", which is for what the server refused. */
static void
test_rows_headers_pending (Fixture       *fixture,
                           gconstpointer  data)
{
  GtkWidget *list = list_widget (fixture);
  PopcheckMessage *oldest;
  GtkWidget *row;
  g_autofree char *size = NULL;
  g_autofree char *name = NULL;
  g_autofree char *mismatch = NULL;

  check_leaving_backlog (fixture);

  /* Without a date, they are listed last, the oldest at the end. */
  oldest = listed (fixture, n_listed (fixture) - 1);
  g_assert_true (popcheck_message_get_headers_pending (oldest));
  scroll_list (fixture, list, TRUE);
  WAIT_UNTIL ((row = find_widget (list, is_row_of, oldest, TRUE)) != NULL);
  wait_for_layout (fixture, list);

  size = g_format_size (popcheck_message_get_size (oldest));
  g_assert_true (find_visible_label (row, "Message 11 of 50"));
  g_assert_true (find_visible_label (row, "(headers not fetched yet)"));
  g_assert_true (find_visible_label (row, size));
  g_assert_false (find_visible_label (list, "(headers not available)"));
  g_assert_false (find_visible_label (list, "(unknown sender)"));

  /* New to PopCheck: this check found it. */
  name = g_strdup_printf ("New: Message 11 of 50, %s, headers not fetched yet", size);
  mismatch = gtk_test_accessible_check_property (GTK_ACCESSIBLE (row),
                                                 GTK_ACCESSIBLE_PROPERTY_LABEL,
                                                 name);
  g_assert_null (mismatch);
}

/* A selected row without headers stays selected when they come, though
 * the mailbox lists the message anew at its dated place: its preview
 * goes from "not fetched yet" to the summary. */
static void
test_pending_row_stays_selected (Fixture       *fixture,
                                 gconstpointer  data)
{
  GtkSelectionModel *selection = popcheck_window_get_selection (fixture->window);
  PopcheckPreview *preview = popcheck_window_get_preview (fixture->window);
  PopcheckMailbox *mailbox = fixture_mailbox (fixture);
  GtkWidget *list = list_widget (fixture);
  g_autoptr(GtkBitset) selected = NULL;
  g_autofree char *uid = NULL;
  PopcheckMessage *filled;
  guint last;
  guint position;

  check_leaving_backlog (fixture);
  last = n_listed (fixture) - 1;
  g_assert_true (popcheck_message_get_headers_pending (listed (fixture, last)));
  uid = g_strdup (popcheck_message_get_uid (listed (fixture, last)));
  scroll_list (fixture, list, TRUE);
  click_row (fixture, last);
  WAIT_UNTIL (popcheck_preview_get_message (preview) == listed (fixture, last));
  g_assert_true (find_visible_label (GTK_WIDGET (preview),
                                     "The headers of this message are not fetched "
                                     "yet; they come next."));

  popcheck_checker_start (popcheck_application_get_checker (fixture->app));
  WAIT_UNTIL (popcheck_mailbox_count_headers_pending (mailbox) == 0 && mailbox_idle (fixture));

  filled = popcheck_mailbox_lookup (mailbox, uid);
  g_assert_nonnull (filled);
  g_assert_true (popcheck_message_get_headers_known (filled));
  for (position = 0; listed (fixture, position) != filled; position++)
    g_assert_cmpuint (position, <, n_listed (fixture));
  selected = gtk_selection_model_get_selection (selection);
  g_assert_cmpuint (gtk_bitset_get_size (selected), ==, 1);
  g_assert_true (gtk_selection_model_is_selected (selection, position));
  WAIT_UNTIL (popcheck_preview_get_message (preview) == filled);
  g_assert_true (find_visible_label (GTK_WIDGET (preview), "Old 11"));
  g_assert_false (find_visible_label (GTK_WIDGET (preview),
                                      "The headers of this message are not fetched "
                                      "yet; they come next."));
}

typedef struct
{
  const char *uid;
  /* Changes of the list after which no row was of that UID. */
  guint       missing;
} PlaceLog;

static void
place_log_items_changed_cb (GListModel *model,
                            guint       position,
                            guint       removed,
                            guint       added,
                            PlaceLog   *log)
{
  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(PopcheckMessage) message = g_list_model_get_item (model, i);

      if (g_str_equal (popcheck_message_get_uid (message), log->uid))
        return;
    }
  log->missing++;
}

/* A row the backlog fills where it is (the newest still pending, below
 * the rows with their headers) never leaves the list as it fills: the
 * list changes no more than that row, and the row stays selected, its
 * preview now with the headers. */
static void
test_pending_row_fills_in_place (Fixture       *fixture,
                                 gconstpointer  data)
{
  GtkSelectionModel *selection = popcheck_window_get_selection (fixture->window);
  PopcheckPreview *preview = popcheck_window_get_preview (fixture->window);
  PopcheckMailbox *mailbox = fixture_mailbox (fixture);
  GtkWidget *list = list_widget (fixture);
  g_autoptr(GtkBitset) selected = NULL;
  g_autofree char *uid = NULL;
  PopcheckMessage *filled;
  PlaceLog log = { NULL, 0 };
  guint position;

  check_leaving_backlog (fixture);
  /* Old 40, five rows below the newest pending one: its headers come in
   * the backlog's order, newest first, once the rows above it have
   * theirs. */
  for (position = 0; !popcheck_message_get_headers_pending (listed (fixture, position));
       position++)
    ;
  position += 5;
  uid = g_strdup (popcheck_message_get_uid (listed (fixture, position)));
  wait_for_layout (fixture, list);
  gtk_widget_activate_action (list, "list.scroll-to-item", "u", position);
  click_row (fixture, position);
  WAIT_UNTIL (popcheck_preview_get_message (preview) == listed (fixture, position));

  log.uid = uid;
  g_signal_connect (selection, "items-changed",
                    G_CALLBACK (place_log_items_changed_cb), &log);
  popcheck_checker_start (popcheck_application_get_checker (fixture->app));
  WAIT_UNTIL (popcheck_mailbox_count_headers_pending (mailbox) == 0 && mailbox_idle (fixture));
  g_signal_handlers_disconnect_by_data (selection, &log);
  g_assert_cmpuint (log.missing, ==, 0);

  filled = popcheck_mailbox_lookup (mailbox, uid);
  g_assert_true (popcheck_message_get_headers_known (filled));
  g_assert_true (listed (fixture, position) == filled);
  selected = gtk_selection_model_get_selection (selection);
  g_assert_cmpuint (gtk_bitset_get_size (selected), ==, 1);
  g_assert_true (gtk_selection_model_is_selected (selection, position));
  WAIT_UNTIL (popcheck_preview_get_message (preview) == filled);
  g_assert_true (find_visible_label (GTK_WIDGET (preview), "Old 40"));
}

typedef struct
{
  /* The subjects whose headers came, in the order they came. */
  GPtrArray *came;
} FillLog;

static void
fill_log_items_changed_cb (GListModel *model,
                           guint       position,
                           guint       removed,
                           guint       added,
                           FillLog    *log)
{
  for (guint i = position; i < position + added; i++)
    {
      g_autoptr(PopcheckMessage) message = g_list_model_get_item (model, i);

      if (popcheck_message_get_headers_known (message))
        g_ptr_array_add (log->came, g_strdup (popcheck_message_get_subject (message)));
    }
}

static int
index_of (GPtrArray  *strings,
          const char *string)
{
  guint index;

  if (!g_ptr_array_find_with_equal_func (strings, string, g_str_equal, &index))
    return -1;
  return index;
}

/* Scrolled to the end, the rows there get their headers before the newer
 * messages that are out of view. */
static void
test_scroll_fetches_headers (Fixture       *fixture,
                             gconstpointer  data)
{
  PopcheckMailbox *mailbox = fixture_mailbox (fixture);
  GtkWidget *list = list_widget (fixture);
  g_autoptr(GPtrArray) came = g_ptr_array_new_with_free_func (g_free);
  FillLog log = { came };
  PopcheckMessage *oldest;

  check_leaving_backlog (fixture);

  oldest = listed (fixture, n_listed (fixture) - 1);
  scroll_list (fixture, list, TRUE);
  WAIT_UNTIL (find_widget (list, is_row_of, oldest, TRUE) != NULL);
  /* The window has told the checker what it shows. */
  WAIT_UNTIL (fixture->window->want_headers_id == 0);

  g_signal_connect (mailbox, "items-changed", G_CALLBACK (fill_log_items_changed_cb), &log);
  popcheck_checker_start (popcheck_application_get_checker (fixture->app));
  WAIT_UNTIL (popcheck_mailbox_count_headers_pending (mailbox) == 0 && mailbox_idle (fixture));
  g_signal_handlers_disconnect_by_data (mailbox, &log);

  /* Old 41 to 45 came with the check; then the rows in view (Old 11 is
   * the oldest, at the end), before Old 40, the newest left. */
  g_assert_cmpint (index_of (came, "Old 11"), >=, 0);
  g_assert_cmpint (index_of (came, "Old 40"), >=, 0);
  g_assert_cmpint (index_of (came, "Old 11"), <, index_of (came, "Old 40"));
}

/* New mail found while the backlog is still being fetched comes at the
 * top, in view, with its headers; the message the user picked stays
 * selected while the rows below fill in. */
static void
test_new_mail_during_backlog (Fixture       *fixture,
                              gconstpointer  data)
{
  GtkSelectionModel *selection = popcheck_window_get_selection (fixture->window);
  PopcheckMailbox *mailbox = fixture_mailbox (fixture);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  PopcheckMessage *picked;
  guint position;

  check_leaving_backlog (fixture);
  wait_for_layout (fixture, list_widget (fixture));
  click_row (fixture, 2);
  picked = listed (fixture, 2);

  popcheck_test_demo_deliver_dated (fixture->demo, fixture->user, "<newest@example.org>",
                                    "The newest message", now);
  popcheck_checker_start (popcheck_application_get_checker (fixture->app));
  WAIT_UNTIL (n_listed (fixture) == N_SAMPLES + N_BACKLOG + 1 &&
              popcheck_message_get_headers_known (listed (fixture, 0)));
  g_assert_cmpuint (popcheck_mailbox_count_headers_pending (mailbox), >, 0);
  assert_newest_in_view (fixture, "The newest message");
  g_assert_true (popcheck_message_get_is_new (listed (fixture, 0)));

  WAIT_UNTIL (popcheck_mailbox_count_headers_pending (mailbox) == 0 && mailbox_idle (fixture));
  assert_newest_in_view (fixture, "The newest message");
  for (position = 0; listed (fixture, position) != picked; position++)
    g_assert_cmpuint (position, <, n_listed (fixture));
  g_assert_true (gtk_selection_model_is_selected (selection, position));
}

/* Clicks widget's middle with the given mouse button, as a person would. */
static void
click_widget (GtkWidget *widget,
              guint      button)
{
  FakeMotionEventFunc fake_motion_event = xtst_function ("XTestFakeMotionEvent");
  FakeButtonEventFunc fake_button_event = xtst_function ("XTestFakeButtonEvent");
  GtkNative *native = gtk_widget_get_native (widget);
  Display *xdisplay = gdk_x11_display_get_xdisplay (gtk_widget_get_display (widget));
  Window xid = gdk_x11_surface_get_xid (gtk_native_get_surface (native));
  graphene_point_t point;
  double surface_x, surface_y;
  int root_x, root_y;
  Window child;

  g_assert_true (gtk_widget_compute_point (widget, GTK_WIDGET (native),
                                           &GRAPHENE_POINT_INIT (gtk_widget_get_width (widget) / 2.0,
                                                                 gtk_widget_get_height (widget) / 2.0),
                                           &point));
  gtk_native_get_surface_transform (native, &surface_x, &surface_y);
  XTranslateCoordinates (xdisplay, xid, DefaultRootWindow (xdisplay),
                         (int) (point.x + surface_x), (int) (point.y + surface_y),
                         &root_x, &root_y, &child);
  fake_motion_event (xdisplay, -1, root_x, root_y, 0);
  fake_button_event (xdisplay, button, True, 0);
  fake_button_event (xdisplay, button, False, 0);
  XFlush (xdisplay);
}

/* The row menu on screen, or NULL. */
static GtkWidget *
row_menu (Fixture *fixture)
{
  GtkWidget *menu = find_widget (list_widget (fixture), is_of_type,
                                 GSIZE_TO_POINTER (GTK_TYPE_POPOVER_MENU), TRUE);

  return menu != NULL && gtk_widget_get_mapped (menu) ? menu : NULL;
}

static gboolean
menu_shown (Fixture *fixture)
{
  return row_menu (fixture) != NULL;
}

/* Chooses an item of the row menu on screen by its words, as a click on
 * it would. */
static void
choose_menu_item (Fixture    *fixture,
                  const char *label)
{
  GtkWidget *found;
  GtkWidget *item;
  GtkWidget *menu;

  g_assert_true (menu_shown (fixture));
  menu = row_menu (fixture);
  found = find_widget (menu, shows_text, label, TRUE);
  g_assert_nonnull (found);
  item = gtk_widget_get_ancestor (found, g_type_from_name ("GtkModelButton"));
  g_assert_nonnull (item);
  g_assert_true (gtk_widget_is_sensitive (item));
  gtk_widget_activate (item);
  WAIT_UNTIL (!gtk_widget_get_mapped (menu));
}

static void
clipboard_text_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  char **text = user_data;
  g_autoptr(GError) error = NULL;

  *text = gdk_clipboard_read_text_finish (GDK_CLIPBOARD (object), result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (*text);
}

/* A right click, Shift+F10 and the Menu key open a row's menu; its items
 * act on that row, not on the selection. */
static void
test_row_menu (Fixture       *fixture,
               gconstpointer  data)
{
  GtkSelectionModel *selection = popcheck_window_get_selection (fixture->window);
  GtkWidget *list = list_widget (fixture);
  const char *labels[] = { "Preview", "Mark as Seen", "Copy Sender", "Delete" };
  PopcheckMessage *selected;
  PopcheckMessage *clicked;
  g_autofree char *copied = NULL;
  GtkWidget *row;

  popcheck_window_set_undo_timeout (fixture->window, 60);
  wait_for_layout (fixture, list);
  click_row (fixture, 0);
  selected = listed (fixture, 0);
  clicked = listed (fixture, 3);
  WAIT_UNTIL (has_focus (GTK_WINDOW (fixture->window)));

  /* A right click on another row: its menu, the selection stays. */
  WAIT_UNTIL ((row = find_widget (list, is_row_of, clicked, TRUE)) != NULL);
  click_widget (row, 3);
  WAIT_UNTIL (menu_shown (fixture));
  for (guint i = 0; i < G_N_ELEMENTS (labels); i++)
    g_assert_true (find_visible_label (row_menu (fixture), labels[i]));
  g_assert_true (gtk_widget_get_ancestor (row_menu (fixture), POPCHECK_TYPE_MESSAGE_ROW) == row);
  choose_menu_item (fixture, "Delete");
  WAIT_UNTIL (popcheck_window_get_n_pending_deletes (fixture->window) == 1);
  g_assert_cmpuint (n_listed (fixture), ==, N_SAMPLES - 1);
  for (guint i = 0; i < n_listed (fixture); i++)
    g_assert_false (listed (fixture, i) == clicked);
  g_assert_true (listed (fixture, 0) == selected);
  g_assert_true (gtk_selection_model_is_selected (selection, 0));
  gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.undo-delete", NULL);
  g_assert_cmpuint (n_listed (fixture), ==, N_SAMPLES);

  /* Shift+F10 on the focused row; Copy Sender puts its address on the
   * clipboard. */
  click_row (fixture, 2);
  clicked = listed (fixture, 2);
  g_assert_nonnull (popcheck_message_get_from_address (clicked));
  PRESS (fixture->window, XK_Shift_L, XK_F10);
  WAIT_UNTIL (menu_shown (fixture));
  choose_menu_item (fixture, "Copy Sender");
  gdk_clipboard_read_text_async (gtk_widget_get_clipboard (GTK_WIDGET (fixture->window)),
                                 NULL, clipboard_text_cb, &copied);
  WAIT_UNTIL (copied != NULL);
  g_assert_cmpstr (copied, ==, popcheck_message_get_from_address (clicked));

  /* The Menu key; Preview shows that row's message alone, while another
   * is selected. */
  click_row (fixture, 4);
  clicked = listed (fixture, 4);
  gtk_selection_model_select_item (selection, 1, TRUE);
  PRESS (fixture->window, XK_Menu);
  WAIT_UNTIL (menu_shown (fixture));
  choose_menu_item (fixture, "Preview");
  g_assert_true (gtk_selection_model_is_selected (selection, 4));
  g_assert_false (gtk_selection_model_is_selected (selection, 1));
  WAIT_UNTIL (popcheck_preview_get_message (popcheck_window_get_preview (fixture->window)) == clicked);
}

/* Mark as Seen in a row's menu marks that message, not the selection. */
static void
test_row_menu_mark_seen (Fixture       *fixture,
                         gconstpointer  data)
{
  PopcheckChecker *checker = popcheck_application_get_checker (fixture->app);
  GtkSelectionModel *selection = popcheck_window_get_selection (fixture->window);
  PopcheckMessage *clicked;
  PopcheckMessage *other;
  GtkWidget *row;

  /* The same account id may have left a state file in an earlier test. */
  popcheck_checker_mark_seen (checker, NULL, NULL);
  popcheck_test_demo_deliver (fixture->demo, fixture->user, "<one@example.org>", "New one");
  popcheck_test_demo_deliver (fixture->demo, fixture->user, "<two@example.org>", "New two");
  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "check-now", NULL);
  WAIT_UNTIL (n_listed (fixture) == N_SAMPLES + 2 && mailbox_idle (fixture));
  clicked = listed (fixture, position_of_subject (fixture, "New one"));
  other = listed (fixture, position_of_subject (fixture, "New two"));
  gtk_selection_model_select_item (selection, position_of_subject (fixture, "New two"), TRUE);
  gtk_selection_model_select_item (selection, 0, FALSE);

  WAIT_UNTIL (has_focus (GTK_WINDOW (fixture->window)));
  row = row_of_subject (fixture, "New one");
  click_widget (row, 3);
  WAIT_UNTIL (menu_shown (fixture));
  choose_menu_item (fixture, "Mark as Seen");
  g_assert_false (popcheck_message_get_is_new (clicked));
  g_assert_true (popcheck_message_get_is_new (other));
}

/* Tab leaves the list for the preview, not for the next row. */
static void
test_tab_to_preview (Fixture       *fixture,
                     gconstpointer  data)
{
  GtkWindow *window = GTK_WINDOW (fixture->window);
  GtkWidget *preview = GTK_WIDGET (popcheck_window_get_preview (fixture->window));
  GtkWidget *item;

  wait_for_layout (fixture, list_widget (fixture));
  click_row (fixture, 1);
  item = gtk_window_get_focus (window);
  WAIT_UNTIL (popcheck_preview_get_message (popcheck_window_get_preview (fixture->window)) ==
              listed (fixture, 1));
  WAIT_UNTIL (has_focus (window));
  PRESS (window, XK_Tab);
  WAIT_UNTIL (gtk_window_get_focus (window) != item);
  g_assert_true (gtk_widget_is_ancestor (gtk_window_get_focus (window), preview));
}

/* After Undo the message that came back is selected and has the focus. */
static void
test_undo_focus (Fixture       *fixture,
                 gconstpointer  data)
{
  GtkWindow *window = GTK_WINDOW (fixture->window);
  GtkSelectionModel *selection = popcheck_window_get_selection (fixture->window);
  g_autoptr(GtkBitset) selected = NULL;
  PopcheckMessage *deleted;
  GtkWidget *focus;

  popcheck_window_set_undo_timeout (fixture->window, 60);
  wait_for_layout (fixture, list_widget (fixture));
  click_row (fixture, 2);
  deleted = listed (fixture, 2);
  WAIT_UNTIL (has_focus (window));
  PRESS (window, XK_Delete);
  WAIT_UNTIL (popcheck_window_get_n_pending_deletes (fixture->window) == 1);
  /* GTK 4.8 gives the focus to the next row only when it lays the list
   * out again; a key pressed before that frame goes nowhere. */
  WAIT_UNTIL (focus_in (window));
  PRESS (window, XK_Control_L, XK_z);
  WAIT_UNTIL (popcheck_window_get_n_pending_deletes (fixture->window) == 0);

  WAIT_UNTIL ((focus = gtk_window_get_focus (window)) != NULL &&
              is_row_of (gtk_widget_get_first_child (focus), deleted));
  selected = gtk_selection_model_get_selection (selection);
  g_assert_cmpuint (gtk_bitset_get_size (selected), ==, 1);
  g_assert_true (listed (fixture, gtk_bitset_get_minimum (selected)) == deleted);
}

/* Check Now with no account, or none turned on, says why nothing happens. */
static void
test_check_nothing (Fixture       *fixture,
                    gconstpointer  data)
{
  GtkWindow *window = GTK_WINDOW (fixture->window);

  WAIT_UNTIL (has_focus (window));
  PRESS (window, XK_Control_L, XK_r);
  WAIT_UNTIL (find_visible_label (GTK_WIDGET (window),
                                  "No account to check. Add one in Preferences."));
}

static void
test_check_none_enabled (Fixture       *fixture,
                         gconstpointer  data)
{
  PopcheckMailbox *mailbox =
    popcheck_checker_get_mailbox (popcheck_application_get_checker (fixture->app),
                                  popcheck_account_get_id (fixture->account));
  GtkWindow *window = GTK_WINDOW (fixture->window);

  popcheck_account_set_enabled (fixture->account, FALSE);
  WAIT_UNTIL (popcheck_mailbox_get_state (mailbox) == POPCHECK_MAILBOX_STATE_DISABLED);
  WAIT_UNTIL (has_focus (window));
  PRESS (window, XK_Control_L, XK_r);
  WAIT_UNTIL (find_visible_label (GTK_WIDGET (window),
                                  "No account is turned on. Turn on “Check This Account” "
                                  "for one in Preferences."));
}

static gboolean
label_is_cut (GtkWidget     *widget,
              gconstpointer  data)
{
  return GTK_IS_LABEL (widget) && gtk_widget_get_mapped (widget) &&
         *gtk_label_get_text (GTK_LABEL (widget)) != '\0' &&
         pango_layout_is_ellipsized (gtk_label_get_layout (GTK_LABEL (widget)));
}

/* Everything the header bar shows is whole: no title cut short, no button
 * pushed past its edge. */
/* Whether every button shown in @header lies inside it. */
static gboolean
header_buttons_inside (GtkWidget *header)
{
  g_autoptr(GPtrArray) buttons = g_ptr_array_new ();

  collect_descendants (header, GTK_TYPE_BUTTON, buttons);
  collect_descendants (header, GTK_TYPE_MENU_BUTTON, buttons);
  for (guint i = 0; i < buttons->len; i++)
    {
      GtkWidget *button = buttons->pdata[i];
      graphene_rect_t bounds;

      /* (One squeezed below its size is a GTK warning, fatal here.) */
      if (!gtk_widget_get_mapped (button))
        continue;
      if (!gtk_widget_compute_bounds (button, header, &bounds) ||
          bounds.origin.x < 0 ||
          bounds.origin.x + bounds.size.width > gtk_widget_get_width (header))
        return FALSE;
    }

  return TRUE;
}

/* Whether @left lies wholly left of @right, at least 300 px wide. */
static gboolean
side_by_side (GtkWidget *left,
              GtkWidget *right,
              GtkWidget *window)
{
  graphene_rect_t left_bounds, right_bounds;

  return gtk_widget_compute_bounds (left, window, &left_bounds) &&
         gtk_widget_compute_bounds (right, window, &right_bounds) &&
         left_bounds.origin.x + left_bounds.size.width <= right_bounds.origin.x &&
         left_bounds.size.width >= 300;
}

static void
assert_header_whole (Fixture *fixture)
{
  GtkWidget *header = find_widget_of_type (GTK_WIDGET (fixture->window), ADW_TYPE_HEADER_BAR);
  GtkWidget *cut;

  g_assert_nonnull (header);
  /* Once laid out again: a title that just changed may not be yet.  Nor
   * the buttons right after the window or its pane changed: a loaded run
   * once read a button at 390 px in a header 191 px wide there.  What is
   * asserted is where the layout settles. */
  WAIT_UNTIL ((cut = find_widget (header, label_is_cut, NULL, TRUE)) == NULL);
  WAIT_UNTIL (header_buttons_inside (header));
}

static gboolean
is_named_button (GtkWidget     *widget,
                 gconstpointer  name)
{
  return GTK_IS_BUTTON (widget) &&
         gtk_test_accessible_check_property (GTK_ACCESSIBLE (widget),
                                             GTK_ACCESSIBLE_PROPERTY_LABEL,
                                             name) == NULL;
}

static PopcheckMessage *
selected_message (Fixture *fixture)
{
  g_autoptr(GtkBitset) selected =
    gtk_selection_model_get_selection (popcheck_window_get_selection (fixture->window));

  if (gtk_bitset_get_size (selected) != 1)
    return NULL;

  return listed (fixture, gtk_bitset_get_minimum (selected));
}

/* The window as the screen has it, its decorations included. */
static int
window_width (Fixture *fixture)
{
  return gdk_surface_get_width (gtk_native_get_surface (GTK_NATIVE (fixture->window)));
}

/* The window to the given width, as the screen has it. */
static void
resize (Fixture *fixture,
        int      width)
{
  gint64 deadline = popcheck_test_deadline (TIMEOUT_SECONDS * 1000);

  gtk_window_set_default_size (GTK_WINDOW (fixture->window), width, 640);
  while (window_width (fixture) != width)
    if (!popcheck_test_iterate (deadline))
      g_error ("The window is %d pixels wide, not %d", window_width (fixture), width);
}

/* A narrow window showing a message in place of the list holds its
 * account's backlog: two checks come and go and the rest of the headers
 * wait (the backlog would have fetched them all before the second check
 * ran); back at the list, they come. */
static void
test_preview_holds_backlog (Fixture       *fixture,
                            gconstpointer  data)
{
  PopcheckChecker *checker = popcheck_application_get_checker (fixture->app);
  GtkSelectionModel *selection = popcheck_window_get_selection (fixture->window);
  PopcheckMailbox *mailbox = fixture_mailbox (fixture);
  g_autoptr(GDateTime) last_check = NULL;
  guint pending;

  check_leaving_backlog (fixture);
  resize (fixture, 500);
  WAIT_UNTIL (popcheck_window_get_folded (fixture->window));
  gtk_selection_model_select_item (selection, 0, TRUE);
  popcheck_window_show_preview (fixture->window);
  WAIT_UNTIL (g_strcmp0 (popcheck_window_get_pane (fixture->window), "preview") == 0);
  g_assert_true (popcheck_message_get_headers_known (selected_message (fixture)));

  for (guint i = 0; i < 2; i++)
    {
      g_clear_pointer (&last_check, g_date_time_unref);
      last_check = g_date_time_ref (popcheck_mailbox_get_last_check (mailbox));
      if (i == 0)
        popcheck_checker_start (checker);
      else
        g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "check-now", NULL);
      WAIT_UNTIL (!g_date_time_equal (popcheck_mailbox_get_last_check (mailbox), last_check) &&
                  mailbox_idle (fixture));
    }
  pending = popcheck_mailbox_count_headers_pending (mailbox);
  g_assert_cmpuint (pending, >, 0);
  g_assert_cmpuint (pending, <, N_BACKLOG - 5);

  _popcheck_window_show_list (fixture->window);
  WAIT_UNTIL (popcheck_mailbox_count_headers_pending (mailbox) == 0 && mailbox_idle (fixture));
}

/* 360 pixels wide: the list alone; a message clicked shows its preview,
 * and Back (the button, Alt+Left or Escape) returns to the list with the
 * message still selected.  Wide: both side by side. */
static void
test_adaptive (Fixture       *fixture,
               gconstpointer  data)
{
  GtkWindow *window = GTK_WINDOW (fixture->window);
  PopcheckPreview *preview = popcheck_window_get_preview (fixture->window);
  GtkWidget *list = GTK_WIDGET (popcheck_window_get_list_view (fixture->window));
  const char *subject = "Café crème et crêpes à volonté";
  PopcheckMessage *message;
  GtkWidget *back;
  GtkWidget *check;
  int min_width;

  /* A title with its subtitle, as with new mail. */
  popcheck_test_demo_deliver (fixture->demo, fixture->user, "<narrow@example.org>",
                              "Narrow news");
  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "check-now", NULL);
  WAIT_UNTIL (n_listed (fixture) == N_SAMPLES + 1 && mailbox_idle (fixture));
  WAIT_UNTIL (*title_subtitle (fixture) != '\0');

  /* Narrowed as by hand: the window folds before it gets that narrow. */
  resize (fixture, 500);
  WAIT_UNTIL (popcheck_window_get_folded (fixture->window));
  /* Folded, Check Now leaves the header bar for the menu. */
  check = find_widget (GTK_WIDGET (fixture->window), is_named_button, "Check now", FALSE);
  g_assert_nonnull (check);
  WAIT_UNTIL (!gtk_widget_get_visible (check));
  /* The count of new mail, without the words that would not fit. */
  WAIT_UNTIL (g_str_has_suffix (title_subtitle (fixture), " new"));
  resize (fixture, 360);
  /* Nothing squeezed below its size. */
  gtk_widget_measure (gtk_window_get_child (window), GTK_ORIENTATION_HORIZONTAL, -1,
                      &min_width, NULL, NULL, NULL);
  WAIT_UNTIL (gtk_widget_get_width (gtk_window_get_child (window)) <= 360);
  g_assert_cmpint (gtk_widget_get_width (gtk_window_get_child (window)), >=, min_width);
  g_assert_cmpstr (popcheck_window_get_pane (fixture->window), ==, "list");
  WAIT_UNTIL (gtk_widget_get_mapped (list) && !gtk_widget_get_mapped (GTK_WIDGET (preview)));
  back = find_widget (GTK_WIDGET (fixture->window), is_named_button, "Back", FALSE);
  g_assert_nonnull (back);
  g_assert_false (gtk_widget_get_visible (back));
  assert_header_whole (fixture);

  /* A click opens the message. */
  message = listed (fixture, position_of_subject (fixture, subject));
  click_widget (row_of_subject (fixture, subject), 1);
  WAIT_UNTIL (g_strcmp0 (popcheck_window_get_pane (fixture->window), "preview") == 0);
  g_assert_true (selected_message (fixture) == message);
  g_assert_true (popcheck_preview_get_message (preview) == message);
  WAIT_UNTIL (gtk_widget_get_mapped (GTK_WIDGET (preview)) && gtk_widget_get_mapped (back));
  WAIT_UNTIL (!gtk_widget_get_mapped (list));
  assert_header_whole (fixture);

  /* The button goes back, with the same message selected. */
  click_widget (back, 1);
  WAIT_UNTIL (g_strcmp0 (popcheck_window_get_pane (fixture->window), "list") == 0);
  g_assert_true (selected_message (fixture) == message);
  WAIT_UNTIL (!gtk_widget_get_visible (back));

  /* So do Alt+Left and Escape; Enter on a row opens it. */
  WAIT_UNTIL (has_focus (window));
  click_widget (row_of_subject (fixture, subject), 1);
  WAIT_UNTIL (g_strcmp0 (popcheck_window_get_pane (fixture->window), "preview") == 0);
  PRESS (window, XK_Alt_L, XK_Left);
  WAIT_UNTIL (g_strcmp0 (popcheck_window_get_pane (fixture->window), "list") == 0);
  g_assert_true (selected_message (fixture) == message);
  WAIT_UNTIL (gtk_widget_get_mapped (list) && focus_in (window));
  gtk_widget_grab_focus (row_of_subject (fixture, subject));
  PRESS (window, XK_Return);
  WAIT_UNTIL (g_strcmp0 (popcheck_window_get_pane (fixture->window), "preview") == 0);
  PRESS (window, XK_Escape);
  WAIT_UNTIL (g_strcmp0 (popcheck_window_get_pane (fixture->window), "list") == 0);
  g_assert_true (selected_message (fixture) == message);

  /* The arrow keys move through the list and stay there. */
  WAIT_UNTIL (focus_in (window));
  gtk_widget_grab_focus (row_of_subject (fixture, subject));
  PRESS (window, XK_Down);
  WAIT_UNTIL (selected_message (fixture) != message);
  g_assert_cmpstr (popcheck_window_get_pane (fixture->window), ==, "list");

  /* Delete and Undo from the preview: the next message takes its place
   * there, and comes back. */
  popcheck_window_set_undo_timeout (fixture->window, 60);
  click_widget (row_of_subject (fixture, subject), 1);
  WAIT_UNTIL (g_strcmp0 (popcheck_window_get_pane (fixture->window), "preview") == 0 &&
              selected_message (fixture) == message);
  gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.delete", NULL);
  g_assert_cmpuint (n_listed (fixture), ==, N_SAMPLES);
  g_assert_nonnull (selected_message (fixture));
  g_assert_true (popcheck_preview_get_message (preview) == selected_message (fixture));
  g_assert_cmpstr (popcheck_window_get_pane (fixture->window), ==, "preview");
  gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.undo-delete", NULL);
  g_assert_cmpuint (n_listed (fixture), ==, N_SAMPLES + 1);

  /* Wide: both, side by side, and no way back to go. */
  resize (fixture, 1000);
  WAIT_UNTIL (!popcheck_window_get_folded (fixture->window));
  WAIT_UNTIL (gtk_widget_get_mapped (list) && gtk_widget_get_mapped (GTK_WIDGET (preview)));
  WAIT_UNTIL (!gtk_widget_get_visible (back) && gtk_widget_get_visible (check));
  WAIT_UNTIL (g_str_has_suffix (title_subtitle (fixture), " new message") ||
              g_str_has_suffix (title_subtitle (fixture), " new messages"));
  /* Where the layout settles: right after the window unfolds, a loaded
   * run read the list's old bounds (its right edge at 390 px, the
   * preview's left at 191 px). */
  WAIT_UNTIL (side_by_side (list, GTK_WIDGET (preview), GTK_WIDGET (window)));
  assert_header_whole (fixture);
}

/* A spinner on a busy machine keeps a frame always due, and the main
 * loop is never idle: the window still sheds its header bar's buttons
 * when it folds, and a click on a row still opens the message. */
static void
test_fold_while_busy (Fixture       *fixture,
                      gconstpointer  data)
{
  const char *subject = "Busy news";
  GtkWidget *check;
  PopcheckMessage *message;
  guint busy;

  popcheck_test_demo_deliver (fixture->demo, fixture->user, "<busy@example.org>",
                              subject);
  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "check-now", NULL);
  WAIT_UNTIL (n_listed (fixture) == N_SAMPLES + 1 && mailbox_idle (fixture));
  message = listed (fixture, position_of_subject (fixture, subject));
  check = find_widget (GTK_WIDGET (fixture->window), is_named_button, "Check now", FALSE);
  g_assert_nonnull (check);
  WAIT_UNTIL (gtk_widget_get_visible (check));

  busy = popcheck_test_busy_frames_add (NULL);
  resize (fixture, 500);
  WAIT_UNTIL (popcheck_window_get_folded (fixture->window));
  WAIT_UNTIL (!gtk_widget_get_visible (check));

  click_widget (row_of_subject (fixture, subject), 1);
  WAIT_UNTIL (g_strcmp0 (popcheck_window_get_pane (fixture->window), "preview") == 0);
  g_assert_true (selected_message (fixture) == message);
  g_source_remove (busy);
}

/* Whether the overlay shows a toast with @text whose close button has
 * been given its name. */
static gboolean
toast_named (Fixture    *fixture,
             const char *text)
{
  GtkWidget *overlay = GTK_WIDGET (fixture->window->toast_overlay);
  GtkWidget *content = adw_toast_overlay_get_child (fixture->window->toast_overlay);

  for (GtkWidget *child = gtk_widget_get_first_child (overlay);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (child != content && find_visible_label (child, text))
      return find_widget (child, is_named_button, "Close the notice", TRUE) != NULL;

  return FALSE;
}

/* On a busy machine too, the toast shown after another is dismissed
 * gets the names libadwaita leaves out. */
static void
test_toast_names_while_busy (Fixture       *fixture,
                             gconstpointer  data)
{
  AdwToast *first = adw_toast_new ("First notice");
  AdwToast *second = adw_toast_new ("Second notice");
  guint busy;

  adw_toast_set_timeout (first, 0);
  adw_toast_set_timeout (second, 0);
  busy = popcheck_test_busy_frames_add (NULL);
  popcheck_window_add_toast (fixture->window, g_object_ref (first));
  popcheck_window_add_toast (fixture->window, g_object_ref (second));
  WAIT_UNTIL (toast_named (fixture, "First notice"));
  g_assert_false (find_visible_label (GTK_WIDGET (fixture->window), "Second notice"));

  popcheck_window_dismiss_toast (fixture->window, first);
  WAIT_UNTIL (toast_named (fixture, "Second notice"));
  g_source_remove (busy);
  g_object_unref (first);
  g_object_unref (second);
}

/* Waits for a frame to be drawn. */
static void
after_paint_cb (GdkFrameClock *clock,
                gboolean      *painted)
{
  *painted = TRUE;
}

static void
wait_for_frame (Fixture *fixture)
{
  GtkWidget *widget = GTK_WIDGET (fixture->window);
  GdkFrameClock *clock = gtk_widget_get_frame_clock (widget);
  gboolean painted = FALSE;
  gulong handler;

  handler = g_signal_connect (clock, "after-paint", G_CALLBACK (after_paint_cb), &painted);
  gtk_widget_queue_draw (widget);
  WAIT_UNTIL (painted);
  g_signal_handler_disconnect (clock, handler);
}

/* Everything GTK was asked to do is done: the window laid out, the X
 * server's answer to any resize that asked for handled, and laid out
 * again. */
static void
settle (Fixture *fixture)
{
  wait_for_frame (fixture);
  gdk_display_sync (gtk_widget_get_display (GTK_WIDGET (fixture->window)));
  for (guint i = 0; i < 100 && g_main_context_pending (NULL); i++)
    g_main_context_iteration (NULL, FALSE);
  wait_for_frame (fixture);
}

/* Asked for 360 pixels as by hand, through a width that folds the window
 * first: its header bar sheds buttons once folded. */
static void
narrow_to_360 (Fixture *fixture)
{
  GtkWidget *check;

  resize (fixture, 500);
  WAIT_UNTIL (popcheck_window_get_folded (fixture->window));
  check = find_widget (GTK_WIDGET (fixture->window), is_named_button, "Check now", FALSE);
  g_assert_nonnull (check);
  WAIT_UNTIL (!gtk_widget_get_visible (check));
  gtk_window_set_default_size (GTK_WINDOW (fixture->window), 360, 640);
  settle (fixture);
}

/* A preview at 360 pixels: everything fits the window, the words wrap
 * rather than widen it, none is squeezed into a narrow column, and the
 * buttons keep their height. */
static void
assert_preview_fits (Fixture *fixture)
{
  GtkWidget *preview = GTK_WIDGET (popcheck_window_get_preview (fixture->window));
  GtkWidget *child = gtk_window_get_child (GTK_WINDOW (fixture->window));
  g_autoptr(GPtrArray) labels = g_ptr_array_new ();
  g_autoptr(GPtrArray) buttons = g_ptr_array_new ();
  int min_width;

  gtk_widget_measure (child, GTK_ORIENTATION_HORIZONTAL, -1, &min_width, NULL, NULL, NULL);
  g_assert_cmpint (min_width, <=, 360);
  g_assert_cmpint (window_width (fixture), ==, 360);

  collect_descendants (preview, GTK_TYPE_LABEL, labels);
  for (guint i = 0; i < labels->len; i++)
    {
      GtkWidget *label = labels->pdata[i];

      if (!gtk_widget_get_mapped (label) || !gtk_label_get_wrap (GTK_LABEL (label)))
        continue;
      if (gtk_widget_get_width (label) < 200)
        g_error ("“%s” is squeezed into %d pixels",
                 gtk_label_get_text (GTK_LABEL (label)), gtk_widget_get_width (label));
    }

  collect_descendants (preview, GTK_TYPE_BUTTON, buttons);
  g_assert_cmpuint (buttons->len, >=, 2);
  for (guint i = 0; i < buttons->len; i++)
    {
      GtkWidget *button = buttons->pdata[i];
      graphene_rect_t bounds;
      int natural_height;

      if (!gtk_widget_get_mapped (button))
        continue;
      gtk_widget_measure (button, GTK_ORIENTATION_VERTICAL, -1,
                          NULL, &natural_height, NULL, NULL);
      if (gtk_widget_get_height (button) > 2 * natural_height)
        g_error ("“%s” is %d pixels tall, not about %d",
                 gtk_button_get_label (GTK_BUTTON (button)),
                 gtk_widget_get_height (button), natural_height);
      /* Whole on screen, not cut off by the bar it is in. */
      g_assert_true (gtk_widget_compute_bounds (button, preview, &bounds));
      if (bounds.origin.x < 0 || bounds.origin.y < 0 ||
          bounds.origin.x + bounds.size.width > gtk_widget_get_width (preview) ||
          bounds.origin.y + bounds.size.height > gtk_widget_get_height (preview) ||
          !gtk_widget_compute_bounds (button, gtk_widget_get_parent (button), &bounds) ||
          bounds.origin.y + bounds.size.height > gtk_widget_get_height (gtk_widget_get_parent (button)))
        g_error ("“%s” does not fit in the preview",
                 gtk_button_get_label (GTK_BUTTON (button)));
    }
}

/* The preview folded at 360 pixels, with a long subject, attachments, the
 * hint that more may follow and the status under the text: the window
 * stays 360 pixels wide, whether it was narrowed before or after the
 * preview showed a message. */
static void
test_narrow_preview (Fixture       *fixture,
                     gconstpointer  data)
{
  GtkWidget *preview = GTK_WIDGET (popcheck_window_get_preview (fixture->window));
  const char *subject = "Minutes of the Donaudampfschifffahrtsgesellschaft "
                        "meeting about the quarterly figures and the new office";
  const char *status = "The first 20 lines, without marking the message read";

  /* Narrowed first, then the message opened. */
  narrow_to_360 (fixture);
  g_assert_cmpint (window_width (fixture), ==, 360);
  deliver_two_files (fixture, subject);
  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "check-now", NULL);
  WAIT_UNTIL (n_listed (fixture) == N_SAMPLES + 1 && mailbox_idle (fixture));
  click_widget (row_of_subject (fixture, subject), 1);
  WAIT_UNTIL (g_strcmp0 (popcheck_window_get_pane (fixture->window), "preview") == 0);
  WAIT_UNTIL (gtk_widget_get_mapped (preview) &&
              find_visible_label (preview, subject) &&
              find_visible_label (preview, status) &&
              find_label_prefix (preview, "More attachments may follow") != NULL);
  settle (fixture);
  assert_preview_fits (fixture);

  /* Wide again, then narrowed with the message shown. */
  resize (fixture, 1000);
  WAIT_UNTIL (!popcheck_window_get_folded (fixture->window));
  narrow_to_360 (fixture);
  popcheck_window_show_preview (fixture->window);
  WAIT_UNTIL (g_strcmp0 (popcheck_window_get_pane (fixture->window), "preview") == 0 &&
              gtk_widget_get_mapped (preview));
  settle (fixture);
  assert_preview_fits (fixture);
}

/* A second account with the sample mail, checked and listed. */
static PopcheckAccount *
add_second_account (Fixture    *fixture,
                    const char *name)
{
  g_autofree char *user = g_ascii_strdown (name, -1);
  PopcheckAccount *account;
  PopcheckMailbox *mailbox;

  popcheck_test_demo_add_user (fixture->demo, user, "second-pw", FALSE);
  account = add_account (fixture, name, user, "second-pw");
  mailbox = popcheck_checker_get_mailbox (popcheck_application_get_checker (fixture->app),
                                          popcheck_account_get_id (account));
  WAIT_UNTIL (popcheck_mailbox_get_last_check (mailbox) != NULL &&
              n_listed (fixture) == 2 * N_SAMPLES);
  return account;
}

/* The list names the sender, with the address in a tooltip (or the
 * address alone, without a name); the account only when there are
 * several. */
static void
test_sender_name (Fixture       *fixture,
                  gconstpointer  data)
{
  const char *subject = "Café crème et crêpes à volonté";
  PopcheckAccount *second;
  GtkWidget *row;
  GtkInscription *name;

  row = row_of_subject (fixture, subject);
  name = find_inscription_prefix (row, "Renée Dupré");
  g_assert_nonnull (name);
  g_assert_cmpstr (gtk_inscription_get_text (name), ==, "Renée Dupré");
  g_assert_false (find_visible_label (row, "Renée Dupré <chef@bistro.example>"));
  g_assert_false (find_visible_label (row, "Demo"));

  /* The address is the name's tooltip.  (Asked for as GTK shows it: a
   * pointer moved onto the row by the test makes GTK 4.8 ask again from
   * where the pointer was, so the tooltip is asked for here.) */
  {
    g_autoptr(GtkTooltip) tooltip = g_object_new (GTK_TYPE_TOOLTIP, NULL);
    gboolean shown = FALSE;

    g_assert_true (gtk_widget_get_has_tooltip (GTK_WIDGET (name)));
    g_signal_emit_by_name (name, "query-tooltip", 1, 1, FALSE, tooltip, &shown);
    g_assert_true (shown);
  }

  /* No name: the address, and no tooltip that says it again. */
  {
    const char *top = "From: bare@example.org\r\nSubject: Bare\r\n\r\nText\r\n";
    g_autoptr(GBytes) bytes = g_bytes_new_static (top, strlen (top));
    g_autoptr(PopcheckMessage) bare = popcheck_message_new_from_top ("bare", 100, 1, bytes, 10);
    GtkWidget *bare_row = g_object_ref_sink (popcheck_message_row_new ());
    GtkInscription *address;
    gboolean shown = TRUE;

    popcheck_message_row_set_message (POPCHECK_MESSAGE_ROW (bare_row), bare);
    address = find_inscription_prefix (bare_row, "bare@");
    g_assert_nonnull (address);
    g_assert_cmpstr (gtk_inscription_get_text (address), ==, "bare@example.org");
    g_signal_emit_by_name (address, "query-tooltip", 1, 1, FALSE, NULL, &shown);
    g_assert_false (shown);
    g_object_unref (bare_row);
  }

  /* A second account: each row names its own. */
  second = add_second_account (fixture, "Second");
  WAIT_UNTIL (find_visible_label (GTK_WIDGET (popcheck_window_get_list_view (fixture->window)),
                                  "Second"));
  g_assert_true (find_visible_label (GTK_WIDGET (popcheck_window_get_list_view (fixture->window)),
                                     "Demo"));

  /* One again: the badge goes.  (The account leaves the list at once;
   * its password is removed later.) */
  popcheck_account_list_remove_async (popcheck_application_get_accounts (fixture->app),
                                      second, NULL, NULL, NULL);
  WAIT_UNTIL (n_listed (fixture) == N_SAMPLES);
  WAIT_UNTIL (!find_visible_label (GTK_WIDGET (popcheck_window_get_list_view (fixture->window)),
                                   "Demo"));
}

static GtkEditable *
search_entry (Fixture *fixture)
{
  return GTK_EDITABLE (find_widget_of_type (GTK_WIDGET (fixture->window),
                                            GTK_TYPE_SEARCH_ENTRY));
}

/* Text typed into the search entry, which has the focus, and Escape
 * there.  (Under Xvfb, keys sent through XTEST reach the window's
 * shortcuts but not the text of an entry, so the entry gets them as its
 * own key handling would give them.) */
static void
type_search (Fixture    *fixture,
             const char *text)
{
  GtkWidget *focus = gtk_window_get_focus (GTK_WINDOW (fixture->window));
  int position = -1;

  g_assert_nonnull (focus);
  g_assert_true (gtk_widget_is_ancestor (focus, GTK_WIDGET (search_entry (fixture))));
  position = strlen (gtk_editable_get_text (search_entry (fixture)));
  gtk_editable_insert_text (search_entry (fixture), text, -1, &position);
}

static void
escape_search (Fixture *fixture)
{
  GtkWidget *focus = gtk_window_get_focus (GTK_WINDOW (fixture->window));

  g_assert_nonnull (focus);
  g_assert_true (gtk_widget_is_ancestor (focus, GTK_WIDGET (search_entry (fixture))));
  g_signal_emit_by_name (search_entry (fixture), "stop-search");
}

/* Ctrl+F searches sender and subject, together with the account filter;
 * Escape lists everything again; a search that finds nothing says so. */
static void
test_search (Fixture       *fixture,
             gconstpointer  data)
{
  GtkWindow *window = GTK_WINDOW (fixture->window);
  GtkWidget *bar = find_widget_of_type (GTK_WIDGET (window), GTK_TYPE_SEARCH_BAR);
  PopcheckAccount *second;

  g_assert_nonnull (bar);
  g_assert_false (gtk_search_bar_get_search_mode (GTK_SEARCH_BAR (bar)));

  /* By the sender's name. */
  WAIT_UNTIL (has_focus (window));
  PRESS (window, XK_Control_L, XK_f);
  WAIT_UNTIL (gtk_search_bar_get_search_mode (GTK_SEARCH_BAR (bar)) &&
              GTK_IS_TEXT (gtk_window_get_focus (window)));
  type_search (fixture, "dupr");
  WAIT_UNTIL (n_listed (fixture) == 1);
  g_assert_cmpstr (popcheck_message_get_subject (listed (fixture, 0)), ==,
                   "Café crème et crêpes à volonté");

  /* Escape: every message again, and an empty search. */
  escape_search (fixture);
  WAIT_UNTIL (n_listed (fixture) == N_SAMPLES);
  WAIT_UNTIL (!gtk_search_bar_get_search_mode (GTK_SEARCH_BAR (bar)));
  g_assert_cmpstr (gtk_editable_get_text (search_entry (fixture)), ==, "");

  /* By the sender's address, and by the subject, whatever the case. */
  WAIT_UNTIL (has_focus (window));
  PRESS (window, XK_Control_L, XK_f);
  WAIT_UNTIL (GTK_IS_TEXT (gtk_window_get_focus (window)));
  type_search (fixture, "bistro.example");
  WAIT_UNTIL (n_listed (fixture) == 1);
  escape_search (fixture);
  WAIT_UNTIL (n_listed (fixture) == N_SAMPLES);
  WAIT_UNTIL (has_focus (window));
  PRESS (window, XK_Control_L, XK_f);
  WAIT_UNTIL (GTK_IS_TEXT (gtk_window_get_focus (window)));
  type_search (fixture, "abc123");
  WAIT_UNTIL (n_listed (fixture) == 1);
  g_assert_cmpstr (popcheck_message_get_subject (listed (fixture, 0)), ==,
                   "Your booking ABC123 is confirmed");
  g_assert_cmpstr (popcheck_window_get_list_page (fixture->window), ==, "list");

  /* Nothing found: said in words, not "No Mail". */
  type_search (fixture, "zz");
  WAIT_UNTIL (n_listed (fixture) == 0);
  g_assert_cmpstr (popcheck_window_get_list_page (fixture->window), ==, "no-matches");
  WAIT_UNTIL (find_visible_label (GTK_WIDGET (window), "No Matching Messages"));
  g_assert_true (find_visible_label (GTK_WIDGET (window),
                                     "No sender or subject contains “abc123zz”."));
  g_assert_false (gtk_widget_get_mapped (find_widget (GTK_WIDGET (window), shows_text,
                                                      "No Mail", FALSE)));
  escape_search (fixture);
  WAIT_UNTIL (n_listed (fixture) == N_SAMPLES);
  g_assert_cmpstr (popcheck_window_get_list_page (fixture->window), ==, "list");

  /* With a second account, the search and the account filter combine. */
  second = add_second_account (fixture, "Other");
  WAIT_UNTIL (has_focus (window));
  PRESS (window, XK_Control_L, XK_f);
  WAIT_UNTIL (GTK_IS_TEXT (gtk_window_get_focus (window)));
  type_search (fixture, "abc123");
  WAIT_UNTIL (n_listed (fixture) == 2);
  select_account (fixture, "Other");
  g_assert_cmpuint (n_listed (fixture), ==, 1);
  g_assert_cmpstr (popcheck_window_get_message_account_id (fixture->window, listed (fixture, 0)),
                   ==, popcheck_account_get_id (second));
  select_account (fixture, "All Accounts");
  g_assert_cmpuint (n_listed (fixture), ==, 2);
}

/* With no account: the welcome page; "Try the Demo Mailbox" starts the
 * demo server and shows its messages. */
static void
test_try_demo (Fixture       *fixture,
               gconstpointer  data)
{
  GListModel *accounts = G_LIST_MODEL (popcheck_application_get_accounts (fixture->app));
  g_autoptr(PopcheckAccount) demo_account = NULL;

  g_assert_cmpstr (popcheck_window_get_page (fixture->window), ==, "welcome");
  g_assert_true (find_visible_label (GTK_WIDGET (fixture->window), "_Add Account…"));
  g_assert_true (find_visible_label (GTK_WIDGET (fixture->window), "Try the Demo Mailbox"));

  gtk_widget_activate_action (GTK_WIDGET (fixture->window), "app.try-demo", NULL);
  WAIT_UNTIL (g_list_model_get_n_items (accounts) == 1 ||
              find_label_prefix (GTK_WIDGET (fixture->window),
                                 "The demo mailbox did not start") != NULL);
  g_assert_cmpuint (g_list_model_get_n_items (accounts), ==, 1);
  demo_account = g_list_model_get_item (accounts, 0);
  fixture->account = demo_account;
  WAIT_UNTIL (n_listed (fixture) == N_SAMPLES ||
              find_label_prefix (GTK_WIDGET (fixture->window),
                                 "The demo mailbox did not start") != NULL);
  g_assert_cmpuint (n_listed (fixture), ==, N_SAMPLES);
  g_assert_cmpstr (popcheck_window_get_page (fixture->window), ==, "messages");

  /* The application stops its demo server when it quits, which a test
   * cannot do without running it: run_isolated_full() stops it. */
}

/* --screenshot DIR: the window (wide, and 360 pixels wide with the list
 * and with a preview), the preview and the preferences over the demo
 * mailbox as PNG files, for a person to look at (tests/screenshots.sh). */
static void
save_widget (GtkWidget  *widget,
             const char *dir,
             const char *name)
{
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree char *path = g_build_filename (dir, name, NULL);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  GskRenderer *renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));

  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), width, height);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  g_assert_nonnull (node);
  texture = gsk_renderer_render_texture (renderer, node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_print ("%s\n", path);
}

static void
take_screenshots (const char *dir)
{
  Fixture fixture = { 0 };
  PopcheckWindow *window;
  GtkWindow *preferences = NULL;

  fixture_setup (&fixture, NULL);
  window = fixture.window;
  /* A phone's width: the list alone, then the preview over it.  (First,
   * and through a width that folds the window: folded, its header bar
   * sheds buttons and asks for less.) */
  resize (&fixture, 500);
  {
    gint64 deadline = popcheck_test_deadline (TIMEOUT_SECONDS * 1000);

    while (!popcheck_window_get_folded (window))
      if (!popcheck_test_iterate (deadline))
        g_error ("The window did not fold");
  }
  spin (500);
  resize (&fixture, 360);
  spin (1500);
  select_subject (&fixture, "Café crème et crêpes à volonté");
  spin (1500);
  save_widget (GTK_WIDGET (window), dir, "narrow-list.png");
  popcheck_window_show_preview (window);
  spin (1500);
  save_widget (GTK_WIDGET (window), dir, "narrow-preview.png");

  gtk_window_set_default_size (GTK_WINDOW (window), 1100, 700);
  spin (1500);
  save_widget (GTK_WIDGET (window), dir, "main-window.png");
  save_widget (GTK_WIDGET (popcheck_window_get_preview (window)), dir, "preview.png");

  g_action_group_activate_action (G_ACTION_GROUP (fixture.app), "preferences", NULL);
  spin (1500);
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (fixture.app)); l; l = l->next)
    if (l->data != (gpointer) window)
      preferences = l->data;
  g_assert_nonnull (preferences);
  save_widget (GTK_WIDGET (preferences), dir, "preferences.png");
  gtk_window_destroy (preferences);

  fixture_teardown (&fixture, NULL);
}

/* Microsoft and Google accounts: the editor signs in against
 * tests/oauth-provider.py on loopback, pointed at by the Google preset's
 * settings; the test plays the browser, following the address the
 * editor "opened". */

#define OAUTH_CLIENT_ID "popcheck-window-test"

static void
oauth_result_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

/* The user at the provider's page: it sends the browser back to the
 * editor's listener, which answers the page. */
static void
follow_sign_in (PopcheckTestOAuthProvider *provider)
{
  g_autoptr(PopcheckTestPage) authorize = NULL;
  g_autoptr(PopcheckTestPage) back = NULL;

  authorize = popcheck_test_oauth_fetch (provider, "GET",
                                         provider->opened_uri, NULL);
  g_assert_no_error (authorize->error);
  g_assert_cmpuint (authorize->status, ==, 302);
  g_assert_nonnull (authorize->location);
  back = popcheck_test_oauth_fetch (provider, "GET",
                                    authorize->location, NULL);
  g_assert_no_error (back->error);
  g_assert_cmpuint (back->status, ==, 200);
}

/* Starts the provider and points the Google preset at it, as a packager
 * (client ID) and the tests (endpoints) can through GSettings. */
static void
local_provider_start (PopcheckTestOAuthProvider *provider)
{
  g_autofree char *authorize = NULL;
  g_autofree char *token = NULL;
  g_autoptr(GSettings) google = NULL;

  popcheck_test_oauth_provider_start (provider, OAUTH_CLIENT_ID);
  authorize = popcheck_test_oauth_provider_uri (provider, "/authorize");
  token = popcheck_test_oauth_provider_uri (provider, "/token");
  google = g_settings_new_with_path ("org.example.PopCheck.OAuth2Provider",
                                     "/org/example/PopCheck/oauth2/google/");
  g_settings_set_string (google, "client-id", OAUTH_CLIENT_ID);
  g_settings_set_string (google, "authorization-endpoint", authorize);
  g_settings_set_string (google, "token-endpoint", token);
}

static gboolean
is_button_for (GtkWidget     *widget,
               gconstpointer  action)
{
  return GTK_IS_BUTTON (widget) &&
         g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (widget)), action) == 0;
}

static GtkWidget *
button_for (GtkWidget  *editor,
            const char *action)
{
  GtkWidget *button = find_widget (editor, is_button_for, action, FALSE);

  g_assert_nonnull (button);
  return button;
}

/* The port of the listener the sign-in waits on. */
static guint16
listener_port (PopcheckTestOAuthProvider *provider)
{
  g_autoptr(GUri) opened = g_uri_parse (provider->opened_uri, G_URI_FLAGS_NONE, NULL);
  g_autoptr(GHashTable) params = NULL;
  g_autoptr(GUri) redirect = NULL;

  g_assert_nonnull (opened);
  params = g_uri_parse_params (g_uri_get_query (opened), -1, "&",
                               G_URI_PARAMS_NONE, NULL);
  g_assert_nonnull (params);
  redirect = g_uri_parse (g_hash_table_lookup (params, "redirect_uri"),
                          G_URI_FLAGS_NONE, NULL);
  g_assert_nonnull (redirect);
  return g_uri_get_port (redirect);
}

static gboolean
listener_closed (guint16 port)
{
  Fixture fixture_data = { 0 };
  Fixture *fixture = &fixture_data;
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;

  g_socket_client_connect_to_host_async (client, "127.0.0.1", port, NULL,
                                         oauth_result_cb, &result);
  WAIT_UNTIL (result != NULL);
  connection = g_socket_client_connect_to_host_finish (client, result, &error);

  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
}

/* A new account's editor with Google chosen and the address typed. */
static GtkWidget *
google_editor (GtkWindow                 **window,
               PopcheckAccountList        *accounts,
               PopcheckTestOAuthProvider  *provider)
{
  GtkWidget *editor = standalone_editor (window, accounts);

  popcheck_account_editor_set_uri_launcher (POPCHECK_ACCOUNT_EDITOR (editor),
                                            popcheck_test_oauth_provider_open_uri,
                                            provider);
  adw_action_row_activate (ADW_ACTION_ROW (row_titled (editor, "Google")));
  gtk_editable_set_text (GTK_EDITABLE (row_titled (editor, "User Name or Email Address")),
                         "jane@example.org");

  return editor;
}

static void
stored_refresh_token_cb (GObject      *object,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  char **secret = user_data;

  *secret = popcheck_secret_lookup_finish (result, &error);
  g_assert_no_error (error);
}

/* Choose Google, type the address, Sign In, allow access in the browser:
 * the editor says who signed in, and Save keeps the account with its
 * provider and the refresh token in the keyring. */
static void
test_editor_oauth_sign_in (void)
{
  Fixture fixture_data = { 0 };
  Fixture *fixture = &fixture_data;
  g_autoptr(PopcheckAccountList) accounts = popcheck_account_list_new ();
  g_autoptr(PopcheckAccount) added = NULL;
  g_autofree char *provider_id = NULL;
  char *secret = NULL;
  PopcheckTestOAuthProvider provider = { 0 };
  GtkWidget *microsoft;
  GtkWindow *window;
  GtkWidget *editor;
  /* Accounts other tests in this process saved stay in the settings. */
  guint before = g_list_model_get_n_items (G_LIST_MODEL (accounts));

  local_provider_start (&provider);
  editor = standalone_editor (&window, accounts);

  /* A provider PopCheck cannot sign in with says why, greyed out. */
  microsoft = row_titled (editor, "Microsoft");
  if (POPCHECK_MICROSOFT_CLIENT_ID[0] == '\0')
    {
      g_assert_false (gtk_widget_get_sensitive (microsoft));
      g_assert_cmpstr (row_subtitle (editor, "Microsoft"), ==,
                       "This PopCheck cannot sign in with Microsoft: it was "
                       "built without a client ID for Microsoft. Whoever "
                       "built it can set one (the build option or the "
                       "client-id setting).");
    }
  g_assert_true (gtk_widget_get_sensitive (row_titled (editor, "Google")));
  g_assert_cmpstr (row_subtitle (editor, "Google"), ==,
                   "Signs in in your web browser");
  gtk_window_destroy (window);

  editor = google_editor (&window, accounts, &provider);
  /* The preset's server, and no password to type. */
  g_assert_cmpstr (row_text (editor, "Server Name"), ==, "pop.gmail.com");
  g_assert_cmpstr (row_text (editor, "Port"), ==, "995");
  g_assert_cmpuint (adw_combo_row_get_selected (ADW_COMBO_ROW (row_titled (editor, "Security"))),
                    ==, 1);
  g_assert_false (gtk_widget_get_visible (row_titled (editor, "Password")));

  /* Save before signing in says what is missing and saves nothing. */
  gtk_widget_activate_action (editor, "editor.save", NULL);
  g_assert_true (find_visible_label (editor, "Sign in first: the account is "
                                             "saved once you are signed in."));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (accounts)), ==, before);

  gtk_widget_activate_action (editor, "editor.sign-in", NULL);
  WAIT_UNTIL (provider.opened_uri != NULL);
  g_assert_true (find_visible_label (editor, "Waiting for you to sign in in "
                                             "your web browser…"));
  g_assert_true (gtk_widget_get_visible (button_for (editor, "editor.cancel-sign-in")));
  g_assert_true (gtk_widget_get_visible (find_widget_of_type (row_titled (editor, "Sign In With Your Browser"), GTK_TYPE_SPINNER)));

  follow_sign_in (&provider);
  WAIT_UNTIL (find_visible_label (editor, "Signed in as jane@example.org"));
  g_assert_false (gtk_widget_get_visible (button_for (editor, "editor.cancel-sign-in")));

  gtk_widget_activate_action (editor, "editor.save", NULL);
  WAIT_UNTIL (g_list_model_get_n_items (G_LIST_MODEL (accounts)) == before + 1);
  added = g_list_model_get_item (G_LIST_MODEL (accounts), before);
  WAIT_UNTIL ((provider_id = popcheck_account_dup_oauth2_provider (added)) != NULL);
  g_assert_cmpstr (provider_id, ==, "google");
  g_assert_cmpstr (popcheck_account_get_user (added), ==, "jane@example.org");
  g_assert_cmpstr (popcheck_account_get_host (added), ==, "pop.gmail.com");
  g_assert_cmpuint (popcheck_account_get_port (added), ==, 995);
  g_assert_cmpint (popcheck_account_get_security (added), ==, POP3_SECURITY_TLS);
  g_assert_cmpint (popcheck_account_get_auth_method (added), ==, POP3_AUTH_XOAUTH2);

  /* The refresh token the provider issued is in the keyring, as the
   * account's sign-in. */
  popcheck_secret_lookup_async (popcheck_account_get_id (added),
                                POPCHECK_SECRET_KIND_OAUTH2_REFRESH_TOKEN,
                                "pop.gmail.com", 995, "jane@example.org",
                                NULL, stored_refresh_token_cb, &secret);
  WAIT_UNTIL (secret != NULL);
  g_assert_true (g_str_has_prefix (secret, "rt-"));
  /* Kept in the keyring's own memory, wiped when freed. */
  secret_password_free (secret);

  gtk_window_destroy (window);
  popcheck_test_oauth_provider_stop (&provider);
}

/* The user refuses access at the provider: the editor says so in words
 * beside the button, and nothing can be saved. */
static void
test_editor_oauth_denied (void)
{
  Fixture fixture_data = { 0 };
  Fixture *fixture = &fixture_data;
  g_autoptr(PopcheckAccountList) accounts = popcheck_account_list_new ();
  g_autofree char *control = NULL;
  g_autoptr(PopcheckTestPage) denying = NULL;
  PopcheckTestOAuthProvider provider = { 0 };
  GtkWindow *window;
  GtkWidget *editor;
  guint before = g_list_model_get_n_items (G_LIST_MODEL (accounts));

  local_provider_start (&provider);
  control = popcheck_test_oauth_provider_uri (&provider, "/control");
  denying = popcheck_test_oauth_fetch (&provider, "POST", control,
                                       "authorize=deny");
  g_assert_no_error (denying->error);
  g_assert_cmpuint (denying->status, ==, 200);
  editor = google_editor (&window, accounts, &provider);

  gtk_widget_activate_action (editor, "editor.sign-in", NULL);
  WAIT_UNTIL (provider.opened_uri != NULL);
  follow_sign_in (&provider);
  WAIT_UNTIL (find_visible_label (editor, "Access to the mailbox was not allowed."));
  g_assert_true (gtk_widget_get_visible (button_for (editor, "editor.sign-in")));

  gtk_widget_activate_action (editor, "editor.save", NULL);
  g_assert_true (find_visible_label (editor, "Sign in first: the account is "
                                             "saved once you are signed in."));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (accounts)), ==, before);

  gtk_window_destroy (window);
  popcheck_test_oauth_provider_stop (&provider);
}

/* Before any sign-in, a new account has no token to test the connection
 * with: the editor says so and connects nowhere. */
static void
test_editor_oauth_test_needs_sign_in (void)
{
  g_autoptr(PopcheckAccountList) accounts = popcheck_account_list_new ();
  PopcheckTestOAuthProvider provider = { 0 };
  GtkWindow *window;
  GtkWidget *editor;

  local_provider_start (&provider);
  editor = google_editor (&window, accounts, &provider);

  g_assert_true (gtk_widget_get_visible (row_titled (editor, "Test Connection")));
  gtk_widget_activate_action (editor, "editor.test", NULL);
  g_assert_false (popcheck_account_editor_get_busy (POPCHECK_ACCOUNT_EDITOR (editor)));
  g_assert_true (find_visible_label (editor, "Not tested: sign in first, then "
                                             "test the connection with that "
                                             "sign-in."));

  gtk_window_destroy (window);
  popcheck_test_oauth_provider_stop (&provider);
}

/* Cancel during the sign-in returns the editor to where it was and
 * closes the listener; so does leaving the editor. */
static void
test_editor_oauth_cancel (void)
{
  Fixture fixture_data = { 0 };
  Fixture *fixture = &fixture_data;
  g_autoptr(PopcheckAccountList) accounts = popcheck_account_list_new ();
  PopcheckTestOAuthProvider provider = { 0 };
  GtkWindow *window;
  GtkWidget *editor;
  guint16 port;

  local_provider_start (&provider);
  editor = google_editor (&window, accounts, &provider);

  gtk_widget_activate_action (editor, "editor.sign-in", NULL);
  WAIT_UNTIL (provider.opened_uri != NULL);
  port = listener_port (&provider);
  g_assert_false (listener_closed (port));
  gtk_widget_activate_action (editor, "editor.cancel-sign-in", NULL);
  g_assert_true (find_visible_label (editor, "The sign-in was cancelled."));
  g_assert_true (gtk_widget_get_visible (button_for (editor, "editor.sign-in")));
  g_assert_false (gtk_widget_get_visible (button_for (editor, "editor.cancel-sign-in")));
  g_assert_false (gtk_widget_get_visible (find_widget_of_type (row_titled (editor, "Sign In With Your Browser"), GTK_TYPE_SPINNER)));
  WAIT_UNTIL (listener_closed (port));

  /* Signing in again works from there. */
  g_clear_pointer (&provider.opened_uri, g_free);
  gtk_widget_activate_action (editor, "editor.sign-in", NULL);
  WAIT_UNTIL (provider.opened_uri != NULL);
  port = listener_port (&provider);
  g_assert_false (listener_closed (port));

  /* Leaving the editor stops it too. */
  gtk_window_destroy (window);
  WAIT_UNTIL (listener_closed (port));

  popcheck_test_oauth_provider_stop (&provider);
}

static gboolean
is_button_labelled (GtkWidget     *widget,
                    gconstpointer  label)
{
  return GTK_IS_BUTTON (widget) &&
         g_strcmp0 (gtk_button_get_label (GTK_BUTTON (widget)), label) == 0;
}

static void
signed_in_stored_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (popcheck_oauth_account_store_sign_in_finish (POPCHECK_ACCOUNT (object),
                                                              result, &error));
  g_assert_no_error (error);
  *(gboolean *) user_data = TRUE;
}

/* A Google account on the demo server (which asks the local provider
 * about its tokens), signed in as the tests' browser allows. */
static PopcheckAccount *
add_google_account (Fixture                   *fixture,
                    PopcheckTestOAuthProvider *provider)
{
  PopcheckAccountList *accounts = popcheck_application_get_accounts (fixture->app);
  g_autoptr(PopcheckOAuthProvider) google = NULL;
  g_autoptr(PopcheckOAuthClient) client = NULL;
  g_autoptr(PopcheckOAuthToken) token = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  PopcheckAccount *account;
  gboolean stored = FALSE;

  google = popcheck_oauth_provider_new_preset ("google", &error);
  g_assert_no_error (error);
  client = popcheck_oauth_client_new (google);
  popcheck_oauth_client_set_uri_launcher (client, popcheck_test_oauth_provider_open_uri,
                                          provider, NULL);
  popcheck_oauth_client_sign_in_async (client, fixture->user, NULL, oauth_result_cb, &result);
  WAIT_UNTIL (provider->opened_uri != NULL);
  follow_sign_in (provider);
  WAIT_UNTIL (result != NULL);
  token = popcheck_oauth_client_sign_in_finish (client, result, &error);
  g_assert_no_error (error);
  g_clear_pointer (&provider->opened_uri, g_free);

  account = popcheck_account_list_add (accounts, "Mail", &error);
  g_assert_no_error (error);
  popcheck_oauth_account_store_sign_in_async (account, "google", fixture->demo->host,
                                              fixture->demo->pop3s_port, fixture->user,
                                              token->refresh_token, NULL,
                                              signed_in_stored_cb, &stored);
  WAIT_UNTIL (stored);
  popcheck_account_set_auth_method (account, POP3_AUTH_XOAUTH2);
  popcheck_account_set_security (account, POP3_SECURITY_TLS);
  popcheck_account_set_port (account, fixture->demo->pop3s_port);
  popcheck_account_set_pinned_fingerprint (account, fixture->demo->fingerprint);
  popcheck_account_set_user (account, fixture->user);
  popcheck_account_set_host (account, fixture->demo->host);
  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "check-now", NULL);

  return account;
}

static void
count_problems_cb (PopcheckChecker *checker,
                   PopcheckMailbox *mailbox,
                   guint           *n_problems)
{
  (*n_problems)++;
}

static void
count_errors_cb (PopcheckMailbox *mailbox,
                 GParamSpec      *pspec,
                 guint           *n_errors)
{
  if (popcheck_mailbox_get_state (mailbox) == POPCHECK_MAILBOX_STATE_ERROR)
    (*n_errors)++;
}

/* The provider revokes the account's sign-in: the window says to sign in
 * again, with a button that does; the new sign-in is stored and the
 * account checked again. */
static void
test_sign_in_again (Fixture       *fixture,
                    gconstpointer  data)
{
  PopcheckTestOAuthProvider *provider = (PopcheckTestOAuthProvider *) data;
  PopcheckChecker *checker = popcheck_application_get_checker (fixture->app);
  g_autofree char *control = popcheck_test_oauth_provider_uri (provider, "/control");
  g_autoptr(PopcheckTestPage) revoked = NULL;
  g_autofree char *words = NULL;
  g_autofree char *failing = NULL;
  GtkWindow *preferences;
  PopcheckMailbox *mailbox;
  GtkWidget *button;
  GtkWidget *editor;
  guint n_problems = 0;
  guint n_errors = 0;

  fixture->account = add_google_account (fixture, provider);
  mailbox = popcheck_checker_get_mailbox (checker, popcheck_account_get_id (fixture->account));
  WAIT_UNTIL (mailbox_idle (fixture));
  WAIT_UNTIL (n_listed (fixture) == N_SAMPLES);

  revoked = popcheck_test_oauth_fetch (provider, "POST", control, "revoke=1");
  g_assert_no_error (revoked->error);
  g_signal_connect (checker, "problem", G_CALLBACK (count_problems_cb), &n_problems);
  g_signal_connect (mailbox, "notify::state", G_CALLBACK (count_errors_cb), &n_errors);
  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "check-now", NULL);
  WAIT_UNTIL (n_errors == 1);
  g_assert_cmpint (popcheck_mailbox_get_problem (mailbox), ==, POPCHECK_PROBLEM_SIGN_IN);
  /* Reported once (one notification): another check that fails the same
   * way says nothing new. */
  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "check-now", NULL);
  WAIT_UNTIL (n_errors == 2);
  g_assert_cmpuint (n_problems, ==, 1);
  g_signal_handlers_disconnect_by_data (checker, &n_problems);
  g_signal_handlers_disconnect_by_data (mailbox, &n_errors);

  /* Not a password to fix: a sign-in to make again, said in words. */
  words = g_strdup_printf ("Google no longer accepts PopCheck’s sign-in for %s. "
                           "Sign in again to keep checking.", fixture->user);
  g_assert_cmpstr (popcheck_mailbox_get_error_message (mailbox), ==, words);
  WAIT_UNTIL (find_visible_label (GTK_WIDGET (fixture->window), words));
  g_assert_false (find_visible_label (GTK_WIDGET (fixture->window), "Fix _Password…"));
  button = find_widget (GTK_WIDGET (fixture->window), is_button_labelled,
                        "Sign _In Again…", TRUE);
  g_assert_nonnull (button);

  /* The preferences' account row says so too. */
  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "preferences", NULL);
  WAIT_UNTIL ((preferences = find_toplevel (POPCHECK_TYPE_PREFERENCES_WINDOW)) != NULL);
  popcheck_preferences_window_set_uri_launcher (POPCHECK_PREFERENCES_WINDOW (preferences),
                                                popcheck_test_oauth_provider_open_uri,
                                                provider);
  failing = g_strdup_printf ("%s@%s, port %u\nFailing: %s", fixture->user,
                             fixture->demo->host, fixture->demo->pop3s_port, words);
  WAIT_UNTIL (g_strcmp0 (row_subtitle (GTK_WIDGET (preferences), "Mail"), failing) == 0);

  /* The button: the account's editor, its browser sign-in under way. */
  gtk_widget_activate (button);
  WAIT_UNTIL ((editor = find_widget_of_type (GTK_WIDGET (preferences),
                                             POPCHECK_TYPE_ACCOUNT_EDITOR)) != NULL);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (row_titled (editor, "Name"))), ==,
                   "Mail");
  WAIT_UNTIL (provider->opened_uri != NULL);
  g_assert_true (find_visible_label (editor, "Waiting for you to sign in in "
                                             "your web browser…"));
  g_assert_true (gtk_widget_get_visible (button_for (editor, "editor.cancel-sign-in")));

  /* Signed in: stored, checked, and the banner goes. */
  follow_sign_in (provider);
  WAIT_UNTIL (popcheck_mailbox_get_state (mailbox) == POPCHECK_MAILBOX_STATE_IDLE &&
              popcheck_mailbox_get_problem (mailbox) == POPCHECK_PROBLEM_NONE);
  g_assert_null (popcheck_mailbox_get_error_message (mailbox));
  WAIT_UNTIL (!find_visible_label (GTK_WIDGET (fixture->window), words));
  g_assert_null (find_widget (GTK_WIDGET (fixture->window), is_button_labelled,
                              "Sign _In Again…", TRUE));
  g_assert_cmpuint (n_listed (fixture), ==, N_SAMPLES);
  gtk_window_destroy (preferences);
}

/* An OAuth2 account's Test Connection logs in to Dovecot with a fresh
 * access token: the stored sign-in's, or the one just made; a token the
 * server refuses is said in words. */
static void
test_editor_oauth_test_connection (Fixture       *fixture,
                                   gconstpointer  data)
{
  PopcheckTestOAuthProvider *provider = (PopcheckTestOAuthProvider *) data;
  g_autofree char *control = popcheck_test_oauth_provider_uri (provider, "/control");
  g_autoptr(PopcheckTestPage) dead = NULL;
  g_autofree char *signed_in = NULL;
  GtkWindow *preferences;
  GtkWidget *editor;
  GtkLabel *result;

  fixture->account = add_google_account (fixture, provider);
  WAIT_UNTIL (mailbox_idle (fixture));
  signed_in = g_strdup_printf (", signed in as %s.", fixture->user);

  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "preferences", NULL);
  WAIT_UNTIL ((preferences = find_toplevel (POPCHECK_TYPE_PREFERENCES_WINDOW)) != NULL);
  popcheck_preferences_window_set_uri_launcher (POPCHECK_PREFERENCES_WINDOW (preferences),
                                                popcheck_test_oauth_provider_open_uri,
                                                provider);
  popcheck_preferences_window_edit_account (POPCHECK_PREFERENCES_WINDOW (preferences),
                                            popcheck_account_get_id (fixture->account));
  WAIT_UNTIL ((editor = find_widget_of_type (GTK_WIDGET (preferences),
                                             POPCHECK_TYPE_ACCOUNT_EDITOR)) != NULL);

  /* The stored sign-in. */
  g_assert_true (gtk_widget_get_visible (row_titled (editor, "Test Connection")));
  gtk_widget_activate_action (editor, "editor.test", NULL);
  g_assert_true (popcheck_account_editor_get_busy (POPCHECK_ACCOUNT_EDITOR (editor)));
  WAIT_UNTIL (!popcheck_account_editor_get_busy (POPCHECK_ACCOUNT_EDITOR (editor)));
  result = find_label_prefix (editor, "Connected securely with TLS");
  g_assert_nonnull (result);
  g_assert_true (g_str_has_suffix (gtk_label_get_text (result), signed_in));

  /* The provider hands out a token the server does not take. */
  dead = popcheck_test_oauth_fetch (provider, "POST", control, "dead_next=1");
  g_assert_no_error (dead->error);
  gtk_widget_activate_action (editor, "editor.test", NULL);
  WAIT_UNTIL (!popcheck_account_editor_get_busy (POPCHECK_ACCOUNT_EDITOR (editor)));
  g_assert_nonnull (find_label_prefix (editor, "The server refused the access token; it "
                                               "may have expired or been revoked."));
  g_assert_null (find_label_prefix (editor, "Connected securely"));

  /* A sign-in made in the editor: its own token. */
  gtk_widget_activate_action (editor, "editor.sign-in", NULL);
  WAIT_UNTIL (provider->opened_uri != NULL);
  follow_sign_in (provider);
  {
    g_autofree char *who = g_strdup_printf ("Signed in as %s", fixture->user);

    WAIT_UNTIL (find_visible_label (editor, who));
  }
  gtk_widget_activate_action (editor, "editor.test", NULL);
  WAIT_UNTIL (!popcheck_account_editor_get_busy (POPCHECK_ACCOUNT_EDITOR (editor)));
  result = find_label_prefix (editor, "Connected securely with TLS");
  g_assert_nonnull (result);
  g_assert_true (g_str_has_suffix (gtk_label_get_text (result), signed_in));
  gtk_window_destroy (preferences);
}

/* Stops every demo server still running under root, then removes it. */
static void
stop_servers_under (const char *root)
{
  g_autoptr(GDir) dir = g_dir_open (root, 0, NULL);
  const char *script = g_getenv ("POPCHECK_DEMO_SERVER");
  const char *name;

  while (dir != NULL && script != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (root, name, NULL);
      g_autofree char *env = g_build_filename (path, "env.sh", NULL);
      const char *argv[] = { script, "stop", "--dir", path, NULL };

      /* Whatever it says: most have been stopped already. */
      if (g_file_test (env, G_FILE_TEST_EXISTS))
        g_spawn_sync (NULL, (char **) argv, NULL,
                      G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                      NULL, NULL, NULL, NULL, NULL, NULL);
    }

  {
    const char *argv[] = { "rm", "-rf", root, NULL };

    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH,
                  NULL, NULL, NULL, NULL, NULL, NULL);
  }
}

typedef void (*FixtureTest) (Fixture *fixture, gconstpointer data);

static void run_isolated (gconstpointer data);

/* Each test runs in its own process: an application exports itself on the
 * bus under its id once per process, and every test wants a fresh one. */
static void
run_isolated_full (FixtureTest test,
                   gboolean    bare,
                   gboolean    oauth)
{
  if (g_test_subprocess ())
    {
      Fixture fixture = { 0 };
      PopcheckTestOAuthProvider provider = { 0 };

      /* The provider first: Dovecot asks it about every token. */
      if (oauth)
        {
          local_provider_start (&provider);
          fixture.introspect_url =
            popcheck_test_oauth_provider_uri (&provider, "/introspect");
        }
      fixture_setup_full (&fixture, bare);
      if (oauth)
        {
          g_autofree char *control =
            popcheck_test_oauth_provider_uri (&provider, "/control");
          g_autofree char *form = g_strdup_printf ("email=%s", fixture.user);
          g_autoptr(PopcheckTestPage) named =
            popcheck_test_oauth_fetch (&provider, "POST", control, form);

          g_assert_no_error (named->error);
          g_assert_cmpuint (named->status, ==, 200);
        }
      test (&fixture, &provider);
      fixture_teardown (&fixture, NULL);
      if (oauth)
        popcheck_test_oauth_provider_stop (&provider);
      return;
    }

  {
    g_autoptr(GError) error = NULL;
    g_autofree char *root = g_dir_make_tmp ("popcheck-window-XXXXXX", &error);
    g_autofree char *tmpdir = g_strdup (g_getenv ("TMPDIR"));

    /* The test's Dovecot servers (its own and the application's demo)
     * live under root, so that those a failed test leaves running are
     * found and stopped.  Readable by all: Dovecot's mail user reads the
     * Maildirs. */
    g_assert_no_error (error);
    g_chmod (root, 0755);
    g_setenv ("TMPDIR", root, TRUE);
    g_test_trap_subprocess (NULL, 240 * G_USEC_PER_SEC,
                            G_TEST_SUBPROCESS_INHERIT_STDOUT |
                            G_TEST_SUBPROCESS_INHERIT_STDERR);
    if (tmpdir != NULL)
      g_setenv ("TMPDIR", tmpdir, TRUE);
    else
      g_unsetenv ("TMPDIR");
    stop_servers_under (root);
  }
  g_test_trap_assert_passed ();
}

static void
run_isolated (gconstpointer data)
{
  run_isolated_full ((FixtureTest) data, FALSE, FALSE);
}

static void
run_isolated_bare (gconstpointer data)
{
  run_isolated_full ((FixtureTest) data, TRUE, FALSE);
}

/* Bare, with the local provider, and a Dovecot that takes its tokens. */
static void
run_isolated_oauth (gconstpointer data)
{
  run_isolated_full ((FixtureTest) data, TRUE, TRUE);
}

/* A test of the editor alone, in this process: it needs no application. */
static void
run_in_process (gconstpointer data)
{
  ((GTestFunc) data) ();
}

static gboolean
online_group_shown (GtkWindow *preferences)
{
  return find_visible_label (GTK_WIDGET (preferences), "From Online Accounts");
}

/* Preferences: a Google account of Online Accounts (tests/goa-template.py
 * on the test's bus) is listed apart, under "From Online Accounts", with
 * a switch to check it and a button to Settings, and never opens the
 * editor; the heading is not there without such an account, even when
 * Online Accounts has others. */
static void
test_preferences_online_accounts (void)
{
  Fixture fixture_data = { 0 };
  Fixture *fixture = &fixture_data;
  g_autoptr(GDBusConnection) connection = popcheck_test_connect ();
  g_autoptr(GSubprocess) goa = popcheck_test_goa_start (connection);
  g_autoptr(PopcheckAccountList) accounts = popcheck_account_list_new ();
  g_autoptr(PopcheckGoaAccounts) online = popcheck_goa_accounts_new ();
  g_autoptr(GSettings) settings = g_settings_new ("org.example.PopCheck");
  g_auto(GStrv) checked = NULL;
  g_autoptr(GError) error = NULL;
  GtkWindow *preferences;
  GtkWidget *row;
  GtkWidget *toggle;
  GtkWidget *button;
  PopcheckAccount *account;

  popcheck_account_list_set_external (accounts, G_LIST_MODEL (online));
  preferences = popcheck_preferences_window_new (NULL, accounts);
  gtk_window_present (preferences);

  popcheck_test_goa_call (connection, "AddAccount",
                          g_variant_new ("(ssss)", "exchange", "exchange", "reader",
                                         "reader@example.com"));
  g_assert_false (online_group_shown (preferences));

  popcheck_test_goa_call (connection, "AddAccount",
                          g_variant_new ("(ssss)", "google", "google", "reader",
                                         "reader@gmail.com"));
  WAIT_UNTIL (online_group_shown (preferences));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (accounts)), ==, 1);
  account = popcheck_account_list_lookup (accounts, "goa_google");
  g_assert_nonnull (account);

  row = find_widget (GTK_WIDGET (preferences), is_row_titled,
                     "reader@gmail.com", TRUE);
  g_assert_nonnull (row);
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), ==,
                   "Check this account");
  g_assert_null (find_widget (GTK_WIDGET (preferences), is_row_titled,
                              "reader@example.com", FALSE));
  /* PopCheck's own list still has none. */
  g_assert_true (find_visible_label (GTK_WIDGET (preferences),
                                     "No accounts yet. Add one to start "
                                     "checking mail."));

  /* The switch is off, and turns checking on. */
  toggle = find_widget_of_type (row, GTK_TYPE_SWITCH);
  g_assert_nonnull (toggle);
  g_assert_false (gtk_switch_get_active (GTK_SWITCH (toggle)));
  gtk_switch_set_active (GTK_SWITCH (toggle), TRUE);
  g_assert_true (popcheck_account_get_enabled (account));
  checked = g_settings_get_strv (settings, "online-accounts");
  g_assert_cmpstrv (checked, ((const char *[]) { "google", NULL }));

  button = find_widget (row, shows_text, "Open _Settings", TRUE);
  g_assert_nonnull (button);
  g_assert_cmpstr (gtk_actionable_get_action_name (GTK_ACTIONABLE (button)), ==,
                   "prefs.open-online-accounts");
  g_assert_cmpstr (g_variant_get_string (gtk_actionable_get_action_target_value (GTK_ACTIONABLE (button)),
                                         NULL), ==, "goa_google");

  /* Editing it shows the row, never the editor. */
  popcheck_preferences_window_edit_account (POPCHECK_PREFERENCES_WINDOW (preferences),
                                            "goa_google");
  g_assert_null (find_widget_of_type (GTK_WIDGET (preferences),
                                      POPCHECK_TYPE_ACCOUNT_EDITOR));

  /* Removed in Online Accounts: the heading goes with it. */
  popcheck_test_goa_call (connection, "RemoveAccount", g_variant_new ("(s)", "google"));
  WAIT_UNTIL (!online_group_shown (preferences));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (accounts)), ==, 0);

  popcheck_test_goa_call (connection, "RemoveAccount", g_variant_new ("(s)", "exchange"));
  g_settings_reset (settings, "online-accounts");
  gtk_window_destroy (preferences);
  g_subprocess_send_signal (goa, SIGTERM);
  g_subprocess_wait (goa, NULL, &error);
  g_assert_no_error (error);
  popcheck_test_wait_for_owner (connection, "org.gnome.OnlineAccounts", FALSE);
}

/* An account of Online Accounts to sign in to again: PopCheck cannot do
 * it itself, so the banner's button says where it leads, Settings, and
 * opens Settings → Online Accounts at the account; the preferences' row
 * of the account says it is failing, and why. */
static void
test_online_sign_in_again (Fixture       *fixture,
                           gconstpointer  data)
{
  const char *words = "Online Accounts needs you to sign in to this account "
                      "again. Open Settings → Online Accounts.";
  g_autoptr(GDBusConnection) connection = popcheck_test_connect ();
  g_autoptr(GDBusConnection) session = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, NULL);
  g_autoptr(GSubprocess) goa = popcheck_test_goa_start (connection);
  PopcheckAccountList *accounts = popcheck_application_get_accounts (fixture->app);
  PopcheckChecker *checker = popcheck_application_get_checker (fixture->app);
  g_autofree char *bin = g_dir_make_tmp ("popcheck-settings-XXXXXX", NULL);
  g_autofree char *old_path = g_strdup (g_getenv ("PATH"));
  g_autofree char *path = NULL;
  g_autofree char *failing = g_strconcat ("Check this account\nFailing: ", words, NULL);
  g_autofree char *ran = NULL;
  g_autoptr(GError) error = NULL;
  PopcheckAccount *account;
  PopcheckMailbox *mailbox;
  GtkWindow *preferences;
  GtkWidget *button;

  /* Settings asks for a new sign-in before PopCheck checks it: the
   * barrier lets the application's Online Accounts hear of both. */
  popcheck_test_goa_call (connection, "AddAccount",
                          g_variant_new ("(ssss)", "google", "google", "reader",
                                         "reader@gmail.com"));
  popcheck_test_goa_call (connection, "SetAttentionNeeded",
                          g_variant_new ("(sb)", "google", TRUE));
  popcheck_test_bus_barrier (session);
  WAIT_UNTIL ((account = popcheck_account_list_lookup (accounts, "goa_google")) != NULL);
  mailbox = popcheck_checker_get_mailbox (checker, "goa_google");
  popcheck_account_set_enabled (account, TRUE);
  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "check-account",
                                  g_variant_new_string ("goa_google"));
  WAIT_UNTIL (popcheck_mailbox_get_state (mailbox) == POPCHECK_MAILBOX_STATE_ERROR);
  g_assert_cmpint (popcheck_mailbox_get_problem (mailbox), ==, POPCHECK_PROBLEM_SIGN_IN);
  g_assert_cmpstr (popcheck_mailbox_get_error_message (mailbox), ==, words);

  /* The banner: the words, and Settings on the button. */
  WAIT_UNTIL (find_visible_label (GTK_WIDGET (fixture->window), words));
  button = find_widget (GTK_WIDGET (fixture->window), is_button_labelled,
                        "Open _Settings…", TRUE);
  g_assert_nonnull (button);
  g_assert_cmpstr (gtk_actionable_get_action_name (GTK_ACTIONABLE (button)), ==,
                   "app.sign-in-again");
  g_assert_null (find_widget (GTK_WIDGET (fixture->window), is_button_labelled,
                              "Sign _In Again…", TRUE));

  /* The button (it clicks once it has shown itself pressed): Settings,
   * at the account. */
  popcheck_test_fake_settings_write (bin);
  path = g_strconcat (bin, G_SEARCHPATH_SEPARATOR_S, old_path, NULL);
  g_setenv ("PATH", path, TRUE);
  gtk_widget_activate (button);
  ran = popcheck_test_fake_settings_wait (bin);
  g_setenv ("PATH", old_path, TRUE);
  g_assert_cmpstr (ran, ==, "online-accounts google\n");

  /* On the way, the preferences opened; the account's row says it fails. */
  WAIT_UNTIL ((preferences = find_toplevel (POPCHECK_TYPE_PREFERENCES_WINDOW)) != NULL);
  WAIT_UNTIL (g_strcmp0 (row_subtitle (GTK_WIDGET (preferences), "reader@gmail.com"),
                         failing) == 0);
  g_assert_cmpstr (adw_action_row_get_icon_name (ADW_ACTION_ROW (row_titled (GTK_WIDGET (preferences),
                                                                             "reader@gmail.com"))),
                   ==, "dialog-error-symbolic");

  /* Turned off: no longer failing, and its icon says it is off (its
   * switch says the rest). */
  popcheck_account_set_enabled (account, FALSE);
  WAIT_UNTIL (g_strcmp0 (row_subtitle (GTK_WIDGET (preferences), "reader@gmail.com"),
                         "Check this account") == 0);
  g_assert_cmpstr (adw_action_row_get_icon_name (ADW_ACTION_ROW (row_titled (GTK_WIDGET (preferences),
                                                                             "reader@gmail.com"))),
                   ==, "media-playback-pause-symbolic");

  gtk_window_destroy (preferences);
  popcheck_test_fake_settings_remove (bin);
  g_subprocess_send_signal (goa, SIGTERM);
  g_subprocess_wait (goa, NULL, &error);
  g_assert_no_error (error);
  popcheck_test_wait_for_owner (connection, "org.gnome.OnlineAccounts", FALSE);
}

/* meson runs these tests in shards, each its own test with its own timeout
 * (POPCHECK_TEST_SHARD="I/N"): a test belongs to shard I when its place in
 * the list, modulo N, is I.  Without the variable, all run. */
static guint shard_index = 0;
static guint shard_count = 1;

static void
parse_shard (void)
{
  const char *shard = g_getenv ("POPCHECK_TEST_SHARD");

  if (shard == NULL)
    return;
  if (sscanf (shard, "%u/%u", &shard_index, &shard_count) != 2
      || shard_count == 0 || shard_index >= shard_count)
    g_error ("POPCHECK_TEST_SHARD must be I/N with I < N, not “%s”", shard);
}

static void
add_test (const char    *path,
          gconstpointer  test,
          GTestDataFunc  run)
{
  static guint n_added = 0;

  if (n_added++ % shard_count == shard_index)
    g_test_add_data_func (path, test, run);
}

int
main (int   argc,
      char *argv[])
{
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  if (argc == 3 && g_str_equal (argv[1], "--screenshot"))
    {
      take_screenshots (argv[2]);
      return EXIT_SUCCESS;
    }

  parse_shard ();
  if (shard_index == 0)
    g_test_add_func ("/window/relative-dates", test_relative_dates);
  add_test ("/window/list-decoded", test_list_decoded, run_isolated);
  add_test ("/window/preview-leaves-unseen", test_preview_leaves_unseen,
            run_isolated);
  add_test ("/window/delete-undo", test_delete_undo, run_isolated);
  add_test ("/window/delete", test_delete_for_real, run_isolated);
  add_test ("/window/wrong-password", test_wrong_password, run_isolated);
  add_test ("/window/load-more-and-whole", test_load_more_and_whole, run_isolated);
  add_test ("/window/markup-is-text", test_markup_is_text, run_isolated);
  add_test ("/window/preview-parts", test_preview_parts, run_isolated);
  add_test ("/window/preview-from-cache", test_preview_from_cache, run_isolated);
  add_test ("/window/delete-fails", test_delete_fails, run_isolated);
  add_test ("/window/accounts-filter-and-empty", test_accounts_filter_and_empty,
            run_isolated);
  add_test ("/window/account-states", test_account_states, run_isolated);
  add_test ("/window/no-empty-status", test_no_empty_status, run_isolated);
  add_test ("/window/disabled-account-hidden", test_disabled_account_hidden,
            run_isolated);
  add_test ("/window/shortcuts", test_shortcuts, run_isolated);
  add_test ("/window/keyboard", test_keyboard, run_isolated);
  add_test ("/window/accessible-names", test_accessible_names, run_isolated);
  add_test ("/window/preferences-remove", test_preferences_remove, run_isolated);
  add_test ("/window/editor-test-connection", test_editor_test_connection,
            run_isolated);
  add_test ("/window/editor-add-account", test_editor_add_account, run_isolated);
  add_test ("/window/editor-plaintext", test_editor_plaintext, run_isolated);
  add_test ("/window/fix-password", test_fix_password, run_isolated);
  add_test ("/window/certificate-changed", test_certificate_changed,
            run_isolated);
  add_test ("/window/editor-summary-and-starttls", test_editor_summary_and_starttls,
            run_isolated);
  if (shard_index == 0)
    {
      g_test_add_func ("/window/editor-security-port", test_editor_security_port);
      g_test_add_func ("/window/editor-test-explains", test_editor_test_explains);
      g_test_add_func ("/window/editor-leave-asks", test_editor_leave_asks);
      g_test_add_func ("/window/preferences-close-asks", test_preferences_close_asks);
      g_test_add_func ("/window/preferences-close-while-busy",
                       test_preferences_close_while_busy);
      g_test_add_func ("/window/editor-save-after-failed-test",
                       test_editor_save_after_failed_test);
      g_test_add_func ("/window/certificate-mismatch", test_certificate_mismatch);
    }
  add_test ("/window/delete-several", test_delete_several, run_isolated);
  add_test ("/window/rows", test_rows, run_isolated);
  add_test ("/window/without-headers", test_without_headers, run_isolated);
  add_test ("/window/without-uid", test_without_uid, run_isolated);
  add_test ("/window/mark-seen", test_mark_seen, run_isolated);
  add_test ("/window/many-messages", test_many_messages, run_isolated);
  add_test ("/window/general-settings", test_general_settings, run_isolated);
  add_test ("/window/new-mail-selected", test_new_mail_selected, run_isolated);
  add_test ("/window/new-mail-second-account", test_new_mail_second_account,
            run_isolated);
  add_test ("/window/accounts-merged-by-date", test_accounts_merged_by_date,
            run_isolated);
  add_test ("/window/new-mail-many", test_new_mail_many, run_isolated);
  add_test ("/window/rows-headers-pending", test_rows_headers_pending, run_isolated);
  add_test ("/window/scroll-fetches-headers", test_scroll_fetches_headers, run_isolated);
  add_test ("/window/new-mail-during-backlog", test_new_mail_during_backlog,
            run_isolated);
  add_test ("/window/pending-row-stays-selected", test_pending_row_stays_selected,
            run_isolated);
  add_test ("/window/row-menu", test_row_menu, run_isolated);
  add_test ("/window/row-menu-mark-seen", test_row_menu_mark_seen, run_isolated);
  add_test ("/window/tab-to-preview", test_tab_to_preview, run_isolated);
  add_test ("/window/undo-focus", test_undo_focus, run_isolated);
  add_test ("/window/check-nothing", test_check_nothing, run_isolated_bare);
  add_test ("/window/check-none-enabled", test_check_none_enabled, run_isolated);
  add_test ("/window/adaptive", test_adaptive, run_isolated);
  add_test ("/window/fold-while-busy", test_fold_while_busy, run_isolated);
  add_test ("/window/sender-name", test_sender_name, run_isolated);
  add_test ("/window/search", test_search, run_isolated);
  add_test ("/window/try-demo", test_try_demo, run_isolated_bare);
  add_test ("/window/narrow-preview", test_narrow_preview, run_isolated);
  add_test ("/window/editor-save-without-password", test_editor_save_without_password,
            run_isolated);
  add_test ("/window/editor-oauth-sign-in", test_editor_oauth_sign_in,
            run_in_process);
  add_test ("/window/preferences-online-accounts",
            test_preferences_online_accounts, run_in_process);
  add_test ("/window/editor-oauth-denied", test_editor_oauth_denied,
            run_in_process);
  add_test ("/window/editor-oauth-cancel", test_editor_oauth_cancel,
            run_in_process);
  add_test ("/window/editor-oauth-test-needs-sign-in",
            test_editor_oauth_test_needs_sign_in, run_in_process);
  add_test ("/window/sign-in-again", test_sign_in_again, run_isolated_oauth);
  add_test ("/window/editor-oauth-test-connection", test_editor_oauth_test_connection,
            run_isolated_oauth);
  add_test ("/window/online-sign-in-again", test_online_sign_in_again,
            run_isolated_bare);
  add_test ("/window/preview-holds-backlog", test_preview_holds_backlog, run_isolated);
  add_test ("/window/pending-row-fills-in-place", test_pending_row_fills_in_place,
            run_isolated);
  add_test ("/window/toast-names-while-busy", test_toast_names_while_busy,
            run_isolated);

  return g_test_run ();
}
