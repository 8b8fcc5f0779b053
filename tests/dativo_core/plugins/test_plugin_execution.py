"""Reader jobs: the same output in-process and through the sandbox pipe, selection, limits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from dativo_core.plugins.encode import EncodeError, check_record_lines
from dativo_core.plugins.execution import ReaderJob, StreamRequest, run_job
from dativo_core.plugins.frames import TruncatedFrame, read_frame, write_frame
from dativo_core.plugins.sandbox import Sandbox, SandboxLimits
from dativo_core.sdk import Stream

READER = f"{Path(__file__).with_name('mixed_output_reader.py')}:Mixed"
STREAM = Stream(
    "mixed",
    {
        "type": "object",
        "properties": {"n": {"type": "integer"}, "text": {"type": ["string", "null"]}},
    },
    ("n",),
    "n",
)


class CollectingSink:
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def discovered(self, streams: list[Stream]) -> None:
        self.events.append(("discovered", streams))

    def start_stream(self, stream: str) -> None:
        self.events.append(("start", stream))

    def records(self, data: bytes, count: int) -> None:
        lines = data.splitlines()
        assert len(lines) == count
        self.events.append(("records", [orjson.loads(line) for line in lines]))

    def bookmark(self, stream: str, value: dict[str, Any]) -> None:
        self.events.append(("bookmark", value["replication_key_value"]))


def run(job: ReaderJob, sandboxed: bool) -> list[tuple[str, Any]]:
    sink = CollectingSink()
    if sandboxed:
        # No output descriptor: the records come back through the sink, in frames.
        with Sandbox(SandboxLimits()) as sandbox:
            sandbox.load(job.reader, ())
            sandbox.run(job, sink)
    else:
        run_job(job, sink)
    return sink.events


def records(events: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    return [m["record"] for kind, batch in events if kind == "records" for m in batch]


@pytest.mark.parametrize("sandboxed", [False, True])
def test_every_item_kind_becomes_record_lines_with_bookmarks_after_them(
    sandboxed: bool,
) -> None:
    events = run(ReaderJob("read", READER, {}, [StreamRequest(STREAM)]), sandboxed)
    assert [kind for kind, _ in events] == [
        "start",
        "records",
        "bookmark",
        "records",
        "bookmark",
        "records",
        "bookmark",
        "records",
        "bookmark",
    ]
    assert all(
        m["type"] == "RECORD" and m["stream"] == "mixed"
        for k, b in events
        if k == "records"
        for m in b
    )
    assert records(events) == [
        {"n": 1, "text": "a\nb"},
        {"n": 2, "text": None},
        {"n": 3, "text": "ü"},
        {"n": 4, "text": '"q"'},
        {"n": 5, "text": None},
        {"n": 6, "text": "line 6"},
        {"n": 7, "text": "line 7"},
        {"n": 8, "text": "line 8"},
        {"n": 9, "text": "rl 9"},
        {"n": 10, "text": "rl 10"},
    ]


@pytest.mark.parametrize("sandboxed", [False, True])
def test_deselected_properties_are_dropped_from_every_item_kind(
    sandboxed: bool,
) -> None:
    job = ReaderJob("read", READER, {}, [StreamRequest(STREAM, properties=["n"])])
    assert records(run(job, sandboxed)) == [{"n": n} for n in range(1, 11)]


@pytest.mark.parametrize(
    "limit, expected_bookmarks",
    [(2, [2]), (4, [2]), (5, [2, 5]), (7, [2, 5]), (9, [2, 5, 8]), (10, [2, 5, 8, 10])],
)
def test_record_limit_never_lets_a_bookmark_cover_unwritten_records(
    limit: int, expected_bookmarks: list[int]
) -> None:
    events = run(
        ReaderJob("read", READER, {}, [StreamRequest(STREAM)], record_limit=limit),
        False,
    )
    assert [r["n"] for r in records(events)] == list(range(1, limit + 1))
    assert [v for kind, v in events if kind == "bookmark"] == expected_bookmarks


def test_record_lines_of_another_stream_are_refused() -> None:
    with pytest.raises(EncodeError, match="RecordLines must be 1 newline-terminated RECORD lines"):
        check_record_lines("mixed", b'{"type":"RECORD","stream":"other","record":{}}\n', 1)
    check_record_lines("mixed", b'{"type":"RECORD","stream":"mixed","record":{}}\n', 1)


def test_discovery_travels_through_the_sandbox() -> None:
    events = run(ReaderJob("discover", READER, {}), True)
    assert events == [("discovered", [STREAM])]


def test_frames_round_trip_and_a_cut_frame_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "frames"
    with path.open("wb") as fp:
        write_frame(fp, b"R", b"line\n", 1)
        write_frame(fp, b"Z")
    with path.open("rb") as fp:
        assert read_frame(fp) == (b"R", b"line\n", 1)
        assert read_frame(fp) == (b"Z", b"", 0)
        assert read_frame(fp) is None
    path.write_bytes(path.read_bytes()[:-20])
    with path.open("rb") as fp, pytest.raises(TruncatedFrame):
        read_frame(fp)


class MarkingSink(CollectingSink):
    """Writes a marker line to the shared output at each stream start and bookmark, as the
    tap writes SCHEMA and STATE there; records must not come through it."""

    def __init__(self, output: Any) -> None:
        super().__init__()
        self.output = output

    def start_stream(self, stream: str) -> None:
        self.output.write(b'{"marker":"start"}\n')
        self.output.flush()

    def records(self, data: bytes, count: int) -> None:
        raise AssertionError("records were relayed, not written by the reader process")

    def bookmark(self, stream: str, value: dict[str, Any]) -> None:
        self.output.write(orjson.dumps({"marker": value["replication_key_value"]}) + b"\n")
        self.output.flush()


def test_sandboxed_reader_writes_records_to_the_output_between_the_taps_lines(
    tmp_path: Path,
) -> None:
    path = tmp_path / "out.jsonl"
    with path.open("wb") as output:
        sink = MarkingSink(output)
        with Sandbox(SandboxLimits(), output_fd=output.fileno()) as sandbox:
            sandbox.load(READER, ())
            sandbox.run(ReaderJob("read", READER, {}, [StreamRequest(STREAM)]), sink)
            # A second job runs in the same process.
            sandbox.run(ReaderJob("discover", READER, {}), sink)
    lines = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    shape = [m["marker"] if "marker" in m else m["record"]["n"] for m in lines]
    assert shape == ["start", 1, 2, 2, 3, 4, 5, 5, 6, 7, 8, 8, 9, 10, 10]
    assert sink.events == [("discovered", [STREAM])]
