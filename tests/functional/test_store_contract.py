"""The ``Store`` contract, one suite run against every backend (SQLite, DynamoDB on moto).

Each test states a behaviour the API and the runtime rely on; a backend passes only if it
behaves the same. Tenant isolation is checked everywhere an ``owner`` is taken: another
owner's ids must behave exactly as missing ones. Backend-only details live in
``tests/unit/test_sqlite_store.py`` and ``test_dynamodb_store.py``.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest

from agentweaver.exceptions import InvalidData, StoreConflict, StoreError
from agentweaver.stores import ExecutionRecord, ExecutionStatus, StepRecord, Store, WorkflowRecord
from agentweaver.stores.encoding import encode_cursor
from agentweaver.stores.records import ApiKeyRecord, ProviderKeyRecord
from agentweaver.stores.sqlite import SQLiteStore

NESTED = {"a": [1, 2.5, {"b": None, "c": True}], "unicode": "héllo wörld ✓ 日本語 🚀", "n": -3}
T = TypeVar("T")


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        with SQLiteStore(tmp_path / "contract.db") as s:
            yield s
        return
    pytest.importorskip("moto")
    pytest.importorskip("pynamodb")
    from support.moto_dynamodb import moto_dynamodb_store

    with moto_dynamodb_store() as d:
        yield d


def execution(owner: str = "alice", execution_id: str = "e1", **kw: Any) -> ExecutionRecord:
    base: dict[str, Any] = {"workflow_id": "wf", "workflow_name": "WF", "created_at": 100.0}
    base.update(kw)
    return ExecutionRecord(owner=owner, execution_id=execution_id, **base)


def step(step_id: str = "s1", execution_id: str = "e1", **kw: Any) -> StepRecord:
    base: dict[str, Any] = {
        "node_id": "n1",
        "agent": "writer",
        "role": "Writer",
        "status": "running",
    }
    base.update(kw)
    return StepRecord(execution_id=execution_id, step_id=step_id, **base)


def api_key(
    owner: str = "alice", key_id: str = "k1", key_hash: str = "h1", **kw: Any
) -> ApiKeyRecord:
    base: dict[str, Any] = {"name": "ci", "prefix": "aw_k1", "scopes": ["read"], "created_at": 10.0}
    base.update(kw)
    return ApiKeyRecord(owner=owner, key_id=key_id, key_hash=key_hash, **base)


def in_threads(n: int, work: Callable[[int], T]) -> list[T]:
    """Run ``work(i)`` on ``n`` threads released together; re-raise the first failure."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except BaseException as exc:  # reported on the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def test_satisfies_store_protocol(store: Store) -> None:
    assert isinstance(store, Store)


# --- workflows -------------------------------------------------------------------------------


def test_workflow_round_trip(store: Store) -> None:
    record = WorkflowRecord("alice", "wf", "Näme ✓", NESTED, "desc", 3, 10.0, 20.0, "arn:aws:x")
    assert store.save_workflow(record) == record
    assert store.get_workflow("alice", "wf") == record
    assert store.get_workflow("alice", "missing") is None


def test_save_workflow_fills_and_keeps_created_at(store: Store) -> None:
    first = store.save_workflow(WorkflowRecord("alice", "wf", "v1", {"v": 1}))
    assert first.created_at > 1e9
    assert first.updated_at > 1e9
    second = store.save_workflow(WorkflowRecord("alice", "wf", "v2", {"v": 2}, version=2))
    assert second.created_at == first.created_at
    assert store.get_workflow("alice", "wf") == second
    third = store.save_workflow(WorkflowRecord("alice", "wf", "v3", {}, created_at=5.0))
    assert third.created_at == 5.0
    assert store.list_workflows("alice") == [third]


def test_list_workflows_newest_update_first(store: Store) -> None:
    for wid, updated in (("a", 1.0), ("b", 3.0), ("c", 2.0), ("d", 3.0)):
        store.save_workflow(WorkflowRecord("alice", wid, wid, {}, updated_at=updated))
    assert [w.workflow_id for w in store.list_workflows("alice")] == ["b", "d", "c", "a"]


