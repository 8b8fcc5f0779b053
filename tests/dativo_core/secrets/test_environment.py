"""EnvironmentSecretBackend: one variable per tenant and secret."""

from __future__ import annotations

import pytest

from dativo_core.secrets.backend import SecretNotFoundError
from dativo_core.secrets.environment import EnvironmentSecretBackend, variable_name


def test_each_tenant_reads_only_its_own_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATIVO_SECRET_ACME__DB_PASSWORD", "acme-value")
    monkeypatch.setenv("DATIVO_SECRET_GLOBEX__DB_PASSWORD", "globex-value")
    backend = EnvironmentSecretBackend()
    assert backend.get("acme", "db_password") == "acme-value"
    assert backend.get("globex", "db_password") == "globex-value"
    assert variable_name("acme-eu", "api.key") == "DATIVO_SECRET_ACME_EU__API_KEY"


def test_missing_variable_names_the_variable_to_export(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATIVO_SECRET_ACME__TOKEN", raising=False)
    with pytest.raises(SecretNotFoundError, match="export environment variable DATIVO_SECRET_ACME__TOKEN"):
        EnvironmentSecretBackend().get("acme", "token")
