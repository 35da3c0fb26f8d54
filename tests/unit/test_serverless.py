"""The agent-step function's core: ``handle_step_event`` in every mode.

The Lambda's wiring (``environment_from_env``, the handler module) is in ``test_payloads.py``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agentweaver.agents import Agent, AgentConfig
from agentweaver.exceptions import (
    BudgetExceeded,
    DefinitionError,
    InvalidData,
    ModelInvalidRequest,
    ModelUnavailable,
    StepFailed,
)
from agentweaver.models.messages import ModelMessage, ModelResponse, Usage, UserMessage
from agentweaver.models.test import FunctionModel, RequestInfo, TestModel
from agentweaver.runtime.payloads import DirectoryPayloads, Payloads, is_ref
from agentweaver.runtime.serverless import LoadedWorkflow, StepEnvironment, handle_step_event
from agentweaver.stores.records import ExecutionRecord, StepRecord
from agentweaver.stores.sqlite import SQLiteStore
from agentweaver.workflow.binding import bind_agents
from agentweaver.workflow.conditions import resolve_path
from agentweaver.workflow.ir import Workflow
from agentweaver.workflow.loader import load_workflow

AGENTS = """
agents:
  a: {role: Analyst, model: test}
  b: {role: Billing clerk, model: test, description: billing invoices refunds}
  c: {role: Support engineer, model: test, description: errors outages crashes}
