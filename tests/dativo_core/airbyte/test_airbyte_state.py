"""Airbyte STATE -> Singer STATE -> the `--state` document of the next run, exactly."""

from __future__ import annotations

import json

import pytest

from dativo_core.airbyte.errors import ConnectorError
from dativo_core.airbyte.state import StateTracker, connector_state


def _stream_state(name: str, cursor: str, namespace: str | None = None) -> dict:
    descriptor = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {
        "type": "STREAM",
        "stream": {"stream_descriptor": descriptor, "stream_state": {"updated_at": cursor}},
        "sourceStats": {"recordCount": 10.0},
    }


def _through_json(value: dict) -> dict:
    return json.loads(json.dumps(value))


def test_stream_states_accumulate_and_round_trip() -> None:
    previous = StateTracker()
    previous.update(_stream_state("orders", "2024-01-01"))
    tracker = StateTracker(_through_json(previous.value))
    tracker.update(_stream_state("users", "2024-01-01"))
    tracker.update(_stream_state("users", "2024-02-01"))
    value = tracker.update(_stream_state("events", "2024-03-01", namespace="public"))

    assert sorted(value["bookmarks"]) == ["orders", "public-events", "users"]
    handed_back = connector_state(_through_json(value))
    assert handed_back == [
        {"type": "STREAM", "stream": {"stream_descriptor": {"name": "orders"},
                                      "stream_state": {"updated_at": "2024-01-01"}}},
        {"type": "STREAM", "stream": {"stream_descriptor": {"name": "users"},
                                      "stream_state": {"updated_at": "2024-02-01"}}},
        {"type": "STREAM", "stream": {"stream_descriptor": {"name": "events", "namespace": "public"},
                                      "stream_state": {"updated_at": "2024-03-01"}}},
    ]


def test_global_state_replaces_and_round_trips() -> None:
    tracker = StateTracker()
    first = {"shared_state": {"lsn": 1}, "stream_states": []}
    second = {
        "shared_state": {"lsn": 7},
        "stream_states": [{"stream_descriptor": {"name": "t"}, "stream_state": {"pk": 3}}],
    }
    tracker.update({"type": "GLOBAL", "global": first})
    value = tracker.update({"type": "GLOBAL", "global": second})
    assert connector_state(_through_json(value)) == [{"type": "GLOBAL", "global": second}]


def test_legacy_state_round_trips_with_or_without_type() -> None:
    tracker = StateTracker()
    tracker.update({"data": {"users": {"cursor": 1}}})
    value = tracker.update({"type": "LEGACY", "data": {"users": {"cursor": 2}}})
    assert connector_state(_through_json(value)) == {"users": {"cursor": 2}}


def test_no_state_means_no_state_file() -> None:
    assert connector_state(None) is None
    assert connector_state({}) is None


def test_foreign_state_is_refused_with_a_hint() -> None:
    with pytest.raises(ConnectorError, match="airbyte_state_type") as caught:
        connector_state({"bookmarks": {"users": {"replication_key_value": 3}}})
    assert caught.value.failure_type == "config_error"


def test_stream_state_without_name_is_a_connector_error() -> None:
    with pytest.raises(ConnectorError, match="stream_descriptor"):
        StateTracker().update({"type": "STREAM", "stream": {"stream_state": {}}})
