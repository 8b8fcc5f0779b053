"""The Rust engine against the pyarrow engine: the same messages for the same config, and the
engine chosen as `engine` says."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dativo_tap_csv import rust_engine as rust_engine_module
from dativo_tap_csv.kinds import Kind
from dativo_tap_csv.file_specs import CSVFileError, TapCSVConfigError, load_file_specs
from dativo_tap_csv.rust_engine import rust_engine
from tap_csv_helpers import DATA, REPO, Messages, records, run_in_process, states

CUSTOMERS = REPO / "examples" / "csv" / "customers.csv"


@pytest.fixture(autouse=True)
def built(reader_libraries) -> None:
    """Every test here needs the Rust reader (skipped without cargo)."""


def _without_times(messages: Messages) -> Messages:
    """Messages without the values that differ between two runs: clock times (the table
    version of ACTIVATE_VERSION, a bookmark's signpost)."""
    out = []
    for message in messages:
        message = {k: v for k, v in message.items() if k != "version"}
        for bookmark in message.get("value", {}).get("bookmarks", {}).values():
            bookmark.pop("replication_key_signpost", None)
        out.append(message)
    return out


def _both(config: dict[str, Any], **kwargs: Any) -> tuple[Messages, Messages]:
    rust = run_in_process({**config, "engine": "rust"}, **kwargs)
    pyarrow = run_in_process({**config, "engine": "pyarrow"}, **kwargs)
    return _without_times(rust), _without_times(pyarrow)


def _folder(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    for index, name in enumerate(sorted(files)):  # files are synced in mtime order
        os.utime(tmp_path / name, (1_700_000_000 + index, 1_700_000_000 + index))
    return tmp_path


def test_typed_files_give_the_same_messages(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path,
        {
            "a.csv": (DATA / "typed.csv").read_text(),
            "b.csv": (DATA / "typed.csv").read_text().replace("Widget", '"Wid\nget"'),
        },
    )
    config = {"files": [{"entity": "typed", "path": str(folder), "keys": ["id"]}]}
    rust, pyarrow = _both(config)
    assert rust == pyarrow
    assert len(records(rust)) == 6 and records(rust)[3]["name"] == "Wid\nget"
    assert records(rust)[0]["updated_at"] == "2024-01-05T10:00:00+00:00"


def test_metadata_columns_incremental_state_and_a_deselected_column(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"a.csv": "id,name\n1,x\n2,y\n", "b.csv": "id,name\n3,z\n"})
    config = {
        "files": [{"entity": "s", "path": str(folder)}],
        "incremental": True,
        "add_metadata_columns": True,
    }
    rust, pyarrow = _both(config)
    assert rust == pyarrow
    assert [(r["id"], r["_sdc_source_lineno"]) for r in records(rust)] == [(1, 2), (2, 3), (3, 2)]
    assert states(rust)[-1]["bookmarks"]["s"]["files_at_bookmark"] == [str(folder / "b.csv")]
    # The same state again: nothing new, with either engine.
    last_state = states(run_in_process({**config, "engine": "rust"}))[-1]
    rust, pyarrow = _both(config, state=last_state)
    assert records(rust) == records(pyarrow) == []

    catalog = _catalog_without(run_in_process({"files": config["files"], "engine": "rust"}), "s", "name")
    rust, pyarrow = _both({"files": config["files"]}, catalog=catalog)
    assert rust == pyarrow and records(rust) == [{"id": 1}, {"id": 2}, {"id": 3}]


def _catalog_without(messages: Messages, stream: str, column: str) -> dict[str, Any]:
    (schema,) = [m for m in messages if m["type"] == "SCHEMA" and m["stream"] == stream]
    return {
        "streams": [
            {
                "tap_stream_id": stream,
                "stream": stream,
                "schema": schema["schema"],
                "metadata": [
                    {"breadcrumb": [], "metadata": {"selected": True}},
                    {"breadcrumb": ["properties", column], "metadata": {"selected": False}},
                ],
            }
        ]
    }


def test_activate_version_stamps_every_record() -> None:
    config = {
        "files": [{"entity": "typed", "path": str(DATA / "typed.csv")}],
        "emit_activate_version_messages": True,
    }
    rust = run_in_process({**config, "engine": "rust"})
    assert _without_times(rust) == _without_times(run_in_process({**config, "engine": "pyarrow"}))
    versions = {m["version"] for m in rust if m["type"] in ("RECORD", "ACTIVATE_VERSION")}
    assert len(versions) == 1 and len(records(rust)) == 3


def test_parquet_batches_hold_the_same_rows(tmp_path: Path) -> None:
    tables = []
    for engine in ("rust", "pyarrow"):
        root = tmp_path / engine
        config = {
            "files": [{"entity": "customers", "path": str(CUSTOMERS), "keys": ["id"]}],
            "engine": engine,
            "batch_config": {
                "encoding": {"format": "parquet", "compression": "none"},
                "storage": {"root": root.as_uri()},
                "batch_size": 8,
            },
        }
        messages = run_in_process(config)
        paths = [Path(urlparse(u).path) for m in messages if m["type"] == "BATCH" for u in m["manifest"]]
        tables.append(pa.concat_tables(pq.read_table(p) for p in paths))
    rust, pyarrow = tables
    assert rust.num_rows == 20 and rust.equals(pyarrow)


def test_files_that_disagree_on_a_kind_are_inferred_by_pyarrow(tmp_path: Path) -> None:
    # One file's integers are too long for a number column: as numbers beside the other
    # file's decimals they would be rounded, so the column is text (the Rust reader, reading
    # each file alone, cannot tell; the pyarrow engine's inference decides).
    folder = _folder(tmp_path, {"a.csv": "n\n12345678901234567\n", "b.csv": "n\n1.5\n"})
    config = {"files": [{"entity": "s", "path": str(folder)}]}
    rust, pyarrow = _both(config)
    assert rust == pyarrow
    assert records(rust) == [{"n": "12345678901234567"}, {"n": "1.5"}]
    spec = load_file_specs(config)[0]
    engine = rust_engine({"engine": "rust"}, spec, spec.resolve_paths())
    assert engine is not None and engine.infer_kinds(spec.resolve_paths(), ["n"], None) is None
    # Files that agree are decided by the Rust reader alone.
    assert engine.infer_kinds([folder / "a.csv"], ["n"], None) == {"n": Kind.INTEGER}


def test_engine_rust_refuses_a_stream_it_cannot_read(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("name\nJosé\n".encode("latin-1"))
    entry = {"entity": "latin", "path": str(path), "encoding": "latin-1"}
    with pytest.raises(TapCSVConfigError, match="stream 'latin': engine 'rust' cannot read it: its encoding is 'latin-1'"):
        run_in_process({"files": [entry], "engine": "rust"})
    # auto reads it with pyarrow.
    assert records(run_in_process({"files": [entry]})) == [{"name": "José"}]


def test_auto_uses_rust_when_built_and_pyarrow_when_not(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = load_file_specs({"files": [{"entity": "typed", "path": str(DATA / "typed.csv")}]})[0]
    paths = spec.resolve_paths()
    assert rust_engine({}, spec, paths) is not None
    assert rust_engine({"engine": "pyarrow"}, spec, paths) is None
    monkeypatch.setattr(rust_engine_module, "_built_library", lambda: "the Rust CSV reader is not built")
    assert rust_engine({}, spec, paths) is None
    with pytest.raises(TapCSVConfigError, match="engine 'rust' cannot read it: the Rust CSV reader is not built"):
        rust_engine({"engine": "rust"}, spec, paths)


def test_a_plain_rust_sync_starts_without_pyarrow_or_polars(tmp_path: Path) -> None:
    # Their imports cost ~0.4 CPU-s of every run: only the frame paths (metadata columns,
    # BATCH files, the pyarrow engine) need them.
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"files": [{"entity": "typed", "path": str(DATA / "typed.csv")}]}))
    script = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('IMPORTED', [m for m in ('pyarrow', 'polars') if m in sys.modules],"
        " file=sys.stderr))\n"
        "from dativo_tap_csv.cli import main\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, "--config", str(config)], capture_output=True, text=True, check=True
    )
    assert len([line for line in done.stdout.splitlines() if '"type":"RECORD"' in line]) == 3
    assert "IMPORTED []" in done.stderr


