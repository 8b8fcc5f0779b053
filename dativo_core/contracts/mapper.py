"""`dativo validate`: a Singer mapper that checks RECORD lines against an ODCS contract.

Lines stay bytes end to end: each chunk of input is parsed in one pyarrow.json pass into the
type, stream and record of every line; RECORD rows are grouped per stream into batches, checked
by `ContractValidator`, and the good ones are forwarded as the very bytes that came in. A record
whose values have the wrong JSON type makes the one pass fail; that chunk is then read for its
envelope only and each batch decoded on its own, halving until the bad lines are found.
SCHEMA, STATE and ACTIVATE_VERSION pass through; before any of them the buffered records are
checked and forwarded, so a STATE never overtakes the records it covers.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from typing import BinaryIO

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from dativo_core.contracts.compile import singer_schema
from dativo_core.contracts.model import Contract, ContractField, ContractTable
from dativo_core.contracts.report import ViolationReport
from dativo_core.contracts.validator import (
    ContractValidator,
    ContractViolationError,
    Policy,
    Violation,
    check_table_usable,
)
from dativo_core.singer.errors import SingerProtocolError
from dativo_core.singer.messages import SchemaMessage, message_from_dict
from dativo_core.singer.reader import parse_line, read_line_chunks
from dativo_core.singer.writer import SingerWriter

log = logging.getLogger(__name__)

DEFAULT_BATCH_ROWS = 50_000
DEFAULT_BATCH_BYTES = 32 * 1024 * 1024
DEFAULT_HOLD_BYTES = 256 * 1024 * 1024
MIN_JSON_BLOCK = 1 << 20
# What happened to broken records, per policy, as the summary says it.
OUTCOMES = {
    Policy.QUARANTINE: "quarantined",
    Policy.WARN: "forwarded anyway",
    Policy.FAIL: "their batch was not forwarded",
}
_ENVELOPE = pa.schema([("type", pa.string()), ("stream", pa.string())])


def _read_json(lines: list[bytes], schema: pa.Schema) -> pa.Table:
    block = max(MIN_JSON_BLOCK, max(map(len, lines)) + 1)
    return pa_json.read_json(
        io.BytesIO(b"\n".join(lines)),
        read_options=pa_json.ReadOptions(block_size=block),
        parse_options=pa_json.ParseOptions(
            explicit_schema=schema, unexpected_field_behavior="ignore"
        ),
    )


def json_read_type(f: ContractField) -> pa.DataType | None:
    """The type pyarrow.json reads a field as: JSON's own types; temporal text stays text.

    None for fields it cannot read without a fixed shape (arrays without items, untyped fields).
    """
    if f.kind == "integer":
        return pa.int64()
    if f.kind == "number":
        return pa.float64()
    if f.kind == "boolean":
        return pa.bool_()
    if f.kind in ("string", "date", "timestamp", "time"):
        return pa.string()
    if f.kind == "object":
        children = [(c.name, json_read_type(c)) for c in f.fields]
        return pa.struct([(name, t) for name, t in children if t is not None])
    if f.kind == "array" and f.items is not None and f.items.kind:
        item = json_read_type(f.items)
        return pa.list_(item) if item is not None else None
    return None


@dataclass
class _StreamBuffer:
    lines: list[bytes] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)
    # records already decoded in the chunk's single pass; None once some lines were not
    decoded: list[pa.Array] | None = field(default_factory=list)


@dataclass
class _ClassifiedChunk:
    """Non-blank input lines with their numbers, message types and streams.

    `records` holds every line's decoded record when one pyarrow.json pass could read them all.
    """

    lines: list[bytes]
    numbers: list[int]
    kinds: pa.Array
    streams: pa.Array
    records: pa.Array | None


class _Decoder:
    """RECORD lines of one stream to an Arrow table, naming the lines whose values don't fit."""

    def __init__(self, table: ContractTable) -> None:
        self.fields = {f.name: f for f in table.fields}
        readable = [(f.name, json_read_type(f)) for f in table.fields]
        self.read_fields = [pa.field(name, t) for name, t in readable if t is not None]
        self.unreadable = frozenset(name for name, t in readable if t is None)
        self.schema = pa.schema([("record", pa.struct(self.read_fields))])

    def decode(
        self, lines: list[bytes], numbers: list[int], stream: str
    ) -> tuple[pa.Table, list[int], list[Violation]]:
        """The decodable records as a table, their positions in `lines`, the others' violations.

        pyarrow.json refuses a whole batch for one value of the wrong JSON type; then each line
        is looked at once (this error path only) to name its offending fields, and the rest is
        read again in one pass.
        """
        try:
            return self._table(_read_json(lines, self.schema)), list(range(len(lines))), []
        except pa.ArrowInvalid:
            pass
        kept: list[int] = []
        rejected: list[Violation] = []
        for position, (line, number) in enumerate(zip(lines, numbers, strict=True)):
            message = message_from_dict(parse_line(line, number), number)
            record = getattr(message, "record", {})
            wrong = [f for f in self.read_fields if not fits_json_type(record.get(f.name), f.type)]
            for f in wrong:
                value = orjson.dumps(record.get(f.name)).decode()
                kind = self.fields[f.name].kind
                rejected.append(
                    Violation(None, f.name, "type", f"cannot read {value} as {kind}", number)
                )
            if not wrong:
                kept.append(position)
        if not kept:
            return pa.schema(self.read_fields).empty_table(), kept, rejected
        try:
            table = _read_json([lines[i] for i in kept], self.schema)
        except pa.ArrowInvalid as exc:
            raise SingerProtocolError(
                f"records could not be decoded: {exc}", line=numbers[kept[0]], stream=stream
            ) from None
        return self._table(table), kept, rejected

    @staticmethod
    def _table(read: pa.Table) -> pa.Table:
        return pa.Table.from_struct_array(read.column("record").combine_chunks())


