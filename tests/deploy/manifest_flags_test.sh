#!/usr/bin/env bash
# The reactord arguments in deploy/k8s and deploy/compose are ones reactord accepts: each set
# starts the real binary (with --bind=127.0.0.1 --port=0 appended, and --admin_port=-1 on loopback
# where the set has an admin port, so it runs anywhere: gflags takes the last value), which must log "listening on" and exit 0 on SIGTERM. The schemas cannot
# see a misspelt --drain_timeout or an out-of-range value; this does.
# usage: manifest_flags_test.sh REACTORD      (LINT_CACHE: deploy/lint.sh's npm cache)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
reactord=${1:?usage: $0 REACTORD}
cache=${LINT_CACHE:-$repo/build/deploy-lint}
if [ "${REACTORD_LINT:-1}" = 0 ] || [ ! -d "$cache/node_modules" ]; then
  echo "SKIP: no lint cache at $cache (deploy/lint.sh makes it; REACTORD_LINT=0 skips it)"
  exit 77
fi
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; rm -rf "$work"' EXIT

node "$cache/server_args.js" --repo "$repo" >"$work/sets"
count=$(wc -l <"$work/sets")
[ "$count" -ge 2 ] || { echo "FAIL: expected argument sets from k8s and compose, got $count"; cat "$work/sets"; exit 1; }
fails=0
n=0
while read -r json; do
  n=$((n + 1))
  source=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["source"])' "$json")
  mapfile -t args < <(python3 -c 'import json,sys; print("\n".join(json.loads(sys.argv[1])["args"]))' "$json")
  log=$work/$n.log
  : >"$log"
  GLOG_logtostderr=1 "$reactord" "${args[@]}" --bind=127.0.0.1 --port=0 \
    $(printf '%s\n' "${args[@]}" | grep -q -- '^--admin_port=' && echo --admin_bind=127.0.0.1 --admin_port=-1) \
    >"$log" 2>&1 &
  pid=$!
  deadline=$((SECONDS + 10))
  until grep -q "listening on" "$log"; do
    if ! kill -0 "$pid" 2>/dev/null || [ $SECONDS -ge $deadline ]; then break; fi
    sleep 0.05
  done
  rc=0
  if grep -q "listening on" "$log"; then
    kill -TERM "$pid"
    wait "$pid" || rc=$?
  else
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" || rc=$?
    rc=${rc:-1}
    [ $rc = 0 ] && rc=1
  fi
  pid=
  if [ $rc = 0 ]; then
    echo "ok   $source: reactord ${args[*]} starts and drains"
  else
    echo "FAIL $source: reactord ${args[*]}: exit $rc"
    sed 's/^/    /' "$log"
    fails=$((fails + 1))
  fi
done <"$work/sets"
echo "$((n - fails)) passed, $fails failed"
[ $fails = 0 ]
