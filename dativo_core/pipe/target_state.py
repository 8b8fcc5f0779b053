"""The target's stdout: every line is a state the target has committed; the last one is saved.

A Singer target writes a state value only after every record before it is durably loaded, so
saving each one as it arrives is always safe, and a crash at any moment leaves the newest
committed state on disk. Lines that arrive together are coalesced: only the last is written.
Both a bare state value and a `{"type": "STATE", "value": ...}` message are accepted.
"""

from __future__ import annotations

import os
import threading
from typing import Any, Protocol

import orjson

from dativo_core.pipe.console import Console
from dativo_core.state.errors import StateError

_READ_BYTES = 64 * 1024
_WARN_AT_MOST = 5


class StateSink(Protocol):
    def write(self, value: dict[str, Any]) -> None: ...


class TargetStateReader:
    def __init__(self, fd: int, sink: StateSink, console: Console, target_name: str) -> None:
        self._fd = fd
        self._sink = sink
        self._console = console
        self._target_name = target_name
        self.last_state: dict[str, Any] | None = None
        self.states_received = 0
        self.ignored_lines = 0
        self.save_error: StateError | None = None
        self._thread = threading.Thread(target=self._run, name="target stdout", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        tail = b""
        while True:
            block = os.read(self._fd, _READ_BYTES)
            if not block:
                break
            *lines, tail = (tail + block).split(b"\n")
            self._take(lines)
        self._take([tail])

    def _take(self, lines: list[bytes]) -> None:
        newest = None
        for line in lines:
            state = self._state_of(line) if line.strip() else None
            if state is not None:
                newest = state
        if newest is None:
            return
        self.last_state = newest
        try:
            self._sink.write(newest)
        except StateError as exc:
            self.save_error = exc
            self._console.line(f"dativo pipe: {exc}")

    def _state_of(self, line: bytes) -> dict[str, Any] | None:
        value = parse_state_line(line)
        if value is not None:
            self.states_received += 1
            return value
        self.ignored_lines += 1
        if self.ignored_lines <= _WARN_AT_MOST:
            preview = line[:120].decode("utf-8", "replace")
            self._console.line(
                f"dativo pipe: ignored a line of {self._target_name}'s stdout that is not a "
                f"state (a JSON object): {preview!r}"
            )
        return None


def parse_state_line(line: bytes) -> dict[str, Any] | None:
    """The state value of one line of a target's stdout, or None when the line is not a state."""
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if isinstance(value, dict) and value.get("type") == "STATE":
        value = value.get("value")
    return value if isinstance(value, dict) else None
