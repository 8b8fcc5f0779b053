"""Small real Singer programs for pipe tests, written as executable scripts into a folder."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

from dativo_core.pipe.plugin import PluginCommand

TARGET_CSV = str(Path(sys.executable).parent / "target-csv")

# A tap driven by its config: {"streams": {"name": count}, "sleep": s, "state_every": n,
# "fail_after": n, "log": path}. Records have ids 1..count; the bookmark is the last id sent,
# and a run resumes after the bookmark of --state. It logs its argv, the state it was given and
# the ids it sent to the "log" file, so tests can assert what the tap really saw and did.
COUNTING_TAP = r"""
import argparse, json, os, sys, time

parser = argparse.ArgumentParser()
parser.add_argument("--config", required=True)
parser.add_argument("--state")
parser.add_argument("--catalog")
args = parser.parse_args()
config = json.load(open(args.config))
state = json.load(open(args.state)) if args.state else {}
log = {"argv": sys.argv, "pid": os.getpid(), "state": json.loads(json.dumps(state)), "sent": {}}

def save_log():
    with open(config["log"] + ".tmp", "w") as out:
        json.dump(log, out)
    os.replace(config["log"] + ".tmp", config["log"])

def emit(message, end="\n"):
    sys.stdout.write(json.dumps(message) + end)

save_log()
bookmarks = state.get("bookmarks", {})
sent_total = 0
for stream, count in config["streams"].items():
    emit({"type": "SCHEMA", "stream": stream, "key_properties": ["id"],
          "schema": {"type": "object", "properties": {"id": {"type": "integer"}}}})
    start = bookmarks.get(stream, {}).get("id", 0) + 1
    log["sent"][stream] = []
    for record_id in range(start, count + 1):
        if sent_total == config.get("fail_after", -1):
            sys.stdout.write('{"type": "RECORD", "stream": "' + stream + '", "rec')
            sys.stdout.flush()
            save_log()
            print("source connection lost", file=sys.stderr)
            print("giving up after retries", file=sys.stderr)
            sys.exit(7)
        emit({"type": "RECORD", "stream": stream, "record": {"id": record_id}})
        log["sent"][stream].append(record_id)
        sent_total += 1
        bookmarks.setdefault(stream, {})["id"] = record_id
        if sent_total % config.get("state_every", 1000000) == 0:
            emit({"type": "STATE", "value": {"bookmarks": bookmarks}})
            sys.stdout.flush()
            save_log()
        if config.get("sleep"):
            sys.stdout.flush()
            time.sleep(config["sleep"])
    emit({"type": "STATE", "value": {"bookmarks": bookmarks}})
save_log()
"""

# A tap that breaks the protocol: a RECORD before its SCHEMA, then many more lines.
RECORD_BEFORE_SCHEMA_TAP = r"""
import sys
line = '{"type":"RECORD","stream":"orphans","record":{"id":1}}\n'
for _ in range(200000):
    sys.stdout.write(line)
"""


# A target whose commit never ends: it reads all input, then hangs.
HANGING_TARGET = r"""
import sys, time
sys.stdin.buffer.read()
print("committing...", file=sys.stderr, flush=True)
time.sleep(120)
"""

# A target that exits successfully without reading its input.
IMPATIENT_TARGET = r"""
print("nothing to do", file=__import__("sys").stderr)
"""


# A target that commits like a database: records are buffered and appended to a "table" file
# only at a STATE, together with that state in a "committed" file; at the end of input (or of
# its last whole line, when a killed writer cut it) it drops what no state covers and, with
# "linger", takes that many seconds to exit. Config: {"table":
# path, "committed": path, "linger": s}. It answers --committed-state from the committed file.
COMMITTING_TARGET = r"""
import argparse, json, sys, time

parser = argparse.ArgumentParser()
parser.add_argument("--config", required=True)
parser.add_argument("--committed-state", action="store_true")
args = parser.parse_args()
config = json.load(open(args.config))
if args.committed_state:
    try:
        print(json.dumps(json.load(open(config["committed"]))))
    except FileNotFoundError:
        print("{}")
    sys.exit(0)
buffered = []
for line in sys.stdin:
    if not line.endswith("\n"):
        break  # the input was cut inside a line (its writer was killed): it ends here
    message = json.loads(line)
    if message["type"] == "RECORD":
        buffered.append(f"{message['record']['id']}\n")
    elif message["type"] == "STATE":
        with open(config["table"], "a") as table:
            table.writelines(buffered)
        buffered = []
        json.dump(message["value"], open(config["committed"], "w"))
        try:
            print(json.dumps(message["value"]), flush=True)
        except BrokenPipeError:  # the pipe is gone; what is committed stays committed
            sys.stdout = open(os.devnull, "w")
time.sleep(config.get("linger", 0))
"""


def write_program(folder: Path, name: str, source: str) -> Path:
    """An executable script run by this test's Python, like an installed console script."""
    path = folder / name
    path.write_text(f"#!{sys.executable}\n{source}")
    path.chmod(0o755)
    return path


def write_json(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value))
    return path


def target_csv(tmp_path: Path, folder: str = "csv") -> PluginCommand:
    """meltanolabs-target-csv writing one CSV file per stream into tmp_path/folder."""
    output = tmp_path / folder
    output.mkdir()
    config = write_json(tmp_path / f"{folder}.json", {"output_path": str(output)})
    return PluginCommand("target", TARGET_CSV, config)


def csv_ids(tmp_path: Path, stream: str, folder: str = "csv") -> list[int]:
    with open(tmp_path / folder / f"{stream}.csv", newline="") as rows:
        return [int(row["id"]) for row in csv.DictReader(rows)]


def committing_target(tmp_path: Path, linger: float = 0) -> PluginCommand:
    program = write_program(tmp_path, "target-committing", COMMITTING_TARGET)
    config = {
        "table": str(tmp_path / "table.txt"),
        "committed": str(tmp_path / "committed.json"),
        "linger": linger,
    }
    return PluginCommand("target", str(program), write_json(tmp_path / "target.json", config))
