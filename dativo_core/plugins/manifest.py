"""Plugin manifests (`dativo-plugin.yaml`): what a reader plugin is and what it needs.

Example:

    name: example-orders
    version: 0.1.0
    api_version: ">=1.0,<2"
    entry_point: orders_reader.py:OrdersReader
    capabilities: {incremental: true, discovery: true, batch_output: false}
    secrets: [ORDERS_API_TOKEN]
    dependencies: ["pyarrow>=17"]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from dativo_core.documents import DocumentError, load_document, validate_document
from dativo_core.plugins.loading import absolute_reference, is_file_reference
from dativo_core.sdk import Capabilities, __api_version__

MANIFEST_FILE = "dativo-plugin.yaml"

MANIFEST_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["name", "version", "api_version", "entry_point"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_.-]*$"},
        "version": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "api_version": {"type": "string", "minLength": 1},
        "entry_point": {"type": "string", "pattern": "^[^:]+:[A-Za-z_][A-Za-z0-9_.]*$"},
        "capabilities": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "incremental": {"type": "boolean"},
                "discovery": {"type": "boolean"},
                "batch_output": {"type": "boolean"},
            },
        },
        "secrets": {
            "type": "array",
            "items": {"type": "string", "pattern": "^[A-Z_][A-Z0-9_]*$"},
        },
        "dependencies": {"type": "array", "items": {"type": "string"}},
        "example_config": {"type": "object"},
    },
}


class ManifestError(DocumentError):
    """A manifest that is unreadable or invalid, located by file and path inside it."""


@dataclass(frozen=True)
class Manifest:
    name: str
    version: str
    api_version: str
    entry_point: str
    source: str
    base_dir: Path | None = None
    description: str = ""
    capabilities: Capabilities = field(default_factory=Capabilities)
    dependencies: tuple[str, ...] = ()
    example_config: dict[str, Any] | None = None

    @property
    def reader_reference(self) -> str:
        """A reference `load_reader_class` imports from any working directory."""
        if self.base_dir is not None and is_file_reference(self.entry_point):
            return absolute_reference(self.entry_point, self.base_dir)
        return self.entry_point

    def api_problem(self) -> str | None:
        """Why this plugin cannot run on this Dativo's reader API, or None if it can."""
        if Version(__api_version__) in SpecifierSet(self.api_version):
            return None
        return (
            f"plugin {self.name!r} {self.version} needs reader API {self.api_version}, "
            f"but this Dativo provides {__api_version__}; install a plugin release built "
            f"for API {__api_version__.split('.')[0]}.x"
        )


def manifest_from_dict(data: Any, source: str, base_dir: Path | None) -> Manifest:
    try:
        validate_document(data, MANIFEST_SCHEMA, source)
    except DocumentError as exc:
        raise ManifestError(exc.source, exc.problem, exc.path) from None
    try:
        SpecifierSet(data["api_version"])
    except InvalidSpecifier:
        raise ManifestError(
            source,
            f"{data['api_version']!r} is not a version range like '>=1.0,<2'",
            "$.api_version",
        ) from None
    caps = data.get("capabilities", {})
    return Manifest(
        name=data["name"],
        version=data["version"],
        api_version=data["api_version"],
        entry_point=data["entry_point"],
        source=source,
        base_dir=base_dir,
        description=data.get("description", ""),
        capabilities=Capabilities(
            incremental=caps.get("incremental", False),
            discovery=caps.get("discovery", True),
            batch_output=caps.get("batch_output", False),
            secrets=tuple(data.get("secrets", ())),
        ),
        dependencies=tuple(data.get("dependencies", ())),
        example_config=data.get("example_config"),
    )


def load_manifest(path: Path) -> Manifest:
    try:
        data = load_document(path)
    except DocumentError as exc:
        raise ManifestError(exc.source, exc.problem, exc.path) from None
    return manifest_from_dict(data, str(path), path.parent.resolve())
