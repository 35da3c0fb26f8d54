"""The triggers Lambda: S3 ``Object Created`` events, custom events and schedules start the
workflows whose triggers fit. Thin adapter over ``agentweaver.triggers.dispatch``."""

from __future__ import annotations

import asyncio
from typing import Any

from agentweaver.aws.observability import LambdaObservability
from agentweaver.triggers.dispatch import handle_trigger_event

SERVICES: Any = None  # (store, executor), built on the first call; tests set their own
OBSERVE = LambdaObservability("triggers")


@OBSERVE.wrap
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    global SERVICES
    if SERVICES is None:
        from agentweaver.aws.api_env import executor_from_env

        SERVICES = executor_from_env()
    store, executor = SERVICES
    result = asyncio.run(handle_trigger_event(event, store, executor))
    OBSERVE.metric("TriggeredExecutions", sum(not s["duplicate"] for s in result["started"]))
    return result
