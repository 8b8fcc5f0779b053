"""Where `dativo run` checks a job's contract: inside a target whose recipe lists
`contract-checks` (target-iceberg, quarantine committed with the data), else with the
`dativo validate` mapper between tap and target and a quarantine file loaded afterwards."""

from __future__ import annotations

import csv
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from dativo_target_iceberg.catalog import embedded_catalog

from dativo_core.jobs.cli import run

pytestmark = pytest.mark.slow

CONTRACT = (
    "apiVersion: v3.1.0\nkind: DataContract\nid: c\nversion: 1.0.0\nstatus: active\nschema:\n"
    "  - name: people\n    properties:\n      - {name: id, logicalType: integer, primaryKey: true}\n"
    "      - {name: email, logicalType: string, logicalTypeOptions: {format: email}}\n"
)


def _job(tmp_path: Path, target: str) -> tuple[int, str]:
    if not (tmp_path / "data.csv").exists():  # a re-run finds the file unchanged (incremental by mtime)
        (tmp_path / "data.csv").write_text("id,email\n1,a@example.com\n2,broken\n3,c@example.com\n")
        (tmp_path / "c.yaml").write_text(CONTRACT)
    (tmp_path / "job.yaml").write_text(f"""
tenant: t1
name: people
source:
  connector: tap-csv
  config: {{incremental: true, files: [{{entity: people, path: data.csv, keys: [id]}}]}}
target: {target}
contract: {{path: c.yaml, policy: quarantine}}
""")
    audit = str(tmp_path / "audit.jsonl")
    result = CliRunner().invoke(run, [str(tmp_path / "job.yaml"), "--audit-log", audit, "--progress-interval", "0"])
    return result.exit_code, result.output


def test_target_iceberg_quarantines_in_its_own_commits_without_a_mapper(tmp_path):
    code, output = _job(tmp_path, "{connector: target-iceberg, config: {warehouse: wh}}")
    assert code == 0, output
    assert output.splitlines()[-1] == "t1/people: ok, 3 records (people 3)"
    assert "[dativo-validate]" not in output  # no mapper process ran
    assert "[target-iceberg]   stream 'people': 3 records checked, 1 broke the contract (quarantined)" in output
    assert not (tmp_path / "quarantine").exists()
    catalog = embedded_catalog(tmp_path / "wh")
    people = catalog.load_table("default.people").scan().to_arrow().sort_by("id").to_pylist()
    assert [(r["id"], r["email"]) for r in people] == [(1, "a@example.com"), (3, "c@example.com")]
    (bad,) = catalog.load_table("default.people__quarantine").scan().to_arrow().to_pylist()
    assert (bad["_dativo_stream"], bad["_dativo_rule"], bad["_dativo_source_line"]) == ("people", "format", 3)
    assert {k: v for k, v in orjson.loads(bad["_dativo_record"]).items() if k in ("id", "email")} == {"id": 2, "email": "broken"}

    code, output = _job(tmp_path, "{connector: target-iceberg, config: {warehouse: wh}}")  # a re-run
    assert (code, output.splitlines()[-1]) == (0, "t1/people: ok, 0 records")
    assert catalog.load_table("default.people__quarantine").scan().to_arrow().num_rows == 1


def test_other_targets_keep_the_mapper_and_the_quarantine_file(tmp_path):
    code, output = _job(tmp_path, "{connector: target-csv, config: {output_path: out}}")
    assert code == 0, output
    assert "[dativo-validate]" in output
    with open(tmp_path / "out" / "people.csv", newline="") as rows:
        assert [row["id"] for row in csv.DictReader(rows)] == ["1", "3"]
    (bad,) = [orjson.loads(line) for line in (tmp_path / "quarantine" / "people.jsonl").read_bytes().splitlines()]
    assert (bad["_dativo_rule"], bad["_dativo_source_line"]) == ("format", 3)
    with open(tmp_path / "out" / "people__quarantine.csv", newline="") as rows:
        assert [row["_dativo_rule"] for row in csv.DictReader(rows)] == ["format"]
