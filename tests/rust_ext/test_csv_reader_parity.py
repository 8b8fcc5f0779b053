"""The Rust CSV reader against tap-csv on awkward CSVs: same types, same records.

tap-csv runs as a real subprocess over every corpus file at once (one stream per file); the
Rust reader's batches are encoded to JSON by polars as tap-csv's bulk path does, so any
difference in a value, a type or a null shows up as a different record.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import polars as pl
import pyarrow as pa
import pytest

from dativo_core.native import NativeReaderError, load_library
from dativo_core.record_lines import record_lines
from dativo_core.schema.arrow import arrow_to_json_schema

WIDE_COLUMNS = 300

CORPUS: dict[str, bytes] = {
    "quotes": (
        'id,text,note\n1,"a, b","say ""hi"""\n2,"""quoted""",plain\n3,"",x"y\n'
    ).encode(),
    "embedded_newlines": (
        'id,body\n1,"line one\nline two"\n2,"crlf\r\ninside"\n3,"trailing\n"\n'
    ).encode(),
    "crlf_and_blank_lines": b"a,b\r\n1,x\r\n\r\n2,y\r\n\n3,z\r\n",
    "utf8": "name,city\nJosé,Zürich\n李雷,北京\n😀,Αθήνα\n".encode(),
    "bom": "\ufeffid,value\n1,10\n2,20\n".encode(),
    "empty_fields": b"a,b,c,d\n1,,x,\n,2.5,,\n3,,,\n",
    "all_null_column": b"id,nothing\n1,\n2,\n",
    "types": (
        b"i,n,b,d,ts,mixed_dates,widen,hexish,zeros\n"
        b"1,1.5,true,2024-01-31,2024-01-31T10:00:00Z,2024-01-01,1,0x1F,007\n"
        b"-2,-0.25,FALSE,2024-02-29,2024-01-31 10:00:00.123466,2024-01-02 03:04:05,2.5,0x20,-0\n"
        b"9223372036854775807,1e5,True,1999-12-31,2024-01-31T10:00:00+02:00,2024-01-03,3,0x0,10\n"
    ),
    "not_quite_typed": (
        b"spaces,plus,date_like,bool_like,time_like,bad_date\n"
        b" 1,+1,2024-1-1,yes,10:00:00,2024-02-30\n"
        b"2 ,+2,2024-01-01,no,11:00,2024-01-01\n"
    ),
    "no_trailing_newline": b"a,b\n1,2\n3,4",
    # 16+ digit integers beside decimals: a number column would round them, so it stays text.
    "long_integers": (
        b"mixed,long,short\n1234567890123456789,1234567890123456789,1.5\n"
        b"1.5,-1234567890123456,2\n"
    ),
    "wide": (
        ",".join(f"c{i}" for i in range(WIDE_COLUMNS))
        + "\n"
        + "\n".join(
            ",".join(str(r * WIDE_COLUMNS + i) if (r + i) % 7 else "" for i in range(WIDE_COLUMNS))
            for r in range(50)
        )
        + "\n"
    ).encode(),
    "long_field": ("id,blob\n1," + "x" * 60_000 + "\n2,short\n").encode(),
}


