/* popcheck-account.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The account keeps a copy of every key so that getters can hand out
 * plain pointers; GSettings' "changed" refreshes the copy and notifies the
 * property, whoever wrote the key.
 */

#define G_LOG_DOMAIN "popcheck-account"

#include "config.h"

#include <string.h>
#include <glib/gi18n.h>
#define G_SETTINGS_ENABLE_BACKEND
#include <gio/gsettingsbackend.h>

#include "popcheck-account.h"
#include "popcheck-token-source.h"

struct _PopcheckAccount
{
  GObject         parent_instance;

  char           *id;
  GSettings      *settings;
  /* Set for an account whose sign-in lives elsewhere (Online Accounts):
   * its keys are then in memory only, and its tokens come from there.
   * Weak, as the source owns its accounts. */
  GWeakRef        token_source;
  gboolean        external;

  char           *display_name;
  char           *host;
  char           *user;
  char           *pinned_fingerprint;
  guint16         port;
  Pop3Security    security;
  Pop3AuthMethod  auth_method;
  guint           check_interval;
  guint           preview_lines;
  gboolean        enabled;
  gboolean        notify;
  gboolean        sound;
};

G_DEFINE_FINAL_TYPE (PopcheckAccount, popcheck_account, G_TYPE_OBJECT)

G_DEFINE_QUARK (popcheck-account-error-quark, popcheck_account_error)

