#!/usr/bin/python3
# test-app-menu.py: the installed PopCheck starts from the application menu
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
#   test-app-menu.py MESON
#
# Runs `build-aux/popcheck-dev install` into a temporary DESTDIR, then
# starts the app the way GNOME Shell's application menu starts a launcher
# with DBusActivatable=true: org.freedesktop.Application.Activate on the
# application id, which the session bus auto-starts from the installed
# D-Bus service file.  Checks that the installed binary (not the build
# tree's) owns the name and opened its window, quits it through its "quit"
# action, and that `popcheck-dev uninstall` removes every file again.
# Runs on a private bus (keyring-harness's) under run-under-xvfb; every
# wait is on a bus event, with a deadline.  Prints TAP.

import configparser
import importlib.machinery
import importlib.util
import os
import select
import shutil
import subprocess
import sys
import tempfile

import gi
gi.require_version('Gio', '2.0')
from gi.repository import Gio, GLib  # noqa: E402

APP_ID = 'org.example.PopCheck'
APP_PATH = '/' + APP_ID.replace('.', '/')
# Generous: the machine may be busy.  Nothing waits for this long unless
# something is broken.
DEADLINE_MS = 60000


def load_script(path, name):
    loader = importlib.machinery.SourceFileLoader(name, path)
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


SOURCE_DIR = os.environ['POPCHECK_SOURCE_DIR']
# keyring-harness, for its private bus and clean environment; the install
# test, for its TAP output and `meson introspect`.
harness = load_script(os.path.join(SOURCE_DIR, 'tests', 'keyring-harness'),
                      'keyring_harness')
install_test = load_script(os.path.join(SOURCE_DIR, 'data', 'test-install.py'),
                           'install_test')
check = install_test.check
report = install_test.report


def popcheck_dev(command, env):
    return subprocess.run([os.path.join(SOURCE_DIR, 'build-aux', 'popcheck-dev'),
                           command],
                          env=env, capture_output=True, text=True,
                          timeout=DEADLINE_MS / 1000)


def files_under(top):
    return sorted(os.path.join(d, f) for d, _, names in os.walk(top)
                  for f in names)


def relocated_service(installed, destdir, servicedir):
    """The installed service file, its binary moved into @destdir.

    The session bus of a real install reads the file as it is; here the
    binary is under DESTDIR, so only that path changes."""
    service = configparser.ConfigParser(interpolation=None)
    service.optionxform = str
    service.read(installed)
    exec_line = service.get('D-BUS Service', 'Exec', fallback='')
    argv = exec_line.split()
    service['D-BUS Service']['Exec'] = ' '.join([destdir + argv[0]] + argv[1:])
    with open(os.path.join(servicedir, APP_ID + '.service'), 'w') as f:
        service.write(f, space_around_delimiters=False)
    return argv


def launcher_matches_service(path, service_argv):
    """The Shell activates a DBusActivatable launcher by its file name, and
    runs its Exec only without D-Bus: both must start the same program."""
    desktop = configparser.ConfigParser(interpolation=None)
    desktop.optionxform = str
    desktop.read(path, encoding='utf-8')
    entry = desktop['Desktop Entry'] if desktop.has_section('Desktop Entry') else {}
    check(entry.get('DBusActivatable') == 'true',
          'the installed launcher is D-Bus activatable', path)
    program = entry.get('Exec', '').split()[:1]
    check(program == [os.path.basename(service_argv[0])],
          "the launcher's Exec runs the service's program",
          '%s and %s' % (program, service_argv[0]))


def wait_for(condition, what):
    """Runs the main loop until condition() holds or the deadline passes."""
    expired = []
    timer = GLib.timeout_add(DEADLINE_MS, lambda: expired.append(True))
    context = GLib.MainContext.default()
    while not condition() and not expired:
        context.iteration(True)
    if not expired:
        GLib.source_remove(timer)
    return check(condition(), what, 'not within %d ms' % DEADLINE_MS)


def bus_call(bus, name, path, interface, method, args, reply_type=None):
    return bus.call_sync(name, path, interface, method, args,
                         GLib.VariantType(reply_type) if reply_type else None,
                         Gio.DBusCallFlags.NONE, DEADLINE_MS, None)


def process_exe(pid):
    try:
        return os.path.realpath('/proc/%d/exe' % pid)
    except OSError as e:
        return str(e)


