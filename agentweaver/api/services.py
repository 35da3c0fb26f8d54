"""What the API is built from: chosen once by a composition root, injected everywhere."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentweaver.executors.base import Executor
from agentweaver.stores.base import Store

if TYPE_CHECKING:
    from agentweaver.api.auth import Authenticator
    from agentweaver.api.metrics import Metrics
    from agentweaver.keys.vault import KeyVault

__all__ = ["Services"]


@dataclass
class Services:
    store: Store
    executor: Executor
    auth: Authenticator
    vault: KeyVault | None = None
    metrics: Metrics | None = None
    compile_options: dict[str, Any] = field(default_factory=dict)  # function ARN on AWS
    max_body_bytes: int = 1024 * 1024
