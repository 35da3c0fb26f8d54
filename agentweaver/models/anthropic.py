"""Anthropic's Claude through the Messages API and the official ``anthropic`` SDK.

Choices made here, and why:

* Structured output is native, ``output_config.format`` (``json_schema``): the installed SDK
  and the API have it. Forcing one tool whose input is the answer is refused with a 400 by
  Claude Opus 5.5, Sonnet 5.5, Fable 5.1 and Mythos 5.1, and costs a tool round. Schemas go
  through the SDK's ``transform_schema`` (objects closed, unsupported keywords moved into
  descriptions), as ``messages.parse`` does. ``choices`` use the same mechanism with an
  ``enum`` schema and the chosen name becomes the text. There is no schemaless JSON mode, so
  ``output_json`` alone becomes an instruction in the system prompt.
* ``temperature``: Claude Opus 4.7 and later (Sonnet 5, Opus 5, Fable, Mythos...) answer 400
  to a non-default sampling parameter, and agents always send one, so it goes only to models
  known to take it (``settings.extra={"temperature": x}`` forces it). Recent SDKs dropped the
  sampling keywords: whatever the installed SDK does not name is sent through ``extra_body``.
* Thinking: newer models think by default, and an assistant turn that called tools must come
  back with its thinking blocks unmodified. ``AssistantMessage`` has no room for them, so such
  turns are remembered by their tool-use ids and sent back verbatim.
* Usage: the API's ``input_tokens`` excludes cache reads and writes; ``Usage.input_tokens`` is
  the whole prompt and ``cache_read_tokens`` the reads, so ``ModelPrice.cost`` charges reads at
  the cache rate (writes at the input rate: the table has no write rate; Anthropic's is 1.25x).
* The SDK's own retries are off: the engine retries, honouring ``Retry-After``.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import re
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

from agentweaver.exceptions import (
    ModelAuthError,
    ModelError,
    ModelInvalidRequest,
    ModelNotConfigured,
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

__all__ = ["DEFAULT_MAX_TOKENS", "AnthropicModel"]

#: ``max_tokens`` is required by the Messages API; used when the settings leave it unset
DEFAULT_MAX_TOKENS = 4096
_ECHO_LIMIT = 256  # assistant turns with thinking kept for sending back
_JSON_HINT = "Answer with one JSON value and nothing else."
# Models that still accept ``temperature``: Claude 3.x and the 4.x line up to Opus 4.6
_TAKES_TEMPERATURE = re.compile(r"claude-(3-.+|(opus|sonnet|haiku)-4(-[0-6])?(-\d{8})?)")
# An ``error`` event inside a 200 stream carries only its type: the status it stands for
_STATUS_FOR_TYPE = {
    "invalid_request_error": 400,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "timeout_error": 504,
    "overloaded_error": 529,
}
_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "tool_use": "tool_calls",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "refusal": "content_filter",
}


def _output_format(params: ModelRequestParameters) -> dict[str, Any] | None:
    """``output_config.format`` for ``choices`` or ``output_schema`` (``None``: free text)."""
    if params.choices:
        listing = "\n".join(f"- {name}: {text}" for name, text in params.choices.items())
        choice = {"enum": list(params.choices), "description": f"The one that fits:\n{listing}"}
        fields = {"properties": {"choice": choice}, "required": ["choice"]}
        schema: dict[str, Any] = {"type": "object", **fields, "additionalProperties": False}
        return {"type": "json_schema", "schema": schema}
    if params.output_schema is not None:
        try:
            from anthropic import transform_schema

            schema = transform_schema(params.output_schema)
        except (ImportError, ValueError):  # an older SDK, or a schema it cannot prepare:
            schema = params.output_schema  # send it as given, the API judges
        return {"type": "json_schema", "schema": schema}
    return None


def _chosen(text: str) -> str:
    """The case name out of ``{"choice": name}``; other text is returned as it is."""
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    return str(value["choice"]) if isinstance(value, dict) and "choice" in value else text.strip()


def _usage(raw: Any) -> Usage:
    def count(name: str, source: Any = raw) -> int:
        return int(getattr(source, name, None) or 0)

    cache_read = count("cache_read_input_tokens")
    prompt = count("input_tokens") + cache_read + count("cache_creation_input_tokens")
    reasoning = count("thinking_tokens", getattr(raw, "output_tokens_details", None))
    return Usage(prompt, count("output_tokens"), cache_read, reasoning, requests=1)


def _retry_after(headers: Any) -> float | None:
    millis = parse_retry_after(headers.get("retry-after-ms"))
    return millis / 1000 if millis is not None else parse_retry_after(headers.get("retry-after"))


def _transport_error(exc: BaseException) -> str:
    """``TimeoutException``/``TransportError`` for an ``httpx`` (or ``httpx2``) error: the SDK
    wraps those of the send, not those of a stream being read."""
    names = {c.__name__ for c in type(exc).__mro__ if c.__module__.startswith("httpx")}
    return next((n for n in ("TimeoutException", "TransportError") if n in names), "")


class AnthropicModel(Model):
    """Claude models (``anthropic:claude-sonnet-5-5``...) through the Messages API.

    ``settings.extra`` holds Messages API parameters and is sent as given (``top_k``,
    ``stop_sequences``, ``thinking``, ``output_config`` such as ``{"effort": "low"}``,
    ``metadata``, ``service_tier``, ``extra_headers``...); an ``output_config`` there is
    merged with the structured-output format.
    """

    provider = "anthropic"

    def __init__(
        self,
        model_name: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        client: Any = None,
        prices: PriceTable | None = None,
        timeout: float = 120.0,
    ) -> None:
        super().__init__(model_name, prices)
        self._api_key = api_key
        self._base_url = base_url
        self._client = client
        self._timeout = timeout
        self._echo: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
        self._known: frozenset[str] | None = None

    @property
    def client(self) -> Any:
        """The SDK client, built on first use so the SDK is imported only when needed."""
        if self._client is None:
            try:
                import anthropic
            except ImportError:
                raise ModelNotConfigured(
                    "anthropic: the anthropic SDK is not installed: "
                    "pip install 'agentweaver[anthropic]'"
                ) from None
            self._client = anthropic.AsyncAnthropic(
                api_key=self._api_key,
                base_url=self._base_url,
                max_retries=0,
                timeout=self._timeout,
            )
        return self._client

    async def request(
        self,
        messages: Sequence[ModelMessage],
        settings: ModelSettings,
        params: ModelRequestParameters,
    ) -> ModelResponse:
        kwargs = self._build(messages, settings, params)
        try:
            message = await self.client.messages.create(**kwargs)
        except Exception as exc:
            raise self._error(exc) from exc
        return self._parse(message, params)

    async def request_stream(
        self,
        messages: Sequence[ModelMessage],
        settings: ModelSettings,
        params: ModelRequestParameters,
    ) -> AsyncIterator[str | ModelResponse]:
        """Text deltas from the SSE stream, then the response built from the SDK's final
        message (the same parsing as ``request``). A ``choices`` answer is JSON on the wire,
        so its name is sent as one delta at the end instead."""
        kwargs = self._build(messages, settings, params)
        try:
            async with self.client.messages.stream(**kwargs) as stream:
                async for event in stream:
                    if event.type == "text" and event.text and not params.choices:
                        yield event.text
                message = await stream.get_final_message()
        except Exception as exc:
            raise self._error(exc) from exc
        response = self._parse(message, params)
        if params.choices and response.text:
            yield response.text
        yield response

    # -- request -----------------------------------------------------------------------------

    def _build(
        self,
        messages: Sequence[ModelMessage],
        settings: ModelSettings,
        params: ModelRequestParameters,
    ) -> dict[str, Any]:
        system, wire = self._messages(messages)
        output = _output_format(params)
        if params.output_json and output is None and "JSON" not in system:
            system = f"{system}\n\n{_JSON_HINT}" if system else _JSON_HINT
        kwargs: dict[str, Any] = {
            "model": self.model_name,
            "max_tokens": settings.max_tokens or DEFAULT_MAX_TOKENS,
            "messages": wire,
        }
        if settings.timeout is not None:
            kwargs["timeout"] = settings.timeout
        fields: dict[str, Any] = {}
        if system:
            fields["system"] = system
        if params.tools:
            fields["tools"] = [
                {"name": t.name, "description": t.description, "input_schema": t.parameters}
                for t in params.tools
            ]
        if settings.temperature is not None and _TAKES_TEMPERATURE.fullmatch(self.model_name):
            fields["temperature"] = settings.temperature
        fields.update(settings.extra)
        if output is not None:
            fields["output_config"] = {**(fields.get("output_config") or {}), "format": output}
        known, body = self._sdk_parameters(), {}
        for key, value in fields.items():  # what the SDK does not name goes in the JSON as is
            if known and key not in known:
                body[key] = value
            else:
                kwargs[key] = value
        if body:
            kwargs["extra_body"] = {**body, **(kwargs.get("extra_body") or {})}
        return kwargs

    def _sdk_parameters(self) -> frozenset[str]:
        """What ``messages.create`` takes as keywords in the installed SDK (recent ones dropped
        ``temperature``, ``top_p`` and ``top_k``, which older models still accept)."""
        if self._known is None:
            names: Iterable[str] = ()  # a stand-in client without a signature: none
            with contextlib.suppress(TypeError, ValueError):
                names = inspect.signature(self.client.messages.create).parameters
            self._known = frozenset(names)
        return self._known

    def _messages(self, messages: Sequence[ModelMessage]) -> tuple[str, list[dict[str, Any]]]:
        """The top-level ``system`` text and the alternating user/assistant turns: tool
        results (and any text after them) join one user turn, as the API wants."""
        system: list[str] = []
        wire: list[dict[str, Any]] = []
        for message in messages:
            if isinstance(message, SystemMessage):
                system.append(message.content)
                continue
            if isinstance(message, AssistantMessage):
                content = self._assistant(message)
                if content:
                    wire.append({"role": "assistant", "content": content})
                continue
            if isinstance(message, ToolResultMessage):
                block: dict[str, Any] = {
                    "type": "tool_result",
                    "tool_use_id": message.tool_call_id,
                    "content": message.content,
                    "is_error": message.is_error,
                }
            else:
                block = {"type": "text", "text": message.content}
            last = wire[-1] if wire else None
            if last is not None and last["role"] == "user":
                if isinstance(last["content"], str):
                    last["content"] = [{"type": "text", "text": last["content"]}]
                last["content"].append(block)
            elif isinstance(message, UserMessage):
                wire.append({"role": "user", "content": message.content})
            else:
                wire.append({"role": "user", "content": [block]})
        return "\n\n".join(system), wire

    def _assistant(self, message: AssistantMessage) -> list[dict[str, Any]]:
        for call in message.tool_calls:  # a turn that thought: send it back exactly
            if call.id in self._echo:
                self._echo.move_to_end(call.id)
                return self._echo[call.id]
        blocks: list[dict[str, Any]] = []
        if message.content:
            blocks.append({"type": "text", "text": message.content})
        blocks += [
            {"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments}
            for c in message.tool_calls
        ]
        return blocks

    # -- response ----------------------------------------------------------------------------

    def _parse(self, message: Any, params: ModelRequestParameters) -> ModelResponse:
        content = getattr(message, "content", None)
        if not isinstance(content, list):
            raise ModelUnavailable(f"{self.provider}: malformed response body (no content)")
        texts: list[str] = []
        calls: list[ToolCall] = []
        thought = False
        for block in content:
            kind = getattr(block, "type", None)
            if kind == "text":
                texts.append(getattr(block, "text", None) or "")
            elif kind == "tool_use":
                arguments = getattr(block, "input", None)
                if not isinstance(arguments, dict):
                    raise ModelUnavailable(f"{self.provider}: malformed tool_use input")
                calls.append(ToolCall(block.name, arguments, block.id))
            elif kind in ("thinking", "redacted_thinking"):
                thought = True
        if thought and calls:
            self._remember(calls, [b.to_dict() for b in content])  # as received
        text = "".join(texts)
        if params.choices and not calls:
            text = _chosen(text)
        stop = getattr(message, "stop_reason", None) or "end_turn"
        finish = "tool_calls" if calls else _FINISH.get(stop, stop)
        usage = _usage(getattr(message, "usage", None))
        return ModelResponse(text, calls, usage, self.name, finish_reason=finish)

    def _remember(self, calls: list[ToolCall], blocks: list[dict[str, Any]]) -> None:
        for call in calls:
            self._echo[call.id] = blocks
            self._echo.move_to_end(call.id)
        while len(self._echo) > _ECHO_LIMIT:
            self._echo.popitem(last=False)

    def _error(self, exc: Exception) -> ModelError:
        """Any failure of a call as a ``ModelError``; statuses decide via ``error_for_status``.
        Messages are the API's own, which never hold the key."""
        import anthropic

        name, transport = self.provider, _transport_error(exc)
        if isinstance(exc, ModelError):
            return exc
        if isinstance(exc, anthropic.APITimeoutError) or transport == "TimeoutException":
            return ModelTimeout(f"{name}: the request timed out")
        if isinstance(exc, anthropic.APIConnectionError) or transport:
            return error_for_status(name, None, f"connection failed: {exc}")
        if isinstance(exc, anthropic.APIStatusError):
            raw: Any = exc.body.get("error") if isinstance(exc.body, dict) else None
            error: dict[str, Any] = raw if isinstance(raw, dict) else {}
            status = exc.status_code
            if status < 400:  # an ``error`` event in the middle of a stream
                status = _STATUS_FOR_TYPE.get(str(error.get("type")), 500)
            message = str(error.get("message") or exc)
            return error_for_status(name, status, message, _retry_after(exc.response.headers))
        if isinstance(exc, getattr(anthropic, "CredentialsError", ())) or (
            isinstance(exc, TypeError) and "authentication" in str(exc)
        ):
            return ModelAuthError(f"{name}: no API key: set ANTHROPIC_API_KEY or pass api_key")
        if isinstance(exc, TypeError):  # e.g. a wrongly typed parameter in settings.extra
            return ModelInvalidRequest(f"{name}: invalid request parameters: {exc}")
        if isinstance(exc, anthropic.APIResponseValidationError | ValueError | LookupError):
            return ModelUnavailable(f"{name}: malformed response body: {exc}")
        if isinstance(exc, anthropic.AnthropicError | RuntimeError):  # e.g. stream out of order
            return ModelUnavailable(f"{name}: {type(exc).__name__}: {exc}")
        raise exc