def fits_json_type(value: object, read_type: pa.DataType) -> bool:
    """Whether pyarrow.json can read this decoded JSON value as `read_type`."""
    if value is None:
        return True
    if pa.types.is_int64(read_type):
        return type(value) is int and -(2**63) <= value < 2**63
    if pa.types.is_float64(read_type):
        return type(value) in (int, float)
    if pa.types.is_boolean(read_type):
        return type(value) is bool
    if pa.types.is_string(read_type):
        return type(value) is str
    if pa.types.is_struct(read_type):
        return isinstance(value, dict) and all(
            fits_json_type(value.get(f.name), f.type) for f in read_type
        )
    if pa.types.is_list(read_type):
        return isinstance(value, list) and all(
            fits_json_type(item, read_type.value_type) for item in value
        )
    return False


def _without_blank_lines(lines: list[bytes], numbers: list[int]) -> tuple[list[bytes], list[int]]:
    kept = [i for i, line in enumerate(lines) if line.strip()]
    return [lines[i] for i in kept], [numbers[i] for i in kept]


def _one_pass_schema(decoders: list[_Decoder]) -> pa.Schema | None:
    """Envelope plus every contract table's record fields, so a chunk is parsed only once.

    None when two tables read a same-named field with different types.
    """
    merged: dict[str, pa.Field] = {}
    for decoder in decoders:
        for f in decoder.read_fields:
            if merged.setdefault(f.name, f).type != f.type:
                return None
    return pa.schema([*_ENVELOPE, pa.field("record", pa.struct(list(merged.values())))])


