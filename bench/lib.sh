# Shared by the bench/*.sh scripts (sourced, not run): the server table, starting and stopping
# servers pinned to a CPU, reading /proc, and running reactor-bench. Every process started here is
# recorded and killed by bench_cleanup, which the scripts install as their EXIT trap.
# shellcheck shell=bash

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT_DIR=$(cd "$BENCH_DIR/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT_DIR/build}
REACTOR_BENCH=${REACTOR_BENCH:-$BUILD_DIR/client/reactor-bench}
# Debian's interpreter, where python3-uvloop is installed (a pyenv or venv python3 on PATH may not
# have it).
PYTHON=${PYTHON:-/usr/bin/python3}
SERVER_CPU=0  # every server is pinned here (reactord --workers=2 gets both CPUs)
CLIENT_CPU=1  # and reactor-bench here
CLK_TCK=$(getconf CLK_TCK)
BENCH_TMP=$(mktemp -d /tmp/reactord-bench.XXXXXX)
BENCH_PIDS=()  # everything started in the background, killed on exit
SERVER_CLIENT_ARGS=()  # set by bench_server_command

# Every server bench/ knows, in the order of the tables.
ALL_SERVERS=(reactord1 reactord2 epoll bufferevent go node asyncio-streams asyncio-protocol
  uvloop-streams uvloop-protocol)

bench_log() { echo "bench: $*" >&2; }
bench_die() {
  echo "bench: error: $*" >&2
  exit 1
}

bench_cleanup() {
  local pid
  for pid in "${BENCH_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${BENCH_PIDS[@]}"; do
    bench_wait_gone "$pid" 3 || kill -KILL "$pid" 2>/dev/null || true
  done
  [ -n "${BENCH_KEEP_TMP:-}" ] || rm -rf "$BENCH_TMP"
}

# bench_wait_gone PID SECONDS: true once PID has exited (and is reaped when it is our child).
bench_wait_gone() {
  local pid=$1 deadline=$((SECONDS + $2))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ]; then
      wait "$pid" 2>/dev/null || true
      return 0
    fi
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.05
  done
  wait "$pid" 2>/dev/null || true
}

# Lets every server and client open the 15,000 idle connections: soft limit up to the hard one.
bench_raise_fd_limit() {
  ulimit -n "$(ulimit -Hn)"
}

# bench_server_cpus NAME: the CPU list NAME is pinned to.
bench_server_cpus() {
  if [ "$1" = reactord2 ]; then echo "$SERVER_CPU,$CLIENT_CPU"; else echo "$SERVER_CPU"; fi
}

# bench_server_command NAME: sets SERVER_COMMAND to the argv that serves echo on a free port of
# 127.0.0.1 and logs "listening on ADDR:PORT" to stderr, and SERVER_CLIENT_ARGS to what
# reactor-bench needs to talk to it (bench_client adds them).
bench_server_command() {
  SERVER_CLIENT_ARGS=()
  case "$1" in
    reactord1 | reactord2)
      SERVER_COMMAND=("$BUILD_DIR/server/reactord" --bind=127.0.0.1 --port=0
        "--workers=${1#reactord}" --protocol=echo --stats_interval_s=3600) ;;
    reactord1-full)  # every feature on: limits, timeouts, stats every second, the admin endpoint
      SERVER_COMMAND=("$BUILD_DIR/server/reactord" --bind=127.0.0.1 --port=0 --workers=1
        --protocol=echo --stats_interval_s=1 --max_connections=100000
        --max_connections_per_ip=100000 --idle_timeout_s=600 --write_timeout_s=600
        --admin_port=-1) ;;
    reactord1-proxy)  # reactord1-full behind a balancer: every connection starts with a v2 header
      SERVER_COMMAND=("$BUILD_DIR/server/reactord" --bind=127.0.0.1 --port=0 --workers=1
        --protocol=echo --stats_interval_s=1 --max_connections=100000
        --max_connections_per_ip=100000 --idle_timeout_s=600 --write_timeout_s=600
        --admin_port=-1 --proxy_protocol)
      SERVER_CLIENT_ARGS=(--proxy_header=v2) ;;
    epoll) SERVER_COMMAND=("$BUILD_DIR/bench/epoll_echo" 0) ;;
    bufferevent) SERVER_COMMAND=("$BUILD_DIR/bench/bufferevent_echo" 0) ;;
    go) SERVER_COMMAND=("$BUILD_DIR/bench/go_echo" -port=0) ;;
    node) SERVER_COMMAND=(node "$BENCH_DIR/peers/node_echo.js" 0) ;;
    asyncio-streams | uvloop-streams)
      SERVER_COMMAND=("$PYTHON" "$BENCH_DIR/peers/asyncio_streams.py" --port=0 "--loop=${1%-*}") ;;
    asyncio-protocol | uvloop-protocol)
      SERVER_COMMAND=("$PYTHON" "$BENCH_DIR/peers/asyncio_protocol.py" --port=0 --protocol=echo
        "--loop=${1%-*}") ;;
    *) bench_die "unknown server '$1' (known: ${ALL_SERVERS[*]})" ;;
  esac
}

