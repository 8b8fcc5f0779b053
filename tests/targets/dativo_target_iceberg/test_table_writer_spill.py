"""Plain appends write buffered rows to data files ahead of the commit; other loads do not."""

from __future__ import annotations

import io
import json

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyiceberg.io.pyarrow import parquet_file_to_data_file
from pyiceberg.schema import Schema
from pyiceberg.types import LongType, NestedField, StringType

from dativo_core.singer import SingerWriter
from dativo_target_iceberg import table_writer
from dativo_target_iceberg.catalog import open_catalog
from dativo_target_iceberg.config import TargetConfig
from dativo_target_iceberg.data_files import plainly_compatible
from dativo_target_iceberg.loader import Loader
from dativo_target_iceberg.table_writer import STATE_PROPERTY


@pytest.fixture(autouse=True)
def small_spills(monkeypatch):
    monkeypatch.setattr(table_writer, "SPILL_ROWS", 10)


def schema() -> dict:
    props = {"id": {"type": "integer"}, "day": {"type": "string", "format": "date"}, "name": {"type": ["string", "null"]}}
    return {"type": "SCHEMA", "stream": "s", "key_properties": ["id"], "schema": {"type": "object", "properties": props}}


def record(i: int) -> dict:
    return {"type": "RECORD", "stream": "s", "record": {"id": i, "day": f"2024-01-{1 + i % 3:02d}", "name": f"n{i}"}}


def load(tmp_path, messages, **settings):
    config = TargetConfig.from_dict({"warehouse": str(tmp_path / "wh"), "max_batch_rows": 35, **settings})
    out = io.BytesIO()
    catalog = open_catalog(config)
    data = b"".join(orjson.dumps(m) + b"\n" for m in messages)
    Loader(config, catalog, SingerWriter(out)).run(io.BytesIO(data))
    table = catalog.load_table(("default", "s"))
    return table, [json.loads(line) for line in out.getvalue().splitlines()]


def data_files(table) -> list[str]:
    return [task.file.file_path for task in table.scan().plan_files()]


def in_fives(count: int) -> list[dict]:
    """Records in batches of 5: each STATE between them ends a batch."""
    messages: list[dict] = []
    for i in range(count):
        messages.append(record(i))
        if i % 5 == 4:
            messages.append({"type": "STATE", "value": {"pos": i + 1}})
    return messages


def test_appends_are_written_ahead_and_registered_with_their_state(tmp_path):
    table, states = load(tmp_path, [schema(), *in_fives(50)])
    assert states == [{"pos": 30}, {"pos": 35}, {"pos": 50}]  # the flush at 35 rows covers pos 30
    assert table.scan().to_arrow().sort_by("id").column("id").to_pylist() == list(range(50))
    # 35 rows committed as 4 files (spills at 10, 20, 30, then the rest), then 15 as 2.
    assert len(data_files(table)) == 6
    assert all("/dativo-" in path for path in data_files(table))
    assert json.loads(table.current_snapshot().summary.additional_properties[STATE_PROPERTY]) == {"pos": 50}
    written = pq.read_table(data_files(table)[0].removeprefix("file://"))
    assert written.schema.field("id").nullable is False  # the key is required, as in the table
    assert written.schema.field("day").type == pa.date32()


@pytest.mark.parametrize(
    "settings",
    [{"load_method": "upsert"}, {"streams": {"s": {"partition_by": [{"column": "day", "transform": "identity"}]}}}],
)
def test_other_loads_commit_through_pyiceberg_as_before(tmp_path, settings):
    table, states = load(tmp_path, [schema(), *in_fives(50)], **settings)
    assert states == [{"pos": 30}, {"pos": 35}, {"pos": 50}]
    assert table.scan().to_arrow().sort_by("id").column("id").to_pylist() == list(range(50))
    assert not any("/dativo-" in path for path in data_files(table))