/* Every property but "id" is the settings key of the same name. */
enum {
  PROP_0,
  PROP_ID,
  PROP_TOKEN_SOURCE,
  PROP_DISPLAY_NAME,
  PROP_HOST,
  PROP_PORT,
  PROP_SECURITY,
  PROP_USER,
  PROP_AUTH_METHOD,
  PROP_ENABLED,
  PROP_CHECK_INTERVAL,
  PROP_NOTIFY,
  PROP_SOUND,
  PROP_PREVIEW_LINES,
  PROP_PINNED_FINGERPRINT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

#define MAX_ID_LENGTH   64
#define MAX_HOST_LENGTH 255

/* Validation */

gboolean
popcheck_account_id_is_valid (const char *id)
{
  gsize length;

  if (id == NULL)
    return FALSE;

  length = strlen (id);
  if (length == 0 || length > MAX_ID_LENGTH)
    return FALSE;

  for (const char *p = id; *p != '\0'; p++)
    {
      if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_')
        return FALSE;
    }

  return TRUE;
}

/* Host and user name go into the POP3 command line ("USER name") and the
 * connection: a space, CR or LF there would end the argument or the
 * command and let the rest be read as another command. */
static gboolean
has_space_or_control (const char *text)
{
  for (const guchar *p = (const guchar *) text; *p != '\0'; p++)
    {
      if (*p <= ' ' || *p == 0x7f)
        return TRUE;
    }

  return FALSE;
}

gboolean
popcheck_account_validate_host (const char  *host,
                                GError     **error)
{
  if (host == NULL || *host == '\0')
    {
      g_set_error_literal (error, POPCHECK_ACCOUNT_ERROR,
                           POPCHECK_ACCOUNT_ERROR_INVALID_HOST,
                           _("Enter the name of the POP3 server."));
      return FALSE;
    }

  if (has_space_or_control (host) || !g_utf8_validate (host, -1, NULL))
    {
      g_set_error_literal (error, POPCHECK_ACCOUNT_ERROR,
                           POPCHECK_ACCOUNT_ERROR_INVALID_HOST,
                           _("A server name cannot contain spaces, line "
                             "breaks or control characters."));
      return FALSE;
    }

  if (strlen (host) > MAX_HOST_LENGTH)
    {
      g_set_error_literal (error, POPCHECK_ACCOUNT_ERROR,
                           POPCHECK_ACCOUNT_ERROR_INVALID_HOST,
                           _("The server name is too long."));
      return FALSE;
    }

  return TRUE;
}

gboolean
popcheck_account_validate_user (const char  *user,
                                GError     **error)
{
  if (user == NULL || *user == '\0')
    {
      g_set_error_literal (error, POPCHECK_ACCOUNT_ERROR,
                           POPCHECK_ACCOUNT_ERROR_INVALID_USER,
                           _("Enter the user name."));
      return FALSE;
    }

  if (has_space_or_control (user) || !g_utf8_validate (user, -1, NULL))
    {
      g_set_error_literal (error, POPCHECK_ACCOUNT_ERROR,
                           POPCHECK_ACCOUNT_ERROR_INVALID_USER,
                           _("A user name cannot contain spaces, line "
                             "breaks or control characters."));
      return FALSE;
    }

  return TRUE;
}

gboolean
popcheck_account_validate_port (guint    port,
                                GError **error)
{
  if (port < 1 || port > G_MAXUINT16)
    {
      g_set_error_literal (error, POPCHECK_ACCOUNT_ERROR,
                           POPCHECK_ACCOUNT_ERROR_INVALID_PORT,
                           _("The port must be a number from 1 to 65535."));
      return FALSE;
    }

  return TRUE;
}

gboolean
popcheck_account_validate (PopcheckAccount  *self,
                           GError          **error)
{
  g_return_val_if_fail (POPCHECK_IS_ACCOUNT (self), FALSE);

  return popcheck_account_validate_host (self->host, error) &&
         popcheck_account_validate_user (self->user, error) &&
         popcheck_account_validate_port (self->port, error);
}

/* Loading keys */

static gboolean
load_string (PopcheckAccount  *self,
             const char       *key,
             char            **field)
{
  g_autofree char *value = g_settings_get_string (self->settings, key);

  if (g_strcmp0 (value, *field) == 0)
    return FALSE;

  g_free (*field);
  *field = g_steal_pointer (&value);
  return TRUE;
}

static gboolean
load_boolean (PopcheckAccount *self,
              const char      *key,
              gboolean        *field)
{
  gboolean value = g_settings_get_boolean (self->settings, key);

  if (value == *field)
    return FALSE;

  *field = value;
  return TRUE;
}

static gboolean
load_uint (PopcheckAccount *self,
           const char      *key,
           guint           *field)
{
  guint value = g_settings_get_uint (self->settings, key);

  if (value == *field)
    return FALSE;

  *field = value;
  return TRUE;
}

/* Loads one key into its field; returns whether the value changed. */
static gboolean
load_property (PopcheckAccount *self,
               guint            prop_id)
{
  switch (prop_id)
    {
    case PROP_DISPLAY_NAME:
      return load_string (self, "display-name", &self->display_name);

    case PROP_HOST:
      return load_string (self, "host", &self->host);

    case PROP_USER:
      return load_string (self, "user", &self->user);

    case PROP_PINNED_FINGERPRINT:
      return load_string (self, "pinned-fingerprint",
                          &self->pinned_fingerprint);

    case PROP_PORT:
      {
        guint16 port;

        g_settings_get (self->settings, "port", "q", &port);
        if (port == self->port)
          return FALSE;
        self->port = port;
        return TRUE;
      }

    case PROP_SECURITY:
      {
        g_autofree char *text = g_settings_get_string (self->settings,
                                                       "security");
        Pop3Security security;

        /* The schema's <choices> keep anything else out. */
        if (!pop3_security_from_string (text, &security))
          security = POP3_SECURITY_TLS;
        if (security == self->security)
          return FALSE;
        self->security = security;
        return TRUE;
      }

    case PROP_AUTH_METHOD:
      {
        g_autofree char *text = g_settings_get_string (self->settings,
                                                       "auth-method");
        Pop3AuthMethod method;

        if (!pop3_auth_method_from_string (text, &method))
          method = POP3_AUTH_AUTO;
        if (method == self->auth_method)
          return FALSE;
        self->auth_method = method;
        return TRUE;
      }

    case PROP_ENABLED:
      return load_boolean (self, "enabled", &self->enabled);

    case PROP_NOTIFY:
      return load_boolean (self, "notify", &self->notify);

    case PROP_SOUND:
      return load_boolean (self, "sound", &self->sound);

    case PROP_CHECK_INTERVAL:
      return load_uint (self, "check-interval", &self->check_interval);

    case PROP_PREVIEW_LINES:
      return load_uint (self, "preview-lines", &self->preview_lines);

    default:
      g_assert_not_reached ();
    }
}

static void
settings_changed_cb (GSettings       *settings,
                     const char      *key,
                     PopcheckAccount *self)
{
  for (guint i = PROP_DISPLAY_NAME; i < N_PROPS; i++)
    {
      if (g_strcmp0 (key, g_param_spec_get_name (properties[i])) != 0)
        continue;

      if (load_property (self, i))
        g_object_notify_by_pspec (G_OBJECT (self), properties[i]);
      return;
    }
}

/* GObject */

static void
popcheck_account_constructed (GObject *object)
{
  PopcheckAccount *self = (PopcheckAccount *) object;
  g_autofree char *path = NULL;

  G_OBJECT_CLASS (popcheck_account_parent_class)->constructed (object);

  g_assert (popcheck_account_id_is_valid (self->id));

  path = g_strconcat (POPCHECK_ACCOUNT_PATH_PREFIX, self->id, "/", NULL);
  if (self->external)
    {
      /* What PopCheck would store of it is not PopCheck's to keep: it
       * comes from the source each time. */
      g_autoptr(GSettingsBackend) backend = g_memory_settings_backend_new ();

      self->settings = g_settings_new_with_backend_and_path (POPCHECK_ACCOUNT_SCHEMA_ID,
                                                             backend, path);
    }
  else
    {
      self->settings = g_settings_new_with_path (POPCHECK_ACCOUNT_SCHEMA_ID,
                                                 path);
    }

  for (guint i = PROP_DISPLAY_NAME; i < N_PROPS; i++)
    load_property (self, i);

  g_signal_connect_object (self->settings, "changed",
                           G_CALLBACK (settings_changed_cb), self, 0);
}

static void
popcheck_account_finalize (GObject *object)
{
  PopcheckAccount *self = (PopcheckAccount *) object;

  g_clear_object (&self->settings);
  g_weak_ref_clear (&self->token_source);
  g_free (self->id);
  g_free (self->display_name);
  g_free (self->host);
  g_free (self->user);
  g_free (self->pinned_fingerprint);

  G_OBJECT_CLASS (popcheck_account_parent_class)->finalize (object);
}

static void
popcheck_account_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  PopcheckAccount *self = POPCHECK_ACCOUNT (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_string (value, self->id);
      break;
    case PROP_TOKEN_SOURCE:
      g_value_take_object (value, g_weak_ref_get (&self->token_source));
      break;
    case PROP_DISPLAY_NAME:
      g_value_set_string (value, self->display_name);
      break;
    case PROP_HOST:
      g_value_set_string (value, self->host);
      break;
    case PROP_PORT:
      g_value_set_uint (value, self->port);
      break;
    case PROP_SECURITY:
      g_value_set_string (value, pop3_security_to_string (self->security));
      break;
    case PROP_USER:
      g_value_set_string (value, self->user);
      break;
    case PROP_AUTH_METHOD:
      g_value_set_string (value,
                          pop3_auth_method_to_string (self->auth_method));
      break;
    case PROP_ENABLED:
      g_value_set_boolean (value, self->enabled);
      break;
    case PROP_CHECK_INTERVAL:
      g_value_set_uint (value, self->check_interval);
      break;
    case PROP_NOTIFY:
      g_value_set_boolean (value, self->notify);
      break;

    case PROP_SOUND:
      g_value_set_boolean (value, self->sound);
      break;
    case PROP_PREVIEW_LINES:
      g_value_set_uint (value, self->preview_lines);
      break;
    case PROP_PINNED_FINGERPRINT:
      g_value_set_string (value, self->pinned_fingerprint);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
popcheck_account_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  PopcheckAccount *self = POPCHECK_ACCOUNT (object);

  switch (prop_id)
    {
    case PROP_ID:
      self->id = g_value_dup_string (value);
      break;
    case PROP_TOKEN_SOURCE:
      g_weak_ref_set (&self->token_source, g_value_get_object (value));
      self->external = g_value_get_object (value) != NULL;
      break;
    case PROP_DISPLAY_NAME:
      popcheck_account_set_display_name (self, g_value_get_string (value));
      break;
    case PROP_HOST:
      popcheck_account_set_host (self, g_value_get_string (value));
      break;
    case PROP_PORT:
      popcheck_account_set_port (self, g_value_get_uint (value));
      break;
    case PROP_SECURITY:
      {
        Pop3Security security;

        if (pop3_security_from_string (g_value_get_string (value), &security))
          popcheck_account_set_security (self, security);
        else
          g_critical ("Unknown connection security \"%s\"",
                      g_value_get_string (value));
      }
      break;
    case PROP_USER:
      popcheck_account_set_user (self, g_value_get_string (value));
      break;
    case PROP_AUTH_METHOD:
      {
        Pop3AuthMethod method;

        if (pop3_auth_method_from_string (g_value_get_string (value), &method))
          popcheck_account_set_auth_method (self, method);
        else
          g_critical ("Unknown authentication method \"%s\"",
                      g_value_get_string (value));
      }
      break;
    case PROP_ENABLED:
      popcheck_account_set_enabled (self, g_value_get_boolean (value));
      break;
    case PROP_CHECK_INTERVAL:
      popcheck_account_set_check_interval (self, g_value_get_uint (value));
      break;
    case PROP_NOTIFY:
      popcheck_account_set_notify (self, g_value_get_boolean (value));
      break;

    case PROP_SOUND:
      popcheck_account_set_sound (self, g_value_get_boolean (value));
      break;
    case PROP_PREVIEW_LINES:
      popcheck_account_set_preview_lines (self, g_value_get_uint (value));
      break;
    case PROP_PINNED_FINGERPRINT:
      popcheck_account_set_pinned_fingerprint (self,
                                               g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
popcheck_account_class_init (PopcheckAccountClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                      G_PARAM_EXPLICIT_NOTIFY;

  object_class->constructed = popcheck_account_constructed;
  object_class->finalize = popcheck_account_finalize;
  object_class->get_property = popcheck_account_get_property;
  object_class->set_property = popcheck_account_set_property;

  properties[PROP_ID] =
    g_param_spec_string ("id", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS);
  properties[PROP_TOKEN_SOURCE] =
    g_param_spec_object ("token-source", NULL, NULL,
                         POPCHECK_TYPE_TOKEN_SOURCE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS);
  properties[PROP_DISPLAY_NAME] =
    g_param_spec_string ("display-name", NULL, NULL, "", flags);
  properties[PROP_HOST] =
    g_param_spec_string ("host", NULL, NULL, "", flags);
  properties[PROP_PORT] =
    g_param_spec_uint ("port", NULL, NULL, 1, G_MAXUINT16, 995, flags);
  properties[PROP_SECURITY] =
    g_param_spec_string ("security", NULL, NULL, "tls", flags);
  properties[PROP_USER] =
    g_param_spec_string ("user", NULL, NULL, "", flags);
  properties[PROP_AUTH_METHOD] =
    g_param_spec_string ("auth-method", NULL, NULL, "auto", flags);
  properties[PROP_ENABLED] =
    g_param_spec_boolean ("enabled", NULL, NULL, TRUE, flags);
  properties[PROP_CHECK_INTERVAL] =
    g_param_spec_uint ("check-interval", NULL, NULL, 1, 1440, 5, flags);
  properties[PROP_NOTIFY] =
    g_param_spec_boolean ("notify", NULL, NULL, TRUE, flags);
  properties[PROP_SOUND] =
    g_param_spec_boolean ("sound", NULL, NULL, TRUE, flags);
  properties[PROP_PREVIEW_LINES] =
    g_param_spec_uint ("preview-lines", NULL, NULL, 0, 1000, 20, flags);
  properties[PROP_PINNED_FINGERPRINT] =
    g_param_spec_string ("pinned-fingerprint", NULL, NULL, "", flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
popcheck_account_init (PopcheckAccount *self)
{
}

PopcheckAccount *
popcheck_account_new (const char *id)
{
  g_return_val_if_fail (popcheck_account_id_is_valid (id), NULL);

  return g_object_new (POPCHECK_TYPE_ACCOUNT, "id", id, NULL);
}

PopcheckAccount *
popcheck_account_new_external (const char          *id,
                               PopcheckTokenSource *token_source)
{
  g_return_val_if_fail (popcheck_account_id_is_valid (id), NULL);
  g_return_val_if_fail (POPCHECK_IS_TOKEN_SOURCE (token_source), NULL);

  return g_object_new (POPCHECK_TYPE_ACCOUNT,
                       "id", id,
                       "token-source", token_source,
                       NULL);
}

gboolean
popcheck_account_is_external (PopcheckAccount *self)
{
  g_return_val_if_fail (POPCHECK_IS_ACCOUNT (self), FALSE);

  return self->external;
}

PopcheckTokenSource *
popcheck_account_dup_token_source (PopcheckAccount *self)
{
  g_return_val_if_fail (POPCHECK_IS_ACCOUNT (self), NULL);

  return g_weak_ref_get (&self->token_source);
}

const char *
popcheck_account_get_id (PopcheckAccount *self)
{
  g_return_val_if_fail (POPCHECK_IS_ACCOUNT (self), NULL);

  return self->id;
}

GSettings *
popcheck_account_get_settings (PopcheckAccount *self)
{
  g_return_val_if_fail (POPCHECK_IS_ACCOUNT (self), NULL);

  return self->settings;
}

/* The setters update the copy before writing, so the "changed" that the
 * write emits finds nothing new and the property is notified only once. */

static void
set_string (PopcheckAccount *self,
            guint            prop_id,
            char           **field,
            const char      *value)
{
  if (g_strcmp0 (*field, value) == 0)
    return;

  g_free (*field);
  *field = g_strdup (value);
  g_settings_set_string (self->settings,
                         g_param_spec_get_name (properties[prop_id]), value);
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop_id]);
}

static void
set_boolean (PopcheckAccount *self,
             guint            prop_id,
             gboolean        *field,
             gboolean         value)
{
  value = !!value;
  if (*field == value)
    return;

  *field = value;
  g_settings_set_boolean (self->settings,
                          g_param_spec_get_name (properties[prop_id]), value);
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop_id]);
}

static void
set_uint (PopcheckAccount *self,
          guint            prop_id,
          guint           *field,
          guint            value)
{
  if (*field == value)
    return;

  *field = value;
  g_settings_set_uint (self->settings,
                       g_param_spec_get_name (properties[prop_id]), value);
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop_id]);
}

