"""Writes secret files the way an operator would, for the secrets tests."""

from __future__ import annotations

from pathlib import Path


def write_secret(root: Path, tenant: str, name: str, value: str, mode: int = 0o600) -> Path:
    path = root / tenant / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(value)
    path.chmod(mode)
    return path
