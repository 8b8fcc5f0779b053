"""`dativo run` with each kind of connector: an Airbyte source through tap-airbyte, a
third-party Singer target installed with pip into its own environment, and a contract that
stops the run (policy fail) inside target-iceberg."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from dativo_target_iceberg.catalog import embedded_catalog

from dativo_core.jobs.cli import run
from dativo_core.jobs.plugins import plugin_cache_dir, plugin_executable
from dativo_core.jobs.recipes import find_recipe

pytestmark = pytest.mark.slow


def _run(tmp_path: Path, job: str) -> tuple[int, str]:
    """Exit code and stdout+stderr of `dativo run` on the job text."""
    path = tmp_path / "job.yaml"
    path.write_text(job)
    result = CliRunner().invoke(run, [str(path), "--audit-log", str(tmp_path / "audit.jsonl"), "--progress-interval", "0"])
    return result.exit_code, result.output


def test_airbyte_source_with_stream_and_field_selection(tmp_path):
    job = """
tenant: t1
name: fake-users
source:
  connector: source-faker
  config: {count: 15}
  streams: [users]
  fields: {users: [id, name, email, updated_at]}
target: {connector: target-iceberg, config: {warehouse: wh}}
"""
    code, output = _run(tmp_path, job)
    assert (code, output.splitlines()[-1]) == (0, "t1/fake-users: ok, 15 records (users 15)")
    catalog = embedded_catalog(tmp_path / "wh")
    assert catalog.list_tables("default") == [("default", "users")]
    users = catalog.load_table("default.users").scan().to_arrow()
    assert users.num_rows == 15 and sorted(users["id"].to_pylist()) == list(range(1, 16))
    assert {"id", "name", "email", "updated_at"} <= set(users.column_names)
    assert "address" not in users.column_names and "age" not in users.column_names


def test_pip_target_is_installed_into_its_own_environment(tmp_path):
    (tmp_path / "data.csv").write_text("id,name\n1,a\n2,b\n")
    job = """
tenant: t1
name: to-csv
source:
  connector: tap-csv
  config: {files: [{entity: things, path: data.csv, keys: [id]}]}
target: {connector: target-csv, config: {output_path: out}}
"""
    code, output = _run(tmp_path, job)
    assert (code, output.splitlines()[-1]) == (0, "t1/to-csv: ok, 2 records (things 2)")
    with open(tmp_path / "out" / "things.csv", newline="") as rows:
        assert [row["name"] for row in csv.DictReader(rows)] == ["a", "b"]
    executable = Path(plugin_executable(find_recipe("target-csv")))
    assert plugin_cache_dir() in executable.parents
    assert Path(sys.executable).parent not in executable.parents


def test_contract_policy_fail_stops_the_job_and_names_the_rule(tmp_path):
    (tmp_path / "data.csv").write_text("id,email\n1,a@example.com\n2,broken\n")
    (tmp_path / "c.yaml").write_text(
        "apiVersion: v3.1.0\nkind: DataContract\nid: c\nversion: 1.0.0\nstatus: active\nschema:\n"
        "  - name: people\n    properties:\n      - {name: id, logicalType: integer}\n"
        "      - {name: email, logicalType: string, logicalTypeOptions: {format: email}}\n"
    )
    job = """
tenant: t1
name: people
source:
  connector: tap-csv
  config: {files: [{entity: people, path: data.csv}]}
target: {connector: target-iceberg, config: {warehouse: wh}}
contract: {path: c.yaml, policy: fail}
"""
    code, output = _run(tmp_path, job)
    assert code == 1
    # target-iceberg checks the contract itself: it is the target that stops, no mapper runs.
    assert "t1/people: FAILED: the target 'target-iceberg' failed with exit code 1" in output
    assert "line 3, stream 'people', field 'email': contract rule 'format' broken" in output
    assert "[dativo-validate]" not in output
    assert not (tmp_path / "state" / "t1" / "people.json").exists()
    catalog = embedded_catalog(tmp_path / "wh")
    assert catalog.list_tables("default") == [("default", "people")]
    assert catalog.load_table("default.people").scan().to_arrow().num_rows == 0
