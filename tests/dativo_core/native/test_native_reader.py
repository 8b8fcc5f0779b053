"""Native libraries as SDK Readers: the contract checker and tap-reader run them like any reader."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from pyiceberg.catalog.sql import SqlCatalog

import dativo_core.native
from dativo_core.native import NativeReaderError
from dativo_core.native.reader import NativeReader, RustCSVReader
from dativo_core.sdk.testing import check_reader

AWKWARD_CSV = (
    "\ufeffid,name,amount,active,day,seen_at\n"
    '1,"Zoë ""Z"" Müller",10.5,true,2024-01-31,2024-01-31T10:00:00Z\n'
    '2,"two\nlines",,false,,2024-02-01 08:30:00\n'
    "3,李雷,7,TRUE,2024-03-01,\n"
)


def _tap_records(command: list[str]) -> tuple[dict, list[dict]]:
    done = subprocess.run(command, capture_output=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    messages = [orjson.loads(line) for line in done.stdout.splitlines()]
    schema = next(m for m in messages if m["type"] == "SCHEMA")
    return schema, [m["record"] for m in messages if m["type"] == "RECORD"]


def test_rust_csv_reader_keeps_the_sdk_contract(tmp_path: Path, reader_libraries: dict[str, Path]) -> None:
    path = tmp_path / "awkward.csv"
    path.write_text(AWKWARD_CSV, encoding="utf-8")
    config = {"stream": "people", "path": str(path), "keys": ["id"], "batch_size": 2}
    report = check_reader(RustCSVReader, config)
    assert report.records == {"people": 3}


def test_any_library_keeps_the_sdk_contract(reader_libraries: dict[str, Path]) -> None:
    config = {
        "library": str(reader_libraries["sequence_reader"]),
        "stream": "squares",
        "keys": ["n"],
        "reader_config": {"stop": 10, "batch_size": 3},
    }
    report = check_reader(NativeReader, config)
    assert report.records == {"squares": 10}
    stream = NativeReader(config).discover()[0]
    assert stream.schema["properties"]["square"] == {"type": "integer"}


def test_reader_errors_reach_the_tap_user(tmp_path: Path, reader_libraries: dict[str, Path]) -> None:
    reader = RustCSVReader({"stream": "s", "path": str(tmp_path / "missing.csv")})
    with pytest.raises(NativeReaderError, match="missing.csv': cannot open the CSV file"):
        reader.discover()


def test_tap_reader_emits_the_records_tap_csv_emits(tmp_path: Path, reader_libraries: dict[str, Path]) -> None:
    path = tmp_path / "people.csv"
    path.write_text(AWKWARD_CSV, encoding="utf-8")
    rust_config = tmp_path / "rust.json"
    rust_config.write_text(json.dumps({"stream": "people", "path": str(path), "keys": ["id"]}))
    csv_config = tmp_path / "csv.json"
    csv_config.write_text(json.dumps({"files": [{"entity": "people", "path": str(path), "keys": ["id"]}]}))

    rust_schema, rust_records = _tap_records(
        [sys.executable, "-m", "dativo_tap_reader.cli", "--reader",
         "dativo_core.native.reader:RustCSVReader", "--config", str(rust_config)]
    )
    csv_schema, csv_records = _tap_records(
        [sys.executable, "-c", "from dativo_tap_csv.tap import TapCSV; TapCSV.cli()", "--config", str(csv_config)]
    )
    assert rust_records == csv_records
    assert rust_records[1]["name"] == "two\nlines"
    assert rust_schema["schema"]["properties"] == csv_schema["schema"]["properties"]
    assert rust_schema["key_properties"] == ["id"]


def test_rust_csv_runs_by_its_registered_name(tmp_path: Path, reader_libraries: dict[str, Path]) -> None:
    path = tmp_path / "two.csv"
    path.write_text("id,v\n1,a\n2,\n")
    config = tmp_path / "two.json"
    config.write_text(json.dumps({"stream": "two", "path": str(path), "keys": ["id"]}))
    # The manifest (dativo-plugin.yaml) sits beside the package's modules.
    plugin_dir = Path(dativo_core.native.__file__).parent
    _, records = _tap_records(
        [sys.executable, "-m", "dativo_tap_reader.cli", "--reader", "rust-csv",
         "--plugin-dir", str(plugin_dir), "--config", str(config)]
    )
    assert records == [{"id": 1, "v": "a"}, {"id": 2, "v": None}]


@pytest.mark.slow
def test_rust_csv_tap_loads_into_iceberg(tmp_path: Path, reader_libraries: dict[str, Path]) -> None:
    path = tmp_path / "people.csv"
    path.write_text(AWKWARD_CSV + "".join(f"{i},person {i},{i}.25,false,2024-04-01,\n" for i in range(4, 1001)))
    tap_config = tmp_path / "tap.json"
    tap_config.write_text(json.dumps({"stream": "people", "path": str(path), "keys": ["id"], "batch_size": 100}))
    warehouse = tmp_path / "warehouse"
    target_config = tmp_path / "target.json"
    target_config.write_text(json.dumps({"warehouse": str(warehouse)}))

    tap = subprocess.Popen(
        [sys.executable, "-m", "dativo_tap_reader.cli", "--reader",
         "dativo_core.native.reader:RustCSVReader", "--config", str(tap_config)],
        stdout=subprocess.PIPE,
    )
    target = subprocess.run(
        [sys.executable, "-m", "dativo_target_iceberg.cli", "--config", str(target_config)],
        stdin=tap.stdout,
        capture_output=True,
        timeout=300,
    )
    assert tap.stdout is not None
    tap.stdout.close()
    assert tap.wait(timeout=60) == 0
    assert target.returncode == 0, target.stderr.decode()

    catalog = SqlCatalog("dativo", uri=f"sqlite:///{warehouse / 'catalog.db'}", warehouse=warehouse.as_uri())
    table = catalog.load_table("default.people").scan().to_arrow().sort_by("id")
    assert table.num_rows == 1000
    assert table.column("id").to_pylist() == list(range(1, 1001))
    first = table.slice(0, 3).to_pylist()
    assert [r["name"] for r in first] == ['Zoë "Z" Müller', "two\nlines", "李雷"]
    assert [r["amount"] for r in first] == [10.5, None, 7.0]
    assert [r["active"] for r in first] == [True, False, True]
    assert [str(r["day"]) for r in first] == ["2024-01-31", "None", "2024-03-01"]
    assert str(first[1]["seen_at"]) == "2024-02-01 08:30:00+00:00"
    assert table.column("amount")[999].as_py() == 1000.25


@pytest.mark.parametrize("sandbox", [[], ["--no-sandbox"]])
def test_catalog_selection_reaches_the_rust_reader(
    tmp_path: Path, reader_libraries: dict[str, Path], sandbox: list[str]
) -> None:
    path = tmp_path / "people.csv"
    path.write_text(AWKWARD_CSV, encoding="utf-8")
    config = tmp_path / "rust.json"
    config.write_text(json.dumps({"stream": "people", "path": str(path), "keys": ["id"]}))
    base = [sys.executable, "-m", "dativo_tap_reader.cli", "--reader",
            "dativo_core.native.reader:RustCSVReader", "--config", str(config)]
    catalog = json.loads(subprocess.run([*base, "--discover"], capture_output=True, check=True).stdout)
    for entry in catalog["streams"][0]["metadata"]:
        if entry["breadcrumb"] in (["properties", "name"], ["properties", "day"]):
            entry["metadata"]["selected"] = False
    catalog_path = tmp_path / "catalog.json"
    catalog_path.write_text(json.dumps(catalog))
    # The CSV changes after discovery: a sync reads with the catalog's types and does not
    # infer again, so a later misfit in a selected column is an error naming its line...
    path.write_text(AWKWARD_CSV + "4,x,y,true,2024-01-01,\n", encoding="utf-8")
    failed = subprocess.run([*base, *sandbox, "--catalog", str(catalog_path)], capture_output=True, check=False)
    assert failed.returncode != 0
    assert b"line 6, column 'amount'" in failed.stderr
    # ...while the deselected columns are not read at all.
    path.write_text(AWKWARD_CSV + "4,x,8,true,not a date,\n", encoding="utf-8")
    schema, records = _tap_records([*base, *sandbox, "--catalog", str(catalog_path)])
    assert list(schema["schema"]["properties"]) == ["id", "amount", "active", "seen_at"]
    assert [list(r) for r in records] == [["id", "amount", "active", "seen_at"]] * 4
    assert [r["amount"] for r in records] == [10.5, None, 7.0, 8.0]


def test_discovered_schema_without_pyarrow_is_the_arrow_mapping(
    tmp_path: Path, reader_libraries: dict[str, Path]
) -> None:
    from dativo_core.native import load_library
    from dativo_core.native.reader import _flat_json_schema
    from dativo_core.schema.arrow import arrow_to_json_schema

    path = tmp_path / "awkward.csv"
    path.write_text(AWKWARD_CSV + "4,,,,,\n", encoding="utf-8")
    configs = [
        (reader_libraries["dativo_csv_reader"], {"path": str(path)}),
        (reader_libraries["dativo_csv_reader"], {"path": str(path), "infer_types": False}),
        (reader_libraries["sequence_reader"], {"start": 0, "stop": 3}),
    ]
    for library_path, config in configs:
        with load_library(library_path).open(config) as reader:
            flat = _flat_json_schema(reader.columns)
            assert flat == arrow_to_json_schema(reader.schema), config
    assert flat is not None and flat["properties"]


def test_rust_csv_tap_runs_without_pyarrow(tmp_path: Path, reader_libraries: dict[str, Path]) -> None:
    # Discovery's schema and the sync's column types come without pyarrow's import (~0.1 s).
    path = tmp_path / "awkward.csv"
    path.write_text(AWKWARD_CSV, encoding="utf-8")
    script = (
        "import io, sys\n"
        "from dativo_tap_reader.tap import ReaderTap\n"
        f"tap = ReaderTap('rust-csv', {{'stream': 's', 'path': {str(path)!r}}}, sandbox=None)\n"
        "out = io.BytesIO()\n"
        "tap.sync(None, {}, out)\n"
        "assert out.getvalue().count(b'RECORD') == 3, out.getvalue()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pyarrow', 'polars')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
