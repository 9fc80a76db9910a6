#!/usr/bin/env bash
# --workers=0 follows the CPUs the process may use, on the real kernel:
#   1. taskset -c FIRST_CPU: the affinity mask holds one CPU, so workers=1;
#   2. a cgroup v1 cpu controller with cfs_quota 50000/100000 (half a CPU, rounded up to 1) while
#      the affinity mask holds every CPU, so workers=1 comes from the quota (skipped when the machine
#      has one CPU, or no writable cgroup v1 cpu controller: cgroup v2 is covered by the fake-tree
#      unit tests of the probe).
# Each reactord listens on 127.0.0.1, port 0, and is stopped with SIGTERM (exit 0 expected).
# usage: workers_cpu_limit_test.sh path/to/reactord
set -euo pipefail
reactord=${1:?usage: $0 REACTORD}
work=$(mktemp -d)
pid=
cg=
cleanup() {
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
  [ -n "$cg" ] && [ -d "$cg" ] && rmdir "$cg" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# start_and_check NAME WANT_WORKERS COMMAND...: runs the command (reactord and its flags at the
# end), waits for its "listening on" line, checks workers=WANT, SIGTERMs it, expects exit 0.
start_and_check() {
  local name=$1 want=$2
  shift 2
  : >"$work/$name.log"  # before the background child opens it: the wait below greps it
  GLOG_logtostderr=1 "$@" --bind=127.0.0.1 --port=0 --workers=0 --stats_interval_s=0 \
    >"$work/$name.log" 2>&1 &
  pid=$!
  local deadline=$((SECONDS + 10))
  until grep -q "listening on" "$work/$name.log"; do
    if ! kill -0 "$pid" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
      echo "FAIL $name: no 'listening on' line:"; cat "$work/$name.log"; exit 1
    fi
    sleep 0.05
  done
  local line source
  line=$(grep -m1 "listening on" "$work/$name.log")
  source=$(grep -m1 -o "(from [^)]*)" "$work/$name.log" || true)
  kill -TERM "$pid"
  local rc=0
  wait "$pid" || rc=$?
  pid=
  if ! grep -q "workers=$want\b" <<<"$line"; then
    echo "FAIL $name: want workers=$want: ${line#*] }"; cat "$work/$name.log"; exit 1
  fi
  [ $rc = 0 ] || { echo "FAIL $name: exit code $rc after SIGTERM"; cat "$work/$name.log"; exit 1; }
  echo "ok   $name: ${line#*] } $source, exit 0 on SIGTERM"
}

command -v taskset >/dev/null || { echo "SKIP: taskset (util-linux) is missing"; exit 77; }
# The first CPU this process may use (a container's cpuset need not hold CPU 0).
first_cpu=$(taskset -pc $$ | sed 's/.*: *//; s/[-,].*//')
start_and_check taskset_one_cpu 1 taskset -c "$first_cpu" "$reactord"

cpus=$(nproc)
v1=/sys/fs/cgroup/cpu
if [ "$cpus" -lt 2 ]; then
  echo "skip cgroup_quota: one CPU here, a quota of half a CPU would not change the count"
elif [ -w "$v1" ] && [ -f "$v1/cpu.cfs_quota_us" ] && grep -q ':cpu[,:]' /proc/self/cgroup; then
  cg=$v1/reactord-test-$$
  mkdir "$cg"
  echo 100000 >"$cg/cpu.cfs_period_us"
  echo 50000 >"$cg/cpu.cfs_quota_us"
  # The shell joins the cgroup, then becomes reactord: the probe reads its own cgroup.
  start_and_check cgroup_v1_half_cpu 1 sh -c 'echo $$ > "$1/cgroup.procs"; shift; exec "$@"' sh "$cg" "$reactord"
  rmdir "$cg" && cg=
else
  echo "skip cgroup_quota: no writable cgroup v1 cpu controller here"
fi
echo "workers follow the CPU limit: ok"
