"""Holds a state lock in a separate process, for the two-process lock tests.

As a script: python lock_holder.py '<backend spec JSON>' tenant pipeline — prints `locked` once it
holds the lock, then waits for a line on stdin: `release` leaves the lock normally, `crash` exits at
once without releasing, as a killed run would. Tests drive it through `LockHolder`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import orjson


class LockHolder:
    """A running lock_holder.py process that already holds the lock."""

    def __init__(self, spec: dict[str, Any], tenant: str, pipeline: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, orjson.dumps(spec).decode(), tenant, pipeline],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        first = self.process.stdout.readline().strip()
        if first != "locked":
            self.process.kill()
            raise AssertionError(f"lock holder did not lock: {first!r} {self.process.stderr.read()}")

    def finish(self, how: str) -> int:
        """`release` or `crash`; returns the holder's exit code."""
        self.process.stdin.write(how + "\n")
        self.process.stdin.close()
        code = self.process.wait(timeout=30)
        self.process.stdout.close()
        self.process.stderr.close()
        return code


def _hold(spec: dict[str, Any], tenant: str, pipeline: str) -> None:
    from dativo_core.state.backend import StateKey
    from dativo_core.state.s3 import S3StateBackend
    from dativo_core.state.sql import SqlStateBackend

    kind = spec.pop("backend")
    backend = SqlStateBackend(**spec) if kind == "sql" else S3StateBackend(**spec)
    with backend.lock(StateKey(tenant, pipeline)):
        print("locked", flush=True)
        if sys.stdin.readline().strip() == "crash":
            os._exit(3)


if __name__ == "__main__":
    _hold(orjson.loads(sys.argv[1]), sys.argv[2], sys.argv[3])
