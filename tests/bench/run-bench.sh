#!/bin/bash
# run-bench.sh: PopCheck's engine against Python's poplib over a slow link.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
#   tests/bench/run-bench.sh [--quick] [--messages N]
#                            [--links "0 20 20/10mbit"] [--repeat N]
#                            [--build-dir DIR] [--results FILE]
#                            [--pop3-bench PROGRAM]
#   tests/bench/run-bench.sh --table RESULTS
#
# Starts a demo Dovecot (build-aux/popcheck-demo-server) with a generated
# mailbox of 10,000 messages (1,000 with --quick), measures what the
# latency proxy carries at 0 ms, then for each link starts latency-proxy.py
# in front of Dovecot and runs the four scenarios with PopCheck's engine
# (pop3-bench) and with poplib (poplib-bench.py), one after the other, on
# the same mailbox.  Prints a table; every measurement is also kept as a
# JSON line in --results.
#
# A link is a round-trip time in ms, alone ("20") or with a bandwidth for
# each direction in latency-proxy.py's units ("20/10mbit": 20 ms and
# 10 Mbit/s).  The default is "0 20 20/10mbit"; --rtts "0 20" is the same
# as --links "0 20".  100,000 messages on the 10 Mbit/s line alone (poplib
# needs one round trip per message, about 40 minutes at 20 ms):
#   tests/bench/run-bench.sh --messages 100000 --links 20/10mbit --repeat 1
#
# Before the first measurement one uncounted first check warms Dovecot's
# index and cache files, which the first client would otherwise pay for
# alone.  The engine's times are the best of --repeat runs (3); poplib runs
# once, since it takes minutes at 20 ms and varies far less, relatively.
#
# The build directory defaults to _build-bench in the source tree; it is set
# up and pop3-bench built there when needed, unless --pop3-bench names the
# program to use (as `meson test --benchmark` does).

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(cd "$here/../.." && pwd)
messages=10000
links="0 20 20/10mbit"
repeat=3
build_dir=
results=
pop3_bench=
table_only=
python=/usr/bin/python3

while [ $# -gt 0 ]; do
  case "$1" in
    --quick) messages=1000 ;;
    --messages) messages=$2; shift ;;
    --links|--rtts) links=$2; shift ;;
    --repeat) repeat=$2; shift ;;
    --build-dir) build_dir=$2; shift ;;
    --results) results=$2; shift ;;
    --pop3-bench) pop3_bench=$2; shift ;;
    --table) table_only=$2; shift ;;
    -h|--help) sed -n '2,/^$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "run-bench.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

