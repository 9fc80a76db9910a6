#!/usr/bin/env bash
# `cmake --install` into a staging directory, then checks what a host gets: the binaries run, the
# example flagfile starts the installed reactord (which drains and exits 0 on SIGTERM), the
# systemd unit passes `systemd-analyze verify`, and `systemd-analyze security` rates its exposure
# at most 2.0 (systemd's "OK" band). Offline: no running systemd is needed (CI has none).
#
# usage: systemd_unit_test.sh BUILD_DIR        exits 77 (skip) without systemd-analyze
set -euo pipefail
build=$(cd "$1" && pwd)
if ! command -v systemd-analyze >/dev/null; then
  echo "SKIP: systemd-analyze not found (Debian package systemd; deploy/install-deps.sh test)"
  exit 77
fi
stage=$(mktemp -d "/tmp/reactord-install-test.$$.XXXXXX")
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill -9 "$server_pid" 2>/dev/null
  rm -rf "$stage"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

DESTDIR="$stage/root" cmake --install "$build" >"$stage/install.log"
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
root="$stage/root"
unit="$root$prefix/lib/systemd/system/reactord@.service"
for file in "$prefix/bin/reactord" "$prefix/bin/reactor-client" "$prefix/bin/reactor-bench" \
            "$prefix/sbin/reactord-upgrade" "$prefix/share/doc/reactord/README.md" \
            "$prefix/share/doc/reactord/docs/operations.md" "$prefix/share/doc/reactord/bench/README.md" \
            "$prefix/share/doc/reactord/reactord-help.txt" "$prefix/lib/systemd/system/reactord@.service"; do
  [ -e "$root$file" ] || fail "cmake --install did not install $file"
done
flagfile=$(sed -n 's/^ExecStart=[^ ]* --flagfile=\([^ ]*\).*/\1/p' "$unit")
[ -f "$root$flagfile" ] || fail "the unit's flagfile $flagfile is not installed"
grep -q -- '--takeover_from' "$root$prefix/share/doc/reactord/reactord-help.txt" ||
  fail "the installed --help text does not document --takeover_from"
echo "installed: $(cd "$root" && find . -type f | sort | tr '\n' ' ')"

# The installed binary with the installed flagfile (a free port instead of 7000, no admin port).
"$root$prefix/bin/reactord" --version | grep -q reactord || fail "installed reactord --version"
log="$stage/reactord.log"
"$root$prefix/bin/reactord" --flagfile="$root$flagfile" --port=0 --admin_port=0 \
  --control_socket="$stage/control" >"$log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do grep -q 'listening on' "$log" && break; sleep 0.1; done
grep -q 'listening on' "$log" || { cat "$log"; fail "reactord did not start with the example flagfile"; }
kill -TERM "$server_pid"
status=0
wait "$server_pid" || status=$?
server_pid=
[ "$status" = 0 ] || { cat "$log"; fail "reactord exited $status on SIGTERM"; }
echo "example flagfile: started, drained on SIGTERM, exit 0"

# systemd-analyze checks that the unit's ExecStart is executable: point it at the staged binary.
mkdir "$stage/units"
sed "s|^ExecStart=$prefix/bin/reactord|ExecStart=$root$prefix/bin/reactord|" "$unit" \
  >"$stage/units/reactord@.service"
systemd-analyze verify --man=no "$stage/units/reactord@blue.service" 2>&1 | tee "$stage/verify.log"
[ -s "$stage/verify.log" ] && fail "systemd-analyze verify reported the lines above"
echo "systemd-analyze verify: clean"
systemd-analyze security --offline=yes "$stage/units/reactord@blue.service" >"$stage/security.log" 2>&1 || true
exposure=$(sed -n 's/.*Overall exposure level for reactord@blue.service: \([0-9.]*\).*/\1/p' \
  "$stage/security.log")
[ -n "$exposure" ] || { cat "$stage/security.log"; fail "no exposure level from systemd-analyze security"; }
grep '✗' "$stage/security.log" || true
echo "systemd-analyze security: overall exposure $exposure"
awk -v e="$exposure" 'BEGIN { exit !(e <= 2.0) }' || fail "exposure $exposure is above 2.0"
echo "PASS"
