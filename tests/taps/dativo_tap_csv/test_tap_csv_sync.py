"""Sync behaviour: selection, incremental runs, globs and folders, awkward and bad CSV files."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from jsonschema import Draft7Validator

from tap_csv_helpers import DATA, records, states
from dativo_tap_csv import reading
from dativo_tap_csv.file_specs import CSVFileError, load_file_specs
from dativo_tap_csv.file_specs import TapCSVConfigError
from dativo_tap_csv.tap import TapCSV


def _catalog(config: dict) -> dict:
    return TapCSV(config=config, parse_env_config=False).catalog_dict


def test_typed_values_are_emitted_and_validate_against_the_schema(run_tap, engine: str) -> None:
    messages = run_tap({"files": [{"entity": "typed", "path": str(DATA / "typed.csv")}], "engine": engine})
    schema = next(m for m in messages if m["type"] == "SCHEMA")["schema"]
    rows = records(messages)
    assert rows[0] == {
        "id": 1,
        "name": "Widget",
        "price": 9.99,
        "quantity": 3,
        "in_stock": True,
        "released_on": "2024-01-05",
        "updated_at": "2024-01-05T10:00:00+00:00",
        "comment": 'Hello, "world"',
        "nothing": None,
    }
    assert rows[1]["quantity"] is None and rows[1]["comment"] is None
    assert rows[1]["updated_at"] == "2024-02-10T11:30:00+00:00"  # no offset: taken as UTC
    assert rows[2]["updated_at"] == "2024-03-01T06:00:00+00:00"
    assert rows[2]["in_stock"] is True and rows[2]["price"] is None
    validator = Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)
    for row in rows:
        assert not list(validator.iter_errors(row))


def test_deselected_fields_and_streams_are_not_emitted(run_tap) -> None:
    config = {
        "files": [
            {"entity": "typed", "path": str(DATA / "typed.csv"), "keys": ["id"]},
            {"entity": "other", "path": str(DATA / "typed.csv")},
        ]
    }
    catalog = _catalog(config)
    for entry in catalog["streams"]:
        for meta in entry["metadata"]:
            crumb = tuple(meta["breadcrumb"])
            if crumb == ():
                meta["metadata"]["selected"] = entry["tap_stream_id"] == "typed"
            elif crumb[-1] in ("price", "comment"):
                meta["metadata"]["selected"] = False
    messages = run_tap(config, catalog=catalog)
    assert {m["stream"] for m in messages if m["type"] in ("SCHEMA", "RECORD")} == {"typed"}
    schema = next(m for m in messages if m["type"] == "SCHEMA")["schema"]
    assert "price" not in schema["properties"] and "comment" not in schema["properties"]
    assert [sorted(r) for r in records(messages)] == [
        sorted(["id", "name", "quantity", "in_stock", "released_on", "updated_at", "nothing"])
    ] * 3


def _set_mtime(path: Path, seconds: int) -> None:
    os.utime(path, ns=(seconds * 10**9, seconds * 10**9))


def test_incremental_runs_skip_unchanged_files_and_resync_touched_ones(run_tap, tmp_path: Path) -> None:
    folder = tmp_path / "orders"
    folder.mkdir()
    for name, rows in (("jan.csv", "1,10\n2,20\n"), ("feb.csv", "3,30\n")):
        (folder / name).write_text("id,amount\n" + rows)
    _set_mtime(folder / "jan.csv", 1_700_000_000)
    _set_mtime(folder / "feb.csv", 1_700_000_100)
    config = {"files": [{"entity": "orders", "path": str(folder), "keys": ["id"]}], "incremental": True}

    first = run_tap(config)
    assert [r["id"] for r in records(first)] == [1, 2, 3]  # files in mtime order
    # A STATE after each file, the last one bookmarking the newest mtime.
    bookmarks = [s["bookmarks"]["orders"] for s in states(first)]
    assert bookmarks[-1]["replication_key"] == "_sdc_source_file_mtime"
    assert bookmarks[-1]["replication_key_value"] == "2023-11-14T22:15:00+00:00"
    assert bookmarks[-1]["files_at_bookmark"] == [str(folder / "feb.csv")]
    assert len(bookmarks) >= 2
    state = states(first)[-1]

    assert records(run_tap(config, state=state)) == []

    (folder / "jan.csv").write_text("id,amount\n1,11\n2,22\n")
    _set_mtime(folder / "jan.csv", 1_700_000_200)
    third = run_tap(config, state=state)
    assert records(third) == [
        {"id": 1, "amount": 11, "_sdc_source_file_mtime": "2023-11-14T22:16:40+00:00"},
        {"id": 2, "amount": 22, "_sdc_source_file_mtime": "2023-11-14T22:16:40+00:00"},
    ]


def test_incremental_files_sharing_the_bookmark_mtime_are_synced_exactly_once(
    run_tap, tmp_path: Path
) -> None:
    folder = tmp_path / "drops"
    folder.mkdir()
    (folder / "a.csv").write_text("id\n1\n")
    _set_mtime(folder / "a.csv", 1_700_000_000)
    config = {"files": [{"entity": "drops", "path": str(folder / "*.csv")}], "incremental": True}
    state = states(run_tap(config))[-1]
    # A file landing later with the very same mtime is new: synced once, then skipped.
    (folder / "b.csv").write_text("id\n2\n")
    _set_mtime(folder / "b.csv", 1_700_000_000)
    second = run_tap(config, state=state)
    assert [r["id"] for r in records(second)] == [2]
    bookmark = states(second)[-1]["bookmarks"]["drops"]
    assert bookmark["files_at_bookmark"] == [str(folder / "a.csv"), str(folder / "b.csv")]
    assert records(run_tap(config, state=states(second)[-1])) == []


def test_full_table_catalog_override_resyncs_everything(run_tap, tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("id\n1\n")
    config = {"files": [{"entity": "a", "path": str(tmp_path / "a.csv")}], "incremental": True}
    state = states(run_tap(config))[-1]
    catalog = _catalog(config)
    catalog["streams"][0]["replication_method"] = "FULL_TABLE"
    catalog["streams"][0]["replication_key"] = None
    catalog["streams"][0]["metadata"][0]["metadata"]["forced-replication-method"] = "FULL_TABLE"
    assert [r["id"] for r in records(run_tap(config, state=state, catalog=catalog))] == [1]


def test_glob_and_folder_make_one_stream_of_many_files(run_tap, tmp_path: Path) -> None:
    for part in ("2024-01", "2024-02"):
        sub = tmp_path / part
        sub.mkdir()
        (sub / "sales.csv").write_text(f"month,total\n{part},1\n")
        (sub / "notes.txt").write_text("not csv")
    config = {
        "files": [
            {"entity": "sales", "path": str(tmp_path / "*" / "sales.csv")},
            {"entity": "january", "path": str(tmp_path / "2024-01")},
        ],
        "add_metadata_columns": True,
    }
    messages = run_tap(config)
    sales = records(messages, "sales")
    assert [(r["month"], r["_sdc_source_file"], r["_sdc_source_lineno"]) for r in sales] == [
        ("2024-01", str(tmp_path / "2024-01" / "sales.csv"), 2),
        ("2024-02", str(tmp_path / "2024-02" / "sales.csv"), 2),
    ]
    assert [r["month"] for r in records(messages, "january")] == ["2024-01"]


def test_files_of_one_stream_must_share_a_header(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("id,name\n1,x\n")
    (tmp_path / "b.csv").write_text("id,title\n2,y\n")
    with pytest.raises(CSVFileError, match=r"file '.*b\.csv' has header \['id', 'title'\]"):
        _catalog({"files": [{"entity": "s", "path": str(tmp_path)}]})


def test_missing_path_and_missing_key_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(TapCSVConfigError, match="path '.*nope.csv' does not exist"):
        _catalog({"files": [{"entity": "s", "path": str(tmp_path / "nope.csv")}]})
    (tmp_path / "a.csv").write_text("id\n1\n")
    with pytest.raises(CSVFileError, match=r"key column\(s\) \['uid'\] are not in the header"):
        _catalog({"files": [{"entity": "s", "path": str(tmp_path / "a.csv"), "keys": ["uid"]}]})


def test_ragged_row_fails_naming_file_and_line(run_tap, tmp_path: Path, engine: str) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text('a,b,c\n1,2,3\n\n4,"x\ny",6\n7,8\n9,10,11\n')
    with pytest.raises(CSVFileError) as info:
        run_tap({"files": [{"entity": "ragged", "path": str(path)}], "engine": engine})
    assert f"file '{path}', line 6: expected 3 fields" in str(info.value)
    assert "got 2" in str(info.value)
    assert str(info.value).endswith("got 2: '7,8'") or str(info.value).endswith('got 2: "7,8"')  # the row itself


def test_a_ragged_row_is_shown_alike_by_both_engines(run_tap, tmp_path: Path, engine: str) -> None:
    # Its fields joined by the delimiter, quotes undone, its first 200 characters (pyarrow's
    # own text is cut at ~100 bytes, sometimes inside a character).
    quoted, long = tmp_path / "quoted.csv", tmp_path / "long.csv"
    quoted.write_text('a,b,c\n1,2,3\n4,"x\ny"\n')
    long.write_text("a,b,c\n1,2,3\n" + "é" * 300 + ",x\n")
    with pytest.raises(CSVFileError) as info:
        run_tap({"files": [{"entity": "quoted", "path": str(quoted)}], "engine": engine})
    assert "line 3: expected 3 fields as in the first row, got 2: " in str(info.value)
    assert str(info.value)[-7:-1] == "4,x\\ny"
    with pytest.raises(CSVFileError) as info:
        run_tap({"files": [{"entity": "long", "path": str(long)}], "engine": engine})
    assert "é" * 200 in str(info.value) and "é" * 201 not in str(info.value)


@pytest.mark.parametrize(
    "ending",
    [
        pytest.param('3,c,"y\n4,d,z\n5,e,w\n', id="rows swallowed by the last column"),
        pytest.param('3,c,"y ""quoted"" \n\n4,d,z', id="doubled quotes inside, no line end"),
        pytest.param('3,c,"', id="a lone quote at the end"),
    ],
)
def test_a_quote_left_open_at_the_end_of_the_file_is_an_error(
    run_tap, tmp_path: Path, engine: str, ending: str
) -> None:
    # Both parsers take the rest of the file as the open field's value: rows 4 and 5 would
    # vanish into row 3's note without a word.
    path = tmp_path / "open.csv"
    path.write_text("id,name,note\n1,a,x\n2,b,y\n" + ending)
    with pytest.raises(CSVFileError) as info:
        run_tap({"files": [{"entity": "open", "path": str(path)}], "engine": engine})
    assert f"file '{path}', line 4: a quoted field of the record on this line is not closed" in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(b'a,b\n1,x\n2,"y\\"z\n3,4\n', id="escaped quote inside"),
        pytest.param(b'a,b\n1,x\n2,"y\\\\z\n3,4\n', id="escaped escape inside"),
    ],
)
def test_an_open_quote_is_found_in_files_read_with_an_escapechar(run_tap, tmp_path: Path, text: bytes) -> None:
    # Read by the pyarrow engine only: the Rust reader applies escapechar inside quotes only.
    path = tmp_path / "open.csv"
    path.write_bytes(text)
    with pytest.raises(CSVFileError, match="line 3: a quoted field"):
        run_tap({"files": [{"entity": "open", "path": str(path), "escapechar": "\\"}]})
    path.write_bytes(b'a,b\n1,x\n2,"y\\"z"\n3,"4\n5"\n')  # closed, the last value two lines
    rows = records(run_tap({"files": [{"entity": "open", "path": str(path), "escapechar": "\\"}]}))
    assert rows[-2:] == [{"a": 2, "b": 'y"z'}, {"a": 3, "b": "4\n5"}]


@pytest.mark.parametrize(
    ("text", "last"),
    [
        pytest.param(b'a,b\n1,""""', '"', id="a value of one quote, no line end"),
        pytest.param(b'a,b\n1,""""""', '""', id="a value of two quotes, no line end"),
        pytest.param(b'a,b\n1,"\n"\n', "\n", id="a value that is a line end"),
        pytest.param(b'a,b\r\n1,"\r\n"\r\n', "\r\n", id="a value that is a CRLF"),
    ],
)
def test_closed_last_fields_that_end_like_open_ones_are_read(
    run_tap, tmp_path: Path, engine: str, text: bytes, last: str
) -> None:
    # Their files end as an open quote's would; the pyarrow engine checks with Python's csv.
    path = tmp_path / "closed.csv"
    path.write_bytes(text)
    assert records(run_tap({"files": [{"entity": "c", "path": str(path)}], "engine": engine})) == [{"a": 1, "b": last}]


