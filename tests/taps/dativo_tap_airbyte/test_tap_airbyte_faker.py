"""tap-airbyte with the real Airbyte source-faker, installed by the pip runner into its own venv
(under the cache folder, so only the first run on a machine pays for the install)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dativo_core.airbyte.pip_install import ensure_installed
from dativo_core.jobs.recipes import find_recipe
from dativo_target_iceberg.catalog import embedded_catalog

pytestmark = pytest.mark.slow

TAP = [sys.executable, "-m", "dativo_tap_airbyte.cli"]
TARGET = [sys.executable, "-m", "dativo_target_iceberg.cli"]
COUNT = 30  # purchases: 10 per 10 users, so also 30; products: the first 30 of 100


@pytest.fixture(scope="session")
def faker_installed() -> Path:
    """The pip runner's own install step, as tap-airbyte would run it on first use."""
    install = find_recipe("source-faker").install
    return ensure_installed(install["package"], install["executable"])


@pytest.fixture(scope="module")
def discovered(faker_installed: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The catalog from `tap-airbyte --discover`, shared so each sync runs the connector once."""
    work = tmp_path_factory.mktemp("discover")
    result = _tap("--config", str(_config(work)), "--discover")
    assert result.returncode == 0, result.stderr.decode()
    path = work / "catalog.json"
    path.write_bytes(result.stdout)
    return path


def _config(tmp_path: Path, **airbyte_config: Any) -> Path:
    path = tmp_path / "tap-config.json"
    settings = {"count": COUNT, "records_per_slice": 10, **airbyte_config}
    path.write_text(json.dumps({"connector": "source-faker", "airbyte_config": settings}))
    return path


def _tap(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*TAP, *args], capture_output=True, timeout=300)


def _sync_into_iceberg(
    config: Path, catalog: Path, warehouse: Path, state: Path | None
) -> dict[str, Any]:
    """tap-airbyte | target-iceberg; the target's last STATE value."""
    target_config = warehouse.parent / "target-config.json"
    target_config.write_text(json.dumps({"warehouse": str(warehouse)}))
    tap_args = ["--config", str(config), "--catalog", str(catalog)]
    tap_args += ["--state", str(state)] if state else []
    tap = subprocess.Popen([*TAP, *tap_args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    target = subprocess.run(
        [*TARGET, "--config", str(target_config)], stdin=tap.stdout, capture_output=True,
        timeout=300,
    )
    tap.stdout.close()
    tap_err = tap.stderr.read()
    tap.stderr.close()
    assert tap.wait(timeout=60) == 0, tap_err.decode()
    assert target.returncode == 0, target.stderr.decode()
    states = [json.loads(line) for line in target.stdout.splitlines() if line.strip()]
    return states[-1]["value"] if states and "value" in states[-1] else states[-1]


def _rows(warehouse: Path, stream: str) -> list[dict[str, Any]]:
    table = embedded_catalog(warehouse).load_table(("default", stream))
    return table.scan().to_arrow().to_pylist()


def test_discover(discovered: Path) -> None:
    catalog = {s["tap_stream_id"]: s for s in json.loads(discovered.read_text())["streams"]}
    assert sorted(catalog) == ["products", "purchases", "users"]
    users = catalog["users"]
    assert users["key_properties"] == ["id"]
    assert users["replication_key"] == "updated_at"
    assert {"id", "email", "address", "updated_at"} <= set(users["schema"]["properties"])
    meta = next(m["metadata"] for m in users["metadata"] if m["breadcrumb"] == [])
    assert meta["airbyte-supported-sync-modes"] == ["full_refresh", "incremental"]


def test_check_succeeds_and_bad_config_fails_clearly(faker_installed: Path, tmp_path: Path) -> None:
    good = _tap("--config", str(_config(tmp_path)), "--test")
    assert good.returncode == 0, good.stderr.decode()
    assert b"connection check succeeded" in good.stderr

    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    bad = _tap("--config", str(_config(bad_dir, count="many")), "--test")
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines()[-1].decode() == (
        "tap-airbyte: error: source-faker failed (config_error): connection check failed: "
        "Config validation error: 'many' is not of type 'integer'"
    )


def test_bad_config_sync_exits_non_zero_with_failure_type(discovered: Path, tmp_path: Path) -> None:
    result = _tap("--config", str(_config(tmp_path, count="many")), "--catalog", str(discovered))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].decode() == (
        "tap-airbyte: error: source-faker failed (config_error): "
        "Config validation error: 'many' is not of type 'integer'"
    )
    assert b'"type":"RECORD"' not in result.stdout


def test_full_read_into_iceberg_then_incremental_reads_nothing_new(
    discovered: Path, tmp_path: Path
) -> None:
    config = _config(tmp_path)  # the recipe's defaults: seed 1, always_updated false
    warehouse = tmp_path / "warehouse"

    state = _sync_into_iceberg(config, discovered, warehouse, None)

    for stream in ("users", "products", "purchases"):
        rows = _rows(warehouse, stream)
        assert sorted(r["id"] for r in rows) == list(range(1, COUNT + 1)), stream
    users = _rows(warehouse, "users")
    assert all(r["email"] and r["updated_at"] for r in users)
    assert state["airbyte_state_type"] == "STREAM"
    assert sorted(state["bookmarks"]) == ["products", "purchases", "users"]
    assert state["bookmarks"]["users"]["stream_state"]["loop_offset"] == COUNT

    state_file = tmp_path / "state.json"
    state_file.write_text(json.dumps(state))
    second = _sync_into_iceberg(config, discovered, warehouse, state_file)

    for stream in ("users", "products", "purchases"):
        assert len(_rows(warehouse, stream)) == COUNT, f"{stream} got rows on the second run"
    assert second == state