def _tap_csv_records(tmp_path: Path, files: dict[str, Path]) -> dict[str, list[dict]]:
    config = tmp_path / "tap_config.json"
    config.write_text(
        json.dumps({"files": [{"entity": name, "path": str(path)} for name, path in files.items()]})
    )
    done = subprocess.run(
        [sys.executable, "-c", "from dativo_tap_csv.tap import TapCSV; TapCSV.cli()", "--config", str(config)],
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    records: dict[str, list[dict]] = {name: [] for name in files}
    for line in done.stdout.splitlines():
        message = orjson.loads(line)
        if message["type"] == "RECORD":
            records[message["stream"]].append(message["record"])
    return records


def _rust_records(library: Path, path: Path, batch_size: int) -> tuple[pa.Schema, list[dict]]:
    records: list[dict] = []
    with load_library(library).open({"path": str(path), "batch_size": batch_size}) as reader:
        schema = reader.schema
        for batch in reader:
            out = io.BytesIO()
            pl.DataFrame(pl.from_arrow(batch)).write_ndjson(out)
            records.extend(orjson.loads(line) for line in out.getvalue().splitlines())
    return schema, records


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("corpus")
    paths = {}
    for name, content in CORPUS.items():
        paths[name] = folder / f"{name}.csv"
        paths[name].write_bytes(content)
    return paths


@pytest.fixture(scope="module")
def tap_csv_records(corpus: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict]]:
    return _tap_csv_records(tmp_path_factory.mktemp("tap"), corpus)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_records_match_tap_csv(
    name: str, corpus: dict[str, Path], tap_csv_records: dict[str, list[dict]], reader_libraries: dict[str, Path]
) -> None:
    # A batch size of 2 makes batch boundaries fall inside every file.
    _, records = _rust_records(reader_libraries["dativo_csv_reader"], corpus[name], batch_size=2)
    assert records == tap_csv_records[name]
    assert len(records) > 0


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_native_record_lines_match_tap_csv(
    name: str, corpus: dict[str, Path], tap_csv_records: dict[str, list[dict]], reader_libraries: dict[str, Path]
) -> None:
    library = load_library(reader_libraries["dativo_csv_reader"])
    lines = b""
    with library.open({"path": str(corpus[name]), "batch_size": 2}) as reader:
        while (encoded := reader.next_records(name)) is not None:
            data, rows = encoded
            assert bytes(data).count(b"\n") == rows
            lines += data
    messages = [orjson.loads(line) for line in lines.splitlines()]
    assert {(m["type"], m["stream"]) for m in messages} == {("RECORD", name)}
    assert [m["record"] for m in messages] == tap_csv_records[name]
    # Byte for byte what tap-csv's encoder writes for the same values read as Arrow.
    with library.open({"path": str(corpus[name]), "batch_size": 2}) as reader:
        encoded_by_polars = b"".join(record_lines(pl.from_arrow(batch), name) for batch in reader)
    assert lines == encoded_by_polars


def test_inferred_types(corpus: dict[str, Path], reader_libraries: dict[str, Path]) -> None:
    schema, _ = _rust_records(reader_libraries["dativo_csv_reader"], corpus["types"], 100)
    assert {f.name: str(f.type) for f in schema} == {
        "i": "int64",
        "n": "double",
        "b": "bool",
        "d": "date32[day]",
        "ts": "timestamp[us, tz=UTC]",
        "mixed_dates": "timestamp[us, tz=UTC]",
        "widen": "double",
        "hexish": "int64",
        "zeros": "int64",
    }
    schema, _ = _rust_records(
        reader_libraries["dativo_csv_reader"], corpus["not_quite_typed"], 100
    )
    types = {f.name: str(f.type) for f in schema}
    assert types == {name: "string" for name in types} | {"plus": "double"}
    json_schema = arrow_to_json_schema(schema)
    assert json_schema["properties"]["spaces"] == {"type": ["string", "null"]}


def test_ragged_row_fails_with_its_line(tmp_path: Path, reader_libraries: dict[str, Path]) -> None:
    path = tmp_path / "ragged.csv"
    # The quoted newline makes the ragged row start on line 5, though it is the 4th row.
    path.write_bytes(b'a,b\n1,2\n3,"x\ny"\n5\n6,7\n')
    with pytest.raises(NativeReaderError, match=r"ragged\.csv', line 5: expected 2 fields.*got 1: \"5\""):
        load_library(reader_libraries["dativo_csv_reader"]).open({"path": str(path)})
    # A row with quotes is shown as parsed: its fields, quotes undone, joined by the delimiter.
    path.write_bytes(b'a,b,c\n1,2,3\n4,"x\ny"\n')
    with pytest.raises(NativeReaderError, match=r"line 3: expected 3 fields.*got 2: \"4,x\\ny\""):
        load_library(reader_libraries["dativo_csv_reader"]).open({"path": str(path)})


