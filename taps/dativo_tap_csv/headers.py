"""A stream's header, read with Python's csv module in the stream's dialect (no pyarrow)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from dativo_tap_csv.file_specs import CSVFileError, FileSpec


def python_encoding(spec: FileSpec) -> str:
    return "utf-8-sig" if spec.is_utf8 else spec.encoding


def python_csv_reader(fh: TextIO, spec: FileSpec) -> Any:
    """Python's csv reader with the stream's dialect, for the header and for error locations."""
    return csv.reader(
        fh,
        delimiter=spec.delimiter,
        quotechar=spec.quotechar,
        escapechar=spec.escapechar,
        doublequote=spec.doublequote,
    )


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
    except UnicodeDecodeError as exc:
        raise wrong_encoding(path, spec, exc) from exc
    except csv.Error as exc:
        raise CSVFileError(f"file '{path}': cannot read the header row: {exc}") from exc
    if names is None:
        raise CSVFileError(f"file '{path}' is empty: a CSV file needs a header row")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise CSVFileError(f"file '{path}': duplicate column names in the header: {duplicates}")
    return names


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