# bench_server_missing NAME: prints why NAME cannot run here (and returns 0), or returns 1.
bench_server_missing() {
  case "$1" in
    reactord*) [ -x "$BUILD_DIR/server/reactord" ] || echo "$BUILD_DIR/server/reactord not built" ;;
    epoll) [ -x "$BUILD_DIR/bench/epoll_echo" ] || echo "$BUILD_DIR/bench/epoll_echo not built" ;;
    bufferevent) [ -x "$BUILD_DIR/bench/bufferevent_echo" ] ||
      echo "$BUILD_DIR/bench/bufferevent_echo not built" ;;
    go) if ! command -v go >/dev/null; then
      echo "no Go toolchain (Debian package golang-go)"
    elif [ ! -x "$BUILD_DIR/bench/go_echo" ]; then
      echo "$BUILD_DIR/bench/go_echo not built"
    fi ;;
    node) command -v node >/dev/null || echo "no Node.js (Debian package nodejs)" ;;
    asyncio-*) [ -x "$PYTHON" ] || echo "no $PYTHON (Debian package python3)" ;;
    uvloop-*) "$PYTHON" -c 'import uvloop' 2>/dev/null ||
      echo "no uvloop for $PYTHON (Debian package python3-uvloop)" ;;
    *) echo "unknown server" ;;
  esac | grep . && return 0
  return 1
}

# bench_build: configures build/ when needed and builds the C++ binaries (-j2: the machine is
# shared), then the Go peer with a build cache under build/ and no network.
bench_build() {
  if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
    cmake -S "$ROOT_DIR" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  fi
  local targets=(reactord epoll_echo bufferevent_echo)
  if grep -q 'reactor-bench' "$BUILD_DIR/Makefile" 2>/dev/null ||
    [ -f "$ROOT_DIR/client/CMakeLists.txt" ]; then
    targets+=(reactor-bench)
  fi
  bench_log "building ${targets[*]} in $BUILD_DIR"
  cmake --build "$BUILD_DIR" -j 2 --target "${targets[@]}" >"$BENCH_TMP/build.log" 2>&1 ||
    bench_die "build failed; see the log:$(echo; tail -20 "$BENCH_TMP/build.log")"
  if command -v go >/dev/null; then
    mkdir -p "$BUILD_DIR/bench/gocache"
    (cd "$BENCH_DIR/peers/go_echo" &&
      GOCACHE="$BUILD_DIR/bench/gocache" GOPROXY=off GOFLAGS='' GO111MODULE=off \
        go build -o "$BUILD_DIR/bench/go_echo" .) || bench_die "go build of bench/peers/go_echo failed"
  fi
  [ -x "$REACTOR_BENCH" ] || bench_die "no load generator at $REACTOR_BENCH (client/ not merged?)"
}

# bench_start NAME [WRAPPER...]: starts NAME pinned to its CPUs (under WRAPPER, e.g. valgrind,
# when given), waits (30 s at most) for its "listening on" line; sets SERVER_PID, SERVER_PORT and
# SERVER_LOG.
bench_start() {
  local name=$1
  shift
  bench_server_command "$name"
  SERVER_LOG="$BENCH_TMP/$name.$RANDOM.log"
  : >"$SERVER_LOG"
  taskset -c "$(bench_server_cpus "$name")" "$@" "${SERVER_COMMAND[@]}" 2>"$SERVER_LOG" >&2 &
  SERVER_PID=$!
  BENCH_PIDS+=("$SERVER_PID")
  local deadline=$((SECONDS + 30))
  until grep -q 'listening on' "$SERVER_LOG"; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
      bench_die "$name did not start listening within 30 s: $(tail -5 "$SERVER_LOG")"
    fi
    sleep 0.05
  done
  SERVER_PORT=$(grep -o 'listening on [^ ]*' "$SERVER_LOG" | head -1 | sed 's/.*://')
}

