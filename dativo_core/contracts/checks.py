"""The contract's rules as vectorized checks over typed Arrow columns.

Every check turns a column into a boolean mask of offending rows with pyarrow.compute; Python
only touches the offending rows, to word their messages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from dativo_core.contracts.casting import cast_array
from dativo_core.contracts.compile import INT_FORMAT_RANGES
from dativo_core.contracts.model import ContractField, QualityRule

# RE2 expressions (Arrow's regex engine) for the string formats ODCS names.
_OCTET = r"(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = rf"({_OCTET}\.){{3}}{_OCTET}"
_HEX = r"[0-9A-Fa-f]{1,4}"
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
STRING_FORMAT_PATTERNS = {
    "email": r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
    "uuid": r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
    "uri": r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]+$",
    "hostname": rf"^{_LABEL}(\.{_LABEL})*$",
    "ipv4": rf"^{_IPV4}$",
    "ipv6": (
        rf"^(({_HEX}:){{7}}{_HEX}"
        rf"|({_HEX}:){{1,7}}:"
        rf"|({_HEX}:){{1,6}}:{_HEX}"
        rf"|({_HEX}:){{1,5}}(:{_HEX}){{1,2}}"
        rf"|({_HEX}:){{1,4}}(:{_HEX}){{1,3}}"
        rf"|({_HEX}:){{1,3}}(:{_HEX}){{1,4}}"
        rf"|({_HEX}:){{1,2}}(:{_HEX}){{1,5}}"
        rf"|{_HEX}:(:{_HEX}){{1,6}}"
        rf"|:((:{_HEX}){{1,7}}|:)"
        rf"|({_HEX}:){{6}}{_IPV4}"
        rf"|::([Ff]{{4}}:)?{_IPV4})$"
    ),
    "byte": r"^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$",
}
HOSTNAME_MAX_LENGTH = 253
# option -> (test that flags an offending value against the limit, how to say it)
_VALUE_LIMITS: dict[str, tuple[Callable[..., Any], str]] = {
    "minimum": (pc.less, "is below the minimum {}"),
    "maximum": (pc.greater, "is above the maximum {}"),
    "exclusiveMinimum": (pc.less_equal, "is not above the exclusive minimum {}"),
    "exclusiveMaximum": (pc.greater_equal, "is not below the exclusive maximum {}"),
}
_LENGTH_LIMITS: dict[str, tuple[Callable[..., Any], str]] = {
    "minLength": (pc.less, "is shorter than {} characters"),
    "maxLength": (pc.greater, "is longer than {} characters"),
}
_ITEM_LIMITS: dict[str, tuple[Callable[..., Any], str]] = {
    "minItems": (pc.less, "has fewer than {} items"),
    "maxItems": (pc.greater, "has more than {} items"),
}


@dataclass
class Finding:
    """Rows of one batch that broke one rule; `rows` is empty for a batch-level finding."""

    rule: str
    field: str | None
    rows: list[int]
    messages: list[str]


def arange(n: int) -> pa.Array:
    return pc.subtract(pc.cumulative_sum(pc.fill_null(pa.nulls(n, pa.int64()), 1)), 1)


def _offenders(
    rule: str, path: str, mask: pa.Array, values: pa.Array, word: Callable[[Any], str]
) -> Finding | None:
    """A finding for the rows where `mask` is true, each message worded from its value."""
    rows = pc.indices_nonzero(pc.fill_null(mask, False))
    if len(rows) == 0:
        return None
    picked = values.take(rows).to_pylist()
    return Finding(rule, path, rows.to_pylist(), [word(v) for v in picked])


def typed_bound(value: Any, arrow_type: pa.DataType, path: str, option: str) -> pa.Scalar:
    """A bound from the contract as a scalar of the column's type (dates arrive as text)."""
    try:
        return cast_array(pa.array([value]), arrow_type)[0]
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        raise ValueError(
            f"field '{path}': {option} {value!r} is not a {arrow_type}: {exc}"
        ) from None


