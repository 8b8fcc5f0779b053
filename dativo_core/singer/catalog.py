"""The Singer catalog: streams, their schemas, and metadata breadcrumbs for selection."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Breadcrumb = tuple[str, ...]


def _breadcrumb_key(entry: dict[str, Any]) -> Breadcrumb:
    return tuple(entry.get("breadcrumb") or ())


@dataclass
class CatalogEntry:
    """One stream of a catalog; selection follows the Singer metadata rules."""

    tap_stream_id: str
    schema: dict[str, Any]
    stream: str | None = None
    key_properties: list[str] = field(default_factory=list)
    metadata: list[dict[str, Any]] = field(default_factory=list)
    replication_key: str | None = None
    replication_method: str | None = None

    @property
    def name(self) -> str:
        return self.stream or self.tap_stream_id

    def metadata_for(self, breadcrumb: Breadcrumb = ()) -> dict[str, Any]:
        for entry in self.metadata:
            if _breadcrumb_key(entry) == breadcrumb:
                return entry.setdefault("metadata", {})
        return {}

    def set_metadata(self, breadcrumb: Breadcrumb, **values: Any) -> None:
        for entry in self.metadata:
            if _breadcrumb_key(entry) == breadcrumb:
                entry.setdefault("metadata", {}).update(values)
                return
        self.metadata.append({"breadcrumb": list(breadcrumb), "metadata": dict(values)})

    @staticmethod
    def _is_selected(meta: dict[str, Any], default: bool) -> bool:
        inclusion = meta.get("inclusion")
        if inclusion == "automatic":
            return True
        if inclusion == "unsupported":
            return False
        if "selected" in meta:
            return bool(meta["selected"])
        return bool(meta.get("selected-by-default", default))

    def is_selected(self) -> bool:
        return self._is_selected(self.metadata_for(()), default=False)

    def is_property_selected(self, name: str) -> bool:
        if name in self.key_properties or name == self.effective_replication_key:
            return True
        return self._is_selected(self.metadata_for(("properties", name)), default=True)

    def selected_properties(self) -> list[str]:
        return [p for p in self.schema.get("properties", {}) if self.is_property_selected(p)]

    def selected_schema(self) -> dict[str, Any]:
        """The stream's schema cut down to the selected top-level properties."""
        props = self.schema.get("properties", {})
        kept = {name: props[name] for name in self.selected_properties()}
        return {**self.schema, "properties": kept}

    @property
    def effective_replication_method(self) -> str:
        meta = self.metadata_for(())
        return str(
            meta.get("replication-method")
            or self.replication_method
            or meta.get("forced-replication-method")
            or ("INCREMENTAL" if self.effective_replication_key else "FULL_TABLE")
        )

    @property
    def effective_replication_key(self) -> str | None:
        meta = self.metadata_for(())
        key = meta.get("replication-key") or self.replication_key
        if key:
            return str(key)
        valid = meta.get("valid-replication-keys") or []
        return str(valid[0]) if valid else None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CatalogEntry:
        return cls(
            tap_stream_id=data.get("tap_stream_id") or data["stream"],
            stream=data.get("stream"),
            schema=data.get("schema") or {},
            key_properties=list(data.get("key_properties") or []),
            metadata=list(data.get("metadata") or []),
            replication_key=data.get("replication_key"),
            replication_method=data.get("replication_method"),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "tap_stream_id": self.tap_stream_id,
            "stream": self.name,
            "schema": self.schema,
            "key_properties": self.key_properties,
            "metadata": self.metadata,
        }
        if self.replication_key:
            out["replication_key"] = self.replication_key
        if self.replication_method:
            out["replication_method"] = self.replication_method
        return out


@dataclass
class Catalog:
    streams: list[CatalogEntry] = field(default_factory=list)

    def get(self, tap_stream_id: str) -> CatalogEntry | None:
        return next((s for s in self.streams if s.tap_stream_id == tap_stream_id), None)

    def selected_streams(self) -> list[CatalogEntry]:
        return [s for s in self.streams if s.is_selected()]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Catalog:
        return cls([CatalogEntry.from_dict(s) for s in data.get("streams", [])])

    @classmethod
    def load(cls, path: str | Path) -> Catalog:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def to_dict(self) -> dict[str, Any]:
        return {"streams": [s.to_dict() for s in self.streams]}


def standard_metadata(
    schema: dict[str, Any],
    key_properties: list[str],
    *,
    replication_method: str | None = None,
    valid_replication_keys: list[str] | None = None,
    selected_by_default: bool = True,
) -> list[dict[str, Any]]:
    """Discovery metadata for a stream: key and replication keys are `automatic`."""
    automatic = set(key_properties) | set(valid_replication_keys or [])
    stream_meta: dict[str, Any] = {
        "inclusion": "available",
        "selected-by-default": selected_by_default,
        "table-key-properties": key_properties,
    }
    if replication_method:
        stream_meta["forced-replication-method"] = replication_method
    if valid_replication_keys:
        stream_meta["valid-replication-keys"] = valid_replication_keys
    entries: list[dict[str, Any]] = [{"breadcrumb": [], "metadata": stream_meta}]
    for name in schema.get("properties", {}):
        entries.append(
            {
                "breadcrumb": ["properties", name],
                "metadata": {
                    "inclusion": "automatic" if name in automatic else "available",
                    "selected-by-default": True,
                },
            }
        )
    return entries
