"""Helpers for tap-csv tests: run the tap in-process, and pick messages out of its output."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

from dativo_tap_csv.tap import TapCSV

REPO = Path(__file__).resolve().parents[3]
DATA = Path(__file__).resolve().parent / "data"

Messages = list[dict[str, Any]]


def run_in_process(
    config: dict[str, Any],
    state: dict[str, Any] | None = None,
    catalog: dict[str, Any] | None = None,
) -> Messages:
    """Sync the tap in-process and return every message it wrote."""
    tap = TapCSV(config=config, state=state, catalog=catalog, parse_env_config=False)
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    with redirect_stdout(out):
        tap.sync_all()
    out.flush()
    out.seek(0)
    return [json.loads(line) for line in out.read().splitlines() if line]


def records(messages: Messages, stream: str | None = None) -> list[dict[str, Any]]:
    return [
        m["record"]
        for m in messages
        if m["type"] == "RECORD" and (stream is None or m["stream"] == stream)
    ]


def states(messages: Messages) -> list[dict[str, Any]]:
    return [m["value"] for m in messages if m["type"] == "STATE"]
