"""State in a SQL database through SQLAlchemy: sqlite files and PostgreSQL.

Two tables, created on first use: `dativo_state` (one row per tenant and pipeline, replaced by an
atomic upsert) and, for sqlite, `dativo_state_locks` (leases, see `lease.py`). PostgreSQL locks
with a session advisory lock held on a connection of its own for the whole run, so the server
drops it the moment a crashed run's connection goes away.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Iterator
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from dativo_core.state.backend import StateBackend, StateKey, decode_state
from dativo_core.state.errors import StateError, StateLockedError
from dativo_core.state.lease import hold_lease

_metadata = sa.MetaData()

state_table = sa.Table(
    "dativo_state",
    _metadata,
    sa.Column("tenant", sa.String(255), primary_key=True),
    sa.Column("pipeline", sa.String(255), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)

lock_table = sa.Table(
    "dativo_state_locks",
    _metadata,
    sa.Column("tenant", sa.String(255), primary_key=True),
    sa.Column("pipeline", sa.String(255), primary_key=True),
    sa.Column("owner", sa.String(255), nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
)

_UPSERT_DIALECTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


class SqlStateBackend(StateBackend):
    """State rows keyed by tenant and pipeline in the database at `url` (a SQLAlchemy URL).

    `lock_timeout`: seconds `lock()` waits for another run of the pipeline (0 fails at once).
    `lock_ttl`: for sqlite, how long a crashed run's lease blocks the pipeline.
    """

    def __init__(self, url: str, lock_timeout: float = 0.0, lock_ttl: float = 60.0) -> None:
        self.url = sa.make_url(url)
        if self.url.get_backend_name() not in _UPSERT_DIALECTS:
            raise StateError(
                f"state database {self.url.render_as_string(hide_password=True)}: only sqlite and "
                "postgresql URLs are supported"
            )
        connect_args = {"timeout": 30} if self.url.get_backend_name() == "sqlite" else {}
        self.engine = sa.create_engine(self.url, connect_args=connect_args)
        self.lock_timeout = lock_timeout
        self.lock_ttl = lock_ttl
        with self._database("prepare the state tables"):
            _metadata.create_all(self.engine)

    def __str__(self) -> str:
        return f"state database {self.url.render_as_string(hide_password=True)}"

    @contextlib.contextmanager
    def _database(self, action: str) -> Iterator[None]:
        """Turn driver errors into a StateError naming the database (never its password)."""
        try:
            yield
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise StateError(f"could not {action} in {self}: {reason}") from None

    def get(self, key: StateKey) -> dict[str, Any] | None:
        query = sa.select(state_table.c.value).where(*_row(state_table, key))
        with self._database(f"read the state of {key}"), self.engine.connect() as connection:
            stored = connection.execute(query).scalar_one_or_none()
        if stored is None:
            return None
        return decode_state(stored, f"state of {key} in {self}")

    def set(self, key: StateKey, value: dict[str, Any]) -> None:
        row = {"tenant": key.tenant, "pipeline": key.pipeline, "value": orjson.dumps(value).decode(),
               "updated_at": time.time()}
        insert = _UPSERT_DIALECTS[self.url.get_backend_name()](state_table).values(**row)
        upsert = insert.on_conflict_do_update(
            index_elements=[state_table.c.tenant, state_table.c.pipeline],
            set_={"value": insert.excluded.value, "updated_at": insert.excluded.updated_at},
        )
        with self._database(f"write the state of {key}"), self.engine.begin() as connection:
            connection.execute(upsert)

    def clear(self, key: StateKey) -> None:
        with self._database(f"clear the state of {key}"), self.engine.begin() as connection:
            connection.execute(sa.delete(state_table).where(*_row(state_table, key)))

    def keys(self) -> list[StateKey]:
        query = sa.select(state_table.c.tenant, state_table.c.pipeline).order_by(
            state_table.c.tenant, state_table.c.pipeline
        )
        with self._database("list the stored states"), self.engine.connect() as connection:
            return [StateKey(tenant, pipeline) for tenant, pipeline in connection.execute(query)]

    @contextlib.contextmanager
    def lock(self, key: StateKey) -> Iterator[None]:
        if self.url.get_backend_name() == "postgresql":
            with self._advisory_lock(key):
                yield
        else:
            with hold_lease(self, key, ttl=self.lock_ttl, timeout=self.lock_timeout, where=str(self)):
                yield

    @contextlib.contextmanager
    def _advisory_lock(self, key: StateKey) -> Iterator[None]:
        lock_id = advisory_lock_id(key)
        deadline = time.monotonic() + self.lock_timeout
        with self._database(f"lock the state of {key}"):
            connection = self.engine.connect()
        try:
            with self._database(f"lock the state of {key}"):
                while not connection.execute(sa.select(sa.func.pg_try_advisory_lock(lock_id))).scalar():
                    connection.rollback()
                    if time.monotonic() >= deadline:
                        waited = f" after waiting {self.lock_timeout:g} s" if self.lock_timeout else ""
                        raise StateLockedError(
                            f"state {key} in {self} is locked by another run (PostgreSQL advisory lock "
                            f"{lock_id}){waited}; wait for that run to finish"
                        )
                    time.sleep(0.2)
                connection.commit()
            try:
                yield
            finally:
                with self._database(f"unlock the state of {key}"):
                    connection.execute(sa.select(sa.func.pg_advisory_unlock(lock_id)))
                    connection.commit()
        finally:
            connection.close()

    # The lease operations used for sqlite (see lease.py); each is one atomic transaction.

    def try_acquire(self, key: StateKey, owner: str, ttl: float) -> str | None:
        now = time.time()
        lease = {"owner": owner, "expires_at": now + ttl}
        with self._database(f"lock the state of {key}"):
            try:
                with self.engine.begin() as connection:
                    connection.execute(sa.insert(lock_table).values(tenant=key.tenant, pipeline=key.pipeline, **lease))
                return None
            except IntegrityError:
                pass
            with self.engine.begin() as connection:
                taken = connection.execute(
                    sa.update(lock_table).where(*_row(lock_table, key), lock_table.c.expires_at < now).values(**lease)
                ).rowcount
                if taken:
                    return None
                holder = connection.execute(
                    sa.select(lock_table.c.owner, lock_table.c.expires_at).where(*_row(lock_table, key))
                ).first()
        if holder is None:
            return "a run that has just released it"
        return f"{holder.owner}, lease expires in {max(holder.expires_at - now, 0):.0f} s"

    def renew(self, key: StateKey, owner: str, ttl: float) -> bool:
        with self._database(f"renew the lock of {key}"), self.engine.begin() as connection:
            return bool(
                connection.execute(
                    sa.update(lock_table)
                    .where(*_row(lock_table, key), lock_table.c.owner == owner)
                    .values(expires_at=time.time() + ttl)
                ).rowcount
            )

    def release(self, key: StateKey, owner: str) -> None:
        with self._database(f"unlock the state of {key}"), self.engine.begin() as connection:
            connection.execute(sa.delete(lock_table).where(*_row(lock_table, key), lock_table.c.owner == owner))


def advisory_lock_id(key: StateKey) -> int:
    """A stable signed 64-bit number for the key, as pg_advisory_lock takes."""
    digest = hashlib.blake2b(f"dativo-state:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _row(table: sa.Table, key: StateKey) -> tuple[sa.ColumnElement[bool], ...]:
    return table.c.tenant == key.tenant, table.c.pipeline == key.pipeline
