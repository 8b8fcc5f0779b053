"""write_private_config: owner-only file, gone afterwards even on error."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from dativo_core.secrets.private_config import write_private_config


def test_file_is_owner_only_and_removed_after_the_block(tmp_path: Path) -> None:
    with write_private_config({"password": "p-4471", "port": 5432}, directory=tmp_path) as path:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert json.loads(path.read_text()) == {"password": "p-4471", "port": 5432}
    assert not path.exists() and list(tmp_path.iterdir()) == []


def test_file_is_removed_when_the_run_fails(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), write_private_config({"password": "p-4471"}, directory=tmp_path) as path:
        raise RuntimeError("plugin crashed")
    assert not path.exists()
