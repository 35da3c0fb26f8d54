"""start_execution: one execution per idempotency key, and a start that failed leaves the key
free, so the retry (a redelivered event, a retried request) starts the run."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from agentweaver.exceptions import StoreError
from agentweaver.executors.start import start_execution
from agentweaver.stores.records import ExecutionRecord, WorkflowRecord
from agentweaver.stores.sqlite import SQLiteStore


class FlakyService:
    """An executor whose backend refuses the first start (throttled), then accepts."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.started: list[str] = []

    async def submit(self, execution: ExecutionRecord, workflow: WorkflowRecord) -> None:
        if self.failures:
            self.failures -= 1
            raise StoreError("could not start the execution: ThrottlingException")
        self.started.append(execution.execution_id)


def _start(store: SQLiteStore, executor: Any, key: str | None) -> Any:
    workflow = WorkflowRecord("team", "w1", "w", {"name": "w"}, created_at=time.time())
    return asyncio.run(start_execution(store, executor, workflow, {"x": 1}, idempotency_key=key))


def test_a_failed_start_frees_its_key_for_the_retry() -> None:
    store = SQLiteStore(":memory:")
    executor = FlakyService(failures=1)
    with pytest.raises(StoreError):
        _start(store, executor, "trigger:event-1:w1")
    retried = _start(store, executor, "trigger:event-1:w1")
    assert retried.duplicate is False
    assert executor.started == [retried.execution_id]
    again = _start(store, executor, "trigger:event-1:w1")
    assert (again.execution_id, again.duplicate) == (retried.execution_id, True)
    assert executor.started == [retried.execution_id]
    store.close()


def test_without_a_key_every_call_starts_one() -> None:
    store = SQLiteStore(":memory:")
    executor = FlakyService(failures=0)
    first, second = _start(store, executor, None), _start(store, executor, None)
    assert first.execution_id != second.execution_id
    assert executor.started == [first.execution_id, second.execution_id]
    store.close()