# The table.  The lower bound of scenario 1 counts the exchanges whose
# reply decides what is sent next: TCP's handshake, the greeting, CAPA, one
# login exchange, UIDL + LIST, and the TOPs with QUIT; plus every byte both
# ways at the throughput the proxy itself reached at 0 ms, or, on a line
# with a bandwidth, the bytes of the busier direction at that rate (each
# direction has a line of its own).
print_table() {
  "$python" - "$1" <<'EOF'
import json
import sys

BOUND_ROUND_TRIPS = 6
NAMES = {1: 'first check', 2: 'nothing new', 3: '50 new', 4: 'delete 100'}

runs, throughput, cold = [], None, None
with open(sys.argv[1], encoding='utf-8') as f:
    for line in f:
        record = json.loads(line)
        if record['kind'] == 'throughput':
            throughput = record['result']['bytes_per_second']
        elif record['kind'] == 'cold':
            cold = record['result']
        else:
            runs.append(record)

def link_of(record):
    return (record['rtt_ms'], record.get('rate') or 0)

def link_name(link):
    rtt, rate = link
    if not rate:
        return '%g ms' % rtt
    return '%g ms, %g Mbit/s' % (rtt, rate * 8 / 1e6)

def best(link, client, scenario):
    found = [r for r in runs if link_of(r) == link and
             r['result'].get('client') == client and
             r['result'].get('scenario') == scenario]
    ok = [r for r in found if 'seconds' in r['result']]
    if len(ok) < len(found) or not ok:
        return None
    return min(ok, key=lambda r: r['result']['seconds'])

messages = cold['messages'] if cold and 'messages' in cold else '?'
print('PopCheck engine vs poplib, Dovecot on loopback, %s messages' % messages)
print('%-17s %-12s %10s %6s %10s %6s %9s' % (
    'link', 'scenario', 'PopCheck', 'trips', 'poplib', 'trips', 'ratio'))
links = sorted({link_of(r) for r in runs}, key=lambda l: (l[1] != 0, l))
for link in links:
    for scenario in (1, 2, 3, 4):
        ours = best(link, 'popcheck', scenario)
        theirs = best(link, 'poplib', scenario)
        cells = []
        for r in (ours, theirs):
            if r is None:
                cells += ['failed', '-']
            else:
                cells += ['%.3f s' % r['result']['seconds'],
                          str(r['result']['round_trips'])]
        ratio = '-'
        if ours and theirs:
            ratio = '%.1fx' % (theirs['result']['seconds'] /
                               ours['result']['seconds'])
        print('%-17s %-12s %10s %6s %10s %6s %9s' % (
            link_name(link), '%d %s' % (scenario, NAMES[scenario]),
            cells[0], cells[1], cells[2], cells[3], ratio))

print()
print('Proxy throughput at 0 ms: %.0f MB/s' % (throughput / 1e6))
zero = best((0, 0), 'popcheck', 1) if (0, 0) in links else None
for link in links:
    rtt, rate = link
    ours = best(link, 'popcheck', 1)
    if ours is None or not ours.get('proxy'):
        continue
    if rate:
        moved = max(ours['proxy']['up'], ours['proxy']['down'])
        speed = rate
    else:
        moved = ours['proxy']['up'] + ours['proxy']['down']
        speed = throughput
    bound = BOUND_ROUND_TRIPS * rtt / 1000 + moved / speed
    print('Scenario 1 at %s: lower bound %d x %g ms + %.1f MB / %.*f MB/s '
          '= %.3f s; PopCheck %.3f s = %.2fx the bound'
          % (link_name(link), BOUND_ROUND_TRIPS, rtt, moved / 1e6,
             2 if rate else 0, speed / 1e6, bound, ours['result']['seconds'],
             ours['result']['seconds'] / bound))
    theirs = best(link, 'poplib', 1)
    if rate and theirs is not None and theirs.get('proxy'):
        # poplib waits a round trip for each command, on top of the bytes.
        poplib_bound = (theirs['result']['round_trips'] * rtt / 1000 +
                        max(theirs['proxy']['up'], theirs['proxy']['down']) /
                        rate)
        print('    poplib: lower bound %d x %g ms + %.1f MB / %.2f MB/s = '
              '%.3f s; poplib %.3f s'
              % (theirs['result']['round_trips'], rtt,
                 max(theirs['proxy']['up'], theirs['proxy']['down']) / 1e6,
                 rate / 1e6, poplib_bound, theirs['result']['seconds']))
    if zero is not None and rtt != 0 and not rate:
        # The bound leaves out the work of Dovecot (and of the proxy and
        # the client), which no client can hide; the 0 ms check is mostly
        # that work.  What the link's latency adds to it is what pipelining
        # can save.
        added = ours['result']['seconds'] - zero['result']['seconds']
        print('    the %g ms link adds %.3f s to the 0 ms check: %.1f round '
              'trips, for %d exchanges' % (rtt, added, added * 1000 / rtt,
                                           BOUND_ROUND_TRIPS))
if cold and 'seconds' in cold:
    print('Cold first check (Dovecot building its index), no proxy: %.3f s'
          % cold['seconds'])
EOF
}

if [ -n "$table_only" ]; then
  print_table "$table_only"
  exit 0
fi

if [ -z "$pop3_bench" ]; then
  build_dir=${build_dir:-$source_dir/_build-bench}
  if [ ! -f "$build_dir/build.ninja" ]; then
    meson setup "$build_dir" "$source_dir" >/dev/null
  fi
  meson compile -C "$build_dir" pop3-bench >/dev/null
  pop3_bench=$build_dir/tests/bench/pop3-bench
fi
demo=$source_dir/build-aux/popcheck-demo-server

work=$(mktemp -d /tmp/popcheck-bench.XXXXXX)
chmod 755 "$work"
results=${results:-$work/results.jsonl}
proxy_pid=

cleanup() {
  if [ -n "$proxy_pid" ]; then
    kill "$proxy_pid" 2>/dev/null || true
  fi
  "$demo" stop --dir "$work/demo" >/dev/null 2>&1 || true
  # Keep the results when they were asked for outside the work directory.
  rm -rf "$work"
}
trap cleanup EXIT

log() {
  echo "run-bench: $*" >&2
}

log "starting Dovecot and writing $messages messages"
"$demo" start --dir "$work/demo" >/dev/null
user=bench
password=bench-password
"$demo" add-user --dir "$work/demo" --user $user --password $password --empty
"$python" "$here/gen-mailbox.py" --dir "$work/demo" --user $user \
  --count "$messages" >/dev/null
