#!/usr/bin/env python3
"""Check 7 of the container tests: Prometheus for real (Debian's package) scrapes the admin
endpoint of a running reactord container every second while reactor-bench loads it for 32 s.

  - `up` is 1 for the whole run;
  - reactord_messages_total, reactord_received_bytes_total and reactord_sent_bytes_total rise
    during the load (at least 20 distinct increasing samples);
  - one scrape interval after the load ends, Prometheus holds what the load generator did: the
    server counts every message reactor-bench counted, plus at most one per connection that was
    in flight when the bench's clock ran out (pipeline 1); bytes are 64 per message in and
    17 ("Message received\\n") per message out;
  - `promtool check metrics` passes on the exposition.
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

import container_lib as lib

SCRAPE_S = 1
LOAD_S = 32
CONNECTIONS = 8
MESSAGE_BYTES = 64
ACK = len(b"Message received\n")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def query(port, expr, at=None):
    params = {"query": expr}
    if at is not None:
        params["time"] = f"{at:.3f}"
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, timeout=10) as r:
        data = json.load(r)
    result = data["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def query_range(port, expr, start, end):
    params = {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": str(SCRAPE_S)}
    url = f"http://127.0.0.1:{port}/api/v1/query_range?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, timeout=10) as r:
        data = json.load(r)
    result = data["data"]["result"]
    return [float(v) for _, v in result[0]["values"]] if result else []


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bench", required=True, help="reactor-bench of the normal build")
    args = parser.parse_args()
    lib.start("container.prometheus")
    lib.need_image()
    for tool in ("prometheus", "promtool"):
        if shutil.which(tool) is None:
            lib.check(False, f"{tool} is not installed (deploy/install-deps.sh container)")
            return lib.finish()
    work = tempfile.mkdtemp(prefix="reactord-prometheus-")
    prom = None
    try:
        # No HEALTHCHECK here: each probe is an ack message, which the exact comparison below would
        # have to subtract.
        with lib.Network() as net, lib.Container(
                "prometheus", network=net, args=["--protocol=ack", "--admin_port=9100", "--admin_bind=0.0.0.0"],
                options=["--no-healthcheck"], health_fast=False) as c:
            c.wait_log("admin listening on", timeout=60)
            target = f"{c.ip()}:9100"
            port = free_port()
            with open(os.path.join(work, "prometheus.yml"), "w") as f:
                f.write(f"global:\n  scrape_interval: {SCRAPE_S}s\n  scrape_timeout: {SCRAPE_S}s\n"
                        f"scrape_configs:\n  - job_name: reactord\n    static_configs:\n"
                        f"      - targets: ['{target}']\n")
            r = subprocess.run(["promtool", "check", "config", os.path.join(work, "prometheus.yml")],
                               capture_output=True, text=True)
            lib.check(r.returncode == 0, f"promtool check config: {r.stdout.strip().splitlines()[-1] if r.stdout.strip() else r.stderr.strip()}")
            prom_log = open(os.path.join(work, "prometheus.log"), "w")
            prom = subprocess.Popen(["prometheus", f"--config.file={work}/prometheus.yml",
                                     f"--storage.tsdb.path={work}/data", f"--web.listen-address=127.0.0.1:{port}"],
                                    stdout=prom_log, stderr=subprocess.STDOUT)
            lib.wait_until(lambda: _safe(lambda: query(port, 'up{job="reactord"}')) == 1.0, 60,
                           "Prometheus to scrape the container (up == 1)", interval=0.5)
            lib.log(f"Prometheus (pid {prom.pid}) on 127.0.0.1:{port} scrapes {target} every {SCRAPE_S} s")

            load_start = time.time()
            bench = subprocess.run([args.bench, f"--host={c.ip()}", "--port=7000", "--protocol=ack", "--mode=pingpong",
                                    f"--connections={CONNECTIONS}", f"--duration_s={LOAD_S}", "--warmup_s=0",
                                    f"--message_bytes={MESSAGE_BYTES}", "--json", "--progress=false"],
                                   capture_output=True, text=True, timeout=LOAD_S + 60)
            load_end = time.time()
            if not lib.check(bench.returncode == 0, f"reactor-bench: exit {bench.returncode}"):
                print(bench.stdout + bench.stderr)
                return lib.finish()
            result = json.loads(bench.stdout.strip().splitlines()[-1])
            messages = result["messages"]
            errors = result["errors"]
            lib.log(f"reactor-bench: {messages} messages in {result['duration_s']} s over {CONNECTIONS} connections "
                    f"({result['msgs_per_s']}/s), errors {errors}")
            lib.check(all(v == 0 for v in errors.values()), f"reactor-bench saw no errors: {errors}")

            # One scrape interval after the load, plus the scrape's own time.
            at = load_end + SCRAPE_S + 1
            time.sleep(max(0.0, at - time.time()) + 0.5)
            got = {name: query(port, f"reactord_{name}_total", at) for name in ("messages", "received_bytes", "sent_bytes")}
            lib.log(f"Prometheus at load end + {SCRAPE_S} s: {got}")
            in_flight = got["messages"] - messages if got["messages"] is not None else None
            lib.check(in_flight is not None and 0 <= in_flight <= CONNECTIONS,
                      f"reactord_messages_total {got['messages']:.0f} = bench's {messages} + {in_flight:.0f} in flight at its deadline (at most {CONNECTIONS})"
                      if in_flight is not None else "reactord_messages_total has no sample")
            if got["messages"] is not None:
                lib.check(got["received_bytes"] == got["messages"] * MESSAGE_BYTES,
                          f"reactord_received_bytes_total {got['received_bytes']:.0f} = {got['messages']:.0f} x {MESSAGE_BYTES}")
                lib.check(got["sent_bytes"] == got["messages"] * ACK,
                          f"reactord_sent_bytes_total {got['sent_bytes']:.0f} = {got['messages']:.0f} x {ACK}")

            ups = query_range(port, 'up{job="reactord"}', load_start, load_end)
            lib.check(len(ups) >= LOAD_S - 2 and all(u == 1.0 for u in ups),
                      f"up == 1 in all {len(ups)} samples over the {load_end - load_start:.0f} s of load")
            for name in ("messages", "received_bytes", "sent_bytes"):
                series = query_range(port, f"reactord_{name}_total", load_start, load_end)
                rising = sum(1 for a, b in zip(series, series[1:]) if b > a)
                lib.check(rising >= 20 and series == sorted(series),
                          f"reactord_{name}_total rose in {rising} of {len(series) - 1} steps during the load "
                          f"({series[0]:.0f} -> {series[-1]:.0f})" if series else f"reactord_{name}_total: no samples")
            rate = query(port, "rate(reactord_messages_total[10s])", load_end - 2)
            lib.log(f"rate(reactord_messages_total[10s]) near the end of the load: {rate:.0f}/s; bench: {result['msgs_per_s']}/s")

            with urllib.request.urlopen(f"http://{target}/metrics", timeout=10) as resp:
                exposition = resp.read()
            r = subprocess.run(["promtool", "check", "metrics"], input=exposition, capture_output=True)
            lib.check(r.returncode == 0, f"promtool check metrics on /metrics ({len(exposition)} bytes): exit {r.returncode} "
                      f"{(r.stdout + r.stderr).decode().strip()[:500]}")
    finally:
        if prom is not None:
            prom.terminate()
            try:
                prom.wait(timeout=30)
            except subprocess.TimeoutExpired:
                prom.kill()
                prom.wait()
        if lib._failures and os.path.exists(os.path.join(work, "prometheus.log")):
            print("--- prometheus log (last 20 lines) ---\n" + "".join(open(os.path.join(work, "prometheus.log")).readlines()[-20:]))
        shutil.rmtree(work, ignore_errors=True)
    return lib.finish()


def _safe(fn):
    try:
        return fn()
    except OSError:
        return None


if __name__ == "__main__":
    sys.exit(main())
