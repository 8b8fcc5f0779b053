"""An ODCS v3 contract as the checks need it: tables, fields, options and library quality rules.

Parsing happens after the document passed the official schema, so shapes are trusted here; what
is normalised is the difference between versions (v3.0 `date` with a time format, boolean
`exclusiveMinimum`, `rule:` names) so the rest of the code sees one model.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dativo_core.contracts.odcs import check_against_official_schema
from dativo_core.documents import load_document

log = logging.getLogger(__name__)

COUNT_METRICS = ("nullValues", "missingValues", "invalidValues", "duplicateValues")
# v3.0.x library rule names, and the v3.1 metric each one became.
V30_RULE_TO_METRIC = {
    "duplicateCount": "duplicateValues",
    "validValues": "invalidValues",
    "nullCheck": "nullValues",
    "rowCount": "rowCount",
}
OPERATORS = (
    "mustBe",
    "mustNotBe",
    "mustBeGreaterThan",
    "mustBeGreaterOrEqualTo",
    "mustBeLessThan",
    "mustBeLessOrEqualTo",
    "mustBeBetween",
    "mustNotBeBetween",
)
_TIME_LETTERS = re.compile(r"[HhKkmsSn]")
_DATE_LETTERS = re.compile(r"[yuMdDLE]")


@dataclass(frozen=True)
class QualityRule:
    """A library metric compared with one operator, e.g. nullValues mustBe 0."""

    metric: str
    operator: str
    threshold: Any
    unit: str = "rows"
    arguments: dict[str, Any] = field(default_factory=dict)
    label: str = ""

    def describe(self) -> str:
        name = f" '{self.label}'" if self.label else ""
        return f"{self.metric}{name} {self.operator} {self.threshold!r} {self.unit}"


@dataclass
class ContractField:
    """One ODCS property. `kind` is the resolved logical type (v3.0 dates may become timestamps)."""

    name: str
    kind: str | None
    options: dict[str, Any] = field(default_factory=dict)
    required: bool = False
    unique: bool = False
    primary_key: bool = False
    primary_key_position: int = -1
    quality: list[QualityRule] = field(default_factory=list)
    fields: list[ContractField] = field(default_factory=list)
    items: ContractField | None = None

    @property
    def int_format(self) -> str | None:
        return self.options.get("format") if self.kind == "integer" else None


@dataclass
class ContractTable:
    """One ODCS schema object: a table, matched to a Singer stream by name or physicalName."""

    name: str
    physical_name: str | None
    fields: list[ContractField]
    quality: list[QualityRule] = field(default_factory=list)

    @property
    def primary_key(self) -> list[str]:
        keyed = [f for f in self.fields if f.primary_key]
        return [f.name for f in sorted(keyed, key=lambda f: f.primary_key_position)]

    @property
    def required_fields(self) -> list[str]:
        return [f.name for f in self.fields if f.required or f.primary_key]

    def field_named(self, name: str) -> ContractField | None:
        return next((f for f in self.fields if f.name == name), None)


@dataclass
class Contract:
    api_version: str
    id: str
    name: str
    version: str
    tables: list[ContractTable]
    source: str
    unchecked: list[str] = field(default_factory=list)

    def table_for_stream(self, stream: str) -> ContractTable | None:
        """The schema object a stream is checked against; Singer streams may be `db-table`."""
        for table in self.tables:
            if stream in (table.name, table.physical_name):
                return table
        for table in self.tables:
            if stream.rsplit("-", 1)[-1] in (table.name, table.physical_name):
                return table
        return None


def _temporal_kind(logical_type: str, options: dict[str, Any]) -> str:
    """v3.0 has only `date`: its format says whether the values are dates, times or both."""
    fmt = str(options.get("format") or "")
    has_time = bool(_TIME_LETTERS.search(fmt))
    has_date = bool(_DATE_LETTERS.search(fmt))
    if logical_type == "date" and has_time:
        return "timestamp" if has_date else "time"
    return logical_type


def _normalise_bounds(options: dict[str, Any]) -> dict[str, Any]:
    """v3.0's boolean exclusiveMinimum/Maximum turn minimum/maximum into v3.1's strict bounds."""
    out = dict(options)
    for side in ("Minimum", "Maximum"):
        flag = out.get(f"exclusive{side}")
        if isinstance(flag, bool):
            del out[f"exclusive{side}"]
            bound = out.get(side.lower())
            if flag and bound is not None:
                out[f"exclusive{side}"] = out.pop(side.lower())
    return out


def _quality_rules(
    items: list[dict[str, Any]], where: str, unchecked: list[str]
) -> list[QualityRule]:
    rules = []
    for index, item in enumerate(items or []):
        kind = item.get("type", "library")
        metric = item.get("metric") or V30_RULE_TO_METRIC.get(
            item.get("rule", ""), item.get("rule")
        )
        label = str(item.get("id") or item.get("name") or "")
        if kind != "library" or metric not in (*COUNT_METRICS, "rowCount"):
            unchecked.append(f"{where}.quality[{index}] ({' '.join(filter(None, [kind, metric]))})")
            continue
        arguments = dict(item.get("arguments") or {})
        if "validValues" in item:  # v3.0: `rule: validValues` lists them beside the rule
            arguments["validValues"] = item["validValues"]
        operator = next((op for op in OPERATORS if op in item), None)
        if operator is None:
            if metric == "rowCount":
                unchecked.append(f"{where}.quality[{index}] (rowCount without a comparison)")
                continue
            operator, threshold = "mustBe", 0
        else:
            threshold = item[operator]
        rules.append(
            QualityRule(metric, operator, threshold, item.get("unit", "rows"), arguments, label)
        )
    return rules


def _field(prop: dict[str, Any], where: str, unchecked: list[str]) -> ContractField:
    logical_type = prop.get("logicalType")
    options = _normalise_bounds(prop.get("logicalTypeOptions") or {})
    kind = _temporal_kind(logical_type, options) if logical_type else None
    nested = [
        _field(child, f"{where}.properties[{i}]", unchecked)
        for i, child in enumerate(prop.get("properties") or [])
    ]
    items = prop.get("items")
    return ContractField(
        name=prop["name"],
        kind=kind,
        options=options,
        required=bool(prop.get("required", False)),
        unique=bool(prop.get("unique", False)),
        primary_key=bool(prop.get("primaryKey", False)),
        primary_key_position=int(prop.get("primaryKeyPosition", -1)),
        quality=_quality_rules(prop.get("quality") or [], where, unchecked),
        fields=nested,
        items=_field({"name": "element", **items}, f"{where}.items", unchecked) if items else None,
    )


def contract_from_document(document: dict[str, Any], source: str) -> Contract:
    """Build the model of a contract that already passed its official schema."""
    unchecked: list[str] = []
    tables = []
    for t_index, obj in enumerate(document.get("schema") or []):
        where = f"$.schema[{t_index}]"
        fields = [
            _field(prop, f"{where}.properties[{p_index}]", unchecked)
            for p_index, prop in enumerate(obj.get("properties") or [])
        ]
        quality = _quality_rules(obj.get("quality") or [], where, unchecked)
        tables.append(ContractTable(obj["name"], obj.get("physicalName"), fields, quality))
    if unchecked:
        log.info("%s: quality rules not checked on records: %s", source, "; ".join(unchecked))
    return Contract(
        api_version=document["apiVersion"],
        id=str(document["id"]),
        name=str(document.get("name") or document["id"]),
        version=str(document["version"]),
        tables=tables,
        source=source,
        unchecked=unchecked,
    )


def load_contract(path: str | Path) -> Contract:
    """Read an ODCS YAML/JSON file, check it against its official schema and model it."""
    document = load_document(path)
    check_against_official_schema(document, str(path))
    return contract_from_document(document, str(path))
