"""Amazon Bedrock through the Converse API: one wire format for Claude, Llama, Nova, Mistral...

Converse rather than InvokeModel because it is the same request and response for every model
family on Bedrock, so one adapter covers them all; model-specific knobs still pass through
``additionalModelRequestFields``. Authentication is IAM, not an API key: boto3's default
credential chain (environment, profile, SSO, container or instance role, or a Bedrock API key
in ``AWS_BEARER_TOKEN_BEDROCK``). boto3 is synchronous, so every call and every read of a
stream runs in a worker thread: the event loop never blocks on AWS.

Structured output: Converse has no JSON mode every model honours. Claude and Nova accept
``toolChoice``, so for them the adapter forces a tool whose input schema is the output schema
(an ``enum`` schema for ``choices``) and returns that tool's input as the answer text. Other
families get the schema, or the list of names, as an instruction in the system prompt; the
agent's one repair round catches an answer that does not fit.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from agentweaver.exceptions import (
    ModelAuthError,
    ModelError,
    ModelInvalidRequest,
    ModelTimeout,
    ModelUnavailable,
)
from agentweaver.models.base import Model
from agentweaver.models.errors import error_for_status, parse_retry_after
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
from agentweaver.models.pricing import PriceTable

__all__ = ["OUTPUT_TOOL", "BedrockModel"]

#: the tool forced for structured output and choices; its input is the answer
OUTPUT_TOOL = "final_answer"

# Codes whose HTTP status alone would mislead: ModelNotReady is sent as 429 but means "the
# model is loading", ModelError(424) means the model failed server-side. Stream exceptions
# carry a code and no status at all.
_STATUS_FOR_CODE = {
    "ThrottlingException": 429,
    "ServiceUnavailableException": 503,
    "ModelNotReadyException": 503,
    "InternalServerException": 500,
    "ModelErrorException": 502,
    "ModelStreamErrorException": 502,
    "ModelTimeoutException": 408,
    "AccessDeniedException": 403,
    "UnrecognizedClientException": 403,
    "ExpiredTokenException": 403,
    "InvalidSignatureException": 403,
    "ValidationException": 400,
    "ResourceNotFoundException": 404,
}
# Bedrock's own wordings ("Input is too long for requested model", "input length and
# `max_tokens` exceed context limit", "Input Tokens Exceeded"), beyond the shared pattern
_CONTEXT = re.compile(
    r"too long|context.{0,15}(limit|length|window)|input tokens exceeded|max(imum)?[ _]?tokens",
    re.IGNORECASE,
)
_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "tool_use": "tool_calls",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "guardrail_intervened": "content_filter",
    "content_filtered": "content_filter",
}
# settings.extra keys that are Converse request fields or inferenceConfig fields; any other
# key is a model-native field and goes into additionalModelRequestFields
_TOP_LEVEL = {
    "additionalModelRequestFields",
    "additionalModelResponseFieldPaths",
    "guardrailConfig",
    "outputConfig",
    "performanceConfig",
    "promptVariables",
    "requestMetadata",
    "serviceTier",
}
_INFERENCE = {"topP", "stopSequences"}
_CREDENTIALS_HINT = (
    "bedrock: no usable AWS credentials. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
    "(and AWS_SESSION_TOKEN for temporary ones), or AWS_PROFILE for a profile in "
    "~/.aws/config (`aws configure` or `aws sso login`), or AWS_BEARER_TOKEN_BEDROCK for a "
    "Bedrock API key, or run with an IAM role"
)


@dataclass(slots=True)
class _Output:
    """The forced output tool: its input schema and how its input becomes the answer text."""

    schema: dict[str, Any]
    key: str | None  # the property holding the answer; None: the whole input is the answer
    description: str

    def answer(self, arguments: Any) -> str:
        if self.key is None:
            return json.dumps(arguments)
        value = arguments[self.key]
        return value if isinstance(value, str) else json.dumps(value)


def _output_for(params: ModelRequestParameters) -> _Output | None:
    if params.choices:
        listing = "; ".join(f"{name}: {text}" for name, text in params.choices.items())
        prop = {"type": "string", "enum": list(params.choices), "description": listing}
        schema = {"type": "object", "properties": {"choice": prop}, "required": ["choice"]}
        return _Output(schema, "choice", "Give your answer: the one choice that fits best.")
    if params.output_schema is not None:
        schema = dict(params.output_schema)
        description = "Give your final answer; its input is the answer."
        if schema.get("type") == "object":
            return _Output(schema, None, description)
        # tool input must be an object: wrap, keeping $defs at the root where $refs point
        wrapped: dict[str, Any] = {
            k: schema.pop(k) for k in ("$defs", "definitions") if k in schema
        }
        wrapped.update(type="object", properties={"value": schema}, required=["value"])
        return _Output(wrapped, "value", description)
    return None


def _forces_tools(model_id: str) -> bool:
    """Only Claude and Nova accept ``toolChoice`` ``tool``/``any`` and the ``status`` of a tool
    result (also through ``us.``/``global.`` inference profiles and ARNs naming them)."""
    return "anthropic." in model_id or "amazon.nova" in model_id


def _instruction(params: ModelRequestParameters) -> str:
    """What models that cannot be forced to call a tool are told instead."""
    if params.choices:
        names = "\n".join(f"- {name}: {text}" for name, text in params.choices.items())
        return f"Answer with exactly one of these names and nothing else:\n{names}"
    if params.output_schema is not None:
        schema = json.dumps(params.output_schema)
        return f"Answer with one JSON value matching this JSON schema and nothing else:\n{schema}"
    return ""


class BedrockModel(Model):
    """A model on Amazon Bedrock, named by its model id or inference profile id or ARN."""

    provider = "bedrock"

    def __init__(
        self,
        model_name: str,
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
        client: Any = None,
        prices: PriceTable | None = None,
        timeout: float = 120.0,
        api_key: str | None = None,  # accepted for symmetry with other adapters; IAM is used
    ) -> None:
        super().__init__(model_name, prices)
        env_region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        self.region = region or env_region  # else the profile's region, else us-east-1
        self.endpoint_url = endpoint_url
        self.timeout = timeout
        self._client = client
        self._lock = threading.Lock()

    # -- the SDK, always off the event loop ----------------------------------------------

    def _sdk_client(self) -> Any:
        """Built on first use, in a worker thread (loading the service model takes a while);
        a session of its own because boto3's default session is not thread-safe."""
        with self._lock:
            if self._client is None:
                import boto3  # type: ignore[import-untyped, unused-ignore]
                from botocore.config import Config  # type: ignore[import-untyped, unused-ignore]

                session = boto3.session.Session()
                config = Config(
                    retries={"total_max_attempts": 1, "mode": "standard"},  # the engine retries
                    read_timeout=self.timeout,
                    connect_timeout=min(self.timeout, 10.0),
                    user_agent_extra="agentweaver",
                )
                self._client = session.client(
                    "bedrock-runtime",
                    region_name=self.region or session.region_name or "us-east-1",
                    endpoint_url=self.endpoint_url,
                    config=config,
                )
            return self._client

    def _call(self, operation: str, kwargs: dict[str, Any]) -> Any:
        return getattr(self._sdk_client(), operation)(**kwargs)

    # -- requests ------------------------------------------------------------------------

    async def request(
        self,
        messages: Sequence[ModelMessage],
        settings: ModelSettings,
        params: ModelRequestParameters,
    ) -> ModelResponse:
        kwargs, output = self._build(messages, settings, params)
        try:
            raw = await asyncio.to_thread(self._call, "converse", kwargs)
        except Exception as exc:
            raise self._error(exc) from None
        return self._parse(raw, output)

    async def request_stream(
        self,
        messages: Sequence[ModelMessage],
        settings: ModelSettings,
        params: ModelRequestParameters,
    ) -> AsyncIterator[str | ModelResponse]:
        """ConverseStream: text deltas as they arrive; tool-call inputs are assembled from
        their JSON fragments, and a forced output tool's answer is yielded once, whole."""
        kwargs, output = self._build(messages, settings, params)
        try:
            raw = await asyncio.to_thread(self._call, "converse_stream", kwargs)
            stream = raw["stream"]
        except Exception as exc:
            raise self._error(exc) from None
        events = iter(stream)
        blocks: dict[int, dict[str, Any]] = {}
        message: dict[str, Any] = {}
        streamed = False
        try:
            while True:
                try:
                    event = await asyncio.to_thread(next, events, None)
                except Exception as exc:
                    raise self._error(exc) from None
                if event is None:
                    break
                if "contentBlockStart" in event:
                    start = event["contentBlockStart"]
                    tool = start.get("start", {}).get("toolUse")
                    if tool:  # its input arrives as fragments of JSON text
                        blocks[start["contentBlockIndex"]] = {"toolUse": {**tool, "input": ""}}
                elif "contentBlockDelta" in event:
                    delta = event["contentBlockDelta"]["delta"]
                    block = blocks.setdefault(event["contentBlockDelta"]["contentBlockIndex"], {})
                    if "toolUse" in block:
                        block["toolUse"]["input"] += delta.get("toolUse", {}).get("input", "")
                    elif delta.get("text"):  # reasoning deltas are not the answer
                        block["text"] = block.get("text", "") + delta["text"]
                        streamed = True
                        yield delta["text"]
                elif "messageStop" in event:
                    message["stopReason"] = event["messageStop"].get("stopReason")
                elif "metadata" in event:
                    message["usage"] = event["metadata"].get("usage", {})
        finally:
            stream.close()
        content = [blocks[i] for i in sorted(blocks) if blocks[i]]
        response = self._parse({**message, "output": {"message": {"content": content}}}, output)
        if response.text and not streamed:
            yield response.text  # the forced output tool's answer: no text deltas came
        yield response

    # -- translation ---------------------------------------------------------------------

    def _build(
        self,
        messages: Sequence[ModelMessage],
        settings: ModelSettings,
        params: ModelRequestParameters,
    ) -> tuple[dict[str, Any], _Output | None]:
        forced = _forces_tools(self.model_name)
        system: list[dict[str, Any]] = []
        turns: list[dict[str, Any]] = []
        for message in messages:
            if isinstance(message, SystemMessage):
                if message.content.strip():
                    system.append({"text": message.content})
                continue
            role, blocks = self._blocks(message, forced)
            if not blocks:
                continue
            if turns and turns[-1]["role"] == role:  # Converse wants roles to alternate
                turns[-1]["content"].extend(blocks)
            else:
                turns.append({"role": role, "content": blocks})
        output = _output_for(params) if forced else None
        if not forced and _instruction(params):
            system.append({"text": _instruction(params)})
        kwargs: dict[str, Any] = {"modelId": self.model_name, "messages": turns}
        if system:
            kwargs["system"] = system
        inference: dict[str, Any] = {}
        if settings.max_tokens is not None:
            inference["maxTokens"] = settings.max_tokens
        if settings.temperature is not None:
            inference["temperature"] = settings.temperature
        specs = [self._spec(t.name, t.description, t.parameters) for t in params.tools]
        if output is not None:
            specs.append(self._spec(OUTPUT_TOOL, output.description, output.schema))
        if specs:
            kwargs["toolConfig"] = {"tools": specs}
            if output is not None:
                choice = {"any": {}} if params.tools else {"tool": {"name": OUTPUT_TOOL}}
                kwargs["toolConfig"]["toolChoice"] = choice
        extra_fields: dict[str, Any] = {}
        for key, value in settings.extra.items():
            if key in _TOP_LEVEL:
                kwargs[key] = value
            elif key in _INFERENCE:
                inference[key] = value
            else:
                extra_fields[key] = value
        if inference:
            kwargs["inferenceConfig"] = inference
        if extra_fields:
            kwargs["additionalModelRequestFields"] = {
                **kwargs.get("additionalModelRequestFields", {}),
                **extra_fields,
            }
        return kwargs, output

    @staticmethod
    def _spec(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
        spec: dict[str, Any] = {"name": name, "inputSchema": {"json": schema}}
        if description:  # Converse rejects an empty description
            spec["description"] = description
        return {"toolSpec": spec}

    @staticmethod
    def _blocks(message: ModelMessage, forced: bool) -> tuple[str, list[dict[str, Any]]]:
        if isinstance(message, ToolResultMessage):
            result: dict[str, Any] = {
                "toolUseId": message.tool_call_id,
                "content": [{"text": message.content or "(no output)"}],
            }
            if forced:  # other families reject the field
                result["status"] = "error" if message.is_error else "success"
            return "user", [{"toolResult": result}]
        if isinstance(message, AssistantMessage):
            blocks: list[dict[str, Any]] = []
            if message.content.strip():
                blocks.append({"text": message.content})
            for call in message.tool_calls:
                use = {"toolUseId": call.id, "name": call.name, "input": call.arguments}
                blocks.append({"toolUse": use})
            return "assistant", blocks
        assert isinstance(message, UserMessage)
        return "user", [{"text": message.content}] if message.content.strip() else []

    def _parse(self, raw: Any, output: _Output | None) -> ModelResponse:
        try:
            content = raw["output"]["message"]["content"]
            texts: list[str] = []
            calls: list[ToolCall] = []
            answer: str | None = None
            for block in content:
                if "text" in block:
                    texts.append(block["text"])
                elif "toolUse" in block:
                    use = block["toolUse"]
                    arguments = use.get("input") or {}
                    if isinstance(arguments, str):  # streamed: the input's JSON text
                        arguments = json.loads(arguments)
                    if output is not None and use["name"] == OUTPUT_TOOL:
                        answer = output.answer(arguments)
                    else:
                        calls.append(ToolCall(use["name"], dict(arguments), use["toolUseId"]))
            tokens = raw.get("usage") or {}
            cached = int(tokens.get("cacheReadInputTokens") or 0)
            written = int(tokens.get("cacheWriteInputTokens") or 0)
            usage = Usage(
                # Bedrock counts cache reads and writes apart from inputTokens; Usage counts
                # every input token, of which cache_read_tokens are the cached part
                input_tokens=int(tokens.get("inputTokens") or 0) + cached + written,
                output_tokens=int(tokens.get("outputTokens") or 0),
                cache_read_tokens=cached,
                requests=1,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            detail = f"{type(exc).__name__}: {exc}"
            raise ModelUnavailable(f"bedrock: malformed response body ({detail})") from None
        stop = str(raw.get("stopReason") or "end_turn")
        if calls:
            text, finish = "".join(texts), "tool_calls"
        elif answer is not None:
            text, finish = answer, "stop"
        else:
            text, finish = "".join(texts), _FINISH.get(stop, stop)
        return ModelResponse(text, calls, usage, self.name, finish_reason=finish)

    # -- errors --------------------------------------------------------------------------

    def _error(self, exc: BaseException) -> ModelError:
        """Any SDK failure as a ``ModelError``: codes first (see ``_STATUS_FOR_CODE``), then
        ``error_for_status`` decides, so retryability is decided in one place."""
        from botocore import exceptions as aws  # type: ignore[import-untyped, unused-ignore]

        if isinstance(exc, ModelError):
            return exc
        if isinstance(exc, aws.ClientError):  # an EventStreamError (mid-stream) is one too
            response: dict[str, Any] = exc.response or {}
            error = response.get("Error") or {}
            code = str(error.get("Code") or "")
            code = code[:1].upper() + code[1:]  # stream events name it "throttlingException"
            message = str(error.get("Message") or "") or str(exc)
            meta = response.get("ResponseMetadata") or {}
            headers = meta.get("HTTPHeaders") or {}  # botocore lower-cases the names
            status = _STATUS_FOR_CODE.get(code, meta.get("HTTPStatusCode"))
            if not isinstance(status, int) or status < 400:
                status = None  # an unknown exception event inside a 200 stream
            if code == "ValidationException" and _CONTEXT.search(message):
                status = 413  # the context window, whatever the model's wording
            retry_after = parse_retry_after(headers.get("retry-after"))
            text = f"{code}: {message}" if code else message
            return error_for_status(self.provider, status, text, retry_after)
        if isinstance(exc, aws.NoCredentialsError | aws.PartialCredentialsError):
            return ModelAuthError(_CREDENTIALS_HINT)
        if isinstance(exc, aws.CredentialRetrievalError):
            return ModelAuthError(f"{_CREDENTIALS_HINT} ({exc})")
        if isinstance(exc, aws.ReadTimeoutError | aws.ConnectTimeoutError):
            return ModelTimeout(f"bedrock: no answer within the timeout ({exc})")
        if isinstance(exc, aws.ParamValidationError):
            return ModelInvalidRequest(f"bedrock: the request does not fit Converse: {exc}")
        # connection refused or dropped, a broken event stream, an unreadable body
        return ModelUnavailable(f"bedrock: {type(exc).__name__}: {exc}")
