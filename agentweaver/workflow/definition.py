"""The workflow definition: one pydantic model, written in YAML/JSON or built in Python.

A ``flow`` node is a mapping with exactly one of the keys ``agent``, ``sequence``,
``parallel``, ``foreach``, ``route`` or ``loop``; inside a list, a bare string is an agent.
Without a ``flow``, ``mode`` (the spec's shorthand) arranges the agents for you.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    field_validator,
    model_validator,
)

from agentweaver.policies import Budget, RetryPolicy
from agentweaver.triggers.spec import TriggerSpec
from agentweaver.workflow.conditions import Condition, validate_path

__all__ = [
    "AgentNode",
    "AgentSpec",
    "ExecutionMode",
    "FlowNode",
    "ForeachNode",
    "LoopNode",
    "ParallelNode",
    "RouteCase",
    "RouteNode",
    "RouteSpec",
    "SequenceNode",
    "WorkflowDefinition",
]

OnError = Literal["fail", "continue"]
NODE_KINDS = ("agent", "sequence", "parallel", "foreach", "route", "loop")
_ID = r"^[A-Za-z][A-Za-z0-9_-]{0,63}$"


class ExecutionMode(StrEnum):
    SEQUENTIAL = "sequential"
    PARALLEL = "parallel"
    CONDITIONAL = "conditional"


class AgentSpec(BaseModel):
    """An agent as data: what YAML, JSON and the API carry."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    role: str = Field(min_length=1)
    model: str = "claude"
    tools: list[str] = Field(default_factory=list)
    personality: str = "helpful, professional"
    temperature: float = Field(0.7, ge=0, le=2)
    max_tokens: int = Field(4000, gt=0)
    timeout: float = Field(30, gt=0, le=86400, description="seconds per attempt")
    description: str = ""
    instructions: str = ""
    output: Literal["text", "json"] = "text"
    retry: RetryPolicy | None = None
    max_tool_rounds: int = Field(8, ge=1, le=50)
    function: str | None = Field(
        None, description="'package.module:name' of an @agent function contributing the prompt"
    )
    fallback_models: list[str] = Field(
        default_factory=list, description="models tried in order when the model is unavailable"
    )
    output_schema: str | None = Field(
        None, description="'package.module:Model' of a pydantic model the answer must fit"
    )
    model_settings: dict[str, Any] = Field(
        default_factory=dict,
        description="provider-specific settings, e.g. {reasoning_effort: high}",
    )

    @field_validator("function", "output_schema")
    @classmethod
    def _import_path(cls, value: str | None) -> str | None:
        if value is not None and (":" not in value or not all(value.split(":", 1))):
            raise ValueError(f"function must look like 'package.module:name', got {value!r}")
        return value


