"""DirectorySecretBackend on real files: permissions, names and tenant folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from secret_files import write_secret

from dativo_core.secrets.backend import SecretError, SecretNotFoundError
from dativo_core.secrets.directory import DirectorySecretBackend

VALUE = "s3cr3t-acme-db-password"


def test_reads_the_tenants_file_without_its_trailing_newline(tmp_path: Path) -> None:
    write_secret(tmp_path, "acme", "db_password", VALUE + "\n")
    write_secret(tmp_path, "acme", "multi.line", "line one\nline two\n")
    backend = DirectorySecretBackend(tmp_path)
    assert backend.get("acme", "db_password") == VALUE
    assert backend.get("acme", "multi.line") == "line one\nline two"


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o666])
def test_refuses_files_group_or_others_may_access(tmp_path: Path, mode: int) -> None:
    path = write_secret(tmp_path, "acme", "db_password", VALUE, mode)
    with pytest.raises(SecretError) as caught:
        DirectorySecretBackend(tmp_path).get("acme", "db_password")
    message = str(caught.value)
    assert f"mode {mode:04o}" in message and f"chmod 600 {path}" in message
    assert VALUE not in message


def test_missing_secret_says_which_file_to_create(tmp_path: Path) -> None:
    with pytest.raises(SecretNotFoundError, match=r"create .*/acme/api_key \(mode 0600\)"):
        DirectorySecretBackend(tmp_path).get("acme", "api_key")


@pytest.mark.parametrize("name", ["../globex/db_password", "globex/db_password", "..", ".hidden", "a..b", ""])
def test_names_cannot_leave_the_tenants_folder(tmp_path: Path, name: str) -> None:
    write_secret(tmp_path, "globex", "db_password", "globex-only-value")
    with pytest.raises(SecretError, match="secret name"):
        DirectorySecretBackend(tmp_path).get("acme", name)


def test_a_symlink_into_another_tenant_is_refused(tmp_path: Path) -> None:
    write_secret(tmp_path, "globex", "db_password", "globex-only-value")
    (tmp_path / "acme").mkdir()
    os.symlink(tmp_path / "globex" / "db_password", tmp_path / "acme" / "db_password")
    with pytest.raises(SecretError, match="cannot read secret file") as caught:
        DirectorySecretBackend(tmp_path).get("acme", "db_password")
    assert "globex-only-value" not in str(caught.value)


def test_a_file_that_is_not_utf8_text_is_named_without_its_content(tmp_path: Path) -> None:
    path = write_secret(tmp_path, "acme", "db_password", "x")
    path.write_bytes(b"s3cr3t\xff\xfe")
    with pytest.raises(SecretError) as caught:
        DirectorySecretBackend(tmp_path).get("acme", "db_password")
    assert str(caught.value) == f"secret file {path} is not UTF-8 text; write the value as UTF-8"
