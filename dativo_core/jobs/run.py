"""`dativo run`: one job from its file to a finished pipe, and many jobs tenant by tenant.

A run: load and validate the job and its recipes -> each plugin's effective config (recipe
defaults < job < environment), checked against the recipe's settings schema -> the secrets each
recipe declares, resolved from the tenant's backend -> private 0600 config files in a 0700
folder removed afterwards -> discovery and the job's stream selection -> the pipe (through the
contract mapper when the job has a contract, unless the target checks contracts itself), with
the job's state under `tenant/job` and its lock -> one audit line for the run -> a report.

Plugins run in the job file's folder, so relative paths in connector configs are relative to
the job file, as every other path in it is.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

import orjson

from dativo_core.documents import DocumentError, validate_document
from dativo_core.jobs.errors import JobError
from dativo_core.jobs.model import ConnectorUse, Job, find_jobs
from dativo_core.jobs.plugins import plugin_args, plugin_config, plugin_executable
from dativo_core.jobs.quarantine import load_quarantine
from dativo_core.jobs.recipes import Recipe, find_recipe
from dativo_core.jobs.selection import select
from dativo_core.jobs.settings import effective_config
from dativo_core.pip_install import InstallError
from dativo_core.pipe.console import Console
from dativo_core.pipe.plugin import PluginCommand, PluginNotFoundError
from dativo_core.pipe.runner import Pipe
from dativo_core.pipe.state_store import KeyedState
from dativo_core.secrets import (
    AuditLog,
    SecretError,
    backend_from_settings,
    resolve_config,
    write_private_config,
)
from dativo_core.secrets.redaction import redaction_filter
from dativo_core.state.backend import StateKey
from dativo_core.state.errors import StateError
from dativo_core.state.settings import state_backend_from_settings

VALIDATE_MAPPER = "dativo-validate"
COMMITTED_STATE = "committed-state"
"""Recipe capability of targets that answer `--committed-state`, so runs resume from their commits."""
CONTRACT_CHECKS = "contract-checks"
"""Recipe capability of targets that check a contract themselves (settings `contract` and
`contract_policy`, quarantine in their own commits): a job's contract goes to them, not to a mapper."""

USER_ERRORS = (DocumentError, JobError, LookupError, SecretError, StateError, InstallError, PluginNotFoundError)
"""Errors that end one job with a message for the user; the other jobs still run."""


@dataclass
class JobReport:
    """How one job ended, as `dativo run` prints it."""

    job: str
    ok: bool
    message: str
    records: dict[str, int] = field(default_factory=dict)
    quarantined: int = 0

    def line(self) -> str:
        if not self.ok:
            return f"{self.job}: FAILED: {self.message}"
        streams = ", ".join(f"{name} {count:,}" for name, count in sorted(self.records.items()))
        total = sum(self.records.values())
        text = f"{self.job}: ok, {total:,} records" + (f" ({streams})" if streams else "")
        return text + (f", {self.quarantined:,} quarantined" if self.quarantined else "")


class RedactingStream:
    """stderr as the pipe writes it (children's lines included), with resolved secrets masked."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(redaction_filter().redact(text))

    def flush(self) -> None:
        self._stream.flush()


@dataclass(frozen=True)
class Plugin:
    """A recipe ready to start: how, with which (resolved) config, and with which extra args."""

    recipe: Recipe
    executable: str
    config: dict[str, Any]
    args: tuple[str, ...] = ()


def _load_recipe(use: ConnectorUse, kind: str, where: str) -> Recipe:
    recipe = find_recipe(use.connector)
    if recipe.kind != kind:
        raise JobError(f"{where}: connector {use.connector!r} is a {recipe.kind}, not a {kind}")
    return recipe


def connector_config(
    recipe: Recipe, job_config: dict[str, Any], source: str, environ: dict[str, str] | None = None
) -> dict[str, Any]:
    """Recipe defaults < job < environment, checked against the recipe's settings schema."""
    config = effective_config(recipe.name, recipe.defaults, job_config, recipe.settings, environ)
    if recipe.settings:
        validate_document(config, recipe.settings, f"{source} (config of {recipe.name})")
    return config


def prepare_plugin(
    recipe: Recipe,
    use: ConnectorUse,
    config: dict[str, Any],
    *,
    tenant: str,
    secrets: dict[str, Any],
    base_dir: Path,
    audit: AuditLog | None,
    job: Job | None = None,
) -> Plugin:
    """Resolve the secrets the recipe declares (only those) from the tenant's backend."""
    backend = backend_from_settings(secrets, base_dir=base_dir)
    resolved = resolve_config(
        config, tenant, recipe.secrets, backend, audit=audit,
        job=job.key if job else "", plugin=recipe.name,
    )
    return Plugin(recipe, plugin_executable(recipe), plugin_config(recipe, resolved, use), plugin_args(recipe, use, job))


def prepare_job_plugin(job: Job, use: ConnectorUse, kind: str, audit: AuditLog | None) -> Plugin:
    recipe = _load_recipe(use, kind, f"{job.source_file} at $.{'source' if kind == 'tap' else 'target'}")
    config = connector_config(recipe, use.config, str(job.source_file))
    return prepare_plugin(
        recipe, use, config, tenant=job.tenant, secrets=job.secrets,
        base_dir=job.source_file.parent, audit=audit, job=job,
    )


