#!/usr/bin/python3
# app-cost.py: what the running app costs, measured from /proc.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
#   tests/bench/app-cost.py [--build-dir DIR] [--messages N] [--idle SECONDS]
#
# Runs the app built in DIR (default _build) on a private Xvfb display and a
# private D-Bus session with its own gnome-keyring-daemon (the test
# harnesses tests/keyring-harness and tests/run-under-xvfb), against the demo
# Dovecot with a generated mailbox of N messages (10,000), and prints:
#
#   - resident memory with the N messages listed, against the same app with
#     no account, measured in the same run (the baseline);
#   - CPU time and wake-ups over --idle seconds (60) between checks, for the
#     main thread (PopCheck's own code) and for the whole process, against
#     the same idle period of the app with no account;
#   - the time from launch to the window showing the cached list, for a
#     second launch once the first has filled the cache with every summary
#     (the headers fetched in the background included), against the time to
#     the window of the app with no account, and to that of a bare GTK 4 and
#     libadwaita window (tests/bench/bare-window.c: what GTK and the
#     renderer take to start, which no application avoids);
#   - the CPU time the first launch spent fetching those headers in the
#     background, from the end of its first check until every summary is in.
#
# Wake-ups are voluntary context switches (/proc/PID/task/TID/status): each
# is a return from poll() or another wait.  The app reports when its
# window shows messages and when a check ends through its debug log
# (G_MESSAGES_DEBUG); nothing else of the app is instrumented.  The window
# and its messages count as shown once a frame has painted them (GTK's
# "after-paint"), not when the window is mapped or the list filled: GTK
# lays out and renders that frame afterwards, which takes a while with
# Mesa's software GL.

import argparse
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.realpath(__file__))
SOURCE_DIR = os.path.normpath(os.path.join(HERE, '..', '..'))
PYTHON = '/usr/bin/python3'
DEMO = os.path.join(SOURCE_DIR, 'build-aux', 'popcheck-demo-server')
SHOWN = re.compile(r'popcheck-window-DEBUG.*: Showing (\d+) messages')
CHECKED = re.compile(r'popcheck-checker-DEBUG.*: Account \S+: checked, (\d+) messages')
SHOWN_WINDOW = re.compile(r'popcheck-window-DEBUG.*: Window shown')
BARE_SHOWN = re.compile(r'bare-window-DEBUG.*: Window shown')
SAVED = re.compile(r'popcheck-mailbox-DEBUG.*: Account \S+: saved')
ALL_HEADERS = re.compile(
    r'popcheck-checker-DEBUG.*: Account \S+: every listed message has its headers')


def log(msg):
    print('app-cost: ' + msg, file=sys.stderr, flush=True)


# --- outside: start the harnesses and run ourselves inside them ------------

def outer(args):
    harness = [PYTHON, os.path.join(SOURCE_DIR, 'tests', 'keyring-harness'),
               '--mode', 'keyring', '--',
               PYTHON, os.path.join(SOURCE_DIR, 'tests', 'run-under-xvfb'),
               '--',
               PYTHON, os.path.realpath(__file__), '--inside',
               '--build-dir', args.build_dir,
               '--messages', str(args.messages),
               '--idle', str(args.idle)]
    return subprocess.call(harness)


# --- inside: the measurements ----------------------------------------------

def proc_status(pid, tid=None):
    path = '/proc/%d/status' % pid if tid is None else \
        '/proc/%d/task/%d/status' % (pid, tid)
    fields = {}
    with open(path) as f:
        for line in f:
            key, _, value = line.partition(':')
            fields[key] = value.strip()
    return fields


def cpu_seconds(pid, tid=None):
    path = '/proc/%d/stat' % pid if tid is None else \
        '/proc/%d/task/%d/stat' % (pid, tid)
    with open(path) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf('SC_CLK_TCK')


def thread_switches(pid):
    """Voluntary context switches of each thread, by thread id."""
    switches = {}
    for tid in os.listdir('/proc/%d/task' % pid):
        try:
            status = proc_status(pid, int(tid))
        except FileNotFoundError:
            continue  # a thread that just ended
        switches[int(tid)] = int(status['voluntary_ctxt_switches'])
    return switches


def wakeups(before, after, pid):
    """Wake-ups between two readings: of the main thread, and of all
    threads (a thread that started meanwhile counts from zero; one that
    ended is not counted)."""
    main = after.get(pid, 0) - before.get(pid, 0)
    total = sum(n - before.get(tid, 0) for tid, n in after.items())
    return main, total


