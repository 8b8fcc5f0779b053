"""RECORD lines for a whole frame at once: the envelope and the record are built by polars in
native code, so no Python dict or `dumps` call is made per record."""

from __future__ import annotations

import io

import orjson
import polars as pl


def record_lines(frame: pl.DataFrame, stream: str) -> bytes:
    """One Singer RECORD line per row of `frame`, newline-terminated.

    `time_extracted` is optional in Singer and left out: a per-row literal costs a third more time.
    """
    if frame.width == 0:
        line = orjson.dumps(
            {"type": "RECORD", "stream": stream, "record": {}}, option=orjson.OPT_APPEND_NEWLINE
        )
        return line * frame.height
    envelope = frame.select(
        pl.lit("RECORD").alias("type"),
        pl.lit(stream).alias("stream"),
        pl.struct(pl.all()).alias("record"),
    )
    out = io.BytesIO()
    envelope.write_ndjson(out)
    return out.getvalue()
