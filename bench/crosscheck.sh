#!/usr/bin/env bash
# Is reactor-bench the bottleneck? The same 64 B ping-pong on 50 connections, driven by
# reactor-bench and by two independent clients: bench/crosscheck/main.go (a goroutine per
# connection, Go's standard library only) and bench/crosscheck/pingpong_client.py (Python asyncio
# streams, on uvloop when it is installed), each pinned to CPU 1 against a server pinned to CPU 0.
# Runs alternate; prints per run msgs/s, the CPU share of server and client over the measured
# window (utime + stime from /proc/PID/stat), and the CPU seconds each side spent per million
# messages; then medians. When the server is near 100% of its CPU and reactor-bench gets at least
# as many msgs/s as the other clients, the server is the limit.
#
# usage: bench/crosscheck.sh [--servers=epoll,reactord1] [--repeat=3] [--duration_s=5]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

servers=epoll,reactord1 repeat=3 duration=5
for arg in "$@"; do
  case "$arg" in
    --servers=*) servers=${arg#*=} ;;
    --repeat=*) repeat=${arg#*=} ;;
    --duration_s=*) duration=${arg#*=} ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) bench_die "unknown argument '$arg' (see --help)" ;;
  esac
done
[[ "$repeat" =~ ^[1-9][0-9]*$ ]] || bench_die "--repeat wants a positive integer"
[[ "$duration" =~ ^[1-9][0-9]*$ ]] || bench_die "--duration_s wants whole seconds"
command -v go >/dev/null || bench_die "no Go toolchain for the independent client (golang-go)"
bench_build
(cd "$BENCH_DIR/crosscheck" && GOCACHE="$BUILD_DIR/bench/gocache" GOPROXY=off GOFLAGS='' \
  GO111MODULE=off go build -o "$BUILD_DIR/bench/pingpong_go" .) || bench_die "go build failed"
warmup=$(awk -v d="$duration" 'BEGIN {print d / 5}')
args=(--connections=50 --message_bytes=64)

# window OUT CLIENT_ARGV...: runs the client pinned to CPU 1; sets RATE (msgs/s), SERVER_PCT (the
# server's CPU share over the measured window) and CLIENT_PCT (the client's own CPU time, which
# each client reports, over its whole run). Not run in $(...): the client must stay visible to the
# clean-up trap.
window() {
  local out=$1
  shift
  taskset -c "$CLIENT_CPU" "$@" >"$out" 2>"$out.err" &
  local pid=$!
  BENCH_PIDS+=("$pid")
  sleep "$warmup"
  local s0 s1
  s0=$(bench_cpu_ticks "$SERVER_PID")
  sleep "$duration"
  s1=$(bench_cpu_ticks "$SERVER_PID")
  wait "$pid" || bench_die "client failed: $(tail -3 "$out.err")"
  RATE=$(jq '.msgs_per_s | floor' "$out")
  SERVER_PCT=$(((s1 - s0) * 100 / CLK_TCK / duration))
  CLIENT_PCT=$(jq --argjson d "$duration" --argjson w "$warmup" \
    '.client_cpu_s / ($d + $w) * 100 | floor' "$out")
  # CPU seconds per million messages: the server's over the window, the client's over its run.
  SERVER_S_PER_M=$(awk -v t=$((s1 - s0)) -v hz="$CLK_TCK" -v r="$RATE" -v d="$duration" \
    'BEGIN {printf "%.2f", (r > 0 ? t / hz / (r * d) * 1e6 : 0)}')
  CLIENT_S_PER_M=$(jq --argjson d "$duration" --argjson w "$warmup" \
    'if .msgs_per_s > 0 then .client_cpu_s / (.msgs_per_s * ($d + $w)) * 1e6 * 100 | round / 100
     else 0 end' "$out")
}

IFS=, read -r -a names <<<"$servers"
clients=(reactor-bench pingpong_go)
if "$PYTHON" -c 'import asyncio' 2>/dev/null; then
  clients+=(python-uvloop)
fi
declare -A rates
printf '%-12s %-14s %10s %8s %8s %14s %14s\n' server client msgs/s server% client% \
  server_s/Mmsg client_s/Mmsg
for _ in $(seq 1 "$repeat"); do
  for name in "${names[@]}"; do
    for client in "${clients[@]}"; do
      bench_start "$name"
      if [ "$client" = reactor-bench ]; then
        window "$BENCH_TMP/out" "$REACTOR_BENCH" --host=127.0.0.1 --port="$SERVER_PORT" \
          --mode=pingpong --threads=1 --json --progress=false --warmup_s="$warmup" \
          --duration_s="$duration" "${args[@]}"
      elif [ "$client" = python-uvloop ]; then
        window "$BENCH_TMP/out" "$PYTHON" "$BENCH_DIR/crosscheck/pingpong_client.py" \
          --host=127.0.0.1 --port="$SERVER_PORT" --warmup_s="$warmup" --duration_s="$duration" \
          "${args[@]}"
      else
        GOMAXPROCS=1 window "$BENCH_TMP/out" "$BUILD_DIR/bench/pingpong_go" \
          -port="$SERVER_PORT" -warmup_s="$warmup" -duration_s="$duration" -connections=50 \
          -message_bytes=64
      fi
      bench_stop
      printf '%-12s %-14s %10s %8s %8s %14s %14s\n' "$name" "$client" "$RATE" "$SERVER_PCT" \
        "$CLIENT_PCT" "$SERVER_S_PER_M" "$CLIENT_S_PER_M"
      rates[$name.$client]+="$RATE "
    done
  done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{v[NR] = $1} END {
  print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
for name in "${names[@]}"; do
  echo "median of $repeat on $name: reactor-bench $(median <<<"${rates[$name.reactor-bench]}")" \
    "msgs/s, independent Go client $(median <<<"${rates[$name.pingpong_go]}") msgs/s$(
      [ -z "${rates[$name.python-uvloop]:-}" ] ||
        echo ", Python uvloop client $(median <<<"${rates[$name.python-uvloop]}") msgs/s")"
done
