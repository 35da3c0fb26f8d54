"""``LocalExecutor``: runs executions in the server's event loop, a bounded number at once.

A run is an asyncio task owned by the executor, not by the request that started it, so a
client that disconnects does not stop it. On start, executions a previous process left
``queued`` or ``running`` are marked failed with ``ExecutionInterrupted``-style errors
(decision 0011): resuming would re-run agent steps whose model calls were already paid for.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentweaver.executors.base import ExecutionFinished, FinishedListener
from agentweaver.models.base import Model
from agentweaver.models.keys import KeySource
from agentweaver.runtime.user_code import refuse_foreign_code
from agentweaver.stores.base import Store
from agentweaver.stores.records import TERMINAL, ExecutionRecord, StepRecord, WorkflowRecord
from agentweaver.workflow.definition import WorkflowDefinition
from agentweaver.workflow.ir import build_workflow
from agentweaver.workflow.runner import LocalRunner

__all__ = ["LocalExecutor"]

log = logging.getLogger("agentweaver.executor")
KeysFor = Callable[[str], KeySource | None]


class LocalExecutor:
    def __init__(
        self,
        store: Store,
        *,
        max_concurrent: int = 4,
        model_override: Model | str | None = None,
        keys_for: KeysFor | None = None,
        sandbox_root: Path | None = None,
        on_finished: FinishedListener | None = None,
        code_modules: tuple[str, ...] | None = None,
    ) -> None:
        """``code_modules``: the agent modules stored definitions may import (agents as
        code); ``None`` trusts every definition (they were not written by API callers)."""
        self.store = store
        self.code_modules = code_modules
        self.model_override = model_override
        self.keys_for = keys_for
        self.sandbox_root = sandbox_root
        self.listeners: list[FinishedListener] = [on_finished] if on_finished else []
        self._slots = asyncio.Semaphore(max_concurrent)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self.max_concurrent = max_concurrent

    async def start(self) -> None:
        for record in self.store.list_unfinished():
            if record.execution_id in self._tasks:
                continue
            error = {
                "type": "ExecutionCancelled",
                "message": "interrupted: the server stopped while this execution ran",
            }
            self.store.update_execution(
                record.owner, record.execution_id, status="failed", error=error,
                ended_at=time.time(),
            )  # fmt: skip
            self.store.append_log(
                record.execution_id, "ERROR", f"execution failed: {error['message']}"
            )

    async def prepare(self, workflow: WorkflowRecord) -> WorkflowRecord:
        return workflow  # nothing to deploy: the runner reads the definition when it runs

    async def submit(self, execution: ExecutionRecord, workflow: WorkflowRecord) -> None:
        task = asyncio.get_running_loop().create_task(self._run(execution, workflow))
        self._tasks[execution.execution_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(execution.execution_id, None))

    async def _run(self, execution: ExecutionRecord, workflow: WorkflowRecord) -> None:
        started = time.perf_counter()
        status = "failed"
        handle = None
        try:
            async with self._slots:
                definition = WorkflowDefinition.model_validate(workflow.definition)
                if self.code_modules is not None:
                    refuse_foreign_code(definition, self.code_modules)
                ir = build_workflow(definition)
                runner = LocalRunner(
                    self.store,
                    owner=execution.owner,
                    model_override=self.model_override,
                    keys=self.keys_for(execution.owner) if self.keys_for else None,
                    sandbox_root=self.sandbox_root,
                    on_event=self._record_started,
                )
                handle = runner.start(
                    ir,
                    execution.input,
                    execution_id=execution.execution_id,
                    workflow_id=execution.workflow_id,
                    queued=True,
                )
                result = await handle.result()
                status = result.status
        except asyncio.CancelledError:
            status = "cancelled"
            if handle is not None:  # the run records itself cancelled, steps included
                handle.cancel()
                await handle.result()
            self._mark(execution, "cancelled", "cancelled before it started")
            raise
        except Exception as exc:  # a definition that no longer builds, a store failure
            log.exception("execution %s could not run", execution.execution_id)
            self._mark(execution, "failed", f"{type(exc).__name__}: {exc}")
        finally:
            event = ExecutionFinished(
                execution.owner, execution.execution_id, execution.workflow_id, status,
                time.perf_counter() - started,
            )  # fmt: skip
            for listener in self.listeners:
                listener(event)

    def _record_started(self, event: Any) -> None:
        """Record a step as it starts, so the API's readers (the console) see it running."""
        record = event.data.get("record") if event.kind == "step_started" else None
        if isinstance(record, StepRecord):
            self.store.save_step(record)

    def _mark(self, execution: ExecutionRecord, status: str, message: str) -> None:
        current = self.store.get_execution(execution.owner, execution.execution_id)
        if current is None or current.status in TERMINAL:
            return
        kind = "ExecutionCancelled" if status == "cancelled" else "StepFailed"
        self.store.update_execution(
            execution.owner, execution.execution_id, status=status,
            error={"type": kind, "message": message}, ended_at=time.time(),
        )  # fmt: skip

    async def cancel(self, owner: str, execution_id: str) -> bool:
        task = self._tasks.get(execution_id)
        record = self.store.get_execution(owner, execution_id)
        if task is None or record is None or task.done():
            return False
        task.cancel()
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=5)
        except (asyncio.CancelledError, TimeoutError):
            pass
        return True

    async def close(self) -> None:
        for task in list(self._tasks.values()):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    def active(self) -> int:
        return len(self._tasks)

    def describe(self) -> dict[str, Any]:
        return {"executor": "local", "max_concurrent": self.max_concurrent}
