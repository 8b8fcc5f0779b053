"""One reader job (check, discover or read) and where its output goes.

The same `run_job` runs inside the sandbox child and, with `--no-sandbox`, in the tap itself;
only the Sink differs (frames on a pipe and records on the tap's stdout, or Singer messages on
stdout).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal, Protocol

from dativo_core.plugins.encode import (
    check_record_lines,
    encode_batch,
    encode_records,
    wrap_json_lines,
)
from dativo_core.plugins.loading import load_reader_class
from dativo_core.sdk import Bookmark, JsonLines, ReaderError, RecordLines, Stream

Action = Literal["check", "discover", "read"]
RECORDS_PER_CHUNK = 10_000


class Sink(Protocol):
    """Where a job's output goes, in order: streams found, or per stream its start, chunks of
    encoded RECORD lines, and bookmarks each covering the records before it.

    `data` may be a view of a reader's buffer, valid during the call only. A sink that writes
    Singer messages flushes them in `start_stream` and `bookmark`: a sandboxed reader may write
    its records to the same output right after (see sandbox.Sandbox)."""

    def discovered(self, streams: list[Stream]) -> None: ...

    def start_stream(self, stream: str) -> None: ...

    def records(self, data: bytes | memoryview, count: int) -> None: ...

    def bookmark(self, stream: str, value: dict[str, Any]) -> None: ...


@dataclass
class StreamRequest:
    """A stream to read: its schema from the catalog, the selected properties, its bookmark."""

    stream: Stream
    properties: list[str] | None = None
    state: dict[str, Any] = field(default_factory=dict)


@dataclass
class ReaderJob:
    action: Action
    reader: str
    config: dict[str, Any]
    streams: list[StreamRequest] = field(default_factory=list)
    record_limit: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReaderJob:
        streams = [
            StreamRequest(
                stream=_stream_from_dict(s["stream"]),
                properties=s.get("properties"),
                state=s.get("state") or {},
            )
            for s in data.get("streams", [])
        ]
        return cls(
            action=data["action"],
            reader=data["reader"],
            config=data["config"],
            streams=streams,
            record_limit=data.get("record_limit"),
        )


def _stream_from_dict(data: dict[str, Any]) -> Stream:
    return Stream(
        name=data["name"],
        schema=data["schema"],
        key_properties=tuple(data.get("key_properties") or ()),
        replication_key=data.get("replication_key"),
    )


def stream_to_dict(stream: Stream) -> dict[str, Any]:
    return asdict(stream)


def streams_from_dicts(items: list[dict[str, Any]]) -> list[Stream]:
    return [_stream_from_dict(s) for s in items]


def _size(item: Any) -> int:
    if isinstance(item, dict):
        return 1
    if isinstance(item, (JsonLines, RecordLines)):
        return item.count
    return int(item.num_rows)


def _head(item: Any, rows: int) -> Any:
    if isinstance(item, (JsonLines, RecordLines)):
        lines = bytes(item.data).split(b"\n", rows)[:rows]
        return type(item)(b"".join(line + b"\n" for line in lines), rows)
    return item.slice(0, rows)


def _limited(items: Iterator[Any], limit: int | None) -> Iterator[Any]:
    """Reader items until `limit` records have passed. An item cut to fit is the last one:
    a bookmark after it would cover records that were never written."""
    if limit is None:
        yield from items
        return
    left = limit
    for item in items:
        if isinstance(item, Bookmark):
            yield item
            continue
        if left <= 0:
            return
        size = _size(item)
        if size > left:
            yield _head(item, left)
            return
        left -= size
        yield item


def _selected_stream(request: StreamRequest) -> Stream:
    """The stream as `read` gets it: its schema holds the selected properties only, so a
    reader can skip the others (and must, for RecordLines)."""
    if request.properties is None:
        return request.stream
    schema = request.stream.schema
    properties = schema.get("properties", {})
    kept = {name: properties[name] for name in request.properties if name in properties}
    return replace(request.stream, schema={**schema, "properties": kept})


def _read_stream(
    reader: Any, request: StreamRequest, sink: Sink, limit: int | None
) -> None:
    name = request.stream.name
    pending: list[dict[str, Any]] = []

    def flush() -> None:
        if pending:
            sink.records(
                encode_records(name, pending, request.properties), len(pending)
            )
            pending.clear()

    sink.start_stream(name)
    items = reader.read(_selected_stream(request), dict(request.state))
    try:
        for item in _limited(items, limit):
            if isinstance(item, dict):
                pending.append(item)
                if len(pending) >= RECORDS_PER_CHUNK:
                    flush()
            elif isinstance(item, Bookmark):
                flush()
                sink.bookmark(name, item.value)
            elif isinstance(item, RecordLines):
                flush()
                check_record_lines(name, item.data, item.count)
                sink.records(item.data, item.count)
            elif isinstance(item, JsonLines):
                flush()
                data = wrap_json_lines(name, item.data, item.count, request.properties)
                sink.records(data, item.count)
            elif hasattr(item, "num_rows") and hasattr(item, "schema"):
                flush()
                sink.records(
                    encode_batch(name, item, request.properties), item.num_rows
                )
            else:
                raise ReaderError(
                    f"stream {name!r}: read() yielded a {type(item).__name__}; "
                    "expected a dict, a pyarrow.RecordBatch, JsonLines, RecordLines or a Bookmark"
                )
        flush()
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            close()


def run_job(job: ReaderJob, sink: Sink) -> None:
    """Load the reader, run the job's action against `sink`, and always tear the reader down."""
    reader_class = load_reader_class(job.reader)
    reader = reader_class(job.config)
    reader.setup()
    try:
        if job.action == "check":
            reader.check()
        elif job.action == "discover":
            sink.discovered(reader.discover())
        else:
            for request in job.streams:
                _read_stream(reader, request, sink, job.record_limit)
    finally:
        reader.teardown()
        sys.stdout.flush()
