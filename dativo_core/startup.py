"""Start-up of the plugin commands: their heavy imports without the garbage collector, and
malloc settings for their short-lived blocks of megabytes."""

from __future__ import annotations

import ctypes
import gc
from collections.abc import Iterator
from contextlib import contextmanager

_M_TRIM_THRESHOLD = -1  # glibc's mallopt parameters
_M_MMAP_THRESHOLD = -3


@contextmanager
def imports_without_gc() -> Iterator[None]:
    """Import singer-sdk or pyiceberg inside this block.

    Such an import builds ~10^5 objects that live as long as the process: collecting while
    they are built is wasted work, and once frozen they stay out of every later collection,
    which then traverses only what the run itself creates. (The collector took ~11% of
    target-iceberg's CPU on 1M rows, ~5% of tap-csv's.)
    """
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def keep_freed_memory() -> None:
    """Let glibc's malloc reuse freed blocks instead of returning them to the kernel.

    Input blocks, decoded columns and encoded RECORD lines are short-lived megabytes; by
    default glibc unmaps or trims such memory when freed, and the kernel zeroes fresh pages on
    the next allocation. Kept, it is reused: on 1M rows target-iceberg takes 40% fewer page
    faults and ~8% less CPU, tap-csv ~12% fewer faults, for ~16 MB more peak RSS. Elsewhere
    than glibc (no mallopt) nothing changes.
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError):
        return
    mallopt(_M_MMAP_THRESHOLD, 32 << 20)
    mallopt(_M_TRIM_THRESHOLD, 256 << 20)
