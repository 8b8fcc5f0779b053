"""Airbyte STATE <-> Singer STATE, so the next run hands the connector back what it emitted.

The Singer state value names the Airbyte state type and keeps the connector's blobs verbatim:

- STREAM: ``{"airbyte_state_type": "STREAM", "bookmarks": {stream_id: {"stream_descriptor":
  ..., "stream_state": ...}}}``; each Airbyte message updates one stream, streams not read in
  this run keep their last state.
- GLOBAL: ``{"airbyte_state_type": "GLOBAL", "global": {"shared_state": ..., "stream_states":
  [...]}}``; each Airbyte message replaces the whole value.
- LEGACY: ``{"airbyte_state_type": "LEGACY", "data": {...}}``.

Per-message statistics (sourceStats, destinationStats) describe one checkpoint, not the
position, so they are not kept.
"""

from __future__ import annotations

import copy
from typing import Any

from dativo_core.airbyte.catalog import singer_stream_id
from dativo_core.airbyte.errors import ConnectorError

STATE_TYPE_KEY = "airbyte_state_type"


def _bad_state(problem: str) -> ConnectorError:
    return ConnectorError(
        f"state cannot be handed to the connector: {problem}; use a state emitted by "
        "tap-airbyte, or no state for a full sync",
        failure_type="config_error",
    )


def connector_state(value: dict[str, Any] | None) -> Any:
    """The `--state` document the connector expects, from a Singer state value (None: no state)."""
    if not value:
        return None
    kind = value.get(STATE_TYPE_KEY)
    if kind == "STREAM":
        bookmarks = value.get("bookmarks")
        if not isinstance(bookmarks, dict):
            raise _bad_state("a STREAM state needs 'bookmarks' as an object")
        return [{"type": "STREAM", "stream": stream} for stream in bookmarks.values()]
    if kind == "GLOBAL":
        if not isinstance(value.get("global"), dict):
            raise _bad_state("a GLOBAL state needs 'global' as an object")
        return [{"type": "GLOBAL", "global": value["global"]}]
    if kind == "LEGACY":
        return value.get("data") or {}
    raise _bad_state(f"'{STATE_TYPE_KEY}' is {kind!r}, expected STREAM, GLOBAL or LEGACY")


class StateTracker:
    """Folds the connector's STATE messages into the Singer state value of the run so far."""

    def __init__(self, initial: dict[str, Any] | None = None) -> None:
        self._value: dict[str, Any] = copy.deepcopy(initial) if initial else {}

    @property
    def value(self) -> dict[str, Any]:
        return self._value

    def update(self, state: dict[str, Any]) -> dict[str, Any]:
        """Apply one AirbyteStateMessage; the new Singer state value."""
        kind = state.get("type") or ("LEGACY" if "data" in state else None)
        if kind == "STREAM":
            stream = state.get("stream") or {}
            descriptor = stream.get("stream_descriptor") or {}
            if "name" not in descriptor:
                raise ConnectorError(
                    "the connector sent a STREAM state without stream_descriptor.name",
                    failure_type="system_error",
                )
            key = singer_stream_id(descriptor["name"], descriptor.get("namespace"))
            bookmarks = self._value.get("bookmarks") if self._value.get(STATE_TYPE_KEY) == "STREAM" else None
            self._value = {
                STATE_TYPE_KEY: "STREAM",
                "bookmarks": {**(bookmarks or {}), key: stream},
            }
        elif kind == "GLOBAL":
            self._value = {STATE_TYPE_KEY: "GLOBAL", "global": state.get("global") or {}}
        elif kind == "LEGACY":
            self._value = {STATE_TYPE_KEY: "LEGACY", "data": state.get("data") or {}}
        else:
            raise ConnectorError(
                f"the connector sent a STATE of unknown type {kind!r}", failure_type="system_error"
            )
        return self._value
