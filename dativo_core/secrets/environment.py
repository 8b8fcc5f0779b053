"""Secrets from environment variables, one variable per tenant and name.

`${secret:db_password}` of tenant `acme` reads `DATIVO_SECRET_ACME__DB_PASSWORD`: the tenant is part
of the variable's name, so a job of one tenant cannot read another's. Names are upper-cased and '-'
and '.' become '_', so tenant and secret names that differ only in those are the same variable here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from dativo_core.secrets.backend import SecretBackend, SecretNotFoundError

PREFIX = "DATIVO_SECRET_"


def variable_name(tenant: str, name: str) -> str:
    def part(text: str) -> str:
        return text.upper().replace("-", "_").replace(".", "_")

    return f"{PREFIX}{part(tenant)}__{part(name)}"


class EnvironmentSecretBackend(SecretBackend):
    kind = "env"

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ = os.environ if environ is None else environ

    def _read(self, tenant: str, name: str) -> str:
        try:
            return self.environ[variable_name(tenant, name)]
        except KeyError:
            raise SecretNotFoundError(
                f"secret {name!r} of tenant {tenant!r} is not set: export {self.describe(tenant, name)}"
            ) from None

    def describe(self, tenant: str, name: str) -> str:
        return f"environment variable {variable_name(tenant, name)}"
