"""The repository's meltano.yml, run by real Meltano in a fresh copy of the checkout."""

from __future__ import annotations

import json
import sqlite3

import pytest
from interop_tools import REPO, customers, iceberg_rows, tool, without

pytestmark = pytest.mark.slow


def test_tap_csv_to_target_iceberg_loads_once_then_resumes_from_meltano_state(meltano_project):
    meltano_project.run("run", "tap-csv", "target-iceberg")
    warehouse = meltano_project.root / "output" / "warehouse"
    loaded = iceberg_rows(warehouse, "customers")
    assert without(loaded, "_sdc_") == customers()
    csv_path = str(meltano_project.root / "examples" / "csv" / "customers.csv")
    assert {row["_sdc_source_file"] for row in loaded} == {csv_path}
    assert [row["_sdc_source_lineno"] for row in loaded] == list(range(2, 22))

    state = json.loads(meltano_project.run("state", "get", "dev:tap-csv-to-target-iceberg").stdout)
    bookmark = state["singer_state"]["bookmarks"]["customers"]
    assert bookmark["replication_key"] == "_sdc_source_file_mtime"
    assert bookmark["files_at_bookmark"] == [csv_path]

    meltano_project.run("run", "tap-csv", "target-iceberg")
    assert len(iceberg_rows(warehouse, "customers")) == 20


def test_contract_mapper_and_map_transform_between_tap_csv_and_target_iceberg(meltano_project, tmp_path):
    """dativo-validate and meltano-map-transform chained as mappers in one `meltano run`."""
    warehouse = tmp_path / "warehouse"
    meltano_project.run(
        "run", "--full-refresh", "--state-id-suffix", "mapped",
        "tap-csv", "validate-customers", "mask-emails", "target-iceberg",
        env={"TARGET_ICEBERG_WAREHOUSE": str(warehouse)},
    )
    expected = [
        {**{k: v for k, v in row.items() if k != "email"}, "email_domain": "example.com"}
        for row in customers()
    ]
    assert without(iceberg_rows(warehouse, "customers"), "_sdc_") == expected


def test_tap_airbyte_faker_through_meltano(meltano_project, tmp_path):
    warehouse = tmp_path / "warehouse"
    meltano_project.run(
        "run", "tap-airbyte", "target-iceberg", env={"TARGET_ICEBERG_WAREHOUSE": str(warehouse)}
    )
    users = iceberg_rows(warehouse, "users")
    assert sorted(row["id"] for row in users) == list(range(1, 101))


def test_reader_plugin_through_meltano_hands_state_to_the_next_run(meltano_project, tmp_path):
    database = tmp_path / "shop.db"
    with sqlite3.connect(database) as connection:
        connection.executescript((REPO / "examples" / "meltano" / "shop.sql").read_text())
    warehouse = tmp_path / "warehouse"
    env = {"TAP_SQLITE_TABLES_DATABASE": str(database), "TARGET_ICEBERG_WAREHOUSE": str(warehouse)}
    meltano_project.run("run", "tap-sqlite-tables", "target-iceberg", env=env)
    first = iceberg_rows(warehouse, "orders")
    assert [(row["id"], row["amount"], row["paid"]) for row in first] == [
        (1, 120.5, True), (2, 35.0, False), (3, 980.25, True), (4, 12.99, True)
    ]
    with sqlite3.connect(database) as connection:
        connection.execute(
            "INSERT INTO orders VALUES (5, 3, 7.5, 0, '2024-05-04T08:00:00+00:00')"
        )
    meltano_project.run("run", "tap-sqlite-tables", "target-iceberg", env=env)
    # The reader resumes at its bookmark inclusively (`>=`): order 4 comes again, 1-3 do not.
    assert sorted(row["id"] for row in iceberg_rows(warehouse, "orders")) == [1, 2, 3, 4, 4, 5]
