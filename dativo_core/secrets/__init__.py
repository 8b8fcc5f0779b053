"""Tenant secrets: backends, `${secret:NAME}` resolution in plugin configs, log redaction, audit."""

from dativo_core.secrets.audit import AuditLog
from dativo_core.secrets.backend import SecretBackend, SecretError, SecretNotFoundError
from dativo_core.secrets.private_config import write_private_config
from dativo_core.secrets.redaction import redaction_filter
from dativo_core.secrets.resolver import resolve_config
from dativo_core.secrets.settings import backend_from_settings

__all__ = [
    "AuditLog",
    "SecretBackend",
    "SecretError",
    "SecretNotFoundError",
    "backend_from_settings",
    "redaction_filter",
    "resolve_config",
    "write_private_config",
]
