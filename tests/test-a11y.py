#!/usr/bin/python3
# test-a11y.py: PopCheck as a screen reader user drives it, over AT-SPI
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
#   keyring-harness -- run-under-xvfb -- test-a11y.py
#
# Starts an accessibility bus of its own (at-spi-bus-launcher, which owns
# org.a11y.Bus on keyring-harness's private session bus; the registry is
# activated on it), then the built PopCheck with GTK's AT-SPI backend, and
# does everything through the accessibility tree alone, as Orca would:
# controls are found by role and name, never by widget path, pressed
# through their actions or with the keyboard, and what they say is read
# from the tree.  Every wait is on the tree, with a deadline.  Prints TAP.

import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import warnings

import gi
gi.require_version('Atspi', '2.0')
from gi.repository import Atspi, GLib  # noqa: E402

# G_DEBUG=fatal-warnings is for PopCheck, which keeps it.  libatspi warns
# here about what GTK 4.8 does not implement (its cache interface), which
# is neither PopCheck's doing nor the test's.
GLib.log_set_always_fatal(GLib.LogLevelFlags.LEVEL_ERROR |
                          GLib.LogLevelFlags.LEVEL_CRITICAL)

# GTK 4.8.3's AT-SPI backend logs this pair, one event, when it builds an
# object reference, "(so)", for a context that has no object path: it
# happened when the test read the application's child count, a window
# closed, and the test asked for the child at the last index (see gone ()).
# GLib 2.74 then crashes in g_variant_builder_add_value (), so the pair is
# never harmless: PopCheck is gone, and "PopCheck runs until the tests end"
# fails.  That check says so in words; the log check counts the pair once,
# both lines next to each other and in order, and fails on anything else
# PopCheck logs at warning level or above.  (PopCheck runs here without
# fatal warnings, to get to that check.)
GTK_ATSPI_CRITICAL = (
    ": g_variant_is_object_path: assertion 'string != NULL' failed",
    ": g_variant_new_object_path: "
    "assertion 'g_variant_is_object_path (object_path)' failed")

# Generous: the machine may be busy.  Nothing waits for this long unless
# something is broken.
DEADLINE_MS = 60000
# How often a wait looks at the tree again: GTK 4.8 announces little of
# what changes, so waits read the tree until it shows what they wait for.
POLL_MS = 100

R = Atspi.Role
# What a user operates: each needs a name that is words.
CONTROL_ROLES = {R.PUSH_BUTTON, R.TOGGLE_BUTTON, R.MENU_ITEM,
                 R.CHECK_MENU_ITEM, R.RADIO_MENU_ITEM, R.CHECK_BOX,
                 R.RADIO_BUTTON, R.ENTRY, R.PASSWORD_TEXT, R.COMBO_BOX,
                 R.SPIN_BUTTON}
WINDOW_ROLES = {R.FRAME, R.DIALOG, R.ALERT, R.WINDOW}
# What GTK 4.8 says for a widget without a name: its type.
TYPE_NAME = re.compile(r'^(Gtk|Adw|Popcheck)[A-Z]')

results = []


def check(ok, what, detail=''):
    results.append(ok)
    print('%s %d - %s' % ('ok' if ok else 'not ok', len(results), what),
          flush=True)
    if not ok and detail:
        for line in str(detail).splitlines():
            print('#   ' + line, flush=True)
    return ok


class Timeout(Exception):
    pass


def wait_for(condition, what):
    """Runs the main loop until condition() returns something true, or
    raises Timeout when the deadline passes."""
    context = GLib.MainContext.default()
    expired = []
    deadline = GLib.timeout_add(DEADLINE_MS, lambda: expired.append(True))
    try:
        while True:
            value = condition()
            if value:
                return value
            if expired:
                raise Timeout('%s: not within %d ms' % (what, DEADLINE_MS))
            # Wake up to look again; events that arrive meanwhile are
            # handled too.
            ticked = []
            # append() returns None: the timeout runs once.
            GLib.timeout_add(POLL_MS, lambda: ticked.append(True))
            while not ticked:
                context.iteration(True)
    finally:
        if not expired:
            GLib.source_remove(deadline)


