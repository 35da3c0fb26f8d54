"""BedrockModel against the loopback server, in Bedrock's real wire format.

boto3 is pointed at ``fake_provider`` with ``endpoint_url`` and dummy credentials, so every
request is signed, serialised and sent exactly as to AWS (``POST /model/{id}/converse``), and
every reply is parsed by botocore itself: JSON bodies, ``x-amzn-ErrorType`` errors, and
ConverseStream's binary event-stream frames (encoded here, decoded by botocore).
"""

from __future__ import annotations

import asyncio
import binascii
import json
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from agentweaver.agents import Agent, AgentConfig
from agentweaver.exceptions import (
    ContextLengthExceeded,
    ModelAuthError,
    ModelError,
    ModelInvalidRequest,
    ModelNotConfigured,
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
    parse_model_string,
)
from agentweaver.models.bedrock import OUTPUT_TOOL, BedrockModel
from agentweaver.tools.base import tool
from agentweaver.workflow.runner import LocalRunner

if TYPE_CHECKING:
    from tests.providers.conftest import FakeProvider

CLAUDE = "anthropic.claude-sonnet-4-5-20250929-v1:0"
LLAMA = "meta.llama3-3-70b-instruct-v1:0"
CLAUDE_PATH = "/model/anthropic.claude-sonnet-4-5-20250929-v1%3A0"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NO_PARAMS = ModelRequestParameters()
WEATHER = ToolDefinition(
    "get_weather",
    "Current weather for a city.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Dummy static credentials and nothing else: no profile, no instance metadata."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "dummy-secret-for-tests")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    for name in (
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_BEARER_TOKEN_BEDROCK",
        "AWS_MAX_ATTEMPTS",
        "AWS_RETRY_MODE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)


def model_for(fake: FakeProvider, model_id: str = CLAUDE, **kwargs: Any) -> BedrockModel:
    return BedrockModel(model_id, endpoint_url=fake.url, region="us-west-2", **kwargs)


def converse_reply(
    content: list[dict[str, Any]], stop: str = "end_turn", **usage: int
) -> dict[str, Any]:
    """A Converse response body as Bedrock returns it."""
    tokens = {"inputTokens": 12, "outputTokens": 4, **usage}
    tokens["totalTokens"] = tokens["inputTokens"] + tokens["outputTokens"]
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop,
        "usage": tokens,
        "metrics": {"latencyMs": 321},
    }


def aws_error(fake: FakeProvider, status: int, code: str | None, message: str, **headers: str):
    """An error as Bedrock sends it: the code in ``x-amzn-ErrorType``, the text in the body."""
    if code:
        headers["x-amzn-ErrorType"] = f"{code}:http://internal.amazon.com/coral/com.amazon.bedrock/"
    fake.reply(status, {"message": message}, headers=headers)


# --- ConverseStream: AWS event-stream frames ------------------------------------------------


def frame(headers: dict[str, str], payload: bytes) -> bytes:
    """One event-stream message: prelude (total length, headers length, CRC32), string
    headers (type 7), payload, CRC32 of everything before it."""
    head = b"".join(
        bytes([len(k)]) + k.encode() + b"\x07" + struct.pack(">H", len(v.encode())) + v.encode()
        for k, v in headers.items()
    )
    prelude = struct.pack(">II", 12 + len(head) + len(payload) + 4, len(head))
    message = prelude + struct.pack(">I", binascii.crc32(prelude)) + head + payload
    return message + struct.pack(">I", binascii.crc32(message))


def event(kind: str, data: dict[str, Any]) -> bytes:
    headers = {":event-type": kind, ":content-type": "application/json", ":message-type": "event"}
    return frame(headers, json.dumps(data).encode())


def stream_exception(kind: str, message: str) -> bytes:
    headers = {
        ":exception-type": kind,
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    return frame(headers, json.dumps({"message": message}).encode())


def reply_stream(fake: FakeProvider, frames: list[bytes]) -> None:
    fake.reply(
        200, body=b"".join(frames), headers={"content-type": "application/vnd.amazon.eventstream"}
    )


def text_delta(index: int, text: str) -> bytes:
    # Bedrock pads events with a random "p" field; botocore ignores it
    return event(
        "contentBlockDelta", {"contentBlockIndex": index, "delta": {"text": text}, "p": "ab"}
    )


def metadata(inp: int, out: int) -> bytes:
    usage = {"inputTokens": inp, "outputTokens": out, "totalTokens": inp + out}
    return event("metadata", {"usage": usage, "metrics": {"latencyMs": 80}})


async def collect(
    model: BedrockModel, messages: list[Any], params: ModelRequestParameters = NO_PARAMS
):
    return [item async for item in model.request_stream(messages, ModelSettings(), params)]


async def drain(stream: AsyncIterator[Any], into: list[Any]) -> None:
    async for item in stream:
        into.append(item)


# --- model strings --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "model_id",
    [
        CLAUDE,
        LLAMA,
        "amazon.nova-pro-v1:0",
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-pro-v1:0",
    ],
)
def test_model_string_keeps_every_colon_after_the_provider(model_id: str) -> None:
    assert parse_model_string(f"bedrock:{model_id}") == ("bedrock", model_id)
    assert BedrockModel(model_id).name == f"bedrock:{model_id}"


