"""Generated workflows: the local runner and the compiled state machine must agree.

Hypothesis draws random nestings of sequence / parallel / foreach / route (rules, router
agent, skills) / loop over scripted agents, some flaky (recover after retries), some broken
(fail for good), some under ``on_error: continue``; each runs on both executors.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st
from support.conformance import assert_same, run_local, run_sfn
from support.moto_sfn import StepFunctionsHarness
from support.scripted import Behaviour, ScriptedAgent

from agentweaver.workflow.definition import WorkflowDefinition
from agentweaver.workflow.ir import build_workflow

NAMES = ["a", "b", "c", "d"]
BEHAVIOURS = st.sampled_from(
    [
        Behaviour(),
        Behaviour(),
        Behaviour(flaky=1, retries=2),
        Behaviour(flaky=2, retries=2),
        Behaviour(flaky=2, retries=1),  # exhausts its retries
        Behaviour(broken=True, retries=1),
    ]
)


@st.composite
def flows(draw: st.DrawFn, depth: int) -> Any:
    kinds = (
        ["agent"] if depth == 0 else ["agent", "sequence", "parallel", "foreach", "route", "loop"]
    )
    kind = draw(st.sampled_from(kinds))
    node: dict[str, Any]
    if kind == "agent":
        node = {"agent": draw(st.sampled_from(NAMES))}
    elif kind in ("sequence", "parallel"):
        children = draw(st.lists(flows(depth - 1), min_size=2, max_size=3))
        node = {kind: children}
        if kind == "parallel":
            node["max_parallel"] = draw(st.integers(1, 3))
    elif kind == "foreach":
        node = {"foreach": "$.items", "do": draw(flows(depth - 1))}
        node["max_parallel"] = draw(st.integers(1, 3))
    elif kind == "loop":
        node = {"loop": draw(flows(depth - 1)), "max_iterations": draw(st.integers(1, 3))}
        if draw(st.booleans()):
            node["until"] = {"path": "$.done", "equals": True}
    else:
        node = {"route": draw(routes(depth))}
    if draw(st.integers(0, 4)) == 0:
        node["on_error"] = "continue"
    return node


@st.composite
def routes(draw: st.DrawFn, depth: int) -> dict[str, Any]:
    by = draw(st.sampled_from(["rules", "agent", "skills"]))
    count = draw(st.integers(1, 3))
    cases: list[dict[str, Any]] = []
    for i in range(count):
        case: dict[str, Any] = {"name": f"c{i}", "description": f"case {i} {NAMES[i]} work"}
        if by == "skills":
            case["do"] = NAMES[i]
        else:
            case["do"] = draw(flows(depth - 1))
        if by == "rules":
            case["when"] = draw(
                st.sampled_from(
                    [
                        {"path": "$.k", "equals": i},
                        {"path": "$.n", "gt": 4},
                        {"path": "$.h", "matches": "*a*"},
                        {"path": "$.done", "equals": False},
                    ]
                )
            )
        cases.append(case)
    spec: dict[str, Any] = {"cases": cases}
    if by == "agent":
        spec["router"] = draw(st.sampled_from(NAMES))
    elif by == "skills":
        spec["by"] = "skills"
    if draw(st.booleans()):
        spec["default"] = draw(flows(0))
    return spec


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Behaviour], Any]:
    flow = draw(flows(draw(st.integers(2, 3))))
    behaviours = {name: draw(BEHAVIOURS) for name in NAMES}
    value = {"items": [{"i": i} for i in range(draw(st.integers(1, 3)))], "k": 1, "n": 3}
    return flow, behaviours, value


def definition(flow: Any, behaviours: dict[str, Behaviour]) -> dict[str, Any]:
    agents = {
        name: {
            "role": name.title(),
            "model": "test",
            "description": f"{name} work",
            "retry": {"retries": behaviours[name].retries, "interval": 0.5},
        }
        for name in NAMES
    }
    return {"name": "generated", "agents": agents, "flow": flow}


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: it takes minutes here
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios())
def test_generated_workflow_runs_the_same_on_both_executors(
    sfn: StepFunctionsHarness, scenario: tuple[dict[str, Any], dict[str, Behaviour], Any]
) -> None:
    flow, behaviours, value = scenario
    workflow = build_workflow(WorkflowDefinition.model_validate(definition(flow, behaviours)))
    local = run_local(workflow, {n: ScriptedAgent(n, b) for n, b in behaviours.items()}, value)
    remote = run_sfn(sfn, workflow, {n: ScriptedAgent(n, b) for n, b in behaviours.items()}, value)
    assert_same(local, remote)
    # what the examples covered (pytest --hypothesis-show-statistics)
    event(f"status: {local.status}")
    retried = any(r.attempts > 1 for r in local.steps.values())
    event(f"retried a step: {retried}")
    skipped = any(r.status == "failed" for r in local.steps.values())
    event(f"skipped a failure: {local.status == 'succeeded' and skipped}")
    event(f"steps: {min(len(local.steps), 10)}")
