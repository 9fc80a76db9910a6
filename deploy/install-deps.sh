#!/usr/bin/env bash
# Installs, with apt, every Debian package that reactord needs to build, test and run, and
# nothing that is already there. Used by deploy/run.sh, deploy/test.sh and the Dockerfile.
#
# usage: deploy/install-deps.sh [build|test|image|bench|deploy|container]   (default: test)
#   build  compiler, CMake and the libraries
#   test   build + what the test suite drives (iproute2, procps, python3, python3-yaml for the
#          k8s manifest's flags, ncat, curl, promtool from prometheus; systemd for
#          systemd-analyze, which checks deploy/systemd offline) and clang with its runtime for
#          the fuzzers
#   image  test + tini (the Dockerfile's build stage: deploy/stage-rootfs.sh copies it)
#   bench  test + the peers and tools of bench/ (strace, valgrind, python3-uvloop, golang-go, gnuplot,
#          jq)
#   deploy test + what deploy/lint.sh and tests/deploy use (haproxy, tini, npm for the linters,
#          debootstrap for the base images of deploy/container-engine.sh)
#   container  deploy + a real container engine and what the container tests drive (docker.io,
#          docker-compose 1.29, prometheus with promtool, python3-yaml for the compose test):
#          deploy/test-containers.sh
set -euo pipefail

profile=${1:-test}
build_pkgs=(g++ cmake make pkg-config libevent-dev libgflags-dev libgoogle-glog-dev libgtest-dev
  libgmock-dev libbenchmark-dev)
test_pkgs=(iproute2 procps python3 python3-yaml ncat curl jq clang libclang-rt-14-dev systemd
  prometheus)
bench_pkgs=(strace valgrind python3-uvloop golang-go gnuplot-nox nodejs jq)
deploy_pkgs=(haproxy tini nodejs npm debootstrap)
container_pkgs=(docker.io docker-compose prometheus python3-yaml)

case "$profile" in
  build) want=("${build_pkgs[@]}") ;;
  test) want=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
  image) want=("${build_pkgs[@]}" "${test_pkgs[@]}" tini) ;;
  bench) want=("${build_pkgs[@]}" "${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
  deploy) want=("${build_pkgs[@]}" "${test_pkgs[@]}" "${deploy_pkgs[@]}") ;;
  container) want=("${build_pkgs[@]}" "${test_pkgs[@]}" "${deploy_pkgs[@]}" "${container_pkgs[@]}") ;;
  *) echo "install-deps.sh: unknown profile '$profile' (build, test, image, bench, deploy or container)" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  if [ "$p" = nodejs ] && command -v node >/dev/null 2>&1; then
    continue  # a Node.js from elsewhere (nodesource) serves as well
  fi
  if [ "$p" = npm ] && command -v npm >/dev/null 2>&1; then
    continue  # nodesource's nodejs ships npm (and conflicts with Debian's npm package)
  fi
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#want[@]} packages of profile '$profile' present"
  exit 0
fi

sudo=()
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
