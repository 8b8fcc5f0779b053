"""The pipe protocol between a sandboxed reader and the tap: typed, length-prefixed frames.

The tap sends START once, then one JOB at a time, each answered by DONE or ERROR. RECORD lines
either go to the tap's stdout directly (the child writes them between WRITING and WRITTEN), or,
when the tap's output is no file descriptor, travel already encoded in RECORDS frames that the
tap copies out. Bookmarks travel in their own frames after the records they cover, and the child
waits for the tap's ACK after each bookmark and stream start, so a STATE (or SCHEMA) the tap
writes never interleaves with records, and covers only records already written.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

_HEADER = struct.Struct(">cQQ")  # kind, payload size, record count

# Tap to child.
START = b"T"  # JSON {"reader", "limits", "secrets", "sys_path", "parent_pid", "output_fd"}
JOB = b"J"  # JSON ReaderJob
ACK = b"A"  # empty: the SCHEMA or STATE asked for is written; go on

# Child to tap.
STREAM = b"S"  # JSON {"stream": name}: records of this stream follow (waits for ACK)
RECORDS = b"R"  # RECORD lines; the header carries how many
WRITING = b"W"  # empty, count = rows: the child is writing RECORD lines to the output itself
WRITTEN = b"D"  # empty: ... and has written (and flushed) them
BOOKMARK = b"B"  # JSON {"stream": name, "value": {...}} (waits for ACK)
CATALOG = b"C"  # JSON list of discovered streams
ERROR = b"E"  # JSON {"kind": ..., "message": ..., "detail": ...}
DONE = b"Z"  # empty: the job finished


class TruncatedFrame(Exception):
    """The pipe ended inside a frame: the writer died mid-write."""


def write_frame(
    fp: BinaryIO, kind: bytes, payload: bytes | memoryview = b"", count: int = 0
) -> None:
    fp.write(_HEADER.pack(kind, len(payload), count))
    fp.write(payload)


def read_frame(fp: BinaryIO) -> tuple[bytes, bytes, int] | None:
    """The next frame, None at a clean end of pipe; a pipe cut inside a frame raises
    TruncatedFrame."""
    header = fp.read(_HEADER.size)
    if not header:
        return None
    if len(header) != _HEADER.size:
        raise TruncatedFrame("the pipe ended inside a frame header")
    kind, size, count = _HEADER.unpack(header)
    return kind, _read_exactly(fp, size), count


def _read_exactly(fp: BinaryIO, size: int) -> bytes:
    data = fp.read(size)
    if len(data) != size:
        raise TruncatedFrame(f"expected {size} bytes, got {len(data)}")
    return data
