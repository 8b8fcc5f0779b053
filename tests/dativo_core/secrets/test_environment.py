"""EnvironmentSecretBackend: one variable per tenant and secret."""

from __future__ import annotations

import pytest

from dativo_core.secrets.backend import SecretError, SecretNotFoundError
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


@pytest.mark.parametrize("tenant", ["acme__x", "acme_-x", "acme._x", "acme--x"])
def test_a_tenant_cannot_reach_another_tenants_variable_through_a_double_underscore(tenant: str) -> None:
    # Tenant `acme`'s secret `x__y` is DATIVO_SECRET_ACME__X__Y; tenant `acme__x`'s secret `y`
    # would be the same variable, so that tenant name is refused here.
    backend = EnvironmentSecretBackend({"DATIVO_SECRET_ACME__X__Y": "acme-value"})
    assert backend.get("acme", "x__y") == "acme-value"
    with pytest.raises(SecretError, match=f"tenant {tenant!r} .* '__'") as caught:
        backend.get(tenant, "y")
    assert "acme-value" not in str(caught.value)
