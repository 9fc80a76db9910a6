#!/usr/bin/env bash
# Syscalls per echoed message: `strace -c -f` attached to every thread of a running server while
# reactor-bench (pinned to CPU 1) runs 64 B ping-pong on 50 connections. Prints syscalls/message
# and the per-syscall breakdown. strace slows the server a lot: read its msgs/s elsewhere.
#
# usage: bench/syscalls_per_msg.sh [--server=reactord1] [--duration_s=5] [--connections=50]
#                                  [--message_bytes=64]
#   --server  reactord1 (reactord --workers=1, the default) or any name bench/run.sh knows
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

server=reactord1 duration=5 connections=50 bytes=64
for arg in "$@"; do
  case "$arg" in
    --server=*) server=${arg#*=} ;;
    --duration_s=*) duration=${arg#*=} ;;
    --connections=*) connections=${arg#*=} ;;
    --message_bytes=*) bytes=${arg#*=} ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) bench_die "unknown argument '$arg' (see --help)" ;;
  esac
done
bench_build
if reason=$(bench_server_missing "$server"); then bench_die "cannot run $server: $reason"; fi

bench_start "$server"
bench_log "$server (pid $SERVER_PID, port $SERVER_PORT): ${duration} s of ${bytes} B ping-pong" \
  "on $connections connections under strace -c -f"
out="$BENCH_TMP/syscalls"
bench_syscalls "$out" "$duration" --mode=pingpong --protocol=echo --connections="$connections" \
  --message_bytes="$bytes" --pipeline=1 || bench_die "strace could not run"
bench_stop
jq -e '.client_ok' "$out" >/dev/null || bench_log "warning: reactor-bench reported errors"

messages=$(jq '.bench.messages // 0' "$out")
total=$(jq '.syscalls' "$out")
[ "$messages" -gt 0 ] || bench_die "reactor-bench echoed no message"
echo "$server: $total syscalls for $messages messages = $(awk -v s="$total" -v m="$messages" \
  'BEGIN {printf "%.2f", s / m}') syscalls per message"
echo
printf '%-20s %12s %12s\n' syscall calls per_message
awk -v m="$messages" '$1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" {
  printf "%-20s %12d %12.3f\n", $NF, $4, $4 / m }' "$out.strace" | sort -k2,2nr
