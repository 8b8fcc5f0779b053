"""`dativo run --job-dir` on the multi-tenant example: two tenants, two jobs each, secrets in
each tenant's folder, a contract with a violating row, and a broken job that must not stop the
others. Real subprocesses (tap-csv, target-iceberg checking the contract itself) and real Iceberg
on sqlite."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from pyiceberg.catalog.sql import SqlCatalog

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
RUN = [sys.executable, "-m", "dativo_core.cli.main", "run"]
TENANTS = ("acme", "globex")
BROKEN_JOB = """
tenant: globex
name: broken
source:
  connector: tap-csv
  config:
    files: [{entity: stores, path: "${secret:s3_secret_key}"}]
"""


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("example")
    for folder in ("jobs", "job_data"):
        shutil.copytree(EXAMPLES / folder, root / folder)
    (root / "jobs" / "globex" / "broken.yaml").write_text(BROKEN_JOB)
    values = {}
    for tenant in TENANTS:
        folder = root / "secrets" / tenant
        folder.mkdir(parents=True, mode=0o700)
        values[tenant] = {
            "iceberg_catalog_uri": f"sqlite:///{root / 'catalogs' / secrets.token_hex(8)}.db",
            "s3_secret_key": f"{tenant}-key-{secrets.token_hex(16)}",
        }
        for name, value in values[tenant].items():
            descriptor = os.open(folder / name, os.O_WRONLY | os.O_CREAT, 0o600)
            os.write(descriptor, value.encode())
            os.close(descriptor)
    (root / "catalogs").mkdir()
    (root / "tmp").mkdir()
    env = {**os.environ, "TARGET_ICEBERG_WAREHOUSE": str(root / "warehouse"), "TMPDIR": str(root / "tmp")}
    first = _run(root, env)
    (root / "jobs" / "globex" / "broken.yaml").unlink()
    second = _run(root, env)
    return {"root": root, "secrets": values, "first": first, "second": second}


def _run(root: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*RUN, "--job-dir", "jobs", "--audit-log", "audit.jsonl", "--progress-interval", "0"],
        cwd=root, env=env, capture_output=True, text=True, timeout=600, check=False,
    )


def _catalog(example: dict, tenant: str) -> SqlCatalog:
    uri = example["secrets"][tenant]["iceberg_catalog_uri"]
    return SqlCatalog("dativo", uri=uri, warehouse=(example["root"] / "warehouse").as_uri())


def _rows(example: dict, tenant: str, table: str) -> list[dict]:
    rows = _catalog(example, tenant).load_table(f"{tenant}.{table}").scan().to_arrow().to_pylist()
    return sorted(rows, key=lambda row: str(next(iter(row.values()))))


def test_first_run_loads_every_job_and_reports_the_broken_one(example):
    first = example["first"]
    assert first.returncode == 1, first.stderr
    lines = first.stdout.splitlines()
    assert lines[:2] == ["acme/customers: ok, 4 records (customers 4)", "acme/orders: ok, 3 records (orders 3)"]
    assert lines[2].startswith("globex/broken: FAILED: config key 'files.0.path' of tap-csv references")
    assert lines[3:] == ["globex/products: ok, 2 records (products 2)", "globex/stores: ok, 3 records (stores 3)"]
    assert "4 of 5 jobs succeeded" in first.stderr


def test_tables_hold_the_good_rows_and_only_the_selected_fields(example):
    customers = _rows(example, "acme", "customers")
    assert [(r["customer_id"], r["email"]) for r in customers] == [
        (1, "ada@example.com"), (2, "alan@example.com"), (4, "cathy@example.com")]
    assert [r["order_id"] for r in _rows(example, "acme", "orders")] == [100, 101, 102]
    products = _rows(example, "globex", "products")
    assert [(r["sku"], r["price"]) for r in products] == [("G-1", 4.99), ("G-2", 19.5)]
    assert "internal_note" not in products[0]
    assert [r["city"] for r in _rows(example, "globex", "stores")] == ["Springfield", "Shelbyville", "Ogdenville"]
    # Each tenant's catalog holds its own tables only; globex/stores left products deselected.
    assert sorted(_catalog(example, "acme").list_tables("acme")) == [
        ("acme", "customers"), ("acme", "customers__quarantine"), ("acme", "orders")]
    assert _catalog(example, "acme").list_namespaces() == [("acme",)]


def test_violating_row_is_quarantined_by_the_target_in_a_table(example):
    (row,) = _rows(example, "acme", "customers__quarantine")
    assert (row["_dativo_stream"], row["_dativo_rule"], row["_dativo_source_line"]) == ("customers", "format", 4)
    assert "not-an-email" in row["_dativo_reason"]
    assert orjson.loads(row["_dativo_record"])["full_name"] == "Grace Hopper"
    # target-iceberg checked the contract itself: no mapper ran and no quarantine file was left.
    first = example["first"].stderr
    assert "[dativo-validate]" not in first
    assert "stream 'customers': 4 records checked, 1 broke the contract (quarantined)" in first
    assert not (example["root"] / "jobs/acme/quarantine").exists()


def test_audit_log_names_secrets_jobs_and_outcomes(example):
    events = [orjson.loads(line) for line in (example["root"] / "audit.jsonl").read_bytes().splitlines()]
    resolved = [e for e in events if e["event"] == "resolve" and e["outcome"] == "resolved"]
    assert sorted({(e["job"], e["plugin"]) for e in resolved}) == [
        ("acme/customers", "target-iceberg"), ("acme/orders", "target-iceberg"),
        ("globex/products", "target-iceberg"), ("globex/stores", "target-iceberg")]
    assert {(s["key"], s["name"], s["backend"]) for s in resolved[0]["secrets"]} == {
        ("catalog.uri", "iceberg_catalog_uri", "directory"),
        ("catalog.s3.secret-access-key", "s3_secret_key", "directory")}
    (refused,) = [e for e in events if e["event"] == "resolve" and e["outcome"] == "refused"]
    assert (refused["job"], refused["plugin"]) == ("globex/broken", "tap-csv")
    runs = [(e["job"], e["outcome"], e.get("records")) for e in events if e["event"] == "run"]
    assert runs[:5] == [
        ("acme/customers", "ok", {"customers": 4}), ("acme/orders", "ok", {"orders": 3}),
        ("globex/broken", "failed", None), ("globex/products", "ok", {"products": 2}),
        ("globex/stores", "ok", {"stores": 3})]


def test_rerun_loads_nothing_new(example):
    second = example["second"]
    assert second.returncode == 0, second.stderr
    assert second.stdout.splitlines() == [
        "acme/customers: ok, 0 records", "acme/orders: ok, 0 records",
        "globex/products: ok, 0 records", "globex/stores: ok, 0 records"]
    assert len(_rows(example, "acme", "customers")) == 3
    assert len(_rows(example, "acme", "customers__quarantine")) == 1
    assert len(_rows(example, "globex", "stores")) == 3


def test_no_secret_value_in_any_output_or_file_left_behind(example):
    root = example["root"]
    values = [v for tenant in example["secrets"].values() for v in tenant.values()]
    outputs = [example[run].stdout + example[run].stderr for run in ("first", "second")]
    files = [p for p in root.rglob("*") if p.is_file() and root / "secrets" not in p.parents]
    assert len(files) > 20
    for value in values:
        assert all(value not in text for text in outputs)
        assert [p for p in files if value.encode() in p.read_bytes()] == []
    assert list((root / "tmp").iterdir()) == []  # private config folders are gone
