"""What the API is built from: chosen once by a composition root, injected everywhere."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from agentweaver.executors.base import Executor
from agentweaver.stores.base import Store
from agentweaver.stores.records import WorkflowRecord

if TYPE_CHECKING:
    from agentweaver.api.auth import Authenticator
    from agentweaver.api.metrics import Metrics
    from agentweaver.keys.vault import KeyVault

__all__ = ["ScheduleSync", "Services"]


class ScheduleSync(Protocol):
    """Keeps a workflow's ``schedule:`` triggers scheduled (EventBridge Scheduler on AWS)."""

    def sync(self, record: WorkflowRecord) -> list[str]: ...
    def remove(self, owner: str, workflow_id: str) -> None: ...


@dataclass
class Services:
    store: Store
    executor: Executor
    auth: Authenticator
    vault: KeyVault | None = None
    metrics: Metrics | None = None
    compile_options: dict[str, Any] = field(default_factory=dict)  # function ARN on AWS
    max_body_bytes: int = 1024 * 1024
    schedules: ScheduleSync | None = None
    code_modules: tuple[str, ...] = ()  # agents as code: functions a definition may name
