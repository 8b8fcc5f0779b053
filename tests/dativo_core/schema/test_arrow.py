import pyarrow as pa
import pytest

from dativo_core.schema.arrow import (
    TIMESTAMP_TYPE,
    arrow_to_json_schema,
    holds_json_text,
    json_schema_to_arrow,
    json_schema_to_arrow_type,
)


@pytest.mark.parametrize(
    ("schema", "arrow_type", "as_json"),
    [
        ({"type": "integer"}, pa.int64(), False),
        ({"type": ["null", "number"]}, pa.float64(), False),
        ({"type": ["integer", "number", "null"]}, pa.float64(), False),
        ({"type": "boolean"}, pa.bool_(), False),
        ({"type": "string"}, pa.string(), False),
        ({"type": "string", "format": "date-time"}, TIMESTAMP_TYPE, False),
        ({"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]}, TIMESTAMP_TYPE, False),
        ({"type": "string", "format": "date"}, pa.date32(), False),
        ({"type": "string", "format": "time"}, pa.time64("us"), False),
        ({"type": "object", "properties": {"a": {"type": "integer"}}}, pa.struct([("a", pa.int64())]), False),
        ({"type": "array", "items": {"type": "string"}}, pa.list_(pa.field("element", pa.string())), False),
        ({"type": "object"}, pa.string(), True),
        ({"type": "array"}, pa.string(), True),
        ({}, pa.string(), True),
        ({"type": ["string", "integer"]}, pa.string(), True),
        ({"anyOf": [{"type": "string", "format": "date-time"}, {"type": ["string", "null"]}]}, pa.string(), False),
        ({"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date"}]}, pa.date32(), False),
    ],
)
def test_json_schema_to_arrow_type(schema, arrow_type, as_json):
    assert json_schema_to_arrow_type(schema) == (arrow_type, as_json)


def test_stream_schema_required_and_json_fields():
    schema = json_schema_to_arrow(
        {"properties": {"id": {"type": "integer"}, "blob": {"type": "object"}}}, required=["id"]
    )
    assert not schema.field("id").nullable and schema.field("blob").nullable
    assert holds_json_text(schema.field("blob")) and not holds_json_text(schema.field("id"))


def test_arrow_back_to_json_schema():
    arrow_schema = pa.schema([("id", pa.int64()), ("ts", pa.timestamp("s")), ("d", pa.date32()),
                              ("ok", pa.bool_()), ("x", pa.float32()), ("tags", pa.list_(pa.string()))])
    props = arrow_to_json_schema(arrow_schema)["properties"]
    assert props["id"] == {"type": ["integer", "null"]}
    assert props["ts"] == {"type": ["string", "null"], "format": "date-time"}
    assert props["d"]["format"] == "date" and props["ok"]["type"][0] == "boolean"
    assert props["x"]["type"][0] == "number" and props["tags"]["items"] == {"type": ["string", "null"]}
    # and the mapping is stable through a round trip
    again = json_schema_to_arrow(arrow_to_json_schema(arrow_schema))
    assert again.field("ts").type == TIMESTAMP_TYPE and again.field("tags").type.value_type == pa.string()
