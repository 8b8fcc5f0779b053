"""The kinds of value a CSV column is read as, and the kind a Singer JSON Schema property asks
for: tap-csv and the Rust reader tap both read columns as a catalog types them.

Free of pyarrow at import, so that a read which never needs it starts without it.
"""

from __future__ import annotations

import enum
from typing import Any


class Kind(str, enum.Enum):
    NULL = "null"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    DATE = "date"
    DATE_TIME = "date-time"
    NUMBER = "number"
    STRING = "string"


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
    return plain if plain is not None else _arrow_kind(prop)


def _arrow_kind(prop: dict[str, Any]) -> Kind:
    """The kind of the Arrow type the targets store a property as (imports pyarrow)."""
    from dativo_core.schema.arrow import json_schema_to_arrow_type
    import pyarrow as pa

    arrow_type, as_json_text = json_schema_to_arrow_type(prop)
    if as_json_text:
        return Kind.STRING
    for test, kind in (
        (pa.types.is_integer, Kind.INTEGER),
        (pa.types.is_floating, Kind.NUMBER),
        (pa.types.is_boolean, Kind.BOOLEAN),
        (pa.types.is_date, Kind.DATE),
        (pa.types.is_timestamp, Kind.DATE_TIME),
    ):
        if test(arrow_type):
            return kind
    return Kind.STRING
