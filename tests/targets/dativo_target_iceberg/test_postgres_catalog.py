"""The same loads against pyiceberg's SqlCatalog on a real PostgreSQL server."""

from __future__ import annotations

import io
import json

import orjson
import pytest

from dativo_core.singer import SingerWriter
from dativo_target_iceberg.catalog import open_catalog
from dativo_target_iceberg.config import TargetConfig
from dativo_target_iceberg.loader import Loader
from dativo_target_iceberg.recovery import recover_from_catalog

pytestmark = pytest.mark.postgres


def schema(stream: str) -> dict:
    return {"type": "SCHEMA", "stream": stream, "key_properties": ["id"],
            "schema": {"type": "object", "properties": {"id": {"type": "integer"}, "v": {"type": ["string", "null"]}}}}


def rec(stream: str, i: int, v: str) -> dict:
    return {"type": "RECORD", "stream": stream, "record": {"id": i, "v": v}}


def bookmarks(**positions) -> dict:
    return {"type": "STATE", "value": {"bookmarks": {s: {"pos": p} for s, p in positions.items()}}}


def load(config: TargetConfig, *messages) -> list[dict]:
    out = io.BytesIO()
    data = b"".join(orjson.dumps(m) + b"\n" for m in messages)
    Loader(config, open_catalog(config), SingerWriter(out)).run(io.BytesIO(data))
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_load_upsert_and_recover_state_on_postgres(postgres_url, tmp_path):
    config = TargetConfig.from_dict({
        "catalog": {"type": "sql", "uri": postgres_url, "warehouse": (tmp_path / "wh").as_uri()},
        "namespace": "raw", "load_method": "upsert",
    })
    states = load(config, schema("a"), schema("b"), rec("a", 1, "x"), rec("b", 1, "y"), bookmarks(a=1, b=1),
                  rec("a", 1, "x2"), rec("a", 2, "z"), bookmarks(a=2, b=1))
    assert states[-1] == {"bookmarks": {"a": {"pos": 2}, "b": {"pos": 1}}}
    catalog = open_catalog(config)
    rows = catalog.load_table(("raw", "a")).scan().to_arrow().sort_by("id").to_pylist()
    assert rows == [{"id": 1, "v": "x2"}, {"id": 2, "v": "z"}]
    recovered = recover_from_catalog(catalog, "raw")
    assert recovered.state == {"bookmarks": {"a": {"pos": 2}, "b": {"pos": 1}}}
    assert recovered.skip_rows == {"a": 0, "b": 0}
