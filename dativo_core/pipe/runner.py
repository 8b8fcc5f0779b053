"""`dativo pipe`: a tap and a target as child processes, joined through us.

Semantics, in the order things can go wrong:
- The stored state is handed to the tap's `--state` through a private temporary file; every
  state the target writes to stdout is saved at once (atomically), so the saved state is always
  the newest one the target committed.
- When the tap fails, the target still gets every complete message the tap wrote, then end of
  input, so it commits them and emits its state as usual. That is safe: a target states only
  what it has committed. The run still fails, naming the tap.
- When the target fails (or exits before reading all input), the tap is stopped, since its
  output has nowhere to go. The saved state is the last one the target emitted before failing.
- Mappers (`dativo validate`, any Singer mapper) run between tap and target, each reading the
  previous one's stdout directly; the relay reads the last one. A mapper that fails ends the run
  as MAPPER_FAILED, and the tap it stopped reading from is not blamed for the broken pipe.
- With `resume_from_target`, the target is first asked which state its tables' last commits
  reached (`TARGET --config FILE --committed-state`, as target-iceberg answers); when it names
  one, the tap resumes from it and it is saved. That closes the one gap left above: a crash
  after the target committed but before its state line was saved.
- On a stop request (SIGINT/SIGTERM to `dativo pipe`), the tap is asked to stop (SIGTERM) and
  the target gets end of input to commit what it received. After `stop_timeout` seconds, or at
  a second request, both are terminated, and killed `KILL_GRACE_SECONDS` later.
Children run in their own process groups, so a Ctrl-C in the terminal reaches only us and the
stop above stays orderly. They inherit the state lock where it is a file lock: if `dativo pipe`
itself is killed, the lock stays held until the tap and target it left behind have exited too
(the tap on its next write, the target after committing what it received), so a re-run can never
overlap with them.
"""

from __future__ import annotations

import contextlib
import enum
import os
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from dativo_core.pipe.committed_state import CommittedStateError, query_committed_state
from dativo_core.pipe.console import Console
from dativo_core.pipe.counting import RecordCounter
from dativo_core.pipe.plugin import PluginCommand
from dativo_core.pipe.progress import DEFAULT_INTERVAL_SECONDS, ProgressReporter
from dativo_core.os_pipe import widen_pipe
from dativo_core.pipe.relay import Relay
from dativo_core.pipe.state_store import NoState, PipeState
from dativo_core.pipe.stderr_tail import StderrTail
from dativo_core.pipe.target_state import TargetStateReader

DEFAULT_STOP_TIMEOUT_SECONDS = 30.0
KILL_GRACE_SECONDS = 5.0
MAPPER_EXIT_GRACE_SECONDS = 2.0
_TICK_SECONDS = 0.2
_STDERR_DRAIN_SECONDS = 5.0
"""How long to read a child's stderr after it exited: a process it left behind may keep it open."""


class Outcome(enum.IntEnum):
    """How a pipe ended; the value is the exit code of `dativo pipe` (2 is click's usage error).

    INTERRUPTED exits with 128 + the signal number instead, as shells do.
    """

    OK = 0
    TAP_FAILED = 1
    TARGET_FAILED = 3
    STATE_FAILED = 4
    MAPPER_FAILED = 5
    INTERRUPTED = 130


@dataclass
class PipeResult:
    outcome: Outcome
    message: str
    records: dict[str, int] = field(default_factory=dict)
    last_state: dict[str, Any] | None = None
    stop_signal: int | None = None

    @property
    def exit_code(self) -> int:
        if self.outcome is Outcome.INTERRUPTED and self.stop_signal is not None:
            return 128 + self.stop_signal
        return int(self.outcome)


