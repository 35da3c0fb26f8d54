"""Step Functions status-change events make execution records terminal (aborts, timeouts)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from support.moto_sfn import load_handler

from agentweaver.exceptions import InvalidData
from agentweaver.runtime.status_events import apply_status_change
from agentweaver.stores.records import ExecutionRecord
from agentweaver.stores.sqlite import SQLiteStore


def event(status: str, owner: str = "t1", eid: str = "e1", **detail: Any) -> dict[str, Any]:
    return {
        "source": "aws.states",
        "detail-type": "Step Functions Execution Status Change",
        "detail": {
            "status": status,
            "input": json.dumps({"execution_id": eid, "owner": owner, "value": None}),
            "stopDate": 1795550000000,
            **detail,
        },
    }


@pytest.fixture
def store() -> SQLiteStore:
    s = SQLiteStore(":memory:")
    s.create_execution(ExecutionRecord("t1", "e1", "w", "w", status="running", created_at=1.0))
    return s


@pytest.mark.parametrize(
    ("status", "written", "error_type"),
    [("TIMED_OUT", "timed_out", "StepTimeout"), ("ABORTED", "cancelled", "ExecutionCancelled"),
     ("FAILED", "failed", "StepFailed")],
)  # fmt: skip
def test_a_dead_state_machine_ends_the_record(
    store: SQLiteStore, status: str, written: str, error_type: str
) -> None:
    assert apply_status_change(store, event(status)) == written
    record = store.get_execution("t1", "e1")
    assert record is not None
    assert record.status == written
    assert record.error is not None
    assert record.error["type"] == error_type
    assert record.ended_at == 1795550000.0
    assert any(written in log.message for log in store.list_logs("e1"))


def test_a_terminal_record_is_never_overwritten(store: SQLiteStore) -> None:
    store.update_execution("t1", "e1", status="succeeded")
    assert apply_status_change(store, event("FAILED", error="X")) is None
    record = store.get_execution("t1", "e1")
    assert record is not None
    assert record.status == "succeeded"


def test_other_tenants_and_foreign_executions_are_ignored(store: SQLiteStore) -> None:
    assert apply_status_change(store, event("ABORTED", owner="t2")) is None
    foreign = event("ABORTED")
    foreign["detail"]["input"] = json.dumps({"something": "else"})
    assert apply_status_change(store, foreign) is None
    record = store.get_execution("t1", "e1")
    assert record is not None
    assert record.status == "running"


BAD_EVENTS = [
    {},
    {"detail": "x"},
    {"detail": {"status": "WEIRD"}},
    {"detail": {"status": "FAILED", "input": "{not json"}},
]


@pytest.mark.parametrize("bad", BAD_EVENTS)
def test_malformed_events_are_invalid_data(store: SQLiteStore, bad: Any) -> None:
    with pytest.raises(InvalidData):
        apply_status_change(store, bad)


def test_the_handler_logs_and_drops_a_malformed_event(
    store: SQLiteStore, caplog: pytest.LogCaptureFixture
) -> None:
    module = load_handler("execution_events")
    module.STORE = store
    assert module.handler({"detail": {}}, None)["applied"] is None
    assert "dropped an event" in caplog.text
    assert module.handler(event("TIMED_OUT"), None) == {"applied": "timed_out"}
