#!/usr/bin/env bash
# Brings up a Docker engine and the base images that the Dockerfile names, for the container tests
# (tests/deploy, CTest label `container`), and tears down only what it started.
#
# usage: deploy/container-engine.sh up|down|status [--state DIR]     (default DIR: build/container-engine)
#   up      An engine that answers (`docker info`) is used as it is and left alone. Otherwise, as
#           root: start dockerd --iptables=false --ip6tables=false --bridge=none (no iptables and
#           no default bridge here; user-defined networks, Docker's DNS and published ports work)
#           plus $REACTORD_DOCKERD_ARGS (e.g. --storage-driver=vfs where overlay2 does not work),
#           log in DIR/dockerd.log. Then debian:bookworm and debian:bookworm-slim, if missing:
#           `docker pull`, or, where no registry answers, `debootstrap --variant=minbase bookworm`
#           from the apt mirror, imported as debian:bookworm and tagged debian:bookworm-slim.
#           Prints the run id (DIR/run-id) that tests label their containers, networks and images
#           with (org.reactord.test-run); deploy/test-containers.sh exports it as REACTORD_TEST_RUN.
#   down    Removes the containers, networks and images labelled with DIR's run id (what a test
#           left behind), the base images that `up` made, and stops dockerd if `up` started it,
#           unless containers of somebody else run on it (then it says so and leaves it running).
#           REACTORD_KEEP_ENGINE=1: remove the test leftovers only (repeated local runs).
#   status  What DIR says was started, and whether the engine answers.
# Idempotent: `up` twice starts nothing the second time; `down` without `up` removes nothing.
# Exit status: 0 done; 3 no engine can run here (not root, no dockerd, the daemon did not answer;
# the reason on stderr); 1 anything else failed.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
action=${1:-}
state=$repo/${BUILD_DIR:-build}/container-engine
if [ "${2:-}" = --state ] && [ -n "${3:-}" ]; then
  state=$3
