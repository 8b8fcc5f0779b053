"""Counting RECORD lines per stream in raw Singer bytes, without parsing any JSON.

A record line is recognised by its canonical start, `{"type":"RECORD","stream":"<name>"`, as
singer-sdk, singer-python (with its `", "` spacing) and Dativo write it. Records laid out another
way still pass through the pipe; they are just not counted.

The counting works on whole regions of lines with `bytes.count`, which runs at memory speed:
a region whose records all belong to one stream costs two scans. Only where streams interleave
is the region halved until the pieces are small enough for a regular expression.
"""

from __future__ import annotations

import re
import threading
from collections import Counter

import orjson

_SMALL_REGION = 16 * 1024
HEAD_BYTES = 1024
"""How much of a line's start `count_line_start` needs to see."""


class _Layout:
    """One spelling of the record start: a line prefix and the regex that reads the name."""

    def __init__(self, prefix: bytes) -> None:
        self.line_start = b"\n" + prefix
        self.at_start = re.compile(re.escape(prefix) + rb'((?:[^"\\]|\\.)*)"')
        self.after_newline = re.compile(re.escape(self.line_start) + rb'((?:[^"\\]|\\.)*)"')


_LAYOUTS = (
    _Layout(b'{"type":"RECORD","stream":"'),
    _Layout(b'{"type": "RECORD", "stream": "'),
)


class RecordCounter:
    """Records seen so far per stream; safe to read from another thread while counting."""

    def __init__(self) -> None:
        self._counts: Counter[bytes] = Counter()
        self._lock = threading.Lock()

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            counts = dict(self._counts)
        return {_stream_name(name): n for name, n in counts.items()}

    def count_line_start(self, head: bytes) -> None:
        """Count one line given by its first bytes (at least the first 1 KiB when it is longer)."""
        for layout in _LAYOUTS:
            match = layout.at_start.match(head)
            if match:
                with self._lock:
                    self._counts[match.group(1)] += 1
                return

    def count_following_lines(self, data: bytes, start: int, end: int) -> None:
        """Count the lines that begin right after each newline in `data[start:end]`.

        Each of those lines must end inside the region (end at a newline), so that regions cut at
        newlines count every line exactly once.
        """
        found: Counter[bytes] = Counter()
        for layout in _LAYOUTS:
            self._count_region(data, start, end, layout, found)
        if found:
            with self._lock:
                self._counts.update(found)

    def _count_region(
        self, data: bytes, start: int, end: int, layout: _Layout, found: Counter[bytes]
    ) -> None:
        total = data.count(layout.line_start, start, end)
        if not total:
            return
        first = data.find(layout.line_start, start, end)
        name_start = first + len(layout.line_start)
        name_end = data.find(b'"', name_start, end)
        name = data[name_start:name_end]
        if not name.endswith(b"\\"):
            same = data.count(layout.line_start + name + b'"', start, end)
            if same == total:
                found[name] += total
                return
        middle = data.rfind(b"\n", start, (start + end) // 2)
        if end - start <= _SMALL_REGION or middle <= start:
            found.update(layout.after_newline.findall(data, start, end))
            return
        self._count_region(data, start, middle, layout, found)
        self._count_region(data, middle, end, layout, found)


def _stream_name(raw: bytes) -> str:
    if b"\\" in raw:
        return str(orjson.loads(b'"' + raw + b'"'))
    return raw.decode("utf-8", "replace")