def test_data_files_dictionary_encode_only_repeated_strings(tmp_path):
    table, _ = load(tmp_path, [schema(), *in_fives(20)])
    metadata = pq.ParquetFile(data_files(table)[0].removeprefix("file://")).metadata
    columns = {metadata.row_group(0).column(i).path_in_schema: metadata.row_group(0).column(i)
               for i in range(metadata.num_columns)}
    assert not columns["name"].has_dictionary_page  # every name differs
    assert not columns["id"].has_dictionary_page and not columns["day"].has_dictionary_page
    # Iceberg's file metrics come from the column statistics, which every column keeps.
    assert all(column.is_stats_set for column in columns.values())
    files = table.inspect.files().to_pylist()
    assert {field_id for field_id, _ in files[0]["lower_bounds"]} == {1, 2, 3}


def test_written_files_are_registered_with_the_entries_add_files_would_read(tmp_path):
    table, _ = load(tmp_path, [schema(), *in_fives(30)])
    assert table.metadata.name_mapping() is not None  # the files carry no field ids, as add_files needs
    for task in table.scan().plan_files():
        registered = task.file
        read_back = parquet_file_to_data_file(table.io, table.metadata, registered.file_path)
        for name in ("record_count", "file_size_in_bytes", "value_counts", "null_value_counts",
                     "lower_bounds", "upper_bounds", "column_sizes", "split_offsets"):
            assert getattr(registered, name) == getattr(read_back, name), name
    assert table.scan(row_filter="id >= 25").to_arrow().sort_by("id").column("id").to_pylist() == list(range(25, 30))


def test_plain_compatibility_admits_only_what_fits_unchanged():
    table = Schema(
        NestedField(1, "id", LongType(), required=True), NestedField(2, "name", StringType(), required=False),
    )
    assert plainly_compatible(pa.schema([pa.field("id", pa.int64(), False), pa.field("name", pa.string())]), table)
    assert plainly_compatible(pa.schema([pa.field("id", pa.int64(), False)]), table)  # an optional column may lack
    for data in (
        pa.schema([pa.field("id", pa.int64())]),  # a required column that may hold nulls
        pa.schema([pa.field("name", pa.string())]),  # a required column missing
        pa.schema([pa.field("id", pa.int32(), False)]),  # a promotion: pyiceberg's check decides
        pa.schema([pa.field("id", pa.int64(), False), pa.field("extra", pa.string())]),
        pa.schema([pa.field("id", pa.int64(), False), pa.field("name", pa.struct([pa.field("a", pa.string())]))]),
    ):
        assert not plainly_compatible(data, table), data


def test_files_of_nested_columns_are_read_and_checked_by_add_files(tmp_path):
    props = {"id": {"type": "integer"}, "address": {"type": ["object", "null"], "properties": {"city": {"type": "string"}}}}
    nested = {"type": "SCHEMA", "stream": "s", "key_properties": ["id"], "schema": {"type": "object", "properties": props}}
    messages = [nested]
    for i in range(25):
        messages.append({"type": "RECORD", "stream": "s", "record": {"id": i, "address": {"city": f"c{i % 2}"}}})
        if i % 5 == 4:
            messages.append({"type": "STATE", "value": {"pos": i + 1}})  # ends a batch
    table, _ = load(tmp_path, messages)
    assert len(data_files(table)) == 3  # spilled at 10 and 20 rows, and the rest
    loaded = table.scan().to_arrow().sort_by("id")
    assert loaded.column("address").to_pylist() == [{"city": f"c{i % 2}"} for i in range(25)]


@pytest.mark.parametrize(("merge", "manifests"), [("false", 2), ("true", 1)])
def test_written_files_are_appended_as_the_table_asks_fast_or_merging(tmp_path, merge, manifests):
    properties = {"commit.manifest-merge.enabled": merge, "commit.manifest.min-count-to-merge": "2"}
    table, _ = load(tmp_path, [schema(), *in_fives(50)], table_properties=properties)
    # Two commits (35 rows, then 15): a fast append adds a manifest each time, a merging one
    # merges them once there are two.
    assert len(table.current_snapshot().manifests(table.io)) == manifests
    assert table.scan().to_arrow().sort_by("id").column("id").to_pylist() == list(range(50))
