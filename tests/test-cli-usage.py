#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# popcheck-cli's command-line interface: usage errors and their exit
# status, connection failures, and the text and JSON output against a
# small scripted server in this process (no Dovecot needed).  Outside
# scripts depend on this interface, so it is checked exactly.

import base64
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import unittest

CLI = os.environ.get('POPCHECK_CLI')

COMMANDS = ['welcome', 'capa', 'stat', 'list', 'uidl', 'top', 'retr', 'dele',
            'rset', 'noop', 'utf8']

EXIT_OK, EXIT_SERVER, EXIT_USAGE, EXIT_NETWORK, EXIT_TLS, EXIT_AUTH = range(6)


def closed_port():
    """A loopback port on which nothing listens."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def run_cli(*args, stdin=b'', timeout=30, env=None):
    return subprocess.run([CLI] + list(args), input=stdin,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout, env=env)


class ScriptedServer:
    """A POP3 server for one connection, on a thread.

    It serves a fixed mailbox with the commands popcheck-cli uses, records
    every line it receives, and can be told to misbehave."""

    def __init__(self, greeting=b'+OK ready', messages=None,
                 password=b'secret', garbage_on=None, silent_on=None,
                 drip_on=None):
        self.greeting = greeting
        self.messages = messages or []
        self.password = password
        self.garbage_on = garbage_on
        self.silent_on = silent_on
        self.drip_on = drip_on
        self.went_silent = threading.Event()
        self.stop = threading.Event()
        self.received = []
        # Replies to be written later, all at once (see _holds).
        self.held = b''
        self.deleted = set()
        self.committed = None
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(1)
        self.sock.settimeout(30)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def close(self):
        self.stop.set()
        self.thread.join(30)
        self.sock.close()

    def _serve(self):
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(30)
            stream = conn.makefile('rwb')
            stream.write(self.greeting + b'\r\n')
            stream.flush()
            for raw in stream:
                line = raw.rstrip(b'\r\n')
                self.received.append(line.decode('utf-8', 'replace'))
                verb = line.split(b' ')[0].upper()
                if verb == self.silent_on:
                    # Hold the connection open and say nothing until the
                    # client gives up.
                    self.went_silent.set()
                    conn.recv(1)
                    return
                if verb == self.drip_on:
                    self._drip(conn, stream)
                    return
                if verb == self.garbage_on:
                    stream.write(b'this is not POP3\r\n')
                    stream.flush()
                    return
                reply = self._answer(verb, line.split(b' ')[1:])
                if self._holds(line):
                    self.held += reply
                    continue
                stream.write(self.held + reply)
                self.held = b''
                stream.flush()
                if verb == b'QUIT':
                    self.committed = set(self.deleted)
                    return

    def _holds(self, line):
        """Whether the reply to @line waits in self.held."""
        return False

    def _drip(self, conn, stream):
        """Begin a listing and send a line of it every 50 ms, each well
        inside the client's timeout, for a minute or until the client
        hangs up."""
        try:
            stream.write(b'+OK listing follows\r\n')
            stream.flush()
            for _ in range(1200):
                if self.stop.wait(0.05):
                    return
                stream.write(b'1 uid-1\r\n')
                stream.flush()
        except OSError:
            return
        conn.recv(1)

    def _message(self, args):
        try:
            n = int(args[0])
        except (IndexError, ValueError):
            return None
        if 1 <= n <= len(self.messages) and n not in self.deleted:
            return n
        return None

    @staticmethod
    def _multi(first, lines):
        out = [first]
        for l in lines:
            out.append(b'.' + l if l.startswith(b'.') else l)
        out.append(b'.')
        return b'\r\n'.join(out) + b'\r\n'

    def _answer(self, verb, args):
        live = [i for i in range(1, len(self.messages) + 1)
                if i not in self.deleted]
        if verb == b'CAPA':
            return self._multi(b'+OK capabilities',
                               [b'USER', b'UIDL', b'TOP', b'SASL PLAIN'])
        if verb == b'USER':
            return b'+OK send PASS\r\n'
        if verb == b'PASS':
            if args and b' '.join(args) == self.password:
                return b'+OK logged in\r\n'
            return b'-ERR [AUTH] wrong password\r\n'
        if verb == b'AUTH':
            return b'-ERR [AUTH] not here\r\n'
        if verb == b'STAT':
            size = sum(len(self.messages[i - 1]) for i in live)
            return b'+OK %d %d\r\n' % (len(live), size)
        if verb in (b'LIST', b'UIDL'):
            def item(i):
                if verb == b'LIST':
                    return b'%d %d' % (i, len(self.messages[i - 1]))
                return b'%d uid-%d' % (i, i)
            if args:
                n = self._message(args)
                if n is None:
                    return b'-ERR no such message\r\n'
                return b'+OK ' + item(n) + b'\r\n'
            return self._multi(b'+OK listing', [item(i) for i in live])
        if verb in (b'RETR', b'TOP'):
            n = self._message(args)
            if n is None:
                return b'-ERR no such message\r\n'
            lines = self.messages[n - 1].split(b'\r\n')[:-1]
            if verb == b'TOP':
                blank = lines.index(b'')
                lines = lines[:blank + 1 + int(args[1])]
            return self._multi(b'+OK message follows', lines)
        if verb == b'DELE':
            n = self._message(args)
            if n is None:
                return b'-ERR no such message\r\n'
            self.deleted.add(n)
            return b'+OK marked\r\n'
        if verb == b'RSET':
            self.deleted.clear()
            return b'+OK reset\r\n'
        if verb == b'NOOP':
            return b'+OK nothing\r\n'
        if verb == b'QUIT':
            return b'+OK bye\r\n'
        return b'-ERR unknown command\r\n'


MESSAGE_1 = (b'From: a@example.org\r\nSubject: one\r\n\r\n'
             b'first line\r\n.leading dot\r\nlast line\r\n')
MESSAGE_2 = b'From: b@example.org\r\nSubject: two\r\n\r\nbody\r\n'


class UsageTest(unittest.TestCase):
    """Every bad command line fails with exit status 2 and a sentence on
    stderr, before any connection is tried: the port given is closed, so
    a connection attempt would end with status 3 instead."""

    def setUp(self):
        self.port = str(closed_port())

    def assertUsageError(self, args, stdin=b'', mentions=None):
        result = run_cli(*args, stdin=stdin)
        stderr = result.stderr.decode('utf-8', 'replace')
        self.assertEqual(result.returncode, EXIT_USAGE,
                         'args %r gave %d, stderr %r' %
                         (args, result.returncode, stderr))
        self.assertTrue(stderr.startswith('popcheck-cli: '), stderr)
        self.assertGreater(len(stderr.splitlines()[0]), len('popcheck-cli: '))
        self.assertEqual(result.stdout, b'')
        if mentions is not None:
            self.assertIn(mentions, stderr)

    def base(self, *extra):
        return ['--host', '127.0.0.1', '--port', self.port,
                '--security', 'none'] + list(extra)

    def test_help_lists_commands_and_exit_statuses(self):
        result = run_cli('--help')
        self.assertEqual(result.returncode, 0)
        text = result.stdout.decode()
        for command in COMMANDS:
            self.assertRegex(text, r'\n  %s\b' % command)
        for option in ['--host', '--port', '--security', '--user',
                       '--password-stdin', '--auth', '--ca-file', '--pin',
                       '--timeout', '--debug', '--json']:
            self.assertIn(option, text)
        self.assertIn('Exit status', text)
        for status in range(7):
            self.assertRegex(text, r'\n  %d ' % status)
        for word in ('--account', '--format', 'check', 'status', 'delete',
                     'account add', 'account list', 'account remove'):
            self.assertIn(word, text)

    def test_unknown_command(self):
        self.assertUsageError(self.base('frobnicate'), mentions='frobnicate')

    def test_empty_command(self):
        self.assertUsageError(self.base('  '))

    def test_no_command(self):
        self.assertUsageError(self.base())

    def test_top_without_lines(self):
        self.assertUsageError(self.base('top 1'), mentions='top 1')

    def test_top_bad_lines(self):
        self.assertUsageError(self.base('top 1 x'))

    def test_list_not_a_number(self):
        self.assertUsageError(self.base('list x'), mentions='list x')

    def test_list_zero(self):
        self.assertUsageError(self.base('list 0'), mentions='list 0')

    def test_negative_and_signed_numbers(self):
        for word in ['retr -1', 'retr +1', 'dele 0x1', 'uidl 1.5',
                     'retr 99999999999999999999']:
            with self.subTest(word=word):
                self.assertUsageError(self.base(word))

    def test_missing_and_extra_arguments(self):
        for word in ['retr', 'dele', 'stat 1', 'list 1 2', 'top 1 2 3',
                     'noop now']:
            with self.subTest(word=word):
                self.assertUsageError(self.base(word))

    def test_bad_command_after_good_ones(self):
        # Validated before connecting, not when its turn comes.
        self.assertUsageError(self.base('stat', 'list', 'retr x'))

    def test_bad_security(self):
        self.assertUsageError(['--host', '127.0.0.1', '--port', self.port,
                               '--security', 'ssl3', 'stat'],
                              mentions='ssl3')

    def test_bad_auth(self):
        self.assertUsageError(self.base('--auth', 'kerberos', 'stat'),
                              mentions='kerberos')

    def test_bad_auth_names_every_method(self):
        result = run_cli(*self.base('--auth', 'oauth', 'stat'))
        self.assertEqual(result.returncode, EXIT_USAGE)
        self.assertEqual(result.stderr.decode().splitlines()[0],
                         'popcheck-cli: "oauth" is not an --auth method; use '
                         'auto, user, apop, plain, login, cram-md5, xoauth2 '
                         'or oauthbearer')

    def test_access_token_that_cannot_be_sent(self):
        for method in ('xoauth2', 'oauthbearer'):
            for token in (b'tok\ren\n', b'tok\x01en\n', b'\n'):
                with self.subTest(method=method, token=token):
                    result = run_cli(*self.base('--user', 'alice',
                                                '--password-stdin', '--auth',
                                                method, 'stat'), stdin=token)
                    self.assertEqual(result.returncode, EXIT_USAGE)
                    self.assertEqual(result.stderr.decode().splitlines()[0],
                                     'popcheck-cli: the access token is '
                                     'empty or has a line break or another '
                                     'control character in it, which cannot '
                                     'be sent to a POP3 server')

    def test_account_add_refuses_oauth(self):
        for method in ('xoauth2', 'oauthbearer'):
            with self.subTest(method=method):
                self.assertUsageError(['account', 'add', 'X', '--host', 'h',
                                       '--user', 'u', '--auth', method],
                                      stdin=b'ya29.token\n',
                                      mentions='--auth %s and '
                                               '--password-stdin' % method)

    def test_bad_debug(self):
        for level in ['3', '-1', 'x', '']:
            with self.subTest(level=level):
                self.assertUsageError(self.base('--debug', level, 'stat'))

    def test_bad_port(self):
        for port in ['0', '65536', 'abc', '-5', '']:
            with self.subTest(port=port):
                self.assertUsageError(['--host', '127.0.0.1', '--port', port,
                                       '--security', 'none', 'stat'])

    def test_bad_timeout(self):
        for seconds in ['0', 'soon', '-1']:
            with self.subTest(seconds=seconds):
                self.assertUsageError(self.base('--timeout', seconds, 'stat'))

    def test_bad_pin(self):
        for pin in ['AB:CD', 'zz' * 32, '00' * 33]:
            with self.subTest(pin=pin):
                self.assertUsageError(self.base('--pin', pin, 'stat'))

    def test_user_without_password_stdin(self):
        self.assertUsageError(self.base('--user', 'alice', 'stat'),
                              mentions='--password-stdin')

    def test_password_stdin_without_user(self):
        self.assertUsageError(self.base('--password-stdin', 'stat'),
                              stdin=b'secret\n', mentions='--user')

    def test_password_stdin_empty(self):
        self.assertUsageError(self.base('--user', 'alice',
                                        '--password-stdin', 'stat'),
                              stdin=b'')

    def test_user_name_with_space(self):
        # The engine refuses it at login; it must not cost a connection.
        self.assertUsageError(self.base('--user', 'alice smith',
                                        '--password-stdin', 'stat'),
                              stdin=b'secret\n', mentions='--user')

    def test_password_with_carriage_return(self):
        self.assertUsageError(self.base('--user', 'alice',
                                        '--password-stdin', 'stat'),
                              stdin=b'sec\rret\n', mentions='password')

    def test_missing_host(self):
        self.assertUsageError(['--port', self.port, 'stat'],
                              mentions='--host')

    def test_unknown_option(self):
        self.assertUsageError(self.base('--password', 'secret', 'stat'))

    def test_unreadable_ca_file(self):
        with tempfile.TemporaryDirectory() as tmp:
            missing = os.path.join(tmp, 'missing.pem')
            self.assertUsageError(self.base('--ca-file', missing, 'stat'),
                                  mentions='missing.pem')

    def test_ca_file_not_pem(self):
        with tempfile.NamedTemporaryFile(suffix='.pem') as f:
            f.write(b'this is not a certificate\n')
            f.flush()
            self.assertUsageError(self.base('--ca-file', f.name, 'stat'))

    def make_ca(self, directory):
        """A self-signed certificate in directory/ca.pem, as a CA file."""
        subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048',
                        '-nodes', '-subj', '/CN=popcheck test CA',
                        '-days', '1', '-keyout',
                        os.path.join(directory, 'ca.key'),
                        '-out', os.path.join(directory, 'ca.pem')],
                       check=True, capture_output=True, timeout=60)

    def test_relative_ca_file(self):
        # Resolved against the working directory, not refused by GLib
        # with a warning and an empty trust store: the closed port is
        # then the only problem.
        with tempfile.TemporaryDirectory() as tmp:
            self.make_ca(tmp)
            result = subprocess.run(
                [CLI, '--host', '127.0.0.1', '--port', self.port,
                 '--ca-file', 'ca.pem', '--timeout', '10', 'stat'],
                cwd=tmp, stdin=subprocess.DEVNULL, capture_output=True,
                timeout=30)
        stderr = result.stderr.decode('utf-8', 'replace')
        self.assertEqual(result.returncode, EXIT_NETWORK, stderr)
        self.assertNotIn('WARNING', stderr)
        self.assertIn('refused', stderr)

    def test_empty_relative_ca_file(self):
        with tempfile.TemporaryDirectory() as tmp:
            open(os.path.join(tmp, 'empty.pem'), 'wb').close()
            result = subprocess.run(
                [CLI, '--host', '127.0.0.1', '--port', self.port,
                 '--ca-file', 'empty.pem', 'stat'],
                cwd=tmp, stdin=subprocess.DEVNULL, capture_output=True,
                timeout=30)
        stderr = result.stderr.decode('utf-8', 'replace')
        self.assertEqual(result.returncode, EXIT_USAGE, stderr)
        self.assertTrue(stderr.startswith('popcheck-cli: '), stderr)
        self.assertIn('empty.pem', stderr)
        self.assertNotIn('WARNING', stderr)

    def test_ca_file_is_a_directory(self):
        with tempfile.TemporaryDirectory() as tmp:
            self.assertUsageError(self.base('--ca-file', tmp, 'stat'),
                                  mentions='--ca-file')

    def test_json_usage_error_goes_to_stderr(self):
        # A usage error is not a command result: nothing on stdout.
        self.assertUsageError(self.base('--json', 'list x'))

    # The commands on stored accounts (issue 3) check their command line
    # before they read settings or ask the keyring.

    def test_account_options_do_not_mix(self):
        for extra in (['--host', '127.0.0.1'], ['--port', self.port],
                      ['--security', 'none'], ['--user', 'me'],
                      ['--auth', 'user'], ['--password-stdin']):
            self.assertUsageError(['--account', 'work'] + extra + ['stat'],
                                  stdin=b'secret\n', mentions='--account')

    def test_format_only_with_status(self):
        self.assertUsageError(self.base('--format', 'json', 'stat'),
                              mentions='--format')
        self.assertUsageError(['--format', 'json', 'check'],
                              mentions='--format')

    def test_server_options_refused_by_account_commands(self):
        for command in (['check'], ['status'], ['delete', 'abc'],
                        ['account', 'list'], ['account', 'remove', 'x']):
            self.assertUsageError(self.base(*command), mentions='--host')
        self.assertUsageError(['--timeout', '5', 'check'],
                              mentions='--timeout')
        self.assertUsageError(['--debug', '2', 'status'], mentions='--debug')
        self.assertUsageError(['--ca-file', 'x.pem', 'account', 'add', 'X',
                               '--host', 'h', '--user', 'u'],
                              stdin=b'pw\n', mentions='--ca-file')

    def test_bad_account_command_lines(self):
        self.assertUsageError(['check', 'extra'], mentions='check')
        self.assertUsageError(['status', 'extra'], mentions='status')
        self.assertUsageError(['status', '--format', 'xml'], mentions='xml')
        self.assertUsageError(['delete', 'abc'], mentions='--account')
        self.assertUsageError(['--account', 'work', 'delete'],
                              mentions='UID')
        self.assertUsageError(['--account', 'work', 'delete', 'a b'],
                              mentions='a b')
        self.assertUsageError(['account'])
        self.assertUsageError(['account', 'rename', 'x'])
        self.assertUsageError(['account', 'list', 'extra'])
        self.assertUsageError(['account', 'remove'])
        self.assertUsageError(['account', 'add'], stdin=b'pw\n')
        self.assertUsageError(['account', 'add', 'X', '--user', 'u'],
                              stdin=b'pw\n', mentions='--host')
        self.assertUsageError(['account', 'add', 'X', '--host', 'h'],
                              stdin=b'pw\n', mentions='--user')
        self.assertUsageError(['account', 'add', 'X', '--host', 'h',
                               '--user', 'u', '--port', '70000'],
                              stdin=b'pw\n', mentions='--port')


class ConnectionTest(unittest.TestCase):

    def test_refused(self):
        port = str(closed_port())
        result = run_cli('--host', '127.0.0.1', '--port', port,
                         '--security', 'none', '--timeout', '10', 'stat')
        stderr = result.stderr.decode('utf-8', 'replace')
        self.assertEqual(result.returncode, EXIT_NETWORK, stderr)
        self.assertTrue(stderr.startswith('popcheck-cli: 127.0.0.1 port %s: '
                                          % port), stderr)
        self.assertIn('refused', stderr)
        self.assertEqual(result.stdout, b'')

    def test_refused_tls_default_port_is_used_when_asked(self):
        # With tls the refused port is still the one given.
        port = str(closed_port())
        result = run_cli('--host', '127.0.0.1', '--port', port,
                         '--timeout', '10', 'stat')
        self.assertEqual(result.returncode, EXIT_NETWORK)
        self.assertIn(port, result.stderr.decode())

    def test_refused_json(self):
        port = str(closed_port())
        result = run_cli('--host', '127.0.0.1', '--port', port,
                         '--security', 'none', '--timeout', '10', '--json',
                         'stat', 'list')
        self.assertEqual(result.returncode, EXIT_NETWORK)
        lines = result.stdout.decode().splitlines()
        self.assertEqual(len(lines), 1, lines)
        obj = json.loads(lines[0])
        self.assertEqual(obj['command'], 'connect')
        self.assertIs(obj['ok'], False)
        self.assertIsInstance(obj['error'], str)
        self.assertNotEqual(obj['error'], '')


class ScriptedSessionTest(unittest.TestCase):
    """The output formats and the session rules, against ScriptedServer."""

    def start(self, **kwargs):
        kwargs.setdefault('messages', [MESSAGE_1, MESSAGE_2])
        server = ScriptedServer(**kwargs)
        self.addCleanup(server.close)
        return server

    def cli(self, server, *args, stdin=b''):
        return run_cli('--host', '127.0.0.1', '--port', str(server.port),
                       '--security', 'none', '--timeout', '10', *args,
                       stdin=stdin)

    def json_lines(self, result):
        return [json.loads(l) for l in result.stdout.decode().splitlines()]

    def test_json_every_command(self):
        server = self.start()
        result = self.cli(server, '--json', 'welcome', 'capa', 'stat', 'list',
                          'list 2', 'uidl', 'uidl 1', 'top 1 1', 'retr 1',
                          'noop', 'dele 2', 'rset')
        self.assertEqual(result.returncode, EXIT_OK, result.stderr)
        objs = self.json_lines(result)
        self.assertEqual([o['command'] for o in objs],
                         ['welcome', 'capa', 'stat', 'list', 'list 2', 'uidl',
                          'uidl 1', 'top 1 1', 'retr 1', 'noop', 'dele 2',
                          'rset'])
        for o in objs:
            self.assertIs(o['ok'], True, o)
            self.assertTrue(o['response'].startswith('+OK'), o)
        by = {o['command']: o for o in objs}
        self.assertEqual(by['welcome']['welcome'], '+OK ready')
        self.assertEqual(by['capa']['capabilities']['SASL'], ['PLAIN'])
        self.assertEqual(by['capa']['capabilities']['TOP'], [])
        self.assertEqual((by['stat']['count'], by['stat']['size']),
                         (2, len(MESSAGE_1) + len(MESSAGE_2)))
        self.assertEqual(by['list']['items'],
                         [{'msg': 1, 'octets': len(MESSAGE_1)},
                          {'msg': 2, 'octets': len(MESSAGE_2)}])
        self.assertEqual(by['list 2']['items'],
                         [{'msg': 2, 'octets': len(MESSAGE_2)}])
        self.assertEqual(by['uidl']['items'],
                         [{'msg': 1, 'uid': 'uid-1'},
                          {'msg': 2, 'uid': 'uid-2'}])
        self.assertEqual(by['uidl 1']['items'], [{'msg': 1, 'uid': 'uid-1'}])
        retr = base64.b64decode(by['retr 1']['data_base64'])
        self.assertEqual(retr, MESSAGE_1)
        self.assertEqual(by['retr 1']['octets'], len(MESSAGE_1))
        top = base64.b64decode(by['top 1 1']['data_base64'])
        self.assertEqual(top, b'From: a@example.org\r\nSubject: one\r\n\r\n'
                              b'first line\r\n')
        self.assertEqual(by['top 1 1']['octets'], len(top))
        # One session, in order, ended by QUIT; rset undid the dele.
        self.assertEqual(server.received[-3:], ['DELE 2', 'RSET', 'QUIT'])
        self.assertEqual(server.committed, set())

    def test_text_output(self):
        server = self.start()
        result = self.cli(server, 'welcome', 'stat', 'list', 'uidl 2',
                          'dele 1')
        self.assertEqual(result.returncode, EXIT_OK, result.stderr)
        self.assertEqual(result.stdout.decode().splitlines(),
                         ['+OK ready',
                          '2 %d' % (len(MESSAGE_1) + len(MESSAGE_2)),
                          '1 %d' % len(MESSAGE_1),
                          '2 %d' % len(MESSAGE_2),
                          '2 uid-2',
                          '+OK marked'])
        self.assertEqual(server.committed, {1})

    def test_retr_text_is_the_exact_bytes(self):
        server = self.start()
        result = self.cli(server, 'retr 1')
        self.assertEqual(result.returncode, EXIT_OK, result.stderr)
        self.assertEqual(result.stdout, MESSAGE_1)

    def test_json_escaping(self):
        greeting = ('+OK <1.2@x> tab\there "quoted" back\\slash '
                    'bell\x07 caf\u00e9').encode('utf-8')
        server = self.start(greeting=greeting)
        result = self.cli(server, '--json', 'welcome')
        self.assertEqual(result.returncode, EXIT_OK, result.stderr)
        raw = result.stdout.decode('utf-8')
        self.assertEqual(len(raw.splitlines()), 1)
        self.assertIn('\\u0009', raw)
        self.assertIn('\\u0007', raw)
        self.assertIn('\\"quoted\\"', raw)
        self.assertIn('caf\u00e9', raw)
        obj = json.loads(raw)
        self.assertEqual(obj['welcome'], greeting.decode('utf-8'))

    def test_server_error_stops_and_quits(self):
        server = self.start()
        result = self.cli(server, '--json', 'stat', 'retr 9', 'dele 1')
        self.assertEqual(result.returncode, EXIT_SERVER, result.stderr)
        objs = self.json_lines(result)
        self.assertEqual([o['command'] for o in objs], ['stat', 'retr 9'])
        self.assertIs(objs[1]['ok'], False)
        self.assertEqual(objs[1]['response'], '-ERR no such message')
        self.assertIn('error', objs[1])
        # dele 1 never ran, but the session still ended with QUIT.
        self.assertNotIn('DELE 1', server.received)
        self.assertEqual(server.received[-1], 'QUIT')
        self.assertIn('retr 9', result.stderr.decode())

    def test_protocol_error_does_not_quit(self):
        server = self.start(garbage_on=b'STAT')
        result = self.cli(server, 'noop', 'dele 1', 'stat', 'noop')
        self.assertEqual(result.returncode, EXIT_NETWORK, result.stderr)
        self.assertTrue(result.stderr.startswith(b'popcheck-cli: '))
        server.close()
        self.assertNotIn('QUIT', server.received)
        self.assertIsNone(server.committed)

    def test_silent_server_times_out(self):
        server = self.start(silent_on=b'STAT')
        result = run_cli('--host', '127.0.0.1', '--port', str(server.port),
                         '--security', 'none', '--timeout', '1', 'noop',
                         'stat', timeout=20)
        self.assertEqual(result.returncode, EXIT_NETWORK, result.stderr)
        self.assertIn(b'"stat"', result.stderr)
        self.assertNotIn('QUIT', server.received)

    def test_dripping_server_times_out(self):
        # One line every 50 ms never lets a 2 s timeout run out; the
        # reply's overall deadline ends the command soon after it.
        server = self.start(drip_on=b'UIDL')
        result = run_cli('--host', '127.0.0.1', '--port', str(server.port),
                         '--security', 'none', '--timeout', '2', 'uidl',
                         timeout=20)
        stderr = result.stderr.decode()
        self.assertEqual(result.returncode, EXIT_NETWORK, stderr)
        self.assertEqual(result.stdout, b'')
        self.assertTrue(stderr.startswith('popcheck-cli: '), stderr)
        self.assertIn('"uidl"', stderr)
        self.assertIn('The server 127.0.0.1 was too slow: one reply took '
                      'more than ', stderr)
        self.assertNotIn('QUIT', server.received)

    def test_ctrl_c_cancels_without_quit(self):
        server = self.start(silent_on=b'STAT')
        proc = subprocess.Popen([CLI, '--host', '127.0.0.1',
                                 '--port', str(server.port),
                                 '--security', 'none', '--json',
                                 'dele 1', 'stat'],
                                stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        self.addCleanup(proc.kill)
        self.assertTrue(server.went_silent.wait(20))
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=20)
        self.assertEqual(proc.returncode, 130, stderr)
        self.assertIn(b'interrupted', stderr)
        objs = [json.loads(l) for l in stdout.decode().splitlines()]
        self.assertEqual([o['command'] for o in objs], ['dele 1', 'stat'])
        self.assertIs(objs[1]['ok'], False)
        # Dropped without QUIT, so the server commits no deletion.
        self.assertNotIn('QUIT', server.received)

    def test_login_with_password_from_stdin(self):
        server = self.start()
        result = self.cli(server, '--user', 'alice', '--password-stdin',
                          '--auth', 'user', 'stat', stdin=b'secret\r\n')
        self.assertEqual(result.returncode, EXIT_OK, result.stderr)
        self.assertIn('USER alice', server.received)
        self.assertIn('PASS secret', server.received)

    def test_wrong_password_is_authentication_failure(self):
        server = self.start()
        result = self.cli(server, '--json', '--user', 'alice',
                          '--password-stdin', '--auth', 'user', 'stat',
                          stdin=b'Hunter2-guess\n')
        self.assertEqual(result.returncode, EXIT_AUTH, result.stderr)
        objs = self.json_lines(result)
        self.assertEqual(len(objs), 1, objs)
        self.assertEqual(objs[0]['command'], 'login')
        self.assertIs(objs[0]['ok'], False)
        self.assertNotIn('STAT', server.received)
        self.assertNotIn('Hunter2', result.stderr.decode())

    def test_debug_redacts_password(self):
        server = self.start()
        result = self.cli(server, '--debug', '2', '--user', 'alice',
                          '--password-stdin', '--auth', 'user', 'noop',
                          stdin=b'secret\n')
        self.assertEqual(result.returncode, EXIT_OK, result.stderr)
        stderr = result.stderr.decode()
        self.assertIn('C: USER alice', stderr)
        self.assertIn('C: NOOP', stderr)
        self.assertNotIn('secret', stderr)


TOKEN = b'ya29.a0Af-Token_~+/value=='


class OAuthServer(ScriptedServer):
    """Takes an access token as Microsoft's POP3 server does: only in the
    two-step form (AUTH, "+ ", the initial response), answering a token
    it does not know with base64 JSON, and the client's answer to that
    with -ERR."""

    CHALLENGE = base64.b64encode(
        b'{"status":"401","schemes":"bearer",'
        b'"scope":"https://outlook.office.com/POP.AccessAsUser.All"}')

    def __init__(self, **kwargs):
        self.mechanism = None
        self.refused = False
        self.initial = None
        self.dance = None
        super().__init__(**kwargs)

    def _answer(self, verb, args):
        # The base class splits and upper-cases; base64 needs the line.
        line = self.received[-1].encode()
        if self.refused:
            self.refused = False
            self.dance = line
            return b'-ERR [AUTH] Authentication failed\r\n'
        if self.mechanism is not None:
            return self._token(line)
        if verb == b'CAPA':
            return self._multi(b'+OK', [b'USER',
                                        b'SASL XOAUTH2 OAUTHBEARER'])
        if verb == b'AUTH':
            if len(args) != 1:
                return b'-ERR AUTH with an initial response is refused\r\n'
            self.mechanism = args[0].upper()
            return b'+ \r\n'
        return super()._answer(verb, args)

    def expected(self, mechanism, token):
        if mechanism == b'XOAUTH2':
            return b'user=alice\x01auth=Bearer %s\x01\x01' % token
        return (b'n,a=alice,\x01host=127.0.0.1\x01port=%d\x01'
                b'auth=Bearer %s\x01\x01' % (self.port, token))

    def _token(self, line):
        mechanism, self.mechanism = self.mechanism, None
        self.initial = base64.b64decode(line)
        if self.initial == self.expected(mechanism, TOKEN):
            return b'+OK User successfully authenticated.\r\n'
        self.refused = True
        return b'+ ' + self.CHALLENGE + b'\r\n'


class OAuthSessionTest(unittest.TestCase):
    """--auth xoauth2|oauthbearer: the line on standard input is the
    access token."""

    def start(self):
        server = OAuthServer(messages=[MESSAGE_1])
        self.addCleanup(server.close)
        return server

    def cli(self, server, *args, stdin=b'', env=None):
        return run_cli('--host', '127.0.0.1', '--port', str(server.port),
                       '--security', 'none', '--timeout', '10',
                       '--user', 'alice', '--password-stdin', *args,
                       stdin=stdin, env=env)

    def test_token_from_stdin(self):
        for method in (b'XOAUTH2', b'OAUTHBEARER'):
            with self.subTest(method=method):
                server = self.start()
                # GLib's own debug messages too, on standard output.
                result = self.cli(server, '--debug', '2', '--auth',
                                  method.decode().lower(), 'stat',
                                  stdin=TOKEN + b'\n',
                                  env=dict(os.environ,
                                           G_MESSAGES_DEBUG='all'))
                self.assertEqual(result.returncode, EXIT_OK, result.stderr)
                self.assertEqual(server.initial,
                                 server.expected(method, TOKEN))
                self.assertIn('AUTH ' + method.decode(), server.received)
                self.assertIn('STAT', server.received)
                self.assertNotIn('USER alice', server.received)
                stderr = result.stderr.decode()
                self.assertIn('C: AUTH %s\n' % method.decode(), stderr)
                self.assertIn('C: ********\n', stderr)
                sent = base64.b64encode(server.initial)
                for output in (result.stdout, result.stderr):
                    self.assertNotIn(TOKEN, output)
                    self.assertNotIn(sent, output)

    def test_refused_token(self):
        for method, answer in ((b'XOAUTH2', b''), (b'OAUTHBEARER', b'AQ==')):
            with self.subTest(method=method):
                server = self.start()
                result = self.cli(server, '--json', '--auth',
                                  method.decode().lower(), 'stat',
                                  stdin=b'ya29.expired\n')
                self.assertEqual(result.returncode, EXIT_AUTH, result.stderr)
                self.assertEqual(server.dance, answer)
                self.assertNotIn('STAT', server.received)
                self.assertEqual(
                    result.stderr.decode(),
                    'popcheck-cli: could not log in as alice: the server '
                    'refused the access token; it may have expired or been '
                    'revoked (status "401"): it answered "-ERR [AUTH] '
                    'Authentication failed"\n')
                objs = [json.loads(l)
                        for l in result.stdout.decode().splitlines()]
                self.assertEqual(len(objs), 1, objs)
                self.assertEqual(objs[0]['command'], 'login')
                self.assertIs(objs[0]['ok'], False)
                self.assertEqual(objs[0]['oauth_status'], '401')
                self.assertEqual(objs[0]['code'], 'AUTH')
                self.assertEqual(objs[0]['response'],
                                 '-ERR [AUTH] Authentication failed')

    def test_auto_never_picks_oauth(self):
        server = self.start()
        result = self.cli(server, 'stat', stdin=b'secret\n')
        self.assertEqual(result.returncode, EXIT_OK, result.stderr)
        self.assertIn('USER alice', server.received)
        self.assertIn('PASS secret', server.received)
        self.assertFalse([l for l in server.received
                          if l.startswith('AUTH')], server.received)


class PipeliningServer(ScriptedServer):
    """Offers PIPELINING (unless told not to) and holds its replies from
    the line hold_from on until the line hold_until has arrived, then sends
    them all; with hold_until None, until the client hangs up.  A client
    that waits for each reply before it sends the next command never gets
    past hold_from."""

    def __init__(self, pipelining=True, hold_from=None, hold_until=None,
                 **kwargs):
        self.pipelining = pipelining
        self.hold_from = hold_from
        self.hold_until = hold_until
        self.holding = False
        super().__init__(**kwargs)

    def _holds(self, line):
        if line == self.hold_from:
            self.holding = True
        if self.holding and line == self.hold_until:
            self.holding = False
        return self.holding

    def _answer(self, verb, args):
        if verb == b'CAPA' and self.pipelining:
            return self._multi(b'+OK capabilities',
                               [b'USER', b'UIDL', b'TOP', b'PIPELINING'])
        return super()._answer(verb, args)

    def session(self):
        """What the client sent after logging in."""
        return self.received[self.received.index('PASS secret') + 1:]


class PipeliningTest(unittest.TestCase):
    """With PIPELINING the command words go out back to back (issue 15),
    with the same output, exit status and stop at the first failure."""

    def start(self, **kwargs):
        kwargs.setdefault('messages', [MESSAGE_1, MESSAGE_2])
        server = PipeliningServer(**kwargs)
        self.addCleanup(server.close)
        return server

    def cli(self, server, *args, timeout='10'):
        return run_cli('--host', '127.0.0.1', '--port', str(server.port),
                       '--security', 'none', '--timeout', timeout,
                       '--user', 'alice', '--password-stdin', '--auth', 'user',
                       *args, stdin=b'secret\n')

    def test_words_go_out_before_the_first_reply(self):
        words = ['stat', 'list', 'uidl 2', 'welcome', 'top 1 0', 'noop']
        # Nothing is answered until the last word has arrived: a client
        # that waited for each reply would time out.
        server = self.start(hold_from=b'STAT', hold_until=b'NOOP')
        result = self.cli(server, *words)
        self.assertEqual(result.returncode, EXIT_OK, result.stderr)
        server.close()
        self.assertEqual(server.session(), ['STAT', 'LIST', 'UIDL 2',
                                            'TOP 1 0', 'NOOP', 'QUIT'])
        # The same output as one word at a time.
        lockstep = self.start(pipelining=False)
        expected = self.cli(lockstep, *words)
        self.assertEqual(expected.returncode, EXIT_OK, expected.stderr)
        self.assertEqual(result.stdout, expected.stdout)
        self.assertEqual(result.stdout.decode().splitlines()[:5],
                         ['2 %d' % (len(MESSAGE_1) + len(MESSAGE_2)),
                          '1 %d' % len(MESSAGE_1),
                          '2 %d' % len(MESSAGE_2),
                          '2 uid-2',
                          '+OK ready'])

    def test_one_at_a_time_without_pipelining(self):
        # The reply to STAT never comes: without PIPELINING nothing else
        # may go out before it, so when the client gives up and hangs up,
        # the server has STAT alone.
        server = self.start(pipelining=False, hold_from=b'STAT')
        result = self.cli(server, 'stat', 'list', 'noop', timeout='1')
        self.assertEqual(result.returncode, EXIT_NETWORK, result.stderr)
        self.assertIn('the command "stat" failed', result.stderr.decode())
        server.close()
        self.assertEqual(server.session(), ['STAT'])
        # Nor does anything go out after a failure.
        server = self.start(pipelining=False)
        result = self.cli(server, 'retr 9', 'list')
        self.assertEqual(result.returncode, EXIT_SERVER, result.stderr)
        server.close()
        self.assertEqual(server.session(), ['RETR 9', 'QUIT'])

    def test_first_failure_ends_the_session(self):
        server = self.start(hold_from=b'STAT', hold_until=b'LIST')
        result = self.cli(server, '--json', 'stat', 'retr 9', 'list', 'rset',
                          'dele 1', 'noop')
        self.assertEqual(result.returncode, EXIT_SERVER, result.stderr)
        objs = [json.loads(l) for l in result.stdout.decode().splitlines()]
        self.assertEqual([o['command'] for o in objs], ['stat', 'retr 9'])
        self.assertIs(objs[0]['ok'], True)
        self.assertIs(objs[1]['ok'], False)
        self.assertEqual(objs[1]['response'], '-ERR no such message')
        self.assertIn('the command "retr 9" failed: the server answered '
                      '"-ERR no such message"', result.stderr.decode())
        server.close()
        # list went out behind retr 9 and its reply was not reported.
        # rset and dele change what QUIT commits: they wait for every word
        # before them, and after the failure they were never sent.
        self.assertEqual(server.session(), ['STAT', 'RETR 9', 'LIST', 'QUIT'])
        self.assertEqual(server.committed, set())

    def test_dele_waits_for_the_words_before(self):
        # While the reply to STAT is unknown, the words before dele go out
        # and dele does not: when the client gives up and hangs up, the
        # server has no DELE.
        server = self.start(hold_from=b'STAT')
        result = self.cli(server, 'stat', 'list', 'dele 1', 'noop',
                          timeout='1')
        self.assertEqual(result.returncode, EXIT_NETWORK, result.stderr)
        self.assertIn('the command "stat" failed', result.stderr.decode())
        server.close()
        self.assertEqual(server.session(), ['STAT', 'LIST'])

    def test_words_after_dele_go_out_with_it(self):
        server = self.start(hold_from=b'DELE 1', hold_until=b'NOOP')
        result = self.cli(server, 'stat', 'dele 1', 'list', 'noop')
        self.assertEqual(result.returncode, EXIT_OK, result.stderr)
        self.assertEqual(result.stdout.decode().splitlines(),
                         ['2 %d' % (len(MESSAGE_1) + len(MESSAGE_2)),
                          '+OK marked',
                          '2 %d' % len(MESSAGE_2),
                          '+OK nothing'])
        server.close()
        self.assertEqual(server.session(), ['STAT', 'DELE 1', 'LIST', 'NOOP',
                                            'QUIT'])
        self.assertEqual(server.committed, {1})


# OSC (window title), CSI (clear screen) in its 7-bit and C1 forms, and
# code points that reorder or hide text: RLM, ALM, BOM, a tag character.
HOSTILE = ('\x1b]0;pwned\x07bad \x1b[2J\u009b31mnews '
           '\u200f\u061c\ufeff\U000e0001end').encode('utf-8')


class HostileServer(ScriptedServer):
    """Says HOSTILE in its greeting, its CAPA and its -ERR to NOOP."""

    def _answer(self, verb, args):
        if verb == b'CAPA':
            return self._multi(b'+OK', [b'USER', b'X-HOSTILE ' + HOSTILE])
        if verb == b'NOOP':
            return b'-ERR ' + HOSTILE + b'\r\n'
        return super()._answer(verb, args)


class HostileTextTest(unittest.TestCase):
    """Nothing a server says reaches the terminal with controls in it."""

    def assertSafe(self, text):
        self.assertIn('bad', text)
        self.assertNotIn('pwned', text)
        for c in text:
            if c in '\n':
                continue
            self.assertFalse(ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f,
                             'U+%04X in %r' % (ord(c), text))
            self.assertNotIn(c, '\u200f\u061c\ufeff\U000e0001')

    def test_text_output_and_errors(self):
        server = HostileServer(greeting=b'+OK ' + HOSTILE)
        self.addCleanup(server.close)
        result = run_cli('--host', '127.0.0.1', '--port', str(server.port),
                         '--security', 'none', '--timeout', '10',
                         '--debug', '2', 'welcome', 'capa', 'noop')
        self.assertEqual(result.returncode, EXIT_SERVER, result.stderr)
        stdout = result.stdout.decode('utf-8')
        stderr = result.stderr.decode('utf-8')
        self.assertIn('X-HOSTILE', stdout)
        self.assertSafe(stdout)
        self.assertIn('noop', stderr)
        self.assertSafe(stderr)

    def test_certificate_names(self):
        # The subject and issuer of the server's certificate are the
        # server's words too, shown when the certificate is refused.
        name = HOSTILE.decode('utf-8').replace('/', '')
        with tempfile.TemporaryDirectory() as tmp:
            cert = os.path.join(tmp, 'cert.pem')
            key = os.path.join(tmp, 'key.pem')
            subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048',
                            '-nodes', '-utf8', '-subj', '/CN=' + name,
                            '-days', '1', '-keyout', key, '-out', cert],
                           check=True, capture_output=True, timeout=60)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(listener.close)
        listener.bind(('127.0.0.1', 0))
        listener.listen(1)
        listener.settimeout(30)

        def serve():
            try:
                conn, _ = listener.accept()
                with conn:
                    # The client refuses the certificate: the handshake
                    # fails on this side, which is expected.
                    context.wrap_socket(conn, server_side=True).recv(1)
            except (OSError, ssl.SSLError):
                pass

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        self.addCleanup(thread.join, 30)
        result = run_cli('--host', '127.0.0.1',
                         '--port', str(listener.getsockname()[1]),
                         '--timeout', '10', 'stat')
        stderr = result.stderr.decode('utf-8')
        self.assertEqual(result.returncode, EXIT_TLS, stderr)
        self.assertIn('Subject: CN=', stderr)
        self.assertSafe(stderr)

    def test_json_escapes_controls(self):
        # JSON keeps the server's words exactly, but escaped: C1 controls
        # too, which some terminals obey as they do ESC.
        server = HostileServer(greeting=b'+OK ' + HOSTILE)
        self.addCleanup(server.close)
        result = run_cli('--host', '127.0.0.1', '--port', str(server.port),
                         '--security', 'none', '--timeout', '10', '--json',
                         'welcome')
        self.assertEqual(result.returncode, EXIT_OK, result.stderr)
        raw = result.stdout.decode('utf-8')
        self.assertIn('\\u009b', raw)
        for c in raw.rstrip('\n'):
            self.assertFalse(ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f,
                             'U+%04X in %r' % (ord(c), raw))
        obj = json.loads(raw)
        self.assertEqual(obj['welcome'], '+OK ' + HOSTILE.decode('utf-8'))


GROUPS = {
    'usage': ['UsageTest', 'ConnectionTest'],
    'sessions': ['ScriptedSessionTest', 'OAuthSessionTest'],
    'pipelining': ['PipeliningTest', 'HostileTextTest'],
}


def main():
    if not CLI:
        print('POPCHECK_CLI is not set; run this through meson test',
              file=sys.stderr)
        return 1
    # meson runs the classes in groups, one test each, so that each group
    # stays well inside its own timeout.  A class left out of GROUPS would
    # never run: refuse that.
    module = sys.modules[__name__]
    classes = {name for name, obj in vars(module).items()
               if isinstance(obj, type) and issubclass(obj, unittest.TestCase)}
    grouped = set().union(*GROUPS.values())
    if classes != grouped:
        print('GROUPS must name each test class once: %s'
              % sorted(classes ^ grouped), file=sys.stderr)
        return 1
    names = GROUPS[sys.argv[1]] if len(sys.argv) > 1 else sorted(classes)
    suite = unittest.defaultTestLoader.loadTestsFromNames(names, module)
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    failed = len(result.failures) + len(result.errors)
    passed = result.testsRun - failed - len(result.skipped)
    print('%d passed, %d failed' % (passed, failed))
    return 0 if failed == 0 and result.testsRun > 0 else 1


if __name__ == '__main__':
    sys.exit(main())
