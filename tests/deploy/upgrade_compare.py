#!/usr/bin/env python3
"""Replacing a running reactord under load: what each way of doing it costs the clients.

Load, for --duration_s seconds, against 127.0.0.1 inside a network namespace made for the run:
  - reactor-bench --mode=churn --connect_rate=R: R new connections per second on a fixed schedule
    (open loop), each sending one message and checking its echo;
  - reactor-bench --mode=rate: --streams long-lived connections, each sending a 1 KiB message every
    2 ms (open loop) whose echo is checked byte for byte, open before the replacement and still
    streaming --stream_tail_s seconds after it (a steady rate, so that the streams do not take
    the CPU that the connect schedule needs on a small machine).
After --replace_at_s seconds the server is replaced, one way per scenario:
  stop-start   SIGTERM the old process (it drains: refuses new connects, serves its open streams),
               wait for it to exit, start the new one;
  beside       start the new one beside it on the same port (SO_REUSEPORT), then SIGTERM the old
               one; with net.ipv4.tcp_migrate_req 0 and 1. reactord refuses to start on a busy
               port, so this uses reactord-beside-for-tests, the same main.cc built with that
               check off (a test-only binary, never installed);
  takeover     start the new one with --takeover_from: it receives the old one's listening sockets,
               the old one stops accepting and drains; tcp_migrate_req 0.
Counted per scenario (both clients): refused connects, connect timeouts, resets, short or wrong
echoes (timeouts and mismatches), the old process's exit code. Prints the table; with --assert,
exits 1 unless the takeover had no failure of any kind and the old process exited 0 while
stop-start did show failures (so that this test can fail).

Exits 77 (CTest skip) when it cannot make a network namespace (not root) or `ip` is missing.
The namespace and every process are removed on every way out; children die with this script
(PR_SET_PDEATHSIG); a later run deletes namespaces left by a run that was SIGKILLed.
"""

import argparse
import ctypes
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SKIP = 77
PREFIX = "rdup"  # namespace names: rdup<pid>
PORT = 7000
SCENARIOS = [("stop-start", 0), ("beside", 0), ("beside", 1), ("takeover", 0)]


