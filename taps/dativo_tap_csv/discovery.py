"""Discovery: a stream's files, their shared header, and column kinds inferred from the data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from dativo_tap_csv.column_kinds import Kind, converted, kind_of, widen
from dativo_tap_csv.reading import CSVFileError, read_header, read_text_batches
from dativo_tap_csv.file_specs import FileSpec
from dativo_tap_csv.typed_spool import SpoolWriter, TypedSpool


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


def _widened(text: pa.Array, current: Kind) -> tuple[Kind, pa.Array | None]:
    """`current` widened to hold `text`, and `text` converted to that kind (None if it won't go).

    A conversion that fails for a kind inference chose happens only where inference and
    conversion disagree on purpose (an integer too long for a number); the sync then reports it.
    """
    if current == Kind.STRING:
        return current, text
    if current != Kind.NULL:
        typed = converted(text, current)
        if typed is not None:
            return current, typed
    kind = widen(current, kind_of(text))
    return kind, converted(text, kind)


@dataclass
class Inference:
    """Each column's narrowest kind, and the files whose converted rows were kept (see typed_spool)."""

    kinds: dict[str, Kind]
    spools: dict[Path, TypedSpool] = field(default_factory=dict)


def infer_kinds(
    spec: FileSpec,
    paths: Sequence[Path],
    columns: Sequence[str],
    block_size: int,
    max_rows: int | None = None,
    spool_bytes: int = 0,
) -> Inference:
    """Kinds over the first `max_rows` rows (all rows if None).

    With a `spool_bytes` budget and every row read, the converted rows are kept too, up to
    that many bytes for the stream.
    """
    inference = Inference({name: Kind.NULL for name in columns})
    kinds = inference.kinds
    remaining = max_rows
    budget = spool_bytes if max_rows is None else 0
    for path in paths:
        spool = SpoolWriter(path, budget) if budget > 0 else None
        for batch in read_text_batches(path, spec, columns, block_size):
            if remaining is not None:
                batch = batch.slice(0, remaining)
                remaining -= batch.num_rows
            typed: list[pa.Array | None] = []
            for name in columns:
                kinds[name], array = _widened(batch.column(name), kinds[name])
                typed.append(array)
            if spool is not None:
                if any(array is None for array in typed):
                    spool.abandon()
                else:
                    spool.write(pa.RecordBatch.from_arrays(typed, names=list(columns)))
            if remaining is not None and remaining <= 0:
                return inference
        kept = spool.finish() if spool is not None else None
        if kept is not None:
            inference.spools[path] = kept
            budget -= kept.size_bytes
    return inference
