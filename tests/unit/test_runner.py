"""The embedded runner, end to end through ``LocalRunner.run``: flow nodes, retries,
timeouts, budgets, cancellation, ``on_error``, results, events, the shorthand and the store.

Models are ``TestModel``/``FunctionModel``; retry waits go through a fake ``sleep`` that
records the delays, so nothing here waits more than a few tens of milliseconds for real.
"""

from __future__ import annotations

import asyncio
import random
import textwrap
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from agentweaver import AgentWorkflow, FunctionModel, LocalRunner, TestModel, agent
from agentweaver.agents import Agent, AgentConfig
from agentweaver.exceptions import (
    BudgetExceeded,
    DefinitionError,
    ExecutionCancelled,
    InvalidData,
    ModelAuthError,
    ModelRateLimited,
    ModelTimeout,
    ModelUnavailable,
    NoRouteMatched,
    StepTimeout,
)
from agentweaver.models.messages import ModelMessage, ModelResponse, Usage
from agentweaver.models.pricing import ModelPrice, PriceTable
from agentweaver.models.test import RequestInfo
from agentweaver.workflow.definition import ExecutionMode
from agentweaver.workflow.ir import Workflow
from agentweaver.workflow.loader import load_workflow
from agentweaver.workflow.result import Event, WorkflowResult

# -- helpers ---------------------------------------------------------------------------------


class FakeSleep:
    """Records each retry delay instead of waiting it out."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


class Gauge:
    """A model function that counts how many calls are in flight at once."""

    def __init__(self, hold: float = 0.02) -> None:
        self.hold = hold
        self.now = 0
        self.peak = 0
        self.calls = 0

    async def __call__(self, messages: list[ModelMessage], info: RequestInfo) -> str:
        self.calls += 1
        self.now += 1
        self.peak = max(self.peak, self.now)
        try:
            await asyncio.sleep(self.hold)
        finally:
            self.now -= 1
        return f"done: {messages[-1].content}"


def prompt_of(messages: list[ModelMessage]) -> str:
    return messages[-1].content


def echo(transform: Callable[[str], str], name: str = "echo") -> FunctionModel:
    """A model answering ``transform(prompt)``."""
    return FunctionModel(lambda messages, info: transform(prompt_of(messages)), name)


def make(name: str, model: Any, role: str | None = None, **config: Any) -> Agent:
    return Agent(AgentConfig(role=role or name.title(), model=model, name=name, **config))


def yaml_workflow(text: str) -> Workflow:
    return load_workflow("wf.yaml", textwrap.dedent(text))


def runner(**kwargs: Any) -> tuple[LocalRunner, FakeSleep, list[Event]]:
    sleep, events = FakeSleep(), []
    kwargs.setdefault("rng", random.Random(0))
    return LocalRunner(sleep=sleep, on_event=events.append, **kwargs), sleep, events


async def run(
    workflow: Any, input_data: Any = None, agents: dict[str, Agent] | None = None, **kw: Any
) -> tuple[WorkflowResult, FakeSleep, list[Event]]:
    local, sleep, events = runner(**kw)
    result = await local.run(workflow, input_data, agents=agents)
    return result, sleep, events


def ids(result: WorkflowResult) -> list[str]:
    return [s.step_id for s in result.steps]


def error_types(result: WorkflowResult) -> list[str]:
    return [type(e).__name__ for e in result.errors]


THREE = """\
name: t
agents:
  a: {role: A, model: test}
  b: {role: B, model: test}
  c: {role: C, model: test}
flow:
  sequence: [a, b, c]
"""


# -- sequence --------------------------------------------------------------------------------


async def test_sequence_passes_each_output_on() -> None:
    agents = {
        "a": make("a", echo(lambda p: p + " -> a")),
        "b": make("b", echo(lambda p: p + " -> b")),
        "c": make("c", echo(lambda p: p.upper())),
    }
    result, _, _ = await run(yaml_workflow(THREE), "start", agents)
    assert result.status == "succeeded"
    assert result.output == "START -> A -> B"
    assert ids(result) == ["a", "b", "c"]
    assert [s.input for s in result.steps] == ["start", "start -> a", "start -> a -> b"]
    assert result.results == ["start -> a", "start -> a -> b", "START -> A -> B"]
    assert result.errors == []


async def test_json_output_flows_as_data() -> None:
    workflow = yaml_workflow(
        """\
        name: t
        agents:
          scorer: {role: Scorer, model: test, output: json}
          reporter: {role: Reporter, model: test}
        flow:
          sequence: [scorer, reporter]
        """
    )
    seen: list[str] = []

    def report(messages: list[ModelMessage], info: RequestInfo) -> str:
        seen.append(prompt_of(messages))
        return "ok"

    agents = {
        "scorer": make("scorer", TestModel(custom_output_json={"score": 7}), output="json"),
        "reporter": make("reporter", FunctionModel(report)),
    }
    result, _, _ = await run(workflow, "x", agents)
    assert result.step("scorer").output == {"score": 7}
    assert result.step("reporter").input == {"score": 7}
    assert seen == ['{\n  "score": 7\n}']  # a non-string input is rendered as JSON


async def test_unbound_yaml_agents_use_their_own_model() -> None:
    result, _, _ = await run(yaml_workflow(THREE), "hello there")
    assert result.status == "succeeded"
    assert result.output == "C: B: A: hello there"


async def test_model_override_runs_any_model_offline() -> None:
    workflow = yaml_workflow(THREE.replace("model: test", "model: claude"))
    result, _, _ = await run(workflow, "x", model_override=TestModel(custom_output_text="offline"))
    assert result.status == "succeeded"
    assert result.output == "offline"
    assert {s.model for s in result.steps} == {"test:test"}


# -- parallel --------------------------------------------------------------------------------


async def test_parallel_outputs_in_branch_order_and_same_input() -> None:
    workflow = yaml_workflow(
        """\
        name: t
        agents:
          slow: {role: Slow, model: test}
          fast: {role: Fast, model: test}
        flow:
          parallel: [slow, fast]
        """
    )

    async def slow(messages: list[ModelMessage], info: RequestInfo) -> str:
        await asyncio.sleep(0.03)
        return "slow saw " + prompt_of(messages)

    agents = {
        "slow": make("slow", FunctionModel(slow)),
        "fast": make("fast", echo(lambda p: "fast saw " + p)),
    }
    result, _, events = await run(workflow, "q", agents)
    finished = [e.step_id for e in events if e.kind == "step_succeeded"]
    assert finished == ["fast", "slow"]  # fast really finished first...
    assert result.output == ["slow saw q", "fast saw q"]  # ...but outputs keep branch order
    assert ids(result) == ["slow", "fast"]  # and records the order steps started


@pytest.mark.parametrize(("branches", "limit"), [(6, 2), (5, 1), (4, 4)])
async def test_parallel_concurrency_is_bounded(branches: int, limit: int) -> None:
    gauge = Gauge()
    names = [f"w{i}" for i in range(branches)]
    agents_yaml = "".join(f"  {n}: {{role: W, model: test}}\n" for n in names)
    workflow = yaml_workflow(
        f"name: t\nagents:\n{agents_yaml}flow:\n  parallel: [{', '.join(names)}]\n"
        f"  max_parallel: {limit}\n"
    )
    agents = {n: make(n, FunctionModel(gauge)) for n in names}
    result, _, _ = await run(workflow, "go", agents)
    assert result.status == "succeeded"
    assert gauge.calls == branches
    assert gauge.peak == limit  # bounded, and the bound is actually used


async def test_parallel_uses_the_workflow_max_parallel_by_default() -> None:
    gauge = Gauge()
    names = [f"w{i}" for i in range(5)]
    agents_yaml = "".join(f"  {n}: {{role: W, model: test}}\n" for n in names)
    workflow = yaml_workflow(
        f"name: t\nmax_parallel: 3\nagents:\n{agents_yaml}flow:\n  parallel: [{', '.join(names)}]\n"
    )
    await run(workflow, "go", {n: make(n, FunctionModel(gauge)) for n in names})
    assert gauge.peak == 3


# -- foreach ---------------------------------------------------------------------------------


FOREACH = """\
name: t
agents:
  summarise: {role: Summariser, model: test}
