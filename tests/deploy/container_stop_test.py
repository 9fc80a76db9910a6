#!/usr/bin/env python3
"""Check 4 of the container tests: `docker stop` while 20 clients stream data through the echo
protocol. Each client sends pseudo-random bytes and reads the echo as it goes; one second into the
stream `docker stop` (SIGTERM to tini, forwarded to reactord) is issued; each client goes on
sending for a while (up to 1 s more), then half-closes. Every client must get every byte back, in
order, then EOF; the container must exit 0 before the drain deadline (--drain_timeout_s, 5 s by
default; docker stop would SIGKILL at 10 s, exit 137); `docker logs` must hold the `final` stats
line, whose bytes_in and bytes_out equal what the clients sent.
"""

import hashlib
import random
import socket
import sys
import threading
import time

import container_lib as lib

CLIENTS = 20
DRAIN_TIMEOUT_S = 5  # the image's default


class StreamingClient(threading.Thread):
    """Streams until `stop_at` (+ its own extra time), then half-closes and reads to EOF."""

    def __init__(self, index, host, port, stop_issued):
        super().__init__(daemon=True)
        self.index, self.host, self.port = index, host, port
        self.stop_issued = stop_issued
        self.extra_s = random.Random(index).uniform(0.0, 1.0)
        self.sent = hashlib.sha256()
        self.received = hashlib.sha256()
        self.bytes_sent = self.bytes_received = 0
        self.error = None
        self.eof = False

    def run(self):
        rng = random.Random(1000 + self.index)
        try:
            with socket.create_connection((self.host, self.port), timeout=10) as sock:
                sock.settimeout(10)
                stop_sending = None
                while True:
                    if self.stop_issued.is_set() and stop_sending is None:
                        stop_sending = time.monotonic() + self.extra_s
                    if stop_sending is not None and time.monotonic() >= stop_sending:
                        break
                    chunk = rng.randbytes(rng.randint(1, 16384))
                    sock.sendall(chunk)
                    self.sent.update(chunk)
                    self.bytes_sent += len(chunk)
                    self._read_some(sock, block=False)
                sock.shutdown(socket.SHUT_WR)
                while self._read_some(sock, block=True):
                    pass
                self.eof = True
        except OSError as e:
            self.error = f"{type(e).__name__}: {e}"

    def _read_some(self, sock, block):
        sock.setblocking(block)
        if block:
            sock.settimeout(10)
        try:
            data = sock.recv(65536)
        except BlockingIOError:
            return True
        finally:
            sock.settimeout(10)
        if not data:
            return False
        self.received.update(data)
        self.bytes_received += len(data)
        return True


def main():
    lib.start("container.stop")
    lib.need_image()
    # No HEALTHCHECK here: its probes would add their bytes to the counters compared below.
    with lib.Network() as net, lib.Container("stop", network=net, options=["--no-healthcheck"],
                                             health_fast=False) as c:
        c.wait_log("listening on", timeout=60)
        host = c.ip()
        stop_issued = threading.Event()
        clients = [StreamingClient(i, host, 7000, stop_issued) for i in range(CLIENTS)]
        for client in clients:
            client.start()
        lib.wait_until(lambda: all(cl.bytes_received > 0 for cl in clients) or any(cl.error for cl in clients),
                       30, "every client to get echo bytes")
        time.sleep(1.0)  # one second of streaming before the stop (the load, not a wait for a state)
        stop_issued.set()
        t0 = time.monotonic()
        r = lib.docker("stop", c.name, timeout=60)
        stop_s = time.monotonic() - t0
        for client in clients:
            client.join(timeout=30)
        exit_code = c.wait_exit()
        logs = c.logs()

        sent = sum(cl.bytes_sent for cl in clients)
        received = sum(cl.bytes_received for cl in clients)
        intact = [cl for cl in clients if cl.eof and not cl.error and cl.sent.digest() == cl.received.digest()]
        for cl in clients:
            if cl not in intact:
                lib.log(f"client {cl.index}: sent {cl.bytes_sent}, received {cl.bytes_received}, eof {cl.eof}, error {cl.error}")
        lib.check(len(intact) == CLIENTS,
                  f"{len(intact)} of {CLIENTS} clients got every byte back in order, then EOF "
                  f"({sent} bytes sent, {received} received in all)")
        lib.check(r.returncode == 0 and exit_code == 0, f"container exit code {exit_code}")
        lib.check(stop_s < DRAIN_TIMEOUT_S + 1, f"docker stop took {stop_s:.2f} s (drain deadline {DRAIN_TIMEOUT_S} s)")
        final = lib.stats_line(logs, "final")
        lib.check(bool(final), "docker logs holds the final stats line: " +
                  next((l for l in logs.splitlines() if "] final " in l), "none")[:400])
        lib.check(final.get("bytes_in") == str(sent) and final.get("bytes_out") == str(sent),
                  f"final line: bytes_in={final.get('bytes_in')} bytes_out={final.get('bytes_out')}, clients sent {sent}")
        lib.check(final.get("forced_closed") == "0", f"final line: forced_closed={final.get('forced_closed')}")
        for line in logs.splitlines():
            if "draining" in line or "drain:" in line or "shutdown: done" in line:
                lib.log("    " + line[:200])
    return lib.finish()


if __name__ == "__main__":
    sys.exit(main())
