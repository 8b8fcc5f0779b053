"""One stream's Iceberg table: created or evolved from SCHEMA, fed Arrow batches, committed."""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cache
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import (
    CommitFailedException,
    NoSuchTableError,
    TableAlreadyExistsError,
    ValidationError,
)
from pyiceberg.expressions import IsNull, LessThan, Or
from pyiceberg.table import Table, TableProperties, Transaction
from pyiceberg.table.metadata import TableMetadata
from pyiceberg.table.upsert_util import create_match_filter
from pyiceberg.transforms import parse_transform
from pyiceberg.types import LongType
from pyiceberg.utils.properties import property_as_bool

from dativo_core.parquet_dictionaries import dictionary_columns
from dativo_core.singer import SingerProtocolError
from dativo_target_iceberg import batch_files
from dativo_target_iceberg.config import PartitionField
from dativo_target_iceberg.data_files import WrittenFile, data_file_entry, plainly_compatible
from dativo_target_iceberg.records import VERSION_COLUMN, RecordConverter
from dativo_target_iceberg.stream_schema import StreamSchema

log = logging.getLogger("target-iceberg")

COMMIT_ATTEMPTS = 8
SPILL_ROWS = 1 << 17
"""Rows of a plain-append stream written to a data file on a helper thread as soon as they are
buffered: the commit then mostly registers files already written, so the target reads on while
Parquet is encoded, and at the end of the input little is left to write."""
DELETED_AT_COLUMN = "_sdc_deleted_at"
STATE_PROPERTY = "dativo.state"
STREAM_PROPERTY = "dativo.stream"
ROWS_AFTER_STATE_PROPERTY = "dativo.rows-after-state"
# Summary of a quarantine table's commits (see recovery.py): whose bad records, and how far.
QUARANTINE_OF_PROPERTY = "dativo.quarantine-of"
COVERED_STATE_PROPERTY = "dativo.quarantine.covered-state"
COVERED_ROWS_PROPERTY = "dativo.quarantine.covered-rows"


def last_per_key(data: pa.Table, keys: list[str]) -> pa.Table:
    """Keep, for each key, only its last row: within a batch the latest record wins."""
    position = "__dativo_position"
    numbered = data.append_column(position, pa.array(range(data.num_rows), pa.int64()))
    last = numbered.group_by(keys, use_threads=False).aggregate([(position, "max")])
    if last.num_rows == data.num_rows:
        return data
    positions = last.column(f"{position}_max")
    return data.take(pc.take(positions, pc.sort_indices(positions)))


def _key_column(data: pa.Table, keys: list[str]) -> pa.ChunkedArray:
    """One comparable column for possibly composite keys: the key values joined as text."""
    if len(keys) == 1:
        return data.column(keys[0])
    parts = [pc.cast(data.column(k), pa.string()) for k in keys]
    return pc.binary_join_element_wise(*parts, "\x1f")


def _compatible(old: pa.DataType, new: pa.DataType) -> bool:
    """Whether Iceberg can turn a column of type `old` into `new` (nested types: checked inside)."""
    if old == new or (pa.types.is_struct(old) and pa.types.is_struct(new)):
        return True
    if pa.types.is_list(old) or pa.types.is_large_list(old):
        return pa.types.is_list(new) or pa.types.is_large_list(new)
    if pa.types.is_integer(old) and pa.types.is_integer(new):
        return old.bit_width <= new.bit_width
    if pa.types.is_floating(old) and pa.types.is_floating(new):
        return old.bit_width <= new.bit_width
    if pa.types.is_string(old) or pa.types.is_large_string(old):
        return pa.types.is_string(new) or pa.types.is_large_string(new)
    return False


def _type_suffix(arrow_type: pa.DataType) -> str:
    if pa.types.is_timestamp(arrow_type):
        return "timestamptz"
    return {pa.int64(): "long", pa.float64(): "double", pa.bool_(): "boolean", pa.string(): "string",
            pa.date32(): "date", pa.time64("us"): "time"}.get(arrow_type) or (
        "struct" if pa.types.is_struct(arrow_type) else "list"
    )


