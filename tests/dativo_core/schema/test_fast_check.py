"""The quick JSON Schema pass: it accepts valid data untouched and leaves the rest to jsonschema."""

from __future__ import annotations

from dativo_core.schema.fast_check import passes_quickly

SCHEMA = {"type": "object", "properties": {"n": {"type": "integer", "default": 5}}, "required": ["m"]}


def test_valid_data_passes_and_gets_no_defaults():
    data = {"m": 1}
    assert passes_quickly(SCHEMA, data)
    assert data == {"m": 1}


def test_invalid_data_and_uncompilable_schemas_go_to_jsonschema():
    assert not passes_quickly(SCHEMA, {"m": 1, "n": "a"})
    assert not passes_quickly({"type": "no-such-type"}, {})