class App:
    def __init__(self, binary, env):
        self.start = time.monotonic()
        # GLib logs debug messages on stdout, warnings on stderr.
        self.proc = subprocess.Popen([binary], env=env,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.buffer = b''
        self.log = []

    def wait_for(self, pattern, timeout):
        """Seconds from launch until a debug line matches, and the match."""
        deadline = time.monotonic() + timeout
        while True:
            while b'\n' in self.buffer:
                line, self.buffer = self.buffer.split(b'\n', 1)
                text = line.decode('utf-8', 'replace')
                self.log.append(text)
                match = pattern.search(text)
                if match:
                    return time.monotonic() - self.start, match
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                raise RuntimeError('the app (exit %s) never logged %r; it said:\n%s' % (self.proc.poll(),
                    pattern.pattern, '\n'.join(self.log[-20:])))
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                self.buffer += os.read(self.proc.stdout.fileno(), 65536)

    def drain(self):
        """Keeps reading the log so that the app never blocks on a full pipe."""
        while select.select([self.proc.stdout], [], [], 0)[0]:
            if not os.read(self.proc.stdout.fileno(), 65536):
                break

    def idle(self, seconds):
        pid = self.proc.pid
        cpu_main0, cpu0 = cpu_seconds(pid, pid), cpu_seconds(pid)
        switches0 = thread_switches(pid)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            select.select([self.proc.stdout], [], [], end - time.monotonic())
            self.drain()
        main, total = wakeups(switches0, thread_switches(pid), pid)
        return {'cpu_main': cpu_seconds(pid, pid) - cpu_main0,
                'cpu': cpu_seconds(pid) - cpu0,
                'wakeups_main': main, 'wakeups': total}

    def rss_kib(self):
        return int(proc_status(self.proc.pid)['VmRSS'].split()[0])

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def add_account(env, demo):
    """The account as the app stores it: GSettings, and the password in the
    keyring under the app's secret schema."""
    code = r'''
import json, sys
import gi
gi.require_version('Secret', '1')
from gi.repository import Gio, GLib, Secret
demo = json.loads(sys.argv[1])
root = Gio.Settings.new('org.example.PopCheck')
account = Gio.Settings.new_with_path('org.example.PopCheck.Account',
                                     '/org/example/PopCheck/accounts/bench/')
account.set_string('display-name', 'Bench')
account.set_string('host', demo['host'])
account.set_value('port', GLib.Variant('q', demo['pop3s_port']))
account.set_string('security', 'tls')
account.set_string('user', demo['user'])
account.set_string('pinned-fingerprint', demo['fingerprint'])
root.set_strv('accounts', ['bench'])
Gio.Settings.sync()
schema = Secret.Schema.new('org.example.PopCheck.Account', Secret.SchemaFlags.NONE,
                           {'host': Secret.SchemaAttributeType.STRING,
                            'port': Secret.SchemaAttributeType.INTEGER,
                            'user': Secret.SchemaAttributeType.STRING,
                            'protocol': Secret.SchemaAttributeType.STRING})
Secret.password_store_sync(schema, {'host': demo['host'],
                                    'port': str(demo['pop3s_port']),
                                    'user': demo['user'], 'protocol': 'pop3'},
                           Secret.COLLECTION_DEFAULT, 'PopCheck bench',
                           demo['password'], None)
'''
    subprocess.run([PYTHON, '-c', code, json.dumps(demo)], env=env, check=True,
                   stdout=subprocess.DEVNULL)


def inside(args):
    build = os.path.realpath(args.build_dir)
    binary = os.path.join(build, 'src', 'popcheck')
    work = tempfile.mkdtemp(prefix='popcheck-app-cost-')
    os.chmod(work, 0o755)
    demo_dir = os.path.join(work, 'demo')
    env = dict(os.environ,
               GSETTINGS_BACKEND='keyfile',
               GSETTINGS_SCHEMA_DIR=os.path.join(build, 'data'),
               G_MESSAGES_DEBUG='popcheck-window popcheck-checker popcheck-mailbox bare-window',
               GTK_A11Y='none', NO_AT_BRIDGE='1')
    results = {}
    try:
        # Not timed: the first launch in the fresh cache directory has Mesa
        # compile GTK's shaders, which every later launch (the cached one
        # too) reads back from its shader cache.
        app = App(binary, env)
        app.wait_for(SHOWN_WINDOW, 60)
        app.stop()

        bare = App(os.path.join(build, 'tests', 'bench', 'bare-window'), env)
        results['bare_window_s'], _ = bare.wait_for(BARE_SHOWN, 60)
        bare.stop()

        # The baseline: the same app with no account.
        app = App(binary, env)
        results['empty_window_s'], _ = app.wait_for(SHOWN_WINDOW, 60)
        time.sleep(2)
        app.drain()
        results['empty_rss_kib'] = app.rss_kib()
        log('idle for %d s with no account' % args.idle)
        results['empty_idle'] = app.idle(args.idle)
        app.stop()

        log('starting Dovecot with %d messages' % args.messages)
        subprocess.check_call([DEMO, 'start', '--dir', demo_dir],
                              stdout=subprocess.DEVNULL)
        subprocess.check_call([DEMO, 'add-user', '--dir', demo_dir,
                               '--user', 'bench', '--password', 'bench-password',
                               '--empty'])
        subprocess.check_call([PYTHON, os.path.join(HERE, 'gen-mailbox.py'),
                               '--dir', demo_dir, '--user', 'bench',
                               '--count', str(args.messages)],
                              stdout=subprocess.DEVNULL)
        with open(os.path.join(demo_dir, 'env.json')) as f:
            demo = json.load(f)
        demo.update(user='bench', password='bench-password')
        add_account(env, demo)

        # First launch: fills the cache.
        app = App(binary, env)
        first, match = app.wait_for(CHECKED, 600)
        results['first_check_s'] = first
        results['messages'] = int(match.group(1))
        pid = app.proc.pid
        cpu_main0, cpu0 = cpu_seconds(pid, pid), cpu_seconds(pid)
        # The headers beyond the first screen come in the background: the
        # cache is whole once they are in and saved, as after a user's
        # first run.
        results['all_headers_s'], _ = app.wait_for(ALL_HEADERS, 3600)
        results['fetch_cpu_main'] = cpu_seconds(pid, pid) - cpu_main0
        results['fetch_cpu'] = cpu_seconds(pid) - cpu0
        app.wait_for(SAVED, 600)
        app.stop()

        # Second launch: the cached list, then idle until the next check
        # (five minutes away).
        app = App(binary, env)
        results['cached_window_s'], match = app.wait_for(SHOWN, 60)
        results['cached_shown'] = int(match.group(1))
        app.wait_for(CHECKED, 600)
        # Memory once the check's state file is written: a save in
        # progress holds a copy of the whole file.
        app.wait_for(SAVED, 600)
        time.sleep(2)
        app.drain()
        results['rss_kib'] = app.rss_kib()
        log('idle for %d s with %d messages' % (args.idle, results['messages']))
        results['idle'] = app.idle(args.idle)
        app.stop()
    finally:
        subprocess.call([DEMO, 'stop', '--dir', demo_dir],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)

    print_table(results, args.idle)
    return 0


def ratio(value, base):
    return '%.1fx' % (value / base) if base else '-'


def print_table(r, idle):
    print('PopCheck app, %d messages listed; baseline: the same app with no '
          'account, same run' % r['messages'])
    print('%-34s %12s %12s %8s' % ('', 'messages', 'baseline', 'ratio'))
    print('%-34s %9.1f MB %9.1f MB %8s' % (
        'resident memory', r['rss_kib'] / 1024, r['empty_rss_kib'] / 1024,
        ratio(r['rss_kib'], r['empty_rss_kib'])))
    for key, label in (('wakeups_main', 'idle wake-ups, main thread'),
                       ('wakeups', 'idle wake-ups, all threads')):
        print('%-34s %12d %12d %8s' % (
            '%s (%d s)' % (label, idle), r['idle'][key], r['empty_idle'][key],
            ratio(r['idle'][key], r['empty_idle'][key])))
    print('%-34s %10.2f s %10.2f s %8s' % (
        'idle CPU time (%d s)' % idle, r['idle']['cpu'],
        r['empty_idle']['cpu'], ratio(r['idle']['cpu'], r['empty_idle']['cpu'])))
    print('%-34s %10.2f s %10.2f s %8s' % (
        'launch to window (cached list)', r['cached_window_s'],
        r['empty_window_s'], ratio(r['cached_window_s'], r['empty_window_s'])))
    print('a bare GTK 4 and libadwaita window, same run: %.2f s'
          % r['bare_window_s'])
    print('first check of the full mailbox, from launch: %.2f s'
          % r['first_check_s'])
    print('every summary in the background, from launch: %.2f s'
          % r['all_headers_s'])
    print('CPU time of that background fetch: %.2f s (main thread %.2f s)'
          % (r['fetch_cpu'], r['fetch_cpu_main']))


def main():
    parser = argparse.ArgumentParser(
        description="What the running app costs, measured from /proc.")
    parser.add_argument('--build-dir', default=os.path.join(SOURCE_DIR, '_build'))
    parser.add_argument('--messages', type=int, default=10000)
    parser.add_argument('--idle', type=int, default=60)
    parser.add_argument('--inside', action='store_true', help=argparse.SUPPRESS)
    args = parser.parse_args()
    return inside(args) if args.inside else outer(args)


if __name__ == '__main__':
    sys.exit(main())
