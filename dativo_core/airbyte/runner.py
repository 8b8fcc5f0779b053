"""What every way of running an Airbyte connector shares: the invocation and its private files."""

from __future__ import annotations

import abc
import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

RUN_DIR_PREFIX = "dativo-airbyte-"


@dataclass(frozen=True)
class Invocation:
    """One connector command (spec, check, discover or read) and the documents it reads."""

    command: str
    config: dict[str, Any] | None = None
    catalog: dict[str, Any] | None = None
    state: Any = None

    def files(self) -> dict[str, Any]:
        """The documents handed over as files, by the flag that names each."""
        documents = {"config": self.config, "catalog": self.catalog, "state": self.state}
        return {flag: value for flag, value in documents.items() if value is not None}

    def arguments(self, directory: str) -> list[str]:
        """The connector's argv after its entry point: paths only, never a secret value."""
        args = [self.command]
        for flag in self.files():
            args += [f"--{flag}", f"{directory}/{flag}.json"]
        return args


@contextlib.contextmanager
def private_run_dir(invocation: Invocation, owner: tuple[int, int] | None = None) -> Iterator[Path]:
    """The invocation's files in a fresh directory only its user can read, removed afterwards.

    `owner` (uid, gid) hands the directory to another user, e.g. a container's; that needs root.
    """
    directory = Path(tempfile.mkdtemp(prefix=RUN_DIR_PREFIX))
    try:
        for flag, value in invocation.files().items():
            path = directory / f"{flag}.json"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fp:
                fp.write(orjson.dumps(value))
            if owner is not None:
                os.chown(path, *owner)
        if owner is not None:
            os.chown(directory, *owner)
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


class RunningConnector(abc.ABC):
    """A started connector process: its stdout as lines, then its exit code."""

    @abc.abstractmethod
    def line_chunks(self) -> Iterator[list[bytes]]:
        """Stdout as lists of complete lines, each list as soon as it has arrived.

        Implementations hand `read_line_chunks` a reader whose read() returns what has arrived
        rather than waiting for a full block, so a STATE is passed on when it is written.
        """

    @abc.abstractmethod
    def wait(self) -> int:
        """Wait for the connector to exit after its stdout has ended; its exit code."""


class Runner(abc.ABC):
    """Starts a connector for one invocation and stops it when the caller is done or fails."""

    name: str

    @abc.abstractmethod
    def start(self, invocation: Invocation) -> contextlib.AbstractContextManager[RunningConnector]:
        """Leaving the context stops a connector still running and removes its private files."""
