#!/usr/bin/python3
# latency-proxy.py: a TCP proxy on loopback that delays every byte.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
#   latency-proxy.py serve --target HOST:PORT --delay-ms D [--lifetime S]
#                          [--stats FILE]
#       Listens on a free port of 127.0.0.1 and prints "PORT\n" when ready.
#       Every chunk is delivered D ms after it arrived, in each direction,
#       in order, so a round trip through the proxy costs 2 D.  The
#       connection to the target is opened 3 D after the client's, so that
#       the greeting arrives 2 RTT after connect(), as over a real link
#       (SYN, SYN-ACK, ACK, then the server's first bytes).  One JSON line
#       per finished connection is appended to FILE: bytes each way.
#       The proxy exits after S seconds (default 3600) whatever happens:
#       a benchmark that dies must not leave it behind forever.
#
#   latency-proxy.py bulk [--megabytes N]
#       Measures what the proxy itself can carry at 0 ms: a local source
#       sends N MiB through a `serve` proxy (a process of its own, as in
#       the benchmark) to a reader.  Prints one JSON line with bytes/s.
#       This is the "loopback throughput" of the benchmark's lower bound.
#
# Data is delayed per chunk, not per byte: a chunk read at t is written at
# t + D as a whole.  That models latency, not bandwidth, which is what
# pipelining is about.

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


async def pump(reader, writer, delay, counter, key):
    """Copies @reader to @writer, each chunk @delay seconds late, in order."""
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue(QUEUE_LIMIT)

    async def receive():
        while True:
            data = await reader.read(CHUNK)
            await queue.put((loop.time() + delay, data))
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


async def handle(client_reader, client_writer, target, delay, stats):
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
            pump(client_reader, server_writer, delay, counter, 'up'),
            pump(server_reader, client_writer, delay, counter, 'down'))
    except (ConnectionError, OSError):
        pass
    finally:
        for w in (client_writer, server_writer):
            w.close()
    if stats:
        counter['seconds'] = round(time.monotonic() - started, 6)
        with open(stats, 'a', encoding='utf-8') as f:
            f.write(json.dumps(counter) + '\n')


async def serve(args):
    host, port = args.target.rsplit(':', 1)
    target = (host, int(port))
    delay = args.delay_ms / 1000.0

    server = await asyncio.start_server(
        lambda r, w: handle(r, w, target, delay, args.stats), HOST, 0)
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
         '--delay-ms', '0', '--lifetime', '120'],
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


def main(argv):
    parser = argparse.ArgumentParser(prog='latency-proxy.py')
    sub = parser.add_subparsers(dest='command', required=True)
    p = sub.add_parser('serve')
    p.add_argument('--target', required=True, metavar='HOST:PORT')
    p.add_argument('--delay-ms', type=float, default=10.0,
                   help='one-way delay, each direction (default 10)')
    p.add_argument('--lifetime', type=float, default=3600.0)
    p.add_argument('--stats', metavar='FILE')
    p = sub.add_parser('bulk')
    p.add_argument('--megabytes', type=int, default=256)
    args = parser.parse_args(argv)

    if args.command == 'serve':
        try:
            asyncio.run(serve(args))
        except KeyboardInterrupt:
            pass
    else:
        bulk(args)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
