"""Step Functions status changes -> terminal execution records.

The state machine records its own success or failure (its last Task); what it cannot record
is its own death: an abort (``StopExecution``), an execution timeout, or a failure of that
last Task. EventBridge delivers "Step Functions Execution Status Change" events for those;
``apply_status_change`` makes the record match, and never overwrites a terminal record.
"""

from __future__ import annotations

import json
import time
from typing import Any

from agentweaver.exceptions import InvalidData
from agentweaver.stores.base import Store
from agentweaver.stores.records import TERMINAL

__all__ = ["apply_status_change"]

_STATUS = {
    "RUNNING": "running",
    "SUCCEEDED": "succeeded",
    "FAILED": "failed",
    "TIMED_OUT": "timed_out",
    "ABORTED": "cancelled",
}


def apply_status_change(store: Store, event: Any, now: float | None = None) -> str | None:
    """Apply one event; returns the status written, or ``None`` when nothing changed."""
    detail = event.get("detail") if isinstance(event, dict) else None
    if not isinstance(detail, dict) or detail.get("status") not in _STATUS:
        raise InvalidData("not a Step Functions execution status change event")
    try:
        data = json.loads(detail.get("input") or "{}")
    except ValueError:
        raise InvalidData("the execution's input is not JSON") from None
    owner, execution_id = data.get("owner"), data.get("execution_id")
    if not isinstance(owner, str) or not isinstance(execution_id, str):
        return None  # not an AgentWeaver execution
    record = store.get_execution(owner, execution_id)
    status = _STATUS[detail["status"]]
    if record is None or record.status in TERMINAL:
        return None
    if status == "running":
        if record.status == "queued":
            store.update_execution(owner, execution_id, status="running")
            return status
        return None
    error = None
    if status != "succeeded":
        error = {
            "type": str(detail.get("error") or {"timed_out": "StepTimeout",
                                                 "cancelled": "ExecutionCancelled"}.get(status,
                                                                                        "StepFailed")),
            "message": str(detail.get("cause") or f"the state machine ended {detail['status']}"),
        }  # fmt: skip
    stopped = detail.get("stopDate")
    ended = float(stopped) / 1000 if isinstance(stopped, int | float) else (now or time.time())
    store.update_execution(owner, execution_id, status=status, error=error, ended_at=ended)
    store.append_log(
        execution_id, "INFO" if status == "succeeded" else "ERROR",
        f"execution {status} (Step Functions: {detail['status']})",
    )  # fmt: skip
    return status
