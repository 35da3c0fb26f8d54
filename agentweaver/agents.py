"""Agents: a role, a model, tools, and optionally your function's say in the prompt.

``Agent.execute`` is the spec's pipeline: preprocess the input (your function) -> build the
prompt (role, personality, instructions, context) -> model <-> tools until a final answer ->
postprocess. It raises typed errors and returns the output with its usage and cost.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, cast

from pydantic import BaseModel, ValidationError

from agentweaver.exceptions import DefinitionError, ModelUnavailable, OutputParseError, ToolError
from agentweaver.models.base import Model
from agentweaver.models.fallback import FallbackModel
from agentweaver.models.keys import KeySource
from agentweaver.models.messages import (
    AssistantMessage,
    ModelMessage,
    ModelRequestParameters,
    ModelResponse,
    ModelSettings,
    SystemMessage,
    ToolCall,
    ToolResultMessage,
    Usage,
    UserMessage,
)
from agentweaver.models.registry import ModelType, infer_model, parse_model_string
from agentweaver.policies import RetryPolicy
from agentweaver.tools.base import Tool, ToolRegistry
from agentweaver.tools.context import ToolContext

__all__ = ["Agent", "AgentConfig", "AgentResult", "ToolCallRecord", "agent", "render_value"]

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")


@dataclass
class AgentConfig:
    """Everything that defines an agent except its function (the spec's fields first)."""

    role: str
    model: str | ModelType | Model = "claude"
    tools: list[str | Tool] | None = None
    personality: str = "helpful, professional"
    temperature: float = 0.7
    max_tokens: int = 4000
    timeout: float = 30
    name: str | None = None
    description: str = ""
    instructions: str = ""
    output: Literal["text", "json"] = "text"
    retry: RetryPolicy | None = None
    max_tool_rounds: int = 8
    fallback_models: list[str] = field(default_factory=list)
    output_schema: type[BaseModel] | None = None
    model_settings: dict[str, Any] = field(default_factory=dict)  # provider knobs

    def __post_init__(self) -> None:
        if isinstance(self.model, ModelType):
            self.model = self.model.value
        problems = []
        if not self.role or not self.role.strip():
            problems.append("role is empty")
        for text in [self.model, *self.fallback_models]:
            if isinstance(text, str):
                try:
                    parse_model_string(text)
                except ValueError as exc:
                    problems.append(str(exc))
        schema: object = self.output_schema  # checked at run time: configs come from data too
        if schema is not None and not (isinstance(schema, type) and issubclass(schema, BaseModel)):
            problems.append(f"output_schema must be a pydantic model class, got {schema!r}")
        if not 0 <= self.temperature <= 2:
            problems.append(f"temperature {self.temperature} is outside 0..2")
        if self.max_tokens <= 0:
            problems.append(f"max_tokens must be positive, got {self.max_tokens}")
        if self.timeout <= 0:
            problems.append(f"timeout must be positive seconds, got {self.timeout}")
        if self.output not in ("text", "json"):
            problems.append(f"output must be 'text' or 'json', got {self.output!r}")
        if self.max_tool_rounds < 1:
            problems.append("max_tool_rounds must be at least 1")
        if self.name is not None and not _NAME.fullmatch(self.name):
            problems.append(f"name {self.name!r} must be letters, digits, '_' or '-'")
        if problems:
            raise DefinitionError(f"agent {self.name or self.role!r}: " + "; ".join(problems))

    @property
    def model_string(self) -> str:
        return self.model.name if isinstance(self.model, Model) else str(self.model)


@dataclass(slots=True)
class Spent:
    """Tokens and cost an attempt used so far; attached to the error when it fails."""

    usage: Usage
    cost: float | None


@dataclass(slots=True)
class ToolCallRecord:
    """One tool call as the step record shows it."""

    name: str
    arguments: dict[str, Any]
    result: str
    is_error: bool
    duration: float


@dataclass
class AgentResult:
    """An agent's output plus what it took to get it."""

    output: Any
    text: str
    usage: Usage
    cost: float | None
    model_name: str
    tool_calls: list[ToolCallRecord] = field(default_factory=list)
    messages: list[ModelMessage] = field(default_factory=list)

    def __str__(self) -> str:
        return self.text


def render_value(value: Any) -> str:
    """How an input becomes prompt text: strings as they are, anything else as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, AgentResult):
        return value.text
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def parse_json_output(text: str) -> Any:
    """A model's JSON answer, tolerating a Markdown code fence around it."""
    body = text.strip()
    if body.startswith("```"):
        body = body.split("\n", 1)[1] if "\n" in body else ""
        body = body.rsplit("```", 1)[0]
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        raise OutputParseError(f"expected a JSON answer, got {text[:120]!r}: {exc.msg}") from None


def _arity(func: Callable[..., Any]) -> int:
    params = inspect.signature(func).parameters.values()
    if any(p.kind == p.VAR_POSITIONAL for p in params):
        return 2
    return sum(1 for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))