@pytest.mark.parametrize(
    ("text", "entry"),
    [
        # escapechar outside quotes: the Rust reader applies it inside quotes only.
        ("a,b\n1,x\\,y\n2,a\\\"b\n", {"escapechar": "\\"}),
        # lines ended by a bare carriage return: the Rust reader splits at line feeds.
        ("a,b\r1,x\r2,y\r", {}),
    ],
)
def test_streams_the_rust_reader_cannot_read_alike_go_to_pyarrow(tmp_path: Path, text: str, entry: dict) -> None:
    path = tmp_path / "s.csv"
    path.write_bytes(text.encode())
    config = {"files": [{"entity": "s", "path": str(path), **entry}]}
    auto = run_in_process(config)
    assert _without_times(auto) == _without_times(run_in_process({**config, "engine": "pyarrow"}))
    assert len(records(auto)) == 2
    spec = load_file_specs(config)[0]
    assert rust_engine({}, spec, [path]) is None
    with pytest.raises(TapCSVConfigError, match="engine 'rust' cannot read it"):
        rust_engine({"engine": "rust"}, spec, [path])


def test_a_file_rewritten_with_bare_carriage_returns_is_looked_at_again(tmp_path: Path) -> None:
    # The line-end check is kept per file version, since both the early inference and the
    # stream ask; a changed file is checked anew.
    path = tmp_path / "s.csv"
    path.write_bytes(b"a,b\n1,x\n")
    config = {"files": [{"entity": "s", "path": str(path)}]}
    spec = load_file_specs(config)[0]
    assert rust_engine({}, spec, [path]) is not None
    path.write_bytes(b"a,b\r1,x\r2,y\r")
    assert rust_engine({}, spec, [path]) is None