def wait_for_exit(pid):
    """Waits (not our child: a pidfd) for @pid to exit, with the deadline."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        return bool(select.select([pidfd], [], [], DEADLINE_MS / 1000)[0])
    finally:
        os.close(pidfd)


def activate_and_quit(env, tmp, destdir, bindir):
    address, bus_pid = harness.start_bus(tmp, env)
    try:
        bus = Gio.DBusConnection.new_for_address_sync(
            address,
            Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
            Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION,
            None, None)
        owners = []
        bus.signal_subscribe('org.freedesktop.DBus', 'org.freedesktop.DBus',
                             'NameOwnerChanged', '/org/freedesktop/DBus',
                             APP_ID, Gio.DBusSignalFlags.NONE,
                             lambda *a: owners.append(a[5].unpack()[2]))

        # What the Shell sends for a click on the launcher: Activate with
        # its platform data, auto-starting the service.
        try:
            bus_call(bus, APP_ID, APP_PATH, 'org.freedesktop.Application',
                     'Activate', GLib.Variant('(a{sv})', ({},)))
        except GLib.Error as e:
            check(False, 'Activate auto-starts the installed app', e.message)
            return
        check(True, 'Activate auto-starts the installed app')

        owner = bus_call(bus, 'org.freedesktop.DBus', '/org/freedesktop/DBus',
                         'org.freedesktop.DBus', 'GetNameOwner',
                         GLib.Variant('(s)', (APP_ID,)), '(s)').unpack()[0]
        pid = bus_call(bus, 'org.freedesktop.DBus', '/org/freedesktop/DBus',
                       'org.freedesktop.DBus', 'GetConnectionUnixProcessID',
                       GLib.Variant('(s)', (owner,)), '(u)').unpack()[0]
        installed = os.path.realpath(os.path.join(destdir, bindir, 'popcheck'))
        check(process_exe(pid) == installed,
              'the name is owned by the installed binary',
              'expected %s, running %s' % (installed, process_exe(pid)))

        # GtkApplication puts each of its windows on the bus, under the
        # application's path, once the window is added; Activate answers
        # after the app presented it.
        try:
            actions = bus_call(bus, APP_ID, APP_PATH + '/window/1',
                               'org.gtk.Actions', 'List', None, '(as)')
            check(True, 'Activate opened the window', actions)
        except GLib.Error as e:
            check(False, 'Activate opened the window', e.message)

        bus_call(bus, APP_ID, APP_PATH, 'org.gtk.Actions', 'Activate',
                 GLib.Variant('(sava{sv})', ('quit', [], {})))
        wait_for(lambda: '' in owners, 'quit releases the name')
        check(wait_for_exit(pid), 'quit ends the process')
    finally:
        harness.kill_pid(bus_pid)


def main():
    install_test.MESON[:] = [sys.argv[1]]
    options = {o['name']: o['value'] for o in install_test.introspect(
        os.environ['POPCHECK_BUILD_DIR'], '--buildoptions')}
    datadir = os.path.join(options['prefix'], options['datadir']).lstrip('/')
    bindir = os.path.join(options['prefix'], options['bindir']).lstrip('/')

    tmp = tempfile.mkdtemp(prefix='popcheck-app-menu-')
    try:
        destdir = os.path.join(tmp, 'root')
        env = dict(os.environ, DESTDIR=destdir)
        run = popcheck_dev('install', env)
        if not check(run.returncode == 0, 'popcheck-dev install succeeds',
                     run.stdout + run.stderr):
            return report()
        share = os.path.join(destdir, datadir)
        for cache in ('glib-2.0/schemas/gschemas.compiled',
                      'icons/hicolor/icon-theme.cache',
                      'applications/mimeinfo.cache'):
            check(os.path.isfile(os.path.join(share, cache)),
                  'install updates ' + cache)

        # The session of the user who clicks the launcher: the installed
        # data directory first, nothing from the build tree.
        app_env = harness.clean_env(tmp)
        for name in ('DISPLAY', 'GDK_BACKEND'):
            if name in os.environ:
                app_env[name] = os.environ[name]
        for name in ('GSETTINGS_SCHEMA_DIR', 'POPCHECK_DEMO_SERVER', 'DESTDIR'):
            app_env.pop(name, None)
        app_env['XDG_DATA_DIRS'] = share + ':/usr/share'

        os.makedirs(os.path.join(tmp, 'services'), mode=0o700)
        argv = relocated_service(
            os.path.join(share, 'dbus-1', 'services', APP_ID + '.service'),
            destdir, os.path.join(tmp, 'services'))
        check(argv[:1] == ['/' + os.path.join(bindir, 'popcheck')],
              'the service starts the installed binary', ' '.join(argv))
        launcher_matches_service(
            os.path.join(share, 'applications', APP_ID + '.desktop'), argv)
        activate_and_quit(app_env, tmp, destdir, bindir)

        run = popcheck_dev('uninstall', env)
        check(run.returncode == 0, 'popcheck-dev uninstall succeeds',
              run.stdout + run.stderr)
        left = files_under(destdir)
        check(not left, 'uninstall removes every file install put there',
              '\n'.join(left))
        check(not os.path.exists(os.path.join(destdir, datadir, 'popcheck')),
              "uninstall removes the directories install created")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return report()


if __name__ == '__main__':
    sys.exit(main())
