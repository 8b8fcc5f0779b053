"""The embedded catalog: pyiceberg's SqlCatalog tables in a sqlite file, kept with stdlib sqlite3.

pyiceberg's `SqlCatalog` reaches sqlite through SQLAlchemy, whose import (engine, ORM,
dialect) took ~0.4 CPU-s of every target start, a seventh of a whole 1M-row load. This
catalog reads and writes the same two tables (`iceberg_tables`, `iceberg_namespace_properties`,
pyiceberg's "v1" layout, or "v0" where a catalog predates its `iceberg_type` column) with the
same statements, so `SqlCatalog(uri="sqlite:///.../catalog.db")` and any tool built on it see
every table this writes, and the other way round. Commits are compare-and-swap on the
metadata location, as in SqlCatalog: a writer that lost the race gets CommitFailedException.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyiceberg.catalog import Catalog, MetastoreCatalog, PropertiesUpdateSummary
from pyiceberg.exceptions import (
    CommitFailedException,
    NamespaceAlreadyExistsError,
    NamespaceNotEmptyError,
    NoSuchNamespaceError,
    NoSuchTableError,
    TableAlreadyExistsError,
)
from pyiceberg.io import load_file_io
from pyiceberg.partitioning import UNPARTITIONED_PARTITION_SPEC, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.serializers import FromInputFile
from pyiceberg.table import CommitTableResponse, Table, TableProperties
from pyiceberg.table.locations import load_location_provider
from pyiceberg.table.metadata import new_table_metadata
from pyiceberg.table.sorting import UNSORTED_SORT_ORDER, SortOrder
from pyiceberg.table.update import TableRequirement, TableUpdate
from pyiceberg.typedef import EMPTY_DICT, Identifier, Properties

if TYPE_CHECKING:
    import pyarrow as pa

    from pyiceberg.view import View
    from pyiceberg.view.metadata import ViewVersion

# The DDL SQLAlchemy emits for pyiceberg's SqlCatalog models, so either side may create the file.
_CREATE_TABLES = (
    """CREATE TABLE IF NOT EXISTS iceberg_tables (
\tcatalog_name VARCHAR(255) NOT NULL, 
\ttable_namespace VARCHAR(255) NOT NULL, 
\ttable_name VARCHAR(255) NOT NULL, 
\tmetadata_location VARCHAR(1000), 
\tprevious_metadata_location VARCHAR(1000), 
\ticeberg_type VARCHAR(5), 
\tPRIMARY KEY (catalog_name, table_namespace, table_name)
)""",
    """CREATE TABLE IF NOT EXISTS iceberg_namespace_properties (
\tcatalog_name VARCHAR(255) NOT NULL, 
\tnamespace VARCHAR(255) NOT NULL, 
\tproperty_key VARCHAR(255) NOT NULL, 
\tproperty_value VARCHAR(1000) NOT NULL, 
\tPRIMARY KEY (catalog_name, namespace, property_key)
)""",
)
TABLE_TYPE = "TABLE"
_NAMESPACE_MINIMAL_PROPERTIES = {"exists": "true"}
_BUSY_TIMEOUT_SECONDS = 30.0  # another writer's commit holds the file for milliseconds


def _like_prefix(namespace: str) -> str:
    """A LIKE pattern (escape `!`) for the namespaces nested in `namespace`."""
    return namespace.replace("!", "!!").replace("_", "!_").replace("%", "!%") + ".%"


class SqliteCatalog(MetastoreCatalog):
    """A pyiceberg catalog in a sqlite file, in the layout of pyiceberg's SqlCatalog."""

    def __init__(self, name: str, path: str | Path, **properties: str) -> None:
        super().__init__(name, **properties)
        self.path = Path(path)
        with self._connection() as db:
            db.execute("BEGIN")
            for statement in _CREATE_TABLES:
                db.execute(statement)
            db.execute("COMMIT")
            columns = {row[1] for row in db.execute("PRAGMA table_info(iceberg_tables)")}
        # A catalog made by an older pyiceberg has no iceberg_type column ("v0"): it works
        # without, as SqlCatalog does unless told to migrate.
        self._typed = "iceberg_type" in columns

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """A connection in autocommit mode: each statement is its own transaction unless BEGIN."""
        with closing(sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_SECONDS, isolation_level=None)) as db:
            yield db

    def _tables_where(self) -> str:
        """The condition on iceberg_tables rows that are tables (not views other engines keep there)."""
        if not self._typed:
            return "catalog_name = ?"
        return f"catalog_name = ? AND (iceberg_type = '{TABLE_TYPE}' OR iceberg_type IS NULL)"

    def _insert_table(self, db: sqlite3.Connection, namespace: str, table_name: str, metadata_location: str) -> None:
        try:
            if self._typed:
                db.execute(
                    "INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, metadata_location, "
                    "previous_metadata_location, iceberg_type) VALUES (?, ?, ?, ?, NULL, ?)",
                    (self.name, namespace, table_name, metadata_location, TABLE_TYPE),
                )
            else:
                db.execute(
                    "INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, metadata_location, "
                    "previous_metadata_location) VALUES (?, ?, ?, ?, NULL)",
                    (self.name, namespace, table_name, metadata_location),
                )
        except sqlite3.IntegrityError as exc:
            raise TableAlreadyExistsError(f"Table {namespace}.{table_name} already exists") from exc

    @staticmethod
    def _split(identifier: str | Identifier) -> tuple[str, str]:
        return Catalog.namespace_to_string(Catalog.namespace_from(identifier)), Catalog.table_name_from(identifier)

    def _metadata_location(self, namespace: str, table_name: str) -> str | None:
        with self._connection() as db:
            row = db.execute(
                f"SELECT metadata_location FROM iceberg_tables WHERE {self._tables_where()} "
                "AND table_namespace = ? AND table_name = ?",
                (self.name, namespace, table_name),
            ).fetchone()
        return row[0] if row else None

    # -- tables -------------------------------------------------------------------------------

    def create_table(
        self,
        identifier: str | Identifier,
        schema: Schema | pa.Schema,
        location: str | None = None,
        partition_spec: PartitionSpec = UNPARTITIONED_PARTITION_SPEC,
        sort_order: SortOrder = UNSORTED_SORT_ORDER,
        properties: Properties = EMPTY_DICT,
    ) -> Table:
        format_version = int(properties.get(TableProperties.FORMAT_VERSION, TableProperties.DEFAULT_FORMAT_VERSION))
        iceberg_schema: Schema = self._convert_schema_if_needed(schema, format_version)  # type: ignore[arg-type]
        namespace, table_name = self._split(identifier)
        if not self.namespace_exists(namespace):
            raise NoSuchNamespaceError(f"Namespace does not exist: {namespace}")
        location = self._resolve_table_location(location, namespace, table_name)
        metadata_location = load_location_provider(
            table_location=location, table_properties=properties
        ).new_table_metadata_file_location()
        metadata = new_table_metadata(
            location=location, schema=iceberg_schema, partition_spec=partition_spec, sort_order=sort_order,
            properties=properties,
        )
        self._write_metadata(metadata, load_file_io(properties=self.properties, location=metadata_location),
                             metadata_location)
        with self._connection() as db:
            self._insert_table(db, namespace, table_name, metadata_location)
        return self.load_table(identifier)

    def register_table(self, identifier: str | Identifier, metadata_location: str, overwrite: bool = False) -> Table:
        if overwrite:
            raise NotImplementedError("`overwrite` isn't supported (nor by pyiceberg's SqlCatalog)")
        namespace, table_name = self._split(identifier)
        if not self.namespace_exists(namespace):
            raise NoSuchNamespaceError(f"Namespace does not exist: {namespace}")
        with self._connection() as db:
            self._insert_table(db, namespace, table_name, metadata_location)
        return self.load_table(identifier)

    def load_table(self, identifier: str | Identifier) -> Table:
        namespace, table_name = self._split(identifier)
        metadata_location = self._metadata_location(namespace, table_name)
        if not metadata_location:
            raise NoSuchTableError(f"Table does not exist: {namespace}.{table_name}")
        io = load_file_io(properties=self.properties, location=metadata_location)
        metadata = FromInputFile.table_metadata(io.new_input(metadata_location))
        return Table(
            identifier=Catalog.identifier_to_tuple(namespace) + (table_name,),
            metadata=metadata,
            metadata_location=metadata_location,
            io=self._load_file_io(metadata.properties, metadata_location),
            catalog=self,
        )

    def drop_table(self, identifier: str | Identifier) -> None:
        namespace, table_name = self._split(identifier)
        with self._connection() as db:
            dropped = db.execute(
                f"DELETE FROM iceberg_tables WHERE {self._tables_where()} AND table_namespace = ? AND table_name = ?",
                (self.name, namespace, table_name),
            ).rowcount
        if dropped < 1:
            raise NoSuchTableError(f"Table does not exist: {namespace}.{table_name}")

    def rename_table(self, from_identifier: str | Identifier, to_identifier: str | Identifier) -> Table:
        from_namespace, from_name = self._split(from_identifier)
        to_namespace, to_name = self._split(to_identifier)
        if not self.namespace_exists(to_namespace):
            raise NoSuchNamespaceError(f"Namespace does not exist: {to_namespace}")
        with self._connection() as db:
            try:
                renamed = db.execute(
                    f"UPDATE iceberg_tables SET table_namespace = ?, table_name = ? WHERE {self._tables_where()} "
                    "AND table_namespace = ? AND table_name = ?",
                    (to_namespace, to_name, self.name, from_namespace, from_name),
                ).rowcount
            except sqlite3.IntegrityError as exc:
                raise TableAlreadyExistsError(f"Table {to_namespace}.{to_name} already exists") from exc
        if renamed < 1:
            raise NoSuchTableError(f"Table does not exist: {from_name}")
        return self.load_table(to_identifier)

    def commit_table(
        self, table: Table, requirements: tuple[TableRequirement, ...], updates: tuple[TableUpdate, ...]
    ) -> CommitTableResponse:
        """Write the new metadata file, then swap the table's pointer to it only if nobody did first."""
        namespace, table_name = self._split(table.name())
        try:
            current: Table | None = self.load_table(table.name())
        except NoSuchTableError:
            current = None
        staged = self._update_and_stage_table(current, table.name(), requirements, updates)
        if current is not None and staged.metadata == current.metadata:
            return CommitTableResponse(metadata=current.metadata, metadata_location=current.metadata_location)
        self._write_metadata(metadata=staged.metadata, io=staged.io, metadata_path=staged.metadata_location)
        with self._connection() as db:
            if current is None:
                self._insert_table(db, namespace, table_name, staged.metadata_location)
            else:
                swapped = db.execute(
                    "UPDATE iceberg_tables SET metadata_location = ?, previous_metadata_location = ? "
                    "WHERE catalog_name = ? AND table_namespace = ? AND table_name = ? AND metadata_location = ?",
                    (staged.metadata_location, current.metadata_location, self.name, namespace, table_name,
                     current.metadata_location),
                ).rowcount
                if swapped < 1:
                    raise CommitFailedException(f"Table has been updated by another process: {namespace}.{table_name}")
        return CommitTableResponse(metadata=staged.metadata, metadata_location=staged.metadata_location)

    def list_tables(self, namespace: str | Identifier) -> list[Identifier]:
        if namespace and not self.namespace_exists(namespace):
            raise NoSuchNamespaceError(f"Namespace does not exist: {namespace}")
        name = Catalog.namespace_to_string(namespace)
        with self._connection() as db:
            rows = db.execute(
                f"SELECT table_namespace, table_name FROM iceberg_tables WHERE {self._tables_where()} "
                "AND table_namespace = ?",
                (self.name, name),
            ).fetchall()
        return [Catalog.identifier_to_tuple(space) + (table_name,) for space, table_name in rows]

    # -- namespaces ---------------------------------------------------------------------------

    def namespace_exists(self, namespace: str | Identifier) -> bool:
        """Whether a namespace has properties, or tables, itself or in namespaces nested in it."""
        name = Catalog.namespace_to_string(Catalog.identifier_to_tuple(namespace), NoSuchNamespaceError)
        pattern = _like_prefix(name)
        with self._connection() as db:
            return bool(
                db.execute(
                    "SELECT 1 FROM iceberg_tables WHERE catalog_name = ? "
                    "AND (table_namespace = ? OR table_namespace LIKE ? ESCAPE '!') LIMIT 1",
                    (self.name, name, pattern),
                ).fetchone()
                or db.execute(
                    "SELECT 1 FROM iceberg_namespace_properties WHERE catalog_name = ? "
                    "AND (namespace = ? OR namespace LIKE ? ESCAPE '!') LIMIT 1",
                    (self.name, name, pattern),
                ).fetchone()
            )

    def create_namespace(self, namespace: str | Identifier, properties: Properties = EMPTY_DICT) -> None:
        if self.namespace_exists(namespace):
            raise NamespaceAlreadyExistsError(f"Namespace {namespace} already exists")
        name = Catalog.namespace_to_string(namespace, NoSuchNamespaceError)
        values = [(self.name, name, key, value) for key, value in (properties or _NAMESPACE_MINIMAL_PROPERTIES).items()]
        with self._connection() as db:
            try:
                db.execute("BEGIN")
                db.executemany(
                    "INSERT INTO iceberg_namespace_properties (catalog_name, namespace, property_key, property_value) "
                    "VALUES (?, ?, ?, ?)",
                    values,
                )
                db.execute("COMMIT")
            except sqlite3.IntegrityError as exc:
                db.execute("ROLLBACK")
                raise NamespaceAlreadyExistsError(f"Namespace {namespace} already exists") from exc

    def drop_namespace(self, namespace: str | Identifier) -> None:
        if not self.namespace_exists(namespace):
            raise NoSuchNamespaceError(f"Namespace does not exist: {namespace}")
        name = Catalog.namespace_to_string(namespace)
        if tables := self.list_tables(namespace):
            raise NamespaceNotEmptyError(f"Namespace {name} is not empty. {len(tables)} tables exist.")
        with self._connection() as db:
            db.execute(
                "DELETE FROM iceberg_namespace_properties WHERE catalog_name = ? AND namespace = ?", (self.name, name)
            )

    def list_namespaces(self, namespace: str | Identifier = ()) -> list[Identifier]:
        """The namespaces one level below `namespace` (the top level by default)."""
        if namespace and not self.namespace_exists(namespace):
            raise NoSuchNamespaceError(f"Namespace does not exist: {namespace}")
        parent = Catalog.identifier_to_tuple(namespace)
        query = (
            "SELECT table_namespace FROM iceberg_tables WHERE catalog_name = ?{0} "
            "UNION SELECT namespace FROM iceberg_namespace_properties WHERE catalog_name = ?{1}"
        )
        if parent:
            like = Catalog.namespace_to_string(namespace, NoSuchNamespaceError) + "%"
            statement = query.format(" AND table_namespace LIKE ?", " AND namespace LIKE ?")
            parameters: tuple[str, ...] = (self.name, like, self.name, like)
        else:
            statement, parameters = query.format("", ""), (self.name, self.name)
        with self._connection() as db:
            names = [row[0] for row in db.execute(statement, parameters)]
        depth = len(parent) + 1
        found = {Catalog.identifier_to_tuple(name) for name in names}
        # LIKE's `_` and `%` match loosely: keep only true children of `parent`.
        return list({space[:depth] for space in found if len(space) >= depth and space[: depth - 1] == parent})

    def load_namespace_properties(self, namespace: str | Identifier) -> Properties:
        name = Catalog.namespace_to_string(namespace)
        if not self.namespace_exists(namespace):
            raise NoSuchNamespaceError(f"Namespace {name} does not exists")
        with self._connection() as db:
            rows = db.execute(
                "SELECT property_key, property_value FROM iceberg_namespace_properties "
                "WHERE catalog_name = ? AND namespace = ?",
                (self.name, name),
            ).fetchall()
        return dict(rows)

    def update_namespace_properties(
        self, namespace: str | Identifier, removals: set[str] | None = None, updates: Properties = EMPTY_DICT
    ) -> PropertiesUpdateSummary:
        name = Catalog.namespace_to_string(namespace)
        current = self.load_namespace_properties(namespace)
        summary = self._get_updated_props_and_update_summary(
            current_properties=current, removals=removals, updates=updates
        )[0]
        replaced = set(removals or ()) | set(updates)
        with self._connection() as db:
            db.execute("BEGIN")
            db.executemany(
                "DELETE FROM iceberg_namespace_properties WHERE catalog_name = ? AND namespace = ? AND property_key = ?",
                [(self.name, name, key) for key in replaced],
            )
            db.executemany(
                "INSERT INTO iceberg_namespace_properties (catalog_name, namespace, property_key, property_value) "
                "VALUES (?, ?, ?, ?)",
                [(self.name, name, key, value) for key, value in updates.items()],
            )
            db.execute("COMMIT")
        return summary

    # -- views: pyiceberg's SqlCatalog has none either ----------------------------------------

    def _no_views(self) -> Any:
        raise NotImplementedError("views are not supported by this catalog (nor by pyiceberg's SqlCatalog)")

    def create_view(
        self,
        identifier: str | Identifier,
        schema: Schema | pa.Schema,
        view_version: ViewVersion,
        location: str | None = None,
        properties: Properties = EMPTY_DICT,
    ) -> View:
        return self._no_views()

    def list_views(self, namespace: str | Identifier) -> list[Identifier]:
        return self._no_views()

    def view_exists(self, identifier: str | Identifier) -> bool:
        return self._no_views()

    def register_view(self, identifier: str | Identifier, metadata_location: str) -> View:
        return self._no_views()

    def drop_view(self, identifier: str | Identifier) -> None:
        return self._no_views()

    def load_view(self, identifier: str | Identifier) -> View:
        return self._no_views()
