"""BATCH files (singer-sdk's BATCH spec) written from whole Arrow tables: JSON Lines or Parquet,
gzip or none, on any storage singer-sdk's `StorageTarget` reaches (`file://` and fsspec URLs)."""

from __future__ import annotations

import gzip
from contextlib import ExitStack
from typing import IO, Any
from uuid import uuid4

import pyarrow as pa
import pyarrow.parquet as pq
from singer_sdk.helpers._batch import BatchConfig

from dativo_core.parquet_dictionaries import dictionary_columns

_FORMATS = ("jsonl", "parquet")
# Parquet row groups of this many rows at least (CSV batches are far smaller), so readers get
# a few large row groups instead of many tiny ones.
ROW_GROUP_ROWS = 64 * 1024
_COMPRESSIONS = (None, "none", "gzip")


class BatchConfigError(ValueError):
    """A `batch_config` this tap cannot write."""


class BatchFileWriter:
    """Splits a stream's frames into batch files of at most `batch_size` rows."""

    def __init__(
        self, config: BatchConfig, tap_name: str, stream_name: str, key_columns: list[str]
    ) -> None:
        encoding = config.encoding
        if encoding.format not in _FORMATS:
            raise BatchConfigError(
                f"batch_config encoding format {encoding.format!r} is not supported; "
                f"use one of {list(_FORMATS)}"
            )
        if encoding.compression not in _COMPRESSIONS:
            raise BatchConfigError(
                f"batch_config compression {encoding.compression!r} is not supported; "
                "use 'gzip' or 'none'"
            )
        self._config = config
        self._stream = stream_name
        self._key_columns = set(key_columns)
        self._gzip = encoding.compression == "gzip"
        self._stem = f"{config.storage.prefix or ''}{tap_name}--{stream_name}-{uuid4()}"
        self._number = 0
        self._rows = 0
        self._filename: str | None = None
        self._files = ExitStack()
        self._out: IO[bytes] | None = None
        self._parquet: pq.ParquetWriter | None = None
        self._row_group: list[pa.Table] = []
        self._row_group_rows = 0

    def _suffix(self) -> str:
        if self._config.encoding.format == "parquet":
            return ".parquet.gz" if self._gzip else ".parquet"
        return ".jsonl.gz" if self._gzip else ".jsonl"

    def _open(self) -> None:
        self._number += 1
        self._filename = f"{self._stem}-{self._number}{self._suffix()}"
        raw: Any = self._files.enter_context(self._config.storage.open(self._filename, "wb"))
        if self._gzip and self._config.encoding.format == "jsonl":
            raw = self._files.enter_context(gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6))
        self._out = raw
        self._rows = 0

    def _append(self, table: pa.Table) -> None:
        assert self._out is not None
        if self._config.encoding.format == "jsonl":
            import polars as pl  # its JSON writer; Parquet files need no polars

            pl.DataFrame(pl.from_arrow(table)).write_ndjson(self._out)
            return
        self._row_group.append(table)
        self._row_group_rows += table.num_rows
        if self._row_group_rows >= ROW_GROUP_ROWS:
            self._write_row_group()

    def _write_row_group(self) -> None:
        if not self._row_group:
            return
        table = self._keys_required(pa.concat_tables(self._row_group))
        self._row_group, self._row_group_rows = [], 0
        if self._parquet is None:
            self._parquet = pq.ParquetWriter(
                self._out,
                table.schema,
                compression="gzip" if self._gzip else "snappy",
                use_dictionary=dictionary_columns(table),
            )
        self._parquet.write_table(table, row_group_size=max(table.num_rows, 1))

    def _keys_required(self, table: pa.Table) -> pa.Table:
        """Key columns as required Parquet columns, as the target's tables have them: a file whose
        schema matches is registered in Iceberg as it is, without being read and rewritten."""
        schema = pa.schema(
            [f.with_nullable(False) if f.name in self._key_columns else f for f in table.schema]
        )
        try:
            return table.cast(schema)
        except pa.ArrowInvalid as exc:
            raise ValueError(
                f"stream '{self._stream}': a key column has an empty value ({exc}); "
                "every row needs its key properties"
            ) from None

    def write(self, table: pa.Table) -> list[str]:
        """Add rows; returns the URLs of batch files that became full."""
        done: list[str] = []
        if table.num_columns == 0:
            return done  # nothing selected to write (an Arrow table without columns keeps its row count)
        batch_size = self._config.batch_size
        while table.num_rows:
            if self._out is None:
                self._open()
            room = batch_size - self._rows
            self._append(table.slice(0, room))
            self._rows += min(room, table.num_rows)
            table = table.slice(room)
            if self._rows >= batch_size:
                done.extend(self.close())
        return done

    def close(self) -> list[str]:
        """Finish the open batch file, if any; returns its URL."""
        if self._out is None or self._filename is None:
            return []
        self._write_row_group()
        if self._parquet is not None:
            self._parquet.close()
            self._parquet = None
        self._files.close()
        self._out = None
        return [self._config.storage.get_url(self._filename)]
