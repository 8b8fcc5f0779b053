#!/usr/bin/env bash
# The main job on the embedded default: the example CSV through tap-csv | target-iceberg into
# .dativo/warehouse (pyiceberg's SQL catalog on sqlite), then the table read back with pyiceberg.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p .dativo
.venv/bin/tap-csv --config examples/csv/tap-csv.json \
  | .venv/bin/target-iceberg --config examples/csv/target-iceberg.json \
  > .dativo/demo-state.jsonl
echo "last state: $(tail -n 1 .dativo/demo-state.jsonl)"
.venv/bin/python examples/csv/show_table.py .dativo/warehouse default.customers
