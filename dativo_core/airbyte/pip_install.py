"""Airbyte connectors from pip, each in a virtual environment of its own under Airbyte's cache.

Airbyte's CDK pins versions that clash with singer-sdk, so a connector never shares Dativo's
environment; the install itself is `dativo_core.pip_install`, shared with third-party Singer taps.
"""

from __future__ import annotations

from pathlib import Path

from dativo_core import pip_install
from dativo_core.airbyte.errors import ConnectorError

CACHE_DIR_ENV = "DATIVO_AIRBYTE_CACHE_DIR"


def default_cache_dir() -> Path:
    """$DATIVO_AIRBYTE_CACHE_DIR, else $XDG_CACHE_HOME/dativo/airbyte, else ~/.cache/..."""
    return pip_install.cache_dir(CACHE_DIR_ENV, "airbyte")


def ensure_installed(
    requirement: str,
    executable: str,
    cache_dir: str | Path | None = None,
    python: str | None = None,
) -> Path:
    """The connector's executable inside its own environment, installing it the first time."""
    try:
        return pip_install.ensure_installed(
            requirement, executable, cache_dir or default_cache_dir(), python
        )
    except pip_install.InstallError as exc:
        raise ConnectorError(str(exc), failure_type="system_error", connector=requirement) from None
