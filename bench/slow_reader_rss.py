#!/usr/bin/env python3
"""Server memory per client that sends without reading.

Starts reactord (--bind=127.0.0.1 --port=0 --workers=2, plus the flags given), connects --clients
clients with 64 KiB socket buffers, and has each send 64 KiB chunks (echo: random bytes; ack: bare
newlines) without ever reading, until no client has sent anything for 2 s. Prints the server's RSS
before, at its peak and per client, the bytes its stats line says the connections hold, and its RSS
once the clients are gone (closed, and the server's descriptors back to where they were).

usage: bench/slow_reader_rss.py [--reactord build/server/reactord] [--protocol echo|ack]
                                [--clients 200] [-- extra reactord flags]
"""
import argparse
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def rss_kb(pid):
    with open(f'/proc/{pid}/status') as status:
        return int(re.search(r'^VmRSS:\s+(\d+)', status.read(), re.M).group(1))


def fd_count(pid):
    return len(os.listdir(f'/proc/{pid}/fd'))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--reactord', default=os.path.join(ROOT, 'build/server/reactord'))
    parser.add_argument('--protocol', choices=['echo', 'ack'], default='echo')
    parser.add_argument('--clients', type=int, default=200)
    parser.add_argument('flags', nargs='*', help='more reactord flags, after --')
    args = parser.parse_args()

    server = subprocess.Popen(
        [args.reactord, '--bind=127.0.0.1', '--port=0', '--workers=2', '--stats_interval_s=0',
         f'--protocol={args.protocol}'] + args.flags,
        stderr=subprocess.PIPE, text=True)
    clients = []
    try:
        port = None
        for line in server.stderr:
            match = re.search(r'listening on [\d.]+:(\d+)', line)
            if match:
                port = int(match.group(1))
                break
        if port is None:
            sys.exit(f'reactord did not start (exit {server.wait()})')
        os.set_blocking(server.stderr.fileno(), False)
        time.sleep(0.3)
        baseline_kb, baseline_fds = rss_kb(server.pid), fd_count(server.pid)
        chunk = os.urandom(65536) if args.protocol == 'echo' else b'\n' * 65536
        for _ in range(args.clients):
            client = socket.socket()
            client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
            client.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
            client.connect(('127.0.0.1', port))
            client.setblocking(False)
            clients.append(client)
        last_progress, peak_kb = time.monotonic(), baseline_kb
        while time.monotonic() - last_progress < 2:
            _, writable, _ = select.select([], clients, [], 0.1)
            for client in writable:
                try:
                    if client.send(chunk) > 0:
                        last_progress = time.monotonic()
                except BlockingIOError:
                    pass
            peak_kb = max(peak_kb, rss_kb(server.pid))
        server.send_signal(signal.SIGUSR1)
        time.sleep(0.3)
        held = re.findall(r'buffered_bytes=(\d+)', server.stderr.read() or '')
        for client in clients:
            client.close()
        deadline = time.monotonic() + 10
        while fd_count(server.pid) > baseline_fds and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        print(f'{args.protocol} {" ".join(args.flags)}: RSS {baseline_kb} KiB before, peak '
              f'{peak_kb} KiB, {(peak_kb - baseline_kb) / args.clients:.0f} KiB per client; '
              f'held per the stats line {int(held[-1]) // args.clients // 1024 if held else "?"} '
              f'KiB per client; RSS {rss_kb(server.pid)} KiB once they are gone')
    finally:
        for client in clients:
            client.close()
        server.kill()
        server.wait()


if __name__ == '__main__':
    main()
