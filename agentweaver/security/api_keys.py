"""Platform API keys: ``aw_<key id>_<secret>``, stored only as a SHA-256.

Why this shape:

* The store keeps ``sha256(secret)`` and looks the key up by it, so a leaked table (or a
  backup, or a log of store queries) gives nothing that authenticates. A plain hash, not a
  password hash: the secret has 256 random bits, so there is nothing to brute-force and the
  lookup must stay one cheap indexed read per request.
* ``key_id`` is public and embedded in the secret so a user can tell keys apart and revoke
  one by id; ``prefix`` (the first 12 characters: ``aw_`` plus 9 of the 12 key-id
  characters) is what a UI shows to recognise a key, and contains none of the random part.
* The fixed ``aw_`` marker lets the API tell a key from a JWT without trying both, and lets
  secret scanners (GitHub push protection, trufflehog) find leaked keys.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import time
from collections.abc import Iterable

from agentweaver.exceptions import StoreError
from agentweaver.security.principal import Principal
from agentweaver.stores.base import Store
from agentweaver.stores.records import ApiKeyRecord

__all__ = [
    "API_KEY_PREFIX",
    "TOUCH_INTERVAL",
    "hash_api_key",
    "looks_like_api_key",
    "new_api_key",
    "verify_api_key",
]

log = logging.getLogger("agentweaver.security")

API_KEY_PREFIX = "aw_"
PREFIX_CHARS = 12
TOUCH_INTERVAL = 60.0  # seconds: last_used_at is a hint, not an audit log; spare the store
_KEY_ID_BYTES = 6  # 12 hex characters: unique enough per owner, short enough to read out
_SECRET_BYTES = 32
_SHAPE = re.compile(r"aw_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")


def new_api_key(
    owner: str, name: str, scopes: Iterable[str], *, now: float | None = None
) -> tuple[str, ApiKeyRecord]:
    """A fresh key: the secret (show it once, never store it) and the record to save.

    The caller saves the record (``store.save_api_key``); nothing here touches the store, so
    creating a key and persisting it stay one decision of the API layer.
    """
    if not owner:
        raise ValueError("an API key needs an owner")
    key_id = secrets.token_hex(_KEY_ID_BYTES)
    secret = f"{API_KEY_PREFIX}{key_id}_{secrets.token_urlsafe(_SECRET_BYTES)}"
    record = ApiKeyRecord(
        owner=owner,
        key_id=key_id,
        key_hash=hash_api_key(secret),
        name=name,
        prefix=secret[:PREFIX_CHARS],
        scopes=sorted(set(scopes)),
        created_at=time.time() if now is None else now,
    )
    return secret, record


def hash_api_key(secret: str) -> str:
    """The hex SHA-256 the store indexes keys by."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def looks_like_api_key(text: str) -> bool:
    """Whether ``text`` has the shape of an AgentWeaver key (not whether it is valid).

    Lets the API route a bearer credential to the key path or the JWT path, and refuse
    garbage without a store read.
    """
    return _SHAPE.fullmatch(text) is not None


def verify_api_key(store: Store, secret: str, now: float) -> Principal | None:
    """The principal ``secret`` authenticates, or ``None`` for anything else.

    ``None`` (not an exception) because an unknown key is the expected answer to a bad
    credential and the caller answers 401 either way. The hash comparison is repeated in
    constant time after the lookup so a backend whose lookup is looser than byte equality
    (a case-insensitive index, a prefix scan) cannot let a near-miss through, and the key id
    in the secret must match the record's. ``last_used_at`` is written at most once per
    ``TOUCH_INTERVAL`` so a busy key costs one read per request, not a read and a write.
    """
    match = _SHAPE.fullmatch(secret) if isinstance(secret, str) else None
    if match is None:
        return None
    presented = hash_api_key(secret)
    record = store.get_api_key(presented)
    if record is None:
        return None
    same_hash = hmac.compare_digest(record.key_hash.encode(), presented.encode())
    same_id = hmac.compare_digest(record.key_id.encode(), match.group(1).encode())
    if not (same_hash and same_id):
        return None
    if record.last_used_at is None or now - record.last_used_at >= TOUCH_INTERVAL:
        try:
            store.touch_api_key(presented, now)
        except StoreError as exc:  # bookkeeping only: never fail a valid request over it
            log.warning("could not record use of API key %s: %s", record.key_id, type(exc).__name__)
    return Principal(
        owner=record.owner, via="api_key", scopes=frozenset(record.scopes), key_id=record.key_id
    )
