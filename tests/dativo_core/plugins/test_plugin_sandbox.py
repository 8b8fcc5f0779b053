"""The sandbox, through the real tap-reader process: limits stop runaway readers, crashes end
the tap with a clear error and no STATE past what was emitted, secrets stay undeclared."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import orjson
import psutil
import pytest

READERS = Path(__file__).with_name("misbehaving_readers.py")


def run_tap(
    reader: str, *args: str, env: dict[str, str] | None = None
) -> tuple[int, list[dict], str]:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "dativo_tap_reader.cli",
            "--reader",
            f"{READERS}:{reader}",
            *args,
        ],
        capture_output=True,
        check=False,
        timeout=120,
        env={**os.environ, **(env or {})},
    )
    messages = [orjson.loads(line) for line in proc.stdout.splitlines() if line]
    return proc.returncode, messages, proc.stderr.decode()


def kinds(messages: list[dict]) -> list[str]:
    return [m["type"] for m in messages]


def assert_stopped_after_first_bookmark(messages: list[dict]) -> None:
    """The record and STATE emitted before the failure, and no STATE after it."""
    assert kinds(messages)[:3] == ["SCHEMA", "RECORD", "STATE"]
    assert messages[2]["value"] == {
        "bookmarks": {"items": {"replication_key_value": 1}}
    }
    assert "STATE" not in kinds(messages)[3:]


def test_unbounded_allocation_is_stopped_by_the_memory_limit() -> None:
    code, messages, stderr = run_tap("Allocates", "--memory-mb", "600")
    assert code == 1
    assert (
        "ran out of memory" in stderr and "600 MB" in stderr and "--memory-mb" in stderr
    )
    assert_stopped_after_first_bookmark(messages)


@pytest.mark.slow
def test_endless_loop_is_stopped_by_the_cpu_limit() -> None:
    code, messages, stderr = run_tap("Spins", "--cpu-seconds", "2")
    assert code == 1
    assert "CPU time limit of 2 s" in stderr and "SIGXCPU" in stderr
    assert_stopped_after_first_bookmark(messages)


def test_reader_that_hangs_without_cpu_is_stopped_by_the_idle_limit() -> None:
    started = time.monotonic()
    code, messages, stderr = run_tap("Sleeps", "--idle-seconds", "2")
    assert code == 1
    assert (
        "sent nothing for 2 s and was stopped" in stderr and "--idle-seconds" in stderr
    )
    assert time.monotonic() - started < 30
    assert_stopped_after_first_bookmark(messages)


def test_crash_ends_the_tap_with_the_signal_and_no_later_state() -> None:
    code, messages, stderr = run_tap("Crashes")
    assert code == 1
    assert "crashed with SIGABRT" in stderr
    assert_stopped_after_first_bookmark(messages)
    # The record read before the crash but after the last bookmark is not covered by a STATE.
    assert [m["record"]["n"] for m in messages if m["type"] == "RECORD"] == [1]


def test_reader_exception_is_reported_with_its_message() -> None:
    code, messages, stderr = run_tap("Raises")
    assert code == 1
    assert "RuntimeError: the source said no" in stderr
    assert_stopped_after_first_bookmark(messages)


def test_open_file_limit_applies() -> None:
    code, messages, stderr = run_tap("OpensFiles", "--open-files", "64")
    assert code == 1
    assert "Too many open files" in stderr
    assert_stopped_after_first_bookmark(messages)


def test_reader_sees_only_declared_secrets_and_its_own_directory() -> None:
    env = {"UNDECLARED_TOKEN": "s3cr3t-a", "DECLARED_TOKEN": "s3cr3t-b"}
    code, messages, stderr = run_tap("Snoops", env=env)
    assert code == 0, stderr
    seen = {
        m["record"]["n"]: m["record"]["seen"] for m in messages if m["type"] == "RECORD"
    }
    assert seen[1] is None
    assert seen[2] == "s3cr3t-b"
    workdir = Path(seen[3])
    assert workdir.name.startswith("dativo-reader-") and seen[4] == seen[3]
    assert not workdir.exists(), "the sandbox's working directory is removed afterwards"
    assert "must not corrupt" in stderr
    assert kinds(messages) == [
        "SCHEMA",
        "RECORD",
        "RECORD",
        "RECORD",
        "RECORD",
        "STATE",
    ]


def test_asking_for_an_undeclared_secret_is_refused() -> None:
    code, messages, stderr = run_tap(
        "AsksUndeclared", env={"UNDECLARED_TOKEN": "s3cr3t-a"}
    )
    assert code == 1
    assert "secret 'UNDECLARED_TOKEN' is not declared" in stderr
    assert "s3cr3t-a" not in stderr
    assert_stopped_after_first_bookmark(messages)


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's"
)
def test_reader_dies_with_a_killed_tap() -> None:
    tap = psutil.Popen(
        [sys.executable, "-m", "dativo_tap_reader.cli", "--reader", f"{READERS}:Spins"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not tap.children() and time.monotonic() < deadline:
            time.sleep(0.05)
        (reader,) = tap.children()
        tap.kill()
        tap.wait()
        reader.wait(timeout=10)
        assert not reader.is_running()
    finally:
        if tap.poll() is None:
            tap.kill()


def test_no_sandbox_runs_in_process_with_the_whole_environment() -> None:
    env = {"UNDECLARED_TOKEN": "s3cr3t-a"}
    code, messages, stderr = run_tap("Snoops", "--no-sandbox", env=env)
    assert code == 0
    assert "must not corrupt" in stderr
    records = [m for m in messages if m["type"] == "RECORD"]
    assert records[0]["record"]["seen"] == "s3cr3t-a"
    assert records[2]["record"]["seen"] == os.getcwd()


def _sandbox_children_left_by(tap_pid: int, moment: float) -> list[psutil.Process]:
    """Reader processes (`python -m dativo_core.plugins.child`) started since `moment` that are
    still alive under the tap, or orphaned (reparented to init) once it ended."""
    found = []
    for process in psutil.process_iter(["cmdline", "create_time", "ppid"]):
        info = process.info
        if (
            "dativo_core.plugins.child" in (info["cmdline"] or [])
            and info["create_time"] >= moment
            and info["ppid"] in (tap_pid, 1)
        ):
            found.append(process)
    return found


def test_reader_that_cannot_be_resolved_ends_the_already_spawned_child_quietly() -> None:
    # tap-reader spawns the child before it looks the reader up; a failed lookup ends it.
    started = time.time() - 1  # create_time has a clock tick's resolution
    proc = subprocess.Popen(
        [sys.executable, "-m", "dativo_tap_reader.cli", "--reader", "no-such-plugin"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    _, stderr_bytes = proc.communicate(timeout=60)
    stderr = stderr_bytes.decode()
    assert proc.returncode == 1
    assert "no reader plugin named 'no-such-plugin'" in stderr
    assert "started by the reader sandbox only" not in stderr
    assert not _sandbox_children_left_by(proc.pid, started)
