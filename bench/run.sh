#!/usr/bin/env bash
# The side-by-side comparison: reactord (--workers=1 and --workers=2) and the peer servers of
# bench/peers/ under the same scenarios, each server pinned to CPU 0 and reactor-bench to CPU 1.
# Prints a markdown table and writes it, the raw JSON and a chart to the results directory.
#
# usage: bench/run.sh [--quick] [--only=NAME,...] [--repeat=N] [--duration_s=S] [--results=DIR]
#                     [--no-install] [--no-build]
#   --quick       short runs of a subset (64 B ping-pong, open loop, 1,000 idle, one strace run):
#                 a smoke test, written to build/bench/quick-results unless --results is given
#   --only        servers to run, from: reactord1 reactord2 epoll bufferevent go node
#                 asyncio-streams asyncio-protocol uvloop-streams uvloop-protocol
#   --repeat      runs of every measurement, interleaved across servers; the table shows medians
#   --duration_s  measured seconds per load run (default 5, quick 1); warm-up is a fifth of it
#   --results     where to write table.md, results.jsonl, chart.png (default bench/results)
#   --no-install  do not call deploy/install-deps.sh bench; servers without a toolchain are skipped
#   --no-build    use the binaries already in build/ (or $BUILD_DIR) as they are
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

quick=false
only=""
repeat=1
duration=""
results=""
install=true
build=true
for arg in "$@"; do
  case "$arg" in
    --quick) quick=true ;;
    --only=*) only=${arg#--only=} ;;
    --repeat=*) repeat=${arg#--repeat=} ;;
    --duration_s=*) duration=${arg#--duration_s=} ;;
    --results=*) results=${arg#--results=} ;;
    --no-install) install=false ;;
    --no-build) build=false ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
      exit 0 ;;
    *) bench_die "unknown argument '$arg' (see --help)" ;;
  esac
done
[[ "$repeat" =~ ^[1-9][0-9]*$ ]] || bench_die "--repeat wants a positive integer, not '$repeat'"

if $quick; then
  duration=${duration:-1}
  scenarios=(pp64 openloop idle)
  straced=(pp64)
  idle_connections=1000
  results=${results:-$BUILD_DIR/bench/quick-results}
else
  duration=${duration:-5}
  scenarios=(pp64 pp1k bulk churn openloop idle)
  straced=(pp64 pp1k bulk churn)
  idle_connections=15000
  results=${results:-$BENCH_DIR/results}
fi
[[ "$duration" =~ ^[0-9]+(\.[0-9]+)?$ ]] || bench_die "--duration_s wants seconds, not '$duration'"
warmup=$(awk -v d="$duration" 'BEGIN {print d / 5}')
strace_duration=$(awk -v d="$duration" 'BEGIN {print (d < 3 ? d : 3)}')
openloop_fraction=0.5  # of the server's own 64 B ping-pong msgs/s in the same round
fd_limit=$(ulimit -Hn)
if [ "$idle_connections" -ge "$fd_limit" ]; then
  bench_die "$idle_connections idle connections need more than the open-file hard limit $fd_limit"
fi

# Client arguments of each scenario (openloop gets --rate when it runs).
declare -A scenario_args=(
  [pp64]="--mode=pingpong --protocol=echo --connections=50 --message_bytes=64 --pipeline=1"
  [pp1k]="--mode=pingpong --protocol=echo --connections=50 --message_bytes=1024 --pipeline=1"
  [bulk]="--mode=bulk --protocol=echo --connections=4 --message_bytes=65536 --pipeline=1"
  [churn]="--mode=churn --protocol=echo --connections=50 --message_bytes=64 --pipeline=1"
  [openloop]="--mode=rate --protocol=echo --connections=50 --message_bytes=64 --pipeline=1"
)

IFS=, read -r -a servers <<<"${only:-$(IFS=,; echo "${ALL_SERVERS[*]}")}"
for name in "${servers[@]}"; do
  bench_server_command "$name"  # dies on an unknown name before anything is built
done

if $install; then
  "$ROOT_DIR/deploy/install-deps.sh" bench >&2 ||
    bench_log "deploy/install-deps.sh bench failed; servers whose toolchain is missing are skipped"
fi
if $build; then
  bench_build
fi
[ -x "$REACTOR_BENCH" ] || bench_die "no load generator at $REACTOR_BENCH (client/ not merged?)"
bench_raise_fd_limit