# --- the tree -----------------------------------------------------------------

def states(acc):
    try:
        return acc.get_state_set()
    except GLib.Error:
        return Atspi.StateSet.new([])


def has_state(acc, state):
    return states(acc).contains(state)


def is_showing(acc):
    """A window on screen.  (GTK 4.8 says "showing" of windows only; inside
    them it leaves out what is hidden but keeps the pages of stacks that are
    not shown, so a check of names covers those too.)"""
    return has_state(acc, Atspi.StateType.SHOWING)


def children(acc):
    try:
        n = acc.get_child_count()
    except GLib.Error:
        return []
    out = []
    for i in range(n):
        try:
            child = acc.get_child_at_index(i)
        except GLib.Error:
            child = None
        if child is not None:
            out.append(child)
    return out


def role_of(acc):
    try:
        return acc.get_role()
    except GLib.Error:
        return None


def walk(acc, prune=(), depth=-1):
    """@acc and what is under it, but not under the roles in @prune (the
    message list is long, and every step is a round trip on the bus) nor
    deeper than @depth levels."""
    if not has_state(acc, Atspi.StateType.VISIBLE):
        return
    yield acc
    if role_of(acc) in prune or depth == 0:
        return
    for child in children(acc):
        yield from walk(child, prune, depth - 1)


def name_of(acc):
    try:
        return acc.get_name() or ''
    except GLib.Error:
        return ''


def describe(acc):
    try:
        return '%s "%s"' % (acc.get_role_name(), name_of(acc))
    except GLib.Error as e:
        return 'gone (%s)' % e.message


def matches(acc, role, name):
    if role_of(acc) != role:
        return False
    if name is None:
        return True
    return name(name_of(acc)) if callable(name) else name_of(acc) == name


def find_all(root, role, name=None, prune=()):
    return [a for a in walk(root, prune) if matches(a, role, name)]


def find(root, role, name=None, prune=(), depth=-1):
    for a in walk(root, prune, depth):
        if matches(a, role, name):
            return a
    return None


def wait_find(root, role, name, prune=(), depth=-1):
    try:
        return wait_for(lambda: find(root, role, name, prune, depth),
                        'a %s named "%s" shows' % (role.value_nick, name))
    except Timeout as e:
        # What there is instead, as a screen reader would list it.
        raise Timeout('%s; there are: %s' % (e, '; '.join(
            describe(a) for a in walk(root, prune)
            if role_of(a) in CONTROL_ROLES | {role})))


def app_windows(app):
    return [w for w in children(app)
            if role_of(w) in WINDOW_ROLES and is_showing(w)]


def wait_window(app, name):
    try:
        return wait_for(lambda: next((w for w in app_windows(app)
                                      if matches(w, role_of(w), name)), None),
                        'the window "%s" shows' % name)
    except Timeout as e:
        # What the application has instead, with the states of each.
        raise Timeout('%s; the application has: %s' % (e, '; '.join(
            '%s [%s]' % (describe(w), ' '.join(
                s.value_nick for s in states(w).get_states()))
            for w in children(app)) or 'nothing'))


def action_name(acc, i):
    # atspi_action_get_name, which replaces it, is newer than Debian 12's.
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)
        return acc.get_action_name(i)


def press(acc):
    """The default action of @acc ("click" on a button).  A menu button is
    a button around its toggle, which has the action."""
    for a in walk(acc):
        for i in range(a.get_n_actions()):
            if action_name(a, i) in ('click', 'press', 'activate'):
                return a.do_action(i)
    raise Timeout('%s has no action to press' % describe(acc))


def text_of(acc):
    try:
        return acc.get_text(0, acc.get_character_count())
    except (GLib.Error, TypeError, AttributeError):
        return name_of(acc)


