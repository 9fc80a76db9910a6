#!/usr/bin/env bash
# deploy/lint.sh must pass the repository's recipes and fail, naming the problem, on each of a set
# of broken copies: a misspelt field, a wrong type, a grace period shorter than the drain delay and
# the drain, no time for the endpoints to drop the pod, a selector that selects nothing, a
# manifest missing from kustomization.yaml, an image without a registry, an exec probe or hook
# that the image cannot run, an admin port open to every pod, a NetworkPolicy or PodMonitor that
# misses the pods, a Dockerfile with a shell-form RUN / root user / unknown instruction / a
# HEALTHCHECK on a fixed port or another status file / no status file / flags in CMD / a missing
# OCI label, a compose file with an unknown key or a short grace period, a haproxy.cfg with a bad
# keyword, and HAProxy and reactord that disagree on the PROXY protocol (a replaced health check
# without a header included).
# Exit 77 (skip) without npm.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
if [ "${REACTORD_LINT:-1}" = 0 ] || ! command -v npm >/dev/null; then
  echo "SKIP: REACTORD_LINT=0 or no npm (deploy/install-deps.sh deploy installs it)"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

pass=0
fails=0
# case NAME EXPECTED_MESSAGE FILE SED_EXPRESSION : copies the recipes, applies the edit to FILE
# (relative to the copy), runs the lint, expects exit 1 and EXPECTED_MESSAGE in its output.
check_case() {
  local name=$1 expect=$2 file=$3 edit=$4
  local dir=$work/$name
  mkdir -p "$dir"
  cp -r "$repo/deploy/k8s" "$repo/deploy/compose" "$repo/Dockerfile" "$dir/"
  # The lint reads the Dockerfile's RUN scripts from the repository (--repo): as shipped.
  if [ -n "$file" ]; then
    cp "$dir/$file" "$dir/$file.orig"
    sed -i -e "$edit" "$dir/$file"
    if cmp -s "$dir/$file" "$dir/$file.orig"; then
      echo "FAIL $name: the edit '$edit' changed nothing in $file (the test is stale)"
      fails=$((fails + 1))
      return
    fi
    rm "$dir/$file.orig"
  fi
  local rc=0
  "$repo/deploy/lint.sh" --dockerfile "$dir/Dockerfile" --k8s "$dir/k8s" \
    --compose "$dir/compose/compose.yaml" --haproxy "$dir/compose/haproxy.cfg" >"$dir/out" 2>&1 || rc=$?
  if [ -z "$file" ]; then
    if [ $rc = 0 ]; then pass=$((pass + 1)); echo "ok   $name: lint passes"; else
      fails=$((fails + 1)); echo "FAIL $name: lint failed on the unmodified recipes:"; cat "$dir/out"; fi
  elif [ $rc = 1 ] && grep -q -- "$expect" "$dir/out"; then
    pass=$((pass + 1))
    echo "ok   $name: rejected: $(grep -m1 -- "$expect" "$dir/out")"
  else
    fails=$((fails + 1))
    echo "FAIL $name: expected exit 1 and '$expect', got exit $rc:"
    cat "$dir/out"
  fi
}

check_case unmodified "" "" ""
check_case k8s_unknown_field "livenesProbe: unknown field" k8s/deployment.yaml 's/livenessProbe:/livenesProbe:/'
check_case k8s_wrong_type "/spec/replicas must be integer" k8s/deployment.yaml 's/replicas: 3/replicas: three/'
check_case k8s_missing_required "must have required property 'selector'" k8s/deployment.yaml \
  '/^  selector:/,/^      app.kubernetes.io\/component: server/d'
check_case k8s_grace_shorter_than_drain "terminationGracePeriodSeconds 24 must exceed" k8s/deployment.yaml \
  's/terminationGracePeriodSeconds: 35/terminationGracePeriodSeconds: 24/'
check_case k8s_no_drain_delay "needs --drain_delay_s > 0 (or a preStop hook)" k8s/deployment.yaml '/--drain_delay_s=5/d'
check_case k8s_prestop_sleep "lifecycle.preStop runs /bin/sleep, which is not in the image" k8s/deployment.yaml \
  's|^          volumeMounts:|          lifecycle:\n            preStop:\n              exec:\n                command: ["/bin/sleep", "5"]\n          volumeMounts:|'
check_case k8s_probe_other_status_file "livenessProbe reads --status_file=/dev/shm/reactord.status but reactord writes /tmp/reactord.status" \
  k8s/deployment.yaml 's|"--status_file=/tmp/reactord.status"|"--status_file=/dev/shm/reactord.status"|'
