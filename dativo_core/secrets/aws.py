"""Secrets in AWS Secrets Manager through boto3: tenant `acme`'s `db_password` is `<prefix>acme/db_password`.

Credentials and region come from boto3's usual chain. For isolation enforced by AWS, give each
tenant's jobs an IAM role that may only read `<prefix><tenant>/*`.
"""

from __future__ import annotations

from dativo_core.secrets.backend import SecretBackend, SecretError, SecretNotFoundError


class AwsSecretsManagerBackend(SecretBackend):
    kind = "aws"

    def __init__(
        self,
        prefix: str = "dativo/",
        region_name: str | None = None,
        endpoint_url: str | None = None,
        profile_name: str | None = None,
    ) -> None:
        import boto3

        self.prefix = prefix
        session = boto3.session.Session(profile_name=profile_name, region_name=region_name)
        self.client = session.client("secretsmanager", endpoint_url=endpoint_url)

    def describe(self, tenant: str, name: str) -> str:
        return f"AWS Secrets Manager secret {self.prefix}{tenant}/{name}"

    def _read(self, tenant: str, name: str) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self.client.get_secret_value(SecretId=f"{self.prefix}{tenant}/{name}")
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if code == "ResourceNotFoundException":
                raise SecretNotFoundError(
                    f"secret {name!r} of tenant {tenant!r} not found: create {self.describe(tenant, name)}"
                ) from None
            raise SecretError(f"cannot read {self.describe(tenant, name)}: AWS said {code}") from None
        except BotoCoreError as exc:
            raise SecretError(f"cannot read {self.describe(tenant, name)}: {type(exc).__name__}") from None
        if "SecretString" not in response:
            raise SecretError(f"{self.describe(tenant, name)} holds binary data; store the value as a string")
        return response["SecretString"]