def check_pattern_compiles(pattern: str, where: str) -> None:
    """Fail at contract load, not on the first batch, for an expression RE2 cannot run."""
    try:
        pc.match_substring_regex(pa.array([""]), pattern)
    except pa.ArrowInvalid as exc:
        raise ValueError(
            f"{where}: pattern {pattern!r} is not supported by the RE2 engine ({exc}); "
            "rewrite it without look-arounds or back-references"
        ) from None


def _limit_findings(
    path: str,
    opts: dict[str, Any],
    measured: pa.Array,
    values: pa.Array,
    limits: dict[str, tuple[Callable[..., Any], str]],
    to_limit: Callable[[str, Any], Any] = lambda option, limit: limit,
) -> list[Finding | None]:
    """Compare a measure of each value (itself, its length, ...) with the limits set in opts."""
    found: list[Finding | None] = []
    for option, (test, words) in limits.items():
        if option in opts:
            text = words.format(repr(opts[option]))
            mask = test(measured, to_limit(option, opts[option]))
            found.append(_offenders(option, path, mask, values, lambda v, t=text: f"{v!r} {t}"))
    return found


def option_findings(path: str, f: ContractField, values: pa.Array) -> Iterator[Finding]:
    """logicalTypeOptions checks; nulls never offend here (`required` covers them)."""
    opts = f.options
    found: list[Finding | None] = []
    if f.kind == "string":
        length = pc.utf8_length(values)
        found += _limit_findings(path, opts, length, values, _LENGTH_LIMITS)
        if "pattern" in opts:
            p = opts["pattern"]
            found.append(
                _offenders(
                    "pattern",
                    path,
                    pc.invert(pc.match_substring_regex(values, p)),
                    values,
                    lambda v, p=p: f"{v!r} does not match pattern {p!r}",
                )
            )
        fmt = opts.get("format")
        if fmt in STRING_FORMAT_PATTERNS:
            bad = pc.invert(pc.match_substring_regex(values, STRING_FORMAT_PATTERNS[fmt]))
            if fmt == "hostname":
                bad = pc.or_(bad, pc.greater(length, HOSTNAME_MAX_LENGTH))
            found.append(
                _offenders(
                    "format", path, bad, values, lambda v, fmt=fmt: f"{v!r} is not a valid {fmt}"
                )
            )
    if f.kind in ("integer", "number", "date", "timestamp", "time"):
        found += _limit_findings(
            path,
            opts,
            values,
            values,
            _VALUE_LIMITS,
            lambda option, limit: typed_bound(limit, values.type, path, option),
        )
    if f.kind in ("integer", "number") and "multipleOf" in opts:
        m = opts["multipleOf"]
        ratio = pc.divide(pc.cast(values, pa.float64()), float(m))
        found.append(
            _offenders(
                "multipleOf",
                path,
                pc.not_equal(ratio, pc.round(ratio)),
                values,
                lambda v, m=m: f"{v!r} is not a multiple of {m!r}",
            )
        )
    if f.kind == "integer" and opts.get("format") in INT_FORMAT_RANGES:
        low, high = INT_FORMAT_RANGES[opts["format"]]
        fmt = opts["format"]
        outside = pc.or_(pc.less(values, low), pc.greater(values, high))
        found.append(
            _offenders(
                "format",
                path,
                outside,
                values,
                lambda v, fmt=fmt: f"{v!r} does not fit integer format {fmt}",
            )
        )
    if f.kind == "array" and pa.types.is_list(values.type):
        found.extend(_array_findings(path, opts, values))
    if f.kind == "object" and pa.types.is_struct(values.type):
        names = opts.get("required") or []
        found.extend(_nested_required(path, values, names, "is required by logicalTypeOptions"))
    yield from (x for x in found if x is not None)