def test_infer_model_builds_a_bedrock_model_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    model = infer_model(f"bedrock:eu.{CLAUDE}")
    assert isinstance(model, BedrockModel)
    assert model.model_name == f"eu.{CLAUDE}"
    assert model.region == "eu-central-1"
    assert model._client is None  # built on the first request, not before
    assert "AKIDEXAMPLE" not in repr(model)


def test_region_argument_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-northeast-1")
    assert BedrockModel(CLAUDE).region == "ap-northeast-1"
    assert BedrockModel(CLAUDE, region="us-east-2").region == "us-east-2"


async def test_without_a_region_the_profile_region_then_us_east_1_is_used(
    fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for _ in range(2):
        fake_provider.reply(200, converse_reply([{"text": "ok"}]))
    await BedrockModel(CLAUDE, endpoint_url=fake_provider.url).request(
        [UserMessage("x")], ModelSettings(), NO_PARAMS
    )
    assert "/us-east-1/bedrock/aws4_request" in fake_provider.last.headers["authorization"]
    config = tmp_path / "config"
    config.write_text("[default]\nregion = eu-west-3\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    await BedrockModel(CLAUDE, endpoint_url=fake_provider.url).request(
        [UserMessage("x")], ModelSettings(), NO_PARAMS
    )
    assert "/eu-west-3/bedrock/aws4_request" in fake_provider.last.headers["authorization"]


def test_without_boto3_infer_model_says_what_to_install(without_sdks: None) -> None:
    with pytest.raises(ModelNotConfigured, match=r"agentweaver\[bedrock\]"):
        infer_model(f"bedrock:{CLAUDE}")


def test_importing_the_adapter_does_not_import_boto3() -> None:
    code = "import sys, agentweaver.models.bedrock; print('boto3' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


# --- requests -------------------------------------------------------------------------------


async def test_text_answer_sends_the_exact_converse_body(fake_provider: FakeProvider) -> None:
    fake_provider.reply(
        200,
        converse_reply(
            [{"text": "Paris."}], inputTokens=20, outputTokens=3, cacheReadInputTokens=100
        ),
    )
    model = model_for(
        fake_provider, prices=PriceTable("test").override(f"bedrock:{CLAUDE}", 3, 15, 0.3)
    )
    response = await model.request(
        [SystemMessage("You are the Geographer."), UserMessage("Capital of France?")],
        ModelSettings(temperature=0.2, max_tokens=256),
        ModelRequestParameters(tools=[WEATHER]),
    )
    sent = fake_provider.last
    assert (sent.method, sent.path) == ("POST", f"{CLAUDE_PATH}/converse")
    assert sent.json == {
        "messages": [{"role": "user", "content": [{"text": "Capital of France?"}]}],
        "system": [{"text": "You are the Geographer."}],
        "inferenceConfig": {"maxTokens": 256, "temperature": 0.2},
        "toolConfig": {
            "tools": [
                {
                    "toolSpec": {
                        "name": "get_weather",
                        "description": "Current weather for a city.",
                        "inputSchema": {"json": WEATHER.parameters},
                    }
                }
            ]
        },
    }
    # SigV4-signed for the region asked for, with the SDK's retries off
    assert "Credential=AKIDEXAMPLE/" in sent.headers["authorization"]
    assert "/us-west-2/bedrock/aws4_request" in sent.headers["authorization"]
    assert sent.headers["amz-sdk-request"] == "attempt=1; max=1"
    assert response.text == "Paris."
    assert response.tool_calls == []
    assert response.finish_reason == "stop"
    assert response.model_name == f"bedrock:{CLAUDE}"
    usage = response.usage
    assert (usage.input_tokens, usage.output_tokens, usage.cache_read_tokens) == (120, 3, 100)
    assert usage.requests == 1
    assert model.cost_of(response) == pytest.approx((20 * 3 + 100 * 0.3 + 3 * 15) / 1e6)


async def test_settings_extra_reach_their_converse_fields(fake_provider: FakeProvider) -> None:
    fake_provider.reply(200, converse_reply([{"text": "ok"}], stop="max_tokens"))
    extra = {
        "topP": 0.9,
        "stopSequences": ["END"],
        "guardrailConfig": {"guardrailIdentifier": "gr-1", "guardrailVersion": "1"},
        "top_k": 40,  # model-native: additionalModelRequestFields
    }
    response = await model_for(fake_provider).request(
        [UserMessage("hi")], ModelSettings(max_tokens=5, extra=extra), NO_PARAMS
    )
    body = fake_provider.last.json
    assert body["inferenceConfig"] == {"maxTokens": 5, "topP": 0.9, "stopSequences": ["END"]}
    assert body["guardrailConfig"] == {"guardrailIdentifier": "gr-1", "guardrailVersion": "1"}
    assert body["additionalModelRequestFields"] == {"top_k": 40}
    assert "toolConfig" not in body
    assert "system" not in body
    assert response.finish_reason == "length"


async def test_tool_use_answer_and_the_follow_up_with_results(fake_provider: FakeProvider) -> None:
    fake_provider.reply(
        200,
        converse_reply(
            [
                {"text": "Let me check both."},
                {
                    "toolUse": {
                        "toolUseId": "tooluse_a1",
                        "name": "get_weather",
                        "input": {"city": "Oslo"},
                    }
                },
                {
                    "toolUse": {
                        "toolUseId": "tooluse_b2",
                        "name": "get_weather",
                        "input": {"city": "Rome"},
                    }
                },
            ],
            stop="tool_use",
        ),
    )
    model = model_for(fake_provider)
    params = ModelRequestParameters(tools=[WEATHER])
    history: list[Any] = [SystemMessage("You are the Forecaster."), UserMessage("Oslo vs Rome?")]
    first = await model.request(history, ModelSettings(), params)
    assert first.tool_calls == [
        ToolCall("get_weather", {"city": "Oslo"}, "tooluse_a1"),
        ToolCall("get_weather", {"city": "Rome"}, "tooluse_b2"),
    ]
    assert first.text == "Let me check both."
    assert first.finish_reason == "tool_calls"

    fake_provider.reply(200, converse_reply([{"text": "Rome is warmer."}]))
    history += [
        AssistantMessage(first.text, first.tool_calls),
        ToolResultMessage("tooluse_a1", "get_weather", "4C, rain"),
        ToolResultMessage("tooluse_b2", "get_weather", "error: TimeoutError", is_error=True),
    ]
    second = await model.request(history, ModelSettings(), params)
    assert second.text == "Rome is warmer."
    assert fake_provider.last.json["messages"] == [
        {"role": "user", "content": [{"text": "Oslo vs Rome?"}]},
        {
            "role": "assistant",
            "content": [
                {"text": "Let me check both."},
                {
                    "toolUse": {
                        "toolUseId": "tooluse_a1",
                        "name": "get_weather",
                        "input": {"city": "Oslo"},
                    }
                },
                {
                    "toolUse": {
                        "toolUseId": "tooluse_b2",
                        "name": "get_weather",
                        "input": {"city": "Rome"},
                    }
                },
            ],
        },
        {  # both results in ONE user turn: Converse wants the roles to alternate
            "role": "user",
            "content": [
                {
                    "toolResult": {
                        "toolUseId": "tooluse_a1",
                        "content": [{"text": "4C, rain"}],
                        "status": "success",
                    }
                },
                {
                    "toolResult": {
                        "toolUseId": "tooluse_b2",
                        "content": [{"text": "error: TimeoutError"}],
                        "status": "error",
                    }
                },
            ],
        },
    ]


async def test_llama_tool_results_carry_no_status(fake_provider: FakeProvider) -> None:
    """Only Claude and Nova accept ``status`` on a tool result; Llama rejects the request."""
    fake_provider.reply(200, converse_reply([{"text": "done"}]))
    history = [
        UserMessage("go"),
        AssistantMessage("", [ToolCall("get_weather", {"city": "Oslo"}, "t1")]),
        ToolResultMessage("t1", "get_weather", "", is_error=False),
    ]
    await model_for(fake_provider, LLAMA).request(
        history, ModelSettings(), ModelRequestParameters(tools=[WEATHER])
    )
    messages = fake_provider.last.json["messages"]
    assert messages[1] == {
        "role": "assistant",
        "content": [
            {"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {"city": "Oslo"}}}
        ],
    }
    assert messages[2] == {
        "role": "user",
        "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "(no output)"}]}}],
    }


async def test_agent_tool_loop_through_the_adapter(fake_provider: FakeProvider) -> None:
    @tool(register=False)
    def lookup_population(city: str) -> int:
        """Population of a city."""
        return {"Oslo": 709_000}.get(city, 0)

    fake_provider.reply(
        200,
        converse_reply(
            [
                {
                    "toolUse": {
                        "toolUseId": "tooluse_p1",
                        "name": "lookup_population",
                        "input": {"city": "Oslo"},
                    }
                }
            ],
            stop="tool_use",
        ),
    )
    fake_provider.reply(200, converse_reply([{"text": "Oslo has about 709,000 people."}]))
    researcher = Agent(
        AgentConfig(role="Researcher", model=model_for(fake_provider), tools=[lookup_population])
    )
    result = await researcher.execute("How many people live in Oslo?")

    assert result.output == "Oslo has about 709,000 people."
    assert [(c.name, c.arguments, c.result) for c in result.tool_calls] == [
        ("lookup_population", {"city": "Oslo"}, "709000")
    ]
    assert result.usage.requests == 2
    assert result.model_name == f"bedrock:{CLAUDE}"
    first, second = (r.json for r in fake_provider.requests)
    assert first["toolConfig"]["tools"][0]["toolSpec"]["name"] == "lookup_population"
    assert first["inferenceConfig"] == {"maxTokens": 4000, "temperature": 0.7}
    assert second["messages"][-1] == {
        "role": "user",
        "content": [
            {
                "toolResult": {
                    "toolUseId": "tooluse_p1",
                    "content": [{"text": "709000"}],
                    "status": "success",
                }
            }
        ],
    }


# --- structured output and choices ----------------------------------------------------------

VERDICT = {
    "type": "object",
    "properties": {
        "approved": {"type": "boolean"},
        "reasons": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["approved", "reasons"],
}


async def test_output_schema_forces_a_tool_with_that_schema(fake_provider: FakeProvider) -> None:
    answer = {"approved": True, "reasons": ["clear"]}
    fake_provider.reply(
        200,
        converse_reply(
            [{"toolUse": {"toolUseId": "t9", "name": OUTPUT_TOOL, "input": answer}}],
            stop="tool_use",
        ),
    )
    params = ModelRequestParameters(output_json=True, output_schema=VERDICT)
    response = await model_for(fake_provider).request(
        [UserMessage("review")], ModelSettings(), params
    )
    assert fake_provider.last.json["toolConfig"] == {
        "tools": [
            {
                "toolSpec": {
                    "name": OUTPUT_TOOL,
                    "description": "Give your final answer; its input is the answer.",
                    "inputSchema": {"json": VERDICT},
                }
            }
        ],
        "toolChoice": {"tool": {"name": OUTPUT_TOOL}},
    }
    assert json.loads(response.text) == answer
    assert response.tool_calls == []
    assert response.finish_reason == "stop"


async def test_output_schema_with_tools_lets_the_model_call_either(
    fake_provider: FakeProvider,
) -> None:
    fake_provider.reply(
        200,
        converse_reply(
            [{"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {"city": "Oslo"}}}]
        ),
    )
    params = ModelRequestParameters(tools=[WEATHER], output_schema=VERDICT)
    response = await model_for(fake_provider).request([UserMessage("x")], ModelSettings(), params)
    config = fake_provider.last.json["toolConfig"]
    assert [t["toolSpec"]["name"] for t in config["tools"]] == ["get_weather", OUTPUT_TOOL]
    assert config["toolChoice"] == {"any": {}}
    assert response.tool_calls == [ToolCall("get_weather", {"city": "Oslo"}, "t1")]


async def test_a_non_object_schema_is_wrapped_and_unwrapped(fake_provider: FakeProvider) -> None:
    schema = {
        "type": "array",
        "items": {"$ref": "#/$defs/Item"},
        "$defs": {"Item": {"type": "string"}},
    }
    fake_provider.reply(
        200,
        converse_reply(
            [{"toolUse": {"toolUseId": "t", "name": OUTPUT_TOOL, "input": {"value": ["a", "b"]}}}]
        ),
    )
    params = ModelRequestParameters(output_schema=schema)
    response = await model_for(fake_provider).request([UserMessage("x")], ModelSettings(), params)
    sent = fake_provider.last.json["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"]
    assert sent == {
        "type": "object",
        "properties": {"value": {"type": "array", "items": {"$ref": "#/$defs/Item"}}},
        "required": ["value"],
        "$defs": {"Item": {"type": "string"}},
    }
    assert json.loads(response.text) == ["a", "b"]


async def test_choices_force_an_enum(fake_provider: FakeProvider) -> None:
    fake_provider.reply(
        200,
        converse_reply(
            [{"toolUse": {"toolUseId": "t", "name": OUTPUT_TOOL, "input": {"choice": "billing"}}}]
        ),
    )
    choices = {"billing": "payments and invoices", "bug": "something is broken"}
    response = await model_for(fake_provider, "amazon.nova-pro-v1:0").request(
        [UserMessage("I was charged twice")],
        ModelSettings(),
        ModelRequestParameters(choices=choices),
    )
    config = fake_provider.last.json["toolConfig"]
    schema = config["tools"][0]["toolSpec"]["inputSchema"]["json"]
    assert schema == {
        "type": "object",
        "properties": {
            "choice": {
                "type": "string",
                "enum": ["billing", "bug"],
                "description": "billing: payments and invoices; bug: something is broken",
            }
        },
        "required": ["choice"],
    }
    assert config["toolChoice"] == {"tool": {"name": OUTPUT_TOOL}}
    assert response.text == "billing"


async def test_models_without_tool_choice_get_an_instruction(fake_provider: FakeProvider) -> None:
    fake_provider.reply(200, converse_reply([{"text": "bug"}]))
    fake_provider.reply(200, converse_reply([{"text": '{"approved": false, "reasons": []}'}]))
    model = model_for(fake_provider, LLAMA)
    choices = {"billing": "payments", "bug": "broken"}
    routed = await model.request(
        [SystemMessage("You are the Router."), UserMessage("it crashes")],
        ModelSettings(),
        ModelRequestParameters(choices=choices),
    )
    body = fake_provider.last.json
    assert "toolConfig" not in body
    assert body["system"] == [
        {"text": "You are the Router."},
        {
            "text": "Answer with exactly one of these names and nothing else:\n"
            "- billing: payments\n- bug: broken"
        },
    ]
    assert routed.text == "bug"
    await model.request(
        [UserMessage("x")], ModelSettings(), ModelRequestParameters(output_schema=VERDICT)
    )
    instruction = fake_provider.last.json["system"][0]["text"]
    assert instruction.startswith("Answer with one JSON value matching this JSON schema")
    assert json.dumps(VERDICT) in instruction


# --- streaming ------------------------------------------------------------------------------


async def test_stream_yields_deltas_in_order_then_the_response(fake_provider: FakeProvider) -> None:
    reply_stream(
        fake_provider,
        [
            event("messageStart", {"role": "assistant"}),
            text_delta(0, "Small teams "),
            text_delta(0, "ship "),
            text_delta(0, "agents."),
            event("contentBlockStop", {"contentBlockIndex": 0}),
            event("messageStop", {"stopReason": "end_turn"}),
            metadata(31, 7),
        ],
    )
    items = await collect(model_for(fake_provider), [SystemMessage("s"), UserMessage("go")])
    assert fake_provider.last.path == f"{CLAUDE_PATH}/converse-stream"
    assert fake_provider.last.json["system"] == [{"text": "s"}]
    assert items[:-1] == ["Small teams ", "ship ", "agents."]
    final = items[-1]
    assert isinstance(final, ModelResponse)
    assert final.text == "Small teams ship agents."
    assert (final.usage.input_tokens, final.usage.output_tokens, final.usage.requests) == (31, 7, 1)
    assert final.finish_reason == "stop"
    assert final.model_name == f"bedrock:{CLAUDE}"


async def test_stream_assembles_tool_calls_from_input_fragments(
    fake_provider: FakeProvider,
) -> None:
    reply_stream(
        fake_provider,
        [
            event("messageStart", {"role": "assistant"}),
            text_delta(0, "Checking."),
            event("contentBlockStop", {"contentBlockIndex": 0}),
            event(
                "contentBlockStart",
                {
                    "contentBlockIndex": 1,
                    "start": {"toolUse": {"toolUseId": "tooluse_s1", "name": "get_weather"}},
                },
            ),
            event(
                "contentBlockDelta",
                {"contentBlockIndex": 1, "delta": {"toolUse": {"input": '{"ci'}}},
            ),
            event(
                "contentBlockDelta",
                {"contentBlockIndex": 1, "delta": {"toolUse": {"input": 'ty": "Oslo"}'}}},
            ),
            event("contentBlockStop", {"contentBlockIndex": 1}),
            event(
                "contentBlockStart",
                {
                    "contentBlockIndex": 2,
                    "start": {"toolUse": {"toolUseId": "tooluse_s2", "name": "now"}},
                },
            ),
            event("contentBlockStop", {"contentBlockIndex": 2}),
            event("messageStop", {"stopReason": "tool_use"}),
            metadata(50, 20),
        ],
    )
    items = await collect(
        model_for(fake_provider), [UserMessage("weather?")], ModelRequestParameters(tools=[WEATHER])
    )
    assert items[0] == "Checking."
    final = items[-1]
    assert isinstance(final, ModelResponse)
    assert final.tool_calls == [
        ToolCall("get_weather", {"city": "Oslo"}, "tooluse_s1"),
        ToolCall("now", {}, "tooluse_s2"),
    ]
    assert final.finish_reason == "tool_calls"
    assert final.usage.total_tokens == 70


async def test_stream_with_a_forced_output_tool_yields_the_answer_once(
    fake_provider: FakeProvider,
) -> None:
    reply_stream(
        fake_provider,
        [
            event(
                "contentBlockStart",
                {
                    "contentBlockIndex": 0,
                    "start": {"toolUse": {"toolUseId": "t", "name": OUTPUT_TOOL}},
                },
            ),
            event(
                "contentBlockDelta",
                {"contentBlockIndex": 0, "delta": {"toolUse": {"input": '{"choice": "bu'}}},
            ),
            event(
                "contentBlockDelta",
                {"contentBlockIndex": 0, "delta": {"toolUse": {"input": 'g"}'}}},
            ),
            event("messageStop", {"stopReason": "tool_use"}),
            metadata(9, 2),
        ],
    )
    params = ModelRequestParameters(choices={"billing": "money", "bug": "broken"})
    items = await collect(model_for(fake_provider), [UserMessage("crash")], params)
    assert items[0] == "bug"
    assert isinstance(items[1], ModelResponse)
    assert items[1].text == "bug"
    assert len(items) == 2


async def test_agent_streams_through_on_text(fake_provider: FakeProvider) -> None:
    reply_stream(fake_provider, [text_delta(0, "Hel"), text_delta(0, "lo"), metadata(3, 2)])
    seen: list[str] = []
    agent = Agent(AgentConfig(role="Greeter", model=model_for(fake_provider)))
    result = await agent.execute("hi", on_text=seen.append)
    assert seen == ["Hel", "lo"]
    assert result.output == "Hello"


async def test_an_exception_event_mid_stream_is_mapped(fake_provider: FakeProvider) -> None:
    reply_stream(
        fake_provider,
        [text_delta(0, "par"), stream_exception("throttlingException", "Too many tokens")],
    )
    reply_stream(fake_provider, [stream_exception("modelStreamErrorException", "model failed")])
    reply_stream(
        fake_provider,
        [stream_exception("validationException", "Input is too long for requested model.")],
    )
    reply_stream(fake_provider, [text_delta(0, "a"), stream_exception("oddException", "odd")])
    seen: list[Any] = []
    model = model_for(fake_provider)
    with pytest.raises(ModelRateLimited, match="Too many tokens"):
        await drain(model.request_stream([UserMessage("x")], ModelSettings(), NO_PARAMS), seen)
    assert seen == ["par"]  # the text that arrived before the failure did go out
    with pytest.raises(ModelUnavailable, match="model failed"):
        await collect(model, [UserMessage("x")])
    with pytest.raises(ContextLengthExceeded):
        await collect(model, [UserMessage("x")])
    with pytest.raises(ModelUnavailable):  # a code botocore does not know: no status at all
        await collect(model, [UserMessage("x")])


async def test_stream_errors_before_the_first_event(fake_provider: FakeProvider) -> None:
    aws_error(
        fake_provider, 429, "ThrottlingException", "Too many requests", **{"retry-after": "3"}
    )
    with pytest.raises(ModelRateLimited) as caught:
        await collect(model_for(fake_provider), [UserMessage("x")])
    assert caught.value.retry_after == 3


async def test_a_corrupt_stream_frame_is_unavailable(fake_provider: FakeProvider) -> None:
    broken = bytearray(text_delta(0, "hello"))
    broken[-1] ^= 0xFF  # bad message CRC
    reply_stream(fake_provider, [bytes(broken)])
    with pytest.raises(ModelUnavailable):
        await collect(model_for(fake_provider), [UserMessage("x")])


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "message", "expected"),
    [
        (500, "InternalServerException", "Internal error", ModelUnavailable),
        (
            503,
            "ServiceUnavailableException",
            "Bedrock is unable to process your request.",
            ModelUnavailable,
        ),
        (529, None, "overloaded", ModelUnavailable),
        (
            429,
            "ModelNotReadyException",
            "Model is not ready to serve inference requests.",
            ModelUnavailable,
        ),
        (424, "ModelErrorException", "The model produced an error.", ModelUnavailable),
        (
            408,
            "ModelTimeoutException",
            "Model has timed out in processing the request.",
            ModelTimeout,
        ),
        (
            403,
            "AccessDeniedException",
            "You don't have access to the model with the specified model ID.",
            ModelAuthError,
        ),
        (
            403,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
            ModelAuthError,
        ),
        (401, None, "unauthorized", ModelAuthError),
        (
            400,
            "ValidationException",
            "Input is too long for requested model.",
            ContextLengthExceeded,
        ),
        (
            400,
            "ValidationException",
            "input length and `max_tokens` exceed context limit: 198000 + 4000 > 200000, "
            "decrease input length",
            ContextLengthExceeded,
        ),
        (
            400,
            "ValidationException",
            "The model returned the following errors: prompt is too long: "
            "210000 tokens > 200000 maximum",
            ContextLengthExceeded,
        ),
        (
            400,
            "ValidationException",
            "Malformed input request: #: extraneous key [foo] is not permitted",
            ModelInvalidRequest,
        ),
        (404, "ResourceNotFoundException", "Model not found.", ModelInvalidRequest),
    ],
)
async def test_errors_map_to_the_model_error_tree(
    fake_provider: FakeProvider,
    status: int,
    code: str | None,
    message: str,
    expected: type[ModelError],
) -> None:
    aws_error(fake_provider, status, code, message)
    with pytest.raises(ModelError) as caught:
        await model_for(fake_provider).request([UserMessage("x")], ModelSettings(), NO_PARAMS)
    assert type(caught.value) is expected
    assert str(caught.value).startswith("bedrock: ")
    assert message in str(caught.value)
    assert "dummy-secret" not in str(caught.value)


async def test_throttling_carries_retry_after(fake_provider: FakeProvider) -> None:
    aws_error(
        fake_provider,
        429,
        "ThrottlingException",
        "Too many requests, please wait.",
        **{"retry-after": "7"},
    )
    with pytest.raises(ModelRateLimited) as caught:
        await model_for(fake_provider).request([UserMessage("x")], ModelSettings(), NO_PARAMS)
    assert caught.value.retry_after == 7
    assert caught.value.retryable


async def test_one_request_per_5xx_even_when_the_environment_asks_for_retries(
    fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "5")
    monkeypatch.setenv("AWS_RETRY_MODE", "adaptive")
    for _ in range(5):
        aws_error(fake_provider, 503, "ServiceUnavailableException", "busy")
    with pytest.raises(ModelUnavailable):
        await model_for(fake_provider).request([UserMessage("x")], ModelSettings(), NO_PARAMS)
    assert len(fake_provider.requests) == 1


async def test_a_malformed_body_is_unavailable(fake_provider: FakeProvider) -> None:
    fake_provider.reply(
        200, body=b'{"output": {"message": ', headers={"content-type": "application/json"}
    )
    fake_provider.reply(200, {"output": {"message": {"content": [{"toolUse": {"name": "x"}}]}}})
    model = model_for(fake_provider)
    for _ in range(2):
        with pytest.raises(ModelUnavailable, match="malformed"):
            await model.request([UserMessage("x")], ModelSettings(), NO_PARAMS)


async def test_missing_credentials_say_how_to_configure_them(
    fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(ModelAuthError, match="AWS_ACCESS_KEY_ID") as caught:
        await model_for(fake_provider).request([UserMessage("x")], ModelSettings(), NO_PARAMS)
    assert "AWS_PROFILE" in str(caught.value)
    assert fake_provider.requests == []


async def test_a_refused_connection_is_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    model = BedrockModel(CLAUDE, endpoint_url=f"http://127.0.0.1:{port}", region="us-east-1")
    with pytest.raises(ModelUnavailable):
        await model.request([UserMessage("x")], ModelSettings(), NO_PARAMS)


async def test_a_slow_answer_times_out_once(fake_provider: FakeProvider) -> None:
    fake_provider.reply(200, converse_reply([{"text": "late"}]), delay=0.2)
    model = model_for(fake_provider, timeout=0.05)
    with pytest.raises(ModelTimeout):
        await model.request([UserMessage("x")], ModelSettings(), NO_PARAMS)
    assert len(fake_provider.requests) == 1


class ScriptedClient:
    """A stand-in boto3 client: raises what it is given, or blocks until released."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error
        self.release = threading.Event()
        self.calls: list[dict[str, Any]] = []

    def converse(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        if self.error is not None:
            raise self.error
        self.release.wait(2)
        return converse_reply([{"text": "done"}])


def sdk_errors() -> list[tuple[BaseException, type[ModelError]]]:
    from botocore import exceptions as aws

    url = "https://bedrock-runtime.us-east-1.amazonaws.com/model/x/converse"
    return [
        (aws.ReadTimeoutError(endpoint_url=url), ModelTimeout),
        (aws.ConnectTimeoutError(endpoint_url=url), ModelTimeout),
        (aws.EndpointConnectionError(endpoint_url=url), ModelUnavailable),
        (aws.ConnectionClosedError(endpoint_url=url), ModelUnavailable),
        (aws.NoCredentialsError(), ModelAuthError),
        (
            aws.ParamValidationError(report="Invalid type for parameter messages"),
            ModelInvalidRequest,
        ),
    ]


@pytest.mark.parametrize(("error", "expected"), sdk_errors())
async def test_sdk_exceptions_never_escape(
    error: BaseException, expected: type[ModelError]
) -> None:
    model = BedrockModel(CLAUDE, client=ScriptedClient(error))
    with pytest.raises(ModelError) as caught:
        await model.request([UserMessage("x")], ModelSettings(), NO_PARAMS)
    assert type(caught.value) is expected


class ClosableStream:
    """What ``converse_stream`` returns under ``"stream"``: iterable events, and ``close``."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.events = events
        self.closed = False

    def __iter__(self) -> Any:
        return iter(self.events)

    def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize("read_all", [True, False])
async def test_the_stream_is_closed_however_reading_ends(read_all: bool) -> None:
    stream = ClosableStream(
        [
            {"contentBlockDelta": {"contentBlockIndex": 0, "delta": {"text": "a"}}},
            {"contentBlockDelta": {"contentBlockIndex": 0, "delta": {"text": "b"}}},
        ]
    )
    client = ScriptedClient()
    client.converse_stream = lambda **kwargs: {"stream": stream}  # type: ignore[attr-defined]
    items = BedrockModel(CLAUDE, client=client).request_stream(
        [UserMessage("x")], ModelSettings(), NO_PARAMS
    )
    if read_all:
        assert [i async for i in items][:-1] == ["a", "b"]
    else:
        assert await anext(items) == "a"
        await items.aclose()  # the caller stopped reading: the HTTP response must not leak
    assert stream.closed


async def test_a_tool_without_description_sends_none(fake_provider: FakeProvider) -> None:
    fake_provider.reply(200, converse_reply([{"text": "ok"}]))
    bare = ToolDefinition("now", "", {"type": "object", "properties": {}})
    await model_for(fake_provider).request(
        [UserMessage("x")], ModelSettings(), ModelRequestParameters(tools=[bare])
    )
    spec = fake_provider.last.json["toolConfig"]["tools"][0]["toolSpec"]
    assert spec == {"name": "now", "inputSchema": {"json": bare.parameters}}  # "" is rejected


async def test_the_event_loop_runs_while_boto3_waits() -> None:
    client = ScriptedClient()
    model = BedrockModel(CLAUDE, client=client)
    task = asyncio.create_task(model.request([UserMessage("x")], ModelSettings(), NO_PARAMS))
    for _ in range(50):  # the call is in flight in a worker thread...
        await asyncio.sleep(0.001)
        if client.calls:
            break
    assert client.calls
    assert not task.done()  # ...and this coroutine still got to run
    client.release.set()
    assert (await task).text == "done"


# --- a workflow from examples/ --------------------------------------------------------------


async def test_research_team_runs_on_bedrock(fake_provider: FakeProvider) -> None:
    for text, (inp, out) in [
        ("- Finding: small teams use agents for triage.", (120, 40)),
        ("Brief: agents help small teams triage.", (200, 60)),
        ("Reviewed brief. Changes: tightened wording.", (260, 50)),
    ]:
        fake_provider.reply(
            200, converse_reply([{"text": text}], inputTokens=inp, outputTokens=out)
        )
    prices = PriceTable("test").override(f"bedrock:{CLAUDE}", 3.0, 15.0, 0.3)
    runner = LocalRunner(model_override=model_for(fake_provider, prices=prices))
    result = await runner.run(
        str(EXAMPLES / "research_team.yaml"), "How do small teams use agents?"
    )

    assert result.status == "succeeded", result.errors
    assert result.output == "Reviewed brief. Changes: tightened wording."
    assert (result.input_tokens, result.output_tokens) == (580, 150)
    assert result.total_cost == pytest.approx((580 * 3 + 150 * 15) / 1e6)
    assert len(fake_provider.requests) == 3
    second = fake_provider.requests[1].json
    assert second["messages"][0]["content"][0]["text"].endswith(
        "- Finding: small teams use agents for triage."
    )
    assert second["system"][0]["text"].startswith("You are the Writer.")
