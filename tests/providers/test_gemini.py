"""GeminiModel against the loopback server, in the Gemini API's real wire format.

The ``google-genai`` SDK is pointed at ``fake_provider`` with ``base_url``, so every request is
built, serialised and sent by the SDK itself (``POST /v1/models/{model}:generateContent``, or
``:streamGenerateContent?alt=sse``) and every reply is parsed by it. Reply bodies follow the
API reference's ``GenerateContentResponse`` and ``google.rpc.Status`` error shapes.
"""

from __future__ import annotations

import base64
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

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
from agentweaver.models.gemini import GeminiModel
from agentweaver.tools.base import tool
from agentweaver.workflow.runner import LocalRunner
from tests.providers.conftest import FakeProvider

pytest.importorskip("google.genai")

MODEL = "gemini-3.8-flash"
KEY = "test-key-not-real"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NO_PARAMS = ModelRequestParameters()
WEATHER = ToolDefinition(
    "get_weather",
    "Current weather for a city.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
SIGNATURE = b"\x12\x34opaque-thought-state"
SIG64 = base64.b64encode(SIGNATURE).decode()
FOREIGN64 = base64.b64encode(b"skip_thought_signature_validator").decode()
CONFIG = {"temperature": 0.2, "maxOutputTokens": 300}


def model_for(fake: FakeProvider, name: str = MODEL, **kwargs: Any) -> GeminiModel:
    return GeminiModel(name, api_key=KEY, base_url=fake.url, **kwargs)


def gemini_reply(
    *parts: dict[str, Any],
    finish: str | None = "STOP",
    prompt: int = 12,
    output: int = 4,
    **usage: int,
) -> dict[str, Any]:
    """A GenerateContentResponse body as the Gemini API returns it."""
    candidate: dict[str, Any] = {"content": {"parts": list(parts), "role": "model"}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    metadata = {
        "promptTokenCount": prompt,
        "candidatesTokenCount": output,
        "totalTokenCount": prompt + output + usage.get("thoughtsTokenCount", 0),
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}],
        **usage,
    }
    return {
        "candidates": [candidate],
        "usageMetadata": metadata,
        "modelVersion": MODEL,
        "responseId": "k3NlaOiOJ4yz1dkP2cDj4Ak",
    }


def api_error(code: int, status: str, message: str, *details: dict[str, Any]) -> dict[str, Any]:
    """A google.rpc.Status error body, as every Gemini API error is."""
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = list(details)
    return {"error": error}


def call_part(name: str, args: dict[str, Any], signature: str | None = None) -> dict[str, Any]:
    part: dict[str, Any] = {"functionCall": {"name": name, "args": args}}
    if signature:
        part["thoughtSignature"] = signature
    return part


async def collect(
    model: GeminiModel, messages: list[Any], params: ModelRequestParameters = NO_PARAMS
) -> list[str | ModelResponse]:
    return [item async for item in model.request_stream(messages, ModelSettings(), params)]


# --- construction ---------------------------------------------------------------------------


def test_importing_the_adapter_does_not_import_the_sdk() -> None:
    code = "import sys, agentweaver.models.gemini; print('google.genai' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize("env_var", ["GEMINI_API_KEY", "GOOGLE_API_KEY"])
@pytest.mark.parametrize("name", ["gemini", f"google:{MODEL}"])
def test_infer_model_builds_the_adapter_with_the_key(
    monkeypatch: pytest.MonkeyPatch, env_var: str, name: str
) -> None:
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    monkeypatch.setenv(env_var, KEY)
    model = infer_model(name)
    assert isinstance(model, GeminiModel)
    assert model._api_key == KEY
    assert model.name.startswith("google:gemini-")
    assert KEY not in repr(model)


async def test_the_key_goes_in_a_header_and_never_into_errors(fake_provider: FakeProvider) -> None:
    fake_provider.reply(401, api_error(401, "UNAUTHENTICATED", "Request had invalid credentials."))
    with pytest.raises(ModelAuthError) as caught:
        await model_for(fake_provider).request([UserMessage("hi")], ModelSettings(), NO_PARAMS)
    assert fake_provider.last.headers["x-goog-api-key"] == KEY
    assert KEY not in fake_provider.last.path
    assert KEY not in str(caught.value)
    assert KEY not in repr(caught.value.to_dict())


