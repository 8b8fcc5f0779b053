"""The files a singer-sdk BATCH message points at: jsonl (optionally gzip) and parquet."""

from __future__ import annotations

import gzip
from typing import BinaryIO
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.fs as pa_fs
import pyarrow.parquet as pq

from dativo_core.singer import BatchMessage, SingerProtocolError


def _filesystem(url: str) -> tuple[pa_fs.FileSystem, str]:
    if not urlparse(url).scheme:
        return pa_fs.LocalFileSystem(), url
    return pa_fs.FileSystem.from_uri(url)


def read_bytes(url: str) -> bytes:
    filesystem, path = _filesystem(url)
    with filesystem.open_input_stream(path, compression=None) as stream:
        return stream.read()


def read_jsonl(url: str, compression: str) -> bytes:
    """The record lines of a jsonl batch file, without a trailing newline."""
    data = read_bytes(url)
    if compression == "gzip" or data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data.rstrip(b"\r\n")


def copy_to(url: str, out: BinaryIO, chunk_bytes: int = 8 * 1024 * 1024) -> None:
    """Copy a file's bytes as they are (no decoding), a chunk at a time."""
    filesystem, path = _filesystem(url)
    with filesystem.open_input_stream(path, compression=None) as stream:
        while chunk := stream.read(chunk_bytes):
            out.write(chunk)


def parquet_rows(url: str) -> int:
    filesystem, path = _filesystem(url)
    with filesystem.open_input_file(path) as source:
        return pq.ParquetFile(source).metadata.num_rows


def parquet_schema(url: str) -> pa.Schema:
    filesystem, path = _filesystem(url)
    return pq.read_schema(path, filesystem=filesystem)


def read_parquet(url: str) -> pa.Table:
    filesystem, path = _filesystem(url)
    return pq.read_table(path, filesystem=filesystem)


_SAME_IN_ICEBERG = {pa.large_string(): pa.string(), pa.large_binary(): pa.binary()}


def matches_exactly(file_schema: pa.Schema, table_schema: pa.Schema) -> bool:
    """Whether a parquet file can join the table as it is: same columns, types, required-ness.

    String and large string are one Iceberg type (polars and singer-sdk write large ones).
    An optional column cannot fill a required one, even without nulls: pyiceberg's add_files
    refuses it, so taps must write key columns as required for their files to be registered.
    """
    if file_schema.names != table_schema.names:
        return False
    return all(
        _SAME_IN_ICEBERG.get(f.type, f.type) == _SAME_IN_ICEBERG.get(t.type, t.type) and (t.nullable or not f.nullable)
        for f, t in zip(file_schema, table_schema)
    )


def check_encoding(message: BatchMessage, line: int) -> None:
    if message.format not in ("jsonl", "parquet"):
        raise SingerProtocolError(
            f"BATCH format {message.format!r} is not supported", line=line, stream=message.stream,
            hint="Use the jsonl or parquet encoding",
        )
    if message.compression not in ("none", "gzip"):
        raise SingerProtocolError(
            f"BATCH compression {message.compression!r} is not supported", line=line, stream=message.stream,
            hint="Use gzip or none",
        )
