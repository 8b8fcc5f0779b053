"""Reading Singer input as bytes, in large chunks, without losing line numbers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import orjson

from dativo_core.singer.errors import SingerProtocolError
from dativo_core.singer.messages import Message, message_from_dict

DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class LineChunk:
    """Whole lines read together; `first_line` is the 1-based input line number of lines[0]."""

    first_line: int
    lines: list[bytes]


def read_line_chunks(fp: BinaryIO, chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> Iterator[LineChunk]:
    """Yield complete lines in chunks of about `chunk_bytes`.

    Lines keep no trailing newline (nor a Windows carriage return); blank lines are kept so
    that line numbers stay true, and callers skip them.
    """
    next_line = 1
    tail = b""
    while True:
        block = fp.read(chunk_bytes)
        if not block:
            break
        data = tail + block if tail else block
        cut = data.rfind(b"\n")
        if cut < 0:
            tail = data
            continue
        tail = data[cut + 1 :]
        lines = data[:cut].split(b"\n")
        if b"\r" in data:
            lines = [line[:-1] if line.endswith(b"\r") else line for line in lines]
        yield LineChunk(next_line, lines)
        next_line += len(lines)
    if tail.strip():
        yield LineChunk(next_line, [tail.rstrip(b"\r")])


def parse_line(line: bytes, line_number: int) -> Any:
    """Decode one JSON line, naming the line and showing its start when it is not JSON."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        preview = line[:80].decode("utf-8", "replace")
        raise SingerProtocolError(
            f"malformed JSON ({exc}): {preview!r}",
            line=line_number,
            hint="Each input line must be one Singer message as a JSON object",
        ) from None


def iter_messages(
    fp: BinaryIO, chunk_bytes: int = DEFAULT_CHUNK_BYTES
) -> Iterator[tuple[int, Message]]:
    """Typed messages with their line numbers: the simple path, for tools that are not hot."""
    for chunk in read_line_chunks(fp, chunk_bytes):
        for offset, line in enumerate(chunk.lines):
            if not line.strip():
                continue
            number = chunk.first_line + offset
            yield number, message_from_dict(parse_line(line, number), number)
