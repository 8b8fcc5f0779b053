"""tap-csv's Rust engine: Dativo's Rust CSV reader (rust_ext/dativo_csv_reader) infers types,
reads rows and writes RECORD lines on every core, with the same types and values as the
pyarrow engine (tests/rust_ext/test_csv_reader_parity.py holds the two to that).

The `engine` setting chooses: `auto` (the default) uses Rust for every stream it can read when
the library is built, `rust` requires it, `pyarrow` never uses it. Rust reads UTF-8 files whose
quotes are doubled (`doublequote`, the default), without `escapechar`, with lines ending in LF
or CRLF; other streams keep the pyarrow engine.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dativo_core.native.library import (
    BUILD_COMMAND,
    NativeLibrary,
    NativeReaderError,
    built_library_path,
    load_library,
)
from dativo_tap_csv.file_specs import CSVFileError, FileSpec, TapCSVConfigError
from dativo_tap_csv.kinds import Kind

if TYPE_CHECKING:
    import pyarrow as pa

log = logging.getLogger("tap-csv")

ENGINES = ("auto", "rust", "pyarrow")
# Rows per block the reader hands over: ~4 MB of RECORD lines, written to stdout at once.
_BATCH_ROWS = 16384

# Kinds by the Arrow C format string of a column the reader inferred. An all-empty column is
# text ("u") like a string column: both announce the same JSON Schema.
_KIND_OF_FORMAT = {
    "l": Kind.INTEGER,
    "g": Kind.NUMBER,
    "b": Kind.BOOLEAN,
    "tdD": Kind.DATE,
    "tsu:UTC": Kind.DATE_TIME,
    "u": Kind.STRING,
}


# The reader's hint for a value that misfits its type names the reader's own setting; a
# tap-csv user sets types in the catalog.
_READER_HINT = "declare the column as string in 'column_types' to keep such values"
_TAP_HINT = (
    "the column type was inferred from earlier rows (see `infer_max_rows`) or set by the "
    "catalog; declare the column as string in the catalog to keep such values"
)


# Bytes of each file looked at for line endings the Rust reader does not split on.
_SNIFF_BYTES = 64 * 1024


def _ends_lines_with_bare_cr(path: Path) -> bool:
    """Whether the file's start has a carriage return not followed by a line feed (old Mac line
    endings): the Rust reader splits lines at line feeds only."""
    stat = path.stat()
    return _head_has_bare_cr(path, stat.st_mtime_ns, stat.st_size)


@cache
def _head_has_bare_cr(path: Path, mtime_ns: int, size: int) -> bool:
    """Kept per file version: the early-inference thread and the stream both ask, and a stream
    may have thousands of files."""
    with open(path, "rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    return b"\r" in head.replace(b"\r\n", b"")


def _unfit_reason(spec: FileSpec, paths: Sequence[Path]) -> str | None:
    """Why the Rust reader cannot read this stream as the pyarrow engine does, if it cannot."""
    if not spec.is_utf8:
        return f"its encoding is {spec.encoding!r} and the Rust reader reads UTF-8 only"
    if not spec.doublequote:
        return "doublequote is false and the Rust reader reads doubled quotes only"
    if spec.escapechar is not None:
        return "it sets escapechar, which the Rust reader applies inside quotes only"
    bare_cr = next((path for path in paths if _ends_lines_with_bare_cr(path)), None)
    if bare_cr is not None:
        return f"file '{bare_cr}' ends lines with a bare carriage return (\\r), and the Rust reader splits at line feeds"
    return None


@cache
def _built_library() -> NativeLibrary | str:
    """The built library, or why there is none."""
    path = built_library_path("dativo_csv_reader")
    if not path.is_file():
        return f"the Rust CSV reader is not built (build it with `{BUILD_COMMAND}`)"
    try:
        return load_library(path)
    except NativeReaderError as exc:  # e.g. a build older than this Dativo: pyarrow still reads
        log.warning("the pyarrow engine reads every stream: %s", exc)
        return str(exc)


def rust_engine(config: Mapping[str, Any], spec: FileSpec, paths: Sequence[Path]) -> RustEngine | None:
    """The Rust engine for the stream, or None where the pyarrow engine reads it."""
    choice = config.get("engine") or "auto"
    if choice not in ENGINES:
        raise TapCSVConfigError(f"engine must be one of {list(ENGINES)}, got {choice!r}")
    if choice == "pyarrow":
        return None
    library = _unfit_reason(spec, paths) or _built_library()
    if isinstance(library, str):  # why Rust cannot read the stream
        if choice == "rust":
            raise TapCSVConfigError(
                f"stream '{spec.entity}': engine 'rust' cannot read it: {library}; "
                "set engine to 'auto' or 'pyarrow'"
            )
        return None
    return RustEngine(library, spec)


class RustEngine:
    """The Rust CSV reader, set up with one stream's dialect."""

    def __init__(self, library: NativeLibrary, spec: FileSpec) -> None:
        self._library = library
        self._spec = spec

    def _config(self, path: Path, **options: Any) -> dict[str, Any]:
        return {
            "path": str(path),
            "delimiter": self._spec.delimiter,
            "quote_char": self._spec.quotechar,
            "escape_char": self._spec.escapechar,
            "batch_size": _BATCH_ROWS,
            **options,
        }

    def _error(self, exc: NativeReaderError) -> CSVFileError:
        detail = exc.detail.replace(_READER_HINT, _TAP_HINT)
        if "not valid UTF-8" in detail:
            detail += "; set the stream's `encoding` to the file's encoding, e.g. \"latin-1\""
        return CSVFileError(f"stream '{self._spec.entity}': {detail}")

    def infer_kinds(
        self, paths: Sequence[Path], columns: Sequence[str], max_rows: int | None
    ) -> dict[str, Kind] | None:
        """Each column's kind over the files, or None when the pyarrow engine must decide:
        the files disagree (widening a kind across files depends on values the reader does
        not report), or a row limit spans files."""
        if max_rows is not None and len(paths) > 1:
            return None
        merged: dict[str, Kind] | None = None
        for path in paths:
            config = self._config(path, columns=list(columns), infer_max_rows=max_rows)
            try:
                with self._library.open(config) as reader:
                    kinds = {c.name: _KIND_OF_FORMAT.get(c.format) for c in reader.columns}
            except NativeReaderError as exc:
                raise self._error(exc) from exc
            if None in kinds.values() or (merged is not None and kinds != merged):
                return None
            merged = kinds
        return merged

    def _typed_config(self, path: Path, kinds: Mapping[str, Kind]) -> dict[str, Any]:
        types = {name: "string" if kind == Kind.NULL else kind.value for name, kind in kinds.items()}
        return self._config(path, columns=list(kinds), column_types=types)

    def batches(self, path: Path, kinds: Mapping[str, Kind]) -> Iterator[pa.RecordBatch]:
        """The file's rows, each column read as its kind."""
        try:
            with self._library.open(self._typed_config(path, kinds)) as reader:
                yield from reader
        except NativeReaderError as exc:
            raise self._error(exc) from exc

    def record_lines(self, path: Path, kinds: Mapping[str, Kind], stream: str) -> Iterator[tuple[memoryview, int]]:
        """The file's rows as RECORD lines of `stream` and their count, block by block; a
        block's view is valid until the next one is asked for."""
        try:
            with self._library.open(self._typed_config(path, kinds)) as reader:
                while (block := reader.next_records(stream)) is not None:
                    yield block
        except NativeReaderError as exc:
            raise self._error(exc) from exc
