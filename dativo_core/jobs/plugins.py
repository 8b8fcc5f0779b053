"""How a recipe's plugin is started: its executable, the config it reads, its extra arguments.

Singer taps and targets read the connector config as it is. Airbyte sources run through
tap-airbyte, whose config wraps theirs; reader plugins run through tap-reader, named on its
command line. A pip recipe is installed into its own virtual environment on first use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dativo_core.jobs.errors import JobError
from dativo_core.jobs.model import ConnectorUse, Job
from dativo_core.jobs.recipes import Recipe
from dativo_core.pip_install import cache_dir, ensure_installed

PLUGIN_CACHE_ENV = "DATIVO_PLUGIN_CACHE_DIR"
AIRBYTE_TAP = "tap-airbyte"


def plugin_cache_dir() -> Path:
    """$DATIVO_PLUGIN_CACHE_DIR, else $XDG_CACHE_HOME/dativo/plugins, else ~/.cache/..."""
    return cache_dir(PLUGIN_CACHE_ENV, "plugins")


def plugin_executable(recipe: Recipe) -> str:
    """The command to start; installs a pip recipe the first time it is used."""
    if recipe.engine == "airbyte":
        return AIRBYTE_TAP
    source = recipe.install["source"]
    if source == "pip":
        return str(ensure_installed(recipe.install["package"], recipe.install["executable"], plugin_cache_dir()))
    if source == "docker":
        raise JobError(
            f"recipe {recipe.source_file}: Singer plugins from Docker images are not supported; "
            "install it with pip (install.source: pip) or name an installed executable"
        )
    return str(recipe.executable)


def plugin_config(recipe: Recipe, config: dict[str, Any], use: ConnectorUse) -> dict[str, Any]:
    """The config file's content: the connector's config, wrapped for tap-airbyte."""
    if recipe.engine != "airbyte":
        return config
    wrapped: dict[str, Any] = {"connector": recipe.name, "airbyte_config": config}
    if use.docker:
        wrapped["install"] = {"source": "docker"}
        wrapped["docker"] = use.docker
    return wrapped


def plugin_args(recipe: Recipe, use: ConnectorUse, job: Job | None) -> tuple[str, ...]:
    """tap-reader's `--reader` and `--plugin-dir` options; nothing for other engines."""
    if recipe.engine != "reader":
        return ()
    if not use.reader:
        raise JobError(f"connector {recipe.name!r} runs a reader plugin: name it in `reader: {{name: ...}}`")
    args = ["--reader", str(use.reader["name"])]
    for folder in use.reader.get("plugin_dirs", []):
        args += ["--plugin-dir", str(job.resolve_path(folder) if job else Path(folder).resolve())]
    return tuple(args)
