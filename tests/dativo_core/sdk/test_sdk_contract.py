"""The reader SDK on its own, and the contract test plugin authors run."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa
import pytest

from dativo_core.plugins.loading import load_reader_class
from dativo_core.sdk import (
    Bookmark,
    Capabilities,
    JsonLines,
    Reader,
    ReaderError,
    ReadItem,
    RecordLines,
    Stream,
)
from dativo_core.sdk.testing import ContractError, check_reader

EXAMPLE = (
    Path(__file__).parents[3]
    / "examples"
    / "readers"
    / "sqlite_tables"
    / "sqlite_reader.py"
)


@pytest.fixture
def shop_db(tmp_path: Path) -> str:
    path = tmp_path / "shop.db"
    db = sqlite3.connect(path)
    db.execute(
        "create table orders (id integer primary key, paid boolean, updated_at timestamp)"
    )
    db.executemany(
        "insert into orders values (?, ?, ?)",
        [(i, i % 2, f"2024-02-{i:02d}T10:00:00+00:00") for i in range(1, 11)],
    )
    db.commit()
    db.close()
    return str(path)


def test_sdk_imports_without_heavy_dependencies() -> None:
    code = (
        "import sys, dativo_core.sdk as sdk; "
        "heavy = {'pyarrow', 'jsonschema', 'polars', 'singer_sdk', 'orjson'} & set(sys.modules); "
        "assert not heavy, heavy; print(sdk.__api_version__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "1.2"


@pytest.mark.parametrize("output", ["records", "arrow"])
def test_example_reader_keeps_the_contract(shop_db: str, output: str) -> None:
    reader_class = load_reader_class(f"{EXAMPLE}:SQLiteReader")
    config = {
        "database": shop_db,
        "replication_keys": {"orders": "updated_at"},
        "batch_rows": 4,
        "output": output,
    }
    report = check_reader(reader_class, config)
    assert [s.name for s in report.streams] == ["orders"]
    assert report.records == {"orders": 10}
    assert (
        report.bookmarks["orders"]["replication_key_value"]
        == "2024-02-10T10:00:00+00:00"
    )


class _Broken(Reader):
    capabilities = Capabilities()
    schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {"id": {"type": "integer"}},
    }

    @classmethod
    def spec(cls) -> dict[str, Any]:
        return {"type": "object", "properties": {"size": {"type": "integer"}}}

    def discover(self) -> list[Stream]:
        return [Stream("things", self.schema, ("id",))]

    def read(self, stream: Stream, state: dict[str, Any]) -> Iterator[ReadItem]:
        yield {"id": "seven"}
        yield {"id": 8, "colour": "red"}
        yield pa.record_batch({"id": [9]})
        yield Bookmark({"at": object()})  # type: ignore[dict-item]
        yield ["not", "a", "record"]  # type: ignore[misc]


class _BrokenBatches(_Broken):
    capabilities = Capabilities(batch_output=True)

    def read(self, stream: Stream, state: dict[str, Any]) -> Iterator[ReadItem]:
        yield JsonLines(b'{"id": 1}\n', 2)
        yield JsonLines(b'{"id": "x"}\n', 1)
        yield pa.record_batch({"id": [1.5]})
        yield RecordLines(b'{"type":"RECORD","stream":"other","record":{"id":1}}\n', 1)
        yield RecordLines(b'{"type":"RECORD","stream":"things","record":{"id":1,"x":2}}\n', 1)
        yield RecordLines(b'{"type":"RECORD","stream":"things","record":{"id":"y"}}\n', 1)


def test_contract_errors_name_every_broken_rule() -> None:
    with pytest.raises(ContractError) as caught:
        check_reader(_Broken, {"size": 1})
    problems = caught.value.problems
    assert (
        "stream 'things': record 1, field id: 'seven' is not of type 'integer'"
        in problems
    )
    assert (
        "stream 'things': record 2 has fields not in the schema: ['colour']" in problems
    )
    assert any(
        "yielded a RecordBatch but the reader does not declare" in p for p in problems
    )
    assert any("Bookmark value is not JSON-serializable" in p for p in problems)
    assert any(
        "must yield dicts, RecordBatches, JsonLines, RecordLines or Bookmarks, got list" in p
        for p in problems
    )


def test_contract_checks_batches_and_json_lines() -> None:
    with pytest.raises(ContractError) as caught:
        check_reader(_BrokenBatches, {})
    assert caught.value.problems == [
        "stream 'things': JsonLines says 2 records but holds 1 lines",
        "stream 'things': record 1, field id: 'x' is not of type 'integer'",
        "stream 'things': record 2, field id: 1.5 is not of type 'integer'",
        "stream 'things': RecordLines line 1 is not a RECORD of this stream: "
        + repr(b'{"type":"RECORD","stream":"other","record":{"id":1}}'),
        (
            "stream 'things': RecordLines line 1 holds properties ['id', 'x'], "
            "not the stream's selected ['id']"
        ),
        "stream 'things': record 3, field id: 'y' is not of type 'integer'",
    ]


def test_contract_checks_the_config_and_the_discovered_schemas() -> None:
    with pytest.raises(ContractError, match="the test config does not satisfy spec"):
        check_reader(_Broken, {"size": "big"})

    class BadSchema(_Broken):
        schema: ClassVar[dict[str, Any]] = {
            "type": "object",
            "properties": {"id": {"type": "integr"}},
        }

    with pytest.raises(
        ContractError,
        match=r"stream 'things' schema is not a valid JSON Schema at properties/id/type",
    ):
        check_reader(BadSchema, {})

    class UndeclaredIncremental(_Broken):
        def discover(self) -> list[Stream]:
            return [Stream("things", self.schema, (), replication_key="id")]

    with pytest.raises(
        ContractError, match=r"has a replication key but the reader does not declare"
    ):
        check_reader(UndeclaredIncremental, {})


def test_secret_must_be_declared_and_set(monkeypatch: pytest.MonkeyPatch) -> None:
    class NeedsToken(_Broken):
        capabilities = Capabilities(secrets=("API_TOKEN",))

    reader = NeedsToken({})
    monkeypatch.setenv("OTHER_TOKEN", "x")
    with pytest.raises(ReaderError, match="secret 'OTHER_TOKEN' is not declared"):
        reader.secret("OTHER_TOKEN")
    with pytest.raises(ReaderError, match="secret 'API_TOKEN' is not set"):
        reader.secret("API_TOKEN")
    monkeypatch.setenv("API_TOKEN", "t0ken")
    assert reader.secret("API_TOKEN") == "t0ken"