"""
NOW = 1_700_000_000.0
DAY = datetime.fromtimestamp(NOW, UTC).strftime("%Y-%m-%d")
PAD = "p" * 3000  # makes a value big enough to offload at a 1 KB threshold


def wf(flow: str, extra: str = "") -> Workflow:
    return load_workflow("w.yaml", f"name: w\n{AGENTS}\nflow:\n{flow}\n{extra}")


def make_env(
    workflow: Workflow, agents: Mapping[str, Agent] | None = None, **kw: Any
) -> StepEnvironment:
    loaded = LoadedWorkflow(workflow, bind_agents(workflow.agents) if agents is None else agents)

    def source(owner: str, name: str) -> LoadedWorkflow:
        if name != workflow.name:
            raise DefinitionError(f"no workflow {name!r}")
        return loaded

    kw.setdefault("store", SQLiteStore(":memory:"))
    return StepEnvironment(workflows=source, clock=lambda: NOW, **kw)


def store_of(env: StepEnvironment) -> SQLiteStore:
    assert isinstance(env.store, SQLiteStore)
    return env.store


def rec(env: StepEnvironment, step_id: str = "a") -> StepRecord:
    record = store_of(env).get_step("e1", step_id)
    assert record is not None, f"no record for {step_id}"
    return record


def execution(env: StepEnvironment) -> ExecutionRecord:
    record = store_of(env).get_execution("o", "e1")
    assert record is not None
    return record


def ev(mode: str = "step", value: Any = None, **fields: Any) -> dict[str, Any]:
    state = {"execution_id": "e1", "owner": "o", "value": value, "scope": "", "loop": None,
             "width": ""}  # fmt: skip
    state.update(fields.pop("state", {}))
    return {"mode": mode, "workflow": "w", "execution_id": "e1", "owner": "o", "state": state,
            **fields}  # fmt: skip


def step_ev(value: Any = "hello", step: str = "a", attempt: int = 0, **kw: Any) -> dict[str, Any]:
    return ev("step", value, node_id=step, agent=kw.pop("agent", step), step_id=step,
              attempt=attempt, **kw)  # fmt: skip


def fn_agent(reply: Callable[[list[ModelMessage], RequestInfo], Any], **kw: Any) -> Agent:
    return Agent(AgentConfig(role="Analyst", model=FunctionModel(reply, "fn"), name="a", **kw))


def counting(answer: str = "done") -> tuple[Agent, list[str]]:
    seen: list[str] = []

    def reply(messages: list[ModelMessage], info: RequestInfo) -> ModelResponse:
        seen.append(next(m.content for m in messages if isinstance(m, UserMessage)))
        return ModelResponse(answer, usage=Usage(11, 4, requests=1))

    return fn_agent(reply), seen


# --- mode step ---------------------------------------------------------------------------


def test_step_runs_agent_and_records_it() -> None:
    env = make_env(wf("  sequence: [a]"), model_override=TestModel(custom_output_text="fine"))
    state = handle_step_event(step_ev("hi", state={"scope": "[2]", "extra": 1}), env)
    assert state == {"execution_id": "e1", "owner": "o", "value": "fine", "scope": "[2]",
                     "loop": None, "width": "", "extra": 1}  # fmt: skip
    record = rec(env)
    assert (record.status, record.attempts, record.output, record.input) == (
        "succeeded", 1, "fine", "hi")  # fmt: skip
    assert (record.role, record.model, record.output_tokens) == ("Analyst", TestModel().name, 1)
    assert record.input_tokens > 0


def test_step_input_refs_are_resolved_and_big_outputs_offloaded(tmp_path: Path) -> None:
    agent, seen = counting("z" * 3000)
    env = make_env(wf("  sequence: [a]"), {"a": agent},
                   payloads=DirectoryPayloads(tmp_path), offload_bytes=1024)  # fmt: skip
    payloads = Payloads(env.payloads, "o", "e1", 1024)
    ref_in = payloads.offload({"secret_word": "xylophone", "pad": PAD})
    state = handle_step_event(step_ev(ref_in), env)
    assert "xylophone" in seen[0]
    assert "agentweaver_ref" not in seen[0]
    assert is_ref(state["value"])
    assert payloads.resolve(state["value"]) == "z" * 3000


def test_output_inside_a_map_is_offloaded_at_the_smaller_room(tmp_path: Path) -> None:
    agent, _ = counting("w" * 60_000)
    env = make_env(wf("  sequence: [a]"), {"a": agent}, payloads=DirectoryPayloads(tmp_path))
    assert handle_step_event(step_ev(), env)["value"] == "w" * 60_000  # under 64 KB: inline
    env.store = SQLiteStore(":memory:")
    inside = handle_step_event(step_ev(state={"width": "/2/2"}), env)  # 192 KB / 4 items
    assert is_ref(inside["value"])


def test_retry_attempt_carries_earlier_attempts_tokens() -> None:
    calls: list[int] = []

    def reply(messages: list[ModelMessage], info: RequestInfo) -> ModelResponse:
        calls.append(1)
        if len(calls) == 1:  # paid for, then the repair request fails
            return ModelResponse("not json", usage=Usage(10, 5, requests=1))
        if len(calls) == 2:
            raise ModelUnavailable("overloaded")
        return ModelResponse('{"ok": true}', usage=Usage(7, 3, requests=1))

    env = make_env(wf("  sequence: [a]"), {"a": fn_agent(reply, output="json")})
    with pytest.raises(ModelUnavailable, match="overloaded"):
        handle_step_event(step_ev(), env)
    failed = rec(env)
    assert (failed.status, failed.attempts, failed.input_tokens, failed.output_tokens) == (
        "failed", 1, 10, 5)  # fmt: skip
    assert failed.error == {"type": "ModelUnavailable", "message": "overloaded"}
    state = handle_step_event(step_ev(attempt=1), env)
    assert state["value"] == {"ok": True}
    done = rec(env)
    assert (done.status, done.attempts, done.input_tokens, done.output_tokens) == (
        "succeeded", 2, 17, 8)  # fmt: skip
    assert done.error is None
    assert done.seq == failed.seq  # a retry keeps the step's place in the order


def test_unknown_agent_or_workflow_is_a_definition_error() -> None:
    env = make_env(wf("  sequence: [a]"))
    with pytest.raises(DefinitionError, match="no agent 'zz'"):
        handle_step_event(step_ev(agent="zz"), env)
    with pytest.raises(DefinitionError, match="no workflow"):
        handle_step_event({**step_ev(), "workflow": "other"}, env)


# --- idempotency -------------------------------------------------------------------------


def test_redelivered_success_returns_recorded_output_without_a_model_call() -> None:
    agent, seen = counting("first answer")
    env = make_env(wf("  sequence: [a]"), {"a": agent})
    first = handle_step_event(step_ev(), env)
    assert len(seen) == 1
    assert handle_step_event(step_ev(), env) == first
    assert handle_step_event(step_ev(attempt=2), env)["value"] == "first answer"
    assert len(seen) == 1
    assert rec(env).attempts == 1


def test_failed_attempt_is_raised_again_without_a_model_call() -> None:
    calls: list[int] = []

    def reply(messages: list[ModelMessage], info: RequestInfo) -> str:
        calls.append(1)
        if len(calls) == 1:
            raise ModelInvalidRequest("bad request body")
        return "ok now"

    env = make_env(wf("  sequence: [a]"), {"a": fn_agent(reply)})
    with pytest.raises(ModelInvalidRequest, match="bad request body"):
        handle_step_event(step_ev(), env)
    with pytest.raises(ModelInvalidRequest, match="bad request body"):
        handle_step_event(step_ev(), env)  # the same attempt, redelivered
    assert len(calls) == 1
    assert handle_step_event(step_ev(attempt=1), env)["value"] == "ok now"  # a new attempt
    assert len(calls) == 2


# --- malformed events --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda e: e.pop("execution_id"), "execution_id"),
        (lambda e: e.update(mode="run"), "mode"),
        (lambda e: e.update(attempt=-1), "attempt"),
        (lambda e: e.update(timeout=0), "timeout"),
        (lambda e: e.update(workflow=""), "workflow"),
        (lambda e: e.update(surprise=1), "surprise"),
        (lambda e: e["state"].pop("owner"), "state.owner"),
        (lambda e: e["state"].update(execution_id="e2"), "state"),
        (lambda e: e["state"].update(owner="mallory"), "state"),
    ],
)
def test_malformed_events_name_the_bad_field(change: Callable[[Any], Any], named: str) -> None:
    env = make_env(wf("  sequence: [a]"), model_override=TestModel())
    event = step_ev()
    change(event)
    with pytest.raises(InvalidData, match="malformed agent-step event") as caught:
        handle_step_event(event, env)
    assert named in str(caught.value)
    assert store_of(env).list_steps("e1") == []


def test_non_object_event_is_invalid() -> None:
    with pytest.raises(InvalidData, match="malformed"):
        handle_step_event(["not", "an", "event"], make_env(wf("  sequence: [a]")))


# --- route, select_skills, evaluate, expand ---------------------------------------------

ROUTER = "  route:\n    router: a\n    cases:\n      - {name: x, do: b}\n      - {name: y, do: c}"
CHOICES = {"x": "billing invoices", "y": "errors outages"}


def test_route_mode_returns_the_chosen_case_or_none() -> None:
    env = make_env(wf(ROUTER), model_override=TestModel())
    event = ev("route", "my invoices are wrong", node_id="route", agent="a",
               step_id="route_router", choices=CHOICES)  # fmt: skip
    assert handle_step_event(event, env)["value"] == "x"
    assert rec(env, "route_router").output == "x"
    as_step = handle_step_event({**event, "mode": "step", "step_id": "s"}, env)
    assert as_step["value"] == "Analyst: my invoices are wrong"  # choices only count in route
    env = make_env(wf(ROUTER), {"a": fn_agent(lambda messages, info: "none of these fit")})
    assert handle_step_event(event, env)["value"] is None


def test_select_skills_picks_by_skill_without_a_model() -> None:
    workflow = wf("  route:\n    by: skills\n    cases:\n      - {name: x, do: b}\n"
                  "      - {name: y, do: c}")  # fmt: skip
    env = make_env(workflow, model_override=TestModel(error=AssertionError("no model")))
    choices = {"x": "b", "y": "c"}
    refund = ev("select_skills", "a refund for my invoice", node_id="route", choices=choices)
    assert handle_step_event(refund, env)["value"] == "x"
    outage = ev("select_skills", {"title": "outages and crashes"}, node_id="route")
    assert handle_step_event(outage, env)["value"] == "y"
    assert store_of(env).list_steps("e1") == []
    with pytest.raises(DefinitionError, match="not a route"):
        handle_step_event(ev("select_skills", "x", node_id="b"), env)
    with pytest.raises(DefinitionError, match="no node 'nope'"):
        handle_step_event(ev("select_skills", "x", node_id="nope"), env)


def test_evaluate_judges_route_rules_on_an_offloaded_value(tmp_path: Path) -> None:
    workflow = wf(
        "  route:\n    cases:\n"
        "      - {name: big, when: {path: $.n, gt: 10}, do: a}\n"
        "      - {name: named, when: {path: $.k, equals: x}, do: b}\n"
    )
    env = make_env(workflow, payloads=DirectoryPayloads(tmp_path), offload_bytes=1024)
    payloads = Payloads(env.payloads, "o", "e1", 1024)
    for value, case in [({"n": 50}, "big"), ({"n": 1, "k": "x"}, "named"), ({"n": 1}, None)]:
        ref = payloads.offload({**value, "pad": PAD})
        assert is_ref(ref)
        out = handle_step_event(ev("evaluate", ref, node_id="route"), env)
        assert out["case"] == case
        assert out["value"] == ref  # the state keeps the reference


def test_evaluate_judges_loop_until(tmp_path: Path) -> None:
    workflow = wf("  loop: a\n  until: {path: $.done, equals: true}\n  max_iterations: 4")
    env = make_env(workflow, payloads=DirectoryPayloads(tmp_path), offload_bytes=1024)
    payloads = Payloads(env.payloads, "o", "e1", 1024)
    done = payloads.offload({"done": True, "pad": PAD})
    out = handle_step_event(ev("evaluate", done, node_id="loop", state={"loop": {"n": 2}}), env)
    assert (out["case"], out["loop"]) == ("exit", {"n": 2})
    more = payloads.offload({"done": False, "pad": PAD})
    assert handle_step_event(ev("evaluate", more, node_id="loop"), env)["case"] == "next"
    with pytest.raises(DefinitionError, match="no rules"):
        handle_step_event(ev("evaluate", more, node_id="a"), env)


FOREACH = "  foreach: $.data.items\n  do: a"


def test_expand_offloaded_list_into_items(tmp_path: Path) -> None:
    env = make_env(wf(FOREACH), payloads=DirectoryPayloads(tmp_path), offload_bytes=1024)
    payloads = Payloads(env.payloads, "o", "e1", 1024)
    small, big = {"i": 0}, {"i": 1, "pad": PAD}
    ref = payloads.offload({"data": {"items": [small, big], "other": PAD}})
    out = handle_step_event(ev("expand", ref, node_id="foreach", state={"scope": "[1]"}), env)
    assert (out["execution_id"], out["scope"]) == ("e1", "[1]")
    items = out["value"]["data"]["items"]
    assert out["value"] == {"data": {"items": [small, items[1]]}}
    assert is_ref(items[1])
    assert payloads.resolve(items[1]) == big


def test_expand_items_share_the_map_room(tmp_path: Path) -> None:
    env = make_env(wf("  foreach: $\n  do: a"), payloads=DirectoryPayloads(tmp_path))
    items = [{"i": i, "t": "q" * 1500} for i in range(12)]
    wide = handle_step_event(ev("expand", items, node_id="foreach", state={"width": "/4/4"}), env)
    assert all(is_ref(item) for item in wide["value"])  # 192 KB over 4*4*12 items: 1 KB each
    narrow = handle_step_event(ev("expand", items, node_id="foreach"), env)
    assert narrow["value"] == items


def test_expand_rebuilds_an_indexed_items_path() -> None:
    env = make_env(wf("  foreach: $.data[1].rows\n  do: a"))
    value = {"data": [{"rows": "no"}, {"rows": [1, 2]}], "other": 3}
    out = handle_step_event(ev("expand", value, node_id="foreach"), env)["value"]
    assert out == {"data": [None, {"rows": [1, 2]}]}
    assert resolve_path(out, "$.data[1].rows") == [1, 2]  # where the Map's ItemsPath looks


@pytest.mark.parametrize(
    ("value", "got"), [({"data": {"items": "nope"}}, "got str"), ({"data": {}}, "got nothing")]
)
def test_expand_refuses_a_non_list(value: Any, got: str) -> None:
    env = make_env(wf(FOREACH))
    with pytest.raises(InvalidData, match=rf"\$\.data\.items must be a list, {got}"):
        handle_step_event(ev("expand", value, node_id="foreach"), env)
    failed = {"Error": "States.Runtime", "Cause": "ItemsPath is not an array"}
    with pytest.raises(InvalidData):  # a Map that failed on a non-list: the runner's error
        handle_step_event(ev("expand", value, node_id="foreach", state={"map_error": failed}),
                          env)  # fmt: skip


def test_expand_after_a_map_failure_on_a_real_list_is_step_failed() -> None:
    env = make_env(wf(FOREACH))
    failed = {"Error": "States.Runtime", "Cause": "an item blew up"}
    value = {"data": {"items": [1, 2]}}
    with pytest.raises(StepFailed, match="an item blew up"):
        handle_step_event(ev("expand", value, node_id="foreach", state={"map_error": failed}),
                          env)  # fmt: skip
    with pytest.raises(DefinitionError, match="not a foreach"):
        handle_step_event(ev("expand", value, node_id="a"), env)


# --- budget ------------------------------------------------------------------------------


def test_step_budget_counts_steps_from_the_store() -> None:
    workflow = wf("  sequence: [a, b]", "budget: {max_steps: 1}")
    env = make_env(workflow, model_override=TestModel())
    # a redelivery after a crash finds the step's own record still running: not another step
    store_of(env).save_step(StepRecord("e1", "a", "a", "a", "Analyst", "running"))
    assert handle_step_event(step_ev(), env)["value"] == "Analyst: hello"
    cold = make_env(workflow, model_override=TestModel(), store=env.store)  # another Lambda
    with pytest.raises(BudgetExceeded, match="1 of 1 steps"):
        handle_step_event(step_ev(step="b"), cold)
    record = rec(cold, "b")
    assert (record.status, (record.error or {}).get("type")) == ("failed", "BudgetExceeded")


def test_token_budget_uses_recorded_tokens() -> None:
    workflow = wf("  sequence: [a, b]", "budget: {max_tokens: 5}")
    agent, seen = counting()  # 15 tokens a call
    env = make_env(workflow, {"a": agent, "b": agent})
    handle_step_event(step_ev(), env)
    with pytest.raises(BudgetExceeded, match="15 of 5 tokens"):
        handle_step_event(step_ev(step="b"), env)
    assert len(seen) == 1


# --- finish ------------------------------------------------------------------------------


def test_finish_succeeded_creates_the_record_with_totals_and_usage(tmp_path: Path) -> None:
    agent, _ = counting()
    env = make_env(wf("  sequence: [a, b]"), {"a": agent, "b": agent},
                   payloads=DirectoryPayloads(tmp_path), offload_bytes=1024)  # fmt: skip
    handle_step_event(step_ev(), env)
    handle_step_event(step_ev(step="b"), env)
    ref = Payloads(env.payloads, "o", "e1", 1024).offload({"final": PAD})
    out = handle_step_event(ev("finish", ref, status="succeeded"), env)
    assert out == {"status": "succeeded", "value": ref, "error": None}
    record = execution(env)
    assert (record.status, record.output, record.error) == ("succeeded", {"final": PAD}, None)
    assert (record.input_tokens, record.output_tokens, record.steps) == (22, 8, 2)
    assert (record.ended_at, record.workflow_name) == (NOW, "w")
    [usage] = store_of(env).get_usage("o", DAY, DAY)
    m = usage.metrics
    assert (m["executions"], m["executions_succeeded"], m["input_tokens"], m["steps"]) == (
        1, 1, 22, 2)  # fmt: skip
    # redelivered (even as a failure): nothing changes, usage is not counted twice
    handle_step_event(ev("finish", None, status="failed", error={"Error": "X"}), env)
    assert (execution(env).status, execution(env).output) == ("succeeded", {"final": PAD})
    assert store_of(env).get_usage("o", DAY, DAY)[0].metrics["executions"] == 1


def test_finish_failed_parses_the_lambda_error() -> None:
    env = make_env(wf("  sequence: [a]"))
    store_of(env).create_execution(ExecutionRecord("o", "e1", "wf-id", "w", status="running",
                                               created_at=NOW - 9, started_at=NOW - 5))  # fmt: skip
    cause = json.dumps({"errorMessage": "provider down", "errorType": "ModelUnavailable"})
    error = {"Error": "ModelUnavailable", "Cause": cause}
    out = handle_step_event(ev("finish", "v", status="failed", error=error), env)
    expected = {"type": "ModelUnavailable", "message": "provider down"}
    assert out == {"status": "failed", "value": "v", "error": expected}
    record = execution(env)
    assert (record.status, record.error, record.output) == ("failed", expected, None)
    assert (record.workflow_id, record.created_at) == ("wf-id", NOW - 9)
    [usage] = store_of(env).get_usage("o", DAY, DAY)
    assert (usage.metrics["executions_failed"], usage.metrics["execution_seconds"]) == (1, 5)
    assert any("provider down" in log.message for log in store_of(env).list_logs("e1"))


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ({"Error": "States.Timeout", "Cause": "took too long"},
         {"type": "States.Timeout", "message": "took too long"}),
        ({"Error": "StepTimeout", "Cause": "plain text cause"},
         {"type": "StepTimeout", "message": "plain text cause"}),
        ({"Error": "SomethingElse", "Cause": json.dumps({"errorMessage": "odd"})},
         {"type": "SomethingElse", "message": "odd"}),
        (None, {"type": "StepFailed", "message": ""}),
    ],
)  # fmt: skip
def test_finish_error_shapes(error: Any, expected: dict[str, Any]) -> None:
    env = make_env(wf("  sequence: [a]"))
    out = handle_step_event(ev("finish", None, status="failed", error=error), env)
    assert out["error"] == expected


def test_finish_without_a_store_just_reports() -> None:
    env = make_env(wf("  sequence: [a]"), store=None)
    assert handle_step_event(ev("finish", 3, status="succeeded"), env)["value"] == 3
