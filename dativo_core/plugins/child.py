"""The sandboxed side: apply limits, keep stdout for frames only, run the job, report errors.

Started by `sandbox.run_sandboxed` as `python -m dativo_core.plugins.child`; reads one JSON
request on stdin.
"""

from __future__ import annotations

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
from dativo_core.sdk import ReaderError, Stream

PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>


class FrameSink:
    """Sink that writes frames to the parent; bookmarks are flushed at once."""

    def __init__(self, fp: BinaryIO) -> None:
        self._fp = fp

    def discovered(self, streams: list[Stream]) -> None:
        frames.write_frame(
            self._fp, frames.CATALOG, orjson.dumps([stream_to_dict(s) for s in streams])
        )

    def start_stream(self, stream: str) -> None:
        frames.write_frame(self._fp, frames.STREAM, orjson.dumps({"stream": stream}))

    def records(self, data: bytes, count: int) -> None:
        frames.write_frame(self._fp, frames.RECORDS, data, count)

    def bookmark(self, stream: str, value: dict[str, Any]) -> None:
        frames.write_frame(
            self._fp, frames.BOOKMARK, orjson.dumps({"stream": stream, "value": value})
        )
        self._fp.flush()


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
    return os.fdopen(pipe_fd, "wb", buffering=1024 * 1024)


def main() -> int:
    request = orjson.loads(sys.stdin.buffer.read())
    _die_with_parent(request["parent_pid"])
    out = _frames_out()
    sys.path[:0] = [p for p in request["sys_path"] if p not in sys.path]
    _apply_limits(request["limits"])
    try:
        run_job(ReaderJob.from_dict(request["job"]), FrameSink(out))
    except MemoryError:
        error = {
            "kind": "memory",
            "message": f"it ran out of memory: its address-space limit is "
            f"{request['limits']['memory_mb']} MB (raise it with --memory-mb)",
        }
    except ReaderError as exc:
        error = {"kind": "reader", "message": str(exc)}
    except Exception as exc:  # noqa: BLE001  # whatever the reader raised, the tap reports it
        error = {
            "kind": "exception",
            "message": f"{type(exc).__name__}: {exc}",
            "detail": traceback.format_exc(),
        }
    else:
        frames.write_frame(out, frames.DONE)
        out.flush()
        return 0
    frames.write_frame(out, frames.ERROR, orjson.dumps(error))
    out.flush()
    return 1


if __name__ == "__main__":
    sys.exit(main())
