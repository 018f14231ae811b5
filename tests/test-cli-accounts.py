#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# popcheck-cli on stored accounts (issue 3): account add|list|remove,
# --account NAME with the engine's commands, check, status and delete by
# UID, against the real Dovecot demo server and a real gnome-keyring-daemon.
#
# Run by meson under tests/keyring-harness --mode keyring: a private D-Bus
# session with a fresh, unlocked keyring, and HOME and the XDG directories
# in a temporary directory.  Each test gets XDG_CONFIG_HOME and
# XDG_STATE_HOME of its own and GSETTINGS_BACKEND=keyfile, so accounts and
# mailbox state persist from one popcheck-cli run to the next within the
# test and never leak into another test.  The "no Secret Service" cases run
# popcheck-cli with the session bus pointing at nothing, or under a nested
# keyring-harness --mode no-service.

import email.utils
import functools
import json
import os
import pty
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import termios
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import popchecktest  # noqa: E402
from popchecktest import (EXIT_OK, EXIT_USAGE, EXIT_TLS,  # noqa: E402
                          EXIT_AUTH, CliResult)

EXIT_KEYRING = 6

ACCOUNT_SCHEMA = 'org.example.PopCheck.Account'
ACCOUNT_PATH = '/org/example/PopCheck/accounts/%s/'


def setUpModule():
    if os.environ.get('POPCHECK_TEST_KEYRING') != 'keyring':
        raise RuntimeError('run this test under tests/keyring-harness '
                           '--mode keyring (meson test does)')
    popchecktest.start_module_server()


def tearDownModule():
    popchecktest.stop_module_server()


def secret_schema():
    """PopCheck's SecretSchema, as issue 3 names it, through libsecret."""
    import gi
    gi.require_version('Secret', '1')
    from gi.repository import Secret
    schema = Secret.Schema.new('org.example.PopCheck.Account',
                               Secret.SchemaFlags.NONE,
                               {'host': Secret.SchemaAttributeType.STRING,
                                'port': Secret.SchemaAttributeType.INTEGER,
                                'user': Secret.SchemaAttributeType.STRING,
                                'protocol': Secret.SchemaAttributeType.STRING})
    return Secret, schema


def secret_attributes(host, port, user):
    return {'host': host, 'port': str(port), 'user': user, 'protocol': 'pop3'}


def keyring_password(host, port, user):
    """The password the keyring holds for the account, or None."""
    Secret, schema = secret_schema()
    return Secret.password_lookup_sync(schema,
                                       secret_attributes(host, port, user),
                                       None)


def keyring_store(host, port, user, password):
    Secret, schema = secret_schema()
    Secret.password_store_sync(schema, secret_attributes(host, port, user),
                               Secret.COLLECTION_DEFAULT, 'test', password,
                               None)


def closed_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def make_message(subject):
    """A message of its own (unique Message-ID), as bytes."""
    mid = email.utils.make_msgid(domain='cli-accounts.example')
    return mid, ('From: Test Sender <sender@cli-accounts.example>\n'
                 'To: someone@example.org\n'
                 'Subject: %s\n'
                 'Date: %s\n'
                 'Message-ID: %s\n'
                 'MIME-Version: 1.0\n'
                 'Content-Type: text/plain; charset=utf-8\n'
                 '\n'
                 'Body of %s.\n'
                 % (subject, email.utils.formatdate(), mid, subject)).encode()


# Run by test_locked_keyring inside a keyring of its own: add an account,
# check it, lock the keyring, and try again.
LOCKED_SCRIPT = r"""
import json, os, subprocess
import gi
gi.require_version('Secret', '1')
from gi.repository import Secret

cli = %(cli)r
def run(*args, stdin=b''):
    r = subprocess.run([cli] + list(args), input=stdin, capture_output=True,
                       timeout=60)
    return {'rc': r.returncode, 'stdout': r.stdout.decode(),
            'stderr': r.stderr.decode()}

steps = {}
steps['add'] = run('account', 'add', 'Locked', '--host', %(host)r,
                   '--port', '%(port)d', '--security', 'none',
                   '--user', %(user)r,
                   stdin=os.environ['POPCHECK_TEST_PASSWORD'].encode()
                   + b'\n')['rc']
steps['before'] = run('--account', 'locked', 'check')
service = Secret.Service.get_sync(Secret.ServiceFlags.LOAD_COLLECTIONS, None)
collection = Secret.Collection.for_alias_sync(
    service, 'default', Secret.CollectionFlags.NONE, None)
service.lock_sync([collection], None)
steps['check'] = run('--account', 'locked', '--json', 'check')
steps['stat'] = run('--account', 'locked', 'stat')
items = service.search_sync(None, {'user': %(user)r},
                            Secret.SearchFlags.ALL, None)
steps['still_stored'] = len(items)
print(json.dumps(steps))
"""