def log(msg):
    print(f"[upgrade-compare {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def die_with_parent():
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def run(*cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=20)


class Comparison:
    """Owns the namespace, the processes and the temporary directory of one run."""

    def __init__(self, args):
        self.args = args
        self.ns = f"{PREFIX}{os.getpid()}"
        self.dir = tempfile.mkdtemp(prefix=f"{self.ns}-")
        self.procs = []
        self.ns_made = False

    def remove_stale_namespaces(self):
        for line in run("ip", "netns", "list", check=False).stdout.splitlines():
            name = line.split()[0] if line.split() else ""
            match = re.fullmatch(PREFIX + r"(\d+)", name)
            if match and not os.path.exists(f"/proc/{match.group(1)}"):
                for pid in run("ip", "netns", "pids", name, check=False).stdout.split():
                    run("kill", "-9", pid, check=False)
                run("ip", "netns", "delete", name, check=False)

    def setup(self):
        """False when no network namespace can be made here (a build container, say)."""
        self.remove_stale_namespaces()
        made = run("ip", "netns", "add", self.ns, check=False)
        if made.returncode != 0:
            print(f"SKIP: cannot make a network namespace: {made.stderr.strip()}")
            return False
        self.ns_made = True
        up = run("ip", "-n", self.ns, "link", "set", "lo", "up", check=False)
        if up.returncode != 0:
            # A chroot without its own /run/netns mount, say: the name exists, the namespace not.
            print(f"SKIP: cannot use the network namespace {self.ns}: {up.stderr.strip()}")
            return False
        return True

    def cleanup(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if self.ns_made:
            for pid in run("ip", "netns", "pids", self.ns, check=False).stdout.split():
                run("kill", "-9", pid, check=False)
            run("ip", "netns", "delete", self.ns, check=False)
        if not self.args.keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    def spawn(self, name, cmd):
        path = os.path.join(self.dir, name + ".log")
        out = open(path, "w")
        proc = subprocess.Popen(["ip", "netns", "exec", self.ns, *cmd], stdout=out,
                                stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
        proc.log_path = path
        self.procs.append(proc)
        return proc

    @staticmethod
    def read(proc):
        with open(proc.log_path) as f:
            return f.read()

    def start_server(self, name, binary, extra):
        proc = self.spawn(name, [binary, "--bind=127.0.0.1", f"--port={PORT}",
                                 f"--workers={self.args.workers}",
                                 f"--drain_timeout_s={self.args.drain_timeout_s}",
                                 "--stats_interval_s=0", *extra])
        deadline = time.monotonic() + 15
        while "listening on" not in self.read(proc):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start (exit {proc.poll()}):\n" + self.read(proc))
            time.sleep(0.01)
        return proc

    def wait(self, proc, timeout, what):
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"{what} still running after {timeout}s:\n" + self.read(proc))

    def scenario(self, method, migrate):
        a = self.args
        run("ip", "netns", "exec", self.ns, "sysctl", "-qw", f"net.ipv4.tcp_migrate_req={migrate}")
        control = os.path.join(self.dir, "control")
        takeover = method == "takeover"
        old = self.start_server(f"{method}{migrate}-old", a.reactord,
                                [f"--control_socket={control}"] if takeover else [])
        bench = [a.bench, "--host=127.0.0.1", f"--port={PORT}", "--warmup_s=0", "--json",
                 "--progress=false"]
        churn = self.spawn(f"{method}{migrate}-churn", [
            *bench, "--mode=churn", f"--connect_rate={a.connect_rate}",
            f"--connections={a.churn_slots}", "--threads=2", f"--duration_s={a.duration_s}",
            "--timeout_ms=3000"])
        streams = self.spawn(f"{method}{migrate}-streams", [
            *bench, "--mode=rate", f"--connections={a.streams}", f"--rate={a.streams * 500}",
            "--message_bytes=1024", f"--duration_s={a.replace_at_s + a.stream_tail_s}",
            "--timeout_ms=5000"])
        time.sleep(a.replace_at_s)  # the scenario's schedule: the load runs meanwhile
        replaced_at = time.monotonic()
        if method == "stop-start":
            old.send_signal(signal.SIGTERM)
            self.wait(old, a.drain_timeout_s + 15, "the old reactord")
            new = self.start_server(f"{method}{migrate}-new", a.reactord, [])
        elif method == "beside":
            new = self.start_server(f"{method}{migrate}-new", a.beside, [])
            old.send_signal(signal.SIGTERM)
        else:
            new = self.start_server(f"{method}{migrate}-new", a.reactord,
                                    [f"--takeover_from={control}", f"--control_socket={control}"])
        gap = time.monotonic() - replaced_at
        self.wait(churn, a.duration_s + 30, "reactor-bench churn")
        self.wait(streams, a.duration_s + 30, "reactor-bench bulk")
        old_exit = self.wait(old, a.drain_timeout_s + 15, "the old reactord")
        new.send_signal(signal.SIGTERM)
        new_exit = self.wait(new, a.drain_timeout_s + 15, "the new reactord")
        results = [json.loads(self.read(p).splitlines()[-1]) for p in (churn, streams)]
        errors = [r["errors"] for r in results]
        row = {
            "method": method,
            "tcp_migrate_req": migrate,
            "connects": results[0]["connects"],
            "refused": sum(e["connect_refused"] for e in errors),
            "connect_timeouts": sum(e["connect_timeouts"] for e in errors),
            "other_connect_failures": sum(e["connect_failures"] - e["connect_refused"] -
                                          e["connect_timeouts"] for e in errors),
            "resets": sum(e["resets"] for e in errors),
            "short_or_wrong": sum(e["mismatches"] + e["timeouts"] for e in errors),
            "missed_connects": results[0]["missed_connects"],
            "stream_messages": results[1]["messages"],
            "replace_s": round(gap, 3),
            "old_exit": old_exit,
            "new_exit": new_exit,
        }
        log(json.dumps(row))
        return row


def print_table(rows, args):
    print()
    print(f"connect rate {args.connect_rate}/s for {args.duration_s} s, {args.streams} streams, "
          f"replacement at {args.replace_at_s} s, {args.workers} workers, drain up to "
          f"{args.drain_timeout_s} s")
    print("| method | tcp_migrate_req | connects ok | refused | connect timeouts | resets "
          "| short/wrong echoes | missed connects | stream echoes checked | old exit |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        failures = r["other_connect_failures"]
        print(f"| {r['method']} | {r['tcp_migrate_req']} | {r['connects']} | {r['refused']} "
              f"| {r['connect_timeouts']} | {r['resets']} | {r['short_or_wrong']} "
              f"| {r['missed_connects']} | {r['stream_messages']} | {r['old_exit']} |" +
              (f" (+{failures} other connect failures)" if failures else ""))
    print()


def failures(row):
    return (row["refused"] + row["connect_timeouts"] + row["other_connect_failures"] +
            row["resets"] + row["short_or_wrong"])


def check(rows):
    problems = []
    for row in rows:
        if row["new_exit"] != 0:
            problems.append(f"{row['method']}: the new reactord exited {row['new_exit']}")
        if row["method"] == "takeover":
            if failures(row) != 0 or row["missed_connects"] != 0 or row["old_exit"] != 0:
                problems.append(f"takeover was not clean: {row}")
            if row["connects"] == 0 or row["stream_messages"] == 0:
                problems.append(f"takeover carried no load: {row}")
        if row["method"] == "stop-start" and failures(row) == 0:
            problems.append(f"stop-start showed no failure, so this test could not fail: {row}")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reactord", required=True)
    parser.add_argument("--beside", required=True, help="reactord-beside-for-tests")
    parser.add_argument("--bench", required=True, help="reactor-bench")
    parser.add_argument("--connect_rate", type=int, default=3000)
    parser.add_argument("--churn_slots", type=int, default=1000)
    parser.add_argument("--streams", type=int, default=8)
    parser.add_argument("--duration_s", type=float, default=7)
    parser.add_argument("--replace_at_s", type=float, default=2.5)
    parser.add_argument("--stream_tail_s", type=float, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--drain_timeout_s", type=int, default=10)
    parser.add_argument("--scenarios", default="all",
                        help="comma-separated method:migrate pairs, e.g. takeover:0 (default all)")
    parser.add_argument("--assert", dest="check", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the logs' directory")
    args = parser.parse_args()

    if os.geteuid() != 0 or shutil.which("ip") is None:
        print("SKIP: needs root and iproute2 to make a network namespace")
        return SKIP
    scenarios = SCENARIOS
    if args.scenarios != "all":
        scenarios = [(m, int(v)) for m, v in (s.split(":") for s in args.scenarios.split(","))]
    comparison = Comparison(args)

    def on_signal(number, frame):
        comparison.cleanup()
        sys.exit(128 + number)

    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(number, on_signal)
    try:
        if not comparison.setup():
            return SKIP
        rows = [comparison.scenario(method, migrate) for method, migrate in scenarios]
    finally:
        comparison.cleanup()
    print_table(rows, args)
    if args.check:
        problems = check(rows)
        for problem in problems:
            print("FAIL: " + problem)
        if problems:
            return 1
        print("PASS: takeover without a failed, reset or short-changed client; stop-start "
              "had failures")
    return 0


if __name__ == "__main__":
    sys.exit(main())
