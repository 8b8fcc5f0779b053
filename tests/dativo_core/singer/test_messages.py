import orjson
import pytest

from dativo_core.singer import (
    ActivateVersionMessage,
    BatchMessage,
    RecordMessage,
    SchemaMessage,
    SingerProtocolError,
    StateMessage,
    message_from_dict,
    message_to_bytes,
)

EXAMPLES = [
    {"type": "SCHEMA", "stream": "users", "schema": {"properties": {"id": {"type": "integer"}}},
     "key_properties": ["id"], "bookmark_properties": ["updated_at"]},
    {"type": "RECORD", "stream": "users", "record": {"id": 1}, "version": 3,
     "time_extracted": "2024-01-01T00:00:00+00:00"},
    {"type": "STATE", "value": {"bookmarks": {"users": {"id": 1}}}},
    {"type": "ACTIVATE_VERSION", "stream": "users", "version": 3},
    {"type": "BATCH", "stream": "users", "encoding": {"format": "jsonl", "compression": "gzip"},
     "manifest": ["file:///tmp/a.jsonl.gz"]},
]


@pytest.mark.parametrize("raw", EXAMPLES, ids=lambda r: r["type"])
def test_every_message_type_round_trips_through_bytes(raw):
    message = message_from_dict(raw, line=1)
    assert orjson.loads(message_to_bytes(message)) == raw
    assert message_to_bytes(message).endswith(b"\n")


def test_typed_fields():
    assert message_from_dict(EXAMPLES[0]).key_properties == ["id"]
    assert isinstance(message_from_dict(EXAMPLES[1]), RecordMessage)
    assert isinstance(message_from_dict(EXAMPLES[2]), StateMessage)
    assert message_from_dict(EXAMPLES[3]) == ActivateVersionMessage("users", 3)
    batch = message_from_dict(EXAMPLES[4])
    assert isinstance(batch, BatchMessage)
    assert (batch.format, batch.compression) == ("jsonl", "gzip")
    assert isinstance(message_from_dict({"type": "SCHEMA", "stream": "s", "schema": {}}), SchemaMessage)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"type": "RECORD", "record": {}}, "line 7: RECORD message needs 'stream'"),
        ({"type": "RECORD", "stream": "s", "record": [1]}, "line 7, stream 's': RECORD message needs 'record'"),
        ({"type": "NOPE"}, "line 7: unknown message type 'NOPE'"),
        ({"hello": 1}, "line 7: unknown message type None"),
        ([1, 2], "line 7: expected a JSON object, got list"),
        ({"type": "ACTIVATE_VERSION", "stream": "s", "version": True}, "needs 'version' as int"),
        ({"type": "SCHEMA", "stream": "s", "schema": {}, "key_properties": "id"}, "key_properties must be a list"),
        ({"type": "SCHEMA", "stream": 5, "schema": {}, "key_properties": "id"}, "line 7: key_properties must be"),
        ({"type": "RECORD", "stream": "s", "record": {}, "version": "3"}, "line 7, stream 's': RECORD message needs 'version' as int"),
        ({"type": "RECORD", "stream": "s", "record": {}, "version": 2.5}, "needs 'version' as int, got 2.5"),
        ({"type": "RECORD", "stream": "s", "record": {}, "time_extracted": 1}, "stream 's': RECORD message needs 'time_extracted' as str"),
    ],
)
def test_bad_messages_say_what_and_where(raw, expected):
    with pytest.raises(SingerProtocolError) as info:
        message_from_dict(raw, line=7)
    assert expected in str(info.value)
    assert info.value.line == 7
