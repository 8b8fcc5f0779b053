"""Bad input ends the run with a located message; what was committed before stays, state emitted."""

from __future__ import annotations

import json

import pytest

SCHEMA = {
    "type": "SCHEMA",
    "stream": "orders",
    "key_properties": ["id"],
    "schema": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "placed_at": {"type": ["string", "null"], "format": "date-time"},
            "note": {"type": ["string", "null"]},
        },
    },
}


def record(**values) -> dict:
    return {"type": "RECORD", "stream": "orders", "record": values}


def lines(*messages) -> str:
    return "".join(m if isinstance(m, str) else json.dumps(m) + "\n" for m in messages)


# Lines 1-4 commit two rows and emit a state (max_batch_rows=2); line 5 onwards is bad.
GOOD_START = (SCHEMA, record(id=1, placed_at="2024-05-01T10:00:00Z"), record(id=2), {"type": "STATE", "value": {"n": 2}})

CASES = {
    "malformed_json": (
        lines(*GOOD_START, '{"type": "RECORD", "stream": "orders", "record": {"id": 3\n'),
        ["line 5", "stream 'orders'", "malformed JSON"],
    ),
    "json_but_not_a_message": (
        lines(*GOOD_START, "[1, 2, 3]\n"),
        ["line 5", "expected a JSON object"],
    ),
    "object_but_not_a_message": (
        lines(*GOOD_START, {"kind": "RECORD", "stream": "orders"}),
        ["line 5", "unknown message type"],
    ),
    "record_before_schema": (
        lines(*GOOD_START, {"type": "RECORD", "stream": "customers", "record": {"id": 1}}),
        ["line 5", "stream 'customers'", "RECORD before the stream's SCHEMA"],
    ),
    "record_missing_key_property": (
        lines(*GOOD_START, record(id=3), record(note="no id")),
        ["line 6", "stream 'orders'", "field 'id'", "missing key property 'id'"],
    ),
    "value_not_castable_to_integer": (
        lines(*GOOD_START, record(id=3), record(id="three")),
        ["line 6", "stream 'orders'", "field 'id'", '"three"', "int64"],
    ),
    "value_not_castable_to_timestamp": (
        lines(*GOOD_START, record(id=3), record(id=4, placed_at="yesterday at noon")),
        ["line 6", "stream 'orders'", "field 'placed_at'", "yesterday at noon", "timestamp"],
    ),
    "invalid_json_schema": (
        lines(*GOOD_START, {**SCHEMA, "stream": "broken", "schema": {"type": "object", "properties": {"a": {"type": "nonsense"}}}}),
        ["line 5", "stream 'broken'", "field 'properties/a/type'", "invalid JSON Schema"],
    ),
}


@pytest.fixture(scope="module")
def runs(new_warehouse, run_concurrently):
    def job(name, text):
        def run():
            warehouse = new_warehouse(name)
            return warehouse, warehouse.run(text, max_batch_rows=2)
        return run

    return run_concurrently({name: job(name, text) for name, (text, _) in CASES.items()})


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_is_located_and_earlier_commits_stay(runs, name):
    warehouse, run = runs[name]
    assert run.returncode == 1, run.stderr
    error = [line for line in run.stderr.splitlines() if line.startswith("target-iceberg: error:")]
    assert len(error) == 1, run.stderr
    for part in CASES[name][1]:
        assert part in error[0]
    assert run.states == [{"n": 2}]
    rows = warehouse.rows("orders", "id")
    assert [(r["id"], r["note"]) for r in rows] == [(1, None), (2, None)]
    assert str(rows[0]["placed_at"]) == "2024-05-01 10:00:00+00:00"
