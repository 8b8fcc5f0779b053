"""The embedded sqlite catalog against pyiceberg's own SqlCatalog on the same file: each sees
what the other wrote, commits race as compare-and-swap, and namespaces behave alike."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pytest
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.exceptions import (
    CommitFailedException,
    NamespaceAlreadyExistsError,
    NamespaceNotEmptyError,
    NoSuchNamespaceError,
    NoSuchTableError,
    TableAlreadyExistsError,
)

from dativo_target_iceberg.catalog import EMBEDDED_CATALOG_NAME, embedded_catalog
from dativo_target_iceberg.sqlite_catalog import SqliteCatalog

ROWS = pa.table({"id": pa.array([1, 2, 3], pa.int64()), "name": pa.array(["a", "b", None], pa.string())})


def pyiceberg_catalog(root: Path) -> SqlCatalog:
    return SqlCatalog(EMBEDDED_CATALOG_NAME, uri=f"sqlite:///{root / 'catalog.db'}", warehouse=root.as_uri())


def test_sqlcatalog_reads_what_the_embedded_catalog_wrote(tmp_path: Path) -> None:
    ours = embedded_catalog(tmp_path)
    ours.create_namespace_if_not_exists("default")
    table = ours.create_table(("default", "items"), schema=ROWS.schema)
    table.append(ROWS)
    table.append(ROWS.slice(0, 1))

    theirs = pyiceberg_catalog(tmp_path)
    assert theirs.list_namespaces() == [("default",)]
    assert theirs.load_namespace_properties("default") == {"exists": "true"}
    assert theirs.list_tables("default") == [("default", "items")]
    read = theirs.load_table(("default", "items"))
    assert read.metadata_location == ours.load_table(("default", "items")).metadata_location
    assert sorted(read.scan().to_arrow().to_pylist(), key=lambda r: (r["id"], r["name"] or "")) == [
        {"id": 1, "name": "a"}, {"id": 1, "name": "a"}, {"id": 2, "name": "b"}, {"id": 3, "name": None}
    ]
    # Both tools' later commits keep working on the shared pointer.
    read.append(ROWS.slice(2, 1))
    assert ours.load_table(("default", "items")).scan().to_arrow().num_rows == 5


def test_embedded_catalog_reads_and_commits_to_sqlcatalog_tables(tmp_path: Path) -> None:
    theirs = pyiceberg_catalog(tmp_path)
    theirs.create_namespace("sales", {"owner": "ops"})
    theirs.create_table(("sales", "orders"), schema=ROWS.schema).append(ROWS)

    ours = embedded_catalog(tmp_path)
    assert ours.namespace_exists("sales")
    assert ours.load_namespace_properties("sales") == {"owner": "ops"}
    table = ours.load_table(("sales", "orders"))
    table.append(ROWS)
    assert theirs.load_table(("sales", "orders")).scan().to_arrow().num_rows == 6
    row = sqlite3.connect(tmp_path / "catalog.db").execute(
        "SELECT previous_metadata_location, iceberg_type FROM iceberg_tables WHERE table_name = 'orders'"
    ).fetchone()
    assert row[0] is not None and row[1] == "TABLE"


def test_concurrent_commits_lose_no_rows(tmp_path: Path) -> None:
    """Writers racing on one table: the pointer swap lets one win at a time, the others retry."""
    catalog = embedded_catalog(tmp_path)
    catalog.create_namespace("default")
    catalog.create_table(("default", "t"), schema=ROWS.schema)

    def append_rows(writer: int) -> None:
        table = embedded_catalog(tmp_path).load_table(("default", "t"))
        for _ in range(3):
            for attempt in range(20):
                try:
                    table.append(ROWS.slice(writer % 3, 1))
                    break
                except CommitFailedException:
                    table = table.refresh()
            else:
                raise AssertionError("a commit never got through")

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(append_rows, range(4)))
    read = pyiceberg_catalog(tmp_path).load_table(("default", "t"))
    assert sorted(read.scan().to_arrow().column("id").to_pylist()) == [1, 1, 1, 1, 1, 1, 2, 2, 2, 3, 3, 3]
    assert len(read.snapshots()) == 12


def test_tables_and_namespaces_lifecycle(tmp_path: Path) -> None:
    catalog = embedded_catalog(tmp_path)
    catalog.create_namespace("a")
    catalog.create_namespace("a.b", {"location": (tmp_path / "elsewhere").as_uri()})
    with pytest.raises(NamespaceAlreadyExistsError):
        catalog.create_namespace("a")
    assert sorted(catalog.list_namespaces()) == [("a",)]
    assert catalog.list_namespaces("a") == [("a", "b")]
    catalog.create_table(("a", "t"), schema=ROWS.schema)
    nested = catalog.create_table(("a.b", "t"), schema=ROWS.schema)
    assert nested.location() == f"{(tmp_path / 'elsewhere').as_uri()}/t"
    with pytest.raises(TableAlreadyExistsError):
        catalog.create_table(("a", "t"), schema=ROWS.schema)
    with pytest.raises(NoSuchNamespaceError):
        catalog.create_table(("nowhere", "t"), schema=ROWS.schema)

    catalog.rename_table(("a", "t"), ("a.b", "u"))
    assert sorted(catalog.list_tables("a.b")) == [("a", "b", "t"), ("a", "b", "u")]
    assert catalog.list_tables("a") == []
    with pytest.raises(NoSuchTableError):
        catalog.load_table(("a", "t"))
    with pytest.raises(NamespaceNotEmptyError):
        catalog.drop_namespace("a.b")
    catalog.drop_table(("a.b", "t"))
    catalog.drop_table(("a.b", "u"))
    with pytest.raises(NoSuchTableError):
        catalog.drop_table(("a.b", "u"))

    summary = catalog.update_namespace_properties("a", removals={"exists", "gone"}, updates={"owner": "me"})
    assert (summary.removed, summary.updated, summary.missing) == (["exists"], ["owner"], ["gone"])
    assert pyiceberg_catalog(tmp_path).load_namespace_properties("a") == {"owner": "me"}
    catalog.drop_namespace("a.b")
    assert catalog.list_namespaces("a") == []


def test_a_catalog_without_the_iceberg_type_column_still_works(tmp_path: Path) -> None:
    """pyiceberg before 0.10 made catalogs without `iceberg_type` ("v0"); they stay as they are."""
    with sqlite3.connect(tmp_path / "catalog.db") as db:
        db.execute(
            "CREATE TABLE iceberg_tables (catalog_name VARCHAR(255) NOT NULL, table_namespace VARCHAR(255) "
            "NOT NULL, table_name VARCHAR(255) NOT NULL, metadata_location VARCHAR(1000), "
            "previous_metadata_location VARCHAR(1000), PRIMARY KEY (catalog_name, table_namespace, table_name))"
        )
    catalog = SqliteCatalog(EMBEDDED_CATALOG_NAME, tmp_path / "catalog.db", warehouse=tmp_path.as_uri())
    catalog.create_namespace("default")
    catalog.create_table(("default", "t"), schema=ROWS.schema).append(ROWS)
    assert catalog.list_tables("default") == [("default", "t")]
    assert pyiceberg_catalog(tmp_path).load_table(("default", "t")).scan().to_arrow().num_rows == 3
