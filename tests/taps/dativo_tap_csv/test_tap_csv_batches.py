"""`batch_config`: BATCH messages whose files hold the rows, typed, in the chosen encoding."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from tap_csv_helpers import DATA, REPO, states

CUSTOMERS = REPO / "examples" / "csv" / "customers.csv"


def _config(tmp_path: Path, fmt: str, compression: str, **extra: object) -> dict:
    return {
        "files": [{"entity": "customers", "path": str(CUSTOMERS), "keys": ["id"]}],
        "batch_config": {
            "encoding": {"format": fmt, "compression": compression},
            "storage": {"root": (tmp_path / "batches").as_uri(), "prefix": "demo-"},
            "batch_size": 8,
        },
        **extra,
    }


def _manifest_paths(messages: list[dict]) -> list[Path]:
    return [
        Path(urlparse(url).path)
        for m in messages
        if m["type"] == "BATCH"
        for url in m["manifest"]
    ]


def _dictionary_pages(path: Path) -> dict[str, bool]:
    """Whether each column of the file's first row group has a dictionary page."""
    group = pq.ParquetFile(path).metadata.row_group(0)
    return {group.column(i).path_in_schema: group.column(i).has_dictionary_page for i in range(group.num_columns)}


def test_parquet_batches_have_dictionaries_for_repeated_text_only(run_tap, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("id,customer,status,amount\n" + "".join(
        f"{i},customer {i},{('open', 'paid', 'sent')[i % 3]},{i % 7}.5\n" for i in range(3000)
    ))
    config = _config(tmp_path, "parquet", "none")
    config["files"] = [{"entity": "orders", "path": str(path), "keys": ["id"]}]
    paths = _manifest_paths(run_tap(config))
    assert _dictionary_pages(paths[0]) == {"id": False, "customer": False, "status": True, "amount": False}
    assert pq.read_table(paths[0]).column("status").to_pylist()[:4] == ["open", "paid", "sent", "open"]


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
@pytest.mark.parametrize("compression", ["gzip", "none"])
def test_batch_files_hold_every_row(run_tap, tmp_path: Path, fmt: str, compression: str) -> None:
    messages = run_tap(_config(tmp_path, fmt, compression))
    assert not [m for m in messages if m["type"] == "RECORD"]
    batches = [m for m in messages if m["type"] == "BATCH"]
    assert [b["encoding"] for b in batches] == [{"format": fmt, "compression": compression}] * 3
    paths = _manifest_paths(messages)
    assert all(p.name.startswith("demo-tap-csv--customers-") for p in paths)
    if fmt == "parquet":
        tables = [pq.read_table(p) for p in paths]
        assert [t.num_rows for t in tables] == [8, 8, 4]
        table = pa.concat_tables(tables)
        assert table.schema.field("signed_up_at").type == pa.timestamp("us", tz="UTC")
        assert table.schema.field("lifetime_value").type == pa.float64()
        # keys are required columns, as in the target's tables, so the files register unread
        assert not table.schema.field("id").nullable and table.schema.field("name").nullable
        # no column is dictionary-encoded: the text ones hold distinct values
        assert not any(_dictionary_pages(paths[0]).values())
        rows = table.to_pylist()
    else:
        opener = gzip.open if compression == "gzip" else open
        rows = []
        for path in paths:
            with opener(path, "rb") as fh:
                rows.extend(json.loads(line) for line in fh.read().splitlines())
        assert rows[0]["signed_up_at"] == "2024-01-03T09:15:00+00:00"
    source = pacsv.read_csv(CUSTOMERS).to_pylist()
    assert [r["id"] for r in rows] == [r["id"] for r in source]
    assert [r["email"] for r in rows] == [r["email"] for r in source]
    assert rows[3]["lifetime_value"] is None and rows[3]["name"] == "O'Neil, Cathy"


def test_batch_mode_bookmarks_a_file_only_with_its_last_batch(run_tap, tmp_path: Path) -> None:
    config = _config(tmp_path, "parquet", "none", incremental=True)
    first = run_tap(config)
    last_state = states(first)[-1]
    assert last_state["bookmarks"]["customers"]["files_at_bookmark"] == [str(CUSTOMERS)]
    # Before the file's final batch, no bookmark covers it.
    kinds = [m["type"] for m in first]
    first_state_at = kinds.index("STATE")
    assert kinds[:first_state_at].count("BATCH") == 1
    assert "replication_key_value" not in states(first)[0]["bookmarks"]["customers"]
    assert _manifest_paths(run_tap(config, state=last_state)) == []


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_singer_sdk_target_loads_the_batches(tmp_path: Path, fmt: str) -> None:
    tap_config = tmp_path / "tap.json"
    config = _config(tmp_path, fmt, "gzip")
    config["files"].append({"entity": "typed", "path": str(DATA / "typed.csv"), "keys": ["id"]})
    tap_config.write_text(json.dumps(config))
    target_config = tmp_path / "target.json"
    target_config.write_text(json.dumps({"output_path": str(tmp_path / "out")}))
    (tmp_path / "out").mkdir()
    tap = subprocess.run(
        [sys.executable, "-m", "dativo_tap_csv.tap", "--config", str(tap_config)],
        capture_output=True,
        check=True,
        cwd=REPO,
    )
    subprocess.run(
        [str(Path(sys.executable).with_name("target-csv")), "--config", str(target_config)],
        input=tap.stdout,
        capture_output=True,
        check=True,
    )
    options = pacsv.ConvertOptions(null_values=[""], strings_can_be_null=True)
    loaded = pacsv.read_csv(tmp_path / "out" / "customers.csv", convert_options=options)
    source = pacsv.read_csv(CUSTOMERS, convert_options=options)
    assert loaded.to_pylist() == source.to_pylist()
    assert pacsv.read_csv(tmp_path / "out" / "typed.csv").num_rows == 3