class BrokenUidlServer:
    """A POP3 server on loopback whose UIDL repeats a UID (messages 2 and
    3) and garbles a line (message 4); messages 1 and 5 are sound."""

    UIDL = b'1 uid-1\r\n2 twin\r\n3 twin\r\n4 bad uid\r\n5 uid-5\r\n'

    def __init__(self):
        self.listener = socket.create_server(('127.0.0.1', 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def close(self):
        self.listener.close()
        self.thread.join(timeout=30)

    def serve(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(30)
                self.session(conn)

    def session(self, conn):
        reader = conn.makefile('rb')
        conn.sendall(b'+OK ready\r\n')
        for line in reader:
            words = line.strip().split(b' ')
            command = words[0].upper()
            if command == b'CAPA':
                conn.sendall(b'+OK\r\nUSER\r\nUIDL\r\nTOP\r\n.\r\n')
            elif command == b'UIDL':
                conn.sendall(b'+OK\r\n' + self.UIDL + b'.\r\n')
            elif command == b'LIST':
                conn.sendall(b'+OK\r\n' + b''.join(
                    b'%d 100\r\n' % n for n in range(1, 6)) + b'.\r\n')
            elif command == b'TOP':
                conn.sendall(b'+OK\r\nSubject: Message %s\r\n\r\n.\r\n'
                             % words[1])
            elif command == b'QUIT':
                conn.sendall(b'+OK bye\r\n')
                return
            else:
                conn.sendall(b'+OK\r\n')


class AccountsTestCase(popchecktest.DovecotTestCase):

    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix='popcheck-cli-accounts-')
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.env = dict(os.environ)
        for name in ('XDG_CONFIG_HOME', 'XDG_STATE_HOME', 'XDG_CACHE_HOME'):
            path = os.path.join(self.tmp, name.lower())
            os.makedirs(path)
            self.env[name] = path
        self.env['GSETTINGS_BACKEND'] = 'keyfile'
        # Every run of the CLI, with its arguments and all it printed: the
        # password must never be in any of them.
        self.results = []

    def tearDown(self):
        for result in self.results:
            self.assertNotLeaked(result)
        super().tearDown()

    # Helpers

    def run_cli(self, *args, stdin=b'', env=None, prefix=()):
        env = env if env is not None else self.env
        start = time.monotonic()
        completed = subprocess.run(list(prefix) + [popchecktest.cli_path()]
                                   + list(args), input=stdin,
                                   capture_output=True, env=env, timeout=120)
        result = CliResult(list(args), completed, time.monotonic() - start)
        self.results.append(result)
        return result

    def assertNotLeaked(self, result, password=None):
        password = password or self.user.password
        self.assertNotIn(password, ' '.join(result.args))
        self.assertNotIn(password.encode(), result.stdout)
        self.assertNotIn(password, result.stderr)

    def add_account(self, name='Work Mail', security='none', password=None,
                    pin=None, extra=(), env=None):
        password = self.user.password if password is None else password
        args = ['account', 'add', name,
                '--host', self.server.host,
                '--port', str(self.server.port(security)),
                '--security', security,
                '--user', self.user.name]
        if pin:
            args += ['--pin', pin]
        return self.run_cli(*args, *extra, stdin=password.encode() + b'\n',
                            env=env)

    def add_account_ok(self, name='Work Mail', **kwargs):
        result = self.add_account(name, **kwargs)
        self.assertExit(result, EXIT_OK)
        return result

    def gsettings(self, *args):
        subprocess.run(['gsettings'] + list(args), env=self.env, check=True,
                       capture_output=True, timeout=30)

    def set_account_key(self, account_id, key, value):
        self.gsettings('set', '%s:%s' % (ACCOUNT_SCHEMA,
                                         ACCOUNT_PATH % account_id),
                       key, value)

    def check_json(self, account='work-mail', status=EXIT_OK):
        args = ['--json', 'check'] if account is None else \
               ['--account', account, '--json', 'check']
        result = self.run_cli(*args)
        self.assertExit(result, status)
        return result, result.json_lines()

    def files_under(self, *dirs):
        """Every regular file's path and bytes below the directories."""
        for top in dirs:
            for root, _, names in os.walk(top):
                for name in names:
                    path = os.path.join(root, name)
                    if not os.path.isfile(path) or os.path.islink(path):
                        continue
                    with open(path, 'rb') as f:
                        yield path, f.read()

    def assertNoPlainPassword(self, password=None):
        password = (password or self.user.password).encode()
        # This test's directories, and the harness's: HOME, the keyring's
        # data directory, the bus.
        harness = os.path.dirname(os.environ['HOME'])
        for path, data in self.files_under(self.tmp, harness):
            # The keyring's own file is encrypted; anything else must not
            # hold the password.
            self.assertNotIn(password, data, path)

    def deliver(self, *subjects):
        ids = {}
        paths = []
        for subject in subjects:
            mid, data = make_message(subject)
            path = os.path.join(self.tmp, '%d.eml' % len(paths))
            with open(path, 'wb') as f:
                f.write(data)
            paths.append(path)
            ids[subject] = mid
        self.server.deliver(self.user, *paths)
        return ids

    # Accounts

    def test_add_list_and_the_password_in_the_keyring_only(self):
        result = self.add_account_ok()
        self.assertIn('work-mail', result.stdout.decode())

        result = self.run_cli('--json', 'account', 'list')
        self.assertExit(result, EXIT_OK)
        self.assertEqual(result.json_lines(), [{
            'account': 'work-mail', 'name': 'Work Mail',
            'host': self.server.host, 'port': self.server.port('none'),
            'security': 'none', 'user': self.user.name, 'auth': 'auto',
            'enabled': True, 'interval': 5, 'pin': None}])

        result = self.run_cli('account', 'list')
        self.assertExit(result, EXIT_OK)
        self.assertEqual(result.stdout.decode().splitlines(), [
            'work-mail\tWork Mail\t%s@%s:%d\tnone\tauto'
            % (self.user.name, self.server.host, self.server.port('none'))])

        self.assertEqual(keyring_password(self.server.host,
                                          self.server.port('none'),
                                          self.user.name),
                         self.user.password)
        self.assertNoPlainPassword()

        # The settings can be read from outside, and hold no password.
        out = subprocess.run(['gsettings', 'list-recursively',
                              '%s:%s' % (ACCOUNT_SCHEMA,
                                         ACCOUNT_PATH % 'work-mail')],
                             env=self.env, capture_output=True, text=True,
                             check=True).stdout
        self.assertIn("host '%s'" % self.server.host, out)
        self.assertNotIn(self.user.password, out)

        # The same name twice is refused, and nothing changes.
        result = self.add_account('work mail')
        self.assertExit(result, EXIT_USAGE)
        result = self.run_cli('account', 'list')
        self.assertEqual(len(result.stdout.splitlines()), 1)

    def test_add_prompts_without_echo_on_a_terminal(self):
        master, slave = pty.openpty()
        self.addCleanup(os.close, master)
        proc = subprocess.Popen(
            [popchecktest.cli_path(), 'account', 'add', 'Work Mail',
             '--host', self.server.host,
             '--port', str(self.server.port('none')), '--security', 'none',
             '--user', self.user.name],
            stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=self.env)
        try:
            # The prompt is on stderr; wait until echo is off.
            prompt = b''
            while not prompt.endswith(b': '):
                chunk = os.read(proc.stderr.fileno(), 100)
                self.assertTrue(chunk, 'no prompt; stderr %r' % prompt)
                prompt += chunk
            self.assertEqual(prompt.decode(), 'Password for %s@%s: '
                             % (self.user.name, self.server.host))
            self.assertFalse(termios.tcgetattr(slave)[3] & termios.ECHO)
            os.write(master, self.user.password.encode() + b'\n')
            stdout, stderr = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.assertEqual(proc.returncode, 0, stderr)
        self.assertIn(b'work-mail', stdout)
        # Echo is back, and the terminal never showed the password.
        self.assertTrue(termios.tcgetattr(slave)[3] & termios.ECHO)
        os.close(slave)
        shown = b''
        try:
            while True:
                chunk = os.read(master, 1000)
                if not chunk:
                    break
                shown += chunk
        except OSError:
            pass
        self.assertNotIn(self.user.password.encode(), shown)
        self.assertNotIn(self.user.password.encode(), stdout + stderr)
        self.assertEqual(keyring_password(self.server.host,
                                          self.server.port('none'),
                                          self.user.name),
                         self.user.password)

    def test_add_refuses_bad_arguments_before_reading_the_password(self):
        for extra, why in ((['--port', '0'], '--port'),
                           (['--security', 'ssl'], '--security'),
                           (['--auth', 'kerberos'], '--auth'),
                           (['--pin', 'abc'], '--pin'),
                           (['--timeout', '3'], '--timeout')):
            result = self.add_account(extra=extra)
            self.assertExit(result, EXIT_USAGE)
            self.assertIn(why, result.stderr)
        result = self.run_cli('account', 'add', 'X', '--user', 'u',
                              stdin=b'pw\n')
        self.assertExit(result, EXIT_USAGE)
        self.assertIn('--host', result.stderr)
        # No password on stdin: no account.
        result = self.add_account(password='', extra=())
        self.assertExit(result, EXIT_USAGE)
        result = self.run_cli('account', 'add', 'X', '--host', 'h',
                              '--user', 'u', stdin=b'')
        self.assertExit(result, EXIT_USAGE)
        self.assertIn('reads the password from standard input',
                      result.stderr)
        result = self.run_cli('account', 'list')
        self.assertExit(result, EXIT_OK)
        self.assertEqual(result.stdout, b'')

    def test_remove_removes_the_secret(self):
        self.add_account_ok()
        port = self.server.port('none')
        self.assertIsNotNone(keyring_password(self.server.host, port,
                                              self.user.name))

        result = self.run_cli('account', 'remove', 'Work Mail')
        self.assertExit(result, EXIT_OK)
        self.assertIsNone(keyring_password(self.server.host, port,
                                           self.user.name))
        result = self.run_cli('account', 'list')
        self.assertEqual(result.stdout, b'')

        # The same account made again from outside has no password now.
        self.gsettings('set', 'org.example.PopCheck', 'accounts',
                       "['again']")
        for key, value in (('host', self.server.host), ('port', str(port)),
                           ('security', 'none'), ('user', self.user.name)):
            self.set_account_key('again', key, value)
        result = self.run_cli('--account', 'again', 'stat')
        self.assertExit(result, EXIT_KEYRING)
        self.assertIn('No password is stored', result.stderr)

        result = self.run_cli('account', 'remove', 'Work Mail')
        self.assertExit(result, EXIT_USAGE)

    # --account with the engine's commands

    def test_account_runs_engine_commands(self):
        self.add_account_ok()
        result = self.run_cli('--account', 'Work Mail', '--json', 'stat',
                              'uidl')
        self.assertExit(result, EXIT_OK)
        stat, uidl = result.json_lines()
        count = len(popchecktest.sample_messages())
        self.assertEqual(stat['count'], count)
        self.assertEqual(len(uidl['items']), count)

        # The same, given as on the command line of issue 2.
        direct = self.cli('stat', 'uidl', security='none')
        self.assertExit(direct, EXIT_OK)
        self.assertEqual(direct.json_lines(), result.json_lines())

        # What the account says is not mixed with other options.
        for extra in (['--host', 'example.org'], ['--user', 'x'],
                      ['--port', '1'], ['--password-stdin']):
            result = self.run_cli('--account', 'work-mail', *extra, 'stat')
            self.assertExit(result, EXIT_USAGE)

    def test_password_never_in_debug_output(self):
        self.add_account_ok()
        for level in ('1', '2'):
            result = self.run_cli('--account', 'work-mail', '--debug', level,
                                  'stat', 'list')
            self.assertExit(result, EXIT_OK)
            # Debugging is on (the test could not fail otherwise)...
            self.assertIn('STAT', result.stderr)
            # ...and the password is not in it (tearDown checks every run).
            self.assertNotLeaked(result)

    def test_tls_account_with_pinned_certificate(self):
        self.add_account_ok('Secure', security='tls',
                            pin=self.server.fingerprint)
        result = self.run_cli('--account', 'secure', 'check')
        self.assertExit(result, EXIT_OK)
        self.assertEqual(result.stdout.decode(), 'Secure: 0 new, %d total\n'
                         % len(popchecktest.sample_messages()))

        # Without the pin the self-signed certificate is refused.
        self.set_account_key('secure', 'pinned-fingerprint', "''")
        result = self.run_cli('--account', 'secure', 'check')
        self.assertExit(result, EXIT_TLS)
        self.assertIn('certificate', result.stderr)
        result = self.run_cli('--account', 'secure', 'stat')
        self.assertExit(result, EXIT_TLS)

    # check and status

    def test_check_status_and_new_mail(self):
        self.add_account_ok()
        count = len(popchecktest.sample_messages())

        result = self.run_cli('status')
        self.assertExit(result, EXIT_OK)
        self.assertEqual(result.stdout.decode(),
                         'Work Mail: not checked yet\n')

        # The first check records what is there: nothing is new.
        result = self.run_cli('--account', 'work-mail', 'check')
        self.assertExit(result, EXIT_OK)
        self.assertEqual(result.stdout.decode(),
                         'Work Mail: 0 new, %d total\n' % count)

        result, (obj,) = self.check_json()
        self.assertEqual(obj['account'], 'work-mail')
        self.assertEqual(obj['name'], 'Work Mail')
        self.assertEqual((obj['total'], obj['new'], obj['state'],
                          obj['error']), (count, 0, 'idle', None))
        self.assertEqual(len(obj['messages']), count)
        for message in obj['messages']:
            self.assertEqual(set(message), {'uid', 'number', 'from',
                                            'subject', 'date', 'size',
                                            'new'})
            self.assertIs(message['new'], False)
        subjects = {m['subject'] for m in obj['messages']}
        self.assertIn('Welcome to the PopCheck demo mailbox', subjects)

        # New mail: exactly those messages are new.
        self.deliver('First new one', 'Second new one')
        result, (obj,) = self.check_json()
        self.assertEqual((obj['total'], obj['new']), (count + 2, 2))
        new = {m['subject'] for m in obj['messages'] if m['new']}
        self.assertEqual(new, {'First new one', 'Second new one'})

        # status: the last known counts, without the network: the account
        # now points at a port where nothing listens.
        port = closed_port()
        keyring_store(self.server.host, port, self.user.name,
                      self.user.password)
        self.set_account_key('work-mail', 'port', str(port))
        result = self.run_cli('status')
        self.assertExit(result, EXIT_OK)
        self.assertRegex(result.stdout.decode(),
                         r'^Work Mail: 2 new, %d total, last checked '
                         r'\d{4}-\d\d-\d\d \d\d:\d\d\n$' % (count + 2))

        result = self.run_cli('status', '--format', 'waybar')
        self.assertExit(result, EXIT_OK)
        (waybar,) = result.json_lines()
        self.assertEqual(waybar, {'text': '2',
                                  'tooltip': 'Work Mail: 2 new, %d total'
                                             % (count + 2),
                                  'class': 'new', 'alt': 'new'})

        result = self.run_cli('status', '--format', 'json')
        self.assertExit(result, EXIT_OK)
        (status,) = result.json_lines()
        self.assertEqual((status['account'], status['total'], status['new'],
                          status['error']),
                         ('work-mail', count + 2, 2, None))
        self.assertEqual(sorted(m['uid'] for m in status['messages']),
                         sorted(m['uid'] for m in obj['messages']))

        # The check itself fails now, and says why; status is unchanged.
        result, (failed,) = self.check_json(status=popchecktest.EXIT_NETWORK)
        self.assertEqual(failed['state'], 'error')
        self.assertTrue(failed['error'])
        result = self.run_cli('status', '--format', 'waybar')
        self.assertEqual(result.json_lines()[0]['text'], '2')

        # Checks never mark messages seen on the server.
        self.assertEqual(self.user.seen_ids(), set())

        result = self.run_cli('status', '--format', 'xml')
        self.assertExit(result, EXIT_USAGE)

    def test_check_first_headers(self):
        """A check fetches the headers of the newest messages only (300 by
        default); the others are listed, and counted, without them."""
        self.add_account_ok()
        count = len(popchecktest.sample_messages())
        self.assertGreater(count, 5)
        everything = {'uid', 'number', 'from', 'subject', 'date', 'size',
                      'new'}

        result = self.run_cli('--account', 'work-mail', 'check',
                              '--first-headers', '3')
        self.assertExit(result, EXIT_OK)
        self.assertEqual(result.stdout.decode(),
                         'Work Mail: 0 new, %d total, %d without headers '
                         'yet\n' % (count, count - 3))

        # The next check takes the newest of those left.
        result = self.run_cli('--account', 'work-mail', '--json', 'check',
                              '--first-headers', '2')
        self.assertExit(result, EXIT_OK)
        (obj,) = result.json_lines()
        self.assertEqual((obj['total'], len(obj['messages'])), (count, count))
        known = {m['number'] for m in obj['messages'] if 'subject' in m}
        self.assertEqual(known, set(range(count - 4, count + 1)))
        for message in obj['messages']:
            if message['number'] in known:
                self.assertEqual(set(message), everything)
            else:
                self.assertEqual(set(message),
                                 {'uid', 'number', 'size', 'new'})
                self.assertGreater(message['size'], 0)

        # Every header, waited for.
        result = self.run_cli('--account', 'work-mail', '--json', 'check',
                              '--all-headers')
        self.assertExit(result, EXIT_OK)
        (obj,) = result.json_lines()
        self.assertEqual(len(obj['messages']), count)
        for message in obj['messages']:
            self.assertEqual(set(message), everything)
        result = self.run_cli('--account', 'work-mail', 'check')
        self.assertEqual(result.stdout.decode(),
                         'Work Mail: 0 new, %d total\n' % count)

        for args in (['check', '--first-headers', 'many'],
                     ['check', '--first-headers', '-1'],
                     ['check', '--first-headers', '3', '--all-headers'],
                     ['status', '--all-headers'],
                     ['--host', 'localhost', '--first-headers', '3', 'stat']):
            result = self.run_cli(*args)
            self.assertExit(result, EXIT_USAGE)
            self.assertIn('headers', result.stderr)

    def test_status_of_no_accounts(self):
        result = self.run_cli('status', '--format', 'waybar')
        self.assertExit(result, EXIT_OK)
        self.assertEqual(result.json_lines(), [{
            'text': '0', 'tooltip': 'No accounts', 'class': 'none',
            'alt': 'none'}])
        result = self.run_cli('status')
        self.assertExit(result, EXIT_OK)
        self.assertEqual(result.stdout, b'')
        result = self.run_cli('check')
        self.assertExit(result, EXIT_USAGE)

    def write_state_file(self, account_id, data):
        directory = os.path.join(self.env['XDG_STATE_HOME'], 'popcheck')
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, account_id + '.state')
        with open(path, 'wb') as f:
            f.write(data)
        return directory, path

    def test_status_leaves_unreadable_state_alone(self):
        from gi.repository import GLib
        self.add_account_ok()

        # A state file of a format this PopCheck does not know yet: read,
        # reported, never moved or rewritten.
        newer = GLib.Variant('(suv)', ('org.example.PopCheck.MailboxState',
                                       99, GLib.Variant('s', 'future')))
        newer_bytes = newer.get_data_as_bytes().get_data()
        directory, path = self.write_state_file('work-mail', newer_bytes)
        for args in (('status',), ('status', '--format', 'json'),
                     ('status', '--format', 'waybar')):
            result = self.run_cli(*args)
            self.assertExit(result, EXIT_OK)
            self.assertIn('newer version of PopCheck', result.stderr)
            self.assertEqual(os.listdir(directory), ['work-mail.state'])
            with open(path, 'rb') as f:
                self.assertEqual(f.read(), newer_bytes)
        result = self.run_cli('status', '--format', 'json')
        (obj,) = result.json_lines()
        self.assertIn('newer version of PopCheck', obj['error'])

        # A damaged one: reading it is no reason to move it either.
        damaged = newer_bytes[:len(newer_bytes) // 2]
        directory, path = self.write_state_file('work-mail', damaged)
        result = self.run_cli('status')
        self.assertExit(result, EXIT_OK)
        self.assertEqual(result.stdout.decode(),
                         'Work Mail: not checked yet\n')
        self.assertTrue(result.stderr)
        self.assertEqual(os.listdir(directory), ['work-mail.state'])
        with open(path, 'rb') as f:
            self.assertEqual(f.read(), damaged)

    def test_unknown_account(self):
        self.add_account_ok()
        for args in (['--account', 'nope', 'check'],
                     ['--account', 'nope', 'stat'],
                     ['--account', 'nope', 'status'],
                     ['--account', 'nope', 'delete', 'abc'],
                     ['account', 'remove', 'nope']):
            result = self.run_cli(*args)
            self.assertExit(result, EXIT_USAGE)
            self.assertIn('no account "nope"', result.stderr)
            self.assertEqual(result.stdout, b'')
        result = self.run_cli('account', 'list')
        self.assertIn(b'work-mail', result.stdout)

    def test_wrong_password(self):
        self.add_account_ok(password='not-the-password')
        result, (obj,) = self.check_json(status=EXIT_AUTH)
        self.assertEqual(obj['state'], 'error')
        self.assertIn('user name or password', obj['error'])
        self.assertIn('user name or password', result.stderr)
        result = self.run_cli('--account', 'work-mail', 'stat')
        self.assertExit(result, EXIT_AUTH)
        # The stored secret is kept: the user must act.
        self.assertEqual(keyring_password(self.server.host,
                                          self.server.port('none'),
                                          self.user.name),
                         'not-the-password')
        for result in self.results:
            self.assertNotLeaked(result, 'not-the-password')

    def test_check_says_unique_ids_are_broken(self):
        server = BrokenUidlServer()
        self.addCleanup(server.close)
        self.assertExit(self.run_cli(
            'account', 'add', 'Broken', '--host', '127.0.0.1',
            '--port', str(server.port), '--security', 'none',
            '--user', self.user.name,
            stdin=self.user.password.encode() + b'\n'), EXIT_OK)
        notice = ("popcheck-cli: Broken: The server's unique IDs are broken "
                  "for 3 messages. PopCheck lists them by number but "
                  "cannot delete them.\n")

        # The sound messages are checked; the others are listed by
        # number, and the user is told once, on standard error, why.
        result = self.run_cli('--account', 'broken', 'check')
        self.assertExit(result, EXIT_OK)
        self.assertEqual(result.stdout.decode(), 'Broken: 0 new, 5 total\n')
        self.assertEqual(result.stderr, notice)

        result, (obj,) = self.check_json(account='broken')
        self.assertEqual((obj['state'], obj['total'], obj['without_uid']),
                         ('idle', 5, 3))
        self.assertEqual(sorted((m['number'], m['uid'] or '', m['size'],
                                 m['new'])
                                for m in obj['messages']),
                         [(1, 'uid-1', 100, False), (2, '', 100, False),
                          (3, '', 100, False), (4, '', 100, False),
                          (5, 'uid-5', 100, False)])
        self.assertEqual([m['uid'] for m in obj['messages']
                          if m['number'] in (2, 3, 4)], [None] * 3)

        # Known for the session of that check only: never saved.
        result = self.run_cli('status', '--format', 'json')
        self.assertExit(result, EXIT_OK)
        (status,) = result.json_lines()
        self.assertEqual(sorted(m['uid'] for m in status['messages']),
                         ['uid-1', 'uid-5'])

    def test_check_all_accounts_one_failing(self):
        self.add_account_ok()
        # A second account made from outside, without a password stored.
        self.gsettings('set', 'org.example.PopCheck', 'accounts',
                       "['work-mail', 'other']")
        for key, value in (('display-name', "'Other'"),
                           ('host', self.server.host),
                           ('port', str(self.server.port('none'))),
                           ('security', 'none'), ('user', 'nobody-here')):
            self.set_account_key('other', key, value)
        # A third, disabled: reported, not checked.
        self.gsettings('set', 'org.example.PopCheck', 'accounts',
                       "['work-mail', 'other', 'off']")
        for key, value in (('display-name', "'Off'"), ('host', 'localhost'),
                           ('user', 'x'), ('enabled', 'false')):
            self.set_account_key('off', key, value)

        result, objects = self.check_json(account=None, status=EXIT_KEYRING)
        by_id = {o['account']: o for o in objects}
        self.assertEqual([o['account'] for o in objects],
                         ['work-mail', 'other', 'off'])
        self.assertEqual(by_id['work-mail']['state'], 'idle')
        self.assertEqual(by_id['work-mail']['total'],
                         len(popchecktest.sample_messages()))
        self.assertEqual(by_id['other']['state'], 'error')
        self.assertIn('No password is stored', by_id['other']['error'])
        self.assertEqual(by_id['off']['state'], 'disabled')

        result = self.run_cli('check')
        self.assertExit(result, EXIT_KEYRING)
        self.assertEqual(result.stdout.decode().splitlines(), [
            'Work Mail: 0 new, %d total' % len(popchecktest.sample_messages()),
            'Off: disabled'])
        self.assertIn('Other: No password is stored', result.stderr)

        result = self.run_cli('status')
        self.assertEqual(result.stdout.decode().splitlines()[1:],
                         ['Other: not checked yet', 'Off: disabled'])

    def test_ctrl_c_stops_a_check(self):
        # A server that accepts and never greets: the check would wait for
        # the 30 s timeout; Ctrl+C ends it at once.
        silent = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(silent.close)
        silent.bind(('127.0.0.1', 0))
        silent.listen(4)
        port = silent.getsockname()[1]
        result = self.run_cli('account', 'add', 'Silent',
                              '--host', '127.0.0.1', '--port', str(port),
                              '--security', 'none', '--user', self.user.name,
                              stdin=self.user.password.encode() + b'\n')
        self.assertExit(result, EXIT_OK)

        start = time.monotonic()
        proc = subprocess.Popen([popchecktest.cli_path(), '--account',
                                 'silent', 'check'], env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        connection, _ = silent.accept()
        self.addCleanup(connection.close)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=20)
        self.assertEqual(proc.returncode, 130, stderr)
        self.assertLess(time.monotonic() - start, 10)
        self.assertEqual(stdout, b'')
        # The connection was dropped without a word (no QUIT).
        connection.settimeout(10)
        self.assertEqual(connection.recv(100), b'')

    # No Secret Service

    def test_no_secret_service(self):
        self.add_account_ok()
        no_bus = dict(self.env)
        no_bus['DBUS_SESSION_BUS_ADDRESS'] = \
            'unix:path=' + os.path.join(self.tmp, 'no-such-bus')
        harness = os.path.join(popchecktest.source_dir(), 'tests',
                               'keyring-harness')
        # The nested harness makes a bus without a Secret Service, and
        # fresh XDG directories that `env` points back at this test's.
        no_service = ['env'] + ['%s=%s' % (name, self.env[name]) for name in
                                ('XDG_CONFIG_HOME', 'XDG_STATE_HOME',
                                 'XDG_CACHE_HOME', 'GSETTINGS_BACKEND')]
        for env, prefix in ((no_bus, ()),
                            (self.env, [harness, '--mode', 'no-service',
                                        '--'] + no_service)):
            # Adding: refused, and nothing written anywhere.
            result = self.run_cli('account', 'add', 'Second',
                                  '--host', self.server.host,
                                  '--port', str(self.server.port('none')),
                                  '--security', 'none',
                                  '--user', self.user.name,
                                  stdin=b'Never-Stored-1\n', env=env,
                                  prefix=prefix)
            self.assertExit(result, EXIT_KEYRING)
            self.assertIn('No keyring service is running', result.stderr)
            self.assertIn('was not added', result.stderr)
            self.assertNoPlainPassword('Never-Stored-1')

            # An existing account: a clear error, for that account.
            result = self.run_cli('--account', 'work-mail', '--json', 'check',
                                  env=env, prefix=prefix)
            self.assertExit(result, EXIT_KEYRING)
            (obj,) = result.json_lines()
            self.assertEqual(obj['state'], 'error')
            self.assertIn('No keyring service is running', obj['error'])
            result = self.run_cli('--account', 'work-mail', 'stat',
                                  env=env, prefix=prefix)
            self.assertExit(result, EXIT_KEYRING)
            self.assertIn('No keyring service is running', result.stderr)

            # status needs no keyring.
            result = self.run_cli('status', env=env, prefix=prefix)
            self.assertExit(result, EXIT_OK)

        result = self.run_cli('account', 'list')
        self.assertEqual(len(result.stdout.splitlines()), 1)
        self.assertNoPlainPassword()

    def test_locked_keyring(self):
        """The keyring locked and the unlock prompt refused (there is no
        prompter on the private bus): a clear error, exit status 6, and
        the password stays stored.  In a keyring of its own, under a nested
        harness, since nothing can unlock it again."""
        harness = os.path.join(popchecktest.source_dir(), 'tests',
                               'keyring-harness')
        script = LOCKED_SCRIPT % {
            'cli': popchecktest.cli_path(), 'host': self.server.host,
            'port': self.server.port('none'), 'user': self.user.name}
        env = dict(self.env)
        env['POPCHECK_TEST_PASSWORD'] = self.user.password
        completed = subprocess.run(
            [harness, '--mode', 'keyring', '--', 'env'] +
            ['%s=%s' % (name, self.env[name]) for name in
             ('XDG_CONFIG_HOME', 'XDG_STATE_HOME', 'XDG_CACHE_HOME')] +
            [sys.executable, '-c', script],
            env=env, capture_output=True, timeout=120)
        self.assertEqual(completed.returncode, 0, completed.stderr)
        steps = json.loads(completed.stdout)
        self.assertEqual(steps['add'], 0, steps)
        self.assertEqual(steps['before']['rc'], EXIT_OK, steps)
        check = steps['check']
        self.assertEqual(check['rc'], EXIT_KEYRING, steps)
        (obj,) = [json.loads(line) for line in check['stdout'].splitlines()]
        self.assertEqual(obj['state'], 'error')
        self.assertEqual(obj['error'],
                         'The keyring is locked and was not unlocked.')
        self.assertIn('The keyring is locked', check['stderr'])
        self.assertEqual(steps['stat']['rc'], EXIT_KEYRING, steps)
        self.assertEqual(steps['still_stored'], 1, steps)
        for step in ('before', 'check', 'stat'):
            self.assertNotIn(self.user.password, steps[step]['stdout'])
            self.assertNotIn(self.user.password, steps[step]['stderr'])

    # delete

    def uid_of(self, messages, subject):
        (uid,) = [m['uid'] for m in messages if m['subject'] == subject]
        return uid

    def test_delete_by_uid(self):
        self.add_account_ok()
        _, (obj,) = self.check_json()
        before = self.user.messages()
        victim = self.uid_of(obj['messages'], 'Lines that start with dots')
        victim_mid = [mid for mid, m in before.items()
                      if b'Lines that start with dots' in m.data][0]

        result = self.run_cli('--account', 'work-mail', 'delete', victim)
        self.assertExit(result, EXIT_OK)
        self.assertEqual(result.stdout.decode(), '%s: deleted\n' % victim)
        self.assertEqual(self.user.message_ids(), set(before) - {victim_mid})

        # Again: already gone, and nothing else is touched.
        result = self.run_cli('--account', 'work-mail', '--json', 'delete',
                              victim)
        self.assertExit(result, EXIT_OK)
        self.assertEqual(result.json_lines(), [{
            'account': 'work-mail', 'ok': True, 'deleted': [],
            'already_gone': [victim]}])
        self.assertEqual(self.user.message_ids(), set(before) - {victim_mid})

        # The deleted message left the list; status knows it.
        result = self.run_cli('status', '--format', 'json')
        (status,) = result.json_lines()
        self.assertNotIn(victim, [m['uid'] for m in status['messages']])
        self.assertEqual(status['total'], len(before) - 1)

        # Not a UID, and no UID: usage errors, nothing deleted.
        for args in (['delete', 'bad uid'], ['delete'], ['delete', 'x' * 71]):
            result = self.run_cli('--account', 'work-mail', *args)
            self.assertExit(result, EXIT_USAGE)
        result = self.run_cli('delete', victim)
        self.assertExit(result, EXIT_USAGE)
        self.assertEqual(self.user.message_ids(), set(before) - {victim_mid})

    def start_running_popcheck(self):
        """A stand-in for a running PopCheck on the test's session bus:
        python-dbusmock with GApplication's org.gtk.Actions.Activate."""
        from gi.repository import Gio, GLib
        mock = subprocess.Popen(
            ['/usr/bin/python3', '-m', 'dbusmock', 'org.example.PopCheck',
             '/org/example/PopCheck', 'org.gtk.Actions'],
            env=self.env, stdout=subprocess.DEVNULL)
        self.addCleanup(mock.wait)
        self.addCleanup(mock.terminate)
        bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
        # Until the mock owns its name, with a deadline.
        loop = GLib.MainLoop()
        owned = []

        def appeared(*args):
            owned.append(True)
            loop.quit()
        watch = Gio.bus_watch_name_on_connection(
            bus, 'org.example.PopCheck', Gio.BusNameWatcherFlags.NONE,
            appeared, None)
        timed_out = []

        def give_up():
            timed_out.append(True)
            loop.quit()
            return GLib.SOURCE_REMOVE
        deadline = GLib.timeout_add_seconds(60, give_up)
        loop.run()
        if not timed_out:
            GLib.source_remove(deadline)
        Gio.bus_unwatch_name(watch)
        self.assertTrue(owned, 'the mock PopCheck never took its name')
        mock_call = functools.partial(
            bus.call_sync, 'org.example.PopCheck', '/org/example/PopCheck',
            'org.freedesktop.DBus.Mock')
        mock_call('AddMethod', GLib.Variant('(sssss)', (
            '', 'Activate', 'sava{sv}', '', '')),
            None, Gio.DBusCallFlags.NONE, -1, None)

        def activations():
            calls = mock_call('GetCalls', None, None, Gio.DBusCallFlags.NONE,
                              -1, None).unpack()[0]
            return [tuple(args[:2]) for _, method, args in calls
                    if method == 'Activate']
        return activations

    def test_mark_seen_asks_running_popcheck(self):
        """While PopCheck runs it keeps the marks and would write over the
        state file: mark-seen asks it instead, and leaves the file alone."""
        self.add_account_ok()
        self.check_json()
        self.deliver('New while running')
        _, (obj,) = self.check_json()
        uid = self.uid_of(obj['messages'], 'New while running')
        state = os.path.join(self.env['XDG_STATE_HOME'], 'popcheck',
                             'work-mail.state')
        with open(state, 'rb') as f:
            before = f.read()
        activations = self.start_running_popcheck()

        result = self.run_cli('--account', 'work-mail', 'mark-seen', uid)
        self.assertExit(result, EXIT_OK)
        self.assertEqual(result.stdout.decode(),
                         'Work Mail: marked seen in the running PopCheck\n')
        result = self.run_cli('--account', 'work-mail', 'mark-seen', '--all',
                              '--json')
        self.assertExit(result, EXIT_OK)
        self.assertEqual(result.json_lines(),
                         [{'account': 'work-mail', 'running': True}])

        self.assertEqual(activations(), [
            ('mark-seen', [('work-mail', [uid])]),
            ('mark-account-seen', ['work-mail'])])
        with open(state, 'rb') as f:
            self.assertEqual(f.read(), before)

    def test_mark_seen(self):
        self.add_account_ok()
        count = len(popchecktest.sample_messages())
        self.check_json()
        self.deliver('First new one', 'Second new one', 'Third new one')
        _, (obj,) = self.check_json()
        first = self.uid_of(obj['messages'], 'First new one')
        state = os.path.join(self.env['XDG_STATE_HOME'], 'popcheck',
                             'work-mail.state')
        with open(state, 'rb') as f:
            before = f.read()

        # Wrong uses: explained, nothing written.
        for args, words in (
                (['mark-seen'], 'or --all'),
                (['--account', 'work-mail', 'mark-seen', first, '--all'],
                 'not both'),
                (['mark-seen', first], 'needs --account'),
                (['--account', 'work-mail', 'mark-seen', 'bad uid'],
                 'is not a UID'),
                (['--all', 'status'], '--all does not go with "status"'),
                (['--all', 'stat'], '--all goes with mark-seen')):
            result = self.run_cli(*args)
            self.assertExit(result, EXIT_USAGE)
            self.assertIn(words, result.stderr)
        with open(state, 'rb') as f:
            self.assertEqual(f.read(), before)

        # One message, and a UID that is not listed: said, not fatal.
        result = self.run_cli('--account', 'work-mail', 'mark-seen', first,
                              'gone-uid')
        self.assertExit(result, EXIT_OK)
        self.assertEqual(result.stdout.decode(),
                         'Work Mail: 2 new, %d total\n' % (count + 3))
        self.assertIn('no message with the UID "gone-uid" is listed',
                      result.stderr)
        result = self.run_cli('status', '--format', 'json')
        (status,) = result.json_lines()
        self.assertEqual(status['new'], 2)
        self.assertEqual({m['subject'] for m in status['messages']
                          if m['new']}, {'Second new one', 'Third new one'})

        # All of them: waybar no longer says "new", and a check does not
        # bring the mark back.
        result = self.run_cli('mark-seen', '--all')
        self.assertExit(result, EXIT_OK)
        self.assertEqual(result.stdout.decode(),
                         'Work Mail: 0 new, %d total\n' % (count + 3))
        result = self.run_cli('status', '--format', 'waybar')
        self.assertExit(result, EXIT_OK)
        self.assertEqual(result.json_lines()[0]['class'], 'none')
        self.assertEqual(result.json_lines()[0]['text'], '0')
        _, (obj,) = self.check_json()
        self.assertEqual(obj['new'], 0)

        # Only in PopCheck: the server's messages are untouched.
        self.assertEqual(self.user.seen_ids(), set())
        self.assertEqual(len(self.user.message_ids()), count + 3)

    def test_delete_after_renumbering(self):
        """Message 1 goes behind our back; the one that was number 3 is
        deleted by UID, and exactly that one is gone."""
        self.add_account_ok()
        result = self.run_cli('--account', 'work-mail', '--json', 'uidl')
        self.assertExit(result, EXIT_OK)
        items = {i['msg']: i['uid'] for i in result.json_lines()[0]['items']}
        self.check_json()
        third = items[3]
        before = self.user.messages()

        # A second client deletes message 1: every number shifts.
        result = self.cli('dele 1', security='none')
        self.assertExit(result, EXIT_OK)
        after_first = self.user.message_ids()
        self.assertEqual(len(after_first), len(before) - 1)

        result = self.run_cli('--account', 'work-mail', '--json', 'delete',
                              third, items[1])
        self.assertExit(result, EXIT_OK)
        self.assertEqual(result.json_lines(), [{
            'account': 'work-mail', 'ok': True, 'deleted': [third],
            'already_gone': [items[1]]}])
        remaining = self.user.message_ids()
        self.assertEqual(len(remaining), len(before) - 2)
        gone = set(before) - remaining
        self.assertEqual(len(gone), 2)
        # Dovecot numbers the Maildir in file order: the gone ones are the
        # first and third sample messages.
        samples = popchecktest.sample_messages()
        expected = set()
        for path in (samples[0], samples[2]):
            with open(path, 'rb') as f:
                expected.add(popchecktest.message_id(f.read()))
        self.assertEqual(gone, expected)


if __name__ == '__main__':
    popchecktest.main()
