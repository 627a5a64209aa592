#!/usr/bin/env bash
# Runs CareGate's Python interop tests (fhirpy, fhirclient, error responses, OpenAPI conformance) against a live
# gateway. Exit 0 when all pass; non-zero, with the failures listed, otherwise.
#
# Needs: CAREGATE_BASE_URL, CAREGATE_TOKEN, CAREGATE_OTHER_TOKEN, CAREGATE_ADMIN_TOKEN, CAREGATE_EMERGENCY_TOKEN,
# CAREGATE_PATIENT, and
# CAREGATE_PYTHON (the venv's python from Tests/python/setup-venv.sh; defaults to /tmp/caregate-py-venv).
# Extra arguments go to pytest (e.g. `-k fhirpy`, `-x`).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

missing=()
for name in CAREGATE_BASE_URL CAREGATE_TOKEN CAREGATE_OTHER_TOKEN CAREGATE_ADMIN_TOKEN CAREGATE_EMERGENCY_TOKEN \
    CAREGATE_PATIENT; do
    if [ -z "${!name:-}" ]; then missing+=("$name"); fi
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "run.sh: missing environment variables: ${missing[*]}" >&2
    exit 2
fi
if ! [[ "$CAREGATE_PATIENT" =~ ^[0-9]{10}$ ]]; then
    echo "run.sh: CAREGATE_PATIENT must be a 10-digit NHS number" >&2
    exit 2
fi
python="${CAREGATE_PYTHON:-/tmp/caregate-py-venv/bin/python}"
if [ ! -x "$python" ]; then
    echo "run.sh: CAREGATE_PYTHON ($python) is not an executable python; run Tests/python/setup-venv.sh" >&2
    exit 2
fi
if ! "$python" -c 'import fhirpy, fhirclient, openapi_core, pytest, requests, yaml' 2>/dev/null; then
    echo "run.sh: $python lacks the test packages; run Tests/python/setup-venv.sh" >&2
    exit 2
fi
# Fail fast, with a clear message, when the gateway is not answering at all.
if ! "$python" - <<'PY'
import os, sys, requests
base = os.environ["CAREGATE_BASE_URL"].rstrip("/")
try:
    r = requests.get(base + "/healthz", timeout=10)
except requests.RequestException as error:
    sys.exit(f"run.sh: the gateway at {base} is not answering: {error}")
if r.status_code != 200:
    sys.exit(f"run.sh: {base}/healthz answered {r.status_code}")
PY
then
    exit 3
fi

export PYTHONDONTWRITEBYTECODE=1
echo "run.sh: CareGate Python interop tests against $CAREGATE_BASE_URL ($("$python" --version 2>&1))"
started=$SECONDS
status=0
cd "$here"
"$python" -m pytest -q -c "$here/pytest.ini" --rootdir "$here" "$@" \
    test_openapi.py test_errors.py test_fhirpy.py test_fhirclient.py || status=$?
echo "run.sh: finished in $((SECONDS - started)) s with pytest exit status $status"
exit "$status"
