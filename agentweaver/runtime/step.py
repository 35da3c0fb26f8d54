"""``execute_step``: the one place an agent step runs, on every executor.

The local runner calls it directly and the agent-step Lambda wraps it, so a step behaves the
same everywhere. It runs exactly one attempt: retries belong to the executor (the runner's
retry loop, or Step Functions ``Retry``), so on failure it records the attempt and raises a
typed error whose class name the executor matches.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from agentweaver.agents import Agent, AgentResult, Spent
from agentweaver.exceptions import (
    AgentWeaverError,
    StepFailed,
    StepTimeout,
)
from agentweaver.messaging.skills import match_answer
from agentweaver.models.base import Model
from agentweaver.models.keys import KeySource
from agentweaver.models.messages import ModelRequestParameters
from agentweaver.runtime.budget import BudgetTracker
from agentweaver.stores.base import Store
from agentweaver.stores.records import StepRecord
from agentweaver.tools.context import ToolContext
from agentweaver.tools.redact import redact, truncate
from agentweaver.tools.sandbox_paths import safe_segment
from agentweaver.workflow.result import Event

__all__ = ["StepDeps", "StepInput", "StepOutput", "execute_step"]


@dataclass(slots=True)
class StepInput:
    """Everything one attempt needs, serialisable for a Lambda event."""

    execution_id: str
    step_id: str
    node_id: str
    agent: str
    input: Any
    attempt: int = 1
    timeout: float = 30.0
    owner: str = "local"
    context: dict[str, Any] = field(default_factory=dict)
    choices: dict[str, str] | None = None  # set for a route's router step
    seq: int = 0
    # what earlier attempts of this step spent: a step's record shows the total of its attempts
    prior_input_tokens: int = 0
    prior_output_tokens: int = 0
    prior_cost: float | None = 0.0


@dataclass(slots=True)
class StepOutput:
    step_id: str
    output: Any
    record: StepRecord


@dataclass
class StepDeps:
    """The injection point: where agents, the store, budgets and events come from."""

    agents: Mapping[str, Agent]
    store: Store | None = None
    budget: BudgetTracker | None = None
    model_override: Model | None = None
    emit: Callable[[Event], None] | None = None
    clock: Callable[[], float] = time.time
    replay: bool = False  # return a recorded success instead of re-running (Lambda redelivery)
    stream: bool = False  # emit ``step_delta`` events with answer text as it arrives
    keys: KeySource | None = None  # provider keys for this execution (a tenant's, as a service)
    tool_settings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    sandbox_root: Path | None = None  # file tools get <root>/<tenant>/<execution id>
    _models: dict[str, Model] = field(default_factory=dict, repr=False)

    def model_for(self, agent: Agent) -> Model | None:
        """The model a step uses: the override, else one built with ``keys`` (cached)."""
        if self.model_override is not None or self.keys is None:
            return self.model_override
        if agent.name not in self._models:
            self._models[agent.name] = agent.build_model(self.keys)
        return self._models[agent.name]


def _emit(deps: StepDeps, event: Event) -> None:
    if deps.emit is not None:
        deps.emit(event)


def _tool_context(deps: StepDeps, step: StepInput) -> ToolContext:
    sandbox = None
    if deps.sandbox_root is not None:
        # an absolute or dotted owner/execution id must not move the sandbox (Path("/r") / "/etc")
        owner = safe_segment(step.owner, "tenant")
        execution = safe_segment(step.execution_id, "execution id")
        sandbox = deps.sandbox_root / owner / execution
    return ToolContext(step.owner, step.execution_id, step.step_id, sandbox, deps.tool_settings)


def _delta_emitter(deps: StepDeps, step: StepInput) -> Callable[[str], None]:
    def emit(text: str) -> None:
        _emit(deps, Event("step_delta", step.execution_id, deps.clock(), step.step_id,
                          step.agent, step.attempt, {"text": text}))  # fmt: skip

    return emit


def _add_spend(record: StepRecord, tokens_in: int, tokens_out: int, cost: float | None) -> None:
    record.input_tokens += tokens_in
    record.output_tokens += tokens_out
    record.cost = None if record.cost is None or cost is None else record.cost + cost


def _spent(exc: BaseException) -> Spent | None:
    """The usage an agent attached to its failure (also behind a timeout's cancellation)."""
    seen: BaseException | None = exc
    for _ in range(4):
        if seen is None:
            return None
        spent = getattr(seen, "agentweaver_spent", None)
        if isinstance(spent, Spent):
            return spent
        seen = seen.__cause__ or seen.__context__
    return None


def _as_error(exc: BaseException, step: StepInput) -> AgentWeaverError:
    if isinstance(exc, AgentWeaverError):
        return exc
    if isinstance(exc, TimeoutError):
        return StepTimeout(f"step {step.step_id!r} timed out after {step.timeout:g}s")
    return StepFailed(f"step {step.step_id!r}: {type(exc).__name__}: {exc}")


async def execute_step(step: StepInput, deps: StepDeps) -> StepOutput:
    """Run one attempt of one agent step; record it; return its output or raise a typed error."""
    store = deps.store
    if deps.replay and store is not None:
        done = store.get_step(step.execution_id, step.step_id)
        if done is not None and done.status == "succeeded":
            return StepOutput(step.step_id, done.output, done)
    agent = deps.agents[step.agent]
    started = deps.clock()
    record = StepRecord(
        execution_id=step.execution_id,
        step_id=step.step_id,
        node_id=step.node_id,
        agent=step.agent,
        role=agent.config.role,
        status="running",
        input=step.input,
        attempts=step.attempt,
        started_at=started,
        seq=step.seq,
        input_tokens=step.prior_input_tokens,
        output_tokens=step.prior_output_tokens,
        cost=step.prior_cost,
    )
    _emit(
        deps,
        Event(
            "step_started",
            step.execution_id,
            started,
            step.step_id,
            step.agent,
            step.attempt,
            {"record": record},  # updated in place, so a cancelled attempt's record shows it
        ),
    )
    try:
        if deps.budget is not None:
            deps.budget.before_step(step.attempt)
        params = ModelRequestParameters(choices=dict(step.choices)) if step.choices else None
        async with asyncio.timeout(step.timeout):
            result: AgentResult = await agent.execute(
                step.input,
                step.context,
                model=deps.model_for(agent),
                params=params,
                on_text=_delta_emitter(deps, step) if deps.stream else None,
                tool_context=_tool_context(deps, step),
            )
    except asyncio.CancelledError:
        record.status, record.ended_at = "cancelled", deps.clock()
        if store is not None:
            store.save_step(record)
        raise
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        error = _as_error(exc, step)
        record.status, record.ended_at, record.error = "failed", deps.clock(), error.to_dict()
        spent = _spent(exc)
        if spent is not None:  # a failed attempt's model calls were still paid for
            _add_spend(record, spent.usage.input_tokens, spent.usage.output_tokens, spent.cost)
            if deps.budget is not None:
                deps.budget.after_step(spent.usage.total_tokens, spent.cost)
        if store is not None:
            store.save_step(record)
            level = "WARNING" if error.retryable else "ERROR"
            store.append_log(
                step.execution_id,
                level,
                f"{step.step_id} attempt {step.attempt} failed: {error}",
                agent_role=agent.config.role,
                step_id=step.step_id,
                metadata=record.error,
            )
        _emit(
            deps,
            Event(
                "step_failed",
                step.execution_id,
                record.ended_at,
                step.step_id,
                step.agent,
                step.attempt,
                {"error": record.error, "record": record},
            ),
        )
        if error is exc:
            raise
        raise error from exc

    output: Any = result.output
    if isinstance(output, BaseModel):  # structured output travels as JSON data
        output = output.model_dump(mode="json")
    if step.choices:
        output = match_answer(result.text, {name: (name,) for name in step.choices})
    usage = result.usage
    record.status, record.ended_at, record.output = "succeeded", deps.clock(), output
    _add_spend(record, usage.input_tokens, usage.output_tokens, result.cost)
    record.model = result.model_name
    record.tool_calls = [
        {
            "name": c.name,
            "arguments": redact(c.arguments),
            "result": truncate(redact(c.result)),
            "is_error": c.is_error,
            "duration": round(c.duration, 6),
        }
        for c in result.tool_calls
    ]
    if deps.budget is not None:
        deps.budget.after_step(usage.input_tokens + usage.output_tokens, result.cost)
    if store is not None:
        store.save_step(record)
        store.append_log(
            step.execution_id,
            "INFO",
            f"{step.step_id} succeeded: {record.total_tokens} tokens in "
            f"{record.ended_at - started:.3f}s",
            agent_role=agent.config.role,
            step_id=step.step_id,
        )
    _emit(
        deps,
        Event(
            "step_succeeded",
            step.execution_id,
            record.ended_at,
            step.step_id,
            step.agent,
            step.attempt,
            {"record": record},
        ),
    )
    return StepOutput(step.step_id, output, record)
