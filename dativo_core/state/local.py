"""State kept in local JSON files: one file per pipeline, replaced atomically, locked per run.

Layout of a state directory: `<dir>/<tenant>/<pipeline>.json` holds the Singer state value, and
`<dir>/<tenant>/<pipeline>.lock` is the lock file a run holds with `flock`. Lock files stay in
place after a run: deleting one while another process waits on it would let two runs in.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from dativo_core.atomic_write import fsync_directory, write_atomically
from dativo_core.state.backend import StateBackend, StateKey, decode_state
from dativo_core.state.errors import StateError, StateLockedError

_LOCK_POLL_SECONDS = 0.1


class StateFile:
    """One state value in one JSON file, e.g. the `--state-file` of `dativo pipe`.

    `lock_timeout` is how long `lock()` waits for another run to finish: 0 (the default) fails
    at once, so a second run of a pipeline stops with a clear message instead of queueing.
    """

    def __init__(self, path: str | os.PathLike[str], lock_timeout: float = 0.0) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name.removesuffix(".json") + ".lock")
        self.lock_timeout = lock_timeout

    def __str__(self) -> str:
        return str(self.path)

    def read(self) -> dict[str, Any] | None:
        """The stored state, or None when nothing was stored yet."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateError(f"cannot read state file {self.path}: {exc.strerror}") from None
        if not data.strip():
            return None
        return decode_state(data, f"state file {self.path}", reset="remove it")

    def write(self, value: dict[str, Any]) -> None:
        """Replace the file atomically and durably: a crash leaves the old state or the new."""
        data = orjson.dumps(value, option=orjson.OPT_APPEND_NEWLINE)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_atomically(self.path, data)
        except OSError as exc:
            raise StateError(f"cannot write state file {self.path}: {exc.strerror}") from None

    def clear(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
            fsync_directory(self.path.parent)

    @contextlib.contextmanager
    def lock(self) -> Iterator[int]:
        """Hold an exclusive `flock` on the lock file beside the state for a whole run.

        Yields the lock's file descriptor: child processes that inherit it keep the lock held
        until they exit too. The kernel drops the lock when the last holder dies, so a crashed
        run never blocks the next one.
        """
        try:
            self.lock_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            descriptor = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StateError(f"cannot open lock file {self.lock_path}: {exc.strerror}") from None
        try:
            self._acquire(descriptor)
            os.ftruncate(descriptor, 0)
            os.write(descriptor, f"{os.getpid()}\n".encode())
            yield descriptor
        finally:
            os.close(descriptor)

    def _acquire(self, descriptor: int) -> None:
        deadline = time.monotonic() + self.lock_timeout
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    break
                time.sleep(_LOCK_POLL_SECONDS)
        waited = f" after waiting {self.lock_timeout:g} s" if self.lock_timeout else ""
        raise StateLockedError(
            f"state {self.path} is locked by another run ({_describe_holder(descriptor)})"
            f"{waited}; wait for that run to finish, or give a lock timeout to wait for it"
        )


class LocalStateBackend(StateBackend):
    """State of many pipelines under one directory: `<dir>/<tenant>/<pipeline>.json`."""

    def __init__(self, directory: str | os.PathLike[str], lock_timeout: float = 0.0) -> None:
        self.directory = Path(directory)
        self.lock_timeout = lock_timeout

    def __str__(self) -> str:
        return f"state directory {self.directory}"

    def file(self, key: StateKey) -> StateFile:
        return StateFile(self.directory / key.tenant / f"{key.pipeline}.json", self.lock_timeout)

    def get(self, key: StateKey) -> dict[str, Any] | None:
        return self.file(key).read()

    def set(self, key: StateKey, value: dict[str, Any]) -> None:
        self.file(key).write(value)

    def clear(self, key: StateKey) -> None:
        self.file(key).clear()

    def keys(self) -> list[StateKey]:
        if not self.directory.is_dir():
            return []
        found = []
        for path in sorted(self.directory.glob("*/*.json")):
            with contextlib.suppress(ValueError):
                found.append(StateKey(path.parent.name, path.stem))
        return found

    @contextlib.contextmanager
    def lock(self, key: StateKey) -> Iterator[None]:
        with self.file(key).lock():
            yield


def _describe_holder(descriptor: int) -> str:
    """Who holds the lock: the pid of the run, and whether only its children are left."""
    text = os.pread(descriptor, 32, 0).decode(errors="replace").strip()
    if not text.isdigit():
        return "pid unknown"
    try:
        os.kill(int(text), 0)
    except ProcessLookupError:
        return f"pid {text}, which has exited; processes it started still hold the lock"
    except PermissionError:
        pass
    return f"pid {text}"
