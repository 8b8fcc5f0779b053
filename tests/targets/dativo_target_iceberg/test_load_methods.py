"""load_method upsert and overwrite against a real sqlite SqlCatalog, read back."""

from __future__ import annotations

import io

import orjson
import pyarrow as pa
import pytest

from dativo_core.singer import SingerProtocolError, SingerWriter
from dativo_target_iceberg.catalog import open_catalog
from dativo_target_iceberg.config import TargetConfig
from dativo_target_iceberg.loader import Loader
from dativo_target_iceberg.table_writer import last_per_key


def schema(*extra_columns: str, keys=("id",)) -> dict:
    props = {"id": {"type": "integer"}, "name": {"type": ["string", "null"]}}
    props.update({c: {"type": ["integer", "null"]} for c in extra_columns})
    return {"type": "SCHEMA", "stream": "users", "key_properties": list(keys),
            "schema": {"type": "object", "properties": props}}


def rec(**values) -> dict:
    return {"type": "RECORD", "stream": "users", "record": values}


def load(tmp_path, messages, **settings):
    config = TargetConfig.from_dict({"warehouse": str(tmp_path / "wh"), **settings})
    catalog = open_catalog(config)
    data = b"".join(orjson.dumps(m) + b"\n" for m in messages)
    Loader(config, catalog, SingerWriter(io.BytesIO())).run(io.BytesIO(data))
    return catalog.load_table(("default", "users")).scan().to_arrow().sort_by("id").to_pylist()


def test_last_record_per_key_wins_and_order_is_kept():
    data = pa.table({"id": [1, 2, 1, 3, 2], "v": ["a", "b", "c", "d", "e"]})
    assert last_per_key(data, ["id"]).to_pylist() == [
        {"id": 1, "v": "c"}, {"id": 3, "v": "d"}, {"id": 2, "v": "e"}
    ]


def test_upsert_replaces_rows_by_key_across_runs_and_within_a_batch(tmp_path):
    first = load(tmp_path, [schema(), rec(id=1, name="a"), rec(id=2, name="b"), rec(id=1, name="a2")],
                 load_method="upsert")
    assert first == [{"id": 1, "name": "a2"}, {"id": 2, "name": "b"}]
    second = load(tmp_path, [schema(), rec(id=2, name="b2"), rec(id=3, name="c")], load_method="upsert")
    assert second == [{"id": 1, "name": "a2"}, {"id": 2, "name": "b2"}, {"id": 3, "name": "c"}]


def test_upsert_keeps_working_after_the_schema_gains_a_column(tmp_path):
    messages = [schema(), rec(id=1, name="a"), rec(id=2, name="b"),
                schema("age"), rec(id=2, name="b2", age=30), rec(id=4, name="d", age=40)]
    rows = load(tmp_path, messages, max_batch_rows=2, load_method="upsert")
    assert rows == [
        {"id": 1, "name": "a", "age": None},
        {"id": 2, "name": "b2", "age": 30},
        {"id": 4, "name": "d", "age": 40},
    ]
    again = load(tmp_path, [schema("age"), rec(id=1, name="a3", age=1)], streams={"users": {"load_method": "upsert"}})
    assert again[0] == {"id": 1, "name": "a3", "age": 1}
    assert len(again) == 3


def test_upsert_needs_keys(tmp_path):
    with pytest.raises(SingerProtocolError, match="upsert needs key_properties"):
        load(tmp_path, [schema(keys=())], load_method="upsert")


def test_overwrite_replaces_the_table_with_this_run(tmp_path):
    load(tmp_path, [schema(), rec(id=1), rec(id=2)], load_method="overwrite")
    rows = load(tmp_path, [schema(), rec(id=7), rec(id=8), rec(id=9)], load_method="overwrite", max_batch_rows=2)
    assert [r["id"] for r in rows] == [7, 8, 9]


def deletable(**values) -> dict:
    return {"type": "RECORD", "stream": "users", "record": {"_sdc_deleted_at": None, **values}}


DELETABLE = {"type": "SCHEMA", "stream": "users", "key_properties": ["id"], "schema": {"type": "object", "properties": {
    "id": {"type": "integer"}, "name": {"type": ["string", "null"]},
    "_sdc_deleted_at": {"type": ["string", "null"], "format": "date-time"},
}}}
GONE = "2024-06-01T00:00:00Z"


@pytest.mark.parametrize("method", ["append-only", "upsert"])
def test_hard_delete_removes_keys_whose_last_record_is_a_deletion(tmp_path, method):
    load(tmp_path, [DELETABLE, deletable(id=1, name="a"), deletable(id=2, name="b"), deletable(id=3, name="c")],
         hard_delete=True, load_method=method)
    rows = load(tmp_path, [DELETABLE, deletable(id=1, _sdc_deleted_at=GONE), deletable(id=4, name="d"),
                           deletable(id=4, _sdc_deleted_at=GONE), deletable(id=2, _sdc_deleted_at=GONE),
                           deletable(id=2, name="b2")],
                hard_delete=True, load_method=method)
    assert [(r["id"], r["name"]) for r in rows] == [(2, "b2"), (3, "c")] if method == "upsert" else [
        (2, "b"), (2, "b2"), (3, "c")
    ]


def test_soft_delete_keeps_the_column(tmp_path):
    rows = load(tmp_path, [DELETABLE, deletable(id=1, name="a"), deletable(id=1, _sdc_deleted_at=GONE)])
    assert [(r["id"], r["_sdc_deleted_at"] is not None) for r in rows] == [(1, False), (1, True)]
