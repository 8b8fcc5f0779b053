"""How CSV text becomes each value kind (kinds.py), with pyarrow.

Inference and sync share these conversions, so a column inferred as a kind is read back with
exactly the rules that inferred it.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from dativo_core.schema.arrow import TIMESTAMP_TYPE
from dativo_tap_csv.kinds import Kind

TRUE_VALUES = ["true", "True", "TRUE"]
FALSE_VALUES = ["false", "False", "FALSE"]
# A zone offset after a time of day (a date's own "-01" is not one).
_ZONE_SUFFIX = r"[T ]\d\d(:\d\d)*(\.\d+)?([Zz]|[+-]\d\d(:?\d\d)?)$"
# Integers of 16 digits or more may not survive as a float64 exactly.
_LONG_INTEGER = r"^[+-]?\d{16,}$"
_SAMPLE_SIZE = 64
_CONVERSION_ERRORS = (pa.ArrowInvalid, pa.ArrowNotImplementedError)


# The order in which a column's text is tried; the first kind that fits wins.
_CANDIDATES = (Kind.INTEGER, Kind.BOOLEAN, Kind.DATE, Kind.DATE_TIME, Kind.NUMBER)

# How the CSV reader itself parses each kind; date-time is converted by `convert` instead,
# because one column may mix values with and without a zone offset.
READ_TYPES: dict[Kind, pa.DataType] = {
    Kind.NULL: pa.string(),
    Kind.INTEGER: pa.int64(),
    Kind.BOOLEAN: pa.bool_(),
    Kind.DATE: pa.date32(),
    Kind.DATE_TIME: pa.string(),
    Kind.NUMBER: pa.float64(),
    Kind.STRING: pa.string(),
}


def _to_datetime(text: pa.Array) -> pa.Array:
    """ISO-8601 text to UTC timestamps; text without a zone offset is taken as UTC."""
    try:
        return pc.cast(text, TIMESTAMP_TYPE)
    except _CONVERSION_ERRORS:
        pass
    try:
        return pc.cast(pc.cast(text, pa.timestamp("us")), TIMESTAMP_TYPE)
    except _CONVERSION_ERRORS:
        pass
    zoned = pc.match_substring_regex(text, _ZONE_SUFFIX)
    with_zone = pc.cast(pc.if_else(zoned, text, None), TIMESTAMP_TYPE)
    naive = pc.cast(pc.cast(pc.if_else(zoned, None, text), pa.timestamp("us")), TIMESTAMP_TYPE)
    return pc.if_else(zoned, with_zone, naive)


def _to_boolean(text: pa.Array) -> pa.Array:
    known = pc.is_in(text, value_set=pa.array(TRUE_VALUES + FALSE_VALUES))
    if not pc.all(pc.or_kleene(known, pc.is_null(text))).as_py():
        raise pa.ArrowInvalid("not a boolean")
    return pc.is_in(text, value_set=pa.array(TRUE_VALUES), skip_nulls=True)


def convert(text: pa.Array, kind: Kind) -> pa.Array:
    """Text (nulls for empty fields) as `kind`; raises pyarrow.ArrowInvalid if a value doesn't fit."""
    if kind in (Kind.STRING, Kind.NULL):
        return text
    if kind == Kind.DATE_TIME:
        return _to_datetime(text)
    if kind == Kind.BOOLEAN:
        out = _to_boolean(text)
        return pc.if_else(pc.is_null(text), pa.scalar(None, pa.bool_()), out)
    if kind == Kind.NUMBER and pc.any(pc.match_substring_regex(text, _LONG_INTEGER)).as_py():
        raise pa.ArrowInvalid("an integer too long for int64 would lose digits as a number")
    return pc.cast(text, READ_TYPES[kind])


def converted(text: pa.Array, kind: Kind) -> pa.Array | None:
    """`text` as `kind`, or None if a value does not fit."""
    try:
        return convert(text, kind)
    except _CONVERSION_ERRORS:
        return None


def fits(text: pa.Array, kind: Kind) -> bool:
    return converted(text, kind) is not None


def arrow_type(kind: Kind) -> pa.DataType:
    """The type of a column of this kind once read and converted."""
    return TIMESTAMP_TYPE if kind == Kind.DATE_TIME else READ_TYPES[kind]


def kind_of(text: pa.Array) -> Kind:
    """The narrowest kind that every non-empty value of `text` fits."""
    values = pc.drop_null(text)
    if len(values) == 0:
        return Kind.NULL
    # A failed conversion costs as much as a full one, so most kinds are ruled out on a sample.
    sample = values.slice(0, _SAMPLE_SIZE)
    for kind in _CANDIDATES:
        if fits(sample, kind) and fits(values, kind):
            return kind
    return Kind.STRING


def first_misfit(text: pa.Array, kind: Kind) -> int | None:
    """Index of the first value that does not fit `kind` (used only to report an error)."""
    if fits(text, kind):
        return None
    for index in range(len(text)):
        if not fits(text.slice(index, 1), kind):
            return index
    return None