@pytest.mark.parametrize("ending", [b'3,"x"\r\n\r', b'3,"x"\r\r', b"3,x\n\r"])
def test_carriage_returns_left_at_the_end_of_the_file_end_it(
    tmp_path: Path, reader_libraries: dict[str, Path], ending: bytes
) -> None:
    # They end the last line; they were taken for a last record of one empty field.
    path = tmp_path / "cr.csv"
    path.write_bytes(b"a,b\n" + b"1,2\n" * 20_000 + ending)
    with load_library(reader_libraries["dativo_csv_reader"]).open({"path": str(path)}) as reader:
        rows = pa.Table.from_batches(list(reader)).to_pylist()
    assert len(rows) == 20_001 and rows[-1] == {"a": 3, "b": "x"}


def test_a_quote_open_at_the_end_of_the_file_fails_with_its_line(
    tmp_path: Path, reader_libraries: dict[str, Path]
) -> None:
    path = tmp_path / "open.csv"
    # The open field runs over several read buffers (1 MiB each) before the file ends.
    path.write_bytes(b'a,b\n1,2\n3,"x\n' + b"4,5\n" * 600_000)
    with pytest.raises(NativeReaderError, match=r"open\.csv', line 3: a quoted field .* not closed by the end"):
        with load_library(reader_libraries["dativo_csv_reader"]).open({"path": str(path)}) as reader:
            list(reader)


def test_value_that_misfits_a_declared_type_names_line_and_column(
    tmp_path: Path, reader_libraries: dict[str, Path]
) -> None:
    path = tmp_path / "typed.csv"
    path.write_bytes(b"id,amount\n1,10\n2,11\n3,12\n4,twelve\n5,13\n")
    config = {"path": str(path), "column_types": {"amount": "integer"}, "batch_size": 3}
    with load_library(reader_libraries["dativo_csv_reader"]).open(config) as reader:
        first = reader.next_batch()
        assert first is not None and first.column("amount").to_pylist() == [10, 11, 12]
        # The failing batch is an error, never an early end of data.
        with pytest.raises(NativeReaderError, match="line 5, column 'amount'.*twelve.* is not a valid integer"):
            reader.next_batch()


def test_inference_limited_to_first_rows_then_a_misfit_is_an_error(
    tmp_path: Path, reader_libraries: dict[str, Path]
) -> None:
    path = tmp_path / "late.csv"
    path.write_bytes(b"n\n1\n2\n3\nlate text\n")
    config = {"path": str(path), "infer_max_rows": 2}
    with load_library(reader_libraries["dativo_csv_reader"]).open(config) as reader:
        assert reader.schema.field("n").type == pa.int64()
        with pytest.raises(NativeReaderError, match="line 5, column 'n'"):
            list(reader)


def test_options_delimiter_quote_header_and_types(tmp_path: Path, reader_libraries: dict[str, Path]) -> None:
    path = tmp_path / "semi.csv"
    path.write_bytes(b"1;'a;b';2024-01-01\n2;'c''d';\n")
    config = {
        "path": str(path),
        "delimiter": ";",
        "quote_char": "'",
        "has_header": False,
        "column_names": ["id", "label", "day"],
        "column_types": {"id": "string"},
    }
    with load_library(reader_libraries["dativo_csv_reader"]).open(config) as reader:
        table = pa.Table.from_batches(list(reader), schema=reader.schema)
    assert table.schema.types == [pa.string(), pa.string(), pa.date32()]
    assert table.to_pydict() == {
        "id": ["1", "2"],
        "label": ["a;b", "c'd"],
        "day": [table.column("day")[0].as_py(), None],
    }
    assert str(table.column("day")[0]) == "2024-01-01"


