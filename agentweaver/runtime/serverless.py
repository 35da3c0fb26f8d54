"""The agent-step function's core: one Step Functions Task event in, the next state out.

``functions/agent_step/handler.py`` is a thin adapter over ``handle_step_event``. The event
shape is the contract documented in ``agentweaver.compiler.asl``; everything a step needs
beyond the event (the workflow and its agents, the store, payload offloading, models, keys)
comes from a ``StepEnvironment``, built from environment variables in Lambda and injected
by tests. Errors leave as AgentWeaver exceptions: Lambda reports the class name as the
error type, which the state machine's ``Retry``/``Catch`` match.

Idempotency: a step whose record already says *succeeded* is not run again (a redelivered
Task returns the recorded output), and an attempt already recorded as failed raises its
recorded error again instead of calling a model twice.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agentweaver.agents import Agent
from agentweaver.exceptions import (
    AgentWeaverError,
    DefinitionError,
    InvalidData,
    StepFailed,
    error_from_name,
)
from agentweaver.models.base import Model
from agentweaver.models.keys import KeySource
from agentweaver.runtime.budget import BudgetTracker
from agentweaver.runtime.finish import Totals, record_finish
from agentweaver.runtime.payloads import Payloads, PayloadStore, is_ref
from agentweaver.runtime.step import StepDeps, StepInput, execute_step
from agentweaver.stores.base import Store
from agentweaver.stores.records import ExecutionRecord, StepRecord
from agentweaver.workflow.conditions import _SEGMENT, MISSING, resolve_path
from agentweaver.workflow.ir import AgentStep, Foreach, Loop, Route, Workflow

__all__ = [
    "LoadedWorkflow",
    "StepEnvironment",
    "StepEvent",
    "handle_step_event",
]


@dataclass(frozen=True)
class LoadedWorkflow:
    """A workflow as the step function sees it: the IR and its bound agents."""

    workflow: Workflow
    agents: Mapping[str, Agent]


WorkflowSource = Callable[[str, str], LoadedWorkflow]  # (owner, workflow reference)


@dataclass
class StepEnvironment:
    """What the agent-step function needs besides its event; one per warm Lambda."""

    workflows: WorkflowSource
    store: Store | None = None
    payloads: PayloadStore | None = None
    model_override: Model | None = None
    keys_for: Callable[[str], KeySource] | None = None  # owner -> that tenant's provider keys
    offload_bytes: int = 64 * 1024
    sandbox_root: Path | None = None
    clock: Callable[[], float] = time.time
    # (name, value, unit): CloudWatch metrics on AWS (``aws.observability``), else nothing
    on_metric: Callable[[str, float, str], None] | None = None
    _seq: int = field(default=0, repr=False)

    def metric(self, name: str, value: float, unit: str = "Count") -> None:
        if self.on_metric is not None:
            self.on_metric(name, value, unit)

    def next_seq(self) -> int:
        """Start order of steps across one process; distinct, increasing (microseconds)."""
        self._seq = max(self._seq + 1, time.time_ns() // 1000)
        return self._seq


class State(BaseModel):
    """The data flowing between states (see the contract in ``agentweaver.compiler.asl``)."""

    model_config = ConfigDict(extra="allow")

    execution_id: str = Field(min_length=1, max_length=80)
    owner: str = Field(min_length=1, max_length=128)
    value: Any = None
    scope: str = ""
    loop: dict[str, Any] | None = None
    width: str = ""


class StepEvent(BaseModel):
    """A Task's ``Payload``: validated, so a malformed event fails with a clear message."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["step", "route", "select_skills", "finish", "evaluate", "expand"]
    workflow: str = Field(min_length=1)
    execution_id: str
    owner: str
    state: State
    node_id: str = ""
    agent: str = ""
    step_id: str = ""
    attempt: int = Field(default=0, ge=0)  # $$.State.RetryCount
    timeout: float = Field(default=30.0, gt=0)
    choices: dict[str, str] | None = None
    status: Literal["succeeded", "failed"] | None = None  # mode "finish"
    error: dict[str, Any] | None = None  # mode "finish" on the failure path


