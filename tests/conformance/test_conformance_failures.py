"""The failure paths, on both executors: retries, permanent failures, on_error, budgets,
timeouts, unmatched routes and bad foreach data, each compared record for record."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from support.conformance import Outcome, assert_same, run_local, run_sfn
from support.moto_sfn import StepFunctionsHarness
from support.scripted import Behaviour, ScriptedAgent

from agentweaver.agents import Agent
from agentweaver.models.messages import ModelResponse
from agentweaver.models.test import FunctionModel, TestModel
from agentweaver.workflow.binding import bind_agents
from agentweaver.workflow.ir import Workflow
from agentweaver.workflow.loader import load_workflow


def wf(body: str) -> Workflow:
    agents = "agents:\n" + "".join(
        f"  {n}: {{role: {n.upper()}, model: test, retry: {{retries: 2, interval: 0.5}}}}\n"
        for n in "abc"
    )
    return load_workflow("w.yaml", f"name: failures\n{agents}{body}")


def both(
    sfn: StepFunctionsHarness,
    workflow: Workflow,
    behaviours: dict[str, Behaviour],
    value: Any = None,
) -> tuple[Outcome, Outcome]:
    def agents() -> dict[str, Agent]:
        return {n: ScriptedAgent(n, behaviours.get(n, Behaviour())) for n in "abc"}

    local = run_local(workflow, agents(), value or {"items": [1, 2]})
    remote = run_sfn(sfn, workflow, agents(), value or {"items": [1, 2]})
    assert_same(local, remote)
    return local, remote


def test_transient_failure_succeeds_after_retries(sfn: StepFunctionsHarness) -> None:
    workflow = wf(
        "flow:\n  sequence:\n"
        "    - {agent: a, retry: {retries: 3, interval: 1, backoff_rate: 2, jitter: none}}\n"
        "    - b\n"
    )
    before = len(sfn.sleeps)
    local, remote = both(sfn, workflow, {"a": Behaviour(flaky=2)})
    assert local.status == "succeeded"
    assert remote.steps["a"].attempts == 3
    assert remote.run is not None
    assert remote.run.count("TaskFailed") == 2  # two failed attempts, retried by Retry
    assert sfn.sleeps[before:] == [1, 2]  # IntervalSeconds, then x BackoffRate


def test_permanent_failure_ends_failed_with_the_error_recorded(sfn: StepFunctionsHarness) -> None:
    workflow = wf("flow:\n  sequence: [a, b, c]\n")
    _local, remote = both(sfn, workflow, {"b": Behaviour(broken=True)})
    assert remote.status == "failed"
    assert remote.error == "ModelInvalidRequest"  # not retryable: one attempt
    assert remote.steps["b"].attempts == 1
    assert "c" not in remote.steps
    assert remote.run is not None
    assert remote.run.status == "FAILED"
    assert remote.run.error == "ModelInvalidRequest"
    assert "b refuses b" in (remote.run.cause or "")


def test_retries_exhausted_fail_with_the_last_error(sfn: StepFunctionsHarness) -> None:
    workflow = wf("flow:\n  sequence: [a, b]\n")
    _local, remote = both(sfn, workflow, {"a": Behaviour(flaky=5)})
    assert remote.error == "ModelUnavailable"
    assert remote.steps["a"].attempts == 3
    assert remote.run is not None
    assert remote.run.count("TaskFailed") == 3


def test_on_error_continue_records_and_continues(sfn: StepFunctionsHarness) -> None:
    workflow = wf("flow:\n  sequence:\n    - {agent: a, on_error: continue}\n    - b\n")
    _local, remote = both(sfn, workflow, {"a": Behaviour(broken=True)}, {"x": 1})
    assert remote.status == "succeeded"
    assert remote.steps["a"].status == "failed"
    assert remote.steps["b"].input == {"x": 1}  # the skipped step's input flowed on


def test_flow_node_under_on_error_continue(sfn: StepFunctionsHarness) -> None:
    workflow = wf("flow:\n  sequence:\n    - {parallel: [a, b], on_error: continue}\n    - c\n")
    _local, remote = both(sfn, workflow, {"b": Behaviour(broken=True)}, {"x": 2})
    assert remote.status == "succeeded"
    # the node's on_error reaches its steps: b is skipped, its input stands for its output
    assert remote.steps["c"].input[1] == {"x": 2}
    assert remote.steps["b"].status == "failed"


def test_budget_stop_ends_cleanly(sfn: StepFunctionsHarness) -> None:
    workflow = wf("budget: {max_steps: 2}\nflow:\n  sequence: [a, b, c]\n")
    _local, remote = both(sfn, workflow, {})
    assert remote.status == "failed"
    assert remote.error == "BudgetExceeded"
    assert remote.steps["a"].status == remote.steps["b"].status == "succeeded"
    assert remote.steps["c"].status == "failed"
    assert remote.steps["c"].input_tokens == 0  # stopped before it called a model


def test_budget_stop_is_not_swallowed_by_on_error_continue(sfn: StepFunctionsHarness) -> None:
    workflow = wf(
        "budget: {max_steps: 1}\n"
        "flow:\n  sequence:\n    - a\n    - {agent: b, on_error: continue}\n"
    )
    _local, remote = both(sfn, workflow, {})
    assert remote.error == "BudgetExceeded"


def test_a_catch_all_retry_policy_never_retries_a_spent_budget(sfn: StepFunctionsHarness) -> None:
    workflow = wf(
        "budget: {max_steps: 1}\n"
        "flow:\n  sequence:\n    - a\n"
        "    - {agent: b, retry: {retries: 3, interval: 1, errors: [States.ALL]}}\n"
    )
    _local, remote = both(sfn, workflow, {})
    assert remote.error == "BudgetExceeded"
    assert remote.steps["b"].attempts == 1
    assert remote.run is not None
    assert remote.run.count("TaskFailed") == 1


def test_no_route_matched(sfn: StepFunctionsHarness) -> None:
    workflow = wf(
        "flow:\n  route:\n    cases:\n      - {name: x, when: {path: $.kind, equals: x}, do: a}\n"
    )
    _local, remote = both(sfn, workflow, {}, {"kind": "y"})
    assert remote.error == "NoRouteMatched"
    assert remote.steps == {}


def test_foreach_over_something_else_than_a_list(sfn: StepFunctionsHarness) -> None:
    workflow = wf("flow:\n  foreach: $.items\n  do: a\n")
    _local, remote = both(sfn, workflow, {}, {"items": "not a list"})
    assert remote.error == "InvalidData"
    assert remote.run is not None
    assert "must be a list, got str" in (remote.run.cause or "")


def test_step_timeout_is_the_same_error(sfn: StepFunctionsHarness) -> None:
    async def slow(messages: Any, info: Any) -> ModelResponse:
        await asyncio.sleep(1.0)
        return ModelResponse("late")

    workflow = wf("flow:\n  sequence:\n    - {agent: a, timeout: 0.05}\n")
    agents = bind_agents(workflow.agents, {})
    agents = {n: a.with_model(FunctionModel(slow)) for n, a in agents.items()}
    local = run_local(workflow, agents, "x")
    remote = run_sfn(sfn, workflow, agents, "x")
    assert local.error == remote.error == "StepTimeout"
    assert_same(local, remote)


def test_router_and_parallel_and_loop_records_match(sfn: StepFunctionsHarness) -> None:
    workflow = wf(
        "flow:\n  sequence:\n"
        "    - parallel: [a, {foreach: $.items, do: b}]\n"
        "      max_parallel: 1\n"
        "    - loop: c\n      max_iterations: 3\n"
    )
    _local, remote = both(sfn, workflow, {"b": Behaviour(flaky=1)})
    assert remote.status == "succeeded"
    assert sorted(remote.steps) == ["a", "b[0]", "b[1]", "c#1", "c#2", "c#3"]
    assert remote.steps["b[1]"].attempts == 2


@pytest.mark.parametrize("value", [None, "text", 3, [1, 2], {"nested": {"k": [True]}}])
def test_any_json_input_flows_through(sfn: StepFunctionsHarness, value: Any) -> None:
    workflow = wf("flow:\n  sequence: [a]\n")
    model = TestModel()
    local = run_local(workflow, bind_agents(workflow.agents, {}), value, model_override=model)
    remote = run_sfn(sfn, workflow, bind_agents(workflow.agents, {}), value, model_override=model)
    assert_same(local, remote)
    assert json.dumps(remote.steps["a"].input) == json.dumps(value)
