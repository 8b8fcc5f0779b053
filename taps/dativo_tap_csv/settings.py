"""tap-csv's settings as JSON Schema, for singer-sdk's config validation and --about."""

from __future__ import annotations

from typing import Any

from singer_sdk import typing as th

_FILE_PROPERTIES = th.PropertiesList(
    th.Property("entity", th.StringType, required=True, description="The stream name."),
    th.Property(
        "path",
        th.StringType,
        required=True,
        description="A CSV file, a folder (all its *.csv files) or a glob pattern.",
    ),
    th.Property("keys", th.ArrayType(th.StringType), description="Primary-key columns."),
    th.Property("delimiter", th.StringType, default=",", description="Field separator."),
    th.Property("quotechar", th.StringType, default='"', description="Quote character."),
    th.Property("escapechar", th.StringType, description="Escape character; none when absent."),
    th.Property(
        "doublequote", th.BooleanType, default=True, description="'\"\"' inside quotes is '\"'."
    ),
    th.Property("encoding", th.StringType, default="utf-8", description="Text encoding."),
    th.Property(
        "skipinitialspace", th.BooleanType, default=False, description="Only false is supported."
    ),
    th.Property("strict", th.BooleanType, description="Accepted; parsing is always strict."),
    th.Property("lineterminator", th.StringType, description="Accepted; \\n, \\r\\n, \\r."),
    th.Property(
        "incremental",
        th.BooleanType,
        description="Override the tap-level `incremental` setting for this stream.",
    ),
)

CONFIG_SCHEMA: dict[str, Any] = th.PropertiesList(
    th.Property(
        "files",
        th.ArrayType(th.ObjectType(*_FILE_PROPERTIES.wrapped.values())),
        description="One entry per stream (MeltanoLabs tap-csv format).",
    ),
    th.Property(
        "csv_files_definition",
        th.StringType,
        description="Path to a JSON file holding the `files` list.",
    ),
    th.Property(
        "add_metadata_columns",
        th.BooleanType,
        default=False,
        description="Add _sdc_source_file, _sdc_source_file_mtime and _sdc_source_lineno.",
    ),
    th.Property(
        "incremental",
        th.BooleanType,
        default=False,
        description="Sync only files modified since the state bookmark (key: file mtime).",
    ),
    th.Property(
        "infer_max_rows",
        th.IntegerType,
        description="Rows per stream read to infer column types; default: every row.",
    ),
    th.Property(
        "spool_max_bytes",
        th.IntegerType(minimum=0),
        default=1 << 30,
        description=(
            "Bytes of converted rows kept on disk (TMPDIR) from type inference, in all, "
            "so the sync does not parse the files again; 0 turns this off."
        ),
    ),
    th.Property(
        "engine",
        th.StringType(allowed_values=["auto", "rust", "pyarrow"]),
        default="auto",
        description=(
            "What reads the files: `rust` (Dativo's Rust CSV reader, on every core), "
            "`pyarrow`, or `auto`: Rust where it is built and the stream fits it (UTF-8, "
            "doublequote, no escapechar, LF or CRLF line ends), else pyarrow."
        ),
    ),
    th.Property(
        "block_size_bytes",
        th.IntegerType,
        default=1024 * 1024,
        description="Bytes of CSV parsed per batch; bounds memory.",
    ),
).to_dict()
