"""The Rust CSV reader against pyarrow and tap-csv on the benchmark data (N rows x 10 columns).

    nice .venv/bin/python rust_ext/benchmarks/csv_reader.py --rows 1000000

Each scenario runs in its own process, so its peak RSS is its own; rows/s are for the whole
process (start-up included). CPU seconds (user + system) are shown beside wall time because a
shared machine's load moves wall time a lot more. The data is generated in a child process too:
a large parent would count in every forked child's peak RSS.
Build the reader first: `python -m dativo_core.native.build`.
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

REPO = Path(__file__).resolve().parents[2]

PYARROW_READ = "import sys, pyarrow.csv as c; print(c.read_csv(sys.argv[1]).num_rows, file=sys.stderr)"
PYARROW_STREAM = (
    "import sys, pyarrow.csv as c;"
    "print(sum(b.num_rows for b in c.open_csv(sys.argv[1], read_options=c.ReadOptions(block_size=4<<20))),"
    " file=sys.stderr)"
)
RUST_READ = (
    "import sys; from dativo_core.native import load_library, built_library_path;"
    "r = load_library(built_library_path('dativo_csv_reader')).open({'path': sys.argv[1]});"
    "print(sum(b.num_rows for b in r), file=sys.stderr)"
)

RUST_RECORDS = (
    "import sys; from dativo_core.native import load_library, built_library_path;"
    "r = load_library(built_library_path('dativo_csv_reader')).open({'path': sys.argv[1]});"
    "out = sys.stdout.buffer\n"
    "while (encoded := r.next_records('bench')) is not None: out.write(encoded[0])"
)


def measure(command: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MB) of one command, its stdout discarded."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        assert process.stderr is not None
        raise RuntimeError(f"{' '.join(command)} failed:\n{process.stderr.read().decode()[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def scenarios(csv: Path, work: Path) -> dict[str, list[str]]:
    python = sys.executable
    rust_tap = work / "rust-tap.json"
    rust_tap.write_text(json.dumps({"stream": "bench", "path": str(csv), "keys": ["id"]}))
    tap_csv = work / "tap-csv.json"
    tap_csv.write_text(json.dumps({"files": [{"entity": "bench", "path": str(csv), "keys": ["id"]}]}))
    tap_reader = [python, "-m", "dativo_tap_reader.cli", "--reader", "dativo_core.native.reader:RustCSVReader"]
    return {
        "pyarrow read_csv (whole table)": [python, "-c", PYARROW_READ, str(csv)],
        "pyarrow open_csv (streaming)": [python, "-c", PYARROW_STREAM, str(csv)],
        "rust reader -> Arrow batches": [python, "-c", RUST_READ, str(csv)],
        "rust reader -> RECORD lines > /dev/null": [python, "-c", RUST_RECORDS, str(csv)],
        "tap-csv RECORDs > /dev/null": [python, "-c", "from dativo_tap_csv.tap import TapCSV; TapCSV.cli()", "--config", str(tap_csv)],
        "tap-reader rust-csv RECORDs > /dev/null": [*tap_reader, "--config", str(rust_tap)],
        "tap-reader rust-csv --no-sandbox": [*tap_reader, "--no-sandbox", "--config", str(rust_tap)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--only", action="append", help="run only scenarios whose name contains this")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dativo-rust-bench-") as folder:
        work = Path(folder)
        csv = work / "data.csv"
        datagen = [sys.executable, str(REPO / "benchmarks" / "datagen.py"), str(csv), "--rows", str(args.rows)]
        subprocess.run(datagen, check=True)
        print(f"{args.rows} rows x 10 columns, {csv.stat().st_size / 1e6:.0f} MB", flush=True)
        print(f"  {'scenario':42s} {'wall s':>7s} {'rows/s':>11s} {'CPU s':>7s} {'peak RSS':>9s}")
        for name, command in scenarios(csv, work).items():
            if args.only and not any(part in name for part in args.only):
                continue
            wall, cpu, rss = measure(command)
            print(f"  {name:42s} {wall:7.2f} {args.rows / wall:>11,.0f} {cpu:7.2f} {rss:6.0f} MB", flush=True)


if __name__ == "__main__":
    main()