flow:
  foreach: $.items
  do: summarise
  max_parallel: 2
"""


async def test_foreach_runs_the_body_per_item_in_order() -> None:
    gauge = Gauge(hold=0.01)
    agents = {"summarise": make("summarise", FunctionModel(gauge))}
    items = ["alpha", "beta", "gamma", "delta", "epsilon"]
    result, _, _ = await run(yaml_workflow(FOREACH), {"items": items}, agents)
    assert result.status == "succeeded"
    assert result.output == [f"done: {i}" for i in items]
    assert ids(result) == [f"summarise[{i}]" for i in range(5)]
    assert [s.input for s in result.steps] == items
    assert {s.node_id for s in result.steps} == {"summarise"}
    assert gauge.peak == 2
    assert result.step("summarise[3]").output == "done: delta"


async def test_foreach_over_the_input_itself() -> None:
    workflow = yaml_workflow(FOREACH.replace("$.items", "$"))
    agents = {"summarise": make("summarise", echo(str.upper))}
    result, _, _ = await run(workflow, ["x", "y"], agents)
    assert result.output == ["X", "Y"]
    assert ids(result) == ["summarise[0]", "summarise[1]"]


async def test_foreach_over_an_empty_list() -> None:
    result, _, _ = await run(yaml_workflow(FOREACH), {"items": []})
    assert result.status == "succeeded"
    assert result.output == []
    assert result.steps == []


@pytest.mark.parametrize(
    ("data", "got"), [({"items": "abc"}, "str"), ({"items": {"a": 1}}, "dict"), ({}, "nothing")]
)
async def test_foreach_over_a_non_list_fails_with_invalid_data(data: Any, got: str) -> None:
    result, _, _ = await run(yaml_workflow(FOREACH), data)
    assert result.status == "failed"
    assert error_types(result) == ["InvalidData"]
    assert isinstance(result.errors[0], InvalidData)
    assert str(result.errors[0]) == f"foreach 'foreach': $.items must be a list, got {got}"
    assert result.steps == []


async def test_foreach_items_with_a_loop_inside() -> None:
    workflow = yaml_workflow(
        """\
        name: t
        agents:
          review: {role: Reviewer, model: test}
        flow:
          foreach: $
          do:
            loop: review
            max_iterations: 2
        """
    )
    result, _, _ = await run(workflow, ["a", "b"], {"review": make("review", echo(lambda p: p))})
    assert ids(result) == ["review[0]#1", "review[0]#2", "review[1]#1", "review[1]#2"]


# -- route -----------------------------------------------------------------------------------


RULES = """\
name: t
agents:
  urgent: {role: Urgent Desk, model: test}
  normal: {role: Normal Desk, model: test}
  other: {role: Other Desk, model: test}
flow:
  route:
    cases:
      - name: urgent
        when: {path: $.priority, gte: 8}
        do: urgent
      - name: normal
        when: {path: $.priority, gte: 3}
        do: normal
    default: other
"""


@pytest.mark.parametrize(
    ("data", "step"),
    [
        ({"priority": 9}, "urgent"),
        ({"priority": 8}, "urgent"),
        ({"priority": 5}, "normal"),  # the first case that holds
        ({"priority": 1}, "other"),  # the default
        ({"priority": "9"}, "other"),  # a string is not a number
        ({}, "other"),  # missing path: no case holds
    ],
)
async def test_route_by_rules(data: dict[str, Any], step: str) -> None:
    agents = {
        n: make(n, echo(lambda p, n=n: f"{n} handled it")) for n in ("urgent", "normal", "other")
    }
    result, _, _ = await run(yaml_workflow(RULES), data, agents)
    assert result.status == "succeeded"
    assert ids(result) == [step]
    assert result.output == f"{step} handled it"
    assert result.step(step).input == data  # the case runs on the route's input


async def test_route_by_rules_catch_all_case() -> None:
    workflow = yaml_workflow(
        RULES.replace("    default: other\n", "      - name: rest\n        do: other\n")
    )
    result, _, _ = await run(workflow, {"priority": 0})
    assert ids(result) == ["other"]


async def test_route_without_a_match_or_default_fails() -> None:
    workflow = yaml_workflow(RULES.replace("    default: other\n", ""))
    result, _, _ = await run(workflow, {"priority": 1})
    assert result.status == "failed"
    assert error_types(result) == ["NoRouteMatched"]
    assert isinstance(result.errors[0], NoRouteMatched)
    assert str(result.errors[0]) == "route 'route': no case matched None and there is no default"
    assert result.steps == []


ROUTER = """\
name: t
agents:
  triage: {role: Triage, model: test}
  billing: {role: Billing, model: test}
  technical: {role: Technical, model: test}
  general: {role: General, model: test}
flow:
  sequence:
    - route:
        router: triage
        cases:
          - {name: billing, description: money and invoices, do: billing}
          - {name: technical, description: bugs and outages, do: technical}
        default: general
      id: desk
