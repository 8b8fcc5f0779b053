"""Running a connector installed as a program on this machine (e.g. `source-faker` from pip)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

from dativo_core.airbyte.errors import ConnectorError
from dativo_core.airbyte.runner import Invocation, Runner, RunningConnector, private_run_dir
from dativo_core.os_pipe import widen_pipe
from dativo_core.singer.reader import read_line_chunks

READ_BYTES = 1 << 20
PIPE_BYTES = 1 << 20
STOP_GRACE_SECONDS = 10.0


class _Process(RunningConnector):
    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self._process = process

    def line_chunks(self) -> Iterator[list[bytes]]:
        # Unbuffered pipe: each read() is one system call returning what the pipe holds.
        for chunk in read_line_chunks(self._process.stdout, READ_BYTES):  # type: ignore[arg-type]
            yield chunk.lines

    def wait(self) -> int:
        return self._process.wait()

    def stop(self) -> None:
        """SIGTERM to the connector's whole process group, SIGKILL if it lingers."""
        if self._process.poll() is not None:
            return
        for sig, grace in ((signal.SIGTERM, STOP_GRACE_SECONDS), (signal.SIGKILL, None)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, sig)
            try:
                self._process.wait(grace)
                return
            except subprocess.TimeoutExpired:
                continue


class ExecutableRunner(Runner):
    """Runs `executable COMMAND --config ...`; the connector's stderr goes straight to ours."""

    def __init__(self, executable: str | Path, name: str | None = None) -> None:
        self.executable = str(executable)
        self.name = name or Path(self.executable).name

    def _resolve(self) -> str:
        found = shutil.which(self.executable)
        if found is None:
            raise ConnectorError(
                f"executable {self.executable!r} not found; install the connector "
                "or give its full path",
                failure_type="config_error",
                connector=self.name,
            )
        return found

    @contextlib.contextmanager
    def start(self, invocation: Invocation) -> Iterator[RunningConnector]:
        program = self._resolve()
        with private_run_dir(invocation) as directory:
            process = subprocess.Popen(
                [program, *invocation.arguments(str(directory))],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                bufsize=0,
                # Its own process group: a terminal's Ctrl-C reaches us, and we stop it and
                # its workers together.
                start_new_session=True,
            )
            # A larger pipe lets the connector write on while we wait for the CPU (Linux).
            widen_pipe(process.stdout.fileno(), PIPE_BYTES)  # type: ignore[union-attr]
            running = _Process(process)
            try:
                yield running
            finally:
                running.stop()
                process.stdout.close()  # type: ignore[union-attr]
