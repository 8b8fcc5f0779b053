"""Exactly once: kill the target at random moments of a two-stream load, resume, compare rows."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time

import pytest

from dativo_target_iceberg.catalog import embedded_catalog
from dativo_target_iceberg.recovery import TableCheckpoint, recover, recover_from_catalog

ROWS = {"a": 3000, "b": 2000}

# A deterministic tap: per-stream bookmarks, records of both streams interleaved, a STATE every
# 200 steps, paced so that the target commits many times while it runs.
TAP = """
import json, sys, time
rows = {rows}
state = json.load(open(sys.argv[1])) if len(sys.argv) > 1 else {{}}
start = {{s: state.get("bookmarks", {{}}).get(s, {{}}).get("pos", 0) for s in rows}}
out = sys.stdout
for s in rows:
    out.write(json.dumps({{"type": "SCHEMA", "stream": s, "key_properties": ["id"], "schema": {{
        "type": "object", "properties": {{"id": {{"type": "integer"}}, "name": {{"type": "string"}}}}}}}}) + "\\n")
pos = dict(start)
for step in range(max(rows.values())):
    for s in rows:
        if start[s] <= step < rows[s]:
            out.write(json.dumps({{"type": "RECORD", "stream": s, "record": {{"id": step, "name": s + str(step)}}}}) + "\\n")
            pos[s] = step + 1
    if step % 200 == 199:
        out.write(json.dumps({{"type": "STATE", "value": {{"bookmarks": {{s: {{"pos": p}} for s, p in pos.items()}}}}}}) + "\\n")
        out.flush()
        time.sleep(0.15)
out.write(json.dumps({{"type": "STATE", "value": {{"bookmarks": {{s: {{"pos": p}} for s, p in pos.items()}}}}}}) + "\\n")
""".format(rows=ROWS)

TARGET = [sys.executable, "-m", "dativo_target_iceberg.cli"]


def test_bookmarks_come_from_each_stream_own_table():
    checkpoints = {
        "a": TableCheckpoint("a", {"bookmarks": {"a": {"pos": 9}, "b": {"pos": 7}, "c": {"pos": 2}}, "x": 2}, 4, 200),
        "b": TableCheckpoint("b", {"bookmarks": {"a": {"pos": 5}, "b": {"pos": 3}, "c": {"pos": 1}}, "x": 1}, 0, 100),
        "c": None,  # table created, nothing committed yet: its stream starts over
    }
    recovery = recover(checkpoints)
    assert recovery.state == {"bookmarks": {"a": {"pos": 9}, "b": {"pos": 3}}, "x": 2}
    assert recovery.skip_rows == {"a": 4, "b": 0}


@pytest.mark.slow
def test_killed_target_resumes_without_loss_or_duplicates(tmp_path):
    tap = tmp_path / "tap.py"
    tap.write_text(TAP)
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"warehouse": str(tmp_path / "wh"), "exactly_once": True, "max_batch_rows": 300}))
    state_file = tmp_path / "state.json"
    randomness = random.Random(20261125)
    resumed_from: list[bytes] = []

    def committed_state() -> dict:
        return recover_from_catalog(embedded_catalog(tmp_path / "wh"), "default").state or {}

    def run_pipe(kill_after: float | None) -> bool:
        state = subprocess.run([*TARGET, "--config", str(config), "--committed-state"],
                               capture_output=True, check=True).stdout
        state_file.write_bytes(state)
        resumed_from.append(state)
        tap_process = subprocess.Popen([sys.executable, str(tap), str(state_file)], stdout=subprocess.PIPE)
        target = subprocess.Popen([*TARGET, "--config", str(config)], stdin=tap_process.stdout,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        tap_process.stdout.close()
        if kill_after is not None:
            target.stdout.readline()  # the first covered STATE: the load is under way
            # The tables' committed state can stay put while rows are committed past it (a
            # resumed run skips those); wait until it moves, so each run resumes somewhere new.
            while target.poll() is None and committed_state() == json.loads(state):
                time.sleep(0.05)
            time.sleep(kill_after)
            target.kill()
        target.stdout.read()
        finished = target.wait() == 0
        tap_process.kill()
        tap_process.wait()
        return finished

    # The tap runs ~2 s in all. Kills within 0.3 s of the committed state moving on fall
    # mid-load however fast the target is: each run gets through a fraction of the load.
    interrupted = [run_pipe(kill_after=randomness.uniform(0.0, 0.3)) is False for _ in range(4)]
    assert run_pipe(kill_after=None)
    # The kills fell mid-load: runs resumed from several different committed states.
    assert sum(interrupted) >= 3
    assert len(set(resumed_from)) >= 3, resumed_from

    catalog = embedded_catalog(tmp_path / "wh")
    for stream, count in ROWS.items():
        rows = catalog.load_table(("default", stream)).scan().to_arrow().sort_by("id").to_pylist()
        assert rows == [{"id": i, "name": f"{stream}{i}"} for i in range(count)]
