"""Asking a target which state its last commit reached: `TARGET --config FILE --committed-state`.

A target that stores the state with its data (target-iceberg keeps it in each Iceberg snapshot's
summary) can answer this after any crash, which makes it the authority on where a tap resumes.
The answer is one JSON line on stdout, a state value or a STATE message; `{}` means nothing is
committed yet.
"""

from __future__ import annotations

import subprocess
from typing import Any

from dativo_core.pipe.plugin import PluginCommand
from dativo_core.pipe.stderr_tail import DEFAULT_TAIL_LINES
from dativo_core.pipe.target_state import parse_state_line

TIMEOUT_SECONDS = 300.0


class CommittedStateError(Exception):
    """The target could not say which state it has committed."""


def query_committed_state(target: PluginCommand) -> dict[str, Any]:
    name = target.name
    try:
        done = subprocess.run(
            target.argv("--committed-state"),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise CommittedStateError(
            f"the target '{name}' did not report its committed state within {TIMEOUT_SECONDS:g} s"
        ) from None
    lines = done.stderr.decode("utf-8", "replace").splitlines()[-DEFAULT_TAIL_LINES:]
    tail = "".join(f"\n    {line}" for line in lines)
    if done.returncode != 0:
        raise CommittedStateError(
            f"the target '{name}' could not report its committed state (--committed-state "
            f"exited with code {done.returncode}); does it support that option?{tail}"
        )
    states = [parse_state_line(line) for line in done.stdout.splitlines() if line.strip()]
    found = [state for state in states if state is not None]
    if not found:
        raise CommittedStateError(
            f"the target '{name}' printed no state for --committed-state{tail}"
        )
    return found[-1]
