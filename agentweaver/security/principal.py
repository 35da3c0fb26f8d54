"""Who is calling: the one value every authentication path produces.

The API authenticates three ways (a Cognito JWT, a platform API key, the embedded server's
local token); each ends in a ``Principal`` so authorisation and tenancy code never needs to
know which one was used. ``owner`` is the tenant every store call is confined to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from agentweaver.exceptions import AuthError

__all__ = ["AuthError", "AuthMethod", "Principal"]

AuthMethod = Literal["jwt", "api_key", "local"]


@dataclass(frozen=True)
class Principal:
    """An authenticated caller.

    Frozen so a request handler cannot widen its own identity or scopes after
    authentication; ``scopes`` is a frozenset for the same reason. ``key_id`` is set only
    for API keys: it is the public id a user revokes, and what audit logs may name (never
    the secret).
    """

    owner: str
    via: AuthMethod
    scopes: frozenset[str] = field(default_factory=frozenset)
    key_id: str | None = None
