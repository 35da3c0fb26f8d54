"""The agent-step Lambda: a thin adapter over ``agentweaver.runtime.serverless``.

Every Task of a compiled workflow invokes this function; what it does lives in the core
(``handle_step_event``). The environment (store, workflows, payload bucket) is built from
environment variables on the first call and kept while the Lambda is warm; Powertools
adds structured logs, the step metrics and traces. Tests set ``ENVIRONMENT`` to their own
before invoking.
"""

from __future__ import annotations

from typing import Any

from agentweaver.aws.observability import LambdaObservability
from agentweaver.runtime.serverless import StepEnvironment, handle_step_event

ENVIRONMENT: StepEnvironment | None = None
OBSERVE = LambdaObservability("agent-step")


@OBSERVE.wrap
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    global ENVIRONMENT
    if ENVIRONMENT is None:
        from agentweaver.aws.lambda_env import environment_from_env

        ENVIRONMENT = environment_from_env()
        ENVIRONMENT.on_metric = OBSERVE.metric
    return handle_step_event(event, ENVIRONMENT)
