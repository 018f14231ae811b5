#!/usr/bin/python3
# line-bench.py: popcheck-cli against poplib on a 20 ms, 10 Mbit/s line.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
#   tests/bench/line-bench.py [--build-dir DIR] [--messages N]
#                             [--rtt-ms 20] [--rate 10mbit]
#                             [--poplib-first-screen-only]
#
# Runs itself inside tests/keyring-harness (a private bus and keyring, HOME
# and the XDG directories in a temporary directory), starts the demo Dovecot
# with a generated mailbox of N messages (10,000), puts latency-proxy.py in
# front of it with the round trip and a bandwidth for each direction, stores
# an account for it with `popcheck-cli account add`, and measures, in the
# same run:
#
#   first screen   a first check (nothing cached) until the newest 50
#                  summaries are known: `check --json --first-headers 50`,
#                  up to the moment the checker logs that they are in the
#                  list (before the full listing, on a server that
#                  pipelines), or else to the end of the check
#   all summaries  a first check until every summary is known:
#                  `check --json --all-headers`
#   nothing new    a second check, everything cached: `check --json`
#   50 new         the same after 50 messages were delivered into the Maildir
#
# and the same with Python's poplib doing the naive thing (UIDL, then
# `TOP n 0` for every message it does not know, newest first; see
# poplib-bench.py --naive).  For each: the time from connect() (PopCheck:
# the proxy's clock from accepting the connection to closing it, so QUIT
# is in it; poplib: its own clock, up to the last summary the row asks for),
# the bytes the proxy carried each way, and the client's peak resident
# memory (wait4's ru_maxrss).  Each figure comes with the lower bound of
# the line: the round trips that must follow one another, times the round
# trip, plus the bytes of the busier direction at the line's rate (each
# direction is a line of its own).
#
# With 100,000 messages poplib needs a round trip per message, about 40
# minutes on this line; --poplib-first-screen-only stops it after the first
# screen, and its "all summaries" row is left out.
#
# The app's memory with a big mailbox is measured by app-cost.py.

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.realpath(__file__))
SOURCE_DIR = os.path.normpath(os.path.join(HERE, '..', '..'))
PYTHON = '/usr/bin/python3'
DEMO = os.path.join(SOURCE_DIR, 'build-aux', 'popcheck-demo-server')
USER = 'bench'
PASSWORD = 'bench-password'
SCREEN = 50
NEW = 50
# What popcheck-checker logs once a first check's newest summaries are in
# the list, before its full listing.
EARLY_LISTED = b'are listed, before the full listing'

# Round trips that cannot overlap, from connect() to QUIT's reply: TCP's
# handshake, the greeting, CAPA, one login exchange, then what the row
# needs, then QUIT.  The first screen needs STAT before `UIDL n` and `TOP n
# 0` of the newest (which can go out together); every summary needs a
# listing (or STAT) before the TOPs; nothing new needs the listing alone.
ROUND_TRIPS = {'first screen': 7, 'all summaries': 7, 'nothing new': 6,
               '50 new': 7}
ROWS = ('first screen', 'all summaries', 'nothing new', '50 new')


def log(msg):
    print('line-bench: ' + msg, file=sys.stderr, flush=True)


def outer(args):
    harness = [PYTHON, os.path.join(SOURCE_DIR, 'tests', 'keyring-harness'),
               '--mode', 'keyring', '--',
               PYTHON, os.path.realpath(__file__), '--inside',
               '--build-dir', args.build_dir,
               '--messages', str(args.messages),
               '--rtt-ms', str(args.rtt_ms), '--rate', args.rate]
    if args.poplib_first_screen_only:
        harness.append('--poplib-first-screen-only')
    return subprocess.call(harness)


def run_measured(argv, env, stdin=b''):
    """Runs argv; returns (exit status, stdout, peak resident KiB)."""
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE,
                                stdout=out)
        proc.stdin.write(stdin)
        proc.stdin.close()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        return proc.returncode, out.read(), usage.ru_maxrss