def test_optimistic_locking(store: Store) -> None:
    v1 = store.save_workflow(WorkflowRecord("alice", "wf", "v1", {"v": 1}), expected_version=0)
    with pytest.raises(StoreConflict, match="already exists"):
        store.save_workflow(WorkflowRecord("alice", "wf", "again", {}), expected_version=0)
    v2 = store.save_workflow(replace(v1, name="v2", version=2), expected_version=1)
    # a second writer that also read version 1 loses, and changes nothing
    with pytest.raises(StoreConflict, match="version 2, not 1"):
        store.save_workflow(replace(v1, name="lost", version=2), expected_version=1)
    assert store.get_workflow("alice", "wf") == v2
    with pytest.raises(StoreConflict, match="does not exist"):
        store.save_workflow(WorkflowRecord("alice", "new", "n", {}, version=6), expected_version=5)
    assert store.get_workflow("alice", "new") is None
    assert issubclass(StoreConflict, StoreError)


def test_concurrent_saves_with_the_same_expected_version_one_wins(store: Store) -> None:
    base = store.save_workflow(WorkflowRecord("alice", "wf", "v1", {}), expected_version=0)

    def save(i: int) -> bool:
        try:
            store.save_workflow(replace(base, name=f"w{i}", version=2), expected_version=1)
        except StoreConflict:
            return False
        return True

    assert sum(in_threads(6, save)) == 1
    stored = store.get_workflow("alice", "wf")
    assert stored is not None
    assert stored.version == 2


def test_delete_workflow(store: Store) -> None:
    store.save_workflow(WorkflowRecord("alice", "wf", "A", {}))
    assert store.delete_workflow("alice", "wf") is True
    assert store.delete_workflow("alice", "wf") is False
    assert store.get_workflow("alice", "wf") is None
    assert store.list_workflows("alice") == []


def test_workflows_are_tenant_isolated(store: Store) -> None:
    store.save_workflow(WorkflowRecord("alice", "wf", "A", {"who": "alice"}), expected_version=0)
    assert store.get_workflow("bob", "wf") is None
    assert store.list_workflows("bob") == []
    assert store.delete_workflow("bob", "wf") is False
    with pytest.raises(StoreConflict):  # alice's version 1 is not bob's
        store.save_workflow(WorkflowRecord("bob", "wf", "B", {}, version=2), expected_version=1)
    store.save_workflow(WorkflowRecord("bob", "wf", "B", {"who": "bob"}), expected_version=0)
    alice, bob = store.get_workflow("alice", "wf"), store.get_workflow("bob", "wf")
    assert alice is not None
    assert alice.definition == {"who": "alice"}
    assert bob is not None
    assert bob.definition == {"who": "bob"}
    assert store.delete_workflow("alice", "wf") is True
    assert store.get_workflow("bob", "wf") is not None


# --- executions ------------------------------------------------------------------------------


def test_execution_round_trip_every_field(store: Store) -> None:
    record = ExecutionRecord(
        owner="alice", execution_id="e1", workflow_id="wf", workflow_name="Wörkflow",
        status="running", input={"q": "日本語", "nested": NESTED}, output=[1, "two", None],
        error={"type": "StepFailed", "message": "💥"}, created_at=1.5, started_at=2.5,
        ended_at=3.5, input_tokens=11, output_tokens=22, cost=0.125, steps=4,
    )  # fmt: skip
    assert all(getattr(record, f.name) != f.default for f in fields(record))
    store.create_execution(record)
    assert store.get_execution("alice", "e1") == record
    assert store.get_execution("alice", "e2") is None


def test_execution_defaults_and_none_cost_round_trip(store: Store) -> None:
    record = execution(cost=None, input="plain string")
    store.create_execution(record)
    assert store.get_execution("alice", "e1") == record
    store.create_execution(execution(execution_id="e2", created_at=0.0))
    filled = store.get_execution("alice", "e2")
    assert filled is not None
    assert filled.created_at > 1e9
    assert (filled.output, filled.error, filled.cost, filled.started_at) == (None, None, 0.0, None)


def test_duplicate_execution_id_is_an_error(store: Store) -> None:
    store.create_execution(execution(input="first"))
    with pytest.raises(StoreError):
        store.create_execution(execution(input="second"))
    got = store.get_execution("alice", "e1")
    assert got is not None
    assert got.input == "first"


