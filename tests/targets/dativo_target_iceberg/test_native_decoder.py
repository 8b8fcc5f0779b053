"""The Rust RECORD decoder gives the same tables as the pyarrow.json path, and names bad lines."""

from __future__ import annotations

import importlib.resources
import json
import re
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import pyarrow as pa
import pytest
from singer_sdk.testing import target_test_streams

from dativo_core.singer import SingerProtocolError, message_from_dict
from dativo_target_iceberg import records
from dativo_target_iceberg.native_decoder import decoder_library
from dativo_target_iceberg.records import RecordConverter
from dativo_target_iceberg.stream_schema import stream_schema

STREAMS = importlib.resources.files(target_test_streams)
SINGER_FILES = sorted(p.name for p in STREAMS.iterdir() if p.name.endswith(".singer"))

pytestmark = pytest.mark.skipif(decoder_library() is None, reason="the Rust decoder is not built")


def converter(schema_message: dict, native: bool, monkeypatch: pytest.MonkeyPatch) -> RecordConverter:
    with monkeypatch.context() as patch:
        if not native:
            patch.setattr(records, "decoder_library", lambda: None)
        schema = stream_schema(message_from_dict(schema_message, 1), 1)
        made = RecordConverter(schema.stream, schema.arrow, schema.key_properties)
        assert (made._decoder is not None) == (native and made.native)  # made on first use
    return made


def convert_both(schema_message: dict, lines: list[bytes], monkeypatch) -> tuple[object, object]:
    """Each path's table, or the SingerProtocolError it raised (as its location and field)."""
    outcomes = []
    numbers = list(range(2, len(lines) + 2))
    for native in (True, False):
        try:
            outcomes.append(converter(schema_message, native, monkeypatch).convert(b"\n".join(lines), numbers))
        except SingerProtocolError as exc:
            outcomes.append((exc.line, exc.stream, exc.field))
    return outcomes[0], outcomes[1]


def singer_file_batches(name: str) -> list[tuple[dict, list[bytes]]]:
    """Each SCHEMA of the file with the RECORD lines of its stream that follow it."""
    batches: list[tuple[dict, list[bytes]]] = []
    current: dict[str, tuple[dict, list[bytes]]] = {}
    for line in (STREAMS / name).read_bytes().splitlines():
        message = json.loads(line) if line.strip() else {}
        if message.get("type") == "SCHEMA":
            current[message["stream"]] = (message, [])
            batches.append(current[message["stream"]])
        elif message.get("type") == "RECORD" and message.get("stream") in current:
            current[message["stream"]][1].append(line)
    return [(schema, lines) for schema, lines in batches if lines]


@pytest.mark.parametrize("name", SINGER_FILES)
def test_singer_sdk_streams_decode_identically(name, monkeypatch):
    for schema_message, lines in singer_file_batches(name):
        native, fallback = convert_both(schema_message, lines, monkeypatch)
        if isinstance(fallback, pa.Table):
            assert isinstance(native, pa.Table), native
            assert native.equals(fallback), name
        else:
            assert native == fallback


EDGE_SCHEMA = {
    "type": "SCHEMA", "stream": "edge", "key_properties": ["id"],
    "schema": {"type": "object", "properties": {
        "id": {"type": "integer"},
        "big": {"type": ["integer", "null"]},
        "ratio": {"type": ["number", "null"]},
        "flag": {"type": ["boolean", "null"]},
        "text": {"type": ["string", "null"]},
        "at": {"type": ["string", "null"], "format": "date-time"},
        "day": {"type": ["string", "null"], "format": "date"},
        "tags": {"type": ["array", "null"], "items": {"type": "string"}},
        "nested": {"type": ["object", "null"], "properties": {
            "n": {"type": ["integer", "null"]}, "deep": {"type": ["object", "null"], "properties": {
                "x": {"type": ["number", "null"]}}}}},
    }},
}

GOOD_EDGE_RECORDS = [
    {"id": 1, "big": 9223372036854775807, "ratio": 1e308, "flag": True, "text": "é \u2603 \"quoted\" \\ \n tab\t"},
    {"id": -9223372036854775808, "big": None, "ratio": -0.0, "flag": False, "text": ""},
    {"id": 3, "big": 1.0, "ratio": 5, "at": "2024-05-01T10:00:00.123456+02:00", "day": "2024-02-29"},
    {"id": 4, "at": "2024-05-01 10:00:00", "tags": [], "nested": {}},
    {"id": 5, "tags": ["a", None, "c"], "nested": {"n": 7, "deep": {"x": 1.5e-300}}, "unknown": {"z": [1]}},
    {"id": 6, "ratio": 12345, "nested": None, "text": "\ud83d\ude00"},
]


def record_line(record: dict) -> bytes:
    return json.dumps({"type": "RECORD", "stream": "edge", "record": record}).encode()


