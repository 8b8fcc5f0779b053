"""A child's stderr: forwarded to ours line by line with a prefix, its last lines kept for errors."""

from __future__ import annotations

import collections
import threading
from typing import BinaryIO

from dativo_core.pipe.console import Console

DEFAULT_TAIL_LINES = 20
MAX_LINE_BYTES = 64 * 1024
"""A longer stderr line is passed on, and kept, in pieces of this size: memory stays bounded
however much a child writes without a newline."""


class StderrTail:
    def __init__(
        self,
        stream: BinaryIO,
        prefix: str,
        console: Console,
        forward: bool = True,
        keep_lines: int = DEFAULT_TAIL_LINES,
    ) -> None:
        self._stream = stream
        self._prefix = prefix
        self._console = console
        self._forward = forward
        self._last: collections.deque[str] = collections.deque(maxlen=keep_lines)
        self._thread = threading.Thread(target=self._run, name=f"stderr {prefix}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    @property
    def last_lines(self) -> list[str]:
        return list(self._last)

    def _run(self) -> None:
        with self._stream:
            while raw := self._stream.readline(MAX_LINE_BYTES):
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                self._last.append(line)
                if self._forward:
                    self._console.line(f"{self._prefix} {line}")
