"""Where a `tap-csv | target-iceberg` run spends its two cores: each process's CPU use per tenth
of a second, and what start-up costs before any row moves.

    .venv/bin/python benchmarks/pipe_timeline.py --rows 1000000            # RECORD messages
    .venv/bin/python benchmarks/pipe_timeline.py --rows 1000000 --batch    # parquet BATCH messages

Start-up costs are the least CPU seconds of --repeat runs (the machine may be shared): the
interpreter with pyarrow (what the floor imports), `tap-csv --about` (singer-sdk's import), and
target-iceberg on an empty input (pyiceberg, its SQL catalog and SQLAlchemy, one catalog open).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from measure import _as_installed  # noqa: E402
from target_iceberg import BIN, FLOOR, STREAM, parquet_batch_config, write_json  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
STEP = 0.1


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a running process, from /proc; None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return (int(fields[11]) + int(fields[12])) / TICK


def least_cpu(command: list[str], repeat: int) -> float:
    """The least CPU seconds of `repeat` runs of a command."""
    best = float("inf")
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(command, env=_as_installed(os.environ), stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        best = min(best, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return best


def timeline(tap: list[str], target: list[str]) -> None:
    """Run tap | target, printing each one's share of a core per STEP, then the idle total."""
    env = _as_installed(os.environ)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    tap_process = subprocess.Popen(tap, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    target_process = subprocess.Popen(target, stdin=tap_process.stdout, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, env=env)
    assert tap_process.stdout is not None
    tap_process.stdout.close()
    processes = {"tap": tap_process, "target": target_process}
    last = {name: 0.0 for name in processes}
    print(f"{'s':>5}  {'tap':>5}  {'target':>6}   (% of one core over the last {STEP} s)")
    while any(p.poll() is None for p in processes.values()):
        time.sleep(STEP)
        row = []
        for name, process in processes.items():
            used = cpu_seconds(process.pid) if process.poll() is None else None
            if used is None:
                row.append("    -")
                continue
            row.append(f"{(used - last[name]) / STEP * 100:4.0f}%")
            last[name] = used
        print(f"{time.monotonic() - started:5.1f}  {row[0]:>5}  {row[1]:>6}")
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    print(f"wall {wall:.2f} s, CPU {cpu:.2f} s of both processes; "
          f"{2 * wall - cpu:.2f} core-s of the 2 cores went unused")
    for name, process in processes.items():
        if process.returncode:
            raise SystemExit(f"{name} exited {process.returncode}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", action="store_true", help="parquet BATCH messages instead of RECORD")
    parser.add_argument("--repeat", type=int, default=5, help="runs per start-up cost")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        subprocess.run([sys.executable, str(Path(__file__).parent / "target_iceberg.py"), "--rows", str(args.rows),
                        "--write-inputs-to", tmp], check=True)
        tap_config = {"files": [{"entity": STREAM, "path": str(folder / "rows.csv"), "keys": ["id"]}]}
        if args.batch:
            tap_config["batch_config"] = parquet_batch_config(folder / "batches")
        target_config = write_json(folder / "target.json", {"warehouse": str(folder / "warehouse")})
        target = [sys.executable, "-m", "dativo_target_iceberg.cli", "--config", str(target_config)]
        (folder / "empty.singer").write_bytes(b"")
        costs = {
            "python + pyarrow import (the floor's)": [sys.executable, "-c", "import pyarrow.csv, pyarrow.parquet"],
            "the floor, whole": [sys.executable, "-c", FLOOR, str(folder / "rows.csv"), str(folder / "o.parquet")],
            "tap-csv --about (singer-sdk start-up)": [str(BIN / "tap-csv"), "--about"],
            "target-iceberg on an empty input": target + ["--input", str(folder / "empty.singer")],
        }
        print(f"least CPU seconds of {args.repeat} runs:")
        for name, command in costs.items():
            print(f"  {name:40} {least_cpu(command, args.repeat):.2f}")
        print()
        timeline([str(BIN / "tap-csv"), "--config", str(write_json(folder / "tap.json", tap_config))], target)


if __name__ == "__main__":
    main()
