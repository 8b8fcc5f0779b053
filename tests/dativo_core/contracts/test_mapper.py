import io
import json

import orjson
import pytest

from dativo_core.contracts import ContractViolationError, Policy
from dativo_core.contracts.mapper import ContractMapper
from dativo_core.contracts.model import contract_from_document
from dativo_core.contracts.odcs import check_against_official_schema
from dativo_core.singer.errors import SingerProtocolError

CONTRACT = {
    "apiVersion": "v3.1.0",
    "kind": "DataContract",
    "id": "shop",
    "name": "Shop",
    "version": "1.0.0",
    "status": "active",
    "schema": [
        {
            "name": "orders",
            "properties": [
                {"name": "id", "logicalType": "integer", "primaryKey": True, "required": True},
                {"name": "amount", "logicalType": "number", "logicalTypeOptions": {"minimum": 0}},
                {"name": "at", "logicalType": "timestamp", "required": True},
                {"name": "meta", "logicalType": "object"},
            ],
        },
        {
            "name": "customers",
            "properties": [
                {
                    "name": "email",
                    "logicalType": "string",
                    "logicalTypeOptions": {"format": "email"},
                },
            ],
        },
    ],
}


def contract():
    check_against_official_schema(CONTRACT, "shop.yaml")
    return contract_from_document(CONTRACT, "shop.yaml")


def schema(stream, **props):
    return {
        "type": "SCHEMA",
        "stream": stream,
        "schema": {"type": "object", "properties": props},
        "key_properties": [],
    }


def record(stream, **values):
    return {"type": "RECORD", "stream": stream, "record": values}


def state(n):
    return {"type": "STATE", "value": {"bookmarks": {"orders": {"id": n}}}}


def order(i, **changes):
    return record(
        "orders",
        **{"id": i, "amount": 1.5, "at": "2024-05-01T00:00:00Z", "meta": {"k": i}, **changes},
    )


def run(messages, policy=Policy.QUARANTINE, batch_rows=1000, **options):
    data = b"".join(orjson.dumps(m) + b"\n" if isinstance(m, dict) else m for m in messages)
    out, quarantine = io.BytesIO(), io.BytesIO()
    mapper = ContractMapper(
        contract(), policy, out, quarantine=quarantine, batch_rows=batch_rows, **options
    )
    error = None
    try:
        mapper.run(io.BytesIO(data))
    except SingerProtocolError as exc:
        error = exc
    forwarded = [json.loads(line) for line in out.getvalue().splitlines()]
    set_aside = [json.loads(line) for line in quarantine.getvalue().splitlines()]
    return forwarded, set_aside, error, mapper


def shape(messages):
    """RECORD -> its id (or email), STATE -> 'S<n>', SCHEMA -> 'schema:<stream>'."""
    out = []
    for m in messages:
        if m["type"] == "RECORD":
            out.append(m["record"].get("id", m["record"].get("email")))
        elif m["type"] == "STATE":
            out.append(f"S{m['value']['bookmarks']['orders']['id']}")
        else:
            out.append(f"{m['type'].lower()}:{m.get('stream')}")
    return out


@pytest.mark.parametrize("batch_rows", [1, 2, 1000])
def test_records_forwarded_as_is_and_states_never_overtake_them(batch_rows):
    messages = [
        schema("orders"),
        order(1),
        order(2),
        state(2),
        order(3),
        order(4),
        order(5),
        state(5),
        order(6),
    ]
    forwarded, set_aside, error, _ = run(messages, batch_rows=batch_rows)
    assert error is None and set_aside == []
    assert shape(forwarded) == ["schema:orders", 1, 2, "S2", 3, 4, 5, "S5", 6]
    assert forwarded[1] == order(1)


def test_summary_of_a_clean_fail_run_says_nothing_was_held_back():
    *_, mapper = run([schema("orders"), order(1), order(2)], policy=Policy.FAIL)
    assert mapper.summary().splitlines()[1] == "  stream 'orders': 2 records checked, 0 broke the contract"


