"""Secrets from environment variables, one variable per tenant and name.

`${secret:db_password}` of tenant `acme` reads `DATIVO_SECRET_ACME__DB_PASSWORD`: the tenant is part
of the variable's name, so a job of one tenant cannot read another's. Names are upper-cased and '-'
and '.' become '_', so tenant and secret names that differ only in those are the same variable here.
`__` separates tenant from secret, so a tenant whose name would hold it (`acme__x`, `acme-_x`) is
refused: its secret `y` would be tenant `acme`'s `x__y`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from dativo_core.secrets.backend import SecretBackend, SecretError, SecretNotFoundError

PREFIX = "DATIVO_SECRET_"


def _variable_part(text: str) -> str:
    return text.upper().replace("-", "_").replace(".", "_")


def variable_name(tenant: str, name: str) -> str:
    return f"{PREFIX}{_variable_part(tenant)}__{_variable_part(name)}"


class EnvironmentSecretBackend(SecretBackend):
    kind = "env"

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ = os.environ if environ is None else environ

    def _read(self, tenant: str, name: str) -> str:
        if "__" in _variable_part(tenant):
            raise SecretError(
                f"tenant {tenant!r} cannot keep secrets in environment variables: its name would "
                "hold '__', which separates the tenant from the secret name there, so it could "
                "read another tenant's variable; rename the tenant or use another secrets backend"
            )
        try:
            return self.environ[variable_name(tenant, name)]
        except KeyError:
            raise SecretNotFoundError(
                f"secret {name!r} of tenant {tenant!r} is not set: export {self.describe(tenant, name)}"
            ) from None

    def describe(self, tenant: str, name: str) -> str:
        return f"environment variable {variable_name(tenant, name)}"
