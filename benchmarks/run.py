"""Dativo's benchmark: every figure is a ratio against the pyarrow floor measured in the same run.

    .venv/bin/python benchmarks/run.py --rows 1000000            # the standard run
    .venv/bin/python benchmarks/run.py --rows 5000000 --only pipe # memory flatness check

Scenarios (each needs its plugin installed; a missing one is reported as skipped, with why):
  floor       pyarrow CSV read + Parquet write of the same file (the baseline, 1.0x)
  tap         tap-csv alone, RECORD lines to /dev/null
  pipe        tap-csv | target-iceberg, RECORD messages
  batch       tap-csv (parquet BATCH messages) | target-iceberg
  dativo-pipe the same RECORD pipe run through `dativo pipe` (the relay's overhead)
  rust-tap    the Rust CSV reader as a tap, RECORD lines to /dev/null
  singer-sdk  meltanolabs-target-csv (a singer-sdk target) vs target-iceberg on one RECORD
              file of --sdk-rows rows; reported as a speed ratio of the two
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from measure import Measurement, run_pipeline  # noqa: E402

BIN = Path(sys.executable).parent
DATAGEN = Path(__file__).with_name("datagen.py")


def write_csv(path: Path, rows: int) -> Path:
    """In a child process: a child's peak RSS counts the parent's memory at fork time,
    so this process stays small (no polars, no data) to keep the figures true."""
    subprocess.run([sys.executable, str(DATAGEN), str(path), "--rows", str(rows)], check=True)
    return path
FLOOR_SCRIPT = (
    "import sys, pyarrow.csv as c, pyarrow.parquet as p;"
    "p.write_table(c.read_csv(sys.argv[1]), sys.argv[2])"
)


# Rows per BATCH file, as docs/tap-csv.md recommends for Iceberg (singer-sdk's default is 10,000).
BATCH_SIZE = 500_000


class Bench:
    def __init__(self, work: Path, csv_path: Path, rows: int) -> None:
        self.work = work
        self.csv = csv_path
        self.rows = rows
        self.results: list[dict] = []
        self.floor: Measurement | None = None

    def tool(self, name: str) -> str:
        path = BIN / name
        if not path.exists():
            raise FileNotFoundError(f"{name} is not installed in {BIN}")
        return str(path)

    def write_json(self, name: str, value: dict) -> Path:
        path = self.work / name
        path.write_text(json.dumps(value))
        return path

    def tap_config(self, **extra: object) -> Path:
        files = [{"entity": "bench", "path": str(self.csv), "keys": ["id"]}]
        return self.write_json("tap.json", {"files": files, **extra})

    def target_config(self, name: str) -> Path:
        warehouse = self.work / f"warehouse-{name}"
        shutil.rmtree(warehouse, ignore_errors=True)
        return self.write_json(f"target-{name}.json", {"warehouse": str(warehouse)})

    def record(self, name: str, measurement: Measurement, rows: int | None = None, note: str = "") -> None:
        rows = rows or self.rows
        ratio = measurement.seconds / self.floor.seconds if self.floor else 1.0
        cpu_ratio = measurement.cpu_seconds / self.floor.cpu_seconds if self.floor else 1.0
        self.results.append(
            {
                "scenario": name,
                "seconds": round(measurement.seconds, 2),
                "x_floor": round(ratio, 2),
                "cpu_seconds": round(measurement.cpu_seconds, 2),
                "cpu_x_floor": round(cpu_ratio, 2),
                "rows_per_s": int(rows / measurement.seconds),
                "peak_rss_mb": [round(r) for r in measurement.peak_rss_mb],
                "note": note,
            }
        )
        print(f"  {name}: {measurement.seconds:.2f}s ({ratio:.2f}x floor), "
              f"CPU {measurement.cpu_seconds:.2f}s ({cpu_ratio:.2f}x), "
              f"peak RSS {', '.join(f'{r:.0f}' for r in measurement.peak_rss_mb)} MB {note}", flush=True)

    # -- scenarios ------------------------------------------------------------------------
    def floor_run(self) -> None:
        out = self.work / "floor.parquet"
        m = run_pipeline([[sys.executable, "-c", FLOOR_SCRIPT, str(self.csv), str(out)]])
        self.floor = m
        self.record("floor", m, note="pyarrow CSV -> Parquet")

    def tap(self) -> None:
        m = run_pipeline([[self.tool("tap-csv"), "--config", str(self.tap_config())]])
        self.record("tap", m, note="tap-csv > /dev/null")

    def pipe(self) -> None:
        m = run_pipeline(
            [
                [self.tool("tap-csv"), "--config", str(self.tap_config())],
                [self.tool("target-iceberg"), "--config", str(self.target_config("pipe"))],
            ]
        )
        self.record("pipe", m, note="tap-csv | target-iceberg (RECORD)")

    def batch(self) -> None:
        batch_dir = self.work / "batches"
        shutil.rmtree(batch_dir, ignore_errors=True)
        batch_dir.mkdir()
        batch_config = {
            "batch_size": BATCH_SIZE,
            "encoding": {"format": "parquet", "compression": "none"},
            "storage": {"root": f"file://{batch_dir}", "prefix": "bench-"},
        }
        m = run_pipeline(
            [
                [self.tool("tap-csv"), "--config", str(self.tap_config(batch_config=batch_config))],
                [self.tool("target-iceberg"), "--config", str(self.target_config("batch"))],
            ]
        )
        self.record("batch", m, note="tap-csv | target-iceberg (parquet BATCH)")

    def dativo_pipe(self) -> None:
        m = run_pipeline(
            [
                [
                    self.tool("dativo"), "pipe",
                    "--tap", self.tool("tap-csv"), "--tap-config", str(self.tap_config()),
                    "--target", self.tool("target-iceberg"),
                    "--target-config", str(self.target_config("dativo-pipe")),
                    "--state-file", str(self.work / "dativo-pipe-state.json"),
                ]
            ]
        )
        self.record("dativo-pipe", m, note="dativo pipe tap-csv -> target-iceberg")

    def rust_tap(self) -> None:
        config = self.write_json("rust-tap.json", {"stream": "bench", "path": str(self.csv)})
        reader = "dativo_core.native.reader:RustCSVReader"
        m = run_pipeline(
            [[self.tool("tap-reader"), "--reader", reader, "--config", str(config)]]
        )
        self.record("rust-tap", m, note="Rust CSV reader tap > /dev/null")

    def singer_sdk(self, sdk_rows: int) -> None:
        small_csv = write_csv(self.work / "sdk.csv", sdk_rows)
        files = [{"entity": "bench", "path": str(small_csv), "keys": ["id"]}]
        records = self.work / "sdk-records.jsonl"
        tap = [self.tool("tap-csv"), "--config", str(self.write_json("sdk-tap.json", {"files": files}))]
        run_pipeline([tap], stdout_path=records)
        ours = run_pipeline(
            [[self.tool("target-iceberg"), "--config", str(self.target_config("sdk"))]],
            stdin_path=records,
        )
        out_dir = self.work / "target-csv-out"
        shutil.rmtree(out_dir, ignore_errors=True)
        out_dir.mkdir()
        theirs = run_pipeline(
            [[self.tool("target-csv"), "--config",
              str(self.write_json("target-csv.json", {"output_path": str(out_dir)}))]],
            stdin_path=records,
        )
        self.record("target-iceberg (file)", ours, rows=sdk_rows, note=f"{sdk_rows} RECORD lines")
        self.record("target-csv (singer-sdk)", theirs, rows=sdk_rows, note=f"{sdk_rows} RECORD lines")
        print(f"  target-iceberg is {theirs.seconds / ours.seconds:.1f}x faster than target-csv")


SCENARIOS: dict[str, Callable[[Bench], None]] = {
    "tap": Bench.tap,
    "pipe": Bench.pipe,
    "batch": Bench.batch,
    "dativo-pipe": Bench.dativo_pipe,
    "rust-tap": Bench.rust_tap,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sdk-rows", type=int, default=300_000)  # so start-up does not dominate
    parser.add_argument("--only", action="append", choices=[*SCENARIOS, "singer-sdk"])
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="dativo-bench-"))
    try:
        print(f"generating {args.rows} rows x 10 columns in {work}", flush=True)
        bench = Bench(work, write_csv(work / "data.csv", args.rows), args.rows)
        print(f"CSV: {bench.csv.stat().st_size / 1e6:.0f} MB", flush=True)
        bench.floor_run()
        chosen = args.only or [*SCENARIOS, "singer-sdk"]
        for name in chosen:
            try:
                if name == "singer-sdk":
                    bench.singer_sdk(args.sdk_rows)
                else:
                    SCENARIOS[name](bench)
            except (FileNotFoundError, ImportError, RuntimeError) as exc:
                print(f"  {name}: skipped: {str(exc).strip()[:1500]}", flush=True)
        if args.json:
            args.json.write_text(json.dumps(bench.results, indent=2))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
