#!/usr/bin/env python3
"""The memory budget in a real container: `docker run --memory=256m` of the image with its default
flags, 2,000 clients that send 64 KiB chunks for 10 s and never read (reactor-bench --mode=stall,
reconnecting when closed), and a well-behaved client (reactor-bench --mode=rate, 10 connections,
1,000 messages/s, every reply checked) from a second before the abuse to two seconds after it, both
from the host through the container's network. Passes when:

  * reactord logs the container's limit as its memory limit (268435456 bytes, from the cgroup);
  * the container is alive afterwards, not OOM-killed (docker inspect: State.OOMKilled false,
    still running), and its cgroup's peak (memory.max_usage_in_bytes, cgroup v1) stays under
    75 % of the limit;
  * the well-behaved client got every reply (no error) with a p99 under 2 s (a bound for a noisy
    shared 2-core machine; see tests/fault/overload_cgroup_test.py, which runs the same abuse on
    the bare binary);
  * once the abusers are gone the overload ends (a stats line with overload_state=0), the
    container is healthy, and `docker stop` ends it with exit 0 and a final line that counts the
    overload actions.

Prints one "[ figure ]" line with what it measured.
usage: container_overload_test.py --bench PATH_TO_REACTOR_BENCH [--abusers N]
"""

import argparse
import json
import subprocess
import sys
import time

import container_lib as lib

LIMIT = 256 << 20
GOOD_RATE = 1000
GOOD_CONNECTIONS = 10
DURATION_S = 10
PEAK_FRACTION = 0.75
P99_BOUND_US = 2_000_000


def memory_cgroup(pid):
    """The cgroup v1 memory directory of host process `pid`, or None (cgroup v2, or no memory
    controller)."""
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            if "memory" in controllers.split(","):
                return f"/sys/fs/cgroup/memory{path}"
    return None


def read_int(path):
    with open(path) as f:
        return int(f.read().split()[0])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", required=True)
    parser.add_argument("--abusers", type=int, default=2000)
    args = parser.parse_args()
    lib.start("container.overload")
    lib.need_image()
    options = [f"--memory={LIMIT}", f"--memory-swap={LIMIT}"]
    with lib.Network() as net, lib.Container("overload", network=net, options=options,
                                             args=["--stats_interval_s=1"]) as c:
        c.wait_log("listening on", timeout=60)
        logs = c.logs()
        lib.check(f"memory limit {LIMIT} bytes" in logs,
                  "reactord took the container's limit: " +
                  next((l for l in logs.splitlines() if "memory limit" in l), "no 'memory limit' line")[-160:])
        host = c.ip()
        cgroup = memory_cgroup(c.server_pid())
        good_s = DURATION_S + 3
        good = subprocess.Popen(
            [args.bench, f"--host={host}", "--port=7000", "--mode=rate", f"--rate={GOOD_RATE}",
             f"--connections={GOOD_CONNECTIONS}", f"--duration_s={good_s}", "--warmup_s=0",
             "--timeout_ms=10000", "--json", "--progress=false"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1)
        abusers = subprocess.Popen(
            [args.bench, f"--host={host}", "--port=7000", "--mode=stall", f"--connections={args.abusers}",
             "--threads=2", "--message_bytes=65536", f"--duration_s={DURATION_S}", "--warmup_s=0",
             "--socket_buffer_bytes=4096", "--timeout_ms=30000", "--json", "--progress=false"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        abuse_out, abuse_err = abusers.communicate(timeout=120)
        good_out, good_err = good.communicate(timeout=120)

        state = c.inspect()["State"]
        peak = read_int(f"{cgroup}/memory.max_usage_in_bytes") if cgroup else None
        lib.check(state["Running"] and not state["OOMKilled"],
                  f"alive after the abuse: running={state['Running']} OOMKilled={state['OOMKilled']} "
                  f"exit={state['ExitCode']}")
        if peak is None:
            lib.log("no cgroup v1 memory controller: the peak is not measured")
        else:
            lib.check(peak < PEAK_FRACTION * LIMIT,
                      f"cgroup peak {peak / 2**20:.1f} MiB ({peak / LIMIT:.0%}) under {PEAK_FRACTION:.0%} of 256 MiB")
        try:
            good_result = json.loads(good_out)
            abuse_result = json.loads(abuse_out)
        except json.JSONDecodeError:
            lib.check(False, f"reactor-bench output: {good_out!r} {good_err[-1000:]!r} / {abuse_out!r} {abuse_err[-1000:]!r}")
            return lib.finish()
        errors = good_result["errors"]
        p99 = good_result["latency_us"]["p99"]
        lib.check(not any(errors.values()) and good_result["messages"] >= 0.9 * GOOD_RATE * good_s,
                  f"well-behaved client: {good_result['messages']} replies, errors {errors}")
        lib.check(p99 < P99_BOUND_US, f"well-behaved client p99 {p99 / 1000:.1f} ms under {P99_BOUND_US // 1000} ms")

        over = lambda: lib.stats_line(c.logs(), "stats").get("overload_state") == "0" and \
            lib.stats_line(c.logs(), "stats").get("active") == "0"
        lib.wait_until(over, 30, "a stats line with overload_state=0 and no connection left")
        c.wait_health("healthy", timeout=60)
        lib.check(True, "healthy again once the abusers left")
        lib.docker("stop", c.name, timeout=60)
        exit_code = c.wait_exit()
        final = lib.stats_line(c.logs(), "final")
        lib.check(exit_code == 0, f"docker stop: exit {exit_code}")
        lib.check(int(final.get("overload_pause_reading", "0")) >= 1,
                  "final line counts the overload: " +
                  " ".join(f"{k}={final.get(k)}" for k in ("overload_pause_reading", "overload_stop_accepting",
                                                           "overload_close_rounds", "overload_closed")))
        peak_text = f"{peak / 2**20:.1f} MiB ({peak / LIMIT:.0%})" if peak is not None else "not measured"
        print(f"[ figure ] docker run --memory=256m, default flags, {args.abusers} abusers x 64 KiB chunks "
              f"for {DURATION_S} s: alive, OOMKilled false, cgroup peak {peak_text}; well-behaved client "
              f"{good_result['msgs_per_s']:.0f} msgs/s, {good_result['messages']} replies, 0 errors, p50 "
              f"{good_result['latency_us']['p50'] / 1000:.2f} ms, p99 {p99 / 1000:.1f} ms, max "
              f"{good_result['latency_us']['max'] / 1000:.1f} ms; abusers: {abuse_result['connects']} connects, "
              f"{abuse_result['server_closes']} closed by the server; counters: "
              + " ".join(f"{k}={final.get(k)}" for k in ("overload_pause_reading", "overload_stop_accepting",
                                                          "overload_close_rounds", "overload_closed")),
              flush=True)
    return lib.finish()


if __name__ == "__main__":
    sys.exit(main())