def run_logged(argv, env, marker):
    """Runs argv with its debug log on stdout (GLib writes it there);
    returns (exit status, the stdout lines that are not the log, peak
    resident KiB, the monotonic time the first line with marker came or
    None)."""
    proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE)
    lines = []
    seen = []

    def read():
        for line in proc.stdout:
            if not seen and marker in line:
                seen.append(time.monotonic())
            lines.append(line)

    reader = threading.Thread(target=read)
    reader.start()
    _, status, usage = os.wait4(proc.pid, 0)
    reader.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    out = b''.join(line for line in lines if line.startswith(b'{'))
    return proc.returncode, out, usage.ru_maxrss, seen[0] if seen else None


class Proxy:
    def __init__(self, port, work, rtt_ms, rate):
        self.stats = os.path.join(work, 'proxy-stats')
        self.proc = subprocess.Popen(
            [PYTHON, os.path.join(HERE, 'latency-proxy.py'), 'serve',
             '--target', '127.0.0.1:%d' % port, '--delay-ms', str(rtt_ms / 2),
             '--rate', rate, '--lifetime', '7200', '--stats', self.stats],
            stdout=subprocess.PIPE)
        self.port = int(self.proc.stdout.readline())

    def lines(self):
        if not os.path.exists(self.stats):
            return 0
        with open(self.stats, encoding='utf-8') as f:
            return sum(1 for _ in f)

    def connection(self, before):
        """The stats of the connection after the first @before: the proxy
        writes them once both directions are closed, just after the client
        has gone."""
        deadline = time.monotonic() + 30
        while self.lines() <= before:
            if time.monotonic() > deadline:
                raise RuntimeError('the proxy never reported the connection')
            time.sleep(0.01)
        with open(self.stats, encoding='utf-8') as f:
            return json.loads(f.readlines()[before])

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


class Bench:
    def __init__(self, args, work):
        build = os.path.realpath(args.build_dir)
        self.cli = os.path.join(build, 'src', 'cli', 'popcheck-cli')
        self.work = work
        self.env = dict(os.environ, GSETTINGS_BACKEND='keyfile',
                        GSETTINGS_SCHEMA_DIR=os.path.join(build, 'data'))
        for name in ('XDG_CONFIG_HOME', 'XDG_STATE_HOME', 'XDG_CACHE_HOME'):
            path = os.path.join(work, name.lower())
            os.makedirs(path)
            self.env[name] = path
        self.proxy = None
        self.rows = {}

    def forget(self):
        """A first check: nothing cached, the account kept."""
        for name in ('XDG_STATE_HOME', 'XDG_CACHE_HOME'):
            shutil.rmtree(os.path.join(self.env[name], 'popcheck'),
                          ignore_errors=True)

    def popcheck(self, row, *options, expect_known, until_listed=False):
        before = self.proxy.lines()
        argv = [self.cli, '--account', 'bench', '--json', 'check'] + \
            list(options)
        listed = None
        if until_listed:
            env = dict(self.env, G_MESSAGES_DEBUG='popcheck-checker')
            status, out, rss, listed = run_logged(argv, env, EARLY_LISTED)
        else:
            status, out, rss = run_measured(argv, self.env)
        stats = self.proxy.connection(before)
        seconds = stats['seconds']
        if listed is not None:
            seconds = listed - stats['started']
        elif until_listed:
            log('%s: no early listing logged; timed to the end of the check'
                % row)
        if status != 0:
            raise RuntimeError('popcheck-cli check failed (%d): %s'
                               % (status, out.decode(errors='replace')))
        (obj,) = [json.loads(line) for line in out.splitlines()
                  if line.strip()]
        known = sum(1 for m in obj['messages'] if 'subject' in m)
        if known < expect_known:
            raise RuntimeError('%s: %d summaries known, %d expected'
                               % (row, known, expect_known))
        self.rows.setdefault(row, {})['popcheck'] = {
            'seconds': seconds, 'up': stats['up'],
            'down': stats['down'], 'rss_kib': rss}

    def poplib(self, rows, *options):
        before = self.proxy.lines()
        status, out, rss = run_measured(
            [PYTHON, os.path.join(HERE, 'poplib-bench.py'),
             '--host', '127.0.0.1', '--port', str(self.proxy.port),
             '--user', USER, '--password', PASSWORD, '--naive',
             '--screen', str(SCREEN)] + list(options), self.env)
        stats = self.proxy.connection(before)
        result = json.loads(out)
        if status != 0 or 'error' in result:
            raise RuntimeError('poplib-bench.py failed: %s' % out.decode())
        for row, key in rows:
            self.rows.setdefault(row, {})['poplib'] = {
                'seconds': result[key], 'up': stats['up'],
                'down': stats['down'], 'rss_kib': rss,
                'screen_bytes': result['screen_bytes']}


