"""Start-up: heavy imports without the garbage collector (then frozen), and freed memory kept for reuse."""

from __future__ import annotations

import gc
import platform
import subprocess
import sys

import pytest

from dativo_core.startup import imports_without_gc


def test_the_collector_is_off_inside_and_on_again_with_the_imports_frozen():
    assert gc.isenabled()
    try:
        with imports_without_gc():
            assert not gc.isenabled()
            built = [[i] for i in range(1000)]
        assert gc.isenabled()
        assert gc.get_freeze_count() >= len(built)
    finally:
        gc.unfreeze()


FREE_A_BLOCK = """
import sys
from dativo_core.startup import keep_freed_memory
if sys.argv[1] == "keep":
    keep_freed_memory()
def resident():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096
block = b"x" * (16 << 20)
held = resident()
del block
print(held - resident())
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's; elsewhere the call does nothing")
def test_freed_blocks_stay_with_the_process_for_reuse():
    def released(mode: str) -> int:
        run = subprocess.run([sys.executable, "-c", FREE_A_BLOCK, mode], capture_output=True, check=True, text=True)
        return int(run.stdout)

    assert released("default") >= 15 << 20  # glibc unmaps a 16 MiB block as it is freed
    assert released("keep") < 1 << 20  # kept: the next block of that size reuses its pages
