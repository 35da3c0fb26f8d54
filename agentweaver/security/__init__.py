"""Authentication building blocks for the API: principals, API keys, the local token, JWTs.

Names load on first use (PEP 562) like the top-level package: the embedded server needs the
local token and API keys but not PyJWT/cryptography, which only the hosted service's
Cognito verification (``agentweaver.security.jwt``) imports.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentweaver.security.api_keys import (
        hash_api_key,
        looks_like_api_key,
        new_api_key,
        verify_api_key,
    )
    from agentweaver.security.jwt import CognitoVerifier, InvalidToken, JwksUnavailable
    from agentweaver.security.local_token import check_local_token, load_or_create_local_token
    from agentweaver.security.principal import AuthError, Principal

_WHERE = {
    "AuthError": "agentweaver.security.principal",
    "Principal": "agentweaver.security.principal",
    "hash_api_key": "agentweaver.security.api_keys",
    "looks_like_api_key": "agentweaver.security.api_keys",
    "new_api_key": "agentweaver.security.api_keys",
    "verify_api_key": "agentweaver.security.api_keys",
    "check_local_token": "agentweaver.security.local_token",
    "load_or_create_local_token": "agentweaver.security.local_token",
    "CognitoVerifier": "agentweaver.security.jwt",
    "InvalidToken": "agentweaver.security.jwt",
    "JwksUnavailable": "agentweaver.security.jwt",
}

__all__ = [
    "AuthError",
    "CognitoVerifier",
    "InvalidToken",
    "JwksUnavailable",
    "Principal",
    "check_local_token",
    "hash_api_key",
    "load_or_create_local_token",
    "looks_like_api_key",
    "new_api_key",
    "verify_api_key",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'agentweaver.security' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
