"""Discovery: a stream's files, their shared header, and column kinds inferred from the data."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from dativo_tap_csv.column_kinds import Kind, fits, kind_of, widen
from dativo_tap_csv.reading import CSVFileError, read_header, read_text_batches
from dativo_tap_csv.file_specs import FileSpec


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


def infer_kinds(
    spec: FileSpec,
    paths: Sequence[Path],
    columns: Sequence[str],
    block_size: int,
    max_rows: int | None = None,
) -> dict[str, Kind]:
    """Each column's narrowest kind over the first `max_rows` rows (all rows if None)."""
    kinds = {name: Kind.NULL for name in columns}
    remaining = max_rows
    for path in paths:
        for batch in read_text_batches(path, spec, columns, block_size):
            if remaining is not None:
                batch = batch.slice(0, remaining)
                remaining -= batch.num_rows
            for name in columns:
                current = kinds[name]
                if current == Kind.STRING:
                    continue
                text = batch.column(name)
                if current != Kind.NULL and fits(text, current):
                    continue
                kinds[name] = widen(current, kind_of(text))
            if remaining is not None and remaining <= 0:
                return kinds
    return kinds
