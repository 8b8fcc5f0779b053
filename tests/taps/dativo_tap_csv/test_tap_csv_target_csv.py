"""tap-csv piped into a third-party Singer target (MeltanoLabs target-csv) yields the input rows."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pyarrow.csv as pacsv

from tap_csv_helpers import DATA, REPO

TARGET_CSV = Path(sys.executable).with_name("target-csv")


def _as_utc(value: str | dt.datetime | None) -> dt.datetime | None:
    """A timestamp as an aware UTC datetime: tap-csv reads text without an offset as UTC."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value


def _rows(path: Path) -> list[dict]:
    options = pacsv.ConvertOptions(null_values=[""], strings_can_be_null=True)
    rows = pacsv.read_csv(path, convert_options=options).to_pylist()
    for row in rows:
        if "updated_at" in row:  # the typed fixture mixes timestamps with and without offset
            row["updated_at"] = _as_utc(row["updated_at"])
    return rows


def test_rows_survive_a_pipe_into_target_csv(tmp_path: Path) -> None:
    awkward = tmp_path / "awkward.csv"
    awkward.write_text(
        'id,text,amount\n1,"She said ""hi"", then left",1.5\n2,"line one\nline two",\n'
        "3,Zoë → 東京,-2\n",
        encoding="utf-8",
    )
    inputs = {
        "customers": REPO / "examples" / "csv" / "customers.csv",
        "typed": DATA / "typed.csv",
        "awkward": awkward,
    }
    tap_config = tmp_path / "tap.json"
    tap_config.write_text(
        json.dumps({"files": [{"entity": k, "path": str(v), "keys": ["id"]} for k, v in inputs.items()]})
    )
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target_config = tmp_path / "target.json"
    target_config.write_text(json.dumps({"output_path": str(out_dir), "validate_records": True}))

    tap = subprocess.Popen(
        [sys.executable, "-m", "dativo_tap_csv.tap", "--config", str(tap_config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
    )
    target = subprocess.run(
        [str(TARGET_CSV), "--config", str(target_config)],
        stdin=tap.stdout,
        capture_output=True,
        cwd=tmp_path,
    )
    assert tap.stdout is not None
    tap.stdout.close()
    tap_stderr = tap.stderr.read() if tap.stderr else b""
    assert tap.wait() == 0, tap_stderr.decode()
    assert target.returncode == 0, target.stderr.decode()

    for stream, source in inputs.items():
        # Parsed the same way, the rows target-csv wrote equal the rows tap-csv read.
        assert _rows(out_dir / f"{stream}.csv") == _rows(source), stream
    assert len(_rows(out_dir / "customers.csv")) == 20
