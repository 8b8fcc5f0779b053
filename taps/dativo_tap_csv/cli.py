"""The `tap-csv` command: type inference begins, then singer-sdk's command line runs the tap."""

from __future__ import annotations

import gc
import sys

from dativo_tap_csv import early_inference


def main() -> None:
    gc.disable()  # importing singer-sdk builds ~10^5 objects: collecting meanwhile is wasted work
    early_inference.start(sys.argv[1:])
    from dativo_tap_csv.tap import TapCSV  # singer-sdk: slow to import, so after inference began

    gc.freeze()  # imported objects live as long as the process: keep them out of collections
    gc.enable()
    TapCSV.cli()
