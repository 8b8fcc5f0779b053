"""Counting RECORD lines per stream in raw Singer bytes, without parsing any JSON.

A record line is recognised by its canonical start, `{"type":"RECORD","stream":"<name>"`, as
singer-sdk, singer-python (with its `", "` spacing) and Dativo write it. The spelling of the first
record seen is taken as the tap's, and only that one is looked for from then on, which saves a
scan per block. Records laid out another way still pass through the pipe; they are just not
counted.

Counting uses `bytes.count`, which scans at memory speed: one scan for all records of a block,
then one per stream, trying the streams seen most recently first, until every record is
accounted for. So a block costs a few scans whether its streams come in runs or interleave.
Only a block with a stream not seen before (or with many streams at once) is read with a
regular expression, which is about twenty times slower per record.
"""

from __future__ import annotations

import re
import threading
from collections import Counter

import orjson

HEAD_BYTES = 1024
"""How much of a line's start `count_line_start` needs to see."""

_SCANS_PER_BLOCK = 8


class _Layout:
    """One spelling of the record start, with the names of the streams seen in it."""

    def __init__(self, prefix: bytes) -> None:
        self.line_start = b"\n" + prefix
        self.at_start = re.compile(re.escape(prefix) + rb'((?:[^"\\]|\\.)*)"')
        self.after_newline = re.compile(re.escape(self.line_start) + rb'((?:[^"\\]|\\.)*)"')
        self.recent_names: list[bytes] = []

    def count(self, data: bytes, start: int, end: int) -> Counter[bytes]:
        total = data.count(self.line_start, start, end)
        found: Counter[bytes] = Counter()
        if not total:
            return found
        for name in self.recent_names[:_SCANS_PER_BLOCK]:
            n = data.count(self.line_start + name + b'"', start, end)
            if n:
                found[name] = n
                total -= n
                if not total:
                    self._seen(found)
                    return found
        found = Counter(self.after_newline.findall(data, start, end))
        self._seen(found)
        return found

    def _seen(self, names: Counter[bytes]) -> None:
        """Keep the streams of the last block first, so the next block finds them in few scans."""
        recent = [name for name, _ in names.most_common()]
        self.recent_names = recent + [name for name in self.recent_names if name not in names]


class RecordCounter:
    """Records seen so far per stream; safe to read from another thread while counting."""

    def __init__(self) -> None:
        self._counts: Counter[bytes] = Counter()
        self._lock = threading.Lock()
        self._layouts = (
            _Layout(b'{"type":"RECORD","stream":"'),
            _Layout(b'{"type": "RECORD", "stream": "'),
        )
        self._layout: _Layout | None = None

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            counts = dict(self._counts)
        return {_stream_name(name): n for name, n in counts.items()}

    def count_line_start(self, head: bytes) -> None:
        """Count one line given by its first bytes (at least the first 1 KiB when it is longer)."""
        for layout in (self._layout,) if self._layout else self._layouts:
            match = layout.at_start.match(head)
            if match:
                self._layout = layout
                with self._lock:
                    self._counts[match.group(1)] += 1
                return

    def count_following_lines(self, data: bytes, start: int, end: int) -> None:
        """Count the lines that begin right after each newline in `data[start:end]`.

        Each of those lines must end inside the region (at a newline), so that regions cut at
        newlines count every line exactly once.
        """
        for layout in (self._layout,) if self._layout else self._layouts:
            found = layout.count(data, start, end)
            if found:
                self._layout = layout
                with self._lock:
                    self._counts.update(found)
                return


def _stream_name(raw: bytes) -> str:
    if b"\\" in raw:
        return str(orjson.loads(b'"' + raw + b'"'))
    return raw.decode("utf-8", "replace")
