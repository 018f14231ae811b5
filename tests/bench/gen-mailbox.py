#!/usr/bin/python3
# gen-mailbox.py: a generated mailbox of realistic messages for the benchmark.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
#   gen-mailbox.py --dir DEMO_DIR --user NAME --count N [--first K] [--seed S]
#
# Writes N messages straight into the user's Maildir/cur of a running
# popcheck-demo-server (`deliver` forks nothing but still costs a Python
# start per call; 10,000 files written here take a few seconds).  Messages
# look like what a POP3 mailbox holds: several Received lines, a folded
# DKIM-Signature, From and Subject in RFC 2047 encoded words of several
# charsets, sizes from 1 to 50 KB (most of them small), a third of them
# multipart with an alternative HTML part or a base64 attachment.
#
# File names carry ",S=size,W=vsize" (RFC 822 size with CRLF line ends), as
# Dovecot's own deliveries do: Dovecot then answers LIST without reading
# every file, as it would for a mailbox that grew message by message.
# --first numbers the messages (Message-ID, file name), so that a second
# batch (the benchmark's "50 new messages") never repeats the first.

import argparse
import base64
import json
import os
import random
import sys
import time

NAMES = [
    ('Jürgen Müller', 'utf-8'), ('Zoë Lefèvre', 'iso-8859-1'),
    ('张伟', 'utf-8'), ('Ολυμπία Παπαδοπούλου', 'utf-8'),
    ('Søren Kierkegård', 'iso-8859-1'), ('Alice Example', None),
    ('GitLab', None), ('Иван Петров', 'koi8-r'), ('Łukasz Żółć', 'utf-8'),
    ('Bob O\'Neil', None), ('François Dupré', 'utf-8'),
    ('Mailing list robot', None), ('山田太郎', 'iso-2022-jp'),
]
DOMAINS = ['example.org', 'example.com', 'lists.example.net',
           'mail.example.de', 'example.fr', 'notifications.example.io']
SUBJECTS = [
    'Re: Meeting notes for {n}', 'Réunion de lundi – ordre du jour {n}',
    'Ihre Bestellung Nr. {n} wurde versandt', '会议纪要 第{n}号',
    '[announce] release {n} is out', 'Fwd: Rechnung {n} (fällig)',
    'Προσφορά εβδομάδας {n}', 'Build #{n} failed on main',
    'Погода на завтра {n}', 'Quarterly report – Q{q} draft {n} ✔',
    'Your invoice {n}', 'Ping', 'Zażółć gęślą jaźń {n}',
]
WORDS = ('the of and to in is that for it as was with be by on not he this '
         'are or his from at which but have an they you were their one all '
         'we can her has there been if more when will would who so no '
         'message server mailbox check pipeline header window latency '
         'résumé naïve café über straße').split()


def encoded_word(text, charset, rng):
    """RFC 2047: B or Q encoding, as mail clients send it."""
    if charset is None:
        return text
    raw = text.encode(charset)
    if charset == 'iso-2022-jp' or rng.random() < 0.5:
        return '=?%s?B?%s?=' % (charset.upper(),
                                base64.b64encode(raw).decode('ascii'))
    q = ''.join(chr(b) if (48 <= b < 58 or 65 <= b < 91 or 97 <= b < 123)
                else '_' if b == 32 else '=%02X' % b for b in raw)
    return '=?%s?Q?%s?=' % (charset, q)


def subject_of(index, rng):
    text = rng.choice(SUBJECTS).format(n=index, q=index % 4 + 1)
    try:
        text.encode('ascii')
        return text
    except UnicodeEncodeError:
        return encoded_word(text, 'utf-8', rng)


def paragraphs(rng, count=300):
    pool = []
    for _ in range(count):
        words = [rng.choice(WORDS) for _ in range(rng.randint(30, 120))]
        lines, line = [], ''
        for w in words:
            if len(line) + len(w) + 1 > 72:
                lines.append(line)
                line = w
            else:
                line = (line + ' ' + w) if line else w
        lines.append(line)
        pool.append('\n'.join(lines) + '\n')
    return pool


def text_body(size, pool, rng):
    parts, total = [], 0
    while total < size:
        p = rng.choice(pool)
        # A line with a leading dot now and then: POP3 must stuff it.
        if rng.random() < 0.05:
            p = '.' + p
        parts.append(p + '\n')
        total += len(p) + 1
    return ''.join(parts)


