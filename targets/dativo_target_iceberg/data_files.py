"""Iceberg entries for the data files the target writes itself, made from the writer's footer.

pyiceberg's `add_files` opens every file again, reads its footer and checks its schema
against the table's (building a `rich` table for a report each time) at commit, while the
main thread waits. For a file the target has just written, the Parquet writer already holds
that footer, and a plain schema comparison settles the check: so the entry is made on the
helper thread that wrote the file, and the commit only appends it. Files whose schema is not
plainly the table's still go through `add_files`, which checks them in full.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq
from pyiceberg.io.pyarrow import (
    compute_statistics_plan,
    data_file_statistics_from_parquet_metadata,
    parquet_path_to_id_mapping,
    schema_to_pyarrow,
)
from pyiceberg.manifest import DataFile, DataFileContent, FileFormat
from pyiceberg.schema import Schema
from pyiceberg.table.metadata import TableMetadata


@dataclass(frozen=True)
class WrittenFile:
    """A data file in the table's folder; `entry` is its manifest entry, made for the table
    schema `schema_id`, or None when `add_files` must read and check it."""

    path: str
    entry: DataFile | None
    schema_id: int


def _plain(arrow_type: pa.DataType) -> pa.DataType:
    """A primitive type with large and small variants taken as one (Iceberg has one string type)."""
    if pa.types.is_large_string(arrow_type):
        return pa.string()
    if pa.types.is_large_binary(arrow_type):
        return pa.binary()
    return arrow_type


def plainly_compatible(data: pa.Schema, table: Schema) -> bool:
    """Whether rows of schema `data` fit the table as they are: every column is a primitive
    column of the table with the same type, and every required column of the table is there
    without nulls. Anything else (nested columns, promotions) is left to pyiceberg's check."""
    expected = schema_to_pyarrow(table, include_field_ids=False)
    for field in data:
        if field.name not in expected.names or pa.types.is_nested(field.type):
            return False
        if _plain(field.type) != _plain(expected.field(field.name).type):
            return False
    required = {f.name for f in table.fields if f.required}
    return all(name in data.names and not data.field(name).nullable for name in required)


def data_file_entry(metadata: TableMetadata, path: str, footer: pq.FileMetaData, size: int) -> DataFile:
    """The manifest entry of an unpartitioned data file, as `add_files` would make it from the file."""
    schema = metadata.schema()
    statistics = data_file_statistics_from_parquet_metadata(
        parquet_metadata=footer,
        stats_columns=compute_statistics_plan(schema, metadata.properties),
        parquet_column_mapping=parquet_path_to_id_mapping(schema),
    )
    return DataFile.from_args(
        content=DataFileContent.DATA,
        file_path=path,
        file_format=FileFormat.PARQUET,
        partition=statistics.partition(metadata.spec(), schema),
        file_size_in_bytes=size,
        sort_order_id=None,
        spec_id=metadata.default_spec_id,
        equality_ids=None,
        key_metadata=None,
        **statistics.to_serialized_dict(),
    )
