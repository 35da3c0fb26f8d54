"""AnthropicModel against the loopback server, in the Messages API's real wire format.

The SDK's ``base_url`` points at ``fake_provider``, so every request is built, serialised and
sent by the ``anthropic`` SDK itself (``POST /v1/messages``) and every reply is parsed by it:
JSON ``message`` bodies, ``{"type": "error", ...}`` error bodies with their statuses and
headers, and SSE streams (``message_start`` ... ``message_stop``). Shapes follow the SDK's
types (``Message``, ``Usage``, ``RawMessageStreamEvent``) and the API reference.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from agentweaver.agents import Agent, AgentConfig
from agentweaver.exceptions import (
    ContextLengthExceeded,
    ModelAuthError,
    ModelError,
    ModelInvalidRequest,
    ModelRateLimited,
    ModelTimeout,
    ModelUnavailable,
)
from agentweaver.models import (
    AssistantMessage,
    ModelMessage,
    ModelRequestParameters,
    ModelResponse,
    ModelSettings,
    PriceTable,
    SystemMessage,
    ToolCall,
    ToolDefinition,
    ToolResultMessage,
    UserMessage,
    infer_model,
)
from agentweaver.models.anthropic import DEFAULT_MAX_TOKENS, AnthropicModel
from agentweaver.tools.base import tool
from agentweaver.workflow.runner import LocalRunner
from tests.providers.conftest import FakeProvider

SONNET = "claude-sonnet-4-6"  # takes temperature
NEWEST = "claude-sonnet-5-5"  # answers 400 to a non-default temperature
KEY = "sk-ant-api03-test-key-never-printed"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NO_PARAMS = ModelRequestParameters()
WEATHER = ToolDefinition(
    "get_weather",
    "Current weather for a city.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


@pytest.fixture(autouse=True)
def hermetic_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No key, base URL, profile or config from the developer's machine reaches the SDK."""
    for name in list(os.environ):
        if name.startswith("ANTHROPIC_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def model_for(fake: FakeProvider, name: str = SONNET, **kwargs: Any) -> AnthropicModel:
    return AnthropicModel(name, api_key=KEY, base_url=fake.url, **kwargs)


def message(
    content: list[dict[str, Any]],
    stop: str = "end_turn",
    *,
    model: str = SONNET,
    input_tokens: int = 12,
    output_tokens: int = 6,
    **usage: Any,
) -> dict[str, Any]:
    """A ``Message`` body as ``POST /v1/messages`` returns it."""
    return {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {
            "input_tokens": input_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": output_tokens,
            "service_tier": "standard",
            **usage,
        },
    }


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value, "citations": None}


def tool_use(call_id: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {"type": "tool_use", "id": call_id, "name": name, "input": arguments}


def error_body(kind: str, text_: str) -> dict[str, Any]:
    return {
        "type": "error",
        "error": {"type": kind, "message": text_},
        "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy",
    }


def sse(
    *blocks: list[tuple[str, dict[str, Any]]], stop: str, usage_in: int, usage_out: int
) -> list[Any]:
    """A full stream: ``message_start``, a ``ping``, each block's events, ``message_delta``
    (stop reason, output tokens) and ``message_stop``."""
    start = message([], model=SONNET, input_tokens=usage_in, output_tokens=1)
    start["stop_reason"] = None
    events: list[Any] = [("message_start", {"type": "message_start", "message": start})]
    events.append(("ping", {"type": "ping"}))
    for block in blocks:
        events.extend(block)
    events.append(
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": {"output_tokens": usage_out},
            },
        )
    )
    events.append(("message_stop", {"type": "message_stop"}))
    return events


def text_block(index: int, *deltas: str) -> list[tuple[str, dict[str, Any]]]:
    events = [
        (
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": text("")},
        )
    ]
    for delta in deltas:
        events.append(
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "text_delta", "text": delta},
                },
            )
        )
    events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    return events


def tool_block(index: int, call_id: str, name: str, *partials: str) -> list[tuple[str, Any]]:
    start = {"type": "tool_use", "id": call_id, "name": name, "input": {}}
    events: list[tuple[str, Any]] = [
        (
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": start},
        )
    ]
    for partial in partials:
        events.append(
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "input_json_delta", "partial_json": partial},
                },
            )
        )
    events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    return events