def test_type_edge_cases_decode_identically(monkeypatch):
    lines = [record_line(r) for r in GOOD_EDGE_RECORDS]
    lines.append(b'{"type":"RECORD","stream":"edge","record":{"id":7},"time_extracted":"2024-01-01T00:00:00Z"}')
    native, fallback = convert_both(EDGE_SCHEMA, lines, monkeypatch)
    assert isinstance(native, pa.Table) and native.equals(fallback)
    assert native.column("big").to_pylist()[:3] == [9223372036854775807, None, 1]
    assert native.column("text").to_pylist()[0] == GOOD_EDGE_RECORDS[0]["text"]


FLAT_SCHEMA = {
    "type": "SCHEMA", "stream": "edge", "key_properties": ["id"],
    "schema": {"type": "object", "properties": {
        name: prop for name, prop in EDGE_SCHEMA["schema"]["properties"].items() if name not in ("tags", "nested")
    }},
}

# Lines the flat fast path (numbers, booleans and strings only) reads itself, or hands to arrow-json.
FLAT_LINES = [
    *(record_line({k: v for k, v in r.items() if k not in ("tags", "nested", "unknown")}) for r in GOOD_EDGE_RECORDS),
    b'{"type":"RECORD","stream":"edge","record":{"text":"\\u00e9\\ud83d\\ude00\\/\\b\\f","id":8}}',
    b'{"type": "RECORD", "stream": "edge", "record": {"id": 9, "ratio": 2E+3, "big": -1e2}, "version": null}\r',
    b'{"time_extracted":"2024-01-01T00:00:00Z","stream":"edge","record":{"id":10,"x":{"a":[1,{"b":null}]},"y":[true]},"type":"RECORD"}',
    b'{"type":"RECORD","stream":"edge","record":{"id":11,"id":12}}',
    b'{"type":"RECORD","stream":"edge","record":{}, "extra": [1, 2.5, "s", {"k": false}]}',
    b'{"type":"RECORD","stream":"edge","record":{"id":13,"text":"\\u00"}}',
]


@pytest.mark.parametrize("line", range(len(FLAT_LINES)))
def test_flat_records_decode_identically_line_by_line(line, monkeypatch):
    native, fallback = convert_both(FLAT_SCHEMA, [record_line({"id": 0}), FLAT_LINES[line]], monkeypatch)
    if isinstance(fallback, pa.Table):
        assert isinstance(native, pa.Table) and native.equals(fallback), (native, fallback)
    else:
        assert not isinstance(native, pa.Table) and native == fallback


def test_flat_records_decode_identically_as_one_block(monkeypatch):
    valid = FLAT_LINES[:-2]  # the last two lack the required key, or cut an escape short
    native, fallback = convert_both(FLAT_SCHEMA, valid, monkeypatch)
    assert isinstance(native, pa.Table) and native.equals(fallback)
    assert native.column("text").to_pylist()[len(GOOD_EDGE_RECORDS)] == "\u00e9\U0001F600/\b\f"
    assert native.column("big").to_pylist()[len(GOOD_EDGE_RECORDS) + 1] == -100


def test_an_integer_beyond_int64_in_a_number_field_is_a_double(monkeypatch):
    # The pyarrow path takes it alone but refuses it beside floats (from_pylist); arrow-json takes both.
    lines = [record_line({"id": 1, "ratio": 1.5}), record_line({"id": 2, "ratio": 12345678901234567890})]
    table = converter(EDGE_SCHEMA, True, monkeypatch).convert(b"\n".join(lines), [2, 3])
    assert table.column("ratio").to_pylist() == [1.5, 1.2345678901234567e19]


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"id": 3, "big": 9223372036854775808}, "big"),
        ({"id": 3, "big": "12"}, "big"),
        ({"id": 3, "text": 12}, "text"),
        ({"id": 3, "flag": "yes"}, "flag"),
        ({"id": 3, "ratio": "1.5"}, "ratio"),
        ({"id": 3, "at": "not a time"}, "at"),
        ({"big": 3}, "id"),
    ],
)
def test_bad_values_are_located_alike(bad, field, monkeypatch):
    lines = [record_line({"id": 1}), record_line({"id": 2}), record_line(bad), record_line({"id": 4})]
    native, fallback = convert_both(EDGE_SCHEMA, lines, monkeypatch)
    assert native == fallback
    line, stream, named = native
    assert (line, stream) == (4, "edge")
    assert named.split(".")[0] == field


@pytest.mark.parametrize(
    ("bad", "field"),
    [({"id": 3, "big": 1.5}, "big"), ({"id": 3, "tags": "a"}, "tags"), ({"id": 3, "nested": {"n": 0.5}}, "nested.n")],
)
def test_values_json_schema_refuses_are_refused_natively(bad, field, monkeypatch):
    # The Python path truncates 1.5 to 1 and reads "a" as ["a"]; the native path refuses them.
    lines = [record_line({"id": 1}), record_line(bad)]
    with pytest.raises(SingerProtocolError) as failed:
        converter(EDGE_SCHEMA, True, monkeypatch).convert(b"\n".join(lines), [2, 3])
    assert (failed.value.line, failed.value.stream, failed.value.field) == (3, "edge", field)


