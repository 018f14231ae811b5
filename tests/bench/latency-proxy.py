#!/usr/bin/python3
# latency-proxy.py: a TCP proxy on loopback that delays every byte.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
#   latency-proxy.py serve --target HOST:PORT --delay-ms D [--rate RATE]
#                          [--lifetime S] [--stats FILE]
#       Listens on a free port of 127.0.0.1 and prints "PORT\n" when ready.
#       Every chunk is delivered D ms after it arrived, in each direction,
#       in order, so a round trip through the proxy costs 2 D.  With
#       --rate, each direction is also a line of that bandwidth (a token
#       bucket): bytes leave no faster than RATE, then take D ms to arrive.
#       RATE is a number with a unit, as tc(8) writes them: bit, kbit,
#       mbit, gbit (bits a second, in powers of 1000), bps, kbps, mbps,
#       gbps or no unit (bytes a second); "10mbit" is 1,250,000 bytes a
#       second.  The
#       connection to the target is opened 3 D after the client's, so that
#       the greeting arrives 2 RTT after connect(), as over a real link
#       (SYN, SYN-ACK, ACK, then the server's first bytes).  One JSON line
#       per finished connection is appended to FILE: bytes each way.
#       The proxy exits after S seconds (default 3600) whatever happens:
#       a benchmark that dies must not leave it behind forever.
#
#   latency-proxy.py bulk [--megabytes N] [--rate RATE]
#       Measures what the proxy itself can carry at 0 ms: a local source
#       sends N MiB through a `serve` proxy (a process of its own, as in
#       the benchmark) to a reader.  Prints one JSON line with bytes/s.
#       This is the "loopback throughput" of the benchmark's lower bound;
#       with --rate, it shows that the proxy keeps to that rate.
#
#   latency-proxy.py rate RATE
#       Prints RATE in bytes a second.
#
# Without --rate, data is delayed per chunk, not per byte: a chunk read at
# t is written at t + D as a whole, which models latency alone.  With
# --rate, chunks are cut into slices of about a millisecond of the line
# (an Ethernet frame at least), each leaving when the bucket has the
# tokens for it, so the reader sees a steady stream at the line's rate.

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time

HOST = '127.0.0.1'
CHUNK = 256 * 1024
# Unbounded queues would let a fast sender fill memory while the delay
# holds data back; this is far more than any bandwidth-delay product here.
QUEUE_LIMIT = 4096
# The smallest slice of a rate-limited line: one Ethernet frame's payload.
MIN_SLICE = 1500

RATE_UNITS = {
    '': 1, 'bps': 1, 'kbps': 1000, 'mbps': 1000 ** 2, 'gbps': 1000 ** 3,
    'bit': 1 / 8, 'kbit': 1000 / 8, 'mbit': 1000 ** 2 / 8,
    'gbit': 1000 ** 3 / 8,
}


def parse_rate(text):
    """Bytes a second for a rate as tc(8) writes it ("10mbit")."""
    number = text.strip().lower()
    unit = ''
    while number and not (number[-1].isdigit() or number[-1] == '.'):
        unit = number[-1] + unit
        number = number[:-1]
    if unit not in RATE_UNITS:
        raise ValueError('unknown unit "%s" in the rate "%s"; use bit, '
                         'kbit, mbit, gbit, bps, kbps, mbps or gbps'
                         % (unit, text))
    try:
        rate = float(number) * RATE_UNITS[unit]
    except ValueError:
        raise ValueError('"%s" is not a rate, such as 10mbit' % text) \
            from None
    if not rate > 0:
        raise ValueError('the rate "%s" is not above zero' % text)
    return rate


def slice_size(rate):
    """Bytes sent as one piece on a line of @rate bytes a second: about a
    millisecond's worth, and never less than a frame."""
    return max(MIN_SLICE, int(rate / 1000))


