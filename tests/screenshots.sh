#!/bin/sh
# screenshots.sh: the main window (wide, and 360 pixels wide with the list
# and with a preview), the preview and the preferences over the demo
# mailbox, as PNG files to look at.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
#   tests/screenshots.sh BUILDDIR OUTDIR
#
# Runs test-window --screenshot under Xvfb on a private bus with
# gnome-keyring, against a throwaway Dovecot demo server.
set -eu

if [ $# -ne 2 ]; then
    echo "usage: $0 BUILDDIR OUTDIR" >&2
    exit 2
fi

here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(dirname "$here")
build_dir=$(cd "$1" && pwd)
mkdir -p "$2"
out_dir=$(cd "$2" && pwd)

ninja -C "$build_dir" tests/test-window data/gschemas.compiled >/dev/null

export POPCHECK_SOURCE_DIR="$source_dir"
export POPCHECK_DEMO_SERVER="$source_dir/build-aux/popcheck-demo-server"
export GSETTINGS_SCHEMA_DIR="$build_dir/data"
export GSETTINGS_BACKEND=memory
export GTK_A11Y=none

exec /usr/bin/python3 "$here/keyring-harness" -- \
    "$here/run-under-xvfb" --size 1280x800 -- \
    "$build_dir/tests/test-window" --screenshot "$out_dir"