const char *
popcheck_account_get_display_name (PopcheckAccount *self)
{
  g_return_val_if_fail (POPCHECK_IS_ACCOUNT (self), NULL);

  return self->display_name;
}

void
popcheck_account_set_display_name (PopcheckAccount *self,
                                   const char      *display_name)
{
  g_return_if_fail (POPCHECK_IS_ACCOUNT (self));
  g_return_if_fail (display_name != NULL);
  g_return_if_fail (g_utf8_validate (display_name, -1, NULL));

  set_string (self, PROP_DISPLAY_NAME, &self->display_name, display_name);
}

const char *
popcheck_account_get_host (PopcheckAccount *self)
{
  g_return_val_if_fail (POPCHECK_IS_ACCOUNT (self), NULL);

  return self->host;
}

void
popcheck_account_set_host (PopcheckAccount *self,
                           const char      *host)
{
  g_return_if_fail (POPCHECK_IS_ACCOUNT (self));
  g_return_if_fail (popcheck_account_validate_host (host, NULL));

  set_string (self, PROP_HOST, &self->host, host);
}

guint16
popcheck_account_get_port (PopcheckAccount *self)
{
  g_return_val_if_fail (POPCHECK_IS_ACCOUNT (self), 0);

  return self->port;
}

void
popcheck_account_set_port (PopcheckAccount *self,
                           guint16          port)
{
  g_return_if_fail (POPCHECK_IS_ACCOUNT (self));
  g_return_if_fail (popcheck_account_validate_port (port, NULL));

  if (self->port == port)
    return;

  self->port = port;
  g_settings_set (self->settings, "port", "q", port);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PORT]);
}

