"""Offloaded step payloads in S3 (the ``PayloadStore`` of the agent-step function on AWS).

Keys are ``<prefix>/<owner>/<execution id>/<sha256>.json``; the bucket's lifecycle rule
expires them with the execution's data. boto3 is imported only when this is used.
"""

from __future__ import annotations

from typing import Any

from agentweaver.aws.s3_sandbox import default_client
from agentweaver.exceptions import StoreError

__all__ = ["S3Payloads"]


class S3Payloads:
    def __init__(self, bucket: str, prefix: str = "payloads", client: Any = None) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = default_client()
        return self._client

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=self._key(key),
                Body=data,
                ContentType="application/json",
            )
        except (BotoCoreError, ClientError) as exc:
            raise StoreError(f"could not offload payload {key!r}: {exc}") from None

    def get(self, key: str) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            body: bytes = self.client.get_object(Bucket=self.bucket, Key=self._key(key))[
                "Body"
            ].read()
        except (BotoCoreError, ClientError) as exc:
            raise StoreError(f"could not read payload {key!r}: {exc}") from None
        return body
