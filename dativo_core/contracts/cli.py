"""`dativo validate`: check a Singer stream against an ODCS contract, between any tap and target."""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import logging
import sys
from pathlib import Path
from typing import Any

import click

from dativo_core.about import ABOUT_FORMATS, render_about
from dativo_core.contracts.mapper import DEFAULT_BATCH_ROWS, ContractMapper
from dativo_core.contracts.model import load_contract
from dativo_core.contracts.validator import Policy, check_table_usable
from dativo_core.documents import DocumentError
from dativo_core.singer.errors import SingerProtocolError

# Settings a --config file (how Meltano runs mappers) may hold, and the option each one sets.
CONFIG_KEYS = {
    "contract": "contract_path",
    "policy": "policy",
    "quarantine_file": "quarantine_file",
    "replace_schema": "replace_schema",
    "batch_rows": "batch_rows",
}


def _read_config(ctx: click.Context, _param: click.Parameter, path: Path | None) -> None:
    """Options from a JSON config file become defaults; options on the command line win."""
    if path is None:
        return
    try:
        settings = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise click.BadParameter(f"{path}: cannot read it as JSON ({exc})") from None
    if not isinstance(settings, dict):
        raise click.BadParameter(f"{path}: must hold a JSON object")
    unknown = sorted(set(settings) - set(CONFIG_KEYS))
    if unknown:
        raise click.BadParameter(
            f"{path}: unknown settings {unknown}; known: {sorted(CONFIG_KEYS)}"
        )
    ctx.default_map = {CONFIG_KEYS[key]: value for key, value in settings.items()}


def _setting_schema(option: click.Option, ctx: click.Context) -> dict[str, Any]:
    """A config key's JSON Schema, read off the command-line option it sets."""
    kind = option.type
    if option.is_flag:
        schema: dict[str, Any] = {"type": "boolean"}
    elif isinstance(kind, click.Choice):
        schema = {"type": "string", "enum": list(kind.choices)}
    elif isinstance(kind, click.IntRange):
        schema = {"type": "integer"}
        if kind.min is not None:
            schema["minimum"] = kind.min
    else:
        schema = {"type": "string"}
    default = option.get_default(ctx, call=True)
    if isinstance(default, (str, int, float)):  # not click's marker for "no default"
        schema["default"] = default
    schema["description"] = option.help
    return schema


def about_info() -> dict[str, Any]:
    """`--about` in singer-sdk's shape: the settings are the keys a `--config` file takes (how
    Meltano runs mappers), described by the options they set."""
    options = {param.name: param for param in validate.params if isinstance(param, click.Option)}
    ctx = click.Context(validate)
    return {
        "name": "dativo-validate",
        "description": "Checks the RECORDs of a Singer stream against an ODCS data contract, "
        "between any tap and target.",
        "version": importlib.metadata.version("dativo"),
        "supported_python_versions": ["3.11", "3.12", "3.13"],
        "capabilities": ["about"],
        "settings": {
            "type": "object",
            "required": ["contract"],
            "additionalProperties": False,
            "properties": {
                key: _setting_schema(options[option], ctx) for key, option in CONFIG_KEYS.items()
            },
        },
    }


@click.command()
@click.option(
    "--config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    is_eager=True,
    expose_value=False,
    callback=_read_config,
    help="JSON file with any of: contract, policy, quarantine_file, replace_schema, batch_rows.",
)
@click.option(
    "--contract",
    "contract_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="ODCS v3.0.x/v3.1 contract (YAML or JSON).",
)
@click.option(
    "--policy",
    type=click.Choice([p.value for p in Policy]),
    default=Policy.FAIL.value,
    show_default=True,
    help="What a broken rule does. fail: stop at the first bad batch; quarantine: set bad "
    "records aside; warn: only report.",
)
@click.option(
    "--quarantine-file",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="JSON lines file for records set aside under policy quarantine.",
)
@click.option(
    "--replace-schema/--keep-schema",
    default=False,
    help="Forward the contract's schema in SCHEMA messages instead of the tap's.",
)
@click.option(
    "--batch-rows",
    type=click.IntRange(min=1),
    default=DEFAULT_BATCH_ROWS,
    show_default=True,
    help="Records checked together (uniqueness holds across batches).",
)
@click.option("--about", is_flag=True, help="Print this mapper's settings and capabilities.")
@click.option(
    "--format",
    "about_format",
    type=click.Choice(ABOUT_FORMATS),
    default="json",
    show_default=True,
    help="Format of --about.",
)
def validate(
    contract_path: Path | None,
    policy: str,
    quarantine_file: Path | None,
    replace_schema: bool,
    batch_rows: int,
    about: bool,
    about_format: str,
) -> None:
    """Read Singer messages on stdin, check RECORDs against a contract, write the rest to stdout.

    A violations summary per rule is printed to stderr at the end.
    """
    if about:
        click.echo(render_about(about_info(), about_format))
        return
    if contract_path is None:
        raise click.UsageError("Missing option '--contract' (or `contract` in the --config file).")
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(message)s"
        )
    chosen = Policy(policy)
    if chosen is Policy.QUARANTINE and quarantine_file is None:
        raise click.UsageError("--policy quarantine needs --quarantine-file to put bad records in")
    try:
        contract = load_contract(contract_path)
        for table in contract.tables:
            check_table_usable(table)
    except DocumentError as exc:
        raise click.ClickException(f"invalid contract: {exc}") from None
    with contextlib.ExitStack() as stack:
        quarantine = stack.enter_context(quarantine_file.open("wb")) if quarantine_file else None
        mapper = ContractMapper(
            contract,
            chosen,
            sys.stdout.buffer,
            quarantine=quarantine,
            replace_schema=replace_schema,
            batch_rows=batch_rows,
        )
        try:
            mapper.run(sys.stdin.buffer)
        except (SingerProtocolError, DocumentError) as exc:
            click.echo(mapper.summary(), err=True)
            click.echo(f"dativo validate: {exc}", err=True)
            sys.exit(1)
    click.echo(mapper.summary(), err=True)


if __name__ == "__main__":
    validate()
