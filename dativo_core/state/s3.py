"""State as JSON objects in an S3-compatible object store (AWS S3, SeaweedFS, MinIO, ...).

Layout under the prefix: `state/<tenant>/<pipeline>.json` holds the Singer state value (a PUT
replaces an object atomically, so readers see the old or the new state), and
`locks/<tenant>/<pipeline>.json` is the lease of the run that holds the lock (see `lease.py`).
Leases rely on conditional writes: `If-None-Match: *` creates the lock object only when it does not
exist, and `If-Match: <etag>` renews, takes over or deletes it only when nobody changed it since it
was read. Servers that ignore those headers cannot lock; pass `conditional_writes=False` for them,
and then make sure yourself that runs of one pipeline do not overlap.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from typing import Any

import orjson

from dativo_core.state.backend import StateBackend, StateKey, decode_state
from dativo_core.state.errors import StateError
from dativo_core.state.lease import hold_lease

log = logging.getLogger(__name__)


class S3StateBackend(StateBackend):
    """State of many pipelines under `s3://<bucket>/<prefix>/`.

    Credentials come from boto3's usual chain (environment, profile, instance role), never from
    job files. `lock_timeout`: seconds `lock()` waits for another run (0 fails at once);
    `lock_ttl`: how long a crashed run's lease blocks the pipeline.
    """

    def __init__(
        self,
        bucket: str,
        prefix: str = "dativo",
        endpoint_url: str | None = None,
        region_name: str | None = None,
        profile_name: str | None = None,
        lock_timeout: float = 0.0,
        lock_ttl: float = 60.0,
        conditional_writes: bool = True,
    ) -> None:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError

        self._client_errors = (BotoCoreError, ClientError)
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self._base = f"{self.prefix}/" if self.prefix else ""
        self.endpoint_url = endpoint_url
        self.lock_timeout = lock_timeout
        self.lock_ttl = lock_ttl
        self.conditional_writes = conditional_writes
        session = boto3.session.Session(profile_name=profile_name, region_name=region_name)
        self.client = session.client("s3", endpoint_url=endpoint_url)

    def __str__(self) -> str:
        where = f" at {self.endpoint_url}" if self.endpoint_url else ""
        return f"state store s3://{self.bucket}/{self.prefix}{where}"

    def _object(self, kind: str, key: StateKey) -> str:
        return f"{self._base}{kind}/{key.tenant}/{key.pipeline}.json"

    @contextlib.contextmanager
    def _storage(self, action: str) -> Iterator[None]:
        """Turn boto errors into a StateError naming the bucket and what to check."""
        try:
            yield
        except self._client_errors as exc:
            raise StateError(
                f"could not {action} in {self}: {exc}; check the bucket exists and the credentials "
                "(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE) may read and write it"
            ) from None

    def _read(self, object_key: str) -> tuple[bytes, str] | None:
        """The body and ETag of an object, or None when it does not exist."""
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=object_key)
        except self.client.exceptions.NoSuchKey:
            return None
        return response["Body"].read(), response["ETag"]

    def get(self, key: StateKey) -> dict[str, Any] | None:
        with self._storage(f"read the state of {key}"):
            found = self._read(self._object("state", key))
        if found is None:
            return None
        return decode_state(found[0], f"state of {key} in {self}")

    def set(self, key: StateKey, value: dict[str, Any]) -> None:
        with self._storage(f"write the state of {key}"):
            self.client.put_object(
                Bucket=self.bucket, Key=self._object("state", key), Body=orjson.dumps(value),
                ContentType="application/json",
            )

    def clear(self, key: StateKey) -> None:
        with self._storage(f"clear the state of {key}"):
            self.client.delete_object(Bucket=self.bucket, Key=self._object("state", key))

    def keys(self) -> list[StateKey]:
        base = f"{self._base}state/"
        found = []
        with self._storage("list the stored states"):
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=base):
                for item in page.get("Contents", []):
                    tenant, _, name = item["Key"].removeprefix(base).partition("/")
                    with contextlib.suppress(ValueError):
                        found.append(StateKey(tenant, name.removesuffix(".json")))
        return sorted(found, key=str)

    @contextlib.contextmanager
    def lock(self, key: StateKey) -> Iterator[None]:
        if not self.conditional_writes:
            log.warning("%s: conditional writes are off, so runs of %s are not locked", self, key)
            yield
            return
        with hold_lease(self, key, ttl=self.lock_ttl, timeout=self.lock_timeout, where=str(self)):
            yield

    # The lease operations (see lease.py), each one conditional request.

    def _put_lease(self, key: StateKey, owner: str, ttl: float, condition: dict[str, str]) -> bool:
        """Write the lease if `condition` holds; False when the server says it does not."""
        from botocore.exceptions import ClientError

        body = orjson.dumps({"owner": owner, "expires_at": time.time() + ttl})
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._object("locks", key), Body=body, **condition)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("PreconditionFailed", "ConditionalRequestConflict"):
                return False
            if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 501:
                raise StateError(
                    f"{self} does not support conditional writes (If-None-Match/If-Match), so it "
                    "cannot lock runs; set conditional_writes to false and keep runs from overlapping"
                ) from None
            raise
        return True

    def try_acquire(self, key: StateKey, owner: str, ttl: float) -> str | None:
        with self._storage(f"lock the state of {key}"):
            if self._put_lease(key, owner, ttl, {"IfNoneMatch": "*"}):
                return None
            found = self._read(self._object("locks", key))
            if found is None:
                return "a run that has just released it"
            lease, etag = orjson.loads(found[0]), found[1]
            remaining = lease["expires_at"] - time.time()
            if remaining < 0 and self._put_lease(key, owner, ttl, {"IfMatch": etag}):
                return None
        return f"{lease['owner']}, lease expires in {max(remaining, 0):.0f} s"

    def renew(self, key: StateKey, owner: str, ttl: float) -> bool:
        with self._storage(f"renew the lock of {key}"):
            found = self._read(self._object("locks", key))
            if found is None or orjson.loads(found[0])["owner"] != owner:
                return False
            return self._put_lease(key, owner, ttl, {"IfMatch": found[1]})

    def release(self, key: StateKey, owner: str) -> None:
        from botocore.exceptions import ClientError

        with self._storage(f"unlock the state of {key}"):
            found = self._read(self._object("locks", key))
            if found is None or orjson.loads(found[0])["owner"] != owner:
                return
            try:
                self.client.delete_object(Bucket=self.bucket, Key=self._object("locks", key), IfMatch=found[1])
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "PreconditionFailed":
                    raise
                # another run took the expired lease over meanwhile: it is theirs now
