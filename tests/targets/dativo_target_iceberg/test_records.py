"""RECORD lines -> Arrow: the native path, the Python path, casts, and located errors."""

from __future__ import annotations

import datetime as dt

import orjson
import pyarrow as pa
import pytest

from dativo_core.schema.arrow import json_schema_to_arrow
from dativo_core.singer import SingerProtocolError
from dativo_target_iceberg.records import RecordConverter

SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "at": {"type": ["string", "null"], "format": "date-time"},
        "day": {"type": ["string", "null"], "format": "date"},
        "clock": {"type": ["string", "null"], "format": "time"},
        "price": {"type": ["number", "null"]},
        "tags": {"type": ["array", "null"], "items": {"type": "string"}},
        "address": {
            "type": ["object", "null"],
            "properties": {"city": {"type": "string"}, "since": {"type": "string", "format": "date"}},
        },
    },
}


def converter(schema=SCHEMA, keys=("id",)) -> RecordConverter:
    return RecordConverter("s", json_schema_to_arrow(schema, required=list(keys)), keys)


def batch(*records, canonical=True) -> bytes:
    if canonical:
        return b"\n".join(orjson.dumps({"type": "RECORD", "stream": "s", "record": r}) for r in records)
    return b"\n".join(orjson.dumps({"record": r, "stream": "s", "type": "RECORD", "version": 1}) for r in records)


def test_native_path_reads_every_type_and_ignores_unknown_fields():
    conv = converter()
    assert conv.native
    table = conv.convert(
        batch(
            {"id": 1, "at": "2024-05-01T10:00:00.5+02:00", "day": "2024-05-01", "clock": "08:30:00",
             "price": 3, "tags": ["a", "b"], "address": {"city": "Oslo", "since": "2020-01-31"}, "extra": 1},
            {"id": 2},
            canonical=False,
        ),
        range(10, 12),
    )
    assert table.schema == conv.schema
    first, second = table.to_pylist()
    assert first["at"] == dt.datetime(2024, 5, 1, 8, 0, 0, 500000, tzinfo=dt.timezone.utc)
    assert first["day"] == dt.date(2024, 5, 1)
    assert first["clock"] == dt.time(8, 30)
    assert first["price"] == 3.0
    assert first["tags"] == ["a", "b"]
    assert first["address"] == {"city": "Oslo", "since": dt.date(2020, 1, 31)}
    assert second == {"id": 2, "at": None, "day": None, "clock": None, "price": None, "tags": None, "address": None}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T10:00:00Z", dt.datetime(2024, 5, 1, 10, tzinfo=dt.timezone.utc)),
        ("2024-05-01T10:00:00", dt.datetime(2024, 5, 1, 10, tzinfo=dt.timezone.utc)),
        ("2024-05-01 10:00:00.25", dt.datetime(2024, 5, 1, 10, 0, 0, 250000, tzinfo=dt.timezone.utc)),
        ("2024-05-01T10:00:00-05:00", dt.datetime(2024, 5, 1, 15, tzinfo=dt.timezone.utc)),
        ("2024-05-01", dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)),
    ],
)
def test_timestamps_without_offset_are_utc(text, expected):
    table = converter().convert(batch({"id": 1, "at": "2024-01-01T00:00:00Z"}, {"id": 2, "at": text}), range(2))
    assert table.column("at")[1].as_py() == expected


def test_a_date_time_in_a_date_column_keeps_its_day():
    table = converter().convert(batch({"id": 1, "day": "2024-05-01T23:59:00Z"}), [1])
    assert table.column("day")[0].as_py() == dt.date(2024, 5, 1)


def test_json_text_fields_take_the_python_path_at_any_depth():
    schema = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "payload": {},
            "either": {"type": ["string", "integer"]},
            "nested": {"type": "object", "properties": {"free": {"type": "object"}, "n": {"type": "integer"}}},
            "many": {"type": "array", "items": {"type": "object"}},
        },
    }
    conv = converter(schema)
    assert not conv.native
    table = conv.convert(
        batch({"id": 1, "payload": {"a": [1, 2]}, "either": 5, "nested": {"free": {"x": None}, "n": 3},
               "many": [{"k": 1}, {"k": 2}]}),
        [1],
    )
    assert table.to_pylist() == [
        {"id": 1, "payload": '{"a":[1,2]}', "either": "5", "nested": {"free": '{"x":null}', "n": 3},
         "many": ['{"k":1}', '{"k":2}']}
    ]


def test_a_value_of_the_wrong_type_is_located_by_line_and_field():
    with pytest.raises(SingerProtocolError) as error:
        converter().convert(batch({"id": 1}, {"id": 2, "price": "cheap"}, {"id": 3}), [7, 9, 11])
    assert (error.value.line, error.value.stream, error.value.field) == (9, "s", "price")
    assert '"cheap"' in str(error.value)


def test_a_bad_nested_date_is_located():
    records = [{"id": i, "address": {"city": "x", "since": "2020-01-01"}} for i in range(100)]
    records[63]["address"]["since"] = "not a date"
    with pytest.raises(SingerProtocolError) as error:
        converter().convert(batch(*records), range(1000, 1100))
    assert (error.value.line, error.value.field) == (1063, "address")


def test_a_missing_required_nested_field_is_located():
    schema = {
        "type": "object",
        "properties": {"id": {"type": "integer"}, "info": {"type": "object", "required": ["name"],
                                                           "properties": {"name": {"type": "string"}}}},
    }
    with pytest.raises(SingerProtocolError) as error:
        converter(schema).convert(batch({"id": 1, "info": {"name": "a"}}, {"id": 2, "info": {}}, {"id": 3}), [1, 2, 3])
    assert (error.value.line, error.value.field) == (2, "info.name")


def test_a_record_message_without_a_record_object_is_located():
    data = batch({"id": 1}) + b'\n{"type":"RECORD","stream":"s","record":null}'
    with pytest.raises(SingerProtocolError) as error:
        converter().convert(data, [4, 5])
    assert error.value.line == 5
    assert "record" in str(error.value)


def test_native_and_python_paths_agree():
    records = [{"id": i, "at": f"2024-05-01T10:00:{i:02d}Z", "tags": [str(i)], "price": i / 3} for i in range(50)]
    native = converter().convert(batch(*records), range(50))
    python = converter()._read_python(batch(*records), range(50))
    python = pa.Table.from_arrays(
        [converter()._cast_column(python.column(i), f, range(50)) for i, f in enumerate(native.schema)],
        schema=native.schema,
    )
    assert native.equals(python)
