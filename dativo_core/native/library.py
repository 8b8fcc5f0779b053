"""Loading a reader library (any `.so` implementing rust_ext/include/dativo_reader.h) with cffi.

ABI mode (`ffi.dlopen`): nothing is compiled at install time, so any library built against the
header, by us or a third party, loads the same way. The header's declarations come already
parsed, from the generated `_reader_ffi` module (see `build.write_ffi_module`). Batches cross
as Arrow C Data Interface structures that pyarrow imports without copying; RECORD lines cross
as a buffer the tap writes out without copying. pyarrow is imported only when an Arrow schema
or batch is asked for, so a tap that writes RECORD lines starts without it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from dativo_core.sdk import ReaderError

if TYPE_CHECKING:
    import pyarrow as pa

SUPPORTED_ABI_VERSION = 1
HEADER_PATH = Path(__file__).with_name("dativo_reader.h")
RUST_EXT_DIR = Path(__file__).resolve().parents[2] / "rust_ext"
BUILD_COMMAND = "cargo build --release --manifest-path rust_ext/Cargo.toml"

_STATUS_ERROR = -1
_STATUS_END = 0
_STATUS_BATCH = 1


# From the Arrow C Data Interface: ArrowSchema.flags bit of a nullable field.
_ARROW_FLAG_NULLABLE = 2


class ColumnFormat(NamedTuple):
    """A column as the Arrow C Data Interface describes it: `format` is its format string
    (`l` int64, `g` float64, `b` bool, `u` utf8, `tdD` date32, `tsu:UTC` timestamp, ...)."""

    name: str
    format: str
    nullable: bool
    dictionary: bool


class NativeReaderError(ReaderError):
    """A reader library could not be loaded or reported an error; the message says which.

    `detail` is the library's own message when it reported one (it names file, line and
    column), for callers that put it in their own words.
    """

    def __init__(self, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.detail = detail if detail is not None else message


def _cdef_text(path: Path) -> str:
    """The declarations between a header's cffi markers (the readers' and the decoder's)."""
    header = path.read_text(encoding="utf-8")
    begin, end = "/* cffi:begin */", "/* cffi:end */"
    start, stop = header.find(begin), header.find(end)
    if start < 0 or stop < start:
        raise NativeReaderError(f"{path} has no '{begin}' ... '{end}' block for cffi")
    return header[start + len(begin) : stop]


@cache
def _ffi() -> Any:
    """The header's declarations, parsed at build time (imported on first use, so that the
    build module can import this one while it generates them)."""
    from dativo_core.native._reader_ffi import ffi

    return ffi


def shared_library_name(crate: str) -> str:
    """The file name cargo gives a cdylib crate on this platform."""
    if sys.platform == "darwin":
        return f"lib{crate}.dylib"
    if sys.platform == "win32":
        return f"{crate}.dll"
    return f"lib{crate}.so"


def built_library_path(crate: str) -> Path:
    """Where `cargo build --release` in rust_ext/ puts a crate's library."""
    return RUST_EXT_DIR / "target" / "release" / shared_library_name(crate)


