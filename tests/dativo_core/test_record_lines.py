"""record_lines: a polars frame as Singer RECORD lines, byte for byte what a reader expects."""

from __future__ import annotations

import datetime as dt

import orjson
import polars as pl

from dativo_core.record_lines import record_lines


def test_each_row_becomes_one_record_line_in_the_singer_envelope() -> None:
    frame = pl.DataFrame(
        {"id": [1, 2], "name": ["a\nb", None], "at": [dt.date(2024, 1, 2), None]}
    )
    lines = record_lines(frame, "shop.orders").splitlines()
    assert [orjson.loads(line) for line in lines] == [
        {"type": "RECORD", "stream": "shop.orders", "record": {"id": 1, "name": "a\nb", "at": "2024-01-02"}},
        {"type": "RECORD", "stream": "shop.orders", "record": {"id": 2, "name": None, "at": None}},
    ]


def test_the_table_version_is_on_every_line() -> None:
    lines = record_lines(pl.DataFrame({"id": [1, 2]}), "s", version=7).splitlines()
    assert [orjson.loads(line)["version"] for line in lines] == [7, 7]


def test_a_frame_without_columns_gives_empty_records_one_per_row() -> None:
    frame = pl.DataFrame({"id": [1, 2, 3]}).drop("id")
    assert frame.height == 3
    assert record_lines(frame, "s") == b'{"type":"RECORD","stream":"s","record":{}}\n' * 3
