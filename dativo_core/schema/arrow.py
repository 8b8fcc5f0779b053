"""Singer JSON Schema <-> Arrow types.

The mapping (documented in docs/type-mapping.md):

| JSON Schema                                   | Arrow                      | Iceberg      |
|-----------------------------------------------|----------------------------|--------------|
| integer                                       | int64                      | long         |
| number                                        | float64                    | double       |
| boolean                                       | bool                       | boolean      |
| string                                        | string                     | string       |
| string, format date-time                      | timestamp[us, tz=UTC]      | timestamptz  |
| string, format date                           | date32                     | date         |
| string, format time                           | time64[us]                 | time         |
| object with properties                        | struct                     | struct       |
| array with items                              | list                       | list         |
| anything else (no type, object without        | string holding JSON text,  | string       |
| properties, unions of several non-null types) | field metadata json=true   |              |

`null` in a type list, or in an anyOf/oneOf, makes the field optional; integer with number
widens to number; several string alternatives are one string (formatted only if all agree). Fields are nullable unless named in `required`.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

JSON_TEXT_METADATA = {b"dativo.encoding": b"json"}
TIMESTAMP_TYPE = pa.timestamp("us", tz="UTC")


def _type_names(schema: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
    """Split a schema into its non-null alternatives and whether null is allowed."""
    nullable = False
    alternatives: list[dict[str, Any]] = []
    for key in ("anyOf", "oneOf"):
        if key in schema:
            for sub in schema[key]:
                subs, sub_null = _type_names(sub)
                alternatives.extend(subs)
                nullable = nullable or sub_null
            return alternatives, nullable
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind] if kind else []
    if "null" in kinds:
        nullable = True
    for name in kinds:
        if name != "null":
            alternatives.append({**schema, "type": name})
    if not kinds:
        alternatives.append(schema)
    return alternatives, nullable


def _merge_alternatives(alternatives: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """integer|number is a number; alternatives that are all strings are one string, keeping a
    format only when they all agree on it (Salesforce-style date-time-or-string fields)."""
    names = {a.get("type") for a in alternatives}
    if names == {"integer", "number"}:
        return [{"type": "number"}]
    if names == {"string"} and len(alternatives) > 1:
        formats = {a.get("format") for a in alternatives}
        return [{"type": "string", "format": formats.pop()} if len(formats) == 1 else {"type": "string"}]
    return alternatives


def json_schema_to_arrow_type(schema: dict[str, Any]) -> tuple[pa.DataType, bool]:
    """The Arrow type of one property, and whether it holds JSON text."""
    alternatives = _merge_alternatives(_type_names(schema)[0])
    if len(alternatives) != 1:
        return pa.string(), True
    sub = alternatives[0]
    kind = sub.get("type")
    if kind == "integer":
        return pa.int64(), False
    if kind == "number":
        return pa.float64(), False
    if kind == "boolean":
        return pa.bool_(), False
    if kind == "string":
        fmt = sub.get("format")
        if fmt == "date-time":
            return TIMESTAMP_TYPE, False
        if fmt == "date":
            return pa.date32(), False
        if fmt == "time":
            return pa.time64("us"), False
        return pa.string(), False
    if kind == "object" and sub.get("properties"):
        return pa.struct(_fields(sub["properties"], sub.get("required", []))), False
    if kind == "array" and isinstance(sub.get("items"), dict) and sub["items"]:
        item_type, item_json = json_schema_to_arrow_type(sub["items"])
        item = pa.field("element", item_type, metadata=JSON_TEXT_METADATA if item_json else None)
        return pa.list_(item), False
    return pa.string(), True


def _fields(properties: dict[str, Any], required: list[str]) -> list[pa.Field]:
    out = []
    for name, prop in properties.items():
        arrow_type, as_json = json_schema_to_arrow_type(prop if isinstance(prop, dict) else {})
        out.append(
            pa.field(
                name,
                arrow_type,
                nullable=name not in required,
                metadata=JSON_TEXT_METADATA if as_json else None,
            )
        )
    return out


def json_schema_to_arrow(schema: dict[str, Any], required: list[str] | None = None) -> pa.Schema:
    """An Arrow schema for a stream's JSON Schema; `required` fields are not nullable."""
    return pa.schema(_fields(schema.get("properties") or {}, list(required or [])))


def holds_json_text(field: pa.Field) -> bool:
    return bool(field.metadata and field.metadata.get(b"dativo.encoding") == b"json")


def arrow_type_to_json_schema(arrow_type: pa.DataType, nullable: bool = True) -> dict[str, Any]:
    """The JSON Schema of an Arrow type, as a tap reading columnar data announces it."""

    def typed(name: str, **extra: Any) -> dict[str, Any]:
        return {"type": [name, "null"] if nullable else name, **extra}

    if pa.types.is_integer(arrow_type):
        return typed("integer")
    if pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
        return typed("number")
    if pa.types.is_boolean(arrow_type):
        return typed("boolean")
    if pa.types.is_timestamp(arrow_type):
        return typed("string", format="date-time")
    if pa.types.is_date(arrow_type):
        return typed("string", format="date")
    if pa.types.is_time(arrow_type):
        return typed("string", format="time")
    if pa.types.is_struct(arrow_type):
        props = {f.name: arrow_type_to_json_schema(f.type, f.nullable) for f in arrow_type}
        return typed("object", properties=props)
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return typed("array", items=arrow_type_to_json_schema(arrow_type.value_type))
    if pa.types.is_null(arrow_type):
        return {"type": ["string", "null"]}
    return typed("string")


def arrow_to_json_schema(schema: pa.Schema) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {f.name: arrow_type_to_json_schema(f.type, f.nullable) for f in schema},
    }