Pop3Security
popcheck_account_get_security (PopcheckAccount *self)
{
  g_return_val_if_fail (POPCHECK_IS_ACCOUNT (self), POP3_SECURITY_TLS);

  return self->security;
}

void
popcheck_account_set_security (PopcheckAccount *self,
                               Pop3Security     security)
{
  const char *text;

  g_return_if_fail (POPCHECK_IS_ACCOUNT (self));

  text = pop3_security_to_string (security);
  g_return_if_fail (text != NULL);

  if (self->security == security)
    return;

  self->security = security;
  g_settings_set_string (self->settings, "security", text);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SECURITY]);
}

const char *
popcheck_account_get_user (PopcheckAccount *self)
{
  g_return_val_if_fail (POPCHECK_IS_ACCOUNT (self), NULL);

  return self->user;
}

void
popcheck_account_set_user (PopcheckAccount *self,
                           const char      *user)
{
  g_return_if_fail (POPCHECK_IS_ACCOUNT (self));
  g_return_if_fail (popcheck_account_validate_user (user, NULL));

  set_string (self, PROP_USER, &self->user, user);
}

Pop3AuthMethod
popcheck_account_get_auth_method (PopcheckAccount *self)
{
  g_return_val_if_fail (POPCHECK_IS_ACCOUNT (self), POP3_AUTH_AUTO);

  return self->auth_method;
}

