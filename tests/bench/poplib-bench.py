#!/usr/bin/python3
# poplib-bench.py: the benchmark's scenarios with Python's poplib.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The same options, the same work and the same JSON line as pop3-bench
# (PopCheck's engine), done the way a poplib program does it: one command,
# then its reply, then the next.  CAPA is sent too, as the engine does, so
# both send the same commands; "round_trips" counts the greeting and one per
# command, which is what poplib waits for.
#
# With --naive (line-bench.py) the program is the plain way to list a
# mailbox: UIDL, then `TOP n 0` for every message it does not know, newest
# first, without LIST; "screen_seconds" is when the newest --screen (50)
# summaries were known, and "screen_bytes" what their replies weighed;
# --max-tops stops after that many TOPs.

import argparse
import json
import poplib
import ssl
import sys
import time


def read_lines(path):
    with open(path, encoding='utf-8') as f:
        return [line.strip() for line in f if line.strip()]


def run(args):
    result = {'client': 'poplib', 'scenario': args.scenario,
              'security': args.security, 'pipelining': False}
    known = set(read_lines(args.known_uids)) if args.known_uids else set()
    delete = read_lines(args.delete_uids) if args.delete_uids else []
    tops = top_bytes = deleted = 0
    screen_seconds = screen_bytes = None
    round_trips = 1
    dump = open(args.dump_tops, 'wb') if args.dump_tops else None

    started = time.monotonic()
    if args.security == 'tls':
        context = ssl.create_default_context(cafile=args.ca_file)
        pop = poplib.POP3_SSL(args.host, args.port, context=context)
    else:
        pop = poplib.POP3(args.host, args.port)
    pop.capa()
    pop.user(args.user)
    pop.pass_(args.password)
    round_trips += 3

    _, uid_lines, _ = pop.uidl()
    round_trips += 1
    uids = []
    for line in uid_lines:
        msg, uid = line.decode('ascii').split(' ', 1)
        uids.append((int(msg), uid))
    if args.save_uids:
        with open(args.save_uids, 'w', encoding='utf-8') as f:
            f.writelines(uid + '\n' for _, uid in uids)

    if args.scenario == 4:
        numbers = {uid: msg for msg, uid in uids}
        for uid in delete:
            pop.dele(numbers[uid])
            round_trips += 1
            deleted += 1
    else:
        if not args.naive:
            pop.list()
            round_trips += 1
        else:
            uids.sort(reverse=True)
        for msg, uid in uids:
            if args.scenario != 1 and uid in known:
                continue
            if args.max_tops is not None and tops == args.max_tops:
                break
            response, lines, _ = pop.top(msg, 0)
            round_trips += 1
            data = b''.join(line + b'\r\n' for line in lines)
            tops += 1
            top_bytes += len(data)
            if dump:
                dump.write(response + b'\n' + data)
            if tops == args.screen:
                screen_seconds = round(time.monotonic() - started, 6)
                screen_bytes = top_bytes
    pop.quit()
    round_trips += 1
    elapsed = time.monotonic() - started

    if dump:
        dump.close()
    result.update({'seconds': round(elapsed, 6), 'round_trips': round_trips,
                   'messages': len(uids), 'tops': tops,
                   'top_bytes': top_bytes, 'deleted': deleted})
    if args.naive:
        # Fewer new messages than a screen: the screen is complete at the end.
        result.update({'screen_seconds': screen_seconds or result['seconds'],
                       'screen_bytes': screen_bytes or top_bytes})
    return result


def main(argv):
    parser = argparse.ArgumentParser(prog='poplib-bench.py')
    parser.add_argument('--host', required=True)
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--security', choices=('none', 'tls'), default='none')
    parser.add_argument('--ca-file')
    parser.add_argument('--user', required=True)
    parser.add_argument('--password', required=True)
    parser.add_argument('--scenario', type=int, choices=(1, 2, 3, 4),
                        required=True)
    parser.add_argument('--known-uids')
    parser.add_argument('--delete-uids')
    parser.add_argument('--save-uids')
    parser.add_argument('--dump-tops')
    parser.add_argument('--naive', action='store_true')
    parser.add_argument('--screen', type=int, default=50)
    parser.add_argument('--max-tops', type=int)
    args = parser.parse_args(argv)
    if args.scenario in (2, 3) and not args.known_uids:
        parser.error('scenarios 2 and 3 need --known-uids')
    if args.scenario == 4 and not args.delete_uids:
        parser.error('scenario 4 needs --delete-uids')

    try:
        result = run(args)
    except (OSError, poplib.error_proto, KeyError) as e:
        print(json.dumps({'client': 'poplib', 'scenario': args.scenario,
                          'error': str(e)}))
        return 1
    print(json.dumps(result))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
