"""SeenKeys answers exactly what a set of every added key would, for integer and hashed keys."""

from __future__ import annotations

import random
from datetime import date

import pyarrow as pa
import pytest

from dativo_core.contracts.seen_keys import SeenKeys


@pytest.mark.parametrize(
    "make",
    [
        lambda i: i * 7 - 50,
        lambda i: f"key-{i}",
        lambda i: date.fromordinal(700_000 + i),
    ],
    ids=["int64", "text", "date"],
)
def test_lookups_match_a_python_set_over_many_merged_runs(make):
    rng = random.Random(6)
    seen, reference = SeenKeys(), set()
    universe = list(range(5_000))
    for _ in range(40):
        batch = [make(i) for i in rng.sample(universe, 300)] + [None]
        mask = seen.contains(pa.array(batch)).to_pylist()
        assert mask == [value is not None and value in reference for value in batch]
        fresh = [value for value in dict.fromkeys(batch) if value is not None and value not in reference]
        seen.add(pa.array(fresh))
        reference.update(fresh)
    assert len(seen) == len(reference)


def test_empty_and_all_null_batches():
    seen = SeenKeys()
    assert seen.contains(pa.array([], pa.string())).to_pylist() == []
    seen.add(pa.array([None, None], pa.string()))
    assert len(seen) == 0
    seen.add(pa.array(["a"], pa.large_string()))
    assert seen.contains(pa.array(["a", None, "b"])).to_pylist() == [True, False, False]


def test_unsigned_64_bit_keys_beyond_int64_are_hashed_and_compared():
    seen = SeenKeys()
    seen.add(pa.array([2**64 - 1, 5], pa.uint64()))
    assert seen.contains(pa.array([2**64 - 1, 2**63, 5], pa.uint64())).to_pylist() == [True, False, True]
