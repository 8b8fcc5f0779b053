"""Connector config precedence: recipe defaults < job file < environment variables.

An environment variable named after the connector and a top-level setting, Meltano style
(`TAP_CSV_FILES` for setting `files` of `tap-csv`), overrides both; its value is read as JSON
when it parses as JSON (lists, numbers, booleans) and as a plain string otherwise.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from typing import Any


def env_prefix(connector: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", connector).upper() + "_"


def _parse_env_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key; any other value in `override` replaces the base's."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def environment_overrides(
    connector: str, settings: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Values for the connector's known top-level settings found in the environment."""
    environ = os.environ if environ is None else environ
    prefix = env_prefix(connector)
    names = set(settings.get("properties", {}))
    out = {}
    for name in names:
        variable = prefix + re.sub(r"[^A-Za-z0-9]", "_", name).upper()
        if variable in environ:
            out[name] = _parse_env_value(environ[variable])
    return out


def effective_config(
    connector: str,
    defaults: Mapping[str, Any],
    job_config: Mapping[str, Any],
    settings: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    merged = deep_merge(defaults, job_config)
    return deep_merge(merged, environment_overrides(connector, settings, environ))
