"""The `dativo` group: lazy subcommands, version, and the installed console script."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from dativo_core import __version__
from dativo_core.cli.lazy_group import LazyGroup
from dativo_core.cli.main import COMMANDS, cli

DATIVO = Path(sys.executable).parent / "dativo"


def test_help_lists_every_registered_command():
    result = CliRunner().invoke(cli, ["--help"])

    assert result.exit_code == 0
    for name in ("pipe", "state", "version"):
        assert name in COMMANDS
        assert f"  {name} " in result.output


def test_every_registered_command_loads_and_has_help():
    for name in COMMANDS:
        result = CliRunner().invoke(cli, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert result.output.startswith(f"Usage: cli {name} ")


def test_version_command_and_option():
    assert CliRunner().invoke(cli, ["version"]).output.startswith(f"dativo {__version__} (Python ")
    assert CliRunner().invoke(cli, ["--version"]).output == f"dativo, version {__version__}\n"


def test_starting_dativo_imports_only_the_command_that_runs():
    probe = (
        "import sys; from dativo_core.cli.main import main; sys.argv = ['dativo', 'version'];"
        "\ntry: main()\nexcept SystemExit: pass\n"
        "print(sorted(m for m in sys.modules if m.startswith(('dativo_core.pipe', 'dativo_core.cli.', 'pyarrow', 'singer_sdk'))))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)

    assert out.stdout.splitlines()[-1] == str(
        ["dativo_core.cli.lazy_group", "dativo_core.cli.main", "dativo_core.cli.version"]
    )


def test_a_registered_name_that_is_not_a_command_is_reported():
    group = LazyGroup(name="g", lazy_commands={"bad": "dativo_core.cli.main:COMMANDS"})

    with pytest.raises(
        TypeError, match="'dativo_core.cli.main:COMMANDS' registered for 'dativo bad'"
    ):
        group.get_command(click.Context(group), "bad")


def test_the_installed_console_script_runs():
    result = subprocess.run([str(DATIVO), "version"], capture_output=True, text=True, check=True)
    assert result.stdout == f"dativo {__version__} (Python {sys.version.split()[0]})\n"

    usage = subprocess.run([str(DATIVO), "pipe"], capture_output=True, text=True, check=False)
    assert usage.returncode == 2
    assert "Missing option '--tap'" in usage.stderr
    assert usage.stderr.startswith("Usage: dativo pipe")
