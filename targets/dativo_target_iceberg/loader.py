"""The target's main loop: Singer lines in, Iceberg commits and covered STATEs out.

Lines are read in large chunks. A chunk that holds only one stream's RECORDs in canonical
form (the usual case) goes to Arrow in one native call; otherwise lines are classified
one by one, RECORD lines grouped by stream, and every other message parsed. Batches are
kept as Arrow tables and committed (one append per table) when rows, bytes or age reach
their limits. A STATE is emitted only once every record before it is committed.
With a `contract`, each converted batch is checked before it is buffered (contract_gate.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO

import orjson
import pyarrow as pa
from pyiceberg.catalog import Catalog

from dativo_core.singer import (
    ActivateVersionMessage,
    BatchMessage,
    RecordMessage,
    SchemaMessage,
    SingerProtocolError,
    SingerWriter,
    StateMessage,
    message_from_dict,
    parse_line,
)
from dativo_core.singer.reader import whole_line_blocks
from dativo_target_iceberg import batch_files
from dativo_target_iceberg.catalog import table_name_for_stream
from dativo_target_iceberg.config import TargetConfig
from dativo_target_iceberg.recovery import Recovery, recover_from_catalog
from dativo_target_iceberg.source import BLOCK_BYTES
from dativo_target_iceberg.stream_schema import stream_schema
from dativo_target_iceberg.table_writer import TableWriter

if TYPE_CHECKING:
    from dativo_target_iceberg.contract_gate import ContractGate

log = logging.getLogger("target-iceberg")

_RECORD_PREFIXES = (b'{"type":"RECORD","stream":"', b'{"type": "RECORD", "stream": "')


def _canonical_record_stream(line: bytes) -> tuple[bytes, str] | None:
    """For a RECORD line in canonical form, its prefix up to the stream name's end and the name."""
    for prefix in _RECORD_PREFIXES:
        if line.startswith(prefix):
            end = line.find(b'"', len(prefix))
            name = line[len(prefix) : end]
            if end < 0 or b"\\" in name:
                return None
            return line[: end + 1], name.decode()
    return None


@dataclass
class LoadSummary:
    rows: dict[str, int] = field(default_factory=dict)
    commits: int = 0
    states_emitted: int = 0