void
popcheck_account_set_auth_method (PopcheckAccount *self,
                                  Pop3AuthMethod   method)
{
  const char *text;

  g_return_if_fail (POPCHECK_IS_ACCOUNT (self));

  text = pop3_auth_method_to_string (method);
  g_return_if_fail (text != NULL);

  if (self->auth_method == method)
    return;

  self->auth_method = method;
  g_settings_set_string (self->settings, "auth-method", text);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_AUTH_METHOD]);
}

gboolean
popcheck_account_get_enabled (PopcheckAccount *self)
{
  g_return_val_if_fail (POPCHECK_IS_ACCOUNT (self), FALSE);

  return self->enabled;
}

void
popcheck_account_set_enabled (PopcheckAccount *self,
                              gboolean         enabled)
{
  g_return_if_fail (POPCHECK_IS_ACCOUNT (self));

  set_boolean (self, PROP_ENABLED, &self->enabled, enabled);
}

guint
popcheck_account_get_check_interval (PopcheckAccount *self)
{
  g_return_val_if_fail (POPCHECK_IS_ACCOUNT (self), 5);

  return self->check_interval;
}

void
popcheck_account_set_check_interval (PopcheckAccount *self,
                                     guint            minutes)
{
  g_return_if_fail (POPCHECK_IS_ACCOUNT (self));
  g_return_if_fail (minutes >= 1 && minutes <= 1440);

  set_uint (self, PROP_CHECK_INTERVAL, &self->check_interval, minutes);
}