def _array_findings(path: str, opts: dict[str, Any], values: pa.Array) -> list[Finding | None]:
    length = pc.list_value_length(values)
    found = _limit_findings(path, opts, length, values, _ITEM_LIMITS)
    item_type = values.type.value_type
    longest = pc.max(length).as_py() or 0
    if opts.get("uniqueItems") and not pa.types.is_nested(item_type) and longest > 1:
        pairs = pa.table({"row": pc.list_parent_indices(values), "item": pc.list_flatten(values)})
        distinct = pairs.group_by("row").aggregate([("item", "count_distinct")])
        repeats = pc.less(distinct["item_count_distinct"], pc.take(length, distinct["row"]))
        row_has_repeat = pc.is_in(
            arange(len(values)), value_set=pc.filter(distinct["row"], repeats)
        )
        found.append(
            _offenders(
                "uniqueItems", path, row_has_repeat, values, lambda v: f"{v!r} repeats an item"
            )
        )
    return found


def _nested_required(
    path: str, values: pa.Array, names: list[str], why: str
) -> list[Finding | None]:
    found: list[Finding | None] = []
    present = {values.type.field(i).name for i in range(values.type.num_fields)}
    for name in names:
        if name in present:
            child = pc.struct_field(values, name)
            missing = pc.and_(values.is_valid(), child.is_null())
        else:
            missing = values.is_valid()
        found.append(
            _offenders(
                "required",
                f"{path}.{name}",
                missing,
                values,
                lambda v, why=why: f"missing or null, which {why}",
            )
        )
    return found


def nested_findings(path: str, f: ContractField, values: pa.Array) -> Iterator[Finding]:
    """Rules inside objects and array items, reported on the row that holds them.

    An object's children are checked where the object is present; array items are checked
    flattened, and each finding is mapped back to its row.
    """
    if f.kind == "array" and f.items is not None and pa.types.is_list(values.type):
        items = pc.list_flatten(values)
        owner = pc.list_parent_indices(values)
        item_path = f"{path}[]"
        for found in [
            *option_findings(item_path, f.items, items),
            *nested_findings(item_path, f.items, items),
        ]:
            rows = owner.take(pa.array(found.rows, pa.int64())).to_pylist()
            yield Finding(found.rule, found.field, rows, found.messages)
        return
    if not (f.fields and pa.types.is_struct(values.type)):
        return
    required = [c.name for c in f.fields if c.required or c.primary_key]
    yield from (
        x for x in _nested_required(path, values, required, "the contract marks required") if x
    )
    children = values.flatten()
    for index in range(values.type.num_fields):
        name = values.type.field(index).name
        child_field = next((c for c in f.fields if c.name == name), None)
        if child_field is not None:
            child_path = f"{path}.{name}"
            yield from option_findings(child_path, child_field, children[index])
            yield from nested_findings(child_path, child_field, children[index])


def compare(value: float, operator: str, threshold: Any) -> bool:
    """Whether a metric value passes an ODCS operator (mustBe, mustBeBetween, ...)."""
    if operator == "mustBe":
        return value == threshold
    if operator == "mustNotBe":
        return value != threshold
    if operator == "mustBeGreaterThan":
        return value > threshold
    if operator == "mustBeGreaterOrEqualTo":
        return value >= threshold
    if operator == "mustBeLessThan":
        return value < threshold
    if operator == "mustBeLessOrEqualTo":
        return value <= threshold
    low, high = threshold
    inside = low <= value <= high
    return inside if operator == "mustBeBetween" else not inside


def first_occurrence_mask(keys: pa.Array) -> pa.Array:
    """True where a non-null key appears for the first time in the array."""
    if pc.count_distinct(keys, mode="only_valid").as_py() == pc.count(keys).as_py():
        return keys.is_valid()  # the usual case, found without grouping
    distinct = pc.unique(keys)
    group = pc.index_in(keys, value_set=distinct)
    firsts = (
        pa.table({"group": group, "row": arange(len(keys))})
        .group_by("group")
        .aggregate([("row", "min")])
        .sort_by("group")
    )
    first_row_of_group = pc.take(firsts["row_min"], group)
    return pc.and_(pc.equal(first_row_of_group, arange(len(keys))), keys.is_valid())


