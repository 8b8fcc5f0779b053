"""Our stderr, shared by the threads of a pipe so their lines never interleave."""

from __future__ import annotations

import sys
import threading
from typing import TextIO


class Console:
    """Reentrant, because a signal handler may write while the main thread is writing."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._lock = threading.RLock()

    def line(self, text: str) -> None:
        with self._lock:
            self._stream.write(text + "\n")
            self._stream.flush()
