"""The layout of quarantined records, one for every place a contract sets records aside.

Whether `dativo validate` wrote them to a file that `dativo run` loads afterwards, or
target-iceberg appended them itself, a stream's bad records end up in the table
`<table>__quarantine` with these columns: the stream, the source line, the rules broken, why,
and the record as JSON text (so the table's schema never follows the stream's).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from dativo_core.contracts.validator import (
    REASON_COLUMN,
    RECORD_JSON_COLUMN,
    RULE_COLUMN,
    SOURCE_LINE_COLUMN,
    ValidationResult,
    quarantine_table,
)
from dativo_core.schema.arrow import json_schema_to_arrow

SUFFIX = "__quarantine"
STREAM_COLUMN = "_dativo_stream"
SINGER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        STREAM_COLUMN: {"type": "string"},
        SOURCE_LINE_COLUMN: {"type": ["integer", "null"]},
        RULE_COLUMN: {"type": "string"},
        REASON_COLUMN: {"type": "string"},
        RECORD_JSON_COLUMN: {"type": "string"},
    },
}
ARROW_SCHEMA: pa.Schema = json_schema_to_arrow(SINGER_SCHEMA)


def quarantine_rows(stream: str, result: ValidationResult, records: Sequence[str] | None = None) -> pa.Table:
    """The bad rows of one validated batch in the quarantine layout.

    `records` holds each bad row's record as JSON text as it came in (in `bad_indices` order);
    without it the row as validated is written as JSON.
    """
    bad = quarantine_table(result, as_json_text=True)
    if records is not None:
        bad = bad.set_column(bad.schema.get_field_index(RECORD_JSON_COLUMN), RECORD_JSON_COLUMN, pa.array(records, pa.string()))
    bad = bad.append_column(STREAM_COLUMN, pa.array([stream] * bad.num_rows, pa.string()))
    return bad.select(ARROW_SCHEMA.names).cast(ARROW_SCHEMA)
