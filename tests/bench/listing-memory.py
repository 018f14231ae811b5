#!/usr/bin/python3
# listing-memory.py: how much memory popcheck-cli needs for a huge mailbox.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
#   listing-memory.py --cli POPCHECK_CLI [--messages N] [--max-mb MB]
#
# Serves a mailbox of N messages (1,000,000 by default) from a scripted
# POP3 server on loopback: UIDL answers with UIDs of 50 characters, as
# long as many real servers' (Dovecot's with its default format is 24,
# Exchange's are longer), LIST with sizes.  Runs popcheck-cli for "uidl",
# "list" and "uidl list" (the listing step of a check) and reports the
# peak resident memory of each run (the child's ru_maxrss), next to two
# baselines measured in the same run: the size of the listing itself and
# Python's poplib doing the same.  Fails when a popcheck-cli run peaks
# above --max-mb (200 MB by default) or does not succeed.
#
# With --check, also measures `popcheck-cli check` on a stored account for
# that mailbox, first checks all (nothing cached): plain, --json, --json
# --first-headers 100000 and --json --all-headers.  --max-mb holds for
# the first two; the other two keep the summaries they fetch (100,000, or
# all of them), and are reported without a bound.  These runs happen
# inside tests/keyring-harness (a private bus and keyring) with the
# settings in a key file, so the user's own are never touched.

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.realpath(__file__))
HARNESS = os.path.join(HERE, '..', 'keyring-harness')
PASSWORD = 'bench-password'

POPLIB_SCRIPT = r'''
import poplib
import sys
client = poplib.POP3('127.0.0.1', int(sys.argv[1]))
client.user('bench')
client.pass_('bench-password')
for command in sys.argv[2:]:
    lines = getattr(client, command)()[1]
    print(len(lines))
client.quit()
'''


def uid_of(number):
    return ('%08d' % number) + ('%042x' % (number * 2654435761 % (1 << 160)))


class Mailbox:
    def __init__(self, count):
        self.count = count
        self.uidl = b''.join(b'%d %s\r\n' % (n, uid_of(n).encode('ascii'))
                             for n in range(1, count + 1))
        self.list = b''.join(b'%d %d\r\n' % (n, 1000 + n % 50000)
                             for n in range(1, count + 1))

    def top(self, number):
        return (b'From: Sender %d <sender%d@example.org>\r\n'
                b'Subject: Message %d\r\n'
                b'Date: Mon, 1 Jun 2026 12:00:00 +0000\r\n'
                b'Message-ID: <%d@example.org>\r\n\r\n'
                % (number, number, number, number))


def serve_one(conn, mailbox):
    with conn:
        reader = conn.makefile('rb')
        conn.sendall(b'+OK ready\r\n')
        for line in reader:
            words = line.strip().split(b' ')
            word = words[0].upper()
            number = (int(words[1]) if len(words) > 1 and words[1].isdigit()
                      else None)
            if word == b'CAPA':
                conn.sendall(b'+OK\r\nUSER\r\nUIDL\r\nTOP\r\n'
                             b'PIPELINING\r\n.\r\n')
            elif word in (b'USER', b'PASS', b'NOOP'):
                conn.sendall(b'+OK\r\n')
            elif word == b'STAT':
                conn.sendall(b'+OK %d %d\r\n' % (mailbox.count,
                                                  1000 * mailbox.count))
            elif number is not None and word in (b'UIDL', b'LIST'):
                if not 1 <= number <= mailbox.count:
                    conn.sendall(b'-ERR no such message\r\n')
                elif word == b'UIDL':
                    conn.sendall(b'+OK %d %s\r\n'
                                 % (number, uid_of(number).encode('ascii')))
                else:
                    conn.sendall(b'+OK %d %d\r\n'
                                 % (number, 1000 + number % 50000))
            elif word == b'UIDL':
                conn.sendall(b'+OK\r\n' + mailbox.uidl + b'.\r\n')
            elif word == b'LIST':
                conn.sendall(b'+OK\r\n' + mailbox.list + b'.\r\n')
            elif word == b'TOP' and number is not None \
                    and 1 <= number <= mailbox.count:
                conn.sendall(b'+OK\r\n' + mailbox.top(number) + b'.\r\n')
            elif word == b'QUIT':
                conn.sendall(b'+OK bye\r\n')
                return
            else:
                conn.sendall(b'-ERR not here\r\n')


def serve(listener, mailbox):
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        threading.Thread(target=serve_one, args=(conn, mailbox),
                         daemon=True).start()


def peak_rss_mb(argv, stdin_text, env=None):
    """Runs argv to its end; returns its exit status and peak RSS in MB."""
    process = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE,
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    process.stdin.write(stdin_text)
    process.stdin.close()
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.stderr.write(stderr.decode('utf-8', 'replace'))
    # Linux reports ru_maxrss in kilobytes.
    return process.returncode, usage.ru_maxrss / 1024


