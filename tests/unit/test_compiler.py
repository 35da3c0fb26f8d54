"""The ASL compiler: determinism, static checks, and the shapes each IR node compiles to."""

from __future__ import annotations

import copy
import itertools
import json
import random
from pathlib import Path
from typing import Any

import pytest

from agentweaver.compiler import compile_workflow, static_check
from agentweaver.compiler.asl import LAMBDA_SERVICE_ERRORS, condition_rule
from agentweaver.exceptions import DefinitionError
from agentweaver.workflow.conditions import Condition
from agentweaver.workflow.ir import Workflow
from agentweaver.workflow.loader import load_workflow

EXAMPLES = sorted((Path(__file__).parents[2] / "examples").glob("*.yaml"))

AGENTS = """
agents:
  a: {role: A, model: test}
  b: {role: B, model: test, description: billing invoices}
  c: {role: C, model: test, description: errors outages}
"""


def wf(flow: str, extra: str = "") -> Workflow:
    return load_workflow("w.yaml", f"name: w\n{AGENTS}\nflow:\n{flow}\n{extra}")


def dump(asl: dict[str, Any]) -> str:
    return json.dumps(asl, sort_keys=True, indent=2)


def all_states(asl: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, state in asl["States"].items():
        out[name] = state
        if state["Type"] == "Map":
            out.update(all_states(state["ItemProcessor"]))
        for branch in state.get("Branches", []):
            out.update(all_states(branch))
    return out


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_examples_compile_deterministically_and_clean(path: Path) -> None:
    first = dump(compile_workflow(load_workflow(path)))
    second = dump(compile_workflow(load_workflow(path)))
    assert first == second
    asl = json.loads(first)
    assert static_check(asl) == []
    assert asl["QueryLanguage"] == "JSONPath"
    assert "JSONata" not in first


def test_task_shape_from_policy() -> None:
    asl = compile_workflow(
        wf(
            "  sequence:\n"
            "    - {agent: a, timeout: 12.5, retry: {retries: 4, interval: 2, backoff_rate: 3,"
            " max_delay: 20, jitter: full}}\n"
            "    - b\n"
        ),
        function_arn="arn:fn",
    )
    task = asl["States"]["a"]
    assert task["Resource"] == "arn:aws:states:::lambda:invoke"
    assert task["Parameters"]["FunctionName"] == "arn:fn"
    assert task["TimeoutSeconds"] == 13
    lam, pol = task["Retry"]
    assert lam["ErrorEquals"] == LAMBDA_SERVICE_ERRORS
    assert pol["MaxAttempts"] == 4
    assert pol["IntervalSeconds"] == 2
    assert pol["BackoffRate"] == 3.0
    assert pol["MaxDelaySeconds"] == 20
    assert pol["JitterStrategy"] == "FULL"
    assert "ModelRateLimited" in pol["ErrorEquals"]
    assert "States.Timeout" in pol["ErrorEquals"]
    assert task["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Check error"}
    ]
    payload = task["Parameters"]["Payload"]
    assert payload["step_id.$"] == "States.Format('a{}', $.scope)"
    assert payload["mode"] == "step"
    assert payload["state.$"] == "$"
    assert task["ResultSelector"] == {"state.$": "$.Payload"}
    assert task["Next"] == "b"
    assert asl["States"]["Start execution"]["Next"] == "a"


