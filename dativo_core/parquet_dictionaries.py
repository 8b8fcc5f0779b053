"""Which Parquet columns get a dictionary, for the files target-iceberg and tap-csv write.

Numbers, date-times and booleans are written plain: their dictionaries took a third of the
Parquet encoding time and, compressed, made files larger, not smaller. So are top-level strings
whose values are mostly distinct (names, ids): hashing each into a dictionary that the writer
then gives up on doubled the time to encode a CSV file's columns. Strings that repeat
(categories, codes) keep one, which makes them several times smaller.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

SAMPLE_ROWS = 10_000


def _string_leaves(arrow_type: pa.DataType, path: str) -> list[str]:
    """Parquet column paths of the string leaves inside a column of `arrow_type` named `path`."""
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return [path]
    if pa.types.is_struct(arrow_type):
        return [leaf for child in arrow_type for leaf in _string_leaves(child.type, f"{path}.{child.name}")]
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return _string_leaves(arrow_type.value_type, f"{path}.list.element")
    if pa.types.is_map(arrow_type):
        return (_string_leaves(arrow_type.key_type, f"{path}.key_value.key")
                + _string_leaves(arrow_type.item_type, f"{path}.key_value.value"))
    return []


def _repetitive(column: pa.ChunkedArray) -> bool:
    """Whether a top-level string column repeats its values (at most half distinct in a sample)."""
    sample = column.slice(0, SAMPLE_ROWS)
    return 2 * pc.count_distinct(sample).as_py() <= len(sample)


def dictionary_columns(data: pa.Table) -> list[str]:
    """The Parquet column paths worth a dictionary in a file of `data`: strings that repeat,
    judged on its first rows, and string leaves inside nested columns."""
    return [
        leaf
        for field, column in zip(data.schema, data.columns)
        for leaf in _string_leaves(field.type, field.name)
        if leaf != field.name or _repetitive(column)
    ]
