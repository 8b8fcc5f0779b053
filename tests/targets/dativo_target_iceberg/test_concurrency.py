"""Two target processes committing to one table, and to two tables of one catalog, lose no rows."""

from __future__ import annotations

import json

import pytest

from dativo_target_iceberg.catalog import embedded_catalog


def stream_lines(stream: str, ids: range) -> str:
    schema = {"type": "SCHEMA", "stream": stream, "key_properties": ["id"],
              "schema": {"type": "object", "properties": {"id": {"type": "integer"}}}}
    lines = [json.dumps(schema)]
    for i in ids:
        lines.append(json.dumps({"type": "RECORD", "stream": stream, "record": {"id": i}}))
        if i % 50 == 49:
            lines.append(json.dumps({"type": "STATE", "value": {"at": i}}))
    return "\n".join(lines) + "\n"


@pytest.mark.slow
def test_concurrent_writers_retry_commits_and_lose_nothing(new_warehouse, run_concurrently):
    warehouse = new_warehouse("shared")
    embedded_catalog(warehouse.root).create_namespace("default")
    inputs = {
        "one_table_a": stream_lines("events", range(0, 1000)),
        "one_table_b": stream_lines("events", range(1000, 2000)),
        "other_table": stream_lines("audit", range(0, 500)),
    }
    runs = run_concurrently(
        {name: (lambda text=text: warehouse.run(text, max_batch_rows=50)) for name, text in inputs.items()}
    )
    for name, run in runs.items():
        assert run.returncode == 0, (name, run.stderr)
    events = warehouse.table("events").column("id").to_pylist()
    assert sorted(events) == list(range(2000))
    assert sorted(warehouse.table("audit").column("id").to_pylist()) == list(range(500))
