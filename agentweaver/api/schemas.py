"""Request and response bodies (``XCreate`` in, ``XPublic`` out), documented in OpenAPI."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from agentweaver.stores.records import ExecutionRecord, LogRecord, StepRecord, WorkflowRecord
from agentweaver.workflow.definition import WorkflowDefinition

__all__ = [
    "ExecuteRequest",
    "ExecutionAccepted",
    "ExecutionPage",
    "ExecutionPublic",
    "LogsPublic",
    "StepPublic",
    "WorkflowPublic",
    "WorkflowUpdate",
]


class WorkflowPublic(BaseModel):
    id: str
    name: str
    description: str
    version: int
    created_at: float
    updated_at: float
    definition: dict[str, Any]

    @classmethod
    def of(cls, r: WorkflowRecord) -> WorkflowPublic:
        return cls(id=r.workflow_id, name=r.name, description=r.description, version=r.version,
                   created_at=r.created_at, updated_at=r.updated_at,
                   definition=r.definition)  # fmt: skip


class WorkflowUpdate(BaseModel):
    """A new definition; ``version`` is the one you read (a stale one answers 409)."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1)
    definition: WorkflowDefinition


class ExecuteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input_data: Any = None


class ExecutionAccepted(BaseModel):
    execution_id: str
    status: Literal["queued", "running", "succeeded", "failed", "cancelled", "timed_out"]


class StepPublic(BaseModel):
    step_id: str
    node_id: str
    agent: str
    role: str
    status: str
    input: Any = None
    output: Any = None
    attempts: int
    input_tokens: int
    output_tokens: int
    cost: float | None
    model: str
    started_at: float
    ended_at: float | None
    duration: float | None
    error: dict[str, Any] | None
    tool_calls: list[dict[str, Any]]

    @classmethod
    def of(cls, r: StepRecord) -> StepPublic:
        data = r.to_dict()
        data.pop("execution_id", None)
        data.pop("seq", None)
        return cls(**data, duration=r.duration)


class ExecutionPublic(BaseModel):
    execution_id: str
    workflow_id: str
    workflow_name: str
    status: str
    input: Any = None
    output: Any = None
    error: dict[str, Any] | None = None
    created_at: float
    started_at: float | None
    ended_at: float | None
    duration: float | None
    input_tokens: int
    output_tokens: int
    cost: float | None
    steps: int
    step_records: list[StepPublic] | None = None

    @classmethod
    def of(cls, r: ExecutionRecord, steps: list[StepRecord] | None = None) -> ExecutionPublic:
        duration = None
        if r.started_at is not None and r.ended_at is not None:
            duration = r.ended_at - r.started_at
        return cls(
            **{k: v for k, v in r.to_dict().items() if k != "owner"},
            duration=duration,
            step_records=[StepPublic.of(s) for s in steps] if steps is not None else None,
        )


class ExecutionPage(BaseModel):
    items: list[ExecutionPublic]
    next_cursor: str | None


class LogPublic(BaseModel):
    seq: int
    time: float
    level: str
    message: str
    agent_role: str | None
    step_id: str | None
    metadata: dict[str, Any]

    @classmethod
    def of(cls, r: LogRecord) -> LogPublic:
        return cls(seq=r.seq, time=r.time, level=r.level, message=r.message,
                   agent_role=r.agent_role, step_id=r.step_id,
                   metadata=r.metadata)  # fmt: skip


class LogsPublic(BaseModel):
    logs: list[LogPublic]
    next_after: int
