#!/usr/bin/python3
# test-dovecot-cli.py: popcheck-cli against a real Dovecot (issue 2, "Tests").
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Every command over none, STLS and implicit TLS; what TOP, RETR, DELE and
# RSET leave in the Maildir; the exit statuses for a wrong password, an
# untrusted or wrongly pinned certificate, a usage error and a refused
# connection; the --json shapes; and debug output that never shows a
# password, whatever the authentication method.

import base64
import re
import socket

import popchecktest
from popchecktest import (DovecotTestCase, SECURITIES, EXIT_OK, EXIT_SERVER,
                          EXIT_USAGE, EXIT_NETWORK, EXIT_TLS, EXIT_AUTH,
                          crlf, decode_data, message_id, run_cli,
                          sample_messages)


def setUpModule():
    popchecktest.start_module_server()


def tearDownModule():
    popchecktest.stop_module_server()


def samples():
    """(Message-ID, bytes as POP3 sends them) of each sample, in order."""
    result = []
    for path in sample_messages():
        with open(path, 'rb') as f:
            data = f.read()
        result.append((message_id(data), crlf(data)))
    return result


def header_of(data):
    """The header and the empty line after it, as TOP N 0 returns them."""
    end = data.index(b'\r\n\r\n')
    return data[:end + 4]


def flip_hex_digit(fingerprint):
    last = fingerprint[-1]
    return fingerprint[:-1] + ('0' if last != '0' else '1')


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


ALL_COMMANDS = ['welcome', 'capa', 'stat', 'list', 'list 2', 'uidl', 'uidl 3',
                'top 1 0', 'top 9 3', 'retr 1', 'retr 9', 'dele 2', 'rset',
                'noop']


