"""Platform API keys: the secret's shape, what is stored (only a hash), and verification."""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import asdict, replace
from typing import Any

import pytest

from agentweaver.exceptions import StoreError
from agentweaver.security import Principal
from agentweaver.security.api_keys import (
    TOUCH_INTERVAL,
    hash_api_key,
    looks_like_api_key,
    new_api_key,
    verify_api_key,
)

NOW = 1_700_000_000.0


def settle(store: Any) -> None:
    """SQLiteStore writes behind: make pending writes visible before reading them back."""
    getattr(store, "flush", lambda: None)()


# -- shape -------------------------------------------------------------------------------


def test_secret_shape_and_record() -> None:
    secret, record = new_api_key("acme", "ci", ["workflows:run", "workflows:read"], now=NOW)
    assert re.fullmatch(r"aw_[0-9a-f]{12}_[A-Za-z0-9_-]{43}", secret)
    assert secret.split("_", 2)[1] == record.key_id
    assert record.owner == "acme"
    assert record.name == "ci"
    assert record.scopes == ["workflows:read", "workflows:run"]
    assert record.created_at == NOW
    assert record.last_used_at is None
    assert record.key_hash == hashlib.sha256(secret.encode()).hexdigest() == hash_api_key(secret)


def test_record_holds_no_part_of_the_random_secret() -> None:
    secret, record = new_api_key("acme", "ci", [])
    random_part = secret.split("_", 2)[2]
    assert record.prefix == secret[:12] == "aw_" + record.key_id[:9]
    for value in asdict(record).values():
        assert secret not in str(value)
        assert random_part[:8] not in str(value)


def test_keys_are_unique() -> None:
    made = [new_api_key("acme", "k", []) for _ in range(50)]
    assert len({s for s, _ in made}) == 50
    assert len({r.key_id for _, r in made}) == 50


def test_scopes_are_deduplicated() -> None:
    _, record = new_api_key("acme", "k", ("b", "a", "b"))
    assert record.scopes == ["a", "b"]


def test_owner_required() -> None:
    with pytest.raises(ValueError, match="owner"):
        new_api_key("", "k", [])


def test_looks_like_api_key() -> None:
    secret, _ = new_api_key("acme", "k", [])
    assert looks_like_api_key(secret)
    for text in [
        "",
        "aw_",
        secret + "x",
        secret[:-1],
        secret + "\n",
        " " + secret,
        secret.upper(),
        "aw_" + "g" * 12 + "_" + "a" * 43,
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln",
    ]:
        assert not looks_like_api_key(text), text


# -- verification ------------------------------------------------------------------------


def test_verify_valid_key(key_store: Any) -> None:
    secret, record = new_api_key("acme", "ci", ["workflows:run"], now=NOW)
    key_store.save_api_key(record)
    settle(key_store)
    principal = verify_api_key(key_store, secret, NOW + 5)
    assert principal == Principal(
        owner="acme", via="api_key", scopes=frozenset({"workflows:run"}), key_id=record.key_id
    )


def test_unknown_and_revoked_keys(key_store: Any) -> None:
    secret, record = new_api_key("acme", "ci", [], now=NOW)
    other, _ = new_api_key("acme", "never saved", [], now=NOW)
    key_store.save_api_key(record)
    settle(key_store)
    assert verify_api_key(key_store, other, NOW) is None
    assert verify_api_key(key_store, secret, NOW) is not None
    assert key_store.delete_api_key("acme", record.key_id)
    settle(key_store)
    assert verify_api_key(key_store, secret, NOW) is None


def test_near_misses_are_refused(key_store: Any) -> None:
    secret, record = new_api_key("acme", "ci", [], now=NOW)
    key_store.save_api_key(record)
    settle(key_store)
    last = secret[-1]
    flipped = secret[:-1] + ("A" if last != "A" else "B")
    swapped_id = "aw_" + "0" * 12 + secret[15:]
    for attempt in (flipped, swapped_id, secret.upper(), secret[:-1]):
        assert verify_api_key(key_store, attempt, NOW) is None


def test_garbage_never_reaches_the_store(fake_key_store: Any) -> None:
    for text in ("", "Bearer x", "aw_nope", "eyJhbGciOi.x.y", "a" * 10_000):
        assert verify_api_key(fake_key_store, text, NOW) is None
    assert verify_api_key(fake_key_store, None, NOW) is None  # type: ignore[arg-type]
    assert fake_key_store.calls == []


def test_hash_is_compared_again_after_lookup(fake_key_store: Any) -> None:
    """A backend with a looser lookup than byte equality cannot let another secret in."""
    secret, record = new_api_key("acme", "ci", [], now=NOW)
    intruder, _ = new_api_key("acme", "other", [], now=NOW)
    fake_key_store.get_api_key = lambda key_hash: replace(record)  # matches anything
    assert verify_api_key(fake_key_store, secret, NOW) is not None
    assert verify_api_key(fake_key_store, intruder, NOW) is None


def test_key_id_in_secret_must_match_record(fake_key_store: Any) -> None:
    secret, record = new_api_key("acme", "ci", [], now=NOW)
    fake_key_store.save_api_key(replace(record, key_id="0" * 12))
    assert verify_api_key(fake_key_store, secret, NOW) is None


def test_last_used_written_at_most_once_a_minute(fake_key_store: Any) -> None:
    secret, record = new_api_key("acme", "ci", [], now=NOW)
    fake_key_store.save_api_key(record)
    touches = lambda: fake_key_store.calls.count("touch_api_key")  # noqa: E731
    verify_api_key(fake_key_store, secret, NOW)
    assert touches() == 1
    assert fake_key_store.api_keys[record.key_hash].last_used_at == NOW
    verify_api_key(fake_key_store, secret, NOW + 1)
    verify_api_key(fake_key_store, secret, NOW + TOUCH_INTERVAL - 0.5)
    assert touches() == 1
    verify_api_key(fake_key_store, secret, NOW + TOUCH_INTERVAL)
    assert touches() == 2
    assert fake_key_store.api_keys[record.key_hash].last_used_at == NOW + TOUCH_INTERVAL


def test_last_used_is_recorded_by_the_store(key_store: Any) -> None:
    secret, record = new_api_key("acme", "ci", [], now=NOW)
    key_store.save_api_key(record)
    settle(key_store)
    verify_api_key(key_store, secret, NOW + 10)
    settle(key_store)
    stored = key_store.get_api_key(record.key_hash)
    assert stored is not None
    assert stored.last_used_at == NOW + 10


def test_failed_touch_does_not_fail_authentication(
    fake_key_store: Any, caplog: pytest.LogCaptureFixture
) -> None:
    secret, record = new_api_key("acme", "ci", [], now=NOW)
    fake_key_store.save_api_key(record)

    def broken(key_hash: str, when: float) -> None:
        raise StoreError(f"write failed for {key_hash}")

    fake_key_store.touch_api_key = broken
    with caplog.at_level(logging.DEBUG):
        principal = verify_api_key(fake_key_store, secret, NOW)
    assert principal is not None
    assert principal.owner == "acme"
    assert record.key_id in caplog.text
    assert secret not in caplog.text
    assert record.key_hash not in caplog.text


def test_principal_is_immutable() -> None:
    principal = Principal(owner="acme", via="api_key", scopes=frozenset({"a"}), key_id="k")
    with pytest.raises(AttributeError):
        principal.owner = "globex"  # type: ignore[misc]
    assert Principal(owner="me", via="local").scopes == frozenset()
