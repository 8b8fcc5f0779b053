"""StderrTail on a real child's stderr: forwarded with a prefix, last lines kept, memory bounded."""

from __future__ import annotations

import io
import subprocess
import sys

from dativo_core.pipe.console import Console
from dativo_core.pipe.stderr_tail import MAX_LINE_BYTES, StderrTail

WRITE_STDERR = """
import sys
for n in range(30):
    sys.stderr.write(f"line {n}\\n")
sys.stderr.write("x" * int(sys.argv[1]))
sys.stderr.write("\\nlast\\n")
"""


def _tail_of_child(unbroken_bytes: int) -> tuple[StderrTail, list[str]]:
    child = subprocess.Popen(
        [sys.executable, "-c", WRITE_STDERR, str(unbroken_bytes)], stderr=subprocess.PIPE
    )
    out = io.StringIO()
    assert child.stderr is not None
    tail = StderrTail(child.stderr, "[tap]", Console(out), keep_lines=3)
    tail.start()
    assert child.wait(timeout=60) == 0
    tail.join(timeout=60)
    return tail, out.getvalue().splitlines()


def test_each_line_is_forwarded_with_the_prefix_and_the_last_ones_are_kept() -> None:
    tail, forwarded = _tail_of_child(10)
    assert forwarded == [*(f"[tap] line {n}" for n in range(30)), "[tap] " + "x" * 10, "[tap] last"]
    assert tail.last_lines == ["line 29", "x" * 10, "last"]


def test_a_line_without_end_is_passed_on_in_bounded_pieces() -> None:
    unbroken = 5 * MAX_LINE_BYTES + 123
    tail, forwarded = _tail_of_child(unbroken)
    pieces = forwarded[30:-1]
    assert all(len(piece) <= len("[tap] ") + MAX_LINE_BYTES for piece in pieces)
    assert "".join(piece.removeprefix("[tap] ") for piece in pieces) == "x" * unbroken
    assert forwarded[-1] == "[tap] last"
    assert all(len(line) <= MAX_LINE_BYTES for line in tail.last_lines)
    assert tail.last_lines[-1] == "last"
