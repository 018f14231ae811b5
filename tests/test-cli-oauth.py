#!/usr/bin/python3
# test-cli-oauth.py: popcheck-cli with an account that signs in with OAuth2
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# End to end, offline: tests/oauth-provider.py on loopback is the provider,
# a real Dovecot (the demo server with --oauth2-introspect) checks the
# tokens at the provider's /introspect, and a real gnome-keyring-daemon on
# a private bus (tests/keyring-harness) keeps the refresh token.  The test
# plays the browser: it follows the address popcheck-cli prints with
# --no-browser.  The provider's endpoints reach the CLI through GSettings
# (the keyfile backend in a temporary directory).

import base64
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import popchecktest  # noqa: E402
from popchecktest import EXIT_OK, CliResult  # noqa: E402

CLIENT_ID = 'popcheck-test-client'
SIGN_IN_AGAIN = 'The sign-in is no longer valid. Sign in again.'

_provider = None
_server = None


def setUpModule():
    global _provider, _server
    if os.environ.get('POPCHECK_TEST_KEYRING') != 'keyring':
        raise RuntimeError('run this test under tests/keyring-harness '
                           '--mode keyring (meson test does)')
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          'oauth-provider.py')
    _provider = subprocess.Popen(['/usr/bin/python3', script,
                                  '--client-id', CLIENT_ID],
                                 stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE)
    _provider.port = int(_provider.stdout.readline())
    _server = popchecktest.DemoServer()
    try:
        _server.start('--oauth2-introspect',
                      'http://127.0.0.1:%d/introspect' % _provider.port)
    except BaseException:
        _server.stop()
        raise


def tearDownModule():
    if _server is not None:
        _server.stop()
    if _provider is not None:
        _provider.stdin.close()
        _provider.wait(timeout=30)


