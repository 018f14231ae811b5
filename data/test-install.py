#!/usr/bin/python3
# test-install.py: `meson install` into a temporary directory yields the app
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
#   test-install.py BUILD_DIR [MESON]
#
# Installs the build into a fresh DESTDIR (without rebuilding) and checks
# that everything the application menu, D-Bus activation, the software
# centre and GSettings need is there, that the installed files still pass
# their validators, and that the installed binary starts.  Prints TAP.

import configparser
import json
import os
import shutil
import subprocess
import sys
import tempfile

APP_ID = 'org.example.PopCheck'

results = []


def check(ok, what, detail=''):
    results.append((bool(ok), what, detail))
    return ok


MESON = ['meson']


def introspect(build_dir, what):
    out = subprocess.run(MESON + ['introspect', build_dir, what],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    build_dir = os.path.abspath(sys.argv[1])
    if len(sys.argv) > 2:
        MESON[:] = [sys.argv[2]]
    options = {o['name']: o['value']
               for o in introspect(build_dir, '--buildoptions')}
    prefix = options['prefix'].lstrip('/')
    datadir = os.path.join(prefix, options['datadir'])
    bindir = os.path.join(prefix, options['bindir'])

    with tempfile.TemporaryDirectory(prefix='popcheck-install-') as destdir:
        run = subprocess.run(MESON + ['install', '-C', build_dir, '--no-rebuild',
                              '--quiet', '--destdir', destdir],
                             capture_output=True, text=True)
        if not check(run.returncode == 0, 'meson install --destdir succeeds',
                     run.stdout + run.stderr):
            return report()

        def installed(*parts):
            return os.path.join(destdir, *parts)

        expected = {
            'the launcher': installed(datadir, 'applications', APP_ID + '.desktop'),
            'the D-Bus service': installed(datadir, 'dbus-1', 'services', APP_ID + '.service'),
            'the settings schema': installed(datadir, 'glib-2.0', 'schemas', APP_ID + '.gschema.xml'),
            'the scalable icon': installed(datadir, 'icons', 'hicolor', 'scalable', 'apps', APP_ID + '.svg'),
            'the symbolic icon': installed(datadir, 'icons', 'hicolor', 'symbolic', 'apps',
                                           APP_ID + '-symbolic.svg'),
            'the AppStream metainfo': installed(datadir, 'metainfo', APP_ID + '.metainfo.xml'),
            'the binary': installed(bindir, 'popcheck'),
            'the command-line tool': installed(bindir, 'popcheck-cli'),
            'the demo server': installed(datadir, 'popcheck', 'demo', 'popcheck-demo-server'),
        }
        for what, path in expected.items():
            check(os.path.isfile(path), what + ' is installed', path)
        check(os.access(expected['the binary'], os.X_OK), 'the binary is executable')

        # D-Bus activation starts the installed binary, by its full path.
        service = configparser.ConfigParser(interpolation=None)
        service.optionxform = str
        service.read(expected['the D-Bus service'])
        exec_line = service.get('D-BUS Service', 'Exec', fallback='')
        check(service.get('D-BUS Service', 'Name', fallback='') == APP_ID,
              'the service is named after the application id')
        check(exec_line.split()[0] == '/' + os.path.join(bindir, 'popcheck'),
              'the service starts the installed binary', exec_line)

        desktop = configparser.ConfigParser(interpolation=None)
        desktop.optionxform = str
        desktop.read(expected['the launcher'], encoding='utf-8')
        entry = desktop['Desktop Entry'] if desktop.has_section('Desktop Entry') else {}
        check(entry.get('DBusActivatable') == 'true', 'the launcher is D-Bus activatable')
        check(entry.get('Icon') == APP_ID, 'the launcher names the installed icon')

        for tool, args in (('desktop-file-validate', [expected['the launcher']]),
                           ('appstreamcli', ['validate', '--no-net', expected['the AppStream metainfo']]),
                           ('glib-compile-schemas', ['--strict', '--dry-run',
                                                     os.path.dirname(expected['the settings schema'])])):
            path = shutil.which(tool)
            if not check(path is not None, tool + ' is available'):
                continue
            run = subprocess.run([path] + args, capture_output=True, text=True)
            check(run.returncode == 0, 'the installed files pass ' + tool,
                  run.stdout + run.stderr)

        # The installed app starts: --version runs before any window or bus.
        run = subprocess.run([expected['the binary'], '--version'],
                             capture_output=True, text=True, timeout=60)
        check(run.returncode == 0 and run.stdout.strip() != '',
              'the installed binary starts and prints its version',
              run.stdout + run.stderr)

    return report()


def report():
    print('1..%d' % len(results))
    failed = 0
    for n, (ok, what, detail) in enumerate(results, 1):
        print('%s %d %s' % ('ok' if ok else 'not ok', n, what))
        if not ok:
            failed += 1
            for line in detail.strip().splitlines():
                print('# ' + line)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
