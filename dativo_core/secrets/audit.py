"""The audit log: one JSON line per resolution, naming job, plugin and secrets — never values."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson


class AuditLog:
    """Appends events to a JSON-lines file (mode 0600) with one `write` each, so lines never interleave."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def record(self, event: dict[str, Any]) -> None:
        line = orjson.dumps(
            {"time": datetime.now(UTC).isoformat(timespec="milliseconds"), "pid": os.getpid(), **event},
            option=orjson.OPT_APPEND_NEWLINE,
        )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(descriptor, line)
        finally:
            os.close(descriptor)

    def events(self) -> list[dict[str, Any]]:
        """Every recorded event, oldest first."""
        if not self.path.exists():
            return []
        return [orjson.loads(line) for line in self.path.read_bytes().splitlines() if line.strip()]