check_case k8s_service_selects_nothing "Service selector does not select" k8s/service.yaml \
  's/app.kubernetes.io\/component: server/app.kubernetes.io\/component: sever/'
check_case k8s_workers_pinned "keep --workers=0" k8s/deployment.yaml 's/--workers=0/--workers=8/'
check_case k8s_not_in_kustomization "hpa.yaml is not listed" k8s/kustomization.yaml '/- hpa.yaml/d'
check_case k8s_image_without_registry "reactord alone cannot be pulled" k8s/kustomization.yaml '/newName:/d'
check_case k8s_admin_port_open "admits the admin port 9100 from anywhere" k8s/networkpolicy.yaml \
  '/^    - from:/,/^              app.kubernetes.io\/name: prometheus/d; s/^      ports:$/    - ports:/'
check_case k8s_no_networkpolicy "no NetworkPolicy selects the reactord pods" k8s/networkpolicy.yaml \
  's/app.kubernetes.io\/component: server/app.kubernetes.io\/component: sever/'
check_case k8s_scrape_port_wrong "annotation prometheus.io/port 9000 is not the admin port" k8s/deployment.yaml \
  's/prometheus.io\/port: "9100"/prometheus.io\/port: "9000"/'
check_case k8s_podmonitor_port "podMetricsEndpoints port metrics is not a container port" \
  k8s/prometheus-operator/podmonitor.yaml 's/- port: admin/- port: metrics/'
check_case k8s_yaml_syntax "YAML:" k8s/service.yaml 's/^  ports:/  ports: [/'
check_case dockerfile_shell_form_run "RUN must use the exec form" Dockerfile \
  's|^RUN \["/src/deploy/stage-rootfs.sh", "/rootfs"\]|RUN /src/deploy/stage-rootfs.sh /rootfs|'
check_case dockerfile_run_not_in_ci "is run by the image but by no CI script" Dockerfile \
  's|^RUN \["/src/deploy/stage-rootfs.sh", "/rootfs"\]|RUN ["/src/deploy/run.sh"]|'
check_case dockerfile_root_user "numeric and not 0" Dockerfile 's/^USER 10001:10001/USER root/'
check_case dockerfile_unknown_instruction "Unknown instruction: EXPOSED" Dockerfile 's/^EXPOSE 7000/EXPOSED 7000/'
check_case dockerfile_no_stopsignal "STOPSIGNAL SIGTERM" Dockerfile 's/^STOPSIGNAL SIGTERM/STOPSIGNAL SIGKILL/'
check_case dockerfile_healthcheck_fixed_port "a fixed address breaks" Dockerfile \
  's|"--tryfromenv=status_file"|"--port=7000"|'
check_case dockerfile_healthcheck_other_file "but ENV FLAGS_status_file is /dev/shm/reactord.status" Dockerfile \
  's|"--tryfromenv=status_file"|"--status_file=/run/reactord.status"|'
check_case dockerfile_no_status_file "runtime stage needs ENV FLAGS_status_file" Dockerfile \
  's| FLAGS_status_file=/dev/shm/reactord.status||'
check_case dockerfile_cmd_flags "flags in CMD override the FLAGS_\* variables" Dockerfile \
  's|^ENTRYPOINT \(.*\)|ENTRYPOINT \1\nCMD ["--port=7000", "--workers=0"]|'
check_case dockerfile_label_missing "needs LABEL org.opencontainers.image.revision" Dockerfile \
  '/org.opencontainers.image.revision=/d'
check_case compose_unknown_key "must NOT have additional properties" compose/compose.yaml 's/^    read_only: true/    readonly: true/'
check_case compose_grace_shorter_than_drain "stop_grace_period 7 s must exceed --drain_delay_s 3 s + --drain_timeout_s 5 s" \
  compose/compose.yaml 's/stop_grace_period: 10s/stop_grace_period: 7s/'
check_case haproxy_bad_keyword "haproxy -c" compose/haproxy.cfg 's/balance roundrobin/balance roundrobbin/'
check_case haproxy_no_proxy_header "haproxy.cfg sends no PROXY header" compose/haproxy.cfg \
  's/default-server send-proxy-v2 check/default-server check/'
check_case compose_healthcheck_without_header "a healthcheck that replaces the image's must send a header" \
  compose/compose.yaml \
  's|^    deploy:|    healthcheck:\n      test: ["CMD", "/usr/local/bin/reactor-client", "--port=7000", "--check"]\n    deploy:|'

echo "$pass passed, $fails failed"
[ $fails = 0 ]