class CommandTests(DovecotTestCase):
    """Every command, over each kind of connection, with the exact JSON."""

    def check_all_commands(self, objects):
        sample = samples()
        by_command = dict(zip(ALL_COMMANDS, objects))

        welcome = by_command['welcome']
        self.assertEqual(set(welcome), {'command', 'ok', 'response', 'welcome'})
        self.assertTrue(welcome['welcome'].startswith('+OK'), welcome)
        # The APOP timestamp is part of the greeting (RFC 1939, section 7).
        self.assertRegex(welcome['welcome'], r'<[^<>@]+@[^<>]+>$')

        capa = by_command['capa']
        self.assertEqual(set(capa), {'command', 'ok', 'response', 'capabilities'})
        caps = capa['capabilities']
        for name in ('TOP', 'UIDL', 'PIPELINING', 'RESP-CODES'):
            self.assertIn(name, caps)
        for name, params in caps.items():
            self.assertIsInstance(params, list, name)
            self.assertTrue(all(isinstance(p, str) for p in params), name)
        # Logged in (TRANSACTION state): nothing left to negotiate.
        self.assertNotIn('STLS', caps)

        stat = by_command['stat']
        self.assertEqual(set(stat), {'command', 'ok', 'response', 'count', 'size'})
        self.assertEqual(stat['count'], len(sample))
        self.assertEqual(stat['size'], sum(len(d) for _, d in sample))
        self.assertEqual(stat['response'],
                         '+OK %d %d' % (stat['count'], stat['size']))

        listing = by_command['list']
        self.assertEqual(set(listing), {'command', 'ok', 'response', 'items'})
        self.assertEqual(listing['items'],
                         [{'msg': i + 1, 'octets': len(d)}
                          for i, (_, d) in enumerate(sample)])
        self.assertEqual(by_command['list 2']['items'],
                         [{'msg': 2, 'octets': len(sample[1][1])}])
        self.assertEqual(set(by_command['list 2']),
                         {'command', 'ok', 'response', 'items'})

        uidl = by_command['uidl']
        self.assertEqual(set(uidl), {'command', 'ok', 'response', 'items'})
        self.assertEqual([item['msg'] for item in uidl['items']],
                         list(range(1, len(sample) + 1)))
        for item in uidl['items']:
            self.assertEqual(set(item), {'msg', 'uid'})
            # pop3_uidl_format = %08Xu%08Xv (Dovecot's %X is lowercase)
            self.assertRegex(item['uid'], r'^[0-9a-f]{16}$')
            self.assertEqual(int(item['uid'][:8], 16), item['msg'])
        self.assertEqual(len({item['uid'] for item in uidl['items']}),
                         len(sample))
        self.assertEqual(by_command['uidl 3']['items'], [uidl['items'][2]])

        top = by_command['top 1 0']
        self.assertEqual(set(top), {'command', 'ok', 'response', 'octets',
                                    'data_base64'})
        self.assertEqual(decode_data(top), header_of(sample[0][1]))
        self.assertEqual(top['octets'], len(decode_data(top)))

        # Message 9 has body lines ".", "..", ".foo": TOP must unstuff them.
        top9 = decode_data(by_command['top 9 3'])
        body = sample[8][1][len(header_of(sample[8][1])):]
        self.assertEqual(top9, header_of(sample[8][1])
                         + b''.join(body.split(b'\r\n')[i] + b'\r\n'
                                    for i in range(3)))

        for command, index in (('retr 1', 0), ('retr 9', 8)):
            retr = by_command[command]
            self.assertEqual(set(retr), {'command', 'ok', 'response', 'octets',
                                         'data_base64'})
            self.assertEqual(decode_data(retr), sample[index][1], command)
            self.assertEqual(retr['octets'], len(sample[index][1]))

        for command in ('dele 2', 'rset', 'noop'):
            self.assertEqual(set(by_command[command]),
                             {'command', 'ok', 'response'})
            self.assertTrue(by_command[command]['response'].startswith('+OK'))

        for obj in objects:
            self.assertTrue(obj['response'].startswith('+OK'), obj)

    def test_every_command_over_each_security(self):
        ids = self.user.message_ids()
        for security in SECURITIES:
            with self.subTest(security=security):
                objects = self.cli_ok(*ALL_COMMANDS, security=security)
                self.check_all_commands(objects)
                # "dele 2" was undone by rset: everything is still there.
                self.assertEqual(self.user.message_ids(), ids)

    def test_tls_by_host_name(self):
        objects = self.cli_ok('stat', security='tls', host='localhost')
        self.assertEqual(objects[0]['count'], len(samples()))

    def test_commands_without_login(self):
        # No --user: the commands run in the AUTHORIZATION state, where
        # Dovecot still offers STLS and its SASL mechanisms.
        result = self.cli('welcome', 'capa', security='none', login=False)
        self.assertExit(result, EXIT_OK)
        welcome, capa = result.json_lines()
        self.assertTrue(welcome['welcome'].startswith('+OK'))
        self.assertEqual(capa['capabilities']['STLS'], [])
        self.assertEqual(sorted(capa['capabilities']['SASL']),
                         ['CRAM-MD5', 'LOGIN', 'PLAIN'])
        self.assertIn('USER', capa['capabilities'])

    def test_noop_before_login_is_refused(self):
        # RFC 1939: NOOP belongs to the TRANSACTION state; Dovecot says -ERR.
        result = self.cli('noop', security='none', login=False)
        self.assertExit(result, EXIT_SERVER)
        obj, = result.json_lines()
        self.assertIs(obj['ok'], False)
        self.assertTrue(obj['response'].startswith('-ERR'), obj)

    def test_failed_command_json(self):
        result = self.cli('retr 99', 'stat')
        self.assertExit(result, EXIT_SERVER)
        objects = result.json_lines()
        failed = objects[0]
        self.assertEqual(failed['command'], 'retr 99')
        self.assertIs(failed['ok'], False)
        self.assertEqual(set(failed), {'command', 'ok', 'response', 'error'})
        self.assertTrue(failed['response'].startswith('-ERR'), failed)
        self.assertTrue(failed['error'], failed)

    def test_utf8_refused_by_dovecot(self):
        # Dovecot 2.3 does not implement RFC 6856: the CLI reports its -ERR.
        result = self.cli('utf8')
        self.assertExit(result, EXIT_SERVER)
        obj, = result.json_lines()
        self.assertEqual(obj['command'], 'utf8')
        self.assertIs(obj['ok'], False)
        self.assertTrue(obj['response'].startswith('-ERR'), obj)
        self.assertIn('error', obj)

    def test_empty_mailbox(self):
        self.user = self.server.new_user(empty=True)
        stat, listing, uidl = self.cli_ok('stat', 'list', 'uidl')
        self.assertEqual((stat['count'], stat['size']), (0, 0))
        self.assertEqual(listing['items'], [])
        self.assertEqual(uidl['items'], [])

    def test_delivered_message_appears(self):
        path = sample_messages()[8]
        self.server.deliver(self.user, path)
        stat, retr = self.cli_ok('stat', 'retr 11')
        self.assertEqual(stat['count'], 11)
        with open(path, 'rb') as f:
            self.assertEqual(decode_data(retr), crlf(f.read()))

    def test_text_output(self):
        # Without --json, retr writes the message itself to stdout.
        result = self.cli('retr 3', json=False)
        self.assertExit(result, EXIT_OK)
        self.assertIn(samples()[2][1].replace(b'\r\n', b'\n'),
                      result.stdout.replace(b'\r\n', b'\n'))


