"""Who is calling: a Cognito JWT (hosted), a platform API key, or the local token (embedded).

Every route depends on ``CurrentPrincipal``; the principal's ``owner`` scopes every store
call, so one tenant's ids answer 404 to another. Credentials come in ``Authorization:
Bearer <token>`` (a JWT, an API key ``aw_…`` or the local token) or ``X-API-Key``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from agentweaver.exceptions import AuthError, JwksUnavailable
from agentweaver.security.authenticator import Authenticator
from agentweaver.security.principal import Principal

__all__ = ["Authenticator", "CurrentPrincipal", "authenticate", "current_principal"]

_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def authenticate(auth: Authenticator, request: Request) -> Principal:
    token = _bearer(request) or request.headers.get("x-api-key", "").strip()
    try:
        return auth.principal_for(token)
    except JwksUnavailable:
        raise  # 503 through the error handlers: the caller may retry
    except AuthError as exc:
        raise HTTPException(401, str(exc), headers=_CHALLENGE) from None


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def current_principal(request: Request) -> Principal:
    services = request.app.state.services
    principal = authenticate(services.auth, request)
    request.state.owner = principal.owner
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
