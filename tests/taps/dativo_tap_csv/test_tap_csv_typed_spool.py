"""Rows kept from type inference: used only when they are exactly what reading the file again gives."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from dativo_tap_csv import early_inference, reading
from dativo_tap_csv.column_kinds import arrow_type
from dativo_tap_csv.kinds import Kind
from dativo_tap_csv.discovery import infer_kinds
from dativo_tap_csv.headers import shared_header
from dativo_tap_csv.file_specs import load_file_specs
from dativo_tap_csv.reading import read_batches
from dativo_tap_csv.typed_spool import Spool
from tap_csv_helpers import records, run_in_process

TAP_CSV = str(Path(sys.executable).parent / "tap-csv")
MIXED_HEADER = "id,name,score,active,born,seen_at,note\n"
MULTI_LINE_NOTE = '"line one\nline two"'


def mixed_rows(first: int, count: int) -> str:
    return "".join(
        f'{i},"name, {i}",{i / 4},{"true" if i % 3 else "false"},2020-01-{1 + i % 28:02d},'
        f"2024-05-01T10:00:{i % 60:02d}+02:00,{'' if i % 5 else MULTI_LINE_NOTE}\n"
        for i in range(first, first + count)
    )


def infer(path: Path, block_size: int = 4096, spool_bytes: int = 1 << 20, spool: Spool | None = None):
    spec = load_file_specs({"files": [{"entity": "s", "path": str(path)}]})[0]
    paths = spec.resolve_paths()
    header = shared_header(spec, paths)
    return spec, infer_kinds(spec, paths, header, block_size, None, spool or Spool(spool_bytes))


def types_of(inference) -> dict[str, pa.DataType]:
    return {name: arrow_type(kind) for name, kind in inference.kinds.items()}


def kept_rows(inference, path: Path) -> pa.Table:
    kept = inference.kept[path]
    assert kept.can_replace(types_of(inference))
    return pa.Table.from_batches(list(kept.batches(list(inference.kinds))))


def test_kept_rows_equal_a_second_read_of_the_file(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text(MIXED_HEADER + mixed_rows(0, 2000))
    spec, inference = infer(path)
    assert inference.kinds == {
        "id": Kind.INTEGER,
        "name": Kind.STRING,
        "score": Kind.NUMBER,
        "active": Kind.BOOLEAN,
        "born": Kind.DATE,
        "seen_at": Kind.DATE_TIME,
        "note": Kind.STRING,
    }
    read_again = pa.Table.from_batches(list(read_batches(path, spec, inference.kinds, 4096)))
    kept = kept_rows(inference, path)
    assert kept.num_rows == 2000 and kept.equals(read_again)


def test_a_column_widened_after_the_first_batch_keeps_no_rows(tmp_path):
    path = tmp_path / "widens.csv"
    path.write_text(MIXED_HEADER + mixed_rows(0, 1000) + "1000,x,not a number,true,2020-01-01,,\n")
    _, inference = infer(path)
    assert inference.kinds["score"] == Kind.STRING
    assert inference.kept == {}


def test_rows_over_the_budget_are_not_kept_and_end_the_spooling(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text(MIXED_HEADER + mixed_rows(0, 3000))
    _, within = infer(path, spool_bytes=10 << 20)
    assert path in within.kept
    _, over = infer(path, spool_bytes=20_000)
    assert over.kept == {}
    _, off = infer(path, spool_bytes=0)
    assert off.kept == {} and off.kinds == within.kinds


def test_the_budget_is_shared_by_every_file_and_stream(tmp_path):
    for name in ("a.csv", "b.csv", "c.csv"):
        (tmp_path / name).write_text(MIXED_HEADER + mixed_rows(0, 1000))
    _, all_kept = infer(tmp_path, spool_bytes=10 << 20)
    one_size = all_kept.kept[tmp_path / "a.csv"].size_bytes
    spool = Spool(one_size + one_size // 2)
    _, first_only = infer(tmp_path, spool=spool)
    # b.csv went over the budget: given up, and c.csv is not even tried
    assert list(first_only.kept) == [tmp_path / "a.csv"]
    assert spool.section_for(tmp_path / "c.csv") is None
    assert kept_rows(first_only, tmp_path / "a.csv").num_rows == 1000


def test_sections_of_one_spool_are_read_back_each_whole(tmp_path):
    (tmp_path / "a.csv").write_text(MIXED_HEADER + mixed_rows(0, 700))
    (tmp_path / "b.csv").write_text(MIXED_HEADER + mixed_rows(700, 900))
    _, inference = infer(tmp_path, spool_bytes=10 << 20)
    b_rows = kept_rows(inference, tmp_path / "b.csv")
    a_rows = kept_rows(inference, tmp_path / "a.csv")
    assert a_rows.column("id").to_pylist() == list(range(700))
    assert b_rows.column("id").to_pylist() == list(range(700, 1600))


def test_kept_rows_do_not_replace_a_file_changed_since(tmp_path):
    path = tmp_path / "changes.csv"
    path.write_text(MIXED_HEADER + mixed_rows(0, 100))
    _, inference = infer(path)
    kept = inference.kept[path]
    assert kept.can_replace(types_of(inference))
    assert not kept.can_replace({**types_of(inference), "id": pa.float64()})  # a catalog's other type
    with path.open("a") as fh:
        fh.write("100,late,1.0,true,2020-01-01,,\n")
    assert not kept.can_replace(types_of(inference))


def test_a_spool_holds_one_descriptor_however_many_files(tmp_path):
    for index in range(30):
        (tmp_path / f"part{index:02d}.csv").write_text(MIXED_HEADER + mixed_rows(index * 10, 10))
    before = len(os.listdir("/proc/self/fd"))
    _, inference = infer(tmp_path, spool_bytes=10 << 20)
    assert len(inference.kept) == 30
    assert len(os.listdir("/proc/self/fd")) == before + 1


def test_a_section_given_other_column_types_is_given_up_and_its_space_reused(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("a\n1\n")
    spool = Spool(1 << 20)
    section = spool.section_for(path)
    section.write(pa.record_batch({"a": pa.array([1])}))
    section.write(pa.record_batch({"a": pa.array(["x"])}))
    assert section.finish() is None
    kept = spool.section_for(path)
    kept.write(pa.record_batch({"a": pa.array([7, 8])}))
    done = kept.finish()
    assert done.offset == 0 and [b.num_rows for b in done.batches(["a"])] == [2]


@pytest.mark.parametrize(
    "first, second",
    [("1.5\n2.25\n", "12345678901234567\n"), ("12345678901234567\n3\n", "1.5\n")],
    ids=["number then long integer", "long integer then number"],
)
def test_a_column_of_long_integers_and_numbers_stays_text(tmp_path, first, second):
    """A float64 cannot hold 17 digits: across batches and files, such a column is text."""
    (tmp_path / "a.csv").write_text("value\n" + first)
    (tmp_path / "b.csv").write_text("value\n" + second)
    _, inference = infer(tmp_path)
    assert inference.kinds == {"value": Kind.STRING}


def run_tap(config: dict, tmp_path: Path, *extra: str) -> bytes:
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    return subprocess.run(
        [TAP_CSV, "--config", str(config_path), *extra], capture_output=True, check=True
    ).stdout


def data_messages(output: bytes) -> list[dict]:
    messages = [json.loads(line) for line in output.splitlines()]
    return [m for m in messages if m["type"] in ("SCHEMA", "RECORD")]


@pytest.mark.parametrize("rows_after", [0, 1])
def test_the_command_emits_the_same_messages_with_and_without_kept_rows(tmp_path, rows_after):
    """Kept rows (no catalog) against a read of the files (the discovered catalog, then the tap)."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.csv").write_text(MIXED_HEADER + mixed_rows(0, 3000))
    # With rows_after, b.csv widens `id` to number after its first batch: b is read again.
    tail = "3000.5,x,1,true,2020-01-01,,\n" if rows_after else ""
    (data / "b.csv").write_text(MIXED_HEADER + mixed_rows(3000, 3000) + tail)
    config = {
        "files": [{"entity": "people", "path": str(data), "keys": ["name"]}],
        "add_metadata_columns": True,
        "block_size_bytes": 8192,
        "engine": "pyarrow",  # the engine whose inference keeps rows
    }
    kept = data_messages(run_tap(config, tmp_path))
    (tmp_path / "catalog.json").write_bytes(run_tap(config, tmp_path, "--discover"))
    read_again = data_messages(run_tap(config, tmp_path, "--catalog", str(tmp_path / "catalog.json")))
    assert kept == read_again
    records = [m["record"] for m in kept if m["type"] == "RECORD"]
    assert len(records) == 6000 + rows_after
    assert records[5]["note"] == "line one\nline two" and records[5]["_sdc_source_lineno"] == 7
    assert records[-1]["_sdc_source_file"].endswith("b.csv")


def test_the_sync_reads_the_kept_rows_instead_of_the_file(tmp_path, monkeypatch):
    path = tmp_path / "mixed.csv"
    path.write_text(MIXED_HEADER + mixed_rows(0, 500))
    config = {"files": [{"entity": "people", "path": str(path)}], "engine": "pyarrow"}
    (tmp_path / "config.json").write_text(json.dumps(config))
    monkeypatch.setattr(early_inference, "_early", None)
    early_inference.start(["--config", str(tmp_path / "config.json")])
    monkeypatch.setattr(reading, "read_batches", lambda *a: pytest.fail("the file was read again"))
    synced = records(run_in_process(config))
    assert [r["id"] for r in synced] == list(range(500))
    assert synced[1]["seen_at"] == "2024-05-01T08:00:01+00:00" and synced[0]["note"] == "line one\nline two"