elif [ $# -ne 1 ]; then
  action=usage
fi
label=org.reactord.test-run
log() { echo "container-engine: $*"; }
no_engine() { echo "container-engine: no container engine can run here: $*" >&2; exit 3; }

# `docker info` answers in milliseconds, but a daemon busy with builds on a loaded machine may take
# seconds.
docker_ok() { timeout 60 docker info >/dev/null 2>&1; }

# A dockerd that runs already (ours from an earlier `up`, or anybody's) but does not answer: never
# start a second one beside it (it would take over the socket path and cut the first one off).
running_dockerd() {
  local pid
  for pidfile in /var/run/docker.pid /run/docker.pid; do
    [ -s "$pidfile" ] && pid=$(cat "$pidfile") && kill -0 "$pid" 2>/dev/null && { echo "$pid"; return 0; }
  done
  pgrep -x dockerd | head -1
}

start_dockerd() {
  local other
  other=$(running_dockerd || true)
  if [ -n "$other" ]; then
    no_engine "dockerd (pid $other) runs but does not answer on $(docker context inspect -f '{{.Endpoints.docker.Host}}' 2>/dev/null || echo its socket); not starting a second one"
  fi
  [ "$(id -u)" = 0 ] || no_engine "no engine answers and starting dockerd needs root"
  command -v dockerd >/dev/null || no_engine "no engine answers and dockerd is not installed (deploy/install-deps.sh container)"
  command -v docker >/dev/null || no_engine "the docker client is not installed (deploy/install-deps.sh container)"
  # In a chroot whose root is no mount point of its own (a plain debootstrap chroot), dockerd
  # starts but cannot unpack a single image ("remount /, flags: 0x84000: invalid argument",
  # measured); a chroot whose root is bind-mounted onto itself works.
  if [ -r /proc/self/mountinfo ] && ! awk '$5 == "/" {found = 1} END {exit !found}' /proc/self/mountinfo; then
    no_engine "/ is not a mount point here (a chroot?): dockerd could not unpack images; bind-mount the chroot's root onto itself before entering it (mount --bind DIR DIR)"
  fi
  local args=(--iptables=false --ip6tables=false --bridge=none)
  # shellcheck disable=SC2206  # words on purpose
  args+=(${REACTORD_DOCKERD_ARGS:-})
  log "starting dockerd ${args[*]} (log: $state/dockerd.log)"
  echo "=== $(date -u +%FT%TZ) dockerd ${args[*]}" >>"$state/dockerd.log"
  setsid dockerd "${args[@]}" >>"$state/dockerd.log" 2>&1 </dev/null 9>&- &
  local pid=$!
  echo "$pid" >"$state/dockerd.pid"
  local deadline=$((SECONDS + 60))
  until docker_ok; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$state/dockerd.pid"
      tail -5 "$state/dockerd.log" >&2
      no_engine "dockerd exited at start (log above, whole in $state/dockerd.log)"
    fi
    if [ $SECONDS -ge $deadline ]; then
      kill -TERM "$pid" 2>/dev/null || true
      rm -f "$state/dockerd.pid"
      no_engine "dockerd did not answer within 60 s ($state/dockerd.log)"
    fi
    sleep 0.5
  done
  log "dockerd (pid $pid) answers: $(docker info --format '{{.ServerVersion}}, storage {{.Driver}}, cgroup v{{.CgroupVersion}}')"
}

# debian:bookworm from a registry, or made here from Debian's archive.
make_base_images() {
  local have=1
  for image in debian:bookworm debian:bookworm-slim; do
    docker image inspect "$image" >/dev/null 2>&1 || have=0
  done
  [ $have = 1 ] && { log "base images debian:bookworm and debian:bookworm-slim present"; return 0; }
  for image in debian:bookworm debian:bookworm-slim; do
    docker image inspect "$image" >/dev/null 2>&1 && continue
    if timeout 300 docker pull -q "$image" >/dev/null 2>&1; then
      log "pulled $image"
    else
      import_bookworm "$image"
    fi
    echo "$image" >>"$state/images-made"
  done
}

import_bookworm() {
  local image=$1
  if docker image inspect debian:bookworm >/dev/null 2>&1; then
    docker tag debian:bookworm "$image"
    log "no registry: tagged debian:bookworm as $image"
    return 0
  fi
  [ "$(id -u)" = 0 ] || { echo "container-engine: $image is missing and debootstrap needs root" >&2; exit 1; }
  command -v debootstrap >/dev/null || { echo "container-engine: no registry and no debootstrap (deploy/install-deps.sh container)" >&2; exit 1; }
  local mirror
  mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [ -n "$mirror" ] || mirror=$(awk '/^deb / {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  mirror=${mirror:-http://deb.debian.org/debian}
  local tree
  tree=$(mktemp -d /tmp/reactord-bookworm.XXXXXX)
  log "no registry: debootstrap --variant=minbase bookworm from $mirror (about a minute)"
  if ! debootstrap --variant=minbase bookworm "$tree" "$mirror" >"$state/debootstrap.log" 2>&1; then
    rm -rf "$tree"
    tail -5 "$state/debootstrap.log" >&2
    echo "container-engine: debootstrap failed ($state/debootstrap.log)" >&2
    exit 1
  fi
  rm -rf "$tree"/var/cache/apt/archives/*.deb "$tree"/var/lib/apt/lists/*
  tar -C "$tree" -c . | docker import - debian:bookworm >/dev/null
  rm -rf "$tree"
  [ "$image" = debian:bookworm ] || docker tag debian:bookworm "$image"
  log "imported debian:bookworm ($(docker image inspect -f '{{.Size}}' debian:bookworm | numfmt --to=iec) from debootstrap)${image/debian:bookworm/}"
}

remove_labelled() {
  local run=$1 ids
  ids=$(docker ps -aq --filter "label=$label=$run")
  [ -z "$ids" ] || { log "removing containers of run $run: $(echo $ids)"; docker rm -f $ids >/dev/null || true; }
  ids=$(docker network ls -q --filter "label=$label=$run")
  [ -z "$ids" ] || { log "removing networks of run $run"; docker network rm $ids >/dev/null || true; }
  ids=$(docker images -q --filter "label=$label=$run" | sort -u)
  [ -z "$ids" ] || { log "removing images of run $run"; docker rmi -f $ids >/dev/null || true; }
}

up() {
  mkdir -p "$state"
  exec 9>"$state/lock"
  flock 9
  [ -s "$state/run-id" ] || echo "run-$(date +%Y%m%d%H%M%S)-$$" >"$state/run-id"
  if [ -s "$state/dockerd.pid" ] && kill -0 "$(cat "$state/dockerd.pid")" 2>/dev/null; then
    docker_ok || no_engine "dockerd (pid $(cat "$state/dockerd.pid")), started by an earlier 'up', does not answer (log: $state/dockerd.log)"
    log "dockerd (pid $(cat "$state/dockerd.pid")) started by an earlier 'up' answers"
  elif docker_ok; then
    rm -f "$state/dockerd.pid"
    log "using the running engine ($(docker info --format '{{.ServerVersion}}, storage {{.Driver}}')); it will be left alone"
  else
    command -v docker >/dev/null || no_engine "the docker client is not installed (deploy/install-deps.sh container)"
    start_dockerd
  fi
  make_base_images
  log "run id $(cat "$state/run-id")"
}

down() {
  [ -d "$state" ] || { log "nothing recorded in $state: nothing to tear down"; return 0; }
  exec 9>"$state/lock"
  flock 9
  if ! docker_ok; then
    log "no engine answers: nothing to remove"
    rm -f "$state/dockerd.pid" "$state/images-made" "$state/run-id"
    return 0
  fi
  [ -s "$state/run-id" ] && remove_labelled "$(cat "$state/run-id")"
  rm -f "$state/run-id"
  if [ "${REACTORD_KEEP_ENGINE:-0}" = 1 ]; then
    log "REACTORD_KEEP_ENGINE=1: leaving the engine and the base images"
    return 0
  fi
  if [ -s "$state/images-made" ]; then
    # shellcheck disable=SC2046
    docker rmi $(sort -u "$state/images-made") >/dev/null 2>&1 &&
      log "removed the base images made by 'up': $(sort -u "$state/images-made" | tr '\n' ' ')" ||
      log "base images still in use, left: $(sort -u "$state/images-made" | tr '\n' ' ')"
    rm -f "$state/images-made"
  fi
  [ -s "$state/dockerd.pid" ] || return 0
  local pid others
  pid=$(cat "$state/dockerd.pid")
  others=$(docker ps -q)
  if [ -n "$others" ]; then
    log "other containers run on dockerd (pid $pid): left running ($(docker ps --format '{{.Names}}' | tr '\n' ' '))"
    return 0
  fi
  log "stopping dockerd (pid $pid), which 'up' started"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
  kill -0 "$pid" 2>/dev/null && { log "dockerd did not stop in 30 s: SIGKILL"; kill -KILL "$pid" || true; }
  rm -f "$state/dockerd.pid"
  # dockerd leaves its default network namespace's bind mount behind when it stops.
  if [ -z "$(running_dockerd || true)" ] && mountpoint -q /run/docker/netns/default 2>/dev/null; then
    umount /run/docker/netns/default && log "unmounted /run/docker/netns/default, which dockerd left"
  fi
}

status() {
  log "state $state: run id $(cat "$state/run-id" 2>/dev/null || echo none), dockerd started here: $(cat "$state/dockerd.pid" 2>/dev/null || echo no), base images made here: $(cat "$state/images-made" 2>/dev/null | tr '\n' ' ' || true)"
  docker_ok && log "engine answers: $(docker info --format '{{.ServerVersion}}, storage {{.Driver}}')" || log "no engine answers"
}

case "$action" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up|down|status [--state DIR]" >&2; exit 2 ;;
esac
