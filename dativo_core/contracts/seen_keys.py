"""The keys a run has accepted so far, for `unique` and `primaryKey` checks across batches.

`pyarrow.compute.is_in` builds a hash set of its value set on every call, so looking a batch up
in everything seen before costs the whole run so far, and a run costs the square of its size.
Here seen keys are kept as a few sorted runs looked up with binary searches (polars
`search_sorted`, vectorized); a new run is merged into the one before it while that one is at most
twice its size, as in a log-structured merge tree: O(log n) runs, each key merged O(log n) times.

Integer keys are their own sort codes. Other keys (text, dates, composite keys joined as text)
are coded by a 64-bit hash, and a hash match is confirmed by comparing the keys themselves, so
two keys whose hashes collide are never taken for one.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc


def _exact_codes(keys: pa.Array) -> bool:
    """Whether the keys can be their own codes: integers that fit int64."""
    return pa.types.is_integer(keys.type) and not pa.types.is_uint64(keys.type)


def _codes(keys: pa.Array) -> pl.Series:
    if _exact_codes(keys):
        return pl.from_arrow(pc.fill_null(pc.cast(keys, pa.int64()), 0))
    if pa.types.is_large_string(keys.type):
        keys = pc.cast(keys, pa.string())
    return pl.from_arrow(keys).hash(seed=0)


@dataclass
class _Run:
    codes: pl.Series  # sorted
    keys: pa.Array | None  # in the order of `codes`; None when codes are the keys

    def __len__(self) -> int:
        return len(self.codes)

    def merged(self, newer: _Run) -> _Run:
        codes = pl.concat([self.codes, newer.codes])
        order = codes.arg_sort()
        keys = None
        if self.keys is not None and newer.keys is not None:
            both = pa.concat_arrays([self.keys, newer.keys.cast(self.keys.type)])
            keys = both.take(order.to_arrow())
        return _Run(codes.gather(order), keys)

    def holds(self, codes: pl.Series, keys: pa.Array) -> pl.Series:
        """Per key, whether this run holds it."""
        size = len(self.codes)
        positions = self.codes.search_sorted(codes, side="left").cast(pl.Int64)
        if self.keys is None:
            inside = positions < size
            at = self.codes.gather(positions.clip(upper_bound=size - 1))
            return inside & (at == codes)
        found = pl.repeat(False, len(codes), eager=True)
        # Walk each key's run of equal hashes (almost always one entry), comparing the keys.
        rows = pl.arange(0, len(codes), eager=True).cast(pl.Int64)
        while len(rows):
            inside = positions < size
            rows, positions = rows.filter(inside), positions.filter(inside)
            same_hash = self.codes.gather(positions) == codes.gather(rows)
            rows, positions = rows.filter(same_hash), positions.filter(same_hash)
            if not len(rows):
                break
            same = pc.fill_null(
                pc.equal(
                    keys.take(rows.to_arrow()).cast(self.keys.type),
                    self.keys.take(positions.to_arrow()),
                ), False
            )
            same_series = pl.from_arrow(same)
            found = found.scatter(rows.filter(same_series), True)
            rows, positions = rows.filter(~same_series), positions.filter(~same_series) + 1
        return found


class SeenKeys:
    """Keys accepted so far in a run; lookups and additions cost about log(n) per key."""

    def __init__(self) -> None:
        self._runs: list[_Run] = []

    def __len__(self) -> int:
        return sum(len(run) for run in self._runs)

    def add(self, keys: pa.Array) -> None:
        """Remember new keys: non-null, distinct, and none of them seen before."""
        keys = keys.drop_null()
        if not len(keys):
            return
        codes = _codes(keys)
        order = codes.arg_sort()
        kept = None if _exact_codes(keys) else keys.take(order.to_arrow())
        self._runs.append(_Run(codes.gather(order), kept))
        while len(self._runs) > 1 and len(self._runs[-2]) <= 2 * len(self._runs[-1]):
            newer = self._runs.pop()
            self._runs.append(self._runs.pop().merged(newer))

    def contains(self, keys: pa.Array) -> pa.Array:
        """A boolean mask: true where the key was seen; false for nulls."""
        if not self._runs or not len(keys):
            return pc.fill_null(pa.nulls(len(keys), pa.bool_()), False)
        codes = _codes(keys)
        found = pl.repeat(False, len(keys), eager=True)
        for run in self._runs:
            found = found | run.holds(codes, keys)
        return pc.and_(found.to_arrow(), keys.is_valid())
