#!/usr/bin/env bash
# User-space instructions per echoed message, counted by valgrind --tool=callgrind: each server
# runs under callgrind while reactor-bench (pinned to CPU 1) drives 64 B ping-pong on 50
# connections for a fixed time; Ir per message = (total Ir - Ir of a run without traffic) /
# messages echoed. Kernel work is not counted (see syscalls_per_msg.sh for that side).
#
# usage: bench/callgrind.sh [--servers=reactord1,reactord1-full,epoll,bufferevent] [--duration_s=10]
# (reactord1-full: --workers=1 with every limit, timeout, stats line and the admin endpoint on;
# reactord1-proxy: the same with --proxy_protocol, reactor-bench sending a v2 header first)
# The callgrind.out files stay in build/bench/callgrind/ for callgrind_annotate.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

servers=reactord1,reactord1-full,epoll,bufferevent duration=10
for arg in "$@"; do
  case "$arg" in
    --servers=*) servers=${arg#*=} ;;
    --duration_s=*) duration=${arg#*=} ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) bench_die "unknown argument '$arg' (see --help)" ;;
  esac
done
command -v valgrind >/dev/null || bench_die "no valgrind (deploy/install-deps.sh bench installs it)"
bench_build
outdir="$BUILD_DIR/bench/callgrind"
mkdir -p "$outdir"

# total_ir FILE: the instruction count of a callgrind output file.
total_ir() { awk '$1 == "summary:" || $1 == "totals:" {print $2; exit}' "$1"; }

# profile NAME TAG [CLIENT_ARGS...]: runs NAME under callgrind, with a client when CLIENT_ARGS are
# given, stops it with SIGTERM and sets PROFILE_IR to its total Ir. (Not run in $(...): a subshell
# would hide the processes it starts from the clean-up trap.)
profile() {
  local name=$1 tag=$2
  local file="$outdir/callgrind.out.$name.$tag"
  shift 2
  rm -f "$file"
  bench_start "$name" valgrind --tool=callgrind --callgrind-out-file="$file"
  if [ $# -gt 0 ]; then
    bench_client "$BENCH_TMP/$name.json" "$((duration + 60))" "$@"
    bench_client_wait "$BENCH_TMP/$name.json" || bench_die "reactor-bench reported errors on $name"
  fi
  bench_stop 30
  [ -s "$file" ] || bench_die "callgrind wrote no $file"
  PROFILE_IR=$(total_ir "$file")
}

IFS=, read -r -a names <<<"$servers"
for name in "${names[@]}"; do
  if reason=$(bench_server_missing "$name"); then
    bench_log "skipped $name: $reason"
    continue
  fi
  bench_log "$name: under callgrind, idle then ${duration} s of 64 B ping-pong (50 connections)"
  profile "$name" idle
  idle=$PROFILE_IR
  profile "$name" busy --mode=pingpong --protocol=echo --connections=50 --message_bytes=64 \
    --pipeline=1 --warmup_s=0 --duration_s="$duration"
  busy=$PROFILE_IR
  messages=$(jq '.messages' "$BENCH_TMP/$name.json")
  [ "$messages" -gt 0 ] || bench_die "$name echoed no message under callgrind"
  echo "$name: $(awk -v b="$busy" -v i="$idle" -v m="$messages" 'BEGIN {
    printf "%.0f instructions per message ((%d - %d idle) Ir / %d messages)", (b - i) / m, b, i, m
  }')"
done
