# popchecktest.py: the harness of the Dovecot tests of popcheck-cli.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# A test module starts one demo server (build-aux/popcheck-demo-server) in
# setUpModule and stops it in tearDownModule; every test gets a user of its
# own with a fresh Maildir, so tests can delete and read mail without
# seeing each other.  Helpers run $POPCHECK_CLI and look at the Maildir the
# way Dovecot leaves it.  Without Dovecot the tests fail, loudly: a test
# suite that skips itself on a machine without the server proves nothing.

import base64
import email.parser
import itertools
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

SECURITIES = ('none', 'starttls', 'tls')

# Exit statuses of popcheck-cli (issue 2).
EXIT_OK = 0
EXIT_SERVER = 1
EXIT_USAGE = 2
EXIT_NETWORK = 3
EXIT_TLS = 4
EXIT_AUTH = 5


def source_dir():
    path = os.environ.get('POPCHECK_SOURCE_DIR')
    if path:
        return path
    # Run by hand from a checkout: the tests directory's parent.
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def demo_server_script():
    return os.path.join(source_dir(), 'build-aux', 'popcheck-demo-server')


def sample_mail_dir():
    return os.path.join(source_dir(), 'build-aux', 'demo-mail')


def sample_messages():
    """The sample messages as Dovecot numbers them: in file name order."""
    directory = sample_mail_dir()
    return [os.path.join(directory, name)
            for name in sorted(os.listdir(directory)) if name.endswith('.eml')]


def cli_path():
    path = os.environ.get('POPCHECK_CLI')
    if not path:
        raise RuntimeError('POPCHECK_CLI is not set: run the tests with '
                           '`meson test`, or set it to the popcheck-cli binary')
    if not os.access(path, os.X_OK):
        raise RuntimeError('POPCHECK_CLI=%s is not an executable' % path)
    return path


def message_id(data):
    """The Message-ID of the message @data (bytes), or None."""
    headers = email.parser.BytesHeaderParser().parsebytes(data)
    value = headers.get('Message-ID')
    return str(value).strip() if value is not None else None


def crlf(data):
    """@data (LF line ends, as a Maildir keeps it) as POP3 sends it."""
    return data.replace(b'\r\n', b'\n').replace(b'\n', b'\r\n')


class MaildirMessage:
    """One file of a Maildir: where it is and what Dovecot flagged."""

    def __init__(self, path):
        self.path = path
        self.subdir = os.path.basename(os.path.dirname(path))
        name = os.path.basename(path)
        # cur/ files are "unique:2,FLAGS"; new/ files have no flags yet.
        if ':2,' in name:
            self.unique, self.flags = name.split(':2,', 1)
        else:
            self.unique, self.flags = name, ''
        with open(path, 'rb') as f:
            self.data = f.read()
        self.message_id = message_id(self.data)

    @property
    def seen(self):
        return 'S' in self.flags

    def __repr__(self):
        return '<%s/%s:2,%s %s>' % (self.subdir, self.unique, self.flags,
                                   self.message_id)


class User:
    def __init__(self, server, name, password, maildir):
        self.server = server
        self.name = name
        self.password = password
        self.maildir = maildir

    def messages(self):
        """Every message of the Maildir (new/ and cur/), by Message-ID."""
        found = {}
        for sub in ('new', 'cur'):
            directory = os.path.join(self.maildir, sub)
            for name in os.listdir(directory):
                message = MaildirMessage(os.path.join(directory, name))
                if message.message_id in found:
                    raise AssertionError('two messages with Message-ID %s in '
                                         '%s' % (message.message_id,
                                                 self.maildir))
                found[message.message_id] = message
        return found

    def message_ids(self):
        return set(self.messages())

    def seen_ids(self):
        return {mid for mid, m in self.messages().items() if m.seen}