def print_table(rows, messages, rtt, rate):
    print('popcheck-cli vs poplib (UIDL, then TOP n 0 for each, newest '
          'first), %d messages,' % messages)
    print('Dovecot behind a %g ms, %g Mbit/s line' % (rtt * 1000,
                                                        rate * 8 / 1e6))
    print()
    print('%-14s %-8s %9s %8s %8s %9s %9s %7s %7s' % (
        'row', 'client', 'time', 'up', 'down', 'peak RSS', 'bound',
        'x bound', 'x poplib'))
    for row in ROWS:
        cells = rows.get(row, {})
        screen_bytes = cells.get('poplib', {}).get('screen_bytes')
        for client in ('popcheck', 'poplib'):
            r = cells.get(client)
            if r is None:
                print('%-14s %-8s %9s' % (row, client, 'not run'))
                continue
            # The first screen needs the bytes of the newest summaries only
            # (poplib counted them), whoever fetches them; the other rows
            # need what the client itself moved.
            moved = max(r['up'], r['down'])
            if row == 'first screen' and screen_bytes:
                moved = screen_bytes
            bound = ROUND_TRIPS[row] * rtt + moved / rate
            versus = '-'
            if client == 'popcheck' and 'poplib' in cells:
                versus = '%.2fx' % (r['seconds'] / cells['poplib']['seconds'])
            print('%-14s %-8s %7.3f s %5.2f MB %5.2f MB %6.1f MB %7.3f s '
                  '%6.2fx %7s' % (
                      row, client, r['seconds'], r['up'] / 1e6,
                      r['down'] / 1e6, r['rss_kib'] / 1024, bound,
                      r['seconds'] / bound, versus))
    print()
    print('bound: round trips (%s) x %g ms + bytes of the busier direction '
          '/ %g MB/s;' % (', '.join('%d %s' % (ROUND_TRIPS[r], r)
                                    for r in ROWS), rtt * 1000, rate / 1e6))
    print('the first screen\'s bytes are the %d newest summaries\' TOP '
          'replies.  x poplib: PopCheck\'s time / poplib\'s.' % SCREEN)
    print('PopCheck\'s first screen: until its log says the newest %d are '
          'in the list; up and down: its whole check.' % SCREEN)


