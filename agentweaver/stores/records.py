"""What the store keeps: plain records shared by every backend (SQLite, DynamoDB)."""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentweaver.workflow.definition import WorkflowDefinition

__all__ = [
    "ApiKeyRecord",
    "ExecutionRecord",
    "ExecutionStatus",
    "LogRecord",
    "ProviderKeyRecord",
    "StepRecord",
    "UsageRecord",
    "WorkflowRecord",
]

TERMINAL = frozenset({"succeeded", "failed", "cancelled", "timed_out"})


class ExecutionStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"

    @property
    def terminal(self) -> bool:
        return self.value in TERMINAL


@dataclass
class WorkflowRecord:
    owner: str
    workflow_id: str
    name: str
    definition: dict[str, Any]
    description: str = ""
    version: int = 1
    created_at: float = 0.0
    updated_at: float = 0.0
    state_machine_arn: str | None = None

    @classmethod
    def first_version(cls, owner: str, definition: WorkflowDefinition) -> WorkflowRecord:
        """Version 1 of a new workflow, under a fresh id (the API's and the examples')."""
        now = time.time()
        return cls(
            owner=owner,
            workflow_id=uuid.uuid4().hex[:16],
            name=definition.name,
            description=definition.description,
            definition=definition.model_dump(mode="json", exclude_none=True),
            version=1,
            created_at=now,
            updated_at=now,
        )


@dataclass
class ExecutionRecord:
    owner: str
    execution_id: str
    workflow_id: str
    workflow_name: str
    status: str = ExecutionStatus.QUEUED.value
    input: Any = None
    output: Any = None
    error: dict[str, Any] | None = None
    created_at: float = 0.0
    started_at: float | None = None
    ended_at: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float | None = 0.0
    steps: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class StepRecord:
    """One agent step: the last attempt's outcome, with how many attempts it took."""

    execution_id: str
    step_id: str
    node_id: str
    agent: str
    role: str
    status: str  # running | succeeded | failed | cancelled
    input: Any = None
    output: Any = None
    attempts: int = 1
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float | None = 0.0
    model: str = ""
    started_at: float = 0.0
    ended_at: float | None = None
    error: dict[str, Any] | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    seq: int = 0  # order the runner reached the step in

    @property
    def duration(self) -> float | None:
        return None if self.ended_at is None else self.ended_at - self.started_at

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class LogRecord:
    execution_id: str
    seq: int
    time: float
    level: str  # DEBUG | INFO | WARNING | ERROR
    message: str
    agent_role: str | None = None
    step_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class UsageRecord:
    """One owner's counters for one day: ``input_tokens``, ``cost_usd``, ``executions``..."""

    owner: str
    day: str  # YYYY-MM-DD, UTC
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass
class ApiKeyRecord:
    """A platform API key; the secret itself is never stored, only its SHA-256."""

    owner: str
    key_id: str  # public id, shown in lists and used to revoke
    key_hash: str  # hex SHA-256 of the secret: the lookup key
    name: str = ""
    prefix: str = ""  # the secret's first characters, a hint to recognise it
    scopes: list[str] = field(default_factory=list)
    created_at: float = 0.0
    last_used_at: float | None = None


@dataclass
class ProviderKeyRecord:
    """A tenant's key for a model provider, as ciphertext only (see ``agentweaver.keys``)."""

    owner: str
    provider: str
    ciphertext: str  # base64 of what the key vault returned
    hint: str = ""  # masked, e.g. "sk-…a1b2"
    updated_at: float = 0.0
