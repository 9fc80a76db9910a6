#!/usr/bin/env python3
"""Scale-out test: three reactord instances behind HAProxy, one of them stopped mid-run.

Shape (the same as deploy/k8s: pods behind a Service, or deploy/compose):

    netns <run>-lb:  HAProxy on 127.0.0.1:7000 (mode tcp, roundrobin, GET /readyz on each
                     instance's admin port 9100 every 200 ms, retries + redispatch) and the clients
      veth s1 10.213.1.1/24 <-> eth0 10.213.1.2/24  netns <run>-s1: reactord --bind=10.213.1.2
      veth s2 10.213.2.1/24 <-> eth0 10.213.2.2/24  netns <run>-s2: reactord --bind=10.213.2.2
      veth s3 10.213.3.1/24 <-> eth0 10.213.3.2/24  netns <run>-s3: reactord --bind=10.213.3.2

The addresses exist only inside the test's own namespaces, which have no route anywhere else:
no packet leaves the machine, nothing is added to the root namespace.

Run: load through HAProxy for --duration_s (reconnecting_client.py, and reactor-bench
--mode=churn when --bench names it), plus one slow client straight to instance 2 whose
connection spans the stop; after --stop_after_s, SIGTERM instance 2 (it drains:
accepts what is queued, closes its listeners, serves its open connections until their clients
close, exits 0). Passes when: zero failed requests; every instance served a fair share before the
stop (HAProxy's per-server byte counts); the stopped instance served the slow client's
connection to its end, then exited 0 within its drain deadline with no connection closed by force, and got no more requests after HAProxy marked it down while
the other two carried on; the other two exit 0 on SIGTERM at the end.

Exits 77 (CTest skip) with the reason when it cannot create network namespaces (not root, no
CAP_NET_ADMIN) or haproxy / ip is missing. Everything it starts is stopped, and its namespaces
deleted, on every way out (finally + SIGTERM/SIGINT/SIGHUP handlers); if the test itself is
SIGKILLed its children die with it (PR_SET_PDEATHSIG), and the next run deletes the namespaces
it left (and kills anything still in them).
"""

import argparse
import ctypes
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SKIP = 77
PREFIX = "rdso"  # namespace names: rdso<pid>-lb, rdso<pid>-s1 ...
DRAIN_TIMEOUT_S = 5
PORT = 7000
ADMIN_PORT = 9100  # reactord's admin endpoint: HAProxy checks /readyz there, as deploy/compose does