async def drain(stream: AsyncIterator[Any], into: list[Any]) -> None:
    async for item in stream:
        into.append(item)


# --- text answers and the exact request ---------------------------------------------------


async def test_text_answer_sends_the_exact_body_and_parses_usage(
    fake_provider: FakeProvider,
) -> None:
    fake_provider.reply(
        200,
        message(
            [text("Sunny, "), text("22 °C.")],
            input_tokens=30,
            output_tokens=9,
            cache_read_input_tokens=100,
            cache_creation_input_tokens=20,
            output_tokens_details={"thinking_tokens": 4},
        ),
    )
    prices = PriceTable("test").override(f"anthropic:{SONNET}", 3.0, 15.0, 0.3)
    model = model_for(fake_provider, prices=prices)
    response = await model.request(
        [SystemMessage("You are the Forecaster."), UserMessage("Weather in Oslo?")],
        ModelSettings(temperature=0.2, max_tokens=300),
        ModelRequestParameters(tools=[WEATHER]),
    )

    sent = fake_provider.last
    assert (sent.method, sent.path) == ("POST", "/v1/messages")
    assert sent.json == {
        "model": SONNET,
        "max_tokens": 300,
        "system": "You are the Forecaster.",
        "messages": [{"role": "user", "content": "Weather in Oslo?"}],
        "temperature": 0.2,
        "tools": [
            {
                "name": "get_weather",
                "description": "Current weather for a city.",
                "input_schema": WEATHER.parameters,
            }
        ],
    }
    assert response.text == "Sunny, 22 °C."
    assert response.tool_calls == []
    assert response.finish_reason == "stop"
    assert response.model_name == "anthropic:claude-sonnet-4-6"
    # input_tokens is the whole prompt: 30 fresh + 100 cache reads + 20 cache writes
    assert response.usage.to_dict() == {
        "input_tokens": 150,
        "output_tokens": 9,
        "cache_read_tokens": 100,
        "reasoning_tokens": 4,
        "requests": 1,
    }
    assert model.cost_of(response) == pytest.approx((50 * 3.0 + 100 * 0.3 + 9 * 15.0) / 1e6)


async def test_defaults_max_tokens_and_passes_extra(fake_provider: FakeProvider) -> None:
    fake_provider.reply(200, message([text("ok")]))
    extra = {"top_k": 5, "stop_sequences": ["END"], "metadata": {"user_id": "u-1"}}
    await model_for(fake_provider).request(
        [UserMessage("hi")], ModelSettings(extra=extra), NO_PARAMS
    )
    assert fake_provider.last.json == {
        "model": SONNET,
        "max_tokens": DEFAULT_MAX_TOKENS,
        "messages": [{"role": "user", "content": "hi"}],
        **extra,
    }


@pytest.mark.parametrize(
    ("name", "sends"),
    [
        ("claude-sonnet-4-6", True),
        ("claude-opus-4-6", True),
        ("claude-haiku-4-5-20251001", True),
        ("claude-sonnet-4-20250514", True),
        ("claude-3-5-haiku-20241022", True),
        ("claude-opus-4-7", False),
        ("claude-opus-4-8", False),
        ("claude-sonnet-5", False),
        ("claude-sonnet-5-5", False),
        ("claude-fable-5-1", False),
        ("claude-some-future-model", False),
    ],
)
async def test_temperature_only_for_models_that_take_it(
    fake_provider: FakeProvider, name: str, sends: bool
) -> None:
    fake_provider.reply(200, message([text("ok")], model=name))
    await model_for(fake_provider, name).request(
        [UserMessage("hi")], ModelSettings(temperature=0.7), NO_PARAMS
    )
    assert ("temperature" in fake_provider.last.json) is sends


async def test_extra_can_force_temperature(fake_provider: FakeProvider) -> None:
    fake_provider.reply(200, message([text("ok")], model=NEWEST))
    await model_for(fake_provider, NEWEST).request(
        [UserMessage("hi")], ModelSettings(temperature=0.7, extra={"temperature": 1.0}), NO_PARAMS
    )
    assert fake_provider.last.json["temperature"] == 1.0


# --- tool use -----------------------------------------------------------------------------