runnable=()
skipped=()
for name in "${servers[@]}"; do
  if reason=$(bench_server_missing "$name"); then
    bench_log "skipped $name: $reason"
    skipped+=("$name: $reason")
  else
    runnable+=("$name")
  fi
done
[ ${#runnable[@]} -gt 0 ] || bench_die "no server can run here"

mkdir -p "$results"
raw="$BENCH_TMP/results.jsonl"
: >"$raw"

# append SERVER SCENARIO ROUND KIND FILE: adds one measurement to the raw results.
append() {
  jq -c --arg server "$1" --arg scenario "$2" --argjson round "$3" --arg kind "$4" \
    --arg cpus "$(bench_server_cpus "$1")" \
    '{server: $server, cpus: $cpus, scenario: $scenario, round: $round, kind: $kind} + .' \
    "$5" >>"$raw"
}

# measure SERVER SCENARIO ROUND: one fresh server process per measurement, so that its peak RSS
# belongs to that scenario alone.
measure() {
  local name=$1 scenario=$2 round=$3 out="$BENCH_TMP/$1.$2.$3"
  local args=${scenario_args[$scenario]:-}
  if [ "$scenario" = openloop ]; then
    local peak
    peak=$(jq -r --arg s "$name" --argjson r "$round" 'select(.server == $s and .round == $r and
      .scenario == "pp64" and .kind == "load") | .bench.msgs_per_s // 0' "$raw" | head -1)
    local rate
    rate=$(awk -v p="${peak:-0}" -v f="$openloop_fraction" 'BEGIN {printf "%d", p * f}')
    if [ "$rate" -le 0 ]; then
      bench_log "$name: no 64 B ping-pong figure in round $round; open loop skipped"
      return
    fi
    args+=" --rate=$rate"
  fi
  bench_start "$name"
  if [ "$scenario" = idle ]; then
    bench_log "$name: $idle_connections idle connections (round $round)"
    bench_idle "$out" "$idle_connections" 3
    append "$name" idle "$round" idle "$out"
  else
    bench_log "$name: $scenario (round $round): $args"
    # shellcheck disable=SC2086 # args is a list of flags
    bench_load "$out" "$warmup" "$duration" $args
    append "$name" "$scenario" "$round" load "$out"
  fi
  bench_stop
  if [ "$round" = 1 ] && [[ " ${straced[*]} " == *" $scenario "* ]]; then
    bench_start "$name"
    bench_log "$name: $scenario under strace -c -f"
    # shellcheck disable=SC2086
    if bench_syscalls "$out.sys" "$strace_duration" $args; then
      append "$name" "$scenario" "$round" syscalls "$out.sys"
    fi
    bench_stop
  fi
}

started=$(date -u '+%Y-%m-%d %H:%M UTC')
load_start=$(cut -d' ' -f1 /proc/loadavg)
for round in $(seq 1 "$repeat"); do
  for scenario in "${scenarios[@]}"; do
    for name in "${runnable[@]}"; do
      measure "$name" "$scenario" "$round"
    done
  done
done

command="bench/run.sh${*:+ $*}"
cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
jq -n -c --arg started "$started" --arg command "$command" --arg cpu "$cpu_model" \
  --arg cpus "$(nproc)" --arg kernel "$(uname -r)" --argjson repeat "$repeat" \
  --argjson duration "$duration" --argjson warmup "$warmup" --argjson strace "$strace_duration" \
  --argjson idle "$idle_connections" --argjson fd_limit "$fd_limit" \
  --argjson fraction "$openloop_fraction" --arg load_start "$load_start" \
  --arg load_end "$(cut -d' ' -f1 /proc/loadavg)" \
  --arg skipped "$(printf '%s\n' "${skipped[@]+"${skipped[@]}"}")" \
  '{kind: "run", started: $started, command: $command, cpu: $cpu, cpus: $cpus, kernel: $kernel,
    repeat: $repeat, duration_s: $duration, warmup_s: $warmup, strace_s: $strace,
    idle_connections: $idle, fd_hard_limit: $fd_limit, openloop_fraction: $fraction,
    load_start: $load_start, load_end: $load_end,
    skipped: ($skipped | split("\n") | map(select(. != "")))}' >>"$raw"

cp "$raw" "$results/results.jsonl"
"$PYTHON" "$BENCH_DIR/report.py" "$results"
cat "$results/table.md"
bench_log "wrote $results/table.md, $results/results.jsonl$([ -f "$results/chart.png" ] &&
  echo ", $results/chart.png")"