def test_update_execution(store: Store) -> None:
    store.create_execution(execution())
    assert store.update_execution(
        "alice", "e1", status=ExecutionStatus.SUCCEEDED, output={"answer": "✓", "n": [1]},
        error=None, ended_at=9.0, input_tokens=5, output_tokens=6, cost=None, steps=2,
    ) is True  # fmt: skip
    got = store.get_execution("alice", "e1")
    assert got is not None
    assert got.status == "succeeded"
    assert type(got.status) is str
    assert got.output == {"answer": "✓", "n": [1]}
    assert (got.ended_at, got.input_tokens, got.output_tokens, got.steps) == (9.0, 5, 6, 2)
    assert got.cost is None
    assert store.update_execution("alice", "e1", error={"type": "X", "message": "m"}, cost=0.5)
    got = store.get_execution("alice", "e1")
    assert got is not None
    assert (got.error, got.cost) == ({"type": "X", "message": "m"}, 0.5)
    assert store.update_execution("alice", "e1") is True  # nothing to change, but it exists
    assert store.get_execution("alice", "e1") == got


def test_update_execution_answers_false_for_a_missing_execution(store: Store) -> None:
    assert store.update_execution("alice", "nope", status="running") is False
    assert store.update_execution("alice", "nope") is False
    assert store.get_execution("alice", "nope") is None  # an update never creates


@pytest.mark.parametrize(
    "field", ["bogus", "Status", "created_key", "status = 'x'; DROP TABLE executions; --"]
)
def test_update_execution_rejects_unknown_fields(store: Store, field: str) -> None:
    store.create_execution(execution())
    with pytest.raises(StoreError, match="not an updatable field"):
        store.update_execution("alice", "e1", status="failed", **{field: "x"})
    got = store.get_execution("alice", "e1")
    assert got is not None
    assert (got.status, got.owner) == ("queued", "alice")


def test_executions_are_tenant_isolated(store: Store) -> None:
    store.create_execution(execution())
    assert store.get_execution("bob", "e1") is None
    assert store.update_execution("bob", "e1", status="cancelled", output="stolen") is False
    assert store.list_executions("bob") == []
    assert store.page_executions("bob") == ([], None)
    assert store.page_executions("bob", workflow_id="wf") == ([], None)
    assert store.page_executions("bob", status="queued") == ([], None)
    got = store.get_execution("alice", "e1")
    assert got is not None
    assert (got.status, got.output) == ("queued", None)


def _seed_pages(store: Store) -> None:
    rows = [
        ("alice", "e1", "wf-a", "succeeded", 1.0), ("alice", "e2", "wf-a", "failed", 2.0),
        ("alice", "e3", "wf-b", "succeeded", 3.0), ("alice", "e4", "wf-b", "running", 4.0),
        ("alice", "e5", "wf-a", "succeeded", 5.0), ("alice", "tie-a", "wf-a", "succeeded", 3.0),
        ("alice", "tie-b", "wf-b", "succeeded", 3.0),
        ("bob", "b1", "wf-a", "succeeded", 9.0), ("bob", "b2", "wf-b", "running", 0.5),
    ]  # fmt: skip
    for owner, eid, wf, status, created in rows:
        store.create_execution(execution(owner, eid, workflow_id=wf, status=status,
                                         created_at=created))  # fmt: skip


def _all_pages(store: Store, limit: int, **filters: Any) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor = None
    while True:
        items, cursor = store.page_executions("alice", limit=limit, cursor=cursor, **filters)
        pages.append([e.execution_id for e in items])
        assert all(e.owner == "alice" for e in items)
        if cursor is None:
            return pages
        assert len(pages) < 50, "the cursor never ends"


def test_page_executions_newest_first_with_id_tie_break(store: Store) -> None:
    _seed_pages(store)
    items, cursor = store.page_executions("alice", limit=100)
    assert [e.execution_id for e in items] == ["e5", "e4", "tie-b", "tie-a", "e3", "e2", "e1"]
    assert cursor is None
    assert store.list_executions("alice", limit=100) == items


@pytest.mark.parametrize("limit", [1, 2, 3, 6, 7])
def test_page_executions_cursor_yields_every_item_once(store: Store, limit: int) -> None:
    _seed_pages(store)
    pages = _all_pages(store, limit)
    flat = [eid for page in pages for eid in page]
    assert flat == ["e5", "e4", "tie-b", "tie-a", "e3", "e2", "e1"]
    assert all(len(page) == limit for page in pages[:-1])
    assert 0 < len(pages[-1]) <= limit  # no empty trailing page


