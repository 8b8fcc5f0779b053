"""state_backend_from_settings: job-file `state:` sections to real backends."""

from __future__ import annotations

from pathlib import Path

import pytest

from dativo_core.state.backend import StateKey
from dativo_core.state.errors import StateError
from dativo_core.state.local import LocalStateBackend
from dativo_core.state.s3 import S3StateBackend
from dativo_core.state.settings import state_backend_from_settings
from dativo_core.state.sql import SqlStateBackend


def test_local_is_the_default_and_relative_to_the_job(tmp_path: Path) -> None:
    backend = state_backend_from_settings(None, tmp_path)
    assert isinstance(backend, LocalStateBackend) and backend.directory == tmp_path / "state"


def test_sql_url_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATIVO_STATE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    backend = state_backend_from_settings({"backend": "sql", "url_env": "DATIVO_STATE_URL", "lock_ttl": 30}, tmp_path)
    assert isinstance(backend, SqlStateBackend) and backend.lock_ttl == 30
    backend.set(StateKey("acme", "orders"), {"a": 1})
    assert backend.get(StateKey("acme", "orders")) == {"a": 1}


def test_s3_settings_map_to_the_backend(tmp_path: Path) -> None:
    backend = state_backend_from_settings(
        {"backend": "s3", "bucket": "dativo-state", "prefix": "prod", "endpoint_url": "http://127.0.0.1:9",
         "region": "eu-west-1"}, tmp_path)
    assert isinstance(backend, S3StateBackend)
    assert str(backend) == "state store s3://dativo-state/prod at http://127.0.0.1:9"


@pytest.mark.parametrize(("settings", "message"), [
    ({"backend": "redis"}, "unknown; choose one of local, sql, s3"),
    ({"backend": "sql", "url": "sqlite://", "password": "x"}, "has no option password"),
    ({"backend": "sql"}, "exactly one of `url` or `url_env`"),
    ({"backend": "sql", "url_env": "DATIVO_TEST_UNSET_URL"}, "DATIVO_TEST_UNSET_URL is not set"),
    ({"backend": "s3"}, "needs a `bucket`"),
])
def test_bad_settings_say_what_to_fix(tmp_path: Path, settings: dict, message: str) -> None:
    with pytest.raises(StateError, match=message):
        state_backend_from_settings(settings, tmp_path)
