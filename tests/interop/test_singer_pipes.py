"""Dativo's plugins piped to and from MeltanoLabs' plugins, as real processes over OS pipes."""

from __future__ import annotations

import csv
import json
import subprocess
import tempfile
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import IO

import psycopg
import pytest
from interop_tools import (
    REPO,
    TAP_POSTGRES,
    TARGET_POSTGRES,
    customers,
    dativo_bin,
    iceberg_rows,
    tool,
    without,
)

pytestmark = pytest.mark.slow

TAP_CSV_CONFIG = {
    "files": [{"entity": "customers", "path": "examples/csv/customers.csv", "keys": ["id"]}]
}


def pipeline(*commands: list[str], cwd: Path = REPO) -> str:
    """Run `a | b | ...` with each command's stdout piped to the next; return the last stdout."""
    processes: list[tuple[list[str], subprocess.Popen[bytes], IO[bytes]]] = []
    upstream = None
    for index, argv in enumerate(commands):
        log = tempfile.TemporaryFile()  # a file, so a chatty process never blocks on stderr
        process = subprocess.Popen(argv, cwd=cwd, stdin=upstream, stdout=subprocess.PIPE, stderr=log)
        if upstream is not None:
            upstream.close()  # the next process alone holds the read end
        upstream = process.stdout if index < len(commands) - 1 else None
        processes.append((argv, process, log))
    output, _ = processes[-1][1].communicate(timeout=600)
    for argv, process, log in processes:
        if process.wait(timeout=600) != 0:
            log.seek(0)
            errors = log.read().decode(errors="replace")
            raise AssertionError(f"{argv[0]} exited {process.returncode}:\n{errors[-4000:]}")
    return output.decode()


def write_json(path: Path, value: object) -> str:
    path.write_text(json.dumps(value))
    return str(path)


def test_tap_csv_to_target_csv(tmp_path):
    out = tmp_path / "out"
    pipeline(
        [dativo_bin("tap-csv"), "--config", write_json(tmp_path / "tap.json", TAP_CSV_CONFIG)],
        [dativo_bin("target-csv"), "--config", write_json(tmp_path / "target.json", {"output_path": str(out)})],
    )
    with (out / "customers.csv").open(newline="", encoding="utf-8") as handle:
        written = list(csv.DictReader(handle))
    # target-csv writes Python's str() of each parsed value.
    expected = [
        {k: "" if v is None else str(v) for k, v in row.items()} for row in customers()
    ]
    assert written == expected


def test_tap_csv_to_target_postgres(tmp_path, postgres_url):
    database = postgres_url.rsplit("/", 1)[1]
    port = int(postgres_url.split(":")[-1].split("/")[0])
    config = {"host": "127.0.0.1", "port": port, "user": "dativo", "password": "",
              "database": database, "default_target_schema": "crm"}
    pipeline(
        [dativo_bin("tap-csv"), "--config", write_json(tmp_path / "tap.json", TAP_CSV_CONFIG)],
        [str(tool(TARGET_POSTGRES, "target-postgres")), "--config", write_json(tmp_path / "pg.json", config)],
    )
    with psycopg.connect(host="127.0.0.1", port=port, user="dativo", dbname=database) as connection:
        cursor = connection.execute(
            "SELECT id, name, email, signed_up_at, lifetime_value, active FROM crm.customers ORDER BY id"
        )
        columns = [column.name for column in cursor.description]
        rows = [dict(zip(columns, row)) for row in cursor.fetchall()]
    for row in rows:  # JSON numbers are stored as numeric
        if row["lifetime_value"] is not None:
            row["lifetime_value"] = float(row["lifetime_value"])
    # target-postgres stores date-times as `timestamp without time zone`, in UTC.
    expected = [{**row, "signed_up_at": row["signed_up_at"].replace(tzinfo=None)} for row in customers()]
    assert rows == expected


