"""tap-reader's cost per item kind, and the sandbox's, against encoding alone in one process.

    .venv/bin/python benchmarks/reader_tap.py --rows 1000000 --repeat 3

The reader (BenchReader, below) yields the same prepared 50k-row batch again and again, so its
own cost is nearly nil and the figures are the tap's. Scenarios, 10 mixed columns:
  floor        encode_batch over the batches in one process to /dev/null: bulk NDJSON, no tap
  arrow        RecordBatches through the sandboxed tap > /dev/null
  arrow-inproc the same with --no-sandbox
  jsonlines    records already JSON (JsonLines) through the sandboxed tap
  records      complete RECORD lines (RecordLines, as native readers yield them) through the
               sandboxed tap, which lets the reader process write them to stdout itself
  records-inproc the same with --no-sandbox
  dicts        dict records through the sandboxed tap (orjson per record)
Median of --repeat, runs alternated so machine load hits all alike. CPU time is of the whole
process tree (the sandboxed reader included), which holds on a busy machine where wall time
does not; peak RSS is the largest process of the tree.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dativo_core.sdk import Capabilities, JsonLines, Reader, ReadItem, RecordLines, Stream

BATCH_ROWS = 50_000
THIS_FILE = Path(__file__).resolve()

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "email": {"type": "string"},
        "age": {"type": "integer"},
        "score": {"type": "number"},
        "active": {"type": "boolean"},
        "created_at": {"type": "string", "format": "date-time"},
        "country": {"type": "string"},
        "amount": {"type": "number"},
        "note": {"type": ["string", "null"]},
    },
}


def _batch() -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    ids = pa.array(range(BATCH_ROWS), pa.int64())
    text = pc.cast(ids, pa.string())
    scramble = pc.bit_wise_and(pc.multiply(ids, 2654435761), 0xFFFFFFFF)
    return pa.record_batch(
        {
            "id": ids,
            "name": pc.binary_join_element_wise("user_", text, ""),
            "email": pc.binary_join_element_wise("user", text, "@example.com", ""),
            "age": pc.add(pc.remainder(scramble, 70), 18),
            "score": pc.divide(
                pc.cast(pc.remainder(scramble, 100000), pa.float64()), 1000.0
            ),
            "active": pc.equal(pc.remainder(scramble, 3), 0),
            "created_at": pc.cast(
                pc.add(pc.multiply(ids, 37_000_000), 1_577_836_800_000_000),
                pa.timestamp("us", tz="UTC"),
            ),
            "country": pc.take(
                pa.array(["DE", "FR", "US", "BR"]), pc.remainder(ids, 4)
            ),
            "amount": pc.divide(
                pc.cast(pc.remainder(scramble, 1000000), pa.float64()), 100.0
            ),
            "note": pc.if_else(
                pc.equal(pc.remainder(scramble, 5), 0),
                pa.nulls(BATCH_ROWS, pa.string()),
                pc.binary_join_element_wise("note ", text, ""),
            ),
        }
    )


class BenchReader(Reader):
    """`rows` records of one stream, as `mode`: arrow, jsonlines, records or dicts."""

    capabilities = Capabilities(batch_output=True)

    @classmethod
    def spec(cls) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["rows", "mode"],
            "properties": {
                "rows": {"type": "integer", "minimum": BATCH_ROWS},
                "mode": {"enum": ["arrow", "jsonlines", "records", "dicts"]},
            },
        }

    def setup(self) -> None:
        batch = _batch()
        mode = self.config["mode"]
        if mode == "arrow":
            self.item: Any = batch
        elif mode == "dicts":
            self.item = batch.to_pylist()
        elif mode == "records":
            import polars as pl

            from dativo_core.record_lines import record_lines

            self.item = RecordLines(record_lines(pl.from_arrow(batch), "bench"), BATCH_ROWS)
        else:
            import io

            import polars as pl

            out = io.BytesIO()
            pl.from_arrow(batch).write_ndjson(out)
            self.item = JsonLines(out.getvalue(), BATCH_ROWS)

    def discover(self) -> list[Stream]:
        return [Stream("bench", SCHEMA, ("id",))]

    def read(self, stream: Stream, state: dict[str, Any]) -> Iterator[ReadItem]:
        for _ in range(self.config["rows"] // BATCH_ROWS):
            if isinstance(self.item, list):
                yield from self.item
            else:
                yield self.item


FLOOR_SCRIPT = """
import sys
sys.path.insert(0, sys.argv[1])
from reader_tap import BenchReader
from dativo_core.plugins.encode import encode_batch
reader = BenchReader({"rows": int(sys.argv[2]), "mode": "arrow"})
reader.setup()
stream = reader.discover()[0]
with open("/dev/null", "wb") as out:
    for batch in reader.read(stream, {}):
        out.write(encode_batch("bench", batch, None))
"""


def _run(command: list[str]) -> tuple[float, float]:
    """Wall seconds, and CPU seconds of the process tree."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dativo-bench-reader-"))

    def tap(mode: str, *extra: str) -> list[str]:
        config = work / f"{mode}.json"
        config.write_text(json.dumps({"rows": args.rows, "mode": mode}))
        reader = f"{THIS_FILE}:BenchReader"
        cli = [sys.executable, "-m", "dativo_tap_reader.cli", "--reader", reader]
        return [*cli, "--config", str(config), *extra]

    scenarios = {
        "floor": [
            sys.executable,
            "-c",
            FLOOR_SCRIPT,
            str(THIS_FILE.parent),
            str(args.rows),
        ],
        "arrow": tap("arrow"),
        "arrow-inproc": tap("arrow", "--no-sandbox"),
        "jsonlines": tap("jsonlines"),
        "records": tap("records"),
        "records-inproc": tap("records", "--no-sandbox"),
        "dicts": tap("dicts"),
    }
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in scenarios}
    for _ in range(args.repeat):
        for name, command in scenarios.items():
            runs[name].append(_run(command))
    median = {
        name: (statistics.median(w for w, _ in done), statistics.median(c for _, c in done))
        for name, done in runs.items()
    }
    floor_wall, floor_cpu = median["floor"]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{args.rows:,} rows x 10 columns, median of {args.repeat}, load average {load}")
    for name, command in scenarios.items():
        rss = subprocess.run(
            [sys.executable, "-c", _RSS_SCRIPT, *command],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        wall, cpu = median[name]
        print(
            f"  {name:14s} wall {wall:6.2f}s ({wall / floor_wall:4.2f}x floor)  "
            f"cpu {cpu:6.2f}s ({cpu / floor_cpu:4.2f}x)  {args.rows / wall:>10,.0f} rows/s  "
            f"peak RSS {rss} MB"
        )


# Peak RSS of each process of a tree, sampled: ru_maxrss would only give the largest one.
_RSS_SCRIPT = """
import subprocess, sys, time, psutil
proc = psutil.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
peak = {}
while proc.poll() is None:
    try:
        for p in [proc, *proc.children(recursive=True)]:
            peak[p.pid] = max(peak.get(p.pid, 0), p.memory_info().rss)
    except psutil.Error:
        pass
    time.sleep(0.02)
print(" + ".join(f"{v / 2**20:.0f}" for v in peak.values()))
"""


if __name__ == "__main__":
    main()
