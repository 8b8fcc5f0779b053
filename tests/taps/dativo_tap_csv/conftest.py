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


@pytest.fixture(params=["rust", "pyarrow"])
def engine(request: pytest.FixtureRequest) -> str:
    """Each of tap-csv's engines, for tests that hold both to the same behaviour."""
    if request.param == "rust":
        request.getfixturevalue("reader_libraries")  # built by the session, or skipped without cargo
    return request.param