def test_tap_postgres_to_target_iceberg_hands_state_to_the_next_run(tmp_path, postgres_url):
    database = postgres_url.rsplit("/", 1)[1]
    port = int(postgres_url.split(":")[-1].split("/")[0])
    connect = dict(host="127.0.0.1", port=port, user="dativo", dbname=database)
    with psycopg.connect(**connect) as connection:
        connection.execute(
            "CREATE TABLE orders (id bigint PRIMARY KEY, note text, amount numeric(10,2), "
            "placed_at timestamptz NOT NULL, updated_at bigint NOT NULL)"
        )
        connection.execute(
            "INSERT INTO orders VALUES (1, 'first', 10.50, '2024-05-01T10:00:00Z', 100), "
            "(2, NULL, 3.25, '2024-05-01T11:00:00Z', 200), (3, 'ünïcode', 0, '2024-05-02T09:00:00Z', 300)"
        )
    tap_postgres = str(tool(TAP_POSTGRES, "tap-postgres"))
    tap_config = write_json(tmp_path / "tap.json", {
        "host": "127.0.0.1", "port": port, "user": "dativo", "password": "",
        "database": database, "filter_schemas": ["public"],
    })
    discovered = json.loads(subprocess.run(
        [tap_postgres, "--config", tap_config, "--discover"], capture_output=True, check=True
    ).stdout)
    for stream in discovered["streams"]:
        for entry in stream["metadata"]:
            if entry["breadcrumb"] == []:
                entry["metadata"].update(
                    {"selected": True, "replication-method": "INCREMENTAL", "replication-key": "updated_at"}
                )
        stream["replication_method"], stream["replication_key"] = "INCREMENTAL", "updated_at"
    catalog = write_json(tmp_path / "catalog.json", discovered)
    warehouse = tmp_path / "warehouse"
    target = [dativo_bin("target-iceberg"), "--config",
              write_json(tmp_path / "iceberg.json", {"warehouse": str(warehouse)})]

    states = pipeline([tap_postgres, "--config", tap_config, "--catalog", catalog], target)
    # A target writes the bare state value, as Meltano and other Singer runners store it.
    state = json.loads(states.strip().splitlines()[-1])
    assert state["bookmarks"]["public-orders"]["replication_key_value"] == 300
    assert without(iceberg_rows(warehouse, "public_orders"), "_sdc_") == [
        {"id": 1, "note": "first", "amount": Decimal("10.50"),
         "placed_at": datetime.fromisoformat("2024-05-01T10:00:00+00:00"), "updated_at": 100},
        {"id": 2, "note": None, "amount": Decimal("3.25"),
         "placed_at": datetime.fromisoformat("2024-05-01T11:00:00+00:00"), "updated_at": 200},
        {"id": 3, "note": "ünïcode", "amount": Decimal("0.00"),
         "placed_at": datetime.fromisoformat("2024-05-02T09:00:00+00:00"), "updated_at": 300},
    ]

    with psycopg.connect(**connect) as connection:
        connection.execute("INSERT INTO orders VALUES (4, 'later', 1.00, '2024-05-03T09:00:00Z', 400)")
    state_file = write_json(tmp_path / "state.json", state)  # the target's line, as it is
    pipeline([tap_postgres, "--config", tap_config, "--catalog", catalog, "--state", state_file], target)
    # tap-postgres resumes at its bookmark inclusively (>=): row 3 comes again, 1 and 2 do not.
    assert [row["id"] for row in iceberg_rows(warehouse, "public_orders")] == [1, 2, 3, 3, 4]


def test_tap_csv_stream_maps_and_flattening_reach_target_iceberg(tmp_path):
    """tap-csv applies singer-sdk's inline stream maps; target-iceberg loads the mapped stream.

    singer-sdk declares an object-valued map expression as a string but emits an object, which
    target-iceberg refuses; with flattening enabled singer-sdk emits it as JSON text.
    """
    config = {
        **TAP_CSV_CONFIG,
        "stream_maps": {"customers": {
            "email": "__NULL__",
            "email_domain": "email.split('@')[-1]",
            "profile": "{'name': name, 'active': active}",
        }},
        "flattening_enabled": True,
        "flattening_max_depth": 1,
    }
    warehouse = tmp_path / "warehouse"
    pipeline(
        [dativo_bin("tap-csv"), "--config", write_json(tmp_path / "tap.json", config)],
        [dativo_bin("target-iceberg"), "--config", write_json(tmp_path / "t.json", {"warehouse": str(warehouse)})],
    )
    expected = [
        {**{k: v for k, v in row.items() if k != "email"}, "email_domain": "example.com",
         "profile": json.dumps({"name": row["name"], "active": row["active"]}, separators=(",", ":"))}
        for row in customers()
    ]
    assert iceberg_rows(warehouse, "customers") == expected