def test_page_executions_filters(store: Store) -> None:
    _seed_pages(store)

    def ids(**filters: Any) -> list[str]:
        return [eid for page in _all_pages(store, 2, **filters) for eid in page]

    assert ids(workflow_id="wf-a") == ["e5", "tie-a", "e2", "e1"]
    assert ids(status="succeeded") == ["e5", "tie-b", "tie-a", "e3", "e1"]
    assert ids(status=ExecutionStatus.SUCCEEDED) == ["e5", "tie-b", "tie-a", "e3", "e1"]
    assert ids(workflow_id="wf-b", status="succeeded") == ["tie-b", "e3"]
    assert ids(workflow_id="wf-c") == []
    assert ids(status="timed_out") == []


def test_page_executions_cursor_is_stable_when_newer_items_arrive(store: Store) -> None:
    _seed_pages(store)
    first, cursor = store.page_executions("alice", limit=3)
    assert [e.execution_id for e in first] == ["e5", "e4", "tie-b"]
    store.create_execution(execution(execution_id="newest", created_at=50.0))
    assert cursor is not None
    rest, _ = store.page_executions("alice", limit=10, cursor=cursor)
    assert [e.execution_id for e in rest] == ["tie-a", "e3", "e2", "e1"]


def test_page_executions_clamps_limit(store: Store) -> None:
    _seed_pages(store)
    assert len(store.page_executions("alice", limit=0)[0]) == 1
    assert len(store.page_executions("alice", limit=-5)[0]) == 1
    assert len(store.page_executions("alice", limit=10**9)[0]) == 7


FORGED_CURSORS = [
    "", "not a cursor", "%%%", "eyJ4IjoxfQ", "bnVsbA", "WzEsMiwzXQ", "W10",
    "WyJ4MSIsIm5vdCBhIG51bWJlciIsImUxIl0",  # ["x1","not a number","e1"]
    "WyJ4MSIsdHJ1ZSwiZTEiXQ",  # ["x1",true,"e1"]
    "WyJ4MSIsMS4wLDJd",  # ["x1",1.0,2]
    "WyJ4MSIsTmFOLCJlMSJd",  # ["x1",NaN,"e1"]
    "WyJ4MiIsMS4wLCJlMSJd",  # an unknown version tag
    "WyJ4MSIsMS4wLCIiXQ",  # ["x1",1.0,""]
    "_-_-", "A" * 5000,
]  # fmt: skip


def test_a_forged_cursor_is_invalid_data(store: Store) -> None:
    _seed_pages(store)
    accepted, messages = [], set()
    for cursor in FORGED_CURSORS:
        try:
            store.page_executions("alice", cursor=cursor)
        except InvalidData as exc:
            messages.add(str(exc))
        else:
            accepted.append(cursor)
    assert accepted == []
    assert messages == {"invalid pagination cursor"}


def test_a_wellformed_cursor_cannot_reach_another_tenant(store: Store) -> None:
    _seed_pages(store)
    # bob's newest execution as a position: alice still sees only her own, older items
    items, _ = store.page_executions("alice", cursor=encode_cursor(9.5, "b1"))
    assert [e.execution_id for e in items] == ["e5", "e4", "tie-b", "tie-a", "e3", "e2", "e1"]


def test_list_executions_before_and_filters(store: Store) -> None:
    _seed_pages(store)

    def ids(**kw: Any) -> list[str]:
        return [e.execution_id for e in store.list_executions("alice", **kw)]

    assert ids(limit=3) == ["e5", "e4", "tie-b"]
    assert ids(before=3.0) == ["e2", "e1"]
    assert ids(before=3.5, limit=2) == ["tie-b", "tie-a"]
    assert ids(workflow_id="wf-a", status="succeeded", before=5.0) == ["tie-a", "e1"]
    assert ids(status="running") == ["e4"]
    assert ids(before=1.0) == []


def test_list_unfinished_spans_owners(store: Store) -> None:
    _seed_pages(store)
    store.create_execution(execution("carol", "c1", status="queued", created_at=7.0))
    found = store.list_unfinished()
    assert sorted((e.owner, e.execution_id) for e in found) == [
        ("alice", "e4"), ("bob", "b2"), ("carol", "c1"),
    ]  # fmt: skip
    assert all(e.status in ("queued", "running") for e in found)
    store.update_execution("alice", "e4", status="succeeded")
    assert sorted(e.execution_id for e in store.list_unfinished()) == ["b2", "c1"]
    assert len(store.list_unfinished(limit=1)) == 1


# --- steps -----------------------------------------------------------------------------------


