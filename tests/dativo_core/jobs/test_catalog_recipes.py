"""The shipped connector catalog: every recipe is valid, and our own plugins' recipes carry
exactly the settings the plugins report, so the two cannot drift apart."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dativo_core.jobs.recipes import find_recipe, list_recipes

REPO = Path(__file__).resolve().parents[3]
SHIPPED = {"tap-csv", "target-iceberg", "tap-reader", "target-csv", "tap-postgres", "target-postgres", "source-faker"}


def _about(*command: str) -> dict:
    result = subprocess.run([*command, "--about", "--format", "json"], capture_output=True, check=True)
    return json.loads(result.stdout)


def test_every_shipped_recipe_loads_and_says_how_to_install():
    recipes = {r.name: r for r in list_recipes() if REPO / "catalogs" in r.source_file.parents}
    assert set(recipes) == SHIPPED
    for recipe in recipes.values():
        assert recipe.version and recipe.capabilities and recipe.settings.get("type") == "object"
        if recipe.install["source"] == "pip":
            assert "==" in recipe.install["package"], f"{recipe.name}: pin the version it was written for"
    assert recipes["tap-postgres"].secrets[:2] == ["password", "sqlalchemy_url"]
    assert (recipes["source-faker"].engine, recipes["tap-reader"].engine) == ("airbyte", "reader")


@pytest.mark.parametrize(
    ("name", "command"),
    [
        ("tap-csv", [sys.executable, "-m", "dativo_tap_csv.tap"]),
        ("target-iceberg", [sys.executable, "-m", "dativo_target_iceberg.cli"]),
    ],
)
def test_builtin_recipe_settings_are_the_plugins_own(name, command):
    about = _about(*command)
    recipe = find_recipe(name)
    assert recipe.settings == about["settings"]
    assert recipe.version == about["version"]
    assert set(about["capabilities"]) <= set(recipe.capabilities)


def test_tap_reader_settings_are_the_readers_spec():
    """tap-reader adds no settings of its own: its recipe stays open and the reader's spec rules."""
    about = _about(sys.executable, "-m", "dativo_tap_reader.cli", "--reader", "sqlite-tables",
                   "--plugin-dir", str(REPO / "examples" / "readers"))
    sys.path.insert(0, str(REPO / "examples" / "readers" / "sqlite_tables"))
    try:
        from sqlite_reader import SQLiteReader
    finally:
        sys.path.pop(0)
    assert about["settings"] == SQLiteReader.spec()
    assert "properties" not in find_recipe("tap-reader").settings