def test_failure_path_renames_states_errors_records_and_fails() -> None:
    s = compile_workflow(wf("  sequence: [a]"))["States"]
    check = s["Check error"]
    assert [r["Next"] for r in check["Choices"]] == ["Timed out", "Runtime error"]
    assert check["Choices"][0]["StringEquals"] == "States.Timeout"
    assert s["Timed out"]["Parameters"]["Error"] == "StepTimeout"
    assert s["Runtime error"]["Parameters"]["Error"] == "StepFailed"
    assert check["Default"] == "Record failure"
    record = s["Record failure"]
    assert record["Parameters"]["Payload"]["mode"] == "finish"
    assert record["Parameters"]["Payload"]["status"] == "failed"
    assert record["ResultPath"] is None
    assert record["Next"] == "Execution failed"
    assert s["Execution failed"] == {
        "Type": "Fail",
        "ErrorPath": "$.error.Error",
        "CausePath": "$.error.Cause",
    }
    success = s["Record success"]
    assert success["Parameters"]["Payload"]["status"] == "succeeded"
    assert success["OutputPath"] == "$.Payload.value"
    assert success["End"] is True


def test_sequential_chain_is_one_transition_per_step() -> None:
    asl = compile_workflow(wf("  sequence: [a, b, c, a]"))
    steps = ["a", "a_2", "b", "c"]
    assert sorted(n for n in asl["States"] if n in steps) == steps
    assert asl["States"]["a_2"]["Next"] == "Record success"


def test_on_error_continue_keeps_input_and_goes_on() -> None:
    asl = compile_workflow(wf("  sequence: [{agent: a, on_error: continue}, b]"))
    catch = asl["States"]["a"]["Catch"]
    assert catch[0]["ErrorEquals"] == ["BudgetExceeded", "ExecutionCancelled"]
    assert catch[0]["Next"] == "Check error"
    assert catch[1] == {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "b"}


def test_flow_node_continue_is_wrapped_in_parallel() -> None:
    asl = compile_workflow(wf("  sequence:\n    - {sequence: [a, b], on_error: continue}\n    - c"))
    wrapper = (
        asl["States"]["sequence_2#try"]
        if "sequence_2#try" in asl["States"]
        else next(s for n, s in asl["States"].items() if n.endswith("#try"))
    )
    assert wrapper["Type"] == "Parallel"
    assert wrapper["Catch"][-1]["Next"] == "c"


def test_parallel_map_with_choice_per_index() -> None:
    asl = compile_workflow(wf("  parallel: [a, b, c]\n  max_parallel: 2"))
    fan = asl["States"]["parallel"]
    assert fan["Parameters"] == {"i.$": "States.ArrayRange(0, 2, 1)"}
    m = asl["States"]["parallel#map"]
    assert m["Type"] == "Map"
    assert m["MaxConcurrency"] == 2
    assert m["ItemsPath"] == "$.fan.i"
    assert m["ResultPath"] == "$.value"
    inner = m["ItemProcessor"]["States"]
    choice = inner[m["ItemProcessor"]["StartAt"]]
    assert [r["NumericEquals"] for r in choice["Choices"]] == [0, 1]
    assert choice["Default"] == "c"
    assert inner["a"]["OutputPath"] == "$.state.value"
    assert inner["a"]["End"] is True


def test_foreach_map_scope_index() -> None:
    asl = compile_workflow(wf("  foreach: $.items\n  do: a\n  max_parallel: 7"))
    items = asl["States"]["foreach"]
    assert items["Type"] == "Choice"  # an offloaded value goes through expand first
    assert items["Choices"] == [
        {"Variable": "$.value.agentweaver_ref", "IsPresent": True, "Next": "foreach#expand"}
    ]
    assert asl["States"]["foreach#expand"]["Parameters"]["Payload"]["mode"] == "expand"
    m = asl["States"]["foreach#map"]
    assert items["Default"] == "foreach#map"
    assert m["Catch"][0] == {
        "ErrorEquals": ["States.QueryEvaluationError", "States.Runtime"],
        "ResultPath": "$.map_error",
        "Next": "foreach#expand",
    }
    assert m["MaxConcurrency"] == 7
    assert m["ItemsPath"] == "$.value.items"
    assert m["ItemSelector"]["scope.$"] == "States.Format('{}[{}]', $.scope, $$.Map.Item.Index)"
    assert m["ItemSelector"]["value.$"] == "$$.Map.Item.Value"


