"""The interface every state store implements (local files, SQL databases, object storage)."""

from __future__ import annotations

import abc
import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from dativo_core.state.errors import StateError

_SAFE_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True, slots=True)
class StateKey:
    """State belongs to one pipeline of one tenant: `tenant/pipeline`."""

    tenant: str
    pipeline: str

    def __post_init__(self) -> None:
        for label, part in (("tenant", self.tenant), ("pipeline", self.pipeline)):
            if not _SAFE_PART.match(part):
                raise ValueError(
                    f"{label} {part!r} may only hold letters, digits, '.', '_' and '-' "
                    "and must start with a letter or digit"
                )

    def __str__(self) -> str:
        return f"{self.tenant}/{self.pipeline}"

    @classmethod
    def parse(cls, text: str, default_tenant: str = "default") -> StateKey:
        tenant, _, pipeline = text.rpartition("/")
        return cls(tenant or default_tenant, pipeline)


def decode_state(data: bytes | str, where: str, reset: str = "clear it") -> dict[str, Any]:
    """A stored state value, decoded; a StateError naming `where` it is stored and what to do
    (fix it, or `reset` it) when it is not a JSON object."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        problem = f"is not valid JSON ({exc})"
    else:
        if isinstance(value, dict):
            return value
        problem = f"holds a JSON {type(value).__name__}, but a Singer state is a JSON object"
    raise StateError(f"{where} {problem}; fix it, or {reset} to start the pipeline from the beginning")


class StateBackend(abc.ABC):
    """Reads and writes the Singer state value of a pipeline; writes are atomic."""

    @abc.abstractmethod
    def get(self, key: StateKey) -> dict[str, Any] | None:
        """The stored state value, or None when the pipeline has never committed state."""

    @abc.abstractmethod
    def set(self, key: StateKey, value: dict[str, Any]) -> None:
        """Replace the stored state; a reader sees the old value or the new, never a mix."""

    @abc.abstractmethod
    def clear(self, key: StateKey) -> None:
        """Forget the state, so the next run starts from the beginning."""

    @abc.abstractmethod
    def keys(self) -> list[StateKey]:
        """Every pipeline that has state stored."""

    @contextlib.contextmanager
    def lock(self, key: StateKey) -> Iterator[None]:
        """Held for a whole run so two runs of one pipeline cannot interleave.

        Backends without a locking primitive yield at once; see each backend's docs.
        """
        yield
