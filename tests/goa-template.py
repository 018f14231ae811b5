'''GNOME Online Accounts, for python3-dbusmock

SPDX-License-Identifier: GPL-3.0-or-later

python3-dbusmock ships no template for Online Accounts; this one gives
PopCheck's tests the part of goa-daemon that libgoa's GoaClient sees: an
object manager at /org/gnome/OnlineAccounts and accounts under
/org/gnome/OnlineAccounts/Accounts/NAME with the Account, OAuth2Based and
Mail interfaces.  What a test does to them (add, remove, change a property,
queue the tokens GetAccessToken hands out) goes through the methods below,
on org.freedesktop.DBus.Mock at the object manager, and emits what the real
daemon would (InterfacesAdded, InterfacesRemoved, PropertiesChanged), so
that GoaClient follows live.  Each account records its calls (GetCalls).
'''

import dbus

from dbusmock import MOCK_IFACE, mockobject

BUS_NAME = 'org.gnome.OnlineAccounts'
MAIN_OBJ = '/org/gnome/OnlineAccounts'
SYSTEM_BUS = False
IS_OBJECT_MANAGER = True

ACCOUNT_IFACE = 'org.gnome.OnlineAccounts.Account'
OAUTH2_IFACE = 'org.gnome.OnlineAccounts.OAuth2Based'
MAIL_IFACE = 'org.gnome.OnlineAccounts.Mail'
ACCOUNTS_PATH = MAIN_OBJ + '/Accounts/'
NOT_AUTHORIZED = 'org.gnome.OnlineAccounts.Error.NotAuthorized'


def load(mock, parameters):
    pass


def account(path):
    obj = mockobject.objects.get(path)
    if obj is None:
        raise dbus.exceptions.DBusException(f'no account {path}',
                                            name='org.freedesktop.DBus.Mock.NameError')
    return obj


# GetAccessToken hands out the queued tokens one after the other and keeps
# handing out the last; with none queued it fails as goa-daemon does when
# it cannot sign in.
GET_ACCESS_TOKEN = f'''
if not self.goa_tokens:
    raise dbus.exceptions.DBusException('No credentials', name='{NOT_AUTHORIZED}')
token = self.goa_tokens.pop(0) if len(self.goa_tokens) > 1 else self.goa_tokens[0]
ret = (token, 3600)
'''


@dbus.service.method(MOCK_IFACE, in_signature='ssss', out_signature='o')
def AddAccount(self, name, provider_type, identity, presentation_identity):
    '''An account of @provider_type (such as "google") with its three
    interfaces, announced with InterfacesAdded.'''
    path = ACCOUNTS_PATH + name
    self.AddObject(path, ACCOUNT_IFACE, {
        'Id': dbus.String(name),
        'ProviderType': dbus.String(provider_type),
        'ProviderName': dbus.String(provider_type.capitalize()),
        'Identity': dbus.String(identity),
        'PresentationIdentity': dbus.String(presentation_identity),
        'AttentionNeeded': dbus.Boolean(False),
        'IsTemporary': dbus.Boolean(False),
        'MailDisabled': dbus.Boolean(False),
    }, [
        ('EnsureCredentials', '', 'i', 'ret = 3600'),
        ('Remove', '', '', ''),
    ])
    obj = account(path)
    obj.goa_tokens = []
    obj.AddProperties(OAUTH2_IFACE, {
        'ClientId': dbus.String('popcheck-test'),
        'ClientSecret': dbus.String(''),
    })
    obj.AddMethods(OAUTH2_IFACE, [
        ('GetAccessToken', '', 'si', GET_ACCESS_TOKEN),
    ])
    obj.AddProperties(MAIL_IFACE, {
        'EmailAddress': dbus.String(identity),
        'Name': dbus.String(presentation_identity),
        'ImapSupported': dbus.Boolean(True),
        'ImapHost': dbus.String('imap.example.org'),
        'ImapUserName': dbus.String(identity),
        'SmtpSupported': dbus.Boolean(False),
    })
    self.object_manager_emit_added(path)
    return path


@dbus.service.method(MOCK_IFACE, in_signature='s', out_signature='')
def RemoveAccount(self, name):
    '''The account goes, announced with InterfacesRemoved.'''
    path = ACCOUNTS_PATH + name
    obj = account(path)
    self.EmitSignal('org.freedesktop.DBus.ObjectManager', 'InterfacesRemoved',
                    'oas', [dbus.ObjectPath(path),
                            dbus.Array(list(obj.props.keys()), signature='s')])
    self.RemoveObject(path)


@dbus.service.method(MOCK_IFACE, in_signature='sb', out_signature='')
def SetMailDisabled(self, name, disabled):
    account(ACCOUNTS_PATH + name).UpdateProperties(
        ACCOUNT_IFACE, {'MailDisabled': dbus.Boolean(disabled)})


@dbus.service.method(MOCK_IFACE, in_signature='sb', out_signature='')
def SetAttentionNeeded(self, name, needed):
    account(ACCOUNTS_PATH + name).UpdateProperties(
        ACCOUNT_IFACE, {'AttentionNeeded': dbus.Boolean(needed)})


@dbus.service.method(MOCK_IFACE, in_signature='sas', out_signature='')
def SetAccessTokens(self, name, tokens):
    '''What GetAccessToken hands out next, in order.'''
    account(ACCOUNTS_PATH + name).goa_tokens = [str(t) for t in tokens]
