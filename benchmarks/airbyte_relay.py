"""tap-airbyte's relay overhead: source-faker's own output rate vs the same read through tap-airbyte.

    .venv/bin/python benchmarks/airbyte_relay.py --count 20000 --repeat 3

Figures printed (best of --repeat, runs alternated so machine load hits both alike):
  faker       `source-faker read` alone, Airbyte lines to a file: wall and CPU time, records/s
  tap-airbyte the same read through tap-airbyte (executable runner), Singer lines to a file
  overhead    1 - tap rate / faker rate by wall time (the goal is under 10%), and the extra CPU
              time (tap-airbyte's own start-up included) over faker's
  relay-only  the relay's own CPU cost: faker's recorded output pushed through the translation
              in-process, records per CPU second
CPU times are of the whole process tree (children reaped), so they hold on a busy machine where
wall times do not.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from measure import run_pipeline  # noqa: E402

from dativo_core.airbyte.catalog import select_streams, to_configured_catalog  # noqa: E402
from dativo_core.airbyte.connector import AirbyteConnector  # noqa: E402
from dativo_core.airbyte.events import ConnectorEvents  # noqa: E402
from dativo_core.airbyte.executable import ExecutableRunner  # noqa: E402
from dativo_core.airbyte.pip_install import ensure_installed  # noqa: E402
from dativo_core.airbyte.relay import ReadRelay  # noqa: E402
from dativo_core.airbyte.state import StateTracker  # noqa: E402
from dativo_core.jobs.recipes import find_recipe  # noqa: E402
from dativo_core.singer.reader import read_line_chunks  # noqa: E402
from dativo_core.singer.writer import SingerWriter  # noqa: E402

STREAMS = ["users", "purchases"]


def _count_records(path: Path) -> int:
    with open(path, "rb") as fp:
        return sum(1 for line in fp if line.startswith(b'{"type":"RECORD"'))


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _relay_only(airbyte_output: Path, catalog: object) -> tuple[int, float]:
    """Records and CPU seconds of the translation alone, output to memory."""
    events = ConnectorEvents("bench")
    writer = SingerWriter(io.BytesIO())
    relay = ReadRelay(catalog, writer, events, StateTracker())  # type: ignore[arg-type]
    data = airbyte_output.read_bytes()
    started = time.process_time()
    relay.relay(chunk.lines for chunk in read_line_chunks(io.BytesIO(data), 1 << 16))
    writer.flush()
    return sum(relay.counts().values()), time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--count", type=int, default=20000, help="faker users (and purchases)")
    parser.add_argument("--parallelism", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    install = find_recipe("source-faker").install
    faker = ensure_installed(install["package"], install["executable"])
    airbyte_config = {
        "count": args.count, "seed": 1, "records_per_slice": 1000,
        "parallelism": args.parallelism, "always_updated": True,
    }
    with tempfile.TemporaryDirectory(prefix="airbyte-bench-") as tmp:
        work = Path(tmp)
        catalog = select_streams(AirbyteConnector(ExecutableRunner(faker)).discover(airbyte_config), STREAMS)
        (work / "singer-catalog.json").write_text(json.dumps(catalog.to_dict()))
        (work / "airbyte-catalog.json").write_text(json.dumps(to_configured_catalog(catalog)))
        (work / "airbyte-config.json").write_text(json.dumps(airbyte_config))
        (work / "tap-config.json").write_text(json.dumps({
            "install": {"source": "executable", "executable": str(faker)},
            "airbyte_config": airbyte_config,
        }))
        faker_cmd = [str(faker), "read", "--config", str(work / "airbyte-config.json"),
                     "--catalog", str(work / "airbyte-catalog.json")]
        tap_cmd = [sys.executable, "-m", "dativo_tap_airbyte.cli", "--config",
                   str(work / "tap-config.json"), "--catalog", str(work / "singer-catalog.json"),
                   "--log-level", "WARNING"]
        best = {"faker": float("inf"), "tap-airbyte": float("inf")}
        cpu = dict(best)
        records = {}
        for _ in range(args.repeat):
            for name, command in (("faker", faker_cmd), ("tap-airbyte", tap_cmd)):
                out = work / f"{name}.jsonl"
                cpu_before = _children_cpu()
                measured = run_pipeline([command], stdout_path=out)
                cpu[name] = min(cpu[name], _children_cpu() - cpu_before)
                best[name] = min(best[name], measured.seconds)
                records[name] = _count_records(out)
        if records["faker"] != records["tap-airbyte"]:
            raise SystemExit(f"record counts differ: {records}")
        rate = {name: records[name] / best[name] for name in best}
        relayed, relay_seconds = _relay_only(work / "faker.jsonl", catalog)
        relay_rate = relayed / relay_seconds
        print(f"records per run: {records['faker']} ({', '.join(STREAMS)}; count={args.count})")
        for name in best:
            print(f"{name:12} {best[name]:7.2f} s wall {cpu[name]:7.2f} s CPU "
                  f"{rate[name]:10.0f} records/s")
        print(f"overhead     {1 - rate['tap-airbyte'] / rate['faker']:7.1%} by wall time, "
              f"{cpu['tap-airbyte'] / cpu['faker'] - 1:.1%} more CPU (goal: under 10%)")
        print(f"relay-only   {relay_seconds:7.2f} s CPU {relay_rate:10.0f} records per CPU second")


if __name__ == "__main__":
    main()