def handle_step_event(event: Any, env: StepEnvironment) -> dict[str, Any]:
    """Run what the event asks for and return the next state (a JSON-ready dict)."""
    try:
        request = StepEvent.model_validate(event)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'event'}: {e['msg']}" for e in exc.errors()
        )
        raise InvalidData(f"malformed agent-step event: {problems}") from None
    if request.state.execution_id != request.execution_id or request.state.owner != request.owner:
        raise InvalidData("malformed agent-step event: state belongs to another execution")
    payloads = Payloads(env.payloads, request.owner, request.execution_id, env.offload_bytes)
    if request.mode == "finish":
        return _finish(request, env, payloads)
    loaded = env.workflows(request.owner, request.workflow)
    state = request.state.model_dump()
    value = payloads.resolve(request.state.value)
    if request.mode == "evaluate":  # the state is kept; the decision goes to ``$.route``
        return {**state, "case": _evaluate(loaded.workflow, request, value)}
    if request.mode == "expand":
        return {**state, "value": _expand(loaded.workflow, request, value, payloads)}
    if request.mode == "select_skills":
        state["value"] = _select_skills(loaded.workflow, request, value)
        return state
    output = _run_step(request, env, loaded, value)
    state["value"] = payloads.offload(output, request.step_id, room=_room(request.state.width))
    return state


def _room(width: str) -> int | None:
    """Bytes one Map item may pass back inline: the Map's list must stay under the limit."""
    sizes = [int(part) for part in width.split("/") if part.isdigit()]
    if not sizes:
        return None
    fan = 1
    for size in sizes:
        fan *= max(1, size)
    return 192 * 1024 // fan


def _run_step(request: StepEvent, env: StepEnvironment, loaded: LoadedWorkflow, value: Any) -> Any:
    workflow = loaded.workflow
    if request.agent not in loaded.agents:
        raise DefinitionError(f"workflow {workflow.name!r} has no agent {request.agent!r}")
    attempt = request.attempt + 1
    store = env.store
    earlier = store.get_step(request.execution_id, request.step_id) if store else None
    if earlier is not None:
        if earlier.status == "succeeded":  # a redelivered Task: the recorded output, no rerun
            return earlier.output
        if earlier.attempts == attempt and earlier.status == "failed" and earlier.error:
            raise error_from_name(earlier.error.get("type", ""), earlier.error.get("message", ""))
    step = StepInput(
        execution_id=request.execution_id,
        step_id=request.step_id,
        node_id=request.node_id,
        agent=request.agent,
        input=value,
        attempt=attempt,
        timeout=request.timeout,
        owner=request.owner,
        choices=request.choices if request.mode == "route" else None,
        seq=earlier.seq if earlier is not None else env.next_seq(),
    )
    if earlier is not None and attempt > 1:  # a step's record totals all its attempts
        step.prior_input_tokens = earlier.input_tokens
        step.prior_output_tokens = earlier.output_tokens
        step.prior_cost = earlier.cost
    deps = StepDeps(
        agents=loaded.agents,
        store=store,
        budget=_budget(workflow, store, request),
        model_override=env.model_override,
        keys=env.keys_for(request.owner) if env.keys_for else None,
        tool_settings=workflow.definition.tool_settings,
        sandbox_root=env.sandbox_root,
        clock=env.clock,
    )
    started = time.perf_counter()
    try:
        return asyncio.run(execute_step(step, deps)).output
    except Exception:
        env.metric("StepsFailed", 1)
        raise
    finally:
        env.metric("StepDuration", (time.perf_counter() - started) * 1000, "Milliseconds")


def _budget(workflow: Workflow, store: Store | None, request: StepEvent) -> BudgetTracker:
    """The execution's spend so far, from its step records (the Lambda keeps no memory)."""
    tracker = BudgetTracker(workflow.budget)
    b = workflow.budget
    if store is None or (b.max_steps is None and b.max_tokens is None and b.max_usd is None):
        return tracker
    for record in store.list_steps(request.execution_id):
        if record.step_id != request.step_id:
            tracker.steps += 1
        tracker.after_step(record.input_tokens + record.output_tokens, record.cost)
    return tracker


def _node(workflow: Workflow, node_id: str) -> Any:
    for node in workflow.walk():
        if node.id == node_id:
            return node
    raise DefinitionError(f"workflow {workflow.name!r} has no node {node_id!r}")


def _select_skills(workflow: Workflow, request: StepEvent, value: Any) -> str | None:
    from agentweaver.messaging import select_by_skills

    route = _node(workflow, request.node_id)
    if not isinstance(route, Route):
        raise DefinitionError(f"node {request.node_id!r} is not a route")
    candidates = {}
    for case in route.cases:
        assert isinstance(case.body, AgentStep)
        spec = workflow.agents[case.body.agent]
        candidates[case.name] = (spec.role, f"{case.description} {spec.description}", spec.tools)
    return select_by_skills(value, candidates)


