"""Pure helpers for Singer state: bookmarks per stream, copied rather than mutated."""

from __future__ import annotations

import copy
from typing import Any


def get_bookmark(state: dict[str, Any], stream: str, key: str, default: Any = None) -> Any:
    return state.get("bookmarks", {}).get(stream, {}).get(key, default)


def set_bookmark(state: dict[str, Any], stream: str, key: str, value: Any) -> dict[str, Any]:
    """A new state with one bookmark changed; the given state is left as it was."""
    new = copy.deepcopy(state)
    new.setdefault("bookmarks", {}).setdefault(stream, {})[key] = value
    return new


def clear_bookmark(state: dict[str, Any], stream: str) -> dict[str, Any]:
    new = copy.deepcopy(state)
    new.get("bookmarks", {}).pop(stream, None)
    return new
