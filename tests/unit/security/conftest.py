"""A store for the key tests: a tiny in-memory fake, and SQLiteStore once it has the methods.

The fake implements only what the security code calls, and counts calls so tests can show
that garbage never reaches the store and that ``last_used_at`` is written at most once a
minute.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from agentweaver.stores.records import ApiKeyRecord, ProviderKeyRecord


class FakeKeyStore:
    def __init__(self) -> None:
        self.api_keys: dict[str, ApiKeyRecord] = {}
        self.provider_keys: dict[tuple[str, str], ProviderKeyRecord] = {}
        self.calls: list[str] = []

    def save_api_key(self, record: ApiKeyRecord) -> None:
        self.calls.append("save_api_key")
        self.api_keys[record.key_hash] = replace(record)

    def get_api_key(self, key_hash: str) -> ApiKeyRecord | None:
        self.calls.append("get_api_key")
        found = self.api_keys.get(key_hash)
        return None if found is None else replace(found)

    def delete_api_key(self, owner: str, key_id: str) -> bool:
        for key_hash, rec in list(self.api_keys.items()):
            if rec.owner == owner and rec.key_id == key_id:
                del self.api_keys[key_hash]
                return True
        return False

    def touch_api_key(self, key_hash: str, when: float) -> None:
        self.calls.append("touch_api_key")
        if key_hash in self.api_keys:
            self.api_keys[key_hash].last_used_at = when

    def put_provider_key(self, record: ProviderKeyRecord) -> None:
        self.calls.append("put_provider_key")
        self.provider_keys[(record.owner, record.provider)] = replace(record)

    def get_provider_key(self, owner: str, provider: str) -> ProviderKeyRecord | None:
        self.calls.append("get_provider_key")
        found = self.provider_keys.get((owner, provider))
        return None if found is None else replace(found)


def sqlite_store() -> Any:
    from agentweaver.stores.sqlite import SQLiteStore

    needed = (
        "get_api_key",
        "save_api_key",
        "touch_api_key",
        "get_provider_key",
        "put_provider_key",
        "delete_api_key",
    )
    missing = [name for name in needed if not hasattr(SQLiteStore, name)]
    if missing:
        pytest.skip(f"SQLiteStore does not implement {', '.join(missing)} yet (issue 6)")
    return SQLiteStore(":memory:")


@pytest.fixture(params=["fake", "sqlite"])
def key_store(request: pytest.FixtureRequest) -> Iterator[Any]:
    """Every store-backed test runs on the fake and, when it is ready, on SQLiteStore."""
    if request.param == "fake":
        yield FakeKeyStore()
        return
    store = sqlite_store()
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def fake_key_store() -> FakeKeyStore:
    """The fake alone: for tests that count store calls or inject store behaviour."""
    return FakeKeyStore()
