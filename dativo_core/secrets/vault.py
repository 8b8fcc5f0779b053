"""Secrets in HashiCorp Vault or OpenBao, KV version 2, through hvac.

Tenant `acme`'s secret `db_password` is the field `value` of `<mount>/data/<prefix>/acme/db_password`.
For isolation enforced by Vault itself, give each tenant its own token whose policy only allows
`<mount>/data/<prefix>/<tenant>/*`, and configure that token for that tenant's jobs.
"""

from __future__ import annotations

import os

from dativo_core.secrets.backend import SecretBackend, SecretError, SecretNotFoundError


class VaultSecretBackend(SecretBackend):
    kind = "vault"

    def __init__(
        self,
        url: str,
        token: str | None = None,
        mount: str = "secret",
        prefix: str = "dativo",
        field: str = "value",
        namespace: str | None = None,
    ) -> None:
        import hvac

        self.url, self.mount, self.prefix, self.field = url, mount, prefix.strip("/"), field
        self.client = hvac.Client(url=url, token=token or os.environ.get("VAULT_TOKEN"), namespace=namespace)

    def _path(self, tenant: str, name: str) -> str:
        return f"{self.prefix}/{tenant}/{name}" if self.prefix else f"{tenant}/{name}"

    def describe(self, tenant: str, name: str) -> str:
        return f"Vault {self.url} KV v2 secret {self.mount}/{self._path(tenant, name)} field {self.field!r}"

    def _read(self, tenant: str, name: str) -> str:
        import hvac.exceptions
        import requests

        try:
            response = self.client.secrets.kv.v2.read_secret_version(
                path=self._path(tenant, name), mount_point=self.mount, raise_on_deleted_version=True
            )
        except hvac.exceptions.InvalidPath:
            raise SecretNotFoundError(
                f"secret {name!r} of tenant {tenant!r} not found: write {self.describe(tenant, name)}"
            ) from None
        except hvac.exceptions.Forbidden:
            raise SecretError(
                f"Vault refused to read {self.describe(tenant, name)}: the token's policy does not allow "
                "it (for another tenant's path this is isolation working); check VAULT_TOKEN"
            ) from None
        except (hvac.exceptions.VaultError, requests.RequestException) as exc:
            raise SecretError(f"cannot read {self.describe(tenant, name)}: {type(exc).__name__}") from None
        data = response["data"]["data"]
        if self.field not in data:
            raise SecretError(f"{self.describe(tenant, name)} has no field {self.field!r}; it has {sorted(data)}")
        return str(data[self.field])
