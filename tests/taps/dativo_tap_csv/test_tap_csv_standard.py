"""singer-sdk's standard tap tests, on a typed fixture and the shipped example, in both
full-table and incremental mode."""

from __future__ import annotations

from pathlib import Path

from singer_sdk.testing import get_tap_test_class

from dativo_tap_csv.tap import TapCSV

_HERE = Path(__file__).resolve().parent
_FILES = [
    {"entity": "typed", "path": str(_HERE / "data" / "typed.csv"), "keys": ["id"]},
    {
        "entity": "customers",
        "path": str(_HERE.parents[2] / "examples" / "csv" / "customers.csv"),
        "keys": ["id"],
    },
]

TestTapCSVFullTable = get_tap_test_class(TapCSV, config={"files": _FILES})

TestTapCSVIncrementalWithMetadata = get_tap_test_class(
    TapCSV, config={"files": _FILES, "add_metadata_columns": True, "incremental": True}
)
