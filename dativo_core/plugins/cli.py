"""`dativo plugins list|show|check`: what reader plugins exist here, and can they run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from dativo_core.plugins.loading import PluginLoadError
from dativo_core.plugins.registry import PATH_VARIABLE, discover_plugins, find_plugin
from dativo_core.plugins.verify import verify_plugin
from dativo_core.sdk import __api_version__

_plugin_dir_option = click.option(
    "--plugin-dir",
    "plugin_dirs",
    multiple=True,
    type=click.Path(file_okay=False, path_type=Path),
    help=f"A folder of reader plugins (repeatable); {PATH_VARIABLE} adds more.",
)


@click.group()
def plugins() -> None:
    """Reader plugins: list, show, and check them against this Dativo's reader API."""


@plugins.command("list")
@_plugin_dir_option
def list_plugins(plugin_dirs: tuple[Path, ...]) -> None:
    """Every plugin found, whether it fits reader API and where it comes from."""
    index = discover_plugins(plugin_dirs)
    click.echo(f"reader API {__api_version__}")
    for manifest in sorted(index.plugins.values(), key=lambda m: m.name):
        problem = manifest.api_problem()
        status = "ok" if problem is None else "INCOMPATIBLE"
        click.echo(
            f"{manifest.name}\t{manifest.version}\tapi {manifest.api_version}\t{status}\t{manifest.source}"
        )
    for error in index.problems:
        click.echo(f"invalid manifest: {error}", err=True)
    if not index.plugins and not index.problems:
        click.echo(
            f"no plugins found; add a folder with --plugin-dir or {PATH_VARIABLE}"
        )


def _manifest_or_exit(name: str, plugin_dirs: tuple[Path, ...]) -> Any:
    try:
        return find_plugin(name, plugin_dirs)
    except PluginLoadError as exc:
        raise click.ClickException(str(exc)) from exc


@plugins.command("show")
@click.argument("name")
@_plugin_dir_option
def show_plugin(name: str, plugin_dirs: tuple[Path, ...]) -> None:
    """A plugin's manifest as JSON."""
    manifest = _manifest_or_exit(name, plugin_dirs)
    caps = manifest.capabilities
    click.echo(
        json.dumps(
            {
                "name": manifest.name,
                "version": manifest.version,
                "description": manifest.description,
                "api_version": manifest.api_version,
                "compatible": manifest.api_problem() is None,
                "entry_point": manifest.entry_point,
                "reader": manifest.reader_reference,
                "capabilities": {
                    "incremental": caps.incremental,
                    "discovery": caps.discovery,
                    "batch_output": caps.batch_output,
                },
                "secrets": list(caps.secrets),
                "dependencies": list(manifest.dependencies),
                "source": manifest.source,
            },
            indent=2,
        )
    )


@plugins.command("check")
@click.argument("name")
@_plugin_dir_option
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Reader config to run the contract test with (default: the manifest's example_config).",
)
def check_plugin(
    name: str, plugin_dirs: tuple[Path, ...], config_path: Path | None
) -> None:
    """Refuse the plugin (exit 1) if its API range excludes ours or its class breaks the contract."""
    manifest = _manifest_or_exit(name, plugin_dirs)
    config = (
        json.loads(config_path.read_text(encoding="utf-8")) if config_path else None
    )
    verdict = verify_plugin(manifest, config)
    if verdict.problems:
        raise click.ClickException(
            f"plugin {name!r} ({manifest.source}) is refused:\n- "
            + "\n- ".join(verdict.problems)
        )
    click.echo(
        f"plugin {name!r} {manifest.version} is usable with reader API {__api_version__}"
    )
    if not verdict.contract_tested:
        click.echo(
            "the reader was not run: pass --config (or add example_config to the manifest) "
            "to run the contract test too"
        )
