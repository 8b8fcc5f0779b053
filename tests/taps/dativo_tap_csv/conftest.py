"""Helpers for tap-csv tests: run the tap in-process or as a command, and read its messages."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any, Callable

import pytest

from dativo_tap_csv.tap import TapCSV

REPO = Path(__file__).resolve().parents[3]
DATA = Path(__file__).resolve().parent / "data"

Messages = list[dict[str, Any]]


def _run_in_process(
    config: dict[str, Any],
    state: dict[str, Any] | None = None,
    catalog: dict[str, Any] | None = None,
) -> Messages:
    tap = TapCSV(config=config, state=state, catalog=catalog, parse_env_config=False)
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    with redirect_stdout(out):
        tap.sync_all()
    out.flush()
    out.seek(0)
    return [json.loads(line) for line in out.read().splitlines() if line]


@pytest.fixture
def run_tap() -> Callable[..., Messages]:
    """Sync the tap in-process and return every message it wrote."""
    return _run_in_process


@pytest.fixture
def tap_command() -> Callable[..., subprocess.CompletedProcess[bytes]]:
    """Run the tap-csv command line as a subprocess."""

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [sys.executable, "-m", "dativo_tap_csv.tap", *args],
            cwd=REPO,
            capture_output=True,
            check=check,
        )

    return run


def records(messages: Messages, stream: str | None = None) -> list[dict[str, Any]]:
    return [
        m["record"]
        for m in messages
        if m["type"] == "RECORD" and (stream is None or m["stream"] == stream)
    ]


def states(messages: Messages) -> list[dict[str, Any]]:
    return [m["value"] for m in messages if m["type"] == "STATE"]
