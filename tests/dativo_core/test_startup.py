"""Heavy imports run without the garbage collector, and what they built is frozen afterwards."""

from __future__ import annotations

import gc

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
