"""Discovery infers real column types from the data; a catalog's schema overrides inference."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tap_csv_helpers import DATA, records
from dativo_tap_csv.file_specs import CSVFileError
from dativo_tap_csv.tap import TapCSV


def _discover(config: dict) -> dict:
    return TapCSV(config=config, parse_env_config=False).catalog_dict


def test_discovery_announces_inferred_types_and_keys() -> None:
    catalog = _discover({"files": [{"entity": "typed", "path": str(DATA / "typed.csv"), "keys": ["id"]}]})
    (entry,) = catalog["streams"]
    assert entry["tap_stream_id"] == "typed"
    assert entry["key_properties"] == ["id"]
    props = entry["schema"]["properties"]
    assert props == {
        "id": {"type": ["integer", "null"]},
        "name": {"type": ["string", "null"]},
        "price": {"type": ["number", "null"]},
        "quantity": {"type": ["integer", "null"]},
        "in_stock": {"type": ["boolean", "null"]},
        "released_on": {"type": ["string", "null"], "format": "date"},
        "updated_at": {"type": ["string", "null"], "format": "date-time"},
        "comment": {"type": ["string", "null"]},
        "nothing": {"type": ["string", "null"]},
    }


def test_metadata_columns_and_incremental_replication_key(tmp_path: Path) -> None:
    config = {
        "files": [{"entity": "typed", "path": str(DATA / "typed.csv")}],
        "add_metadata_columns": True,
        "incremental": True,
    }
    (entry,) = _discover(config)["streams"]
    props = entry["schema"]["properties"]
    assert props["_sdc_source_file"] == {"type": ["string", "null"]}
    assert props["_sdc_source_file_mtime"] == {"type": ["string", "null"], "format": "date-time"}
    assert props["_sdc_source_lineno"] == {"type": ["integer", "null"]}
    assert entry["replication_key"] == "_sdc_source_file_mtime"
    assert entry["replication_method"] == "INCREMENTAL"


def test_widening_across_rows_and_files(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("n,d,mixed\n1,2024-01-01,1\n2,2024-01-02,2\n")
    (tmp_path / "b.csv").write_text("n,d,mixed\n2.5,2024-01-03 10:00:00,true\n,,\n")
    (entry,) = _discover({"files": [{"entity": "s", "path": str(tmp_path)}]})["streams"]
    props = entry["schema"]["properties"]
    assert props["n"] == {"type": ["number", "null"]}
    assert props["d"] == {"type": ["string", "null"], "format": "date-time"}
    assert props["mixed"] == {"type": ["string", "null"]}


def test_catalog_schema_is_used_instead_of_inference(run_tap, tmp_path: Path) -> None:
    path = tmp_path / "zip.csv"
    path.write_text("zip,city\n01234,Boston\n90210,Beverly Hills\n")
    config = {"files": [{"entity": "zips", "path": str(path)}]}
    catalog = _discover(config)
    assert catalog["streams"][0]["schema"]["properties"]["zip"]["type"] == ["integer", "null"]
    catalog["streams"][0]["schema"]["properties"]["zip"] = {"type": ["string", "null"]}
    rows = records(run_tap(config, catalog=catalog))
    assert rows == [{"zip": "01234", "city": "Boston"}, {"zip": "90210", "city": "Beverly Hills"}]


def test_value_beyond_the_inference_sample_fails_naming_file_line_and_column(
    run_tap, tmp_path: Path
) -> None:
    path = tmp_path / "late.csv"
    lines = ["id,amount"] + [f"{i},{i}" for i in range(1, 2001)] + ["2001,n/a"]
    path.write_text("\n".join(lines) + "\n")
    config = {"files": [{"entity": "late", "path": str(path)}], "infer_max_rows": 100}
    with pytest.raises(CSVFileError) as info:
        run_tap(config)
    message = str(info.value)
    assert f"file '{path}', line 2002, column 'amount'" in message
    assert "n/a" in message and "is not a valid integer" in message
    assert "declare the column as string in the catalog" in message
    # Inferring over every row (the default) types the column as text instead.
    config.pop("infer_max_rows")
    (entry,) = _discover(config)["streams"]
    assert entry["schema"]["properties"]["amount"] == {"type": ["string", "null"]}


def test_bad_timestamp_under_a_catalog_names_its_line(run_tap, tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text('id,at\n1,2024-01-01T00:00:00Z\n2,"two\nlines"\n3,not a time\n')
    config = {"files": [{"entity": "events", "path": str(path)}]}
    catalog = {
        "streams": [
            {
                "tap_stream_id": "events",
                "stream": "events",
                "schema": {
                    "type": "object",
                    "properties": {
                        "id": {"type": ["integer", "null"]},
                        "at": {"type": ["string", "null"], "format": "date-time"},
                    },
                },
                "metadata": [{"breadcrumb": [], "metadata": {"selected": True}}],
            }
        ]
    }
    with pytest.raises(CSVFileError) as info:
        run_tap(config, catalog=catalog)
    message = str(info.value)
    assert f"file '{path}', line 3, column 'at'" in message
    assert "two\\nlines" in message and "is not a valid date-time" in message


def test_discover_command_prints_the_catalog(tap_command, tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"files": [{"entity": "typed", "path": str(DATA / "typed.csv")}]}))
    result = tap_command("--config", str(config), "--discover")
    catalog = json.loads(result.stdout)
    assert catalog["streams"][0]["schema"]["properties"]["price"]["type"] == ["number", "null"]


def test_values_that_would_lose_precision_stay_text(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text(
        "big,nanos,small\n"
        "92233720368547758080,2024-01-01T10:00:00.123456789Z,1\n"
        "1,2024-01-01T10:00:01Z,2.5\n"
    )
    (entry,) = _discover({"files": [{"entity": "p", "path": str(tmp_path / "p.csv")}]})["streams"]
    props = entry["schema"]["properties"]
    assert props["big"] == {"type": ["string", "null"]}
    assert props["nanos"] == {"type": ["string", "null"]}
    assert props["small"] == {"type": ["number", "null"]}
