"""The target's settings: their JSON Schema (shown by --about, checked on start) and a typed view."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

LOAD_METHODS = ("append-only", "upsert", "overwrite")
CONTRACT_POLICIES = ("fail", "quarantine", "warn")

TABLE_PROPERTIES_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": 'Iceberg table properties for new tables, e.g. {"write.target-file-size-bytes": "134217728"}.',
    "additionalProperties": {"type": "string"},
}

SETTINGS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "warehouse": {
            "type": "string",
            "description": (
                "Folder of the embedded warehouse: a pyiceberg SqlCatalog named 'dativo' on "
                "sqlite at <warehouse>/catalog.db, data files under <warehouse>. Also passed "
                "to a configured `catalog` as its `warehouse` property unless it sets one."
            ),
        },
        "namespace": {
            "type": "string",
            "default": "default",
            "description": "Iceberg namespace holding one table per stream (created if missing).",
        },
        "catalog": {
            "type": "object",
            "description": (
                "pyiceberg catalog properties for any other catalog, e.g. "
                '{"type": "sql", "uri": "postgresql+psycopg2://..."} or '
                '{"type": "rest", "uri": "https://..."}; `name` defaults to "dativo".'
            ),
            "additionalProperties": {"type": ["string", "number", "boolean"]},
        },
        "max_batch_rows": {
            "type": "integer",
            "minimum": 1,
            "default": 500_000,
            "description": "Commit buffered records once this many are held.",
        },
        "max_batch_bytes": {
            "type": "integer",
            "minimum": 1,
            "default": 128 * 1024 * 1024,
            "description": "Commit once buffered records take this many bytes (as Arrow data).",
        },
        "max_batch_age_seconds": {
            "type": "number",
            "exclusiveMinimum": 0,
            "default": 300,
            "description": "Commit once the oldest buffered record is this old (checked on input).",
        },
        "exactly_once": {
            "type": "boolean",
            "default": False,
            "description": (
                "The tap is resumed from `target-iceberg --committed-state` (as `dativo pipe` "
                "does): rows committed beyond that state are skipped when the tap sends them again."
            ),
        },
        "load_method": {
            "type": "string",
            "enum": list(LOAD_METHODS),
            "default": "append-only",
            "description": "How records reach a table; upsert matches on key_properties.",
        },
        "hard_delete": {
            "type": "boolean",
            "default": False,
            "description": (
                "Records whose `_sdc_deleted_at` is set delete their key's rows instead of being "
                "written (streams with key_properties). Otherwise the column is kept: soft delete."
            ),
        },
        "keep_changed_types": {
            "type": "boolean",
            "default": False,
            "description": (
                "When a field's type changes incompatibly (e.g. string -> integer), keep the old "
                "column and write the field to a new column `<name>__<type>` instead of failing."
            ),
        },
        "contract": {
            "type": "string",
            "description": (
                "ODCS v3 data contract (YAML or JSON) that records are checked against before they "
                "are loaded; a relative path is relative to the config file's folder."
            ),
        },
        "contract_policy": {
            "type": "string",
            "enum": list(CONTRACT_POLICIES),
            "default": "fail",
            "description": (
                "What a record that breaks the contract does. fail: stop, committing nothing after "
                "the last commit; quarantine: write it to `<table>__quarantine` in the same flush "
                "as the good rows; warn: log it and load it."
            ),
        },
        "table_properties": TABLE_PROPERTIES_SCHEMA,
        "streams": {
            "type": "object",
            "description": "Per-stream options, keyed by stream name.",
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "table": {"type": "string", "description": "Table name instead of the derived one."},
                    "load_method": {"type": "string", "enum": list(LOAD_METHODS)},
                    "partition_by": {
                        "type": "array",
                        "description": "Partition fields of a new table, in order.",
                        "items": {
                            "type": "object",
                            "properties": {
                                "column": {"type": "string"},
                                "transform": {
                                    "type": "string",
                                    "pattern": r"^(identity|year|month|day|hour|bucket\[\d+\]|truncate\[\d+\])$",
                                    "default": "identity",
                                },
                            },
                            "required": ["column"],
                            "additionalProperties": False,
                        },
                    },
                    "table_properties": TABLE_PROPERTIES_SCHEMA,
                },
                "additionalProperties": False,
            },
        },
    },
    "anyOf": [{"required": ["warehouse"]}, {"required": ["catalog"]}],
    "additionalProperties": False,
}


class ConfigError(ValueError):
    """The target's config is unusable; the message says which setting and why."""


@dataclass(frozen=True)
class PartitionField:
    column: str
    transform: str = "identity"


@dataclass(frozen=True)
class StreamOptions:
    table: str | None = None
    load_method: str | None = None
    partition_by: tuple[PartitionField, ...] = ()
    table_properties: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TargetConfig:
    warehouse: str | None = None
    namespace: str = "default"
    catalog: dict[str, Any] | None = None
    max_batch_rows: int = SETTINGS_SCHEMA["properties"]["max_batch_rows"]["default"]
    max_batch_bytes: int = SETTINGS_SCHEMA["properties"]["max_batch_bytes"]["default"]
    max_batch_age_seconds: float = SETTINGS_SCHEMA["properties"]["max_batch_age_seconds"]["default"]
    exactly_once: bool = False
    load_method: str = "append-only"
    hard_delete: bool = False
    keep_changed_types: bool = False
    contract: str | None = None
    contract_policy: str = "fail"
    table_properties: dict[str, str] = field(default_factory=dict)
    streams: dict[str, StreamOptions] = field(default_factory=dict)

    def for_stream(self, stream: str) -> StreamOptions:
        return self.streams.get(stream, StreamOptions())

    def load_method_for(self, stream: str) -> str:
        return self.for_stream(stream).load_method or self.load_method

    def table_properties_for(self, stream: str) -> dict[str, str]:
        return {**self.table_properties, **self.for_stream(stream).table_properties}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TargetConfig:
        errors = sorted(jsonschema.Draft7Validator(SETTINGS_SCHEMA).iter_errors(data), key=str)
        if errors:
            first = errors[0]
            where = "/".join(str(p) for p in first.absolute_path) or "(top level)"
            raise ConfigError(f"invalid config at {where}: {first.message}")
        streams = {
            name: StreamOptions(
                **{
                    **options,
                    "partition_by": tuple(PartitionField(**p) for p in options.get("partition_by", [])),
                }
            )
            for name, options in (data.get("streams") or {}).items()
        }
        return cls(**{**data, "streams": streams})

    @classmethod
    def load(cls, path: str | Path) -> TargetConfig:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"cannot read config file {path}: {exc}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"config file {path} must hold a JSON object")
        if isinstance(data.get("contract"), str):
            data["contract"] = str(Path(path).parent / Path(data["contract"]).expanduser())
        return cls.from_dict(data)