async def test_a_missing_key_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from agentweaver.exceptions import ModelNotConfigured

    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    with pytest.raises(ModelNotConfigured, match="GEMINI_API_KEY"):
        await GeminiModel(MODEL).request([UserMessage("hi")], ModelSettings(), NO_PARAMS)


# --- requests -------------------------------------------------------------------------------


async def test_text_answer_sends_the_exact_body(fake_provider: FakeProvider) -> None:
    fake_provider.reply(
        200,
        gemini_reply(
            {"text": "Paris"},
            {"text": "."},
            prompt=120,
            output=3,
            cachedContentTokenCount=100,
            thoughtsTokenCount=40,
        ),
    )
    prices = PriceTable("test").override(f"google:{MODEL}", 0.75, 3.75, 0.075)
    model = model_for(fake_provider, prices=prices)
    response = await model.request(
        [SystemMessage("You are terse."), UserMessage("Capital of France?")],
        ModelSettings(temperature=0.2, max_tokens=300, extra={"thinking_level": "low"}),
        ModelRequestParameters(tools=[WEATHER]),
    )

    assert fake_provider.last.method == "POST"
    assert fake_provider.last.path == f"/v1/models/{MODEL}:generateContent"
    assert fake_provider.last.json == {
        "contents": [{"parts": [{"text": "Capital of France?"}], "role": "user"}],
        "systemInstruction": {"parts": [{"text": "You are terse."}], "role": "user"},
        "tools": [
            {
                "functionDeclarations": [
                    {
                        "description": "Current weather for a city.",
                        "name": "get_weather",
                        "parameters_json_schema": WEATHER.parameters,
                    }
                ]
            }
        ],
        "generationConfig": {**CONFIG, "thinkingConfig": {"thinking_level": "LOW"}},
    }
    assert response.text == "Paris."
    assert response.tool_calls == []
    assert response.finish_reason == "stop"
    assert response.model_name == f"google:{MODEL}"
    # cached tokens are part of the prompt count; thinking is billed as output
    assert response.usage.to_dict() == {
        "input_tokens": 120,
        "output_tokens": 43,
        "cache_read_tokens": 100,
        "reasoning_tokens": 40,
        "requests": 1,
    }
    assert model.cost_of(response) == pytest.approx((20 * 0.75 + 100 * 0.075 + 43 * 3.75) / 1e6)


async def test_settings_extra_and_constructor_defaults(fake_provider: FakeProvider) -> None:
    fake_provider.reply(200, gemini_reply({"text": "ok"}))
    model = model_for(fake_provider, extra={"top_p": 0.5, "thinking_level": "high"})
    await model.request(
        [UserMessage("hi")],
        ModelSettings(extra={"thinking_level": "medium", "stop_sequences": ["END"], "seed": 7}),
        NO_PARAMS,
    )
    assert fake_provider.last.json["generationConfig"] == {
        "topP": 0.5,
        "stopSequences": ["END"],
        "seed": 7,
        "thinkingConfig": {"thinking_level": "MEDIUM"},
    }


@pytest.mark.parametrize("extra", [{"thinkng_level": "low"}, {"response_mime_type": "x"}])
async def test_unknown_extra_settings_are_refused_before_sending(
    fake_provider: FakeProvider, extra: dict[str, Any]
) -> None:
    with pytest.raises(ModelInvalidRequest, match=next(iter(extra))):
        await model_for(fake_provider).request(
            [UserMessage("hi")], ModelSettings(extra=extra), NO_PARAMS
        )
    assert fake_provider.requests == []


async def test_tool_calls_come_back_with_stable_ids(fake_provider: FakeProvider) -> None:
    reply = gemini_reply(
        call_part("get_weather", {"city": "Paris"}, SIG64),
        call_part("get_weather", {"city": "Oslo"}),
        prompt=30,
        output=12,
    )
    fake_provider.reply(200, reply).reply(200, reply)
    model = model_for(fake_provider)
    messages = [UserMessage("Weather in Paris and Oslo?")]
    params = ModelRequestParameters(tools=[WEATHER])
    first = await model.request(messages, ModelSettings(), params)
    again = await model_for(fake_provider).request(messages, ModelSettings(), params)

    assert first.finish_reason == "tool_calls"
    assert [(c.name, c.arguments) for c in first.tool_calls] == [
        ("get_weather", {"city": "Paris"}),
        ("get_weather", {"city": "Oslo"}),
    ]
    ids = [c.id for c in first.tool_calls]
    assert ids[0].startswith("call_0_")
    assert ids[1].startswith("call_1_")
    assert ids == [c.id for c in again.tool_calls]  # the same answer, the same ids


