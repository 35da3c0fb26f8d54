"""``LocalRunner``: runs workflows in this process with asyncio, recording them in a store.

The walk itself lives in ``execution.py``; this module starts runs, hands out handles to
cancel or await them, and writes the execution record, its log and the day's usage.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from agentweaver.agents import Agent
from agentweaver.exceptions import (
    AgentWeaverError,
    DefinitionError,
    ExecutionCancelled,
    StepFailed,
)
from agentweaver.models.base import Model
from agentweaver.models.keys import KeySource
from agentweaver.runtime.budget import BudgetTracker
from agentweaver.runtime.finish import Totals, record_finish
from agentweaver.runtime.step import StepDeps
from agentweaver.stores.base import Store
from agentweaver.stores.records import ExecutionRecord
from agentweaver.workflow.binding import bind_agents
from agentweaver.workflow.definition import WorkflowDefinition
from agentweaver.workflow.execution import Execution
from agentweaver.workflow.ir import (
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
    raise DefinitionError(
        f"cannot run a {type(workflow).__name__}; pass a definition, file or AgentWorkflow"
    )


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
        tool_settings: Mapping[str, Mapping[str, Any]] | None = None,
        sandbox_root: Path | None = None,
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
        self.tool_settings = dict(tool_settings or {})  # merged over the workflow's own
        self.sandbox_root = sandbox_root  # file tools work in <root>/<owner>/<execution id>

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
        queued: bool = False,
    ) -> WorkflowResult:
        """Run to the end. Failures are in the result (status ``failed``), not raised.

        ``queued``: the execution's record already exists (an API created it ``queued``);
        the run marks it running instead of creating it.
        """
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
            tool_settings={**ir.definition.tool_settings, **self.tool_settings},
            sandbox_root=self.sandbox_root,
        )
        run = Execution(self, ir, execution_id, deps, dict(context or {}))
        run.workflow_id = workflow_id or ir.name
        deps.emit = run.emit
        store = self.store
        if store is not None and queued:
            store.update_execution(self.owner, execution_id, status="running",
                                   started_at=started_wall)  # fmt: skip
            store.append_log(execution_id, "INFO", f"execution of {ir.name!r} started")
        elif store is not None:
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
        except Exception as exc:  # a bug in user code (an event handler...): recorded, not lost
            result.status = "failed"
            result.errors.append(StepFailed(f"{type(exc).__name__}: {exc}"))
        self._finish(run, result, started, started_wall)
        return result

    def _finish(
        self, run: Execution, result: WorkflowResult, started: float, started_wall: float
    ) -> None:
        result.errors[:0] = run.errors
        result.steps = sorted(run.records.values(), key=lambda r: r.seq)
        result.results = [r.output for r in result.steps if r.status == "succeeded"]
        result.execution_time = time.perf_counter() - started
        spent = Totals(result.steps)
        result.input_tokens, result.output_tokens = spent.input_tokens, spent.output_tokens
        result.total_cost = spent.cost
        # never before the steps' own wall-clock times, even when the clocks drift apart
        ended = max(started_wall + result.execution_time, time.time())
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
        self, run: Execution, result: WorkflowResult, ended: float, error: dict[str, Any] | None
    ) -> None:
        assert self.store is not None
        record_finish(
            self.store,
            self.owner,
            run.execution_id,
            status=result.status,
            output=result.output,
            error=error,
            ended_at=ended,
            seconds=result.execution_time,
            spent=Totals(result.steps),
            workflow_id=run.workflow_id,
        )
