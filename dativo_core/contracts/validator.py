"""Validating Arrow batches against one contract table: the API targets and the mapper call.

`ContractValidator.validate(table)` splits a batch into good rows (cast to the contract's Arrow
schema) and bad rows with per-row violations; what to do with them is the caller's policy.
Uniqueness (`unique`, `primaryKey`) holds across all batches of one validator, i.e. of a run.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from dativo_core.contracts import checks
from dativo_core.contracts.casting import cast_locating_failures
from dativo_core.contracts.compile import arrow_schema
from dativo_core.contracts.model import (
    Contract,
    ContractField,
    ContractTable,
    QualityRule,
)
from dativo_core.contracts.seen_keys import SeenKeys
from dativo_core.documents import DocumentError
from dativo_core.schema.arrow import holds_json_text
from dativo_core.singer.errors import SingerProtocolError

REASON_COLUMN = "_dativo_reason"
RULE_COLUMN = "_dativo_rule"
SOURCE_LINE_COLUMN = "_dativo_source_line"
RECORD_JSON_COLUMN = "_dativo_record"


class Policy(enum.StrEnum):
    """What a caller does with bad rows: stop, set them aside, or only report them."""

    FAIL = "fail"
    QUARANTINE = "quarantine"
    WARN = "warn"


@dataclass(frozen=True)
class Violation:
    """One broken rule. `row` indexes the validated table; None marks a batch or run finding."""

    row: int | None
    field: str | None
    rule: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = [f"line {self.line}"] if self.line is not None else []
        where += [f"field '{self.field}'"] if self.field else []
        prefix = f"{', '.join(where)}: " if where else ""
        return f"{prefix}{self.rule}: {self.message}"


@dataclass
class ValidationResult:
    good_rows: pa.Table
    bad_rows: pa.Table
    good_indices: pa.Array
    bad_indices: pa.Array
    violations: list[Violation]
    summary: Counter[str] = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return not self.violations


def _all_false(n: int) -> pa.Array:
    return pc.fill_null(pa.nulls(n, pa.bool_()), False)


def _describe_type(f: ContractField) -> str:
    fmt = f.options.get("format")
    return f"{f.kind} ({fmt})" if fmt else str(f.kind)


def check_table_usable(table: ContractTable) -> None:
    """Bounds, patterns and schema-level rules that cannot be evaluated are contract errors,
    found before any record."""
    schema = arrow_schema(table)
    where = f"schema object '{table.name}'"

    def walk(f: ContractField, path: str, arrow_type: pa.DataType) -> None:
        for option in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            if option in f.options and f.kind in ("date", "timestamp", "time"):
                try:
                    checks.typed_bound(f.options[option], arrow_type, path, option)
                except ValueError as exc:
                    raise DocumentError(where, str(exc)) from None
        patterns = [f.options.get("pattern")] + [r.arguments.get("pattern") for r in f.quality]
        for pattern in filter(None, patterns):
            try:
                checks.check_pattern_compiles(pattern, f"field '{path}'")
            except ValueError as exc:
                raise DocumentError(where, str(exc)) from None
        if pa.types.is_struct(arrow_type):
            for child in f.fields:
                walk(child, f"{path}.{child.name}", arrow_type.field(child.name).type)

    for f in table.fields:
        walk(f, f.name, schema.field(f.name).type)
    known = {f.name for f in table.fields}
    for rule in table.quality:
        names = rule.arguments.get("properties") or []
        if rule.metric == "rowCount":
            continue
        if rule.metric != "duplicateValues" or not names or not set(names) <= known:
            raise DocumentError(
                where,
                f"schema-level {rule.describe()} needs arguments.properties naming fields "
                f"of the object (unknown: {sorted(set(names) - known)})",
            )


class ContractValidator:
    """Checks batches of one stream against one contract table, remembering keys across batches."""

    def __init__(
        self,
        table: ContractTable,
        *,
        unique_across_batches: bool = True,
        unchecked_fields: frozenset[str] = frozenset(),
    ) -> None:
        """`unchecked_fields` are fields the caller cannot supply as columns; no rule sees them."""
        self.table = table
        self.unchecked_fields = unchecked_fields
        self.schema = arrow_schema(table)
        self.unique_across_batches = unique_across_batches
        self.rows_seen = 0
        self._seen_keys: dict[tuple[str, ...], SeenKeys] = {}
        check_table_usable(table)

    @classmethod
    def for_stream(cls, contract: Contract, stream: str, **options: Any) -> ContractValidator:
        table = contract.table_for_stream(stream)
        if table is None:
            names = ", ".join(t.name for t in contract.tables)
            raise DocumentError(
                contract.source, f"no schema object matches stream '{stream}' (objects: {names})"
            )
        return cls(table, **options)

    @property
    def checked_fields(self) -> list[ContractField]:
        return [f for f in self.table.fields if f.name not in self.unchecked_fields]

    @property
    def key_constraints(self) -> list[tuple[str, tuple[str, ...]]]:
        """(rule, columns) pairs: the primary key, and each unique field not already the key."""
        out = []
        primary = tuple(self.table.primary_key)
        if primary:
            out.append(("primaryKey", primary))
        out += [
            ("unique", (f.name,)) for f in self.table.fields if f.unique and (f.name,) != primary
        ]
        return out

    def _typed_columns(self, batch: pa.Table) -> tuple[dict[str, pa.Array], list[checks.Finding]]:
        typed: dict[str, pa.Array] = {}
        findings: list[checks.Finding] = []
        n = batch.num_rows
        for f in self.checked_fields:
            target = self.schema.field(f.name)
            if f.name not in batch.column_names:
                typed[f.name] = pa.nulls(n, target.type)
                continue
            raw = batch.column(f.name).combine_chunks()
            if holds_json_text(target):
                typed[f.name] = raw
                continue
            typed[f.name], failed = cast_locating_failures(raw, target.type)
            if failed:
                values = raw.take(pa.array(failed, pa.int64())).to_pylist()
                kind = _describe_type(f)
                findings.append(
                    checks.Finding(
                        "type", f.name, failed, [f"cannot read {v!r} as {kind}" for v in values]
                    )
                )
        return typed, findings

    def _row_findings(
        self, typed: dict[str, pa.Array], cast_failed: set[tuple[str, int]]
    ) -> list[checks.Finding]:
        findings: list[checks.Finding] = []
        for f in self.checked_fields:
            values = typed[f.name]
            if f.required or f.primary_key:
                missing = values.is_null()
                failed_here = [row for name, row in cast_failed if name == f.name]
                if failed_here:
                    was_bad = pc.is_in(
                        checks.arange(len(values)), value_set=pa.array(failed_here, pa.int64())
                    )
                    missing = pc.and_(missing, pc.invert(was_bad))
                rows = pc.indices_nonzero(missing).to_pylist()
                if rows:
                    findings.append(
                        checks.Finding(
                            "required",
                            f.name,
                            rows,
                            ["missing or null, but the contract requires it"] * len(rows),
                        )
                    )
            findings.extend(checks.option_findings(f.name, f, values))
            findings.extend(checks.nested_findings(f.name, f, values))
            for rule in f.quality:
                found = checks.metric_finding(rule, f.name, values)
                if found:
                    findings.append(found)
        for rule in self.table.quality:
            found = self._table_rule(rule, typed)
            if found:
                findings.append(found)
        return findings

    def _table_rule(self, rule: QualityRule, typed: dict[str, pa.Array]) -> checks.Finding | None:
        if rule.metric == "rowCount":
            return None  # evaluated over the whole run, in finish()
        names = list(rule.arguments["properties"])
        if not all(n in typed for n in names):
            return None  # a field the caller cannot supply (see unchecked_fields)
        parts = [typed[n] for n in names]
        shown = checks.composite_key(parts, ", ")
        return checks.metric_finding(rule, ", ".join(names), checks.composite_key(parts), shown)

    def _key_findings(
        self, typed: dict[str, pa.Array], bad: pa.Array
    ) -> tuple[list[checks.Finding], dict[tuple[str, ...], pa.Array]]:
        """Duplicate keys among rows that are otherwise good; the first occurrence stays good."""
        findings = []
        keys_by_constraint = {}
        candidates = pc.indices_nonzero(pc.invert(bad))
        for rule, columns in self.key_constraints:
            if not all(c in typed for c in columns):
                continue
            key = checks.composite_key([typed[c] for c in columns])
            keys_by_constraint[columns] = key
            among = key.take(candidates)
            duplicate = pc.and_(pc.invert(checks.first_occurrence_mask(among)), among.is_valid())
            seen = self._seen_keys.get(columns)
            if seen is not None:
                duplicate = pc.or_(duplicate, seen.contains(among))
            rows = candidates.filter(duplicate)
            if len(rows):
                parts = [typed[c].take(rows) for c in columns]
                shown = checks.composite_key(parts, ", ").to_pylist()
                label = ", ".join(columns)
                findings.append(
                    checks.Finding(
                        rule,
                        label,
                        rows.to_pylist(),
                        [
                            f"({label}) = ({v}) appears more than once in this run"
                            if len(columns) > 1
                            else f"{label} = {v!r} appears more than once in this run"
                            for v in shown
                        ],
                    )
                )
        return findings, keys_by_constraint

    def validate(
        self, batch: pa.Table, source_lines: Sequence[int] | pa.Array | None = None
    ) -> ValidationResult:
        """Check one batch. `source_lines` (one per row) locates violations in the input."""
        n = batch.num_rows
        self.rows_seen += n
        typed, findings = self._typed_columns(batch)
        cast_failed = {(fd.field or "", row) for fd in findings for row in fd.rows}
        findings += self._row_findings(typed, cast_failed)
        bad_rows = sorted({row for fd in findings for row in fd.rows})
        bad = (
            pc.is_in(checks.arange(n), value_set=pa.array(bad_rows, pa.int64()))
            if bad_rows
            else _all_false(n)
        )
        key_findings, keys = self._key_findings(typed, bad)
        if key_findings:
            findings += key_findings
            bad_rows = sorted({row for fd in findings for row in fd.rows})
            bad = pc.is_in(checks.arange(n), value_set=pa.array(bad_rows, pa.int64()))
        good = pc.invert(bad)
        if self.unique_across_batches:
            for columns, key in keys.items():
                self._seen_keys.setdefault(columns, SeenKeys()).add(key.filter(good))
        return self._result(batch, typed, findings, good, source_lines)

    def _result(
        self,
        batch: pa.Table,
        typed: dict[str, pa.Array],
        findings: list[checks.Finding],
        good: pa.Array,
        source_lines: Sequence[int] | pa.Array | None,
    ) -> ValidationResult:
        lines = pa.array(source_lines, pa.int64()) if source_lines is not None else None
        violations: list[Violation] = []
        summary: Counter[str] = Counter()
        for fd in findings:
            where = (
                lines.take(pa.array(fd.rows, pa.int64())).to_pylist()
                if lines is not None and fd.rows
                else [None] * len(fd.rows)
            )
            if not fd.rows:
                violations += [Violation(None, fd.field, fd.rule, m) for m in fd.messages]
                summary[fd.rule] += 1
                continue
            violations += [
                Violation(r, fd.field, fd.rule, m, line)
                for r, m, line in zip(fd.rows, fd.messages, where, strict=False)
            ]
            summary[fd.rule] += len(fd.rows)
        violations.sort(key=lambda v: (v.row is None, v.row if v.row is not None else 0))
        good_indices = pc.indices_nonzero(good)
        bad_indices = pc.indices_nonzero(pc.invert(good))
        extras = [name for name in batch.column_names if name not in typed]
        arrays = [typed[name].filter(good) for name in typed]
        arrays += [batch.column(name).combine_chunks().filter(good) for name in extras]
        fields = [
            f if f.type == typed[f.name].type else pa.field(f.name, typed[f.name].type)
            for f in self.schema
            if f.name in typed
        ]
        fields += [batch.schema.field(name) for name in extras]
        good_rows = pa.Table.from_arrays(arrays, schema=pa.schema(fields))
        return ValidationResult(
            good_rows=good_rows,
            bad_rows=batch.take(bad_indices),
            good_indices=good_indices,
            bad_indices=bad_indices,
            violations=violations,
            summary=summary,
        )

    def finish(self) -> list[Violation]:
        """Run-level rules, evaluated once all batches were seen: the table's rowCount."""
        out = []
        for rule in self.table.quality:
            if rule.metric == "rowCount" and not checks.compare(
                self.rows_seen, rule.operator, rule.threshold
            ):
                out.append(
                    Violation(
                        None,
                        None,
                        "rowCount",
                        f"{rule.describe()} failed: the run had {self.rows_seen} rows",
                    )
                )
        return out


