"""Benchmark target-iceberg alone on pre-generated RECORD lines, against a pyarrow floor.

    nice .venv/bin/python tests/targets/dativo_target_iceberg/benchmark_records.py --rows 1000000

Prints, for one run on this machine: pyarrow CSV -> Parquet of the same rows (the floor),
`target-iceberg --input records.singer`, their ratio, and each one's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

STREAM = "bench"
SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": ["string", "null"]},
        "amount": {"type": ["number", "null"]},
        "active": {"type": ["boolean", "null"]},
        "created_at": {"type": ["string", "null"], "format": "date-time"},
        "day": {"type": ["string", "null"], "format": "date"},
        "quantity": {"type": ["integer", "null"]},
        "category": {"type": ["string", "null"]},
        "score": {"type": ["number", "null"]},
        "note": {"type": ["string", "null"]},
    },
}

FLOOR = """
import sys, pyarrow.csv as csv, pyarrow.parquet as pq
pq.write_table(csv.read_csv(sys.argv[1]), sys.argv[2])
"""


def sample_frame(rows: int) -> pl.DataFrame:
    ids = pl.int_range(0, rows, eager=True)
    return pl.select(
        id=ids,
        name="user_" + ids.cast(pl.String),
        amount=ids.cast(pl.Float64) * 1.25,
        active=ids % 3 == 0,
        created_at=(pl.lit(1_704_067_200_000_000) + ids * 1_000_000)
        .cast(pl.Datetime("us"))
        .dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ"),
        day=(pl.lit(19_723) + ids % 365).cast(pl.Date).cast(pl.String),
        quantity=ids % 1000,
        category=pl.Series(["alpha", "beta", "gamma", "delta"]).gather(ids % 4),
        score=(ids % 97).cast(pl.Float64) / 7,
        note=pl.lit("lorem ipsum dolor sit amet"),
    )


def write_inputs(rows: int, folder: Path) -> tuple[Path, Path]:
    """The same rows as CSV (for the floor) and as Singer RECORD lines (for the target)."""
    frame = sample_frame(rows)
    csv_path = folder / "rows.csv"
    frame.write_csv(csv_path)
    singer_path = folder / "records.singer"
    head = json.dumps({"type": "SCHEMA", "stream": STREAM, "schema": SCHEMA, "key_properties": ["id"]})
    lines = frame.write_ndjson().splitlines()
    prefix = '{"type":"RECORD","stream":"%s","record":' % STREAM
    with singer_path.open("w", encoding="utf-8") as out:
        out.write(head + "\n")
        for start in range(0, len(lines), 100_000):
            out.write("".join(f"{prefix}{line}}}\n" for line in lines[start : start + 100_000]))
        out.write(json.dumps({"type": "STATE", "value": {"rows": rows}}) + "\n")
    return csv_path, singer_path


def measure(command: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and peak RSS in MB of one command."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed with exit status {status}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--with-target-csv", action="store_true",
                        help="also time meltanolabs-target-csv, a singer-sdk target, on the same input")
    parser.add_argument("--write-inputs-to", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write_inputs_to:
        write_inputs(args.rows, args.write_inputs_to)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        # Written by a child process: a forked child's peak RSS starts at its parent's.
        subprocess.run([sys.executable, __file__, "--rows", str(args.rows), "--write-inputs-to", tmp], check=True)
        csv_path, singer_path = folder / "rows.csv", folder / "records.singer"
        config = folder / "target.json"
        config.write_text(json.dumps({"warehouse": str(folder / "warehouse")}))
        floor = measure([sys.executable, "-c", FLOOR, str(csv_path), str(folder / "o.parquet")])
        target = measure(
            [sys.executable, "-m", "dativo_target_iceberg.cli", "--config", str(config), "--input", str(singer_path)]
        )
        results = [("pyarrow CSV -> Parquet (floor)", floor), ("target-iceberg --input", target)]
        if args.with_target_csv:
            csv_config = folder / "target-csv.json"
            csv_config.write_text(json.dumps({"output_path": str(folder / "csv-out"), "validate_records": True}))
            target_csv = Path(sys.executable).parent / "target-csv"
            results.append(("target-csv (singer-sdk)", measure([str(target_csv), "--config", str(csv_config),
                                                                "--input", str(singer_path)])))
        size_mb = singer_path.stat().st_size / 1e6
    print(f"rows: {args.rows:,}   RECORD input: {size_mb:.0f} MB")
    for label, (wall, cpu, rss) in results:
        print(f"{label:31}: wall {wall:6.2f} s   cpu {cpu:6.2f} s   peak RSS {rss:5.0f} MB")
    print(f"ratio target / floor           : wall {target[0] / floor[0]:5.2f}x   cpu {target[1] / floor[1]:5.2f}x")
    if args.with_target_csv:
        sdk = results[-1][1]
        print(f"ratio target-csv / target      : wall {sdk[0] / target[0]:5.2f}x   cpu {sdk[1] / target[1]:5.2f}x")


if __name__ == "__main__":
    main()
