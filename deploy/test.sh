#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite: the normal build, then the
# container tests against a real Docker engine (deploy/test-containers.sh), then the same suite
# under ASan+UBSan and under TSan, then the fuzzers for a bounded time. This is what CI runs.
#
# usage: deploy/test.sh [extra ctest arguments, e.g. -R Echo]
# environment:
#   REACTORD_QUICK=1      only the normal build's suite and the container stage (no sanitizers, no
#                         fuzzing)
#   REACTORD_CONTAINERS=0 no container stage (the Dockerfile's build stage: no engine there)
#   REACTORD_CI=1         set by .ci/run: the container stage must run (it fails where no engine
#                         can start, instead of skipping)
#   REACTORD_FUZZ_SECONDS seconds per fuzz target (default 30)
#   REACTORD_LINT=0       no deploy/lint.sh (the Dockerfile's build stage: no npm there)
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh test

started=$SECONDS
stage() { echo; echo "=== deploy/test.sh: $* ($((SECONDS - started))s so far)"; }

# run_suite BUILD_DIR EXCLUDED_LABELS [cmake args...]: build, then ctest without those labels.
run_suite() {
  local dir=$1 exclude=$2
  shift 2
  local log="/tmp/reactord-build-$(basename "$dir").log"
  BUILD_DIR=$dir deploy/build.sh "$@" >"$log" 2>&1 ||
    { tail -50 "$log"; echo "build in $dir failed (log: $log)" >&2; return 1; }
  (cd "$dir" && ctest --output-on-failure --timeout 300 -j 2 -LE "$exclude" "${ctest_args[@]}")
}

ctest_args=("$@")
# The deploy recipes (Dockerfile, k8s, compose, haproxy); installs the `deploy` profile (haproxy,
# tini, npm, debootstrap) that tests/deploy uses too. The Dockerfile's build stage sets
# REACTORD_LINT=0 (no npm there).
if [ "${REACTORD_LINT:-1}" != 0 ]; then
  stage "deploy lint"
  deploy/lint.sh
fi
stage "normal build (RelWithDebInfo)"
# The container tests (label container) run once, in their own stage, which builds the image.
run_suite build 'soak|container'
if [ "${REACTORD_CONTAINERS:-1}" != 0 ]; then
  stage "containers (real Docker engine: image, health, compose, Prometheus)"
  deploy/test-containers.sh "${ctest_args[@]}"
fi
if [ "${REACTORD_QUICK:-0}" != 1 ]; then
  stage "ASan+UBSan build"
  # The bench smoke test compares speeds: meaningless on sanitized binaries.
  run_suite build-asan 'soak|bench|container' -DREACTORD_SANITIZE=address
  stage "TSan build"
  run_suite build-tsan 'soak|bench|container' -DREACTORD_SANITIZE=thread
  stage "fuzzing"
  deploy/fuzz.sh "${REACTORD_FUZZ_SECONDS:-30}"
fi
stage "all stages passed"
