#!/usr/bin/python3
# test-poplib-agreement.py: popcheck-cli --json agrees with Python's poplib.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Issue 2 is done when "popcheck-cli --json agrees with Python's poplib on
# every command against the demo server".  For each command, over plain
# POP3, STLS and implicit TLS, poplib and popcheck-cli run the same session
# against the same fresh user and must report the same status lines,
# counts, sizes, listings, unique ids, capabilities and message bytes.
#
# popcheck-cli stops at the first command that fails and then ends the
# session, so a session that must fail has its failing command last.

import poplib
import re
import ssl

import popchecktest
from popchecktest import (DovecotTestCase, SECURITIES, EXIT_OK, EXIT_SERVER,
                          decode_data, message_id, sample_messages)


def setUpModule():
    popchecktest.start_module_server()


def tearDownModule():
    popchecktest.stop_module_server()


# The APOP timestamp differs from one connection to the next.
APOP_TIMESTAMP = re.compile(r'<[^<>]*>$')


def text(line):
    return line.decode('utf-8', 'replace')


def joined(lines):
    """poplib's lines (CRLF stripped) as the message bytes on the wire."""
    return b''.join(line + b'\r\n' for line in lines)


def single_item(response, key):
    """{'msg': N, key: VALUE} from a "+OK N VALUE" answer (LIST n, UIDL n)."""
    _, msg, value = text(response).split(' ', 2)
    return [{'msg': int(msg), key: int(value) if key == 'octets' else value}]


def items(lines, key):
    result = []
    for line in lines:
        msg, value = text(line).split(' ', 1)
        result.append({'msg': int(msg),
                       key: int(value) if key == 'octets' else value})
    return result


class Poplib:
    """One poplib session, answering commands in popcheck-cli's JSON terms."""

    def __init__(self, server, security, user=None):
        context = ssl.create_default_context(cafile=server.ca_file)
        port = server.port(security)
        if security == 'tls':
            self.pop = poplib.POP3_SSL(server.host, port, timeout=20,
                                       context=context)
        else:
            self.pop = poplib.POP3(server.host, port, timeout=20)
            if security == 'starttls':
                self.pop.stls(context=context)
        if user is not None:
            self.pop.user(user.name)
            self.pop.pass_(user.password)

    def close(self):
        self.pop.quit()

    def run(self, command):
        words = command.split()
        name, args = words[0], [int(w) for w in words[1:]]
        try:
            result = getattr(self, 'do_' + name)(*args)
        except poplib.error_proto as e:
            return {'ok': False, 'response': text(e.args[0])}
        result['ok'] = True
        return result

    def do_welcome(self):
        welcome = text(self.pop.getwelcome())
        return {'response': welcome, 'welcome': welcome}

    def do_capa(self):
        # capa() gives the table, _longcmd the status line it dropped.
        response, _, _ = self.pop._longcmd('CAPA')
        return {'response': text(response), 'capabilities': self.pop.capa()}

    def do_stat(self):
        count, size = self.pop.stat()
        # stat() keeps only the numbers; ask again for the line itself.
        response = self.pop._shortcmd('STAT')
        return {'response': text(response), 'count': count, 'size': size}

    def do_list(self, msg=None):
        if msg is not None:
            response = self.pop.list(msg)
            return {'response': text(response),
                    'items': single_item(response, 'octets')}
        response, lines, _ = self.pop.list()
        return {'response': text(response), 'items': items(lines, 'octets')}

    def do_uidl(self, msg=None):
        if msg is not None:
            response = self.pop.uidl(msg)
            return {'response': text(response),
                    'items': single_item(response, 'uid')}
        response, lines, _ = self.pop.uidl()
        return {'response': text(response), 'items': items(lines, 'uid')}

    def data_result(self, answer):
        response, lines, octets = answer
        data = joined(lines)
        # poplib counts the octets after unstuffing, with the CRLFs.
        if octets != len(data):
            raise AssertionError('poplib counted %d octets for %d bytes'
                                 % (octets, len(data)))
        return {'response': text(response), 'octets': octets, 'data': data}

    def do_top(self, msg, lines):
        return self.data_result(self.pop.top(msg, lines))

    def do_retr(self, msg):
        return self.data_result(self.pop.retr(msg))

    def do_dele(self, msg):
        return {'response': text(self.pop.dele(msg))}

    def do_rset(self):
        return {'response': text(self.pop.rset())}

    def do_noop(self):
        return {'response': text(self.pop.noop())}

    def do_utf8(self):
        return {'response': text(self.pop.utf8())}


def every_message_commands(count):
    commands = []
    for msg in range(1, count + 1):
        commands += ['list %d' % msg, 'uidl %d' % msg, 'top %d 0' % msg,
                     'top %d 5' % msg, 'retr %d' % msg]
    return commands


# Sessions that succeed throughout; the mailbox is as before afterwards.
def succeeding_sessions():
    count = len(sample_messages())
    return {
        'overview': ['welcome', 'capa', 'stat', 'list', 'uidl', 'noop'],
        'every message': every_message_commands(count),
        'long message': ['top 8 1000', 'top 8 100000', 'retr 8'],
        'dele and rset': ['dele 2', 'stat', 'list', 'uidl', 'dele %d' % count,
                          'stat', 'rset', 'stat', 'list', 'uidl', 'noop'],
    }


