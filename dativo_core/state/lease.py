"""Run locks for stores that cannot tie a lock to a live connection (sqlite files, S3 objects).

A lease is a lock record with an owner and an expiry time. The run that holds it renews it from a
background thread every third of its time to live, so a long run keeps it, while a crashed run
stops renewing and its lease expires: the next run takes it over after at most `ttl` seconds.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Protocol

from dativo_core.state.backend import StateKey
from dativo_core.state.errors import StateLockedError

log = logging.getLogger(__name__)

_POLL_SECONDS = 0.2


class LeaseStore(Protocol):
    """The three atomic operations a store must offer to hold leases."""

    def try_acquire(self, key: StateKey, owner: str, ttl: float) -> str | None:
        """Take the lease if it is free or expired: None when taken, else who holds it."""

    def renew(self, key: StateKey, owner: str, ttl: float) -> bool:
        """Push the expiry `ttl` seconds ahead; False when `owner` no longer holds the lease."""

    def release(self, key: StateKey, owner: str) -> None:
        """Drop the lease if `owner` still holds it."""


def new_owner() -> str:
    """Names the holder in a way a user can trace: host, process id and a unique suffix."""
    return f"{socket.gethostname()}:pid {os.getpid()}:{uuid.uuid4().hex[:8]}"


class _Renewal(threading.Thread):
    def __init__(self, store: LeaseStore, key: StateKey, owner: str, ttl: float) -> None:
        super().__init__(name=f"lease-renewal {key}", daemon=True)
        self.store, self.key, self.owner, self.ttl = store, key, owner, ttl
        self.stopped = threading.Event()
        self.lost = False

    def run(self) -> None:
        while not self.stopped.wait(self.ttl / 3):
            try:
                if not self.store.renew(self.key, self.owner, self.ttl):
                    self.lost = True
                    log.error("the state lock of %s expired and was taken by another run", self.key)
                    return
            except Exception as exc:  # noqa: BLE001 - a failed renewal is retried until the lease runs out
                log.warning("could not renew the state lock of %s, retrying: %s", self.key, exc)


@contextlib.contextmanager
def hold_lease(store: LeaseStore, key: StateKey, ttl: float, timeout: float, where: str) -> Iterator[None]:
    """Hold the lease for the body; wait up to `timeout` seconds for a busy one, then fail."""
    owner = new_owner()
    deadline = time.monotonic() + timeout
    while (holder := store.try_acquire(key, owner, ttl)) is not None:
        if time.monotonic() >= deadline:
            waited = f" after waiting {timeout:g} s" if timeout else ""
            raise StateLockedError(
                f"state {key} in {where} is locked by another run ({holder}){waited}; wait for that "
                f"run to finish — if it crashed, its lock expires at most {ttl:g} s after its last renewal"
            )
        time.sleep(_POLL_SECONDS)
    renewal = _Renewal(store, key, owner, ttl)
    renewal.start()
    try:
        yield
    finally:
        renewal.stopped.set()
        renewal.join()
        store.release(key, owner)
    if renewal.lost:
        raise StateLockedError(
            f"state {key} in {where}: this run's lock expired and another run took it over while "
            "this one ran; check both runs' results, and use a longer lock ttl if renewals are slow"
        )
