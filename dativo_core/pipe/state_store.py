"""Where a pipe keeps its state: a single file, or one key of any `StateBackend`."""

from __future__ import annotations

import contextlib
from contextlib import AbstractContextManager
from typing import Any, Protocol

from dativo_core.state.backend import StateBackend, StateKey
from dativo_core.state.local import LocalStateBackend


class PipeState(Protocol):
    """The state of one pipeline; `str()` names it in messages (a path or a key, never a secret)."""

    def read(self) -> dict[str, Any] | None: ...

    def write(self, value: dict[str, Any]) -> None: ...

    def clear(self) -> None: ...

    def lock(self) -> AbstractContextManager[int | None]:
        """Held for the run; yields a lock file descriptor for the children to inherit, if any."""
        ...


class KeyedState:
    """One pipeline's state inside a backend that holds many.

    With local files the lock is the state file's own, so its descriptor reaches the children.
    """

    def __init__(self, backend: StateBackend, key: StateKey) -> None:
        self.backend = backend
        self.key = key

    def __str__(self) -> str:
        return f"'{self.key}' in {self.backend}"

    def read(self) -> dict[str, Any] | None:
        return self.backend.get(self.key)

    def write(self, value: dict[str, Any]) -> None:
        self.backend.set(self.key, value)

    def clear(self) -> None:
        self.backend.clear(self.key)

    def lock(self) -> AbstractContextManager[int | None]:
        if isinstance(self.backend, LocalStateBackend):
            return self.backend.file(self.key).lock()
        return self.backend.lock(self.key)


class NoState:
    """A pipe run without stored state: the tap starts from the beginning, states are dropped."""

    def __str__(self) -> str:
        return "no state store"

    def read(self) -> dict[str, Any] | None:
        return None

    def write(self, value: dict[str, Any]) -> None:
        return None

    def clear(self) -> None:
        return None

    def lock(self) -> AbstractContextManager[int | None]:
        return contextlib.nullcontext()