def test_an_open_quote_in_the_header_is_an_error(run_tap, tmp_path: Path, engine: str) -> None:
    path = tmp_path / "open.csv"
    path.write_text('a,"b\n1,2\n3,4\n')  # the header would take the whole file: no rows
    with pytest.raises(CSVFileError, match="line 1: a quoted field"):
        run_tap({"files": [{"entity": "open", "path": str(path)}], "engine": engine})
    # Lenient quoting in a header is read as before: a space after the closing quote.
    path.write_text('a,"b" \n1,2\n')
    assert records(run_tap({"files": [{"entity": "open", "path": str(path)}], "engine": engine})) == [{"a": 1, "b ": 2}]


def test_quotes_that_do_not_pair_up_before_an_open_looking_end_are_an_error(run_tap, tmp_path: Path) -> None:
    # Python's csv, which confirms an open quote for the pyarrow engine, stops at line 2's
    # stray quote: where the file's last field ends cannot be told, so the tap says why.
    path = tmp_path / "stray.csv"
    path.write_text('a,b\n1,"x"y\n2,"z\n3,4\n')
    with pytest.raises(CSVFileError, match="line 2: .*quotes do not pair up"):
        run_tap({"files": [{"entity": "stray", "path": str(path)}], "engine": "pyarrow"})


