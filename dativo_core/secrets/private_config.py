"""Hand a resolved config to a plugin as a file only its owner can read, deleted after the run."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson


@contextlib.contextmanager
def write_private_config(
    config: Mapping[str, Any], directory: str | os.PathLike[str] | None = None
) -> Iterator[Path]:
    """A 0600 JSON file holding `config`, removed when the block ends, even on error."""
    descriptor, name = tempfile.mkstemp(prefix="dativo-config-", suffix=".json", dir=directory)
    path = Path(name)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(orjson.dumps(config))
        yield path
    finally:
        path.unlink(missing_ok=True)
