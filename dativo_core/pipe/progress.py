"""Progress of a pipe on stderr: records and records/s per stream, at most once an interval."""

from __future__ import annotations

import time
from collections.abc import Callable

from dativo_core.pipe.console import Console
from dativo_core.pipe.counting import RecordCounter

DEFAULT_INTERVAL_SECONDS = 10.0
_STREAMS_PER_LINE = 5


class ProgressReporter:
    def __init__(
        self,
        counter: RecordCounter,
        console: Console,
        interval: float = DEFAULT_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._counter = counter
        self._console = console
        self._interval = interval
        self._clock = clock
        self._started = clock()
        self._last_time = self._started
        self._last_counts: dict[str, int] = {}

    def maybe_report(self) -> None:
        """Print one line if an interval has passed and records moved since the last line."""
        now = self._clock()
        if self._interval <= 0 or now - self._last_time < self._interval:
            return
        counts = self._counter.snapshot()
        if counts != self._last_counts:
            self._console.line(f"dativo pipe: {self._progress_line(counts, now)}")
        self._last_time = now
        self._last_counts = counts

    def summary(self) -> list[str]:
        """Totals and average rates of the whole run, one line per stream."""
        counts = self._counter.snapshot()
        elapsed = max(self._clock() - self._started, 1e-9)
        total = sum(counts.values())
        lines = [
            f"dativo pipe: {_int(total)} records in {elapsed:.1f} s ({_int(total / elapsed)}/s)"
        ]
        for stream, n in sorted(counts.items(), key=lambda item: -item[1]):
            lines.append(f"dativo pipe:   {stream}: {_int(n)} records ({_int(n / elapsed)}/s)")
        return lines

    def _progress_line(self, counts: dict[str, int], now: float) -> str:
        span = max(now - self._last_time, 1e-9)
        total = sum(counts.values())
        moved = total - sum(self._last_counts.values())
        parts = []
        busiest = sorted(counts.items(), key=lambda item: -item[1])
        for stream, n in busiest[:_STREAMS_PER_LINE]:
            rate = (n - self._last_counts.get(stream, 0)) / span
            parts.append(f"{stream} {_int(n)} ({_int(rate)}/s)")
        if len(busiest) > _STREAMS_PER_LINE:
            parts.append(f"and {len(busiest) - _STREAMS_PER_LINE} more streams")
        elapsed = now - self._started
        return f"{elapsed:.0f} s, {_int(total)} records ({_int(moved / span)}/s): " + ", ".join(
            parts
        )


def _int(value: float) -> str:
    return f"{round(value):,}"