@dataclass
class _Child:
    command: PluginCommand
    process: subprocess.Popen[bytes]
    stderr: StderrTail
    stopped_by_us: bool = False
    kill_scheduled: bool = False

    def signal(self, signum: int) -> None:
        """Signal the child's whole process group (wrapper scripts and what they started)."""
        if self.process.poll() is not None:
            return
        self.stopped_by_us = True
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)

    def describe_failure(self) -> str:
        code = self.process.returncode
        how = (
            f"was killed by {_signal_name(-code)}" if code < 0 else f"failed with exit code {code}"
        )
        text = f"the {self.command.role} '{self.command.name}' {how}"
        lines = self.stderr.last_lines
        if lines:
            text += ". Its last stderr lines:\n" + "\n".join(f"    {line}" for line in lines)
        else:
            text += " and wrote nothing to stderr"
        return text


class Pipe:
    def __init__(
        self,
        tap: PluginCommand,
        target: PluginCommand,
        state: PipeState,
        *,
        catalog: Path | None = None,
        console: Console | None = None,
        progress_interval: float = DEFAULT_INTERVAL_SECONDS,
        stop_timeout: float = DEFAULT_STOP_TIMEOUT_SECONDS,
        forward_stderr: bool = True,
        resume_from_target: bool = False,
        mappers: Sequence[PluginCommand] = (),
    ) -> None:
        self.tap = tap
        self.target = target
        self.mappers = tuple(mappers)
        self.state = state
        self.catalog = catalog
        self.console = console or Console()
        self.progress_interval = progress_interval
        self.stop_timeout = stop_timeout
        self.forward_stderr = forward_stderr
        self.resume_from_target = resume_from_target
        self.counter = RecordCounter()
        self._tap: _Child | None = None
        self._target: _Child | None = None
        self._mappers: list[_Child] = []
        self._stop_signal: int | None = None
        # The target exited while the relay still ran: it never saw the end of its input.
        self._target_left_early = False
        self._stop_requests = 0
        self._stops_applied = 0
        self._escalations: list[tuple[float, _Child, int]] = []
        self._inherited_fds: tuple[int, ...] = ()

    def request_stop(self, signum: int = signal.SIGTERM) -> None:
        """Stop the run in order; a second request stops it at once.

        It only records the request, so it is safe in a signal handler and from other threads;
        the run acts on it within a tick.
        """
        if self._stop_signal is None:
            self._stop_signal = signum
        self._stop_requests += 1

    def run(self) -> PipeResult:
        """Run the pipe to the end; raises StateError if the state cannot be locked or read."""
        with self.state.lock() as lock_fd:
            self._inherited_fds = () if lock_fd is None else (lock_fd,)
            stored = self.state.read()
            if self.resume_from_target:
                try:
                    stored = self._resume_state(stored)
                except CommittedStateError as exc:
                    return PipeResult(Outcome.TARGET_FAILED, str(exc))
            if self._stop_signal is not None:
                text = f"interrupted by {_signal_name(self._stop_signal)} before the start"
                return PipeResult(Outcome.INTERRUPTED, text, stop_signal=self._stop_signal)
            with tempfile.TemporaryDirectory(prefix="dativo-pipe-") as private_dir:
                tap_args = []
                if self.catalog is not None:
                    tap_args += ["--catalog", str(self.catalog)]
                if stored is not None:
                    tap_args += ["--state", _write_private(Path(private_dir), stored)]
                return self._run_children(self.tap.argv(*tap_args), self.target.argv())

    def _resume_state(self, stored: dict[str, Any] | None) -> dict[str, Any] | None:
        """The target's committed state when it has one (then also saved), else the stored one."""
        committed = query_committed_state(self.target)
        if not committed:
            self.console.line(
                f"dativo pipe: the target '{self.target.name}' has no committed state; "
                "using the stored state"
            )
            return stored
        if committed != stored:
            self.console.line(
                f"dativo pipe: resuming from the state the target '{self.target.name}' "
                f"committed, which differs from the stored one; saving it to {self.state}"
            )
            self.state.write(committed)
        return committed

    def _run_children(self, tap_argv: list[str], target_argv: list[str]) -> PipeResult:
        target = self._target = self._start(self.target, target_argv, stdin=subprocess.PIPE)
        try:
            tap = self._tap = self._start(self.tap, tap_argv, stdin=subprocess.DEVNULL)
            for mapper in self.mappers:
                upstream = self._producers[-1].process.stdout
                assert upstream is not None
                self._mappers.append(self._start(mapper, mapper.argv(), stdin=upstream))
                upstream.close()  # the mapper holds it now; the upstream sees EOF/EPIPE through it
        except OSError:
            for child in [target, *([self._tap] if self._tap else []), *self._mappers]:
                if child.process.stdin is not None:
                    _close_quietly(child.process.stdin)
                child.process.kill()
                child.process.wait()
            raise
        source = self._producers[-1].process.stdout
        assert source is not None and target.process.stdin is not None
        assert target.process.stdout is not None
        widen_pipe(source.fileno())
        widen_pipe(target.process.stdin.fileno())
        relay = Relay(source.fileno(), target.process.stdin.fileno(), self.counter)
        states = TargetStateReader(
            target.process.stdout.fileno(), self.state, self.console, self.target.name
        )
        states.start()
        relay_thread = threading.Thread(target=relay.run, name="relay", daemon=True)
        relay_thread.start()

        progress = ProgressReporter(self.counter, self.console, self.progress_interval)
        while relay_thread.is_alive():
            relay_thread.join(_TICK_SECONDS)
            self._tick(progress)
            self._stop_producers_without_reader()
        source.close()
        if relay.sink_broken:
            for producer in self._producers:
                self._stop_now(producer)
        for producer in self._producers:
            self._wait(producer.process, progress)
        if self._producers[-1].process.returncode == 0:
            relay.write_tail()
        _close_quietly(target.process.stdin)
        self._wait(target.process, progress)
        states.join()
        for tail in (tap.stderr, target.stderr):
            tail.join(_STDERR_DRAIN_SECONDS)
        target.process.stdout.close()
        for line in progress.summary():
            self.console.line(line)
        return self._result(tap, target, relay, states)

    @property
    def _producers(self) -> list[_Child]:
        """The tap, then each mapper: each writes into the next one, the last into the relay."""
        assert self._tap is not None
        return [self._tap, *self._mappers]

    def _stop_producers_without_reader(self) -> None:
        """Stop a tap or mapper whose reader (the next mapper, or the target) has exited.

        A mapper gets MAPPER_EXIT_GRACE_SECONDS first: its reader may have exited because the
        mapper itself just ended its output, and its own exit code must then be kept, not
        replaced by our signal.
        """
        readers = [*self._mappers, self._target]
        for producer, reader in zip(self._producers, readers, strict=True):
            assert reader is not None
            if reader.process.poll() is None or producer.process.poll() is not None:
                continue
            if reader is self._target:
                self._target_left_early = True
            if producer is self._tap:
                self._stop_now(producer)
            elif not producer.kill_scheduled:
                producer.kill_scheduled = True
                due = time.monotonic() + MAPPER_EXIT_GRACE_SECONDS
                self._escalations += [
                    (due, producer, signal.SIGTERM),
                    (due + KILL_GRACE_SECONDS, producer, signal.SIGKILL),
                ]

    def _start(self, command: PluginCommand, argv: list[str], stdin: int | IO[bytes]) -> _Child:
        process = subprocess.Popen(
            argv,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            process_group=0,
            pass_fds=self._inherited_fds,
        )
        assert process.stderr is not None
        tail = StderrTail(
            process.stderr, f"[{command.name}]", self.console, forward=self.forward_stderr
        )
        tail.start()
        return _Child(command, process, tail)

    def _wait(self, process: subprocess.Popen[bytes], progress: ProgressReporter) -> None:
        while process.poll() is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(_TICK_SECONDS)
            self._tick(progress)

    def _tick(self, progress: ProgressReporter) -> None:
        """The periodic work of the main thread: stop requests, due signals, progress."""
        while self._stops_applied < self._stop_requests:
            self._stops_applied += 1
            self._apply_stop(first=self._stops_applied == 1)
        self._escalate()
        progress.maybe_report()

    def _stop_now(self, child: _Child) -> None:
        """Terminate a child whose work has become pointless, killing it if it lingers."""
        if not child.kill_scheduled:
            self._terminate(child)

    def _terminate(self, child: _Child) -> None:
        child.signal(signal.SIGTERM)
        child.kill_scheduled = True
        self._escalations.append((time.monotonic() + KILL_GRACE_SECONDS, child, signal.SIGKILL))

    def _apply_stop(self, first: bool) -> None:
        now = time.monotonic()
        tap, target = self._tap, self._target
        assert tap is not None and target is not None
        if first:
            self.console.line(
                "dativo pipe: stopping: the tap is asked to end and the target to commit what it "
                f"received (up to {self.stop_timeout:g} s; stop again to end both at once)"
            )
            tap.signal(signal.SIGTERM)
            self._escalations += [
                (now + self.stop_timeout, tap, signal.SIGKILL),
                *[(now + self.stop_timeout, mapper, signal.SIGTERM) for mapper in self._mappers],
                *[(now + self.stop_timeout + KILL_GRACE_SECONDS, m, signal.SIGKILL) for m in self._mappers],
                (now + self.stop_timeout, target, signal.SIGTERM),
                (now + self.stop_timeout + KILL_GRACE_SECONDS, target, signal.SIGKILL),
            ]
        else:
            self.console.line("dativo pipe: stopping both processes now")
            for child in (*self._producers, target):
                self._terminate(child)

    def _escalate(self) -> None:
        now = time.monotonic()
        due = [item for item in self._escalations if item[0] <= now]
        self._escalations = [item for item in self._escalations if item[0] > now]
        for _, child, signum in due:
            child.signal(signum)

    def _result(
        self, tap: _Child, target: _Child, relay: Relay, states: TargetStateReader
    ) -> PipeResult:
        outcome, text = self._outcome(tap, target, relay, states)
        return PipeResult(
            outcome, text, self.counter.snapshot(), states.last_state, self._stop_signal
        )

    def _outcome(
        self, tap: _Child, target: _Child, relay: Relay, states: TargetStateReader
    ) -> tuple[Outcome, str]:
        saved = self._describe_saved_state(states)
        tap_code, target_code = tap.process.returncode, target.process.returncode
        if self._stop_signal is not None:
            text = f"interrupted by {_signal_name(self._stop_signal)}; {saved}"
            if target_code != 0:
                text += "\n" + target.describe_failure()
            return Outcome.INTERRUPTED, text
        if target_code != 0 or relay.sink_broken or self._target_left_early:
            text = (
                target.describe_failure()
                if target_code != 0
                else f"the target '{self.target.name}' exited before reading all of the tap's output"
            )
            if tap_code != 0 and not tap.stopped_by_us:
                text += "\nThe tap failed too: " + tap.describe_failure()
            return Outcome.TARGET_FAILED, f"{text}\n{saved}"
        failed_mapper = next(
            (m for m in self._mappers if m.process.returncode != 0 and not m.stopped_by_us), None
        )
        if failed_mapper is not None:
            text = (
                f"{failed_mapper.describe_failure()}\nThe target committed every complete message "
                f"the mapper wrote before it failed; {saved}"
            )
            return Outcome.MAPPER_FAILED, text
        if tap_code != 0:
            text = (
                f"{tap.describe_failure()}\nThe target committed every complete message the "
                f"tap wrote before it failed; {saved}"
            )
            return Outcome.TAP_FAILED, text
        if states.save_error is not None:
            return Outcome.STATE_FAILED, str(states.save_error)
        return Outcome.OK, saved

    def _describe_saved_state(self, states: TargetStateReader) -> str:
        if isinstance(self.state, NoState):
            return "no state store was given, so the target's states were not kept"
        if states.save_error is not None:
            return f"the last state could NOT be saved: {states.save_error}"
        if states.last_state is None:
            return f"the target emitted no state, so the stored state ({self.state}) is unchanged"
        return f"the last state the target emitted is saved ({self.state})"


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _close_quietly(stream: Any) -> None:
    """Close our end of a child's stdin; a child that already exited makes that raise EPIPE."""
    with contextlib.suppress(BrokenPipeError):
        stream.close()


def _write_private(directory: Path, state: dict[str, Any]) -> str:
    """The state for the tap's `--state`, readable by this user only."""
    path = directory / "state.json"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(orjson.dumps(state))
    return str(path)
