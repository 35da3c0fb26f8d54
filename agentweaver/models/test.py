"""Models that never touch the network: for tests, offline runs and ``--model-override test``.

``TestModel`` answers deterministically from what it is asked, can be scripted turn by turn
(text, tool calls, errors), can fail its first N requests and can take time, which is all a
test of retries, timeouts, tool loops and routing needs. ``FunctionModel`` hands each request
to your function.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from agentweaver.models.base import Model
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

__all__ = ["FunctionModel", "RequestInfo", "TestModel", "estimate_usage"]

_WORD = re.compile(r"\w+")
_ROLE = re.compile(r"^You are (?:the |an? )?(.+?)[.\n]", re.IGNORECASE)

ScriptItem = str | ModelResponse | BaseException | list[ToolCall] | dict[str, Any]


def _words(text: str) -> int:
    return len(_WORD.findall(text))


def _text_of(message: ModelMessage) -> str:
    if isinstance(message, AssistantMessage):
        calls = " ".join(f"{c.name} {json.dumps(c.arguments)}" for c in message.tool_calls)
        return f"{message.content} {calls}"
    return message.content


def estimate_usage(messages: Sequence[ModelMessage], answer: ModelResponse) -> Usage:
    """Word counts stand in for tokens: deterministic and roughly proportional."""
    prompt = sum(_words(_text_of(m)) for m in messages)
    out = _words(answer.text) + sum(_words(json.dumps(c.arguments)) + 1 for c in answer.tool_calls)
    return Usage(input_tokens=prompt, output_tokens=out, requests=1)


def _last_user_text(messages: Sequence[ModelMessage]) -> str:
    for message in reversed(messages):
        if isinstance(message, UserMessage):
            return message.content
    return ""


def _role_of(messages: Sequence[ModelMessage]) -> str:
    for message in messages:
        if isinstance(message, SystemMessage):
            match = _ROLE.match(message.content)
            if match:
                return match.group(1).strip()
    return "assistant"


def pick_choice(text: str, choices: dict[str, str]) -> str:
    """The choice whose name and description share the most words with ``text`` (first on ties)."""
    words = {w.lower() for w in _WORD.findall(text)}
    best, best_score = next(iter(choices)), -1
    for name, description in choices.items():
        vocab = {w.lower() for w in _WORD.findall(f"{name} {description}")}
        score = len(words & vocab)
        if score > best_score:
            best, best_score = name, score
    return best


def _example_arguments(schema: dict[str, Any]) -> dict[str, Any]:
    samples = {
        "string": "a",
        "integer": 0,
        "number": 0.0,
        "boolean": False,
        "array": [],
        "object": {},
    }
    props = schema.get("properties", {})
    return {
        name: samples.get(str(props[name].get("type", "string")), "a")
        for name in schema.get("required", [])
        if name in props
    }


class TestModel(Model):
    """A deterministic model.

    Unscripted, it answers ``"<role>: <excerpt of the input>"`` (or valid JSON when JSON is
    asked for), picks a router case by word overlap, and, with ``call_tools``, calls those
    tools once before answering. ``script`` replaces answers turn by turn: a string, a
    ``ModelResponse``, a list of ``ToolCall``, a dict (JSON answer) or an exception to raise.
    """

    __test__ = False  # not a pytest class
    provider = "test"

    def __init__(
        self,
        model_name: str = "test",
        *,
        custom_output_text: str | None = None,
        custom_output_json: Any = None,
        call_tools: Sequence[str] | str = (),
        script: Sequence[ScriptItem] | None = None,
        fail_first: int = 0,
        error: BaseException | Callable[[], BaseException] | None = None,
        delay: float = 0.0,
        api_key: str | None = None,  # accepted so a TestModel can stand in for an adapter
    ) -> None:
        super().__init__(model_name)
        self.custom_output_text = custom_output_text
        self.custom_output_json = custom_output_json
        # a single name is one tool, not a collection of letters ("all" means every tool)
        self.call_tools: Sequence[str] | str = (
            (call_tools,) if isinstance(call_tools, str) and call_tools != "all" else call_tools
        )
        self.script = list(script) if script is not None else None
        self.fail_first = fail_first
        self.error = error
        self.delay = delay
        self.requests: list[list[ModelMessage]] = []  # what each request saw, for assertions

    async def request(
        self,
        messages: Sequence[ModelMessage],
        settings: ModelSettings,
        params: ModelRequestParameters,
    ) -> ModelResponse:
        index = len(self.requests)
        self.requests.append(list(messages))
        if self.delay:
            await asyncio.sleep(self.delay)
        if index < self.fail_first:
            raise self._error()
        if self.script is not None:
            if not self.script:
                raise RuntimeError("TestModel script is exhausted: add more turns")
            response = self._scripted(self.script.pop(0))
        else:
            response = self._answer(messages, params)
        response.model_name = self.name
        if not response.usage.requests:
            response.usage = estimate_usage(messages, response)
        return response

    async def request_stream(
        self,
        messages: Sequence[ModelMessage],
        settings: ModelSettings,
        params: ModelRequestParameters,
    ) -> AsyncIterator[str | ModelResponse]:
        """The same answer as ``request``, streamed a word at a time."""
        response = await self.request(messages, settings, params)
        for word in re.findall(r"\S+\s*", response.text):
            yield word
        yield response

    def _error(self) -> BaseException:
        from agentweaver.exceptions import ModelUnavailable

        if self.error is None:
            return ModelUnavailable("TestModel: scripted failure")
        return self.error() if callable(self.error) else self.error

    @staticmethod
    def _scripted(item: ScriptItem) -> ModelResponse:
        if isinstance(item, BaseException):
            raise item
        if isinstance(item, ModelResponse):
            return ModelResponse(
                item.text, list(item.tool_calls), item.usage, finish_reason=item.finish_reason
            )
        if isinstance(item, list):
            calls = [ToolCall(c.name, c.arguments, c.id or f"call_{i}") for i, c in enumerate(item)]
            return ModelResponse(tool_calls=calls, finish_reason="tool_calls")
        if isinstance(item, dict):
            return ModelResponse(json.dumps(item))
        return ModelResponse(item)

    def _answer(
        self, messages: Sequence[ModelMessage], params: ModelRequestParameters
    ) -> ModelResponse:
        already_called = any(isinstance(m, ToolResultMessage) for m in messages)
        if params.tools and self.call_tools and not already_called:
            wanted = [
                t for t in params.tools if self.call_tools == "all" or t.name in self.call_tools
            ]
            if wanted:
                calls = [
                    ToolCall(t.name, _example_arguments(t.parameters), f"call_{i}")
                    for i, t in enumerate(wanted)
                ]
                return ModelResponse(tool_calls=calls, finish_reason="tool_calls")
        user_text = _last_user_text(messages)
        if params.choices:
            return ModelResponse(pick_choice(user_text, params.choices))
        if params.output_json or self.custom_output_json is not None:
            value = self.custom_output_json
            if value is None:
                value = {"role": _role_of(messages), "input_words": _words(user_text)}
            return ModelResponse(json.dumps(value))
        if self.custom_output_text is not None:
            return ModelResponse(self.custom_output_text)
        results = [m.content for m in messages if isinstance(m, ToolResultMessage)]
        excerpt = " ".join(user_text.split())
        if len(excerpt) > 80:
            excerpt = excerpt[:77] + "..."
        text = f"{_role_of(messages)}: {excerpt}"
        if results:
            text += " | tools: " + "; ".join(r[:60] for r in results)
        return ModelResponse(text)


@dataclass(slots=True)
class RequestInfo:
    """What a ``FunctionModel`` function may want besides the messages."""

    settings: ModelSettings
    params: ModelRequestParameters
    model: FunctionModel


FunctionResult = ModelResponse | str
ModelFunction = Callable[
    [list[ModelMessage], RequestInfo], FunctionResult | Awaitable[FunctionResult]
]


class FunctionModel(Model):
    """A model whose answers come from your function (sync or async)."""

    provider = "function"

    def __init__(self, function: ModelFunction, model_name: str | None = None) -> None:
        super().__init__(model_name or str(getattr(function, "__name__", "function")))
        self.function = function

    async def request(
        self,
        messages: Sequence[ModelMessage],
        settings: ModelSettings,
        params: ModelRequestParameters,
    ) -> ModelResponse:
        result = self.function(list(messages), RequestInfo(settings, params, self))
        if inspect.isawaitable(result):
            result = await result
        response = result if isinstance(result, ModelResponse) else ModelResponse(str(result))
        response.model_name = response.model_name or self.name
        if not response.usage.requests:
            response.usage = estimate_usage(messages, response)
        return response