def test_quoted_last_fields_that_close_at_the_end_of_the_file_are_read(
    run_tap, tmp_path: Path, engine: str
) -> None:
    path = tmp_path / "closed.csv"
    path.write_text('id,note\n1,"two\nlines"\n2,"say ""hi""\n"\n3,""\n4,"x"')
    rows = records(run_tap({"files": [{"entity": "closed", "path": str(path)}], "engine": engine}))
    assert rows == [
        {"id": 1, "note": "two\nlines"},
        {"id": 2, "note": 'say "hi"\n'},
        {"id": 3, "note": None},
        {"id": 4, "note": "x"},
    ]


def test_open_and_closed_quotes_at_the_end_of_a_utf16_file(run_tap, tmp_path: Path) -> None:
    # Read by the pyarrow engine (the Rust one reads UTF-8 only), which compares the file's
    # last bytes with the quoted value: in the file's encoding, two bytes per character.
    closed, left_open = tmp_path / "closed.csv", tmp_path / "open.csv"
    closed.write_bytes('id,note\n1,"a\nb"\n2,""\n'.encode("utf-16"))
    left_open.write_bytes('id,note\n1,x\n2,"y\n3,z\n'.encode("utf-16"))
    config = {"files": [{"entity": "closed", "path": str(closed), "encoding": "utf-16"}]}
    assert records(run_tap(config)) == [{"id": 1, "note": "a\nb"}, {"id": 2, "note": None}]
    with pytest.raises(CSVFileError, match="line 3: a quoted field"):
        run_tap({"files": [{"entity": "open", "path": str(left_open), "encoding": "utf-16"}]})


