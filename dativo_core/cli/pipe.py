"""`dativo pipe`: run any tap into any target, with state, progress and clear failures."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import click

from dativo_core.cli.state_location import StateLocation, state_location_options
from dativo_core.pipe.plugin import PluginCommand, PluginNotFoundError
from dativo_core.pipe.progress import DEFAULT_INTERVAL_SECONDS
from dativo_core.pipe.runner import DEFAULT_STOP_TIMEOUT_SECONDS, Outcome, Pipe
from dativo_core.state.errors import StateError

_config_path = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command()
@click.option("--tap", required=True, help="Tap executable: a name on PATH, or a path.")
@click.option("--tap-config", type=_config_path, help="Config file passed to the tap's --config.")
@click.option("--target", required=True, help="Target executable: a name on PATH, or a path.")
@click.option(
    "--target-config", type=_config_path, help="Config file passed to the target's --config."
)
@click.option("--catalog", type=_config_path, help="Catalog file passed to the tap's --catalog.")
@click.option(
    "--mapper",
    multiple=True,
    help="Mapper executable between tap and target (repeatable; in order), e.g. dativo-validate.",
)
@click.option(
    "--mapper-config",
    multiple=True,
    type=_config_path,
    help="Config file for the mapper at the same position (repeatable).",
)
@state_location_options
@click.option("--tap-arg", multiple=True, help="Extra argument for the tap (repeatable).")
@click.option("--target-arg", multiple=True, help="Extra argument for the target (repeatable).")
@click.option(
    "--progress-interval",
    type=click.FloatRange(min=0),
    default=DEFAULT_INTERVAL_SECONDS,
    show_default=True,
    help="Seconds between progress lines on stderr; 0 prints only the final summary.",
)
@click.option(
    "--stop-timeout",
    type=click.FloatRange(min=0),
    default=DEFAULT_STOP_TIMEOUT_SECONDS,
    show_default=True,
    help="After Ctrl-C/SIGTERM, seconds the target gets to commit before it is terminated.",
)
@click.option(
    "--resume-from-target",
    is_flag=True,
    help="Before the run, ask the target for the state its last commit reached "
    "(TARGET --committed-state, as target-iceberg answers) and resume the tap from it.",
)
@click.option(
    "--child-stderr/--no-child-stderr",
    default=True,
    show_default=True,
    help="Forward the tap's and target's stderr (prefixed with their names).",
)
def pipe(
    tap: str,
    tap_config: Path | None,
    target: str,
    target_config: Path | None,
    catalog: Path | None,
    mapper: tuple[str, ...],
    mapper_config: tuple[Path, ...],
    state_location: StateLocation,
    tap_arg: tuple[str, ...],
    target_arg: tuple[str, ...],
    progress_interval: float,
    stop_timeout: float,
    resume_from_target: bool,
    child_stderr: bool,
) -> None:
    """Run a Singer tap into a Singer target, keeping the state between runs.

    The stored state goes to the tap's --state; each state the target emits is saved at once.
    Exit codes: 0 done, 1 the tap failed, 2 usage error, 3 the target failed, 4 the state could
    not be locked, read or saved, 5 a mapper failed, 128+N stopped by signal N.
    """
    if len(mapper_config) > len(mapper):
        raise click.UsageError("each --mapper-config belongs to the --mapper at the same position")
    configs = list(mapper_config) + [None] * (len(mapper) - len(mapper_config))
    store = state_location.store(required=False)
    runner = Pipe(
        PluginCommand("tap", tap, tap_config, tap_arg),
        PluginCommand("target", target, target_config, target_arg),
        store,
        catalog=catalog,
        mappers=[PluginCommand("mapper", exe, config) for exe, config in zip(mapper, configs, strict=True)],
        progress_interval=progress_interval,
        stop_timeout=stop_timeout,
        forward_stderr=child_stderr,
        resume_from_target=resume_from_target,
    )
    try:
        with _stop_on_signals(runner):
            result = runner.run()
    except PluginNotFoundError as exc:
        raise click.UsageError(str(exc)) from None
    except StateError as exc:
        click.echo(f"dativo pipe: {exc}", err=True)
        raise SystemExit(Outcome.STATE_FAILED) from None
    click.echo(f"dativo pipe: {result.message}", err=True)
    if result.exit_code:
        raise SystemExit(result.exit_code)


@contextmanager
def _stop_on_signals(runner: Pipe) -> Iterator[None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        runner.request_stop(signum)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
