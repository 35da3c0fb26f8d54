"""SQLiteStore specifics (files, write-behind, schema, concurrency); what every backend must
do is in tests/functional/test_store_contract.py, which runs on SQLite too."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

import pytest

from agentweaver.exceptions import StoreError
from agentweaver.stores import (
    ExecutionRecord,
    ExecutionStatus,
    StepRecord,
    WorkflowRecord,
)
from agentweaver.stores.sqlite import (
    SCHEMA_VERSION,
    SQLiteStore,
    default_store_path,
    open_default_store,
)

NESTED = {"a": [1, 2.5, {"b": None, "c": True}], "unicode": "héllo wörld ✓ 日本語 🚀", "n": -3}


@pytest.fixture
def store() -> Iterator[SQLiteStore]:
    with SQLiteStore() as s:
        yield s


def execution(owner: str = "alice", execution_id: str = "e1", **kw: object) -> ExecutionRecord:
    base: dict[str, object] = {"workflow_id": "wf", "workflow_name": "WF", "created_at": 100.0}
    base.update(kw)
    return ExecutionRecord(owner=owner, execution_id=execution_id, **base)  # type: ignore[arg-type]


def step(step_id: str = "s1", execution_id: str = "e1", **kw: object) -> StepRecord:
    base: dict[str, object] = {
        "node_id": "n1", "agent": "writer", "role": "Writer", "status": "running",
    }  # fmt: skip
    base.update(kw)
    return StepRecord(execution_id=execution_id, step_id=step_id, **base)  # type: ignore[arg-type]


# --- construction, schema, files ------------------------------------------------------------


def test_schema_version_is_recorded(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    SQLiteStore(path).close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 1
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_refuses_a_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(StoreError, match="schema version 99"):
        SQLiteStore(path)


def test_reopening_a_file_keeps_everything(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with SQLiteStore(path) as s:
        s.save_workflow(WorkflowRecord("alice", "wf", "WF", NESTED))
        s.create_execution(execution(input=NESTED))
        s.save_step(step(output=NESTED))
        s.append_log("e1", "INFO", "hello")
        s.add_usage("alice", "2024-05-01", {"executions": 1})
    with SQLiteStore(str(path)) as s:
        wf = s.get_workflow("alice", "wf")
        assert wf is not None
        assert wf.definition == NESTED
        ex = s.get_execution("alice", "e1")
        assert ex is not None
        assert ex.input == NESTED
        st = s.get_step("e1", "s1")
        assert st is not None
        assert st.output == NESTED
        assert [log.message for log in s.list_logs("e1")] == ["hello"]
        s.append_log("e1", "INFO", "again")
        assert [log.seq for log in s.list_logs("e1")] == [1, 2]
        assert s.get_usage("alice", "2024-05-01", "2024-05-01")[0].metrics == {"executions": 1}


def test_default_path_follows_agentweaver_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home" / "aw"
    monkeypatch.setenv("AGENTWEAVER_HOME", str(home))
    assert default_store_path() == home / "agentweaver.db"
    with open_default_store() as s:
        s.append_log("e", "INFO", "x")
    assert (home / "agentweaver.db").is_file()
    assert home.stat().st_mode & 0o777 == 0o700


def test_default_path_expands_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGENTWEAVER_HOME", raising=False)
    assert default_store_path() == Path("~/.agentweaver/agentweaver.db").expanduser()


def test_closed_store_raises_store_error() -> None:
    s = SQLiteStore()
    s.close()
    with pytest.raises(StoreError):
        s.get_execution("alice", "e1")


# --- workflows -------------------------------------------------------------------------------


def test_workflow_round_trip(store: SQLiteStore) -> None:
    record = WorkflowRecord(
        "alice", "wf", "Näme ✓", NESTED, "desc", 3, 10.0, 20.0, "arn:aws:states:x"
    )
    assert store.save_workflow(record) == record
    assert store.get_workflow("alice", "wf") == record


def test_save_workflow_fills_and_keeps_created_at(store: SQLiteStore) -> None:
    first = store.save_workflow(WorkflowRecord("alice", "wf", "v1", {"v": 1}))
    assert first.created_at > 0
    assert first.updated_at > 0
    second = store.save_workflow(WorkflowRecord("alice", "wf", "v2", {"v": 2}, version=2))
    assert second.created_at == first.created_at
    assert second.updated_at >= first.updated_at
    stored = store.get_workflow("alice", "wf")
    assert stored == second
    assert stored.name == "v2"
    assert stored.definition == {"v": 2}
    assert stored.version == 2
    third = store.save_workflow(WorkflowRecord("alice", "wf", "v3", {}, created_at=5.0))
    assert third.created_at == 5.0
    assert store.list_workflows("alice") == [third]


def test_list_workflows_newest_update_first(store: SQLiteStore) -> None:
    for wid, updated in (("a", 1.0), ("b", 3.0), ("c", 2.0)):
        store.save_workflow(WorkflowRecord("alice", wid, wid, {}, updated_at=updated))
    assert [w.workflow_id for w in store.list_workflows("alice")] == ["b", "c", "a"]


def test_workflows_are_owner_scoped(store: SQLiteStore) -> None:
    store.save_workflow(WorkflowRecord("alice", "wf", "A", {"who": "alice"}))
    assert store.get_workflow("bob", "wf") is None
    assert store.list_workflows("bob") == []
    assert store.delete_workflow("bob", "wf") is False
    assert store.get_workflow("alice", "wf") is not None
    # the same id under another owner is a separate workflow
    store.save_workflow(WorkflowRecord("bob", "wf", "B", {"who": "bob"}))
    alice, bob = store.get_workflow("alice", "wf"), store.get_workflow("bob", "wf")
    assert alice is not None
    assert alice.definition == {"who": "alice"}
    assert bob is not None
    assert bob.definition == {"who": "bob"}
    assert store.delete_workflow("alice", "wf") is True
    assert store.delete_workflow("alice", "wf") is False
    assert store.get_workflow("bob", "wf") is not None


# --- executions ------------------------------------------------------------------------------


def test_execution_none_cost_and_defaults_round_trip(store: SQLiteStore) -> None:
    record = execution(cost=None, input="plain string")
    store.create_execution(record)
    got = store.get_execution("alice", "e1")
    assert got == record
    assert got is not None
    assert got.cost is None
    assert got.output is None
    assert got.error is None


def test_create_execution_fills_zero_created_at(store: SQLiteStore) -> None:
    store.create_execution(execution(created_at=0.0))
    got = store.get_execution("alice", "e1")
    assert got is not None
    assert got.created_at > 1e9


def test_duplicate_execution_id_is_an_error(store: SQLiteStore) -> None:
    store.create_execution(execution())
    with pytest.raises(StoreError):
        store.create_execution(execution())
    with pytest.raises(StoreError):  # not even under another owner: steps key on the id alone
        store.create_execution(execution(owner="bob"))
    got = store.get_execution("alice", "e1")
    assert got is not None
    assert got.owner == "alice"


def test_update_execution(store: SQLiteStore) -> None:
    store.create_execution(execution())
    store.update_execution(
        "alice", "e1", status=ExecutionStatus.SUCCEEDED, output={"answer": "✓", "n": [1]},
        error=None, ended_at=9.0, input_tokens=5, output_tokens=6, cost=None, steps=2,
    )  # fmt: skip
    got = store.get_execution("alice", "e1")
    assert got is not None
    assert got.status == "succeeded"
    assert type(got.status) is str
    assert got.output == {"answer": "✓", "n": [1]}
    assert (got.ended_at, got.input_tokens, got.output_tokens, got.steps) == (9.0, 5, 6, 2)
    assert got.cost is None
    store.update_execution("alice", "e1", error={"type": "X", "message": "m"}, cost=0.5)
    got = store.get_execution("alice", "e1")
    assert got is not None
    assert got.error == {"type": "X", "message": "m"}
    assert got.cost == 0.5
    store.update_execution("alice", "e1")  # nothing to change is fine
    assert store.get_execution("alice", "e1") == got


@pytest.mark.parametrize("field", ["bogus", "Status", "status = 'x'; DROP TABLE executions; --"])
def test_update_execution_rejects_unknown_fields(store: SQLiteStore, field: str) -> None:
    store.create_execution(execution())
    with pytest.raises(StoreError, match=re.escape(repr(field))):
        store.update_execution("alice", "e1", status="failed", **{field: "x"})
    got = store.get_execution("alice", "e1")
    assert got is not None
    assert got.status == "queued"


def test_executions_are_owner_scoped(store: SQLiteStore) -> None:
    store.create_execution(execution())
    assert store.get_execution("bob", "e1") is None
    assert store.list_executions("bob") == []
    store.update_execution("bob", "e1", status="cancelled", output="stolen")
    got = store.get_execution("alice", "e1")
    assert got is not None
    assert got.status == "queued"
    assert got.output is None
    assert [e.execution_id for e in store.list_executions("alice")] == ["e1"]


def test_list_executions_newest_first_with_pagination(store: SQLiteStore) -> None:
    for i in range(10):
        store.create_execution(execution(execution_id=f"e{i}", created_at=float(i + 1)))
    store.create_execution(execution(execution_id="tie-b", created_at=6.0))
    ids = [e.execution_id for e in store.list_executions("alice", limit=100)]
    assert ids == ["e9", "e8", "e7", "e6", "tie-b", "e5", "e4", "e3", "e2", "e1", "e0"]
    page = store.list_executions("alice", limit=3)
    assert [e.execution_id for e in page] == ["e9", "e8", "e7"]
    page = store.list_executions("alice", limit=3, before=page[-1].created_at)
    assert [e.execution_id for e in page] == ["e6", "tie-b", "e5"]
    page = store.list_executions("alice", limit=3, before=page[-1].created_at)
    assert [e.execution_id for e in page] == ["e4", "e3", "e2"]
    assert [e.execution_id for e in store.list_executions("alice", before=2.0)] == ["e0"]
    assert store.list_executions("alice", before=1.0) == []


def test_list_executions_clamps_limit(store: SQLiteStore) -> None:
    for i in range(3):
        store.create_execution(execution(execution_id=f"e{i}", created_at=float(i + 1)))
    assert len(store.list_executions("alice", limit=0)) == 1
    assert len(store.list_executions("alice", limit=-5)) == 1
    assert len(store.list_executions("alice", limit=10**9)) == 3


def test_list_executions_filters(store: SQLiteStore) -> None:
    rows = [
        ("e1", "wf-a", "succeeded", 1.0), ("e2", "wf-a", "failed", 2.0),
        ("e3", "wf-b", "succeeded", 3.0), ("e4", "wf-b", "running", 4.0),
        ("e5", "wf-a", "succeeded", 5.0),
    ]  # fmt: skip
    for eid, wf, status, created in rows:
        store.create_execution(execution(execution_id=eid, workflow_id=wf, status=status,
                                         created_at=created))  # fmt: skip
    store.create_execution(execution("bob", "b1", workflow_id="wf-a", status="succeeded"))

    def ids(**kw: object) -> list[str]:
        return [e.execution_id for e in store.list_executions("alice", **kw)]  # type: ignore[arg-type]

    assert ids(workflow_id="wf-a") == ["e5", "e2", "e1"]
    assert ids(status="succeeded") == ["e5", "e3", "e1"]
    assert ids(status=ExecutionStatus.SUCCEEDED) == ["e5", "e3", "e1"]
    assert ids(workflow_id="wf-a", status="succeeded") == ["e5", "e1"]
    assert ids(workflow_id="wf-a", status="succeeded", before=5.0) == ["e1"]
    assert ids(workflow_id="wf-c") == []
    assert ids(status="timed_out") == []


# --- steps -----------------------------------------------------------------------------------


def test_step_round_trip_every_field(store: SQLiteStore) -> None:
    record = StepRecord(
        execution_id="e1", step_id="s1", node_id="n1", agent="wrïter", role="Writer ✍",
        status="failed", input={"prompt": "日本語", "nested": NESTED}, output="out ✓",
        attempts=3, input_tokens=100, output_tokens=200, cost=0.0042, model="anthropic:claude",
        started_at=10.0, ended_at=12.5, error={"type": "ModelTimeout", "message": "slow"},
        tool_calls=[{"name": "search", "arguments": {"q": "ü"}, "result": "r", "is_error": False,
                     "duration": 0.25}],
        seq=7,
    )  # fmt: skip
    assert all(getattr(record, f.name) != f.default for f in fields(record) if f.name != "cost")
    store.save_step(record)
    got = store.get_step("e1", "s1")
    assert got == record
    assert got is not None
    assert got.duration == 2.5
    assert got.total_tokens == 300


def test_step_none_cost_and_defaults_round_trip(store: SQLiteStore) -> None:
    record = step(cost=None)
    store.save_step(record)
    got = store.get_step("e1", "s1")
    assert got == record
    assert got is not None
    assert got.cost is None
    assert got.tool_calls == []
    assert got.error is None


def test_save_step_upserts_latest_attempt(store: SQLiteStore) -> None:
    store.save_step(step(attempts=1, error={"type": "ModelTimeout", "message": "slow"},
                         status="failed", cost=0.1))  # fmt: skip
    second = step(attempts=2, status="succeeded", output={"ok": True}, cost=None, ended_at=3.0)
    store.save_step(second)
    assert store.get_step("e1", "s1") == second
    assert store.list_steps("e1") == [second]


def test_save_step_stores_a_snapshot(store: SQLiteStore) -> None:
    record = step(input={"k": [1]})
    store.save_step(record)
    record.status = "succeeded"  # the runner keeps mutating its record after saving it
    record.input["k"].append(2)
    got = store.get_step("e1", "s1")
    assert got is not None
    assert got.status == "running"
    assert got.input == {"k": [1]}


def test_list_steps_ordered_by_seq_then_start(store: SQLiteStore) -> None:
    store.save_step(step("c", seq=2, started_at=1.0))
    store.save_step(step("b", seq=1, started_at=5.0))
    store.save_step(step("a", seq=1, started_at=9.0))
    store.save_step(step("z", execution_id="other", seq=0))
    assert [s.step_id for s in store.list_steps("e1")] == ["b", "a", "c"]
    assert [s.step_id for s in store.list_steps("other")] == ["z"]
    assert store.list_steps("missing") == []
    assert store.get_step("e1", "z") is None


def test_thousand_step_saves_on_a_file_db(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "s.db") as s:
        for i in range(1000):
            s.save_step(step(f"s{i % 100}", attempts=i // 100 + 1, seq=i % 100))
        steps = s.list_steps("e1")
    assert len(steps) == 100
    assert {x.attempts for x in steps} == {10}


# --- logs ------------------------------------------------------------------------------------


def test_log_round_trip_and_seq_per_execution(store: SQLiteStore) -> None:
    store.append_log("e1", "INFO", "started ✓")
    store.append_log("e2", "DEBUG", "other")
    store.append_log("e1", "ERROR", "failed 💥", agent_role="Writer", step_id="s1",
                     metadata={"type": "StepFailed", "nested": NESTED})  # fmt: skip
    store.append_log("e2", "INFO", "other 2")
    store.append_log("e1", "WARNING", "third", metadata={})
    logs = store.list_logs("e1")
    assert [(log.seq, log.level, log.message) for log in logs] == [
        (1, "INFO", "started ✓"), (2, "ERROR", "failed 💥"), (3, "WARNING", "third"),
    ]  # fmt: skip
    assert logs[0].metadata == {}
    assert logs[0].agent_role is None
    assert logs[0].step_id is None
    assert logs[1].metadata == {"type": "StepFailed", "nested": NESTED}
    assert (logs[1].agent_role, logs[1].step_id, logs[1].execution_id) == ("Writer", "s1", "e1")
    assert logs[0].time <= logs[1].time <= logs[2].time
    assert logs[0].time > 1e9
    assert [log.seq for log in store.list_logs("e2")] == [1, 2]


def test_list_logs_after_and_limit(store: SQLiteStore) -> None:
    for i in range(20):
        store.append_log("e1", "INFO", f"m{i}")
    assert [log.seq for log in store.list_logs("e1", after=15)] == [16, 17, 18, 19, 20]
    assert [log.seq for log in store.list_logs("e1", after=5, limit=3)] == [6, 7, 8]
    assert store.list_logs("e1", after=20) == []
    assert store.list_logs("nope") == []


def test_concurrent_log_appends_get_distinct_seqs(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    stores = [SQLiteStore(path) for _ in range(4)]
    shared = stores[0]

    def work(s: SQLiteStore, n: int) -> None:
        for i in range(n):
            s.append_log("e1", "INFO", f"{i}")

    threads = [threading.Thread(target=work, args=(s, 50)) for s in stores]
    threads += [threading.Thread(target=work, args=(shared, 50)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in stores:
        s.flush()  # other connections' writes are behind until they commit
    assert [log.seq for log in shared.list_logs("e1")] == list(range(1, 401))
    for s in stores:
        s.close()


# --- write-behind ------------------------------------------------------------------------------


def _logs_seen_by_another_connection(path: Path) -> int:
    with sqlite3.connect(path) as other:
        (count,) = other.execute("SELECT count(*) FROM logs").fetchone()
    return int(count)


def test_writes_are_read_back_at_once_by_the_same_store(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db", flush_interval=60)
    store.append_log("e1", "INFO", "queued")
    assert _logs_seen_by_another_connection(tmp_path / "s.db") == 0  # still queued
    assert [log.message for log in store.list_logs("e1")] == ["queued"]  # a read flushes
    assert _logs_seen_by_another_connection(tmp_path / "s.db") == 1
    store.close()


def test_queued_writes_commit_within_the_flush_interval(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db", flush_interval=0.05)
    store.append_log("e1", "INFO", "soon")
    deadline = time.monotonic() + 5
    while _logs_seen_by_another_connection(tmp_path / "s.db") == 0:
        assert time.monotonic() < deadline, "the timer never committed the queued write"
        time.sleep(0.01)
    store.close()


def test_close_commits_queued_writes(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db", flush_interval=60)
    store.add_usage("alice", "2024-05-01", {"executions": 1, "cost_usd": 0.5})
    store.close()
    reopened = SQLiteStore(tmp_path / "s.db")
    assert reopened.get_usage("alice", "2024-05-01", "2024-05-01")[0].metrics == {
        "executions": 1.0,
        "cost_usd": 0.5,
    }
    reopened.close()


def test_a_full_queue_commits_without_waiting(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db", flush_interval=60)
    for i in range(256):
        store.append_log("e1", "INFO", str(i))
    assert _logs_seen_by_another_connection(tmp_path / "s.db") == 256
    store.close()


# --- usage -----------------------------------------------------------------------------------


def test_usage_is_owner_scoped(store: SQLiteStore) -> None:
    store.add_usage("alice", "2024-05-01", {"executions": 1})
    store.add_usage("bob", "2024-05-01", {"executions": 5})
    assert store.get_usage("alice", "2024-05-01", "2024-05-01")[0].metrics == {"executions": 1}
    assert store.get_usage("bob", "2024-05-01", "2024-05-01")[0].metrics == {"executions": 5}
    assert store.get_usage("carol", "2024-01-01", "2024-12-31") == []


@pytest.mark.parametrize("separate_connections", [False, True])
def test_concurrent_usage_adds_are_exact(tmp_path: Path, separate_connections: bool) -> None:
    path = tmp_path / "usage.db"
    stores = [SQLiteStore(path) for _ in range(8 if separate_connections else 1)]
    barrier = threading.Barrier(8)

    def work(index: int) -> None:
        s = stores[index % len(stores)]
        barrier.wait()
        for _ in range(250):
            s.add_usage("alice", "2024-05-01", {"executions": 1, "cost_usd": 0.5})

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in stores:
        s.close()
    with SQLiteStore(path) as s:
        (usage,) = s.get_usage("alice", "2024-05-01", "2024-05-01")
    assert usage.metrics == {"executions": 2000.0, "cost_usd": 1000.0}


def test_a_locked_database_keeps_the_queued_batch(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db", flush_interval=60)
    store._conn.execute("PRAGMA busy_timeout = 50")
    store.append_log("e1", "INFO", "kept")
    blocker = sqlite3.connect(tmp_path / "s.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    with pytest.raises(StoreError, match="locked"):
        store.flush()
    blocker.execute("ROLLBACK")
    blocker.close()
    store.flush()
    assert _logs_seen_by_another_connection(tmp_path / "s.db") == 1
    store.close()


def test_one_bad_write_does_not_lose_the_others(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db", flush_interval=60)
    store.append_log("e1", "INFO", "first")
    store._pending.append(("INSERT INTO no_such_table VALUES (?)", (1,)))
    store.append_log("e1", "INFO", "second")
    assert [log.message for log in store.list_logs("e1")] == ["first", "second"]
    store.close()


def test_a_finished_execution_is_committed_at_once(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db", flush_interval=60)
    store.create_execution(ExecutionRecord("alice", "x1", "wf", "wf", status="running"))
    store.update_execution("alice", "x1", status="succeeded")
    with sqlite3.connect(tmp_path / "s.db") as other:
        (status,) = other.execute("SELECT status FROM executions").fetchone()
    assert status == "succeeded"
    store.close()


def test_a_closed_store_refuses_writes(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    store.close()
    with pytest.raises(StoreError, match="is closed"):
        store.append_log("e1", "INFO", "late")


def test_queued_writes_survive_an_unclosed_store(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    script = (
        "from agentweaver.stores.sqlite import SQLiteStore\n"
        f"store = SQLiteStore({str(path)!r}, flush_interval=60)\n"
        "store.append_log('e1', 'INFO', 'written before exit')\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)
    assert _logs_seen_by_another_connection(path) == 1
