#!/usr/bin/env bash
# Installs the runtime (one wheel) into ./.venv and runs the sample model end to end.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet .
.venv/bin/python examples/python/sample.py examples/sample_model