def inside(args):
    work = tempfile.mkdtemp(prefix='popcheck-line-bench-')
    os.chmod(work, 0o755)
    demo_dir = os.path.join(work, 'demo')
    bench = Bench(args, work)
    rate = int(subprocess.check_output(
        [PYTHON, os.path.join(HERE, 'latency-proxy.py'), 'rate', args.rate]))
    try:
        log('starting Dovecot and writing %d messages' % args.messages)
        started = time.monotonic()
        subprocess.check_call([DEMO, 'start', '--dir', demo_dir],
                              stdout=subprocess.DEVNULL)
        subprocess.check_call([DEMO, 'add-user', '--dir', demo_dir,
                               '--user', USER, '--password', PASSWORD,
                               '--empty'])
        subprocess.check_call([PYTHON, os.path.join(HERE, 'gen-mailbox.py'),
                               '--dir', demo_dir, '--user', USER,
                               '--count', str(args.messages)],
                              stdout=subprocess.DEVNULL)
        log('written in %.0f s' % (time.monotonic() - started))
        with open(os.path.join(demo_dir, 'env.json'), encoding='utf-8') as f:
            port = json.load(f)['pop3_port']

        # Dovecot builds its index and header cache for the first client;
        # neither client should pay for that alone.
        log('warming up Dovecot')
        subprocess.check_call(
            [PYTHON, os.path.join(HERE, 'poplib-bench.py'),
             '--host', '127.0.0.1', '--port', str(port), '--user', USER,
             '--password', PASSWORD, '--scenario', '1'],
            stdout=subprocess.DEVNULL)

        bench.proxy = Proxy(port, work, args.rtt_ms, args.rate)
        status, out, _ = run_measured(
            [bench.cli, 'account', 'add', 'Bench', '--host', '127.0.0.1',
             '--port', str(bench.proxy.port), '--security', 'none',
             '--user', USER], bench.env, stdin=PASSWORD.encode() + b'\n')
        if status != 0:
            raise RuntimeError('account add failed: %s' % out.decode())

        log('PopCheck: first screen')
        bench.forget()
        bench.popcheck('first screen', '--first-headers', str(SCREEN),
                       expect_known=SCREEN, until_listed=True)
        log('PopCheck: all summaries')
        bench.forget()
        bench.popcheck('all summaries', '--all-headers',
                       expect_known=args.messages)
        log('PopCheck: nothing new')
        bench.popcheck('nothing new', expect_known=args.messages)

        known = os.path.join(work, 'known-uids')
        if args.poplib_first_screen_only:
            log('poplib: the first screen')
            bench.poplib([('first screen', 'screen_seconds')],
                         '--scenario', '1', '--save-uids', known,
                         '--max-tops', str(SCREEN))
        else:
            log('poplib: every summary (%d round trips)'
                % (args.messages + 6))
            bench.poplib([('first screen', 'screen_seconds'),
                          ('all summaries', 'seconds')],
                         '--scenario', '1', '--save-uids', known)
        log('poplib: nothing new')
        bench.poplib([('nothing new', 'seconds')], '--scenario', '2',
                     '--known-uids', known)

        log('delivering %d new messages' % NEW)
        subprocess.check_call([PYTHON, os.path.join(HERE, 'gen-mailbox.py'),
                               '--dir', demo_dir, '--user', USER,
                               '--count', str(NEW),
                               '--first', str(args.messages + 1)],
                              stdout=subprocess.DEVNULL)
        log('PopCheck: 50 new')
        bench.popcheck('50 new', expect_known=args.messages + NEW)
        log('poplib: 50 new')
        bench.poplib([('50 new', 'seconds')], '--scenario', '3',
                     '--known-uids', known)
    finally:
        if bench.proxy is not None:
            bench.proxy.stop()
        subprocess.call([DEMO, 'stop', '--dir', demo_dir],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)

    print_table(bench.rows, args.messages, args.rtt_ms / 1000, rate)
    return 0


def main(argv):
    parser = argparse.ArgumentParser(prog='line-bench.py')
    parser.add_argument('--build-dir',
                        default=os.path.join(SOURCE_DIR, '_build'))
    parser.add_argument('--messages', type=int, default=10000)
    parser.add_argument('--rtt-ms', type=float, default=20.0)
    parser.add_argument('--rate', default='10mbit')
    parser.add_argument('--poplib-first-screen-only', action='store_true')
    parser.add_argument('--inside', action='store_true',
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.messages < SCREEN:
        parser.error('--messages must be at least %d' % SCREEN)
    if args.inside:
        return inside(args)
    return outer(args)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
