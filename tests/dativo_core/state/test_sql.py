"""SqlStateBackend against a real sqlite file and a real PostgreSQL server."""

from __future__ import annotations

import threading
import time

import pytest
from lock_holder import LockHolder

from dativo_core.state.backend import StateKey
from dativo_core.state.errors import StateError, StateLockedError
from dativo_core.state.sql import SqlStateBackend

ORDERS = StateKey("acme", "orders")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def state_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    return request.getfixturevalue("postgres_url")


def test_set_get_replace_clear_and_keys(state_url: str) -> None:
    backend = SqlStateBackend(state_url)
    assert backend.get(ORDERS) is None
    backend.set(ORDERS, {"bookmarks": {"orders": {"replication_key_value": "2024-01-01"}}})
    backend.set(ORDERS, {"bookmarks": {"orders": {"replication_key_value": "2024-02-01"}}})
    backend.set(StateKey("globex", "orders"), {"bookmarks": {}})

    reopened = SqlStateBackend(state_url)
    assert reopened.get(ORDERS) == {"bookmarks": {"orders": {"replication_key_value": "2024-02-01"}}}
    assert reopened.get(StateKey("globex", "orders")) == {"bookmarks": {}}
    assert reopened.keys() == [ORDERS, StateKey("globex", "orders")]

    reopened.clear(ORDERS)
    assert reopened.get(ORDERS) is None
    assert reopened.keys() == [StateKey("globex", "orders")]


def test_concurrent_writers_leave_one_whole_value(state_url: str) -> None:
    backends = [SqlStateBackend(state_url) for _ in range(4)]
    errors: list[BaseException] = []

    def write(writer: int) -> None:
        try:
            for step in range(25):
                backends[writer].set(ORDERS, {"writer": writer, "step": step, "pad": "x" * 1000})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(writer,)) for writer in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    final = backends[0].get(ORDERS)
    assert final["step"] == 24 and final["writer"] in range(4) and final["pad"] == "x" * 1000


def test_second_process_cannot_lock_until_the_first_releases(state_url: str) -> None:
    holder = LockHolder({"backend": "sql", "url": state_url}, "acme", "orders")
    backend = SqlStateBackend(state_url)
    with pytest.raises(StateLockedError, match="acme/orders .*locked by another run"):
        with backend.lock(ORDERS):
            pytest.fail("took a lock another process holds")
    with backend.lock(StateKey("acme", "customers")):  # other pipelines are not blocked
        pass
    assert holder.finish("release") == 0
    with backend.lock(ORDERS):
        backend.set(ORDERS, {"run": 2})
    assert backend.get(ORDERS) == {"run": 2}


def test_lock_timeout_waits_for_the_other_run(state_url: str) -> None:
    holder = LockHolder({"backend": "sql", "url": state_url}, "acme", "orders")
    threading.Timer(1.0, holder.finish, args=("release",)).start()
    started = time.monotonic()
    with SqlStateBackend(state_url, lock_timeout=20).lock(ORDERS):
        waited = time.monotonic() - started
    assert 0.8 < waited < 20


@pytest.mark.slow
def test_crashed_run_does_not_block_forever(state_url: str) -> None:
    holder = LockHolder({"backend": "sql", "url": state_url, "lock_ttl": 1.5}, "acme", "orders")
    assert holder.finish("crash") == 3
    started = time.monotonic()
    # PostgreSQL frees the advisory lock with the dead connection; a sqlite lease runs out.
    with SqlStateBackend(state_url, lock_timeout=10, lock_ttl=1.5).lock(ORDERS):
        assert time.monotonic() - started < 5


@pytest.mark.slow
def test_a_long_run_keeps_its_sqlite_lease_by_renewing(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    holder = LockHolder({"backend": "sql", "url": url, "lock_ttl": 0.9}, "acme", "orders")
    time.sleep(2.5)  # almost three times the lease's time to live
    with pytest.raises(StateLockedError):
        with SqlStateBackend(url, lock_ttl=0.9).lock(ORDERS):
            pass
    assert holder.finish("release") == 0


def test_errors_name_the_database_but_not_its_password() -> None:
    with pytest.raises(StateError) as caught:
        SqlStateBackend("postgresql://dativo:hunter2-secret@127.0.0.1:1/state")
    message = str(caught.value)
    assert "127.0.0.1:1/state" in message and "hunter2-secret" not in message


def test_unsupported_database_is_refused_with_the_choices() -> None:
    with pytest.raises(StateError, match="only sqlite and postgresql"):
        SqlStateBackend("mysql://root@127.0.0.1/state")


def test_a_run_whose_lease_was_taken_over_fails_at_the_end(
    tmp_path, caplog: pytest.LogCaptureFixture
) -> None:
    import sqlalchemy as sa

    from dativo_core.state.sql import lock_table

    backend = SqlStateBackend(f"sqlite:///{tmp_path / 'state.db'}", lock_ttl=0.6)
    with pytest.raises(StateLockedError, match="this run's lock expired and another run took it over"):
        with backend.lock(ORDERS):
            with backend.engine.begin() as connection:  # what a run taking over an expired lease does
                connection.execute(sa.update(lock_table).values(owner="other-host:pid 1:abcd"))
            _wait_for_log(caplog, "expired and was taken by another run")  # the next renewal saw it
    with backend.engine.connect() as connection:
        assert connection.execute(sa.select(lock_table.c.owner)).scalars().all() == ["other-host:pid 1:abcd"]


@pytest.mark.parametrize(("stored", "problem"), [("{not json", "is not valid JSON"), ("[1]", "holds a JSON list")])
def test_a_stored_value_that_is_not_a_json_object_is_named_with_what_to_do(
    state_url: str, stored: str, problem: str
) -> None:
    import sqlalchemy as sa

    from dativo_core.state.sql import state_table

    backend = SqlStateBackend(state_url)
    backend.set(ORDERS, {"bookmarks": {}})
    with backend.engine.begin() as connection:
        connection.execute(sa.update(state_table).values(value=stored))
    with pytest.raises(StateError) as caught:
        backend.get(ORDERS)
    message = str(caught.value)
    assert message.startswith(f"state of acme/orders in {backend} {problem}")
    assert message.endswith("; fix it, or clear it to start the pipeline from the beginning")


def _wait_for_log(caplog: pytest.LogCaptureFixture, text: str, timeout: float = 30.0) -> None:
    """Wait until a background thread has logged `text`, however loaded the machine is."""
    deadline = time.monotonic() + timeout
    while not any(text in record.getMessage() for record in caplog.records):
        assert time.monotonic() < deadline, f"nothing logged {text!r} within {timeout:g} s"
        time.sleep(0.05)
