"""The read path: Airbyte messages in, Singer messages out, with RECORDs rewritten as bytes.

A connector's RECORD line ``{"type":"RECORD","record":{"stream":"s","data":{...},"emitted_at":N}}``
becomes ``{"type":"RECORD","stream":"s","record":{...}}`` by slicing: the data object is passed on
as the connector encoded it, never decoded. Lines in any other shape (extra keys, escaped stream
names, streams with deselected properties) take the decoding path, which gives the same output.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from dativo_core.airbyte.catalog import singer_stream_id
from dativo_core.airbyte.errors import ConnectorError
from dativo_core.airbyte.events import ConnectorEvents
from dativo_core.airbyte.state import StateTracker
from dativo_core.singer.catalog import Catalog, CatalogEntry
from dativo_core.singer.writer import SingerWriter

_RECORD_START = b'{"type":"RECORD","record":{'
_HEAD_AT = len(_RECORD_START)
_DATA_KEY = b'","data":'
_DATA_AT = len(_DATA_KEY)
_EMITTED_KEY = b',"emitted_at":'
_EMITTED_AT = len(_EMITTED_KEY)
_RECORD_END = b"}\n"
_OPEN_BRACE = ord("{")
_CLOSE_BRACE = ord("}")
_HEAD = re.compile(rb'(?:"namespace":"([^"\\]*)",)?"stream":"([^"\\]*)')
_NUMBER = re.compile(rb"-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")

log = logging.getLogger("dativo.airbyte.relay")


@dataclass(slots=True)
class _FastStream:
    """A stream whose records can be rewritten as bytes: its Singer envelope start and count."""

    prefix: bytes
    count: int = 0


@dataclass(frozen=True, slots=True)
class _SelectedStream:
    entry: CatalogEntry
    keep: frozenset[str] | None  # None: every property is selected


class ReadRelay:
    """Relays one connector read into a SingerWriter, in order, flushing before each STATE."""

    def __init__(
        self,
        catalog: Catalog,
        writer: SingerWriter,
        events: ConnectorEvents,
        state: StateTracker,
    ) -> None:
        self._writer = writer
        self._events = events
        self._state = state
        self._selected: dict[str, _SelectedStream] = {}
        for entry in catalog.selected_streams():
            selected = entry.selected_properties()
            every = len(selected) == len(entry.schema.get("properties", {}))
            self._selected[entry.tap_stream_id] = _SelectedStream(
                entry, None if every else frozenset(selected)
            )
        self._fast: dict[bytes, _FastStream | None] = {}
        self._decoded_counts: dict[str, int] = {}

    def records_read(self, stream: str) -> int:
        fast = sum(
            f.count
            for head, f in self._fast.items()
            if f is not None and self._head_stream(head) == stream
        )
        return fast + self._decoded_counts.get(stream, 0)

    def counts(self) -> dict[str, int]:
        return {stream: self.records_read(stream) for stream in self._selected}

    @staticmethod
    def _head_stream(head: bytes) -> str | None:
        match = _HEAD.fullmatch(head)
        if match is None:
            return None
        namespace, name = match.groups()
        return singer_stream_id(name.decode(), namespace.decode() if namespace else None)

    def _learn(self, head: bytes) -> _FastStream | None:
        stream = self._head_stream(head)
        selected = self._selected.get(stream) if stream is not None else None
        fast = None
        if selected is not None and selected.keep is None:
            prefix = b'{"type":"RECORD","stream":' + orjson.dumps(stream) + b',"record":'
            fast = _FastStream(prefix)
        self._fast[head] = fast
        return fast

    def relay(self, chunks: Iterable[list[bytes]]) -> None:
        fast_streams = self._fast
        write_raw = self._writer.write_raw
        for lines in chunks:
            out: list[bytes] = []
            for line in lines:
                if line.startswith(_RECORD_START) and line.endswith(b"}}"):
                    cut = line.find(_DATA_KEY, _HEAD_AT)
                    if cut > 0:
                        head = line[_HEAD_AT:cut]
                        fast = fast_streams[head] if head in fast_streams else self._learn(head)
                        end = line.rfind(_EMITTED_KEY)
                        if (
                            fast is not None
                            and end > cut
                            and line[cut + _DATA_AT] == _OPEN_BRACE
                            and line[end - 1] == _CLOSE_BRACE
                            and _NUMBER.fullmatch(line, end + _EMITTED_AT, len(line) - 2)
                        ):
                            out.append(fast.prefix)
                            out.append(line[cut + _DATA_AT : end])
                            out.append(_RECORD_END)
                            fast.count += 1
                            continue
                if not line.strip():
                    continue
                if out:
                    write_raw(b"".join(out))
                    out = []
                self._decoded(line)
            if out:
                write_raw(b"".join(out))

    def _decoded(self, line: bytes) -> None:
        try:
            message = orjson.loads(line)
        except orjson.JSONDecodeError:
            # Airbyte's own platform also passes non-protocol output on as log text.
            self._events.connector_log.info("%s", line.decode(errors="replace"))
            return
        if not isinstance(message, dict):
            self._events.connector_log.info("%s", line.decode(errors="replace"))
            return
        kind = message.get("type")
        if kind == "RECORD":
            self._record(message.get("record") or {})
        elif kind == "STATE":
            self._writer.write_state(self._state.update(message.get("state") or {}))
        elif not self._events.handle(message):
            log.debug("ignored %s message during read", kind)

    def _record(self, record: dict[str, Any]) -> None:
        stream = singer_stream_id(str(record.get("stream")), record.get("namespace"))
        selected = self._selected.get(stream)
        if selected is None:
            raise ConnectorError(
                f"the connector sent a record for stream {stream!r}, which is not selected "
                f"in the catalog (selected: {', '.join(self._selected) or 'none'})",
                failure_type="system_error",
                connector=self._events.connector,
            )
        data = record.get("data") or {}
        if selected.keep is not None:
            data = {key: value for key, value in data.items() if key in selected.keep}
        self._writer.write_record(stream, data)
        self._decoded_counts[stream] = self._decoded_counts.get(stream, 0) + 1
