"""Whose credential is this: a Cognito JWT (hosted), a platform API key, or the local token.

Free of web frameworks, so the API (``agentweaver.api.auth``) and API Gateway's authorizer
function (``agentweaver.security.gateway``) decide with the same code, and the authorizer's
cold start does not pay for FastAPI.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agentweaver.exceptions import AuthError, InvalidToken, JwksUnavailable
from agentweaver.security.api_keys import looks_like_api_key, verify_api_key
from agentweaver.security.local_token import check_local_token
from agentweaver.security.principal import Principal

if TYPE_CHECKING:
    from agentweaver.security.jwt import CognitoVerifier
    from agentweaver.stores.base import Store

__all__ = ["Authenticator"]


@dataclass
class Authenticator:
    """The accepted credentials; ``local_token``/``local_owner`` only for ``agentweaver serve``."""

    store: Store
    jwt: CognitoVerifier | None = None
    local_token: str | None = None
    local_owner: str = "local"

    def principal_for(self, token: str) -> Principal:
        """Whose ``token`` is, or ``AuthError`` saying why not (never echoing the token).
        Shared by the app and the API Gateway authorizer function."""
        if not token:
            raise AuthError("missing credentials: send Authorization: Bearer <token>")
        if looks_like_api_key(token):
            principal = verify_api_key(self.store, token, time.time())
            if principal is None:
                raise AuthError("invalid API key")
            return principal
        if self.local_token is not None and check_local_token(self.local_token, token):
            return Principal(owner=self.local_owner, via="local", scopes=frozenset({"*"}))
        if self.jwt is not None and token.count(".") == 2:
            try:
                return self.jwt.verify(token)
            except JwksUnavailable:
                raise
            except InvalidToken as exc:
                raise AuthError(f"invalid token: {exc}") from None
        raise AuthError("invalid credentials")
