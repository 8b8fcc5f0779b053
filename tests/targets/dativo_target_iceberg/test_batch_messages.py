"""BATCH messages: jsonl (gzip or not) and parquet files, a fitting parquet file registered as is."""

from __future__ import annotations

import datetime as dt
import gzip
import io

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dativo_core.singer import SingerProtocolError, SingerWriter
from dativo_target_iceberg.catalog import open_catalog
from dativo_target_iceberg.config import TargetConfig
from dativo_target_iceberg.loader import Loader

SCHEMA = {
    "type": "SCHEMA", "stream": "events", "key_properties": ["id"],
    "schema": {"type": "object", "properties": {
        "id": {"type": "integer"},
        "at": {"type": ["string", "null"], "format": "date-time"},
        "kind": {"type": ["string", "null"]},
    }},
}
TABLE_SCHEMA = pa.schema([
    pa.field("id", pa.int64(), nullable=False),
    pa.field("at", pa.timestamp("us", tz="UTC")),
    pa.field("kind", pa.string()),
])
AT = dt.datetime(2024, 5, 1, 12, tzinfo=dt.timezone.utc)


def batch(fmt: str, *paths, compression: str = "none") -> dict:
    return {"type": "BATCH", "stream": "events", "encoding": {"format": fmt, "compression": compression},
            "manifest": [p.as_uri() for p in paths]}


def load(tmp_path, *messages):
    config = TargetConfig.from_dict({"warehouse": str(tmp_path / "wh")})
    catalog = open_catalog(config)
    data = b"".join(orjson.dumps(m) + b"\n" for m in messages)
    out = io.BytesIO()
    Loader(config, catalog, SingerWriter(out)).run(io.BytesIO(data))
    return catalog.load_table(("default", "events")), out.getvalue()


def test_jsonl_files_plain_and_gzip(tmp_path):
    plain = tmp_path / "a.jsonl"
    plain.write_text('{"id": 1, "at": "2024-05-01T12:00:00Z", "kind": "x"}\n{"id": 2}\n')
    zipped = tmp_path / "b.jsonl.gz"
    zipped.write_bytes(gzip.compress(b'{"id": 3, "kind": "z", "other": 1}\n'))
    table, out = load(tmp_path, SCHEMA, batch("jsonl", plain), batch("jsonl", zipped, compression="gzip"),
                      {"type": "STATE", "value": {"done": 1}})
    assert table.scan().to_arrow().sort_by("id").to_pylist() == [
        {"id": 1, "at": AT, "kind": "x"}, {"id": 2, "at": None, "kind": None}, {"id": 3, "at": None, "kind": "z"},
    ]
    assert out == b'{"done":1}\n'


def test_a_fitting_parquet_file_is_registered_without_rewriting(tmp_path):
    source = tmp_path / "part.parquet"
    pq.write_table(pa.table({"id": [1, 2], "at": [AT, None], "kind": ["a", "b"]}, schema=TABLE_SCHEMA), source)
    table, _ = load(tmp_path, SCHEMA, batch("parquet", source))
    files = list(table.scan().plan_files())
    assert len(files) == 1
    assert files[0].file.file_path.split("/")[-1].startswith("dativo-batch-")
    assert files[0].file.file_size_in_bytes == source.stat().st_size  # the same bytes
    assert table.scan().to_arrow().sort_by("id").to_pylist() == [
        {"id": 1, "at": AT, "kind": "a"}, {"id": 2, "at": None, "kind": "b"},
    ]


@pytest.mark.parametrize(("id_required", "registered"), [(True, True), (False, False)])
def test_large_strings_are_registered_but_an_optional_key_is_rewritten(tmp_path, id_required, registered):
    # polars and singer-sdk write large strings; pyiceberg refuses an optional column for a required one.
    schema = TABLE_SCHEMA.set(0, TABLE_SCHEMA.field("id").with_nullable(not id_required))
    schema = schema.set(2, schema.field("kind").with_type(pa.large_string()))
    source = tmp_path / "large.parquet"
    pq.write_table(pa.table({"id": [1, 2], "at": [AT, None], "kind": ["a", "b"]}, schema=schema), source)
    table, _ = load(tmp_path, SCHEMA, batch("parquet", source))
    files = list(table.scan().plan_files())
    assert files[0].file.file_path.split("/")[-1].startswith("dativo-batch-") == registered
    assert table.scan().to_arrow().sort_by("id").to_pylist() == [
        {"id": 1, "at": AT, "kind": "a"}, {"id": 2, "at": None, "kind": "b"},
    ]


def test_a_parquet_file_of_other_types_is_converted(tmp_path):
    source = tmp_path / "other.parquet"
    pq.write_table(pa.table({"kind": ["c"], "id": pa.array([5], pa.int32()), "at": ["2024-05-01T12:00:00Z"]}), source)
    table, _ = load(tmp_path, SCHEMA, batch("parquet", source))
    assert table.scan().to_arrow().to_pylist() == [{"id": 5, "at": AT, "kind": "c"}]


def test_a_bad_record_in_a_batch_file_is_located(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1}\n{"id": "two"}\n')
    with pytest.raises(SingerProtocolError) as error:
        load(tmp_path, SCHEMA, batch("jsonl", bad))
    assert error.value.line == 2
    assert error.value.field == "id"
    assert "bad.jsonl, record 2" in str(error.value)
