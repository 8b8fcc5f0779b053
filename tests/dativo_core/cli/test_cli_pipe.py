"""`dativo pipe` end to end: CliRunner for options and exit codes, the console script for signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from dativo_core.cli.main import cli
from dativo_core.state.backend import StateKey
from dativo_core.state.local import StateFile
from dativo_core.state.sql import SqlStateBackend
from tests.dativo_core.pipe.pipe_programs import (
    COUNTING_TAP,
    committing_target,
    csv_ids,
    target_csv,
    write_json,
    write_program,
)

DATIVO = Path(sys.executable).parent / "dativo"


def pipe_args(tmp_path: Path, **tap_config: object) -> list[str]:
    tap = write_program(tmp_path, "tap-counting", COUNTING_TAP)
    tap_config.setdefault("log", str(tmp_path / "tap-log.json"))
    target = target_csv(tmp_path)
    return [
        "pipe",
        "--tap",
        str(tap),
        "--tap-config",
        str(write_json(tmp_path / "tap.json", tap_config)),
        "--target",
        target.executable,
        "--target-config",
        str(target.config),
    ]


def test_pipe_with_a_state_directory_and_extra_arguments(tmp_path):
    catalog = write_json(tmp_path / "catalog.json", {"streams": []})
    args = pipe_args(tmp_path, streams={"users": 3})
    args += ["--state-dir", str(tmp_path / "states"), "--pipeline-id", "acme/users"]
    args += ["--catalog", str(catalog), "--progress-interval", "0", "--no-child-stderr"]

    result = CliRunner().invoke(cli, args)

    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "dativo pipe:   users: 3 records" in result.stderr
    assert "[target-csv]" not in result.stderr
    saved = json.loads((tmp_path / "states" / "acme" / "users.json").read_text())
    assert saved == {"bookmarks": {"users": {"id": 3}}}
    argv = json.loads((tmp_path / "tap-log.json").read_text())["argv"]
    assert argv[argv.index("--catalog") + 1] == str(catalog)


def test_extra_arguments_that_look_like_options_reach_the_plugin(tmp_path):
    args = pipe_args(tmp_path, streams={"users": 1})
    args += ["--tap-arg", "--catalog", "--tap-arg", str(tmp_path / "c.json")]

    result = CliRunner().invoke(cli, args)

    assert result.exit_code == 0, result.output
    argv = json.loads((tmp_path / "tap-log.json").read_text())["argv"]
    assert argv[-2:] == ["--catalog", str(tmp_path / "c.json")]


def test_tap_failure_exit_code_and_message(tmp_path):
    args = pipe_args(tmp_path, streams={"users": 5}, fail_after=2)
    result = CliRunner().invoke(cli, [*args, "--state-file", str(tmp_path / "s.json")])

    assert result.exit_code == 1
    assert "dativo pipe: the tap 'tap-counting' failed with exit code 7" in result.stderr
    assert "    [tap-counting] giving up after retries" not in result.stderr
    assert "    giving up after retries" in result.stderr
    assert csv_ids(tmp_path, "users") == [1, 2]


def test_unknown_executable_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(
        cli, ["pipe", "--tap", "tap-that-does-not-exist", "--target", "target-csv"]
    )

    assert result.exit_code == 2
    assert "tap executable 'tap-that-does-not-exist' was not found on PATH" in result.stderr


def test_a_second_run_exits_4_while_the_first_holds_the_lock(tmp_path):
    state = StateFile(tmp_path / "s.json")
    args = [*pipe_args(tmp_path, streams={"users": 1}), "--state-file", str(state.path)]

    with state.lock():
        result = CliRunner().invoke(cli, args)

    assert result.exit_code == 4
    assert f"is locked by another run (pid {os.getpid()})" in result.stderr


def test_lock_timeout_waits_for_the_running_pipe(tmp_path):
    state = tmp_path / "s.json"
    slow = [*pipe_args(tmp_path, streams={"users": 20}, sleep=0.1), "--state-file", str(state)]
    first = subprocess.Popen([str(DATIVO), *slow], stderr=subprocess.PIPE, text=True)
    _wait_for(lambda: (tmp_path / "tap-log.json").exists())

    second = subprocess.run(
        [str(DATIVO), *slow, "--lock-timeout", "60", "--no-child-stderr"],
        capture_output=True,
        text=True,
        check=False,
    )

    assert first.wait() == 0
    assert second.returncode == 0, second.stderr
    assert "0 records" in second.stderr, "the second run resumed after the first one's state"
    assert StateFile(state).read() == {"bookmarks": {"users": {"id": 20}}}


def test_interrupt_stops_the_tap_and_lets_the_target_commit(tmp_path):
    state = tmp_path / "s.json"
    args = pipe_args(tmp_path, streams={"users": 100000}, sleep=0.01, state_every=10)
    args += ["--state-file", str(state), "--progress-interval", "0.5"]
    pipe = subprocess.Popen([str(DATIVO), *args], stderr=subprocess.PIPE, text=True)
    log_path = tmp_path / "tap-log.json"
    _wait_for(lambda: log_path.exists() and len(_sent(log_path)) >= 30)

    pipe.send_signal(signal.SIGINT)
    _, stderr = pipe.communicate(timeout=60)

    assert pipe.returncode == 130, stderr
    assert "dativo pipe: stopping: the tap is asked to end" in stderr
    assert "interrupted by SIGINT; the last state the target emitted is saved" in stderr
    tap_pid = json.loads(log_path.read_text())["pid"]
    assert not Path(f"/proc/{tap_pid}").exists()
    saved = StateFile(state).read()["bookmarks"]["users"]["id"]
    committed = csv_ids(tmp_path, "users")
    assert saved >= 30
    assert committed[:saved] == list(range(1, saved + 1))
    assert committed == list(range(1, len(committed) + 1))


def _sent(log_path: Path) -> list[int]:
    return json.loads(log_path.read_text())["sent"].get("users", [])


def _wait_for(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_pipe_keeps_state_in_a_sql_backend_named_by_a_settings_file(tmp_path):
    url = f"sqlite:///{tmp_path / 'state.db'}"
    settings = write_json(tmp_path / "state.json", {"backend": "sql", "url": url})
    args = pipe_args(tmp_path, streams={"users": 2})
    args += ["--state-backend", str(settings), "--pipeline-id", "acme/users"]

    result = CliRunner().invoke(cli, args)

    assert result.exit_code == 0, result.output
    saved = SqlStateBackend(url).get(StateKey("acme", "users"))
    assert saved == {"bookmarks": {"users": {"id": 2}}}
    assert "'acme/users' in state database sqlite:///" in result.stderr


def test_a_killed_pipe_keeps_its_lock_until_its_children_exit_and_a_rerun_loads_each_row_once(
    tmp_path,
):
    tap = write_program(tmp_path, "tap-counting", COUNTING_TAP)
    tap_config = {"streams": {"users": 300}, "sleep": 0.005, "state_every": 7}
    tap_config["log"] = str(tmp_path / "tap-log.json")
    target = committing_target(tmp_path, linger=3)
    args = [
        "pipe",
        "--tap", str(tap),
        "--tap-config", str(write_json(tmp_path / "tap.json", tap_config)),
        "--target", target.executable,
        "--target-config", str(target.config),
        "--state-file", str(tmp_path / "s.json"),
        "--resume-from-target",
        "--no-child-stderr",
    ]  # fmt: skip
    first = subprocess.Popen([str(DATIVO), *args], stderr=subprocess.DEVNULL)
    _wait_for(
        lambda: (tmp_path / "tap-log.json").exists() and len(_sent(tmp_path / "tap-log.json")) >= 50
    )
    first.kill()
    first.wait()

    overlapping = subprocess.run([str(DATIVO), *args], capture_output=True, text=True, check=False)
    assert overlapping.returncode == 4
    assert f"pid {first.pid}, which has exited; processes it started still hold the lock" in (
        overlapping.stderr
    )

    rerun = subprocess.run(
        [str(DATIVO), *args, "--lock-timeout", "60"], capture_output=True, text=True, check=False
    )
    assert rerun.returncode == 0, rerun.stderr
    loaded = [int(n) for n in (tmp_path / "table.txt").read_text().split()]
    assert sorted(loaded) == list(range(1, 301))
    assert len(loaded) == 300, "no row loaded twice"


def test_an_unreadable_state_stops_the_pipe_before_it_starts(tmp_path):
    state = tmp_path / "s.json"
    state.write_text("{not json")
    args = [*pipe_args(tmp_path, streams={"users": 1}), "--state-file", str(state)]

    result = CliRunner().invoke(cli, args)

    assert result.exit_code == 4
    assert f"dativo pipe: state file {state} is not valid JSON" in result.stderr
    assert "remove it to start the pipeline from the beginning" in result.stderr
    assert not (tmp_path / "tap-log.json").exists()
