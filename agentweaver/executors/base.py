"""The ``Executor`` protocol: what the API needs to start and stop executions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from agentweaver.stores.records import ExecutionRecord, WorkflowRecord

__all__ = ["ExecutionFinished", "Executor"]


@dataclass(frozen=True)
class ExecutionFinished:
    """Told to listeners (metrics) when a run ends, whichever executor ran it."""

    owner: str
    execution_id: str
    workflow_id: str
    status: str
    seconds: float


FinishedListener = Callable[[ExecutionFinished], None]


class Executor(Protocol):
    async def start(self) -> None:
        """Begin serving; recover what a previous process left unfinished."""
        ...

    async def prepare(self, workflow: WorkflowRecord) -> WorkflowRecord:
        """Called when a workflow version is saved (Step Functions: its state machine)."""
        ...

    async def submit(self, execution: ExecutionRecord, workflow: WorkflowRecord) -> None:
        """Run a ``queued`` execution (already in the store) in the background."""
        ...

    async def cancel(self, owner: str, execution_id: str) -> bool:
        """Stop a run; ``False`` when it is not running here (or already finished)."""
        ...

    async def close(self) -> None: ...

    def active(self) -> int:
        """Executions running now (the ``agentweaver_active_executions`` gauge)."""
        ...

    def describe(self) -> dict[str, Any]: ...
