#!/usr/bin/env bash
# The container stage of CI, which deploy/test.sh runs after the normal build, and which runs
# alone as well: installs the engine's packages (deploy/install-deps.sh container), builds the
# normal tree if needed, brings up a Docker engine (deploy/container-engine.sh), runs
# `ctest -L container` (tests/deploy: docker build of the Dockerfile, workers under CPU limits,
# health, docker stop, security options, compose behind HAProxy, Prometheus), then tears down only
# what it started.
#
# usage: deploy/test-containers.sh [extra ctest arguments, e.g. -R container.health]
# environment:
#   REACTORD_CI=1          the stage is mandatory: no engine is a failure (set by .ci/run)
#   REACTORD_CONTAINERS=0  skip the stage on purpose
#   REACTORD_KEEP_ENGINE=1 leave the engine and base images up afterwards (repeated local runs)
#   REACTORD_DOCKERD_ARGS  extra dockerd arguments when the script starts it
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
state=$PWD/$build_dir/container-engine

if [ "${REACTORD_CONTAINERS:-1}" = 0 ]; then
  echo "test-containers: SKIP: REACTORD_CONTAINERS=0"
  exit 0
fi
# Outside CI a machine without an engine skips the stage; in CI that is a failure.
unavailable() {
  if [ "${REACTORD_CI:-0}" = 1 ]; then
    echo "test-containers: FAIL: REACTORD_CI=1 and $*" >&2
    exit 1
  fi
  echo "test-containers: SKIP: $* (REACTORD_CI=1 makes this a failure; REACTORD_CONTAINERS=0 skips it quietly)"
  exit 0
}

started=$SECONDS
deploy/install-deps.sh container || unavailable "the container packages could not be installed"
if [ ! -x "$build_dir/server/reactord" ] || [ ! -f "$build_dir/CTestTestfile.cmake" ]; then
  BUILD_DIR=$build_dir deploy/build.sh >"/tmp/reactord-build-$(basename "$build_dir").log" 2>&1 ||
    { tail -30 "/tmp/reactord-build-$(basename "$build_dir").log"; echo "test-containers: build failed" >&2; exit 1; }
fi
rc=0
deploy/container-engine.sh up --state "$state" || rc=$?
if [ $rc = 3 ]; then
  unavailable "no container engine can run here (see above)"
elif [ $rc != 0 ]; then
  echo "test-containers: FAIL: deploy/container-engine.sh up exited $rc" >&2
  deploy/container-engine.sh down --state "$state" || true
  exit 1
fi
trap 'deploy/container-engine.sh down --state "$state"' EXIT
REACTORD_TEST_RUN=$(cat "$state/run-id")
export REACTORD_TEST_RUN
# The tests share one image (a CTest fixture builds it) and mostly wait on containers: two at once.
# Every test's output, passed ones too, goes to container-tests.xml (JUnit) in the build directory:
# what each check measured, for the record.
(cd "$build_dir" && ctest --output-on-failure --output-junit container-tests.xml \
  --test-output-size-passed 65536 --timeout 900 -j 2 -L container "$@")
echo "test-containers: passed in $((SECONDS - started)) s (engine up included; df of the engine's data root: $(df -h --output=avail "$(docker info --format '{{.DockerRootDir}}')" | tail -1 | tr -d ' ') free)"