async def test_tool_results_go_back_as_function_responses(fake_provider: FakeProvider) -> None:
    fake_provider.reply(
        200,
        gemini_reply(
            {"text": "Checking."},
            call_part("get_weather", {"city": "Paris"}, SIG64),
            call_part("get_weather", {"city": "Oslo"}),
        ),
    )
    fake_provider.reply(200, gemini_reply({"text": "Paris 18C, Oslo unknown."}))
    model = model_for(fake_provider)
    messages: list[Any] = [SystemMessage("Be brief."), UserMessage("Weather in Paris and Oslo?")]
    params = ModelRequestParameters(tools=[WEATHER])
    asked = await model.request(messages, ModelSettings(), params)
    paris, oslo = asked.tool_calls
    messages += [
        AssistantMessage(asked.text, asked.tool_calls),
        ToolResultMessage(paris.id, "get_weather", "18C, light rain"),
        ToolResultMessage(oslo.id, "get_weather", "error: station offline", is_error=True),
    ]
    answer = await model.request(messages, ModelSettings(), params)

    assert answer.text == "Paris 18C, Oslo unknown."
    assert fake_provider.last.json["contents"] == [
        {"parts": [{"text": "Weather in Paris and Oslo?"}], "role": "user"},
        {
            "parts": [
                {"text": "Checking."},
                # the thought signature goes back on the part it came on, byte for byte
                {
                    "functionCall": {"args": {"city": "Paris"}, "name": "get_weather"},
                    "thoughtSignature": SIG64,
                },
                {"functionCall": {"args": {"city": "Oslo"}, "name": "get_weather"}},
            ],
            "role": "model",
        },
        {
            "parts": [
                {
                    "functionResponse": {
                        "name": "get_weather",
                        "response": {"output": "18C, light rain"},
                    }
                },
                {
                    "functionResponse": {
                        "name": "get_weather",
                        "response": {"error": "error: station offline"},
                    }
                },
            ],
            "role": "user",
        },
    ]


async def test_ids_issued_by_the_api_are_echoed(fake_provider: FakeProvider) -> None:
    part = call_part("get_weather", {"city": "Paris"}, SIG64)
    part["functionCall"]["id"] = "fc-7f3a"
    fake_provider.reply(200, gemini_reply(part)).reply(200, gemini_reply({"text": "18C"}))
    model = model_for(fake_provider)
    asked = await model.request([UserMessage("Paris?")], ModelSettings(), NO_PARAMS)
    assert asked.tool_calls == [ToolCall("get_weather", {"city": "Paris"}, "fc-7f3a")]
    history = [
        UserMessage("Paris?"),
        AssistantMessage("", asked.tool_calls),
        ToolResultMessage("fc-7f3a", "get_weather", "18C"),
    ]
    await model.request(history, ModelSettings(), NO_PARAMS)
    contents = fake_provider.last.json["contents"]
    assert contents[1]["parts"][0]["functionCall"]["id"] == "fc-7f3a"
    assert contents[1]["parts"][0]["thoughtSignature"] == SIG64
    assert contents[2]["parts"][0]["functionResponse"]["id"] == "fc-7f3a"


async def test_tool_calls_gemini_did_not_make_carry_the_documented_signature(
    fake_provider: FakeProvider,
) -> None:
    """History from another model (a fallback chain) has no signatures; Gemini 3+ would
    answer 400 without one on the first call of a step, so the documented value goes there."""
    fake_provider.reply(200, gemini_reply({"text": "ok"}))
    calls = [ToolCall("get_weather", {"city": "Paris"}, "toolu_01"), ToolCall("get_weather", {})]
    history = [
        UserMessage("Paris?"),
        AssistantMessage("", calls),
        ToolResultMessage("toolu_01", "get_weather", "18C"),
        ToolResultMessage("", "get_weather", "?"),
    ]
    await model_for(fake_provider).request(history, ModelSettings(), NO_PARAMS)
    parts = fake_provider.last.json["contents"][1]["parts"]
    assert parts[0]["thoughtSignature"] == FOREIGN64
    assert "thoughtSignature" not in parts[1]
    assert "id" not in parts[0]["functionCall"]  # a foreign id means nothing to Gemini


