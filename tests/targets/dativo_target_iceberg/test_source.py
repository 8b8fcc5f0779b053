"""The target's input: prompt partial reads from a pipe, read ahead while the caller is busy."""

from __future__ import annotations

import io
import os
import threading
import time

import pytest

from dativo_target_iceberg.source import AvailableReader, ReadAhead


@pytest.fixture()
def pipe():
    """A pipe whose write end each test closes; the read end is closed once read to its end,
    so no reader thread is left to read a later test's pipe that reuses the descriptor."""
    read_fd, write_fd = os.pipe()
    yield read_fd, write_fd
    os.close(read_fd)


def read_all(reader: io.RawIOBase, size: int) -> bytes:
    parts = []
    while part := reader.read(size):
        parts.append(part)
    return b"".join(parts)


def test_every_byte_arrives_in_order_whatever_the_read_size(pipe):
    read_fd, write_fd = pipe
    data = os.urandom(300_000)

    def write() -> None:
        for start in range(0, len(data), 7_000):
            os.write(write_fd, data[start : start + 7_000])
        os.close(write_fd)

    threading.Thread(target=write).start()
    assert read_all(ReadAhead(AvailableReader(read_fd), block_bytes=50_000, blocks=2), 1_000) == data


def test_a_slow_tap_s_line_is_returned_without_waiting_for_more(pipe):
    read_fd, write_fd = pipe
    reader = ReadAhead(AvailableReader(read_fd), block_bytes=1 << 20)
    os.write(write_fd, b'{"type":"STATE","value":{}}\n')
    started = time.monotonic()
    assert reader.read(1 << 20) == b'{"type":"STATE","value":{}}\n'
    assert time.monotonic() - started < 5  # a full block would never come: the writer is idle
    os.close(write_fd)
    assert read_all(reader, 1 << 20) == b""


def test_the_tap_keeps_writing_while_the_target_is_busy(pipe):
    read_fd, write_fd = pipe
    reader = ReadAhead(AvailableReader(read_fd), block_bytes=64 * 1024, blocks=8)
    written = threading.Event()
    data = b"x" * (4 * 64 * 1024)  # four times a default pipe buffer

    def write() -> None:
        os.write(write_fd, data)
        written.set()
        os.close(write_fd)

    threading.Thread(target=write).start()
    # Nothing is read by the caller here, as while a commit runs; the writer still finishes.
    assert written.wait(timeout=10)
    assert read_all(reader, 1 << 20) == data


def test_a_read_error_reaches_the_caller():
    class Broken(io.RawIOBase):
        def read(self, size: int = -1) -> bytes:
            raise OSError("input went away")

    with pytest.raises(OSError, match="input went away"):
        ReadAhead(Broken()).read(10)
