"""``LocalRunner``: walks the workflow IR with asyncio, in one process.

Each agent step goes through ``execute_step`` (shared with the Step Functions executor);
around it the runner adds what Step Functions adds there: ASL-style retries with backoff
and jitter, bounded concurrency for ``parallel``/``foreach``, routing, loops, ``on_error``,
budgets and cancellation. Step ids are ``node id`` + ``[i]`` per foreach item + ``#k`` per
loop iteration, the same on both executors.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from agentweaver.agents import Agent
from agentweaver.exceptions import (
    AgentWeaverError,
    BudgetExceeded,
    ExecutionCancelled,
    InvalidData,
    ModelRateLimited,
    NoRouteMatched,
)
from agentweaver.models.base import Model
from agentweaver.models.keys import KeySource
from agentweaver.runtime.budget import BudgetTracker
from agentweaver.runtime.step import StepDeps, StepInput, execute_step
from agentweaver.stores.base import Store
from agentweaver.stores.records import ExecutionRecord, StepRecord
from agentweaver.workflow.binding import bind_agents
from agentweaver.workflow.conditions import MISSING, resolve_path
from agentweaver.workflow.definition import WorkflowDefinition
from agentweaver.workflow.ir import (
    AgentStep,
    Foreach,
    Loop,
    Node,
    Parallel,
    Route,
    Sequence,
    Workflow,
    build_workflow,
)
from agentweaver.workflow.result import Event, WorkflowResult

__all__ = ["ExecutionHandle", "LocalRunner", "WorkflowLike"]

EventHandler = Callable[[Event], None]
Sleep = Callable[[float], Awaitable[None]]
WorkflowLike = Workflow | WorkflowDefinition | str | Path | Any  # Any: AgentWorkflow


def _resolve(workflow: WorkflowLike) -> tuple[Workflow, dict[str, Agent]]:
    from agentweaver.workflow.shorthand import AgentWorkflow

    if isinstance(workflow, AgentWorkflow):
        return workflow.workflow, dict(workflow.agent_objects)
    if isinstance(workflow, Workflow):
        return workflow, {}
    if isinstance(workflow, WorkflowDefinition):
        return build_workflow(workflow), {}
    if isinstance(workflow, str | Path):
        from agentweaver.workflow.loader import load_workflow

        return load_workflow(workflow), {}
    raise TypeError(
        f"cannot run a {type(workflow).__name__}; pass a definition, file or AgentWorkflow"
    )


async def _bounded(items: Iterable[Callable[[], Awaitable[Any]]], limit: int) -> list[Any]:
    """Run thunks, at most ``limit`` at once, results in order; a failure cancels the rest."""
    thunks = list(items)
    if len(thunks) == 1:
        return [await thunks[0]()]
    semaphore = asyncio.Semaphore(limit)

    async def one(thunk: Callable[[], Awaitable[Any]]) -> Any:
        async with semaphore:
            return await thunk()

    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(t)) for t in thunks]
    except BaseExceptionGroup as group_error:
        first = group_error.exceptions[0]
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        raise first from None
    return [t.result() for t in tasks]


class _Execution:
    """State of one run: its deps, counters and the records it collects."""

    def __init__(
        self,
        runner: LocalRunner,
        workflow: Workflow,
        execution_id: str,
        deps: StepDeps,
        context: dict[str, Any],
    ) -> None:
        self.runner = runner
        self.workflow = workflow
        self.execution_id = execution_id
        self.deps = deps
        self.context = context
        self.records: dict[str, StepRecord] = {}
        self.errors: list[Exception] = []
        self.seq = 0

    def emit(self, event: Event) -> None:
        if event.kind in ("step_started", "step_succeeded", "step_failed"):
            record = event.data.get("record")
            if isinstance(record, StepRecord):
                self.records[record.step_id] = record
        for handler in self.runner.handlers:
            handler(event)

    def cancel_record(self, step_id: str) -> None:
        record = self.records.get(step_id)
        if record is None:
            return
        record.status, record.ended_at = "cancelled", self.deps.clock()
        if self.deps.store is not None:
            self.deps.store.save_step(record)

    async def run_node(self, node: Node, value: Any, scope: str) -> Any:
        if isinstance(node, AgentStep):
            return await self.run_step(node, value, scope)
        if node.on_error != "continue":
            return await self.run_flow(node, value, scope)
        try:
            return await self.run_flow(node, value, scope)
        except (BudgetExceeded, ExecutionCancelled):
            raise
        except AgentWeaverError as exc:
            self.errors.append(exc)
            return value  # skip the whole node: its input flows on, as an ASL Catch would

    async def run_flow(self, node: Node, value: Any, scope: str) -> Any:
        if isinstance(node, Sequence):
            for child in node.steps:
                value = await self.run_node(child, value, scope)
            return value
        if isinstance(node, Parallel):
            return await _bounded(
                [partial(self.run_node, child, value, scope) for child in node.branches],
                node.max_parallel,
            )
        if isinstance(node, Foreach):
            items = resolve_path(value, node.items)
            if not isinstance(items, list):
                got = "nothing" if items is MISSING else type(items).__name__
                raise InvalidData(f"foreach {node.id!r}: {node.items} must be a list, got {got}")
            return await _bounded(
                [
                    partial(self.run_node, node.body, item, f"{scope}[{i}]")
                    for i, item in enumerate(items)
                ],
                node.max_parallel,
            )
        if isinstance(node, Route):
            return await self.run_route(node, value, scope)
        assert isinstance(node, Loop)
        for iteration in range(1, node.max_iterations + 1):
            value = await self.run_node(node.body, value, f"{scope}#{iteration}")
            if node.until is not None and node.until.evaluate(value):
                break
        return value

    async def run_route(self, node: Route, value: Any, scope: str) -> Any:
        chosen: str | None = None
        why: dict[str, Any] = {}
        if node.strategy == "rules":
            chosen = next(
                (c.name for c in node.cases if c.when is None or c.when.evaluate(value)), None
            )
        elif node.strategy == "agent":
            assert node.router is not None
            choices = {c.name: c.description or c.name for c in node.cases}
            chosen = await self.run_step(node.router, value, scope, choices=choices)
        else:
            from agentweaver.messaging import select_by_skills, skill_scores

            candidates = {}
            for case in node.cases:
                assert isinstance(case.body, AgentStep)
                spec = self.workflow.agents[case.body.agent]
                candidates[case.name] = (
                    spec.role,
                    f"{case.description} {spec.description}",
                    spec.tools,
                )
            chosen = select_by_skills(value, candidates)
            why["scores"] = skill_scores(value, candidates)
        self.log_route(node, scope, chosen, why)
        for case in node.cases:
            if case.name == chosen:
                return await self.run_node(case.body, value, scope)
        if node.default is not None:
            return await self.run_node(node.default, value, scope)
        raise NoRouteMatched(
            f"route {node.id!r}: no case matched {chosen!r} and there is no default"
        )

    def log_route(self, node: Route, scope: str, chosen: str | None, why: dict[str, Any]) -> None:
        """Say which case a route took and why, so a run can be understood afterwards."""
        store = self.deps.store
        if store is None:
            return
        names = {c.name for c in node.cases}
        taken = chosen if chosen in names else ("default" if node.default else "no case")
        store.append_log(
            self.execution_id,
            "INFO",
            f"route {node.id + scope} took {taken} (by {node.strategy})",
            step_id=node.id + scope,
            metadata={"chosen": chosen, **why},
        )

    async def run_step(
        self, node: AgentStep, value: Any, scope: str, choices: dict[str, str] | None = None
    ) -> Any:
        """Run one step with retries; under ``on_error: continue`` a failure skips it.

        A skipped step yields its input (the data flows on), except a router's, which yields
        no choice so the route takes its default.
        """
        step_id = node.id + scope
        self.seq += 1
        step = StepInput(
            execution_id=self.execution_id,
            step_id=step_id,
            node_id=node.id,
            agent=node.agent,
            input=value,
            timeout=node.timeout,
            owner=self.runner.owner,
            context=self.context,
            choices=choices,
            seq=self.seq,
        )
        while True:
            try:
                return (await execute_step(step, self.deps)).output
            except (BudgetExceeded, ExecutionCancelled):
                raise
            except AgentWeaverError as exc:
                policy = node.retry
                if step.attempt <= policy.retries and policy.retries_error(exc):
                    delay = policy.delay(step.attempt, self.runner.rng)
                    if isinstance(exc, ModelRateLimited) and exc.retry_after:
                        delay = max(delay, exc.retry_after)
                    self.emit(
                        Event(
                            "step_retrying",
                            self.execution_id,
                            time.time(),
                            step_id,
                            node.agent,
                            step.attempt,
                            {"delay": delay, "error": exc.to_dict()},
                        )
                    )
                    try:
                        await self.runner.sleep(delay)
                    except asyncio.CancelledError:
                        self.cancel_record(step_id)  # cancelled while waiting to retry
                        raise
                    step.attempt += 1
                    continue
                if node.on_error == "continue":
                    self.errors.append(exc)
                    return None if choices else value  # as an ASL Catch keeping the state
                raise


class ExecutionHandle:
    """A run in the background: wait for its result, watch it, or cancel it."""

    def __init__(
        self, execution_id: str, task: asyncio.Task[WorkflowResult], workflow: str = ""
    ) -> None:
        self.execution_id = execution_id
        self.workflow = workflow
        self._task = task

    def cancel(self) -> None:
        self._task.cancel()

    def done(self) -> bool:
        return self._task.done()

    async def result(self) -> WorkflowResult:
        """The result; a cancelled run gives a result with status ``cancelled``."""
        try:
            return await asyncio.shield(self._task)
        except asyncio.CancelledError:
            if self._task.cancelled():
                result: WorkflowResult | None = getattr(self._task, "agentweaver_result", None)
                if result is None:  # cancelled before it started: nothing ran
                    cancelled = ExecutionCancelled(f"execution {self.execution_id} was cancelled")
                    result = WorkflowResult(
                        self.execution_id, self.workflow, "cancelled", errors=[cancelled]
                    )
                return result
            raise


class LocalRunner:
    """Runs workflows in this process, recording everything in an optional store."""

    def __init__(
        self,
        store: Store | None = None,
        *,
        model_override: Model | str | None = None,
        owner: str = "local",
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        on_event: EventHandler | None = None,
        stream: bool = False,
        keys: KeySource | None = None,
    ) -> None:
        if isinstance(model_override, str):
            from agentweaver.models.registry import infer_model

            model_override = infer_model(model_override)
        self.store = store
        self.model_override = model_override
        self.owner = owner
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.handlers: list[EventHandler] = [on_event] if on_event else []
        self.stream = stream  # step_delta events carry answer text as it streams in
        self.keys = keys  # provider keys for every run (default: the environment)

    def start(
        self, workflow: WorkflowLike, input_data: Any = None, **kwargs: Any
    ) -> ExecutionHandle:
        """Start a run as a task (inside a running loop) and return a handle to it."""
        execution_id = kwargs.pop("execution_id", None) or uuid.uuid4().hex
        task = asyncio.get_running_loop().create_task(
            self.run(workflow, input_data, execution_id=execution_id, **kwargs)
        )
        definition = workflow if isinstance(workflow, WorkflowDefinition) else None
        definition = definition or getattr(workflow, "definition", None)  # Workflow, AgentWorkflow
        label = definition.name if isinstance(definition, WorkflowDefinition) else ""
        return ExecutionHandle(execution_id, task, label)

    async def run(
        self,
        workflow: WorkflowLike,
        input_data: Any = None,
        *,
        context: Mapping[str, Any] | None = None,
        agents: Mapping[str, Agent] | None = None,
        execution_id: str | None = None,
        workflow_id: str | None = None,
    ) -> WorkflowResult:
        """Run to the end. Failures are in the result (status ``failed``), not raised."""
        ir, bound = _resolve(workflow)
        bound.update(agents or {})
        execution_id = execution_id or uuid.uuid4().hex
        started_wall, started = time.time(), time.perf_counter()
        deps = StepDeps(
            agents=bind_agents(ir.agents, bound),
            store=self.store,
            budget=BudgetTracker(ir.budget),
            model_override=self.model_override,
            stream=self.stream,
            keys=self.keys,
        )
        run = _Execution(self, ir, execution_id, deps, dict(context or {}))
        deps.emit = run.emit
        store = self.store
        if store is not None:
            store.create_execution(
                ExecutionRecord(
                    owner=self.owner,
                    execution_id=execution_id,
                    workflow_id=workflow_id or ir.name,
                    workflow_name=ir.name,
                    status="running",
                    input=input_data,
                    created_at=started_wall,
                    started_at=started_wall,
                )
            )
            store.append_log(execution_id, "INFO", f"execution of {ir.name!r} started")
        run.emit(Event("execution_started", execution_id, started_wall, data={"workflow": ir.name}))
        result = WorkflowResult(execution_id, ir.name, "running")
        try:
            result.output = await run.run_node(ir.root, input_data, "")
            result.status = "succeeded"
        except asyncio.CancelledError:
            result.status = "cancelled"
            result.errors.append(ExecutionCancelled(f"execution {execution_id} was cancelled"))
            self._finish(run, result, started, started_wall)
            task = asyncio.current_task()
            if task is not None:
                task.agentweaver_result = result  # type: ignore[attr-defined]
            raise
        except AgentWeaverError as exc:
            result.status = "failed"
            result.errors.append(exc)
        self._finish(run, result, started, started_wall)
        return result

    def _finish(
        self, run: _Execution, result: WorkflowResult, started: float, started_wall: float
    ) -> None:
        result.errors[:0] = run.errors
        result.steps = sorted(run.records.values(), key=lambda r: r.seq)
        result.results = [r.output for r in result.steps if r.status == "succeeded"]
        result.execution_time = time.perf_counter() - started
        result.input_tokens = sum(r.input_tokens for r in result.steps)
        result.output_tokens = sum(r.output_tokens for r in result.steps)
        costs = [r.cost for r in result.steps]
        result.total_cost = None if any(c is None for c in costs) else sum(c or 0.0 for c in costs)
        ended = started_wall + result.execution_time
        error = result.errors[-1] if result.errors and result.status != "succeeded" else None
        error_dict = error.to_dict() if isinstance(error, AgentWeaverError) else None
        if self.store is not None:
            self._record(run, result, ended, error_dict)
        run.emit(
            Event(
                "execution_finished",
                run.execution_id,
                ended,
                data={"status": result.status, "error": error_dict},
            )
        )

    def _record(
        self, run: _Execution, result: WorkflowResult, ended: float, error: dict[str, Any] | None
    ) -> None:
        assert self.store is not None
        self.store.update_execution(
            self.owner,
            run.execution_id,
            status=result.status,
            output=result.output,
            error=error,
            ended_at=ended,
            input_tokens=result.input_tokens,
            output_tokens=result.output_tokens,
            cost=result.total_cost,
            steps=len(result.steps),
        )
        level = "INFO" if result.status == "succeeded" else "ERROR"
        reason = f": {error['type']}: {error['message']}" if error else ""
        self.store.append_log(run.execution_id, level, f"execution {result.status}{reason}")
        day = datetime.fromtimestamp(ended, UTC).strftime("%Y-%m-%d")
        self.store.add_usage(
            self.owner,
            day,
            {
                "executions": 1,
                f"executions_{result.status}": 1,
                "input_tokens": result.input_tokens,
                "output_tokens": result.output_tokens,
                "cost_usd": result.total_cost or 0.0,
                "steps": len(result.steps),
                "execution_seconds": result.execution_time,
            },
        )