async def test_agent_tool_loop_through_the_adapter(fake_provider: FakeProvider) -> None:
    @tool(register=False)
    def get_weather(city: str) -> str:
        """Current weather for a city."""
        return f"{city}: 18C, light rain"

    fake_provider.reply(
        200, gemini_reply(call_part("get_weather", {"city": "Paris"}, SIG64), prompt=50, output=8)
    )
    fake_provider.reply(
        200, gemini_reply({"text": "It is 18C with light rain in Paris."}, prompt=80, output=11)
    )
    prices = PriceTable("test").override(f"google:{MODEL}", 0.75, 3.75, 0.075)
    reporter = Agent(
        AgentConfig(
            role="Weather reporter",
            model=model_for(fake_provider, prices=prices),
            tools=[get_weather],
        )
    )
    result = await reporter.execute("What is the weather in Paris?")

    assert result.text == "It is 18C with light rain in Paris."
    assert [(r.name, r.arguments, r.result) for r in result.tool_calls] == [
        ("get_weather", {"city": "Paris"}, "Paris: 18C, light rain")
    ]
    assert (result.usage.input_tokens, result.usage.output_tokens) == (130, 19)
    assert result.usage.requests == 2
    assert result.cost == pytest.approx((130 * 0.75 + 19 * 3.75) / 1e6)
    assert result.model_name == f"google:{MODEL}"
    first, second = (r.json for r in fake_provider.requests)
    assert first["systemInstruction"]["parts"][0]["text"].startswith(
        "You are the Weather reporter."
    )
    assert first["generationConfig"] == {"temperature": 0.7, "maxOutputTokens": 4000}
    assert first["tools"][0]["functionDeclarations"][0]["name"] == "get_weather"
    assert second["contents"][1:] == [
        {
            "parts": [
                {
                    "functionCall": {"args": {"city": "Paris"}, "name": "get_weather"},
                    "thoughtSignature": SIG64,
                }
            ],
            "role": "model",
        },
        {
            "parts": [
                {
                    "functionResponse": {
                        "name": "get_weather",
                        "response": {"output": "Paris: 18C, light rain"},
                    }
                }
            ],
            "role": "user",
        },
    ]


# --- structured output ----------------------------------------------------------------------


async def test_output_schema_uses_native_json_schema(fake_provider: FakeProvider) -> None:
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "temp": {"type": "number"}},
        "required": ["city", "temp"],
    }
    fake_provider.reply(200, gemini_reply({"text": '{"city": "Paris", "temp": 18}'}))
    response = await model_for(fake_provider).request(
        [UserMessage("Paris?")],
        ModelSettings(),
        ModelRequestParameters(output_json=True, output_schema=schema),
    )
    assert response.text == '{"city": "Paris", "temp": 18}'
    assert fake_provider.last.json["generationConfig"] == {
        "responseMimeType": "application/json",
        "responseJsonSchema": schema,
    }


async def test_output_json_is_json_mode(fake_provider: FakeProvider) -> None:
    fake_provider.reply(200, gemini_reply({"text": "{}"}))
    await model_for(fake_provider).request(
        [UserMessage("x")], ModelSettings(), ModelRequestParameters(output_json=True)
    )
    assert fake_provider.last.json["generationConfig"] == {"responseMimeType": "application/json"}


async def test_choices_use_an_enum_and_are_listed_for_the_model(
    fake_provider: FakeProvider,
) -> None:
    fake_provider.reply(200, gemini_reply({"text": "billing"}))
    choices = {"billing": "invoices and refunds", "technical": "bugs and outages"}
    response = await model_for(fake_provider).request(
        [SystemMessage("You route tickets."), UserMessage("I was charged twice")],
        ModelSettings(temperature=0),
        ModelRequestParameters(choices=choices),
    )
    assert response.text == "billing"
    assert fake_provider.last.json["generationConfig"] == {
        "temperature": 0.0,
        "responseMimeType": "text/x.enum",
        "responseSchema": {"enum": ["billing", "technical"], "type": "STRING"},
    }
    assert fake_provider.last.json["systemInstruction"]["parts"][0]["text"] == (
        "You route tickets.\n\nAnswer with exactly one of these names and nothing else:\n"
        "- billing: invoices and refunds\n- technical: bugs and outages"
    )


