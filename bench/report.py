#!/usr/bin/env python3
"""Turns bench/run.sh's raw results into the markdown table and the chart.

usage: report.py RESULTS_DIR
Reads RESULTS_DIR/results.jsonl (one JSON object per measurement, the last one the run's
description) and writes RESULTS_DIR/table.md and, with gnuplot, RESULTS_DIR/chart.png (its data in
chart.dat, its script in chart.gp). Figures are medians over the rounds of --repeat.
"""
import json
import shutil
import statistics
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

SCENARIOS = {
    "pp64": "64 B ping-pong, 50 connections",
    "pp1k": "1 KiB ping-pong, 50 connections",
    "bulk": "64 KiB bulk, 4 connections",
    "churn": "connect-churn (connect, one 64 B message, close), 50 at a time",
    "openloop": "open loop at {fraction:.0%} of the server's own 64 B peak, 50 connections",
}


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def errors_of(bench):
    return sum(bench["errors"].values()) if bench else None


def per_cpu(count, cpu_s):
    return count / cpu_s if count is not None and cpu_s else None


def load_metrics(record):
    """The figures of one load run: the client's view plus the server's CPU and memory. Churn
    counts connections, the other scenarios messages."""
    bench = record["bench"] or {}
    latency = bench.get("latency_us", {})
    count_key = "connects" if record["scenario"] == "churn" else "messages"
    count = bench.get(count_key)
    return {
        "rate": bench.get("connects_per_s" if count_key == "connects" else "msgs_per_s"),
        "mb_per_s": bench["bytes_per_s"] / 1e6 if "bytes_per_s" in bench else None,
        "per_cpu_s": per_cpu(count, record["server_cpu_s"]),
        "cpu_pct": 100 * record["server_cpu_s"] / record["window_s"],
        # The client's CPU time covers its warm-up too.
        "client_cpu_pct": 100 * bench["client_cpu_s"] / (record["window_s"] + record["warmup_s"])
        if bench else None,
        "p50": latency.get("p50"),
        "p99": latency.get("p99"),
        "p999": latency.get("p999"),
        "errors": errors_of(record["bench"]),
        "peak_mib": record["peak_rss_kb"] / 1024,
    }


def fmt(value, digits=0):
    if value is None:
        return "–"
    if digits == 0 and abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def server_label(server, cpus):
    return f"{server} (CPUs {cpus})" if "," in cpus else server


def collect(records):
    """Groups the measurements by (scenario, server) and takes medians over the rounds."""
    runs = defaultdict(list)
    syscalls = {}
    cpus = {}
    for record in records:
        cpus[record["server"]] = record["cpus"]
        key = (record["scenario"], record["server"])
        if record["kind"] == "syscalls":
            bench = record["bench"] or {}
            count = bench.get("connects" if record["scenario"] == "churn" else "messages")
            syscalls[key] = (record["syscalls"] / count if count else None, record["syscall_top"])
        else:
            runs[key].append(record)
    table = {}
    for key, group in runs.items():
        if key[0] == "idle":
            rows = [idle_metrics(r) for r in group]
        else:
            rows = [load_metrics(r) for r in group]
        merged = {k: median([row[k] for row in rows]) for k in rows[0]}
        merged["rounds"] = len(rows)
        merged["errors"] = sum(row["errors"] or 0 for row in rows)
        merged["failed"] = sum(1 for r in group if not r["client_ok"])
        if key in syscalls:
            merged["syscalls_per"] = syscalls[key][0]
            merged["syscall_top"] = syscalls[key][1]
        table[key] = merged
    return table, cpus


def idle_metrics(record):
    connections = record["connections"]
    return {
        "connections": connections,
        "open_seen": record["open_seen"],
        "before_mib": record["rss_before_kb"] / 1024,
        "with_mib": record["rss_with_kb"] / 1024,
        "kib_per_conn": (record["rss_with_kb"] - record["rss_before_kb"]) / connections,
        "peak_mib": record["peak_rss_kb"] / 1024,
        "errors": errors_of(record["bench"]),
    }


