"""The kind a CSV column is read as, from its catalog property."""

from __future__ import annotations

import pytest

from dativo_core.schema.csv_kinds import Kind, _arrow_kind, _plain_kind, kind_from_json_schema

PROPERTIES = [
    ({"type": "integer"}, Kind.INTEGER),
    ({"type": ["integer", "null"]}, Kind.INTEGER),
    ({"type": ["null", "number"]}, Kind.NUMBER),
    ({"type": "boolean"}, Kind.BOOLEAN),
    ({"type": ["string", "null"], "format": "date-time"}, Kind.DATE_TIME),
    ({"type": "string", "format": "date"}, Kind.DATE),
    ({"type": "string", "format": "time"}, Kind.STRING),
    ({"type": "string", "format": "email"}, Kind.STRING),
    ({"type": ["string", "null"], "description": "a name"}, Kind.STRING),
    ({"type": "integer", "minimum": 0}, Kind.INTEGER),
    ({"type": "object"}, Kind.STRING),
    ({"type": "array", "items": {"type": "integer"}}, Kind.STRING),
    ({"type": ["integer", "number"]}, Kind.NUMBER),
    ({"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]}, Kind.DATE),
    ({}, Kind.STRING),
]


@pytest.mark.parametrize(("prop", "kind"), PROPERTIES)
def test_kind_of_a_catalog_property(prop: dict, kind: Kind) -> None:
    assert kind_from_json_schema(prop) == kind


@pytest.mark.parametrize(("prop", "kind"), PROPERTIES)
def test_plain_properties_read_without_pyarrow_as_the_arrow_mapping_reads_them(prop: dict, kind: Kind) -> None:
    plain = _plain_kind(prop)
    assert plain is None or plain == _arrow_kind(prop)
