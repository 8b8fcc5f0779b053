"""Expand secret references in a plugin's config, only where its recipe allows secrets.

Reference syntax, inside any string value of the config:
- `${secret:NAME}`: the tenant's secret NAME from the tenant's configured backend;
- `${env:NAME}` or `${NAME}`: the tenant's secret NAME from the environment backend
  (variable `DATIVO_SECRET_<TENANT>__<NAME>`, see environment.py);
- `$${` is a literal `${`.
A reference may be the whole value or part of it (`postgresql://app:${secret:pw}@db/app`).
Each resolved value is registered with the log redaction filter, and each resolution is written
to the audit log with the secret names, never the values.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

from dativo_core.secrets.audit import AuditLog
from dativo_core.secrets.backend import SecretBackend, SecretError, check_name
from dativo_core.secrets.environment import EnvironmentSecretBackend
from dativo_core.secrets.redaction import MIN_REDACTED_LENGTH, redaction_filter

log = logging.getLogger(__name__)

_REFERENCE = re.compile(r"\$\$\{|\$\{(?:([A-Za-z]+):)?([^}]*)\}")


def resolve_config(
    config: Mapping[str, Any],
    tenant: str,
    declared_secrets: Iterable[str],
    backend: SecretBackend,
    *,
    audit: AuditLog | None = None,
    job: str = "",
    plugin: str = "",
) -> dict[str, Any]:
    """A copy of `config` with every reference replaced by the tenant's secret value.

    `declared_secrets` are the dotted config keys (`password`, `credentials.api_key`, `hosts.0.pw`)
    whose values the plugin's recipe declares as secrets; a reference anywhere else is refused, so a
    plugin only ever receives the secrets its recipe asks for.
    """
    resolution = _Resolution(tenant, frozenset(declared_secrets), backend, plugin)
    event = {"event": "resolve", "tenant": tenant, "job": job, "plugin": plugin}
    try:
        check_name("tenant", tenant)
        resolved = resolution.value(config, ())
    except SecretError as exc:
        if audit:
            audit.record({**event, "outcome": "refused", "error": str(exc), "secrets": resolution.used})
        raise
    if audit and resolution.used:
        audit.record({**event, "outcome": "resolved", "secrets": resolution.used})
    return resolved


class _Resolution:
    """One walk over one config, remembering which secrets it used."""

    def __init__(self, tenant: str, declared: frozenset[str], backend: SecretBackend, plugin: str) -> None:
        self.tenant, self.declared, self.plugin = tenant, declared, plugin or "the plugin"
        self.backends = {"secret": backend, "env": EnvironmentSecretBackend()}
        self.used: list[dict[str, str]] = []

    def value(self, value: Any, path: tuple[str, ...]) -> Any:
        if isinstance(value, Mapping):
            return {key: self.value(item, (*path, str(key))) for key, item in value.items()}
        if isinstance(value, list):
            return [self.value(item, (*path, str(index))) for index, item in enumerate(value)]
        if isinstance(value, str) and "${" in value:
            return _REFERENCE.sub(lambda match: self.reference(match, ".".join(path)), value)
        return value

    def reference(self, match: re.Match[str], key: str) -> str:
        if match.group(0) == "$${":
            return "${"
        kind, name = match.group(1) or "env", match.group(2)
        if kind not in self.backends:
            raise SecretError(
                f"config key {key!r} of {self.plugin}: unknown reference {match.group(0)!r}; "
                "write ${secret:NAME}, ${env:NAME} or ${NAME}"
            )
        if key not in self.declared:
            declared = ", ".join(sorted(self.declared)) or "none"
            raise SecretError(
                f"config key {key!r} of {self.plugin} references {match.group(0)!r}, but the plugin's recipe "
                f"does not declare {key!r} as a secret (declared: {declared}); add it to the recipe's `secrets`"
            )
        backend = self.backends[kind]
        self.used.append({"key": key, "name": name, "backend": backend.kind})
        try:
            secret = backend.get(self.tenant, name)
        except SecretError as exc:
            raise SecretError(f"config key {key!r} of {self.plugin}: {exc}") from None
        if not redaction_filter().add(secret):
            log.warning(
                "secret %r of tenant %r is shorter than %d characters, so logs cannot mask it",
                name, self.tenant, MIN_REDACTED_LENGTH,
            )
        return secret