def test_bad_config_is_refused_with_the_key(tmp_path: Path, reader_libraries: dict[str, Path]) -> None:
    library = load_library(reader_libraries["dativo_csv_reader"])
    with pytest.raises(NativeReaderError, match="unknown config key 'delimter'"):
        library.open({"path": str(tmp_path / "x.csv"), "delimter": ";"})
    with pytest.raises(NativeReaderError, match="cannot open the CSV file"):
        library.open({"path": str(tmp_path / "missing.csv")})
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(NativeReaderError, match="is empty"):
        library.open({"path": str(tmp_path / "empty.csv")})
    (tmp_path / "twice.csv").write_bytes(b"a,b,a\n1,2,3\n")
    with pytest.raises(NativeReaderError, match=r'duplicate column names in the header: \["a"\]'):
        library.open({"path": str(tmp_path / "twice.csv")})


def test_invalid_utf8_and_header_only_files(tmp_path: Path, reader_libraries: dict[str, Path]) -> None:
    library = load_library(reader_libraries["dativo_csv_reader"])
    (tmp_path / "latin1.csv").write_bytes(b"id,name\n1,ok\n2,Jos\xe9\n")
    with library.open({"path": str(tmp_path / "latin1.csv")}) as reader:
        with pytest.raises(NativeReaderError, match="line 3, column 'name' .*not valid UTF-8"):
            list(reader)
    (tmp_path / "header.csv").write_bytes(b"id,name\n")
    with library.open({"path": str(tmp_path / "header.csv")}) as reader:
        assert reader.schema == pa.schema([("id", pa.string()), ("name", pa.string())])
        assert list(reader) == []


def test_columns_reads_only_those_in_their_order(tmp_path: Path, reader_libraries: dict[str, Path]) -> None:
    path = tmp_path / "pick.csv"
    # 'junk' is never parsed: an unselected column cannot fail a typed read.
    path.write_bytes(b"\xef\xbb\xbfid,junk,amount\n1,\xff,2.5\n2,x,\n")
    library = load_library(reader_libraries["dativo_csv_reader"])
    config = {"path": str(path), "columns": ["amount", "id"], "column_types": {"id": "integer"}}
    with library.open(config) as reader:
        assert reader.schema.names == ["amount", "id"]
        assert pa.Table.from_batches(list(reader)).to_pydict() == {"amount": [2.5, None], "id": [1, 2]}
    with library.open(config) as reader:
        view, count = reader.next_records("s")
        lines = bytes(view)
    assert count == 2
    with pytest.raises(ValueError, match="released"):
        bytes(view)
    assert [orjson.loads(line)["record"] for line in lines.splitlines()] == [
        {"amount": 2.5, "id": 1},
        {"amount": None, "id": 2},
    ]
    with pytest.raises(NativeReaderError, match="'columns' names column 'nope' which the file does not have"):
        library.open({"path": str(path), "columns": ["id", "nope"]})
    with pytest.raises(NativeReaderError, match="'columns' names a column twice"):
        library.open({"path": str(path), "columns": ["id", "id"]})


