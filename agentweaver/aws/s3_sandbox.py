"""The file tools' sandbox on AWS: an S3 prefix per tenant and execution.

Why S3 and not a Lambda's ``/tmp``: steps of one execution run in different Lambda
invocations, so files written by one agent must outlive the invocation. Keys are
``<prefix>/<tenant>/<execution id>/<relative path>``; the relative path goes through the
same ``split_path`` as the local backend, so a key can never leave that prefix (S3 itself
has no ``..`` or links: the only way out would be a path the validation lets through).
The tenant and execution id must be single plain names for the same reason.

Directories do not exist in S3; they are emulated as ``/``-delimited prefixes, and writes
refuse to put a file where a "directory" is (or below a "file") so both backends show the
same tree. boto3 is imported only when this backend is used.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from agentweaver.exceptions import ConfigurationError, ToolError
from agentweaver.tools.sandbox_paths import safe_segment, split_path

__all__ = ["S3Sandbox", "default_client"]

Listing = list[tuple[str, int | None]]  # same shape as agentweaver.tools.builtin.files

_CLIENT_ENV = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_REGION", "AWS_DEFAULT_REGION",
               "AWS_PROFILE", "AWS_ACCESS_KEY_ID")  # fmt: skip
_clients: dict[tuple[str, ...], Any] = {}
_clients_lock = threading.Lock()


def default_client() -> Any:
    """An S3 client for the current AWS settings, shared: building one costs ~0.1 s per call.

    boto3 clients are thread-safe once built (tools run in worker threads); building them on
    the shared default session is not, hence the lock. Keyed on the settings that choose the
    endpoint and account, so a changed ``AWS_ENDPOINT_URL`` (LocalStack) gets its own client.
    """
    key = tuple(os.environ.get(name, "") for name in _CLIENT_ENV)
    with _clients_lock:
        if key not in _clients:
            import boto3  # lazily: `import agentweaver` stays SDK-free

            _clients[key] = boto3.session.Session().client("s3")
        return _clients[key]


class S3Sandbox:
    """``read``/``write``/``listdir`` on ``s3://<bucket>/<prefix>/<tenant>/<execution id>/``."""

    def __init__(
        self, bucket: str, prefix: str, tenant: str, execution_id: str, client: Any = None
    ) -> None:
        if not bucket:
            raise ConfigurationError("the S3 file sandbox needs tool_settings.files.bucket")
        try:
            prefix_parts = split_path(prefix.strip("/"), allow_root=True)
        except ToolError as exc:
            raise ConfigurationError(f"tool_settings.files.prefix is not usable: {exc}") from None
        tenant = safe_segment(tenant, "tenant")
        execution_id = safe_segment(execution_id, "execution id")
        self.bucket = bucket
        self.base = "/".join((*prefix_parts, tenant, execution_id))
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = default_client()
        return self._client

    def key(self, parts: tuple[str, ...]) -> str:
        return "/".join((self.base, *parts))

    def _call(self, what: str, path: str, operation: str, **kwargs: Any) -> Any:
        """One S3 request; failures become messages without the bucket layout."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, operation)(Bucket=self.bucket, **kwargs)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", "error"))
            if code in ("NoSuchKey", "404", "NotFound"):
                raise FileNotFoundError(path) from None
            raise ToolError(f"S3 refused {what} {path!r}: {code}") from None
        except BotoCoreError as exc:
            raise ToolError(f"S3 unavailable while {what} {path!r}: {exc}") from None

    def _is_file(self, parts: tuple[str, ...], path: str) -> bool:
        try:
            self._call("checking", path, "head_object", Key=self.key(parts))
        except FileNotFoundError:
            return False
        return True

    def _is_dir(self, parts: tuple[str, ...], path: str) -> bool:
        prefix = f"{self.key(parts)}/"
        page = self._call("checking", path, "list_objects_v2", Prefix=prefix, MaxKeys=1)
        return bool(page.get("KeyCount") or page.get("Contents"))

    def read(self, path: str, limit: int) -> bytes:
        parts = split_path(path)
        try:
            response = self._call("reading", path, "get_object", Key=self.key(parts))
        except FileNotFoundError:
            if self._is_dir(parts, path):
                raise ToolError(f"{path!r} is a directory; use list_files on it") from None
            raise ToolError(
                f"{path!r} does not exist in the sandbox; list_files shows what does"
            ) from None
        body = response["Body"]
        try:
            size = int(response.get("ContentLength") or 0)
            if size > limit:
                raise ToolError(f"{path!r} is {size} bytes, over the {limit}-byte limit")
            data: bytes = body.read(limit + 1)
        finally:
            body.close()
        if len(data) > limit:
            raise ToolError(f"{path!r} is over the {limit}-byte limit")
        return data

    def write(self, path: str, data: bytes) -> None:
        parts = split_path(path)
        for depth in range(1, len(parts)):
            if self._is_file(parts[:depth], path):
                raise ToolError(f"a parent of {path!r} is a file, not a directory")
        if self._is_dir(parts, path):
            raise ToolError(f"{path!r} is a directory; choose another file name")
        self._call(
            "writing", path, "put_object", Key=self.key(parts), Body=data,
            ContentType="text/plain; charset=utf-8",
        )  # fmt: skip

    def listdir(self, path: str, limit: int) -> tuple[Listing, bool]:
        parts = split_path(path, allow_root=True)
        prefix = f"{self.key(parts)}/"
        found: Listing = []
        token: str | None = None
        while len(found) <= limit:
            extra = {"ContinuationToken": token} if token else {}
            page = self._call(
                "listing", path, "list_objects_v2", Prefix=prefix, Delimiter="/",
                MaxKeys=min(limit + 1, 1000), **extra,
            )  # fmt: skip
            for common in page.get("CommonPrefixes", []):
                found.append((common["Prefix"][len(prefix) :], None))
            for item in page.get("Contents", []):
                name = item["Key"][len(prefix) :]
                if name:  # "dir/" marker objects some tools create
                    found.append((name, int(item.get("Size", 0))))
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                break
        if not found and parts:
            if self._is_file(parts, path):
                raise ToolError(f"{path!r} is a file; use read_file on it")
            raise ToolError(f"{path!r} does not exist in the sandbox; list_files shows what does")
        found.sort()
        return found[:limit], len(found) > limit
