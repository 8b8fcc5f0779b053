"""Copying the tap's stdout to the target's stdin through the parent, cheaply.

Blocks of up to `block_bytes` are moved with `os.read`/`os.write` (the GIL is released while they
wait) and only whole lines are passed on: the unfinished last line of a block waits for the rest.
So when a tap dies in the middle of a line, the target never sees half a message; the runner
decides whether a final line without a newline is passed on (`write_tail`), which it does only
when the tap exited successfully.
"""

from __future__ import annotations

import os

from dativo_core.pipe.counting import HEAD_BYTES, RecordCounter

DEFAULT_BLOCK_BYTES = 1024 * 1024


class Relay:
    def __init__(
        self,
        source_fd: int,
        sink_fd: int,
        counter: RecordCounter,
        block_bytes: int = DEFAULT_BLOCK_BYTES,
    ) -> None:
        self.source_fd = source_fd
        self.sink_fd = sink_fd
        self.counter = counter
        self.block_bytes = block_bytes
        self.bytes_relayed = 0
        self.sink_broken = False
        self._pending: list[bytes] = []
        self._pending_head = b""

    def run(self) -> None:
        """Relay until the source ends or the sink is closed (the target exited)."""
        try:
            while True:
                block = os.read(self.source_fd, self.block_bytes)
                if not block:
                    return
                self._relay_block(block)
        except BrokenPipeError:
            self.sink_broken = True

    def write_tail(self) -> None:
        """Pass on a final line that has no newline; call after `run` when the source succeeded."""
        if not self._pending:
            return
        self.counter.count_line_start(self._pending_head)
        try:
            for part in self._pending:
                self._write(part)
        except BrokenPipeError:
            self.sink_broken = True
        self._pending.clear()

    def _relay_block(self, block: bytes) -> None:
        cut = block.rfind(b"\n")
        if cut < 0:
            self._hold(block)
            return
        if self._pending:
            self.counter.count_line_start(self._pending_head + block[:HEAD_BYTES])
            for part in self._pending:
                self._write(part)
            self._pending.clear()
        else:
            self.counter.count_line_start(block[:HEAD_BYTES])
        self.counter.count_following_lines(block, 0, cut + 1)
        self._write(memoryview(block)[: cut + 1])
        if cut + 1 < len(block):
            self._hold(block[cut + 1 :])

    def _hold(self, part: bytes) -> None:
        if not self._pending:
            self._pending_head = part[:HEAD_BYTES]
        elif len(self._pending_head) < HEAD_BYTES:
            self._pending_head += part[: HEAD_BYTES - len(self._pending_head)]
        self._pending.append(part)

    def _write(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self.sink_fd, view)
            self.bytes_relayed += written
            view = view[written:]
