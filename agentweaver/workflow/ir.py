"""The workflow IR: the definition resolved into what both executors walk.

Every node gets a stable id (they become Step Functions state names), and every agent step
gets its effective retry policy, timeout and ``on_error``, with precedence node > agent >
workflow. ``build_workflow`` collects every problem it finds before raising.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from agentweaver.exceptions import ValidationIssue, WorkflowValidationError
from agentweaver.models.registry import parse_model_string
from agentweaver.policies import Budget, RetryPolicy, parse_error_handling
from agentweaver.tools.base import ToolRegistry
from agentweaver.workflow.conditions import Condition
from agentweaver.workflow.definition import (
    AgentNode,
    AgentSpec,
    FlowNode,
    ForeachNode,
    LoopNode,
    ParallelNode,
    RouteNode,
    SequenceNode,
    WorkflowDefinition,
)

__all__ = [
    "AgentStep",
    "Case",
    "Foreach",
    "Loop",
    "Node",
    "Parallel",
    "Route",
    "Sequence",
    "Workflow",
    "build_workflow",
]

OnError = Literal["fail", "continue"]


@dataclass(frozen=True)
class AgentStep:
    id: str
    agent: str
    retry: RetryPolicy
    timeout: float
    on_error: OnError


@dataclass(frozen=True)
class Sequence:
    id: str
    steps: tuple[Node, ...]
    on_error: OnError | None = None  # as written on the node: 'continue' catches what escapes it


@dataclass(frozen=True)
class Parallel:
    id: str
    branches: tuple[Node, ...]
    max_parallel: int
    on_error: OnError | None = None


@dataclass(frozen=True)
class Foreach:
    id: str
    items: str
    body: Node
    max_parallel: int
    on_error: OnError | None = None


@dataclass(frozen=True)
class Case:
    name: str
    description: str
    when: Condition | None
    body: Node


@dataclass(frozen=True)
class Route:
    id: str
    strategy: Literal["rules", "agent", "skills"]
    router: AgentStep | None
    cases: tuple[Case, ...]
    default: Node | None
    on_error: OnError | None = None


@dataclass(frozen=True)
class Loop:
    id: str
    body: Node
    until: Condition | None
    max_iterations: int
    on_error: OnError | None = None


Node = AgentStep | Sequence | Parallel | Foreach | Route | Loop


@dataclass(frozen=True)
class Workflow:
    """A validated workflow, ready to run or compile."""

    name: str
    root: Node
    agents: dict[str, AgentSpec]
    budget: Budget
    definition: WorkflowDefinition

    def walk(self) -> Iterator[Node]:
        return walk(self.root)

    def agent_steps(self) -> list[AgentStep]:
        steps: list[AgentStep] = []
        for node in self.walk():
            if isinstance(node, AgentStep):
                steps.append(node)
            elif isinstance(node, Route) and node.router is not None:
                steps.append(node.router)
        return steps


def walk(node: Node) -> Iterator[Node]:
    yield node
    if isinstance(node, Sequence):
        for child in node.steps:
            yield from walk(child)
    elif isinstance(node, Parallel):
        for child in node.branches:
            yield from walk(child)
    elif isinstance(node, Foreach | Loop):
        yield from walk(node.body)
    elif isinstance(node, Route):
        for case in node.cases:
            yield from walk(case.body)
        if node.default is not None:
            yield from walk(node.default)


class _Builder:
    def __init__(self, definition: WorkflowDefinition, known_agents: set[str]) -> None:
        self.d = definition
        self.known_agents = known_agents
        self.issues: list[ValidationIssue] = []
        self.extra_tools: set[str] = set()
        self.ids: dict[str, str] = {}
        self.counters: dict[str, int] = {}
        retry, on_error = RetryPolicy(), definition.on_error
        if definition.error_handling:
            retry, shorthand_on_error = parse_error_handling(definition.error_handling)
            on_error = shorthand_on_error if definition.on_error == "fail" else on_error
        self.default_retry = definition.retry or retry
        self.default_on_error: OnError = on_error

    def issue(self, path: str, message: str) -> None:
        self.issues.append(ValidationIssue(path, message))

    def claim_id(self, wanted: str | None, base: str, path: str) -> str:
        if wanted is not None:
            if wanted in self.ids:
                self.issue(path, f"duplicate node id {wanted!r} (also used at {self.ids[wanted]})")
            self.ids.setdefault(wanted, path)
            return wanted
        n = self.counters.get(base, 0)
        while True:
            n += 1
            candidate = base if n == 1 else f"{base}_{n}"
            if candidate not in self.ids:
                break
        self.counters[base] = n
        self.ids[candidate] = path
        return candidate

    def agent_step(
        self,
        name: str,
        path: str,
        node: AgentNode | None,
        inherited: OnError,
        node_id: str | None = None,
    ) -> AgentStep:
        if name not in self.d.agents:
            known = ", ".join(self.d.agents) or "none defined"
            self.issue(path, f"unknown agent {name!r} (known: {known})")
        spec = self.d.agents.get(name)
        retry = (
            (node.retry if node else None) or (spec.retry if spec else None) or self.default_retry
        )
        timeout = (node.timeout if node else None) or (spec.timeout if spec else 30.0)
        on_error = (node.on_error if node else None) or inherited
        step_id = self.claim_id(node_id if node_id else (node.id if node else None), name, path)
        return AgentStep(step_id, name, retry, timeout, on_error)

    def build(self, node: FlowNode, path: str, on_error: OnError) -> Node:
        inherited: OnError = node.on_error or on_error
        if isinstance(node, AgentNode):
            return self.agent_step(node.agent, path, node, inherited)
        if isinstance(node, SequenceNode):
            node_id = self.claim_id(node.id, "sequence", path)
            if not node.sequence:
                self.issue(f"{path}.sequence", "empty sequence: add at least one step")
            steps = tuple(
                self.build(child, f"{path}.sequence[{i}]", inherited)
                for i, child in enumerate(node.sequence)
            )
            return Sequence(node_id, steps, node.on_error)
        if isinstance(node, ParallelNode):
            node_id = self.claim_id(node.id, "parallel", path)
            if not node.parallel:
                self.issue(f"{path}.parallel", "empty parallel: add at least one branch")
            branches = tuple(
                self.build(child, f"{path}.parallel[{i}]", inherited)
                for i, child in enumerate(node.parallel)
            )
            limit = node.max_parallel or self.d.max_parallel
            return Parallel(node_id, branches, limit, node.on_error)
        if isinstance(node, ForeachNode):
            node_id = self.claim_id(node.id, "foreach", path)
            body = self.build(node.do, f"{path}.do", inherited)
            limit = node.max_parallel or self.d.max_parallel
            return Foreach(node_id, node.foreach, body, limit, node.on_error)
        if isinstance(node, LoopNode):
            node_id = self.claim_id(node.id, "loop", path)
            body = self.build(node.loop, f"{path}.loop", inherited)
            return Loop(node_id, body, node.until, node.max_iterations, node.on_error)
        assert isinstance(node, RouteNode)
        return self.route(node, path, inherited)

    def route(self, node: RouteNode, path: str, inherited: OnError) -> Route:
        spec = node.route
        node_id = self.claim_id(node.id, "route", path)
        strategy = spec.strategy
        router: AgentStep | None = None
        if strategy == "agent":
            if not spec.router:
                self.issue(f"{path}.route.router", "by: agent needs a router agent")
            else:
                router = self.agent_step(
                    spec.router,
                    f"{path}.route.router",
                    None,
                    inherited,
                    node_id=f"{node_id}_router",
                )
        elif spec.router:
            self.issue(
                f"{path}.route.router",
                f"a router agent is only used with by: agent, not {strategy}",
            )
        if not spec.cases:
            self.issue(f"{path}.route.cases", "a route needs at least one case")
        seen: set[str] = set()
        catch_all: str | None = None
        cases: list[Case] = []
        for i, case in enumerate(spec.cases):
            case_path = f"{path}.route.cases[{i}]"
            if case.name in seen:
                self.issue(f"{case_path}.name", f"duplicate case name {case.name!r}")
            seen.add(case.name)
            if strategy == "rules":
                if catch_all is not None:
                    self.issue(
                        case_path,
                        f"unreachable: case {catch_all!r} before it has no 'when'",
                    )
                if case.when is None:
                    catch_all = case.name
            elif case.when is not None:
                self.issue(
                    f"{case_path}.when",
                    f"'when' is only used when routing by rules, not by {strategy}",
                )
            if strategy == "skills" and not isinstance(case.do, AgentNode):
                self.issue(f"{case_path}.do", "routing by skills needs each case to be one agent")
            cases.append(
                Case(
                    case.name,
                    case.description,
                    case.when,
                    self.build(case.do, f"{case_path}.do", inherited),
                )
            )
        default = None
        if spec.default is not None:
            if catch_all is not None:
                self.issue(
                    f"{path}.route.default", f"unreachable: case {catch_all!r} always matches"
                )
            default = self.build(spec.default, f"{path}.route.default", inherited)
        return Route(node_id, strategy, router, tuple(cases), default, node.on_error)

    def check_agents(self) -> None:
        tools = set(ToolRegistry.names()) | self.extra_tools
        for name, spec in self.d.agents.items():
            path = f"agents.{name}"
            if (
                not name
                or not name.replace("_", "a").replace("-", "a").isalnum()
                or not name[0].isalpha()
            ):
                self.issue(
                    path,
                    f"agent name {name!r}: start with a letter; use letters, digits, '_', '-'",
                )
            for where, text in [("model", spec.model)] + [
                (f"fallback_models[{i}]", m) for i, m in enumerate(spec.fallback_models)
            ]:
                try:
                    parse_model_string(text)
                except ValueError as exc:
                    self.issue(f"{path}.{where}", str(exc))
            for i, tool_name in enumerate(spec.tools):
                if tool_name not in tools:
                    known = ", ".join(sorted(tools)) or "none registered"
                    self.issue(f"{path}.tools[{i}]", f"unknown tool {tool_name!r} (known: {known})")
        if not self.d.agents:
            self.issue("agents", "a workflow needs at least one agent")


def build_workflow(
    definition: WorkflowDefinition, source: str | None = None, extra_tools: set[str] | None = None
) -> Workflow:
    """Validate ``definition`` and resolve it into the IR, or raise every problem at once.

    ``extra_tools`` names tools that exist without being registered (``Tool`` objects that
    Python-defined agents carry).
    """
    builder = _Builder(definition, set(definition.agents))
    builder.extra_tools = extra_tools or set()
    builder.check_agents()
    if builder.issues and definition.flow is None:  # a flow derived from bad agent names
        raise WorkflowValidationError(builder.issues, source)
    root = builder.build(definition.effective_flow(), "flow", builder.default_on_error)
    if builder.issues:
        raise WorkflowValidationError(builder.issues, source)
    return Workflow(definition.name, root, dict(definition.agents), definition.budget, definition)
