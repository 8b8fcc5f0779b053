"""resolve_config: reference syntax, declared keys, tenant isolation and the audit log."""

from __future__ import annotations

from pathlib import Path

import pytest
from secret_files import write_secret

from dativo_core.secrets.audit import AuditLog
from dativo_core.secrets.backend import SecretError
from dativo_core.secrets.directory import DirectorySecretBackend
from dativo_core.secrets.resolver import resolve_config

ACME_PW = "acme-db-pass-7781"
GLOBEX_PW = "globex-db-pass-9902"


@pytest.fixture
def secrets_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "secrets"
    write_secret(root, "acme", "db_password", ACME_PW)
    write_secret(root, "acme", "api_key", "acme-api-key-1234")
    write_secret(root, "globex", "db_password", GLOBEX_PW)
    monkeypatch.setenv("DATIVO_SECRET_ACME__WAREHOUSE_TOKEN", "acme-env-token-55")
    monkeypatch.setenv("DATIVO_SECRET_GLOBEX__WAREHOUSE_TOKEN", "globex-env-token-66")
    return root


def test_expands_whole_and_embedded_references_in_declared_keys(secrets_dir: Path) -> None:
    config = {
        "dsn": "postgresql://app:${secret:db_password}@db:5432/app",
        "credentials": {"api_key": "${secret:api_key}", "token": "${env:warehouse_token}"},
        "hosts": [{"password": "${warehouse_token}"}],
        "template": "costs $${price} each",
        "batch_size": 500,
    }
    resolved = resolve_config(
        config, "acme", ["dsn", "credentials.api_key", "credentials.token", "hosts.0.password"],
        DirectorySecretBackend(secrets_dir),
    )
    assert resolved == {
        "dsn": f"postgresql://app:{ACME_PW}@db:5432/app",
        "credentials": {"api_key": "acme-api-key-1234", "token": "acme-env-token-55"},
        "hosts": [{"password": "acme-env-token-55"}],
        "template": "costs ${price} each",
        "batch_size": 500,
    }
    assert config["dsn"].endswith("${secret:db_password}@db:5432/app")  # the input is left alone


def test_a_reference_in_an_undeclared_key_is_refused(secrets_dir: Path) -> None:
    with pytest.raises(SecretError, match=r"config key 'note' of tap-postgres references '\$\{secret:db_password\}'.*"
                                          r"declared: password\); add it to the recipe's `secrets`"):
        resolve_config({"note": "${secret:db_password}"}, "acme", ["password"], DirectorySecretBackend(secrets_dir),
                       plugin="tap-postgres")


@pytest.mark.parametrize("reference", [
    "${secret:../globex/db_password}", "${secret:globex/db_password}", "${env:../GLOBEX__WAREHOUSE_TOKEN}",
])
def test_one_tenant_can_never_resolve_anothers_secret(secrets_dir: Path, reference: str) -> None:
    with pytest.raises(SecretError) as caught:
        resolve_config({"password": reference}, "acme", ["password"], DirectorySecretBackend(secrets_dir))
    assert GLOBEX_PW not in str(caught.value) and "globex-env-token-66" not in str(caught.value)


def test_the_same_name_resolves_per_tenant(secrets_dir: Path) -> None:
    backend = DirectorySecretBackend(secrets_dir)
    config = {"password": "${secret:db_password}", "token": "${warehouse_token}"}
    assert resolve_config(config, "acme", ["password", "token"], backend) == {
        "password": ACME_PW, "token": "acme-env-token-55"}
    assert resolve_config(config, "globex", ["password", "token"], backend) == {
        "password": GLOBEX_PW, "token": "globex-env-token-66"}


def test_unknown_reference_kind_is_explained(secrets_dir: Path) -> None:
    with pytest.raises(SecretError, match=r"unknown reference '\$\{vault:x\}'; write \$\{secret:NAME\}"):
        resolve_config({"password": "${vault:x}"}, "acme", ["password"], DirectorySecretBackend(secrets_dir))


def test_audit_log_names_job_plugin_and_secrets_but_never_values(secrets_dir: Path, tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "audit" / "audit.jsonl")
    backend = DirectorySecretBackend(secrets_dir)
    resolve_config({"password": "${secret:db_password}", "token": "${warehouse_token}"}, "acme",
                   ["password", "token"], backend, audit=audit, job="acme/orders", plugin="tap-postgres")
    with pytest.raises(SecretError):
        resolve_config({"password": "${secret:missing}"}, "acme", ["password"], backend, audit=audit,
                       job="acme/orders", plugin="target-iceberg")
    resolve_config({"batch_size": 10}, "acme", [], backend, audit=audit, job="acme/orders", plugin="mapper")

    events = audit.events()
    assert [(e["job"], e["plugin"], e["outcome"]) for e in events] == [
        ("acme/orders", "tap-postgres", "resolved"), ("acme/orders", "target-iceberg", "refused")]
    assert events[0]["tenant"] == "acme" and events[0]["time"].endswith("+00:00")
    assert events[0]["secrets"] == [
        {"key": "password", "name": "db_password", "backend": "directory"},
        {"key": "token", "name": "warehouse_token", "backend": "env"},
    ]
    assert "missing" in events[1]["error"]
    text = audit.path.read_text()
    assert ACME_PW not in text and "acme-env-token-55" not in text
    assert oct(audit.path.stat().st_mode & 0o777) == "0o600"