# Sessions whose last command fails; poplib's session ends with RSET.
FAILING_SESSIONS = {
    'utf8': ['utf8'],
    'list of a deleted message': ['dele 2', 'list 2'],
    'uidl of a deleted message': ['dele 2', 'uidl 2'],
    'retr of a deleted message': ['dele 2', 'retr 2'],
    'top of a deleted message': ['dele 2', 'top 2 0'],
    'dele twice': ['dele 2', 'dele 2'],
    'retr past the end': ['retr 99'],
    'list past the end': ['list 99'],
    'top past the end': ['top 11 0'],
}


class AgreementTests(DovecotTestCase):

    def compare(self, command, cli, ours):
        where = '%s: popcheck-cli %r, poplib %r' % (command, cli, ours)
        self.assertEqual(cli['command'], command, where)
        self.assertIs(cli['ok'], ours['ok'], where)
        if command == 'welcome':
            self.assertEqual(APOP_TIMESTAMP.sub('', cli['response']),
                             APOP_TIMESTAMP.sub('', ours['response']), where)
            self.assertEqual(APOP_TIMESTAMP.sub('', cli['welcome']),
                             APOP_TIMESTAMP.sub('', ours['welcome']), where)
            self.assertRegex(cli['welcome'], APOP_TIMESTAMP)
            return
        self.assertEqual(cli['response'], ours['response'], where)
        if not ours['ok']:
            self.assertEqual(set(cli), {'command', 'ok', 'response', 'error'},
                             where)
            return
        expected_keys = set(ours) | {'command'}
        if 'data' in ours:
            expected_keys = (expected_keys - {'data'}) | {'data_base64'}
            self.assertEqual(decode_data(cli), ours['data'], command)
        self.assertEqual(set(cli), expected_keys, where)
        for key, value in ours.items():
            if key != 'data':
                self.assertEqual(cli[key], value, '%s: %s' % (command, key))

    def run_both(self, security, commands, login=True, poplib_ends_with_rset=False):
        """Runs @commands with poplib, then with popcheck-cli, same user."""
        session = Poplib(self.server, security, self.user if login else None)
        expected = []
        try:
            for command in commands:
                expected.append(session.run(command))
                if not expected[-1]['ok']:
                    break
            if poplib_ends_with_rset:
                session.pop.rset()
        finally:
            session.close()

        result = self.cli(*commands, security=security, login=login,
                          auth='user' if login else None)
        objects = result.json_lines()
        self.assertEqual(len(objects), len(expected), result.describe())
        for command, cli, ours in zip(commands, objects, expected):
            self.compare(command, cli, ours)
        return result, expected

    def test_succeeding_sessions(self):
        for security in SECURITIES:
            for name, commands in succeeding_sessions().items():
                with self.subTest(security=security, session=name):
                    ids = self.user.message_ids()
                    result, _ = self.run_both(security, commands)
                    self.assertExit(result, EXIT_OK)
                    # Both sessions ended in RSET or deleted nothing.
                    self.assertEqual(self.user.message_ids(), ids)

    def test_failing_sessions(self):
        for security in SECURITIES:
            for name, commands in FAILING_SESSIONS.items():
                with self.subTest(security=security, session=name):
                    self.user = self.server.new_user()
                    result, expected = self.run_both(
                        security, commands, poplib_ends_with_rset=True)
                    self.assertIs(expected[-1]['ok'], False, expected)
                    self.assertExit(result, EXIT_SERVER)

    def test_before_login(self):
        # No login: CAPA in the AUTHORIZATION state, STLS offered only
        # before TLS.
        for security in SECURITIES:
            with self.subTest(security=security):
                result, expected = self.run_both(security, ['welcome', 'capa'],
                                                 login=False)
                self.assertExit(result, EXIT_OK)
                caps = expected[1]['capabilities']
                self.assertEqual('STLS' in caps, security == 'none', caps)

    def test_dele_then_quit(self):
        # Deleting for good cannot share one user: poplib and popcheck-cli
        # each delete message 2 of a user of their own, and the same
        # message must be gone from both Maildirs.
        for security in SECURITIES:
            with self.subTest(security=security):
                theirs = self.server.new_user()
                session = Poplib(self.server, security, theirs)
                try:
                    response = text(session.pop.dele(2))
                finally:
                    session.close()
                obj, = self.cli_ok('dele 2', security=security, auth='user')
                self.assertEqual(obj['response'], response)
                self.assertEqual(self.user.message_ids(), theirs.message_ids())
                with open(sample_messages()[1], 'rb') as f:
                    gone = message_id(f.read())
                self.assertNotIn(gone, self.user.message_ids())
                self.assertEqual(len(self.user.message_ids()),
                                 len(sample_messages()) - 1)
                self.user = self.server.new_user()


if __name__ == '__main__':
    popchecktest.main()
