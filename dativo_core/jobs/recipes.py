"""The connector catalog: one YAML recipe per connector, found in the catalog folders."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from dativo_core.documents import DocumentError, load_document, validate_document

CATALOG_PATH_ENV = "DATIVO_CATALOG_PATH"
_REPO_CATALOGS = Path(__file__).resolve().parents[2] / "catalogs"


def _recipe_schema() -> dict[str, Any]:
    text = resources.files("dativo_core.jobs").joinpath("schemas/recipe.schema.json").read_text()
    return json.loads(text)


@dataclass(frozen=True)
class Recipe:
    """How to install and run one connector, and what its config looks like."""

    name: str
    kind: str
    engine: str
    install: dict[str, Any]
    source_file: Path
    description: str = ""
    version: str | None = None
    capabilities: list[str] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)
    defaults: dict[str, Any] = field(default_factory=dict)
    streams: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def executable(self) -> str | None:
        return self.install.get("executable")

    @classmethod
    def load(cls, path: Path) -> Recipe:
        data = load_document(path)
        validate_document(data, _recipe_schema(), str(path))
        if data["name"] != path.stem:
            raise DocumentError(str(path), f"recipe name {data['name']!r} must match the file name", "$.name")
        return cls(source_file=path, **data)


def catalog_dirs() -> list[Path]:
    """Folders searched in order: DATIVO_CATALOG_PATH entries, then the shipped catalogs/."""
    dirs = [Path(p) for p in os.environ.get(CATALOG_PATH_ENV, "").split(os.pathsep) if p]
    if _REPO_CATALOGS.is_dir():
        dirs.append(_REPO_CATALOGS)
    return dirs


def _recipe_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.suffix in {".yaml", ".yml"} and p.is_file())


def list_recipes() -> list[Recipe]:
    """Every recipe; an earlier folder's recipe hides a later one of the same name."""
    found: dict[str, Recipe] = {}
    for directory in catalog_dirs():
        for path in _recipe_files(directory):
            found.setdefault(path.stem, Recipe.load(path))
    return sorted(found.values(), key=lambda r: r.name)


def find_recipe(name: str) -> Recipe:
    for directory in catalog_dirs():
        for path in _recipe_files(directory):
            if path.stem == name:
                return Recipe.load(path)
    known = ", ".join(r.name for r in list_recipes()) or "none"
    raise LookupError(
        f"no connector recipe named {name!r} in {', '.join(map(str, catalog_dirs()))}; known: {known}"
    )