async def test_with_tools_the_schema_becomes_an_instruction(fake_provider: FakeProvider) -> None:
    """Gemini 2.x rejects a response schema next to function declarations."""
    fake_provider.reply(200, gemini_reply({"text": "{}"}))
    schema = {"type": "object", "properties": {"temp": {"type": "number"}}}
    await model_for(fake_provider).request(
        [UserMessage("Paris?")],
        ModelSettings(),
        ModelRequestParameters(tools=[WEATHER], output_json=True, output_schema=schema),
    )
    body = fake_provider.last.json
    assert body["generationConfig"] == {}  # no responseMimeType, no responseJsonSchema
    assert body["systemInstruction"]["parts"][0]["text"] == (
        'Answer with one JSON value matching this JSON schema: {"type": "object", '
        '"properties": {"temp": {"type": "number"}}}'
    )


# --- streaming ------------------------------------------------------------------------------


async def test_streaming_yields_deltas_then_the_full_response(fake_provider: FakeProvider) -> None:
    fake_provider.reply(
        200,
        sse=[
            gemini_reply({"text": "It is "}, finish=None, prompt=40, output=2),
            gemini_reply({"text": "18C"}, finish=None, prompt=40, output=4),
            gemini_reply(
                {"text": " in Paris."},
                prompt=40,
                output=7,
                thoughtsTokenCount=5,
                cachedContentTokenCount=32,
            ),
        ],
    )
    items = await collect(model_for(fake_provider), [UserMessage("Weather in Paris?")])

    assert fake_provider.last.path == f"/v1/models/{MODEL}:streamGenerateContent?alt=sse"
    assert fake_provider.last.json == {
        "contents": [{"parts": [{"text": "Weather in Paris?"}], "role": "user"}],
        "generationConfig": {},
    }
    assert items[:-1] == ["It is ", "18C", " in Paris."]
    final = items[-1]
    assert isinstance(final, ModelResponse)
    assert final.text == "It is 18C in Paris."
    assert final.finish_reason == "stop"
    assert final.model_name == f"google:{MODEL}"
    assert final.usage.to_dict() == {
        "input_tokens": 40,
        "output_tokens": 12,
        "cache_read_tokens": 32,
        "reasoning_tokens": 5,
        "requests": 1,
    }


async def test_streamed_tool_calls_arrive_in_the_final_response(
    fake_provider: FakeProvider,
) -> None:
    fake_provider.reply(
        200,
        sse=[
            gemini_reply({"text": "Let me check."}, finish=None),
            gemini_reply(call_part("get_weather", {"city": "Paris"}, SIG64), prompt=20, output=9),
        ],
    )
    fake_provider.reply(200, gemini_reply({"text": "18C"}))
    model = model_for(fake_provider)
    items = await collect(model, [UserMessage("Paris?")], ModelRequestParameters(tools=[WEATHER]))
    assert items[0] == "Let me check."
    final = items[-1]
    assert isinstance(final, ModelResponse)
    assert final.finish_reason == "tool_calls"
    assert [(c.name, c.arguments) for c in final.tool_calls] == [("get_weather", {"city": "Paris"})]
    # the signature streamed with the call goes back with it
    history = [
        UserMessage("Paris?"),
        AssistantMessage(final.text, final.tool_calls),
        ToolResultMessage(final.tool_calls[0].id, "get_weather", "18C"),
    ]
    await model.request(history, ModelSettings(), NO_PARAMS)
    assert fake_provider.last.json["contents"][1]["parts"][1]["thoughtSignature"] == SIG64


async def test_agent_streams_text_through_on_text(fake_provider: FakeProvider) -> None:
    fake_provider.reply(
        200, sse=[gemini_reply({"text": "Hel"}, finish=None), gemini_reply({"text": "lo"})]
    )
    seen: list[str] = []
    bot = Agent(AgentConfig(role="Greeter", model=model_for(fake_provider)))
    result = await bot.execute("Say hello", on_text=seen.append)
    assert seen == ["Hel", "lo"]
    assert result.text == "Hello"


async def test_an_error_event_mid_stream_is_a_model_error(fake_provider: FakeProvider) -> None:
    fake_provider.reply(
        200,
        sse=[
            gemini_reply({"text": "It is"}, finish=None),
            api_error(503, "UNAVAILABLE", "The model is overloaded. Please try again later."),
        ],
    )
    seen: list[Any] = []

    async def consume() -> None:
        async for item in model_for(fake_provider).request_stream(
            [UserMessage("x")], ModelSettings(), NO_PARAMS
        ):
            seen.append(item)

    with pytest.raises(ModelUnavailable, match="overloaded"):
        await consume()
    assert seen == ["It is"]


