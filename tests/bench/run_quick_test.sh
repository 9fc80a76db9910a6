#!/usr/bin/env bash
# usage: run_quick_test.sh SOURCE_DIR BUILD_DIR
# Runs `bench/run.sh --quick --only=epoll,reactord1` on the binaries of BUILD_DIR and checks the
# table it writes: every scenario has a row per server with a positive rate and zero errors, and
# the idle table a positive memory figure. Never checks how fast anything was.
set -euo pipefail
source_dir=$1
build_dir=$2
for tool in jq taskset; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIP: $tool is missing (deploy/install-deps.sh bench installs it)"
    exit 77
  fi
done
results=$(mktemp -d /tmp/bench-quick-test.XXXXXX)
trap 'rm -rf "$results"' EXIT

BUILD_DIR=$build_dir "$source_dir/bench/run.sh" --quick --only=epoll,reactord1 --no-install \
  --no-build --results="$results"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
table="$results/table.md"
[ -s "$table" ] || fail "no $table"
[ -s "$results/results.jsonl" ] || fail "no results.jsonl"
# The load tables: columns server | msgs/s | per CPU-s | ... | errors (last).
for title in "64 B ping-pong" "open loop"; do
  for server in epoll reactord1; do
    row=$(awk -v t="### $title" -v s="| $server |" 'index($0, "###") == 1 {on = index($0, t) == 1}
      on && index($0, s) == 1' "$table")
    [ -n "$row" ] || fail "no row for $server under '$title'"
    rate=$(echo "$row" | awk -F'|' '{gsub(/[ ,]/, "", $3); print $3}')
    errors=$(echo "$row" | awk -F'|' '{gsub(/ /, "", $(NF - 1)); print $(NF - 1)}')
    [[ "$rate" =~ ^[0-9]+$ && "$rate" -gt 0 ]] || fail "$server, $title: rate '$rate'"
    [ "$errors" = 0 ] || fail "$server, $title: errors '$errors'"
  done
done
for server in epoll reactord1; do
  row=$(awk -v s="| $server |" '/^### .*idle connections/ {on = 1} on && index($0, s) == 1' "$table")
  [ -n "$row" ] || fail "no idle row for $server"
  with=$(echo "$row" | awk -F'|' '{gsub(/ /, "", $5); print $5}')
  [[ "$with" =~ ^[0-9]+\.[0-9]$ ]] || fail "$server idle: RSS with connections '$with'"
done
echo "PASS: $(grep -c '^| \(epoll\|reactord1\) ' "$table") table rows with figures"
