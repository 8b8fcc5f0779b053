import io

import orjson
import pytest

from dativo_core.singer import (
    RecordMessage,
    SingerProtocolError,
    SingerWriter,
    StateMessage,
    iter_messages,
    parse_line,
    read_line_chunks,
)


def test_chunks_keep_line_numbers_across_small_reads():
    lines = [orjson.dumps({"n": i}) for i in range(1000)]
    data = b"\n".join(lines) + b"\n"
    seen = []
    for chunk in read_line_chunks(io.BytesIO(data), chunk_bytes=37):
        for offset, line in enumerate(chunk.lines):
            seen.append((chunk.first_line + offset, orjson.loads(line)["n"]))
    assert seen == [(i + 1, i) for i in range(1000)]


def test_last_line_without_newline_and_crlf_and_blank_lines():
    data = b'{"a":1}\r\n\r\n{"a":2}\n{"a":3}'
    got = [
        (chunk.first_line + i, line)
        for chunk in read_line_chunks(io.BytesIO(data), chunk_bytes=4)
        for i, line in enumerate(chunk.lines)
    ]
    assert got == [(1, b'{"a":1}'), (2, b""), (3, b'{"a":2}'), (4, b'{"a":3}')]


def test_iter_messages_skips_blank_lines_and_numbers_errors():
    data = b'{"type":"STATE","value":{}}\n\n{"type":"RECORD","stream":"s","record":{"x":1}}\n{oops\n'
    got = []
    with pytest.raises(SingerProtocolError) as info:
        for number, message in iter_messages(io.BytesIO(data)):
            got.append((number, message))
    assert got == [(1, StateMessage({})), (3, RecordMessage("s", {"x": 1}))]
    assert info.value.line == 4
    assert "malformed JSON" in str(info.value) and "{oops" in str(info.value)


def test_parse_line_returns_values():
    assert parse_line(b'{"a": [1, 2]}', 1) == {"a": [1, 2]}


def test_writer_buffers_until_state_or_size():
    out = io.BytesIO()
    writer = SingerWriter(out, buffer_bytes=1 << 20)
    writer.write_record("s", {"id": 1})
    writer.write(RecordMessage("s", {"id": 2}, time_extracted="2024-01-01T00:00:00Z"))
    assert out.getvalue() == b""
    writer.write_state({"bookmarks": {"s": {"id": 2}}})
    lines = [orjson.loads(line) for line in out.getvalue().splitlines()]
    assert lines == [
        {"type": "RECORD", "stream": "s", "record": {"id": 1}},
        {"type": "RECORD", "stream": "s", "record": {"id": 2}, "time_extracted": "2024-01-01T00:00:00Z"},
        {"type": "STATE", "value": {"bookmarks": {"s": {"id": 2}}}},
    ]


def test_writer_flushes_when_buffer_is_full():
    out = io.BytesIO()
    writer = SingerWriter(out, buffer_bytes=64)
    for i in range(10):
        writer.write_record("stream", {"id": i})
    assert out.getvalue().count(b"\n") >= 8
    writer.flush()
    assert out.getvalue().count(b"\n") == 10


def test_writer_follows_a_swapped_sys_stdout(monkeypatch):
    swapped = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    monkeypatch.setattr("sys.stdout", swapped)
    with SingerWriter() as writer:
        writer.write_state({"x": 1})
    swapped.seek(0)
    assert orjson.loads(swapped.read()) == {"type": "STATE", "value": {"x": 1}}


def test_a_tap_widens_its_stdout_pipe():
    import subprocess
    import sys

    program = (
        "import fcntl, sys; from dativo_core.singer import SingerWriter; SingerWriter();"
        "print(fcntl.fcntl(1, fcntl.F_GETPIPE_SZ), file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", program], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, check=True)
    assert int(result.stderr) == 1024 * 1024


def test_line_blocks_stay_unsplit_and_count_lines():
    from dativo_core.singer.reader import read_line_blocks

    data = b'{"a":1}\r\n{"a":2}\r\n\r\n{"a":3}\r\n{"a":4}'
    blocks = list(read_line_blocks(io.BytesIO(data), block_bytes=9))
    assert [(b.first_line, b.line_count) for b in blocks][0] == (1, 1)
    assert sum(b.line_count for b in blocks) == 5
    # a Windows line end cut at the block's edge leaves no carriage return behind
    assert b"\r" not in b"".join(b.data for b in blocks)
    assert [line for b in blocks for line in b.lines()] == [
        b'{"a":1}', b'{"a":2}', b"", b'{"a":3}', b'{"a":4}'
    ]
