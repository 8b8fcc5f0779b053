"""meltano.yml declares each plugin's settings as the plugin itself describes them (`--about`)."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
import yaml
from interop_tools import REPO, dativo_bin

from dativo_core.contracts.cli import CONFIG_KEYS

PROJECT = yaml.safe_load((REPO / "meltano.yml").read_text())
DATIVO_PLUGINS = [
    plugin
    for kind in ("extractors", "loaders", "mappers")
    for plugin in PROJECT["plugins"][kind]
    if plugin.get("pip_url") == "-e ${MELTANO_PROJECT_ROOT}"
]
KINDS = {"string": "string", "integer": "integer", "number": "decimal", "boolean": "boolean",
         "object": "object", "array": "array"}


def about(plugin: dict) -> dict:
    """`<executable> --about --format json`, with the plugin's meltano.yml `env`."""
    env = {**os.environ, **{k: str(v) for k, v in plugin.get("env", {}).items()}}
    result = subprocess.run(
        [dativo_bin(plugin["executable"]), "--about", "--format", "json"],
        cwd=REPO, env=env, capture_output=True, text=True, check=True,
    )
    return json.loads(result.stdout)


def json_type(schema: dict) -> str:
    types = schema.get("type") or next(
        (option["type"] for option in schema.get("anyOf", []) if "type" in option), "string"
    )
    return next(t for t in ([types] if isinstance(types, str) else types) if t != "null")


def test_every_dativo_console_script_is_declared():
    executables = {plugin["executable"] for plugin in DATIVO_PLUGINS}
    assert executables == {"tap-csv", "tap-airbyte", "tap-reader", "target-iceberg", "dativo-validate"}


@pytest.mark.parametrize(
    "plugin", [p for p in DATIVO_PLUGINS if p["executable"] != "dativo-validate"],
    ids=lambda plugin: plugin["name"],
)
def test_settings_match_the_plugins_about(plugin):
    described = about(plugin)
    properties = described["settings"]["properties"]
    declared = {setting["name"]: setting for setting in plugin["settings"]}
    assert list(declared) == list(properties)
    for name, schema in properties.items():
        setting = declared[name]
        assert setting.get("description"), f"{name}: no description"
        if "enum" in schema:
            assert setting["kind"] == "options", name
            assert [option["value"] for option in setting["options"]] == schema["enum"], name
        else:
            assert setting["kind"] == KINDS[json_type(schema)], name
        if "default" in schema and schema["default"] is not None:
            assert setting.get("value") == schema["default"], f"{name}: default"
        if schema.get("secret") or schema.get("writeOnly"):
            assert setting.get("sensitive") is True, f"{name}: secret, not marked sensitive"
    if plugin["namespace"] != "dativo_target_iceberg":  # targets have no tap capabilities
        assert set(plugin["capabilities"]) <= set(described["capabilities"])


def test_validate_mapper_settings_are_the_keys_its_config_file_takes():
    mapper = next(p for p in DATIVO_PLUGINS if p["executable"] == "dativo-validate")
    assert [setting["name"] for setting in mapper["settings"]] == list(CONFIG_KEYS)
