"""Where provider keys come from: the environment by default, the platform's key store when
AgentWeaver runs as a service (that store implements the same one-method protocol)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

__all__ = ["EnvKeys", "KeySource", "StaticKeys"]


@runtime_checkable
class KeySource(Protocol):
    def get(self, provider: str, env_vars: Sequence[str]) -> str | None:
        """The key for ``provider``, or ``None``; ``env_vars`` are its usual variable names."""
        ...


class EnvKeys:
    """Keys from environment variables (``ANTHROPIC_API_KEY``...)."""

    def get(self, provider: str, env_vars: Sequence[str]) -> str | None:
        return next((os.environ[v] for v in env_vars if os.environ.get(v)), None)


class StaticKeys:
    """Keys given directly, e.g. decrypted for one execution; never logged."""

    def __init__(self, keys: Mapping[str, str]) -> None:
        self._keys = dict(keys)

    def get(self, provider: str, env_vars: Sequence[str]) -> str | None:
        return self._keys.get(provider)

    def __repr__(self) -> str:  # keys must never reach a log line
        return f"StaticKeys(providers={sorted(self._keys)})"
