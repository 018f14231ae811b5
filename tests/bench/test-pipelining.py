#!/usr/bin/python3
# test-pipelining.py: pipelined checks against a real Dovecot are correct.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The engine, driven by pop3-bench (the benchmark's client, the same calls
# the checker makes), against the demo server (which offers PIPELINING):
#   - a pipelined first check gets exactly the TOP bytes, in the same order,
#     as a lockstep one and as Python's poplib; the mailbox is big enough
#     that the TOP commands overflow the engine's 64 KiB window, so the
#     window's refills are part of what is compared;
#   - a check that finds nothing new costs exactly: the greeting, CAPA, the
#     two steps of AUTH CRAM-MD5, UIDL + LIST together, and QUIT;
#   - a check with new messages fetches only those, in the same round trips
#     plus none: the TOPs go out together with QUIT;
#   - deleting by UID sends the DELEs in one batch and removes exactly those.

import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import popchecktest  # noqa: E402
from popchecktest import DovecotTestCase, message_id  # noqa: E402

# "TOP 5500 0\r\n" is 12 bytes: 5,600 of them are more than 64 KiB.
GENERATED = 5600

# Round trips of a check with nothing to fetch: the greeting, CAPA,
# "AUTH CRAM-MD5" and its response (Dovecot offers CRAM-MD5, which the
# engine prefers), UIDL and LIST in one, QUIT.
NOTHING_NEW_ROUND_TRIPS = 6


def setUpModule():
    popchecktest.start_module_server()


def tearDownModule():
    popchecktest.stop_module_server()


def pop3_bench():
    build_dir = os.environ.get('POPCHECK_BUILD_DIR')
    if not build_dir:
        raise RuntimeError('POPCHECK_BUILD_DIR is not set: run with meson test')
    return os.path.join(build_dir, 'tests', 'bench', 'pop3-bench')


class PipeliningTest(DovecotTestCase):
    def setUp(self):
        super().setUp()
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def generate(self, count, first=1):
        subprocess.run([sys.executable, os.path.join(HERE, 'gen-mailbox.py'),
                        '--dir', self.server.directory,
                        '--user', self.user.name, '--count', str(count),
                        '--first', str(first)],
                       check=True, stdout=subprocess.DEVNULL)

    def run_client(self, program, scenario, *args):
        command = program + [
            '--host', self.server.host, '--port',
            str(self.server.port('none')), '--user', self.user.name,
            '--password', self.user.password, '--scenario', str(scenario),
        ] + list(args)
        completed = subprocess.run(command, capture_output=True, text=True,
                                   timeout=120)
        self.assertEqual(completed.returncode, 0,
                         '%s\n%s' % (completed.stdout, completed.stderr))
        return json.loads(completed.stdout)

    def bench(self, scenario, *args):
        return self.run_client([pop3_bench()], scenario, *args)

    def poplib(self, scenario, *args):
        return self.run_client([sys.executable,
                                os.path.join(HERE, 'poplib-bench.py')],
                               scenario, *args)

    def read(self, name):
        with open(self.path(name), 'rb') as f:
            return f.read()

    def test_pipelined_tops_match_lockstep_and_poplib(self):
        self.generate(GENERATED)
        messages = GENERATED + len(popchecktest.sample_messages())

        pipelined = self.bench(1, '--dump-tops', self.path('pipelined'))
        lockstep = self.bench(1, '--lockstep', '--dump-tops',
                              self.path('lockstep'))
        reference = self.poplib(1, '--dump-tops', self.path('poplib'))

        self.assertIs(pipelined['pipelining'], True)
        self.assertIs(lockstep['pipelining'], False)
        for result in (pipelined, lockstep, reference):
            self.assertEqual(result['messages'], messages)
            self.assertEqual(result['tops'], messages)
        # Everything after the login in one round trip, then the TOPs and
        # QUIT in one more; lockstep waits for each command.
        self.assertEqual(pipelined['round_trips'],
                         NOTHING_NEW_ROUND_TRIPS)
        self.assertEqual(lockstep['round_trips'],
                         NOTHING_NEW_ROUND_TRIPS + 1 + messages)

        data = self.read('pipelined')
        # Not three empty files: the first and the last headers are there.
        self.assertIn(b'Message-ID: <bench-1.', data)
        self.assertIn(b'Message-ID: <bench-%d.' % GENERATED, data)
        self.assertEqual(len(data), len(self.read('lockstep')))
        self.assertTrue(data == self.read('lockstep'),
                        'pipelined and lockstep TOP replies differ')
        self.assertTrue(data == self.read('poplib'),
                        'pipelined TOP replies differ from poplib\'s')

    def test_nothing_new_round_trips(self):
        self.bench(1, '--save-uids', self.path('known'))

        result = self.bench(2, '--known-uids', self.path('known'))

        self.assertEqual(result['tops'], 0)
        self.assertEqual(result['round_trips'], NOTHING_NEW_ROUND_TRIPS)

    def test_new_messages_only_are_fetched(self):
        self.bench(1, '--save-uids', self.path('known'))
        self.generate(3, first=1000)

        result = self.bench(3, '--known-uids', self.path('known'),
                            '--dump-tops', self.path('new'))

        self.assertEqual(result['tops'], 3)
        self.assertEqual(result['round_trips'], NOTHING_NEW_ROUND_TRIPS)
        dump = self.read('new')
        for index in (1000, 1001, 1002):
            self.assertIn(b'Message-ID: <bench-%d.' % index, dump)

    def test_delete_by_uid_in_one_batch(self):
        self.bench(1, '--save-uids', self.path('uids'))
        with open(self.path('uids'), encoding='utf-8') as f:
            uids = f.read().split()
        before = self.user.message_ids()
        with open(self.path('delete'), 'w', encoding='utf-8') as f:
            f.write('%s\n%s\n' % (uids[1], uids[4]))

        result = self.bench(4, '--delete-uids', self.path('delete'))

        self.assertEqual(result['deleted'], 2)
        self.assertEqual(result['round_trips'], NOTHING_NEW_ROUND_TRIPS)
        samples = popchecktest.sample_messages()
        gone = set()
        for index in (1, 4):
            with open(samples[index], 'rb') as f:
                gone.add(message_id(f.read()))
        self.assertEqual(set(before) - set(self.user.message_ids()), gone)


if __name__ == '__main__':
    popchecktest.main()
