#!/usr/bin/env bash
# Checks the deployment files in deploy/ without a Docker engine or a cluster. Run from anywhere, as root on
# Debian bookworm; installs what it needs the first time, and is quick once it is there:
#
#   - promtool, from Debian's `prometheus` package (the service is not started)
#   - kubernetes-validate and PyYAML, from PyPI into a venv outside the repository
#     ($CAREGATE_DEPLOY_VENV, default /tmp/caregate-deploy-venv)
#   - kubectl is used when present (its built-in kustomize renders the base and overlays); without it each
#     manifest file is validated on its own.
#
# Then checks, going on past a failure so every problem is reported:
#   1. generated provider folders and policy copy are up to date (deploy/sync-providers.sh --check)
#   2. Prometheus alert rules (promtool check rules) and the compose Prometheus config (promtool check config)
#   3. Grafana dashboard JSON parses; every metric in the dashboard and the alerts is one the gateway exports
#   4. compose.yaml: services have an image or build, bind-mounted paths exist, volumes declared
#   5. gateway config files use only keys `caregate serve` knows; Dockerfile COPY sources exist
#   6. kustomizations: referenced files exist; manifests pass kubernetes-validate --strict (rendered by kubectl
#      kustomize when available)
# Exit status 1 if any check failed.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${CAREGATE_DEPLOY_VENV:-/tmp/caregate-deploy-venv}
K8S_VERSION=${CAREGATE_K8S_VERSION:-1.30.0}   # oldest Kubernetes the manifests are meant for
PYTHON_PACKAGES=("kubernetes-validate==1.37.0" "PyYAML==6.0.3")

say() { printf '\n== %s\n' "$*"; }

# ------------------------------------------------------------------------------------------------- install
if ! command -v promtool >/dev/null 2>&1; then
    say "installing promtool (Debian package prometheus)"
    export DEBIAN_FRONTEND=noninteractive
    # Keep the package's service from starting (no init system in a container, and none wanted in CI):
    # invoke-rc.d asks policy-rc.d, and 101 means "not allowed". Only a policy-rc.d we created is removed.
    created_policy=false
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        created_policy=true
    fi
    install_status=0
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus >/dev/null; } || install_status=$?
    $created_policy && rm -f /usr/sbin/policy-rc.d
    if ! command -v promtool >/dev/null 2>&1; then
        echo "check-deploy: could not install promtool (apt-get exit $install_status)" >&2
        exit 1
    fi
fi

if ! "$VENV/bin/python" -c 'import yaml, kubernetes_validate' >/dev/null 2>&1; then
    say "installing ${PYTHON_PACKAGES[*]} into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check "${PYTHON_PACKAGES[@]}"
fi
PY="$VENV/bin/python"
KV="$VENV/bin/kubernetes-validate"

# ---------------------------------------------------------------------------------------------------- checks
declare -a passed=() failed=()
check() {   # check NAME COMMAND...: run one check, record the outcome, never stop the script
    local name=$1; shift
    say "$name"
    if "$@"; then passed+=("$name"); else failed+=("$name"); echo "check-deploy: FAILED: $name" >&2; fi
}

work=$(mktemp -d -t caregate-check-deploy.XXXXXX)
trap 'rm -rf "$work"' EXIT

check "provider folders and policy copy in step with providers/" deploy/sync-providers.sh --check

check "alert rules (promtool check rules)" promtool check rules deploy/prometheus/alerts.yaml
check "Prometheus config (promtool check config)" promtool check config deploy/prometheus/prometheus.yml

check "Grafana dashboard and provisioning parse" "$PY" -c '
import json, sys, yaml
for path in sys.argv[1:]:
    (json.load if path.endswith(".json") else yaml.safe_load)(open(path, encoding="utf-8"))
    print("parsed", path)
' deploy/grafana/caregate-dashboard.json deploy/grafana/provisioning/*/*.yaml

check "metric names in dashboard and alerts are exported" \
    "$PY" deploy/check_metrics_names.py deploy/grafana/caregate-dashboard.json deploy/prometheus/alerts.yaml

check "compose.yaml structure and bind mounts" "$PY" deploy/check_deploy_files.py compose deploy/compose.yaml

check "gateway config files" "$PY" deploy/check_deploy_files.py config \
    deploy/compose/caregate.yaml deploy/kubernetes/base/caregate.example.yaml

check "Dockerfile COPY sources" "$PY" deploy/check_deploy_files.py dockerfile deploy/Dockerfile .

kustomizations=(deploy/kubernetes/base deploy/kubernetes/overlays/example)
check "kustomizations reference existing files" \
    "$PY" deploy/check_deploy_files.py kustomize "${kustomizations[@]}" --resources-out "$work/resources.txt"

validate_files() {
    local files=()
    mapfile -t files < "$work/resources.txt"
    [[ ${#files[@]} -gt 0 ]] || { echo "no manifest files to validate" >&2; return 1; }
    "$KV" --strict --quiet -k "$K8S_VERSION" "${files[@]}"
    echo "${#files[@]} manifest files valid for Kubernetes $K8S_VERSION"
}
check "manifest files (kubernetes-validate --strict, $K8S_VERSION)" validate_files

if command -v kubectl >/dev/null 2>&1; then
    render_and_validate() {
        local dir out status=0
        for dir in "${kustomizations[@]}"; do
            out="$work/$(echo "$dir" | tr / _).yaml"
            if ! kubectl kustomize "$dir" > "$out"; then
                echo "kubectl kustomize $dir failed" >&2; status=1; continue
            fi
            if "$KV" --strict --quiet -k "$K8S_VERSION" "$out"; then
                echo "$dir renders to $(grep -c '^kind:' "$out") valid resources"
            else
                status=1
            fi
        done
        return $status
    }
    check "rendered kustomizations (kubectl kustomize + kubernetes-validate)" render_and_validate
else
    say "kubectl not installed: kustomizations not rendered (files validated one by one above)"
fi

if command -v shellcheck >/dev/null 2>&1; then
    check "shellcheck" shellcheck .ci/check-deploy.sh deploy/sync-providers.sh
fi

# --------------------------------------------------------------------------------------------------- summary
say "summary"
for name in "${passed[@]}"; do echo "  ok    $name"; done
for name in "${failed[@]+"${failed[@]}"}"; do echo "  FAIL  $name"; done
echo "${#passed[@]} passed, ${#failed[@]} failed"
[[ ${#failed[@]} -eq 0 ]]
