"""YAML/JSON documents checked against a JSON Schema, with errors naming the file and the path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from dativo_core.schema.fast_check import passes_quickly


class DocumentError(ValueError):
    """A document that can't be used: which file, where in it, and what was expected."""

    def __init__(self, source: str, problem: str, path: str = "") -> None:
        self.source = source
        self.path = path
        self.problem = problem
        where = f"{source} at {path}" if path else source
        super().__init__(f"{where}: {problem}")


def load_document(path: str | Path) -> Any:
    """Parse a .yaml/.yml/.json file; YAML errors keep their line and column."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DocumentError(str(path), f"cannot read the file ({exc.strerror})") from None
    try:
        if path.suffix == ".json":
            return json.loads(text)
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DocumentError(str(path), f"not valid YAML: {_yaml_problem(exc)}") from None
    except json.JSONDecodeError as exc:
        raise DocumentError(str(path), f"not valid JSON: {exc}") from None


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """What is wrong and where, without the snippet of the file PyYAML quotes: the line may
    hold a secret (a password with an unclosed quote, say)."""
    if not isinstance(exc, yaml.MarkedYAMLError):
        return type(exc).__name__
    parts = []
    for text, mark in ((exc.context, exc.context_mark), (exc.problem, exc.problem_mark)):
        if text:
            where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
            parts.append(f"{text}{where}")
    return "; ".join(parts) or type(exc).__name__


def json_path(parts: Any) -> str:
    """`$.source.config.files[0]` style, as users read it in their YAML."""
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def validate_document(data: Any, schema: dict[str, Any], source: str) -> None:
    """Raise the most relevant schema violation as a DocumentError.

    Our schemas use no keyword newer than draft 7, so the quick pass and jsonschema agree on
    what is valid.
    """
    if passes_quickly(schema, data):
        return
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is not None:
        raise DocumentError(source, error.message, json_path(error.absolute_path))
