"""A stream's SCHEMA message checked and turned into the Arrow schema of its table."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import jsonschema
import pyarrow as pa

from dativo_core.schema.arrow import json_schema_to_arrow
from dativo_core.singer import SchemaMessage, SingerProtocolError


@dataclass(frozen=True)
class StreamSchema:
    stream: str
    arrow: pa.Schema  # named as the record's JSON keys
    key_properties: tuple[str, ...]
    # Record fields written to a column of another name (a type change kept beside the old one).
    columns: dict[str, str] = field(default_factory=dict)

    @property
    def table_arrow(self) -> pa.Schema:
        """The Arrow schema as the table names its columns."""
        return pa.schema([f.with_name(self.columns.get(f.name, f.name)) for f in self.arrow])

    def with_columns(self, columns: dict[str, str]) -> StreamSchema:
        return replace(self, columns=columns)


def stream_schema(message: SchemaMessage, line: int) -> StreamSchema:
    """Validate a SCHEMA message: a valid JSON Schema, with properties, holding its keys.

    Key properties become required columns (Iceberg identifier fields must be).
    """
    schema = message.schema
    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or None
        raise SingerProtocolError(
            f"invalid JSON Schema: {exc.message}", line=line, stream=message.stream, field=where,
            hint="The SCHEMA message's `schema` must be a valid JSON Schema",
        ) from None
    properties = schema.get("properties")
    if not isinstance(properties, dict) or not properties:
        raise SingerProtocolError(
            "schema has no properties, so the table would have no columns",
            line=line, stream=message.stream, field="properties",
            hint="Declare the record's fields under `properties`",
        )
    for key in message.key_properties:
        if key not in properties:
            raise SingerProtocolError(
                f"key property '{key}' is not among the schema's properties",
                line=line, stream=message.stream, field=key,
            )
    required = [*message.key_properties, *(schema.get("required") or [])]
    return StreamSchema(
        stream=message.stream,
        arrow=json_schema_to_arrow(schema, required=required),
        key_properties=tuple(message.key_properties),
    )
