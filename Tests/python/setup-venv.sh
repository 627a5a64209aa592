#!/usr/bin/env bash
# Creates (or reuses) the virtualenv for CareGate's Python interop tests and installs the pinned packages from
# Tests/python/requirements.txt. Idempotent: re-running with the same requirements installs nothing.
# Prints the venv's python path as its last line of output.
#
#   bash Tests/python/setup-venv.sh              # /tmp/caregate-py-venv
#   CAREGATE_PY_VENV=/some/dir bash Tests/python/setup-venv.sh
#
# Other Python tools reuse it with their own requirements (Benchmarks/peer/setup-venv.sh):
#   CAREGATE_PY_REQUIREMENTS=FILE  the pinned requirements to install
#   CAREGATE_PY_IMPORTS="a, b"     modules whose import proves an existing venv complete
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${CAREGATE_PY_VENV:-/tmp/caregate-py-venv}"
requirements="${CAREGATE_PY_REQUIREMENTS:-$here/requirements.txt}"
imports="${CAREGATE_PY_IMPORTS:-fhirpy, fhirclient, openapi_core, pytest, requests, yaml}"
stamp="$venv/.caregate-requirements.sha256"

python="${PYTHON:-}"
if [ -z "$python" ]; then
    for candidate in python3.11 python3 python; do
        if command -v "$candidate" >/dev/null 2>&1; then python="$(command -v "$candidate")"; break; fi
    done
fi
if [ -z "$python" ]; then
    echo "setup-venv: no python3 found (set PYTHON=/path/to/python3)" >&2
    exit 1
fi

if [ ! -x "$venv/bin/python" ]; then
    echo "setup-venv: creating $venv with $("$python" --version 2>&1)" >&2
    if ! "$python" -m venv "$venv" >&2; then
        echo "setup-venv: '$python -m venv' failed (on Debian: apt-get install -y python3-venv)" >&2
        exit 1
    fi
fi

wanted="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ] && "$venv/bin/python" -c "import $imports" 2>/dev/null; then
    echo "setup-venv: $venv is up to date" >&2
else
    echo "setup-venv: installing $requirements" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$requirements" >&2
    echo "$wanted" > "$stamp"
fi

echo "$venv/bin/python"
