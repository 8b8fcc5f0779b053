"""The pipe protocol between a sandboxed reader and the tap: typed, length-prefixed frames.

RECORD lines travel already encoded, so the parent only copies bytes to stdout; bookmarks
travel in their own frames after the records they cover, so the parent emits STATE only for
records it has written.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import BinaryIO

_HEADER = struct.Struct(">cQQ")  # kind, payload size, record count

STREAM = b"S"  # JSON {"stream": name}: records of this stream follow
RECORDS = b"R"  # RECORD lines; the header carries how many
BOOKMARK = b"B"  # JSON {"stream": name, "value": {...}}
CATALOG = b"C"  # JSON list of discovered streams
ERROR = b"E"  # JSON {"kind": ..., "message": ..., "detail": ...}
DONE = b"Z"  # empty: the job finished


class TruncatedFrame(Exception):
    """The pipe ended inside a frame: the writer died mid-write."""


def write_frame(
    fp: BinaryIO, kind: bytes, payload: bytes = b"", count: int = 0
) -> None:
    fp.write(_HEADER.pack(kind, len(payload), count))
    fp.write(payload)


def _read_exactly(fp: BinaryIO, size: int) -> bytes:
    data = fp.read(size)
    if len(data) != size:
        raise TruncatedFrame(f"expected {size} bytes, got {len(data)}")
    return data


def read_frames(fp: BinaryIO) -> Iterator[tuple[bytes, bytes, int]]:
    """Frames until a clean end of pipe; a pipe cut inside a frame raises TruncatedFrame."""
    while True:
        header = fp.read(_HEADER.size)
        if not header:
            return
        if len(header) != _HEADER.size:
            raise TruncatedFrame("the pipe ended inside a frame header")
        kind, size, count = _HEADER.unpack(header)
        yield kind, _read_exactly(fp, size), count