def test_loop_counter_and_back_edge() -> None:
    asl = compile_workflow(
        wf("  loop: a\n  until: {path: $.ok, equals: true}\n  max_iterations: 4")
    )
    s = asl["States"]
    assert s["loop"]["Parameters"]["loop"]["n"] == 1
    assert s["loop#next"]["Parameters"]["loop"]["n.$"] == "States.MathAdd($.loop.n, 1)"
    until = s["loop#until"]
    assert until["Choices"][-1] == {
        "Variable": "$.loop.n",
        "NumericLessThan": 4,
        "Next": "loop#next",
    }
    assert until["Choices"][0]["Next"] == "loop#evaluate"  # for an offloaded value
    assert until["Choices"][1]["Next"] == "loop#exit"
    decided = s["loop#decided"]
    assert decided["Choices"][0]["Next"] == "loop#exit"
    assert decided["Choices"][1]["Next"] == "loop#next"
    assert until["Default"] == "loop#exit"
    assert s["a"]["Next"] == "loop#until"
    assert s["loop#exit"]["Parameters"]["scope.$"] == "$.loop.outer"


def test_route_rules_choice_and_default() -> None:
    asl = compile_workflow(
        wf(
            "  route:\n    cases:\n"
            "      - {name: big, when: {path: $.n, gt: 10}, do: a}\n"
            "      - {name: named, when: {path: $.k, equals: x}, do: b}\n"
            "    default: c"
        )
    )
    choice = asl["States"]["route"]
    assert choice["Type"] == "Choice"
    assert len(choice["Choices"]) == 3
    assert choice["Choices"][0]["Next"] == "route#evaluate"
    assert choice["Choices"][1]["Next"] == "a"
    assert choice["Default"] == "c"
    assert asl["States"]["route#evaluate"]["Next"] == "route#choice"


def test_route_by_agent_and_by_skills() -> None:
    asl = compile_workflow(
        wf(
            "  route:\n    router: a\n"
            "    cases:\n      - {name: x, do: b}\n      - {name: y, do: c}"
        )
    )
    router = asl["States"]["route_router"]
    assert router["Parameters"]["Payload"]["mode"] == "route"
    assert router["ResultPath"] == "$.route"
    assert router["Next"] == "route#choice"
    nomatch = asl["States"]["route#nomatch"]
    assert nomatch["Result"]["Error"] == "NoRouteMatched"
    assert nomatch["Next"] == "Check error"  # recorded like any failure
    asl = compile_workflow(
        wf(
            "  route:\n    by: skills\n"
            "    cases:\n      - {name: x, do: b}\n      - {name: y, do: c}"
        )
    )
    sel = asl["States"]["route#select"]
    assert sel["Parameters"]["Payload"]["mode"] == "select_skills"
    assert sel["Parameters"]["Payload"]["choices"] == {"x": "b", "y": "c"}


V = "$.value.x"


@pytest.mark.parametrize(
    ("cond", "operator"),
    [
        ({"path": "$.x", "equals": "s"}, "StringEquals"),
        ({"path": "$.x", "equals": 3}, "NumericEquals"),
        ({"path": "$.x", "equals": True}, "BooleanEquals"),
        ({"path": "$.x", "equals": None}, "IsNull"),
        ({"path": "$.x", "not_equals": 3}, "NumericEquals"),
        ({"path": "$.x", "gt": 1}, "NumericGreaterThan"),
        ({"path": "$.x", "gte": 1}, "NumericGreaterThanEquals"),
        ({"path": "$.x", "lt": "m"}, "StringLessThan"),
        ({"path": "$.x", "lte": 1}, "NumericLessThanEquals"),
        ({"path": "$.x", "contains": "a*b"}, "StringMatches"),
        ({"path": "$.x", "matches": "a*"}, "StringMatches"),
        ({"path": "$.x", "exists": True}, "IsPresent"),
        ({"path": "$.x", "is_null": False}, "IsNull"),
        ({"all": [{"path": "$.x", "exists": True}]}, "And"),
        ({"any": [{"path": "$.x", "exists": True}]}, "Or"),
        ({"not": {"path": "$.x", "exists": True}}, "Not"),
    ],
)
def test_condition_operators(cond: dict[str, Any], operator: str) -> None:
    rule = condition_rule(Condition.model_validate(cond))
    text = json.dumps(rule)
    assert f'"{operator}"' in text
    if operator not in ("And", "Or", "Not", "IsPresent"):
        assert '"IsPresent": true' in text  # guarded
        assert f'"{V}"' in text
    if "contains" in cond:
        assert '"*a\\\\*b*"' in text


