#!/usr/bin/env bash
# The runtime image's root file system without an engine: deploy/stage-rootfs.sh (the Dockerfile's
# last RUN) from this build tree, then each program and tini run from it through the tree's own
# dynamic loader with only the tree's libraries, so a library the image lacks fails here, before
# any `docker build`: every library the loader maps must come from the tree, --version must work,
# reactord must serve an echo, and the tree must hold the passwd entry of uid 10001, /tmp, and a
# dpkg record for every package it took files from. Runs without root.
# usage: runtime_rootfs_test.sh BUILD_DIR
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
build_dir=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
if [ ! -x /usr/bin/tini ]; then
  echo "SKIP: no /usr/bin/tini (deploy/install-deps.sh image installs it)"
  exit 77
fi
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; rm -rf "$work"' EXIT
root=$work/rootfs
BUILD_DIR=$build_dir "$repo/deploy/stage-rootfs.sh" "$root"

bad=0
fail() { echo "FAIL $*"; bad=1; }
loader=$root/usr/lib64/ld-linux-x86-64.so.2
libdir=$root/usr/lib/x86_64-linux-gnu
in_tree() { "$loader" --inhibit-cache --library-path "$libdir" "$@"; }
for bin in "$root"/usr/local/bin/* "$root/usr/bin/tini"; do
  name=$(basename "$bin")
  maps=$(LD_TRACE_LOADED_OBJECTS=1 in_tree "$bin" 2>&1) || { fail "$name: the loader says: $maps"; continue; }
  outside=$(awk '$2 == "=>" {print $3}' <<<"$maps" | grep -v "^$root/" || true)
  if grep -q "not found" <<<"$maps" || [ -n "$outside" ]; then
    fail "$name: libraries missing from the tree: $(grep 'not found' <<<"$maps" | tr -s ' \t' ' ') $outside"
  else
    echo "ok   $name: $(awk '$2 == "=>"' <<<"$maps" | wc -l) libraries, all from the tree"
  fi
  version=$(in_tree "$bin" --version 2>&1 | head -1) || fail "$name --version: $version"
  echo "ok   $name --version: $version"
done

# reactord from the tree serves an echo, checked by reactor-client from the tree.
log=$work/reactord.log
GLOG_logtostderr=1 "$loader" --inhibit-cache --library-path "$libdir" "$root/usr/local/bin/reactord" --bind=127.0.0.1 --port=0 --workers=1 \
  --status_file="$work/status" >"$log" 2>&1 &
pid=$!
for _ in $(seq 200); do grep -q "listening on" "$log" && break; sleep 0.05; done
if out=$(in_tree "$root/usr/local/bin/reactor-client" --check --status_file="$work/status" 2>&1); then
  echo "ok   reactord from the tree: $out"
else
  fail "reactor-client --check against reactord from the tree: $out"; cat "$log"
fi
kill -TERM "$pid"; wait "$pid" || fail "reactord exited $? on SIGTERM"
pid=

grep -q '^reactord:x:10001:10001:' "$root/etc/passwd" || fail "/etc/passwd has no reactord 10001"
[ "$(stat -c %a "$root/tmp")" = 1777 ] || fail "/tmp is not mode 1777"
for pkg in libc6 libstdc++6 libevent-core-2.1-7 libgoogle-glog0v6 libgflags2.2 tini; do
  grep -q "^Package: $pkg$" "$root/var/lib/dpkg/status.d/$pkg" 2>/dev/null || fail "no dpkg record for $pkg"
done
[ -e "$root/bin/sh" ] && fail "the tree has a shell"
echo "rootfs: $(du -sh --apparent-size "$root" | cut -f1), $(find "$root" -type f | wc -l) files"
[ $bad = 0 ]
