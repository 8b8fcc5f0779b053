"""The example third-party crate (rust_ext/examples/sequence_reader) built and loaded like any reader."""

from pathlib import Path

import pyarrow as pa
import pytest

from dativo_core.native import NativeReaderError, load_library


def test_sequence_in_batches(reader_libraries: dict[str, Path]) -> None:
    library = load_library(reader_libraries["sequence_reader"])
    with library.open({"start": -3, "stop": 8, "step": 2, "batch_size": 4}) as reader:
        assert reader.schema == pa.schema(
            [pa.field("n", pa.int64(), nullable=False), pa.field("square", pa.int64(), nullable=False)]
        )
        batches = list(reader)
    assert [b.num_rows for b in batches] == [4, 2]
    table = pa.Table.from_batches(batches)
    assert table.column("n").to_pylist() == [-3, -1, 1, 3, 5, 7]
    assert table.column("square").to_pylist() == [9, 1, 1, 9, 25, 49]


def test_overflow_is_an_error_not_an_early_end(reader_libraries: dict[str, Path]) -> None:
    library = load_library(reader_libraries["sequence_reader"])
    with library.open({"start": 3_037_000_498, "stop": 3_037_000_600, "batch_size": 2}) as reader:
        first = reader.next_batch()
        assert first is not None and first.column("n").to_pylist() == [3_037_000_498, 3_037_000_499]
        with pytest.raises(NativeReaderError, match="row 3: the square of 3037000500 does not fit"):
            reader.next_batch()


def test_config_errors_come_back_from_create(reader_libraries: dict[str, Path]) -> None:
    library = load_library(reader_libraries["sequence_reader"])
    with pytest.raises(NativeReaderError, match="'step' must not be 0"):
        library.open({"stop": 10, "step": 0})
    with pytest.raises(NativeReaderError, match="config 'stop' is required"):
        library.open({})


def test_record_lines_and_their_errors(reader_libraries: dict[str, Path]) -> None:
    library = load_library(reader_libraries["sequence_reader"])
    with library.open({"start": 3_037_000_498, "stop": 3_037_000_600, "batch_size": 2}) as reader:
        assert reader.next_records("squares") == (
            b'{"type":"RECORD","stream":"squares","record":{"n":3037000498,"square":9223372024852248004}}\n'
            b'{"type":"RECORD","stream":"squares","record":{"n":3037000499,"square":9223372030926249001}}\n',
            2,
        )
        with pytest.raises(NativeReaderError, match="row 3: the square of 3037000500 does not fit"):
            reader.next_records("squares")