def test_an_open_quote_is_found_when_the_last_column_is_not_selected(
    run_tap, tmp_path: Path, engine: str
) -> None:
    path = tmp_path / "open.csv"
    path.write_text("id,note\n1,x\n")
    config = {"files": [{"entity": "open", "path": str(path)}], "engine": engine}
    catalog = _catalog(config)
    for entry in catalog["streams"][0]["metadata"]:
        if entry["breadcrumb"] == ["properties", "note"]:
            entry["metadata"]["selected"] = False
    path.write_text('id,note\n1,x\n2,"y\n3,z\n')  # after discovery: the sync meets it first
    with pytest.raises(CSVFileError, match="line 3: a quoted field"):
        run_tap(config, catalog=catalog)


def test_the_pyarrow_reader_holds_no_python_callback(tmp_path: Path) -> None:
    # An invalid_row_handler is kept by the CSV reader on pyarrow's I/O thread, which could drop
    # it while the interpreter exited: tap-csv then aborted (exit 134, "terminate called without
    # an active exception") after a successful sync, in about 1 run of 30 on a file of blank
    # lines. Ragged rows are read from pyarrow's error instead (see the ragged-row tests).
    spec = load_file_specs({"files": [{"entity": "s", "path": str(DATA / "typed.csv")}]})[0]
    assert reading._parse_options(spec).invalid_row_handler is None


