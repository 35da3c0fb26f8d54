"""What a run produces: the spec's ``WorkflowResult``, per-step records, and progress events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from agentweaver.stores.records import StepRecord

__all__ = ["Event", "EventKind", "WorkflowResult"]

EventKind = Literal[
    "execution_started",
    "step_started",
    "step_retrying",
    "step_delta",
    "step_succeeded",
    "step_failed",
    "execution_finished",
]


@dataclass(slots=True)
class Event:
    """A progress event; ``data`` carries what the kind needs (delay, error, usage...)."""

    kind: EventKind
    execution_id: str
    time: float
    step_id: str | None = None
    agent: str | None = None
    attempt: int = 0
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class WorkflowResult:
    """The spec's fields (``results``, ``execution_time``, ``total_cost``, ``errors``) and more."""

    execution_id: str
    workflow: str
    status: str
    output: Any = None
    results: list[Any] = field(default_factory=list)
    execution_time: float = 0.0
    total_cost: float | None = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    errors: list[Exception] = field(default_factory=list)
    steps: list[StepRecord] = field(default_factory=list)

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"

    def step(self, step_id: str) -> StepRecord:
        """The record of one step by id (``writer``, ``summarise[2]``, ``draft#3``)."""
        for record in self.steps:
            if record.step_id == step_id:
                return record
        raise KeyError(f"no step {step_id!r}; steps: {', '.join(s.step_id for s in self.steps)}")