def test_fail_stops_before_the_bad_batch_and_the_state_after_it():
    messages = [
        schema("orders"),
        order(1),
        state(1),
        order(2),
        order(3, amount=-1.0),
        order(4),
        state(4),
    ]
    forwarded, _, error, _ = run(messages, policy=Policy.FAIL)
    assert shape(forwarded) == ["schema:orders", 1, "S1"]
    assert isinstance(error, ContractViolationError)
    assert (error.stream, error.line, error.field) == ("orders", 5, "amount")
    assert "contract rule 'minimum' broken: -1.0 is below the minimum 0" in str(error)


def test_fail_holds_checked_records_until_a_state_covers_them():
    messages = [
        schema("orders"),
        order(1),
        state(1),
        order(2),
        order(3),
        order(4, at=None),
        state(4),
    ]
    forwarded, _, error, _ = run(messages, policy=Policy.FAIL, batch_rows=1)
    assert (error.line, error.field) == (6, "at")
    assert shape(forwarded) == ["schema:orders", 1, "S1"]  # 2 and 3 passed, but no STATE followed
    forwarded, _, error, _ = run(messages, policy=Policy.FAIL, batch_rows=1, hold_bytes=10)
    assert shape(forwarded) == ["schema:orders", 1, "S1", 2, 3]  # the hold is bounded
    forwarded, _, error, _ = run(messages[:-2] + [state(3)], policy=Policy.FAIL, batch_rows=1)
    assert error is None and shape(forwarded) == ["schema:orders", 1, "S1", 2, 3, "S3"]


def test_quarantine_sets_bad_records_aside_with_reasons():
    messages = [
        schema("orders"),
        order(1),
        order(2, at="last tuesday"),
        order(1, amount=3.0),
        b"\n",  # blank lines are skipped but still counted
        b"   \n",
        order(4, id="four", amount="lots"),
        order(5, meta=None),
        state(5),
    ]
    forwarded, set_aside, error, mapper = run(messages)
    assert error is None
    assert shape(forwarded) == ["schema:orders", 1, 5, "S5"]
    assert [
        (q["_dativo_source_line"], q["_dativo_rule"], q["_dativo_reason"]) for q in set_aside
    ] == [
        (3, "type", "at: cannot read 'last tuesday' as timestamp"),
        (4, "primaryKey", "id: id = 1 appears more than once in this run"),
        (7, "type", 'id: cannot read "four" as integer; amount: cannot read "lots" as number'),
    ]
    assert set_aside[0]["record"]["at"] == "last tuesday"
    assert all(q["_dativo_stream"] == "orders" for q in set_aside)
    assert mapper.report.tallies["orders"].rules == {"type": 3, "primaryKey": 1}
    assert (
        "stream 'orders': 5 records checked, 3 broke the contract (quarantined)" in mapper.summary()
    )


def test_warn_forwards_everything_and_counts():
    messages = [schema("orders"), order(1), order(2, amount=-5.0), state(2)]
    forwarded, set_aside, error, mapper = run(messages, policy=Policy.WARN)
    assert shape(forwarded) == ["schema:orders", 1, 2, "S2"]
    assert set_aside == [] and error is None
    assert mapper.report.tallies["orders"].rules == {"minimum": 1}


def test_interleaved_streams_and_streams_without_a_contract():
    messages = [
        schema("orders"),
        schema("customers"),
        schema("audit"),
        order(1),
        record("customers", email="a@b.co"),
        record("audit", anything=[1, {"x": 2}]),
        record("customers", email="broken"),
        order(2),
        state(2),
    ]
    forwarded, set_aside, error, _ = run(messages)
    assert error is None
    records = [m for m in forwarded if m["type"] == "RECORD"]
    assert sorted(json.dumps(r["record"], sort_keys=True) for r in records) == sorted(
        json.dumps(r, sort_keys=True)
        for r in [
            order(1)["record"],
            order(2)["record"],
            {"email": "a@b.co"},
            {"anything": [1, {"x": 2}]},
        ]
    )
    assert forwarded[-1] == state(2)
    assert [(q["_dativo_stream"], q["_dativo_source_line"]) for q in set_aside] == [
        ("customers", 7)
    ]


