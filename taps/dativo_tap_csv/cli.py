"""The `tap-csv` command: type inference begins, then singer-sdk's command line runs the tap."""

from __future__ import annotations

import sys

from dativo_core.startup import imports_without_gc, keep_freed_memory
from dativo_tap_csv import early_inference


def main() -> None:
    keep_freed_memory()
    with imports_without_gc():
        early_inference.start(sys.argv[1:])
        from dativo_tap_csv.tap import TapCSV  # singer-sdk: slow to import, so after inference began
    TapCSV.cli()
