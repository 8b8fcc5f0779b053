"""Manifests, discovery from folders and installed packages, and `dativo plugins` refusals."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from dativo_core.plugins.cli import plugins
from dativo_core.plugins.loading import PluginLoadError
from dativo_core.plugins.manifest import ManifestError, load_manifest
from dativo_core.plugins.registry import (
    BUILTIN_MANIFESTS,
    discover_plugins,
    find_plugin,
    resolve_reader,
)

EXAMPLES = Path(__file__).parents[3] / "examples" / "readers"

READER_SOURCE = textwrap.dedent(
    '''
    from dativo_core.sdk import Bookmark, Capabilities, Reader, Stream

    class Numbers(Reader):
        """Counts to config["count"]."""

        capabilities = Capabilities(incremental=True)

        @classmethod
        def spec(cls):
            return {"type": "object", "properties": {"count": {"type": "integer"}}}

        def discover(self):
            return [Stream("numbers", {"type": "object", "properties": {"n": {"type": "integer"}}}, ("n",), "n")]

        def read(self, stream, state):
            start = state.get("replication_key_value", 0)
            for n in range(start + 1, self.config.get("count", 3) + 1):
                yield {"n": n}
            yield Bookmark({"replication_key_value": self.config.get("count", 3)})

    class BadKeys(Numbers):
        def discover(self):
            return [Stream("numbers", {"type": "object", "properties": {"n": {"type": "integer"}}}, ("id",))]
    '''
)


def write_plugin(
    folder: Path, name: str, entry: str = "numbers.py:Numbers", **fields: object
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "numbers.py").write_text(READER_SOURCE)
    manifest = {
        "name": name,
        "version": "1.2.0",
        "api_version": ">=1.0,<2",
        "entry_point": entry,
        "capabilities": {"incremental": True, "discovery": True, "batch_output": False},
        "example_config": {"count": 3},
        **fields,
    }
    (folder / "dativo-plugin.yaml").write_text(json.dumps(manifest))
    return folder


def test_invalid_manifest_error_names_file_and_path(tmp_path: Path) -> None:
    path = (
        write_plugin(tmp_path / "p", "numbers", capabilities={"incremental": "yes"})
        / "dativo-plugin.yaml"
    )
    with pytest.raises(ManifestError) as caught:
        load_manifest(path)
    assert caught.value.source == str(path)
    assert caught.value.path == "$.capabilities.incremental"
    assert "'yes' is not of type 'boolean'" in str(caught.value)


def test_bad_api_range_is_a_manifest_error(tmp_path: Path) -> None:
    path = (
        write_plugin(tmp_path / "p", "numbers", api_version="one or two")
        / "dativo-plugin.yaml"
    )
    with pytest.raises(
        ManifestError, match=r"api_version: 'one or two' is not a version range"
    ):
        load_manifest(path)


def test_folders_come_from_options_and_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_plugin(tmp_path / "a" / "numbers", "numbers")
    write_plugin(tmp_path / "b", "other-numbers")
    monkeypatch.setenv("DATIVO_PLUGIN_PATH", str(tmp_path / "b"))
    index = discover_plugins([tmp_path / "a", EXAMPLES])
    assert {"numbers", "other-numbers", "sqlite-tables"} <= set(index.plugins)
    assert index.plugins["numbers"].version == "1.2.0"


def test_duplicate_names_are_reported_not_shadowed(tmp_path: Path) -> None:
    write_plugin(tmp_path / "a", "numbers")
    write_plugin(tmp_path / "b", "numbers")
    index = discover_plugins([tmp_path / "a", tmp_path / "b"])
    assert index.plugins["numbers"].source == str(tmp_path / "a" / "dativo-plugin.yaml")
    assert "already used by" in str(index.problems[0])


def test_installed_package_entry_point_is_discovered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = write_plugin(
        tmp_path / "site" / "numbers_plugin", "installed-numbers", entry="unused:Unused"
    )
    (package / "__init__.py").write_text("")
    dist_info = tmp_path / "site" / "numbers_plugin-1.2.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: numbers-plugin\nVersion: 1.2.0\n"
    )
    (dist_info / "entry_points.txt").write_text(
        "[dativo.readers]\ninstalled-numbers = numbers_plugin.numbers:Numbers\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    index = discover_plugins()
    manifest = index.plugins["installed-numbers"]
    assert manifest.reader_reference == "numbers_plugin.numbers:Numbers"
    assert resolve_reader("installed-numbers")[0] == "numbers_plugin.numbers:Numbers"


def test_resolve_refuses_a_plugin_for_another_api(tmp_path: Path) -> None:
    write_plugin(tmp_path / "p", "future", api_version=">=2.0,<3")
    with pytest.raises(
        PluginLoadError,
        match=r"needs reader API >=2.0,<3, but this Dativo provides 1.2",
    ):
        resolve_reader("future", [tmp_path / "p"])


def test_resolve_names_what_was_searched(tmp_path: Path) -> None:
    with pytest.raises(
        PluginLoadError,
        match=r"no reader plugin named 'nope' \(searched .*--plugin-dir",
    ):
        resolve_reader("nope", [tmp_path])


def test_cli_list_show_and_check_a_good_plugin(tmp_path: Path) -> None:
    write_plugin(tmp_path / "p", "numbers")
    runner = CliRunner()
    listed = runner.invoke(plugins, ["list", "--plugin-dir", str(tmp_path / "p")])
    assert listed.exit_code == 0
    assert "numbers\t1.2.0\tapi >=1.0,<2\tok" in listed.output
    shown = runner.invoke(
        plugins, ["show", "numbers", "--plugin-dir", str(tmp_path / "p")]
    )
    assert (
        json.loads(shown.output)["reader"]
        == f"{(tmp_path / 'p' / 'numbers.py').resolve()}:Numbers"
    )
    checked = runner.invoke(
        plugins, ["check", "numbers", "--plugin-dir", str(tmp_path / "p")]
    )
    assert checked.exit_code == 0, checked.output
    assert "is usable with reader API 1.2" in checked.output


def test_cli_check_without_config_checks_the_class_only(tmp_path: Path) -> None:
    runner = CliRunner()
    static = runner.invoke(
        plugins, ["check", "sqlite-tables", "--plugin-dir", str(EXAMPLES)]
    )
    assert static.exit_code == 0, static.output
    assert "the reader was not run: pass --config" in static.output

    db = tmp_path / "empty.db"
    sqlite3.connect(db).execute(
        "create table t (id integer primary key, v text)"
    ).connection.commit()
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"database": str(db), "output": "arrow"}))
    ran = runner.invoke(
        plugins,
        [
            "check",
            "sqlite-tables",
            "--plugin-dir",
            str(EXAMPLES),
            "--config",
            str(config),
        ],
    )
    assert ran.exit_code == 0, ran.output
    assert "not run" not in ran.output


def test_cli_check_refuses_an_incompatible_api_range(tmp_path: Path) -> None:
    write_plugin(tmp_path / "p", "future", api_version=">=2.0,<3")
    runner = CliRunner()
    listed = runner.invoke(plugins, ["list", "--plugin-dir", str(tmp_path / "p")])
    assert "future\t1.2.0\tapi >=2.0,<3\tINCOMPATIBLE" in listed.output
    checked = runner.invoke(
        plugins, ["check", "future", "--plugin-dir", str(tmp_path / "p")]
    )
    assert checked.exit_code == 1
    assert "needs reader API >=2.0,<3, but this Dativo provides 1.2" in checked.output


def test_cli_check_refuses_a_class_that_breaks_the_contract(tmp_path: Path) -> None:
    write_plugin(tmp_path / "p", "bad", entry="numbers.py:BadKeys")
    checked = CliRunner().invoke(
        plugins, ["check", "bad", "--plugin-dir", str(tmp_path / "p")]
    )
    assert checked.exit_code == 1
    assert "key property 'id' is not in its schema's properties" in checked.output


def test_cli_check_refuses_a_manifest_that_contradicts_its_class(
    tmp_path: Path,
) -> None:
    write_plugin(tmp_path / "p", "liar", secrets=["API_TOKEN"])
    checked = CliRunner().invoke(
        plugins, ["check", "liar", "--plugin-dir", str(tmp_path / "p")]
    )
    assert checked.exit_code == 1
    assert "manifest secrets ['API_TOKEN'] differ from the class's []" in checked.output


def test_cli_list_reports_invalid_manifests(tmp_path: Path) -> None:
    write_plugin(tmp_path / "p", "Bad Name")
    listed = CliRunner().invoke(plugins, ["list", "--plugin-dir", str(tmp_path / "p")])
    assert "invalid manifest:" in listed.output and "$.name" in listed.output


def test_dativos_own_plugins_are_found_without_reading_installed_packages() -> None:
    # Each built-in manifest is one of Dativo's registered entry points, and found as it is.
    index = discover_plugins()
    for path in BUILTIN_MANIFESTS:
        name = load_manifest(path).name
        assert find_plugin(name) == index.plugins[name]
    script = (
        "import sys\n"
        "from dativo_core.plugins.registry import resolve_reader\n"
        "print(resolve_reader('rust-csv')[0], 'importlib.metadata' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["dativo_core.native.reader:RustCSVReader", "False"]


def test_a_plugin_folder_still_comes_before_dativos_own_plugins(tmp_path: Path) -> None:
    write_plugin(tmp_path / "mine", "rust-csv")
    manifest = find_plugin("rust-csv", [tmp_path])
    assert manifest.source == str(tmp_path / "mine" / "dativo-plugin.yaml")
