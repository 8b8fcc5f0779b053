"""pyarrow's type inference: column kinds inferred from the data, batch by batch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from dativo_tap_csv.column_kinds import converted, kind_of
from dativo_tap_csv.file_specs import FileSpec
from dativo_tap_csv.kinds import Inference, Kind, widen
from dativo_tap_csv.reading import read_text_batches
from dativo_tap_csv.typed_spool import KeptFile, Spool


# 16 digits: from here on a float64 may not hold an integer exactly.
_LONG_INTEGER_MIN = 10**15


def _has_long_integers(values: pa.Array) -> bool:
    low, high = pc.min_max(values).values()
    return high.is_valid and (high.as_py() >= _LONG_INTEGER_MIN or low.as_py() <= -_LONG_INTEGER_MIN)


@dataclass
class _ColumnKind:
    """One column's kind so far, widened batch by batch as rows are read."""

    kind: Kind = Kind.NULL
    # Integers of 16 digits or more were seen: as a number the column would lose their digits.
    long_integers: bool = False

    def observe(self, text: pa.Array) -> pa.Array:
        """Widen the kind to hold `text`, and return `text` converted to it."""
        if self.kind == Kind.STRING:
            return text
        typed = converted(text, self.kind) if self.kind != Kind.NULL else None
        if typed is None:
            kind = widen(self.kind, kind_of(text))
            if kind == Kind.NUMBER and self.long_integers:
                kind = Kind.STRING
            typed = converted(text, kind)
            if typed is None:  # long integers in this batch kept it from being a number
                kind, typed = Kind.STRING, text
            self.kind = kind
        if self.kind == Kind.INTEGER and not self.long_integers:
            self.long_integers = _has_long_integers(typed)
        return typed


def infer_kinds(
    spec: FileSpec,
    paths: Sequence[Path],
    columns: Sequence[str],
    block_size: int,
    max_rows: int | None = None,
    spool: Spool | None = None,
) -> Inference:
    """Kinds over the first `max_rows` rows (all rows if None).

    With a `spool` and every row read, the converted rows are kept in it too, as far as its
    budget goes.
    """
    column_kinds = {name: _ColumnKind() for name in columns}
    kept: dict[Path, KeptFile] = {}
    remaining = max_rows
    for path in paths:
        section = spool.section_for(path) if spool is not None and max_rows is None else None
        for batch in read_text_batches(path, spec, columns, block_size):
            if remaining is not None:
                batch = batch.slice(0, remaining)
                remaining -= batch.num_rows
            typed = [column_kinds[name].observe(batch.column(name)) for name in columns]
            if section is not None:
                section.write(pa.RecordBatch.from_arrays(typed, names=list(columns)))
            if remaining is not None and remaining <= 0:
                break
        if section is not None and (done := section.finish()) is not None:
            kept[path] = done
        if remaining is not None and remaining <= 0:
            break
    return Inference({name: column.kind for name, column in column_kinds.items()}, kept)
