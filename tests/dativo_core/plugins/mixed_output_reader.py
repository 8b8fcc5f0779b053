"""A reader yielding every kind of item (dicts, an Arrow batch, JsonLines, RecordLines,
bookmarks), run by the execution tests as `this_file.py:Mixed`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pyarrow as pa

from dativo_core.sdk import (
    Bookmark,
    Capabilities,
    JsonLines,
    Reader,
    ReadItem,
    RecordLines,
    Stream,
)

SCHEMA = {
    "type": "object",
    "properties": {"n": {"type": "integer"}, "text": {"type": ["string", "null"]}},
}


class Mixed(Reader):
    capabilities = Capabilities(incremental=True, batch_output=True)

    @classmethod
    def spec(cls) -> dict[str, Any]:
        return {"type": "object", "properties": {}}

    def discover(self) -> list[Stream]:
        return [Stream("mixed", SCHEMA, ("n",), "n")]

    def read(self, stream: Stream, state: dict[str, Any]) -> Iterator[ReadItem]:
        yield {"n": 1, "text": "a\nb"}
        yield {"n": 2, "text": None}
        yield Bookmark({"replication_key_value": 2})
        yield pa.record_batch({"n": [3, 4, 5], "text": ["ü", '"q"', None]})
        yield Bookmark({"replication_key_value": 5})
        lines = [orjson.dumps({"n": n, "text": f"line {n}"}) + b"\n" for n in (6, 7, 8)]
        yield JsonLines(b"".join(lines), 3)
        yield Bookmark({"replication_key_value": 8})
        # RecordLines hold exactly the selected properties, which the stream's schema lists.
        selected = list(stream.schema["properties"])
        envelopes = [
            {"type": "RECORD", "stream": stream.name, "record": {"n": n, "text": f"rl {n}"}}
            for n in (9, 10)
        ]
        for envelope in envelopes:
            envelope["record"] = {k: envelope["record"][k] for k in selected}
        yield RecordLines(b"".join(orjson.dumps(e) + b"\n" for e in envelopes), 2)
        yield Bookmark({"replication_key_value": 10})