async def test_a_rate_limit_before_the_stream_is_mapped(fake_provider: FakeProvider) -> None:
    fake_provider.reply(
        429, api_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded."), headers={"retry-after": "7"}
    )
    with pytest.raises(ModelRateLimited) as caught:
        await collect(model_for(fake_provider), [UserMessage("x")])
    assert caught.value.retry_after == 7
    assert len(fake_provider.requests) == 1


async def test_a_malformed_stream_is_unavailable(fake_provider: FakeProvider) -> None:
    fake_provider.reply(200, sse=["data: {not json"])
    with pytest.raises(ModelUnavailable, match="malformed"):
        await collect(model_for(fake_provider), [UserMessage("x")])


# --- errors ---------------------------------------------------------------------------------

QUOTA = {
    "@type": "type.googleapis.com/google.rpc.QuotaFailure",
    "violations": [
        {
            "quotaMetric": (
                "generativelanguage.googleapis.com/generate_content_paid_tier_input_token_count"
            ),
            "quotaId": "GenerateContentPaidTierInputTokensPerModelPerMinute",
            "quotaDimensions": {"location": "global", "model": MODEL},
            "quotaValue": "1000000",
        }
    ],
}
RETRY_7S = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"}
BAD_KEY = {
    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
    "reason": "API_KEY_INVALID",
    "domain": "googleapis.com",
    "metadata": {"service": "generativelanguage.googleapis.com"},
}


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (500, api_error(500, "INTERNAL", "An internal error has occurred."), ModelUnavailable),
        (
            503,
            api_error(503, "UNAVAILABLE", "The model is overloaded. Please try again later."),
            ModelUnavailable,
        ),
        (529, api_error(529, "UNAVAILABLE", "Overloaded."), ModelUnavailable),
        (
            504,
            api_error(504, "DEADLINE_EXCEEDED", "The request timed out. Please try again."),
            ModelTimeout,
        ),
        (
            401,
            api_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials."),
            ModelAuthError,
        ),
        (
            400,
            api_error(
                400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", BAD_KEY
            ),
            ModelAuthError,
        ),
        (
            403,
            api_error(403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers."),
            ModelAuthError,
        ),
        (
            400,
            api_error(
                400,
                "INVALID_ARGUMENT",
                "The input token count (1251042) exceeds the maximum number of tokens allowed "
                "(1048576).",
            ),
            ContextLengthExceeded,
        ),
        (
            400,
            api_error(
                400,
                "INVALID_ARGUMENT",
                "Function calling with a response mime type: 'application/json' is unsupported",
            ),
            ModelInvalidRequest,
        ),
        (
            404,
            api_error(404, "NOT_FOUND", "models/gemini-9 is not found for API version v1."),
            ModelInvalidRequest,
        ),
    ],
)
async def test_http_errors_map_to_typed_errors(
    fake_provider: FakeProvider, status: int, body: dict[str, Any], expected: type[ModelError]
) -> None:
    fake_provider.reply(status, body)
    with pytest.raises(ModelError) as caught:
        await model_for(fake_provider).request([UserMessage("x")], ModelSettings(), NO_PARAMS)
    assert type(caught.value) is expected
    assert str(caught.value).startswith("google: ")
    assert body["error"]["message"][:20] in str(caught.value)
    assert len(fake_provider.requests) == 1  # the SDK's own retries are off


async def test_rate_limit_honours_the_retry_after_header(fake_provider: FakeProvider) -> None:
    fake_provider.reply(
        429,
        api_error(429, "RESOURCE_EXHAUSTED", "You exceeded your current quota.", QUOTA),
        headers={"retry-after": "7"},
    )
    with pytest.raises(ModelRateLimited) as caught:
        await model_for(fake_provider).request([UserMessage("x")], ModelSettings(), NO_PARAMS)
    assert caught.value.retry_after == 7
    assert caught.value.retryable
    assert len(fake_provider.requests) == 1


async def test_rate_limit_reads_retry_info_from_the_body(fake_provider: FakeProvider) -> None:
    """Gemini usually sends no Retry-After header: the delay is in google.rpc.RetryInfo."""
    fake_provider.reply(
        429, api_error(429, "RESOURCE_EXHAUSTED", "You exceeded your quota.", QUOTA, RETRY_7S)
    )
    with pytest.raises(ModelRateLimited) as caught:
        await model_for(fake_provider).request([UserMessage("x")], ModelSettings(), NO_PARAMS)
    assert caught.value.retry_after == 7


