"""Inference begun before singer-sdk's import gives the stream the same kinds, and only for its question."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dativo_tap_csv import discovery, early_inference
from dativo_tap_csv.kinds import Kind
from dativo_tap_csv.discovery import infer_kinds
from dativo_tap_csv.headers import shared_header
from dativo_tap_csv.kinds import Inference
from dativo_tap_csv.file_specs import load_file_specs
from dativo_tap_csv.file_specs import DEFAULT_BLOCK_SIZE
from dativo_tap_csv.rust_engine import rust_engine
from dativo_tap_csv.typed_spool import Spool


@pytest.fixture()
def config_file(tmp_path: Path) -> Path:
    data = tmp_path / "people.csv"
    data.write_text("id,name,born,score\n1,ann,2020-01-01,1.5\n2,bob,,2\n")
    path = tmp_path / "config.json"
    # pyarrow's inference is the one that keeps converted rows (the Rust engine's is below).
    files = [{"entity": "people", "path": str(data), "keys": ["id"]}]
    path.write_text(json.dumps({"files": files, "engine": "pyarrow"}))
    return path


@pytest.fixture(autouse=True)
def no_early_answers(monkeypatch):
    monkeypatch.setattr(early_inference, "_early", None)


def question(config_file: Path, block_size: int = DEFAULT_BLOCK_SIZE):
    spec = load_file_specs(json.loads(config_file.read_text()))[0]
    paths = spec.resolve_paths()
    return spec, paths, shared_header(spec, paths), block_size, None


def test_the_early_answer_is_the_inferred_one_and_is_used(config_file, monkeypatch):
    early_inference.start(["--config", str(config_file)])
    spec, paths, header, block_size, max_rows = question(config_file)
    expected = infer_kinds(spec, paths, header, block_size, max_rows).kinds
    assert expected == {"id": Kind.INTEGER, "name": Kind.STRING, "born": Kind.DATE, "score": Kind.NUMBER}
    monkeypatch.setattr(discovery, "infer_kinds", lambda *a: pytest.fail("inferred again"))
    early = early_inference.inference(spec, paths, header, block_size, max_rows, None)
    assert early.kinds == expected
    # A command that syncs keeps the converted rows, so the sync does not parse the file again.
    assert list(early.kept) == paths


def test_another_question_is_inferred_when_asked(config_file, monkeypatch):
    asked = []
    monkeypatch.setattr(
        discovery, "infer_kinds", lambda *a: asked.append(a) or Inference({"id": Kind.STRING})
    )
    early_inference.start([f"--config={config_file}"])
    spec, paths, header, block_size, max_rows = question(config_file)
    assert early_inference.inference(spec, paths, header, 4096, max_rows, None).kinds == {"id": Kind.STRING}
    # The early question (the configured block size) was answered first, keeping the rows it
    # converted in a spool; this one when asked, keeping none.
    assert isinstance(asked[0][-1], Spool)
    assert asked == [
        (spec, paths, header, block_size, max_rows, asked[0][-1]),
        (spec, paths, header, 4096, max_rows, None),
    ]


@pytest.mark.parametrize("extra", [["--discover"], ["--test"], ["--test=schema"]])
def test_a_command_that_syncs_no_whole_file_keeps_no_rows(config_file, extra):
    early_inference.start(["--config", str(config_file), *extra])
    spec, paths, header, block_size, max_rows = question(config_file)
    early = early_inference.inference(spec, paths, header, block_size, max_rows, None)
    assert early.kinds["score"] == Kind.NUMBER and early.kept == {}


def test_an_incremental_stream_keeps_no_rows(config_file):
    config = json.loads(config_file.read_text())
    config["incremental"] = True
    config_file.write_text(json.dumps(config))
    early_inference.start(["--config", str(config_file)])
    spec, paths, header, block_size, max_rows = question(config_file)
    early = early_inference.inference(spec, paths, header, block_size, max_rows, None)
    assert early.kinds["born"] == Kind.DATE and early.kept == {}


def test_the_rust_engine_answers_early_with_the_same_kinds_and_keeps_no_rows(
    config_file, monkeypatch, reader_libraries
):
    config = json.loads(config_file.read_text())
    config["engine"] = "rust"
    config_file.write_text(json.dumps(config))
    spec, paths, header, block_size, max_rows = question(config_file)
    expected = infer_kinds(spec, paths, header, block_size, max_rows).kinds
    early_inference.start(["--config", str(config_file)])
    monkeypatch.setattr(discovery, "infer_kinds", lambda *a: pytest.fail("pyarrow inferred"))
    rust = rust_engine(config, spec, paths)
    monkeypatch.setattr(rust, "infer_kinds", lambda *a: pytest.fail("inferred again"))
    early = early_inference.inference(spec, paths, header, block_size, max_rows, rust)
    assert early.kinds == expected and early.kept == {}


@pytest.mark.parametrize(
    "extra", [["--catalog", "c.json"], ["--properties=p.json"], ["--about"], ["--version"], ["--config", "other.json"]]
)
def test_no_inference_begins_when_the_command_will_not_infer(config_file, extra):
    early_inference.start(["--config", str(config_file), *extra])
    assert early_inference._early is None


def test_a_config_that_cannot_work_is_left_to_the_stream_to_report(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"files": [{"entity": "x", "path": str(tmp_path / "missing.csv")}]}))
    run = subprocess.run(
        [str(Path(sys.executable).parent / "tap-csv"), "--config", str(path)], capture_output=True, text=True
    )
    assert run.returncode != 0
    assert "stream 'x': path" in run.stderr and "does not exist" in run.stderr


def test_the_command_emits_the_inferred_schema(config_file):
    run = subprocess.run(
        [str(Path(sys.executable).parent / "tap-csv"), "--config", str(config_file)], capture_output=True, check=True
    )
    messages = [json.loads(line) for line in run.stdout.splitlines()]
    schema = next(m for m in messages if m["type"] == "SCHEMA")["schema"]["properties"]
    assert schema["born"] == {"type": ["string", "null"], "format": "date"}
    assert schema["score"] == {"type": ["number", "null"]}
    assert [m["record"]["score"] for m in messages if m["type"] == "RECORD"] == [1.5, 2.0]
