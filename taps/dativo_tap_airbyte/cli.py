"""tap-airbyte: any Airbyte source connector as a Singer tap.

    tap-airbyte --config c.json --discover > catalog.json
    tap-airbyte --config c.json --catalog catalog.json --state state.json | target-iceberg ...

The config names the connector (a recipe from the catalog, or an install), its own config under
`airbyte_config`, and Docker limits under `docker`. See docs/airbyte.md.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib.metadata
import json
import logging
import os
import re
import signal
import sys
from pathlib import Path
from collections.abc import Iterator
from typing import Any, NoReturn

import click
import orjson

from dativo_core.about import ABOUT_FORMATS, render_about
from dativo_core.airbyte.catalog import select_streams
from dativo_core.airbyte.connector import AirbyteConnector
from dativo_core.airbyte.container import ContainerSettings
from dativo_core.airbyte.errors import ConnectorError
from dativo_core.airbyte.pip_install import CACHE_DIR_ENV
from dativo_core.airbyte.sources import ConnectorSource
from dativo_core.atomic_write import write_atomically
from dativo_core.secrets.redaction import redaction_filter
from dativo_core.singer.catalog import Catalog
from dativo_core.singer.writer import SingerWriter

NAME = "tap-airbyte"
CAPABILITIES = ["catalog", "discover", "state", "about", "test"]
log = logging.getLogger(NAME)

DESCRIPTION = "Airbyte source connectors as Singer taps"

_DOCKER_DESCRIPTIONS = {
    "user": "uid:gid the container runs as (a non-root caller's own ids when it is not root).",
    "network_mode": "Docker network mode; `none` cuts the connector off the network.",
    "mem_limit": "Memory limit, in Docker's notation.",
    "cpus": "CPU cores the container may use.",
    "pids_limit": "Most processes the container may start.",
    "writable_dirs": "Folders writable in the otherwise read-only container (tmpfs).",
    "tmpfs_size": "Size of each writable folder.",
    "environment": "Extra environment variables for the connector.",
}
_JSON_TYPES = {str: "string", float: "number", int: "integer", tuple: "array", dict: "object"}


def _docker_schema() -> dict[str, Any]:
    """The `docker` setting, its defaults taken from ContainerSettings so the two agree."""
    defaults = dataclasses.asdict(ContainerSettings())
    properties = {
        name: {
            "type": _JSON_TYPES[type(value)],
            "default": list(value) if isinstance(value, tuple) else value,
            "description": _DOCKER_DESCRIPTIONS[name],
        }
        for name, value in defaults.items()
    }
    properties["writable_dirs"]["items"] = {"type": "string"}
    properties["environment"]["additionalProperties"] = {"type": "string"}
    return {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
        "description": "Container limits for install.source docker.",
    }


TAP_SETTINGS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "connector": {"type": "string", "description": "Recipe name from the connector catalog (catalogs/airbyte/*.yaml or "
            "DATIVO_CATALOG_PATH)."},
        "install": {
            "type": "object",
            "description": "How to get the connector: source (pip, docker or executable) with package, "
            "image or executable; overrides the recipe's install key by key.",
        },
        "airbyte_config": {
            "type": "object",
            "description": "The connector's own config (merged over the recipe's defaults); usually "
            "holds its credentials.",
            "secret": True,
            "writeOnly": True,
        },
        "streams": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Streams synced when no catalog is given (default: the recipe's).",
        },
        "docker": _docker_schema(),
        "cache_dir": {
            "type": "string",
            "description": "Folder of the pip-installed connectors' environments (default: "
            f"${CACHE_DIR_ENV}, else $XDG_CACHE_HOME/dativo/airbyte, else "
            "~/.cache/dativo/airbyte).",
        },
    },
}


# Connector config keys whose values are credentials, by Airbyte's naming (password,
# client_secret, refresh_token, api_key, access_key_id, private_key, credentials, ...).
SECRET_KEY = re.compile(r"pass(word|phrase)?|secret|token|api_?key|access_?key|private_?key|credential|auth", re.I)


def _fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"{NAME}: error: {redaction_filter().redact(message)}", err=True)
    sys.exit(code)


def _secret_values(value: Any, secret: bool = False) -> Iterator[str]:
    """The string values at or under a credential-named key of a connector config."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _secret_values(item, secret or bool(SECRET_KEY.search(str(key))))
    elif isinstance(value, list):
        for item in value:
            yield from _secret_values(item, secret)
    elif secret and isinstance(value, str):
        yield value


def _mask_credentials(connector_config: dict[str, Any]) -> None:
    """From now on, show the config's credentials as `***` in the log and in errors: a connector
    may log them, and outside `dativo run` (whose secrets are masked already) nothing else would."""
    masks = redaction_filter()
    for value in _secret_values(connector_config):
        masks.add(value)