def test_dates_beside_zoned_date_times_are_date_times(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("x\n2024-01-01T10:00:00Z\n2024-01-01\n")
    rust, pyarrow = _both({"files": [{"entity": "s", "path": str(path)}]})
    assert rust == pyarrow
    assert records(rust) == [{"x": "2024-01-01T10:00:00+00:00"}, {"x": "2024-01-01T00:00:00+00:00"}]


def test_a_column_declared_a_number_reads_long_integers_as_numbers(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("x\n1234567890123456789\n1.5\n")
    config = {"files": [{"entity": "s", "path": str(path)}]}
    catalog = _catalog_without(run_in_process(config), "s", "nothing")
    catalog["streams"][0]["schema"]["properties"]["x"] = {"type": ["number", "null"]}
    rust, pyarrow = _both(config, catalog=catalog)
    assert rust == pyarrow and records(rust) == [{"x": 1.2345678901234568e18}, {"x": 1.5}]
    # Inferred, the same column is text: nothing is rounded unasked.
    assert records(run_in_process(config)) == [{"x": "1234567890123456789"}, {"x": "1.5"}]


@pytest.mark.parametrize("batch", [False, True])
def test_a_catalog_selecting_no_column_gives_the_same_output(tmp_path: Path, batch: bool) -> None:
    path = tmp_path / "s.csv"
    path.write_text("a,b\n1,x\n2,y\n")
    config: dict[str, Any] = {"files": [{"entity": "s", "path": str(path)}]}
    if batch:
        config["batch_config"] = {
            "encoding": {"format": "jsonl", "compression": "none"},
            "storage": {"root": (tmp_path / "batches").as_uri()},
        }
    catalog = _catalog_without(run_in_process({"files": config["files"]}), "s", "a")
    catalog["streams"][0]["metadata"].append({"breadcrumb": ["properties", "b"], "metadata": {"selected": False}})
    rust, pyarrow = _both(config, catalog=catalog)
    assert rust == pyarrow
    assert [m for m in rust if m["type"] in ("RECORD", "BATCH")] == []


def test_invalid_utf8_names_line_column_and_the_encoding_setting(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    # Far enough down that the header's read does not decode it.
    path.write_bytes(b"a,b\n" + b"".join(b"%d,ok\n" % i for i in range(20_000)) + b"20000,caf\xe9\n")
    with pytest.raises(CSVFileError) as info:
        run_in_process({"files": [{"entity": "s", "path": str(path)}], "engine": "rust"})
    message = str(info.value)
    assert "line 20002, column 'b'" in message and "set the stream's `encoding`" in message
