"""The Rust decoder of RECORD lines (rust_ext/dativo_singer_decoder), loaded with cffi when built.

It turns a block of one stream's RECORD lines into an Arrow batch with arrow-json, and names
the line at fault when a block fails. Without it (no cargo at set-up), `pyarrow.json` does
the same work somewhat slower; `decoder_library()` says once in the log which one runs.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor, wait
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa

from dativo_core.native.library import built_library_path

log = logging.getLogger("target-iceberg")

CRATE = "dativo_singer_decoder"
SUPPORTED_ABI_VERSION = 2
CHOICE_VARIABLE = "DATIVO_RECORD_DECODER"  # "pyarrow" turns the Rust decoder off
_STATUS_OTHER_LINES = 0
_STATUS_BATCH = 1
_PARALLEL_MIN_BYTES = 1 << 20


class DecodeError(Exception):
    """A block failed to decode; `line` is the 0-based line within it, None when unknown."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class DecoderLibrary:
    """The opened library; `decoder(schema)` makes one stream's decoder."""

    def __init__(self, path: Path) -> None:
        # The header's declarations, parsed at build time (dativo_core.native.build --ffi-module).
        from dativo_target_iceberg._decoder_ffi import ffi

        self.path = path
        self.ffi = ffi
        self.lib: Any = self.ffi.dlopen(str(path))
        version = int(self.lib.dativo_decoder_abi_version())
        if version != SUPPORTED_ABI_VERSION:
            raise OSError(f"{path} implements decoder ABI {version}, this target loads {SUPPORTED_ABI_VERSION}")

    def decoder(self, schema: pa.Schema) -> RecordDecoder:
        return RecordDecoder(self, schema)


class RecordDecoder:
    """Decodes blocks of lines against one envelope schema (e.g. `{record: struct<...>}`)."""

    def __init__(self, library: DecoderLibrary, schema: pa.Schema) -> None:
        self._ffi, self._lib = library.ffi, library.lib
        self._handles = (self._new_handle(schema), self._new_handle(schema))  # one per thread

    def _new_handle(self, schema: pa.Schema) -> Any:
        ffi, lib = self._ffi, self._lib
        c_schema = ffi.new("struct ArrowSchema *")
        schema._export_to_c(int(ffi.cast("uintptr_t", c_schema)))
        error_out = ffi.new("char **")
        raw = lib.dativo_decoder_new(c_schema, error_out)
        if raw == ffi.NULL:
            message = ffi.string(error_out[0]).decode("utf-8", "replace")
            lib.dativo_decoder_free_string(error_out[0])
            raise DecodeError(message, None)
        return ffi.gc(raw, lib.dativo_decoder_free)

    def decode(self, data: bytes, prefix: bytes = b"") -> list[pa.RecordBatch] | None:
        """One row per line of `data` (newline-separated); a DecodeError says which line failed.

        With a `prefix`, only when every line starts with it (None otherwise, and nothing is
        decoded): the decoder checks that as it reads the lines, so that a block of one stream's
        RECORDs needs no look at each line here. A large block is cut in two at a line boundary
        and its halves decoded on two threads (cffi lets go of the GIL during the call), as
        pyarrow.json uses every core; the halves are read in place, not copied.
        """
        buffer = self._ffi.from_buffer(data)
        cut = data.find(b"\n", len(data) // 2) if len(data) >= _PARALLEL_MIN_BYTES else -1
        if cut < 0:
            batch = self._decode_part(self._handles[0], buffer, len(data), prefix)
            return None if batch is None else [batch]
        later = _helper_thread().submit(
            self._decode_part, self._handles[1], buffer + (cut + 1), len(data) - cut - 1, prefix
        )
        head_error = None
        head = None
        try:
            head = self._decode_part(self._handles[0], buffer, cut, prefix)
        except DecodeError as exc:
            head_error = exc  # every line of the first half had the prefix: its line is exact
        except BaseException:
            wait([later])  # the helper still reads `data`, which must outlive its call
            raise
        try:
            tail = later.result()
        except DecodeError as exc:
            if head_error is None and head is not None:  # an error in the first half is the earlier line
                raise DecodeError(exc.message, None if exc.line is None else exc.line + head.num_rows) from None
            tail = None
        if head_error is not None:
            raise head_error
        if head is None or tail is None:
            return None
        return [head, tail]

    def _decode_part(self, handle: Any, data: Any, size: int, prefix: bytes) -> pa.RecordBatch | None:
        ffi = self._ffi
        array = ffi.new("struct ArrowArray *")
        schema = ffi.new("struct ArrowSchema *")
        status = self._lib.dativo_decoder_decode_prefixed(handle, data, size, prefix, len(prefix), array, schema)
        if status == _STATUS_OTHER_LINES:
            return None
        if status != _STATUS_BATCH:
            message = ffi.string(self._lib.dativo_decoder_last_error(handle)).decode("utf-8", "replace")
            line = int(self._lib.dativo_decoder_error_line(handle))
            raise DecodeError(message, None if line < 0 else line)
        return pa.RecordBatch._import_from_c(int(ffi.cast("uintptr_t", array)), int(ffi.cast("uintptr_t", schema)))


@cache
def _helper_thread() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="record-decoder")


@cache
def decoder_library() -> DecoderLibrary | None:
    """The built decoder library, or None (then `pyarrow.json` decodes); logged once."""
    path = built_library_path(CRATE)
    if os.environ.get(CHOICE_VARIABLE) == "pyarrow":
        log.info("RECORD lines decoded with pyarrow.json (%s=pyarrow)", CHOICE_VARIABLE)
        return None
    if not path.is_file():
        log.info("RECORD lines decoded with pyarrow.json (%s is not built: "
                 "python -m dativo_core.native.build)", path.name)
        return None
    try:
        library = DecoderLibrary(path)
    except (OSError, AttributeError) as exc:
        log.warning("RECORD lines decoded with pyarrow.json: cannot load %s (%s)", path, exc)
        return None
    log.info("RECORD lines decoded natively with %s", path)
    return library
