#!/usr/bin/env bash
# Server memory per idle connection: reactor-bench (pinned to CPU 1) opens the connections, checks
# each with one round-trip and holds them; RSS per connection = (VmRSS with them - VmRSS before) /
# connections, from /proc/PID/status. 15,000 stays below this machine's 20,000 open-file hard
# limit (client and server each hold one fd per connection).
#
# usage: bench/idle_rss.sh [--server=reactord1] [--connections=15000]
#   --server  reactord1 (reactord --workers=1, the default) or any name bench/run.sh knows
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

server=reactord1 connections=15000
for arg in "$@"; do
  case "$arg" in
    --server=*) server=${arg#*=} ;;
    --connections=*) connections=${arg#*=} ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) bench_die "unknown argument '$arg' (see --help)" ;;
  esac
done
limit=$(ulimit -Hn)
[ "$connections" -lt "$((limit - 100))" ] ||
  bench_die "$connections connections need more fds than the hard limit $limit allows"
bench_build
if reason=$(bench_server_missing "$server"); then bench_die "cannot run $server: $reason"; fi
bench_raise_fd_limit

bench_start "$server"
bench_log "$server (pid $SERVER_PID, port $SERVER_PORT): opening $connections idle connections"
out="$BENCH_TMP/idle"
bench_idle "$out" "$connections" 3
bench_stop
jq -e '.client_ok' "$out" >/dev/null || bench_log "warning: reactor-bench reported errors"
jq -r --arg server "$server" '"\($server): VmRSS \(.rss_before_kb) KiB before, \(.rss_with_kb) KiB
  with \(.open_seen) of \(.connections) connections open: \(((.rss_with_kb - .rss_before_kb)
  / .connections * 100 | round) / 100) KiB per connection; peak VmHWM \(.peak_rss_kb) KiB"' "$out" |
  tr -s ' \n' ' '
echo
