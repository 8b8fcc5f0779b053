"""Input that returns what is available: large reads while a tap is fast, prompt ones when slow."""

from __future__ import annotations

import io
import os
import select
from typing import BinaryIO

BLOCK_BYTES = 4 * 1024 * 1024  # larger blocks cost memory in the JSON parser, not time


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


def open_input(stream: BinaryIO) -> BinaryIO:
    """Read `stream` through its descriptor when it has one; call before anything reads it."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):
        return stream  # an in-memory stream, as test runners pass
    return AvailableReader(fd)  # type: ignore[return-value]
