"""`dativo state get|set|clear|list`: read and change the stored state of pipelines."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import click
import orjson

from dativo_core.cli.state_location import (
    local_backend,
    pipeline_state,
    state_dir_option,
    state_location_options,
)
from dativo_core.pipe.state_store import PipeState
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


def _store(
    state_file: Path | None, state_dir: Path | None, pipeline_id: str | None, lock_timeout: float
) -> PipeState:
    return pipeline_state(state_file, state_dir, pipeline_id, lock_timeout, required=True)


@state.command()
@state_location_options
def get(
    state_file: Path | None, state_dir: Path | None, pipeline_id: str | None, lock_timeout: float
) -> None:
    """Print the stored state as JSON (`{}` when there is none)."""
    store = _store(state_file, state_dir, pipeline_id, lock_timeout)
    with _state_errors():
        value = store.read()
    click.echo(orjson.dumps(value or {}, option=orjson.OPT_INDENT_2).decode())


@state.command(name="set")
@state_location_options
@click.argument(
    "source", type=click.Path(exists=True, dir_okay=False, allow_dash=True), default="-"
)
def set_(
    state_file: Path | None,
    state_dir: Path | None,
    pipeline_id: str | None,
    lock_timeout: float,
    source: str,
) -> None:
    """Replace the stored state with the JSON object in SOURCE (a file, or - for stdin)."""
    store = _store(state_file, state_dir, pipeline_id, lock_timeout)
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
def clear(
    state_file: Path | None, state_dir: Path | None, pipeline_id: str | None, lock_timeout: float
) -> None:
    """Forget the stored state, so the next run starts from the beginning."""
    store = _store(state_file, state_dir, pipeline_id, lock_timeout)
    with _state_errors(), store.lock():
        store.clear()
    click.echo(f"state of {store} cleared", err=True)


@state.command(name="list")
@state_dir_option
def list_(state_dir: Path | None) -> None:
    """Print every pipeline that has state stored, as TENANT/PIPELINE."""
    backend = local_backend(state_dir, 0.0)
    for key in backend.keys():  # noqa: SIM118 - a StateBackend method, not a dict
        click.echo(str(key))