def run_plugin_command(plugin: Plugin, config_path: Path, *args: str) -> bytes:
    """Run the plugin once (`--discover`, `--test`, `--about`) and return its stdout."""
    command = PluginCommand("tap" if plugin.recipe.kind == "tap" else "target", plugin.executable, config_path, plugin.args)
    result = subprocess.run(command.argv(*args), stdin=subprocess.DEVNULL, capture_output=True, check=False)
    if result.returncode != 0:
        tail = result.stderr.decode(errors="replace").strip().splitlines()[-20:]
        text = redaction_filter().redact("\n".join(f"    {line}" for line in tail))
        raise JobError(
            f"{plugin.recipe.name} {' '.join(args)} failed with exit code {result.returncode}"
            + (f". Its last stderr lines:\n{text}" if text else " and wrote nothing to stderr")
        )
    return result.stdout


def discover(plugin: Plugin, use: ConnectorUse, directory: Path) -> dict[str, Any]:
    """The tap's catalog with the job's selection applied."""
    with write_private_config(plugin.config, directory=directory) as config_path:
        output = run_plugin_command(plugin, config_path, "--discover")
    try:
        catalog = orjson.loads(output)
    except orjson.JSONDecodeError as exc:
        raise JobError(f"{plugin.recipe.name} --discover did not print a JSON catalog: {exc}") from None
    return select(catalog, use, plugin.recipe.streams)


def _write_json(directory: Path, name: str, value: Any) -> Path:
    path = directory / name
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(orjson.dumps(value))
    return path


def quarantine_path(job: Job) -> Path:
    assert job.contract is not None
    if "quarantine_file" in job.contract:
        return job.resolve_path(job.contract["quarantine_file"])
    return job.source_file.parent / "quarantine" / f"{job.name}.jsonl"


def _contract_mapper(job: Job, directory: Path) -> PluginCommand:
    """`dativo validate` between tap and target, configured from the job's `contract:`."""
    assert job.contract is not None
    policy = job.contract.get("policy", "fail")
    settings: dict[str, Any] = {"contract": str(job.resolve_path(job.contract["path"])), "policy": policy}
    if policy == "quarantine":
        path = quarantine_path(job)
        path.parent.mkdir(parents=True, exist_ok=True)
        settings["quarantine_file"] = str(path)
    return PluginCommand("mapper", VALIDATE_MAPPER, _write_json(directory, "contract.json", settings))


def _with_contract(job: Job, target: Plugin) -> Plugin:
    """The target's config with the job's contract and policy (they win over the job's target config)."""
    assert job.contract is not None
    settings = {"contract": str(job.resolve_path(job.contract["path"])), "contract_policy": job.contract.get("policy", "fail")}
    return replace(target, config={**target.config, **settings})


def run_job(path: Path, audit: AuditLog, *, progress_interval: float = 0, stderr: TextIO | None = None) -> JobReport:
    """Run one job file; every failure the user can fix becomes a failed report, not an exception."""
    job_name = path.stem
    try:
        job = Job.load(path)
        job_name = job.key
        return _run_loaded(job, audit, progress_interval, stderr or sys.stderr)
    except USER_ERRORS as exc:
        message = redaction_filter().redact(str(exc).strip("'\""))
        audit.record({"event": "run", "job": job_name, "file": str(path), "outcome": "failed", "error": message})
        return JobReport(job_name, False, message)


def _run_loaded(job: Job, audit: AuditLog, progress_interval: float, stderr: TextIO) -> JobReport:
    state = KeyedState(
        state_backend_from_settings(job.state, base_dir=job.source_file.parent), StateKey(job.tenant, job.name)
    )
    with contextlib.chdir(job.source_file.parent), tempfile.TemporaryDirectory(prefix="dativo-job-") as tmp:
        directory = Path(tmp)
        tap = prepare_job_plugin(job, job.source, "tap", audit)
        target = prepare_job_plugin(job, job.target, "target", audit)
        catalog = None
        if "discover" in tap.recipe.capabilities:
            catalog = _write_json(directory, "catalog.json", discover(tap, job.source, directory))
        checked_in_target = job.contract is not None and CONTRACT_CHECKS in target.recipe.capabilities
        if checked_in_target:
            target = _with_contract(job, target)
        mappers = [_contract_mapper(job, directory)] if job.contract is not None and not checked_in_target else []
        with write_private_config(tap.config, directory) as tap_config, write_private_config(
            target.config, directory
        ) as target_config:
            target_command = PluginCommand("target", target.executable, target_config, target.args)
            pipe = Pipe(
                PluginCommand("tap", tap.executable, tap_config, tap.args),
                target_command,
                state,
                catalog=catalog,
                mappers=mappers,
                console=Console(RedactingStream(stderr)),  # type: ignore[arg-type]
                progress_interval=progress_interval,
                resume_from_target=COMMITTED_STATE in target.recipe.capabilities,
            )
            result = pipe.run()
            quarantined = 0
            if not checked_in_target and result.exit_code == 0 and job.contract and job.contract.get("policy") == "quarantine":
                quarantined = load_quarantine(quarantine_path(job), target_command)
    ok = result.exit_code == 0
    message = redaction_filter().redact(result.message)
    audit.record({
        "event": "run", "tenant": job.tenant, "job": job.key, "file": str(job.source_file),
        "source": tap.recipe.name, "target": target.recipe.name,
        "outcome": "ok" if ok else "failed", "exit_code": result.exit_code, "records": result.records,
        "quarantined": quarantined,
    })
    return JobReport(job.key, ok, message, result.records, quarantined)


def job_files_by_tenant(directory: Path) -> list[Path]:
    """Every job file below `directory`, grouped tenant by tenant (unreadable files first)."""
    def tenant_of(path: Path) -> str:
        try:
            return Job.load(path).tenant
        except DocumentError:
            return ""

    return sorted(find_jobs(directory), key=lambda path: (tenant_of(path), str(path)))
