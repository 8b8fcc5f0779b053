"""Input that returns what is available: large reads while a tap is fast, prompt ones when slow,
read ahead while the target commits."""

from __future__ import annotations

import io
import os
import queue
import select
import threading
from typing import BinaryIO

from dativo_core.os_pipe import widen_pipe

BLOCK_BYTES = 4 * 1024 * 1024  # larger blocks cost memory in the JSON parser, not time
READ_AHEAD_BLOCKS = 4  # 16 MiB: a third of a second of a fast tap, within the memory budget


class AvailableReader(io.RawIOBase):
    """Reads a file descriptor: blocks for the first bytes, then takes only what is ready.

    A plain buffered `read(n)` on a pipe waits for n bytes, which would hold a slow tap's
    STATE back for minutes; one `os.read` returns at most a pipe buffer (64 KiB), which would
    make batches tiny. This gathers ready data up to n bytes without waiting for more.
    """

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = 1 << 30
        parts = [os.read(self._fd, size)]
        total = len(parts[0])
        while parts[-1] and total < size and select.select([self._fd], [], [], 0)[0]:
            part = os.read(self._fd, size - total)
            parts.append(part)
            total += len(part)
        return b"".join(parts)


class ReadAhead(io.RawIOBase):
    """Reads `source` on a helper thread, up to `blocks` reads ahead of the caller.

    While the target writes and commits a batch (half a second for 500k rows) nobody would
    read its input, and the tap would stop on a full pipe. With the reads queued, the tap goes
    on producing meanwhile; memory stays bounded by `blocks` reads.
    """

    def __init__(self, source: io.RawIOBase, block_bytes: int = BLOCK_BYTES, blocks: int = READ_AHEAD_BLOCKS) -> None:
        super().__init__()
        self._reads: queue.Queue[bytes | BaseException] = queue.Queue(maxsize=blocks)
        self._rest = b""
        self._ended = False
        threading.Thread(target=self._fill, args=(source, block_bytes), name="read-ahead", daemon=True).start()

    def _fill(self, source: io.RawIOBase, block_bytes: int) -> None:
        try:
            while data := source.read(block_bytes):
                self._reads.put(data)
        except BaseException as exc:  # noqa: BLE001 - handed to the reading thread, which raises it
            self._reads.put(exc)
            return
        self._reads.put(b"")

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if not self._rest and not self._ended:
            item = self._reads.get()
            if isinstance(item, BaseException):
                raise item
            self._rest, self._ended = item, not item
        if size is None or size < 0 or size >= len(self._rest):
            data, self._rest = self._rest, b""
            return data
        data, self._rest = self._rest[:size], self._rest[size:]
        return data


def open_input(stream: BinaryIO) -> BinaryIO:
    """Read `stream` through its descriptor, widened if a pipe, when it has one; call before
    anything reads it."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):
        return stream  # an in-memory stream, as test runners pass
    widen_pipe(fd)
    return ReadAhead(AvailableReader(fd))  # type: ignore[return-value]
