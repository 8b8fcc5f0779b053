"""The shared `--about --format markdown` renderer."""

from __future__ import annotations

import json

from dativo_core.about import about_markdown, render_about

ABOUT = {
    "name": "tap-example",
    "description": "Example rows.",
    "version": "1.2.3",
    "capabilities": ["about", "discover"],
    "settings": {
        "type": "object",
        "required": ["path"],
        "properties": {
            "path": {"type": "string", "description": "A | separated list."},
            "token": {"type": ["string", "null"], "secret": True, "writeOnly": True},
            "limits": {
                "type": "object",
                "properties": {"rows": {"type": "integer", "default": 10, "description": "Most rows."}},
            },
        },
    },
}


def test_markdown_has_a_row_per_setting_and_nested_setting():
    lines = about_markdown(ABOUT).splitlines()
    assert lines[:5] == ["# `tap-example`", "", "Example rows.", "", "Version: 1.2.3"]
    assert "* `discover`" in lines
    table = lines[lines.index("| Setting | Type | Default | Description |") + 2:]
    assert table == [
        "| path | string |  | Required. A \\| separated list. |",
        "| token | string |  | Secret. |",
        "| limits | object |  |  |",
        "| limits.rows | integer | 10 | Most rows. |",
    ]


def test_json_is_the_about_dict():
    assert json.loads(render_about(ABOUT, "json")) == ABOUT
