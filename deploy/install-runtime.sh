#!/usr/bin/env bash
# Installs what the runtime image needs and nothing more: the shared libraries that reactord,
# reactor-client and reactor-bench load, and tini as PID 1; then adds the unprivileged user
# `reactord` (uid/gid 10001) that the image and deploy/k8s run as. The Dockerfile's runtime stage
# runs it on debian:bookworm-slim; CI runs it with --dry-run (tests/deploy) so that a package name
# that stops resolving, or a library the binaries need but the list lacks, fails here first.
#
# usage: deploy/install-runtime.sh            install, clean the apt lists, add the user (root)
#        deploy/install-runtime.sh --dry-run  resolve the list with apt-get install --dry-run only
#        deploy/install-runtime.sh --list     print the packages, one a line
set -euo pipefail

# Keep in step with the libraries the binaries link (tests/deploy/runtime_libs_test.sh checks it).
runtime_pkgs=(libevent-core-2.1-7 libevent-extra-2.1-7 libevent-pthreads-2.1-7 libgflags2.2
  libgoogle-glog0v6 tini)
user=reactord
uid=10001

case "${1:-}" in
  --list)
    printf '%s\n' "${runtime_pkgs[@]}"
    exit 0
    ;;
  --dry-run)
    # Resolves from the package lists, or from dpkg's status where a package is installed already.
    apt-get install --dry-run -q --no-install-recommends "${runtime_pkgs[@]}" >/dev/null
    echo "install-runtime: ${#runtime_pkgs[@]} packages resolve: ${runtime_pkgs[*]}"
    exit 0
    ;;
  "") ;;
  *) echo "usage: $0 [--dry-run|--list]" >&2; exit 2 ;;
esac

[ "$(id -u)" = 0 ] || { echo "install-runtime: must run as root (it is the image's RUN step)" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${runtime_pkgs[@]}"
apt-get clean
rm -rf /var/lib/apt/lists/*
if ! id "$user" >/dev/null 2>&1; then
  groupadd --system --gid "$uid" "$user"
  useradd --system --uid "$uid" --gid "$uid" --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin "$user"
fi
echo "install-runtime: installed ${runtime_pkgs[*]}; user $user is $(id "$user")"
