"""A contract table compiled to a Singer JSON Schema, and through it to Arrow (and so Iceberg).

Logical type mapping (docs/contracts.md has the full table):
string -> string (format, minLength, maxLength, pattern kept); date -> string/date;
timestamp, and v3.0 `date` whose format has a time of day -> string/date-time; time, and v3.0
`date` with a time-only format -> string/time; integer -> integer (Arrow int32 for i8/i16/i32/u8/
u16, int64 otherwise); number -> number (float32 for f32); boolean; object with properties ->
object (struct), without -> JSON text; array with items -> array (list), without -> JSON text.
Required and primary key fields are not nullable; the primary key becomes `key_properties`.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from dativo_core.contracts.model import ContractField, ContractTable
from dativo_core.schema.arrow import json_schema_to_arrow

INT32_FORMATS = {"i8", "i16", "i32", "u8", "u16"}
# Value ranges of the ODCS (Rust-named) integer formats; wider ones are held as int64.
INT_FORMAT_RANGES = {
    "i8": (-(2**7), 2**7 - 1),
    "i16": (-(2**15), 2**15 - 1),
    "i32": (-(2**31), 2**31 - 1),
    "i64": (-(2**63), 2**63 - 1),
    "i128": (-(2**63), 2**63 - 1),
    "u8": (0, 2**8 - 1),
    "u16": (0, 2**16 - 1),
    "u32": (0, 2**32 - 1),
    "u64": (0, 2**63 - 1),
    "u128": (0, 2**63 - 1),
}
_STRING_FORMATS = {"email", "uuid", "uri", "hostname", "ipv4", "ipv6"}
_NUMERIC_KEYWORDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
_TEMPORAL_FORMATS = {"date": "date", "timestamp": "date-time", "time": "time"}


def _field_schema(f: ContractField) -> dict[str, Any]:
    schema: dict[str, Any]
    if f.kind == "string":
        schema = {"type": "string"}
        schema.update(
            {k: f.options[k] for k in ("minLength", "maxLength", "pattern") if k in f.options}
        )
        if f.options.get("format") in _STRING_FORMATS:
            schema["format"] = f.options["format"]
    elif f.kind in _TEMPORAL_FORMATS:
        schema = {"type": "string", "format": _TEMPORAL_FORMATS[f.kind]}
    elif f.kind in ("integer", "number"):
        schema = {"type": f.kind}
        schema.update({k: f.options[k] for k in _NUMERIC_KEYWORDS if k in f.options})
    elif f.kind == "boolean":
        schema = {"type": "boolean"}
    elif f.kind == "object":
        schema = {"type": "object"}
        if f.fields:
            schema["properties"] = {child.name: _field_schema(child) for child in f.fields}
            schema["required"] = [c.name for c in f.fields if c.required or c.primary_key]
    elif f.kind == "array":
        schema = {"type": "array"}
        if f.items is not None and f.items.kind:
            schema["items"] = _field_schema(f.items)
    else:
        return {}
    if not (f.required or f.primary_key):
        schema["type"] = [schema["type"], "null"]
    return schema


def singer_schema(table: ContractTable) -> dict[str, Any]:
    """The JSON Schema a SCHEMA message carries for this table's stream."""
    return {
        "type": "object",
        "properties": {f.name: _field_schema(f) for f in table.fields},
        "required": table.required_fields,
    }


def _narrowed(arrow_type: pa.DataType, f: ContractField) -> pa.DataType:
    """Apply the integer/float width formats that JSON Schema cannot say."""
    if f.kind == "integer" and f.options.get("format") in INT32_FORMATS:
        return pa.int32()
    if f.kind == "number" and f.options.get("format") == "f32":
        return pa.float32()
    if pa.types.is_struct(arrow_type) and f.fields:
        by_name = {c.name: c for c in f.fields}
        return pa.struct(
            [child.with_type(_narrowed(child.type, by_name[child.name])) for child in arrow_type]
        )
    if pa.types.is_list(arrow_type) and f.items is not None:
        element = arrow_type.value_field
        return pa.list_(element.with_type(_narrowed(element.type, f.items)))
    return arrow_type


def arrow_schema(table: ContractTable) -> pa.Schema:
    """The Arrow schema good rows are cast to; its Iceberg schema follows pyiceberg's mapping."""
    base = json_schema_to_arrow(singer_schema(table), table.required_fields)
    by_name = {f.name: f for f in table.fields}
    return pa.schema([fld.with_type(_narrowed(fld.type, by_name[fld.name])) for fld in base])
