"""Progress lines: at most one per interval, rates over the interval, busiest streams first."""

from __future__ import annotations

import io

from dativo_core.pipe.console import Console
from dativo_core.pipe.counting import RecordCounter
from dativo_core.pipe.progress import ProgressReporter


def records(stream: str, n: int) -> bytes:
    return b"\n" + b"".join(
        b'{"type":"RECORD","stream":"%s","record":{}}\n' % stream.encode() for _ in range(n)
    )


def test_lines_per_interval_and_a_summary():
    now = [100.0]
    counter = RecordCounter()
    out = io.StringIO()
    progress = ProgressReporter(counter, Console(out), interval=10, clock=lambda: now[0])

    block = records("orders", 300) + records("users", 100)[1:]
    counter.count_following_lines(block, 0, len(block))
    now[0] = 105.0
    progress.maybe_report()
    assert out.getvalue() == "", "not before the interval has passed"

    now[0] = 110.0
    progress.maybe_report()
    now[0] = 125.0
    progress.maybe_report()
    assert out.getvalue().splitlines() == [
        "dativo pipe: 10 s, 400 records (40/s): orders 300 (30/s), users 100 (10/s)"
    ], "nothing moved in the second interval, so no second line"

    block = records("users", 500)
    counter.count_following_lines(block, 0, len(block))
    now[0] = 135.0
    progress.maybe_report()
    assert out.getvalue().splitlines()[-1] == (
        "dativo pipe: 35 s, 900 records (50/s): users 600 (50/s), orders 300 (0/s)"
    )

    now[0] = 150.0
    assert progress.summary() == [
        "dativo pipe: 900 records in 50.0 s (18/s)",
        "dativo pipe:   users: 600 records (12/s)",
        "dativo pipe:   orders: 300 records (6/s)",
    ]


def test_many_streams_are_summed_up_in_one_line():
    now = [0.0]
    counter = RecordCounter()
    out = io.StringIO()
    progress = ProgressReporter(counter, Console(out), interval=1, clock=lambda: now[0])
    for index in range(8):
        block = records(f"s{index}", index + 1)
        counter.count_following_lines(block, 0, len(block))

    now[0] = 1.0
    progress.maybe_report()

    line = out.getvalue().strip()
    assert line.endswith(
        "s7 8 (8/s), s6 7 (7/s), s5 6 (6/s), s4 5 (5/s), s3 4 (4/s), and 3 more streams"
    )
