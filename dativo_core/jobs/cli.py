"""`dativo run`, `dativo connectors`, `dativo check` and `dativo discover`: jobs and recipes at the shell."""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from dativo_core.documents import load_document
from dativo_core.jobs.model import ConnectorUse, Job
from dativo_core.jobs.recipes import find_recipe, list_recipes
from dativo_core.jobs.run import (
    USER_ERRORS,
    Plugin,
    connector_config,
    job_files_by_tenant,
    prepare_job_plugin,
    prepare_plugin,
    run_job,
    run_plugin_command,
)
from dativo_core.jobs.run import (
    discover as discover_catalog,
)
from dativo_core.secrets import AuditLog, write_private_config

AUDIT_LOG_ENV = "DATIVO_AUDIT_LOG"

_audit_option = click.option(
    "--audit-log",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar=AUDIT_LOG_ENV,
    show_envvar=True,
    default="audit.jsonl",
    show_default=True,
    help="JSON lines file recording which job and plugin resolved which secret names, and each run.",
)
_existing_file = click.Path(exists=True, dir_okay=False, resolve_path=True, path_type=Path)


def _connector_or_job(job_help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """NAME [--config FILE] or --job JOB, and the audit log, for check and discover."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed([
            click.argument("name", required=False),
            click.option("--job", "job_path", type=_existing_file, help=job_help),
            click.option("--config", "config_path", type=_existing_file,
                         help="With NAME: the connector config (YAML or JSON)."),
            _audit_option,
        ]):
            command = option(command)
        return command

    return decorate


@click.command()
@click.argument("jobs", nargs=-1, type=_existing_file)
@click.option("--job-dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Run every job file (*.yaml, *.yml) below this folder, tenant by tenant.")
@_audit_option
@click.option("--progress-interval", type=click.FloatRange(min=0), default=10.0, show_default=True,
              help="Seconds between progress lines on stderr; 0 prints only each job's summary.")
def run(jobs: tuple[Path, ...], job_dir: Path | None, audit_log: Path, progress_interval: float) -> None:
    """Run job files: each job's tap into its target, with secrets, state and its contract.

    A failed job does not stop the others; the exit code is 1 if any job failed.
    """
    paths = list(jobs) + (job_files_by_tenant(job_dir) if job_dir else [])
    if not paths:
        raise click.UsageError("name job files, or a folder of them with --job-dir")
    audit = AuditLog(audit_log.resolve())  # jobs run in their own folders
    reports = []
    for path in paths:
        click.echo(f"dativo run: {path}", err=True)
        report = run_job(path, audit, progress_interval=progress_interval)
        click.echo(f"dativo run: {report.line()}", err=True)
        reports.append(report)
    failed = [r for r in reports if not r.ok]
    click.echo(f"dativo run: {len(reports) - len(failed)} of {len(reports)} jobs succeeded", err=True)
    for report in reports:
        click.echo(report.line())
    if failed:
        raise SystemExit(1)


@click.group()
def connectors() -> None:
    """The connector catalog: recipes in catalogs/ and DATIVO_CATALOG_PATH folders."""


@connectors.command("list")
def list_connectors() -> None:
    """One line per recipe: name, kind, engine, install source, version."""
    for recipe in _or_fail(list_recipes):
        click.echo(
            f"{recipe.name:<22} {recipe.kind:<7} {recipe.engine:<8} {recipe.install['source']:<8} "
            f"{recipe.version or '-':<10} {recipe.description}"
        )


@connectors.command("show")
@click.argument("name")
def show_connector(name: str) -> None:
    """The recipe as JSON, with the file it came from."""
    recipe = _or_fail(lambda: find_recipe(name))
    data = {key: value for key, value in vars(recipe).items() if key != "source_file"}
    click.echo(json.dumps({"file": str(recipe.source_file), **data}, indent=2))


@click.command()
@_connector_or_job("Check the source and target of this job instead.")
def check(name: str | None, job_path: Path | None, config_path: Path | None, audit_log: Path) -> None:
    """Check that a connector starts with its config and reaches its source.

    Taps whose recipe lists the `test` capability run `--test`; other plugins run `--about`.
    """
    job = _or_fail(lambda: Job.load(job_path)) if job_path else None
    with _workdir(job, config_path), tempfile.TemporaryDirectory(prefix="dativo-check-") as tmp:
        for plugin in _plugins(name, job, config_path, audit_log, both=True):
            mode = "--test" if "test" in plugin.recipe.capabilities else "--about"
            with write_private_config(plugin.config, directory=tmp) as config_file:
                _or_fail(run_plugin_command, plugin, config_file, mode)
            click.echo(f"{plugin.recipe.name}: ok ({mode})")


@click.command()
@_connector_or_job("Discover the job's source, with its stream selection.")
def discover(name: str | None, job_path: Path | None, config_path: Path | None, audit_log: Path) -> None:
    """Print a tap's Singer catalog (with a job's selection applied when --job is given)."""
    job = _or_fail(lambda: Job.load(job_path)) if job_path else None
    with _workdir(job, config_path), tempfile.TemporaryDirectory(prefix="dativo-discover-") as tmp:
        (plugin,) = _plugins(name, job, config_path, audit_log, both=False)
        use = job.source if job else ConnectorUse(plugin.recipe.name)
        catalog = _or_fail(lambda: discover_catalog(plugin, use, Path(tmp)))
    click.echo(json.dumps(catalog, indent=2))


def _or_fail(action: Callable[..., Any], *args: Any) -> Any:
    """The action's result; an error the user can fix becomes a click error message."""
    try:
        return action(*args)
    except USER_ERRORS as exc:
        raise click.ClickException(str(exc)) from None


def _workdir(job: Job | None, config_path: Path | None) -> contextlib.chdir[Path]:
    """Plugins run where their config's relative paths point: beside the job or config file."""
    if job is not None:
        return contextlib.chdir(job.source_file.parent)
    return contextlib.chdir(config_path.resolve().parent if config_path else Path.cwd())


def _plugins(name: str | None, job: Job | None, config_path: Path | None, audit_log: Path,
             both: bool) -> list[Plugin]:
    """The plugins to check or discover: a named recipe with a config file, or a job's."""
    if (name is None) == (job is None):
        raise click.UsageError("give a connector NAME or --job JOB, not both")
    audit = AuditLog(audit_log.resolve())
    if job is not None:
        if config_path is not None:
            raise click.UsageError("--config goes with a connector NAME; a job carries its own config")
        plugins = [_or_fail(lambda: prepare_job_plugin(job, job.source, "tap", audit))]
        if both:
            plugins.append(_or_fail(lambda: prepare_job_plugin(job, job.target, "target", audit)))
        return plugins
    assert name is not None
    recipe = _or_fail(lambda: find_recipe(name))
    if not both and recipe.kind != "tap":
        raise click.UsageError(f"{name} is a {recipe.kind}; only taps discover streams")
    raw = _or_fail(lambda: load_document(config_path)) if config_path else {}
    source = str(config_path or f"recipe {name}")

    def prepare() -> Plugin:
        config = connector_config(recipe, raw or {}, source)
        # Without a job there is no tenant: references resolve from the environment backend.
        return prepare_plugin(recipe, ConnectorUse(name), config, tenant="default", secrets={},
                              base_dir=Path.cwd(), audit=audit)

    return [_or_fail(prepare)]
