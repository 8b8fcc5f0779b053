"""One CSV stream: a singer-sdk Stream whose per-record hot path is replaced by a bulk one.

singer-sdk still writes SCHEMA, handles the catalog, selection, state and the CLI; the
records of each Arrow batch are encoded to RECORD lines natively and written in large blocks.
When stream maps are configured (they transform records one by one), records go through
singer-sdk's own per-record path instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from singer_sdk.exceptions import MaxRecordsLimitException
from singer_sdk.helpers._batch import BaseBatchFileEncoding, BatchConfig
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.streams import Stream

from dativo_core.schema.csv_kinds import kind_from_json_schema
from dativo_core.singer import SingerWriter
from dativo_tap_csv import early_inference
from dativo_tap_csv.file_specs import DEFAULT_BLOCK_SIZE, CSVFileError, FileSpec, TapCSVConfigError
from dativo_tap_csv.headers import shared_header
from dativo_tap_csv.kinds import Kind, json_schema_of
from dativo_tap_csv.rust_engine import rust_engine

if TYPE_CHECKING:
    import polars as pl
    import pyarrow as pa
    from singer_sdk import Tap

    from dativo_tap_csv.typed_spool import KeptFile

    _Rows = TypeVar("_Rows", pl.DataFrame, pa.Table)

# pyarrow and polars (~0.4 CPU-s to import) are imported where frames are made, so a sync
# whose RECORD lines the Rust engine writes starts without them.

SOURCE_FILE = "_sdc_source_file"
SOURCE_FILE_MTIME = "_sdc_source_file_mtime"
SOURCE_LINENO = "_sdc_source_lineno"
METADATA_SCHEMAS: dict[str, dict[str, Any]] = {
    SOURCE_FILE: {"type": ["string", "null"]},
    SOURCE_FILE_MTIME: {"type": ["string", "null"], "format": "date-time"},
    SOURCE_LINENO: {"type": ["integer", "null"]},
}
# Beside the bookmark (the newest synced mtime): the files synced that have exactly that mtime,
# so a file sharing the bookmark's mtime is synced once, neither skipped nor repeated.
FILES_AT_BOOKMARK = "files_at_bookmark"


@dataclass(frozen=True)
class SourceFile:
    path: Path
    mtime: dt.datetime

    @classmethod
    def of(cls, path: Path) -> SourceFile:
        micros = path.stat().st_mtime_ns // 1000
        epoch = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
        return cls(path, epoch + dt.timedelta(microseconds=micros))


def metadata_columns(config: dict[str, Any] | Any, spec: FileSpec) -> list[str]:
    """All three with `add_metadata_columns`; else the mtime alone if the stream is incremental."""
    if config.get("add_metadata_columns"):
        return [SOURCE_FILE, SOURCE_FILE_MTIME, SOURCE_LINENO]
    return [SOURCE_FILE_MTIME] if spec.incremental else []


def _metadata_column(name: str, source: SourceFile, first_row: int, rows: int) -> pl.Expr:
    import polars as pl

    if name == SOURCE_FILE:
        return pl.lit(str(source.path), dtype=pl.String)
    if name == SOURCE_FILE_MTIME:
        return pl.lit(source.mtime, dtype=pl.Datetime("us", "UTC"))
    return pl.int_range(first_row, first_row + rows, dtype=pl.Int64)


class CSVStream(Stream):
    """The rows of one or more CSV files that share a header."""

    is_sorted = True  # files are synced in modification-time order

    def __init__(self, tap: Tap, spec: FileSpec) -> None:
        self.spec = spec
        self.paths = spec.resolve_paths()
        self.header = shared_header(spec, self.paths)
        self.extra_columns = metadata_columns(tap.config, spec)
        self._rust = rust_engine(tap.config, spec, self.paths)
        self._kept: dict[Path, KeptFile] = {}
        catalog_entry = tap.input_catalog.get_stream(spec.entity) if tap.input_catalog else None
        if catalog_entry is not None:
            schema = catalog_entry.schema.to_dict()
        else:
            schema = self._inferred_schema(tap.config)
        super().__init__(tap, schema=schema, name=spec.entity)
        self.primary_keys = list(spec.keys)
        if spec.incremental:
            self.replication_key = SOURCE_FILE_MTIME

    @property
    def block_size(self) -> int:
        return int(self.config.get("block_size_bytes") or DEFAULT_BLOCK_SIZE)

    def _inferred_schema(self, config: Any) -> dict[str, Any]:
        max_rows = config.get("infer_max_rows")
        if max_rows is not None and max_rows < 1:
            raise TapCSVConfigError(
                f"infer_max_rows must be at least 1, got {max_rows}; leave it unset to read every row"
            )
        block_size = int(config.get("block_size_bytes") or DEFAULT_BLOCK_SIZE)
        inference = early_inference.inference(
            self.spec, self.paths, self.header, block_size, max_rows, self._rust
        )
        self._kept = inference.kept
        properties = {name: json_schema_of(kind) for name, kind in inference.kinds.items()}
        properties.update({name: METADATA_SCHEMAS[name] for name in self.extra_columns})
        return {"type": "object", "properties": properties}

    # Selection and kinds

    def _selected_columns(self) -> list[str]:
        properties = self.effective_schema.get("properties", {})
        return [name for name in properties if self.mask.get(("properties", name), True)]

    def _file_kinds(self, selected: list[str]) -> dict[str, Kind]:
        properties = self.effective_schema.get("properties", {})
        missing = [
            name for name in selected if name not in self.header and name not in METADATA_SCHEMAS
        ]
        if missing:
            raise CSVFileError(
                f"stream '{self.name}': the catalog selects column(s) {missing} "
                f"that the files' header {self.header} does not have"
            )
        return {
            name: kind_from_json_schema(properties[name])
            for name in selected
            if name in self.header
        }

    # Files and state

    def _pending_files(self) -> list[SourceFile]:
        files = sorted(
            (SourceFile.of(p) for p in self.paths), key=lambda f: (f.mtime, str(f.path))
        )
        if self.replication_method != "INCREMENTAL":
            return files
        state = self.get_context_state(None)
        bookmark_text = state.get("replication_key_value")
        if not bookmark_text or state.get("replication_key") != SOURCE_FILE_MTIME:
            return files
        bookmark = dt.datetime.fromisoformat(str(bookmark_text))
        done = set(state.get(FILES_AT_BOOKMARK) or [])
        return [
            f
            for f in files
            if f.mtime > bookmark or (f.mtime == bookmark and str(f.path) not in done)
        ]

    def _advance_bookmark(self, source: SourceFile) -> None:
        state = self.get_context_state(None)
        current = state.get("replication_key_value")
        if isinstance(current, str):
            current = dt.datetime.fromisoformat(current)
        same_mtime = current == source.mtime and state.get(FILES_AT_BOOKMARK)
        files = [*state[FILES_AT_BOOKMARK], str(source.path)] if same_mtime else [str(source.path)]
        state["replication_key"] = SOURCE_FILE_MTIME
        state["replication_key_value"] = source.mtime.isoformat()
        state[FILES_AT_BOOKMARK] = files
        self.state_manager.is_flushed = False

    # Reading

    def _batches(self, path: Path, kinds: dict[str, Kind]) -> Iterator[pa.RecordBatch]:
        """The file's rows as `kinds`: those inference kept when they match, else read again."""
        from dativo_tap_csv.column_kinds import arrow_type
        from dativo_tap_csv.reading import read_batches

        kept = self._kept.pop(path, None)
        if kept is not None and kept.can_replace({name: arrow_type(kind) for name, kind in kinds.items()}):
            return kept.batches(list(kinds))
        if self._rust is not None and kinds:  # the reader makes no batch without a column
            return self._rust.batches(path, kinds)
        return read_batches(path, self.spec, kinds, self.block_size)

    def _frames(
        self, source: SourceFile, kinds: dict[str, Kind], selected: list[str]
    ) -> Iterator[pl.DataFrame]:
        """The selected columns of one file, batch by batch, with metadata columns added."""
        import polars as pl

        next_row = 2  # the header is row 1
        extras = [name for name in selected if name in METADATA_SCHEMAS]
        for batch in self._batches(source.path, kinds):
            frame = pl.DataFrame(batch)
            if extras:  # polars plans cost more than the columns themselves: only when needed
                frame = frame.with_columns(
                    **{name: _metadata_column(name, source, next_row, frame.height) for name in extras}
                )
            next_row += frame.height
            yield frame if frame.columns == selected else frame.select(selected)

    def _tables(self, source: SourceFile, kinds: dict[str, Kind], selected: list[str]) -> Iterator[pa.Table]:
        """The selected columns of one file as Arrow tables: the read batches themselves, or
        through polars when metadata columns are to be added."""
        import pyarrow as pa

        if any(name in METADATA_SCHEMAS for name in selected):
            for frame in self._frames(source, kinds, selected):
                yield frame.to_arrow()
            return
        for batch in self._batches(source.path, kinds):
            yield pa.Table.from_batches([batch]).select(selected)

    def get_records(self, context: dict | None) -> Iterator[dict]:
        """Records one by one, for singer-sdk's per-record path (taken when stream maps are set)."""
        selected = self._selected_columns()
        kinds = self._file_kinds(selected)
        incremental = self.replication_method == "INCREMENTAL"
        for source in self._pending_files():
            for frame in self._frames(source, kinds, selected):
                yield from frame.to_dicts()
            if incremental:
                self._advance_bookmark(source)

    def _uses_bulk_path(self) -> bool:
        maps = self.stream_maps
        return (
            len(maps) == 1
            and type(maps[0]) is SameRecordTransform
            and maps[0].stream_alias == self.name
        )

    def _stop_at_limit(self) -> None:
        self._abort_sync(
            MaxRecordsLimitException(
                f"Stream '{self.name}' stopped at the record limit ({self.ABORT_AT_RECORD_COUNT})"
            )
        )

    def _sync_records(  # type: ignore[override]
        self, context: dict | None = None, *, write_messages: bool = True
    ) -> Iterator[dict]:
        """Sync every pending file; RECORD lines in bulk, a STATE after each file."""
        if not (write_messages and self._uses_bulk_path()):
            yield from super()._sync_records(context, write_messages=write_messages)
            return
        selected = self._selected_columns()
        kinds = self._file_kinds(selected)
        if self._writes_rust_lines(kinds, selected):
            self._sync_rust_lines(kinds)
            yield from ()
            return
        from dativo_core.record_lines import record_lines

        limit = _RecordLimit(self.ABORT_AT_RECORD_COUNT)
        writer = SingerWriter()  # each batch's lines (megabytes) are written as one block
        # One helper thread encodes a batch while the next one is parsed (both release the GIL).
        with (
            self.get_record_counter() as counter,
            self.get_sync_timer(),
            ThreadPoolExecutor(max_workers=1) as encoder,
        ):
            for source in self._pending_files():
                encoded: Future[bytes] | None = None
                for frame in self._frames(source, kinds, selected):
                    part = limit.take(frame)
                    if encoded is not None:
                        writer.write_raw(encoded.result())
                        encoded = None
                    if part is None:
                        writer.flush()
                        self._stop_at_limit()
                        return
                    encoded = encoder.submit(record_lines, part, self.name, self._stream_version)
                    counter.increment(part.height)
                    self.state_manager.is_flushed = False
                if encoded is not None:
                    writer.write_raw(encoded.result())
                writer.flush()
                if self.replication_method == "INCREMENTAL":
                    self._advance_bookmark(source)
                    self._write_state_message()
        self._finalize_state(self.stream_state)
        self._write_state_message()
        yield from ()  # records were written in bulk, none is handed back one by one

    def _writes_rust_lines(self, kinds: dict[str, Kind], selected: list[str]) -> bool:
        """Whether the Rust reader writes the RECORD lines itself: no metadata column to add,
        no record limit to cut at, no table version to stamp on each record."""
        return (
            self._rust is not None
            and bool(selected)
            and list(kinds) == selected
            and self.ABORT_AT_RECORD_COUNT is None
            and self._stream_version is None
        )

    def _sync_rust_lines(self, kinds: dict[str, Kind]) -> None:
        """Every pending file's RECORD lines as the Rust reader writes them, block by block."""
        assert self._rust is not None
        writer = SingerWriter()
        with self.get_record_counter() as counter, self.get_sync_timer():
            for source in self._pending_files():
                for lines, rows in self._rust.record_lines(source.path, kinds, self.name):
                    writer.write_raw(lines)
                    writer.flush()  # the view is only valid until the next block
                    counter.increment(rows)
                    self.state_manager.is_flushed = False
                if self.replication_method == "INCREMENTAL":
                    self._advance_bookmark(source)
                    self._write_state_message()
        self._finalize_state(self.stream_state)
        self._write_state_message()

    def get_batches(  # type: ignore[override]
        self, batch_config: BatchConfig, context: dict | None = None
    ) -> Iterator[tuple[BaseBatchFileEncoding, list[str]]]:
        """BATCH files written from whole frames; a file's bookmark advances with its last batch."""
        selected = self._selected_columns()
        kinds = self._file_kinds(selected)
        limit = _RecordLimit(self.ABORT_AT_RECORD_COUNT)
        from dativo_tap_csv.batches import BatchFileWriter

        files = BatchFileWriter(batch_config, self.tap_name, self.name, self.primary_keys)
        # As for RECORD lines: one helper thread writes a batch while the next one is parsed.
        with ThreadPoolExecutor(max_workers=1) as writer:
            for source in self._pending_files():
                written: Future[list[str]] | None = None
                for table in self._tables(source, kinds, selected):
                    part = limit.take(table)
                    for url in written.result() if written is not None else []:
                        yield batch_config.encoding, [url]
                    written = None
                    if part is None:
                        for url in files.close():
                            yield batch_config.encoding, [url]
                        self._stop_at_limit()
                        return
                    written = writer.submit(files.write, part)
                for url in written.result() if written is not None else []:
                    yield batch_config.encoding, [url]
                last = files.close()
                if self.replication_method == "INCREMENTAL":
                    self._advance_bookmark(source)
                for url in last:
                    yield batch_config.encoding, [url]


@dataclass
class _RecordLimit:
    """The record limit singer-sdk sets for connection tests and dry runs."""

    limit: int | None
    taken: int = 0

    def take(self, rows: _Rows) -> _Rows | None:
        """The rows within the limit; None when rows remain beyond it."""
        if self.limit is not None:
            if self.taken >= self.limit and len(rows):
                return None
            rows = rows.slice(0, self.limit - self.taken)
        self.taken += len(rows)
        return rows
