"""Plain appends write buffered rows to data files ahead of the commit; other loads do not."""

from __future__ import annotations

import io
import json

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dativo_core.singer import SingerWriter
from dativo_target_iceberg import table_writer
from dativo_target_iceberg.catalog import open_catalog
from dativo_target_iceberg.config import TargetConfig
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


def test_dictionary_columns_are_repeated_strings_and_nested_string_leaves():
    rows = [{"n": 1.5, "s": "same", "unique": f"u{i}", "nested": {"a": "x", "b": i}, "tags": ["t"], "m": [("k", 1.0)]}
            for i in range(4)]
    data = pa.Table.from_pylist(rows, schema=pa.schema([
        pa.field("n", pa.float64()), pa.field("s", pa.string()), pa.field("unique", pa.string()),
        pa.field("nested", pa.struct([pa.field("a", pa.large_string()), pa.field("b", pa.int64())])),
        pa.field("tags", pa.list_(pa.string())), pa.field("m", pa.map_(pa.string(), pa.float64())),
    ]))
    assert table_writer.dictionary_columns(data) == ["s", "nested.a", "tags.list.element", "m.key_value.key"]
