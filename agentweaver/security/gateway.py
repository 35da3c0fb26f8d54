"""The decision of API Gateway's Lambda authorizer (HTTP API, payload 2.0, simple response).

The same ``Authenticator`` the app uses, so the gateway and the app never disagree on what a
valid credential is. A refusal is logged with its reason, never with the token.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from agentweaver.exceptions import AuthError, JwksUnavailable

if TYPE_CHECKING:
    from agentweaver.security.authenticator import Authenticator

__all__ = ["authorize"]

log = logging.getLogger("agentweaver.authorizer")


def authorize(event: Mapping[str, Any], authenticator: Authenticator) -> dict[str, Any]:
    headers = event.get("headers") if isinstance(event, Mapping) else None
    headers = headers if isinstance(headers, Mapping) else {}
    raw = str(headers.get("authorization") or headers.get("Authorization") or "")
    scheme, _, token = raw.partition(" ")
    token = token.strip() if scheme.lower() == "bearer" else ""
    try:
        principal = authenticator.principal_for(token)
    except JwksUnavailable:
        # raised, not refused: API Gateway caches a refusal for the token (minutes), and a
        # Cognito hiccup must not lock valid tokens out; a store failure propagates likewise
        raise
    except AuthError as exc:
        log.info("refused a request: %s", exc)
        return {"isAuthorized": False}
    return {"isAuthorized": True, "context": {"owner": principal.owner, "via": principal.via}}
