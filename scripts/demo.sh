#!/usr/bin/env bash
# The main job on the embedded default: the example CSV through tap-csv | target-iceberg into
# .dativo/warehouse (pyiceberg's SQL catalog on sqlite), then the table read back with pyiceberg.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The demo starts from an empty warehouse each time: the example is a full-table load, so a
# second load into the same table would append the rows again (see docs/getting-started.md for
# incremental runs that resume from state).
rm -rf .dativo/warehouse .dativo/demo-state.jsonl
mkdir -p .dativo
.venv/bin/tap-csv --config examples/csv/tap-csv.json \
  | .venv/bin/target-iceberg --config examples/csv/target-iceberg.json \
  > .dativo/demo-state.jsonl
echo "last state: $(tail -n 1 .dativo/demo-state.jsonl)"
.venv/bin/python examples/csv/show_table.py .dativo/warehouse default.customers
