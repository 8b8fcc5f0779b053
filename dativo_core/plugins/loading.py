"""Import a Reader class from `package.module:Class` or `path/to/file.py:Class`."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

from dativo_core.sdk import Reader


class PluginLoadError(Exception):
    """A reader reference that cannot be imported or is not a Reader; the message says why."""


def is_file_reference(ref: str) -> bool:
    target = ref.rpartition(":")[0]
    return target.endswith(".py") or "/" in target or "\\" in target


def absolute_reference(ref: str, base: Path | None = None) -> str:
    """The same reference with a file path made absolute, so it works from any directory."""
    if not is_file_reference(ref):
        return ref
    target, _, attr = ref.rpartition(":")
    path = Path(target)
    if not path.is_absolute():
        path = (base or Path.cwd()) / path
    return f"{path.resolve()}:{attr}"


def _import_file(path: Path) -> object:
    import hashlib  # here, not at the top: it loads OpenSSL, which module:Class readers never need

    if not path.is_file():
        raise PluginLoadError(f"reader file {path} does not exist")
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:12]
    name = f"dativo_reader_{path.stem}_{digest}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise PluginLoadError(f"cannot import {path} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception:
        del sys.modules[name]
        raise
    return module


def load_reader_class(ref: str) -> type[Reader]:
    target, sep, attr = ref.rpartition(":")
    if not sep or not target or not attr:
        raise PluginLoadError(
            f"reader reference {ref!r} must look like 'package.module:Class' or "
            "'path/to/file.py:Class' (or be the name of a registered plugin)"
        )
    try:
        module = (
            _import_file(Path(target))
            if is_file_reference(ref)
            else importlib.import_module(target)
        )
    except PluginLoadError:
        raise
    except (
        Exception
    ) as exc:  # any error in a plugin's module is the plugin's, reported as such
        raise PluginLoadError(
            f"cannot import reader module {target!r}: {type(exc).__name__}: {exc}"
        ) from exc
    obj = module
    for part in attr.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            raise PluginLoadError(f"{target!r} has no attribute {attr!r}")
    if not (isinstance(obj, type) and issubclass(obj, Reader)):
        raise PluginLoadError(f"{ref!r} is not a subclass of dativo_core.sdk.Reader")
    return obj
