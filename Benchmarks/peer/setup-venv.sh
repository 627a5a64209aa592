#!/usr/bin/env bash
# Creates (or reuses) the virtualenv for the Python peer gateway (Benchmarks/peer) and installs the pinned packages
# from Benchmarks/peer/requirements.txt, with the same script as the interop tests' venv. Idempotent.
# Prints the venv's python path as its last line of output.
#
#   bash Benchmarks/peer/setup-venv.sh              # /tmp/caregate-peer-venv
#   CAREGATE_PEER_VENV=/some/dir bash Benchmarks/peer/setup-venv.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
CAREGATE_PY_VENV="${CAREGATE_PEER_VENV:-/tmp/caregate-peer-venv}" \
CAREGATE_PY_REQUIREMENTS="$here/requirements.txt" \
CAREGATE_PY_IMPORTS="aiohttp, lxml, yaml, jwt, cryptography" \
    exec bash "$here/../../Tests/python/setup-venv.sh"
