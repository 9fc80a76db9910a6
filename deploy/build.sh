#!/usr/bin/env bash
# Configures and builds reactord into build/ (or $BUILD_DIR). Extra arguments go to cmake.
# usage: deploy/build.sh [-DCMAKE_BUILD_TYPE=Debug ...]
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" "$@"
cmake --build "$build_dir" -j "$(nproc)"
