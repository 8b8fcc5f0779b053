"""The relay through real pipes: bytes arrive unchanged, and records are counted per stream."""

from __future__ import annotations

import collections
import os
import random
import threading

import orjson
import pytest

from dativo_core.pipe.counting import RecordCounter
from dativo_core.pipe.relay import Relay


def singer_lines(seed: int, spaced: bool) -> tuple[bytes, dict[str, int]]:
    """Interleaved runs of streams, with or without singer-python's spaces, and other messages."""
    rng = random.Random(seed)
    streams = ["users", "orders", 'we"ird', "línea"]
    expected: collections.Counter[str] = collections.Counter()
    lines = []
    for _ in range(400):
        stream = rng.choice(streams)
        for _ in range(rng.choice([1, 1, 2, 50])):
            record = {
                "id": rng.randrange(10**6),
                "note": "x" * rng.randrange(300),
                "type": "RECORD",
            }
            message = {"type": "RECORD", "stream": stream, "record": record}
            if spaced:
                lines.append(
                    orjson.dumps(message)
                    .decode()
                    .replace('","', '", "')
                    .replace('":', '": ')
                    .encode()
                )
            else:
                lines.append(orjson.dumps(message))
            expected[stream] += 1
        lines.append(orjson.dumps({"type": "STATE", "value": {"stream": stream}}))
        lines.append(
            orjson.dumps({"type": "SCHEMA", "stream": stream, "schema": {}, "key_properties": []})
        )
    return b"\n".join(lines) + b"\n", dict(expected)


def relay_through_pipes(
    data: bytes, block_bytes: int, tap_succeeded: bool = True
) -> tuple[bytes, Relay]:
    source_read, source_write = os.pipe()
    sink_read, sink_write = os.pipe()
    received = bytearray()

    def feed() -> None:
        with os.fdopen(source_write, "wb") as out:
            out.write(data)

    def drain() -> None:
        with os.fdopen(sink_read, "rb") as source:
            received.extend(source.read())

    threads = [threading.Thread(target=feed), threading.Thread(target=drain)]
    for thread in threads:
        thread.start()
    relay = Relay(source_read, sink_write, RecordCounter(), block_bytes=block_bytes)
    relay.run()
    if tap_succeeded:
        relay.write_tail()
    os.close(sink_write)
    os.close(source_read)
    for thread in threads:
        thread.join()
    return bytes(received), relay


@pytest.mark.parametrize("spaced", [False, True])
@pytest.mark.parametrize("block_bytes", [61, 4096, 1 << 20])
def test_bytes_pass_unchanged_and_records_are_counted_per_stream(block_bytes, spaced):
    data, expected = singer_lines(seed=block_bytes, spaced=spaced)

    received, relay = relay_through_pipes(data, block_bytes)

    assert received == data
    assert relay.bytes_relayed == len(data)
    assert relay.counter.snapshot() == expected


def test_a_final_line_without_newline_passes_only_when_the_tap_succeeded():
    data = b'{"type":"RECORD","stream":"a","record":{}}\n{"type":"RECORD","stream":"a","record":{}}'

    received, relay = relay_through_pipes(data, 16)
    assert received == data
    assert relay.counter.snapshot() == {"a": 2}

    cut_short, relay = relay_through_pipes(data, 16, tap_succeeded=False)
    assert cut_short == data[: data.index(b"\n") + 1]
    assert relay.counter.snapshot() == {"a": 1}


def test_the_spelling_of_the_first_record_is_the_one_counted():
    data = (
        b'{"type":"SCHEMA","stream":"a","schema":{}}\n'
        b'{"type":"RECORD","stream":"a","record":{}}\n'
        b'{"type": "RECORD", "stream": "a", "record": {}}\n'
        b'{"type":"RECORD","stream":"b","record":{}}\n'
    )

    received, relay = relay_through_pipes(data, 1 << 20)

    assert received == data
    assert relay.counter.snapshot() == {"a": 1, "b": 1}


def test_a_closed_sink_ends_the_relay_instead_of_raising():
    source_read, source_write = os.pipe()
    sink_read, sink_write = os.pipe()
    os.close(sink_read)
    os.write(source_write, b'{"type":"RECORD","stream":"a","record":{}}\n')
    os.close(source_write)
    relay = Relay(source_read, sink_write, RecordCounter())

    relay.run()

    assert relay.sink_broken
    os.close(source_read)
    os.close(sink_write)