def test_records_across_read_buffers_match_the_csv_module(
    tmp_path: Path, reader_libraries: dict[str, Path]
) -> None:
    """Plain lines are split by a fast path and quoted records by csv_core; records that cross
    the reader's 1 MiB read buffer, lines longer than it, CRLF and blank lines come out as
    Python's csv module reads them."""
    rows = [["id", "text", "note"]]
    for i in range(30_000):
        if i % 7 == 0:
            rows.append([str(i), f'quoted, "{i}"\nsecond line\r\nthird', ""])
        elif i % 11 == 0:
            rows.append([str(i), "", f"plain {i}"])
        else:
            rows.append([str(i), f"text {i}", f"note {i}"])
    rows.insert(15_000, ["long", "x" * (3 << 20), "after"])
    rows.insert(20_000, ["long quoted", "y,\n" * (1 << 19), "after"])
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    for number, row in enumerate(rows):
        writer.writerow(row)
        if number % 5000 == 1:
            buffer.write("\r\n\n")  # blank lines are skipped
    path = tmp_path / "big.csv"
    path.write_bytes(buffer.getvalue().encode())
    limit = csv.field_size_limit(1 << 24)
    try:
        expected = [row for row in csv.reader(io.StringIO(buffer.getvalue(), newline="")) if row]
    finally:
        csv.field_size_limit(limit)
    config = {
        "path": str(path),
        "column_types": {"id": "string", "text": "string", "note": "string"},
        "batch_size": 3000,
    }
    lines = b""
    with load_library(reader_libraries["dativo_csv_reader"]).open(config) as reader:
        while (encoded := reader.next_records("s")) is not None:
            lines += encoded[0]
    records = [orjson.loads(line)["record"] for line in lines.splitlines()]
    assert [[r["id"], r["text"] or "", r["note"] or ""] for r in records] == expected[1:]


def _record_lines(reader: Any) -> list[bytes]:
    lines: list[bytes] = []
    while (encoded := reader.next_records("s")) is not None:
        lines += bytes(encoded[0]).splitlines()
    return lines


def test_record_lines_encoded_by_several_threads_keep_file_order_and_fail_in_place(
    tmp_path: Path, reader_libraries: dict[str, Path]
) -> None:
    # Blocks of `batch_size` rows are encoded by one thread per core and handed back in order.
    rows = [
        f'{i},"note {i}\nsecond line",{i}.25' if i % 7 == 0 else f"{i},note {i},{i}.5" for i in range(1, 3001)
    ]
    text = "id,note,amount\n" + "\n".join(rows) + "\n"
    path = tmp_path / "many.csv"
    path.write_text(text, encoding="utf-8")
    library = load_library(reader_libraries["dativo_csv_reader"])
    outputs = []
    for batch_size in (7, 64, 100_000):
        with library.open({"path": str(path), "batch_size": batch_size}) as reader:
            outputs.append(_record_lines(reader))
    assert outputs[0] == outputs[1] == outputs[2]
    assert [orjson.loads(line)["record"]["id"] for line in outputs[0]] == list(range(1, 3001))

    bad = text.replace("\n2346,note 2346,2346.5\n", "\n2346,note 2346,oops\n")
    line = bad[: bad.index("2346,note 2346,oops")].count("\n") + 1
    path.write_text(bad, encoding="utf-8")
    config = {"path": str(path), "batch_size": 100, "column_types": {"amount": "number"}}
    lines: list[bytes] = []
    with library.open(config) as reader:
        with pytest.raises(NativeReaderError, match=rf"line {line}, column 'amount'.*oops"):
            while (encoded := reader.next_records("s")) is not None:
                lines += bytes(encoded[0]).splitlines()
    # The blocks before the failing one (of at most 100 rows) were handed over, in order.
    ids = [orjson.loads(line)["record"]["id"] for line in lines]
    assert ids == list(range(1, len(ids) + 1))
    assert 2346 - 100 <= len(ids) < 2346


def test_parallel_inference_finds_a_late_ragged_row_and_merges_every_share(
    tmp_path: Path, reader_libraries: dict[str, Path]
) -> None:
    # More rows than one inference block, so each thread observes a share of the file.
    rows = [f"{i},{i}" for i in range(1, 20_001)]
    rows[17_000] = "17001,1.5"  # one number among integers, in a late share
    path = tmp_path / "late.csv"
    path.write_text("a,b\n" + "\n".join(rows) + "\n", encoding="utf-8")
    library = load_library(reader_libraries["dativo_csv_reader"])
    with library.open({"path": str(path)}) as reader:
        assert [c.format for c in reader.columns] == ["l", "g"]
    rows[18_000] = "18001"
    path.write_text("a,b\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(NativeReaderError, match="line 18002: expected 2 fields as in the first row, got 1"):
        library.open({"path": str(path)})