class ContractMapper:
    """Reads Singer messages, forwards what the policy lets through, tallies every violation."""

    def __init__(
        self,
        contract: Contract,
        policy: Policy,
        out: BinaryIO,
        *,
        quarantine: BinaryIO | None = None,
        replace_schema: bool = False,
        batch_rows: int = DEFAULT_BATCH_ROWS,
        batch_bytes: int = DEFAULT_BATCH_BYTES,
        hold_bytes: int = DEFAULT_HOLD_BYTES,
    ) -> None:
        self.contract = contract
        self.policy = policy
        self.writer = SingerWriter(out)
        # Under `fail`, output waits for the next STATE (up to hold_bytes), so a run that stops
        # never hands a target records that no STATE covers.
        self.hold_bytes = hold_bytes if policy is Policy.FAIL else 0
        self.held: list[bytes] = []
        self.held_size = 0
        self.hold_overflowed = False
        self.quarantine = quarantine
        self.replace_schema = replace_schema
        self.batch_rows = batch_rows
        self.batch_bytes = batch_bytes
        self.validators: dict[str, ContractValidator | None] = {}
        self.decoders: dict[str, _Decoder] = {}
        for table in contract.tables:
            check_table_usable(table)  # a contract error stops the run before any record
        self.one_pass_schema = _one_pass_schema([_Decoder(t) for t in contract.tables])
        self.buffers: dict[str, _StreamBuffer] = {}
        self.report = ViolationReport(contract, policy, OUTCOMES, log)
        self.pending_rows = 0
        self.pending_bytes = 0

    # -- streams -------------------------------------------------------------------------------
    def _validator(self, stream: str) -> ContractValidator | None:
        if stream not in self.validators:
            table = self.contract.table_for_stream(stream)
            if table is None:
                log.warning(
                    "stream '%s': no schema object of contract %s matches it; its records pass "
                    "unchecked",
                    stream,
                    self.contract.source,
                )
                self.validators[stream] = None
            else:
                decoder = _Decoder(table)
                if decoder.unreadable:
                    log.warning(
                        "stream '%s': fields %s have no fixed shape (array without items or no "
                        "logicalType) and are not checked",
                        stream,
                        sorted(decoder.unreadable),
                    )
                self.decoders[stream] = decoder
                self.validators[stream] = ContractValidator(
                    table, unchecked_fields=decoder.unreadable
                )
                self.report.tally(stream)
        return self.validators[stream]

    def _schema_message(self, line: bytes, number: int) -> bytes:
        message = message_from_dict(parse_line(line, number), number)
        assert isinstance(message, SchemaMessage)
        validator = self._validator(message.stream)
        if validator is None:
            return line
        declared = message.schema.get("properties") or {}
        absent = [f.name for f in validator.table.fields if f.name not in declared]
        if absent:
            log.warning(
                "line %d, stream '%s': the tap's schema lacks contract fields %s",
                number,
                message.stream,
                absent,
            )
        if not self.replace_schema:
            return line
        replaced = SchemaMessage(
            stream=message.stream,
            schema=singer_schema(validator.table),
            key_properties=validator.table.primary_key or message.key_properties,
            bookmark_properties=message.bookmark_properties,
        )
        return orjson.dumps(replaced.to_dict())

    # -- input ---------------------------------------------------------------------------------
    def run(self, fp: BinaryIO) -> None:
        """Process all input; on an error, what was already let through is still written."""
        try:
            self._run(fp)
        except BaseException:
            self.held.clear()  # stopped: what no STATE covers is dropped
            raise
        finally:
            self._release()
            self.writer.flush()

    def _run(self, fp: BinaryIO) -> None:
        for chunk in read_line_chunks(fp):
            lines = chunk.lines
            numbers = list(range(chunk.first_line, chunk.first_line + len(lines)))
            if not all(lines):
                lines, numbers = _without_blank_lines(lines, numbers)
            if lines:
                self._route(self._classify(lines, numbers))
        self.flush()
        self._finish()

    def _classify(self, lines: list[bytes], numbers: list[int]) -> _ClassifiedChunk:
        """Type and stream of every line, and the records too when one pass can decode them.

        When a record has a value of the wrong JSON type the single pass fails; the chunk is then
        read for its envelope only and each batch decoded on its own, locating the bad lines.
        """
        records = None
        try:
            if self.one_pass_schema is None:
                raise pa.ArrowInvalid("no single-pass schema")
            table = _read_json(lines, self.one_pass_schema)
            records = table.column("record").combine_chunks()
        except pa.ArrowInvalid:
            try:
                table = _read_json(lines, _ENVELOPE)
            except pa.ArrowInvalid:
                for number, line in zip(numbers, lines, strict=False):
                    message_from_dict(parse_line(line, number), number)
                raise
        if len(table) != len(lines):
            kept_lines, kept_numbers = _without_blank_lines(lines, numbers)
            if len(kept_lines) < len(lines):  # lines of whitespace only: JSON readers skip them
                return self._classify(kept_lines, kept_numbers)
            raise SingerProtocolError(
                f"expected {len(lines)} messages, decoded {len(table)}",
                line=numbers[0],
                hint="Each input line must hold exactly one JSON object",
            )
        kinds, streams = (
            table.column("type").combine_chunks(),
            table.column("stream").combine_chunks(),
        )
        return _ClassifiedChunk(lines, numbers, kinds, streams, records)

    def _route(self, chunk: _ClassifiedChunk) -> None:
        """Buffer RECORD runs per stream; flush before, then forward, every other message."""
        is_control = pc.fill_null(pc.not_equal(chunk.kinds, "RECORD"), True)
        controls = pc.indices_nonzero(is_control).to_pylist()
        start = 0
        for stop in [*controls, len(chunk.lines)]:
            for piece in range(start, stop, self.batch_rows):
                self._buffer_records(chunk, piece, min(stop, piece + self.batch_rows))
            if stop < len(chunk.lines):
                self._control(chunk.lines[stop], chunk.numbers[stop], chunk.kinds[stop].as_py())
            start = stop + 1

    def _buffer_records(self, chunk: _ClassifiedChunk, start: int, stop: int) -> None:
        lines, numbers = chunk.lines, chunk.numbers
        run_streams = chunk.streams.slice(start, stop - start)
        if run_streams.null_count:
            index = start + pc.indices_nonzero(run_streams.is_null())[0].as_py()
            message_from_dict(parse_line(lines[index], numbers[index]), numbers[index])
        distinct = pc.unique(run_streams).to_pylist()
        whole = len(distinct) == 1
        for stream in distinct:
            positions = (
                range(start, stop)
                if whole
                else pc.add(pc.indices_nonzero(pc.equal(run_streams, stream)), start).to_pylist()
            )
            buffer = self.buffers.setdefault(stream, _StreamBuffer())
            picked = lines[start:stop] if whole else [lines[i] for i in positions]
            buffer.lines.extend(picked)
            buffer.numbers.extend(numbers[start:stop] if whole else [numbers[i] for i in positions])
            if chunk.records is None:
                buffer.decoded = None
            elif buffer.decoded is not None:
                buffer.decoded.append(
                    chunk.records.slice(start, stop - start)
                    if whole
                    else chunk.records.take(pa.array(positions, pa.int64()))
                )
            size = sum(map(len, picked))
            self.pending_bytes += size
            self.pending_rows += len(picked)
        if self.pending_rows >= self.batch_rows or self.pending_bytes >= self.batch_bytes:
            self.flush()

    def _control(self, line: bytes, number: int, kind: str | None) -> None:
        self.flush()
        if kind == "SCHEMA":
            line = self._schema_message(line, number)
        elif kind == "BATCH":
            message = "BATCH messages point at files this mapper cannot check"
            if self.policy is not Policy.WARN:
                raise SingerProtocolError(
                    message,
                    line=number,
                    hint="Run the tap without batch mode, or use --policy warn",
                )
            log.warning("line %d: %s; forwarded unchecked", number, message)
        elif kind not in ("STATE", "ACTIVATE_VERSION"):
            message_from_dict(parse_line(line, number), number)  # raises, naming the line
        self._emit(line + b"\n")
        if kind == "STATE":
            self._release()
            self.writer.flush()

    # -- output ----------------------------------------------------------------------------------
    def _emit(self, data: bytes) -> None:
        if not self.hold_bytes:
            self.writer.write_raw(data)
            return
        self.held.append(data)
        self.held_size += len(data)
        if self.held_size > self.hold_bytes:
            if not self.hold_overflowed:
                log.warning(
                    "more than %d bytes arrived without a STATE; forwarding them before the next "
                    "STATE, so a later failure can leave records no STATE covers at the target",
                    self.hold_bytes,
                )
            self.hold_overflowed = True
            self._release()

    def _release(self) -> None:
        for data in self.held:
            self.writer.write_raw(data)
        self.held.clear()
        self.held_size = 0

    # -- batches -------------------------------------------------------------------------------
    def flush(self) -> None:
        for stream, buffer in self.buffers.items():
            if buffer.lines:
                self._check_batch(stream, buffer)
        self.buffers.clear()
        self.pending_rows = 0
        self.pending_bytes = 0
        self.writer.flush()

    def _check_batch(self, stream: str, buffer: _StreamBuffer) -> None:
        lines, numbers = buffer.lines, buffer.numbers
        validator = self._validator(stream)
        if validator is None:
            self._emit(b"\n".join([*lines, b""]))
            return
        decoder = self.decoders[stream]
        if buffer.decoded:
            records = (
                pa.concat_arrays(buffer.decoded) if len(buffer.decoded) > 1 else buffer.decoded[0]
            )
            table = pa.Table.from_struct_array(records).select(
                [f.name for f in decoder.read_fields]
            )
            kept: list[int] | range = range(len(lines))
            violations: list[Violation] = []
            kept_numbers = numbers
        else:
            table, kept, violations = decoder.decode(lines, numbers, stream)
            kept_numbers = [numbers[i] for i in kept]
        result = validator.validate(table, kept_numbers)
        position_of = {n: i for i, n in enumerate(numbers)} if violations else {}
        bad_positions = {position_of[v.line] for v in violations if v.line is not None}
        bad_positions.update(kept[i] for i in result.bad_indices.to_pylist())
        violations = violations + result.violations
        self.report.record(stream, len(lines), len(bad_positions), violations)
        if violations and self.policy is Policy.FAIL:
            violations.sort(key=lambda v: (v.line is None, v.line or 0))
            raise ContractViolationError(stream, violations)
        self.report.log_violations(stream, violations)
        good = lines
        if self.policy is Policy.QUARANTINE and bad_positions:
            self._quarantine(stream, buffer, bad_positions, violations)
            good = [line for i, line in enumerate(lines) if i not in bad_positions]
        if good:
            self._emit(b"\n".join([*good, b""]))  # one copy, newline-terminated

    def _quarantine(
        self,
        stream: str,
        buffer: _StreamBuffer,
        bad_positions: set[int],
        violations: list[Violation],
    ) -> None:
        if self.quarantine is None or not bad_positions:
            return
        by_line: dict[int, list[Violation]] = {}
        for violation in violations:
            if violation.line is not None:
                by_line.setdefault(violation.line, []).append(violation)
        out = []
        for position in sorted(bad_positions):
            number = buffer.numbers[position]
            found = by_line.get(number, [])
            record = orjson.loads(buffer.lines[position]).get("record")
            out.append(
                orjson.dumps(
                    {
                        "_dativo_stream": stream,
                        "_dativo_source_line": number,
                        "_dativo_rule": ",".join(dict.fromkeys(v.rule for v in found)),
                        "_dativo_reason": "; ".join(
                            f"{v.field}: {v.message}" if v.field else v.message for v in found
                        ),
                        "record": record,
                    },
                    option=orjson.OPT_APPEND_NEWLINE,
                )
            )
        self.quarantine.write(b"".join(out))

    def _finish(self) -> None:
        """Run-level rules (rowCount); under `fail` a broken one stops the run."""
        self.report.finish(self.validators)

    def summary(self) -> str:
        """Violations per rule and stream, for stderr at the end of a run."""
        return self.report.summary()
