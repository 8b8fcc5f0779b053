#!/usr/bin/env bash
# Creates .venv with Dativo installed (editable) and builds the Rust readers when cargo exists.
#   bash scripts/setup.sh          # the toolkit
#   bash scripts/setup.sh test     # the toolkit and everything its tests use
set -euo pipefail
cd "$(dirname "$0")/.."
extras=${1:-}
python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
if [ -n "$extras" ]; then
  .venv/bin/pip install -q -e ".[$extras]"
else
  .venv/bin/pip install -q -e .
fi
if command -v cargo >/dev/null 2>&1; then
  .venv/bin/python -m dativo_core.native.build
else
  echo "cargo not found: the Rust readers are not built (see docs/rust-readers.md); everything else works." >&2
fi
