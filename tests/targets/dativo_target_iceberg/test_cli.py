"""The command line: --about like singer-sdk's, --version, config errors, --input."""

from __future__ import annotations

import json

from click.testing import CliRunner

from dativo_target_iceberg import __version__
from dativo_target_iceberg.catalog import embedded_catalog
from dativo_target_iceberg.cli import main


def test_about_json_has_singer_sdk_keys():
    result = CliRunner().invoke(main, ["--about", "--format", "json"])
    assert result.exit_code == 0
    about = json.loads(result.output)
    assert about["name"] == "target-iceberg"
    assert about["version"] == __version__
    assert {"description", "capabilities", "settings"} <= set(about)
    assert {"warehouse", "namespace", "catalog", "max_batch_rows", "max_batch_bytes",
            "max_batch_age_seconds"} <= set(about["settings"]["properties"])


def test_about_markdown_lists_settings():
    result = CliRunner().invoke(main, ["--about", "--format", "markdown"])
    assert result.exit_code == 0
    assert "## Settings" in result.output
    assert "| warehouse | string |" in result.output


def test_version():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_config_is_required_and_checked(tmp_path):
    assert CliRunner().invoke(main, []).exit_code == 2
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"warehouse": str(tmp_path), "max_batch_rows": 0}))
    result = CliRunner().invoke(main, ["--config", str(bad)], input=b"")
    assert result.exit_code == 1
    assert "max_batch_rows" in result.output
    none = tmp_path / "none.json"
    none.write_text("{}")
    assert CliRunner().invoke(main, ["--config", str(none)], input=b"").exit_code == 1


def test_input_file_loads_and_stdout_holds_only_states(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"warehouse": str(tmp_path / "wh")}))
    source = tmp_path / "in.singer"
    source.write_text(
        '{"type":"SCHEMA","stream":"s","schema":{"properties":{"id":{"type":"integer"}}},"key_properties":["id"]}\n'
        '{"type":"RECORD","stream":"s","record":{"id":1}}\n'
        '{"type":"STATE","value":{"done":true}}\n'
    )
    result = CliRunner().invoke(main, ["--config", str(config), "--input", str(source)])
    assert result.exit_code == 0, result.output
    assert result.stdout == '{"done":true}\n'
    table = embedded_catalog(tmp_path / "wh").load_table(("default", "s"))
    assert table.scan().to_arrow().column("id").to_pylist() == [1]