class _Node(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid")

    id: str | None = Field(None, pattern=_ID)
    on_error: OnError | None = None


class AgentNode(_Node):
    agent: str
    retry: RetryPolicy | None = None
    timeout: float | None = Field(None, gt=0, le=86400)


class SequenceNode(_Node):
    sequence: list[FlowNode]


class ParallelNode(_Node):
    parallel: list[FlowNode]
    max_parallel: int | None = Field(None, ge=1, le=1000)


class ForeachNode(_Node):
    foreach: str = Field(description="path to the list in the input, '$' for the input itself")
    do: FlowNode
    max_parallel: int | None = Field(None, ge=1, le=1000)

    _path = field_validator("foreach")(classmethod(lambda cls, v: validate_path(v)))


class RouteCase(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid")

    name: str = Field(pattern=_ID)
    description: str = ""
    when: Condition | None = None
    do: FlowNode


class RouteSpec(BaseModel):
    """Who picks the case: ``rules`` (first ``when`` that holds), a ``router`` agent,
    or ``skills`` (the coordinator's skill match against each case's agent)."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    router: str | None = None
    by: Literal["rules", "agent", "skills"] | None = None
    cases: list[RouteCase]
    default: FlowNode | None = None

    @property
    def strategy(self) -> Literal["rules", "agent", "skills"]:
        if self.by is not None:
            return self.by
        return "agent" if self.router else "rules"


class RouteNode(_Node):
    route: RouteSpec


class LoopNode(_Node):
    loop: FlowNode
    until: Condition | None = None
    max_iterations: int = Field(3, ge=1, le=1000)


def _node_kind(value: Any) -> str | None:
    if isinstance(value, str):
        return "node:agent"
    if isinstance(value, BaseModel):
        for kind in NODE_KINDS:
            if kind in type(value).model_fields:
                return f"node:{kind}"
        return None
    if isinstance(value, dict):
        kinds = [k for k in NODE_KINDS if k in value]
        return f"node:{kinds[0]}" if len(kinds) == 1 else None
    return None


def _coerce_agent(value: Any) -> Any:
    return {"agent": value} if isinstance(value, str) else value


FlowNode = Annotated[
    Annotated[AgentNode, Tag("node:agent")]
    | Annotated[SequenceNode, Tag("node:sequence")]
    | Annotated[ParallelNode, Tag("node:parallel")]
    | Annotated[ForeachNode, Tag("node:foreach")]
    | Annotated[RouteNode, Tag("node:route")]
    | Annotated[LoopNode, Tag("node:loop")],
    Discriminator(
        _node_kind,
        custom_error_type="flow_node",
        custom_error_message=(
            "a flow node needs exactly one of: agent, sequence, parallel, foreach, route, loop"
        ),
    ),
]


class WorkflowDefinition(BaseModel):
    """A named team of agents and the flow that weaves them together."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,79}$")
    description: str = ""
    version: int = Field(1, ge=1)
    agents: dict[str, AgentSpec]
    flow: FlowNode | None = None
    mode: ExecutionMode = ExecutionMode.SEQUENTIAL
    max_parallel: int = Field(5, ge=1, le=1000)
    error_handling: str | None = Field(
        None, description="the spec's shorthand: 'retry_3_times', 'fail' or 'continue'"
    )
    retry: RetryPolicy | None = None
    on_error: OnError = "fail"
    budget: Budget = Field(default_factory=Budget)
    tool_settings: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="per tool name: its configuration (allowed hosts, database URL, headers...)",
    )
    triggers: list[TriggerSpec] = Field(
        default_factory=list,
        max_length=20,
        description="what starts the workflow by itself: s3 objects, events, schedules",
    )
    # line of each path in the YAML it was parsed from, so later checks can cite lines
    _source_lines: dict[str, int] = PrivateAttr(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _bare_strings(cls, data: Any) -> Any:
        return _normalise(data) if isinstance(data, dict) else data

    @field_validator("error_handling")
    @classmethod
    def _error_handling(cls, value: str | None) -> str | None:
        if value is not None:
            from agentweaver.policies import parse_error_handling

            parse_error_handling(value)
        return value

    def effective_flow(self) -> FlowNode:
        """The flow as written, or the one ``mode`` implies for the agents in order."""
        if self.flow is not None:
            return self.flow
        names = list(self.agents)
        if self.mode == ExecutionMode.PARALLEL:
            return ParallelNode(
                parallel=[AgentNode(agent=n) for n in names], max_parallel=self.max_parallel
            )
        if self.mode == ExecutionMode.CONDITIONAL and len(names) > 1:
            router, *rest = names
            cases = [
                RouteCase(
                    name=n,
                    description=self.agents[n].description or self.agents[n].role,
                    do=AgentNode(agent=n),
                )
                for n in rest
            ]
            return RouteNode(route=RouteSpec(router=router, cases=cases))
        return SequenceNode(sequence=[AgentNode(agent=n) for n in names])


def _normalise(data: dict[str, Any]) -> dict[str, Any]:
    """Accept a bare agent name wherever a node may stand inside the flow."""
    if "flow" not in data:
        return data
    return {**data, "flow": _normalise_node(data["flow"])}


def _normalise_node(node: Any) -> Any:
    node = _coerce_agent(node)
    if not isinstance(node, dict):
        return node
    out = dict(node)
    for key in ("sequence", "parallel"):
        if isinstance(out.get(key), list):
            out[key] = [_normalise_node(n) for n in out[key]]
    for key in ("do", "loop"):
        if key in out:
            out[key] = _normalise_node(out[key])
    route = out.get("route")
    if isinstance(route, dict):
        route = dict(route)
        if "default" in route:
            route["default"] = _normalise_node(route["default"])
        if isinstance(route.get("cases"), list):
            route["cases"] = [
                {**c, "do": _normalise_node(c["do"])} if isinstance(c, dict) and "do" in c else c
                for c in route["cases"]
            ]
        out["route"] = route
    return out


for _model in (SequenceNode, ParallelNode, ForeachNode, RouteCase, RouteSpec, RouteNode, LoopNode):
    _model.model_rebuild()
WorkflowDefinition.model_rebuild()
