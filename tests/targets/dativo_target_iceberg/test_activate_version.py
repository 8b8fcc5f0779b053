"""ACTIVATE_VERSION: a full-table sync replaces the older versions' rows atomically."""

from __future__ import annotations

import io

import orjson

from dativo_core.singer import SingerWriter
from dativo_target_iceberg.catalog import open_catalog
from dativo_target_iceberg.config import TargetConfig
from dativo_target_iceberg.loader import Loader

SCHEMA = {"type": "SCHEMA", "stream": "items", "key_properties": ["id"],
          "schema": {"type": "object", "properties": {"id": {"type": "integer"}}}}


def rec(i: int, version: int | None) -> dict:
    message = {"type": "RECORD", "stream": "items", "record": {"id": i}}
    return message if version is None else {**message, "version": version}


def activate(version: int) -> dict:
    return {"type": "ACTIVATE_VERSION", "stream": "items", "version": version}


def load(tmp_path, *messages, **settings):
    config = TargetConfig.from_dict({"warehouse": str(tmp_path / "wh"), **settings})
    catalog = open_catalog(config)
    data = b"".join(orjson.dumps(m) + b"\n" for m in messages)
    Loader(config, catalog, SingerWriter(io.BytesIO())).run(io.BytesIO(data))
    return catalog.load_table(("default", "items"))


def ids(table) -> list[tuple[int, int | None]]:
    rows = table.scan().to_arrow().sort_by("id").to_pylist()
    return [(r["id"], r["_sdc_table_version"]) for r in rows]


def test_full_table_syncs_replace_older_versions(tmp_path):
    # First sync announces its version before its records: nothing is removed up front.
    table = load(tmp_path, SCHEMA, rec(0, None), activate(1), rec(1, 1), rec(2, 1), activate(1))
    assert ids(table) == [(1, 1), (2, 1)]
    # A later sync: records first, ACTIVATE_VERSION at the end, committed over several flushes.
    table = load(tmp_path, SCHEMA, rec(2, 2), rec(3, 2), rec(4, 2), activate(2), max_batch_rows=2)
    assert ids(table) == [(2, 2), (3, 2), (4, 2)]


def test_no_snapshot_shows_an_empty_table(tmp_path):
    load(tmp_path, SCHEMA, rec(1, 1), activate(1))
    table = load(tmp_path, SCHEMA, activate(2), rec(5, 2), activate(2))
    counts = [table.scan(snapshot_id=s.snapshot_id).to_arrow().num_rows for s in table.snapshots()]
    assert 0 not in counts
    assert ids(table) == [(5, 2)]