def _evaluate(workflow: Workflow, request: StepEvent, value: Any) -> str | None:
    """A rules route's case or a loop's ``exit``/``next``, for a value the Choice cannot see.

    An offloaded value is a reference in the state; the Choice sends it here so the rules
    are judged on the real data, with the same ``Condition.evaluate`` the local runner uses.
    """
    node = _node(workflow, request.node_id)
    if isinstance(node, Route):
        return next((c.name for c in node.cases if c.when is None or c.when.evaluate(value)), None)
    if isinstance(node, Loop):
        return "exit" if node.until is not None and node.until.evaluate(value) else "next"
    raise DefinitionError(f"node {request.node_id!r} has no rules to evaluate")


def _expand(workflow: Workflow, request: StepEvent, value: Any, payloads: Payloads) -> Any:
    """A foreach's items from an offloaded value, each large item offloaded on its own."""
    node = _node(workflow, request.node_id)
    if not isinstance(node, Foreach):
        raise DefinitionError(f"node {request.node_id!r} is not a foreach")
    items = resolve_path(value, node.items)
    if not isinstance(items, list):
        got = "nothing" if items is MISSING else type(items).__name__
        raise InvalidData(f"foreach {node.id!r}: {node.items} must be a list, got {got}")
    failed = getattr(request.state, "map_error", None)
    if failed and not is_ref(request.state.value):  # the Map failed on a list: not our case
        cause = failed.get("Cause") if isinstance(failed, dict) else failed
        raise StepFailed(f"foreach {node.id!r} failed: {cause}")
    room = _room(f"{request.state.width}/{len(items)}")
    small = [
        payloads.offload(item, f"{request.node_id}[{i}]#item", room=room)
        for i, item in enumerate(items)
    ]
    out: Any = small  # rebuilt under the items path, so the Map's ItemsPath finds the list
    for key, index in reversed(_SEGMENT.findall(node.items[1:])):
        out = {key: out} if key else [None] * int(index) + [out]
    return out


def _finish(request: StepEvent, env: StepEnvironment, payloads: Payloads) -> dict[str, Any]:
    """Make the execution's record terminal: status, output or error, totals, usage."""
    state = request.state
    store = env.store
    output = payloads.resolve(state.value) if request.status == "succeeded" else None
    error = _error_dict(request.error) if request.status == "failed" else None
    spent = _record_finish(store, request, env.clock(), output, error) if store else None
    if spent is not None:
        succeeded = request.status == "succeeded"
        env.metric("ExecutionsSucceeded" if succeeded else "ExecutionsFailed", 1)
        env.metric("CostUSD", spent.cost or 0.0, "None")
        env.metric("Tokens", spent.input_tokens + spent.output_tokens)
    return {"status": request.status, "value": state.value, "error": error}


def _error_dict(caught: dict[str, Any] | None) -> dict[str, Any]:
    """A caught ``{"Error", "Cause"}`` as the error shape the local runner records."""
    name = str((caught or {}).get("Error") or "StepFailed")
    cause = (caught or {}).get("Cause")
    message = cause if isinstance(cause, str) else ""
    try:  # a Lambda error's Cause is JSON with errorMessage
        parsed = json.loads(message) if message else None
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and "errorMessage" in parsed:
        message = str(parsed["errorMessage"])
    if name.startswith("States."):
        return {"type": name, "message": message}
    return error_from_name(name, message).to_dict() | {"type": name}


def _record_finish(
    store: Store,
    request: StepEvent,
    now: float,
    output: Any,
    error: dict[str, Any] | None,
) -> Totals | None:
    """What the run spent, when this call made the record terminal (a redelivered finish
    does not, and answers ``None``)."""
    steps: list[StepRecord] = store.list_steps(request.execution_id)
    record = store.get_execution(request.owner, request.execution_id)
    if record is None:  # started without the API (a console, a test): make the record now
        first = min((s.started_at for s in steps), default=now)
        record = ExecutionRecord(
            owner=request.owner,
            execution_id=request.execution_id,
            workflow_id=request.workflow,
            workflow_name=request.workflow,
            status="running",
            created_at=first,
            started_at=first,
        )
        store.create_execution(record)
    elif record.status in ("succeeded", "failed", "cancelled", "timed_out"):
        return None  # already terminal: a redelivered finish changes nothing
    spent = Totals(steps)
    record_finish(
        store,
        request.owner,
        request.execution_id,
        status=request.status or "failed",
        output=output,
        error=error,
        ended_at=now,
        seconds=max(0.0, now - (record.started_at or now)),
        spent=spent,
        workflow_id=record.workflow_id,
    )
    return spent


def error_of(exc: BaseException) -> dict[str, Any]:
    """The Lambda error body for ``exc`` (what the runtime sends; used by in-process tests)."""
    message = str(exc)
    if isinstance(exc, AgentWeaverError):
        message = exc.to_dict()["message"]
    return {"errorType": type(exc).__name__, "errorMessage": message}
