"""`--about --format markdown` for every Dativo plugin: one renderer, so docs/plugins.md shows
each plugin the same way (as singer-sdk plugins show theirs: a settings table)."""

from __future__ import annotations

import json
from typing import Any

ABOUT_FORMATS = ("json", "markdown")


def _cell(text: str) -> str:
    """A table cell: no `|` or line break may end the row early."""
    return text.replace("|", "\\|").replace("\n", " ")


def _type(schema: dict[str, Any]) -> str:
    kind = schema.get("type", "")
    return "/".join(k for k in kind if k != "null") if isinstance(kind, list) else kind


def _rows(settings: dict[str, Any], prefix: str = "") -> list[str]:
    """One row per setting; an object's own properties follow it as `parent.child`."""
    required = set(settings.get("required", []))
    rows = []
    for name, spec in settings.get("properties", {}).items():
        default = _cell(json.dumps(spec["default"])) if "default" in spec else ""
        description = spec.get("description", "")
        if name in required:
            description = f"Required. {description}".strip()
        if spec.get("secret"):
            description = f"Secret. {description}".strip()
        rows.append(f"| {prefix}{name} | {_type(spec)} | {default} | {_cell(description)} |")
        rows += _rows(spec, f"{prefix}{name}.")
    return rows


def about_markdown(about: dict[str, Any]) -> str:
    """The `--about` dict (singer-sdk's shape) as Markdown: name, description, version,
    capabilities and a table of the settings."""
    lines = [f"# `{about['name']}`", "", about.get("description", ""), ""]
    lines += [f"Version: {about.get('version', 'not stated')}", "", "## Capabilities", ""]
    lines += [f"* `{capability}`" for capability in about.get("capabilities", [])]
    lines += ["", "## Settings", "", "| Setting | Type | Default | Description |", "|:--|:--|:--|:--|"]
    lines += _rows(about.get("settings", {}))
    return "\n".join(lines) + "\n"


def render_about(about: dict[str, Any], about_format: str) -> str:
    """`--about` output in one of ABOUT_FORMATS."""
    if about_format == "markdown":
        return about_markdown(about)
    return json.dumps(about, indent=2)
