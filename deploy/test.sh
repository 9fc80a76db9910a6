#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite. This is what CI runs.
# usage: deploy/test.sh [extra ctest arguments, e.g. -R Echo]
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh test
deploy/build.sh
# The deploy recipes (Dockerfile, k8s, compose, haproxy); installs the `deploy` profile (haproxy,
# tini, npm) that tests/deploy uses too. The Dockerfile's build stage sets REACTORD_LINT=0.
[ "${REACTORD_LINT:-1}" = 0 ] || deploy/lint.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure --timeout 300 -j 2 "$@"
