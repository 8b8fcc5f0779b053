"""Finding reader plugins: manifests in plugin folders and the `dativo.readers` entry points.

Plugin folders come from `--plugin-dir` options and the DATIVO_PLUGIN_PATH variable
(os.pathsep-separated). A folder holds a `dativo-plugin.yaml`, or sub-folders that each do.
An installed package registers `name = "package.module:ReaderClass"` in the `dativo.readers`
entry-point group and ships `dativo-plugin.yaml` beside that module. Dativo's own readers are
registered the same way, and a name is looked up among them (their manifests ship inside
Dativo) before the entry points of every installed package are read.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from dativo_core.plugins.loading import PluginLoadError, absolute_reference
from dativo_core.plugins.manifest import (
    MANIFEST_FILE,
    Manifest,
    ManifestError,
    load_manifest,
)

if TYPE_CHECKING:
    import importlib.metadata

ENTRY_POINT_GROUP = "dativo.readers"
PATH_VARIABLE = "DATIVO_PLUGIN_PATH"
# The manifests of the readers Dativo itself registers in ENTRY_POINT_GROUP (pyproject.toml):
# a tap naming one of them skips importlib.metadata's import and scan (~50 ms a start).
BUILTIN_MANIFESTS = (Path(__file__).resolve().parents[1] / "native" / MANIFEST_FILE,)


@dataclass
class PluginIndex:
    """Every plugin found, and every manifest that was found but could not be used."""

    plugins: dict[str, Manifest] = field(default_factory=dict)
    problems: list[ManifestError] = field(default_factory=list)


def plugin_dirs(extra: Iterable[str | Path] = ()) -> list[Path]:
    dirs = [Path(d) for d in extra]
    dirs += [Path(d) for d in os.environ.get(PATH_VARIABLE, "").split(os.pathsep) if d]
    return dirs


def _folder_manifests(folder: Path) -> list[Path]:
    if (folder / MANIFEST_FILE).is_file():
        return [folder / MANIFEST_FILE]
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob(f"*/{MANIFEST_FILE}") if p.is_file())


def _entry_point_manifest(entry_point: importlib.metadata.EntryPoint) -> Manifest:
    source = f"entry point {entry_point.name!r} ({entry_point.value})"
    spec = importlib.util.find_spec(entry_point.module)
    if spec is None or spec.origin is None:
        raise ManifestError(source, f"module {entry_point.module!r} is not installed")
    path = Path(spec.origin).parent / MANIFEST_FILE
    if not path.is_file():
        raise ManifestError(
            source,
            f"the package ships no {MANIFEST_FILE} beside {spec.origin}; add it as package data",
        )
    manifest = load_manifest(path)
    # An installed package is imported by module name, not from the manifest's folder.
    return replace(manifest, entry_point=entry_point.value, base_dir=None)


def _add(index: PluginIndex, manifest: Manifest) -> None:
    if manifest.name in index.plugins:
        first = index.plugins[manifest.name].source
        index.problems.append(
            ManifestError(
                manifest.source,
                f"plugin name {manifest.name!r} is already used by {first}",
            )
        )
    else:
        index.plugins[manifest.name] = manifest


def discover_plugins(extra_dirs: Iterable[str | Path] = ()) -> PluginIndex:
    """Plugin folders first, in search-path order, then installed packages."""
    index = PluginIndex()
    for folder in plugin_dirs(extra_dirs):
        for path in _folder_manifests(folder):
            try:
                _add(index, load_manifest(path))
            except ManifestError as exc:
                index.problems.append(exc)
    import importlib.metadata

    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            _add(index, _entry_point_manifest(entry_point))
        except ManifestError as exc:
            index.problems.append(exc)
    return index


def _builtin_plugin(name: str, extra_dirs: Iterable[str | Path]) -> Manifest | None:
    """Dativo's own plugin of that name, when no plugin folder holds a manifest (which would
    come first and might use the name): found without reading any installed package."""
    if any(_folder_manifests(folder) for folder in plugin_dirs(extra_dirs)):
        return None
    for path in BUILTIN_MANIFESTS:
        manifest = load_manifest(path)
        if manifest.name == name:
            # Imported by module name, as its entry point has it.
            return replace(manifest, base_dir=None)
    return None


def find_plugin(name: str, extra_dirs: Iterable[str | Path] = ()) -> Manifest:
    builtin = _builtin_plugin(name, extra_dirs)
    if builtin is not None:
        return builtin
    index = discover_plugins(extra_dirs)
    if name in index.plugins:
        return index.plugins[name]
    broken = [p for p in index.problems if name in str(p)]
    if broken:
        raise PluginLoadError(f"plugin {name!r} cannot be used: {broken[0]}")
    searched = ", ".join(str(d) for d in plugin_dirs(extra_dirs)) or "no plugin folders"
    raise PluginLoadError(
        f"no reader plugin named {name!r} (searched {searched} and installed packages); "
        f"add its folder with --plugin-dir or {PATH_VARIABLE}, or name it as 'module:Class'"
    )


def resolve_reader(
    ref: str, extra_dirs: Iterable[str | Path] = ()
) -> tuple[str, Manifest | None]:
    """The importable reference for `ref`, and its manifest when `ref` names a plugin.

    A plugin whose API range excludes ours is refused here, before anything runs.
    """
    if ":" in ref:
        return absolute_reference(ref), None
    manifest = find_plugin(ref, extra_dirs)
    problem = manifest.api_problem()
    if problem:
        raise PluginLoadError(problem)
    if manifest.base_dir is not None and str(manifest.base_dir) not in sys.path:
        sys.path.insert(0, str(manifest.base_dir))
    return manifest.reader_reference, manifest