"""


@pytest.mark.parametrize(
    ("answer", "chosen"),
    [
        ("billing", "billing"),
        ("  Technical. ", "technical"),  # exact, ignoring case and punctuation
        ("I would send this to technical, not billing", "technical"),  # first name mentioned
        ("no idea", None),  # no match: the default
    ],
)
async def test_route_by_agent(answer: str, chosen: str | None) -> None:
    asked: list[dict[str, str] | None] = []

    def triage(messages: list[ModelMessage], info: RequestInfo) -> str:
        asked.append(info.params.choices)
        return answer

    agents = {
        "triage": make("triage", FunctionModel(triage)),
        **{n: make(n, echo(lambda p, n=n: n)) for n in ("billing", "technical", "general")},
    }
    result, _, _ = await run(yaml_workflow(ROUTER), "my ticket", agents)
    assert result.status == "succeeded"
    assert asked == [{"billing": "money and invoices", "technical": "bugs and outages"}]
    router = result.step("desk_router")
    assert router.output == chosen
    assert router.input == "my ticket"
    case = chosen or "general"
    assert ids(result) == ["desk_router", case]
    assert result.output == case
    assert result.step(case).input == "my ticket"  # the case gets the route's input


async def test_route_by_agent_without_default_fails() -> None:
    workflow = yaml_workflow(ROUTER.replace("        default: general\n", ""))
    agents = {"triage": make("triage", TestModel(script=["neither"]))}
    result, _, _ = await run(workflow, "x", agents)
    assert result.status == "failed"
    assert error_types(result) == ["NoRouteMatched"]
    assert ids(result) == ["desk_router"]


async def test_router_step_id_without_an_explicit_route_id() -> None:
    workflow = yaml_workflow(ROUTER.replace("      id: desk\n", ""))
    agents = {"triage": make("triage", TestModel(script=["billing"]))}
    result, _, _ = await run(workflow, "x", agents)
    assert ids(result) == ["route_router", "billing"]


async def test_route_by_test_model_word_overlap() -> None:
    result, _, _ = await run(yaml_workflow(ROUTER), "outages everywhere, and many bugs")
    assert ids(result) == ["desk_router", "technical"]


async def test_route_by_skills_needs_no_model_call() -> None:
    workflow = yaml_workflow(
        """\
        name: t
        agents:
          billing: {role: Billing Specialist, model: test, description: invoices refunds charges}
          sre: {role: Site Reliability Engineer, model: test, description: outages errors latency}
        flow:
          route:
            by: skills
            cases:
              - {name: money, do: billing}
              - {name: ops, do: sre}
        """
    )
    billing, sre = TestModel(), TestModel()
    agents = {"billing": make("billing", billing), "sre": make("sre", sre)}
    result, _, _ = await run(workflow, "we have an outage with many errors", agents)
    assert ids(result) == ["sre"]
    assert (len(billing.requests), len(sre.requests)) == (0, 1)
    result, _, _ = await run(workflow, "refund the double charges on my invoices", agents)
    assert ids(result) == ["billing"]


# -- loop ------------------------------------------------------------------------------------


LOOP = """\
name: t
agents:
  editor: {role: Editor, model: test, output: json}
flow:
  loop: editor
  until: {path: $.approved, equals: true}
  max_iterations: 3
