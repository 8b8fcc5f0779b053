"""Run target-iceberg as a real subprocess against a real sqlite SqlCatalog, and read back."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from dativo_target_iceberg.catalog import embedded_catalog


@dataclass
class TargetRun:
    returncode: int
    states: list[dict[str, Any]]
    stdout: str
    stderr: str


@dataclass
class Warehouse:
    root: Path

    def config(self, **settings: Any) -> Path:
        path = self.root.parent / "target-config.json"
        path.write_text(json.dumps({"warehouse": str(self.root), **settings}))
        return path

    def run(self, messages: bytes | str | list[dict[str, Any]], **settings: Any) -> TargetRun:
        if isinstance(messages, list):
            messages = "".join(json.dumps(m) + "\n" for m in messages)
        data = messages.encode() if isinstance(messages, str) else messages
        done = subprocess.run(
            [sys.executable, "-m", "dativo_target_iceberg.cli", "--config", str(self.config(**settings))],
            input=data, capture_output=True, timeout=120,
        )
        stdout = done.stdout.decode()
        states = [json.loads(line) for line in stdout.splitlines() if line.strip()]
        return TargetRun(done.returncode, states, stdout, done.stderr.decode())

    def table(self, name: str, namespace: str = "default") -> pa.Table:
        return embedded_catalog(self.root).load_table((namespace, name)).scan().to_arrow()

    def rows(self, name: str, sort_by: str | None = None) -> list[dict[str, Any]]:
        table = self.table(name)
        if sort_by:
            table = table.sort_by(sort_by)
        return table.to_pylist()


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    return Warehouse(tmp_path / "warehouse")


def _run_concurrently(jobs: dict[str, Callable[[], Any]], workers: int = 4) -> dict[str, Any]:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {name: pool.submit(job) for name, job in jobs.items()}
        return {name: future.result() for name, future in futures.items()}


@pytest.fixture(scope="session")
def run_concurrently() -> Callable[[dict[str, Callable[[], Any]]], dict[str, Any]]:
    """Runs independent subprocess scenarios side by side: each target start costs seconds."""
    return _run_concurrently


@pytest.fixture(scope="session")
def new_warehouse(tmp_path_factory) -> Callable[[str], Warehouse]:
    return lambda name: Warehouse(tmp_path_factory.mktemp(name) / "warehouse")
