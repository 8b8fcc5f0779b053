"""A stream's files read with Python's csv module in the stream's dialect (no pyarrow): the
header, and a quote the end of a file leaves open."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from dativo_tap_csv.file_specs import CSVFileError, FileSpec


def python_encoding(spec: FileSpec) -> str:
    return "utf-8-sig" if spec.is_utf8 else spec.encoding


def python_csv_reader(fh: TextIO, spec: FileSpec, strict: bool = False) -> Any:
    """Python's csv reader with the stream's dialect, for the header and for error locations;
    `strict` is csv's own option (only a strict reader refuses a quote left open at the end)."""
    return csv.reader(
        fh,
        delimiter=spec.delimiter,
        quotechar=spec.quotechar,
        escapechar=spec.escapechar,
        doublequote=spec.doublequote,
        strict=strict,
    )


def unclosed_quote_error(path: Path, line: int) -> CSVFileError:
    return CSVFileError(
        f"file '{path}', line {line}: a quoted field of the record on this line is not closed by the end "
        "of the file, so the rest of the file would be one value; close the quote, or set `quotechar` "
        "if this file quotes with another character"
    )


def _ends_in_open_quote(error: csv.Error) -> bool:
    return "unexpected end of data" in str(error)


def open_quote_line(path: Path, spec: FileSpec) -> int | None:
    """The line of the record a quote open at the end of the file starts, or None when the file
    ends outside quotes. Quoting that goes wrong before (`"a"b`, which the parsers take
    leniently) is a CSVFileError naming its line: where such a file's last field ends cannot
    be told."""
    with open(path, newline="", encoding=python_encoding(spec), errors="replace") as fh:
        reader = python_csv_reader(fh, spec, strict=True)
        start = 1
        try:
            for _ in reader:
                start = reader.line_num + 1
        except csv.Error as exc:
            if _ends_in_open_quote(exc):
                return start
            raise CSVFileError(
                f"file '{path}', line {reader.line_num}: {exc}; its quotes do not pair up, so its last "
                "field may hold the rest of the file: fix the quoting, or set `quotechar`/`escapechar`"
            ) from exc
    return None


def wrong_encoding(path: Path, spec: FileSpec, cause: Exception) -> CSVFileError:
    return CSVFileError(
        f"file '{path}' is not valid {spec.encoding} ({cause}); "
        "set the stream's `encoding` to the file's encoding, e.g. \"latin-1\""
    )


def read_header(path: Path, spec: FileSpec) -> list[str]:
    """The column names of a file's first row."""
    try:
        with open(path, newline="", encoding=python_encoding(spec)) as fh:
            reader = python_csv_reader(fh, spec)
            names = next((row for row in reader if row), None)
            read_to_the_end = not fh.read(1)
    except UnicodeDecodeError as exc:
        raise wrong_encoding(path, spec, exc) from exc
    except csv.Error as exc:
        raise CSVFileError(f"file '{path}': cannot read the header row: {exc}") from exc
    if names is not None and read_to_the_end and _header_quote_left_open(path, spec):
        raise unclosed_quote_error(path, 1)  # the header took the whole file: no rows would be read
    if names is None:
        raise CSVFileError(f"file '{path}' is empty: a CSV file needs a header row")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise CSVFileError(f"file '{path}': duplicate column names in the header: {duplicates}")
    return names


def _header_quote_left_open(path: Path, spec: FileSpec) -> bool:
    """For a file that is its header alone: whether that is because a quote never closed."""
    try:
        return open_quote_line(path, spec) is not None
    except CSVFileError:
        return False  # lenient quoting in the header (`"b" ,c`), which the parsers accept


def shared_header(spec: FileSpec, paths: Sequence[Path]) -> list[str]:
    """The header every file of the stream has; a file that differs is an error naming it."""
    header = read_header(paths[0], spec)
    for path in paths[1:]:
        other = read_header(path, spec)
        if other != header:
            raise CSVFileError(
                f"stream '{spec.entity}': file '{path}' has header {other}, but "
                f"'{paths[0]}' has {header}; files of one stream must share a header "
                "(split them into separate `files` entries)"
            )
    missing = [key for key in spec.keys if key not in header]
    if missing:
        raise CSVFileError(
            f"stream '{spec.entity}': key column(s) {missing} are not in the header {header}"
        )
    return header