class Agent:
    """A configured agent; build one with ``@agent`` or ``Agent(AgentConfig(...))``."""

    def __init__(self, config: AgentConfig, func: Callable[..., Any] | None = None) -> None:
        self.config = config
        self.func = func
        self.name = config.name or (func.__name__ if func else _slug(config.role))
        self._model: Model | None = config.model if isinstance(config.model, Model) else None
        self._tools: list[Tool] | None = None
        self._postprocessors: list[Callable[[Any], Any]] = []
        self._func_arity = _arity(func) if func else 0
        doc = inspect.getdoc(func) if func else None
        self.instructions = config.instructions or (doc or "")

    def __repr__(self) -> str:
        cfg = self.config
        return f"Agent(name={self.name!r}, role={cfg.role!r}, model={cfg.model_string!r})"

    @property
    def model(self) -> Model:
        """The model, built on first use so an agent can be defined without keys."""
        if self._model is None:
            self._model = self.build_model()
        return self._model

    def with_model(self, model: Model | str) -> Agent:
        """The same agent on another model (offline runs, tests, comparing providers)."""
        copy = Agent(replace(self.config, model=model, name=self.name), self.func)
        copy._postprocessors = list(self._postprocessors)
        return copy

    def build_model(self, keys: KeySource | None = None) -> Model:
        """The configured model (and its fallbacks) with keys from ``keys`` (default: env)."""
        if isinstance(self.config.model, Model):
            return self.config.model
        primary = infer_model(self.config.model_string, keys)
        if not self.config.fallback_models:
            return primary
        return FallbackModel(
            [primary, *(infer_model(m, keys) for m in self.config.fallback_models)]
        )

    @property
    def tools(self) -> list[Tool]:
        if self._tools is None:
            self._tools = ToolRegistry.get_tools(list(self.config.tools or []))
        return self._tools

    def postprocess(self, func: Callable[[Any], Any]) -> Callable[[Any], Any]:
        """Register a function applied to the output (after JSON parsing), in order."""
        self._postprocessors.append(func)
        return func

    # -- the pipeline --------------------------------------------------------------------

    async def _preprocess(self, input_data: Any, context: Mapping[str, Any] | None) -> str:
        if self.func is None:
            return render_value(input_data)
        args: tuple[Any, ...] = (input_data, dict(context or {}))[: self._func_arity]
        contribution = self.func(*args)
        if inspect.isawaitable(contribution):
            contribution = await contribution
        return render_value(input_data) if contribution is None else render_value(contribution)

    def build_messages(self, prompt: str, context: Mapping[str, Any] | None) -> list[ModelMessage]:
        cfg = self.config
        system = f"You are the {cfg.role}."
        if cfg.personality:
            system += f" Personality: {cfg.personality}."
        if cfg.description:
            system += f"\n{cfg.description}"
        if self.instructions:
            system += f"\n\n{self.instructions}"
        if cfg.output == "json":
            system += "\n\nAnswer with one JSON value and nothing else."
        user = prompt
        visible = {k: v for k, v in (context or {}).items() if not k.startswith("_")}
        if visible:
            lines = "\n".join(f"- {k}: {render_value(v)}" for k, v in visible.items())
            user = f"Context:\n{lines}\n\n{prompt}"
        return [SystemMessage(system), UserMessage(user)]

    async def execute(
        self,
        input_data: Any,
        context: Mapping[str, Any] | None = None,
        *,
        model: Model | None = None,
        params: ModelRequestParameters | None = None,
        on_text: Callable[[str], None] | None = None,
        tool_context: ToolContext | None = None,
    ) -> AgentResult:
        """Run the agent once on ``input_data``. Timeouts and retries belong to the caller.

        ``on_text`` receives answer text as it streams in. An answer that is not the declared
        JSON (or does not fit ``output_schema``) gets one repair round-trip, then
        ``OutputParseError``.
        """
        llm = model or self.model
        prompt = await self._preprocess(input_data, context)
        messages = self.build_messages(prompt, context)
        tools = {t.name: t for t in self.tools}
        # a copy: the caller's parameters may be reused for another agent with other tools
        request_params = replace(params) if params else ModelRequestParameters()
        if tools and not request_params.tools:
            request_params.tools = [t.definition for t in tools.values()]
        schema = self.config.output_schema
        if schema is not None:
            request_params.output_schema = schema.model_json_schema()
        wants_json = self.config.output == "json" or schema is not None
        request_params.output_json = request_params.output_json or wants_json
        settings = ModelSettings(
            self.config.temperature, self.config.max_tokens, extra=dict(self.config.model_settings)
        )
        usage, cost = Usage(), cast(float | None, 0.0)
        records: list[ToolCallRecord] = []
        tool_rounds, repaired = 0, False
        spent = Spent(usage, cost)
        try:
            while True:
                response = await self._ask(llm, messages, settings, request_params, on_text)
                usage = usage + response.usage
                step_cost = llm.cost_of(response)
                cost = None if cost is None or step_cost is None else cost + step_cost
                spent.usage, spent.cost = usage, cost
                if response.tool_calls:
                    if tool_rounds == self.config.max_tool_rounds:
                        raise ToolError(
                            f"agent {self.name!r} still asked for tools after max_tool_rounds="
                            f"{self.config.max_tool_rounds}"
                        )
                    tool_rounds += 1
                    messages.append(AssistantMessage(response.text, list(response.tool_calls)))
                    calls = response.tool_calls
                    results = await asyncio.gather(
                        *(self._run_tool(tools, c, tool_context) for c in calls)
                    )
                    for message, record in results:
                        messages.append(message)
                        records.append(record)
                    continue
                try:
                    output = self._parse(response.text)
                except OutputParseError as exc:
                    if repaired or not wants_json:
                        raise
                    repaired = True
                    messages.append(AssistantMessage(response.text))
                    messages.append(
                        UserMessage(f"{exc}\nReply again with only the corrected JSON.")
                    )
                    continue
                return self._finish(output, response, usage, cost, records, messages)
        except BaseException as exc:
            # what the failed attempt cost still counts (budgets, usage, the step record)
            exc.agentweaver_spent = spent  # type: ignore[attr-defined]
            raise

    @staticmethod
    async def _ask(
        llm: Model,
        messages: list[ModelMessage],
        settings: ModelSettings,
        params: ModelRequestParameters,
        on_text: Callable[[str], None] | None,
    ) -> ModelResponse:
        if on_text is None:
            return await llm.request(messages, settings, params)
        final: ModelResponse | None = None
        async for item in llm.request_stream(messages, settings, params):
            if isinstance(item, str):
                on_text(item)
            else:
                final = item
        if final is None:
            raise ModelUnavailable(f"{llm.name}: the stream ended without a final response")
        return final

    def _parse(self, text: str) -> Any:
        schema = self.config.output_schema
        if schema is not None:
            data = parse_json_output(text)
            try:
                return schema.model_validate(data)
            except ValidationError as exc:
                problems = "; ".join(
                    f"{'.'.join(map(str, e['loc'])) or '<root>'}: {e['msg']}"
                    for e in exc.errors(include_url=False)[:5]
                )
                raise OutputParseError(
                    f"the answer does not match {schema.__name__}: {problems}"
                ) from None
        if self.config.output == "json":
            return parse_json_output(text)
        return text

    async def _run_tool(
        self, tools: Mapping[str, Tool], call: ToolCall, context: ToolContext | None = None
    ) -> tuple[ToolResultMessage, ToolCallRecord]:
        """Run one tool call; failures go back to the model as error results it can act on."""
        started = time.perf_counter()
        item = tools.get(call.name)
        is_error = True
        if item is None:
            text = f"error: no tool named {call.name!r}; available: {', '.join(tools) or 'none'}"
        else:
            try:
                result = await item.call(call.arguments, context)
                text, is_error = render_value(result), False
            except TimeoutError as exc:
                if item.timeout is None:  # the tool's own TimeoutError, not its time limit
                    text = f"error: TimeoutError: {exc}"
                else:
                    text = f"error: tool {call.name!r} timed out after {item.timeout}s"
            except Exception as exc:  # the model sees the failure and may try again
                text = f"error: {type(exc).__name__}: {exc}"
        record = ToolCallRecord(
            call.name, call.arguments, text, is_error, time.perf_counter() - started
        )
        return ToolResultMessage(call.id, call.name, text, is_error), record

    def _finish(
        self,
        output: Any,
        response: ModelResponse,
        usage: Usage,
        cost: float | None,
        records: list[ToolCallRecord],
        messages: list[ModelMessage],
    ) -> AgentResult:
        for func in self._postprocessors:
            output = func(output)
        messages.append(AssistantMessage(response.text))
        name = response.model_name
        return AgentResult(output, response.text, usage, cost, name, records, messages)


def _slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", text.strip()).strip("_").lower()
    return slug or "agent"


def agent(
    role: str, model: str | ModelType | Model = "claude", **kwargs: Any
) -> Callable[..., Agent]:
    """Decorator: the function becomes an ``Agent``.

    The function receives the input (and the context, if it takes two arguments) and returns
    the prompt to send, or ``None`` to send the input as it is; its docstring becomes the
    agent's instructions. Bad settings raise ``DefinitionError`` here, at definition time.
    """

    def decorator(func: Callable[..., Any]) -> Agent:
        # not kwargs.setdefault: the same decorator may be applied to several functions
        default = func.__name__ if _NAME.fullmatch(func.__name__) else _slug(role)  # lambdas
        settings = {"name": default, **kwargs}
        return Agent(AgentConfig(role=role, model=model, **settings), func)

    return decorator


def agents_by_name(items: Sequence[Agent]) -> dict[str, Agent]:
    """Index agents by name, refusing two with the same name."""
    found: dict[str, Agent] = {}
    for item in items:
        if item.name in found:
            raise DefinitionError(f"two agents are named {item.name!r}; give one a different name")
        found[item.name] = item
    return found