def _load_json(path: str, what: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        _fail(f"cannot read the {what} file {path}: {exc.strerror}")
    except json.JSONDecodeError as exc:
        _fail(f"the {what} file {path} is not valid JSON: {exc}")


def _save_connector_config(
    config_path: str, tap_config: dict[str, Any], connector_config: dict[str, Any]
) -> None:
    """Write a connector's CONTROL config update into the tap's config file, atomically,
    keeping the file's permissions (it holds secrets). Failing to save it stops the run: the
    connector may already have invalidated the credentials the file still holds."""
    tap_config["airbyte_config"] = connector_config
    path = Path(config_path)
    data = orjson.dumps(tap_config, option=orjson.OPT_INDENT_2)
    try:
        write_atomically(path, data, mode=path.stat().st_mode & 0o777)
    except OSError as exc:
        raise ConnectorError(
            f"it updated its config (e.g. refreshed credentials), which could not be saved to "
            f"{path}: {exc.strerror}; make the config file writable, or the next run may use "
            "outdated credentials",
            failure_type="config_error",
        ) from None
    log.info("saved the connector's updated config to %s", config_path)


def _about(connector: AirbyteConnector | None) -> dict[str, Any]:
    settings = copy.deepcopy(TAP_SETTINGS)
    about: dict[str, Any] = {
        "name": NAME,
        "description": DESCRIPTION,
        "version": importlib.metadata.version("dativo"),
        "supported_python_versions": ["3.11", "3.12", "3.13"],
        "capabilities": CAPABILITIES,
        "settings": settings,
    }
    if connector is not None:
        spec = connector.spec()
        airbyte_config = settings["properties"]["airbyte_config"]
        settings["properties"]["airbyte_config"] = {
            **(spec.get("connectionSpecification") or {}),
            "description": airbyte_config["description"],
            "secret": True,
            "writeOnly": True,
        }
        about["connector"] = {"name": connector.name, "spec": spec}
    return about


def _run(options: dict[str, Any], about_format: str) -> None:
    config_path: str | None = options["config_path"]
    about: bool = options["about"]
    if about and config_path is None:
        click.echo(render_about(_about(None), about_format))
        return
    if config_path is None:
        _fail("--config is required (it names the connector and holds its config)")
    tap_config = _load_json(config_path, "config")
    source = ConnectorSource.from_tap_config(tap_config)
    connector_config = source.config
    _mask_credentials(connector_config)

    def on_config_update(new_config: dict[str, Any]) -> None:
        nonlocal connector_config
        connector_config = new_config
        _mask_credentials(new_config)
        _save_connector_config(config_path, tap_config, new_config)

    connector = AirbyteConnector(source.runner(), on_config_update=on_config_update)
    if about:
        click.echo(render_about(_about(connector), about_format))
    elif options["test"]:
        result = connector.check(connector_config)
        if not result.succeeded:
            raise ConnectorError(
                f"connection check failed: {result.message or 'no reason given'}",
                failure_type="config_error",
                connector=connector.name,
            )
        click.echo(f"{NAME}: {connector.name}: connection check succeeded", err=True)
    elif options["discover"]:
        catalog = connector.discover(connector_config)
        click.echo(json.dumps(catalog.to_dict(), indent=2))
    else:
        if options["catalog_path"]:
            catalog = Catalog.from_dict(_load_json(options["catalog_path"], "catalog"))
        else:
            catalog = select_streams(connector.discover(connector_config), source.streams)
        state_path = options["state_path"]
        state = _load_json(state_path, "state") if state_path else None
        with SingerWriter() as writer:
            result = connector.read(connector_config, catalog, state, writer)
        summary = ", ".join(f"{stream}: {count}" for stream, count in result.records.items())
        log.info("%s: read done; records %s", connector.name, summary or "none")


def _terminate(signum: int, frame: Any) -> NoReturn:
    # Raised in the main thread, so every runner's clean-up (stop the connector, remove its
    # private files) runs on the way out.
    raise SystemExit(128 + signum)


@click.command(name=NAME, help=__doc__)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="tap config JSON")
@click.option("--catalog", "--properties", "catalog_path", type=click.Path(dir_okay=False))
@click.option("--state", "state_path", type=click.Path(dir_okay=False))
@click.option("--discover", is_flag=True, help="print the Singer catalog")
@click.option("--about", is_flag=True, help="print settings and capabilities")
@click.option("--format", "about_format", type=click.Choice(ABOUT_FORMATS), default="json",
              show_default=True, help="--about output format")
@click.option("--test", is_flag=True, help="check the connection (Airbyte `check`)")
@click.option("--log-level", default="INFO", show_default=True)
def main(log_level: str, about_format: str, **options: Any) -> None:
    logging.basicConfig(
        level=log_level.upper(), stream=sys.stderr, format="%(name)s %(levelname)s %(message)s"
    )
    signal.signal(signal.SIGTERM, _terminate)
    try:
        _run(options, about_format)
    except ConnectorError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        _fail("interrupted; the connector was stopped", 130)
    except BrokenPipeError:
        # The reader went away; don't let the interpreter's final flush fail once more.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        _fail("stdout was closed by the reader; the connector was stopped")


if __name__ == "__main__":
    main()