class Loader:
    def __init__(self, config: TargetConfig, catalog: Catalog, output: SingerWriter) -> None:
        self.config = config
        self.catalog = catalog
        self.output = output
        self.writers: dict[str, TableWriter] = {}
        self.summary = LoadSummary()
        self._tables: dict[tuple[str, str], str] = {}
        self._latest_state: bytes | None = None
        self._emitted_state: bytes | None = None
        self._oldest_buffered: float | None = None
        catalog.create_namespace_if_not_exists(config.namespace)
        self._recovery = recover_from_catalog(catalog, config.namespace) if config.exactly_once else Recovery(None)
        # Rows per stream a resumed tap sends again although they are committed already.
        self._skip_rows = self._recovery.skip_rows
        self.gate: ContractGate | None = None
        if config.contract is not None:
            # Imported only here: the contract checks' imports (polars, datacontract's schemas)
            # would slow down the start of every load without a contract.
            from dativo_target_iceberg.contract_gate import ContractGate

            self.gate = ContractGate.from_config(config, catalog, self._recovery.quarantined_rows)

    def run(self, source: BinaryIO) -> LoadSummary:
        try:
            next_line = 1
            for block in whole_line_blocks(source, BLOCK_BYTES):
                next_line = self._process(block, next_line)
            if self.gate is not None:
                self.gate.finish()
            self.flush()
            self._emit_state()
        finally:
            if self.gate is not None:
                log.info("%s", self.gate.summary())
        return self.summary

    # -- reading -----------------------------------------------------------------------------

    def _process(self, block: bytes, first_line: int) -> int:
        """Load a block of whole lines starting at input line `first_line`; the next block's first line."""
        head = _canonical_record_stream(block)
        if head is not None:
            rows = self._add_record_block(head[1], block, head[0], first_line)
            if rows is not None:
                return first_line + rows
        lines = block.split(b"\n")
        groups: dict[str, tuple[list[bytes], list[int]]] = {}
        last_prefix, last_group = b"\0", ([], [])  # the latest RECORD line's stream: one check
        for offset, line in enumerate(lines):
            number = first_line + offset
            if line.startswith(last_prefix):
                last_group[0].append(line)
                last_group[1].append(number)
                continue
            head = _canonical_record_stream(line)
            if head is None:
                if not line.strip():
                    continue
                message = message_from_dict(parse_line(line, number), number)
                if not isinstance(message, RecordMessage):
                    self._add_groups(groups)
                    groups, last_prefix = {}, b"\0"
                    self._handle(message, number)
                    continue
                stream = message.stream
            else:
                last_prefix, stream = head
            group = groups.setdefault(stream, ([], []))
            if head is not None:
                last_group = group
            group[0].append(line)
            group[1].append(number)
        self._add_groups(groups)
        return first_line + len(lines)

    def _add_record_block(self, stream: str, block: bytes, prefix: bytes, first_line: int) -> int | None:
        """Load a block whose every line is a RECORD of `stream` starting with `prefix`, in one
        native call that also checks that; its row count, or None when some line is not such a
        RECORD (or carries a table version the stream does not keep yet)."""
        writer = self.writers.get(stream)
        if writer is None:
            return None  # the line-by-line path says where the SCHEMA is missing
        batch = writer.converter.convert_record_block(block, prefix, first_line)
        if batch is None:
            return None
        self._add_converted(writer, batch, range(first_line, first_line + batch.num_rows), block)
        return batch.num_rows

    def _add_groups(self, groups: dict[str, tuple[list[bytes], list[int]]]) -> None:
        for stream, (lines, numbers) in groups.items():
            self._add_records(stream, b"\n".join(lines), numbers)

    def _add_records(self, stream: str, data: bytes, line_numbers: Sequence[int]) -> None:
        writer = self.writers.get(stream)
        if writer is None:
            raise SingerProtocolError(
                "RECORD before the stream's SCHEMA", line=line_numbers[0], stream=stream,
                hint="A tap must send a stream's SCHEMA message before its records",
            )
        if not writer.converter.versioned and b'"version"' in data:
            self._keep_versions(writer)  # records carry table versions: ACTIVATE_VERSION needs them
        batch = writer.converter.convert(data, line_numbers)
        self._add_converted(writer, batch, line_numbers, data)

    def _add_converted(self, writer: TableWriter, batch: pa.Table, line_numbers: Sequence[int], data: bytes) -> None:
        """Buffer a batch converted from `data`, less the rows a resumed run had committed already."""
        stream = writer.stream
        skip = self._skip_rows.get(stream, 0)
        first_row = 0
        if skip:
            self._skip_rows[stream] = max(0, skip - batch.num_rows)
            first_row = min(skip, batch.num_rows)
            batch = batch.slice(first_row)
            log.info("stream '%s': skipped %d rows committed by an earlier run", stream, first_row)
            if not batch.num_rows:
                return
        lines = line_numbers[first_row:] if first_row else line_numbers
        self._add(writer, batch, lines, (data, first_row))

    def _add(
        self, writer: TableWriter, batch: pa.Table, line_numbers: Sequence[int], source: tuple[bytes, int] | None
    ) -> None:
        """Buffer a converted batch (what the contract lets through, with one) and flush when due.

        `source` is the batch's RECORD lines, newline-joined, and the line of its row 0 among them.
        """
        if self.gate is None:
            writer.add(batch)
        else:
            writer.add(self.gate.check(writer, batch, line_numbers, source), batch.num_rows)
        if self._oldest_buffered is None:
            self._oldest_buffered = time.monotonic()
        if self._flush_due():
            self.flush()

    # -- other messages -----------------------------------------------------------------------

    def _handle(self, message: object, line: int) -> None:
        if isinstance(message, SchemaMessage):
            self._schema(message, line)
        elif isinstance(message, StateMessage):
            self._latest_state = orjson.dumps(message.value)
            for writer in self.writers.values():
                writer.state_received()
            if any(self._skip_rows.values()):
                log.warning("line %d: STATE before all committed rows were sent again: is the tap "
                            "resumed from `target-iceberg --committed-state`?", line)
            if not self._buffered_rows():
                self._emit_state()
        elif isinstance(message, ActivateVersionMessage):
            writer = self.writers.get(message.stream)
            if writer is None:
                raise SingerProtocolError(
                    "ACTIVATE_VERSION before the stream's SCHEMA", line=line, stream=message.stream
                )
            self._keep_versions(writer)
            self.flush(activate=(message.stream, message.version))
        elif isinstance(message, BatchMessage):
            self._batch(message, line)

    def _batch(self, message: BatchMessage, line: int) -> None:
        """Load a BATCH's files: parquet that fits the table as it is, jsonl and the rest converted."""
        writer = self.writers.get(message.stream)
        if writer is None:
            raise SingerProtocolError("BATCH before the stream's SCHEMA", line=line, stream=message.stream)
        batch_files.check_encoding(message, line)
        # Files the contract checks are read: registering them unread would skip the checks.
        checked = self.gate is not None and self.gate.checks(message.stream)
        for url in message.manifest:
            try:
                if message.format == "parquet":
                    schema = batch_files.parquet_schema(url)
                    if (not checked and writer.can_register_files
                            and batch_files.matches_exactly(schema, writer.converter.schema)):
                        writer.add_file(url)
                        batch = None
                    else:
                        batch = writer.converter.convert_arrow(batch_files.read_parquet(url))
                else:
                    data = batch_files.read_jsonl(url, message.compression)
                    batch = writer.converter.convert_record_lines(data)
            except SingerProtocolError as exc:
                raise SingerProtocolError(
                    f"in {url}, record {exc.line}: {exc.problem}", line=line, stream=message.stream, field=exc.field
                ) from None
            except (OSError, pa.ArrowException) as exc:
                raise SingerProtocolError(f"cannot read {url}: {exc}", line=line, stream=message.stream) from None
            if batch is not None:
                # A file's rows are located at the BATCH message that named the file.
                self._add(writer, batch, [line] * batch.num_rows, None)
                continue
            if self._oldest_buffered is None:
                self._oldest_buffered = time.monotonic()
            if self._flush_due():
                self.flush()

    def _schema(self, message: SchemaMessage, line: int) -> None:
        schema = stream_schema(message, line)
        writer = self.writers.get(message.stream)
        if writer is not None:
            if writer.schema.with_columns({}) == schema:
                return  # the same SCHEMA again, as taps often send it
            self.flush()  # records read under the old schema are committed under it
            writer.change_schema(schema, line)
            return
        options = self.config.for_stream(message.stream)
        identifier = (self.config.namespace, options.table or table_name_for_stream(message.stream))
        other = self._tables.get(identifier)
        if other is not None:
            raise SingerProtocolError(
                f"streams '{other}' and '{message.stream}' both map to table {'.'.join(identifier)}",
                line=line, stream=message.stream,
                hint="Give one of them its own name with the `streams.<name>.table` setting",
            )
        self._tables[identifier] = message.stream
        checkpoint = self._recovery.checkpoints.get(message.stream)
        self.writers[message.stream] = TableWriter(
            self.catalog, identifier, schema, line,
            load_method=self.config.load_method_for(message.stream),
            rows_already_committed=self._skip_rows.get(message.stream, 0),
            committed_state=orjson.dumps(checkpoint.state) if checkpoint and checkpoint.state is not None else None,
            partition_by=options.partition_by,
            table_properties=self.config.table_properties_for(message.stream),
            hard_delete=self.config.hard_delete,
            keep_changed_types=self.config.keep_changed_types,
        )

    # -- committing ---------------------------------------------------------------------------

    def _buffered_rows(self) -> int:
        quarantined = self.gate.buffered_rows if self.gate is not None else 0
        return quarantined + sum(w.buffered_rows for w in self.writers.values())

    def _buffered_bytes(self) -> int:
        quarantined = self.gate.buffered_bytes if self.gate is not None else 0
        return quarantined + sum(w.buffered_bytes for w in self.writers.values())

    def _flush_due(self) -> bool:
        if self._oldest_buffered is None:
            return False
        config = self.config
        return (
            self._buffered_rows() >= config.max_batch_rows
            or self._buffered_bytes() >= config.max_batch_bytes
            or time.monotonic() - self._oldest_buffered >= config.max_batch_age_seconds
        )

    def _keep_versions(self, writer: TableWriter) -> None:
        if not writer.converter.versioned:
            if writer.buffered_rows:
                self.flush()
            writer.keep_versions()

    def flush(self, activate: tuple[str, int] | None = None) -> None:
        """Commit every buffered batch, each table's snapshot naming the state it reaches.

        `activate` (stream, version) makes that stream's commit also remove older versions.
        A stream's quarantined rows are committed just before it (see recovery.py for why).
        """
        for writer in self.writers.values():
            if self.gate is not None:
                self.gate.commit(writer, self._latest_state)
            if activate is not None and writer.stream == activate[0]:
                rows = writer.activate_version(activate[1], self._latest_state)
            else:
                rows = writer.commit(self._latest_state)
            if rows:
                self.summary.rows[writer.stream] = self.summary.rows.get(writer.stream, 0) + rows
                self.summary.commits += 1
                log.info("committed %d rows to %s", rows, writer.name)
        self._oldest_buffered = None
        self._emit_state()

    def _emit_state(self) -> None:
        if self._latest_state is not None and self._latest_state != self._emitted_state:
            # Singer targets print the bare state value, one JSON line each: what Meltano and
            # `tap --state` read back.
            self.output.write_raw(self._latest_state + b"\n")
            self.output.flush()
            self._emitted_state = self._latest_state
            self.summary.states_emitted += 1
