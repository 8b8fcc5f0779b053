"""Parquet dictionaries only where values repeat."""

from __future__ import annotations

import pyarrow as pa

from dativo_core.parquet_dictionaries import SAMPLE_ROWS, dictionary_columns


def test_dictionary_columns_are_repeated_strings_and_nested_string_leaves():
    rows = [{"n": 1.5, "s": "same", "unique": f"u{i}", "nested": {"a": "x", "b": i}, "tags": ["t"], "m": [("k", 1.0)]}
            for i in range(4)]
    data = pa.Table.from_pylist(rows, schema=pa.schema([
        pa.field("n", pa.float64()), pa.field("s", pa.string()), pa.field("unique", pa.string()),
        pa.field("nested", pa.struct([pa.field("a", pa.large_string()), pa.field("b", pa.int64())])),
        pa.field("tags", pa.list_(pa.string())), pa.field("m", pa.map_(pa.string(), pa.float64())),
    ]))
    assert dictionary_columns(data) == ["s", "nested.a", "tags.list.element", "m.key_value.key"]


def test_a_column_is_judged_on_its_first_rows():
    # Distinct at first, repeated after: the first rows decide, as a file's first row group does.
    values = [f"v{i}" for i in range(SAMPLE_ROWS)] + ["same"] * (3 * SAMPLE_ROWS)
    data = pa.table({"late": pa.array(values), "early": pa.array(list(reversed(values)))})
    assert dictionary_columns(data) == ["early"]
