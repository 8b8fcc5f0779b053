"""How the value kinds of CSV columns widen, and the JSON Schema a stream announces for each.

Free of pyarrow, so the Rust engine's path (rust_engine) starts without importing it; the
conversions of text to each kind are in column_kinds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dativo_core.schema.csv_kinds import Kind

if TYPE_CHECKING:
    from dativo_tap_csv.typed_spool import KeptFile


_WIDENINGS = {
    frozenset({Kind.INTEGER, Kind.NUMBER}): Kind.NUMBER,
    frozenset({Kind.DATE, Kind.DATE_TIME}): Kind.DATE_TIME,
}


def widen(a: Kind, b: Kind) -> Kind:
    """The narrowest kind holding values of both."""
    if a == b or b == Kind.NULL:
        return a
    if a == Kind.NULL:
        return b
    return _WIDENINGS.get(frozenset({a, b}), Kind.STRING)


def json_schema_of(kind: Kind) -> dict[str, Any]:
    """The nullable JSON Schema a stream announces for a column of this kind."""
    if kind in (Kind.DATE, Kind.DATE_TIME):
        return {"type": ["string", "null"], "format": kind.value}
    if kind in (Kind.NULL, Kind.STRING):
        return {"type": ["string", "null"]}
    return {"type": [kind.value, "null"]}


@dataclass
class Inference:
    """Each column's narrowest kind, and the files whose converted rows were kept (typed_spool)."""

    kinds: dict[str, Kind]
    kept: dict[Path, KeptFile] = field(default_factory=dict)