def test_schema_can_be_replaced_by_the_contract():
    forwarded, _, _, _ = run(
        [schema("orders", id={"type": "integer"}), order(1)], replace_schema=True
    )
    assert forwarded[0]["schema"]["properties"]["at"] == {"type": "string", "format": "date-time"}
    assert forwarded[0]["key_properties"] == ["id"]
    kept, _, _, _ = run([schema("orders", id={"type": "integer"}), order(1)])
    assert kept[0]["schema"]["properties"] == {"id": {"type": "integer"}}


def test_protocol_errors_name_the_line():
    _, _, error, _ = run(
        [schema("orders"), order(1), b'{"type": "RECORD", "stream": "orders", "rec\n']
    )
    assert isinstance(error, SingerProtocolError) and error.line == 3
    assert "malformed JSON" in str(error)
    _, _, error, _ = run([schema("orders"), {"type": "RECORD", "record": {"id": 1}}])
    assert error.line == 2 and "'stream'" in str(error)
    batch = {
        "type": "BATCH",
        "stream": "orders",
        "encoding": {"format": "jsonl"},
        "manifest": ["f.jsonl"],
    }
    _, _, error, _ = run([schema("orders"), batch])
    assert error.line == 2 and "BATCH" in str(error)


def test_row_count_failure_stops_a_fail_run_at_the_end():
    doc = json.loads(json.dumps(CONTRACT))
    doc["schema"][1]["quality"] = [{"metric": "rowCount", "mustBeGreaterThan": 1}]
    check_against_official_schema(doc, "shop.yaml")
    out = io.BytesIO()
    mapper = ContractMapper(contract_from_document(doc, "shop.yaml"), Policy.FAIL, out)
    data = orjson.dumps(record("customers", email="a@b.co")) + b"\n"
    with pytest.raises(
        ContractViolationError, match="rowCount mustBeGreaterThan 1 rows failed: the run had 1 rows"
    ):
        mapper.run(io.BytesIO(data))
    assert out.getvalue() == b""  # no STATE covered the record, and the run failed


def test_a_stream_of_wrongly_typed_records_is_rejected_line_by_line():
    """Every id is text: each line is named once, without re-reading the batch per line."""
    messages = [schema("orders")] + [order(f"#{i}") for i in range(3000)] + [order(3000), state(1)]
    forwarded, set_aside, error, mapper = run(messages, batch_rows=5000)
    assert error is None
    assert shape(forwarded) == ["schema:orders", 3000, "S1"]
    assert len(set_aside) == 3000
    assert set_aside[0]["_dativo_reason"] == 'id: cannot read "#0" as integer'
    assert mapper.report.tallies["orders"].rules == {"type": 3000}


def test_nested_values_of_the_wrong_type_are_named():
    doc = json.loads(json.dumps(CONTRACT))
    doc["schema"][1]["properties"].append(
        {
            "name": "address",
            "logicalType": "object",
            "properties": [{"name": "zip", "logicalType": "integer"}],
        }
    )
    check_against_official_schema(doc, "shop.yaml")
    out, quarantine = io.BytesIO(), io.BytesIO()
    mapper = ContractMapper(
        contract_from_document(doc, "shop.yaml"), Policy.QUARANTINE, out, quarantine=quarantine
    )
    lines = [
        record("customers", email="a@b.co", address={"zip": 10115}),
        record("customers", email="c@d.co", address={"zip": "10115"}),
    ]
    mapper.run(io.BytesIO(b"".join(orjson.dumps(m) + b"\n" for m in lines)))
    [bad] = [json.loads(line) for line in quarantine.getvalue().splitlines()]
    assert bad["_dativo_reason"] == 'address: cannot read {"zip":"10115"} as object'
    assert [json.loads(line)["record"]["email"] for line in out.getvalue().splitlines()] == [
        "a@b.co"
    ]