async def test_tool_use_answer_becomes_tool_calls(fake_provider: FakeProvider) -> None:
    fake_provider.reply(
        200,
        message(
            [
                text("Checking both cities."),
                tool_use("toolu_01A", "get_weather", {"city": "Oslo"}),
                tool_use("toolu_01B", "get_weather", {"city": "Lima"}),
            ],
            "tool_use",
        ),
    )
    response = await model_for(fake_provider).request(
        [UserMessage("Oslo and Lima?")], ModelSettings(), ModelRequestParameters(tools=[WEATHER])
    )
    assert response.text == "Checking both cities."
    assert response.tool_calls == [
        ToolCall("get_weather", {"city": "Oslo"}, "toolu_01A"),
        ToolCall("get_weather", {"city": "Lima"}, "toolu_01B"),
    ]
    assert response.finish_reason == "tool_calls"


async def test_tool_results_go_back_in_one_user_turn(fake_provider: FakeProvider) -> None:
    fake_provider.reply(200, message([text("Oslo 3 °C, Lima unknown.")]))
    calls = [
        ToolCall("get_weather", {"city": "Oslo"}, "toolu_01A"),
        ToolCall("get_weather", {"city": "Lima"}, "toolu_01B"),
    ]
    await model_for(fake_provider).request(
        [
            SystemMessage("You are the Forecaster."),
            UserMessage("Oslo and Lima?"),
            AssistantMessage("Checking both cities.", calls),
            ToolResultMessage("toolu_01A", "get_weather", "3 °C, rain"),
            ToolResultMessage("toolu_01B", "get_weather", "error: timeout", is_error=True),
        ],
        ModelSettings(),
        ModelRequestParameters(tools=[WEATHER]),
    )
    assert fake_provider.last.json["messages"] == [
        {"role": "user", "content": "Oslo and Lima?"},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Checking both cities."},
                {
                    "type": "tool_use",
                    "id": "toolu_01A",
                    "name": "get_weather",
                    "input": {"city": "Oslo"},
                },
                {
                    "type": "tool_use",
                    "id": "toolu_01B",
                    "name": "get_weather",
                    "input": {"city": "Lima"},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_01A",
                    "content": "3 °C, rain",
                    "is_error": False,
                },
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_01B",
                    "content": "error: timeout",
                    "is_error": True,
                },
            ],
        },
    ]


