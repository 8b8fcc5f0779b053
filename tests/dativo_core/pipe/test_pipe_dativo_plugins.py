"""`dativo pipe` between Dativo's own tap-csv and target-iceberg: incremental state end to end."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest
from pyiceberg.catalog.sql import SqlCatalog

from dativo_core.pipe.console import Console
from dativo_core.pipe.plugin import PluginCommand
from dativo_core.pipe.runner import Outcome, Pipe
from dativo_core.pipe.state_store import KeyedState
from dativo_core.state.backend import StateKey
from dativo_core.state.local import LocalStateBackend
from tests.dativo_core.pipe.pipe_programs import write_json

BIN = Path(sys.executable).parent


def table_ids(warehouse: Path) -> list[int]:
    catalog = SqlCatalog(
        "dativo", uri=f"sqlite:///{warehouse / 'catalog.db'}", warehouse=f"file://{warehouse}"
    )
    table = catalog.load_table("default.customers").scan().to_arrow()
    return sorted(table.column("id").to_pylist())


@pytest.mark.slow
def test_incremental_csv_into_iceberg_resumes_from_saved_and_from_committed_state(tmp_path):
    folder = tmp_path / "customers"
    folder.mkdir()
    (folder / "a.csv").write_text("id,name\n1,Ada\n2,Grace\n")
    os.utime(folder / "a.csv", (1_700_000_000, 1_700_000_000))
    tap_config = {
        "files": [{"entity": "customers", "path": str(folder), "keys": ["id"]}],
        "incremental": True,
    }
    tap = PluginCommand("tap", str(BIN / "tap-csv"), write_json(tmp_path / "tap.json", tap_config))
    warehouse = tmp_path / "warehouse"
    target_config = write_json(tmp_path / "target.json", {"warehouse": str(warehouse)})
    target = PluginCommand("target", str(BIN / "target-iceberg"), target_config)
    state = KeyedState(LocalStateBackend(tmp_path / "state"), StateKey("acme", "customers"))

    def run_once(resume_from_target: bool = False) -> dict[str, int]:
        stderr = io.StringIO()
        pipe = Pipe(
            tap, target, state, console=Console(stderr), resume_from_target=resume_from_target
        )
        result = pipe.run()
        assert result.outcome is Outcome.OK, result.message + stderr.getvalue()
        return result.records

    assert run_once() == {"customers": 2}
    assert table_ids(warehouse) == [1, 2]
    committed = state.read()
    assert committed is not None

    assert run_once() == {}, "nothing new: the tap resumed from the saved state"

    (folder / "b.csv").write_text("id,name\n3,Edsger\n")
    assert run_once() == {"customers": 1}
    assert table_ids(warehouse) == [1, 2, 3]

    newest = state.read()
    state.clear()  # as if the pipe died after the target's commit, before it saved the state
    assert run_once(resume_from_target=True) == {}, "resumed from the Iceberg snapshot's state"
    assert table_ids(warehouse) == [1, 2, 3]
    assert state.read() == newest