def test_malformed_json_is_located(monkeypatch):
    lines = [record_line({"id": 1}), b'{"type":"RECORD","stream":"edge","record":{"id":2', record_line({"id": 3})]
    native, fallback = convert_both(EDGE_SCHEMA, lines, monkeypatch)
    assert native == fallback == (3, "edge", None)


def test_the_decoder_reports_the_line_and_field_itself():
    library = decoder_library()
    assert library is not None
    schema = pa.schema([pa.field("record", pa.struct([pa.field("a", pa.int64()), pa.field("b", pa.string())]))])
    decoder = library.decoder(schema)
    good = pa.Table.from_batches(decoder.decode(b'{"record":{"a":1,"b":"x"}}\n{"record":{"a":2}}'))
    assert good.column(0).to_pylist() == [{"a": 1, "b": "x"}, {"a": 2, "b": None}]
    with pytest.raises(records.DecodeError) as failed:
        decoder.decode(b'{"record":{"a":1}}\n{"record":{"a":2}}\n{"record":{"a":3,"b":false}}')
    assert failed.value.line == 2
    assert "field 'b'" in failed.value.message


PREFIX = b'{"type":"RECORD","stream":"s"'


def prefixed_decoder():
    library = decoder_library()
    assert library is not None
    return library.decoder(pa.schema([pa.field("record", pa.struct([pa.field("a", pa.int64())]))]))


@pytest.mark.parametrize("rows", [3, 200_000])  # one call, and two halves on two threads
def test_a_block_decodes_with_a_prefix_only_when_every_line_has_it(rows):
    decoder = prefixed_decoder()
    lines = [b'{"type":"RECORD","stream":"s","record":{"a":%d}}' % i for i in range(rows)]
    batches = decoder.decode(b"\n".join(lines), PREFIX)
    assert pa.Table.from_batches(batches).column(0).to_pylist() == [{"a": i} for i in range(rows)]
    for other in (b'{"type":"STATE","value":{}}', b'{"type":"RECORD","stream":"t","record":{"a":1}}', b"",
                  b'{"type":"RECORD","stream":"s","record":{"a":1},"version":2}'):
        for at in (0, rows // 2 + 1, rows - 1):  # in the first half, the second, the last line
            mixed = lines[:at] + [other] + lines[at + 1 :]
            assert decoder.decode(b"\n".join(mixed), PREFIX) is None, (other, at)


@pytest.mark.parametrize("at", [1, 150_000, 199_999])
def test_a_prefixed_block_locates_a_bad_line_in_either_half(at):
    decoder = prefixed_decoder()
    lines = [b'{"type":"RECORD","stream":"s","record":{"a":%d}}' % i for i in range(200_000)]
    lines[at] = b'{"type":"RECORD","stream":"s","record":{"a":"x"}}'
    with pytest.raises(records.DecodeError) as failed:
        decoder.decode(b"\n".join(lines), PREFIX)
    assert failed.value.line == at


def test_a_target_run_loads_the_same_rows_on_both_paths(new_warehouse, monkeypatch):
    """Real target subprocesses: the Rust decoder when built, pyarrow.json when told; each says which."""
    data = b"\n".join([json.dumps(EDGE_SCHEMA).encode()] + [record_line(r) for r in GOOD_EDGE_RECORDS]) + b"\n"
    native = new_warehouse("native-decoder")
    native_run = native.run(data)
    monkeypatch.setenv("DATIVO_RECORD_DECODER", "pyarrow")
    fallback = new_warehouse("pyarrow-decoder")
    fallback_run = fallback.run(data)
    assert native_run.returncode == fallback_run.returncode == 0, native_run.stderr + fallback_run.stderr
    assert "decoded natively" in native_run.stderr
    assert "decoded with pyarrow.json" in fallback_run.stderr
    rows = native.rows("edge", sort_by="id")
    assert rows == fallback.rows("edge", sort_by="id")
    assert [row["id"] for row in rows] == sorted(r["id"] for r in GOOD_EDGE_RECORDS)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("cargo") is None, reason="cargo is not installed")
def test_the_crate_s_own_tests_pass():
    """The fast path is compared with arrow-json itself in the crate's tests, line by line."""
    crate = Path(records.__file__).resolve().parents[2] / "rust_ext"
    run = subprocess.run(
        ["cargo", "test", "--release", "--quiet", "-p", "dativo_singer_decoder"],
        cwd=crate, capture_output=True, text=True, timeout=900,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"test result: ok\. [1-9]\d* passed", run.stdout), run.stdout  # tests ran, none failed
