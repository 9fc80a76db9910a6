#!/usr/bin/env bash
# Makes the whole root file system of the runtime image in DEST, for the Dockerfile's
# `FROM scratch` stage: the three programs (deploy/stage-binaries.sh), tini, exactly the shared
# libraries that ldd says they load (with the dynamic loader), in Debian's merged-/usr layout, and
#   /etc/passwd, /etc/group        root, nobody and the user reactord (uid/gid 10001)
#   /tmp                           mode 1777, empty
#   /etc/os-release, debian_version  so that tools and scanners know what the libraries are
#   /var/lib/dpkg/status.d/PKG     the dpkg record of every Debian package a file was taken from
#                                  (the layout distroless uses, read by vulnerability scanners)
#   /usr/share/doc/PKG/copyright   the licences of those packages
# Runs in the Dockerfile's build stage (debian:bookworm, the libraries installed by
# deploy/install-deps.sh), and in tests/deploy/runtime_rootfs_test.sh on the build machine.
# usage: deploy/stage-rootfs.sh DEST      (build tree: build/ or $BUILD_DIR; DEST must not exist or be empty)
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 1 ] || { echo "usage: $0 DEST" >&2; exit 2; }
dest=$1
if [ -e "$dest" ] && [ -n "$(ls -A "$dest")" ]; then
  echo "stage-rootfs: $dest is not empty" >&2
  exit 1
fi
tini=/usr/bin/tini
[ -x "$tini" ] || { echo "stage-rootfs: $tini is missing (deploy/install-deps.sh image installs tini)" >&2; exit 1; }

mkdir -p "$dest"/usr/{bin,lib,lib64,local/bin} "$dest"/etc "$dest"/var/lib/dpkg/status.d "$dest"/usr/share/doc
# Debian 12's merged /usr: the ELF interpreter is /lib64/ld-linux-x86-64.so.2, libraries are
# found as /lib/<triplet>/...
for link in bin lib lib64; do ln -s "usr/$link" "$dest/$link"; done
install -d -m 1777 "$dest/tmp"
deploy/stage-binaries.sh "$dest/usr/local/bin" >/dev/null
install -m 0755 "$tini" "$dest/usr/bin/tini"

# The Debian package that holds a file (usrmerge: dpkg may know it as /lib/... or /usr/lib/...).
owner() {
  local f=$1 candidate p
  for candidate in "$f" "$(readlink -f "$f")" "${f#/usr}" "/usr$f"; do
    p=$(dpkg -S "$candidate" 2>/dev/null | head -1 | cut -d: -f1) && [ -n "$p" ] && { echo "$p"; return; }
  done
  return 1
}

packages=("$(owner "$tini")")
libs=()
for bin in "$dest"/usr/local/bin/* "$dest/usr/bin/tini"; do
  # "libfoo.so.1 => /lib/x86_64-linux-gnu/libfoo.so.1 (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)"
  while read -r path; do
    libs+=("$path")
  done < <(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}')
  if ldd "$bin" | grep -q "not found"; then
    echo "stage-rootfs: $bin needs a library that is not installed:" >&2
    ldd "$bin" | grep "not found" >&2
    exit 1
  fi
done
mapfile -t libs < <(printf '%s\n' "${libs[@]}" | sort -u)
for lib in "${libs[@]}"; do
  # The file under the name the loader looks for, in /usr (the /lib links lead there).
  target=$dest/usr${lib#/usr}
  mkdir -p "$(dirname "$target")"
  cp -L "$lib" "$target"
  pkg=$(owner "$lib") || { echo "stage-rootfs: no Debian package owns $lib" >&2; exit 1; }
  packages+=("$pkg")
done

mapfile -t packages < <(printf '%s\n' "${packages[@]}" | sort -u)
for pkg in "${packages[@]}"; do
  dpkg-query -s "$pkg" >"$dest/var/lib/dpkg/status.d/$pkg"
  if [ -f "/usr/share/doc/$pkg/copyright" ]; then
    mkdir -p "$dest/usr/share/doc/$pkg"
    cp "/usr/share/doc/$pkg/copyright" "$dest/usr/share/doc/$pkg/"
  fi
done

cp -L /usr/lib/os-release "$dest/usr/lib/os-release"
ln -s ../usr/lib/os-release "$dest/etc/os-release"
cp /etc/debian_version "$dest/etc/debian_version"
cat >"$dest/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
reactord:x:10001:10001:reactord:/nonexistent:/usr/sbin/nologin
EOF
cat >"$dest/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
reactord:x:10001:
EOF

echo "stage-rootfs: $(du -sh --apparent-size "$dest" | cut -f1) in $dest: $(cd "$dest/usr/local/bin" && ls | tr '\n' ' ')+ tini, ${#libs[@]} libraries from ${#packages[@]} packages (${packages[*]})"