async def test_a_non_json_error_body_still_maps(fake_provider: FakeProvider) -> None:
    fake_provider.reply(502, body=b"<html><body>Bad Gateway</body></html>")
    with pytest.raises(ModelUnavailable, match="Bad Gateway"):
        await model_for(fake_provider).request([UserMessage("x")], ModelSettings(), NO_PARAMS)
    assert len(fake_provider.requests) == 1


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'{"unexpected": true}'])
async def test_a_malformed_body_is_unavailable(fake_provider: FakeProvider, body: bytes) -> None:
    fake_provider.reply(200, body=body)
    with pytest.raises(ModelUnavailable, match="malformed"):
        await model_for(fake_provider).request([UserMessage("x")], ModelSettings(), NO_PARAMS)


async def test_a_timeout_is_model_timeout(fake_provider: FakeProvider) -> None:
    fake_provider.reply(200, gemini_reply({"text": "late"}), delay=0.02)
    with pytest.raises(ModelTimeout):
        await model_for(fake_provider, timeout=0.002).request(
            [UserMessage("x")], ModelSettings(), NO_PARAMS
        )
    assert len(fake_provider.requests) <= 1  # never retried (it may time out before arriving)


async def test_settings_timeout_applies_per_request(fake_provider: FakeProvider) -> None:
    fake_provider.reply(200, gemini_reply({"text": "late"}), delay=0.02)
    with pytest.raises(ModelTimeout):
        await model_for(fake_provider).request(
            [UserMessage("x")], ModelSettings(timeout=0.002), NO_PARAMS
        )


async def test_a_refused_connection_is_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    model = GeminiModel(MODEL, api_key=KEY, base_url=f"http://127.0.0.1:{port}")
    with pytest.raises(ModelUnavailable, match="connection failed"):
        await model.request([UserMessage("x")], ModelSettings(), NO_PARAMS)


async def test_a_blocked_prompt_is_an_empty_filtered_answer(fake_provider: FakeProvider) -> None:
    fake_provider.reply(
        200,
        {
            "promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},
            "usageMetadata": {"promptTokenCount": 9, "totalTokenCount": 9},
            "modelVersion": MODEL,
        },
    )
    response = await model_for(fake_provider).request(
        [UserMessage("x")], ModelSettings(), NO_PARAMS
    )
    assert (response.text, response.finish_reason) == ("", "content_filter")
    assert response.usage.input_tokens == 9


async def test_max_tokens_is_a_length_finish(fake_provider: FakeProvider) -> None:
    fake_provider.reply(200, gemini_reply({"text": "It is"}, finish="MAX_TOKENS"))
    response = await model_for(fake_provider).request(
        [UserMessage("x")], ModelSettings(max_tokens=2), NO_PARAMS
    )
    assert response.finish_reason == "length"


# --- a workflow from examples/ --------------------------------------------------------------


async def test_research_team_runs_on_gemini(fake_provider: FakeProvider) -> None:
    for text, (prompt, output) in [
        ("- Finding: small teams use agents for triage.", (120, 40)),
        ("Brief: agents help small teams triage.", (200, 60)),
        ("Reviewed brief. Changes: tightened wording.", (260, 50)),
    ]:
        fake_provider.reply(200, gemini_reply({"text": text}, prompt=prompt, output=output))
    prices = PriceTable("test").override(f"google:{MODEL}", 0.75, 3.75, 0.075)
    runner = LocalRunner(model_override=model_for(fake_provider, prices=prices))
    result = await runner.run(
        str(EXAMPLES / "research_team.yaml"), "How do small teams use agents?"
    )

    assert result.status == "succeeded", result.errors
    assert result.output == "Reviewed brief. Changes: tightened wording."
    assert (result.input_tokens, result.output_tokens) == (580, 150)
    assert result.total_cost == pytest.approx((580 * 0.75 + 150 * 3.75) / 1e6)
    assert [s.model for s in result.steps] == [f"google:{MODEL}"] * 3
    assert len(fake_provider.requests) == 3
    second = fake_provider.requests[1].json
    assert second["contents"][0]["parts"][0]["text"].endswith(
        "- Finding: small teams use agents for triage."
    )
    assert second["systemInstruction"]["parts"][0]["text"].startswith("You are the Writer.")