async def test_a_turn_that_thought_is_sent_back_verbatim(fake_provider: FakeProvider) -> None:
    thinking = {"type": "thinking", "thinking": "Oslo first.", "signature": "EqQBCgIYAhIM1gbcDa"}
    redacted = {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4a"}
    call = tool_use("toolu_01A", "get_weather", {"city": "Oslo"})
    fake_provider.reply(200, message([thinking, redacted, call], "tool_use", model=NEWEST))
    fake_provider.reply(200, message([text("3 °C.")], model=NEWEST))
    model = model_for(fake_provider, NEWEST)
    params = ModelRequestParameters(tools=[WEATHER])
    first = await model.request([UserMessage("Oslo?")], ModelSettings(), params)
    assert first.text == ""
    assert first.tool_calls == [ToolCall("get_weather", {"city": "Oslo"}, "toolu_01A")]

    history: list[ModelMessage] = [
        UserMessage("Oslo?"),
        AssistantMessage(first.text, first.tool_calls),
        ToolResultMessage("toolu_01A", "get_weather", "3 °C"),
    ]
    await model.request(history, ModelSettings(), params)
    assert fake_provider.last.json["messages"][1] == {
        "role": "assistant",
        "content": [thinking, redacted, call],
    }


async def test_agent_tool_loop_through_the_adapter(fake_provider: FakeProvider) -> None:
    @tool(register=False)
    def get_weather(city: str) -> str:
        """Current weather for a city."""
        return f"{city}: 3 °C, rain"

    fake_provider.reply(
        200,
        message([tool_use("toolu_01A", "get_weather", {"city": "Oslo"})], "tool_use"),
    )
    fake_provider.reply(200, message([text("Oslo: 3 °C and rain.")], input_tokens=40))
    agent = Agent(
        AgentConfig(role="Forecaster", model=model_for(fake_provider), tools=[get_weather])
    )
    result = await agent.execute("Weather in Oslo?")

    assert result.text == "Oslo: 3 °C and rain."
    assert [(r.name, r.arguments, r.result) for r in result.tool_calls] == [
        ("get_weather", {"city": "Oslo"}, "Oslo: 3 °C, rain")
    ]
    assert (result.usage.input_tokens, result.usage.requests) == (52, 2)
    first, second = (r.json for r in fake_provider.requests)
    assert first["tools"][0]["name"] == "get_weather"
    assert (first["temperature"], first["max_tokens"]) == (0.7, 4000)
    assert second["messages"][-1] == {
        "role": "user",
        "content": [
            {
                "type": "tool_result",
                "tool_use_id": "toolu_01A",
                "content": "Oslo: 3 °C, rain",
                "is_error": False,
            }
        ],
    }


# --- streaming ----------------------------------------------------------------------------


async def test_stream_yields_deltas_then_the_response(fake_provider: FakeProvider) -> None:
    fake_provider.reply(
        200,
        sse=sse(text_block(0, "Sun", "ny, ", "22 °C."), stop="end_turn", usage_in=25, usage_out=7),
    )
    items = [
        item
        async for item in model_for(fake_provider).request_stream(
            [UserMessage("Weather?")], ModelSettings(max_tokens=50), NO_PARAMS
        )
    ]
    assert items[:-1] == ["Sun", "ny, ", "22 °C."]
    final = items[-1]
    assert isinstance(final, ModelResponse)
    assert final.text == "Sunny, 22 °C."
    assert final.finish_reason == "stop"
    assert (final.usage.input_tokens, final.usage.output_tokens) == (25, 7)
    assert final.model_name == "anthropic:claude-sonnet-4-6"
    assert fake_provider.last.json["stream"] is True


async def test_stream_assembles_tool_calls(fake_provider: FakeProvider) -> None:
    fake_provider.reply(
        200,
        sse=sse(
            text_block(0, "Let me check."),
            tool_block(1, "toolu_01A", "get_weather", "", '{"ci', 'ty": "Os', 'lo"}'),
            stop="tool_use",
            usage_in=40,
            usage_out=30,
        ),
    )
    items = [
        item
        async for item in model_for(fake_provider).request_stream(
            [UserMessage("Oslo?")], ModelSettings(), ModelRequestParameters(tools=[WEATHER])
        )
    ]
    assert items[:-1] == ["Let me check."]
    final = items[-1]
    assert isinstance(final, ModelResponse)
    assert final.tool_calls == [ToolCall("get_weather", {"city": "Oslo"}, "toolu_01A")]
    assert final.finish_reason == "tool_calls"
    assert (final.usage.input_tokens, final.usage.output_tokens) == (40, 30)


async def test_streamed_thinking_turn_is_sent_back_verbatim(fake_provider: FakeProvider) -> None:
    thinking_start = {"type": "thinking", "thinking": "", "signature": ""}
    thinking_events: list[tuple[str, Any]] = [
        (
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": thinking_start},
        ),
        *(
            (
                "content_block_delta",
                {"type": "content_block_delta", "index": 0, "delta": delta},
            )
            for delta in (
                {"type": "thinking_delta", "thinking": "Oslo "},
                {"type": "thinking_delta", "thinking": "first."},
                {"type": "signature_delta", "signature": "EqQBCgIYAhIM1gbcDa"},
            )
        ),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
    ]
    fake_provider.reply(
        200,
        sse=sse(
            thinking_events,
            tool_block(1, "toolu_01A", "get_weather", '{"city": "Oslo"}'),
            stop="tool_use",
            usage_in=20,
            usage_out=15,
        ),
    )
    fake_provider.reply(200, message([text("3 °C.")], model=NEWEST))
    model = model_for(fake_provider, NEWEST)
    params = ModelRequestParameters(tools=[WEATHER])
    items = [i async for i in model.request_stream([UserMessage("Oslo?")], ModelSettings(), params)]
    final = items[-1]
    assert items[:-1] == []  # thinking is not answer text
    assert isinstance(final, ModelResponse)
    history: list[ModelMessage] = [
        UserMessage("Oslo?"),
        AssistantMessage(final.text, final.tool_calls),
        ToolResultMessage("toolu_01A", "get_weather", "3 °C"),
    ]
    await model.request(history, ModelSettings(), params)
    assert fake_provider.last.json["messages"][1]["content"] == [
        {"type": "thinking", "thinking": "Oslo first.", "signature": "EqQBCgIYAhIM1gbcDa"},
        {"type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": {"city": "Oslo"}},
    ]


async def test_agent_streams_text_through_on_text(fake_provider: FakeProvider) -> None:
    fake_provider.reply(
        200, sse=sse(text_block(0, "Hello", " there"), stop="end_turn", usage_in=5, usage_out=2)
    )
    seen: list[str] = []
    agent = Agent(AgentConfig(role="Greeter", model=model_for(fake_provider)))
    result = await agent.execute("hi", on_text=seen.append)
    assert seen == ["Hello", " there"]
    assert result.text == "Hello there"


async def test_error_event_mid_stream_is_mapped_by_its_type(fake_provider: FakeProvider) -> None:
    events = sse(text_block(0, "Hal"), stop="end_turn", usage_in=5, usage_out=1)[:5]
    events.append(("error", error_body("overloaded_error", "Overloaded")))
    fake_provider.reply(200, sse=events)
    seen: list[Any] = []
    stream = model_for(fake_provider).request_stream(
        [UserMessage("hi")], ModelSettings(), NO_PARAMS
    )
    with pytest.raises(ModelUnavailable, match="Overloaded"):
        await drain(stream, seen)
    assert seen == ["Hal"]


async def test_stream_rate_limited_before_it_starts(fake_provider: FakeProvider) -> None:
    fake_provider.reply(
        429, error_body("rate_limit_error", "Too many requests"), headers={"retry-after": "3"}
    )
    stream = model_for(fake_provider).request_stream(
        [UserMessage("hi")], ModelSettings(), NO_PARAMS
    )
    with pytest.raises(ModelRateLimited) as caught:
        await drain(stream, [])
    assert caught.value.retry_after == 3
    assert len(fake_provider.requests) == 1


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (500, error_body("api_error", "Internal server error"), ModelUnavailable),
        (503, error_body("api_error", "Service unavailable"), ModelUnavailable),
        (529, error_body("overloaded_error", "Overloaded"), ModelUnavailable),
        (401, error_body("authentication_error", "invalid x-api-key"), ModelAuthError),
        (403, error_body("permission_error", "no access to this model"), ModelAuthError),
        (
            400,
            error_body(
                "invalid_request_error", "prompt is too long: 210000 tokens > 200000 maximum"
            ),
            ContextLengthExceeded,
        ),
        (
            400,
            error_body("invalid_request_error", "`temperature` is deprecated for this model."),
            ModelInvalidRequest,
        ),
        (404, error_body("not_found_error", "model: claude-nope"), ModelInvalidRequest),
    ],
)
async def test_status_errors_are_mapped(
    fake_provider: FakeProvider, status: int, body: dict[str, Any], error: type[ModelError]
) -> None:
    fake_provider.reply(status, body)
    with pytest.raises(error) as caught:
        await model_for(fake_provider).request([UserMessage("hi")], ModelSettings(), NO_PARAMS)
    assert type(caught.value) is error
    assert body["error"]["message"] in str(caught.value)
    assert KEY not in str(caught.value)
    assert len(fake_provider.requests) == 1  # the SDK's own retries are off


