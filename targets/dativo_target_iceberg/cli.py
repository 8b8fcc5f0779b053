"""`target-iceberg`: the standard Singer target command line."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click

from dativo_core.singer import SingerProtocolError, SingerWriter
from dativo_core.startup import imports_without_gc, keep_freed_memory
from dativo_target_iceberg import __version__
from dativo_core.about import render_about
from dativo_target_iceberg.about import about_info
from dativo_target_iceberg.config import ConfigError, TargetConfig
from dativo_target_iceberg.source import open_input

log = logging.getLogger("target-iceberg")

@click.command(name="target-iceberg", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="JSON config file (see --about for its settings).")
@click.option("--input", "input_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Read Singer messages from this file instead of stdin.")
@click.option("--committed-state", is_flag=True,
              help="Print the state the tables' last commits reached (for the tap's --state) and exit.")
@click.option("--about", is_flag=True, help="Show the target's name, capabilities and settings.")
@click.option("--format", "about_format", type=click.Choice(["json", "markdown"]), default=None,
              help="Format of --about (text defaults to json).")
@click.version_option(__version__, "--version", prog_name="target-iceberg")
def main(
    config_path: Path | None, input_path: Path | None, committed_state: bool, about: bool, about_format: str | None
) -> None:
    """Load Singer messages into Apache Iceberg tables, one table per stream."""
    if about:
        text = render_about(about_info(), about_format or "json")
        click.echo(text)
        return
    if config_path is None:
        raise click.UsageError("--config is required to load data")
    keep_freed_memory()
    # Reading starts before pyiceberg's second-long import, so the tap goes on, and goes on on a
    # helper thread (for an --input file too), so the loader does not wait for each read.
    input_file = input_path.open("rb", buffering=0) if input_path is not None and not committed_state else None
    source = None if committed_state else open_input(input_file or sys.stdin.buffer)
    with imports_without_gc():
        from dativo_target_iceberg.catalog import open_catalog  # pyiceberg: slow to import, so only here
        from dativo_target_iceberg.loader import Loader

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s %(levelname)s %(message)s")
    # Stdout carries only STATE messages: anything a library prints goes to stderr instead.
    output = SingerWriter(sys.stdout.buffer)
    previous_stdout, sys.stdout = sys.stdout, sys.stderr
    try:
        config = TargetConfig.load(config_path)
        if committed_state:
            from dativo_target_iceberg.recovery import recover_from_catalog

            state = recover_from_catalog(open_catalog(config), config.namespace).state
            output.write_raw(json.dumps(state or {}).encode() + b"\n")
            return
        assert source is not None
        summary = Loader(config, open_catalog(config), output).run(source)
    except (SingerProtocolError, ConfigError) as exc:
        click.echo(f"target-iceberg: error: {exc}", err=True)
        sys.exit(1)
    finally:
        output.flush()
        if input_file is not None:
            input_file.close()
        sys.stdout = previous_stdout
    for stream, rows in summary.rows.items():
        log.info("stream '%s': %d rows loaded", stream, rows)


if __name__ == "__main__":
    main()
