"""Plumbing of ``SQLiteStore``: its lock, explicit transactions and the write-behind commit.

Kept apart from the store so the store module reads as the contract it implements, and so
the table groups that live in mixins (``sqlite_keys``) can share the same lock and
transactions without importing the store (which imports them).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from typing import Any

from agentweaver.exceptions import StoreError

__all__ = ["Guard", "Pending", "Transaction", "close_connection", "commit_pending"]

log = logging.getLogger("agentweaver.stores.sqlite")

Pending = list[tuple[str, tuple[Any, ...]]]


class Guard:
    """The store's lock for one call, turning sqlite3 errors into ``StoreError`` (a class, not
    ``@contextmanager``, because it runs on every call on the hot path)."""

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def __enter__(self) -> None:
        self._lock.acquire()

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        self._lock.release()
        if isinstance(exc, sqlite3.Error):
            raise StoreError(f"sqlite store: {exc}") from exc


class Transaction:
    """``BEGIN IMMEDIATE`` .. ``COMMIT`` for the few writes that must also read or write twice.

    IMMEDIATE takes the database's write lock before the first read, so a read-then-write
    (an optimistic-locking check, an idempotency claim) is atomic across processes too.
    """

    __slots__ = ("_conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __enter__(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        try:
            if exc is None:
                self._conn.execute("COMMIT")
        finally:
            if self._conn.in_transaction:  # the body failed, or COMMIT did
                self._conn.execute("ROLLBACK")


def commit_pending(conn: sqlite3.Connection, pending: Pending) -> None:
    """Commit ``pending`` in one transaction and empty it (in place: the finalizer holds it).

    A busy or locked database keeps the batch queued for the next try; any other failure
    commits the writes one by one, so one bad row cannot take the others with it.
    """
    if not pending:
        return
    batch = pending[:]
    try:
        with Transaction(conn):
            for sql, params in batch:
                conn.execute(sql, params)
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise  # transient: the batch stays queued
        _commit_one_by_one(conn, batch)
    except sqlite3.Error:
        _commit_one_by_one(conn, batch)
    del pending[: len(batch)]


def _commit_one_by_one(conn: sqlite3.Connection, batch: Pending) -> None:
    for sql, params in batch:
        try:
            conn.execute(sql, params)
        except sqlite3.Error as exc:
            log.error("sqlite store: dropped one queued write (%s): %s", sql.split()[0], exc)


def close_connection(conn: sqlite3.Connection, pending: Pending, guard: Guard) -> None:
    """Commit what is queued, then close (the store's finalizer: runs at most once)."""
    with guard:
        try:
            commit_pending(conn, pending)
        finally:
            conn.close()