class MaildirTests(DovecotTestCase):
    """What a session leaves in the Maildir after QUIT."""

    def test_top_leaves_message_unseen(self):
        ids = self.user.message_ids()
        for security in SECURITIES:
            with self.subTest(security=security):
                self.cli_ok('top 3 5', 'top 8 0', security=security)
                self.assertEqual(self.user.seen_ids(), set())
                self.assertEqual(self.user.message_ids(), ids)

    def test_retr_marks_message_seen(self):
        sample = samples()
        self.cli_ok('top 5 0', 'retr 3')
        self.assertEqual(self.user.seen_ids(), {sample[2][0]})
        self.cli_ok('retr 8', security='starttls')
        self.assertEqual(self.user.seen_ids(), {sample[2][0], sample[7][0]})

    def test_dele_removes_exactly_that_message(self):
        sample = samples()
        ids = self.user.message_ids()
        self.assertEqual(ids, {mid for mid, _ in sample})
        self.cli_ok('dele 2')
        self.assertEqual(self.user.message_ids(), ids - {sample[1][0]})
        # The others are renumbered: the old message 3 is now message 2.
        stat, retr = self.cli_ok('stat', 'retr 2', security='none')
        self.assertEqual(stat['count'], len(sample) - 1)
        self.assertEqual(decode_data(retr), sample[2][1])

    def test_dele_several(self):
        sample = samples()
        ids = self.user.message_ids()
        self.cli_ok('dele 1', 'dele 10', security='starttls')
        self.assertEqual(self.user.message_ids(),
                         ids - {sample[0][0], sample[9][0]})

    def test_dele_then_rset_removes_nothing(self):
        ids = self.user.message_ids()
        for security in SECURITIES:
            with self.subTest(security=security):
                self.cli_ok('dele 2', 'dele 5', 'rset', security=security)
                self.assertEqual(self.user.message_ids(), ids)

    def test_failed_login_changes_nothing(self):
        ids = self.user.message_ids()
        result = self.cli('dele 1', password='not-' + self.user.password)
        self.assertExit(result, EXIT_AUTH)
        self.assertEqual(self.user.message_ids(), ids)


class ErrorTests(DovecotTestCase):
    """Exit statuses and what stderr says."""

    def test_wrong_password(self):
        for security in SECURITIES:
            with self.subTest(security=security):
                result = self.cli('stat', security=security,
                                  password=self.user.password + 'x')
                self.assertExit(result, EXIT_AUTH)
                self.assertTrue(result.stderr.strip(), result.describe())
                self.assertNotIn(self.user.password, result.stderr)

    def test_unknown_user(self):
        result = self.cli('stat', user='nobody-here', password='whatever')
        self.assertExit(result, EXIT_AUTH)

    def test_untrusted_certificate(self):
        for security in ('tls', 'starttls'):
            with self.subTest(security=security):
                result = self.cli('stat', security=security, ca=False)
                self.assertExit(result, EXIT_TLS)
                self.assertIn('certificate', result.stderr.lower())
                # A person can read what the problem is (a self-signed
                # certificate: no known authority signed it) and which
                # certificate it is.
                self.assertRegex(result.stderr.lower(),
                                 r'authority|issuer|not trusted|untrusted')
                self.assertIn('CN=localhost', result.stderr)
                self.assertIn(self.server.fingerprint, result.stderr.upper())
        # The password never left: Dovecot saw no login of this user.
        self.assertNotIn('user=<%s>' % self.user.name, self.server.log())

    def test_ca_file_passes(self):
        for security in ('tls', 'starttls'):
            with self.subTest(security=security):
                stat, = self.cli_ok('stat', security=security)
                self.assertEqual(stat['count'], len(samples()))

    def test_pin_alone_passes(self):
        for security in ('tls', 'starttls'):
            with self.subTest(security=security):
                stat, = self.cli_ok('stat', security=security, ca=False,
                                    extra=['--pin', self.server.fingerprint])
                self.assertEqual(stat['count'], len(samples()))

    def test_wrong_pin(self):
        # The pin accepts one certificate despite validation errors; with a
        # fingerprint that is not the server's, the errors stand.
        wrong = flip_hex_digit(self.server.fingerprint)
        for security in ('tls', 'starttls'):
            with self.subTest(security=security):
                result = self.cli('stat', security=security, ca=False,
                                  extra=['--pin', wrong])
                self.assertExit(result, EXIT_TLS)
                self.assertIn('certificate', result.stderr.lower())
                self.assertIn(self.server.fingerprint, result.stderr.upper())
        self.assertNotIn('user=<%s>' % self.user.name, self.server.log())

    def test_pin_is_exclusive(self):
        # A pin means this certificate and no other: the server's own
        # certificate, trusted through --ca-file, is refused when the pin
        # names another.
        wrong = flip_hex_digit(self.server.fingerprint)
        for security in ('tls', 'starttls'):
            with self.subTest(security=security):
                result = self.cli('stat', security=security,
                                  extra=['--pin', wrong])
                self.assertExit(result, EXIT_TLS)
                self.assertIn('pinned', result.stderr)
                self.assertIn(self.server.fingerprint, result.stderr.upper())
        self.assertNotIn('user=<%s>' % self.user.name, self.server.log())

    def test_usage_errors(self):
        for commands in (['frobnicate'], ['stat', 'retr'], ['top 1'],
                         ['stat', 'bogus 1'], []):
            with self.subTest(commands=commands):
                result = self.cli(*commands)
                self.assertExit(result, EXIT_USAGE)
                self.assertTrue(result.stderr.strip(), result.describe())
        # Checked before connecting: nothing reached the server.
        self.assertNotIn('user=<%s>' % self.user.name, self.server.log())

    def test_connection_refused(self):
        port = free_port()
        for security in SECURITIES:
            with self.subTest(security=security):
                result = run_cli(['--host', '127.0.0.1', '--port', str(port),
                                  '--security', security, '--json', 'stat'])
                self.assertExit(result, EXIT_NETWORK)
                self.assertTrue(result.stderr.strip(), result.describe())