async def test_rate_limit_carries_retry_after(fake_provider: FakeProvider) -> None:
    fake_provider.reply(
        429,
        error_body("rate_limit_error", "Number of request tokens has exceeded your rate limit"),
        headers={"retry-after": "7"},
    )
    with pytest.raises(ModelRateLimited) as caught:
        await model_for(fake_provider).request([UserMessage("hi")], ModelSettings(), NO_PARAMS)
    assert caught.value.retry_after == 7
    assert len(fake_provider.requests) == 1


@pytest.mark.parametrize(
    "reply",
    [
        {"body": b'{"id": "msg_01", "content": [', "headers": {"content-type": "application/json"}},
        {"body": b"<html>Bad gateway</html>", "headers": {"content-type": "text/html"}},
        {"json": {"unexpected": True}},
    ],
)
async def test_malformed_body_is_unavailable(
    fake_provider: FakeProvider, reply: dict[str, Any]
) -> None:
    fake_provider.reply(200, **reply)
    with pytest.raises(ModelUnavailable, match="malformed"):
        await model_for(fake_provider).request([UserMessage("hi")], ModelSettings(), NO_PARAMS)


async def test_timeout(fake_provider: FakeProvider) -> None:
    fake_provider.reply(200, message([text("late")]), delay=0.2)
    with pytest.raises(ModelTimeout):
        await model_for(fake_provider, timeout=0.02).request(
            [UserMessage("hi")], ModelSettings(), NO_PARAMS
        )


