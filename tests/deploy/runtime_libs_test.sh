#!/usr/bin/env bash
# The runtime image holds only the staged binaries and deploy/install-runtime.sh's packages on
# debian:bookworm-slim. This stages the binaries as the Dockerfile does (deploy/stage-binaries.sh)
# and checks that every shared library they load belongs to a package that the runtime list
# pulls in (the list plus its dependencies), so a new library dependency fails here, not in a
# container. It also checks the list resolves with apt-get install --dry-run.
# usage: runtime_libs_test.sh BUILD_DIR
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
build_dir=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

BUILD_DIR=$build_dir "$repo/deploy/stage-binaries.sh" "$work/bin"
"$repo/deploy/install-runtime.sh" --dry-run

mapfile -t runtime < <("$repo/deploy/install-runtime.sh" --list)
# Everything those packages bring along (hard dependencies only, as --no-install-recommends).
allowed=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
  --no-replaces --no-enhances "${runtime[@]}" | grep -v '^ ' | tr -d '<>' | sed 's/:.*//' | sort -u)

# The Debian package that holds a library file (usrmerge: /lib is /usr/lib).
owner() {
  local f=$1 p
  for candidate in "$f" "$(readlink -f "$f")" "${f#/usr}" "/usr$f"; do
    p=$(dpkg -S "$candidate" 2>/dev/null | head -1 | cut -d: -f1) && [ -n "$p" ] && { echo "$p"; return; }
  done
  echo "?"
}

bad=0
used=()
for bin in "$work"/bin/*; do
  echo "$(basename "$bin"):"
  if ldd "$bin" | grep -q "not found"; then
    echo "  FAIL: libraries not found here: $(ldd "$bin" | grep 'not found' | tr -s ' \t' ' ')"
    bad=1
  fi
  while read -r lib path; do
    pkg=$(owner "$path")
    used+=("$pkg")
    if grep -qx "$pkg" <<<"$allowed"; then
      echo "  ok   $lib ($pkg)"
    else
      echo "  FAIL $lib: package '$pkg' is not pulled in by deploy/install-runtime.sh"
      bad=1
    fi
  done < <(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}')
done
for pkg in "${runtime[@]}"; do
  case "$pkg" in lib*) ;; *) continue ;; esac
  printf '%s\n' "${used[@]}" | grep -qx "$pkg" || echo "note: $pkg is in the runtime list but no binary loads it directly"
done
[ $bad = 0 ] && echo "runtime libraries: all covered by deploy/install-runtime.sh" || exit 1
