"""`tap-reader`: the Singer command line for any reader.

    tap-reader --reader my_pkg.readers:Orders --config config.json --discover > catalog.json
    tap-reader --reader orders --config config.json --catalog catalog.json --state state.json

The reader is `package.module:Class`, `path/to/file.py:Class`, or the name of a registered
plugin; it may also come from DATIVO_READER, which suits Meltano's plugin `env:`.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from dativo_core.about import ABOUT_FORMATS
from dativo_core.plugins.sandbox import (
    DEFAULT_LIMITS,
    PluginFailed,
    Sandbox,
    SandboxLimits,
    file_descriptor,
)

# Everything else is imported in main() once the sandbox child is spawned, so that its
# start-up overlaps the tap's imports, the plugin lookup and the config check.


def _load_json(path: Path | None, what: str) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise click.UsageError(f"{what} file {path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise click.UsageError(f"{what} file {path} must hold a JSON object")
    return data


def _about_text(about: dict[str, Any]) -> str:
    lines = [
        f"Name: {about['name']}",
        f"Version: {about['version']}",
        f"Reader API: {about['sdk_version']}",
    ]
    lines.append("Capabilities: " + ", ".join(about["capabilities"]))
    lines.append("Settings:")
    required = set(about["settings"].get("required", []))
    for name, prop in about["settings"].get("properties", {}).items():
        mark = " (required)" if name in required else ""
        lines.append(f"  - {name}{mark}: {prop.get('description', '')}".rstrip(": "))
    return "\n".join(lines)


@click.command(context_settings={"auto_envvar_prefix": "DATIVO_READER"})
@click.option(
    "--reader",
    envvar="DATIVO_READER",
    required=True,
    help="module:Class, file.py:Class or a plugin name.",
)
@click.option(
    "--config",
    "config_paths",
    multiple=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Reader config JSON (repeatable; later files win).",
)
@click.option(
    "--catalog",
    "--properties",
    "catalog_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Singer catalog selecting streams.",
)
@click.option(
    "--state",
    "state_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Singer state from the previous run.",
)
@click.option("--discover", is_flag=True, help="Print the catalog and exit.")
@click.option("--about", is_flag=True, help="Print what this tap is and its settings.")
@click.option(
    "--format",
    "about_format",
    type=click.Choice([*ABOUT_FORMATS, "text"]),
    default="text",
    help="Format of --about.",
)
@click.option(
    "--test", "connection_test", is_flag=True, help="Run the reader's check() and exit."
)
@click.option(
    "--plugin-dir",
    "plugin_dirs",
    multiple=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of reader plugins (DATIVO_PLUGIN_PATH adds more).",
)
@click.option(
    "--no-sandbox",
    is_flag=True,
    help="Run the reader in this process, without limits (for debugging).",
)
@click.option(
    "--memory-mb",
    type=click.IntRange(64),
    default=DEFAULT_LIMITS.memory_mb,
    show_default=True,
    help="Sandbox address-space limit.",
)
@click.option(
    "--cpu-seconds",
    type=click.IntRange(1),
    default=DEFAULT_LIMITS.cpu_seconds,
    show_default=True,
    help="Sandbox CPU time limit.",
)
@click.option(
    "--open-files",
    type=click.IntRange(16),
    default=DEFAULT_LIMITS.open_files,
    show_default=True,
    help="Sandbox open-file limit.",
)
@click.option(
    "--idle-seconds",
    type=click.IntRange(1),
    default=DEFAULT_LIMITS.idle_seconds,
    show_default=True,
    help="Stop a sandboxed reader that sends nothing for this long.",
)
def tap_reader(
    reader: str,
    config_paths: tuple[Path, ...],
    catalog_path: Path | None,
    state_path: Path | None,
    discover: bool,
    about: bool,
    about_format: str,
    connection_test: bool,
    plugin_dirs: tuple[Path, ...],
    no_sandbox: bool,
    memory_mb: int,
    cpu_seconds: int,
    open_files: int,
    idle_seconds: int,
) -> None:
    """Run a Dativo reader as a Singer tap."""
    limits = (
        None
        if no_sandbox
        else SandboxLimits(memory_mb, cpu_seconds, open_files, idle_seconds)
    )
    singer_output = sys.stdout.buffer
    with contextlib.ExitStack() as stack:
        started = None
        if limits is not None and not about:
            syncing = not (connection_test or discover)
            output_fd = file_descriptor(singer_output) if syncing else None
            # Killed on any failure; closed by the tap once its jobs are done.
            started = stack.enter_context(Sandbox(limits, output_fd))
        from dativo_core.about import render_about
        from dativo_core.plugins.loading import PluginLoadError
        from dativo_core.sdk import ReaderError
        from dativo_core.singer import Catalog
        from dativo_tap_reader.tap import ConfigError, ReaderTap

        config: dict[str, Any] = {}
        for path in config_paths:
            config.update(_load_json(path, "config"))
        try:
            tap = ReaderTap(
                reader, config, sandbox=limits, plugin_dirs=plugin_dirs, started=started
            )
            # Singer output goes through the sync or click.echo only; a reader's print() goes
            # to the log, also when it runs in this process.
            with contextlib.redirect_stdout(sys.stderr):
                if about:
                    info = tap.about()
                    output = (
                        _about_text(info)
                        if about_format == "text"
                        else render_about(info, about_format)
                    )
                elif connection_test:
                    tap.check()
                    output = ""
                    click.echo(f"{tap.display_name}: connection test passed", err=True)
                elif discover:
                    output = json.dumps(tap.discover().to_dict(), indent=2)
                else:
                    catalog = Catalog.load(catalog_path) if catalog_path else None
                    tap.sync(catalog, _load_json(state_path, "state"), singer_output)
                    output = ""
            if output:
                click.echo(output)
        except (ConfigError, PluginLoadError, PluginFailed, ReaderError) as exc:
            click.echo(f"tap-reader: {exc}", err=True)
            sys.exit(1)
        except BrokenPipeError:
            # Whoever read our stdout (a target) has gone; its own error says why.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            click.echo("tap-reader: stdout was closed by its reader; stopping", err=True)
            sys.exit(1)


def main() -> None:
    """The `tap-reader` command: once everything is written and flushed, the process ends
    without the interpreter's teardown (unloading its modules took ~40 ms a run)."""
    try:
        tap_reader.main()
        code = 0
    except SystemExit as exc:
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
        code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = code or 1
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
