#!/usr/bin/env bash
# Lints the deploy recipes offline; deploy/test.sh runs it, so CI does.
#   - Dockerfile: dockerfile-utils + the image's rules (deploy/lint/lint.js)
#   - deploy/k8s: Kubernetes schemas (kubernetes-models), unknown fields, cross-object checks
#   - deploy/compose/compose.yaml: compose-spec schema; deploy/compose/haproxy.cfg: haproxy -c
# The npm packages (versions pinned by deploy/lint/package-lock.json) go to build/deploy-lint/
# ($LINT_CACHE), installed again only when the lock file changes.
#
# usage: deploy/lint.sh [--dockerfile F] [--k8s DIR] [--compose F] [--haproxy F]
#   (defaults: the repository's own files; tests/deploy points them at broken copies)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
dockerfile=$repo/Dockerfile
k8s=$repo/deploy/k8s
compose=$repo/deploy/compose/compose.yaml
haproxy_cfg=$repo/deploy/compose/haproxy.cfg
while [ $# -gt 0 ]; do
  case "$1" in
    --dockerfile) dockerfile=$2 ;;
    --k8s) k8s=$2 ;;
    --compose) compose=$2 ;;
    --haproxy) haproxy_cfg=$2 ;;
    *) echo "usage: $0 [--dockerfile F] [--k8s DIR] [--compose F] [--haproxy F]" >&2; exit 2 ;;
  esac
  shift 2
done

"$repo/deploy/install-deps.sh" deploy

cache=${LINT_CACHE:-$repo/${BUILD_DIR:-build}/deploy-lint}
mkdir -p "$cache"
if ! cmp -s "$repo/deploy/lint/package-lock.json" "$cache/package-lock.json" || [ ! -d "$cache/node_modules" ]; then
  echo "lint: installing the linters into $cache (npm ci)"
  cp "$repo/deploy/lint/package.json" "$repo/deploy/lint/package-lock.json" "$cache/"
  (cd "$cache" && npm ci --no-audit --no-fund --loglevel=error) || {
    rm -f "$cache/package-lock.json"  # retry next time
    echo "lint: FAIL: npm ci in $cache" >&2
    exit 1
  }
fi
cp "$repo"/deploy/lint/*.js "$cache/"

status=0
node "$cache/lint.js" --repo "$repo" --dockerfile "$dockerfile" --k8s "$k8s" --compose "$compose" || status=1

# haproxy -c: errors fail; so do warnings, except that the compose service name does not
# resolve outside compose's network (init-addr none keeps such servers, disabled, until DNS does).
if out=$(haproxy -c -f "$haproxy_cfg" 2>&1); then
  warnings=$(grep WARNING <<<"$out" | grep -v "could not resolve address" || true)
  if [ -n "$warnings" ]; then
    echo "LINT FAIL $haproxy_cfg: haproxy -c warns:" >&2
    echo "$warnings" >&2
    status=1
  else
    echo "lint haproxy.cfg: ok"
  fi
else
  echo "LINT FAIL $haproxy_cfg: haproxy -c:" >&2
  echo "$out" >&2
  status=1
fi

[ $status = 0 ] && echo "lint: all deploy recipes ok" || echo "lint: FAILED (see LINT FAIL lines)" >&2
exit $status