def test_step_round_trip_every_field(store: Store) -> None:
    record = StepRecord(
        execution_id="e1", step_id="s1", node_id="n1", agent="wrïter", role="Writer ✍",
        status="failed", input={"prompt": "日本語", "nested": NESTED}, output="out ✓",
        attempts=3, input_tokens=100, output_tokens=200, cost=0.0042, model="anthropic:claude",
        started_at=10.0, ended_at=12.5, error={"type": "ModelTimeout", "message": "slow"},
        tool_calls=[{"name": "search", "arguments": {"q": "ü"}, "result": "r", "is_error": False,
                     "duration": 0.25}],
        seq=7,
    )  # fmt: skip
    store.save_step(record)
    assert store.get_step("e1", "s1") == record
    assert store.get_step("e1", "s2") is None


def test_step_defaults_round_trip(store: Store) -> None:
    record = step(cost=None)
    store.save_step(record)
    got = store.get_step("e1", "s1")
    assert got == record
    assert got is not None
    assert (got.tool_calls, got.error, got.cost) == ([], None, None)


def test_save_step_upserts_and_lists_in_order(store: Store) -> None:
    store.save_step(step("c", seq=2, started_at=1.0))
    store.save_step(step("b", seq=1, started_at=5.0, status="failed", attempts=1))
    store.save_step(step("a", seq=1, started_at=9.0))
    store.save_step(step("z", execution_id="other", seq=0))
    retried = step("b", seq=1, started_at=5.0, status="succeeded", attempts=2, output={"ok": 1})
    store.save_step(retried)
    assert [s.step_id for s in store.list_steps("e1")] == ["b", "a", "c"]
    assert store.get_step("e1", "b") == retried
    assert [s.step_id for s in store.list_steps("other")] == ["z"]
    assert store.list_steps("missing") == []


def test_non_json_values_are_stored_as_strings(store: Store) -> None:
    when = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    store.save_step(step(input={"when": when, "path": Path("/tmp/x")}))
    got = store.get_step("e1", "s1")
    assert got is not None
    assert got.input == {"when": str(when), "path": "/tmp/x"}


def test_unencodable_value_raises_store_error(store: Store) -> None:
    loop: dict[str, object] = {}
    loop["self"] = loop
    with pytest.raises(StoreError, match="JSON"):
        store.save_step(step(output=loop))
    with pytest.raises(StoreError, match="JSON"):
        store.create_execution(execution(input=loop))
    assert store.get_step("e1", "s1") is None
    assert store.get_execution("alice", "e1") is None


# --- logs ------------------------------------------------------------------------------------


def test_log_round_trip_and_seq_per_execution(store: Store) -> None:
    store.append_log("e1", "INFO", "started ✓")
    store.append_log("e2", "DEBUG", "other")
    store.append_log("e1", "ERROR", "failed 💥", agent_role="Writer", step_id="s1",
                     metadata={"type": "StepFailed", "nested": NESTED})  # fmt: skip
    store.append_log("e1", "WARNING", "third", metadata={})
    logs = store.list_logs("e1")
    assert [(log.seq, log.level, log.message) for log in logs] == [
        (1, "INFO", "started ✓"), (2, "ERROR", "failed 💥"), (3, "WARNING", "third"),
    ]  # fmt: skip
    assert (logs[0].metadata, logs[0].agent_role, logs[0].step_id) == ({}, None, None)
    assert logs[1].metadata == {"type": "StepFailed", "nested": NESTED}
    assert (logs[1].agent_role, logs[1].step_id, logs[1].execution_id) == ("Writer", "s1", "e1")
    assert logs[0].time > 1e9
    assert logs[0].time <= logs[1].time <= logs[2].time
    assert [log.seq for log in store.list_logs("e2")] == [1]


def test_list_logs_after_and_limit(store: Store) -> None:
    for i in range(12):
        store.append_log("e1", "INFO", f"m{i}")
    assert [log.seq for log in store.list_logs("e1", after=9)] == [10, 11, 12]
    assert [log.seq for log in store.list_logs("e1", after=5, limit=3)] == [6, 7, 8]
    assert [log.message for log in store.list_logs("e1", limit=2)] == ["m0", "m1"]
    assert store.list_logs("e1", after=12) == []
    assert store.list_logs("nope") == []


