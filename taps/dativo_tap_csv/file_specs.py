"""tap-csv's streams as configured: MeltanoLabs-compatible `files` entries, plus globs and
folders per stream. Free of singer-sdk, so inference can start before singer-sdk is imported."""

from __future__ import annotations

import codecs
import glob
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping


class TapCSVConfigError(ValueError):
    """A setting that cannot work, named so the user can fix the config."""


class CSVFileError(ValueError):
    """A CSV file that cannot be read as configured, located by file, line and column."""


# Bytes of CSV the pyarrow engine parses per batch (`block_size_bytes`).
DEFAULT_BLOCK_SIZE = 1024 * 1024


_UTF8_NAMES = {"utf-8", "utf8", "utf-8-sig", "utf_8", "utf_8_sig"}


@dataclass(frozen=True)
class FileSpec:
    """One stream's files and how to parse them."""

    entity: str
    path: str
    keys: tuple[str, ...] = ()
    delimiter: str = ","
    quotechar: str = '"'
    escapechar: str | None = None
    doublequote: bool = True
    encoding: str = "utf-8"
    incremental: bool = False

    @property
    def is_utf8(self) -> bool:
        return self.encoding.lower() in _UTF8_NAMES

    def resolve_paths(self) -> list[Path]:
        """The stream's files, sorted; a folder means its *.csv files, a pattern its matches."""
        raw = Path(self.path).expanduser()
        if raw.is_dir():
            paths = sorted(p for p in raw.glob("*.csv") if p.is_file())
        elif glob.has_magic(str(raw)):
            paths = sorted(Path(p) for p in glob.glob(str(raw), recursive=True))
            paths = [p for p in paths if p.is_file()]
        elif raw.is_file():
            paths = [raw]
        else:
            raise TapCSVConfigError(f"stream '{self.entity}': path '{self.path}' does not exist")
        if not paths:
            raise TapCSVConfigError(
                f"stream '{self.entity}': no CSV file matches '{self.path}'"
            )
        return paths


def _single_char(entity: str, name: str, value: Any, default: str | None) -> str | None:
    if value is None:
        return default
    if not isinstance(value, str) or len(value) != 1:
        raise TapCSVConfigError(
            f"stream '{entity}': {name} must be exactly one character, got {value!r}"
        )
    return value


def _file_spec(entry: Mapping[str, Any], incremental_default: bool) -> FileSpec:
    entity = entry.get("entity")
    if not entity or not entry.get("path"):
        raise TapCSVConfigError(f"each `files` entry needs `entity` and `path`, got {entry!r}")
    if entry.get("skipinitialspace"):
        raise TapCSVConfigError(
            f"stream '{entity}': skipinitialspace=true is not supported; "
            "remove it or strip the spaces from the file"
        )
    encoding = str(entry.get("encoding") or "utf-8")
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise TapCSVConfigError(f"stream '{entity}': unknown encoding {encoding!r}") from exc
    keys = entry.get("keys") or []
    if isinstance(keys, str):
        keys = [keys]
    incremental = entry.get("incremental")
    return FileSpec(
        entity=str(entity),
        path=str(entry["path"]),
        keys=tuple(keys),
        delimiter=_single_char(entity, "delimiter", entry.get("delimiter"), ",") or ",",
        quotechar=_single_char(entity, "quotechar", entry.get("quotechar"), '"') or '"',
        escapechar=_single_char(entity, "escapechar", entry.get("escapechar"), None),
        doublequote=bool(entry.get("doublequote", True)),
        encoding=encoding,
        incremental=incremental_default if incremental is None else bool(incremental),
    )


def load_file_specs(config: Mapping[str, Any]) -> list[FileSpec]:
    """The streams of a config: `files`, then the entries of `csv_files_definition`."""
    entries: list[Mapping[str, Any]] = list(config.get("files") or [])
    definition = config.get("csv_files_definition")
    if definition:
        try:
            loaded = json.loads(Path(definition).expanduser().read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise TapCSVConfigError(
                f"csv_files_definition '{definition}' could not be read: {exc}"
            ) from exc
        if not isinstance(loaded, list):
            raise TapCSVConfigError(
                f"csv_files_definition '{definition}' must hold a JSON list of file entries"
            )
        entries.extend(loaded)
    if not entries:
        raise TapCSVConfigError("set `files` or `csv_files_definition`: no stream is configured")
    incremental = bool(config.get("incremental", False))
    specs = [_file_spec(entry, incremental) for entry in entries]
    seen: set[str] = set()
    for spec in specs:
        if spec.entity in seen:
            raise TapCSVConfigError(f"stream '{spec.entity}' is configured twice")
        seen.add(spec.entity)
    return specs
