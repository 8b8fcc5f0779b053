"""The value kinds a CSV column can hold, how they widen, and the JSON Schema of each.

Free of pyarrow, so the Rust engine's path (rust_engine) starts without importing it; the
conversions of text to each kind are in column_kinds.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dativo_tap_csv.typed_spool import KeptFile


class Kind(str, enum.Enum):
    NULL = "null"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    DATE = "date"
    DATE_TIME = "date-time"
    NUMBER = "number"
    STRING = "string"


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


# The kind of a plain property {"type": T or [T, "null"], "format"?: F}, by (T, F).
_PLAIN_KINDS = {
    ("integer", None): Kind.INTEGER,
    ("number", None): Kind.NUMBER,
    ("boolean", None): Kind.BOOLEAN,
    ("string", None): Kind.STRING,
    ("string", "date"): Kind.DATE,
    ("string", "date-time"): Kind.DATE_TIME,
}


def _plain_kind(prop: dict[str, Any]) -> Kind | None:
    types = prop.get("type")
    names = [types] if isinstance(types, str) else types if isinstance(types, list) else []
    names = [name for name in names if name != "null"]
    if len(names) != 1 or set(prop) - {"type", "format", "description"}:
        return None
    return _PLAIN_KINDS.get((names[0], prop.get("format")))


def kind_from_json_schema(prop: dict[str, Any]) -> Kind:
    """The kind to read a column as when a catalog, not inference, gives its schema: a plain
    property directly, any other through the Arrow type the targets map it to."""
    plain = _plain_kind(prop)
    if plain is not None:
        return plain
    from dativo_core.schema.arrow import json_schema_to_arrow_type  # pyarrow: only when needed
    import pyarrow as pa

    arrow_type, as_json_text = json_schema_to_arrow_type(prop)
    if as_json_text:
        return Kind.STRING
    if pa.types.is_integer(arrow_type):
        return Kind.INTEGER
    if pa.types.is_floating(arrow_type):
        return Kind.NUMBER
    if pa.types.is_boolean(arrow_type):
        return Kind.BOOLEAN
    if pa.types.is_date(arrow_type):
        return Kind.DATE
    if pa.types.is_timestamp(arrow_type):
        return Kind.DATE_TIME
    return Kind.STRING


@dataclass
class Inference:
    """Each column's narrowest kind, and the files whose converted rows were kept (typed_spool)."""

    kinds: dict[str, Kind]
    kept: dict[Path, KeptFile] = field(default_factory=dict)
