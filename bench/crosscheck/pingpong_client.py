#!/usr/bin/env python3
"""An independent ping-pong load client (Python asyncio streams, uvloop when installed).

It exists to cross-check reactor-bench: run both against the same server with the same
connections and message size; if reactor-bench reaches at least the same msgs/s with less client
CPU, the server is the limit, not the load generator. Every echoed byte is compared.

usage: pingpong_client.py [--host H] [--port P] [--connections N] [--message_bytes B]
                            [--duration_s S] [--warmup_s W] [--no-uvloop]
Prints one line of JSON: messages, msgs_per_s, mismatches, latency_us p50/p99, client_cpu_s.
"""
import argparse
import asyncio
import json
import os
import resource
import time


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def connection(args, index, state):
    reader, writer = await asyncio.open_connection(args.host, args.port)
    message = os.urandom(args.message_bytes)
    while not state["stop"]:
        started = time.perf_counter()
        writer.write(message)
        reply = await reader.readexactly(len(message))
        if reply != message:
            state["mismatches"] += 1
        if state["measuring"]:
            state["messages"] += 1
            state["latencies"].append(time.perf_counter() - started)
    writer.close()
    await writer.wait_closed()


async def main(args):
    state = {"stop": False, "measuring": False, "messages": 0, "mismatches": 0, "latencies": []}
    tasks = [asyncio.create_task(connection(args, i, state)) for i in range(args.connections)]
    await asyncio.sleep(args.warmup_s)
    state["measuring"] = True
    cpu_start, wall_start = cpu_seconds(), time.perf_counter()
    await asyncio.sleep(args.duration_s)
    state["measuring"] = False
    cpu, wall = cpu_seconds() - cpu_start, time.perf_counter() - wall_start
    state["stop"] = True
    await asyncio.gather(*tasks)
    latencies = sorted(state["latencies"]) or [0.0]
    pick = lambda p: latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1e6
    print(json.dumps({"client": "python-asyncio" + ("+uvloop" if args.uvloop else ""),
                      "connections": args.connections, "message_bytes": args.message_bytes,
                      "duration_s": round(wall, 3), "messages": state["messages"],
                      "msgs_per_s": round(state["messages"] / wall, 1),
                      "mismatches": state["mismatches"],
                      "latency_us": {"p50": round(pick(50), 1), "p99": round(pick(99), 1)},
                      "client_cpu_s": round(cpu, 3)}))
    return 1 if state["mismatches"] else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7000)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--message_bytes", type=int, default=64)
    parser.add_argument("--duration_s", type=float, default=10)
    parser.add_argument("--warmup_s", type=float, default=1)
    parser.add_argument("--no-uvloop", dest="uvloop", action="store_false")
    args = parser.parse_args()
    if args.uvloop:
        try:
            import uvloop
            uvloop.install()
        except ImportError:
            args.uvloop = False
    raise SystemExit(asyncio.run(main(args)))
