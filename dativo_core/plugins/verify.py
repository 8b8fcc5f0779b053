"""`dativo plugins check`: is a plugin usable here, and does its class keep the contract?"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dativo_core.plugins.loading import PluginLoadError, load_reader_class
from dativo_core.plugins.manifest import Manifest
from dativo_core.sdk.testing import ContractError, check_reader, class_problems


def _capability_problems(manifest: Manifest, declared: Any) -> list[str]:
    problems = []
    for name in ("incremental", "discovery", "batch_output"):
        if getattr(manifest.capabilities, name) != getattr(declared, name):
            problems.append(
                f"manifest says {name}: {getattr(manifest.capabilities, name)} but the class "
                f"declares {getattr(declared, name)}"
            )
    if set(manifest.capabilities.secrets) != set(declared.secrets):
        problems.append(
            f"manifest secrets {sorted(manifest.capabilities.secrets)} differ from the class's "
            f"{sorted(declared.secrets)}"
        )
    return problems


@dataclass
class Verdict:
    """Every reason to refuse a plugin (none: usable), and whether its reader really ran."""

    problems: list[str] = field(default_factory=list)
    contract_tested: bool = False


def verify_plugin(manifest: Manifest, config: dict[str, Any] | None = None) -> Verdict:
    """Check the API range, the class and its manifest; with a config (or the manifest's
    example_config) also run the reader through the contract test, in this process."""
    problem = manifest.api_problem()
    if problem:
        return Verdict([problem])
    try:
        reader_class = load_reader_class(manifest.reader_reference)
    except PluginLoadError as exc:
        return Verdict([str(exc)])
    problems = class_problems(reader_class)
    if problems:
        return Verdict(problems)
    problems = _capability_problems(manifest, reader_class.capabilities)
    run_config = config if config is not None else manifest.example_config
    if run_config is None:
        return Verdict(problems)
    try:
        check_reader(reader_class, run_config, max_records=1000)
    except ContractError as exc:
        problems.extend(exc.problems)
    return Verdict(problems, contract_tested=True)
