"""The interface every secret store implements, and the errors a user can act on.

A backend stores each tenant's secrets in a namespace of that tenant's own (a folder, a Vault path,
a Secrets Manager name prefix). Tenant and secret names are restricted to a safe alphabet, so no
name can climb out of its tenant's namespace. Error messages name the tenant, the secret and the
place; they never hold a secret value.
"""

from __future__ import annotations

import abc
import re

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class SecretError(Exception):
    """A secret could not be resolved; the message says where to put it or what to fix."""


class SecretNotFoundError(SecretError):
    """The tenant's backend has no secret of that name."""


def check_name(label: str, name: str) -> str:
    """Refuse names that could address another tenant's namespace (`/`, `..`, empty, ...)."""
    if not _SAFE_NAME.match(name) or ".." in name:
        raise SecretError(
            f"{label} {name!r} may only hold letters, digits, '.', '_' and '-', must start with a "
            "letter or digit and may not contain '..'"
        )
    return name


class SecretBackend(abc.ABC):
    """Reads one tenant's secret by name."""

    kind: str

    def get(self, tenant: str, name: str) -> str:
        """The secret's value; SecretNotFoundError when the tenant has none of that name."""
        return self._read(check_name("tenant", tenant), check_name("secret name", name))

    @abc.abstractmethod
    def _read(self, tenant: str, name: str) -> str:
        """Read a secret whose tenant and name were already checked."""

    @abc.abstractmethod
    def describe(self, tenant: str, name: str) -> str:
        """Where the secret would live, for messages (never its value)."""
