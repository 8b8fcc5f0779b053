"""The options that say where a pipeline's state lives, shared by `dativo pipe` and `dativo state`.

Three ways, one per run: `--state-file FILE` (one pipeline, one file); `--state-dir DIR` with
`--pipeline-id` (local files per tenant and pipeline); `--state-backend FILE` with
`--pipeline-id`, a YAML or JSON file holding the same settings as a job file's `state:` section,
which reaches every backend (local, sql, s3) without putting a database URL on the command line.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import yaml

from dativo_core.pipe.state_store import KeyedState, NoState, PipeState
from dativo_core.state.backend import StateBackend, StateKey
from dativo_core.state.errors import StateError
from dativo_core.state.local import LocalStateBackend, StateFile
from dativo_core.state.settings import state_backend_from_settings


@dataclass(frozen=True)
class StateLocation:
    state_file: Path | None
    state_dir: Path | None
    state_backend: Path | None
    pipeline_id: str | None
    lock_timeout: float

    def store(self, required: bool) -> PipeState:
        """The state of the pipeline named; `NoState` when none is named and none is required."""
        if self.state_file is not None:
            if self.state_dir or self.state_backend or self.pipeline_id:
                raise click.UsageError(
                    "--state-file names the state alone; drop --state-dir, --state-backend and "
                    "--pipeline-id"
                )
            return StateFile(self.state_file, self.lock_timeout)
        if not required and not (self.state_dir or self.state_backend or self.pipeline_id):
            return NoState()
        return KeyedState(self.backend(), self._key())

    def backend(self) -> StateBackend:
        if self.state_backend is not None:
            if self.state_dir is not None:
                raise click.UsageError("give --state-dir or --state-backend, not both")
            return _backend_from_file(self.state_backend, self.lock_timeout)
        if self.state_dir is None:
            raise click.UsageError(
                "give --state-file, or --state-dir or --state-backend with --pipeline-id"
            )
        return LocalStateBackend(self.state_dir, self.lock_timeout)

    def _key(self) -> StateKey:
        if not self.pipeline_id:
            option = "--state-backend" if self.state_backend else "--state-dir"
            raise click.UsageError(f"{option} needs --pipeline-id to name the pipeline")
        try:
            return StateKey.parse(self.pipeline_id)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--pipeline-id") from None


def _backend_from_file(path: Path, lock_timeout: float) -> StateBackend:
    try:
        settings = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise click.BadParameter(f"cannot read {path}: {exc}", param_hint="--state-backend")
    if not isinstance(settings, dict):
        raise click.BadParameter(
            f"{path} must hold a mapping such as {{backend: sql, url_env: DATIVO_STATE_URL}}",
            param_hint="--state-backend",
        )
    settings.setdefault("lock_timeout", lock_timeout)
    try:
        return state_backend_from_settings(settings, base_dir=path.parent)
    except StateError as exc:
        raise click.BadParameter(f"{path}: {exc}", param_hint="--state-backend") from None


state_dir_option = click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="DATIVO_STATE_DIR",
    show_envvar=True,
    help="A directory holding the state of many pipelines: <dir>/<tenant>/<pipeline>.json.",
)
state_backend_option = click.option(
    "--state-backend",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A YAML/JSON file with a job's `state:` settings (local, sql or s3; see docs/state.md).",
)
_OPTIONS = [
    click.option(
        "--state-file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="One JSON file holding this pipeline's state.",
    ),
    state_dir_option,
    state_backend_option,
    click.option(
        "--pipeline-id",
        help="With --state-dir/--state-backend: PIPELINE or TENANT/PIPELINE "
        "(tenant 'default' if omitted).",
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


def state_location_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the state options to a click command, which receives them as one `state_location`."""

    @functools.wraps(command)
    def with_location(
        *args: Any,
        state_file: Path | None,
        state_dir: Path | None,
        state_backend: Path | None,
        pipeline_id: str | None,
        lock_timeout: float,
        **kwargs: Any,
    ) -> Any:
        location = StateLocation(state_file, state_dir, state_backend, pipeline_id, lock_timeout)
        return command(*args, state_location=location, **kwargs)

    for option in reversed(_OPTIONS):
        with_location = option(with_location)
    return with_location
