"""tap-reader as users run it: a real process, config files, catalogs, state, plugin names."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from reader_tap_shop import EXAMPLE_PLUGINS, EXAMPLE_REFERENCE, add_orders, create_shop


def tap(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "dativo_tap_reader.cli", *args],
        capture_output=True,
        check=False,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def messages(proc: subprocess.CompletedProcess[bytes]) -> list[dict]:
    assert proc.returncode == 0, proc.stderr.decode()
    return [orjson.loads(line) for line in proc.stdout.splitlines()]


@pytest.fixture
def shop(tmp_path: Path) -> tuple[Path, Path]:
    db = create_shop(tmp_path / "shop.db")
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps({"database": str(db), "replication_keys": {"orders": "updated_at"}})
    )
    return db, config


def test_about_follows_singer_sdk_json_shape(shop: tuple[Path, Path]) -> None:
    proc = tap(
        "--reader",
        "sqlite-tables",
        "--plugin-dir",
        str(EXAMPLE_PLUGINS),
        "--about",
        "--format",
        "json",
    )
    about = json.loads(proc.stdout)
    assert about["name"] == "tap-sqlite-tables" and about["version"] == "0.1.0"
    assert set(about["capabilities"]) == {"about", "catalog", "discover", "state"}
    assert about["settings"]["required"] == ["database"]


def test_about_markdown_is_a_settings_table() -> None:
    proc = tap(
        "--reader", "sqlite-tables", "--plugin-dir", str(EXAMPLE_PLUGINS),
        "--about", "--format", "markdown",
    )
    markdown = proc.stdout.decode()
    assert markdown.startswith("# `tap-sqlite-tables`")
    assert "| database | string |  | Required. Path of the SQLite file (absolute). |" in markdown
    assert "| batch_rows | integer | 5000 | Rows per batch handed from the reader. |" in markdown


def test_discover_writes_a_catalog_with_keys_and_replication_metadata(
    shop: tuple[Path, Path],
) -> None:
    _, config = shop
    catalog = json.loads(
        tap("--reader", EXAMPLE_REFERENCE, "--config", str(config), "--discover").stdout
    )
    orders = next(s for s in catalog["streams"] if s["tap_stream_id"] == "orders")
    assert (
        orders["key_properties"] == ["id"] and orders["replication_key"] == "updated_at"
    )
    top = next(m["metadata"] for m in orders["metadata"] if m["breadcrumb"] == [])
    assert (
        top["valid-replication-keys"] == ["updated_at"]
        and top["selected-by-default"] is True
    )


def test_catalog_selection_and_incremental_resume(
    shop: tuple[Path, Path], tmp_path: Path
) -> None:
    db, config = shop
    catalog = json.loads(
        tap("--reader", EXAMPLE_REFERENCE, "--config", str(config), "--discover").stdout
    )
    for stream in catalog["streams"]:
        for entry in stream["metadata"]:
            if entry["breadcrumb"] == []:
                entry["metadata"]["selected"] = stream["tap_stream_id"] == "orders"
            if entry["breadcrumb"] == ["properties", "note"]:
                entry["metadata"]["selected"] = False
    catalog_path = tmp_path / "catalog.json"
    catalog_path.write_text(json.dumps(catalog))
    base = (
        "--reader",
        EXAMPLE_REFERENCE,
        "--config",
        str(config),
        "--catalog",
        str(catalog_path),
    )

    first = messages(tap(*base))
    records = [m["record"] for m in first if m["type"] == "RECORD"]
    assert {m["stream"] for m in first if m["type"] != "STATE"} == {"orders"}
    assert [r["id"] for r in records] == list(range(1, 26))
    assert set(records[0]) == {"id", "customer_id", "amount", "updated_at"}
    schema = next(m for m in first if m["type"] == "SCHEMA")
    assert "note" not in schema["schema"]["properties"]
    state = first[-1]["value"]
    assert state == {
        "bookmarks": {
            "orders": {
                "replication_key": "updated_at",
                "replication_key_value": "2024-03-01T00:00:25+00:00",
            }
        }
    }

    with sqlite3.connect(db) as conn:
        add_orders(conn, range(26, 31))
    state_path = tmp_path / "state.json"
    state_path.write_text(json.dumps(state))
    second = messages(tap(*base, "--state", str(state_path)))
    # The bookmark is inclusive: the boundary row comes again, nothing is skipped.
    assert [m["record"]["id"] for m in second if m["type"] == "RECORD"] == list(
        range(25, 31)
    )
    assert (
        second[-1]["value"]["bookmarks"]["orders"]["replication_key_value"]
        == "2024-03-01T00:00:30+00:00"
    )


def test_full_table_in_the_catalog_reads_everything_despite_a_bookmark(
    shop: tuple[Path, Path], tmp_path: Path
) -> None:
    _, config = shop
    base = ("--reader", EXAMPLE_REFERENCE, "--config", str(config))
    catalog = json.loads(tap(*base, "--discover").stdout)
    for stream in catalog["streams"]:
        top = next(m for m in stream["metadata"] if m["breadcrumb"] == [])
        top["metadata"].update(selected=stream["tap_stream_id"] == "orders")
        top["metadata"]["replication-method"] = "FULL_TABLE"
    catalog_path = tmp_path / "catalog.json"
    catalog_path.write_text(json.dumps(catalog))
    state_path = tmp_path / "state.json"
    bookmark = {
        "replication_key": "updated_at",
        "replication_key_value": "2024-03-01T00:00:20+00:00",
    }
    state_path.write_text(json.dumps({"bookmarks": {"orders": bookmark}}))
    out = messages(
        tap(*base, "--catalog", str(catalog_path), "--state", str(state_path))
    )
    assert [m["record"]["id"] for m in out if m["type"] == "RECORD"] == list(
        range(1, 26)
    )
    schema = next(m for m in out if m["type"] == "SCHEMA")
    assert "bookmark_properties" not in schema


def test_registered_name_from_the_environment_with_arrow_batches(
    shop: tuple[Path, Path], tmp_path: Path
) -> None:
    db, _ = shop
    config = tmp_path / "arrow.json"
    config.write_text(
        json.dumps({"database": str(db), "tables": ["customers"], "output": "arrow"})
    )
    env = {"DATIVO_READER": "sqlite-tables", "DATIVO_PLUGIN_PATH": str(EXAMPLE_PLUGINS)}
    out = messages(tap("--config", str(config), env=env))
    assert [m["record"] for m in out if m["type"] == "RECORD"] == [
        {"id": 1, "name": "Ada", "vip": True},
        {"id": 2, "name": 'Bo "the" Builder', "vip": False},
        {"id": 3, "name": "Zoë", "vip": None},
    ]


def test_invalid_config_names_the_setting(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"database": 7}))
    proc = tap("--reader", EXAMPLE_REFERENCE, "--config", str(config))
    assert proc.returncode == 1
    assert "database: 7 is not of type 'string'" in proc.stderr.decode()
    assert proc.stdout == b""


def test_connection_test_reports_an_unreadable_source(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"database": str(tmp_path / "missing.db")}))
    proc = tap("--reader", EXAMPLE_REFERENCE, "--config", str(config), "--test")
    assert proc.returncode == 1
    assert "cannot open SQLite database" in proc.stderr.decode()
