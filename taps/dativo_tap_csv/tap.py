"""The tap-csv command: a singer-sdk Tap whose streams are the configured CSV files."""

from __future__ import annotations

from singer_sdk import Tap

from dativo_tap_csv.file_specs import load_file_specs
from dativo_tap_csv.settings import CONFIG_SCHEMA
from dativo_tap_csv.stream import CSVStream


class TapCSV(Tap):
    """Reads CSV files as Singer streams, one stream per `files` entry."""

    name = "tap-csv"
    package_name = "dativo"
    config_jsonschema = CONFIG_SCHEMA

    def discover_streams(self) -> list[CSVStream]:
        return [CSVStream(self, spec) for spec in load_file_specs(self.config)]


if __name__ == "__main__":
    TapCSV.cli()