"""


async def test_loop_until_condition_holds() -> None:
    script: list[Any] = [{"approved": False, "draft": 1}, {"approved": True, "draft": 2}]
    agents = {"editor": make("editor", TestModel(script=script), output="json")}
    result, _, _ = await run(yaml_workflow(LOOP), {"draft": 0}, agents)
    assert result.status == "succeeded"
    assert ids(result) == ["editor#1", "editor#2"]
    assert result.output == {"approved": True, "draft": 2}
    # each output is the next iteration's input
    assert result.step("editor#1").input == {"draft": 0}
    assert result.step("editor#2").input == {"approved": False, "draft": 1}


async def test_loop_stops_at_max_iterations() -> None:
    script: list[Any] = [{"approved": False, "n": i} for i in range(1, 6)]
    agents = {"editor": make("editor", TestModel(script=script), output="json")}
    result, _, _ = await run(yaml_workflow(LOOP), {}, agents)
    assert result.status == "succeeded"
    assert ids(result) == ["editor#1", "editor#2", "editor#3"]
    assert result.output == {"approved": False, "n": 3}


async def test_loop_without_until_runs_every_iteration() -> None:
    workflow = yaml_workflow(
        "name: t\nagents:\n  w: {role: W, model: test}\nflow:\n  loop: w\n  max_iterations: 4\n"
    )
    result, _, _ = await run(workflow, "", {"w": make("w", echo(lambda p: p + "+"))})
    assert result.output == "++++"
    assert ids(result) == ["w#1", "w#2", "w#3", "w#4"]


async def test_loop_of_a_sequence() -> None:
    workflow = yaml_workflow(
        """\
        name: t
        agents:
          draft: {role: Drafter, model: test}
          review: {role: Reviewer, model: test}
        flow:
          loop:
            sequence: [draft, review]
          until: {path: $, matches: '*!!*'}
          max_iterations: 5
        """
    )
    agents = {"draft": make("draft", echo(lambda p: p + "!")), "review": make("review", echo(str))}
    result, _, _ = await run(workflow, "x", agents)
    assert ids(result) == ["draft#1", "review#1", "draft#2", "review#2"]
    assert result.output == "x!!"


# -- retries ---------------------------------------------------------------------------------


def one_agent(extra: str = "", agent_extra: str = "") -> Workflow:
    return yaml_workflow(
        f"name: t\nagents:\n  a: {{role: A, model: test{agent_extra}}}\nflow: a\n{extra}"
    )


async def test_retries_back_off_exponentially() -> None:
    model = TestModel(fail_first=3)
    workflow = one_agent("retry: {retries: 3, interval: 1, backoff_rate: 2}\n")
    result, sleep, events = await run(workflow, "x", {"a": make("a", model)})
    assert result.status == "succeeded"
    assert sleep.delays == [1, 2, 4]
    assert len(model.requests) == 4
    record = result.step("a")
    assert record.attempts == 4
    assert record.status == "succeeded"
    assert record.error is None
    retrying = [e for e in events if e.kind == "step_retrying"]
    assert [(e.step_id, e.attempt, e.data["delay"]) for e in retrying] == [
        ("a", 1, 1),
        ("a", 2, 2),
        ("a", 3, 4),
    ]
    assert retrying[0].data["error"] == {
        "type": "ModelUnavailable",
        "message": "TestModel: scripted failure",
    }


async def test_retry_events_in_order() -> None:
    workflow = one_agent("retry: {retries: 1}\n")
    _, _, events = await run(workflow, "x", {"a": make("a", TestModel(fail_first=1))})
    assert [(e.kind, e.attempt) for e in events if e.step_id] == [
        ("step_started", 1),
        ("step_failed", 1),
        ("step_retrying", 1),
        ("step_started", 2),
        ("step_succeeded", 2),
    ]


async def test_retries_exhausted_fail_with_the_last_error() -> None:
    model = TestModel(fail_first=10)
    workflow = one_agent("retry: {retries: 2}\n")
    result, sleep, _ = await run(workflow, "x", {"a": make("a", model)})
    assert result.status == "failed"
    assert sleep.delays == [1, 2]
    assert len(model.requests) == 3
    record = result.step("a")
    assert (record.status, record.attempts) == ("failed", 3)
    assert record.error == {"type": "ModelUnavailable", "message": "TestModel: scripted failure"}
    assert error_types(result) == ["ModelUnavailable"]
    assert result.results == []


async def test_max_delay_caps_each_wait() -> None:
    workflow = one_agent("retry: {retries: 4, interval: 1, backoff_rate: 3, max_delay: 5}\n")
    result, sleep, _ = await run(workflow, "x", {"a": make("a", TestModel(fail_first=4))})
    assert result.status == "succeeded"
    assert sleep.delays == [1, 3, 5, 5]


async def test_full_jitter_draws_within_the_delay_from_the_runner_rng() -> None:
    workflow = one_agent("retry: {retries: 3, interval: 2, backoff_rate: 2, jitter: full}\n")
    result, sleep, _ = await run(
        workflow, "x", {"a": make("a", TestModel(fail_first=3))}, rng=random.Random(1234)
    )
    assert result.status == "succeeded"
    expected = random.Random(1234)
    assert sleep.delays == [expected.uniform(0, cap) for cap in (2, 4, 8)]
    assert all(0 <= d <= cap for d, cap in zip(sleep.delays, (2, 4, 8), strict=True))
    assert len(set(sleep.delays)) == 3


async def test_retry_after_is_honoured_when_longer() -> None:
    model = TestModel(script=[ModelRateLimited("slow down", retry_after=30), "fine"])
    result, sleep, _ = await run(one_agent(), "x", {"a": make("a", model)})
    assert result.status == "succeeded"
    assert result.output == "fine"
    assert sleep.delays == [30]


async def test_retry_after_shorter_than_the_backoff_is_ignored() -> None:
    model = TestModel(
        script=[ModelRateLimited("a", retry_after=0.5), ModelRateLimited("b"), "fine"]
    )
    workflow = one_agent("retry: {interval: 2}\n")
    result, sleep, _ = await run(workflow, "x", {"a": make("a", model)})
    assert result.output == "fine"
    assert sleep.delays == [2, 4]


async def test_non_retryable_error_is_not_retried() -> None:
    model = TestModel(fail_first=5, error=ModelAuthError("bad key"))
    result, sleep, events = await run(one_agent(), "x", {"a": make("a", model)})
    assert result.status == "failed"
    assert sleep.delays == []
    assert len(model.requests) == 1
    assert result.step("a").attempts == 1
    assert error_types(result) == ["ModelAuthError"]
    assert not [e for e in events if e.kind == "step_retrying"]


async def test_a_plain_exception_is_a_non_retryable_step_failure() -> None:
    def broken(messages: list[ModelMessage], info: RequestInfo) -> str:
        raise KeyError("oops")

    result, sleep, _ = await run(one_agent(), "x", {"a": make("a", FunctionModel(broken))})
    assert result.status == "failed"
    assert sleep.delays == []
    assert result.step("a").error == {"type": "StepFailed", "message": "step 'a': KeyError: 'oops'"}


async def test_policy_errors_list_limits_what_is_retried() -> None:
    workflow = one_agent("retry: {retries: 3, errors: [ModelTimeout]}\n")
    result, sleep, _ = await run(workflow, "x", {"a": make("a", TestModel(fail_first=1))})
    assert result.status == "failed"  # ModelUnavailable is not in the list
    assert sleep.delays == []
    model = TestModel(fail_first=1, error=lambda: ModelTimeout("late"))
    result, sleep, _ = await run(workflow, "x", {"a": make("a", model)})
    assert result.status == "succeeded"
    assert sleep.delays == [1]


async def test_node_retry_beats_agent_retry_beats_workflow_retry() -> None:
    workflow = yaml_workflow(
        """\
        name: t
        retry: {retries: 1, interval: 100}
        agents:
          a: {role: A, model: test, retry: {retries: 2, interval: 10}}
          b: {role: B, model: test}
        flow:
          sequence:
            - {agent: a, retry: {retries: 3, interval: 1}}
            - a
            - b
        """
    )
    agents = {
        "a": make(
            "a", TestModel(script=[ModelUnavailable("x"), "a1", ModelUnavailable("y"), "a2"])
        ),
        "b": make("b", TestModel(fail_first=1)),
    }
    result, sleep, _ = await run(workflow, "x", agents)
    assert result.status == "succeeded"
    assert sleep.delays == [1, 10, 100]
    assert [s.attempts for s in result.steps] == [2, 2, 2]


async def test_default_retry_is_three_retries_one_two_four() -> None:
    result, sleep, _ = await run(one_agent(), "x", {"a": make("a", TestModel(fail_first=3))})
    assert result.status == "succeeded"
    assert sleep.delays == [1, 2, 4]


# -- timeouts --------------------------------------------------------------------------------


async def test_timeout_is_retried_then_fails_with_step_timeout() -> None:
    workflow = one_agent("retry: {retries: 2}\n", agent_extra=", timeout: 0.02")
    model = TestModel(delay=1.0)
    started = time.perf_counter()
    result, sleep, _ = await run(workflow, "x", {"a": make("a", model)})
    assert time.perf_counter() - started < 0.5
    assert result.status == "failed"
    assert len(model.requests) == 3
    assert sleep.delays == [1, 2]
    assert error_types(result) == ["StepTimeout"]
    assert isinstance(result.errors[0], StepTimeout)
    assert str(result.errors[0]) == "step 'a' timed out after 0.02s"
    record = result.step("a")
    assert (record.status, record.attempts) == ("failed", 3)
    assert record.error is not None
    assert record.error["type"] == "StepTimeout"


async def test_a_timed_out_attempt_can_succeed_on_retry() -> None:
    calls = 0

    async def slow_once(messages: list[ModelMessage], info: RequestInfo) -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            await asyncio.sleep(1)
        return "made it"

    workflow = one_agent(agent_extra=", timeout: 0.02")
    result, sleep, _ = await run(workflow, "x", {"a": make("a", FunctionModel(slow_once))})
    assert result.status == "succeeded"
    assert result.output == "made it"
    assert sleep.delays == [1]
    assert result.step("a").attempts == 2


async def test_node_timeout_beats_agent_timeout() -> None:
    workflow = yaml_workflow(
        """\
        name: t
        agents:
          a: {role: A, model: test, timeout: 10}
        flow: {agent: a, timeout: 0.02, retry: {retries: 0}}
        """
    )
    result, _, _ = await run(workflow, "x", {"a": make("a", TestModel(delay=1.0))})
    assert error_types(result) == ["StepTimeout"]


# -- budgets ---------------------------------------------------------------------------------


class PricedModel(FunctionModel):
    """A FunctionModel with a price: $1 per 1,000 input and $2 per 1,000 output tokens."""

    PRICES = PriceTable("test", {"function:priced": ModelPrice(input=1000.0, output=2000.0)})

    def __init__(self, usage: Usage, text: str = "ok") -> None:
        super().__init__(self.answer, "priced")
        self.fixed_usage = usage
        self.text = text
        self.calls = 0

    def answer(self, messages: list[ModelMessage], info: RequestInfo) -> ModelResponse:
        self.calls += 1
        usage = Usage(self.fixed_usage.input_tokens, self.fixed_usage.output_tokens, requests=1)
        return ModelResponse(f"{self.text} {self.calls}", usage=usage)

    def cost(self, usage: Usage) -> float | None:
        return self.PRICES.cost(self.provider, self.model_name, usage)


def three_with(**models: Any) -> dict[str, Agent]:
    return {n: make(n, m) for n, m in models.items()}


async def test_max_steps_stops_cleanly_keeping_earlier_steps() -> None:
    c = TestModel()
    workflow = yaml_workflow(THREE + "budget: {max_steps: 2}\n")
    result, _, _ = await run(workflow, "x", three_with(c=c))
    assert result.status == "failed"
    assert error_types(result) == ["BudgetExceeded"]
    exc = result.errors[0]
    assert isinstance(exc, BudgetExceeded)
    assert (exc.limit, exc.spent, exc.allowed) == ("max_steps", 2, 2)
    assert str(exc) == "step budget spent: 2 of 2 steps"
    assert c.requests == []  # the third step never called its model
    assert [(s.step_id, s.status) for s in result.steps] == [
        ("a", "succeeded"),
        ("b", "succeeded"),
        ("c", "failed"),
    ]
    assert result.step("c").error == {
        "type": "BudgetExceeded",
        "message": "step budget spent: 2 of 2 steps",
    }
    assert result.results == ["A: x", "B: A: x"]
    assert result.output is None


async def test_max_tokens() -> None:
    models = {n: PricedModel(Usage(60, 50)) for n in "abc"}
    workflow = yaml_workflow(THREE + "budget: {max_tokens: 200}\n")
    result, _, _ = await run(workflow, "x", three_with(**models))
    # a: 110 tokens (< 200, b may start); b: 220 (c may not)
    assert result.status == "failed"
    exc = result.errors[0]
    assert isinstance(exc, BudgetExceeded)
    assert (exc.limit, exc.spent, exc.allowed) == ("max_tokens", 220, 200)
    assert [m.calls for m in models.values()] == [1, 1, 0]
    assert (result.input_tokens, result.output_tokens) == (120, 100)
    assert result.results == ["ok 1", "ok 1"]


async def test_max_usd() -> None:
    # each step: 100 in, 100 out -> $0.1 + $0.2 = $0.3
    models = {n: PricedModel(Usage(100, 100)) for n in "abc"}
    workflow = yaml_workflow(THREE + "budget: {max_usd: 0.5}\n")
    result, _, _ = await run(workflow, "x", three_with(**models))
    assert result.status == "failed"
    exc = result.errors[0]
    assert isinstance(exc, BudgetExceeded)
    assert exc.limit == "max_usd"
    assert exc.spent == pytest.approx(0.6)
    assert str(exc) == "cost budget spent: $0.6000 of $0.5000"
    assert [m.calls for m in models.values()] == [1, 1, 0]
    assert result.total_cost == pytest.approx(0.6)
    assert [s.cost for s in result.steps] == [pytest.approx(0.3), pytest.approx(0.3), 0.0]


async def test_budget_is_not_swallowed_by_on_error_continue() -> None:
    workflow = yaml_workflow(THREE + "budget: {max_steps: 1}\non_error: continue\n")
    result, _, _ = await run(workflow, "x")
    assert result.status == "failed"
    assert error_types(result) == ["BudgetExceeded"]
    assert [(s.step_id, s.status) for s in result.steps] == [("a", "succeeded"), ("b", "failed")]


async def test_budget_exceeded_is_never_retried() -> None:
    workflow = yaml_workflow(
        THREE + "budget: {max_steps: 1}\nretry: {retries: 3, errors: [States.ALL]}\n"
    )
    result, sleep, _ = await run(workflow, "x")
    assert error_types(result) == ["BudgetExceeded"]
    assert sleep.delays == []


async def test_retries_do_not_count_as_steps() -> None:
    workflow = one_agent("budget: {max_steps: 1}\n")
    result, sleep, _ = await run(workflow, "x", {"a": make("a", TestModel(fail_first=2))})
    assert result.status == "succeeded"
    assert sleep.delays == [1, 2]


# -- cancellation ----------------------------------------------------------------------------


async def wait_for_step(events: list[Event], step_id: str) -> None:
    for _ in range(200):
        if any(e.kind == "step_started" and e.step_id == step_id for e in events):
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"{step_id} never started")


async def test_cancel_a_running_execution() -> None:
    from agentweaver.stores.sqlite import SQLiteStore

    store = SQLiteStore(":memory:")
    local, _, events = runner(store=store)
    slow = TestModel(delay=5)
    workflow = yaml_workflow(THREE)
    started = time.perf_counter()
    handle = local.start(workflow, "x", agents=three_with(b=slow))
    await wait_for_step(events, "b")
    handle.cancel()
    result = await handle.result()
    assert time.perf_counter() - started < 1
    assert handle.done()
    assert result.status == "cancelled"
    assert isinstance(result.errors[-1], ExecutionCancelled)
    assert [(s.step_id, s.status) for s in result.steps] == [
        ("a", "succeeded"),
        ("b", "cancelled"),
    ]
    assert result.step("b").ended_at is not None
    execution = store.get_execution("local", handle.execution_id)
    assert execution is not None
    assert execution.status == "cancelled"
    assert execution.error is not None
    assert execution.error["type"] == "ExecutionCancelled"
    assert [(s.step_id, s.status) for s in store.list_steps(handle.execution_id)] == [
        ("a", "succeeded"),
        ("b", "cancelled"),
    ]
    assert events[-1].kind == "execution_finished"
    assert events[-1].data["status"] == "cancelled"


async def test_cancel_stops_every_parallel_branch() -> None:
    workflow = yaml_workflow(THREE.replace("sequence: [a, b, c]", "parallel: [a, b, c]"))
    local, _, events = runner()
    agents = three_with(a=TestModel(delay=5), b=TestModel(delay=5), c=TestModel(delay=5))
    handle = local.start(workflow, "x", agents=agents)
    await wait_for_step(events, "c")
    handle.cancel()
    result = await handle.result()
    assert result.status == "cancelled"
    assert {s.status for s in result.steps} == {"cancelled"}
    assert ids(result) == ["a", "b", "c"]


async def test_cancelling_the_task_records_the_execution_cancelled() -> None:
    from agentweaver.stores.sqlite import SQLiteStore

    store = SQLiteStore(":memory:")
    local, _, events = runner(store=store)
    task = asyncio.create_task(
        local.run(
            yaml_workflow(THREE), "x", agents=three_with(a=TestModel(delay=5)), execution_id="e1"
        )
    )
    await wait_for_step(events, "a")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    execution = store.get_execution("local", "e1")
    assert execution is not None
    assert execution.status == "cancelled"
    step = store.get_step("e1", "a")
    assert step is not None
    assert step.status == "cancelled"


async def test_cancel_before_the_run_starts() -> None:
    local, _, events = runner()
    handle = local.start(yaml_workflow(THREE), "x")
    handle.cancel()
    result = await handle.result()
    assert result.status == "cancelled"
    assert result.workflow == "t"
    assert result.steps == []
    assert error_types(result) == ["ExecutionCancelled"]
    assert events == []
    team = AgentWorkflow([team_agent("a", TestModel())], name="team")
    handle = local.start(team, "x")
    handle.cancel()
    assert (await handle.result()).workflow == "team"


async def test_handle_result_of_a_finished_run() -> None:
    local, _, _ = runner()
    handle = local.start(yaml_workflow(THREE), "x", execution_id="fixed")
    result = await handle.result()
    assert handle.execution_id == result.execution_id == "fixed"
    assert result.status == "succeeded"
    assert await handle.result() is result


# -- on_error --------------------------------------------------------------------------------


async def test_on_error_continue_passes_the_failed_step_input_on() -> None:
    workflow = yaml_workflow(
        THREE.replace("sequence: [a, b, c]", "sequence: [a, {agent: b, on_error: continue}, c]")
    )
    agents = three_with(
        a=echo(lambda p: p + " via a"),
        b=TestModel(error=ModelAuthError("no key for b"), fail_first=1),
        c=echo(lambda p: p + " via c"),
    )
    result, sleep, _ = await run(workflow, "x", agents)
    assert result.status == "succeeded"
    assert result.output == "x via a via c"
    assert result.step("c").input == "x via a"  # b's input, as if b was skipped
    assert result.step("b").status == "failed"
    assert error_types(result) == ["ModelAuthError"]
    assert str(result.errors[0]) == "no key for b"
    assert result.results == ["x via a", "x via a via c"]
    assert sleep.delays == []


async def test_on_error_continue_after_retries() -> None:
    workflow = yaml_workflow(THREE + "on_error: continue\nretry: {retries: 1}\n")
    agents = three_with(b=TestModel(fail_first=5))
    result, sleep, _ = await run(workflow, "x", agents)
    assert result.status == "succeeded"
    assert sleep.delays == [1]
    assert result.step("b").attempts == 2
    assert error_types(result) == ["ModelUnavailable"]
    assert result.output == "C: A: x"


async def test_on_error_continue_in_a_parallel_branch() -> None:
    workflow = yaml_workflow(
        THREE.replace("sequence: [a, b, c]", "parallel: [a, b, c]\n  on_error: continue")
    )
    agents = three_with(b=TestModel(error=ModelAuthError("nope"), fail_first=1))
    result, _, _ = await run(workflow, "in", agents)
    assert result.status == "succeeded"
    assert result.output == ["A: in", "in", "C: in"]


async def test_error_handling_continue_shorthand() -> None:
    workflow = yaml_workflow(THREE + "error_handling: continue\n")
    agents = three_with(a=TestModel(fail_first=1))  # retryable, but the shorthand never retries
    result, sleep, _ = await run(workflow, "x", agents)
    assert result.status == "succeeded"
    assert sleep.delays == []
    assert result.output == "C: B: x"


async def test_on_error_fail_stops_the_execution() -> None:
    c = TestModel()
    agents = three_with(b=TestModel(error=ModelAuthError("no key"), fail_first=1), c=c)
    result, _, events = await run(yaml_workflow(THREE), "x", agents)
    assert result.status == "failed"
    assert error_types(result) == ["ModelAuthError"]
    assert c.requests == []
    assert ids(result) == ["a", "b"]
    assert result.output is None
    assert result.results == ["A: x"]
    assert events[-1].data == {
        "status": "failed",
        "error": {"type": "ModelAuthError", "message": "no key"},
    }


async def test_a_failing_branch_cancels_its_siblings() -> None:
    workflow = yaml_workflow(
        THREE.replace("sequence: [a, b, c]", "sequence:\n    - parallel: [a, b]\n    - c")
    )
    slow, c = TestModel(delay=5), TestModel()
    agents = three_with(a=slow, b=TestModel(error=ModelAuthError("no"), fail_first=1), c=c)
    started = time.perf_counter()
    result, _, _ = await run(workflow, "x", agents)
    assert time.perf_counter() - started < 1
    assert result.status == "failed"
    assert error_types(result) == ["ModelAuthError"]
    assert [(s.step_id, s.status) for s in result.steps] == [("a", "cancelled"), ("b", "failed")]
    assert c.requests == []


# -- results and events ----------------------------------------------------------------------


async def test_workflow_result_fields() -> None:
    models = {"a": PricedModel(Usage(10, 20)), "b": PricedModel(Usage(30, 40)), "c": TestModel()}
    result, _, _ = await run(yaml_workflow(THREE), "x", three_with(**models))
    assert result.status == "succeeded"
    assert result.succeeded
    assert result.workflow == "t"
    assert result.results == ["ok 1", "ok 1", result.output]
    assert result.execution_time > 0
    assert result.input_tokens == sum(s.input_tokens for s in result.steps)
    assert [s.input_tokens for s in result.steps][:2] == [10, 30]
    assert result.output_tokens == sum(s.output_tokens for s in result.steps)
    assert result.total_tokens == result.input_tokens + result.output_tokens
    # $1/1k in, $2/1k out: a = 0.01 + 0.04, b = 0.03 + 0.08; TestModel is free
    assert result.total_cost == pytest.approx(0.16)
    a = result.step("a")
    assert (a.agent, a.role, a.node_id, a.model) == ("a", "A", "a", "function:priced")
    assert (a.input_tokens, a.output_tokens) == (10, 20)
    assert a.cost == pytest.approx(0.05)
    assert a.ended_at is not None
    assert a.started_at <= a.ended_at
    assert [s.seq for s in result.steps] == [1, 2, 3]
    with pytest.raises(KeyError, match="no step 'd'; steps: a, b, c"):
        result.step("d")


async def test_unknown_price_makes_total_cost_none() -> None:
    class Unpriced(FunctionModel):
        def cost(self, usage: Usage) -> float | None:
            return None

    agents = three_with(b=Unpriced(lambda m, i: "?"))
    result, _, _ = await run(yaml_workflow(THREE), "x", agents)
    assert result.status == "succeeded"
    assert result.step("b").cost is None
    assert result.total_cost is None


async def test_events_for_a_two_step_run() -> None:
    workflow = yaml_workflow(THREE.replace("[a, b, c]", "[a, b]"))
    result, _, events = await run(workflow, "x")
    assert [(e.kind, e.step_id, e.agent, e.attempt) for e in events] == [
        ("execution_started", None, None, 0),
        ("step_started", "a", "a", 1),
        ("step_succeeded", "a", "a", 1),
        ("step_started", "b", "b", 1),
        ("step_succeeded", "b", "b", 1),
        ("execution_finished", None, None, 0),
    ]
    assert {e.execution_id for e in events} == {result.execution_id}
    assert events[0].data == {"workflow": "t"}
    assert events[-1].data == {"status": "succeeded", "error": None}
    assert events[2].data["record"] is result.step("a")
    times = [e.time for e in events]
    assert times == sorted(times)


async def test_context_reaches_the_prompt() -> None:
    seen: list[str] = []
    model = FunctionModel(lambda m, i: seen.append(prompt_of(m)) or "ok")
    local, _, _ = runner()
    await local.run(one_agent(), "task", agents={"a": make("a", model)}, context={"user": "ada"})
    assert seen == ["Context:\n- user: ada\n\ntask"]


# -- the spec's AgentWorkflow shorthand ------------------------------------------------------


def team_agent(name: str, model: Any, **config: Any) -> Agent:
    return agent(role=name.title(), model=model, name=name, **config)(lambda task: None)


async def test_agent_workflow_sequential() -> None:
    @agent(role="Researcher", model=TestModel())
    def researcher(topic: str) -> str:
        """Gather the key facts."""
        return f"Research this topic: {topic}"

    @agent(role="Writer", model=echo(lambda p: f"brief of [{p}]"))
    def writer(notes: str) -> None: ...

    team = AgentWorkflow([researcher, writer], mode=ExecutionMode.SEQUENTIAL)
    local, _, _ = runner()
    result = await team.run("agents", runner=local)
    assert result.status == "succeeded"
    assert result.output == "brief of [Researcher: Research this topic: agents]"
    assert ids(result) == ["researcher", "writer"]


async def test_agent_workflow_parallel_respects_max_parallel() -> None:
    gauge = Gauge()
    team = AgentWorkflow(
        [team_agent(f"w{i}", FunctionModel(gauge)) for i in range(5)],
        mode=ExecutionMode.PARALLEL,
        max_parallel=2,
    )
    local, _, _ = runner()
    result = await team.run("go", runner=local)
    assert result.status == "succeeded"
    assert result.output == ["done: go"] * 5
    assert gauge.peak == 2


async def test_agent_workflow_conditional_routes_from_the_first_agent() -> None:
    team = AgentWorkflow(
        [
            team_agent("triage", TestModel(script=["billing"])),
            team_agent("support", TestModel(custom_output_text="support answer")),
            team_agent("billing", TestModel(custom_output_text="billing answer")),
        ],
        mode="conditional",
    )
    local, _, _ = runner()
    result = await team.run("charged twice", runner=local)
    assert result.status == "succeeded"
    assert ids(result) == ["route_router", "billing"]
    assert result.output == "billing answer"


async def test_agent_workflow_retry_3_times() -> None:
    team = AgentWorkflow([team_agent("a", TestModel(fail_first=3))], error_handling="retry_3_times")
    local, sleep, _ = runner()
    result = await team.run("x", runner=local)
    assert result.status == "succeeded"
    assert sleep.delays == [1, 2, 4]
    failing = AgentWorkflow([team_agent("a", TestModel(fail_first=4))])  # the default
    result = await failing.run("x", runner=local)
    assert result.status == "failed"
    assert result.step("a").attempts == 4


async def test_agent_workflow_error_handling_fail_and_continue() -> None:
    local, sleep, _ = runner()
    strict = AgentWorkflow([team_agent("a", TestModel(fail_first=1))], error_handling="fail")
    assert (await strict.run("x", runner=local)).status == "failed"
    lenient = AgentWorkflow(
        [team_agent("a", TestModel(fail_first=1)), team_agent("b", echo(str.upper))],
        error_handling="continue",
    )
    result = await lenient.run("x", runner=local)
    assert result.status == "succeeded"
    assert result.output == "X"
    assert sleep.delays == []


async def test_agent_workflow_timeout_and_budget() -> None:
    team = AgentWorkflow(
        [team_agent("a", TestModel(delay=1.0), timeout=0.02)],
        error_handling="retry_1_time",
        budget={"max_steps": 5},
    )
    local, sleep, _ = runner()
    result = await team.run("x", runner=local)
    assert error_types(result) == ["StepTimeout"]
    assert sleep.delays == [1]


# -- the store -------------------------------------------------------------------------------


async def test_runner_records_everything_in_the_store() -> None:
    from agentweaver.stores.sqlite import SQLiteStore

    store = SQLiteStore(":memory:")
    workflow = yaml_workflow(THREE.replace("[a, b, c]", "[a, b]"))
    agents = three_with(a=TestModel(fail_first=1), b=PricedModel(Usage(100, 100)))
    local, _, _ = runner(store=store)
    result = await local.run(workflow, {"q": 1}, agents=agents, workflow_id="wf-1")
    assert result.status == "succeeded"

    execution = store.get_execution("local", result.execution_id)
    assert execution is not None
    assert execution.status == "succeeded"
    assert execution.workflow_id == "wf-1"
    assert execution.workflow_name == "t"
    assert execution.input == {"q": 1}
    assert execution.output == result.output
    assert execution.error is None
    assert execution.steps == 2
    assert (execution.input_tokens, execution.output_tokens) == (
        result.input_tokens,
        result.output_tokens,
    )
    assert execution.cost == pytest.approx(0.3)
    assert execution.ended_at is not None
    assert execution.started_at is not None
    assert execution.ended_at >= execution.started_at

    steps = store.list_steps(result.execution_id)
    assert [(s.step_id, s.status, s.attempts) for s in steps] == [
        ("a", "succeeded", 2),
        ("b", "succeeded", 1),
    ]
    assert steps[1].output == "ok 1"
    assert steps[1].cost == pytest.approx(0.3)

    logs = store.list_logs(result.execution_id)
    levels_messages = [(log.level, log.message) for log in logs]
    assert levels_messages[0] == ("INFO", "execution of 't' started")
    assert levels_messages[1] == (
        "WARNING",
        "a attempt 1 failed: TestModel: scripted failure",
    )
    assert levels_messages[2][0] == "INFO"
    assert levels_messages[2][1].startswith("a succeeded: ")
    assert levels_messages[3][1].startswith("b succeeded: 200 tokens in ")
    assert levels_messages[-1] == ("INFO", "execution succeeded")
    assert [log.seq for log in logs] == list(range(1, len(logs) + 1))
    assert logs[1].step_id == "a"
    assert logs[1].agent_role == "A"

    day = datetime.fromtimestamp(execution.ended_at, UTC).strftime("%Y-%m-%d")
    usage = store.get_usage("local", day, day)
    assert len(usage) == 1
    metrics = usage[0].metrics
    assert metrics["executions"] == 1
    assert metrics["executions_succeeded"] == 1
    assert metrics["steps"] == 2
    assert metrics["input_tokens"] == result.input_tokens
    assert metrics["output_tokens"] == result.output_tokens
    assert metrics["cost_usd"] == pytest.approx(0.3)
    assert metrics["execution_seconds"] > 0

    # a second, failing run adds to the same day
    failing = three_with(a=TestModel(error=ModelAuthError("bad key"), fail_first=1))
    second = await local.run(workflow, "x", agents=failing)
    assert second.status == "failed"
    record = store.get_execution("local", second.execution_id)
    assert record is not None
    assert record.status == "failed"
    assert record.error == {"type": "ModelAuthError", "message": "bad key"}
    second_logs = [(log.level, log.message) for log in store.list_logs(second.execution_id)]
    assert ("ERROR", "a attempt 1 failed: bad key") in second_logs
    assert second_logs[-1] == ("ERROR", "execution failed: ModelAuthError: bad key")
    metrics = store.get_usage("local", day, day)[0].metrics
    assert metrics["executions"] == 2
    assert metrics["executions_succeeded"] == 1
    assert metrics["executions_failed"] == 1
    store.close()


async def test_store_records_a_budget_stop() -> None:
    from agentweaver.stores.sqlite import SQLiteStore

    store = SQLiteStore(":memory:")
    local, _, _ = runner(store=store, owner="alice")
    result = await local.run(yaml_workflow(THREE + "budget: {max_steps: 1}\n"), "x")
    record = store.get_execution("alice", result.execution_id)
    assert record is not None
    assert record.status == "failed"
    assert record.error == {"type": "BudgetExceeded", "message": "step budget spent: 1 of 1 steps"}
    assert [(s.step_id, s.status) for s in store.list_steps(result.execution_id)] == [
        ("a", "succeeded"),
        ("b", "failed"),
    ]
    assert store.get_execution("local", result.execution_id) is None  # another owner's


async def test_cancel_while_waiting_to_retry_records_the_step_cancelled() -> None:
    from agentweaver.stores.sqlite import SQLiteStore

    waiting = asyncio.Event()

    async def sleep_forever(seconds: float) -> None:
        waiting.set()
        await asyncio.Event().wait()

    store = SQLiteStore(":memory:")
    local = LocalRunner(store=store, sleep=sleep_forever)
    workflow = one_agent("retry: {retries: 1, interval: 30}\n")
    handle = local.start(workflow, "x", agents={"a": make("a", TestModel(fail_first=1))})
    await asyncio.wait_for(waiting.wait(), 1)
    handle.cancel()
    result = await handle.result()
    assert result.status == "cancelled"
    assert [(s.step_id, s.status) for s in result.steps] == [("a", "cancelled")]
    saved = store.get_step(handle.execution_id, "a")
    assert saved is not None
    assert saved.status == "cancelled"


# -- on_error on a node that is not an agent -------------------------------------------------


async def test_on_error_continue_on_a_foreach_skips_it_on_bad_data() -> None:
    workflow = yaml_workflow(
        """\
        name: t
        agents:
          each: {role: Each, model: test}
          after: {role: After, model: test}
        flow:
          sequence:
            - {foreach: $.items, do: each, on_error: continue}
            - after
        """
    )
    result, _, _ = await run(workflow, {"items": "not a list"})
    assert result.status == "succeeded"
    assert error_types(result) == ["InvalidData"]
    assert result.step("after").input == {"items": "not a list"}


async def test_on_error_continue_on_a_route_skips_it_without_a_match() -> None:
    workflow = yaml_workflow(RULES.replace("    default: other\n", "  on_error: continue\n"))
    result, _, _ = await run(workflow, {"priority": 1})
    assert result.status == "succeeded"
    assert error_types(result) == ["NoRouteMatched"]
    assert result.output == {"priority": 1}
    assert result.steps == []


async def test_on_error_continue_on_a_parallel_catches_a_branch_that_fails() -> None:
    workflow = yaml_workflow(
        THREE.replace(
            "sequence: [a, b, c]",
            "sequence:\n    - parallel: [a, {agent: b, on_error: fail}]\n      on_error: continue\n"
            "    - c",
        )
    )
    agents = three_with(a=TestModel(delay=5), b=TestModel(error=ModelAuthError("no"), fail_first=1))
    result, _, _ = await run(workflow, "in", agents)
    assert result.status == "succeeded"
    assert error_types(result) == ["ModelAuthError"]
    assert result.step("c").input == "in"  # the parallel's input flows on
    assert result.step("a").status == "cancelled"


async def test_on_error_continue_on_a_node_never_swallows_a_budget() -> None:
    workflow = yaml_workflow(
        THREE.replace("sequence: [a, b, c]", "sequence: [a, b, c]\n  on_error: continue")
        + "budget: {max_steps: 1}\n"
    )
    result, _, _ = await run(workflow, "x")
    assert result.status == "failed"
    assert error_types(result) == ["BudgetExceeded"]


# -- what run() accepts ----------------------------------------------------------------------


async def test_run_a_yaml_file_path(tmp_path: Any) -> None:
    path = tmp_path / "wf.yaml"
    path.write_text(THREE)
    result, _, _ = await run(str(path), "x")
    assert result.output == "C: B: A: x"
    result, _, _ = await run(path, "y")
    assert result.output == "C: B: A: y"


async def test_run_a_python_definition() -> None:
    from agentweaver.workflow.definition import WorkflowDefinition

    definition = WorkflowDefinition.model_validate(
        {
            "name": "py",
            "agents": {"a": {"role": "A", "model": "test"}, "b": {"role": "B", "model": "test"}},
            "flow": {"parallel": ["a", "b"]},
        }
    )
    result, _, _ = await run(definition, "x")
    assert result.output == ["A: x", "B: x"]


async def test_run_rejects_something_else() -> None:
    with pytest.raises(DefinitionError, match="cannot run a int"):
        await LocalRunner().run(42, "x")  # type: ignore[arg-type]


# -- tool calls in step records --------------------------------------------------------------


async def test_tool_calls_are_recorded_on_the_step() -> None:
    from agentweaver.models.messages import ToolCall
    from agentweaver.tools.base import tool

    @tool(register=False)
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    model = TestModel(script=[[ToolCall("add", {"a": 1, "b": 2})], "the sum is 3"])
    result, _, _ = await run(one_agent(), "1+2?", {"a": make("a", model, tools=[add])})
    assert result.output == "the sum is 3"
    calls = result.step("a").tool_calls
    assert [{k: c[k] for k in ("name", "arguments", "result", "is_error")} for c in calls] == [
        {"name": "add", "arguments": {"a": 1, "b": 2}, "result": "3", "is_error": False}
    ]
    assert calls[0]["duration"] >= 0


async def test_a_slow_tool_counts_against_the_step_timeout() -> None:
    from agentweaver.models.messages import ToolCall
    from agentweaver.tools.base import tool

    @tool(register=False)
    async def wait() -> str:
        """Take a long time."""
        await asyncio.sleep(1)
        return "late"

    model = TestModel(script=[[ToolCall("wait", {})], "never"])
    workflow = one_agent("retry: {retries: 0}\n", agent_extra=", timeout: 0.02")
    result, _, _ = await run(workflow, "x", {"a": make("a", model, tools=[wait])})
    assert error_types(result) == ["StepTimeout"]


async def test_router_failing_under_continue_takes_the_default() -> None:
    from agentweaver.exceptions import ModelAuthError

    def make(name: str, model: TestModel) -> Any:
        return agent(role=name.title(), model=model, name=name)(lambda ticket: None)

    router = make("router", TestModel(script=[ModelAuthError("bad key")]))
    billing = make("billing", TestModel(custom_output_text="billing answer"))
    general = make("general", TestModel(custom_output_text="general answer"))
    workflow = AgentWorkflow(
        [router, billing, general],
        name="t",
        error_handling="continue",
        flow={
            "route": {
                "router": "router",
                "cases": [{"name": "billing", "do": "billing"}],
                "default": "general",
            }
        },
    )
    result = await LocalRunner().run(workflow, "billing")  # input equals a case name on purpose
    assert result.status == "succeeded"
    assert result.output == "general answer"
    assert [type(e).__name__ for e in result.errors] == ["ModelAuthError"]


async def test_failed_attempts_are_paid_for_and_stop_the_budget() -> None:
    from agentweaver.models import ModelResponse, Usage

    calls: list[int] = []

    def garbage(messages: list[Any], info: Any) -> ModelResponse:
        calls.append(1)
        return ModelResponse("not json at all", usage=Usage(1000, 1000, requests=1))

    model = FunctionModel(garbage)
    worker = agent(role="Worker", model=model, output="json", name="worker")(lambda t: None)
    workflow = AgentWorkflow(
        [worker], name="w", budget={"max_tokens": 2500}, retry={"retries": 3, "interval": 0}
    )
    result = await LocalRunner(sleep=_no_sleep).run(workflow, "x")
    assert result.status == "failed"
    # the first attempt (answer + repair) spends 4000 tokens: the retry is refused by the budget
    assert len(calls) == 2
    assert type(result.errors[-1]).__name__ == "BudgetExceeded"
    assert result.input_tokens == 2000
    assert result.output_tokens == 2000


async def test_a_raising_event_handler_fails_the_run_cleanly() -> None:
    from agentweaver.stores.sqlite import SQLiteStore

    def broken(event: Any) -> None:
        if event.kind == "step_succeeded":
            raise RuntimeError("handler bug")

    worker = agent(role="Worker", model=TestModel(), name="worker")(lambda t: None)
    store = SQLiteStore(":memory:")
    runner = LocalRunner(store, on_event=broken)
    result = await runner.run(AgentWorkflow([worker], name="w"), "x")
    assert result.status == "failed"
    assert "handler bug" in str(result.errors[-1])
    record = store.get_execution("local", result.execution_id)
    assert record is not None
    assert record.status == "failed"


async def _no_sleep(delay: float) -> None:
    return None


async def test_a_budget_stop_is_not_hidden_by_a_sibling_error() -> None:
    from agentweaver.exceptions import BudgetExceeded, ModelAuthError
    from agentweaver.workflow.execution import bounded

    async def budget() -> None:
        raise BudgetExceeded("spent")

    async def auth() -> None:
        raise ModelAuthError("bad key")

    for order in ([auth, budget], [budget, auth]):
        with pytest.raises(BudgetExceeded):
            await bounded(order, 2)
