"""The executable runner against real processes: streaming, stopping, missing programs."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

from dativo_core.airbyte.errors import ConnectorError
from dativo_core.airbyte.executable import ExecutableRunner
from dativo_core.airbyte.runner import Invocation


def _script(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "fake-connector"
    path.write_text(f"#!{sys.executable}\nimport os, sys, subprocess, time, json\n{body}\n")
    path.chmod(0o755)
    return path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_lines_arrive_while_running_and_leaving_stops_the_whole_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "worker.pid"
    program = _script(
        tmp_path,
        f"""
worker = subprocess.Popen(["sleep", "120"])
open({str(pid_file)!r}, "w").write(str(worker.pid))
sys.stdout.write('{{"type":"LOG","log":{{"level":"INFO","message":"hello"}}}}\\n')
sys.stdout.flush()
time.sleep(120)
""",
    )
    runner = ExecutableRunner(program)
    started = time.monotonic()
    with runner.start(Invocation("read", config={"k": 1})) as running:
        first = next(running.line_chunks())
    stopped_after = time.monotonic() - started
    assert first == [b'{"type":"LOG","log":{"level":"INFO","message":"hello"}}']
    assert stopped_after < 10, "the first line must arrive before the connector exits"
    worker = int(pid_file.read_text())
    for _ in range(50):
        if not _alive(worker):
            break
        time.sleep(0.1)
    assert not _alive(worker), "the connector's worker processes are stopped with it"


def test_config_reaches_the_connector_as_a_file_only(tmp_path: Path) -> None:
    program = _script(
        tmp_path,
        """
path = sys.argv[sys.argv.index("--config") + 1]
print(json.dumps({"argv": sys.argv[1:], "config": json.load(open(path)), "path": path}))
""",
    )
    with ExecutableRunner(program).start(Invocation("check", config={"password": "hunter2"})) as running:
        (line,) = [line for chunk in running.line_chunks() for line in chunk]
        assert running.wait() == 0
    seen = json.loads(line)
    assert seen["config"] == {"password": "hunter2"}
    assert "hunter2" not in " ".join(seen["argv"])
    assert seen["argv"][0] == "check"
    assert not Path(seen["path"]).exists(), "the private config file is removed afterwards"


def test_missing_executable_is_a_config_error() -> None:
    with pytest.raises(ConnectorError, match="not found") as caught:
        with ExecutableRunner("no-such-source-xyz").start(Invocation("spec")):
            pass
    assert caught.value.failure_type == "config_error"
