"""Run a reader job in a child process with resource limits, a scrubbed environment and a
working directory of its own, and turn its frames back into Sink calls.

What this protects against: a reader that runs away (memory, CPU, file descriptors), crashes,
prints to stdout, or reads secrets it did not declare from the environment. What it does not:
the child has the same user, network and filesystem access as the tap, so it is no boundary
against malicious code. See docs/readers.md.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

import orjson

from dativo_core.os_pipe import widen_pipe
from dativo_core.plugins import frames
from dativo_core.plugins.execution import ReaderJob, Sink, streams_from_dicts

# A pipe of 1 MiB (Linux's default cap for unprivileged processes, instead of 64 KiB) lets
# the child write a batch of RECORD lines in a few system calls and context switches.
PIPE_BYTES = 1 << 20

# Variables a Python child needs to start and behave, and that hold no secrets.
PASSED_VARIABLES = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "SYSTEMROOT")


@dataclass(frozen=True)
class SandboxLimits:
    """Limits of the child. Address space counts reservations, not use: pyarrow and polars
    reserve a lot, hence the generous default."""

    memory_mb: int = 4096
    cpu_seconds: int = 3600
    open_files: int = 256
    idle_seconds: int = 3600

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


DEFAULT_LIMITS = SandboxLimits()


class PluginFailed(Exception):
    """The reader failed or was stopped; the message says which limit or error, for which job."""


class _IdleWatchdog(threading.Thread):
    """Kills the child when the tap has waited `seconds` for its next frame: a reader blocked
    or sleeping uses no CPU, so the CPU limit alone would let it hang forever. Time the tap
    spends writing (a slow target) does not count."""

    def __init__(self, proc: subprocess.Popen[bytes], seconds: int) -> None:
        super().__init__(daemon=True)
        self._proc = proc
        self._seconds = seconds
        self._waiting_since: float | None = None
        self._stop = threading.Event()
        self.fired = False

    def waiting(self, flag: bool) -> None:
        self._waiting_since = time.monotonic() if flag else None

    def run(self) -> None:
        while not self._stop.wait(min(1.0, self._seconds / 4)):
            since = self._waiting_since
            if since is not None and time.monotonic() - since > self._seconds:
                self.fired = True
                self._proc.kill()
                return

    def stop(self) -> None:
        self._stop.set()


def child_environment(secrets: tuple[str, ...], workdir: str) -> dict[str, str]:
    """Only harmless variables and the declared secrets; HOME and TMPDIR point at `workdir`."""
    env = {k: os.environ[k] for k in PASSED_VARIABLES if k in os.environ}
    env.update({k: os.environ[k] for k in secrets if k in os.environ})
    env.update(HOME=workdir, TMPDIR=workdir, PYTHONDONTWRITEBYTECODE="1")
    return env


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _exit_problem(returncode: int, limits: SandboxLimits) -> str:
    if returncode < 0:
        sig = -returncode
        if sig == signal.SIGXCPU or sig == signal.SIGKILL:
            return (
                f"was stopped by {_signal_name(sig)}: it used more than its CPU time limit "
                f"of {limits.cpu_seconds} s (raise it with --cpu-seconds)"
                if sig == signal.SIGXCPU
                else "was killed (SIGKILL): its hard CPU limit was reached, or the system "
                "ran out of memory"
            )
        return f"crashed with {_signal_name(sig)}"
    return f"exited with status {returncode} before finishing"


def _dispatch(kind: bytes, payload: bytes, count: int, sink: Sink) -> None:
    if kind == frames.RECORDS:
        sink.records(payload, count)
    elif kind == frames.BOOKMARK:
        data = orjson.loads(payload)
        sink.bookmark(data["stream"], data["value"])
    elif kind == frames.STREAM:
        sink.start_stream(orjson.loads(payload)["stream"])
    elif kind == frames.CATALOG:
        sink.discovered(streams_from_dicts(orjson.loads(payload)))
    else:
        raise PluginFailed(f"unexpected frame {kind!r} from the reader process")


def run_sandboxed(
    job: ReaderJob, sink: Sink, limits: SandboxLimits, secrets: tuple[str, ...]
) -> None:
    """Run `job` in a child; raise PluginFailed if it fails, is stopped, or dies."""
    request: dict[str, Any] = {
        "job": job.to_dict(),
        "limits": limits.to_dict(),
        "sys_path": [os.path.abspath(p) for p in sys.path],
        "parent_pid": os.getpid(),
    }
    with tempfile.TemporaryDirectory(prefix="dativo-reader-") as workdir:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dativo_core.plugins.child"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=workdir,
            env=child_environment(secrets, workdir),
            close_fds=True,
        )
        assert proc.stdin is not None and proc.stdout is not None
        widen_pipe(proc.stdout.fileno(), PIPE_BYTES)
        try:
            proc.stdin.write(orjson.dumps(request))
            proc.stdin.close()
            error: dict[str, Any] | None = None
            finished = False
            watchdog = _IdleWatchdog(proc, limits.idle_seconds)
            watchdog.start()
            incoming = frames.read_frames(proc.stdout)
            try:
                while True:
                    watchdog.waiting(True)
                    frame = next(incoming, None)
                    watchdog.waiting(False)
                    if frame is None:
                        break
                    kind, payload, count = frame
                    if kind == frames.ERROR:
                        error = orjson.loads(payload)
                    elif kind == frames.DONE:
                        finished = True
                    else:
                        _dispatch(kind, payload, count, sink)
            except frames.TruncatedFrame:
                finished = False
            finally:
                watchdog.stop()
            returncode = proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
    where = f"reader {job.reader} ({job.action})"
    if watchdog.fired:
        raise PluginFailed(
            f"{where} sent nothing for {limits.idle_seconds} s and was stopped "
            "(raise the limit with --idle-seconds)"
        )
    if error is not None:
        detail = f"\n{error['detail']}" if error.get("detail") else ""
        raise PluginFailed(f"{where} failed: {error['message']}{detail}")
    if not finished or returncode != 0:
        raise PluginFailed(f"{where} {_exit_problem(returncode, limits)}")
