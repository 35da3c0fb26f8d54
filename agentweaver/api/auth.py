"""Who is calling: a Cognito JWT (hosted), a platform API key, or the local token (embedded).

Every route depends on ``CurrentPrincipal``; the principal's ``owner`` scopes every store
call, so one tenant's ids answer 404 to another. Credentials come in ``Authorization:
Bearer <token>`` (a JWT, an API key ``aw_…`` or the local token) or ``X-API-Key``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, HTTPException, Request

from agentweaver.security.api_keys import looks_like_api_key, verify_api_key
from agentweaver.security.local_token import check_local_token
from agentweaver.security.principal import Principal

if TYPE_CHECKING:
    from agentweaver.security.jwt import CognitoVerifier
    from agentweaver.stores.base import Store

__all__ = ["Authenticator", "CurrentPrincipal", "current_principal"]

_CHALLENGE = {"WWW-Authenticate": "Bearer"}


@dataclass
class Authenticator:
    """The accepted credentials; ``local_token``/``local_owner`` only for ``agentweaver serve``."""

    store: Store
    jwt: CognitoVerifier | None = None
    local_token: str | None = None
    local_owner: str = "local"

    def authenticate(self, request: Request) -> Principal:
        token = _bearer(request) or request.headers.get("x-api-key", "").strip()
        if not token:
            raise HTTPException(401, "missing credentials: send Authorization: Bearer <token>",
                                headers=_CHALLENGE)  # fmt: skip
        if looks_like_api_key(token):
            principal = verify_api_key(self.store, token, time.time())
            if principal is None:
                raise HTTPException(401, "invalid API key", headers=_CHALLENGE)
            return principal
        if self.local_token is not None and check_local_token(self.local_token, token):
            return Principal(owner=self.local_owner, via="local", scopes=frozenset({"*"}))
        if self.jwt is not None and token.count(".") == 2:
            from agentweaver.security.jwt import InvalidToken

            try:
                return self.jwt.verify(token)
            except InvalidToken as exc:
                raise HTTPException(401, f"invalid token: {exc}", headers=_CHALLENGE) from None
        raise HTTPException(401, "invalid credentials", headers=_CHALLENGE)


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def current_principal(request: Request) -> Principal:
    services = request.app.state.services
    principal: Principal = services.auth.authenticate(request)
    request.state.owner = principal.owner
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
