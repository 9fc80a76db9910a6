#!/usr/bin/env bash
# Replaces every running replica of the reactord service of a compose project with one made from
# the service's current image and configuration, without a failed request. A plain
# `docker-compose up -d` after an image change stops and recreates every replica at once (11 s
# with no backend, 45,834 failed requests when tried); this instead:
#   1. starts N new replicas beside the N old ones (`up -d --no-recreate --scale reactord=2N`:
#      compose leaves the old ones as they are and makes the new ones from the current image),
#      and waits until Docker reports each new one healthy (the image's HEALTHCHECK); HAProxy finds
#      them through Docker's DNS and checks /readyz before it sends them anything;
#   2. stops the old replicas one at a time (`docker stop`: SIGTERM; /readyz fails at once, HAProxy
#      takes the replica out after two failed checks while its listeners still serve for
#      --drain_delay_s, then it drains) and removes them;
#   3. sets compose's count back to N (`--scale reactord=N`, which now changes nothing).
# If a new replica does not turn healthy, the new ones are removed and the old ones keep serving
# (exit 1). tests/deploy/container_compose_test.py runs it under load and counts failed requests.
#
# usage: deploy/compose/upgrade.sh [-p PROJECT] [-f COMPOSE_FILE] [-s SERVICE]
#          (defaults: reactord, deploy/compose/compose.yaml, reactord)
# environment: COMPOSE (default "docker-compose"; "docker compose" for Compose v2),
#              HEALTHY_TIMEOUT_S (default 120)
set -euo pipefail
project=reactord
file=$(dirname "$0")/compose.yaml
service=reactord
while getopts "p:f:s:" opt; do
  case $opt in
    p) project=$OPTARG ;;
    f) file=$OPTARG ;;
    s) service=$OPTARG ;;
    *) echo "usage: $0 [-p PROJECT] [-f COMPOSE_FILE] [-s SERVICE]" >&2; exit 2 ;;
  esac
done
# shellcheck disable=SC2206  # "docker compose" is two words
compose=(${COMPOSE:-docker-compose} -p "$project" -f "$file")
log() { echo "upgrade $(date +%H:%M:%S): $*"; }

replicas() {
  docker ps -q --no-trunc --filter "label=com.docker.compose.project=$project" \
    --filter "label=com.docker.compose.service=$service" | sort
}
name() { docker inspect -f '{{.Name}}' "$1" | tr -d /; }

mapfile -t old < <(replicas)
n=${#old[@]}
[ "$n" -gt 0 ] || { echo "upgrade: no running $service replicas in project $project" >&2; exit 1; }
log "$n running $service replicas: $(for c in "${old[@]}"; do name "$c"; done | tr '\n' ' ')"

log "starting $n new replicas beside them"
"${compose[@]}" up -d --no-deps --no-recreate --scale "$service=$((2 * n))" "$service"
mapfile -t new < <(comm -13 <(printf '%s\n' "${old[@]}") <(replicas))
[ ${#new[@]} -eq "$n" ] || { echo "upgrade: expected $n new replicas, found ${#new[@]}" >&2; exit 1; }

deadline=$((SECONDS + ${HEALTHY_TIMEOUT_S:-120}))
for c in "${new[@]}"; do
  until [ "$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$c")" = healthy ]; do
    status=$(docker inspect -f '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}' "$c")
    if [ $SECONDS -ge $deadline ] || [[ $status != running* ]]; then
      echo "upgrade: new replica $(name "$c") is '$status': removing the new replicas, the old ones stay" >&2
      docker rm -f "${new[@]}" >/dev/null
      exit 1
    fi
    sleep 1
  done
  log "new replica $(name "$c") is healthy"
done

for c in "${old[@]}"; do
  log "stopping old replica $(name "$c") (drain delay, then drain)"
  docker stop "$c" >/dev/null
  log "old replica $(name "$c") exited $(docker inspect -f '{{.State.ExitCode}}' "$c")"
  docker rm "$c" >/dev/null
done
"${compose[@]}" up -d --no-deps --no-recreate --scale "$service=$n" "$service"
log "done: $(replicas | while read -r c; do name "$c"; done | tr '\n' ' ')"