async def test_connection_refused_is_unavailable() -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    model = AnthropicModel(SONNET, api_key=KEY, base_url=f"http://127.0.0.1:{port}")
    with pytest.raises(ModelUnavailable, match="connection"):
        await model.request([UserMessage("hi")], ModelSettings(), NO_PARAMS)


async def test_missing_key_is_an_auth_error(fake_provider: FakeProvider) -> None:
    model = AnthropicModel(SONNET, base_url=fake_provider.url)
    with pytest.raises(ModelAuthError, match="ANTHROPIC_API_KEY"):
        await model.request([UserMessage("hi")], ModelSettings(), NO_PARAMS)
    assert fake_provider.requests == []


async def test_wrong_extra_type_is_an_invalid_request(fake_provider: FakeProvider) -> None:
    with pytest.raises(ModelInvalidRequest, match="invalid request parameters"):
        await model_for(fake_provider).request(
            [UserMessage("hi")], ModelSettings(extra={"extra_headers": 5}), NO_PARAMS
        )
    assert fake_provider.requests == []


# --- structured output --------------------------------------------------------------------


class Forecast(BaseModel):
    city: str
    celsius: float


async def test_output_schema_uses_native_structured_output(fake_provider: FakeProvider) -> None:
    fake_provider.reply(200, message([text('{"city": "Oslo", "celsius": 3.5}')]))
    agent = Agent(
        AgentConfig(role="Forecaster", model=model_for(fake_provider), output_schema=Forecast)
    )
    result = await agent.execute("Oslo?")

    assert result.output == Forecast(city="Oslo", celsius=3.5)
    assert fake_provider.last.json["output_config"] == {
        "format": {
            "type": "json_schema",
            "schema": {
                "type": "object",
                "title": "Forecast",
                "properties": {
                    "city": {"type": "string", "title": "City"},
                    "celsius": {"type": "number", "title": "Celsius"},
                },
                "additionalProperties": False,
                "required": ["city", "celsius"],
            },
        }
    }
    assert "tool_choice" not in fake_provider.last.json


async def test_output_schema_merges_with_output_config_from_extra(
    fake_provider: FakeProvider,
) -> None:
    fake_provider.reply(200, message([text('{"n": 1}')]))
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    response = await model_for(fake_provider).request(
        [UserMessage("n?")],
        ModelSettings(extra={"output_config": {"effort": "low"}}),
        ModelRequestParameters(output_schema=schema),
    )
    assert response.text == '{"n": 1}'
    config = fake_provider.last.json["output_config"]
    assert config["effort"] == "low"
    assert config["format"]["schema"]["additionalProperties"] is False


async def test_choices_use_an_enum_schema_and_answer_the_name(
    fake_provider: FakeProvider,
) -> None:
    fake_provider.reply(200, message([text('{"choice": "billing"}')]))
    choices = {"billing": "invoices and payments", "support": "technical problems"}
    response = await model_for(fake_provider).request(
        [UserMessage("I was charged twice")],
        ModelSettings(),
        ModelRequestParameters(choices=choices),
    )
    assert response.text == "billing"
    schema = fake_provider.last.json["output_config"]["format"]["schema"]
    assert fake_provider.last.json["output_config"]["format"]["type"] == "json_schema"
    assert schema["properties"]["choice"]["enum"] == ["billing", "support"]
    assert "billing: invoices and payments" in schema["properties"]["choice"]["description"]
    assert (schema["required"], schema["additionalProperties"]) == (["choice"], False)


async def test_streamed_choice_is_one_delta_of_the_name(fake_provider: FakeProvider) -> None:
    fake_provider.reply(
        200,
        sse=sse(
            text_block(0, '{"choice": ', '"support"}'), stop="end_turn", usage_in=9, usage_out=4
        ),
    )
    items = [
        item
        async for item in model_for(fake_provider).request_stream(
            [UserMessage("it crashes")],
            ModelSettings(),
            ModelRequestParameters(choices={"billing": "money", "support": "bugs"}),
        )
    ]
    assert items[0] == "support"
    assert isinstance(items[1], ModelResponse)
    assert items[1].text == "support"


