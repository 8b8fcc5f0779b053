"""S3StateBackend against a real SeaweedFS S3 gateway (tests/servers/seaweedfs.py)."""

from __future__ import annotations

import time
import uuid

import boto3
import pytest
from lock_holder import LockHolder

from dativo_core.state.backend import StateKey
from dativo_core.state.errors import StateError, StateLockedError
from dativo_core.state.s3 import S3StateBackend

ORDERS = StateKey("acme", "orders")


@pytest.fixture
def s3_spec(seaweedfs_s3: str, monkeypatch: pytest.MonkeyPatch) -> dict:
    """Backend arguments for a fresh bucket; credentials travel in the environment, as in production."""
    from tests.servers.seaweedfs import ACCESS_KEY, SECRET_KEY

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    bucket = f"state-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=seaweedfs_s3).create_bucket(Bucket=bucket)
    return {"bucket": bucket, "prefix": "dativo/prod", "endpoint_url": seaweedfs_s3}


def test_set_get_replace_clear_and_keys(s3_spec: dict) -> None:
    backend = S3StateBackend(**s3_spec)
    assert backend.get(ORDERS) is None and backend.keys() == []
    backend.set(ORDERS, {"bookmarks": {"orders": {"replication_key_value": 1}}})
    backend.set(ORDERS, {"bookmarks": {"orders": {"replication_key_value": 2}}})
    backend.set(StateKey("globex", "orders.v2"), {"bookmarks": {}})
    S3StateBackend(**{**s3_spec, "prefix": "dativo/staging"}).set(ORDERS, {"other": "prefix"})

    assert backend.get(ORDERS) == {"bookmarks": {"orders": {"replication_key_value": 2}}}
    assert backend.keys() == [ORDERS, StateKey("globex", "orders.v2")]
    stored = boto3.client("s3", endpoint_url=s3_spec["endpoint_url"]).get_object(
        Bucket=s3_spec["bucket"], Key="dativo/prod/state/acme/orders.json"
    )
    assert stored["Body"].read() == b'{"bookmarks":{"orders":{"replication_key_value":2}}}'

    backend.clear(ORDERS)
    assert backend.get(ORDERS) is None
    assert backend.keys() == [StateKey("globex", "orders.v2")]


def test_second_process_cannot_lock_until_the_first_releases(s3_spec: dict) -> None:
    holder = LockHolder({"backend": "s3", **s3_spec}, "acme", "orders")
    backend = S3StateBackend(**s3_spec)
    with pytest.raises(StateLockedError, match=r"acme/orders .*locked by another run \(.*pid"):
        with backend.lock(ORDERS):
            pytest.fail("took a lock another process holds")
    assert holder.finish("release") == 0
    with backend.lock(ORDERS):
        backend.set(ORDERS, {"run": 2})
    assert backend.get(ORDERS) == {"run": 2}
    assert "Contents" not in boto3.client("s3", endpoint_url=s3_spec["endpoint_url"]).list_objects_v2(
        Bucket=s3_spec["bucket"], Prefix="dativo/prod/locks/"
    )


@pytest.mark.slow
def test_crashed_run_lease_expires_and_a_live_one_is_renewed(s3_spec: dict) -> None:
    holder = LockHolder({"backend": "s3", **s3_spec, "lock_ttl": 1.2}, "acme", "orders")
    time.sleep(2.5)  # twice the time to live: only renewals keep it held
    with pytest.raises(StateLockedError):
        with S3StateBackend(**s3_spec).lock(ORDERS):
            pass
    assert holder.finish("crash") == 3
    started = time.monotonic()
    with S3StateBackend(**s3_spec, lock_timeout=10).lock(ORDERS):
        assert time.monotonic() - started < 5


def test_missing_bucket_error_names_the_bucket_and_what_to_check(s3_spec: dict) -> None:
    backend = S3StateBackend(**{**s3_spec, "bucket": "no-such-bucket-here"})
    with pytest.raises(StateError, match="s3://no-such-bucket-here/dativo/prod .*check the bucket exists"):
        backend.set(ORDERS, {"a": 1})


def test_a_stored_object_that_is_not_json_is_named_with_what_to_do(s3_spec: dict) -> None:
    backend = S3StateBackend(**s3_spec)
    boto3.client("s3", endpoint_url=s3_spec["endpoint_url"]).put_object(
        Bucket=s3_spec["bucket"], Key="dativo/prod/state/acme/orders.json", Body=b"{not json"
    )
    with pytest.raises(StateError) as caught:
        backend.get(ORDERS)
    message = str(caught.value)
    assert message.startswith(f"state of acme/orders in {backend} is not valid JSON (")
    assert message.endswith("; fix it, or clear it to start the pipeline from the beginning")