def set_text(acc, value):
    if not acc.set_text_contents(value):
        raise Timeout('%s does not take text' % describe(acc))


# X keysyms
TAB = 0xff09
DOWN = 0xff54
RETURN = 0xff0d
ESCAPE = 0xff1b
Z = 0x007a
# Keycodes of the X server's default map, for the modifiers held.
CONTROL_L = 37


def key(keysym, control=False):
    """A real key press, through the registry's device event controller
    (XTEST under X11), to whatever has the keyboard focus."""
    if control:
        Atspi.generate_keyboard_event(CONTROL_L, None, Atspi.KeySynthType.PRESS)
    Atspi.generate_keyboard_event(keysym, None, Atspi.KeySynthType.SYM)
    if control:
        Atspi.generate_keyboard_event(CONTROL_L, None, Atspi.KeySynthType.RELEASE)


class Focus:
    """Where the keyboard focus is, from the accessibility bus's events,
    as a screen reader follows it."""

    def __init__(self):
        self.events = []
        self.listener = Atspi.EventListener.new(self._event)
        self.listener.register('object:state-changed:focused')

    def _event(self, event):
        if event.detail1:
            self.events.append(event.source)

    def current(self):
        return self.events[-1] if self.events else None

    def press(self, keysym, what, control=False):
        """Presses the key and waits for the focus to move."""
        seen = len(self.events)
        key(keysym, control)
        return wait_for(lambda: len(self.events) > seen and self.events[-1],
                        what)



# --- what every name must be -----------------------------------------------

def doubled(name):
    """ "_Load More Load More": the label with its mnemonic mark, then
    again without; or the same words twice."""
    for i, c in enumerate(name):
        if c == ' ' and name[:i].replace('_', '') == name[i + 1:]:
            return True
    return False


def name_problems(root):
    """What a screen reader would say wrong about what @root holds."""
    problems = []
    for acc in walk(root):
        role = role_of(acc)
        name = name_of(acc).strip()
        if role in CONTROL_ROLES or role in WINDOW_ROLES:
            if not name:
                problems.append('%s has no name' % describe(acc))
            elif TYPE_NAME.match(name):
                problems.append('%s is named by its type' % describe(acc))
            elif doubled(name):
                problems.append('%s says its label twice' % describe(acc))
    return problems


def check_names(root, where):
    problems = name_problems(root)
    check(not problems, 'every control %s has a name in words' % where,
          '\n'.join(problems))


def check_tab_reaches(focus, wanted, where):
    """Tab, from where the focus is, goes round the window and reaches
    each of @wanted, (role, name) pairs; a name may be a test.  (GTK 4.8
    does not tell which page of a stack is shown, so the controls to reach
    are named rather than gathered from the tree.)"""
    reached = []
    for _ in range(80):
        now = focus.press(TAB, 'Tab moves the focus')
        if any(now == seen for seen in reached):
            break
        reached.append(now)
    missing = ['%s "%s"' % (role.value_nick, name if not callable(name) else '…')
               for role, name in wanted
               if not any(matches(a, role, name) for a in reached)]
    check(not missing, 'Tab reaches every control %s' % where,
          'not reached: %s\nreached, in order: %s' % (
              '; '.join(missing), '; '.join(describe(a) for a in reached)))


# --- the app ------------------------------------------------------------------

