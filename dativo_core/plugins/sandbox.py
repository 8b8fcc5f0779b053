"""Run reader jobs in a child process with resource limits, a scrubbed environment and a
working directory of its own, and turn its frames back into Sink calls.

What this protects against: a reader that runs away (memory, CPU, file descriptors), crashes,
prints to stdout, or reads secrets it did not declare from the environment. What it does not:
the child has the same user, network and filesystem access as the tap, so it is no boundary
against malicious code. See docs/readers.md.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, BinaryIO

import orjson

from dativo_core.os_pipe import widen_pipe
from dativo_core.plugins import frames

if TYPE_CHECKING:
    from dativo_core.plugins.execution import ReaderJob, Sink

# A pipe of 1 MiB (Linux's default cap for unprivileged processes, instead of 64 KiB) lets
# the child write a batch of RECORD lines in a few system calls and context switches.
PIPE_BYTES = 1 << 20

# How long a child that finished its jobs may take to exit before it is killed.
CLOSE_SECONDS = 10

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


def child_environment(workdir: str) -> dict[str, str]:
    """Only harmless variables; HOME and TMPDIR point at `workdir`. The declared secrets follow
    in the START frame (see `Sandbox.load`), since the child starts before the reader is known."""
    env = {k: os.environ[k] for k in PASSED_VARIABLES if k in os.environ}
    env.update(HOME=workdir, TMPDIR=workdir, PYTHONDONTWRITEBYTECODE="1")
    return env


def file_descriptor(out: BinaryIO) -> int | None:
    """The OS file descriptor behind `out`, for a child to write to; None for an in-memory
    buffer (as test runners use), whose records then travel through the tap."""
    try:
        return out.fileno()
    except (OSError, ValueError, io.UnsupportedOperation):
        return None


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


class Sandbox:
    """One child process for a reader, started at once, before the reader is even known (so
    its interpreter starts while the tap resolves the reader and checks the config); then
    `load(reader, secrets)`, and jobs one after another: `run(job, sink)` for each.

    With `output_fd`, the child writes RECORD lines to that file descriptor itself (the tap's
    stdout: no copy through the tap); the sink then gets start_stream, bookmark and discovered
    calls only, and must flush what it writes before returning. Without, records come back in
    frames and go to `sink.records`.
    """

    def __init__(self, limits: SandboxLimits, output_fd: int | None = None) -> None:
        self.reader: str | None = None
        self.limits = limits
        self._closed = False
        self._workdir = tempfile.TemporaryDirectory(prefix="dativo-reader-")
        # A descriptor of its own, passed under the same number: the child's fd 1 is the frame pipe.
        child_output = None if output_fd is None else os.dup(output_fd)
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "dativo_core.plugins.child"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                cwd=self._workdir.name,
                env=child_environment(self._workdir.name),
                close_fds=True,
                pass_fds=() if child_output is None else (child_output,),
            )
        except BaseException:
            self._workdir.cleanup()
            raise
        finally:
            if child_output is not None:
                os.close(child_output)
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._requests = self._proc.stdin
        self._frames = self._proc.stdout
        widen_pipe(self._frames.fileno(), PIPE_BYTES)
        self._output_fd = child_output
        self._watchdog = _IdleWatchdog(self._proc, limits.idle_seconds)
        self._watchdog.start()

    def load(self, reader: str, secrets: tuple[str, ...]) -> None:
        """Have the child apply its limits, take the declared `secrets` (the values of those
        environment variables that are set) into its environment, and import `reader`."""
        self.reader = reader
        self._send(
            frames.START,
            {
                "reader": reader,
                "limits": self.limits.to_dict(),
                "secrets": {k: os.environ[k] for k in secrets if k in os.environ},
                "sys_path": [os.path.abspath(p) for p in sys.path],
                "parent_pid": os.getpid(),
                "output_fd": self._output_fd,
            },
        )

    def _send(self, kind: bytes, value: Any = None) -> None:
        payload = b"" if value is None else orjson.dumps(value)
        try:
            frames.write_frame(self._requests, kind, payload)
            self._requests.flush()
        except BrokenPipeError:
            pass  # the child is gone: reading its frames says how

    def _next_frame(self, watched: bool) -> tuple[bytes, bytes, int] | None:
        self._watchdog.waiting(watched)
        try:
            return frames.read_frame(self._frames)
        except frames.TruncatedFrame:
            return None
        finally:
            self._watchdog.waiting(False)

    def run(self, job: ReaderJob, sink: Sink) -> None:
        """Run `job` in the child; raise PluginFailed if it fails, is stopped, or dies."""
        from dativo_core.plugins.execution import streams_from_dicts

        where = f"reader {job.reader} ({job.action})"
        self._send(frames.JOB, job.to_dict())
        watched = True
        while (frame := self._next_frame(watched)) is not None:
            kind, payload, count = frame
            # While the child writes to the output, a slow target is not the reader's idleness.
            watched = kind != frames.WRITING
            if kind == frames.DONE:
                return
            if kind == frames.ERROR:
                error = orjson.loads(payload)
                if error["kind"] == "output_closed":
                    raise BrokenPipeError(error["message"])
                detail = f"\n{error['detail']}" if error.get("detail") else ""
                raise PluginFailed(f"{where} failed: {error['message']}{detail}")
            if kind == frames.RECORDS:
                sink.records(payload, count)
            elif kind == frames.STREAM:
                sink.start_stream(orjson.loads(payload)["stream"])
                self._send(frames.ACK)
            elif kind == frames.BOOKMARK:
                data = orjson.loads(payload)
                sink.bookmark(data["stream"], data["value"])
                self._send(frames.ACK)
            elif kind == frames.CATALOG:
                sink.discovered(streams_from_dicts(orjson.loads(payload)))
            elif kind not in (frames.WRITING, frames.WRITTEN):
                self._proc.kill()
                raise PluginFailed(f"{where}: unexpected frame {kind!r} from the reader process")
        returncode = self._proc.wait()
        if self._watchdog.fired:
            raise PluginFailed(
                f"{where} sent nothing for {self.limits.idle_seconds} s and was stopped "
                "(raise the limit with --idle-seconds)"
            )
        raise PluginFailed(f"{where} {_exit_problem(returncode, self.limits)}")

    def close(self, *, kill: bool = False) -> None:
        """End the child (at once with `kill`, else once it has finished its last job); a
        second call does nothing."""
        if self._closed:
            return
        self._closed = True
        try:
            if kill:
                self._proc.kill()
            else:
                self._requests.close()
            # A timer rather than wait(timeout=...), which polls and so adds its poll interval.
            deadline = threading.Timer(CLOSE_SECONDS, self._proc.kill)
            deadline.start()
            try:
                self._proc.wait()
            finally:
                deadline.cancel()
        finally:
            self._watchdog.stop()
            self._frames.close()
            with contextlib.suppress(BrokenPipeError):
                self._requests.close()
            self._workdir.cleanup()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.close(kill=exc_type is not None)