def composite_key(columns: list[pa.Array], separator: str = "\x1f") -> pa.Array:
    """One comparable key for several columns; null if any part is null.

    The default separator is a control character so that ('a b', 'c') and ('a', 'b c') differ;
    pass ", " for a key to show in messages.
    """
    if len(columns) == 1:
        return columns[0]
    as_text = [pc.cast(c, pa.string()) for c in columns]
    return pc.binary_join_element_wise(*as_text, separator)


def _listed_values(listed: list[Any], arrow_type: pa.DataType) -> pa.Array:
    """Values named in a contract as the column's type; ones that cannot be of it match nothing."""
    kept = []
    for value in listed:
        try:
            kept.append(cast_array(pa.array([value]), arrow_type))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            continue
    return pa.concat_arrays(kept) if kept else pa.array([], arrow_type)


def _none_of(values: pa.Array) -> pa.Array:
    return pc.fill_null(pa.nulls(len(values), pa.bool_()), False)


def metric_offenders(rule: QualityRule, values: pa.Array) -> pa.Array:
    """The rows a count metric counts, as a boolean mask."""
    if rule.metric == "nullValues":
        return values.is_null()
    if rule.metric == "missingValues":
        listed = rule.arguments.get("missingValues") or [None]
        wanted = _listed_values([v for v in listed if v is not None], values.type)
        hit = pc.fill_null(pc.is_in(values, value_set=wanted), False)
        return pc.or_(hit, values.is_null()) if None in listed else hit
    if rule.metric == "invalidValues":
        bad = _none_of(values)
        if "validValues" in rule.arguments:
            valid = _listed_values(rule.arguments["validValues"], values.type)
            bad = pc.or_(bad, pc.invert(pc.is_in(values, value_set=valid)))
        if "pattern" in rule.arguments:
            as_text = values if pa.types.is_string(values.type) else pc.cast(values, pa.string())
            matches = pc.match_substring_regex(as_text, rule.arguments["pattern"])
            bad = pc.or_(bad, pc.invert(matches))
        return pc.and_(bad, values.is_valid())
    if rule.metric == "duplicateValues":
        return pc.and_(pc.invert(first_occurrence_mask(values)), values.is_valid())
    raise ValueError(f"{rule.metric} is not a count metric")


_METRIC_WORDS = {
    "nullValues": "",
    "missingValues": "counts as missing",
    "invalidValues": "is not a valid value",
    "duplicateValues": "is a duplicate",
}


def metric_finding(
    rule: QualityRule, path: str | None, values: pa.Array, shown: pa.Array | None = None
) -> Finding | None:
    """Evaluate a count metric on a batch; when it fails, the rows it counted carry it.

    `shown` is what messages quote for a row (composite keys are compared in a coded form).
    """
    offending = pc.fill_null(metric_offenders(rule, values), False)
    count = pc.sum(pc.cast(offending, pa.int64())).as_py() or 0
    measured = count * 100.0 / len(values) if rule.unit == "percent" and len(values) else count
    if compare(measured, rule.operator, rule.threshold):
        return None
    context = f"({rule.describe()}; this batch has {measured:g} {rule.unit})"
    words = _METRIC_WORDS[rule.metric]
    finding = _offenders(
        rule.metric,
        path or "",
        offending,
        values if shown is None else shown,
        lambda v: f"{v!r} {words} {context}" if words else f"null {context}",
    )
    return finding or Finding(
        rule.metric,
        path,
        [],
        [f"{rule.describe()} failed: this batch has {measured:g} {rule.unit}"],
    )