def log(msg):
    print(f"[scale-out {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def die_with_parent():
    """Child side of Popen: SIGKILL when this test dies, even by SIGKILL (a CTest timeout)."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def run(*cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=20)


class ScaleOut:
    """Owns the namespaces, the processes and the temporary directory of one run."""

    def __init__(self, args):
        self.args = args
        self.run_id = f"{PREFIX}{os.getpid()}"
        self.lb_ns = f"{self.run_id}-lb"
        self.server_ns = [f"{self.run_id}-s{i}" for i in (1, 2, 3)]
        self.namespaces = []
        self.procs = {}  # name -> Popen
        self.logs = {}   # name -> path
        self.dir = tempfile.mkdtemp(prefix=f"{self.run_id}-")

    # --- setup -------------------------------------------------------------------------------

    def remove_stale_namespaces(self):
        out = run("ip", "netns", "list", check=False).stdout
        for m in re.finditer(rf"^({PREFIX}(\d+)-\S+)", out, re.M):
            name, pid = m.group(1), int(m.group(2))
            if not os.path.exists(f"/proc/{pid}"):
                log(f"deleting namespace {name} left by run {pid}, and what still runs in it")
                for leftover in run("ip", "netns", "pids", name, check=False).stdout.split():
                    try:
                        os.kill(int(leftover), signal.SIGKILL)
                    except (ProcessLookupError, ValueError):
                        pass
                run("ip", "netns", "del", name, check=False)

    def create_network(self):
        for ns in [self.lb_ns] + self.server_ns:
            run("ip", "netns", "add", ns)
            self.namespaces.append(ns)
            run("ip", "-n", ns, "link", "set", "lo", "up")
        # Some 40,000 short connections in 12 s start in the lb namespace (clients to HAProxy,
        # HAProxy to the instances), each leaving a TIME_WAIT: the default 28,000 ephemeral ports
        # run out and connect() slows down. Per-namespace settings, this test's namespace only.
        run("ip", "netns", "exec", self.lb_ns, "sysctl", "-q", "-w", "net.ipv4.ip_local_port_range=1024 65535")
        run("ip", "netns", "exec", self.lb_ns, "sysctl", "-q", "-w", "net.ipv4.tcp_tw_reuse=1")
        for i, ns in enumerate(self.server_ns, start=1):
            # Both ends are created inside the test's namespaces: nothing in the root namespace.
            run("ip", "-n", self.lb_ns, "link", "add", f"s{i}", "type", "veth", "peer", "name", "eth0", "netns", ns)
            run("ip", "-n", self.lb_ns, "addr", "add", f"10.213.{i}.1/24", "dev", f"s{i}")
            run("ip", "-n", ns, "addr", "add", f"10.213.{i}.2/24", "dev", "eth0")
            run("ip", "-n", self.lb_ns, "link", "set", f"s{i}", "up")
            run("ip", "-n", ns, "link", "set", "eth0", "up")

    def spawn(self, name, ns, cmd, stdout=None):
        path = os.path.join(self.dir, f"{name}.log")
        self.logs[name] = path
        with open(path, "w") as err:
            # `ip netns exec` execs the command: the pid is the program's own, signals reach it.
            self.procs[name] = subprocess.Popen(["ip", "netns", "exec", ns] + cmd, stdout=stdout or err,
                                                stderr=err, stdin=subprocess.DEVNULL,
                                                env=dict(os.environ, GLOG_logtostderr="1"),
                                                preexec_fn=die_with_parent)
        return self.procs[name]

    def read_log(self, name):
        with open(self.logs[name], errors="replace") as f:
            return f.read()

    def start_servers(self):
        for i, ns in enumerate(self.server_ns, start=1):
            self.spawn(f"r{i}", ns, [self.args.reactord, f"--bind=10.213.{i}.2", f"--port={PORT}",
                                     "--protocol=echo", f"--workers={self.args.workers}",
                                     f"--drain_timeout_s={DRAIN_TIMEOUT_S}", "--stats_interval_s=0",
                                     f"--admin_bind=10.213.{i}.2", f"--admin_port={ADMIN_PORT}"])
        deadline = time.monotonic() + 10
        for i in (1, 2, 3):
            want = f"listening on 10.213.{i}.2:{PORT}"
            while want not in self.read_log(f"r{i}"):
                if self.procs[f"r{i}"].poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"r{i} did not log '{want}':\n{self.read_log(f'r{i}')}")
                time.sleep(0.05)
        log("reactord r1 r2 r3 listening: " + ", ".join(
            re.search(r"listening on \S+ workers=\d+", self.read_log(f"r{i}")).group(0) for i in (1, 2, 3)))

    def start_haproxy(self):
        cfg = os.path.join(self.dir, "haproxy.cfg")
        self.stats_sock = os.path.join(self.dir, "haproxy.sock")
        servers = "\n".join(f"    server r{i} 10.213.{i}.2:{PORT}" for i in (1, 2, 3))
        with open(cfg, "w") as f:
            f.write(f"""global
    stats socket {self.stats_sock} mode 600 level admin
    maxconn 2000
defaults
    mode tcp
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    retries 3
    option redispatch 1
frontend fe
    bind 127.0.0.1:{PORT}
    default_backend be
backend be
    balance roundrobin
    option httpchk
    http-check send meth GET uri /readyz
    http-check expect status 200
    default-server check port {ADMIN_PORT} inter 200ms fall 2 rise 2
{servers}
""")
        run("haproxy", "-c", "-q", "-f", cfg)
        self.spawn("haproxy", self.lb_ns, ["haproxy", "-db", "-f", cfg])
        deadline = time.monotonic() + 10
        while True:
            if self.procs["haproxy"].poll() is not None:
                raise AssertionError(f"haproxy exited:\n{self.read_log('haproxy')}")
            stats = self.haproxy_stats() if os.path.exists(self.stats_sock) else {}
            if stats and all(stats.get(f"r{i}", {}).get("status") == "UP" for i in (1, 2, 3)):
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"HAProxy did not see r1 r2 r3 UP: {stats}")
            time.sleep(0.1)
        log("HAProxy: r1 r2 r3 UP (/readyz checks on the admin port)")

    # --- observation ---------------------------------------------------------------------------

    def haproxy_stats(self):
        """Per-server rows of `show stat`: status, stot (sessions), bin (bytes from clients)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(2)
            s.connect(self.stats_sock)
            s.sendall(b"show stat\n")
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        lines = data.decode().splitlines()
        header = lines[0].lstrip("# ").split(",")
        rows = {}
        for line in lines[1:]:
            row = dict(zip(header, line.split(",")))
            if row.get("pxname") == "be" and row.get("svname", "").startswith("r"):
                rows[row["svname"]] = {"status": row["status"], "stot": int(row["stot"] or 0),
                                       "bin": int(row["bin"] or 0)}
        return rows

    def final_stats(self, name):
        """key=value pairs of the server's `final` stats line (whole run: --stats_interval_s=0)."""
        lines = [l for l in self.read_log(name).splitlines() if re.search(r"\bfinal\b.*\baccepted=", l)]
        if not lines:
            return {}
        return dict(kv.split("=", 1) for kv in lines[-1].split() if "=" in kv)

    # --- the run -------------------------------------------------------------------------------

    def run_load(self):
        a = self.args
        client = self.spawn("client", self.lb_ns, [
            sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "reconnecting_client.py"),
            "--host=127.0.0.1", f"--port={PORT}", f"--connections={a.connections}",
            f"--duration_s={a.duration_s}", f"--requests_per_conn={a.requests_per_conn}", "--payload_bytes=64"],
            stdout=subprocess.PIPE)
        bench = None
        if a.bench:
            # reactor-bench's churn mode is a reconnecting client too: connect, one message, close.
            bench = self.spawn("bench", self.lb_ns, [
                a.bench, "--host=127.0.0.1", f"--port={PORT}", "--mode=churn", "--connections=4",
                "--message_bytes=64", f"--duration_s={a.duration_s}", "--warmup_s=0", "--timeout_ms=3000",
                "--json", "--progress=false"], stdout=subprocess.PIPE)
        start = time.monotonic()
        log(f"load: {a.connections} reconnecting clients through HAProxy for {a.duration_s}s, "
            f"{a.requests_per_conn} requests per connection"
            + (", and reactor-bench --mode=churn --connections=4" if bench else ""))

        # A slow client straight to r2 (no HAProxy), whose one connection spans the SIGTERM: 30
        # requests 100 ms apart from 1 s before the stop. The drain must serve all of them, and
        # r2 must wait for it (about 2 s), then exit well before its 5 s deadline.
        time.sleep(max(0, a.stop_after_s - 1))
        held = self.spawn("held", self.lb_ns, [
            sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "reconnecting_client.py"),
            "--host=10.213.2.2", f"--port={PORT}", "--connections=1", "--duration_s=3.5",
            "--requests_per_conn=30", "--think_ms=100", "--payload_bytes=64"], stdout=subprocess.PIPE)
        time.sleep(1)
        before = self.haproxy_stats()
        r2 = self.procs["r2"]
        r2.send_signal(getattr(signal, a.stop_signal))
        t_term = time.monotonic()
        log(f"t={t_term - start:.1f}s {a.stop_signal} to r2 (pid {r2.pid})")
        try:
            r2_rc = r2.wait(timeout=DRAIN_TIMEOUT_S + 3)
        except subprocess.TimeoutExpired:
            r2_rc = None
        r2_exit_s = time.monotonic() - t_term
        log(f"r2 exited with {r2_rc} after {r2_exit_s:.2f}s")
        # HAProxy marks r2 down within fall x inter (2 x 200 ms) of its listeners closing.
        down_deadline = time.monotonic() + 3
        while self.haproxy_stats()["r2"]["status"] != "DOWN" and time.monotonic() < down_deadline:
            time.sleep(0.05)
        at_down = self.haproxy_stats()

        out, _ = client.communicate(timeout=a.duration_s + 30)
        result = json.loads(out.strip().splitlines()[-1])
        held_out, _ = held.communicate(timeout=30)
        result["held"] = json.loads(held_out.strip().splitlines()[-1])
        if bench:
            bench_out, _ = bench.communicate(timeout=a.duration_s + 30)
            lines = bench_out.strip().splitlines()
            result["bench"] = json.loads(lines[-1]) if lines else {}
            result["bench"]["exit_code"] = bench.returncode
        end = self.haproxy_stats()
        return before, at_down, end, r2_rc, r2_exit_s, result

    def stop_rest(self):
        rcs = {}
        for name in ("r1", "r3"):
            self.procs[name].send_signal(signal.SIGTERM)
        for name in ("r1", "r3"):
            try:
                rcs[name] = self.procs[name].wait(timeout=DRAIN_TIMEOUT_S + 3)
            except subprocess.TimeoutExpired:
                rcs[name] = None
        return rcs

    def cleanup(self):
        for name, p in self.procs.items():
            if p.poll() is None:
                p.kill()
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    log(f"{name} (pid {p.pid}) did not die")
        for ns in self.namespaces:
            run("ip", "netns", "del", ns, check=False)
        self.namespaces = []
        if self.args.keep_logs:
            log(f"logs kept in {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


def check(results, failures):
    """Asserts; returns the report."""
    before, at_down, end, r2_rc, r2_exit_s, client, rcs, finals = results
    req_bytes = client["request_bytes"]  # reactor-bench sends 64-byte messages as well
    names = ("r1", "r2", "r3")

    def requests(stats, name):
        return stats[name]["bin"] // req_bytes

    total_before = sum(requests(before, n) for n in names)
    bench = client.get("bench")
    report = {
        "requests_ok": client["requests_ok"],
        "requests_per_s": client["requests_per_s"],
        "failed_requests": client["failed_total"],
        "failures": client["failures"],
        "client_connects": client["connects"],
        "client_connect_retries": client["connect_retries"],
        "requests_per_instance_before_stop": {n: requests(before, n) for n in names},
        "requests_per_instance_whole_run": {n: requests(end, n) for n in names},
        "haproxy_sessions_per_instance": {n: end[n]["stot"] for n in names},
        "requests_to_r2_after_marked_down": requests(end, "r2") - requests(at_down, "r2"),
        "requests_to_r1_r3_after_r2_down": {n: requests(end, n) - requests(at_down, n) for n in ("r1", "r3")},
        "r2_open_connections_at_sigterm": finals.get("r2_open_at_term"),
        "r2_exit_code": r2_rc,
        "r2_exit_after_sigterm_s": round(r2_exit_s, 2),
        "r2_status_in_haproxy": at_down["r2"]["status"],
        "r1_r3_exit_codes": rcs,
        "reactord_final_accepted": {n: finals[n].get("accepted") for n in names},
        "reactord_final_forced_closed": {n: finals[n].get("forced_closed") for n in names},
        "reactord_worker_accepted": {n: finals[n].get("worker_accepted") for n in names},
        "requests_per_second": client["per_second"],
    }
    held = client["held"]
    report["slow_client_on_r2"] = {k: held[k] for k in ("requests_ok", "failed_total", "first_failure", "connects",
                                                        "connect_retries")}
    if bench is not None:
        report["reactor_bench_churn"] = {k: bench.get(k) for k in ("exit_code", "messages", "msgs_per_s", "connects", "errors")}

    def expect(ok, what):
        if not ok:
            failures.append(what)

    expect(client["failed_total"] == 0, f"{client['failed_total']} failed requests: {client['failures']}, "
           f"first: {client['first_failure']}")
    expect(client["requests_ok"] >= 1000, f"only {client['requests_ok']} requests served")
    if bench is not None:
        errors = bench.get("errors", {})
        expect(bench.get("exit_code") == 0 and errors and not any(errors.values()),
               f"reactor-bench churn: exit {bench.get('exit_code')}, errors {errors}")
        expect(bench.get("messages", 0) > 0, "reactor-bench churn sent no message")
    for n in names:
        share = requests(before, n) / total_before if total_before else 0
        expect(share >= 0.2, f"{n} served {share:.0%} of the requests before the stop (roundrobin: ~33%)")
    expect(held["failed_total"] == 0, f"the slow client on r2 lost requests: {held['failures']}, "
           f"first: {held['first_failure']}")
    expect(held["requests_ok"] >= 30, f"the slow client on r2 got {held['requests_ok']} of its 30 replies")
    expect((report["r2_open_connections_at_sigterm"] or 0) >= 1, "r2 had no open connection to drain at SIGTERM")
    expect(r2_exit_s >= 1, f"r2 exited {r2_exit_s:.2f}s after SIGTERM: before its slow client finished?")
    expect(r2_rc == 0, f"r2 exit code {r2_rc} after the stop signal (want 0)")
    expect(r2_exit_s < DRAIN_TIMEOUT_S + 1, f"r2 took {r2_exit_s:.1f}s to exit (drain deadline {DRAIN_TIMEOUT_S}s)")
    expect(at_down["r2"]["status"] == "DOWN", f"HAProxy shows r2 {at_down['r2']['status']} after it exited")
    expect(report["requests_to_r2_after_marked_down"] == 0, "r2 got requests after HAProxy marked it down")
    for n in ("r1", "r3"):
        expect(report["requests_to_r1_r3_after_r2_down"][n] > 0, f"{n} got no requests after r2 went down")
        expect(rcs[n] == 0, f"{n} exit code {rcs[n]} after SIGTERM (want 0)")
    for n in names:
        expect(bool(finals[n]), f"{n} logged no final stats line")
    expect(finals["r2"].get("forced_closed") == "0",
           f"r2 closed {finals['r2'].get('forced_closed')} connections by force: clients should have left first")
    return report


def main():
    parser = argparse.ArgumentParser(description="reactord scale-out test in network namespaces")
    parser.add_argument("--reactord", required=True)
    parser.add_argument("--bench", help="reactor-bench: also runs --mode=churn through HAProxy")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=6)
    parser.add_argument("--duration_s", type=float, default=12)
    parser.add_argument("--stop_after_s", type=float, default=4)
    parser.add_argument("--requests_per_conn", type=int, default=20)
    parser.add_argument("--keep_logs", action="store_true")
    # SIGKILL (or SIGQUIT, reactord's immediate stop) shows what the test catches without a drain.
    parser.add_argument("--stop_signal", default="SIGTERM", choices=["SIGTERM", "SIGQUIT", "SIGKILL"])
    args = parser.parse_args()

    for tool in ("ip", "haproxy"):
        if not shutil.which(tool):
            print(f"SKIP: {tool} is not installed (deploy/install-deps.sh deploy installs it)")
            return SKIP
    if not os.access(args.reactord, os.X_OK):
        print(f"SKIP: no reactord at {args.reactord}")
        return SKIP
    probe = f"{PREFIX}{os.getpid()}-probe"
    made = run("ip", "netns", "add", probe, check=False)
    if made.returncode != 0:
        print(f"SKIP: cannot create network namespaces here (needs root / CAP_NET_ADMIN): {made.stderr.strip()}")
        return SKIP
    run("ip", "netns", "del", probe, check=False)

    t = ScaleOut(args)

    def on_signal(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)
    failures = []
    try:
        t.remove_stale_namespaces()
        t.create_network()
        t.start_servers()
        t.start_haproxy()
        before, at_down, end, r2_rc, r2_exit_s, client = t.run_load()
        rcs = t.stop_rest()
        r2_log = t.read_log("r2")
        if "draining" not in r2_log:
            failures.append(f"r2 did not log 'draining' after {args.stop_signal}")
        finals = {n: t.final_stats(n) for n in ("r1", "r2", "r3")}
        open_at_term = re.search(r"draining\b.*?(\d+) open connections", r2_log)
        finals["r2_open_at_term"] = int(open_at_term.group(1)) if open_at_term else None
        report = check((before, at_down, end, r2_rc, r2_exit_s, client, rcs, finals), failures)
        print(json.dumps(report, indent=1))
        if failures:
            for n in [n for n in ("r1", "r2", "r3", "haproxy", "bench") if n in t.logs]:
                lines = t.read_log(n).splitlines()
                # A sanitizer's report whole (it explains an exit code 66), else the tail.
                start = next((i for i, l in enumerate(lines) if "Sanitizer" in l), None)
                shown = lines[start:start + 60] if start is not None else lines[-15:]
                print(f"--- {n} log ({'sanitizer report' if start is not None else 'tail'}) ---")
                print("\n".join(shown))
    finally:
        t.cleanup()
    for f in failures:
        print(f"FAIL: {f}")
    print(f"scale-out: {'FAILED' if failures else 'passed'}: {client['requests_ok']} requests, "
          f"{client['failed_total']} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
