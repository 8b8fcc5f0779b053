"""Build a tenant's secret backend from the `secrets:` section of a job file.

    secrets: {backend: env}                                      # the default
    secrets: {backend: directory, path: secrets}                 # relative to the job file
    secrets: {backend: vault, url: http://127.0.0.1:8200, mount: secret, prefix: dativo}
    secrets: {backend: aws, region: eu-west-1, prefix: dativo/}

Credentials for Vault (VAULT_TOKEN, or the variable named by `token_env`) and AWS (boto3's chain)
come from the environment of `dativo run`, never from job files.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from dativo_core.backend_settings import backend_options, path_setting
from dativo_core.secrets.aws import AwsSecretsManagerBackend
from dativo_core.secrets.backend import SecretBackend, SecretError
from dativo_core.secrets.directory import DirectorySecretBackend
from dativo_core.secrets.environment import EnvironmentSecretBackend
from dativo_core.secrets.vault import VaultSecretBackend

_OPTIONS = {
    "env": set(),
    "directory": {"path"},
    "vault": {"url", "mount", "prefix", "field", "namespace", "token_env"},
    "aws": {"prefix", "region", "endpoint_url", "profile"},
}


def backend_from_settings(settings: Mapping[str, Any] | None, base_dir: str | os.PathLike[str]) -> SecretBackend:
    """The backend the settings describe; `base_dir` anchors a relative directory path."""
    kind, settings = backend_options(settings, "env", _OPTIONS, "secrets backend", SecretError)
    if kind == "env":
        return EnvironmentSecretBackend()
    if kind == "directory":
        return DirectorySecretBackend(path_setting(settings.get("path", "secrets"), base_dir))
    if kind == "vault":
        if "url" not in settings and "VAULT_ADDR" not in os.environ:
            raise SecretError("secrets backend 'vault' needs a `url` (or VAULT_ADDR in the environment)")
        token_env = settings.pop("token_env", "VAULT_TOKEN")
        return VaultSecretBackend(
            url=settings.pop("url", None) or os.environ["VAULT_ADDR"], token=os.environ.get(token_env), **settings
        )
    return AwsSecretsManagerBackend(
        prefix=settings.get("prefix", "dativo/"),
        region_name=settings.get("region"),
        endpoint_url=settings.get("endpoint_url"),
        profile_name=settings.get("profile"),
    )
