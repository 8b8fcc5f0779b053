"""Casting columns to contract types, and finding exactly which rows cannot be cast.

Arrow casts a whole array or fails; to name bad rows without a per-row Python loop, a failed
cast is retried on halves of the array (bisection) down to short slices, which are cast row by
row. A clean batch costs one cast, a batch with k bad rows about k * log2(n / 32) casts plus 32
per bad slice, and no batch more than about one cast per row.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

_OFFSET_SUFFIX = r"([Zz]|[+-]\d{2}:?\d{2})$"
# Halving stops here: a failing slice this short is cast row by row.
ROW_BY_ROW_BELOW = 32


def _strings_to_timestamp(values: pa.Array, target: pa.TimestampType) -> pa.Array:
    """ISO 8601 text to a timestamp; text without an offset is read as UTC (ODCS's default)."""
    try:
        return pc.cast(values, target)  # every value has an offset (or target is naive)
    except pa.ArrowInvalid:
        if target.tz is None:
            raise
    has_offset = pc.fill_null(pc.match_substring_regex(values, _OFFSET_SUFFIX), False)
    null_text = pa.scalar(None, pa.string())
    with_offset = pc.cast(pc.if_else(has_offset, values, null_text), target)
    naive = pc.cast(pc.if_else(has_offset, null_text, values), pa.timestamp(target.unit))
    as_utc = pc.cast(pc.assume_timezone(naive, "UTC"), target)
    return pc.coalesce(with_offset, as_utc)


def _strings_to_time(values: pa.Array, target: pa.DataType) -> pa.Array:
    """Arrow casts no text to time-of-day; read it as a time on 1970-01-01 instead."""
    stamped = pc.binary_join_element_wise("1970-01-01T", values, "")
    return pc.cast(pc.cast(stamped, pa.timestamp("us")), target)


def cast_array(values: pa.Array, target: pa.DataType) -> pa.Array:
    """Cast one array to the contract type, or raise an Arrow error."""
    if values.type == target:
        return values
    if pa.types.is_null(values.type):
        return pa.nulls(len(values), target)
    is_text = pa.types.is_string(values.type) or pa.types.is_large_string(values.type)
    if is_text and pa.types.is_timestamp(target):
        return _strings_to_timestamp(values, target)
    if is_text and pa.types.is_time(target):
        return _strings_to_time(values, target)
    if pa.types.is_struct(target) and pa.types.is_struct(values.type):
        # Child by child, with the parent's nulls pushed down: a null struct's child slots hold
        # placeholder values that a direct struct cast would try (and fail) to parse.
        present = {values.type.field(i).name: i for i in range(values.type.num_fields)}
        children = values.flatten()
        cast_children = [
            cast_array(children[present[f.name]], f.type)
            if f.name in present
            else pa.nulls(len(values), f.type)
            for f in target
        ]
        return pa.StructArray.from_arrays(cast_children, fields=list(target), mask=values.is_null())
    if pa.types.is_list(target) and pa.types.is_list(values.type):
        offsets = pc.subtract(values.offsets, values.offsets[0])
        items = cast_array(values.flatten(), target.value_type)
        return pa.ListArray.from_arrays(offsets, items, type=target, mask=values.is_null())
    return pc.cast(values, target, safe=True)


def cast_locating_failures(values: pa.Array, target: pa.DataType) -> tuple[pa.Array, list[int]]:
    """The cast array (null where a row failed) and the indices of the rows that failed."""
    try:
        return cast_array(values, target), []
    except (pa.ArrowNotImplementedError, pa.ArrowTypeError):
        # No value of this type can become the target type: every present value fails.
        return pa.nulls(len(values), target), pc.indices_nonzero(values.is_valid()).to_pylist()
    except pa.ArrowInvalid:
        pass
    if len(values) <= ROW_BY_ROW_BELOW:
        return _cast_row_by_row(values, target)
    middle = len(values) // 2
    left, left_bad = cast_locating_failures(values.slice(0, middle), target)
    right, right_bad = cast_locating_failures(values.slice(middle), target)
    joined = pa.concat_arrays([left, right])
    return joined, left_bad + [middle + i for i in right_bad]


def _cast_row_by_row(values: pa.Array, target: pa.DataType) -> tuple[pa.Array, list[int]]:
    """Below a few dozen rows, one cast per row beats halving further when many rows are bad."""
    parts, bad = [], []
    for index in range(len(values)):
        try:
            parts.append(cast_array(values.slice(index, 1), target))
        except pa.ArrowInvalid:
            parts.append(pa.nulls(1, target))
            bad.append(index)
    return pa.concat_arrays(parts), bad
