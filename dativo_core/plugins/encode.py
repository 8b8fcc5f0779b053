"""Reader output to Singer RECORD lines, as bytes, in bulk."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    import pyarrow


class EncodeError(Exception):
    """A record the reader produced cannot become JSON."""


def encode_records(
    stream: str, records: list[dict[str, Any]], properties: list[str] | None
) -> bytes:
    """RECORD lines for dict records, keeping only `properties` when given."""
    if properties is not None:
        records = [{k: r[k] for k in properties if k in r} for r in records]
    try:
        return b"".join(
            orjson.dumps(
                {"type": "RECORD", "stream": stream, "record": r},
                option=orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS,
            )
            for r in records
        )
    except TypeError as exc:
        raise EncodeError(
            f"stream {stream!r}: a record cannot be written as JSON: {exc}"
        ) from exc


def wrap_json_lines(
    stream: str, data: bytes, count: int, properties: list[str] | None
) -> bytes:
    """RECORD lines around records that are already JSON lines, in one pass of bytes.replace.

    A JSON text holds no raw newline, so every newline ends a record.
    """
    if count == 0 and not data:
        return b""
    newlines = data.count(b"\n")
    if not data.endswith(b"\n") or newlines != count:
        raise EncodeError(
            f"stream {stream!r}: JsonLines must hold {count} newline-terminated lines, "
            f"got {newlines} newlines"
        )
    if properties is not None:
        return encode_records(
            stream, [orjson.loads(line) for line in data.splitlines()], properties
        )
    prefix = orjson.dumps({"type": "RECORD", "stream": stream})[:-1] + b',"record":'
    return prefix + data[:-1].replace(b"\n", b"}\n" + prefix) + b"}\n"


def check_record_lines(stream: str, data: bytes | memoryview, count: int) -> None:
    """Refuse RecordLines that are plainly not `stream`'s lines, at the cost of looking at
    their ends only: the tap writes them unchanged."""
    if count == 0 and not data:
        return
    prefix = orjson.dumps({"type": "RECORD", "stream": stream})[:-1] + b","
    view = memoryview(data)
    if count <= 0 or view[-1:] != b"\n" or view[: len(prefix)] != prefix:
        raise EncodeError(
            f"stream {stream!r}: RecordLines must be {count} newline-terminated RECORD lines "
            f"starting with {prefix.decode()!r}, got {bytes(view[:60])!r}..."
        )


def encode_batch(
    stream: str, batch: pyarrow.RecordBatch, properties: list[str] | None
) -> bytes:
    """RECORD lines for a whole Arrow batch, built natively by the shared encoder, not row by row."""
    import polars as pl

    from dativo_core.record_lines import record_lines

    if batch.num_rows == 0:
        return b""
    if properties is not None:
        batch = batch.select(
            [name for name in batch.schema.names if name in set(properties)]
        )
    return record_lines(pl.from_arrow(batch), stream)
