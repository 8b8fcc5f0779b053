"""Which connector to run and how: a recipe from the catalog, the tap config's overrides,
and the runner (Docker image, installed executable, or pip package) they call for."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dativo_core.airbyte.container import ContainerSettings
from dativo_core.airbyte.errors import ConnectorError
from dativo_core.airbyte.executable import ExecutableRunner
from dativo_core.airbyte.pip_install import ensure_installed
from dativo_core.airbyte.runner import Runner
from dativo_core.jobs.recipes import Recipe, find_recipe
from dativo_core.jobs.settings import deep_merge

INSTALL_SOURCES = ("docker", "executable", "pip")


@dataclass(frozen=True)
class ConnectorSource:
    """A connector as the tap config names it; `install` follows the recipe format's install."""

    name: str
    install: dict[str, Any]
    config: dict[str, Any] = field(default_factory=dict)
    streams: list[str] | None = None
    docker: ContainerSettings = field(default_factory=ContainerSettings)
    cache_dir: str | None = None

    @classmethod
    def from_tap_config(cls, tap_config: dict[str, Any]) -> ConnectorSource:
        """`connector` names a recipe whose install, defaults and streams apply unless
        `install`, `airbyte_config` and `streams` override them; without a recipe, `install`
        says everything."""
        recipe: Recipe | None = None
        if tap_config.get("connector"):
            try:
                recipe = find_recipe(str(tap_config["connector"]))
            except LookupError as exc:
                raise ConnectorError(str(exc), failure_type="config_error") from None
            if recipe.engine != "airbyte":
                raise ConnectorError(
                    f"recipe {recipe.name!r} is a {recipe.engine} connector, not an Airbyte one",
                    failure_type="config_error",
                )
        install = deep_merge(recipe.install if recipe else {}, tap_config.get("install") or {})
        if install.get("source") not in INSTALL_SOURCES:
            raise ConnectorError(
                "the tap config needs `connector` (a recipe name) or `install.source` "
                f"as one of {', '.join(INSTALL_SOURCES)}, got {install.get('source')!r}",
                failure_type="config_error",
            )
        try:
            docker = ContainerSettings.from_dict(tap_config.get("docker") or {})
        except (TypeError, ValueError) as exc:
            raise ConnectorError(f"docker settings: {exc}", failure_type="config_error") from None
        streams = tap_config.get("streams")
        return cls(
            name=recipe.name if recipe else _install_name(install),
            install=install,
            config=deep_merge(recipe.defaults if recipe else {}, tap_config.get("airbyte_config") or {}),
            streams=list(streams) if streams is not None else ((recipe.streams or None) if recipe else None),
            docker=docker,
            cache_dir=tap_config.get("cache_dir"),
        )

    def runner(self) -> Runner:
        """The runner for the install source; a pip package is installed here on first use."""
        source = self.install["source"]
        if source == "docker":
            # Imported here: the docker SDK costs a quarter second at start-up.
            from dativo_core.airbyte.docker_runner import DockerRunner

            return DockerRunner(_required(self.install, "image"), self.docker)
        if source == "executable":
            return ExecutableRunner(_required(self.install, "executable"), name=self.name)
        program = ensure_installed(
            _required(self.install, "package"),
            _required(self.install, "executable"),
            cache_dir=self.cache_dir,
        )
        return ExecutableRunner(program, name=self.name)


def _required(install: dict[str, Any], key: str) -> str:
    if not install.get(key):
        raise ConnectorError(
            f"install source {install['source']!r} needs install.{key}", failure_type="config_error"
        )
    return str(install[key])


def _install_name(install: dict[str, Any]) -> str:
    if install["source"] == "executable" and install.get("executable"):
        return Path(str(install["executable"])).name
    return str(install.get("image") or install.get("package") or "airbyte-connector")
