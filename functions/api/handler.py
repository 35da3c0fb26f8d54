"""The API Lambda: ``Mangum(app)`` over the AWS composition root (``agentweaver.aws.api_env``)."""

from __future__ import annotations

from typing import Any

from agentweaver.aws.observability import LambdaObservability

_HANDLER: Any = None
OBSERVE = LambdaObservability("api")


@OBSERVE.wrap
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    global _HANDLER
    if _HANDLER is None:
        from mangum import Mangum

        from agentweaver.api import create_app
        from agentweaver.aws.api_env import services_from_env

        _HANDLER = Mangum(create_app(services_from_env(), manage_executor=False), lifespan="off")
    result: dict[str, Any] = _HANDLER(event, context)
    return result
