#!/usr/bin/env bash
# Installs what is missing, builds, and runs the server in the foreground with its defaults
# (echo on port 7000, one worker per usable CPU). Arguments go to reactord, e.g.
#   deploy/run.sh --protocol=ack --port=8888 --workers=2
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh build
deploy/build.sh >/dev/null
exec "${BUILD_DIR:-build}/server/reactord" "$@"