def start_a11y_bus(env):
    launcher = subprocess.Popen(
        ['/usr/libexec/at-spi-bus-launcher', '--launch-immediately',
         '--a11y=1'], env=env, stdout=subprocess.DEVNULL)
    # gdbus waits for the name to appear, not for a while.
    r = subprocess.run(['gdbus', 'wait', '--session', '--timeout',
                        str(DEADLINE_MS // 1000), 'org.a11y.Bus'], env=env)
    if r.returncode != 0 or launcher.poll() is not None:
        raise RuntimeError('at-spi-bus-launcher did not start')
    return launcher


def stop(proc):
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def how_it_ended(proc):
    if proc.returncode < 0:
        return 'was killed by %s' % signal.Signals(-proc.returncode).name
    return 'exited with status %d' % proc.returncode


def find_app(pid):
    desktop = Atspi.get_desktop(0)
    for app in children(desktop):
        try:
            if app.get_process_id() == pid and app_windows(app):
                return app
        except GLib.Error:
            pass
    return None


NEW_MAIL = b"""From: Ada Lovelace <ada@example.org>
To: demo@localhost
Subject: Notes on the analytical engine
Date: Tue, 03 Jan 2023 10:00:00 +0000
Message-ID: <notes.1@example.org>
Content-Type: text/plain; charset=us-ascii

The engine weaves algebraic patterns.
"""


def deliver(ctx):
    """New mail in the demo mailbox the app started: its server's directory
    is the one PopCheck made in its TMPDIR."""
    dirs = glob.glob(os.path.join(ctx.app_tmp, 'popcheck-demo-*'))
    if len(dirs) != 1:
        raise RuntimeError('no demo server directory in %s' % ctx.app_tmp)
    path = os.path.join(ctx.tmp, 'new.eml')
    with open(path, 'wb') as f:
        f.write(NEW_MAIL)
    subprocess.run([os.environ['POPCHECK_DEMO_SERVER'], 'deliver', '--dir',
                    dirs[0], '--user', 'demo', path], check=True,
                   stdout=subprocess.DEVNULL, timeout=DEADLINE_MS / 1000)


# --- the paths ------------------------------------------------------------------

WELCOME = 'Welcome to the PopCheck demo mailbox'


def main_window(app):
    return wait_window(app, 'PopCheck')


def message_list(app):
    return find(main_window(app), R.LIST, 'Messages', prune=(R.LIST, R.TEXT))


def message_rows(app):
    lst = message_list(app)
    if lst is None:
        return []
    return [a for a in children(lst) if role_of(a) == R.LIST_ITEM]


def row_named(app, words):
    for row in message_rows(app):
        if words in name_of(row):
            return row
    return None


def test_welcome(ctx):
    window = main_window(ctx.app)
    demo = wait_find(window, R.PUSH_BUTTON, 'Try the Demo Mailbox')
    check(True, 'the first page offers "Try the Demo Mailbox"')
    check_names(window, 'on the first page')
    check(find(window, R.PUSH_BUTTON, 'Add Account…') is not None,
          'the first page offers "Add Account…", said once')
    press(demo)
    wait_for(lambda: len(message_rows(ctx.app)) >= 10, 'the demo mailbox is listed')
    check(True, 'the demo mailbox is listed')


def test_rows(ctx):
    unnamed = [describe(r) for r in message_rows(ctx.app) if not name_of(r).strip()]
    check(not unnamed, 'every message row has a name', '\n'.join(unnamed))
    row = wait_for(lambda: row_named(ctx.app, WELCOME),
                   'a row names the welcome message')
    name = name_of(row)
    check('PopCheck Demo' in name and WELCOME in name and '2 January 2023' in name
          and not name.startswith('New'),
          "a row says its sender, subject and date, and that it is not new", name)


def test_preview(ctx):
    window = main_window(ctx.app)
    rows = message_rows(ctx.app)
    index = next(i for i, r in enumerate(rows) if WELCOME in name_of(r))
    check(message_list(ctx.app).select_child(index), 'the message list selects a row')
    body = wait_for(lambda: next((t for t in find_all(window, R.TEXT, 'Message text')
                                  if 'throwaway Dovecot' in text_of(t)), None),
                    "the preview shows the message's text")
    check('throwaway Dovecot' in text_of(body),
          "the preview reads the message's first lines")
    check(find(window, R.PUSH_BUTTON, 'Load More') is not None,
          'the preview offers "Load More", said once')
    check_names(window, 'in the window with a message previewed')


def test_delete_undo(ctx):
    window = main_window(ctx.app)
    wait_for(lambda: row_named(ctx.app, WELCOME), 'the message to delete is listed')
    press(wait_find(window, R.PUSH_BUTTON,
                    'Delete the selected messages from the server'))
    wait_for(lambda: row_named(ctx.app, WELCOME) is None,
             'the deleted message leaves the list')
    check(True, 'Delete takes the message off the list')
    # The toast offers Undo for a few seconds: it sits on top of the
    # window's content, so the search stays near the top to find it in
    # time whatever the load.
    undo = wait_find(window, R.PUSH_BUTTON, 'Undo', depth=4)
    toast = undo.get_parent()
    press(undo)
    check_names(toast, 'in the Undo notice')
    wait_for(lambda: row_named(ctx.app, WELCOME), 'Undo brings the message back')
    check(True, 'Undo brings the message back')


def menu_button(ctx):
    return wait_find(main_window(ctx.app), R.PUSH_BUTTON, 'Main menu',
                     prune=(R.LIST, R.TEXT))


def menu_item(ctx, label):
    """Opens the main menu and finds @label in it."""
    button = menu_button(ctx)
    press(button)
    return wait_find(button, R.MENU_ITEM, label)


def choose(ctx, label, check_menu=False):
    """Chooses @label in the main menu with the keyboard: down to it, then
    Enter, which closes the menu before the window that the item opens
    takes the focus."""
    seen = len(ctx.focus.events)
    item = menu_item(ctx, label)
    wait_for(lambda: len(ctx.focus.events) > seen and
             role_of(ctx.focus.current()) == R.MENU_ITEM,
             'the menu takes the focus')
    if check_menu:
        check_names(menu_button(ctx), 'in the main menu')
    for _ in range(20):
        if matches(ctx.focus.current(), R.MENU_ITEM, label):
            break
        ctx.focus.press(DOWN, 'Down moves in the menu')
    else:
        raise Timeout('Down never reached %s' % describe(item))
    key(RETURN)
    button = menu_button(ctx)
    wait_for(lambda: not has_state(button, Atspi.StateType.EXPANDED),
             'the menu closes')


def gone(acc):
    """@acc has left the tree, as its own object says.

    Waits for a window to close ask the window, never the application's
    list of windows.  GTK 4.8.3 crashed answering GetChildAtIndex on the
    application (a core dump shows the call) for an index that a child
    count read just before the window closed made one too high: its handler
    walks the shown windows and, past them, ends on the last window, shown
    or not, here the shortcuts window that is made with the main window and
    never shown, whose context has no object path yet (see
    GTK_ATSPI_CRITICAL)."""
    return not is_showing(acc) or has_state(acc, Atspi.StateType.DEFUNCT)


def close_window(ctx, window):
    """Its Close button (Escape would only leave the account editor)."""
    name = name_of(window)
    press(wait_find(window, R.PUSH_BUTTON, 'Close'))
    wait_for(lambda: gone(window), 'Close closes "%s"' % name)


def test_shortcuts(ctx):
    choose(ctx, 'Keyboard Shortcuts', check_menu=True)
    shortcuts = wait_window(ctx.app, lambda n: n != 'PopCheck')
    check_names(shortcuts, 'in the shortcuts window')
    check(name_of(shortcuts) == 'Keyboard Shortcuts',
          'the shortcuts window says what it is', describe(shortcuts))
    # Left open: the last test.  (Hiding it has once made GTK 4.8's AT-SPI
    # code log a critical warning in PopCheck: see GTK_ATSPI_CRITICAL.)


def test_add_account(ctx):
    choose(ctx, 'Preferences')
    prefs = wait_window(ctx.app, 'Preferences')
    check_names(prefs, 'in the preferences')
    press(wait_find(prefs, R.PUSH_BUTTON, 'Add'))
    wait_find(prefs, R.TEXT, 'Server Name')
    check_names(prefs, 'in the account editor')

    set_text(wait_find(prefs, R.TEXT, 'Name'), 'Nowhere')
    set_text(wait_find(prefs, R.TEXT, 'User Name or Email Address'), 'someone')
    set_text(wait_find(prefs, R.TEXT, 'Password'), 'secret')
    # Nothing listens there: the test must say so, in words.  (The demo
    # server's own ports need Security set to TLS first, and libadwaita
    # 1.2's combo row offers no way to choose over AT-SPI.)
    set_text(wait_find(prefs, R.TEXT, 'Server Name'), 'nowhere.invalid')
    before = {name_of(a) for a in find_all(prefs, R.LABEL)}
    press(wait_find(prefs, R.PUSH_BUTTON, 'Test Connection'))
    report = wait_for(lambda: next((a for a in find_all(prefs, R.LABEL)
                                    if name_of(a).strip() and name_of(a) not in before
                                    and 'nowhere.invalid' in name_of(a)), None),
                      'the test reports what went wrong')
    check(not name_of(report).startswith('Connected'),
          'Test Connection says the server cannot be reached', name_of(report))
    check_names(prefs, 'in the account editor after a test')
    # Closing with the form filled in asks before the account is lost.  The
    # question takes the focus (GTK 4.8 announces it by focus events only),
    # and Tab goes to "Discard", said once.
    seen = len(ctx.focus.events)
    press(wait_find(prefs, R.PUSH_BUTTON, 'Close'))
    answer = wait_for(lambda: next((a for a in ctx.focus.events[seen:]
                                    if role_of(a) == R.PUSH_BUTTON and
                                    name_of(a) in ('Keep Editing', 'Discard')),
                                   None),
                      'closing asks before the account is lost')
    for _ in range(4):
        if name_of(answer) == 'Discard':
            break
        answer = ctx.focus.press(TAB, 'Tab moves to the next answer')
    check(name_of(answer) == 'Discard', 'the question offers "Discard"',
          describe(answer))
    press(answer)
    # The question goes too: its answer leaves the tree with it.
    wait_for(lambda: gone(prefs) and
             not has_state(answer, Atspi.StateType.VISIBLE),
             'Discard closes "Preferences"')


def test_new_mail(ctx):
    deliver(ctx)
    window = main_window(ctx.app)
    press(wait_find(window, R.PUSH_BUTTON, 'Check now', prune=(R.LIST, R.TEXT)))
    row = wait_for(lambda: row_named(ctx.app, 'Notes on the analytical engine'),
                   'the new message is listed')
    name = name_of(row)
    check(name.startswith('New') and 'Ada Lovelace' in name and '3 January 2023' in name,
          'a new message says it is new, its sender and date', name)


def test_mark_all_seen(ctx):
    choose(ctx, 'Mark All as Seen')
    wait_for(lambda: message_rows(ctx.app) and
             not any(name_of(r).startswith('New') for r in message_rows(ctx.app)),
             'no row says it is new')
    check(True, 'after Mark All as Seen no row says it is new')


def test_keyboard(ctx):
    main_window(ctx.app)
    check_tab_reaches(ctx.focus, [
        (R.PUSH_BUTTON, 'Check now'),
        (R.PUSH_BUTTON, 'Delete the selected messages from the server'),
        (R.PUSH_BUTTON, 'Main menu'),
        (R.LIST_ITEM, lambda n: WELCOME in n),
        (R.TEXT, 'Message text'),
        (R.PUSH_BUTTON, 'Show Whole Message…'),
    ], 'of the main window')
    choose(ctx, 'Preferences')
    prefs = wait_window(ctx.app, 'Preferences')
    check_tab_reaches(ctx.focus, [
        (R.PAGE_TAB, 'Accounts'),
        (R.PAGE_TAB, 'General'),
        (R.PUSH_BUTTON, 'Add'),
        (R.LIST_ITEM, lambda n: n.startswith('Demo')),
        (R.PUSH_BUTTON, 'Remove Account'),
    ], 'of the preferences')
    close_window(ctx, prefs)


class Context:
    pass


def check_app_log(path):
    """PopCheck logged no warning or critical but GTK 4.8's own."""
    with open(path, encoding='utf-8', errors='replace') as f:
        log = f.read()
    sys.stderr.write(log)
    # Each message GLib logs is a line of its own, after a blank line.
    lines = [line for line in log.splitlines() if line.strip()]
    problems = []
    i = 0
    while i < len(lines):
        # GTK's pair is one event: both lines, next to each other, in order.
        if i + 1 < len(lines) and all(
                'GLib-CRITICAL **' in line and line.endswith(end)
                for line, end in zip(lines[i:i + 2], GTK_ATSPI_CRITICAL)):
            i += 2
            continue
        if 'WARNING **' in lines[i] or 'CRITICAL **' in lines[i]:
            problems.append(lines[i])
        i += 1
    check(not problems, 'PopCheck logs no warning', '\n'.join(problems))


def main():
    ctx = Context()
    ctx.tmp = tempfile.mkdtemp(prefix='popcheck-a11y-')
    # PopCheck's demo server lives in PopCheck's TMPDIR, which Dovecot's
    # mail user must be able to pass through.
    ctx.app_tmp = os.path.join(ctx.tmp, 'tmp')
    os.mkdir(ctx.app_tmp)
    os.chmod(ctx.tmp, 0o711)
    os.chmod(ctx.app_tmp, 0o711)

    env = dict(os.environ)
    # GTK talks to the accessibility bus only when asked to.
    env.pop('NO_AT_BRIDGE', None)
    env['GTK_A11Y'] = 'atspi'
    env['TMPDIR'] = ctx.app_tmp
    env['G_DEBUG'] = ','.join(flag for flag in env.get('G_DEBUG', '').split(',')
                              if flag and not flag.startswith('fatal'))
    app_log_path = os.path.join(ctx.tmp, 'popcheck.log')

    launcher = app_proc = None
    try:
        launcher = start_a11y_bus(env)
        ctx.focus = Focus()
        with open(app_log_path, 'w') as app_log:
            app_proc = subprocess.Popen([os.path.join(os.environ['POPCHECK_BUILD_DIR'],
                                                      'src', 'popcheck')],
                                        env=env, stderr=app_log)
        ctx.app = wait_for(lambda: find_app(app_proc.pid),
                           "PopCheck's window appears in the accessibility tree")
        check(True, "PopCheck's window appears in the accessibility tree")

        for test in (test_welcome, test_rows, test_preview, test_delete_undo,
                     test_add_account, test_new_mail, test_mark_all_seen,
                     test_keyboard, test_shortcuts):
            try:
                test(ctx)
            except Exception as e:  # noqa: B902 - one test's trouble fails it alone
                check(False, test.__name__, '%s: %s' % (type(e).__name__, e))
            # A crash is what failed, not the tests that would wait for a
            # window that is gone.
            if app_proc.poll() is not None:
                check(False, 'PopCheck runs until the tests end', 'during %s it %s'
                      % (test.__name__, how_it_ended(app_proc)))
                break
        else:
            check(True, 'PopCheck runs until the tests end')
    except (Timeout, RuntimeError, subprocess.SubprocessError, OSError) as e:
        check(False, 'the harness', e)
    finally:
        # Quitting stops the demo server PopCheck started.
        stop(app_proc)
        stop(launcher)
        if os.path.exists(app_log_path):
            check_app_log(app_log_path)
        shutil.rmtree(ctx.tmp, ignore_errors=True)

    print('1..%d' % len(results), flush=True)
    return 0 if results and all(results) else 1


if __name__ == '__main__':
    sys.exit(main())
