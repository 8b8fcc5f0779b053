"""Local state files: atomic 0600 writes, clear errors, and a lock that holds across processes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
import time

import pytest

from dativo_core.state.backend import StateKey
from dativo_core.state.errors import StateError, StateLockedError
from dativo_core.state.local import LocalStateBackend, StateFile

HOLD_LOCK = """
import sys, time
from dativo_core.state.local import StateFile
with StateFile(sys.argv[1]).lock():
    print("locked", flush=True)
    time.sleep(60)
"""


def test_backend_round_trip_and_layout(tmp_path):
    backend = LocalStateBackend(tmp_path / "states")
    key = StateKey("acme", "orders")

    assert backend.get(key) is None
    assert backend.keys() == []
    backend.set(key, {"bookmarks": {"orders": {"id": 7}}})
    backend.set(StateKey("beta", "users"), {})

    path = tmp_path / "states" / "acme" / "orders.json"
    assert path.read_bytes() == b'{"bookmarks":{"orders":{"id":7}}}\n'
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert backend.get(key) == {"bookmarks": {"orders": {"id": 7}}}
    assert backend.keys() == [key, StateKey("beta", "users")]
    assert sorted(os.listdir(path.parent)) == ["orders.json"], "no temporary files left behind"

    backend.clear(key)
    backend.clear(key)
    assert backend.get(key) is None
    assert backend.keys() == [StateKey("beta", "users")]


def test_a_failed_write_keeps_the_old_state(tmp_path):
    state = StateFile(tmp_path / "s.json")
    state.write({"old": 1})

    with pytest.raises(TypeError):
        state.write({"new": object()})

    assert state.read() == {"old": 1}
    assert os.listdir(tmp_path) == ["s.json"]


def test_unreadable_state_names_the_file(tmp_path):
    path = tmp_path / "s.json"
    path.write_text("[1, 2]")
    with pytest.raises(StateError, match=f"state file {path} holds a JSON list"):
        StateFile(path).read()

    path.write_text('{"bookmarks": ')
    with pytest.raises(StateError, match=f"state file {path} is not valid JSON"):
        StateFile(path).read()


def test_the_lock_fails_fast_within_and_across_processes(tmp_path):
    state = StateFile(tmp_path / "s.json")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(state.path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline() == "locked\n"
        started = time.monotonic()
        expected = rf"locked by another run \(pid {holder.pid}\)"
        with pytest.raises(StateLockedError, match=expected), state.lock():
            pass
        assert time.monotonic() - started < 5  # a waiting lock would never return: the holder keeps it until killed
    finally:
        holder.kill()
        holder.wait()

    with state.lock(), pytest.raises(StateLockedError), StateFile(state.path).lock():
        pass


def test_the_lock_of_a_killed_run_is_free_at_once(tmp_path):
    state = StateFile(tmp_path / "s.json")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(state.path)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline() == "locked\n"
    holder.kill()
    holder.wait()

    with state.lock():
        assert (tmp_path / "s.lock").read_text() == f"{os.getpid()}\n"


def test_a_lock_timeout_waits_for_the_holder(tmp_path):
    first = StateFile(tmp_path / "s.json")
    locked = threading.Event()

    def hold_briefly() -> None:
        with first.lock():
            locked.set()
            time.sleep(0.5)

    holder = threading.Thread(target=hold_briefly)
    holder.start()
    assert locked.wait(30)
    with LocalStateBackend(tmp_path / "unused", lock_timeout=5).lock(StateKey("a", "b")):
        pass
    with StateFile(tmp_path / "s.json", lock_timeout=5).lock():
        assert not holder.is_alive()
    holder.join()

    waiting = StateFile(tmp_path / "s.json", lock_timeout=0.3)
    with first.lock(), pytest.raises(StateLockedError, match="after waiting 0.3 s"), waiting.lock():
        pass