def test_awkward_csv_quotes_newlines_utf8_bom_and_empty_fields(run_tap, tmp_path: Path) -> None:
    path = tmp_path / "awkward.csv"
    text = (
        'id,text,note\r\n'
        '1,"She said ""hi"", then left",\r\n'
        '2,"line one\nline two",""\r\n'
        '3,Zoë → 東京 🚀,plain\r\n'
        '4,,"a,b"\r\n'
    )
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    rows = records(run_tap({"files": [{"entity": "awkward", "path": str(path)}]}))
    assert rows == [
        {"id": 1, "text": 'She said "hi", then left', "note": None},
        {"id": 2, "text": "line one\nline two", "note": None},
        {"id": 3, "text": "Zoë → 東京 🚀", "note": "plain"},
        {"id": 4, "text": None, "note": "a,b"},
    ]


def test_dialect_options_and_other_encodings(run_tap, tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("id;name;city\n1;'Müller; Hans';Köln\n2;Ana;'São Paulo'\n".encode("latin-1"))
    entry = {"entity": "people", "path": str(path), "delimiter": ";", "quotechar": "'", "encoding": "latin-1"}
    rows = records(run_tap({"files": [entry]}))
    assert rows == [
        {"id": 1, "name": "Müller; Hans", "city": "Köln"},
        {"id": 2, "name": "Ana", "city": "São Paulo"},
    ]


def test_csv_files_definition_holds_the_files_list(run_tap, tmp_path: Path) -> None:
    definition = tmp_path / "files.json"
    definition.write_text(json.dumps([{"entity": "typed", "path": str(DATA / "typed.csv")}]))
    rows = records(run_tap({"csv_files_definition": str(definition)}))
    assert [r["name"] for r in rows] == ["Widget", "Gadget", "Doohickey"]


def test_connection_test_and_dry_run_stop_at_the_record_limit(tmp_path: Path) -> None:
    path = tmp_path / "many.csv"
    path.write_text("id\n" + "".join(f"{i}\n" for i in range(5000)))
    config = {"files": [{"entity": "many", "path": str(path)}]}
    runs = {1: lambda tap: tap.run_connection_test(), 150: lambda tap: tap.run_sync_dry_run(150)}
    for limit, run in runs.items():
        out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
        with redirect_stdout(out):
            assert run(TapCSV(config=config, parse_env_config=False))
        out.seek(0)
        lines = [json.loads(line) for line in out.read().splitlines()]
        assert [r["id"] for r in records(lines)] == list(range(limit))


def test_stream_maps_take_the_per_record_path(run_tap) -> None:
    config = {
        "files": [{"entity": "typed", "path": str(DATA / "typed.csv")}],
        "stream_maps": {"typed": {"name_upper": "name.upper()", "comment": None}},
    }
    rows = records(run_tap(config))
    assert [r["name_upper"] for r in rows] == ["WIDGET", "GADGET", "DOOHICKEY"]
    assert all("comment" not in r for r in rows)
    assert dt.datetime.fromisoformat(rows[0]["updated_at"]) == dt.datetime(
        2024, 1, 5, 10, tzinfo=dt.timezone.utc
    )


def test_about_and_version_commands(tap_command) -> None:
    about = json.loads(tap_command("--about", "--format", "json").stdout)
    assert about["name"] == "tap-csv"
    assert {"files", "csv_files_definition", "add_metadata_columns", "incremental"} <= set(
        about["settings"]["properties"]
    )
    markdown = tap_command("--about", "--format", "markdown").stdout.decode()
    assert markdown.startswith("# `tap-csv`") and "infer_max_rows" in markdown
    assert b"tap-csv" in tap_command("--version").stdout


def test_unknown_encoding_and_undecodable_bytes_are_named(run_tap, tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("id,name\n1,Müller\n".encode("latin-1"))
    with pytest.raises(TapCSVConfigError, match="stream 's': unknown encoding 'klingon'"):
        _catalog({"files": [{"entity": "s", "path": str(path), "encoding": "klingon"}]})
    with pytest.raises(CSVFileError, match=r"is not valid utf-8 .*set the stream's `encoding`"):
        run_tap({"files": [{"entity": "s", "path": str(path)}]})


def test_command_exits_non_zero_naming_the_bad_line(tap_command, tmp_path: Path, engine: str) -> None:
    data = tmp_path / "bad.csv"
    data.write_text("id,name\n1,a\n2,b,extra\n")
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"files": [{"entity": "bad", "path": str(data)}], "engine": engine}))
    result = tap_command("--config", str(config), check=False)
    assert result.returncode != 0
    assert f"file '{data}', line 3: expected 2 fields" in result.stderr.decode()
    assert "got 3" in result.stderr.decode()
    # Discovery reads every row, so the bad row stops the run before anything is emitted.
    assert result.stdout == b""


