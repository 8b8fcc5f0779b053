"""A pip-packaged plugin installed on first use into a virtual environment of its own.

Third-party taps, targets and Airbyte connectors pin versions that clash with Dativo's own
(singer-sdk, the Airbyte CDK), so each requirement gets one environment under a cache folder,
created the first time it is needed and reused afterwards.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

_DONE_MARKER = ".dativo-installed"


class InstallError(RuntimeError):
    """Installing a plugin failed; the message holds pip's last output and what to check."""


def cache_dir(variable: str, folder: str) -> Path:
    """$variable, else $XDG_CACHE_HOME/dativo/<folder>, else ~/.cache/dativo/<folder>."""
    if os.environ.get(variable):
        return Path(os.environ[variable]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "dativo" / folder


def environment_name(requirement: str) -> str:
    """`airbyte-source-faker==7.2.1` -> `airbyte-source-faker-7.2.1`: one folder per pin."""
    return re.sub(r"[^A-Za-z0-9._]+", "-", requirement.strip()).strip("-")


def _uv() -> str | None:
    """uv (a dependency of Dativo) installs an order of magnitude faster than pip."""
    beside_python = Path(sys.executable).with_name("uv")
    return str(beside_python) if beside_python.exists() else shutil.which("uv")


def _install_commands(env_dir: Path, requirement: str, python: str) -> list[tuple[list[str], str]]:
    uv = _uv()
    env_python = str(env_dir / "bin" / "python")
    if uv:
        return [
            ([uv, "venv", "--quiet", "--python", python, str(env_dir)], "creating a venv"),
            ([uv, "pip", "install", "--quiet", "--python", env_python, requirement], "uv pip install"),
        ]
    return [
        ([python, "-m", "venv", str(env_dir)], "creating a venv"),
        ([env_python, "-m", "pip", "install", "--quiet", requirement], "pip install"),
    ]


def _run_step(command: list[str], what: str, requirement: str) -> None:
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    if result.returncode != 0:
        output = result.stdout.decode(errors="replace")[-3000:]
        raise InstallError(f"{what} for {requirement!r} failed (exit {result.returncode}):\n{output}")


def ensure_installed(
    requirement: str, executable: str, root: str | Path, python: str | None = None
) -> Path:
    """The plugin's executable inside its own environment, installing it the first time.

    A file lock makes concurrent first uses wait for one install; an install that was cut off
    leaves no marker and is redone from scratch.
    """
    root = Path(root)
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
        for command, what in _install_commands(env_dir, requirement, python or sys.executable):
            _run_step(command, what, requirement)
        if not program.exists():
            raise InstallError(
                f"installing {requirement!r} gave no executable {executable!r} in {program.parent}; "
                "check the recipe's install.executable"
            )
        marker.write_text(requirement + "\n")
    return program
