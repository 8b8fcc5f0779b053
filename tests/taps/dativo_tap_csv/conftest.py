"""Fixtures for tap-csv tests: the tap in-process and as a command."""

from __future__ import annotations

import subprocess
import sys
from typing import Callable

import pytest

from tap_csv_helpers import REPO, Messages, run_in_process


@pytest.fixture
def run_tap() -> Callable[..., Messages]:
    """Sync the tap in-process and return every message it wrote."""
    return run_in_process


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
