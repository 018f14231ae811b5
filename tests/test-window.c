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

#include <adwaita.h>

#include "popcheck-account.h"
#include "popcheck-account-list.h"
#include "popcheck-account-status.h"
#include "popcheck-application.h"
#include "popcheck-checker.h"
#include "popcheck-mailbox.h"
#include "popcheck-message.h"
#include "popcheck-preview.h"
#include "popcheck-secret.h"
#include "popcheck-test-demo.h"
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
};

static guint user_counter;

/* Runs the main context until condition holds; a test that waits longer
 * than TIMEOUT_SECONDS fails. */
#define WAIT_UNTIL(condition)                                              \
  G_STMT_START {                                                           \
    gint64 deadline = g_get_monotonic_time () +                            \
                      TIMEOUT_SECONDS * G_TIME_SPAN_SECOND;                \
    while (!(condition))                                                   \
      {                                                                    \
        if (g_get_monotonic_time () > deadline)                            \
          g_error ("Timed out waiting for %s (%s)", #condition, describe_state (fixture));                \
        g_main_context_iteration (NULL, FALSE);                            \
        g_usleep (2000);                                                   \
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

static PopcheckAccount *
add_account (Fixture    *fixture,
             const char *name,
             const char *user,
             const char *password)
{
  PopcheckAccountList *accounts = popcheck_application_get_accounts (fixture->app);
  g_autoptr(GError) error = NULL;
  PopcheckAccount *account;
  gboolean stored = FALSE;

  popcheck_secret_store_async (fixture->demo->host, fixture->demo->pop3s_port,
                               user, password, NULL, stored_cb, &stored);
  WAIT_UNTIL (stored);

  account = popcheck_account_list_add (accounts, name, &error);
  g_assert_no_error (error);
  popcheck_account_set_host (account, fixture->demo->host);
  popcheck_account_set_port (account, fixture->demo->pop3s_port);
  popcheck_account_set_security (account, POP3_SECURITY_TLS);
  popcheck_account_set_user (account, user);
  popcheck_account_set_pinned_fingerprint (account, fixture->demo->fingerprint);

  /* What the Check Now button does. */
  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "check-now", NULL);

  return account;
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

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->demo = popcheck_test_demo_start ();
  fixture->user = g_strdup_printf ("ui%u", ++user_counter);
  popcheck_test_demo_add_user (fixture->demo, fixture->user, "right-password", FALSE);

  fixture->app = popcheck_application_new ();
  g_application_register (G_APPLICATION (fixture->app), NULL, &error);
  g_assert_no_error (error);
  g_assert_false (g_application_get_is_remote (G_APPLICATION (fixture->app)));

  fixture->window = popcheck_window_new (fixture->app);
  g_object_add_weak_pointer (G_OBJECT (fixture->window), (gpointer *) &fixture->window);
  popcheck_window_set_undo_timeout (fixture->window, 1);
  gtk_window_present (GTK_WINDOW (fixture->window));
  g_assert_cmpstr (popcheck_window_get_page (fixture->window), ==, "welcome");

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
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  if (fixture->window != NULL)
    gtk_window_destroy (GTK_WINDOW (fixture->window));
  popcheck_checker_stop (popcheck_application_get_checker (fixture->app));
  spin (100);
  g_assert_null (fixture->window);
  g_clear_object (&fixture->app);
  g_clear_pointer (&fixture->demo, popcheck_test_demo_stop);
  g_clear_pointer (&fixture->user, g_free);
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
  spin (50);

  g_assert_true (popcheck_preview_get_message (preview) == listed (fixture, position));
  g_assert_cmpstr (popcheck_preview_get_account_id (preview), ==,
                   popcheck_account_get_id (fixture->account));
  body = popcheck_preview_dup_body_text (preview);
  /* Dot-unstuffed text of the preview, as plain text. */
  g_assert_nonnull (strstr (body, "."));
  g_assert_cmpuint (strlen (body), >, 0);

  /* "Load More" asks TOP for more lines; still nothing is marked seen. */
  gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.load-more", NULL);
  spin (1500);

  g_assert_false (popcheck_test_demo_any_seen (fixture->demo, fixture->user));

  /* Several selected: no single preview. */
  gtk_selection_model_select_range (selection, 0, 3, TRUE);
  spin (50);
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
  g_auto(GStrv) before = popcheck_test_demo_message_ids (fixture->demo, fixture->user);
  g_auto(GStrv) after = NULL;

  select_subject (fixture, "Monthly report with attachments");
  gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.delete", NULL);

  /* Gone from the list at once, nothing sent to the server yet. */
  g_assert_cmpuint (n_listed (fixture), ==, N_SAMPLES - 1);
  g_assert_cmpuint (popcheck_window_get_n_pending_deletes (fixture->window), ==, 1);

  gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.undo-delete", NULL);
  g_assert_cmpuint (n_listed (fixture), ==, N_SAMPLES);

  /* Well past the toast's time: still nothing deleted. */
  spin (3000);
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

static gboolean
find_visible_label (GtkWidget  *widget,
                    const char *text)
{
  if (!gtk_widget_get_visible (widget))
    return FALSE;
  if (GTK_IS_LABEL (widget) && g_str_equal (gtk_label_get_text (GTK_LABEL (widget)), text))
    return TRUE;
  if (GTK_IS_BUTTON (widget) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (widget)), text) == 0)
    return TRUE;

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (find_visible_label (child, text))
      return TRUE;

  return FALSE;
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
  spin (50);
  /* The window shows the server's words and a way to fix the password. */
  g_assert_true (find_visible_label (GTK_WIDGET (fixture->window), error_message));
  g_assert_true (find_visible_label (GTK_WIDGET (fixture->window), "Fix _Password…"));
  /* With two accounts the rows name the account. */
  g_assert_true (find_visible_label (GTK_WIDGET (fixture->window), "Wrong"));
}

/* --screenshot DIR: the window, the preview and the preferences over the
 * demo mailbox as PNG files, for a person to look at (tests/screenshots.sh). */
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
  gtk_window_set_default_size (GTK_WINDOW (window), 1100, 700);
  select_subject (&fixture, "Café crème et crêpes à volonté");
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

typedef void (*FixtureTest) (Fixture *fixture, gconstpointer data);

/* Each test runs in its own process: an application exports itself on the
 * bus under its id once per process, and every test wants a fresh one. */
static void
run_isolated (gconstpointer data)
{
  FixtureTest test = (FixtureTest) data;

  if (g_test_subprocess ())
    {
      Fixture fixture = { 0 };

      fixture_setup (&fixture, NULL);
      test (&fixture, NULL);
      fixture_teardown (&fixture, NULL);
      return;
    }

  g_test_trap_subprocess (NULL, 240 * G_USEC_PER_SEC,
                          G_TEST_SUBPROCESS_INHERIT_STDOUT |
                          G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
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

  g_test_add_data_func ("/window/list-decoded", test_list_decoded, run_isolated);
  g_test_add_data_func ("/window/preview-leaves-unseen", test_preview_leaves_unseen,
                        run_isolated);
  g_test_add_data_func ("/window/delete-undo", test_delete_undo, run_isolated);
  g_test_add_data_func ("/window/delete", test_delete_for_real, run_isolated);
  g_test_add_data_func ("/window/wrong-password", test_wrong_password, run_isolated);

  return g_test_run ();
}
