"""AwsSecretsManagerBackend through boto3 against moto in server mode."""

from __future__ import annotations

import boto3
import pytest

from dativo_core.secrets.aws import AwsSecretsManagerBackend
from dativo_core.secrets.backend import SecretError, SecretNotFoundError


@pytest.fixture
def aws(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client("secretsmanager", endpoint_url=moto_server, region_name="us-east-1")
    for name, kwargs in [
        ("dativo/acme/api_key", {"SecretString": "acme-aws-key"}),
        ("dativo/globex/api_key", {"SecretString": "globex-aws-key"}),
        ("dativo/acme/binary", {"SecretBinary": b"\x00\x01"}),
    ]:
        try:
            client.create_secret(Name=name, **kwargs)
        except client.exceptions.ResourceExistsException:
            pass
    return moto_server


def test_reads_each_tenants_secret_under_its_prefix(aws: str) -> None:
    backend = AwsSecretsManagerBackend(region_name="us-east-1", endpoint_url=aws)
    assert backend.get("acme", "api_key") == "acme-aws-key"
    assert backend.get("globex", "api_key") == "globex-aws-key"


def test_missing_and_binary_secrets_are_explained(aws: str) -> None:
    backend = AwsSecretsManagerBackend(region_name="us-east-1", endpoint_url=aws)
    with pytest.raises(SecretNotFoundError, match="create AWS Secrets Manager secret dativo/acme/db_password"):
        backend.get("acme", "db_password")
    with pytest.raises(SecretError, match="holds binary data"):
        backend.get("acme", "binary")


def test_another_tenants_secret_cannot_be_named(aws: str) -> None:
    backend = AwsSecretsManagerBackend(region_name="us-east-1", endpoint_url=aws)
    with pytest.raises(SecretError, match="secret name"):
        backend.get("acme", "../globex/api_key")
