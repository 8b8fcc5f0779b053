"""`dativo version`."""

from __future__ import annotations

import platform

import click

from dativo_core import __version__


@click.command()
def version() -> None:
    """Print the versions of Dativo and of the Python it runs on."""
    click.echo(f"dativo {__version__} (Python {platform.python_version()})")