# How Dovecot logs each method: USER/PASS goes through its PLAIN mechanism.
AUTH_METHODS = {
    'plain': ('AUTH PLAIN', 'PLAIN'),
    'login': ('AUTH LOGIN', 'LOGIN'),
    'cram-md5': ('AUTH CRAM-MD5', 'CRAM-MD5'),
    'user': ('USER ', 'PLAIN'),
    'apop': ('APOP ', 'APOP'),
}


class DebugTests(DovecotTestCase):
    """--debug shows the conversation but never a credential."""

    def secrets_of(self, user, password):
        u = user.encode()
        p = password.encode()
        forms = [password,
                 base64.b64encode(p).decode(),
                 base64.b64encode(b'\0' + u + b'\0' + p).decode(),
                 base64.b64encode(u + b'\0' + u + b'\0' + p).decode()]
        # The passwords end in 16 random hex digits: any 8 of them in a row
        # would be a leak too.
        token = password[-16:]
        forms += [token[i:i + 8] for i in range(len(token) - 7)]
        return forms

    def test_debug_never_shows_password(self):
        for method, (command_word, logged) in AUTH_METHODS.items():
            for level in ('1', '2'):
                for security in ('none', 'tls'):
                    user = self.server.new_user()
                    with self.subTest(auth=method, debug=level,
                                      security=security):
                        result = self.cli('stat', 'list 1', user=user.name,
                                          password=user.password,
                                          auth=method, security=security,
                                          extra=['--debug', level])
                        self.assertExit(result, EXIT_OK)
                        output = result.stderr + result.stdout.decode(
                            'utf-8', 'replace')
                        for secret in self.secrets_of(user.name, user.password):
                            self.assertNotIn(secret, output,
                                             result.describe())
                        # The debug output is really there, with the login.
                        self.assertIn(command_word, result.stderr,
                                      result.describe())
                        self.assertIn('STAT', result.stderr)
                        if level == '2':
                            self.assertIn('+OK Logged in', result.stderr)
                        # And the server saw that very method succeed.
                        self.assertRegex(
                            self.server.log(),
                            r'Login: user=<%s>, method=%s,'
                            % (re.escape(user.name), re.escape(logged)))

    def test_debug_of_failed_login(self):
        wrong = 'Wrong-' + self.user.password
        for method in AUTH_METHODS:
            with self.subTest(auth=method):
                result = self.cli('stat', auth=method, password=wrong,
                                  security='none', extra=['--debug', '2'])
                self.assertExit(result, EXIT_AUTH)
                output = result.stderr + result.stdout.decode('utf-8', 'replace')
                for secret in self.secrets_of(self.user.name, wrong):
                    self.assertNotIn(secret, output, result.describe())


if __name__ == '__main__':
    popchecktest.main()
