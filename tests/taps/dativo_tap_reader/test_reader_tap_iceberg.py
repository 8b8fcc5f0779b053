"""The example reader's tap piped into target-iceberg, and the table read back with pyiceberg."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pyiceberg.catalog.sql import SqlCatalog
from reader_tap_shop import EXAMPLE_REFERENCE, create_shop


@pytest.mark.slow
@pytest.mark.parametrize("output", ["records", "arrow"])
def test_tap_reader_loads_into_iceberg(tmp_path: Path, output: str) -> None:
    db = create_shop(tmp_path / "shop.db", orders=500)
    tap_config = tmp_path / "tap.json"
    tap_config.write_text(
        json.dumps(
            {
                "database": str(db),
                "replication_keys": {"orders": "updated_at"},
                "output": output,
                "batch_rows": 100,
            }
        )
    )
    warehouse = tmp_path / "warehouse"
    target_config = tmp_path / "target.json"
    target_config.write_text(json.dumps({"warehouse": str(warehouse)}))

    tap = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dativo_tap_reader.cli",
            "--reader",
            EXAMPLE_REFERENCE,
            "--config",
            str(tap_config),
        ],
        stdout=subprocess.PIPE,
    )
    target = subprocess.run(
        [
            sys.executable,
            "-m",
            "dativo_target_iceberg.cli",
            "--config",
            str(target_config),
        ],
        stdin=tap.stdout,
        capture_output=True,
        check=False,
        timeout=300,
    )
    assert tap.stdout is not None
    tap.stdout.close()
    assert tap.wait(timeout=60) == 0
    assert target.returncode == 0, target.stderr.decode()
    last = json.loads(target.stdout.splitlines()[-1])
    state = last.get("value", last)  # a STATE message, or the bare state value
    assert (
        state["bookmarks"]["orders"]["replication_key_value"]
        == "2024-03-01T00:08:20+00:00"
    )

    catalog = SqlCatalog(
        "dativo",
        uri=f"sqlite:///{warehouse / 'catalog.db'}",
        warehouse=warehouse.as_uri(),
    )
    orders = catalog.load_table("default.orders").scan().to_arrow().sort_by("id")
    assert orders.num_rows == 500
    assert orders.column("id").to_pylist() == list(range(1, 501))
    assert orders.column("amount").to_pylist()[:3] == [2.5, 5.0, 7.5]
    assert orders.column("note").to_pylist()[3] == "line one\nline 4"
    assert str(orders.column("updated_at")[0].as_py()) == "2024-03-01 00:00:01+00:00"
    customers = catalog.load_table("default.customers").scan().to_arrow().sort_by("id")
    assert customers.to_pylist() == [
        {"id": 1, "name": "Ada", "vip": True},
        {"id": 2, "name": 'Bo "the" Builder', "vip": False},
        {"id": 3, "name": "Zoë", "vip": None},
    ]
