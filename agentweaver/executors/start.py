"""Start one execution of a saved workflow: the API's execute route and the triggers share it.

With an idempotency key, a retried request or a redelivered event starts one execution:
the key is claimed atomically in the store, and whoever loses the claim answers the
winner's execution id instead of starting a second run.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from agentweaver.executors.base import Executor
from agentweaver.stores.base import Store
from agentweaver.stores.records import ExecutionRecord, WorkflowRecord

__all__ = ["IDEMPOTENCY_SECONDS", "Started", "start_execution"]

IDEMPOTENCY_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Started:
    execution_id: str
    status: str
    duplicate: bool  # the key was claimed before: nothing new was started


async def start_execution(
    store: Store,
    executor: Executor,
    workflow: WorkflowRecord,
    input_data: Any,
    *,
    idempotency_key: str | None = None,
    key_seconds: float = IDEMPOTENCY_SECONDS,
) -> Started:
    execution_id = uuid.uuid4().hex
    if idempotency_key:
        winner = store.claim_idempotency_key(
            workflow.owner, idempotency_key, execution_id, time.time() + key_seconds
        )
        if winner != execution_id:
            existing = store.get_execution(workflow.owner, winner)
            status = existing.status if existing is not None else "queued"
            return Started(winner, status, duplicate=True)
    execution = ExecutionRecord(
        owner=workflow.owner,
        execution_id=execution_id,
        workflow_id=workflow.workflow_id,
        workflow_name=workflow.name,
        status="queued",
        input=input_data,
        created_at=time.time(),
    )
    try:
        store.create_execution(execution)
        await executor.submit(execution, workflow)
    except BaseException:
        # nothing started: free the key, or every retry would answer this dead execution
        if idempotency_key:
            store.release_idempotency_key(workflow.owner, idempotency_key, execution_id)
        raise
    return Started(execution_id, "queued", duplicate=False)