def _changed_type_columns(table: pa.Schema, record: pa.Schema) -> dict[str, str]:
    """Record fields whose type the table's column cannot take, mapped to `<name>__<type>`."""
    return {
        f.name: f"{f.name}__{_type_suffix(f.type)}"
        for f in record
        if f.name in table.names and not _compatible(table.field(f.name).type, f.type)
    }


def _identifier_capable(field: pa.Field) -> bool:
    """Iceberg identifier fields must be required primitives other than float and double."""
    kind = field.type
    return not (
        pa.types.is_floating(kind) or pa.types.is_nested(kind) or field.nullable
    )


@cache
def _file_writer() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="data-file-writer")



def _appender(transaction: Transaction, properties: dict[str, str]) -> Any:
    """The snapshot producer for appending data files: merging manifests when the table has
    `commit.manifest-merge.enabled`, a fast append otherwise."""
    update = transaction.update_snapshot(snapshot_properties=properties)
    merge = property_as_bool(
        transaction.table_metadata.properties,
        TableProperties.MANIFEST_MERGE_ENABLED,
        TableProperties.MANIFEST_MERGE_ENABLED_DEFAULT,
    )
    return update.merge_append() if merge else update.fast_append()

class TableWriter:
    """Buffers a stream's converted batches and appends them to its table in one commit."""

    def __init__(
        self,
        catalog: Catalog,
        identifier: tuple[str, str],
        schema: StreamSchema,
        line: int,
        load_method: str = "append-only",
        rows_already_committed: int = 0,
        partition_by: tuple[PartitionField, ...] = (),
        table_properties: dict[str, str] | None = None,
        hard_delete: bool = False,
        keep_changed_types: bool = False,
        committed_state: bytes | None = None,
    ):
        """`partition_by` and `table_properties` shape a table this creates; existing ones keep theirs.

        `committed_state` and `rows_already_committed` are where the table's last commit left
        the stream (its state, and rows beyond it), when the run resumes from there.
        """
        if load_method == "upsert" and not schema.key_properties:
            raise SingerProtocolError(
                "load_method upsert needs key_properties", line=line, stream=schema.stream,
                hint="Send key_properties in the SCHEMA message or use append-only for this stream",
            )
        self.catalog = catalog
        self.load_method = load_method
        self.hard_delete = hard_delete and bool(schema.key_properties)
        self._replaced = False  # overwrite: the first commit of the run replaces the table
        self.identifier = identifier
        self.stream = schema.stream
        self.keep_changed_types = keep_changed_types
        self._partition_by = partition_by
        self._table_properties = table_properties or {}
        self.table, self.schema = self._create_or_evolve(schema, line)
        self.converter = self._converter()
        self.versions_loaded: set[int] = set()  # table versions whose rows this run has read
        self._batches: list[pa.Table] = []
        self._files: list[WrittenFile] = []  # parquet files in the table's folder, to register as they are
        self._spilled: list[Future[WrittenFile]] = []  # data files being written from buffered batches
        self.buffered_rows = 0
        self.buffered_bytes = 0
        # Rows committed after the last STATE: a resumed run counts the ones it skips here.
        self.rows_after_state = rows_already_committed
        # The state the table's last commit recorded, and the stream's rows received since it.
        self.committed_state = committed_state
        self.rows_since_committed_state = rows_already_committed

    @property
    def versioned(self) -> bool:
        """Whether the table keeps each row's table version (after an ACTIVATE_VERSION)."""
        return VERSION_COLUMN in self.table.schema().column_names

    def _converter(self) -> RecordConverter:
        schema = self.schema
        return RecordConverter(
            schema.stream, schema.arrow, schema.key_properties, versioned=self.versioned, columns=schema.columns
        )

    def keep_versions(self) -> None:
        """Add the `_sdc_table_version` column; the caller has committed what was buffered."""
        assert self._nothing_buffered, "flush before adding the version column"
        if not self.versioned:
            with self.table.update_schema() as update:
                update.add_column(VERSION_COLUMN, LongType(), doc="Singer table version of the row")
        self.converter = self._converter()

    @property
    def name(self) -> str:
        return ".".join(self.identifier)

    def _create_or_evolve(self, schema: StreamSchema, line: int) -> tuple[Table, StreamSchema]:
        try:
            table = self.catalog.load_table(self.identifier)
        except NoSuchTableError:
            try:
                return self._create(schema), schema
            except (TableAlreadyExistsError, CommitFailedException):
                # Another writer created it meanwhile (SqlCatalog reports that as a failed commit).
                table = self.catalog.load_table(self.identifier)
        return self._evolve(table, schema, line)

    def _create(self, schema: StreamSchema) -> Table:
        transaction = self.catalog.create_table_transaction(
            self.identifier, schema=schema.arrow, properties={**self._table_properties, STREAM_PROPERTY: schema.stream}
        )
        keys = [k for k in schema.key_properties if _identifier_capable(schema.arrow.field(k))]
        if keys:
            with transaction.update_schema() as update:
                update.set_identifier_fields(*keys)
        if self._partition_by:
            with transaction.update_spec() as spec:
                for partition in self._partition_by:
                    if partition.column not in schema.arrow.names:
                        raise SingerProtocolError(
                            f"partition column '{partition.column}' is not in the schema",
                            stream=schema.stream, field=partition.column,
                            hint="Fix streams.<stream>.partition_by in the target's config",
                        )
                    spec.add_field(partition.column, parse_transform(partition.transform))
        transaction.commit_transaction()
        return self.catalog.load_table(self.identifier)

    def _evolve(self, table: Table, schema: StreamSchema, line: int) -> tuple[Table, StreamSchema]:
        """Add new columns and widen types; columns the new schema lacks become optional.

        Changed key_properties become the identifier fields where Iceberg allows it: a key
        column the table holds as optional cannot be one, and rows keep their old identity.
        With `keep_changed_types`, a field whose type changed incompatibly is written to a
        new column `<name>__<type>` beside the old one instead of failing.
        """
        if self.keep_changed_types:
            schema = schema.with_columns(_changed_type_columns(table.schema().as_arrow(), schema.arrow))
        current = table.schema()
        wanted = set(schema.table_arrow.names)
        required_now = {f.name for f in current.fields if f.required}
        keys = [
            k for k in schema.key_properties
            if _identifier_capable(schema.arrow.field(k)) and k in required_now
        ]
        try:
            with table.update_schema() as update:
                if set(keys) != current.identifier_field_names():
                    update.set_identifier_fields(*keys)
                update.union_by_name(schema.table_arrow)
                for field in current.fields:
                    if field.required and field.name not in wanted:
                        update.make_column_optional(field.name)
        except (ValidationError, ValueError) as exc:
            raise SingerProtocolError(
                f"the new schema is incompatible with table {self.name}: {exc}",
                line=line, stream=schema.stream,
                hint="Only added columns and widened types can be applied to an existing table "
                "(or set keep_changed_types to write a changed field to a new column)",
            ) from None
        return table, schema

    def change_schema(self, schema: StreamSchema, line: int) -> None:
        """Apply a new SCHEMA; the caller has committed every batch read under the old one."""
        assert self._nothing_buffered, "flush before changing a stream's schema"
        self.table, self.schema = self._evolve(self.table, schema, line)
        self.converter = self._converter()

    def add(self, batch: pa.Table, received_rows: int | None = None) -> None:
        """Buffer a batch; `received_rows` counts the records it came from when a contract set
        some of them aside, so that a resumed run skips every record it had received."""
        received = batch.num_rows if received_rows is None else received_rows
        self.rows_after_state += received
        self.rows_since_committed_state += received
        if not batch.num_rows:
            return
        self._batches.append(batch)
        self.buffered_rows += batch.num_rows
        self.buffered_bytes += batch.nbytes
        if sum(b.num_rows for b in self._batches) >= SPILL_ROWS and self.can_register_files:
            self._spill()
        if self.converter.versioned:
            self.versions_loaded.update(v for v in pc.unique(batch.column(VERSION_COLUMN)).to_pylist() if v is not None)

    @property
    def can_register_files(self) -> bool:
        """Whether a parquet file may join the table unread: only plain appends (no versions, no
        hard deletes) to an unpartitioned table allow it."""
        return (
            self.load_method == "append-only"
            and not self.converter.versioned
            and not self.hard_delete
            and self.table.spec().is_unpartitioned()
        )

    @property
    def _nothing_buffered(self) -> bool:
        return not (self._batches or self._spilled or self._files)

    def _spill(self) -> None:
        """Write the buffered batches to a data file of the table on the helper thread."""
        data = pa.concat_tables(self._batches)
        self._batches.clear()
        path = f"{self.table.location()}/data/dativo-{uuid.uuid4()}.parquet"
        metadata = self.table.metadata
        entry_ready = plainly_compatible(data.schema, metadata.schema())
        self._spilled.append(_file_writer().submit(self._write_data_file, path, data, metadata, entry_ready))

    def _write_data_file(self, path: str, data: pa.Table, metadata: TableMetadata, make_entry: bool) -> WrittenFile:
        """Write the file and, when `make_entry`, its manifest entry from the writer's footer."""
        codec = metadata.properties.get("write.parquet.compression-codec", "zstd")
        footers: list[pq.FileMetaData] = []
        with self.table.io.new_output(path).create(overwrite=True) as out:
            pq.write_table(data, out, compression="none" if codec == "uncompressed" else codec,
                           use_dictionary=dictionary_columns(data), metadata_collector=footers)
            size = out.tell()
        entry = data_file_entry(metadata, path, footers[0], size) if make_entry else None
        return WrittenFile(path, entry, metadata.current_schema_id)

    def add_file(self, url: str) -> None:
        """Copy a parquet file, unread, into the table's data folder; the next commit registers it.

        Copied rather than referenced where it lies: a tap may delete its batch files.
        """
        path = f"{self.table.location()}/data/dativo-batch-{uuid.uuid4()}.parquet"
        with self.table.io.new_output(path).create(overwrite=True) as out:
            batch_files.copy_to(url, out)
        rows = batch_files.parquet_rows(path)
        self._files.append(WrittenFile(path, None, self.table.metadata.current_schema_id))
        self.buffered_rows += rows
        self.rows_after_state += rows
        self.rows_since_committed_state += rows

    def state_received(self) -> None:
        self.rows_after_state = 0

    def _snapshot_properties(self, state: bytes | None) -> dict[str, str]:
        properties = {STREAM_PROPERTY: self.stream, ROWS_AFTER_STATE_PROPERTY: str(self.rows_after_state)}
        if state is not None:
            properties[STATE_PROPERTY] = state.decode()
        return properties

    def activate_version(self, version: int, state: bytes | None) -> int:
        """Commit what is buffered and remove rows of older versions, in one atomic commit.

        An ACTIVATE_VERSION before any row of its version (a first full-table sync announces
        its version first) removes nothing, so readers never see the table empty.
        """
        if version not in self.versions_loaded:
            return self.commit(state)
        rows = self.buffered_rows
        properties = self._snapshot_properties(state)
        older = Or(LessThan(VERSION_COLUMN, version), IsNull(VERSION_COLUMN))

        def write() -> None:
            with self.table.transaction() as transaction:
                if self._batches:
                    transaction.append(pa.concat_tables(self._batches), snapshot_properties=properties)
                transaction.delete(older, snapshot_properties=properties)

        self._retrying(write)
        self._committed(state)
        return rows

    def _retrying(self, write: Callable[[], None]) -> None:
        """Commit, and when another writer committed first, reload the table and commit again.

        The buffered data is still in memory, so a retry writes it anew: nothing is lost.
        """
        for attempt in range(COMMIT_ATTEMPTS):
            try:
                write()
                return
            except CommitFailedException:
                if attempt == COMMIT_ATTEMPTS - 1:
                    raise
                log.info("%s changed under this commit (another writer): retrying", self.name)
                time.sleep(0.05 * 2**attempt * (1 + random.random()))
                self.table = self.table.refresh()

    def commit(self, state: bytes | None) -> int:
        """Append the buffered batches in one snapshot that records the state they are covered by."""
        if self._spilled:
            if self._batches:
                self._spill()  # the rest too, so the commit registers files only
            self._files.extend(written.result() for written in self._spilled)
            self._spilled.clear()
        if self._files:
            return self._commit_with_files(state)
        if not self._batches:
            return 0
        data = pa.concat_tables(self._batches)
        properties = self._snapshot_properties(state)
        self._retrying(lambda: self._write(data, properties))
        rows = self.buffered_rows
        self._committed(state)
        return rows

    def _write(self, data: pa.Table, properties: dict[str, str]) -> None:
        if self.hard_delete and DELETED_AT_COLUMN in data.column_names:
            self._delete_and_write(data, properties)
        elif self.load_method == "upsert":
            self._upsert(data, properties)
        elif self.load_method == "overwrite" and not self._replaced:
            if self.table.current_snapshot() is None:
                self.table.append(data, snapshot_properties=properties)
            else:
                self.table.overwrite(data, snapshot_properties=properties)
            self._replaced = True
        else:
            self.table.append(data, snapshot_properties=properties)

    def _commit_with_files(self, state: bytes | None) -> int:
        properties = self._snapshot_properties(state)

        def write() -> None:
            with self.table.transaction() as transaction:
                if self._batches:
                    transaction.append(pa.concat_tables(self._batches), snapshot_properties=properties)
                # Entries made for the schema the table still has are appended as they are; the
                # rest (tap files, or a schema another writer changed meanwhile) are read and checked.
                schema_id = transaction.table_metadata.current_schema_id
                ready = [f.entry for f in self._files if f.entry is not None and f.schema_id == schema_id]
                unread = [f.path for f in self._files if f.entry is None or f.schema_id != schema_id]
                if ready:
                    if transaction.table_metadata.name_mapping() is None:  # files without field ids, as add_files
                        mapping = transaction.table_metadata.schema().name_mapping.model_dump_json()
                        transaction.set_properties(**{TableProperties.DEFAULT_NAME_MAPPING: mapping})
                    # A fast or a merging append, as the table's properties ask (add_files chooses so too).
                    with _appender(transaction, properties) as append:
                        for entry in ready:
                            append.append_data_file(entry)
                if unread:
                    transaction.add_files(unread, snapshot_properties=properties, check_duplicate_files=False)

        self._retrying(write)
        rows = self.buffered_rows
        self._committed(state)
        return rows

    def _committed(self, state: bytes | None) -> None:
        self.committed_state = state
        self.rows_since_committed_state = self.rows_after_state
        self._clear()

    def _clear(self) -> None:
        self._files.clear()
        self._batches.clear()
        self.buffered_rows = 0
        self.buffered_bytes = 0

    def _delete_and_write(self, data: pa.Table, properties: dict[str, str]) -> None:
        """Hard delete: keys whose last record has `_sdc_deleted_at` leave the table, in one commit.

        Their rows are removed from the table and from this batch; the other records are
        written as the load method says (appended, or upserted).
        """
        keys = list(self.schema.key_properties)
        last = last_per_key(data, keys)
        gone = last.filter(pc.is_valid(last.column(DELETED_AT_COLUMN))).select(keys)
        kept = data
        if gone.num_rows:
            gone_mask = pc.is_in(_key_column(data, keys), value_set=_key_column(gone, keys).combine_chunks())
            kept = data.filter(pc.invert(gone_mask))
        kept = kept.filter(pc.is_null(kept.column(DELETED_AT_COLUMN)))
        if self.load_method == "upsert":
            kept = last_per_key(kept, keys)
        doomed = pa.concat_tables([gone, kept.select(keys)]) if self.load_method == "upsert" else gone
        with self.table.transaction() as transaction:
            if doomed.num_rows and self.table.current_snapshot() is not None:
                transaction.delete(create_match_filter(doomed, keys), snapshot_properties=properties)
            transaction.append(kept, snapshot_properties=properties)

    def _upsert(self, data: pa.Table, properties: dict[str, str]) -> None:
        """Replace rows whose keys arrive again, in one atomic commit (delete, then append).

        Done here rather than with pyiceberg's `Table.upsert`, which compares old and new rows
        column by column and fails once the table schema has gained columns.
        """
        keys = list(self.schema.key_properties)
        data = last_per_key(data, keys)
        with self.table.transaction() as transaction:
            if self.table.current_snapshot() is not None:
                transaction.delete(create_match_filter(data.select(keys), keys), snapshot_properties=properties)
            transaction.append(data, snapshot_properties=properties)
