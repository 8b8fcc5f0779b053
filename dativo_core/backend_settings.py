"""The `{backend: KIND, option: value, ...}` sections of a job file (`secrets:`, `state:`),
checked the same way for every kind of store."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def backend_options(
    settings: Mapping[str, Any] | None,
    default: str,
    options: Mapping[str, set[str]],
    section: str,
    error: type[Exception],
) -> tuple[str, dict[str, Any]]:
    """The backend kind the settings name (`default` when none) and its options.

    `options` lists the options each kind accepts; an unknown kind or option raises `error`
    with a message naming the `section` (e.g. "state backend") and the choices.
    """
    chosen = dict(settings or {})
    kind = chosen.pop("backend", default)
    if kind not in options:
        raise error(f"{section} {kind!r} is unknown; choose one of {', '.join(options)}")
    unknown = set(chosen) - options[kind]
    if unknown:
        raise error(
            f"{section} {kind!r} has no option {', '.join(sorted(unknown))}; "
            f"its options are {', '.join(sorted(options[kind])) or 'none'}"
        )
    return kind, chosen


def path_setting(value: str | os.PathLike[str], base_dir: str | os.PathLike[str]) -> Path:
    """A path from a settings file: `~` expanded, a relative one anchored at `base_dir`."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else Path(base_dir) / path
