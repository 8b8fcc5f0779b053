"""The options that say where a pipeline's state lives, shared by `dativo pipe` and `dativo state`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from dativo_core.pipe.state_store import KeyedState, NoState, PipeState
from dativo_core.state.backend import StateKey
from dativo_core.state.local import LocalStateBackend, StateFile

F = TypeVar("F", bound=Callable[..., Any])

state_dir_option = click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="DATIVO_STATE_DIR",
    show_envvar=True,
    help="A directory holding the state of many pipelines: <dir>/<tenant>/<pipeline>.json.",
)


def state_location_options(command: F) -> F:
    options = [
        click.option(
            "--state-file",
            type=click.Path(dir_okay=False, path_type=Path),
            help="One JSON file holding this pipeline's state.",
        ),
        state_dir_option,
        click.option(
            "--pipeline-id",
            help="With --state-dir: PIPELINE or TENANT/PIPELINE (tenant 'default' if omitted).",
        ),
        click.option(
            "--lock-timeout",
            type=click.FloatRange(min=0),
            default=0.0,
            show_default=True,
            help="Seconds to wait while another run of the pipeline holds the state lock; "
            "0 fails at once.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def local_backend(state_dir: Path | None, lock_timeout: float) -> LocalStateBackend:
    if state_dir is None:
        raise click.UsageError("give --state-dir (or set DATIVO_STATE_DIR)")
    return LocalStateBackend(state_dir, lock_timeout)


def pipeline_key(pipeline_id: str | None) -> StateKey:
    if not pipeline_id:
        raise click.UsageError("--state-dir needs --pipeline-id to name the pipeline")
    try:
        return StateKey.parse(pipeline_id)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--pipeline-id") from None


def pipeline_state(
    state_file: Path | None,
    state_dir: Path | None,
    pipeline_id: str | None,
    lock_timeout: float,
    required: bool,
) -> PipeState:
    """The state store the options name; `NoState` when none is named and none is required."""
    if state_file is not None:
        if pipeline_id:
            raise click.UsageError("--pipeline-id goes with --state-dir, not with --state-file")
        return StateFile(state_file, lock_timeout)
    if state_dir is None and pipeline_id is None and not required:
        return NoState()
    if state_dir is None:
        raise click.UsageError("give --state-file, or --state-dir with --pipeline-id")
    return KeyedState(local_backend(state_dir, lock_timeout), pipeline_key(pipeline_id))
