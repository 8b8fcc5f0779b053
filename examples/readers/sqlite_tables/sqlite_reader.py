"""Example reader plugin: the tables of a SQLite database as Singer streams.

Shows the whole reader SDK: a config spec, discovery from the source's own catalog, primary
keys, incremental reads with bookmarks, and Arrow batch output.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

from dativo_core.sdk import (
    Bookmark,
    Capabilities,
    Reader,
    ReaderError,
    ReadItem,
    Stream,
)

# SQLite declared types, by the affinity rules of https://www.sqlite.org/datatype3.html
_DATETIME_WORDS = ("DATETIME", "TIMESTAMP")


def _json_type(declared: str) -> dict[str, Any]:
    upper = declared.upper()
    if "INT" in upper:
        return {"type": ["integer", "null"]}
    if any(word in upper for word in _DATETIME_WORDS):
        return {"type": ["string", "null"], "format": "date-time"}
    if upper == "DATE":
        return {"type": ["string", "null"], "format": "date"}
    if any(word in upper for word in ("REAL", "FLOA", "DOUB", "NUMERIC", "DECIMAL")):
        return {"type": ["number", "null"]}
    if upper in ("BOOL", "BOOLEAN"):
        return {"type": ["boolean", "null"]}
    return {"type": ["string", "null"]}


class SQLiteReader(Reader):
    """Reads SQLite tables, incrementally where a replication key is configured."""

    capabilities = Capabilities(incremental=True, discovery=True, batch_output=True)

    @classmethod
    def spec(cls) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["database"],
            "additionalProperties": False,
            "properties": {
                "database": {
                    "type": "string",
                    "description": "Path of the SQLite file (absolute).",
                },
                "tables": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "Tables to offer; all tables when absent.",
                },
                "replication_keys": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                    "description": "Column to read incrementally by, per table.",
                },
                "output": {
                    "type": "string",
                    "enum": ["records", "arrow"],
                    "default": "records",
                    "description": "Yield dict records, or Arrow record batches.",
                },
                "batch_rows": {
                    "type": "integer",
                    "minimum": 1,
                    "default": 5000,
                    "description": "Rows per batch handed from the reader.",
                },
            },
        }

    def setup(self) -> None:
        path = self.config["database"]
        try:
            self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        except sqlite3.Error as exc:
            raise ReaderError(f"cannot open SQLite database {path}: {exc}") from exc

    def teardown(self) -> None:
        if hasattr(self, "_db"):
            self._db.close()

    def check(self) -> None:
        try:
            self._db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.Error as exc:
            raise ReaderError(
                f"{self.config['database']} is not a readable SQLite database: {exc}"
            ) from exc

    def _tables(self) -> list[str]:
        rows = self._db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        ).fetchall()
        names = [r[0] for r in rows]
        wanted = self.config.get("tables")
        if wanted:
            missing = sorted(set(wanted) - set(names))
            if missing:
                raise ReaderError(
                    f"tables {missing} are not in {self.config['database']}"
                )
            return [n for n in names if n in wanted]
        return names

    def discover(self) -> list[Stream]:
        streams = []
        replication_keys = self.config.get("replication_keys", {})
        for table in self._tables():
            columns = self._db.execute(f'PRAGMA table_info("{table}")').fetchall()
            properties = {c[1]: _json_type(c[2]) for c in columns}
            keys = tuple(c[1] for c in sorted(columns, key=lambda c: c[5]) if c[5] > 0)
            key = replication_keys.get(table)
            if key is not None and key not in properties:
                raise ReaderError(
                    f"replication key {key!r} is not a column of table {table!r}"
                )
            streams.append(
                Stream(
                    name=table,
                    schema={"type": "object", "properties": properties},
                    key_properties=keys,
                    replication_key=key,
                )
            )
        return streams

    def read(self, stream: Stream, state: dict[str, Any]) -> Iterator[ReadItem]:
        columns = list(stream.schema["properties"])
        select = ", ".join(f'"{c}"' for c in columns)
        sql = f'SELECT {select} FROM "{stream.name}"'
        params: tuple[Any, ...] = ()
        key = stream.replication_key
        if key:
            if "replication_key_value" in state:
                sql += f' WHERE "{key}" >= ?'
                params = (state["replication_key_value"],)
            sql += f' ORDER BY "{key}"'
        cursor = self._db.execute(sql, params)
        batch_rows = self.config.get("batch_rows", 5000)
        as_arrow = self.config.get("output") == "arrow"
        while rows := cursor.fetchmany(batch_rows):
            if as_arrow:
                yield self._batch(stream, columns, rows)
            else:
                yield from (self._record(stream, columns, row) for row in rows)
            if key:
                yield Bookmark(
                    {
                        "replication_key": key,
                        "replication_key_value": rows[-1][columns.index(key)],
                    }
                )

    @staticmethod
    def _record(
        stream: Stream, columns: list[str], row: tuple[Any, ...]
    ) -> dict[str, Any]:
        """SQLite keeps booleans as 0/1; the schema promises true/false."""
        record = dict(zip(columns, row))
        for name in columns:
            if (
                stream.schema["properties"][name]["type"][0] == "boolean"
                and record[name] is not None
            ):
                record[name] = bool(record[name])
        return record

    @staticmethod
    def _batch(stream: Stream, columns: list[str], rows: list[tuple[Any, ...]]) -> Any:
        import pyarrow as pa

        types = {"integer": pa.int64(), "number": pa.float64(), "boolean": pa.bool_()}
        fields = [
            pa.field(
                c, types.get(stream.schema["properties"][c]["type"][0], pa.string())
            )
            for c in columns
        ]
        arrays = []
        for i, f in enumerate(fields):
            values = [row[i] for row in rows]
            if f.type == pa.bool_():  # stored as 0/1
                arrays.append(pa.array(values, pa.int64()).cast(pa.bool_()))
            else:
                arrays.append(pa.array(values, type=f.type))
        return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))
