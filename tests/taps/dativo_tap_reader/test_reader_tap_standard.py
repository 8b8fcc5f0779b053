"""singer-sdk's standard tap tests against the example reader, through the sandboxed tap,
with dict records and with Arrow batches."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from dativo_tap_reader.singer_sdk_tap import reader_tap_class
from reader_tap_shop import EXAMPLE_PLUGINS, EXAMPLE_REFERENCE, create_shop
from singer_sdk.testing import get_tap_test_class

_FOLDER = Path(tempfile.mkdtemp(prefix="dativo-reader-tap-tests-"))
atexit.register(shutil.rmtree, _FOLDER, ignore_errors=True)
_SHOP = str(create_shop(_FOLDER / "shop.db"))

TestExampleReaderRecords = get_tap_test_class(
    reader_tap_class(EXAMPLE_REFERENCE),
    config={
        "database": _SHOP,
        "replication_keys": {"orders": "updated_at"},
        "batch_rows": 10,
    },
)

TestExampleReaderArrowBatches = get_tap_test_class(
    reader_tap_class("sqlite-tables", plugin_dirs=[EXAMPLE_PLUGINS]),
    config={
        "database": _SHOP,
        "replication_keys": {"orders": "updated_at"},
        "output": "arrow",
    },
)
