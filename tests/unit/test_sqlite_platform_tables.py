"""SQLite-only details of the platform tables and the paths added for the API (the shared
behaviour is in ``tests/functional/test_store_contract.py``): several connections on one
file, the write-behind queue, and files written before these tables existed."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from agentweaver.exceptions import StoreError
from agentweaver.stores import ExecutionRecord, sqlite_keys
from agentweaver.stores.records import ApiKeyRecord
from agentweaver.stores.sqlite import SQLiteStore


def test_idempotency_claims_agree_across_connections(tmp_path: Path) -> None:
    """Two API workers on one file: the IMMEDIATE transaction makes the claim atomic."""
    stores = [SQLiteStore(tmp_path / "s.db") for _ in range(4)]
    later = time.time() + 3600
    barrier = threading.Barrier(4)
    rounds = 20
    winners = [[""] * 4 for _ in range(rounds)]

    def claim(i: int) -> None:
        for r in range(rounds):
            barrier.wait()  # every round, all four claim the same fresh key together
            winners[r][i] = stores[i].claim_idempotency_key("alice", f"k{r}", f"e{i}", later)

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for found in winners:
        assert len(set(found)) == 1, found
        assert found[0] in {"e0", "e1", "e2", "e3"}
    for s in stores:
        s.close()


def test_expired_claims_are_swept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_keys, "_PURGE_EVERY", 3)
    with SQLiteStore() as store:
        store.claim_idempotency_key("alice", "old", "e1", time.time() - 10)
        store.claim_idempotency_key("alice", "live", "e2", time.time() + 3600)
        store.claim_idempotency_key("alice", "third", "e3", time.time() + 3600)
        keys = {row[0] for row in store._conn.execute("SELECT key FROM idempotency")}
    assert keys == {"live", "third"}


def test_update_execution_answers_exactly_while_updates_wait_in_the_queue(
    tmp_path: Path,
) -> None:
    store = SQLiteStore(tmp_path / "s.db", flush_interval=60)
    store.create_execution(ExecutionRecord("alice", "x1", "wf", "WF"))
    assert store.update_execution("alice", "x1", status="running") is True
    assert store.update_execution("bob", "x1", status="running") is False
    assert store.update_execution("alice", "x2", status="running") is False
    assert len(store._pending) == 1  # only the real update was queued, still written behind
    got = store.get_execution("alice", "x1")
    assert got is not None
    assert got.status == "running"
    store.close()
    with pytest.raises(StoreError, match="is closed"):
        store.update_execution("alice", "x1", status="failed")


def test_a_file_from_before_the_platform_tables_gains_them(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    SQLiteStore(path).close()
    with sqlite3.connect(path) as conn:  # what a file written by the previous release holds
        for table in ("api_keys", "provider_keys", "idempotency"):
            conn.execute(f"DROP TABLE {table}")
        conn.execute("DROP INDEX executions_unfinished")
    with SQLiteStore(path) as store:
        store.save_api_key(ApiKeyRecord("alice", "k1", "h1", created_at=1.0))
        assert store.get_api_key("h1") is not None
        assert store.list_unfinished() == []


def test_list_unfinished_uses_its_partial_index() -> None:
    with SQLiteStore() as store:
        from agentweaver.stores.sqlite import _LIST_UNFINISHED

        plan = store._conn.execute(f"EXPLAIN QUERY PLAN {_LIST_UNFINISHED}", (10,)).fetchall()
    assert "executions_unfinished" in " ".join(str(row) for row in plan)
