"""EventBridge "Step Functions Execution Status Change" -> the execution's record.

Thin adapter over ``agentweaver.runtime.status_events.apply_status_change``; a malformed
event is logged and dropped (no retry loop), per the platform's error contract.
"""

from __future__ import annotations

import logging
from typing import Any

from agentweaver.aws.observability import LambdaObservability
from agentweaver.exceptions import InvalidData
from agentweaver.runtime.status_events import apply_status_change

log = logging.getLogger("agentweaver.execution_events")
STORE: Any = None
OBSERVE = LambdaObservability("execution-events")


@OBSERVE.wrap
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    global STORE
    if STORE is None:
        from agentweaver.aws.lambda_env import store_from_env

        STORE = store_from_env()
    try:
        status = apply_status_change(STORE, event)
    except InvalidData as exc:
        log.warning("dropped an event: %s", exc)
        return {"applied": None, "error": str(exc)}
    if status in ("failed", "timed_out"):  # ended by Step Functions before its finish Task
        OBSERVE.metric("ExecutionsFailed", 1)
    return {"applied": status}
