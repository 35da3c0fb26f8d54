"""``DynamoDBStore`` on moto's in-process DynamoDB, for the store tests.

moto runs each request in the caller's thread and its update/conditional-put code is a plain
read-modify-write on Python objects, so two threads can interleave inside one request; real
DynamoDB applies each request atomically. ``serialized_requests`` restores that guarantee
(one request at a time, nothing more), so the concurrency tests check what the store does
across requests (a client-side read-then-write would still lose updates) and not moto's
thread safety.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

from moto import mock_aws
from moto.core.botocore_stubber import BotocoreStubber

from agentweaver.aws.dynamodb_store import DynamoDBStore

REGION = "us-east-1"
_FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}
_CLEARED = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB")


@contextmanager
def serialized_requests() -> Iterator[None]:
    lock = threading.Lock()
    real = BotocoreStubber.__call__

    def one_at_a_time(self: BotocoreStubber, *args: Any, **kwargs: Any) -> Any:
        with lock:
            return real(self, *args, **kwargs)

    with mock.patch.object(BotocoreStubber, "__call__", one_at_a_time):
        yield


@contextmanager
def fake_aws_env() -> Iterator[None]:
    with mock.patch.dict(os.environ, _FAKE_ENV):  # restores the whole environment on exit
        for name in _CLEARED:
            os.environ.pop(name, None)
        yield


@contextmanager
def moto_dynamodb_store(table_prefix: str = "aw-test") -> Iterator[DynamoDBStore]:
    """A store with fresh tables on moto, fake credentials, requests applied atomically."""
    with fake_aws_env(), mock_aws(), serialized_requests():
        store = DynamoDBStore(table_prefix=table_prefix, create_tables=True)
        try:
            yield store
        finally:
            store.close()
