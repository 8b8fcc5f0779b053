"""VaultSecretBackend through hvac against a real OpenBao dev server."""

from __future__ import annotations

import hvac
import pytest

from dativo_core.secrets.backend import SecretError, SecretNotFoundError
from dativo_core.secrets.settings import backend_from_settings
from dativo_core.secrets.vault import VaultSecretBackend


@pytest.fixture(scope="module")
def vault(openbao_server):
    client = hvac.Client(url=openbao_server.url, token=openbao_server.root_token)
    client.secrets.kv.v2.create_or_update_secret(path="dativo/acme/db_password", secret={"value": "acme-vault-pw"})
    client.secrets.kv.v2.create_or_update_secret(path="dativo/globex/db_password", secret={"value": "globex-vault-pw"})
    client.secrets.kv.v2.create_or_update_secret(path="dativo/acme/no_value", secret={"user": "app"})
    return client


def test_reads_each_tenants_secret_from_its_path(vault, openbao_server) -> None:
    backend = VaultSecretBackend(openbao_server.url, token=openbao_server.root_token)
    assert backend.get("acme", "db_password") == "acme-vault-pw"
    assert backend.get("globex", "db_password") == "globex-vault-pw"


def test_missing_secret_and_missing_field_say_what_to_write(vault, openbao_server) -> None:
    backend = VaultSecretBackend(openbao_server.url, token=openbao_server.root_token)
    with pytest.raises(SecretNotFoundError, match="write Vault .* secret secret/dativo/acme/api_key field 'value'"):
        backend.get("acme", "api_key")
    with pytest.raises(SecretError, match="has no field 'value'; it has \\['user'\\]"):
        backend.get("acme", "no_value")


def test_a_tenant_token_cannot_read_another_tenants_secret(vault, openbao_server) -> None:
    vault.sys.create_or_update_policy(
        name="tenant-acme", policy='path "secret/data/dativo/acme/*" { capabilities = ["read"] }'
    )
    acme_token = vault.auth.token.create(policies=["tenant-acme"], ttl="10m")["auth"]["client_token"]
    backend = VaultSecretBackend(openbao_server.url, token=acme_token)
    assert backend.get("acme", "db_password") == "acme-vault-pw"
    with pytest.raises(SecretError, match="token's policy does not allow") as caught:
        backend._read("globex", "db_password")  # even bypassing the tenant argument check, Vault refuses
    assert "globex-vault-pw" not in str(caught.value)


def test_settings_take_the_token_from_the_environment(vault, openbao_server, monkeypatch) -> None:
    monkeypatch.setenv("ACME_VAULT_TOKEN", openbao_server.root_token)
    backend = backend_from_settings(
        {"backend": "vault", "url": openbao_server.url, "token_env": "ACME_VAULT_TOKEN"}, base_dir="."
    )
    assert backend.get("acme", "db_password") == "acme-vault-pw"
