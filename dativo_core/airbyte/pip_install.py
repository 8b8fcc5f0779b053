"""A pip-packaged connector installed on first use into a virtual environment of its own.

Airbyte's CDK pins versions that clash with singer-sdk, so a connector never shares Dativo's
environment. Each requirement gets one environment under the cache folder, reused afterwards.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from dativo_core.airbyte.errors import ConnectorError

CACHE_DIR_ENV = "DATIVO_AIRBYTE_CACHE_DIR"
_DONE_MARKER = ".dativo-installed"


def default_cache_dir() -> Path:
    """$DATIVO_AIRBYTE_CACHE_DIR, else $XDG_CACHE_HOME/dativo/airbyte, else ~/.cache/..."""
    if os.environ.get(CACHE_DIR_ENV):
        return Path(os.environ[CACHE_DIR_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "dativo" / "airbyte"


def environment_name(requirement: str) -> str:
    """`airbyte-source-faker==7.2.1` -> `airbyte-source-faker-7.2.1`: one folder per pin."""
    return re.sub(r"[^A-Za-z0-9._]+", "-", requirement.strip()).strip("-")


def _run_step(command: list[str], what: str, requirement: str) -> None:
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        output = result.stdout.decode(errors="replace")[-3000:]
        raise ConnectorError(
            f"{what} for {requirement!r} failed (exit {result.returncode}):\n{output}",
            failure_type="system_error",
            connector=requirement,
        )


def ensure_installed(
    requirement: str,
    executable: str,
    cache_dir: str | Path | None = None,
    python: str | None = None,
) -> Path:
    """The connector's executable inside its own environment, installing it the first time.

    A file lock makes concurrent first uses wait for one install; an install that was cut off
    leaves no marker and is redone from scratch.
    """
    root = Path(cache_dir) if cache_dir else default_cache_dir()
    env_dir = root / environment_name(requirement)
    program = env_dir / "bin" / executable
    marker = env_dir / _DONE_MARKER
    if marker.exists() and program.exists():
        return program
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f"{env_dir.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists() and program.exists():
            return program
        shutil.rmtree(env_dir, ignore_errors=True)
        _run_step(
            [python or sys.executable, "-m", "venv", str(env_dir)], "creating a venv", requirement
        )
        _run_step(
            [str(env_dir / "bin" / "python"), "-m", "pip", "install", "--quiet", requirement],
            "pip install",
            requirement,
        )
        if not program.exists():
            raise ConnectorError(
                f"installing {requirement!r} gave no executable {executable!r} in {program.parent}; "
                "check the recipe's install.executable",
                failure_type="config_error",
                connector=requirement,
            )
        marker.write_text(requirement + "\n")
    return program