def run_server(count):
    mailbox = Mailbox(count)
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(4)
    print(listener.getsockname()[1], len(mailbox.uidl), len(mailbox.list),
          flush=True)
    serve(listener, mailbox)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--cli', required='--serve' not in sys.argv)
    parser.add_argument('--messages', type=int, default=1000000)
    parser.add_argument('--max-mb', type=float, default=200)
    parser.add_argument('--check', action='store_true',
                        help='also measure "check" on a stored account')
    parser.add_argument('--serve', action='store_true',
                        help=argparse.SUPPRESS)
    parser.add_argument('--inside-check', type=int, metavar='PORT',
                        help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.serve:
        run_server(args.messages)
        return 0
    if args.inside_check is not None:
        return measure_checks(args, args.inside_check)

    # The server is a process of its own: a child forked from a parent
    # holding the listings would start its peak at the parent's size.
    server = subprocess.Popen([sys.executable, __file__, '--serve',
                               '--messages', str(args.messages)],
                              stdout=subprocess.PIPE)
    try:
        return measure(args, server)
    finally:
        server.kill()
        server.wait()


def measure(args, server):
    port, uidl_size, list_size = (int(word) for word in
                                  server.stdout.readline().split())
    print('%d messages: UIDL listing %.1f MB, LIST listing %.1f MB'
          % (args.messages, uidl_size / 1e6, list_size / 1e6))
    print('%-12s %14s %14s %10s %10s' % ('commands', 'popcheck-cli',
                                        'poplib', 'ratio', 'x listing'))
    failed = False
    for commands in (['uidl'], ['list'], ['uidl', 'list']):
        status, ours = peak_rss_mb(
            [args.cli, '--host', '127.0.0.1', '--port', str(port),
             '--security', 'none', '--auth', 'user', '--user', 'bench',
             '--password-stdin', '--timeout', '120'] + commands,
            b'bench-password\n')
        _, theirs = peak_rss_mb(
            ['/usr/bin/python3', '-c', POPLIB_SCRIPT, str(port)] + commands,
            b'')
        listed = sum(uidl_size if c == 'uidl' else list_size
                     for c in commands) / 2 ** 20
        print('%-12s %11.1f MB %11.1f MB %9.2fx %9.2fx'
              % (' '.join(commands), ours, theirs, ours / theirs,
                 ours / listed))
        if status != 0 or ours > args.max_mb:
            failed = True

    if args.check:
        # The stored account's password goes to a keyring: a private one.
        status = subprocess.call(
            ['/usr/bin/python3', HARNESS, '--mode', 'keyring', '--',
             '/usr/bin/python3', os.path.realpath(__file__),
             '--cli', os.path.realpath(args.cli),
             '--messages', str(args.messages), '--max-mb', str(args.max_mb),
             '--inside-check', str(port)])
        if status != 0:
            failed = True

    if failed:
        print('FAILED: popcheck-cli failed or peaked above %g MB'
              % args.max_mb)
        return 1
    return 0


def measure_checks(args, port):
    """Peak RSS of first checks of the stored account "bench"."""
    work = tempfile.mkdtemp(prefix='popcheck-listing-memory-')
    try:
        env = dict(os.environ, GSETTINGS_BACKEND='keyfile')
        schemas = os.path.join(os.path.dirname(os.path.dirname(
            os.path.dirname(os.path.realpath(args.cli)))), 'data')
        if os.path.exists(os.path.join(schemas, 'gschemas.compiled')):
            env['GSETTINGS_SCHEMA_DIR'] = schemas
        for name in ('XDG_CONFIG_HOME', 'XDG_STATE_HOME', 'XDG_CACHE_HOME'):
            env[name] = os.path.join(work, name.lower())
            os.makedirs(env[name])
        status, _ = peak_rss_mb(
            [args.cli, 'account', 'add', 'Bench', '--host', '127.0.0.1',
             '--port', str(port), '--security', 'none', '--user', 'bench'],
            PASSWORD.encode('ascii') + b'\n', env)
        if status != 0:
            print('FAILED: account add')
            return 1
        failed = False
        for options in ([], ['--json'],
                        ['--json', '--first-headers', '100000'],
                        ['--json', '--all-headers']):
            # A first check each time: nothing cached or saved.
            for name in ('XDG_STATE_HOME', 'XDG_CACHE_HOME'):
                shutil.rmtree(os.path.join(env[name], 'popcheck'),
                              ignore_errors=True)
            status, ours = peak_rss_mb(
                [args.cli, '--account', 'bench'] +
                options + ['check'], b'', env)
            bounded = '--first-headers' not in options and \
                '--all-headers' not in options
            print('%-40s %11.1f MB%s' % (' '.join(['check'] + options), ours,
                                         '' if bounded else '  (no bound)'),
                  flush=True)
            if status != 0 or (bounded and ours > args.max_mb):
                failed = True
        return 1 if failed else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
