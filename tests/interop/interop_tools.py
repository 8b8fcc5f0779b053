"""Helpers of the interoperability tests: tools in their own environments, expected rows.

Third-party Singer tools and Meltano pin versions that clash with Dativo's (and with each
other's), so each requirement gets one environment under $DATIVO_TOOLS_CACHE_DIR, else
~/.cache/dativo/tools, installed on first use and reused.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pyiceberg.catalog.sql import SqlCatalog

from dativo_core.airbyte.pip_install import ensure_installed

REPO = Path(__file__).resolve().parents[2]
MELTANO = "meltano==4.4.1"
TARGET_POSTGRES = "meltanolabs-target-postgres==0.8.1"
TAP_POSTGRES = "meltanolabs-tap-postgres==0.10.0"


def tools_cache_dir() -> Path:
    if os.environ.get("DATIVO_TOOLS_CACHE_DIR"):
        return Path(os.environ["DATIVO_TOOLS_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "dativo" / "tools"


def tool(requirement: str, executable: str) -> Path:
    """The executable of a pip requirement installed in its own environment."""
    return ensure_installed(requirement, executable, cache_dir=tools_cache_dir())


def dativo_bin(name: str) -> str:
    """A console script of this checkout's environment (the one running the tests)."""
    return str(Path(sys.executable).parent / name)


def copy_checkout(destination: Path) -> Path:
    """What a fresh clone holds: the tracked files and new ones git does not ignore."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, capture_output=True, check=True,
    ).stdout.split(b"\0")
    for raw in filter(None, listed):
        source = REPO / os.fsdecode(raw)
        if source.is_file():
            target = destination / os.fsdecode(raw)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


CUSTOMERS_CSV = REPO / "examples" / "csv" / "customers.csv"


def customers() -> list[dict[str, object]]:
    """examples/csv/customers.csv as tap-csv types it: what every load must hold exactly."""
    with CUSTOMERS_CSV.open(newline="", encoding="utf-8") as handle:
        return [
            {
                "id": int(row["id"]),
                "name": row["name"],
                "email": row["email"],
                "signed_up_at": datetime.fromisoformat(row["signed_up_at"]),
                "lifetime_value": float(row["lifetime_value"]) if row["lifetime_value"] else None,
                "active": {"true": True, "false": False, "": None}[row["active"]],
            }
            for row in csv.DictReader(handle)
        ]


def iceberg_rows(warehouse: Path, table: str, namespace: str = "default") -> list[dict[str, object]]:
    """Every row of a table of target-iceberg's embedded warehouse, ordered by its `id`."""
    catalog = SqlCatalog(
        "dativo", uri=f"sqlite:///{warehouse / 'catalog.db'}", warehouse=warehouse.as_uri()
    )
    rows = catalog.load_table(f"{namespace}.{table}").scan().to_arrow().to_pylist()
    return sorted(rows, key=lambda row: row["id"])


def without(rows: list[dict[str, object]], *prefixes: str) -> list[dict[str, object]]:
    return [{k: v for k, v in row.items() if not k.startswith(prefixes)} for row in rows]


@dataclass
class MeltanoProject:
    """A copy of this repository used as a Meltano project, with `meltano` run in it."""

    root: Path
    meltano: Path
    timings: dict[str, float] = field(default_factory=dict)

    def run(self, *args: str, env: dict[str, str] | None = None, timeout: float = 900,
            check: bool = True) -> subprocess.CompletedProcess[str]:
        environment = {k: v for k, v in os.environ.items() if not k.startswith(("MELTANO_", "TAP_", "TARGET_"))}
        environment.update({
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "PATH": f"{self.meltano.parent}{os.pathsep}{os.environ.get('PATH', '')}",
            **(env or {}),
        })
        started = time.monotonic()
        result = subprocess.run(
            [str(self.meltano), *args], cwd=self.root, env=environment,
            capture_output=True, text=True, timeout=timeout,
        )
        self.timings[" ".join(args)] = time.monotonic() - started
        if check and result.returncode != 0:
            raise AssertionError(
                f"meltano {' '.join(args)} exited {result.returncode}:\n{result.stderr[-6000:]}"
            )
        return result
