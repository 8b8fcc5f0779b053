"""singer-sdk's standard tap tests against the Rust CSV reader, run by tap-reader's Tap class."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pytest
from singer_sdk.testing import get_tap_test_class

from dativo_core.native.build import BuildError, ReadersNotBuilt, ready_reader_libraries
from dativo_tap_reader.singer_sdk_tap import reader_tap_class

# The test classes are made at import time, so the library must exist by then.
try:
    ready_reader_libraries()
except BuildError as exc:
    pytest.fail(str(exc), pytrace=False)
except ReadersNotBuilt as exc:
    pytest.skip(str(exc), allow_module_level=True)

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
