#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite. This is what CI runs.
# usage: deploy/test.sh [extra ctest arguments, e.g. -R Echo]
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh test
deploy/build.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure --timeout 300 -j 2 "$@"
