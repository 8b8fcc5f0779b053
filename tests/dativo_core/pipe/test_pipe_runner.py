"""`Pipe` with real child processes: small script taps and the real singer-sdk target-csv."""

from __future__ import annotations

import io
import json
import os
import signal
import stat
import threading
import time
from pathlib import Path

import pytest

from dativo_core.pipe.console import Console
from dativo_core.pipe.plugin import PluginCommand
from dativo_core.pipe.runner import Outcome, Pipe
from dativo_core.pipe.state_store import KeyedState
from dativo_core.state.backend import StateKey
from dativo_core.state.errors import StateLockedError
from dativo_core.state.local import LocalStateBackend, StateFile
from tests.dativo_core.pipe.pipe_programs import (
    COUNTING_TAP,
    HANGING_TARGET,
    IMPATIENT_TARGET,
    RECORD_BEFORE_SCHEMA_TAP,
    committing_target,
    csv_ids,
    target_csv,
    write_json,
    write_program,
)


@pytest.fixture
def csv_target(tmp_path: Path) -> PluginCommand:
    return target_csv(tmp_path)


def counting_tap(tmp_path: Path, **config: object) -> PluginCommand:
    program = write_program(tmp_path, "tap-counting", COUNTING_TAP)
    config.setdefault("log", str(tmp_path / "tap-log.json"))
    return PluginCommand("tap", str(program), write_json(tmp_path / "tap.json", config))


def tap_log(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "tap-log.json").read_text())


def run(pipe_tap: PluginCommand, target: PluginCommand, state, **options) -> tuple:
    stderr = io.StringIO()
    result = Pipe(pipe_tap, target, state, console=Console(stderr), **options).run()
    return result, stderr.getvalue()


def test_state_is_saved_and_handed_back_on_the_next_run(tmp_path, csv_target):
    state = StateFile(tmp_path / "state" / "s.json")
    tap = counting_tap(tmp_path, streams={"users": 4, "orders": 3}, state_every=2)

    first, stderr = run(tap, csv_target, state)

    assert first.outcome is Outcome.OK and first.exit_code == 0
    assert first.records == {"users": 4, "orders": 3}
    assert state.read() == {"bookmarks": {"users": {"id": 4}, "orders": {"id": 3}}}
    assert stat.S_IMODE(os.stat(state.path).st_mode) == 0o600
    assert "users: 4 records" in stderr and "orders: 3 records" in stderr
    assert "[target-csv]" in stderr
    assert "--state" not in tap_log(tmp_path)["argv"]

    more = counting_tap(tmp_path, streams={"users": 6, "orders": 3}, state_every=2)
    second, _ = run(more, target_csv(tmp_path, "csv-second-run"), state)

    log = tap_log(tmp_path)
    assert log["state"] == {"bookmarks": {"users": {"id": 4}, "orders": {"id": 3}}}
    given = log["argv"][log["argv"].index("--state") + 1]
    assert not os.path.exists(given), "the private state file is removed after the run"
    assert log["sent"] == {"users": [5, 6], "orders": []}
    assert second.records == {"users": 2}
    assert csv_ids(tmp_path, "users") == [1, 2, 3, 4]
    assert csv_ids(tmp_path, "users", "csv-second-run") == [5, 6]
    assert state.read() == {"bookmarks": {"users": {"id": 6}, "orders": {"id": 3}}}


def test_state_directory_keeps_each_pipeline_apart(tmp_path, csv_target):
    backend = LocalStateBackend(tmp_path / "states")
    tap = counting_tap(tmp_path, streams={"users": 2})

    result, _ = run(tap, csv_target, KeyedState(backend, StateKey("acme", "users")))

    assert result.outcome is Outcome.OK
    assert json.loads((tmp_path / "states" / "acme" / "users.json").read_text()) == {
        "bookmarks": {"users": {"id": 2}}
    }
    assert backend.keys() == [StateKey("acme", "users")]


