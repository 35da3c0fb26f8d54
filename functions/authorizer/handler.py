"""API Gateway's Lambda authorizer: Cognito JWTs and platform API keys both pass the gateway.

Thin adapter over ``agentweaver.security.gateway.authorize`` (HTTP API payload 2.0, simple
responses). The app checks the credentials again itself; this only keeps unauthenticated
traffic from reaching (and billing) the API function.
"""

from __future__ import annotations

from typing import Any

from agentweaver.aws.observability import LambdaObservability
from agentweaver.security.gateway import authorize

AUTHENTICATOR: Any = None  # built on the first call; tests set their own
OBSERVE = LambdaObservability("authorizer")


@OBSERVE.wrap
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    global AUTHENTICATOR
    if AUTHENTICATOR is None:
        from agentweaver.aws.api_env import authenticator_from_env

        AUTHENTICATOR = authenticator_from_env()
    return authorize(event, AUTHENTICATOR)
