#!/usr/bin/env bash
# Per-core efficiency of reactord against the hand-written epoll reference: messages echoed per
# server CPU-second (utime + stime from /proc/PID/stat over the measured window) in 64 B ping-pong
# on 50 connections, server pinned to CPU 0 and reactor-bench to CPU 1. Each round runs both
# servers back to back, in alternating order (A B, B A, ...), so that a drift in what this shared
# VM's CPU delivers does not always land on the same server. Printed: the median of each server's
# figures and their ratio, and the median of the per-round ratios (each from two adjacent runs).
#
# usage: bench/per_core.sh [--repeat=5] [--duration_s=5] [--server=reactord1]
#   --server  what to compare with the reference (default reactord1: reactord --workers=1)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

repeat=5 duration=5 server=reactord1
for arg in "$@"; do
  case "$arg" in
    --repeat=*) repeat=${arg#*=} ;;
    --duration_s=*) duration=${arg#*=} ;;
    --server=*) server=${arg#*=} ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) bench_die "unknown argument '$arg' (see --help)" ;;
  esac
done
[[ "$repeat" =~ ^[1-9][0-9]*$ ]] || bench_die "--repeat wants a positive integer"
bench_build
for name in "$server" epoll; do
  if reason=$(bench_server_missing "$name"); then bench_die "cannot run $name: $reason"; fi
done

warmup=$(awk -v d="$duration" 'BEGIN {print d / 5}')
declare -A figures=([epoll]="" ["$server"]="")
declare -A this_round=()
ratios=""
for round in $(seq 1 "$repeat"); do
  order=("$server" epoll)
  ((round % 2)) || order=(epoll "$server")
  for name in "${order[@]}"; do
    bench_start "$name"
    out="$BENCH_TMP/$name.$round"
    bench_load "$out" "$warmup" "$duration" --mode=pingpong --protocol=echo --connections=50 \
      --message_bytes=64 --pipeline=1
    bench_stop
    jq -e '.client_ok' "$out" >/dev/null || bench_die "reactor-bench reported errors on $name"
    figure=$(jq '.bench.messages / .server_cpu_s | floor' "$out")
    rate=$(jq '.bench.msgs_per_s | floor' "$out")
    echo "round $round: $name $figure msgs per server CPU-s ($rate msgs/s," \
      "$(jq '.server_cpu_s / .window_s * 100 | floor' "$out")% of a CPU)"
    figures[$name]+="$figure "
    this_round[$name]=$figure
  done
  ratios+="$(awk -v a="${this_round[$server]}" -v b="${this_round[epoll]}" 'BEGIN {print a / b}') "
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{v[NR] = $1} END {
  print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
ours=$(median <<<"${figures[$server]}")
reference=$(median <<<"${figures[epoll]}")
echo "median of $repeat: $server $ours, epoll reference $reference msgs per server CPU-s;" \
  "ratio $server/epoll = $(awk -v a="$ours" -v b="$reference" 'BEGIN {printf "%.2f", a / b}')"
echo "per-round ratios $server/epoll: $(for r in $ratios; do printf '%.2f ' "$r"; done)-" \
  "median $(median <<<"$ratios" | xargs printf '%.2f')"
