"""`dativo state get|set|clear|list`: read and change the stored state of pipelines."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import click
import orjson

from dativo_core.cli.state_location import (
    StateLocation,
    state_backend_option,
    state_dir_option,
    state_location_options,
)
from dativo_core.state.errors import StateError


@click.group()
def state() -> None:
    """Read and change the stored Singer state of pipelines."""


@contextlib.contextmanager
def _state_errors() -> Iterator[None]:
    try:
        yield
    except StateError as exc:
        raise click.ClickException(str(exc)) from None


@state.command()
@state_location_options
def get(state_location: StateLocation) -> None:
    """Print the stored state as JSON (`{}` when there is none)."""
    store = state_location.store(required=True)
    with _state_errors():
        value = store.read()
    click.echo(orjson.dumps(value or {}, option=orjson.OPT_INDENT_2).decode())


@state.command(name="set")
@state_location_options
@click.argument(
    "source", type=click.Path(exists=True, dir_okay=False, allow_dash=True), default="-"
)
def set_(state_location: StateLocation, source: str) -> None:
    """Replace the stored state with the JSON object in SOURCE (a file, or - for stdin)."""
    store = state_location.store(required=True)
    name = "stdin" if source == "-" else source
    try:
        with click.open_file(source, "rb") as stream:
            value = orjson.loads(stream.read())
    except orjson.JSONDecodeError as exc:
        raise click.ClickException(f"{name} is not valid JSON: {exc}") from None
    if isinstance(value, dict) and value.get("type") == "STATE":
        value = value.get("value")
    if not isinstance(value, dict):
        raise click.ClickException(f"{name} must hold a JSON object (a Singer state value)")
    with _state_errors(), store.lock():
        store.write(value)
    click.echo(f"state of {store} replaced", err=True)


@state.command()
@state_location_options
def clear(state_location: StateLocation) -> None:
    """Forget the stored state, so the next run starts from the beginning."""
    store = state_location.store(required=True)
    with _state_errors(), store.lock():
        store.clear()
    click.echo(f"state of {store} cleared", err=True)


@state.command(name="list")
@state_dir_option
@state_backend_option
def list_(state_dir: Path | None, state_backend: Path | None) -> None:
    """Print every pipeline that has state stored, as TENANT/PIPELINE."""
    backend = StateLocation(None, state_dir, state_backend, None, 0.0).backend()
    with _state_errors():
        keys = backend.keys()
    for key in keys:
        click.echo(str(key))
