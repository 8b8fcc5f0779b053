"""The abstract Reader and the small values it exchanges with the tap that runs it."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Union

if TYPE_CHECKING:
    import pyarrow


class ReaderError(Exception):
    """A failure the reader explains to its user (bad config, source unreachable, ...)."""


@dataclass(frozen=True)
class Capabilities:
    """What a reader can do and what it needs; the tap and `dativo plugins check` rely on it.

    `incremental`: streams may have a replication key and `read` yields Bookmarks.
    `discovery`: `discover()` inspects the source, rather than returning streams fixed in code.
    `batch_output`: `read` may yield pyarrow RecordBatches, JsonLines or RecordLines.
    `secrets` names the environment variables the reader reads its secrets from; in the sandbox
    they are the only variables (with a few harmless ones like PATH) it can see.
    """

    incremental: bool = False
    discovery: bool = True
    batch_output: bool = False
    secrets: tuple[str, ...] = ()


@dataclass(frozen=True)
class Stream:
    """One stream a reader offers: its name, the JSON Schema of its records and its keys."""

    name: str
    schema: dict[str, Any]
    key_properties: tuple[str, ...] = ()
    replication_key: str | None = None


@dataclass(frozen=True)
class Bookmark:
    """Where to resume a stream: every record yielded before it is covered by `value`.

    The tap emits a Singer STATE holding `value` as this stream's bookmark once those records
    are written, and hands the last one back to `read` on the next run.
    """

    value: dict[str, Any]


@dataclass(frozen=True)
class JsonLines:
    """Records already serialized: one compact JSON object per line, each line ending in a
    newline, `count` lines in all. The tap wraps them in RECORD envelopes without parsing
    them, so a native reader can hand over its own JSON encoding at no Python cost."""

    data: bytes
    count: int


@dataclass(frozen=True)
class RecordLines:
    """Complete Singer RECORD lines of the stream being read, `count` of them, each ending in
    a newline, holding exactly the properties of the `stream.schema` that `read` was given
    (the catalog's selection). The tap writes them as they are: the fastest path, for native
    readers that encode whole batches (see docs/rust-readers.md). `data` may be a memoryview
    of the reader's own buffer that stays valid until `read` is resumed: the tap writes it
    out before asking for the next item, so nothing is copied."""

    data: bytes | memoryview
    count: int


ReadItem = Union[dict[str, Any], "pyarrow.RecordBatch", JsonLines, RecordLines, Bookmark]
"""What `Reader.read` yields."""


class Reader(ABC):
    """A source of streams. Subclass it, implement `spec`, `discover` and `read`.

    The tap creates one instance per run with the user's config, calls `setup()`, then
    `check()` or `discover()` or `read()` for each selected stream, and `teardown()` at the end
    even when reading failed.
    """

    capabilities: ClassVar[Capabilities] = Capabilities()

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config: dict[str, Any] = dict(config)

    @classmethod
    @abstractmethod
    def spec(cls) -> dict[str, Any]:
        """The JSON Schema (an object schema) that a valid config satisfies."""

    def setup(self) -> None:
        """Open connections or files; called once before any other call but `spec`."""

    def teardown(self) -> None:
        """Release what `setup` took; called once, also after a failure."""

    def check(self) -> None:
        """Raise ReaderError saying what is wrong if the source cannot be read with this config.

        The default tries `discover()`; override it with a cheaper probe where one exists.
        """
        self.discover()

    @abstractmethod
    def discover(self) -> list[Stream]:
        """The streams this source offers, each with a JSON Schema of its records."""

    @abstractmethod
    def read(self, stream: Stream, state: dict[str, Any]) -> Iterator[ReadItem]:
        """Yield the stream's records (dicts; or, when `batch_output`, pyarrow RecordBatches,
        JsonLines or RecordLines), and a Bookmark after the records it covers.

        `stream.schema` holds the properties the catalog selected (the tap drops any other
        key of dicts, batches and JsonLines; RecordLines must hold these only). `state` is the
        value of this stream's last Bookmark from a previous run, or {}.
        """

    def secret(self, name: str) -> str:
        """A declared secret from the environment, or a ReaderError saying how to provide it."""
        if name not in self.capabilities.secrets:
            raise ReaderError(
                f"secret {name!r} is not declared; add it to the reader's "
                "Capabilities(secrets=...) and to its manifest"
            )
        value = os.environ.get(name)
        if value is None:
            raise ReaderError(
                f"secret {name!r} is not set; export it in the tap's environment"
            )
        return value