def test_concurrent_log_appends_get_distinct_increasing_seqs(store: Store) -> None:
    def work(i: int) -> None:
        for n in range(10):
            store.append_log("e1", "INFO", f"{i}:{n}")

    in_threads(4, work)
    logs = store.list_logs("e1")
    assert [log.seq for log in logs] == list(range(1, 41))
    for i in range(4):  # each writer's lines keep its order
        mine = [log.message for log in logs if log.message.startswith(f"{i}:")]
        assert mine == [f"{i}:{n}" for n in range(10)]


# --- usage -----------------------------------------------------------------------------------


def test_usage_adds_and_groups_by_day(store: Store) -> None:
    store.add_usage("alice", "2024-05-01", {"executions": 1, "cost_usd": 0.25})
    store.add_usage("alice", "2024-05-01", {"executions": 1, "input_tokens": 10})
    store.add_usage("alice", "2024-05-03", {"executions": 2})
    store.add_usage("alice", "2024-06-01", {"executions": 7})
    store.add_usage("alice", "2024-05-02", {})
    days = store.get_usage("alice", "2024-05-01", "2024-05-31")
    assert [(u.owner, u.day) for u in days] == [("alice", "2024-05-01"), ("alice", "2024-05-03")]
    assert days[0].metrics == {"executions": 2.0, "cost_usd": 0.25, "input_tokens": 10.0}
    assert days[1].metrics == {"executions": 2.0}
    assert [u.day for u in store.get_usage("alice", "2024-05-03", "2024-06-01")] == [
        "2024-05-03", "2024-06-01",
    ]  # fmt: skip
    assert store.get_usage("alice", "2024-07-01", "2024-07-31") == []


def test_usage_metric_names_are_any_text(store: Store) -> None:
    odd = {
        "model:anthropic:claude|x=y:cost_usd": 0.5, "workflow:wf-1:executions": 1,
        "owner": 3, "day": 4, "a.b": 5, "#x :y": 6, "ü ✓": 7,
    }  # fmt: skip
    store.add_usage("alice", "2024-05-01", odd)
    store.add_usage("alice", "2024-05-01", odd)
    (usage,) = store.get_usage("alice", "2024-05-01", "2024-05-01")
    assert (usage.owner, usage.day) == ("alice", "2024-05-01")
    assert usage.metrics == {name: 2.0 * value for name, value in odd.items()}


def test_usage_is_tenant_isolated(store: Store) -> None:
    store.add_usage("alice", "2024-05-01", {"executions": 1})
    store.add_usage("bob", "2024-05-01", {"executions": 5})
    assert store.get_usage("alice", "2024-05-01", "2024-05-01")[0].metrics == {"executions": 1}
    assert store.get_usage("bob", "2024-05-01", "2024-05-01")[0].metrics == {"executions": 5}
    assert store.get_usage("carol", "2024-01-01", "2024-12-31") == []


def test_concurrent_usage_adds_are_exact(store: Store) -> None:
    def work(i: int) -> None:
        for _ in range(25):
            store.add_usage("alice", "2024-05-01", {"executions": 1, "cost_usd": 0.5})

    in_threads(6, work)
    (usage,) = store.get_usage("alice", "2024-05-01", "2024-05-01")
    assert usage.metrics == {"executions": 150.0, "cost_usd": 75.0}


# --- platform API keys -----------------------------------------------------------------------


def test_api_key_save_get_list_delete(store: Store) -> None:
    first = api_key()
    second = api_key(key_id="k2", key_hash="h2", name="deploy", scopes=[], created_at=20.0)
    store.save_api_key(second)
    store.save_api_key(first)
    store.save_api_key(api_key("bob", "k9", "h9"))
    assert store.get_api_key("h1") == first
    assert store.get_api_key("h2") == second
    assert store.get_api_key("nope") is None
    assert store.list_api_keys("alice") == [first, second]  # oldest first
    assert store.delete_api_key("alice", "k1") is True
    assert store.delete_api_key("alice", "k1") is False
    assert store.get_api_key("h1") is None
    assert store.list_api_keys("alice") == [second]


def test_api_keys_are_tenant_isolated(store: Store) -> None:
    store.save_api_key(api_key())
    assert store.list_api_keys("bob") == []
    assert store.delete_api_key("bob", "k1") is False
    assert store.get_api_key("h1") is not None
    with pytest.raises(StoreConflict):  # a hash is never handed to another owner
        store.save_api_key(api_key("bob", "k1", "h1"))
    got = store.get_api_key("h1")
    assert got is not None
    assert got.owner == "alice"


