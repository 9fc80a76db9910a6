#!/usr/bin/env bash
# deploy/lint.sh on the repository's recipes, as a CTest. Skipped (77) where REACTORD_LINT=0:
# the Dockerfile's build stage runs the suite without npm; CI and deploy/test.sh lint.
set -euo pipefail
if [ "${REACTORD_LINT:-1}" = 0 ]; then
  echo "SKIP: REACTORD_LINT=0 (the image's build stage); deploy/test.sh lints everywhere else"
  exit 77
fi
exec "$(dirname "$0")/../../deploy/lint.sh"
