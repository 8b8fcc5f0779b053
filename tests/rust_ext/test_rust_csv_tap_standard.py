"""singer-sdk's standard tap tests against the Rust CSV reader, run by tap-reader's Tap class."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pytest
from singer_sdk.testing import get_tap_test_class

from dativo_core.native.build import BuildError, build_readers, cargo_path
from dativo_core.native.library import BUILD_COMMAND, built_library_path
from dativo_tap_reader.singer_sdk_tap import reader_tap_class

# The test classes are made at import time, so the library must exist by then.
if cargo_path() is not None:
    try:
        build_readers()
    except BuildError as exc:
        pytest.fail(str(exc), pytrace=False)
if not built_library_path("dativo_csv_reader").is_file():
    pytest.skip(f"cargo is not installed and the reader is not built; run `{BUILD_COMMAND}`", allow_module_level=True)

_FOLDER = Path(tempfile.mkdtemp(prefix="dativo-rust-csv-tests-"))
atexit.register(shutil.rmtree, _FOLDER, ignore_errors=True)
_CSV = _FOLDER / "orders.csv"
_CSV.write_text(
    "id,customer,amount,paid,ordered_on,updated_at\n"
    + "".join(
        f'{i},"Customer, {i}",{i * 2.5},{"true" if i % 2 else "false"},2024-01-{i % 28 + 1:02d},'
        f"2024-03-01T00:{i // 60:02d}:{i % 60:02d}Z\n"
        for i in range(1, 201)
    ),
    encoding="utf-8",
)

TestRustCSVReaderTap = get_tap_test_class(
    reader_tap_class("dativo_core.native.reader:RustCSVReader"),
    config={"stream": "orders", "path": str(_CSV), "keys": ["id"], "batch_size": 64},
)
