"""A job file: which tenant, which source and target connectors, contract and state backend."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from dativo_core.documents import load_document, validate_document

DEFAULT_TARGET = "target-iceberg"


def _job_schema() -> dict[str, Any]:
    text = resources.files("dativo_core.jobs").joinpath("schemas/job.schema.json").read_text()
    return json.loads(text)


@dataclass(frozen=True)
class ConnectorUse:
    """A connector as one job uses it: the recipe name plus this job's overrides."""

    connector: str
    config: dict[str, Any] = field(default_factory=dict)
    streams: list[str] | None = None
    fields: dict[str, list[str]] = field(default_factory=dict)
    replication: dict[str, str] = field(default_factory=dict)
    docker: dict[str, Any] = field(default_factory=dict)
    reader: dict[str, Any] | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConnectorUse:
        return cls(
            connector=data["connector"],
            config=data.get("config", {}),
            streams=data.get("streams"),
            fields=data.get("fields", {}),
            replication=data.get("replication", {}),
            docker=data.get("docker", {}),
            reader=data.get("reader"),
        )


@dataclass(frozen=True)
class Job:
    tenant: str
    name: str
    source: ConnectorUse
    target: ConnectorUse
    source_file: Path
    contract: dict[str, Any] | None = None
    state: dict[str, Any] = field(default_factory=lambda: {"backend": "local"})
    secrets: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.tenant}/{self.name}"

    def resolve_path(self, value: str) -> Path:
        """Paths in a job file are relative to the file, not to where dativo runs."""
        path = Path(value).expanduser()
        return path if path.is_absolute() else (self.source_file.parent / path).resolve()

    @classmethod
    def load(cls, path: str | Path) -> Job:
        path = Path(path)
        data = load_document(path)
        validate_document(data, _job_schema(), str(path))
        return cls(
            tenant=data["tenant"],
            name=data.get("name", path.stem),
            source=ConnectorUse.from_dict(data["source"]),
            target=ConnectorUse.from_dict(data.get("target", {"connector": DEFAULT_TARGET})),
            source_file=path.resolve(),
            contract=data.get("contract"),
            state=data.get("state", {"backend": "local"}),
            secrets=data.get("secrets", {}),
        )


def find_jobs(directory: str | Path) -> list[Path]:
    """Every job file below a folder, in a stable order."""
    root = Path(directory)
    return sorted(p for p in root.rglob("*") if p.suffix in {".yaml", ".yml"} and p.is_file())
