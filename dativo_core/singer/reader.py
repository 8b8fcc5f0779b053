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
class LineBlock:
    """Whole lines as one bytes object (newline-separated, none at the end).

    Lines stay unsplit, so a block of one stream's RECORDs can go to a native JSON reader as
    it is: splitting and re-joining a million lines costs more CPU than parsing them.
    """

    first_line: int
    line_count: int
    data: bytes

    def lines(self) -> list[bytes]:
        return self.data.split(b"\n")


@dataclass(frozen=True, slots=True)
class LineChunk:
    """Whole lines read together; `first_line` is the 1-based input line number of lines[0]."""

    first_line: int
    lines: list[bytes]


def whole_line_blocks(fp: BinaryIO, block_bytes: int = DEFAULT_CHUNK_BYTES) -> Iterator[bytes]:
    """Blocks of complete lines (newline-separated, none at the end), each about `block_bytes`
    (or what a read returned), left uncounted for callers whose decoder counts them.

    Windows line ends become plain newlines; blank lines are kept so that line numbers stay
    true, and callers skip them.
    """
    tail = b""
    while read := fp.read(block_bytes):
        cut = read.rfind(b"\n")
        if cut < 0:
            tail += read
            continue
        block = b"".join((tail, memoryview(read)[:cut])) if tail else read[:cut]
        tail = read[cut + 1 :]
        if b"\r" in block:
            block = block.replace(b"\r\n", b"\n").removesuffix(b"\r")
        yield block
    if tail.strip():
        yield tail.rstrip(b"\r")


def read_line_blocks(fp: BinaryIO, block_bytes: int = DEFAULT_CHUNK_BYTES) -> Iterator[LineBlock]:
    """The same blocks with their first line's number and their line count."""
    next_line = 1
    for block in whole_line_blocks(fp, block_bytes):
        count = block.count(b"\n") + 1
        yield LineBlock(next_line, count, block)
        next_line += count


def read_line_chunks(fp: BinaryIO, chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> Iterator[LineChunk]:
    """The same blocks, split into lines, for callers that look at every line."""
    for block in read_line_blocks(fp, chunk_bytes):
        yield LineChunk(block.first_line, block.lines())


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