class TokenBucket:
    """A line of @rate bytes a second: sending takes tokens, which come
    back at that rate up to @burst.  Tokens may go below zero; the time
    it takes them to come back to zero is how long the bytes wait."""

    def __init__(self, rate, burst, now):
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.stamp = now

    def wait(self, size, now):
        """Takes @size bytes at @now; returns the seconds they wait for
        the line."""
        self.tokens = min(self.burst,
                          self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        self.tokens -= size
        if self.tokens >= 0:
            return 0.0
        return -self.tokens / self.rate


async def pump(reader, writer, delay, rate, counter, key):
    """Copies @reader to @writer, each chunk @delay seconds late, in order;
    with @rate (bytes a second), no faster than that."""
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue(QUEUE_LIMIT)
    bucket = None
    piece = CHUNK
    if rate:
        piece = slice_size(rate)
        bucket = TokenBucket(rate, piece, loop.time())

    async def receive():
        while True:
            data = await reader.read(CHUNK)
            for start in range(0, max(len(data), 1), piece):
                part = data[start:start + piece]
                now = loop.time()
                wait = bucket.wait(len(part), now) if bucket else 0.0
                await queue.put((now + wait + delay, part))
            if not data:
                return

    async def deliver():
        while True:
            deliver_at, data = await queue.get()
            wait = deliver_at - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                if writer.can_write_eof():
                    writer.write_eof()
                return
            counter[key] += len(data)
            writer.write(data)
            await writer.drain()

    receiving = asyncio.ensure_future(receive())
    try:
        await deliver()
    finally:
        receiving.cancel()


async def handle(client_reader, client_writer, target, delay, rate, stats):
    counter = {'up': 0, 'down': 0}
    started = time.monotonic()
    sock = client_writer.get_extra_info('socket')
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        # The rest of the three-way handshake, and the server's accept.
        await asyncio.sleep(3 * delay)
        server_reader, server_writer = await asyncio.open_connection(*target)
        server_writer.get_extra_info('socket').setsockopt(
            socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:
        client_writer.close()
        return
    try:
        await asyncio.gather(
            pump(client_reader, server_writer, delay, rate, counter, 'up'),
            pump(server_reader, client_writer, delay, rate, counter, 'down'))
    except (ConnectionError, OSError):
        pass
    finally:
        for w in (client_writer, server_writer):
            w.close()
    if stats:
        counter['seconds'] = round(time.monotonic() - started, 6)
        # On the system's monotonic clock, which a client's log can be
        # timed against.
        counter['started'] = started
        with open(stats, 'a', encoding='utf-8') as f:
            f.write(json.dumps(counter) + '\n')


async def serve(args):
    host, port = args.target.rsplit(':', 1)
    target = (host, int(port))
    delay = args.delay_ms / 1000.0

    server = await asyncio.start_server(
        lambda r, w: handle(r, w, target, delay, args.rate, args.stats),
        HOST, 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    try:
        await asyncio.wait_for(server.serve_forever(), args.lifetime)
    except asyncio.TimeoutError:
        pass


def bulk(args):
    total = args.megabytes * 1024 * 1024
    block = b'x' * CHUNK

    source = socket.socket()
    source.bind((HOST, 0))
    source.listen(1)

    def send():
        conn, _ = source.accept()
        with conn:
            sent = 0
            while sent < total:
                conn.sendall(block)
                sent += len(block)
            conn.shutdown(socket.SHUT_WR)

    threading.Thread(target=send, daemon=True).start()
    proxy = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), 'serve',
         '--target', '%s:%d' % (HOST, source.getsockname()[1]),
         '--delay-ms', '0', '--lifetime', '120']
        + (['--rate', args.rate_text] if args.rate_text else []),
        stdout=subprocess.PIPE, text=True)
    try:
        port = int(proxy.stdout.readline())
        buf = bytearray(CHUNK)
        received = 0
        with socket.create_connection((HOST, port)) as sock:
            started = time.monotonic()
            while True:
                n = sock.recv_into(buf)
                if n == 0:
                    break
                received += n
            elapsed = time.monotonic() - started
    finally:
        proxy.terminate()
        proxy.wait()
    print(json.dumps({'bytes': received, 'seconds': round(elapsed, 6),
                      'bytes_per_second': round(received / elapsed)}))


def rate_argument(text):
    try:
        return parse_rate(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def main(argv):
    parser = argparse.ArgumentParser(prog='latency-proxy.py')
    sub = parser.add_subparsers(dest='command', required=True)
    p = sub.add_parser('serve')
    p.add_argument('--target', required=True, metavar='HOST:PORT')
    p.add_argument('--delay-ms', type=float, default=10.0,
                   help='one-way delay, each direction (default 10)')
    p.add_argument('--rate', type=rate_argument,
                   help='bandwidth, each direction, as 10mbit (default: '
                   'none)')
    p.add_argument('--lifetime', type=float, default=3600.0)
    p.add_argument('--stats', metavar='FILE')
    p = sub.add_parser('bulk')
    p.add_argument('--megabytes', type=int, default=256)
    p.add_argument('--rate', dest='rate_text', metavar='RATE',
                   type=lambda text: rate_argument(text) and text)
    p = sub.add_parser('rate')
    p.add_argument('rate', type=rate_argument)
    args = parser.parse_args(argv)

    if args.command == 'rate':
        print(round(args.rate))
    elif args.command == 'serve':
        try:
            asyncio.run(serve(args))
        except KeyboardInterrupt:
            pass
    else:
        bulk(args)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
