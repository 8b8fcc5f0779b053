"""Run a shell-style pipeline of commands and measure its wall time, the CPU time of all its
processes (steadier than wall time on a shared machine), and each process's peak RSS."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Measurement:
    seconds: float
    peak_rss_mb: list[float]
    cpu_seconds: float

    @property
    def max_rss_mb(self) -> float:
        return max(self.peak_rss_mb)


def _as_installed(environ: os._Environ[str]) -> dict[str, str]:
    """The environment without PYTHONDONTWRITEBYTECODE, which some shells set: an installed
    package has its modules' bytecode, and without it every run compiles them (~60 ms each)."""
    return {name: value for name, value in environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def run_pipeline(
    commands: list[list[str]],
    stdin_path: Path | None = None,
    stdout_path: Path | None = None,
    env: dict[str, str] | None = None,
) -> Measurement:
    """Like `a | b | c < in > out`; raises with the failing command's stderr tail."""
    started = time.perf_counter()
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    stdout = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
    procs: list[subprocess.Popen] = []
    logs = [tempfile.TemporaryFile() for _ in commands]
    try:
        upstream = stdin
        for index, command in enumerate(commands):
            last = index == len(commands) - 1
            proc = subprocess.Popen(
                command,
                stdin=upstream,
                stdout=stdout if last else subprocess.PIPE,
                stderr=logs[index],
                env={**_as_installed(os.environ), **(env or {})},
            )
            if index > 0 and procs[-1].stdout is not None:
                procs[-1].stdout.close()  # so the upstream sees a broken pipe if we die
            procs.append(proc)
            upstream = proc.stdout
        rss: list[float] = []
        cpu = 0.0
        for proc, command, log in zip(procs, commands, logs):
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            if proc.returncode != 0:
                log.seek(0)
                tail = log.read().decode(errors="replace")[-2000:]
                raise RuntimeError(f"{' '.join(command)} exited {proc.returncode}:\n{tail}")
            rss.append(usage.ru_maxrss / 1024)
            cpu += usage.ru_utime + usage.ru_stime
        return Measurement(time.perf_counter() - started, rss, cpu)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
        for handle in (stdin, stdout, *logs):
            if hasattr(handle, "close"):
                handle.close()
