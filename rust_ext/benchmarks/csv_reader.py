"""The Rust CSV reader against pyarrow and tap-csv on the benchmark data (N rows x 10 columns).

    nice .venv/bin/python rust_ext/benchmarks/csv_reader.py --rows 1000000 --repeat 5 \\
        --only "tap-reader rust (sandbox)"

Each scenario runs in its own process, so its peak RSS is its own (for a sandboxed tap-reader
it is the larger of the tap and its reader child); rows/s are for the whole process (start-up
included). CPU seconds (user + system, children included) are shown beside wall time because
a shared machine's load moves wall time a lot more. Every scenario runs once unmeasured (to
warm the page cache and write bytecode, as an installed package has it), then the scenarios
run in turn --repeat times, so a change in machine load hits them alike; each figure is the
median of its runs. The load average is printed before and after. The data and the catalogs
are made in child processes too: a large parent would count in every forked child's peak RSS.

"tap-csv" is tap-csv with its pyarrow engine (`engine: pyarrow`), the Python tap the Rust
reader is measured against; "tap-csv, engine rust" is tap-csv reading with this reader.
"tap-csv" and "tap-reader" without a catalog discover first (a full pass to infer types) and
then read; "+ catalog" runs get the catalog `--discover` wrote, so they read once with its
types, as a pipeline with a saved catalog does. The ratios compare each scenario with tap-csv
in the same mode. Build the reader first: `python -m dativo_core.native.build`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
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
# The bare encoder: the types a catalog gives (one pass), RECORD lines straight to stdout.
RUST_RECORDS = (
    "import sys, json; from dativo_core.native import load_library, built_library_path;"
    "from dativo_core.native.reader import _csv_type;"
    "props = json.load(open(sys.argv[2]))['streams'][0]['schema']['properties'];"
    "config = {'path': sys.argv[1], 'column_types': {k: _csv_type(v) for k, v in props.items()}};"
    "r = load_library(built_library_path('dativo_csv_reader')).open(config);"
    "out = sys.stdout.buffer\n"
    "while (encoded := r.next_records('bench')) is not None: out.write(encoded[0])"
)
TAP_CSV = "from dativo_tap_csv.cli import main; main()"  # what the tap-csv command runs
# What `tap-reader --reader rust-csv` runs: the reader by its registered plugin name.
TAP_READER = ["-m", "dativo_tap_reader.cli", "--reader", "rust-csv"]


def measure(command: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MB) of one command (children it waited for
    included, as wait4 reports them), its stdout discarded."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert process.stderr is not None
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{stderr.decode()[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def write_catalog(command: list[str], path: Path) -> Path:
    path.write_bytes(subprocess.run([*command, "--discover"], capture_output=True, check=True).stdout)
    return path


def scenarios(csv: Path, work: Path) -> dict[str, tuple[list[str], str]]:
    """Name -> (command, the tap-csv scenario it is compared with)."""
    python = sys.executable
    rust_config = work / "rust-tap.json"
    rust_config.write_text(json.dumps({"stream": "bench", "path": str(csv), "keys": ["id"]}))
    files = [{"entity": "bench", "path": str(csv), "keys": ["id"]}]
    csv_config = work / "tap-csv.json"
    csv_config.write_text(json.dumps({"files": files, "engine": "pyarrow"}))
    tap_csv = [python, "-c", TAP_CSV, "--config", str(csv_config)]
    rust_csv_config = work / "tap-csv-rust.json"
    rust_csv_config.write_text(json.dumps({"files": files, "engine": "rust"}))
    tap_reader = [python, *TAP_READER, "--config", str(rust_config)]
    csv_catalog = write_catalog(tap_csv, work / "tap-csv-catalog.json")
    rust_catalog = write_catalog(tap_reader, work / "rust-catalog.json")
    base, cataloged = "tap-csv", "tap-csv + catalog"
    return {
        base: (tap_csv, base),
        cataloged: ([*tap_csv, "--catalog", str(csv_catalog)], cataloged),
        "tap-csv, engine rust": ([python, "-c", TAP_CSV, "--config", str(rust_csv_config)], base),
        "pyarrow read_csv (whole table)": ([python, "-c", PYARROW_READ, str(csv)], base),
        "pyarrow open_csv (streaming)": ([python, "-c", PYARROW_STREAM, str(csv)], base),
        "rust reader -> Arrow batches": ([python, "-c", RUST_READ, str(csv)], base),
        "rust RECORD encoder (typed, 1 pass)": ([python, "-c", RUST_RECORDS, str(csv), str(rust_catalog)], cataloged),
        "tap-reader rust (sandbox)": (tap_reader, base),
        "tap-reader rust --no-sandbox": ([*tap_reader, "--no-sandbox"], base),
        "tap-reader rust + catalog (sandbox)": ([*tap_reader, "--catalog", str(rust_catalog)], cataloged),
        "tap-reader rust + catalog --no-sandbox": (
            [*tap_reader, "--no-sandbox", "--catalog", str(rust_catalog)],
            cataloged,
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1, help="rounds of runs; figures are medians")
    parser.add_argument("--only", action="append", help="run only scenarios whose name contains this")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dativo-rust-bench-") as folder:
        work = Path(folder)
        csv = work / "data.csv"
        datagen = [sys.executable, str(REPO / "benchmarks" / "datagen.py"), str(csv), "--rows", str(args.rows)]
        subprocess.run(datagen, check=True)
        print(f"{args.rows} rows x 10 columns, {csv.stat().st_size / 1e6:.0f} MB, median of {args.repeat}", flush=True)
        # As an installed package runs: with its modules' bytecode written (the warm-up runs write it).
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        print(
            f"  {'scenario':40s} {'wall s':>7s} {'rows/s':>11s} {'CPU s':>7s} {'peak RSS':>9s}"
            f" {'x tap-csv wall':>15s} {'x tap-csv CPU':>14s}"
        )
        chosen = {
            name: (command, baseline)
            for name, (command, baseline) in scenarios(csv, work).items()
            if not args.only or any(part in name for part in args.only) or name == baseline
        }
        for command, _ in chosen.values():
            measure(command)
        load_before = os.getloadavg()
        runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in chosen}
        for _ in range(args.repeat):
            for name, (command, _) in chosen.items():
                runs[name].append(measure(command))
        figures: dict[str, tuple[float, float, float]] = {}
        for name, (command, baseline) in chosen.items():
            wall, cpu = (statistics.median(run[i] for run in runs[name]) for i in range(2))
            rss = max(run[2] for run in runs[name])
            figures[name] = (wall, cpu, rss)
            ratios = ""
            if baseline in figures:
                base_wall, base_cpu, _ = figures[baseline]
                ratios = f" {base_wall / wall:14.2f}x {base_cpu / cpu:13.2f}x"
            print(f"  {name:40s} {wall:7.2f} {args.rows / wall:>11,.0f} {cpu:7.2f} {rss:6.0f} MB{ratios}")
        walls = {name: " ".join(f"{run[0]:.2f}" for run in done) for name, done in runs.items()}
        print("wall seconds of each run:", *(f"  {name}: {w}" for name, w in walls.items()), sep="\n")
        load_after = os.getloadavg()
        print(f"load average (1, 5, 15 min) before {load_before}, after {load_after}")


if __name__ == "__main__":
    main()