async def test_json_mode_without_schema_is_an_instruction(fake_provider: FakeProvider) -> None:
    fake_provider.reply(200, message([text('{"a": 1}')]))
    await model_for(fake_provider).request(
        [SystemMessage("You are the Extractor."), UserMessage("a=1")],
        ModelSettings(),
        ModelRequestParameters(output_json=True),
    )
    sent = fake_provider.last.json
    assert (
        sent["system"] == "You are the Extractor.\n\nAnswer with one JSON value and nothing else."
    )
    assert "output_config" not in sent


# --- a workflow from examples/ ------------------------------------------------------------


async def test_research_team_runs_on_anthropic(fake_provider: FakeProvider) -> None:
    for answer, (inp, out, cached) in [
        ("- Finding: small teams use agents for triage.", (120, 40, 0)),
        ("Brief: agents help small teams triage.", (200, 60, 1000)),
        ("Reviewed brief. Changes: tightened wording.", (260, 50, 0)),
    ]:
        fake_provider.reply(
            200,
            message(
                [text(answer)], input_tokens=inp, output_tokens=out, cache_read_input_tokens=cached
            ),
        )
    prices = PriceTable("test").override(f"anthropic:{SONNET}", 3.0, 15.0, 0.3)
    runner = LocalRunner(model_override=model_for(fake_provider, prices=prices))
    result = await runner.run(
        str(EXAMPLES / "research_team.yaml"), "How do small teams use agents?"
    )

    assert result.status == "succeeded", result.errors
    assert result.output == "Reviewed brief. Changes: tightened wording."
    assert (result.input_tokens, result.output_tokens) == (1580, 150)
    assert result.total_cost == pytest.approx((580 * 3 + 1000 * 0.3 + 150 * 15) / 1e6)
    assert len(fake_provider.requests) == 3
    second = fake_provider.requests[1].json
    assert second["system"].startswith("You are the Writer.")
    assert second["messages"][0]["content"].endswith(
        "- Finding: small teams use agents for triage."
    )
    assert fake_provider.requests[0].json["temperature"] == 0.3  # the researcher's own


# --- building from a model string, keys -----------------------------------------------------


@pytest.mark.parametrize(
    ("value", "name"),
    [("claude", "claude-sonnet-5-5"), ("anthropic:claude-sonnet-5-5", "claude-sonnet-5-5")],
)
def test_infer_model_builds_the_adapter_with_the_env_key(
    monkeypatch: pytest.MonkeyPatch, value: str, name: str
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    built = infer_model(value)
    assert isinstance(built, AnthropicModel)
    assert built.name == f"anthropic:{name}"
    assert built._api_key == KEY
    assert KEY not in repr(built)


async def test_the_key_and_base_url_reach_the_sdk(
    monkeypatch: pytest.MonkeyPatch, fake_provider: FakeProvider
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake_provider.url)  # the SDK's own variable
    fake_provider.reply(200, message([text("ok")]))
    model = infer_model("anthropic:claude-sonnet-4-6")
    await model.request([UserMessage("hi")], ModelSettings(), NO_PARAMS)
    headers = fake_provider.last.headers
    assert KEY in (
        headers.get("x-api-key", ""),
        headers.get("authorization", "").removeprefix("Bearer "),
    )


async def test_an_injected_client_is_used(fake_provider: FakeProvider) -> None:
    import anthropic

    client = anthropic.AsyncAnthropic(
        api_key=KEY, base_url=fake_provider.url, max_retries=0, default_headers={"x-team": "a"}
    )
    fake_provider.reply(200, message([text("ok")]))
    response = await AnthropicModel(SONNET, client=client).request(
        [UserMessage("hi")], ModelSettings(), NO_PARAMS
    )
    assert response.text == "ok"
    assert fake_provider.last.headers["x-team"] == "a"


def test_importing_the_adapter_does_not_import_the_sdk() -> None:
    code = (
        "import sys, agentweaver, agentweaver.models.anthropic as m; "
        "m.AnthropicModel('claude-sonnet-4-6', api_key='k'); "
        "print('anthropic' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(out.stdout.strip().lower()) is False