def load_table(scenario, servers, table, cpus):
    churn = scenario == "churn"
    unit = "conns" if churn else "msgs"
    head = ["server", f"{unit}/s", f"{unit} per server CPU-s", "server CPU %", "client CPU %", "p50 µs",
            "p99 µs", "p99.9 µs", f"syscalls/{unit[:-1]}", "peak RSS MiB", "errors"]
    if scenario == "bulk":
        head.insert(2, "MB/s")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for server in servers:
        row = table.get((scenario, server))
        if row is None:
            continue
        cells = [server_label(server, cpus[server]), fmt(row["rate"]), fmt(row["per_cpu_s"]),
                 fmt(row["cpu_pct"]), fmt(row["client_cpu_pct"]), fmt(row["p50"]), fmt(row["p99"]), fmt(row["p999"]),
                 fmt(row.get("syscalls_per"), 2), fmt(row["peak_mib"], 1),
                 str(row["errors"]) + (f" ({row['failed']} failed runs)" if row["failed"] else "")]
        if scenario == "bulk":
            cells.insert(2, fmt(row["mb_per_s"]))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def idle_table(servers, table, cpus, run):
    head = ["server", "connections", "RSS before MiB", "RSS with them MiB", "KiB per connection",
            "peak RSS MiB", "errors"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for server in servers:
        row = table.get(("idle", server))
        if row is None:
            continue
        seen = "" if row["open_seen"] >= row["connections"] else f" (only {row['open_seen']:.0f} open)"
        lines.append("| " + " | ".join([
            server_label(server, cpus[server]), fmt(row["connections"]) + seen,
            fmt(row["before_mib"], 1), fmt(row["with_mib"], 1), fmt(row["kib_per_conn"], 2),
            fmt(row["peak_mib"], 1), str(row["errors"])]) + " |")
    return lines


def syscall_lines(servers, table):
    lines = []
    for server in servers:
        row = table.get(("pp64", server))
        if row and row.get("syscall_top") and row.get("syscalls_per"):
            top = ", ".join(f"{name} {calls}" for name, calls in row["syscall_top"].items())
            lines.append(f"- {server}: {top}")
    return lines


def write_table(path, run, servers, table, cpus):
    out = [
        f"Measured {run['started']} on {run['cpus']} CPUs ({run['cpu']}, Linux {run['kernel']})"
        f" with `{run['command']}`.",
        "",
        f"Each server pinned to CPU 0 (reactord2 to CPUs 0-1, shared with the client), "
        f"reactor-bench to CPU 1 with one thread. Load runs: {run['warmup_s']:g} s warm-up, then "
        f"{run['duration_s']:g} s measured; figures are medians of {run['repeat']} interleaved "
        f"round(s). Syscalls come from a separate {run['strace_s']:g} s run under "
        f"`strace -c -f` in round 1 (strace slows the server; its msgs/s are not shown). "
        f"Load average (1 min) {run['load_start']} at the start, {run['load_end']} at the end, "
        f"on {run['cpus']} CPUs; when other work shares the machine, it shows up as server CPU % "
        f"well below 100.",
        "",
    ]
    for scenario, title in SCENARIOS.items():
        if any(key[0] == scenario for key in table):
            out += [f"### {title.format(fraction=run['openloop_fraction'])}", ""]
            out += load_table(scenario, servers, table, cpus) + [""]
    if any(key[0] == "idle" for key in table):
        out += [f"### {run['idle_connections']:,} idle connections (below the "
                f"{run['fd_hard_limit']:,} open-file hard limit of the machine that ran them)", ""]
        out += idle_table(servers, table, cpus, run) + [""]
    top = syscall_lines(servers, table)
    if top:
        out += ["Syscalls counted by strace during 64 B ping-pong (most frequent first):", ""]
        out += top + [""]
    if run["skipped"]:
        out += ["Skipped: " + "; ".join(run["skipped"]), ""]
    path.write_text("\n".join(out))


def write_chart(results, servers, table):
    if shutil.which("gnuplot") is None:
        print("report: no gnuplot (Debian package gnuplot-nox): chart skipped", file=sys.stderr)
        return

    def cell(scenario, server, key, scale=1.0):
        value = table.get((scenario, server), {}).get(key)
        return "NaN" if value is None else f"{value / scale:.3f}"

    rows = ["# server pp64_kmsgs_per_s pp64_kmsgs_per_cpu_s openloop_p99_us idle_kib_per_conn"]
    for server in servers:
        rows.append(" ".join([server, cell("pp64", server, "rate", 1000),
                              cell("pp64", server, "per_cpu_s", 1000),
                              cell("openloop", server, "p99"),
                              cell("idle", server, "kib_per_conn")]))
    (results / "chart.dat").write_text("\n".join(rows) + "\n")
    panels = [
        (2, "64 B ping-pong: thousand msgs/s", ""),
        (3, "64 B ping-pong: thousand msgs per server CPU-second", ""),
        (4, "open loop: p99 latency (µs, log scale)", "set logscale y"),
        (5, "idle: server KiB per connection", ""),
    ]
    script = [
        "set terminal pngcairo size 1400,900 font ',10'",
        "set output 'chart.png'",
        "set multiplot layout 2,2",
        "set style data histograms",
        "set style fill solid 0.8 border -1",
        "set boxwidth 0.8",
        "set xtics rotate by -30 nomirror",
        "set grid ytics",
        "set yrange [0:*]",
        "unset key",
    ]
    for column, title, extra in panels:
        script += [f"set title '{title}'", extra or "unset logscale y",
                   "set yrange [1:*]" if extra else "set yrange [0:*]",
                   f"plot 'chart.dat' using {column}:xtic(1) lc rgb '#3a6ea5'"]
    script.append("unset multiplot")
    (results / "chart.gp").write_text("\n".join(script) + "\n")
    done = subprocess.run(["gnuplot", "chart.gp"], cwd=results, capture_output=True, text=True)
    if done.returncode != 0:
        print(f"report: gnuplot failed: {done.stderr.strip()}", file=sys.stderr)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    results = Path(sys.argv[1])
    records = [json.loads(line) for line in (results / "results.jsonl").read_text().splitlines()]
    run = next(r for r in records if r["kind"] == "run")
    measurements = [r for r in records if r["kind"] != "run"]
    servers = list(dict.fromkeys(r["server"] for r in measurements))
    table, cpus = collect(measurements)
    write_table(results / "table.md", run, servers, table, cpus)
    write_chart(results, servers, table)


if __name__ == "__main__":
    main()