# bench_stop [SECONDS]: SIGTERM to the server, SIGKILL after SECONDS (default 5).
bench_stop() {
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  bench_wait_gone "$SERVER_PID" "${1:-5}" || kill -KILL "$SERVER_PID" 2>/dev/null || true
  bench_wait_gone "$SERVER_PID" 5 || true
}

# bench_cpu_ticks PID: user + system CPU time of every thread of PID, in clock ticks.
bench_cpu_ticks() {
  # Fields after the ")" that closes the command name: utime is the 12th, stime the 13th.
  sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}

# bench_status_kb PID FIELD: a VmRSS/VmHWM-style field of /proc/PID/status, in KiB.
bench_status_kb() {
  awk -v field="$2:" '$1 == field {print $2}' "/proc/$1/status"
}

# bench_open_fds PID: how many file descriptors PID has open.
bench_open_fds() {
  local fds=("/proc/$1/fd"/*)
  echo "${#fds[@]}"
}

# bench_client OUT ARGS...: runs reactor-bench pinned to the client CPU against SERVER_PORT in the
# background (stdout, its JSON line, to OUT; stderr to OUT.err), bounded by `timeout`. Sets
# CLIENT_PID. Wait for it with bench_client_wait.
bench_client() {
  local out=$1 limit=$2
  shift 2
  timeout --kill-after=5 "$limit" taskset -c "$CLIENT_CPU" "$REACTOR_BENCH" --host=127.0.0.1 \
    --port="$SERVER_PORT" --threads=1 --json "${SERVER_CLIENT_ARGS[@]}" "$@" >"$out" 2>"$out.err" &
  CLIENT_PID=$!
  BENCH_PIDS+=("$CLIENT_PID")
}

# bench_client_wait OUT: waits for the client; prints a line and returns 1 when it failed (its
# JSON, when there is one, still counts the errors).
bench_client_wait() {
  local status=0
  wait "$CLIENT_PID" || status=$?
  if [ "$status" -ne 0 ]; then
    bench_log "reactor-bench exited $status: $(tail -3 "$1.err" | tr '\n' ' ')"
    return 1
  fi
}

# bench_json_get FILE EXPR: a field of reactor-bench's JSON line (jq syntax, e.g. .messages).
bench_json_get() {
  jq -r "$2" <"$1"
}

# bench_strace_start PID OUT: attaches `strace -c -f` to every thread of PID; sets STRACE_PID.
# Returns 1 with a line on stderr when strace is missing or cannot attach (ptrace forbidden).
bench_strace_start() {
  if ! command -v strace >/dev/null; then
    bench_log "no strace (Debian package strace): syscalls not counted"
    return 1
  fi
  : >"$2.err"
  strace -c -f -p "$1" -o "$2" 2>"$2.err" &
  STRACE_PID=$!
  BENCH_PIDS+=("$STRACE_PID")
  local deadline=$((SECONDS + 5))
  until grep -q 'attached' "$2.err"; do
    if ! kill -0 "$STRACE_PID" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
      bench_log "strace could not attach to $1 ($(head -1 "$2.err")): syscalls not counted"
      kill -KILL "$STRACE_PID" 2>/dev/null || true
      return 1
    fi
    sleep 0.05
  done
  sleep 0.2  # the other threads are attached right after the first
}

# bench_strace_stop OUT: detaches strace (SIGINT) and prints the total number of syscalls it
# counted; the per-syscall table stays in OUT.
bench_strace_stop() {
  kill -INT "$STRACE_PID" 2>/dev/null || true
  bench_wait_gone "$STRACE_PID" 10 || bench_die "strace did not detach"
  # The "total" line: % time, seconds, usecs/call, calls, [errors], "total".
  awk '$NF == "total" {print $4}' "$1"
}

# bench_load OUT WARMUP DURATION CLIENT_ARGS...: one measured run against the running server.
# Server CPU time is sampled from the end of the client's warm-up to the end of its measured
# window, so that it covers the same messages the client counts. Writes to OUT one JSON object:
# {bench: <reactor-bench JSON>, server_cpu_s, window_s, warmup_s, peak_rss_kb, client_ok}.
bench_load() {
  local out=$1 warmup=$2 duration=$3
  shift 3
  local limit
  limit=$(awk -v w="$warmup" -v d="$duration" 'BEGIN {print int(w + d + 30)}')
  bench_client "$out.bench" "$limit" --warmup_s="$warmup" --duration_s="$duration" "$@"
  sleep "$warmup"
  local t0 t1
  t0=$(bench_cpu_ticks "$SERVER_PID") || bench_die "server $SERVER_PID is gone"
  sleep "$duration"
  t1=$(bench_cpu_ticks "$SERVER_PID") || bench_die "server $SERVER_PID is gone"
  local ok=true
  bench_client_wait "$out.bench" || ok=false
  bench_record "$out" "$ok" \
    --argjson server_cpu_s "$(awk -v t="$((t1 - t0))" -v hz="$CLK_TCK" 'BEGIN {print t / hz}')" \
    --argjson window_s "$duration" \
    --argjson warmup_s "$warmup" \
    --argjson peak_rss_kb "$(bench_status_kb "$SERVER_PID" VmHWM)"
}

# bench_syscalls OUT DURATION CLIENT_ARGS...: a separate run with `strace -c -f` attached to the
# server (which slows it down: its msgs/s are not comparable). No warm-up, so that the client
# counts every message strace saw. Writes {bench, syscalls, syscall_top: {name: calls}, client_ok}.
# Returns 1 when strace cannot run.
bench_syscalls() {
  local out=$1 duration=$2
  shift 2
  bench_strace_start "$SERVER_PID" "$out.strace" || return 1
  bench_client "$out.bench" "$(awk -v d="$duration" 'BEGIN {print int(d + 30)}')" \
    --warmup_s=0 --duration_s="$duration" "$@"
  local ok=true
  bench_client_wait "$out.bench" || ok=false
  local total
  total=$(bench_strace_stop "$out.strace")
  # Rows of the per-syscall table: % time, seconds, usecs/call, calls, [errors], syscall.
  local top
  top=$(awk '$1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" {print $NF, $4}' "$out.strace" |
    sort -k2,2nr | head -8 | jq -R -s -c 'split("\n") | map(select(. != "") | split(" ") |
      {key: .[0], value: (.[1] | tonumber)}) | from_entries')
  bench_record "$out" "$ok" --argjson syscalls "${total:-0}" --argjson syscall_top "$top"
}

# bench_idle OUT CONNECTIONS HOLD_S: opens CONNECTIONS idle connections to the running server and
# reads its VmRSS before and once they are all open (counted in /proc/PID/fd). Writes
# {bench, connections, rss_before_kb, rss_with_kb, peak_rss_kb, client_ok}.
bench_idle() {
  local out=$1 connections=$2 hold=$3
  local rss_before fds_before
  rss_before=$(bench_status_kb "$SERVER_PID" VmRSS)
  fds_before=$(bench_open_fds "$SERVER_PID")
  # A 30 s reply timeout: a slow server accepting a burst of connections is measured for memory
  # here, not for how fast it accepts (connect-churn measures that).
  bench_client "$out.bench" "$((hold + 120))" --mode=idle --connections="$connections" \
    --message_bytes=64 --warmup_s=0 --duration_s="$hold" --timeout_ms=30000
  local deadline=$((SECONDS + hold + 90))
  while [ "$(bench_open_fds "$SERVER_PID")" -lt "$((fds_before + connections))" ]; do
    if ! kill -0 "$CLIENT_PID" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
      bench_log "the server never held $connections connections"
      break
    fi
    sleep 0.2
  done
  sleep 1  # lets the last round-trips finish and the allocator settle
  local rss_with open
  rss_with=$(bench_status_kb "$SERVER_PID" VmRSS)
  open=$(($(bench_open_fds "$SERVER_PID") - fds_before))
  local ok=true
  bench_client_wait "$out.bench" || ok=false
  bench_record "$out" "$ok" --argjson connections "$connections" --argjson open_seen "$open" \
    --argjson rss_before_kb "$rss_before" --argjson rss_with_kb "$rss_with" \
    --argjson peak_rss_kb "$(bench_status_kb "$SERVER_PID" VmHWM)"
}

# bench_record OUT OK JQ_ARGS...: writes OUT: reactor-bench's JSON (or null when it printed none)
# under "bench", plus the fields given as jq --argjson pairs.
bench_record() {
  local out=$1 ok=$2
  shift 2
  local client=null
  if jq -e . "$out.bench" >/dev/null 2>&1; then
    client=$(jq -c . "$out.bench")
  fi
  jq -n -c --argjson bench "$client" --argjson client_ok "$ok" "$@" \
    '$ARGS.named + {bench: $bench, client_ok: $client_ok}' >"$out"
}
