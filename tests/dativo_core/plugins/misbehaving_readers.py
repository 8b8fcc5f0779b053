"""Readers that misbehave on purpose, run by the sandbox tests as `this_file.py:Class`.

Each yields one record and a bookmark first, so tests can see that what was emitted before
the failure stays and that no STATE follows it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

from dativo_core.sdk import Bookmark, Capabilities, Reader, ReadItem, Stream

SCHEMA = {
    "type": "object",
    "properties": {"n": {"type": "integer"}, "seen": {"type": ["string", "null"]}},
}


class _OneStream(Reader):
    capabilities = Capabilities(incremental=True)

    @classmethod
    def spec(cls) -> dict[str, Any]:
        return {"type": "object", "properties": {}}

    def discover(self) -> list[Stream]:
        return [Stream("items", SCHEMA, ("n",), "n")]

    def read(self, stream: Stream, state: dict[str, Any]) -> Iterator[ReadItem]:
        yield {"n": 1, "seen": None}
        yield Bookmark({"replication_key_value": 1})
        yield from self.misbehave()

    def misbehave(self) -> Iterator[ReadItem]:
        return iter(())


class Allocates(_OneStream):
    def misbehave(self) -> Iterator[ReadItem]:
        hoard = []
        while True:
            hoard.append(bytearray(50 * 1024 * 1024))
        yield {}


class Spins(_OneStream):
    def misbehave(self) -> Iterator[ReadItem]:
        n = 0
        while True:
            n += 1
        yield {}


class Crashes(_OneStream):
    def misbehave(self) -> Iterator[ReadItem]:
        yield {"n": 2, "seen": None}
        os.abort()


class Raises(_OneStream):
    def misbehave(self) -> Iterator[ReadItem]:
        raise RuntimeError("the source said no")


class OpensFiles(_OneStream):
    def misbehave(self) -> Iterator[ReadItem]:
        handles = [open(os.devnull) for _ in range(10_000)]  # noqa: SIM115  # kept open on purpose
        yield {"n": len(handles), "seen": None}


class Snoops(_OneStream):
    """Reports what it can see of the environment and the filesystem around it."""

    capabilities = Capabilities(incremental=True, secrets=("DECLARED_TOKEN",))

    def read(self, stream: Stream, state: dict[str, Any]) -> Iterator[ReadItem]:
        print("a reader printing to stdout must not corrupt the Singer output")
        yield {"n": 1, "seen": os.environ.get("UNDECLARED_TOKEN")}
        yield {"n": 2, "seen": os.environ.get("DECLARED_TOKEN")}
        yield {"n": 3, "seen": os.getcwd()}
        yield {"n": 4, "seen": os.environ.get("HOME")}


class AsksUndeclared(_OneStream):
    def misbehave(self) -> Iterator[ReadItem]:
        yield {"n": 2, "seen": self.secret("UNDECLARED_TOKEN")}


class Sleeps(_OneStream):
    def misbehave(self) -> Iterator[ReadItem]:
        time.sleep(3600)
        yield {}
