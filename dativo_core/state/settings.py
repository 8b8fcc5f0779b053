"""Build a state backend from the `state:` section of a job file.

    state: {backend: local, path: state}                         # relative to the job file
    state: {backend: sql, url_env: DATIVO_STATE_URL}             # a SQLAlchemy URL in the environment
    state: {backend: sql, url: "sqlite:///state.db"}
    state: {backend: s3, bucket: dativo-state, prefix: prod, endpoint_url: "http://127.0.0.1:8333"}

Every backend takes `lock_timeout` (seconds to wait for another run; 0 fails at once); sql and s3
take `lock_ttl` too. A database URL with a password belongs in the environment (`url_env`), not in
the job file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from dativo_core.backend_settings import backend_options, path_setting
from dativo_core.state.backend import StateBackend
from dativo_core.state.errors import StateError
from dativo_core.state.local import LocalStateBackend

_OPTIONS = {
    "local": {"path", "lock_timeout"},
    "sql": {"url", "url_env", "lock_timeout", "lock_ttl"},
    "s3": {"bucket", "prefix", "endpoint_url", "region", "profile", "lock_timeout", "lock_ttl", "conditional_writes"},
}


def state_backend_from_settings(settings: Mapping[str, Any] | None, base_dir: str | os.PathLike[str]) -> StateBackend:
    """The backend the settings describe; `base_dir` anchors relative paths (the job file's folder)."""
    kind, settings = backend_options(settings, "local", _OPTIONS, "state backend", StateError)
    if kind == "local":
        return LocalStateBackend(path_setting(settings.pop("path", "state"), base_dir), **settings)
    if kind == "sql":
        from dativo_core.state.sql import SqlStateBackend

        return SqlStateBackend(_sql_url(settings), **settings)
    from dativo_core.state.s3 import S3StateBackend

    if "bucket" not in settings:
        raise StateError("state backend 's3' needs a `bucket`")
    return S3StateBackend(
        region_name=settings.pop("region", None), profile_name=settings.pop("profile", None), **settings
    )


def _sql_url(settings: dict[str, Any]) -> str:
    url, url_env = settings.pop("url", None), settings.pop("url_env", None)
    if (url is None) == (url_env is None):
        raise StateError("state backend 'sql' needs exactly one of `url` or `url_env`")
    if url_env is not None:
        if url_env not in os.environ:
            raise StateError(f"state backend 'sql': environment variable {url_env} is not set")
        return os.environ[url_env]
    return url
