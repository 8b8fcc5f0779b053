"""Streaming CSV reading with pyarrow: bounded batches, and errors that name file, line, column."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from dativo_tap_csv.column_kinds import FALSE_VALUES, READ_TYPES, TRUE_VALUES, convert, first_misfit
from dativo_tap_csv.kinds import Kind
from dativo_tap_csv.file_specs import DEFAULT_BLOCK_SIZE, CSVFileError, FileSpec
from dativo_tap_csv.headers import (
    open_quote_line,
    python_csv_reader,
    python_encoding,
    read_header,
    unclosed_quote_error,
    wrong_encoding,
)


# pyarrow's error for a row with another field count than the header's. (An
# `invalid_row_handler` would hand the same facts over, but the reader keeps a Python callback
# alive on its I/O thread, which may drop it while the interpreter exits: the process then
# aborted after a successful sync, now and then.)
_RAGGED_ROW = re.compile(r"Row #(\d+): Expected (\d+) columns, got (\d+): (.*)", re.DOTALL)


def _read_options(spec: FileSpec, block_size: int) -> pacsv.ReadOptions:
    # pyarrow reads UTF-8 natively and skips a BOM; other encodings go through Python codecs.
    encoding = "utf8" if spec.is_utf8 else spec.encoding
    return pacsv.ReadOptions(block_size=block_size, encoding=encoding, use_threads=False)


def _parse_options(spec: FileSpec) -> pacsv.ParseOptions:
    return pacsv.ParseOptions(
        delimiter=spec.delimiter,
        quote_char=spec.quotechar,
        double_quote=spec.doublequote,
        escape_char=spec.escapechar or False,
        newlines_in_values=True,
    )


def _convert_options(columns: Sequence[str], types: dict[str, pa.DataType]) -> pacsv.ConvertOptions:
    return pacsv.ConvertOptions(
        include_columns=list(columns),
        column_types=types,
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
        true_values=TRUE_VALUES,
        false_values=FALSE_VALUES,
    )


def _located_row(path: Path, spec: FileSpec, row: int) -> tuple[int, list[str]] | None:
    """The line where CSV row `row` (header = 1, blank lines not counted) starts, and its fields.

    Rows and lines differ when quoted values hold newlines; only used to report errors.
    """
    try:
        with open(path, newline="", encoding=python_encoding(spec), errors="replace") as fh:
            reader = python_csv_reader(fh, spec)
            seen, previous_end = 0, 0
            for fields in reader:
                start = previous_end + 1
                previous_end = reader.line_num
                if fields:
                    seen += 1
                    if seen == row:
                        return start, fields
    except (csv.Error, OSError, LookupError):
        return None
    return None


def _where(path: Path, spec: FileSpec, row: int) -> str:
    located = _located_row(path, spec, row)
    return f"file '{path}', line {located[0] if located else row}"


def _ragged_row_error(path: Path, spec: FileSpec, row: int, expected: str, actual: str, text: str) -> CSVFileError:
    """The error of a row with another field count than the header's, showing the row: as the
    Rust engine does, its fields joined by the delimiter (quotes undone), first 200 characters.
    (`text`, pyarrow's own, is cut at ~100 bytes, sometimes inside a character.)"""
    located = _located_row(path, spec, row)
    line, shown = (located[0], spec.delimiter.join(located[1])) if located else (row, text)
    return CSVFileError(
        f"file '{path}', line {line}: expected {expected} fields as in the first row, got {actual}: {shown[:200]!r}"
    )


def _misfit_error(
    path: Path, spec: FileSpec, row: int, column: str, kind: Kind, value: object
) -> CSVFileError:
    return CSVFileError(
        f"{_where(path, spec, row)}, column '{column}': value {value!r} is not a valid "
        f"{kind.value}. The column type was inferred from earlier rows (see `infer_max_rows`) "
        "or set by the catalog; declare the column as string in the catalog to keep such values"
    )


def _locate_misfit(
    path: Path, spec: FileSpec, kinds: dict[str, Kind], block_size: int, cause: Exception
) -> CSVFileError:
    """Re-read the file as text to find the first value that does not fit its column's kind."""
    row = 1
    text_types = {name: pa.string() for name in kinds}
    for batch in _batches(path, spec, list(kinds), text_types, block_size):
        for name, kind in kinds.items():
            index = first_misfit(batch.column(name), kind)
            if index is not None:
                value = batch.column(name)[index].as_py()
                return _misfit_error(path, spec, row + index + 1, name, kind, value)
        row += batch.num_rows
    return CSVFileError(f"file '{path}': {cause}")


def _with_datetimes(
    batch: pa.RecordBatch, path: Path, spec: FileSpec, kinds: dict[str, Kind], first_row: int
) -> pa.RecordBatch:
    """The batch with its date-time columns converted from text to UTC timestamps."""
    columns = list(batch.columns)
    for position, name in enumerate(batch.schema.names):
        if kinds[name] != Kind.DATE_TIME:
            continue
        try:
            columns[position] = convert(columns[position], Kind.DATE_TIME)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            index = first_misfit(columns[position], Kind.DATE_TIME) or 0
            value = columns[position][index].as_py()
            raise _misfit_error(path, spec, first_row + index, name, Kind.DATE_TIME, value)
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


def _encoded(text: str, spec: FileSpec) -> bytes:
    """`text` as the file's bytes (without the BOM an encoder may put first)."""
    encoding = python_encoding(spec)
    return text.encode(encoding).removeprefix("".encode(encoding))


def _quoted(value: str, spec: FileSpec) -> str:
    """An opening quote and `value` as the file writes them inside quotes (without escapechar)."""
    quote = spec.quotechar
    return quote + (value.replace(quote, quote * 2) if spec.doublequote else value)


def _may_end_in_open_quote(path: Path, spec: FileSpec, last_value: str | None) -> bool:
    """Whether the file's last field may be a quote left open, which pyarrow takes with the rest
    of the file, later rows and all, as one value (in any other column the record comes up
    short of fields, an error already).

    Such a field runs to the end of the file: the file then ends with the value's quoted text
    (an empty one: with a lone quote where a field starts). A few closed fields end so too (a
    value of quotes only), so a match is only a reason to look. The text cannot be rebuilt
    from a value read with `escapechar`: there, any value holding a line end is looked at.
    """
    if spec.escapechar:
        return bool(last_value) and ("\n" in last_value or "\r" in last_value)
    opened = _encoded(_quoted(last_value or "", spec), spec)
    endings = [opened] if last_value else [_encoded(start, spec) + opened for start in (spec.delimiter, "\n", "\r")]
    size = path.stat().st_size
    with path.open("rb") as fh:
        fh.seek(max(0, size - max(map(len, endings))))
        tail = fh.read()
    return any(tail.endswith(ending) for ending in endings)


def _check_last_quote_closed(path: Path, spec: FileSpec, last_value: str | None) -> None:
    """Refuse a file whose last field opens a quote that never closes, as Python's csv module
    in strict mode finds it (a pass over the file, made only when the end looks so)."""
    if not _may_end_in_open_quote(path, spec, last_value):
        return
    line = open_quote_line(path, spec)
    if line is not None:
        raise unclosed_quote_error(path, line)


def _batches(
    path: Path,
    spec: FileSpec,
    columns: Sequence[str],
    types: dict[str, pa.DataType],
    block_size: int,
) -> Iterator[pa.RecordBatch]:
    # The file's last column is read as text too, to check its last value (see
    # _check_last_quote_closed); one of another type cannot hold a swallowed row.
    last = read_header(path, spec)[-1] if columns else None
    extra = last is not None and last not in columns
    if last is not None and not extra and types[last] != pa.string():
        last = None
    try:
        reader = pacsv.open_csv(
            path,
            read_options=_read_options(spec, block_size),
            parse_options=_parse_options(spec),
            convert_options=_convert_options(
                [*columns, last] if extra else columns, {**types, last: pa.string()} if extra else types
            ),
        )
        with reader:
            held = None  # the latest batch, yielded once the file is known to end well
            for batch in reader:
                if held is not None:
                    yield held.drop_columns([last]) if extra else held
                held = batch
            if held is not None:
                if last is not None and held.num_rows:
                    _check_last_quote_closed(path, spec, held.column(last)[-1].as_py())
                yield held.drop_columns([last]) if extra else held
    except pa.ArrowInvalid as exc:
        ragged = _RAGGED_ROW.search(str(exc))
        if ragged is not None:
            row, expected, actual, text = ragged.groups()
            raise _ragged_row_error(path, spec, int(row), expected, actual, text) from exc
        if "straddling object" in str(exc):
            raise CSVFileError(
                f"file '{path}' has a row longer than block_size_bytes ({block_size}); "
                "raise the `block_size_bytes` setting above the longest row"
            ) from exc
        if "invalid UTF8" in str(exc):
            raise wrong_encoding(path, spec, exc) from exc
        raise


def read_batches(
    path: Path,
    spec: FileSpec,
    kinds: dict[str, Kind],
    block_size: int = DEFAULT_BLOCK_SIZE,
) -> Iterator[pa.RecordBatch]:
    """Batches of the named columns, each read as its kind (date-time still as text)."""
    types = {name: READ_TYPES[kind] for name, kind in kinds.items()}
    convert_datetimes = Kind.DATE_TIME in kinds.values()
    next_row = 2  # the header is row 1
    try:
        for batch in _batches(path, spec, list(kinds), types, block_size):
            if convert_datetimes:
                batch = _with_datetimes(batch, path, spec, kinds, next_row)
            next_row += batch.num_rows
            yield batch
    except pa.ArrowInvalid as exc:
        if "conversion error" in str(exc):
            raise _locate_misfit(path, spec, kinds, block_size, exc) from exc
        raise CSVFileError(f"file '{path}': {exc}") from exc


def read_text_batches(
    path: Path, spec: FileSpec, columns: Sequence[str], block_size: int = DEFAULT_BLOCK_SIZE
) -> Iterator[pa.RecordBatch]:
    """Batches of the named columns as text, empty fields as nulls (for type inference)."""
    types = {name: pa.string() for name in columns}
    try:
        yield from _batches(path, spec, columns, types, block_size)
    except pa.ArrowInvalid as exc:
        raise CSVFileError(f"file '{path}': {exc}") from exc
