"""One buffered writer for Singer output: bytes in, bytes out, no print per record."""

from __future__ import annotations

import sys
from typing import Any, BinaryIO

import orjson

from dativo_core.os_pipe import widen_pipe
from dativo_core.singer.messages import Message, StateMessage, message_to_bytes

DEFAULT_BUFFER_BYTES = 1024 * 1024
_DUMP_OPTIONS = orjson.OPT_APPEND_NEWLINE


def _stdout_binary() -> BinaryIO:
    # Looked up at write time: test runners swap sys.stdout for their own buffer.
    sys.stdout.flush()
    return sys.stdout.buffer


def _widen_if_stdout_pipe(fp: BinaryIO | None) -> None:
    target = fp if fp is not None else getattr(sys.stdout, "buffer", None)
    try:
        fd = target.fileno() if target is not None else -1
    except (OSError, ValueError, AttributeError):
        return
    if fd == 1:
        widen_pipe(fd)


class SingerWriter:
    """Buffers encoded lines and writes them in large blocks.

    STATE messages flush the buffer, so a checkpoint reaches the reader promptly.
    """

    def __init__(self, fp: BinaryIO | None = None, buffer_bytes: int = DEFAULT_BUFFER_BYTES):
        self._fp = fp
        self._buffer_bytes = buffer_bytes
        _widen_if_stdout_pipe(fp)
        self._parts: list[bytes] = []
        self._size = 0

    def write_raw(self, data: bytes) -> None:
        """Write already-encoded lines (each ending in a newline)."""
        self._parts.append(data)
        self._size += len(data)
        if self._size >= self._buffer_bytes:
            self.flush()

    def write(self, message: Message) -> None:
        self.write_raw(message_to_bytes(message))
        if isinstance(message, StateMessage):
            self.flush()

    def write_record(
        self, stream: str, record: dict[str, Any], time_extracted: str | None = None
    ) -> None:
        out: dict[str, Any] = {"type": "RECORD", "stream": stream, "record": record}
        if time_extracted is not None:
            out["time_extracted"] = time_extracted
        self.write_raw(orjson.dumps(out, option=_DUMP_OPTIONS))

    def write_state(self, value: dict[str, Any]) -> None:
        self.write_raw(orjson.dumps({"type": "STATE", "value": value}, option=_DUMP_OPTIONS))
        self.flush()

    def flush(self) -> None:
        if self._parts:
            fp = self._fp or _stdout_binary()
            # One part (a large block of lines) is written as it is, not copied by a join.
            fp.write(self._parts[0] if len(self._parts) == 1 else b"".join(self._parts))
            self._parts.clear()
            self._size = 0
            fp.flush()
        elif self._fp is not None:
            self._fp.flush()

    def __enter__(self) -> SingerWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.flush()
