"""One run of a workflow: the walk over the IR that ``LocalRunner`` starts.

Each agent step goes through ``execute_step``; around it this adds what Step Functions adds
there: retries with backoff and jitter, bounded concurrency for ``parallel``/``foreach``,
routing, loops and ``on_error``. Step ids are the node id plus ``[i]`` per foreach item and
``#k`` per loop iteration, the same on both executors.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, Any

from agentweaver.exceptions import (
    AgentWeaverError,
    BudgetExceeded,
    ExecutionCancelled,
    InvalidData,
    ModelRateLimited,
    NoRouteMatched,
)
from agentweaver.runtime.step import StepDeps, StepInput, execute_step
from agentweaver.stores.records import StepRecord
from agentweaver.workflow.conditions import MISSING, resolve_path
from agentweaver.workflow.ir import (
    AgentStep,
    Foreach,
    Loop,
    Node,
    Parallel,
    Route,
    Sequence,
    Workflow,
)
from agentweaver.workflow.result import Event

if TYPE_CHECKING:
    from agentweaver.workflow.runner import LocalRunner

__all__ = ["Execution", "bounded"]


async def bounded(items: Iterable[Callable[[], Awaitable[Any]]], limit: int) -> list[Any]:
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
        errors = _leaves(group_error)
        # a budget stop must not hide behind an ordinary error that on_error: continue swallows
        stop = next((e for e in errors if isinstance(e, BudgetExceeded)), errors[0])
        raise stop from None
    return [t.result() for t in tasks]


def _leaves(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    found: list[BaseException] = []
    for exc in group.exceptions:
        found.extend(_leaves(exc) if isinstance(exc, BaseExceptionGroup) else [exc])
    return found


class Execution:
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
        self.workflow_id = workflow.name

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
            return await bounded(
                [partial(self.run_node, child, value, scope) for child in node.branches],
                node.max_parallel,
            )
        if isinstance(node, Foreach):
            items = resolve_path(value, node.items)
            if not isinstance(items, list):
                got = "nothing" if items is MISSING else type(items).__name__
                raise InvalidData(f"foreach {node.id!r}: {node.items} must be a list, got {got}")
            return await bounded(
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
                    earlier = self.records.get(step_id)  # carry this attempt's spend over
                    if earlier is not None:
                        step.prior_input_tokens = earlier.input_tokens
                        step.prior_output_tokens = earlier.output_tokens
                        step.prior_cost = earlier.cost
                    step.attempt += 1
                    continue
                if node.on_error == "continue":
                    self.errors.append(exc)
                    return None if choices else value  # as an ASL Catch keeping the state
                raise