def test_config_contents_never_reach_argv_or_logs(tmp_path, csv_target):
    tap = counting_tap(tmp_path, streams={"users": 1}, password="s3cr3t-value")

    _, stderr = run(tap, csv_target, StateFile(tmp_path / "s.json"))

    assert "s3cr3t-value" not in " ".join(tap_log(tmp_path)["argv"])
    assert "s3cr3t-value" not in stderr


def test_tap_failure_names_the_tap_and_keeps_what_the_target_committed(tmp_path, csv_target):
    state = StateFile(tmp_path / "s.json")
    tap = counting_tap(tmp_path, streams={"users": 10}, state_every=3, fail_after=5)

    result, stderr = run(tap, csv_target, state)

    assert result.outcome is Outcome.TAP_FAILED and result.exit_code == 1
    assert "the tap 'tap-counting' failed with exit code 7" in result.message
    assert "source connection lost" in result.message
    assert "giving up after retries" in result.message
    assert "target-csv" not in result.message.split("\n")[0]
    # the half-written sixth line was held back, so the target ended cleanly and committed
    assert csv_ids(tmp_path, "users") == [1, 2, 3, 4, 5]
    assert state.read() == {"bookmarks": {"users": {"id": 3}}}
    assert "[tap-counting] source connection lost" in stderr


def test_target_failure_names_the_target_and_stops_the_tap(tmp_path, csv_target):
    program = write_program(tmp_path, "tap-orphans", RECORD_BEFORE_SCHEMA_TAP)
    state = StateFile(tmp_path / "s.json")
    state.write({"bookmarks": {"before": 1}})

    result, _ = run(PluginCommand("tap", str(program)), csv_target, state)

    assert result.outcome is Outcome.TARGET_FAILED and result.exit_code == 3
    first_line = result.message.split("\n")[0]
    assert "the target 'target-csv' failed with exit code 1" in first_line
    assert "orphans" in result.message, "the target's own error is quoted"
    assert "The tap failed too" not in result.message
    assert state.read() == {"bookmarks": {"before": 1}}


def test_progress_lines_while_running_and_a_summary(tmp_path, csv_target):
    tap = counting_tap(tmp_path, streams={"users": 30}, sleep=0.05)

    result, stderr = run(tap, csv_target, StateFile(tmp_path / "s.json"), progress_interval=0.3)

    progress = [
        line for line in stderr.splitlines() if line.startswith("dativo pipe: ") and "/s):" in line
    ]
    assert progress, stderr
    assert all("users" in line for line in progress)
    assert len(progress) < 15, "at most one line per interval"
    assert "dativo pipe:   users: 30 records" in stderr
    assert result.records == {"users": 30}


def test_a_second_run_of_one_pipeline_fails_fast_on_the_lock(tmp_path, csv_target):
    state = StateFile(tmp_path / "s.json")
    tap = counting_tap(tmp_path, streams={"users": 1})

    expected = rf"locked by another run \(pid {os.getpid()}\)"
    with state.lock(), pytest.raises(StateLockedError, match=expected):
        run(tap, csv_target, StateFile(tmp_path / "s.json"))

    assert not (tmp_path / "tap-log.json").exists(), "the tap never started"


def test_a_target_that_exits_without_reading_fails_the_run(tmp_path):
    target = PluginCommand(
        "target", str(write_program(tmp_path, "target-impatient", IMPATIENT_TARGET))
    )
    tap = counting_tap(tmp_path, streams={"users": 200000})

    result, _ = run(tap, target, StateFile(tmp_path / "s.json"))

    assert result.outcome is Outcome.TARGET_FAILED and result.exit_code == 3
    assert (
        "the target 'target-impatient' exited before reading all of the tap's output"
        in result.message
    )
    assert "The tap failed too" not in result.message


