"""backend_from_settings: job-file `secrets:` sections to real backends."""

from __future__ import annotations

from pathlib import Path

import pytest
from secret_files import write_secret

from dativo_core.secrets.aws import AwsSecretsManagerBackend
from dativo_core.secrets.backend import SecretError
from dativo_core.secrets.environment import EnvironmentSecretBackend
from dativo_core.secrets.settings import backend_from_settings


def test_environment_is_the_default(tmp_path: Path) -> None:
    assert isinstance(backend_from_settings(None, tmp_path), EnvironmentSecretBackend)


def test_directory_path_is_relative_to_the_job_file(tmp_path: Path) -> None:
    write_secret(tmp_path / "jobs" / "vault-files", "acme", "api_key", "k-7781")
    backend = backend_from_settings({"backend": "directory", "path": "vault-files"}, tmp_path / "jobs")
    assert backend.get("acme", "api_key") == "k-7781"


def test_aws_settings_map_to_the_client() -> None:
    backend = backend_from_settings({"backend": "aws", "region": "eu-west-1", "prefix": "prod/"}, ".")
    assert isinstance(backend, AwsSecretsManagerBackend)
    assert backend.client.meta.region_name == "eu-west-1" and backend.prefix == "prod/"


@pytest.mark.parametrize(("settings", "message"), [
    ({"backend": "keychain"}, "unknown; choose one of env, directory, vault, aws"),
    ({"backend": "directory", "token": "x"}, "has no option token; its options are path"),
    ({"backend": "env", "path": "x"}, "its options are none"),
])
def test_bad_settings_say_what_to_fix(settings: dict, message: str) -> None:
    with pytest.raises(SecretError, match=message):
        backend_from_settings(settings, ".")


def test_vault_needs_an_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VAULT_ADDR", raising=False)
    with pytest.raises(SecretError, match="needs a `url`"):
        backend_from_settings({"backend": "vault"}, ".")
