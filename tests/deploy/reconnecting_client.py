#!/usr/bin/env python3
"""Load for the scale-out and compose tests: clients that reconnect, and count every lost request.

Each of --connections threads repeats until --duration_s is over (or the file named by
--stop_when_exists appears): connect, send up to --requests_per_conn lines one at a time
(ping-pong), each awaiting its echo, then close and connect again, as clients of a pooled
service do (an HTTP keep-alive limit, a pool's max lifetime). That is what lets a draining
server lose its clients without losing their requests.

Counting, stricter than "a request whose reply was lost":
  - a connect that fails (refused, reset, timeout) is retried after 10 ms: no request was sent;
  - once a request's send has started, anything but its exact echo (EOF, reset, timeout, other
    bytes) is a failure.

Prints one JSON line: {"requests_ok", "failures": {"lost", "mismatches", "timeouts"}, "connects",
"connect_retries", "per_second": [...], ...}; exits 0 when it ran (failures are for the caller to
judge). Python 3 standard library only; written for this test.
"""

import argparse
import json
import os
import socket
import threading
import time


class Totals:
    """Counters shared by the client threads, guarded by `lock`."""

    def __init__(self, seconds):
        self.lock = threading.Lock()
        self.requests_ok = 0
        self.lost = 0
        self.mismatches = 0
        self.timeouts = 0
        self.connects = 0
        self.connect_retries = 0
        self.per_second = [0] * (seconds + 1)
        self.first_failure = None

    def add(self, **counts):
        with self.lock:
            for key, value in counts.items():
                setattr(self, key, getattr(self, key) + value)

    def fail(self, kind, what):
        with self.lock:
            setattr(self, kind, getattr(self, kind) + 1)
            if self.first_failure is None:
                self.first_failure = what


def recv_exact(sock, size):
    """Bytes until `size` arrived or the peer closed (then fewer)."""
    chunks = []
    got = 0
    while got < size:
        chunk = sock.recv(size - got)
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def running(args, deadline):
    """Until the deadline, or until --stop_when_exists names a file that exists."""
    if args.stop_when_exists and os.path.exists(args.stop_when_exists):
        return False
    return time.monotonic() < deadline


def run_client(cid, args, totals, start, deadline):
    seq = 0
    while running(args, deadline):
        try:
            sock = socket.create_connection((args.host, args.port), timeout=args.timeout_s)
        except OSError:
            totals.add(connect_retries=1)
            time.sleep(0.01)
            continue
        totals.add(connects=1)
        with sock:
            sock.settimeout(args.timeout_s)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for _ in range(args.requests_per_conn):
                if not running(args, deadline):
                    break
                seq += 1
                # Every request is exactly --payload_bytes long, so bytes count requests.
                head = b"c%d-r%d-" % (cid, seq)
                line = head + b"x" * (args.payload_bytes - 1 - len(head)) + b"\n"
                try:
                    sock.sendall(line)
                    reply = recv_exact(sock, len(line))
                except socket.timeout:
                    totals.fail("timeouts", f"client {cid} request {seq}: no reply in {args.timeout_s}s")
                    break
                except OSError as e:
                    totals.fail("lost", f"client {cid} request {seq}: {e}")
                    break
                if reply != line:
                    kind = "lost" if len(reply) < len(line) else "mismatches"
                    totals.fail(kind, f"client {cid} request {seq}: sent {len(line)} bytes, got {reply[:60]!r}")
                    break
                if args.think_ms:
                    time.sleep(args.think_ms / 1000)
                second = int(time.monotonic() - start)
                with totals.lock:
                    totals.requests_ok += 1
                    totals.per_second[min(second, len(totals.per_second) - 1)] += 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--connections", type=int, default=6)
    parser.add_argument("--duration_s", type=float, default=10)
    parser.add_argument("--requests_per_conn", type=int, default=20)
    parser.add_argument("--payload_bytes", type=int, default=64)
    parser.add_argument("--timeout_s", type=float, default=3)
    parser.add_argument("--think_ms", type=float, default=0, help="pause after each reply (a slow client)")
    parser.add_argument("--stop_when_exists", default="",
                        help="stop early once this file exists (--duration_s is then the longest run)")
    args = parser.parse_args()
    if args.payload_bytes < 40:
        parser.error("--payload_bytes must be at least 40 (the request id and a newline)")

    start = time.monotonic()
    deadline = start + args.duration_s
    totals = Totals(int(args.duration_s) + 1)
    threads = [threading.Thread(target=run_client, args=(i, args, totals, start, deadline), daemon=True)
               for i in range(args.connections)]
    for t in threads:
        t.start()
    for t in threads:
        # Each thread ends by the deadline plus one request's timeout (plus a connect timeout).
        t.join(timeout=args.duration_s + 3 * args.timeout_s + 5)
    stuck = sum(t.is_alive() for t in threads)
    elapsed = time.monotonic() - start
    print(json.dumps({
        "requests_ok": totals.requests_ok,
        "requests_per_s": round(totals.requests_ok / elapsed, 1),
        "failures": {"lost": totals.lost, "mismatches": totals.mismatches, "timeouts": totals.timeouts,
                     "stuck_clients": stuck},
        "failed_total": totals.lost + totals.mismatches + totals.timeouts + stuck,
        "first_failure": totals.first_failure,
        "connects": totals.connects,
        "connect_retries": totals.connect_retries,
        "request_bytes": args.payload_bytes,
        "elapsed_s": round(elapsed, 2),
        "per_second": totals.per_second,
    }), flush=True)


if __name__ == "__main__":
    main()