class NativeLibrary:
    """An opened reader library whose ABI version matches ours."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise NativeReaderError(
                f"reader library {self.path} does not exist; build Dativo's readers with "
                f"`{BUILD_COMMAND}` (or `python -m dativo_core.native.build`), or give the path "
                "of your own library"
            )
        ffi = _ffi()
        try:
            self._lib: Any = ffi.dlopen(str(self.path))
        except OSError as exc:
            raise NativeReaderError(f"cannot load reader library {self.path}: {exc}") from exc
        try:
            version = int(self._lib.dativo_abi_version())
        except (AttributeError, ffi.error) as exc:  # ffi.error: a missing symbol, out-of-line
            raise NativeReaderError(
                f"{self.path} is not a Dativo reader library: it does not export "
                "dativo_abi_version (see rust_ext/include/dativo_reader.h)"
            ) from exc
        if version != SUPPORTED_ABI_VERSION:
            raise NativeReaderError(
                f"{self.path} implements reader ABI version {version}, but this Dativo loads "
                f"version {SUPPORTED_ABI_VERSION}; rebuild the library against a matching "
                "dativo_reader crate"
            )

    def open(self, config: Mapping[str, Any]) -> NativeBatchReader:
        """A reader for `config` (the JSON object the library documents)."""
        return NativeBatchReader(self, config)


class NativeBatchReader:
    """One reader handle: its schema and its batches. Close it (or use `with`) to free it."""

    def __init__(self, library: NativeLibrary, config: Mapping[str, Any]) -> None:
        ffi, lib = _ffi(), library._lib
        self._ffi, self._lib, self._path = ffi, lib, library.path
        error_out = ffi.new("char **")
        raw = lib.dativo_create_reader(json.dumps(dict(config)).encode("utf-8"), error_out)
        if raw == ffi.NULL:
            message = "the library gave no reason"
            if error_out[0] != ffi.NULL:
                message = ffi.string(error_out[0]).decode("utf-8", "replace")
                lib.dativo_free_string(error_out[0])
            raise NativeReaderError(f"{self._path.name}: cannot create the reader: {message}", message)
        self._handle: Any = ffi.gc(raw, lib.dativo_free_reader)
        self._schema: pa.Schema | None = None
        # The buffer of the last RECORD lines handed out, freed at the next call or at close.
        self._lines: Any = None

    def _error(self, doing: str) -> NativeReaderError:
        message = self._ffi.string(self._lib.dativo_last_error(self._handle)).decode("utf-8", "replace")
        return NativeReaderError(f"{self._path.name}: {doing}: {message}", message)

    def _exported_schema(self) -> Any:
        """The library's schema as a `struct ArrowSchema`, owned by the caller."""
        out = self._ffi.new("struct ArrowSchema *")
        if self._lib.dativo_reader_schema(self._handle, out) != _STATUS_BATCH:
            raise self._error("cannot read the schema")
        return out

    @property
    def schema(self) -> pa.Schema:
        """The Arrow schema of every batch (imports pyarrow)."""
        if self._schema is None:
            import pyarrow as pa

            out = self._exported_schema()
            self._schema = pa.Schema._import_from_c(int(self._ffi.cast("uintptr_t", out)))
        return self._schema

    @property
    def columns(self) -> list[ColumnFormat]:
        """Each column's name, Arrow C format string and nullability, read from the exported
        schema without pyarrow."""
        out = self._exported_schema()
        try:
            columns = []
            for i in range(out.n_children):
                child = out.children[i]
                columns.append(
                    ColumnFormat(
                        name=self._ffi.string(child.name).decode("utf-8"),
                        format=self._ffi.string(child.format).decode("utf-8"),
                        nullable=bool(child.flags & _ARROW_FLAG_NULLABLE),
                        dictionary=child.dictionary != self._ffi.NULL,
                    )
                )
            return columns
        finally:
            out.release(out)

    @property
    def column_names(self) -> list[str]:
        """The names of the columns, without pyarrow."""
        return [column.name for column in self.columns]

    def next_batch(self) -> pa.RecordBatch | None:
        """The next batch, None at the end of data; a NativeReaderError if reading failed."""
        if self._handle is None:
            raise NativeReaderError(f"{self._path.name}: the reader is closed")
        array = self._ffi.new("struct ArrowArray *")
        schema = self._ffi.new("struct ArrowSchema *")
        status = self._lib.dativo_next_batch(self._handle, array, schema)
        if status == _STATUS_END:
            return None
        if status != _STATUS_BATCH:
            raise self._error("reading failed")
        import pyarrow as pa

        # pyarrow moves both structures out, taking over their release callbacks.
        return pa.RecordBatch._import_from_c(
            int(self._ffi.cast("uintptr_t", array)), int(self._ffi.cast("uintptr_t", schema))
        )

    def next_records(self, stream: str) -> tuple[memoryview, int] | None:
        """The next batch as Singer RECORD lines of `stream` and their count, None at the end.

        Encoded in native code, and not copied: the view reads the library's own buffer, which
        stays valid until the next call or `close()` (then the view is released), so a tap
        writes it to stdout as it is. Copy it with bytes() to keep it longer.
        """
        if self._handle is None:
            raise NativeReaderError(f"{self._path.name}: the reader is closed")
        self._free_lines()
        out = self._ffi.new("struct dativo_bytes *")
        rows = self._ffi.new("int64_t *")
        status = self._lib.dativo_next_records(self._handle, stream.encode("utf-8"), out, rows)
        if status == _STATUS_END:
            return None
        if status != _STATUS_BATCH:
            raise self._error("reading failed")
        view = memoryview(self._ffi.buffer(out.data, out.len))
        self._lines = (out, view)
        return view, int(rows[0])

    def _free_lines(self) -> None:
        if self._lines is not None:
            out, view = self._lines
            # A view used after its buffer is freed raises ValueError instead of reading freed memory.
            view.release()
            self._lib.dativo_free_bytes(out)
            self._lines = None

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        while (batch := self.next_batch()) is not None:
            yield batch

    def close(self) -> None:
        self._free_lines()
        if self._handle is not None:
            self._ffi.release(self._handle)
            self._handle = None

    def __enter__(self) -> NativeBatchReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@cache
def load_library(path: str | Path) -> NativeLibrary:
    """The library at `path`, opened once per process."""
    return NativeLibrary(Path(path).resolve())
