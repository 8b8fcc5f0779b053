"""write_atomically: the new content in place with the asked mode, or the old content untouched."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from dativo_core.atomic_write import write_atomically


def test_replaces_the_content_with_the_given_mode(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_bytes(b'{"old": true}')
    write_atomically(path, b'{"new": true}', mode=0o640)
    assert path.read_bytes() == b'{"new": true}'
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["config.json"]


def test_a_new_file_is_private_by_default(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    write_atomically(path, b"{}\n")
    assert path.read_bytes() == b"{}\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_failed_rename_keeps_the_old_content_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "taken"
    path.mkdir()
    (path / "inside").write_bytes(b"old")
    with pytest.raises(IsADirectoryError):
        write_atomically(path, b"new")
    assert (path / "inside").read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]
