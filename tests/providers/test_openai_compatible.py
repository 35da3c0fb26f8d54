"""OpenAI-compatible servers (Ollama, vLLM, llama.cpp) against the loopback server.

Replies are in the shapes those servers really send (Ollama's ``openai/openai.go``: no usage
details, ``fp_ollama``, tool calls with ``index``; vLLM's and llama.cpp's error bodies), and
requests must use the classic parameters they implement (``system``, ``temperature``,
``max_tokens``), with no real key leaving the machine.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

from agentweaver.agents import Agent, AgentConfig
from agentweaver.exceptions import (
    ContextLengthExceeded,
    ModelInvalidRequest,
    ModelNotConfigured,
    ModelRateLimited,
    ModelUnavailable,
)
from agentweaver.models import (
    ALIASES,
    ModelRequestParameters,
    ModelResponse,
    ModelSettings,
    SystemMessage,
    ToolCall,
    UserMessage,
    infer_model,
)
from agentweaver.models.openai_compatible import NO_KEY, OllamaModel, OpenAICompatibleModel
from agentweaver.tools.base import tool
from agentweaver.workflow.runner import LocalRunner
from tests.providers.conftest import FakeProvider

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NO_PARAMS = ModelRequestParameters()
CONVERSATION = [SystemMessage("You are the Writer."), UserMessage("Say hello.")]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "OPENAI_COMPATIBLE_BASE_URL",
        "OPENAI_COMPATIBLE_API_KEY",
        "OLLAMA_BASE_URL",
        "OLLAMA_API_KEY",
        "OPENAI_BASE_URL",
        "AGENTWEAVER_MODEL_LLAMA",
    ):
        monkeypatch.delenv(name, raising=False)
    # a real OpenAI key in the environment must never be sent to another server
    monkeypatch.setenv("OPENAI_API_KEY", "sk-real-openai-key-0000")


def ollama_completion(
    content: str = "Hello!", tool_calls: list[dict] | None = None, prompt: int = 26, out: int = 9
) -> dict:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {
        "id": "chatcmpl-512",
        "object": "chat.completion",
        "created": 1736000000,
        "model": "llama3.3",
        "system_fingerprint": "fp_ollama",
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if tool_calls else "stop",
            }
        ],
        "usage": {"prompt_tokens": prompt, "completion_tokens": out, "total_tokens": prompt + out},
    }


def ollama_tool_call(call_id: str, name: str, arguments: dict, index: int = 0) -> dict:
    return {
        "id": call_id,
        "index": index,
        "type": "function",
        "function": {"name": name, "arguments": json.dumps(arguments)},
    }


def ollama_chunk(delta: dict | None, finish: str | None = None, **extra: Any) -> dict:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return {
        "id": "chatcmpl-77",
        "object": "chat.completion.chunk",
        "created": 1736000000,
        "model": "llama3.3",
        "system_fingerprint": "fp_ollama",
        "choices": choices,
        **extra,
    }


def ollama(server: FakeProvider, name: str = "llama3.3", **kwargs: Any) -> OllamaModel:
    return OllamaModel(name, base_url=f"{server.url}/v1", **kwargs)


# --- requests ----------------------------------------------------------------------------


async def test_compatible_server_gets_classic_parameters_and_no_real_key(
    fake_provider: FakeProvider,
) -> None:
    fake_provider.reply(200, ollama_completion("Hi from vLLM", prompt=12, out=4))
    # even a name that looks like an OpenAI reasoning model gets the classic parameters
    served = OpenAICompatibleModel("o3-distill-qwen", base_url=f"{fake_provider.url}/v1")
    response = await served.request(
        CONVERSATION, ModelSettings(temperature=0.4, max_tokens=256), NO_PARAMS
    )
    sent = fake_provider.last
    assert sent.path == "/v1/chat/completions"
    assert sent.json == {
        "model": "o3-distill-qwen",
        "messages": [
            {"role": "system", "content": "You are the Writer."},
            {"role": "user", "content": "Say hello."},
        ],
        "temperature": 0.4,
        "max_tokens": 256,
    }
    assert sent.headers["authorization"] == f"Bearer {NO_KEY}"
    assert sent.headers["x-stainless-retry-count"] == "0"
    assert response.text == "Hi from vLLM"
    assert response.model_name == "openai-compatible:o3-distill-qwen"
    assert response.usage.to_dict() == {
        "input_tokens": 12,
        "output_tokens": 4,
        "cache_read_tokens": 0,
        "reasoning_tokens": 0,
        "requests": 1,
    }
    assert served.cost(response.usage) == 0.0  # the openai-compatible:* price entry


async def test_base_url_and_key_from_the_environment(
    fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_COMPATIBLE_BASE_URL", f"{fake_provider.url}/v1")
    monkeypatch.setenv("OPENAI_COMPATIBLE_API_KEY", "vllm-token-42")
    fake_provider.reply(200, ollama_completion())
    served = OpenAICompatibleModel("Qwen/Qwen3-8B")
    await served.request(CONVERSATION, ModelSettings(), NO_PARAMS)
    assert fake_provider.last.headers["authorization"] == "Bearer vllm-token-42"
    assert "vllm-token-42" not in repr(served)


def test_compatible_without_a_url_says_what_to_set() -> None:
    with pytest.raises(ModelNotConfigured, match="set OPENAI_COMPATIBLE_BASE_URL"):
        OpenAICompatibleModel("qwen3")
    with pytest.raises(ModelNotConfigured, match="OPENAI_COMPATIBLE_BASE_URL"):
        infer_model("openai-compatible:qwen3")


def test_ollama_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    assert OllamaModel("llama3.3").base_url == "http://localhost:11434/v1"
    monkeypatch.setenv("OLLAMA_BASE_URL", "http://gpu-box:11434")  # the server root, as usual
    assert OllamaModel("llama3.3").base_url == "http://gpu-box:11434/v1"
    monkeypatch.setenv("OLLAMA_BASE_URL", "http://gpu-box:11434/v1/")
    assert OllamaModel("llama3.3").base_url == "http://gpu-box:11434/v1"
    assert OllamaModel("x", base_url="http://other:1/v1").base_url == "http://other:1/v1"


async def test_ollama_root_url_reaches_the_v1_api(
    fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OLLAMA_BASE_URL", fake_provider.url)
    fake_provider.reply(200, ollama_completion("Hello!"))
    response = await OllamaModel("llama3.3").request(CONVERSATION, ModelSettings(), NO_PARAMS)
    assert fake_provider.last.path == "/v1/chat/completions"
    assert response.text == "Hello!"
    assert response.model_name == "ollama:llama3.3"


def test_infer_model_needs_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    built = infer_model("llama")
    assert isinstance(built, OllamaModel)
    assert built.name == ALIASES["llama"]
    assert built._api_key == NO_KEY
    assert infer_model("ollama:qwen3:8b").model_name == "qwen3:8b"
    monkeypatch.setenv("OPENAI_COMPATIBLE_BASE_URL", "http://127.0.0.1:8000/v1")
    compatible = infer_model("openai-compatible:Qwen/Qwen3-8B")
    assert isinstance(compatible, OpenAICompatibleModel)
    assert compatible.base_url == "http://127.0.0.1:8000/v1"


# --- tools, streaming, structured output -------------------------------------------------


async def test_ollama_agent_tool_loop(fake_provider: FakeProvider) -> None:
    @tool(register=False)
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    call = ollama_tool_call("call_8xk2m1qz", "add", {"a": 2, "b": 40})
    fake_provider.reply(200, ollama_completion("", [call], prompt=90, out=20))
    fake_provider.reply(200, ollama_completion("2 + 40 = 42", prompt=120, out=8))
    calculator = Agent(AgentConfig(role="Calculator", model=ollama(fake_provider), tools=[add]))
    result = await calculator.execute("What is 2 + 40?")
    assert result.output == "2 + 40 = 42"
    assert [(c.name, c.arguments, c.result) for c in result.tool_calls] == [
        ("add", {"a": 2, "b": 40}, "42")
    ]
    assert result.cost == 0.0  # ollama:* is free
    first, second = (r.json for r in fake_provider.requests)
    assert first["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "add",
                "description": "Add two integers.",
                "parameters": add.definition.parameters,
            },
        }
    ]
    assert first["max_tokens"] == 4000
    assert second["messages"][2:] == [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_8xk2m1qz",
                    "type": "function",
                    "function": {"name": "add", "arguments": '{"a": 2, "b": 40}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_8xk2m1qz", "content": "42"},
    ]


async def test_ollama_stream(fake_provider: FakeProvider) -> None:
    fake_provider.reply(
        200,
        sse=[
            ollama_chunk({"role": "assistant", "content": "Hel"}),
            ollama_chunk({"role": "assistant", "content": "lo"}),
            ollama_chunk({"role": "assistant", "content": ""}, "stop"),
            ollama_chunk(None, usage={"prompt_tokens": 20, "completion_tokens": 2,
                                      "total_tokens": 22}),
            "data: [DONE]",
        ],
    )  # fmt: skip
    deltas: list[str] = []
    final: ModelResponse | None = None
    async for item in ollama(fake_provider).request_stream(
        CONVERSATION, ModelSettings(), NO_PARAMS
    ):
        if isinstance(item, str):
            deltas.append(item)
        else:
            final = item
    assert deltas == ["Hel", "lo"]
    assert final is not None
    assert final.text == "Hello"
    assert final.usage.input_tokens == 20
    assert fake_provider.last.json["stream_options"] == {"include_usage": True}


async def test_ollama_streamed_tool_call_arrives_whole(fake_provider: FakeProvider) -> None:
    call = ollama_tool_call("call_q1", "add", {"a": 1, "b": 2})
    fake_provider.reply(
        200,
        sse=[
            ollama_chunk({"role": "assistant", "content": "", "tool_calls": [call]}),
            ollama_chunk({"role": "assistant", "content": ""}, "tool_calls"),
            "data: [DONE]",
        ],
    )
    items = [
        item
        async for item in ollama(fake_provider).request_stream(
            CONVERSATION, ModelSettings(), NO_PARAMS
        )
    ]
    final = items[-1]
    assert isinstance(final, ModelResponse)
    assert final.tool_calls == [ToolCall("add", {"a": 1, "b": 2}, "call_q1")]
    assert final.usage.requests == 1  # no usage chunk: still one request


async def test_structured_output_and_reasoning_effort_pass_through(
    fake_provider: FakeProvider,
) -> None:
    fake_provider.reply(200, ollama_completion('{"choice": "tech"}'))
    llm = ollama(fake_provider, "gpt-oss:20b", extra={"reasoning_effort": "low"})
    params = ModelRequestParameters(choices={"billing": "money", "tech": "bugs"})
    response = await llm.request(CONVERSATION, ModelSettings(temperature=0), params)
    assert response.text == "tech"
    body = fake_provider.last.json
    assert body["reasoning_effort"] == "low"
    assert body["temperature"] == 0
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"]["properties"]["choice"]["enum"] == [
        "billing",
        "tech",
    ]


# --- errors ------------------------------------------------------------------------------


async def test_ollama_model_not_pulled_is_an_invalid_request(fake_provider: FakeProvider) -> None:
    fake_provider.reply(
        404,
        {
            "error": {
                "message": 'model "llama3.3" not found, try pulling it first',
                "type": "not_found_error",
                "param": None,
                "code": None,
            }
        },
    )
    with pytest.raises(ModelInvalidRequest, match="try pulling it first"):
        await ollama(fake_provider).request(CONVERSATION, ModelSettings(), NO_PARAMS)


@pytest.mark.parametrize(
    "body",
    [
        {  # vLLM
            "error": {
                "message": "This model's maximum context length is 4096 tokens. However, you "
                "requested 4500 tokens (4000 in the messages, 500 in the completion).",
                "type": "BadRequestError",
                "param": None,
                "code": 400,
            }
        },
        {  # llama.cpp server
            "error": {
                "code": 400,
                "message": "the request exceeds the available context size, try increasing it",
                "type": "exceed_context_size_error",
                "n_prompt_tokens": 5000,
                "n_ctx": 4096,
            }
        },
    ],
)
async def test_context_length_errors(fake_provider: FakeProvider, body: dict) -> None:
    fake_provider.reply(400, body)
    served = OpenAICompatibleModel("m", base_url=f"{fake_provider.url}/v1")
    with pytest.raises(ContextLengthExceeded):
        await served.request(CONVERSATION, ModelSettings(), NO_PARAMS)


async def test_loading_model_503_is_unavailable_once(fake_provider: FakeProvider) -> None:
    fake_provider.reply(
        503, {"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}}
    )
    fake_provider.reply(200, ollama_completion())
    served = OpenAICompatibleModel("m", base_url=f"{fake_provider.url}/v1")
    with pytest.raises(ModelUnavailable, match="Loading model"):
        await served.request(CONVERSATION, ModelSettings(), NO_PARAMS)
    assert len(fake_provider.requests) == 1


async def test_rate_limited_proxy(fake_provider: FakeProvider) -> None:
    fake_provider.reply(
        429,
        {"error": {"message": "Too many requests", "type": "rate_limit", "code": None}},
        headers={"retry-after": "7"},
    )
    with pytest.raises(ModelRateLimited) as info:
        await ollama(fake_provider).request(CONVERSATION, ModelSettings(), NO_PARAMS)
    assert info.value.retry_after == 7


async def test_server_not_running_is_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ModelUnavailable, match="connection"):
        await OllamaModel("llama3.3", base_url=f"http://127.0.0.1:{port}").request(
            CONVERSATION, ModelSettings(), NO_PARAMS
        )


async def test_malformed_body(fake_provider: FakeProvider) -> None:
    fake_provider.reply(200, body=b"not json at all", headers={"content-type": "application/json"})
    with pytest.raises(ModelUnavailable, match="malformed"):
        await ollama(fake_provider).request(CONVERSATION, ModelSettings(), NO_PARAMS)


# --- a workflow --------------------------------------------------------------------------


async def test_research_team_example_runs_on_ollama(fake_provider: FakeProvider) -> None:
    for text in ("- finding one\n- finding two", "A short brief.", "The reviewed brief."):
        fake_provider.reply(200, ollama_completion(text, prompt=100, out=30))
    runner = LocalRunner(model_override=ollama(fake_provider))
    result = await runner.run(EXAMPLES / "research_team.yaml", "local agents")
    assert result.status == "succeeded", result.errors
    assert result.output == "The reviewed brief."
    assert [s.model for s in result.steps] == ["ollama:llama3.3"] * 3
    assert (result.input_tokens, result.output_tokens) == (300, 90)
    assert result.total_cost == 0.0  # priced (free), not unknown
    assert all("max_tokens" in r.json for r in fake_provider.requests)
