"""``SQLiteStore``'s platform tables: API keys, provider keys and idempotency claims.

A mixin so the store module stays about workflows and executions. None of these writes is
queued behind: they are rare (a key created, a request retried), and each caller needs its
outcome at once (a conflict, the winning claim). Because nothing here is ever queued, the
reads need no flush of the write-behind queue either.
"""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

from agentweaver.exceptions import StoreConflict
from agentweaver.stores.records import ApiKeyRecord, ProviderKeyRecord
from agentweaver.stores.sqlite_support import Guard, Transaction

__all__ = ["KEY_SCHEMA", "KeyTables"]

KEY_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS api_keys (
        key_hash TEXT NOT NULL PRIMARY KEY, owner TEXT NOT NULL, key_id TEXT NOT NULL,
        name TEXT NOT NULL, prefix TEXT NOT NULL, scopes TEXT NOT NULL,
        created_at REAL NOT NULL, last_used_at REAL)""",
    "CREATE INDEX IF NOT EXISTS api_keys_by_owner ON api_keys (owner, key_id)",
    """CREATE TABLE IF NOT EXISTS provider_keys (
        owner TEXT NOT NULL, provider TEXT NOT NULL, ciphertext TEXT NOT NULL,
        hint TEXT NOT NULL, updated_at REAL NOT NULL,
        PRIMARY KEY (owner, provider)) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS idempotency (
        owner TEXT NOT NULL, key TEXT NOT NULL, execution_id TEXT NOT NULL,
        expires_at REAL NOT NULL, PRIMARY KEY (owner, key)) WITHOUT ROWID""",
)

_API_KEY_COLS = "owner, key_id, key_hash, name, prefix, scopes, created_at, last_used_at"
# The upsert only replaces a key of the same owner: a hash that is another owner's (which a
# 256-bit secret makes impossible by accident) is refused rather than handed over.
_SAVE_API_KEY = f"""INSERT INTO api_keys ({_API_KEY_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (key_hash) DO UPDATE SET
        key_id = excluded.key_id, name = excluded.name, prefix = excluded.prefix,
        scopes = excluded.scopes, created_at = excluded.created_at,
        last_used_at = excluded.last_used_at
    WHERE api_keys.owner = excluded.owner"""
_GET_API_KEY = f"SELECT {_API_KEY_COLS} FROM api_keys WHERE key_hash = ?"
_LIST_API_KEYS = f"""SELECT {_API_KEY_COLS} FROM api_keys WHERE owner = ?
    ORDER BY created_at, key_id"""
_DELETE_API_KEY = "DELETE FROM api_keys WHERE owner = ? AND key_id = ?"
# last_used_at only moves forward: two servers touching the same key in either order agree.
_TOUCH_API_KEY = """UPDATE api_keys SET last_used_at = ?1
    WHERE key_hash = ?2 AND (last_used_at IS NULL OR last_used_at < ?1)"""

_PROVIDER_COLS = "owner, provider, ciphertext, hint, updated_at"
_PUT_PROVIDER_KEY = f"""INSERT INTO provider_keys ({_PROVIDER_COLS}) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (owner, provider) DO UPDATE SET ciphertext = excluded.ciphertext,
        hint = excluded.hint, updated_at = excluded.updated_at"""
_GET_PROVIDER_KEY = f"SELECT {_PROVIDER_COLS} FROM provider_keys WHERE owner = ? AND provider = ?"
_LIST_PROVIDER_KEYS = (
    f"SELECT {_PROVIDER_COLS} FROM provider_keys WHERE owner = ? ORDER BY provider"
)
_DELETE_PROVIDER_KEY = "DELETE FROM provider_keys WHERE owner = ? AND provider = ?"

_GET_CLAIM = "SELECT execution_id, expires_at FROM idempotency WHERE owner = ? AND key = ?"
_PUT_CLAIM = """INSERT OR REPLACE INTO idempotency (owner, key, execution_id, expires_at)
    VALUES (?, ?, ?, ?)"""
_PURGE_CLAIMS = "DELETE FROM idempotency WHERE expires_at <= ?"
_RELEASE_CLAIM = "DELETE FROM idempotency WHERE owner = ? AND key = ? AND execution_id = ?"
_PURGE_EVERY = 1000  # claims: expired rows are swept now and then, not on every claim


def _api_key(r: tuple[Any, ...]) -> ApiKeyRecord:
    return ApiKeyRecord(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), r[6], r[7])


class KeyTables:
    """Mixed into ``SQLiteStore``, which provides the connection and its lock."""

    _conn: sqlite3.Connection
    _guard: Guard
    _claims: int = 0

    # platform API keys

    def save_api_key(self, record: ApiKeyRecord) -> None:
        """Insert or replace by ``key_hash``; a hash held by another owner is a conflict."""
        r = record
        params = (
            r.owner, r.key_id, r.key_hash, r.name, r.prefix, json.dumps(list(r.scopes)),
            r.created_at or time.time(), r.last_used_at,
        )  # fmt: skip
        with self._guard:
            if self._conn.execute(_SAVE_API_KEY, params).rowcount == 0:
                raise StoreConflict("this API key hash already belongs to another owner")

    def get_api_key(self, key_hash: str) -> ApiKeyRecord | None:
        with self._guard:
            row = self._conn.execute(_GET_API_KEY, (key_hash,)).fetchone()
        return None if row is None else _api_key(row)

    def list_api_keys(self, owner: str) -> list[ApiKeyRecord]:
        """Oldest first."""
        with self._guard:
            rows = self._conn.execute(_LIST_API_KEYS, (owner,)).fetchall()
        return [_api_key(r) for r in rows]

    def delete_api_key(self, owner: str, key_id: str) -> bool:
        with self._guard:
            return self._conn.execute(_DELETE_API_KEY, (owner, key_id)).rowcount > 0

    def touch_api_key(self, key_hash: str, when: float) -> None:
        """Record a use; an unknown hash is ignored, and an older ``when`` changes nothing."""
        with self._guard:
            self._conn.execute(_TOUCH_API_KEY, (when, key_hash))

    # provider keys

    def put_provider_key(self, record: ProviderKeyRecord) -> None:
        r = record
        params = (r.owner, r.provider, r.ciphertext, r.hint, r.updated_at or time.time())
        with self._guard:
            self._conn.execute(_PUT_PROVIDER_KEY, params)

    def get_provider_key(self, owner: str, provider: str) -> ProviderKeyRecord | None:
        with self._guard:
            row = self._conn.execute(_GET_PROVIDER_KEY, (owner, provider)).fetchone()
        return None if row is None else ProviderKeyRecord(*row)

    def list_provider_keys(self, owner: str) -> list[ProviderKeyRecord]:
        """Sorted by provider."""
        with self._guard:
            rows = self._conn.execute(_LIST_PROVIDER_KEYS, (owner,)).fetchall()
        return [ProviderKeyRecord(*r) for r in rows]

    def delete_provider_key(self, owner: str, provider: str) -> bool:
        with self._guard:
            return self._conn.execute(_DELETE_PROVIDER_KEY, (owner, provider)).rowcount > 0

    # idempotency

    def claim_idempotency_key(
        self, owner: str, key: str, execution_id: str, expires_at: float
    ) -> str:
        """``execution_id`` if this call claimed ``(owner, key)``, else the live claim's id.

        Read and write happen in one IMMEDIATE transaction under the store's lock, so the
        first claim wins against other threads and other processes alike; a claim whose
        ``expires_at`` has passed is taken over.
        """
        now = time.time()
        with self._guard, Transaction(self._conn):
            row = self._conn.execute(_GET_CLAIM, (owner, key)).fetchone()
            if row is not None and row[1] > now:
                return str(row[0])
            self._conn.execute(_PUT_CLAIM, (owner, key, execution_id, expires_at))
            self._claims += 1
            if self._claims % _PURGE_EVERY == 0:
                self._conn.execute(_PURGE_CLAIMS, (now,))
            return execution_id

    def release_idempotency_key(self, owner: str, key: str, execution_id: str) -> bool:
        with self._guard, Transaction(self._conn):
            return self._conn.execute(_RELEASE_CLAIM, (owner, key, execution_id)).rowcount > 0
