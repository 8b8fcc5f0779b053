"""The official ODCS JSON Schemas, chosen by a contract's `apiVersion`.

The schema files are not copied into Dativo: they come from the `datacontract-cli` package,
which ships Bitol's published schemas for v3.0.2, v3.1.0 and v3.2.0 side by side. Every v3.0.x
contract is checked against the v3.0.2 schema (its `apiVersion` enum lists v3.0.0 to v3.0.2).
"""

from __future__ import annotations

import functools
import importlib.util
import json
from pathlib import Path
from typing import Any

import jsonschema

from dativo_core.documents import DocumentError, json_path

SCHEMA_FILE_BY_API_VERSION = {
    "v3.0.0": "odcs-3.0.2.schema.json",
    "v3.0.1": "odcs-3.0.2.schema.json",
    "v3.0.2": "odcs-3.0.2.schema.json",
    "v3.1.0": "odcs-3.1.0.schema.json",
    "v3.2.0": "odcs-3.2.0.schema.json",
}
SCHEMA_PACKAGE = "datacontract"


def _schema_dir() -> Path:
    # find_spec locates the package without importing it (its import pulls in much more).
    spec = importlib.util.find_spec(SCHEMA_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise DocumentError(
            "ODCS schemas",
            "the official ODCS JSON Schemas are missing: install the 'datacontract-cli' package",
        )
    return Path(next(iter(spec.submodule_search_locations))) / "schemas"


@functools.cache
def official_schema(api_version: str) -> dict[str, Any]:
    """Bitol's JSON Schema for one ODCS version."""
    name = SCHEMA_FILE_BY_API_VERSION[api_version]
    return json.loads((_schema_dir() / name).read_text(encoding="utf-8"))


def _most_specific(errors: list[jsonschema.ValidationError]) -> jsonschema.ValidationError:
    """The deepest error, descending into if/then and anyOf branches to where the data broke."""
    best = max(errors, key=lambda e: (len(e.absolute_path), -len(e.context or [])))
    while best.context:
        best = max(best.context, key=lambda e: len(e.absolute_path))
    return best


def check_against_official_schema(document: Any, source: str) -> str:
    """Validate a parsed contract and return its apiVersion, or raise naming the path."""
    if not isinstance(document, dict):
        raise DocumentError(source, "an ODCS contract must be a mapping at the top level")
    api_version = document.get("apiVersion")
    if api_version not in SCHEMA_FILE_BY_API_VERSION:
        supported = ", ".join(SCHEMA_FILE_BY_API_VERSION)
        raise DocumentError(
            source,
            f"apiVersion {api_version!r} is not a supported ODCS version (use one of {supported})",
            "$.apiVersion",
        )
    schema = official_schema(api_version)
    validator_class = jsonschema.validators.validator_for(schema)
    errors = list(validator_class(schema).iter_errors(document))
    if errors:
        error = _most_specific(errors)
        raise DocumentError(
            source, f"{error.message} (ODCS {api_version})", json_path(error.absolute_path)
        )
    return str(api_version)
