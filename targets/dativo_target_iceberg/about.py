"""What `--about` shows, shaped like singer-sdk's so Meltano and catalog tools can read it."""

from __future__ import annotations

from typing import Any

from dativo_target_iceberg import __version__
from dativo_target_iceberg.config import SETTINGS_SCHEMA

NAME = "target-iceberg"
DESCRIPTION = "Singer target writing Apache Iceberg tables through pyiceberg, columnar on the hot path."

# Named as singer-sdk names target capabilities.
CAPABILITIES = ["about", "activate-version", "batch", "soft-delete", "hard-delete"]


def about_info() -> dict[str, Any]:
    return {
        "name": NAME,
        "description": DESCRIPTION,
        "version": __version__,
        "supported_python_versions": ["3.11", "3.12", "3.13"],
        "capabilities": CAPABILITIES,
        "settings": SETTINGS_SCHEMA,
    }