def headers_of(index, rng, start_time):
    name, charset = rng.choice(NAMES)
    domain = rng.choice(DOMAINS)
    date = time.strftime('%a, %d %b %Y %H:%M:%S +0000',
                         time.gmtime(start_time - 86400 * 30 + index * 60))
    hops = []
    for hop in range(rng.randint(2, 5)):
        hops.append('Received: from mx%d.%s (mx%d.%s [192.0.2.%d])\n'
                    '\tby mail.example.org (Postfix) with ESMTPS id %X\n'
                    '\tfor <demo@example.org>; %s\n'
                    % (hop, domain, hop, domain, rng.randint(1, 254),
                       rng.getrandbits(40), date))
    signature = base64.b64encode(rng.randbytes(256)).decode('ascii')
    dkim = ('DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=%s;\n'
            '\ts=selector1; h=from:to:subject:date:message-id;\n'
            '\tbh=%s;\n\tb=%s\n'
            % (domain, base64.b64encode(rng.randbytes(32)).decode('ascii'),
               '\n\t '.join(signature[i:i + 64]
                           for i in range(0, len(signature), 64))))
    local = 'user%d' % rng.randint(1, 500)
    h = ''.join(hops) + dkim
    h += 'From: %s <%s@%s>\n' % (encoded_word(name, charset, rng), local, domain)
    h += 'To: Demo User <demo@example.org>\n'
    h += 'Subject: %s\n' % subject_of(index, rng)
    h += 'Date: %s\n' % date
    h += 'Message-ID: <bench-%d.%x@%s>\n' % (index, rng.getrandbits(48), domain)
    if rng.random() < 0.3:
        h += 'List-Id: <announce.%s>\nList-Unsubscribe: <mailto:leave@%s>\n' % (
            domain, domain)
    h += 'MIME-Version: 1.0\n'
    return h


def message(index, rng, pool, start_time):
    # Sizes from 1 to 50 KB, log-uniform: most mail is small.
    size = int(1024 * 50 ** rng.random())
    head = headers_of(index, rng, start_time)
    kind = rng.random()
    if kind < 0.67:
        head += 'Content-Type: text/plain; charset=utf-8\n' \
                'Content-Transfer-Encoding: 8bit\n'
        body = text_body(max(size - len(head), 200), pool, rng)
    elif kind < 0.85:
        boundary = '=_alt_%x' % rng.getrandbits(64)
        head += 'Content-Type: multipart/alternative; boundary="%s"\n' % boundary
        text = text_body(max(size - len(head), 400) // 2, pool, rng)
        html = '<html><body><p>' + text.replace('\n\n', '</p>\n<p>') + \
               '</p></body></html>\n'
        body = ('--%s\nContent-Type: text/plain; charset=utf-8\n\n%s\n'
                '--%s\nContent-Type: text/html; charset=utf-8\n\n%s\n--%s--\n'
                % (boundary, text, boundary, html, boundary))
    else:
        boundary = '=_mixed_%x' % rng.getrandbits(64)
        head += 'Content-Type: multipart/mixed; boundary="%s"\n' % boundary
        text = text_body(600, pool, rng)
        blob = base64.b64encode(rng.randbytes(max(size - len(head) - 800,
                                                  300) * 3 // 4))
        blob = b'\n'.join(blob[i:i + 76] for i in range(0, len(blob), 76))
        body = ('--%s\nContent-Type: text/plain; charset=utf-8\n\n%s\n'
                '--%s\nContent-Type: application/pdf; name="report-%d.pdf"\n'
                'Content-Disposition: attachment; filename="report-%d.pdf"\n'
                'Content-Transfer-Encoding: base64\n\n%s\n--%s--\n'
                % (boundary, text, boundary, index, index,
                   blob.decode('ascii'), boundary))
    return (head + '\n' + body).encode('utf-8')


def main(argv):
    parser = argparse.ArgumentParser(prog='gen-mailbox.py')
    parser.add_argument('--dir', required=True,
                        help='the directory of a running demo server')
    parser.add_argument('--user', required=True)
    parser.add_argument('--count', type=int, required=True)
    parser.add_argument('--first', type=int, default=1)
    parser.add_argument('--seed', type=int, default=7)
    args = parser.parse_args(argv)

    with open(os.path.join(args.dir, 'env.json'), encoding='utf-8') as f:
        env = json.load(f)
    maildir = os.path.join(env['dir'], 'home', args.user, 'Maildir')
    if not os.path.isdir(os.path.join(maildir, 'cur')):
        print('gen-mailbox.py: %s has no Maildir' % args.user, file=sys.stderr)
        return 1
    as_root = os.geteuid() == 0

    rng = random.Random(args.seed * 1000003 + args.first)
    pool = paragraphs(rng)
    start_time = int(time.time())
    # Dovecot numbers new files by the time in their names: make them
    # strictly increasing, and later than anything delivered before.
    stamp = time.time_ns() // 1000
    total = 0
    for i in range(args.first, args.first + args.count):
        data = message(i, rng, pool, start_time)
        stamp += 1
        vsize = len(data) + data.count(b'\n')
        name = '%d.M%dP%dQ%d.popcheck-bench,S=%d,W=%d:2,' % (
            stamp // 1000000, stamp % 1000000, os.getpid(), i, len(data),
            vsize)
        tmp = os.path.join(maildir, 'tmp', name)
        with open(tmp, 'wb') as f:
            f.write(data)
        if as_root:
            os.chown(tmp, env['mail_uid'], env['mail_gid'])
        os.rename(tmp, os.path.join(maildir, 'cur', name))
        total += len(data)
    print(json.dumps({'messages': args.count, 'bytes': total}))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
