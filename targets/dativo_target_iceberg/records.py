"""RECORD lines of one stream -> an Arrow table of the stream's schema, in native code.

The hot path hands the newline-joined lines to the Rust decoder (`native_decoder`, arrow-json)
or, when it is not built, to `pyarrow.json.read_json`, with an explicit schema
(`{record: struct<...>}`, other keys ignored), so no record becomes a Python dict.
The Python path (orjson + `Table.from_pylist`) runs only for streams with fields that hold
JSON text, which `pyarrow.json` cannot produce, and for a batch the native reader rejected:
there it finds the exact line and field at fault.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cached_property
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from dativo_core.schema.arrow import holds_json_text
from dativo_core.singer import RecordMessage, SingerProtocolError, message_from_dict, parse_line
from dativo_target_iceberg.casting import cast_from_json, first_failing_row, wire_type
from dativo_target_iceberg.native_decoder import DecodeError, RecordDecoder, decoder_library

VERSION_COLUMN = "_sdc_table_version"
_VERSION_FIELD = pa.field(VERSION_COLUMN, pa.int64())
_ARROW_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError)
_MIN_BLOCK_BYTES = 4 * 1024 * 1024
_DECODER_FIELD = re.compile(r"whilst decoding field '([^']*)'")


def _has_json_text(field: pa.Field) -> bool:
    if holds_json_text(field):
        return True
    if pa.types.is_struct(field.type):
        return any(_has_json_text(child) for child in field.type)
    if pa.types.is_list(field.type):
        return _has_json_text(field.type.value_field)
    return False


def _encode_json_text(value: Any, field: pa.Field) -> Any:
    """Replace, inside one value, every part the schema stores as JSON text by that text."""
    if value is None:
        return None
    if holds_json_text(field):
        return orjson.dumps(value).decode()
    if pa.types.is_struct(field.type) and isinstance(value, dict):
        return {
            child.name: _encode_json_text(value.get(child.name), child)
            for child in field.type
            if child.name in value
        }
    if pa.types.is_list(field.type) and isinstance(value, list):
        return [_encode_json_text(item, field.type.value_field) for item in value]
    return value


def _preview(value: Any) -> str:
    text = orjson.dumps(value, default=str).decode()
    return text if len(text) <= 60 else text[:57] + "..."


class RecordConverter:
    """Converts batches of one stream's RECORD lines to Arrow tables of its table schema."""

    def __init__(
        self,
        stream: str,
        schema: pa.Schema,
        key_properties: Sequence[str] = (),
        versioned: bool = False,
        columns: dict[str, str] | None = None,
    ) -> None:
        """`schema` is named as the record's keys; `columns` renames some for the table.

        With `versioned`, each row also gets its message's `version` in `_sdc_table_version`.
        """
        self.stream = stream
        self.versioned = versioned
        renamed = pa.schema([f.with_name((columns or {}).get(f.name, f.name)) for f in schema])
        self.schema = renamed.append(_VERSION_FIELD) if versioned else renamed
        self._record_schema = schema
        self.key_properties = set(key_properties)
        self._wire_fields = [f.with_type(wire_type(f.type)).with_nullable(True) for f in schema]
        self._wire_schema = pa.schema(self._wire_fields + ([_VERSION_FIELD] if versioned else []))
        envelope = [pa.field("record", pa.struct(self._wire_fields))]
        self._read_schema = pa.schema(envelope + ([pa.field("version", pa.int64())] if versioned else []))
        self._json_text_fields = [f for f in schema if _has_json_text(f)]
        self.native = not self._json_text_fields

    @cached_property
    def _decoder(self) -> RecordDecoder | None:
        """Made on first use: a load of BATCH files never needs it, nor the library's loading."""
        library = decoder_library() if self.native else None
        return library.decoder(self._read_schema) if library else None

    def convert(self, data: bytes, line_numbers: Sequence[int]) -> pa.Table:
        """`data` is the batch's lines joined by newlines; line_numbers[i] is row i's input line."""
        table = self._read_native(data, line_numbers) if self.native else None
        if table is None:
            table = self._read_python(data, line_numbers)
        return self._finish(table, line_numbers)

    def convert_record_block(self, data: bytes, prefix: bytes, first_line: int) -> pa.Table | None:
        """A block meant to hold only RECORD lines starting with `prefix`, its first at input line
        `first_line`; None when some line does not (or carries a table version the stream does not
        keep yet): the caller then reads the block line by line.

        The Rust decoder checks the lines as it decodes them, so nothing here looks at each line.
        """
        if self._decoder is None:
            lines = data.count(b"\n") + 1
            if data.count(b"\n" + prefix) != lines - 1 or (not self.versioned and b'"version"' in data):
                return None  # a line holds the prefix at most once, at its start: so these are RECORDs
            return self.convert(data, range(first_line, first_line + lines))
        try:
            batches = self._decoder.decode(data, prefix)
        except DecodeError as exc:
            # Every line had the prefix, so line i of the block is row i.
            self._report_decode_error(exc, data, range(first_line, first_line + data.count(b"\n") + 1))
            return None
        if batches is None:
            return None
        table = self._from_envelope(pa.Table.from_batches(batches))
        if table is None:
            return None
        return self._finish(table, range(first_line, first_line + table.num_rows))

    def convert_record_lines(self, data: bytes) -> pa.Table:
        """Lines holding bare record objects (a jsonl BATCH file), numbered from 1."""
        line_numbers = range(1, data.count(b"\n") + 2)
        table = None
        if self.native:
            try:
                table = pa_json.read_json(
                    pa.BufferReader(data),
                    read_options=pa_json.ReadOptions(block_size=len(data) + 1),
                    parse_options=pa_json.ParseOptions(
                        explicit_schema=pa.schema(self._wire_fields), unexpected_field_behavior="ignore"
                    ),
                )
            except _ARROW_ERRORS:
                table = None
        if table is None:
            records = []
            for number, line in zip(line_numbers, data.split(b"\n")):
                record = parse_line(line, number)
                if not isinstance(record, dict):
                    raise SingerProtocolError("expected a record object", line=number, stream=self.stream)
                records.append(self._prepare(record))
            table = self._from_records(records, line_numbers, self._wire_fields)
        if self.versioned:
            table = table.append_column(_VERSION_FIELD, pa.nulls(table.num_rows, pa.int64()))
        return self._finish(table, line_numbers)

    def convert_arrow(self, data: pa.Table) -> pa.Table:
        """Columns read from a file (a parquet BATCH file) cast to the table's types by name."""
        line_numbers = range(1, data.num_rows + 1)
        columns = [
            data.column(f.name) if f.name in data.column_names else pa.nulls(data.num_rows, f.type)
            for f in self._wire_fields
        ]
        if self.versioned:
            columns.append(pa.nulls(data.num_rows, pa.int64()))
        wire = pa.Table.from_arrays(columns, names=self._wire_schema.names)
        return self._finish(wire, line_numbers)

    def _finish(self, table: pa.Table, line_numbers: Sequence[int]) -> pa.Table:
        self._check_required(table, line_numbers)
        columns = [
            self._cast_column(table.column(i), target, line_numbers)
            for i, target in enumerate(self._record_schema)
        ]
        if self.versioned:
            columns.append(table.column(VERSION_COLUMN))
        return pa.Table.from_arrays(columns, schema=self.schema)

    def _read_native(self, data: bytes, line_numbers: Sequence[int]) -> pa.Table | None:
        read = self._decode(data, line_numbers) if self._decoder else self._read_pyarrow(data)
        if read is None or read.num_rows != len(line_numbers):
            return None  # e.g. blank lines: the Python path numbers what it reads
        return self._from_envelope(read)

    def _from_envelope(self, read: pa.Table) -> pa.Table | None:
        """The record columns (and versions) of a decoded `{record: ..., version: ...}` table."""
        records = read.column(0)
        if records.null_count:
            return None  # a RECORD without a record object: the Python path says where
        table = pa.Table.from_struct_array(records)
        if self.versioned:
            table = table.append_column(_VERSION_FIELD, read.column("version"))
        return table

    def _decode(self, data: bytes, line_numbers: Sequence[int]) -> pa.Table | None:
        """The Rust decoder's table; a bad line is reported with the Python path's wording if it has one."""
        assert self._decoder is not None
        try:
            batches = self._decoder.decode(data)
        except DecodeError as exc:
            self._report_decode_error(exc, data, line_numbers)
            return None
        assert batches is not None, "without a prefix every line is decoded"
        return pa.Table.from_batches(batches)

    def _report_decode_error(self, exc: DecodeError, data: bytes, line_numbers: Sequence[int]) -> None:
        """Raise the error of the line the decoder failed on; return when it is not located
        (the Python path then judges the block)."""
        if exc.line is not None and exc.line < len(line_numbers):
            number = line_numbers[exc.line]
            # The Python path and the checks after it raise, with their wording, for most values.
            self._finish(self._read_python(data.split(b"\n")[exc.line], [number]), [number])
            # The Python path takes a few values JSON Schema refuses (1.5 as an integer, "a" as
            # an array of strings); the decoder's message says what is wrong with them.
            fields = _DECODER_FIELD.findall(exc.message)[1:]  # the first is the envelope's `record`
            raise SingerProtocolError(
                f"value does not fit its column ({exc.message})", line=number, stream=self.stream,
                field=".".join(fields) or None,
                hint="Fix the record or the stream's SCHEMA so the value matches its type",
            ) from None

    def _read_pyarrow(self, data: bytes) -> pa.Table | None:
        # Blocks are parsed in parallel but no line may straddle two, so a batch whose first
        # attempt fails is read once more as a single block before the Python path judges it.
        read = None
        for block in (_MIN_BLOCK_BYTES, len(data) + 1):
            try:
                read = pa_json.read_json(
                    pa.BufferReader(data),
                    read_options=pa_json.ReadOptions(block_size=block),
                    parse_options=pa_json.ParseOptions(
                        explicit_schema=self._read_schema, unexpected_field_behavior="ignore"
                    ),
                )
                break
            except _ARROW_ERRORS:
                if block > len(data):
                    return None
        return read

    def _read_python(self, data: bytes, line_numbers: Sequence[int]) -> pa.Table:
        records: list[dict[str, Any]] = []
        for number, line in zip(line_numbers, data.split(b"\n")):
            try:
                message = message_from_dict(parse_line(line, number), number)
            except SingerProtocolError as exc:
                exc.stream = exc.stream or self.stream  # grouped by stream, so it is known
                raise
            if not isinstance(message, RecordMessage):
                raise SingerProtocolError("expected a RECORD message", line=number, stream=self.stream)
            record = self._prepare(message.record)
            if self.versioned:
                record = {**record, VERSION_COLUMN: message.version}
            records.append(record)
        return self._from_records(records, line_numbers, list(self._wire_schema))

    def _prepare(self, record: dict[str, Any]) -> dict[str, Any]:
        if not self._json_text_fields:
            return record
        record = dict(record)
        for field in self._json_text_fields:
            if field.name in record:
                record[field.name] = _encode_json_text(record[field.name], field)
        return record

    def _from_records(
        self, records: list[dict[str, Any]], line_numbers: Sequence[int], fields: list[pa.Field]
    ) -> pa.Table:
        try:
            return pa.Table.from_pylist(records, schema=pa.schema(fields))
        except _ARROW_ERRORS:
            self._raise_value_error(records, line_numbers)
            raise

    def _raise_value_error(self, records: list[dict[str, Any]], line_numbers: Sequence[int]) -> None:
        for row, record in enumerate(records):
            for field in self._wire_fields:
                value = record.get(field.name)
                try:
                    pa.array([value], type=field.type)
                except _ARROW_ERRORS as exc:
                    raise SingerProtocolError(
                        f"value {_preview(value)} does not fit column type {field.type} ({exc})",
                        line=line_numbers[row],
                        stream=self.stream,
                        field=field.name,
                        hint="Fix the record or the stream's SCHEMA so the value matches its type",
                    ) from None

    def _check_required(self, table: pa.Table, line_numbers: Sequence[int]) -> None:
        for field, column in zip(self._record_schema, table.columns):
            if not field.nullable and column.null_count:
                row = pc.index(pc.is_null(column), True).as_py()
                if field.name in self.key_properties:
                    problem, hint = "record is missing key property", "Every record needs its key_properties"
                else:
                    problem, hint = "record is missing required field", "The SCHEMA lists it in `required`"
                raise SingerProtocolError(
                    f"{problem} '{field.name}'", line=line_numbers[row], stream=self.stream,
                    field=field.name, hint=hint,
                )
            if pa.types.is_struct(field.type) and column.null_count < len(column):
                self._check_required_children(column.combine_chunks(), field.name, line_numbers)

    def _check_required_children(self, parent: pa.StructArray, path: str, line_numbers: Sequence[int]) -> None:
        for index, child_field in enumerate(parent.type):
            child = parent.field(index)
            name = f"{path}.{child_field.name}"
            if not child_field.nullable and child.null_count:
                missing = pc.and_(child.is_null(), parent.is_valid())
                if pc.any(missing).as_py():
                    row = pc.index(missing, True).as_py()
                    raise SingerProtocolError(
                        f"record is missing required field '{name}'", line=line_numbers[row],
                        stream=self.stream, field=name, hint="The SCHEMA lists it in `required`",
                    )
            if pa.types.is_struct(child_field.type):
                self._check_required_children(child, name, line_numbers)

    def _cast_column(self, column: pa.ChunkedArray, field: pa.Field, line_numbers: Sequence[int]) -> pa.ChunkedArray:
        if column.type == field.type:
            return column
        try:
            return pa.chunked_array([cast_from_json(c, field.type) for c in column.chunks], type=field.type)
        except _ARROW_ERRORS as exc:
            whole = column.combine_chunks()
            row = first_failing_row(whole, lambda part: cast_from_json(part, field.type))
            raise SingerProtocolError(
                f"value {_preview(whole[row].as_py())} cannot be cast to {field.type} ({exc})",
                line=line_numbers[row], stream=self.stream, field=field.name,
                hint="Dates, times and date-times must be ISO 8601 strings",
            ) from None