gboolean
popcheck_account_get_notify (PopcheckAccount *self)
{
  g_return_val_if_fail (POPCHECK_IS_ACCOUNT (self), FALSE);

  return self->notify;
}

void
popcheck_account_set_notify (PopcheckAccount *self,
                             gboolean         notify)
{
  g_return_if_fail (POPCHECK_IS_ACCOUNT (self));

  set_boolean (self, PROP_NOTIFY, &self->notify, notify);
}

gboolean
popcheck_account_get_sound (PopcheckAccount *self)
{
  g_return_val_if_fail (POPCHECK_IS_ACCOUNT (self), FALSE);

  return self->sound;
}

void
popcheck_account_set_sound (PopcheckAccount *self,
                            gboolean         sound)
{
  g_return_if_fail (POPCHECK_IS_ACCOUNT (self));

  set_boolean (self, PROP_SOUND, &self->sound, sound);
}

guint
popcheck_account_get_preview_lines (PopcheckAccount *self)
{
  g_return_val_if_fail (POPCHECK_IS_ACCOUNT (self), 0);

  return self->preview_lines;
}

void
popcheck_account_set_preview_lines (PopcheckAccount *self,
                                    guint            lines)
{
  g_return_if_fail (POPCHECK_IS_ACCOUNT (self));
  g_return_if_fail (lines <= 1000);

  set_uint (self, PROP_PREVIEW_LINES, &self->preview_lines, lines);
}

const char *
popcheck_account_get_pinned_fingerprint (PopcheckAccount *self)
{
  g_return_val_if_fail (POPCHECK_IS_ACCOUNT (self), NULL);

  if (self->pinned_fingerprint == NULL || *self->pinned_fingerprint == '\0')
    return NULL;

  return self->pinned_fingerprint;
}

void
popcheck_account_set_pinned_fingerprint (PopcheckAccount *self,
                                         const char      *fingerprint)
{
  g_return_if_fail (POPCHECK_IS_ACCOUNT (self));
  g_return_if_fail (fingerprint == NULL ||
                    g_utf8_validate (fingerprint, -1, NULL));

  set_string (self, PROP_PINNED_FINGERPRINT, &self->pinned_fingerprint,
              fingerprint != NULL ? fingerprint : "");
}

/* Read from the settings each time: only opening a session needs it. */
char *
popcheck_account_dup_oauth2_provider (PopcheckAccount *self)
{
  g_autofree char *provider = NULL;

  g_return_val_if_fail (POPCHECK_IS_ACCOUNT (self), NULL);

  provider = g_settings_get_string (popcheck_account_get_settings (self),
                                    "oauth2-provider");
  if (*provider == '\0')
    return NULL;

  return g_steal_pointer (&provider);
}

void
popcheck_account_set_oauth2_provider (PopcheckAccount *self,
                                      const char      *provider)
{
  g_return_if_fail (POPCHECK_IS_ACCOUNT (self));

  g_settings_set_string (popcheck_account_get_settings (self),
                         "oauth2-provider", provider != NULL ? provider : "");
}
