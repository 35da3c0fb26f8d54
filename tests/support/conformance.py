"""Run one workflow on the local runner and as compiled ASL under moto; compare the records.

What must be identical: the final status and output, the error's type on the failure path,
and every step's status, output, attempts and error type (a step's ``attempts`` is its
retry count plus one on both executors). Where an executor is free to differ (siblings of a
failing parallel branch may or may not have finished when the failure stops the fan-out,
on both executors), only the steps both finished are compared, and a step that failed in
both may have been stopped after fewer retries on one of them.
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentweaver.agents import Agent
from agentweaver.models.base import Model
from agentweaver.runtime.payloads import DirectoryPayloads
from agentweaver.runtime.serverless import LoadedWorkflow, StepEnvironment
from agentweaver.stores.records import StepRecord
from agentweaver.stores.sqlite import SQLiteStore
from agentweaver.workflow.ir import Workflow
from agentweaver.workflow.runner import LocalRunner
from support.moto_sfn import SfnRun, StepFunctionsHarness

TERMINAL_STEP = {"succeeded", "failed"}


@dataclass
class Outcome:
    status: str
    output: Any
    error: str | None
    steps: dict[str, StepRecord]
    run: SfnRun | None = None
    troubled: bool = False  # something failed (even if skipped): siblings may be cut short

    def step_view(self, step_id: str) -> tuple[Any, ...]:
        r = self.steps[step_id]
        return (r.status, r.output, r.attempts, (r.error or {}).get("type"))


async def _instant(delay: float) -> None:
    await asyncio.sleep(0)


def run_local(
    workflow: Workflow,
    agents: Mapping[str, Agent],
    value: Any,
    *,
    model_override: Model | None = None,
) -> Outcome:
    store = SQLiteStore(":memory:")
    runner = LocalRunner(store, sleep=_instant, model_override=model_override)
    execution_id = uuid.uuid4().hex
    result = asyncio.run(runner.run(workflow, value, agents=agents, execution_id=execution_id))
    record = store.get_execution("local", execution_id)
    assert record is not None
    steps = {s.step_id: s for s in store.list_steps(execution_id)}
    error = result.errors[-1] if result.status == "failed" and result.errors else None
    store.close()
    troubled = bool(result.errors) or any(s.status != "succeeded" for s in steps.values())
    name = type(error).__name__ if error else None
    return Outcome(result.status, result.output, name, steps, troubled=troubled)


def run_sfn(
    harness: StepFunctionsHarness,
    workflow: Workflow,
    agents: Mapping[str, Agent],
    value: Any,
    *,
    offload_bytes: int = 64 * 1024,
    payload_dir: Path | None = None,
    model_override: Model | None = None,
) -> Outcome:
    store = SQLiteStore(":memory:")
    payloads = DirectoryPayloads(payload_dir or Path(tempfile.mkdtemp(prefix="aw-payloads-")))
    loaded = LoadedWorkflow(workflow, agents)

    def source(owner: str, name: str) -> LoadedWorkflow:
        assert name == workflow.name
        return loaded

    harness.use(
        StepEnvironment(
            workflows=source,
            store=store,
            payloads=payloads,
            offload_bytes=offload_bytes,
            model_override=model_override,
        )
    )
    execution_id = uuid.uuid4().hex
    machine = harness.deploy(workflow)
    run = harness.run(machine, value, execution_id=execution_id)
    record = store.get_execution("local", execution_id)
    assert record is not None, "the state machine did not record the execution"
    status = {"SUCCEEDED": "succeeded", "FAILED": "failed"}.get(run.status, run.status)
    assert record.status == status, (record.status, run.status, run.error, run.cause)
    steps = {s.step_id: s for s in store.list_steps(execution_id)}
    store.close()
    error = (record.error or {}).get("type") if status == "failed" else None
    assert status != "failed" or error == run.error, (error, run.error)
    return Outcome(status, record.output, error, steps, run)


def assert_same(local: Outcome, remote: Outcome) -> None:
    context = f"local={local.status}/{local.error} sfn={remote.status}/{remote.error}"
    assert remote.status == local.status, context
    if local.status == "succeeded":
        assert remote.output == local.output, context
    if not local.troubled:  # nothing failed: nothing was cut short, every record must match
        assert sorted(remote.steps) == sorted(local.steps), context
    else:
        failed_types = {
            (s.error or {}).get("type") for s in [*local.steps.values(), *remote.steps.values()]
        }
        if remote.error != local.error:  # two branches failed differently: either may surface
            allowed = failed_types | {"InvalidData", "NoRouteMatched"}
            assert {remote.error, local.error} <= allowed, context
    for step_id in set(local.steps) & set(remote.steps):
        here, there = local.steps[step_id], remote.steps[step_id]
        if not local.troubled or here.status == there.status == "succeeded":
            assert remote.step_view(step_id) == local.step_view(step_id), (step_id, context)
        elif {here.status, there.status} == {"succeeded", "failed"}:
            raise AssertionError((step_id, "succeeded on one executor only", context))
        elif here.status == there.status == "failed":  # a sibling's failure may cut its retries
            assert here.error == there.error or here.attempts != there.attempts, (step_id, context)