def test_a_target_that_exits_before_the_tap_writes_anything_is_the_one_blamed(tmp_path):
    # The tap writes nothing for a long while, so the target's early exit is seen before any
    # relayed write breaks: the tap is stopped for it, and is not what failed.
    slow_tap = write_program(tmp_path, "tap-slow", "import time\ntime.sleep(60)\nprint('{}')\n")
    target = PluginCommand(
        "target", str(write_program(tmp_path, "target-impatient", IMPATIENT_TARGET))
    )

    result, _ = run(PluginCommand("tap", str(slow_tap)), target, StateFile(tmp_path / "s.json"))

    assert result.outcome is Outcome.TARGET_FAILED and result.exit_code == 3
    assert (
        "the target 'target-impatient' exited before reading all of the tap's output"
        in result.message
    )
    assert "The tap failed too" not in result.message


def test_a_target_that_hangs_after_a_stop_request_is_terminated(tmp_path):
    target = PluginCommand("target", str(write_program(tmp_path, "target-hanging", HANGING_TARGET)))
    tap = counting_tap(tmp_path, streams={"users": 100000}, sleep=0.01)
    stderr = io.StringIO()
    pipe = Pipe(
        tap, target, StateFile(tmp_path / "s.json"), console=Console(stderr), stop_timeout=1
    )
    threading.Timer(1.5, pipe.request_stop, args=(signal.SIGINT,)).start()

    started = time.monotonic()
    result = pipe.run()

    assert time.monotonic() - started < 15
    assert result.outcome is Outcome.INTERRUPTED and result.exit_code == 130
    assert "interrupted by SIGINT" in result.message
    assert "the target 'target-hanging' was killed by SIGTERM" in result.message
    assert "committing..." in result.message


def test_resume_from_the_state_the_target_committed(tmp_path):
    target = committing_target(tmp_path)
    state = StateFile(tmp_path / "s.json")
    # a crash after the target committed up to id 3, before the pipe saved that state
    state.write({"bookmarks": {"users": {"id": 1}}})
    (tmp_path / "table.txt").write_text("1\n2\n3\n")
    write_json(tmp_path / "committed.json", {"bookmarks": {"users": {"id": 3}}})
    tap = counting_tap(tmp_path, streams={"users": 5})

    result, stderr = run(tap, target, state, resume_from_target=True)

    assert result.outcome is Outcome.OK, result.message
    assert "resuming from the state the target 'target-committing' committed" in stderr
    assert tap_log(tmp_path)["state"] == {"bookmarks": {"users": {"id": 3}}}
    assert (tmp_path / "table.txt").read_text().split() == ["1", "2", "3", "4", "5"]
    assert state.read() == {"bookmarks": {"users": {"id": 5}}}


def test_resume_from_a_target_with_nothing_committed_uses_the_stored_state(tmp_path):
    state = StateFile(tmp_path / "s.json")
    state.write({"bookmarks": {"users": {"id": 4}}})
    tap = counting_tap(tmp_path, streams={"users": 5})

    result, stderr = run(tap, committing_target(tmp_path), state, resume_from_target=True)

    assert result.outcome is Outcome.OK, result.message
    assert "has no committed state; using the stored state" in stderr
    assert tap_log(tmp_path)["sent"] == {"users": [5]}


def test_resume_from_a_target_without_the_option_fails_before_the_tap_starts(tmp_path, csv_target):
    tap = counting_tap(tmp_path, streams={"users": 5})

    result, _ = run(tap, csv_target, StateFile(tmp_path / "s.json"), resume_from_target=True)

    assert result.outcome is Outcome.TARGET_FAILED and result.exit_code == 3
    assert "the target 'target-csv' could not report its committed state" in result.message
    assert "--committed-state" in result.message
    assert not (tmp_path / "tap-log.json").exists()


def test_a_stop_requested_before_the_start_starts_nothing(tmp_path, csv_target):
    tap = counting_tap(tmp_path, streams={"users": 5})
    stderr = io.StringIO()
    pipe = Pipe(tap, csv_target, StateFile(tmp_path / "s.json"), console=Console(stderr))
    pipe.request_stop(signal.SIGTERM)

    result = pipe.run()

    assert result.outcome is Outcome.INTERRUPTED and result.exit_code == 143
    assert result.message == "interrupted by SIGTERM before the start"
    assert not (tmp_path / "tap-log.json").exists()
