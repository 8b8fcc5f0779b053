"""`dativo connectors`, `check`, `discover` and `run` through click, with real plugins."""

from __future__ import annotations

import json

import orjson
from click.testing import CliRunner

from dativo_core.jobs.cli import check, connectors, discover, run

CSV = "id,name,secret_note\n1,a,x\n2,b,y\n"


def _job(tmp_path, extra: str = "", target: str = "", incremental: bool = False) -> str:
    (tmp_path / "data.csv").write_text(CSV)
    job = tmp_path / "job.yaml"
    job.write_text(
        "tenant: t1\nsource:\n  connector: tap-csv\n  config: {files: [{entity: things, path: data.csv, keys: [id]}], "
        f"incremental: {str(incremental).lower()}}}\n"
        + extra + (target or "target: {connector: target-iceberg, config: {warehouse: wh}}\n")
    )
    return str(job)


def test_connectors_list_and_show():
    listed = CliRunner().invoke(connectors, ["list"])
    assert listed.exit_code == 0
    names = [line.split()[0] for line in listed.output.splitlines()]
    assert {"tap-csv", "target-iceberg", "tap-postgres", "source-faker"} <= set(names)
    shown = CliRunner().invoke(connectors, ["show", "tap-postgres"])
    recipe = json.loads(shown.output)
    assert recipe["install"]["package"].startswith("meltanolabs-tap-postgres==")
    assert "password" in recipe["secrets"] and recipe["file"].endswith("tap-postgres.yaml")
    missing = CliRunner().invoke(connectors, ["show", "tap-nope"])
    assert missing.exit_code == 1 and "no connector recipe named 'tap-nope'" in missing.output


def test_discover_a_job_applies_its_selection(tmp_path):
    job = _job(tmp_path, "  fields: {things: [id, name]}\n")
    result = CliRunner().invoke(discover, ["--job", job, "--audit-log", str(tmp_path / "audit.jsonl")])
    assert result.exit_code == 0, result.output
    (stream,) = json.loads(result.output)["streams"]
    selected = {tuple(m["breadcrumb"]): m["metadata"].get("selected") for m in stream["metadata"]}
    assert selected[()] is True and selected[("properties", "secret_note")] is False
    assert selected[("properties", "name")] is True


def test_discover_and_check_a_connector_by_name(tmp_path):
    (tmp_path / "data.csv").write_text(CSV)
    config = tmp_path / "tap.yaml"
    config.write_text("files: [{entity: things, path: data.csv}]\n")
    found = CliRunner().invoke(discover, ["tap-csv", "--config", str(config), "--audit-log", str(tmp_path / "a")])
    assert found.exit_code == 0, found.output
    assert [s["stream"] for s in json.loads(found.output)["streams"]] == ["things"]
    checked = CliRunner().invoke(check, ["tap-csv", "--config", str(config), "--audit-log", str(tmp_path / "a")])
    assert (checked.exit_code, checked.output) == (0, "tap-csv: ok (--test)\n")


def test_check_a_job_checks_tap_and_target(tmp_path):
    result = CliRunner().invoke(check, ["--job", _job(tmp_path), "--audit-log", str(tmp_path / "a")])
    assert (result.exit_code, result.output) == (0, "tap-csv: ok (--test)\ntarget-iceberg: ok (--about)\n")


def test_config_errors_name_the_job_file_and_the_path(tmp_path):
    job = _job(tmp_path, target="target: {connector: target-iceberg, config: {warehouse: wh, max_batch_rows: 0}}\n")
    result = CliRunner().invoke(run, [job, "--audit-log", str(tmp_path / "audit.jsonl")])
    assert result.exit_code == 1
    assert (f"t1/job: FAILED: {job} (config of target-iceberg) at $.max_batch_rows: "
            "0 is less than the minimum of 1") in result.output
    events = [orjson.loads(line) for line in (tmp_path / "audit.jsonl").read_bytes().splitlines()]
    assert events[-1]["outcome"] == "failed" and events[-1]["job"] == "t1/job"


def test_a_tap_named_as_target_is_refused(tmp_path):
    job = _job(tmp_path, target="target: {connector: tap-csv}\n")
    result = CliRunner().invoke(run, [job, "--audit-log", str(tmp_path / "audit.jsonl")])
    assert result.exit_code == 1
    assert f"{job} at $.target: connector 'tap-csv' is a tap, not a target" in result.output


def test_run_a_single_job_twice_loads_once(tmp_path):
    job = _job(tmp_path, incremental=True)
    args = [job, "--audit-log", str(tmp_path / "audit.jsonl"), "--progress-interval", "0"]
    assert CliRunner().invoke(run, args).output.splitlines()[-1] == "t1/job: ok, 2 records (things 2)"
    assert CliRunner().invoke(run, args).output.splitlines()[-1] == "t1/job: ok, 0 records"
    assert json.loads((tmp_path / "state" / "t1" / "job.json").read_text())
