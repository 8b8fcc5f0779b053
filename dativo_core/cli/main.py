"""`dativo`: the entry point, and the registry of its subcommands.

Adding a command is one line in COMMANDS: its name and the `module:attribute` of a click command.
"""

from __future__ import annotations

import click

from dativo_core import __version__
from dativo_core.cli.lazy_group import LazyGroup

COMMANDS = {
    "check": "dativo_core.jobs.cli:check",
    "connectors": "dativo_core.jobs.cli:connectors",
    "discover": "dativo_core.jobs.cli:discover",
    "pipe": "dativo_core.cli.pipe:pipe",
    "plugins": "dativo_core.plugins.cli:plugins",
    "run": "dativo_core.jobs.cli:run",
    "state": "dativo_core.cli.state:state",
    "validate": "dativo_core.contracts.cli:validate",
    "version": "dativo_core.cli.version:version",
}


@click.group(cls=LazyGroup, lazy_commands=COMMANDS)
@click.version_option(__version__, prog_name="dativo")
def cli() -> None:
    """Dativo: Singer taps and targets, piped with state, progress and clear errors."""


def main() -> None:
    cli(prog_name="dativo")


if __name__ == "__main__":
    main()