def _eval(rule: dict[str, Any], data: Any) -> bool:
    """A tiny evaluator of the Choice rules we emit, to compare with Condition.evaluate."""
    from agentweaver.workflow.conditions import MISSING, glob_match, resolve_path

    if "And" in rule:
        return all(_eval(r, data) for r in rule["And"])
    if "Or" in rule:
        return any(_eval(r, data) for r in rule["Or"])
    if "Not" in rule:
        return not _eval(rule["Not"], data)
    value = resolve_path({"value": data}, rule["Variable"])
    ((op, arg),) = ((k, v) for k, v in rule.items() if k != "Variable")
    if op == "IsPresent":
        return (value is not MISSING) == arg
    if op == "IsNull":
        return (value is None) == arg
    if op == "IsString":
        return isinstance(value, str)
    if op == "IsBoolean":
        return isinstance(value, bool)
    if op == "IsNumeric":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if op == "StringMatches":
        return glob_match(arg, value)
    base = op.removeprefix("Numeric").removeprefix("String").removeprefix("Boolean")
    return {
        "Equals": value == arg,
        "GreaterThan": value > arg,
        "LessThan": value < arg,
        "GreaterThanEquals": value >= arg,
        "LessThanEquals": value <= arg,
    }[base]


@pytest.mark.parametrize(
    "cond",
    [
        {"path": "$.x", "equals": 1},
        {"path": "$.x", "equals": "1"},
        {"path": "$.x", "equals": True},
        {"path": "$.x", "not_equals": 1},
        {"path": "$.x", "equals": None},
        {"path": "$.x", "not_equals": None},
        {"path": "$.x", "gt": 1},
        {"path": "$.x", "lte": "b"},
        {"path": "$.x", "contains": "a"},
        {"path": "$.x", "matches": "a*"},
        {"path": "$.x", "exists": False},
        {"path": "$.x", "is_null": True},
    ],
)
def test_condition_rules_agree_with_runner(cond: dict[str, Any]) -> None:
    c = Condition.model_validate(cond)
    rule = condition_rule(c)
    for x in [1, 2, 1.0, "1", "a", "abc", "c", True, False, None, [1], {"k": 1}]:
        data = {"x": x}
        assert _eval(rule, data) == c.evaluate(data), (cond, x)
    assert _eval(rule, {}) == c.evaluate({})