def test_touch_api_key(store: Store) -> None:
    store.save_api_key(api_key())
    store.touch_api_key("h1", 100.0)
    got = store.get_api_key("h1")
    assert got is not None
    assert got.last_used_at == 100.0
    store.touch_api_key("h1", 50.0)  # an older use (a slower server) does not go back
    got = store.get_api_key("h1")
    assert got is not None
    assert got.last_used_at == 100.0
    store.touch_api_key("nope", 100.0)  # unknown: ignored, and nothing created
    assert store.get_api_key("nope") is None


# --- provider keys ---------------------------------------------------------------------------


def test_provider_keys(store: Store) -> None:
    openai = ProviderKeyRecord("alice", "openai", "Y2lwaGVy", "sk-…a1b2", 10.0)
    anthropic = ProviderKeyRecord("alice", "anthropic", "b3RoZXI=", "sk-ant-…", 11.0)
    store.put_provider_key(openai)
    store.put_provider_key(anthropic)
    assert store.get_provider_key("alice", "openai") == openai
    assert store.list_provider_keys("alice") == [anthropic, openai]
    rotated = replace(openai, ciphertext="bmV3", hint="sk-…c3d4", updated_at=12.0)
    store.put_provider_key(rotated)
    assert store.get_provider_key("alice", "openai") == rotated
    assert store.delete_provider_key("alice", "openai") is True
    assert store.delete_provider_key("alice", "openai") is False
    assert store.get_provider_key("alice", "openai") is None
    assert store.list_provider_keys("alice") == [anthropic]


def test_provider_keys_are_tenant_isolated(store: Store) -> None:
    store.put_provider_key(ProviderKeyRecord("alice", "openai", "YWxpY2U=", "", 1.0))
    assert store.get_provider_key("bob", "openai") is None
    assert store.list_provider_keys("bob") == []
    assert store.delete_provider_key("bob", "openai") is False
    store.put_provider_key(ProviderKeyRecord("bob", "openai", "Ym9i", "", 2.0))
    alice = store.get_provider_key("alice", "openai")
    assert alice is not None
    assert alice.ciphertext == "YWxpY2U="


# --- idempotency -----------------------------------------------------------------------------


def test_first_idempotency_claim_wins(store: Store) -> None:
    later = time.time() + 3600
    assert store.claim_idempotency_key("alice", "k", "e1", later) == "e1"
    assert store.claim_idempotency_key("alice", "k", "e2", later) == "e1"
    assert store.claim_idempotency_key("alice", "other", "e3", later) == "e3"
    assert store.claim_idempotency_key("bob", "k", "e4", later) == "e4"  # per owner
    # keys that could collide if owner and key were joined with a separator
    assert store.claim_idempotency_key("a:b", "c", "e5", later) == "e5"
    assert store.claim_idempotency_key("a", "b:c", "e6", later) == "e6"


def test_a_released_claim_frees_the_key_only_for_its_holder(store: Store) -> None:
    later = time.time() + 3600
    assert store.claim_idempotency_key("alice", "k", "e1", later) == "e1"
    assert store.release_idempotency_key("alice", "k", "other") is False  # not its claim
    assert store.release_idempotency_key("bob", "k", "e1") is False  # another owner's key
    assert store.claim_idempotency_key("alice", "k", "e2", later) == "e1"
    assert store.release_idempotency_key("alice", "k", "e1") is True
    assert store.release_idempotency_key("alice", "k", "e1") is False  # already gone
    assert store.claim_idempotency_key("alice", "k", "e3", later) == "e3"


def test_an_expired_idempotency_claim_is_taken_over(store: Store) -> None:
    assert store.claim_idempotency_key("alice", "k", "e1", time.time() - 1) == "e1"
    assert store.claim_idempotency_key("alice", "k", "e2", time.time() + 3600) == "e2"
    assert store.claim_idempotency_key("alice", "k", "e3", time.time() + 3600) == "e2"


def test_concurrent_idempotency_claims_agree_on_one_winner(store: Store) -> None:
    later = time.time() + 3600

    def claim(key: str, i: int) -> str:
        return store.claim_idempotency_key("alice", key, f"e{i}", later)

    for round_ in range(5):
        key = f"key-{round_}"
        winners = in_threads(4, functools.partial(claim, key))
        assert len(set(winners)) == 1, winners
        assert winners[0] in {f"e{i}" for i in range(4)}
        assert store.claim_idempotency_key("alice", key, "late", later) == winners[0]