class DemoServer:
    """One running popcheck-demo-server, in a directory of its own."""

    def __init__(self):
        self.directory = None
        self.env = None
        self._counter = itertools.count(1)

    def _script(self, *args, check=True):
        result = subprocess.run([demo_server_script()] + list(args),
                                capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            raise RuntimeError('popcheck-demo-server %s failed (%d):\n%s%s'
                               % (' '.join(args), result.returncode,
                                  result.stdout, result.stderr))
        return result

    def start(self, *options):
        dovecot = shutil.which('dovecot', path=os.environ.get('PATH', '')
                               + ':/usr/sbin:/sbin')
        if dovecot is None or not os.path.exists('/usr/lib/dovecot/pop3'):
            raise RuntimeError('Dovecot is not installed: the dovecot suite '
                               'needs the Debian packages dovecot-core and '
                               'dovecot-pop3d (apt-get install dovecot-core '
                               'dovecot-pop3d)')
        # Short, and searchable by the mail user when we run as root.
        self.directory = tempfile.mkdtemp(prefix='popcheck-dovecot-')
        self._script('start', '--dir', self.directory, *options)
        with open(os.path.join(self.directory, 'env.json'), encoding='utf-8') as f:
            self.env = json.load(f)
        return self

    def stop(self):
        if self.directory is None:
            return
        self._script('stop', '--dir', self.directory)
        if os.environ.get('POPCHECK_KEEP_TEST_DIRS'):
            print('# demo server directory kept: ' + self.directory)
        else:
            shutil.rmtree(self.directory, ignore_errors=True)
        self.directory = None

    @property
    def host(self):
        return self.env['host']

    def port(self, security):
        return self.env['pop3s_port'] if security == 'tls' else self.env['pop3_port']

    @property
    def ca_file(self):
        return self.env['ca_file']

    @property
    def fingerprint(self):
        return self.env['fingerprint']

    def log(self):
        with open(self.env['log'], encoding='utf-8', errors='replace') as f:
            return f.read()

    def new_user(self, empty=False):
        """A user of its own for one test, with the sample messages."""
        name = 'user%d' % next(self._counter)
        # Distinctive, so that finding it in debug output means a leak.
        password = 'Pw-%s-%s' % (name, secrets.token_hex(8))
        args = ['add-user', '--dir', self.directory, '--user', name,
                '--password', password]
        if empty:
            args.append('--empty')
        self._script(*args)
        return User(self, name, password,
                    os.path.join(self.directory, 'home', name, 'Maildir'))

    def deliver(self, user, *paths):
        self._script('deliver', '--dir', self.directory, '--user', user.name,
                     *paths)


class CliResult:
    def __init__(self, args, completed, elapsed):
        self.args = args
        self.returncode = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr.decode('utf-8', 'replace')
        self.elapsed = elapsed

    def json_lines(self):
        """stdout as the list of its JSON objects, one per line."""
        objects = []
        for line in self.stdout.decode('utf-8').splitlines():
            objects.append(json.loads(line))
        return objects

    def describe(self):
        return ('popcheck-cli %s\nexit status %d after %.1f s\nstdout:\n%s\n'
                'stderr:\n%s' % (' '.join(self.args), self.returncode,
                                 self.elapsed,
                                 self.stdout.decode('utf-8', 'replace')[:4000],
                                 self.stderr[:4000]))


def run_cli(args, password=None, timeout=60):
    """Runs popcheck-cli with @args; @password goes to --password-stdin."""
    args = list(args)
    stdin = b''
    if password is not None:
        args = ['--password-stdin'] + args
        stdin = password.encode('utf-8') + b'\n'
    start = time.monotonic()
    completed = subprocess.run([cli_path()] + args, input=stdin,
                               capture_output=True, timeout=timeout)
    return CliResult(args, completed, time.monotonic() - start)


_server = None


def start_module_server():
    """For setUpModule: the one demo server of this test module."""
    global _server
    _server = DemoServer()
    try:
        _server.start()
    except BaseException:
        _server.stop()
        _server = None
        raise


def stop_module_server():
    """For tearDownModule."""
    global _server
    if _server is not None:
        _server.stop()
        _server = None


def server():
    if _server is None:
        raise RuntimeError('the demo server is not running (setUpModule failed?)')
    return _server


class DovecotTestCase(unittest.TestCase):
    """A test with its own user on the module's demo server."""

    maxDiff = None

    def setUp(self):
        self.server = server()
        self.user = self.server.new_user()

    def connection_args(self, security='tls', host=None, ca=True):
        args = ['--host', host or self.server.host,
                '--port', str(self.server.port(security)),
                '--security', security,
                '--timeout', '20']
        if ca and security != 'none':
            args += ['--ca-file', self.server.ca_file]
        return args

    def cli(self, *commands, security='tls', login=True, json=True,
            auth=None, password=None, user=None, ca=True, host=None,
            extra=()):
        """popcheck-cli against this test's user; returns a CliResult."""
        args = self.connection_args(security, host=host, ca=ca)
        if login:
            args += ['--user', user or self.user.name]
            if password is None:
                password = self.user.password
        else:
            password = None
        if auth:
            args += ['--auth', auth]
        if json:
            args.append('--json')
        args += list(extra)
        args += list(commands)
        return run_cli(args, password=password)

    def assertExit(self, result, status):
        self.assertEqual(result.returncode, status, result.describe())

    def cli_ok(self, *commands, **kwargs):
        """Runs commands that must all succeed; returns their JSON objects."""
        result = self.cli(*commands, **kwargs)
        self.assertExit(result, EXIT_OK)
        objects = result.json_lines()
        self.assertEqual(len(objects), len(commands), result.describe())
        for obj, command in zip(objects, commands):
            self.assertEqual(obj['command'], command, result.describe())
            self.assertIs(obj['ok'], True, result.describe())
        return objects


def decode_data(obj):
    return base64.b64decode(obj['data_base64'], validate=True)


class _CountingResult(unittest.TextTestResult):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.passed = 0

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed += 1


def main():
    """Runs the calling module's tests; the last line is "N passed, N failed"."""
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules['__main__'])
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2,
                                     resultclass=_CountingResult)
    result = runner.run(suite)
    # A skip is a failure here: these tests never have a reason to skip.
    failed = (len(result.failures) + len(result.errors) + len(result.skipped)
              + len(result.unexpectedSuccesses))
    if result.passed == 0 and failed == 0:
        print('no test ran')
        failed = 1
    sys.stdout.flush()
    print('%d passed, %d failed' % (result.passed, failed))
    sys.stdout.flush()
    sys.exit(1 if failed else 0)
