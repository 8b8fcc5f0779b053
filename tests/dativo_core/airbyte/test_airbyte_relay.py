"""The read relay: records rewritten as bytes must equal a full decode/re-encode, in order."""

from __future__ import annotations

import io
import logging
from typing import Any

import orjson
import pytest

from dativo_core.airbyte.catalog import to_singer_catalog
from dativo_core.airbyte.errors import ConnectorError
from dativo_core.airbyte.events import ConnectorEvents
from dativo_core.airbyte.relay import ReadRelay
from dativo_core.airbyte.state import StateTracker
from dativo_core.singer.writer import SingerWriter


def _stream(name: str, namespace: str | None = None, props: tuple[str, ...] = ("id", "v")) -> dict:
    stream: dict[str, Any] = {
        "name": name,
        "json_schema": {"type": "object", "properties": {p: {} for p in props}},
        "supported_sync_modes": ["full_refresh"],
    }
    if namespace:
        stream["namespace"] = namespace
    return stream


STREAMS = [_stream("users"), _stream("events", "public"), _stream('we"ird'), _stream("narrow")]


def _record(stream: str, data: dict, namespace: str | None = None, **extra: Any) -> bytes:
    record: dict[str, Any] = {"stream": stream, "data": data, "emitted_at": 1700000000000}
    if namespace:
        record = {"namespace": namespace, **record}
    record.update(extra)
    return orjson.dumps({"type": "RECORD", "record": record})


def _singer(stream: str, data: dict) -> dict:
    return {"type": "RECORD", "stream": stream, "record": data}


def _relay(lines: list[bytes], chunk: int = 3) -> tuple[list[dict], ReadRelay, ConnectorEvents]:
    catalog = to_singer_catalog({"streams": STREAMS})
    catalog.get("narrow").set_metadata(("properties", "v"), selected=False)
    out = io.BytesIO()
    events = ConnectorEvents("fake")
    relay = ReadRelay(catalog, SingerWriter(out), events, StateTracker())
    relay.relay(lines[i : i + chunk] for i in range(0, len(lines), chunk))
    relay._writer.flush()
    return [orjson.loads(line) for line in out.getvalue().splitlines()], relay, events


TRICKY_DATA = [
    {"id": 1, "v": "plain"},
    {"id": 2, "v": {"emitted_at": 5}},
    {"id": 3, "v": '","data":{"x":1},"emitted_at":1}}'},
    {"id": 4, "v": "ünïcødé \u2028 \\ \" \n"},
    {"id": 5, "v": [{"a": {}}], "emitted_at": 9},
    {},
]


def test_records_of_every_shape_come_out_as_singer_records() -> None:
    lines = [_record("users", data) for data in TRICKY_DATA]
    lines += [
        _record("events", {"id": 7}, namespace="public"),
        _record('we"ird', {"id": 8}),
        _record("users", {"id": 9}, meta={"changes": []}),  # an extra key after emitted_at
        _record("narrow", {"id": 10, "v": "dropped"}),
        orjson.dumps({"type": "RECORD", "record": {"data": {"id": 11}, "stream": "users",
                                                   "emitted_at": 1.5}}),
    ]
    messages, relay, _ = _relay(lines)
    assert messages == [_singer("users", data) for data in TRICKY_DATA] + [
        _singer("public-events", {"id": 7}),
        _singer('we"ird', {"id": 8}),
        _singer("users", {"id": 9}),
        _singer("narrow", {"id": 10}),
        _singer("users", {"id": 11}),
    ]
    assert relay.counts() == {"users": 8, "public-events": 1, 'we"ird': 1, "narrow": 1}


def test_state_follows_the_records_it_covers_and_flushes() -> None:
    state = {"type": "STREAM", "stream": {"stream_descriptor": {"name": "users"},
                                          "stream_state": {"c": 2}}}
    lines = [
        _record("users", {"id": 1}),
        _record("users", {"id": 2}),
        orjson.dumps({"type": "STATE", "state": state}),
        _record("users", {"id": 3}),
    ]
    messages, _, _ = _relay(lines, chunk=10)
    assert [m["type"] for m in messages] == ["RECORD", "RECORD", "STATE", "RECORD"]
    assert messages[2]["value"]["bookmarks"]["users"]["stream_state"] == {"c": 2}


def test_side_messages_are_logged_and_errors_kept(caplog: pytest.LogCaptureFixture) -> None:
    lines = [
        orjson.dumps({"type": "LOG", "log": {"level": "WARN", "message": "slow api"}}),
        b"not json at all",
        orjson.dumps({"type": "TRACE", "trace": {"type": "ESTIMATE", "emitted_at": 1,
                                                 "estimate": {"name": "users", "type": "STREAM",
                                                              "row_estimate": 42}}}),
        _record("users", {"id": 1}),
        orjson.dumps({"type": "TRACE", "trace": {"type": "STREAM_STATUS", "emitted_at": 2,
                                                 "stream_status": {"stream_descriptor": {"name": "users"},
                                                                   "status": "COMPLETE"}}}),
        orjson.dumps({"type": "TRACE", "trace": {"type": "ERROR", "emitted_at": 3,
                                                 "error": {"message": "token expired",
                                                           "failure_type": "config_error"}}}),
    ]
    with caplog.at_level(logging.INFO):
        messages, relay, events = _relay(lines)
    assert messages == [_singer("users", {"id": 1})]
    logged = {(r.name, r.levelno, r.getMessage()) for r in caplog.records}
    assert ("airbyte.fake", logging.WARNING, "slow api") in logged
    assert ("airbyte.fake", logging.INFO, "not json at all") in logged
    assert ("dativo.airbyte.progress", logging.INFO, "users: about 42 rows, ? bytes to read") in logged
    failure = events.failure(exit_code=1)
    assert failure is not None
    assert failure.failure_type == "config_error"
    assert str(failure) == "fake failed (config_error): token expired"


def test_record_of_an_unselected_stream_is_an_error() -> None:
    with pytest.raises(ConnectorError, match="'ghost', which is not selected"):
        _relay([_record("ghost", {"id": 1})])
