#!/usr/bin/env bash
# Creates (or reuses) the virtualenv for the Python peer gateway (Benchmarks/peer) and installs the pinned packages
# from Benchmarks/peer/requirements.txt. Idempotent: re-running with the same requirements installs nothing.
# Prints the venv's python path as its last line of output.
#
#   bash Benchmarks/peer/setup-venv.sh              # /tmp/caregate-peer-venv
#   CAREGATE_PEER_VENV=/some/dir bash Benchmarks/peer/setup-venv.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${CAREGATE_PEER_VENV:-/tmp/caregate-peer-venv}"
requirements="$here/requirements.txt"
stamp="$venv/.caregate-peer-requirements.sha256"

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
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ] && "$venv/bin/python" -c 'import aiohttp, lxml, yaml, jwt, cryptography' 2>/dev/null; then
    echo "setup-venv: $venv is up to date" >&2
else
    echo "setup-venv: installing $requirements" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$requirements" >&2
    echo "$wanted" > "$stamp"
fi

echo "$venv/bin/python"