next_message=$((messages + 1))
port=$("$python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["pop3_port"])' \
  "$work/demo/env.json")

common=(--host 127.0.0.1 --user $user --password $password)

# One uncounted first check: Dovecot builds its index and header cache.
log "warming up Dovecot"
cold=$("$pop3_bench" "${common[@]}" --port "$port" --scenario 1)
echo "{\"kind\": \"cold\", \"result\": $cold}" >> "$results"

log "measuring the proxy's throughput at 0 ms"
throughput=$("$python" "$here/latency-proxy.py" bulk --megabytes 512)
echo "{\"kind\": \"throughput\", \"result\": $throughput}" >> "$results"

# run RTT CLIENT SCENARIO ARGS...: one measurement, recorded with the bytes
# the proxy carried for it and the link's rate ($rate_bytes, bytes a
# second, or null).
run() {
  local rtt=$1 client=$2 scenario=$3
  shift 3
  local line bytes
  : > "$work/stats"
  if [ "$client" = popcheck ]; then
    line=$("$pop3_bench" "${common[@]}" --port "$proxy_port" \
           --scenario "$scenario" "$@")
  else
    line=$("$python" "$here/poplib-bench.py" "${common[@]}" \
           --port "$proxy_port" --scenario "$scenario" "$@")
  fi
  # The proxy writes its line when both directions are closed.
  for _ in $(seq 50); do
    [ -s "$work/stats" ] && break
    sleep 0.02
  done
  bytes=$(cat "$work/stats" 2>/dev/null || echo null)
  echo "{\"kind\": \"run\", \"rtt_ms\": $rtt, \"rate\": $rate_bytes, \"result\": $line, \"proxy\": ${bytes:-null}}" \
    >> "$results"
}

# Runs a scenario for the engine --repeat times (the same work each time:
# it only reads), then once for poplib.
run_both() {
  local rtt=$1 scenario=$2
  shift 2
  for _ in $(seq "$repeat"); do
    run "$rtt" popcheck "$scenario" "$@"
  done
  run "$rtt" poplib "$scenario" "$@"
}

for link in $links; do
  rtt=${link%%/*}
  rate_args=()
  rate_bytes=null
  if [ "$link" != "$rtt" ]; then
    rate_args=(--rate "${link#*/}")
    rate_bytes=$("$python" "$here/latency-proxy.py" rate "${link#*/}")
  fi
  delay=$("$python" -c "print($rtt / 2)")
  "$python" "$here/latency-proxy.py" serve --delay-ms "$delay" \
    "${rate_args[@]}" \
    --target "127.0.0.1:$port" --lifetime 3600 --stats "$work/stats" \
    > "$work/proxy-port" &
  proxy_pid=$!
  for _ in $(seq 100); do
    [ -s "$work/proxy-port" ] && break
    sleep 0.05
  done
  proxy_port=$(cat "$work/proxy-port")

  log "$link: 1. first check"
  run_both "$rtt" 1 --save-uids "$work/known"
  log "$link: 2. nothing new"
  run_both "$rtt" 2 --known-uids "$work/known"
  log "$link: 3. 50 new messages"
  "$python" "$here/gen-mailbox.py" --dir "$work/demo" --user $user \
    --count 50 --first "$next_message" >/dev/null
  next_message=$((next_message + 50))
  run_both "$rtt" 3 --known-uids "$work/known"
  # Deleting changes the mailbox: each run deletes 100 other messages.
  log "$link: 4. deleting 100 messages"
  "$python" "$here/poplib-bench.py" "${common[@]}" --port "$port" \
    --scenario 4 --delete-uids /dev/null --save-uids "$work/uids" >/dev/null
  for i in $(seq 0 "$repeat"); do
    sed -n "$((i * 100 + 1)),$((i * 100 + 100))p" "$work/uids" \
      > "$work/delete-$i"
  done
  for i in $(seq 1 "$repeat"); do
    run "$rtt" popcheck 4 --delete-uids "$work/delete-$i"
  done
  run "$rtt" poplib 4 --delete-uids "$work/delete-0"
  # Back to the size we started with, so that every round-trip time
  # measures the same mailbox.
  refill=$(((repeat + 1) * 100 - 50))
  "$python" "$here/gen-mailbox.py" --dir "$work/demo" --user $user \
    --count "$refill" --first "$next_message" >/dev/null
  next_message=$((next_message + refill))

  kill "$proxy_pid"
  wait "$proxy_pid" 2>/dev/null || true
  proxy_pid=
  rm -f "$work/proxy-port"
done

print_table "$results"
