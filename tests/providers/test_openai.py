"""OpenAIModel against the loopback server, in OpenAI's real Chat Completions wire format.

The SDK itself is pointed at ``fake_provider`` (``base_url=<server>/v1``), so requests are
serialised and replies parsed by ``openai`` exactly as against api.openai.com: JSON bodies,
``{"error": {...}}`` error bodies with their headers, and ``data:`` SSE streams ending in
``[DONE]``. Reply shapes follow the SDK's ``ChatCompletion`` / ``ChatCompletionChunk`` types.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from agentweaver.agents import Agent, AgentConfig
from agentweaver.exceptions import (
    ContextLengthExceeded,
    ModelAuthError,
    ModelInvalidRequest,
    ModelNotConfigured,
    ModelRateLimited,
    ModelTimeout,
    ModelUnavailable,
)
from agentweaver.models import (
    ALIASES,
    AssistantMessage,
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
from agentweaver.models.openai import OpenAIModel, is_reasoning_model
from agentweaver.tools.base import tool
from agentweaver.workflow.runner import LocalRunner
from tests.providers.conftest import FakeProvider

KEY = "sk-test-0123456789abcdef"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NO_PARAMS = ModelRequestParameters()
WEATHER = ToolDefinition(
    "get_weather",
    "Current weather for a city.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
CONVERSATION = [SystemMessage("You are the Writer."), UserMessage("Say hello.")]
# explicit, so the tests do not move when the packaged price table is updated
PRICES = PriceTable("test").override("openai:gpt-4.1", 2.0, 8.0, 0.5)


def model(server: FakeProvider, name: str = "gpt-4.1", **kwargs: Any) -> OpenAIModel:
    return OpenAIModel(name, api_key=KEY, base_url=f"{server.url}/v1", **kwargs)


def usage(prompt: int = 19, completion: int = 10, cached: int = 0, reasoning: int = 0) -> dict:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def completion(
    content: str | None = "Hello!",
    tool_calls: list[dict] | None = None,
    finish: str = "stop",
    model_name: str = "gpt-4.1-2025-04-14",
    **usage_args: int,
) -> dict:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": content,
        "refusal": None,
        "annotations": [],
    }
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {
        "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
        "object": "chat.completion",
        "created": 1741569952,
        "model": model_name,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
        "usage": usage(**usage_args),
        "service_tier": "default",
        "system_fingerprint": "fp_3f58d112f7",
    }


def function_call(call_id: str, name: str, arguments: dict) -> dict:
    return {
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": json.dumps(arguments)},
    }


def chunk(delta: dict | None = None, finish: str | None = None, **extra: Any) -> dict:
    choices = [] if delta is None else [
        {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    ]  # fmt: skip
    return {
        "id": "chatcmpl-stream1",
        "object": "chat.completion.chunk",
        "created": 1741569952,
        "model": "gpt-4.1-2025-04-14",
        "service_tier": "default",
        "system_fingerprint": "fp_3f58d112f7",
        "choices": choices,
        "usage": None,
        **extra,
    }


def error(message: str, type_: str, code: str | None, param: str | None = None) -> dict:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


# --- text --------------------------------------------------------------------------------


async def test_text_answer_exact_request_and_parsed_response(fake_provider: FakeProvider) -> None:
    fake_provider.reply(200, completion("Hello there!", prompt=1200, completion=8, cached=1024))
    response = await model(fake_provider).request(
        CONVERSATION, ModelSettings(temperature=0.2, max_tokens=300), NO_PARAMS
    )
    sent = fake_provider.last
    assert sent.method == "POST"
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.headers["x-stainless-retry-count"] == "0"
    assert sent.json == {
        "model": "gpt-4.1",
        "messages": [
            {"role": "system", "content": "You are the Writer."},
            {"role": "user", "content": "Say hello."},
        ],
        "temperature": 0.2,
        "max_completion_tokens": 300,
    }
    assert response.text == "Hello there!"
    assert response.tool_calls == []
    assert response.finish_reason == "stop"
    assert response.model_name == "openai:gpt-4.1"
    assert response.usage.to_dict() == {
        "input_tokens": 1200,
        "output_tokens": 8,
        "cache_read_tokens": 1024,
        "reasoning_tokens": 0,
        "requests": 1,
    }


async def test_reasoning_model_request_body(fake_provider: FakeProvider) -> None:
    fake_provider.reply(
        200, completion("42", model_name="o3-2025-04-16", completion=90, reasoning=64)
    )
    settings = ModelSettings(temperature=0.7, max_tokens=4000, extra={"reasoning_effort": "high"})
    response = await model(fake_provider, "o3").request(CONVERSATION, settings, NO_PARAMS)
    assert fake_provider.last.json == {
        "model": "o3",
        "messages": [
            {"role": "developer", "content": "You are the Writer."},
            {"role": "user", "content": "Say hello."},
        ],
        "max_completion_tokens": 4000,
        "reasoning_effort": "high",
    }
    assert response.usage.reasoning_tokens == 64
    assert response.usage.output_tokens == 90


async def test_gpt5_family_is_a_reasoning_model(fake_provider: FakeProvider) -> None:
    fake_provider.reply(200, completion("ok"))
    await model(fake_provider, "gpt-5").request(
        CONVERSATION, ModelSettings(temperature=0.7, max_tokens=100), NO_PARAMS
    )
    body = fake_provider.last.json
    assert "temperature" not in body
    assert "max_tokens" not in body
    assert body["max_completion_tokens"] == 100
    assert body["messages"][0]["role"] == "developer"


async def test_temperature_kept_when_reasoning_is_off(fake_provider: FakeProvider) -> None:
    """gpt-5.1 and later accept temperature with ``reasoning_effort: none``."""
    fake_provider.reply(200, completion("ok"))
    reasoning_off = OpenAIModel(
        "gpt-5.4", api_key=KEY, base_url=f"{fake_provider.url}/v1",
        extra={"reasoning_effort": "none", "verbosity": "low"},
    )  # fmt: skip
    await reasoning_off.request(CONVERSATION, ModelSettings(temperature=0.0), NO_PARAMS)
    body = fake_provider.last.json
    assert body["temperature"] == 0.0
    assert body["reasoning_effort"] == "none"
    assert body["verbosity"] == "low"  # unknown knobs go into the body as they are


@pytest.mark.parametrize(
    ("name", "reasoning"),
    [
        ("o1", True),
        ("o3-mini", True),
        ("o4-mini-2025-04-16", True),
        ("gpt-5", True),
        ("gpt-5.5", True),
        ("gpt-6-sol", True),
        ("ft:o4-mini-2025-04-16:acme::abc123", True),
        ("gpt-4.1", False),
        ("gpt-4o-mini", False),
        ("gpt-5-chat-latest", False),
        ("chatgpt-4o-latest", False),
        ("omni-moderation-latest", False),
    ],
)
def test_reasoning_model_names(name: str, reasoning: bool) -> None:
    assert is_reasoning_model(name) is reasoning


# --- tools -------------------------------------------------------------------------------


async def test_tool_call_answer_and_tool_result_follow_up(fake_provider: FakeProvider) -> None:
    calls = [
        function_call("call_abc", "get_weather", {"city": "Paris"}),
        function_call("call_def", "get_weather", {"city": "Oslo"}),
    ]
    fake_provider.reply(200, completion(None, calls, "tool_calls"))
    fake_provider.reply(200, completion("Sunny in Paris, snow in Oslo."))
    llm = model(fake_provider)
    params = ModelRequestParameters(tools=[WEATHER])
    asked = [SystemMessage("You are the Forecaster."), UserMessage("Weather in Paris and Oslo?")]
    first = await llm.request(asked, ModelSettings(), params)
    assert fake_provider.last.json["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Current weather for a city.",
                "parameters": WEATHER.parameters,
            },
        }
    ]
    assert first.finish_reason == "tool_calls"
    assert first.tool_calls == [
        ToolCall("get_weather", {"city": "Paris"}, "call_abc"),
        ToolCall("get_weather", {"city": "Oslo"}, "call_def"),
    ]
    follow_up = [
        *asked,
        AssistantMessage("", first.tool_calls),
        ToolResultMessage("call_abc", "get_weather", "sunny, 21C"),
        ToolResultMessage("call_def", "get_weather", "service down", is_error=True),
    ]
    second = await llm.request(follow_up, ModelSettings(), params)
    assert second.text == "Sunny in Paris, snow in Oslo."
    assert fake_provider.last.json["messages"][2:] == [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                function_call("call_abc", "get_weather", {"city": "Paris"}),
                function_call("call_def", "get_weather", {"city": "Oslo"}),
            ],
        },
        {"role": "tool", "tool_call_id": "call_abc", "content": "sunny, 21C"},
        {"role": "tool", "tool_call_id": "call_def", "content": "error: service down"},
    ]


async def test_tool_arguments_that_are_not_json_are_malformed(
    fake_provider: FakeProvider,
) -> None:
    broken = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": '{"a'}}
    fake_provider.reply(200, completion(None, [broken], "tool_calls"))
    with pytest.raises(ModelUnavailable, match="not a JSON object"):
        await model(fake_provider).request(CONVERSATION, ModelSettings(), NO_PARAMS)


async def test_agent_tool_loop(fake_provider: FakeProvider) -> None:
    seen: list[str] = []

    @tool(register=False)
    def get_weather(city: str) -> str:
        """Current weather for a city."""
        seen.append(city)
        return f"{city}: sunny, 21C"

    fake_provider.reply(
        200, completion(None, [function_call("call_1", "get_weather", {"city": "Paris"})],
                        "tool_calls", prompt=80, completion=15),
    )  # fmt: skip
    fake_provider.reply(200, completion("It is sunny in Paris.", prompt=120, completion=9))
    forecaster = Agent(
        AgentConfig(
            role="Forecaster", model=model(fake_provider, prices=PRICES), tools=[get_weather]
        )
    )
    result = await forecaster.execute("Weather in Paris?")
    assert seen == ["Paris"]
    assert result.output == "It is sunny in Paris."
    assert result.usage.input_tokens == 200
    assert result.usage.requests == 2
    assert result.model_name == "openai:gpt-4.1"
    assert result.cost == pytest.approx((200 * 2.0 + 24 * 8.0) / 1e6)
    first, second = (r.json for r in fake_provider.requests)
    assert first["tools"][0]["function"]["name"] == "get_weather"
    assert first["temperature"] == 0.7
    assert first["max_completion_tokens"] == 4000
    assert second["messages"][-1] == {
        "role": "tool",
        "tool_call_id": "call_1",
        "content": "Paris: sunny, 21C",
    }


# --- streaming ---------------------------------------------------------------------------


async def collect(stream: Any) -> tuple[list[str], ModelResponse]:
    deltas: list[str] = []
    final: ModelResponse | None = None
    async for item in stream:
        if isinstance(item, str):
            deltas.append(item)
        else:
            final = item
    assert final is not None
    return deltas, final


async def test_streaming_text_deltas_then_final_response(fake_provider: FakeProvider) -> None:
    fake_provider.reply(
        200,
        sse=[
            chunk({"role": "assistant", "content": "", "refusal": None}),
            chunk({"content": "Hel"}),
            chunk({"content": "lo, "}),
            chunk({"content": "world."}),
            chunk({}, "stop"),
            chunk(None, usage=usage(31, 5, cached=0)),
            "data: [DONE]",
        ],
    )
    llm = model(fake_provider)
    deltas, final = await collect(
        llm.request_stream(CONVERSATION, ModelSettings(max_tokens=50), NO_PARAMS)
    )
    assert deltas == ["Hel", "lo, ", "world."]
    assert final.text == "Hello, world."
    assert final.finish_reason == "stop"
    assert final.usage.input_tokens == 31
    assert final.usage.output_tokens == 5
    assert final.usage.requests == 1
    assert final.model_name == "openai:gpt-4.1"
    body = fake_provider.last.json
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["max_completion_tokens"] == 50


async def test_streamed_tool_calls_are_assembled(fake_provider: FakeProvider) -> None:
    def piece(index: int, arguments: str, call_id: str | None = None) -> dict:
        item: dict[str, Any] = {"index": index, "function": {"arguments": arguments}}
        if call_id:
            item.update(id=call_id, type="function")
            item["function"]["name"] = "get_weather"
        return chunk({"tool_calls": [item]})

    fake_provider.reply(
        200,
        sse=[
            chunk({"role": "assistant", "content": None}),
            piece(0, "", "call_a"),
            piece(0, '{"ci'),
            piece(1, "", "call_b"),
            piece(0, 'ty": "Paris"}'),
            piece(1, '{"city": "Oslo"}'),
            chunk({}, "tool_calls"),
            chunk(None, usage=usage(60, 40)),
            "data: [DONE]",
        ],
    )
    params = ModelRequestParameters(tools=[WEATHER])
    deltas, final = await collect(
        model(fake_provider).request_stream(CONVERSATION, ModelSettings(), params)
    )
    assert deltas == []
    assert final.tool_calls == [
        ToolCall("get_weather", {"city": "Paris"}, "call_a"),
        ToolCall("get_weather", {"city": "Oslo"}, "call_b"),
    ]
    assert final.finish_reason == "tool_calls"
    assert final.usage.output_tokens == 40


async def test_agent_streams_through_on_text(fake_provider: FakeProvider) -> None:
    fake_provider.reply(
        200,
        sse=[chunk({"content": "Bonjour"}), chunk({"content": "!"}), chunk({}, "stop"),
             chunk(None, usage=usage(10, 2)), "data: [DONE]"],
    )  # fmt: skip
    received: list[str] = []
    writer = Agent(AgentConfig(role="Writer", model=model(fake_provider)))
    result = await writer.execute("Greet me", on_text=received.append)
    assert received == ["Bonjour", "!"]
    assert result.text == "Bonjour!"
    assert result.usage.total_tokens == 12


async def test_stream_cut_short_is_unavailable(fake_provider: FakeProvider) -> None:
    fake_provider.reply(200, sse=[chunk({"content": "Hel"})])  # no finish_reason, no [DONE]
    with pytest.raises(ModelUnavailable, match="stream ended"):
        await collect(model(fake_provider).request_stream(CONVERSATION, ModelSettings(), NO_PARAMS))


async def test_stream_error_event_is_unavailable(fake_provider: FakeProvider) -> None:
    fake_provider.reply(
        200,
        sse=[chunk({"content": "Hel"}), error("The server is overloaded.", "server_error", None)],
    )
    with pytest.raises(ModelUnavailable, match="overloaded"):
        await collect(model(fake_provider).request_stream(CONVERSATION, ModelSettings(), NO_PARAMS))


async def test_stream_rate_limited_before_it_starts(fake_provider: FakeProvider) -> None:
    fake_provider.reply(
        429, error("Rate limit reached", "requests", "rate_limit_exceeded"),
        headers={"retry-after": "3"},
    )  # fmt: skip
    with pytest.raises(ModelRateLimited) as info:
        await collect(model(fake_provider).request_stream(CONVERSATION, ModelSettings(), NO_PARAMS))
    assert info.value.retry_after == 3


# --- errors ------------------------------------------------------------------------------


async def test_rate_limit_carries_retry_after(fake_provider: FakeProvider) -> None:
    fake_provider.reply(
        429,
        error(
            "Rate limit reached for gpt-4.1 in organization org-abc on tokens per min (TPM): "
            "Limit 30000, Used 29500, Requested 900. Please try again in 7s.",
            "tokens",
            "rate_limit_exceeded",
        ),
        headers={"retry-after": "7"},
    )
    with pytest.raises(ModelRateLimited) as info:
        await model(fake_provider).request(CONVERSATION, ModelSettings(), NO_PARAMS)
    assert info.value.retry_after == 7
    assert info.value.retryable
    assert len(fake_provider.requests) == 1


async def test_retry_after_ms_is_preferred(fake_provider: FakeProvider) -> None:
    fake_provider.reply(
        429, error("Rate limit reached", "requests", "rate_limit_exceeded"),
        headers={"retry-after-ms": "1500", "retry-after": "2"},
    )  # fmt: skip
    with pytest.raises(ModelRateLimited) as info:
        await model(fake_provider).request(CONVERSATION, ModelSettings(), NO_PARAMS)
    assert info.value.retry_after == 1.5


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (500, "The server had an error while processing your request. Sorry about that!"),
        (503, "The engine is currently overloaded, please try again later"),
        (529, "Overloaded"),
    ],
)
async def test_server_errors_are_unavailable_and_not_retried_by_the_sdk(
    fake_provider: FakeProvider, status: int, message: str
) -> None:
    fake_provider.reply(status, error(message, "server_error", None))
    fake_provider.reply(200, completion("a retry the SDK must not make"))
    with pytest.raises(ModelUnavailable) as info:
        await model(fake_provider).request(CONVERSATION, ModelSettings(), NO_PARAMS)
    assert info.value.retryable
    assert len(fake_provider.requests) == 1


@pytest.mark.parametrize("echoed", [KEY, "sk-test-****************cdef"])  # OpenAI masks it
async def test_bad_key_is_an_auth_error_without_the_key(
    fake_provider: FakeProvider, echoed: str
) -> None:
    fake_provider.reply(
        401,
        error(
            f"Incorrect API key provided: {echoed}. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            "invalid_api_key",
        ),
    )
    llm = model(fake_provider)
    with pytest.raises(ModelAuthError) as info:
        await llm.request(CONVERSATION, ModelSettings(), NO_PARAMS)
    assert "Incorrect API key" in str(info.value)
    assert KEY not in str(info.value)
    assert "0123456789" not in str(info.value)
    assert "cdef" not in str(info.value)
    assert KEY not in repr(llm)
    assert not info.value.retryable


async def test_context_length_exceeded(fake_provider: FakeProvider) -> None:
    fake_provider.reply(
        400,
        error(
            "Your input exceeds the context window of this model. "
            "Please adjust your input and try again.",
            "invalid_request_error",
            "context_length_exceeded",
            "input",
        ),
    )
    with pytest.raises(ContextLengthExceeded):
        await model(fake_provider).request(CONVERSATION, ModelSettings(), NO_PARAMS)


async def test_context_length_known_by_its_code_alone(fake_provider: FakeProvider) -> None:
    fake_provider.reply(
        400, error("Request rejected.", "invalid_request_error", "context_length_exceeded")
    )
    with pytest.raises(ContextLengthExceeded):
        await model(fake_provider).request(CONVERSATION, ModelSettings(), NO_PARAMS)


async def test_other_bad_request_is_invalid_request(fake_provider: FakeProvider) -> None:
    fake_provider.reply(
        400,
        error(
            "Unsupported parameter: 'max_tokens' is not supported with this model. "
            "Use 'max_completion_tokens' instead.",
            "invalid_request_error",
            "unsupported_parameter",
            "max_tokens",
        ),
    )
    with pytest.raises(ModelInvalidRequest) as info:
        await model(fake_provider).request(CONVERSATION, ModelSettings(), NO_PARAMS)
    assert type(info.value) is ModelInvalidRequest
    assert "unsupported_parameter" in str(info.value)


@pytest.mark.parametrize(
    "reply",
    [
        {
            "body": b'{"id": "chatcmpl-1", "choices": [',
            "headers": {"content-type": "application/json"},
        },
        {"json": {"id": "chatcmpl-1", "object": "chat.completion", "choices": []}},
        {"json": {"unexpected": True}},
        {"body": b"<html>502 Bad Gateway</html>", "headers": {"content-type": "text/html"}},
    ],
)
async def test_malformed_body_is_unavailable(fake_provider: FakeProvider, reply: dict) -> None:
    fake_provider.reply(200, **reply)
    with pytest.raises(ModelUnavailable, match="malformed"):
        await model(fake_provider).request(CONVERSATION, ModelSettings(), NO_PARAMS)
    assert len(fake_provider.requests) == 1


async def test_timeout(fake_provider: FakeProvider) -> None:
    fake_provider.reply(200, completion("late"), delay=0.05)
    with pytest.raises(ModelTimeout):
        await model(fake_provider, timeout=0.005).request(CONVERSATION, ModelSettings(), NO_PARAMS)


async def test_connection_refused_is_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    llm = OpenAIModel("gpt-4.1", api_key=KEY, base_url=f"http://127.0.0.1:{port}/v1")
    with pytest.raises(ModelUnavailable, match="connection"):
        await llm.request(CONVERSATION, ModelSettings(), NO_PARAMS)


async def test_missing_key_says_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_ADMIN_KEY", raising=False)
    with pytest.raises(ModelNotConfigured, match="set OPENAI_API_KEY"):
        await OpenAIModel("gpt-4.1").request(CONVERSATION, ModelSettings(), NO_PARAMS)


# --- structured output -------------------------------------------------------------------


class Verdict(BaseModel):
    approved: bool
    reasons: list[str]


class ClosedVerdict(Verdict):
    model_config = ConfigDict(extra="forbid")


async def test_output_schema_uses_native_structured_output(fake_provider: FakeProvider) -> None:
    answer = '{"approved": true, "reasons": ["clear"]}'
    fake_provider.reply(200, completion(answer))
    fake_provider.reply(200, completion(answer))
    llm = model(fake_provider)
    for schema in (Verdict, ClosedVerdict):
        params = ModelRequestParameters(output_schema=schema.model_json_schema(), output_json=True)
        response = await llm.request(CONVERSATION, ModelSettings(), params)
        assert response.text == answer
    loose, closed = (r.json["response_format"] for r in fake_provider.requests)
    assert loose == {
        "type": "json_schema",
        "json_schema": {"name": "Verdict", "schema": Verdict.model_json_schema(), "strict": False},
    }
    # strict only where OpenAI's strict mode accepts the schema (closed, all required)
    assert closed["json_schema"]["strict"] is True
    assert closed["json_schema"]["name"] == "ClosedVerdict"


async def test_agent_output_schema_end_to_end(fake_provider: FakeProvider) -> None:
    fake_provider.reply(200, completion('{"approved": false, "reasons": ["too long"]}'))
    reviewer = Agent(
        AgentConfig(role="Reviewer", model=model(fake_provider, "o4-mini"), output_schema=Verdict)
    )
    result = await reviewer.execute("Review this.")
    assert result.output == Verdict(approved=False, reasons=["too long"])
    assert fake_provider.last.json["response_format"]["type"] == "json_schema"


async def test_output_json_uses_json_mode(fake_provider: FakeProvider) -> None:
    fake_provider.reply(200, completion('{"a": 1}'))
    fake_provider.reply(200, completion('{"a": 1}'))
    llm = model(fake_provider)
    params = ModelRequestParameters(output_json=True)
    asks_json = [SystemMessage("Answer with one JSON value."), UserMessage("Data?")]
    await llm.request(asks_json, ModelSettings(), params)
    assert fake_provider.last.json["response_format"] == {"type": "json_object"}
    assert fake_provider.last.json["messages"] == [
        {"role": "system", "content": "Answer with one JSON value."},
        {"role": "user", "content": "Data?"},
    ]
    # JSON mode is refused unless the conversation mentions JSON: the adapter says it
    await llm.request(CONVERSATION, ModelSettings(), params)
    assert fake_provider.last.json["messages"][-1] == {"role": "user", "content": "Answer in JSON."}


async def test_choices_are_an_enum_and_come_back_as_the_name(fake_provider: FakeProvider) -> None:
    fake_provider.reply(200, completion('{"choice": "billing"}'))
    choices = {"billing": "Invoices and payments", "tech": "Bugs and outages"}
    response = await model(fake_provider).request(
        CONVERSATION, ModelSettings(), ModelRequestParameters(choices=choices)
    )
    assert response.text == "billing"
    assert fake_provider.last.json["response_format"] == {
        "type": "json_schema",
        "json_schema": {
            "name": "choice",
            "schema": {
                "type": "object",
                "properties": {
                    "choice": {
                        "type": "string",
                        "enum": ["billing", "tech"],
                        "description": "billing: Invoices and payments; tech: Bugs and outages",
                    }
                },
                "required": ["choice"],
                "additionalProperties": False,
            },
            "strict": True,
        },
    }


async def test_streamed_choice_is_yielded_as_the_name(fake_provider: FakeProvider) -> None:
    fake_provider.reply(
        200,
        sse=[chunk({"content": '{"choice": '}), chunk({"content": '"tech"}'}), chunk({}, "stop"),
             chunk(None, usage=usage(40, 6)), "data: [DONE]"],
    )  # fmt: skip
    params = ModelRequestParameters(choices={"billing": "money", "tech": "bugs"})
    deltas, final = await collect(
        model(fake_provider).request_stream(CONVERSATION, ModelSettings(), params)
    )
    assert deltas == ["tech"]
    assert final.text == "tech"


# --- a workflow, the registry ------------------------------------------------------------


async def test_research_team_example_runs_on_openai(fake_provider: FakeProvider) -> None:
    for text, prompt, out in [
        ("- Small teams use agents for triage (source: survey)", 150, 40),
        ("Brief: small teams use agents mostly for triage.", 220, 60),
        ("Brief (reviewed): small teams use agents mostly for triage.\n- tightened", 300, 70),
    ]:
        fake_provider.reply(200, completion(text, prompt=prompt, completion=out))
    runner = LocalRunner(model_override=model(fake_provider, prices=PRICES))
    result = await runner.run(EXAMPLES / "research_team.yaml", "How do small teams use agents?")
    assert result.status == "succeeded", result.errors
    assert len(fake_provider.requests) == 3
    assert [s.model for s in result.steps] == ["openai:gpt-4.1"] * 3
    assert result.input_tokens == 670
    assert result.output_tokens == 170
    assert result.total_cost == pytest.approx((670 * 2.0 + 170 * 8.0) / 1e6)
    assert "reviewed" in str(result.output)
    researcher = fake_provider.requests[0].json
    assert researcher["temperature"] == 0.3  # the YAML's setting reached the wire
    assert "How do small teams use agents?" in researcher["messages"][1]["content"]


@pytest.mark.parametrize("alias", ["gpt", "o3"])
def test_infer_model_builds_the_adapter_with_the_env_key(
    monkeypatch: pytest.MonkeyPatch, alias: str
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.delenv(f"AGENTWEAVER_MODEL_{alias.upper()}", raising=False)
    built = infer_model(alias)
    assert isinstance(built, OpenAIModel)
    assert built.name == ALIASES[alias]
    assert built._api_key == KEY
    assert KEY not in repr(built)
    assert infer_model("openai:gpt-4.1-mini").model_name == "gpt-4.1-mini"


def test_a_pinned_alias_builds_the_adapter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("AGENTWEAVER_MODEL_GPT", "openai:gpt-6.1-sol")
    built = infer_model("gpt")
    assert isinstance(built, OpenAIModel)
    assert built.name == "openai:gpt-6.1-sol"
    assert built.reasoning


def test_importing_the_adapters_does_not_import_the_sdk() -> None:
    code = (
        "import sys, agentweaver.models.openai, agentweaver.models.openai_compatible\n"
        "print('openai' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_transport_errors_the_sdk_leaves_unwrapped_are_mapped_too() -> None:
    """Mid-stream, the transport's own exceptions can reach the adapter unwrapped."""
    llm = OpenAIModel("gpt-4.1", api_key=KEY)
    read_timeout = type("ReadTimeout", (Exception,), {})
    protocol_error = type("RemoteProtocolError", (Exception,), {})
    assert isinstance(llm._error(read_timeout("The read operation timed out")), ModelTimeout)
    mapped = llm._error(protocol_error(f"peer closed connection (Bearer {KEY})"))
    assert isinstance(mapped, ModelUnavailable)
    assert "RemoteProtocolError" in str(mapped)
    assert KEY not in str(mapped)
