"""Native readers: shared libraries implementing rust_ext/include/dativo_reader.h, loaded with
cffi, yielding pyarrow RecordBatches. Build Dativo's own with `python -m dativo_core.native.build`.
"""

from dativo_core.native.library import (
    BUILD_COMMAND,
    NativeBatchReader,
    NativeLibrary,
    NativeReaderError,
    built_library_path,
    load_library,
)

__all__ = [
    "BUILD_COMMAND",
    "NativeBatchReader",
    "NativeLibrary",
    "NativeReaderError",
    "built_library_path",
    "load_library",
]
