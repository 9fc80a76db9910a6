#!/usr/bin/env bash
# Copies the three programs the runtime image ships (reactord, reactor-client, reactor-bench)
# from the build tree into DEST/, without debug sections (the symbol table stays, for glog's
# stack traces). deploy/stage-rootfs.sh runs it (the Dockerfile's build stage, and
# tests/deploy/runtime_rootfs_test.sh).
# usage: deploy/stage-binaries.sh DEST      (build tree: build/ or $BUILD_DIR)
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 1 ] || { echo "usage: $0 DEST" >&2; exit 2; }
dest=$1
build_dir=${BUILD_DIR:-build}
bins=("$build_dir/server/reactord" "$build_dir/client/reactor-client" "$build_dir/client/reactor-bench")
mkdir -p "$dest"
for bin in "${bins[@]}"; do
  [ -x "$bin" ] || { echo "stage-binaries: $bin is missing: run deploy/build.sh first" >&2; exit 1; }
  install -m 0755 "$bin" "$dest/"
  strip --strip-debug "$dest/$(basename "$bin")"
done
echo "stage-binaries: $(cd "$dest" && ls | tr '\n' ' ')in $dest"
