"""Native reader libraries as SDK Readers, so `tap-reader` runs them like any Python reader.

    tap-reader --reader dativo_core.native.reader:RustCSVReader --config csv.json
    tap-reader --reader dativo_core.native.reader:NativeReader --config native.json

A library yields one stream; its JSON Schema comes from the Arrow schema. When the library's
columns are exactly the selected properties, `read` hands over the library's own RECORD lines
(RecordLines), so the tap only writes bytes; otherwise it yields Arrow batches, which the tap
cuts down to the selection and encodes. pyarrow is imported by discovery and the Arrow path
only, so loading this module (the tap does, for spec()) stays cheap.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from dativo_core.native.library import (
    ColumnFormat,
    NativeLibrary,
    built_library_path,
    load_library,
)
from dativo_core.schema.csv_kinds import kind_from_json_schema
from dativo_core.sdk import Capabilities, Reader, ReadItem, RecordLines, Stream

_STREAM_SETTINGS: dict[str, Any] = {
    "stream": {"type": "string", "minLength": 1, "description": "Name of the one stream."},
    "keys": {
        "type": "array",
        "items": {"type": "string"},
        "description": "Primary-key columns of the stream.",
    },
}


class NativeReader(Reader):
    """Any shared library implementing rust_ext/include/dativo_reader.h.

    Config: `library` (path of the .so), `stream`, optional `keys`, and `reader_config`, the
    JSON object handed to the library's `dativo_create_reader`.
    """

    capabilities: ClassVar[Capabilities] = Capabilities(discovery=True, batch_output=True)

    @classmethod
    def spec(cls) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {
                "library": {"type": "string", "description": "Path of the reader library (.so)."},
                **_STREAM_SETTINGS,
                "reader_config": {
                    "type": "object",
                    "description": "Config of the library itself, as it documents it.",
                },
            },
            "required": ["library", "stream"],
        }

    def library(self) -> NativeLibrary:
        return load_library(Path(self.config["library"]))

    def reader_config(self, stream: Stream | None = None) -> dict[str, Any]:
        """The library's config, for discovery (no stream yet) or for reading `stream`."""
        return dict(self.config.get("reader_config") or {})

    def discover(self) -> list[Stream]:
        with self.library().open(self.reader_config()) as reader:
            schema = _flat_json_schema(reader.columns)
            if schema is None:
                from dativo_core.schema.arrow import arrow_to_json_schema

                schema = arrow_to_json_schema(reader.schema)
        return [
            Stream(
                name=self.config["stream"],
                schema=schema,
                key_properties=tuple(self.config.get("keys") or ()),
            )
        ]

    def read(self, stream: Stream, state: dict[str, Any]) -> Iterator[ReadItem]:
        with self.library().open(self.reader_config(stream)) as reader:
            if reader.column_names != list(stream.schema.get("properties") or {}):
                yield from reader
                return
            while (encoded := reader.next_records(stream.name)) is not None:
                yield RecordLines(*encoded)


class RustCSVReader(NativeReader):
    """Dativo's Rust CSV reader (rust_ext/dativo_csv_reader): tap-csv's types, in native code.

    Config: `stream`, `path`, optional `keys`, and the CSV options of docs/rust-readers.md
    (`delimiter`, `quote_char`, `escape_char`, `has_header`, `column_names`, `column_types`,
    `infer_types`, `infer_max_rows`, `null_values`, `strings_can_be_null`, `batch_size`).
    `library` overrides where the built library is looked for. A sync reads only the
    catalog's selected columns, with the catalog's types, in one pass over the file.
    """

    @classmethod
    def spec(cls) -> dict[str, Any]:
        one_char = {"type": ["string", "null"], "minLength": 1, "maxLength": 1}
        return {
            "type": "object",
            "properties": {
                **_STREAM_SETTINGS,
                "path": {"type": "string", "description": "The CSV file."},
                "library": {"type": "string", "description": "Path of a different build."},
                "delimiter": {**one_char, "type": "string"},
                "quote_char": one_char,
                "escape_char": one_char,
                "has_header": {"type": "boolean"},
                "column_names": {"type": "array", "items": {"type": "string"}},
                "column_types": {
                    "type": "object",
                    "additionalProperties": {
                        "enum": ["integer", "boolean", "date", "date-time", "number", "string"]
                    },
                },
                "infer_types": {"type": "boolean"},
                "infer_max_rows": {"type": ["integer", "null"], "minimum": 0},
                "null_values": {"type": "array", "items": {"type": "string"}},
                "strings_can_be_null": {"type": "boolean"},
                "batch_size": {"type": "integer", "minimum": 1},
            },
            "required": ["stream", "path"],
        }

    def library(self) -> NativeLibrary:
        return load_library(Path(self.config.get("library") or built_library_path("dativo_csv_reader")))

    def reader_config(self, stream: Stream | None = None) -> dict[str, Any]:
        config = {k: v for k, v in self.config.items() if k not in ("stream", "keys", "library")}
        if stream is not None:
            # Read the selected columns only, with the types discovery found (or the catalog
            # set), so the file is not scanned a second time to infer them.
            properties = stream.schema.get("properties") or {}
            config["columns"] = list(properties)
            config["column_types"] = {name: kind_from_json_schema(prop).value for name, prop in properties.items()}
        return config


# JSON Schema of the flat Arrow C format strings, as dativo_core.schema.arrow maps their types.
_INTEGER_FORMATS = frozenset("cCsSiIlL")
_NUMBER_FORMATS = frozenset("efg")
_STRING_FORMAT_PREFIXES = (("ts", "date-time"), ("td", "date"), ("tt", "time"))


def _column_json_schema(column: ColumnFormat) -> dict[str, Any] | None:
    """The JSON Schema `arrow_type_to_json_schema` gives the column's type, without pyarrow;
    None for a nested or dictionary-encoded column (left to that function)."""
    code = column.format
    if column.dictionary or code.startswith("+"):
        return None
    if code == "n":
        return {"type": ["string", "null"]}
    extra: dict[str, Any] = {}
    if code in _INTEGER_FORMATS:
        name = "integer"
    elif code in _NUMBER_FORMATS or code.startswith("d:"):
        name = "number"
    elif code == "b":
        name = "boolean"
    else:
        name = "string"
        for prefix, string_format in _STRING_FORMAT_PREFIXES:
            if code.startswith(prefix):
                extra["format"] = string_format
    return {"type": [name, "null"] if column.nullable else name, **extra}


def _flat_json_schema(columns: list[ColumnFormat]) -> dict[str, Any] | None:
    """The stream's JSON Schema when every column is flat (so discovery needs no pyarrow)."""
    properties = {}
    for column in columns:
        prop = _column_json_schema(column)
        if prop is None:
            return None
        properties[column.name] = prop
    return {"type": "object", "properties": properties}
