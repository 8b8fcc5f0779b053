"""Vectorized casts of JSON strings to Arrow date, time and timestamp columns.

JSON has no temporal types, so RECORD lines are read with such fields as strings and cast
here in one call per column. Taps write timestamps in several ISO 8601 shapes; a value
without a zone offset is taken as UTC, and a bare date as its midnight.
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc

_NO_OFFSET = r"^(.*[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?)$"
_DATE_ONLY = r"^(\d{4}-\d\d-\d\d)$"


def is_temporal(arrow_type: pa.DataType) -> bool:
    return (
        pa.types.is_timestamp(arrow_type)
        or pa.types.is_date(arrow_type)
        or pa.types.is_time(arrow_type)
    )


def contains_temporal(arrow_type: pa.DataType) -> bool:
    if is_temporal(arrow_type):
        return True
    if pa.types.is_struct(arrow_type):
        return any(contains_temporal(f.type) for f in arrow_type)
    if pa.types.is_list(arrow_type):
        return contains_temporal(arrow_type.value_type)
    return False


def wire_type(arrow_type: pa.DataType) -> pa.DataType:
    """The type a column has in JSON: temporal types become strings, at any depth."""
    if is_temporal(arrow_type):
        return pa.string()
    if pa.types.is_struct(arrow_type):
        return pa.struct([f.with_type(wire_type(f.type)) for f in arrow_type])
    if pa.types.is_list(arrow_type):
        return pa.list_(arrow_type.value_field.with_type(wire_type(arrow_type.value_type)))
    return arrow_type


def _timestamp(strings: pa.Array, target: pa.DataType) -> pa.Array:
    try:
        return pc.cast(strings, target)
    except pa.ArrowInvalid:
        midnight = pc.replace_substring_regex(strings, _DATE_ONLY, r"\1T00:00:00")
        with_offset = pc.replace_substring_regex(midnight, _NO_OFFSET, r"\1Z")
        return pc.cast(with_offset, target)


def _date(strings: pa.Array, target: pa.DataType) -> pa.Array:
    try:
        return pc.cast(strings, target)
    except pa.ArrowInvalid:
        # A date-time where a date is expected: keep its calendar day.
        return pc.cast(pc.utf8_slice_codeunits(strings, 0, 10), target)


def _time(strings: pa.Array, target: pa.DataType) -> pa.Array:
    on_epoch_day = pc.binary_join_element_wise(pa.scalar("1970-01-01T"), strings, "")
    return pc.cast(pc.cast(on_epoch_day, pa.timestamp("us")), target)


def cast_from_json(array: pa.Array, target: pa.DataType) -> pa.Array:
    """Cast a column read from JSON to its table type; raises pa.ArrowInvalid on a bad value."""
    if array.type == target:
        return array
    if pa.types.is_timestamp(target):
        return _timestamp(array, target)
    if pa.types.is_date(target):
        return _date(array, target)
    if pa.types.is_time(target):
        return _time(array, target)
    if pa.types.is_struct(target):
        children = [array.field(i) for i in range(len(target))]
        if array.null_count:  # what lies under a null struct is filler, not data to cast
            valid = array.is_valid()
            children = [pc.if_else(valid, c, pa.scalar(None, c.type)) for c in children]
        children = [cast_from_json(c, f.type) for c, f in zip(children, target)]
        return pa.StructArray.from_arrays(children, fields=list(target), mask=array.is_null())
    if pa.types.is_list(target):
        values = cast_from_json(array.values, target.value_type)
        return pa.ListArray.from_arrays(
            array.offsets, values, type=target, mask=array.is_null() if array.null_count else None
        )
    return pc.cast(array, target)


def first_failing_row(array: pa.Array, convert: Callable[[pa.Array], object]) -> int:
    """The index of the first value `convert` rejects, found by bisection over slices."""
    low, high = 0, len(array)
    while high - low > 1:
        middle = (low + high) // 2
        try:
            convert(array.slice(low, middle - low))
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            high = middle
        else:
            low = middle
    return low