def quarantine_table(result: ValidationResult, *, as_json_text: bool = False) -> pa.Table:
    """The rows to write to `<table>__quarantine`: the bad rows with why, which rule and where.

    Columns keep the input's types, or with `as_json_text` the whole row is one JSON text column
    (for a quarantine table whose schema must not follow the stream's).
    """
    by_row: dict[int, list[Violation]] = {}
    for violation in result.violations:
        if violation.row is not None:
            by_row.setdefault(violation.row, []).append(violation)
    order = result.bad_indices.to_pylist()
    reasons = [
        "; ".join(f"{v.field}: {v.message}" if v.field else v.message for v in by_row[r])
        for r in order
    ]
    rules = [",".join(dict.fromkeys(v.rule for v in by_row[r])) for r in order]
    lines = [by_row[r][0].line for r in order]
    base = result.bad_rows
    if as_json_text:
        texts = [orjson.dumps(row, default=str).decode() for row in base.to_pylist()]
        base = pa.table({RECORD_JSON_COLUMN: pa.array(texts, pa.string())})
    return (
        base.append_column(REASON_COLUMN, pa.array(reasons, pa.string()))
        .append_column(RULE_COLUMN, pa.array(rules, pa.string()))
        .append_column(SOURCE_LINE_COLUMN, pa.array(lines, pa.int64()))
    )


class ContractViolationError(SingerProtocolError):
    """A record broke the contract under the `fail` policy; carries every violation found."""

    def __init__(self, stream: str, violations: list[Violation]) -> None:
        self.violations = violations
        first = violations[0]
        more = f" (and {len(violations) - 1} more violations)" if len(violations) > 1 else ""
        super().__init__(
            f"contract rule '{first.rule}' broken: {first.message}{more}",
            line=first.line,
            stream=stream,
            field=first.field,
            hint="Fix the source data or the contract, or choose the quarantine policy (`--policy "
            "quarantine`, target-iceberg's `contract_policy`) to set bad records aside",
        )