def http_request(method, url, body=None):
    """One request, no redirect followed: (status, Location, body)."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port,
                                            timeout=30)
    path = parts.path + ('?' + parts.query if parts.query else '')
    headers = {}
    if body is not None:
        headers['Content-Type'] = 'application/x-www-form-urlencoded'
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, response.getheader('Location'), data


def provider_url(path):
    return 'http://127.0.0.1:%d%s' % (_provider.port, path)


def control(**fields):
    status, _, _ = http_request('POST', provider_url('/control'),
                                urllib.parse.urlencode(fields))
    assert status == 200


def stats():
    _, _, data = http_request('GET', provider_url('/stats'))
    return json.loads(data)


class OAuthCliTestCase(unittest.TestCase):

    def setUp(self):
        control(authorize='ok', token='ok', expires_in='3600')
        self.server = _server
        self.user = self.server.new_user()
        # Dovecot takes the user the provider's introspection names.
        control(email=self.user.name)
        self.tmp = tempfile.mkdtemp(prefix='popcheck-cli-oauth-')
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.env = dict(os.environ)
        for name in ('XDG_CONFIG_HOME', 'XDG_STATE_HOME', 'XDG_CACHE_HOME'):
            path = os.path.join(self.tmp, name.lower())
            os.makedirs(path)
            self.env[name] = path
        self.env['GSETTINGS_BACKEND'] = 'keyfile'
        settings = os.path.join(self.env['XDG_CONFIG_HOME'], 'glib-2.0',
                                'settings')
        os.makedirs(settings)
        with open(os.path.join(settings, 'keyfile'), 'w') as f:
            f.write("[org/example/PopCheck/oauth2/microsoft]\n"
                    "client-id='%s'\n"
                    "authorization-endpoint='%s'\n"
                    "token-endpoint='%s'\n"
                    % (CLIENT_ID, provider_url('/authorize'),
                       provider_url('/token')))
        self.results = []

    def tearDown(self):
        # No token, ever, in what the CLI was given or printed, in the
        # settings or in the saved state.
        issued = stats()['issued']
        files = []
        for root, _, names in os.walk(self.tmp):
            for name in names:
                with open(os.path.join(root, name), 'rb') as f:
                    files.append(f.read())
        # As XOAUTH2 sends them, too.
        issued += [base64.b64encode(('user=%s\x01auth=Bearer %s\x01\x01'
                                     % (self.user.name, token)).encode()
                                    ).decode()
                   for token in issued if token.startswith('at-')]
        for token in issued:
            for result in self.results:
                self.assertNotIn(token, ' '.join(result.args))
                self.assertNotIn(token.encode(), result.stdout)
                self.assertNotIn(token, result.stderr)
            for data in files:
                self.assertNotIn(token.encode(), data)

    def run_cli(self, *args):
        completed = subprocess.run([popchecktest.cli_path()] + list(args),
                                   stdin=subprocess.DEVNULL,
                                   capture_output=True, env=self.env,
                                   timeout=120)
        result = CliResult(list(args), completed, 0)
        self.results.append(result)
        return result

    def sign_in(self, name='Work', page_says=b'PopCheck is signed in.',
                again=False):
        """account add --oauth, with the test as the browser; again: for
        an account there already, which keeps its server."""
        args = ['account', 'add', name, '--oauth', 'microsoft',
                '--user', self.user.name, '--no-browser']
        if not again:
            args += ['--host', self.server.host,
                     '--port', str(self.server.port('tls')),
                     '--pin', self.server.fingerprint]
        process = subprocess.Popen([popchecktest.cli_path()] + args,
                                   stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, env=self.env)
        stderr = []
        try:
            # The address comes on the line after the words.
            for line in process.stderr:
                stderr.append(line.decode())
                if line.startswith(b'http'):
                    break
            uri = stderr[-1].strip()
            status, location, _ = http_request('GET', uri)
            self.assertEqual(status, 302)
            status, _, page = http_request('GET', location)
            self.assertEqual(status, 200)
            self.assertIn(page_says, page)
            stdout, rest = process.communicate(timeout=60)
        except BaseException:
            process.kill()
            process.wait()
            raise
        stderr.append(rest.decode())
        result = CliResult(args, subprocess.CompletedProcess(
            args, process.returncode, stdout, ''.join(stderr).encode()), 0)
        self.results.append(result)
        return result

    def test_sign_in_check_refresh_revoke(self):
        result = self.sign_in()
        self.assertEqual(result.returncode, EXIT_OK, result.describe())
        self.assertIn('To sign in, open this address in a web browser:',
                      result.stderr)
        self.assertEqual(result.stdout.decode(),
                         'Signed in to Microsoft as %s; added the account '
                         '"Work" (id work).\n' % self.user.name)

        listed = self.run_cli('--json', 'account', 'list')
        account = json.loads(listed.stdout)
        self.assertEqual(account['auth'], 'xoauth2')
        self.assertEqual(account['user'], self.user.name)

        # A check logs in to Dovecot with a token from the refresh token.
        before = stats()
        check = self.run_cli('--account', 'Work', '--json', 'check')
        self.assertEqual(check.returncode, EXIT_OK, check.describe())
        self.assertEqual(json.loads(check.stdout)['total'],
                         len(self.user.messages()))
        after = stats()
        self.assertEqual(after['refresh_token'], before['refresh_token'] + 1)
        # Dovecot asked the provider about the token.
        self.assertGreater(after['introspect'], before['introspect'])

        # The engine's commands too, with every line of the exchange shown:
        # the token is not in it (tearDown looks).
        uidl = self.run_cli('--debug', '2', '--account', 'Work', 'uidl')
        self.assertEqual(uidl.returncode, EXIT_OK, uidl.describe())
        self.assertIn('AUTH XOAUTH2', uidl.stderr)

        # A preview's TOP and a delete sign in the same way, and the
        # delete reaches the Maildir.
        top = self.run_cli('--account', 'Work', 'top 1 0')
        self.assertEqual(top.returncode, EXIT_OK, top.describe())
        self.assertIn(b'subject:', top.stdout.lower())
        before_delete = len(self.user.messages())
        dele = self.run_cli('--account', 'Work', 'dele 1')
        self.assertEqual(dele.returncode, EXIT_OK, dele.describe())
        self.assertEqual(len(self.user.messages()), before_delete - 1)

        # Every access token expires: the next check refreshes, silently.
        control(expire='1')
        check = self.run_cli('--account', 'Work', '--json', 'check')
        self.assertEqual(check.returncode, EXIT_OK, check.describe())
        self.assertEqual(check.stderr, '')

        # A token the server refuses (revoked between the refresh and the
        # login): one more refresh, and the check goes through.
        control(dead_next='1')
        before = stats()
        check = self.run_cli('--account', 'Work', '--json', 'check')
        self.assertEqual(check.returncode, EXIT_OK, check.describe())
        self.assertEqual(stats()['refresh_token'],
                         before['refresh_token'] + 2)

        # Revoked: the error says to sign in again.
        control(revoke='1')
        check = self.run_cli('--account', 'Work', 'check')
        self.assertEqual(check.returncode, popchecktest.EXIT_AUTH,
                         check.describe())
        self.assertIn(SIGN_IN_AGAIN, check.stderr)
        uidl = self.run_cli('--account', 'Work', 'uidl')
        self.assertEqual(uidl.returncode, popchecktest.EXIT_AUTH,
                         uidl.describe())
        self.assertIn('could not sign in to the account "Work": '
                      + SIGN_IN_AGAIN, uidl.stderr)

    def test_direct_commands(self):
        """The engine's commands with --account: the token is refreshed
        as needed, once more after the server refused it, and a revoked
        sign-in says how to sign in again, which then works."""
        result = self.sign_in()
        self.assertEqual(result.returncode, EXIT_OK, result.describe())
        listing = self.run_cli('--account', 'Work', 'uidl')
        self.assertEqual(listing.returncode, EXIT_OK, listing.describe())

        # Every access token expires: a fresh one, silently.
        control(expire='1')
        uidl = self.run_cli('--account', 'Work', 'uidl')
        self.assertEqual(uidl.returncode, EXIT_OK, uidl.describe())
        self.assertEqual(uidl.stderr, '')
        self.assertEqual(uidl.stdout, listing.stdout)

        # The server refuses the first token: one more refresh, on the
        # same connection, and the command goes through.
        control(dead_next='1')
        before = stats()
        uidl = self.run_cli('--debug', '1', '--account', 'Work', 'uidl')
        self.assertEqual(uidl.returncode, EXIT_OK, uidl.describe())
        self.assertEqual(uidl.stdout, listing.stdout)
        self.assertEqual(stats()['refresh_token'],
                         before['refresh_token'] + 2)
        self.assertEqual(uidl.stderr.count('AUTH XOAUTH2'), 2)
        # One connection: one greeting, one CAPA.
        self.assertEqual(uidl.stderr.count('C: CAPA'), 1, uidl.stderr)

        # Revoked: the words say how to sign in again.
        control(revoke='1')
        hint = ("popcheck-cli: to sign in again, run: popcheck-cli account "
                "add 'Work' --oauth microsoft\n")
        uidl = self.run_cli('--account', 'Work', 'uidl')
        self.assertEqual(uidl.returncode, popchecktest.EXIT_AUTH,
                         uidl.describe())
        self.assertEqual(uidl.stdout, b'')
        self.assertIn('could not sign in to the account "Work": '
                      + SIGN_IN_AGAIN + '\n' + hint, uidl.stderr)
        check = self.run_cli('--account', 'Work', 'check')
        self.assertEqual(check.returncode, popchecktest.EXIT_AUTH,
                         check.describe())
        self.assertIn(SIGN_IN_AGAIN + '\n' + hint, check.stderr)

        # Which works, and keeps the account as it was.
        again = self.sign_in(again=True)
        self.assertEqual(again.returncode, EXIT_OK, again.describe())
        self.assertEqual(again.stdout.decode(),
                         'Signed in to Microsoft as %s again; the account '
                         '"Work" (id work) keeps its settings.\n'
                         % self.user.name)
        listed = json.loads(self.run_cli('--json', 'account', 'list').stdout)
        self.assertEqual(listed['host'], self.server.host)
        self.assertEqual(listed['port'], self.server.port('tls'))
        uidl = self.run_cli('--account', 'Work', 'uidl')
        self.assertEqual(uidl.returncode, EXIT_OK, uidl.describe())
        self.assertEqual(uidl.stdout, listing.stdout)

        # Another address is another account.
        other = self.run_cli('account', 'add', 'Work', '--oauth',
                             'microsoft', '--user', 'someone@example.org',
                             '--no-browser')
        self.assertEqual(other.returncode, popchecktest.EXIT_USAGE)
        self.assertIn('the account "Work" signs in as %s; another address '
                      'needs an account of its own' % self.user.name,
                      other.stderr)

    def test_access_denied(self):
        control(authorize='deny')
        result = self.sign_in(page_says=b'PopCheck was not signed in.')
        self.assertNotEqual(result.returncode, EXIT_OK)
        self.assertIn('the account "Work" was not added: Access to the '
                      'mailbox was not allowed.', result.stderr)
        listed = self.run_cli('account', 'list')
        self.assertEqual(listed.stdout, b'')

    def test_no_client_id(self):
        env_keyfile = os.path.join(self.env['XDG_CONFIG_HOME'], 'glib-2.0',
                                   'settings', 'keyfile')
        os.unlink(env_keyfile)
        result = self.run_cli('account', 'add', 'Mail', '--oauth', 'google',
                              '--user', 'me@example.org', '--no-browser')
        self.assertEqual(result.returncode, popchecktest.EXIT_USAGE)
        self.assertIn('This PopCheck cannot sign in with Google: it was '
                      'built without a client ID for Google.', result.stderr)


if __name__ == '__main__':
    popchecktest.main()