def test_activate_version_messages_carry_the_version_on_every_record(run_tap) -> None:
    config = {
        "files": [{"entity": "typed", "path": str(DATA / "typed.csv")}],
        "emit_activate_version_messages": True,
    }
    messages = run_tap(config)
    (activate,) = [m for m in messages if m["type"] == "ACTIVATE_VERSION"]
    assert activate["stream"] == "typed"
    rows = [m for m in messages if m["type"] == "RECORD"]
    assert len(rows) == 3 and {m["version"] for m in rows} == {activate["version"]}
    assert messages.index(activate) < messages.index(rows[0])


def test_stream_maps_path_keeps_incremental_bookmarks(run_tap, tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("id\n1\n2\n")
    _set_mtime(tmp_path / "a.csv", 1_700_000_000)
    config = {
        "files": [{"entity": "a", "path": str(tmp_path / "a.csv")}],
        "incremental": True,
        "stream_maps": {"a": {"double": "id * 2"}},
    }
    first = run_tap(config)
    assert [r["double"] for r in records(first)] == [2, 4]
    bookmark = states(first)[-1]["bookmarks"]["a"]
    assert bookmark["files_at_bookmark"] == [str(tmp_path / "a.csv")]
    assert records(run_tap(config, state=states(first)[-1])) == []


def test_command_line_state_round_trip(tap_command, tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    data.write_text("id\n1\n")
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"files": [{"entity": "d", "path": str(data)}], "incremental": True}))
    first = [json.loads(line) for line in tap_command("--config", str(config)).stdout.splitlines()]
    assert [r["id"] for r in records(first)] == [1]
    state = tmp_path / "state.json"
    state.write_text(json.dumps(states(first)[-1]))
    second = tap_command("--config", str(config), "--state", str(state)).stdout.splitlines()
    assert records([json.loads(line) for line in second]) == []


def test_row_longer_than_the_block_size_names_the_setting(run_tap, tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text('id,text\n1,"' + "line\n" * 2000 + '"\n2,short\n')
    # block_size_bytes bounds the pyarrow engine's blocks; the Rust reader has no such limit.
    config = {"files": [{"entity": "long", "path": str(path)}], "block_size_bytes": 4096, "engine": "pyarrow"}
    with pytest.raises(CSVFileError, match="has a row longer than block_size_bytes .*raise the"):
        run_tap(config)
    config["block_size_bytes"] = 64 * 1024
    rows = records(run_tap(config))
    assert rows[0]["text"] == "line\n" * 2000 and rows[1] == {"id": 2, "text": "short"}
