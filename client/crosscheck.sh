#!/usr/bin/env bash
# Is reactor-bench the bottleneck? Runs one reactord worker pinned to CPU 0 and, one after the
# other on CPU 1, reactor-bench and the independent Python asyncio client (crosscheck_client.py)
# with the same scenario, and prints per client: msgs/s, latency, the client's own CPU split into
# user and system time, and the CPU each side spent per million messages.
#
# usage: client/crosscheck.sh [BUILD_DIR] [SECONDS] [CONNECTIONS] [MESSAGE_BYTES]
#        defaults: build 10 50 64. Loopback only; port 7410.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
seconds=${2:-10}
connections=${3:-50}
bytes=${4:-64}
port=7410
python=/usr/bin/python3
for tool in taskset /usr/bin/time "$python" "$build/server/reactord" "$build/client/reactor-bench"; do
  command -v "$tool" >/dev/null || { echo "crosscheck: $tool is missing" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Prints "<server CPU ticks>" of process $1 (utime + stime).
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# run LABEL COMMAND...: the client on CPU 1 against a fresh server on CPU 0.
run() {
  local label=$1
  shift
  taskset -c 0 "$build/server/reactord" --bind=127.0.0.1 --port=$port --workers=1 \
    --stats_interval_s=0 2>"$work/server.log" &
  local server=$!
  for _ in $(seq 50); do
    grep -qs "listening on" "$work/server.log" && break
    sleep 0.1
  done
  local before
  before=$(ticks $server)
  taskset -c 1 /usr/bin/time -f "%U %S" -o "$work/time" "$@" >"$work/out" 2>"$work/err" || {
    echo "crosscheck: $label failed:" >&2
    cat "$work/err" >&2
  }
  local after
  after=$(ticks $server)
  kill -TERM $server
  wait $server || true
  "$python" - "$label" "$work/out" "$work/time" $((after - before)) "$(getconf CLK_TCK)" <<'EOF'
import json, sys
label, out, times, server_ticks, hz = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
result = json.loads(open(out).read().splitlines()[0])
user, system = (float(x) for x in open(times).read().split()[-2:])
messages = result["messages"]
per_million = lambda s: s * 1e6 / messages if messages else float("nan")
print(f"{label:<22} {result['msgs_per_s']:>10.0f} {result['latency_us']['p50']:>9.0f} "
      f"{result['latency_us']['p99']:>9.0f} {user:>7.2f} {system:>7.2f} "
      f"{per_million(user + system):>12.2f} {per_million(server_ticks / hz):>12.2f}")
EOF
}

echo "$(date -u +%FT%TZ) $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg);" \
  "ping-pong, $connections connections, $bytes-byte messages, ${seconds} s, no warm-up (CPU is per whole run)"
printf '%-22s %10s %9s %9s %7s %7s %12s %12s\n' client msgs/s p50_us p99_us user_s sys_s \
  client_s/Mmsg server_s/Mmsg
run reactor-bench "$build/client/reactor-bench" --port=$port --connections="$connections" \
  --message_bytes="$bytes" --duration_s="$seconds" --warmup_s=0 --json --progress=false
uvloop=$("$python" -c 'import uvloop' 2>/dev/null && echo "+uvloop" || true)
run "python-asyncio$uvloop" "$python" client/crosscheck_client.py --port=$port \
  --connections="$connections" --message_bytes="$bytes" --duration_s="$seconds" --warmup_s=0