def _random_flow(rng: random.Random, depth: int, indent: str) -> str:
    leaf = rng.choice(["a", "b", "c"])
    if depth == 0:
        return f"{indent}{leaf}\n"
    kind = rng.choice(["agent", "sequence", "parallel", "foreach", "route", "loop"])
    sub = indent + "    "
    err = "  on_error: continue\n" if rng.random() < 0.2 else ""
    err = indent + err.strip() + "\n" if err else ""
    if kind == "agent":
        return f"{indent}agent: {leaf}\n{indent}on_error: {rng.choice(['fail', 'continue'])}\n"
    if kind in ("sequence", "parallel"):
        parts = "".join(
            f"{indent}  -\n{_random_flow(rng, depth - 1, sub)}" for _ in range(rng.randint(1, 3))
        )
        return f"{indent}{kind}:\n{parts}{err}"
    if kind == "foreach":
        return f"{indent}foreach: $.items\n{indent}do:\n{_random_flow(rng, depth - 1, sub)}{err}"
    if kind == "loop":
        return (
            f"{indent}loop:\n{_random_flow(rng, depth - 1, sub)}"
            f"{indent}until: {{path: $.done, equals: true}}\n{indent}max_iterations: 3\n"
            f"{err}"
        )
    router = rng.choice(["rules", "agent"])
    head = f"{indent}route:\n" + (f"{indent}  router: a\n" if router == "agent" else "")
    cases = ""
    for i in range(rng.randint(1, 3)):
        when = f"{indent}      when: {{path: $.k, equals: {i}}}\n" if router == "rules" else ""
        cases += (
            f"{indent}    - name: c{i}\n{when}{indent}      do:\n"
            f"{_random_flow(rng, depth - 1, indent + '          ')}"
        )
    default = f"{indent}  default: b\n" if rng.random() < 0.5 else ""
    return f"{head}{indent}  cases:\n{cases}{default}{err}"


@pytest.mark.parametrize("seed", range(60))
def test_generated_workflows_compile_clean(seed: int) -> None:
    rng = random.Random(seed)
    flow = _random_flow(rng, rng.randint(1, 3), "  ")
    workflow = wf(flow)
    asl = compile_workflow(workflow)
    assert static_check(asl) == []
    assert dump(asl) == dump(compile_workflow(wf(flow)))
    tasks = [s for s in all_states(asl).values() if s["Type"] == "Task"]
    step_tasks = [t for t in tasks if t["Parameters"]["Payload"]["mode"] == "step"]
    assert len(step_tasks) == sum(1 for s in workflow.agent_steps() if not s.id.endswith("_router"))
    for m in (s for s in all_states(asl).values() if s["Type"] == "Map"):
        assert m["MaxConcurrency"] >= 1


def test_static_check_catches_broken_definitions() -> None:
    good = compile_workflow(wf("  sequence: [a, {foreach: $.items, do: b}]"))
    assert static_check(good) == []
    broken = copy.deepcopy(good)
    broken["States"]["a"]["Next"] = "nowhere"
    del broken["States"]["a"]["Retry"]
    broken["States"]["foreach#map"].pop("MaxConcurrency")
    broken["States"]["foreach#map"]["ItemProcessor"]["StartAt"] = "missing"
    broken["States"]["orphan"] = {"Type": "Pass", "End": True}
    problems = "\n".join(static_check(broken))
    for expected in [
        "'nowhere' names no state",
        "has no Retry",
        "has no MaxConcurrency",
        "StartAt 'missing'",
        "'orphan' is unreachable",
        "'foreach#map' is unreachable",
    ]:
        assert expected in problems, problems


def test_compile_raises_definition_error_when_check_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    import agentweaver.compiler.asl as asl_module

    monkeypatch.setattr(asl_module, "static_check", lambda asl: ["bad thing"])
    with pytest.raises(DefinitionError, match="bad thing"):
        compile_workflow(wf("  sequence: [a]"))


def test_transitions_per_step_figure() -> None:
    """Sequential chain: states entered = 1 (Start) + 1 per agent step + 1 (record)."""
    for n in (1, 3, 5):
        names = list(itertools.islice(itertools.cycle("abc"), n))
        asl = compile_workflow(wf(f"  sequence: [{', '.join(names)}]"))
        visited, state = 0, asl["StartAt"]
        while True:
            visited += 1
            s = asl["States"][state]
            if s.get("End"):
                break
            state = s["Next"]
        assert visited == n + 2


def test_compile_is_the_short_name() -> None:
    from agentweaver import compiler

    workflow = wf("  sequence: [a, b]")
    assert dump(compiler.compile(workflow)) == dump(compile_workflow(workflow))
