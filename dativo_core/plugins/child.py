"""The sandboxed side: apply limits, keep stdout for frames only, run jobs, report errors.

Started by `sandbox.Sandbox` as `python -m dativo_core.plugins.child`, before the tap knows
which reader: imports what every job needs, then waits for the START frame on stdin, takes the
declared secrets into its environment, imports the reader at once (while the tap checks the
config), then runs one JOB frame after another until stdin ends.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import signal
import sys
import traceback
from typing import Any, BinaryIO

import orjson

from dativo_core.plugins import frames
from dativo_core.plugins.execution import ReaderJob, run_job, stream_to_dict
from dativo_core.plugins.loading import load_reader_class
from dativo_core.sdk import ReaderError, Stream
from dativo_core.startup import keep_freed_memory

PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>
OUTPUT_BUFFER_BYTES = 1 << 20


class OutputClosed(Exception):
    """Whoever reads the tap's output (a target) closed it."""


class FrameSink:
    """Sink that writes frames to the tap, and RECORD lines to the tap's output when it gave
    one. Stream starts and bookmarks wait for the tap's ACK: the tap writes SCHEMA or STATE
    to the same output, so nothing of the child's may be written meanwhile."""

    def __init__(self, fp: BinaryIO, acks: BinaryIO, output: BinaryIO | None) -> None:
        self._fp = fp
        self._acks = acks
        self._output = output

    def _wait_for_ack(self) -> None:
        self._fp.flush()
        frame = frames.read_frame(self._acks)
        if frame is None or frame[0] != frames.ACK:
            raise frames.TruncatedFrame(f"expected an ACK from the tap, got {frame!r}")

    def discovered(self, streams: list[Stream]) -> None:
        frames.write_frame(
            self._fp, frames.CATALOG, orjson.dumps([stream_to_dict(s) for s in streams])
        )

    def start_stream(self, stream: str) -> None:
        frames.write_frame(self._fp, frames.STREAM, orjson.dumps({"stream": stream}))
        self._wait_for_ack()

    def records(self, data: bytes | memoryview, count: int) -> None:
        if self._output is None:
            frames.write_frame(self._fp, frames.RECORDS, data, count)
            return
        # The tap counts time spent writing (a slow target) as activity, not idleness.
        frames.write_frame(self._fp, frames.WRITING, count=count)
        self._fp.flush()
        try:
            self._output.write(data)
            self._output.flush()
        except BrokenPipeError as exc:
            raise OutputClosed(str(exc)) from exc
        frames.write_frame(self._fp, frames.WRITTEN)
        self._fp.flush()

    def bookmark(self, stream: str, value: dict[str, Any]) -> None:
        frames.write_frame(
            self._fp, frames.BOOKMARK, orjson.dumps({"stream": stream, "value": value})
        )
        self._wait_for_ack()


def _apply_limits(limits: dict[str, int]) -> None:
    memory = limits["memory_mb"] * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = limits["cpu_seconds"]
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    files = limits["open_files"]
    resource.setrlimit(resource.RLIMIT_NOFILE, (files, files))


def _die_with_parent(parent_pid: int) -> None:
    """On Linux, have the kernel kill this process when the tap dies (even by SIGKILL), so a
    runaway reader never outlives it."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:  # the tap died before prctl took effect
        os._exit(1)


def _frames_out() -> BinaryIO:
    """Move the frame pipe off fd 1 and point fd 1 at stderr, so a reader's print() goes
    to the log instead of corrupting frames."""
    pipe_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
    return os.fdopen(pipe_fd, "wb", buffering=OUTPUT_BUFFER_BYTES)


def _run(job: ReaderJob, sink: FrameSink, memory_mb: int) -> dict[str, Any] | None:
    """Run one job; the error to report, if it failed."""
    try:
        run_job(job, sink)
    except OutputClosed as exc:
        return {"kind": "output_closed", "message": str(exc)}
    except MemoryError:
        return {
            "kind": "memory",
            "message": f"it ran out of memory: its address-space limit is "
            f"{memory_mb} MB (raise it with --memory-mb)",
        }
    except ReaderError as exc:
        return {"kind": "reader", "message": str(exc)}
    except Exception as exc:  # noqa: BLE001  # whatever the reader raised, the tap reports it
        return {
            "kind": "exception",
            "message": f"{type(exc).__name__}: {exc}",
            "detail": traceback.format_exc(),
        }
    return None


def main() -> int:
    requests = sys.stdin.buffer
    start = frames.read_frame(requests)
    if start is None:
        return 0  # the tap stopped before naming a reader (it could not resolve it)
    if start[0] != frames.START:
        print("dativo_core.plugins.child is started by the reader sandbox only", file=sys.stderr)
        return 2
    request = orjson.loads(start[1])
    _die_with_parent(request["parent_pid"])
    # Readers allocate and free megabyte blocks (RECORD lines, batches) all along: reused, not
    # handed back to the kernel and zeroed again on the next allocation.
    keep_freed_memory()
    out = _frames_out()
    output_fd = request["output_fd"]
    output = None if output_fd is None else os.fdopen(output_fd, "wb", OUTPUT_BUFFER_BYTES)
    sys.path[:0] = [p for p in request["sys_path"] if p not in sys.path]
    os.environ.update(request["secrets"])
    _apply_limits(request["limits"])
    # Import the reader now, while the tap validates the config; an import error is reported
    # by the first job, which imports it again.
    with contextlib.suppress(Exception):
        load_reader_class(request["reader"])
    sink = FrameSink(out, requests, output)
    failed = False
    while (frame := frames.read_frame(requests)) is not None:
        job = ReaderJob.from_dict(orjson.loads(frame[1]))
        error = _run(job, sink, request["limits"]["memory_mb"])
        if error is None:
            frames.write_frame(out, frames.DONE)
        else:
            frames.write_frame(out, frames.ERROR, orjson.dumps(error))
            failed = True
        out.flush()
    if output is not None:
        output.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Everything is written and flushed: skip the interpreter's teardown (pyarrow and the
    # like take a while to unload), so the tap is not kept waiting for it.
    os._exit(code)
