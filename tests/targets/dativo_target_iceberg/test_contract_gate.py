"""target-iceberg's `contract` setting: real subprocesses of the target on a real sqlite SqlCatalog,
asserting on what the tables hold (and on what a crash between two commits leaves behind)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import yaml

from dativo_core.contracts.quarantine import ARROW_SCHEMA

CONTRACT = {
    "apiVersion": "v3.1.0", "kind": "DataContract", "id": "items-contract", "name": "Items",
    "version": "1.0.0", "status": "active",
    "schema": [{"name": "items", "logicalType": "object", "properties": [
        {"name": "id", "logicalType": "integer", "primaryKey": True, "required": True},
        {"name": "email", "logicalType": "string", "logicalTypeOptions": {"format": "email"}},
        {"name": "qty", "logicalType": "integer", "logicalTypeOptions": {"minimum": 0}},
    ]}],
}
SCHEMA = {"type": "SCHEMA", "stream": "items", "key_properties": ["id"], "schema": {"type": "object", "properties": {
    "id": {"type": "integer"}, "email": {"type": ["string", "null"]}, "qty": {"type": ["integer", "null"]}}}}
BAD = {2: ("email", "format"), 4: ("qty", "minimum"), 6: ("id", "primaryKey")}


def record(i: int) -> dict[str, Any]:
    """Item i; items 2, 4 and 6 break the contract (6 repeats item 5's key)."""
    value = {"id": 5 if i == 6 else i, "email": f"u{i}@example.com", "qty": i}
    if i == 2:
        value["email"] = "not-an-email"
    if i == 4:
        value["qty"] = -4
    return {"type": "RECORD", "stream": "items", "record": value}


def tap(after: int = 0, last: int = 6) -> list[dict[str, Any]]:
    """An incremental tap resumed after item `after`: a STATE after every odd item."""
    out: list[dict[str, Any]] = [SCHEMA]
    for i in range(after + 1, last + 1):
        out.append(record(i))
        if i % 2:
            out.append({"type": "STATE", "value": {"bookmarks": {"items": {"id": i}}}})
    out.append({"type": "STATE", "value": {"bookmarks": {"items": {"id": last}}}})
    return out


@pytest.fixture
def contract_file(tmp_path: Path) -> Path:
    path = tmp_path / "items.odcs.yaml"
    path.write_text(yaml.safe_dump(CONTRACT))
    return path


def test_quarantine_loads_good_rows_and_sets_bad_ones_aside_with_rule_reason_and_line(warehouse, contract_file):
    done = warehouse.run(tap(), contract=str(contract_file), contract_policy="quarantine")
    assert done.returncode == 0, done.stderr
    assert [r["id"] for r in warehouse.rows("items", sort_by="id")] == [1, 3, 5]
    bad = warehouse.table("items__quarantine")
    assert bad.schema == ARROW_SCHEMA
    rows = sorted(bad.to_pylist(), key=lambda r: r["_dativo_source_line"])
    # Input lines: 1 SCHEMA, 2 item 1, 3 STATE, 4 item 2, 5 item 3, 6 STATE, 7 item 4, ...
    assert [(r["_dativo_source_line"], r["_dativo_rule"]) for r in rows] == [(4, "format"), (7, "minimum"), (10, "primaryKey")]
    assert all(r["_dativo_stream"] == "items" for r in rows)
    assert "not-an-email" in rows[0]["_dativo_reason"] and rows[0]["_dativo_reason"].startswith("email:")
    assert [json.loads(r["_dativo_record"]) for r in rows] == [record(i)["record"] for i in (2, 4, 6)]
    assert done.states[-1] == {"bookmarks": {"items": {"id": 6}}}
    assert "stream 'items': 6 records checked, 3 broke the contract (quarantined)" in done.stderr
    assert "    format             1" in done.stderr
    # Without exactly_once the run did not start at the table's checkpoint: no position recorded.
    summary = _summary(warehouse, "items__quarantine")
    assert summary["dativo.quarantine-of"] == "items" and "dativo.quarantine.covered-rows" not in summary
    assert "dativo.state" not in summary


def test_fail_stops_naming_line_field_and_rule_and_keeps_only_what_was_committed(warehouse, contract_file):
    done = warehouse.run(tap(), contract=str(contract_file), max_batch_rows=1)
    assert done.returncode == 1
    assert "line 4, stream 'items', field 'email': contract rule 'format' broken" in done.stderr
    assert "1 broke the contract (the load stopped)" in done.stderr
    assert [r["id"] for r in warehouse.rows("items")] == [1]
    assert done.states == [{"bookmarks": {"items": {"id": 1}}}]
    assert not any(name.endswith("__quarantine") for _, name in warehouse_tables(warehouse))


def test_warn_loads_every_row_and_reports_the_violations(warehouse, contract_file):
    done = warehouse.run(tap(), contract=str(contract_file), contract_policy="warn")
    assert done.returncode == 0, done.stderr
    assert sorted(r["qty"] for r in warehouse.rows("items")) == [-4, 1, 2, 3, 5, 6]
    assert "line 7, field 'qty': minimum: -4 is below the minimum 0" in done.stderr
    assert "3 broke the contract (loaded anyway)" in done.stderr
    assert [name for _, name in warehouse_tables(warehouse)] == ["items"]


def test_relative_contract_path_is_read_from_the_config_folder(warehouse, contract_file):
    (warehouse.root.parent / "contracts").mkdir()
    contract_file.rename(warehouse.root.parent / "contracts" / "items.yaml")
    done = warehouse.run(tap(), contract="contracts/items.yaml", contract_policy="quarantine")
    assert done.returncode == 0, done.stderr
    assert len(warehouse.rows("items__quarantine")) == 3


def test_broken_contract_stops_before_any_record(warehouse, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump({**CONTRACT, "apiVersion": "v9"}))
    done = warehouse.run(tap(), contract=str(path))
    assert done.returncode == 1
    assert f"target-iceberg: error: contract {path}" in done.stderr


def test_parquet_batch_files_are_read_and_checked_not_registered_unread(warehouse, contract_file, tmp_path):
    import pyarrow as pa

    path = tmp_path / "items.parquet"
    pq.write_table(pa.table({"id": pa.array([10, 11], pa.int64()), "email": ["a@b.io", "nope"],
                             "qty": pa.array([1, 2], pa.int64())}), path)
    batch = {"type": "BATCH", "stream": "items", "encoding": {"format": "parquet", "compression": "none"},
             "manifest": [path.as_uri()]}
    done = warehouse.run([SCHEMA, batch], contract=str(contract_file), contract_policy="quarantine")
    assert done.returncode == 0, done.stderr
    assert [r["id"] for r in warehouse.rows("items")] == [10]
    (bad,) = warehouse.rows("items__quarantine")
    assert (bad["_dativo_source_line"], bad["_dativo_rule"], json.loads(bad["_dativo_record"])["id"]) == (2, "format", 11)


def _summary(warehouse, table: str) -> dict[str, str]:
    from dativo_target_iceberg.catalog import embedded_catalog

    snapshot = embedded_catalog(warehouse.root).load_table(("default", table)).current_snapshot()
    return dict(snapshot.summary.additional_properties)


def warehouse_tables(warehouse) -> list[tuple[str, str]]:
    from dativo_target_iceberg.catalog import embedded_catalog

    return sorted(embedded_catalog(warehouse.root).list_tables("default"))


# Runs target-iceberg's command line, killed with SIGKILL when the stream's table is about to be
# committed for the second time: after that flush's quarantine commit, before its own.
CRASHING_TARGET = """
import os, signal
from dativo_target_iceberg import cli, contract_gate, table_writer

commit = table_writer.TableWriter.commit
main_commits = 0

def crash_before_second_main_commit(self, state):
    global main_commits
    if not isinstance(self, contract_gate.QuarantineWriter):
        main_commits += 1
        if main_commits == 2:
            os.kill(os.getpid(), signal.SIGKILL)
    return commit(self, state)

table_writer.TableWriter.commit = crash_before_second_main_commit
cli.main()
"""


def test_crash_between_quarantine_and_table_commit_then_rerun_duplicates_nothing(warehouse, contract_file):
    settings = {"contract": str(contract_file), "contract_policy": "quarantine", "exactly_once": True,
                "max_batch_rows": 2}
    config = warehouse.config(**settings)
    lines = "".join(json.dumps(m) + "\n" for m in tap()).encode()
    crashed = subprocess.run([sys.executable, "-c", CRASHING_TARGET, "--config", str(config)],
                             input=lines, capture_output=True, timeout=120, check=False)
    assert crashed.returncode == -9, crashed.stderr.decode()
    # Flush 1 (items 1-3) committed both tables; flush 2 (items 4, 5) only the quarantine table.
    assert [r["id"] for r in warehouse.rows("items", sort_by="id")] == [1, 3]
    assert sorted(r["_dativo_source_line"] for r in warehouse.rows("items__quarantine")) == [4, 7]
    # It reaches 4 records past the state the stream's table committed (items 2-5).
    summary = _summary(warehouse, "items__quarantine")
    assert (summary["dativo.quarantine-of"], summary["dativo.quarantine.covered-rows"]) == ("items", "4")
    assert json.loads(summary["dativo.quarantine.covered-state"]) == {"bookmarks": {"items": {"id": 1}}}

    committed = subprocess.run([sys.executable, "-m", "dativo_target_iceberg.cli", "--config", str(config),
                                "--committed-state"], capture_output=True, check=True)
    state = json.loads(committed.stdout)
    assert state == {"bookmarks": {"items": {"id": 1}}}
    rerun = warehouse.run(tap(after=state["bookmarks"]["items"]["id"]), **settings)
    assert rerun.returncode == 0, rerun.stderr
    assert "1 bad records were quarantined by the interrupted run; not written again" in rerun.stderr
    assert [r["id"] for r in warehouse.rows("items", sort_by="id")] == [1, 3, 5]
    quarantined = [json.loads(r["_dativo_record"]) for r in warehouse.rows("items__quarantine")]
    assert sorted(quarantined, key=lambda r: r["qty"]) == [record(i)["record"] for i in (4, 2, 6)]
    assert rerun.states[-1] == {"bookmarks": {"items": {"id": 6}}}


def _quarantine_checkpoint(stream: str, covered_state: dict[str, Any] | None, covered_rows: int, at: int):
    from dativo_target_iceberg.recovery import TableCheckpoint

    return TableCheckpoint(stream + "__quarantine", None, 0, at, quarantine_of=stream,
                           covered_state=covered_state, covered_rows=covered_rows)


def test_recovery_counts_quarantined_rows_only_where_the_quarantine_table_is_ahead():
    from dativo_target_iceberg.recovery import TableCheckpoint, recover

    s1 = {"bookmarks": {"a": {"id": 1}, "b": {"id": 7}}}
    checkpoints = {
        "a": TableCheckpoint("a", s1, 2, 100),
        "a__quarantine": _quarantine_checkpoint("a", s1, 5, 200),  # crash after it: ahead
        "b": TableCheckpoint("b", s1, 4, 300),
        "b__quarantine": _quarantine_checkpoint("b", s1, 3, 50),  # older flush: behind
        "c": None,
        "c__quarantine": _quarantine_checkpoint("c", None, 6, 60),  # c's table never committed
    }
    recovery = recover(checkpoints)
    assert recovery.quarantined_rows == {"a": 3, "c": 6}  # after the 2 rows of "a" that are skipped
    assert recovery.skip_rows == {"a": 2, "b": 4}  # quarantine tables are no streams of their own
    assert set(recovery.checkpoints) == {"a", "b", "c"}
    assert recovery.state == {"bookmarks": {"a": {"id": 1}, "b": {"id": 7}}}


def test_rerun_that_commits_inside_the_quarantined_stretch_still_duplicates_nothing(warehouse, contract_file):
    """A STATE after every item and every even item bad (format or minimum). The crashed flush
    quarantined items 4 and 6; the re-run commits after each good item, so its commits fall
    inside that stretch, and item 8 after it must still be quarantined once."""

    def item(i: int) -> dict[str, Any]:
        value = {"id": i, "email": "bad" if i % 4 == 2 else f"u{i}@example.com", "qty": -i if i % 4 == 0 else i}
        return {"type": "RECORD", "stream": "items", "record": value}

    def every_state_tap(after: int = 0) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = [SCHEMA]
        for i in range(after + 1, 9):
            out += [item(i), {"type": "STATE", "value": {"bookmarks": {"items": {"id": i}}}}]
        return out

    settings = {"contract": str(contract_file), "contract_policy": "quarantine", "exactly_once": True}
    config = warehouse.config(**settings, max_batch_rows=3)
    lines = "".join(json.dumps(m) + "\n" for m in every_state_tap()).encode()
    crashed = subprocess.run([sys.executable, "-c", CRASHING_TARGET, "--config", str(config)],
                             input=lines, capture_output=True, timeout=120, check=False)
    assert crashed.returncode == -9, crashed.stderr.decode()
    assert [r["id"] for r in warehouse.rows("items", sort_by="id")] == [1, 3]
    assert sorted(json.loads(r["_dativo_record"])["id"] for r in warehouse.rows("items__quarantine")) == [2, 4, 6]

    committed = subprocess.run([sys.executable, "-m", "dativo_target_iceberg.cli", "--config", str(config),
                                "--committed-state"], capture_output=True, check=True)
    assert json.loads(committed.stdout) == {"bookmarks": {"items": {"id": 2}}}
    rerun = warehouse.run(every_state_tap(after=2), **settings, max_batch_rows=1)
    assert rerun.returncode == 0, rerun.stderr
    assert [r["id"] for r in warehouse.rows("items", sort_by="id")] == [1, 3, 5, 7]
    assert sorted(json.loads(r["_dativo_record"])["id"] for r in warehouse.rows("items__quarantine")) == [2, 4, 6, 8]
